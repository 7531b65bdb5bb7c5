"""Errors of the asyncio client (all :class:`h2lite.H2LiteError` subclasses)."""

from __future__ import annotations

from ..codes import ErrorCode
from ..exceptions import H2LiteError


class ClientError(H2LiteError):
    """Base class of the asyncio client's errors.

    ``retry_safe`` is True when the server did not process the request, so
    sending it again (on a new connection if this one is closing) is safe
    whatever its method (RFC 9113 §8.7).
    """

    retry_safe: bool = False


class ConnectError(ClientError, ConnectionError):
    """The connection could not be opened: refused, unreachable, TLS failed,
    or the server did not agree to speak HTTP/2."""

    retry_safe = True


class ConnectionClosedError(ClientError, ConnectionError):
    """The connection closed, or stopped taking requests, before the response was complete.

    Attributes:
        error_code: the GOAWAY's error code when the server sent one, else None.
        retry_safe: True when the request never left the client.
    """

    def __init__(
        self, message: str, *, error_code: ErrorCode | int | None = None, retry_safe: bool = False
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.retry_safe = retry_safe


class StreamResetError(ClientError):
    """The request's stream was reset before its response was complete.

    Attributes:
        stream_id: the stream.
        error_code: the RST_STREAM error code (``ErrorCode`` or an unknown ``int``).
        remote_reset: True when the server reset it, False when this side did.
    """

    def __init__(
        self, message: str, *, stream_id: int, error_code: ErrorCode | int, remote_reset: bool = True
    ) -> None:
        super().__init__(message)
        self.stream_id = stream_id
        self.error_code = error_code
        self.remote_reset = remote_reset


class RefusedStreamError(StreamResetError):
    """The server did not process the request: safe to retry (RFC 9113 §8.7).

    Raised for RST_STREAM ``REFUSED_STREAM`` and for a stream above the last
    stream ID of the server's GOAWAY (``goaway`` is then True; retry on a new
    connection).
    """

    retry_safe = True

    def __init__(self, message: str, *, stream_id: int, goaway: bool = False) -> None:
        super().__init__(message, stream_id=stream_id, error_code=ErrorCode.REFUSED_STREAM)
        self.goaway = goaway


def copy_error(error: ClientError) -> ClientError:
    """A fresh exception like ``error``, so each failed request gets its own traceback."""
    copy: ClientError
    if isinstance(error, ConnectionClosedError):
        copy = ConnectionClosedError(str(error), error_code=error.error_code, retry_safe=error.retry_safe)
    else:
        copy = type(error)(str(error))
    copy.__cause__ = error.__cause__
    return copy
