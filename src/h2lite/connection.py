"""The sans-I/O HTTP/2 connection: routes frames and API calls to the rule modules.

Receive: bytes -> :mod:`.framereader` -> a handler per frame type here ->
:mod:`.stream` / :mod:`.flow` / :mod:`.settings` / :mod:`.headers` / :mod:`.guard`
-> events.  Send: API call -> stream checks -> per-stream queue ->
:mod:`.scheduler` + windows -> frames -> output buffer.
"""

from __future__ import annotations

import base64
import binascii
import enum
from typing import Any, Callable, Iterable, Mapping

from . import events as ev
from . import frames as fr
from .codes import (
    CLIENT_PREFACE,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_WINDOW,
    MAX_STREAM_ID,
    MAX_WINDOW,
    ErrorCode,
    FrameType,
    Setting,
    to_enum,
)
from .config import Config
from .exceptions import (
    DenialOfServiceError,
    FlowControlError,
    FrameTooLargeError,
    LocalProtocolError,
    NoAvailableStreamIDError,
    ProtocolError,
    RemoteProtocolError,
    StreamClosedError,
    TooManyStreamsError,
)
from .flow import InboundWindow, WindowOverflow, add_credit, replenish_threshold
from .framereader import FrameReader, HeaderBlock
from .guard import Guard
from .headers import (
    Decoder,
    Encoder,
    MalformedHeaders,
    check_outbound_request,
    check_outbound_response,
    check_outbound_trailers,
    check_request,
    check_response,
    check_trailers,
    decode_strings,
    normalize_inbound,
    prepare_outbound,
)
from .scheduler import Scheduler
from .settings import LocalSettings, Settings, SettingsError, check_value
from .stream import (
    ACTIVE_STATES,
    CAN_RECEIVE,
    CAN_SEND,
    CLOSED,
    HALF_CLOSED_REMOTE,
    IDLE,
    OPEN,
    RESERVED_LOCAL,
    RESERVED_REMOTE,
    TRANSITIONS,
    ClosedStreams,
    Stream,
    StreamInput,
)

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
    IDLE = "idle"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Connection:
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
        self._guard = Guard(
            limits.reset_burst,
            limits.reset_rate,
            limits.glitch_burst,
            limits.glitch_rate,
            limits.max_queued_control_frames,
            config.clock,
        )
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

    # -- receiving -----------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[ev.Event]:
        """Process received bytes; return the events they produced.

        Raises:
            RemoteProtocolError: the peer broke the protocol.  GOAWAY is queued,
                the connection is closed, and ``exc.events`` holds the events
                produced before the violation.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("receive_data() takes bytes-like data")
        if self._dead is not None:
            raise LocalProtocolError(f"the connection is closed ({self._dead})")
        events: list[ev.Event] = []
        self._events = events
        reader = self._reader
        handlers = self._handlers
        try:
            frame_list, error = reader.feed(data)
            while True:
                # The frames were cut with this limit; a SETTINGS ACK among them
                # may lower it for the frames that follow the ACK.
                cut_limit = limit = reader.max_frame_size
                for frame_type, flags, stream_id, payload in frame_list:
                    if limit < cut_limit and len(payload) > limit:
                        # RFC 9113 §4.2: the same verdict as if the bytes had come in separate reads.
                        raise FrameTooLargeError(f"frame of {len(payload)} bytes exceeds SETTINGS_MAX_FRAME_SIZE {limit}")
                    if self._header_block is not None and frame_type != fr.CONTINUATION:
                        # RFC 9113 §6.10: nothing may interleave a header block.
                        raise RemoteProtocolError("frame interleaved in a header block")
                    if not self._settings_received:
                        self._check_first_frame(frame_type, flags)
                    handler = handlers.get(frame_type)
                    if handler is None:
                        self._on_unknown(frame_type, flags, stream_id, payload)
                    else:
                        handler(flags, stream_id, payload)
                        if frame_type == fr.SETTINGS:
                            limit = reader.max_frame_size
                if error is None:
                    if limit < cut_limit:
                        # RFC 9113 §4.2: the lowered limit also applies to a header already buffered.
                        error = reader.recheck()
                        if error is not None:
                            raise error
                    break
                # A SETTINGS ACK in this batch may have raised our frame size limit.
                frame_list, error = reader.feed(b"")
                if error is not None and not frame_list:
                    raise error
        except RemoteProtocolError as exc:
            self._fail(exc)
            exc.events = events
            raise
        return events

    def _check_first_frame(self, frame_type: int, flags: int) -> None:
        # RFC 9113 §3.4: the first frame from the peer MUST be SETTINGS (not an ACK).
        if frame_type != fr.SETTINGS or flags & _ACK:
            raise RemoteProtocolError("the peer's preface does not start with SETTINGS")
        self._settings_received = True

    def _fail(self, exc: ProtocolError) -> None:
        """A connection error: queue GOAWAY and stop."""
        if self._dead is None:
            self._out.append(
                fr.goaway_frame(self._highest_inbound, int(exc.error_code), str(exc).encode("utf-8", "replace")[:256])
            )
            self._goaway_sent = self._highest_inbound
        self._dead = str(exc) or exc.error_code.name
        self._state = ConnectionState.CLOSED
        self._header_block = None

    def _control_reply(self, frame: bytes) -> None:
        self._out.append(frame)
        if not self._guard.control_reply():
            raise DenialOfServiceError("too many control-frame replies queued and not drained")

    def _glitch(self) -> None:
        if not self._guard.glitch():
            raise DenialOfServiceError("too many suspicious frames or provoked stream errors")

    def _is_idle(self, stream_id: int) -> bool:
        """True for a stream ID that neither side has used yet (RFC 9113 §5.1.1)."""
        if (stream_id & 1) == self.client_side:
            return stream_id >= self._next_stream_id
        return stream_id > self._highest_inbound

    def _stream_error(self, stream_id: int, error_code: ErrorCode, stream: Stream | None = None) -> None:
        """Reset a stream because the peer broke a stream-level rule."""
        self._glitch()
        self._control_reply(fr.rst_stream_frame(stream_id, error_code))
        if stream is None:
            stream = self._streams.get(stream_id)
        if stream is not None:
            self._transition(stream, SEND_RST)
            self._events.append(ev.StreamReset(stream_id=stream_id, error_code=error_code, remote_reset=False))
        elif not self._is_idle(stream_id):
            self._closed.add(stream_id, _RESET_SENT)

    def _late_frame(self, stream_id: int, frame_type: int) -> None:
        """A frame for a stream that is not (or no longer) live."""
        if self._is_idle(stream_id):
            # RFC 9113 §5.1: only HEADERS/PRIORITY may arrive on an idle stream.
            raise RemoteProtocolError(f"{FrameType(frame_type).name} on idle stream {stream_id}")
        how = self._closed.get(stream_id)
        if how == _RESET_SENT:
            return  # RFC 9113 §5.1: ignore frames after we sent RST_STREAM.
        if frame_type == fr.WINDOW_UPDATE or frame_type == fr.RST_STREAM:
            return  # allowed for a short while after END_STREAM; harmless otherwise
        if how == _ENDED:
            # RFC 9113 §5.1: frames after END_STREAM are a connection error STREAM_CLOSED.
            raise RemoteProtocolError(f"frame on closed stream {stream_id}", ErrorCode.STREAM_CLOSED)
        if how is None and frame_type == fr.HEADERS and (stream_id & 1) != self.client_side:
            # RFC 9113 §5.1.1: a new stream ID must exceed every earlier one.
            raise RemoteProtocolError(f"HEADERS reuses stream ID {stream_id}")
        # RFC 9113 §5.1: after the peer's RST_STREAM, a stream error STREAM_CLOSED.
        self._stream_error(stream_id, ErrorCode.STREAM_CLOSED)

    # frame handlers: (flags, stream_id, payload) ------------------------------

    def _on_data(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise RemoteProtocolError("DATA on stream 0")  # RFC 9113 §6.1
        size = len(payload)
        if flags & _PADDED:
            data = self._unpad(payload)
        else:
            data = payload
        inbound = self._inbound
        # RFC 9113 §6.9.1: a sender MUST NOT exceed the connection window.
        if size > inbound.window:
            raise FlowControlError("DATA exceeds the connection flow-control window")
        inbound.window -= size
        stream = self._streams.get(stream_id)
        if stream is None or stream.state not in CAN_RECEIVE:
            self._credit_connection(size)
            if stream is None:
                self._late_frame(stream_id, fr.DATA)
            elif stream.state is HALF_CLOSED_REMOTE:
                self._stream_error(stream_id, ErrorCode.STREAM_CLOSED, stream)
            else:
                raise RemoteProtocolError(f"DATA on stream {stream_id} in state {stream.state.name}")
            return
        if size > stream.inbound_window:
            self._credit_connection(size)
            self._stream_error(stream_id, ErrorCode.FLOW_CONTROL_ERROR, stream)
            return
        stream.inbound_window -= size
        if not stream.headers_received:
            # RFC 9113 §8.1: DATA before the message's HEADERS is malformed.
            self._credit_connection(size)
            self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
            return
        end_stream = flags & _END_STREAM
        if stream.expected_length is not None:
            stream.received_length += len(data)
            # RFC 9113 §8.1.1: DATA that does not add up to content-length is malformed.
            if stream.received_length > stream.expected_length or (
                end_stream and stream.received_length != stream.expected_length
            ):
                self._credit_connection(size)
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
        elif not data and not end_stream:
            self._glitch()  # empty DATA without END_STREAM (CVE-2019-9518)
        self._events.append(
            ev.DataReceived(stream_id=stream_id, data=data, flow_controlled_length=size, end_stream=bool(end_stream))
        )
        if self._auto:
            self._credit(stream, size, end_stream)
        elif size != len(data):
            # Manual mode: the caller acknowledges len(data); padding is ours to return.
            self._credit(stream, size - len(data), end_stream)
        if end_stream:
            self._end_received(stream)

    def _unpad(self, payload: bytes) -> bytes:
        try:
            return fr.strip_padding(payload)[0]
        except fr.FrameError as exc:
            raise RemoteProtocolError(str(exc)) from None

    def _credit_connection(self, size: int) -> None:
        increment = self._inbound.consume(size)
        if increment:
            self._out.append(fr.window_update_frame(0, increment))

    def _credit(self, stream: Stream, size: int, end_stream: int) -> None:
        increment = self._inbound.consume(size)
        if increment:
            self._out.append(fr.window_update_frame(0, increment))
        if end_stream:
            return
        pending = stream.inbound_pending + size
        if pending >= self._stream_threshold:
            stream.inbound_pending = 0
            stream.inbound_window += pending
            self._out.append(fr.window_update_frame(stream.stream_id, pending))
        else:
            stream.inbound_pending = pending

    def _end_received(self, stream: Stream) -> None:
        expected = stream.expected_length
        if expected is not None and stream.received_length != expected:
            # RFC 9113 §8.1.1: content-length must match the DATA received.
            self._stream_error(stream.stream_id, ErrorCode.PROTOCOL_ERROR, stream)
            return
        self._transition(stream, RECV_END_STREAM)
        self._events.append(ev.StreamEnded(stream_id=stream.stream_id))

    def _on_headers(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise RemoteProtocolError("HEADERS on stream 0")  # RFC 9113 §6.2
        if flags & _PADDED:
            # RFC 9113 §6.2: padding must leave room for the priority fields (PROTOCOL_ERROR).
            if flags & _PRIORITY and len(payload) >= 6 and payload[0] > len(payload) - 6:
                raise RemoteProtocolError("HEADERS padding overlaps the priority fields")
            payload = self._unpad(payload)
        priority = None
        if flags & _PRIORITY:
            if len(payload) < 5:
                raise RemoteProtocolError("HEADERS too short for its priority fields", ErrorCode.FRAME_SIZE_ERROR)
            priority = fr.parse_priority(payload[:5])
            payload = payload[5:]
        if flags & _END_HEADERS:
            self._header_list(stream_id, flags, self._decoder.decode(payload), priority)
        else:
            self._begin_block(fr.HEADERS, stream_id, flags, payload, priority)

    def _begin_block(self, frame_type: int, stream_id: int, flags: int, fragment: bytes, extra: Any) -> None:
        limits = self.config.limits
        self._header_block = HeaderBlock(
            frame_type, stream_id, flags, fragment, extra, self.config.header_block_limit, limits.max_continuation_frames
        )

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes) -> None:
        block = self._header_block
        if block is None:
            # RFC 9113 §6.10: CONTINUATION must follow HEADERS/PUSH_PROMISE/CONTINUATION.
            raise RemoteProtocolError("CONTINUATION without a header block in progress")
        block.add(stream_id, payload)
        if flags & _END_HEADERS:
            self._header_block = None
            headers = self._decoder.decode(block.block())
            if block.frame_type == fr.HEADERS:
                self._header_list(stream_id, block.flags, headers, block.extra)
            else:
                self._push_list(stream_id, block.extra, headers)

    def _header_list(self, stream_id: int, flags: int, headers: list[Any], priority: Any) -> None:
        """A complete, decoded header block arrived on ``stream_id``."""
        if priority is not None and priority[0] == stream_id:
            # RFC 9113 §5.3.1: a stream cannot depend on itself.
            new = stream_id not in self._streams and not self.client_side and stream_id & 1 and stream_id > self._highest_inbound
            if new:
                self._highest_inbound = stream_id  # the ID is used: the stream is closed, not idle
            self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR)
            if new:
                self._events.append(ev.StreamReset(stream_id=stream_id, error_code=ErrorCode.PROTOCOL_ERROR, remote_reset=False))
            return
        if len(headers) > self._decoder.max_fields:
            self._refuse_oversized(stream_id)
            return
        stream = self._streams.get(stream_id)
        end_stream = flags & _END_STREAM
        if stream is None:
            if self.client_side or not (stream_id & 1) or stream_id <= self._highest_inbound:
                if self._is_idle(stream_id):
                    # RFC 9113 §5.1.1: clients open odd streams; servers only push.
                    raise RemoteProtocolError(f"HEADERS opening stream {stream_id} is not allowed")
                self._late_frame(stream_id, fr.HEADERS)
                return
            self._open_request(stream_id, headers, end_stream)
            return
        state = stream.state
        if state not in CAN_RECEIVE:
            if state is RESERVED_REMOTE:
                self._pushed_response(stream, headers, end_stream)
            elif state is HALF_CLOSED_REMOTE:
                self._stream_error(stream_id, ErrorCode.STREAM_CLOSED, stream)
            else:
                raise RemoteProtocolError(f"HEADERS on stream {stream_id} in state {state.name}")
            return
        if self.client_side and not stream.final_response:
            self._response(stream, headers, end_stream)
        else:
            self._trailers(stream, headers, end_stream)

    def _refuse_oversized(self, stream_id: int) -> None:
        """Too many fields in one list: refuse the request (a stream error)."""
        stream = self._streams.get(stream_id)
        if stream is None and not self.client_side and stream_id & 1 and stream_id > self._highest_inbound:
            self._highest_inbound = stream_id
        self._glitch()
        self._control_reply(fr.rst_stream_frame(stream_id, ErrorCode.REFUSED_STREAM))
        if stream is not None:
            self._transition(stream, SEND_RST)
        else:
            self._closed.add(stream_id, _RESET_SENT)
        self._events.append(ev.StreamReset(stream_id=stream_id, error_code=ErrorCode.REFUSED_STREAM, remote_reset=False))

    def _open_request(self, stream_id: int, headers: list[Any], end_stream: int) -> None:
        self._highest_inbound = stream_id
        if self._goaway_sent is not None and stream_id > self._goaway_sent:
            # RFC 9113 §6.8: streams above the GOAWAY's last stream ID are ignored.
            self._closed.add(stream_id, _RESET_SENT)
            return
        if self._open_inbound >= self._local.max_concurrent_streams:
            # RFC 9113 §5.1.2: refuse the excess stream only.
            self._control_reply(fr.rst_stream_frame(stream_id, ErrorCode.REFUSED_STREAM))
            self._closed.add(stream_id, _RESET_SENT)
            self._events.append(ev.StreamReset(stream_id=stream_id, error_code=ErrorCode.REFUSED_STREAM, remote_reset=False))
            return
        stream = self._new_stream(stream_id, local=False)
        self._transition(stream, RECV_HEADERS)
        if self._validate:
            try:
                method, length = check_request(headers, bool(self._local.enable_connect_protocol))
            except MalformedHeaders:
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
            stream.request_method = method
            stream.expected_length = length
            if end_stream and length:
                # RFC 9113 §8.1.1: content-length promises DATA that END_STREAM denies.
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
        stream.headers_received = True
        if self.config.normalize_inbound_headers:
            headers = normalize_inbound(headers)
        self._events.append(ev.RequestReceived(stream_id=stream_id, headers=self._present(headers), end_stream=bool(end_stream)))
        if end_stream:
            self._end_received(stream)

    def _present(self, headers: list[Any]) -> list[Any]:
        encoding = self.config.header_encoding
        return headers if encoding is None else decode_strings(headers, encoding)

    def _response(self, stream: Stream, headers: list[Any], end_stream: int) -> None:
        stream_id = stream.stream_id
        try:
            if self._validate:
                status, length = check_response(headers)
            else:
                status, length = _status_of(headers), None
        except MalformedHeaders:
            self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
            return
        if status < 200:
            if end_stream:
                # RFC 9113 §8.1: an informational response with END_STREAM is malformed.
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
            self._events.append(ev.InformationalResponseReceived(stream_id=stream_id, headers=self._present(headers)))
            return
        stream.final_response = True
        stream.headers_received = True
        if self._validate:
            if stream.request_method == b"HEAD" or status in _NO_BODY_STATUS:
                length = 0  # RFC 9110 §6.4.1: these responses have no content
            stream.expected_length = length
            if end_stream and length:
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)  # RFC 9113 §8.1.1
                return
        if self.config.normalize_inbound_headers:
            headers = normalize_inbound(headers)
        self._events.append(ev.ResponseReceived(stream_id=stream_id, headers=self._present(headers), end_stream=bool(end_stream)))
        if end_stream:
            self._end_received(stream)

    def _trailers(self, stream: Stream, headers: list[Any], end_stream: int) -> None:
        stream_id = stream.stream_id
        if self._validate:
            try:
                if not end_stream:
                    # RFC 9113 §8.1: a second header block without END_STREAM is malformed.
                    raise MalformedHeaders("trailers without END_STREAM")
                check_trailers(headers)
            except MalformedHeaders:
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
        stream.trailers_received = True
        self._events.append(ev.TrailersReceived(stream_id=stream_id, headers=self._present(headers)))
        if end_stream:
            self._end_received(stream)

    def _pushed_response(self, stream: Stream, headers: list[Any], end_stream: int) -> None:
        if self._open_inbound >= self._local.max_concurrent_streams:
            self._reset_local(stream, ErrorCode.REFUSED_STREAM)
            self._events.append(ev.StreamReset(stream_id=stream.stream_id, error_code=ErrorCode.REFUSED_STREAM, remote_reset=False))
            return
        self._transition(stream, RECV_HEADERS)
        self._response(stream, headers, end_stream)

    def _on_push_promise(self, flags: int, stream_id: int, payload: bytes) -> None:
        if not self.client_side:
            raise RemoteProtocolError("a client sent PUSH_PROMISE")  # RFC 9113 §8.4
        if self._local.enable_push == 0:
            raise RemoteProtocolError("PUSH_PROMISE after push was disabled")  # RFC 9113 §6.6
        if stream_id == 0:
            raise RemoteProtocolError("PUSH_PROMISE on stream 0")
        if flags & _PADDED:
            payload = self._unpad(payload)
        if len(payload) < 4:
            raise RemoteProtocolError("PUSH_PROMISE too short", ErrorCode.FRAME_SIZE_ERROR)
        promised = fr.parse_u32(payload[:4]) & fr.STREAM_ID_MASK
        if flags & _END_HEADERS:
            self._push_list(stream_id, promised, self._decoder.decode(payload[4:]))
        else:
            self._begin_block(fr.PUSH_PROMISE, stream_id, flags, payload[4:], promised)

    def _push_list(self, parent_id: int, promised: int, headers: list[Any]) -> None:
        # RFC 9113 §6.6: the promised ID must be a new, even, server stream ID.
        if promised & 1 or promised <= self._highest_inbound:
            raise RemoteProtocolError(f"PUSH_PROMISE with invalid promised stream ID {promised}")
        self._highest_inbound = promised
        parent = self._streams.get(parent_id)
        if parent is None or parent.state not in CAN_RECEIVE:
            if parent is None and self._closed.get(parent_id) == _RESET_SENT:
                # We reset the parent; the promise crossed our RST_STREAM.
                self._control_reply(fr.rst_stream_frame(promised, ErrorCode.CANCEL))
                self._closed.add(promised, _RESET_SENT)
                return
            raise RemoteProtocolError(f"PUSH_PROMISE on stream {parent_id} which cannot receive")
        limit = self.config.limits.max_reserved_remote_streams
        if self.config.enable_push is False or self._reserved_remote >= limit or len(headers) > self._decoder.max_fields:
            self._control_reply(fr.rst_stream_frame(promised, ErrorCode.REFUSED_STREAM))
            self._closed.add(promised, _RESET_SENT)
            return
        stream = self._new_stream(promised, local=False)
        stream.send_closed = True  # RFC 9113 §8.4: a client never sends on a pushed stream
        self._transition(stream, StreamInput.RECV_PUSH_PROMISE)
        self._reserved_remote += 1
        if self._validate:
            try:
                method, length = check_request(headers, False)
                # RFC 9113 §8.4: promised requests are safe, cacheable and without content.
                if method not in (b"GET", b"HEAD") or length:
                    raise MalformedHeaders("pushed request must be GET or HEAD without content")
            except MalformedHeaders:
                self._stream_error(promised, ErrorCode.PROTOCOL_ERROR, stream)
                return
            stream.request_method = method
        self._events.append(
            ev.PushedStreamReceived(pushed_stream_id=promised, parent_stream_id=parent_id, headers=self._present(headers))
        )

    def _on_priority(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise RemoteProtocolError("PRIORITY on stream 0")  # RFC 9113 §6.3
        if len(payload) != 5:
            # RFC 9113 §6.3: a length other than 5 is a stream error FRAME_SIZE_ERROR.
            self._stream_error(stream_id, ErrorCode.FRAME_SIZE_ERROR)
            return
        if fr.parse_priority(payload)[0] == stream_id:
            self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR)  # RFC 9113 §5.3.1
            return
        self._glitch()  # parsed, checked, otherwise ignored (RFC 9113 §5.3.2)

    def _on_rst_stream(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0:
            raise RemoteProtocolError("RST_STREAM on stream 0")  # RFC 9113 §6.4
        if len(payload) != 4:
            raise RemoteProtocolError("RST_STREAM length is not 4", ErrorCode.FRAME_SIZE_ERROR)
        stream = self._streams.get(stream_id)
        if stream is None:
            self._late_frame(stream_id, fr.RST_STREAM)
            return
        code = to_enum(ErrorCode, fr.parse_u32(payload))
        self._transition(stream, RECV_RST)
        self._events.append(ev.StreamReset(stream_id=stream_id, error_code=code, remote_reset=True))
        if not self._guard.peer_reset():
            raise DenialOfServiceError("too many streams reset by the peer (rapid reset)")

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0:
            raise RemoteProtocolError("SETTINGS on a stream")  # RFC 9113 §6.5
        if flags & _ACK:
            if payload:
                raise RemoteProtocolError("SETTINGS ACK with a payload", ErrorCode.FRAME_SIZE_ERROR)
            self._settings_acknowledged()
            return
        try:
            pairs = fr.parse_settings(payload)
        except fr.FrameError as exc:
            raise RemoteProtocolError(str(exc), exc.error_code) from None
        if len(pairs) > self.config.limits.max_settings_entries:
            raise DenialOfServiceError("too many entries in one SETTINGS frame")
        changed = self._apply_remote_settings(pairs)
        self._control_reply(fr.SETTINGS_ACK_FRAME)
        self._events.append(ev.RemoteSettingsChanged(changed_settings=changed))

    def _apply_remote_settings(self, pairs: list[tuple[int, int]]) -> dict[Any, ev.ChangedSetting]:
        for setting, value in pairs:
            try:
                check_value(setting, value)
            except SettingsError as exc:
                raise RemoteProtocolError(str(exc), exc.error_code) from None
            if setting == Setting.ENABLE_PUSH and value == 1 and not self.client_side:
                pass
            elif setting == Setting.ENABLE_PUSH and value == 1 and self.client_side:
                # RFC 9113 §6.5.2: a server MUST NOT send ENABLE_PUSH 1.
                raise RemoteProtocolError("server sent SETTINGS_ENABLE_PUSH = 1")
            elif (
                setting == Setting.ENABLE_CONNECT_PROTOCOL
                and value == 0
                and self._remote.enable_connect_protocol == 1
            ):
                # RFC 8441 §3: the setting cannot be withdrawn once sent.
                raise RemoteProtocolError("SETTINGS_ENABLE_CONNECT_PROTOCOL went from 1 to 0")
        old_window = self._remote.initial_window_size
        changed = self._remote.apply(pairs)
        remote = self._remote
        if Setting.HEADER_TABLE_SIZE in changed:
            self._encoder.set_peer_table_size(remote.header_table_size)
        delta = remote.initial_window_size - old_window
        if delta:
            # RFC 9113 §6.9.2: the change applies to every stream's window, which may go negative.
            for stream in self._streams.values():
                try:
                    stream.outbound_window = add_credit(stream.outbound_window, delta)
                except WindowOverflow:
                    raise FlowControlError("SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window") from None
                if delta > 0 and stream.out_queued and stream.state in CAN_SEND:
                    self._scheduler.add(stream)
        return changed

    def _settings_acknowledged(self) -> None:
        old_window = self._local.initial_window_size
        changed = self._local.acknowledge()
        if changed is None:
            # An ACK for SETTINGS we never sent.
            raise RemoteProtocolError("unexpected SETTINGS ACK")
        local = self._local
        self._reader.max_frame_size = local.max_frame_size
        self._decoder.max_table_size = local.header_table_size
        new_window = local.initial_window_size
        if new_window != old_window:
            delta = new_window - old_window
            self._stream_threshold = replenish_threshold(new_window)
            for stream in self._streams.values():
                stream.inbound_window += delta
        self._events.append(ev.SettingsAcknowledged(changed_settings=changed))

    def _on_ping(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0:
            raise RemoteProtocolError("PING on a stream")  # RFC 9113 §6.7
        if len(payload) != 8:
            raise RemoteProtocolError("PING length is not 8", ErrorCode.FRAME_SIZE_ERROR)
        if flags & _ACK:
            self._events.append(ev.PingAckReceived(ping_data=payload))
            return
        self._control_reply(fr.ping_frame(payload, ack=True))
        self._events.append(ev.PingReceived(ping_data=payload))

    def _on_goaway(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0:
            raise RemoteProtocolError("GOAWAY on a stream")  # RFC 9113 §6.8
        try:
            last, code, data = fr.parse_goaway(payload)
        except fr.FrameError as exc:
            raise RemoteProtocolError(str(exc), exc.error_code) from None
        if self._goaway_received is not None and last > self._goaway_received:
            # RFC 9113 §6.8: the last stream ID MUST NOT increase.
            raise RemoteProtocolError("GOAWAY raised its last stream ID")
        self._goaway_received = last
        error_code = to_enum(ErrorCode, code)
        self._events.append(ev.ConnectionTerminated(error_code=error_code, last_stream_id=last, additional_data=data))
        # Streams we opened above ``last`` were not processed: safe to retry.
        for stream in [s for s in self._streams.values() if s.local and s.stream_id > last]:
            self._reset_local(stream, None)
            self._events.append(ev.StreamReset(stream_id=stream.stream_id, error_code=ErrorCode.REFUSED_STREAM, remote_reset=True))
        if code != ErrorCode.NO_ERROR or not self._streams:
            self._state = ConnectionState.CLOSED
        else:
            self._state = ConnectionState.CLOSING

    def _on_window_update(self, flags: int, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise RemoteProtocolError("WINDOW_UPDATE length is not 4", ErrorCode.FRAME_SIZE_ERROR)
        increment = fr.parse_u32(payload) & fr.STREAM_ID_MASK
        if stream_id == 0:
            if increment == 0:
                raise RemoteProtocolError("WINDOW_UPDATE of 0 on the connection")  # RFC 9113 §6.9
            try:
                self._outbound_window = add_credit(self._outbound_window, increment)
            except WindowOverflow:
                raise FlowControlError("connection window overflow") from None  # RFC 9113 §6.9.1
            self._events.append(ev.WindowUpdated(stream_id=0, delta=increment))
            return
        stream = self._streams.get(stream_id)
        if stream is None:
            self._late_frame(stream_id, fr.WINDOW_UPDATE)
            return
        if stream.state is RESERVED_REMOTE:
            # RFC 9113 §5.1: reserved (remote) accepts only HEADERS, RST_STREAM and PRIORITY.
            raise RemoteProtocolError(f"WINDOW_UPDATE on reserved stream {stream_id}")
        if increment == 0:
            # RFC 9113 §6.9: a 0 increment on a stream is a stream error.
            self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
            return
        try:
            stream.outbound_window = add_credit(stream.outbound_window, increment)
        except WindowOverflow:
            # RFC 9113 §6.9.1: overflow on a stream is a stream error.
            self._stream_error(stream_id, ErrorCode.FLOW_CONTROL_ERROR, stream)
            return
        if stream.outbound_window > 0 and (stream.out_queued or stream.out_provider) and stream.state in CAN_SEND:
            self._scheduler.add(stream)
        self._events.append(ev.WindowUpdated(stream_id=stream_id, delta=increment))

    def _on_altsvc(self, flags: int, stream_id: int, payload: bytes) -> None:
        self._glitch()
        if not self.client_side:
            return  # RFC 7838 §4: servers ignore ALTSVC
        try:
            origin, value = fr.parse_altsvc(payload)
        except fr.FrameError:
            return
        # RFC 7838 §4: an origin on stream 0, none on a stream; otherwise ignored.
        if (stream_id == 0) != bool(origin):
            return
        self._events.append(ev.AlternativeServiceAvailable(stream_id=stream_id, origin=origin, field_value=value))

    def _on_origin(self, flags: int, stream_id: int, payload: bytes) -> None:
        self._glitch()
        # RFC 8336 §2: only on stream 0, only to clients; ignored otherwise.
        if stream_id != 0 or not self.client_side:
            return
        try:
            origins = fr.parse_origin(payload)
        except fr.FrameError:
            return
        self._events.append(ev.OriginReceived(origins=origins))

    def _on_priority_update(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0:
            raise RemoteProtocolError("PRIORITY_UPDATE on a stream")  # RFC 9218 §7.1
        if self.client_side:
            raise RemoteProtocolError("a server sent PRIORITY_UPDATE")  # RFC 9218 §7.1
        if len(payload) < 4:
            raise RemoteProtocolError("PRIORITY_UPDATE too short", ErrorCode.FRAME_SIZE_ERROR)
        self._glitch()
        prioritized = fr.parse_u32(payload[:4]) & fr.STREAM_ID_MASK
        if prioritized == 0:
            raise RemoteProtocolError("PRIORITY_UPDATE for stream 0")
        self._events.append(ev.PriorityUpdated(stream_id=prioritized, priority_field=bytes(payload[4:])))

    def _on_unknown(self, frame_type: int, flags: int, stream_id: int, payload: bytes) -> None:
        # RFC 9113 §4.1, §5.5: unknown frame types are ignored (reported as events).
        self._glitch()
        self._events.append(ev.UnknownFrameReceived(frame_type=frame_type, flags=flags, stream_id=stream_id, payload=payload))

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

    # -- sending ---------------------------------------------------------------

    def _check_sendable(self) -> None:
        if self._dead is not None:
            raise LocalProtocolError(f"the connection is closed ({self._dead})")
        if self._state is ConnectionState.IDLE:
            raise LocalProtocolError("call initiate_connection() first")

    def _sending_stream(self, stream_id: int) -> Stream:
        _check_stream_id(stream_id)
        stream = self._streams.get(stream_id)
        if stream is None or stream.send_closed:
            raise StreamClosedError(stream_id)
        return stream

    def get_next_available_stream_id(self) -> int:
        """The next stream ID we may open (odd for clients, even for a server's pushes)."""
        if self._next_stream_id > MAX_STREAM_ID:
            raise NoAvailableStreamIDError("stream IDs are exhausted; open a new connection")
        return self._next_stream_id

    def send_headers(
        self,
        stream_id: int,
        headers: Iterable[Any],
        end_stream: bool = False,
        priority: tuple[int, int, bool] | None = None,
        pad_length: int | None = None,
    ) -> None:
        """Send a header block: a request, a response (1xx or final) or trailers.

        ``priority`` is ``(depends_on, weight, exclusive)`` for the RFC 7540
        priority fields; ``pad_length`` adds padding (RFC 9113 §6.2).
        """
        self._check_sendable()
        _check_stream_id(stream_id)
        _check_pad(pad_length)
        # Check the arguments before any stream state changes: a ValueError
        # leaves the connection as it was.
        if priority is not None:
            depends_on, weight, exclusive = priority
            _check_stream_id(depends_on, allow_zero=True)
            if not 1 <= weight <= 256:
                raise ValueError("priority weight must be in [1, 256]")
            if depends_on == stream_id:
                raise ValueError("a stream cannot depend on itself")
            prefix = fr.priority_fields(depends_on, weight, exclusive)
            flags = _PRIORITY
        else:
            prefix = b""
            flags = 0
        config = self.config
        headers = prepare_outbound(headers, config.normalize_outbound_headers, config.split_outbound_cookies)
        validate = config.validate_outbound_headers
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._open_outbound_stream(stream_id, headers, validate)
        elif stream.send_closed or _TABLE[stream.state][SEND_HEADERS] is None:
            raise StreamClosedError(stream_id)
        elif not self.client_side and not stream.final_response:
            status, _ = check_outbound_response(headers) if validate else (_status_of(headers), None)
            if status < 200 and end_stream:
                raise LocalProtocolError("an informational response cannot end the stream")
            if stream.state is RESERVED_LOCAL:
                if self._open_outbound >= self._remote.max_concurrent_streams:
                    raise TooManyStreamsError("the peer's MAX_CONCURRENT_STREAMS is reached")
            elif stream.state not in CAN_SEND:
                raise StreamClosedError(stream_id)
            if status >= 200:
                stream.final_response = True
        else:
            # Trailers: RFC 9113 §8.1, they end the stream.
            if validate:
                check_outbound_trailers(headers)
            if not end_stream:
                raise LocalProtocolError("trailers must end the stream (end_stream=True)")
            if stream.out_queued or stream.out_provider is not None:
                stream.out_trailers = headers
                stream.out_end = True
                stream.send_closed = True
                self._scheduler.add(stream)
                return
        if end_stream:
            flags |= _END_STREAM
            stream.send_closed = True
            stream.out_end = True
        self._write_headers(stream, headers, flags, prefix, pad_length)

    def _open_outbound_stream(self, stream_id: int, headers: list[Any], validate: bool) -> Stream:
        if not self.client_side:
            raise StreamClosedError(stream_id, f"stream {stream_id} is not open; servers answer requests or push")
        if stream_id & 1 == 0 or stream_id < self._next_stream_id:
            # RFC 9113 §5.1.1: new client streams use new, ascending odd IDs.
            raise LocalProtocolError(f"stream {stream_id} cannot be opened; next is {self._next_stream_id}")
        if self._goaway_received is not None:
            raise LocalProtocolError("the peer sent GOAWAY: no new streams on this connection")
        if self._open_outbound >= self._remote.max_concurrent_streams:
            raise TooManyStreamsError("the peer's MAX_CONCURRENT_STREAMS is reached")
        method = None
        if validate:
            method, _ = check_outbound_request(headers, bool(self._remote.enable_connect_protocol))
        else:
            for name, value in headers:
                if name == b":method":
                    method = value
                    break
        stream = self._new_stream(stream_id, local=True)
        stream.request_method = method
        self._next_stream_id = stream_id + 2
        return stream

    def _write_headers(self, stream: Stream, headers: list[Any], flags: int, prefix: bytes, pad_length: int | None) -> None:
        block = self._encoder.encode(headers)
        self._out.append(
            fr.header_block_frames(fr.HEADERS, stream.stream_id, prefix, block, flags, self._remote.max_frame_size, pad_length)
        )
        self._transition(stream, SEND_HEADERS)
        if flags & _END_STREAM:
            stream.end_sent_last = True
            self._transition(stream, SEND_END_STREAM)

    def send_data(self, stream_id: int, data: bytes | bytearray | memoryview, end_stream: bool = False, pad_length: int | None = None) -> None:
        """Queue DATA.  It leaves in :meth:`data_to_send` as flow control allows.

        Never raises for a small window: the data waits, visible through
        :meth:`outbound_buffer_size`.
        """
        self._check_sendable()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes-like")
        _check_pad(pad_length)
        stream = self._sending_stream(stream_id)
        if stream.state not in CAN_SEND or not (self.client_side or stream.final_response):
            raise LocalProtocolError(f"stream {stream_id} cannot carry DATA now")
        if stream.out_provider is not None:
            raise LocalProtocolError(f"stream {stream_id} has a data provider")
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        size = len(data)
        if end_stream:
            stream.send_closed = True
            stream.out_end = True
        if not stream.out_queued and pad_length is None:
            limit = stream.outbound_window
            if self._outbound_window < limit:
                limit = self._outbound_window
            if size <= limit and size <= self._remote.max_frame_size:
                # Fast path: everything fits now and nothing is queued before it.
                stream.outbound_window -= size
                self._outbound_window -= size
                if end_stream and stream.out_trailers is None:
                    self._out.append(fr.data_frame(stream_id, data, True))
                    stream.end_sent_last = True
                    self._transition(stream, SEND_END_STREAM)
                else:
                    self._out.append(fr.data_frame(stream_id, data, False))
                return
        if size or pad_length is not None:
            # A memoryview: cutting frames off the front must not copy the rest.
            stream.out_chunks.append((memoryview(data), pad_length))
            stream.out_queued += size + (pad_length + 1 if pad_length is not None else 0)
            self._queued_bytes += size
        self._scheduler.add(stream)

    def send_data_from(self, stream_id: int, provider: DataProvider) -> None:
        """Pull DATA from ``provider(max_length)`` as flow control allows.

        The provider returns ``(data, end_stream)`` with ``len(data) <= max_length``,
        or :data:`DEFERRED` to pause until :meth:`resume_data`.
        """
        self._check_sendable()
        if not callable(provider):
            raise TypeError("provider must be callable")
        stream = self._sending_stream(stream_id)
        if stream.state not in CAN_SEND or not (self.client_side or stream.final_response):
            raise LocalProtocolError(f"stream {stream_id} cannot carry DATA now")
        if stream.out_provider is not None:
            raise LocalProtocolError(f"stream {stream_id} already has a data provider")
        stream.out_provider = provider
        stream.out_deferred = False
        self._scheduler.add(stream)

    def resume_data(self, stream_id: int) -> None:
        """Wake a provider that answered DEFERRED."""
        _check_stream_id(stream_id)
        stream = self._streams.get(stream_id)
        if stream is None or stream.out_provider is None:
            raise LocalProtocolError(f"stream {stream_id} has no data provider")
        stream.out_deferred = False
        self._scheduler.add(stream)

    def end_stream(self, stream_id: int) -> None:
        """End our side of the stream (after any queued DATA)."""
        self._check_sendable()
        stream = self._sending_stream(stream_id)
        if stream.state not in CAN_SEND:
            raise StreamClosedError(stream_id)
        if not (self.client_side or stream.final_response):
            # RFC 9113 §8.1: a response starts with HEADERS.
            raise LocalProtocolError(f"stream {stream_id} has no response yet; send headers first")
        stream.send_closed = True
        stream.out_end = True
        if stream.out_queued or stream.out_provider is not None:
            self._scheduler.add(stream)
            return
        self._out.append(fr.data_frame(stream_id, b"", True))
        stream.end_sent_last = True
        self._transition(stream, SEND_END_STREAM)

    def reset_stream(self, stream_id: int, error_code: ErrorCode | int = ErrorCode.NO_ERROR) -> None:
        """Send RST_STREAM and drop whatever is queued on the stream."""
        self._check_sendable()
        _check_stream_id(stream_id)
        _check_u32(int(error_code), "error_code")
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(stream_id)
        self._reset_local(stream, int(error_code))  # type: ignore[arg-type]

    def push_stream(self, stream_id: int, promised_stream_id: int, request_headers: Iterable[Any]) -> None:
        """Promise a pushed response (server only, RFC 9113 §8.4)."""
        self._check_sendable()
        if self.client_side:
            raise LocalProtocolError("only servers push")
        if not self._remote.enable_push:
            raise LocalProtocolError("the client disabled server push")
        if self._goaway_received is not None:
            # RFC 9113 §6.8: a receiver of GOAWAY MUST NOT open additional streams.
            raise LocalProtocolError("the peer sent GOAWAY: no new streams on this connection")
        _check_stream_id(promised_stream_id)
        parent = self._sending_stream(stream_id)
        if parent.local or parent.state not in CAN_SEND:
            raise LocalProtocolError(f"cannot push on stream {stream_id}")
        if promised_stream_id & 1 or promised_stream_id < self._next_stream_id:
            raise LocalProtocolError(f"promised stream {promised_stream_id} must be the next even ID")
        config = self.config
        headers = prepare_outbound(request_headers, config.normalize_outbound_headers, config.split_outbound_cookies)
        method = None
        if config.validate_outbound_headers:
            method, length = check_outbound_request(headers, False)
            if method not in (b"GET", b"HEAD") or length:
                raise LocalProtocolError("pushed requests must be GET or HEAD without content")
        stream = self._new_stream(promised_stream_id, local=True)
        stream.request_method = method
        self._transition(stream, StreamInput.SEND_PUSH_PROMISE)
        self._next_stream_id = promised_stream_id + 2
        block = self._encoder.encode(headers)
        self._out.append(
            fr.header_block_frames(
                fr.PUSH_PROMISE, stream_id, promised_stream_id.to_bytes(4, "big"), block, 0, self._remote.max_frame_size
            )
        )

    def ping(self, opaque_data: bytes) -> None:
        """Send PING with 8 bytes of opaque data."""
        self._check_sendable()
        if not isinstance(opaque_data, bytes) or len(opaque_data) != 8:
            raise ValueError("PING data must be exactly 8 bytes")
        self._out.append(fr.ping_frame(opaque_data))

    def update_settings(self, new_settings: Mapping[Setting | int, int]) -> None:
        """Send SETTINGS; they take effect when the peer acknowledges them."""
        self._check_sendable()
        values: dict[int, int] = {}
        for setting, value in new_settings.items():
            _check_u32(int(setting), "setting") if isinstance(setting, int) else None
            if not isinstance(setting, int) or not 0 <= setting <= 0xFFFF:
                raise ValueError(f"invalid setting identifier {setting!r}")
            _check_u32(value, "setting value")
            try:
                check_value(setting, value)
            except SettingsError as exc:
                raise ValueError(str(exc)) from None
            if setting == Setting.ENABLE_PUSH and value == 1 and not self.client_side:
                raise ValueError("a server cannot enable push")
            if setting == Setting.ENABLE_CONNECT_PROTOCOL and value == 0 and self._local.pending_value(setting) == 1:
                raise ValueError("SETTINGS_ENABLE_CONNECT_PROTOCOL cannot be withdrawn")
            values[int(setting)] = value
        self._local.propose(values)
        self._out.append(fr.settings_frame(values.items()))

    def send_shutdown_notice(self) -> None:
        """First GOAWAY phase: announce shutdown (last stream ID 2^31-1)."""
        self._check_sendable()
        self._out.append(fr.goaway_frame(MAX_STREAM_ID, ErrorCode.NO_ERROR))
        if self._state is ConnectionState.OPEN:
            self._state = ConnectionState.CLOSING

    def close_connection(
        self,
        error_code: ErrorCode | int = ErrorCode.NO_ERROR,
        additional_data: bytes | None = None,
        last_stream_id: int | None = None,
    ) -> None:
        """Send GOAWAY with the last stream we processed.

        With NO_ERROR, streams at or below it may finish; new ones are ignored.
        With any other code the connection is closed at once.
        """
        self._check_sendable()
        _check_u32(int(error_code), "error_code")
        if last_stream_id is None:
            last_stream_id = self._highest_inbound
        else:
            _check_stream_id(last_stream_id, allow_zero=True)
        if additional_data is not None and not isinstance(additional_data, bytes):
            raise TypeError("additional_data must be bytes")
        self._out.append(fr.goaway_frame(last_stream_id, int(error_code), additional_data or b""))
        self._goaway_sent = last_stream_id
        if error_code != ErrorCode.NO_ERROR:
            self._dead = f"GOAWAY {to_enum(ErrorCode, int(error_code))!s} sent"
            self._state = ConnectionState.CLOSED
        else:
            self._state = ConnectionState.CLOSED if not self._streams else ConnectionState.CLOSING

    def acknowledge_received_data(self, acknowledged_size: int, stream_id: int) -> None:
        """Manual flow control: the application consumed this many bytes of DATA."""
        _check_stream_id(stream_id)
        if isinstance(acknowledged_size, bool) or not isinstance(acknowledged_size, int) or acknowledged_size < 0:
            raise ValueError("acknowledged_size must be a non-negative int")
        if self._dead is not None:
            return
        self._credit_connection(acknowledged_size)
        stream = self._streams.get(stream_id)
        if stream is not None and stream.state in CAN_RECEIVE:
            # Never credit past the initial window, whichever length the caller
            # acknowledges (len(data), or flow_controlled_length with padding).
            room = self._local.initial_window_size - stream.inbound_window - stream.inbound_pending
            pending = stream.inbound_pending + max(0, min(acknowledged_size, room))
            if pending >= self._stream_threshold:
                stream.inbound_pending = 0
                stream.inbound_window += pending
                self._out.append(fr.window_update_frame(stream_id, pending))
            else:
                stream.inbound_pending = pending

    def increment_flow_control_window(self, increment: int, stream_id: int | None = None) -> None:
        """Give the peer more credit now (WINDOW_UPDATE)."""
        self._check_sendable()
        if isinstance(increment, bool) or not isinstance(increment, int) or not 1 <= increment <= MAX_WINDOW:
            raise ValueError("increment must be in [1, 2^31-1]")
        if stream_id is None or stream_id == 0:
            inbound = self._inbound
            if inbound.window + increment > MAX_WINDOW:
                raise LocalProtocolError("the window would exceed 2^31-1", ErrorCode.FLOW_CONTROL_ERROR)
            inbound.window += increment
            inbound.target += increment
            self._out.append(fr.window_update_frame(0, increment))
            return
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(stream_id)
        if stream.inbound_window + increment > MAX_WINDOW:
            raise LocalProtocolError("the window would exceed 2^31-1", ErrorCode.FLOW_CONTROL_ERROR)
        stream.inbound_window += increment
        self._out.append(fr.window_update_frame(stream_id, increment))

    def local_flow_control_window(self, stream_id: int) -> int:
        """Bytes we may send on ``stream_id`` right now (stream and connection windows)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(stream_id)
        return max(0, min(stream.outbound_window, self._outbound_window))

    def remote_flow_control_window(self, stream_id: int) -> int:
        """Bytes the peer may send us on ``stream_id`` right now."""
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(stream_id)
        return max(0, min(stream.inbound_window, self._inbound.window))

    def outbound_buffer_size(self, stream_id: int | None = None) -> int:
        """Bytes of DATA queued and not yet released to :meth:`data_to_send`."""
        if stream_id is None:
            return self._queued_bytes
        stream = self._streams.get(stream_id)
        return 0 if stream is None else sum(len(c[0]) for c in stream.out_chunks)

    def advertise_alternative_service(self, field_value: bytes, origin: bytes | None = None, stream_id: int | None = None) -> None:
        """Send ALTSVC (RFC 7838): with ``origin`` on stream 0, or for ``stream_id``."""
        self._check_sendable()
        if self.client_side:
            raise LocalProtocolError("only servers advertise alternative services")
        if not isinstance(field_value, bytes):
            raise TypeError("field_value must be bytes")
        if (origin is None) == (stream_id is None):
            raise ValueError("give exactly one of origin and stream_id")
        if origin is not None:
            self._out.append(fr.altsvc_frame(0, origin, field_value))
        else:
            _check_stream_id(stream_id)  # type: ignore[arg-type]
            self._out.append(fr.altsvc_frame(stream_id, b"", field_value))  # type: ignore[arg-type]

    def send_origin(self, origins: Iterable[bytes]) -> None:
        """Send an ORIGIN frame (RFC 8336; server only)."""
        self._check_sendable()
        if self.client_side:
            raise LocalProtocolError("only servers send ORIGIN")
        origins = list(origins)
        if not all(isinstance(o, bytes) for o in origins):
            raise TypeError("origins must be bytes")
        self._out.append(fr.origin_frame(origins))

    def send_extension_frame(self, frame_type: int, flags: int, stream_id: int, payload: bytes) -> None:
        """Send a frame of a type h2lite does not implement (RFC 9113 §5.5)."""
        self._check_sendable()
        if not isinstance(frame_type, int) or not 0 <= frame_type <= 255:
            raise ValueError("frame_type must be in [0, 255]")
        if frame_type in self._handlers:
            raise ValueError(f"frame type {frame_type:#x} is defined; use its own method")
        if not isinstance(flags, int) or not 0 <= flags <= 255:
            raise ValueError("flags must be in [0, 255]")
        _check_stream_id(stream_id, allow_zero=True)
        if not isinstance(payload, bytes):
            raise TypeError("payload must be bytes")
        if len(payload) > self._remote.max_frame_size:
            raise ValueError("payload exceeds the peer's SETTINGS_MAX_FRAME_SIZE")
        self._out.append(fr.frame(frame_type, flags, stream_id, payload))

    # -- output ----------------------------------------------------------------

    def data_to_send(self, amount: int | None = None) -> bytes:
        """Return queued bytes (at most ``amount``), releasing DATA as windows allow."""
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
            raise ValueError("amount must be a non-negative int")
        if self._scheduler and self._outbound_window > 0 and self._dead is None:
            self._release_data()
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self._guard.drained()
        if amount is not None:
            if len(data) > amount:
                out.append(data[amount:])
                data = data[:amount]
        return data

    def _release_data(self) -> None:
        """Turn queued DATA into frames, round robin, within the windows."""
        scheduler = self._scheduler
        out = self._out
        max_frame = self._remote.max_frame_size
        while scheduler and self._outbound_window > 0:
            stream = scheduler.next()
            assert stream is not None
            if stream.state not in CAN_SEND:
                scheduler.drop_front()
                continue
            room = min(stream.outbound_window, self._outbound_window, max_frame)
            if stream.out_queued:
                if room <= 0:
                    scheduler.drop_front()  # back on WINDOW_UPDATE
                    continue
                self._frame_from_queue(stream, room, out)
            elif stream.out_provider is not None:
                if stream.out_deferred or room <= 0:
                    scheduler.drop_front()
                    continue
                self._frame_from_provider(stream, room, out)
            elif stream.out_end:
                self._finish_stream(stream, out)
            if stream.out_queued or (stream.out_provider is not None and not stream.out_deferred):
                scheduler.rotate()
            else:
                scheduler.drop_front()

    def _frame_from_queue(self, stream: Stream, room: int, out: list[bytes]) -> None:
        chunks = stream.out_chunks
        data, chunk_pad = chunks[0]
        pad = chunk_pad
        if pad is not None:
            # Padding is optional (RFC 9113 §6.1): when the window cannot hold it
            # and some data, this frame goes unpadded rather than stall forever
            # (an empty chunk keeps what padding fits).
            if pad + 1 + (1 if data else 0) > room:
                pad = None if data else room - 1
            if pad is not None:
                room -= pad + 1
        if len(data) <= room:
            chunks.popleft()
            piece = data
            # The chunk's padding was counted once in out_queued, when it was queued.
            stream.out_queued -= len(piece) + (chunk_pad + 1 if chunk_pad is not None else 0)
        else:
            piece = data[:room]
            chunks[0] = (data[room:], chunk_pad)
            stream.out_queued -= len(piece)
        size = len(piece) + (pad + 1 if pad is not None else 0)
        self._queued_bytes -= len(piece)
        stream.outbound_window -= size
        self._outbound_window -= size
        last = not chunks and stream.out_end and stream.out_provider is None
        end = last and stream.out_trailers is None
        out.append(fr.data_frame(stream.stream_id, piece, end, pad))
        if last:
            self._finish_stream(stream, out, already_ended=end)

    def _frame_from_provider(self, stream: Stream, room: int, out: list[bytes]) -> None:
        provider = stream.out_provider
        assert provider is not None
        result = provider(room)
        if result is DEFERRED:
            stream.out_deferred = True
            return
        try:
            data, done = result
        except (TypeError, ValueError):
            raise TypeError("a data provider must return (data, end_stream) or DEFERRED") from None
        if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) > room:
            raise ValueError(f"a data provider must return at most {room} bytes")
        data = bytes(data)
        size = len(data)
        stream.outbound_window -= size
        self._outbound_window -= size
        if done:
            stream.out_provider = None
            stream.out_end = True
            stream.send_closed = True
            end = stream.out_trailers is None
            out.append(fr.data_frame(stream.stream_id, data, end))
            self._finish_stream(stream, out, already_ended=end)
        elif size:
            out.append(fr.data_frame(stream.stream_id, data, False))
        else:
            # Nothing now and not finished: the same as DEFERRED, or we would spin.
            stream.out_deferred = True

    def _finish_stream(self, stream: Stream, out: list[bytes], already_ended: bool = False) -> None:
        """The queue is drained and the stream ends: trailers or END_STREAM go out."""
        if not already_ended:
            trailers = stream.out_trailers
            if trailers is not None:
                stream.out_trailers = None
                self._write_headers(stream, trailers, _END_STREAM, b"", None)
                return
            out.append(fr.data_frame(stream.stream_id, b"", True))
        stream.end_sent_last = True
        self._transition(stream, SEND_END_STREAM)


def _status_of(headers: Iterable[Any]) -> int:
    for name, value in headers:
        if name == b":status":
            try:
                return int(value)
            except ValueError:
                break
    return 200


def _check_stream_id(stream_id: Any, allow_zero: bool = False) -> None:
    if isinstance(stream_id, bool) or not isinstance(stream_id, int):
        raise TypeError(f"stream_id must be an int, got {type(stream_id).__name__}")
    if not (0 if allow_zero else 1) <= stream_id <= MAX_STREAM_ID:
        raise ValueError(f"stream_id {stream_id} is out of range")


def _check_u32(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{what} must be a 32-bit unsigned int")


def _check_pad(pad_length: Any) -> None:
    if pad_length is not None:
        if isinstance(pad_length, bool) or not isinstance(pad_length, int) or not 0 <= pad_length <= 255:
            raise ValueError("pad_length must be in [0, 255]")
