"""RFC 9113 §5: streams and multiplexing — stream states (§5.1), identifiers
(§5.1.1), concurrency (§5.1.2), flow control (§5.2, with §6.9), error handling
(§5.4) and extensions (§5.5)."""

from __future__ import annotations

import struct
from typing import Any, Callable

import hpack
import pytest

from h2lite import (
    Config,
    Connection,
    ErrorCode,
    FlowControlError,
    LocalProtocolError,
    NoAvailableStreamIDError,
    RemoteProtocolError,
    StreamClosedError,
    TooManyStreamsError,
    events,
)
from h2lite.codes import CLIENT_PREFACE

from ..helpers import (
    FEED_MODES,
    ConnectionPair,
    REQUEST,
    RESPONSE,
    client,
    data_frame,
    feed,
    frame,
    goaway_code,
    goaway_fields,
    headers_frame,
    parse_frames,
    push_promise,
    rst_codes,
    rst_stream,
    server,
    settings,
    window_update,
)

MAX_STREAM_ID = 2**31 - 1
PING = frame(0x6, 0, 0, b"pingpong")


@pytest.fixture(params=FEED_MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def kinds(got: list[events.Event]) -> list[type]:
    return [type(e) for e in got]


def priority(stream_id: int, depends_on: int = 0) -> bytes:
    return frame(0x2, 0, stream_id, struct.pack(">LB", depends_on, 15))


def continuation(stream_id: int) -> bytes:
    return frame(0x9, 0x4, stream_id, hpack.Encoder().encode(REQUEST))


def assert_connection_error(conn: Connection, wire: bytes, mode: str, code: ErrorCode) -> RemoteProtocolError:
    """The peer's bytes break a connection rule: raise, and GOAWAY with ``code`` is queued."""
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert info.value.error_code == code
    assert goaway_code(conn.data_to_send()) == code
    return info.value


def assert_stream_error(
    conn: Connection, wire: bytes, mode: str, stream_id: int, code: ErrorCode, live: bool = True
) -> list[events.Event]:
    """The peer's bytes break a stream rule: RST_STREAM with ``code``, no GOAWAY.

    A stream the application still knows (``live``) also gets a StreamReset
    event; for one already closed, the application was told already.
    """
    got = feed(conn, wire, mode)
    out = conn.data_to_send()
    assert rst_codes(out) == {stream_id: code}
    assert goaway_code(out) is None
    resets = [(e.stream_id, e.error_code, e.remote_reset) for e in got if isinstance(e, events.StreamReset)]
    if live:
        assert resets == [(stream_id, code, False)]
    else:
        assert resets in ([], [(stream_id, code, False)])
    return got


def assert_ignored(conn: Connection, wire: bytes, mode: str) -> None:
    """Nothing happens: no event, no RST_STREAM, no GOAWAY (credit may be returned)."""
    assert feed(conn, wire, mode) == []
    out = conn.data_to_send()
    assert {t for t, f, s, p in parse_frames(out)} <= {0x8}


def assert_still_usable(conn: Connection, next_stream: int) -> None:
    """The connection still works: a PING is answered and a new stream opens/answers."""
    if conn.client_side:
        conn.send_headers(next_stream, REQUEST, end_stream=True)
        assert 0x1 in {t for t, f, s, p in parse_frames(conn.data_to_send())}
    else:
        got = conn.receive_data(headers_frame(next_stream, REQUEST, end_stream=True))
        assert kinds(got) == [events.RequestReceived, events.StreamEnded]
        conn.send_headers(next_stream, RESPONSE, end_stream=True)
        conn.data_to_send()
    assert kinds(conn.receive_data(PING)) == [events.PingReceived]
    conn.data_to_send()


def server_with_request(end_stream: bool, **config: Any) -> Connection:
    conn = server(**config)
    conn.receive_data(headers_frame(1, REQUEST, end_stream=end_stream))
    conn.data_to_send()
    return conn


def client_with_request(end_stream: bool, **config: Any) -> Connection:
    conn = client(**config)
    conn.send_headers(1, REQUEST, end_stream=end_stream)
    conn.data_to_send()
    return conn


# -- §5.1 idle ---------------------------------------------------------------------

NOT_ALLOWED_ON_IDLE = {
    "data": lambda sid: data_frame(sid, b"x"),
    "rst-stream": lambda sid: rst_stream(sid, ErrorCode.CANCEL),
    "window-update": lambda sid: window_update(sid, 100),
    "continuation": continuation,
}


@pytest.mark.parametrize("make", NOT_ALLOWED_ON_IDLE.values(), ids=NOT_ALLOWED_ON_IDLE.keys())
@pytest.mark.parametrize("stream_id", [1, 5, 2], ids=["first", "above-open", "server-even"])
def test_server_idle_stream_frames(make: Callable[[int], bytes], stream_id: int, mode: str) -> None:
    """§5.1 idle: any frame but HEADERS or PRIORITY is a connection error PROTOCOL_ERROR."""
    conn = server()
    if stream_id != 1:
        conn.receive_data(headers_frame(1, REQUEST))
        conn.data_to_send()
    assert_connection_error(conn, make(stream_id), mode, ErrorCode.PROTOCOL_ERROR)


@pytest.mark.parametrize("make", NOT_ALLOWED_ON_IDLE.values(), ids=NOT_ALLOWED_ON_IDLE.keys())
@pytest.mark.parametrize("stream_id", [1, 3, 2], ids=["own-unused", "own-above-open", "server-even"])
def test_client_idle_stream_frames(make: Callable[[int], bytes], stream_id: int, mode: str) -> None:
    conn = client()
    if stream_id != 1:
        conn.send_headers(1, REQUEST, end_stream=True)
        conn.data_to_send()
    assert_connection_error(conn, make(stream_id), mode, ErrorCode.PROTOCOL_ERROR)


def test_client_idle_even_stream_cannot_be_opened_by_headers(mode: str) -> None:
    """§5.1.1 / §8.4: a server opens streams only through PUSH_PROMISE."""
    conn = client_with_request(end_stream=True)
    assert_connection_error(conn, headers_frame(2, RESPONSE), mode, ErrorCode.PROTOCOL_ERROR)


def test_push_promise_on_idle_stream(mode: str) -> None:
    """§6.6: PUSH_PROMISE associated with a stream that is not open or half-closed (local)."""
    conn = client_with_request(end_stream=True)
    assert_connection_error(conn, push_promise(3, 2, REQUEST), mode, ErrorCode.PROTOCOL_ERROR)


def test_priority_on_idle_stream_is_allowed(mode: str) -> None:
    """§5.1 idle: PRIORITY may be received; the stream stays idle and opens later."""
    conn = server()
    got = feed(conn, priority(5) + priority(3, depends_on=5) + headers_frame(3, REQUEST) + headers_frame(5, REQUEST), mode)
    assert [(type(e), e.stream_id) for e in got] == [(events.RequestReceived, 3), (events.RequestReceived, 5)]  # type: ignore[attr-defined]
    assert goaway_code(conn.data_to_send()) is None


# -- §5.1 reserved (local) / reserved (remote) ------------------------------------------


def server_with_push() -> Connection:
    """A server that promised stream 2 on request stream 1: 2 is reserved (local)."""
    conn = server_with_request(end_stream=True)
    conn.push_stream(1, 2, REQUEST)
    conn.data_to_send()
    return conn


@pytest.mark.parametrize("wire", [data_frame(2, b"x"), headers_frame(2, REQUEST), push_promise(2, 4, REQUEST)], ids=["data", "headers", "push-promise"])
def test_reserved_local_rejects_frames(wire: bytes, mode: str) -> None:
    """§5.1 reserved (local): only RST_STREAM, PRIORITY and WINDOW_UPDATE may be received."""
    conn = server_with_push()
    assert_connection_error(conn, wire, mode, ErrorCode.PROTOCOL_ERROR)


def test_reserved_local_accepts_window_update_and_priority(mode: str) -> None:
    conn = server_with_push()
    got = feed(conn, window_update(2, 1000) + priority(2), mode)
    assert got == [events.WindowUpdated(stream_id=2, delta=1000)]
    conn.send_headers(2, RESPONSE, end_stream=True)  # the push still goes ahead
    assert 0x1 in {t for t, f, s, p in parse_frames(conn.data_to_send())}


def test_reserved_local_accepts_rst_stream(mode: str) -> None:
    conn = server_with_push()
    got = feed(conn, rst_stream(2, ErrorCode.CANCEL), mode)
    assert got == [events.StreamReset(stream_id=2, error_code=ErrorCode.CANCEL, remote_reset=True)]
    assert conn.data_to_send() == b""
    with pytest.raises(StreamClosedError):
        conn.send_headers(2, RESPONSE)


def client_with_promise() -> tuple[Connection, hpack.Encoder]:
    """A client that received a promise of stream 2: 2 is reserved (remote)."""
    conn = client_with_request(end_stream=True)
    encoder = hpack.Encoder()
    conn.receive_data(push_promise(1, 2, REQUEST, encoder))
    conn.data_to_send()
    return conn, encoder


@pytest.mark.parametrize("wire", [data_frame(2, b"x"), window_update(2, 1000)], ids=["data", "window-update"])
def test_reserved_remote_rejects_frames(wire: bytes, mode: str) -> None:
    """§5.1 reserved (remote): only HEADERS, RST_STREAM and PRIORITY may be received."""
    conn, _ = client_with_promise()
    assert_connection_error(conn, wire, mode, ErrorCode.PROTOCOL_ERROR)


def test_reserved_remote_accepts_headers_priority_rst(mode: str) -> None:
    conn, encoder = client_with_promise()
    conn.receive_data(push_promise(1, 4, REQUEST, encoder))
    wire = priority(2) + headers_frame(2, RESPONSE, encoder=encoder) + data_frame(2, b"pushed", end_stream=True)
    wire += priority(4) + rst_stream(4, ErrorCode.CANCEL)
    got = feed(conn, wire, mode)
    assert [(type(e), getattr(e, "stream_id", None)) for e in got] == [
        (events.ResponseReceived, 2),
        (events.DataReceived, 2),
        (events.StreamEnded, 2),
        (events.StreamReset, 4),
    ]
    assert goaway_code(conn.data_to_send()) is None


# -- §5.1 half-closed (local) ------------------------------------------------------------


def test_half_closed_local_receives_everything(mode: str) -> None:
    """§5.1 half-closed (local): an endpoint can receive any type of frame."""
    conn = client_with_request(end_stream=True)
    wire = (
        headers_frame(1, RESPONSE)
        + window_update(1, 10)
        + priority(1)
        + data_frame(1, b"body")
        + headers_frame(1, [(b"x-trailer", b"1")], end_stream=True)
    )
    got = feed(conn, wire, mode)
    assert kinds(got) == [
        events.ResponseReceived,
        events.WindowUpdated,
        events.DataReceived,
        events.TrailersReceived,
        events.StreamEnded,
    ]


# -- §5.1 half-closed (remote) ------------------------------------------------------------


@pytest.mark.parametrize("wire", [data_frame(1, b"late"), headers_frame(1, [(b"x-trailer", b"1")], end_stream=True)], ids=["data", "headers"])
def test_half_closed_remote_data_or_headers_is_stream_closed(wire: bytes, mode: str) -> None:
    """§5.1 half-closed (remote): frames other than WINDOW_UPDATE, PRIORITY, RST_STREAM
    are a stream error STREAM_CLOSED."""
    conn = server_with_request(end_stream=True)
    assert_stream_error(conn, wire, mode, 1, ErrorCode.STREAM_CLOSED)
    with pytest.raises(StreamClosedError):
        conn.send_headers(1, RESPONSE)
    # Later frames on the stream we reset are ignored (§5.1 closed).
    assert_ignored(conn, data_frame(1, b"later"), mode)
    assert_still_usable(conn, 3)


def test_half_closed_remote_on_client(mode: str) -> None:
    """The same rule when the server ended its side first."""
    conn = client_with_request(end_stream=False)
    conn.receive_data(headers_frame(1, RESPONSE, end_stream=True))
    conn.data_to_send()
    assert_stream_error(conn, data_frame(1, b"late"), mode, 1, ErrorCode.STREAM_CLOSED)
    assert_still_usable(conn, 3)


def test_half_closed_remote_accepts_window_update_priority_rst(mode: str) -> None:
    conn = server_with_request(end_stream=True)
    got = feed(conn, window_update(1, 5) + priority(1) + rst_stream(1, ErrorCode.CANCEL), mode)
    assert got == [
        events.WindowUpdated(stream_id=1, delta=5),
        events.StreamReset(stream_id=1, error_code=ErrorCode.CANCEL, remote_reset=True),
    ]
    assert conn.data_to_send() == b""


# -- §5.1 closed ---------------------------------------------------------------------------

AFTER_OUR_RESET = {
    "data": data_frame(1, b"in flight"),
    "headers": headers_frame(1, [(b"x-trailer", b"1")], end_stream=True),
    "window-update": window_update(1, 10),
    "rst-stream": rst_stream(1, ErrorCode.CANCEL),
    "priority": priority(1),
}


@pytest.mark.parametrize("wire", AFTER_OUR_RESET.values(), ids=AFTER_OUR_RESET.keys())
@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_closed_after_rst_sent_ignores_frames(client_side: bool, wire: bytes, mode: str) -> None:
    """§5.1 closed: frames received after we sent RST_STREAM MUST be ignored."""
    conn = client_with_request(end_stream=False) if client_side else server_with_request(end_stream=False)
    if client_side:
        conn.receive_data(headers_frame(1, RESPONSE))
    conn.reset_stream(1, ErrorCode.CANCEL)
    conn.data_to_send()
    assert_ignored(conn, wire + wire, mode)
    assert_still_usable(conn, 3)


AFTER_PEER_RESET = {
    # §6.1: DATA on a stream that is not open or half-closed (local) MUST get STREAM_CLOSED.
    "data": data_frame(1, b"x"),
    # §5.1 closed: other frames MAY be a connection error; h2lite resets just the stream.
    "headers": headers_frame(1, [(b"x-trailer", b"1")], end_stream=True),
}


@pytest.mark.parametrize("wire", AFTER_PEER_RESET.values(), ids=AFTER_PEER_RESET.keys())
@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_closed_after_rst_received_is_stream_closed(client_side: bool, wire: bytes, mode: str) -> None:
    """§5.1 closed, §6.1: DATA or HEADERS after the peer's RST_STREAM get STREAM_CLOSED."""
    if client_side:
        conn = client_with_request(end_stream=False)
        conn.receive_data(headers_frame(1, RESPONSE) + rst_stream(1, ErrorCode.INTERNAL_ERROR))
    else:
        conn = server_with_request(end_stream=False)
        conn.receive_data(rst_stream(1, ErrorCode.CANCEL))
    conn.data_to_send()
    assert_stream_error(conn, wire, mode, 1, ErrorCode.STREAM_CLOSED, live=False)
    assert_still_usable(conn, 3)


def test_closed_after_rst_received_priority_and_rst_get_no_answer(mode: str) -> None:
    """§5.1 closed: PRIORITY is allowed; §5.4.2: RST_STREAM is never answered with RST_STREAM."""
    conn = server_with_request(end_stream=False)
    conn.receive_data(rst_stream(1, ErrorCode.CANCEL))
    conn.data_to_send()
    assert_ignored(conn, priority(1) + rst_stream(1, ErrorCode.CANCEL), mode)


def test_push_promise_on_a_stream_we_reset(mode: str) -> None:
    """§5.1 closed: a PUSH_PROMISE that crossed our RST_STREAM is processed minimally —
    its block is decoded and the promised stream reserved, then refused — and the
    connection survives; the pushed response is then ignored."""
    conn = client_with_request(end_stream=True)
    conn.reset_stream(1, ErrorCode.CANCEL)
    conn.data_to_send()
    encoder = hpack.Encoder()
    assert feed(conn, push_promise(1, 2, REQUEST + [(b"x-push", b"1")], encoder), mode) == []
    out = conn.data_to_send()
    assert set(rst_codes(out)) == {2} and goaway_code(out) is None
    assert_ignored(conn, headers_frame(2, RESPONSE, encoder=encoder) + data_frame(2, b"x", end_stream=True), mode)
    # HPACK stayed in sync through the discarded blocks.
    conn.send_headers(3, REQUEST, end_stream=True)
    conn.data_to_send()
    got = feed(conn, headers_frame(3, RESPONSE + [(b"x-push", b"1")], end_stream=True, encoder=encoder), mode)
    assert kinds(got) == [events.ResponseReceived, events.StreamEnded]


def test_discarded_data_still_counts_toward_connection_window(mode: str) -> None:
    """§5.1 closed, §6.9: DATA on a closed stream counts toward the connection window;
    h2lite returns that credit so the connection does not starve."""
    conn = server_with_request(end_stream=False, auto_flow_control=False)
    conn.reset_stream(1, ErrorCode.CANCEL)
    conn.data_to_send()
    feed(conn, data_frame(1, b"d" * 16384) * 4, mode)
    out = parse_frames(conn.data_to_send())
    assert {t for t, f, s, p in out} == {0x8}
    assert sum(struct.unpack(">L", p)[0] for t, f, s, p in out if s == 0) == 4 * 16384
    got = feed(conn, headers_frame(3, REQUEST) + data_frame(3, b"e" * 16384) * 3, mode)
    assert sum(len(e.data) for e in got if isinstance(e, events.DataReceived)) == 3 * 16384


def closed_both_ways(client_side: bool) -> Connection:
    if client_side:
        conn = client_with_request(end_stream=True)
        conn.receive_data(headers_frame(1, RESPONSE, end_stream=True))
    else:
        conn = server_with_request(end_stream=True)
        conn.send_headers(1, RESPONSE, end_stream=True)
    conn.data_to_send()
    return conn


@pytest.mark.parametrize("wire", [data_frame(1, b"x"), headers_frame(1, [(b"x-trailer", b"1")], end_stream=True)], ids=["data", "headers"])
@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_closed_after_end_stream_is_connection_stream_closed(client_side: bool, wire: bytes, mode: str) -> None:
    """§5.1 closed: frames other than PRIORITY on a stream closed both ways MAY be a
    connection error STREAM_CLOSED (§6.1 asks at least a stream error for DATA);
    h2lite takes the connection error, as the stream can no longer be in flight."""
    conn = closed_both_ways(client_side)
    assert_connection_error(conn, wire, mode, ErrorCode.STREAM_CLOSED)


@pytest.mark.parametrize("wire", [window_update(1, 10), rst_stream(1, ErrorCode.NO_ERROR), priority(1)], ids=["window-update", "rst-stream", "priority"])
@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_closed_after_end_stream_tolerates_late_control_frames(client_side: bool, wire: bytes, mode: str) -> None:
    """§5.1 closed: WINDOW_UPDATE or RST_STREAM may arrive shortly after our END_STREAM;
    PRIORITY may arrive on any closed stream."""
    conn = closed_both_ways(client_side)
    assert_ignored(conn, wire, mode)
    assert_still_usable(conn, 3)


# -- §5.1.1 stream identifiers ---------------------------------------------------------------


@pytest.mark.parametrize("stream_id", [2, 4, 0x7FFFFFFE])
def test_client_opening_even_stream(stream_id: int, mode: str) -> None:
    """§5.1.1: client-initiated streams MUST use odd identifiers."""
    conn = server()
    assert_connection_error(conn, headers_frame(stream_id, REQUEST), mode, ErrorCode.PROTOCOL_ERROR)


def test_headers_on_stream_zero(mode: str) -> None:
    conn = server()
    assert_connection_error(conn, headers_frame(0, REQUEST), mode, ErrorCode.PROTOCOL_ERROR)


@pytest.mark.parametrize("split", [False, True], ids=["one-read", "two-reads"])
def test_decreasing_stream_id(split: bool, mode: str) -> None:
    """§5.1.1: a new stream ID MUST exceed all the peer opened; else PROTOCOL_ERROR."""
    conn = server()
    first = headers_frame(5, REQUEST)
    if split:
        feed(conn, first, mode)
        conn.data_to_send()
        first = b""
    exc = assert_connection_error(conn, first + headers_frame(3, REQUEST), mode, ErrorCode.PROTOCOL_ERROR)
    assert [type(e) for e in exc.events] == ([] if split else [events.RequestReceived])


def test_lower_idle_streams_are_implicitly_closed(mode: str) -> None:
    """§5.1.1: opening stream 5 closes idle stream 3; DATA on 3 is STREAM_CLOSED (§6.1)."""
    conn = server()
    conn.receive_data(headers_frame(5, REQUEST))
    conn.data_to_send()
    assert_stream_error(conn, data_frame(3, b"x"), mode, 3, ErrorCode.STREAM_CLOSED, live=False)


def test_highest_stream_id_is_usable(mode: str) -> None:
    conn = server()
    got = feed(conn, headers_frame(MAX_STREAM_ID, REQUEST, end_stream=True), mode)
    assert [(type(e), e.stream_id) for e in got] == [(events.RequestReceived, MAX_STREAM_ID), (events.StreamEnded, MAX_STREAM_ID)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("promised", [3, 0], ids=["odd", "zero"])
def test_push_promise_with_invalid_promised_id(promised: int, mode: str) -> None:
    """§5.1.1, §6.6: a promised stream ID must be a new even ID."""
    conn = client_with_request(end_stream=True)
    assert_connection_error(conn, push_promise(1, promised, REQUEST), mode, ErrorCode.PROTOCOL_ERROR)


def test_push_promise_with_decreasing_promised_id(mode: str) -> None:
    conn = client_with_request(end_stream=True)
    encoder = hpack.Encoder()
    conn.receive_data(push_promise(1, 4, REQUEST, encoder))
    assert_connection_error(conn, push_promise(1, 2, REQUEST, encoder), mode, ErrorCode.PROTOCOL_ERROR)


def test_client_stream_ids_must_increase() -> None:
    """§5.1.1: we open streams with ascending odd IDs; the caller's mistake changes nothing."""
    conn = client()
    conn.send_headers(5, REQUEST, end_stream=True)
    conn.data_to_send()
    for bad in (3, 4, 5):
        with pytest.raises(LocalProtocolError):
            conn.send_headers(bad, REQUEST)
    assert conn.data_to_send() == b""
    assert conn.get_next_available_stream_id() == 7
    conn.send_headers(7, REQUEST, end_stream=True)


def test_client_stream_id_exhaustion(mode: str) -> None:
    """§5.1.1: stream IDs cannot be reused; when exhausted, no new stream can be opened."""
    conn = client()
    conn.send_headers(MAX_STREAM_ID, REQUEST, end_stream=True)
    frames = parse_frames(conn.data_to_send())
    assert [(t, s) for t, f, s, p in frames] == [(0x1, MAX_STREAM_ID)]
    with pytest.raises(NoAvailableStreamIDError) as info:
        conn.get_next_available_stream_id()
    assert isinstance(info.value, LocalProtocolError)
    with pytest.raises(LocalProtocolError):
        conn.send_headers(MAX_STREAM_ID, REQUEST)
    with pytest.raises(ValueError):
        conn.send_headers(MAX_STREAM_ID + 2, REQUEST)
    assert conn.data_to_send() == b""
    # The connection still serves the last stream.
    got = feed(conn, headers_frame(MAX_STREAM_ID, RESPONSE) + data_frame(MAX_STREAM_ID, b"done", end_stream=True), mode)
    assert kinds(got) == [events.ResponseReceived, events.DataReceived, events.StreamEnded]
    conn.ping(b"stillok!")
    assert parse_frames(conn.data_to_send())[-1][0] == 0x6


def test_server_push_id_exhaustion() -> None:
    conn = server_with_request(end_stream=True)
    conn.push_stream(1, MAX_STREAM_ID - 1, REQUEST)
    conn.data_to_send()
    with pytest.raises(NoAvailableStreamIDError):
        conn.get_next_available_stream_id()
    conn.send_headers(MAX_STREAM_ID - 1, RESPONSE, end_stream=True)
    conn.send_headers(1, RESPONSE, end_stream=True)
    assert {s for t, f, s, p in parse_frames(conn.data_to_send())} == {1, MAX_STREAM_ID - 1}


# -- §5.1.2 stream concurrency ------------------------------------------------------------


def test_excess_stream_is_refused_alone(mode: str) -> None:
    """§5.1.2: a stream above our MAX_CONCURRENT_STREAMS is refused (REFUSED_STREAM);
    the other streams go on."""
    conn = server(max_concurrent_streams=2)
    encoder = hpack.Encoder()
    wire = (
        headers_frame(1, REQUEST, encoder=encoder)
        + headers_frame(3, REQUEST, end_stream=True, encoder=encoder)  # half-closed still counts
        + headers_frame(5, REQUEST + [(b"x-id", b"five")], encoder=encoder)
    )
    got = feed(conn, wire, mode)
    assert [(type(e), getattr(e, "stream_id", None)) for e in got] == [
        (events.RequestReceived, 1),
        (events.RequestReceived, 3),
        (events.StreamEnded, 3),
        (events.StreamReset, 5),
    ]
    assert got[-1] == events.StreamReset(stream_id=5, error_code=ErrorCode.REFUSED_STREAM, remote_reset=False)
    assert rst_codes(conn.data_to_send()) == {5: ErrorCode.REFUSED_STREAM}
    # The refused stream's DATA is ignored; the others carry on.
    got = feed(conn, data_frame(5, b"ignored") + data_frame(1, b"body", end_stream=True), mode)
    assert [(type(e), e.stream_id) for e in got] == [(events.DataReceived, 1), (events.StreamEnded, 1)]  # type: ignore[attr-defined]
    conn.send_headers(1, RESPONSE, end_stream=True)
    out = conn.data_to_send()
    assert rst_codes(out) == {} and goaway_code(out) is None
    # A slot is free again; HPACK state survived the refused block (x-id is indexed).
    got = feed(conn, headers_frame(7, REQUEST + [(b"x-id", b"five")], end_stream=True, encoder=encoder), mode)
    assert kinds(got) == [events.RequestReceived, events.StreamEnded]
    assert got[0].headers[-1] == (b"x-id", b"five")  # type: ignore[attr-defined]


def test_our_limit_applies_after_acknowledgement(mode: str) -> None:
    """§6.5.3: until the peer acknowledges our SETTINGS, the initial (unlimited) value holds."""
    conn = Connection(Config(client_side=False, max_concurrent_streams=1))
    conn.initiate_connection()
    conn.receive_data(CLIENT_PREFACE + settings())
    got = feed(conn, headers_frame(1, REQUEST) + headers_frame(3, REQUEST), mode)
    assert kinds(got) == [events.RequestReceived, events.RequestReceived]


def test_pushed_streams_count_once_started(mode: str) -> None:
    """§5.1.2: reserved streams do not count; a pushed response above our limit is refused."""
    conn = client_with_request(end_stream=True, max_concurrent_streams=1)
    encoder = hpack.Encoder()
    wire = push_promise(1, 2, REQUEST, encoder) + push_promise(1, 4, REQUEST, encoder)
    wire += headers_frame(2, RESPONSE, encoder=encoder) + headers_frame(4, RESPONSE, encoder=encoder)
    got = feed(conn, wire, mode)
    assert [(type(e).__name__, getattr(e, "stream_id", None) or getattr(e, "pushed_stream_id", None)) for e in got] == [
        ("PushedStreamReceived", 2),
        ("PushedStreamReceived", 4),
        ("ResponseReceived", 2),
        ("StreamReset", 4),
    ]
    assert rst_codes(conn.data_to_send()) == {4: ErrorCode.REFUSED_STREAM}


def test_peer_limit_is_respected(mode: str) -> None:
    """§5.1.2: an endpoint MUST NOT exceed the limit set by its peer."""
    conn = client()
    feed(conn, settings((0x3, 1)), mode)
    conn.data_to_send()
    conn.send_headers(1, REQUEST)
    with pytest.raises(TooManyStreamsError) as info:
        conn.send_headers(3, REQUEST)
    assert isinstance(info.value, LocalProtocolError)
    out = conn.data_to_send()
    assert [s for t, f, s, p in parse_frames(out)] == [1]
    # Still usable: the open stream works, and ID 3 is still the next one.
    conn.send_data(1, b"body", end_stream=True)
    assert conn.get_next_available_stream_id() == 3
    feed(conn, headers_frame(1, RESPONSE, end_stream=True), mode)
    conn.send_headers(3, REQUEST, end_stream=True)
    assert (0x1, 3) in [(t, s) for t, f, s, p in parse_frames(conn.data_to_send())]


def test_peer_limit_zero(mode: str) -> None:
    conn = client()
    feed(conn, settings((0x3, 0)), mode)
    with pytest.raises(TooManyStreamsError):
        conn.send_headers(1, REQUEST)
    conn.ping(b"12345678")


def test_peer_limit_applies_to_pushes() -> None:
    """§5.1.2: pushed streams count once their response starts (reserved ones do not)."""
    conn = server()
    conn.receive_data(settings((0x3, 1)) + headers_frame(1, REQUEST, end_stream=True))
    conn.data_to_send()
    conn.push_stream(1, 2, REQUEST)
    conn.push_stream(1, 4, REQUEST)
    conn.send_headers(2, RESPONSE)
    with pytest.raises(TooManyStreamsError):
        conn.send_headers(4, RESPONSE)
    conn.send_data(2, b"pushed", end_stream=True)
    conn.send_headers(4, RESPONSE, end_stream=True)


# -- §5.3.1 stream dependencies ------------------------------------------------------------


def test_headers_depending_on_itself(mode: str) -> None:
    """§5.3.1: a stream cannot depend on itself — a stream error PROTOCOL_ERROR."""
    conn = server()
    block = hpack.Encoder().encode(REQUEST)
    wire = frame(0x1, 0x25, 1, struct.pack(">LB", 1, 15) + block)  # END_STREAM | END_HEADERS | PRIORITY
    assert_stream_error(conn, wire, mode, 1, ErrorCode.PROTOCOL_ERROR)
    assert_still_usable(conn, 3)


def test_priority_depending_on_itself(mode: str) -> None:
    conn = server()
    feed(conn, priority(3, depends_on=3), mode)
    out = conn.data_to_send()
    assert rst_codes(out) == {3: ErrorCode.PROTOCOL_ERROR} and goaway_code(out) is None
    assert_still_usable(conn, 5)


# -- §5.2 / §6.9 flow control ----------------------------------------------------------------


def test_data_beyond_connection_window(mode: str) -> None:
    """§6.9.1: a sender MUST NOT exceed the connection window; the receiver answers
    with a connection error FLOW_CONTROL_ERROR."""
    conn = server(auto_flow_control=False, initial_window_size=2**20)
    wire = headers_frame(1, REQUEST) + headers_frame(3, REQUEST)
    wire += data_frame(1, b"a" * 16384) * 2 + data_frame(3, b"b" * 16384) + data_frame(3, b"c" * 16383)
    got = feed(conn, wire, mode)
    assert sum(e.flow_controlled_length for e in got if isinstance(e, events.DataReceived)) == 65535
    exc = assert_connection_error(conn, data_frame(1, b"!"), mode, ErrorCode.FLOW_CONTROL_ERROR)
    assert isinstance(exc, FlowControlError)


def test_data_beyond_stream_window(mode: str) -> None:
    """§6.9.1: overrunning a stream window is a stream error FLOW_CONTROL_ERROR."""
    conn = server_with_request(end_stream=False, auto_flow_control=False, initial_window_size=100)
    assert kinds(feed(conn, data_frame(1, b"x" * 100), mode)) == [events.DataReceived]
    assert_stream_error(conn, data_frame(1, b"y"), mode, 1, ErrorCode.FLOW_CONTROL_ERROR)
    assert_still_usable(conn, 3)


def test_padding_counts_toward_flow_control(mode: str) -> None:
    """§6.1: the whole DATA payload, padding included, is flow controlled."""
    conn = server(auto_flow_control=False, initial_window_size=100)
    wire = headers_frame(1, REQUEST) + data_frame(1, b"d" * 49, pad_length=50)  # 1 + 49 + 50 = 100
    got = feed(conn, wire, mode)
    assert [(e.data, e.flow_controlled_length) for e in got if isinstance(e, events.DataReceived)] == [(b"d" * 49, 100)]
    # The 49 data bytes stay consumed until the application acknowledges them
    # (whatever credit h2lite gives back at once for the padding).
    assert conn.remote_flow_control_window(1) <= 51
    feed(conn, headers_frame(3, REQUEST), mode)
    conn.data_to_send()
    assert_stream_error(conn, data_frame(3, b"d" * 50, pad_length=50), mode, 3, ErrorCode.FLOW_CONTROL_ERROR)


def test_padding_counts_toward_connection_window(mode: str) -> None:
    """§6.1, §6.9.1: 65,300 data bytes fit the 65,535 connection window; with 255
    bytes of padding (and the pad length byte) the frame overruns it."""
    conn = server(auto_flow_control=False, initial_window_size=2**20, max_frame_size=2**17)
    feed(conn, headers_frame(1, REQUEST) + headers_frame(3, REQUEST), mode)
    conn.data_to_send()
    got = feed(conn, data_frame(1, b"d" * 65300), mode)
    assert [e.flow_controlled_length for e in got] == [65300]  # type: ignore[attr-defined]
    conn = server(auto_flow_control=False, initial_window_size=2**20, max_frame_size=2**17)
    feed(conn, headers_frame(1, REQUEST), mode)
    conn.data_to_send()
    assert_connection_error(conn, data_frame(1, b"d" * 65300, pad_length=255), mode, ErrorCode.FLOW_CONTROL_ERROR)


def test_initial_window_before_settings_ack(mode: str) -> None:
    """§6.9.2: until our SETTINGS is acknowledged, the peer may use the 65,535 default."""
    conn = Connection(Config(client_side=False, initial_window_size=100, auto_flow_control=False))
    conn.initiate_connection()
    conn.receive_data(CLIENT_PREFACE + settings())
    got = feed(conn, headers_frame(1, REQUEST) + data_frame(1, b"z" * 1000, end_stream=True), mode)
    assert kinds(got) == [events.RequestReceived, events.DataReceived, events.StreamEnded]


def test_we_never_exceed_the_peer_windows(mode: str) -> None:
    """§5.2.1, §6.9.1: we send no more DATA than the peer's windows allow."""
    conn = client()
    feed(conn, settings((0x4, 1000)), mode)
    conn.data_to_send()
    conn.send_headers(1, REQUEST)
    conn.send_data(1, b"q" * 5000, end_stream=True)
    sent = [p for t, f, s, p in parse_frames(conn.data_to_send()) if t == 0x0]
    assert sum(len(p) for p in sent) == 1000
    assert conn.outbound_buffer_size(1) == 4000
    feed(conn, window_update(1, 4000), mode)
    frames = [(f, p) for t, f, s, p in parse_frames(conn.data_to_send()) if t == 0x0]
    assert sum(len(p) for f, p in frames) == 4000 and frames[-1][0] & 0x1


def test_window_update_overflow_on_connection(mode: str) -> None:
    """§6.9.1: a window above 2^31-1 on the connection is a FLOW_CONTROL_ERROR."""
    conn = server()
    assert_connection_error(conn, window_update(0, 2**31 - 1), mode, ErrorCode.FLOW_CONTROL_ERROR)


def test_window_update_overflow_on_stream(mode: str) -> None:
    """§6.9.1: ... and on a stream, a stream error FLOW_CONTROL_ERROR."""
    conn = server_with_request(end_stream=True)
    assert_stream_error(conn, window_update(1, 2**31 - 1), mode, 1, ErrorCode.FLOW_CONTROL_ERROR)
    assert_still_usable(conn, 3)


def test_window_update_zero(mode: str) -> None:
    """§6.9: a zero increment is a stream error on a stream, a connection error on stream 0."""
    conn = server_with_request(end_stream=True)
    assert_stream_error(conn, window_update(1, 0), mode, 1, ErrorCode.PROTOCOL_ERROR)
    assert_connection_error(conn, window_update(0, 0), mode, ErrorCode.PROTOCOL_ERROR)


# -- §5.4 error handling -------------------------------------------------------------------------


def test_goaway_names_last_peer_stream(mode: str) -> None:
    """§5.4.1, §6.8: the GOAWAY for a connection error carries the last peer stream processed."""
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True) + headers_frame(5, REQUEST))
    conn.send_headers(1, RESPONSE, end_stream=True)
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError):
        feed(conn, data_frame(9, b"idle"), mode)
    fields = goaway_fields(conn.data_to_send())
    assert fields is not None and fields[:2] == (5, ErrorCode.PROTOCOL_ERROR)


def test_goaway_last_stream_zero_when_nothing_processed(mode: str) -> None:
    conn = client_with_request(end_stream=True)
    with pytest.raises(RemoteProtocolError):
        feed(conn, data_frame(3, b"idle"), mode)
    fields = goaway_fields(conn.data_to_send())
    assert fields is not None and fields[:2] == (0, ErrorCode.PROTOCOL_ERROR)


def test_goaway_last_stream_on_client_counts_pushes(mode: str) -> None:
    conn, _ = client_with_promise()
    with pytest.raises(RemoteProtocolError):
        feed(conn, data_frame(2, b"reserved"), mode)
    fields = goaway_fields(conn.data_to_send())
    assert fields is not None and fields[0] == 2


def test_events_before_the_violation_are_kept(mode: str) -> None:
    """§5.4.1 + DESIGN: exc.events holds what the same input produced before the error;
    nothing after the violation is processed."""
    conn = server()
    wire = (
        headers_frame(1, REQUEST)
        + data_frame(1, b"body")
        + PING
        + window_update(0, 10)
        + data_frame(9, b"on an idle stream")
        + headers_frame(11, REQUEST)
    )
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, wire, mode)
    assert kinds(info.value.events) == [
        events.RequestReceived,
        events.DataReceived,
        events.PingReceived,
        events.WindowUpdated,
    ]
    frames = parse_frames(conn.data_to_send())
    assert frames[-1][0] == 0x7  # GOAWAY last, after the PING ACK already queued
    assert (0x6, 0x1) in [(t, f) for t, f, s, p in frames]


def test_connection_is_dead_after_a_connection_error(mode: str) -> None:
    """§5.4.1: after a connection error the endpoint stops; further use is the caller's error."""
    conn = server()
    with pytest.raises(RemoteProtocolError):
        feed(conn, data_frame(1, b"idle"), mode)
    assert goaway_code(conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR
    with pytest.raises(LocalProtocolError) as info:
        conn.receive_data(PING)
    assert not isinstance(info.value, RemoteProtocolError)
    assert "closed" in str(info.value)
    with pytest.raises(LocalProtocolError):
        conn.send_headers(1, RESPONSE)
    with pytest.raises(LocalProtocolError):
        conn.ping(b"12345678")
    assert conn.want_read is False
    assert conn.data_to_send() == b""  # one GOAWAY only


def test_stream_error_leaves_connection_usable(mode: str) -> None:
    """§5.4.2: a stream error resets only that stream."""
    conn = server()
    feed(conn, headers_frame(1, REQUEST) + headers_frame(3, REQUEST, end_stream=True), mode)
    conn.data_to_send()
    assert_stream_error(conn, data_frame(3, b"x"), mode, 3, ErrorCode.STREAM_CLOSED)
    got = feed(conn, data_frame(1, b"fine", end_stream=True), mode)
    assert kinds(got) == [events.DataReceived, events.StreamEnded]


def test_unknown_error_codes_trigger_nothing_special(mode: str) -> None:
    """§7: unknown error codes MUST NOT trigger special behaviour."""
    conn = server_with_request(end_stream=False)
    got = feed(conn, rst_stream(1, 0xDEAD), mode)
    assert got == [events.StreamReset(stream_id=1, error_code=0xDEAD, remote_reset=True)]
    assert conn.data_to_send() == b""
    assert_still_usable(conn, 3)


# -- §5.5 extending HTTP/2 ------------------------------------------------------------------------


@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_unknown_settings_are_ignored(client_side: bool, mode: str) -> None:
    """§5.5, §6.5.2: an endpoint MUST ignore settings it does not understand."""
    conn = client() if client_side else server()
    got = feed(conn, settings((0x99, 7), (0xFFFF, 0xFFFFFFFF), (0x3, 50)), mode)
    assert kinds(got) == [events.RemoteSettingsChanged]
    assert conn.remote_settings.max_concurrent_streams == 50
    assert parse_frames(conn.data_to_send()) == [(0x4, 0x1, 0, b"")]


@pytest.mark.parametrize(
    "stream_id, setup",
    [(0, "none"), (7, "none"), (1, "open"), (1, "closed"), (1, "reset")],
    ids=["stream-0", "idle", "open", "closed", "reset-sent"],
)
def test_unknown_frames_ignored_in_every_state(stream_id: int, setup: str, mode: str) -> None:
    """§5.5: unknown frame types are ignored whatever the stream's state."""
    conn = server()
    if setup != "none":
        conn.receive_data(headers_frame(1, REQUEST, end_stream=setup == "closed"))
        if setup == "closed":
            conn.send_headers(1, RESPONSE, end_stream=True)
        elif setup == "reset":
            conn.reset_stream(1)
        conn.data_to_send()
    got = feed(conn, frame(0xCC, 0x3, stream_id, b"ext"), mode)
    assert got == [events.UnknownFrameReceived(frame_type=0xCC, flags=0x3, stream_id=stream_id, payload=b"ext")]
    assert conn.data_to_send() == b""


def test_extension_frames_can_be_sent() -> None:
    """§5.5: extension frames go out as given and an h2lite peer reports them."""
    pair = ConnectionPair()
    pair.client.send_extension_frame(0xBB, 0x5, 0, b"hello")
    pair.client.send_headers(1, REQUEST)
    pair.client.send_extension_frame(0xBC, 0, 1, b"")
    _, server_events = pair.pump()
    unknown = [e for e in server_events if isinstance(e, events.UnknownFrameReceived)]
    assert unknown == [
        events.UnknownFrameReceived(frame_type=0xBB, flags=0x5, stream_id=0, payload=b"hello"),
        events.UnknownFrameReceived(frame_type=0xBC, flags=0, stream_id=1, payload=b""),
    ]


def test_extension_frame_wire_format() -> None:
    conn = client()
    conn.send_extension_frame(0xF0, 0x81, 3, b"\x00\x01")
    assert conn.data_to_send() == bytes.fromhex("000002 f0 81 00000003 0001")


@pytest.mark.parametrize(
    "args, error",
    [
        ((0x0, 0, 1, b""), ValueError),  # DATA is defined: use send_data
        ((0x4, 0, 0, b""), ValueError),
        ((256, 0, 0, b""), ValueError),
        ((0xBB, 256, 0, b""), ValueError),
        ((0xBB, 0, -1, b""), ValueError),
        ((0xBB, 0, 0, b"x" * 16385), ValueError),  # above the peer's SETTINGS_MAX_FRAME_SIZE
        ((0xBB, 0, 0, "text"), TypeError),
    ],
    ids=["data", "settings", "type-256", "flags-256", "stream-negative", "too-long", "str-payload"],
)
def test_extension_frame_misuse(args: tuple, error: type) -> None:  # type: ignore[type-arg]
    conn = client()
    with pytest.raises(error):
        conn.send_extension_frame(*args)
    assert conn.data_to_send() == b""
    conn.send_extension_frame(0xBB, 0, 0, b"ok")
