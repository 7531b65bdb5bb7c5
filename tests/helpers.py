"""Shared test helpers: a frame factory, handshakes, and a client/server pair."""

from __future__ import annotations

import struct
from typing import Any, Iterable

from h2lite import Config, Connection, events
from h2lite.codes import CLIENT_PREFACE

REQUEST = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"example.org"),
    (b":path", b"/"),
]
RESPONSE = [(b":status", b"200")]


def frame(type: int, flags: int = 0, stream_id: int = 0, payload: bytes = b"") -> bytes:
    """Serialise one frame as it appears on the wire (RFC 9113 §4.1)."""
    length = len(payload)
    return struct.pack(">HBBBL", length >> 8, length & 0xFF, type, flags, stream_id) + payload


def settings(*pairs: tuple[int, int], ack: bool = False) -> bytes:
    return frame(0x4, 0x1 if ack else 0, 0, b"".join(struct.pack(">HL", k, v) for k, v in pairs))


SETTINGS_ACK = settings(ack=True)


def window_update(stream_id: int, increment: int) -> bytes:
    return frame(0x8, 0, stream_id, struct.pack(">L", increment))


def rst_stream(stream_id: int, code: int) -> bytes:
    return frame(0x3, 0, stream_id, struct.pack(">L", code))


def goaway(last_stream_id: int, code: int, data: bytes = b"") -> bytes:
    return frame(0x7, 0, 0, struct.pack(">LL", last_stream_id, code) + data)


def parse_frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """Split wire bytes into (type, flags, stream_id, payload), skipping a client preface."""
    if data.startswith(CLIENT_PREFACE):
        data = data[len(CLIENT_PREFACE):]
    out = []
    pos = 0
    while pos + 9 <= len(data):
        hi, lo, ftype, flags, sid = struct.unpack_from(">HBBBL", data, pos)
        length = (hi << 8) | lo
        out.append((ftype, flags, sid & 0x7FFFFFFF, data[pos + 9 : pos + 9 + length]))
        pos += 9 + length
    assert pos == len(data), "trailing partial frame"
    return out


def goaway_code(data: bytes) -> int | None:
    """The error code of the last GOAWAY in ``data``, or None."""
    codes = [struct.unpack(">LL", p[:8])[1] for t, f, s, p in parse_frames(data) if t == 0x7]
    return codes[-1] if codes else None


def rst_codes(data: bytes) -> dict[int, int]:
    """{stream_id: error code} of every RST_STREAM in ``data``."""
    return {s: struct.unpack(">L", p)[0] for t, f, s, p in parse_frames(data) if t == 0x3}


def encode_headers(headers: Iterable[tuple[bytes, bytes]], encoder: Any = None) -> bytes:
    import hpack

    return (encoder or hpack.Encoder()).encode(list(headers))


def headers_frame(stream_id: int, headers: Iterable[tuple[bytes, bytes]], end_stream: bool = False, encoder: Any = None) -> bytes:
    flags = 0x4 | (0x1 if end_stream else 0)
    return frame(0x1, flags, stream_id, encode_headers(headers, encoder))


def server(**config: Any) -> Connection:
    """A server that has completed the handshake with a scripted client.

    The client's preface + SETTINGS has been received and our SETTINGS
    acknowledged; the output buffer is empty.
    """
    conn = Connection(Config(client_side=False, **config))
    conn.initiate_connection()
    conn.receive_data(CLIENT_PREFACE + settings() + SETTINGS_ACK)
    conn.data_to_send()
    return conn


def client(**config: Any) -> Connection:
    """A client that has completed the handshake with a scripted server."""
    conn = Connection(Config(client_side=True, **config))
    conn.initiate_connection()
    conn.receive_data(settings() + SETTINGS_ACK)
    conn.data_to_send()
    return conn


class ConnectionPair:
    """An h2lite client and server wired together in memory."""

    def __init__(self, client_config: Config | None = None, server_config: Config | None = None) -> None:
        self.client = Connection(client_config or Config(client_side=True))
        self.server = Connection(server_config or Config(client_side=False))
        self.client.initiate_connection()
        self.server.initiate_connection()
        self.client_events: list[events.Event] = []
        self.server_events: list[events.Event] = []
        self._client_wire: list[bytes] = []
        self._server_wire: list[bytes] = []
        self.pump()

    @property
    def client_wire(self) -> bytes:
        """Every byte the client has written so far."""
        return b"".join(self._client_wire)

    @property
    def server_wire(self) -> bytes:
        """Every byte the server has written so far."""
        return b"".join(self._server_wire)

    def pump(self, rounds: int = 10_000) -> tuple[list[events.Event], list[events.Event]]:
        """Exchange bytes until both sides are quiet; return the new events of each side."""
        new_client: list[events.Event] = []
        new_server: list[events.Event] = []
        for _ in range(rounds):
            to_server = self.client.data_to_send()
            to_client = self.server.data_to_send()
            if not to_server and not to_client:
                break
            self._client_wire.append(to_server)
            self._server_wire.append(to_client)
            if to_server:
                new_server += self.server.receive_data(to_server)
            if to_client:
                new_client += self.client.receive_data(to_client)
        self.client_events += new_client
        self.server_events += new_server
        return new_client, new_server


# -- delivery modes (h11's habit: every parser input whole and byte by byte) ----

#: How received bytes are handed to ``receive_data``: in one call, or one byte per call.
FEED_MODES = ("whole", "bytewise")


def feed(conn: Connection, data: bytes, mode: str = "whole") -> list[events.Event]:
    """Deliver ``data`` in one ``receive_data`` call or one byte at a time.

    Returns every event produced.  If the peer broke the protocol the
    ``RemoteProtocolError`` propagates, its ``.events`` extended to every event
    this delivery produced before the violation (as one whole call would report).
    """
    if mode == "whole":
        return conn.receive_data(data)
    if mode != "bytewise":
        raise ValueError(f"unknown feed mode {mode!r}")
    from h2lite import RemoteProtocolError

    got: list[events.Event] = []
    for i in range(len(data)):
        try:
            got += conn.receive_data(data[i : i + 1])
        except RemoteProtocolError as exc:
            exc.events = got + exc.events
            raise
    return got


def goaway_fields(data: bytes) -> tuple[int, int, bytes] | None:
    """(last_stream_id, error code, debug data) of the last GOAWAY in ``data``, or None."""
    found = [p for t, f, s, p in parse_frames(data) if t == 0x7]
    if not found:
        return None
    last, code = struct.unpack(">LL", found[-1][:8])
    return last & 0x7FFFFFFF, code, found[-1][8:]


def data_frame(stream_id: int, data: bytes, end_stream: bool = False, pad_length: int | None = None) -> bytes:
    """A DATA frame (RFC 9113 §6.1), padded when ``pad_length`` is given."""
    flags = 0x1 if end_stream else 0
    if pad_length is not None:
        return frame(0x0, flags | 0x8, stream_id, bytes((pad_length,)) + data + bytes(pad_length))
    return frame(0x0, flags, stream_id, data)


def push_promise(stream_id: int, promised_stream_id: int, headers: Iterable[tuple[bytes, bytes]], encoder: Any = None) -> bytes:
    """A PUSH_PROMISE frame with END_HEADERS (RFC 9113 §6.6)."""
    return frame(0x5, 0x4, stream_id, struct.pack(">L", promised_stream_id) + encode_headers(headers, encoder))
