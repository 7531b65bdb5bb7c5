"""Chooses the C accelerator or the pure-Python hot path.

``H2LITE_NO_EXTENSIONS=1`` forces pure Python; ``H2LITE_REQUIRE_EXTENSIONS=1``
makes a missing or broken accelerator an ImportError.

The hot-path callables are module attributes looked up at call time (once per
``receive_data`` call, per connection, or per header block; never per frame
or per field), so :func:`use` can switch a running process between the two
implementations; the test suite uses that to run everything against both.

What the accelerator replaces, each mirrored from its pure-Python
specification:

* ``split_frames``: :func:`h2lite._codec_py.split_frames`.
* ``HpackDecoder`` / ``HpackEncoder``: :class:`h2lite._hpack.Decoder` /
  :class:`h2lite._hpack.Encoder`, instantiated per connection.
* ``check_request``, ``check_response``, ``check_trailers``,
  ``normalize_inbound``, ``prepare_outbound``: the functions of the same names
  in :mod:`h2lite.headers`.  Under the Python backend these are ``None`` and
  :mod:`h2lite.headers` runs its own code; the C versions return
  ``NotImplemented`` for input shapes they leave to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import _codec_py, _hpack

_speedups: ModuleType | None = None

if not os.environ.get("H2LITE_NO_EXTENSIONS"):
    try:
        from . import _speedups
    except ImportError:
        if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
            raise
    else:
        # The extension outlives a purge of sys.modules; take hpack's classes
        # (and h2lite.headers' exception) from the modules imported now.
        _speedups._rebind()
elif os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
    raise ImportError("H2LITE_NO_EXTENSIONS and H2LITE_REQUIRE_EXTENSIONS are both set")

#: The backends this process can use, the preferred one last.
AVAILABLE: tuple[str, ...] = ("python",) if _speedups is None else ("python", "c")

#: The names :func:`use` rebinds.
ACCELERATED = (
    "split_frames",
    "HpackDecoder",
    "HpackEncoder",
    "check_request",
    "check_response",
    "check_trailers",
    "normalize_inbound",
    "prepare_outbound",
)

split_frames: Callable[[Any, int], tuple[list[tuple[int, int, int, bytes]], int, int]]
HpackDecoder: Callable[..., Any]
HpackEncoder: Callable[[], Any]
check_request: Callable[[Any, bool], Any] | None
check_response: Callable[[Any], Any] | None
check_trailers: Callable[[Any], Any] | None
normalize_inbound: Callable[[Any], Any] | None
prepare_outbound: Callable[[Any, bool, bool], Any] | None
BACKEND = "python"


def _implementations(name: str) -> dict[str, Any]:
    if name == "c":
        assert _speedups is not None
        accelerated = {attribute: getattr(_speedups, attribute) for attribute in ACCELERATED[3:]}
        return {
            "split_frames": _speedups.split_frames,
            "HpackDecoder": _speedups.Decoder,
            "HpackEncoder": _speedups.Encoder,
            **accelerated,
        }
    return {
        "split_frames": _codec_py.split_frames,
        "HpackDecoder": _hpack.Decoder,
        "HpackEncoder": _hpack.Encoder,
        **{attribute: None for attribute in ACCELERATED[3:]},
    }


def use(name: str) -> None:
    """Make ``name`` (``"python"`` or ``"c"``) the live backend for new work.

    Connections keep the HPACK coder they were created with.

    Raises:
        ValueError: ``name`` is not one of :data:`AVAILABLE`.
    """
    global BACKEND
    if name not in AVAILABLE:
        raise ValueError(f"backend {name!r} is not available here (have {AVAILABLE})")
    globals().update(_implementations(name))
    BACKEND = name
    import h2lite  # the package re-exports BACKEND; keep it true

    h2lite.BACKEND = name


def current() -> str:
    """The live backend's name."""
    return BACKEND


globals().update(_implementations(AVAILABLE[-1]))
BACKEND = AVAILABLE[-1]
