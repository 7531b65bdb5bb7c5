"""Reset floods: the peer makes us send RST_STREAM again and again
(CVE-2019-9514), and the peer opens streams and resets them at once
(CVE-2023-44487, rapid reset).

Limits: max_queued_control_frames (1000) for RST_STREAMs nobody reads, the
glitch budget (burst 10000, 330/s) for stream errors the peer provokes, and
the reset budget (burst 1000, 33/s) for streams the peer opens and resets.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from h2lite import DenialOfServiceError, events
from h2lite.codes import ErrorCode

from ..helpers import REQUEST, client, headers_frame, rst_stream, server
from ._support import FakeClock, assert_calm, attack, deliver, stream_objects

CONTROL_LIMIT = 1000
GLITCH_BURST = 10000
RESET_BURST = 1000
RESET_RATE = 33.0

# A request that breaks RFC 9113 §8.3.1 (no :path): a stream error PROTOCOL_ERROR.
MALFORMED = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org")]


def make_server() -> Any:
    return server(clock=FakeClock())


def malformed_requests(count: int) -> list[bytes]:
    return [headers_frame(2 * i + 1, MALFORMED, end_stream=True) for i in range(count)]


def test_reset_flood_never_read() -> None:
    """CVE-2019-9514: RST_STREAMs pile up only to the reply limit, then GOAWAY ENHANCE_YOUR_CALM."""
    out = attack(make_server, malformed_requests(3 * CONTROL_LIMIT))
    assert_calm(out, failed_at=CONTROL_LIMIT)
    rsts = out.rst_streams()
    assert rsts[:CONTROL_LIMIT] == [(2 * i + 1, ErrorCode.PROTOCOL_ERROR) for i in range(CONTROL_LIMIT)]
    assert len(rsts) == CONTROL_LIMIT
    assert out.largest_drain <= CONTROL_LIMIT * 13 + 9 + 8 + 256
    assert out.streams <= 1  # the request that found the queue full
    assert out.closed <= CONTROL_LIMIT


def test_reset_flood_read_by_the_peer_exhausts_the_glitch_budget() -> None:
    """CVE-2019-9514 against a peer that reads: each provoked reset is a glitch; the budget ends it."""
    out = attack(make_server, malformed_requests(GLITCH_BURST + 100), read_size=500)
    assert_calm(out, failed_at=GLITCH_BURST)
    assert len(out.rst_streams()) == GLITCH_BURST
    assert len(out.of_type(events.StreamReset)) == GLITCH_BURST
    assert out.largest_drain <= 500 * 13
    assert out.streams <= 1  # the request whose error found the budget empty
    assert out.closed <= 1000  # Limits.max_closed_streams


# -- rapid reset -------------------------------------------------------------------


def rapid_pairs(count: int, first: int = 1) -> list[bytes]:
    """HEADERS opening a stream, then RST_STREAM CANCEL on it, ``count`` times."""
    chunks = []
    for i in range(count):
        stream_id = first + 2 * i
        chunks += [headers_frame(stream_id, REQUEST, end_stream=True), rst_stream(stream_id, ErrorCode.CANCEL)]
    return chunks


def test_rapid_reset_past_the_burst() -> None:
    """CVE-2023-44487: the reset after the burst is answered with GOAWAY ENHANCE_YOUR_CALM."""
    out = attack(make_server, rapid_pairs(RESET_BURST + 50))
    assert_calm(out, failed_at=2 * RESET_BURST + 1)  # the RST of pair #1000 (0-based)
    # We never answered a peer's reset; only the GOAWAY went out.
    assert [f[0] for f in out.frames] == [0x7]
    assert len(out.of_type(events.RequestReceived)) == RESET_BURST + 1
    assert len(out.of_type(events.StreamReset)) == RESET_BURST + 1
    assert out.streams == 0
    assert out.closed <= 1000


def test_rapid_reset_below_the_rate_is_served() -> None:
    """After the burst, resets at 30 per second (under the 33/s refill) go on for good."""
    chunks = rapid_pairs(RESET_BURST + 300)
    out = deliver(make_server, chunks[: 2 * RESET_BURST], "whole")
    assert out.error is None
    conn = out.conn
    clock = conn.config.clock
    for i in range(RESET_BURST, RESET_BURST + 300):
        clock.advance(1 / 30)
        conn.receive_data(chunks[2 * i] + chunks[2 * i + 1])
        assert conn.data_to_send() == b""
    assert conn.want_read


def test_rapid_reset_above_the_rate_is_stopped() -> None:
    """At 66 pairs per second, twice the refill, the burst lasts about 1000 / (66 - 33) seconds."""
    out = attack(make_server, rapid_pairs(2100), read_size=2, tick=1 / 66)
    assert isinstance(out.error, DenialOfServiceError)
    assert out.goaway_code == ErrorCode.ENHANCE_YOUR_CALM
    assert out.failed_at is not None and out.failed_at % 2 == 1  # an RST_STREAM
    # 1000 tokens + 33/s refill - 66/s spent: empty after about 2000 pairs (30 s).
    assert 1990 <= out.failed_at // 2 <= 2005


def test_rapid_reset_is_constant_work_per_pair() -> None:
    """CVE-2023-44487 needs O(1) work per pair: the thousandth batch costs what the first did.

    Work is counted in Python and C function calls (a profiler hook), not time.
    """
    conn = make_server()
    clock = conn.config.clock
    batch = 100
    costs = []
    before = stream_objects()
    for n in range(30):
        wire = b"".join(rapid_pairs(batch, first=1 + 2 * batch * n))
        clock.advance(5.0)  # 165 tokens back: the budget is not what this test measures
        calls = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal calls
            if event in ("call", "c_call"):
                calls += 1

        sys.setprofile(count)
        try:
            conn.receive_data(wire)
        finally:
            sys.setprofile(None)
        costs.append(calls)
    assert conn.want_read
    # Batches cost the same (a refill of the reset budget may add a call or
    # two) before the memory of closed streams is full (1000 streams, batch
    # 10) and after it, when each pair adds one call to forget the oldest.
    assert max(costs[1:10]) - min(costs[1:10]) <= 5, costs
    assert max(costs[11:]) - min(costs[11:]) <= 5, costs
    assert costs[-1] - costs[1] <= 2 * batch, costs
    assert len(conn._streams) == 0
    assert len(conn._closed) == 1000
    assert stream_objects() - before == 0


def test_server_refusing_our_requests_is_not_a_rapid_reset() -> None:
    """A client does not count resets of streams it opened: that is the server's back-pressure."""
    conn = client(clock=FakeClock())
    count = 3 * RESET_BURST
    for i in range(count):
        conn.send_headers(2 * i + 1, REQUEST, end_stream=True)
    conn.data_to_send()
    got = conn.receive_data(b"".join(rst_stream(2 * i + 1, ErrorCode.REFUSED_STREAM) for i in range(count)))
    assert len(got) == count
    assert conn.want_read
    assert conn.data_to_send() == b""


@pytest.mark.parametrize("code", [ErrorCode.NO_ERROR, ErrorCode.CANCEL, ErrorCode.INTERNAL_ERROR, 0xABCD])
def test_every_reset_code_counts(code: int) -> None:
    """The code the peer picks makes no difference to the budget."""
    chunks = []
    for i in range(RESET_BURST + 1):
        chunks += [headers_frame(2 * i + 1, REQUEST, end_stream=False), rst_stream(2 * i + 1, code)]
    out = deliver(make_server, chunks, "whole")
    assert out.error is not None and out.goaway_code == ErrorCode.ENHANCE_YOUR_CALM
