"""``python -m h2lite get``: requests with :mod:`h2lite.aio.client`.

One request writes the body to stdout or a file (``-i`` prints the status and
headers first, a progress bar goes to stderr when it is a terminal); ``-n N -c
C`` makes N requests, at most C at once, on one connection and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

from .cli import CommandError, UsageError, describe_error

Headers = list[tuple[bytes, bytes]]

#: What a failed request can raise, besides h2lite's own errors.
NETWORK_ERRORS = (OSError, asyncio.TimeoutError, TimeoutError, EOFError)


@dataclass
class Plan:
    """A checked ``get`` command line."""

    origin: str
    where: str
    path: str
    method: str
    headers: Headers
    body: bytes | None
    tls: ssl.SSLContext | bool | None  # the ``ssl`` argument of connect()
    timeout: float
    requests: int
    concurrency: int
    output: str | None
    include: bool
    progress: bool


def parse_header(text: str) -> tuple[bytes, bytes]:
    """``'Name: value'`` as a lower-case field (RFC 9113 §8.2.1 names are lower case)."""
    if text.startswith(":"):
        raise UsageError(f"pseudo-header fields come from the URL and -X, not -H: {text!r}")
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name:
        raise UsageError(f"a header is 'name: value', not {text!r}")
    return name.lower().encode(), os.fsencode(value.strip())


def read_data(data: str) -> bytes:
    """The ``-d`` argument: text, ``@FILE`` or ``@-`` (stdin)."""
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        try:
            with open(data[1:], "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {data[1:]}: {exc.strerror or exc}") from None
    return os.fsencode(data)


def client_tls(args: argparse.Namespace) -> ssl.SSLContext | bool | None:
    """The ``ssl`` argument for :func:`h2lite.aio.client.connect`."""
    if args.insecure:
        return False
    if args.cacert is None:
        return None
    if not os.path.isfile(args.cacert):
        raise CommandError(f"cannot read {args.cacert}: no such file")
    try:
        return ssl.create_default_context(cafile=args.cacert)
    except (OSError, ssl.SSLError) as exc:
        raise CommandError(f"cannot load CA certificates from {args.cacert}: {exc}") from None


def plan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> Plan:
    """Check the arguments of ``get``; UsageError for what makes no sense."""
    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ("http", "https"):
        raise UsageError(f"the URL must start with http:// or https://: {args.url!r}")
    try:
        host, port = url.hostname, url.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise UsageError(f"bad URL {args.url!r}: {exc}") from None
    if not host:
        raise UsageError(f"no host in the URL {args.url!r}")
    if args.requests > 1 and (args.output or args.include):
        raise UsageError("-o and -i show one response; with -n the bodies are counted, not kept")
    port = port or (443 if url.scheme == "https" else 80)
    shown_host = f"[{host}]" if ":" in host else host
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    body = read_data(args.data) if args.data is not None else None
    method = args.method or ("POST" if body is not None else "GET")
    to_terminal = args.output is None and _isatty(stdout)
    return Plan(
        origin=f"{url.scheme}://{shown_host}:{port}",
        where=f"{shown_host}:{port}",
        path=path,
        method=method,
        headers=[parse_header(text) for text in args.header],
        body=body,
        tls=client_tls(args) if url.scheme == "https" else None,
        timeout=args.timeout,
        requests=args.requests,
        concurrency=min(args.concurrency, args.requests),
        output=args.output,
        include=args.include,
        progress=(not args.silent and args.requests == 1 and method != "HEAD"
                  and not to_terminal and _isatty(stderr)),
    )


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_get(args: argparse.Namespace) -> int:
    """``get``: the exit status (0, or 1 if a request of ``-n`` failed)."""
    p = plan(args, sys.stdout, sys.stderr)
    return asyncio.run(fetch(p, sys.stdout, sys.stderr))


async def fetch(p: Plan, stdout: TextIO, stderr: TextIO) -> int:
    """Connect, make the requests of ``p`` and write what they returned."""
    from .aio.client import connect
    from .exceptions import H2LiteError

    try:
        async with connect(p.origin, ssl=p.tls, timeout=p.timeout) as client:
            if p.requests == 1:
                return await fetch_one(client, p, stdout, stderr)
            return await fetch_many(client, p, stdout)
    except BrokenPipeError:
        raise  # our reader went away (``| head``), not the server: main() stays quiet
    except (H2LiteError, *NETWORK_ERRORS) as exc:
        raise CommandError(describe_error(exc, p.where)) from None


async def request(client: Any, p: Plan) -> Any:
    """Send the request; wait at most ``p.timeout`` for the response's header block.

    The body may then take as long as it takes: a long download is not a hang.
    """
    return await asyncio.wait_for(
        client.request(p.method, p.path, headers=p.headers, body=p.body), p.timeout)


async def fetch_one(client: Any, p: Plan, stdout: TextIO, stderr: TextIO) -> int:
    """One request: head (with ``-i``) to stdout, body to stdout or ``-o``."""
    response = await request(client, p)
    out = stdout.buffer if hasattr(stdout, "buffer") else None
    if p.include:
        head = [f"HTTP/2 {response.status}"]
        head += [f"{_text(name)}: {_text(value)}" for name, value in response.headers]
        stdout.write("\n".join(head) + "\n\n")
        stdout.flush()
    with contextlib.ExitStack() as stack:
        sink: BinaryIO | None = None
        if p.output is not None:
            try:
                sink = stack.enter_context(open(p.output, "wb"))  # noqa: ASYNC230 - local file
            except OSError as exc:
                raise CommandError(f"cannot write {p.output}: {exc.strerror or exc}") from None
        progress = Progress(stderr, _content_length(response.headers)) if p.progress else None
        if progress is not None:
            stack.callback(progress.finish)
        async for chunk in response:
            if sink is not None:
                sink.write(chunk)
            elif out is not None:
                out.write(chunk)
            else:
                stdout.write(chunk.decode("utf-8", "replace"))
            if progress is not None:
                progress.update(len(chunk))
    if p.include and response.trailers:
        stdout.flush()
        stdout.write("".join(f"{_text(n)}: {_text(v)}\n" for n, v in response.trailers))
    if out is not None:
        out.flush()
    stdout.flush()
    return 0


async def fetch_many(client: Any, p: Plan, stdout: TextIO) -> int:
    """``-n``/``-c``: N requests, C at a time, then a summary on stdout."""
    from .exceptions import H2LiteError

    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    received = 0
    numbers = iter(range(p.requests))  # shared by the workers: each takes the next

    async def worker() -> None:
        nonlocal received
        for _ in numbers:
            try:
                response = await request(client, p)
                async for chunk in response:
                    received += len(chunk)
            except (H2LiteError, *NETWORK_ERRORS) as exc:
                errors[describe_error(exc, p.where)] += 1
            else:
                statuses[response.status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(p.concurrency)))
    elapsed = time.perf_counter() - started
    stdout.write(summary(p.requests, p.concurrency, elapsed, statuses, errors, received))
    stdout.flush()
    return 1 if errors else 0


def summary(requests: int, concurrency: int, elapsed: float, statuses: Counter[int],
            errors: Counter[str], received: int) -> str:
    """The report of ``-n``: counts, statuses, errors and the request rate."""
    done = sum(statuses.values())
    rate = done / elapsed if elapsed > 0 else 0.0
    headline = (f"{requests} requests, {concurrency} at a time on one connection: "
                f"{done} answered in {elapsed:.3f} s, {rate:.1f} requests/s")
    lines = [
        headline,
        "statuses: " + (", ".join(f"{status} x {count}" for status, count in sorted(statuses.items()))
                        or "none"),
        f"body bytes received: {received}",
        f"errors: {sum(errors.values())}",
    ]
    lines += [f"  {count} x {text}" for text, count in errors.most_common()]
    return "\n".join(lines) + "\n"


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _content_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name in (b"content-length", "content-length"):
            try:
                return int(value)
            except ValueError:
                return None
    return None


def human(size: float) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``3.0 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


class Progress:
    """A one-line progress bar on a terminal, shown once a download takes a while.

    Args:
        stream: Where to draw (stderr).
        total: The expected size (content-length), or None if unknown.
        clock: Seconds, monotonic.
        delay: Nothing is drawn for downloads shorter than this.
        interval: Redraw at most this often.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int | None, clock: Any = time.monotonic,
                 delay: float = 0.5, interval: float = 0.1) -> None:
        self.stream = stream
        self.total = total
        self.clock = clock
        self.delay = delay
        self.interval = interval
        self.started = clock()
        self.done = 0
        self.drawn_at: float | None = None
        self.drawn_width = 0

    def update(self, size: int) -> None:
        """Count ``size`` more bytes and redraw if it is time to."""
        self.done += size
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.drawn_at is not None and now - self.drawn_at < self.interval:
            return
        self.draw(self.render(now))
        self.drawn_at = now

    def render(self, now: float) -> str:
        """The bar for the bytes counted so far, at time ``now``."""
        elapsed = now - self.started
        rate = f"{human(self.done / elapsed)}/s" if elapsed > 0 else ""
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            return f"{fraction * 100:3.0f}% [{bar}] {human(self.done)} / {human(self.total)}  {rate}"
        return f"{human(self.done)}  {rate}"

    def draw(self, line: str) -> None:
        self.stream.write("\r" + line.ljust(self.drawn_width))
        self.stream.flush()
        self.drawn_width = len(line)

    def finish(self) -> None:
        """Erase the bar, if one was drawn."""
        if self.drawn_at is not None:
            self.stream.write("\r" + " " * self.drawn_width + "\r")
            self.stream.flush()
