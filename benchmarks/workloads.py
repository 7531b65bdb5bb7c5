"""The benchmark workloads, kept importable from a checkout as ``benchmarks.workloads``.

They live in the package (``h2lite._bench.workloads``) so that the installed
``python -m h2lite bench`` has them; this module re-exports them.
"""

from __future__ import annotations

from h2lite._bench.workloads import *
from h2lite._bench.workloads import __all__  # noqa: F401
