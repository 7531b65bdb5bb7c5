"""Extension frames h2lite implements: ALTSVC (RFC 7838 §4) and ORIGIN (RFC 8336 §2)."""

from __future__ import annotations

import struct

import pytest
from hyperframe.frame import AltSvcFrame, Frame as OracleFrame

from h2lite import LocalProtocolError, events

from ..helpers import frame, parse_frames
from ._s6_support import ALTSVC, ORIGIN, Peer, ping

ORIGIN_A = b"https://example.org"
ORIGIN_B = b"https://www.example.org:8443"
FIELD_VALUE = b'h2="alt.example.org:443"; ma=3600'


def altsvc(stream_id: int, origin: bytes, field_value: bytes, flags: int = 0) -> bytes:
    """Origin-Len (16) | Origin | Alt-Svc-Field-Value."""
    return frame(ALTSVC, flags, stream_id, struct.pack(">H", len(origin)) + origin + field_value)


def origin_frame(*origins: bytes, stream_id: int = 0, flags: int = 0) -> bytes:
    """A sequence of Origin-Len (16) | ASCII-Origin entries."""
    return frame(ORIGIN, flags, stream_id, b"".join(struct.pack(">H", len(o)) + o for o in origins))


def assert_ignored(p: Peer, data: bytes) -> None:
    """The frame produced no event, no reply, and the connection still works."""
    assert p.conn.receive_data(data) == []
    assert p.conn.data_to_send() == b""
    assert p.conn.receive_data(ping())
    assert p.conn.data_to_send()


# -- ALTSVC received ------------------------------------------------------------------


def test_client_reports_altsvc_for_an_origin_on_stream_0() -> None:
    """RFC 7838 §4: on stream 0 the frame names the origin it applies to."""
    p = Peer("client")
    [ev] = p.conn.receive_data(altsvc(0, ORIGIN_A, FIELD_VALUE))
    assert isinstance(ev, events.AlternativeServiceAvailable)
    assert (ev.stream_id, ev.origin, ev.field_value) == (0, ORIGIN_A, FIELD_VALUE)
    assert p.conn.data_to_send() == b""


def test_client_reports_altsvc_for_the_origin_of_a_stream() -> None:
    """RFC 7838 §4: on another stream, Origin is empty and the stream's origin applies."""
    p = Peer("client")
    p.open_stream()
    [ev] = p.conn.receive_data(altsvc(1, b"", FIELD_VALUE))
    assert (ev.stream_id, ev.origin, ev.field_value) == (1, b"", FIELD_VALUE)


def test_altsvc_flags_are_ignored() -> None:
    """RFC 7838 §4: ALTSVC defines no flags; unknown flags are ignored (RFC 9113 §4.1)."""
    p = Peer("client")
    [ev] = p.conn.receive_data(altsvc(0, ORIGIN_A, FIELD_VALUE, flags=0xFF))
    assert ev.field_value == FIELD_VALUE


def test_altsvc_clear_is_reported() -> None:
    """RFC 7838 §4: the field value is everything after the origin; "clear" withdraws earlier ones."""
    p = Peer("client")
    [ev] = p.conn.receive_data(altsvc(0, ORIGIN_A, b"clear"))
    assert ev.field_value == b"clear"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(altsvc(0, b"", FIELD_VALUE), id="stream-0-without-origin"),
        pytest.param(altsvc(1, ORIGIN_A, FIELD_VALUE), id="stream-with-origin"),
        pytest.param(frame(ALTSVC, 0, 0, b"\x00"), id="shorter-than-origin-len"),
        pytest.param(frame(ALTSVC, 0, 0, b""), id="empty"),
        pytest.param(frame(ALTSVC, 0, 0, struct.pack(">H", 50) + ORIGIN_A), id="origin-past-the-end"),
    ],
)
def test_client_ignores_malformed_altsvc(data: bytes) -> None:
    """RFC 7838 §4: an invalid ALTSVC frame MUST be ignored (not a connection error)."""
    p = Peer("client")
    p.open_stream()
    assert_ignored(p, data)


@pytest.mark.parametrize("stream_id", [0, 1])
def test_server_ignores_altsvc(stream_id: int) -> None:
    """RFC 7838 §4: a server MUST ignore ALTSVC."""
    p = Peer("server")
    p.open_stream()
    origin = ORIGIN_A if stream_id == 0 else b""
    assert_ignored(p, altsvc(stream_id, origin, FIELD_VALUE))


# -- ALTSVC sent ------------------------------------------------------------------------


def _oracle(data: bytes) -> AltSvcFrame:
    parsed, length = OracleFrame.parse_frame_header(memoryview(data[:9]))
    parsed.parse_body(memoryview(data[9 : 9 + length]))
    assert len(data) == 9 + length
    assert isinstance(parsed, AltSvcFrame)
    return parsed


def test_advertise_alternative_service_for_an_origin() -> None:
    """RFC 7838 §4: on stream 0, with the origin."""
    p = Peer("server")
    p.conn.advertise_alternative_service(FIELD_VALUE, origin=ORIGIN_A)
    data = p.conn.data_to_send()
    assert data == frame(ALTSVC, 0, 0, b"\x00\x13" + ORIGIN_A + FIELD_VALUE)
    oracle = _oracle(data)
    assert (oracle.stream_id, oracle.origin, oracle.field) == (0, ORIGIN_A, FIELD_VALUE)


def test_advertise_alternative_service_for_a_stream() -> None:
    """RFC 7838 §4: on the stream, with an empty origin."""
    p = Peer("server")
    p.open_stream()
    p.conn.advertise_alternative_service(FIELD_VALUE, stream_id=1)
    oracle = _oracle(p.conn.data_to_send())
    assert (oracle.stream_id, oracle.origin, oracle.field) == (1, b"", FIELD_VALUE)


def test_altsvc_round_trip_between_h2lite_peers() -> None:
    """RFC 7838 §4: what an h2lite server advertises an h2lite client reports."""
    server = Peer("server")
    client = Peer("client")
    server.conn.advertise_alternative_service(FIELD_VALUE, origin=ORIGIN_B)
    [ev] = client.conn.receive_data(server.conn.data_to_send())
    assert (ev.stream_id, ev.origin, ev.field_value) == (0, ORIGIN_B, FIELD_VALUE)


def test_advertise_alternative_service_misuse() -> None:
    """RFC 7838 §4: only servers send ALTSVC; exactly one of origin and stream."""
    client = Peer("client")
    with pytest.raises(LocalProtocolError):
        client.conn.advertise_alternative_service(FIELD_VALUE, origin=ORIGIN_A)
    server = Peer("server")
    with pytest.raises(ValueError):
        server.conn.advertise_alternative_service(FIELD_VALUE)
    with pytest.raises(ValueError):
        server.conn.advertise_alternative_service(FIELD_VALUE, origin=ORIGIN_A, stream_id=1)
    assert client.conn.data_to_send() == server.conn.data_to_send() == b""


# -- ORIGIN -----------------------------------------------------------------------------


def test_client_reports_origin_frame() -> None:
    """RFC 8336 §2: the payload is a list of Origin-Len + ASCII-Origin entries."""
    p = Peer("client")
    [ev] = p.conn.receive_data(origin_frame(ORIGIN_A, ORIGIN_B))
    assert isinstance(ev, events.OriginReceived)
    assert ev.origins == [ORIGIN_A, ORIGIN_B]
    assert p.conn.data_to_send() == b""


def test_origin_flags_are_ignored() -> None:
    """RFC 8336 §2: ORIGIN defines no flags; unknown flags are ignored."""
    p = Peer("client")
    [ev] = p.conn.receive_data(origin_frame(ORIGIN_A, flags=0xFF))
    assert ev.origins == [ORIGIN_A]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(origin_frame(ORIGIN_A, stream_id=1), id="on-a-stream"),
        pytest.param(frame(ORIGIN, 0, 0, b"\x00"), id="truncated-length"),
        pytest.param(frame(ORIGIN, 0, 0, struct.pack(">H", 40) + ORIGIN_A), id="entry-past-the-end"),
        pytest.param(frame(ORIGIN, 0, 0, struct.pack(">H", len(ORIGIN_A)) + ORIGIN_A + b"\x00"), id="trailing-octet"),
    ],
)
def test_client_ignores_invalid_origin_frames(data: bytes) -> None:
    """RFC 8336 §2: ORIGIN on a stream other than 0 MUST be ignored; a malformed one is ignored as a whole."""
    p = Peer("client")
    p.open_stream()
    assert_ignored(p, data)


def test_server_ignores_origin_frames() -> None:
    """RFC 8336 §2: ORIGIN is for clients; a server ignores it."""
    assert_ignored(Peer("server"), origin_frame(ORIGIN_A))


def test_send_origin_writes_the_entries_on_stream_0() -> None:
    """RFC 8336 §2: type 0xc, stream 0, no flags, Origin-Len + ASCII-Origin per entry."""
    p = Peer("server")
    p.conn.send_origin([ORIGIN_A, ORIGIN_B])
    assert parse_frames(p.conn.data_to_send()) == [
        (ORIGIN, 0, 0, b"\x00\x13" + ORIGIN_A + b"\x00\x1c" + ORIGIN_B)
    ]
    client = Peer("client")
    p.conn.send_origin([ORIGIN_B])
    [ev] = client.conn.receive_data(p.conn.data_to_send())
    assert ev.origins == [ORIGIN_B]


def test_send_origin_misuse() -> None:
    """RFC 8336 §2: only servers send ORIGIN; entries are bytes."""
    with pytest.raises(LocalProtocolError):
        Peer("client").conn.send_origin([ORIGIN_A])
    server = Peer("server")
    with pytest.raises(TypeError):
        server.conn.send_origin(["https://example.org"])  # type: ignore[list-item]
    assert server.conn.data_to_send() == b""
