"""A client and a server driven by random API calls and random delivery.

A hypothesis state machine (RuleBasedStateMachine) plays both applications:
it opens streams, answers them, pushes, sends DATA (padded or not), trailers,
ends and resets streams, pings, changes SETTINGS (initial window, frame size,
concurrency, HPACK table size, push), acknowledges DATA with manual flow
control, widens windows and sends GOAWAY.  The bytes each side writes sit in a
pipe until a rule delivers some or all of them, in random chunk sizes.

It checks, after every step:

* no call raises anything but the documented, predicted caller errors, and no
  side ever sees a protocol error from its (correct) peer;
* every DATA byte sent on a stream arrives exactly once and in order
  (a prefix while in flight, all of it when END_STREAM arrives), and every byte
  handed to ``send_data`` is either delivered or still counted by
  ``outbound_buffer_size()``;
* windows never exceed 2^31-1 (RFC 9113 §6.9.1), the connection windows never
  go negative, and stream windows go negative only by as much as
  SETTINGS_INITIAL_WINDOW_SIZE was lowered (RFC 9113 §6.9.2);
* once nothing is in flight: both sides agree on the state of every stream
  (RFC 9113 §5.1) and on every window, the states match a model built from the
  calls and events, every PING and SETTINGS was acknowledged, and no DATA is
  left queued unless the receiver's window legitimately holds it back.

The budget is small by default; ``HYPOTHESIS_PROFILE=long`` runs a long search
(see fuzz/README.md).
"""

from __future__ import annotations

import itertools
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import hyperframe.frame
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from h2lite import (
    DEFERRED,
    Config,
    Connection,
    ErrorCode,
    LocalProtocolError,
    RemoteProtocolError,
    Setting,
    StreamClosedError,
    StreamState,
    TooManyStreamsError,
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

_PROFILES = {
    # (max_examples, stateful_step_count)
    "default": (25, 40),
    "ci": (25, 40),
    "long": (3000, 120),
}
_EXAMPLES, _STEPS = _PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), _PROFILES["default"])


def payload(stream_id: int, start: int, size: int) -> bytes:
    """DATA bytes that depend on the stream and the offset, so a byte out of place shows."""
    return bytes(((stream_id * 131 + start + i) * 2654435761 >> 11) & 0xFF for i in range(size))


# -- read-only introspection ------------------------------------------------------
# The public API shows windows clamped at 0 and no stream states; these two
# helpers are the only places that read private fields, and they never write.


def _raw_stream(conn: Connection, stream_id: int) -> Any:
    """The connection's stream object (state, raw windows), or None if untracked."""
    return conn._streams.get(stream_id)


def _raw_connection_windows(conn: Connection) -> tuple[int, int]:
    """(send window, receive window) of the connection, unclamped."""
    return conn._outbound_window, conn._inbound.window


def live_states(conn: Connection) -> dict[int, StreamState]:
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

    def __init__(self, machine: ConnectionPairMachine, side: str, model: StreamModel, total: int, piece: int, pause_every: int) -> None:
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


# -- the machine -----------------------------------------------------------------------

# Zeros are rarer: a zero window or concurrency limit stalls most other rules.
windows = st.sampled_from([65_535, 16_384, 1000, 100, 100_000, 2**20, 2**24, 65_535, 1000, 0])
frame_sizes = st.sampled_from([16_384, 16_385, 20_000, 2**24 - 1])
table_sizes = st.sampled_from([0, 64, 4096, 65_536])
concurrency = st.sampled_from([100, 3, 2, 1, 100, 0])
sides = st.sampled_from(ROLES)
chunk_sizes = st.sampled_from([1, 2, 9, 10, 100, 16_393, None])
data_sizes = st.one_of(st.sampled_from([0, 1, 7, 1000, 16_385]), st.integers(0, 3000))
pads = st.one_of(st.none(), st.none(), st.integers(0, 255))
picks = st.integers(0, 2**16)
#: Mostly a stream the call suits; sometimes any stream, to check the refusals.
any_stream = st.integers(0, 4).map(lambda n: n == 0)


class ConnectionPairMachine(RuleBasedStateMachine):
    """Two h2lite connections talking through pipes the machine controls."""

    def __init__(self) -> None:
        super().__init__()
        self.conns: dict[str, Connection] = {}

    # -- setup ---------------------------------------------------------------

    @initialize(
        client_auto=st.booleans(),
        server_auto=st.booleans(),
        client_window=windows,
        server_window=windows,
        client_frame=frame_sizes,
        server_frame=frame_sizes,
        connection_window=st.sampled_from([16_384, 65_535, 1_000_000, MAX_WINDOW]),
        enable_push=st.sampled_from([None, True, False]),
        client_streams=concurrency,
        server_streams=concurrency,
        table=table_sizes,
        requests=st.lists(st.tuples(st.booleans(), st.one_of(st.none(), data_sizes)), min_size=1, max_size=4),
    )
    def setup(
        self,
        client_auto: bool,
        server_auto: bool,
        client_window: int,
        server_window: int,
        client_frame: int,
        server_frame: int,
        connection_window: int,
        enable_push: bool | None,
        client_streams: int,
        server_streams: int,
        table: int,
        requests: list[tuple[bool, int | None]],
    ) -> None:
        # A clock that advances one second per reading: the rate limits see time
        # pass as in a long, healthy exchange, whatever the speed of the test.
        ticks = itertools.count()

        def clock() -> float:
            return float(next(ticks))

        self.conns = {
            "client": Connection(
                Config(
                    client_side=True,
                    auto_flow_control=client_auto,
                    initial_window_size=client_window,
                    max_frame_size=client_frame,
                    enable_push=enable_push,
                    max_concurrent_streams=client_streams,
                    header_table_size=table,
                    clock=clock,
                )
            ),
            "server": Connection(
                Config(
                    client_side=False,
                    auto_flow_control=server_auto,
                    initial_window_size=server_window,
                    max_frame_size=server_frame,
                    max_concurrent_streams=server_streams,
                    connection_window_size=connection_window,
                    clock=clock,
                )
            ),
        }
        self.auto = {"client": client_auto, "server": server_auto}
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
            # The Config values above are our first SETTINGS, waiting for their ACK.
            self.settings_unacked[side].append(dict(self.conns[side].local_settings.pending[0]))
            self.settings_unapplied[side].append(dict(self.conns[side].local_settings.pending[0]))
        # A few requests start at once, before either side has seen the other's SETTINGS.
        for end_stream, body in requests:
            self.open_stream(end_stream, POST, 0, body)

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
            raise AssertionError(f"{side} got an unexpected event {event!r}")

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

    # -- rules: wire -----------------------------------------------------------

    @rule(side=sides, amount=st.one_of(st.none(), st.integers(0, 20_000)))
    def write(self, side: str, amount: int | None) -> None:
        self.transmit(side, amount)

    @rule(side=sides, size=st.one_of(st.none(), st.integers(1, 40_000)), chunk=chunk_sizes)
    def read(self, side: str, size: int | None, chunk: int | None) -> None:
        if chunk is not None and chunk < 10:
            # Keep byte-by-byte delivery cheap: a few hundred calls at most.
            size = min(size or len(self.pipe[side]), 300)
        self.deliver(side, size, chunk)

    @rule()
    def exchange_everything(self) -> None:
        self.settle()

    # -- rules: streams ----------------------------------------------------------

    def pick(self, index: int, wanted: Any) -> StreamModel | None:
        candidates = [m for m in self.streams.values() if wanted(m)]
        return candidates[index % len(candidates)] if candidates else None

    def expect_refusal(self, conn: Connection, call: Any, *allowed: type[BaseException]) -> None:
        """A call the model says must fail: only the documented exception, and nothing queued."""
        before = conn.want_write
        try:
            call()
        except allowed:
            pass
        else:
            raise AssertionError(f"{call} should have been refused")
        if not before:
            assert not conn.want_write, "a refused call queued something"

    @rule(
        end_stream=st.booleans(),
        method=st.sampled_from([GET, POST]),
        extra=st.sampled_from([0, 0, 100, 20_000]),
        body=st.one_of(st.none(), data_sizes),
    )
    def open_stream(self, end_stream: bool, method: list[tuple[bytes, bytes]], extra: int, body: int | None) -> None:
        model = self.open_request(end_stream and body is None, method, extra)
        if model is not None and body is not None:
            self.queue_data("client", model, body, end_stream, None)

    def open_request(self, end_stream: bool, method: list[tuple[bytes, bytes]], extra: int) -> StreamModel | None:
        """Open the client's next stream; None if the model says it must be (and was) refused."""
        client = self.conns["client"]
        sid = client.get_next_available_stream_id()
        # A large field makes the block span CONTINUATION frames at small frame sizes.
        headers = method + ([(b"x-fill", b"f" * extra)] if extra else [])
        if self.goaway_received["client"] is not None:
            self.expect_refusal(client, lambda: client.send_headers(sid, headers, end_stream=end_stream), LocalProtocolError)
            return None
        if client.open_outbound_streams >= client.remote_settings.max_concurrent_streams:
            self.expect_refusal(client, lambda: client.send_headers(sid, headers, end_stream=end_stream), TooManyStreamsError)
            return None
        client.send_headers(sid, headers, end_stream=end_stream)
        model = StreamModel(sid, pushed=False)
        model.known["client"] = True
        model.send_closed["client"] = end_stream
        model.blocks_sent["client"].append((headers, end_stream))
        self.streams[sid] = model
        assert client.get_next_available_stream_id() == sid + 2
        return model

    @rule(
        index=picks,
        status=st.sampled_from([b"200", b"404", b"103"]),
        end_stream=st.booleans(),
        body=st.one_of(st.none(), data_sizes),
        body_ends=st.booleans(),
    )
    def respond(self, index: int, status: bytes, end_stream: bool, body: int | None, body_ends: bool) -> None:
        server = self.conns["server"]
        model = self.pick(
            index,
            lambda m: m.known["server"] and not m.gone["server"] and not m.send_closed["server"] and not m.final_sent,
        )
        if model is None:
            return
        headers = [(b":status", status)]
        end_stream = end_stream and status != b"103"
        if model.pushed and not model.headers_started["server"]:
            if server.open_outbound_streams >= server.remote_settings.max_concurrent_streams:
                self.expect_refusal(server, lambda: server.send_headers(model.stream_id, headers), TooManyStreamsError)
                return
        server.send_headers(model.stream_id, headers, end_stream=end_stream)
        model.headers_started["server"] = True
        model.final_sent = status != b"103"
        model.send_closed["server"] = end_stream
        model.blocks_sent["server"].append((headers, end_stream))
        if body is not None and model.can_send("server"):
            self.queue_data("server", model, body, body_ends, None)

    @rule(index=picks)
    def push(self, index: int) -> None:
        server = self.conns["server"]
        parent = self.pick(index, lambda m: not m.pushed and m.known["server"])
        if parent is None:
            return
        promised = server.get_next_available_stream_id()

        def call() -> None:
            server.push_stream(parent.stream_id, promised, PUSHED)

        if not server.remote_settings.enable_push or self.goaway_received["server"] is not None:
            self.expect_refusal(server, call, LocalProtocolError)
            return
        if not parent.known["server"] or parent.gone["server"] or parent.send_closed["server"]:
            self.expect_refusal(server, call, StreamClosedError)
            return
        call()
        model = StreamModel(promised, pushed=True, parent=parent.stream_id)
        model.known["server"] = True
        model.send_closed["client"] = True  # RFC 9113 §8.4: the client never sends on it
        self.streams[promised] = model

    @rule(side=sides, index=picks, anything=any_stream, size=data_sizes, end_stream=st.booleans(), pad=pads)
    def send_data(self, side: str, index: int, anything: bool, size: int, end_stream: bool, pad: int | None) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.known[side] and (anything or m.can_send(side)))
        if model is None:
            return
        self.queue_data(side, model, size, end_stream, pad)

    def queue_data(self, side: str, model: StreamModel, size: int, end_stream: bool, pad: int | None) -> None:
        conn = self.conns[side]
        sid = model.stream_id
        data = payload(sid, len(model.sent[side]), size)

        def call() -> None:
            conn.send_data(sid, data, end_stream=end_stream, pad_length=pad)

        if not model.can_send(side) or model.provider[side] is not None:
            self.expect_refusal(conn, call, LocalProtocolError)
            return
        call()
        model.sent[side] += data
        model.send_closed[side] = end_stream

    @rule(
        side=sides,
        index=picks,
        anything=any_stream,
        total=st.sampled_from([1, 100, 5000, 40_000]),
        piece=st.sampled_from([100, 1000, 16_384, 2**24]),
        pause_every=st.sampled_from([0, 2, 3]),
    )
    def send_data_from(self, side: str, index: int, anything: bool, total: int, piece: int, pause_every: int) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.known[side] and (anything or (m.can_send(side) and m.provider[side] is None)))
        if model is None:
            return
        provider = Provider(self, side, model, total, piece, pause_every)

        def call() -> None:
            conn.send_data_from(model.stream_id, provider)

        if not model.can_send(side) or model.provider[side] is not None:
            self.expect_refusal(conn, call, LocalProtocolError)
            return
        call()
        model.provider[side] = provider

    @rule(side=sides, index=picks, anything=any_stream)
    def resume(self, side: str, index: int, anything: bool) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.known[side] and (anything or m.provider[side] is not None))
        if model is None:
            return
        provider = model.provider[side]
        if provider is None or model.gone[side]:
            self.expect_refusal(conn, lambda: conn.resume_data(model.stream_id), LocalProtocolError)
            return
        conn.resume_data(model.stream_id)
        provider.deferred = False

    @rule(side=sides, index=picks, anything=any_stream)
    def end_stream(self, side: str, index: int, anything: bool) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.known[side] and (anything or m.can_send(side)))
        if model is None:
            return
        if not model.can_send(side):
            self.expect_refusal(conn, lambda: conn.end_stream(model.stream_id), LocalProtocolError)
            return
        conn.end_stream(model.stream_id)
        model.send_closed[side] = True

    @rule(side=sides, index=picks)
    def send_trailers(self, side: str, index: int) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.can_send(side))
        if model is None:
            return
        conn.send_headers(model.stream_id, TRAILERS, end_stream=True)
        model.send_closed[side] = True
        model.blocks_sent[side].append((TRAILERS, True))

    @rule(side=sides, index=picks, anything=any_stream, code=st.sampled_from([ErrorCode.NO_ERROR, ErrorCode.CANCEL, ErrorCode.INTERNAL_ERROR, 0xABCD]))
    def reset_stream(self, side: str, index: int, anything: bool, code: int) -> None:
        conn = self.conns[side]
        model = self.pick(index, lambda m: m.known[side] and (anything or not m.gone[side]))
        if model is None:
            return
        sid = model.stream_id
        if model.gone[side]:
            self.expect_refusal(conn, lambda: conn.reset_stream(sid, code), StreamClosedError)
            return
        try:
            conn.reset_stream(sid, code)
        except StreamClosedError:
            # Only if both halves have closed: ours may have ended inside this
            # side's output buffer, unseen by the model until it is written.
            assert model.may_be_closed(side), f"stream {sid} refused a reset while open"
            return
        model.gone[side] = True
        model.reset = True
        model.send_closed[side] = True
        model.reset_code[side] = code

    # -- rules: connection ----------------------------------------------------------

    @rule(side=sides)
    def ping(self, side: str) -> None:
        self.ping_count += 1
        data = self.ping_count.to_bytes(8, "big")
        self.conns[side].ping(data)
        self.pings[side].append(data)

    @rule(
        side=sides,
        window=st.one_of(st.none(), windows),
        frame=st.one_of(st.none(), frame_sizes),
        streams=st.one_of(st.none(), concurrency),
        table=st.one_of(st.none(), table_sizes),
        push=st.one_of(st.none(), st.sampled_from([0, 1])),
    )
    def update_settings(
        self, side: str, window: int | None, frame: int | None, streams: int | None, table: int | None, push: int | None
    ) -> None:
        values: dict[int, int] = {}
        if window is not None:
            values[Setting.INITIAL_WINDOW_SIZE] = window
        if frame is not None:
            values[Setting.MAX_FRAME_SIZE] = frame
        if streams is not None:
            values[Setting.MAX_CONCURRENT_STREAMS] = streams
        if table is not None:
            values[Setting.HEADER_TABLE_SIZE] = table
        if push is not None and side == "client":
            values[Setting.ENABLE_PUSH] = push
        conn = self.conns[side]
        conn.update_settings(values)
        assert conn.local_settings.pending[-1] == values
        self.settings_unacked[side].append(dict(values))
        self.settings_unapplied[side].append(dict(values))

    @rule(side=sides, index=picks, fraction=st.sampled_from([1, 2, 3]))
    def acknowledge(self, side: str, index: int, fraction: int) -> None:
        if self.auto[side]:
            return
        model = self.pick(index, lambda m: m.unacked[side] > 0)
        if model is None:
            return
        amount = max(1, model.unacked[side] // fraction)
        self.conns[side].acknowledge_received_data(amount, model.stream_id)
        model.unacked[side] -= amount

    @rule(
        side=sides,
        index=picks,
        anything=any_stream,
        increment=st.one_of(st.sampled_from([1, 100, 65_535, 2**30, MAX_WINDOW]), st.integers(1, MAX_WINDOW)),
        on_stream=st.booleans(),
    )
    def widen_window(self, side: str, index: int, anything: bool, increment: int, on_stream: bool) -> None:
        conn = self.conns[side]
        if not on_stream:
            receive_window = _raw_connection_windows(conn)[1]
            if receive_window + increment > MAX_WINDOW:
                # RFC 9113 §6.9.1: never beyond 2^31-1; the caller is told, nothing is sent.
                self.expect_refusal(conn, lambda: conn.increment_flow_control_window(increment), LocalProtocolError)
                return
            conn.increment_flow_control_window(increment)
            return
        model = self.pick(index, lambda m: m.known[side] and (anything or not m.gone[side]))
        if model is None:
            return
        increment = min(increment, STREAM_CREDIT_CAP - model.credit_given[side])
        if increment <= 0:
            return
        sid = model.stream_id
        if model.gone[side]:
            self.expect_refusal(conn, lambda: conn.increment_flow_control_window(increment, sid), StreamClosedError)
            return
        if model.pushed and side == "server" and not model.headers_started["server"]:
            # RFC 9113 §5.1: no WINDOW_UPDATE from reserved (local).
            self.expect_refusal(conn, lambda: conn.increment_flow_control_window(increment, sid), LocalProtocolError)
            return
        try:
            conn.increment_flow_control_window(increment, sid)
        except StreamClosedError:
            assert model.may_be_closed(side), f"stream {sid} refused credit while open"
            return
        model.credit_given[side] += increment

    @rule(side=sides, notice=st.booleans(), dice=st.integers(0, 7))
    def goaway(self, side: str, notice: bool, dice: int) -> None:
        if dice:
            return  # rare: after GOAWAY no new streams start, which ends most exploration
        conn = self.conns[side]
        if notice:
            conn.send_shutdown_notice()
        else:
            conn.close_connection()

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def windows_within_bounds(self) -> None:
        if not self.conns:
            return
        for side, conn in self.conns.items():
            send, receive = _raw_connection_windows(conn)
            # RFC 9113 §6.9.1: at most 2^31-1; connection windows only shrink by DATA.
            assert 0 <= send <= MAX_WINDOW and 0 <= receive <= MAX_WINDOW, (side, send, receive)
            for sid in live_states(conn):
                stream = _raw_stream(conn, sid)
                assert stream.outbound_window <= MAX_WINDOW and stream.inbound_window <= MAX_WINDOW
                # RFC 9113 §6.9.2: negative only through a lowered SETTINGS_INITIAL_WINDOW_SIZE.
                assert stream.outbound_window >= -self.window_drop_out[side], (side, sid, stream.outbound_window)
                assert stream.inbound_window >= -self.window_drop_in[side], (side, sid, stream.inbound_window)
                assert 0 <= conn.local_flow_control_window(sid) <= MAX_WINDOW
                assert 0 <= conn.remote_flow_control_window(sid) <= MAX_WINDOW

    @invariant()
    def data_conserved(self) -> None:
        """Every byte handed to send_data is delivered, in flight, or still queued."""
        if not self.conns:
            return
        for side, conn in self.conns.items():
            total = 0
            for model in self.streams.values():
                queued = conn.outbound_buffer_size(model.stream_id)
                total += queued
                if model.reset or _raw_stream(conn, model.stream_id) is None:
                    continue
                assert len(model.sent[side]) >= queued
            assert conn.outbound_buffer_size() == total

    @invariant()
    def agree_when_quiet(self) -> None:
        if not self.conns or not self.quiet():
            return
        client, server = self.conns["client"], self.conns["server"]
        states = {side: live_states(self.conns[side]) for side in ROLES}
        # RFC 9113 §5.1: with nothing in flight both ends see the same state.
        mirrored = {sid: MIRROR[state] for sid, state in states["client"].items()}
        assert mirrored == states["server"], f"client {states['client']} / server {states['server']}"
        for side in ROLES:
            expected = {
                m.stream_id: m.expected_state(side) for m in self.streams.values() if m.expected_state(side) is not None
            }
            assert states[side] == expected, f"{side}: h2lite {states[side]} / model {expected}"
            inbound = sum(1 for sid, s in states[side].items() if s in ACTIVE and (sid % 2 == 0) == (side == "client"))
            outbound = sum(1 for sid, s in states[side].items() if s in ACTIVE and (sid % 2 == 1) == (side == "client"))
            conn = self.conns[side]
            assert (conn.open_inbound_streams, conn.open_outbound_streams) == (inbound, outbound)
            # Every PING and SETTINGS got its ACK.
            assert not self.pings[side] and not self.settings_unacked[side] and not conn.local_settings.pending
        # Both ends agree on every window (RFC 9113 §6.9): what one may send is what the other allows.
        assert _raw_connection_windows(client)[0] == _raw_connection_windows(server)[1]
        assert _raw_connection_windows(server)[0] == _raw_connection_windows(client)[1]
        for sid in states["client"]:
            ours, theirs = _raw_stream(client, sid), _raw_stream(server, sid)
            assert (ours.outbound_window, ours.inbound_window) == (theirs.inbound_window, theirs.outbound_window), sid
            assert client.local_flow_control_window(sid) == server.remote_flow_control_window(sid)
            assert server.local_flow_control_window(sid) == client.remote_flow_control_window(sid)
        for side in ROLES:
            self.check_nothing_stuck(side, manual_acked=False)

    def check_nothing_stuck(self, side: str, manual_acked: bool) -> None:
        """DATA, a provider or END_STREAM waits only for a window its receiver legitimately keeps shut."""
        conn, peer = self.conns[side], self.conns[OTHER[side]]
        receiver_credits = self.auto[OTHER[side]] or manual_acked
        for sid, state in live_states(conn).items():
            model = self.streams[sid]
            if model.reset:
                continue
            queued = conn.outbound_buffer_size(sid)
            delivered = len(model.received[OTHER[side]])
            assert len(model.sent[side]) == delivered + queued, f"stream {sid}: DATA lost between {side} and its peer"
            if state not in (StreamState.OPEN, StreamState.HALF_CLOSED_REMOTE) or not receiver_credits:
                continue  # we cannot send any more, or the receiving application holds credit back on purpose
            provider = model.provider[side]
            if provider is not None:
                waiting = not provider.deferred
            else:
                waiting = queued or model.send_closed[side]  # DATA, or END_STREAM behind a negative window
            window = _raw_stream(conn, sid).outbound_window
            if peer.local_settings.initial_window_size:
                # A receiver returns credit before the sender runs dry (at half its
                # initial window), so with a non-zero SETTINGS_INITIAL_WINDOW_SIZE no
                # stream window stays exhausted, even after that setting was lowered.
                assert window > 0, f"stream {sid} stalled: {side}'s window is {window}, its peer holds back credit"
            if waiting:
                assert conn.local_flow_control_window(sid) == 0 or window < 0 and not queued, (
                    f"{side} left stream {sid} waiting with window {window}: "
                    f"{queued} bytes queued, provider {provider}, end {model.send_closed[side]}"
                )
                assert _raw_connection_windows(conn)[0] > 0 or not queued, f"connection window of {side} stalled"

    def teardown(self) -> None:
        if not self.conns:
            return
        # The applications consume everything and wake every provider; then
        # nothing may be left waiting.
        for _ in range(20_000):
            for side in ROLES:
                for model in self.streams.values():
                    if model.unacked[side]:
                        self.conns[side].acknowledge_received_data(model.unacked[side], model.stream_id)
                        model.unacked[side] = 0
                    provider = model.provider[side]
                    if provider is not None and provider.deferred and not model.gone[side]:
                        self.conns[side].resume_data(model.stream_id)
                        provider.deferred = False
            if self.settle(rounds=1) and not any(
                m.unacked[s] or (m.provider[s] is not None and m.provider[s].deferred and not m.gone[s])  # type: ignore[union-attr]
                for m in self.streams.values()
                for s in ROLES
            ):
                break
        else:
            raise AssertionError("the connections never went quiet")
        assert self.quiet()
        self.agree_when_quiet()
        for side in ROLES:
            self.check_nothing_stuck(side, manual_acked=True)


def test_client_and_server_stay_in_agreement() -> None:
    """RFC 9113 §5.1, §6.9: random calls and deliveries never break the invariants above."""
    # A plain test function (not the machine's TestCase) so the suite's backend
    # fixture runs it once per backend.
    run_state_machine_as_test(
        ConnectionPairMachine,
        settings=settings(
            max_examples=_EXAMPLES,
            stateful_step_count=_STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        ),
    )
