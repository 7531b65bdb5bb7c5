"""Receiving: frame handlers of :class:`h2lite.Connection` (a mixin).

bytes -> :mod:`.framereader` -> one handler per frame type -> the rule
modules (:mod:`.stream`, :mod:`.flow`, :mod:`.settings`, :mod:`.headers`,
:mod:`.guard`) -> events.  State lives on the Connection.
"""

from __future__ import annotations

from typing import Any

from . import events as ev
from . import frames as fr
from .codes import (
    ErrorCode,
    FrameType,
    Setting,
    to_enum,
)
from .exceptions import (
    DenialOfServiceError,
    FlowControlError,
    FrameTooLargeError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from .flow import WindowOverflow, add_credit, replenish_threshold
from .framereader import HeaderBlock
from .headers import (
    MalformedHeaders,
    check_request,
    check_response,
    check_trailers,
    decode_strings,
    normalize_inbound,
)
from .settings import SettingsError, check_value
from .stream import (
    CAN_RECEIVE,
    CAN_SEND,
    HALF_CLOSED_REMOTE,
    RESERVED_REMOTE,
    Stream,
    StreamInput,
)

from ._common import (
    _END_STREAM,
    _END_HEADERS,
    _PADDED,
    _PRIORITY,
    _ACK,
    SEND_RST,
    RECV_HEADERS,
    RECV_END_STREAM,
    RECV_RST,
    _RESET_SENT,
    _ENDED,
    _NO_BODY_STATUS,
    ConnectionState,
)
from ._outbound import _status_of





class InboundMixin:
    """Receive side of :class:`~h2lite.Connection`."""

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
            last = self._highest_inbound
            if self._goaway_sent is not None and last > self._goaway_sent:
                last = self._goaway_sent  # RFC 9113 §6.8: never above an earlier GOAWAY's
            self._out.append(fr.goaway_frame(last, int(exc.error_code), str(exc).encode("utf-8", "replace")[:256]))
            self._goaway_sent = last
        self._dead = str(exc) or exc.error_code.name
        self._state = ConnectionState.CLOSED
        self._header_block = None

    def _control_reply(self, frame: bytes) -> None:
        # Checked first: the output never holds more replies than the limit.
        if not self._guard.control_reply():
            raise DenialOfServiceError("too many control-frame replies queued and not drained")
        self._out.append(frame)

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
        if size and size > stream.inbound_window:
            # An empty DATA frame consumes no window, even one a SETTINGS change
            # made negative (RFC 9113 §6.9.2): only a payload can exceed it.
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
        if not data and not end_stream:
            self._glitch()  # empty DATA without END_STREAM (CVE-2019-9518)
        if stream.expected_length is not None:
            stream.received_length += len(data)
            # RFC 9113 §8.1.1: DATA that does not add up to content-length is malformed.
            if stream.received_length > stream.expected_length or (
                end_stream and stream.received_length != stream.expected_length
            ):
                self._credit_connection(size)
                self._stream_error(stream_id, ErrorCode.PROTOCOL_ERROR, stream)
                return
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
            if len(payload) > self._header_block_limit:
                raise DenialOfServiceError("header block exceeds the size limit")
            self._header_list(stream_id, flags, self._decoder.decode(payload), priority)
        else:
            self._begin_block(fr.HEADERS, stream_id, flags, payload, priority)

    def _begin_block(self, frame_type: int, stream_id: int, flags: int, fragment: bytes, extra: Any) -> None:
        limits = self.config.limits
        self._header_block = HeaderBlock(
            frame_type, stream_id, flags, fragment, extra, self._header_block_limit, limits.max_continuation_frames
        )

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes) -> None:
        block = self._header_block
        if block is None:
            # RFC 9113 §6.10: CONTINUATION must follow HEADERS/PUSH_PROMISE/CONTINUATION.
            raise RemoteProtocolError("CONTINUATION without a header block in progress")
        block.add(stream_id, payload)
        if not payload:
            self._glitch()  # an empty CONTINUATION carries nothing (CVE-2019-9518)
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
        stream = self._streams.get(stream_id)
        if len(headers) > self._decoder.max_fields:
            if stream is None:
                # Only a new request can be refused; HEADERS that break a stream
                # ID rule get the answer the RFC gives below, whatever their size.
                refuse = not self.client_side and stream_id & 1 and stream_id > self._highest_inbound and (
                    self._goaway_sent is None or stream_id <= self._goaway_sent
                )
            else:
                refuse = stream.state in CAN_RECEIVE or stream.state is RESERVED_REMOTE
            if refuse:
                self._refuse_oversized(stream_id, stream)
                return
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

    def _refuse_oversized(self, stream_id: int, stream: Stream | None) -> None:
        """Too many fields in one list: refuse the request (a stream error)."""
        if stream is None:
            self._highest_inbound = stream_id  # the ID is used: the stream is closed, not idle
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
            # RFC 9113 §5.1.2: refuse the excess stream only.  The limit was
            # acknowledged, so a peer that exceeds it does so on purpose.
            self._glitch()
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
        self._events.append(ev.TrailersReceived(stream_id=stream_id, headers=self._present(headers)))
        if end_stream:
            self._end_received(stream)

    def _pushed_response(self, stream: Stream, headers: list[Any], end_stream: int) -> None:
        if self._open_inbound >= self._local.max_concurrent_streams:
            # RFC 9113 §5.1.2: a stream error; counted and queued like any other.
            self._stream_error(stream.stream_id, ErrorCode.REFUSED_STREAM, stream)
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
            if len(payload) - 4 > self._header_block_limit:
                raise DenialOfServiceError("header block exceeds the size limit")
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
        if self._goaway_sent is not None and promised > self._goaway_sent:
            # RFC 9113 §6.8: after our GOAWAY, streams the peer initiates above its
            # last stream ID are ignored; the peer drops them when it reads the GOAWAY.
            self._closed.add(promised, _RESET_SENT)
            return
        limit = self.config.limits.max_reserved_remote_streams
        if self.config.enable_push is False or self._reserved_remote >= limit or len(headers) > self._decoder.max_fields:
            if self.config.enable_push is not False:
                self._glitch()  # a push flood (or a bloated promise), not a race with our SETTINGS
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
        # Only streams the peer opened cost us work it can cancel (CVE-2023-44487);
        # a server refusing our own requests is back-pressure, not an attack.
        if not stream.local and not self._guard.peer_reset():
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
            if setting == Setting.ENABLE_PUSH and value == 1 and self.client_side:
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
        changed = self._remote.apply(pairs, keep_unknown=False)
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
                if delta > 0 and stream.state in CAN_SEND and (
                    stream.out_queued or stream.out_provider is not None or stream.out_end
                ):
                    # Whatever waited for this window (DATA, a provider, END_STREAM) may go now.
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
            threshold = self._stream_threshold = replenish_threshold(new_window)
            for stream in self._streams.values():
                stream.inbound_window += delta
                pending = stream.inbound_pending
                if pending >= threshold and stream.state in CAN_RECEIVE:
                    # Credit held back under the old, larger threshold is due now: the
                    # smaller (maybe negative, RFC 9113 §6.9.2) window may be all the
                    # peer has, and no more DATA may come to trigger it later.
                    stream.inbound_pending = 0
                    stream.inbound_window += pending
                    self._out.append(fr.window_update_frame(stream.stream_id, pending))
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
            # RFC 9113 §6.9.2: the connection window starts at 65,535 whatever the settings.
            if not self._guard.window_update(increment, self._outbound_window, 65535):
                raise DenialOfServiceError("too many tiny WINDOW_UPDATEs (data dribble)")
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
        if not self._guard.window_update(increment, stream.outbound_window, self._remote.initial_window_size):
            raise DenialOfServiceError("too many tiny WINDOW_UPDATEs (data dribble)")
        if stream.state in CAN_SEND and (
            (stream.outbound_window > 0 and (stream.out_queued or stream.out_provider))
            or (stream.out_end and stream.outbound_window >= 0)
        ):
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

