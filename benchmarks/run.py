"""Run the W1-W4 benchmarks: h2, h2lite pure Python and h2lite C, side by side.

    python benchmarks/run.py [--repeat N] [--only W1,W3] [--quick] [--json PATH]

A thin wrapper around ``h2lite._bench`` (also ``python -m h2lite bench``): it
puts this checkout's ``src/`` first on ``sys.path`` unless ``--installed`` is
given, so it measures the working tree.  See benchmarks/README.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)


def use_source_tree() -> None:
    """Measure the working tree's h2lite (src/) rather than an installed copy."""
    src = os.path.join(_ROOT, "src")
    if os.path.isdir(os.path.join(src, "h2lite")) and src not in sys.path:
        sys.path.insert(0, src)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--installed" in args:
        args.remove("--installed")
    elif "h2lite" not in sys.modules:
        use_source_tree()
    from h2lite._bench import main as bench_main

    return bench_main(args, prog="benchmarks/run.py")


if __name__ == "__main__":
    sys.exit(main())
