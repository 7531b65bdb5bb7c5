"""h2lite.aio.server: closing the server.

``Server.close()`` stops listening and shuts each connection down in two
phases (RFC 9113 §6.8): GOAWAY with 2^31-1, a PING round trip, then GOAWAY
with the last stream it accepted.  Streams in flight finish; after the
timeout the rest are dropped and their handlers cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from h2lite import ErrorCode
from h2lite.aio.server import Request, RequestHandler, Response, serve

from ._server_peers import H2Client, read_all

pytestmark = pytest.mark.timeout(30)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_graceful_close_lets_the_stream_in_flight_finish() -> None:
    gates: list[asyncio.Event] = []

    async def handler(request: Request) -> Response:
        await gates[0].wait()
        return Response(200, body=b"finished after GOAWAY")

    async def main() -> None:
        gates.append(asyncio.Event())
        server = await serve(handler, "127.0.0.1", 0)
        # h2 cannot receive anything after a GOAWAY: the client is h2lite.
        client = await H2Client.connect(server.port, engine="h2lite")
        sid = client.request("/slow")
        await client.ping_round_trip()  # the server has the request
        closing = asyncio.get_running_loop().create_task(server.close(timeout=10))
        # Phase 1, then phase 2 naming the stream in flight as the last one.
        await client.wait_until(lambda: len(client.goaways) == 2)
        assert [g.last_stream_id for g in client.goaways] == [2**31 - 1, sid]
        assert {g.error_code for g in client.goaways} == {ErrorCode.NO_ERROR}
        # New connections are refused once close() has begun.
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)
        assert not closing.done()
        gates[0].set()
        log = await client.response(sid)
        assert log.status == 200 and bytes(log.body) == b"finished after GOAWAY"
        await client.wait_eof()  # the server closes once nothing is in flight
        await asyncio.wait_for(closing, 10)
        assert not server.connections
        await client.close()

    run(main())


def test_streams_opened_after_the_final_goaway_are_not_processed() -> None:
    calls: list[str] = []

    async def handler(request: Request) -> Response:
        calls.append(request.path)
        if request.path == "/first":
            await asyncio.sleep(0.2)
        return Response(200, body=b"ok")

    async def main() -> None:
        server = await serve(handler, "127.0.0.1", 0)
        client = await H2Client.connect(server.port, engine="h2lite")
        first = client.request("/first")
        await client.ping_round_trip()
        closing = asyncio.get_running_loop().create_task(server.close(timeout=10))
        await client.wait_until(lambda: len(client.goaways) == 2)
        # A client refuses to open streams after GOAWAY: write one by hand, with
        # static-table fields only so the client's HPACK context stays in step.
        block = bytes.fromhex("82 86 84 01 09") + b"localhost"  # GET http / localhost
        late = first + 2
        client.writer.write(len(block).to_bytes(3, "big") + b"\x01\x05" + late.to_bytes(4, "big") + block)
        log = await client.response(first)
        assert bytes(log.body) == b"ok"
        await asyncio.wait_for(closing, 10)
        await client.close()

    run(main())
    assert calls == ["/first"]


def test_close_timeout_drops_what_is_left_and_cancels_handlers() -> None:
    events: list[Any] = []

    class Stuck(RequestHandler):
        def on_request_done(self) -> None:
            self.create_task(self.never())

        async def never(self) -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                events.append("cancelled")
                raise

        def on_close(self, error_code: int) -> None:
            events.append(("closed", error_code))

    async def main() -> None:
        server = await serve(Stuck, "127.0.0.1", 0)
        client = await H2Client.connect(server.port)
        sid = client.request("/stuck")
        await client.ping_round_trip()
        await asyncio.wait_for(server.close(timeout=0.3), 10)
        await client.wait_eof()
        assert client.streams[sid].status is None
        assert not server.connections
        await client.close()

    run(main())
    assert ("closed", ErrorCode.CANCEL) in events and "cancelled" in events


def test_close_ends_connections_that_have_not_started_http2() -> None:
    async def handler(request: Request) -> Response:
        return Response(200)

    async def main() -> None:
        server = await serve(handler, "127.0.0.1", 0)
        sniffing = await asyncio.open_connection("127.0.0.1", server.port)
        sniffing[1].write(b"PRI * HTTP")
        http1 = await asyncio.open_connection("127.0.0.1", server.port)
        http1[1].write(b"GET / HTTP/1.1\r\n")
        await asyncio.sleep(0.05)
        await asyncio.wait_for(server.close(timeout=5), 10)
        for reader, writer in (sniffing, http1):
            assert await read_all(reader) == b""
            writer.close()

    run(main())


def test_serve_forever_returns_after_close_and_the_context_manager_closes() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"up")

    async def main() -> None:
        async with await serve(handler, "127.0.0.1", 0) as server:
            forever = asyncio.get_running_loop().create_task(server.serve_forever())
            client = await H2Client.connect(server.port)
            assert bytes((await client.get("/")).body) == b"up"
            await client.close()
            await server.close()
            await asyncio.wait_for(forever, 10)
            assert server.is_closing()
        # Leaving the block closes the server (a second close is harmless).
        async with await serve(handler, "127.0.0.1", 0) as server:
            port = server.port
            assert port > 0 and server.sockets
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    run(main())


def test_cancelling_serve_forever_closes_the_server() -> None:
    async def handler(request: Request) -> Response:
        return Response(200)

    async def main() -> None:
        server = await serve(handler, "127.0.0.1", 0)
        port = server.port
        forever = asyncio.get_running_loop().create_task(server.serve_forever())
        await asyncio.sleep(0)
        forever.cancel()
        with pytest.raises(asyncio.CancelledError):
            await forever
        assert server.is_closing()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    run(main())
