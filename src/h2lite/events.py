"""Events returned by :meth:`h2lite.Connection.receive_data`.

Every event is frozen, slotted and complete when it is emitted: nothing is
filled in afterwards.  Header lists are lists of ``(name, value)`` byte tuples
(hpack's ``NeverIndexedHeaderTuple`` is kept for never-indexed fields).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Tuple

from .codes import ErrorCode, Setting

Headers = Sequence[Tuple[bytes, bytes]]

_REPR_BYTES = 32


def _short(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) > _REPR_BYTES:
            return f"{raw[:_REPR_BYTES]!r}...<{len(raw)} bytes>"
        return repr(raw)
    if isinstance(value, list) and len(value) > 8:
        return f"[{', '.join(repr(v) for v in value[:8])}, ...<{len(value)} items>]"
    return repr(value)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Event:
    """Base class of every event."""


    def __repr__(self) -> str:
        parts = ", ".join(
            f"{f.name}={_short(getattr(self, f.name))}" for f in dataclasses.fields(self)
        )
        return f"{type(self).__name__}({parts})"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RequestReceived(Event):
    """A server received a request's header block (RFC 9113 §8.3.1)."""

    stream_id: int
    headers: Headers
    end_stream: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ResponseReceived(Event):
    """A client received the final response header block."""

    stream_id: int
    headers: Headers
    end_stream: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InformationalResponseReceived(Event):
    """A client received a 1xx response header block (RFC 9113 §8.1)."""

    stream_id: int
    headers: Headers


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class TrailersReceived(Event):
    """A trailer section arrived; with inbound validation on, END_STREAM always follows."""

    stream_id: int
    headers: Headers


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DataReceived(Event):
    """DATA arrived.  ``flow_controlled_length`` includes padding."""

    stream_id: int
    data: bytes
    flow_controlled_length: int
    end_stream: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class StreamEnded(Event):
    """The peer closed its side of the stream (END_STREAM)."""

    stream_id: int


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class StreamReset(Event):
    """A stream was reset.

    ``remote_reset`` is True when the peer sent RST_STREAM, False when h2lite
    reset the stream because the peer broke a stream-level rule (the RST_STREAM
    with ``error_code`` is already queued).
    """

    stream_id: int
    error_code: ErrorCode | int
    remote_reset: bool = True


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class WindowUpdated(Event):
    """The peer enlarged a send window.  ``stream_id`` 0 is the connection."""

    stream_id: int
    delta: int


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ChangedSetting:
    """One setting's value before and after a change."""

    setting: Setting | int
    original_value: int | None
    new_value: int

    def __repr__(self) -> str:
        return f"ChangedSetting({self.setting!r}: {self.original_value} -> {self.new_value})"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RemoteSettingsChanged(Event):
    """The peer's SETTINGS were applied (and acknowledged) ."""

    changed_settings: Mapping[Setting | int, ChangedSetting]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SettingsAcknowledged(Event):
    """The peer acknowledged our SETTINGS; they are now in force."""

    changed_settings: Mapping[Setting | int, ChangedSetting]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PingReceived(Event):
    """A PING arrived; its ACK is already queued."""

    ping_data: bytes


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PingAckReceived(Event):
    """The peer answered one of our PINGs."""

    ping_data: bytes


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PushedStreamReceived(Event):
    """A client received PUSH_PROMISE: ``pushed_stream_id`` is now reserved."""

    pushed_stream_id: int
    parent_stream_id: int
    headers: Headers


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PriorityUpdated(Event):
    """A PRIORITY_UPDATE frame (RFC 9218 §7.1) arrived."""

    stream_id: int
    priority_field: bytes


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ConnectionTerminated(Event):
    """The peer sent GOAWAY."""

    error_code: ErrorCode | int
    last_stream_id: int
    additional_data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AlternativeServiceAvailable(Event):
    """An ALTSVC frame (RFC 7838 §4) arrived."""

    stream_id: int
    origin: bytes
    field_value: bytes


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class OriginReceived(Event):
    """An ORIGIN frame (RFC 8336) arrived."""

    origins: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class UnknownFrameReceived(Event):
    """A frame of a type h2lite does not know (RFC 9113 §4.1: ignored, reported)."""

    frame_type: int
    flags: int
    stream_id: int
    payload: bytes
