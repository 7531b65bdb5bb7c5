"""An asyncio HTTP/2 server built on :class:`h2lite.Connection`.

Two ways to write a handler:

- a :class:`RequestHandler` subclass, one instance per request stream, with
  callbacks ``on_headers``, ``on_data``, ``on_request_done`` and ``on_close``;
- an ``async def handler(request: Request) -> Response`` function.

::

    async def hello(request):
        return Response(200, [("content-type", "text/plain")], "hello\\n")

    server = await h2lite.aio.serve(hello, "127.0.0.1", 8080)
    await server.serve_forever()

The server speaks HTTP/2 with prior knowledge and ``Upgrade: h2c`` on a
cleartext port, and HTTP/2 over TLS when given an :class:`ssl.SSLContext`
(ALPN ``h2``).  Request bodies are flow controlled by the handler: a client
may send only as much as the handler has consumed plus one window.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import ssl as _ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Union

from ..config import Config
from ._server_protocol import HandlerFactory, ServerProtocol, StreamState

__all__ = ["Request", "RequestHandler", "Response", "Server", "serve"]

logger = logging.getLogger("h2lite.aio")

#: Connection receive window of the default server configuration.  A handler
#: that stops reading holds at most one stream window (65,535 bytes) of it, so
#: the other streams on the connection keep flowing.
DEFAULT_CONNECTION_WINDOW = 1 << 20
#: Seconds a new connection has to send the HTTP/2 preface (or its HTTP/1.1 request).
DEFAULT_PREFACE_TIMEOUT = 10.0


class RequestHandler:
    """Handles one request stream; subclass it and override the ``on_*`` callbacks.

    The server creates one instance per request as ``handler_class(protocol,
    stream_id)``.  Callbacks are plain methods called from the event loop; they
    may start tasks (:meth:`create_task`) that respond later.

    Attributes:
        protocol: the connection (:class:`~h2lite.aio._server_protocol.ServerProtocol`).
        stream_id: the request's stream ID.
        method, path, scheme, authority: the request's pseudo-header fields as ``str``.
        headers: every field of the request, pseudo-header fields first, as
            ``(bytes, bytes)`` pairs.
        trailers: the request's trailer fields, once received.
        client_address: the client's ``(host, port)``.
    """

    def __init__(self, protocol: ServerProtocol, stream_id: int) -> None:
        self.protocol = protocol
        self.stream_id = stream_id
        self._stream: StreamState = protocol._streams[stream_id]
        stream = self._stream
        self.headers: list[tuple[bytes, bytes]] = list(stream.request_headers)
        self.method = stream.method.decode("utf-8", "surrogateescape")
        self.scheme = stream.scheme.decode("utf-8", "surrogateescape")
        self.authority = stream.authority.decode("utf-8", "surrogateescape")
        self.path = stream.path.decode("utf-8", "surrogateescape")
        self.trailers: list[tuple[bytes, bytes]] = []
        self.client_address = protocol.client_address

    # -- callbacks ------------------------------------------------------------------

    def on_headers(self) -> None:
        """The request's header block arrived (the attributes are set)."""

    def on_data(self, data: bytes) -> None:
        """A piece of the request body arrived.

        The client gets the flow-control credit back when this returns: a slow
        handler slows the client down rather than making the server buffer.
        """

    def on_request_done(self) -> None:
        """The request is complete (the client ended its side of the stream)."""

    def on_close(self, error_code: int) -> None:
        """The stream has closed: ``error_code`` 0 after a normal end, else why it was reset.

        A response that is complete before the request stops the rest of the
        request (RST_STREAM ``NO_ERROR``, RFC 9113 §8.1): ``on_close(0)`` then
        comes without ``on_request_done``.  After a reset or a lost
        connection (``ErrorCode.CANCEL``), a response sent later is dropped.
        """

    # -- actions ----------------------------------------------------------------------

    def send_response(self, status: int = 200, headers: Any = None, body: Any = None, trailers: Any = None) -> None:
        """Send the response.

        Args:
            status: the final status code (200-999).
            headers: a mapping or ``(name, value)`` pairs, ``str`` or ``bytes``.
            body: ``None``; ``bytes`` or ``str`` (UTF-8; ``content-length`` is
                added); a binary file object (read as the client takes it, then
                closed); an async iterable of ``bytes``/``str`` chunks; or a
                callable ``f(max_length)`` returning at most that many bytes,
                ``None`` or ``b""`` at the end, or :data:`h2lite.DEFERRED` to
                wait until :meth:`resume` is called.
            trailers: fields sent after the body.

        Raises:
            LocalProtocolError: a response was already sent.
            ValueError, TypeError: a bad status, header or body.
        """
        self.protocol.send_response(self._stream, status, headers, body, trailers)

    def send_trailers(self, headers: Any) -> None:
        """Send trailers after a body that is still streaming (async iterable or callable).

        They leave after the body's last piece.

        Raises:
            LocalProtocolError: no streamed body is being sent.
        """
        self.protocol.send_trailers(self._stream, headers)

    def push(
        self,
        path: str | bytes,
        method: str | bytes = "GET",
        request_headers: Any = None,
        status: int = 200,
        headers: Any = None,
        body: Any = None,
    ) -> bool:
        """Push a response for ``path`` (RFC 9113 §8.4); call it before :meth:`send_response`.

        The promised request has this request's scheme and authority.

        Returns:
            False, sending nothing, if the client disabled push, sent GOAWAY,
            refused the stream or already closed this one; True otherwise.
        """
        return self.protocol.push(self._stream, path, method, request_headers, status, headers, body)

    def resume(self) -> None:
        """Wake the response's callable body after it answered :data:`h2lite.DEFERRED`."""
        self.protocol.resume(self._stream)

    def create_task(self, coro: Any) -> asyncio.Task[Any]:
        """Run a coroutine for this request; the server cancels it when it closes."""
        return self.protocol.create_task(coro)

    # -- hooks the connection calls --------------------------------------------------

    def _receive_data(self, data: bytes, flow_controlled_length: int) -> None:
        try:
            self.on_data(data)
        finally:
            self.protocol.acknowledge(self.stream_id, flow_controlled_length)

    def _receive_trailers(self, trailers: list[tuple[bytes, bytes]]) -> None:
        self.trailers = trailers

    def _request_done(self) -> None:
        self.on_request_done()

    def _closed(self, error_code: int) -> None:
        self.on_close(error_code)


class Response:
    """What an ``async def handler(request)`` returns.

    ``body`` takes every form :meth:`RequestHandler.send_response` accepts;
    for a callable body, :meth:`resume` wakes it after :data:`h2lite.DEFERRED`.
    """

    def __init__(self, status: int = 200, headers: Any = None, body: Any = None, trailers: Any = None) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self._handler: RequestHandler | None = None

    def resume(self) -> None:
        """Wake a callable body that answered :data:`h2lite.DEFERRED`.

        Before the response is sent there is nothing to wake: the body is
        asked for data as soon as it is.
        """
        if self._handler is not None:
            self._handler.resume()

    def __repr__(self) -> str:
        return f"Response(status={self.status!r}, body={type(self.body).__name__})"


class Request:
    """The request an ``async def handler(request)`` receives.

    The body is read with ``await request.body()`` or ``async for chunk in
    request``; the client is given flow-control credit for each chunk as it
    is handed over, so an unread body holds the client back.
    """

    def __init__(self, handler: RequestHandler) -> None:
        self.method = handler.method
        self.path = handler.path
        self.scheme = handler.scheme
        self.authority = handler.authority
        self.headers = handler.headers
        self.stream_id = handler.stream_id
        self.client_address = handler.client_address
        self.trailers: list[tuple[bytes, bytes]] = []
        self._protocol = handler.protocol
        self._chunks: deque[tuple[bytes, int]] = deque()
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._body: bytes | None = None

    async def body(self) -> bytes:
        """The whole request body (what has not been iterated yet, the first time)."""
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self])
        return self._body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data, size = self._chunks.popleft()
        self._protocol.acknowledge(self.stream_id, size)
        return data

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _feed(self, data: bytes, size: int) -> None:
        self._chunks.append((data, size))
        self._wake()

    def _end(self) -> None:
        self._ended = True
        self._wake()

    def _close(self, error_code: int) -> None:
        # Nobody will read what is left: its credit goes back to the connection.
        for _, size in self._chunks:
            self._protocol.acknowledge(self.stream_id, size)
        self._chunks.clear()
        if not self._ended:
            self._error = ConnectionResetError(f"stream {self.stream_id} was reset (error code {error_code})")
        self._wake()

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path}, stream_id={self.stream_id})"


HandlerFunction = Callable[[Request], Awaitable[Response]]


class _FunctionHandler(RequestHandler):
    """Runs an ``async def handler(request) -> Response`` for one stream."""

    def __init__(self, protocol: ServerProtocol, stream_id: int, func: HandlerFunction) -> None:
        super().__init__(protocol, stream_id)
        self._func = func
        self.request = Request(self)
        self._task: asyncio.Task[None] | None = None

    def on_headers(self) -> None:
        self._task = self.create_task(self._run())

    def _receive_data(self, data: bytes, flow_controlled_length: int) -> None:
        self.request._feed(data, flow_controlled_length)

    def _receive_trailers(self, trailers: list[tuple[bytes, bytes]]) -> None:
        self.trailers = self.request.trailers = trailers

    def on_request_done(self) -> None:
        self.request._end()

    def on_close(self, error_code: int) -> None:
        self.request._close(error_code)
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def _run(self) -> None:
        try:
            response = await self._func(self.request)
            if not isinstance(response, Response):
                raise TypeError(f"the handler returned {type(response).__name__}, not a Response")
            response._handler = self
            self.send_response(response.status, response.headers, response.body, response.trailers)
        except Exception as exc:
            self.protocol._handler_failed(self._stream, exc)


HandlerSpec = Union[type[RequestHandler], HandlerFunction]  # noqa: UP007 (a runtime alias)


def _handler_factory(handler: HandlerSpec) -> HandlerFactory:
    if isinstance(handler, type):
        if not issubclass(handler, RequestHandler):
            raise TypeError("a handler class must subclass RequestHandler")
        return handler
    if not callable(handler):
        raise TypeError("handler must be a RequestHandler subclass or an async function")
    if not (inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__)):
        raise TypeError("a handler function must be declared with async def")
    func = handler
    return lambda protocol, stream_id: _FunctionHandler(protocol, stream_id, func)


def server_config(config: Config | None) -> Config:
    """The configuration the server's connections run with.

    The role is forced to server, inbound flow control to manual (the server
    acknowledges data as handlers consume it) and header values to bytes.
    """
    if config is None:
        return Config(client_side=False, auto_flow_control=False, connection_window_size=DEFAULT_CONNECTION_WINDOW)
    if not isinstance(config, Config):
        raise TypeError("config must be an h2lite.Config")
    return dataclasses.replace(
        config, client_side=False, auto_flow_control=False, header_encoding=None, enable_push=None
    )


class Server:
    """A listening HTTP/2 server; create it with :func:`serve`.

    Use it as an async context manager (``close()`` on exit), or call
    :meth:`serve_forever` and :meth:`close`.
    """

    def __init__(self, handler: HandlerSpec, config: Config | None = None, preface_timeout: float = DEFAULT_PREFACE_TIMEOUT) -> None:
        self._factory = _handler_factory(handler)
        self._config = server_config(config)
        if isinstance(preface_timeout, bool) or not isinstance(preface_timeout, (int, float)) or preface_timeout <= 0:
            raise ValueError("preface_timeout must be a positive number of seconds")
        self._preface_timeout = float(preface_timeout)
        self._server: asyncio.AbstractServer | None = None
        self._port = 0
        self._protocols: set[ServerProtocol] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._closed = asyncio.Event()

    async def _start(self, host: str | None, port: int, ssl: _ssl.SSLContext | None, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol_factory, host, port, ssl=ssl, **kwargs)
        sockets = self.sockets
        self._port = sockets[0].getsockname()[1] if sockets else 0

    def _protocol_factory(self) -> ServerProtocol:
        return ServerProtocol(self, self._factory, self._config, self._preface_timeout)

    def _register(self, protocol: ServerProtocol) -> None:
        self._protocols.add(protocol)

    def _unregister(self, protocol: ServerProtocol) -> None:
        self._protocols.discard(protocol)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def sockets(self) -> tuple[Any, ...]:
        """The listening sockets."""
        # asyncio.Server has them; the AbstractServer it is typed as does not.
        return tuple(getattr(self._server, "sockets", None) or ())

    @property
    def port(self) -> int:
        """The port the server listens (or listened) on: the one the system chose for port 0."""
        return self._port

    @property
    def connections(self) -> frozenset[ServerProtocol]:
        """The open client connections."""
        return frozenset(self._protocols)

    def is_closing(self) -> bool:
        """True once :meth:`close` has started."""
        return self._closing

    async def serve_forever(self) -> None:
        """Wait until the server is closed; cancelling it closes the server."""
        try:
            await self._closed.wait()
        except asyncio.CancelledError:
            await asyncio.shield(self.close())
            raise

    async def close(self, timeout: float = 5.0) -> None:
        """Stop listening and close every connection gracefully.

        Each HTTP/2 connection gets GOAWAY in two phases (RFC 9113 §6.8):
        first with 2^31-1, then, after a PING round trip, with the last stream
        it accepted.  Streams in flight may finish; connections still open
        after ``timeout`` seconds are dropped and their handlers cancelled.
        """
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        if self._server is not None:
            self._server.close()
        for protocol in list(self._protocols):
            protocol.begin_shutdown()
        pending = [protocol.closed for protocol in self._protocols]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        for protocol in list(self._protocols):
            logger.debug("%s: still open after %.1f s; dropping it", protocol.client_address, timeout)
            protocol.abort()
        # Let the cancelled handlers unwind before close() returns.
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self._closed.set()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def serve(
    handler: HandlerSpec,
    host: str | None = "127.0.0.1",
    port: int = 8080,
    *,
    ssl: _ssl.SSLContext | None = None,
    config: Config | None = None,
    preface_timeout: float = DEFAULT_PREFACE_TIMEOUT,
    **kwargs: Any,
) -> Server:
    """Start an HTTP/2 server; it is listening when this returns.

    Args:
        handler: a :class:`RequestHandler` subclass or an ``async def
            handler(request) -> Response`` function.
        host, port: where to listen (port 0: a free port, see :attr:`Server.port`).
        ssl: a server :class:`ssl.SSLContext` for HTTP/2 over TLS.  Its ALPN
            protocols are set to ``["h2"]`` (the standard library cannot tell
            whether they were set before).
        config: connection settings; the role, manual inbound flow control
            and bytes headers are imposed (see :func:`server_config`).
        preface_timeout: seconds a new connection has to send the HTTP/2
            preface or an HTTP/1.1 request before it is closed.
        kwargs: passed to :meth:`asyncio.loop.create_server` (``backlog``,
            ``reuse_port``...).
    """
    if ssl is not None:
        if not isinstance(ssl, _ssl.SSLContext):
            raise TypeError("ssl must be an ssl.SSLContext")
        ssl.set_alpn_protocols(["h2"])
    server = Server(handler, config, preface_timeout)
    await server._start(host, port, ssl, **kwargs)
    return server
