"""Cost per iteration against dimension: for a problem family run at >= MIN_SIZES
dimensions, the median over runs of run_s / n_steps per (config, dim), and the
log-log slope fitted where the arithmetic dominates the per-step overhead (n >=
FIT_FROM). The optimizers' own arithmetic is O(n) for first-order methods and L-BFGS,
O(n^2) for BFGS (its inverse-Hessian update) and O(n^3) for dense Newton (a solve per
step), on top of the oracles' (a dense quadratic's gradient is already O(n^2)): the
measured slope is the larger of the two."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis import median
from bench.report.kappa import fitted_slope

MIN_SIZES = 3
FIT_FROM = 100
COLUMNS = ["family", "config", "dims", "fitted slope (n >= 100)"]


def size_families(runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{problem family: its runs} for families run at >= MIN_SIZES dimensions."""
    out = {}
    for name, g in runs.groupby("problem_name", sort=False):
        if g["dim"].nunique() >= MIN_SIZES:
            out[str(name)] = g
    return out


def cost_table(g: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, dim): median seconds per iteration over its runs."""
    steps = g["n_steps"].to_numpy(float)
    per_step = g["run_s"].to_numpy(float) / np.where(steps > 0, steps, np.nan)
    g = g.assign(per_step=np.where(per_step > 0, per_step, np.nan))
    rows = [
        {
            "config": config,
            "optimizer": str(r["optimizer"].iloc[0]),
            "dim": int(dim),
            "s_per_step": median(r["per_step"]),
        }
        for (config, dim), r in g.groupby(["config", "dim"], sort=False)
    ]
    return pd.DataFrame(rows).sort_values(["config", "dim"], kind="stable")


def slope_table(family: str, table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for config, t in table.groupby("config", sort=False):
        big = t[t["dim"] >= FIT_FROM]
        rows.append(
            {
                "family": family,
                "config": config,
                "dims": ", ".join(str(d) for d in t["dim"]),
                "fitted slope (n >= 100)": fitted_slope(
                    big["dim"].to_numpy(float), big["s_per_step"].to_numpy(float)
                ),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def figure_data(
    family: str, table: pd.DataFrame, slopes: pd.DataFrame, styles: dict[str, int]
) -> dict[str, Any]:
    lines = []
    for config, t in table.groupby("config", sort=False):
        fitted = slopes.loc[slopes["config"] == config, COLUMNS[3]].iloc[0]
        lines.append(
            {
                "config": str(config),
                "style": styles[str(config)],
                "dim": t["dim"].to_numpy(float),
                "seconds": t["s_per_step"].to_numpy(float),
                "fitted": float(fitted),
            }
        )
    return {"title": f"Seconds per iteration against dimension: {family}",
            "lines": lines}  # fmt: skip
