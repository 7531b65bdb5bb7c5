"""The C accelerator and the pure-Python hot path agree on every input."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import h2lite
from h2lite import _backend, _codec_py, _hpack

from .helpers import frame

try:
    _speedups = importlib.import_module("h2lite._speedups")
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

needs_c = pytest.mark.skipif(
    _speedups is None and not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
    reason="C accelerator not built (H2LITE_REQUIRE_EXTENSIONS makes this a failure)",
)


def test_backend_reports_what_is_live(backend):
    expected = "c" if _backend.split_frames is not _codec_py.split_frames else "python"
    assert expected == backend
    assert h2lite.BACKEND == expected
    if os.environ.get("H2LITE_NO_EXTENSIONS"):
        assert h2lite.BACKEND == "python"
    if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
        assert _backend.AVAILABLE == ("python", "c")


def test_use_switches_every_accelerated_path(backend):
    expected = {
        "split_frames": (_codec_py.split_frames, getattr(_speedups, "split_frames", None)),
        "HpackDecoder": (_hpack.Decoder, getattr(_speedups, "Decoder", None)),
        "HpackEncoder": (_hpack.Encoder, getattr(_speedups, "Encoder", None)),
    }
    for name in _backend.ACCELERATED[3:]:
        # Under the python backend, h2lite.headers runs its own code.
        expected[name] = (None, getattr(_speedups, name, None))
    assert set(expected) == set(_backend.ACCELERATED)
    try:
        for index, name in enumerate(_backend.AVAILABLE):
            _backend.use(name)
            assert h2lite.BACKEND == _backend.current() == name
            for attribute, choices in expected.items():
                assert getattr(_backend, attribute) is choices[index], attribute
    finally:
        _backend.use(backend)


@needs_c
def test_stub_lists_everything_the_extension_exports():
    stub = (Path(h2lite.__file__).parent / "_speedups.pyi").read_text()
    exported = {name for name in dir(_speedups) if not name.startswith("__")}
    declared = set(re.findall(r"^(?:def|class) (\w+)", stub, re.MULTILINE))
    assert exported == declared


@pytest.mark.parametrize(
    "environment, expected",
    [
        ({"H2LITE_NO_EXTENSIONS": "1"}, "python"),
        ({"H2LITE_NO_EXTENSIONS": "1", "H2LITE_REQUIRE_EXTENSIONS": "1"}, "ImportError"),
    ],
)
def test_environment_variables_choose_the_backend(environment, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2LITE_")}
    env.update(environment)
    program = (
        "try:\n import h2lite\nexcept ImportError:\n print('ImportError')\n"
        "else:\n print(h2lite.BACKEND, h2lite._backend.AVAILABLE)"
    )
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == expected
    if expected == "python":
        assert "'c'" not in done.stdout  # the .so on disk is ignored


@needs_c
def test_required_extension_is_the_live_backend():
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2LITE_")}
    env["H2LITE_REQUIRE_EXTENSIONS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", "import h2lite; print(h2lite.BACKEND)"], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "c"


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="not available"):
        _backend.use("rust")


frames_strategy = st.lists(
    st.builds(
        frame,
        type=st.integers(0, 255),
        flags=st.integers(0, 255),
        stream_id=st.integers(0, 2**32 - 1),
        payload=st.binary(max_size=300),
    ),
    max_size=6,
).map(b"".join)


@needs_c
@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(frames_strategy, st.binary(max_size=200)),
    cut=st.integers(0, 2000),
    max_frame_size=st.sampled_from([-1, 0, 9, 100, 16384, 2**24 - 1, 2**70]),
    kind=st.sampled_from([bytes, bytearray, memoryview]),
)
def test_split_frames_differential(data, cut, max_frame_size, kind):
    data = data[: cut % (len(data) + 1)] + data[cut % (len(data) + 1) :]
    python = _codec_py.split_frames(data, max_frame_size)
    assert _speedups.split_frames(kind(data), max_frame_size) == python


def test_split_frames_stops_at_an_oversized_header_before_its_payload():
    # RFC 9113 §4.2: the length is checked on the 9-byte header alone.
    data = frame(0, 0, 1, b"ok") + bytes.fromhex("004001 00 00 00000001")
    frames, consumed, bad = _codec_py.split_frames(data, 16384)
    assert frames == [(0, 0, 1, b"ok")]
    assert consumed == 11
    assert bad == 16385


_PURGE_AND_REIMPORT = r"""
import sys
import h2lite  # first import: the extension loads and binds hpack's classes
assert h2lite.BACKEND == "c"
for name in [n for n in sys.modules if n.split(".")[0] in ("h2lite", "hpack")]:
    del sys.modules[name]
import hpack
from h2lite import Config, Connection, RemoteProtocolError, events, headers, _backend
assert _backend.BACKEND == "c"
enc = headers.Encoder(4096)
block = enc.encode([(b":status", b"200"), hpack.NeverIndexedHeaderTuple(b"x-secret", b"s")])
assert block[1] & 0xF0 == 0x10, block.hex()      # RFC 7541 §6.2.3: never indexed
fields = _backend.HpackDecoder(max_header_list_size=65536).decode(block, raw=True)
assert type(fields[0]) is hpack.HeaderTuple and type(fields[1]) is hpack.NeverIndexedHeaderTuple
server = Connection(Config(client_side=False))
server.initiate_connection()
request = hpack.Encoder().encode(
    [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"http"), (b":authority", b"a")]
)
preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000 04 00 00000000")
frame = len(request).to_bytes(3, "big") + bytes.fromhex("01 05 00000001") + request
got = server.receive_data(preface + frame)
assert any(isinstance(e, events.RequestReceived) for e in got), got
bad = bytes.fromhex("000001 01 05 00000003 ff")   # HPACK index past the tables
try:
    server.receive_data(bad)
except RemoteProtocolError as exc:
    assert exc.error_code == 9, exc.error_code    # COMPRESSION_ERROR
else:
    raise AssertionError("a bad HPACK block was accepted")
print("ok")
"""


@needs_c
def test_the_extension_follows_a_purged_and_reimported_hpack():
    """A C extension is initialised once per process; hpack and h2lite may be
    imported again (coverage's source lookup does it).  The accelerator must then
    recognise the new NeverIndexedHeaderTuple and raise the new exception classes."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "H2LITE_NO_EXTENSIONS"}
    done = subprocess.run([sys.executable, "-c", _PURGE_AND_REIMPORT], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
