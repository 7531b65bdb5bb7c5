"""h2lite.aio.server: requests, response bodies, push, trailers, handler errors.

The client is the ``h2`` package (tests/aio/_server_peers.py), so the server
is checked against an independent HTTP/2 implementation.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest

from h2lite import DEFERRED, Config, ErrorCode, LocalProtocolError
from h2lite.aio.server import Request, RequestHandler, Response, serve, server_config

from ._server_peers import client_of, running

pytestmark = pytest.mark.timeout(30)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- the function form ------------------------------------------------------------------


def test_get_with_the_function_form() -> None:
    seen: list[Request] = []

    async def handler(request: Request) -> Response:
        seen.append(request)
        return Response(200, [("content-type", "text/plain")], b"hello " + request.path.encode())

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/world?x=1", headers=[("x-thing", "yes")])
            assert log.status == 200
            assert bytes(log.body) == b"hello /world?x=1"
            assert log.header(b"content-type") == b"text/plain"
            # bytes bodies get a content-length (RFC 9110 §8.6).
            assert log.header(b"content-length") == b"16"
            assert log.ended and log.reset is None

    run(main())
    request = seen[0]
    assert (request.method, request.path, request.scheme, request.authority) == ("GET", "/world?x=1", "http", "localhost")
    assert (b"x-thing", b"yes") in request.headers
    assert request.headers[0] == (b":method", b"GET")
    assert request.stream_id == 1
    assert request.client_address[0] == "127.0.0.1"


def test_post_body_reaches_the_handler_and_several_streams_share_a_connection() -> None:
    async def handler(request: Request) -> Response:
        body = await request.body()
        return Response(201, body=b"%d:%s" % (len(body), body[:5]))

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            ids = []
            for n in range(5):
                sid = client.request("/up", method="POST", end_stream=False)
                await client.send_body(sid, b"abcde" * (n + 1))
                ids.append(sid)
            logs = [await client.response(sid) for sid in ids]
            assert [bytes(log.body) for log in logs] == [b"%d:abcde" % (5 * (n + 1)) for n in range(5)]
            assert {log.status for log in logs} == {201}

    run(main())


def test_request_trailers_and_body_iteration() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: Request) -> Response:
        seen["chunks"] = [chunk async for chunk in request]
        seen["trailers"] = request.trailers
        # body() after iteration has nothing left to give.
        seen["rest"] = await request.body()
        return Response(204)

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/t", method="POST", end_stream=False)
            await client.send_body(sid, b"one", end_stream=False)
            await client.send_body(sid, b"two", end_stream=False)
            client.conn.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
            client.flush()
            log = await client.response(sid)
            assert log.status == 204 and bytes(log.body) == b""

    run(main())
    assert b"".join(seen["chunks"]) == b"onetwo"
    assert seen["trailers"] == [(b"x-checksum", b"abc")]
    assert seen["rest"] == b""


def test_head_response_has_no_body_but_keeps_its_length() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"x" * 100)

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/", method="HEAD")
            # RFC 9110 §9.3.2: HEAD is answered like GET without content.
            assert log.status == 200 and log.body == b"" and log.ended
            assert log.header(b"content-length") == b"100"

    run(main())


# -- response bodies -----------------------------------------------------------------------


def test_str_body_is_utf8() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, {"content-type": "text/plain; charset=utf-8"}, "héllo")

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == "héllo".encode()
            assert log.header(b"content-length") == b"6"

    run(main())


def test_file_body_is_sent_whole_and_closed(tmp_path: Any) -> None:
    payload = bytes(range(256)) * 1000  # 256 kB: several windows and frames
    path = tmp_path / "data.bin"
    path.write_bytes(payload)
    files: list[Any] = []

    async def handler(request: Request) -> Response:
        if request.path == "/disk":
            files.append(open(path, "rb"))  # noqa: SIM115, ASYNC230 (the server closes it)
        else:
            files.append(io.BytesIO(payload))
        return Response(200, body=files[-1])

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            for path_ in ("/disk", "/memory"):
                log = await client.get(path_)
                assert bytes(log.body) == payload and log.ended

    run(main())
    assert all(f.closed for f in files)


def test_async_iterable_body_streams_each_chunk() -> None:
    finished = []

    async def chunks() -> Any:
        try:
            for n in range(50):
                yield b"%04d" % n * 1000
                await asyncio.sleep(0)
        finally:
            finished.append(True)

    async def handler(request: Request) -> Response:
        return Response(200, body=chunks())

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"".join(b"%04d" % n * 1000 for n in range(50))
            # No content-length for a body of unknown length.
            assert log.header(b"content-length") is None

    run(main())
    assert finished == [True]


def test_pull_callable_with_deferred_and_resume_in_the_function_form() -> None:
    pieces = [b"first ", b"second ", b"third"]
    calls: list[int] = []

    async def handler(request: Request) -> Response:
        ready: list[bytes] = []

        def pull(max_length: int) -> Any:
            calls.append(max_length)
            if ready:
                return ready.pop(0)
            return None if not pieces else DEFERRED

        response = Response(200, body=pull)

        async def produce() -> None:
            while pieces:
                await asyncio.sleep(0.01)
                ready.append(pieces.pop(0))
                response.resume()

        asyncio.get_running_loop().create_task(produce())
        return response

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"first second third"

    run(main())
    assert calls and all(0 < n <= 16384 for n in calls)


def test_pull_callable_with_deferred_and_resume_in_the_class_form() -> None:
    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            self.queue: list[bytes] = []
            self.done = False
            self.send_response(200, body=self.pull)
            self.create_task(self.produce())

        def pull(self, max_length: int) -> Any:
            if self.queue:
                return self.queue.pop(0)
            return b"" if self.done else DEFERRED

        async def produce(self) -> None:
            for n in range(3):
                await asyncio.sleep(0.01)
                self.queue.append(b"part%d;" % n)
                self.resume()
            self.done = True
            self.resume()

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"part0;part1;part2;" and log.ended

    run(main())


def test_empty_body_ends_with_the_headers() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"")

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert log.status == 200 and log.ended and log.body == b""

    run(main())


# -- trailers and push ------------------------------------------------------------------------


def test_response_trailers_follow_the_body() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/none":
            return Response(200, trailers={"x-status": "ok"})
        return Response(200, body=b"payload", trailers=[("x-digest", "d1")])

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"payload"
            assert log.trailers == [(b"x-digest", b"d1")] and log.ended
            log = await client.get("/none")
            assert log.body == b"" and log.trailers == [(b"x-status", b"ok")]

    run(main())


def test_send_trailers_after_a_streamed_body() -> None:
    errors: list[Exception] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            try:
                self.send_trailers([("too", "early")])
            except LocalProtocolError as exc:
                errors.append(exc)
            self.send_response(200, body=self.chunks())
            self.send_trailers([("x-count", "3")])

        async def chunks(self) -> Any:
            for n in range(3):
                await asyncio.sleep(0)
                yield b"c%d" % n

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"c0c1c2"
            assert log.trailers == [(b"x-count", b"3")]

    run(main())
    assert len(errors) == 1


def test_server_push() -> None:
    results: list[bool] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            if self.path == "/":
                results.append(self.push("/style.css", headers=[("content-type", "text/css")], body=b"body{}"))
                results.append(self.push("/app.js", body=b"run()"))
            self.send_response(200, body=b"<html>")

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            log = await client.get("/")
            assert bytes(log.body) == b"<html>"
            assert log.pushes == [2, 4]
            pushed = [await client.response(sid) for sid in log.pushes]
            promise = dict(client.streams[2].promise or [])
            assert promise[b":path"] == b"/style.css" and promise[b":method"] == b"GET"
            assert promise[b":authority"] == b"localhost" and promise[b":scheme"] == b"http"
            assert [bytes(p.body) for p in pushed] == [b"body{}", b"run()"]
            assert pushed[0].header(b"content-type") == b"text/css"

    run(main())
    assert results == [True, True]


def test_push_is_refused_quietly_when_the_client_disabled_it() -> None:
    results: list[bool] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            results.append(self.push("/style.css", body=b"body{}"))
            self.send_response(200, body=b"ok")

    async def main() -> None:
        async with running(Handler) as server, client_of(server, settings={0x2: 0}) as client:
            await client.ping_round_trip()  # the server has our ENABLE_PUSH=0
            log = await client.get("/")
            assert bytes(log.body) == b"ok" and log.pushes == []

    run(main())
    assert results == [False]


# -- the class form and handler errors -----------------------------------------------------------


def test_class_form_callbacks_in_order() -> None:
    calls: list[Any] = []

    class Handler(RequestHandler):
        def on_headers(self) -> None:
            calls.append(("headers", self.method, self.path, self.stream_id))

        def on_data(self, data: bytes) -> None:
            calls.append(("data", data))

        def on_request_done(self) -> None:
            calls.append("done")
            self.send_response(200, body=b"fine")

        def on_close(self, error_code: int) -> None:
            calls.append(("close", error_code))

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            sid = client.request("/x", method="PUT", end_stream=False)
            await client.send_body(sid, b"abc")
            log = await client.response(sid)
            assert bytes(log.body) == b"fine"
            await client.ping_round_trip()

    run(main())
    assert calls == [("headers", "PUT", "/x", 1), ("data", b"abc"), "done", ("close", 0)]


def test_exception_before_the_response_gives_500_and_other_streams_continue(caplog: Any) -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/boom":
            raise RuntimeError("boom")
        if request.path == "/bad":
            return "not a response"  # type: ignore[return-value]
        await asyncio.sleep(0.02)
        return Response(200, body=b"ok")

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            slow = client.request("/slow")
            boom = client.request("/boom")
            bad = client.request("/bad")
            assert (await client.response(boom)).status == 500
            assert (await client.response(bad)).status == 500
            log = await client.response(slow)
            assert log.status == 200 and bytes(log.body) == b"ok"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    failures = [r for r in caplog.records if r.name == "h2lite.aio" and r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert isinstance(failures[0].exc_info[1], RuntimeError)  # type: ignore[index]


def test_exception_after_the_response_started_resets_the_stream(caplog: Any) -> None:
    class Handler(RequestHandler):
        def on_headers(self) -> None:
            if self.path == "/fail":
                self.send_response(200, body=self.forever())

        async def forever(self) -> Any:
            yield b"start"
            await asyncio.sleep(3600)

        def on_data(self, data: bytes) -> None:
            raise ValueError("cannot take data")

        def on_request_done(self) -> None:
            if self.path != "/fail":
                self.send_response(200, body=b"still here")

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            sid = client.request("/fail", method="POST", end_stream=False)
            await client.wait_until(lambda: client.streams[sid].status == 200)
            await client.send_body(sid, b"data")
            log = await client.response(sid)
            assert log.reset == ErrorCode.INTERNAL_ERROR
            assert bytes(log.body) == b"start"
            log = await client.get("/other")
            assert bytes(log.body) == b"still here"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    assert any(isinstance(r.exc_info[1], ValueError) for r in caplog.records if r.exc_info)


def test_body_iterator_failing_midway_resets_the_stream(caplog: Any) -> None:
    async def broken() -> Any:
        yield b"partial"
        raise OSError("disk gone")

    def broken_pull(max_length: int) -> bytes:
        raise OSError("no more")

    async def handler(request: Request) -> Response:
        if request.path == "/iter":
            return Response(200, body=broken())
        if request.path == "/pull":
            return Response(200, body=broken_pull)
        return Response(200, body=b"fine")

    async def main() -> None:
        async with running(handler) as server, client_of(server) as client:
            for path in ("/iter", "/pull"):
                log = await client.get(path)
                assert log.status == 200 and log.reset == ErrorCode.INTERNAL_ERROR
            assert bytes((await client.get("/ok")).body) == b"fine"

    with caplog.at_level(logging.ERROR, logger="h2lite.aio"):
        run(main())
    assert sum(isinstance(r.exc_info[1], OSError) for r in caplog.records if r.exc_info) == 2


def test_bad_response_arguments_are_the_callers_error() -> None:
    errors: list[Exception] = []

    class Handler(RequestHandler):
        def on_request_done(self) -> None:
            for status, body in ((99, None), (200, object())):
                try:
                    self.send_response(status, body=body)
                except (ValueError, TypeError) as exc:
                    errors.append(exc)
            self.send_response(200, body=b"ok")
            try:
                self.send_response(200, body=b"again")
            except LocalProtocolError as exc:
                errors.append(exc)

    async def main() -> None:
        async with running(Handler) as server, client_of(server) as client:
            assert bytes((await client.get("/")).body) == b"ok"

    run(main())
    assert [type(e) for e in errors] == [ValueError, TypeError, LocalProtocolError]


def test_client_reset_cancels_the_handler_and_calls_on_close() -> None:
    state: dict[str, Any] = {}
    closed: list[int] = []

    async def handler(request: Request) -> Response:
        if request.path == "/again":
            return Response(200, body=b"yes")
        state["started"].set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        return Response(200)

    class Handler(RequestHandler):
        def on_close(self, error_code: int) -> None:
            closed.append(error_code)

    async def main() -> None:
        state["started"] = asyncio.Event()
        async with running(handler) as server, client_of(server) as client:
            sid = client.request("/")
            await asyncio.wait_for(state["started"].wait(), 10)
            client.conn.reset_stream(sid, ErrorCode.CANCEL)
            client.flush()
            # The connection carries on.
            assert bytes((await client.get("/again")).body) == b"yes"
        async with running(Handler) as server, client_of(server) as client:
            sid = client.request("/", end_stream=False)
            await client.ping_round_trip()
            client.conn.reset_stream(sid, ErrorCode.STREAM_CLOSED)
            client.flush()
            await client.ping_round_trip()

    run(main())
    assert state.get("cancelled") is True
    assert closed == [ErrorCode.STREAM_CLOSED]


def test_server_config_imposes_the_role_and_manual_flow_control() -> None:
    config = server_config(Config(client_side=True, auto_flow_control=True, header_encoding="utf-8", initial_window_size=1000))
    assert config.client_side is False and config.auto_flow_control is False
    assert config.header_encoding is None and config.initial_window_size == 1000
    assert server_config(None).connection_window_size > server_config(None).initial_window_size
    with pytest.raises(TypeError):
        server_config({"client_side": False})  # type: ignore[arg-type]


def test_serve_rejects_what_is_not_a_handler() -> None:
    def not_async(request: Request) -> Response:
        return Response()

    async def main() -> None:
        for bad in (object(), int, not_async):
            with pytest.raises(TypeError):
                await serve(bad, "127.0.0.1", 0)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await serve(RequestHandler, "127.0.0.1", 0, ssl=True)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await serve(RequestHandler, "127.0.0.1", 0, preface_timeout=0)

    run(main())
