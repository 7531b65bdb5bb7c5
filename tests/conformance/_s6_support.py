"""Support for the RFC 9113 §6 frame tests: role fixtures and small frame builders."""

from __future__ import annotations

import struct
from typing import Any

import hpack
import pytest

from h2lite import Connection, RemoteProtocolError, events

from ..helpers import REQUEST, RESPONSE, client, encode_headers, frame, headers_frame, parse_frames, server

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
ALTSVC = 0xA
ORIGIN = 0xC

END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20


class Peer:
    """A handshaken h2lite connection and the scripted peer's HPACK encoder.

    ``stream`` is a stream that is open in both directions: for a server, a
    request the peer started without END_STREAM; for a client, a request we sent
    without END_STREAM.
    """

    def __init__(self, role: str, **config: Any) -> None:
        self.role = role
        self.conn: Connection = server(**config) if role == "server" else client(**config)
        self.encoder = hpack.Encoder()
        self.stream = 1

    def open_stream(self, stream_id: int = 1) -> int:
        """Open ``stream_id`` in both directions (a request without END_STREAM)."""
        if self.role == "server":
            self.conn.receive_data(headers_frame(stream_id, REQUEST, encoder=self.encoder))
        else:
            self.conn.send_headers(stream_id, REQUEST)
            self.conn.data_to_send()
            self.conn.receive_data(headers_frame(stream_id, RESPONSE, encoder=self.encoder))
        self.conn.data_to_send()
        return stream_id

    def block(self, headers: Any) -> bytes:
        return encode_headers(headers, self.encoder)


@pytest.fixture(params=["server", "client"])
def peer(request: pytest.FixtureRequest) -> Peer:
    """Both roles: connection-level rules apply to clients and servers alike."""
    return Peer(request.param)


def connection_error(conn: Connection, data: bytes) -> tuple[RemoteProtocolError, bytes]:
    """Feed ``data``, expect a connection error; return it and the bytes queued for the peer."""
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(data)
    return info.value, conn.data_to_send()


def padded(content: bytes, pad_length: int, prefix: bytes = b"") -> bytes:
    """A PADDED payload: Pad Length, ``prefix`` (e.g. priority fields), content, zero padding."""
    return bytes([pad_length]) + prefix + content + bytes(pad_length)


def priority_fields(depends_on: int, weight: int = 16, exclusive: bool = False) -> bytes:
    """E + Stream Dependency (32 bits) + Weight (8 bits, wire value = weight - 1)."""
    return struct.pack(">LB", depends_on | (0x80000000 if exclusive else 0), weight - 1)


def ping(data: bytes = b"\x01\x02\x03\x04\x05\x06\x07\x08", ack: bool = False) -> bytes:
    return frame(PING, ACK if ack else 0, 0, data)


def of_type(evs: list[events.Event], cls: type) -> list[Any]:
    return [e for e in evs if isinstance(e, cls)]


def frames_of(data: bytes, frame_type: int) -> list[tuple[int, int, int, bytes]]:
    return [f for f in parse_frames(data) if f[0] == frame_type]
