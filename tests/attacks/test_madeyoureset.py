"""Stream errors provoked on purpose (CVE-2025-8671, "MadeYouReset").

The peer does not reset streams itself: it makes *us* reset them, with a frame
the RFC answers with a stream error.  Each trigger must be a stream error
(RST_STREAM with the RFC's code, a StreamReset event the application sees,
no GOAWAY, the connection still serving), and must spend exactly one token of
the glitch budget, so that repeating it ends in GOAWAY ENHANCE_YOUR_CALM.

The RFC rules themselves are also tested in tests/conformance (test_s5_streams,
test_s6_*, test_s8_requests, test_s8_responses); here each one is checked as
an abuse vector: both deliveries, one glitch each, and the budget.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from h2lite import Connection, events
from h2lite.codes import ErrorCode

from ..helpers import (
    REQUEST,
    RESPONSE,
    client,
    data_frame,
    encode_headers,
    frame,
    headers_frame,
    push_promise,
    rst_stream,
    server,
    window_update,
)
from ._support import FakeClock, assert_calm, attack, glitches_spent, priority

GLITCH_BURST = 10000
MAX_WINDOW = 2**31 - 1

POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]
TRAILERS = [(b"x-checksum", b"abc")]


def with_length(length: int) -> list[tuple[bytes, bytes]]:
    return POST + [(b"content-length", str(length).encode())]


def replace(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes | None) -> list[tuple[bytes, bytes]]:
    out = [(n, v) for n, v in headers if n != name]
    if value is not None:
        out.insert(0 if name.startswith(b":") else len(out), (name, value))
    return out


@dataclass
class Trigger:
    """Frames that make the stream ``sid`` (the last one opened) a stream error with ``code``."""

    name: str
    chunks: Callable[[int], list[bytes]]
    code: ErrorCode = ErrorCode.PROTOCOL_ERROR
    config: dict[str, Any] = field(default_factory=dict)
    #: False when the application already saw the stream end (no second StreamReset).
    reported: bool = True


def request_then(*more: Callable[[int], bytes], end_stream: bool = False, headers: Any = REQUEST) -> Callable[[int], list[bytes]]:
    return lambda sid: [headers_frame(sid, headers, end_stream=end_stream)] + [m(sid) for m in more]


def malformed(headers: list[tuple[bytes, bytes]], end_stream: bool = True) -> Callable[[int], list[bytes]]:
    return lambda sid: [headers_frame(sid, headers, end_stream=end_stream)]


SERVER_TRIGGERS = [
    # RFC 9113 §6.9: a 0 increment on a stream.
    Trigger("zero-window-update", request_then(lambda s: window_update(s, 0))),
    # RFC 9113 §6.9.1: a stream window past 2^31-1.
    Trigger("window-overflow", request_then(lambda s: window_update(s, MAX_WINDOW)), ErrorCode.FLOW_CONTROL_ERROR),
    # RFC 9113 §5.1: DATA or HEADERS after END_STREAM (half-closed remote).
    Trigger("data-after-end-stream", request_then(lambda s: data_frame(s, b"x"), end_stream=True), ErrorCode.STREAM_CLOSED),
    Trigger(
        "headers-after-end-stream",
        request_then(lambda s: headers_frame(s, TRAILERS, end_stream=True), end_stream=True),
        ErrorCode.STREAM_CLOSED,
    ),
    # RFC 9113 §6.9.1: DATA beyond the stream window (a small window, to keep the connection's open).
    Trigger(
        "data-beyond-stream-window",
        request_then(lambda s: data_frame(s, b"x" * 17), headers=POST),
        ErrorCode.FLOW_CONTROL_ERROR,
        {"initial_window_size": 16},
    ),
    # RFC 9113 §5.1: frames after the peer's own RST_STREAM.
    Trigger(
        "data-after-peer-reset",
        request_then(lambda s: rst_stream(s, ErrorCode.CANCEL), lambda s: data_frame(s, b"x")),
        ErrorCode.STREAM_CLOSED,
        reported=False,
    ),
    # RFC 9113 §5.3.1: a stream depending on itself, in PRIORITY or in HEADERS.
    Trigger("priority-self-dependency", request_then(lambda s: priority(s, depends_on=s))),
    Trigger(
        "headers-self-dependency",
        lambda s: [frame(0x1, 0x4 | 0x20, s, struct.pack(">LB", s, 15) + encode_headers(REQUEST))],
    ),
    # RFC 9113 §6.3: PRIORITY of the wrong length.
    Trigger("priority-bad-length", request_then(lambda s: frame(0x2, 0, s, b"\x00" * 4)), ErrorCode.FRAME_SIZE_ERROR),
    # RFC 9113 §8.1.1: malformed requests, one per rule.
    Trigger("missing-method", malformed(replace(REQUEST, b":method", None))),
    Trigger("missing-scheme", malformed(replace(REQUEST, b":scheme", None))),
    Trigger("missing-path", malformed(replace(REQUEST, b":path", None))),
    Trigger("empty-path", malformed(replace(REQUEST, b":path", b""))),
    Trigger("relative-path", malformed(replace(REQUEST, b":path", b"index.html"))),
    Trigger("no-authority-or-host", malformed(replace(REQUEST, b":authority", None))),
    Trigger("authority-host-mismatch", malformed(REQUEST + [(b"host", b"other.example")])),
    Trigger("uppercase-name", malformed(REQUEST + [(b"X-Upper", b"1")])),
    Trigger("name-with-space", malformed(REQUEST + [(b"x y", b"1")])),
    Trigger("value-with-newline", malformed(REQUEST + [(b"x-a", b"1\r\nx-b: 2")])),
    Trigger("value-with-nul", malformed(REQUEST + [(b"x-a", b"1\x002")])),
    Trigger("value-leading-space", malformed(REQUEST + [(b"x-a", b" 1")])),
    Trigger("connection-header", malformed(REQUEST + [(b"connection", b"keep-alive")])),
    Trigger("transfer-encoding", malformed(REQUEST + [(b"transfer-encoding", b"chunked")])),
    Trigger("te-not-trailers", malformed(REQUEST + [(b"te", b"gzip")])),
    Trigger("pseudo-after-regular", malformed([(b"x-a", b"1")] + REQUEST)),
    Trigger("unknown-pseudo", malformed(REQUEST + [(b":color", b"red")])),
    Trigger("response-pseudo-in-request", malformed([(b":status", b"200")] + REQUEST)),
    Trigger("duplicate-pseudo", malformed(REQUEST + [(b":path", b"/again")])),
    Trigger("connect-with-path", malformed([(b":method", b"CONNECT"), (b":authority", b"a:443"), (b":path", b"/")])),
    Trigger("protocol-not-enabled", malformed(replace(REQUEST, b":method", b"CONNECT") + [(b":protocol", b"websocket")])),
    Trigger("content-length-not-a-number", malformed(POST + [(b"content-length", b"12a")])),
    Trigger("content-length-conflict", malformed(POST + [(b"content-length", b"1"), (b"content-length", b"2")])),
    Trigger("content-length-with-end-stream", malformed(with_length(5))),
    Trigger(
        "more-data-than-content-length",
        request_then(lambda s: data_frame(s, b"123456"), headers=with_length(5)),
    ),
    Trigger(
        "less-data-than-content-length",
        request_then(lambda s: data_frame(s, b"1234", end_stream=True), headers=with_length(5)),
    ),
    Trigger(
        "trailers-without-end-stream",
        request_then(lambda s: headers_frame(s, TRAILERS, end_stream=False), headers=POST),
    ),
    Trigger(
        "trailers-with-pseudo-header",
        request_then(lambda s: headers_frame(s, [(b":path", b"/")] + TRAILERS, end_stream=True), headers=POST),
    ),
    # Limits.max_header_fields (256): the request is refused.
    Trigger("too-many-fields", malformed(REQUEST + [(b"x-f", b"1")] * 253), ErrorCode.REFUSED_STREAM),
]


def request_sent(**config: Any) -> Connection:
    """A client with request 1 sent (half-closed local), awaiting the response."""
    conn = client(clock=FakeClock(), **config)
    conn.send_headers(1, REQUEST, end_stream=True)
    conn.data_to_send()
    return conn


def response(headers: list[tuple[bytes, bytes]], end_stream: bool = False) -> Callable[[int], bytes]:
    return lambda s: headers_frame(s, headers, end_stream=end_stream)


CLIENT_TRIGGERS = [
    Trigger("zero-window-update", lambda s: [window_update(s, 0)]),
    Trigger("window-overflow", lambda s: [window_update(s, MAX_WINDOW)], ErrorCode.FLOW_CONTROL_ERROR),
    Trigger("missing-status", lambda s: [response([(b"x-a", b"1")])(s)]),
    Trigger("status-101", lambda s: [response([(b":status", b"101")])(s)]),
    Trigger("informational-with-end-stream", lambda s: [response([(b":status", b"103")], end_stream=True)(s)]),
    Trigger("data-after-informational", lambda s: [response([(b":status", b"100")])(s), data_frame(s, b"x")]),
    Trigger(
        "more-data-than-content-length",
        lambda s: [response(RESPONSE + [(b"content-length", b"1")])(s), data_frame(s, b"12")],
    ),
    Trigger("trailers-without-end-stream", lambda s: [response(RESPONSE)(s), response(TRAILERS)(s)]),
    Trigger("too-many-fields", lambda s: [response(RESPONSE + [(b"x-f", b"1")] * 256)(s)], ErrorCode.REFUSED_STREAM),
]


def check_stream_error(out: Any, sid: int, code: ErrorCode, reported: bool = True) -> None:
    assert out.error is None
    assert out.goaway is None
    assert out.rst_streams() == [(sid, code)]
    resets = out.of_type(events.StreamReset)
    if reported:
        assert resets[-1] == events.StreamReset(stream_id=sid, error_code=code, remote_reset=False)
    else:
        assert all(r.remote_reset for r in resets)
    assert glitches_spent(out.conn) == 1


@pytest.mark.parametrize("trigger", SERVER_TRIGGERS, ids=lambda t: t.name)
def test_server_stream_error_counts_one_glitch(trigger: Trigger) -> None:
    """Each trigger is a stream error, costs one glitch, and leaves the connection serving."""
    out = attack(lambda: server(clock=FakeClock(), **trigger.config), trigger.chunks(1))
    check_stream_error(out, 1, trigger.code, trigger.reported)
    conn = out.conn
    assert conn.open_inbound_streams == 0
    got = conn.receive_data(headers_frame(3, REQUEST, end_stream=True))
    assert isinstance(got[0], events.RequestReceived)


@pytest.mark.parametrize("trigger", CLIENT_TRIGGERS, ids=lambda t: t.name)
def test_client_stream_error_counts_one_glitch(trigger: Trigger) -> None:
    """A hostile server provokes the same: one glitch each, the client keeps working."""
    out = attack(lambda: request_sent(**trigger.config), trigger.chunks(1))
    check_stream_error(out, 1, trigger.code)
    conn = out.conn
    conn.send_headers(3, REQUEST, end_stream=True)
    assert conn.data_to_send()


def test_excess_stream_is_refused_and_counted() -> None:
    """RFC 9113 §5.1.2: a stream past our acknowledged MAX_CONCURRENT_STREAMS is refused, alone, and counted."""
    chunks = [headers_frame(2 * i + 1, REQUEST) for i in range(101)]
    out = attack(lambda: server(clock=FakeClock()), chunks)
    check_stream_error(out, 201, ErrorCode.REFUSED_STREAM)
    assert out.conn.open_inbound_streams == 100
    assert out.streams == 100


def test_malformed_pushed_request_counts_one_glitch() -> None:
    """RFC 9113 §8.4: a promised request must be safe and cacheable; the promised stream is reset."""
    chunks = [push_promise(1, 2, replace(REQUEST, b":method", b"POST"))]
    out = attack(request_sent, chunks)
    check_stream_error(out, 2, ErrorCode.PROTOCOL_ERROR)


def test_pushed_response_past_our_concurrency_is_refused_and_counted() -> None:
    """RFC 9113 §5.1.2: a pushed response that would exceed our limit is a stream error, queued like the others."""
    make = lambda: request_sent(max_concurrent_streams=1)
    chunks = [push_promise(1, 2, REQUEST), push_promise(1, 4, REQUEST), headers_frame(2, RESPONSE), headers_frame(4, RESPONSE)]
    out = attack(make, chunks)
    check_stream_error(out, 4, ErrorCode.REFUSED_STREAM)
    assert out.conn.open_inbound_streams == 1


# -- repeated, the budget runs out -------------------------------------------------------


def repeated(trigger: Trigger, count: int) -> list[bytes]:
    chunks: list[bytes] = []
    for i in range(count):
        chunks += trigger.chunks(2 * i + 1)
    return chunks


@pytest.mark.parametrize("name", ["zero-window-update", "data-after-end-stream"])
def test_repeated_stream_errors_exhaust_the_glitch_budget(name: str) -> None:
    """CVE-2025-8671: the peer reads our RST_STREAMs and keeps going; the 10,001st error ends the connection."""
    trigger = next(t for t in SERVER_TRIGGERS if t.name == name)
    per = len(trigger.chunks(1))
    out = attack(lambda: server(clock=FakeClock()), repeated(trigger, GLITCH_BURST + 1), read_size=200 * per)
    assert_calm(out, failed_at=GLITCH_BURST * per + per - 1)
    assert len(out.rst_streams()) == GLITCH_BURST
    assert len(out.of_type(events.StreamReset)) == GLITCH_BURST
    assert out.largest_drain <= 200 * 13
    assert out.streams <= 1
    assert out.closed <= 1000


def test_stream_errors_at_a_sustainable_rate_are_served() -> None:
    """Below the refill rate (330/s) provoked errors never end the connection: it is a budget, not a cap."""
    trigger = next(t for t in SERVER_TRIGGERS if t.name == "zero-window-update")
    # 10,500 errors at 300 per second: more than the burst, never faster than the refill.
    out = attack(lambda: server(clock=FakeClock()), repeated(trigger, 10500), read_size=2 * 30, tick=0.1)
    assert out.error is None
    assert len(out.rst_streams()) == 10500
