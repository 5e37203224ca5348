"""A results folder's stored tables, read for the report: ``runs.parquet``,
``traces.parquet`` and ``manifest.json`` (docs/schema.md), with missing columns filled
in, so that tables of an older schema or a partial run still make a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.report.platform import platform_items

_RUN_DEFAULTS: dict[str, Any] = {
    "problem": "?",
    "problem_name": "",
    "problem_params": "{}",
    "dim": 0,
    "optimizer": "?",
    "config": "?",
    "precision": "float64",
    "optimizer_params": "{}",
    "lr": np.nan,
    "source": "optbench",
    "start": 0,
    "status": "max_steps",
    "solved": False,
    "f_star": np.nan,
    "f_star_known": True,
    "final_f": np.nan,
    "final_gap": np.nan,
    "final_grad_norm": np.nan,
    "n_steps": np.nan,
    "nfev": np.nan,
    "njev": np.nan,
    "nhev": np.nan,
    "steps_to_tol": np.nan,
    "nfev_to_tol": np.nan,
    "njev_to_tol": np.nan,
    "work_to_tol": np.nan,
    "rate": np.nan,
    "order": np.nan,
    "rate_theory": np.nan,
    "compile_s": np.nan,
    "run_s": np.nan,
    "time_to_tol_s": np.nan,
}
# the trace columns the report reads (the others are not loaded)
TRACE_COLUMNS = [
    "problem",
    "config",
    "precision",
    "start",
    "step",
    "gap",
    "grad_norm",
    "njev",
    "nfev",
    "time_s",
    "x0",
    "x1",
]


def load(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(runs, traces, manifest) of ``run_dir``, read and checked by
    ``bench.results.read_run`` (tables, or the parts a killed run left);
    FileNotFoundError when it holds no results. In a run of several precisions the
    config labels name their precision (``bench.precision.labelled``)."""
    from bench.precision import labelled
    from bench.results import read_run

    runs, traces, manifest = read_run(run_dir, trace_columns=TRACE_COLUMNS)
    runs, traces = _normalise_runs(runs), _normalise_traces(traces)
    return labelled(runs), labelled(traces), manifest


def _normalise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.copy()
    for col, default in _RUN_DEFAULTS.items():
        if col not in runs:
            runs[col] = default
    for col in ("problem", "config", "optimizer", "status", "source"):
        runs[col] = runs[col].astype(str)
    runs["solved"] = runs["solved"].fillna(False).astype(bool)
    runs["lr"] = pd.to_numeric(runs["lr"], errors="coerce")
    return runs.reset_index(drop=True)


def _normalise_traces(traces: pd.DataFrame) -> pd.DataFrame:
    for col in TRACE_COLUMNS:
        if col not in traces:
            traces[col] = (np.nan if col not in ("problem", "config", "precision")
                           else "")  # fmt: skip
    if len(traces):
        traces["problem"] = traces["problem"].astype(str)
        traces["config"] = traces["config"].astype(str)
        traces = traces.sort_values(
            ["problem", "config", "start", "step"], kind="stable"
        )
    return traces.reset_index(drop=True)


def _shell(command: Any) -> Any:
    """A recorded command as a shell line to paste back: the program as recorded
    ("python -m bench"), its arguments quoted (``[`` of ``adam[lr=0.01]`` is a glob)."""
    import shlex

    if not (isinstance(command, list) and command):
        return command
    return " ".join([str(command[0]), *(shlex.quote(str(a)) for a in command[1:])])


def settings(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's header: (label, text) of the run's settings, versions, platform."""

    def j(v: Any) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k} {v2}" for k, v2 in v.items())
        if isinstance(v, list):
            return " ".join(str(x) for x in v)
        return "" if v is None else str(v)

    items = [
        ("suite", manifest.get("suite")),
        ("status", manifest.get("status")),
        ("started", manifest.get("started")),
        ("finished", manifest.get("finished")),
        ("command", _shell(manifest.get("command"))),
        ("git commit", manifest.get("git_commit")),
        (
            "settings",
            ", ".join(
                f"{k}={manifest[k]}"
                for k in ("starts", "seed", "num_steps", "gtol", "tol", "precision")
                if k in manifest
            ),
        ),
        ("versions", manifest.get("versions")),
    ]
    items = [(k, j(v)) for k, v in items if v not in (None, "", [], {})]
    return items + platform_items(manifest.get("platform"))
