"""``python -m h2lite serve`` and ``get`` end to end, over loopback.

The file server runs in-process on an event loop in a thread (so ``cli.main``
can run ``get`` in the test's own thread), or as a subprocess where signals
are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from h2lite import Config, _cli_serve, cli
from h2lite._cli_get import plan
from h2lite.aio.client import connect
from h2lite.aio.server import Request, Response, serve

pytestmark = pytest.mark.timeout(60)

SRC = Path(__file__).resolve().parent.parent / "src"


class ThreadLoop:
    """An event loop running in a thread, for servers the test's thread talks to."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 20.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def finish_tasks() -> None:
            # Let handlers still running unwind now, not as "destroyed" tasks later.
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(finish_tasks())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def thread_loop() -> Iterator[ThreadLoop]:
    loop = ThreadLoop()
    yield loop
    loop.stop()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<p>home</p>\n")
    (root / "style.css").write_bytes(b"p { color: teal }\n")
    (root / "data.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "notes.txt").write_bytes(b"notes\n")
    (tmp_path / "secret.txt").write_bytes(b"secret\n")
    return root


def serve_args(directory: Path, *extra: str) -> argparse.Namespace:
    args = cli.build_parser().parse_args(["serve", str(directory), "--port", "0", *extra])
    return args


@pytest.fixture
def served(thread_loop: ThreadLoop, site: Path) -> Iterator[str]:
    """The file server on ``site`` with a push for /index.html; yields its base URL."""
    server = thread_loop.run(_cli_serve.start(serve_args(site, "--push", "/index.html", "/style.css")))
    yield f"http://127.0.0.1:{server.port}"
    thread_loop.run(server.close())


def run_cli(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    status = cli.main(list(argv))
    out, err = capsysbinary.readouterr()
    return status, out, err.decode()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- the file server, through the asyncio client --------------------------------------


async def fetch(url: str, method: str, path: str, body: bytes | None = None,
                config: Config | None = None) -> tuple[int, dict[bytes, bytes], bytes, list[Any]]:
    async with connect(url, timeout=10, config=config) as client:
        response = await client.request(method, path, body=body)
        data = await response.read()
        pushed = []
        for promise in response.pushed:
            answer = await promise.response()
            pushed.append((promise.path, answer.status, await answer.read()))
        return response.status, dict(response.headers), data, pushed


def test_files_heads_and_errors(served: str, site: Path) -> None:
    status, headers, body, _ = asyncio.run(fetch(served, "GET", "/data.bin"))
    assert (status, body) == (200, (site / "data.bin").read_bytes())
    assert headers[b"content-type"] == b"application/octet-stream"
    assert headers[b"content-length"] == b"300000"

    # RFC 9110 §9.3.2: HEAD gets the GET's header fields and no content.
    status, headers, body, _ = asyncio.run(fetch(served, "HEAD", "/data.bin"))
    assert (status, body, headers[b"content-length"]) == (200, b"", b"300000")

    status, headers, body, _ = asyncio.run(fetch(served, "GET", "/sub"))
    assert (status, headers[b"location"]) == (301, b"/sub/")
    status, headers, body, _ = asyncio.run(fetch(served, "GET", "/sub/?sort=name"))
    assert status == 200 and b'<a href="notes.txt">notes.txt</a>' in body
    assert headers[b"content-type"] == b"text/html; charset=utf-8"

    assert asyncio.run(fetch(served, "GET", "/missing"))[0] == 404
    assert asyncio.run(fetch(served, "GET", "/../secret.txt"))[0] == 404
    status, headers, _, _ = asyncio.run(fetch(served, "DELETE", "/data.bin"))
    assert (status, headers[b"allow"]) == (405, b"GET, HEAD")


def test_echo(served: str) -> None:
    sent = os.urandom(200_000)
    status, headers, body, _ = asyncio.run(fetch(served, "PUT", "/echo?x=1", body=sent))
    assert (status, body) == (200, sent)
    assert headers[b"content-length"] == b"200000"
    assert asyncio.run(fetch(served, "GET", "/echo"))[:3:2] == (200, b"")


def test_echo_limit(served: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cli_serve, "ECHO_LIMIT", 1000)
    status, _, body, _ = asyncio.run(fetch(served, "POST", "/echo", body=b"x" * 1001))
    assert (status, body) == (413, b"/echo takes at most 1000 bytes\n")
    assert asyncio.run(fetch(served, "POST", "/echo", body=b"x" * 1000))[2] == b"x" * 1000


def test_push(served: str, site: Path) -> None:
    status, _, body, pushed = asyncio.run(fetch(served, "GET", "/index.html"))
    assert (status, body) == (200, b"<p>home</p>\n")
    assert pushed == [("/style.css", 200, b"p { color: teal }\n")]
    # Nothing is pushed for other pages, nor for HEAD.
    assert asyncio.run(fetch(served, "GET", "/style.css"))[3] == []
    assert asyncio.run(fetch(served, "HEAD", "/index.html"))[3] == []


def test_no_push_when_the_client_disabled_it(served: str) -> None:
    # RFC 9113 §8.4: SETTINGS_ENABLE_PUSH=0 forbids PUSH_PROMISE.
    config = Config(client_side=True, enable_push=False, auto_flow_control=False)
    status, _, body, pushed = asyncio.run(fetch(served, "GET", "/index.html", config=config))
    assert (status, body, pushed) == (200, b"<p>home</p>\n", [])


def test_verbose_logs_each_request(thread_loop: ThreadLoop, site: Path,
                                   capfd: pytest.CaptureFixture[str]) -> None:
    server = thread_loop.run(_cli_serve.start(serve_args(site, "-v")))
    try:
        asyncio.run(fetch(f"http://127.0.0.1:{server.port}", "GET", "/style.css"))
    finally:
        thread_loop.run(server.close())
    assert "127.0.0.1 GET /style.css 200 18" in capfd.readouterr().err


def test_port_in_use(thread_loop: ThreadLoop, site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = cli.main(["serve", str(site), "--port", str(port)])
    assert status == 1
    assert one_line(capsys.readouterr().err) == f"h2lite: cannot listen on 127.0.0.1:{port}: address already in use"


# -- get, through cli.main ---------------------------------------------------------------


def test_get_body_to_stdout_and_file(served: str, site: Path, capsysbinary: pytest.CaptureFixture[bytes],
                                     tmp_path: Path) -> None:
    status, out, err = run_cli(capsysbinary, "get", f"{served}/data.bin")
    assert (status, out, err) == (0, (site / "data.bin").read_bytes(), "")

    target = tmp_path / "copy.bin"
    status, out, _ = run_cli(capsysbinary, "get", "-o", str(target), f"{served}/data.bin")
    assert (status, out) == (0, b"")
    assert target.read_bytes() == (site / "data.bin").read_bytes()


def test_get_include_head_and_data(served: str, capsysbinary: pytest.CaptureFixture[bytes],
                                   tmp_path: Path) -> None:
    status, out, _ = run_cli(capsysbinary, "get", "-i", f"{served}/style.css")
    head, _, body = out.partition(b"\n\n")
    lines = head.decode().split("\n")
    assert (status, lines[0], body) == (0, "HTTP/2 200", b"p { color: teal }\n")
    assert "content-type: text/css" in lines and "content-length: 18" in lines

    status, out, _ = run_cli(capsysbinary, "get", "-i", "-X", "HEAD", f"{served}/style.css")
    assert status == 0 and out.endswith(b"content-length: 18\n" + out.split(b"content-length: 18\n")[1])
    assert out.partition(b"\n\n")[2] == b""

    upload = tmp_path / "up.bin"
    upload.write_bytes(os.urandom(100_000))
    status, out, _ = run_cli(capsysbinary, "get", "-d", f"@{upload}", f"{served}/echo")
    assert (status, out) == (0, upload.read_bytes())

    status, out, _ = run_cli(capsysbinary, "get", "-i", "-H", "Content-Type: text/x-note", "-d", "hi",
                             f"{served}/echo")
    assert status == 0
    assert b"\ncontent-type: text/x-note\n" in out and out.endswith(b"\n\nhi")


def test_get_many(served: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, out, _ = run_cli(capsysbinary, "get", "-n", "60", "-c", "7", f"{served}/style.css")
    lines = out.decode().splitlines()
    assert status == 0
    assert lines[0].startswith("60 requests, 7 at a time on one connection: 60 answered in ")
    assert lines[1:] == ["statuses: 200 x 60", f"body bytes received: {60 * 18}", "errors: 0"]

    status, out, _ = run_cli(capsysbinary, "get", "-n", "3", "-c", "10", f"{served}/missing")
    assert status == 0  # a 404 is an answer, not a failure
    assert "statuses: 404 x 3" in out.decode()


def test_get_refused_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    status = cli.main(["get", f"http://127.0.0.1:{port}/"])
    assert status == 1
    assert one_line(capsys.readouterr().err) == f"h2lite: 127.0.0.1:{port}: connection refused"


async def close_stream_server(server: asyncio.AbstractServer) -> None:
    server.close()
    await server.wait_closed()


def test_get_protocol_error_is_one_line(thread_loop: ThreadLoop, capsys: pytest.CaptureFixture[str]) -> None:
    # A server that answers the preface with an HTTP/1.1 response: not HTTP/2.
    async def start() -> asyncio.AbstractServer:
        async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            await reader.read(65536)
            writer.close()

        return await asyncio.start_server(talk, "127.0.0.1", 0)

    server = thread_loop.run(start())
    port = server.sockets[0].getsockname()[1]
    try:
        status = cli.main(["get", "--timeout", "5", f"http://127.0.0.1:{port}/"])
    finally:
        thread_loop.run(close_stream_server(server))
    assert status == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"h2lite: 127.0.0.1:{port}: ")
    assert "Traceback" not in line


def test_get_refused_header_is_one_line(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    # RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2.
    status = cli.main(["get", "-H", "Connection: close", f"{served}/style.css"])
    assert status == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"h2lite: {served.removeprefix('http://')}: HTTP/2 error (PROTOCOL_ERROR): ")
    assert "connection" in line


def test_get_timeout_is_one_line(thread_loop: ThreadLoop, capsys: pytest.CaptureFixture[str]) -> None:
    # A server that accepts the connection and never sends its SETTINGS.
    async def start() -> asyncio.AbstractServer:
        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(65536):  # until the client gives up
                pass
            writer.close()

        return await asyncio.start_server(mute, "127.0.0.1", 0)

    server = thread_loop.run(start())
    port = server.sockets[0].getsockname()[1]
    try:
        status = cli.main(["get", "--timeout", "0.2", f"http://127.0.0.1:{port}/"])
    finally:
        thread_loop.run(close_stream_server(server))
    assert status == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("h2lite: ") and f"127.0.0.1:{port}" in line
    assert "took more than 0.2 s" in line


def test_get_counts_failed_streams(thread_loop: ThreadLoop, capsys: pytest.CaptureFixture[str]) -> None:
    # A body that fails half-way: the server resets the stream (INTERNAL_ERROR).
    async def app(request: Request) -> Response:
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial"
            raise RuntimeError("the disk went away")

        return Response(200, body=broken() if request.path == "/broken" else b"fine")

    server = thread_loop.run(serve(app, port=0))
    try:
        status = cli.main(["get", "-n", "4", "-c", "2", f"http://127.0.0.1:{server.port}/broken"])
        out = capsys.readouterr().out
        assert status == 1
        assert "errors: 4" in out
        assert "INTERNAL_ERROR" in out

        status = cli.main(["get", f"http://127.0.0.1:{server.port}/broken"])
        captured = capsys.readouterr()
        assert status == 1
        assert "INTERNAL_ERROR" in one_line(captured.err)
    finally:
        thread_loop.run(server.close())


def test_get_tls(thread_loop: ThreadLoop, site: Path, capsysbinary: pytest.CaptureFixture[bytes],
                 tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "both.pem"))
    args = serve_args(site, "--tls-cert", str(tmp_path / "both.pem"), "--tls-key", str(tmp_path / "both.pem"))
    server = thread_loop.run(_cli_serve.start(args))
    url = f"https://127.0.0.1:{server.port}/style.css"
    try:
        status, out, err = run_cli(capsysbinary, "get", "--cacert", str(tmp_path / "ca.pem"), url)
        assert (status, out) == (0, b"p { color: teal }\n")
        status, out, err = run_cli(capsysbinary, "get", "-k", url)
        assert (status, out) == (0, b"p { color: teal }\n")
        status, out, err = run_cli(capsysbinary, "get", url)
        assert status == 1
        assert "certificate verification failed" in one_line(err)
    finally:
        thread_loop.run(server.close())


def test_progress_only_for_a_terminal() -> None:
    class Stream(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    def decide(argv: list[str], stdout_tty: bool, stderr_tty: bool) -> bool:
        args = cli.build_parser().parse_args(["get", *argv, "http://127.0.0.1/"])
        return plan(args, Stream(stdout_tty), Stream(stderr_tty)).progress

    assert decide(["-o", "x"], stdout_tty=True, stderr_tty=True)
    assert decide([], stdout_tty=False, stderr_tty=True)  # body piped away
    assert not decide([], stdout_tty=True, stderr_tty=True)  # body on the terminal
    assert not decide(["-o", "x"], stdout_tty=False, stderr_tty=False)
    assert not decide(["-o", "x", "-s"], stdout_tty=True, stderr_tty=True)
    assert not decide(["-n", "5"], stdout_tty=False, stderr_tty=True)


# -- the command as a process: banner and signals ---------------------------------------


def start_serve(site: Path, backend: str) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("H2LITE_REQUIRE_EXTENSIONS", None)
    if backend == "python":
        env["H2LITE_NO_EXTENSIONS"] = "1"
    process = subprocess.Popen([sys.executable, "-m", "h2lite", "serve", str(site), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None
    return process, process.stdout.readline().decode()


def test_get_into_a_closed_pipe_is_quiet(served: str, backend: str) -> None:
    # ``get ... | head -c 10``: the reader leaves early; no error line, no traceback.
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-m", "h2lite", "get", f"{served}/data.bin"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    assert len(process.stdout.read(10)) == 10
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    process.wait(20)
    assert (process.returncode, err) == (1, b"")


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_serve_banner_and_quiet_exit(site: Path, backend: str, signum: int, expected: int) -> None:
    process, banner = start_serve(site, backend)
    try:
        assert banner.startswith(f"Serving {site} on http://127.0.0.1:")
        port = int(banner.split("http://127.0.0.1:")[1].split("/")[0])
        assert banner.rstrip("\n").endswith(f"(try: curl --http2-prior-knowledge http://127.0.0.1:{port}/)")
        process.send_signal(signum)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, err) == (expected, b"")
