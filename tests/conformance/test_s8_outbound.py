"""RFC 9113 §8 for what the caller sends, and how header fields are represented.

Outbound header blocks that break §8 raise :class:`InvalidHeaderError` (a
:class:`LocalProtocolError`) before anything is queued or the HPACK encoder's
state changes, so the connection stays usable (DESIGN.md, error model).
"""

from __future__ import annotations

from typing import Any

import hpack
import pytest
from hpack import NeverIndexedHeaderTuple

from h2lite import Config, ErrorCode, InvalidHeaderError, LocalProtocolError, events

from ..helpers import REQUEST, RESPONSE, ConnectionPair, client, headers_frame, parse_frames, rst_codes, server

HEADERS = 0x1
METHOD, SCHEME, AUTHORITY, PATH = REQUEST
STATUS_200 = (b":status", b"200")


def pair(client_config: dict[str, Any] | None = None, server_config: dict[str, Any] | None = None) -> ConnectionPair:
    return ConnectionPair(
        Config(client_side=True, **(client_config or {})), Config(client_side=False, **(server_config or {}))
    )


def sent_header_blocks(data: bytes) -> list[list[Any]]:
    """Decode every HEADERS frame (END_HEADERS, no padding or priority) in ``data``.

    Only for the first blocks an encoder wrote: a fresh decoder follows it from there.
    """
    decoder = hpack.Decoder()
    blocks = []
    for frame_type, flags, _, payload in parse_frames(data):
        if frame_type == HEADERS:
            assert flags & 0x4 and not flags & 0x28
            blocks.append(decoder.decode(payload, raw=True))
    return blocks


def of_type(received: list[events.Event], kind: type) -> list[Any]:
    return [e for e in received if isinstance(e, kind)]


# -- requests: rejected before anything is queued -----------------------------------

NO_NORMALIZE = {"normalize_outbound_headers": False}


@pytest.mark.parametrize(
    ("headers", "config"),
    [
        # RFC 9113 §8.2.1
        pytest.param(REQUEST + [(b"X-Upper", b"v")], NO_NORMALIZE, id="uppercase-name"),
        pytest.param(REQUEST + [(b"", b"v")], {}, id="empty-name"),
        pytest.param(REQUEST + [(b"x y", b"v")], {}, id="space-in-name"),
        pytest.param(REQUEST + [(b"x:y", b"v")], {}, id="colon-in-name"),
        pytest.param(REQUEST + [(b"x\x00", b"v")], {}, id="nul-in-name"),
        pytest.param(REQUEST + [(b"x", b"a\x00b")], {}, id="nul-in-value"),
        pytest.param(REQUEST + [(b"x", b"a\rb")], {}, id="cr-in-value"),
        pytest.param(REQUEST + [(b"x", b"a\nb")], {}, id="lf-in-value"),
        pytest.param(REQUEST + [(b"x", b" v")], NO_NORMALIZE, id="leading-space"),
        pytest.param(REQUEST + [(b"x", b"v\t")], NO_NORMALIZE, id="trailing-htab"),
        # RFC 9113 §8.2.2
        pytest.param(REQUEST + [(b"connection", b"close")], {}, id="connection"),
        pytest.param(REQUEST + [(b"keep-alive", b"timeout=5")], {}, id="keep-alive"),
        pytest.param(REQUEST + [(b"proxy-connection", b"close")], {}, id="proxy-connection"),
        pytest.param(REQUEST + [(b"transfer-encoding", b"chunked")], {}, id="transfer-encoding"),
        pytest.param(REQUEST + [(b"upgrade", b"websocket")], {}, id="upgrade"),
        pytest.param(REQUEST + [(b"te", b"gzip")], {}, id="te-gzip"),
        # RFC 9113 §8.3, §8.3.1
        pytest.param(REQUEST + [(b":foo", b"bar")], {}, id="unknown-pseudo"),
        pytest.param(REQUEST + [STATUS_200], {}, id="response-pseudo"),
        pytest.param([METHOD] + REQUEST, {}, id="duplicate-method"),
        pytest.param([(b"accept", b"*/*")] + REQUEST, {}, id="pseudo-after-regular"),
        pytest.param([SCHEME, AUTHORITY, PATH], {}, id="missing-method"),
        pytest.param([METHOD, AUTHORITY, PATH], {}, id="missing-scheme"),
        pytest.param([METHOD, SCHEME, AUTHORITY], {}, id="missing-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"")], {}, id="empty-path"),
        pytest.param([METHOD, SCHEME, AUTHORITY, (b":path", b"index.html")], {}, id="relative-path"),
        pytest.param(REQUEST + [(b"host", b"example.com")], {}, id="authority-host-differ"),
        pytest.param([METHOD, SCHEME, PATH], {}, id="no-authority-no-host"),
        # RFC 9113 §8.5
        pytest.param([(b":method", b"CONNECT"), AUTHORITY, PATH], {}, id="connect-with-path"),
        pytest.param([(b":method", b"CONNECT")], {}, id="connect-without-authority"),
        # RFC 8441 §3: the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
        pytest.param(
            [(b":method", b"CONNECT"), (b":protocol", b"websocket"), SCHEME, AUTHORITY, (b":path", b"/chat")],
            {},
            id="extended-connect-not-enabled",
        ),
    ],
)
def test_invalid_request_raises_before_anything_is_queued(headers: list[Any], config: dict[str, Any]) -> None:
    p = pair(config)
    with pytest.raises(InvalidHeaderError) as info:
        p.client.send_headers(1, headers, end_stream=True)
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert p.client.data_to_send() == b""
    assert p.client.open_outbound_streams == 0
    assert p.client.get_next_available_stream_id() == 1
    # Still usable: the same stream ID carries a valid request, and the server
    # decodes it (the HPACK encoder did not move on the rejected block).
    p.client.send_headers(1, REQUEST, end_stream=True)
    _, server_events = p.pump()
    assert of_type(server_events, events.RequestReceived) == [
        events.RequestReceived(stream_id=1, headers=REQUEST, end_stream=True)
    ]


def test_extended_connect_allowed_once_the_server_enabled_it() -> None:
    # RFC 8441 §3: after SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 from the server.
    p = pair(server_config={"enable_connect_protocol": True})
    headers = [(b":method", b"CONNECT"), (b":protocol", b"websocket"), SCHEME, AUTHORITY, (b":path", b"/chat")]
    p.client.send_headers(1, headers)
    _, server_events = p.pump()
    assert server_events == [events.RequestReceived(stream_id=1, headers=headers)]


def test_bad_header_types_raise_type_error_and_queue_nothing() -> None:
    conn = client()
    for bad in ([(1, b"x")], [(b"x", None)], [b"x"], b":method GET"):
        with pytest.raises(TypeError):
            conn.send_headers(1, REQUEST + bad if isinstance(bad, list) else bad)
    assert conn.data_to_send() == b""
    conn.send_headers(1, REQUEST, end_stream=True)
    assert sent_header_blocks(conn.data_to_send()) == [REQUEST]


@pytest.mark.parametrize("priority", [(1, 16, False), (0, 0, False), (0, 257, True)])
def test_bad_priority_argument_changes_nothing(priority: tuple[int, int, bool]) -> None:
    # A ValueError from send_headers leaves the connection as it was: the same
    # request can be sent on the same stream ID (DESIGN.md, error model).
    p = pair()
    with pytest.raises(ValueError):
        p.client.send_headers(1, REQUEST, priority=priority)
    assert p.client.data_to_send() == b""
    assert p.client.get_next_available_stream_id() == 1
    p.client.send_headers(1, REQUEST, end_stream=True)
    p.pump()
    with pytest.raises(ValueError):
        p.server.send_headers(1, RESPONSE, priority=priority)
    assert p.server.data_to_send() == b""
    p.server.send_headers(1, RESPONSE, end_stream=True)
    client_events, _ = p.pump()
    assert client_events[0] == events.ResponseReceived(stream_id=1, headers=RESPONSE, end_stream=True)


# -- responses and trailers ------------------------------------------------------


def answering_pair(**server_config: Any) -> ConnectionPair:
    """A pair whose server has received a request on stream 1 (not ended)."""
    p = pair(server_config=server_config)
    p.client.send_headers(1, REQUEST)
    p.pump()
    return p


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"content-type", b"text/plain")], id="missing-status"),
        pytest.param([(b":status", b"20")], id="two-digit-status"),
        pytest.param([(b":status", b"ok")], id="non-numeric-status"),
        pytest.param([(b":status", b"101")], id="switching-protocols"),
        pytest.param([STATUS_200, STATUS_200], id="duplicate-status"),
        pytest.param([STATUS_200, (b":path", b"/")], id="request-pseudo"),
        pytest.param([(b"server", b"x"), STATUS_200], id="pseudo-after-regular"),
        pytest.param([STATUS_200, (b"connection", b"close")], id="connection-specific"),
        pytest.param([STATUS_200, (b"x", b"a\r\nb")], id="crlf-in-value"),
    ],
)
def test_invalid_response_raises_before_anything_is_queued(headers: list[Any]) -> None:
    # RFC 9113 §8.3.2 (one valid :status, no request pseudo-headers), §8.6 (no
    # 101), §8.2.
    p = answering_pair()
    with pytest.raises(InvalidHeaderError):
        p.server.send_headers(1, headers)
    assert p.server.data_to_send() == b""
    p.server.send_headers(1, RESPONSE, end_stream=True)
    client_events, _ = p.pump()
    assert client_events[0] == events.ResponseReceived(stream_id=1, headers=RESPONSE, end_stream=True)


def test_informational_response_cannot_end_the_stream() -> None:
    # RFC 9113 §8.1: a 1xx response never carries END_STREAM.
    p = answering_pair()
    with pytest.raises(LocalProtocolError):
        p.server.send_headers(1, [(b":status", b"103")], end_stream=True)
    assert p.server.data_to_send() == b""
    p.server.send_headers(1, [(b":status", b"103")])
    p.server.send_headers(1, RESPONSE, end_stream=True)
    client_events, _ = p.pump()
    assert [type(e) for e in client_events] == [
        events.InformationalResponseReceived,
        events.ResponseReceived,
        events.StreamEnded,
    ]


@pytest.mark.parametrize(
    "trailers",
    [
        pytest.param([STATUS_200], id="status-pseudo"),
        pytest.param([(b":path", b"/")], id="request-pseudo"),
        pytest.param([(b"transfer-encoding", b"chunked")], id="connection-specific"),
        pytest.param([(b"x-checksum", b"a\nb")], id="lf-in-value"),
    ],
)
@pytest.mark.parametrize("side", ["client", "server"])
def test_invalid_trailers_raise_before_anything_is_queued(trailers: list[Any], side: str) -> None:
    # RFC 9113 §8.1: trailers carry no pseudo-header fields; §8.2 applies.
    p = answering_pair()
    if side == "server":
        sender, receiver = p.server, p.client
        p.server.send_headers(1, RESPONSE)
    else:
        sender, receiver = p.client, p.server
    sender.send_data(1, b"body")
    p.pump()
    with pytest.raises(InvalidHeaderError):
        sender.send_headers(1, trailers, end_stream=True)
    assert sender.data_to_send() == b""
    sender.send_headers(1, [(b"x-checksum", b"1")], end_stream=True)
    p.pump()
    received = p.client_events if receiver is p.client else p.server_events
    assert received[-2:] == [
        events.TrailersReceived(stream_id=1, headers=[(b"x-checksum", b"1")]),
        events.StreamEnded(stream_id=1),
    ]


def test_trailers_must_end_the_stream() -> None:
    # RFC 9113 §8.1: the trailer section's HEADERS frame carries END_STREAM.
    p = answering_pair()
    p.server.send_headers(1, RESPONSE)
    p.pump()
    with pytest.raises(LocalProtocolError):
        p.server.send_headers(1, [(b"x-checksum", b"1")], end_stream=False)
    assert p.server.data_to_send() == b""


def test_push_with_malformed_request_raises() -> None:
    # RFC 9113 §8.4: the promised request is a complete, valid request.
    p = answering_pair()
    with pytest.raises(InvalidHeaderError):
        p.server.push_stream(1, 2, [METHOD, SCHEME, AUTHORITY])
    assert p.server.data_to_send() == b""


# -- validate_outbound_headers=False ------------------------------------------------


def test_validation_off_sends_invalid_headers() -> None:
    conn = client(validate_outbound_headers=False, normalize_outbound_headers=False)
    bad = [METHOD, SCHEME, AUTHORITY, (b"X-Upper", b"v"), (b"connection", b"close"), (b"te", b"gzip")]
    conn.send_headers(1, bad, end_stream=True)
    assert sent_header_blocks(conn.data_to_send()) == [bad]


def test_validation_off_sends_what_the_peer_resets() -> None:
    # The sender's switch does not change the receiver's duty (RFC 9113 §8.1.1).
    p = pair({"validate_outbound_headers": False})
    p.client.send_headers(1, REQUEST + [(b"connection", b"close")], end_stream=True)
    _, server_events = p.pump()
    assert server_events == [events.StreamReset(stream_id=1, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False)]
    assert p.client_events[-1] == events.StreamReset(stream_id=1, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=True)


def test_validation_off_server_sends_invalid_response() -> None:
    p = answering_pair(validate_outbound_headers=False)
    bad = [STATUS_200, (b"upgrade", b"h2c"), (b"X-Upper", b"v")]
    p.server.send_headers(1, bad, end_stream=True)
    _, _, _, payload = parse_frames(p.server.data_to_send())[-1]
    # The server's first header block: a fresh decoder can follow it.
    assert hpack.Decoder().decode(payload, raw=True) == [STATUS_200, (b"upgrade", b"h2c"), (b"x-upper", b"v")]


# -- representation: str, case, cookies, never-indexed, encodings -------------------


def test_str_headers_are_encoded_as_utf8() -> None:
    conn = client()
    conn.send_headers(
        1, [(":method", "GET"), (":scheme", "https"), (":authority", "example.org"), (":path", "/"), ("x-name", "naïve ☃")]
    )
    assert sent_header_blocks(conn.data_to_send()) == [REQUEST + [(b"x-name", "naïve ☃".encode("utf-8"))]]


def test_normalize_outbound_lowercases_names() -> None:
    # RFC 9113 §8.2: names are sent in lowercase.
    conn = client()
    conn.send_headers(1, REQUEST + [(b"Content-Type", b"text/plain"), ("X-Request-ID", "7")], end_stream=True)
    assert sent_header_blocks(conn.data_to_send()) == [
        REQUEST + [(b"content-type", b"text/plain"), (b"x-request-id", b"7")]
    ]


def test_split_outbound_cookies() -> None:
    # RFC 9113 §8.2.3: a cookie may be split into crumbs for better compression.
    conn = client(split_outbound_cookies=True)
    conn.send_headers(1, REQUEST + [(b"cookie", b"a=1; b=2; c=3")], end_stream=True)
    assert sent_header_blocks(conn.data_to_send()) == [
        REQUEST + [(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"cookie", b"c=3")]
    ]


def test_cookies_are_not_split_by_default() -> None:
    conn = client()
    conn.send_headers(1, REQUEST + [(b"cookie", b"a=1; b=2")], end_stream=True)
    assert sent_header_blocks(conn.data_to_send()) == [REQUEST + [(b"cookie", b"a=1; b=2")]]


def test_normalize_inbound_joins_cookie_crumbs() -> None:
    # RFC 9113 §8.2.3: crumbs are concatenated with "; " before leaving HTTP/2.
    conn = server()
    sent = REQUEST + [(b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"b=2"), (b"cookie", b"c=3")]
    (request, _) = conn.receive_data(headers_frame(1, sent, end_stream=True))
    assert [h for h in request.headers if h[0] != b"cookie"] == REQUEST + [(b"accept", b"*/*")]
    assert [h for h in request.headers if h[0] == b"cookie"] == [(b"cookie", b"a=1; b=2; c=3")]


def test_inbound_cookie_crumbs_kept_without_normalization() -> None:
    conn = server(normalize_inbound_headers=False)
    sent = REQUEST + [(b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"b=2")]
    assert conn.receive_data(headers_frame(1, sent, end_stream=True))[0].headers == sent


def test_split_cookies_round_trip_through_the_peer() -> None:
    p = pair({"split_outbound_cookies": True})
    p.client.send_headers(1, REQUEST + [(b"cookie", b"a=1; b=2")], end_stream=True)
    _, server_events = p.pump()
    assert server_events[0].headers == REQUEST + [(b"cookie", b"a=1; b=2")]


SECRET = NeverIndexedHeaderTuple(b"authorization", b"Bearer s3cr3t")


def test_never_indexed_fields_go_out_never_indexed() -> None:
    # RFC 7541 §6.2.3: the peer decodes a never-indexed literal.
    conn = client()
    conn.send_headers(1, REQUEST + [SECRET, (b"accept", b"*/*")], end_stream=True)
    (block,) = sent_header_blocks(conn.data_to_send())
    assert block == REQUEST + [SECRET, (b"accept", b"*/*")]
    assert type(block[4]) is NeverIndexedHeaderTuple
    assert type(block[5]) is not NeverIndexedHeaderTuple


def test_str_never_indexed_fields_stay_never_indexed() -> None:
    conn = client()
    conn.send_headers(1, REQUEST + [NeverIndexedHeaderTuple("authorization", "Bearer s3cr3t")], end_stream=True)
    (block,) = sent_header_blocks(conn.data_to_send())
    assert type(block[4]) is NeverIndexedHeaderTuple and block[4] == SECRET


def test_never_indexed_cookie_crumbs_stay_never_indexed() -> None:
    conn = client(split_outbound_cookies=True)
    conn.send_headers(1, REQUEST + [NeverIndexedHeaderTuple(b"cookie", b"a=1; b=2")], end_stream=True)
    (block,) = sent_header_blocks(conn.data_to_send())
    assert block[4:] == [(b"cookie", b"a=1"), (b"cookie", b"b=2")]
    assert all(type(h) is NeverIndexedHeaderTuple for h in block[4:])


def test_never_indexed_fields_keep_their_type_in_events() -> None:
    # DESIGN.md: never-indexed fields keep hpack's NeverIndexedHeaderTuple type
    # in and out, both directions, so a proxy can forward them as such.
    p = pair()
    p.client.send_headers(1, REQUEST + [SECRET], end_stream=True)
    _, server_events = p.pump()
    request = server_events[0]
    assert request.headers == REQUEST + [SECRET]
    assert type(request.headers[4]) is NeverIndexedHeaderTuple
    cookie = NeverIndexedHeaderTuple(b"set-cookie", b"id=1")
    p.server.send_headers(1, RESPONSE + [cookie])
    p.server.send_headers(1, [NeverIndexedHeaderTuple(b"x-token", b"t")], end_stream=True)
    client_events, _ = p.pump()
    response, trailers = client_events[0], client_events[1]
    assert type(response.headers[1]) is NeverIndexedHeaderTuple
    assert type(trailers.headers[0]) is NeverIndexedHeaderTuple


def test_never_indexed_cookie_crumbs_joined_stay_never_indexed() -> None:
    # RFC 7541 §7.1.3 / RFC 9113 §8.2.3: joining crumbs must not drop the
    # never-indexed mark, or a proxy would forward the cookie indexable.
    conn = server()
    encoder = hpack.Encoder()
    sent = REQUEST + [NeverIndexedHeaderTuple(b"cookie", b"a=1"), NeverIndexedHeaderTuple(b"cookie", b"b=2")]
    (request, _) = conn.receive_data(headers_frame(1, sent, end_stream=True, encoder=encoder))
    (cookie,) = [h for h in request.headers if h[0] == b"cookie"]
    assert cookie == (b"cookie", b"a=1; b=2")
    assert type(cookie) is NeverIndexedHeaderTuple


def test_header_encoding_gives_str_headers() -> None:
    p = pair(client_config={"header_encoding": "utf-8"}, server_config={"header_encoding": "utf-8"})
    p.client.send_headers(1, REQUEST + [(b"x-name", "naïve".encode()), SECRET])
    p.client.send_headers(1, [(b"x-checksum", b"1")], end_stream=True)
    _, server_events = p.pump()
    request, trailers = server_events[0], server_events[1]
    assert request.headers == [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.org"),
        (":path", "/"),
        ("x-name", "naïve"),
        ("authorization", "Bearer s3cr3t"),
    ]
    assert type(request.headers[5]) is NeverIndexedHeaderTuple
    assert trailers == events.TrailersReceived(stream_id=1, headers=[("x-checksum", "1")])
    p.server.send_headers(1, [(b":status", b"103")])
    p.server.send_headers(1, RESPONSE, end_stream=True)
    client_events, _ = p.pump()
    assert client_events[:2] == [
        events.InformationalResponseReceived(stream_id=1, headers=[(":status", "103")]),
        events.ResponseReceived(stream_id=1, headers=[(":status", "200")], end_stream=True),
    ]


def test_header_encoding_with_joined_cookies() -> None:
    conn = server(header_encoding="utf-8")
    sent = REQUEST + [(b"cookie", b"a=1"), (b"cookie", b"b=2")]
    (request, _) = conn.receive_data(headers_frame(1, sent, end_stream=True))
    assert ("cookie", "a=1; b=2") in request.headers
    assert rst_codes(conn.data_to_send()) == {}
