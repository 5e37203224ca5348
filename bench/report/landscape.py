"""The contour figure's data of a 2-D problem, from the f grid the run stored
(``landscapes.parquet``, written by bench/landscape.py when the tables were
consolidated). The report never rebuilds a problem: a run without stored contour
data gets a note instead of a plot. No optimizer is run, no jax is imported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis import thin_path
from bench.report.tasks import contour_paths

N_LEVELS = 24  # log-spaced contour levels


def contour_data(
    problem: str,
    tp: pd.DataFrame,
    rp: pd.DataFrame,
    styles: dict[str, int],
    grids: pd.DataFrame,
) -> tuple[dict[str, Any] | None, str | None]:
    """The contour figure's data, or (None, a note saying why there is no plot);
    ``grids``: the run's landscapes table."""
    stored = grids[grids["problem"] == problem] if len(grids) else grids
    if not len(stored):
        return None, f"{problem}: no contour plot (the run stored no contour data)"
    g = stored.iloc[0]
    n = int(g["grid"])
    z = np.asarray(g["f"], float)
    if z.size != n * n:
        return None, f"{problem}: no contour plot (its stored grid is not {n} x {n})"
    z = np.where(np.isfinite(z), z, np.nan).reshape(n, n)
    lo, hi = np.array([g["lo0"], g["lo1"]]), np.array([g["hi0"], g["hi1"]])
    x_star = np.array([g["x_star0"], g["x_star1"]], float)
    x_star = x_star if np.isfinite(x_star).all() else None
    paths = contour_paths(tp, rp, styles)
    f_ref = np.nanmin(z) if np.isfinite(z).any() else 0.0
    f_star = float(rp["f_star"].iloc[0])
    if math.isfinite(f_star):
        f_ref = min(f_ref, f_star)
    for p in paths:
        p["xy"] = thin_path(p["xy"])
    data = {
        "problem": problem,
        "lo": lo,
        "hi": hi,
        "z": z - f_ref,
        "levels": _levels(z - f_ref),
        "paths": paths,
        "x0": paths[0]["xy"][0] if paths else 0.5 * (lo + hi),
        "x_star": x_star,
    }
    return data, None


def _levels(zz: np.ndarray) -> np.ndarray | None:
    """N_LEVELS log-spaced levels of f - min f, None when f is flat or not finite."""
    pos = zz[np.isfinite(zz) & (zz > 0)]
    if not pos.size:
        return None
    zhi = float(pos.max())
    # from the 1st percentile: lower levels are thin slivers the grid cannot resolve
    zlo = max(float(np.percentile(pos, 1.0)), zhi * 1e-12)
    return np.geomspace(zlo, zhi, N_LEVELS) if zhi > zlo else None
