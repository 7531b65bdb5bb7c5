"""HPACK abuse: bombs (CVE-2016-6581), lists of many tiny fields, a peer that
allows a huge table (nghttp2's max_deflate_dynamic_table_size), and table
size tricks (RFC 7541 §4.2, §6.3).

Limits: max_header_list_size (65,536, RFC 7541 §4.1 sizes: name + value + 32
per field) stops decoding with ENHANCE_YOUR_CALM; max_header_fields (256)
refuses the stream; max_encoder_table_size (4096) caps our encoder whatever
the peer advertises.
"""

from __future__ import annotations

from typing import Any

import hpack
import pytest

from h2lite import Setting, events
from h2lite.codes import ErrorCode

from ..helpers import (
    REQUEST,
    RESPONSE,
    client,
    encode_headers,
    headers_frame,
    parse_frames,
    server,
    settings,
)
from ._support import (
    FakeClock,
    assert_calm,
    assert_connection_error,
    attack,
    continuation,
    glitches_spent,
    headers_fragment,
)

LIST_LIMIT = 65536
MAX_FIELDS = 256


def make_server() -> Any:
    return server(clock=FakeClock())


def literal_indexed(name: bytes, value: bytes) -> bytes:
    """RFC 7541 §6.2.1 literal with incremental indexing, new name, raw strings."""
    return b"\x40" + _string(name) + _string(value)


def literal_plain(name: bytes, value: bytes) -> bytes:
    """RFC 7541 §6.2.2 literal without indexing, new name, raw strings."""
    return b"\x00" + _string(name) + _string(value)


def _string(data: bytes) -> bytes:
    return _integer(len(data), 7, 0) + data


def _integer(value: int, bits: int, flags: int) -> bytes:
    limit = (1 << bits) - 1
    if value < limit:
        return bytes((flags | value,))
    out = bytearray((flags | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def size_update(size: int) -> bytes:
    """RFC 7541 §6.3 dynamic table size update."""
    return _integer(size, 5, 0x20)


REQUEST_BLOCK = encode_headers(REQUEST)


# -- bombs ---------------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 4], ids=["one-frame", "with-continuations"])
def test_hpack_bomb_stops_at_the_list_limit(frames: int) -> None:
    """CVE-2016-6581: a 4,000-byte entry, then one-byte references to it (62 = the newest entry).

    Decoded in full this is 16,000 x 4,033 bytes per frame; decoding stops at
    the 64 KiB list limit with ENHANCE_YOUR_CALM and allocates little.
    """
    first = REQUEST_BLOCK + literal_indexed(b"x-bomb", b"B" * 4000)
    refs = b"\xbe" * 16000
    pieces = [first + refs[: 16384 - len(first)]] + [refs] * (frames - 1)
    chunks = [headers_fragment(1, pieces[0], end_stream=True, end_headers=frames == 1)]
    chunks += [continuation(1, p, end_headers=i == frames - 2) for i, p in enumerate(pieces[1:])]
    out = attack(make_server, chunks, trace=True)
    assert_calm(out, failed_at=frames - 1)
    assert out.events == []
    assert out.peak is not None and out.peak < 4 * LIST_LIMIT


def test_hpack_bomb_in_trailers() -> None:
    """The same bomb in a trailer section is stopped the same way."""
    bomb = literal_indexed(b"x-bomb", b"B" * 4000) + b"\xbe" * 12000
    chunks = [headers_frame(1, REQUEST), headers_fragment(1, bomb, end_stream=True, end_headers=True)]
    out = attack(make_server, chunks, trace=True)
    assert_calm(out, failed_at=1)
    assert out.peak is not None and out.peak < 4 * LIST_LIMIT


def test_hpack_bomb_against_a_client() -> None:
    """A hostile server's response bomb."""

    def make() -> Any:
        conn = client(clock=FakeClock())
        conn.send_headers(1, REQUEST, end_stream=True)
        conn.data_to_send()
        return conn

    bomb = encode_headers(RESPONSE) + literal_indexed(b"x-bomb", b"B" * 4000) + b"\xbe" * 12000
    out = attack(make, [headers_fragment(1, bomb, end_headers=True)], trace=True)
    assert_calm(out, failed_at=0)
    assert out.peak is not None and out.peak < 4 * LIST_LIMIT


def test_static_table_bomb() -> None:
    """One byte per field from the static table (index 2, ':method: GET', 42 bytes decoded each)."""
    block = REQUEST_BLOCK + b"\x82" * 16000
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)], trace=True)
    assert_calm(out, failed_at=0)
    assert out.peak is not None and out.peak < 4 * LIST_LIMIT


def test_list_just_under_the_limit_is_accepted_but_field_count_refuses_it() -> None:
    """1,000 fields of 65 bytes (65,000 in all) fit the size limit; the field count refuses the stream."""
    block = REQUEST_BLOCK + literal_indexed(b"x-f", b"v" * 30) + b"\xbe" * 999
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert out.error is None
    assert out.rst_streams() == [(1, ErrorCode.REFUSED_STREAM)]


# -- many tiny fields ------------------------------------------------------------------


@pytest.mark.parametrize("count", [MAX_FIELDS - len(REQUEST) + 1, 1500])
def test_many_tiny_fields_refuse_the_request(count: int) -> None:
    """A list of more than 256 fields refuses the stream (REFUSED_STREAM); the connection goes on."""
    block = REQUEST_BLOCK + literal_plain(b"a", b"") * count
    chunks = [headers_fragment(1, block, end_stream=True, end_headers=True), headers_frame(3, REQUEST, end_stream=True)]
    out = attack(make_server, chunks, trace=True)
    assert out.error is None
    assert out.rst_streams() == [(1, ErrorCode.REFUSED_STREAM)]
    assert out.events[0] == events.StreamReset(stream_id=1, error_code=ErrorCode.REFUSED_STREAM, remote_reset=False)
    assert isinstance(out.events[1], events.RequestReceived) and out.events[1].stream_id == 3
    assert glitches_spent(out.conn) == 1
    assert out.peak is not None and out.peak < 4 * LIST_LIMIT


def test_exactly_256_fields_are_accepted() -> None:
    block = REQUEST_BLOCK + literal_plain(b"a", b"") * (MAX_FIELDS - len(REQUEST))
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert out.error is None
    assert len(out.events[0].headers) == MAX_FIELDS


def test_many_fields_in_trailers_refuse_the_stream() -> None:
    trailers = literal_plain(b"a", b"") * (MAX_FIELDS + 1)
    chunks = [headers_frame(1, REQUEST), headers_fragment(1, trailers, end_stream=True, end_headers=True)]
    out = attack(make_server, chunks)
    assert out.error is None
    assert out.rst_streams() == [(1, ErrorCode.REFUSED_STREAM)]


def test_many_fields_do_not_excuse_an_even_stream_id() -> None:
    """RFC 9113 §5.1.1: a client's HEADERS on an even stream is a connection error, however many fields it has."""
    block = REQUEST_BLOCK + literal_plain(b"a", b"") * (MAX_FIELDS + 1)
    out = attack(make_server, [headers_fragment(2, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=0)
    assert out.rst_streams() == []


def test_many_fields_do_not_excuse_headers_on_a_closed_stream() -> None:
    """RFC 9113 §5.1: HEADERS after the stream ended is STREAM_CLOSED for the connection, whatever their size."""

    def make() -> Any:
        conn = make_server()
        conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
        conn.send_headers(1, RESPONSE, end_stream=True)
        conn.data_to_send()
        return conn

    block = literal_plain(b"a", b"") * (MAX_FIELDS + 1)
    out = attack(make, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.STREAM_CLOSED, failed_at=0)


# -- the peer allows a huge table ----------------------------------------------------------


@pytest.mark.parametrize("advertised", [8192, 2**32 - 1])
def test_our_encoder_table_stays_at_the_cap(advertised: int) -> None:
    """A peer allowing a huge table does not make us keep one: every block we send decodes with a
    4,096-byte table, and the table size we signal never exceeds it."""
    conn = make_server()
    conn.receive_data(settings((Setting.HEADER_TABLE_SIZE, advertised)))
    conn.data_to_send()
    peer = hpack.Decoder()
    peer.max_allowed_table_size = 4096
    for i in range(200):
        sid = 2 * i + 1
        conn.receive_data(headers_frame(sid, REQUEST, end_stream=True))
        conn.send_headers(sid, RESPONSE + [(b"x-id-%d" % i, b"v" * 300), (b"x-seq", b"%d" % i)], end_stream=True)
        for t, f, s, payload in parse_frames(conn.data_to_send()):
            if t == 0x1:
                fields = peer.decode(payload, raw=True)  # raises if we used a bigger table
                assert (b"x-seq", b"%d" % i) in fields
        assert conn._encoder.table_size <= 4096
    assert peer.header_table_size <= 4096


def test_encoder_cap_below_the_default_is_signalled() -> None:
    """Limits.max_encoder_table_size below 4,096: the first block announces the smaller table."""
    from h2lite import Limits

    conn = client(clock=FakeClock(), limits=Limits(max_encoder_table_size=256))
    conn.send_headers(1, REQUEST + [(b"x-a", b"v" * 500)], end_stream=True)
    block = parse_frames(conn.data_to_send())[0][3]
    assert block.startswith(size_update(256))
    peer = hpack.Decoder()
    peer.decode(block, raw=True)
    assert peer.header_table_size == 256


def test_shrink_then_grow_between_blocks_signals_both() -> None:
    """RFC 7541 §4.2: after the peer lowers the size to 0 and raises it again, the next block signals
    the smallest size, then the final one, and no other."""
    conn = make_server()
    conn.receive_data(settings((Setting.HEADER_TABLE_SIZE, 0)) + settings((Setting.HEADER_TABLE_SIZE, 2048)))
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.data_to_send()
    conn.send_headers(1, RESPONSE, end_stream=True)
    block = parse_frames(conn.data_to_send())[0][3]
    assert block.startswith(size_update(0) + size_update(2048))
    assert block[len(size_update(0) + size_update(2048))] & 0xE0 != 0x20


# -- table size tricks against our decoder (RFC 7541 §4.2, §6.3) -------------------------


def test_table_size_update_above_our_setting() -> None:
    """RFC 7541 §6.3: an update above SETTINGS_HEADER_TABLE_SIZE is a COMPRESSION_ERROR."""
    block = size_update(4097) + REQUEST_BLOCK
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)


def test_missing_update_after_we_shrank_the_table() -> None:
    """RFC 7541 §4.2: once our smaller SETTINGS_HEADER_TABLE_SIZE is acknowledged, the next block
    must start with an update to it."""
    make = lambda: server(clock=FakeClock(), header_table_size=1024)
    out = attack(make, [headers_fragment(1, REQUEST_BLOCK, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)
    ok = attack(make, [headers_fragment(1, size_update(1024) + REQUEST_BLOCK, end_stream=True, end_headers=True)])
    assert ok.error is None


def test_update_above_the_owed_size_after_we_shrank() -> None:
    """The first update after we shrank must not exceed the new size."""
    make = lambda: server(clock=FakeClock(), header_table_size=1024)
    block = size_update(2048) + REQUEST_BLOCK
    out = attack(make, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)


def test_more_than_two_updates() -> None:
    """RFC 7541 §4.2: at most two updates start a block."""
    block = size_update(0) + size_update(100) + size_update(4096) + REQUEST_BLOCK
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)


def test_two_updates_are_fine() -> None:
    block = size_update(0) + size_update(4096) + REQUEST_BLOCK
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert out.error is None


def test_update_after_a_field() -> None:
    """RFC 7541 §4.2: an update anywhere but the start of a block is a COMPRESSION_ERROR."""
    block = REQUEST_BLOCK + size_update(100)
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)


def test_update_hidden_in_a_continuation() -> None:
    """The block is one unit: an update at the start of a later fragment is still mid-block."""
    chunks = [headers_fragment(1, REQUEST_BLOCK, end_stream=True), continuation(1, size_update(0), end_headers=True)]
    out = attack(make_server, chunks)
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=1)


def test_oversized_integer_in_an_update() -> None:
    """An update whose integer never ends (or overflows) is a COMPRESSION_ERROR, not a hang."""
    block = b"\x3f" + b"\xff" * 20 + b"\x01" + REQUEST_BLOCK
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)


def test_index_beyond_the_table() -> None:
    """A reference to an entry that does not exist is a COMPRESSION_ERROR."""
    block = REQUEST_BLOCK + b"\xff\x80\x01"  # index 127 + 128
    out = attack(make_server, [headers_fragment(1, block, end_stream=True, end_headers=True)])
    assert_connection_error(out, ErrorCode.COMPRESSION_ERROR, failed_at=0)
