"""Pure-Python frame scanning: the executable specification of the hot path.

``split_frames`` is implemented twice, here and in ``_speedups.c``; both must
agree on every input.
"""

from __future__ import annotations

import struct

_FRAME_HEADER = struct.Struct(">HBBBL")

Frame = tuple[int, int, int, bytes]


def split_frames(buffer: bytes, max_frame_size: int) -> tuple[list[Frame], int, int]:
    """Cut every complete frame off the front of ``buffer``.

    Returns ``(frames, consumed, bad_length)``: each frame is
    ``(type, flags, stream_id, payload)`` with the reserved bit of the stream
    ID cleared (RFC 9113 §4.1: it MUST be ignored on receipt); ``consumed`` is
    the number of bytes used; ``bad_length`` is -1, or the length announced by
    the first frame header whose length exceeds ``max_frame_size``.  Scanning
    stops at that header, before its payload is needed (RFC 9113 §4.2).
    """
    frames: list[Frame] = []
    append = frames.append
    unpack = _FRAME_HEADER.unpack_from
    pos = 0
    end = len(buffer)
    while end - pos >= 9:
        high, low, frame_type, flags, stream_id = unpack(buffer, pos)
        length = (high << 8) | low
        if length > max_frame_size:
            return frames, pos, length
        start = pos + 9
        stop = start + length
        if stop > end:
            break
        append((frame_type, flags, stream_id & 0x7FFFFFFF, buffer[start:stop]))
        pos = stop
    return frames, pos, -1
