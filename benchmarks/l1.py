"""Benchmark L1: the asyncio server under h2load, h2lite against the h2 package.

    python benchmarks/l1.py [-n 100000] [-c 10] [-m 10] [--repeat 5] [--backends python,c]

Starts three servers on loopback, each in its own process:

* ``h2``: a server written directly on the ``h2`` package (below), built the
  way :mod:`h2lite.aio.server` is built: one ``asyncio.Protocol`` per
  connection, every chunk read fed to the connection, a stream record and a
  handler object per request, and one ``transport.write`` of everything queued
  after each chunk; outbound DATA waits for the flow-control windows, inbound
  DATA is credited back as the handler consumes it;
* ``h2lite python`` and ``h2lite c``: :func:`h2lite.aio.server.serve` with a
  :class:`~h2lite.aio.server.RequestHandler`, with the pure-Python backend
  (``H2LITE_NO_EXTENSIONS=1``) and with the C accelerator.

Every server answers each request with the same response: ``:status 200``,
``content-type: text/plain``, ``content-length`` and a 13-byte body.

``h2load -n N -c C -m M -t 1`` runs against each server once as a warm-up,
then ``--repeat`` times, alternating between servers (and rotating which goes
first); the table shows the median requests/s, its ratio to h2's, and the
median of the per-round ratios (each run against the h2 run of its round,
which cancels load changes between rounds). A run counts only if h2load
reports every request succeeded with a 2xx status.
Only ratios from one run mean much: absolute figures on a shared machine drift.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
_SRC = os.path.join(os.path.dirname(_HERE), "src")

BODY = b"Hello, world\n"
RESPONSE_FIELDS = [
    (b"content-type", b"text/plain"),
    (b"content-length", str(len(BODY)).encode()),
]


# --------------------------------------------------------------------------- the h2 server


def h2_server_protocol() -> Callable[[], asyncio.Protocol]:
    """The reference server on ``h2``: a Protocol factory.

    It mirrors :mod:`h2lite.aio._server_protocol` step for step, so that the
    figure compares the protocol engines and not two server designs: a record
    per stream with its pseudo-header fields picked out, a handler object per
    request with its attributes decoded to ``str``, request DATA credited back
    once the handler has consumed it, response bodies released in the flush
    within the flow-control windows and a per-round byte budget, and one
    ``transport.write`` per round.
    """
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    config = h2.config.H2Configuration(client_side=False, header_encoding=None)
    write_batch = 131072  # as h2lite.aio's WRITE_BATCH
    connection_window = 1 << 20  # as h2lite.aio's DEFAULT_CONNECTION_WINDOW

    class StreamState:
        __slots__ = (
            "authority",
            "body",
            "closed",
            "handler",
            "local_ended",
            "method",
            "remote_ended",
            "request_headers",
            "scheme",
            "stream_id",
        )

        def __init__(self, stream_id: int, request_headers: list[tuple[bytes, bytes]]) -> None:
            self.stream_id = stream_id
            self.request_headers = request_headers
            pseudo: dict[bytes, bytes] = {}
            for name, value in request_headers:
                if name[:1] == b":":
                    pseudo.setdefault(name, value)
            self.method = pseudo.get(b":method", b"")
            self.scheme = pseudo.get(b":scheme", b"")
            self.authority = pseudo.get(b":authority", b"")
            self.handler: Handler | None = None
            self.body: memoryview | None = None
            self.remote_ended = False
            self.local_ended = False
            self.closed = False

    class Handler:
        """One request stream, built as h2lite's RequestHandler is."""

        def __init__(self, protocol: H2Protocol, stream_id: int) -> None:
            self.protocol = protocol
            self.stream_id = stream_id
            self._stream = stream = protocol.streams[stream_id]
            self.headers = list(stream.request_headers)
            self.method = stream.method.decode("utf-8", "surrogateescape")
            self.scheme = stream.scheme.decode("utf-8", "surrogateescape")
            self.authority = stream.authority.decode("utf-8", "surrogateescape")
            path = next((v for n, v in stream.request_headers if n == b":path"), b"")
            self.path = path.decode("utf-8", "surrogateescape")
            self.client_address = protocol.client_address

        def on_headers(self) -> None:
            pass

        def on_data(self, data: bytes) -> None:
            pass

        def on_request_done(self) -> None:
            self.protocol.send_response(self._stream, 200, RESPONSE_FIELDS, BODY)

    class H2Protocol(asyncio.Protocol):
        def __init__(self) -> None:
            self.conn = h2.connection.H2Connection(config=config)
            self.transport: asyncio.Transport | None = None
            self.client_address: Any = ("", 0)
            self.streams: dict[int, StreamState] = {}
            self.sending: dict[int, StreamState] = {}
            self.loop = asyncio.get_running_loop()
            self.flush_handle: asyncio.Handle | None = None

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.client_address = transport.get_extra_info("peername")
            self.conn.initiate_connection()
            # As h2lite.aio's default: a 1 MiB connection receive window.
            self.conn.increment_flow_control_window(connection_window - 65535)
            self.flush()

        def data_received(self, data: bytes) -> None:
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                self.flush()
                assert self.transport is not None
                self.transport.close()
                return
            self.dispatch(events)
            self.flush()

        def dispatch(self, events: list[Any]) -> None:
            for event in events:
                kind = type(event)
                if kind is h2.events.DataReceived:
                    self.on_data(event.stream_id, event.data, event.flow_controlled_length)
                elif kind is h2.events.RequestReceived:
                    self.on_request(event.stream_id, list(event.headers))
                elif kind is h2.events.StreamEnded:
                    self.on_stream_ended(event.stream_id)
                elif kind is h2.events.StreamReset:
                    stream = self.streams.get(event.stream_id)
                    if stream is not None:
                        self.close_stream(stream)
                elif kind is h2.events.ConnectionTerminated:
                    assert self.transport is not None
                    self.transport.close()

        def on_request(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
            stream = StreamState(stream_id, headers)
            self.streams[stream_id] = stream
            stream.handler = Handler(self, stream_id)
            stream.handler.on_headers()

        def on_data(self, stream_id: int, data: bytes, flow_controlled_length: int) -> None:
            stream = self.streams.get(stream_id)
            try:
                if stream is not None and stream.handler is not None:
                    stream.handler.on_data(data)
            finally:
                # Credit the data back once consumed (manual flow control, as h2lite.aio).
                if flow_controlled_length:
                    self.conn.acknowledge_received_data(flow_controlled_length, stream_id)

        def on_stream_ended(self, stream_id: int) -> None:
            stream = self.streams.get(stream_id)
            if stream is None:
                return
            stream.remote_ended = True
            if stream.handler is not None:
                stream.handler.on_request_done()
            if stream.local_ended:
                self.close_stream(stream)

        def send_response(self, stream: StreamState, status: int, headers: Any, body: bytes) -> None:
            fields = [(b":status", str(status).encode("ascii"))]
            fields.extend(headers)
            if body and not any(name == b"content-length" for name, _ in fields):
                fields.append((b"content-length", str(len(body)).encode("ascii")))
            self.conn.send_headers(stream.stream_id, fields, end_stream=not body)
            if body:
                stream.body = memoryview(body)
                self.sending[stream.stream_id] = stream
            else:
                self.local_end(stream)
            self.schedule_flush()

        def schedule_flush(self) -> None:
            if self.flush_handle is None:
                self.flush_handle = self.loop.call_soon(self.flush)

        def release_bodies(self) -> None:
            """Send queued bodies as far as the windows and the round's budget allow."""
            budget = write_batch
            conn = self.conn
            for stream_id, stream in list(self.sending.items()):
                body = stream.body
                assert body is not None
                while body and budget > 0:
                    size = min(len(body), conn.local_flow_control_window(stream_id),
                               conn.max_outbound_frame_size, budget)
                    if size <= 0:
                        break
                    end = size == len(body)
                    conn.send_data(stream_id, body[:size].tobytes(), end_stream=end)
                    body = body[size:]
                    budget -= size
                stream.body = body
                if not body:
                    del self.sending[stream_id]
                    self.local_end(stream)

        def local_end(self, stream: StreamState) -> None:
            stream.local_ended = True
            stream.body = None
            if stream.remote_ended:
                self.close_stream(stream)

        def close_stream(self, stream: StreamState) -> None:
            if stream.closed:
                return
            stream.closed = True
            self.streams.pop(stream.stream_id, None)
            self.sending.pop(stream.stream_id, None)

        def flush(self) -> None:
            if self.flush_handle is not None:
                self.flush_handle.cancel()
                self.flush_handle = None
            transport = self.transport
            if transport is None or transport.is_closing():
                return
            if self.sending:
                self.release_bodies()
            out = self.conn.data_to_send()
            if out:
                transport.write(out)

    return H2Protocol


async def serve_h2(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(h2_server_protocol(), "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]} h2", flush=True)
    async with server:
        await server.serve_forever()


# --------------------------------------------------------------------------- the h2lite server


async def serve_h2lite(port: int) -> None:
    import h2lite
    from h2lite.aio.server import RequestHandler, serve

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            self.send_response(status=200, headers=RESPONSE_FIELDS, body=BODY)

    server = await serve(Handler, host="127.0.0.1", port=port)
    print(f"PORT {server.port} {h2lite.BACKEND}", flush=True)
    async with server:
        await server.serve_forever()


# --------------------------------------------------------------------------- the harness


@dataclass
class Target:
    """One server under test."""

    key: str
    kind: str  # "h2" or "h2lite"
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    port: int = 0
    backend: str = ""
    rates: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "h2" if self.kind == "h2" else f"h2lite {self.backend}"


class L1Error(Exception):
    """A server or an h2load run went wrong; no figure is reported for it."""


def start(target: Target) -> None:
    env = {**os.environ, **target.env}
    env["PYTHONPATH"] = _SRC + os.pathsep + env.get("PYTHONPATH", "")
    target.process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", target.kind],
        stdout=subprocess.PIPE, env=env, text=True,
    )
    assert target.process.stdout is not None
    line = target.process.stdout.readline()
    match = re.match(r"PORT (\d+) (\w+)", line)
    if not match:
        stop(target)
        raise L1Error(f"the {target.key} server did not start (printed {line!r})")
    target.port = int(match.group(1))
    target.backend = match.group(2)


def stop(target: Target) -> None:
    if target.process is None:
        return
    target.process.terminate()
    try:
        target.process.wait(5)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait()


def h2load(port: int, requests: int, clients: int, streams: int, timeout: float) -> float:
    """Run h2load once; requests/s, or L1Error unless every request got a 2xx."""
    command = ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), "-t", "1",
               f"http://127.0.0.1:{port}/"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise L1Error(f"h2load did not finish within {timeout:.0f} s") from None
    return parse_h2load(done.stdout, requests)


def parse_h2load(output: str, requests: int) -> float:
    """requests/s from h2load's report, checking every request succeeded with a 2xx."""
    rate = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", output)
    succeeded = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", output)
    codes = re.search(r"status codes: (\d+) 2xx", output)
    if not (rate and succeeded and codes):
        raise L1Error(f"cannot read h2load's report:\n{output}")
    if int(succeeded.group(1)) != requests or int(codes.group(1)) != requests:
        raise L1Error(f"not every request succeeded with a 2xx:\n{output}")
    return float(rate.group(1))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark L1: h2lite's asyncio server against h2's under h2load.")
    p.add_argument("-n", "--requests", type=int, default=100_000, help="requests per h2load run")
    p.add_argument("-c", "--clients", type=int, default=10, help="h2load -c")
    p.add_argument("-m", "--streams", type=int, default=10, help="h2load -m")
    p.add_argument("--repeat", type=int, default=5, help="measured runs per server (median reported)")
    p.add_argument("--backends", default="python,c",
                   help="h2lite backends to measure, comma-separated (python, c)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one h2load run may take")
    p.add_argument("--json", metavar="PATH", help="also write every rate as JSON")
    p.add_argument("--serve", choices=["h2", "h2lite"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def make_targets(backends: list[str]) -> list[Target]:
    targets = [Target("h2", "h2", {})]
    for backend in backends:
        if backend == "python":
            targets.append(Target("h2lite-python", "h2lite", {"H2LITE_NO_EXTENSIONS": "1"}))
        elif backend == "c":
            targets.append(Target("h2lite-c", "h2lite", {"H2LITE_REQUIRE_EXTENSIONS": "1"}))
        else:
            raise L1Error(f"unknown backend {backend!r} (python or c)")
    return targets


def measure(args: argparse.Namespace) -> list[Target]:
    targets = make_targets([b for b in args.backends.split(",") if b])
    try:
        for target in targets:
            start(target)
        warmup = max(args.requests // 10, 1)
        for target in targets:
            h2load(target.port, warmup, args.clients, args.streams, args.timeout)
        for round_ in range(args.repeat):
            shift = round_ % len(targets)
            for target in targets[shift:] + targets[:shift]:
                rate = h2load(target.port, args.requests, args.clients, args.streams, args.timeout)
                target.rates.append(rate)
                print(f"  run {round_ + 1}: {target.label:<14} {rate:>10,.0f} req/s", file=sys.stderr)
    finally:
        for target in targets:
            stop(target)
    return targets


def report(targets: list[Target], args: argparse.Namespace) -> str:
    """The table: median req/s, its ratio to h2's, and the median of the per-round ratios.

    The per-round ratio divides each run by the h2 run of the same round, so a
    load change on the machine between rounds cancels out.
    """
    baseline = targets[0]
    base_median = statistics.median(baseline.rates)
    title = (f"L1: h2load -n {args.requests} -c {args.clients} -m {args.streams} -t 1, "
             f"median of {args.repeat} (this machine's figures)")
    lines = [title, f"{'server':<16}{'req/s':>12}{'vs h2':>9}{'per round':>11}"]
    for target in targets:
        median = statistics.median(target.rates)
        paired = statistics.median(r / b for r, b in zip(target.rates, baseline.rates))
        lines.append(f"{target.label:<16}{median:>12,.0f}{median / base_median:>8.2f}x{paired:>10.2f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve == "h2":
        asyncio.run(serve_h2(args.port))
        return 0
    if args.serve == "h2lite":
        asyncio.run(serve_h2lite(args.port))
        return 0
    if shutil.which("h2load") is None:
        print("l1: h2load not found (Debian package nghttp2-client)", file=sys.stderr)
        return 1
    if args.repeat < 1 or args.requests < 1:
        print("l1: --repeat and -n must be at least 1", file=sys.stderr)
        return 1
    try:
        targets = measure(args)
    except L1Error as exc:
        print(f"l1: {exc}", file=sys.stderr)
        return 1
    print(report(targets, args))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({
                "command": f"h2load -n {args.requests} -c {args.clients} -m {args.streams} -t 1",
                "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "rates": {t.label: t.rates for t in targets},
                "medians": {t.label: statistics.median(t.rates) for t in targets},
                "per_round_ratios": {
                    t.label: [r / b for r, b in zip(t.rates, targets[0].rates)] for t in targets},
            }, out, indent=2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
