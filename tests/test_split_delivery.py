"""The same bytes give the same results however the transport slices them.

RFC 9113 §4.1: frames are delimited by their 9-byte headers alone, so a
receiver's behaviour cannot depend on read boundaries.  Realistic byte streams
are recorded from a real conversation (an h2lite client and server, and an
``h2`` client) and replayed into fresh connections whole, byte by byte and in
hypothesis-chosen slices.

What is compared, and why it can be compared exactly:

* Events: the frame reader only hands whole frames to the connection, so a
  DATA frame split across reads still produces one ``DataReceived`` with the
  frame's whole payload.  Event lists are therefore compared as they are,
  without merging ``DataReceived`` payloads.
* Output bytes: everything a receiver writes (SETTINGS ACK, PING ACK,
  RST_STREAM, WINDOW_UPDATE) is decided per frame, and automatic flow control
  batches WINDOW_UPDATEs on the count of consumed bytes, not on reads.  The
  concatenated output is therefore byte for byte the same, WINDOW_UPDATE
  batching included.
* Errors: a protocol violation raises at the read that completes the
  offending frame (or, for an oversized frame, its 9-byte header), with the
  same error code, the same events before it and the same GOAWAY.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

import h2.config
import h2.connection
import h2.events
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import Config, Connection, ErrorCode, RemoteProtocolError, Setting, events

from h2lite.codes import CLIENT_PREFACE

from .helpers import REQUEST, RESPONSE, SETTINGS_ACK, frame, goaway_code, headers_frame, parse_frames
from .helpers import settings as settings_frame


def fixed_clock() -> float:
    return 0.0


def server_config(**kwargs: object) -> Config:
    return Config(client_side=False, clock=fixed_clock, **kwargs)  # type: ignore[arg-type]


def client_config(**kwargs: object) -> Config:
    return Config(client_side=True, clock=fixed_clock, **kwargs)  # type: ignore[arg-type]


def post(path: bytes, length: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", path)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return headers


def body(size: int, seed: int) -> bytes:
    return bytes((seed + i * 7) & 0xFF for i in range(size))


# -- recorded conversations ----------------------------------------------------------


def converse(client: Connection, server: Connection, respond: Callable[[Connection, list[events.Event]], None]) -> tuple[bytes, bytes, list[events.Event], list[events.Event]]:
    """Run both sides until quiet; return (client bytes, server bytes, client events, server events)."""
    to_server = b""
    to_client = b""
    client_events: list[events.Event] = []
    server_events: list[events.Event] = []
    for _ in range(10000):
        c = client.data_to_send()
        s = server.data_to_send()
        if not c and not s:
            break
        to_server += c
        to_client += s
        if c:
            new = server.receive_data(c)
            server_events += new
            respond(server, new)
        if s:
            client_events += client.receive_data(s)
    else:
        raise AssertionError("the conversation did not settle")
    return to_server, to_client, client_events, server_events


def busy_client() -> Connection:
    """An h2lite client with a queue of varied requests, not yet sent.

    Bodies larger than the initial windows (RFC 9113 §6.9.2), a padded body
    (§6.1), trailers (§8.1), a header block big enough for CONTINUATION
    (§6.10), priority fields (§6.3), a PING (§6.7), a connection
    WINDOW_UPDATE (§6.9), a SETTINGS change (§6.5) and a reset (§6.4).
    """
    client = Connection(client_config())
    client.initiate_connection()
    client.send_headers(1, post(b"/upload", 100_000))
    client.send_data(1, body(100_000, 1), end_stream=True)
    client.send_headers(3, post(b"/trailers"), priority=(1, 32, False))
    client.send_data(3, body(5_000, 3), pad_length=17)
    client.send_headers(3, [(b"x-checksum", b"abc")], end_stream=True)
    client.ping(b"pingpong")
    client.send_headers(5, REQUEST + [(b"x-large", b"x" * 30_000)], end_stream=True)
    client.increment_flow_control_window(10_000)
    client.update_settings({Setting.INITIAL_WINDOW_SIZE: 100_000})
    client.send_headers(7, post(b"/cancelled"))
    client.send_data(7, body(3_000, 7))
    client.reset_stream(7, ErrorCode.CANCEL)
    client.send_headers(9, post(b"/small"))
    client.send_data(9, b"hello ")
    client.send_data(9, b"world", end_stream=True)
    return client


@dataclass
class Recording:
    """Bytes one side received in a real conversation, and the events they gave."""

    data: bytes
    events: list[events.Event]
    fresh: Callable[[], Connection]


def passive(conn: Connection, new: list[events.Event]) -> None:
    pass


def record_client_to_server() -> Recording:
    client = busy_client()
    server = Connection(server_config())
    server.initiate_connection()
    to_server, _, _, server_events = converse(client, server, passive)

    def fresh() -> Connection:
        conn = Connection(server_config())
        conn.initiate_connection()
        return conn

    return Recording(to_server, server_events, fresh)


def responder(conn: Connection, new: list[events.Event]) -> None:
    """A server that answers every request: 103, response, big body, trailers, a push."""
    for event in new:
        if isinstance(event, events.StreamEnded):
            sid = event.stream_id
            if sid == 1:
                conn.send_headers(sid, [(b":status", b"103"), (b"link", b"</style.css>")])
                conn.push_stream(sid, 2, [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/style.css")])
                conn.send_headers(2, RESPONSE, end_stream=False)
                conn.send_data(2, body(2_000, 2), end_stream=True)
            conn.send_headers(sid, RESPONSE)
            conn.send_data(sid, body(90_000 if sid == 1 else 1_000, sid))
            conn.send_headers(sid, [(b"x-done", b"yes")], end_stream=True)
            if sid == 3:
                conn.ping(b"serverpi")
                conn.advertise_alternative_service(b'h2=":8443"', origin=b"https://example.org")
                conn.send_origin([b"https://example.org"])
    if any(isinstance(e, events.StreamEnded) and e.stream_id == 5 for e in new):
        conn.send_shutdown_notice()


def requesting_client() -> Connection:
    client = Connection(client_config())
    client.initiate_connection()
    client.send_headers(1, REQUEST, end_stream=True)
    client.send_headers(3, REQUEST, end_stream=True)
    client.send_headers(5, REQUEST, end_stream=True)
    client.send_headers(7, REQUEST, end_stream=True)
    return client


def record_server_to_client() -> Recording:
    client = requesting_client()
    server = Connection(server_config())
    server.initiate_connection()
    _, to_client, client_events, _ = converse(client, server, responder)

    def fresh() -> Connection:
        conn = requesting_client()
        conn.data_to_send()
        return conn

    return Recording(to_client, client_events, fresh)


def record_h2_client_to_server() -> Recording:
    """Bytes written by the ``h2`` package's client: an independent encoder."""
    peer = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    peer.initiate_connection()
    peer.send_headers(1, post(b"/a", 70_000))
    peer.send_data(1, body(16_000, 1))
    peer.send_data(1, body(16_000, 2), pad_length=5)
    peer.send_data(1, body(16_000, 3))
    peer.ping(b"h2-ping!")
    peer.send_headers(3, REQUEST, end_stream=True)
    peer.send_headers(5, post(b"/b"))
    peer.send_data(5, b"abc")
    peer.reset_stream(5, 8)
    peer.increment_flow_control_window(1000)
    data = peer.data_to_send()
    server = Connection(server_config())
    server.initiate_connection()
    server_events = server.receive_data(data)
    # Finish stream 1 once our WINDOW_UPDATEs have reached the h2 client.
    for event in peer.receive_data(server.data_to_send()):
        assert not isinstance(event, h2.events.ConnectionTerminated)
    peer.send_data(1, body(16_000, 4))
    peer.send_data(1, body(6_000, 5), end_stream=True)
    peer.send_headers(7, REQUEST + [(b"x-large", b"y" * 20_000)], end_stream=True)
    more = peer.data_to_send()
    server_events += server.receive_data(more)

    def fresh() -> Connection:
        conn = Connection(server_config())
        conn.initiate_connection()
        return conn

    return Recording(data + more, server_events, fresh)


RECORDINGS = {
    "h2lite-client-to-server": record_client_to_server,
    "h2lite-server-to-client": record_server_to_client,
    "h2-client-to-server": record_h2_client_to_server,
}
_cache: dict[str, Recording] = {}


def recording(name: str) -> Recording:
    if name not in _cache:
        _cache[name] = RECORDINGS[name]()
    return _cache[name]


# -- replay ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    events: list[events.Event]
    output: bytes
    error_code: ErrorCode | None = None
    #: Offset (exclusive end) of the read that raised; for byte-by-byte reads
    #: this is the exact byte at which the error was detected.
    error_at: int | None = None
    #: Offset at which that read started.
    error_from: int | None = None


def replay(conn: Connection, chunks: list[bytes]) -> Outcome:
    got: list[events.Event] = []
    output = conn.data_to_send()
    pos = 0
    for chunk in chunks:
        pos += len(chunk)
        try:
            got += conn.receive_data(chunk)
        except RemoteProtocolError as exc:
            got += exc.events
            return Outcome(got, output + conn.data_to_send(), exc.error_code, pos, pos - len(chunk))
        output += conn.data_to_send()
    return Outcome(got, output)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in zip(edges, edges[1:])]


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


cut_points = st.lists(st.integers(min_value=0, max_value=2**40), max_size=60)


@pytest.fixture(params=sorted(RECORDINGS))
def recorded(request: pytest.FixtureRequest) -> Recording:
    return recording(request.param)


def test_replay_whole_reproduces_the_conversation(recorded: Recording) -> None:
    """A fresh connection fed the recorded bytes in one read sees what the original saw."""
    outcome = replay(recorded.fresh(), [recorded.data])
    assert outcome.error_code is None
    assert outcome.events == recorded.events
    kinds = {type(e) for e in outcome.events}
    # The recordings exercise the frame kinds they were built for.
    assert events.DataReceived in kinds and events.StreamEnded in kinds
    assert events.PingReceived in kinds


def test_recordings_hold_the_frames_they_claim() -> None:
    """Guard the fixtures themselves: CONTINUATION, padding, priority, RST_STREAM, WINDOW_UPDATE."""
    types = {name: {t for t, _, _, _ in parse_frames(recording(name).data)} for name in RECORDINGS}
    assert {0x0, 0x1, 0x3, 0x4, 0x6, 0x8, 0x9} <= types["h2lite-client-to-server"]
    assert {0x0, 0x1, 0x3, 0x4, 0x6, 0x8, 0x9} <= types["h2-client-to-server"]
    assert {0x0, 0x1, 0x4, 0x5, 0x6, 0x7, 0xA, 0xC} <= types["h2lite-server-to-client"]
    padded = [f for t, f, _, _ in parse_frames(recording("h2lite-client-to-server").data) if t == 0x0 and f & 0x8]
    assert padded


def test_replay_byte_by_byte(recorded: Recording) -> None:
    """RFC 9113 §4.1: one byte per read gives the same events and the same output."""
    whole = replay(recorded.fresh(), [recorded.data])
    single = replay(recorded.fresh(), byte_by_byte(recorded.data))
    assert single.events == whole.events
    assert single.output == whole.output
    assert single.error_code is None


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(RECORDINGS)), points=cut_points)
def test_replay_in_random_slices(name: str, points: list[int]) -> None:
    """RFC 9113 §4.1: any slicing gives the same events and the same output bytes."""
    rec = recording(name)
    whole = replay(rec.fresh(), [rec.data])
    sliced = replay(rec.fresh(), cut(rec.data, points))
    assert sliced.events == whole.events
    assert sliced.output == whole.output


def test_window_updates_are_batched_the_same_way_whatever_the_reads(recorded: Recording) -> None:
    """Automatic flow control batches on consumed bytes (DESIGN.md), not on read boundaries."""
    whole = replay(recorded.fresh(), [recorded.data])
    single = replay(recorded.fresh(), byte_by_byte(recorded.data))

    def updates(output: bytes) -> list[tuple[int, int]]:
        return [(s, struct.unpack(">L", p)[0]) for t, _, s, p in parse_frames(output) if t == 0x8]

    assert updates(single.output) == updates(whole.output)
    data_frames = [t for t, _, _, _ in parse_frames(recorded.data) if t == 0x0]
    assert len(updates(whole.output)) < len(data_frames)


# -- streams that end in a protocol error ---------------------------------------------------

#: (name, bytes appended to a valid recording, expected error code)
VIOLATIONS = [
    # RFC 9113 §6.1: DATA on stream 0 is a connection PROTOCOL_ERROR.
    ("data-on-stream-0", frame(0x0, 0, 0, b"oops"), ErrorCode.PROTOCOL_ERROR),
    # RFC 9113 §6.7: a PING whose length is not 8 is a connection FRAME_SIZE_ERROR.
    ("short-ping", frame(0x6, 0, 0, b"1234567"), ErrorCode.FRAME_SIZE_ERROR),
    # RFC 9113 §4.2: a frame above SETTINGS_MAX_FRAME_SIZE, caught on its header.
    ("oversized", bytes.fromhex("004001 00 00 00000001") + bytes(100), ErrorCode.FRAME_SIZE_ERROR),
    # RFC 9113 §5.1: WINDOW_UPDATE on an idle stream is a connection PROTOCOL_ERROR.
    ("idle-window-update", frame(0x8, 0, 1001, b"\x00\x00\x00\x01"), ErrorCode.PROTOCOL_ERROR),
    # RFC 9113 §6.10: a frame interleaved in a header block is a PROTOCOL_ERROR.
    (
        "interleaved-header-block",
        frame(0x1, 0x0, 1001, b"\x82") + frame(0x6, 0, 0, bytes(8)),
        ErrorCode.PROTOCOL_ERROR,
    ),
    # RFC 9113 §6.9.1: a connection window beyond 2^31-1 is a FLOW_CONTROL_ERROR.
    ("window-overflow", frame(0x8, 0, 0, b"\x7f\xff\xff\xff"), ErrorCode.FLOW_CONTROL_ERROR),
]


def broken(name: str, tail: bytes) -> bytes:
    return recording(name).data + tail


@pytest.mark.parametrize("violation", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
@pytest.mark.parametrize("name", ["h2lite-client-to-server", "h2-client-to-server"])
def test_error_is_detected_at_the_same_byte(name: str, violation: tuple[str, bytes, ErrorCode]) -> None:
    """The error, the events before it and the GOAWAY do not depend on read sizes."""
    _, tail, code = violation
    data = broken(name, tail)
    rec = recording(name)
    whole = replay(rec.fresh(), [data])
    single = replay(rec.fresh(), byte_by_byte(data))
    assert whole.error_code == single.error_code == code
    assert goaway_code(whole.output) == goaway_code(single.output) == code
    assert single.events == whole.events == rec.events
    assert single.output == whole.output
    # Detected on the last byte of the offending frame (of the header alone
    # for an oversized frame), never later, never earlier.
    expected_end = len(rec.data) + (9 if violation[0] == "oversized" else len(tail))
    assert single.error_at == expected_end


_single_cache: dict[str, Outcome] = {}


def broken_byte_by_byte(violation: tuple[str, bytes, ErrorCode]) -> Outcome:
    label, tail, _ = violation
    if label not in _single_cache:
        name = "h2lite-client-to-server"
        _single_cache[label] = replay(recording(name).fresh(), byte_by_byte(broken(name, tail)))
    return _single_cache[label]


@settings(max_examples=40, deadline=None)
@given(violation=st.sampled_from(VIOLATIONS), points=cut_points)
def test_error_in_random_slices(violation: tuple[str, bytes, ErrorCode], points: list[int]) -> None:
    """Random slicing: same code, same GOAWAY, raised by the read holding the decisive byte."""
    name = "h2lite-client-to-server"
    _, tail, code = violation
    single = broken_byte_by_byte(violation)
    sliced = replay(recording(name).fresh(), cut(broken(name, tail), points))
    assert sliced.error_code == code
    assert sliced.events == single.events
    assert sliced.output == single.output
    assert sliced.error_from is not None and sliced.error_at is not None and single.error_at is not None
    assert sliced.error_from < single.error_at <= sliced.error_at


# -- a SETTINGS ACK that lowers our frame size limit -----------------------------------------


def lowering_server() -> Connection:
    """A server advertising MAX_FRAME_SIZE 20000, then lowering it to 16384."""
    conn = Connection(server_config(max_frame_size=20_000))
    conn.initiate_connection()
    conn.update_settings({Setting.MAX_FRAME_SIZE: 16_384})
    return conn


def lowering_input() -> tuple[bytes, int]:
    """Client bytes, and the offset of the end of the header that breaks the lowered limit."""
    valid = (
        CLIENT_PREFACE
        + settings_frame()
        + SETTINGS_ACK  # acknowledges 20000
        + headers_frame(1, post(b"/big"))
        + frame(0x0, 0, 1, bytes(18_000))  # within 20000: allowed
        + SETTINGS_ACK  # acknowledges 16384
    )
    # RFC 9113 §4.2: after the ACK the peer must keep to 16384.
    return valid + frame(0x0, 0, 1, bytes(18_000)), len(valid) + 9


@settings(max_examples=40, deadline=None)
@given(points=cut_points)
def test_lowered_frame_limit_applies_from_the_ack_whatever_the_reads(points: list[int]) -> None:
    """RFC 9113 §4.2, §6.5.3: a frame after the ACK of a lower MAX_FRAME_SIZE is a FRAME_SIZE_ERROR.

    Checked on its header, at the same byte, whether the ACK and the frame
    come in one read or in several.
    """
    data, header_end = lowering_input()
    whole = replay(lowering_server(), [data])
    single = replay(lowering_server(), byte_by_byte(data))
    sliced = replay(lowering_server(), cut(data, points))
    for outcome in (whole, single, sliced):
        assert outcome.error_code == ErrorCode.FRAME_SIZE_ERROR
        assert goaway_code(outcome.output) == ErrorCode.FRAME_SIZE_ERROR
        assert outcome.events == whole.events
        assert outcome.output == whole.output
    assert [type(e) for e in whole.events].count(events.DataReceived) == 1
    assert single.error_at == header_end
    assert sliced.error_from is not None and sliced.error_at is not None
    assert sliced.error_from < header_end <= sliced.error_at
