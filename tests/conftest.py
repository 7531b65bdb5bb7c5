from __future__ import annotations

import os

import pytest

import h2lite
from h2lite import _backend

# Under CI the accelerator is required (H2LITE_REQUIRE_EXTENSIONS=1), so a
# broken build fails the import above rather than quietly halving the run.
BACKENDS = _backend.AVAILABLE


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return (
        f"h2lite {h2lite.__version__}, backend: {h2lite.BACKEND}, "
        f"suite runs against: {', '.join(BACKENDS)}"
    )


@pytest.fixture(scope="session", autouse=True, params=BACKENDS)
def backend(request):  # type: ignore[no-untyped-def]
    """Run the whole suite once per available backend (ids ``python``, ``c``)."""
    previous = _backend.current()
    _backend.use(request.param)
    yield request.param
    _backend.use(previous)


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if os.environ.get("H2LITE_REQUIRE_EXTENSIONS") and "c" not in BACKENDS:
        raise pytest.UsageError("H2LITE_REQUIRE_EXTENSIONS is set but the C backend is missing")
