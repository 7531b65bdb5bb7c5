"""The C HPACK coder agrees with the pure-Python one (RFC 7541), input for input.

h2lite._hpack is the specification (itself held to the hpack package by
test_hpack_lean.py).  For the same operations both must give the same header
lists (with the same tuple classes), byte-identical blocks, the same dynamic
tables, and the same hpack exception with the same message.
"""

from __future__ import annotations

import importlib
import os

import hpack
import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hpack.exceptions import (
    HPACKDecodingError,
    InvalidTableIndex,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack.huffman_table import decode_huffman
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import _backend, _hpack
from h2lite.codes import ErrorCode
from h2lite.exceptions import DenialOfServiceError, RemoteProtocolError
from h2lite.headers import Decoder as HeadersDecoder
from h2lite.headers import Encoder as HeadersEncoder

try:
    _speedups = importlib.import_module("h2lite._speedups")
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

pytestmark = pytest.mark.skipif(
    _speedups is None and not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
    reason="C accelerator not built (H2LITE_REQUIRE_EXTENSIONS makes this a failure)",
)

KINDS = [bytes, bytearray, memoryview]


def outcome(call, *args, **kwargs):
    """What a call did: ("ok", result) or ("raised", exception class, message)."""
    try:
        return ("ok", call(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return ("raised", type(exc), str(exc))


def typed(headers):
    """A header list with each field's class, which == on tuples ignores."""
    return [(type(h).__name__, h[0], h[1]) for h in headers]


def decoder_state(decoder):
    if isinstance(decoder, _hpack.Decoder):
        table = decoder.header_table
        return [tuple(e) for e in table.dynamic_entries], table._current_size, decoder.header_table_size
    return [tuple(e) for e in decoder.dynamic_entries], decoder.current_size, decoder.header_table_size


def encoder_state(encoder):
    if isinstance(encoder, _hpack.Encoder):
        table = encoder.header_table
        return (
            [tuple(e) for e in table.dynamic_entries],
            table._current_size,
            encoder.header_table_size,
            table.resized,
            list(encoder.table_size_changes),
        )
    return (
        [tuple(e) for e in encoder.dynamic_entries],
        encoder.current_size,
        encoder.header_table_size,
        encoder.resized,
        list(encoder.table_size_changes),
    )


# -- Huffman code (RFC 7541 §5.2, Appendix B) --------------------------------


def test_huffman_decoding_matches_hpack_on_every_string_of_up_to_two_bytes():
    # Every padding case lives here: EOS prefixes, over-long padding, zeros.
    for first in range(256):
        candidates = [bytes([first])] + [bytes([first, second]) for second in range(256)]
        for data in candidates:
            assert outcome(_speedups.huffman_decode, data) == outcome(decode_huffman, data), data


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200), flips=st.lists(st.integers(0, 10_000), max_size=3), cut=st.integers(0, 300))
def test_huffman_code_matches_hpack(data, flips, cut):
    encoded = hpack.huffman.HuffmanEncoder(
        hpack.huffman_constants.REQUEST_CODES, hpack.huffman_constants.REQUEST_CODES_LENGTH
    ).encode(data)
    assert _speedups.huffman_encode(data) == encoded
    assert _speedups.huffman_decode(encoded) == data
    # Damaged strings: the same verdict, the same message.
    damaged = bytearray(encoded[: cut % (len(encoded) + 1)] + encoded[cut % (len(encoded) + 1) :])
    for flip in flips:
        if damaged:
            damaged[flip % len(damaged)] ^= 1 << (flip % 8)
    assert outcome(_speedups.huffman_decode, bytes(damaged)) == outcome(decode_huffman, bytes(damaged))


def test_eos_inside_a_string_is_an_error():
    # RFC 7541 §5.2: EOS (30 one bits) in a string is a decoding error.
    assert outcome(_speedups.huffman_decode, b"\xff\xff\xff\xff") == ("raised", HPACKDecodingError, "Invalid Huffman string")
    # Eight or more bits of padding: also an error.
    assert outcome(_speedups.huffman_decode, b"\x1f\xff") == ("raised", HPACKDecodingError, "Incomplete Huffman string")


# -- decoder -------------------------------------------------------------------

NAMES = [b":method", b":path", b":status", b"user-agent", b"cookie", b"accept-encoding", b"x-a", b"x-long-" + b"n" * 40]
VALUES = st.one_of(
    st.sampled_from([b"", b"GET", b"/", b"200", b"gzip, deflate", b"v" * 120]),
    st.binary(max_size=40),
)


def _field(name: bytes, value: bytes, kind: str):
    if kind == "never":
        return NeverIndexedHeaderTuple(name, value)
    return HeaderTuple(name, value) if kind == "header" else (name, value)


FIELDS = st.lists(
    st.builds(
        _field,
        st.sampled_from(NAMES) | st.binary(min_size=1, max_size=12),
        VALUES,
        st.sampled_from(["tuple", "header", "never"]),
    ),
    max_size=10,
)


def _mutate(block: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(block)
    for kind, position, value in edits:
        if kind == 0 and out:
            out[position % len(out)] = value
        elif kind == 1:
            out.insert(position % (len(out) + 1), value)
        elif kind == 2 and out:
            del out[position % len(out)]
        else:
            del out[position % (len(out) + 1) :]
    return bytes(out)


BLOCK_SOURCES = st.one_of(
    st.tuples(st.just("valid"), FIELDS, st.just([])),
    st.tuples(
        st.just("mutated"),
        FIELDS,
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 500), st.integers(0, 255)), min_size=1, max_size=4),
    ),
    st.tuples(st.just("raw"), st.binary(max_size=60), st.just([])),
)
DECODER_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("block"), BLOCK_SOURCES, st.sampled_from(KINDS)),
        st.tuples(st.just("peer_size"), st.sampled_from([0, 40, 100, 4096, 8192]), st.none()),
        st.tuples(st.just("max_allowed"), st.sampled_from([0, 100, 4096, 65536]), st.none()),
        st.tuples(st.just("header_table_size"), st.sampled_from([0, 64, 4096]), st.none()),
        st.tuples(st.just("max_list"), st.sampled_from([0, 100, 65536]), st.none()),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(ops=DECODER_OPS)
def test_decoder_matches_the_pure_decoder(ops):
    python, c = _hpack.Decoder(), _speedups.Decoder()
    # The peer's encoder: valid blocks, also carrying table size updates.
    peer = hpack.Encoder()
    for op, argument, kind in ops:
        if op == "block":
            source, content, edits = argument
            if source == "raw":
                block = content
            else:
                block = peer.encode(content)
                if source == "mutated":
                    block = _mutate(block, edits)
            expected = outcome(python.decode, block, raw=True)
            got = outcome(c.decode, kind(block))
            assert got[:1] == expected[:1]
            if expected[0] == "ok":
                assert typed(got[1]) == typed(expected[1])
            else:
                assert got == expected
        elif op == "peer_size":
            peer.header_table_size = argument
        elif op == "max_allowed":
            python.max_allowed_table_size = c.max_allowed_table_size = argument
        elif op == "header_table_size":
            python.header_table_size = c.header_table_size = argument
        else:
            python.max_header_list_size = c.max_header_list_size = argument
        assert decoder_state(c) == decoder_state(python)
        assert c.max_allowed_table_size == python.max_allowed_table_size
        assert c.max_header_list_size == python.max_header_list_size


@pytest.mark.parametrize(
    "block, error",
    [
        (bytes.fromhex("ff"), HPACKDecodingError),  # indexed field, integer cut short
        (bytes.fromhex("ff ff ff ff ff ff 01"), HPACKDecodingError),  # integer longer than 5 continuation bytes
        (bytes.fromhex("80"), InvalidTableIndex),  # RFC 7541 §6.1: index 0 is an error
        (bytes.fromhex("be"), InvalidTableIndex),  # index 62: the dynamic table is empty
        (bytes.fromhex("7f 80 80 80 80 0f"), InvalidTableIndex),  # a name index far past the table
        (bytes.fromhex("40 85 aa"), HPACKDecodingError),  # literal name shorter than announced
        (bytes.fromhex("40 01 61"), HPACKDecodingError),  # value length missing
        (bytes.fromhex("40 81 ff 00"), HPACKDecodingError),  # Huffman name of padding only, 8 bits
        (bytes.fromhex("82 3f e1 1f"), HPACKDecodingError),  # RFC 7541 §4.2: size update after a field
        (bytes.fromhex("3f e2 1f"), InvalidTableSizeError),  # size update above the allowed maximum
        (bytes.fromhex("40 7f 81 80 04") + b"x" * 66000, OversizedHeaderListError),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_blocks_raise_what_the_pure_decoder_raises(block, error, kind):
    expected = outcome(_hpack.Decoder().decode, block)
    assert expected[:2] == ("raised", error)
    assert outcome(_speedups.Decoder().decode, kind(block)) == expected


def test_a_shrunk_table_the_peer_did_not_shrink_fails_after_the_block():
    # hpack's rule, kept by both: header_table_size above max_allowed_table_size
    # once the block is decoded is InvalidTableSizeError.
    for decoder in (_hpack.Decoder(), _speedups.Decoder()):
        decoder.max_allowed_table_size = 100
        assert outcome(decoder.decode, b"\x82") == (
            "raised",
            InvalidTableSizeError,
            "Encoder did not shrink table size to within the max",
        )
        assert decoder.decode(b"\x3f\x45\x82") == [(b":method", b"GET")]  # update to 100, then a field


def test_decode_arguments():
    decoder = _speedups.Decoder(max_header_list_size=100)
    assert decoder.decode(data=b"\x82", raw=False) == [(b":method", b"GET")]
    with pytest.raises(TypeError):
        decoder.decode()
    with pytest.raises(TypeError):
        decoder.decode(b"\x82", flavour=1)
    with pytest.raises(TypeError):
        decoder.decode("82")
    with pytest.raises(TypeError):
        decoder.max_header_list_size = "big"


# -- encoder -------------------------------------------------------------------

ENCODER_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("encode"), FIELDS, st.booleans()),
        st.tuples(st.just("size"), st.sampled_from([0, 1, 60, 200, 4096, 4096, 10000]), st.none()),
        st.tuples(st.just("collapse"), st.none(), st.none()),
    ),
    max_size=14,
)


@settings(max_examples=150, deadline=None)
@given(ops=ENCODER_OPS)
def test_encoder_matches_the_pure_encoder_byte_for_byte(ops):
    python, c = _hpack.Encoder(), _speedups.Encoder()
    reader = hpack.Decoder()
    reader.max_allowed_table_size = 10000
    for op, argument, huffman in ops:
        if op == "encode":
            expected = python.encode(argument, huffman=huffman)
            block = c.encode(argument, huffman)
            assert block == expected
            # hpack itself reads the same fields back.
            assert [tuple(h) for h in reader.decode(block, raw=True)] == [tuple(h) for h in argument]
        elif op == "size":
            # As headers.Encoder: setting the size in force again would make
            # hpack drop a pending update (test_setting_the_same_size_again...).
            if argument != python.header_table_size:
                python.header_table_size = c.header_table_size = argument
        else:
            # What headers.Encoder does with pending changes: the smallest, then the last.
            changes = python.table_size_changes
            if changes:
                collapsed = [min(changes), changes[-1]]
                python.table_size_changes = list(collapsed)
                c.table_size_changes = list(collapsed)
        assert encoder_state(c) == encoder_state(python)


def test_setting_the_same_size_again_forgets_the_pending_update_in_both():
    # hpack's HeaderTable.maxsize setter clears ``resized`` when the size does
    # not change; headers.Encoder never does that, but both coders agree.
    python, c = _hpack.Encoder(), _speedups.Encoder()
    for size in (100, 100):
        python.header_table_size = c.header_table_size = size
    assert encoder_state(c) == encoder_state(python)
    assert c.resized is False
    assert c.encode([(b"x", b"y")]) == python.encode([(b"x", b"y")]) == b"\x40\x81\xf3\x81\xf5"


def test_encoder_table_index_stays_exact_over_many_evictions():
    python, c = _hpack.Encoder(), _speedups.Encoder()
    python.header_table_size = c.header_table_size = 300
    for i in range(3000):
        block = [(b"x-key", b"v%d" % (i % 7)), (b"x-other", b"%d" % (i % 13)), (b"x-key", b"w%d" % (i % 5))]
        assert c.encode(block) == python.encode(block)
    assert encoder_state(c) == encoder_state(python)


@pytest.mark.parametrize(
    "headers",
    [
        [("x-str", b"v")],  # str name
        [(b"x", bytearray(b"v"))],  # bytearray value
        [(b"x", 1)],
    ],
)
def test_encoder_refuses_what_is_not_bytes(headers):
    with pytest.raises(TypeError):
        _hpack.Encoder().encode(headers)
    with pytest.raises(TypeError):
        _speedups.Encoder().encode(headers)


def test_encoder_takes_any_iterable_of_fields():
    fields = [HeaderTuple(b"x-h", b"2"), (b"x-t", b"3"), NeverIndexedHeaderTuple(b"x-n", b"4")]
    assert _speedups.Encoder().encode(iter(fields)) == _hpack.Encoder().encode(iter(fields))
    assert _speedups.Encoder().encode(tuple(fields)) == _hpack.Encoder().encode(tuple(fields))


def test_negative_size_change_is_refused_like_hpack():
    python, c = _hpack.Encoder(), _speedups.Encoder()
    python.header_table_size = c.header_table_size = 100
    python.table_size_changes = [-1]
    c.table_size_changes = [-1]
    assert outcome(c.encode, []) == outcome(python.encode, [])
    assert outcome(c.encode, [])[1] is ValueError


# -- headers.Decoder / headers.Encoder on either backend ------------------------


def test_connection_coders_come_from_the_live_backend(backend):
    expected = {"python": (_hpack.Decoder, _hpack.Encoder), "c": (_speedups.Decoder, _speedups.Encoder)}[backend]
    assert type(HeadersDecoder(65536, 100)._decoder) is expected[0]
    assert type(HeadersEncoder(4096)._encoder) is expected[1]


def test_owed_table_size_update_is_enforced_on_either_backend(backend):
    # RFC 7541 §4.2: after our SETTINGS_HEADER_TABLE_SIZE shrank the table,
    # the next block must start with a size update no larger than the new size.
    decoder = HeadersDecoder(65536, 100)
    decoder.max_table_size = 100
    with pytest.raises(RemoteProtocolError) as caught:
        decoder.decode(b"\x82")
    assert caught.value.error_code == ErrorCode.COMPRESSION_ERROR
    decoder = HeadersDecoder(65536, 100)
    decoder.max_table_size = 100
    assert decoder.decode(b"\x3f\x45\x82") == [(b":method", b"GET")]
    # RFC 7541 §4.2: at most two updates at the start of a block.
    with pytest.raises(RemoteProtocolError) as caught:
        HeadersDecoder(65536, 100).decode(b"\x20\x20\x20\x82")
    assert caught.value.error_code == ErrorCode.COMPRESSION_ERROR


def test_hpack_bomb_is_a_denial_of_service_error_on_either_backend(backend):
    decoder = HeadersDecoder(4096, 100)
    entry = b"\x40\x01a\x7f\xe9\x06" + b"x" * 1000  # one indexed literal of ~1 KiB
    decoder.decode(entry)
    with pytest.raises(DenialOfServiceError):
        decoder.decode(b"\xbe" * 8)  # eight references to it: 8 KiB decoded


def test_encoder_signals_the_smallest_then_the_final_size_on_either_backend(backend):
    encoder = HeadersEncoder(4096)
    for size in (1000, 0, 2000, 3000):
        encoder.set_peer_table_size(size)
    reader = hpack.Decoder()
    block = encoder.encode([(b"x-a", b"1")])
    # RFC 7541 §4.2: 0 (the smallest) then 3000, then the field.
    assert block.startswith(b"\x20\x3f\x99\x17")
    assert reader.decode(block, raw=True) == [(b"x-a", b"1")]
    assert reader.header_table_size == 3000
    assert type(encoder._encoder) is (_speedups.Encoder if _backend.current() == "c" else _hpack.Encoder)
