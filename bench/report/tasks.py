"""What each figure shows, computed from the tables: one ``FigureTask`` per figure.

A task holds only plain numbers (numpy arrays, lists, strings): the medians, steps and
paths that its figure draws, already reduced to at most MAX_GRID points per curve. It
is what a drawing worker receives, so it stays small and needs no DataFrame, and
everything here is matplotlib-free (the drawing is in ``bench.report.figures``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis import (
    GAP_FLOOR_REL,
    Profile,
    clip_log,
    lr_table,
    median_band,
)
from bench.report.document import fmt
from bench.status import Status

LR_DIVERGED = "x at top: diverged (on at least one start)"
LR_CRAWL = "open triangle at top: tolerance not reached in {} steps by any start"
# (x column, y column) of the four convergence panels
PANELS = (("step", "gap"), ("njev", "gap"), ("time_s", "gap"), ("step", "grad_norm"))


def gap_floor(f_star: float) -> float:
    """Where gaps <= 0 are drawn on a log axis: GAP_FLOOR_REL * max(1, |f*|)."""
    return GAP_FLOOR_REL * max(1.0, abs(f_star) if math.isfinite(f_star) else 1.0)


def failed_label(config: str, k: int, n: int) -> str:
    return f"{config} ({k}/{n} failed)" if k else config


# ------------------------------------------------------------------------ convergence


def convergence_data(
    problem: str, rp: pd.DataFrame, traced: Traced, styles: dict[str, int]
) -> dict[str, Any]:
    """Median and 25-75% band over non-diverged starts, per config and panel.

    ``traced`` is ``trace_runs`` of the problem's traces. ``curves[i][j]`` is (x,
    log10 q25, log10 median, log10 q75) of config i on panel j (PANELS), finite
    points only, or None where nothing is left to draw.
    """
    f_star = float(rp["f_star"].iloc[0]) if len(rp) else math.nan
    floor = gap_floor(f_star)
    cols, runs = traced
    r_config, r_start = rp["config"].to_numpy(), rp["start"].to_numpy()
    r_dead = (rp["status"] == Status.DIVERGED.label).to_numpy()
    configs = list(dict.fromkeys(r_config))
    labels, curves, banded = [], [], []
    for config in configs:
        mine = r_config == config
        dead = set(r_start[mine & r_dead])
        n = len(set(r_start[mine]))
        labels.append(failed_label(config, int((mine & r_dead).sum()), n))
        alive = [sl for s, sl in runs.get(config, []) if s not in dead]
        curves.append([_band(cols, alive, x, y) for x, y in PANELS])
        banded.append(len(alive) > 1)
    return {
        "problem": problem,
        "f_star_known": bool(rp["f_star_known"].iloc[0]) if len(rp) else True,
        "floor": floor,
        "labels": labels,
        "styles": [styles[c] for c in configs],
        "curves": curves,
        "banded": banded,
    }


# a problem's trace columns and each config's runs as (start, rows): see trace_runs
Traced = tuple[dict[str, np.ndarray], dict[str, list[tuple[Any, slice]]]]


def trace_runs(tp: pd.DataFrame, floor: float) -> Traced:
    """The trace columns as numpy arrays, sorted by (config, start, step), with log
    gap and log gradient norm; and each config's runs as (start, rows) slices.

    One pass over plain arrays: selecting each run's rows from the DataFrame was most
    of the time spent preparing a report.
    """
    config = tp["config"].to_numpy().astype(str)
    start = tp["start"].to_numpy()
    order = np.lexsort((tp["step"].to_numpy(float), start, config))
    config, start = config[order], start[order]
    cols = {c: tp[c].to_numpy(float)[order] for c in ("step", "njev", "nfev", "time_s")}
    cols["gap"] = clip_log(tp["gap"].to_numpy(float)[order], floor)
    grad = tp["grad_norm"].to_numpy(float)[order]
    cols["grad_norm"] = clip_log(grad, _grad_floor(grad, cols["step"]))
    new_run = (config[1:] != config[:-1]) | (start[1:] != start[:-1])
    bounds = [0, *(np.flatnonzero(new_run) + 1), len(config)]
    runs: dict[str, list[tuple[Any, slice]]] = {}
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b > a:
            runs.setdefault(str(config[a]), []).append((start[a], slice(a, b)))
    return cols, runs


def _grad_floor(grad: np.ndarray, step: np.ndarray) -> float:
    """Where gradient norms <= 0 are drawn: relative to the largest one at step 0."""
    g0 = grad[(step == 0) & np.isfinite(grad)]
    return GAP_FLOOR_REL * max(1.0, float(g0.max()) if g0.size else 1.0)


def _band(
    cols: dict[str, np.ndarray], runs: list[slice], xcol: str, ycol: str
) -> tuple[np.ndarray, ...] | None:
    if not runs:
        return None
    grid, lo, med, hi = median_band(
        [cols[xcol][r] for r in runs], [cols[ycol][r] for r in runs]
    )
    # time spans microseconds (compiled) to seconds (scipy): log x, from > 0
    ok = np.isfinite(med) & ((grid > 0) if xcol == "time_s" else True)
    if not ok.any():
        return None
    return grid[ok], lo[ok], med[ok], hi[ok]


# --------------------------------------------------------------------------- profiles


def profile_data(
    prof: Profile,
    kind: str,
    title: str,
    xlabel: str,
    styles: dict[str, int],
) -> dict[str, Any]:
    """Each config's profile as a step curve over the drawn x range.

    A performance profile (``kind`` "perf") starts at tau = 1 on a log2 axis; a data
    profile (or a runtime ECDF, "ecdf") at half the smallest budget, on a log10 axis.
    """
    vmax, vmin = prof.finite_max(), prof.finite_min()
    if kind == "perf":
        x_lo = 1.0
        x_hi = max(4.0, vmax * 1.5) if math.isfinite(vmax) else 4.0
    else:
        x_lo = vmin / 2.0 if math.isfinite(vmin) else 0.5
        x_hi = max(x_lo * 4.0, vmax * 1.5) if math.isfinite(vmax) else 2.0
    steps = []
    for config, (xs, ys) in prof.curves.items():
        x = np.concatenate([[x_lo], xs, [x_hi]])
        y = np.concatenate([[prof.at(config, x_lo)], ys, [ys[-1] if ys.size else 0.0]])
        steps.append((config, styles[config], x, y))
    return {
        "kind": kind,
        "title": f"{title} ({prof.n_instances} "
        + ("triples)" if kind == "ecdf" else "instances)"),
        "xlabel": xlabel,
        "steps": steps,
        "xlim": (x_lo, x_hi),
        "solved_any": math.isfinite(vmax),
    }


# ----------------------------------------------------------------------------- lr


def lr_data(
    problem: str, rp: pd.DataFrame, families: dict[str, pd.DataFrame], num_steps: float
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The lr sweep figure's points (one line per family) and the report's table."""
    f_star = float(rp["f_star"].iloc[0])
    floor = gap_floor(f_star)
    table = lr_table(families, floor)
    lines = []
    for family, g in table.groupby("family", sort=False):
        lines.append(
            {
                "family": str(family),
                "lr": g["lr"].to_numpy(float),
                "gap": g["median final gap"].to_numpy(float),
                "steps": g["median steps_to_tol"].to_numpy(float),
                "diverged": g["n_diverged"].to_numpy() > 0,
                # no start solved, and not because they all diverged: it crawled
                "crawled": (g["n_solved"].to_numpy() == 0)
                & (g["n_diverged"].to_numpy() < g["runs"].to_numpy()),
            }
        )
    data = {
        "problem": problem,
        "lines": lines,
        "floor": floor,
        "num_steps": num_steps,
        "marker_labels": (LR_DIVERGED, LR_CRAWL.format(fmt(num_steps))),
    }
    return data, table


# ---------------------------------------------------------------------------- contour


def contour_paths(
    tp: pd.DataFrame, rp: pd.DataFrame, styles: dict[str, int]
) -> list[dict[str, Any]]:
    """Each config's iterates from start 0 (finite ones), in full: thin them with
    ``analysis.thin_path`` once the plot's box is known."""
    dead = (rp.status == Status.DIVERGED.label) & (rp.start == 0)
    diverged = set(rp.loc[dead, "config"])
    s0 = tp[tp.start == 0]
    by_cfg = s0.groupby("config", sort=False).indices
    paths = []
    for config in dict.fromkeys(rp["config"]):
        if config not in by_cfg:
            continue
        xy = s0.iloc[by_cfg[config]][["x0", "x1"]].to_numpy(float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy):
            paths.append(
                {
                    "config": config,
                    "style": styles[config],
                    "xy": xy,
                    "steps": len(xy) - 1,
                    "diverged": config in diverged,
                }
            )
    return paths


def contour_box(
    paths: list[dict[str, Any]], x_star: np.ndarray | None, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The square-ish box the contour plot shows: the non-diverged paths, every start
    and x*, with a margin; None when none of those points is finite."""
    pts = [p["xy"] for p in paths if not p["diverged"]]
    pts += [p["xy"][:1] for p in paths]
    if x_star is not None:
        pts.append(x_star[None, :])
    if not pts:
        pts.append(np.asarray(x0, float)[None, :])
    allp = np.concatenate(pts)
    allp = allp[np.all(np.abs(allp) < 1e12, axis=1)]
    if not len(allp):
        return None
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(1.0, np.abs(hi)))
    span = np.maximum(span, 0.5 * span.max())  # a thin box hides the landscape
    mid = 0.5 * (lo + hi)
    return mid - 0.65 * span, mid + 0.65 * span
