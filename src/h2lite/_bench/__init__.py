"""In-memory benchmarks W1-W4: h2lite's backends against the ``h2`` package.

``python -m h2lite bench`` (or ``benchmarks/run.py`` in a checkout) calls
:func:`main`.  The workloads live in :mod:`.workloads`, the library adapters
in :mod:`.libs`, the runner and its table in :mod:`.runner`.  Needs the
``h2`` package (in the ``test`` extra) for the baseline.
"""

from __future__ import annotations

from .runner import main

__all__ = ["main"]
