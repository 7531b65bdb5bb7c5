"""h2lite._hpack against the hpack package: same bytes, same fields, same tables (RFC 7541)."""

from __future__ import annotations

import hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import _hpack

NAMES = [b":method", b":path", b":authority", b"user-agent", b"cookie", b"accept", b"authorization", b"x-a", b"x-b"]
VALUES = st.one_of(
    st.sampled_from([b"", b"GET", b"/", b"gzip, deflate", b"*/*"]),
    st.binary(min_size=0, max_size=80).map(lambda b: bytes(c % 95 + 32 for c in b)),
)
FIELD = st.tuples(st.sampled_from(NAMES), VALUES, st.booleans()).map(
    lambda t: hpack.NeverIndexedHeaderTuple(t[0], t[1]) if t[2] else (t[0], t[1])
)


@settings(max_examples=150, deadline=None)
@given(
    blocks=st.lists(st.lists(FIELD, max_size=12), max_size=12),
    table_size=st.sampled_from([0, 64, 256, 4096]),
)
def test_encoder_and_decoder_match_hpack(blocks, table_size):
    ours_enc, theirs_dec = _hpack.Encoder(), hpack.Decoder()
    theirs_enc, ours_dec = hpack.Encoder(), _hpack.Decoder()
    for encoder in (ours_enc, theirs_enc):
        encoder.header_table_size = table_size
    for block in blocks:
        ours = ours_enc.encode(block)
        assert ours == theirs_enc.encode(block)
        decoded = ours_dec.decode(ours)
        reference = theirs_dec.decode(ours, raw=True)
        assert [tuple(h) for h in decoded] == [tuple(h) for h in reference] == [tuple(h) for h in block]
        # RFC 7541 §7.1.3: never-indexed fields keep their representation.
        assert [type(h) for h in decoded] == [type(h) for h in reference]
        assert list(ours_enc.header_table.dynamic_entries) == list(theirs_enc.header_table.dynamic_entries)
        assert list(ours_dec.header_table.dynamic_entries) == list(theirs_dec.header_table.dynamic_entries)


def test_table_index_survives_many_evictions():
    encoder, decoder = _hpack.Encoder(), hpack.Decoder()
    encoder.header_table_size = decoder.header_table_size = 200
    for i in range(2000):
        block = [(b"x-key", b"v%d" % (i % 7)), (b"x-other", b"%d" % i)]
        assert decoder.decode(encoder.encode(block), raw=True) == block
    # The hash indexes are pruned: bounded by the live entries, not by history.
    assert len(encoder.header_table._exact) <= 4 * len(encoder.header_table.dynamic_entries) + 65


@pytest.mark.parametrize(
    "block",
    [
        bytes.fromhex("ff"),  # indexed field with a truncated integer
        bytes.fromhex("4085"),  # literal name shorter than announced
        bytes.fromhex("be"),  # index 62: the dynamic table is empty
        bytes.fromhex("82 3f e1 1f"),  # table size update after a field
        bytes.fromhex("00 7f ff ff ff ff ff"),  # oversized integer
    ],
)
def test_malformed_blocks_raise_hpack_errors(block):
    with pytest.raises(hpack.HPACKError):
        _hpack.Decoder().decode(block)


def test_header_list_limit():
    decoder = _hpack.Decoder(max_header_list_size=100)
    block = hpack.Encoder().encode([(b"x", b"y" * 80)])
    with pytest.raises(hpack.OversizedHeaderListError):
        decoder.decode(block)
