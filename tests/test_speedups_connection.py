"""Whole connections behave identically on the python and the c backend.

The same calls and the same received bytes must give the same events (header
fields' classes included), the same bytes written, and the same exceptions
with the same error codes, whatever the input: conversations between two
h2lite peers, their recordings cut at every point, mutated recordings, random
frames and raw random bytes, delivered as bytes, bytearray or memoryview.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hpack
import pytest
from hpack import NeverIndexedHeaderTuple
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import Config, Connection, _backend
from h2lite.codes import CLIENT_PREFACE

from .helpers import REQUEST, ConnectionPair, frame

try:
    _speedups = importlib.import_module("h2lite._speedups")
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

pytestmark = pytest.mark.skipif(
    "c" not in _backend.AVAILABLE and not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
    reason="no C backend here: not built, or hidden by H2LITE_NO_EXTENSIONS",
)

KINDS = [bytes, bytearray, memoryview]


@contextmanager
def backend_of(name: str) -> Iterator[None]:
    previous = _backend.current()
    _backend.use(name)
    try:
        yield
    finally:
        _backend.use(previous)


def describe(value: Any) -> Any:
    """A comparable picture of events, header lists and exceptions, classes included."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, *(describe(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, BaseException):
        return ("raised", type(value).__name__, getattr(value, "error_code", None), str(value),
                describe(getattr(value, "events", None)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *(describe(item) for item in value))
    if isinstance(value, dict):
        return sorted((describe(k), describe(v)) for k, v in value.items())
    return value


def attempt(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return describe(call(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - compared between the backends
        return describe(exc)


# -- conversations between two h2lite peers ---------------------------------------

EXTRA_FIELDS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([b"user-agent", b"accept", b"x-id", b"x-token", b"accept-encoding"]),
                  st.binary(max_size=30).map(lambda b: bytes(33 + c % 94 for c in b))),
        st.tuples(st.just(b"cookie"), st.sampled_from([b"a=1", b"a=1; b=2", b"s=" + b"x" * 50])),
        st.sampled_from([NeverIndexedHeaderTuple(b"authorization", b"secret"), ("Upper-Case", " spaced "),
                         (b"te", b"trailers"), (b"connection", b"close"), (b"x-bad", b"a\nb")]),
    ),
    max_size=6,
)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("request"), EXTRA_FIELDS, st.sampled_from([None, b"", b"body", b"b" * 3000]),
                  st.booleans()),
        st.tuples(st.just("respond"), st.integers(0, 20), EXTRA_FIELDS, st.sampled_from([None, b"ok", b"r" * 500])),
        st.tuples(st.just("table"), st.sampled_from(["client", "server"]), st.sampled_from([0, 100, 4096, 1 << 16])),
        st.tuples(st.just("reset"), st.sampled_from(["client", "server"]), st.integers(0, 20)),
        st.tuples(st.just("ping"), st.sampled_from(["client", "server"]), st.none()),
        st.tuples(st.just("pump"), st.none(), st.none()),
    ),
    max_size=14,
)


def converse(name: str, operations: list[Any]) -> tuple[list[Any], bytes, bytes]:
    """Run the operations on a fresh pair under one backend; return its transcript and wires."""
    log: list[Any] = []
    with backend_of(name):
        pair = ConnectionPair()
        requests: list[int] = []
        for op, first, second, third in (op + (None,) * (4 - len(op)) for op in operations):
            if op == "request":
                stream_id = pair.client.get_next_available_stream_id()
                end = first is not None and second is None and not third
                log.append(attempt(pair.client.send_headers, stream_id, REQUEST + list(first), end_stream=end))
                if second is not None:
                    log.append(attempt(pair.client.send_data, stream_id, second, end_stream=not third))
                if third:
                    log.append(attempt(pair.client.send_headers, stream_id, [(b"x-checksum", b"1")], end_stream=True))
                requests.append(stream_id)
            elif op == "respond" and requests:
                stream_id = requests[first % len(requests)]
                fields = [(b":status", b"200")] + list(second)
                log.append(attempt(pair.server.send_headers, stream_id, fields, end_stream=third is None))
                if third is not None:
                    log.append(attempt(pair.server.send_data, stream_id, third, end_stream=True))
            elif op == "table":
                side = pair.client if first == "client" else pair.server
                log.append(attempt(side.update_settings, {1: second}))  # SETTINGS_HEADER_TABLE_SIZE
            elif op == "reset" and requests:
                side = pair.client if first == "client" else pair.server
                log.append(attempt(side.reset_stream, requests[second % len(requests)]))
            elif op == "ping":
                side = pair.client if first == "client" else pair.server
                log.append(attempt(side.ping, b"12345678"))
            log.append(attempt(pair.pump))
        return log, pair.client_wire, pair.server_wire


@settings(max_examples=60, deadline=None)
@given(operations=OPERATIONS)
def test_conversations_are_identical_on_both_backends(operations):
    python = converse("python", operations)
    c = converse("c", operations)
    assert c[0] == python[0]
    assert c[1] == python[1]
    assert c[2] == python[2]


# -- one server fed recorded, cut, mutated and random bytes -----------------------

RESPONSE_FIELDS = [(b":status", b"200"), (b"content-type", b"text/plain"), NeverIndexedHeaderTuple(b"set-cookie", b"k=v")]


def serve(name: str, chunks: list[bytes], kind: type = bytes) -> list[Any]:
    """Feed a fresh server the chunks under one backend, answering every request."""
    log: list[Any] = []
    with backend_of(name):
        server = Connection(Config(client_side=False))
        server.initiate_connection()
        log.append(server.data_to_send())
        for chunk in chunks:
            try:
                got = server.receive_data(kind(chunk))
            except Exception as exc:  # noqa: BLE001 - compared between the backends
                log.append(describe(exc))
            else:
                log.append(describe(got))
                for event in got:
                    if type(event).__name__ == "RequestReceived":
                        stream_id = event.stream_id
                        log.append(attempt(server.send_headers, stream_id, RESPONSE_FIELDS))
                        log.append(attempt(server.send_data, stream_id, b"hello", end_stream=True))
            log.append(server.data_to_send())
    return log


def recording(operations: list[Any]) -> bytes:
    return converse("python", operations)[1]


SAMPLE = [
    ("request", [(b"cookie", b"a=1; b=2"), NeverIndexedHeaderTuple(b"authorization", b"secret")], b"body", True),
    ("request", [(b"user-agent", b"test/1.0")], None, False),
    ("table", "server", 100),
    ("respond", 0, [], b"ok"),
    ("request", [(b"x-id", b"12345")], b"x" * 40, False),
]


def test_every_two_way_cut_of_a_recording_gives_identical_results():
    data = recording(SAMPLE)
    assert len(data) > 200
    for cut in range(len(data) + 1):
        chunks = [data[:cut], data[cut:]]
        assert serve("c", chunks) == serve("python", chunks), cut


@pytest.mark.parametrize("kind", KINDS)
def test_byte_by_byte_delivery_gives_identical_results(kind):
    data = recording(SAMPLE)
    chunks = [data[i : i + 1] for i in range(len(data))]
    assert serve("c", chunks, kind) == serve("python", chunks, kind)


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p % (len(data) + 1) for p in points})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=80, deadline=None)
@given(operations=OPERATIONS, points=st.lists(st.integers(0, 1 << 16), max_size=6), kind=st.sampled_from(KINDS))
def test_recordings_cut_anywhere_give_identical_results(operations, points, kind):
    chunks = _cuts(recording(operations), points)
    assert serve("c", chunks, kind) == serve("python", chunks, kind)


@settings(max_examples=100, deadline=None)
@given(
    operations=OPERATIONS,
    edits=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=5),
    points=st.lists(st.integers(0, 1 << 16), max_size=3),
    kind=st.sampled_from(KINDS),
)
def test_mutated_recordings_give_identical_results(operations, edits, points, kind):
    data = bytearray(recording(operations))
    for edit, position, value in edits:
        # Mostly past the preface, so the damage reaches frames and header blocks.
        position = len(CLIENT_PREFACE) + position % max(1, len(data) - len(CLIENT_PREFACE))
        if edit == 0 and position < len(data):
            data[position] = value
        elif edit == 1:
            data.insert(position, value)
        elif edit == 2 and position < len(data):
            del data[position]
        else:
            data[position:] = data[position:][: value]
    chunks = _cuts(bytes(data), points)
    assert serve("c", chunks, kind) == serve("python", chunks, kind)


def _headers_payload(fields: list[Any], damage: int) -> bytes:
    block = hpack.Encoder().encode(fields)
    if damage and block:
        block = block[: damage % (len(block) + 1)] + bytes([damage & 0xFF]) + block[damage % (len(block) + 1) :]
    return block


RANDOM_FRAMES = st.lists(
    st.one_of(
        st.builds(
            frame,
            type=st.integers(0, 12),
            flags=st.integers(0, 255),
            stream_id=st.sampled_from([0, 1, 2, 3, 5, 0x80000001]),
            payload=st.binary(max_size=40),
        ),
        st.builds(
            lambda stream_id, flags, fields, damage: frame(0x1, flags, stream_id, _headers_payload(fields, damage)),
            st.sampled_from([1, 3, 5, 7]),
            st.sampled_from([0x4, 0x5, 0x0, 0x1, 0x24]),
            st.lists(
                st.tuples(
                    st.sampled_from([b":method", b":scheme", b":path", b":authority", b"cookie", b"te", b"x-y", b"Bad"]),
                    st.sampled_from([b"GET", b"https", b"/", b"example.org", b"a=1", b"trailers", b"", b" x"]),
                ),
                max_size=8,
            ).map(lambda extra: REQUEST + extra),
            st.integers(0, 300),
        ),
    ),
    max_size=8,
)


@settings(max_examples=120, deadline=None)
@given(frames=RANDOM_FRAMES, points=st.lists(st.integers(0, 1 << 12), max_size=4), kind=st.sampled_from(KINDS))
def test_random_frames_give_identical_results(frames, points, kind):
    start = CLIENT_PREFACE + frame(0x4) + frame(0x4, 0x1)  # preface, SETTINGS, SETTINGS ACK
    chunks = _cuts(start + b"".join(frames), points)
    assert serve("c", chunks, kind) == serve("python", chunks, kind)


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(max_size=300),
    after_preface=st.booleans(),
    points=st.lists(st.integers(0, 1 << 10), max_size=4),
    kind=st.sampled_from(KINDS),
)
def test_raw_random_bytes_give_identical_results(data, after_preface, points, kind):
    if after_preface:
        data = CLIENT_PREFACE + frame(0x4) + data
    chunks = _cuts(data, points)
    assert serve("c", chunks, kind) == serve("python", chunks, kind)


def test_a_frame_size_error_is_reported_alike():
    # RFC 9113 §4.2: a frame longer than SETTINGS_MAX_FRAME_SIZE, judged on its header.
    oversized = struct.pack(">HBBBL", 0x40, 0x01, 0x0, 0x0, 1)
    chunks = [CLIENT_PREFACE + frame(0x4) + oversized]
    python = serve("python", chunks)
    assert python == serve("c", chunks)
    assert python[1][:3] == ("raised", "FrameTooLargeError", 6)  # FRAME_SIZE_ERROR
