"""Incremental frame reading: preface, 9-byte header checks, CONTINUATION assembly.

:class:`FrameReader` turns arbitrary slices of the byte stream into whole
frames.  It checks the client preface as it arrives (RFC 9113 §3.4) and frame
lengths on the 9-byte header, before any payload is buffered (RFC 9113 §4.2).
:class:`HeaderBlock` collects a HEADERS or PUSH_PROMISE block split over
CONTINUATION frames (RFC 9113 §6.10), bounded by count and by size.
"""

from __future__ import annotations

from typing import Any

from . import _backend
from .codes import CLIENT_PREFACE, ErrorCode
from .exceptions import DenialOfServiceError, FrameTooLargeError, RemoteProtocolError

Frame = tuple[int, int, int, bytes]


class FrameReader:
    """Buffers input and cuts it into frames."""

    __slots__ = ("_buffer", "_need", "_preface", "max_frame_size")

    def __init__(self, expect_preface: bool, max_frame_size: int) -> None:
        self._buffer = bytearray()
        #: Bytes the buffer must hold before the next frame can be complete.
        self._need = 9
        #: Client preface bytes still expected (server side only).
        self._preface = CLIENT_PREFACE if expect_preface else b""
        self.max_frame_size = max_frame_size

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> tuple[list[Frame], RemoteProtocolError | None]:
        """Take more bytes; return the frames now complete, and an error that follows them.

        The error (if any) is returned rather than raised so that the frames
        before it are processed first: nothing already received is lost.
        """
        if self._preface:
            data = self._check_preface(data)
            if not data:
                return [], None
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._need:
                return [], None
            data = bytes(buffer)
            buffer.clear()
        elif type(data) is not bytes:
            data = bytes(data)
        frames, consumed, bad_length = _backend.split_frames(data, self.max_frame_size)
        if bad_length >= 0:
            # Keep the offending header buffered: a SETTINGS ACK among ``frames``
            # may raise the limit, and the connection then feeds b"" to re-check.
            buffer += memoryview(data)[consumed:]
            self._need = 9
            return frames, FrameTooLargeError(
                f"frame of {bad_length} bytes exceeds SETTINGS_MAX_FRAME_SIZE {self.max_frame_size}"
            )
        rest = len(data) - consumed
        if rest:
            buffer += memoryview(data)[consumed:]
            if rest >= 9:
                self._need = 9 + ((buffer[0] << 16) | (buffer[1] << 8) | buffer[2])
            else:
                self._need = 9
        return frames, None

    def recheck(self) -> RemoteProtocolError | None:
        """Check the buffered partial frame again after ``max_frame_size`` was lowered."""
        self._need = 9
        frames, error = self.feed(b"")
        assert not frames  # the buffer never holds a whole frame
        return error

    def _check_preface(self, data: bytes) -> bytes:
        expected = self._preface
        size = min(len(expected), len(data))
        # RFC 9113 §3.4: a bad preface is a connection PROTOCOL_ERROR.
        if bytes(data[:size]) != expected[:size]:
            self._preface = b""
            self._need = 1 << 62
            raise RemoteProtocolError("invalid client connection preface")
        self._preface = expected[size:]
        return data[size:]


class HeaderBlock:
    """A header block being assembled from HEADERS/PUSH_PROMISE + CONTINUATION."""

    __slots__ = ("frame_type", "stream_id", "flags", "fragments", "size", "frames", "extra", "max_size", "max_frames")

    def __init__(self, frame_type: int, stream_id: int, flags: int, fragment: bytes, extra: Any, max_size: int, max_frames: int) -> None:
        self.frame_type = frame_type
        self.stream_id = stream_id
        self.flags = flags
        self.fragments = [fragment]
        self.size = len(fragment)
        self.frames = 0
        #: Priority fields (HEADERS) or the promised stream ID (PUSH_PROMISE).
        self.extra = extra
        self.max_size = max_size
        self.max_frames = max_frames
        if self.size > max_size:
            raise DenialOfServiceError("header block exceeds the size limit")

    def add(self, stream_id: int, fragment: bytes) -> None:
        # RFC 9113 §6.10: CONTINUATION must continue the same stream's block.
        if stream_id != self.stream_id:
            raise RemoteProtocolError("CONTINUATION on a different stream", ErrorCode.PROTOCOL_ERROR)
        self.frames += 1
        # Counted per frame whatever the read size (CVE-2024-27316 and kin).
        if self.frames > self.max_frames:
            raise DenialOfServiceError("too many CONTINUATION frames")
        self.size += len(fragment)
        if self.size > self.max_size:
            raise DenialOfServiceError("header block exceeds the size limit")
        self.fragments.append(fragment)

    def block(self) -> bytes:
        return b"".join(self.fragments)
