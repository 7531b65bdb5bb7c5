"""Floods of frames that carry nothing: empty DATA and CONTINUATION
(CVE-2019-9518), PRIORITY (CVE-2019-9513), unknown, ALTSVC, ORIGIN and
PRIORITY_UPDATE frames.

Each is legal alone, so each spends a token of the glitch budget (burst
10000, 330 per second).  The 10,001st in a burst is answered with GOAWAY
ENHANCE_YOUR_CALM, and no event is produced beyond the budget.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

from h2lite import events

from ..helpers import (
    REQUEST,
    RESPONSE,
    client,
    data_frame,
    encode_headers,
    frame,
    headers_frame,
    server,
)
from ._support import (
    FakeClock,
    assert_calm,
    attack,
    continuation,
    glitches_spent,
    headers_fragment,
    priority,
)

GLITCH_BURST = 10000
POST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]


def make_server() -> Any:
    return server(clock=FakeClock())


def make_client() -> Any:
    return client(clock=FakeClock())


def origin_frame(i: int) -> bytes:
    origin = b"https://o%d.example" % i
    return frame(0xC, 0, 0, struct.pack(">H", len(origin)) + origin)


def altsvc_frame(i: int) -> bytes:
    origin = b"example.org"
    return frame(0xA, 0, 0, struct.pack(">H", len(origin)) + origin + b'h2=":%d"' % (1000 + i % 1000))


# (name, connection, frame i -> bytes, event type each frame reports or None)
FLOODS: list[tuple[str, Callable[[], Any], Callable[[int], bytes], type | None]] = [
    ("priority", make_server, lambda i: priority(2 * i + 1, depends_on=0), None),
    ("priority-to-client", make_client, lambda i: priority(2 * i + 1), None),
    ("unknown-frame", make_server, lambda i: frame(0xFA, 0, i & 0xFF, b""), events.UnknownFrameReceived),
    ("unknown-frame-to-client", make_client, lambda i: frame(0x42, 0x3, 0, b"x"), events.UnknownFrameReceived),
    ("altsvc-to-server", make_server, altsvc_frame, None),
    ("altsvc-to-client", make_client, altsvc_frame, events.AlternativeServiceAvailable),
    ("origin-to-client", make_client, origin_frame, events.OriginReceived),
    ("priority-update", make_server, lambda i: frame(0x10, 0, 0, struct.pack(">L", 2 * i + 1) + b"u=3"), events.PriorityUpdated),
]


@pytest.mark.parametrize("name, make, build, event", FLOODS, ids=[f[0] for f in FLOODS])
def test_flood_ends_after_the_glitch_burst(name: str, make: Callable[[], Any], build: Callable[[int], bytes], event: type | None) -> None:
    """The 10,001st frame of a burst: GOAWAY ENHANCE_YOUR_CALM; one event at most per budgeted frame."""
    out = attack(make, [build(i) for i in range(GLITCH_BURST + 20)])
    assert_calm(out, failed_at=GLITCH_BURST)
    assert [f[0] for f in out.frames] == [0x7]  # nothing but the GOAWAY was written
    if event is not None:
        assert len(out.of_type(event)) == GLITCH_BURST
    assert len(out.events) <= GLITCH_BURST
    assert out.streams == 0


def test_priority_at_a_sustainable_rate_is_served() -> None:
    """300 PRIORITY frames per second, below the 330/s refill, go on past the burst."""
    frames = [priority(2 * i + 1) for i in range(10500)]
    out = attack(make_server, frames, read_size=30, tick=0.1)
    assert out.error is None
    assert out.output == b""


# -- empty DATA --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_headers",
    [POST, POST + [(b"content-length", b"10")]],
    ids=["no-content-length", "content-length"],
)
def test_empty_data_flood(request_headers: list[tuple[bytes, bytes]]) -> None:
    """Empty DATA without END_STREAM is a glitch whether or not content-length is known."""
    chunks = [headers_frame(1, request_headers)] + [data_frame(1, b"")] * (GLITCH_BURST + 20)
    out = attack(make_server, chunks)
    assert_calm(out, failed_at=GLITCH_BURST + 1)
    assert len(out.of_type(events.DataReceived)) == GLITCH_BURST
    assert [f[0] for f in out.frames] == [0x7]


def test_padding_only_data_is_a_glitch() -> None:
    """DATA carrying only padding brings no data either (the padding is still credited back)."""
    out = attack(make_server, [headers_frame(1, POST), data_frame(1, b"", pad_length=10)])
    assert out.error is None
    assert glitches_spent(out.conn) == 1


def test_empty_data_ending_the_stream_is_not_a_glitch() -> None:
    """An empty DATA frame with END_STREAM is how many clients end a request body: it is fine."""
    chunks = []
    for i in range(50):
        chunks += [headers_frame(2 * i + 1, POST), data_frame(2 * i + 1, b"body"), data_frame(2 * i + 1, b"", end_stream=True)]
    out = attack(make_server, chunks)
    assert out.error is None
    assert glitches_spent(out.conn) == 0


# -- empty CONTINUATION ---------------------------------------------------------------


def test_empty_continuation_flood() -> None:
    """A hostile server answers each request with a header block followed by 8 empty CONTINUATIONs."""
    count = GLITCH_BURST // 8 + 5

    def make() -> Any:
        conn = make_client()
        for i in range(count):
            conn.send_headers(2 * i + 1, REQUEST, end_stream=True)
        conn.data_to_send()
        return conn

    block = encode_headers(RESPONSE)
    chunks = []
    for i in range(count):
        sid = 2 * i + 1
        chunks.append(headers_fragment(sid, block, end_stream=True))
        chunks += [continuation(sid, b"")] * 7 + [continuation(sid, b"", end_headers=True)]
    out = attack(make, chunks, read_size=9 * 50)
    # The 10,001st empty CONTINUATION is the first one after response #1250.
    assert_calm(out, failed_at=(GLITCH_BURST // 8) * 9 + 1)
    assert len(out.of_type(events.ResponseReceived)) == GLITCH_BURST // 8
    assert out.streams == count - GLITCH_BURST // 8


def test_empty_continuation_to_a_server_counts() -> None:
    """Each empty CONTINUATION costs a glitch on the server side too."""
    block = encode_headers(REQUEST)
    chunks = [headers_fragment(1, block, end_stream=True)] + [continuation(1, b"")] * 3 + [continuation(1, b"", end_headers=True)]
    out = attack(make_server, chunks)
    assert out.error is None
    assert isinstance(out.events[0], events.RequestReceived)
    assert glitches_spent(out.conn) == 4
