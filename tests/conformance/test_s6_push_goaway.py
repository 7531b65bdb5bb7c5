"""RFC 9113 §6.6 PUSH_PROMISE, §6.8 GOAWAY and §7 error codes."""

from __future__ import annotations

import struct

import hpack
import pytest
from hyperframe.frame import Frame as OracleFrame

from h2lite import ErrorCode, LocalProtocolError, Setting, events

from ..helpers import (
    REQUEST,
    RESPONSE,
    SETTINGS_ACK,
    frame,
    goaway,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    rst_stream,
    settings,
)
from ._s6_support import (
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PADDED,
    PUSH_PROMISE,
    Peer,
    connection_error,
    frames_of,
    of_type,
    padded,
    peer,  # noqa: F401  (fixture)
)

PUSHED_REQUEST = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"example.org"),
    (b":path", b"/style.css"),
]
MAX_STREAM_ID = 2**31 - 1


def push_promise(p: Peer, stream_id: int, promised: int, headers: list[tuple[bytes, bytes]] = PUSHED_REQUEST) -> bytes:
    return frame(PUSH_PROMISE, END_HEADERS, stream_id, struct.pack(">L", promised) + p.block(headers))


def client_with_request(**config: object) -> Peer:
    """A client whose request on stream 1 is sent (END_STREAM) and awaits its response."""
    p = Peer("client", **config)
    p.conn.send_headers(1, REQUEST, end_stream=True)
    p.conn.data_to_send()
    return p


# -- §6.6 PUSH_PROMISE, received ---------------------------------------------------


def test_server_receiving_push_promise_is_a_connection_error() -> None:
    """§6.6, §8.4: a client cannot push; a server MUST treat PUSH_PROMISE as PROTOCOL_ERROR."""
    p = Peer("server")
    p.open_stream()
    exc, out = connection_error(p.conn, push_promise(p, 1, 2))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_push_promise_after_push_was_disabled_and_acknowledged_is_a_connection_error() -> None:
    """§6.6: a client that set ENABLE_PUSH 0 and got the ACK MUST treat PUSH_PROMISE as PROTOCOL_ERROR."""
    p = client_with_request(enable_push=False)  # the handshake included the server's ACK
    assert p.conn.local_settings.enable_push == 0
    exc, out = connection_error(p.conn, push_promise(p, 1, 2))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_push_disabled_later_takes_effect_only_when_acknowledged() -> None:
    """§6.5.3, §6.6: before the ACK a promise may cross our SETTINGS; after it, it is an error."""
    p = client_with_request()
    p.conn.update_settings({Setting.ENABLE_PUSH: 0})
    p.conn.data_to_send()
    p.conn.receive_data(push_promise(p, 1, 2))  # crossed our SETTINGS: not a connection error
    assert goaway_code(p.conn.data_to_send()) is None
    p.conn.receive_data(SETTINGS_ACK)
    exc, out = connection_error(p.conn, push_promise(p, 1, 4))
    assert goaway_code(out) == exc.error_code == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("promised", [3, 0])
def test_promised_stream_id_must_be_even_and_nonzero(promised: int) -> None:
    """§5.1.1, §6.6: a server-initiated (even) new stream ID is required; otherwise PROTOCOL_ERROR."""
    p = client_with_request()
    exc, out = connection_error(p.conn, push_promise(p, 1, promised))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("second", [2, 4])
def test_promised_stream_ids_must_increase(second: int) -> None:
    """§5.1.1, §6.6: a promised stream ID not above every earlier one is PROTOCOL_ERROR."""
    p = client_with_request()
    p.conn.receive_data(push_promise(p, 1, 6))
    exc, out = connection_error(p.conn, push_promise(p, 1, second))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_push_promise_on_stream_0_is_a_connection_error() -> None:
    """§6.6: PUSH_PROMISE is associated with a client request; stream 0 is PROTOCOL_ERROR."""
    p = client_with_request()
    exc, out = connection_error(p.conn, push_promise(p, 0, 2))
    assert goaway_code(out) == exc.error_code == ErrorCode.PROTOCOL_ERROR


def test_push_promise_reports_the_promise_and_reserves_the_stream() -> None:
    """§6.6: PushedStreamReceived carries both stream IDs and the promised request."""
    p = client_with_request()
    evs = p.conn.receive_data(push_promise(p, 1, 2))
    assert [(type(e), e.pushed_stream_id, e.parent_stream_id, e.headers) for e in evs] == [
        (events.PushedStreamReceived, 2, 1, PUSHED_REQUEST)
    ]
    assert p.conn.data_to_send() == b""
    # §5.1: a reserved (remote) stream does not count as open.
    assert p.conn.open_inbound_streams == 0


@pytest.mark.parametrize("parent", ["idle", "closed"])
def test_push_promise_on_a_stream_that_cannot_receive_is_a_connection_error(parent: str) -> None:
    """§6.6: PUSH_PROMISE on a stream neither open nor half-closed (local) MUST be PROTOCOL_ERROR."""
    p = client_with_request()
    if parent == "closed":
        p.conn.receive_data(headers_frame(1, RESPONSE, end_stream=True, encoder=p.encoder))
        parent_id = 1
    else:
        parent_id = 3
    exc, out = connection_error(p.conn, push_promise(p, parent_id, 2))
    assert goaway_code(out) == exc.error_code == ErrorCode.PROTOCOL_ERROR


def test_window_update_on_a_reserved_remote_stream_is_a_connection_error() -> None:
    """§5.1, §6.6: a promised stream (reserved (remote)) may only receive HEADERS, RST_STREAM, PRIORITY."""
    p = client_with_request()
    p.conn.receive_data(push_promise(p, 1, 2))
    exc, out = connection_error(p.conn, frame(0x8, 0, 2, struct.pack(">L", 10)))
    assert goaway_code(out) == exc.error_code == ErrorCode.PROTOCOL_ERROR


def test_client_may_reset_a_promised_stream() -> None:
    """§6.6, §8.4: a client refuses a push with RST_STREAM on the promised stream; late frames are ignored."""
    p = client_with_request()
    p.conn.receive_data(push_promise(p, 1, 2))
    p.conn.reset_stream(2, ErrorCode.CANCEL)
    assert rst_codes(p.conn.data_to_send()) == {2: ErrorCode.CANCEL}
    assert p.conn.receive_data(headers_frame(2, RESPONSE, encoder=p.encoder) + frame(DATA, END_STREAM, 2, b"x")) == []
    assert not rst_codes(p.conn.data_to_send())  # §5.1: no reply to frames after our RST_STREAM


def test_padded_push_promise_is_read_without_padding() -> None:
    """§6.6: PADDED PUSH_PROMISE has Pad Length, the promised ID, the fragment, then padding."""
    p = client_with_request()
    payload = padded(p.block(PUSHED_REQUEST), 6, prefix=struct.pack(">L", 2))
    [pushed] = p.conn.receive_data(frame(PUSH_PROMISE, END_HEADERS | PADDED, 1, payload))
    assert (pushed.pushed_stream_id, pushed.headers) == (2, PUSHED_REQUEST)


def test_pushed_response_arrives_on_the_promised_stream() -> None:
    """§6.6, §8.4: the response to a promise comes as HEADERS and DATA on the promised stream."""
    p = client_with_request()
    p.conn.receive_data(push_promise(p, 1, 2))
    evs = p.conn.receive_data(
        headers_frame(2, RESPONSE, encoder=p.encoder) + frame(DATA, END_STREAM, 2, b"body { }")
    )
    assert [type(e) for e in evs] == [events.ResponseReceived, events.DataReceived, events.StreamEnded]
    assert all(e.stream_id == 2 for e in evs)
    assert evs[0].headers == RESPONSE
    assert evs[1].data == b"body { }"
    # The parent stream is untouched and still gets its own response.
    evs = p.conn.receive_data(headers_frame(1, RESPONSE, end_stream=True, encoder=p.encoder))
    assert [type(e) for e in evs] == [events.ResponseReceived, events.StreamEnded]


# -- §6.6 PUSH_PROMISE, sent -------------------------------------------------------


def server_with_request() -> Peer:
    """A server that received a GET on stream 1 (END_STREAM) and has not answered yet."""
    p = Peer("server")
    p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    return p


def test_push_stream_sends_a_well_formed_push_promise() -> None:
    """§6.6: PUSH_PROMISE on the request's stream, promised even ID, then the request's field block."""
    p = server_with_request()
    promised = p.conn.get_next_available_stream_id()
    assert promised == 2
    p.conn.push_stream(1, promised, PUSHED_REQUEST)
    data = p.conn.data_to_send()
    oracle, length = OracleFrame.parse_frame_header(memoryview(data[:9]))
    oracle.parse_body(memoryview(data[9 : 9 + length]))
    assert len(data) == 9 + length
    assert (oracle.type, oracle.stream_id, oracle.promised_stream_id) == (PUSH_PROMISE, 1, 2)
    assert set(oracle.flags) == {"END_HEADERS"}
    assert hpack.Decoder().decode(oracle.data, raw=True) == PUSHED_REQUEST
    # The promised stream is reserved (local): the response goes on stream 2.
    p.conn.send_headers(2, RESPONSE)
    p.conn.send_data(2, b"pushed", end_stream=True)
    out = parse_frames(p.conn.data_to_send())
    assert [(t, s) for t, f, s, _ in out] == [(HEADERS, 2), (DATA, 2)]
    assert p.conn.get_next_available_stream_id() == 4


def test_push_stream_is_refused_when_the_client_disabled_push() -> None:
    """§6.5.2, §6.6: PUSH_PROMISE MUST NOT be sent when the peer's ENABLE_PUSH is 0."""
    p = Peer("server")
    p.conn.receive_data(settings((Setting.ENABLE_PUSH, 0)))
    p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    p.conn.data_to_send()
    with pytest.raises(LocalProtocolError):
        p.conn.push_stream(1, 2, PUSHED_REQUEST)
    assert p.conn.data_to_send() == b""
    # Nothing was consumed: the response still goes out.
    p.conn.send_headers(1, RESPONSE, end_stream=True)
    assert [(t, s) for t, f, s, _ in parse_frames(p.conn.data_to_send())] == [(HEADERS, 1)]


def test_push_stream_refused_for_a_client() -> None:
    """§8.4: only servers push."""
    p = client_with_request()
    with pytest.raises(LocalProtocolError):
        p.conn.push_stream(1, 2, PUSHED_REQUEST)
    assert p.conn.data_to_send() == b""


def test_push_stream_refused_after_the_clients_goaway() -> None:
    """§6.8: a receiver of GOAWAY MUST NOT open additional streams, pushed ones included."""
    p = server_with_request()
    p.conn.receive_data(goaway(0, ErrorCode.NO_ERROR))
    with pytest.raises(LocalProtocolError):
        p.conn.push_stream(1, 2, PUSHED_REQUEST)
    assert p.conn.data_to_send() == b""
    p.conn.send_headers(1, RESPONSE, end_stream=True)  # the request in flight still finishes
    assert frames_of(p.conn.data_to_send(), HEADERS)


# -- §6.8 GOAWAY ---------------------------------------------------------------------


def test_goaway_on_a_stream_is_a_connection_error(peer: Peer) -> None:
    """§6.8: GOAWAY with a stream identifier other than 0 MUST be PROTOCOL_ERROR."""
    sid = peer.open_stream()
    exc, out = connection_error(peer.conn, frame(GOAWAY, 0, sid, struct.pack(">LL", 0, 0)))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("length", [0, 4, 7])
def test_goaway_too_short_is_a_connection_error(peer: Peer, length: int) -> None:
    """§4.2, §6.8: GOAWAY needs its 8 octets of Last-Stream-ID and Error Code."""
    exc, out = connection_error(peer.conn, frame(GOAWAY, 0, 0, bytes(length)))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


def test_goaway_reports_code_last_stream_and_debug_data(peer: Peer) -> None:
    """§6.8: ConnectionTerminated carries the error code, last stream ID and additional data."""
    evs = peer.conn.receive_data(goaway(0, ErrorCode.ENHANCE_YOUR_CALM, b"slow down"))
    [term] = evs
    assert isinstance(term, events.ConnectionTerminated)
    assert (term.error_code, term.last_stream_id, term.additional_data) == (ErrorCode.ENHANCE_YOUR_CALM, 0, b"slow down")


def test_goaway_reserved_bit_of_last_stream_id_is_ignored(peer: Peer) -> None:
    """§6.8: Last-Stream-ID is 31 bits after a reserved bit."""
    [term] = peer.conn.receive_data(frame(GOAWAY, 0, 0, bytes.fromhex("80000000 00000000")))
    assert term.last_stream_id == 0


def test_goaway_refuses_our_streams_above_last_stream_id() -> None:
    """§6.8: streams above Last-Stream-ID were not processed; they are closed as REFUSED_STREAM."""
    p = Peer("client")
    for sid in (1, 3, 5):
        p.conn.send_headers(sid, REQUEST, end_stream=True)
    p.conn.data_to_send()
    evs = p.conn.receive_data(goaway(3, ErrorCode.NO_ERROR, b"bye"))
    assert isinstance(evs[0], events.ConnectionTerminated)
    assert (evs[0].error_code, evs[0].last_stream_id) == (ErrorCode.NO_ERROR, 3)
    assert [(e.stream_id, e.error_code) for e in of_type(evs, events.StreamReset)] == [(5, ErrorCode.REFUSED_STREAM)]
    assert p.conn.data_to_send() == b""  # nothing to reset on the wire: the peer ignores stream 5
    # Streams at or below Last-Stream-ID may still complete (§6.8).
    evs = p.conn.receive_data(headers_frame(3, RESPONSE, end_stream=True, encoder=p.encoder))
    assert [type(e) for e in evs] == [events.ResponseReceived, events.StreamEnded]


def test_no_new_streams_after_goaway(peer: Peer) -> None:
    """§6.8: receivers of GOAWAY MUST NOT open additional streams."""
    peer.conn.receive_data(goaway(MAX_STREAM_ID, ErrorCode.NO_ERROR))
    if peer.role == "client":
        with pytest.raises(LocalProtocolError):
            peer.conn.send_headers(1, REQUEST, end_stream=True)
    else:
        peer.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=peer.encoder))
        with pytest.raises(LocalProtocolError):
            peer.conn.push_stream(1, 2, PUSHED_REQUEST)
    assert peer.conn.data_to_send() == b""


def test_goaway_may_lower_but_not_raise_last_stream_id() -> None:
    """§6.8: an endpoint MUST NOT increase Last-Stream-ID in later GOAWAY frames."""
    p = Peer("client")
    p.conn.receive_data(goaway(MAX_STREAM_ID, ErrorCode.NO_ERROR) + goaway(5, ErrorCode.NO_ERROR))
    exc, out = connection_error(p.conn, goaway(7, ErrorCode.NO_ERROR))
    assert goaway_code(out) == exc.error_code == ErrorCode.PROTOCOL_ERROR


def test_send_shutdown_notice_sends_goaway_with_the_maximum_stream_id() -> None:
    """§6.8: the first phase of a graceful shutdown: GOAWAY 2^31-1 NO_ERROR; new streams still accepted."""
    p = Peer("server")
    p.conn.send_shutdown_notice()
    assert parse_frames(p.conn.data_to_send()) == [(GOAWAY, 0, 0, struct.pack(">LL", MAX_STREAM_ID, 0))]
    evs = p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    assert of_type(evs, events.RequestReceived)


def test_two_phase_shutdown() -> None:
    """§6.8: GOAWAY with the last processed stream; streams up to it finish, later ones are ignored."""
    p = Peer("server")
    p.conn.send_shutdown_notice()
    p.conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=p.encoder))
    p.conn.receive_data(headers_frame(3, REQUEST, encoder=p.encoder))  # request body still to come
    p.conn.data_to_send()
    p.conn.close_connection()
    assert parse_frames(p.conn.data_to_send()) == [(GOAWAY, 0, 0, struct.pack(">LL", 3, 0))]
    # A stream the client opened before it saw our GOAWAY is ignored: no events, no RST,
    # but its header block still updates the HPACK context (§4.3).
    late = REQUEST + [(b"x-late", b"indexed now")]
    assert p.conn.receive_data(headers_frame(5, late, end_stream=True, encoder=p.encoder)) == []
    assert p.conn.receive_data(frame(DATA, END_STREAM, 5, b"ignored")) == []
    assert not rst_codes(p.conn.data_to_send())
    # Stream 3 finishes; its trailers refer to the entry stream 5's block put in the dynamic table.
    evs = p.conn.receive_data(frame(DATA, 0, 3, b"upload") + headers_frame(3, [(b"x-late", b"indexed now")], end_stream=True, encoder=p.encoder))
    assert [type(e) for e in evs] == [events.DataReceived, events.TrailersReceived, events.StreamEnded]
    assert evs[1].headers == [(b"x-late", b"indexed now")]
    for sid in (1, 3):
        p.conn.send_headers(sid, RESPONSE, end_stream=True)
    assert [(t, s) for t, f, s, _ in parse_frames(p.conn.data_to_send())] == [(HEADERS, 1), (HEADERS, 3)]


def test_close_connection_with_an_error_code_and_data() -> None:
    """§6.8: GOAWAY carries the error code and opaque debug data."""
    p = Peer("server")
    p.open_stream()
    p.conn.close_connection(ErrorCode.INTERNAL_ERROR, additional_data=b"oops")
    assert parse_frames(p.conn.data_to_send()) == [(GOAWAY, 0, 0, struct.pack(">LL", 1, 2) + b"oops")]


def test_client_close_connection_reports_last_pushed_stream() -> None:
    """§6.8: Last-Stream-ID is the last peer-initiated stream processed (for a client: a push)."""
    p = client_with_request()
    p.conn.receive_data(push_promise(p, 1, 2))
    p.conn.close_connection()
    [(ftype, _, _, payload)] = parse_frames(p.conn.data_to_send())
    assert ftype == GOAWAY and struct.unpack(">LL", payload) == (2, 0)


# -- §7 error codes ----------------------------------------------------------------


def test_unknown_error_code_in_rst_stream_is_delivered_as_an_int(peer: Peer) -> None:
    """§7: unknown error codes MUST NOT trigger special behaviour; the value is passed on."""
    sid = peer.open_stream()
    [reset] = peer.conn.receive_data(rst_stream(sid, 0xDEADBEEF))
    assert reset.error_code == 0xDEADBEEF and type(reset.error_code) is int
    assert reset.remote_reset is True
    assert peer.conn.data_to_send() == b""


def test_unknown_error_code_in_goaway_is_delivered_as_an_int(peer: Peer) -> None:
    """§7: an unknown code in GOAWAY is reported, not raised."""
    [term] = peer.conn.receive_data(goaway(0, 0x1FF, b"?"))
    assert term.error_code == 0x1FF and type(term.error_code) is int
    assert peer.conn.data_to_send() == b""


def test_known_error_codes_are_delivered_as_enum_members(peer: Peer) -> None:
    """§7: the registered codes map to ErrorCode."""
    sid = peer.open_stream()
    [reset] = peer.conn.receive_data(rst_stream(sid, 0xD))
    assert reset.error_code is ErrorCode.HTTP_1_1_REQUIRED


def test_we_can_send_any_error_code(peer: Peer) -> None:
    """§7: error codes are a 32-bit field; the API accepts values not in the registry."""
    sid = peer.open_stream()
    peer.conn.reset_stream(sid, 0xABCDEF)
    assert rst_codes(peer.conn.data_to_send()) == {sid: 0xABCDEF}
