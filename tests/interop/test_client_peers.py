"""h2lite's asyncio client (and ``python -m h2lite get``) against servers nobody
here wrote: nghttpd (cleartext and TLS, with push and echo) and a Node http2
server (tests/interop/node/server.js).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from h2lite.aio.client import connect

from .conftest import (
    NODE_DIR,
    Process,
    Site,
    TLSFiles,
    backend_env,
    free_port,
    run,
    start_process,
    stop_clean,
)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def pattern(length: int) -> bytes:
    """What server.js sends for /bytes/<length>: byte i is i % 251."""
    return (bytes(range(251)) * (length // 251 + 1))[:length]


async def fetch_all(url: str, paths: list[str], ssl: Any = None) -> list[tuple[int, bytes]]:
    """GET every path concurrently on one connection: (status, body) each."""
    async with connect(url, ssl=ssl, timeout=20) as client:

        async def one(path: str) -> tuple[int, bytes]:
            response = await client.get(path)
            return response.status, await response.read()

        return await asyncio.gather(*(one(path) for path in paths))


async def echo_all(url: str, bodies: list[bytes], ssl: Any = None, path: str = "/echo") -> list[tuple[int, bytes]]:
    """POST every body concurrently on one connection: (status, echoed body) each."""
    async with connect(url, ssl=ssl, timeout=20) as client:

        async def one(body: bytes) -> tuple[int, bytes]:
            response = await client.post(path, body)
            return response.status, await response.read()

        return await asyncio.gather(*(one(body) for body in bodies))


def bodies(count: int, size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(size + i * 997) for i in range(count)]


# -- nghttpd ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def nghttpd_server(nghttpd: str, site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    port = free_port()
    server = start_process(
        [nghttpd, "--no-tls", "--echo-upload", "-d", str(site.root),
         "-p", "/index.html=/style.css", str(port)],
        tmp_path_factory.mktemp("nghttpd"), port=port,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nghttpd_tls_server(nghttpd: str, site: Site, tls_files: TLSFiles,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    port = free_port()
    server = start_process(
        [nghttpd, "--echo-upload", "-d", str(site.root), str(port), str(tls_files.key), str(tls_files.cert)],
        tmp_path_factory.mktemp("nghttpd-tls"), port=port,
    )
    yield server
    server.stop()


def test_nghttpd_cleartext_downloads(site: Site, nghttpd_server: Process) -> None:
    paths = ["/big.bin", "/small.txt", "/sub/inner.json"] * 4 + ["/missing"]
    results = asyncio.run(fetch_all(f"http://127.0.0.1:{nghttpd_server.port}", paths))
    for path, (status, body) in zip(paths, results):
        if path == "/missing":
            assert status == 404
        else:
            assert (status, body) == (200, site.files[path]), path


def test_nghttpd_cleartext_uploads(nghttpd_server: Process) -> None:
    sent = bodies(8, 300_000, seed=1)
    results = asyncio.run(echo_all(f"http://127.0.0.1:{nghttpd_server.port}", sent))
    assert results == [(200, body) for body in sent]


def test_nghttpd_tls(site: Site, tls_files: TLSFiles, nghttpd_tls_server: Process) -> None:
    url = f"https://127.0.0.1:{nghttpd_tls_server.port}"
    context = tls_files.client_context()
    results = asyncio.run(fetch_all(url, ["/big.bin", "/small.txt"], ssl=context))
    assert results == [(200, site.files["/big.bin"]), (200, site.files["/small.txt"])]
    sent = bodies(3, 200_000, seed=2)
    assert asyncio.run(echo_all(url, sent, ssl=context)) == [(200, body) for body in sent]


def test_nghttpd_push_reaches_the_client(site: Site, nghttpd_server: Process) -> None:
    async def go() -> tuple[int, bytes, list[Any]]:
        async with connect(f"http://127.0.0.1:{nghttpd_server.port}", timeout=20) as client:
            response = await client.get("/index.html")
            body = await response.read()
            return response.status, body, await read_pushes(response)

    status, body, pushed = asyncio.run(go())
    assert (status, body) == (200, site.files["/index.html"])
    assert pushed == [("/style.css", 200, site.files["/style.css"])]


async def read_pushes(response: Any) -> list[tuple[str, int, bytes]]:
    """(path, status, body) of each response pushed on ``response``'s stream."""
    pushed = []
    for promise in response.pushed:
        answer = await promise.response()
        pushed.append((promise.path, answer.status, await answer.read()))
    return pushed


def test_cli_get_against_nghttpd(site: Site, nghttpd_server: Process, tmp_path: Path, backend: str) -> None:
    out = tmp_path / "big.bin"
    base = f"http://127.0.0.1:{nghttpd_server.port}"
    done = run([sys.executable, "-m", "h2lite", "get", "-i", "-o", str(out), f"{base}/big.bin"],
               env=backend_env(backend))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == site.files["/big.bin"]
    head = done.stdout.decode().split("\n")
    assert head[0] == "HTTP/2 200"
    assert f"content-length: {len(site.files['/big.bin'])}" in head

    done = run([sys.executable, "-m", "h2lite", "get", "-n", "200", "-c", "20", f"{base}/small.txt"],
               env=backend_env(backend))
    assert done.returncode == 0, done.stderr
    report = done.stdout.decode()
    assert "statuses: 200 x 200" in report
    assert "errors: 0" in report


# -- Node ------------------------------------------------------------------------


def start_node_server(node: str, where: Path, *extra: str) -> Process:
    return start_process([node, str(NODE_DIR / "server.js"), *extra], where, port_pattern=r"PORT (\d+)")


@pytest.fixture(scope="module")
def node_server(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    server = start_node_server(node, tmp_path_factory.mktemp("node"))
    yield server
    stop_clean(server)


@pytest.fixture(scope="module")
def node_tls_server(node: str, tls_files: TLSFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    server = start_node_server(node, tmp_path_factory.mktemp("node-tls"),
                               "--cert", str(tls_files.cert), "--key", str(tls_files.key))
    yield server
    stop_clean(server)


def test_node_server_downloads_and_uploads(node_server: Process) -> None:
    url = f"http://127.0.0.1:{node_server.port}"
    sizes = [0, 1, 16_384, 65_535, 65_536, 1_000_003]
    results = asyncio.run(fetch_all(url, [f"/bytes/{size}" for size in sizes]))
    assert results == [(200, pattern(size)) for size in sizes]
    sent = bodies(6, 250_000, seed=3)
    assert asyncio.run(echo_all(url, sent)) == [(200, body) for body in sent]


def test_node_server_trailers(node_server: Process) -> None:
    async def go() -> tuple[int, bytes, Any]:
        async with connect(f"http://127.0.0.1:{node_server.port}", timeout=20) as client:
            response = await client.get("/trailers")
            body = await response.read()
            return response.status, body, response.trailers

    status, body, trailers = asyncio.run(go())
    assert (status, body) == (200, b"body\n")
    assert (b"x-body-length", b"5") in [(bytes(n), bytes(v)) for n, v in trailers]


def test_node_server_push(node_server: Process) -> None:
    async def go() -> tuple[bytes, list[tuple[str, int, bytes]]]:
        async with connect(f"http://127.0.0.1:{node_server.port}", timeout=20) as client:
            response = await client.get("/push")
            body = await response.read()
            return body, await read_pushes(response)

    body, pushed = asyncio.run(go())
    assert body == b"page\n"
    assert pushed == [("/pushed.txt", 200, b"pushed body\n")]


def test_node_tls_server(tls_files: TLSFiles, node_tls_server: Process) -> None:
    url = f"https://127.0.0.1:{node_tls_server.port}"
    context = tls_files.client_context()
    assert asyncio.run(fetch_all(url, ["/bytes/300000"], ssl=context)) == [(200, pattern(300_000))]
    sent = bodies(2, 100_000, seed=4)
    assert asyncio.run(echo_all(url, sent, ssl=context)) == [(200, body) for body in sent]


def test_node_server_digest_of_many_concurrent(node_server: Process) -> None:
    # Many streams at once on one connection, each body checked by digest.
    paths = [f"/bytes/{70_000 + i}" for i in range(40)]
    results = asyncio.run(fetch_all(f"http://127.0.0.1:{node_server.port}", paths))
    assert [(s, hashlib.sha256(b).hexdigest()) for s, b in results] == [
        (200, hashlib.sha256(pattern(70_000 + i)).hexdigest()) for i in range(40)
    ]
