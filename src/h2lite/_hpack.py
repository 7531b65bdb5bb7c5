"""Leaner HPACK loops over the ``hpack`` package's tables, and a faster Huffman code.

``hpack`` spends much of its time outside the compression itself: a linear
scan of the dynamic table per field when encoding, a copy of the rest of the
block per literal and a debug log call per field when decoding, and a Huffman
coder that walks the code four bits (decoding) or one symbol (encoding) per
Python loop turn.  These subclasses keep hpack's tables, exceptions and
indexing decisions, and replace those loops:

* Huffman decoding walks one input byte per loop turn through a table built
  once from RFC 7541 Appendix B; Huffman encoding turns the bytes into a
  string of code bits and that string into an integer, both in C loops.
* The encoder finds table entries through hash indexes; the decoder's
  dynamic table holds the very ``HeaderTuple`` objects it hands out, so an
  indexed field costs no allocation.

The tests hold them to ``hpack`` itself: the same encodings decode to the
same fields, leave the same table state and fail with the same exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hpack
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hpack.exceptions import (
    HPACKDecodingError,
    InvalidTableIndex,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.table import HeaderTable

_STATIC = HeaderTable.STATIC_TABLE_MAPPING
_STATIC_LENGTH = HeaderTable.STATIC_TABLE_LENGTH
_FIRST_DYNAMIC = _STATIC_LENGTH + 1
_INDEXED = [bytes((0x80 | i,)) for i in range(0x7F)]
#: First bytes of a literal with incremental indexing and an indexed name (RFC 7541 §6.2.1).
_NAME_INDEXED = [bytes((0x40 | i,)) for i in range(0x3F)]
#: First bytes of a Huffman-coded string of each short length (RFC 7541 §5.2).
_HUFFMAN_LENGTH = [bytes((0x80 | n,)) for n in range(0x7F)]
#: Static table (name, value) -> index, and name -> its first index (hpack's choices).
_STATIC_FIELD_INDEX = {
    (name, value): index for name, (first, values) in _STATIC.items() for value, index in values.items()
}
_STATIC_NAME_INDEX = {name: first for name, (first, values) in _STATIC.items()}
#: The static table as HeaderTuples, by HPACK index (index 0 is never valid).
_STATIC_FIELDS: tuple[Any, ...] = (None, *(HeaderTuple(n, v) for n, v in HeaderTable.STATIC_TABLE))
_new_tuple = tuple.__new__


# -- Huffman code (RFC 7541 §5.2 and Appendix B) -----------------------------

#: Each byte's Huffman code as a string of "0" and "1" characters.
_CODE_BITS = [format(REQUEST_CODES[b], f"0{REQUEST_CODES_LENGTH[b]}b") for b in range(256)]
#: The EOS code's most significant bits, the padding after the last code.
_PADDING = ["1" * n for n in range(8)]


def huffman_encode(data: bytes) -> bytes:
    """Huffman-code ``data`` (RFC 7541 §5.2); the same bytes as hpack's encoder."""
    if not data:
        return b""
    bits = "".join(map(_CODE_BITS.__getitem__, data))
    size = len(bits)
    # RFC 7541 §5.2: pad to an octet boundary with the most significant bits of EOS.
    pad = -size & 7
    return int(bits + _PADDING[pad], 2).to_bytes((size + pad) >> 3, "big")


# Decoding runs a byte-wide state machine.  A state is an inner node of the
# code tree (0 is the root) or _FAILED; it is kept multiplied by 256 so that
# ``state | byte`` indexes the two flat tables below: the next state, and the
# bytes completed while reading that input byte (zero, one or two symbols).
_FAILED = 256
_NEXT_STATE: list[int] = []
_EMITTED: list[bytes] = []
#: States a string may end in: the root, or 1 to 7 bits into EOS's all-ones prefix.
_ACCEPTING: set[int] = set()


def _build_decoding_tables() -> None:
    # The code tree: children[node] = [zero, one]; a child >= 0 is an inner
    # node, a child < 0 is ~symbol.  The root (0) is never anyone's child.
    children = [[0, 0]]
    for symbol in range(257):
        code, length = REQUEST_CODES[symbol], REQUEST_CODES_LENGTH[symbol]
        node = 0
        for shift in range(length - 1, 0, -1):
            bit = (code >> shift) & 1
            child = children[node][bit]
            if not child:
                child = len(children)
                children.append([0, 0])
                children[node][bit] = child
            node = child
        children[node][code & 1] = ~symbol
    assert len(children) == _FAILED  # 257 leaves: 256 inner nodes

    # First the machine four bits at a time, then each byte as two nibbles.
    shifted = [state << 8 for state in range(_FAILED + 1)]
    single = [bytes((b,)) for b in range(256)]
    nibble_next: list[int] = []
    nibble_out: list[bytes] = []
    for start in range(_FAILED):
        for nibble in range(16):
            node, out = start, b""
            for shift in (3, 2, 1, 0):
                child = children[node][(nibble >> shift) & 1]
                if child >= 0:
                    node = child
                elif child == ~256:
                    # RFC 7541 §5.2: a string containing EOS is a decoding error.
                    node, out = _FAILED, b""
                    break
                else:
                    node, out = 0, out + single[~child]
            nibble_next.append(node)
            nibble_out.append(out)
    nibble_next += [_FAILED] * 16
    nibble_out += [b""] * 16

    next_state: list[int] = []
    emitted: list[bytes] = []
    shared: dict[bytes, bytes] = {}
    for start in range(_FAILED + 1):
        for high in range(16):
            middle = nibble_next[start * 16 + high]
            first = nibble_out[start * 16 + high]
            row = slice(middle * 16, middle * 16 + 16)
            next_state.extend(shifted[s] for s in nibble_next[row])
            if first:
                emitted.extend(shared.setdefault(first + o, first + o) for o in nibble_out[row])
            else:
                emitted.extend(nibble_out[row])
    node = 0
    accepting = set()
    for _ in range(8):
        accepting.add(node << 8)
        node = children[node][1]
    # Publish the emitted bytes before the states: a reader tests _NEXT_STATE.
    _EMITTED[:] = emitted
    _ACCEPTING.update(accepting)
    _NEXT_STATE[:] = next_state


def huffman_decode(data: bytes) -> bytes:
    """Decode a Huffman-coded string (RFC 7541 §5.2); the same result as hpack's decoder.

    Raises:
        HPACKDecodingError: the string contains EOS or ends in a bad padding.
    """
    if not _NEXT_STATE:
        _build_decoding_tables()
    next_state = _NEXT_STATE
    emitted = _EMITTED
    out: list[bytes] = []
    append = out.append
    state = 0
    for byte in data:
        index = state | byte
        state = next_state[index]
        append(emitted[index])
    if state not in _ACCEPTING:
        # RFC 7541 §5.2: EOS, or padding longer than 7 bits or not all ones.
        if state == _FAILED << 8:
            raise HPACKDecodingError("Invalid Huffman string")
        raise HPACKDecodingError("Incomplete Huffman string")
    return b"".join(out)


# -- integers and strings (RFC 7541 §5.1, §5.2) ------------------------------


def _integer(value: int, bits: int, flags: int) -> bytes:
    """RFC 7541 §5.1 integer with ``flags`` in the first byte's high bits."""
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


def _literal(data: bytes, huffman: bool) -> bytes:
    """RFC 7541 §5.2 string literal: length prefix (H bit set when Huffman-coded), then the octets."""
    if huffman:
        data = huffman_encode(data)
        size = len(data)
        return (_HUFFMAN_LENGTH[size] if size < 0x7F else _integer(size, 7, 0x80)) + data
    return _integer(len(data), 7, 0) + data


def _continue_integer(data: bytes, pos: int, value: int) -> tuple[int, int]:
    shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise HPACKDecodingError("truncated or oversized integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    """RFC 7541 §5.2 string literal at ``pos``."""
    first = data[pos]
    length = first & 0x7F
    pos += 1
    if length == 0x7F:
        length, pos = _continue_integer(data, pos, length)
    end = pos + length
    if end > len(data):
        raise HPACKDecodingError("Truncated header block")
    raw = data[pos:end]
    if first & 0x80:
        raw = huffman_decode(raw)
    return raw, end


# -- tables ----------------------------------------------------------------------


class _LeanTable(HeaderTable):
    """hpack's table, evicting without a debug log call per entry."""

    def add(self, name: bytes, value: bytes) -> None:
        self.add_field((name, value), 32 + len(name) + len(value))

    def add_field(self, entry: Any, size: int) -> None:
        """Insert ``entry`` (a name/value tuple) of RFC 7541 §4.1 ``size``."""
        entries = self.dynamic_entries
        maxsize = self._maxsize
        # RFC 7541 §4.4: an entry larger than the table empties it.
        if size > maxsize:
            entries.clear()
            self._current_size = 0
            return
        entries.appendleft(entry)
        current = self._current_size + size
        while current > maxsize:
            name, value = entries.pop()
            current -= 32 + len(name) + len(value)
        self._current_size = current

    def _shrink(self) -> None:
        entries = self.dynamic_entries
        current = self._current_size
        while current > self._maxsize:
            name, value = entries.pop()
            current -= 32 + len(name) + len(value)
        self._current_size = current


class IndexedHeaderTable(_LeanTable):
    """hpack's table plus hash indexes of the dynamic entries, for O(1) search.

    Entries get ascending serial numbers; an index entry is live when its
    serial is at least the oldest live serial, so evictions need no upkeep.
    """

    def __init__(self) -> None:
        super().__init__()
        self._serial = 0
        self._exact: dict[tuple[bytes, bytes], int] = {}
        self._names: dict[bytes, int] = {}

    def add(self, name: bytes, value: bytes) -> None:
        size = 32 + len(name) + len(value)
        self.add_field((name, value), size)
        # An entry larger than the whole table empties it instead.
        if size <= self._maxsize:
            serial = self._serial
            self._serial = serial + 1
            self._exact[(name, value)] = serial
            self._names[name] = serial
            if len(self._exact) > 4 * len(self.dynamic_entries) + 64:
                self._rebuild()

    def _rebuild(self) -> None:
        live = len(self.dynamic_entries)
        oldest = self._serial - live
        self._exact = {}
        self._names = {}
        for offset, entry in enumerate(reversed(self.dynamic_entries)):
            self._exact[entry] = oldest + offset
            self._names[entry[0]] = oldest + offset

    def search(self, name: bytes, value: bytes) -> Any:
        static = _STATIC.get(name)
        if static is not None:
            index = static[1].get(value)
            if index is not None:
                return index, name, value
        oldest = self._serial - len(self.dynamic_entries)
        serial = self._exact.get((name, value))
        if serial is not None and serial >= oldest:
            return _FIRST_DYNAMIC + self._serial - 1 - serial, name, value
        if static is not None:
            return static[0], name, None
        serial = self._names.get(name)
        if serial is not None and serial >= oldest:
            return _FIRST_DYNAMIC + self._serial - 1 - serial, name, None
        return None


# -- encoder and decoder -----------------------------------------------------------


class Encoder(hpack.Encoder):
    """hpack's encoder with hash-indexed tables and one flat loop per block.

    The indexing decisions are hpack's, in hpack's order (static exact match,
    dynamic exact match, static name, dynamic name, literal), so the bytes are
    the same; only the search is done with dictionaries instead of scans.
    """

    header_table: IndexedHeaderTable

    def __init__(self) -> None:
        super().__init__()
        self.header_table = IndexedHeaderTable()

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:
        """Encode ``(name, value)`` byte tuples; NeverIndexedHeaderTuple stays out of the table."""
        table = self.header_table
        block: list[bytes] = []
        append = block.append
        if table.resized:
            append(self._encode_table_size_change())
            table.resized = False
        static_fields = _STATIC_FIELD_INDEX
        static_names = _STATIC_NAME_INDEX
        entries = table.dynamic_entries
        exact, names = table._exact, table._names
        # Serial numbers of the oldest live entry and of index 62 (the newest).
        oldest = table._serial - len(entries)
        newest = _FIRST_DYNAMIC + table._serial - 1
        for header in headers:
            # A (name, value) tuple or HeaderTuple is its own dictionary key.
            index = static_fields.get(header)
            if index is not None:
                # RFC 7541 §6.1: an indexed field (static indexes are all below 127).
                append(_INDEXED[index])
                continue
            serial = exact.get(header)
            if serial is not None and serial >= oldest:
                index = newest - serial
                append(_INDEXED[index] if index < 0x7F else _integer(index, 7, 0x80))
                continue
            name, value = header[0], header[1]
            cls = header.__class__
            sensitive = cls is not tuple and (
                cls is NeverIndexedHeaderTuple or (isinstance(header, HeaderTuple) and not header.indexable)
            )
            index = static_names.get(name)
            if index is None:
                serial = names.get(name)
                if serial is not None and serial >= oldest:
                    index = newest - serial
            # RFC 7541 §6.2.1 (indexed, 6-bit prefix) or §6.2.3 (never indexed, 4-bit prefix).
            if index is None:
                append(b"\x10" if sensitive else b"\x40")
                append(_literal(name, huffman))
            elif sensitive:
                append(_integer(index, 4, 0x10))
            else:
                append(_NAME_INDEXED[index] if index < 0x3F else _integer(index, 6, 0x40))
            append(_literal(value, huffman))
            if not sensitive:
                # IndexedHeaderTable.add, inlined: RFC 7541 §4.4 insertion and eviction.
                field_size = 32 + len(name) + len(value)
                if field_size > table._maxsize:
                    entries.clear()
                    table._current_size = 0
                else:
                    key = (name, value)
                    entries.appendleft(key)
                    current = table._current_size + field_size
                    maxsize = table._maxsize
                    while current > maxsize:
                        evicted = entries.pop()
                        current -= 32 + len(evicted[0]) + len(evicted[1])
                    table._current_size = current
                    serial = table._serial
                    table._serial = serial + 1
                    exact[key] = serial
                    names[name] = serial
                    if len(exact) > 4 * len(entries) + 64:
                        table._rebuild()
                        exact, names = table._exact, table._names
                oldest = table._serial - len(entries)
                newest = _FIRST_DYNAMIC + table._serial - 1
        return b"".join(block)


class Decoder(hpack.Decoder):
    """hpack's decoder with a single pass over the block and no per-field copies."""

    header_table: _LeanTable

    def __init__(self, max_header_list_size: int = hpack.hpack.DEFAULT_MAX_HEADER_LIST_SIZE) -> None:
        super().__init__(max_header_list_size=max_header_list_size)
        self.header_table = _LeanTable()

    def decode(self, data: bytes, raw: bool = True) -> list[Any]:
        """Decode a whole block into HeaderTuple / NeverIndexedHeaderTuple byte pairs."""
        if not isinstance(data, bytes):
            data = bytes(data)
        table = self.header_table
        entries = table.dynamic_entries
        static = _STATIC_FIELDS
        limit = self.max_header_list_size
        headers: list[Any] = []
        append = headers.append
        size = 0
        pos = 0
        end = len(data)
        try:
            while pos < end:
                byte = data[pos]
                pos += 1
                if byte & 0x80:
                    # RFC 7541 §6.1: indexed field.
                    index = byte & 0x7F
                    if index == 0x7F:
                        index, pos = _continue_integer(data, pos, index)
                    if 0 < index <= _STATIC_LENGTH:
                        header = static[index]
                    elif _STATIC_LENGTH < index <= _STATIC_LENGTH + len(entries):
                        header = entries[index - _FIRST_DYNAMIC]
                    else:
                        raise InvalidTableIndex(f"Invalid table index {index}")
                    name, value = header
                elif byte & 0xE0 == 0x20:
                    # RFC 7541 §6.3: only at the start of a block.
                    if headers:
                        raise HPACKDecodingError("Table size update not at the start of the block")
                    new_size = byte & 0x1F
                    if new_size == 0x1F:
                        new_size, pos = _continue_integer(data, pos, new_size)
                    if new_size > self.max_allowed_table_size:
                        raise InvalidTableSizeError("Encoder exceeded max allowable table size")
                    self.header_table_size = new_size
                    continue
                else:
                    if byte & 0x40:
                        # RFC 7541 §6.2.1: literal with incremental indexing.
                        index = byte & 0x3F
                        if index == 0x3F:
                            index, pos = _continue_integer(data, pos, index)
                        indexed = True
                    else:
                        # RFC 7541 §6.2.2 / §6.2.3: without indexing / never indexed.
                        index = byte & 0x0F
                        if index == 0x0F:
                            index, pos = _continue_integer(data, pos, index)
                        indexed = False
                    if not index:
                        name, pos = _string(data, pos)
                    elif index <= _STATIC_LENGTH:
                        name = static[index][0]
                    elif index <= _STATIC_LENGTH + len(entries):
                        name = entries[index - _FIRST_DYNAMIC][0]
                    else:
                        raise InvalidTableIndex(f"Invalid table index {index}")
                    # RFC 7541 §5.2: the value string (inlined: most fields have one).
                    first = data[pos]
                    length = first & 0x7F
                    pos += 1
                    if length == 0x7F:
                        length, pos = _continue_integer(data, pos, length)
                    stop = pos + length
                    if stop > end:
                        raise HPACKDecodingError("Truncated header block")
                    value = data[pos:stop] if not first & 0x80 else huffman_decode(data[pos:stop])
                    pos = stop
                    field_size = 32 + len(name) + len(value)
                    if indexed:
                        header = _new_tuple(HeaderTuple, (name, value))
                        # RFC 7541 §4.4: insert, evicting the oldest entries to fit.
                        if field_size > table._maxsize:
                            entries.clear()
                            table._current_size = 0
                        else:
                            entries.appendleft(header)
                            current = table._current_size + field_size
                            maxsize = table._maxsize
                            while current > maxsize:
                                evicted = entries.pop()
                                current -= 32 + len(evicted[0]) + len(evicted[1])
                            table._current_size = current
                    elif byte & 0x10:
                        header = _new_tuple(NeverIndexedHeaderTuple, (name, value))
                    else:
                        header = _new_tuple(HeaderTuple, (name, value))
                    size += field_size
                    if size > limit:
                        raise OversizedHeaderListError(f"A header list larger than {limit} has been received")
                    append(header)
                    continue
                size += 32 + len(name) + len(value)
                if size > limit:
                    raise OversizedHeaderListError(f"A header list larger than {limit} has been received")
                append(header)
        except IndexError:
            raise HPACKDecodingError("Truncated header block") from None
        # RFC 7541 §4.2: the peer must have shrunk its table to our acknowledged size.
        if table._maxsize > self.max_allowed_table_size:
            raise InvalidTableSizeError("Encoder did not shrink table size to within the max")
        return headers
