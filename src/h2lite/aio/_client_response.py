"""The client's per-stream record, its response objects and request-body helpers.

:class:`~h2lite.aio.client.Client` owns the connection and every decision about
it; the objects here only read a stream's record and ask the client to act
(wait for headers, hand over the next chunk, release the stream).
"""

from __future__ import annotations

import asyncio
import inspect
import json as _json
import weakref
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._chunks import chunk_bytes

if TYPE_CHECKING:
    from ._client_io import ClientIO as Client

Headers = list[tuple[bytes, bytes]]

#: Bytes read from a file or queued per step when sending a request body.
CHUNK_SIZE = 65536


class StreamRecord:
    """Everything the client knows about one request (or pushed) stream."""

    __slots__ = (
        "stream_id", "method", "path", "request_headers", "body", "is_push", "taken",
        "status", "headers", "informational", "trailers", "chunks", "unacked",
        "ended", "local_ended", "error", "changed", "write_waiter", "body_task",
        "timer", "pushed",
    )

    def __init__(
        self, method: str, path: str, request_headers: Headers, body: Any = None, *, is_push: bool = False
    ) -> None:
        self.stream_id: int | None = None
        self.method = method
        self.path = path
        self.request_headers = request_headers
        #: What is left to send: None, bytes, or a source for the body task.
        self.body = body
        self.is_push = is_push
        #: A pushed stream the caller asked for (or cancelled).
        self.taken = not is_push
        self.status: int | None = None
        self.headers: Headers = []
        self.informational: list[Headers] = []
        self.trailers: Headers | None = None
        #: (data, flow-controlled length) received and not yet consumed.
        self.chunks: deque[tuple[bytes, int]] = deque()
        #: Flow-controlled bytes received and not yet credited back to the server.
        self.unacked = 0
        #: The server ended its side (END_STREAM).
        self.ended = False
        #: We ended our side.
        self.local_ended = False
        self.error: BaseException | None = None
        #: Resolved (and replaced) whenever headers, data, the end or an error arrive.
        self.changed: asyncio.Future[None] | None = None
        self.write_waiter: asyncio.Future[None] | None = None
        self.body_task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.pushed: list[PushedResponse] = []

    @property
    def finished(self) -> bool:
        """Nothing more will arrive: the response is complete or the stream failed."""
        return self.ended or self.error is not None

    def notify(self) -> None:
        """Wake whoever waits for news of this stream."""
        waiter = self.changed
        if waiter is not None:
            self.changed = None
            if not waiter.done():
                waiter.set_result(None)

    def wait_changed(self) -> asyncio.Future[None]:
        """A future resolved by the next :meth:`notify`."""
        if self.changed is None:
            self.changed = asyncio.get_running_loop().create_future()
        return self.changed

    def wake_writer(self) -> None:
        waiter = self.write_waiter
        if waiter is not None:
            self.write_waiter = None
            if not waiter.done():
                waiter.set_result(None)


def _release_collected(client_ref: weakref.ref[Client], record: StreamRecord) -> None:
    # Runs from the garbage collector, possibly in the middle of the client's
    # own code: only schedule the release, never act on the connection here.
    client = client_ref()
    if client is None:
        return
    try:
        client._call_soon(client._release, record)
    except RuntimeError:  # the event loop is already closed
        pass


class ClientResponse:
    """A response to a request made with :meth:`Client.request`.

    ``status`` and ``headers`` are there when the request returns; the body
    arrives as it is read (``read()``, ``text()``, ``json()``, or ``async for
    chunk in response``), and the server is allowed to send more only as the
    body is consumed (flow control), so an unread response holds at most the
    stream window.  ``trailers`` is set once the body has been read to its
    end; so is ``pushed``, the responses the server promised on this stream.

    Close a response you do not read to the end (``await response.aclose()``
    or ``async with response:``): its stream is then reset with ``CANCEL``.
    A response that is garbage-collected unread is closed the same way.

    Attributes:
        status: the ``:status`` code.
        headers: the response's header fields without pseudo-headers, as
            ``(name, value)`` bytes pairs in the order received.
        informational: the header lists of any 1xx responses that came first.
        stream_id: the HTTP/2 stream ID.
        method, path: the request this answers.
    """

    def __init__(self, client: Client, record: StreamRecord) -> None:
        assert record.status is not None and record.stream_id is not None
        self._client = client
        self._record = record
        self._body: bytes | None = None
        self.status: int = record.status
        self.headers: Headers = record.headers
        self.informational: list[Headers] = record.informational
        self.stream_id: int = record.stream_id
        self.method: str = record.method
        self.path: str = record.path
        weakref.finalize(self, _release_collected, weakref.ref(client), record).atexit = False

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {self.method} {self.path} stream={self.stream_id}>"

    @property
    def url(self) -> str:
        """The request's URL."""
        return f"{self._client.scheme}://{self._client.authority}{self.path}"

    @property
    def trailers(self) -> Headers | None:
        """The trailer fields, once the body has been read to its end (None if there were none)."""
        return self._record.trailers

    @property
    def pushed(self) -> list[PushedResponse]:
        """Responses the server promised on this stream (RFC 9113 §8.4).

        Complete once the body has been read to its end, since a promise
        always comes before the end of the stream that carries it.
        """
        return list(self._record.pushed)

    def header(self, name: str | bytes) -> str | None:
        """The value of a header field (several joined with ``", "``), decoded as Latin-1; None if absent."""
        key = name.encode("ascii").lower() if isinstance(name, str) else name.lower()
        values = [value for field, value in self.headers if field == key]
        if not values:
            return None
        return b", ".join(values).decode("latin-1")

    async def read(self) -> bytes:
        """The whole body (what is left of it, if ``async for`` consumed a part).

        Raises:
            StreamResetError, ConnectionClosedError, TimeoutError: the response
                could not be received completely.
        """
        if self._body is None:
            parts = []
            next_chunk = self._client._next_chunk
            while (chunk := await next_chunk(self._record)) is not None:
                parts.append(chunk)
            self._body = b"".join(parts)
        return self._body

    async def text(self, encoding: str | None = None) -> str:
        """The body decoded with ``encoding``, or the ``content-type`` charset, or UTF-8."""
        body = await self.read()
        return body.decode(encoding or self._charset() or "utf-8", errors="replace")

    async def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(await self.read())

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _BodyIterator(self)

    async def aclose(self) -> None:
        """Stop receiving: reset the stream with CANCEL unless the body has all arrived."""
        self._client._release(self._record)

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _charset(self) -> str | None:
        content_type = self.header("content-type")
        if not content_type:
            return None
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "charset" and value:
                return value.strip().strip('"')
        return None


class _BodyIterator:
    """``async for chunk in response``: the body in the pieces it arrived in."""

    def __init__(self, response: ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> _BodyIterator:
        return self

    async def __anext__(self) -> bytes:
        response = self._response
        if response._body is not None:
            # read() already consumed the stream: hand over what it kept, once.
            body, response._body = response._body, b""
            if body:
                return body
            raise StopAsyncIteration
        chunk = await response._client._next_chunk(response._record)
        if chunk is None:
            raise StopAsyncIteration
        return chunk


class PushedResponse:
    """A response the server pushed (RFC 9113 §8.4), with the request it promised.

    ``await pushed.response()`` waits for the response and returns a
    :class:`ClientResponse`; ``pushed.cancel()`` refuses it (RST_STREAM
    ``CANCEL``).  Until one of the two is called the push is listed in
    :attr:`Client.pushed`.  A pushed body, like any other, is received only as
    fast as it is read, so an unread push holds flow-control credit of the
    connection: read or cancel the pushes you get, or connect with
    ``Config(enable_push=False)`` to refuse them all.

    Attributes:
        stream_id: the promised stream.
        parent_stream_id: the request stream the promise came on.
        request_headers: the promised request's header fields, pseudo-headers
            included, as sent in PUSH_PROMISE.
        method, path, authority: from those request headers.
    """

    def __init__(self, client: Client, record: StreamRecord, parent_stream_id: int) -> None:
        self._client = client
        self._record = record
        self._response: ClientResponse | None = None
        assert record.stream_id is not None
        self.stream_id: int = record.stream_id
        self.parent_stream_id = parent_stream_id
        self.request_headers: Headers = record.request_headers
        fields = dict(record.request_headers)
        self.method: str = record.method
        self.path: str = record.path
        self.authority: str = fields.get(b":authority", b"").decode("latin-1")

    def __repr__(self) -> str:
        return f"<PushedResponse {self.method} {self.path} stream={self.stream_id} parent={self.parent_stream_id}>"

    async def response(self, timeout: float | None = None) -> ClientResponse:
        """Wait for the pushed response's headers (at most ``timeout`` seconds)."""
        self._client._take_push(self._record)
        if self._response is None:
            if timeout is None:
                await self._client._wait_head(self._record)
            else:
                await asyncio.wait_for(self._client._wait_head(self._record), timeout)
            if self._response is None:
                self._response = ClientResponse(self._client, self._record)
        return self._response

    def cancel(self) -> None:
        """Refuse the push: reset its stream with CANCEL (unless it has all arrived)."""
        self._client._take_push(self._record)
        self._client._release(self._record)


# -- request bodies -----------------------------------------------------------


def check_body(body: Any) -> Any:
    """Validate a request body; return it with ``str`` encoded and bytes-likes as ``bytes``."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, Mapping):
        raise TypeError("a mapping is not a request body; pass json=... to send it as JSON")
    if callable(getattr(body, "read", None)) or hasattr(body, "__aiter__") or isinstance(body, Iterable):
        return body
    raise TypeError(
        f"request body must be bytes, str, a file, or an (async) iterable of bytes, not {type(body).__name__}"
    )


async def body_chunks(body: Any) -> AsyncGenerator[bytes, None]:
    """The chunks of a streamed request body: a file (sync or async ``read``) or an iterable."""
    read = getattr(body, "read", None)
    if callable(read):
        while True:
            chunk = read(CHUNK_SIZE)
            if inspect.isawaitable(chunk):
                chunk = await chunk
            if not chunk:
                return
            yield chunk_bytes(chunk, "request body chunks")
    elif hasattr(body, "__aiter__"):
        async for chunk in body:
            yield chunk_bytes(chunk, "request body chunks")
    else:
        for chunk in body:
            yield chunk_bytes(chunk, "request body chunks")
