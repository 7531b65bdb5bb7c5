"""Body chunks as bytes, for the server's response bodies and the client's request bodies."""

from __future__ import annotations


def chunk_bytes(chunk: object, what: str = "a body chunk") -> bytes:
    """``chunk`` as bytes: ``str`` is encoded as UTF-8, other buffers are copied.

    Raises:
        TypeError: ``chunk`` is neither bytes-like nor ``str`` (``what`` names it).
    """
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"{what} must be bytes or str, not {type(chunk).__name__}")
