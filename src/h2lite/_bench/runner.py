"""Run W1-W4 for h2 and for each h2lite backend in one process, side by side.

Every workload is run once per target as a warm-up, then ``--repeat`` times
per target, alternating between targets (and alternating which goes first),
and the medians are reported with their ratios to ``h2``.  Only ratios
measured in the same run mean much; absolute figures drift between runs on a
shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import workloads
from .libs import Lib, LibraryUnavailable, WorkloadError
from .workloads import Workload

QUICK_SCALE = 0.1
MIN_REPEAT = 5


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One column of the table: a library (and backend) under test."""

    key: str
    label: str
    lib: Lib | None
    error: str | None = None  # why it cannot run at all


def available_backends() -> tuple[str, ...]:
    """The h2lite backends this process can use (``"python"``, then ``"c"`` if built)."""
    from .. import _backend

    return tuple(_backend.AVAILABLE)


def make_targets(backends: Sequence[str], with_h2: bool = True) -> list[Target]:
    """h2 (the baseline, first) and one h2lite column per backend."""
    targets: list[Target] = []
    if with_h2:
        try:
            targets.append(Target("h2", "h2", workloads.load_h2()))
        except LibraryUnavailable as exc:
            targets.append(Target("h2", "h2", None, str(exc)))
    for backend in backends:
        key = f"h2lite-{backend}"
        label = f"h2lite {backend}"
        try:
            targets.append(Target(key, label, workloads.load_h2lite(backend)))
        except LibraryUnavailable as exc:
            targets.append(Target(key, label, None, str(exc)))
    return targets


# --------------------------------------------------------------------------- running


@dataclass
class Cell:
    """Results of one workload on one target."""

    rates: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.rates) if self.rates and not self.error else None


def _run_once(wl: Workload, target: Target, context: Any, cell: Cell, reraise: bool) -> None:
    if target.lib is None or cell.error:
        return
    try:
        elapsed, units = wl.run(target.lib, context)
    except WorkloadError as exc:
        cell.error = f"wrong result: {exc}"
    except Exception as exc:
        if reraise:
            raise
        cell.error = f"{type(exc).__name__}: {exc}"
        sys.stderr.write(f"\n{wl.id} on {target.label} failed:\n{traceback.format_exc()}\n")
        return
    else:
        cell.rates.append(units / elapsed / wl.unit_scale)
        return
    if reraise:
        raise WorkloadError(cell.error)


def run_benchmarks(
    selected: Sequence[Workload],
    targets: Sequence[Target],
    repeat: int,
    scale: float,
    reraise: bool = False,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, dict[str, Cell]]:
    """Warm up, then ``repeat`` alternating rounds per workload; every rate kept."""
    from .. import _backend

    previous = _backend.current()
    results: dict[str, dict[str, Cell]] = {}
    try:
        for wl in selected:
            log(f"{wl.id}: preparing inputs")
            context = wl.setup(scale)
            cells = {t.key: Cell() for t in targets}
            results[wl.id] = cells
            for t in targets:  # warm-up, discarded
                _run_once(wl, t, context, Cell(), reraise)
            for i in range(repeat):
                order = targets if i % 2 == 0 else list(reversed(targets))
                for t in order:
                    _run_once(wl, t, context, cells[t.key], reraise)
                log(f"{wl.id}: repeat {i + 1}/{repeat}")
            del context
    finally:
        _backend.use(previous)
    return results


# --------------------------------------------------------------------------- output


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def format_table(
    selected: Sequence[Workload],
    targets: Sequence[Target],
    results: dict[str, dict[str, Cell]],
) -> str:
    """The medians, and each h2lite column's ratio to h2 when h2 was measured."""
    base = targets[0] if targets and targets[0].key == "h2" else None
    header = ["workload", "unit"]
    for t in targets:
        header.append(f"{t.label} median")
        if base is not None and t is not base:
            header.append(f"{t.label.split()[-1]}/h2")
    rows = [header]
    notes: list[str] = []
    for wl in selected:
        cells = results[wl.id]
        base_median = cells[base.key].median if base is not None else None
        row = [wl.id, wl.unit]
        for t in targets:
            cell = cells[t.key]
            with_ratio = base is not None and t is not base
            if t.lib is None:
                row += ["n/a"] + (["-"] if with_ratio else [])
                continue
            if cell.error:
                notes.append(f"{wl.id} {t.label}: {cell.error}")
                row += ["error"] + (["-"] if with_ratio else [])
                continue
            row.append(_fmt_rate(cell.median))
            if with_ratio:
                med = cell.median
                row.append(_fmt_ratio(med / base_median if med is not None and base_median else None))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for n, r in enumerate(rows):
        cols = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cols += [c.rjust(w) for c, w in zip(r[2:], widths[2:])]
        lines.append("  ".join(cols))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for t in targets:
        if t.lib is None:
            notes.append(f"{t.label} not run: {t.error}")
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it, or what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_machine() -> dict[str, Any]:
    """Interpreter, CPU and library versions, for the report's header and the JSON."""
    from .. import __version__

    info: dict[str, Any] = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "h2lite": __version__,
    }
    for package in ("h2", "hpack", "hyperframe"):
        try:
            module = __import__(package)
            info[package] = str(getattr(module, "__version__", "?"))
        except ImportError:
            info[package] = None
    return info


def results_as_dict(
    selected: Sequence[Workload],
    targets: Sequence[Target],
    results: dict[str, dict[str, Cell]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    return {
        "machine": describe_machine(),
        "scale": args.scale,
        "repeat": args.repeat,
        "clock": args.clock,
        "targets": {t.key: {"label": t.label, "error": t.error} for t in targets},
        "workloads": {
            wl.id: {
                "unit": wl.unit,
                **{
                    t.key: {
                        "median": results[wl.id][t.key].median,
                        "rates": results[wl.id][t.key].rates,
                        "error": results[wl.id][t.key].error,
                    }
                    for t in targets
                },
            }
            for wl in selected
        },
    }


# --------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None, prog: str = "python -m h2lite bench") -> argparse.Namespace:
    have = available_backends()
    p = argparse.ArgumentParser(
        prog=prog,
        description="Compare h2lite (pure Python and C backends) with the h2 package on workloads W1-W4.",
    )
    p.add_argument("--repeat", type=int, default=MIN_REPEAT,
                   help=f"measured runs per target and workload (at least {MIN_REPEAT})")
    p.add_argument("--only", default="", help="comma-separated workload ids, e.g. W1,W3")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke-test sizes ({QUICK_SCALE:g} of the full sizes)")
    p.add_argument("--scale", type=float, default=None, help="size factor (overrides --quick)")
    p.add_argument("--backends", default=",".join(have),
                   help=f"h2lite backends to measure (default: {','.join(have)})")
    p.add_argument("--h2-only", action="store_true", help="do not run h2lite")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time the regions by wall clock (default) or by this process's CPU time")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--raise", dest="reraise", action="store_true",
                   help="stop with a traceback at the first failing run")
    p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = p.parse_args(argv)
    if args.repeat < MIN_REPEAT and not args.quick:
        p.error(f"--repeat must be at least {MIN_REPEAT} (medians of fewer are not reported)")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.scale is None:
        args.scale = QUICK_SCALE if args.quick else 1.0
    if args.scale <= 0:
        p.error("--scale must be positive")
    wanted = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in workloads.WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(workloads.WORKLOADS)}")
    args.selected = wanted or list(workloads.WORKLOADS)
    backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in backends if b not in ("python", "c")]
    if bad or not backends:
        p.error(f"--backends takes python and/or c, not {args.backends!r}")
    args.backend_list = [] if args.h2_only else backends
    return args


def main(argv: Sequence[str] | None = None, prog: str = "python -m h2lite bench") -> int:
    """Run the benchmarks and print the table; returns the exit status."""
    args = parse_args(argv, prog)
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.verbose else (lambda s: None)

    targets = make_targets(args.backend_list)
    if targets[0].lib is None:
        print(f"{prog}: {targets[0].error}; install it (the 'test' extra has it) to get ratios",
              file=sys.stderr)
        return 2
    selected = [workloads.WORKLOADS[w] for w in args.selected]

    info = describe_machine()
    have = available_backends()
    print(f"{info['python']} on {info['machine']}, {info['cpu']}, {info['cpus']} CPUs; "
          f"h2 {info['h2']}, hpack {info['hpack']}; h2lite {info['h2lite']}")
    if "c" in have:
        print("h2lite backends: python (pure), c (accelerator)")
    else:
        print("h2lite backends: python only (the C accelerator is not built here, "
              "or H2LITE_NO_EXTENSIONS is set)")
    print(f"scale {args.scale:g}, warm-up 1, repeats {args.repeat}, medians, {args.clock} clock; "
          "absolute figures are this machine's, compare ratios")
    print()

    clock = workloads.perf_counter
    workloads.perf_counter = time.process_time if args.clock == "cpu" else time.perf_counter
    try:
        results = run_benchmarks(selected, targets, args.repeat, args.scale, args.reraise, log)
    finally:
        workloads.perf_counter = clock
    print(format_table(selected, targets, results))

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results_as_dict(selected, targets, results, args), fh, indent=2)

    failed = any(cell.error for cells in results.values() for cell in cells.values())
    return 1 if failed else 0
