"""Test servers for the asyncio client's tests.

:class:`Peer` is a small asyncio HTTP/2 server driven by a test's handler
coroutine.  It speaks through the ``h2`` package (an implementation nobody
here wrote) or, for what ``h2`` cannot do (keep serving streams after its own
GOAWAY), through a server-side :class:`h2lite.Connection`.  It records what it
saw: the requests, the streams open at once, resets, GOAWAYs, connections.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import h2.config
import h2.connection
import h2.settings

import h2lite

Handler = Callable[["PeerConnection", "PeerStream"], Awaitable[None]]


class PeerStream:
    """One request as the server saw it."""

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.stream_id = stream_id
        self.headers = headers
        fields = dict(headers)
        self.method = fields.get(b":method", b"").decode()
        self.path = fields.get(b":path", b"").decode()
        self.body = bytearray()
        self.ended = asyncio.Event()
        self.reset = asyncio.Event()
        self.reset_code: int | None = None
        #: Set when the response body waits for the client's window.
        self.blocked = asyncio.Event()
        #: Response body bytes handed to the connection so far.
        self.sent = 0

    async def read_body(self) -> bytes:
        await self.ended.wait()
        return bytes(self.body)


class PeerConnection(asyncio.Protocol):
    """One client connection to a :class:`Peer`."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.conn: Any = None
        self.streams: dict[int, PeerStream] = {}
        self.open: set[int] = set()
        self.max_open = 0
        self.goaway_received: Any = None
        self.window_updates: list[tuple[int, int]] = []
        self.unacked: list[tuple[int, int]] = []
        self._waiter: asyncio.Future[None] | None = None
        self._ping: asyncio.Future[None] | None = None
        self.lost = asyncio.Event()

    # -- asyncio ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer.connections.append(self)
        conn: Any
        if self.peer.engine == "h2":
            conn = h2.connection.H2Connection(
                h2.config.H2Configuration(client_side=False, header_encoding=None)
            )
            values: dict[Any, int] = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100}
            values.update({h2.settings.SettingCodes(int(k)): v for k, v in self.peer.settings.items()})
            conn.local_settings = h2.settings.Settings(client=False, initial_values=values)
        else:
            conn = h2lite.Connection(self.peer.lite_config)
        self.conn = conn
        conn.initiate_connection()
        self.flush()
        self.peer.connected.set()

    def data_received(self, data: bytes) -> None:
        for event in self.conn.receive_data(data):
            getattr(self, "_on_" + type(event).__name__, _ignore)(event)
        self.flush()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.lost.set()
        self._wake()

    # -- events -------------------------------------------------------------

    def _on_RequestReceived(self, event: Any) -> None:
        stream = PeerStream(event.stream_id, list(event.headers))
        self.streams[event.stream_id] = stream
        self.peer.requests.append(stream)
        self.open.add(event.stream_id)
        self.max_open = max(self.max_open, len(self.open))
        self.peer.spawn(self.peer.handler(self, stream))

    def _on_DataReceived(self, event: Any) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.body += event.data
        if self.peer.engine == "h2":
            self.unacked.append((event.stream_id, event.flow_controlled_length))
            if self.peer.auto_ack:
                self.ack_received()

    def ack_received(self) -> None:
        """Give back the credit of every DATA received so far (``h2`` engine)."""
        for stream_id, length in self.unacked:
            self.conn.acknowledge_received_data(length, stream_id)
        self.unacked.clear()
        self.flush()

    def _on_StreamEnded(self, event: Any) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.ended.set()

    def _on_StreamReset(self, event: Any) -> None:
        self.open.discard(event.stream_id)
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            stream.reset_code = int(event.error_code)
            stream.reset.set()
        self.peer.resets.append((event.stream_id, int(event.error_code)))

    def _on_WindowUpdated(self, event: Any) -> None:
        self.window_updates.append((event.stream_id, event.delta))

    def _on_PingAckReceived(self, event: Any) -> None:
        if self._ping is not None and not self._ping.done():
            self._ping.set_result(None)

    def _on_ConnectionTerminated(self, event: Any) -> None:
        self.goaway_received = event

    # -- what handlers call -------------------------------------------------

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _changed(self) -> None:
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    async def respond(
        self, stream: PeerStream, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"", trailers: list[tuple[bytes, bytes]] | None = None, stream_id: int | None = None,
    ) -> None:
        """Send a whole response, the body as the client's windows allow."""
        sid = stream.stream_id if stream_id is None else stream_id
        fields = [(b":status", str(status).encode())] + list(headers or [])
        only_headers = not body and not trailers
        self.conn.send_headers(sid, fields, end_stream=only_headers)
        self.flush()
        if body:
            await self.send_body(stream, body, end=not trailers, stream_id=sid)
        if trailers:
            self.conn.send_headers(sid, trailers, end_stream=True)
            self.flush()
        self.open.discard(sid)

    async def send_body(self, stream: PeerStream, body: bytes, *, end: bool = True, stream_id: int | None = None) -> None:
        sid = stream.stream_id if stream_id is None else stream_id
        if self.peer.engine != "h2":
            # h2lite queues DATA and releases it as the windows allow.
            self.conn.send_data(sid, body, end_stream=end)
            stream.sent += len(body)
            self.flush()
            return
        view = memoryview(body)
        pos = 0
        while pos < len(view):
            if stream.reset.is_set() or self.transport is None:
                raise ConnectionError("stream reset or connection lost while sending")
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room <= 0:
                stream.blocked.set()
                await self._changed()
                continue
            piece = bytes(view[pos:pos + room])
            pos += len(piece)
            self.conn.send_data(sid, piece, end_stream=end and pos == len(view))
            stream.sent += len(piece)
            self.flush()
            await asyncio.sleep(0)

    def push(self, stream: PeerStream, path: str) -> int:
        """Promise ``GET path`` on ``stream``; return the promised stream ID."""
        promised = int(self.conn.get_next_available_stream_id())
        authority = dict(stream.headers)[b":authority"]
        self.conn.push_stream(stream.stream_id, promised, [
            (b":method", b"GET"), (b":scheme", dict(stream.headers)[b":scheme"]),
            (b":authority", authority), (b":path", path.encode()),
        ])
        self.flush()
        return promised

    def reset(self, stream: PeerStream, code: int) -> None:
        self.conn.reset_stream(stream.stream_id, code)
        self.open.discard(stream.stream_id)
        self.flush()

    async def ping_roundtrip(self) -> None:
        """Send PING and wait for its ACK: everything the client sent before it has arrived."""
        self._ping = asyncio.get_running_loop().create_future()
        self.conn.ping(b"roundtrp")
        self.flush()
        await self._ping


def _ignore(event: Any) -> None:
    pass


class Peer:
    """An HTTP/2 test server on 127.0.0.1 (a free port), as an async context manager.

    Args:
        handler: ``async def handler(conn, stream)`` run for each request.
        engine: ``"h2"`` or ``"h2lite"``.
        settings: SETTINGS the ``h2`` engine advertises ({Setting: value}).
        lite_config: the server :class:`h2lite.Config` for the ``h2lite`` engine.
        ssl: a server SSLContext for TLS.
        auto_ack: the ``h2`` engine credits received DATA back at once; if
            False, only when a test calls :meth:`PeerConnection.ack_received`.
    """

    def __init__(
        self, handler: Handler, *, engine: str = "h2", settings: dict[Any, int] | None = None,
        lite_config: h2lite.Config | None = None, ssl: ssl.SSLContext | None = None,
        auto_ack: bool = True,
    ) -> None:
        self.auto_ack = auto_ack
        self.handler = handler
        self.engine = engine
        self.settings = settings or {}
        self.lite_config = lite_config or h2lite.Config(client_side=False)
        self.ssl = ssl
        self.connections: list[PeerConnection] = []
        self.requests: list[PeerStream] = []
        self.resets: list[tuple[int, int]] = []
        self.errors: list[BaseException] = []
        self.connected = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}"

    def spawn(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # recorded for the test to look at
                self.errors.append(exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> Peer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: PeerConnection(self), "127.0.0.1", 0, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


async def respond_ok(conn: PeerConnection, stream: PeerStream) -> None:
    """A handler answering every request with 200 and ``you asked for <path>``."""
    await stream.ended.wait()
    await conn.respond(stream, body=f"you asked for {stream.path}".encode())
