"""A short run of the receive fuzzer (fuzz/fuzz_receive.py) on every test run.

The property it checks is DESIGN.md's error model: whatever bytes arrive, only
RemoteProtocolError escapes ``receive_data``, a GOAWAY with its code is queued,
and the connection then refuses everything with LocalProtocolError.  Longer
campaigns: ``python fuzz/fuzz_receive.py N``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from h2lite import ErrorCode
from h2lite.codes import CLIENT_PREFACE

_PATH = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_receive.py"
if "fuzz_receive" in sys.modules:
    fuzz_receive = sys.modules["fuzz_receive"]
else:
    _spec = importlib.util.spec_from_file_location("fuzz_receive", _PATH)
    assert _spec is not None and _spec.loader is not None
    fuzz_receive = importlib.util.module_from_spec(_spec)
    sys.modules["fuzz_receive"] = fuzz_receive  # dataclasses look their module up there
    _spec.loader.exec_module(fuzz_receive)


@pytest.mark.parametrize("role", ["client", "server"])
def test_random_and_mutated_frames(role: str) -> None:
    """DESIGN.md error model, RFC 9113 §5.4.1: a peer's bytes never raise anything but RemoteProtocolError."""
    fuzz_receive.run(role, 200, database=None)


# Inputs that reach specific corners, run on every test run: each must pass
# check_input and end with the error code the RFC asks for (None: no error).
SETTINGS = bytes.fromhex("000000 04 00 00000000")
SETTINGS_ACK = bytes.fromhex("000000 04 01 00000000")


@pytest.mark.parametrize(
    "role, data, code",
    [
        ("server", b"", None),
        ("server", CLIENT_PREFACE[:10], None),  # a preface may arrive in pieces
        ("server", b"GET / HTTP/1.1\r\n\r\n", ErrorCode.PROTOCOL_ERROR),  # RFC 9113 §3.4
        ("server", CLIENT_PREFACE + SETTINGS + bytes.fromhex("000004 08 00 00000000 00000000"), ErrorCode.PROTOCOL_ERROR),  # §6.9
        ("server", CLIENT_PREFACE + SETTINGS + bytes.fromhex("000000 09 04 00000001"), ErrorCode.PROTOCOL_ERROR),  # §6.10
        ("server", CLIENT_PREFACE + SETTINGS + bytes.fromhex("ffffff 00 00 00000001"), ErrorCode.FRAME_SIZE_ERROR),  # §4.2
        ("client", SETTINGS + SETTINGS_ACK + bytes.fromhex("000008 06 00 00000001") + bytes(8), ErrorCode.PROTOCOL_ERROR),  # §6.7
        ("client", SETTINGS + bytes.fromhex("000001 01 0c 00000001 05"), ErrorCode.PROTOCOL_ERROR),  # §6.2 padding
        ("client", SETTINGS + bytes.fromhex("000006 04 00 00000000 0004 80000000"), ErrorCode.FLOW_CONTROL_ERROR),  # §6.5.2
    ],
)
def test_known_corners(role: str, data: bytes, code: ErrorCode | None) -> None:
    fuzz_receive.check_input(role, data)
    _, error, _ = fuzz_receive.outcome(role, data)
    assert (error.error_code if error is not None else None) == code


def test_check_input_rejects_an_unknown_role() -> None:
    with pytest.raises(ValueError):
        fuzz_receive.check_input("proxy", b"")
