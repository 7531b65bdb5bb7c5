"""h2lite.aio.server: back-pressure in both directions.

Inbound, the server runs with manual flow control and gives credit back only
for request body the handler has consumed (RFC 9113 §5.2), so a slow handler
holds the client to one stream window.  Outbound, bodies are pulled only while
the transport accepts writes, so a client that stops reading cannot make the
server buffer more than a batch beyond the transport's high-water mark.
"""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import pytest

from h2lite import Config, ErrorCode
from h2lite.aio._server_body import ITER_HIGH_WATER
from h2lite.aio._server_protocol import WRITE_BATCH
from h2lite.aio.server import Request, RequestHandler, Response

from ._server_peers import H2Client, StreamLog, client_of, running

pytestmark = pytest.mark.timeout(60)

MAX_WINDOW = 2**31 - 1


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_post_echo_of_several_mib_through_small_windows() -> None:
    payload = random.Random(5).randbytes(4 * 1024 * 1024)

    async def echo(request: Request) -> Response:
        # The request itself is the response body: each chunk is credited back
        # to the client only once it has been taken for the response.
        return Response(200, body=request)

    async def main() -> None:
        config = Config(client_side=False, initial_window_size=16384, connection_window_size=65535)
        async with running(echo, config=config) as server, client_of(server) as client:
            await client.ping_round_trip()  # the server's SETTINGS are in force
            sid = client.request("/echo", method="POST", end_stream=False)
            upload = asyncio.get_running_loop().create_task(client.send_body(sid, payload))
            log = await client.response(sid, timeout=50)
            assert await upload == len(payload)
            assert log.status == 200 and log.reset is None
            assert bytes(log.body) == payload
            # The client never had more credit than the server's windows.
            assert 0 < client.largest_send_window <= 16384

    run(main())


def test_a_slow_handler_holds_the_client_to_one_window() -> None:
    size = 2 * 1024 * 1024
    consumed: list[int] = []
    gates: list[asyncio.Event] = []

    async def handler(request: Request) -> Response:
        got = 0
        async for chunk in request:
            got += len(chunk)
            consumed.append(got)
            if got >= 100_000:
                await gates[0].wait()
        return Response(200, body=b"%d" % got)

    async def main() -> None:
        gates.append(asyncio.Event())
        gate = gates[0]
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/slow", method="POST", end_stream=False)
            upload = asyncio.get_running_loop().create_task(client.send_body(sid, bytes(size)))
            await client.wait_until(lambda: bool(consumed) and consumed[-1] >= 100_000)
            await client.wait_until(lambda: client.conn.local_flow_control_window(sid) == 0)
            # Two round trips: any credit the server meant to send has arrived.
            await client.ping_round_trip()
            await client.ping_round_trip()
            assert client.conn.local_flow_control_window(sid) == 0
            assert not upload.done()
            # RFC 9113 §6.9: the client may have sent only what was consumed plus one window.
            assert client.sent[sid] <= consumed[-1] + 65535
            gate.set()
            log = await client.response(sid, timeout=50)
            assert await upload == size
            assert bytes(log.body) == b"%d" % size

    run(main())


def test_class_form_is_credited_as_on_data_returns() -> None:
    payload = random.Random(7).randbytes(1024 * 1024)

    class Echo(RequestHandler):
        def on_headers(self) -> None:
            self.received = bytearray()

        def on_data(self, data: bytes) -> None:
            self.received += data

        def on_request_done(self) -> None:
            self.send_response(200, body=bytes(self.received))

    async def main() -> None:
        async with running(Echo) as server, client_of(server) as client:
            sid = client.request("/", method="POST", end_stream=False)
            # Twice the server's stream window and its connection window: it
            # only completes if the server gives the credit back.
            await client.send_body(sid, payload)
            log = await client.response(sid, timeout=50)
            assert bytes(log.body) == payload

    run(main())


def test_an_unread_body_is_stopped_and_its_credit_returned() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/ignore":
            return Response(200, body=b"early")
        return Response(200, body=b"%d" % len(await request.body()))

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/ignore", method="POST", end_stream=False)
            sent = await client.send_body(sid, bytes(3 * 1024 * 1024))
            log = await client.response(sid)
            # RFC 9113 §8.1: a complete response, then RST_STREAM NO_ERROR stops the upload.
            assert bytes(log.body) == b"early" and log.ended
            assert log.reset == ErrorCode.NO_ERROR
            assert sent < 3 * 1024 * 1024
            # What the first handler never read does not shrink the connection window.
            sid = client.request("/read", method="POST", end_stream=False)
            await client.send_body(sid, bytes(2 * 1024 * 1024))
            assert bytes((await client.response(sid, timeout=50)).body) == b"2097152"

    run(main())


@pytest.mark.parametrize("kind", ["pull", "iterable"])
def test_a_client_that_stops_reading_does_not_make_the_server_buffer(kind: str) -> None:
    total = 8 * 1024 * 1024
    produced = [0]

    def pull(max_length: int) -> bytes | None:
        n = min(max_length, total - produced[0])
        produced[0] += n
        return bytes(n) if n else None

    async def chunks() -> Any:
        while produced[0] < total:
            produced[0] += 8192
            yield bytes(8192)

    async def handler(request: Request) -> Response:
        return Response(200, body=pull if kind == "pull" else chunks())

    async def main() -> None:
        async with running(handler) as server:
            # Huge windows: flow control will not stop the server, only the transport.
            client = await H2Client.connect(
                server.port, settings={0x4: MAX_WINDOW}, window=MAX_WINDOW - 65535, rcvbuf=16384
            )
            await client.ping_round_trip()
            (protocol,) = server.connections
            assert protocol.transport is not None
            protocol.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
            client.reading.clear()
            sid = client.request("/big")
            for _ in range(1000):
                if protocol.writing_paused:
                    break
                await asyncio.sleep(0.01)
            assert protocol.writing_paused
            at_pause = produced[0]
            # An async iterable may fill its own buffer; a callable is not called at all.
            slack = ITER_HIGH_WATER + 8192 if kind == "iterable" else 0
            for _ in range(10):
                await asyncio.sleep(0.02)
                # Nothing more is pulled from the body while the transport is paused...
                assert at_pause <= produced[0] <= at_pause + slack
                # ...and what is queued stays within the high-water mark plus a batch.
                assert protocol.transport.get_write_buffer_size() <= 65536 + WRITE_BATCH + 16384
            assert at_pause < total
            client.reading.set()
            log = await client.response(sid, timeout=50)
            assert len(log.body) == total and log.ended
            await client.close()

    run(main())


def test_small_bodies_answered_in_one_round_keep_to_the_write_batch() -> None:
    # In-memory bodies that fit one DATA frame skip the pull provider, but they
    # share the round's byte budget with it: 40 responses of 16 KiB answered
    # in one read leave over several writes of at most one batch of body each.
    body = bytes(range(256)) * 64  # 16,384 bytes
    count = 40
    writes: list[int] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            self.send_response(200, body=body)

    async def main() -> None:
        async with running(Handler) as server:
            client = await H2Client.connect(server.port, settings={0x4: MAX_WINDOW}, window=MAX_WINDOW - 65535)
            await client.ping_round_trip()
            (protocol,) = server.connections
            transport = protocol.transport
            assert transport is not None
            write = transport.write

            def counting_write(data: Any) -> None:
                writes.append(len(data))
                write(data)

            transport.write = counting_write  # type: ignore[method-assign]
            ids = []
            for _ in range(count):
                sid = client.conn.get_next_available_stream_id()
                client.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")], end_stream=True)
                client.streams[sid] = StreamLog()
                ids.append(sid)
            client.flush()  # one write: the server most likely reads them in one go
            for sid in ids:
                log = await client.response(sid)
                assert log.status == 200 and log.ended and bytes(log.body) == body
            await client.close()

    run(main())
    # Body bytes plus frame overhead (9 bytes per frame, a few bytes of HEADERS per response).
    assert sum(writes) >= count * len(body)
    assert max(writes) <= WRITE_BATCH + count * 64
    assert len(writes) >= count * len(body) // (WRITE_BATCH + count * 64)
