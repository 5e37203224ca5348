"""Compare two runs (``python -m bench compare BASE NEW``): did an optimizer get worse?

Oracle counts are exact and deterministic for one environment (bench/fingerprint.py),
so they are compared exactly, run by run (problem, config, start), each metric in its
own direction: counts and the final gap lower is better, solved higher is better, and
a run that stops reaching the tolerance, diverges, fails or disappears is a
regression. Times are noisy, so they are compared as asv does: the median ratio, and
a Mann-Whitney rank test on the stored repeats; a change past the factor that is not
significant is marked "~". Inputs are read by bench/compare_inputs.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench import fingerprint
from bench.compare_inputs import KEYS, Side
from bench.results import solved_threshold
from bench.status import Status

# any count column present in both tables: n_steps, nfev, njev, nhev (nhvp, njac,
# ...) and the counts to tolerance (steps_to_tol, nfev_to_tol, ...)
_COUNT = re.compile(r"^(n_steps|n[a-z]+|[a-z]+_to_tol)$")
WORSE, BETTER = "worse", "better"
VERDICTS = (
    "worse",
    "missing",
    "failing",
    "not comparable",
    "better",
    "new",
    "unchanged",
)
REGRESSIONS = ("worse", "missing", "failing")
EXIT_OK, EXIT_REGRESSION, EXIT_NOT_COMPARABLE = 0, 1, 3
# the run's settings in runs.parquet: runs under other ones have other counts
SETTINGS = ("num_steps", "max_njev", "gtol", "tol")


@dataclass(frozen=True)
class Tolerances:
    """How much a metric may move before it counts as a change."""

    count_rtol: float = 0.0  # counts: exact by default
    gap_factor: float = 10.0  # final gap: worse past max(factor x base, threshold)
    time_factor: float = 1.1  # median time ratio that counts as a change (asv's)
    alpha: float = 0.05  # significance of the Mann-Whitney test on the repeats

    def __post_init__(self) -> None:
        least = {"count_rtol": 0, "gap_factor": 1, "time_factor": 1, "alpha": 0}
        for name, low in least.items():
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= low):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be a finite "
                    f"number >= {low}, got {value}"
                )
        if not 0 < self.alpha < 1:
            raise ValueError(f"--alpha must lie in (0, 1), got {self.alpha}")


@dataclass
class Cell:
    """One (problem, config): its verdict and what changed, metric by metric."""

    problem: str
    config: str
    verdict: str
    runs: int  # runs compared
    changes: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Comparison:
    cells: list[Cell]
    times: list[dict[str, Any]]
    environment: dict[str, tuple[Any, Any]]  # fingerprint keys that differ
    counts_comparable: bool  # the environment the counts depend on is the same
    times_comparable: bool
    calibration: float | None  # new / base median of the calibration workload
    strict_time: bool
    time_factor: float

    @property
    def time_regressions(self) -> list[dict[str, Any]]:
        if not (self.strict_time and self.times_comparable):
            return []
        return [t for t in self.times if t["mark"] == "slower"]

    @property
    def exit_code(self) -> int:
        if not self.counts_comparable:
            return EXIT_NOT_COMPARABLE
        if self.time_regressions or any(c.verdict in REGRESSIONS for c in self.cells):
            return EXIT_REGRESSION
        if any(c.verdict == "not comparable" for c in self.cells):
            return EXIT_NOT_COMPARABLE
        return EXIT_OK

    @property
    def result(self) -> str:
        return {
            EXIT_OK: "no regression",
            EXIT_REGRESSION: "regression",
            EXIT_NOT_COMPARABLE: "not comparable",
        }[self.exit_code]

    def tally(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.cells) for v in VERDICTS}


def compare(
    base: Side,
    new: Side,
    tol: Tolerances = Tolerances(),
    allow_env_change: bool = False,
    strict_time: bool = False,
) -> Comparison:
    """Every cell of either side with its verdict, the timing changes, and whether
    the environments allow comparing counts and times."""
    env = fingerprint.differences(base.fingerprint, new.fingerprint)
    counts_ok = allow_env_change or not any(k in env for k in fingerprint.COUNT_KEYS)
    counts = [c for c in base.runs.columns if _COUNT.match(c) and c in new.runs.columns]
    b = base.runs.set_index(KEYS)
    n = new.runs.set_index(KEYS)
    cells = []
    for cell_key in _ordered_cells(base.runs, new.runs, new.failed):
        cell = _compare_cell(cell_key, b, n, counts, tol, new.failed)
        if not counts_ok and cell.verdict not in ("new", "missing"):
            cell.note = f"would be {cell.verdict}"
            cell.verdict = "not comparable"
        cells.append(cell)
    times = _compare_times(base.times, new.times, tol)
    calibration = None
    if base.calibration is not None and new.calibration is not None:
        calibration = float(np.median(new.calibration) / np.median(base.calibration))
    return Comparison(
        cells, times, env, counts_ok, not env, calibration, strict_time, tol.time_factor
    )


def _ordered_cells(a: pd.DataFrame, b: pd.DataFrame, failed: dict) -> list[tuple]:
    pairs = pd.concat([a[["problem", "config"]], b[["problem", "config"]]])
    keys = [*map(tuple, pairs.itertuples(index=False)), *failed]
    return list(dict.fromkeys(keys))


def _rows(table: pd.DataFrame, cell_key: tuple[str, str]) -> pd.DataFrame:
    try:
        return table.xs(cell_key, level=["problem", "config"])
    except KeyError:
        return table.iloc[0:0].droplevel(["problem", "config"])


def _compare_cell(cell_key, b, n, counts, tol, failed) -> Cell:
    rb, rn = _rows(b, cell_key), _rows(n, cell_key)
    problem, config = cell_key
    if cell_key in failed:  # raised in NEW: a regression, whether or not in BASE
        return Cell(problem, config, "failing", 0, note=failed[cell_key])
    if len(rb) == 0:
        return Cell(problem, config, "new", 0, note=f"{len(rn)} runs")
    gone = rb.index.difference(rn.index)
    if len(rn) == 0 or len(gone):
        starts = ", ".join(str(s) for s in gone)
        return Cell(problem, config, "missing", 0, note=f"runs of start {starts}")
    both = rb.index.intersection(rn.index)
    if "inputs" in rb and "inputs" in rn:  # digests of the starts and data
        moved = [s for s in both if not _same(rb.at[s, "inputs"], rn.at[s, "inputs"])]
        if moved:  # a start or the data changed (e.g. numpy's random streams)
            return Cell(
                problem,
                config,
                "not comparable",
                len(both),
                note=f"inputs changed: the start or data differ for start "
                f"{', '.join(map(str, moved))}",
            )
    differ = [f"{c} {_value(rb[c].iloc[0])} -> {_value(rn[c].iloc[0])}"
              for c in SETTINGS if c in rb and c in rn
              and not all(_same(rb.at[s, c], rn.at[s, c]) for s in both)]  # fmt: skip
    if differ:  # another budget or tolerance: other counts, not a regression
        return Cell(problem, config, "not comparable", len(both),
                    note=f"settings differ: {', '.join(differ)}")  # fmt: skip
    per_run = {s: _compare_run(rb.loc[s], rn.loc[s], counts, tol) for s in both}
    changes = _summarise(per_run, rb.loc[both], rn.loc[both])
    directions = {c["direction"] for c in changes}
    verdict = WORSE if WORSE in directions else BETTER if directions else "unchanged"
    return Cell(problem, config, verdict, len(both), changes)


def _same(a: Any, b: Any) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def _value(v: Any) -> str:
    return "-" if pd.isna(v) else f"{v:g}"


def _finite(v: Any) -> bool:
    return v is not None and not pd.isna(v) and math.isfinite(float(v))


def _compare_run(b: pd.Series, n: pd.Series, counts: list[str], tol: Tolerances):
    """{metric: "worse" | "better"} for this run's metrics that changed."""
    out = {}
    diverged_b, diverged_n = (r["status"] == Status.DIVERGED.label for r in (b, n))
    if diverged_b != diverged_n:
        out["diverged"] = WORSE if diverged_n else BETTER
    if bool(b["solved"]) != bool(n["solved"]):
        out["solved"] = WORSE if b["solved"] else BETTER
    for c in counts:
        bv, nv = b[c], n[c]
        if _finite(bv) != _finite(nv):  # reaching the tolerance or no longer
            out[c] = WORSE if _finite(bv) else BETTER
        elif _finite(bv) and nv > bv * (1 + tol.count_rtol):
            out[c] = WORSE
        elif _finite(bv) and nv * (1 + tol.count_rtol) < bv:
            out[c] = BETTER
    threshold = solved_threshold(float(b["f_star"]), float(b["tol"]))
    gb, gn = _gap(b["final_gap"]), _gap(n["final_gap"])
    if gn > max(tol.gap_factor * gb, threshold):
        out["final_gap"] = WORSE
    elif gb > max(tol.gap_factor * gn, threshold):
        out["final_gap"] = BETTER
    return out


def _gap(v: Any) -> float:
    """A gap below f* is 0 (rounding); NaN (no finite value) is worst."""
    return max(float(v), 0.0) if _finite(v) else math.inf


def _summarise(per_run: dict, rb: pd.DataFrame, rn: pd.DataFrame) -> list[dict]:
    """Per metric that changed in some run: its direction in the cell (worse wins)
    and the cell's base and new value (sum of counts, solved runs, largest gap)."""
    out = []
    metrics = dict.fromkeys(m for d in per_run.values() for m in d)
    for m in metrics:
        dirs = [d[m] for d in per_run.values() if m in d]
        direction = WORSE if WORSE in dirs else BETTER
        if m == "solved":
            bv, nv = int(rb["solved"].sum()), int(rn["solved"].sum())
        elif m == "diverged":
            bv, nv = [int((r["status"] == Status.DIVERGED.label).sum())
                      for r in (rb, rn)]  # fmt: skip
        elif m == "final_gap":
            bv, nv = float(rb[m].max()), float(rn[m].max())
        else:  # a count: the sum over runs that have it (NaN: never reached tol)
            bv, nv = [_total(r[m]) for r in (rb, rn)]
        out.append(
            {
                "metric": m,
                "direction": direction,
                "base": bv,
                "new": nv,
                "runs": sum(d == direction for d in dirs),
                "opposite": sum(d != direction for d in dirs),  # worse wins the cell
            }
        )
    return out


def _total(col: pd.Series) -> float | None:
    vals = col.astype(float)
    return None if vals.isna().all() else float(vals.sum(skipna=True))


def _compare_times(base: dict, new: dict, tol: Tolerances) -> list[dict[str, Any]]:
    """Per timing present on both sides: medians, ratio, p-value and a mark
    (slower / faster / ~ (past the factor, not significant) / same)."""
    from scipy.stats import mannwhitneyu

    out = []
    for label in base.keys() & new.keys():
        b, n = np.asarray(base[label], float), np.asarray(new[label], float)
        if len(b) == 0 or len(n) == 0:
            continue
        ratio = float(np.median(n) / np.median(b))
        p = math.nan
        if len(b) > 1 and len(n) > 1:
            p = float(mannwhitneyu(b, n, alternative="two-sided").pvalue)
        past = ratio > tol.time_factor or ratio < 1 / tol.time_factor
        significant = _finite(p) and p < tol.alpha
        mark = (
            ("slower" if ratio > 1 else "faster")
            if past and significant
            else ("~" if past else "same")
        )
        out.append(
            {
                "timing": label,
                "base_s": float(np.median(b)),
                "new_s": float(np.median(n)),
                "ratio": ratio,
                "p": p,
                "mark": mark,
                "samples": [len(b), len(n)],
            }
        )
    return sorted(out, key=lambda t: t["timing"])
