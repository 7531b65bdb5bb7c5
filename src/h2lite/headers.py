"""HPACK coding (through the ``hpack`` package) and RFC 9113 §8 field rules.

Inbound checks raise :class:`MalformedHeaders`; the connection turns that into
a stream error PROTOCOL_ERROR (RFC 9113 §8.1.1).  Outbound checks raise
:class:`~h2lite.exceptions.InvalidHeaderError` before anything is queued.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Iterable, Sequence

import hpack
from hpack import HeaderTuple, NeverIndexedHeaderTuple

from . import _backend
from .codes import ErrorCode
from .exceptions import DenialOfServiceError, InvalidHeaderError, RemoteProtocolError

HeaderList = list[tuple[bytes, bytes]]

# RFC 9113 §8.2.2: connection-specific fields MUST NOT appear.
CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"transfer-encoding", b"upgrade"}
)
REQUEST_PSEUDO = frozenset({b":method", b":scheme", b":authority", b":path", b":protocol"})
RESPONSE_PSEUDO = frozenset({b":status"})

# RFC 9113 §8.2.1: names are lowercase visible ASCII without separators we
# cannot carry; values carry no NUL, CR or LF and no leading/trailing whitespace.
_BAD_NAME = re.compile(rb"[^!#$%&'*+\-.^_`|~0-9a-z]")
# (A character class alone is several times faster than one regex with the
# edge alternatives too; the edges are checked by slicing.)
_BAD_VALUE_CHAR = re.compile(rb"[\x00\r\n]")
_DIGITS = re.compile(rb"[0-9]{1,18}")
# Regular (not pseudo) names already found valid; bounded so a peer cannot
# grow it without limit.
_GOOD_NAMES: set[bytes] = set()
_GOOD_NAMES_LIMIT = 4096
# Fields that need more than the generic checks (RFC 9113 §8.2.2, §8.1.1, §8.3.1).
_SPECIAL_NAMES = CONNECTION_SPECIFIC | {b"te", b"content-length", b"host"}
_EDGE_WHITESPACE = frozenset({b" ", b"\t"})
_NAME_OF = operator.itemgetter(0)
_KNOWN_PSEUDO = REQUEST_PSEUDO | RESPONSE_PSEUDO


class MalformedHeaders(Exception):
    """A received header block breaks RFC 9113 §8 (a stream error)."""

    error_code = ErrorCode.PROTOCOL_ERROR


def _name_ok(name: bytes) -> bool:
    if name in _GOOD_NAMES or name in _KNOWN_PSEUDO:
        return True
    pseudo = name[:1] == b":"
    body = name[1:] if pseudo else name
    if not body or _BAD_NAME.search(body):
        return False
    if not pseudo and len(_GOOD_NAMES) < _GOOD_NAMES_LIMIT:
        _GOOD_NAMES.add(name)
    return True


class Decoder:
    """Decodes header blocks with the peer's dynamic table.

    Besides what ``hpack`` checks, enforces RFC 7541 §4.2: at most two table
    size updates, only at the start of a block, and after we shrank the table
    (SETTINGS_HEADER_TABLE_SIZE acknowledged) the next block must start with
    an update no larger than the smallest size in force since the last block.
    """

    __slots__ = ("_decoder", "max_fields", "_required_update")

    def __init__(self, max_header_list_size: int, max_fields: int) -> None:
        # The backend's class when the connection is made (h2lite._hpack.Decoder or its C mirror).
        self._decoder = _backend.HpackDecoder(max_header_list_size=max_header_list_size)
        self.max_fields = max_fields
        #: The size the next block's first table size update must not exceed, if one is owed.
        self._required_update: int | None = None

    @property
    def max_table_size(self) -> int:
        return int(self._decoder.max_allowed_table_size)

    @max_table_size.setter
    def max_table_size(self, value: int) -> None:
        # Our SETTINGS_HEADER_TABLE_SIZE, once acknowledged (RFC 7541 §4.2).
        if value < self._decoder.header_table_size:
            owed = self._required_update
            self._required_update = value if owed is None else min(owed, value)
        self._decoder.max_allowed_table_size = value

    def decode(self, block: bytes) -> list[Any]:
        """Decode a whole block.  Errors are connection errors (RFC 9113 §4.3)."""
        if (block[:1] and block[0] & 0xE0 == 0x20) or self._required_update is not None:
            self._check_size_updates(block)
        try:
            return self._decoder.decode(block, raw=True)  # type: ignore[no-any-return]
        except hpack.OversizedHeaderListError:
            raise DenialOfServiceError(
                "header list exceeds the limit (HPACK bomb?)"
            ) from None
        except (hpack.HPACKError, IndexError, ValueError, TypeError) as exc:
            raise RemoteProtocolError(
                f"header block cannot be decoded: {exc}", ErrorCode.COMPRESSION_ERROR
            ) from None

    def _check_size_updates(self, block: bytes) -> None:
        sizes = []
        pos = 0
        while pos < len(block) and block[pos] & 0xE0 == 0x20:
            size, pos = _prefix_int(block, pos, 5)
            sizes.append(size)
        if len(sizes) > 2:
            raise RemoteProtocolError("more than two table size updates", ErrorCode.COMPRESSION_ERROR)
        owed = self._required_update
        if owed is not None:
            if not sizes or sizes[0] > owed:
                raise RemoteProtocolError(
                    "the table size update owed after SETTINGS_HEADER_TABLE_SIZE is missing",
                    ErrorCode.COMPRESSION_ERROR,
                )
            self._required_update = None


def _prefix_int(data: bytes, pos: int, bits: int) -> tuple[int, int]:
    """An RFC 7541 §5.1 integer at ``pos``; returns (value, next position)."""
    mask = (1 << bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise RemoteProtocolError("truncated or oversized HPACK integer", ErrorCode.COMPRESSION_ERROR)
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


class Encoder:
    """Encodes header blocks; its dynamic table never exceeds our cap."""

    __slots__ = ("_encoder", "cap")

    def __init__(self, cap: int) -> None:
        self._encoder = _backend.HpackEncoder()
        self.cap = cap
        if cap < 4096:
            self._encoder.header_table_size = cap

    def set_peer_table_size(self, value: int) -> None:
        """Apply the peer's SETTINGS_HEADER_TABLE_SIZE, capped by ours."""
        value = min(value, self.cap)
        # Setting the same size again would make hpack forget a pending update.
        if value != self._encoder.header_table_size:
            self._encoder.header_table_size = value
            changes = self._encoder.table_size_changes
            if len(changes) > 2:
                # Only the smallest and the last are ever signalled (see encode()):
                # keep just those, or a peer flipping the setting while we send
                # no headers would grow this list without end.
                low = min(changes)
                self._encoder.table_size_changes = [low, changes[-1]]

    @property
    def table_size(self) -> int:
        return int(self._encoder.header_table_size)

    def encode(self, headers: Iterable[Any]) -> bytes:
        changes = self._encoder.table_size_changes
        if len(changes) > 1:
            # RFC 7541 §4.2: signal the smallest size, then the final one; no more.
            low, final = min(changes), changes[-1]
            self._encoder.table_size_changes = [low, final] if low != final else [final]
        return self._encoder.encode(headers)  # type: ignore[no-any-return]


# -- inbound validation ----------------------------------------------------


# What the list-level checks need to know of a field that passed every check
# made on a field alone (RFC 9113 §8.2.1, §8.2.2).
_REGULAR, _PSEUDO, _CONTENT_LENGTH, _HOST = 0, 1, 2, 3
# Fields already classified, so a field seen again (most are: HPACK exists
# because header blocks repeat) skips the name and value checks.  Bounded in
# entries and in the size of a field; when full it starts over, so a peer
# sending endless new fields only costs itself the slower first check.
_FIELD_KINDS: dict[tuple[bytes, bytes], int] = {}
_FIELD_KINDS_LIMIT = 4096
_FIELD_KINDS_MAX_SIZE = 256


def _classify(name: bytes, value: bytes) -> int:
    """The checks that concern one field on its own; its kind, or MalformedHeaders."""
    if not _name_ok(name):
        raise MalformedHeaders(f"invalid field name {name!r}")
    if value and (
        _BAD_VALUE_CHAR.search(value) or value[:1] in _EDGE_WHITESPACE or value[-1:] in _EDGE_WHITESPACE
    ):
        raise MalformedHeaders(f"invalid value for field {name!r}")
    if name[0] == 58:  # b":"
        kind = _PSEUDO
    elif name in _SPECIAL_NAMES:
        if name in CONNECTION_SPECIFIC:
            raise MalformedHeaders(f"connection-specific field {name!r}")
        if name == b"te":
            # RFC 9113 §8.2.2: TE may only carry "trailers".
            if value != b"trailers":
                raise MalformedHeaders("te field other than 'trailers'")
            kind = _REGULAR
        elif name == b"content-length":
            if not _DIGITS.fullmatch(value):
                raise MalformedHeaders("content-length is not a number")
            kind = _CONTENT_LENGTH
        else:
            kind = _HOST
    else:
        kind = _REGULAR
    if type(name) is bytes and type(value) is bytes and len(name) + len(value) <= _FIELD_KINDS_MAX_SIZE:
        if len(_FIELD_KINDS) >= _FIELD_KINDS_LIMIT:
            _FIELD_KINDS.clear()
        _FIELD_KINDS[(name, value)] = kind
    return kind


def _scan_fields(headers: Sequence[tuple[bytes, bytes]], allowed_pseudo: frozenset[bytes]) -> tuple[dict[bytes, bytes], int | None, bool]:
    """Check every field; return (pseudo-headers, content-length or None, has host-or-authority pieces).

    Raises MalformedHeaders on any RFC 9113 §8.2 / §8.3 violation, for the
    first field in order that breaks a rule.
    """
    kind_of = _FIELD_KINDS.get
    pseudo: dict[bytes, bytes] = {}
    content_length: int | None = None
    regular_seen = False
    host: bytes | None = None
    for field in headers:
        try:
            kind = kind_of(field)
        except TypeError:  # a field given as a list
            kind = None
        if kind is None:
            name, value = field
            kind = _classify(name, value)
        if kind == _REGULAR:
            regular_seen = True
            continue
        name, value = field
        if kind == _PSEUDO:
            # RFC 9113 §8.3: pseudo-headers come first, once each, known ones only.
            if regular_seen:
                raise MalformedHeaders(f"pseudo-header {name!r} after a regular field")
            if name not in allowed_pseudo:
                raise MalformedHeaders(f"pseudo-header {name!r} not allowed here")
            if name in pseudo:
                raise MalformedHeaders(f"duplicate pseudo-header {name!r}")
            pseudo[name] = value
            continue
        regular_seen = True
        if kind == _CONTENT_LENGTH:
            length = int(value)
            if content_length is not None and content_length != length:
                raise MalformedHeaders("conflicting content-length values")
            content_length = length
        else:
            if host is not None and host != value:
                raise MalformedHeaders("conflicting host fields")
            host = value
    if host is not None:
        pseudo[b"host"] = host
    return pseudo, content_length, host is not None


def check_request(
    headers: Sequence[tuple[bytes, bytes]], connect_protocol_enabled: bool
) -> tuple[bytes, int | None]:
    """Validate a request header block; return (method, content-length)."""
    fast = _backend.check_request
    if fast is not None:
        result = fast(headers, connect_protocol_enabled)
        if result is not NotImplemented:
            return result  # type: ignore[no-any-return]
    pseudo, content_length, _ = _scan_fields(headers, REQUEST_PSEUDO)
    method = pseudo.get(b":method")
    if not method:
        raise MalformedHeaders("request without :method")
    authority = pseudo.get(b":authority")
    host = pseudo.get(b"host")
    protocol = pseudo.get(b":protocol")
    if method == b"CONNECT" and protocol is None:
        # RFC 9113 §8.5: CONNECT has :authority and no :scheme or :path.
        if b":scheme" in pseudo or b":path" in pseudo or not authority:
            raise MalformedHeaders("malformed CONNECT request")
        return method, content_length
    if protocol is not None:
        # RFC 8441 §4: :protocol only with extended CONNECT, when we allowed it.
        if not connect_protocol_enabled or method != b"CONNECT":
            raise MalformedHeaders(":protocol without extended CONNECT")
    scheme = pseudo.get(b":scheme")
    path = pseudo.get(b":path")
    # RFC 9113 §8.3.1: :method, :scheme and :path are required; :path not empty.
    if not scheme or path is None:
        raise MalformedHeaders("request without :scheme or :path")
    if not path:
        raise MalformedHeaders("empty :path")
    if scheme in (b"http", b"https"):
        if path[0] != 47 and not (path == b"*" and method == b"OPTIONS"):  # b"/"
            raise MalformedHeaders(":path must start with '/'")
        if not authority and not host:
            raise MalformedHeaders("request without :authority or host")
    if authority is not None and host is not None and authority != host:
        raise MalformedHeaders(":authority and host differ")
    return method, content_length


def check_response(headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, int | None]:
    """Validate a response header block; return (status, content-length)."""
    fast = _backend.check_response
    if fast is not None:
        result = fast(headers)
        if result is not NotImplemented:
            return result  # type: ignore[no-any-return]
    pseudo, content_length, _ = _scan_fields(headers, RESPONSE_PSEUDO)
    status = pseudo.get(b":status")
    # RFC 9113 §8.3.2: exactly one :status, a three-digit code.
    if status is None or len(status) != 3 or not status.isdigit():
        raise MalformedHeaders("response without a valid :status")
    code = int(status)
    if code < 100 or code == 101:
        # RFC 9113 §8.6: 101 (Switching Protocols) is not part of HTTP/2.
        raise MalformedHeaders(f"status {code} is not allowed in HTTP/2")
    return code, content_length


def check_trailers(headers: Sequence[tuple[bytes, bytes]]) -> None:
    """RFC 9113 §8.1: trailers carry no pseudo-header fields."""
    fast = _backend.check_trailers
    if fast is not None and fast(headers) is not NotImplemented:
        return
    _scan_fields(headers, frozenset())


def normalize_inbound(headers: list[Any]) -> list[Any]:
    """Join cookie crumbs into one field (RFC 9113 §8.2.3)."""
    fast = _backend.normalize_inbound
    if fast is not None:
        result = fast(headers)
        if result is not NotImplemented:
            return result  # type: ignore[no-any-return]
    if list(map(_NAME_OF, headers)).count(b"cookie") < 2:
        return headers
    crumbs = [value for name, value in headers if name == b"cookie"]
    out = [h for h in headers if h[0] != b"cookie"]
    # A never-indexed crumb makes the joined cookie never-indexed (RFC 7541 §7.1.3).
    sensitive = any(isinstance(h, NeverIndexedHeaderTuple) for h in headers if h[0] == b"cookie")
    out.append((NeverIndexedHeaderTuple if sensitive else HeaderTuple)(b"cookie", b"; ".join(crumbs)))
    return out


# -- outbound --------------------------------------------------------------


def _to_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"header {what} must be bytes or str, not {type(value).__name__}")


def prepare_outbound(
    headers: Iterable[Any], normalize: bool, split_cookies: bool
) -> list[tuple[bytes, bytes]]:
    """Convert to byte tuples (keeping never-indexed fields) and normalise."""
    fast = _backend.prepare_outbound
    if fast is not None:
        return fast(headers, normalize, split_cookies)  # type: ignore[no-any-return]
    if isinstance(headers, (str, bytes)) or not hasattr(headers, "__iter__"):
        raise TypeError("headers must be an iterable of (name, value) pairs")
    out: list[Any] = []
    for item in headers:
        if type(item) is tuple and len(item) == 2:
            name, value = item
            # A field that passed the checks before is already in normal form
            # (lowercase name, no edge whitespace); only cookies may still split.
            if type(name) is bytes and type(value) is bytes and name != b"cookie" and item in _FIELD_KINDS:
                out.append(item)
                continue
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"header field must be a (name, value) pair, got {item!r}") from None
        name = _to_bytes(name, "name")
        value = _to_bytes(value, "value")
        if normalize:
            name = name.lower()
            value = value.strip(b" \t")
        sensitive = isinstance(item, NeverIndexedHeaderTuple)
        if split_cookies and name == b"cookie" and b"; " in value:
            for crumb in value.split(b"; "):
                out.append(NeverIndexedHeaderTuple(name, crumb) if sensitive else (name, crumb))
            continue
        if sensitive:
            out.append(NeverIndexedHeaderTuple(name, value))
        elif type(item) is tuple and item[0] is name and item[1] is value:
            out.append(item)
        else:
            out.append((name, value))
    return out


def _outbound(check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except MalformedHeaders as exc:
        raise InvalidHeaderError(str(exc)) from None


def check_outbound_request(headers: Sequence[tuple[bytes, bytes]], connect_protocol: bool) -> tuple[bytes, int | None]:
    return _outbound(check_request, headers, connect_protocol)  # type: ignore[no-any-return]


def check_outbound_response(headers: Sequence[tuple[bytes, bytes]]) -> tuple[int, int | None]:
    return _outbound(check_response, headers)  # type: ignore[no-any-return]


def check_outbound_trailers(headers: Sequence[tuple[bytes, bytes]]) -> None:
    _outbound(check_trailers, headers)


def decode_strings(headers: Sequence[tuple[bytes, bytes]], encoding: str) -> list[Any]:
    """Headers as ``str`` tuples for ``Config.header_encoding``."""
    out: list[Any] = []
    for h in headers:
        name, value = h[0].decode(encoding), h[1].decode(encoding)
        out.append(NeverIndexedHeaderTuple(name, value) if isinstance(h, NeverIndexedHeaderTuple) else (name, value))
    return out
