"""Coverage-guided fuzzing of ``Connection.receive_data`` with atheris.

Run for N minutes (one role per process; see fuzz/README.md)::

    python fuzz/atheris_receive.py --role server --backend python --minutes 30 WORKDIR fuzz/corpus/server
    python fuzz/atheris_receive.py --role client --backend c --minutes 30 WORKDIR fuzz/corpus/client
    python fuzz/atheris_receive.py --role server --backend both --minutes 30 WORKDIR fuzz/corpus/server

``--backend`` picks the frame splitter: ``python`` (the specification), ``c``
(the accelerator, which must be built) or ``both``: every input runs on each
and the events, error and output must be identical.  Without it the default
backend is used, which ``H2LITE_NO_EXTENSIONS=1`` / ``H2LITE_REQUIRE_EXTENSIONS=1``
control as everywhere else.  Other arguments go to libFuzzer.

The input's first byte chooses how the rest is split into ``receive_data``
calls.  The harness answers requests and resets streams the way an
application would, so the send side runs too.  Only ``RemoteProtocolError``
may escape; afterwards the connection must refuse every call with a
``LocalProtocolError`` saying it is closed (checked by fuzz_receive's
``_check_dead``).  Anything else is reported by libFuzzer as a crash.
"""

from __future__ import annotations

import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)

import atheris

with atheris.instrument_imports():
    import h2lite
    from h2lite import Config, Connection, LocalProtocolError, RemoteProtocolError, _backend, events

from fuzz_receive import _check_dead

from h2lite.codes import CLIENT_PREFACE

ROLE = "server"
BACKENDS: tuple[str, ...] = ()

_POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"a"), (b":path", b"/")]


def _react(conn: Connection, event: object) -> None:
    """Answer like a simple application, swallowing only the caller-side errors."""
    try:
        if isinstance(event, events.RequestReceived):
            conn.send_headers(event.stream_id, [(b":status", b"200")])
            conn.send_data(event.stream_id, b"x" * 70000, end_stream=True)
        elif isinstance(event, events.DataReceived):
            if not conn.config.auto_flow_control:
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if event.stream_id % 3 == 0:
                conn.reset_stream(event.stream_id)
    except LocalProtocolError:
        pass


def run(role: str, data: bytes) -> tuple[list[str], str, int | None, bytes]:
    """Feed one input; return (event reprs, error type, error code, output) for comparisons."""
    if not data:
        return [], "", None, b""
    mode, body = data[0], data[1:]
    # A fixed clock: the rate limits must not depend on how fast the fuzzer runs.
    conn = Connection(
        Config(client_side=(role == "client"), auto_flow_control=bool(mode & 0x80), clock=lambda: 0.0)
    )
    conn.initiate_connection()
    if role == "client":
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, _POST)
        conn.send_data(sid, b"y" * 100000, end_stream=True)
    elif mode & 0x40:
        body = CLIENT_PREFACE + body
    step = (mode & 0x3F) or len(body) or 1
    seen: list[str] = []
    output = bytearray()
    try:
        for start in range(0, len(body), step):
            for event in conn.receive_data(body[start : start + step]):
                seen.append(repr(event))
                _react(conn, event)
            output += conn.data_to_send()
    except RemoteProtocolError as exc:
        seen += [repr(e) for e in exc.events]
        output += conn.data_to_send()
        _check_dead(conn)
        return seen, type(exc).__name__, int(exc.error_code), bytes(output)
    return seen, "", None, bytes(output)


def test_one_input(data: bytes) -> None:
    if len(BACKENDS) < 2:
        run(ROLE, data)
        return
    results: dict[str, Any] = {}
    for name in BACKENDS:
        _backend.use(name)
        results[name] = run(ROLE, data)
    first = results[BACKENDS[0]]
    for name in BACKENDS[1:]:
        if results[name] != first:
            raise AssertionError(f"backends disagree: {BACKENDS[0]} {first[1:3]} / {name} {results[name][1:3]}")


def _take_option(args: list[str], name: str) -> str | None:
    if name not in args:
        return None
    index = args.index(name)
    value = args[index + 1]
    del args[index : index + 2]
    return value


def main() -> None:
    global ROLE, BACKENDS
    args = list(sys.argv)
    ROLE = _take_option(args, "--role") or ROLE
    if ROLE not in ("client", "server"):
        raise SystemExit("--role must be client or server")
    choice = _take_option(args, "--backend")
    if choice == "both":
        BACKENDS = _backend.AVAILABLE
        if len(BACKENDS) < 2:
            raise SystemExit("--backend both needs the C accelerator; build it first")
    elif choice is not None:
        _backend.use(choice)  # ValueError if it is not built
        BACKENDS = (choice,)
    else:
        BACKENDS = (_backend.current(),)
    minutes = _take_option(args, "--minutes")
    if minutes is not None:
        args.append(f"-max_total_time={int(float(minutes) * 60)}")
    print(f"h2lite {h2lite.__file__}: role {ROLE}, backend {'+'.join(BACKENDS)}", flush=True)
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
