"""The sans-I/O HTTP/2 connection: state, setup and stream bookkeeping.

:class:`Connection` routes; the rules live in :mod:`.stream`, :mod:`.flow`,
:mod:`.settings`, :mod:`.headers` and :mod:`.guard`.  Its receive side
(frame handlers) is in :mod:`._inbound`, its send side (the send API and the
release of queued DATA) in :mod:`._outbound`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Callable

from . import events as ev
from . import frames as fr
from .codes import (
    CLIENT_PREFACE,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_WINDOW,
    ErrorCode,
    Setting,
)
from .config import Config
from .exceptions import (
    LocalProtocolError,
)
from .flow import InboundWindow, replenish_threshold
from .framereader import FrameReader, HeaderBlock
from .guard import Guard
from .headers import (
    Decoder,
    Encoder,
)
from .scheduler import Scheduler
from .settings import LocalSettings, Settings, SettingsError, check_value
from .stream import (
    ACTIVE_STATES,
    CLOSED,
    OPEN,
    RESERVED_REMOTE,
    ClosedStreams,
    Stream,
    StreamInput,
)

from ._common import (
    _TABLE,
    SEND_END_STREAM,
    SEND_RST,
    RECV_END_STREAM,
    RECV_RST,
    _RESET_SENT,
    _RESET_RECEIVED,
    _ENDED,
    ConnectionState,
)
from ._inbound import InboundMixin
from ._outbound import OutboundMixin


class Connection(InboundMixin, OutboundMixin):
    """One HTTP/2 connection, either role.  Feed it bytes; drain its output.

    Args:
        config: the role, advertised settings, validation switches and limits.
    """

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeError("config must be a Config")
        self.config = config
        self.client_side = config.client_side
        limits = config.limits
        self._local = LocalSettings()
        self._remote = Settings()
        self._reader = FrameReader(not config.client_side, DEFAULT_MAX_FRAME_SIZE)
        self._decoder = Decoder(config.header_list_limit, limits.max_header_fields)
        self._encoder = Encoder(limits.max_encoder_table_size)
        self._streams: dict[int, Stream] = {}
        self._closed = ClosedStreams(limits.max_closed_streams)
        self._out: list[bytes] = []
        self._scheduler = Scheduler()
        self._inbound = InboundWindow(DEFAULT_WINDOW)
        self._outbound_window = DEFAULT_WINDOW
        self._stream_threshold = replenish_threshold(DEFAULT_WINDOW)
        self._next_stream_id = 1 if config.client_side else 2
        #: Highest stream ID the peer opened or promised.
        self._highest_inbound = 0
        self._open_inbound = 0
        self._open_outbound = 0
        self._reserved_remote = 0
        self._queued_bytes = 0
        self._header_block: HeaderBlock | None = None
        self._settings_received = False
        self._state = ConnectionState.IDLE
        self._dead: str | None = None
        self._goaway_sent: int | None = None
        self._goaway_received: int | None = None
        self._guard = Guard(limits, config.clock)
        #: Bytes of one encoded header block accepted before decoding.
        self._header_block_limit = config.header_block_limit
        self._events: list[ev.Event] = []
        self._auto = config.auto_flow_control
        self._validate = config.validate_inbound_headers
        self._handlers: dict[int, Callable[[int, int, bytes], None]] = {
            fr.DATA: self._on_data,
            fr.HEADERS: self._on_headers,
            fr.PRIORITY: self._on_priority,
            fr.RST_STREAM: self._on_rst_stream,
            fr.SETTINGS: self._on_settings,
            fr.PUSH_PROMISE: self._on_push_promise,
            fr.PING: self._on_ping,
            fr.GOAWAY: self._on_goaway,
            fr.WINDOW_UPDATE: self._on_window_update,
            fr.CONTINUATION: self._on_continuation,
            fr.ALTSVC: self._on_altsvc,
            fr.ORIGIN: self._on_origin,
            fr.PRIORITY_UPDATE: self._on_priority_update,
        }

    # -- properties ---------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def local_settings(self) -> LocalSettings:
        """Our settings in force (acknowledged); ``.pending`` holds those sent but not yet acknowledged."""
        return self._local

    @property
    def remote_settings(self) -> Settings:
        return self._remote

    @property
    def open_inbound_streams(self) -> int:
        """Peer-initiated streams that are open or half-closed."""
        return self._open_inbound

    @property
    def open_outbound_streams(self) -> int:
        """Streams we initiated that are open or half-closed."""
        return self._open_outbound

    @property
    def want_read(self) -> bool:
        """False once nothing more can usefully be received."""
        return self._dead is None and self._state is not ConnectionState.CLOSED

    @property
    def want_write(self) -> bool:
        """True when :meth:`data_to_send` may return bytes.

        It can still return ``b""`` when every waiting stream is blocked by its
        own window or its provider defers.
        """
        return bool(self._out) or (bool(self._scheduler) and self._outbound_window > 0)

    # -- setup ---------------------------------------------------------------

    def _initial_settings(self) -> dict[int, int]:
        config = self.config
        values: dict[int, int] = {}
        if config.header_table_size != 4096:
            values[Setting.HEADER_TABLE_SIZE] = config.header_table_size
        if config.client_side:
            values[Setting.ENABLE_PUSH] = 0 if config.enable_push is False else 1
        values[Setting.MAX_CONCURRENT_STREAMS] = config.max_concurrent_streams
        if config.initial_window_size != DEFAULT_WINDOW:
            values[Setting.INITIAL_WINDOW_SIZE] = config.initial_window_size
        if config.max_frame_size != DEFAULT_MAX_FRAME_SIZE:
            values[Setting.MAX_FRAME_SIZE] = config.max_frame_size
        values[Setting.MAX_HEADER_LIST_SIZE] = config.max_header_list_size
        if config.enable_connect_protocol and not config.client_side:
            values[Setting.ENABLE_CONNECT_PROTOCOL] = 1
        return values

    def initiate_connection(self) -> None:
        """Queue the connection preface: client magic (client only) and our SETTINGS."""
        if self._state is not ConnectionState.IDLE:
            raise LocalProtocolError("the connection was already initiated")
        self._start(self._initial_settings())

    def _start(self, values: dict[int, int]) -> None:
        self._state = ConnectionState.OPEN
        if self.client_side:
            self._out.append(CLIENT_PREFACE)
        self._local.propose(values)
        self._out.append(fr.settings_frame(values.items()))
        increment = self._inbound.set_target(self.config.connection_window_size)
        if increment:
            self._out.append(fr.window_update_frame(0, increment))

    def initiate_upgrade_connection(self, settings_header: bytes | str | None = None) -> bytes | None:
        """Start a connection upgraded from HTTP/1.1 (``Upgrade: h2c``).

        Client: returns the ``HTTP2-Settings`` header value to put in the
        upgrade request, and queues the preface to send after the 101.
        Stream 1 (the upgrade request) is half-closed (local).

        Server: ``settings_header`` is the request's ``HTTP2-Settings`` value;
        those settings are applied, our preface is queued, and stream 1 is
        half-closed (remote), awaiting the response.
        """
        if self._state is not ConnectionState.IDLE:
            raise LocalProtocolError("the connection was already initiated")
        values = self._initial_settings()
        if self.client_side:
            payload = fr.settings_frame(values.items())[9:]
            self._start(values)
            stream = self._new_stream(1, local=True)
            stream.state = OPEN
            stream.send_closed = True
            self._transition(stream, SEND_END_STREAM)
            self._open_outbound += 1
            self._next_stream_id = 3
            return base64.urlsafe_b64encode(payload).rstrip(b"=")
        if settings_header is None:
            raise ValueError("a server needs the client's HTTP2-Settings header value")
        if isinstance(settings_header, str):
            settings_header = settings_header.encode("ascii")
        try:
            raw = base64.b64decode(settings_header + b"=" * (-len(settings_header) % 4), altchars=b"-_", validate=True)
            pairs = fr.parse_settings(raw)
            for setting, value in pairs:
                check_value(setting, value)
        except (binascii.Error, ValueError, fr.FrameError, SettingsError) as exc:
            raise ValueError(f"invalid HTTP2-Settings header: {exc}") from None
        self._start(values)
        self._apply_remote_settings(pairs)
        stream = self._new_stream(1, local=False)
        stream.state = OPEN
        self._open_inbound += 1
        self._transition(stream, RECV_END_STREAM)
        stream.headers_received = True
        self._highest_inbound = 1
        return None

    # -- stream bookkeeping ----------------------------------------------------

    def _new_stream(self, stream_id: int, local: bool) -> Stream:
        stream = Stream(stream_id, local, self._local.initial_window_size, self._remote.initial_window_size)
        self._streams[stream_id] = stream
        return stream

    def _transition(self, stream: Stream, event: StreamInput) -> Any:
        old = stream.state
        new = _TABLE[old][event]
        if new is None or new is old:
            return new
        stream.state = new
        if (old in ACTIVE_STATES) != (new in ACTIVE_STATES):
            step = 1 if new in ACTIVE_STATES else -1
            if stream.local:
                self._open_outbound += step
            else:
                self._open_inbound += step
        if old is RESERVED_REMOTE:
            self._reserved_remote -= 1
        if new is CLOSED:
            self._forget(stream, _RESET_SENT if event == SEND_RST else _RESET_RECEIVED if event == RECV_RST else _ENDED)
        return new

    def _forget(self, stream: Stream, how: int) -> None:
        del self._streams[stream.stream_id]
        self._closed.add(stream.stream_id, how)
        if stream.out_queued:
            # _queued_bytes counts DATA only; out_queued also counts padding.
            self._queued_bytes -= sum(len(data) for data, _ in stream.out_chunks)
            stream.out_queued = 0
            stream.out_chunks.clear()
        stream.out_provider = None
        if self._state is ConnectionState.CLOSING and not self._streams:
            self._state = ConnectionState.CLOSED

    def _reset_local(self, stream: Stream, error_code: ErrorCode | None) -> None:
        """Close a stream from our side; send RST_STREAM unless error_code is None."""
        if error_code is not None:
            self._out.append(fr.rst_stream_frame(stream.stream_id, error_code))
        stream.send_closed = True
        self._transition(stream, SEND_RST)
