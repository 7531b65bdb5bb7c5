"""Clients that drive h2lite's asyncio server in tests.

:class:`H2Client` is the ``h2`` package over asyncio streams: an HTTP/2
implementation independent of h2lite, so the tests see the server as any
client would.  It records every event per stream, acknowledges received data
while it is reading, and can stop reading altogether to play a slow client.
With ``engine="h2lite"`` it runs on an h2lite Connection instead, for what h2
cannot do (h2 stops processing at the first GOAWAY, so it cannot watch a
graceful shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl as _ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.exceptions

from h2lite import Config, Connection, LocalProtocolError, RemoteProtocolError
from h2lite.aio.server import Server, serve

TIMEOUT = 10.0


@dataclass
class StreamLog:
    """What the client saw on one stream."""

    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[bytes, bytes]] | None = None
    ended: bool = False
    reset: int | None = None
    pushes: list[int] = field(default_factory=list)
    promise: list[tuple[bytes, bytes]] | None = None

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None

    def header(self, name: bytes) -> bytes | None:
        return next((v for n, v in self.headers if n == name), None)


class H2Client:
    """An HTTP/2 client (the ``h2`` package) on an asyncio connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: Any) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = conn
        self.streams: dict[int, StreamLog] = {}
        self.events: list[Any] = []
        self.goaways: list[Any] = []
        self.eof = False
        self.reading = asyncio.Event()
        self.reading.set()
        self.received_bytes = 0
        #: Body bytes sent per stream, and the largest send window seen while sending.
        self.sent: dict[int, int] = {}
        self.largest_send_window = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        settings: dict[int, int] | None = None,
        window: int | None = None,
        rcvbuf: int | None = None,
        engine: str = "h2",
    ) -> H2Client:
        """Open a connection with prior knowledge (or TLS) and send the preface.

        ``engine="h2lite"`` uses an h2lite Connection instead of h2, for what
        h2 does not support (h2 treats any GOAWAY as the end of everything).
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # asyncio sets TCP_NODELAY only on sockets created with proto=IPPROTO_TCP.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=ssl, server_hostname="localhost" if ssl else None
        )
        conn: Any
        if engine == "h2lite":
            conn = Connection(Config(client_side=True))
        else:
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_connection()
        if settings:
            conn.update_settings(settings)
        if window:
            conn.increment_flow_control_window(window)
        client = cls(reader, writer, conn)
        client.flush()
        return client

    @classmethod
    async def after_upgrade(cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: h2.connection.H2Connection) -> H2Client:
        """Carry on over HTTP/2 after a ``101 Switching Protocols``."""
        client = cls(reader, writer, conn)
        client.streams[1] = StreamLog()
        client.flush()
        return client

    # -- plumbing ----------------------------------------------------------------------

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def _read_loop(self) -> None:
        try:
            while True:
                await self.reading.wait()
                data = await self.reader.read(65536)
                if not data:
                    break
                self.received_bytes += len(data)
                for event in self.conn.receive_data(data):
                    self._record(event)
                self.flush()
                self._wake()
        except (ConnectionError, h2.exceptions.ProtocolError, RemoteProtocolError):
            pass
        finally:
            self.eof = True
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _record(self, event: Any) -> None:
        # Dispatch on the class name: h2 and h2lite name their events alike.
        self.events.append(event)
        kind = type(event).__name__
        stream_id = getattr(event, "stream_id", None)
        log = self.streams.setdefault(stream_id, StreamLog()) if stream_id else None
        if kind == "ResponseReceived":
            assert log is not None
            log.headers = list(event.headers)
            log.status = int(log.header(b":status") or 0)
        elif kind == "DataReceived":
            assert log is not None
            log.body += event.data
            if event.flow_controlled_length and isinstance(self.conn, h2.connection.H2Connection):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif kind == "TrailersReceived":
            assert log is not None
            log.trailers = list(event.headers)
        elif kind == "StreamEnded":
            assert log is not None
            log.ended = True
        elif kind == "StreamReset":
            assert log is not None
            log.reset = event.error_code
        elif kind == "PushedStreamReceived":
            self.streams[event.parent_stream_id].pushes.append(event.pushed_stream_id)
            self.streams.setdefault(event.pushed_stream_id, StreamLog()).promise = list(event.headers)
        elif kind == "ConnectionTerminated":
            self.goaways.append(event)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Wait until ``condition()`` holds, re-checking after each batch received."""
        await asyncio.wait_for(self._until(condition), timeout)

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            if self.eof:
                raise AssertionError("the connection closed before the condition held")
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def wait_eof(self, timeout: float = TIMEOUT) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def ping_round_trip(self) -> None:
        """Send PING and wait for its ACK: everything the server sent before is in."""
        def acks() -> int:
            return sum(type(e).__name__ == "PingAckReceived" for e in self.events)

        count = acks()
        self.conn.ping(b"roundtrp")
        self.flush()
        await self.wait_until(lambda: acks() > count)

    # -- requests ----------------------------------------------------------------------

    def request(self, path: str, method: str = "GET", headers: list[tuple[str, str]] | None = None, end_stream: bool = True) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", "http"), (":authority", "localhost"), (":path", path)]
        self.conn.send_headers(stream_id, fields + list(headers or []), end_stream=end_stream)
        self.streams[stream_id] = StreamLog()
        self.flush()
        return stream_id

    async def send_body(self, stream_id: int, data: bytes, end_stream: bool = True) -> int:
        """Send ``data`` as flow control allows; return how much went (less if the stream closed)."""
        view = memoryview(data)
        sent = 0
        log = self.streams[stream_id]
        while sent < len(view):
            if log.done:
                return sent
            window = self.conn.local_flow_control_window(stream_id)
            self.largest_send_window = max(self.largest_send_window, window)
            room = min(window, self.conn.max_outbound_frame_size)
            if room <= 0:
                await self.wait_until(lambda: log.done or self.conn.local_flow_control_window(stream_id) > 0)
                continue
            chunk = bytes(view[sent : sent + room])
            self.conn.send_data(stream_id, chunk)
            sent += len(chunk)
            self.sent[stream_id] = self.sent.get(stream_id, 0) + len(chunk)
            self.flush()
            await self.writer.drain()
        if end_stream and not log.done:
            self.conn.end_stream(stream_id)
            self.flush()
        return sent

    async def response(self, stream_id: int, timeout: float = TIMEOUT) -> StreamLog:
        log = self.streams.setdefault(stream_id, StreamLog())
        await self.wait_until(lambda: log.done, timeout)
        return log

    async def get(self, path: str, **kwargs: Any) -> StreamLog:
        return await self.response(self.request(path, **kwargs))

    async def close(self) -> None:
        if not self.eof:
            with contextlib.suppress(h2.exceptions.ProtocolError, LocalProtocolError):
                self.conn.close_connection()
                self.flush()
        self.writer.close()
        with contextlib.suppress(ConnectionError, _ssl.SSLError):
            await self.writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def read_all(reader: asyncio.StreamReader, timeout: float = TIMEOUT) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(_read_all(reader), timeout)


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        try:
            data = await reader.read(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


@contextlib.asynccontextmanager
async def running(handler: Any, **kwargs: Any) -> AsyncIterator[Server]:
    """A server on a free port of 127.0.0.1, closed on exit."""
    server = await serve(handler, "127.0.0.1", 0, **kwargs)
    try:
        yield server
    finally:
        await server.close(timeout=2.0)


@contextlib.asynccontextmanager
async def client_of(server: Server, **kwargs: Any) -> AsyncIterator[H2Client]:
    client = await H2Client.connect(server.port, **kwargs)
    try:
        yield client
    finally:
        await client.close()
