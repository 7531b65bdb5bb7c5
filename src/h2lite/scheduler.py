"""Which stream's DATA leaves next.

A ring of streams that have something to send and room to send it.  Each turn
gives the stream at the front at most one frame and moves it to the back, so
streams share the connection window fairly (round robin).  A stream leaves the
ring when its queue is empty, its window is closed or its provider deferred;
it comes back through :meth:`Scheduler.add`.  All operations are O(1).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .stream import Stream


class Scheduler:
    __slots__ = ("_ring",)

    def __init__(self) -> None:
        self._ring: deque[Stream] = deque()

    def add(self, stream: Stream) -> None:
        """Make ``stream`` eligible (no-op if it already is)."""
        if not stream.scheduled:
            stream.scheduled = True
            self._ring.append(stream)

    def next(self) -> Stream | None:
        """The stream whose turn it is, or None when no stream is ready."""
        ring = self._ring
        return ring[0] if ring else None

    def rotate(self) -> None:
        """The front stream had its turn: send it to the back."""
        self._ring.rotate(-1)

    def drop_front(self) -> None:
        """The front stream cannot send any more for now."""
        stream = self._ring.popleft()
        stream.scheduled = False

    def __len__(self) -> int:
        return len(self._ring)

    def __bool__(self) -> bool:
        return bool(self._ring)
