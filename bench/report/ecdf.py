"""Runtime ECDFs (COCO's view; Hansen et al. 2021, "COCO: a platform for comparing
continuous optimizers in a black-box setting", Optim. Methods Softw. 36): per config,
the fraction of (problem, start, target) triples whose target gap was reached within
a budget of gradient (or function) evaluations, from the run's targets table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.report.analysis import Profile, step_curves


def load_targets(
    run_dir: Path, runs: pd.DataFrame, traces: pd.DataFrame
) -> pd.DataFrame:
    """The run's targets table (``bench.results.read_targets``): what was recorded
    when it ran, else read from the traces (exact when they were stored in full)."""
    from bench.precision import labelled
    from bench.results import read_targets

    return labelled(read_targets(run_dir, runs, traces))


def runtime_ecdf(table: pd.DataFrame, configs: list[str], count: str) -> Profile:
    """The ECDF of ``count`` (njev or nfev at the first hit) per config of
    ``configs``, over the (problem, start, target) triples of the table: a triple
    never reached counts as inf (it stays in the denominator)."""
    t = table[table["config"].isin(configs)]
    index = ["problem", "start", "target"]
    # groupby, not pivot_table(dropna=False), which would invent unobserved triples
    values = t.groupby([*index, "config"])[count].min().unstack("config")
    values = values.reindex(columns=configs).astype(float).fillna(np.inf)
    return Profile(values=values, curves=step_curves(values), n_instances=len(values))
