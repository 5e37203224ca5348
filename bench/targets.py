"""The targets table (``targets.parquet``): for every run and every target of
TARGETS, the first step at which f - f* <= target * max(1, |f*|), and the gradient
and function evaluations spent until then (NaN where never reached). The runtime
ECDFs of the report read it (COCO's view: Hansen et al. 2021, "COCO: a platform for
comparing continuous optimizers in a black-box setting").

Where a run's f* was known when its program ran (the problem's published f*), the
driver records each target's first step and counts in its loop (``Args.f_tol``,
``Trace.at_targets``): those rows are exact however ``--trace`` thins the stored
rows. Where f* is the best f found over the whole run (set when the run is
consolidated, ``results.with_best_f_star``), the targets exist only after the run,
so their rows are read from the stored traces: exact with full traces, only as exact
as the kept rows with ``--trace every:K`` or ``log:N``. Peers' rows are read from
their full per-iteration records, before those are thinned."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where used: the driver imports TARGETS
    import pandas as pd

TARGETS = tuple(10.0**k for k in range(1, -9, -1))  # 1e1, 1, 1e-1, ..., 1e-8
KEYS = ["problem", "config", "precision", "start"]  # results.RUN_KEYS: a run
COUNTS = ["step", "njev", "nfev"]
COLUMNS = [*KEYS, "target", *COUNTS]


def targets(runs: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """One row per run and target (COLUMNS), read from the trace rows; ``traces``
    in step order per run, with the ``gap`` column of ``results.derive``; ``runs``
    gives each run's f*."""
    import pandas as pd

    if runs.empty or traces.empty:
        return pd.DataFrame(columns=COLUMNS)
    return table(runs, _from_traces(runs, traces))


def _from_traces(runs: pd.DataFrame, traces: pd.DataFrame) -> np.ndarray:
    """``first_reached``'s array of ``runs``, read from their rows of ``traces``."""
    from bench.results import run_rows

    gap, counts = traces["gap"].to_numpy(float), traces[COUNTS].to_numpy(float)
    return first_reached(runs["f_star"].to_numpy(float), gap, counts,
                         run_rows(runs, traces))  # fmt: skip


def first_reached(f_star: np.ndarray, gap: np.ndarray, counts: np.ndarray,
                  run_of_row: np.ndarray) -> np.ndarray:  # fmt: skip
    """(len(TARGETS), runs, COUNTS): per target and run, the COUNTS of the first
    trace row with gap <= target * max(1, |f*|) (as ``results.derive`` compares the
    tolerance), NaN where none; the rows of a run in step order, ``run_of_row``
    their run (-1: none). A run counts a target from the first row that reaches it,
    whatever happens after (a run that diverged later still reached it)."""
    scale = np.maximum(1.0, np.abs(f_star))
    out = np.full((len(TARGETS), len(f_star), len(COUNTS)), np.nan)
    for i, target in enumerate(TARGETS):
        reached = gap <= target * scale[run_of_row]
        rows = np.flatnonzero(reached & (run_of_row >= 0))
        # np.unique's first index of each run: its first row in step order
        hit_runs, first = np.unique(run_of_row[rows], return_index=True)
        out[i, hit_runs] = counts[rows[first]]
    return out


def recorded(records: np.ndarray) -> np.ndarray:
    """``first_reached``'s array from the driver's records: ``records`` (runs,
    len(TARGETS), COUNTS) with -1 where never reached."""
    return np.where(records < 0, np.nan, records).astype(float).transpose(1, 0, 2)


def table(runs: pd.DataFrame, out: np.ndarray) -> pd.DataFrame:
    """COLUMNS from the KEYS of ``runs`` and ``out`` (len(TARGETS), runs, COUNTS):
    target-major rows."""
    import pandas as pd

    columns = {k: np.tile(runs[k].to_numpy(), len(TARGETS)) for k in KEYS}
    columns["target"] = np.repeat(TARGETS, len(runs))
    columns.update(zip(COUNTS, out.reshape(-1, len(COUNTS)).T, strict=True))
    return pd.DataFrame(columns, columns=COLUMNS)


def combine(runs: pd.DataFrame, traces: pd.DataFrame,
            stored: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """The whole run's table: the ``stored`` rows (recorded when the run ran) of
    every run whose f* was known then and that has a row for each target; read from
    ``traces`` for the others (f* best-found over the run, or runs stored without
    such rows). Only those others' trace rows are matched to their runs (matching
    every trace row on its label columns took 52 ms of the small benchmark's report,
    9 ms now)."""
    import pandas as pd

    known = runs["f_star_known"].astype(bool) if "f_star_known" in runs else None
    if known is None or stored.empty or runs.empty:
        return targets(runs, traces)
    index = pd.MultiIndex.from_frame(runs[KEYS])
    run = index.get_indexer(pd.MultiIndex.from_frame(stored[KEYS]))
    target = {t: i for i, t in enumerate(TARGETS)}
    at = np.array([target.get(t, -1) for t in stored["target"].to_numpy(float)])
    use = (run >= 0) & (at >= 0)
    use[use] = known.to_numpy()[run[use]]
    out = np.full((len(TARGETS), len(runs), len(COUNTS)), np.nan)
    out[at[use], run[use]] = stored[COUNTS].to_numpy(float)[use]
    covered = np.bincount(run[use], minlength=len(runs)) == len(TARGETS)
    if not covered.all() and not traces.empty:
        rest = np.flatnonzero(~covered)
        out[:, rest] = _from_traces(runs.iloc[rest], traces)
    return table(runs, out)
