"""Response bodies: every kind a handler may give, read a piece at a time.

Each source answers ``read(max_length)`` with ``(data, end)`` or
:data:`h2lite.DEFERRED`, the shape :meth:`h2lite.Connection.send_data_from`
wants, so the connection pulls exactly what flow control and the write batch
allow and a body is never copied whole into the output buffer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

from .._common import DEFERRED
from ._chunks import chunk_bytes

logger = logging.getLogger("h2lite.aio")

#: Bytes an async-iterable body may have produced ahead of the connection.
ITER_HIGH_WATER = 65536

ReadResult = Any  # tuple[bytes-like, bool] or DEFERRED


class BodySource:
    """A response body read in pieces; subclasses say where the bytes come from."""

    #: Total length when known in advance (it becomes ``content-length``).
    length: int | None = None

    def read(self, max_length: int) -> ReadResult:
        """Up to ``max_length`` bytes and whether they are the last, or DEFERRED."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds; called once, however the stream ends."""


class BytesSource(BodySource):
    """A body held in memory, sliced without copying."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self.length = len(data)

    def read(self, max_length: int) -> ReadResult:
        start = self._pos
        end = min(start + max_length, len(self._view))
        self._pos = end
        return self._view[start:end], end == len(self._view)

    def close(self) -> None:
        self._view.release()


class FileSource(BodySource):
    """A binary file object, read as the connection asks; closed when done."""

    def __init__(self, file: Any) -> None:
        self._file = file

    def read(self, max_length: int) -> ReadResult:
        chunk = self._file.read(max_length)
        if chunk is None:
            # A non-blocking file with nothing ready: nothing would wake the stream.
            raise ValueError("a non-blocking file body had no data; use an async iterable instead")
        if not chunk:
            return b"", True
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError("a file body must be opened in binary mode")
        return chunk, False

    def close(self) -> None:
        self._file.close()


class PullSource(BodySource):
    """A callable ``f(max_length)`` returning bytes, ``None`` or ``b""`` at the end, or DEFERRED."""

    def __init__(self, func: Callable[[int], Any]) -> None:
        self._func = func
        self._rest: bytes | memoryview = b""

    def read(self, max_length: int) -> ReadResult:
        if not self._rest:
            result = self._func(max_length)
            if result is DEFERRED:
                return DEFERRED
            if result is None or (isinstance(result, (bytes, bytearray, memoryview, str)) and not result):
                return b"", True
            self._rest = chunk_bytes(result)
        # A callable that returns more than asked for keeps the rest for later.
        piece, self._rest = self._rest[:max_length], self._rest[max_length:]
        return piece, False


class IterSource(BodySource):
    """An async iterable of chunks, pumped by a task that stays a bounded amount ahead.

    ``wake`` is called when data (or the end, or an error) becomes available
    after the connection was told DEFERRED.  An error from the iterable is
    raised by :meth:`read` once the chunks produced before it have been sent.
    """

    def __init__(self, iterable: AsyncIterable[Any], wake: Callable[[], None]) -> None:
        self._iterable = iterable
        self._wake = wake
        self._chunks: deque[bytes | memoryview] = deque()
        self._buffered = 0
        self._done = False
        self._error: Exception | None = None
        self._room: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        iterator: AsyncIterator[Any] = self._iterable.__aiter__()
        try:
            async for chunk in iterator:
                data = chunk_bytes(chunk)
                if not data:
                    continue
                self._chunks.append(data)
                self._buffered += len(data)
                self._wake()
                # Stay a bounded amount ahead: the connection takes pieces only
                # as flow control and the transport allow.
                while self._buffered >= ITER_HIGH_WATER:
                    self._room = asyncio.get_running_loop().create_future()
                    await self._room
        except asyncio.CancelledError:
            # The stream ended early: let an async generator run its cleanup now.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    logger.exception("closing a response body iterator failed")
            raise
        except Exception as exc:
            self._error = exc
        else:
            self._done = True
        self._task = None
        self._wake()

    def read(self, max_length: int) -> ReadResult:
        if not self._chunks:
            if self._error is not None:
                raise self._error
            return (b"", True) if self._done else DEFERRED
        chunk = self._chunks[0]
        if len(chunk) > max_length:
            piece = chunk[:max_length]
            self._chunks[0] = memoryview(chunk)[max_length:]
        else:
            piece = self._chunks.popleft()
        self._buffered -= len(piece)
        if self._room is not None and self._buffered < ITER_HIGH_WATER and not self._room.done():
            self._room.set_result(None)
        return piece, self._done and not self._chunks

    def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self._chunks.clear()


def make_source(body: Any, wake: Callable[[], None]) -> BodySource | None:
    """The source for a response body, or None for no body.

    Raises:
        TypeError: not a body h2lite knows how to send.
    """
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray, memoryview, str)):
        data = chunk_bytes(body)
        return BytesSource(bytes(data)) if data else None
    if hasattr(body, "__aiter__"):
        return IterSource(body, wake)
    if hasattr(body, "read"):
        return FileSource(body)
    if callable(body):
        return PullSource(body)
    raise TypeError(
        "a body must be bytes, str, a binary file, an async iterable or a callable, "
        f"not {type(body).__name__}"
    )
