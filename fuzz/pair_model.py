"""The model behind tests/test_stateful.py: two h2lite connections and what they should see.

:class:`PairModel` holds a client and a server, the pipes between them and,
for every stream, what each application did and received (:class:`StreamModel`);
it turns every event into assertions about what the peer sent.  The state
machine in tests/test_stateful.py adds the random calls and the invariants.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import hyperframe.frame

from h2lite import (
    DEFERRED,
    Connection,
    ErrorCode,
    RemoteProtocolError,
    Setting,
    StreamState,
    events,
)
from h2lite.codes import CLIENT_PREFACE

MAX_WINDOW = 2**31 - 1
#: Per-stream WINDOW_UPDATE credit the machine gives at most, so that a later
#: SETTINGS_INITIAL_WINDOW_SIZE change (values up to 2^24) cannot overflow a
#: window: an overflow there is a legitimate connection error (RFC 9113 §6.9.2)
#: that the caller, not h2lite, would have caused.
STREAM_CREDIT_CAP = 2**30
ROLES = ("client", "server")
OTHER = {"client": "server", "server": "client"}
MIRROR = {
    StreamState.OPEN: StreamState.OPEN,
    StreamState.HALF_CLOSED_LOCAL: StreamState.HALF_CLOSED_REMOTE,
    StreamState.HALF_CLOSED_REMOTE: StreamState.HALF_CLOSED_LOCAL,
    StreamState.RESERVED_LOCAL: StreamState.RESERVED_REMOTE,
    StreamState.RESERVED_REMOTE: StreamState.RESERVED_LOCAL,
}
ACTIVE = {StreamState.OPEN, StreamState.HALF_CLOSED_LOCAL, StreamState.HALF_CLOSED_REMOTE}

GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]
POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/up")]
PUSHED = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/style.css")]
TRAILERS = [(b"x-checksum", b"0")]


def payload(stream_id: int, start: int, size: int) -> bytes:
    """DATA bytes that depend on the stream and the offset, so a byte out of place shows."""
    return bytes(((stream_id * 131 + start + i) * 2654435761 >> 11) & 0xFF for i in range(size))


# -- read-only introspection ------------------------------------------------------
# The public API shows windows clamped at 0 and no stream states; the three
# helpers below are the only places that read private fields, and they never write.


def _raw_stream(conn: Connection, stream_id: int) -> Any:
    """The connection's stream object (state, raw windows), or None if untracked."""
    return conn._streams.get(stream_id)


def _raw_connection_windows(conn: Connection) -> tuple[int, int]:
    """(send window, receive window) of the connection, unclamped."""
    return conn._outbound_window, conn._inbound.window


def live_states(conn: Connection) -> dict[int, StreamState]:
    """The state of every stream the connection tracks."""
    return {sid: stream.state for sid, stream in conn._streams.items()}


# -- the model -----------------------------------------------------------------------


@dataclass
class StreamModel:
    """What the two applications know about one stream, from calls and events."""

    stream_id: int
    pushed: bool
    #: The side has the stream (client: opened or promise received; server: request received or pushed).
    known: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: The side's application ended or reset its sending half (no more send calls).
    send_closed: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: END_STREAM seen in the side's output.
    end_emitted: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: StreamEnded received by the side.
    peer_ended: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: The side reset the stream or learnt it was reset or refused.
    gone: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: The code each side reset the stream with (by reset_stream, or a refusal).
    reset_code: dict[str, int | None] = field(default_factory=lambda: {"client": None, "server": None})
    #: Someone reset it: DATA may stop short.
    reset: bool = False
    #: DATA each application handed to send_data, and what the other side received.
    sent: dict[str, bytearray] = field(default_factory=lambda: {"client": bytearray(), "server": bytearray()})
    received: dict[str, bytearray] = field(default_factory=lambda: {"client": bytearray(), "server": bytearray()})
    #: Flow-controlled bytes received and not yet acknowledged (manual flow control).
    unacked: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    #: WINDOW_UPDATE credit the side gave by hand.
    credit_given: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    #: Header blocks each side sent, in order; and how many the other side has seen.
    blocks_sent: dict[str, list[tuple[list[tuple[bytes, bytes]], bool]]] = field(
        default_factory=lambda: {"client": [], "server": []}
    )
    blocks_seen: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    #: Server: the final response was sent.  Client: it was received.
    final_sent: bool = False
    final_received: bool = False
    #: Pushed stream: parent and whether response headers were sent / received.
    parent: int = 0
    headers_started: dict[str, bool] = field(default_factory=lambda: {"client": False, "server": False})
    #: A pull provider (send_data_from) each side attached and that has not finished.
    provider: dict[str, Provider | None] = field(default_factory=lambda: {"client": None, "server": None})

    def may_be_closed(self, side: str) -> bool:
        """Both halves may have closed (the last END_STREAM can still sit in an output buffer)."""
        if not self.send_closed[side]:
            return False
        return self.peer_ended[side] or (self.pushed and side == "server")

    def can_send(self, side: str) -> bool:
        """``send_data`` and ``end_stream`` are allowed (not ``send_data`` with a provider)."""
        if not self.known[side] or self.gone[side] or self.send_closed[side]:
            return False
        if side == "server":
            return self.final_sent
        return not self.pushed

    def expected_state(self, side: str) -> StreamState | None:
        """The state the side must be in once nothing is in flight (None: not tracked)."""
        if not self.known[side] or self.gone[side]:
            return None
        if self.pushed:
            if side == "server":
                if not self.headers_started["server"]:
                    return StreamState.RESERVED_LOCAL
                return None if self.end_emitted["server"] else StreamState.HALF_CLOSED_REMOTE
            if not self.headers_started["client"]:
                return StreamState.RESERVED_REMOTE
            return None if self.peer_ended["client"] else StreamState.HALF_CLOSED_LOCAL
        local, remote = self.end_emitted[side], self.peer_ended[side]
        if local and remote:
            return None
        if local:
            return StreamState.HALF_CLOSED_LOCAL
        if remote:
            return StreamState.HALF_CLOSED_REMOTE
        return StreamState.OPEN


class Provider:
    """A pull provider for ``send_data_from``: ``total`` bytes in pieces, pausing now and then."""

    def __init__(self, machine: PairModel, side: str, model: StreamModel, total: int, piece: int, pause_every: int) -> None:
        self.machine = machine
        self.side = side
        self.model = model
        self.remaining = total
        self.piece = piece
        self.pause_every = pause_every
        self.calls = 0
        self.deferred = False

    def __call__(self, max_length: int) -> Any:
        conn = self.machine.conns[self.side]
        sid = self.model.stream_id
        # The documented promise: never asked for more than may be sent now.
        assert 0 < max_length <= conn.local_flow_control_window(sid), (max_length, conn.local_flow_control_window(sid))
        assert max_length <= conn.remote_settings.max_frame_size
        assert not self.deferred, "a provider that answered DEFERRED was asked again before resume_data()"
        self.calls += 1
        if self.pause_every and self.calls % self.pause_every == 0:
            self.deferred = True
            return DEFERRED
        size = min(max_length, self.remaining, self.piece)
        data = payload(sid, len(self.model.sent[self.side]), size)
        self.model.sent[self.side] += data
        self.remaining -= size
        if not self.remaining:
            self.model.provider[self.side] = None
            self.model.send_closed[self.side] = True
            return data, True
        return data, False


class FrameLog:
    """Splits one side's output into frames as it is written, and checks each with hyperframe."""

    def __init__(self, preface: bool) -> None:
        self.buffer = bytearray()
        self.preface = preface

    def feed(self, data: bytes) -> list[tuple[int, int, int, bytes]]:
        self.buffer += data
        if self.preface:
            if len(self.buffer) < len(CLIENT_PREFACE):
                return []
            assert bytes(self.buffer[: len(CLIENT_PREFACE)]) == CLIENT_PREFACE
            del self.buffer[: len(CLIENT_PREFACE)]
            self.preface = False
        frames = []
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                break
            header, body = bytes(self.buffer[:9]), bytes(self.buffer[9 : 9 + length])
            del self.buffer[: 9 + length]
            parsed, _ = hyperframe.frame.Frame.parse_frame_header(memoryview(header))
            if not isinstance(parsed, hyperframe.frame.ExtensionFrame):
                parsed.parse_body(memoryview(body))
            _, _, ftype, flags, sid = struct.unpack(">HBBBL", header)
            frames.append((ftype, flags, sid & 0x7FFFFFFF, body))
        return frames


def _strip(headers: Any) -> list[tuple[bytes, bytes]]:
    return [(bytes(n), bytes(v)) for n, v in headers]


# -- the pair ------------------------------------------------------------------------


class PairModel:
    """Two connections, the pipes between them, and the model of every stream.

    The subclass creates ``conns`` and calls :meth:`start_model`.
    """

    conns: dict[str, Connection]

    def start_model(self, auto: dict[str, bool]) -> None:
        self.auto = auto
        #: Bytes written by a side and not yet delivered to the other.
        self.pipe = {"client": bytearray(), "server": bytearray()}
        self.log = {"client": FrameLog(preface=True), "server": FrameLog(preface=False)}
        self.streams: dict[int, StreamModel] = {}
        self.pings: dict[str, list[bytes]] = {"client": [], "server": []}
        self.ping_count = 0
        #: SETTINGS each side sent and the other has not yet applied / acknowledged.
        self.settings_unapplied: dict[str, list[dict[int, int]]] = {"client": [], "server": []}
        self.settings_unacked: dict[str, list[dict[int, int]]] = {"client": [], "server": []}
        #: Total by which a side's receive / send stream windows may have been lowered (RFC 9113 §6.9.2).
        self.window_drop_in = {"client": 0, "server": 0}
        self.window_drop_out = {"client": 0, "server": 0}
        self.goaway_received: dict[str, int | None] = {"client": None, "server": None}
        #: Last stream IDs of the GOAWAY frames each side wrote and the other has not yet read.
        self.goaways: dict[str, list[int]] = {"client": [], "server": []}
        self.last_goaway: dict[str, int | None] = {"client": None, "server": None}
        for side in ROLES:
            self.conns[side].initiate_connection()
            # The Config values are our first SETTINGS, waiting for their ACK.
            self.settings_unacked[side].append(dict(self.conns[side].local_settings.pending[0]))
            self.settings_unapplied[side].append(dict(self.conns[side].local_settings.pending[0]))

    # -- wire ------------------------------------------------------------------------

    def transmit(self, side: str, amount: int | None = None) -> int:
        data = self.conns[side].data_to_send(amount)
        self.pipe[side] += data
        for ftype, flags, sid, body in self.log[side].feed(data):
            if ftype in (0x0, 0x1) and flags & 0x1:
                model = self.streams.get(sid)
                assert model is not None, f"{side} ended stream {sid} that no call opened"
                assert not model.end_emitted[side], f"{side} sent END_STREAM twice on stream {sid}"
                model.end_emitted[side] = True
            elif ftype == 0x7:
                last = int.from_bytes(body[:4], "big") & 0x7FFFFFFF
                previous = self.last_goaway[side]
                # RFC 9113 §6.8: a later GOAWAY MUST NOT raise the last stream ID.
                assert previous is None or last <= previous, f"{side} raised its GOAWAY last stream ID"
                assert int.from_bytes(body[4:8], "big") == ErrorCode.NO_ERROR
                self.last_goaway[side] = last
                self.goaways[side].append(last)
        return len(data)

    def deliver(self, side: str, size: int | None, chunk: int | None) -> int:
        """Hand up to ``size`` bytes of ``side``'s pipe to the other side in ``chunk``-sized calls."""
        pipe = self.pipe[side]
        size = len(pipe) if size is None else min(size, len(pipe))
        data = bytes(pipe[:size])
        del pipe[:size]
        receiver = OTHER[side]
        step = chunk or len(data) or 1
        for start in range(0, len(data), step):
            try:
                received = self.conns[receiver].receive_data(data[start : start + step])
            except RemoteProtocolError as exc:
                raise AssertionError(f"{receiver} rejected what its peer sent: {exc!r} after {exc.events!r}") from exc
            for event in received:
                self.on_event(receiver, event)
        return size

    def settle(self, rounds: int = 200) -> bool:
        """Exchange everything until both sides are quiet (at most ``rounds`` round trips)."""
        for _ in range(rounds):
            moved = self.transmit("client") + self.transmit("server")
            moved += self.deliver("client", None, None) + self.deliver("server", None, None)
            if not moved:
                return True
        return False

    def quiet(self) -> bool:
        """Nothing in flight: no bytes in either pipe or waiting in either output buffer."""
        return (
            not self.pipe["client"]
            and not self.pipe["server"]
            and not self.conns["client"].want_write
            and not self.conns["server"].want_write
        )

    # -- events ------------------------------------------------------------------------

    def model(self, side: str, stream_id: int) -> StreamModel:
        model = self.streams.get(stream_id)
        assert model is not None, f"{side} got an event for stream {stream_id} that no call opened"
        return model

    def on_event(self, side: str, event: events.Event) -> None:
        peer = OTHER[side]
        if isinstance(event, events.RequestReceived):
            assert side == "server"
            model = self.model(side, event.stream_id)
            assert not model.known["server"] and not model.pushed
            model.known["server"] = True
            self.header_block(side, model, event.headers, event.end_stream)
        elif isinstance(event, (events.ResponseReceived, events.InformationalResponseReceived)):
            assert side == "client"
            model = self.model(side, event.stream_id)
            assert model.known["client"] and not model.gone["client"] and not model.final_received
            end = getattr(event, "end_stream", False)
            self.header_block(side, model, event.headers, end)
            status = int(dict(_strip(event.headers))[b":status"])
            assert (status >= 200) == isinstance(event, events.ResponseReceived)
            model.final_received = status >= 200
            model.headers_started["client"] = True
        elif isinstance(event, events.TrailersReceived):
            model = self.model(side, event.stream_id)
            self.header_block(side, model, event.headers, True)
        elif isinstance(event, events.DataReceived):
            model = self.model(side, event.stream_id)
            assert model.known[side] and not model.gone[side], f"DATA on stream {event.stream_id} that {side} left"
            assert event.flow_controlled_length >= len(event.data)
            model.received[side] += event.data
            sent = model.sent[peer]
            got = model.received[side]
            # Every byte exactly once and in order: what arrived is a prefix of what was sent.
            assert len(got) <= len(sent) and got == sent[: len(got)], f"stream {event.stream_id}: DATA out of order or repeated"
            if not self.auto[side]:
                model.unacked[side] += event.flow_controlled_length
        elif isinstance(event, events.StreamEnded):
            model = self.model(side, event.stream_id)
            assert model.send_closed[peer] and not model.peer_ended[side]
            assert model.received[side] == model.sent[peer], f"stream {event.stream_id} ended with DATA missing"
            model.peer_ended[side] = True
        elif isinstance(event, events.StreamReset):
            self.on_reset(side, event)
        elif isinstance(event, events.PushedStreamReceived):
            assert side == "client"
            model = self.model(side, event.pushed_stream_id)
            assert model.pushed and model.parent == event.parent_stream_id and not model.known["client"]
            assert _strip(event.headers) == PUSHED
            model.known["client"] = True
        elif isinstance(event, events.PingReceived):
            pass
        elif isinstance(event, events.PingAckReceived):
            assert self.pings[side], f"{side} got a PING ACK it did not ask for"
            assert event.ping_data == self.pings[side].pop(0), "PING ACKs out of order"
        elif isinstance(event, events.RemoteSettingsChanged):
            expected = self.settings_unapplied[peer].pop(0)
            assert {int(k): c.new_value for k, c in event.changed_settings.items()} == expected
            change = event.changed_settings.get(Setting.INITIAL_WINDOW_SIZE)
            if change is not None and change.original_value is not None and change.new_value < change.original_value:
                self.window_drop_out[side] += change.original_value - change.new_value
        elif isinstance(event, events.SettingsAcknowledged):
            expected = self.settings_unacked[side].pop(0)
            assert {int(k): c.new_value for k, c in event.changed_settings.items()} == expected
            change = event.changed_settings.get(Setting.INITIAL_WINDOW_SIZE)
            if change is not None and change.original_value is not None and change.new_value < change.original_value:
                self.window_drop_in[side] += change.original_value - change.new_value
        elif isinstance(event, events.WindowUpdated):
            assert event.delta > 0
        elif isinstance(event, events.ConnectionTerminated):
            assert event.error_code == ErrorCode.NO_ERROR
            assert event.last_stream_id == self.goaways[peer].pop(0)
            self.goaway_received[side] = event.last_stream_id
        else:
            raise AssertionError(f"{side} got an unexpected event {event!r}")  # noqa: TRY004 (a failed check)

    def header_block(self, side: str, model: StreamModel, headers: Any, end_stream: bool) -> None:
        """The next header block the peer sent on the stream arrived, unchanged."""
        blocks = model.blocks_sent[OTHER[side]]
        index = model.blocks_seen[side]
        assert index < len(blocks), f"stream {model.stream_id}: {side} got a header block nobody sent"
        sent, sent_end = blocks[index]
        assert _strip(headers) == sent
        assert end_stream == sent_end
        model.blocks_seen[side] = index + 1

    def on_reset(self, side: str, event: events.StreamReset) -> None:
        model = self.model(side, event.stream_id)
        peer = OTHER[side]
        if event.remote_reset:
            if model.reset_code[peer] is not None:
                # The peer reset it (by call, or by refusing it).
                assert event.error_code == model.reset_code[peer]
            elif model.pushed and not model.known["client"]:
                # The client refused the promise without telling its application:
                # push disabled in its Config, or the parent stream already reset.
                parent = self.streams[model.parent]
                assert event.error_code == ErrorCode.REFUSED_STREAM or (
                    event.error_code == ErrorCode.CANCEL and parent.gone["client"]
                ), event
            else:
                # Our own stream above the peer's GOAWAY: not processed, safe to retry.
                last = self.goaway_received[side]
                assert last is not None and event.stream_id > last and event.error_code == ErrorCode.REFUSED_STREAM, event
        else:
            # h2lite reset it on its own: between two correct peers only a refusal is legitimate
            # (RFC 9113 §5.1.2 concurrency, or a pushed response beyond our limit).
            assert event.error_code == ErrorCode.REFUSED_STREAM, f"{side} reset a stream its correct peer used: {event!r}"
            model.reset_code[side] = ErrorCode.REFUSED_STREAM
        model.gone[side] = True
        model.reset = True
