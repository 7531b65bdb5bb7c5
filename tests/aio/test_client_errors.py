"""The asyncio client when things go wrong: timeouts, resets, GOAWAY, failed
connections, TLS and ALPN.  Every test also checks what the server saw."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
import trustme

import h2lite
from h2lite import ErrorCode
from h2lite.aio import client as h2c

from ._client_peers import Peer, PeerConnection, PeerStream, respond_ok

pytestmark = pytest.mark.timeout(30)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = bytes.fromhex("000000 04 00 00000000")


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(type, payload) of each frame in ``data`` (9-byte headers, RFC 9113 §4.1)."""
    frames, pos = [], 0
    while pos + 9 <= len(data):
        length = int.from_bytes(data[pos:pos + 3], "big")
        frames.append((data[pos + 3], data[pos + 9:pos + 9 + length]))
        pos += 9 + length
    return frames


async def _request_seen(peer: Peer) -> None:
    while not peer.requests:
        await asyncio.sleep(0.01)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def hold_slow(conn: PeerConnection, stream: PeerStream) -> None:
    """``/slow*`` never gets an answer; everything else gets 200."""
    if stream.path.startswith("/slow"):
        await stream.reset.wait()
        return
    await respond_ok(conn, stream)


# -- timeouts -------------------------------------------------------------------


def test_request_timeout_resets_the_stream_with_cancel() -> None:
    async def main() -> None:
        async with Peer(hold_slow) as peer, h2c.connect(peer.url) as client:
            with pytest.raises(asyncio.TimeoutError):
                await client.get("/slow", timeout=0.2)
            await asyncio.wait_for(_request_seen(peer), 10)
            slow = peer.requests[0]
            await asyncio.wait_for(slow.reset.wait(), 10)
            # RFC 9113 §8.7: a client abandoning a request resets it with CANCEL.
            assert slow.reset_code == ErrorCode.CANCEL
            # The connection stays usable.
            response = await client.get("/fast", timeout=10)
            assert await response.read() == b"you asked for /fast"
            assert len(peer.connections) == 1

    run(main())


def test_request_timeout_covers_reading_the_body() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        conn.conn.send_headers(stream.stream_id, [(b":status", b"200")])
        conn.conn.send_data(stream.stream_id, b"first part")
        conn.flush()
        await stream.reset.wait()

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/partial", timeout=0.3)
            assert response.status == 200
            with pytest.raises(asyncio.TimeoutError):
                await response.read()
            await asyncio.wait_for(peer.requests[0].reset.wait(), 10)
            assert peer.requests[0].reset_code == ErrorCode.CANCEL

    run(main())


def test_request_timeout_while_waiting_for_a_free_stream() -> None:
    release = None

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await release.wait()  # type: ignore[union-attr]
        await conn.respond(stream, body=stream.path.encode())

    async def main() -> None:
        nonlocal release
        release = asyncio.Event()
        settings = {h2lite.Setting.MAX_CONCURRENT_STREAMS: 1}
        async with Peer(handler, settings=settings) as peer, h2c.connect(peer.url) as client:
            first = asyncio.ensure_future(client.get("/hold"))
            await asyncio.wait_for(_request_seen(peer), 10)
            with pytest.raises(asyncio.TimeoutError):
                await client.get("/queued", timeout=0.2)
            release.set()
            assert await (await first).read() == b"/hold"
            assert await (await client.get("/after")).read() == b"/after"
            # The timed-out request never reached the server.
            assert [r.path for r in peer.requests] == ["/hold", "/after"]
            assert peer.connections[0].max_open == 1

    run(main())


def test_cancelled_request_resets_its_stream() -> None:
    async def main() -> None:
        async with Peer(hold_slow) as peer, h2c.connect(peer.url) as client:
            task = asyncio.ensure_future(client.get("/slow"))
            await asyncio.wait_for(_request_seen(peer), 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(peer.requests[0].reset.wait(), 10)
            assert peer.requests[0].reset_code == ErrorCode.CANCEL
            assert await (await client.get("/next")).read() == b"you asked for /next"

    run(main())


def test_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # accepts TCP, never sends SETTINGS
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            client = h2c.connect(f"http://127.0.0.1:{port}", timeout=0.2)
            with pytest.raises(asyncio.TimeoutError, match="127.0.0.1"):
                async with client:
                    pass
            assert client.closed
            with pytest.raises(h2c.ClientError):
                await client.get("/")

    run(main())


# -- failed connections ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_a_clear_error() -> None:
    port = _free_port()

    async def main() -> None:
        client = h2c.connect(f"http://127.0.0.1:{port}")
        with pytest.raises(h2c.ConnectError, match=f"127.0.0.1:{port}") as info:
            async with client:
                pass
        error = info.value
        assert isinstance(error, h2lite.H2LiteError)
        assert isinstance(error, ConnectionError)
        assert error.retry_safe
        assert isinstance(error.__cause__, ConnectionRefusedError)
        # Later requests on the same client say the same thing.
        with pytest.raises(h2c.ConnectError) as again:
            await client.get("/")
        assert isinstance(again.value.__cause__, ConnectionRefusedError)
        with pytest.raises(h2c.ConnectError):
            await h2c.get(f"http://127.0.0.1:{port}/")

    run(main())


def test_server_that_does_not_speak_http2() -> None:
    async def http11(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(24)
            writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(http11, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(h2c.ConnectError, match="HTTP/2"):
                await h2c.get(f"http://127.0.0.1:{port}/", timeout=10)

    run(main())


def test_protocol_violation_fails_requests_in_flight() -> None:
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(EMPTY_SETTINGS)
            assert await reader.readexactly(len(PREFACE)) == PREFACE
            await reader.read(65536)
            # RFC 9113 §6.7: PING on a stream is a connection error.
            writer.write(bytes.fromhex("000008 06 00 00000001") + bytes(8))
            await writer.drain()
            while data := await reader.read(65536):
                from_client.extend(data)
        finally:
            writer.close()

    from_client = bytearray()

    async def main() -> None:
        server = await asyncio.start_server(broken, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, h2c.connect(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(h2c.ConnectionClosedError, match="broke the protocol") as info:
                await client.get("/")
            assert info.value.error_code == ErrorCode.PROTOCOL_ERROR
            assert not info.value.retry_safe
            with pytest.raises(h2c.ConnectionClosedError):
                await client.get("/again")
        # The client answered with GOAWAY PROTOCOL_ERROR (RFC 9113 §5.4.1).
        goaways = [payload for kind, payload in _frames(bytes(from_client)) if kind == 0x7]
        assert len(goaways) == 1
        assert int.from_bytes(goaways[0][4:8], "big") == ErrorCode.PROTOCOL_ERROR

    run(main())


# -- resets and GOAWAY ----------------------------------------------------------


@pytest.mark.parametrize("code", [ErrorCode.INTERNAL_ERROR, ErrorCode.REFUSED_STREAM])
def test_stream_reset_by_the_server(code: ErrorCode) -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        if stream.path == "/reset":
            conn.reset(stream, code)
        else:
            await respond_ok(conn, stream)

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            with pytest.raises(h2c.StreamResetError) as info:
                await client.get("/reset")
            error = info.value
            assert error.error_code == code
            assert error.remote_reset
            assert error.stream_id == 1
            if code == ErrorCode.REFUSED_STREAM:
                # RFC 9113 §8.7: REFUSED_STREAM means not processed; safe to retry.
                assert isinstance(error, h2c.RefusedStreamError)
                assert error.retry_safe and not error.goaway
            else:
                assert not isinstance(error, h2c.RefusedStreamError)
                assert not error.retry_safe
            assert await (await client.get("/ok")).read() == b"you asked for /ok"

    run(main())


def test_goaway_fails_only_the_unprocessed_streams() -> None:
    arrived: list[PeerStream] = []
    all_here = None

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        arrived.append(stream)
        if len(arrived) == 4:
            all_here.set()  # type: ignore[union-attr]
        await all_here.wait()  # type: ignore[union-attr]
        if stream.stream_id == 1:
            # RFC 9113 §6.8: streams up to 3 will be processed, 5 and 7 will not.
            conn.conn.close_connection(last_stream_id=3)
            conn.flush()
            for processed in arrived[:2]:
                await conn.respond(processed, body=f"done {processed.path}".encode())

    async def main() -> None:
        nonlocal all_here
        all_here = asyncio.Event()
        config = h2lite.Config(client_side=False, max_concurrent_streams=4)
        async with Peer(handler, engine="h2lite", lite_config=config) as peer:
            async with h2c.connect(peer.url) as client:
                results = await asyncio.gather(
                    *(client.get(f"/{i}") for i in range(6)), return_exceptions=True
                )
                assert [await r.read() for r in results[:2]] == [b"done /0", b"done /1"]
                for result in results[2:4]:
                    assert isinstance(result, h2c.RefusedStreamError), result
                    assert result.retry_safe and result.goaway
                    assert result.error_code == ErrorCode.REFUSED_STREAM
                    assert "GOAWAY" in str(result) and "retry" in str(result)
                assert [r.stream_id for r in results[2:4]] == [5, 7]  # type: ignore[union-attr]
                # Requests still waiting for a stream never left the client.
                for result in results[4:]:
                    assert isinstance(result, h2c.ConnectionClosedError), result
                    assert result.retry_safe
                # New requests fail clearly.
                with pytest.raises(h2c.ConnectionClosedError, match="GOAWAY") as info:
                    await client.get("/later")
                assert info.value.retry_safe
                assert client.closed
            assert [s.stream_id for s in arrived] == [1, 3, 5, 7]

    run(main())


def test_goaway_with_an_error_ends_processed_streams_too() -> None:
    arrived: list[PeerStream] = []

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        arrived.append(stream)
        if len(arrived) == 2:
            conn.conn.close_connection(ErrorCode.INTERNAL_ERROR, last_stream_id=1)
            conn.flush()

    async def main() -> None:
        async with Peer(handler, engine="h2lite") as peer, h2c.connect(peer.url) as client:
            first, second = await asyncio.gather(client.get("/a"), client.get("/b"), return_exceptions=True)
            assert isinstance(first, h2c.ConnectionClosedError)
            assert first.error_code == ErrorCode.INTERNAL_ERROR and not first.retry_safe
            assert isinstance(second, h2c.RefusedStreamError) and second.retry_safe

    run(main())


def test_connection_lost_mid_response() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        conn.conn.send_headers(stream.stream_id, [(b":status", b"200")])
        conn.conn.send_data(stream.stream_id, b"half")
        conn.flush()
        assert conn.transport is not None
        conn.transport.close()

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/")
            with pytest.raises(h2c.ConnectionClosedError, match="closed"):
                await response.read()
            with pytest.raises(h2c.ConnectionClosedError):
                await client.get("/again")

    run(main())


def test_failing_request_body_resets_the_stream() -> None:
    async def body():  # type: ignore[no-untyped-def]
        yield b"some bytes"
        raise RuntimeError("the source broke")

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        if stream.path == "/upload":
            await stream.reset.wait()
        else:
            await respond_ok(conn, stream)

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            with pytest.raises(RuntimeError, match="the source broke"):
                await client.post("/upload", body())
            await asyncio.wait_for(_request_seen(peer), 10)
            await asyncio.wait_for(peer.requests[0].reset.wait(), 10)
            assert peer.requests[0].reset_code == ErrorCode.CANCEL
            assert await (await client.get("/ok")).read() == b"you asked for /ok"

    run(main())


# -- TLS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, alpn: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    context.set_alpn_protocols(alpn)
    return context


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_tls_with_alpn_h2(ca: trustme.CA) -> None:
    async def main() -> None:
        async with Peer(respond_ok, ssl=_server_context(ca, ["h2"])) as peer:
            assert peer.url.startswith("https://")
            async with h2c.connect(peer.url, ssl=_client_context(ca)) as client:
                response = await client.get("/secure")
                assert await response.read() == b"you asked for /secure"
                assert response.url == f"{peer.url}/secure"
            transport = peer.connections[0].transport
            assert transport is None or transport.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
            assert dict(peer.requests[0].headers)[b":scheme"] == b"https"
            response = await h2c.get(peer.url + "/once", ssl=_client_context(ca))
            assert await response.read() == b"you asked for /once"

    run(main())


def test_tls_server_without_h2_in_alpn(ca: trustme.CA) -> None:
    async def main() -> None:
        async with Peer(respond_ok, ssl=_server_context(ca, ["http/1.1"])) as peer:
            with pytest.raises(h2c.ConnectError, match="ALPN"):
                async with h2c.connect(peer.url, ssl=_client_context(ca)):
                    pass
            assert peer.requests == []

    run(main())


def test_tls_certificate_checked_unless_disabled(ca: trustme.CA) -> None:
    async def main() -> None:
        async with Peer(respond_ok, ssl=_server_context(ca, ["h2"])) as peer:
            # The private CA is not trusted by default.
            with pytest.raises(h2c.ConnectError) as info:
                async with h2c.connect(peer.url):
                    pass
            assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
            async with h2c.connect(peer.url, ssl=False) as client:
                assert await (await client.get("/")).read() == b"you asked for /"

    run(main())


def test_ssl_context_for_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        h2c.connect("http://127.0.0.1:1", ssl=ssl.create_default_context())
