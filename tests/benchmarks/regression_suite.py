"""The regression suite (regression.toml): its cells and one run of them."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from bench import config, results, runner
from bench.cells import Cell, Settings, prepare, starting_points
from bench.families import Family

SUITE = Path(__file__).with_name("regression.toml")
KEYS = ["problem", "config", "start"]


def load_suite() -> tuple[Settings, list[Cell]]:
    """The suite's settings and built cells (no compiling)."""
    cfg = config.load_config(SUITE)
    s = cfg.settings
    return Settings(starts=s["starts"], num_steps=s["steps"]), prepare(
        cfg.suite.cells()
    )


@dataclass
class Regression:
    folder: Path
    settings: Settings
    families: list[Family]
    runs: pd.DataFrame  # runs.parquet and the digest of each run's inputs
    fingerprint: dict


def run_suite(cells: list[Cell], settings: Settings, folder: Path) -> pd.DataFrame:
    """Run ``cells`` (counts only) into ``folder``; its runs with a digest of each
    run's inputs (start and problem data, as numpy made them)."""
    runner.run(cells, settings, folder, "regression", [*sys.argv], progress=False,
               timed=False)  # fmt: skip
    runs, _, _ = results.read_run(folder, trace_columns=[])
    digests = {
        (c.problem.label, c.config, j): _digest(x0, c.problem.data)
        for c in cells
        for j, x0 in enumerate(
            starting_points(c.problem, settings.starts, settings.seed)
        )
    }
    keys = runs[KEYS].itertuples(index=False, name=None)
    return runs.assign(inputs=[digests[k] for k in keys])


def _digest(x0: np.ndarray, data: object) -> str:
    h = hashlib.sha256(np.ascontiguousarray(x0).tobytes())
    for leaf in jax.tree.leaves(data):
        h.update(np.ascontiguousarray(leaf).tobytes())
    return h.hexdigest()[:16]
