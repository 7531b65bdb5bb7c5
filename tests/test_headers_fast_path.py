"""The cache of classified fields changes no verdict (RFC 9113 §8.2, §8.3).

``headers._scan_fields`` skips the checks made on one field alone for a field
it has classified before.  Whatever the cache holds, every list must get the
verdict (result or exact error) the uncached checks give, and
``prepare_outbound`` must return what it returns without the cache.
"""

from __future__ import annotations

import contextlib

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
# Mostly well-formed names, so that most fields get into the cache.
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


@contextlib.contextmanager
def _no_cache():
    """Run the checks with the cache empty and nothing added to it."""
    saved = dict(headers._FIELD_KINDS)
    size = headers._FIELD_KINDS_MAX_SIZE
    headers._FIELD_KINDS.clear()
    headers._FIELD_KINDS_MAX_SIZE = -1
    try:
        yield
    finally:
        headers._FIELD_KINDS_MAX_SIZE = size
        headers._FIELD_KINDS.clear()
        headers._FIELD_KINDS.update(saved)


def _verdict(fields, allowed):
    try:
        return headers._scan_fields(fields, allowed)
    except headers.MalformedHeaders as exc:
        return f"malformed: {exc}"


def _both(fields, allowed):
    with _no_cache():
        uncached = _verdict(fields, allowed)
    # Teach the cache every field that passes on its own (the scan stops at
    # the first error, before it has seen them all), then ask again.
    for field in fields:
        with contextlib.suppress(headers.MalformedHeaders):
            headers._classify(*field)
    assert _verdict(fields, allowed) == uncached
    assert _verdict(list(fields), allowed) == uncached
    return uncached


@settings(max_examples=200, deadline=None)
@given(FIELDS, st.sampled_from([headers.REQUEST_PSEUDO, headers.RESPONSE_PSEUDO, frozenset()]))
def test_random_lists_get_the_same_verdict(fields, allowed):
    _both(fields, allowed)


@settings(max_examples=200, deadline=None)
@given(FIELDS)
def test_requests_with_a_valid_start_get_the_same_verdict(fields):
    _both(REQUEST_START + fields, headers.REQUEST_PSEUDO)


def _request(*extra):
    # The suspect fields in the middle, between fields the cache knows.
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
    verdict = _both(fields, headers.REQUEST_PSEUDO)
    assert isinstance(verdict, str) and verdict.startswith("malformed")


def test_valid_request_gives_pseudo_headers_length_and_host():
    fields = _request((b"content-length", b"42"), (b"host", b"example.org"), (b"te", b"trailers"))
    pseudo, length, has_host = _both(fields, headers.REQUEST_PSEUDO)
    assert pseudo[b":method"] == b"GET" and pseudo[b":path"] == b"/"
    assert pseudo[b"host"] == b"example.org" and has_host
    assert length == 42


def test_a_known_field_skips_the_checks_on_its_own():
    # Proves the cache is live: a second look at the same list classifies nothing.
    fields = _request(*[(b"x-h%d" % i, b"v%d" % i) for i in range(30)])
    _both(fields, headers.REQUEST_PSEUDO)
    headers._FIELD_KINDS.pop((b"x-new-field", b"1"), None)
    calls = []
    original = headers._classify
    headers._classify = lambda name, value: calls.append(name) or original(name, value)
    try:
        headers._scan_fields(fields, headers.REQUEST_PSEUDO)
        headers._scan_fields(fields + [(b"x-new-field", b"1")], headers.REQUEST_PSEUDO)
    finally:
        headers._classify = original
    assert calls == [b"x-new-field"]


@pytest.mark.parametrize(
    "field",
    [(b"x-a", b"trail "), (b"X-A", b"1"), (b"connection", b"close"), (b"te", b"gzip"),
     (b"content-length", b"x"), (b"x-a", b"a\nb"), (b"x-a", b"nul\x00")],
)
def test_a_field_that_fails_is_never_cached(field):
    with pytest.raises(headers.MalformedHeaders):
        headers._scan_fields([field], headers.REQUEST_PSEUDO)
    assert field not in headers._FIELD_KINDS


def test_the_cache_is_bounded():
    with _no_cache():
        headers._FIELD_KINDS_MAX_SIZE = 256
        for i in range(headers._FIELD_KINDS_LIMIT * 2 + 10):
            headers._scan_fields([(b"x-f", b"%d" % i)], frozenset())
            assert len(headers._FIELD_KINDS) <= headers._FIELD_KINDS_LIMIT
        # A field larger than the size bound is checked every time, never kept.
        big = (b"x-big", b"v" * 300)
        headers._scan_fields([big], frozenset())
        assert big not in headers._FIELD_KINDS
        # When full it starts over, so fields seen later are cached again.
        assert (b"x-f", b"%d" % (headers._FIELD_KINDS_LIMIT * 2 + 9)) in headers._FIELD_KINDS


def test_a_field_name_or_value_that_is_not_bytes_is_not_cached():
    # prepare_outbound passes a cached field through as it is: only exact bytes may be cached.
    class Name(bytes):
        pass

    headers._scan_fields([(Name(b"x-sub"), b"1")], frozenset())
    assert (b"x-sub", b"1") not in headers._FIELD_KINDS


OUTBOUND = st.lists(
    st.tuples(
        st.sampled_from([b"x-a", b"X-A", b"cookie", b"content-type", b":status", b" x-b", "x-a", "content-type"]),
        st.sampled_from([b"1", b" 1 ", b"a=b; c=d", b"text/plain", b"200", "1", "text/plain"]),
        st.sampled_from(["tuple", "list", "header", "never", "bytearray", "memoryview"]),
    ),
    max_size=8,
)


def _item(name, value, form):
    if form == "list":
        return [name, value]
    if form == "header":
        return HeaderTuple(name, value)
    if form == "never":
        return NeverIndexedHeaderTuple(name, value)
    if form in ("bytearray", "memoryview") and isinstance(value, bytes):
        return (name, bytearray(value) if form == "bytearray" else memoryview(value))
    return (name, value)


def _shape(fields):
    return [(type(f).__name__, type(f[0]).__name__, type(f[1]).__name__, bytes(f[0]), bytes(f[1])) for f in fields]


@settings(max_examples=200, deadline=None)
@given(OUTBOUND, st.booleans(), st.booleans())
def test_prepare_outbound_gives_the_same_fields_with_the_cache(spec, normalize, split):
    fields = [_item(*triple) for triple in spec]
    with _no_cache():
        uncached = _shape(headers.prepare_outbound(fields, normalize, split))
    for field in headers.prepare_outbound(fields, True, False):
        with contextlib.suppress(headers.MalformedHeaders):
            headers._classify(*field)
    assert _shape(headers.prepare_outbound(fields, normalize, split)) == uncached
