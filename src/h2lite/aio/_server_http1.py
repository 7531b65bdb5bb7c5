"""What a cleartext server does before HTTP/2 starts: tell the preface from HTTP/1.1.

A cleartext port sees three kinds of clients: HTTP/2 with prior knowledge
(RFC 9113 §3.3, the connection preface), HTTP/1.1 asking to upgrade
(``Upgrade: h2c``, RFC 7540 §3.2) and everything else.  :func:`sniff` decides
from the first bytes which one it is; :func:`parse_request_head` reads an
HTTP/1.1 request head (RFC 9112 §2-§5) far enough to answer it or upgrade it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..codes import CLIENT_PREFACE

#: Longest HTTP/1.1 request head (request line and fields) read before giving up.
MAX_HEAD_SIZE = 65536
#: Longest request body taken with an upgrade request; it must fit in stream 1's window.
MAX_UPGRADE_BODY = 65535
#: An HTTP/1.1 method longer than this is not worth waiting for.
_MAX_METHOD = 32

# RFC 9110 §5.6.2: tchar.
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

# Fields that describe the HTTP/1.1 connection, not the request (RFC 9113 §8.2.2).
_CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"upgrade", b"http2-settings", b"keep-alive", b"proxy-connection",
     b"transfer-encoding", b"host", b"te", b"content-length"}
)


class Sniffed(enum.Enum):
    """What the first bytes of a cleartext connection are."""

    NEED_MORE = "need more bytes"
    HTTP2 = "HTTP/2 connection preface"
    HTTP1 = "HTTP/1.x request"
    GARBAGE = "neither"


def sniff(buffer: bytes | bytearray) -> Sniffed:
    """Classify the start of a cleartext connection.

    The preface is checked first, byte for byte, so ``PRI * HTTP/2.0`` never
    passes for an HTTP/1 request.  Anything else must start like an HTTP/1
    request line (a method token then a space, RFC 9112 §3) to be read further.
    """
    size = min(len(buffer), len(CLIENT_PREFACE))
    if buffer[:size] == CLIENT_PREFACE[:size]:
        return Sniffed.HTTP2 if size == len(CLIENT_PREFACE) else Sniffed.NEED_MORE
    for index, byte in enumerate(buffer[: _MAX_METHOD + 1]):
        if byte == 0x20:
            return Sniffed.HTTP1 if index else Sniffed.GARBAGE
        if byte not in _TOKEN:
            return Sniffed.GARBAGE
    return Sniffed.NEED_MORE if len(buffer) <= _MAX_METHOD else Sniffed.GARBAGE


class HeadError(Exception):
    """The request head is not acceptable; ``status`` says which reply it gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Http1Request:
    """An HTTP/1.x request head."""

    method: bytes
    target: bytes
    version: bytes
    #: Field names lower-cased, values with surrounding whitespace removed.
    fields: list[tuple[bytes, bytes]] = field(default_factory=list)

    def values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.fields if key == name]

    def tokens(self, name: bytes) -> set[bytes]:
        """The comma-separated tokens of every ``name`` field, lower-cased."""
        found: set[bytes] = set()
        for value in self.values(name):
            found.update(part.strip().lower() for part in value.split(b","))
        found.discard(b"")
        return found


def parse_request_line(line: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``(method, target, version)`` of an HTTP/1.x request line, or None if it is not one."""
    parts = line.split(b" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if not method or not set(method) <= _TOKEN or not target:
        return None
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        return None
    if any(byte <= 0x20 or byte == 0x7F for byte in target):
        return None
    return method, target, version


def parse_request_head(head: bytes) -> Http1Request:
    """Parse a request head (without its final empty line).

    Raises:
        HeadError: 400 for a malformed field line (RFC 9112 §5).
        ValueError: the first line is not an HTTP/1.x request line.
    """
    lines = head.split(b"\r\n")
    parsed = parse_request_line(lines[0])
    if parsed is None:
        raise ValueError("not an HTTP/1.x request line")
    request = Http1Request(*parsed)
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: obsolete line folding may be rejected with 400.
            raise HeadError(400, "obsolete line folding")
        name, colon, value = line.partition(b":")
        # RFC 9112 §5.1: no whitespace between the field name and the colon.
        if not colon or not name or not set(name) <= _TOKEN:
            raise HeadError(400, "malformed field line")
        value = value.strip(b" \t")
        if any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in value):
            raise HeadError(400, "control character in a field value")
        request.fields.append((name.lower(), value))
    return request


@dataclass
class Upgrade:
    """An accepted ``Upgrade: h2c`` request."""

    settings: bytes
    body_length: int
    #: The request as HTTP/2 fields for stream 1.
    headers: list[tuple[bytes, bytes]]


def upgrade_of(request: Http1Request) -> Upgrade | None:
    """The h2c upgrade this request asks for, or None if it asks for none.

    Raises:
        HeadError: it asks to upgrade but cannot be upgraded (413: its body is
            too large to carry over; 400: a malformed ``Content-Length``).
    """
    if request.version != b"HTTP/1.1":
        return None  # RFC 9110 §7.8: Upgrade is ignored in HTTP/1.0.
    if b"h2c" not in request.tokens(b"upgrade") or b"upgrade" not in request.tokens(b"connection"):
        return None
    settings = request.values(b"http2-settings")
    # RFC 7540 §3.2.1: no upgrade without exactly one HTTP2-Settings field.
    if len(settings) != 1:
        return None
    if request.values(b"transfer-encoding"):
        return None  # a chunked body would have to be read as HTTP/1.1 first
    lengths = request.values(b"content-length")
    body_length = 0
    if lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            raise HeadError(400, "invalid Content-Length")
        body_length = int(lengths[0])
        if body_length > MAX_UPGRADE_BODY:
            raise HeadError(413, "request body too large to carry over an h2c upgrade")
    return Upgrade(settings[0], body_length, h2_request_fields(request, body_length))


def h2_request_fields(request: Http1Request, body_length: int) -> list[tuple[bytes, bytes]]:
    """The HTTP/1.1 request as an HTTP/2 field list (RFC 9113 §8.3.1)."""
    target = request.target
    authority = b""
    hosts = request.values(b"host")
    if hosts:
        authority = hosts[0]
    if target.startswith((b"http://", b"https://")):
        # Absolute form (RFC 9112 §3.2.2): the authority comes from the target.
        rest = target.split(b"://", 1)[1]
        slash = rest.find(b"/")
        authority, target = (rest, b"/") if slash < 0 else (rest[:slash], rest[slash:])
    fields = [(b":method", request.method), (b":scheme", b"http")]
    if authority:
        fields.append((b":authority", authority))
    fields.append((b":path", target))
    dropped = _CONNECTION_SPECIFIC | request.tokens(b"connection")
    for name, value in request.fields:
        if name == b"te" and value.lower() == b"trailers":
            fields.append((name, value))  # RFC 9113 §8.2.2: the one TE value allowed
        elif name not in dropped:
            fields.append((name, value))
    if body_length:
        fields.append((b"content-length", str(body_length).encode("ascii")))
    return fields


SWITCHING_PROTOCOLS = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

_REASONS = {
    400: b"Bad Request",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    505: b"HTTP Version Not Supported",
}


def error_reply(status: int, message: str, head_only: bool = False) -> bytes:
    """A complete HTTP/1.1 error response that closes the connection."""
    body = (message + "\n").encode("utf-8")
    head = (
        b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        + b"Content-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Length: %d\r\n" % len(body)
        + b"Connection: close\r\n\r\n"
    )
    return head if head_only else head + body
