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
  hyperframe (the independent codec) reads them.

Use it three ways::

    python fuzz/fuzz_receive.py 5000                 # 5000 hypothesis examples per role
    python fuzz/fuzz_receive.py 5000 server          # one role only
    python fuzz/fuzz_receive.py replay client FILE…  # re-run saved inputs

or import :func:`check_input` from another driver (for example a
coverage-guided fuzzer that hands over ``(role, bytes)``).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hpack
import hyperframe.frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from h2lite import Config, Connection, LocalProtocolError, RemoteProtocolError
from h2lite.codes import CLIENT_PREFACE

ROLES = ("client", "server")

#: Slice sizes used for the "fed in pieces" run, cycled through.
_SLICES = (1, 2, 3, 5, 8, 9, 13, 1, 17, 4)


def _new_connection(role: str) -> Connection:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    # A fixed clock keeps the rate limits (and so the outcome) deterministic.
    conn = Connection(Config(client_side=role == "client", clock=lambda: 0.0))
    conn.initiate_connection()
    if role == "client":
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


def _check_dead(conn: Connection) -> None:
    """A connection that raised RemoteProtocolError accepts nothing further."""
    for attempt in (
        lambda: conn.receive_data(b""),
        lambda: conn.receive_data(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"),
        lambda: conn.ping(b"\x00" * 8),
        lambda: conn.send_headers(1, [(b":status", b"200")]),
    ):
        try:
            attempt()
        except LocalProtocolError as exc:
            assert str(exc), "LocalProtocolError without a message"
        else:
            raise AssertionError("a connection that raised RemoteProtocolError accepted more")
    assert not conn.want_read
    assert conn.data_to_send() == b"", "a dead connection queued more output"


def outcome(role: str, data: bytes) -> tuple[list[Any], RemoteProtocolError | None]:
    """The events ``data`` produces on a fresh connection of ``role``, and the error it raised."""
    events, error, _ = _feed(_new_connection(role), data, slices=False)
    return events, error


def check_input(role: str, data: bytes) -> None:
    """Feed ``data`` to a fresh connection of ``role`` ("client" or "server"); assert the properties above."""
    whole = _new_connection(role)
    events, error, output = _feed(whole, data, slices=False)
    frames = _check_output(output)
    if error is not None:
        assert isinstance(error.error_code, int)
        goaways = [p for t, f, s, p in frames if t == 0x7]
        assert goaways, "RemoteProtocolError without a GOAWAY"
        assert struct.unpack(">L", goaways[-1][4:8])[0] == error.error_code
        _check_dead(whole)
    sliced = _new_connection(role)
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
    examples = int(argv[1])
    for role in argv[2:] or ROLES:
        run(role, examples)
        print(f"{role}: {examples} examples, no property broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
