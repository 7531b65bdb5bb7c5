"""Interop: h2lite against the ``h2`` package as a live peer, in both roles.

Each test wires an h2lite :class:`~h2lite.Connection` to an
``h2.connection.H2Connection`` in memory and pumps bytes between them until
both are quiet.  The tests are written once against a small "side" interface
(:class:`LiteSide`, :class:`H2Side`) and run twice: h2lite as the client with
h2 as the server, and h2 as the client with h2lite as the server.

h2 does not queue DATA beyond its flow-control windows, so :class:`H2Side`
keeps its own per-stream outbox and sends in pieces as
``local_flow_control_window`` and ``max_outbound_frame_size`` allow, and it
acknowledges every DATA it receives (``acknowledge_received_data``) so that
h2lite's sends are never stalled.  h2lite handles both directions of flow
control itself (DESIGN.md, "Outbound flow control is the library's job").

Every test checks that each body byte sent arrives in order exactly once
(byte comparison of the reassembled bodies) and that neither side raised: an
exception from either ``receive_data`` fails the pump, and
:meth:`Link.assert_clean` checks that no connection error or unexpected
stream reset was reported on either side.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import h2.config
import h2.connection
import h2.events
import pytest
from hpack import NeverIndexedHeaderTuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from h2lite import Config, Connection, ErrorCode, LocalProtocolError, Setting, events

from .helpers import parse_frames

pytestmark = pytest.mark.interop

MAX_STREAM_ID = 2**31 - 1


def body(size: int, seed: int) -> bytes:
    """Deterministic pseudo-random bytes, different for every seed."""
    return random.Random(seed).randbytes(size)


def request(method: bytes = b"GET", path: bytes = b"/", extra: list[tuple[bytes, bytes]] | None = None) -> list[tuple[bytes, bytes]]:
    return [
        (b":method", method),
        (b":scheme", b"https"),
        (b":authority", b"example.org"),
        (b":path", path),
        *(extra or []),
    ]


def response(status: bytes = b"200", extra: list[tuple[bytes, bytes]] | None = None) -> list[tuple[bytes, bytes]]:
    return [(b":status", status), *(extra or [])]


def plain(headers: Any) -> list[tuple[bytes, bytes]]:
    """Header tuples of either library as plain ``(bytes, bytes)`` pairs."""
    return [(bytes(name), bytes(value)) for name, value in headers]


# -- the two sides -------------------------------------------------------------


class Side:
    """What a test needs from one end of the connection, whichever library it is.

    Records, from the events its connection produced: reassembled bodies,
    header blocks by kind, stream ends, resets, pushes, pings and GOAWAYs.
    """

    kind = ""

    def __init__(self, client_side: bool) -> None:
        self.client_side = client_side
        self.events: list[Any] = []
        self.bodies: dict[int, bytearray] = defaultdict(bytearray)
        #: stream id -> [(kind, headers)], kind in request/response/informational/trailers
        self.blocks: dict[int, list[tuple[str, list[tuple[bytes, bytes]]]]] = defaultdict(list)
        self.raw_blocks: dict[int, list[Any]] = defaultdict(list)
        self.ended: list[int] = []
        #: stream id -> (error code, remote_reset)
        self.resets: dict[int, tuple[int, bool]] = {}
        #: promised stream id -> (parent stream id, request headers)
        self.pushes: dict[int, tuple[int, list[tuple[bytes, bytes]]]] = {}
        self.pings_received: list[bytes] = []
        self.ping_acks: list[bytes] = []
        #: (error code, last stream id) of every GOAWAY received
        self.terminated: list[tuple[int, int]] = []
        self.settings_acked = 0
        self.remote_settings_changes: list[dict[int, int]] = []
        #: every byte this side received, for frame-level checks
        self.wire_in = bytearray()

    # recording, shared by both libraries (their event classes have the same shapes)
    def _record(self, event: Any, ns: Any) -> None:
        self.events.append(event)
        if isinstance(event, ns.DataReceived):
            self.bodies[event.stream_id] += event.data
        elif isinstance(event, ns.RequestReceived):
            self._block(event.stream_id, "request", event.headers)
        elif isinstance(event, ns.ResponseReceived):
            self._block(event.stream_id, "response", event.headers)
        elif isinstance(event, ns.InformationalResponseReceived):
            self._block(event.stream_id, "informational", event.headers)
        elif isinstance(event, ns.TrailersReceived):
            self._block(event.stream_id, "trailers", event.headers)
        elif isinstance(event, ns.StreamEnded):
            self.ended.append(event.stream_id)
        elif isinstance(event, ns.StreamReset):
            self.resets[event.stream_id] = (int(event.error_code), bool(event.remote_reset))
        elif isinstance(event, ns.PushedStreamReceived):
            self.pushes[event.pushed_stream_id] = (event.parent_stream_id, plain(event.headers))
        elif isinstance(event, ns.PingReceived):
            self.pings_received.append(bytes(event.ping_data))
        elif isinstance(event, ns.PingAckReceived):
            self.ping_acks.append(bytes(event.ping_data))
        elif isinstance(event, ns.ConnectionTerminated):
            self.terminated.append((int(event.error_code), event.last_stream_id))
        elif isinstance(event, ns.SettingsAcknowledged):
            self.settings_acked += 1
        elif isinstance(event, ns.RemoteSettingsChanged):
            self.remote_settings_changes.append(
                {int(k): v.new_value for k, v in event.changed_settings.items()}
            )

    def _block(self, stream_id: int, kind: str, headers: Any) -> None:
        self.blocks[stream_id].append((kind, plain(headers)))
        self.raw_blocks[stream_id].append(list(headers))

    def kinds(self, stream_id: int) -> list[str]:
        return [kind for kind, _ in self.blocks[stream_id]]

    def received_frames(self) -> list[tuple[int, int, int, bytes]]:
        return parse_frames(bytes(self.wire_in))

    # to be provided by each library's side
    def data_to_send(self) -> bytes:
        raise NotImplementedError

    def receive(self, data: bytes) -> None:
        raise NotImplementedError

    def next_stream_id(self) -> int:
        raise NotImplementedError

    def send_headers(self, stream_id: int, headers: Any, end_stream: bool = False) -> None:
        raise NotImplementedError

    def send_body(self, stream_id: int, data: bytes, end_stream: bool = True, trailers: Any = None) -> None:
        raise NotImplementedError

    def push(self, parent_id: int, request_headers: Any) -> int:
        raise NotImplementedError

    def reset(self, stream_id: int, code: int) -> None:
        raise NotImplementedError

    def ping(self, data: bytes) -> None:
        raise NotImplementedError

    def update_settings(self, values: dict[int, int]) -> None:
        raise NotImplementedError

    def pending_body_bytes(self, stream_id: int) -> int:
        raise NotImplementedError

    def open_request(self, headers: Any, end_stream: bool = False) -> int:
        stream_id = self.next_stream_id()
        self.send_headers(stream_id, headers, end_stream=end_stream)
        return stream_id


class LiteSide(Side):
    """h2lite: queues everything; windows and frame sizes are its own business."""

    kind = "h2lite"

    def __init__(self, client_side: bool, **config: Any) -> None:
        super().__init__(client_side)
        self.conn = Connection(Config(client_side=client_side, **config))
        self.conn.initiate_connection()
        #: With auto_flow_control=False, hand every DATA byte back as soon as it arrives.
        self.acknowledge = not self.conn.config.auto_flow_control

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send()

    def receive(self, data: bytes) -> None:
        self.wire_in += data
        for event in self.conn.receive_data(data):
            self._record(event, events)
            if isinstance(event, events.DataReceived) and self.acknowledge:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)

    def next_stream_id(self) -> int:
        return self.conn.get_next_available_stream_id()

    def send_headers(self, stream_id: int, headers: Any, end_stream: bool = False) -> None:
        self.conn.send_headers(stream_id, headers, end_stream=end_stream)

    def send_body(self, stream_id: int, data: bytes, end_stream: bool = True, trailers: Any = None, pad_length: int | None = None) -> None:
        self.conn.send_data(stream_id, data, end_stream=end_stream and trailers is None, pad_length=pad_length)
        if trailers is not None:
            self.conn.send_headers(stream_id, trailers, end_stream=True)

    def push(self, parent_id: int, request_headers: Any) -> int:
        promised = self.conn.get_next_available_stream_id()
        self.conn.push_stream(parent_id, promised, request_headers)
        return promised

    def reset(self, stream_id: int, code: int) -> None:
        self.conn.reset_stream(stream_id, code)

    def ping(self, data: bytes) -> None:
        self.conn.ping(data)

    def update_settings(self, values: dict[int, int]) -> None:
        self.conn.update_settings(values)

    def pending_body_bytes(self, stream_id: int) -> int:
        return self.conn.outbound_buffer_size(stream_id)


class _Outgoing:
    __slots__ = ("data", "end", "offset", "pad_length", "trailers")

    def __init__(self) -> None:
        self.data = b""
        self.offset = 0
        self.end = False
        self.trailers: Any = None
        self.pad_length: int | None = None


class H2Side(Side):
    """The h2 package, driven the way its documentation asks.

    DATA waits in a per-stream outbox and leaves in pieces no larger than
    ``local_flow_control_window`` and ``max_outbound_frame_size``; received
    DATA is acknowledged at once so the peer's windows are replenished.
    """

    kind = "h2"

    def __init__(self, client_side: bool, settings: dict[int, int] | None = None, connection_window: int = 0) -> None:
        super().__init__(client_side)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=client_side, header_encoding=None)
        )
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        if connection_window:
            self.conn.increment_flow_control_window(connection_window)
        self.outbox: dict[int, _Outgoing] = {}
        self.acknowledge = True

    def flush(self) -> None:
        """Send whatever the windows allow from every stream's outbox."""
        conn = self.conn
        for stream_id in list(self.outbox):
            out = self.outbox[stream_id]
            while out.offset < len(out.data):
                room = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if room <= 0:
                    break
                # Padding counts against the window (RFC 9113 §6.1); h2 refuses a
                # frame beyond it, so a frame that cannot hold it goes unpadded.
                pad = out.pad_length
                if pad is not None and pad + 2 > room:
                    pad = None
                if pad is not None:
                    room -= pad + 1
                piece = out.data[out.offset : out.offset + room]
                out.offset += len(piece)
                last = out.offset == len(out.data) and out.end and out.trailers is None
                conn.send_data(stream_id, piece, end_stream=last, pad_length=pad)
                if last:
                    break
            if out.offset < len(out.data):
                continue
            del self.outbox[stream_id]
            if out.trailers is not None:
                conn.send_headers(stream_id, out.trailers, end_stream=True)
            elif out.end and not out.data:
                conn.end_stream(stream_id)

    def data_to_send(self) -> bytes:
        self.flush()
        return self.conn.data_to_send()

    def receive(self, data: bytes) -> None:
        self.wire_in += data
        for event in self.conn.receive_data(data):
            self._record(event, h2.events)
            if isinstance(event, h2.events.DataReceived) and self.acknowledge:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.outbox.pop(event.stream_id, None)
            elif isinstance(event, h2.events.SettingsAcknowledged) and self.acknowledge:
                # h2 runs its window-update algorithm only when bytes are
                # acknowledged; after our INITIAL_WINDOW_SIZE shrank a stream's
                # window below zero it would otherwise never reopen it.
                for stream_id in list(self.conn.streams):
                    self.conn.acknowledge_received_data(0, stream_id)

    def next_stream_id(self) -> int:
        return self.conn.get_next_available_stream_id()

    def send_headers(self, stream_id: int, headers: Any, end_stream: bool = False) -> None:
        self.conn.send_headers(stream_id, headers, end_stream=end_stream)

    def send_body(self, stream_id: int, data: bytes, end_stream: bool = True, trailers: Any = None, pad_length: int | None = None) -> None:
        out = self.outbox.setdefault(stream_id, _Outgoing())
        out.data, out.offset = out.data[out.offset :] + data, 0
        out.end, out.trailers, out.pad_length = end_stream, trailers, pad_length

    def push(self, parent_id: int, request_headers: Any) -> int:
        promised = self.conn.get_next_available_stream_id()
        self.conn.push_stream(parent_id, promised, request_headers)
        return promised

    def reset(self, stream_id: int, code: int) -> None:
        self.outbox.pop(stream_id, None)
        self.conn.reset_stream(stream_id, code)

    def ping(self, data: bytes) -> None:
        self.conn.ping(data)

    def update_settings(self, values: dict[int, int]) -> None:
        self.conn.update_settings(values)

    def pending_body_bytes(self, stream_id: int) -> int:
        out = self.outbox.get(stream_id)
        return 0 if out is None else len(out.data) - out.offset


class Link:
    """A client side and a server side joined by an in-memory pipe."""

    def __init__(self, client: Side, server: Side) -> None:
        self.client = client
        self.server = server
        self.lite = client if isinstance(client, LiteSide) else server
        self.h2 = server if self.lite is client else client
        self.pump()

    def pump(self, until: Callable[[], bool] | None = None, rounds: int = 100_000) -> None:
        """Exchange bytes until both sides are quiet (or ``until()`` holds)."""
        for _ in range(rounds):
            if until is not None and until():
                return
            to_server = self.client.data_to_send()
            to_client = self.server.data_to_send()
            if not to_server and not to_client:
                assert until is None, "both sides went quiet before the condition held"
                return
            if to_server:
                self.server.receive(to_server)
            if to_client:
                self.client.receive(to_client)
        raise AssertionError("the connection never went quiet")

    def assert_clean(self, resets: set[int] | frozenset[int] = frozenset(), goaway: bool = False) -> None:
        """Neither side saw a connection error or a reset it did not expect."""
        for side in (self.client, self.server):
            assert set(side.resets) <= set(resets), (side.kind, side.resets)
            if not goaway:
                assert side.terminated == [], (side.kind, side.terminated)
            assert all(code == 0 for code, _ in side.terminated), (side.kind, side.terminated)
        assert self.lite.conn.want_read or goaway
        assert self.h2.conn.state_machine.state != h2.connection.ConnectionState.CLOSED or goaway


def make_link(lite_role: str, lite_config: dict[str, Any] | None = None, h2_settings: dict[int, int] | None = None, h2_connection_window: int = 0) -> Link:
    lite_client = lite_role == "client"
    lite = LiteSide(lite_client, **(lite_config or {}))
    peer = H2Side(not lite_client, settings=h2_settings, connection_window=h2_connection_window)
    return Link(lite, peer) if lite_client else Link(peer, lite)


both_ways = pytest.mark.parametrize("lite_role", ["client", "server"], ids=["h2lite-client", "h2lite-server"])


# -- requests and responses ----------------------------------------------------


@both_ways
def test_many_concurrent_gets(lite_role: str) -> None:
    """RFC 9113 §5: many streams interleave on one connection; every response arrives whole."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    ids = [client.open_request(request(path=b"/%d" % i), end_stream=True) for i in range(60)]
    link.pump()
    assert [sid for sid in ids if server.kinds(sid) == ["request"]] == ids
    assert sorted(server.ended) == ids
    # Bodies from empty to several windows' worth, so streams compete for the connection window.
    sent = {sid: body((i * 7919) % 150_000, sid) for i, sid in enumerate(ids)}
    for sid in ids:
        server.send_headers(sid, response(extra=[(b"content-length", b"%d" % len(sent[sid]))]))
        server.send_body(sid, sent[sid])
    link.pump()
    for sid in ids:
        assert client.kinds(sid) == ["response"]
        assert bytes(client.bodies[sid]) == sent[sid]
    assert sorted(client.ended) == ids
    link.assert_clean()


@both_ways
def test_large_post_bodies_and_large_responses(lite_role: str) -> None:
    """RFC 9113 §6.9: bodies far larger than every window arrive byte for byte, both directions."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    uploads = {}
    for size in (3 * 2**20, 2**20 + 12345):
        sid = client.open_request(request(b"POST", b"/upload"))
        uploads[sid] = body(size, sid)
        client.send_body(sid, uploads[sid])
    link.pump()
    for sid, data in uploads.items():
        assert len(server.bodies[sid]) == len(data)
        assert bytes(server.bodies[sid]) == data
        assert sid in server.ended
    downloads = {sid: body(2 * 2**20 + sid, sid + 1000) for sid in uploads}
    for sid, data in downloads.items():
        server.send_headers(sid, response())
        server.send_body(sid, data)
    link.pump()
    for sid, data in downloads.items():
        assert bytes(client.bodies[sid]) == data
    assert sorted(client.ended) == sorted(uploads)
    link.assert_clean()


@both_ways
def test_trailers_both_directions(lite_role: str) -> None:
    """RFC 9113 §8.1: a trailer section follows the DATA and ends the stream, in requests and responses."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    sid = client.open_request(request(b"POST", extra=[(b"te", b"trailers"), (b"trailer", b"x-checksum")]))
    up = body(200_000, 1)
    client.send_body(sid, up, trailers=[(b"x-checksum", b"up-1234")])
    link.pump()
    assert bytes(server.bodies[sid]) == up
    assert server.blocks[sid][-1] == ("trailers", [(b"x-checksum", b"up-1234")])
    assert server.kinds(sid) == ["request", "trailers"]
    down = body(150_000, 2)
    server.send_headers(sid, response(extra=[(b"trailer", b"grpc-status")]))
    server.send_body(sid, down, trailers=[(b"grpc-status", b"0"), (b"grpc-message", b"ok")])
    link.pump()
    assert bytes(client.bodies[sid]) == down
    assert client.kinds(sid) == ["response", "trailers"]
    assert client.blocks[sid][-1] == ("trailers", [(b"grpc-status", b"0"), (b"grpc-message", b"ok")])
    assert client.ended == [sid] and server.ended == [sid]
    link.assert_clean()


@both_ways
def test_informational_responses_before_the_final_one(lite_role: str) -> None:
    """RFC 9113 §8.1: any number of 1xx header blocks may precede the final response."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    sid = client.open_request(request(b"PUT", extra=[(b"expect", b"100-continue")]))
    link.pump()
    server.send_headers(sid, response(b"100"))
    link.pump()
    assert client.blocks[sid] == [("informational", [(b":status", b"100")])]
    up = body(100_000, 3)
    client.send_body(sid, up)
    link.pump()
    assert bytes(server.bodies[sid]) == up
    server.send_headers(sid, response(b"103", extra=[(b"link", b"</style.css>; rel=preload")]))
    server.send_headers(sid, response(b"201"))
    down = body(70_000, 4)
    server.send_body(sid, down)
    link.pump()
    assert client.kinds(sid) == ["informational", "informational", "response"]
    assert client.blocks[sid][1] == ("informational", [(b":status", b"103"), (b"link", b"</style.css>; rel=preload")])
    assert bytes(client.bodies[sid]) == down
    assert client.ended == [sid]
    link.assert_clean()


@both_ways
def test_server_push(lite_role: str) -> None:
    """RFC 9113 §8.4: PUSH_PROMISE reserves an even stream that then carries a complete response."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    sid = client.open_request(request(path=b"/index.html"), end_stream=True)
    link.pump()
    promised = [server.push(sid, request(path=b"/style%d.css" % i)) for i in range(3)]
    assert promised == [2, 4, 6]
    main = body(90_000, 10)
    pushed = {p: body(80_000 + p, p) for p in promised}
    server.send_headers(sid, response())
    server.send_body(sid, main)
    for p in promised:
        server.send_headers(p, response(extra=[(b"content-type", b"text/css")]))
        server.send_body(p, pushed[p])
    link.pump()
    for i, p in enumerate(promised):
        assert client.pushes[p] == (sid, request(path=b"/style%d.css" % i))
        assert client.kinds(p) == ["response"]
        assert bytes(client.bodies[p]) == pushed[p]
    assert bytes(client.bodies[sid]) == main
    assert sorted(client.ended) == [sid, *promised]
    link.assert_clean()


# -- resets --------------------------------------------------------------------


@pytest.mark.parametrize("resetter", ["sender", "receiver"])
@pytest.mark.parametrize("body_from", ["h2lite", "h2"])
@both_ways
def test_reset_mid_body(lite_role: str, body_from: str, resetter: str) -> None:
    """RFC 9113 §6.4, §5.1: RST_STREAM mid-body closes only that stream; the other completes.

    The body goes from ``body_from`` to its peer (a request body when that is
    the client, a response body when it is the server) and ``resetter`` cancels
    it after 100 kB have arrived.  The receiver got an in-order prefix and
    nothing more; a second stream carrying the same amount is unaffected.
    """
    link = make_link(lite_role)
    client, server = link.client, link.server
    sender = link.lite if body_from == "h2lite" else link.h2
    receiver = server if sender is client else client
    victim = client.open_request(request(b"POST"), end_stream=sender is server)
    survivor = client.open_request(request(b"POST"), end_stream=sender is server)
    link.pump()
    if sender is server:
        server.send_headers(victim, response())
        server.send_headers(survivor, response())
    payload = {victim: body(2**20, 1), survivor: body(2**20, 2)}
    for sid, data in payload.items():
        sender.send_body(sid, data, pad_length=7)  # RFC 9113 §6.1: padding is flow-controlled too
    link.pump(until=lambda: len(receiver.bodies[victim]) >= 100_000)
    code = ErrorCode.CANCEL
    (sender if resetter == "sender" else receiver).reset(victim, code)
    link.pump()
    # The side that did not reset saw a remote reset with the code sent.
    other = receiver if resetter == "sender" else sender
    assert other.resets == {victim: (code, True)}
    got = bytes(receiver.bodies[victim])
    assert 100_000 <= len(got) < len(payload[victim])
    assert got == payload[victim][: len(got)]
    assert victim not in receiver.ended
    assert sender.pending_body_bytes(victim) == 0
    assert bytes(receiver.bodies[survivor]) == payload[survivor]
    assert survivor in receiver.ended
    if sender is client:
        server.send_headers(survivor, response(), end_stream=True)
        link.pump()
    assert survivor in client.ended
    resetting = sender if resetter == "sender" else receiver
    assert resetting.resets == {}
    link.assert_clean(resets={victim})
    assert link.lite.conn.open_inbound_streams == 0 and link.lite.conn.open_outbound_streams == 0
    assert link.lite.conn.outbound_buffer_size() == 0


@pytest.mark.parametrize("sender_kind", ["h2lite", "h2"])
@both_ways
def test_padded_bodies_through_windows_smaller_than_the_padding(lite_role: str, sender_kind: str) -> None:
    """RFC 9113 §6.1: padding counts against flow control.  A body sent in several
    padded pieces through 100-byte stream windows, smaller than the padding asked
    for, still crosses whole, and nothing stays queued."""
    link = make_link(
        lite_role,
        lite_config={"initial_window_size": 100},
        h2_settings={Setting.INITIAL_WINDOW_SIZE: 100},
    )
    sender = link.lite if sender_kind == "h2lite" else link.h2
    receiver = link.h2 if sender is link.lite else link.lite
    sid = link.client.open_request(request(b"POST"), end_stream=sender is link.server)
    link.pump()
    if sender is link.server:
        sender.send_headers(sid, response())
    pieces = [body(3000, i) for i in range(3)]
    for i, piece in enumerate(pieces):
        sender.send_body(sid, piece, end_stream=i == len(pieces) - 1, pad_length=200 if i != 1 else 40)
        link.pump()
    assert bytes(receiver.bodies[sid]) == b"".join(pieces)
    assert receiver.ended == [sid]
    padded = [f for t, f, s, p in receiver.received_frames() if t == 0x0 and s == sid and f & 0x8]
    assert padded  # the 40-byte padding fits the window and is kept
    assert link.lite.conn.outbound_buffer_size() == 0
    link.assert_clean()


# -- PING and SETTINGS -------------------------------------------------------


@both_ways
def test_pings_both_ways(lite_role: str) -> None:
    """RFC 9113 §6.7: each side answers the other's PING with an ACK carrying the same 8 bytes."""
    link = make_link(lite_role)
    sid = link.client.open_request(request(b"POST"))
    data = body(300_000, 5)
    link.client.send_body(sid, data)
    link.lite.ping(b"h2lite!!")
    link.h2.ping(b"h2-peer!")
    link.pump()
    assert link.h2.pings_received == [b"h2lite!!"]
    assert link.lite.ping_acks == [b"h2lite!!"]
    assert link.lite.pings_received == [b"h2-peer!"]
    assert link.h2.ping_acks == [b"h2-peer!"]
    assert bytes(link.server.bodies[sid]) == data
    link.assert_clean()


@pytest.mark.parametrize("receiver_kind", ["h2lite", "h2"])
@both_ways
def test_max_frame_size_increase_then_large_body(lite_role: str, receiver_kind: str) -> None:
    """RFC 9113 §6.5.2, §4.2: after SETTINGS_MAX_FRAME_SIZE is raised and acknowledged,
    the sender may use DATA frames up to the new size, never larger."""
    link = make_link(lite_role, lite_config={"connection_window_size": 2**24}, h2_connection_window=2**24)
    receiver = link.lite if receiver_kind == "h2lite" else link.h2
    sender = link.h2 if receiver is link.lite else link.lite
    new_size = 2**17 + 3
    receiver.update_settings({Setting.MAX_FRAME_SIZE: new_size, Setting.INITIAL_WINDOW_SIZE: 2**22})
    link.pump()
    assert receiver.settings_acked == 2  # the preface's SETTINGS and ours
    assert sender.remote_settings_changes[-1][Setting.MAX_FRAME_SIZE] == new_size
    sid = link.client.open_request(request(b"POST"), end_stream=sender is link.server)
    if sender is link.server:
        link.pump()
        sender.send_headers(sid, response())
    data = body(3 * 2**20, 6)
    before = len(receiver.wire_in)
    sender.send_body(sid, data)
    link.pump()
    assert bytes(receiver.bodies[sid]) == data
    sizes = [len(p) for t, f, s, p in parse_frames(bytes(receiver.wire_in[before:])) if t == 0x0 and s == sid]
    assert max(sizes) <= new_size
    assert max(sizes) > 16384
    link.assert_clean()


@pytest.mark.parametrize("new_window", [1000, 2**20], ids=["decrease", "increase"])
@pytest.mark.parametrize("receiver_kind", ["h2lite", "h2"])
@both_ways
def test_initial_window_size_changed_mid_transfer(lite_role: str, receiver_kind: str, new_window: int) -> None:
    """RFC 9113 §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE adjusts every open stream's window
    by the difference (possibly below zero); the sender keeps within it and nothing is lost."""
    link = make_link(lite_role)
    receiver = link.lite if receiver_kind == "h2lite" else link.h2
    sender = link.h2 if receiver is link.lite else link.lite
    ids = [link.client.open_request(request(b"POST"), end_stream=sender is link.server) for _ in range(3)]
    if sender is link.server:
        link.pump()
        for sid in ids:
            sender.send_headers(sid, response())
    payload = {sid: body(600_000, sid) for sid in ids}
    for sid, data in payload.items():
        sender.send_body(sid, data)
    link.pump(until=lambda: sum(len(receiver.bodies[s]) for s in ids) >= 150_000)
    assert all(len(receiver.bodies[s]) < len(payload[s]) for s in ids)
    receiver.update_settings({Setting.INITIAL_WINDOW_SIZE: new_window})
    link.pump()
    assert sender.remote_settings_changes[-1][Setting.INITIAL_WINDOW_SIZE] == new_window
    for sid, data in payload.items():
        assert bytes(receiver.bodies[sid]) == data
    assert sorted(receiver.ended) == ids
    # No DATA frame ever exceeded what the windows allowed (the receiver would have raised).
    link.assert_clean()


# -- GOAWAY --------------------------------------------------------------------


def test_h2lite_server_two_phase_shutdown_seen_by_h2_client() -> None:
    """RFC 9113 §6.8: h2lite's graceful shutdown: a GOAWAY with 2^31-1, then one with the
    last stream processed.  Streams in flight when the first GOAWAY leaves complete;
    a stream the client opened as the final GOAWAY crossed it is ignored.

    h2 treats its connection as closed as soon as it receives a GOAWAY, so the
    client's bytes that cross h2lite's GOAWAYs are produced before h2 reads them.
    """
    link = make_link("server")
    client, server = link.client, link.server
    assert isinstance(server, LiteSide) and isinstance(client, H2Side)
    ids = [client.open_request(request(b"POST")) for _ in range(2)]
    uploads = {sid: body(10_000, sid) for sid in ids}
    for sid in ids:
        client.conn.send_data(sid, uploads[sid][:4000])
    link.pump()
    downloads = {sid: body(5_000, sid + 50) for sid in ids}
    for sid in ids:
        server.send_headers(sid, response())
        server.send_body(sid, downloads[sid])
    server.conn.send_shutdown_notice()
    to_client = server.data_to_send()
    # Crossing on the wire: the rest of both uploads, then a new request.
    for sid in ids:
        client.conn.send_data(sid, uploads[sid][4000:], end_stream=True)
    late = client.open_request(request(), end_stream=True)
    to_server = client.data_to_send()
    split = to_server.index(bytes.fromhex("01 05") + late.to_bytes(4, "big")) - 3  # late HEADERS
    server.receive(to_server[:split])
    for sid in ids:
        assert bytes(server.bodies[sid]) == uploads[sid]
        assert sid in server.ended
    server.conn.close_connection()
    server.receive(to_server[split:])
    assert late not in server.blocks  # RFC 9113 §6.8: above the last stream ID, ignored
    to_client += server.data_to_send()
    client.receive(to_client)
    for sid in ids:
        assert bytes(client.bodies[sid]) == downloads[sid]
        assert client.kinds(sid) == ["response"]
        assert sid in client.ended
    assert client.terminated == [(0, MAX_STREAM_ID), (0, ids[-1])]
    goaways = [p for t, f, s, p in client.received_frames() if t == 0x7]
    assert [p[:8] for p in goaways] == [bytes.fromhex("7fffffff 00000000"), ids[-1].to_bytes(4, "big") + bytes(4)]
    assert server.conn.state.name == "CLOSED"
    assert server.resets == {} and client.resets == {}


def test_h2lite_client_goaway_seen_by_h2_server() -> None:
    """RFC 9113 §6.8: a client's GOAWAY (NO_ERROR) reaches the server as ConnectionTerminated
    after every response it already received is complete."""
    link = make_link("client")
    client, server = link.client, link.server
    sid = client.open_request(request(), end_stream=True)
    link.pump()
    data = body(200_000, 7)
    server.send_headers(sid, response())
    server.send_body(sid, data)
    link.pump()
    assert bytes(client.bodies[sid]) == data
    client.conn.close_connection()
    link.pump()
    assert server.terminated == [(0, 0)]
    assert client.conn.state.name == "CLOSED"
    link.assert_clean(goaway=True)


def test_h2_server_goaway_seen_by_h2lite_client() -> None:
    """RFC 9113 §6.8: h2lite on receiving GOAWAY: the stream at or below the last stream ID
    completes, one opened as the GOAWAY crossed it is reported as refused (safe to
    retry, RFC 9113 §8.7) with its queued body dropped, and no new stream may be opened.
    """
    link = make_link("client")
    client, server = link.client, link.server
    assert isinstance(client, LiteSide) and isinstance(server, H2Side)
    kept = client.open_request(request(b"POST"))
    upload = body(50_000, 8)
    client.send_body(kept, upload)
    link.pump()
    assert bytes(server.bodies[kept]) == upload
    data = body(40_000, 9)
    server.send_headers(kept, response())
    server.send_body(kept, data)
    server.flush()
    server.conn.close_connection(last_stream_id=kept)
    to_client = server.data_to_send()
    # Crossing on the wire: h2lite opens another stream with a body larger than the
    # windows.  h2 rejects any frame that arrives after its own GOAWAY, so these
    # bytes are not delivered.
    refused = client.open_request(request(b"POST"))
    client.send_body(refused, body(300_000, 10))
    crossing = client.data_to_send()
    assert {s for t, f, s, p in parse_frames(crossing) if t == 0x0} == {refused}
    assert client.conn.outbound_buffer_size(refused) > 0
    client.receive(to_client)
    assert bytes(client.bodies[kept]) == data
    assert client.ended == [kept]
    assert client.terminated == [(0, kept)]
    assert client.resets == {refused: (ErrorCode.REFUSED_STREAM, True)}
    assert client.conn.outbound_buffer_size() == 0
    assert not any(t in (0x0, 0x1) for t, f, s, p in parse_frames(client.data_to_send()))
    with pytest.raises(LocalProtocolError):
        client.open_request(request(), end_stream=True)
    assert server.resets == {} and server.terminated == []


def test_h2_client_goaway_seen_by_h2lite_server() -> None:
    """RFC 9113 §6.8: a client's GOAWAY reaches h2lite as ConnectionTerminated (NO_ERROR)."""
    link = make_link("server")
    client, server = link.client, link.server
    sid = client.open_request(request(b"POST"))
    data = body(150_000, 11)
    client.send_body(sid, data)
    link.pump()
    reply = body(120_000, 12)
    server.send_headers(sid, response())
    server.send_body(sid, reply)
    link.pump()
    assert bytes(server.bodies[sid]) == data and bytes(client.bodies[sid]) == reply
    client.conn.close_connection()
    link.pump()
    assert server.terminated == [(0, 0)]
    assert server.conn.state.name == "CLOSED"
    link.assert_clean(goaway=True)


# -- header validation -------------------------------------------------------

# Fields a real client or server sends: repeated names, empty values, obs-text,
# long values, sensitive fields sent never-indexed, cookies in crumbs.
REQUEST_FIELDS = [
    (b"user-agent", b"interop-test/1.0 (+https://example.org)"),
    (b"accept", b"text/html"),
    (b"accept", b"application/json;q=0.9"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"x-empty", b""),
    (b"x-obs-text", "caf\u00e9".encode("latin-1")),
    (b"x-long", b"v" * 8000),
    (b"x-punctuation", b"!#$%&'*+-.^_`|~ \"(),/:;<=>?@[\\]{}"),
    (b"te", b"trailers"),
    NeverIndexedHeaderTuple(b"authorization", b"Bearer secret-token"),
    (b"cookie", b"a=1"),
    (b"cookie", b"b=2"),
    (b"content-length", b"5"),
] + [(b"x-field-%d" % i, b"value-%d" % i) for i in range(60)]

RESPONSE_FIELDS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"set-cookie", b"a=1; Path=/"),
    (b"set-cookie", b"b=2; Path=/; HttpOnly"),
    (b"cache-control", b"no-store"),
    (b"x-empty", b""),
    (b"x-obs-text", bytes(range(0x80, 0x100))),
    (b"content-length", b"7"),
] + [(b"x-field-%d" % i, b"%d" % (i * i)) for i in range(60)]


@both_ways
def test_header_validation_accepts_what_the_other_sends(lite_role: str) -> None:
    """RFC 9113 §8.2, §8.3: valid field blocks pass the other side's validation unchanged,
    with several requests so the HPACK dynamic table is reused (RFC 7541 §2.3)."""
    link = make_link(lite_role)
    client, server = link.client, link.server
    ids = []
    for i in range(3):
        sid = client.open_request(request(b"POST", b"/form?x=%d" % i, REQUEST_FIELDS))
        client.send_body(sid, b"hello", trailers=[(b"x-trailer", b"t%d" % i)])
        ids.append(sid)
    link.pump()
    for i, sid in enumerate(ids):
        kinds_and_headers = server.blocks[sid]
        assert [k for k, _ in kinds_and_headers] == ["request", "trailers"]
        got = kinds_and_headers[0][1]
        expected = request(b"POST", b"/form?x=%d" % i, plain(REQUEST_FIELDS))
        # RFC 9113 §8.2.3: cookie crumbs may be split and are joined with "; ".
        without_cookies = [f for f in expected if f[0] != b"cookie"]
        assert [f for f in got if f[0] != b"cookie"] == without_cookies
        assert [f for f in got if f[0] == b"cookie"] == [(b"cookie", b"a=1; b=2")]
        # RFC 7541 §7.1.3: a never-indexed field stays never-indexed through an intermediary.
        raw = {bytes(n): h for n, h in ((h[0], h) for h in server.raw_blocks[sid][0])}
        assert isinstance(raw[b"authorization"], NeverIndexedHeaderTuple)
        assert bytes(server.bodies[sid]) == b"hello"
        server.send_headers(sid, response(extra=RESPONSE_FIELDS))
        server.send_body(sid, b"goodbye", trailers=[(b"x-trailer", b"r%d" % i)])
    link.pump()
    for i, sid in enumerate(ids):
        assert client.blocks[sid] == [
            ("response", response(extra=RESPONSE_FIELDS)),
            ("trailers", [(b"x-trailer", b"r%d" % i)]),
        ]
        assert bytes(client.bodies[sid]) == b"goodbye"
    assert sorted(client.ended) == ids and sorted(server.ended) == ids
    link.assert_clean()


# -- random sizes and settings -----------------------------------------------


# hypothesis favours small integers; add the window and frame boundaries and large bodies.
BODY_SIZES = st.one_of(
    st.integers(0, 400_000),
    st.sampled_from([16_383, 16_384, 16_385, 65_534, 65_535, 65_536, 262_144, 400_000]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lite_role=st.sampled_from(["client", "server"]),
    sizes=st.lists(st.tuples(BODY_SIZES, BODY_SIZES), min_size=1, max_size=4),
    lite_window=st.integers(2048, 2**20),
    lite_connection_window=st.integers(65_535, 2**22),
    lite_frame=st.integers(16_384, 2**18),
    h2_window=st.integers(2048, 2**20),
    h2_frame=st.integers(16_384, 2**18),
    padding=st.one_of(st.none(), st.integers(0, 255)),
    auto_flow_control=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_random_bodies_windows_and_frame_sizes(
    lite_role: str,
    sizes: list[tuple[int, int]],
    lite_window: int,
    lite_connection_window: int,
    lite_frame: int,
    h2_window: int,
    h2_frame: int,
    padding: int | None,
    auto_flow_control: bool,
    seed: int,
) -> None:
    """RFC 9113 §5.2, §6.9: whatever the windows and frame sizes each side advertises,
    concurrent bodies of any size cross intact in both directions, padded or not,
    with h2lite's receive windows replenished automatically or by the application."""
    link = make_link(
        lite_role,
        lite_config={
            "initial_window_size": lite_window,
            "connection_window_size": lite_connection_window,
            "max_frame_size": lite_frame,
            "auto_flow_control": auto_flow_control,
        },
        h2_settings={Setting.INITIAL_WINDOW_SIZE: h2_window, Setting.MAX_FRAME_SIZE: h2_frame},
    )
    client, server = link.client, link.server
    uploads = {}
    down_sizes = {}
    for i, (up_size, down_size) in enumerate(sizes):
        sid = client.open_request(request(b"POST"))
        uploads[sid] = body(up_size, seed + i)
        down_sizes[sid] = down_size
        client.send_body(sid, uploads[sid], pad_length=padding)
    link.pump()
    downloads = {}
    for sid, data in uploads.items():
        assert bytes(server.bodies[sid]) == data
        downloads[sid] = body(down_sizes[sid], seed ^ sid)
        server.send_headers(sid, response())
        server.send_body(sid, downloads[sid], pad_length=padding)
    link.pump()
    for sid, data in downloads.items():
        assert bytes(client.bodies[sid]) == data
    assert sorted(client.ended) == sorted(server.ended) == sorted(uploads)
    for side, frame_limit in ((link.lite, lite_frame), (link.h2, h2_frame)):
        assert all(len(p) <= frame_limit for t, f, s, p in side.received_frames())
    link.assert_clean()
