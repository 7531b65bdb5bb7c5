"""The asyncio client against the project's own asyncio server, end to end.

The other client tests use independent peers; these check that the two
halves of ``h2lite.aio`` work together: bodies streamed both ways with
back-pressure, multiplexing under the server's stream limit, push, TLS, and
the server's graceful close (two-phase GOAWAY) as the client sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl

import pytest
import trustme

import h2lite
from h2lite.aio import client as h2c
from h2lite.aio.server import Request, RequestHandler, Response, serve

pytestmark = pytest.mark.timeout(60)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def app(request: Request) -> Response:
    if request.path == "/echo":
        digest = hashlib.sha256()
        length = 0
        async for chunk in request:
            digest.update(chunk)
            length += len(chunk)
        return Response(200, [("content-type", "application/json")],
                        f'{{"length": {length}, "sha256": "{digest.hexdigest()}"}}')
    if request.path.startswith("/big/"):
        size = int(request.path.rsplit("/", 1)[1])

        async def pieces():  # type: ignore[no-untyped-def]
            block = bytes(range(256)) * 256
            for _ in range(size // len(block)):
                yield block

        return Response(200, body=pieces(), trailers=[("x-checksum", "done")])
    if request.path.startswith("/wait"):
        await asyncio.sleep(0.05)
    return Response(200, [("content-type", "text/plain")], f"{request.method} {request.path}")


def test_round_trips_with_the_aio_server() -> None:
    upload = bytes(range(251)) * 20_000  # ~5 MB

    async def main() -> None:
        async with await serve(app, "127.0.0.1", 0) as server:
            url = f"http://127.0.0.1:{server.port}"
            async with h2c.connect(url) as client:
                response = await client.get("/hello")
                assert await response.text() == "GET /hello"
                response = await client.post("/echo", upload)
                assert await response.json() == {"length": len(upload), "sha256": hashlib.sha256(upload).hexdigest()}
                response = await client.get(f"/big/{4 << 20}")
                received = 0
                async for chunk in response:
                    received += len(chunk)
                assert received == 4 << 20
                assert response.trailers == [(b"x-checksum", b"done")]
            assert await (await h2c.post(url + "/echo", b"abc")).json() == {
                "length": 3, "sha256": hashlib.sha256(b"abc").hexdigest(),
            }

    run(main())


def test_multiplexing_under_the_servers_stream_limit() -> None:
    async def main() -> None:
        config = h2lite.Config(client_side=False, max_concurrent_streams=4)
        async with await serve(app, "127.0.0.1", 0, config=config) as server:
            async with h2c.connect(f"http://127.0.0.1:{server.port}") as client:
                responses = await asyncio.gather(*(client.get(f"/wait/{i}") for i in range(30)))
                assert [await r.text() for r in responses] == [f"GET /wait/{i}" for i in range(30)]
                assert len(server.connections) == 1

    run(main())


class PushingHandler(RequestHandler):
    def on_request_done(self) -> None:
        if self.path == "/":
            self.push("/app.js", headers=[("content-type", "text/javascript")], body=b"run()")
        self.send_response(200, body=f"page {self.path}")


def test_push_from_the_aio_server() -> None:
    async def main() -> None:
        async with await serve(PushingHandler, "127.0.0.1", 0) as server:
            async with h2c.connect(f"http://127.0.0.1:{server.port}") as client:
                response = await client.get("/")
                assert await response.text() == "page /"
                [pushed] = response.pushed
                assert pushed.path == "/app.js"
                pushed_response = await pushed.response()
                assert pushed_response.header("content-type") == "text/javascript"
                assert await pushed_response.read() == b"run()"

    run(main())


def test_tls_with_the_aio_server() -> None:
    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async def main() -> None:
        async with await serve(app, "127.0.0.1", 0, ssl=server_context) as server:
            response = await h2c.get(f"https://127.0.0.1:{server.port}/secure", ssl=client_context)
            assert await response.text() == "GET /secure"

    run(main())


def test_server_close_lets_requests_in_flight_finish() -> None:
    started = None
    release = None

    async def slow(request: Request) -> Response:
        started.set()  # type: ignore[union-attr]
        await release.wait()  # type: ignore[union-attr]
        return Response(200, body="finished")

    async def main() -> None:
        nonlocal started, release
        started, release = asyncio.Event(), asyncio.Event()
        server = await serve(slow, "127.0.0.1", 0)
        async with h2c.connect(f"http://127.0.0.1:{server.port}") as client:
            in_flight = asyncio.ensure_future(client.get("/slow"))
            await asyncio.wait_for(started.wait(), 10)
            closing = asyncio.ensure_future(server.close(timeout=20))
            while not client.closed:  # the server's GOAWAY has arrived
                await asyncio.sleep(0.01)
            with pytest.raises(h2c.ConnectionClosedError, match="GOAWAY") as info:
                await client.get("/new")
            assert info.value.retry_safe
            release.set()
            assert await (await in_flight).text() == "finished"
            await closing

    run(main())
