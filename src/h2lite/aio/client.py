"""An asyncio HTTP/2 client built on :class:`h2lite.Connection`.

::

    import h2lite.aio.client as h2c

    async with h2c.connect("https://example.org") as client:
        response = await client.get("/")
        print(response.status, await response.text())

        async with await client.request("GET", "/big") as response:
            async for chunk in response:      # the server sends as fast as we read
                ...

    response = await h2c.get("https://example.org/")   # one request, one connection
    data = await response.json()

``https://`` URLs use TLS with ALPN ``h2``; ``http://`` URLs use HTTP/2 with
prior knowledge (RFC 9113 §3.3).  Requests made at the same time share the
connection; beyond the server's ``SETTINGS_MAX_CONCURRENT_STREAMS`` they wait
for a free stream, in order.  Request bodies (bytes, str, a file, or an async
or plain iterable of bytes) are sent as the server's flow-control windows
allow; response bodies are received with manual flow control, so the server
sends only as fast as the body is read.

Errors are :class:`~h2lite.H2LiteError` subclasses (:class:`ClientError` and
below); ``retry_safe`` says whether the server is known not to have processed
the request.  Timeouts raise :class:`TimeoutError` (``asyncio.TimeoutError``).
"""

from __future__ import annotations

import asyncio
import json as _json
import ssl as _ssl
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from .. import __version__
from ..config import Config
from ..connection import Connection
from ..exceptions import ProtocolError
from ._client_errors import (
    ClientError,
    ConnectError,
    ConnectionClosedError,
    RefusedStreamError,
    StreamResetError,
    copy_error,
)
from ._client_io import MAX_UNTAKEN_PUSHES, ClientIO, ClientProtocol
from ._client_response import ClientResponse, Headers, PushedResponse, StreamRecord, check_body

__all__ = [
    "MAX_UNTAKEN_PUSHES",
    "Client",
    "ClientError",
    "ClientResponse",
    "ConnectError",
    "ConnectionClosedError",
    "PushedResponse",
    "RefusedStreamError",
    "StreamResetError",
    "connect",
    "get",
    "post",
    "request",
]

#: How long close() lets the transport flush before aborting it.
_CLOSE_GRACE = 5.0
# Inbound windows: a stream may hold 1 MiB unread, the connection 16 MiB.
_STREAM_WINDOW = 1 << 20
_CONNECTION_WINDOW = 1 << 24
# Characters left alone when a path is percent-encoded (RFC 3986 §3.3, §3.4).
_PATH_SAFE = "/:@!$&'()*+,;=?%~-._"
_MISSING: Any = object()


def connect(
    url: str, *, ssl: _ssl.SSLContext | bool | None = None, timeout: float | None = None,
    config: Config | None = None,
) -> Client:
    """A client for the origin of ``url``.

    Use it as ``async with connect(url) as client:`` (or ``client = await
    connect(url)`` and later ``await client.close()``); it connects then.

    Args:
        url: ``https://host[:port]`` (TLS, ALPN h2) or ``http://host[:port]``
            (HTTP/2 with prior knowledge).  A path in it is ignored.
        ssl: for https, an :class:`ssl.SSLContext` (ALPN ``h2`` is set on it),
            ``False`` to skip certificate verification, or None for the
            system's default verification.
        timeout: seconds allowed for connecting: TCP, TLS and the server's
            SETTINGS.  ``TimeoutError`` past it.
        config: the :class:`~h2lite.Config` for the connection.  The default
            uses manual flow control (the back-pressure described above) with
            1 MiB stream and 16 MiB connection windows.
    """
    return Client(url, ssl=ssl, timeout=timeout, config=config)


class Client(ClientIO):
    """One HTTP/2 connection to one origin, shared by every request made on it.

    Create it with :func:`connect`.  The connection opens on ``async with``,
    ``await client``, or the first request.

    Attributes:
        scheme, host, port, authority: the origin.
    """

    def __init__(
        self, url: str, *, ssl: _ssl.SSLContext | bool | None = None, timeout: float | None = None,
        config: Config | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"URL scheme must be http or https: {url!r}")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {url!r}")
        self.scheme: str = parts.scheme
        self.host: str = parts.hostname
        self.port: int = parts.port or (443 if parts.scheme == "https" else 80)
        authority = parts.netloc.rpartition("@")[2]
        if not authority.isascii():
            # RFC 9113 §8.3.1: :authority carries the host as sent on the wire (IDNA).
            authority = authority.replace(parts.hostname, parts.hostname.encode("idna").decode("ascii"))
        self.authority: str = authority
        if parts.scheme == "http" and isinstance(ssl, _ssl.SSLContext):
            raise ValueError("an SSL context was given for an http:// URL; use https://")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        self._ssl = ssl
        self._connect_timeout = timeout
        self._config = _client_config(config)
        self._open_lock: asyncio.Lock | None = None
        self._init_io(Connection(self._config))

    def __repr__(self) -> str:
        return f"<Client {self.scheme}://{self.authority} {self._state}>"

    # -- opening and closing -------------------------------------------------

    async def __aenter__(self) -> Client:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __await__(self) -> Any:
        return self._open_and_return().__await__()

    async def _open_and_return(self) -> Client:
        await self._open()
        return self

    @property
    def closed(self) -> bool:
        """True once no new request can be made on this client."""
        return self._state == "closed" or self._unusable is not None

    @property
    def pushed(self) -> list[PushedResponse]:
        """Pushed responses not yet taken, in the order promised (a new list).

        A push leaves this list when its ``response()`` is awaited or it is
        ``cancel()``-ed.  :attr:`ClientResponse.pushed` lists the pushes
        promised on one response.  At most ``MAX_UNTAKEN_PUSHES`` wait here:
        further promises are refused with RST_STREAM ``CANCEL``.
        """
        return list(self._untaken)

    async def _open(self) -> None:
        if self._state == "open":
            return
        if self._state == "closed":
            raise self._closed_error()
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._state == "new":
                await self._connect()
            elif self._state == "closed":
                raise self._closed_error()

    async def _connect(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._lost = loop.create_future()
        context = self._ssl_context()
        where = f"{self.host}:{self.port}"
        started = loop.time()
        try:
            await asyncio.wait_for(self._establish(loop, context), self._connect_timeout)
            if self._state == "closed":
                raise ConnectionClosedError("the client was closed while connecting", retry_safe=True)
        except BaseException as exc:
            self._state = "closed"
            if self._transport is not None:
                self._transport.abort()
            timeout = self._connect_timeout
            if isinstance(exc, asyncio.TimeoutError) and timeout is not None and loop.time() - started >= timeout:
                self._unusable = ConnectError(f"connecting to {where} timed out")
                raise asyncio.TimeoutError(
                    f"connecting to {where} took more than {self._connect_timeout} s"
                ) from None
            if isinstance(exc, ClientError):
                self._unusable = exc
                raise
            if isinstance(exc, (OSError, ProtocolError)):
                error = ConnectError(f"cannot connect to {where}: {exc}")
                self._unusable = error
                raise error from exc
            self._unusable = ConnectionClosedError("the client is closed", retry_safe=True)
            raise
        self._state = "open"

    async def _establish(self, loop: asyncio.AbstractEventLoop, context: _ssl.SSLContext | None) -> None:
        await loop.create_connection(lambda: ClientProtocol(self), self.host, self.port, ssl=context)
        assert self._ready is not None
        # Requests start once the server's SETTINGS are known, so the first
        # ones already respect its MAX_CONCURRENT_STREAMS.
        await self._ready

    def _ssl_context(self) -> _ssl.SSLContext | None:
        if self.scheme == "http":
            return None
        if isinstance(self._ssl, _ssl.SSLContext):
            context = self._ssl
        else:
            context = _ssl.create_default_context()
            if self._ssl is False:
                context.check_hostname = False
                context.verify_mode = _ssl.CERT_NONE
        # RFC 9113 §3.2: HTTP/2 over TLS is negotiated with ALPN "h2".
        context.set_alpn_protocols(["h2"])
        return context

    async def close(self) -> None:
        """Close the connection: GOAWAY, then the transport.

        Requests still waiting for a stream fail with
        :class:`ConnectionClosedError` (``retry_safe``), responses not yet
        complete with :class:`ConnectionClosedError`.  Bodies that have fully
        arrived stay readable.
        """
        if self._state == "closed":
            return
        was_open = self._state == "open"
        self._state = "closed"
        if self._unusable is None:
            self._unusable = ConnectionClosedError("the client is closed", retry_safe=True)
        if not was_open:
            return  # a connection being opened now notices and gives up
        tasks = [r.body_task for r in self._streams.values() if r.body_task is not None]
        self._fail_all(ConnectionClosedError("the client was closed before the response was complete"))
        self._streams.clear()
        transport = self._transport
        conn = self._conn
        if transport is not None and not transport.is_closing():
            if conn.want_read:
                try:
                    conn.close_connection()
                except ProtocolError:
                    pass
            data = conn.data_to_send()
            if data:
                transport.write(data)
            transport.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._lost is not None and transport is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._lost), _CLOSE_GRACE)
            except asyncio.TimeoutError:
                transport.abort()

    # -- making requests -----------------------------------------------------

    async def request(
        self, method: str, path: str, headers: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None,
        body: Any = None, timeout: float | None = None, *, json: Any = _MISSING,
    ) -> ClientResponse:
        """Send a request and wait for its response's header block.

        Args:
            method: e.g. ``"GET"``.
            path: the request target, ``"/path?query"`` (a full URL of the
                same origin is accepted too).
            headers: extra header fields, a mapping or ``(name, value)``
                pairs, ``str`` or ``bytes``.
            body: None, ``bytes``/``str`` (sent with ``content-length``), a
                binary file (its ``read()`` may be sync or async), or an async
                or plain iterable of ``bytes``; streamed bodies are read only
                as fast as the server's windows take them.
            timeout: seconds for the whole exchange: waiting for a stream,
                sending the body, and receiving the response to its end.  On
                expiry the stream is reset with ``CANCEL`` (the connection
                stays usable) and the waiting call raises ``TimeoutError``.
            json: an object sent as a JSON body (``content-type:
                application/json``), instead of ``body``.

        Raises:
            ClientError: :class:`ConnectError`, :class:`ConnectionClosedError`,
                :class:`StreamResetError` / :class:`RefusedStreamError`.
            TimeoutError: ``timeout`` expired.
            h2lite.InvalidHeaderError, TypeError, ValueError: bad arguments.
        """
        extra: list[tuple[bytes, bytes]] = []
        if json is not _MISSING:
            if body is not None:
                raise TypeError("pass body or json, not both")
            body = _json.dumps(json).encode("utf-8")
            extra.append((b"content-type", b"application/json"))
        body = check_body(body)
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        target = self._target(path)
        fields = self._request_headers(method, target, headers, extra, body)
        await self._open()
        self._check_usable()
        record = StreamRecord(method.upper(), target, fields, body)
        if timeout is not None:
            record.timer = self._call_later(timeout, self._on_timeout, record, timeout)
        self._pending.append(record)
        self._start_pending()
        try:
            await self._wait_head(record)
        except asyncio.CancelledError:
            self._release(record)
            raise
        return ClientResponse(self, record)

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        """``request("GET", path, **kwargs)``."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, data: Any = None, **kwargs: Any) -> ClientResponse:
        """``request("POST", path, body=data, **kwargs)``."""
        return await self.request("POST", path, body=data, **kwargs)

    def _target(self, path: str) -> str:
        if "://" in path:
            parts = urlsplit(path)
            if parts.scheme != self.scheme or parts.netloc.rpartition("@")[2] != self.authority:
                raise ValueError(f"{path!r} is not on {self.scheme}://{self.authority}")
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        elif not path.startswith("/") and path != "*":
            raise ValueError(f"the request path must start with '/': {path!r}")
        return quote(path, safe=_PATH_SAFE)

    def _request_headers(
        self, method: str, target: str, headers: Any, extra: list[tuple[bytes, bytes]], body: Any,
    ) -> Headers:
        fields: Headers = [
            (b":method", method.upper().encode("ascii")),
            (b":scheme", self.scheme.encode("ascii")),
            (b":authority", self.authority.encode("ascii")),
            (b":path", target.encode("ascii")),
        ]
        items = headers.items() if isinstance(headers, Mapping) else (headers or ())
        for name, value in items:
            name_bytes = name.encode("ascii") if isinstance(name, str) else bytes(name)
            value_bytes = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            fields.append((name_bytes.lower(), value_bytes))
        names = {name for name, _ in fields}
        for name, value in extra:
            if name not in names:
                fields.append((name, value))
        if b"user-agent" not in names:
            fields.append((b"user-agent", f"h2lite/{__version__}".encode("ascii")))
        if isinstance(body, bytes) and b"content-length" not in names:
            fields.append((b"content-length", str(len(body)).encode("ascii")))
        return fields

    def _check_usable(self) -> None:
        if self._unusable is not None or self._state != "open":
            raise self._closed_error()

    def _closed_error(self) -> ClientError:
        """Why no request can start now, as a fresh exception for this caller."""
        if self._unusable is None:
            return ConnectionClosedError("the client is closed", retry_safe=True)
        return copy_error(self._unusable)

def _client_config(config: Config | None) -> Config:
    if config is None:
        return Config(
            client_side=True, auto_flow_control=False,
            initial_window_size=_STREAM_WINDOW, connection_window_size=_CONNECTION_WINDOW,
        )
    if not isinstance(config, Config):
        raise TypeError(f"config must be an h2lite.Config, not {type(config).__name__}")
    if not config.client_side:
        raise ValueError("a client needs Config(client_side=True)")
    if config.header_encoding is not None:
        raise ValueError("the client works on bytes headers: leave Config.header_encoding None")
    return config


# -- one-shot requests -----------------------------------------------------------


async def request(
    method: str, url: str, *, headers: Any = None, body: Any = None, json: Any = _MISSING,
    ssl: _ssl.SSLContext | bool | None = None, timeout: float | None = None, config: Config | None = None,
) -> ClientResponse:
    """Open a connection, make one request, read the whole body, close.

    ``timeout`` bounds the whole call (connecting included).  The returned
    response's body is already read: ``read()``, ``text()`` and ``json()``
    return at once.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    async with Client(origin, ssl=ssl, timeout=timeout, config=config) as client:
        left = None if deadline is None else max(deadline - loop.time(), 1e-3)
        response = await client.request(method, target, headers=headers, body=body, timeout=left, json=json)
        await response.read()
    return response


async def get(url: str, **kwargs: Any) -> ClientResponse:
    """``request("GET", url, **kwargs)``: the response with its body read."""
    return await request("GET", url, **kwargs)


async def post(url: str, data: Any = None, **kwargs: Any) -> ClientResponse:
    """``request("POST", url, body=data, **kwargs)``: the response with its body read."""
    return await request("POST", url, body=data, **kwargs)
