"""One server connection: protocol detection, the HTTP/2 event loop, batched output.

:class:`ServerProtocol` is the asyncio protocol behind :func:`h2lite.aio.serve`.
It feeds received bytes to an :class:`h2lite.Connection` (manual inbound flow
control: data is acknowledged only once the handler has consumed it), hands
the events to request handlers, and writes the connection's output once per
round of events.  Every response body is attached as a pull provider that
stops at a per-round byte budget, and nothing is pulled while the transport
has paused writing, so a client that does not read cannot make the server
buffer more than a batch beyond the transport's high-water mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import socket
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpack import HeaderTuple

from .. import events as ev
from .._common import DEFERRED
from ..codes import CLIENT_PREFACE, ErrorCode
from ..config import Config
from ..connection import Connection
from ..exceptions import (
    LocalProtocolError,
    NoAvailableStreamIDError,
    RemoteProtocolError,
    StreamClosedError,
    TooManyStreamsError,
)
from ._server_body import BodySource, ReadResult, make_source
from ._server_http1 import (
    MAX_HEAD_SIZE,
    SWITCHING_PROTOCOLS,
    HeadError,
    Http1Request,
    Sniffed,
    Upgrade,
    error_reply,
    parse_request_head,
    parse_request_line,
    sniff,
    upgrade_of,
)

if TYPE_CHECKING:
    from .server import RequestHandler, Server

logger = logging.getLogger("h2lite.aio")

#: Body bytes pulled into one write; more waits for the next round of the loop.
WRITE_BATCH = 131072
#: In-memory bodies up to this size may go out as one DATA frame without a provider
#: (the smallest SETTINGS_MAX_FRAME_SIZE a peer may set, RFC 9113 §6.5.2).
SMALL_BODY = 16384
#: How long the first phase of a graceful shutdown waits for the PING answer.
NOTICE_GRACE = 1.0
#: How long a closing transport may take to drain before it is aborted.
LINGER = 5.0
_SHUTDOWN_PING = b"shutdown"
_INTERNAL_ERROR_BODY = b"Internal Server Error\n"

HandlerFactory = Callable[["ServerProtocol", int], "RequestHandler"]


class _Mode(enum.Enum):
    SNIFF = "sniffing"
    HTTP1 = "reading an HTTP/1.1 request"
    HTTP2 = "HTTP/2"
    CLOSED = "closed"


class StreamState:
    """The server's bookkeeping for one stream (a request, or a pushed response)."""

    __slots__ = (
        "authority",
        "closed",
        "failed",
        "handler",
        "local_ended",
        "method",
        "path",
        "remote_ended",
        "request_headers",
        "response_started",
        "scheme",
        "source",
        "stream_id",
    )

    def __init__(self, stream_id: int, request_headers: Sequence[tuple[bytes, bytes]]) -> None:
        self.stream_id = stream_id
        self.request_headers = request_headers
        # The first value of each field: regular names never start with ":",
        # so the pseudo-header fields cannot collide with them.
        first = dict(reversed(request_headers))
        self.method: bytes = first.get(b":method", b"")
        self.scheme: bytes = first.get(b":scheme", b"")
        self.path: bytes = first.get(b":path", b"")
        self.authority: bytes = first.get(b":authority") or first.get(b"host", b"")
        self.handler: RequestHandler | None = None
        self.source: BodySource | None = None
        self.remote_ended = False
        self.local_ended = False
        self.response_started = False
        self.failed = False
        self.closed = False


class ServerProtocol(asyncio.Protocol):
    """One client connection.  Handlers reach it as ``handler.protocol``.

    Attributes:
        conn: the :class:`h2lite.Connection` once HTTP/2 has started, else None.
        transport: the asyncio transport.
        client_address: the peer's ``(host, port)``.
        closed: a future resolved when the connection is gone.
    """

    def __init__(self, server: Server, handler_factory: HandlerFactory, config: Config, preface_timeout: float) -> None:
        self.server = server
        self.config = config
        self.conn: Connection | None = None
        self.transport: asyncio.Transport | None = None
        self.client_address: tuple[str, int] = ("", 0)
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._handler_factory = handler_factory
        self._preface_timeout = preface_timeout
        self._mode = _Mode.SNIFF
        self._tls = False
        self._buffer = bytearray()
        self._upgrade: Upgrade | None = None
        self._streams: dict[int, StreamState] = {}
        self._paused = False
        self._flush_handle: asyncio.Handle | None = None
        self._dispatching = False
        self._budget = WRITE_BATCH
        self._starved: set[int] = set()
        self._ended_locally: list[StreamState] = []
        self._failed_sources: list[tuple[StreamState, BaseException]] = []
        self._preface_timer: asyncio.TimerHandle | None = None
        self._preface_seen = 0
        self._shutdown_phase = 0
        self._phase2_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._goaway_received = False

    # -- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Frames are written whole, once per round: Nagle's algorithm would
            # only hold small ones (WINDOW_UPDATE, SETTINGS ACK) back.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client_address = (peer[0], peer[1])
        self.server._register(self)
        if self.server.is_closing():
            self._mode = _Mode.CLOSED
            self._close_transport()
            return
        self._preface_timer = self._loop.call_later(self._preface_timeout, self._on_preface_timeout)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self._tls = True
            if ssl_object.selected_alpn_protocol() == "h2":
                # RFC 9113 §3.3: with ALPN "h2" both sides send their preface at once.
                self._start_http2()
                self._flush()

    def data_received(self, data: bytes) -> None:
        mode = self._mode
        if mode is _Mode.HTTP2:
            self._receive(data)
            return
        if mode is _Mode.CLOSED:
            return
        self._buffer += data
        if mode is _Mode.SNIFF:
            kind = sniff(self._buffer)
            if kind is Sniffed.NEED_MORE:
                return
            if kind is not Sniffed.HTTP1:
                # The preface, or garbage: the Connection checks the preface
                # and answers garbage with GOAWAY PROTOCOL_ERROR (RFC 9113 §3.4).
                self._start_http2(bytes(self._buffer))
                return
            self._mode = _Mode.HTTP1
        self._read_http1()

    def eof_received(self) -> bool | None:
        return None  # close; HTTP/2 has no use for a half-closed connection

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._schedule_flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._mode = _Mode.CLOSED
        for timer in (self._preface_timer, self._phase2_timer, self._linger_timer, self._flush_handle):
            if timer is not None:
                timer.cancel()
        self._flush_handle = None
        for stream in list(self._streams.values()):
            self._close_stream(stream, ErrorCode.CANCEL)
        self.server._unregister(self)
        if not self.closed.done():
            self.closed.set_result(None)

    # -- before HTTP/2: sniffing and HTTP/1.1 ------------------------------------

    def _read_http1(self) -> None:
        buffer = self._buffer
        upgrade = self._upgrade
        if upgrade is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                line_end = buffer.find(b"\r\n")
                request_line = parse_request_line(bytes(buffer[:line_end])) if line_end >= 0 else None
                if line_end >= 0 and request_line is None:
                    self._start_http2(bytes(buffer))  # not HTTP/1 after all: garbage
                elif len(buffer) > MAX_HEAD_SIZE:
                    if request_line is None:
                        self._start_http2(bytes(buffer))
                    else:
                        self._reply_and_close(431, "Request header fields too large.")
                return
            head = bytes(buffer[:end])
            try:
                request = parse_request_head(head)
            except ValueError:
                self._start_http2(bytes(buffer))
                return
            except HeadError as exc:
                self._reply_and_close(exc.status, exc.reason)
                return
            del buffer[: end + 4]
            try:
                upgrade = None if self._tls else upgrade_of(request)
            except HeadError as exc:
                self._reply_and_close(exc.status, exc.reason, request)
                return
            if upgrade is None:
                self._reply_and_close(505, "This server speaks HTTP/2 only.", request)
                return
            self._upgrade = upgrade
        if len(buffer) < upgrade.body_length:
            return
        body = bytes(buffer[: upgrade.body_length])
        rest = bytes(buffer[upgrade.body_length :])
        buffer.clear()
        self._finish_upgrade(upgrade, body, rest)

    def _reply_and_close(self, status: int, message: str, request: Http1Request | None = None) -> None:
        logger.debug("%s: HTTP/1.1 %d (%s)", self.client_address, status, message)
        self._mode = _Mode.CLOSED
        if self.transport is not None:
            head_only = request is not None and request.method == b"HEAD"
            self.transport.write(error_reply(status, message, head_only))
        self._close_transport()

    def _finish_upgrade(self, upgrade: Upgrade, body: bytes, rest: bytes) -> None:
        conn = Connection(self.config)
        try:
            conn.initiate_upgrade_connection(upgrade.settings)
        except ValueError:
            self._reply_and_close(400, "Invalid HTTP2-Settings header.")
            return
        assert self.transport is not None
        self.transport.write(SWITCHING_PROTOCOLS)
        self.conn = conn
        self._mode = _Mode.HTTP2
        # RFC 7540 §3.2: the upgrade request becomes stream 1, half-closed (remote).
        self._on_request(1, upgrade.headers)
        if body:
            self._on_data(1, body, 0)  # carried by HTTP/1.1: no flow control to credit
        self._on_stream_ended(1)
        self._flush()
        if rest and self._mode is _Mode.HTTP2:
            self._receive(rest)

    def _on_preface_timeout(self) -> None:
        self._preface_timer = None
        logger.debug("%s: no connection preface in time; closing", self.client_address)
        self._mode = _Mode.CLOSED
        self._close_transport()

    # -- HTTP/2: receiving ----------------------------------------------------------

    def _start_http2(self, first_bytes: bytes = b"") -> None:
        self._mode = _Mode.HTTP2
        self._buffer.clear()
        self.conn = Connection(self.config)
        self.conn.initiate_connection()
        if first_bytes:
            self._receive(first_bytes)

    def _receive(self, data: bytes) -> None:
        conn = self.conn
        assert conn is not None
        if self._preface_timer is not None:
            self._preface_seen += len(data)
            if self._preface_seen >= len(CLIENT_PREFACE):
                self._preface_timer.cancel()
                self._preface_timer = None
        try:
            events = conn.receive_data(data)
        except RemoteProtocolError as exc:
            logger.debug("%s: connection error: %s", self.client_address, exc)
            self._dispatch(exc.events)
            self._flush(final=True)
            self._close_transport()
            return
        except LocalProtocolError:
            return  # the connection is already closed; late bytes mean nothing
        # The flush below writes whatever the handlers send meanwhile.
        self._dispatching = True
        try:
            self._dispatch(events)
        finally:
            self._dispatching = False
        self._flush()

    def _dispatch(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is ev.DataReceived:
                self._on_data(event.stream_id, event.data, event.flow_controlled_length)  # type: ignore[attr-defined]
            elif kind is ev.RequestReceived:
                self._on_request(event.stream_id, event.headers)  # type: ignore[attr-defined]
            elif kind is ev.StreamEnded:
                self._on_stream_ended(event.stream_id)  # type: ignore[attr-defined]
            elif kind is ev.StreamReset:
                assert isinstance(event, ev.StreamReset)
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    self._close_stream(stream, event.error_code)
            elif kind is ev.TrailersReceived:
                assert isinstance(event, ev.TrailersReceived)
                stream = self._streams.get(event.stream_id)
                if stream is not None and stream.handler is not None and not stream.failed:
                    stream.handler._receive_trailers(list(event.headers))
            elif kind is ev.PingAckReceived:
                if event.ping_data == _SHUTDOWN_PING:  # type: ignore[attr-defined]
                    self._finish_shutdown()
            elif kind is ev.ConnectionTerminated:
                assert isinstance(event, ev.ConnectionTerminated)
                self._goaway_received = True
                if event.error_code != ErrorCode.NO_ERROR:
                    logger.debug("%s: GOAWAY %s from the client", self.client_address, event.error_code)
                    self._close_transport()

    def _on_request(self, stream_id: int, headers: Sequence[tuple[bytes, bytes]]) -> None:
        stream = StreamState(stream_id, headers)
        self._streams[stream_id] = stream
        try:
            stream.handler = self._handler_factory(self, stream_id)
            stream.handler.on_headers()
        except Exception as exc:
            self._handler_failed(stream, exc)

    def _on_data(self, stream_id: int, data: bytes, flow_controlled_length: int) -> None:
        stream = self._streams.get(stream_id)
        if not data or stream is None or stream.handler is None or stream.failed:
            # Nothing for a handler (an empty DATA frame carrying END_STREAM, or
            # a stream nobody handles): the credit goes straight back.
            self.acknowledge(stream_id, flow_controlled_length)
            return
        try:
            stream.handler._receive_data(data, flow_controlled_length)
        except Exception as exc:
            self._handler_failed(stream, exc)

    def _on_stream_ended(self, stream_id: int) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        stream.remote_ended = True
        if stream.handler is not None and not stream.failed:
            try:
                stream.handler._request_done()
            except Exception as exc:
                self._handler_failed(stream, exc)
        if stream.local_ended:
            self._close_stream(stream, ErrorCode.NO_ERROR)

    def acknowledge(self, stream_id: int, size: int) -> None:
        """Give ``size`` consumed bytes of request body back to the client as flow-control credit."""
        conn = self.conn
        if size and conn is not None and self._mode is _Mode.HTTP2:
            conn.acknowledge_received_data(size, stream_id)
            self._schedule_flush()

    # -- HTTP/2: responding -----------------------------------------------------------

    def send_response(
        self,
        stream: StreamState,
        status: int,
        headers: Any = None,
        body: Any = None,
        trailers: Any = None,
    ) -> None:
        """Start the response on ``stream``; see :meth:`RequestHandler.send_response`."""
        if stream.response_started:
            raise LocalProtocolError(f"stream {stream.stream_id} already has a response")
        if stream.closed:
            logger.debug("stream %d closed before its response; dropped", stream.stream_id)
            _close_body(body)
            return
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 999:
            raise ValueError(f"a final response status must be in [200, 999], got {status!r}")
        fields = [(b":status", str(int(status)).encode("ascii"))]
        has_length = _add_fields(fields, headers)
        trailer_fields = _field_list(trailers) if trailers is not None else None
        conn = self.conn
        assert conn is not None
        if type(body) is str:
            body = body.encode("utf-8")
        data: bytes | None = None
        source: BodySource | None = None
        if type(body) is bytes and self._fits_now(stream, len(body)):
            # It leaves in the next write anyway: no provider needed.
            data = body
            length: int | None = len(body)
        else:
            source = make_source(body, lambda: self._resume_stream(stream))
            length = source.length if source is not None else None
        if length and not has_length:
            fields.append((b"content-length", str(length).encode("ascii")))
        if stream.method == b"HEAD" or status in (204, 304):
            # RFC 9110 §9.3.2, §15.3.5, §15.4.5: these responses carry no content.
            if source is not None:
                source.close()
            source = data = None
        if not data:
            data = None
        end = source is None and data is None and not trailer_fields
        try:
            conn.send_headers(stream.stream_id, fields, end_stream=end)
            stream.response_started = True
            if data is not None:
                conn.send_data(stream.stream_id, data, end_stream=not trailer_fields)
                self._budget -= len(data)
            elif source is not None:
                stream.source = source
                conn.send_data_from(stream.stream_id, self._provider(stream))
            if trailer_fields:
                conn.send_headers(stream.stream_id, trailer_fields, end_stream=True)
        except StreamClosedError:
            # The client reset the stream in the same read; its StreamReset closes ours.
            if source is not None:
                source.close()
            stream.source = None
            return
        except BaseException:
            if source is not None:
                source.close()
            stream.source = None
            if stream.response_started:
                # The headers are queued but the rest failed (bad trailers): end the stream.
                self._reset(stream, ErrorCode.INTERNAL_ERROR)
            raise
        if source is None:
            self._local_end(stream)
        self._schedule_flush()

    def _fits_now(self, stream: StreamState, size: int) -> bool:
        """Whether an in-memory body can leave whole in the next write.

        It must fit one DATA frame of any size a peer may set, the stream's and
        the connection's send windows and what is left of this round's byte
        budget; nothing goes this way while the transport has paused writing.
        """
        if self._paused or size > SMALL_BODY or size > self._budget:
            return False
        assert self.conn is not None
        try:
            return size <= self.conn.local_flow_control_window(stream.stream_id)
        except StreamClosedError:
            return False  # reset by the client: sending the headers finds out

    def send_trailers(self, stream: StreamState, trailers: Any) -> None:
        """Trailers after a streamed body; see :meth:`RequestHandler.send_trailers`."""
        if stream.closed:
            return
        if not stream.response_started or stream.local_ended or stream.source is None:
            raise LocalProtocolError(f"stream {stream.stream_id} has no response body still being sent")
        assert self.conn is not None
        # With a provider attached, the trailers follow its last DATA frame.
        self.conn.send_headers(stream.stream_id, _field_list(trailers), end_stream=True)
        self._schedule_flush()

    def push(
        self,
        parent: StreamState,
        path: str | bytes,
        method: str | bytes,
        request_headers: Any,
        status: int,
        headers: Any,
        body: Any,
    ) -> bool:
        """Promise and send a pushed response; see :meth:`RequestHandler.push`."""
        conn = self.conn
        assert conn is not None
        if parent.local_ended:
            raise LocalProtocolError(f"stream {parent.stream_id} has ended; push before the response")
        if parent.closed or not conn.remote_settings.enable_push or self._goaway_received:
            _close_body(body)
            return False
        method_bytes = _as_bytes(method)
        request = [
            (b":method", method_bytes),
            (b":scheme", parent.scheme),
            (b":authority", parent.authority),
            (b":path", _as_bytes(path)),
        ]
        request.extend(_field_list(request_headers))
        try:
            promised = conn.get_next_available_stream_id()
        except NoAvailableStreamIDError:
            _close_body(body)
            return False
        try:
            conn.push_stream(parent.stream_id, promised, request)
        except StreamClosedError:
            _close_body(body)
            return False
        stream = StreamState(promised, [(name, value) for name, value in request])
        # A pushed stream is half-closed (remote) once its response starts (RFC 9113 §8.4).
        stream.remote_ended = True
        self._streams[promised] = stream
        try:
            self.send_response(stream, status, headers, body)
        except TooManyStreamsError:
            # The client's MAX_CONCURRENT_STREAMS counts pushed streams (RFC 9113 §5.1.2).
            self._reset(stream, ErrorCode.REFUSED_STREAM)
            return False
        except BaseException:
            self._reset(stream, ErrorCode.INTERNAL_ERROR)
            raise
        return True

    def resume(self, stream: StreamState) -> None:
        """Wake a pull-callable body that answered DEFERRED."""
        self._resume_stream(stream)

    def create_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the server waits for (and cancels) when it closes."""
        task = self._loop.create_task(coro)
        self.server._track(task)
        return task

    def _provider(self, stream: StreamState) -> Callable[[int], ReadResult]:
        return lambda max_length: self._provide(stream, max_length)

    def _provide(self, stream: StreamState, max_length: int) -> ReadResult:
        """The pull provider behind every body: at most the round's budget, never while paused."""
        source = stream.source
        if source is None:
            return DEFERRED
        if self._budget <= 0 or self._paused:
            self._starved.add(stream.stream_id)
            return DEFERRED
        limit = min(max_length, self._budget)
        try:
            result = source.read(limit)
            if result is DEFERRED:
                return DEFERRED
            data, end = result
            if len(data) > limit:
                raise ValueError(f"a body source returned {len(data)} bytes, more than the {limit} asked for")
        except Exception as exc:
            # Never let it escape data_to_send(): reset the stream once that returns.
            self._failed_sources.append((stream, exc))
            return DEFERRED
        self._budget -= len(data)
        if end:
            self._ended_locally.append(stream)
            return data, True
        if not data:
            return DEFERRED  # (b"", False) would be asked again at once
        return data, False

    def _resume_stream(self, stream: StreamState) -> None:
        if stream.closed or stream.source is None or self.conn is None:
            return
        try:
            self.conn.resume_data(stream.stream_id)
        except LocalProtocolError:
            return
        self._schedule_flush()

    def _local_end(self, stream: StreamState) -> None:
        """Our side of the stream has ended (its END_STREAM is queued)."""
        stream.local_ended = True
        if stream.source is not None:
            stream.source.close()
            stream.source = None
        if stream.remote_ended:
            self._close_stream(stream, ErrorCode.NO_ERROR)
        elif not stream.closed:
            # RFC 9113 §8.1: after a complete response the server may stop the
            # rest of the request with RST_STREAM NO_ERROR.
            self._reset(stream, ErrorCode.NO_ERROR)

    def _handler_failed(self, stream: StreamState, exc: BaseException) -> None:
        logger.error("request handler for stream %d failed", stream.stream_id, exc_info=exc)
        stream.failed = True
        if stream.closed:
            return
        if not stream.response_started:
            try:
                self.send_response(
                    stream,
                    500,
                    [(b"content-type", b"text/plain; charset=utf-8")],
                    _INTERNAL_ERROR_BODY,
                )
                return
            except (LocalProtocolError, ValueError, TypeError):
                pass
        self._reset(stream, ErrorCode.INTERNAL_ERROR)

    def _source_failed(self, stream: StreamState, exc: BaseException) -> None:
        logger.error("response body for stream %d failed", stream.stream_id, exc_info=exc)
        stream.failed = True
        self._reset(stream, ErrorCode.INTERNAL_ERROR)

    def _reset(self, stream: StreamState, error_code: ErrorCode) -> None:
        if stream.closed:
            return
        if self.conn is not None and self._mode is _Mode.HTTP2:
            try:
                self.conn.reset_stream(stream.stream_id, error_code)
            except LocalProtocolError:
                pass  # already closed on the connection's side
        self._close_stream(stream, error_code)
        self._schedule_flush()

    def _close_stream(self, stream: StreamState, error_code: int) -> None:
        if stream.closed:
            return
        stream.closed = True
        self._streams.pop(stream.stream_id, None)
        self._starved.discard(stream.stream_id)
        if stream.source is not None:
            stream.source.close()
            stream.source = None
        if stream.handler is not None:
            try:
                stream.handler._closed(error_code)
            except Exception:
                logger.exception("on_close of the handler for stream %d failed", stream.stream_id)

    # -- output -----------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and not self._dispatching and self._mode is not _Mode.CLOSED:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self, final: bool = False) -> None:
        """Write what the connection has queued, in one write, pulling bodies within a budget."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        conn, transport = self.conn, self.transport
        if conn is None or transport is None or transport.is_closing():
            return
        if self._paused and not final:
            return  # resume_writing() flushes again
        starved, self._starved = self._starved, set()
        for stream_id in starved:
            stream = self._streams.get(stream_id)
            if stream is not None:
                self._resume_stream(stream)
        try:
            data = conn.data_to_send()
        except Exception:
            logger.exception("%s: producing output failed; closing the connection", self.client_address)
            self.abort()
            return
        if data:
            transport.write(data)
        self._budget = WRITE_BATCH  # the next round may send as much again
        ended, self._ended_locally = self._ended_locally, []
        for stream in ended:
            self._local_end(stream)
        failed, self._failed_sources = self._failed_sources, []
        for stream, exc in failed:
            self._source_failed(stream, exc)
        if self._starved and not self._paused:
            self._schedule_flush()  # the batch is spent; carry on in the next round
        if not conn.want_read:
            if self._flush_handle is not None and not transport.is_closing():
                return  # the last frames (an RST_STREAM) still have to go out
            self._close_transport()

    # -- shutting down ---------------------------------------------------------------

    def begin_shutdown(self) -> None:
        """First phase of a graceful close: GOAWAY with 2^31-1 and a PING to time the second."""
        if self._mode is not _Mode.HTTP2 or self.conn is None:
            self._mode = _Mode.CLOSED
            self._close_transport()
            return
        if self._shutdown_phase:
            return
        self._shutdown_phase = 1
        try:
            self.conn.send_shutdown_notice()
            self.conn.ping(_SHUTDOWN_PING)
        except LocalProtocolError:
            self._close_transport()
            return
        self._phase2_timer = self._loop.call_later(NOTICE_GRACE, self._finish_shutdown)
        self._flush()

    def _finish_shutdown(self) -> None:
        """Second phase (RFC 9113 §6.8): GOAWAY with the last stream we took."""
        if self._shutdown_phase != 1:
            return
        self._shutdown_phase = 2
        if self._phase2_timer is not None:
            self._phase2_timer.cancel()
            self._phase2_timer = None
        assert self.conn is not None
        try:
            self.conn.close_connection()
        except LocalProtocolError:
            pass
        self._flush()

    def _close_transport(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.close()
        # A client that stops reading would keep a closing transport forever.
        self._linger_timer = self._loop.call_later(LINGER, transport.abort)

    def abort(self) -> None:
        """Drop the connection at once."""
        self._mode = _Mode.CLOSED
        if self.transport is not None:
            self.transport.abort()

    @property
    def writing_paused(self) -> bool:
        """True while the transport has asked us to stop writing (its buffer is full)."""
        return self._paused


def _as_bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode("ascii")
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"header names and values must be str or bytes, not {type(value).__name__}")


_CONTENT_LENGTH = b"content-length"


def _add_fields(fields: list[tuple[bytes, bytes]], headers: Any) -> bool:
    """Append ``headers`` (a mapping or pairs, str or bytes) as byte pairs; True if one is content-length."""
    if headers is None:
        return False
    kind = type(headers)
    items = headers if kind is list or kind is tuple or not isinstance(headers, Mapping) else headers.items()
    has_length = False
    for item in items:
        name, value = item
        if type(item) is not tuple or type(name) is not bytes or type(value) is not bytes:
            if isinstance(item, HeaderTuple):
                # Keep hpack's NeverIndexedHeaderTuple never indexed on the wire.
                item = type(item)(_as_bytes(name), _as_bytes(value))
            else:
                item = (_as_bytes(name), _as_bytes(value))
            name = item[0]
        fields.append(item)
        if len(name) == 14 and name.lower() == _CONTENT_LENGTH:
            has_length = True
    return has_length


def _field_list(headers: Any) -> list[tuple[bytes, bytes]]:
    """Headers given as a mapping or pairs, str or bytes, as a list of byte pairs."""
    fields: list[tuple[bytes, bytes]] = []
    _add_fields(fields, headers)
    return fields


def _close_body(body: Any) -> None:
    """Close a file body that will never be sent."""
    close = getattr(body, "close", None)
    if close is not None and hasattr(body, "read"):
        close()
