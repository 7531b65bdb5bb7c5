"""Back-pressure in the asyncio client, both ways, and how it writes.

* Response bodies: the client credits DATA back only as the caller reads it
  (manual flow control), so a server facing a caller that reads nothing stops
  at the stream window the client advertised (RFC 9113 §5.2, §6.9).
* Request bodies: a streamed body is pulled from its source only as the
  server's windows drain the stream's queue.
* Output: everything queued in one round leaves in one ``transport.write``,
  and nothing is written while the transport has paused writing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

import h2lite
from h2lite.aio import client as h2c
from h2lite.aio._client_response import CHUNK_SIZE

from ._client_peers import Peer, PeerConnection, PeerStream, respond_ok

pytestmark = pytest.mark.timeout(60)

MIB = 1 << 20


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def _frame_types(data: bytes) -> list[int]:
    """Frame types in ``data`` (9-byte frame headers, RFC 9113 §4.1)."""
    types, pos = [], 0
    while pos + 9 <= len(data):
        types.append(data[pos + 3])
        pos += 9 + int.from_bytes(data[pos:pos + 3], "big")
    return types


def _big_body_handler(size: int):  # type: ignore[no-untyped-def]
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await conn.respond(stream, body=bytes(range(256)) * (size // 256))
    return handler


@pytest.mark.parametrize("window", [65535, None])
def test_unread_response_stops_the_server_at_the_stream_window(window: int | None) -> None:
    size = 4 * MIB
    config = None if window is None else h2lite.Config(
        client_side=True, auto_flow_control=False, initial_window_size=window, connection_window_size=8 * MIB,
    )
    # The default configuration advertises 1 MiB stream windows.
    advertised = MIB if window is None else window

    async def main() -> None:
        async with Peer(_big_body_handler(size)) as peer, h2c.connect(peer.url, config=config) as client:
            response = await client.get("/big")
            stream = peer.requests[0]
            connection = peer.connections[0]
            await asyncio.wait_for(stream.blocked.wait(), 20)
            # Whatever credit the client gave back before this PING's ACK has
            # arrived by now: the server is still stuck at the window.
            await connection.ping_roundtrip()
            assert stream.sent == advertised
            assert connection.conn.local_flow_control_window(stream.stream_id) == 0
            assert [delta for sid, delta in connection.window_updates if sid == stream.stream_id] == []
            # Reading releases the rest.
            body = await response.read()
            assert body == bytes(range(256)) * (size // 256)
            assert stream.sent == size

    run(main())


def test_partial_read_gives_back_only_what_was_read() -> None:
    config = h2lite.Config(client_side=True, auto_flow_control=False, initial_window_size=65535)

    async def main() -> None:
        async with Peer(_big_body_handler(MIB)) as peer, h2c.connect(peer.url, config=config) as client:
            response = await client.get("/big")
            stream = peer.requests[0]
            connection = peer.connections[0]
            await asyncio.wait_for(stream.blocked.wait(), 20)
            consumed = 0
            chunks = response.__aiter__()
            while consumed < 40000:
                consumed += len(await chunks.__anext__())
            stream.blocked.clear()
            await connection.ping_roundtrip()
            await asyncio.wait_for(stream.blocked.wait(), 20)
            await connection.ping_roundtrip()
            # Credit goes back in batches of half a window (flow.py), never
            # more than was consumed.
            credited = sum(delta for sid, delta in connection.window_updates if sid == stream.stream_id)
            assert 65535 // 2 <= credited <= consumed
            assert stream.sent == 65535 + credited
            rest = b"".join([chunk async for chunk in chunks])
            assert consumed + len(rest) == MIB

    run(main())


def test_streamed_upload_is_pulled_only_as_the_server_takes_it() -> None:
    produced = 0
    total = 4 * MIB
    piece = b"u" * 8192

    async def source():  # type: ignore[no-untyped-def]
        nonlocal produced
        while produced < total:
            produced += len(piece)
            yield piece

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        body = await stream.read_body()
        await conn.respond(stream, body=hashlib.sha256(body).hexdigest().encode())

    async def main() -> None:
        settings = {h2lite.Setting.INITIAL_WINDOW_SIZE: 16384}
        async with Peer(handler, settings=settings, auto_ack=False) as peer, h2c.connect(peer.url) as client:
            upload = asyncio.ensure_future(client.post("/upload", source()))
            while not peer.requests or len(peer.requests[0].body) < 16384:
                await asyncio.sleep(0.01)
            connection = peer.connections[0]
            await connection.ping_roundtrip()
            for _ in range(50):
                await asyncio.sleep(0)
            # The server took one window; the client pulled at most its queue
            # limit more from the source, not the whole body.
            assert len(peer.requests[0].body) == 16384
            assert produced <= 16384 + 5 * CHUNK_SIZE
            peer.auto_ack = True
            connection.ack_received()
            response = await upload
            assert await response.read() == hashlib.sha256(b"u" * total).hexdigest().encode()
            assert produced == total

    run(main())


def test_requests_made_together_leave_in_one_write() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer, h2c.connect(peer.url) as client:
            transport: Any = client._transport
            writes: list[bytes] = []
            original = transport.write

            def write(data: bytes) -> None:
                writes.append(bytes(data))
                original(data)

            transport.write = write
            responses = await asyncio.gather(*(client.get(f"/{i}") for i in range(10)))
            assert [await r.read() for r in responses] == [f"you asked for /{i}".encode() for i in range(10)]
            # Ten HEADERS frames (type 0x1), one write.
            assert _frame_types(writes[0]) == [0x1] * 10

    run(main())


def test_nothing_is_written_while_writing_is_paused() -> None:
    # More than the kernel's socket buffers hold on both sides (Linux's
    # defaults allow a few MiB each), so the transport must pause writing.
    total = 32 * MIB
    state = {"paused": False, "pauses": 0, "writes_while_paused": 0}
    paused = None

    async def source():  # type: ignore[no-untyped-def]
        block = b"p" * CHUNK_SIZE
        for _ in range(total // CHUNK_SIZE):
            yield block

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        body = await stream.read_body()
        await conn.respond(stream, body=json.dumps({"length": len(body), "ok": body == b"p" * total}).encode())

    async def main() -> None:
        nonlocal paused
        paused = asyncio.Event()
        big = 2**31 - 1
        server_config = h2lite.Config(client_side=False, initial_window_size=big, connection_window_size=big)
        async with Peer(handler, engine="h2lite", lite_config=server_config) as peer:
            async with h2c.connect(peer.url) as client:
                server_transport = peer.connections[0].transport
                assert server_transport is not None
                server_transport.pause_reading()
                transport: Any = client._transport
                protocol: Any = transport.get_protocol()
                original_write = transport.write
                original_pause, original_resume = protocol.pause_writing, protocol.resume_writing

                def write(data: bytes) -> None:
                    if state["paused"]:
                        state["writes_while_paused"] += 1
                    original_write(data)

                def pause_writing() -> None:
                    state["paused"] = True
                    state["pauses"] += 1
                    paused.set()  # type: ignore[union-attr]
                    original_pause()

                def resume_writing() -> None:
                    state["paused"] = False
                    original_resume()

                transport.write = write
                protocol.pause_writing = pause_writing
                protocol.resume_writing = resume_writing
                upload = asyncio.ensure_future(client.post("/upload", source()))
                await asyncio.wait_for(paused.wait(), 30)
                for _ in range(20):
                    await asyncio.sleep(0)
                # While paused, the client keeps its data queued in the connection.
                assert state["paused"]
                assert transport.get_write_buffer_size() <= 64 * 1024 + 5 * CHUNK_SIZE
                server_transport.resume_reading()
                response = await upload
                assert await response.json() == {"length": total, "ok": True}
        assert state["pauses"] >= 1
        assert state["writes_while_paused"] == 0

    run(main())
