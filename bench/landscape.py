"""The contour data of 2-D problems, computed when a run's tables are consolidated:
f on a GRID x GRID grid over the box around the run's paths, stored in
``landscapes.parquet`` (docs/schema.md). The report draws contours from it and never
rebuilds a problem, so contours work for a notebook's or a plugin's problems too,
and a table edited to name another problem cannot make the report build it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

GRID = 160  # points per axis


def landscapes(problems: dict[str, Any], runs: pd.DataFrame,
               traces: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """One row per 2-D problem of ``problems`` (label -> Problem) with rows in the
    tables: the box (lo, hi), x* (NaN if unknown) and f on the grid, row-major."""
    from bench.report.tasks import contour_box, contour_paths

    rows = []
    for label, p in problems.items():
        if p.dim != 2 or label not in set(runs["problem"]):
            continue
        rp, tp = runs[runs.problem == label], traces[traces.problem == label]
        styles = dict.fromkeys(rp["config"], 0)
        x_star = None if p.x_star is None else np.asarray(p.x_star, float)
        box = contour_box(contour_paths(tp, rp, styles), x_star, np.asarray(p.x0))
        if box is None:
            continue
        (lo, hi), xs = box, (np.full(2, np.nan) if x_star is None else x_star)
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], GRID),
                             np.linspace(lo[1], hi[1], GRID))  # fmt: skip
        z = _evaluate(p.f, np.stack([gx.ravel(), gy.ravel()], axis=1))
        rows.append({"problem": label, "lo0": lo[0], "lo1": lo[1], "hi0": hi[0],
                     "hi1": hi[1], "x_star0": xs[0], "x_star1": xs[1],
                     "grid": GRID, "f": z})  # fmt: skip
    return pd.DataFrame(rows)


def _evaluate(f: Any, points: np.ndarray) -> np.ndarray:
    """f at each point, non-finite values as NaN (a failure: every point NaN)."""
    import jax

    try:  # NumPy in: jnp.asarray would compile a conversion of its own
        z = np.asarray(jax.jit(jax.vmap(f))(points), float)
    except Exception:  # noqa: BLE001  (a user's f: the plot says why it is empty)
        return np.full(len(points), np.nan)
    return np.where(np.isfinite(z), z, np.nan)
