"""Garbage and oversized frames: a wrong preface, a first frame that is not
SETTINGS, an unsolicited SETTINGS ACK, random bytes (RFC 9113 §3.4, §6.5),
and frame headers announcing more than SETTINGS_MAX_FRAME_SIZE (§4.2).

Whatever arrives, the only exception is RemoteProtocolError, with GOAWAY
carrying its code, and the frame reader never holds more than one frame.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from h2lite import Config, Connection, FrameTooLargeError, LocalProtocolError, RemoteProtocolError
from h2lite.codes import CLIENT_PREFACE, ErrorCode

from ..helpers import (
    REQUEST,
    SETTINGS_ACK,
    client,
    encode_headers,
    frame,
    headers_frame,
    server,
    settings,
)
from ._support import (
    FakeClock,
    assert_connection_error,
    attack,
    deliver,
    headers_fragment,
    ping,
)

MAX_FRAME = 16384


def fresh(client_side: bool) -> Any:
    """A connection that has sent its preface and received nothing."""
    conn = Connection(Config(client_side=client_side, clock=FakeClock()))
    conn.initiate_connection()
    conn.data_to_send()
    return conn


def fresh_server() -> Any:
    return fresh(False)


def fresh_client() -> Any:
    return fresh(True)


# -- the preface (RFC 9113 §3.4) ----------------------------------------------------------


@pytest.mark.parametrize(
    "wire, failed_at",
    [
        (b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", 0),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r", 1),  # all but the last byte; SETTINGS comes instead
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0),  # a TLS ClientHello
        (b"\x00" * 24, 0),
    ],
    ids=["http1", "almost", "tls", "zeros"],
)
def test_wrong_preface(wire: bytes, failed_at: int) -> None:
    """The preface is checked as it arrives: the first wrong byte fails the connection."""
    out = attack(fresh_server, [wire, settings()])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=failed_at)
    assert out.events == []


@pytest.mark.parametrize(
    "first",
    [ping(), headers_frame(1, REQUEST), SETTINGS_ACK, frame(0xFA, 0, 0, b"")],
    ids=["ping", "headers", "settings-ack", "unknown"],
)
def test_first_frame_not_settings(first: bytes) -> None:
    """RFC 9113 §3.4: the preface's first frame is SETTINGS (not an ACK), for both roles."""
    out = attack(fresh_server, [CLIENT_PREFACE, first])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)
    out = attack(fresh_client, [first])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=0)


def test_unsolicited_settings_ack() -> None:
    """RFC 9113 §6.5: an ACK for SETTINGS we never sent."""
    out = attack(lambda: server(clock=FakeClock()), [ping(), SETTINGS_ACK])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)


# -- frame size (RFC 9113 §4.2) --------------------------------------------------------------


def announce(frame_type: int, length: int, stream_id: int = 1, flags: int = 0) -> bytes:
    """A 9-byte frame header announcing ``length`` bytes of payload."""
    return struct.pack(">HBBBL", length >> 8, length & 0xFF, frame_type, flags, stream_id)


@pytest.mark.parametrize(
    "frame_type, stream_id",
    [(0x0, 1), (0x1, 3), (0x4, 0), (0x6, 0), (0x8, 1), (0xFA, 0)],
    ids=["data", "headers", "settings", "ping", "window-update", "unknown"],
)
@pytest.mark.parametrize("length", [MAX_FRAME + 1, 2**24 - 1])
def test_oversized_frame_is_refused_on_its_header(frame_type: int, stream_id: int, length: int) -> None:
    """FRAME_SIZE_ERROR as soon as the 9-byte header is in: the payload is never waited for."""
    chunks = [headers_frame(1, REQUEST), announce(frame_type, length, stream_id), b"\x00" * 4096]
    out = attack(lambda: server(clock=FakeClock()), chunks, trace=True)
    assert_connection_error(out, ErrorCode.FRAME_SIZE_ERROR, failed_at=1)
    assert isinstance(out.error, FrameTooLargeError)
    assert out.peak is not None and out.peak < 64 * 1024


def test_oversized_continuation_is_refused_on_its_header() -> None:
    chunks = [headers_fragment(1, encode_headers(REQUEST)), announce(0x9, 2**24 - 1), b"\x00" * 100]
    out = attack(lambda: server(clock=FakeClock()), chunks)
    assert_connection_error(out, ErrorCode.FRAME_SIZE_ERROR, failed_at=1)


def test_reader_holds_at_most_one_frame() -> None:
    """A frame that never completes costs what its announced length allows, no more."""
    out = deliver(lambda: server(clock=FakeClock()), [announce(0x0, MAX_FRAME), b"\x00" * (MAX_FRAME - 1)], "bytewise")
    assert out.error is None
    assert out.buffered == 9 + MAX_FRAME - 1


# -- random bytes ------------------------------------------------------------------------------


def random_frames(rng: random.Random) -> list[bytes]:
    """Frames with valid headers and random type, flags, stream and payload."""
    chunks = []
    for _ in range(rng.randint(1, 12)):
        payload = rng.randbytes(rng.choice([0, 1, 4, 5, 6, 8, 13, rng.randint(0, 300)]))
        chunks.append(frame(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xA, 0xC, 0x10, 0xFA]),
                            rng.randrange(256), rng.choice([0, 1, 2, 3, 5, rng.randrange(2**31)]), payload))
    return chunks


@pytest.mark.parametrize("role", ["server", "client"])
@pytest.mark.parametrize("shape", ["bytes", "frames"])
def test_random_input_raises_only_remote_protocol_error(role: str, shape: str) -> None:
    """Random bytes after a valid handshake: either accepted or a connection error with a GOAWAY;
    the same whole or byte by byte; never another exception."""
    rng = random.Random(f"h2lite-garbage-{role}-{shape}")
    make = (lambda: server(clock=FakeClock())) if role == "server" else (lambda: client(clock=FakeClock()))
    failures = 0
    for _ in range(150):
        if shape == "bytes":
            chunks = [rng.randbytes(rng.randint(1, 400))]
        else:
            chunks = random_frames(rng)
        out = attack(make, chunks)
        assert out.buffered <= 9 + MAX_FRAME
        if out.error is not None:
            failures += 1
            assert isinstance(out.error, RemoteProtocolError)
            assert out.goaway_code == out.error.error_code
            assert not out.conn.want_read
    assert failures > 0  # the inputs do reach the error paths


def test_connection_refuses_input_after_a_connection_error() -> None:
    """After GOAWAY, more input is the caller's mistake (LocalProtocolError), not a crash."""
    conn = server(clock=FakeClock())
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(SETTINGS_ACK)
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"\x00" * 100)
