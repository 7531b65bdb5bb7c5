"""The command line: ``python -m h2lite serve | get | bench``.

``serve`` runs the asyncio server over a directory (see :mod:`h2lite._cli_serve`),
``get`` runs the asyncio client (see :mod:`h2lite._cli_get`), ``bench`` hands its
arguments to :func:`h2lite._bench.main`.

Whatever goes wrong that is not a bug in h2lite (bad arguments, a refused
connection, a TLS failure, a peer breaking the protocol) ends with one line on
stderr and a non-zero exit status, never a traceback. Ctrl-C exits quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import importlib
import os
import socket
import ssl
import sys
from collections.abc import Sequence
from typing import NoReturn

PROG = "python -m h2lite"

#: Exit statuses.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UsageError(Exception):
    """An argument that parsed but makes no sense (exit status 2)."""


class CommandError(Exception):
    """A failure already phrased for the user (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: what is wrong and where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser for all subcommands (``bench`` only for its help line)."""
    parser = _Parser(
        prog=PROG,
        description="HTTP/2 from the command line: a file server, a client, benchmarks.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"h2lite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve a directory over HTTP/2",
        description=(
            "Serve the files under DIR over HTTP/2 (cleartext with prior knowledge or "
            "Upgrade: h2c, or TLS with ALPN h2), with an index page for directories, "
            "and /echo, which answers any request with its own body."
        ),
    )
    serve.add_argument("directory", nargs="?", default=".", metavar="DIR",
                       help="directory to serve (default: the current one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080,
                       help="port to listen on, 0 for any free one (default: 8080)")
    serve.add_argument("--tls-cert", metavar="FILE", help="certificate chain (PEM): serve TLS")
    serve.add_argument("--tls-key", metavar="FILE", help="private key (PEM) of --tls-cert")
    serve.add_argument("--push", nargs=2, action="append", default=[], metavar=("PAGE", "RESOURCE"),
                       help="when PAGE is requested, push RESOURCE with it (repeatable)")
    serve.add_argument("-v", "--verbose", action="store_true",
                       help="log every request on stderr")

    get = commands.add_parser(
        "get",
        help="make HTTP/2 requests",
        description=(
            "Request URL over HTTP/2 (https: TLS with ALPN h2; http: cleartext with "
            "prior knowledge) and write the response body to stdout or FILE."
        ),
    )
    get.add_argument("url", metavar="URL")
    get.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE")
    get.add_argument("-i", "--include", action="store_true",
                     help="print the status and response headers first")
    get.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                     help="add a request header (repeatable)")
    get.add_argument("-d", "--data", metavar="DATA",
                     help="request body (makes the method POST); @FILE reads a file, @- stdin")
    get.add_argument("-X", "--method", help="request method (default: GET, or POST with -d)")
    get.add_argument("-n", "--requests", type=_positive, default=1, metavar="N",
                     help="make N requests and print a summary instead of the body")
    get.add_argument("-c", "--concurrency", type=_positive, default=1, metavar="C",
                     help="with -n: at most C requests in flight on the one connection")
    get.add_argument("-k", "--insecure", action="store_true",
                     help="do not verify the server's certificate")
    get.add_argument("--cacert", metavar="FILE", help="trust the CA certificates in FILE (PEM)")
    get.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                     help="give up connecting, or waiting for a response's headers, after this long "
                          "(default: 30)")
    get.add_argument("-s", "--silent", action="store_true", help="no progress bar")

    commands.add_parser(
        "bench",
        help="run the in-memory benchmarks (see 'bench --help')",
        add_help=False,
    )
    return parser


# -- argument types ------------------------------------------------------------


def _port(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, not {value}")
    return value


def _positive(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


# -- entry point ---------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return the process exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["bench"]:
            return _bench(args_list[1:])
        try:
            args = build_parser().parse_args(args_list)
        except SystemExit as exc:  # --help, --version, usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
        if args.command == "serve":
            from ._cli_serve import run_serve

            return run_serve(args)
        from ._cli_get import run_get

        return run_get(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep the
        # interpreter's final flush of stdout from complaining about it.
        _silence_stdout()
        return EXIT_FAILURE
    except UsageError as exc:
        return _fail(f"{PROG} {args_list[0]}: error: {exc}", EXIT_USAGE)
    except CommandError as exc:
        return _fail(f"h2lite: {exc}", EXIT_FAILURE)


def _bench(argv: list[str]) -> int:
    try:
        _bench = importlib.import_module("h2lite._bench")
    except ModuleNotFoundError as exc:
        if exc.name != "h2lite._bench":
            raise
        return _fail("h2lite: 'bench' is not available in this installation (no h2lite._bench)",
                     EXIT_FAILURE)
    result = _bench.main(argv)
    return int(result or 0)


def _fail(line: str, status: int) -> int:
    print(line, file=sys.stderr, flush=True)
    return status


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def describe_error(exc: BaseException, where: str) -> str:
    """One line saying what failed, for an exception raised while talking to ``where``.

    Args:
        exc: What was raised (a network, TLS, timeout or h2lite error).
        where: The peer or address, e.g. ``"127.0.0.1:8080"``.
    """
    from .exceptions import H2LiteError, ProtocolError

    cause = exc.__cause__
    if isinstance(exc, H2LiteError) and isinstance(cause, (OSError, H2LiteError)):
        # The asyncio client wraps what failed underneath (ConnectError): say that.
        return describe_error(cause, where)
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        return f"{where}: TLS certificate verification failed: {reason}"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS error: {getattr(exc, 'reason', None) or exc}"
    if isinstance(exc, socket.gaierror):
        return f"{where}: cannot resolve the host name: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return _at(where, str(exc) or "timed out")
    if isinstance(exc, OSError):
        if exc.errno == errno.EADDRINUSE:
            return f"{where}: address already in use"
        return f"{where}: {exc.strerror or exc}"
    if isinstance(exc, ProtocolError):
        code = getattr(exc.error_code, "name", exc.error_code)
        return _at(where, f"HTTP/2 error ({code}): {exc or type(exc).__name__}")
    if isinstance(exc, H2LiteError):
        return _at(where, str(exc) or type(exc).__name__)
    return _at(where, f"{type(exc).__name__}: {exc}")


def _at(where: str, text: str) -> str:
    """``text`` prefixed with the peer, unless it already names it."""
    return text if where in text else f"{where}: {text}"
