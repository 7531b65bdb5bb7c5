"""Flow control (RFC 9113 §5.2, §6.9) as DESIGN.md promises it.

Outbound flow control is the library's job: ``send_data`` queues whatever the
windows and SETTINGS_MAX_FRAME_SIZE do not let out yet, and the scheduler
shares the connection window round robin.  Inbound flow control is automatic
and batched by default, manual with ``Config(auto_flow_control=False)``.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import (
    DEFERRED,
    Config,
    Connection,
    ErrorCode,
    FlowControlError,
    LocalProtocolError,
    RemoteProtocolError,
    Setting,
    StreamClosedError,
    events,
)
from h2lite.codes import CLIENT_PREFACE

from .helpers import (
    REQUEST,
    RESPONSE,
    SETTINGS_ACK,
    ConnectionPair,
    client,
    frame,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    server,
    settings as settings_frame,
    window_update,
)

DEFAULT_WINDOW = 65_535
POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/upload")]


def body(size: int, seed: int = 0) -> bytes:
    return bytes((seed * 31 + i) & 0xFF for i in range(size))


def data_frames(wire: bytes) -> list[tuple[int, int, bytes]]:
    """(stream_id, flags, payload) of every DATA frame."""
    return [(s, f, p) for t, f, s, p in parse_frames(wire) if t == 0x0]


def window_updates(wire: bytes) -> list[tuple[int, int]]:
    return [(s, struct.unpack(">L", p)[0]) for t, _, s, p in parse_frames(wire) if t == 0x8]


def scripted_client(*pairs: tuple[int, int]) -> Connection:
    """A client whose (scripted) server advertised ``pairs``; output drained."""
    conn = Connection(Config(client_side=True))
    conn.initiate_connection()
    conn.receive_data(settings_frame(*pairs) + SETTINGS_ACK)
    conn.data_to_send()
    return conn


def received_bodies(evs: list[events.Event]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for e in evs:
        if isinstance(e, events.DataReceived):
            out[e.stream_id] = out.get(e.stream_id, b"") + e.data
    return out


TappedPair = ConnectionPair  # it keeps every byte each side wrote


# -- outbound: queueing instead of raising -----------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(0, 200_000),
    window=st.integers(1, 70_000),
    max_frame=st.integers(16_384, 40_000),
    increment=st.integers(1_000, 40_000),
)
def test_send_data_queues_and_respects_windows(size: int, window: int, max_frame: int, increment: int) -> None:
    """RFC 9113 §6.9.1: never more than the windows allow; §4.2: never above MAX_FRAME_SIZE."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, window), (Setting.MAX_FRAME_SIZE, max_frame))
    conn.send_headers(1, POST)
    conn.data_to_send()
    payload = body(size)
    conn.send_data(1, payload, end_stream=True)  # never raises for a small window
    stream_window = window
    connection_window = DEFAULT_WINDOW
    sent = b""
    for _ in range(1000):
        frames = data_frames(conn.data_to_send())
        for sid, flags, chunk in frames:
            assert sid == 1
            assert len(chunk) <= max_frame
            assert len(chunk) <= min(stream_window, connection_window)
            stream_window -= len(chunk)
            connection_window -= len(chunk)
            sent += chunk
        assert conn.outbound_buffer_size(1) == conn.outbound_buffer_size() == size - len(sent)
        if len(sent) == size:
            # END_STREAM on the last DATA frame (or on an empty one) once all is out.
            assert frames and frames[-1][1] & 0x1
            break
        assert not frames or not frames[-1][1] & 0x1
        # More credit, at the connection and stream level.
        conn.receive_data(window_update(0, increment) + window_update(1, increment))
        stream_window += increment
        connection_window += increment
    assert sent == payload


def test_small_window_send_then_window_updates_release_the_rest() -> None:
    """DESIGN.md: data waits in the queue (outbound_buffer_size) until WINDOW_UPDATE."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 10))
    conn.send_headers(1, POST)
    conn.data_to_send()
    conn.send_data(1, b"a" * 25)
    assert data_frames(conn.data_to_send()) == [(1, 0, b"a" * 10)]
    assert conn.outbound_buffer_size(1) == 15
    assert conn.local_flow_control_window(1) == 0
    assert conn.data_to_send() == b""
    conn.receive_data(window_update(1, 5))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"a" * 5)]
    conn.receive_data(window_update(1, 100))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"a" * 10)]
    assert conn.outbound_buffer_size() == 0


def test_connection_window_limits_all_streams() -> None:
    """RFC 9113 §6.9.1: the connection window is shared by every stream."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 1_000_000))
    for sid in (1, 3):
        conn.send_headers(sid, POST)
        conn.send_data(sid, body(50_000, sid))
    sent = data_frames(conn.data_to_send())
    assert sum(len(p) for _, _, p in sent) == DEFAULT_WINDOW
    assert conn.outbound_buffer_size() == 100_000 - DEFAULT_WINDOW
    assert conn.local_flow_control_window(1) == conn.local_flow_control_window(3) == 0


def test_round_robin_shares_a_small_connection_window() -> None:
    """DESIGN.md: streams take turns, one frame each, when the connection window is scarce."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 1_000_000))
    streams = (1, 3, 5)
    for sid in streams:
        conn.send_headers(sid, POST)
        conn.send_data(sid, body(200_000, sid))
    conn.data_to_send()  # the connection window's first 65,535 bytes
    order = []
    for _ in range(30):
        conn.receive_data(window_update(0, 1000))
        sent = data_frames(conn.data_to_send())
        assert [len(p) for _, _, p in sent] == [1000]
        order.append(sent[0][0])
    # Each stream gets a frame in turn.
    assert all(order[i] != order[i + 1] for i in range(len(order) - 1))
    for start in range(0, 30, 3):
        assert sorted(order[start : start + 3]) == list(streams)


def test_round_robin_with_frame_size_frames() -> None:
    """With room for several frames, each stream sends one MAX_FRAME_SIZE frame per turn."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 1_000_000))
    for sid in (1, 3):
        conn.send_headers(sid, POST)
        conn.send_data(sid, body(200_000, sid))
    conn.data_to_send()
    conn.receive_data(window_update(0, 4 * 16_384))
    sent = data_frames(conn.data_to_send())
    assert [len(p) for _, _, p in sent] == [16_384] * 4
    ids = [s for s, _, _ in sent]
    assert ids in ([1, 3, 1, 3], [3, 1, 3, 1])


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 120_000), min_size=1, max_size=4),
    window=st.integers(4_096, 100_000),
    max_frame=st.integers(16_384, 50_000),
    auto=st.booleans(),
)
def test_every_byte_arrives_once_and_in_order(sizes: list[int], window: int, max_frame: int, auto: bool) -> None:
    """RFC 9113 §5.2: flow control never loses, repeats or reorders data."""
    pair = TappedPair(
        Config(client_side=True),
        Config(client_side=False, initial_window_size=window, max_frame_size=max_frame, auto_flow_control=auto),
    )
    bodies = {}
    for index, size in enumerate(sizes):
        sid = 2 * index + 1
        bodies[sid] = body(size, sid)
        pair.client.send_headers(sid, POST)
        pair.client.send_data(sid, bodies[sid], end_stream=True)
    for _ in range(10_000):
        _, new = pair.pump()
        if not auto:
            for e in new:
                if isinstance(e, events.DataReceived) and e.flow_controlled_length:
                    pair.server.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        if all(any(isinstance(e, events.StreamEnded) and e.stream_id == s for e in pair.server_events) for s in bodies):
            break
    got = received_bodies(pair.server_events)
    assert {s: got.get(s, b"") for s in bodies} == bodies
    assert goaway_code(pair.client_wire + pair.server_wire) is None
    assert rst_codes(pair.client_wire + pair.server_wire) == {}
    assert all(len(p) <= max_frame for _, _, p in data_frames(pair.client_wire))
    assert pair.client.outbound_buffer_size() == 0


# -- data providers --------------------------------------------------------------------------


def test_provider_is_asked_for_at_most_the_allowed_bytes() -> None:
    """DESIGN.md: a pull provider is asked for at most what may be sent now."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 20_000))
    conn.send_headers(1, POST)
    conn.data_to_send()
    source = body(50_000)
    asked: list[int] = []
    position = 0

    def provider(max_length: int) -> object:
        nonlocal position
        asked.append(max_length)
        chunk = source[position : position + max_length]
        position += len(chunk)
        return chunk, position == len(source)

    conn.send_data_from(1, provider)
    first = data_frames(conn.data_to_send())
    # 16,384 (MAX_FRAME_SIZE), then the 3,616 left of the 20,000 stream window.
    assert asked == [16_384, 3_616]
    assert [len(p) for _, _, p in first] == [16_384, 3_616]
    conn.receive_data(window_update(1, 1_000))
    middle = data_frames(conn.data_to_send())
    assert asked[-1] == 1_000
    conn.receive_data(window_update(1, 100_000) + window_update(0, 100_000))
    rest = data_frames(conn.data_to_send())
    assert all(a <= 16_384 for a in asked)
    sent = b"".join(p for _, _, p in first + middle + rest)
    assert rest[-1][1] & 0x1  # END_STREAM when the provider says it is done
    assert sent == source


def test_provider_deferred_sleeps_until_resume_data() -> None:
    """DESIGN.md: DEFERRED pauses the stream; resume_data() wakes it."""
    conn = client()
    conn.send_headers(1, POST)
    conn.data_to_send()
    chunks = [b"first", DEFERRED, b"second", DEFERRED, b"third"]
    calls: list[int] = []

    def provider(max_length: int) -> object:
        calls.append(max_length)
        item = chunks.pop(0)
        if item is DEFERRED:
            return DEFERRED
        return item, not chunks

    conn.send_data_from(1, provider)
    assert [p for _, _, p in data_frames(conn.data_to_send())] == [b"first"]
    assert len(calls) == 2  # asked again, answered DEFERRED
    assert conn.data_to_send() == b""
    assert len(calls) == 2  # not asked while deferred
    conn.resume_data(1)
    assert [p for _, _, p in data_frames(conn.data_to_send())] == [b"second"]
    conn.resume_data(1)
    out = data_frames(conn.data_to_send())
    assert out == [(1, 0x1, b"third")]
    with pytest.raises(LocalProtocolError):
        conn.resume_data(1)  # the provider has finished


def test_provider_not_called_with_a_closed_window() -> None:
    """A provider is never asked for 0 bytes: the stream waits for WINDOW_UPDATE."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 5))
    conn.send_headers(1, POST)
    conn.data_to_send()
    calls: list[int] = []

    def provider(max_length: int) -> object:
        calls.append(max_length)
        return b"x" * max_length, False

    conn.send_data_from(1, provider)
    conn.data_to_send()
    conn.data_to_send()
    assert calls == [5]
    conn.receive_data(window_update(1, 3))
    conn.data_to_send()
    assert calls == [5, 3]


# -- ending and resetting behind queued data ----------------------------------------------


def test_trailers_wait_for_queued_data() -> None:
    """RFC 9113 §8.1: trailers follow the content; END_STREAM is on the trailers."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 10))
    conn.send_headers(1, POST)
    conn.data_to_send()
    conn.send_data(1, b"b" * 25)
    conn.send_headers(1, [(b"x-checksum", b"1")], end_stream=True)
    wire = conn.data_to_send()
    assert [(t, f & 0x1) for t, f, _, _ in parse_frames(wire)] == [(0x0, 0)]
    conn.receive_data(window_update(1, 100))
    wire = conn.data_to_send()
    kinds = [(t, f & 0x1, len(p)) for t, f, _, p in parse_frames(wire)]
    assert kinds[0] == (0x0, 0, 15)
    assert [(t, es) for t, es, _ in kinds[1:]] == [(0x1, 0x1)]
    with pytest.raises(StreamClosedError):
        conn.send_data(1, b"late")


def test_end_stream_after_queued_data() -> None:
    """END_STREAM leaves with (or right after) the last queued DATA, not before."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 10))
    conn.send_headers(1, POST)
    conn.data_to_send()
    conn.send_data(1, b"c" * 25)
    conn.end_stream(1)
    assert data_frames(conn.data_to_send()) == [(1, 0, b"c" * 10)]
    conn.receive_data(window_update(1, 10))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"c" * 10)]
    conn.receive_data(window_update(1, 10))
    frames = data_frames(conn.data_to_send())
    assert b"".join(p for _, _, p in frames) == b"c" * 5
    assert frames[-1][1] & 0x1
    assert conn.outbound_buffer_size() == 0


def test_reset_stream_drops_queued_data() -> None:
    """RFC 9113 §6.4: after RST_STREAM nothing more is sent on the stream."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 10))
    for sid in (1, 3):
        conn.send_headers(sid, POST)
        conn.send_data(sid, b"d" * 100)
    conn.send_data(3, b"e" * 50, pad_length=7)
    conn.data_to_send()
    assert conn.outbound_buffer_size() == 90 + 140
    conn.reset_stream(3, ErrorCode.CANCEL)
    assert conn.outbound_buffer_size(3) == 0
    assert conn.outbound_buffer_size() == 90
    assert rst_codes(conn.data_to_send()) == {3: ErrorCode.CANCEL}
    conn.receive_data(window_update(1, 1000) + window_update(3, 1000))
    frames = data_frames(conn.data_to_send())
    assert {s for s, _, _ in frames} == {1}
    conn.reset_stream(1)
    assert conn.outbound_buffer_size() == 0


def test_peer_reset_drops_queued_data() -> None:
    """RFC 9113 §6.4: the peer's RST_STREAM closes the stream; its queue goes."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 10))
    conn.send_headers(1, POST)
    conn.send_data(1, b"f" * 100)
    conn.data_to_send()
    conn.receive_data(frame(0x3, 0, 1, struct.pack(">L", ErrorCode.CANCEL)))
    assert conn.outbound_buffer_size() == 0
    conn.receive_data(window_update(0, 1000))
    assert data_frames(conn.data_to_send()) == []


# -- inbound: automatic and manual replenishment ------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    size=st.integers(150_000, 400_000),
    chunk=st.integers(512, 16_384),
)
def test_auto_flow_control_batches_and_keeps_the_window_open(size: int, chunk: int) -> None:
    """DESIGN.md: credit is returned in batches and a reader that keeps up never stalls the peer."""
    conn = server()
    conn.receive_data(headers_frame(1, POST))
    conn.data_to_send()
    data_count = 0
    updates: list[tuple[int, int]] = []
    sent = 0
    while sent < size:
        piece = min(chunk, size - sent)
        conn.receive_data(frame(0x0, 0, 1, bytes(piece)))
        sent += piece
        data_count += 1
        updates += window_updates(conn.data_to_send())
        # What the peer may still send never reaches zero.
        assert conn.remote_flow_control_window(1) > 0
    # Batched: fewer WINDOW_UPDATEs than DATA frames at each level.
    assert len([u for u in updates if u[0] == 0]) < data_count
    assert len([u for u in updates if u[0] == 1]) < data_count
    # About one connection and one stream update per half window consumed.
    assert len(updates) <= 2 * (size // (DEFAULT_WINDOW // 2) + 1)
    # Credit returned never exceeds what was consumed.
    assert sum(i for s, i in updates if s == 0) <= size
    assert sum(i for s, i in updates if s == 1) <= size


def test_auto_flow_control_counts_padding() -> None:
    """RFC 9113 §6.1: the whole padded payload counts against the windows, and is returned."""
    conn = server()
    conn.receive_data(headers_frame(1, POST))
    conn.data_to_send()
    before = conn.remote_flow_control_window(1)
    evs = conn.receive_data(frame(0x0, 0x8, 1, bytes([9]) + b"hi" + bytes(9)))
    (data,) = [e for e in evs if isinstance(e, events.DataReceived)]
    assert (data.data, data.flow_controlled_length) == (b"hi", 12)
    assert conn.remote_flow_control_window(1) == before - 12


def test_manual_flow_control_waits_for_acknowledgement() -> None:
    """DESIGN.md: with auto_flow_control=False, WINDOW_UPDATE follows acknowledge_received_data."""
    conn = server(auto_flow_control=False)
    conn.receive_data(headers_frame(1, POST))
    conn.data_to_send()
    for _ in range(4):
        conn.receive_data(frame(0x0, 0, 1, bytes(16_000)))
    assert window_updates(conn.data_to_send()) == []
    assert conn.remote_flow_control_window(1) == DEFAULT_WINDOW - 64_000
    conn.acknowledge_received_data(1_000, 1)
    assert window_updates(conn.data_to_send()) == []  # batched: below the threshold
    conn.acknowledge_received_data(40_000, 1)
    assert sorted(window_updates(conn.data_to_send())) == [(0, 41_000), (1, 41_000)]
    assert conn.remote_flow_control_window(1) == DEFAULT_WINDOW - 64_000 + 41_000


def test_manual_flow_control_blocks_a_peer_that_is_not_acknowledged() -> None:
    """RFC 9113 §6.9.1: DATA beyond the window we granted is a flow-control error."""
    conn = server(auto_flow_control=False)
    conn.receive_data(headers_frame(1, POST))
    for _ in range(4):
        conn.receive_data(frame(0x0, 0, 1, bytes(16_000)))
    conn.receive_data(frame(0x0, 0, 1, bytes(DEFAULT_WINDOW - 64_000)))
    assert conn.remote_flow_control_window(1) == 0
    conn.data_to_send()
    conn.receive_data(frame(0x0, 0, 1, b""))  # an empty frame fits a closed window
    with pytest.raises(FlowControlError) as info:
        conn.receive_data(frame(0x0, 0, 1, b"x"))
    assert info.value.error_code == ErrorCode.FLOW_CONTROL_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.FLOW_CONTROL_ERROR


def test_connection_window_size_raises_the_window_at_start() -> None:
    """DESIGN.md: Config.connection_window_size is announced with the preface (RFC 9113 §6.9.2)."""
    conn = Connection(Config(client_side=False, connection_window_size=1_000_000))
    conn.initiate_connection()
    wire = conn.data_to_send()
    assert [t for t, _, _, _ in parse_frames(wire)] == [0x4, 0x8]
    assert window_updates(wire) == [(0, 1_000_000 - DEFAULT_WINDOW)]
    conn.receive_data(CLIENT_PREFACE + settings_frame((Setting.INITIAL_WINDOW_SIZE, 1_000_000)) + SETTINGS_ACK)
    # Several streams together may now exceed 65,535 bytes without any WINDOW_UPDATE.
    for sid in (1, 3, 5):
        conn.receive_data(headers_frame(sid, POST) + frame(0x0, 0, sid, bytes(16_000)) * 3)
    assert conn.remote_flow_control_window(5) > 0


def test_default_connection_window_sends_no_window_update() -> None:
    conn = Connection(Config(client_side=False))
    conn.initiate_connection()
    assert window_updates(conn.data_to_send()) == []


# -- SETTINGS_INITIAL_WINDOW_SIZE changes -------------------------------------------------------


def test_settings_change_can_make_a_window_negative() -> None:
    """RFC 9113 §6.9.2: a smaller INITIAL_WINDOW_SIZE can make a stream window negative."""
    conn = scripted_client()
    conn.send_headers(1, POST)
    conn.send_data(1, body(60_000))
    conn.data_to_send()
    conn.receive_data(settings_frame((Setting.INITIAL_WINDOW_SIZE, 1_000)))
    conn.send_data(1, b"z" * 100)  # queued: the window is negative
    # 65,535 - 60,000 = 5,535; then 1,000 - 65,535 = -64,535: the window is -59,000.
    assert conn.local_flow_control_window(1) == 0
    assert data_frames(conn.data_to_send()) == []
    conn.receive_data(window_update(1, 59_000) + window_update(0, 100_000))
    assert data_frames(conn.data_to_send()) == []  # back to exactly 0
    conn.receive_data(window_update(1, 40))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"z" * 40)]
    # Raising the setting again credits the stream by the difference.
    conn.receive_data(settings_frame((Setting.INITIAL_WINDOW_SIZE, 2_000)))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"z" * 60)]
    assert conn.local_flow_control_window(1) == 1_000 - 60


def test_settings_increase_releases_queued_data() -> None:
    """RFC 9113 §6.9.2: a larger INITIAL_WINDOW_SIZE adds to every stream window."""
    conn = scripted_client((Setting.INITIAL_WINDOW_SIZE, 0))
    conn.send_headers(1, POST)
    conn.send_data(1, b"q" * 500)
    assert data_frames(conn.data_to_send()) == []
    conn.receive_data(settings_frame((Setting.INITIAL_WINDOW_SIZE, 300)))
    assert data_frames(conn.data_to_send()) == [(1, 0, b"q" * 300)]


def test_settings_window_overflow_is_a_flow_control_error() -> None:
    """RFC 9113 §6.9.2: a change that overflows a stream window is a FLOW_CONTROL_ERROR."""
    conn = scripted_client()
    conn.send_headers(1, POST)
    conn.receive_data(window_update(1, 2**31 - 1 - DEFAULT_WINDOW))
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(settings_frame((Setting.INITIAL_WINDOW_SIZE, DEFAULT_WINDOW + 1)))
    assert info.value.error_code == ErrorCode.FLOW_CONTROL_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.FLOW_CONTROL_ERROR


# -- the window accessors ------------------------------------------------------------------------


def test_local_and_remote_flow_control_window_values() -> None:
    """local_: what we may send (min of stream and connection); remote_: what the peer may send."""
    # Manual inbound flow control on the server keeps the numbers free of replenishment.
    pair = ConnectionPair(
        Config(client_side=True),
        Config(client_side=False, initial_window_size=30_000, auto_flow_control=False),
    )
    pair.client.send_headers(1, POST)
    assert pair.client.local_flow_control_window(1) == 30_000
    assert pair.client.remote_flow_control_window(1) == DEFAULT_WINDOW
    pair.client.send_data(1, b"x" * 1_000)
    assert pair.client.local_flow_control_window(1) == 29_000
    pair.pump()
    assert pair.server.remote_flow_control_window(1) == 29_000
    pair.server.send_headers(1, RESPONSE)
    assert pair.server.local_flow_control_window(1) == DEFAULT_WINDOW
    assert pair.server.remote_flow_control_window(1) == 29_000
    # The connection window bounds both once a second stream has used it.
    pair.client.send_headers(3, POST)
    pair.client.send_data(3, b"y" * 25_000)
    pair.pump()
    assert pair.client.local_flow_control_window(3) == min(30_000 - 25_000, DEFAULT_WINDOW - 26_000)
    with pytest.raises(StreamClosedError):
        pair.client.local_flow_control_window(99)
    with pytest.raises(StreamClosedError):
        pair.client.remote_flow_control_window(99)


def test_increment_flow_control_window() -> None:
    """RFC 9113 §6.9: WINDOW_UPDATE on the connection and on a stream, increment 1..2^31-1."""
    conn = server()
    conn.receive_data(headers_frame(1, POST))
    conn.data_to_send()
    conn.increment_flow_control_window(10_000)
    conn.increment_flow_control_window(500, stream_id=1)
    assert window_updates(conn.data_to_send()) == [(0, 10_000), (1, 500)]
    assert conn.remote_flow_control_window(1) == DEFAULT_WINDOW + 500
    # The peer may use the extra credit at once (RFC 9113 §6.9.1).
    for _ in range(4):
        conn.receive_data(frame(0x0, 0, 1, bytes(16_000)))
    conn.receive_data(frame(0x0, 0, 1, bytes(DEFAULT_WINDOW + 500 - 64_000)))
    conn.data_to_send()
    for bad in (0, -1, 2**31):
        with pytest.raises(ValueError):
            conn.increment_flow_control_window(bad)
    with pytest.raises(LocalProtocolError):
        conn.increment_flow_control_window(2**31 - 1)  # RFC 9113 §6.9.1: past 2^31-1
    with pytest.raises(StreamClosedError):
        conn.increment_flow_control_window(1, stream_id=7)
    assert conn.data_to_send() == b""  # nothing queued by the refused calls
    conn.ping(b"stillok!")
    assert [t for t, _, _, _ in parse_frames(conn.data_to_send())] == [0x6]


def test_client_request_body_round_trip_with_manual_client_inbound() -> None:
    """A client with manual flow control receives a large response as it acknowledges it."""
    pair = TappedPair(Config(client_side=True, auto_flow_control=False), Config(client_side=False))
    pair.client.send_headers(1, REQUEST, end_stream=True)
    pair.pump()
    payload = body(300_000, 9)
    pair.server.send_headers(1, RESPONSE)
    pair.server.send_data(1, payload, end_stream=True)
    for _ in range(100):
        new, _ = pair.pump()
        acked = False
        for e in new:
            if isinstance(e, events.DataReceived) and e.flow_controlled_length:
                pair.client.acknowledge_received_data(e.flow_controlled_length, 1)
                acked = True
        if not acked:
            break
    assert received_bodies(pair.client_events)[1] == payload
    assert any(isinstance(e, events.StreamEnded) for e in pair.client_events)
