"""The tuning protocol (``--tune lr=log:1e-4:1:13``; DeepOBS, Schneider et al. 2019;
AlgoPerf, Dahl et al. 2023): each tunable cell runs on a log grid of one
hyperparameter (one program per family: the value is run-time data), the best value
per (problem, optimizer family) is the one with the fewest median gradient
evaluations to tolerance (a start that never reaches it counts as infinite; ties go to
the larger value), and the tuned cells rerun on fresh starts (the next seed) beside the
defaults. The grid's runs go to ``<run>/tune/``, the choices to
``<run>/tuning.parquet``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd

import optimizers
from bench.cells import Cell, unique
from bench.status import Status
from problems.base import make_label

FORM = "KEY=log:LOW:HIGH:N, e.g. lr=log:1e-4:1:13 (N log-spaced values)"
_TUNE = re.compile(r"([A-Za-z_]\w*)=log:([^:]+):([^:]+):(\d+)")
COLUMNS = [
    "problem",
    "family",
    "key",
    "default",
    "tuned",
    "default_config",
    "tuned_config",
    "median njev_to_tol",
]


def parse_tune(text: str) -> tuple[str, np.ndarray]:
    """``"lr=log:1e-4:1:13"`` -> ("lr", 13 values from 1e-4 to 1, log-spaced)."""
    m = _TUNE.fullmatch(text.strip())
    try:
        key, lo, hi, n = (
            m.group(1),
            float(m.group(2)),
            float(m.group(3)),
            int(m.group(4)),
        )
    except (AttributeError, ValueError):
        raise ValueError(f"cannot read tune {text!r}: {FORM}") from None
    if not (0 < lo < hi < math.inf and n >= 2):
        raise ValueError(f"tune {text!r} needs 0 < LOW < HIGH and N >= 2: {FORM}")
    return key, np.geomspace(lo, hi, n)


def tunable(cells: list[Cell], key: str) -> list[Cell]:
    """Our cells with ``key`` among their run-time hyperparameters (peers and
    `theory` values are left as they are); ValueError when there is none."""
    out = [
        c
        for c in cells
        if c.opt is not None and key in c.opt.hyper and key not in c.theory
    ]
    if not out:
        raise ValueError(
            f"--tune {key}: no selected optimizer has the hyperparameter {key!r}"
        )
    return out


def with_value(cell: Cell, key: str, value: float) -> Cell:
    """The cell with ``key`` set to ``value`` (same program: it is run-time data)."""
    opt = optimizers.get(cell.optimizer, **{**cell.params, key: value})
    return dataclasses.replace(cell, params=dict(opt.params), opt=opt)


def grid(cells: list[Cell], key: str, values: np.ndarray) -> list[Cell]:
    """Every tunable cell at every value of the grid, each cell once: two selected
    configs that differ only in ``key`` (adam, adam[lr=0.1]) share one grid."""
    return unique([with_value(c, key, float(v)) for c in cells for v in values])


def family(optimizer: str, params: dict, key: str) -> str:
    """The label of a config without ``key``: what the grid varies within."""
    return make_label(optimizer, {k: v for k, v in params.items() if k != key})


def choose(grid_runs: pd.DataFrame, cells: list[Cell], key: str) -> pd.DataFrame:
    """The best value per (problem, family) of the grid's runs (COLUMNS).

    Criterion: median over starts of njev_to_tol, inf for a start that did not
    reach the tolerance or diverged; the smallest wins, ties to the larger value.
    """
    cost = grid_runs["njev_to_tol"].to_numpy(float)
    dead = (grid_runs["status"] == Status.DIVERGED.label).to_numpy()
    failed = ~np.isfinite(cost) | dead
    params = [json.loads(p or "{}") for p in grid_runs["optimizer_params"]]
    runs = grid_runs.assign(
        _cost=np.where(failed, np.inf, cost),
        _value=[float(p[key]) for p in params],
        _family=[
            family(o, p, key)
            for o, p in zip(grid_runs["optimizer"], params, strict=True)
        ],
    )
    rows = []
    for cell in cells:
        fam = family(cell.optimizer, cell.params, key)
        mine = runs[(runs["problem"] == cell.problem.label) & (runs["_family"] == fam)]
        med = mine.groupby("_value")["_cost"].median()
        best = float(med.index[med.to_numpy() == med.min()].max())
        rows.append(
            {
                "problem": cell.problem.label,
                "family": fam,
                "key": key,
                "default": float(cell.params[key]),
                "tuned": best,
                "default_config": cell.config,
                "tuned_config": with_value(cell, key, best).config,
                "median njev_to_tol": float(med.min()),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def tuned_cells(cells: list[Cell], chosen: pd.DataFrame, key: str) -> list[Cell]:
    """Each tunable cell at its problem's chosen value."""
    best = dict(zip(chosen["default_config"] + "@" + chosen["problem"], chosen["tuned"],
                    strict=True))  # fmt: skip
    return [with_value(c, key, best[f"{c.config}@{c.problem.label}"]) for c in cells]


def tune_then_rerun(tune: str, prepared: list[Cell], s, out_dir, suite_name: str,
                    command: list[str], say) -> tuple[list[Cell], object]:  # fmt: skip
    """Run the grid of ``tune`` into out_dir/tune, write tuning.parquet; return the
    cells (defaults and tuned) and settings (the next seed: fresh starts) of the
    rerun. ``say``: prints a line for the user."""
    from bench import results, runner

    key, values = parse_tune(tune)
    tunable_cells = tunable(prepared, key)
    cells = grid(tunable_cells, key, values)
    say(f"tuning {key} over {len(values)} values ({values[0]:g}..{values[-1]:g}): "
        f"{len(cells)} cells -> {out_dir / 'tune'}")  # fmt: skip
    grid_runs = runner.run(cells, s, out_dir / "tune", f"{suite_name}-tune", command)
    chosen = choose(grid_runs, tunable_cells, key)
    results.write_parquet(chosen, out_dir / "tuning.parquet")
    both = {c.key: c for c in prepared}
    for c in tuned_cells(tunable_cells, chosen, key):
        both.setdefault(c.key, c)
    return list(both.values()), dataclasses.replace(s, seed=s.seed + 1)
