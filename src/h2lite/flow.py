"""Flow-control windows (RFC 9113 §5.2, §6.9).

Inbound: how much the peer may still send, and when to give credit back.
Credit is returned in batches: a WINDOW_UPDATE is sent once the consumed but
unreturned bytes reach half of the window's target size, so a steady stream of
DATA does not cause one WINDOW_UPDATE per frame.

Outbound windows are plain ints on the connection and on each stream; this
module holds the arithmetic rules about them.
"""

from __future__ import annotations

from .codes import MAX_WINDOW


class WindowOverflow(Exception):
    """A window would exceed 2^31-1 (RFC 9113 §6.9.1)."""


def add_credit(window: int, increment: int) -> int:
    """The window after a WINDOW_UPDATE; raise WindowOverflow past 2^31-1."""
    window += increment
    if window > MAX_WINDOW:
        raise WindowOverflow(f"window would reach {window}")
    return window


def replenish_threshold(target: int) -> int:
    """Consumed bytes at which credit goes back to the peer: half the target, at least 1."""
    return max(target >> 1, 1)


class InboundWindow:
    """The connection's receive window: what the peer may still send us."""

    __slots__ = ("window", "target", "pending", "threshold")

    def __init__(self, initial: int) -> None:
        self.window = initial
        self.target = initial
        #: Bytes consumed (or auto-acknowledged) and not yet returned.
        self.pending = 0
        self.threshold = replenish_threshold(initial)

    def set_target(self, target: int) -> int:
        """Raise (or lower) the size we keep the window at; return an increment to send now."""
        self.target = target
        self.threshold = replenish_threshold(target)
        increment = target - self.window - self.pending
        if increment > 0:
            self.window += increment
            return increment
        return 0

    def consume(self, size: int) -> int:
        """Credit ``size`` consumed bytes; return the increment to send (0 for none yet)."""
        pending = self.pending + size
        if pending >= self.threshold:
            # Never let the window grow past the target, nor past 2^31-1.
            increment = min(pending, self.target - self.window, MAX_WINDOW - self.window)
            self.pending = 0
            if increment > 0:
                self.window += increment
                return increment
            return 0
        self.pending = pending
        return 0
