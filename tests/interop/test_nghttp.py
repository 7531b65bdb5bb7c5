"""nghttp and h2load (nghttp2's client and load generator) against
``python -m h2lite serve``: downloads, uploads, server push, and a few thousand
requests with every answer 2xx.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import Process, Site, TLSFiles, run

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def test_nghttp_checks_pass(nghttp: str, h2lite_server: Process) -> None:
    # -v prints every frame; nghttp exits non-zero if the peer broke HTTP/2.
    base = f"http://127.0.0.1:{h2lite_server.port}"
    done = run([nghttp, "-nv", f"{base}/big.bin", f"{base}/small.txt", f"{base}/sub/"])
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]
    out = done.stdout.decode()
    assert "recv SETTINGS frame" in out
    assert out.count("recv (stream_id=") >= 3  # the response header fields
    assert "recv GOAWAY" not in out  # the server did not close the connection on us


def test_nghttp_statistics(nghttp: str, site: Site, h2lite_server: Process) -> None:
    base = f"http://127.0.0.1:{h2lite_server.port}"
    done = run([nghttp, "-ns", f"{base}/big.bin", f"{base}/small.txt", f"{base}/missing"])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    # One row per request: id responseEnd requestStart process code size path
    rows = re.findall(r"^\s*\d+\s+\S+\s+\S+\s+\S+\s+(\d{3})\s+\S+\s+(/\S*)$", out, re.MULTILINE)
    assert {path: code for code, path in rows} == {
        "/big.bin": "200", "/small.txt": "200", "/missing": "404"}


def test_nghttp_body_and_upload(nghttp: str, site: Site, h2lite_server: Process, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{h2lite_server.port}"
    done = run([nghttp, f"{base}/big.bin"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == site.files["/big.bin"]

    done = run([nghttp, "-d", str(site.root / "big.bin"), f"{base}/echo"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == site.files["/big.bin"]


def test_nghttp_receives_push(nghttp: str, site: Site, h2lite_server: Process) -> None:
    # The server was started with --push /index.html /style.css.
    done = run([nghttp, "-nv", f"http://127.0.0.1:{h2lite_server.port}/index.html"])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    # The promise rides on the request's stream (nghttp numbers it 13 after its
    # priority-tree streams) and promises the first server stream, 2.
    promise = re.search(r"recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=(\d+)>", out)
    assert promise
    assert re.search(rf"send HEADERS frame <[^>]*stream_id={promise.group(1)}>", out)
    assert "(padlen=0, promised_stream_id=2)" in out
    # nghttp prints the promised request's fields under the parent stream.
    assert f"recv (stream_id={promise.group(1)}) :path: /style.css" in out
    assert "recv (stream_id=2) :status: 200" in out
    # The pushed response itself arrived, whole, and ended.
    frames = re.findall(r"recv DATA frame <length=(\d+), flags=0x(\d+), stream_id=2>", out)
    assert sum(int(length) for length, _ in frames) == len(site.files["/style.css"])
    assert frames[-1][1] == "01"  # END_STREAM


def test_nghttp_push_disabled_gets_no_promise(nghttp: str, h2lite_server: Process) -> None:
    # RFC 9113 §8.4: no PUSH_PROMISE once the client set SETTINGS_ENABLE_PUSH to 0.
    done = run([nghttp, "-nv", "--no-push", f"http://127.0.0.1:{h2lite_server.port}/index.html"])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "PUSH_PROMISE" not in out
    assert "recv DATA frame" in out


def h2load_counts(output: str) -> tuple[int, int]:
    """(requests succeeded, responses with a 2xx status) from h2load's report."""
    succeeded = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", output)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    assert succeeded and codes, output
    return int(succeeded.group(1)), int(codes.group(1))


def test_h2load_thousands_of_requests(h2load: str, h2lite_server: Process) -> None:
    done = run([h2load, "-n", "3000", "-c", "4", "-m", "10", "-t", "1",
                f"http://127.0.0.1:{h2lite_server.port}/small.txt"])
    assert done.returncode == 0, done.stderr
    assert h2load_counts(done.stdout.decode()) == (3000, 3000)


def test_h2load_tls_uploads(h2load: str, site: Site, tls_files: TLSFiles,
                            h2lite_tls_server: Process, tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    body.write_bytes(site.files["/big.bin"][:40_000])
    done = run([h2load, "-n", "400", "-c", "2", "-m", "8", "-t", "1", "-d", str(body),
                f"https://127.0.0.1:{h2lite_tls_server.port}/echo"])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "Application protocol: h2" in out
    assert h2load_counts(out) == (400, 400)
