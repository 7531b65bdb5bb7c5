"""Write seed inputs for the fuzzers into fuzz/corpus/{server,client}.

Each seed is a mode byte (0: one receive_data call, auto flow control on)
followed by a real byte stream recorded from an h2lite client/server exchange.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from h2lite import Config, Connection, LocalProtocolError, events

REQUEST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/up")]


def record(scenario: str) -> tuple[bytes, bytes]:
    """Run one exchange; return (client bytes, server bytes)."""
    client = Connection(Config(client_side=True))
    server = Connection(Config(client_side=False))
    client.initiate_connection()
    server.initiate_connection()
    sent_by_client = bytearray()
    sent_by_server = bytearray()
    for n in range(3):
        sid = client.get_next_available_stream_id()
        end = scenario == "get"
        client.send_headers(sid, REQUEST if not end else [(b":method", b"GET")] + REQUEST[1:], end_stream=end)
        if not end:
            client.send_data(sid, b"a" * (5000 * (n + 1)))
            if scenario == "trailers":
                client.send_headers(sid, [(b"x-checksum", b"1234")], end_stream=True)
            elif scenario == "reset" and n == 1:
                client.reset_stream(sid, 8)
            else:
                client.end_stream(sid)
    if scenario == "ping":
        client.ping(b"12345678")
    for _ in range(50):
        a = client.data_to_send()
        b = server.data_to_send()
        if not a and not b:
            break
        sent_by_client += a
        sent_by_server += b
        for event in server.receive_data(a) if a else []:
            if isinstance(event, events.StreamEnded):
                try:
                    server.send_headers(event.stream_id, [(b":status", b"200"), (b"server", b"seed")])
                    server.send_data(event.stream_id, b"b" * 3000)
                    server.send_headers(event.stream_id, [(b"grpc-status", b"0")], end_stream=True)
                except LocalProtocolError:
                    pass  # the stream was reset meanwhile: nothing to answer
        if b:
            client.receive_data(b)
    client.close_connection()
    sent_by_client += client.data_to_send()
    return bytes(sent_by_client), bytes(sent_by_server)


def main() -> None:
    for scenario in ("get", "post", "trailers", "reset", "ping"):
        to_server, to_client = record(scenario)
        for role, data in (("server", to_server), ("client", to_client)):
            folder = os.path.join(HERE, "corpus", role)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"seed-{scenario}"), "wb") as f:
                f.write(b"\x80" + data)


if __name__ == "__main__":
    main()
