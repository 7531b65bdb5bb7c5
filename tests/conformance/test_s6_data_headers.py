"""RFC 9113 §6.1 DATA, §6.2 HEADERS, §6.3 PRIORITY and §6.10 CONTINUATION."""

from __future__ import annotations

import hpack
import pytest
from hyperframe.frame import Frame as OracleFrame

from h2lite import Config, Connection, ErrorCode, RemoteProtocolError, Setting, events
from h2lite.codes import CLIENT_PREFACE

from ..helpers import REQUEST, RESPONSE, frame, goaway_code, headers_frame, parse_frames, rst_codes, settings
from ._s6_support import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    PADDED,
    PRIORITY,
    PRIORITY_FLAG,
    Peer,
    connection_error,
    of_type,
    padded,
    peer,  # noqa: F401  (fixture)
    ping,
    priority_fields,
)

# -- §6.1 DATA ------------------------------------------------------------------


def test_data_on_stream_0_is_a_connection_error(peer: Peer) -> None:
    """§6.1: DATA on stream 0 MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, frame(DATA, 0, 0, b"hello"))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_padded_data_delivers_content_without_padding(peer: Peer) -> None:
    """§6.1: padding is not data; it still counts towards flow control."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(frame(DATA, PADDED, sid, padded(b"hello", 10)))
    [received] = of_type(evs, events.DataReceived)
    assert received.data == b"hello"
    # Pad Length octet + 5 bytes of data + 10 bytes of padding.
    assert received.flow_controlled_length == 16
    assert peer.conn.remote_flow_control_window(sid) == 65535 - 16


def test_padding_may_leave_no_data() -> None:
    """§6.1: Pad Length one less than the payload leaves empty content; that is valid."""
    p = Peer("server")
    p.open_stream()
    evs = p.conn.receive_data(frame(DATA, PADDED | END_STREAM, 1, padded(b"", 4)))
    [received] = of_type(evs, events.DataReceived)
    assert (received.data, received.flow_controlled_length) == (b"", 5)
    assert of_type(evs, events.StreamEnded)


@pytest.mark.parametrize("pad_length", [5, 6, 255])
def test_padding_as_long_as_the_payload_is_a_connection_error(peer: Peer, pad_length: int) -> None:
    """§6.1: Pad Length >= payload length MUST be a connection error PROTOCOL_ERROR."""
    sid = peer.open_stream()
    # Payload: Pad Length (1) + 4 octets = 5 octets, fewer than or equal to pad_length.
    payload = bytes([pad_length]) + b"\x00" * 4
    exc, out = connection_error(peer.conn, frame(DATA, PADDED, sid, payload))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_padded_data_without_a_pad_length_octet_is_a_connection_error() -> None:
    """§6.1, §4.2: PADDED with an empty payload cannot carry its Pad Length."""
    p = Peer("server")
    p.open_stream()
    exc, out = connection_error(p.conn, frame(DATA, PADDED, 1, b""))
    assert goaway_code(out) == exc.error_code
    assert exc.error_code in (ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_SIZE_ERROR)


def test_data_end_stream_half_closes_the_stream(peer: Peer) -> None:
    """§6.1: END_STREAM makes this the last frame of the stream from the peer."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(frame(DATA, END_STREAM, sid, b"body"))
    assert [type(e) for e in evs] == [events.DataReceived, events.StreamEnded]
    assert evs[0].end_stream is True
    assert evs[1].stream_id == sid
    # §5.1: more DATA after END_STREAM is a stream error STREAM_CLOSED (half-closed (remote)),
    # or a connection error once the stream is closed altogether.
    if peer.role == "server":
        evs = peer.conn.receive_data(frame(DATA, 0, sid, b"more"))
        assert rst_codes(peer.conn.data_to_send()) == {sid: ErrorCode.STREAM_CLOSED}
        assert [(e.stream_id, e.error_code, e.remote_reset) for e in evs] == [(sid, ErrorCode.STREAM_CLOSED, False)]


# -- §6.2 HEADERS -----------------------------------------------------------------


def test_headers_on_stream_0_is_a_connection_error(peer: Peer) -> None:
    """§6.2: HEADERS on stream 0 MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, frame(HEADERS, END_HEADERS, 0, peer.block(REQUEST)))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_padded_headers_are_decoded_without_padding() -> None:
    """§6.2: the header block fragment sits between Pad Length and the padding."""
    p = Peer("server")
    evs = p.conn.receive_data(frame(HEADERS, END_HEADERS | PADDED | END_STREAM, 1, padded(p.block(REQUEST), 7)))
    [request] = of_type(evs, events.RequestReceived)
    assert request.headers == REQUEST
    assert of_type(evs, events.StreamEnded)


def test_headers_padding_longer_than_the_payload_is_a_connection_error() -> None:
    """§6.2: padding that exceeds the room left for the fragment is PROTOCOL_ERROR."""
    p = Peer("server")
    block = p.block(REQUEST)
    payload = bytes([len(block) + 1]) + block
    exc, out = connection_error(p.conn, frame(HEADERS, END_HEADERS | PADDED, 1, payload))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_headers_padding_that_eats_into_the_priority_fields_is_a_connection_error() -> None:
    """§6.2: Pad Length is checked against what is left after the priority fields."""
    p = Peer("server")
    # Pad Length 3, 5 priority octets, no fragment: 3 padding octets cannot fit after them.
    payload = bytes([3]) + priority_fields(0)
    exc, out = connection_error(p.conn, frame(HEADERS, END_HEADERS | PADDED | PRIORITY_FLAG, 1, payload))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("with_padding", [False, True])
def test_headers_priority_fields_are_skipped_before_the_fragment(with_padding: bool) -> None:
    """§6.2: with PRIORITY, Exclusive/Stream Dependency/Weight precede the fragment."""
    p = Peer("server")
    fields = priority_fields(0, weight=201, exclusive=True)
    block = p.block(REQUEST)
    flags = END_HEADERS | END_STREAM | PRIORITY_FLAG
    if with_padding:
        payload = padded(block, 4, prefix=fields)
        flags |= PADDED
    else:
        payload = fields + block
    evs = p.conn.receive_data(frame(HEADERS, flags, 1, payload))
    [request] = of_type(evs, events.RequestReceived)
    assert request.headers == REQUEST
    assert p.conn.data_to_send() == b""


def test_headers_depending_on_their_own_stream_are_a_stream_error() -> None:
    """§5.3.1 (via §6.2): a self-dependency MUST be a stream error PROTOCOL_ERROR."""
    p = Peer("server")
    payload = priority_fields(1) + p.block(REQUEST)
    evs = p.conn.receive_data(frame(HEADERS, END_HEADERS | PRIORITY_FLAG, 1, payload))
    assert rst_codes(p.conn.data_to_send()) == {1: ErrorCode.PROTOCOL_ERROR}
    assert not of_type(evs, events.RequestReceived)
    assert [(e.stream_id, e.error_code, e.remote_reset) for e in of_type(evs, events.StreamReset)] == [
        (1, ErrorCode.PROTOCOL_ERROR, False)
    ]
    # The stream is closed, not idle: its late frames are ignored (§5.1) ...
    assert p.conn.receive_data(frame(DATA, END_STREAM, 1, b"late")) == []
    # ... and the connection (including its HPACK state) carries on.
    evs = p.conn.receive_data(headers_frame(3, REQUEST, end_stream=True, encoder=p.encoder))
    assert [e.headers for e in of_type(evs, events.RequestReceived)] == [REQUEST]


def test_headers_too_short_for_priority_fields_is_a_connection_error(peer: Peer) -> None:
    """§4.2, §6.2: a frame too small for its mandatory fields is FRAME_SIZE_ERROR (field block: connection)."""
    exc, out = connection_error(peer.conn, frame(HEADERS, END_HEADERS | PRIORITY_FLAG, 1, b"\x00\x00\x00"))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


def test_send_headers_with_priority_writes_the_priority_fields() -> None:
    """§6.2: our PRIORITY flag carries E, Stream Dependency and Weight - 1."""
    conn = Peer("client").conn
    conn.send_headers(1, REQUEST, end_stream=True, priority=(0, 256, True))
    [(ftype, flags, sid, payload)] = parse_frames(conn.data_to_send())
    assert (ftype, sid) == (HEADERS, 1)
    assert flags == END_HEADERS | END_STREAM | PRIORITY_FLAG
    assert payload[:5] == bytes.fromhex("80000000 ff")
    assert hpack.Decoder().decode(payload[5:], raw=True) == REQUEST


def test_send_headers_with_padding_is_well_formed() -> None:
    """§6.2: padded HEADERS, read back by an independent parser."""
    conn = Peer("client").conn
    conn.send_headers(1, REQUEST, end_stream=True, pad_length=9)
    data = conn.data_to_send()
    oracle, length = OracleFrame.parse_frame_header(memoryview(data[:9]))
    oracle.parse_body(memoryview(data[9 : 9 + length]))
    assert oracle.stream_id == 1 and oracle.pad_length == 9
    assert {"END_HEADERS", "END_STREAM", "PADDED"} <= set(oracle.flags)
    assert hpack.Decoder().decode(oracle.data, raw=True) == REQUEST


# -- §6.3 PRIORITY ----------------------------------------------------------------


def test_priority_on_stream_0_is_a_connection_error(peer: Peer) -> None:
    """§6.3: PRIORITY on stream 0 MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, frame(PRIORITY, 0, 0, priority_fields(1)))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("length", [0, 4, 6])
def test_priority_of_wrong_length_is_a_stream_error(peer: Peer, length: int) -> None:
    """§6.3: a length other than 5 MUST be a stream error FRAME_SIZE_ERROR."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(frame(PRIORITY, 0, sid, bytes(length)))
    assert rst_codes(peer.conn.data_to_send()) == {sid: ErrorCode.FRAME_SIZE_ERROR}
    assert [(e.stream_id, e.error_code, e.remote_reset) for e in evs] == [(sid, ErrorCode.FRAME_SIZE_ERROR, False)]
    # Only the stream suffered.
    assert peer.conn.receive_data(ping())
    assert peer.conn.data_to_send()


def test_priority_depending_on_its_own_stream_is_a_stream_error(peer: Peer) -> None:
    """§5.3.1, §6.3: a self-dependency MUST be a stream error PROTOCOL_ERROR."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(frame(PRIORITY, 0, sid, priority_fields(sid)))
    assert rst_codes(peer.conn.data_to_send()) == {sid: ErrorCode.PROTOCOL_ERROR}
    assert [(e.stream_id, e.error_code, e.remote_reset) for e in evs] == [(sid, ErrorCode.PROTOCOL_ERROR, False)]


def test_priority_on_an_idle_stream_is_allowed_and_does_not_open_it() -> None:
    """§5.1, §6.3: PRIORITY may arrive on an idle stream; it does not use up the ID."""
    p = Peer("server")
    assert p.conn.receive_data(frame(PRIORITY, 0, 9, priority_fields(0))) == []
    assert p.conn.data_to_send() == b""
    # Stream 1 (< 9) can still be opened: the PRIORITY frame did not open stream 9.
    evs = p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    assert of_type(evs, events.RequestReceived)
    assert p.conn.open_inbound_streams == 1


def test_priority_on_a_closed_stream_is_ignored(peer: Peer) -> None:
    """§5.1, §6.3: PRIORITY can be sent on a closed stream; it changes nothing."""
    sid = peer.open_stream()
    peer.conn.reset_stream(sid, ErrorCode.CANCEL)
    peer.conn.data_to_send()
    assert peer.conn.receive_data(frame(PRIORITY, 0, sid, priority_fields(0, weight=1))) == []
    assert peer.conn.data_to_send() == b""


def test_priority_on_an_open_stream_changes_nothing_observable(peer: Peer) -> None:
    """§5.3.2, §6.3: the RFC 7540 scheme is deprecated; a valid PRIORITY is ignored."""
    sid = peer.open_stream()
    assert peer.conn.receive_data(frame(PRIORITY, 0, sid, priority_fields(0, weight=32, exclusive=True))) == []
    assert peer.conn.data_to_send() == b""
    if peer.role == "server":
        peer.conn.send_headers(sid, RESPONSE)
    peer.conn.send_data(sid, b"still open")
    assert parse_frames(peer.conn.data_to_send())[-1] == (DATA, 0, sid, b"still open")


# -- §6.10 CONTINUATION --------------------------------------------------------------


def test_header_block_split_over_several_continuations_is_reassembled() -> None:
    """§6.10: HEADERS + CONTINUATION* form one block; END_HEADERS on the last one."""
    p = Peer("server")
    headers = REQUEST + [(b"x-filler", b"v" * 300)]
    block = p.block(headers)
    parts = [block[:100], block[100:200], block[200:300], block[300:]]
    wire = (
        frame(HEADERS, END_STREAM, 1, parts[0])
        + frame(CONTINUATION, 0, 1, parts[1])
        + frame(CONTINUATION, 0, 1, parts[2])
        + frame(CONTINUATION, END_HEADERS, 1, parts[3])
    )
    evs = p.conn.receive_data(wire)
    assert [type(e) for e in evs] == [events.RequestReceived, events.StreamEnded]
    assert evs[0].headers == headers


def test_header_block_reassembled_when_fed_byte_by_byte() -> None:
    """§6.10: the split does not depend on how the bytes arrive."""
    p = Peer("server")
    block = p.block(REQUEST)
    wire = frame(HEADERS, END_STREAM, 1, block[:5]) + frame(CONTINUATION, END_HEADERS, 1, block[5:])
    evs = []
    for i in range(len(wire)):
        evs += p.conn.receive_data(wire[i : i + 1])
    assert [type(e) for e in evs] == [events.RequestReceived, events.StreamEnded]
    assert evs[0].headers == REQUEST


def test_pushed_header_block_split_over_continuations_is_reassembled() -> None:
    """§6.10: CONTINUATION also follows PUSH_PROMISE."""
    p = Peer("client")
    p.conn.send_headers(1, REQUEST, end_stream=True)
    p.conn.data_to_send()
    promised = REQUEST[:3] + [(b":path", b"/pushed.css")]
    block = p.block(promised)
    wire = frame(0x5, 0, 1, bytes.fromhex("00000002") + block[:4]) + frame(CONTINUATION, END_HEADERS, 1, block[4:])
    [pushed] = p.conn.receive_data(wire)
    assert isinstance(pushed, events.PushedStreamReceived)
    assert (pushed.pushed_stream_id, pushed.parent_stream_id, pushed.headers) == (2, 1, promised)


def test_continuation_without_a_header_block_is_a_connection_error(peer: Peer) -> None:
    """§6.10: CONTINUATION not preceded by HEADERS/PUSH_PROMISE/CONTINUATION is PROTOCOL_ERROR."""
    sid = peer.open_stream()  # a complete HEADERS (END_HEADERS) went before
    exc, out = connection_error(peer.conn, frame(CONTINUATION, END_HEADERS, sid, peer.block([(b"x-a", b"b")])))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_continuation_on_a_different_stream_is_a_connection_error() -> None:
    """§6.10: a CONTINUATION must be on the stream of the block it continues."""
    p = Peer("server")
    block = p.block(REQUEST)
    wire = frame(HEADERS, END_STREAM, 1, block[:5]) + frame(CONTINUATION, END_HEADERS, 3, block[5:])
    exc, out = connection_error(p.conn, wire)
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_other_frame_inside_a_header_block_is_a_connection_error() -> None:
    """§6.2, §6.10: nothing may interleave a header block, not even PING."""
    p = Peer("server")
    block = p.block(REQUEST)
    wire = frame(HEADERS, END_STREAM, 1, block[:5]) + ping() + frame(CONTINUATION, END_HEADERS, 1, block[5:])
    exc, out = connection_error(p.conn, wire)
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def _split_block(data: bytes, first_type: int) -> tuple[list[tuple[int, int, int, bytes]], bytes]:
    """The frames of one outbound header block and the reassembled fragment."""
    frames = parse_frames(data)
    assert frames[0][0] == first_type
    assert all(f[0] == CONTINUATION for f in frames[1:])
    # §6.10: END_HEADERS only on the last frame; every frame on the same stream.
    assert [bool(f[1] & END_HEADERS) for f in frames] == [False] * (len(frames) - 1) + [True]
    assert len({f[2] for f in frames}) == 1
    return frames, b"".join(f[3] for f in frames)


def test_outbound_header_block_larger_than_max_frame_size_is_split() -> None:
    """§4.2, §6.10: no frame exceeds the peer's SETTINGS_MAX_FRAME_SIZE; the rest goes in CONTINUATION."""
    conn = Peer("client").conn
    headers = REQUEST + [(b"x-big", b"a" * 20000), (b"x-bigger", b"b" * 20000)]
    conn.send_headers(1, headers, end_stream=True)
    frames, block = _split_block(conn.data_to_send(), HEADERS)
    assert len(block) > 16384 and len(frames) >= 2
    assert all(len(f[3]) <= 16384 for f in frames)
    # END_STREAM belongs to HEADERS; CONTINUATION has only END_HEADERS (§6.10).
    assert frames[0][1] & END_STREAM and not any(f[1] & ~END_HEADERS for f in frames[1:])
    assert hpack.Decoder().decode(block, raw=True) == headers


def test_outbound_split_follows_the_peers_acknowledged_max_frame_size() -> None:
    """§6.5.2: a larger SETTINGS_MAX_FRAME_SIZE from the peer lets the block go in one frame."""
    conn = Peer("client").conn
    conn.receive_data(settings((Setting.MAX_FRAME_SIZE, 65536)))
    conn.data_to_send()
    headers = REQUEST + [(b"x-big", b"a" * 40000)]
    conn.send_headers(1, headers, end_stream=True)
    [(ftype, flags, sid, payload)] = parse_frames(conn.data_to_send())
    assert (ftype, flags, sid) == (HEADERS, END_HEADERS | END_STREAM, 1)
    assert hpack.Decoder().decode(payload, raw=True) == headers


def test_outbound_split_with_padding_and_priority_round_trips() -> None:
    """§6.2, §6.10: padding and priority stay in the first frame; an h2lite server reads it back."""
    conn = Peer("client").conn
    headers = REQUEST + [(b"x-big", b"c" * 30000)]
    conn.send_headers(1, headers, end_stream=True, priority=(0, 16, False), pad_length=20)
    data = conn.data_to_send()
    frames, _ = _split_block(data, HEADERS)
    assert frames[0][1] & (PADDED | PRIORITY_FLAG) == PADDED | PRIORITY_FLAG
    assert all(len(f[3]) <= 16384 for f in frames)
    srv = Connection(Config(client_side=False))
    srv.initiate_connection()
    evs = srv.receive_data(CLIENT_PREFACE + settings() + data)
    assert [e.headers for e in of_type(evs, events.RequestReceived)] == [headers]


def test_outbound_push_promise_larger_than_max_frame_size_is_split() -> None:
    """§6.6, §6.10: a PUSH_PROMISE block is split like HEADERS; the promised ID stays first."""
    p = Peer("server")
    p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    pushed = REQUEST[:3] + [(b":path", b"/big"), (b"x-big", b"d" * 20000)]
    p.conn.push_stream(1, 2, pushed)
    frames, _ = _split_block(p.conn.data_to_send(), 0x5)
    assert frames[0][2] == 1 and frames[0][3][:4] == bytes.fromhex("00000002")
    assert all(len(f[3]) <= 16384 for f in frames)
    assert hpack.Decoder().decode(b"".join([frames[0][3][4:]] + [f[3] for f in frames[1:]]), raw=True) == pushed


def test_data_in_the_middle_of_a_header_block_is_a_connection_error() -> None:
    """§6.10: a DATA frame inside a header block is PROTOCOL_ERROR even on the same stream."""
    p = Peer("server")
    block = p.block(REQUEST)
    with pytest.raises(RemoteProtocolError) as info:
        p.conn.receive_data(frame(HEADERS, 0, 1, block) + frame(DATA, 0, 1, b"x"))
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(p.conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR
