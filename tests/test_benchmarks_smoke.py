"""Smoke test of the benchmark workloads at tiny sizes (no timing assertions).

Each workload checks its own result and raises ``WorkloadError`` if it is
wrong, so running it is the test; the asserts below re-check the essentials.
"""

from __future__ import annotations

import os
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import workloads  # noqa: E402


def _h2lite():
    try:
        return workloads.load_h2lite()
    except workloads.LibraryUnavailable as exc:
        pytest.skip(str(exc))


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


def test_run_main_quick_smoke(capsys):
    from benchmarks import run

    code = run.main(["--quick", "--scale", "0.01", "--repeat", "1", "--only", "W1,W3"])
    out = capsys.readouterr().out
    assert "W1" in out and "W3" in out
    assert code in (0, 1)
