"""Push floods towards a client (nghttp2's max_reserved_remote_streams).

A server may promise streams faster than it starts them.  The client keeps at
most Limits.max_reserved_remote_streams (200) reserved; further promises are
refused with RST_STREAM REFUSED_STREAM and count as glitches.  Started pushes
count against our SETTINGS_MAX_CONCURRENT_STREAMS (100); past it they are
refused too.  So pushed streams never pile up past 300 stream objects.
"""

from __future__ import annotations

from typing import Any

from h2lite import events
from h2lite.codes import ErrorCode

from ..helpers import REQUEST, RESPONSE, client, headers_frame, push_promise
from ._support import FakeClock, assert_calm, attack, glitches_spent

RESERVED_LIMIT = 200
MAX_CONCURRENT = 100
CONTROL_LIMIT = 1000


def request_sent() -> Any:
    """A client with request 1 sent (half-closed local): the server may push on it."""
    conn = client(clock=FakeClock())
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    return conn


def promises(count: int, first: int = 2) -> list[bytes]:
    return [push_promise(1, first + 2 * i, REQUEST) for i in range(count)]


def test_promises_past_the_reserved_limit_are_refused() -> None:
    out = attack(request_sent, promises(RESERVED_LIMIT + 100))
    assert out.error is None
    assert len(out.of_type(events.PushedStreamReceived)) == RESERVED_LIMIT
    refused = [2 + 2 * i for i in range(RESERVED_LIMIT, RESERVED_LIMIT + 100)]
    assert out.rst_streams() == [(sid, ErrorCode.REFUSED_STREAM) for sid in refused]
    assert out.streams == 1 + RESERVED_LIMIT
    assert glitches_spent(out.conn) == 100
    assert out.conn._reserved_remote == RESERVED_LIMIT


def test_promise_flood_never_read() -> None:
    """Refusals nobody reads stop at the reply limit."""
    out = attack(request_sent, promises(RESERVED_LIMIT + CONTROL_LIMIT + 10))
    assert_calm(out, failed_at=RESERVED_LIMIT + CONTROL_LIMIT)
    assert out.streams == 1 + RESERVED_LIMIT


def test_reserved_slots_free_up_as_pushes_finish() -> None:
    """The limit is on pushes waiting, not on pushes in all: finished ones make room."""
    chunks = promises(RESERVED_LIMIT)
    chunks += [headers_frame(2 + 2 * i, RESPONSE, end_stream=True) for i in range(50)]
    chunks += promises(60, first=2 + 2 * RESERVED_LIMIT)
    out = attack(request_sent, chunks)
    assert out.error is None
    assert len(out.of_type(events.PushedStreamReceived)) == RESERVED_LIMIT + 50
    assert len(out.rst_streams()) == 10
    assert out.conn._reserved_remote == RESERVED_LIMIT


def test_started_pushes_past_our_concurrency_are_refused() -> None:
    """Pushed responses count as streams the peer opened (RFC 9113 §5.1.2): the 101st is refused."""
    chunks = promises(RESERVED_LIMIT) + [headers_frame(2 + 2 * i, RESPONSE) for i in range(RESERVED_LIMIT)]
    out = attack(request_sent, chunks)
    assert out.error is None
    assert len(out.of_type(events.ResponseReceived)) == MAX_CONCURRENT
    refused = [2 + 2 * i for i in range(MAX_CONCURRENT, RESERVED_LIMIT)]
    assert out.rst_streams() == [(sid, ErrorCode.REFUSED_STREAM) for sid in refused]
    assert out.conn.open_inbound_streams == MAX_CONCURRENT
    assert out.streams == 1 + MAX_CONCURRENT
    assert out.conn._reserved_remote == 0
