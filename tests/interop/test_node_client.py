"""A Node http2 client (tests/interop/node/client.js) against ``python -m h2lite serve``:
concurrent downloads and echoed uploads on one session, cleartext and TLS.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from .conftest import NODE_DIR, Process, Site, TLSFiles, run

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def node_client(node: str, url: str, *extra: str) -> dict:  # type: ignore[type-arg]
    done = run([node, str(NODE_DIR / "client.js"), url, *extra])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_node_client_cleartext(node: str, site: Site, h2lite_server: Process) -> None:
    result = node_client(node, f"http://127.0.0.1:{h2lite_server.port}/big.bin",
                         "--requests", "6", "--concurrency", "6", "--echo-size", "500000")
    assert result["protocol"] == "h2c"
    digest = hashlib.sha256(site.files["/big.bin"]).hexdigest()
    assert result["gets"] == [{"status": 200, "length": len(site.files["/big.bin"]), "sha256": digest}] * 6
    assert result["echo"] == {"ok": 6, "failed": []}


def test_node_client_tls(node: str, site: Site, tls_files: TLSFiles, h2lite_tls_server: Process) -> None:
    result = node_client(node, f"https://127.0.0.1:{h2lite_tls_server.port}/small.txt",
                         "--ca", str(tls_files.ca), "--requests", "20", "--concurrency", "8",
                         "--echo-size", "70000")
    assert result["protocol"] == "h2"
    digest = hashlib.sha256(site.files["/small.txt"]).hexdigest()
    assert result["gets"] == [{"status": 200, "length": len(site.files["/small.txt"]), "sha256": digest}] * 20
    assert result["echo"] == {"ok": 20, "failed": []}
