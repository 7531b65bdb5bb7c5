"""Chooses the C accelerator or the pure-Python hot path.

``H2LITE_NO_EXTENSIONS=1`` forces pure Python; ``H2LITE_REQUIRE_EXTENSIONS=1``
makes a missing or broken accelerator an ImportError.
"""

from __future__ import annotations

import os

from . import _codec_py

split_frames = _codec_py.split_frames
BACKEND = "python"

if not os.environ.get("H2LITE_NO_EXTENSIONS"):
    try:
        from . import _speedups  # type: ignore[attr-defined]
    except ImportError:
        if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
            raise
    else:
        split_frames = _speedups.split_frames
        BACKEND = "c"
elif os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
    raise ImportError("H2LITE_NO_EXTENSIONS and H2LITE_REQUIRE_EXTENSIONS are both set")
