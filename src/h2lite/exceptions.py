"""Exception hierarchy.

Errors are split by who broke the protocol:

* :class:`LocalProtocolError` — the caller misused the API.  Nothing was queued
  and the connection is still usable.
* :class:`RemoteProtocolError` — the peer broke the protocol.  A GOAWAY with
  :attr:`~ProtocolError.error_code` is queued, the connection is closed, and
  :attr:`RemoteProtocolError.events` holds every event produced from the same
  input before the violation.

Bad argument types and values raise :class:`TypeError` / :class:`ValueError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .codes import ErrorCode

if TYPE_CHECKING:
    from .events import Event


class H2LiteError(Exception):
    """Base class of every exception h2lite raises on purpose."""


class ProtocolError(H2LiteError):
    """A protocol rule was broken.  ``error_code`` is the RFC 9113 §7 code."""

    error_code: ErrorCode = ErrorCode.PROTOCOL_ERROR

    def __init__(self, message: str = "", error_code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if error_code is not None:
            self.error_code = error_code


class LocalProtocolError(ProtocolError):
    """The caller asked for something the protocol forbids; nothing was done."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol; GOAWAY is queued and the connection is closed."""

    def __init__(self, message: str = "", error_code: ErrorCode | None = None) -> None:
        super().__init__(message, error_code)
        self.events: list[Event] = []


class StreamClosedError(LocalProtocolError):
    """An action on a stream that is closed (or closed for sending)."""

    error_code = ErrorCode.STREAM_CLOSED

    def __init__(self, stream_id: int, message: str = "") -> None:
        super().__init__(message or f"stream {stream_id} is closed")
        self.stream_id = stream_id


class NoAvailableStreamIDError(LocalProtocolError):
    """Stream IDs are exhausted on this connection (RFC 9113 §5.1.1)."""


class TooManyStreamsError(LocalProtocolError):
    """Opening a stream would exceed the peer's SETTINGS_MAX_CONCURRENT_STREAMS."""

    error_code = ErrorCode.REFUSED_STREAM


class InvalidHeaderError(LocalProtocolError):
    """Outbound header fields break RFC 9113 §8."""


class FrameTooLargeError(RemoteProtocolError):
    """The peer announced a frame longer than our SETTINGS_MAX_FRAME_SIZE."""

    error_code = ErrorCode.FRAME_SIZE_ERROR


class FlowControlError(RemoteProtocolError):
    """The peer overran a flow-control window or overflowed one past 2^31-1."""

    error_code = ErrorCode.FLOW_CONTROL_ERROR


class DenialOfServiceError(RemoteProtocolError):
    """The peer exceeded a limit meant to stop abuse (GOAWAY ENHANCE_YOUR_CALM)."""

    error_code = ErrorCode.ENHANCE_YOUR_CALM
