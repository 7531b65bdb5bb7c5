"""Stream abuse: too many concurrent streams (RFC 9113 §5.1.2), stream ID
games (RFC 9113 §5.1.1), and the memory kept for closed streams.

Outcomes: the excess stream alone is refused (REFUSED_STREAM), each refusal
counts against the glitch budget; IDs that break §5.1.1 are a connection
PROTOCOL_ERROR; our own ID space running out is a clean local refusal; closed
streams are remembered up to Limits.max_closed_streams (1000), O(1) each.
"""

from __future__ import annotations

from typing import Any

import pytest

from h2lite import NoAvailableStreamIDError, events
from h2lite.codes import ErrorCode

from ..helpers import REQUEST, RESPONSE, client, data_frame, headers_frame, server, window_update
from ._support import (
    FakeClock,
    assert_calm,
    assert_connection_error,
    attack,
    glitches_spent,
    ping,
    stream_objects,
)

MAX_CONCURRENT = 100  # Config.max_concurrent_streams
CONTROL_LIMIT = 1000
MAX_STREAM_ID = 2**31 - 1


def make_server() -> Any:
    return server(clock=FakeClock())


def requests(count: int, first: int = 1, end_stream: bool = False) -> list[bytes]:
    return [headers_frame(first + 2 * i, REQUEST, end_stream=end_stream) for i in range(count)]


def test_only_the_excess_streams_are_refused() -> None:
    """RFC 9113 §5.1.2: streams past the limit get REFUSED_STREAM; the first hundred stay open."""
    out = attack(make_server, requests(MAX_CONCURRENT + 20))
    assert out.error is None
    refused = [2 * i + 1 for i in range(MAX_CONCURRENT, MAX_CONCURRENT + 20)]
    assert out.rst_streams() == [(sid, ErrorCode.REFUSED_STREAM) for sid in refused]
    assert len(out.of_type(events.RequestReceived)) == MAX_CONCURRENT
    assert out.conn.open_inbound_streams == MAX_CONCURRENT
    assert out.streams == MAX_CONCURRENT
    assert glitches_spent(out.conn) == 20


def test_refused_stream_flood_never_read() -> None:
    """Refusals nobody reads stop at the reply limit."""
    out = attack(make_server, requests(MAX_CONCURRENT + CONTROL_LIMIT + 50))
    assert_calm(out, failed_at=MAX_CONCURRENT + CONTROL_LIMIT)
    assert len(out.rst_streams()) == CONTROL_LIMIT
    assert out.streams == MAX_CONCURRENT


def test_limit_frees_up_as_streams_close() -> None:
    """A stream that ends makes room for the next one."""
    conn = make_server()
    conn.receive_data(b"".join(requests(MAX_CONCURRENT, end_stream=True)))
    conn.send_headers(1, RESPONSE, end_stream=True)
    got = conn.receive_data(headers_frame(2 * MAX_CONCURRENT + 1, REQUEST, end_stream=True))
    assert isinstance(got[0], events.RequestReceived)
    assert conn.open_inbound_streams == MAX_CONCURRENT


# -- stream ID games (RFC 9113 §5.1.1) ------------------------------------------------


@pytest.mark.parametrize("stream_id", [2, 4, 100])
def test_even_stream_from_a_client(stream_id: int) -> None:
    out = attack(make_server, [headers_frame(1, REQUEST), headers_frame(stream_id, REQUEST)])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)


def test_stream_ids_going_backwards() -> None:
    out = attack(make_server, [headers_frame(7, REQUEST), headers_frame(5, REQUEST)])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)
    assert out.goaway is not None and out.goaway[0] == 7  # the last stream we processed


@pytest.mark.parametrize(
    "late",
    [data_frame(9, b"x"), window_update(9, 1)],
    ids=["data", "window-update"],
)
def test_frames_on_an_idle_stream(late: bytes) -> None:
    """RFC 9113 §5.1: only HEADERS and PRIORITY may use an idle stream."""
    out = attack(make_server, [headers_frame(1, REQUEST), late])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)


def test_server_opening_a_stream_to_a_client() -> None:
    """RFC 9113 §5.1.1, §8.4: a server never opens a stream with HEADERS."""
    out = attack(lambda: client(clock=FakeClock()), [headers_frame(2, RESPONSE)])
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=0)


def test_highest_stream_id_then_any_other() -> None:
    """The peer may use 2^31-1 once; every later stream ID is lower, hence a connection error."""
    chunks = [headers_frame(MAX_STREAM_ID, REQUEST, end_stream=True), headers_frame(MAX_STREAM_ID - 2, REQUEST)]
    out = attack(make_server, chunks)
    assert_connection_error(out, ErrorCode.PROTOCOL_ERROR, failed_at=1)
    assert out.of_type(events.RequestReceived)[0].stream_id == MAX_STREAM_ID


def test_our_stream_ids_running_out_is_a_clean_local_refusal() -> None:
    """At 2^31-1 a client cannot open another stream: NoAvailableStreamIDError, and the
    connection still works for what is in flight."""
    conn = client(clock=FakeClock())
    conn.send_headers(MAX_STREAM_ID, REQUEST, end_stream=True)
    conn.data_to_send()
    with pytest.raises(NoAvailableStreamIDError):
        conn.get_next_available_stream_id()
    got = conn.receive_data(headers_frame(MAX_STREAM_ID, RESPONSE, end_stream=True) + ping())
    assert [type(e) for e in got] == [events.ResponseReceived, events.StreamEnded, events.PingReceived]
    assert conn.want_read


# -- closed-stream memory ------------------------------------------------------------------


def test_closed_stream_memory_is_bounded() -> None:
    """2,500 finished exchanges: no live stream objects, and at most 1,000 closed IDs remembered."""
    conn = make_server()
    before = stream_objects()
    for i in range(2500):
        sid = 2 * i + 1
        conn.receive_data(headers_frame(sid, REQUEST, end_stream=True))
        conn.send_headers(sid, RESPONSE, end_stream=True)
        conn.data_to_send()
    assert len(conn._streams) == 0
    assert len(conn._closed) == 1000
    assert stream_objects() - before == 0
    # Late WINDOW_UPDATEs are ignored on a stream still remembered (4999) and
    # on one long forgotten (1): forgetting costs no wrong connection error.
    got = conn.receive_data(window_update(4999, 1) + window_update(1, 1))
    assert got == []
    assert conn.want_read
    assert conn.data_to_send() == b""
