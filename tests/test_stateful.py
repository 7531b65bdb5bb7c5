"""A client and a server driven by random API calls and random delivery.

A hypothesis state machine (RuleBasedStateMachine) plays both applications:
it opens streams, answers them, pushes, sends DATA (padded or not, queued or
pulled from a provider that pauses), trailers, ends and resets streams, pings, changes SETTINGS (initial window, frame size,
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

import importlib.util
import itertools
import os
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from h2lite import (
    Config,
    Connection,
    ErrorCode,
    LocalProtocolError,
    Setting,
    StreamClosedError,
    StreamState,
    TooManyStreamsError,
)

_PATH = Path(__file__).resolve().parent.parent / "fuzz" / "pair_model.py"
if "pair_model" in sys.modules:
    pair_model = sys.modules["pair_model"]
else:
    _spec = importlib.util.spec_from_file_location("pair_model", _PATH)
    assert _spec is not None and _spec.loader is not None
    pair_model = importlib.util.module_from_spec(_spec)
    sys.modules["pair_model"] = pair_model  # dataclasses look their module up there
    _spec.loader.exec_module(pair_model)

ACTIVE = pair_model.ACTIVE
GET = pair_model.GET
MAX_WINDOW = pair_model.MAX_WINDOW
MIRROR = pair_model.MIRROR
OTHER = pair_model.OTHER
POST = pair_model.POST
PUSHED = pair_model.PUSHED
ROLES = pair_model.ROLES
STREAM_CREDIT_CAP = pair_model.STREAM_CREDIT_CAP
TRAILERS = pair_model.TRAILERS
PairModel = pair_model.PairModel
Provider = pair_model.Provider
StreamModel = pair_model.StreamModel
live_states = pair_model.live_states
payload = pair_model.payload
_raw_connection_windows = pair_model._raw_connection_windows
_raw_stream = pair_model._raw_stream

_PROFILES = {
    # (max_examples, stateful_step_count)
    "default": (25, 40),
    "long": (3000, 120),
}
_EXAMPLES, _STEPS = _PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), _PROFILES["default"])


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


class ConnectionPairMachine(PairModel, RuleBasedStateMachine):
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
        self.start_model({"client": client_auto, "server": server_auto})
        # A few requests start at once, before either side has seen the other's SETTINGS.
        for end_stream, body in requests:
            self.open_stream(end_stream, POST, 0, body)

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
        starts_push = model.pushed and not model.headers_started["server"]
        if starts_push and server.open_outbound_streams >= server.remote_settings.max_concurrent_streams:
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
