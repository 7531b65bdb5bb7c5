"""Coverage-guided fuzzing of ``Connection.receive_data`` with atheris.

Run for N minutes (one role per process; see fuzz/README.md):

    python fuzz/atheris_receive.py --role server -max_total_time=1800 WORKDIR fuzz/corpus/server
    python fuzz/atheris_receive.py --role client -max_total_time=1800 WORKDIR fuzz/corpus/client

The input's first byte chooses how the rest is split into ``receive_data``
calls.  The harness answers requests and pushes data the way an application
would, so the send side is exercised too.  Only ``RemoteProtocolError`` may
escape; afterwards the connection must refuse input with ``LocalProtocolError``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import atheris  # noqa: E402

with atheris.instrument_imports():
    import h2lite  # noqa: F401
    from h2lite import Config, Connection, LocalProtocolError, RemoteProtocolError, events

from h2lite.codes import CLIENT_PREFACE  # noqa: E402

ROLE = "server"


def _react(conn: Connection, event: object) -> None:
    """Answer like a simple application, swallowing only the caller-side errors."""
    try:
        if isinstance(event, events.RequestReceived):
            conn.send_headers(event.stream_id, [(b":status", b"200")])
            conn.send_data(event.stream_id, b"x" * 70000, end_stream=True)
        elif isinstance(event, events.DataReceived) and event.stream_id % 3 == 0:
            conn.reset_stream(event.stream_id)
    except LocalProtocolError:
        pass


def run(role: str, data: bytes) -> None:
    if not data:
        return
    mode, body = data[0], data[1:]
    conn = Connection(Config(client_side=(role == "client"), auto_flow_control=bool(mode & 0x80)))
    conn.initiate_connection()
    if role == "client":
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"a"), (b":path", b"/")])
        conn.send_data(sid, b"y" * 100000, end_stream=True)
    elif mode & 0x40:
        body = CLIENT_PREFACE + body
    step = (mode & 0x3F) or len(body) or 1
    try:
        for start in range(0, len(body), step):
            for event in conn.receive_data(body[start : start + step]):
                _react(conn, event)
            conn.data_to_send()
    except RemoteProtocolError:
        conn.data_to_send()
        try:
            conn.receive_data(b"\x00")
        except LocalProtocolError:
            return
        raise AssertionError("a failed connection accepted more input")


def test_one_input(data: bytes) -> None:
    run(ROLE, data)


def main() -> None:
    global ROLE
    args = list(sys.argv)
    if "--role" in args:
        index = args.index("--role")
        ROLE = args[index + 1]
        del args[index : index + 2]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
