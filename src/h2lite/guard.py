"""Flood and abuse counters that turn into ENHANCE_YOUR_CALM.

Time comes only from the clock the connection was configured with
(``Config.clock``), so tests control it.
"""

from __future__ import annotations

from typing import Callable


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; take() fails when empty."""

    __slots__ = ("burst", "rate", "tokens", "stamp", "clock")

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

    __slots__ = ("resets", "glitches", "queued_control", "max_queued_control")

    def __init__(
        self,
        reset_burst: int,
        reset_rate: float,
        glitch_burst: int,
        glitch_rate: float,
        max_queued_control: int,
        clock: Callable[[], float],
    ) -> None:
        self.resets = TokenBucket(reset_burst, reset_rate, clock)
        self.glitches = TokenBucket(glitch_burst, glitch_rate, clock)
        #: Control-frame replies queued since the caller last drained output.
        self.queued_control = 0
        self.max_queued_control = max_queued_control

    def control_reply(self) -> bool:
        """Count a queued reply; False once too many wait undrained (CVE-2019-9512/9514/9515)."""
        self.queued_control += 1
        return self.queued_control <= self.max_queued_control

    def drained(self) -> None:
        self.queued_control = 0

    def glitch(self) -> bool:
        """Count a suspicious-but-legal frame or a provoked stream error."""
        return self.glitches.take()

    def peer_reset(self) -> bool:
        """Count a stream the peer reset (CVE-2023-44487 rapid reset)."""
        return self.resets.take()
