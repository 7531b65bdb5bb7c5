"""Leaner HPACK loops over the ``hpack`` package's tables and Huffman code.

``hpack`` spends much of its time outside the compression itself: a linear
scan of the dynamic table per field when encoding, a copy of the rest of the
block per literal and a debug log call per field when decoding.  These
subclasses keep hpack's tables, Huffman coder and exceptions, and replace
only those loops.  The tests hold them to ``hpack`` itself: the same
encodings decode to the same fields and leave the same table state.
"""

from __future__ import annotations

from typing import Any, Iterable

import hpack
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hpack.exceptions import HPACKDecodingError, InvalidTableSizeError, OversizedHeaderListError
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

_STATIC = HeaderTable.STATIC_TABLE_MAPPING
_FIRST_DYNAMIC = HeaderTable.STATIC_TABLE_LENGTH + 1
_INDEXED = [bytes((0x80 | i,)) for i in range(0x7F)]


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
        raw = decode_huffman(raw)
    return raw, end


class IndexedHeaderTable(HeaderTable):
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
        super().add(name, value)
        # HeaderTable.add prepends the entry unless it is larger than the whole
        # table, in which case it empties the table instead.
        if 32 + len(name) + len(value) <= self._maxsize:
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


class Encoder(hpack.Encoder):
    """hpack's encoder with an O(1) table search and a leaner per-field loop."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table = IndexedHeaderTable()

    def _literal(self, value: bytes, huffman: bool) -> bytes:
        if huffman:
            value = self.huffman_coder.encode(value)
            return _integer(len(value), 7, 0x80) + value
        return _integer(len(value), 7, 0) + value

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:  # type: ignore[override]
        """Encode ``(name, value)`` byte pairs; NeverIndexedHeaderTuple stays out of the table."""
        table = self.header_table
        block = []
        if table.resized:
            block.append(self._encode_table_size_change())
            table.resized = False
        search = table.search
        for header in headers:
            name, value = header[0], header[1]
            sensitive = header.__class__ is NeverIndexedHeaderTuple or (
                isinstance(header, HeaderTuple) and not header.indexable
            )
            match = search(name, value)
            if match is None:
                block.append(b"\x10" if sensitive else b"\x40")
                block.append(self._literal(name, huffman))
            elif match[2] is not None:
                index = match[0]
                block.append(_INDEXED[index] if index < 0x7F else _integer(index, 7, 0x80))
                continue
            else:
                block.append(_integer(match[0], 4, 0x10) if sensitive else _integer(match[0], 6, 0x40))
            block.append(self._literal(value, huffman))
            if not sensitive:
                table.add(name, value)
        return b"".join(block)


class Decoder(hpack.Decoder):
    """hpack's decoder with a single pass over the block and no per-field copies."""

    def decode(self, data: bytes, raw: bool = True) -> list[Any]:  # type: ignore[override]
        """Decode a whole block into HeaderTuple / NeverIndexedHeaderTuple byte pairs."""
        if not isinstance(data, bytes):
            data = bytes(data)
        table = self.header_table
        get = table.get_by_index
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
                    name, value = get(index)
                    header = HeaderTuple(name, value)
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
                    if index:
                        name = get(index)[0]
                    else:
                        name, pos = _string(data, pos)
                    value, pos = _string(data, pos)
                    if byte & 0x10 and not indexed:
                        header = NeverIndexedHeaderTuple(name, value)
                    else:
                        header = HeaderTuple(name, value)
                    if indexed:
                        table.add(name, value)
                size += 32 + len(name) + len(value)
                if size > limit:
                    raise OversizedHeaderListError(f"A header list larger than {limit} has been received")
                append(header)
        except IndexError:
            raise HPACKDecodingError("Truncated header block") from None
        self._assert_valid_table_size()
        return headers
