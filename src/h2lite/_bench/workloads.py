"""Benchmark workloads W1-W4 (see docs/performance.md and the project's benchmark brief).

A client and a server connection of the same library are pumped against each
other in memory until neither has anything left to send.  The application loop
(answering requests, acknowledging data where the library needs it) runs inside
the timed region.  Timing starts after the connection preface and SETTINGS
exchange.  W2 is the one place where the libraries' code differs: with ``h2``
the sending application has to respect flow control itself, with h2lite it
hands the whole body to ``send_data`` and lets the library release it.

Every workload function returns ``(elapsed_seconds, units)`` and checks its own
result afterwards, outside the timed region: a wrong result raises
``WorkloadError`` instead of producing a figure.
"""

from __future__ import annotations

import gc
import random
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .libs import (
    DEFAULT_WINDOW,
    EventHandler,
    H2Lib,
    H2LiteLib,
    Lib,
    LibraryUnavailable,
    WorkloadError,
    load_h2,
    load_h2lite,
    new_pair,
    pump,
)
from .libs import check as _check

__all__ = [
    "DEFAULT_WINDOW",
    "WORKLOADS",
    "H2Lib",
    "H2LiteLib",
    "Lib",
    "LibraryUnavailable",
    "Recording",
    "Workload",
    "WorkloadError",
    "count_frames",
    "load_h2",
    "load_h2lite",
    "new_pair",
    "pump",
    "record_w4",
    "run_w1",
    "run_w2",
    "run_w3",
    "run_w4",
    "w1_requests",
    "w3_inputs",
]

Headers = list[tuple[bytes, bytes]]

#: The clock of the timed regions (a module attribute so a caller can swap it).
perf_counter = time.perf_counter

# --------------------------------------------------------------------------- sizes

#: Full sizes, as in the benchmark brief.
W1_REQUESTS = 10_000
W1_BATCH = 100
W1_BODY = 100
W2_BYTES = 64 * 1024 * 1024
W2_CHUNK = 16 * 1024
W2_CLIENT_WINDOW = 1 << 20
W3_REQUESTS = 2_000
W3_BATCH = 100
W3_SEED = 0x5EED_0003
W4_GETS = 10_000
W4_POSTS = 1_000
W4_POST_BODY = 4 * 1024
W4_SERVER_WINDOW = 16 * 1024 * 1024

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


# --------------------------------------------------------------------------- W1

W1_RESPONSE: Headers = [
    (b":status", b"200"),
    (b"content-type", b"text/plain"),
    (b"content-length", b"%d" % W1_BODY),
    (b"server", b"bench/1.0"),
]
W1_BODY_BYTES = b"x" * W1_BODY


def w1_requests(n: int, method: bytes = b"GET", prefix: bytes = b"/item/") -> list[Headers]:
    """W1's request header lists: 8 fields, only ``:path`` varies."""
    return [
        [
            (b":method", method),
            (b":scheme", b"https"),
            (b":authority", b"bench.example.org"),
            (b":path", b"%s%d" % (prefix, i)),
            (b"user-agent", b"bench-client/1.0 (h2 comparison)"),
            (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            (b"accept-encoding", b"gzip, deflate, br"),
            (b"cookie", b"session=4f2d8e1c9b7a6053; theme=dark; lang=en-GB"),
        ]
        for i in range(n)
    ]


def _timed_requests(
    client: Any, server: Any, requests: list[Headers], batch: int, on_server: EventHandler, on_client: EventHandler
) -> float:
    """Send ``requests``, ``batch`` streams at a time, pumping to quiet after each batch; seconds taken."""
    gc.collect()
    start = perf_counter()
    for first in range(0, len(requests), batch):
        for headers in requests[first:first + batch]:
            client.send_headers(client.get_next_available_stream_id(), headers, end_stream=True)
        pump(client, server, on_server, on_client)
    return perf_counter() - start


def run_w1(lib: Lib, n: int = W1_REQUESTS, batch: int = W1_BATCH) -> tuple[float, int]:
    """W1: n GETs in batches of ``batch`` concurrent streams; returns (s, requests)."""
    requests = w1_requests(n)
    client, server = new_pair(lib)
    RequestReceived = lib.RequestReceived
    ResponseReceived = lib.ResponseReceived
    DataReceived = lib.DataReceived
    StreamEnded = lib.StreamEnded
    manual_ack = lib.manual_ack
    response = W1_RESPONSE
    body = W1_BODY_BYTES

    responses: dict[int, Any] = {}
    body_sizes: dict[int, int] = {}
    ended: list[int] = []

    def on_server(events: list[Any]) -> None:
        for ev in events:
            if type(ev) is RequestReceived:
                sid = ev.stream_id
                server.send_headers(sid, response)
                server.send_data(sid, body, end_stream=True)

    def on_client(events: list[Any]) -> None:
        for ev in events:
            t = type(ev)
            if t is DataReceived:
                sid = ev.stream_id
                body_sizes[sid] = body_sizes.get(sid, 0) + len(ev.data)
                if manual_ack:
                    client.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif t is ResponseReceived:
                responses[ev.stream_id] = ev.headers
            elif t is StreamEnded:
                ended.append(ev.stream_id)

    elapsed = _timed_requests(client, server, requests, batch, on_server, on_client)

    _check(len(ended) == n, f"W1: {len(ended)} streams ended, expected {n}")
    _check(len(set(ended)) == n, "W1: a stream ended twice")
    _check(len(responses) == n, f"W1: {len(responses)} responses, expected {n}")
    for sid, headers in responses.items():
        _check(
            tuple(headers[0]) == (b":status", b"200"),
            f"W1: stream {sid} got {headers[0]!r}",
        )
        _check(body_sizes.get(sid) == W1_BODY, f"W1: stream {sid} body {body_sizes.get(sid)} bytes")
    return elapsed, n


# --------------------------------------------------------------------------- W2

W2_REQUEST: Headers = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"bench.example.org"),
    (b":path", b"/large"),
    (b"user-agent", b"bench-client/1.0 (h2 comparison)"),
]


def _w2_response(total: int) -> Headers:
    return [
        (b":status", b"200"),
        (b"content-type", b"application/octet-stream"),
        (b"content-length", b"%d" % total),
    ]


def _w2_client_handlers(lib: Lib, client: Any, state: dict[str, int]) -> EventHandler:
    DataReceived = lib.DataReceived
    StreamEnded = lib.StreamEnded
    ResponseReceived = lib.ResponseReceived
    manual_ack = lib.manual_ack
    received = 0
    frames = 0

    def on_client(events: list[Any]) -> None:
        nonlocal received, frames
        for ev in events:
            t = type(ev)
            if t is DataReceived:
                received += len(ev.data)
                frames += 1
                if manual_ack:
                    client.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif t is StreamEnded:
                state["ended"] += 1
            elif t is ResponseReceived:
                state["status"] = int(ev.headers[0][1])
        state["received"] = received
        state["frames"] = frames

    return on_client


def _w2_verify(state: dict[str, int], total: int) -> None:
    _check(state.get("status") == 200, f"W2: response status {state.get('status')}")
    _check(state.get("ended") == 1, f"W2: stream ended {state.get('ended')} times")
    _check(
        state.get("received") == total,
        f"W2: client received {state.get('received')} bytes, expected {total}",
    )
    # Every DATA frame but the last is a full 16 KiB one (or windows split them).
    _check(state["frames"] >= -(-total // W2_CHUNK), f"W2: {state['frames']} DATA frames")


def run_w2_h2(lib: Lib, total: int = W2_BYTES) -> tuple[float, int]:
    """W2 on h2: the server writes as much as the flow-control windows allow."""
    client, server = new_pair(lib, W2_CLIENT_WINDOW, W2_CLIENT_WINDOW)
    chunk = b"\xa5" * W2_CHUNK
    response = _w2_response(total)
    RequestReceived = lib.RequestReceived
    WindowUpdated = lib.WindowUpdated
    remaining = total
    sid = 0

    def fill() -> None:
        nonlocal remaining
        window = server.local_flow_control_window
        while remaining:
            n = min(window(sid), W2_CHUNK, remaining)
            if n <= 0:
                return
            remaining -= n
            server.send_data(sid, chunk if n == W2_CHUNK else chunk[:n], end_stream=not remaining)

    def on_server(events: list[Any]) -> None:
        nonlocal sid
        for ev in events:
            t = type(ev)
            if t is WindowUpdated:
                if remaining and sid:
                    fill()
            elif t is RequestReceived:
                sid = ev.stream_id
                server.send_headers(sid, response)
                fill()

    state = {"ended": 0, "received": 0, "frames": 0}
    on_client = _w2_client_handlers(lib, client, state)

    gc.collect()
    start = perf_counter()
    client.send_headers(client.get_next_available_stream_id(), W2_REQUEST, end_stream=True)
    pump(client, server, on_server, on_client)
    elapsed = perf_counter() - start

    _check(remaining == 0, f"W2: server still has {remaining} bytes to send")
    _w2_verify(state, total)
    return elapsed, total


def run_w2_h2lite(lib: Lib, total: int = W2_BYTES) -> tuple[float, int]:
    """W2 on h2lite: one send_data call; data_to_send() releases what windows allow."""
    client, server = new_pair(lib, W2_CLIENT_WINDOW, W2_CLIENT_WINDOW)
    payload = b"\xa5" * total
    response = _w2_response(total)
    RequestReceived = lib.RequestReceived

    def on_server(events: list[Any]) -> None:
        for ev in events:
            if type(ev) is RequestReceived:
                server.send_headers(ev.stream_id, response)
                server.send_data(ev.stream_id, payload, end_stream=True)

    state = {"ended": 0, "received": 0, "frames": 0}
    on_client = _w2_client_handlers(lib, client, state)

    gc.collect()
    start = perf_counter()
    client.send_headers(client.get_next_available_stream_id(), W2_REQUEST, end_stream=True)
    pump(client, server, on_server, on_client)
    elapsed = perf_counter() - start

    _w2_verify(state, total)
    return elapsed, total


def run_w2(lib: Lib, total: int = W2_BYTES) -> tuple[float, int]:
    """W2: one stream, ``total`` bytes server to client; returns (s, bytes)."""
    if isinstance(lib, H2Lib):
        return run_w2_h2(lib, total)
    return run_w2_h2lite(lib, total)


# --------------------------------------------------------------------------- W3

_W3_CONSTANT: Headers = [
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
    (b"accept", b"application/json, text/plain, */*"),
    (b"accept-language", b"en-GB,en;q=0.9,fr;q=0.7"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"cache-control", b"no-cache"),
    (b"pragma", b"no-cache"),
    (b"origin", b"https://app.example.org"),
    (b"referer", b"https://app.example.org/dashboard"),
    (b"sec-fetch-dest", b"empty"),
    (b"sec-fetch-mode", b"cors"),
    (b"sec-fetch-site", b"same-site"),
    (b"sec-ch-ua-platform", b'"Linux"'),
    (b"dnt", b"1"),
    (b"x-client-name", b"dashboard-web"),
    (b"x-client-version", b"2024.11.3"),
    (b"x-forwarded-proto", b"https"),
]

_W3_POOLS: list[tuple[bytes, list[bytes]]] = [
    (b"x-region", [b"eu-west-1", b"eu-central-1", b"us-east-1", b"ap-south-1"]),
    (b"x-tenant", [b"acme", b"globex", b"initech", b"umbrella", b"hooli"]),
    (b"x-device", [b"desktop", b"mobile", b"tablet"]),
    (b"x-locale", [b"en-GB", b"en-US", b"fr-FR", b"de-DE", b"ja-JP", b"pt-BR"]),
    (b"x-experiment", [b"control", b"variant-a", b"variant-b"]),
    (b"x-feature-flags", [b"new-nav,dark-mode", b"new-nav", b"dark-mode,beta-search", b"none"]),
    (b"content-type", [b"application/json", b"application/x-www-form-urlencoded"]),
    (b"x-priority-class", [b"interactive", b"background", b"batch"]),
    (b"x-shard", [b"shard-%02d" % i for i in range(8)]),
    (b"priority", [b"u=1, i", b"u=3", b"u=5"]),
]

_W3_UNIQUE_NAMES: list[bytes] = [
    b"x-request-id",
    b"x-correlation-id",
    b"x-trace-id",
    b"x-span-id",
    b"x-idempotency-key",
    b"x-client-timestamp",
    b"x-nonce",
    b"x-signature",
    b"x-session-token",
    b"if-none-match",
]

_W3_RESPONSE_CONSTANT: Headers = [
    (b"content-type", b"application/json; charset=utf-8"),
    (b"cache-control", b"private, max-age=0, must-revalidate"),
    (b"server", b"bench/1.0"),
    (b"vary", b"Accept-Encoding, Origin"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"access-control-allow-origin", b"https://app.example.org"),
    (b"access-control-allow-credentials", b"true"),
    (b"alt-svc", b'h3=":443"; ma=86400'),
    (b"content-language", b"en"),
]

_W3_RESPONSE_POOLS: list[tuple[bytes, list[bytes]]] = [
    (b"x-cache", [b"HIT", b"MISS", b"EXPIRED"]),
    (b"x-served-by", [b"cache-lhr-%d" % i for i in range(6)]),
    (b"x-backend", [b"api-1", b"api-2", b"api-3", b"api-4"]),
    (b"x-ratelimit-limit", [b"100", b"1000", b"5000"]),
]


def w3_inputs(n: int, seed: int = W3_SEED) -> tuple[list[Headers], list[Headers]]:
    """W3's requests (40 fields) and responses (20 fields), from a fixed seed."""
    rng = random.Random(seed)

    def hexs(nbytes: int) -> bytes:
        return b"%0*x" % (nbytes * 2, rng.getrandbits(nbytes * 8))

    requests: list[Headers] = []
    responses: list[Headers] = []
    for i in range(n):
        req: Headers = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", b"api.example.org"),
            (b":path", b"/api/v2/items/%d?fields=all&q=%s" % (i, hexs(4))),
        ]
        req.extend(_W3_CONSTANT)
        req.extend((name, rng.choice(pool)) for name, pool in _W3_POOLS)
        unique = [
            hexs(16),
            hexs(16),
            hexs(16),
            hexs(8),
            hexs(16),
            b"%d" % (1_700_000_000_000 + i * 37 + rng.randrange(37)),
            hexs(12),
            hexs(32),
            hexs(24),
            b'W/"%s"' % hexs(10),
        ]
        req.extend(zip(_W3_UNIQUE_NAMES, unique))
        assert len(req) == 40
        requests.append(req)

        resp: Headers = [(b":status", b"200")]
        resp.extend(_W3_RESPONSE_CONSTANT)
        resp.extend((name, rng.choice(pool)) for name, pool in _W3_RESPONSE_POOLS)
        resp.append((b"x-request-id", unique[0]))
        resp.append((b"etag", b'W/"%s"' % hexs(10)))
        resp.append((b"x-response-time", b"%dms" % rng.randrange(1, 400)))
        assert len(resp) == 20
        responses.append(resp)
    return requests, responses


def _as_tuples(headers: Sequence[Any]) -> list[tuple[Any, Any]]:
    return [(bytes(k), bytes(v)) for k, v in headers]


def run_w3(lib: Lib, n: int = W3_REQUESTS, batch: int = W3_BATCH) -> tuple[float, int]:
    """W3: n header-heavy requests, header-only responses; returns (s, requests)."""
    requests, responses = w3_inputs(n)
    client, server = new_pair(lib)
    RequestReceived = lib.RequestReceived
    ResponseReceived = lib.ResponseReceived
    StreamEnded = lib.StreamEnded

    got_requests: dict[int, Any] = {}
    got_responses: dict[int, Any] = {}
    ended: list[int] = []

    def on_server(events: list[Any]) -> None:
        for ev in events:
            if type(ev) is RequestReceived:
                sid = ev.stream_id
                got_requests[sid] = ev.headers
                # Client stream ids are 1, 3, 5, ... in request order.
                server.send_headers(sid, responses[sid >> 1], end_stream=True)

    def on_client(events: list[Any]) -> None:
        for ev in events:
            t = type(ev)
            if t is ResponseReceived:
                got_responses[ev.stream_id] = ev.headers
            elif t is StreamEnded:
                ended.append(ev.stream_id)

    elapsed = _timed_requests(client, server, requests, batch, on_server, on_client)

    _check(len(ended) == n, f"W3: {len(ended)} streams ended, expected {n}")
    _check(len(got_requests) == n, f"W3: server saw {len(got_requests)} requests, expected {n}")
    _check(len(got_responses) == n, f"W3: client saw {len(got_responses)} responses")
    for sid, headers in got_requests.items():
        _check(_as_tuples(headers) == requests[sid >> 1], f"W3: request on stream {sid} differs")
    for sid, headers in got_responses.items():
        _check(_as_tuples(headers) == responses[sid >> 1], f"W3: response on stream {sid} differs")
    return elapsed, n


# --------------------------------------------------------------------------- W4

W4_POST_RESPONSE: Headers = [
    (b":status", b"201"),
    (b"content-length", b"0"),
    (b"server", b"bench/1.0"),
    (b"location", b"/uploads/latest"),
]


def w4_posts(n: int) -> list[Headers]:
    reqs = w1_requests(n, method=b"POST", prefix=b"/upload/")
    for headers in reqs:
        headers.append((b"content-type", b"application/octet-stream"))
        headers.append((b"content-length", b"%d" % W4_POST_BODY))
    return reqs


@dataclass
class Recording:
    """A client's byte stream, one chunk per ``data_to_send()`` call."""

    chunks: list[bytes]
    frames: int
    requests: int
    gets: int
    posts: int
    post_bytes: int
    frame_types: dict[int, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)


def count_frames(stream: bytes) -> dict[int, int]:
    """Frame counts by type in a client byte stream (preface first)."""
    _check(stream.startswith(PREFACE), "W4: recording does not start with the preface")
    counts: dict[int, int] = {}
    pos = len(PREFACE)
    end = len(stream)
    unpack = struct.unpack_from
    while pos < end:
        _check(end - pos >= 9, "W4: truncated frame header in recording")
        hi, lo, ftype = unpack(">BHB", stream, pos)
        length = (hi << 16) | lo
        counts[ftype] = counts.get(ftype, 0) + 1
        pos += 9 + length
    _check(pos == end, "W4: truncated frame payload in recording")
    return counts


class _W4Server:
    """The application half of a W4 server: answers GETs like W1, POSTs with 201.

    Used both while recording (with an h2 server) and while replaying (outside
    the timed region) so the replaying server follows the same stream lifecycle
    as the recorded one and stays inside the client's limits and windows.
    """

    def __init__(self, lib: Lib, server: Any, acknowledge: bool) -> None:
        self.server = server
        self.RequestReceived = lib.RequestReceived
        self.DataReceived = lib.DataReceived
        self.StreamEnded = lib.StreamEnded
        self.acknowledge = acknowledge and lib.manual_ack
        self.methods: dict[int, bytes] = {}
        self.requests = 0
        self.ended = 0
        self.data_bytes = 0

    def handle(self, events: list[Any]) -> None:
        server = self.server
        for ev in events:
            t = type(ev)
            if t is self.RequestReceived:
                self.requests += 1
                self.methods[ev.stream_id] = ev.headers[0][1]
            elif t is self.DataReceived:
                self.data_bytes += len(ev.data)
                if self.acknowledge:
                    server.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif t is self.StreamEnded:
                self.ended += 1
                sid = ev.stream_id
                if self.methods.pop(sid) == b"GET":
                    server.send_headers(sid, W1_RESPONSE)
                    server.send_data(sid, W1_BODY_BYTES, end_stream=True)
                else:
                    server.send_headers(sid, W4_POST_RESPONSE, end_stream=True)


def record_w4(gets: int = W4_GETS, posts: int = W4_POSTS, batch: int = W1_BATCH) -> Recording:
    """Record an h2 client's byte stream talking to an h2 server (untimed)."""
    lib = H2Lib()
    client = lib.new_connection(True)
    server = lib.new_connection(False, W4_SERVER_WINDOW, W4_SERVER_WINDOW)
    app = _W4Server(lib, server, acknowledge=True)
    DataReceived = lib.DataReceived
    chunks: list[bytes] = []

    def client_events(events: list[Any]) -> None:
        for ev in events:
            if type(ev) is DataReceived:
                client.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)

    def recording_pump() -> None:
        while True:
            out = client.data_to_send()
            if out:
                chunks.append(out)
                app.handle(server.receive_data(out))
            out2 = server.data_to_send()
            if out2:
                client_events(client.receive_data(out2))
            elif not out:
                return

    recording_pump()  # preface, SETTINGS, ACKs, the server's WINDOW_UPDATE
    body = b"\x5a" * W4_POST_BODY
    get_headers = w1_requests(gets)
    for first in range(0, gets, batch):
        for headers in get_headers[first:first + batch]:
            client.send_headers(client.get_next_available_stream_id(), headers, end_stream=True)
        recording_pump()
    post_headers = w4_posts(posts)
    for first in range(0, posts, batch):
        for headers in post_headers[first:first + batch]:
            sid = client.get_next_available_stream_id()
            client.send_headers(sid, headers)
            client.send_data(sid, body, end_stream=True)
        recording_pump()

    _check(app.requests == gets + posts, f"W4 recording: server saw {app.requests} requests")
    _check(app.ended == gets + posts, f"W4 recording: {app.ended} requests ended")
    _check(app.data_bytes == posts * W4_POST_BODY, "W4 recording: POST bodies incomplete")
    counts = count_frames(b"".join(chunks))
    return Recording(
        chunks=chunks,
        frames=sum(counts.values()),
        requests=gets + posts,
        gets=gets,
        posts=posts,
        post_bytes=posts * W4_POST_BODY,
        frame_types=counts,
    )


def run_w4(lib: Lib, recording: Recording) -> tuple[float, int]:
    """W4: replay ``recording`` into a fresh server; only receive_data is timed.

    Between chunks, outside the timed region, the server application answers
    finished requests the way the recorded server did and its output is
    drained and discarded.  Returns (s, frames).
    """
    server = lib.new_connection(False, W4_SERVER_WINDOW, W4_SERVER_WINDOW)
    server.data_to_send()
    app = _W4Server(lib, server, acknowledge=False)
    handle = app.handle
    receive = server.receive_data
    drain = server.data_to_send
    elapsed = 0.0

    gc.collect()
    for chunk in recording.chunks:
        start = perf_counter()
        events = receive(chunk)
        elapsed += perf_counter() - start
        handle(events)
        drain()

    _check(
        app.requests == recording.requests,
        f"W4: server saw {app.requests} requests, expected {recording.requests}",
    )
    _check(app.ended == recording.requests, f"W4: {app.ended} requests ended")
    _check(
        app.data_bytes == recording.post_bytes,
        f"W4: server received {app.data_bytes} body bytes, expected {recording.post_bytes}",
    )
    return elapsed, recording.frames


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Workload:
    """How run.py drives one workload."""

    id: str
    description: str
    unit: str  # what the rate is printed in
    unit_scale: float  # rate = units / elapsed / unit_scale
    #: scale (1.0 = full size) -> context shared by every run at that scale
    setup: Callable[[float], Any]
    #: (lib, context) -> (elapsed, units)
    run: Callable[[Lib, Any], tuple[float, int]]


def _scaled(full: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(full * scale))


WORKLOADS: dict[str, Workload] = {
    w.id: w
    for w in [
        Workload(
            "W1",
            "GETs, 8 fields, 100 concurrent, 100-byte bodies",
            "req/s",
            1.0,
            lambda scale: _scaled(W1_REQUESTS, scale),
            lambda lib, n: run_w1(lib, n),
        ),
        Workload(
            "W2",
            "one stream, 16 KiB DATA frames, 1 MiB client windows",
            "MB/s",
            1e6,
            lambda scale: _scaled(W2_BYTES, scale, W2_CHUNK),
            lambda lib, total: run_w2(lib, total),
        ),
        Workload(
            "W3",
            "requests with 40 fields, responses with 20, no bodies",
            "req/s",
            1.0,
            lambda scale: _scaled(W3_REQUESTS, scale),
            lambda lib, n: run_w3(lib, n),
        ),
        Workload(
            "W4",
            "server receive_data on a recorded client stream",
            "frames/s",
            1.0,
            lambda scale: record_w4(_scaled(W4_GETS, scale), _scaled(W4_POSTS, scale)),
            lambda lib, recording: run_w4(lib, recording),
        ),
    ]
}

