"""Inputs the fuzzers found, kept as fixtures so the bugs stay fixed.

Each test names the harness that found it (tests/test_stateful.py: the
client/server state machine; fuzz/: the receive fuzzers), replays the calls
and bytes, and checks what the RFC requires.
"""

from __future__ import annotations

import struct

import pytest

from h2lite import (
    DEFERRED,
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

from .helpers import (
    REQUEST,
    RESPONSE,
    SETTINGS_ACK,
    ConnectionPair,
    data_frame,
    frame,
    goaway_fields,
    headers_frame,
    parse_frames,
    push_promise,
    settings,
    window_update,
)

POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/up")]


def goaway_last_ids(data: bytes) -> list[int]:
    return [struct.unpack(">L", p[:4])[0] & 0x7FFFFFFF for t, f, s, p in parse_frames(data) if t == 0x7]


def fresh_server(**config: object) -> Connection:
    conn = Connection(Config(client_side=False, **config))  # type: ignore[arg-type]
    conn.initiate_connection()
    conn.receive_data(CLIENT_PREFACE + settings() + SETTINGS_ACK)
    conn.data_to_send()
    return conn


def fresh_client(**config: object) -> Connection:
    conn = Connection(Config(client_side=True, **config))  # type: ignore[arg-type]
    conn.initiate_connection()
    conn.receive_data(settings() + SETTINGS_ACK)
    conn.data_to_send()
    return conn


# -- GOAWAY last stream ID (state machine: "GOAWAY raised its last stream ID") --------


def test_shutdown_notice_after_goaway_does_not_raise_the_last_stream_id() -> None:
    """RFC 9113 §6.8: endpoints MUST NOT increase the last stream ID of a later GOAWAY.

    Found as: close_connection() then send_shutdown_notice() sent 0 then 2^31-1,
    and the h2lite peer rightly failed the connection.
    """
    conn = fresh_client()
    conn.close_connection()
    conn.send_shutdown_notice()
    wire = conn.data_to_send()
    assert goaway_last_ids(wire) == [0, 0]
    peer = fresh_server()
    got = peer.receive_data(wire)
    assert [e.last_stream_id for e in got if isinstance(e, events.ConnectionTerminated)] == [0, 0]


def test_second_goaway_ignores_streams_opened_after_the_first() -> None:
    """RFC 9113 §6.8: streams above the first GOAWAY's ID are ignored, and a second GOAWAY keeps that ID."""
    conn = fresh_server()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.close_connection()
    got = conn.receive_data(headers_frame(3, REQUEST, end_stream=True))  # opened after our GOAWAY
    assert got == []
    conn.close_connection()
    assert goaway_last_ids(conn.data_to_send()) == [1, 1]


def test_explicit_last_stream_id_above_an_earlier_goaway_is_refused() -> None:
    """RFC 9113 §6.8 as a caller error: ValueError, and nothing is queued."""
    conn = fresh_server()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.close_connection(last_stream_id=1)
    conn.data_to_send()
    with pytest.raises(ValueError):
        conn.close_connection(last_stream_id=3)
    assert conn.data_to_send() == b""
    conn.close_connection(last_stream_id=1)
    assert goaway_last_ids(conn.data_to_send()) == [1]


def test_connection_error_after_goaway_keeps_the_last_stream_id() -> None:
    """RFC 9113 §6.8: the GOAWAY of a connection error does not raise the ID either."""
    conn = fresh_server()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.close_connection()
    conn.receive_data(headers_frame(3, REQUEST, end_stream=True))
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_data(frame(0x0, 0, 0, b"x"))  # DATA on stream 0: PROTOCOL_ERROR
    assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
    fields = goaway_fields(conn.data_to_send())
    assert fields is not None and fields[:2] == (1, ErrorCode.PROTOCOL_ERROR)


# -- pushes and GOAWAY (state machine: client kept a promise the server had dropped) ---


def test_promise_above_our_goaway_is_ignored() -> None:
    """RFC 9113 §6.8: after the client's GOAWAY (last 0), a PUSH_PROMISE for stream 2 starts nothing.

    Found as: the server, on reading the GOAWAY, forgot stream 2, while the
    client had reserved it: the two sides disagreed on its state for good.
    """
    client = fresh_client()
    client.send_headers(1, REQUEST, end_stream=True)
    client.close_connection()
    client.data_to_send()
    got = client.receive_data(push_promise(1, 2, REQUEST) + headers_frame(2, RESPONSE, end_stream=True))
    assert not any(isinstance(e, (events.PushedStreamReceived, events.ResponseReceived)) for e in got)
    # The ignored promise still counts: a later promise must use a higher ID.
    got = client.receive_data(headers_frame(1, RESPONSE, end_stream=True))
    assert [type(e) for e in got] == [events.ResponseReceived, events.StreamEnded]


def test_pair_agrees_on_a_push_that_crossed_a_goaway() -> None:
    """The same race between two h2lite connections: afterwards neither tracks stream 2."""
    pair = ConnectionPair()
    pair.client.send_headers(1, REQUEST, end_stream=True)
    pair.pump()
    pair.server.push_stream(1, 2, REQUEST)
    pair.client.close_connection()
    pair.pump()
    for conn in (pair.client, pair.server):
        with pytest.raises(StreamClosedError):
            conn.local_flow_control_window(2)


# -- WINDOW_UPDATE from reserved (local) (state machine: a client connection error) ---


def test_no_window_update_on_a_stream_reserved_locally() -> None:
    """RFC 9113 §5.1: in reserved (local) an endpoint MUST NOT send WINDOW_UPDATE.

    Found as: increment_flow_control_window() on a promised stream sent one,
    and the client rightly failed the connection (PROTOCOL_ERROR).
    """
    server = fresh_server()
    server.receive_data(headers_frame(1, REQUEST))
    server.push_stream(1, 2, REQUEST)
    server.data_to_send()
    with pytest.raises(LocalProtocolError):
        server.increment_flow_control_window(100, 2)
    assert server.data_to_send() == b""
    server.send_headers(2, RESPONSE)  # reserved (local) -> half-closed (remote)
    server.increment_flow_control_window(100, 2)
    assert (0x8, 0, 2, struct.pack(">L", 100)) in parse_frames(server.data_to_send())


# -- END_STREAM and negative windows (state machine: FLOW_CONTROL_ERROR between peers) --


def test_empty_data_is_accepted_when_the_window_is_negative() -> None:
    """RFC 9113 §6.9.2: a lowered SETTINGS_INITIAL_WINDOW_SIZE may leave a window negative;
    an empty DATA frame (END_STREAM) consumes nothing and must not be a flow-control error."""
    server = Connection(Config(client_side=False, initial_window_size=0))
    server.initiate_connection()
    # The client's 1 byte arrives under the default window, before it saw our SETTINGS.
    server.receive_data(CLIENT_PREFACE + settings() + headers_frame(1, POST) + data_frame(1, b"x"))
    server.receive_data(SETTINGS_ACK)  # our window of 0 applies: stream 1's is now -1
    server.data_to_send()
    got = server.receive_data(data_frame(1, b"", end_stream=True))
    assert [type(e) for e in got] == [events.DataReceived, events.StreamEnded]
    assert not any(t == 0x3 for t, f, s, p in parse_frames(server.data_to_send()))


def test_end_stream_waits_while_the_window_is_negative() -> None:
    """RFC 9113 §6.9.1: even an empty DATA frame must not exceed a (negative) window,
    so END_STREAM waits for the WINDOW_UPDATE that brings the window back to 0."""
    client = fresh_client()
    client.send_headers(1, POST)
    client.send_data(1, b"x")
    client.data_to_send()
    client.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 0)))  # stream 1's window: -1
    client.data_to_send()
    client.end_stream(1)
    assert [t for t, f, s, p in parse_frames(client.data_to_send())] == []
    client.receive_data(window_update(1, 1))
    assert parse_frames(client.data_to_send()) == [(0x0, 0x1, 1, b"")]


def test_negative_window_gets_its_credit_after_the_settings_ack() -> None:
    """RFC 9113 §6.9.2: the receiver lowers its window; the credit it held back under the
    old threshold must go out at the ACK, or the sender, at a negative window, stalls.

    Found as: 1000 bytes received under 65,535, then SETTINGS_INITIAL_WINDOW_SIZE
    1000 acknowledged: the stream window sat at 0 with 1000 bytes of credit owed.
    """
    server = fresh_server()
    server.update_settings({Setting.INITIAL_WINDOW_SIZE: 1000})
    server.data_to_send()
    server.receive_data(headers_frame(1, POST) + data_frame(1, b"d" * 1000))
    assert server.data_to_send() == b""  # 1000 < half of 65,535: no credit yet
    server.receive_data(SETTINGS_ACK)
    assert (0x8, 0, 1, struct.pack(">L", 1000)) in parse_frames(server.data_to_send())
    assert server.remote_flow_control_window(1) == 1000


@pytest.mark.parametrize("auto", [True, False])
def test_pair_never_stalls_after_the_window_is_lowered(auto: bool) -> None:
    """The same between two h2lite connections; with manual flow control the
    application acknowledges the DATA before the SETTINGS ACK arrives."""
    pair = ConnectionPair(server_config=Config(client_side=False, auto_flow_control=auto))
    client, server = pair.client, pair.server
    client.send_headers(1, POST)
    client.send_data(1, b"a" * 1000)
    server.update_settings({Setting.INITIAL_WINDOW_SIZE: 1000})
    for event in server.receive_data(client.data_to_send()):
        if isinstance(event, events.DataReceived) and not auto:
            server.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
    client.receive_data(server.data_to_send())  # our SETTINGS: the client's window is now 0
    assert client.local_flow_control_window(1) == 0
    server.receive_data(client.data_to_send())  # its ACK: the credit owed goes out
    client.receive_data(server.data_to_send())
    assert client.local_flow_control_window(1) == 1000
    client.send_data(1, b"b" * 500, end_stream=True)
    _, got = pair.pump()
    assert b"".join(e.data for e in got if isinstance(e, events.DataReceived)) == b"b" * 500
    assert client.outbound_buffer_size() == 0


def test_provider_resumes_when_settings_open_the_window() -> None:
    """RFC 9113 §6.9.2: a SETTINGS increase opens windows; a provider waiting on one must run."""
    client = fresh_client()
    client.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 0)))
    client.data_to_send()
    client.send_headers(1, POST)
    chunks = [b"p" * 10]
    client.send_data_from(1, lambda n: (chunks.pop(), True) if chunks else DEFERRED)
    assert [t for t, f, s, p in parse_frames(client.data_to_send())] == [0x1]  # HEADERS only
    client.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 100)))
    assert (0x0, 0x1, 1, b"p" * 10) in parse_frames(client.data_to_send())

