"""Fixtures for the interop tests: peers, certificates, a site, servers as processes.

Each external peer has one fixture that finds it on PATH. When it is missing
the test is skipped with a message, except under ``CI=true``, where a missing
peer fails the run (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"
SRC = HERE.parent.parent / "src"

#: Size of the large test file, chosen to need several WINDOW_UPDATEs.
BIG_SIZE = 3 * 1024 * 1024 + 123


def require(tool: str) -> str:
    """The path of an interop peer; skip (or, under CI, fail) if it is missing."""
    path = shutil.which(tool)
    if path is None:
        message = f"interop peer {tool!r} is not installed (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def curl() -> str:
    return require("curl")


@pytest.fixture(scope="session")
def nghttp() -> str:
    return require("nghttp")


@pytest.fixture(scope="session")
def nghttpd() -> str:
    return require("nghttpd")


@pytest.fixture(scope="session")
def h2load() -> str:
    return require("h2load")


@pytest.fixture(scope="session")
def node() -> str:
    return require("node")


# -- certificates ---------------------------------------------------------------


@dataclass
class TLSFiles:
    """A private CA and a server certificate for 127.0.0.1 and localhost, as PEM files."""

    ca: Path
    cert: Path  # the server's chain
    key: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.set_alpn_protocols(["h2"])
        return context

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    where = tmp_path_factory.mktemp("tls")
    files = TLSFiles(ca=where / "ca.pem", cert=where / "cert.pem", key=where / "key.pem")
    ca.cert_pem.write_to_path(str(files.ca))
    leaf.private_key_pem.write_to_path(str(files.key))
    with open(files.cert, "wb") as out:
        out.writelines(blob.bytes() for blob in leaf.cert_chain_pems)
    return files


# -- the site served --------------------------------------------------------------


@dataclass
class Site:
    """A directory of files with known contents."""

    root: Path
    files: dict[str, bytes]  # URL path -> content


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    files = {
        "/index.html": b'<!DOCTYPE html>\n<link rel="stylesheet" href="/style.css">\n<p>h2lite</p>\n',
        "/style.css": b"p { color: teal }\n",
        "/small.txt": b"small file\n",
        "/big.bin": random.Random(7).randbytes(BIG_SIZE),
        "/sub/inner.json": b'{"inner": true}\n',
    }
    for path, content in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    # Outside the served directory: what a path traversal would reach.
    (root.parent / "secret.txt").write_bytes(b"not for the web\n")
    return Site(root, files)


# -- servers in their own processes ---------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now (for peers that cannot pick one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} after {timeout} s") from None
            time.sleep(0.05)


def backend_env(backend: str) -> dict[str, str]:
    """Environment for an h2lite subprocess running on the given backend."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("H2LITE_NO_EXTENSIONS", None)
    env.pop("H2LITE_REQUIRE_EXTENSIONS", None)
    if backend == "python":
        env["H2LITE_NO_EXTENSIONS"] = "1"
    else:
        env["H2LITE_REQUIRE_EXTENSIONS"] = "1"
    return env


@dataclass
class Process:
    """A server started by a test, and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path
    first_line: str = ""

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def start_process(command: list[str], where: Path, env: dict[str, str] | None = None,
                  port: int | None = None, port_pattern: str | None = None) -> Process:
    """Start a server; its port is ``port`` (polled) or read from its first stdout line."""
    stderr_path = where / f"stderr-{time.monotonic_ns()}.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)
    if port is not None:
        wait_for_port(port, process)
        return Process(process, port, stderr_path)
    assert process.stdout is not None and port_pattern is not None
    line = process.stdout.readline().decode(errors="replace")
    match = re.search(port_pattern, line)
    if match is None:
        Process(process, 0, stderr_path).stop()
        raise RuntimeError(f"server printed {line!r}; stderr: {stderr_path.read_text()}")
    return Process(process, int(match.group(1)), stderr_path, line)


SERVE_BANNER = r"on https?://[^ ]+:(\d+)/"


def start_h2lite_serve(site: Site, where: Path, backend: str, *extra: str) -> Process:
    """``python -m h2lite serve`` on ``site`` and a free port."""
    command = [sys.executable, "-m", "h2lite", "serve", str(site.root), "--port", "0", *extra]
    return start_process(command, where, backend_env(backend), port_pattern=SERVE_BANNER)


def stop_clean(server: Process) -> None:
    """Stop a server we started and check it reported no failure of its own."""
    server.stop()
    assert "Traceback" not in server.stderr, server.stderr


@pytest.fixture(scope="module")
def h2lite_server(site: Site, tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Process]:
    """``python -m h2lite serve`` (cleartext) on the site, with a push configured."""
    server = start_h2lite_serve(site, tmp_path_factory.mktemp("serve"), backend,
                                "--push", "/index.html", "/style.css")
    yield server
    stop_clean(server)


@pytest.fixture(scope="module")
def h2lite_tls_server(site: Site, tls_files: TLSFiles, tmp_path_factory: pytest.TempPathFactory,
                      backend: str) -> Iterator[Process]:
    """``python -m h2lite serve`` with TLS on the site."""
    server = start_h2lite_serve(site, tmp_path_factory.mktemp("serve-tls"), backend,
                                "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key))
    yield server
    stop_clean(server)


def run(command: list[str], timeout: float = 30.0, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """Run a peer to completion, output captured."""
    return subprocess.run(command, capture_output=True, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload,no-any-return]
