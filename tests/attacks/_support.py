"""Machinery shared by the attack tests.

An attack is a list of *chunks* (usually one frame each) sent by a hostile
peer.  :func:`attack` delivers it twice to fresh connections, once with each
read handed to ``receive_data`` whole and once one byte per call, checks that
both deliveries end the same way (same events, same bytes written, same
error, raised by the same chunk) and returns the outcome with the bounds the
tests check: the largest output the caller had to drain at once, the number
of stream objects, the closed-stream memory, the reader's buffer and, on
request, the ``tracemalloc`` peak.

Time is a :class:`FakeClock`: nothing reads the wall clock.
"""

from __future__ import annotations

import gc
import struct
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from h2lite import Connection, RemoteProtocolError, events
from h2lite.codes import ErrorCode
from h2lite.stream import Stream

from ..helpers import frame, goaway_fields, parse_frames


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Outcome:
    """How one delivery of an attack ended."""

    conn: Connection
    events: list[events.Event]
    #: The RemoteProtocolError that ended the connection, if any.
    error: RemoteProtocolError | None
    #: Index of the chunk whose bytes raised ``error`` (None when it did not raise).
    failed_at: int | None
    #: Every byte the connection wrote, drained after each read and at the end.
    output: bytes
    #: The largest amount the caller found waiting in one ``data_to_send()``.
    largest_drain: int
    #: Stream objects the connection holds, and closed streams it remembers.
    streams: int
    closed: int
    #: Bytes the frame reader holds (a partial frame).
    buffered: int
    #: tracemalloc peak in bytes while the attack was received (whole delivery only).
    peak: int | None = None
    frames: list[tuple[int, int, int, bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.frames = parse_frames(self.output)

    @property
    def goaway(self) -> tuple[int, int, bytes] | None:
        """(last stream ID, error code, debug data) of the GOAWAY we sent, if any."""
        return goaway_fields(self.output)

    @property
    def goaway_code(self) -> int | None:
        fields = self.goaway
        return None if fields is None else fields[1]

    def rst_streams(self) -> list[tuple[int, int]]:
        """(stream ID, error code) of every RST_STREAM we sent, in order."""
        return [(s, struct.unpack(">L", p)[0]) for t, f, s, p in self.frames if t == 0x3]

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def _describe(error: BaseException | None) -> tuple[Any, ...] | None:
    if error is None:
        return None
    return type(error), error.error_code, str(error)  # type: ignore[attr-defined]


def _reads(chunks: Sequence[bytes], read_size: int | None) -> list[list[bytes]]:
    if read_size is None:
        return [list(chunks)]
    return [list(chunks[i : i + read_size]) for i in range(0, len(chunks), read_size)]


def deliver(
    make: Callable[[], Connection],
    chunks: Sequence[bytes],
    mode: str,
    *,
    read_size: int | None = None,
    tick: float = 0.0,
    trace: bool = False,
) -> Outcome:
    """Send ``chunks`` to ``make()``; ``read_size`` chunks make one read.

    ``mode`` is ``"whole"`` (each read in one ``receive_data`` call) or
    ``"bytewise"`` (one byte per call).  After each read the caller drains the
    output and the clock moves ``tick`` seconds, as a program would between
    two reads from its socket.
    """
    if trace:
        # Process-wide caches filled on first use (lazily built coding tables)
        # are not what a connection holds: fill them before measuring.
        deliver(make, chunks, mode, read_size=read_size, tick=tick)
    conn = make()
    clock = conn.config.clock
    if tick:
        assert isinstance(clock, FakeClock), "a ticking attack needs Config(clock=FakeClock())"
    reads = _reads(chunks, read_size)
    joined = [b"".join(read) for read in reads]
    got: list[events.Event] = []
    drained: list[bytes] = []
    error: RemoteProtocolError | None = None
    failed_at: int | None = None
    peak: int | None = None
    if trace:
        gc.collect()
        tracemalloc.start()
    try:
        first = 0
        for read, data in zip(reads, joined):
            try:
                if mode == "whole":
                    got += conn.receive_data(data)
                else:
                    for i in range(len(data)):
                        try:
                            got += conn.receive_data(data[i : i + 1])
                        except RemoteProtocolError:
                            failed_at = first + _chunk_of(read, i)
                            raise
            except RemoteProtocolError as exc:
                got += exc.events
                error = exc
                break
            drained.append(conn.data_to_send())
            if tick:
                clock.advance(tick)  # type: ignore[attr-defined]
            first += len(read)
    finally:
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    drained.append(conn.data_to_send())
    return Outcome(
        conn=conn,
        events=got,
        error=error,
        failed_at=failed_at,
        output=b"".join(drained),
        largest_drain=max(len(d) for d in drained),
        streams=len(conn._streams),
        closed=len(conn._closed),
        buffered=conn._reader.buffered,
        peak=peak,
    )


def _chunk_of(read: list[bytes], offset: int) -> int:
    for index, chunk in enumerate(read):
        if offset < len(chunk):
            return index
        offset -= len(chunk)
    raise AssertionError("offset beyond the read")


def attack(
    make: Callable[[], Connection],
    chunks: Sequence[bytes],
    *,
    read_size: int | None = None,
    tick: float = 0.0,
    trace: bool = False,
) -> Outcome:
    """Deliver ``chunks`` whole and byte by byte; both must end the same way.

    When the connection fails, the chunk that failed it is found byte by
    byte, and confirmed for whole delivery: the chunks before it are accepted,
    and those chunks plus it give the same failure.  Returns the whole
    delivery's outcome with ``failed_at`` set.
    """
    kwargs: dict[str, Any] = {"read_size": read_size, "tick": tick}
    whole = deliver(make, chunks, "whole", trace=trace, **kwargs)
    bytewise = deliver(make, chunks, "bytewise", **kwargs)
    assert _describe(bytewise.error) == _describe(whole.error)
    assert bytewise.events == whole.events
    assert bytewise.output == whole.output
    for name in ("streams", "closed"):
        assert getattr(bytewise, name) == getattr(whole, name), name
    if whole.error is None:
        return whole
    k = bytewise.failed_at
    assert k is not None
    before = deliver(make, chunks[:k], "whole", **kwargs)
    assert before.error is None, f"chunks before #{k} already fail: {before.error}"
    upto = deliver(make, chunks[: k + 1], "whole", **kwargs)
    assert _describe(upto.error) == _describe(whole.error)
    assert upto.events == whole.events
    assert upto.output == whole.output
    whole.failed_at = k
    return whole


def assert_calm(outcome: Outcome, failed_at: int) -> None:
    """The connection answered chunk ``failed_at`` with GOAWAY ENHANCE_YOUR_CALM, and nothing after it."""
    from h2lite import DenialOfServiceError

    assert isinstance(outcome.error, DenialOfServiceError), outcome.error
    assert outcome.failed_at == failed_at
    assert outcome.goaway_code == ErrorCode.ENHANCE_YOUR_CALM
    assert outcome.frames[-1][0] == 0x7, "GOAWAY is the last frame written"
    assert not outcome.conn.want_read


def assert_connection_error(outcome: Outcome, code: ErrorCode, failed_at: int) -> None:
    """The connection failed at chunk ``failed_at`` with GOAWAY ``code``."""
    assert outcome.error is not None
    assert outcome.error.error_code == code, outcome.error
    assert outcome.failed_at == failed_at
    assert outcome.goaway_code == code
    assert outcome.frames[-1][0] == 0x7


def stream_objects() -> int:
    """Live :class:`~h2lite.stream.Stream` objects in the process (leaks included)."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is Stream)


def decoder_entries(conn: Connection) -> list[Any]:
    """The entries of our HPACK decoder's dynamic table, whichever backend coded it."""
    decoder = conn._decoder._decoder
    table = getattr(decoder, "header_table", decoder)
    return list(table.dynamic_entries)


def glitches_spent(conn: Connection) -> float:
    """Glitch tokens used so far (the clock has not moved)."""
    bucket = conn._guard.glitches
    return bucket.burst - bucket.tokens


# -- frame builders not in tests/helpers ----------------------------------------


def priority(stream_id: int, depends_on: int = 0, weight: int = 16, exclusive: bool = False) -> bytes:
    """A PRIORITY frame (RFC 9113 §6.3)."""
    dep = depends_on | (0x80000000 if exclusive else 0)
    return frame(0x2, 0, stream_id, struct.pack(">LB", dep, weight - 1))


def ping(opaque: bytes = b"\x00" * 8, ack: bool = False) -> bytes:
    return frame(0x6, 0x1 if ack else 0, 0, opaque)


def continuation(stream_id: int, fragment: bytes, end_headers: bool = False) -> bytes:
    return frame(0x9, 0x4 if end_headers else 0, stream_id, fragment)


def headers_fragment(stream_id: int, fragment: bytes, end_stream: bool = False, end_headers: bool = False) -> bytes:
    """A HEADERS frame carrying a raw block fragment."""
    flags = (0x1 if end_stream else 0) | (0x4 if end_headers else 0)
    return frame(0x1, flags, stream_id, fragment)
