"""Mutated real exchanges fed to both roles (fuzz/fuzz_receive.py, in the default run).

Two h2lite connections record a short exchange (requests with bodies, responses
with trailers, a push, resets, PING, SETTINGS); the bytes one side received are
then mutated frame by frame (dropped, duplicated, swapped, moved, truncated,
split, length field changed, header or payload bytes altered, cut short) and fed
to a fresh connection of that role.  DESIGN.md's error model must hold on every
input: only RemoteProtocolError escapes, with its GOAWAY queued, whole or
sliced delivery gives the same outcome, and a connection that raised refuses
every further call with a LocalProtocolError that says it is closed.

``HYPOTHESIS_PROFILE=long`` runs a long search; ``python fuzz/fuzz_receive.py N``
runs outside pytest (see fuzz/README.md).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from h2lite import ErrorCode, _backend

_PATH = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_receive.py"
if "fuzz_receive" in sys.modules:
    fuzz_receive = sys.modules["fuzz_receive"]
else:
    _spec = importlib.util.spec_from_file_location("fuzz_receive", _PATH)
    assert _spec is not None and _spec.loader is not None
    fuzz_receive = importlib.util.module_from_spec(_spec)
    sys.modules["fuzz_receive"] = fuzz_receive  # dataclasses look their module up there
    _spec.loader.exec_module(fuzz_receive)

_EXAMPLES = {"long": 20_000}.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), 150)
_SETTINGS = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("role", ["client", "server"])
@_SETTINGS
@given(script=fuzz_receive.scripts)
def test_recordings_replay_cleanly(role: str, script: object) -> None:
    """The unmutated recordings are valid HTTP/2: replayed, they raise nothing.

    Without this the mutation test below could be mutating garbage.
    """
    to_server, to_client = fuzz_receive.record(script)
    data = to_server if role == "server" else to_client
    prepare = script.client_calls if role == "client" else fuzz_receive._no_calls  # type: ignore[attr-defined]
    _, error, _ = fuzz_receive.outcome(role, data, prepare)
    assert error is None, error
    fuzz_receive.check_input(role, data, prepare)


@pytest.mark.parametrize("role", ["client", "server"])
@_SETTINGS
@given(script=fuzz_receive.scripts, data=st.data())
def test_mutated_recordings(role: str, script: object, data: st.DataObject) -> None:
    """DESIGN.md error model, RFC 9113 §5.4.1: mutated frames raise RemoteProtocolError or nothing."""
    mutated = data.draw(fuzz_receive.frame_mutations(script, role), label="input")
    fuzz_receive.check_mutation(script, role, mutated)


@pytest.mark.skipif(len(_backend.AVAILABLE) < 2, reason="the C accelerator is not built")
@pytest.mark.parametrize("role", ["client", "server"])
@settings(_SETTINGS, max_examples=max(20, _EXAMPLES // 5))
@given(script=fuzz_receive.scripts, data=st.data())
def test_backends_agree_on_mutations(role: str, script: object, data: st.DataObject) -> None:
    """DESIGN.md: the accelerator agrees with the pure-Python path on every input, errors included."""
    mutated = data.draw(fuzz_receive.frame_mutations(script, role), label="input")
    prepare = script.client_calls if role == "client" else fuzz_receive._no_calls  # type: ignore[attr-defined]
    fuzz_receive.backends_agree(role, mutated, prepare)


def test_a_dropped_settings_ack_is_no_error_but_data_on_stream_zero_is() -> None:
    """Two fixed mutations with known verdicts, so the harness cannot pass by accepting everything.

    Dropping the server's SETTINGS ACK is legal (the client just keeps waiting
    for it); DATA moved to stream 0 is a connection error PROTOCOL_ERROR (RFC 9113 §6.1).
    """
    script = fuzz_receive.Script(bodies=(100,), response_size=10)
    to_server, to_client = fuzz_receive.record(script)
    head, frames = fuzz_receive.split_frames(to_client)
    without_ack = [f for f in frames if not (f[3] == 0x4 and f[4] & 0x1)]
    assert len(without_ack) == len(frames) - 1
    fuzz_receive.check_mutation(script, "client", b"".join(without_ack))
    _, error, _ = fuzz_receive.outcome("client", b"".join(without_ack), script.client_calls)
    assert error is None

    head, frames = fuzz_receive.split_frames(to_server)
    index = next(i for i, f in enumerate(frames) if f[3] == 0x0)
    moved = frames[index][:5] + bytes(4) + frames[index][9:]
    data = head + b"".join(frames[:index]) + moved + b"".join(frames[index + 1 :])
    fuzz_receive.check_mutation(script, "server", data)
    _, error, _ = fuzz_receive.outcome("server", data, fuzz_receive._no_calls)
    assert error is not None and error.error_code == ErrorCode.PROTOCOL_ERROR
