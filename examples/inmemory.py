"""Run an h2lite client and server against each other in memory and show their events."""

from __future__ import annotations

from h2lite import Config, Connection, events


def main() -> None:
    client = Connection(Config(client_side=True))
    server = Connection(Config(client_side=False))
    client.initiate_connection()
    server.initiate_connection()

    def pump() -> None:
        while True:
            to_server, to_client = client.data_to_send(), server.data_to_send()
            if not to_server and not to_client:
                return
            for event in server.receive_data(to_server) if to_server else []:
                print(f"server <- {event!r}")
                if isinstance(event, events.RequestReceived):
                    body = b"hello from h2lite\n" * 3
                    server.send_headers(
                        event.stream_id,
                        [(b":status", b"200"), (b"content-length", str(len(body)).encode())],
                    )
                    server.send_data(event.stream_id, body, end_stream=True)
            for event in client.receive_data(to_client) if to_client else []:
                print(f"client <- {event!r}")

    stream_id = client.get_next_available_stream_id()
    client.send_headers(
        stream_id,
        [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")],
        end_stream=True,
    )
    pump()
    client.close_connection()
    pump()


if __name__ == "__main__":
    main()
