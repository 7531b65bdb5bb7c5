"""asyncio client and server built only on the public :class:`h2lite.Connection` API.

The server (:func:`serve`, :class:`Server`, :class:`RequestHandler`, and the
function form with :class:`Request` / :class:`Response`) is described in
``docs/server.md``; the client (:func:`connect`, :func:`get`, :func:`post`) in
``docs/client.md``.  Both double as worked examples of embedding h2lite in an
I/O framework.
"""

from __future__ import annotations

from .client import (
    Client,
    ClientError,
    ClientResponse,
    ConnectError,
    ConnectionClosedError,
    PushedResponse,
    RefusedStreamError,
    StreamResetError,
    connect,
    get,
    post,
    request,
)
from .server import Request, RequestHandler, Response, Server, serve

__all__ = [
    "Client",
    "ClientError",
    "ClientResponse",
    "ConnectError",
    "ConnectionClosedError",
    "PushedResponse",
    "RefusedStreamError",
    "Request",
    "RequestHandler",
    "Response",
    "Server",
    "StreamResetError",
    "connect",
    "get",
    "post",
    "request",
    "serve",
]
