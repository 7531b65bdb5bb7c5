"""The C accelerator does not leak: memory stays flat over many calls.

Each accelerated path (frame splitting, HPACK decoding and encoding with table
growth, eviction and resizes, the field checks, outbound preparation), fed
good and bad input, runs a few thousand times after a warm-up while
tracemalloc counts the bytes still allocated.  A reference leaked per call
keeps at least one object alive per call, tens of kilobytes over the run; the
bound allows a few bytes per call for the allocator's own bookkeeping.  The
reference counts of objects the C code hands out again and again (hpack's
tuple classes, a static table entry) must not drift either.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple

from .helpers import REQUEST, frame

try:
    _speedups = importlib.import_module("h2lite._speedups")
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

pytestmark = pytest.mark.skipif(
    _speedups is None and not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
    reason="C accelerator not built (H2LITE_REQUIRE_EXTENSIONS makes this a failure)",
)

ITERATIONS = 3000
#: A field every path is given, whose reference count must not drift.
WATCHED = (b"x-watched", b"watched value")
#: Bytes the run may keep in all: well below one leaked object per call.
ALLOWED_GROWTH = ITERATIONS * 4


def _swallow(call: Callable[..., Any], *args: Any) -> None:
    # The error paths are what is exercised: the exception itself is dropped.
    with contextlib.suppress(Exception):
        call(*args)


def growth(work: Callable[[int], None]) -> tuple[int, list[int]]:
    """Bytes still allocated after ITERATIONS calls, and the refcount drift meanwhile.

    Two windows are measured after a warm-up and the smaller growth counts:
    caches and free lists settle, a leak grows in every window.
    """
    static_entry = _speedups.Decoder().decode(b"\x82")[0]
    watched: list[Any] = [HeaderTuple, NeverIndexedHeaderTuple, static_entry, *WATCHED]
    for i in range(300):
        work(i)
    gc.collect()
    counts = [sys.getrefcount(obj) for obj in watched]
    grown = []
    tracemalloc.start()
    try:
        for _ in range(2):
            before = tracemalloc.get_traced_memory()[0]
            for i in range(ITERATIONS):
                work(i)
            gc.collect()
            grown.append(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
    now = [sys.getrefcount(obj) for obj in watched]
    return min(grown), [a - b for a, b in zip(now, counts)]


def split_work(i: int) -> None:
    good = b"".join(frame(0x0, 0, 1 + 2 * k, b"x" * (i % 50 + k)) for k in range(8))
    _speedups.split_frames(good, 16384)
    _speedups.split_frames(WATCHED[1], 16384)
    _speedups.split_frames(bytearray(good[: len(good) - i % 20]), 16384)
    _speedups.split_frames(memoryview(good + bytes.fromhex("ffffff 00 00 00000001")), 16384)
    _swallow(_speedups.split_frames, good, -1)
    _swallow(_speedups.split_frames, "not bytes", 16384)


def _block_for(i: int) -> bytes:
    encoder = _speedups.Encoder()
    return encoder.encode(REQUEST + [(b"x-id", b"%d" % i), NeverIndexedHeaderTuple(b"authorization", b"s%d" % i)])


_DECODER = _speedups.Decoder()
_DECODER.header_table_size = 200  # small: entries are evicted all the time
_BLOCKS = [_block_for(i) for i in range(50)]
_BAD_BLOCKS = [
    bytes.fromhex("ff"),
    bytes.fromhex("be"),
    bytes.fromhex("40 85 aa"),
    bytes.fromhex("40 81 ff 00"),
    bytes.fromhex("82 3f e1 1f"),
    bytes.fromhex("3f e2 1f"),
    bytes.fromhex("40 01 61 7f cd 07") + b"v" * 1100,  # over the decoder's 1000-byte list limit
]


def decode_work(i: int) -> None:
    _DECODER.decode(_BLOCKS[i % 50])
    decoder = _speedups.Decoder(max_header_list_size=1000)
    decoder.decode(_BLOCKS[(i + 7) % 50], raw=True)
    _swallow(decoder.decode, _BAD_BLOCKS[i % len(_BAD_BLOCKS)])
    decoder.header_table_size = i % 3 * 100
    decoder.max_allowed_table_size = 4096
    decoder.dynamic_entries  # noqa: B018 - the getter builds a list
    _swallow(_speedups.huffman_decode, b"\xff\xff\xff\xff")
    _speedups.huffman_decode(_speedups.huffman_encode(b"value %d" % i))


_ENCODER = _speedups.Encoder()


def encode_work(i: int) -> None:
    fields = [
        (b":status", b"200"),
        (b"x-n", b"%d" % (i % 11)),
        HeaderTuple(b"x-long", b"v" * (i % 300)),
        NeverIndexedHeaderTuple(b"set-cookie", b"c=%d" % i),
        [b"x-list", b"l"],
        WATCHED,
        NeverIndexedHeaderTuple(*WATCHED),
    ]
    _ENCODER.encode(fields, huffman=bool(i % 2))
    _ENCODER.header_table_size = (i % 4) * 1000
    _ENCODER.table_size_changes = _ENCODER.table_size_changes[-1:]
    _ENCODER.dynamic_entries  # noqa: B018 - the getter builds a list
    _swallow(_ENCODER.encode, [("str", b"v")])
    _swallow(_ENCODER.encode, [(b"short",)])
    fresh = _speedups.Encoder()
    fresh.encode(iter(fields))


_GOOD_REQUEST = [
    HeaderTuple(b":method", b"POST"),
    HeaderTuple(b":scheme", b"https"),
    HeaderTuple(b":authority", b"example.org"),
    HeaderTuple(b":path", b"/"),
    HeaderTuple(b"content-length", b"12"),
    HeaderTuple(b"cookie", b"a=1"),
    NeverIndexedHeaderTuple(b"cookie", b"b=2"),
    WATCHED,
]
_BAD_REQUESTS = [
    _GOOD_REQUEST + [(b"Upper", b"x")],
    _GOOD_REQUEST + [(b"x", b" padded")],
    _GOOD_REQUEST + [(b":path", b"/again")],
    _GOOD_REQUEST + [(b"connection", b"close")],
    _GOOD_REQUEST[1:],
]


def fields_work(i: int) -> None:
    _speedups.check_request(_GOOD_REQUEST, False)
    _swallow(_speedups.check_request, _BAD_REQUESTS[i % len(_BAD_REQUESTS)], False)
    _speedups.check_response([(b":status", b"204"), (b"content-length", b"0")])
    _swallow(_speedups.check_response, [(b":status", b"101")])
    _speedups.check_trailers([(b"x-sum", b"1")])
    _swallow(_speedups.check_trailers, [(b":path", b"/")])
    _speedups.normalize_inbound(list(_GOOD_REQUEST))
    _speedups.normalize_inbound([(b"x", b"1")])
    _speedups.prepare_outbound(
        [("Cookie", " a=1; b=2 "), (bytearray(b"X-A"), memoryview(b"v")), NeverIndexedHeaderTuple("k", "v")], True, True
    )
    _speedups.prepare_outbound(iter(REQUEST), False, False)
    _speedups.prepare_outbound([WATCHED, (WATCHED[0], b"a; b")], True, True)
    _swallow(_speedups.prepare_outbound, [(b"x", 5)], True, True)
    _swallow(_speedups.prepare_outbound, [(b"x", b"y", b"z")], True, True)
    _swallow(_speedups.prepare_outbound, [("\udcff", b"y")], True, True)


@pytest.mark.parametrize("work", [split_work, decode_work, encode_work, fields_work], ids=lambda w: w.__name__)
def test_accelerated_paths_do_not_leak(work):
    grown, drift = growth(work)
    assert grown < ALLOWED_GROWTH, f"{grown} bytes kept after {ITERATIONS} calls"
    assert drift == [0] * 5
