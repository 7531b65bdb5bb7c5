"""RFC 9113 §8: requests received by an h2lite server.

A malformed request is a stream error of type PROTOCOL_ERROR (RFC 9113 §8.1.1):
the server queues RST_STREAM, reports ``StreamReset(remote_reset=False)``, sends
no GOAWAY, and goes on serving other streams.
"""

from __future__ import annotations

import struct

import pytest

from h2lite import Config, Connection, ErrorCode, events
from h2lite.codes import CLIENT_PREFACE

from ..helpers import REQUEST, RESPONSE, SETTINGS_ACK, frame, goaway_code, headers_frame, rst_codes, server, settings

DATA = 0x0
END_STREAM = 0x1
PADDED = 0x8
SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8

METHOD, SCHEME, AUTHORITY, PATH = REQUEST


def data_frame(stream_id: int, payload: bytes, end_stream: bool = False) -> bytes:
    return frame(DATA, END_STREAM if end_stream else 0, stream_id, payload)


def assert_serves(conn: Connection, stream_id: int) -> None:
    """A well-formed request on ``stream_id`` is accepted and can be answered."""
    received = conn.receive_data(headers_frame(stream_id, REQUEST, end_stream=True))
    assert received == [
        events.RequestReceived(stream_id=stream_id, headers=REQUEST, end_stream=True),
        events.StreamEnded(stream_id=stream_id),
    ]
    conn.send_headers(stream_id, RESPONSE, end_stream=True)
    out = conn.data_to_send()
    assert out[3] == 0x1 and struct.unpack(">L", out[5:9])[0] == stream_id  # a HEADERS frame
    assert goaway_code(out) is None


def assert_malformed(conn: Connection, wire: bytes, stream_id: int = 1) -> list[events.Event]:
    """``wire`` makes stream ``stream_id`` malformed: a stream error, not a connection error.

    Returns the events, for checks on what came before the reset.
    """
    received = conn.receive_data(wire)
    assert received[-1] == events.StreamReset(
        stream_id=stream_id, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False
    )
    assert not any(isinstance(e, events.StreamEnded) for e in received)
    out = conn.data_to_send()
    assert rst_codes(out) == {stream_id: ErrorCode.PROTOCOL_ERROR}
    assert goaway_code(out) is None
    assert conn.open_inbound_streams == 0
    assert_serves(conn, stream_id + 2)
    return received


def assert_malformed_request(headers: list[tuple[bytes, bytes]], **config: object) -> None:
    """A request header block that must be refused before it is reported."""
    received = assert_malformed(server(**config), headers_frame(1, headers, end_stream=True))
    assert len(received) == 1  # no RequestReceived for a malformed header block


def assert_accepted(headers: list[tuple[bytes, bytes]], **config: object) -> None:
    conn = server(**config)
    received = conn.receive_data(headers_frame(1, headers, end_stream=True))
    assert received == [
        events.RequestReceived(stream_id=1, headers=headers, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert conn.data_to_send() == b""


# -- §8.2.1 field validity ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(b"X-Upper", id="uppercase"),
        pytest.param(b"", id="empty"),
        pytest.param(b"x y", id="space"),
        pytest.param(b"x\x00y", id="nul"),
        pytest.param(b"x\ty", id="htab"),
        pytest.param(b"x\x7fy", id="del"),
        pytest.param(b"x\xffy", id="non-ascii"),
        pytest.param(b"x:y", id="colon-inside"),
        pytest.param(b"x\r\ny", id="crlf"),
    ],
)
def test_invalid_field_name_is_malformed(name: bytes) -> None:
    # RFC 9113 §8.2.1: names MUST NOT contain 0x00-0x20, 0x41-0x5a (A-Z) or
    # 0x7f-0xff, and only pseudo-header names may contain a colon.
    assert_malformed_request(REQUEST + [(name, b"v")])


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"a\x00b", id="nul"),
        pytest.param(b"a\rb", id="cr"),
        pytest.param(b"a\nb", id="lf"),
        pytest.param(b" ab", id="leading-space"),
        pytest.param(b"\tab", id="leading-htab"),
        pytest.param(b"ab ", id="trailing-space"),
        pytest.param(b"ab\t", id="trailing-htab"),
    ],
)
def test_invalid_field_value_is_malformed(value: bytes) -> None:
    # RFC 9113 §8.2.1: no NUL, CR or LF anywhere; no SP/HTAB at either end.
    assert_malformed_request(REQUEST + [(b"x-field", value)])


def test_invalid_pseudo_header_value_is_malformed() -> None:
    # RFC 9113 §8.2.1 applies to pseudo-header values too.
    assert_malformed_request([METHOD, SCHEME, AUTHORITY, (b":path", b"/a\nb")])


def test_valid_field_names_and_values_are_accepted() -> None:
    # RFC 9113 §8.2.1 forbids only the characters above: inner whitespace, an
    # empty value, token punctuation and obs-text in values are fine.
    assert_accepted(
        REQUEST
        + [
            (b"x-inner", b"a b\tc"),
            (b"x-empty", b""),
            (b"x-!#$%&'*+-.^_`|~09", b"v"),
            (b"x-obs-text", b"caf\xc3\xa9"),
        ]
    )


# -- §8.2.2 connection-specific fields ------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        (b"connection", b"close"),
        (b"keep-alive", b"timeout=5"),
        (b"proxy-connection", b"keep-alive"),
        (b"transfer-encoding", b"chunked"),
        (b"upgrade", b"websocket"),
    ],
    ids=lambda f: f[0].decode(),
)
def test_connection_specific_field_is_malformed(field: tuple[bytes, bytes]) -> None:
    # RFC 9113 §8.2.2: a message carrying connection-specific fields is malformed.
    assert_malformed_request(REQUEST + [field])


@pytest.mark.parametrize("value", [b"gzip", b"trailers, deflate", b"chunked"])
def test_te_other_than_trailers_is_malformed(value: bytes) -> None:
    # RFC 9113 §8.2.2: TE MUST NOT contain any value other than "trailers".
    assert_malformed_request(REQUEST + [(b"te", value)])


def test_te_trailers_is_accepted() -> None:
    # RFC 9113 §8.2.2: the one TE value HTTP/2 allows.
    assert_accepted(REQUEST + [(b"te", b"trailers")])


# -- §8.3 pseudo-header fields ----------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([METHOD, SCHEME, AUTHORITY, PATH, (b":foo", b"bar")], id="unknown-pseudo"),
        pytest.param([METHOD, SCHEME, AUTHORITY, PATH, (b":status", b"200")], id="response-pseudo"),
        pytest.param([METHOD, METHOD, SCHEME, AUTHORITY, PATH], id="duplicate-method"),
        pytest.param([METHOD, SCHEME, SCHEME, AUTHORITY, PATH], id="duplicate-scheme"),
        pytest.param([METHOD, SCHEME, AUTHORITY, PATH, (b":path", b"/other")], id="duplicate-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, AUTHORITY, PATH], id="duplicate-authority"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b"accept", b"*/*"), PATH], id="pseudo-after-regular"),
        pytest.param([(b"accept", b"*/*"), METHOD, SCHEME, AUTHORITY, PATH], id="regular-first"),
        pytest.param([SCHEME, AUTHORITY, PATH], id="missing-method"),
        pytest.param([METHOD, AUTHORITY, PATH], id="missing-scheme"),
        pytest.param([METHOD, SCHEME, AUTHORITY], id="missing-path"),
        pytest.param([(b":method", b""), SCHEME, AUTHORITY, PATH], id="empty-method"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"")], id="empty-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"index.html")], id="relative-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"*")], id="asterisk-path-not-options"),
        pytest.param([METHOD, (b":scheme", b"http"), AUTHORITY, (b":path", b"example.org/")], id="http-relative-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, PATH, (b"host", b"example.com")], id="authority-host-differ"),
        pytest.param([METHOD, SCHEME, PATH, (b"host", b"a.example"), (b"host", b"b.example")], id="two-hosts-differ"),
        pytest.param([METHOD, SCHEME, PATH], id="no-authority-no-host-https"),
        pytest.param([METHOD, (b":scheme", b"http"), PATH], id="no-authority-no-host-http"),
        pytest.param([METHOD, SCHEME, (b":authority", b""), PATH], id="empty-authority"),
        pytest.param([METHOD, SCHEME, PATH, (b"host", b"")], id="empty-host"),
    ],
)
def test_malformed_pseudo_headers(headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.3: only the defined request pseudo-headers, each once, before
    # any regular field; §8.3.1: :method, :scheme and :path present, :path
    # non-empty and starting with "/" (or "*" for OPTIONS) for http(s); an
    # http(s) request carries :authority or host, not empty, and they agree.
    assert_malformed_request(headers)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b":method", b"OPTIONS"), SCHEME, AUTHORITY, (b":path", b"*")], id="options-asterisk"),
        pytest.param([METHOD, SCHEME, PATH, (b"host", b"example.org")], id="host-only"),
        pytest.param([METHOD, SCHEME, AUTHORITY, PATH, (b"host", b"example.org")], id="authority-host-agree"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"/a?b=c")], id="path-with-query"),
    ],
)
def test_well_formed_pseudo_headers_are_accepted(headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.3.1: the counterparts of the cases above that the RFC allows.
    assert_accepted(headers)


# -- §8.5 CONNECT and RFC 8441 extended CONNECT ------------------------------------

CONNECT = (b":method", b"CONNECT")
PROTOCOL = (b":protocol", b"websocket")
CONNECT_AUTHORITY = (b":authority", b"example.org:443")
EXTENDED_CONNECT = [CONNECT, PROTOCOL, SCHEME, (b":path", b"/chat"), AUTHORITY]


def test_connect_with_method_and_authority_is_accepted() -> None:
    # RFC 9113 §8.5: CONNECT carries :method and :authority only.
    conn = server()
    received = conn.receive_data(headers_frame(1, [CONNECT, CONNECT_AUTHORITY]))
    assert received == [events.RequestReceived(stream_id=1, headers=[CONNECT, CONNECT_AUTHORITY])]
    # The tunnel carries DATA both ways.
    assert conn.receive_data(data_frame(1, b"tunnel")) == [
        events.DataReceived(stream_id=1, data=b"tunnel", flow_controlled_length=6)
    ]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([CONNECT, CONNECT_AUTHORITY, SCHEME], id="with-scheme"),
        pytest.param([CONNECT, CONNECT_AUTHORITY, PATH], id="with-path"),
        pytest.param([CONNECT], id="without-authority"),
        pytest.param([CONNECT, (b":authority", b"")], id="empty-authority"),
    ],
)
def test_malformed_connect(headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.5: :scheme and :path MUST be omitted, :authority MUST be present.
    assert_malformed_request(headers)


def test_extended_connect_accepted_when_enabled() -> None:
    # RFC 8441 §4: with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 sent (and
    # acknowledged), CONNECT may carry :protocol together with :scheme and :path.
    conn = server(enable_connect_protocol=True)
    received = conn.receive_data(headers_frame(1, EXTENDED_CONNECT))
    assert received == [events.RequestReceived(stream_id=1, headers=EXTENDED_CONNECT)]


def test_extended_connect_rejected_when_not_enabled() -> None:
    # RFC 8441 §3/§4: without the setting, :protocol is an unknown pseudo-header.
    assert_malformed_request(EXTENDED_CONNECT)


def test_extended_connect_rejected_before_the_setting_is_acknowledged() -> None:
    # RFC 9113 §6.5.3, RFC 8441 §3: the setting takes effect once acknowledged.
    conn = Connection(Config(client_side=False, enable_connect_protocol=True))
    conn.initiate_connection()
    sent = conn.data_to_send()
    assert struct.pack(">HL", SETTINGS_ENABLE_CONNECT_PROTOCOL, 1) in sent
    conn.receive_data(CLIENT_PREFACE + settings())
    conn.data_to_send()
    received = conn.receive_data(headers_frame(1, EXTENDED_CONNECT))
    assert received == [events.StreamReset(stream_id=1, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False)]
    assert rst_codes(conn.data_to_send()) == {1: ErrorCode.PROTOCOL_ERROR}
    # Once the client acknowledges our SETTINGS, the same request is fine.
    received = conn.receive_data(SETTINGS_ACK + headers_frame(3, EXTENDED_CONNECT))
    assert received[-1] == events.RequestReceived(stream_id=3, headers=EXTENDED_CONNECT)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([METHOD, PROTOCOL, SCHEME, PATH, AUTHORITY], id="protocol-with-get"),
        pytest.param([CONNECT, PROTOCOL, SCHEME, AUTHORITY], id="missing-path"),
        pytest.param([CONNECT, PROTOCOL, (b":path", b"/chat"), AUTHORITY], id="missing-scheme"),
        pytest.param([CONNECT, PROTOCOL, PROTOCOL, SCHEME, (b":path", b"/chat"), AUTHORITY], id="duplicate-protocol"),
    ],
)
def test_malformed_extended_connect_when_enabled(headers: list[tuple[bytes, bytes]]) -> None:
    # RFC 8441 §4: :protocol only on CONNECT, and then :scheme and :path MUST be included.
    assert_malformed_request(headers, enable_connect_protocol=True)


# -- §8.1 message framing: content-length, trailers, header blocks ---------------


def test_content_length_matching_data_is_accepted() -> None:
    # RFC 9113 §8.1.1: content-length equal to the DATA payload total. Padding
    # is not content.
    conn = server()
    received = conn.receive_data(
        headers_frame(1, REQUEST + [(b"content-length", b"5")])
        + data_frame(1, b"ab")
        + frame(DATA, PADDED | END_STREAM, 1, b"\x04" + b"cde" + b"\x00" * 4)
    )
    body = b"".join(e.data for e in received if isinstance(e, events.DataReceived))
    assert body == b"abcde"
    assert received[-1] == events.StreamEnded(stream_id=1)
    assert rst_codes(conn.data_to_send()) == {}


def test_more_data_than_content_length_is_malformed() -> None:
    # RFC 9113 §8.1.1: DATA beyond content-length makes the request malformed;
    # the excess is not delivered.
    conn = server()
    wire = headers_frame(1, REQUEST + [(b"content-length", b"3")]) + data_frame(1, b"ab") + data_frame(1, b"cd")
    received = assert_malformed(conn, wire)
    delivered = b"".join(e.data for e in received if isinstance(e, events.DataReceived))
    assert delivered == b"ab"


def test_less_data_than_content_length_at_end_stream_is_malformed() -> None:
    # RFC 9113 §8.1.1: the stream ends before content-length octets arrived.
    conn = server()
    assert_malformed(conn, headers_frame(1, REQUEST + [(b"content-length", b"3")]) + data_frame(1, b"ab", end_stream=True))


def test_content_length_with_end_stream_on_headers_is_malformed() -> None:
    # RFC 9113 §8.1.1: a nonzero content-length and no DATA at all.
    conn = server()
    assert_malformed(conn, headers_frame(1, REQUEST + [(b"content-length", b"3")], end_stream=True))


def test_content_length_short_before_trailers_is_malformed() -> None:
    # RFC 9113 §8.1.1: trailers end the stream; the DATA total is still checked.
    conn = server()
    wire = (
        headers_frame(1, REQUEST + [(b"content-length", b"3")])
        + data_frame(1, b"ab")
        + headers_frame(1, [(b"x-checksum", b"1")], end_stream=True)
    )
    assert_malformed(conn, wire)


@pytest.mark.parametrize("value", [b"-1", b"abc", b"1 2", b"+3"])
def test_invalid_content_length_is_malformed(value: bytes) -> None:
    # RFC 9113 §8.1.1 / RFC 9110 §8.6: content-length is a decimal number.
    assert_malformed_request(REQUEST + [(b"content-length", value)])


def test_conflicting_content_length_fields_are_malformed() -> None:
    # RFC 9110 §8.6: differing content-length values cannot be reconciled.
    assert_malformed_request(REQUEST + [(b"content-length", b"0"), (b"content-length", b"1")])


def test_trailers_with_end_stream_are_delivered() -> None:
    # RFC 9113 §8.1: HEADERS, DATA, then a trailer section carrying END_STREAM.
    conn = server()
    received = conn.receive_data(
        headers_frame(1, REQUEST)
        + data_frame(1, b"body")
        + headers_frame(1, [(b"x-checksum", b"abcd")], end_stream=True)
    )
    assert received == [
        events.RequestReceived(stream_id=1, headers=REQUEST),
        events.DataReceived(stream_id=1, data=b"body", flow_controlled_length=4),
        events.TrailersReceived(stream_id=1, headers=[(b"x-checksum", b"abcd")]),
        events.StreamEnded(stream_id=1),
    ]


def test_trailers_without_end_stream_are_malformed() -> None:
    # RFC 9113 §8.1: a HEADERS frame without END_STREAM after the one that opened
    # the request makes the request malformed.
    conn = server()
    wire = headers_frame(1, REQUEST) + data_frame(1, b"body") + headers_frame(1, [(b"x-checksum", b"abcd")])
    received = assert_malformed(conn, wire)
    assert not any(isinstance(e, events.TrailersReceived) for e in received)


def test_second_headers_without_end_stream_is_malformed() -> None:
    # RFC 9113 §8.1: same rule with no DATA in between.
    conn = server()
    assert_malformed(conn, headers_frame(1, REQUEST) + headers_frame(1, [(b"x-more", b"1")]))


@pytest.mark.parametrize(
    "trailers",
    [
        pytest.param([(b":path", b"/")], id="request-pseudo"),
        pytest.param([(b":status", b"200")], id="response-pseudo"),
        pytest.param([(b"x-checksum", b"1"), (b":method", b"GET")], id="pseudo-after-regular"),
        pytest.param([(b"connection", b"close")], id="connection-specific"),
        pytest.param([(b"X-Checksum", b"1")], id="uppercase-name"),
    ],
)
def test_malformed_trailers(trailers: list[tuple[bytes, bytes]]) -> None:
    # RFC 9113 §8.1: trailers MUST NOT include pseudo-header fields; §8.2 applies.
    conn = server()
    wire = headers_frame(1, REQUEST) + data_frame(1, b"body") + headers_frame(1, trailers, end_stream=True)
    received = assert_malformed(conn, wire)
    assert not any(isinstance(e, events.TrailersReceived) for e in received)


def test_frames_after_a_malformed_request_are_ignored() -> None:
    # RFC 9113 §5.1: after sending RST_STREAM, frames that were in flight on the
    # stream are ignored, not treated as errors.
    conn = server()
    received = conn.receive_data(headers_frame(1, REQUEST + [(b"connection", b"close")]))
    assert received == [events.StreamReset(stream_id=1, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False)]
    assert rst_codes(conn.data_to_send()) == {1: ErrorCode.PROTOCOL_ERROR}
    late = data_frame(1, b"x" * 100) + headers_frame(1, [(b"x-t", b"1")], end_stream=True)
    assert conn.receive_data(late) == []
    assert goaway_code(conn.data_to_send()) is None
    assert_serves(conn, 3)


def test_many_malformed_requests_do_not_end_the_connection() -> None:
    # RFC 9113 §8.1.1: each one is a stream error; the connection carries on.
    conn = server()
    for stream_id in range(1, 101, 2):
        received = conn.receive_data(headers_frame(stream_id, REQUEST + [(b"te", b"gzip")], end_stream=True))
        assert received == [
            events.StreamReset(stream_id=stream_id, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False)
        ]
    out = conn.data_to_send()
    assert rst_codes(out) == {sid: ErrorCode.PROTOCOL_ERROR for sid in range(1, 101, 2)}
    assert goaway_code(out) is None
    assert_serves(conn, 101)


# -- Config(validate_inbound_headers=False) ----------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(REQUEST + [(b"X-Upper", b"v")], id="uppercase"),
        pytest.param(REQUEST + [(b"connection", b"close")], id="connection-specific"),
        pytest.param([METHOD, SCHEME, AUTHORITY], id="missing-path"),
        pytest.param([(b"accept", b"*/*")] + REQUEST, id="pseudo-after-regular"),
        pytest.param(REQUEST + [(b":status", b"200")], id="response-pseudo"),
    ],
)
def test_validation_off_delivers_malformed_requests(headers: list[tuple[bytes, bytes]]) -> None:
    # With validate_inbound_headers=False the application sees the block as sent.
    assert_accepted(headers, validate_inbound_headers=False)


def test_validation_off_does_not_enforce_content_length() -> None:
    conn = server(validate_inbound_headers=False)
    received = conn.receive_data(
        headers_frame(1, REQUEST + [(b"content-length", b"1")]) + data_frame(1, b"abc", end_stream=True)
    )
    assert received[1:] == [
        events.DataReceived(stream_id=1, data=b"abc", flow_controlled_length=3, end_stream=True),
        events.StreamEnded(stream_id=1),
    ]
    assert rst_codes(conn.data_to_send()) == {}
