"""Control-frame floods: PING and SETTINGS replies the peer never reads
(CVE-2019-9512, CVE-2019-9515), SETTINGS frames with many entries (nghttp2's
max_settings), and SETTINGS the peer repeats to grow our state.

Limits.max_queued_control_frames (1000) bounds the replies queued since the
caller last drained the output; the 1001st is answered with GOAWAY
ENHANCE_YOUR_CALM.  RFC 9113 §6.5 and §6.7 make each reply mandatory, so the
only defence is to stop talking to a peer that will not read them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from h2lite import Connection, DenialOfServiceError, Setting, events
from h2lite.codes import ErrorCode
from h2lite.settings import DEFAULTS

from ..helpers import REQUEST, SETTINGS_ACK, client, headers_frame, server, settings
from ._support import FakeClock, assert_calm, attack, deliver, ping

LIMIT = 1000  # Limits.max_queued_control_frames
PING_ACK_SIZE = 9 + 8
GOAWAY_MAX = 9 + 8 + 256  # header, last stream ID + code, debug data (capped at 256)

ROLES: dict[str, Callable[[], Connection]] = {
    "server": lambda: server(clock=FakeClock()),
    "client": lambda: client(clock=FakeClock()),
}


@pytest.fixture(params=sorted(ROLES))
def make(request: pytest.FixtureRequest) -> Callable[[], Connection]:
    return ROLES[request.param]


def pings(count: int) -> list[bytes]:
    return [ping(struct.pack(">Q", i)) for i in range(count)]


def test_ping_flood_never_read(make: Callable[[], Connection]) -> None:
    """CVE-2019-9512: the reply that passes the limit ends the connection; the output stays bounded."""
    out = attack(make, pings(3 * LIMIT))
    assert_calm(out, failed_at=LIMIT)
    # Every PING up to the limit was answered, in order, and reported once.
    acks = [p for t, f, s, p in out.frames if t == 0x6]
    assert all(f == 0x1 for t, f, s, p in out.frames if t == 0x6)
    assert acks[:LIMIT] == [struct.pack(">Q", i) for i in range(LIMIT)]
    assert len(acks) == LIMIT
    assert len(out.of_type(events.PingReceived)) == LIMIT
    assert out.largest_drain <= LIMIT * PING_ACK_SIZE + GOAWAY_MAX


def test_settings_flood_never_read(make: Callable[[], Connection]) -> None:
    """CVE-2019-9515: SETTINGS ACKs count like any other reply."""
    out = attack(make, [settings()] * (2 * LIMIT))
    assert_calm(out, failed_at=LIMIT)
    assert len(out.of_type(events.RemoteSettingsChanged)) == LIMIT
    assert out.largest_drain <= LIMIT * len(SETTINGS_ACK) + GOAWAY_MAX


def test_mixed_control_flood_shares_one_budget(make: Callable[[], Connection]) -> None:
    """PING ACKs and SETTINGS ACKs add up against the same limit."""
    chunks = [ping() if i % 2 else settings() for i in range(2 * LIMIT)]
    out = attack(make, chunks)
    assert_calm(out, failed_at=LIMIT)


def test_peer_that_reads_its_replies_is_served(make: Callable[[], Connection]) -> None:
    """Draining the output forgets the replies it took: a peer reading them is not a flood."""
    out = attack(make, pings(5 * LIMIT), read_size=LIMIT // 2)
    assert out.error is None
    assert len([f for f in out.frames if f[0] == 0x6]) == 5 * LIMIT
    assert out.largest_drain == (LIMIT // 2) * PING_ACK_SIZE


def test_partial_drain_does_not_forget_replies_still_queued() -> None:
    """data_to_send(amount) leaves replies behind: they still count."""
    conn = server(clock=FakeClock())
    conn.receive_data(b"".join(pings(LIMIT)))
    # Take one ACK: 999 are still waiting, so the next two PINGs pass the limit.
    assert len(conn.data_to_send(PING_ACK_SIZE)) == PING_ACK_SIZE
    with pytest.raises(DenialOfServiceError):
        conn.receive_data(b"".join(pings(2)))


def test_partial_drain_down_to_a_few_bytes_frees_the_budget() -> None:
    """When only a few bytes stay queued, only a few replies can be among them."""
    conn = server(clock=FakeClock())
    conn.receive_data(b"".join(pings(LIMIT)))
    conn.data_to_send((LIMIT - 5) * PING_ACK_SIZE)  # five ACKs stay queued
    conn.receive_data(b"".join(pings(LIMIT - 20)))
    assert conn.want_read
    rest = conn.data_to_send()
    assert len(rest) == (LIMIT - 15) * PING_ACK_SIZE


# -- SETTINGS with many entries (nghttp2 max_settings) --------------------------------


@pytest.mark.parametrize("entries, ok", [(32, True), (33, False), (2730, False)])
def test_settings_entries_limit(make: Callable[[], Connection], entries: int, ok: bool) -> None:
    """Limits.max_settings_entries = 32: one more is ENHANCE_YOUR_CALM, and nothing is applied or acknowledged."""
    pairs = [(Setting.MAX_CONCURRENT_STREAMS, 10 + i) for i in range(entries)]
    out = attack(make, [settings((Setting.INITIAL_WINDOW_SIZE, 1000)), settings(*pairs)])
    if ok:
        assert out.error is None
        assert out.conn.remote_settings.max_concurrent_streams == 10 + entries - 1
        assert out.output == SETTINGS_ACK * 2
        return
    assert_calm(out, failed_at=1)
    # The first frame was applied and acknowledged; the oversized one was not.
    assert out.conn.remote_settings.max_concurrent_streams == DEFAULTS[Setting.MAX_CONCURRENT_STREAMS]
    assert [f[0] for f in out.frames] == [0x4, 0x7]


def test_unknown_settings_are_not_remembered(make: Callable[[], Connection]) -> None:
    """RFC 9113 §6.5.2: unknown identifiers are ignored, so a peer cannot make us keep
    up to 65,536 of them (here 9,600 distinct ones)."""
    frames = [settings(*[(0x100 + 32 * i + j, j) for j in range(32)]) for i in range(300)]
    out = attack(make, frames, read_size=100)
    assert out.error is None
    assert len(out.of_type(events.RemoteSettingsChanged)) == 300
    assert len(out.conn.remote_settings) == len(DEFAULTS)


def test_header_table_size_flapping_keeps_encoder_state_bounded() -> None:
    """A peer flipping SETTINGS_HEADER_TABLE_SIZE while we send no headers grows nothing;
    the next block still signals the smallest size and then the final one (RFC 7541 §4.2)."""
    values = [0, 4096, 100, 4096, 50, 2000]
    frames = [settings((Setting.HEADER_TABLE_SIZE, values[i % len(values)])) for i in range(3000)]
    out = deliver(lambda: client(clock=FakeClock()), frames, "whole", read_size=300)
    assert out.error is None
    conn = out.conn
    assert len(conn._encoder._encoder.table_size_changes) <= 2
    conn.send_headers(1, REQUEST, end_stream=True)
    wire = conn.data_to_send()
    block = wire[9:]
    # Dynamic table size updates: 001xxxxx, 5-bit prefix integers.
    updates = []
    pos = 0
    while block[pos] & 0xE0 == 0x20:
        value, pos = _prefix_int(block, pos, 5)
        updates.append(value)
    assert updates == [0, 2000]  # the smallest since the last block, then the final size


def test_request_after_flapping_decodes_at_the_peer() -> None:
    """The same flapping seen from the server side: its answers decode with the final size."""
    import hpack

    conn = server(clock=FakeClock())
    for value in [0, 4096, 0, 1000] * 50:
        conn.receive_data(settings((Setting.HEADER_TABLE_SIZE, value)))
    conn.data_to_send()
    conn.receive_data(headers_frame(1, REQUEST, end_stream=True))
    conn.send_headers(1, [(b":status", b"200"), (b"x-a", b"b" * 100)], end_stream=True)
    wire = conn.data_to_send()
    decoder = hpack.Decoder()
    decoder.max_allowed_table_size = 1000
    assert decoder.decode(wire[9:], raw=True)[:2] == [(b":status", b"200"), (b"x-a", b"b" * 100)]
    assert decoder.header_table_size == 1000


def _prefix_int(data: bytes, pos: int, bits: int) -> tuple[int, int]:
    mask = (1 << bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def test_code_is_enhance_your_calm() -> None:
    """The exception the caller sees carries the code GOAWAY carried."""
    conn = server(clock=FakeClock())
    with pytest.raises(DenialOfServiceError) as info:
        conn.receive_data(b"".join(pings(LIMIT + 1)))
    assert info.value.error_code == ErrorCode.ENHANCE_YOUR_CALM
    assert len(info.value.events) == LIMIT
