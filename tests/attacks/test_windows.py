"""Flow-control games: windows fed a few bytes at a time (CVE-2019-9511, data
dribble), overflow past 2^31-1 and negative windows (RFC 9113 §6.9), and the
slow reader that opens no window (CVE-2019-9517).

A WINDOW_UPDATE is *tiny* when its increment and the window it leaves are both
below Limits.tiny_window_update (1024): each one costs a glitch.  Peers that
return credit in batches, or acknowledge each of our frames in full, never
send one.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from h2lite import DEFERRED, FlowControlError, Limits, Setting, events
from h2lite.codes import ErrorCode

from ..helpers import (
    REQUEST,
    RESPONSE,
    client,
    headers_frame,
    parse_frames,
    rst_stream,
    server,
    settings,
    window_update,
)
from ._support import (
    FakeClock,
    assert_calm,
    assert_connection_error,
    attack,
    glitches_spent,
)

GLITCH_BURST = 10000
MAX_WINDOW = 2**31 - 1
BIG = b"x" * 1_000_000


def responding(body: bytes = BIG, **config: Any) -> Any:
    """A server answering request 1 with ``body``; the first 65,535 bytes went out, both windows are empty."""
    conn = server(clock=FakeClock(), **config)
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, RESPONSE)
    conn.send_data(1, body, end_stream=True)
    conn.data_to_send()
    return conn


def data_sizes(frames: list[tuple[int, int, int, bytes]], stream_id: int = 1) -> list[int]:
    return [len(p) for t, f, s, p in frames if t == 0x0 and s == stream_id]


def test_tiny_stream_window_updates_run_out_the_glitch_budget() -> None:
    """CVE-2019-9511: one-byte credits draw one-byte frames; the 10,001st tiny update ends it."""
    def make() -> Any:
        conn = responding()
        conn.receive_data(window_update(0, MAX_WINDOW - 65535))  # the connection window is wide open
        conn.data_to_send()
        return conn

    out = attack(make, [window_update(1, 1)] * (GLITCH_BURST + 5), read_size=1)
    assert_calm(out, failed_at=GLITCH_BURST)
    sizes = data_sizes(out.frames)
    assert sizes == [1] * GLITCH_BURST  # never more than the peer allowed
    assert out.largest_drain <= 9 + 8 + 256  # one DATA frame, or the GOAWAY


def test_tiny_connection_window_updates_run_out_the_glitch_budget() -> None:
    """The same dribble through the connection window (stream 0)."""
    def make() -> Any:
        conn = responding()
        conn.receive_data(window_update(1, MAX_WINDOW - 65535))
        conn.data_to_send()
        return conn

    # A peer sending 100 one-byte credits per read gets one 100-byte frame per read.
    out = attack(make, [window_update(0, 1)] * (GLITCH_BURST + 5), read_size=100)
    assert_calm(out, failed_at=GLITCH_BURST)
    assert data_sizes(out.frames) == [100] * (GLITCH_BURST // 100)


def test_batched_window_updates_are_not_glitches() -> None:
    """Credit returned half a window at a time (nghttp2, h2, browsers, h2lite itself) costs nothing."""
    out = attack(responding, [window_update(0, 32768), window_update(1, 32768)] * 20, read_size=2)
    assert out.error is None
    assert glitches_spent(out.conn) == 0
    assert sum(data_sizes(out.frames)) == 20 * 32768


def test_acknowledging_each_small_frame_is_not_a_glitch() -> None:
    """A peer returning exactly what each of our small frames used keeps the window wide: no glitch."""
    conn = server(clock=FakeClock())
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, RESPONSE)
    conn.data_to_send()
    for _ in range(2000):
        conn.send_data(1, b"event: tick\n\n")
        conn.data_to_send()
        conn.receive_data(window_update(0, 13) + window_update(1, 13))
    assert glitches_spent(conn) == 0


def test_small_updates_on_a_wide_window_are_not_glitches() -> None:
    """Only a window kept nearly shut is suspicious, not a small increment as such."""
    conn = server(clock=FakeClock())
    conn.receive_data(headers_frame(1, REQUEST))
    conn.receive_data(b"".join(window_update(1, 10) + window_update(0, 10) for _ in range(3000)))
    assert glitches_spent(conn) == 0


def test_a_peer_that_advertises_a_small_window_and_refills_it_is_not_punished() -> None:
    """A receiver with SETTINGS_INITIAL_WINDOW_SIZE=100 can only ever send small
    updates; refilling its own window is not a dribble.  20,000 updates, no refill
    of the glitch budget (the clock never moves), and the 2 MB upload completes."""
    from h2lite import Config

    from ..helpers import ConnectionPair

    clock = FakeClock()
    pair = ConnectionPair(
        Config(client_side=True, clock=clock), Config(client_side=False, clock=clock, initial_window_size=100)
    )
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(sid, REQUEST)
    pair.client.send_data(sid, b"u" * 2_000_000, end_stream=True)
    _, server_events = pair.pump(rounds=100_000)
    received = sum(len(e.data) for e in server_events if isinstance(e, events.DataReceived))
    assert received == 2_000_000
    assert any(isinstance(e, events.StreamEnded) for e in server_events)
    assert glitches_spent(pair.client) == 0


def test_tiny_window_update_limit_can_be_turned_off() -> None:
    """Limits(tiny_window_update=0) disables the check."""
    conn = responding(limits=Limits(tiny_window_update=0))
    conn.receive_data(window_update(1, 1) * 100)
    assert glitches_spent(conn) == 0


# -- overflow and negative windows (RFC 9113 §6.9) -------------------------------------


def test_connection_window_overflow_is_a_connection_error() -> None:
    """RFC 9113 §6.9.1: past 2^31-1 on the connection: FLOW_CONTROL_ERROR for the connection."""
    out = attack(lambda: server(clock=FakeClock()), [window_update(0, MAX_WINDOW - 65535), window_update(0, 1)])
    assert_connection_error(out, ErrorCode.FLOW_CONTROL_ERROR, failed_at=1)
    assert isinstance(out.error, FlowControlError)


def test_settings_change_overflowing_a_stream_window_is_a_connection_error() -> None:
    """RFC 9113 §6.9.2: an INITIAL_WINDOW_SIZE change that takes a window past 2^31-1 is a connection error."""
    chunks = [
        headers_frame(1, REQUEST),
        window_update(1, MAX_WINDOW - 65535),  # stream 1 at 2^31-1
        settings((Setting.INITIAL_WINDOW_SIZE, 65536)),
    ]
    out = attack(lambda: server(clock=FakeClock()), chunks)
    assert_connection_error(out, ErrorCode.FLOW_CONTROL_ERROR, failed_at=2)


def test_negative_window_after_settings_is_tracked() -> None:
    """RFC 9113 §6.9.2: a smaller INITIAL_WINDOW_SIZE can make a window negative; we wait until credit
    brings it above zero, and then send exactly what it allows."""
    conn = server(clock=FakeClock())
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True) + window_update(0, 1_000_000))
    conn.send_headers(1, RESPONSE)
    conn.send_data(1, b"y" * 30000)
    conn.data_to_send()
    conn.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 0)))
    assert conn._streams[1].outbound_window == -30000
    assert conn.local_flow_control_window(1) == 0
    conn.send_data(1, b"z" * 50000)
    assert data_sizes(parse_frames(conn.data_to_send())) == []
    conn.receive_data(window_update(1, 30000))  # back to zero: still nothing
    assert data_sizes(parse_frames(conn.data_to_send())) == []
    conn.receive_data(window_update(1, 4000))
    assert data_sizes(parse_frames(conn.data_to_send())) == [4000]
    assert conn.outbound_buffer_size(1) == 46000
    assert glitches_spent(conn) == 0


# -- slow reader (CVE-2019-9517) ---------------------------------------------------------


def test_slow_reader_leaves_the_data_with_the_application() -> None:
    """The peer opens no window: what cannot be sent stays queued, visible, and is not copied."""
    conn = server(clock=FakeClock())
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, RESPONSE)
    conn.data_to_send()
    body = bytes(4_000_000)
    tracemalloc.start()
    try:
        conn.send_data(1, body, end_stream=True)
        grown = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert grown < 10_000  # the body is referenced, not copied
    sent = sum(data_sizes(parse_frames(conn.data_to_send())))
    assert sent == 65535
    assert conn.data_to_send() == b""
    assert conn.outbound_buffer_size() == conn.outbound_buffer_size(1) == len(body) - 65535
    # The peer resets the stream: the queue goes with it.
    conn.receive_data(rst_stream(1, ErrorCode.CANCEL))
    assert conn.outbound_buffer_size() == 0


def test_slow_reader_provider_is_asked_only_for_what_fits() -> None:
    """A pull provider is never asked for more than the window allows, so nothing piles up inside."""
    conn = server(clock=FakeClock())
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, RESPONSE)
    asked: list[int] = []

    def provider(size: int) -> Any:
        asked.append(size)
        return (b"p" * size, False) if len(asked) < 100 else DEFERRED

    conn.send_data_from(1, provider)
    conn.data_to_send()
    conn.data_to_send()
    assert sum(asked) == 65535
    assert conn.outbound_buffer_size() == 0


def test_client_side_dribble_is_counted_too() -> None:
    """A hostile server feeding a client's upload window byte by byte is the same glitch."""
    conn = client(clock=FakeClock())
    conn.send_headers(1, REQUEST)
    conn.send_data(1, BIG)
    conn.data_to_send()
    conn.receive_data(window_update(0, MAX_WINDOW - 65535))
    got = conn.receive_data(window_update(1, 1) * 10)
    assert [type(e) for e in got] == [events.WindowUpdated] * 10
    assert glitches_spent(conn) == 10
