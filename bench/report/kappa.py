"""Kappa sweeps: steps to tolerance against the condition number on quadratics.

A sweep is every ``quadratic`` run whose other parameters (dim, spectrum, seed) agree,
over at least ``MIN_KAPPAS`` values of kappa. Per config: the median over solved
starts of steps_to_tol at each kappa, and the least-squares slope of log steps against
log kappa, beside the slope theory predicts for the textbook tuning (Nesterov 2004,
ch. 2; Polyak 1987, ch. 3): gd with lr = 2/(L+mu) needs O(kappa log 1/eps) steps,
heavy ball and Nesterov O(sqrt(kappa) log 1/eps), Newton one step.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis import median
from bench.status import Status

MIN_KAPPAS = 3
# slope of log steps against log kappa, for the textbook (`theory`) tuning
THEORY_SLOPE = {"gd": 1.0, "momentum": 0.5, "nesterov": 0.5}
SLOPE_COLUMNS = [
    "sweep",
    "config",
    "kappas",
    "solved",
    "fitted slope",
    "theory slope",
]


def theory_slope(optimizer: str, config: str) -> float:
    """The slope theory predicts: Newton 0; gd 1, heavy ball and Nesterov 1/2 when
    tuned from mu and L (``theory`` in the label); NaN otherwise (measured only)."""
    if optimizer == "newton":
        return 0.0
    if optimizer in THEORY_SLOPE and "theory" in config:
        return THEORY_SLOPE[optimizer]
    return math.nan


def sweeps(runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{sweep label: its runs with a ``kappa`` column}: quadratic runs grouped by
    their parameters other than kappa, where >= MIN_KAPPAS kappas ran."""
    quad = runs[runs["problem_name"] == "quadratic"]
    if quad.empty:
        return {}
    params = [json.loads(p or "{}") for p in quad["problem_params"]]
    kappa = [float(p.pop("kappa", math.nan)) for p in params]
    rest = [",".join(f"{k}={v}" for k, v in sorted(p.items())) for p in params]
    quad = quad.assign(kappa=kappa, _rest=rest)
    out = {}
    for rest_label, g in quad.groupby("_rest", sort=False):
        if g["kappa"].nunique() >= MIN_KAPPAS:
            out[f"quadratic[{rest_label}]"] = g.drop(columns="_rest")
    return out


def _fitted(kappa: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The points a slope is fitted over: finite and positive."""
    return np.isfinite(steps) & (steps > 0) & np.isfinite(kappa)


def fitted_slope(kappa: np.ndarray, steps: np.ndarray) -> float:
    """Least-squares slope of log steps against log kappa over finite, positive
    points (NaN with fewer than 2 distinct kappas)."""
    ok = _fitted(kappa, steps)
    if len(np.unique(kappa[ok])) < 2:
        return math.nan
    return float(np.polyfit(np.log(kappa[ok]), np.log(steps[ok]), 1)[0])


def sweep_table(g: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, kappa): median steps_to_tol over solved starts."""
    rows = []
    for (config, kappa), r in g.groupby(["config", "kappa"], sort=False):
        solved = r[r["solved"] & (r["status"] != Status.DIVERGED.label)]
        rows.append(
            {
                "config": config,
                "optimizer": r["optimizer"].iloc[0],
                "kappa": kappa,
                "median steps_to_tol": median(solved["steps_to_tol"]),
                "solved": len(solved),
                "runs": len(r),
            }
        )
    return pd.DataFrame(rows).sort_values(["config", "kappa"], kind="stable")


def _fitted_kappas(t: pd.DataFrame) -> str:
    """The kappas a config's slope is fitted over (those with a median), and the
    sweep's where some had none: "10..100 of 10..1000"."""
    ran = f"{t['kappa'].min():g}..{t['kappa'].max():g}"
    kappa = t["kappa"].to_numpy(float)
    k = kappa[_fitted(kappa, t["median steps_to_tol"].to_numpy(float))]
    if len(k) == len(t):
        return ran
    return f"{k.min():g}..{k.max():g} of {ran}" if len(k) else f"none of {ran}"


def slope_table(sweep: str, table: pd.DataFrame) -> pd.DataFrame:
    """One row per config of a sweep: fitted and theoretical slope."""
    rows = []
    for config, t in table.groupby("config", sort=False):
        rows.append(
            {
                "sweep": sweep,
                "config": config,
                "kappas": _fitted_kappas(t),
                "solved": f"{int(t['solved'].sum())}/{int(t['runs'].sum())}",
                "fitted slope": fitted_slope(
                    t["kappa"].to_numpy(float),
                    t["median steps_to_tol"].to_numpy(float),
                ),
                "theory slope": theory_slope(str(t["optimizer"].iloc[0]), config),
            }
        )
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)


def figure_data(
    sweep: str, table: pd.DataFrame, slopes: pd.DataFrame, styles: dict[str, int]
) -> dict[str, Any]:
    """Each config's (kappa, median steps) and its theory line: the predicted slope
    through the config's point at the smallest kappa it solved."""
    lines = []
    for config, t in table.groupby("config", sort=False):
        k, steps = t["kappa"].to_numpy(float), t["median steps_to_tol"].to_numpy(float)
        row = slopes[slopes["config"] == config].iloc[0]
        theory = None
        ok = np.isfinite(steps)
        if ok.any() and math.isfinite(row["theory slope"]):
            k0, s0 = k[ok][0], steps[ok][0]
            kk = np.array([k.min(), k.max()])
            theory = (kk, s0 * (kk / k0) ** row["theory slope"])
        lines.append(
            {
                "config": str(config),
                "style": styles[str(config)],
                "kappa": k,
                "steps": steps,
                "fitted": float(row["fitted slope"]),
                "theory": theory,
                "theory_slope": float(row["theory slope"]),
            }
        )
    return {"title": f"Steps to tolerance against kappa: {sweep}", "lines": lines}
