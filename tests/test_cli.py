"""``python -m h2lite``: argument checking, one-line errors, the file tree's path
rules, the index page, the progress bar and the ``-n`` summary.

End-to-end behaviour over real connections is in tests/test_cli_serve.py and
tests/interop/.
"""

from __future__ import annotations

import io
import os
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from h2lite import cli
from h2lite._cli_get import Progress, human, parse_header, summary
from h2lite._cli_serve import FileTree, banner, content_type, index_page


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- usage errors: one line, status 2 -----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["get", "-n", "x", "http://a/"], "-n/--requests: not a whole number"),
        (["get", "-n", "0", "http://a/"], "must be at least 1"),
        (["get", "--timeout", "-1", "http://a/"], "must be above 0"),
        (["get"], "required: URL"),
        (["serve", "--port", "70000"], "port must be 0..65535"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        (["fetch"], "invalid choice: 'fetch'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                   expected: str) -> None:
    status, out, err = run_main(capsys, *argv)
    assert status == 2
    assert out == ""
    line = one_line(err)
    assert line.startswith("python -m h2lite")
    assert expected in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["get", "ftp://example.org/"], "must start with http:// or https://"),
        (["get", "http:///path"], "no host in the URL"),
        (["get", "http://example.org:99999/"], "bad URL"),
        (["get", "-H", "no colon", "http://example.org/"], "a header is 'name: value'"),
        (["get", "-H", ":path: /x", "http://example.org/"], "pseudo-header fields"),
        (["get", "-n", "2", "-o", "x", "http://example.org/"], "-o and -i show one response"),
    ],
)
def test_get_argument_checks(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    status, _, err = run_main(capsys, *argv)
    assert status == 2
    assert expected in one_line(err)


def test_get_data_file_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run_main(capsys, "get", "-d", f"@{tmp_path / 'nope'}", "http://example.org/")
    assert status == 1
    assert one_line(err) == f"h2lite: cannot read {tmp_path / 'nope'}: No such file or directory"


def test_get_cacert_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run_main(capsys, "get", "--cacert", str(tmp_path / "ca.pem"), "https://example.org/")
    assert status == 1
    assert "cannot read" in one_line(err)


def test_serve_argument_checks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run_main(capsys, "serve", str(tmp_path / "missing"))
    assert (status, one_line(err)) == (2, f"python -m h2lite serve: error: not a directory: {tmp_path / 'missing'}")

    status, _, err = run_main(capsys, "serve", str(tmp_path), "--tls-cert", "c.pem")
    assert status == 2
    assert "--tls-cert and --tls-key go together" in one_line(err)

    status, _, err = run_main(capsys, "serve", str(tmp_path), "--push", "/a", "b.css")
    assert status == 2
    assert "--push paths start with '/'" in one_line(err)

    status, _, err = run_main(capsys, "serve", str(tmp_path), "--tls-cert", str(tmp_path / "c.pem"),
                              "--tls-key", str(tmp_path / "k.pem"))
    assert status == 1
    assert one_line(err) == f"h2lite: cannot read {tmp_path / 'c.pem'}: no such file"


def test_serve_bad_certificate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("not a certificate\n")
    status, _, err = run_main(capsys, "serve", str(tmp_path), "--tls-cert", str(tmp_path / "c.pem"),
                              "--tls-key", str(tmp_path / "c.pem"))
    assert status == 1
    assert one_line(err).startswith("h2lite: cannot load the certificate")


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(capsys, "--help")
    assert status == 0
    for command in ("serve", "get", "bench"):
        assert command in out
    status, out, _ = run_main(capsys, "--version")
    assert status == 0
    assert out.startswith("h2lite ")


def test_docs_list_every_option() -> None:
    # docs/cli.md documents each option of each command; a new one must be added there.
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[union-attr]
    for name in ("serve", "get"):
        section = page.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for action in commands[name]._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in section, (name, option)


# -- bench ---------------------------------------------------------------------


def test_bench_delegates_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 3

    monkeypatch.setitem(sys.modules, "h2lite._bench", types.SimpleNamespace(main=fake_main))
    assert cli.main(["bench", "--quick", "--help"]) == 3
    assert seen == [["--quick", "--help"]]


def test_bench_unavailable_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # None in sys.modules makes the import fail as if the module did not exist.
    monkeypatch.setitem(sys.modules, "h2lite._bench", None)
    status, _, err = run_main(capsys, "bench")
    assert status == 1
    assert "'bench' is not available" in one_line(err)


# -- interruption and broken pipes ----------------------------------------------------


def test_ctrl_c_is_quiet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("h2lite._cli_get.run_get", interrupted)
    status, out, err = run_main(capsys, "get", "http://example.org/")
    assert (status, out, err) == (130, "", "")


# -- describing failures -------------------------------------------------------------


def test_describe_error() -> None:
    import socket
    import ssl

    from h2lite import ErrorCode, RemoteProtocolError

    where = "example.org:443"
    assert cli.describe_error(ConnectionRefusedError(111, "Connection refused"), where) == (
        "example.org:443: connection refused")
    assert cli.describe_error(socket.gaierror(-2, "Name or service not known"), where) == (
        "example.org:443: cannot resolve the host name: Name or service not known")
    assert cli.describe_error(TimeoutError(), where) == "example.org:443: timed out"
    assert "TLS error" in cli.describe_error(ssl.SSLError(1, "wrong version number"), where)
    text = cli.describe_error(RemoteProtocolError("bad frame", error_code=ErrorCode.FRAME_SIZE_ERROR), where)
    assert text == "example.org:443: HTTP/2 error (FRAME_SIZE_ERROR): bad frame"


# -- get's pieces -------------------------------------------------------------------


def test_parse_header() -> None:
    assert parse_header("X-Thing:  some value ") == (b"x-thing", b"some value")
    assert parse_header("accept:") == (b"accept", b"")
    assert parse_header("x-url: http://a:1/") == (b"x-url", b"http://a:1/")


def test_human_sizes() -> None:
    assert [human(n) for n in (0, 1023, 1024, 1536, 3 * 1024**2, 5 * 1024**4)] == [
        "0 B", "1023 B", "1.0 KiB", "1.5 KiB", "3.0 MiB", "5120.0 GiB"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_waits_then_draws_then_erases() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    progress = Progress(stream, total=4 * 1024 * 1024, clock=clock, delay=0.5, interval=0.1)
    progress.update(1024 * 1024)
    assert stream.getvalue() == ""  # a short download shows nothing
    clock.now += 1.0
    progress.update(1024 * 1024)
    drawn = stream.getvalue()
    assert drawn.startswith("\r 50% [" + "#" * 15 + "-" * 15 + "] 2.0 MiB / 4.0 MiB  2.0 MiB/s")
    clock.now += 0.05
    progress.update(1024)
    assert stream.getvalue() == drawn  # not redrawn within the interval
    progress.finish()
    assert stream.getvalue().endswith("\r" + " " * len(drawn.lstrip("\r")) + "\r")


def test_progress_without_total() -> None:
    clock = FakeClock()
    progress = Progress(io.StringIO(), total=None, clock=clock)
    progress.update(3000)
    clock.now += 2.0
    assert progress.render(clock.now) == "2.9 KiB  1.5 KiB/s"


def test_summary() -> None:
    text = summary(10, 4, 2.0, Counter({200: 7, 404: 1}), Counter({"x:1: timed out": 2}), 700)
    assert text.splitlines() == [
        "10 requests, 4 at a time on one connection: 8 answered in 2.000 s, 4.0 requests/s",
        "statuses: 200 x 7, 404 x 1",
        "body bytes received: 700",
        "errors: 2",
        "  2 x x:1: timed out",
    ]


# -- serve's pieces -------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> FileTree:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a file.txt").write_bytes(b"spaced\n")
    (root / "sub" / "x.json").write_bytes(b"{}\n")
    (tmp_path / "secret.txt").write_bytes(b"secret\n")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(root / "sub" / "x.json", root / "inside.json")
    return FileTree(str(root))


def test_resolve_stays_inside_the_root(tree: FileTree) -> None:
    root = tree.root
    assert tree.resolve("/") == root
    assert tree.resolve("/a%20file.txt?x=1#frag") == os.path.join(root, "a file.txt")
    assert tree.resolve("/sub/./x.json") == os.path.join(root, "sub", "x.json")
    assert tree.resolve("/inside.json") == os.path.join(root, "sub", "x.json")
    for bad in ("/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt", "/sub/../x",
                "/escape.txt", "/a%00b", "/%ff", "secret.txt", "*"):
        assert tree.resolve(bad) is None, bad


def test_reply_for_files_and_directories(tree: FileTree) -> None:
    reply = tree.reply("GET", "/sub/x.json")
    assert reply.status == 200
    assert dict(reply.headers)[b"content-type"] == b"application/json"
    assert dict(reply.headers)[b"content-length"] == b"3"
    assert reply.body is not None and not isinstance(reply.body, bytes)
    assert reply.body.read() == b"{}\n"
    reply.close()

    head = tree.reply("HEAD", "/sub/x.json")
    assert (head.status, head.body, dict(head.headers)[b"content-length"]) == (200, None, b"3")

    moved = tree.reply("GET", "/sub?q=1")
    assert (moved.status, dict(moved.headers)[b"location"]) == (301, b"/sub/")

    listing = tree.reply("GET", "/sub/")
    assert listing.status == 200
    assert isinstance(listing.body, bytes) and b'<a href="x.json">x.json</a>' in listing.body

    for missing in ("/nope", "/../secret.txt", "/escape.txt"):
        assert tree.reply("GET", missing).status == 404


def test_index_html_is_served_for_its_directory(tree: FileTree) -> None:
    Path(tree.root, "sub", "index.html").write_bytes(b"<p>hi</p>\n")
    reply = tree.reply("GET", "/sub/")
    assert reply.body is not None and not isinstance(reply.body, bytes)
    assert reply.body.read() == b"<p>hi</p>\n"
    reply.close()


def test_index_page_escapes_names() -> None:
    page = index_page("/a&b/", [("<x>.txt", False), ("dir", True), ('q"uote', False)]).decode()
    assert "<title>Index of /a&amp;b/</title>" in page
    assert '<a href="../">../</a>' in page
    assert '<a href="%3Cx%3E.txt">&lt;x&gt;.txt</a>' in page
    assert '<a href="dir/">dir/</a>' in page
    assert '<a href="q%22uote">q&quot;uote</a>' in page
    assert b"../" not in index_page("/", [])


def test_content_types() -> None:
    assert content_type("a.html") == "text/html; charset=utf-8"
    assert content_type("a.css") == "text/css"
    assert content_type("a.tar.gz") == "application/octet-stream"
    assert content_type("README") == "application/octet-stream"


def test_banner_names_a_curl_command() -> None:
    assert banner("/srv", "127.0.0.1", 8080, tls=False) == (
        "Serving /srv on http://127.0.0.1:8080/ over HTTP/2 "
        "(try: curl --http2-prior-knowledge http://127.0.0.1:8080/)")
    assert banner("/srv", "::", 8443, tls=True).endswith("(try: curl --http2 -k https://[::1]:8443/)")
