"""RFC 9113 §8: responses (and pushed requests) received by an h2lite client.

A malformed response is a stream error of type PROTOCOL_ERROR (RFC 9113 §8.1.1):
the client queues RST_STREAM, reports ``StreamReset(remote_reset=False)``, sends
no GOAWAY, and its other streams carry on.
"""

from __future__ import annotations

import struct

import pytest

from h2lite import ErrorCode, LocalProtocolError, events

from ..helpers import REQUEST, RESPONSE, client, encode_headers, frame, goaway_code, headers_frame, rst_codes, server

DATA = 0x0
PUSH_PROMISE = 0x5
END_STREAM = 0x1
END_HEADERS = 0x4

STATUS_200 = (b":status", b"200")


def data_frame(stream_id: int, payload: bytes, end_stream: bool = False) -> bytes:
    return frame(DATA, END_STREAM if end_stream else 0, stream_id, payload)


def push_promise(stream_id: int, promised_stream_id: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    # RFC 9113 §6.6: R bit + promised stream ID, then the request's header block.
    payload = struct.pack(">L", promised_stream_id) + encode_headers(headers)
    return frame(PUSH_PROMISE, END_HEADERS, stream_id, payload)


def requested(method: bytes = b"GET", **config: object):  # type: ignore[no-untyped-def]
    """A client that has sent one complete request on stream 1."""
    conn = client(**config)
    conn.send_headers(1, [(b":method", method)] + REQUEST[1:], end_stream=True)
    conn.data_to_send()
    return conn


def assert_gets_responses(conn, stream_id: int) -> None:  # type: ignore[no-untyped-def]
    """A new request on ``stream_id`` goes out and its response comes back."""
    assert conn.get_next_available_stream_id() == stream_id
    conn.send_headers(stream_id, REQUEST, end_stream=True)
    assert conn.data_to_send()[3] == 0x1  # HEADERS
    received = conn.receive_data(headers_frame(stream_id, RESPONSE) + data_frame(stream_id, b"ok", end_stream=True))
    assert received == [
        events.ResponseReceived(stream_id=stream_id, headers=RESPONSE),
        events.DataReceived(stream_id=stream_id, data=b"ok", flow_controlled_length=2, end_stream=True),
        events.StreamEnded(stream_id=stream_id),
    ]
    assert goaway_code(conn.data_to_send()) is None


def assert_malformed(conn, wire: bytes, stream_id: int = 1) -> list[events.Event]:  # type: ignore[no-untyped-def]
    """``wire`` makes the response on ``stream_id`` malformed: a stream error only."""
    received = conn.receive_data(wire)
    assert received[-1] == events.StreamReset(
        stream_id=stream_id, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False
    )
    assert not any(isinstance(e, events.StreamEnded) for e in received)
    out = conn.data_to_send()
    assert rst_codes(out) == {stream_id: ErrorCode.PROTOCOL_ERROR}
    assert goaway_code(out) is None
    assert conn.open_outbound_streams == 0
    assert_gets_responses(conn, 3)
    return received


def assert_malformed_response(headers: list[tuple[bytes, bytes]], end_stream: bool = True) -> None:
    """A response header block refused before it is reported."""
    received = assert_malformed(requested(), headers_frame(1, headers, end_stream=end_stream))
    assert len(received) == 1


# -- §8.3.2 :status and pseudo-headers; §8.2 fields --------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"content-type", b"text/plain")], id="missing-status"),
        pytest.param([(b":status", b"")], id="empty-status"),
        pytest.param([(b":status", b"abc")], id="non-numeric-status"),
        pytest.param([(b":status", b"20")], id="two-digit-status"),
        pytest.param([(b":status", b"2000")], id="four-digit-status"),
        pytest.param([(b":status", b"099")], id="status-below-100"),
        pytest.param([(b":status", b"101")], id="switching-protocols"),
        pytest.param([STATUS_200, STATUS_200], id="duplicate-status"),
        pytest.param([STATUS_200, (b":method", b"GET")], id="request-pseudo-method"),
        pytest.param([STATUS_200, (b":path", b"/")], id="request-pseudo-path"),
        pytest.param([STATUS_200, (b":authority", b"example.org")], id="request-pseudo-authority"),
        pytest.param([STATUS_200, (b":foo", b"bar")], id="unknown-pseudo"),
        pytest.param([(b"server", b"x"), STATUS_200], id="pseudo-after-regular"),
        pytest.param([STATUS_200, (b"Content-Type", b"text/plain")], id="uppercase-name"),
        pytest.param([STATUS_200, (b"x-value", b"a\r\nb")], id="crlf-in-value"),
        pytest.param([STATUS_200, (b"x-value", b"ab ")], id="trailing-space"),
        pytest.param([STATUS_200, (b"connection", b"keep-alive")], id="connection"),
        pytest.param([STATUS_200, (b"transfer-encoding", b"chunked")], id="transfer-encoding"),
        pytest.param([STATUS_200, (b"upgrade", b"h2c")], id="upgrade"),
    ],
)
def test_malformed_response_headers(headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.3.2: exactly one :status, a three-digit code, and no request
    # pseudo-headers; §8.3: pseudo-headers first; §8.2.1/§8.2.2 as for requests;
    # §8.6: 101 is not used in HTTP/2.
    assert_malformed_response(headers)


def test_malformed_response_without_end_stream() -> None:
    # The stream error applies whether or not the peer ended the stream.
    assert_malformed_response([(b":status", b"101")], end_stream=False)


# -- §8.1 informational responses ------------------------------------------------


def test_informational_responses_precede_the_final_response() -> None:
    # RFC 9113 §8.1: zero or more 1xx header blocks, then the final response.
    conn = requested()
    received = conn.receive_data(
        headers_frame(1, [(b":status", b"100")])
        + headers_frame(1, [(b":status", b"103"), (b"link", b"</style.css>; rel=preload")])
        + headers_frame(1, [STATUS_200, (b"content-length", b"2")])
        + data_frame(1, b"ok", end_stream=True)
    )
    assert received == [
        events.InformationalResponseReceived(stream_id=1, headers=[(b":status", b"100")]),
        events.InformationalResponseReceived(
            stream_id=1, headers=[(b":status", b"103"), (b"link", b"</style.css>; rel=preload")]
        ),
        events.ResponseReceived(stream_id=1, headers=[STATUS_200, (b"content-length", b"2")]),
        events.DataReceived(stream_id=1, data=b"ok", flow_controlled_length=2, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert conn.data_to_send() == b""


def test_informational_response_with_end_stream_is_malformed() -> None:
    # RFC 9113 §8.1: a 1xx HEADERS frame carrying END_STREAM is malformed.
    assert_malformed_response([(b":status", b"103")], end_stream=True)


def test_data_after_informational_response_is_malformed() -> None:
    # RFC 9113 §8.1: content follows the final response's header section only.
    conn = requested()
    received = assert_malformed(conn, headers_frame(1, [(b":status", b"100")]) + data_frame(1, b"early"))
    assert not any(isinstance(e, events.DataReceived) for e in received)


# -- §8.1.1 content: HEAD, 204, 304, content-length -------------------------------


def test_head_response_with_data_is_malformed() -> None:
    # RFC 9110 §9.3.2 / RFC 9113 §8.1.1: a response to HEAD has no content.
    conn = requested(b"HEAD")
    received = assert_malformed(conn, headers_frame(1, RESPONSE) + data_frame(1, b"body", end_stream=True))
    assert received[0] == events.ResponseReceived(stream_id=1, headers=RESPONSE)
    assert not any(isinstance(e, events.DataReceived) for e in received)


def test_head_response_with_content_length_and_no_data_is_accepted() -> None:
    # RFC 9110 §8.6: content-length on a HEAD response describes the GET response.
    conn = requested(b"HEAD")
    headers = [STATUS_200, (b"content-length", b"1234")]
    received = conn.receive_data(headers_frame(1, headers, end_stream=True))
    assert received == [
        events.ResponseReceived(stream_id=1, headers=headers, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert rst_codes(conn.data_to_send()) == {}


@pytest.mark.parametrize("status", [b"204", b"304"])
def test_no_content_status_with_data_is_malformed(status: bytes) -> None:
    # RFC 9110 §15.3.5, §15.4.5: 204 and 304 responses have no content.
    conn = requested()
    assert_malformed(conn, headers_frame(1, [(b":status", status)]) + data_frame(1, b"body", end_stream=True))


@pytest.mark.parametrize("status", [b"204", b"304"])
def test_no_content_status_with_empty_data_is_accepted(status: bytes) -> None:
    conn = requested()
    received = conn.receive_data(headers_frame(1, [(b":status", status)]) + data_frame(1, b"", end_stream=True))
    assert received[-1] == events.StreamEnded(stream_id=1)
    assert rst_codes(conn.data_to_send()) == {}


def test_more_data_than_content_length_is_malformed() -> None:
    # RFC 9113 §8.1.1.
    conn = requested()
    wire = headers_frame(1, [STATUS_200, (b"content-length", b"3")]) + data_frame(1, b"abcd", end_stream=True)
    received = assert_malformed(conn, wire)
    assert not any(isinstance(e, events.DataReceived) for e in received)


def test_less_data_than_content_length_is_malformed() -> None:
    # RFC 9113 §8.1.1.
    conn = requested()
    wire = headers_frame(1, [STATUS_200, (b"content-length", b"3")]) + data_frame(1, b"ab", end_stream=True)
    assert_malformed(conn, wire)


def test_content_length_with_end_stream_on_headers_is_malformed() -> None:
    # RFC 9113 §8.1.1: a nonzero content-length and no DATA.
    conn = requested()
    assert_malformed(conn, headers_frame(1, [STATUS_200, (b"content-length", b"3")], end_stream=True))


# -- §8.1 trailers ------------------------------------------------------------------


def test_response_trailers() -> None:
    # RFC 9113 §8.1: a trailer section carrying END_STREAM ends the response.
    conn = requested()
    received = conn.receive_data(
        headers_frame(1, RESPONSE) + data_frame(1, b"body") + headers_frame(1, [(b"grpc-status", b"0")], end_stream=True)
    )
    assert received == [
        events.ResponseReceived(stream_id=1, headers=RESPONSE),
        events.DataReceived(stream_id=1, data=b"body", flow_controlled_length=4),
        events.TrailersReceived(stream_id=1, headers=[(b"grpc-status", b"0")]),
        events.StreamEnded(stream_id=1),
    ]


@pytest.mark.parametrize(
    ("trailers", "end_stream"),
    [
        pytest.param([(b"grpc-status", b"0")], False, id="without-end-stream"),
        pytest.param([STATUS_200], True, id="status-pseudo"),
        pytest.param([(b":path", b"/")], True, id="request-pseudo"),
        pytest.param([(b"connection", b"close")], True, id="connection-specific"),
    ],
)
def test_malformed_response_trailers(trailers: list[tuple[bytes, bytes]], end_stream: bool) -> None:
    # RFC 9113 §8.1: trailers end the stream and carry no pseudo-header fields;
    # a HEADERS frame without END_STREAM after the final response is malformed.
    conn = requested()
    wire = headers_frame(1, RESPONSE) + data_frame(1, b"body") + headers_frame(1, trailers, end_stream=end_stream)
    received = assert_malformed(conn, wire)
    assert not any(isinstance(e, events.TrailersReceived) for e in received)


def test_validation_off_delivers_malformed_responses() -> None:
    # Config(validate_inbound_headers=False): the application sees what was sent.
    conn = requested(validate_inbound_headers=False)
    headers = [STATUS_200, (b"Connection", b"close"), (b":path", b"/")]
    received = conn.receive_data(headers_frame(1, headers, end_stream=True))
    assert received == [
        events.ResponseReceived(stream_id=1, headers=headers, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert conn.data_to_send() == b""


# -- §8.4 server push ----------------------------------------------------------------

PUSHED_GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/style.css")]


def test_pushed_get_is_accepted() -> None:
    # RFC 9113 §8.4: a promised request is safe and cacheable, without content.
    conn = requested()
    received = conn.receive_data(push_promise(1, 2, PUSHED_GET))
    assert received == [events.PushedStreamReceived(pushed_stream_id=2, parent_stream_id=1, headers=PUSHED_GET)]
    received = conn.receive_data(headers_frame(2, RESPONSE) + data_frame(2, b"css", end_stream=True))
    assert received[0] == events.ResponseReceived(stream_id=2, headers=RESPONSE)
    assert received[-1] == events.StreamEnded(stream_id=2)


@pytest.mark.parametrize(
    "request_headers",
    [
        pytest.param([(b":method", b"POST")] + PUSHED_GET[1:], id="post"),
        pytest.param([(b":method", b"DELETE")] + PUSHED_GET[1:], id="delete"),
        pytest.param(PUSHED_GET + [(b"content-length", b"10")], id="get-with-content"),
        pytest.param(PUSHED_GET[:3], id="missing-path"),
        pytest.param(PUSHED_GET + [(b"connection", b"close")], id="connection-specific"),
    ],
)
def test_unacceptable_pushed_request_resets_the_promised_stream(request_headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.4: a promised request that is not safe (or is malformed) is a
    # stream error PROTOCOL_ERROR on the promised stream; the parent carries on.
    conn = requested()
    received = conn.receive_data(push_promise(1, 2, request_headers))
    assert received == [events.StreamReset(stream_id=2, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False)]
    out = conn.data_to_send()
    assert rst_codes(out) == {2: ErrorCode.PROTOCOL_ERROR}
    assert goaway_code(out) is None
    # A pushed response that crossed our RST_STREAM is ignored ...
    assert conn.receive_data(headers_frame(2, RESPONSE, end_stream=True)) == []
    # ... and the parent's response still arrives.
    received = conn.receive_data(headers_frame(1, RESPONSE, end_stream=True))
    assert received == [
        events.ResponseReceived(stream_id=1, headers=RESPONSE, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert goaway_code(conn.data_to_send()) is None


def test_server_cannot_push_an_unsafe_request() -> None:
    # RFC 9113 §8.4: the server MUST NOT promise a request that is not safe.
    conn = server()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    with pytest.raises(LocalProtocolError):
        conn.push_stream(1, 2, [(b":method", b"POST")] + PUSHED_GET[1:])
    with pytest.raises(LocalProtocolError):
        conn.push_stream(1, 2, PUSHED_GET + [(b"content-length", b"3")])
    assert conn.data_to_send() == b""
    # Nothing was reserved: stream 2 can still be promised.
    conn.push_stream(1, 2, PUSHED_GET)
    out = conn.data_to_send()
    assert out[3] == PUSH_PROMISE and struct.unpack(">L", out[9:13])[0] == 2
