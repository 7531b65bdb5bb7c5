"""RFC 9113 §6.4 RST_STREAM, §6.5 SETTINGS (with §6.9.2), §6.7 PING and §6.9 WINDOW_UPDATE."""

from __future__ import annotations

import struct

import pytest

from h2lite import ErrorCode, FlowControlError, LocalProtocolError, Setting, StreamClosedError, events

from ..helpers import (
    REQUEST,
    SETTINGS_ACK,
    frame,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    rst_stream,
    settings,
    window_update,
)
from ._s6_support import (
    ACK,
    DATA,
    PING,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Peer,
    connection_error,
    frames_of,
    of_type,
    peer,  # noqa: F401  (fixture)
    ping,
)

MAX_WINDOW = 2**31 - 1

# -- §6.4 RST_STREAM -------------------------------------------------------------


def test_rst_stream_on_stream_0_is_a_connection_error(peer: Peer) -> None:
    """§6.4: RST_STREAM on stream 0 MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, rst_stream(0, ErrorCode.CANCEL))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


@pytest.mark.parametrize("length", [0, 3, 5, 8])
def test_rst_stream_of_wrong_length_is_a_connection_error(peer: Peer, length: int) -> None:
    """§6.4: a length other than 4 MUST be a connection error FRAME_SIZE_ERROR."""
    sid = peer.open_stream()
    exc, out = connection_error(peer.conn, frame(RST_STREAM, 0, sid, bytes(length)))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


@pytest.mark.parametrize("stream_id", [1, 2, 7])
def test_rst_stream_on_an_idle_stream_is_a_connection_error(peer: Peer, stream_id: int) -> None:
    """§6.4: RST_STREAM on an idle stream MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, rst_stream(stream_id, ErrorCode.CANCEL))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_rst_stream_closes_the_stream_and_is_not_answered(peer: Peer) -> None:
    """§6.4: the stream is closed at once; the receiver MUST NOT send RST_STREAM in reply."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(rst_stream(sid, ErrorCode.CANCEL))
    assert [(type(e), e.stream_id, e.error_code, e.remote_reset) for e in evs] == [
        (events.StreamReset, sid, ErrorCode.CANCEL, True)
    ]
    assert not frames_of(peer.conn.data_to_send(), RST_STREAM)
    with pytest.raises(StreamClosedError):
        peer.conn.reset_stream(sid)
    # §5.4.2: a second RST_STREAM is not answered with RST_STREAM either.
    assert peer.conn.receive_data(rst_stream(sid, ErrorCode.CANCEL)) == []
    assert peer.conn.data_to_send() == b""


def test_rst_stream_drops_data_queued_on_the_stream() -> None:
    """§6.4: after RST_STREAM the sender stops sending on the stream."""
    p = Peer("client")
    p.open_stream()
    p.conn.send_data(1, b"x" * 100_000)  # more than the windows allow
    p.conn.data_to_send()
    assert p.conn.outbound_buffer_size(1) > 0
    p.conn.receive_data(rst_stream(1, ErrorCode.REFUSED_STREAM) + window_update(0, 100_000))
    assert p.conn.outbound_buffer_size() == 0
    assert not frames_of(p.conn.data_to_send(), DATA)


# -- §6.5 SETTINGS ---------------------------------------------------------------


def test_settings_on_a_stream_is_a_connection_error(peer: Peer) -> None:
    """§6.5: SETTINGS with a stream identifier other than 0 MUST be PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, frame(SETTINGS, 0, 1, b""))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_settings_ack_with_a_payload_is_a_connection_error(peer: Peer) -> None:
    """§6.5: an ACK with a non-empty payload MUST be a connection error FRAME_SIZE_ERROR."""
    peer.conn.update_settings({Setting.MAX_CONCURRENT_STREAMS: 5})
    peer.conn.data_to_send()
    exc, out = connection_error(peer.conn, frame(SETTINGS, ACK, 0, struct.pack(">HL", 3, 5)))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


@pytest.mark.parametrize("length", [1, 5, 7, 11])
def test_settings_length_not_a_multiple_of_6_is_a_connection_error(peer: Peer, length: int) -> None:
    """§6.5: a length that is not a multiple of 6 MUST be FRAME_SIZE_ERROR."""
    exc, out = connection_error(peer.conn, frame(SETTINGS, 0, 0, bytes(length)))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


@pytest.mark.parametrize(
    "setting, value, code",
    [
        (Setting.ENABLE_PUSH, 2, ErrorCode.PROTOCOL_ERROR),
        (Setting.ENABLE_PUSH, 2**32 - 1, ErrorCode.PROTOCOL_ERROR),
        (Setting.INITIAL_WINDOW_SIZE, 2**31, ErrorCode.FLOW_CONTROL_ERROR),
        (Setting.INITIAL_WINDOW_SIZE, 2**32 - 1, ErrorCode.FLOW_CONTROL_ERROR),
        (Setting.MAX_FRAME_SIZE, 0, ErrorCode.PROTOCOL_ERROR),
        (Setting.MAX_FRAME_SIZE, 2**14 - 1, ErrorCode.PROTOCOL_ERROR),
        (Setting.MAX_FRAME_SIZE, 2**24, ErrorCode.PROTOCOL_ERROR),
    ],
)
def test_settings_value_out_of_range_is_a_connection_error(peer: Peer, setting: int, value: int, code: int) -> None:
    """§6.5.2: each of these values MUST be treated as a connection error with the RFC's code."""
    exc, out = connection_error(peer.conn, settings((setting, value)))
    assert exc.error_code == code
    assert goaway_code(out) == code
    assert not frames_of(out, SETTINGS)  # not acknowledged


@pytest.mark.parametrize(
    "setting, value",
    [
        (Setting.INITIAL_WINDOW_SIZE, 2**31 - 1),
        (Setting.INITIAL_WINDOW_SIZE, 0),
        (Setting.MAX_FRAME_SIZE, 2**14),
        (Setting.MAX_FRAME_SIZE, 2**24 - 1),
        (Setting.ENABLE_PUSH, 0),
        (Setting.MAX_CONCURRENT_STREAMS, 0),
        (Setting.HEADER_TABLE_SIZE, 0),
    ],
)
def test_settings_values_at_the_limits_are_accepted(peer: Peer, setting: int, value: int) -> None:
    """§6.5.2: the bounds themselves are valid."""
    evs = peer.conn.receive_data(settings((setting, value)))
    assert peer.conn.data_to_send() == SETTINGS_ACK
    [changed] = of_type(evs, events.RemoteSettingsChanged)
    assert changed.changed_settings[setting].new_value == value
    assert peer.conn.remote_settings[setting] == value


@pytest.mark.parametrize("identifier", [0x0, 0x7, 0xA, 0xFF, 0xFFFF])
def test_unknown_settings_are_ignored(peer: Peer, identifier: int) -> None:
    """§6.5.2: an unsupported identifier MUST be ignored (and the frame still acknowledged)."""
    peer.conn.receive_data(settings((identifier, 0xFFFFFFFF), (Setting.MAX_CONCURRENT_STREAMS, 7)))
    assert peer.conn.data_to_send() == SETTINGS_ACK
    assert peer.conn.remote_settings.max_concurrent_streams == 7


def test_peer_settings_are_applied_and_acknowledged_at_once(peer: Peer) -> None:
    """§6.5.3: apply the values in order, then send an ACK immediately."""
    evs = peer.conn.receive_data(
        settings((Setting.MAX_CONCURRENT_STREAMS, 5), (Setting.MAX_FRAME_SIZE, 20000), (Setting.MAX_CONCURRENT_STREAMS, 9))
    )
    assert peer.conn.data_to_send() == SETTINGS_ACK
    [changed] = evs
    assert isinstance(changed, events.RemoteSettingsChanged)
    assert changed.changed_settings[Setting.MAX_FRAME_SIZE].new_value == 20000
    assert changed.changed_settings[Setting.MAX_CONCURRENT_STREAMS].new_value == 9  # the last one wins
    assert peer.conn.remote_settings.max_concurrent_streams == 9
    assert peer.conn.remote_settings.max_frame_size == 20000


def test_an_empty_settings_frame_is_acknowledged(peer: Peer) -> None:
    """§6.5: a SETTINGS frame may carry no parameters; it still needs its ACK."""
    peer.conn.receive_data(settings())
    assert peer.conn.data_to_send() == SETTINGS_ACK


def test_unsolicited_settings_ack_is_a_connection_error(peer: Peer) -> None:
    """§6.5.3: an ACK answers SETTINGS we sent; one we never asked for is PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, SETTINGS_ACK)
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_each_ack_confirms_one_settings_frame_in_order(peer: Peer) -> None:
    """§6.5.3: ACKs match our SETTINGS frames one for one, oldest first."""
    peer.conn.update_settings({Setting.MAX_CONCURRENT_STREAMS: 10})
    peer.conn.update_settings({Setting.MAX_CONCURRENT_STREAMS: 20})
    sent = frames_of(peer.conn.data_to_send(), SETTINGS)
    assert [p for t, f, s, p in sent] == [struct.pack(">HL", 3, 10), struct.pack(">HL", 3, 20)]
    [first] = peer.conn.receive_data(SETTINGS_ACK)
    assert isinstance(first, events.SettingsAcknowledged)
    assert peer.conn.local_settings.max_concurrent_streams == 10
    [second] = peer.conn.receive_data(SETTINGS_ACK)
    assert second.changed_settings[Setting.MAX_CONCURRENT_STREAMS].new_value == 20
    assert peer.conn.local_settings.max_concurrent_streams == 20
    exc, _ = connection_error(peer.conn, SETTINGS_ACK)
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR


def test_our_max_concurrent_streams_takes_effect_when_acknowledged() -> None:
    """§6.5.3: our new limit applies only after the peer's ACK."""
    p = Peer("server")
    p.conn.update_settings({Setting.MAX_CONCURRENT_STREAMS: 1})
    p.conn.data_to_send()
    evs = p.conn.receive_data(
        headers_frame(1, REQUEST, encoder=p.encoder) + headers_frame(3, REQUEST, encoder=p.encoder)
    )
    assert len(of_type(evs, events.RequestReceived)) == 2  # the old limit (100) still holds
    assert p.conn.data_to_send() == b""
    evs = p.conn.receive_data(SETTINGS_ACK + headers_frame(5, REQUEST, encoder=p.encoder))
    assert [type(e) for e in evs] == [events.SettingsAcknowledged, events.StreamReset]
    # §5.1.2: a stream over the limit is refused with a stream error.
    assert rst_codes(p.conn.data_to_send()) == {5: ErrorCode.REFUSED_STREAM}


def test_our_max_frame_size_takes_effect_when_acknowledged() -> None:
    """§6.5.3: a larger MAX_FRAME_SIZE of ours is not in force before the ACK."""
    p = Peer("server")
    p.open_stream()
    p.conn.update_settings({Setting.MAX_FRAME_SIZE: 32768})
    p.conn.data_to_send()
    assert p.conn.local_settings.max_frame_size == 16384
    exc, out = connection_error(p.conn, frame(DATA, 0, 1, b"x" * 20000))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR  # §4.2
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


def test_larger_frames_are_accepted_right_after_the_ack() -> None:
    """§6.5.3: once acknowledged, the new size holds, even for a frame read in the same batch."""
    p = Peer("server")
    p.open_stream()
    p.conn.update_settings({Setting.MAX_FRAME_SIZE: 32768})
    p.conn.data_to_send()
    evs = p.conn.receive_data(SETTINGS_ACK + frame(DATA, 0, 1, b"x" * 20000))
    assert [type(e) for e in evs] == [events.SettingsAcknowledged, events.DataReceived]
    assert p.conn.local_settings.max_frame_size == 32768


def test_our_initial_window_size_takes_effect_when_acknowledged() -> None:
    """§6.5.3, §6.9.2: our new initial window applies to every stream once acknowledged."""
    p = Peer("server")
    p.conn.update_settings({Setting.INITIAL_WINDOW_SIZE: 10})
    p.conn.data_to_send()
    p.open_stream(1)
    assert p.conn.remote_flow_control_window(1) == 65535  # not yet in force
    p.conn.receive_data(SETTINGS_ACK)
    assert p.conn.remote_flow_control_window(1) == 10  # the existing stream shrank by the delta
    p.open_stream(3)
    assert p.conn.remote_flow_control_window(3) == 10
    # §6.9.1: more than the window is a flow-control error (a stream error here).
    evs = p.conn.receive_data(frame(DATA, 0, 3, b"x" * 11))
    assert rst_codes(p.conn.data_to_send()) == {3: ErrorCode.FLOW_CONTROL_ERROR}
    assert [(e.stream_id, e.error_code, e.remote_reset) for e in evs] == [(3, ErrorCode.FLOW_CONTROL_ERROR, False)]


def test_server_accepts_enable_push_from_a_client() -> None:
    """§6.5.2: a client may send ENABLE_PUSH 0 or 1."""
    p = Peer("server")
    p.conn.receive_data(settings((Setting.ENABLE_PUSH, 1)))
    assert p.conn.data_to_send() == SETTINGS_ACK
    assert p.conn.remote_settings.enable_push == 1


def test_client_receiving_enable_push_1_from_a_server_is_a_connection_error() -> None:
    """§6.5.2: a client MUST treat ENABLE_PUSH = 1 from a server as PROTOCOL_ERROR."""
    p = Peer("client")
    exc, out = connection_error(p.conn, settings((Setting.ENABLE_PUSH, 1)))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_client_accepts_enable_push_0_from_a_server() -> None:
    """§6.5.2: a server may send ENABLE_PUSH 0 (it is the only value it can send)."""
    p = Peer("client")
    p.conn.receive_data(settings((Setting.ENABLE_PUSH, 0)))
    assert p.conn.data_to_send() == SETTINGS_ACK


# -- §6.9.2 initial window changes -------------------------------------------------


def _client_with_sent_data(sent: int) -> Peer:
    """A client that sent ``sent`` bytes of DATA on stream 1 (request still open)."""
    p = Peer("client")
    p.conn.send_headers(1, REQUEST)
    p.conn.send_data(1, b"x" * sent)
    out = p.conn.data_to_send()
    assert sum(len(f[3]) for f in frames_of(out, DATA)) == sent
    return p


def test_initial_window_decrease_can_make_a_stream_window_negative() -> None:
    """§6.9.2: a smaller SETTINGS_INITIAL_WINDOW_SIZE can leave a window negative; the sender waits until it is positive."""
    p = _client_with_sent_data(60000)  # stream window now 5535
    p.conn.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 1000)) + window_update(0, 1_000_000))
    p.conn.data_to_send()
    # 5535 + (1000 - 65535) = -59000
    assert p.conn.local_flow_control_window(1) == 0
    p.conn.send_data(1, b"y" * 10)
    assert p.conn.outbound_buffer_size(1) == 10
    assert not frames_of(p.conn.data_to_send(), DATA)
    p.conn.receive_data(window_update(1, 59000))  # back to exactly 0
    assert not frames_of(p.conn.data_to_send(), DATA)
    assert p.conn.outbound_buffer_size(1) == 10
    p.conn.receive_data(window_update(1, 4))  # 4 bytes of room
    assert [f[3] for f in frames_of(p.conn.data_to_send(), DATA)] == [b"yyyy"]
    p.conn.receive_data(window_update(1, 100))
    assert [f[3] for f in frames_of(p.conn.data_to_send(), DATA)] == [b"yyyyyy"]
    assert p.conn.outbound_buffer_size(1) == 0


def test_initial_window_increase_releases_queued_data() -> None:
    """§6.9.2: a larger SETTINGS_INITIAL_WINDOW_SIZE raises existing windows by the difference."""
    p = Peer("client")
    p.conn.receive_data(window_update(0, 1_000_000))
    p.conn.send_headers(1, REQUEST)
    p.conn.send_data(1, b"x" * 70000)
    out = p.conn.data_to_send()
    assert sum(len(f[3]) for f in frames_of(out, DATA)) == 65535
    p.conn.receive_data(settings((Setting.INITIAL_WINDOW_SIZE, 65535 + 4465)))
    out = p.conn.data_to_send()
    assert frames_of(out, SETTINGS) == [(SETTINGS, ACK, 0, b"")]
    assert sum(len(f[3]) for f in frames_of(out, DATA)) == 4465
    # New streams start with the new initial window.
    p.conn.send_headers(3, REQUEST)
    assert p.conn.local_flow_control_window(3) == 70000


def test_initial_window_change_that_overflows_a_stream_window_is_a_connection_error() -> None:
    """§6.9.2: a change that makes any window exceed 2^31-1 MUST be a connection error FLOW_CONTROL_ERROR."""
    p = Peer("client")
    p.open_stream()
    p.conn.receive_data(window_update(1, MAX_WINDOW - 65535))  # the stream window is at the maximum
    exc, out = connection_error(p.conn, settings((Setting.INITIAL_WINDOW_SIZE, 65536)))
    assert isinstance(exc, FlowControlError)
    assert goaway_code(out) == ErrorCode.FLOW_CONTROL_ERROR


# -- §6.7 PING -----------------------------------------------------------------------


def test_ping_is_acknowledged_with_the_same_data(peer: Peer) -> None:
    """§6.7: a PING without ACK MUST be answered by a PING with ACK and identical payload."""
    data = bytes.fromhex("00 11 22 33 44 55 66 77")
    evs = peer.conn.receive_data(ping(data))
    assert [(type(e), e.ping_data) for e in evs] == [(events.PingReceived, data)]
    assert parse_frames(peer.conn.data_to_send()) == [(PING, ACK, 0, data)]


def test_ping_ack_is_reported_and_not_answered(peer: Peer) -> None:
    """§6.7: a PING with ACK MUST NOT be answered."""
    peer.conn.ping(b"abcdefgh")
    assert parse_frames(peer.conn.data_to_send()) == [(PING, 0, 0, b"abcdefgh")]
    evs = peer.conn.receive_data(ping(b"abcdefgh", ack=True))
    assert [(type(e), e.ping_data) for e in evs] == [(events.PingAckReceived, b"abcdefgh")]
    assert peer.conn.data_to_send() == b""


def test_ping_on_a_stream_is_a_connection_error(peer: Peer) -> None:
    """§6.7: PING with a stream identifier other than 0 MUST be PROTOCOL_ERROR."""
    sid = peer.open_stream()
    exc, out = connection_error(peer.conn, frame(PING, 0, sid, bytes(8)))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR
    assert not [f for f in parse_frames(out) if f[0] == PING]


@pytest.mark.parametrize("flags", [0, ACK])
@pytest.mark.parametrize("length", [0, 7, 9, 64])
def test_ping_of_wrong_length_is_a_connection_error(peer: Peer, flags: int, length: int) -> None:
    """§6.7: a length other than 8 MUST be a connection error FRAME_SIZE_ERROR."""
    exc, out = connection_error(peer.conn, frame(PING, flags, 0, bytes(length)))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


@pytest.mark.parametrize("data", [b"", b"1234567", b"123456789", "12345678"])
def test_ping_api_needs_8_bytes(peer: Peer, data: object) -> None:
    """§6.7: the payload is exactly 8 octets; anything else is the caller's mistake."""
    with pytest.raises((ValueError, TypeError)):
        peer.conn.ping(data)  # type: ignore[arg-type]
    assert peer.conn.data_to_send() == b""
    peer.conn.ping(bytes(8))  # still usable


# -- §6.9 WINDOW_UPDATE ----------------------------------------------------------------


@pytest.mark.parametrize("on_stream", [False, True])
@pytest.mark.parametrize("length", [0, 3, 5, 8])
def test_window_update_of_wrong_length_is_a_connection_error(peer: Peer, on_stream: bool, length: int) -> None:
    """§6.9: a length other than 4 MUST be a connection error FRAME_SIZE_ERROR."""
    sid = peer.open_stream() if on_stream else 0
    exc, out = connection_error(peer.conn, frame(WINDOW_UPDATE, 0, sid, b"\x00\x00\x00\x01"[:length].ljust(length, b"\x00")))
    assert exc.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert goaway_code(out) == ErrorCode.FRAME_SIZE_ERROR


def test_zero_increment_on_a_stream_is_a_stream_error(peer: Peer) -> None:
    """§6.9: an increment of 0 on a stream MUST be a stream error PROTOCOL_ERROR."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(window_update(sid, 0))
    assert rst_codes(peer.conn.data_to_send()) == {sid: ErrorCode.PROTOCOL_ERROR}
    assert [(type(e), e.stream_id, e.error_code, e.remote_reset) for e in evs] == [
        (events.StreamReset, sid, ErrorCode.PROTOCOL_ERROR, False)
    ]
    assert peer.conn.receive_data(ping())  # the connection carries on


def test_zero_increment_on_the_connection_is_a_connection_error(peer: Peer) -> None:
    """§6.9: an increment of 0 on the connection MUST be a connection error PROTOCOL_ERROR."""
    exc, out = connection_error(peer.conn, window_update(0, 0))
    assert exc.error_code == ErrorCode.PROTOCOL_ERROR
    assert goaway_code(out) == ErrorCode.PROTOCOL_ERROR


def test_stream_window_overflow_is_a_stream_error(peer: Peer) -> None:
    """§6.9.1: a stream window above 2^31-1 MUST be a stream error FLOW_CONTROL_ERROR."""
    sid = peer.open_stream()
    evs = peer.conn.receive_data(window_update(sid, MAX_WINDOW - 65535))  # exactly the maximum: fine
    assert [(type(e), e.delta) for e in evs] == [(events.WindowUpdated, MAX_WINDOW - 65535)]
    evs = peer.conn.receive_data(window_update(sid, 1))
    assert rst_codes(peer.conn.data_to_send()) == {sid: ErrorCode.FLOW_CONTROL_ERROR}
    assert [(type(e), e.stream_id, e.error_code, e.remote_reset) for e in evs] == [
        (events.StreamReset, sid, ErrorCode.FLOW_CONTROL_ERROR, False)
    ]
    assert peer.conn.receive_data(ping())


def test_connection_window_overflow_is_a_connection_error(peer: Peer) -> None:
    """§6.9.1: a connection window above 2^31-1 MUST be a connection error FLOW_CONTROL_ERROR."""
    evs = peer.conn.receive_data(window_update(0, MAX_WINDOW - 65535))
    assert [(type(e), e.stream_id, e.delta) for e in evs] == [(events.WindowUpdated, 0, MAX_WINDOW - 65535)]
    exc, out = connection_error(peer.conn, window_update(0, 1))
    assert isinstance(exc, FlowControlError)
    assert goaway_code(out) == ErrorCode.FLOW_CONTROL_ERROR


def test_window_update_reserved_bit_is_ignored(peer: Peer) -> None:
    """§6.9: the reserved bit is not part of the 31-bit increment."""
    evs = peer.conn.receive_data(frame(WINDOW_UPDATE, 0, 0, bytes.fromhex("80000005")))
    assert [(e.stream_id, e.delta) for e in evs] == [(0, 5)]


def test_window_update_releases_data_waiting_for_credit() -> None:
    """§6.9: the sender sends more as WINDOW_UPDATE adds credit to the stream and connection."""
    p = Peer("client")
    p.conn.send_headers(1, REQUEST)
    p.conn.send_data(1, b"x" * 70000, end_stream=True)
    out = p.conn.data_to_send()
    assert sum(len(f[3]) for f in frames_of(out, DATA)) == 65535
    p.conn.receive_data(window_update(1, 10000))
    assert not frames_of(p.conn.data_to_send(), DATA)  # the connection window is still empty
    p.conn.receive_data(window_update(0, 10000))
    [(_, flags, _, data)] = frames_of(p.conn.data_to_send(), DATA)
    assert (flags, len(data)) == (0x1, 70000 - 65535)


def test_local_misuse_of_window_api_leaves_the_connection_usable() -> None:
    """§6.9: an increment must be 1..2^31-1; the API rejects others without sending anything."""
    p = Peer("server")
    for bad in (0, -1, 2**31):
        with pytest.raises(ValueError):
            p.conn.increment_flow_control_window(bad)
    with pytest.raises(LocalProtocolError):
        p.conn.increment_flow_control_window(MAX_WINDOW)  # would overflow our window
    assert p.conn.data_to_send() == b""
    p.conn.increment_flow_control_window(1000)
    assert parse_frames(p.conn.data_to_send()) == [(WINDOW_UPDATE, 0, 0, struct.pack(">L", 1000))]
