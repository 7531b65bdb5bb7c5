"""Sending: the send API and DATA release of :class:`h2lite.Connection` (a mixin).

API call -> stream checks -> per-stream queue -> :mod:`.scheduler` + flow
windows -> frames -> output buffer.  State lives on the Connection.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from . import frames as fr
from .codes import (
    MAX_STREAM_ID,
    MAX_WINDOW,
    ErrorCode,
    Setting,
    to_enum,
)
from .exceptions import (
    LocalProtocolError,
    NoAvailableStreamIDError,
    StreamClosedError,
    TooManyStreamsError,
)
from .headers import (
    check_outbound_request,
    check_outbound_response,
    check_outbound_trailers,
    prepare_outbound,
)
from .settings import SettingsError, check_value
from .stream import (
    CAN_RECEIVE,
    CAN_SEND,
    RESERVED_LOCAL,
    Stream,
    StreamInput,
)

from ._common import (
    _END_STREAM,
    _PRIORITY,
    _TABLE,
    SEND_HEADERS,
    SEND_END_STREAM,
    DEFERRED,
    DataProvider,
    ConnectionState,
)





class OutboundMixin:
    """Send side of :class:`~h2lite.Connection`."""

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
        # RFC 9113 §6.9.1: even an empty DATA frame must not exceed the window, so a
        # window made negative by SETTINGS (§6.9.2) holds END_STREAM back too.
        if stream.out_queued or stream.out_provider is not None or stream.outbound_window < 0:
            self._scheduler.add(stream)
            return
        self._out.append(fr.data_frame(stream_id, b"", True))
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
        # RFC 9113 §6.8: a later GOAWAY MUST NOT raise the last stream ID we sent.
        last = MAX_STREAM_ID if self._goaway_sent is None else self._goaway_sent
        self._out.append(fr.goaway_frame(last, ErrorCode.NO_ERROR))
        self._goaway_sent = last
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
        previous = self._goaway_sent
        if last_stream_id is None:
            last_stream_id = self._highest_inbound
            if previous is not None and last_stream_id > previous:
                # Streams opened after our first GOAWAY were ignored; RFC 9113 §6.8:
                # the last stream ID MUST NOT increase.
                last_stream_id = previous
        else:
            _check_stream_id(last_stream_id, allow_zero=True)
            if previous is not None and last_stream_id > previous:
                raise ValueError(f"last_stream_id {last_stream_id} is above the {previous} of the GOAWAY already sent")
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
        if stream.state is RESERVED_LOCAL:
            # RFC 9113 §5.1: reserved (local) sends only HEADERS, RST_STREAM and PRIORITY.
            raise LocalProtocolError(f"stream {stream_id} is reserved (local): send its response first")
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
        if amount is not None and len(data) > amount:
            out.append(data[amount:])
            data = data[:amount]
            # Replies still in the buffer are still undrained.
            self._guard.drained(len(out[0]))
        else:
            self._guard.drained()
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
                if stream.outbound_window < 0 and stream.out_trailers is None:
                    scheduler.drop_front()  # an empty DATA waits for the window (§6.9.1)
                    continue
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
        if pad is None:
            # Header and payload view go out separately: the payload is copied
            # once, by data_to_send()'s join, not first into a frame of its own.
            out.append(fr.frame_header(len(piece), fr.DATA, fr.FLAG_END_STREAM if end else 0, stream.stream_id))
            out.append(piece)
        else:
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
