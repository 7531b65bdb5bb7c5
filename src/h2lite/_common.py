"""Names shared by the connection's modules: flag bits, the indexed stream table,
the connection's lifecycle states and the provider's DEFERRED answer."""

from __future__ import annotations

import enum
from typing import Any, Callable

from . import frames as fr
from .stream import TRANSITIONS, ClosedStreams, StreamInput

_END_STREAM = fr.FLAG_END_STREAM
_END_HEADERS = fr.FLAG_END_HEADERS
_PADDED = fr.FLAG_PADDED
_PRIORITY = fr.FLAG_PRIORITY
_ACK = fr.FLAG_ACK

# The transition table as a list of lists for O(1) indexed lookups.
_TABLE: list[list[Any]] = [[None] * len(StreamInput) for _ in range(7)]
for (_state, _input), _new in TRANSITIONS.items():
    _TABLE[_state][_input] = _new

SEND_HEADERS = StreamInput.SEND_HEADERS
SEND_END_STREAM = StreamInput.SEND_END_STREAM
SEND_RST = StreamInput.SEND_RST_STREAM
RECV_HEADERS = StreamInput.RECV_HEADERS
RECV_END_STREAM = StreamInput.RECV_END_STREAM
RECV_RST = StreamInput.RECV_RST_STREAM

_RESET_SENT = ClosedStreams.RESET_SENT
_RESET_RECEIVED = ClosedStreams.RESET_RECEIVED
_ENDED = ClosedStreams.ENDED

_NO_BODY_STATUS = frozenset({204, 304})


class _Deferred:
    """Returned by a data provider that has nothing to send yet."""

    _instance: _Deferred | None = None

    def __new__(cls) -> _Deferred:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFERRED"


#: A provider passed to :meth:`Connection.send_data_from` returns this to pause.
DEFERRED = _Deferred()

DataProvider = Callable[[int], Any]


class ConnectionState(enum.Enum):
    """Where the connection is in its life."""

    IDLE = "idle"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
