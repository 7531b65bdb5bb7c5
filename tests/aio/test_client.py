"""The asyncio client against live servers: requests, bodies, multiplexing, push.

The servers are :class:`tests.aio._client_peers.Peer` instances built on the
``h2`` package, so the client is checked against an implementation of HTTP/2
it shares no code with.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import json

import h2.exceptions
import pytest

import h2lite
from h2lite.aio import client as h2c

from ._client_peers import Peer, PeerConnection, PeerStream, respond_ok

pytestmark = pytest.mark.timeout(30)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_get_over_h2c_prior_knowledge() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer:
            async with h2c.connect(peer.url) as client:
                response = await client.get("/hello?x=1", headers={"X-Test": "yes"})
                assert response.status == 200
                assert await response.read() == b"you asked for /hello?x=1"
                assert response.stream_id == 1
                assert response.url == f"{peer.url}/hello?x=1"
        request = peer.requests[0]
        fields = dict(request.headers)
        # RFC 9113 §8.3.1: the request's control data in pseudo-headers, first.
        assert [name for name, _ in request.headers[:4]] == [b":method", b":scheme", b":authority", b":path"]
        assert fields[b":method"] == b"GET"
        assert fields[b":scheme"] == b"http"
        assert fields[b":authority"] == f"127.0.0.1:{peer.port}".encode()
        assert fields[b":path"] == b"/hello?x=1"
        assert fields[b"x-test"] == b"yes"
        assert fields[b"user-agent"].startswith(b"h2lite/")
        assert len(peer.connections) == 1

    run(main())


def test_response_headers_status_and_header_lookup() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await conn.respond(stream, status=404, headers=[(b"x-a", b"1"), (b"x-a", b"2"), (b"server", b"peer")])

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/missing")
            assert response.status == 404
            # Pseudo-headers are not in .headers; the order received is kept.
            assert response.headers == [(b"x-a", b"1"), (b"x-a", b"2"), (b"server", b"peer")]
            assert response.header("X-A") == "1, 2"
            assert response.header(b"server") == "peer"
            assert response.header("absent") is None
            assert await response.read() == b""

    run(main())


def _echo_digest(conn: PeerConnection, stream: PeerStream):  # type: ignore[no-untyped-def]
    async def handler() -> None:
        body = await stream.read_body()
        await conn.respond(stream, body=json.dumps({
            "length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
            "content-length": dict(stream.headers).get(b"content-length", b"").decode(),
        }).encode())
    return handler()


async def _agen(data: bytes, size: int):  # type: ignore[no-untyped-def]
    for pos in range(0, len(data), size):
        yield data[pos:pos + size]


@pytest.mark.parametrize("kind", ["bytes", "str", "async-iterable", "iterable", "file"])
def test_post_large_body_through_small_windows(kind: str) -> None:
    # 3 MiB through 16 KiB stream windows and the 64 KiB connection window:
    # the body can only get through if the client follows WINDOW_UPDATEs.
    payload = bytes(range(256)) * (3 * 4096)
    body = {
        "bytes": lambda: payload,
        "str": lambda: payload.decode("latin-1"),
        "async-iterable": lambda: _agen(payload, 10_000),
        "iterable": lambda: [payload[i:i + 50_000] for i in range(0, len(payload), 50_000)],
        "file": lambda: io.BytesIO(payload),
    }[kind]()
    expected = payload.decode("latin-1").encode("utf-8") if kind == "str" else payload

    async def main() -> None:
        async with Peer(_echo_digest, settings={h2lite.Setting.INITIAL_WINDOW_SIZE: 16384}) as peer:
            async with h2c.connect(peer.url) as client:
                response = await client.post("/upload", body)
                result = await response.json()
        assert result["length"] == len(expected)
        assert result["sha256"] == hashlib.sha256(expected).hexdigest()
        # A body of known size announces it; a streamed one does not.
        assert result["content-length"] == (str(len(expected)) if kind in ("bytes", "str") else "")

    run(main())


def test_streaming_response_iteration() -> None:
    pieces = [bytes([i]) * (1000 + i) for i in range(20)]

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        conn.conn.send_headers(stream.stream_id, [(b":status", b"200")])
        for piece in pieces:
            await conn.send_body(stream, piece, end=False)
        conn.conn.end_stream(stream.stream_id)
        conn.flush()

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/stream")
            received = [chunk async for chunk in response]
            assert b"".join(received) == b"".join(pieces)
            assert all(received)
            # Iterating consumed the body: read() has nothing left.
            assert await response.read() == b""

    run(main())


def test_read_text_json() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        if stream.path == "/json":
            await conn.respond(stream, headers=[(b"content-type", b"application/json")],
                               body=json.dumps({"answer": 42, "list": [1, 2]}).encode())
        elif stream.path == "/latin":
            await conn.respond(stream, headers=[(b"content-type", b"text/plain; charset=ISO-8859-1")],
                               body="café".encode("latin-1"))
        else:
            await conn.respond(stream, body="naïve ✓".encode())

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/json")
            assert await response.json() == {"answer": 42, "list": [1, 2]}
            assert await response.read() == b'{"answer": 42, "list": [1, 2]}'  # kept after json()
            assert await (await client.get("/latin")).text() == "café"
            assert await (await client.get("/utf8")).text() == "naïve ✓"
            response = await client.get("/utf8")
            async for _ in response:  # iteration after read() gives the body once
                pass
            response = await client.get("/utf8")
            body = await response.read()
            assert [chunk async for chunk in response] == [body]

    run(main())


def test_json_request_body() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        body = await stream.read_body()
        content_type = dict(stream.headers)[b"content-type"]
        await conn.respond(stream, headers=[(b"content-type", content_type)], body=body)

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.request("PUT", "/thing", json={"a": [1, "b"]})
            assert response.header("content-type") == "application/json"
            assert await response.json() == {"a": [1, "b"]}
            with pytest.raises(TypeError):
                await client.request("PUT", "/thing", body=b"x", json={})
            with pytest.raises(TypeError):
                await client.post("/thing", {"a": 1})  # a dict is not a body

    run(main())


def test_trailers() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await conn.respond(stream, headers=[(b"trailer", b"grpc-status")], body=b"payload",
                           trailers=[(b"grpc-status", b"0"), (b"grpc-message", b"ok")])

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/rpc")
            assert await response.read() == b"payload"
            assert response.trailers == [(b"grpc-status", b"0"), (b"grpc-message", b"ok")]
            plain = await client.get("/rpc-again")
            await plain.read()
            assert plain.trailers == [(b"grpc-status", b"0"), (b"grpc-message", b"ok")]

    run(main())


def test_no_trailers_is_none() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/")
            await response.read()
            assert response.trailers is None

    run(main())


def test_module_level_get_and_post() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        body = await stream.read_body()
        await conn.respond(stream, body=stream.method.encode() + b" " + body)

    async def main() -> None:
        async with Peer(handler) as peer:
            response = await h2c.get(peer.url + "/a?b=c")
            assert response.status == 200
            assert await response.read() == b"GET "
            response = await h2c.post(peer.url + "/submit", b"form-data")
            assert await response.text() == "POST form-data"
            response = await h2c.request("DELETE", peer.url + "/thing", timeout=10)
            assert await response.read() == b"DELETE "
            # One connection per call, each closed afterwards.
            assert len(peer.connections) == 3
            for connection in peer.connections:
                await asyncio.wait_for(connection.lost.wait(), 10)
            assert [r.path for r in peer.requests] == ["/a?b=c", "/submit", "/thing"]

    run(main())


def test_many_concurrent_requests_respect_max_concurrent_streams() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await stream.ended.wait()
        await asyncio.sleep(0.01)  # keep the stream open while others arrive
        await conn.respond(stream, body=stream.path.encode())

    async def main() -> None:
        settings = {h2lite.Setting.MAX_CONCURRENT_STREAMS: 5}
        async with Peer(handler, settings=settings) as peer, h2c.connect(peer.url) as client:
            responses = await asyncio.gather(*(client.get(f"/r{i}") for i in range(50)))
            bodies = [await r.read() for r in responses]
            assert bodies == [f"/r{i}".encode() for i in range(50)]
            assert len(peer.connections) == 1
            connection = peer.connections[0]
            # RFC 9113 §5.1.2: never more streams open than the server allows.
            assert connection.max_open == 5
            assert peer.resets == []
            # Queued requests open streams in the order they were made.
            assert [r.path for r in peer.requests] == [f"/r{i}" for i in range(50)]
            assert sorted(r.stream_id for r in responses) == list(range(1, 100, 2))

    run(main())


def test_concurrent_requests_with_bodies_multiplex() -> None:
    bodies = [bytes([i]) * (200_000 + i) for i in range(6)]

    async def main() -> None:
        async with Peer(_echo_digest, settings={h2lite.Setting.INITIAL_WINDOW_SIZE: 32768}) as peer:
            async with h2c.connect(peer.url) as client:
                responses = await asyncio.gather(*(
                    client.post(f"/u{i}", _agen(body, 7000)) for i, body in enumerate(bodies)
                ))
                results = [await r.json() for r in responses]
        assert [r["sha256"] for r in results] == [hashlib.sha256(b).hexdigest() for b in bodies]
        assert len(peer.connections) == 1

    run(main())


def test_server_push_is_available_to_the_caller() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await stream.ended.wait()
        promised = conn.push(stream, "/style.css")
        await conn.respond(stream, body=b"<html>")
        await conn.respond(stream, headers=[(b"content-type", b"text/css")], body=b"body{}", stream_id=promised)

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/index.html")
            assert await response.read() == b"<html>"
            [pushed] = response.pushed
            assert client.pushed == [pushed]
            assert pushed.method == "GET"
            assert pushed.path == "/style.css"
            assert pushed.authority == f"127.0.0.1:{peer.port}"
            assert pushed.parent_stream_id == response.stream_id
            assert pushed.stream_id % 2 == 0
            assert (b":path", b"/style.css") in pushed.request_headers
            pushed_response = await pushed.response()
            assert client.pushed == []  # taken
            assert pushed_response.status == 200
            assert pushed_response.header("content-type") == "text/css"
            assert await pushed_response.read() == b"body{}"
            assert await pushed.response() is pushed_response

    run(main())


def test_push_refused_when_disabled_by_config() -> None:
    seen: list[str] = []

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await stream.ended.wait()
        try:
            conn.push(stream, "/style.css")
        except h2.exceptions.ProtocolError as exc:
            seen.append(type(exc).__name__)
        await conn.respond(stream, body=b"page")

    async def main() -> None:
        config = h2lite.Config(client_side=True, enable_push=False, auto_flow_control=False)
        async with Peer(handler) as peer, h2c.connect(peer.url, config=config) as client:
            response = await client.get("/")
            assert await response.read() == b"page"
            assert response.pushed == [] and client.pushed == []
        # RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH=0 forbids the server to push.
        assert seen == ["ProtocolError"]

    run(main())


def test_cancelled_push_is_reset_with_cancel() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await stream.ended.wait()
        promised = conn.push(stream, "/big.js")
        await conn.respond(stream, body=b"page")
        conn.conn.send_headers(promised, [(b":status", b"200")])
        conn.flush()

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/")
            await response.read()
            [pushed] = response.pushed
            pushed.cancel()
            assert client.pushed == []
            await peer.connections[0].ping_roundtrip()
            assert (pushed.stream_id, h2lite.ErrorCode.CANCEL) in peer.resets
            assert await (await client.get("/next")).read() == b"page"

    run(main())


def test_awaitable_connect_and_explicit_close() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer:
            client = await h2c.connect(peer.url)
            assert not client.closed
            assert await (await client.get("/x")).read() == b"you asked for /x"
            await client.close()
            assert client.closed
            with pytest.raises(h2c.ConnectionClosedError) as info:
                await client.get("/y")
            assert info.value.retry_safe
            await asyncio.wait_for(peer.connections[0].lost.wait(), 10)
            # The client said goodbye with GOAWAY NO_ERROR.
            goaway = peer.connections[0].goaway_received
            assert goaway is not None and goaway.error_code == 0

    run(main())


def test_first_request_opens_the_connection() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer:
            client = h2c.connect(peer.url)
            responses = await asyncio.gather(client.get("/1"), client.get("/2"))
            assert [await r.read() for r in responses] == [b"you asked for /1", b"you asked for /2"]
            await client.close()
            assert len(peer.connections) == 1

    run(main())


def test_response_closed_early_resets_its_stream() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await conn.respond(stream, body=b"x" * 500_000)

    async def main() -> None:
        config = h2lite.Config(client_side=True, auto_flow_control=False, initial_window_size=65535)
        async with Peer(handler) as peer, h2c.connect(peer.url, config=config) as client:
            async with await client.get("/big") as response:
                first = await response.__aiter__().__anext__()
                assert first
            await asyncio.wait_for(peer.requests[0].reset.wait(), 10)
            assert peer.requests[0].reset_code == h2lite.ErrorCode.CANCEL
            with pytest.raises(h2c.StreamResetError):
                await response.read()
            # The connection carries on.
            second = await client.get("/again")
            assert len(await second.read()) == 500_000

    run(main())


def test_bad_arguments() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer, h2c.connect(peer.url) as client:
            with pytest.raises(ValueError):
                await client.get("relative")
            with pytest.raises(ValueError):
                await client.get("http://elsewhere.example/x")
            with pytest.raises(TypeError):
                await client.post("/", 12345)
            with pytest.raises(ValueError):
                await client.get("/", timeout=0)
            with pytest.raises(h2lite.InvalidHeaderError):
                await client.get("/", headers={"connection": "keep-alive"})  # RFC 9113 §8.2.2
            # A full URL of the same origin is fine, and the connection is still usable.
            response = await client.get(f"{peer.url}/full?q=1")
            assert await response.read() == b"you asked for /full?q=1"

    with pytest.raises(ValueError):
        h2c.connect("ftp://example.org")
    with pytest.raises(ValueError):
        h2c.connect("http://")
    with pytest.raises(ValueError):
        h2c.connect("https://example.org", config=h2lite.Config(client_side=False))
    with pytest.raises(TypeError):
        h2c.connect("https://example.org", config=object())  # type: ignore[arg-type]
    run(main())


def test_path_is_percent_encoded() -> None:
    async def main() -> None:
        async with Peer(respond_ok) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/a b/é?q=x y")
            await response.read()
        assert peer.requests[0].path == "/a%20b/%C3%A9?q=x%20y"

    run(main())


def test_informational_responses_are_kept() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        conn.conn.send_headers(stream.stream_id, [(b":status", b"103"), (b"link", b"</a.css>; rel=preload")])
        conn.flush()
        await conn.respond(stream, body=b"final")

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/")
            assert response.status == 200
            assert response.informational == [[(b":status", b"103"), (b"link", b"</a.css>; rel=preload")]]
            assert await response.read() == b"final"

    run(main())


def test_unread_response_dropped_by_the_caller_is_cancelled() -> None:
    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await conn.respond(stream, body=b"z" * 300_000)

    async def main() -> None:
        config = h2lite.Config(client_side=True, auto_flow_control=False, initial_window_size=65535)
        async with Peer(handler) as peer, h2c.connect(peer.url, config=config) as client:
            response = await client.get("/big")
            assert response.status == 200
            del response
            gc.collect()
            await asyncio.wait_for(peer.requests[0].reset.wait(), 10)
            # RFC 9113 §8.7: nobody will read it, so the client cancels the stream.
            assert peer.requests[0].reset_code == h2lite.ErrorCode.CANCEL
            assert len(await (await client.get("/next")).read()) == 300_000

    run(main())


def test_pushes_nobody_takes_are_capped() -> None:
    extra = 3

    async def handler(conn: PeerConnection, stream: PeerStream) -> None:
        await stream.ended.wait()
        for i in range(h2c.MAX_UNTAKEN_PUSHES + extra):
            conn.push(stream, f"/p{i}")
        await conn.respond(stream, body=b"page")

    async def main() -> None:
        async with Peer(handler) as peer, h2c.connect(peer.url) as client:
            response = await client.get("/")
            assert await response.read() == b"page"
            assert len(client.pushed) == h2c.MAX_UNTAKEN_PUSHES
            assert [p.path for p in client.pushed] == [f"/p{i}" for i in range(h2c.MAX_UNTAKEN_PUSHES)]
            await peer.connections[0].ping_roundtrip()
            refused = [sid for sid, code in peer.resets if code == h2lite.ErrorCode.CANCEL]
            assert len(refused) == extra
            # Cancelling one makes room for the next promise.
            client.pushed[0].cancel()
            assert len(client.pushed) == h2c.MAX_UNTAKEN_PUSHES - 1

    run(main())
