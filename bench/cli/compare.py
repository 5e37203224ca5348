"""``compare BASE NEW``: the regression gate's verdict as markdown (for a pull-request
comment) or JSON. Exit 0 no regression, 1 regression, 2 bad input, 3 not comparable."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

EPILOG = """\
BASE and NEW are run folders (python -m bench run, or the regression suite's
--regression-out) or pytest-benchmark JSON files of the regression suite
(tests/benchmarks/). Counts are compared exactly per run (problem, config, start);
times by median ratio and a Mann-Whitney test on the stored repeats, and they gate
only with --strict-time. Environments differing in what the counts depend on (jax,
jaxlib, precision, backend, CPU instruction-set extensions) are not comparable
(exit 3) unless --allow-env-change; times gate only in an identical environment.

exit status: 0 no regression, 1 regression, 2 bad input, 3 not comparable.

examples:
  python -m bench compare results/baseline results/gate
  python -m bench compare base.json new.json --json
"""


def add_parser(sub: Any, formatter: type) -> None:
    cmp = sub.add_parser(
        "compare",
        help="compare two runs: the regression gate (exit 1 on a regression)",
        description="Compare NEW against BASE: oracle counts, solved runs and final "
        "gaps exactly, times statistically.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    cmp.add_argument("base", metavar="BASE", help="run folder or pytest-benchmark JSON")
    cmp.add_argument("new", metavar="NEW", help="run folder or pytest-benchmark JSON")
    cmp.add_argument("--json", action="store_true", help="print JSON, not markdown")
    cmp.add_argument(
        "--strict-time",
        action="store_true",
        help="a significantly slower timing is a regression too",
    )
    cmp.add_argument(
        "--allow-env-change",
        action="store_true",
        help="compare counts even when the environment they depend on differs",
    )
    cmp.add_argument(
        "--count-rtol",
        type=float,
        default=0.0,
        metavar="X",
        help="relative increase a count may take (default 0: exact)",
    )
    cmp.add_argument(
        "--gap-factor",
        type=float,
        default=10.0,
        metavar="X",
        help="the final gap is worse past max(X base, the solved "
        "threshold) (default 10)",
    )
    cmp.add_argument(
        "--time-factor",
        type=float,
        default=1.1,
        metavar="X",
        help="median time ratio that counts as a change (default 1.1)",
    )
    cmp.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        metavar="P",
        help="significance level of the rank test (default 0.05)",
    )
    cmp.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace, argv: list[str]) -> int:
    from bench import compare, compare_inputs

    tol = compare.Tolerances(
        args.count_rtol, args.gap_factor, args.time_factor, args.alpha
    )
    base, new = compare_inputs.load(args.base), compare_inputs.load(args.new)
    result = compare.compare(base, new, tol, args.allow_env_change, args.strict_time)
    if args.json:
        print(json.dumps(as_json(result, base.name, new.name), indent=2))
    else:
        print(markdown(result, base.name, new.name))
    return result.exit_code


def as_json(r, base: str, new: str) -> dict[str, Any]:
    def clean(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v

    return {
        "base": base,
        "new": new,
        "result": r.result,
        "exit_code": r.exit_code,
        "tally": r.tally(),
        "environment": {k: list(v) for k, v in r.environment.items()},
        "counts_comparable": r.counts_comparable,
        "times_comparable": r.times_comparable,
        "calibration_ratio": r.calibration,
        "cells": [
            {
                **vars(c),
                "changes": [{k: clean(v) for k, v in ch.items()} for ch in c.changes],
            }
            for c in r.cells
        ],
        "times": [{k: clean(v) for k, v in t.items()} for t in r.times],
    }


def markdown(r, base: str, new: str) -> str:
    """The changed cells and timings as markdown tables."""
    tally = ", ".join(f"{n} {v}" for v, n in r.tally().items() if n)
    out = [
        f"### optbench compare: `{base}` -> `{new}`",
        "",
        f"**{r.result}** ({tally or 'no cells'})",
        "",
    ]
    if r.environment:
        what = "counts" if r.counts_comparable else "neither counts nor times"
        out += [f"Environment differs ({what} compared, times not gated):", ""]
        out += [f"- {k}: `{b}` -> `{n}`" for k, (b, n) in r.environment.items()]
        out.append("")
    if r.calibration is not None:
        out += [
            f"Machine speed (calibration workload, new/base time): "
            f"{r.calibration:.2f}x",
            "",
        ]
    changed = [c for c in r.cells if c.verdict != "unchanged"]
    if changed:
        out += ["| cell | verdict | what changed (base -> new) |", "|---|---|---|"]
        out += [
            f"| {c.problem} x {c.config} | {c.verdict} | {_changes(c)} |"
            for c in changed
        ]
        out.append("")
    moved = [t for t in r.times if t["mark"] != "same"]
    gate = "gated" if r.strict_time and r.times_comparable else "not gated"
    out.append(
        f"Times: {len(r.times) - len(moved)} of {len(r.times)} unchanged "
        f"(factor {r.time_factor:g}, {gate}; ~ = past the factor, not "
        "significant)."
    )
    if moved:
        out += [
            "",
            "| timing | base | new | ratio | p | |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {t['timing']} | {_seconds(t['base_s'])} | {_seconds(t['new_s'])} "
            f"| {t['ratio']:.2f}x | {_fmt(t['p'])} | {t['mark']} |"
            for t in moved
        ]
    return "\n".join(out)


# what _summarise's base and new values of a metric are (a count: the cell's total)
_WHAT = {"solved": "solved runs", "diverged": "diverged runs", "final_gap": "largest"}


def _changes(c) -> str:
    parts = [
        f"{ch['metric']} {ch['direction']} in {ch['runs']}/{c.runs} runs"
        + (f" (better in {ch['opposite']})" if ch.get("opposite") else "")
        + f": {_WHAT.get(ch['metric'], 'total')} {_fmt(ch['base'])} -> "
        f"{_fmt(ch['new'])}"
        for ch in c.changes
    ]
    return "; ".join(parts + ([c.note] if c.note else [])) or "-"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and not (v.is_integer() and abs(v) < 1e15):
        return f"{v:.3g}"  # a diverged run's gap: 1.3e+308, not 309 digits
    return str(int(v)) if isinstance(v, float) else str(v)


def _seconds(s: float) -> str:
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"
