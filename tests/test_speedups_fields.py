"""The C field checks agree with h2lite.headers (RFC 9113 §8), input for input.

h2lite.headers is the specification.  Its check_request, check_response,
check_trailers, normalize_inbound and prepare_outbound run their Python code
under the python backend; under the c backend they hand the work to
h2lite._speedups.  Both must return the same values, or raise the same
exception class with the same message.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple
from hypothesis import given, settings
from hypothesis import strategies as st

from h2lite import _backend, headers

try:
    _speedups = importlib.import_module("h2lite._speedups")
except ImportError:  # pragma: no cover - depends on the build
    _speedups = None

pytestmark = pytest.mark.skipif(
    "c" not in _backend.AVAILABLE and not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
    reason="no C backend here: not built, or hidden by H2LITE_NO_EXTENSIONS",
)


@contextmanager
def backend_of(name: str) -> Iterator[None]:
    previous = _backend.current()
    _backend.use(name)
    try:
        yield
    finally:
        _backend.use(previous)


def outcome(call: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", call(*args))
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return ("raised", type(exc), str(exc))


def typed(value: Any) -> Any:
    """Header lists with each field's class and each item's type, which == ignores."""
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, tuple):
        return (type(value).__name__, *(typed(item) for item in value))
    return (type(value).__name__, value)


def plain_byte_pairs(fields: Any) -> bool:
    """The shape the C checks handle themselves: a list of 2-tuples of exact bytes."""
    return type(fields) in (list, tuple) and all(
        isinstance(f, tuple) and len(f) == 2 and type(f[0]) is bytes and type(f[1]) is bytes for f in fields
    )


def spec_and_accelerated(name: str, *args: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The pure result, and the result through headers under the c backend.

    Also checks the C function on its own: it answers for every plain list
    (NotImplemented only for other shapes) and then answers as the spec.
    """
    with backend_of("python"):
        expected = outcome(getattr(headers, name), *args)
    with backend_of("c"):
        through_headers = outcome(getattr(headers, name), *args)
    direct = outcome(getattr(_speedups, name), *args)
    if direct == ("ok", NotImplemented):
        assert not plain_byte_pairs(args[0])
    else:
        assert typed(direct) == typed(expected)
    return expected, through_headers


NAMES = st.sampled_from(
    [
        b":method", b":scheme", b":authority", b":path", b":protocol", b":status", b":unknown", b":", b"::x",
        b"host", b"te", b"content-length", b"connection", b"keep-alive", b"proxy-connection",
        b"transfer-encoding", b"upgrade", b"cookie", b"user-agent", b"x-a", b"", b"Upper", b"sp ace",
        b"a:b", b"x\x00", b"\xff", b"~!#$%&'*+-.^_`|",
    ]
) | st.binary(max_size=6)
VALUES = st.sampled_from(
    [
        b"", b"GET", b"CONNECT", b"OPTIONS", b"POST", b"http", b"https", b"ftp", b"/", b"*", b"/x", b"x",
        b"example.org", b"other.org", b"200", b"204", b"101", b"099", b"100", b"2x0", b"20", b"trailers",
        b"gzip", b"0", b"12", b"012", b"123456789012345678", b"1234567890123456789", b"-1", b" lead",
        b"trail\t", b"a\r\nb", b"in\x00side", b"websocket", b"a b",
    ]
) | st.binary(max_size=8)
#: Names whose values have rules of their own, with values at the edges of those rules.
SPECIAL = st.one_of(
    st.tuples(
        st.just(b"content-length"),
        st.sampled_from([b"0", b"12", b"012", b"123456789012345678", b"1234567890123456789", b"-1", b"1 ", b"", b"1e3"]),
    ),
    st.tuples(st.just(b"te"), st.sampled_from([b"trailers", b"gzip", b"Trailers", b""])),
    st.tuples(st.just(b"host"), st.sampled_from([b"example.org", b"other.org", b""])),
)
FIELD = st.builds(
    lambda pair, kind: kind(*pair) if kind is not tuple else pair,
    st.tuples(NAMES, VALUES) | SPECIAL,
    st.sampled_from([tuple, HeaderTuple, NeverIndexedHeaderTuple]),
)
REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.org"), (b":path", b"/")]


@st.composite
def header_lists(draw: Any, template: list[tuple[bytes, bytes]]) -> list[Any]:
    """A template's fields (some dropped or changed), regular fields, and strays anywhere."""
    fields: list[Any] = []
    for name, value in template:
        choice = draw(st.sampled_from(["keep", "keep", "keep", "drop", "change"]))
        if choice == "keep":
            fields.append((name, value))
        elif choice == "change":
            fields.append((name, draw(VALUES)))
    fields += draw(st.lists(FIELD, max_size=5))
    for _ in range(draw(st.integers(0, 2))):
        fields.insert(draw(st.integers(0, len(fields))), draw(FIELD))
    return fields


@settings(max_examples=200, deadline=None)
@given(fields=header_lists(REQUEST), connect_protocol=st.booleans(), as_tuple=st.booleans())
def test_check_request_matches_the_spec(fields, connect_protocol, as_tuple):
    if as_tuple:
        fields = tuple(fields)
    expected, got = spec_and_accelerated("check_request", fields, connect_protocol)
    assert typed(got) == typed(expected)


@settings(max_examples=150, deadline=None)
@given(fields=header_lists([(b":status", b"200")]))
def test_check_response_matches_the_spec(fields):
    expected, got = spec_and_accelerated("check_response", fields)
    assert typed(got) == typed(expected)


@settings(max_examples=100, deadline=None)
@given(fields=header_lists([(b"x-checksum", b"abc")]))
def test_check_trailers_matches_the_spec(fields):
    expected, got = spec_and_accelerated("check_trailers", fields)
    assert typed(got) == typed(expected)


@pytest.mark.parametrize(
    "fields, connect_protocol",
    [
        (REQUEST, False),
        ([(b":method", b"CONNECT"), (b":authority", b"example.org:443")], False),  # RFC 9113 §8.5
        ([(b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"https"),
          (b":path", b"/chat"), (b":authority", b"example.org")], True),  # RFC 8441 §4
        ([(b":method", b"OPTIONS"), (b":scheme", b"https"), (b":path", b"*"), (b":authority", b"a")], False),
        ([(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b"host", b"a"), (b"host", b"a")], False),
        (REQUEST + [(b"content-length", b"10"), (b"content-length", b"10")], False),
        (REQUEST + [(b"content-length", b"10"), (b"content-length", b"11")], False),
        (REQUEST + [(b"te", b"trailers"), (b"te", b"gzip")], False),
        (REQUEST + [(b"content-length", b"123456789012345678")], False),
        (REQUEST + [(b"content-length", b"1234567890123456789")], False),  # more than 18 digits
        (REQUEST + [(b":path", b"/again")], False),
        (REQUEST[:3], False),
        ([(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b"host", b"a"), (b":authority", b"b")], False),
        (REQUEST + [(b"x", b"\x00")], False),
        (REQUEST + [(b"X", b"1")], False),
    ],
)
def test_check_request_examples(fields, connect_protocol):
    expected, got = spec_and_accelerated("check_request", fields, connect_protocol)
    assert typed(got) == typed(expected)


@pytest.mark.parametrize(
    "fields",
    [
        [(b":status", b"200"), (b"content-length", b"0")],
        [(b":status", b"101")],  # RFC 9113 §8.6
        [(b":status", b"099")],
        [(b":status", b"20x")],
        [(b":status", b"2000")],
        [],
        [(b":status", b"200"), (b":status", b"200")],
        [(b"server", b"x"), (b":status", b"200")],
    ],
)
def test_check_response_examples(fields):
    expected, got = spec_and_accelerated("check_response", fields)
    assert typed(got) == typed(expected)


def test_other_shapes_are_left_to_the_spec():
    # str names (a header_encoding user calling the checks), 3-tuples, a generator:
    # the C functions decline and the Python code gives its own answer.
    for fields in ([("x", "y")], [(b":status", b"200", b"extra")], iter([(b":status", b"200")])):
        assert _speedups.check_response(fields) is NotImplemented
    assert _speedups.check_request([[b":method", b"GET"]], False) is NotImplemented
    assert _speedups.normalize_inbound([(b"cookie", "a"), (b"cookie", b"b")]) is NotImplemented


# -- normalize_inbound (RFC 9113 §8.2.3) ------------------------------------------

COOKIE_FIELD = st.builds(
    lambda name, value, kind: kind(name, value) if kind is not tuple else (name, value),
    st.sampled_from([b"cookie", b"cookie", b"x-a", b"Cookie"]),
    st.sampled_from([b"a=1", b"", b"b=2; c=3", b"z"]),
    st.sampled_from([tuple, HeaderTuple, NeverIndexedHeaderTuple]),
)


@settings(max_examples=100, deadline=None)
@given(fields=st.lists(COOKIE_FIELD, max_size=7))
def test_normalize_inbound_matches_the_spec(fields):
    with backend_of("python"):
        expected = headers.normalize_inbound(fields)
    got = _speedups.normalize_inbound(fields)
    assert typed(got) == typed(expected)
    # Fewer than two crumbs: the very same list comes back.
    assert (got is fields) == (expected is fields)


# -- prepare_outbound ------------------------------------------------------------

TEXT = st.sampled_from(["cookie", "Cookie", "X-Name", "x", ":path", "a=1; b=2", " padded\t", "é", "\udcff", ""])
RAW = st.sampled_from([b"cookie", b"COOKIE", b"x-y", b":method", b"GET", b"a=1; b=2", b";", b"; ", b" v ", b"", b"\t"])


def _as(kind: str, raw: bytes, text: str) -> Any:
    if kind == "str":
        return text
    if kind == "bytearray":
        return bytearray(raw)
    if kind == "memoryview":
        return memoryview(raw)
    if kind == "int":
        return 7
    return raw


PART = st.builds(_as, st.sampled_from(["bytes", "bytes", "str", "bytearray", "memoryview", "int"]), RAW, TEXT)
ITEM_SPEC = st.tuples(
    st.sampled_from(["tuple", "tuple", "header", "never", "list", "triple", "single", "none"]), PART, PART
)


def _item(shape: str, name: Any, value: Any) -> Any:
    if shape == "header":
        return HeaderTuple(name, value)
    if shape == "never":
        return NeverIndexedHeaderTuple(name, value)
    if shape == "list":
        return [name, value]
    if shape == "triple":
        return (name, value, name)
    if shape == "single":
        return (name,)
    if shape == "none":
        return None
    return (name, value)


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(ITEM_SPEC, max_size=6),
    container=st.sampled_from(["list", "tuple", "generator"]),
    normalize=st.booleans(),
    split_cookies=st.booleans(),
)
def test_prepare_outbound_matches_the_spec(specs, container, normalize, split_cookies):
    items = [_item(*spec) for spec in specs]

    def build() -> Any:
        if container == "tuple":
            return tuple(items)
        if container == "generator":
            return (item for item in items)
        return list(items)

    with backend_of("python"):
        expected = outcome(headers.prepare_outbound, build(), normalize, split_cookies)
    got = outcome(_speedups.prepare_outbound, build(), normalize, split_cookies)
    with backend_of("c"):
        through_headers = outcome(headers.prepare_outbound, build(), normalize, split_cookies)
    assert typed(got) == typed(expected)
    assert typed(through_headers) == typed(expected)


@pytest.mark.parametrize("bad", [b"raw", "text", 5, None])
def test_prepare_outbound_refuses_what_is_not_a_list_of_pairs(bad):
    with backend_of("python"):
        expected = outcome(headers.prepare_outbound, bad, True, True)
    assert expected[:2] == ("raised", TypeError)
    assert outcome(_speedups.prepare_outbound, bad, True, True) == expected


def test_prepare_outbound_keeps_never_indexed_crumbs_never_indexed():
    # RFC 7541 §7.1.3: each crumb of a never-indexed cookie stays never-indexed.
    out = _speedups.prepare_outbound([NeverIndexedHeaderTuple(b"cookie", b"a=1; b=2")], True, True)
    assert typed(out) == typed([NeverIndexedHeaderTuple(b"cookie", b"a=1"), NeverIndexedHeaderTuple(b"cookie", b"b=2")])
