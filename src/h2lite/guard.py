"""Flood and abuse counters that turn into ENHANCE_YOUR_CALM.

The connection asks the :class:`Guard` before it does something a hostile
peer could make it repeat; a False answer becomes a
:class:`~h2lite.exceptions.DenialOfServiceError` (GOAWAY ENHANCE_YOUR_CALM).

Three budgets, each sized by :class:`~h2lite.config.Limits`:

* replies the peer provoked (PING ACK, SETTINGS ACK, RST_STREAM) and the
  caller has not yet taken with ``data_to_send()`` (CVE-2019-9512, -9514,
  -9515): a plain count, reset when the output is drained;
* streams the peer opened and then reset (CVE-2023-44487, rapid reset): a
  token bucket;
* "glitches", frames that are legal but useless or that provoke a stream
  error (CVE-2019-9513, -9518, CVE-2025-8671): a token bucket.

Time comes only from the clock the connection was configured with
(``Config.clock``), and only when a bucket runs dry, so tests control it.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import Limits

#: Every frame is at least its 9-byte header long.
_FRAME_HEADER_SIZE = 9


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; take() fails when empty."""

    __slots__ = ("burst", "clock", "rate", "stamp", "tokens")

    def __init__(self, burst: int, rate: float, clock: Callable[[], float]) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.clock = clock
        self.stamp = clock()

    def take(self, count: int = 1) -> bool:
        """Spend ``count`` tokens; False when the bucket is exhausted."""
        tokens = self.tokens - count
        if tokens < 0:
            # Refill only when needed: the clock is read once per dry spell,
            # not once per frame.
            now = self.clock()
            tokens = min(self.burst, tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if tokens < 0:
                self.tokens = -1.0
                return False
        self.tokens = tokens
        return True


class Guard:
    """The counters one connection keeps against abuse."""

    __slots__ = ("glitches", "max_queued_control", "queued_control", "resets", "tiny_window_update")

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.resets = TokenBucket(limits.reset_burst, limits.reset_rate, clock)
        self.glitches = TokenBucket(limits.glitch_burst, limits.glitch_rate, clock)
        #: Control-frame replies queued since the caller last drained output
        #: (an upper bound when a partial drain left some output behind).
        self.queued_control = 0
        self.max_queued_control = limits.max_queued_control_frames
        self.tiny_window_update = limits.tiny_window_update

    def control_reply(self) -> bool:
        """Count a queued reply; False once too many wait undrained (CVE-2019-9512/9514/9515)."""
        self.queued_control += 1
        return self.queued_control <= self.max_queued_control

    def drained(self, left: int = 0) -> None:
        """The caller took the output, all but ``left`` bytes of it."""
        if left:
            # Each reply is a whole frame, so at most left // 9 replies can
            # still be waiting in what is left; never forget more than that.
            self.queued_control = min(self.queued_control, left // _FRAME_HEADER_SIZE)
        else:
            self.queued_control = 0

    def glitch(self) -> bool:
        """Count a suspicious-but-legal frame or a provoked stream error."""
        return self.glitches.take()

    def peer_reset(self) -> bool:
        """Count a stream the peer opened and reset (CVE-2023-44487 rapid reset)."""
        return self.resets.take()

    def window_update(self, increment: int, window: int, advertised: int) -> bool:
        """Check a received WINDOW_UPDATE; ``window`` is the window it produced.

        An update is tiny when its increment is below ``Limits.tiny_window_update``
        and it leaves the window below both that limit and half of the window
        the peer itself advertised (``advertised``: its
        SETTINGS_INITIAL_WINDOW_SIZE for a stream, 65,535 for the connection).
        Such a peer keeps the window nearly shut and feeds it a few bytes at a
        time, so each update draws one tiny DATA frame out of us (CVE-2019-9511,
        data dribble).  Peers that return credit in batches never send one, and
        neither does a peer that simply advertises a small window and refills it.
        A tiny update is a glitch.
        """
        limit = self.tiny_window_update
        if increment < limit and window < limit and 2 * window < advertised:
            return self.glitches.take()
        return True
