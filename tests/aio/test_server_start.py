"""h2lite.aio.server: how connections start.

HTTP/2 with prior knowledge (RFC 9113 §3.3), ``Upgrade: h2c`` (RFC 7540 §3.2),
TLS with ALPN ``h2`` (RFC 9113 §3.2), and what a cleartext port answers to
anything else: an HTTP/1.1 error for HTTP/1.1, GOAWAY PROTOCOL_ERROR for
garbage (RFC 9113 §3.4), and a close for a preface that never completes.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import h2.config
import h2.connection
import pytest
import trustme

from h2lite import ErrorCode
from h2lite.aio.server import Request, Response

from ..helpers import goaway_code, parse_frames
from ._server_peers import H2Client, read_all, running

pytestmark = pytest.mark.timeout(30)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(200, [("x-method", request.method)], b"%s %s %s" % (request.path.encode(), request.scheme.encode(), body))


# -- h2c upgrade -------------------------------------------------------------------------------


async def upgrade(port: int, request_head: bytes, body: bytes = b"") -> tuple[bytes, H2Client | None, asyncio.StreamWriter]:
    """Send an HTTP/1.1 request; return the server's response head and, after a 101, an HTTP/2 client."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_head + body)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    if not head.startswith(b"HTTP/1.1 101 "):
        return head, None, writer
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_upgrade_connection()
    return head, await H2Client.after_upgrade(reader, writer, conn), writer


def upgrade_head(method: str = "GET", extra: str = "", settings: str | None = None) -> bytes:
    if settings is None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        settings = conn.initiate_upgrade_connection().decode()
    return (
        f"{method} /up?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        f"Upgrade: h2c\r\nHTTP2-Settings: {settings}\r\n{extra}\r\n"
    ).encode()


def test_h2c_upgrade_answers_the_request_on_stream_1() -> None:
    async def main() -> None:
        async with running(echo) as server:
            head, client, _ = await upgrade(server.port, upgrade_head())
            assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
            assert b"\r\nUpgrade: h2c\r\n" in head
            assert client is not None
            log = await client.response(1)
            assert log.status == 200 and bytes(log.body) == b"/up?q=1 http "
            # The upgraded connection is plain HTTP/2 from now on.
            log = await client.get("/next")
            assert bytes(log.body) == b"/next http "
            await client.close()

    run(main())


def test_h2c_upgrade_carries_a_request_body_over() -> None:
    async def main() -> None:
        async with running(echo) as server:
            _, client, _ = await upgrade(
                server.port, upgrade_head("POST", "Content-Length: 11\r\n"), b"upload body"
            )
            assert client is not None
            log = await client.response(1)
            assert bytes(log.body) == b"/up?q=1 http upload body"
            assert log.header(b"x-method") == b"POST"
            await client.close()

    run(main())


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (upgrade_head(settings="!!not base64!!"), b"400"),
        (upgrade_head("POST", "Content-Length: 1000000\r\n"), b"413"),
        (upgrade_head(extra="X-Folded: a\r\n b\r\n"), b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"505"),
        # Upgrade is ignored in HTTP/1.0 (RFC 9110 §7.8).
        (upgrade_head().replace(b"HTTP/1.1", b"HTTP/1.0"), b"505"),
        (b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000, b"431"),
    ],
    ids=["bad-settings", "body-too-large", "obs-fold", "http1", "http1.0-upgrade", "head-too-long"],
)
def test_http1_requests_that_cannot_upgrade_get_an_http1_error_and_close(head: bytes, status: bytes) -> None:
    async def main() -> None:
        async with running(echo) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(head)
            reply = await read_all(reader)
            writer.close()
            assert reply.startswith(b"HTTP/1.1 " + status + b" ")
            head_, _, body = reply.partition(b"\r\n\r\n")
            assert b"\r\nConnection: close" in head_
            assert b"Content-Length: %d" % len(body) in head_

    run(main())


# -- not HTTP at all ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        bytes.fromhex("16030100c4010000c00303"),  # a TLS ClientHello on the cleartext port
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",  # a preface wrong in its last part
        b"GET / SPDY/3\r\n\r\n",  # a request line that is not HTTP/1.x
        b"GET / SPDY/3\r\n",  # the same, answered before the head is complete
        b"hello\r\n",  # a word and CR LF: neither a request line nor the preface
        b"\r\n",
    ],
    ids=["tls-hello", "bad-preface", "not-http1", "not-http1-line", "word", "crlf"],
)
def test_garbage_gets_goaway_protocol_error_and_close(garbage: bytes) -> None:
    async def main() -> None:
        async with running(echo) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(garbage)
            reply = await read_all(reader)
            writer.close()
            # RFC 9113 §3.4: an invalid preface is a connection error PROTOCOL_ERROR.
            types = [f[0] for f in parse_frames(reply)]
            assert types[0] == 0x4 and types[-1] == 0x7  # our SETTINGS first, GOAWAY last
            assert goaway_code(reply) == ErrorCode.PROTOCOL_ERROR

    run(main())


@pytest.mark.parametrize("start", [b"PRI * HTTP/2.0\r\n", b"", b"GET / HTTP/1.1\r\nHost: x\r\n"], ids=["preface", "nothing", "http1-head"])
def test_a_stalled_start_is_closed_after_the_preface_timeout(start: bytes) -> None:
    async def main() -> None:
        async with running(echo, preface_timeout=0.2) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(start)
            assert await read_all(reader) == b""  # closed, nothing said
            writer.close()
            assert not server.connections

    run(main())


def test_preface_split_into_single_bytes_is_accepted() -> None:
    async def main() -> None:
        async with running(echo) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
            conn.initiate_connection()
            for byte in conn.data_to_send():
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0)
            client = H2Client(reader, writer, conn)
            log = await client.get("/bytes")
            assert log.status == 200
            await client.close()

    run(main())


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    return server_context, client_context


def test_tls_with_alpn_h2(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    client_context.set_alpn_protocols(["h2"])

    async def main() -> None:
        async with running(echo, ssl=server_context) as server:
            client = await H2Client.connect(server.port, ssl=client_context)
            ssl_object = client.writer.get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "h2"
            log = await client.get("/secure")
            assert log.status == 200 and bytes(log.body) == b"/secure http "
            await client.close()

    run(main())


def test_http1_over_tls_without_alpn_gets_505(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, _ = tls
    plain_client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    plain_client.check_hostname = False
    plain_client.verify_mode = ssl.CERT_NONE

    async def main() -> None:
        async with running(echo, ssl=server_context) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port, ssl=plain_client)
            assert writer.get_extra_info("ssl_object").selected_alpn_protocol() is None
            # h2c upgrade is for cleartext only (RFC 7540 §3.2): over TLS it is refused.
            writer.write(upgrade_head())
            reply = await read_all(reader)
            writer.close()
            assert reply.startswith(b"HTTP/1.1 505 ")

    run(main())
