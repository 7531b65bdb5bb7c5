"""h2lite._hpack's Huffman code against hpack's (RFC 7541 §5.2, Appendix B).

The table-driven decoder and the string-of-bits encoder must give hpack's
results on every input, and fail where hpack fails with the same exception.
"""

from __future__ import annotations

import random

import pytest
from hpack.exceptions import HPACKDecodingError
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.huffman_table import decode_huffman
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite._hpack import huffman_decode, huffman_encode

reference_encode = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode


def _outcome(decode, data: bytes) -> bytes | str:
    try:
        return decode(data)
    except HPACKDecodingError as exc:
        return f"error: {exc}"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_encode_matches_hpack_and_round_trips(data):
    encoded = huffman_encode(data)
    assert encoded == reference_encode(data)
    assert huffman_decode(encoded) == data


def test_every_byte_value_round_trips():
    data = bytes(range(256)) * 3
    assert huffman_encode(data) == reference_encode(data)
    assert huffman_decode(huffman_encode(data)) == data


def test_every_one_and_two_byte_string_decodes_like_hpack():
    # Covers every byte-boundary state of the code tree after one byte, EOS
    # prefixes, and both kinds of bad padding (RFC 7541 §5.2).
    for value in range(1 << 16):
        data = value.to_bytes(2, "big")
        assert _outcome(huffman_decode, data) == _outcome(decode_huffman, data), data.hex()
        if value < 256:
            one = bytes((value,))
            assert _outcome(huffman_decode, one) == _outcome(decode_huffman, one), one.hex()


@settings(max_examples=600, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_arbitrary_bytes_decode_like_hpack(data):
    assert _outcome(huffman_decode, data) == _outcome(decode_huffman, data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=60), st.integers(0, 7), st.integers(0, 255))
def test_damaged_encodings_decode_like_hpack(data, cut, noise):
    encoded = bytearray(huffman_encode(data))
    # Flip some bits in the last byte (bad padding) or drop it (truncation).
    encoded[-1] ^= noise
    if cut and len(encoded) > 1:
        del encoded[-1]
    damaged = bytes(encoded)
    assert _outcome(huffman_decode, damaged) == _outcome(decode_huffman, damaged)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # RFC 7541 §5.2: a padding longer than 7 bits is a decoding error.
        (bytes.fromhex("ff"), "Incomplete"),
        # RFC 7541 §5.2: padding that is not the MSBs of EOS ("0" bits).
        (bytes.fromhex("00"), "Incomplete"),
        # RFC 7541 §5.2: EOS (30 one bits) inside the string is an error.
        (bytes.fromhex("ffffffff"), "Invalid"),
        (bytes.fromhex("1fffffffff"), "Invalid"),
    ],
)
def test_bad_strings_raise(data, message):
    with pytest.raises(HPACKDecodingError, match=message):
        huffman_decode(data)
    with pytest.raises(HPACKDecodingError, match=message):
        decode_huffman(data)


def test_accepts_bytearray_and_memoryview():
    encoded = huffman_encode(b"www.example.com")
    # RFC 7541 Appendix C.4.1's encoding of "www.example.com".
    assert encoded == bytes.fromhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")
    assert huffman_decode(bytearray(encoded)) == b"www.example.com"
    assert huffman_decode(memoryview(encoded)) == b"www.example.com"
    assert huffman_encode(memoryview(b"no-cache")) == bytes.fromhex("a8eb 1064 9cbf")


def test_long_random_strings_round_trip():
    rng = random.Random(7541)
    for _ in range(50):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
        encoded = huffman_encode(data)
        assert encoded == reference_encode(data)
        assert huffman_decode(encoded) == data
