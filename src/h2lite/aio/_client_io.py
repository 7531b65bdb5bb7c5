"""The asyncio client's engine: streams, flow control, events and transport I/O.

:class:`ClientIO` is the half of :class:`~h2lite.aio.client.Client` that talks
to the :class:`~h2lite.Connection` and the transport: it opens streams for
waiting requests, feeds request bodies, turns events into stream records,
credits consumed response data back to the server, and writes what the
connection queued, one transport write per round.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from .. import events as ev
from .._common import ConnectionState
from ..codes import ErrorCode
from ..connection import Connection
from ..exceptions import (
    LocalProtocolError,
    NoAvailableStreamIDError,
    ProtocolError,
    RemoteProtocolError,
)
from ._client_errors import (
    ClientError,
    ConnectError,
    ConnectionClosedError,
    RefusedStreamError,
    StreamResetError,
    copy_error,
)
from ._client_response import CHUNK_SIZE, Headers, PushedResponse, StreamRecord, body_chunks

#: A stream's body task waits while more than this is queued on it.
HIGH_WATER = 4 * CHUNK_SIZE
#: Promised pushes the caller has neither taken nor cancelled; more are refused.
MAX_UNTAKEN_PUSHES = 100


class ClientIO:
    """Stream bookkeeping and I/O shared by every request of one client."""

    host: str
    port: int
    scheme: str
    authority: str
    _conn: Connection
    _manual_flow: bool
    _loop: asyncio.AbstractEventLoop | None
    _transport: asyncio.Transport | None
    #: "new", "open", "closed".
    _state: str
    #: Why no new request can start (set once the connection cannot take any).
    _unusable: ClientError | None
    _ready: asyncio.Future[None] | None
    _lost: asyncio.Future[None] | None
    _streams: dict[int, StreamRecord]
    _pending: deque[StreamRecord]
    _writers: set[StreamRecord]
    _untaken: list[PushedResponse]
    _goaway: ev.ConnectionTerminated | None
    _paused: bool
    _flush_handle: asyncio.Handle | None

    def _init_io(self, conn: Connection) -> None:
        self._conn = conn
        self._manual_flow = not conn.config.auto_flow_control
        self._loop = None
        self._transport = None
        self._state = "new"
        self._unusable = None
        self._ready = None
        self._lost = None
        self._streams = {}
        self._pending = deque()
        self._writers = set()
        self._untaken = []
        self._goaway = None
        self._paused = False
        self._flush_handle = None

    def _start_pending(self) -> None:
        """Open streams for waiting requests, in order, while the server allows more."""
        conn = self._conn
        pending = self._pending
        while pending:
            if self._unusable is not None:
                error = self._unusable
                while pending:
                    self._fail(pending.popleft(), copy_error(error))
                return
            if conn.open_outbound_streams >= conn.remote_settings.max_concurrent_streams:
                return
            self._start_stream(pending.popleft())

    def _start_stream(self, record: StreamRecord) -> None:
        conn = self._conn
        body = record.body
        try:
            stream_id = conn.get_next_available_stream_id()
            conn.send_headers(stream_id, record.request_headers, end_stream=not body)
        except NoAvailableStreamIDError:
            self._unusable = ConnectionClosedError(
                "stream IDs are exhausted on this connection; open a new one", retry_safe=True
            )
            self._fail(record, copy_error(self._unusable))
            return
        except (LocalProtocolError, TypeError, ValueError) as exc:
            # The request's own fields were refused (InvalidHeaderError...).
            self._fail(record, exc)
            return
        record.stream_id = stream_id
        self._streams[stream_id] = record
        if not body:
            record.local_ended = True
        elif isinstance(body, bytes):
            conn.send_data(stream_id, body, end_stream=True)
            record.local_ended = True
        else:
            assert self._loop is not None
            record.body_task = self._loop.create_task(self._send_body(record, body))
        record.body = None
        self._schedule_flush()

    async def _send_body(self, record: StreamRecord, body: Any) -> None:
        """Stream a request body, waiting while the stream's queue is long."""
        conn = self._conn
        stream_id = record.stream_id
        assert stream_id is not None
        try:
            async with aclosing(body_chunks(body)) as chunks:
                async for chunk in chunks:
                    if not await self._writable(record):
                        return
                    if chunk:
                        conn.send_data(stream_id, chunk)
                        self._schedule_flush()
            if not await self._writable(record):
                return
            conn.end_stream(stream_id)
            record.local_ended = True
            self._schedule_flush()
            if record.ended:
                self._forget(record)
        except asyncio.CancelledError:
            raise
        except ProtocolError:
            if record.error is None and record.stream_id in self._streams:
                # The stream closed under us without an event (cannot happen
                # while the connection lives): treat it as reset.
                self._fail(record, StreamResetError(
                    f"stream {stream_id} closed while its body was being sent",
                    stream_id=stream_id, error_code=ErrorCode.CANCEL, remote_reset=False,
                ), reset=True)
        except Exception as exc:  # the caller's body source failed
            self._fail(record, exc, reset=True)

    async def _writable(self, record: StreamRecord) -> bool:
        """Wait until the stream's queue is short; False if the stream should stop sending."""
        while True:
            if record.error is not None or record.stream_id not in self._streams or self._state == "closed":
                return False
            assert record.stream_id is not None
            if self._conn.outbound_buffer_size(record.stream_id) < HIGH_WATER:
                return True
            assert self._loop is not None
            waiter = record.write_waiter = self._loop.create_future()
            self._writers.add(record)
            try:
                await waiter
            finally:
                self._writers.discard(record)

    # -- what responses and pushes ask of the client --------------------------

    async def _wait_head(self, record: StreamRecord) -> None:
        while record.status is None:
            if record.error is not None:
                raise record.error
            await record.wait_changed()

    async def _next_chunk(self, record: StreamRecord) -> bytes | None:
        """The next piece of the body, crediting it back to the server; None at the end."""
        while True:
            if record.error is not None:
                raise record.error
            if record.chunks:
                data, length = record.chunks.popleft()
                self._credit(record, length)
                if data:
                    return data
                continue  # an empty DATA frame (END_STREAM alone, or padding)
            if record.ended:
                return None
            await record.wait_changed()

    def _credit(self, record: StreamRecord, length: int) -> None:
        if not length or record.unacked <= 0:
            return
        length = min(length, record.unacked)
        record.unacked -= length
        if self._manual_flow and record.stream_id is not None and self._transport is not None:
            self._conn.acknowledge_received_data(length, record.stream_id)
            self._schedule_flush()

    def _credit_all(self, record: StreamRecord) -> None:
        """Give back the credit of everything buffered on a stream that will receive no more."""
        self._credit(record, record.unacked)

    def _take_push(self, record: StreamRecord) -> None:
        if record.taken:
            return
        record.taken = True
        self._untaken = [p for p in self._untaken if p._record is not record]
        if record.ended:
            self._credit_all(record)

    def _release(self, record: StreamRecord) -> None:
        """The caller is done with a response: stop its stream unless it has ended."""
        if record.stream_id is None:
            if record in self._pending:
                self._pending.remove(record)
            self._fail(record, asyncio.CancelledError())
            return
        if not record.finished:
            self._fail(record, StreamResetError(
                f"the response on stream {record.stream_id} was closed before its end",
                stream_id=record.stream_id, error_code=ErrorCode.CANCEL, remote_reset=False,
            ), reset=True)
        record.chunks.clear()
        self._credit_all(record)

    def _on_timeout(self, record: StreamRecord, seconds: float) -> None:
        record.timer = None
        if record.finished:
            return
        if record in self._pending:
            self._pending.remove(record)
        self._fail(record, asyncio.TimeoutError(
            f"{record.method} {record.path}: no complete response within {seconds} s"
        ), reset=True)

    # -- stream bookkeeping ---------------------------------------------------

    def _fail(self, record: StreamRecord, error: BaseException, *, reset: bool = False) -> None:
        """End a stream with ``error`` (its pending reads raise it); optionally RST_STREAM CANCEL."""
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
        stream_id = record.stream_id
        if record.ended:
            # The response is complete: it stays readable; only the upload stops.
            if not record.local_ended and reset and stream_id is not None and stream_id in self._streams:
                self._reset(stream_id)
        else:
            if record.error is not None:
                return
            record.error = error
            if reset and stream_id is not None and stream_id in self._streams:
                self._reset(stream_id)
            # Nothing more will be read from it: return the connection credit.
            record.chunks.clear()
            self._credit_all(record)
            record.notify()
        self._forget(record)

    def _reset(self, stream_id: int) -> None:
        try:
            self._conn.reset_stream(stream_id, ErrorCode.CANCEL)
        except ProtocolError:
            return
        self._schedule_flush()

    def _forget(self, record: StreamRecord) -> None:
        if record.stream_id is not None:
            self._streams.pop(record.stream_id, None)
        record.wake_writer()
        task = record.body_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        if record.is_push and not record.taken and record.error is not None:
            self._untaken = [p for p in self._untaken if p._record is not record]

    def _fail_all(self, error: ClientError) -> None:
        """The connection is gone or closing: fail every request not complete."""
        while self._pending:
            record = self._pending.popleft()
            self._fail(record, ConnectionClosedError(str(error), retry_safe=True))
        for record in list(self._streams.values()):
            self._fail(record, copy_error(error))

    # -- I/O -----------------------------------------------------------------

    def _call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        self._loop.call_soon(callback, *args)

    def _call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        assert self._loop is not None
        return self._loop.call_later(delay, callback, *args)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self._transport is not None and self._loop is not None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Start waiting requests and write everything queued, in one transport write."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._start_pending()
        if self._paused:
            return
        conn = self._conn
        data = conn.data_to_send()
        if data:
            transport.write(data)
        for record in list(self._writers):
            if record.stream_id is None or conn.outbound_buffer_size(record.stream_id) < HIGH_WATER:
                record.wake_writer()
        if conn.state is ConnectionState.CLOSED and not conn.want_write:
            # After the server's GOAWAY every stream has finished, or the
            # connection failed: nothing more to exchange.
            transport.close()

    def _connection_made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        if self.scheme == "https":
            ssl_object = transport.get_extra_info("ssl_object")
            protocol = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            if protocol != "h2":
                self._setup_failed(ConnectError(
                    f"{self.host}:{self.port} did not agree to HTTP/2 (ALPN selected {protocol!r})"
                ))
                transport.close()
                return
        self._conn.initiate_connection()
        transport.write(self._conn.data_to_send())

    def _setup_failed(self, error: ClientError) -> None:
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(error)
            ready.exception()  # retrieved here: _connect may no longer be waiting

    def _data_received(self, data: bytes) -> None:
        try:
            received = self._conn.receive_data(data)
        except RemoteProtocolError as exc:
            self._handle(exc.events)
            error = ConnectionClosedError(
                f"the server broke the protocol: {exc}", error_code=exc.error_code
            )
            self._setup_failed(ConnectError(f"{self.host}:{self.port} does not speak HTTP/2 correctly: {exc}"))
            self._unusable = self._unusable or error
            self._fail_all(error)
            self._flush()  # the GOAWAY
            if self._transport is not None:
                self._transport.close()
            return
        except LocalProtocolError:
            return  # closed already: late bytes
        self._handle(received)
        self._flush()

    def _connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        reason = f": {exc}" if exc is not None else ""
        self._setup_failed(ConnectError(
            f"{self.host}:{self.port} closed the connection before its HTTP/2 SETTINGS{reason}"
        ))
        if self._unusable is None:
            self._unusable = ConnectionClosedError(f"the connection was closed{reason}", retry_safe=True)
        self._fail_all(ConnectionClosedError(
            f"the connection closed before the response was complete{reason}",
            error_code=self._goaway.error_code if self._goaway is not None else None,
        ))
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def _pause_writing(self) -> None:
        self._paused = True

    def _resume_writing(self) -> None:
        self._paused = False
        self._flush()

    # -- events --------------------------------------------------------------

    def _handle(self, received: list[ev.Event]) -> None:
        streams = self._streams
        for event in received:
            if isinstance(event, ev.DataReceived):
                record = streams.get(event.stream_id)
                if record is None or record.error is not None:
                    if self._manual_flow:
                        self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    continue
                record.chunks.append((event.data, event.flow_controlled_length))
                record.unacked += event.flow_controlled_length
                record.notify()
            elif isinstance(event, ev.ResponseReceived):
                record = streams.get(event.stream_id)
                if record is not None:
                    _set_response_head(record, event.headers)
                    record.notify()
            elif isinstance(event, ev.StreamEnded):
                record = streams.get(event.stream_id)
                if record is not None:
                    self._on_stream_ended(record)
            elif isinstance(event, ev.TrailersReceived):
                record = streams.get(event.stream_id)
                if record is not None:
                    record.trailers = list(event.headers)
            elif isinstance(event, ev.InformationalResponseReceived):
                record = streams.get(event.stream_id)
                if record is not None:
                    record.informational.append(list(event.headers))
            elif isinstance(event, ev.StreamReset):
                record = streams.get(event.stream_id)
                if record is not None:
                    self._on_stream_reset(record, event)
            elif isinstance(event, ev.PushedStreamReceived):
                self._on_push(event)
            elif isinstance(event, ev.ConnectionTerminated):
                self._on_goaway(event)
            elif isinstance(event, ev.RemoteSettingsChanged):
                ready = self._ready
                if ready is not None and not ready.done():
                    ready.set_result(None)

    def _on_stream_ended(self, record: StreamRecord) -> None:
        record.ended = True
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
        if record.taken:
            # Nothing more comes on this stream: its buffered bytes need not
            # hold connection credit (they are bounded by the stream window).
            self._credit_all(record)
        if record.local_ended:
            self._forget(record)
        record.notify()

    def _on_stream_reset(self, record: StreamRecord, event: ev.StreamReset) -> None:
        stream_id = event.stream_id
        code = event.error_code
        if record.ended:
            # RFC 9113 §8.1: after a complete response, RST_STREAM (NO_ERROR)
            # asks us to stop sending the request body.
            self._forget(record)
            return
        error: ClientError
        if code == ErrorCode.REFUSED_STREAM and event.remote_reset:
            goaway = self._goaway
            if goaway is not None and stream_id > goaway.last_stream_id:
                message = (
                    f"the server's GOAWAY (last stream ID {goaway.last_stream_id}) left stream "
                    f"{stream_id} unprocessed; safe to retry on a new connection"
                )
            else:
                message = f"the server refused stream {stream_id} without processing it; safe to retry"
            error = RefusedStreamError(message, stream_id=stream_id, goaway=goaway is not None)
        else:
            who = "the server" if event.remote_reset else "the client (the server broke a stream rule)"
            name = code.name if isinstance(code, ErrorCode) else str(code)
            error = StreamResetError(
                f"stream {stream_id} was reset by {who}: {name}",
                stream_id=stream_id, error_code=code, remote_reset=event.remote_reset,
            )
        self._fail(record, error)

    def _on_push(self, event: ev.PushedStreamReceived) -> None:
        promised = event.pushed_stream_id
        parent = self._streams.get(event.parent_stream_id)
        if parent is None or len(self._untaken) >= MAX_UNTAKEN_PUSHES:
            # Nobody will ever see this push (or too many wait unseen): refuse it.
            self._reset(promised)
            return
        fields = list(event.headers)
        lookup = dict(fields)
        method = lookup.get(b":method", b"GET").decode("latin-1")
        path = lookup.get(b":path", b"/").decode("latin-1")
        record = StreamRecord(method, path, fields, is_push=True)
        record.stream_id = promised
        record.local_ended = True
        self._streams[promised] = record
        push = PushedResponse(self, record, event.parent_stream_id)
        parent.pushed.append(push)
        self._untaken.append(push)

    def _on_goaway(self, event: ev.ConnectionTerminated) -> None:
        self._goaway = event
        name = event.error_code.name if isinstance(event.error_code, ErrorCode) else str(event.error_code)
        if self._unusable is None:
            self._unusable = ConnectionClosedError(
                f"the server sent GOAWAY ({name}, last stream ID {event.last_stream_id}): "
                "no new requests on this connection; open a new one",
                error_code=event.error_code, retry_safe=True,
            )
        while self._pending:
            self._fail(self._pending.popleft(), copy_error(self._unusable))
        if event.error_code != ErrorCode.NO_ERROR:
            # The connection ends now: even processed streams cannot finish.
            # (Streams above last_stream_id get their StreamReset next.)
            error = ConnectionClosedError(
                f"the server closed the connection with GOAWAY {name}", error_code=event.error_code
            )
            for record in list(self._streams.values()):
                if record.stream_id is not None and record.stream_id <= event.last_stream_id:
                    self._fail(record, copy_error(error))


class ClientProtocol(asyncio.Protocol):
    """The transport's callbacks, handed to the client."""

    def __init__(self, client: ClientIO) -> None:
        self._client = client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._client._connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._client._data_received(data)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._client._connection_lost(exc)

    def pause_writing(self) -> None:
        self._client._pause_writing()

    def resume_writing(self) -> None:
        self._client._resume_writing()


def _set_response_head(record: StreamRecord, headers: Any) -> None:
    status = None
    fields: Headers = []
    for name, value in headers:
        if name == b":status":
            status = value
        elif not name.startswith(b":"):
            fields.append((name, value))
    try:
        record.status = int(status) if status is not None else 0
    except ValueError:
        record.status = 0
    record.headers = fields
