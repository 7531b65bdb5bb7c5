"""RFC 9113 §4: HTTP frames — the frame header (§4.1), frame size (§4.2) and
field section compression (§4.3)."""

from __future__ import annotations

import struct

import hpack
import pytest

from h2lite import (
    Config,
    Connection,
    ErrorCode,
    FrameTooLargeError,
    LocalProtocolError,
    RemoteProtocolError,
    events,
)
from h2lite.codes import CLIENT_PREFACE

from ..helpers import (
    FEED_MODES,
    REQUEST,
    RESPONSE,
    SETTINGS_ACK,
    client,
    data_frame,
    feed,
    frame,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    rst_stream,
    server,
    settings,
    window_update,
)


@pytest.fixture(params=FEED_MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def kinds(got: list[events.Event]) -> list[type]:
    return [type(e) for e in got]


PING_PAYLOAD = b"\x01\x02\x03\x04\x05\x06\x07\x08"


# -- §4.1: frame format --------------------------------------------------------


def test_frame_header_fields_are_read(mode: str) -> None:
    """§4.1: 24-bit length, 8-bit type, 8-bit flags, R bit + 31-bit stream ID."""
    conn = server()
    wire = bytes.fromhex("000008 06 00 00000000") + PING_PAYLOAD
    got = feed(conn, wire, mode)
    assert got == [events.PingReceived(ping_data=PING_PAYLOAD)]
    assert parse_frames(conn.data_to_send()) == [(0x6, 0x1, 0, PING_PAYLOAD)]


def test_reserved_bit_is_ignored(mode: str) -> None:
    """§4.1: the reserved bit of the stream identifier MUST be ignored on receipt."""
    conn = server()
    reserved = 0x80000000
    wire = (
        headers_frame(reserved | 1, REQUEST)
        + data_frame(reserved | 1, b"body", end_stream=True)
        + frame(0x6, 0, reserved, PING_PAYLOAD)
    )
    got = feed(conn, wire, mode)
    assert [(type(e), getattr(e, "stream_id", 0)) for e in got] == [
        (events.RequestReceived, 1),
        (events.DataReceived, 1),
        (events.StreamEnded, 1),
        (events.PingReceived, 0),
    ]


def test_reserved_bit_is_never_sent() -> None:
    """§4.1: the reserved bit MUST remain unset when sending."""
    conn = client()
    conn.send_headers(1, REQUEST)
    conn.send_data(1, b"x", end_stream=True)
    conn.ping(PING_PAYLOAD)
    out = conn.data_to_send()
    pos = 0
    while pos < len(out):
        length = int.from_bytes(out[pos : pos + 3], "big")
        assert out[pos + 5] & 0x80 == 0
        pos += 9 + length


def test_length_is_24_bits(mode: str) -> None:
    """§4.1: the length is a 24-bit integer; frames past 2^16 are read whole."""
    conn = server(max_frame_size=2**17, initial_window_size=2**20, connection_window_size=2**20)
    body = bytes(range(256)) * 280  # 71,680 bytes: the top length byte is used
    got = feed(conn, headers_frame(1, REQUEST) + data_frame(1, body, end_stream=True), mode)
    data = [e for e in got if isinstance(e, events.DataReceived)]
    assert [len(e.data) for e in data] == [len(body)] and data[0].data == body
    assert isinstance(got[-1], events.StreamEnded)


# -- §4.1 / §5.5: unknown frame types and flags ------------------------------------


@pytest.mark.parametrize("frame_type", [0x0B, 0x20, 0xBB, 0xFF])
def test_unknown_frame_type_is_ignored(frame_type: int, mode: str) -> None:
    """§4.1: implementations MUST ignore and discard frames of unknown types."""
    conn = server()
    got = feed(conn, frame(frame_type, 0xA5, 0, b"opaque") + frame(0x6, 0, 0, PING_PAYLOAD), mode)
    assert got == [
        events.UnknownFrameReceived(frame_type=frame_type, flags=0xA5, stream_id=0, payload=b"opaque"),
        events.PingReceived(ping_data=PING_PAYLOAD),
    ]
    # Only the PING ACK answers: nothing for the unknown frame.
    assert [t for t, f, s, p in parse_frames(conn.data_to_send())] == [0x6]


@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_unknown_frames_in_the_middle_of_a_stream(client_side: bool, mode: str) -> None:
    """§4.1, §5.5: unknown frames interleaved with a stream's frames change nothing."""
    if client_side:
        conn = client()
        conn.send_headers(1, REQUEST, end_stream=True)
        conn.data_to_send()
        head = headers_frame(1, RESPONSE)
    else:
        conn = server()
        head = headers_frame(1, REQUEST)
    wire = (
        head
        + frame(0xBB, 0, 1, b"on the stream")
        + data_frame(1, b"one")
        + frame(0xBC, 0xFF, 0, b"")
        + frame(0xBD, 0, 1, b"x" * 100)
        + data_frame(1, b"two", end_stream=True)
    )
    got = feed(conn, wire, mode)
    assert [type(e).__name__ for e in got] == [
        "ResponseReceived" if client_side else "RequestReceived",
        "UnknownFrameReceived",
        "DataReceived",
        "UnknownFrameReceived",
        "UnknownFrameReceived",
        "DataReceived",
        "StreamEnded",
    ]
    assert b"".join(e.data for e in got if isinstance(e, events.DataReceived)) == b"onetwo"
    assert goaway_code(conn.data_to_send()) is None


def test_unknown_frame_does_not_open_a_stream(mode: str) -> None:
    """§5.1.1: only HEADERS (and PUSH_PROMISE) use a new stream ID; an unknown frame does not."""
    conn = server()
    got = feed(conn, frame(0xBB, 0, 99, b"") + headers_frame(3, REQUEST, end_stream=True), mode)
    assert kinds(got) == [events.UnknownFrameReceived, events.RequestReceived, events.StreamEnded]
    assert conn.open_inbound_streams == 1


UNKNOWN_FLAG_CASES = {
    # (frame, expected event types); the defined flag bits are left clear unless noted.
    "ping": (frame(0x6, 0xFE, 0, PING_PAYLOAD), [events.PingReceived]),
    "settings": (frame(0x4, 0xFE, 0, b""), [events.RemoteSettingsChanged]),
    "window-update": (frame(0x8, 0xFF, 0, struct.pack(">L", 10)), [events.WindowUpdated]),
    "priority": (frame(0x2, 0xFF, 1, struct.pack(">LB", 0, 15)), []),
    "goaway": (frame(0x7, 0xFF, 0, struct.pack(">LL", 0, 0)), [events.ConnectionTerminated]),
}


@pytest.mark.parametrize("wire, expected", UNKNOWN_FLAG_CASES.values(), ids=UNKNOWN_FLAG_CASES.keys())
def test_unknown_flags_are_ignored(wire: bytes, expected: list[type], mode: str) -> None:
    """§4.1: flags with no defined meaning for a frame type MUST be ignored."""
    conn = server()
    assert kinds(feed(conn, wire, mode)) == expected
    assert goaway_code(conn.data_to_send()) in (None, ErrorCode.NO_ERROR)


def test_unknown_flags_on_stream_frames_are_ignored(mode: str) -> None:
    """§4.1: HEADERS with 0xD2 and DATA with 0xF6 act as if those bits were clear."""
    conn = server()
    wire = (
        frame(0x1, 0x04 | 0xD2, 1, hpack.Encoder().encode(REQUEST))  # END_HEADERS + unknown bits
        + frame(0x0, 0xF6, 1, b"data")  # no END_STREAM, no PADDED
        + frame(0x3, 0xFF, 1, struct.pack(">L", ErrorCode.CANCEL))
    )
    got = feed(conn, wire, mode)
    assert kinds(got) == [events.RequestReceived, events.DataReceived, events.StreamReset]
    assert got[0].end_stream is False  # type: ignore[attr-defined]
    assert got[1].data == b"data" and got[1].end_stream is False  # type: ignore[attr-defined]


def test_unknown_flags_are_left_unset_when_sending() -> None:
    """§4.1: flags without a defined meaning MUST be left unset (0x00) when sending."""
    conn = server()
    conn.receive_data(frame(0x6, 0xFE, 0, PING_PAYLOAD) + settings())
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, RESPONSE)
    conn.send_data(1, b"body", end_stream=True)
    flags = {(t, f) for t, f, s, p in parse_frames(conn.data_to_send())}
    assert flags == {(0x6, 0x1), (0x4, 0x1), (0x1, 0x4), (0x0, 0x1)}


# -- §4.2: frame size ------------------------------------------------------------

TOO_LONG = {
    "data": (0x0, 1),
    "headers": (0x1, 1),
    "ping": (0x6, 0),
    "settings": (0x4, 0),
    "unknown": (0xBB, 0),
}


@pytest.mark.parametrize("frame_type, stream_id", TOO_LONG.values(), ids=TOO_LONG.keys())
def test_oversized_frame_is_rejected_on_its_header(frame_type: int, stream_id: int) -> None:
    """§4.2: a frame longer than our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR.

    The error is raised as soon as the 9-byte header arrives, before the
    payload is buffered.
    """
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST))
    header = struct.pack(">HBBBL", 0x0040, 0x01, frame_type, 0, stream_id)  # length 16,385
    assert int.from_bytes(header[:3], "big") == 16385
    for i in range(8):
        assert conn.receive_data(header[i : i + 1]) == []
    with pytest.raises(FrameTooLargeError) as info:
        conn.receive_data(header[8:9])
    assert info.value.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.FRAME_SIZE_ERROR
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"\x00" * 16385)


def test_oversized_frame_after_good_frames_in_one_read(mode: str) -> None:
    """§4.2, §5.4: frames before the oversized one are processed and reported."""
    conn = server()
    wire = headers_frame(1, REQUEST) + data_frame(1, b"ok") + bytes.fromhex("010000 00 00 00000001")
    with pytest.raises(FrameTooLargeError) as info:
        feed(conn, wire, mode)
    assert kinds(info.value.events) == [events.RequestReceived, events.DataReceived]
    assert goaway_code(conn.data_to_send()) == ErrorCode.FRAME_SIZE_ERROR


def test_frame_of_exactly_max_frame_size_is_accepted(mode: str) -> None:
    """§4.2: frames up to SETTINGS_MAX_FRAME_SIZE (initially 2^14) are allowed."""
    conn = server()
    got = feed(conn, headers_frame(1, REQUEST) + data_frame(1, b"z" * 16384), mode)
    assert [len(e.data) for e in got if isinstance(e, events.DataReceived)] == [16384]


def unacknowledged_server(max_frame_size: int) -> Connection:
    """A server that advertised max_frame_size; the client has not acknowledged it yet."""
    conn = Connection(Config(client_side=False, max_frame_size=max_frame_size))
    conn.initiate_connection()
    conn.receive_data(CLIENT_PREFACE + settings())
    conn.receive_data(headers_frame(1, REQUEST))
    conn.data_to_send()
    return conn


def test_larger_frames_wait_for_our_settings_ack(mode: str) -> None:
    """§4.2, §6.5.3: a larger SETTINGS_MAX_FRAME_SIZE applies only once acknowledged."""
    conn = unacknowledged_server(2**16)
    with pytest.raises(FrameTooLargeError):
        feed(conn, data_frame(1, b"y" * 20000), mode)
    assert goaway_code(conn.data_to_send()) == ErrorCode.FRAME_SIZE_ERROR


def test_larger_frames_accepted_after_our_settings_ack(mode: str) -> None:
    conn = unacknowledged_server(2**16)
    assert kinds(feed(conn, SETTINGS_ACK, mode)) == [events.SettingsAcknowledged]
    got = feed(conn, data_frame(1, b"y" * 20000), mode)
    assert [len(e.data) for e in got if isinstance(e, events.DataReceived)] == [20000]


def test_settings_ack_and_larger_frame_in_one_read(mode: str) -> None:
    """§4.2: the ACK and a frame relying on it may arrive in the same read."""
    conn = unacknowledged_server(2**16)
    got = feed(conn, SETTINGS_ACK + data_frame(1, b"y" * 20000) + data_frame(1, b"", end_stream=True), mode)
    assert kinds(got) == [events.SettingsAcknowledged, events.DataReceived, events.DataReceived, events.StreamEnded]
    assert len(got[1].data) == 20000  # type: ignore[attr-defined]


def test_frame_above_the_new_limit_still_rejected_after_ack(mode: str) -> None:
    conn = unacknowledged_server(2**15)
    with pytest.raises(FrameTooLargeError) as info:
        feed(conn, SETTINGS_ACK + data_frame(1, b"y" * (2**15 + 1)), mode)
    assert kinds(info.value.events) == [events.SettingsAcknowledged]


def test_lowered_limit_applies_from_its_ack(mode: str) -> None:
    """§4.2, §6.5.3: once the peer acknowledges a lower SETTINGS_MAX_FRAME_SIZE,
    a longer frame after that ACK is a FRAME_SIZE_ERROR, whatever the read size."""
    conn = server(max_frame_size=2**16)
    conn.receive_data(headers_frame(1, REQUEST))
    conn.update_settings({0x5: 16384})
    conn.data_to_send()
    with pytest.raises(FrameTooLargeError) as info:
        feed(conn, data_frame(1, b"ok" * 10000) + SETTINGS_ACK + data_frame(1, b"x" * 20000), mode)
    assert kinds(info.value.events) == [events.DataReceived, events.SettingsAcknowledged]


def test_we_never_send_frames_above_the_peer_limit() -> None:
    """§4.2: an endpoint MUST NOT send a frame larger than the peer's SETTINGS_MAX_FRAME_SIZE."""
    conn = server(initial_window_size=2**20)
    conn.receive_data(window_update(0, 2**20) + headers_frame(1, REQUEST, end_stream=True))
    conn.data_to_send()
    conn.send_headers(1, RESPONSE + [(b"x-big", b"v" * 40000)])
    conn.send_data(1, b"d" * 50000, end_stream=True)
    frames = parse_frames(conn.data_to_send())
    assert max(len(p) for t, f, s, p in frames) <= 16384
    assert [t for t, f, s, p in frames].count(0x9) >= 2  # the header block was split


# Frames too short or too long for their type (§4.2 "exceeds any limit defined
# for the frame type, or is too small to contain mandatory frame data"); each
# of these alters connection state, so the error is a connection error.
BAD_LENGTHS = {
    "ping-7": frame(0x6, 0, 0, b"1234567"),
    "ping-9": frame(0x6, 0, 0, b"123456789"),
    "settings-5": frame(0x4, 0, 0, b"\x00\x03\x00\x00\x00"),
    "settings-ack-6": frame(0x4, 0x1, 0, b"\x00\x03\x00\x00\x00\x01"),
    "window-update-3": frame(0x8, 0, 0, b"\x00\x00\x01"),
    "goaway-7": frame(0x7, 0, 0, b"\x00" * 7),
    "headers-priority-4": frame(0x1, 0x24, 1, b"\x00\x00\x00\x00"),
    "rst-stream-5": frame(0x3, 0, 1, b"\x00" * 5),
}


@pytest.mark.parametrize("wire", BAD_LENGTHS.values(), ids=BAD_LENGTHS.keys())
def test_frame_with_bad_length_for_its_type(wire: bytes, mode: str) -> None:
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST))
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert info.value.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.FRAME_SIZE_ERROR


def test_push_promise_too_short_for_promised_id(mode: str) -> None:
    """§4.2, §6.6: PUSH_PROMISE must hold the 4-byte promised stream ID."""
    conn = client()
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, frame(0x5, 0x4, 1, b"\x00\x00\x02"), mode)
    assert info.value.error_code == ErrorCode.FRAME_SIZE_ERROR


def test_priority_with_bad_length_is_a_stream_error(mode: str) -> None:
    """§6.3 (via §4.2): PRIORITY of a length other than 5 is a stream error FRAME_SIZE_ERROR."""
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST))
    conn.data_to_send()
    got = feed(conn, frame(0x2, 0, 1, b"\x00\x00\x00\x00"), mode)
    assert rst_codes(conn.data_to_send()) == {1: ErrorCode.FRAME_SIZE_ERROR}
    assert [(type(e), e.stream_id, e.error_code, e.remote_reset) for e in got] == [  # type: ignore[attr-defined]
        (events.StreamReset, 1, ErrorCode.FRAME_SIZE_ERROR, False)
    ]


# -- §4.3: field section compression and decompression ---------------------------

UNDECODABLE = {
    "index-0": b"\x80",
    "index-past-table": b"\xbe",
    "huge-index": b"\xff\xff\xff\xff\xff\x0f",
    "truncated-integer": b"\xff",
    "truncated-name": b"\x00\x05ab",
    "truncated-value": b"\x00\x01a\x05bc",
    "bad-huffman": b"\x00\x81\xff\x01a",
    "table-size-above-setting": b"\x3f\xe1\xff\x03",
    "table-size-update-late": b"\x82\x20",
}


@pytest.mark.parametrize("block", UNDECODABLE.values(), ids=UNDECODABLE.keys())
def test_undecodable_header_block_is_compression_error(block: bytes, mode: str) -> None:
    """§4.3: a field block that cannot be decompressed is a connection error COMPRESSION_ERROR."""
    conn = server()
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, frame(0x1, 0x5, 1, block), mode)
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.COMPRESSION_ERROR


def test_undecodable_block_split_over_continuation(mode: str) -> None:
    conn = server()
    good = hpack.Encoder().encode(REQUEST)
    wire = frame(0x1, 0x0, 1, good) + frame(0x9, 0x0, 1, b"\x00\x05") + frame(0x9, 0x4, 1, b"ab")
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_undecodable_trailers_are_compression_error(mode: str) -> None:
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST))
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, frame(0x1, 0x5, 1, b"\x80"), mode)  # index 0 never exists
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_undecodable_push_promise_is_compression_error(mode: str) -> None:
    conn = client()
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, frame(0x5, 0x4, 1, struct.pack(">L", 2) + b"\xbe"), mode)
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_header_block_of_a_reset_stream_is_still_decoded(mode: str) -> None:
    """§4.3: blocks on discarded streams are still processed, keeping HPACK in sync.

    Stream 1 was reset by us; its trailers add a dynamic-table entry that the
    request on stream 3 refers to.
    """
    conn = server()
    encoder = hpack.Encoder()
    conn.receive_data(headers_frame(1, REQUEST, encoder=encoder))
    conn.reset_stream(1, ErrorCode.CANCEL)
    conn.data_to_send()
    trailers = headers_frame(1, [(b"x-trace", b"abc123")], end_stream=True, encoder=encoder)
    request = headers_frame(3, REQUEST + [(b"x-trace", b"abc123")], end_stream=True, encoder=encoder)
    got = feed(conn, trailers + request, mode)
    assert kinds(got) == [events.RequestReceived, events.StreamEnded]
    assert got[0].headers[-1] == (b"x-trace", b"abc123")  # type: ignore[attr-defined]
    assert conn.data_to_send() == b""


def test_header_block_of_a_reset_stream_is_checked(mode: str) -> None:
    """§4.3: a bad block is a COMPRESSION_ERROR even on a stream we reset."""
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST))
    conn.reset_stream(1, ErrorCode.CANCEL)
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, frame(0x1, 0x5, 1, b"\x80"), mode)  # index 0 never exists
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_header_block_over_continuations(mode: str) -> None:
    """§4.3: HEADERS + CONTINUATION frames carry one field block."""
    conn = server()
    block = hpack.Encoder().encode(REQUEST + [(b"x-long", b"q" * 300)])
    wire = (
        frame(0x1, 0x1, 1, block[:10])  # END_STREAM, no END_HEADERS
        + frame(0x9, 0x0, 1, block[10:100])
        + frame(0x9, 0x4, 1, block[100:])
        + frame(0x6, 0, 0, PING_PAYLOAD)
    )
    got = feed(conn, wire, mode)
    assert kinds(got) == [events.RequestReceived, events.StreamEnded, events.PingReceived]
    assert got[0].headers[-1] == (b"x-long", b"q" * 300)  # type: ignore[attr-defined]


INTERLEAVED = {
    "ping": frame(0x6, 0, 0, PING_PAYLOAD),
    "settings": settings(),
    "data-same-stream": data_frame(1, b"x"),
    "headers-other-stream": headers_frame(3, REQUEST),
    "continuation-other-stream": frame(0x9, 0x4, 3, b""),
    "priority-same-stream": frame(0x2, 0, 1, struct.pack(">LB", 0, 15)),
    "rst-stream-same-stream": rst_stream(1, ErrorCode.CANCEL),
    "window-update": window_update(0, 100),
    "unknown-type": frame(0xBB, 0, 0, b""),
    "unknown-type-same-stream": frame(0xBB, 0, 1, b""),
}


@pytest.mark.parametrize("intruder", INTERLEAVED.values(), ids=INTERLEAVED.keys())
def test_frames_interleaved_in_a_header_block(intruder: bytes, mode: str) -> None:
    """§4.3, §6.10: a field block is contiguous; anything else in it is a PROTOCOL_ERROR."""
    conn = server()
    block = hpack.Encoder().encode(REQUEST)
    wire = frame(0x6, 0, 0, PING_PAYLOAD) + frame(0x1, 0x0, 1, block[:5]) + intruder + frame(0x9, 0x4, 1, block[5:])
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert kinds(info.value.events) == [events.PingReceived]
    assert goaway_code(conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("intruder", [frame(0x6, 0, 0, PING_PAYLOAD), frame(0xBB, 0, 0, b""), frame(0x9, 0x4, 3, b"")], ids=["ping", "unknown", "continuation-other-stream"])
def test_frames_interleaved_in_a_push_promise_block(intruder: bytes, mode: str) -> None:
    conn = client()
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    block = hpack.Encoder().encode(REQUEST)
    wire = frame(0x5, 0x0, 1, struct.pack(">L", 2) + block[:3]) + intruder + frame(0x9, 0x4, 1, block[3:])
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR


def test_push_promise_block_over_continuation(mode: str) -> None:
    conn = client()
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    block = hpack.Encoder().encode(REQUEST)
    wire = frame(0x5, 0x0, 1, struct.pack(">L", 2) + block[:3]) + frame(0x9, 0x4, 1, block[3:])
    got = feed(conn, wire, mode)
    assert [(type(e), e.pushed_stream_id) for e in got] == [(events.PushedStreamReceived, 2)]  # type: ignore[attr-defined]


def test_settings_header_table_size_zero_is_honoured(mode: str) -> None:
    """§4.3 / RFC 7541 §4.2: after our SETTINGS_HEADER_TABLE_SIZE is acknowledged,
    the peer's next block MUST start with a table size update; without it the
    block cannot be decoded (COMPRESSION_ERROR)."""
    conn = server(header_table_size=0)
    encoder = hpack.Encoder()  # still believes the table holds 4096 bytes
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, headers_frame(1, REQUEST + [(b"x-a", b"b")], encoder=encoder), mode)
    assert info.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_settings_header_table_size_zero_with_size_update(mode: str) -> None:
    conn = server(header_table_size=0)
    encoder = hpack.Encoder()
    encoder.header_table_size = 0  # emits the size update at the start of the next block
    got = feed(conn, headers_frame(1, REQUEST + [(b"x-a", b"b")], end_stream=True, encoder=encoder), mode)
    assert kinds(got) == [events.RequestReceived, events.StreamEnded]
    assert got[0].headers[-1] == (b"x-a", b"b")  # type: ignore[attr-defined]
