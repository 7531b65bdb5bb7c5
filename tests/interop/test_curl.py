"""curl against ``python -m h2lite serve``: cleartext (prior knowledge and
Upgrade: h2c) and TLS with ALPN, downloads and uploads compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Process, Site, TLSFiles, run

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]

#: curl's -w report: the HTTP version it used, then the status.
WRITE_OUT = ["-w", "%{http_version} %{http_code}"]


def curl_cmd(curl: str, *args: str) -> list[str]:
    return [curl, "--silent", "--show-error", "--max-time", "20", *WRITE_OUT, *args]


def test_prior_knowledge_download(curl: str, site: Site, h2lite_server: Process, tmp_path: Path) -> None:
    out = tmp_path / "big.bin"
    done = run(curl_cmd(curl, "--http2-prior-knowledge", "-o", str(out),
                        f"http://127.0.0.1:{h2lite_server.port}/big.bin"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"2 200"
    assert out.read_bytes() == site.files["/big.bin"]


def test_prior_knowledge_large_upload_echoed(curl: str, site: Site, h2lite_server: Process,
                                             tmp_path: Path) -> None:
    sent = site.root / "big.bin"
    out = tmp_path / "echo.bin"
    done = run(curl_cmd(curl, "--http2-prior-knowledge", "--data-binary", f"@{sent}",
                        "-H", "content-type: application/x-test", "-o", str(out),
                        f"http://127.0.0.1:{h2lite_server.port}/echo"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"2 200"
    assert out.read_bytes() == site.files["/big.bin"]


def test_upgrade_from_http1(curl: str, site: Site, h2lite_server: Process, tmp_path: Path) -> None:
    # curl --http2 on http:// sends HTTP/1.1 with Upgrade: h2c (RFC 7540 §3.2).
    out = tmp_path / "small.txt"
    done = run(curl_cmd(curl, "--http2", "-o", str(out),
                        f"http://127.0.0.1:{h2lite_server.port}/small.txt"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"2 200"
    assert out.read_bytes() == site.files["/small.txt"]


def test_head_reports_size_without_body(curl: str, site: Site, h2lite_server: Process) -> None:
    done = run(curl_cmd(curl, "--http2-prior-knowledge", "--head",
                        f"http://127.0.0.1:{h2lite_server.port}/big.bin"))
    assert done.returncode == 0, done.stderr
    head, _, written = done.stdout.rpartition(b"\r\n\r\n")
    assert written == b"2 200"
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    assert fields[b"content-length"] == str(len(site.files["/big.bin"])).encode()


def test_path_traversal_is_refused(curl: str, h2lite_server: Process) -> None:
    # --path-as-is keeps the dot segments on the wire; secret.txt sits next to
    # the served directory.
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt"):
        done = run(curl_cmd(curl, "--http2-prior-knowledge", "--path-as-is",
                            f"http://127.0.0.1:{h2lite_server.port}{path}"))
        assert done.returncode == 0, done.stderr
        assert b"not for the web" not in done.stdout
        assert done.stdout.endswith(b"2 404"), (path, done.stdout)


def test_tls_download_and_upload(curl: str, site: Site, tls_files: TLSFiles,
                                 h2lite_tls_server: Process, tmp_path: Path) -> None:
    base = f"https://127.0.0.1:{h2lite_tls_server.port}"
    out = tmp_path / "big.bin"
    done = run(curl_cmd(curl, "--http2", "--cacert", str(tls_files.ca), "-o", str(out),
                        f"{base}/big.bin"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"2 200"
    assert out.read_bytes() == site.files["/big.bin"]

    echoed = tmp_path / "echo.bin"
    done = run(curl_cmd(curl, "--http2", "--cacert", str(tls_files.ca), "--data-binary",
                        f"@{site.root / 'big.bin'}", "-o", str(echoed), f"{base}/echo"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"2 200"
    assert echoed.read_bytes() == site.files["/big.bin"]
