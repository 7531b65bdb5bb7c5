"""Chooses the C accelerator or the pure-Python hot path.

``H2LITE_NO_EXTENSIONS=1`` forces pure Python; ``H2LITE_REQUIRE_EXTENSIONS=1``
makes a missing or broken accelerator an ImportError.

The hot-path callables are module attributes looked up at call time (once per
``receive_data`` call or per connection, never per frame), so :func:`use` can
switch a running process between the two implementations; the test suite uses
that to run everything against both.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Optional

from . import _codec_py

_speedups: Optional[ModuleType] = None

if not os.environ.get("H2LITE_NO_EXTENSIONS"):
    try:
        from . import _speedups  # type: ignore[attr-defined,no-redef]
    except ImportError:
        if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
            raise
elif os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
    raise ImportError("H2LITE_NO_EXTENSIONS and H2LITE_REQUIRE_EXTENSIONS are both set")

#: The backends this process can use, the preferred one last.
AVAILABLE: tuple[str, ...] = ("python",) if _speedups is None else ("python", "c")

split_frames = _codec_py.split_frames
BACKEND = "python"


def use(name: str) -> None:
    """Make ``name`` (``"python"`` or ``"c"``) the live backend for new work.

    Raises:
        ValueError: ``name`` is not one of :data:`AVAILABLE`.
    """
    global split_frames, BACKEND
    if name not in AVAILABLE:
        raise ValueError(f"backend {name!r} is not available here (have {AVAILABLE})")
    if name == "c":
        assert _speedups is not None
        split_frames = _speedups.split_frames
    else:
        split_frames = _codec_py.split_frames
    BACKEND = name
    import h2lite  # the package re-exports BACKEND; keep it true

    h2lite.BACKEND = name


def current() -> str:
    """The live backend's name."""
    return BACKEND


if _speedups is not None:
    split_frames = _speedups.split_frames
    BACKEND = "c"
