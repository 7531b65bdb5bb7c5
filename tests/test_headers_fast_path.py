"""The list-wide header checks agree with the field-by-field scan (RFC 9113 §8.2, §8.3).

``headers._scan_valid`` may only ever accept what the field-by-field scan
accepts, with the same result; anything else must fall through so the scan
raises its own error.
"""

from __future__ import annotations

import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import headers

COMMON_NAMES = st.sampled_from(
    [b":method", b":scheme", b":authority", b":path", b":status", b"user-agent", b"accept",
     b"cookie", b"x-a", b"x-b", b"x-c", b"content-length", b"host", b"te"]
)
ODD_NAMES = st.sampled_from(
    [b":protocol", b":bogus", b":", b"connection", b"keep-alive", b"upgrade", b"transfer-encoding",
     b"proxy-connection", b"X-Upper", b"bad name", b"", b"x\nname", b"x:y"]
)
# Mostly well-formed names, so that long lists reach the list-wide checks.
NAMES = st.one_of(COMMON_NAMES, COMMON_NAMES, COMMON_NAMES, ODD_NAMES)
VALUES = st.one_of(
    st.sampled_from(
        [b"", b"GET", b"https", b"/", b"example.org", b"trailers", b"gzip", b"10", b"010", b"-1",
         b"1e3", b" lead", b"trail ", b"\ttab", b"tab\t", b"in side", b"nul\x00", b"cr\r", b"lf\n",
         b"\n", b"a\nb", b" ", b"99999999999999999999"]
    ),
    st.binary(max_size=12),
)
REQUEST_START = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]


def _field(triple):
    name, value, kind = triple
    if kind == 0:
        return (name, value)
    return (HeaderTuple if kind == 1 else NeverIndexedHeaderTuple)(name, value)


FIELDS = st.lists(st.tuples(NAMES, VALUES, st.integers(0, 2)).map(_field), max_size=20)


def _verdict(fields, allowed, fast):
    original = headers._scan_valid
    if not fast:
        headers._scan_valid = lambda *args: None
    try:
        return headers._scan_fields(fields, allowed)
    except headers.MalformedHeaders as exc:
        return f"malformed: {exc}"
    finally:
        headers._scan_valid = original


def _both(fields, allowed):
    slow = _verdict(fields, allowed, fast=False)
    # Teach the cache of valid names every valid name in the list (the
    # field-by-field scan stops at the first error, before seeing them all),
    # so the list-wide checks are not skipped for want of a known name.
    for name, _ in fields:
        headers._name_ok(name)
    assert _verdict(fields, allowed, fast=True) == slow
    return slow


@settings(max_examples=200, deadline=None)
@given(FIELDS, st.sampled_from([headers.REQUEST_PSEUDO, headers.RESPONSE_PSEUDO, frozenset()]))
def test_random_lists_get_the_same_verdict(fields, allowed):
    _both(fields, allowed)


@settings(max_examples=200, deadline=None)
@given(FIELDS)
def test_requests_with_a_valid_start_get_the_same_verdict(fields):
    _both(REQUEST_START + fields, headers.REQUEST_PSEUDO)


def _request(*extra):
    # Long enough for the list-wide checks, with the suspect fields in the
    # middle, where those checks see them joined to their neighbours.
    before = [(b"user-agent", b"t"), (b"x-a", b"1"), (b"x-b", b"2")]
    after = [(b"accept", b"*/*"), (b"x-c", b"3"), (b"cookie", b"a=b")]
    return REQUEST_START + before + [*extra] + after


@pytest.mark.parametrize(
    "fields",
    [
        _request((b"x-a", b"trail ")),  # RFC 9113 §8.2.1: no trailing whitespace
        _request((b"x-a", b"\tlead")),  # ... nor leading
        _request((b"x-a", b"tab\t")),  # ... of either kind
        _request((b"x-a", b" lead")),
        _request() + [(b"x-z", b"last ")],  # ... the very last value included
        [(b":method", b" GET")] + _request()[1:],  # ... the very first value included
        _request((b"x-a", b"a\nb")),  # no LF
        _request((b"x-a", b"a\rb")),  # no CR
        _request((b"x-a", b"a\x00b")),  # no NUL
        _request((b"X-A", b"1")),  # names are lowercase
        _request((b":path", b"/again")),  # RFC 9113 §8.3: pseudo-headers once each
        REQUEST_START[:2] + [(b":method", b"PUT")] + _request()[2:],  # ... also among the first ones
        _request((b"x-a", b"1"), (b":status", b"200")),  # not after regular fields
        _request((b":bogus", b"1")),  # unknown ones nowhere
        _request((b"connection", b"close")),  # RFC 9113 §8.2.2
        _request((b"te", b"gzip")),  # TE only "trailers"
        _request((b"content-length", b"1"), (b"content-length", b"2")),
        _request((b"content-length", b"x")),
        _request((b"host", b"a"), (b"host", b"b")),
        [(b":status", b"200")] + _request((b"x-d", b"4"), (b"x-e", b"5"))[4:],  # a response pseudo-header
    ],
)
def test_malformed_requests_are_refused_either_way(fields):
    assert len(fields) >= headers._SCAN_VALID_MIN  # the list-wide checks see it
    verdict = _both(fields, headers.REQUEST_PSEUDO)
    assert isinstance(verdict, str) and verdict.startswith("malformed")


def test_valid_request_gives_pseudo_headers_length_and_host():
    fields = _request((b"content-length", b"42"), (b"host", b"example.org"), (b"te", b"trailers"))
    pseudo, length, has_host = _both(fields, headers.REQUEST_PSEUDO)
    assert pseudo[b":method"] == b"GET" and pseudo[b":path"] == b"/"
    assert pseudo[b"host"] == b"example.org" and has_host
    assert length == 42


def test_long_valid_list_is_taken_by_the_list_wide_path():
    # Proves the fast path is live: with the name cache warm it answers alone.
    fields = _request(*[(b"x-h%d" % i, b"v%d" % i) for i in range(30)])
    _both(fields, headers.REQUEST_PSEUDO)
    assert headers._scan_valid(fields, headers.REQUEST_PSEUDO) is not None
