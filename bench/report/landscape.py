"""f on a grid for the contour plot of a 2-D problem: the report's only use of JAX.

The problem is rebuilt from its stored registry name and params through
``problems.get`` alone (never from code in the tables), and only for 2-D problems; a
problem that cannot be rebuilt (a user's own, or one since removed) gets a note
instead of a plot. No optimizer is run.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis import thin_path
from bench.report.tasks import contour_box, contour_paths

CONTOUR_GRID = 160  # points per axis of the contour grid
N_LEVELS = 24  # log-spaced contour levels


def contour_data(
    problem: str, tp: pd.DataFrame, rp: pd.DataFrame, styles: dict[str, int]
) -> tuple[dict[str, Any] | None, str | None]:
    """The contour figure's data, or (None, a note saying why there is no plot)."""
    prob, err = _rebuild(rp)
    if prob is None:
        return (
            None,
            f"{problem}: no contour plot (could not rebuild the problem: {err})",
        )
    if np.asarray(prob.x0).shape != (2,):
        return None, f"{problem}: no contour plot (the problem is not 2-D)"
    x_star = None if prob.x_star is None else np.asarray(prob.x_star, float)
    x0 = np.asarray(prob.x0, float)
    paths = contour_paths(tp, rp, styles)
    box = contour_box(paths, x_star, x0)
    if box is None:
        return None, f"{problem}: no contour plot (the paths are not finite)"
    lo, hi = box
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], CONTOUR_GRID), np.linspace(lo[1], hi[1], CONTOUR_GRID)
    )
    try:
        z = _evaluate(prob.f, np.stack([gx.ravel(), gy.ravel()], axis=1))
    except Exception as err:
        return (
            None,
            f"{problem}: no contour plot (evaluating f on a grid failed: {err})",
        )
    z = np.where(np.isfinite(z), z, np.nan).reshape(gx.shape)
    f_ref = np.nanmin(z) if np.isfinite(z).any() else 0.0
    f_star = float(rp["f_star"].iloc[0])
    if math.isfinite(f_star):
        f_ref = min(f_ref, f_star)
    for p in paths:  # thinned only now: the box is fitted to every iterate
        p["xy"] = thin_path(p["xy"])
    data = {
        "problem": problem,
        "lo": lo,
        "hi": hi,
        "z": z - f_ref,
        "levels": _levels(z - f_ref),
        "paths": paths,
        "x0": paths[0]["xy"][0] if paths else x0,
        "x_star": x_star,
    }
    return data, None


def _rebuild(rp: pd.DataFrame) -> tuple[Any, Exception | None]:
    name = str(rp["problem_name"].iloc[0])
    try:
        import problems

        params = json.loads(str(rp["problem_params"].iloc[0]) or "{}")
        return problems.get(name, **params), None
    except Exception as err:  # a peer's own problem, or a problem since removed
        return None, err


def _evaluate(f: Any, points: np.ndarray) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    return np.asarray(jax.jit(jax.vmap(f))(jnp.asarray(points)), float)


def _levels(zz: np.ndarray) -> np.ndarray | None:
    """N_LEVELS log-spaced levels of f - min f, None when f is flat or not finite."""
    pos = zz[np.isfinite(zz) & (zz > 0)]
    if not pos.size:
        return None
    zhi = float(pos.max())
    # from the 1st percentile: lower levels are thin slivers the grid cannot resolve
    zlo = max(float(np.percentile(pos, 1.0)), zhi * 1e-12)
    return np.geomspace(zlo, zhi, N_LEVELS) if zhi > zlo else None
