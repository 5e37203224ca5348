"""The precision floor of a run of float32 and float64 (``--precision
float32,float64``): per optimizer config, the smallest gap each precision attains,
and how much float32 loses.

Per run, the floor is the smallest relative gap (f - f*) / max(1, |f*|) over its
stored trace rows, clipped below at CLIP (a gap at float64's resolution or below,
zero or negative, counts as CLIP, so that ratios stay finite); per (problem, config,
precision) the median over starts, then per (config, precision) the median over the
problems with a published f* that the config ran in both precisions. A best-found
f* is left out: it is each precision's own best, so its gaps are not comparable."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLIP = 1e-16
F32, F64 = "float32", "float64"
COLUMNS = ["config", f"floor {F32}", f"floor {F64}", "ratio", "problems"]
_RUN = ["problem", "config_spec", "precision", "start"]


def has_both(runs: pd.DataFrame) -> bool:
    """Whether the run holds float32 and float64 runs on problems with a known f*."""
    if "precision" not in runs:
        return False
    known = runs.loc[runs["f_star_known"].astype(bool), "precision"]
    return {F32, F64} <= set(known)


def run_floors(runs: pd.DataFrame, traces: pd.DataFrame) -> pd.Series:
    """Per run (problem, config_spec, precision, start) of a problem with a published
    f*: the smallest relative gap over its trace rows, clipped at CLIP."""
    known = runs[runs["f_star_known"].astype(bool)]
    scale = np.maximum(1.0, known.set_index(_RUN)["f_star"].abs())
    rows = traces.merge(known[_RUN], on=_RUN)  # the known-f* runs' rows
    smallest = rows.groupby(_RUN)["gap"].min()
    return (smallest / scale.reindex(smallest.index)).clip(lower=CLIP)


def floor_table(runs: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """One row per config (COLUMNS): its float32 and float64 floors, their ratio
    and the problems they are the median over; the largest ratio first."""
    per_problem = run_floors(runs, traces).groupby(_RUN[:3]).median().unstack()
    per_problem = per_problem.reindex(columns=[F32, F64]).dropna()  # both ran
    rows = []
    for config, g in per_problem.groupby(level="config_spec", sort=False):
        f32, f64 = g[F32].median(), g[F64].median()
        rows.append([config, f32, f64, f32 / f64, len(g)])
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["ratio", "config"], ascending=[False, True],
                             ignore_index=True)  # fmt: skip


def figure_data(table: pd.DataFrame) -> dict:
    """The figure's data: configs top to bottom in the table's order."""
    return {
        "title": "Precision floor: smallest gap reached, float32 against float64",
        "configs": [str(c) for c in table["config"]],
        "float32": table[COLUMNS[1]].to_numpy(float),
        "float64": table[COLUMNS[2]].to_numpy(float),
    }
