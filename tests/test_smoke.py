"""End-to-end basics: a request and a response through two h2lite connections."""

from h2lite import events

from .helpers import REQUEST, RESPONSE, ConnectionPair


def test_request_response_round_trip():
    pair = ConnectionPair()
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(sid, REQUEST, end_stream=True)
    _, server_events = pair.pump()
    request = [e for e in server_events if isinstance(e, events.RequestReceived)]
    assert [e.headers for e in request] == [REQUEST]
    assert any(isinstance(e, events.StreamEnded) and e.stream_id == sid for e in server_events)
    pair.server.send_headers(sid, RESPONSE)
    pair.server.send_data(sid, b"x" * 200_000, end_stream=True)
    client_events, _ = pair.pump()
    body = b"".join(e.data for e in client_events if isinstance(e, events.DataReceived))
    assert body == b"x" * 200_000
    assert isinstance(client_events[-1], events.StreamEnded)
    assert pair.client.open_outbound_streams == 0
    assert pair.server.open_inbound_streams == 0
