"""One cell's rows of runs.parquet, traces.parquet and targets.parquet (docs/schema.md),
from its starts' arrays: the runner's families and the peers give each start's trace
rows, status and times as a dict, and ``tables`` makes the three frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bench import rates, results, status, targets, thinning
from bench.cells import Cell, Settings
from optimizers.base import COUNTERS


def tables(cell: Cell, per_start: list[dict], compiled: tuple[float, bool],
           s: Settings):  # fmt: skip
    """One cell's rows of runs.parquet, traces.parquet and targets.parquet;
    ``compiled``: the cell's share of its programs' compile seconds, and whether
    they came from the cache. Every column is computed as an array first and each
    table made once (a frame built column by column cost more than the arrays)."""
    p = cell.problem
    ident = {"problem": p.label, "optimizer": cell.optimizer, "config": cell.config,
             "precision": cell.precision}  # fmt: skip
    n = len(per_start)

    def each(key: str) -> list:  # None where a start has none (peers: no records)
        return [tr.get(key) for tr in per_start]

    f_star = np.full(n, np.nan if p.f_star is None else p.f_star)
    start = np.repeat(np.arange(n), [len(t["step"]) for t in per_start])
    paths = each("path")
    rows = {
        "start": start,
        **{k: np.concatenate(each(k)) for k in ("step", *results.TRACE_VALUES)},
        **{f"x{i}": np.full(len(start), np.nan) if paths[0] is None
           else np.concatenate([path[:, i] for path in paths]) for i in (0, 1)},
    }  # fmt: skip
    # gap columns are NaN for now where f* is unknown: results.with_best_f_star
    diverged = np.array(each("status")) == status.Status.DIVERGED.label
    rows["gap"], derived = results.derived(
        f_star, diverged, start,
        {c: rows[c].astype(float) for c in results.DERIVED_FROM}, s.tol)  # fmt: skip
    recorded = each("at_tol")
    if all(r is not None for r in recorded):  # the driver's record beats the rows
        at = np.array(recorded, dtype=float)
        at[at[:, 0] < 0] = np.nan
        count = {c: at[:, 1 + i] for i, c in enumerate(COUNTERS)}  # at: step, counts
        derived["steps_to_tol"] = at[:, 0]
        derived["nfev_to_tol"], derived["njev_to_tol"] = count["nfev"], count["njev"]
        derived["work_to_tol"] = count["njev"] + count["nhvp"] + count["njac"]
    runs = {
        **ident,
        "problem_name": p.name,
        "problem_params": json.dumps(p.params, sort_keys=True),
        "dim": p.dim,
        "optimizer_params": json.dumps(cell.params, sort_keys=True),
        "lr": float(  # optax's optimizers call it learning_rate
            cell.params.get("lr", cell.params.get("learning_rate", np.nan))
        ),
        "beta": float(cell.params.get("beta", np.nan)),
        "source": cell.source,
        "start": np.arange(n),
        "status": each("status"),
        "f_star": f_star,
        "f_star_known": p.f_star is not None,
        "final_f": [float(tr["f"][-1]) for tr in per_start],
        "final_grad_norm": [float(tr["grad_norm"][-1]) for tr in per_start],
        "n_steps": [int(tr["step"][-1]) for tr in per_start],
        **{c: [int(tr[c][-1]) for tr in per_start] for c in COUNTERS},
        "rate_theory": rates.theoretical_rate(
            p.name, p.params, cell.optimizer, cell.params
        ),
        "compile_s": compiled[0],
        "compile_cached": compiled[1],
        **{k: each(k) for k in ("run_s", "time_to_tol_s", "run_s_batched")},
        "num_steps": s.num_steps,
        # a peer runs without the budget (bench.runner.unbudgeted)
        "max_njev": np.nan if s.max_njev is None or cell.opt is None else s.max_njev,
        "gtol": s.gtol,
        "tol": s.tol,
        **derived,
    }
    # a value for the cell is one per run (a NaN given once would make the column
    # of dtype object)
    runs = pd.DataFrame({k: runs[k] if isinstance(runs[k], list | np.ndarray)
                         else np.full(n, runs[k]) for k in results.RUN_COLUMNS})
    # targets where f* is known now, before the traces are thinned (where it is
    # best-found: read from the stored traces when the run is consolidated)
    table = pd.DataFrame(columns=targets.COLUMNS)
    if p.f_star is not None:
        records = each("at_targets")
        if any(r is None for r in records):  # a peer, or every row at hand
            counts = np.column_stack([rows[c] for c in targets.COUNTS]).astype(float)
            out = targets.first_reached(f_star, rows["gap"], counts, start)
        else:  # the driver's records: step, then counts
            cols = [0] + [1 + COUNTERS.index(c) for c in targets.COUNTS[1:]]
            out = targets.recorded(np.array(records)[:, :, cols])
        table = targets.table(runs, out)
    if s.trace != "full":  # peers' per-iteration records, thinned like ours
        keep = np.concatenate([thinning.keep_rows(t["step"], s.trace, s.num_steps)
                               for t in per_start])  # fmt: skip
        rows = {k: v[keep] for k, v in rows.items()}
    # the cell's strings given once: pandas repeats them down the rows (a string per
    # row: 18 ms for 30,000 rows, against 1.6 ms)
    traces = pd.DataFrame(ident | rows)
    return runs, traces, table
