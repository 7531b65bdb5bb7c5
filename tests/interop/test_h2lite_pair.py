"""h2lite's asyncio client against h2lite's asyncio server: many concurrent
streams with large bodies both ways on one connection, cleartext and TLS; and
``python -m h2lite get -n/-c`` against ``python -m h2lite serve``.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from h2lite.aio.client import connect
from h2lite.aio.server import Request, Response, serve

from .conftest import Process, Site, TLSFiles, backend_env, run

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def pattern(length: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(length)


async def app(request: Request) -> Response:
    """``/echo`` streams the request body back; ``/bytes/<n>/<seed>`` sends n bytes."""
    if request.path == "/echo":

        async def echoed() -> AsyncIterator[bytes]:
            async for chunk in request:
                yield chunk

        return Response(200, headers=[(b"content-type", b"application/octet-stream")], body=echoed())
    match = re.fullmatch(r"/bytes/(\d+)/(\d+)", request.path)
    if match:
        return Response(200, body=pattern(int(match.group(1)), int(match.group(2))))
    return Response(404, body=b"not found\n")


async def exchange(url: str, server_ssl: Any = None, client_ssl: Any = None,
                   streams: int = 24) -> None:
    server = await serve(app, host="127.0.0.1", port=0, ssl=server_ssl)
    async with server, connect(url.format(port=server.port), ssl=client_ssl, timeout=30) as client:

        async def upload(i: int) -> None:
            sent = pattern(200_000 + i * 40_503, seed=i)
            response = await client.post("/echo", sent)
            assert response.status == 200
            assert await response.read() == sent

        async def download(i: int) -> None:
            size = 300_000 + i * 31_337
            response = await client.get(f"/bytes/{size}/{i}")
            assert response.status == 200
            received = bytearray()
            async for chunk in response:
                received += chunk
            assert received == pattern(size, seed=i)

        jobs = [upload(i) if i % 2 else download(i) for i in range(streams)]
        await asyncio.gather(*jobs)


def test_concurrent_large_bodies_cleartext() -> None:
    asyncio.run(exchange("http://127.0.0.1:{port}"))


def test_concurrent_large_bodies_tls(tls_files: TLSFiles) -> None:
    asyncio.run(exchange("https://127.0.0.1:{port}", tls_files.server_context(),
                         tls_files.client_context(), streams=12))


def test_cli_get_many_against_cli_serve(site: Site, h2lite_server: Process, backend: str,
                                        tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{h2lite_server.port}"
    done = run([sys.executable, "-m", "h2lite", "get", "-n", "400", "-c", "40", f"{base}/small.txt"],
               env=backend_env(backend))
    assert done.returncode == 0, done.stderr
    report = done.stdout.decode()
    assert "statuses: 200 x 400" in report
    assert f"body bytes received: {400 * len(site.files['/small.txt'])}" in report

    upload = site.files["/big.bin"][:1_000_000]
    (tmp_path / "up.bin").write_bytes(upload)
    done = run([sys.executable, "-m", "h2lite", "get", "-n", "12", "-c", "6", "-d",
                f"@{tmp_path / 'up.bin'}", f"{base}/echo"], env=backend_env(backend))
    assert done.returncode == 0, done.stderr
    report = done.stdout.decode()
    assert "statuses: 200 x 12" in report
    assert f"body bytes received: {12 * len(upload)}" in report
    assert "errors: 0" in report


def test_cli_get_body_and_head_from_cli_serve(site: Site, h2lite_tls_server: Process, tls_files: TLSFiles,
                                              backend: str, tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{h2lite_tls_server.port}/sub/inner.json"
    done = run([sys.executable, "-m", "h2lite", "get", "--cacert", str(tls_files.ca), "-i", url],
               env=backend_env(backend))
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition(b"\n\n")
    assert body == site.files["/sub/inner.json"]
    lines = head.decode().split("\n")
    assert lines[0] == "HTTP/2 200"
    assert "content-type: application/json" in lines

    # Without the CA the certificate cannot be verified: one line, exit status 1.
    done = run([sys.executable, "-m", "h2lite", "get", url], env=backend_env(backend))
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert len(done.stderr.decode().strip().splitlines()) == 1
    assert b"certificate" in done.stderr
