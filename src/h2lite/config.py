"""Connection configuration: :class:`Config` and the abuse :class:`Limits`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .codes import DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, MAX_MAX_FRAME_SIZE, MAX_WINDOW


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on everything a peer can make h2lite hold or repeat.

    Exceeding one gives the RFC's error, or GOAWAY ENHANCE_YOUR_CALM for floods.
    ``None`` for the header limits means "the connection's max_header_list_size".
    """

    #: Control-frame replies (PING ACK, SETTINGS ACK, RST_STREAM) queued and not yet drained.
    max_queued_control_frames: int = 1000
    #: Entries in one SETTINGS frame.
    max_settings_entries: int = 32
    #: CONTINUATION frames after one HEADERS or PUSH_PROMISE.
    max_continuation_frames: int = 8
    #: Bytes of one header block before it is decoded.
    max_header_block_size: int | None = None
    #: Decoded header list size (RFC 7541 §4.1 sizes).
    max_header_list_size: int | None = None
    #: Fields in one header list.
    max_header_fields: int = 256
    #: Streams the peer opened and then reset (rapid reset): burst, then refill per second.
    reset_burst: int = 1000
    reset_rate: float = 33.0
    #: "Glitches": empty DATA/CONTINUATION, PRIORITY, unknown and other ignorable
    #: frames, tiny WINDOW_UPDATEs, stream errors and refusals the peer provoked.
    glitch_burst: int = 10000
    glitch_rate: float = 330.0
    #: A WINDOW_UPDATE whose increment and resulting window are both below
    #: this many bytes is a glitch (a window fed a few bytes at a time); 0 = off.
    tiny_window_update: int = 1024
    #: Streams the peer reserved with PUSH_PROMISE and not yet started.
    max_reserved_remote_streams: int = 200
    #: Our HPACK encoder's dynamic table, whatever the peer allows.
    max_encoder_table_size: int = 4096
    #: Closed streams remembered to tell late frames from frames on unknown streams.
    max_closed_streams: int = 1000

    def __post_init__(self) -> None:
        for name in (
            "max_queued_control_frames",
            "max_settings_entries",
            "max_continuation_frames",
            "max_header_fields",
            "reset_burst",
            "glitch_burst",
            "tiny_window_update",
            "max_reserved_remote_streams",
            "max_encoder_table_size",
            "max_closed_streams",
        ):
            _check_int(name, getattr(self, name), 0, 2**32 - 1)
        for name in ("max_header_block_size", "max_header_list_size"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 0, 2**32 - 1)
        for name in ("reset_rate", "glitch_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything that shapes one connection.  Immutable; validated on creation."""

    #: True for a client, False for a server.
    client_side: bool = True
    #: Settings we advertise in our first SETTINGS frame.
    header_table_size: int = 4096
    enable_push: bool | None = None
    max_concurrent_streams: int = 100
    initial_window_size: int = DEFAULT_WINDOW
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    max_header_list_size: int = 65536
    enable_connect_protocol: bool = False
    #: Size our connection-level receive window is raised to at start.
    connection_window_size: int = DEFAULT_WINDOW
    #: Replenish receive windows automatically as data arrives (batched).
    auto_flow_control: bool = True
    #: RFC 9113 §8 checks on received and sent header blocks.
    validate_inbound_headers: bool = True
    validate_outbound_headers: bool = True
    normalize_inbound_headers: bool = True
    normalize_outbound_headers: bool = True
    split_outbound_cookies: bool = False
    #: If set, header names and values are decoded to ``str`` with this codec in events.
    header_encoding: str | None = None
    #: Monotonic clock in seconds, used only for rate limits.
    clock: Callable[[], float] = time.monotonic
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not isinstance(self.client_side, bool):
            raise TypeError("client_side must be a bool")
        _check_int("header_table_size", self.header_table_size, 0, 2**32 - 1)
        _check_int("max_concurrent_streams", self.max_concurrent_streams, 0, 2**32 - 1)
        _check_int("initial_window_size", self.initial_window_size, 0, MAX_WINDOW)
        _check_int(
            "max_frame_size", self.max_frame_size, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE
        )
        _check_int("max_header_list_size", self.max_header_list_size, 0, 2**32 - 1)
        _check_int("connection_window_size", self.connection_window_size, 1, MAX_WINDOW)
        if self.enable_push is not None and not isinstance(self.enable_push, bool):
            raise TypeError("enable_push must be a bool or None")
        if self.enable_push and not self.client_side:
            # RFC 9113 §6.5.2: a server MUST NOT send SETTINGS_ENABLE_PUSH = 1.
            raise ValueError("a server cannot advertise enable_push=True")
        if self.header_encoding is not None and not isinstance(self.header_encoding, str):
            raise TypeError("header_encoding must be a codec name or None")
        if not callable(self.clock):
            raise TypeError("clock must be callable")
        if not isinstance(self.limits, Limits):
            raise TypeError("limits must be a Limits instance")

    @property
    def header_block_limit(self) -> int:
        """Bytes of an encoded header block accepted before decoding."""
        limit = self.limits.max_header_block_size
        return self.max_header_list_size if limit is None else limit

    @property
    def header_list_limit(self) -> int:
        """Decoded header list size accepted (RFC 7541 §4.1 sizes)."""
        limit = self.limits.max_header_list_size
        return self.max_header_list_size if limit is None else limit
