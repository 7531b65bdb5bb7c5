"""``python -m h2lite serve``: a small static file server on :mod:`h2lite.aio.server`.

Serves the files under one directory (GET and HEAD), an index page for
directories, and ``/echo``, which answers any method with the request's own
body. Paths are resolved so that nothing outside the directory can be read:
``..`` segments are refused and symbolic links must stay inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import html
import mimetypes
import os
import signal
import ssl
import sys
import urllib.parse
from collections.abc import Iterable
from typing import Any, BinaryIO

from .cli import CommandError, UsageError, describe_error

#: Request bodies /echo buffers at most; beyond it the answer is 413.
ECHO_LIMIT = 64 * 1024 * 1024
ECHO_PATH = "/echo"

Headers = list[tuple[bytes, bytes]]


class Reply:
    """What to answer: status, headers and a body (bytes or an open file)."""

    __slots__ = ("body", "headers", "size", "status")

    def __init__(self, status: int, headers: Headers, body: bytes | BinaryIO | None, size: int) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.size = size

    def close(self) -> None:
        """Close the file body of a reply that will not be sent."""
        if self.body is not None and not isinstance(self.body, bytes):
            self.body.close()


def text_reply(status: int, text: str, extra: Headers | None = None) -> Reply:
    """A short ``text/plain`` answer (errors, redirects)."""
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    return Reply(status, headers, body, len(body))


class FileTree:
    """Maps request paths to files under ``root``, refusing anything outside it."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def resolve(self, request_path: str) -> str | None:
        """The file system path for a request path, or None if it must not be served.

        The query and fragment are dropped and %-escapes decoded. A ``..``
        segment, a NUL byte, a path that is not absolute, or one that leads
        (through symbolic links too) outside the root gives None.
        """
        path = request_path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("/"):
            return None
        try:
            decoded = urllib.parse.unquote(path, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in decoded:
            return None
        parts = [part for part in decoded.split("/") if part not in ("", ".")]
        if ".." in parts:
            return None
        real = os.path.realpath(os.path.join(self.root, *parts))
        if real != self.root and not real.startswith(self.root.rstrip(os.sep) + os.sep):
            return None
        return real

    def reply(self, method: str, request_path: str) -> Reply:
        """The answer to a GET or HEAD of ``request_path`` (a file is left open)."""
        target = self.resolve(request_path)
        if target is None or not os.path.exists(target):
            return text_reply(404, "not found\n")
        if os.path.isdir(target):
            path = request_path.split("?", 1)[0]
            if not path.endswith("/"):
                # Relative links in the index only work below a trailing slash.
                return text_reply(301, "moved\n", [(b"location", (path + "/").encode())])
            index = os.path.join(target, "index.html")
            if os.path.isfile(index):
                target = index
            else:
                return self._listing(target, path)
        try:
            # Not a with-block: the server reads the file as the client takes it, then closes it.
            handle = open(target, "rb")  # noqa: SIM115
        except PermissionError:
            return text_reply(403, "forbidden\n")
        except OSError:
            return text_reply(404, "not found\n")
        size = os.fstat(handle.fileno()).st_size
        headers = [
            (b"content-type", content_type(target).encode()),
            (b"content-length", str(size).encode()),
            (b"last-modified", email.utils.formatdate(os.path.getmtime(target), usegmt=True).encode()),
        ]
        if method == "HEAD":
            handle.close()
            return Reply(200, headers, None, size)
        return Reply(200, headers, handle, size)

    def _listing(self, directory: str, url_path: str) -> Reply:
        try:
            names = sorted(os.listdir(directory))
        except PermissionError:
            return text_reply(403, "forbidden\n")
        body = index_page(url_path, ((name, os.path.isdir(os.path.join(directory, name))) for name in names))
        headers = [(b"content-type", b"text/html; charset=utf-8"),
                   (b"content-length", str(len(body)).encode())]
        return Reply(200, headers, body, len(body))


def content_type(filename: str) -> str:
    """The media type for a file name, ``application/octet-stream`` if unknown."""
    kind, encoding = mimetypes.guess_type(filename, strict=False)
    if kind is None or encoding is not None:
        # A .gz served as-is is gzip data, not the type it would unpack to.
        return "application/octet-stream"
    if kind == "text/html":
        return "text/html; charset=utf-8"
    return kind


def index_page(url_path: str, entries: Iterable[tuple[str, bool]]) -> bytes:
    """An HTML list of a directory's ``(name, is_directory)`` entries."""
    title = html.escape(urllib.parse.unquote(url_path))
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>Index of {title}</title></head>",
        f"<body><h1>Index of {title}</h1><ul>",
    ]
    if url_path != "/":
        lines.append('<li><a href="../">../</a></li>')
    for name, is_dir in entries:
        shown = name + "/" if is_dir else name
        href = urllib.parse.quote(shown)
        lines.append(f'<li><a href="{html.escape(href)}">{html.escape(shown)}</a></li>')
    lines.append("</ul></body></html>")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def make_handler(tree: FileTree, pushes: dict[str, list[str]], log: bool) -> type[Any]:
    """A :class:`~h2lite.aio.server.RequestHandler` subclass serving ``tree``.

    Args:
        tree: The files.
        pushes: Page path -> resource paths pushed along with it.
        log: Write one line per request to stderr.
    """
    from .aio.server import RequestHandler

    class FileHandler(RequestHandler):
        def on_headers(self) -> None:
            self.is_echo = self.path.split("?", 1)[0] == ECHO_PATH
            self.echo_body = bytearray()
            self.echo_overflow = False

        def on_data(self, data: bytes) -> None:
            if not self.is_echo or self.echo_overflow:
                return
            if len(self.echo_body) + len(data) > ECHO_LIMIT:
                # Keep memory bounded: stop buffering, answer 413 at the end.
                self.echo_overflow = True
                self.echo_body = bytearray()
                return
            self.echo_body += data

        def on_request_done(self) -> None:
            reply = self.answer()
            if log:
                print(f"{self.client_address[0]} {self.method} {self.path} {reply.status} {reply.size}",
                      file=sys.stderr, flush=True)
            self.send_response(status=reply.status, headers=reply.headers, body=reply.body)

        def on_close(self, error_code: int) -> None:
            pass

        def answer(self) -> Reply:
            if self.is_echo:
                return self.echo()
            path = self.path.split("?", 1)[0]
            if self.method not in ("GET", "HEAD"):
                return text_reply(405, "method not allowed\n", [(b"allow", b"GET, HEAD")])
            reply = tree.reply(self.method, self.path)
            if self.method == "GET" and reply.status == 200 and path in pushes:
                for resource in pushes[path]:
                    self.push_file(resource)
            return reply

        def echo(self) -> Reply:
            if self.echo_overflow:
                return text_reply(413, f"/echo takes at most {ECHO_LIMIT} bytes\n")
            kind = b"application/octet-stream"
            for name, value in self.headers:
                if name == b"content-type":
                    kind = value
            body = bytes(self.echo_body)
            headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
            return Reply(200, headers, None if self.method == "HEAD" else body, len(body))

        def push_file(self, resource: str) -> None:
            reply = tree.reply("GET", resource)
            if reply.status != 200:
                reply.close()
                return
            # False if the client disabled push (RFC 9113 §8.4); the server then closes the file.
            self.push(resource, status=200, headers=reply.headers, body=reply.body)

    return FileHandler


def parse_pushes(pairs: list[list[str]]) -> dict[str, list[str]]:
    """``--push PAGE RESOURCE`` pairs as page -> resources; both must be absolute paths."""
    pushes: dict[str, list[str]] = {}
    for page, resource in pairs:
        for path in (page, resource):
            if not path.startswith("/"):
                raise UsageError(f"--push paths start with '/': {path!r}")
        pushes.setdefault(page, []).append(resource)
    return pushes


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files, or None for cleartext."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--tls-cert and --tls-key go together")
    for path in (cert, key):
        if not os.path.isfile(path):
            raise CommandError(f"cannot read {path}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise CommandError(f"cannot load the certificate {cert} and key {key}: {exc}") from None
    return context


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


def banner(directory: str, host: str, port: int, tls: bool) -> str:
    """The one line ``serve`` prints: where it listens and a curl command to try."""
    scheme = "https" if tls else "http"
    url = f"{scheme}://{url_host(host)}:{port}/"
    local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try_url = f"{scheme}://{url_host(local)}:{port}/"
    curl = f"curl --http2 -k {try_url}" if tls else f"curl --http2-prior-knowledge {try_url}"
    return f"Serving {directory} on {url} over HTTP/2 (try: {curl})"


async def start(args: argparse.Namespace) -> Any:
    """Check ``args``, start listening and return the :class:`~h2lite.aio.server.Server`."""
    if not os.path.isdir(args.directory):
        raise UsageError(f"not a directory: {args.directory}")
    pushes = parse_pushes(args.push)
    context = tls_context(args.tls_cert, args.tls_key)
    from .aio.server import serve

    handler = make_handler(FileTree(args.directory), pushes, args.verbose)
    where = f"{url_host(args.host)}:{args.port}"
    try:
        return await serve(handler, host=args.host, port=args.port, ssl=context)
    except OSError as exc:
        raise CommandError(f"cannot listen on {describe_error(exc, where)}") from None


async def serve_until_stopped(args: argparse.Namespace) -> None:
    """Serve until SIGTERM (graceful close) or cancellation (Ctrl-C)."""
    server = await start(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Unix
        pass
    print(banner(os.path.abspath(args.directory), args.host, server.port, args.tls_cert is not None),
          flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def run_serve(args: argparse.Namespace) -> int:
    """``serve``: run until stopped; the exit status."""
    asyncio.run(serve_until_stopped(args))
    return 0
