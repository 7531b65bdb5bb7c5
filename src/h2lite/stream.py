"""Stream states and every rule about them (RFC 9113 §5.1).

The state machine is the module-level table :data:`TRANSITIONS`:
``(state, input) -> new state``.  A pair missing from the table is a protocol
violation; :data:`RECEIVE_ERRORS` says which error the RFC asks for when the
peer causes it.  The module knows nothing about roles: the connection tells it
who sent what.  The documentation's state diagram is drawn from the table
(``python -m h2lite.stream``).

::

                             +--------+
                     send PP |        | recv PP
                    ,--------+  idle  +--------.
                   /         |        |         \\
                  v          +--------+          v
           +----------+          |           +----------+
           |          |          | send H /  |          |
    ,------+ reserved |          | recv H    | reserved +------.
    |      | (local)  |          |           | (remote) |      |
    |      +---+------+          v           +------+---+      |
    |          |             +--------+             |          |
    |          |     recv ES |        | send ES     |          |
    |   send H |     ,-------+  open  +-------.     | recv H   |
    |          |    /        |        |        \\    |          |
    |          v   v         +---+----+         v   v          |
    |      +----------+          |           +----------+      |
    |      |   half-  |          |           |   half-  |      |
    |      |  closed  |          | send R /  |  closed  |      |
    |      | (remote) |          | recv R    | (local)  |      |
    |      +----+-----+          |           +-----+----+      |
    |           |                |                 |           |
    |           | send ES /      |       recv ES / |           |
    |           |  send R /      v        send R / |           |
    |           |  recv R    +--------+   recv R   |           |
    | send R /  `----------->|        |<-----------'  send R / |
    | recv R                 | closed |               recv R   |
    `----------------------->|        |<-----------------------'
                             +--------+
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from typing import Any, Callable

from .codes import ErrorCode


class StreamState(enum.IntEnum):
    IDLE = 0
    RESERVED_LOCAL = 1
    RESERVED_REMOTE = 2
    OPEN = 3
    HALF_CLOSED_LOCAL = 4
    HALF_CLOSED_REMOTE = 5
    CLOSED = 6


class StreamInput(enum.IntEnum):
    SEND_HEADERS = 0
    SEND_PUSH_PROMISE = 1
    SEND_DATA = 2
    SEND_END_STREAM = 3
    SEND_RST_STREAM = 4
    SEND_WINDOW_UPDATE = 5
    RECV_HEADERS = 6
    RECV_PUSH_PROMISE = 7
    RECV_DATA = 8
    RECV_END_STREAM = 9
    RECV_RST_STREAM = 10
    RECV_WINDOW_UPDATE = 11
    RECV_PRIORITY = 12
    SEND_PRIORITY = 13


S = StreamState
I = StreamInput  # noqa: E741

IDLE = S.IDLE
RESERVED_LOCAL = S.RESERVED_LOCAL
RESERVED_REMOTE = S.RESERVED_REMOTE
OPEN = S.OPEN
HALF_CLOSED_LOCAL = S.HALF_CLOSED_LOCAL
HALF_CLOSED_REMOTE = S.HALF_CLOSED_REMOTE
CLOSED = S.CLOSED

#: States that count towards SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2).
ACTIVE_STATES = frozenset({OPEN, HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE})
#: States in which we may still send DATA / HEADERS.
CAN_SEND = frozenset({OPEN, HALF_CLOSED_REMOTE})
#: States in which the peer may still send DATA / HEADERS.
CAN_RECEIVE = frozenset({OPEN, HALF_CLOSED_LOCAL})

TRANSITIONS: dict[tuple[StreamState, StreamInput], StreamState] = {
    (S.IDLE, I.SEND_HEADERS): S.OPEN,
    (S.IDLE, I.RECV_HEADERS): S.OPEN,
    (S.IDLE, I.SEND_PUSH_PROMISE): S.RESERVED_LOCAL,
    (S.IDLE, I.RECV_PUSH_PROMISE): S.RESERVED_REMOTE,
    (S.IDLE, I.RECV_PRIORITY): S.IDLE,
    (S.IDLE, I.SEND_PRIORITY): S.IDLE,
    (S.RESERVED_LOCAL, I.SEND_HEADERS): S.HALF_CLOSED_REMOTE,
    (S.RESERVED_LOCAL, I.SEND_RST_STREAM): S.CLOSED,
    (S.RESERVED_LOCAL, I.RECV_RST_STREAM): S.CLOSED,
    (S.RESERVED_LOCAL, I.RECV_WINDOW_UPDATE): S.RESERVED_LOCAL,
    (S.RESERVED_LOCAL, I.RECV_PRIORITY): S.RESERVED_LOCAL,
    (S.RESERVED_LOCAL, I.SEND_PRIORITY): S.RESERVED_LOCAL,
    (S.RESERVED_REMOTE, I.RECV_HEADERS): S.HALF_CLOSED_LOCAL,
    (S.RESERVED_REMOTE, I.SEND_RST_STREAM): S.CLOSED,
    (S.RESERVED_REMOTE, I.RECV_RST_STREAM): S.CLOSED,
    (S.RESERVED_REMOTE, I.SEND_WINDOW_UPDATE): S.RESERVED_REMOTE,
    (S.RESERVED_REMOTE, I.RECV_PRIORITY): S.RESERVED_REMOTE,
    (S.RESERVED_REMOTE, I.SEND_PRIORITY): S.RESERVED_REMOTE,
    (S.OPEN, I.SEND_HEADERS): S.OPEN,
    (S.OPEN, I.RECV_HEADERS): S.OPEN,
    (S.OPEN, I.SEND_DATA): S.OPEN,
    (S.OPEN, I.RECV_DATA): S.OPEN,
    (S.OPEN, I.SEND_END_STREAM): S.HALF_CLOSED_LOCAL,
    (S.OPEN, I.RECV_END_STREAM): S.HALF_CLOSED_REMOTE,
    (S.OPEN, I.SEND_RST_STREAM): S.CLOSED,
    (S.OPEN, I.RECV_RST_STREAM): S.CLOSED,
    (S.OPEN, I.SEND_WINDOW_UPDATE): S.OPEN,
    (S.OPEN, I.RECV_WINDOW_UPDATE): S.OPEN,
    (S.OPEN, I.SEND_PUSH_PROMISE): S.OPEN,
    (S.OPEN, I.RECV_PUSH_PROMISE): S.OPEN,
    (S.OPEN, I.RECV_PRIORITY): S.OPEN,
    (S.OPEN, I.SEND_PRIORITY): S.OPEN,
    (S.HALF_CLOSED_LOCAL, I.RECV_HEADERS): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.RECV_DATA): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.RECV_END_STREAM): S.CLOSED,
    (S.HALF_CLOSED_LOCAL, I.RECV_PUSH_PROMISE): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.SEND_RST_STREAM): S.CLOSED,
    (S.HALF_CLOSED_LOCAL, I.RECV_RST_STREAM): S.CLOSED,
    (S.HALF_CLOSED_LOCAL, I.SEND_WINDOW_UPDATE): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.RECV_WINDOW_UPDATE): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.RECV_PRIORITY): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_LOCAL, I.SEND_PRIORITY): S.HALF_CLOSED_LOCAL,
    (S.HALF_CLOSED_REMOTE, I.SEND_HEADERS): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.SEND_DATA): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.SEND_END_STREAM): S.CLOSED,
    (S.HALF_CLOSED_REMOTE, I.SEND_PUSH_PROMISE): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.SEND_RST_STREAM): S.CLOSED,
    (S.HALF_CLOSED_REMOTE, I.RECV_RST_STREAM): S.CLOSED,
    (S.HALF_CLOSED_REMOTE, I.SEND_WINDOW_UPDATE): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.RECV_WINDOW_UPDATE): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.RECV_PRIORITY): S.HALF_CLOSED_REMOTE,
    (S.HALF_CLOSED_REMOTE, I.SEND_PRIORITY): S.HALF_CLOSED_REMOTE,
    (S.CLOSED, I.RECV_PRIORITY): S.CLOSED,
    (S.CLOSED, I.SEND_PRIORITY): S.CLOSED,
}

#: Outcome when the peer sends an input the table has no entry for:
#: (error code, True for a connection error / False for a stream error).
#: RFC 9113 §5.1: frames other than HEADERS/PRIORITY on an idle stream are a
#: connection PROTOCOL_ERROR; DATA/HEADERS on a half-closed (remote) stream are
#: a stream error STREAM_CLOSED; a reserved (local) stream may only receive
#: RST_STREAM, PRIORITY and WINDOW_UPDATE, a reserved (remote) one only HEADERS,
#: RST_STREAM and PRIORITY (connection PROTOCOL_ERROR otherwise).
RECEIVE_ERRORS: dict[StreamState, tuple[ErrorCode, bool]] = {
    S.IDLE: (ErrorCode.PROTOCOL_ERROR, True),
    S.RESERVED_LOCAL: (ErrorCode.PROTOCOL_ERROR, True),
    S.RESERVED_REMOTE: (ErrorCode.PROTOCOL_ERROR, True),
    S.OPEN: (ErrorCode.PROTOCOL_ERROR, True),
    S.HALF_CLOSED_LOCAL: (ErrorCode.PROTOCOL_ERROR, True),
    S.HALF_CLOSED_REMOTE: (ErrorCode.STREAM_CLOSED, False),
    S.CLOSED: (ErrorCode.STREAM_CLOSED, True),
}


class StreamError(Exception):
    """The peer broke a stream-level rule; the stream is reset with ``error_code``."""

    def __init__(self, stream_id: int, error_code: ErrorCode, message: str = "") -> None:
        super().__init__(message or f"stream {stream_id}: {error_code.name}")
        self.stream_id = stream_id
        self.error_code = error_code


class Stream:
    """One stream's state, windows, outbound queue and HTTP message bookkeeping."""

    __slots__ = (
        "stream_id",
        "state",
        "local",
        "inbound_window",
        "inbound_pending",
        "outbound_window",
        "out_chunks",
        "out_queued",
        "out_provider",
        "out_deferred",
        "out_end",
        "out_trailers",
        "send_closed",
        "scheduled",
        "request_method",
        "headers_received",
        "final_response",
        "expected_length",
        "received_length",
    )

    def __init__(self, stream_id: int, local: bool, inbound_window: int, outbound_window: int) -> None:
        self.stream_id = stream_id
        self.state = IDLE
        #: True when we initiated (or promised) the stream.
        self.local = local
        self.inbound_window = inbound_window
        #: Received bytes not yet returned to the peer through WINDOW_UPDATE.
        self.inbound_pending = 0
        self.outbound_window = outbound_window
        self.out_chunks: deque[Any] = deque()
        self.out_queued = 0
        self.out_provider: Callable[[int], Any] | None = None
        self.out_deferred = False
        #: No more data will be queued: END_STREAM follows the queue.
        self.out_end = False
        self.out_trailers: Any = None
        #: The caller has ended (or reset) its side: no more sending calls.
        self.send_closed = False
        #: In the scheduler's ready ring.
        self.scheduled = False
        self.request_method: bytes | None = None
        self.headers_received = False
        self.final_response = False
        self.expected_length: int | None = None
        self.received_length = 0

    def __repr__(self) -> str:
        return f"<Stream {self.stream_id} {self.state.name}>"


class ClosedStreams:
    """Bounded memory of how recently closed streams were closed.

    RFC 9113 §5.1 asks for different answers to late frames depending on how a
    stream closed.  Each entry is O(1); the oldest are forgotten past ``limit``.
    """

    RESET_SENT = 0
    RESET_RECEIVED = 1
    ENDED = 2

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int) -> None:
        self._entries: OrderedDict[int, int] = OrderedDict()
        self._limit = limit

    def add(self, stream_id: int, how: int) -> None:
        entries = self._entries
        entries[stream_id] = how
        if len(entries) > self._limit:
            entries.popitem(last=False)

    def get(self, stream_id: int) -> int | None:
        return self._entries.get(stream_id)

    def __len__(self) -> int:
        return len(self._entries)


def diagram() -> str:
    """The transition table as a Mermaid state diagram (for docs/)."""
    names = {s: s.name.lower() for s in StreamState}
    lines = ["stateDiagram-v2"]
    seen = set()
    for (state, event), new in TRANSITIONS.items():
        if state is new:
            continue
        key = (state, new, event)
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"    {names[state]} --> {names[new]}: {event.name.lower()}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(diagram())
