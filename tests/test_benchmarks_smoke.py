"""Smoke test of the benchmark workloads at tiny sizes (no timing assertions).

Each workload checks its own result and raises ``WorkloadError`` if it is
wrong, so running it is the test; the asserts below re-check the essentials.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from h2lite import _backend
from h2lite._bench import runner, workloads

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _h2lite():
    # The backend the suite is running against (tests/conftest.py).
    return workloads.load_h2lite()


def _h2():
    pytest.importorskip("h2")
    return workloads.load_h2()


LIBS = {"h2": _h2, "h2lite": _h2lite}


@pytest.fixture(params=["h2lite", "h2"])
def lib(request):
    return LIBS[request.param]()


@pytest.fixture(scope="module")
def recording():
    pytest.importorskip("h2")
    return workloads.record_w4(gets=200, posts=20)


def test_w1(lib):
    elapsed, units = workloads.run_w1(lib, 200)
    assert units == 200
    assert elapsed > 0


def test_w1_partial_batch(lib):
    # Not a multiple of the batch size; the last batch is short.
    elapsed, units = workloads.run_w1(lib, 150)
    assert units == 150


def test_w2(lib):
    total = 1 << 20
    elapsed, units = workloads.run_w2(lib, total)
    assert units == total


def test_w2_not_a_multiple_of_the_frame_size(lib):
    total = 3 * workloads.W2_CHUNK + 1234
    _, units = workloads.run_w2(lib, total)
    assert units == total


def test_w2_exceeds_client_windows(lib):
    # More than the 1 MiB windows, so flow control must replenish them.
    total = 3 * workloads.W2_CLIENT_WINDOW + 5
    _, units = workloads.run_w2(lib, total)
    assert units == total


def test_w3(lib):
    elapsed, units = workloads.run_w3(lib, 50)
    assert units == 50


def test_w3_inputs_are_deterministic():
    a = workloads.w3_inputs(20)
    b = workloads.w3_inputs(20)
    assert a == b
    requests, responses = a
    assert all(len(r) == 40 for r in requests)
    assert all(len(r) == 20 for r in responses)
    assert sum(1 for k, _ in requests[0] if k.startswith(b":")) == 4
    # The ten unique fields differ between requests.
    assert not set(requests[0][30:]) & set(requests[1][30:])


def test_w4_recording(recording):
    assert recording.requests == 220
    assert recording.chunks[0].startswith(workloads.PREFACE)
    types = recording.frame_types
    assert types[0x1] == 220  # HEADERS
    assert types[0x0] == 20  # DATA, one 4 KiB frame per POST
    assert recording.frames == sum(types.values())


def _frame_types(chunk: bytes, first: bool) -> bytes:
    pos = len(workloads.PREFACE) if first else 0
    types = bytearray()
    while pos < len(chunk):
        types.append(chunk[pos + 3])
        pos += 9 + int.from_bytes(chunk[pos:pos + 3], "big")
    return bytes(types)


def test_w4(lib, recording):
    elapsed, frames = workloads.run_w4(lib, recording)
    assert frames == recording.frames


def test_w4_replay_counts_every_request(lib, recording):
    # run_w4 raises WorkloadError if the RequestReceived count is wrong; make
    # sure that check is live by replaying a truncated recording.
    last = max(
        i for i, c in enumerate(recording.chunks) if b"\x01" in _frame_types(c, i == 0)
    )
    cut = workloads.Recording(
        chunks=recording.chunks[:last],
        frames=recording.frames,
        requests=recording.requests,
        gets=recording.gets,
        posts=recording.posts,
        post_bytes=recording.post_bytes,
    )
    with pytest.raises(workloads.WorkloadError):
        workloads.run_w4(lib, cut)


def test_count_frames_rejects_truncation():
    with pytest.raises(workloads.WorkloadError):
        workloads.count_frames(workloads.PREFACE + b"\x00\x00\x05\x00\x00\x00\x00\x00\x01ab")


def test_runner_prints_every_backend_side_by_side(capsys, tmp_path):
    out_json = tmp_path / "bench.json"
    code = runner.main(
        ["--quick", "--scale", "0.01", "--repeat", "1", "--only", "W1,W3", "--json", str(out_json)]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("W")}
    assert set(lines) == {"W1", "W3"}
    header = next(line for line in out.splitlines() if line.startswith("workload"))
    assert "h2 median" in header
    for backend in _backend.AVAILABLE:
        assert f"h2lite {backend} median" in header and f"{backend}/h2" in header
    # Every cell holds a figure: no workload failed or was skipped.
    assert not any(cell in ("error", "n/a") for line in lines.values() for cell in line.split())
    data = json.loads(out_json.read_text())
    for wl in ("W1", "W3"):
        for backend in _backend.AVAILABLE:
            assert data["workloads"][wl][f"h2lite-{backend}"]["rates"]
        assert data["workloads"][wl]["h2"]["median"] > 0
    # The suite's backend is live again afterwards.
    assert _backend.current() == _backend.BACKEND


def test_runner_rejects_an_unknown_workload(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--only", "W9"])
    assert "unknown workload" in capsys.readouterr().err


def test_runner_without_the_accelerator_says_so(capsys, monkeypatch):
    # As on a machine where the C extension was not built.
    previous = _backend.current()
    _backend.use("python")
    monkeypatch.setattr(_backend, "AVAILABLE", ("python",))
    try:
        code = runner.main(["--quick", "--scale", "0.01", "--repeat", "1", "--only", "W1"])
        out = capsys.readouterr().out
        assert code == 0
        assert "python only" in out and "h2lite c" not in out
        args = ["--quick", "--scale", "0.01", "--repeat", "1", "--only", "W1", "--backends", "python,c"]
        runner.main(args)
        assert "h2lite c not run" in capsys.readouterr().out
    finally:
        monkeypatch.undo()
        _backend.use(previous)


def test_checkout_wrapper_runs_the_package_runner(capsys):
    sys.path.insert(0, _ROOT)
    try:
        from benchmarks import run
    finally:
        sys.path.remove(_ROOT)
    code = run.main(["--quick", "--scale", "0.01", "--repeat", "1", "--only", "W2", "--backends", "python"])
    out = capsys.readouterr().out
    assert code == 0
    assert "W2" in out and "python/h2" in out


def test_runner_without_h2_says_what_is_missing(capsys, monkeypatch):
    # As where the 'test' extra is not installed: no baseline, no figures.
    for name in [m for m in sys.modules if m == "h2" or m.startswith("h2.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "h2", None)
    code = runner.main(["--quick", "--repeat", "1", "--only", "W1"])
    captured = capsys.readouterr()
    assert code == 2
    assert "h2 package is not installed" in captured.err
    assert "W1" not in captured.out
