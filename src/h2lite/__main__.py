"""``python -m h2lite``: see :mod:`h2lite.cli`."""

from __future__ import annotations

import sys

from h2lite.cli import main

if __name__ == "__main__":
    sys.exit(main())
