"""The stream state table against RFC 9113 §5.1, and real connections in every state.

The expected outcomes below are written from the RFC's prose for each state,
not copied from :data:`h2lite.stream.TRANSITIONS`; the table and the
connection must both agree with them.
"""

from __future__ import annotations

import itertools
import struct
from typing import Any, Callable

import hpack
import pytest

from h2lite import Connection, ErrorCode, RemoteProtocolError, StreamState, events
from h2lite.stream import RECEIVE_ERRORS, TRANSITIONS, StreamInput

from .helpers import (
    REQUEST,
    RESPONSE,
    client,
    frame,
    goaway_code,
    headers_frame,
    parse_frames,
    rst_codes,
    rst_stream,
    server,
    window_update,
)

S = StreamState
I = StreamInput  # noqa: E741

# -- the RFC's rules, state by state (RFC 9113 §5.1) ----------------------------------

ALL_SEND = {I.SEND_HEADERS, I.SEND_PUSH_PROMISE, I.SEND_DATA, I.SEND_END_STREAM, I.SEND_RST_STREAM, I.SEND_WINDOW_UPDATE, I.SEND_PRIORITY}
ALL_RECV = {I.RECV_HEADERS, I.RECV_PUSH_PROMISE, I.RECV_DATA, I.RECV_END_STREAM, I.RECV_RST_STREAM, I.RECV_WINDOW_UPDATE, I.RECV_PRIORITY}

#: What each state allows, and where it leads (inputs not listed keep the state).
RFC_RULES: dict[StreamState, dict[str, Any]] = {
    # idle: "Sending a HEADERS frame ... causes the stream to become open";
    # PUSH_PROMISE reserves an idle stream; "Receiving any frame other than
    # HEADERS or PRIORITY on a stream in this state MUST be treated as a
    # connection error of type PROTOCOL_ERROR".  PRIORITY may be sent on idle streams.
    S.IDLE: {
        "send": {I.SEND_HEADERS: S.OPEN, I.SEND_PUSH_PROMISE: S.RESERVED_LOCAL, I.SEND_PRIORITY: S.IDLE},
        "recv": {I.RECV_HEADERS: S.OPEN, I.RECV_PUSH_PROMISE: S.RESERVED_REMOTE, I.RECV_PRIORITY: S.IDLE},
        "recv_error": (ErrorCode.PROTOCOL_ERROR, "connection"),
    },
    # reserved (local): send HEADERS -> half-closed (remote); either RST_STREAM ->
    # closed; "MUST NOT send any type of frame other than HEADERS, RST_STREAM, or
    # PRIORITY"; "Receiving any type of frame other than RST_STREAM, PRIORITY, or
    # WINDOW_UPDATE ... MUST be treated as a connection error of type PROTOCOL_ERROR".
    S.RESERVED_LOCAL: {
        "send": {I.SEND_HEADERS: S.HALF_CLOSED_REMOTE, I.SEND_RST_STREAM: S.CLOSED, I.SEND_PRIORITY: S.RESERVED_LOCAL},
        "recv": {I.RECV_RST_STREAM: S.CLOSED, I.RECV_PRIORITY: S.RESERVED_LOCAL, I.RECV_WINDOW_UPDATE: S.RESERVED_LOCAL},
        "recv_error": (ErrorCode.PROTOCOL_ERROR, "connection"),
    },
    # reserved (remote): receive HEADERS -> half-closed (local); "MUST NOT send any
    # type of frame other than RST_STREAM, WINDOW_UPDATE, or PRIORITY"; "Receiving
    # any type of frame other than HEADERS, RST_STREAM, or PRIORITY ... connection
    # error of type PROTOCOL_ERROR".
    S.RESERVED_REMOTE: {
        "send": {I.SEND_RST_STREAM: S.CLOSED, I.SEND_WINDOW_UPDATE: S.RESERVED_REMOTE, I.SEND_PRIORITY: S.RESERVED_REMOTE},
        "recv": {I.RECV_HEADERS: S.HALF_CLOSED_LOCAL, I.RECV_RST_STREAM: S.CLOSED, I.RECV_PRIORITY: S.RESERVED_REMOTE},
        "recv_error": (ErrorCode.PROTOCOL_ERROR, "connection"),
    },
    # open: "may be used by both peers to send frames of any type"; END_STREAM
    # sent -> half-closed (local), received -> half-closed (remote); RST -> closed.
    S.OPEN: {
        "send": {i: S.OPEN for i in ALL_SEND} | {I.SEND_END_STREAM: S.HALF_CLOSED_LOCAL, I.SEND_RST_STREAM: S.CLOSED},
        "recv": {i: S.OPEN for i in ALL_RECV} | {I.RECV_END_STREAM: S.HALF_CLOSED_REMOTE, I.RECV_RST_STREAM: S.CLOSED},
        "recv_error": None,
    },
    # half-closed (local): "cannot send frames other than WINDOW_UPDATE, PRIORITY,
    # and RST_STREAM"; "any type of frame" can be received; END_STREAM received or
    # RST either way -> closed.
    S.HALF_CLOSED_LOCAL: {
        "send": {I.SEND_WINDOW_UPDATE: S.HALF_CLOSED_LOCAL, I.SEND_PRIORITY: S.HALF_CLOSED_LOCAL, I.SEND_RST_STREAM: S.CLOSED},
        "recv": {i: S.HALF_CLOSED_LOCAL for i in ALL_RECV} | {I.RECV_END_STREAM: S.CLOSED, I.RECV_RST_STREAM: S.CLOSED},
        "recv_error": None,
    },
    # half-closed (remote): "an endpoint can send frames of any type"; frames
    # received "other than WINDOW_UPDATE, PRIORITY, or RST_STREAM" are a stream
    # error of type STREAM_CLOSED; END_STREAM sent or RST either way -> closed.
    S.HALF_CLOSED_REMOTE: {
        "send": {i: S.HALF_CLOSED_REMOTE for i in ALL_SEND} | {I.SEND_END_STREAM: S.CLOSED, I.SEND_RST_STREAM: S.CLOSED},
        "recv": {I.RECV_WINDOW_UPDATE: S.HALF_CLOSED_REMOTE, I.RECV_PRIORITY: S.HALF_CLOSED_REMOTE, I.RECV_RST_STREAM: S.CLOSED},
        "recv_error": (ErrorCode.STREAM_CLOSED, "stream"),
    },
    # closed: "An endpoint MUST NOT send frames other than PRIORITY on a closed
    # stream"; receipt of other frames MAY be a connection error STREAM_CLOSED
    # (with exceptions that depend on how the stream closed, tested below).
    S.CLOSED: {
        "send": {I.SEND_PRIORITY: S.CLOSED},
        "recv": {I.RECV_PRIORITY: S.CLOSED},
        "recv_error": (ErrorCode.STREAM_CLOSED, None),
    },
}


@pytest.mark.parametrize(("state", "stream_input"), list(itertools.product(StreamState, StreamInput)))
def test_transition_table_matches_rfc(state: StreamState, stream_input: StreamInput) -> None:
    """RFC 9113 §5.1: every (state, input) pair leads where the RFC says, or nowhere."""
    rules = RFC_RULES[state]
    expected = {**rules["send"], **rules["recv"]}.get(stream_input)
    assert TRANSITIONS.get((state, stream_input)) == expected


@pytest.mark.parametrize("state", list(StreamState))
def test_receive_errors_match_rfc(state: StreamState) -> None:
    """RFC 9113 §5.1: the error for a received frame the state does not allow."""
    expected = RFC_RULES[state]["recv_error"]
    code, is_connection_error = RECEIVE_ERRORS[state]
    if expected is None:
        # Every received input is allowed in this state: the entry is never used.
        assert all((state, i) in TRANSITIONS for i in ALL_RECV)
        return
    assert code == expected[0]
    if expected[1] is not None:
        assert is_connection_error is (expected[1] == "connection")


def test_table_covers_only_defined_states_and_inputs() -> None:
    assert all(isinstance(s, StreamState) and isinstance(i, StreamInput) for s, i in TRANSITIONS)
    assert all(isinstance(new, StreamState) for new in TRANSITIONS.values())
    assert set(RECEIVE_ERRORS) == set(StreamState)


# -- real connections in each state ------------------------------------------------------

TRAILERS = [(b"x-trailer", b"1")]
PUSHED_REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/pushed")]
POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]


class Scenario:
    """A connection under test, one of its streams in a known state, and the peer's HPACK encoder."""

    def __init__(self, conn: Connection, stream_id: int, encoder: hpack.Encoder, state: StreamState, closed_by: str | None = None) -> None:
        self.conn = conn
        self.stream_id = stream_id
        self.encoder = encoder
        self.state = state
        self.closed_by = closed_by
        self.client_side = conn.client_side


def live_state(conn: Connection, stream_id: int) -> StreamState:
    """White-box: the stream's state; IDLE/CLOSED streams have no live object."""
    stream = conn._streams.get(stream_id)
    if stream is not None:
        return stream.state
    return S.IDLE if conn._is_idle(stream_id) else S.CLOSED


def server_scenario(state: StreamState, closed_by: str | None = None) -> Scenario:
    conn = server()
    enc = hpack.Encoder()
    if state is S.IDLE:
        return Scenario(conn, 1, enc, state)
    if state is S.RESERVED_LOCAL:
        conn.receive_data(headers_frame(1, REQUEST, end_stream=True, encoder=enc))
        conn.push_stream(1, 2, PUSHED_REQUEST)
        conn.data_to_send()
        return Scenario(conn, 2, enc, state)
    end = state in (S.HALF_CLOSED_REMOTE,) or closed_by == "end_stream"
    conn.receive_data(headers_frame(1, POST, end_stream=end, encoder=enc))
    if state is S.HALF_CLOSED_LOCAL or closed_by == "end_stream":
        conn.send_headers(1, RESPONSE, end_stream=True)
    elif closed_by == "rst_sent":
        conn.reset_stream(1, ErrorCode.CANCEL)
    elif closed_by == "rst_received":
        conn.receive_data(rst_stream(1, ErrorCode.CANCEL))
    conn.data_to_send()
    return Scenario(conn, 1, enc, state, closed_by)


def client_scenario(state: StreamState, closed_by: str | None = None) -> Scenario:
    conn = client()
    enc = hpack.Encoder()
    if state is S.IDLE:
        return Scenario(conn, 1, enc, state)
    end = state is S.HALF_CLOSED_LOCAL or state is S.RESERVED_REMOTE or closed_by == "end_stream"
    conn.send_headers(1, REQUEST if end else POST, end_stream=end)
    if state is S.RESERVED_REMOTE:
        block = enc.encode(PUSHED_REQUEST)
        conn.receive_data(frame(0x5, 0x4, 1, (2).to_bytes(4, "big") + block))
        conn.data_to_send()
        return Scenario(conn, 2, enc, state)
    # A response without END_STREAM, so that DATA and trailers are well-formed messages.
    conn.receive_data(headers_frame(1, RESPONSE, end_stream=state is S.HALF_CLOSED_REMOTE or closed_by == "end_stream", encoder=enc))
    if closed_by == "rst_sent":
        conn.reset_stream(1, ErrorCode.CANCEL)
    elif closed_by == "rst_received":
        conn.receive_data(rst_stream(1, ErrorCode.CANCEL))
    conn.data_to_send()
    return Scenario(conn, 1, enc, state, closed_by)


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "server-idle": lambda: server_scenario(S.IDLE),
    "server-reserved-local": lambda: server_scenario(S.RESERVED_LOCAL),
    "server-open": lambda: server_scenario(S.OPEN),
    "server-half-closed-local": lambda: server_scenario(S.HALF_CLOSED_LOCAL),
    "server-half-closed-remote": lambda: server_scenario(S.HALF_CLOSED_REMOTE),
    "server-closed-end-stream": lambda: server_scenario(S.CLOSED, "end_stream"),
    "server-closed-rst-sent": lambda: server_scenario(S.CLOSED, "rst_sent"),
    "server-closed-rst-received": lambda: server_scenario(S.CLOSED, "rst_received"),
    "client-idle": lambda: client_scenario(S.IDLE),
    "client-reserved-remote": lambda: client_scenario(S.RESERVED_REMOTE),
    "client-open": lambda: client_scenario(S.OPEN),
    "client-half-closed-local": lambda: client_scenario(S.HALF_CLOSED_LOCAL),
    "client-half-closed-remote": lambda: client_scenario(S.HALF_CLOSED_REMOTE),
    "client-closed-end-stream": lambda: client_scenario(S.CLOSED, "end_stream"),
    "client-closed-rst-sent": lambda: client_scenario(S.CLOSED, "rst_sent"),
    "client-closed-rst-received": lambda: client_scenario(S.CLOSED, "rst_received"),
}

FRAME_KINDS = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "WINDOW_UPDATE", "PUSH_PROMISE"]
KIND_INPUT = {
    "DATA": I.RECV_DATA,
    "HEADERS": I.RECV_HEADERS,
    "PRIORITY": I.RECV_PRIORITY,
    "RST_STREAM": I.RECV_RST_STREAM,
    "WINDOW_UPDATE": I.RECV_WINDOW_UPDATE,
    "PUSH_PROMISE": I.RECV_PUSH_PROMISE,
}


def wire_for(sc: Scenario, kind: str) -> bytes:
    sid = sc.stream_id
    if kind == "DATA":
        return frame(0x0, 0, sid, b"x")
    if kind == "HEADERS":
        if sc.state is S.IDLE and not sc.client_side:
            return headers_frame(sid, POST, encoder=sc.encoder)  # a new request
        if sc.state is S.RESERVED_REMOTE:
            return headers_frame(sid, RESPONSE, encoder=sc.encoder)  # the pushed response
        return headers_frame(sid, TRAILERS, end_stream=True, encoder=sc.encoder)
    if kind == "PRIORITY":
        return frame(0x2, 0, sid, struct.pack(">LB", 0, 15))
    if kind == "RST_STREAM":
        return rst_stream(sid, ErrorCode.CANCEL)
    if kind == "WINDOW_UPDATE":
        return window_update(sid, 100)
    assert kind == "PUSH_PROMISE"
    return frame(0x5, 0x4, sid, (4).to_bytes(4, "big") + sc.encoder.encode(PUSHED_REQUEST))


def expected_outcome(sc: Scenario, kind: str) -> tuple[str, Any]:
    """The RFC's answer, from the rules above and the special cases of §5.1, §6.6, §8.4."""
    if kind == "PUSH_PROMISE":
        if not sc.client_side:
            return ("connection", ErrorCode.PROTOCOL_ERROR)  # RFC 9113 §8.4: clients cannot push
        if sc.closed_by == "rst_sent":
            # RFC 9113 §5.1 closed: a PUSH_PROMISE after our RST_STREAM; the promised stream is reset.
            return ("promise-refused", ErrorCode.CANCEL)
        if sc.state not in (S.OPEN, S.HALF_CLOSED_LOCAL):
            # RFC 9113 §6.6: PUSH_PROMISE on a stream neither open nor half-closed (local).
            return ("connection", ErrorCode.PROTOCOL_ERROR)
        return ("ok", sc.state)
    if sc.state is S.CLOSED:
        if kind == "PRIORITY":
            return ("ok", S.CLOSED)
        if sc.closed_by == "rst_sent":
            return ("ignored", None)  # RFC 9113 §5.1: minimally process and discard
        if kind in ("WINDOW_UPDATE", "RST_STREAM"):
            # RFC 9113 §5.1: these may cross our END_STREAM; §5.4.2: never answer RST with RST.
            return ("ignored", None)
        if sc.closed_by == "end_stream":
            return ("connection", ErrorCode.STREAM_CLOSED)  # RFC 9113 §5.1 (MAY; h2lite does)
        return ("stream", ErrorCode.STREAM_CLOSED)  # after the peer's RST_STREAM (RFC 7540 §5.1 MUST)
    if sc.state is S.IDLE and kind == "HEADERS" and sc.client_side:
        # RFC 9113 §5.1.1: a server cannot open an odd-numbered stream.
        return ("connection", ErrorCode.PROTOCOL_ERROR)
    rules = RFC_RULES[sc.state]
    stream_input = KIND_INPUT[kind]
    if stream_input in rules["recv"]:
        new = rules["recv"][stream_input]
        if kind == "HEADERS" and sc.state in (S.OPEN, S.HALF_CLOSED_LOCAL):
            new = RFC_RULES[new]["recv"][I.RECV_END_STREAM]  # trailers carry END_STREAM
        return ("ok", new)
    code, scope = rules["recv_error"]
    return (scope, code)


CASES = list(itertools.product(SCENARIOS, FRAME_KINDS))


@pytest.mark.parametrize(("scenario", "kind"), CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_received_frame_in_state(scenario: str, kind: str) -> None:
    """RFC 9113 §5.1: each frame type received in each stream state has the RFC's outcome."""
    sc = SCENARIOS[scenario]()
    assert live_state(sc.conn, sc.stream_id) is sc.state
    outcome, detail = expected_outcome(sc, kind)
    wire = wire_for(sc, kind)
    if outcome == "connection":
        with pytest.raises(RemoteProtocolError) as info:
            sc.conn.receive_data(wire)
        assert info.value.error_code == detail
        assert goaway_code(sc.conn.data_to_send()) == detail
        return
    got = sc.conn.receive_data(wire)
    out = sc.conn.data_to_send()
    assert goaway_code(out) is None
    resets = [e for e in got if isinstance(e, events.StreamReset) and not e.remote_reset]
    if outcome == "stream":
        assert rst_codes(out) == {sc.stream_id: detail}
        if sc.state is not S.CLOSED:
            assert [(e.stream_id, e.error_code) for e in resets] == [(sc.stream_id, detail)]
        # A stream already closed (and reported) gets its RST_STREAM only.
        assert live_state(sc.conn, sc.stream_id) is S.CLOSED
    elif outcome == "promise-refused":
        assert rst_codes(out) == {4: detail}
        assert live_state(sc.conn, 4) is S.CLOSED
    else:
        assert not resets
        assert not rst_codes(out)
        assert live_state(sc.conn, sc.stream_id) is (detail if outcome == "ok" else S.CLOSED)
        if outcome == "ignored":
            assert [e for e in got if getattr(e, "stream_id", None) == sc.stream_id] == []
        if outcome == "ok" and kind == "RST_STREAM":
            assert [(type(e), e.stream_id) for e in got] == [(events.StreamReset, sc.stream_id)]
        if outcome == "ok" and kind == "PUSH_PROMISE":
            assert live_state(sc.conn, 4) is S.RESERVED_REMOTE
    # The connection stays usable after anything short of a connection error.
    assert any(isinstance(e, events.PingReceived) for e in sc.conn.receive_data(frame(0x6, 0, 0, bytes(8))))
    assert [t for t, _, _, _ in parse_frames(sc.conn.data_to_send())] == [0x6]
