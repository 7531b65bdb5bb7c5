"""benchmarks/l1.py at a tiny size: both servers answer h2load, the report has
a row per server and the ratio to h2. No figure is checked (speed is only
measured by the benchmark itself)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from .conftest import backend_env, run

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parent.parent.parent
L1 = ROOT / "benchmarks" / "l1.py"


def load_l1():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(L1.parent))
    try:
        import l1
    finally:
        sys.path.remove(str(L1.parent))
    return l1


def test_l1_smoke(h2load: str, backend: str) -> None:
    pytest.importorskip("h2")
    done = run([sys.executable, str(L1), "-n", "200", "--repeat", "1", "--backends", backend],
               env=backend_env(backend), timeout=50)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    rows = re.findall(r"^(h2|h2lite \w+)\s+([\d,]+)\s+([\d.]+)x\s+([\d.]+)x$", done.stdout.decode(),
                      re.MULTILINE)
    assert [row[0] for row in rows] == ["h2", f"h2lite {backend}"]
    assert rows[0][2:] == ("1.00", "1.00")


H2LOAD_REPORT = """\
finished in 11.36ms, 8800.49 req/s, 284.47KB/s
requests: 100 total, 100 started, 100 done, {ok} succeeded, {failed} failed, 0 errored, 0 timeout
status codes: {two} 2xx, 0 3xx, {four} 4xx, 0 5xx
"""


def test_parse_h2load_counts_only_complete_runs() -> None:
    l1 = load_l1()
    good = H2LOAD_REPORT.format(ok=100, failed=0, two=100, four=0)
    assert l1.parse_h2load(good, 100) == 8800.49
    for bad in (H2LOAD_REPORT.format(ok=90, failed=10, two=90, four=0),
                H2LOAD_REPORT.format(ok=100, failed=0, two=80, four=20),
                "connect: Connection refused\n"):
        with pytest.raises(l1.L1Error):
            l1.parse_h2load(bad, 100)
