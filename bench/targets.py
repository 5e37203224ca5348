"""The targets table (``targets.parquet``): for every run and every target of
TARGETS, the first step at which f - f* <= target * max(1, |f*|), and the gradient
and function evaluations spent until then (NaN where never reached). It is written
from the full traces, so the runtime ECDFs of the report (COCO's view: Hansen et al.
2021, "COCO: a platform for comparing continuous optimizers in a black-box
setting") stay exact however the stored traces are thinned."""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGETS = tuple(10.0**k for k in range(1, -9, -1))  # 1e1, 1, 1e-1, ..., 1e-8
KEYS = ["problem", "config", "precision", "start"]  # results.RUN_KEYS: a run
COUNTS = ["step", "njev", "nfev"]
COLUMNS = [*KEYS, "target", *COUNTS]


def targets(runs: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """One row per run and target (COLUMNS); ``traces`` in step order per run, with
    the ``gap`` column of ``results.derive``; ``runs`` gives each run's f*.

    A run counts a target from the first row that reaches it, whatever happens after
    (a run that diverged later still reached it).
    """
    if runs.empty or traces.empty:
        return pd.DataFrame(columns=COLUMNS)
    index = pd.MultiIndex.from_frame(runs[KEYS])
    run_of_row = index.get_indexer(pd.MultiIndex.from_frame(traces[KEYS]))
    scale = np.maximum(1.0, np.abs(runs["f_star"].to_numpy(float)))
    rel_gap = traces["gap"].to_numpy(float) / scale[run_of_row]
    counts = traces[COUNTS].to_numpy(float)
    n = len(runs)
    out = np.full((len(TARGETS), n, len(COUNTS)), np.nan)
    for i, target in enumerate(TARGETS):
        rows = np.flatnonzero((rel_gap <= target) & (run_of_row >= 0))
        # np.unique's first index of each run: its first row in step order
        hit_runs, first = np.unique(run_of_row[rows], return_index=True)
        out[i, hit_runs] = counts[rows[first]]
    table = runs[KEYS].iloc[np.tile(np.arange(n), len(TARGETS))].reset_index(drop=True)
    table["target"] = np.repeat(TARGETS, n)
    table[COUNTS] = out.reshape(-1, len(COUNTS))
    return table[COLUMNS]
