"""CONTINUATION floods (CVE-2024-27316, CVE-2024-28182, CVE-2023-45288) and
header blocks larger than we accept.

Limits.max_continuation_frames (8) counts CONTINUATION frames after one
HEADERS or PUSH_PROMISE, per frame whatever the read size; the ninth is a
connection error ENHANCE_YOUR_CALM.  Limits.max_header_block_size
(max_header_list_size, 65,536) bounds the encoded block, whether it comes in
one frame or many; a block past it is never decoded.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from h2lite import DenialOfServiceError

from ..helpers import REQUEST, client, encode_headers, frame, server
from ._support import (
    FakeClock,
    assert_calm,
    attack,
    continuation,
    decoder_entries,
    deliver,
    headers_fragment,
)

MAX_CONTINUATIONS = 8
BLOCK_LIMIT = 65536


def make_server() -> Any:
    return server(clock=FakeClock())


def indexed_literal(name: bytes, value: bytes) -> bytes:
    """RFC 7541 §6.2.1: a literal with incremental indexing and a new name (no Huffman; short strings)."""
    assert len(name) < 127 and len(value) < 127
    return b"\x40" + bytes((len(name),)) + name + bytes((len(value),)) + value


@pytest.mark.parametrize("read_size", [None, 1], ids=["one-read", "a-read-per-frame"])
@pytest.mark.parametrize("payload", [b"", b"\x40"], ids=["empty", "one-byte"])
def test_ninth_continuation_is_refused(read_size: int | None, payload: bytes) -> None:
    """The first CONTINUATION past the limit fails the connection, however the bytes arrive."""
    chunks = [headers_fragment(1, encode_headers(REQUEST))] + [continuation(1, payload)] * 50
    out = attack(make_server, chunks, read_size=read_size)
    assert_calm(out, failed_at=MAX_CONTINUATIONS + 1)
    assert out.events == []
    assert out.streams == 0
    assert out.buffered <= 9 + len(payload) * 50


def test_continuation_flood_is_never_decoded() -> None:
    """CVE-2024-27316 / CVE-2023-45288: fields in a block that goes over the limit never reach the decoder."""
    fragment = indexed_literal(b"x-flood", b"v" * 100)
    chunks = [headers_fragment(1, fragment)] + [continuation(1, fragment)] * 20
    out = attack(make_server, chunks)
    assert_calm(out, failed_at=MAX_CONTINUATIONS + 1)
    assert decoder_entries(out.conn) == []


def test_block_size_limit_across_frames() -> None:
    """Four 16 KiB fragments fill the 64 KiB budget exactly; the fifth passes it."""
    piece = b"\x00" * 16384
    chunks = [headers_fragment(1, piece)] + [continuation(1, piece)] * 6
    out = attack(make_server, chunks, trace=True)
    assert_calm(out, failed_at=4)
    assert out.peak is not None and out.peak < 4 * BLOCK_LIMIT  # the block, a frame and a little more


def test_stalled_block_holds_at_most_the_limit() -> None:
    """A block that never ends holds no more than the limit and the frames it was cut from."""
    piece = b"\x00" * 8192
    chunks = [headers_fragment(1, piece)] + [continuation(1, piece)] * 7
    out = attack(make_server, chunks)
    assert out.error is None
    block = out.conn._header_block
    assert block is not None and block.size == 8 * 8192 <= BLOCK_LIMIT
    assert out.buffered == 0


def test_single_frame_over_the_block_limit_is_refused_before_decoding() -> None:
    """With SETTINGS_MAX_FRAME_SIZE raised, one HEADERS frame can carry more than the block limit:
    it is refused by its size, not decoded."""
    fields = b"".join(indexed_literal(b"x-%03d" % i, b"v" * 100) for i in range(700))
    assert len(fields) > BLOCK_LIMIT
    chunks = [frame(0x1, 0x4 | 0x1, 1, fields)]
    out = attack(lambda: server(clock=FakeClock(), max_frame_size=2**20), chunks)
    assert_calm(out, failed_at=0)
    assert decoder_entries(out.conn) == []


def test_single_frame_at_the_block_limit_is_decoded() -> None:
    """The limit is inclusive: a block of exactly the limit goes to the decoder (and its list size check)."""
    conn = server(clock=FakeClock(), max_frame_size=2**20)
    block = encode_headers(REQUEST) + b"\x00\x01a\x00" * ((BLOCK_LIMIT - len(encode_headers(REQUEST))) // 4)
    assert len(block) <= BLOCK_LIMIT
    with pytest.raises(DenialOfServiceError) as info:
        conn.receive_data(frame(0x1, 0x4 | 0x1, 1, block))
    assert "list" in str(info.value)  # the decoded list was too long, not the block


def test_push_promise_continuation_flood() -> None:
    """The same counting for a PUSH_PROMISE block sent to a client."""

    def make() -> Any:
        conn = client(clock=FakeClock())
        conn.send_headers(1, REQUEST, end_stream=True)
        conn.data_to_send()
        return conn

    chunks = [frame(0x5, 0, 1, struct.pack(">L", 2) + encode_headers(REQUEST))] + [continuation(1, b"")] * 20
    out = attack(make, chunks)
    assert_calm(out, failed_at=MAX_CONTINUATIONS + 1)
    assert out.streams == 1  # the request; no promised stream was created


def test_eight_continuations_are_fine() -> None:
    """The limit itself is allowed: a block in nine pieces is decoded and delivered."""
    block = encode_headers(REQUEST + [(b"x-pad", b"p" * 40)])
    cut = len(block) // 9
    pieces = [block[i * cut : (i + 1) * cut] for i in range(8)] + [block[8 * cut :]]
    chunks = [headers_fragment(1, pieces[0], end_stream=True)]
    chunks += [continuation(1, p) for p in pieces[1:-1]] + [continuation(1, pieces[-1], end_headers=True)]
    out = attack(make_server, chunks)
    assert out.error is None
    assert out.events[0].headers == REQUEST + [(b"x-pad", b"p" * 40)]


def test_continuation_counter_is_per_block() -> None:
    """Each block gets its own count: two blocks of eight CONTINUATIONs each are fine."""
    chunks = []
    for sid in (1, 3):
        block = encode_headers(REQUEST)
        chunks.append(headers_fragment(sid, block, end_stream=True))
        chunks += [continuation(sid, b"")] * 7 + [continuation(sid, b"", end_headers=True)]
    out = deliver(make_server, chunks, "whole")
    assert out.error is None
    assert out.conn.open_inbound_streams == 2
