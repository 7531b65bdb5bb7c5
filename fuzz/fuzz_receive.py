"""Fuzz ``Connection.receive_data`` with random and mutated frame sequences.

The property checked for every input, in both roles (DESIGN.md, error model):

* only :class:`h2lite.RemoteProtocolError` (or a subclass) ever escapes
  ``receive_data``; anything else is a bug in h2lite;
* when it escapes, a GOAWAY carrying the exception's ``error_code`` is queued,
  and the connection then refuses every further input and every send with
  :class:`h2lite.LocalProtocolError`;
* the input fed whole and the same input fed in small slices give the same
  events and the same outcome (the reader is incremental; RFC 9113 §4.1 frames
  may arrive split anywhere);
* every byte h2lite queues in reply is a sequence of well-formed frames, as
  hyperframe (the independent codec) reads them;
* with the accelerator built, both backends give the same events, error and
  output for every mutated recording (command line runs).

Inputs: random and mutated frame sequences, and real exchanges recorded
between two h2lite connections (:func:`record`) with frames dropped,
duplicated, reordered, truncated, split or altered (:func:`frame_mutations`).

Use it three ways::

    python fuzz/fuzz_receive.py 5000                 # 5000 + 5000 mutated recordings per role
    python fuzz/fuzz_receive.py 5000 server          # one role only
    python fuzz/fuzz_receive.py replay client FILE…  # re-run saved inputs

or import :func:`check_input` from another driver (for example a
coverage-guided fuzzer that hands over ``(role, bytes)``).
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hpack
import hyperframe.frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from h2lite import (
    Config,
    Connection,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    events,
)
from h2lite.codes import CLIENT_PREFACE

ROLES = ("client", "server")

#: Slice sizes used for the "fed in pieces" run, cycled through.
_SLICES = (1, 2, 3, 5, 8, 9, 13, 1, 17, 4)


def _new_connection(role: str, prepare: Callable[[Connection], None] | None = None) -> Connection:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    # A fixed clock keeps the rate limits (and so the outcome) deterministic.
    conn = Connection(Config(client_side=role == "client", clock=lambda: 0.0))
    conn.initiate_connection()
    if prepare is not None:
        # The calls the recorded exchange made before its bytes arrived.
        prepare(conn)
    elif role == "client":
        # Give the server's frames streams to land on: a POST still uploading
        # (stream 1) and a GET waiting for its response (stream 3).
        conn.send_headers(1, _POST)
        conn.send_data(1, b"abc")
        conn.send_headers(3, _REQUEST, end_stream=True)
    conn.data_to_send()
    return conn


def _feed(conn: Connection, data: bytes, slices: bool) -> tuple[list[Any], RemoteProtocolError | None, bytes]:
    """Feed ``data``; return the events, the RemoteProtocolError raised (if any) and the output."""
    received: list[Any] = []
    pieces: list[bytes]
    if slices:
        pieces, pos, i = [], 0, 0
        while pos < len(data):
            size = _SLICES[i % len(_SLICES)]
            pieces.append(data[pos : pos + size])
            pos += size
            i += 1
    else:
        pieces = [data]
    for piece in pieces:
        try:
            received += conn.receive_data(piece)
        except RemoteProtocolError as exc:
            received += exc.events
            return received, exc, conn.data_to_send()
        # Anything else escapes to the caller: that is the bug being hunted.
    return received, None, conn.data_to_send()


def _check_output(output: bytes) -> list[tuple[int, int, int, bytes]]:
    """Everything h2lite sends must parse as whole frames (RFC 9113 §4.1), checked by hyperframe."""
    frames = []
    pos = 0
    if output.startswith(CLIENT_PREFACE):
        pos = len(CLIENT_PREFACE)
    while pos < len(output):
        assert pos + 9 <= len(output), "output ends in a partial frame header"
        header = output[pos : pos + 9]
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(header))
        assert pos + 9 + length <= len(output), "output ends in a partial frame"
        payload = output[pos + 9 : pos + 9 + length]
        if not isinstance(frame, hyperframe.frame.ExtensionFrame):
            frame.parse_body(memoryview(payload))
        _, _, ftype, flags, sid = struct.unpack(">HBBBL", header)
        frames.append((ftype, flags, sid & 0x7FFFFFFF, payload))
        pos += 9 + length
    return frames


#: Every call docs/api.md marks as refused once the connection is closed (†),
#: plus receive_data, each as it could plausibly be made.
_AFTER_DEATH: tuple[tuple[str, Callable[[Connection], Any]], ...] = (
    ("receive_data(b'')", lambda c: c.receive_data(b"")),
    ("receive_data(frame)", lambda c: c.receive_data(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")),
    ("send_headers", lambda c: c.send_headers(1, [(b":status", b"200")])),
    ("send_headers(new)", lambda c: c.send_headers(c.get_next_available_stream_id(), _REQUEST)),
    ("send_data", lambda c: c.send_data(1, b"x")),
    ("send_data_from", lambda c: c.send_data_from(1, lambda n: (b"", True))),
    ("end_stream", lambda c: c.end_stream(1)),
    ("reset_stream", lambda c: c.reset_stream(1)),
    ("push_stream", lambda c: c.push_stream(1, 2, _REQUEST)),
    ("ping", lambda c: c.ping(b"\x00" * 8)),
    ("update_settings", lambda c: c.update_settings({0x4: 1000})),
    ("send_shutdown_notice", lambda c: c.send_shutdown_notice()),
    ("close_connection", lambda c: c.close_connection()),
    ("increment_flow_control_window", lambda c: c.increment_flow_control_window(1)),
    ("increment_flow_control_window(stream)", lambda c: c.increment_flow_control_window(1, 1)),
    ("advertise_alternative_service", lambda c: c.advertise_alternative_service(b'h2=":443"', origin=b"a")),
    ("send_origin", lambda c: c.send_origin([b"https://a"])),
    ("send_extension_frame", lambda c: c.send_extension_frame(0xFA, 0, 0, b"")),
)


def _check_dead(conn: Connection) -> None:
    """A connection that raised RemoteProtocolError accepts nothing further.

    docs/api.md: after a connection error, receive_data() and every sending
    call raise LocalProtocolError saying the connection is closed; nothing
    more is queued; acknowledging data is ignored.
    """
    for name, attempt in _AFTER_DEATH:
        try:
            attempt(conn)
        except LocalProtocolError as exc:
            assert "closed" in str(exc), f"{name} on a dead connection: unclear error {exc!r}"
        else:
            raise AssertionError(f"{name} was accepted by a connection that raised RemoteProtocolError")
    conn.acknowledge_received_data(100, 1)
    assert not conn.want_read
    assert conn.state is ConnectionState.CLOSED
    assert conn.data_to_send() == b"", "a dead connection queued more output"


def outcome(
    role: str, data: bytes, prepare: Callable[[Connection], None] | None = None
) -> tuple[list[Any], RemoteProtocolError | None, bytes]:
    """The events ``data`` produces on a fresh connection of ``role``, the error it raised and the output."""
    return _feed(_new_connection(role, prepare), data, slices=False)


def check_input(role: str, data: bytes, prepare: Callable[[Connection], None] | None = None) -> None:
    """Feed ``data`` to a fresh connection of ``role`` ("client" or "server"); assert the properties above.

    ``prepare``, if given, replaces the default calls made on the fresh
    connection before the input arrives (see :func:`record`).
    """
    whole = _new_connection(role, prepare)
    events, error, output = _feed(whole, data, slices=False)
    frames = _check_output(output)
    if error is not None:
        assert isinstance(error.error_code, int)
        goaways = [p for t, f, s, p in frames if t == 0x7]
        assert goaways, "RemoteProtocolError without a GOAWAY"
        assert struct.unpack(">L", goaways[-1][4:8])[0] == error.error_code
        _check_dead(whole)
    sliced = _new_connection(role, prepare)
    sliced_events, sliced_error, sliced_output = _feed(sliced, data, slices=True)
    _check_output(sliced_output)
    assert (type(sliced_error), getattr(sliced_error, "error_code", None)) == (
        type(error),
        getattr(error, "error_code", None),
    ), f"whole: {error!r}, sliced: {sliced_error!r}"
    assert [repr(e) for e in sliced_events] == [repr(e) for e in events]
    if sliced_error is not None:
        _check_dead(sliced)


# -- input generation ----------------------------------------------------------


def _frame(ftype: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    length = len(payload)
    return struct.pack(">HBBBL", length >> 8, length & 0xFF, ftype, flags, stream_id) + payload


_REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]
_POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/"), (b"content-length", b"3")]
_RESPONSES = [[(b":status", b"200")], [(b":status", b"103")], [(b":status", b"204")], [(b"grpc-status", b"0")]]
_FIELD_LISTS = [_REQUEST, _POST, *_RESPONSES, [(b":method", b"GET")], [(b"x-upper", b"A"), (b"Bad", b"x")], []]

stream_ids = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 5, 7, 0x7FFFFFFF]),
    st.integers(0, 2**32 - 1),
)
flags_st = st.one_of(st.sampled_from([0x0, 0x1, 0x4, 0x5, 0x8, 0x20, 0x25, 0x2D]), st.integers(0, 255))
u32 = st.one_of(st.sampled_from([0, 1, 0x7FFF, 0xFFFF, 65535, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]), st.integers(0, 2**32 - 1))


@st.composite
def header_block(draw: Callable[..., Any]) -> bytes:
    """An HPACK block: a valid encoding of some field list, or random bytes."""
    if draw(st.booleans()):
        return hpack.Encoder().encode(draw(st.sampled_from(_FIELD_LISTS)))
    return draw(st.binary(max_size=40))


@st.composite
def payload_for(draw: Callable[..., Any], ftype: int) -> bytes:
    """A payload shaped like the frame type's, most of the time."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64))
    if ftype == 0x0:  # DATA
        return draw(st.binary(max_size=64))
    if ftype in (0x1, 0x9):  # HEADERS, CONTINUATION
        return draw(header_block())
    if ftype == 0x2:  # PRIORITY
        return struct.pack(">LB", draw(u32), draw(st.integers(0, 255)))
    if ftype in (0x3, 0x8):  # RST_STREAM, WINDOW_UPDATE
        return struct.pack(">L", draw(u32))
    if ftype == 0x4:  # SETTINGS
        pairs = draw(st.lists(st.tuples(st.integers(0, 10), u32), max_size=6))
        return b"".join(struct.pack(">HL", k, v) for k, v in pairs)
    if ftype == 0x5:  # PUSH_PROMISE
        return struct.pack(">L", draw(stream_ids)) + draw(header_block())
    if ftype == 0x6:  # PING
        return draw(st.binary(min_size=8, max_size=8))
    if ftype == 0x7:  # GOAWAY
        return struct.pack(">LL", draw(u32), draw(u32)) + draw(st.binary(max_size=8))
    return draw(st.binary(max_size=32))


@st.composite
def frames(draw: Callable[..., Any]) -> bytes:
    ftype = draw(st.one_of(st.integers(0x0, 0x10), st.integers(0, 255)))
    return _frame(ftype, draw(flags_st), draw(stream_ids), draw(payload_for(ftype)))


def _preface(role: str) -> bytes:
    # What a well-behaved peer sends first: the client magic (to a server) and SETTINGS.
    settings_frame = _frame(0x4, 0, 0, b"")
    return (CLIENT_PREFACE if role == "server" else b"") + settings_frame


def _opening(role: str) -> list[bytes]:
    """Frames that move the connection somewhere interesting: a stream opened or answered."""
    if role == "server":
        return [
            _frame(0x4, 0x1, 0, b""),
            _frame(0x1, 0x4, 1, hpack.Encoder().encode(_POST)),
        ]
    # The client opened streams 1 and 3 (see _new_connection): answer one of them.
    return [
        _frame(0x4, 0x1, 0, b""),
        _frame(0x1, 0x4, 1, hpack.Encoder().encode([(b":status", b"200"), (b"content-length", b"5")])),
        _frame(0x0, 0x0, 1, b"hel"),
    ]


@st.composite
def frame_sequences(draw: Callable[..., Any], role: str) -> bytes:
    """A preface, maybe a plausible opening, then random frames."""
    parts = [_preface(role)] if draw(st.integers(0, 9)) else []
    if draw(st.booleans()):
        parts += _opening(role)
    parts += draw(st.lists(frames(), max_size=8))
    return b"".join(parts)


@st.composite
def mutated(draw: Callable[..., Any], role: str) -> bytes:
    """A frame sequence with bytes flipped, cut, inserted or repeated."""
    data = bytearray(draw(frame_sequences(role)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=9))
        else:
            end = min(len(data), pos + draw(st.integers(1, 40)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


_CORPUS = Path(__file__).resolve().parent / "corpus"


def _seeds(role: str) -> list[bytes]:
    """Recorded exchanges from fuzz/corpus/<role>/ (written by make_corpus.py).

    Those files start with the atheris harness's mode byte, dropped here.
    """
    folder = _CORPUS / role
    if not folder.is_dir():
        return []
    return [path.read_bytes()[1:] for path in sorted(folder.iterdir()) if path.is_file()]


@st.composite
def mutated_seed(draw: Callable[..., Any], seeds: list[bytes]) -> bytes:
    """A real exchange, cut short or with a few bytes flipped, cut or inserted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))) :]
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 16))]
        else:
            data[pos:pos] = draw(frames())
    return bytes(data)


# -- recorded exchanges, mutated frame by frame ---------------------------------


@dataclass(frozen=True)
class Script:
    """A short client/server exchange, replayable: the client's calls come first.

    ``bodies`` are the request bodies (None: a GET ending with its HEADERS);
    the server answers each request with ``response_size`` bytes and trailers,
    pushes once if ``push``, and resets every ``reset_every``-th stream.
    """

    bodies: tuple[int | None, ...] = (None,)
    response_size: int = 10
    push: bool = False
    reset_every: int = 0
    ping: bool = False
    client_settings: bool = False
    window: int = 65_535

    def client_calls(self, client: Connection) -> None:
        """What the client does before any byte from the server arrives."""
        if self.client_settings:
            client.update_settings({0x4: 1000, 0x1: 100})
        for body in self.bodies:
            sid = client.get_next_available_stream_id()
            if body is None:
                client.send_headers(sid, _REQUEST, end_stream=True)
            else:
                client.send_headers(sid, _POST[:-1])
                client.send_data(sid, b"b" * body, end_stream=True)
        if self.ping:
            client.ping(b"pingpong")


@functools.lru_cache(maxsize=256)
def record(script: Script) -> tuple[bytes, bytes]:
    """Run ``script`` between two h2lite connections; return (bytes to the server, bytes to the client).

    Both byte streams are valid HTTP/2: replaying them into a fresh connection
    (after ``script.client_calls`` for a client) raises nothing.
    """
    client = Connection(Config(client_side=True, clock=lambda: 0.0))
    server = Connection(Config(client_side=False, clock=lambda: 0.0, initial_window_size=script.window))
    client.initiate_connection()
    server.initiate_connection()
    script.client_calls(client)
    to_server, to_client = bytearray(), bytearray()
    pushed = False
    for _ in range(10_000):
        a, b = client.data_to_send(), server.data_to_send()
        if not a and not b:
            break
        to_server += a
        to_client += b
        for event in server.receive_data(a) if a else []:
            sid = getattr(event, "stream_id", 0)
            if isinstance(event, events.RequestReceived):
                if script.push and not pushed and server.remote_settings.enable_push:
                    promised = server.get_next_available_stream_id()
                    server.push_stream(sid, promised, _REQUEST)
                    server.send_headers(promised, [(b":status", b"200")], end_stream=True)
                    pushed = True
                server.send_headers(sid, [(b":status", b"200")])
                if script.reset_every and sid % (2 * script.reset_every) == 1:
                    server.reset_stream(sid, 0x8)
            elif isinstance(event, events.StreamEnded):
                try:
                    server.send_data(sid, b"r" * script.response_size)
                    server.send_headers(sid, [(b"grpc-status", b"0")], end_stream=True)
                except LocalProtocolError:
                    pass  # the stream was reset meanwhile
        if b:
            client.receive_data(b)
    return bytes(to_server), bytes(to_client)


scripts = st.builds(
    Script,
    bodies=st.lists(st.one_of(st.none(), st.integers(0, 3000)), min_size=1, max_size=4).map(tuple),
    response_size=st.sampled_from([0, 10, 20_000]),
    push=st.booleans(),
    reset_every=st.integers(0, 2),
    ping=st.booleans(),
    client_settings=st.booleans(),
    window=st.sampled_from([65_535, 100]),
)


def split_frames(data: bytes) -> tuple[bytes, list[bytes]]:
    """(client preface or b"", whole frames) of a valid byte stream."""
    head = CLIENT_PREFACE if data.startswith(CLIENT_PREFACE) else b""
    pos, out = len(head), []
    while pos + 9 <= len(data):
        end = pos + 9 + int.from_bytes(data[pos : pos + 3], "big")
        out.append(data[pos:end])
        pos = end
    return head, out


_FRAME_OPS = ("drop", "duplicate", "swap", "move", "truncate", "length", "header", "payload", "cut", "split")


@st.composite
def frame_mutations(draw: Callable[..., Any], script: Script, role: str) -> bytes:
    """A recorded exchange with frames dropped, duplicated, reordered, truncated or altered."""
    to_server, to_client = record(script)
    head, frames_ = split_frames(to_server if role == "server" else to_client)
    frame_list = [bytearray(f) for f in frames_]
    for _ in range(draw(st.integers(1, 3))):
        if not frame_list:
            break
        op = draw(st.sampled_from(_FRAME_OPS))
        i = draw(st.integers(0, len(frame_list) - 1))
        j = draw(st.integers(0, len(frame_list) - 1))
        target = frame_list[i]
        if len(target) < 9 and op in ("truncate", "length", "header", "payload", "split"):
            continue  # a frame already cut inside its header has no fields left to alter
        if op == "drop":
            del frame_list[i]
        elif op == "duplicate":
            frame_list.insert(j, bytearray(target))
        elif op == "swap":
            frame_list[i], frame_list[j] = frame_list[j], frame_list[i]
        elif op == "move":
            frame_list.insert(j, frame_list.pop(i))
        elif op == "truncate":
            # Shorter payload, header length adjusted: the frame stays aligned.
            keep = draw(st.integers(0, max(0, len(target) - 10)))
            del target[9 + keep :]
            target[0:3] = keep.to_bytes(3, "big")
        elif op == "length":
            # The length field lies: every later frame is misaligned.
            length = int.from_bytes(target[0:3], "big")
            length = draw(st.sampled_from([0, max(0, length - 1), length + 1, 0xFFFFFF, draw(st.integers(0, 2 * length + 9))]))
            target[0:3] = length.to_bytes(3, "big")
        elif op == "header":
            # Type, flags, or the stream identifier (including its reserved bit).
            pos = draw(st.integers(3, 8))
            target[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "payload" and len(target) > 9:
            pos = draw(st.integers(9, len(target) - 1))
            target[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            # The input ends inside this frame.
            del frame_list[i + 1 :]
            del target[draw(st.integers(0, len(target))) :]
        elif op == "split" and len(target) > 10:
            # One frame's payload in two frames of the same type and stream.
            half = draw(st.integers(1, len(target) - 10))
            first, second = bytearray(target[:9]) + target[9 : 9 + half], bytearray(target[:9]) + target[9 + half :]
            first[0:3] = half.to_bytes(3, "big")
            second[0:3] = (len(second) - 9).to_bytes(3, "big")
            frame_list[i : i + 1] = [first, second]
    return head + b"".join(bytes(f) for f in frame_list)


def check_mutation(script: Script, role: str, data: bytes) -> None:
    """:func:`check_input` for a mutated recording of ``script`` seen by ``role``."""
    check_input(role, data, script.client_calls if role == "client" else _no_calls)


def _no_calls(conn: Connection) -> None:
    """A server makes no call before the client's bytes arrive."""


def inputs(role: str) -> st.SearchStrategy[bytes]:
    seeds = _seeds(role)
    return st.one_of(
        frame_sequences(role),
        mutated(role),
        *([mutated_seed(seeds)] if seeds else []),
        st.binary(max_size=128).map(lambda raw: _preface(role) + raw),
        st.binary(max_size=64),
    )


def run(role: str, max_examples: int, **extra_settings: Any) -> None:
    """Run a bounded hypothesis search of ``max_examples`` inputs against ``role``."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **extra_settings,
    )
    @given(data=inputs(role))
    def search(data: bytes) -> None:
        check_input(role, data)

    search()


def run_mutations(role: str, max_examples: int, differential: bool = False, **extra_settings: Any) -> None:
    """Search ``max_examples`` mutated recordings (:func:`frame_mutations`) against ``role``.

    With ``differential``, every input also runs on each available backend
    and the outcomes must be identical (:func:`backends_agree`).
    """

    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **extra_settings,
    )
    @given(script=scripts, data=st.data())
    def search(script: Script, data: st.DataObject) -> None:
        mutated_input = data.draw(frame_mutations(script, role), label="input")
        check_mutation(script, role, mutated_input)
        if differential:
            backends_agree(role, mutated_input, script.client_calls if role == "client" else _no_calls)

    search()


def backends_agree(role: str, data: bytes, prepare: Callable[[Connection], None] | None = None) -> None:
    """The pure-Python path and the accelerator give the same events, error and output.

    DESIGN.md: the accelerator must agree with the pure-Python specification on
    every input, including which error it raises.  Restores the live backend.
    """
    from h2lite import _backend

    previous = _backend.current()
    results = {}
    try:
        for name in _backend.AVAILABLE:
            _backend.use(name)
            for slices in (False, True):
                got, error, output = _feed(_new_connection(role, prepare), data, slices=slices)
                results[name, slices] = (
                    [repr(e) for e in got],
                    type(error).__name__,
                    getattr(error, "error_code", None),
                    str(error) if error is not None else None,
                    output,
                )
    finally:
        _backend.use(previous)
    for slices in (False, True):
        outcomes = {name: results[name, slices] for name in _backend.AVAILABLE}
        first = outcomes["python"]
        for name, other in outcomes.items():
            assert other == first, f"backend {name} disagrees with python (slices={slices}): {other[1:4]} / {first[1:4]}"


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "replay":
        role = argv[2]
        for name in argv[3:]:
            check_input(role, Path(name).read_bytes())
            print(f"{name}: ok")
        return 0
    if len(argv) < 2 or not argv[1].isdigit():
        print(__doc__)
        return 2
    import h2lite
    from h2lite import _backend

    examples = int(argv[1])
    differential = len(_backend.AVAILABLE) > 1
    print(f"h2lite {h2lite.__file__}, backend {_backend.current()}", flush=True)
    for role in argv[2:] or ROLES:
        run(role, examples)
        run_mutations(role, examples, differential=differential)
        print(
            f"{role}: {examples} examples + {examples} mutated recordings on the {_backend.current()} backend"
            f"{' (each also compared across ' + ', '.join(_backend.AVAILABLE) + ')' if differential else ''}, "
            "no property broken"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
