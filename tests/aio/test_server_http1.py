"""The server's first bytes: telling the HTTP/2 preface from HTTP/1.1 and reading an upgrade.

Unit tests of ``h2lite.aio._server_http1`` (no sockets): RFC 9113 §3.4 (the
preface), RFC 9112 §3 and §5 (request line, field lines), RFC 7540 §3.2
(``Upgrade: h2c``) and RFC 9113 §8.3.1 (the request as HTTP/2 fields).
"""

from __future__ import annotations

import pytest

from h2lite.aio._server_http1 import (
    MAX_UPGRADE_BODY,
    HeadError,
    Http1Request,
    Sniffed,
    error_reply,
    h2_request_fields,
    parse_request_head,
    parse_request_line,
    sniff,
    upgrade_of,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", Sniffed.NEED_MORE),
        (PREFACE[:1], Sniffed.NEED_MORE),
        (PREFACE[:23], Sniffed.NEED_MORE),
        (PREFACE, Sniffed.HTTP2),
        (PREFACE + b"\x00\x00\x00\x04", Sniffed.HTTP2),
        # "PRI * HTTP/1.1" parts from the preface at byte 9: a (strange) HTTP/1 request.
        (b"PRI * HTTP/1.1\r\n", Sniffed.HTTP1),
        (b"POST / HTTP/1.1", Sniffed.HTTP1),
        (b"GET", Sniffed.NEED_MORE),
        (b"M-SEARCH ", Sniffed.HTTP1),
        (b" GET", Sniffed.GARBAGE),  # no method before the space
        (b"GET\r\n", Sniffed.GARBAGE),
        (b"\x16\x03\x01", Sniffed.GARBAGE),
        (b"A" * 33, Sniffed.GARBAGE),  # longer than any method worth waiting for
        (b"A" * 32, Sniffed.NEED_MORE),
    ],
)
def test_sniff(data: bytes, kind: Sniffed) -> None:
    assert sniff(data) is kind
    assert sniff(bytearray(data)) is kind


@pytest.mark.parametrize(
    "line",
    [b"GET / HTTP/2.0", b"GET /  HTTP/1.1", b"GET / HTTP/1.1 x", b"G(T / HTTP/1.1", b"GET /\x7f HTTP/1.1", b"GET  HTTP/1.1", b" / HTTP/1.1"],
)
def test_what_is_not_a_request_line(line: bytes) -> None:
    assert parse_request_line(line) is None


def test_request_head_fields() -> None:
    request = parse_request_head(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Spaced:  v  \t\r\nEmpty:")
    assert (request.method, request.target, request.version) == (b"GET", b"/x", b"HTTP/1.1")
    assert request.fields == [(b"host", b"a"), (b"x-spaced", b"v"), (b"empty", b"")]


@pytest.mark.parametrize(
    "field",
    [
        b" folded",  # RFC 9112 §5.2: obsolete line folding
        b"Name : value",  # RFC 9112 §5.1: no space before the colon
        b"no colon",
        b": empty name",
        b"X: a\x00b",
    ],
)
def test_malformed_field_lines_are_400(field: bytes) -> None:
    with pytest.raises(HeadError) as info:
        parse_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n" + field)
    assert info.value.status == 400


def test_a_head_that_is_not_http1_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_request_head(b"GET / SPDY/3\r\nHost: a")


def request(*fields: tuple[bytes, bytes], version: bytes = b"HTTP/1.1", method: bytes = b"GET", target: bytes = b"/p") -> Http1Request:
    return Http1Request(method, target, version, list(fields))


UPGRADE = ((b"connection", b"Upgrade, HTTP2-Settings"), (b"upgrade", b"h2c"), (b"http2-settings", b"AAMAAABkAARAAAAAAAIAAAAA"))


def test_upgrade_needs_every_part() -> None:
    assert upgrade_of(request(*UPGRADE)) is not None
    assert upgrade_of(request(*UPGRADE[1:])) is None  # no Connection: Upgrade
    assert upgrade_of(request(UPGRADE[0], (b"upgrade", b"websocket"), UPGRADE[2])) is None
    assert upgrade_of(request(*UPGRADE[:2])) is None  # RFC 7540 §3.2.1: exactly one HTTP2-Settings
    assert upgrade_of(request(*UPGRADE, UPGRADE[2])) is None
    assert upgrade_of(request(*UPGRADE, version=b"HTTP/1.0")) is None
    # A chunked body would have to be read as HTTP/1.1: no upgrade.
    assert upgrade_of(request(*UPGRADE, (b"transfer-encoding", b"chunked"))) is None
    # Upgrade tokens are case-insensitive and may be listed with others.
    assert upgrade_of(request((b"connection", b"keep-alive, UPGRADE"), (b"upgrade", b"websocket, H2C"), UPGRADE[2])) is not None


def test_upgrade_body_length() -> None:
    found = upgrade_of(request(*UPGRADE, (b"content-length", b"5"), method=b"POST"))
    assert found is not None and found.body_length == 5
    assert (b"content-length", b"5") in found.headers
    for bad in ((b"content-length", b"x"), (b"content-length", b"-1")):
        with pytest.raises(HeadError) as info:
            upgrade_of(request(*UPGRADE, bad))
        assert info.value.status == 400
    with pytest.raises(HeadError) as info:
        upgrade_of(request(*UPGRADE, (b"content-length", b"1"), (b"content-length", b"2")))
    assert info.value.status == 400
    with pytest.raises(HeadError) as info:
        upgrade_of(request(*UPGRADE, (b"content-length", b"%d" % (MAX_UPGRADE_BODY + 1))))
    assert info.value.status == 413


def test_the_request_as_http2_fields() -> None:
    fields = h2_request_fields(
        request(
            (b"host", b"example.test"),
            (b"connection", b"Upgrade, HTTP2-Settings, X-Hop"),
            (b"x-hop", b"dropped"),
            (b"keep-alive", b"timeout=5"),
            (b"te", b"trailers"),
            (b"accept", b"*/*"),
        ),
        0,
    )
    # RFC 9113 §8.2.2: connection-specific fields are not carried over; TE only as "trailers".
    assert fields == [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":authority", b"example.test"),
        (b":path", b"/p"),
        (b"te", b"trailers"),
        (b"accept", b"*/*"),
    ]
    assert (b"te", b"gzip") not in h2_request_fields(request((b"te", b"gzip")), 0)


def test_absolute_form_targets_give_the_authority() -> None:
    fields = dict(h2_request_fields(request((b"host", b"ignored"), target=b"http://origin.test:8080/a?b"), 0))
    assert fields[b":authority"] == b"origin.test:8080" and fields[b":path"] == b"/a?b"
    fields = dict(h2_request_fields(request(target=b"http://origin.test"), 0))
    assert fields[b":path"] == b"/"
    # No Host at all: no :authority rather than an empty one.
    assert b":authority" not in dict(h2_request_fields(request(), 0))


def test_error_reply_is_complete_http1() -> None:
    reply = error_reply(505, "HTTP/2 only")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n")
    assert b"Content-Length: %d" % len(body) in head and body == b"HTTP/2 only\n"
    # RFC 9110 §9.3.2: the same head, no content, for HEAD.
    assert error_reply(505, "HTTP/2 only", head_only=True) == head + b"\r\n\r\n"
