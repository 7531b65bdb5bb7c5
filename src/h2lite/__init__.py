"""h2lite: a fast, strictly conformant, safe-by-default sans-I/O HTTP/2 engine."""

from __future__ import annotations

from . import events
from ._backend import BACKEND
from .codes import ErrorCode, Flag, FrameType, Setting
from .config import Config, Limits
from ._common import DEFERRED, ConnectionState
from .connection import Connection
from .exceptions import (
    DenialOfServiceError,
    FlowControlError,
    FrameTooLargeError,
    H2LiteError,
    InvalidHeaderError,
    LocalProtocolError,
    NoAvailableStreamIDError,
    ProtocolError,
    RemoteProtocolError,
    StreamClosedError,
    TooManyStreamsError,
)
from .stream import StreamState

__version__ = "0.1.0"

__all__ = [
    "BACKEND",
    "DEFERRED",
    "Config",
    "Connection",
    "ConnectionState",
    "DenialOfServiceError",
    "ErrorCode",
    "Flag",
    "FlowControlError",
    "FrameTooLargeError",
    "FrameType",
    "H2LiteError",
    "InvalidHeaderError",
    "Limits",
    "LocalProtocolError",
    "NoAvailableStreamIDError",
    "ProtocolError",
    "RemoteProtocolError",
    "Setting",
    "StreamClosedError",
    "StreamState",
    "TooManyStreamsError",
    "__version__",
    "events",
]
