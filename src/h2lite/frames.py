"""Frame serialisation and payload parsing (RFC 9113 §4, §6; RFC 7838; RFC 8336).

Writers return ready-to-send bytes.  Parsers take a payload whose length has
already been checked against SETTINGS_MAX_FRAME_SIZE and raise
:class:`FrameError` with the RFC's error code when a payload is malformed;
the connection turns that into a connection error.
"""

from __future__ import annotations

import struct
from typing import Iterable, Sequence

from .codes import ErrorCode

# 9-byte frame header: 24-bit length split as 16 + 8 bits, type, flags, stream id.
_FRAME_HEADER = struct.Struct(">HBBBL")
_U32 = struct.Struct(">L")
_U16 = struct.Struct(">H")
_GOAWAY = struct.Struct(">LL")
_SETTING = struct.Struct(">HL")
_PRIORITY = struct.Struct(">LB")

STREAM_ID_MASK = 0x7FFFFFFF

DATA = 0x0
HEADERS = 0x1
PRIORITY = 0x2
RST_STREAM = 0x3
SETTINGS = 0x4
PUSH_PROMISE = 0x5
PING = 0x6
GOAWAY = 0x7
WINDOW_UPDATE = 0x8
CONTINUATION = 0x9
ALTSVC = 0xA
ORIGIN = 0xC
PRIORITY_UPDATE = 0x10

FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

SETTINGS_ACK_FRAME = _FRAME_HEADER.pack(0, 0, SETTINGS, FLAG_ACK, 0)


class FrameError(Exception):
    """A malformed frame payload; ``error_code`` says which connection error."""

    def __init__(self, message: str, error_code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.error_code = error_code


def frame_header(length: int, frame_type: int, flags: int, stream_id: int) -> bytes:
    """The 9-byte header of RFC 9113 §4.1."""
    return _FRAME_HEADER.pack(length >> 8, length & 0xFF, frame_type, flags, stream_id)


def frame(frame_type: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """A whole frame: header and payload."""
    length = len(payload)
    return _FRAME_HEADER.pack(length >> 8, length & 0xFF, frame_type, flags, stream_id) + payload


# -- writers ---------------------------------------------------------------


def data_frame(stream_id: int, data: bytes, end_stream: bool = False, pad_length: int | None = None) -> bytes:
    """A DATA frame (RFC 9113 §6.1), optionally padded."""
    flags = FLAG_END_STREAM if end_stream else 0
    if pad_length is None:
        length = len(data)
        return _FRAME_HEADER.pack(length >> 8, length & 0xFF, DATA, flags, stream_id) + data
    payload = bytes((pad_length,)) + data + bytes(pad_length)
    return frame(DATA, flags | FLAG_PADDED, stream_id, payload)


def header_block_frames(
    frame_type: int,
    stream_id: int,
    prefix: bytes,
    block: bytes,
    flags: int,
    max_frame_size: int,
    pad_length: int | None = None,
) -> bytes:
    """HEADERS or PUSH_PROMISE followed by CONTINUATION frames as needed.

    ``prefix`` is what precedes the fragment in the first frame (priority
    fields, or the promised stream ID).  The block is split so that no frame
    exceeds the peer's ``max_frame_size`` (RFC 9113 §4.2, §6.10).
    """
    if pad_length is not None:
        flags |= FLAG_PADDED
        prefix = bytes((pad_length,)) + prefix
        padding = bytes(pad_length)
    else:
        padding = b""
    room = max_frame_size - len(prefix) - len(padding)
    if room < 0:
        raise ValueError("padding does not fit in one frame")
    if len(block) <= room:
        payload = prefix + block + padding
        length = len(payload)
        return (
            _FRAME_HEADER.pack(
                length >> 8, length & 0xFF, frame_type, flags | FLAG_END_HEADERS, stream_id
            )
            + payload
        )
    parts = [frame(frame_type, flags, stream_id, prefix + block[:room] + padding)]
    offset = room
    total = len(block)
    while offset < total:
        chunk = block[offset : offset + max_frame_size]
        offset += max_frame_size
        parts.append(frame(CONTINUATION, FLAG_END_HEADERS if offset >= total else 0, stream_id, chunk))
    return b"".join(parts)


def priority_fields(depends_on: int, weight: int, exclusive: bool) -> bytes:
    """The 5-byte priority block of RFC 9113 §6.3 (weight 1..256 on the API)."""
    return _PRIORITY.pack(depends_on | (0x80000000 if exclusive else 0), weight - 1)


def priority_frame(stream_id: int, depends_on: int, weight: int, exclusive: bool) -> bytes:
    return frame(PRIORITY, 0, stream_id, priority_fields(depends_on, weight, exclusive))


def rst_stream_frame(stream_id: int, error_code: int) -> bytes:
    return frame(RST_STREAM, 0, stream_id, _U32.pack(error_code))


def settings_frame(settings: Iterable[tuple[int, int]]) -> bytes:
    return frame(SETTINGS, 0, 0, b"".join(_SETTING.pack(k, v) for k, v in settings))


def ping_frame(opaque_data: bytes, ack: bool = False) -> bytes:
    return frame(PING, FLAG_ACK if ack else 0, 0, opaque_data)


def goaway_frame(last_stream_id: int, error_code: int, additional_data: bytes = b"") -> bytes:
    return frame(GOAWAY, 0, 0, _GOAWAY.pack(last_stream_id, error_code) + additional_data)


def window_update_frame(stream_id: int, increment: int) -> bytes:
    return _FRAME_HEADER.pack(0, 4, WINDOW_UPDATE, 0, stream_id) + _U32.pack(increment)


def altsvc_frame(stream_id: int, origin: bytes, field_value: bytes) -> bytes:
    return frame(ALTSVC, 0, stream_id, _U16.pack(len(origin)) + origin + field_value)


def origin_frame(origins: Sequence[bytes]) -> bytes:
    return frame(ORIGIN, 0, 0, b"".join(_U16.pack(len(o)) + o for o in origins))


def priority_update_frame(prioritized_stream_id: int, priority_field: bytes) -> bytes:
    return frame(PRIORITY_UPDATE, 0, 0, _U32.pack(prioritized_stream_id) + priority_field)


# -- parsers ---------------------------------------------------------------


def strip_padding(payload: bytes) -> tuple[bytes, int]:
    """Remove padding (RFC 9113 §6.1, §6.2); return (content, padding bytes incl. length byte).

    Raises FrameError: a pad length that is not smaller than the payload.
    """
    if not payload:
        raise FrameError("PADDED frame without a pad length")
    pad = payload[0]
    end = len(payload) - pad
    # RFC 9113 §6.1: padding that fills the payload is a connection PROTOCOL_ERROR.
    if end < 1:
        raise FrameError("padding exceeds the frame payload")
    return payload[1:end], pad + 1


def parse_priority(fields: bytes) -> tuple[int, int, bool]:
    """(depends_on, weight 1..256, exclusive) from 5 priority bytes."""
    dep, weight = _PRIORITY.unpack(fields)
    return dep & STREAM_ID_MASK, weight + 1, bool(dep & 0x80000000)


def parse_settings(payload: bytes) -> list[tuple[int, int]]:
    # RFC 9113 §6.5: a length that is not a multiple of 6 is FRAME_SIZE_ERROR.
    if len(payload) % 6:
        raise FrameError("SETTINGS length is not a multiple of 6", ErrorCode.FRAME_SIZE_ERROR)
    return [_SETTING.unpack_from(payload, i) for i in range(0, len(payload), 6)]


def parse_goaway(payload: bytes) -> tuple[int, int, bytes]:
    # RFC 9113 §6.8: GOAWAY carries at least 8 bytes.
    if len(payload) < 8:
        raise FrameError("GOAWAY shorter than 8 bytes", ErrorCode.FRAME_SIZE_ERROR)
    last, code = _GOAWAY.unpack_from(payload)
    return last & STREAM_ID_MASK, code, bytes(payload[8:])


def parse_u32(payload: bytes) -> int:
    return int(_U32.unpack(payload)[0])


def parse_altsvc(payload: bytes) -> tuple[bytes, bytes]:
    """(origin, field value); RFC 7838 §4: malformed ALTSVC frames are ignored."""
    if len(payload) < 2:
        raise FrameError("ALTSVC shorter than 2 bytes")
    (origin_length,) = _U16.unpack_from(payload)
    if 2 + origin_length > len(payload):
        raise FrameError("ALTSVC origin runs past the payload")
    return bytes(payload[2 : 2 + origin_length]), bytes(payload[2 + origin_length :])


def parse_origin(payload: bytes) -> list[bytes]:
    """Origin entries; RFC 8336 §2.1: a malformed entry list is ignored as a whole."""
    origins = []
    offset = 0
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise FrameError("ORIGIN entry length truncated")
        (length,) = _U16.unpack_from(payload, offset)
        offset += 2
        if offset + length > len(payload):
            raise FrameError("ORIGIN entry runs past the payload")
        origins.append(bytes(payload[offset : offset + length]))
        offset += length
    return origins
