"""h2lite.aio.server: failures on either side, and the edges of the handler API.

A handler's failure costs its own stream (500, or RST_STREAM INTERNAL_ERROR)
and nothing else; the client's connection errors and GOAWAY close what they
must; misuse of the API raises LocalProtocolError, TypeError or ValueError.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest
from hpack import NeverIndexedHeaderTuple

from h2lite import ErrorCode, LocalProtocolError
from h2lite.aio.server import Request, RequestHandler, Response

from ..helpers import frame
from ._server_peers import H2Client, client_of, running

pytestmark = pytest.mark.timeout(30)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_failing_constructor_or_callback_gives_500(caplog: Any) -> None:
    class Handler(RequestHandler):
        def __init__(self, protocol: Any, stream_id: int) -> None:
            super().__init__(protocol, stream_id)
            if self.path == "/init":
                raise RuntimeError("constructor")

        def on_request_done(self) -> None:
            if self.path == "/done":
                raise RuntimeError("request done")
            self.send_response(200, body=b"ok")

        def on_close(self, error_code: int) -> None:
            if self.path == "/close":
                raise RuntimeError("on_close")

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            assert (await client.get("/init")).status == 500
            assert (await client.get("/done")).status == 500
            assert bytes((await client.get("/close")).body) == b"ok"
            await client.ping_round_trip()
            assert bytes((await client.get("/fine")).body) == b"ok"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    messages = sorted(str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert messages == ["constructor", "on_close", "request done"]


def test_a_connection_error_closes_every_stream() -> None:
    closed: list[int] = []

    class Handler(RequestHandler):
        def on_close(self, error_code: int) -> None:
            closed.append(error_code)

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            client.request("/", end_stream=False)
            await client.ping_round_trip()
            # RFC 9113 §6.7: PING on a stream is a connection error PROTOCOL_ERROR.
            client.writer.write(frame(0x6, 0, 1, bytes(8)))
            await client.wait_eof()
            assert [g.error_code for g in client.goaways] == [ErrorCode.PROTOCOL_ERROR]

    run(main())
    assert closed == [ErrorCode.CANCEL]


def test_the_clients_goaway() -> None:
    closed: list[int] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            if self.path == "/later":
                self.create_task(self.later())

        async def later(self) -> None:
            await asyncio.sleep(0.05)
            self.send_response(200, body=b"after the client's GOAWAY")

        def on_close(self, error_code: int) -> None:
            closed.append(error_code)

    async def main() -> None:
        async with running(Handler) as server:
            # GOAWAY NO_ERROR: the stream in flight still gets its response, then the server closes.
            client = await H2Client.connect(server.port, engine="h2lite")
            sid = client.request("/later")
            await client.ping_round_trip()
            client.conn.close_connection()
            client.flush()
            log = await client.response(sid)
            assert bytes(log.body) == b"after the client's GOAWAY"
            await client.wait_eof()
            await client.close()
            # GOAWAY with an error: the server drops the connection at once.
            client = await H2Client.connect(server.port)
            client.request("/hang")
            await client.ping_round_trip()
            client.conn.close_connection(ErrorCode.INTERNAL_ERROR)
            client.flush()
            await client.wait_eof()
            await client.close()

    run(main())
    assert closed == [0, ErrorCode.CANCEL]


def test_push_edges() -> None:
    results: list[Any] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            results.append(self.push("/pushed", body=b"p"))
            try:
                self.push("/post", method="POST")
            except LocalProtocolError as exc:
                results.append(type(exc))
            self.send_response(200, body=b"main")

        def on_close(self, error_code: int) -> None:
            # The response has ended: too late to promise anything on this stream.
            try:
                self.push("/late")
            except LocalProtocolError as exc:
                results.append(type(exc))

    async def main() -> None:
        # MAX_CONCURRENT_STREAMS 0: the client takes no pushed response (RFC 9113 §5.1.2).
        async with running(Handler) as server, client_of(server, settings={0x3: 0}) as client:
            await client.ping_round_trip()
            log = await client.get("/")
            assert bytes(log.body) == b"main"
            await client.ping_round_trip()
            assert client.streams[2].reset == ErrorCode.REFUSED_STREAM

    run(main())
    assert results == [False, LocalProtocolError, LocalProtocolError]


def test_a_response_after_the_client_reset_is_dropped() -> None:
    files: list[io.BytesIO] = []
    closed: list[int] = []
    done = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            self.create_task(self.later())

        async def later(self) -> None:
            while not closed:
                await asyncio.sleep(0.01)
            files.append(io.BytesIO(b"never sent"))
            self.send_response(200, body=files[-1])
            assert self.push("/x") is False
            done.append(True)

        def on_close(self, error_code: int) -> None:
            closed.append(error_code)

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            sid = client.request("/")
            await client.ping_round_trip()
            client.conn.reset_stream(sid, ErrorCode.CANCEL)
            client.flush()
            for _ in range(500):
                if done:
                    break
                await asyncio.sleep(0.01)
            await client.ping_round_trip()
            assert client.streams[sid].status is None

    run(main())
    assert closed == [ErrorCode.CANCEL] and done == [True]
    assert files[0].closed


def test_bodies_that_fail_reset_the_stream(caplog: Any) -> None:
    async def numbers() -> Any:
        yield "text is fine "
        yield 42

    async def handler(request: Request) -> Response:
        if request.path == "/text-file":
            return Response(200, body=io.StringIO("a text file"))
        if request.path == "/numbers":
            return Response(200, body=numbers())
        return Response(200, body=b"fine")

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/text-file")
            assert log.reset == ErrorCode.INTERNAL_ERROR
            log = await client.get("/numbers")
            assert log.reset == ErrorCode.INTERNAL_ERROR
            assert bytes(log.body) == b"text is fine "
            assert bytes((await client.get("/")).body) == b"fine"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    assert [type(r.exc_info[1]) for r in caplog.records if r.exc_info] == [TypeError, TypeError]


def test_a_pull_callable_may_return_more_than_asked() -> None:
    calls: list[int] = []
    blob = bytes(range(256)) * 400

    async def handler(request: Request) -> Response:
        given = []

        def pull(max_length: int) -> bytes | None:
            calls.append(max_length)
            if given:
                return None
            given.append(True)
            return blob  # larger than any frame: the rest is kept for later calls

        return Response(200, body=pull)

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            assert bytes((await client.get("/")).body) == blob

    run(main())
    assert len(calls) == 2


def test_an_async_generator_stopped_by_a_reset_runs_its_cleanup() -> None:
    state: dict[str, Any] = {"cleaned": False, "started": False}

    async def endless() -> Any:
        try:
            while True:
                state["started"] = True
                yield b"tick"
                await asyncio.sleep(0.01)
        finally:
            state["cleaned"] = True

    async def handler(request: Request) -> Response:
        return Response(200, body=endless())

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/")
            await client.wait_until(lambda: len(client.streams[sid].body) > 0)
            client.conn.reset_stream(sid, ErrorCode.CANCEL)
            client.flush()
            await client.ping_round_trip()
            for _ in range(100):
                if state["cleaned"]:
                    break
                await asyncio.sleep(0.01)

    run(main())
    assert state["started"] and state["cleaned"]


def test_header_forms() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/bad":
            return Response(200, [("x-bad", 1.5)], b"")
        return Response(
            200,
            [("x-count", 3), (b"x-bytes", b"b"), NeverIndexedHeaderTuple(b"x-secret", b"s")],
            b"",
        )

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert (b"x-count", b"3") in log.headers and (b"x-bytes", b"b") in log.headers
            assert isinstance(next(h for h in log.headers if h[0] == b"x-secret"), NeverIndexedHeaderTuple)
            assert (await client.get("/bad")).status == 500

    run(main())


def test_class_form_request_trailers() -> None:
    seen: list[Any] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            seen.append(self.trailers)
            self.send_response(200)

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            sid = client.request("/", method="POST", end_stream=False)
            await client.send_body(sid, b"x", end_stream=False)
            client.conn.send_headers(sid, [("x-sum", "1")], end_stream=True)
            client.flush()
            assert (await client.response(sid)).status == 200

    run(main())
    assert seen == [[(b"x-sum", b"1")]]


def test_reading_a_request_after_it_was_stopped_raises() -> None:
    outcome: list[Any] = []

    async def handler(request: Request) -> Response:
        async def read_later() -> None:
            try:
                await request.body()
            except ConnectionResetError as exc:
                outcome.append(exc)

        asyncio.get_running_loop().create_task(read_later())
        response = Response(200, body=b"early")
        response.resume()  # nothing to wake before it is sent
        outcome.append(repr(request))
        return response

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/r", method="POST", end_stream=False)
            log = await client.response(sid)
            assert bytes(log.body) == b"early"
            await client.ping_round_trip()
            await asyncio.sleep(0.01)

    run(main())
    assert outcome[0] == "Request(POST /r, stream_id=1)"
    assert isinstance(outcome[1], ConnectionResetError)


def test_a_request_reset_in_the_same_read_is_answered_with_nothing() -> None:
    outcomes: list[Any] = []

    class Eager(RequestHandler):
        def on_headers(self) -> None:
            # Both the request and its RST_STREAM were in one read: the
            # connection has already closed the stream.
            outcomes.append(self.push("/p", body=io.BytesIO(b"x")))
            self.send_response(200, body=b"too late")
            outcomes.append("sent")

        def on_close(self, error_code: int) -> None:
            outcomes.append(error_code)

    async def main() -> None:
        async with running(Eager) as server, client_of(server) as client:
            await client.ping_round_trip()
            sid = client.conn.get_next_available_stream_id()
            client.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")])
            client.conn.reset_stream(sid, ErrorCode.CANCEL)
            client.flush()  # one write: HEADERS then RST_STREAM
            await client.ping_round_trip()
            assert not [e for e in client.events if getattr(e, "stream_id", None) == sid]

    run(main())
    assert outcomes == [False, "sent", ErrorCode.CANCEL]


def test_host_stands_in_for_a_missing_authority() -> None:
    seen: list[str] = []

    async def handler(request: Request) -> Response:
        seen.append(request.authority)
        return Response(204)

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            sid = client.conn.get_next_available_stream_id()
            # RFC 9113 §8.3.1: a request may carry Host instead of :authority.
            client.conn.send_headers(
                sid, [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "via-host.test")], end_stream=True
            )
            client.flush()
            assert (await client.response(sid)).status == 204

    run(main())
    assert seen == ["via-host.test"]


def test_invalid_fields_in_a_response_are_the_handlers_error(caplog: Any) -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/headers":
            # RFC 9113 §8.2.2: connection-specific fields are not allowed.
            return Response(200, [("connection", "close")], b"x")
        # RFC 9113 §8.1: trailers carry no pseudo-header fields.
        return Response(200, body=b"x", trailers=[(":status", "200")])

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            assert (await client.get("/headers")).status == 500
            log = await client.get("/trailers")
            assert log.status == 200 and log.reset == ErrorCode.INTERNAL_ERROR
            assert bytes((await client.get("/headers")).body) == b"Internal Server Error\n"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    assert {type(r.exc_info[1]).__name__ for r in caplog.records if r.exc_info} == {"InvalidHeaderError"}
