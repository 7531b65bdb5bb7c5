"""RFC 9113 §3: starting HTTP/2 — the connection preface (§3.4) and h2c upgrade.

The h2c upgrade is specified by RFC 7540 §3.2 (RFC 9113 §3.1 deprecates it but
h2lite still offers it through ``initiate_upgrade_connection``).
"""

from __future__ import annotations

import base64
import struct

import pytest

from h2lite import (
    Config,
    Connection,
    ErrorCode,
    LocalProtocolError,
    RemoteProtocolError,
    Setting,
    StreamClosedError,
    events,
)
from h2lite.codes import CLIENT_PREFACE

from ..helpers import (
    FEED_MODES,
    REQUEST,
    RESPONSE,
    SETTINGS_ACK,
    data_frame,
    feed,
    frame,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    settings,
    window_update,
)


@pytest.fixture(params=FEED_MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fresh(client_side: bool, **config: object) -> Connection:
    """A connection that has sent its preface and received nothing yet."""
    conn = Connection(Config(client_side=client_side, **config))  # type: ignore[arg-type]
    conn.initiate_connection()
    conn.data_to_send()
    return conn


PING = frame(0x6, 0, 0, b"12345678")

# Anything but a (non-ACK) SETTINGS frame as the first frame of a preface.
NOT_SETTINGS = {
    "settings-ack": SETTINGS_ACK,
    "ping": PING,
    "window-update": window_update(0, 1000),
    "headers": headers_frame(1, REQUEST),
    "unknown-type": frame(0xBB, 0, 0, b"ext"),
    "goaway": frame(0x7, 0, 0, struct.pack(">LL", 0, 0)),
}


# -- §3.4: what we send --------------------------------------------------------


def test_client_preface_is_magic_then_settings() -> None:
    """§3.4: the client preface is the 24-octet magic followed by a SETTINGS frame."""
    conn = Connection(Config(client_side=True))
    conn.initiate_connection()
    out = conn.data_to_send()
    assert out.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    first = parse_frames(out)[0]
    assert first[:3] == (0x4, 0, 0)  # SETTINGS, no ACK, stream 0


def test_server_preface_is_settings_without_magic() -> None:
    """§3.4: the server preface is a SETTINGS frame, first thing the server sends."""
    conn = Connection(Config(client_side=False))
    conn.initiate_connection()
    out = conn.data_to_send()
    assert not out.startswith(b"PRI")
    assert parse_frames(out)[0][:3] == (0x4, 0, 0)


def test_client_may_send_requests_before_server_preface() -> None:
    """§3.4: a client can send requests right after its preface, without waiting."""
    conn = Connection(Config(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, REQUEST, end_stream=True)
    types = [t for t, f, s, p in parse_frames(conn.data_to_send())]
    assert types[0] == 0x4 and 0x1 in types


# -- §3.4: the client preface, checked as it arrives ---------------------------


def test_server_accepts_preface(mode: str) -> None:
    conn = fresh(client_side=False)
    got = feed(conn, CLIENT_PREFACE + settings((Setting.MAX_CONCURRENT_STREAMS, 10)), mode)
    assert [type(e) for e in got] == [events.RemoteSettingsChanged]
    assert conn.remote_settings.max_concurrent_streams == 10
    # RFC 9113 §6.5.3: the peer's SETTINGS are acknowledged.
    assert (0x4, 0x1, 0, b"") in parse_frames(conn.data_to_send())


def test_server_accepts_preface_split_anywhere() -> None:
    wire = CLIENT_PREFACE + settings((Setting.INITIAL_WINDOW_SIZE, 1000)) + headers_frame(1, REQUEST, end_stream=True)
    for cut in range(1, len(wire)):
        conn = fresh(client_side=False)
        got = conn.receive_data(wire[:cut]) + conn.receive_data(wire[cut:])
        assert [type(e) for e in got] == [events.RemoteSettingsChanged, events.RequestReceived, events.StreamEnded], cut


@pytest.mark.parametrize("position", range(len(CLIENT_PREFACE)))
def test_wrong_preface_byte_is_rejected_on_arrival(position: int, mode: str) -> None:
    """§3.4: an invalid preface is a connection error PROTOCOL_ERROR.

    The preface is checked as it arrives: the bad byte is rejected at once,
    without waiting for the whole 24 octets.
    """
    conn = fresh(client_side=False)
    bad = bytearray(CLIENT_PREFACE)
    bad[position] ^= 0x20
    feed(conn, bytes(bad[:position]), mode)  # the correct prefix is accepted
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(bytes(bad[position:position + 1]))
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR
    with pytest.raises(LocalProtocolError):
        conn.receive_data(CLIENT_PREFACE)


def test_http1_request_is_not_a_preface(mode: str) -> None:
    """§3.4: an HTTP/1.1 request where the preface belongs is a PROTOCOL_ERROR."""
    conn = fresh(client_side=False)
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", mode)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR


def test_client_does_not_expect_magic(mode: str) -> None:
    """§3.4: the server preface is just SETTINGS; a client must not wait for the magic."""
    conn = fresh(client_side=True)
    got = feed(conn, settings((Setting.MAX_FRAME_SIZE, 20000)) + SETTINGS_ACK, mode)
    assert [type(e) for e in got] == [events.RemoteSettingsChanged, events.SettingsAcknowledged]
    assert conn.remote_settings.max_frame_size == 20000


def test_client_rejects_magic_from_server() -> None:
    """§3.4: the magic is not a SETTINGS frame; seen as a frame, it is not a valid preface."""
    conn = fresh(client_side=True)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(CLIENT_PREFACE + settings())
    assert info.value.error_code in (ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_SIZE_ERROR)


# -- §3.4: the first frame must be SETTINGS (not an ACK), both roles --------------


@pytest.mark.parametrize("first", NOT_SETTINGS.values(), ids=NOT_SETTINGS.keys())
def test_server_first_frame_must_be_settings(first: bytes, mode: str) -> None:
    conn = fresh(client_side=False)
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, CLIENT_PREFACE + first + settings(), mode)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert info.value.events == []
    assert goaway_code(conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("first", NOT_SETTINGS.values(), ids=NOT_SETTINGS.keys())
def test_client_first_frame_must_be_settings(first: bytes, mode: str) -> None:
    conn = fresh(client_side=True)
    with pytest.raises(RemoteProtocolError) as info:
        feed(conn, first + settings(), mode)
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(conn.data_to_send()) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_empty_settings_is_a_valid_preface(client_side: bool, mode: str) -> None:
    """§3.4: the preface SETTINGS frame may be empty."""
    conn = fresh(client_side=client_side)
    wire = (b"" if client_side else CLIENT_PREFACE) + settings() + PING
    got = feed(conn, wire, mode)
    assert [type(e) for e in got] == [events.RemoteSettingsChanged, events.PingReceived]


@pytest.mark.parametrize("client_side", [False, True], ids=["server", "client"])
def test_settings_with_unknown_flags_is_a_valid_preface(client_side: bool) -> None:
    """§4.1: unknown flags are ignored — a SETTINGS with flags 0xFE is not an ACK."""
    conn = fresh(client_side=client_side)
    wire = (b"" if client_side else CLIENT_PREFACE) + frame(0x4, 0xFE, 0, b"")
    assert [type(e) for e in conn.receive_data(wire)] == [events.RemoteSettingsChanged]


# -- RFC 7540 §3.2: h2c upgrade ---------------------------------------------------


def upgraded_pair(client_config: dict[str, object] | None = None) -> tuple[Connection, Connection, bytes]:
    """A client and server after ``Upgrade: h2c`` (the 101 has been exchanged)."""
    client = Connection(Config(client_side=True, **(client_config or {})))  # type: ignore[arg-type]
    token = client.initiate_upgrade_connection()
    assert isinstance(token, bytes)
    server = Connection(Config(client_side=False))
    assert server.initiate_upgrade_connection(token) is None
    return client, server, token


def test_upgrade_token_is_the_settings_payload_in_base64url() -> None:
    """RFC 7540 §3.2.1: HTTP2-Settings is a SETTINGS payload, base64url without padding."""
    client = Connection(Config(client_side=True, max_concurrent_streams=7, initial_window_size=1000))
    token = client.initiate_upgrade_connection()
    assert isinstance(token, bytes)
    assert b"=" not in token and b"+" not in token and b"/" not in token
    payload = base64.urlsafe_b64decode(token + b"=" * (-len(token) % 4))
    out = client.data_to_send()
    # RFC 7540 §3.2: after the 101 the client still sends the full preface.
    assert out.startswith(CLIENT_PREFACE)
    first = parse_frames(out)[0]
    assert first[:3] == (0x4, 0, 0)
    assert first[3] == payload
    pairs = dict(struct.unpack_from(">HL", payload, i) for i in range(0, len(payload), 6))
    assert pairs[Setting.MAX_CONCURRENT_STREAMS] == 7
    assert pairs[Setting.INITIAL_WINDOW_SIZE] == 1000


def test_upgrade_client_stream_1_is_half_closed_local() -> None:
    """RFC 7540 §3.2: the upgrade request is stream 1, half-closed (local) for the client."""
    client, _, _ = upgraded_pair()
    assert client.open_outbound_streams == 1
    assert client.get_next_available_stream_id() == 3
    with pytest.raises(StreamClosedError):
        client.send_data(1, b"more body")
    with pytest.raises(StreamClosedError):
        client.send_headers(1, REQUEST)


def test_upgrade_server_applies_http2_settings() -> None:
    """RFC 7540 §3.2.1: the server applies the settings carried in HTTP2-Settings."""
    client = Connection(Config(client_side=True, max_concurrent_streams=7, initial_window_size=1000))
    token = client.initiate_upgrade_connection()
    server = Connection(Config(client_side=False))
    server.initiate_upgrade_connection(token.decode("ascii"))  # type: ignore[union-attr]
    assert server.remote_settings.max_concurrent_streams == 7
    assert server.remote_settings.initial_window_size == 1000
    # ... and stream 1 is half-closed (remote): its window follows those settings.
    assert server.open_inbound_streams == 1
    assert server.local_flow_control_window(1) == 1000
    out = server.data_to_send()
    assert not out.startswith(b"PRI")
    assert parse_frames(out)[0][:3] == (0x4, 0, 0)  # the server preface comes first


def test_upgrade_response_on_stream_1_reaches_client(mode: str) -> None:
    """RFC 7540 §3.2: the server answers the upgrade request on stream 1."""
    client, server, _ = upgraded_pair()
    server_events = feed(server, client.data_to_send(), mode)
    assert [type(e) for e in server_events] == [events.RemoteSettingsChanged]
    server.send_headers(1, RESPONSE)
    server.send_data(1, b"upgraded body", end_stream=True)
    client_events = feed(client, server.data_to_send(), mode)
    kinds = [type(e) for e in client_events]
    assert events.RemoteSettingsChanged in kinds
    response = [e for e in client_events if isinstance(e, events.ResponseReceived)]
    assert [(e.stream_id, e.headers) for e in response] == [(1, RESPONSE)]
    body = b"".join(e.data for e in client_events if isinstance(e, events.DataReceived) and e.stream_id == 1)
    assert body == b"upgraded body"
    assert isinstance(client_events[-1], events.StreamEnded) and client_events[-1].stream_id == 1
    assert client.open_outbound_streams == 0
    # The connection goes on: stream 3 is the client's next request.
    feed(server, client.data_to_send(), mode)
    client.send_headers(3, REQUEST, end_stream=True)
    got = feed(server, client.data_to_send(), mode)
    assert [e.stream_id for e in got if isinstance(e, events.RequestReceived)] == [3]


def test_upgrade_server_rejects_data_on_stream_1(mode: str) -> None:
    """RFC 7540 §3.2 + RFC 9113 §5.1: stream 1 is half-closed (remote) on the server.

    DATA from the client on it is a stream error STREAM_CLOSED.
    """
    client, server, _ = upgraded_pair()
    feed(server, client.data_to_send(), mode)
    server.data_to_send()
    got = feed(server, data_frame(1, b"late body"), mode)
    assert rst_codes(server.data_to_send()) == {1: ErrorCode.STREAM_CLOSED}
    assert [(type(e), e.stream_id) for e in got] == [(events.StreamReset, 1)]


def test_upgrade_server_still_requires_client_magic() -> None:
    """RFC 7540 §3.2: after the 101 the client MUST send the connection preface."""
    _, server, _ = upgraded_pair()
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(settings())
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize(
    "header",
    [
        b"!!!not-base64!!!",
        base64.urlsafe_b64encode(b"\x00\x03\x00\x00").rstrip(b"="),  # not a multiple of 6
        base64.urlsafe_b64encode(struct.pack(">HL", Setting.ENABLE_PUSH, 2)).rstrip(b"="),
        base64.urlsafe_b64encode(struct.pack(">HL", Setting.MAX_FRAME_SIZE, 100)).rstrip(b"="),
    ],
    ids=["not-base64", "truncated", "enable-push-2", "frame-size-100"],
)
def test_upgrade_server_rejects_bad_http2_settings(header: bytes) -> None:
    """RFC 7540 §3.2.1: an unusable HTTP2-Settings value means no upgrade."""
    server = Connection(Config(client_side=False))
    with pytest.raises(ValueError):
        server.initiate_upgrade_connection(header)
    # Nothing was started: the caller can still answer over HTTP/1.1 or start plainly.
    assert server.data_to_send() == b""
    server.initiate_connection()


def test_upgrade_server_needs_http2_settings() -> None:
    """RFC 7540 §3.2.1: a server MUST NOT upgrade without HTTP2-Settings."""
    server = Connection(Config(client_side=False))
    with pytest.raises(ValueError):
        server.initiate_upgrade_connection()


def test_initiating_twice_is_misuse() -> None:
    client = Connection(Config(client_side=True))
    client.initiate_upgrade_connection()
    with pytest.raises(LocalProtocolError):
        client.initiate_connection()
    with pytest.raises(LocalProtocolError):
        client.initiate_upgrade_connection()
