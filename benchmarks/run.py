"""Run the W1-W4 benchmarks: h2 against h2lite, side by side.

    python benchmarks/run.py [--repeat N] [--only W1,W3] [--quick]

Every workload is run once per library as a warm-up, then ``--repeat`` times
per library, alternating between libraries (and alternating which goes first),
and the medians are reported.  Only ratios measured in the same run mean much;
absolute figures drift between runs on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)

if __package__ in (None, ""):
    # Run as a script: make `benchmarks` importable.
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)

from benchmarks import workloads  # noqa: E402
from benchmarks.workloads import Lib, LibraryUnavailable, Workload, WorkloadError  # noqa: E402

QUICK_SCALE = 0.1
MIN_REPEAT = 5


def use_source_tree() -> None:
    """Measure the working tree's h2lite (src/) rather than an installed copy."""
    src = os.path.join(_ROOT, "src")
    if os.path.isdir(os.path.join(src, "h2lite")) and src not in sys.path:
        sys.path.insert(0, src)


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One column of the table: a library (and backend) under test."""

    key: str
    label: str
    lib: Optional[Lib]
    error: Optional[str] = None  # why it cannot run at all


def h2lite_backend() -> str:
    """The live h2lite backend name, or "python" if h2lite does not say."""
    try:
        import h2lite
    except Exception:
        return "python"
    return str(getattr(h2lite, "BACKEND", "python"))


def make_targets() -> List[Target]:
    """h2 (the baseline, always first) and h2lite with whatever backend is live.

    A later column for a second h2lite backend is one more Target here.
    """
    targets = [Target("h2", "h2", workloads.load_h2())]
    try:
        lib = workloads.load_h2lite()
    except LibraryUnavailable as exc:
        targets.append(Target("h2lite", f"h2lite {h2lite_backend()}", None, str(exc)))
    else:
        targets.append(Target("h2lite", f"h2lite {lib.backend}", lib))
    return targets


# --------------------------------------------------------------------------- running


@dataclass
class Cell:
    """Results of one workload on one target."""

    rates: List[float] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def median(self) -> Optional[float]:
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
) -> Dict[str, Dict[str, Cell]]:
    results: Dict[str, Dict[str, Cell]] = {}
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
    return results


# --------------------------------------------------------------------------- output


def _fmt_rate(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _fmt_ratio(ratio: Optional[float]) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def format_table(
    selected: Sequence[Workload],
    targets: Sequence[Target],
    results: Dict[str, Dict[str, Cell]],
) -> str:
    base = targets[0]
    header = ["workload", "unit", f"{base.label} median"]
    for t in targets[1:]:
        header += [f"{t.label} median", f"ratio {t.label}/{base.label}"]
    rows = [header]
    notes: List[str] = []
    for wl in selected:
        cells = results[wl.id]
        base_median = cells[base.key].median
        row = [wl.id, wl.unit, _fmt_rate(base_median)]
        if cells[base.key].error:
            notes.append(f"{wl.id} {base.label}: {cells[base.key].error}")
        for t in targets[1:]:
            cell = cells[t.key]
            med = cell.median
            if t.lib is None:
                row += ["n/a", "n/a"]
                continue
            if cell.error:
                notes.append(f"{wl.id} {t.label}: {cell.error}")
                row += ["error", "-"]
                continue
            ratio = med / base_median if med is not None and base_median else None
            row += [_fmt_rate(med), _fmt_ratio(ratio)]
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


def results_as_dict(
    selected: Sequence[Workload],
    targets: Sequence[Target],
    results: Dict[str, Dict[str, Cell]],
    args: argparse.Namespace,
) -> Dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "scale": args.scale,
        "repeat": args.repeat,
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


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Compare h2lite with the h2 package on workloads W1-W4.",
    )
    p.add_argument("--repeat", type=int, default=MIN_REPEAT,
                   help=f"measured runs per library and workload (at least {MIN_REPEAT})")
    p.add_argument("--only", default="", help="comma-separated workload ids, e.g. W1,W3")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke-test sizes ({QUICK_SCALE:g} of the full sizes)")
    p.add_argument("--scale", type=float, default=None, help="size factor (overrides --quick)")
    p.add_argument("--h2-only", action="store_true", help="do not run h2lite")
    p.add_argument("--installed", action="store_true",
                   help="use the installed h2lite instead of the one in src/")
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
        p.error(f"unknown workload(s): {', '.join(unknown)}; "
                f"known: {', '.join(workloads.WORKLOADS)}")
    args.selected = wanted or list(workloads.WORKLOADS)
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not args.installed:
        use_source_tree()
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.verbose else (lambda s: None)

    targets = make_targets()
    if args.h2_only:
        targets = targets[:1]
    selected = [workloads.WORKLOADS[w] for w in args.selected]

    import h2

    live = [t for t in targets[1:] if t.lib is not None]
    backend = live[0].lib.backend if live else h2lite_backend()  # type: ignore[union-attr]
    print(f"python {sys.version.split()[0]} on {platform.machine()}; h2 {h2.__version__}; "
          f"h2lite.BACKEND = {backend!r}")
    print(f"scale {args.scale:g}, warm-up 1, repeats {args.repeat}, medians; "
          "figures are this machine's, compare ratios")
    print()

    results = run_benchmarks(selected, targets, args.repeat, args.scale, args.reraise, log)
    print(format_table(selected, targets, results))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results_as_dict(selected, targets, results, args), fh, indent=2)

    failed = any(cell.error for cells in results.values() for cell in cells.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
