"""Wire constants of RFC 9113 as ``IntEnum``s.

Unknown values received from a peer are not errors (RFC 9113 §5.4.1, §6.5.2,
§5.5): they stay plain ``int``s and flow through.  :func:`to_enum` does that.
"""

from __future__ import annotations

import enum
from typing import TypeVar

_E = TypeVar("_E", bound=enum.IntEnum)


class ErrorCode(enum.IntEnum):
    """Error codes of RFC 9113 §7."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


class FrameType(enum.IntEnum):
    """Frame types of RFC 9113 §6, RFC 7838 (ALTSVC), RFC 8336 (ORIGIN), RFC 9218."""

    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9
    ALTSVC = 0xA
    ORIGIN = 0xC
    PRIORITY_UPDATE = 0x10


class Flag(enum.IntFlag):
    """Frame flags.  The same bit means different things on different frames."""

    END_STREAM = 0x1
    ACK = 0x1
    END_HEADERS = 0x4
    PADDED = 0x8
    PRIORITY = 0x20


class Setting(enum.IntEnum):
    """SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441, RFC 9218)."""

    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8
    NO_RFC7540_PRIORITIES = 0x9


def to_enum(cls: type[_E], value: int) -> _E | int:
    """Return ``cls(value)`` when ``value`` is a known member, else ``value`` itself."""
    try:
        return cls(value)
    except ValueError:
        return value


# Plain ints for the hot path: attribute lookups on IntEnum members are slower.
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

MAX_WINDOW = 2**31 - 1
MAX_STREAM_ID = 2**31 - 1
DEFAULT_WINDOW = 65535
DEFAULT_MAX_FRAME_SIZE = 16384
MAX_MAX_FRAME_SIZE = 2**24 - 1
CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
