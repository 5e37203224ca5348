"""Profiles and medians over starts: the numbers behind the report's figures.

Pure pandas and numpy (no matplotlib, no JAX), so the numbers can be computed and tested
without drawing anything.

References: Dolan & More (2002), "Benchmarking optimization software with performance
profiles", Math. Program. 91; More & Wild (2009), "Benchmarking derivative-free
optimization algorithms", SIAM J. Optim. 20.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.status import Status

GAP_FLOOR_REL = 1e-16  # gaps <= 0 are drawn at 1e-16 * max(1, |f*|)
# Larger (or inf) values are drawn at this ceiling: log tick locators extend a few
# strides past the data, and past ~1e300 they overflow to inf and crash the formatter.
VALUE_CEIL = 1e150
MAX_GRID = 400  # points per median curve or path; more only slows plotting


@dataclass(frozen=True, eq=False)  # DataFrame fields have no truth value
class Profile:
    """Step curves y_s(x) = fraction of instances whose value for config s is <= x.

    ``values`` is the instances x configs table behind them (ratios for a performance
    profile, budgets for a data profile), with inf where a config failed; ``curves``
    maps each config to its breakpoints (ascending finite values) and the fraction at
    each breakpoint.
    """

    values: pd.DataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    n_instances: int

    def at(self, config: str, x: float) -> float:
        """The profile of ``config`` at ``x``: fraction of instances with value <= x."""
        xs, ys = self.curves[config]
        i = int(np.searchsorted(xs, x, side="right")) - 1
        return float(ys[i]) if i >= 0 else 0.0

    def finite_max(self) -> float:
        """Largest finite value over all configs (nan when nothing was solved)."""
        v = self._finite()
        return float(v.max()) if v.size else math.nan

    def finite_min(self) -> float:
        """Smallest finite value over all configs (nan when nothing was solved)."""
        v = self._finite()
        return float(v.min()) if v.size else math.nan

    def _finite(self) -> np.ndarray:
        v = self.values.to_numpy(float)
        return v[np.isfinite(v)]


def instance_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Cost table: one row per problem instance (problem, start), one column per config.

    A cell is ``runs[metric]`` of that run, or inf when the run diverged, never reached
    the tolerance (NaN metric) or is missing (the config did not run on that instance).
    """
    if runs.empty:
        return pd.DataFrame(
            index=pd.MultiIndex.from_tuples([], names=["problem", "start"])
        )
    t = pd.to_numeric(runs[metric], errors="coerce").to_numpy(float)
    dead = runs["status"].astype(str).to_numpy() == Status.DIVERGED.label
    failed = ~np.isfinite(t) | dead
    t = np.where(failed | (t < 0), np.inf, t)
    df = runs[["problem", "start", "config"]].assign(_t=t)
    # groupby, not pivot_table(dropna=False), which would invent unobserved instances
    table = df.groupby(["problem", "start", "config"], sort=True)["_t"].min()
    table = table.unstack("config")
    table.columns = [str(c) for c in table.columns]
    return table.astype(float).fillna(np.inf)


def step_curves(values: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n = len(values)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for config in values.columns:
        v = np.sort(values[config].to_numpy(float))
        finite = v[np.isfinite(v)]
        xs = np.unique(finite)
        ys = np.searchsorted(finite, xs, side="right") / n if n else xs * 0.0
        curves[str(config)] = (xs, ys.astype(float))
    return curves


def performance_profile(runs: pd.DataFrame, metric: str = "njev_to_tol") -> Profile:
    """Dolan & More (2002) performance profile of the configs in ``runs`` on ``metric``.

    rho_s(tau) = |{p : r(p,s) <= tau}| / |P| with r(p,s) = t(p,s) / min_s t(p,s); t is
    inf for a failure (see ``instance_table``) and an instance no config solved has
    r = inf for all (it stays in |P|). Costs <= 0 (a start already within tolerance
    with a zero time) are raised to the smallest positive cost in the table so that
    ratios stay finite.
    """
    t = instance_table(runs, metric)
    if t.size:
        arr = t.to_numpy(float)
        pos = arr[np.isfinite(arr) & (arr > 0)]
        floor = float(pos.min()) if pos.size else 1.0
        t = t.clip(lower=floor)
    best = t.min(axis=1)
    with np.errstate(invalid="ignore"):
        ratios = t.div(best, axis=0)
    ratios = ratios.fillna(np.inf)  # inf / inf: an instance nobody solved
    return Profile(values=ratios, curves=step_curves(ratios), n_instances=len(ratios))


def data_profile(runs: pd.DataFrame, metric: str = "njev_to_tol") -> Profile:
    """More & Wild (2009) data profile: d_s(alpha) = |{p: t(p,s)/(n_p+1) <= alpha}|/|P|.

    n_p is the problem's dimension (``runs.dim``); t as in ``instance_table``.
    """
    t = instance_table(runs, metric)
    if t.size:
        dims = runs.groupby("problem")["dim"].first().astype(float)
        scale = dims.reindex(t.index.get_level_values("problem")).to_numpy() + 1.0
        t = t.div(scale, axis=0)
    return Profile(values=t, curves=step_curves(t), n_instances=len(t))


def common_configs(runs: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Configs that ran on every problem instance, and the others (in first-seen order).

    Profiles compare configs on one common set of instances (Dolan & More's P); a
    config run on a few problems only (an lr grid, say) would otherwise count as
    failing everywhere else.
    """
    order = list(dict.fromkeys(runs["config"].astype(str)))
    if not order:
        return [], []
    n_inst = runs[["problem", "start"]].drop_duplicates().shape[0]
    counts = (
        runs.drop_duplicates(["problem", "start", "config"]).groupby("config").size()
    )
    full = [c for c in order if counts.get(c, 0) == n_inst]
    return full, [c for c in order if c not in full]


# ------------------------------------------------------------------ medians over starts


def median(values: Iterable[float]) -> float:
    """Median of the finite values (nan when there are none)."""
    v = np.asarray(list(values), float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


def clip_log(values: np.ndarray, floor: float) -> np.ndarray:
    """log10 of values clipped to [floor, VALUE_CEIL]; nan stays nan, +inf -> ceil."""
    v = np.asarray(values, float)
    v = np.where(
        np.isnan(v),
        np.nan,
        np.clip(np.nan_to_num(v, posinf=VALUE_CEIL), floor, VALUE_CEIL),
    )
    return np.log10(v)


def median_band(
    xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], max_points: int = MAX_GRID
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Median and 25/75% quantiles over starts of step functions y_i(x), on one grid.

    Each start i is a sorted x_i with values y_i; at grid point x its value is y_i at
    the last x_i <= x (a frozen run keeps its final value to the right end; before its
    first x it is missing). Returns (grid, q25, median, q75), NaN where no start has a
    value; the grid has at most ``max_points`` points. Pass log values: quantiles
    commute with monotone maps.
    """
    xs = [np.asarray(x, float) for x in xs]
    finite = [x[np.isfinite(x)] for x in xs]
    allx = np.concatenate(finite) if finite else np.empty(0)
    if allx.size == 0:
        e = np.empty(0)
        return e, e, e, e
    grid = np.unique(allx)
    if grid.size > max_points:
        grid = np.unique(np.linspace(grid[0], grid[-1], max_points))
    mat = np.full((len(xs), grid.size), np.nan)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        keep = np.isfinite(x)
        x, y = x[keep], np.asarray(y, float)[keep]
        if x.size == 0:
            continue
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        idx = np.searchsorted(x, grid, side="right") - 1
        ok = idx >= 0
        mat[i, ok] = y[idx[ok]]
    q = _nan_quantiles(mat, (0.25, 0.5, 0.75))
    return grid, q[0], q[1], q[2]


def _nan_quantiles(mat: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Column quantiles ignoring NaN, linear interpolation (numpy's default method).

    np.nanpercentile falls back to one Python call per column when NaNs are present,
    which made it the slowest part of a report; this is the same rule, vectorised.
    """
    srt = np.sort(mat, axis=0)  # NaN sorts last
    n = np.sum(~np.isnan(mat), axis=0)
    cols = np.arange(mat.shape[1])
    out = np.full((len(qs), mat.shape[1]), np.nan)
    ok = n > 0
    for j, q in enumerate(qs):
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        val = srt[lo, cols] * (1.0 - frac) + srt[hi, cols] * frac
        val = np.where(frac == 0.0, srt[lo, cols], val)
        out[j, ok] = val[ok]
    return out


def thin_path(xy: np.ndarray, max_points: int = MAX_GRID) -> np.ndarray:
    """At most ``max_points`` rows of a path, evenly spaced in index, ends kept.

    A 30,000-step path drawn with a marker per iterate costs seconds and shows no more
    than a few hundred points can.
    """
    if len(xy) <= max_points:
        return xy
    idx = np.unique(np.linspace(0, len(xy) - 1, max_points).round().astype(int))
    return xy[idx]


# --------------------------------------------------------------------------- tables


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per config: solved and diverged counts, medians over solved runs."""
    rows = []
    for config, g in runs.groupby("config", sort=False):
        n = len(g)
        solved = g[g.solved & (g.status != Status.DIVERGED.label)]
        cells = g.drop_duplicates("problem")
        rows.append(
            {
                "config": config,
                "source": ",".join(sorted(set(g.source))),
                "problems": int(g.problem.nunique()),
                "runs": n,
                "solved": f"{len(solved)}/{n}",
                "solved fraction": len(solved) / n if n else math.nan,
                "failed (diverged)": f"{int((g.status == 'diverged').sum())}/{n}",
                "median steps_to_tol": median(solved.steps_to_tol),
                "median njev_to_tol": median(solved.njev_to_tol),
                # a measured time is > 0: anything else was not measured
                "median time_to_tol_s": median(
                    solved.time_to_tol_s.where(solved.time_to_tol_s > 0)
                ),
                "median compile_s": median(cells.compile_s),
            }
        )
    return pd.DataFrame(rows)


def rate_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, config): median measured rate and order, theory beside."""
    rows = []
    for (problem, config), g in runs.groupby(["problem", "config"], sort=False):
        alive = g[g.status != Status.DIVERGED.label]
        theory = g.rate_theory.dropna()
        rows.append(
            {
                "problem": problem,
                "config": config,
                "rate (median)": median(alive.rate),
                "rate_theory": float(theory.iloc[0]) if len(theory) else math.nan,
                "order (median)": median(alive.order),
                "starts used": f"{len(alive)}/{len(g)}",
            }
        )
    return pd.DataFrame(rows)


_LR_ITEM = r"(?<=[\[,])lr=[^,\]]*,?"  # lr=VALUE and its comma in name[k=v,...]


def lr_families(rp: pd.DataFrame, min_lrs: int = 3) -> dict[str, pd.DataFrame]:
    """The lr sweeps in one problem's runs: {family label: its runs}.

    A family is one optimizer with its other hyperparameters fixed (its label is the
    config label without lr); it counts as a sweep when it has >= ``min_lrs``
    different finite lr values.
    """
    lr = rp["lr"].to_numpy(float)
    rp = rp[np.isfinite(lr) & (lr > 0)]  # drawn on a log axis
    if rp.empty:
        return {}
    # the label grammar is problems.base.make_label's; taking lr out of the label
    # here keeps the problems package (and so jax) out of the report's process
    fam = rp["config"].astype(str).str.replace(_LR_ITEM, "", regex=True)
    fam = fam.str.replace(",]", "]").str.replace("[]", "")
    out = {}
    for name, idx in fam.groupby(fam, sort=False).groups.items():
        g = rp.loc[idx]
        if g["lr"].nunique() >= min_lrs:
            out[str(name)] = g
    return out


LR_TABLE_COLUMNS = [
    "family",
    "lr",
    "median final gap",
    "median steps_to_tol",
    "solved",
    "diverged",
]


def lr_table(families: dict[str, pd.DataFrame], floor: float) -> pd.DataFrame:
    """One row per (family, lr): medians and counts over starts.

    The columns of ``LR_TABLE_COLUMNS`` are the report's table; ``runs``, ``n_diverged``
    and ``n_solved`` are the counts the lr figure marks. Final gaps are clipped to
    ``floor`` first, as on the figure's log axis.
    """
    rows = []
    for family, fr in families.items():
        for lr, g in fr.groupby("lr", sort=True):
            n = len(g)
            dead = g.status == Status.DIVERGED.label
            alive = g[~dead]
            solved = alive[alive.solved]
            k = int(dead.sum())
            gaps = 10.0 ** clip_log(alive["final_gap"].to_numpy(float), floor)
            rows.append(
                {
                    "family": family,
                    "lr": float(lr),
                    "median final gap": median(gaps),
                    "median steps_to_tol": median(solved["steps_to_tol"]),
                    "solved": f"{len(solved)}/{n}",
                    "diverged": f"{k}/{n}",
                    "runs": n,
                    "n_diverged": k,
                    "n_solved": len(solved),
                }
            )
    return pd.DataFrame(
        rows, columns=[*LR_TABLE_COLUMNS, "runs", "n_diverged", "n_solved"]
    )
