"""What ``python -m bench compare`` reads: a run folder or a pytest-benchmark JSON.

A run folder (``python -m bench run``, or the regression suite's ``--regression-out``)
gives its runs through bench/results.py's reader and its environment from
manifest.json. Its times are the regression suite's pytest-benchmark repeats when
the folder holds that suite's ``benchmarks.json``, else each cell's per-start
``run_s``. A pytest-benchmark JSON of the regression suite (tests/benchmarks/)
carries the runs, the environment and a digest of each run's inputs in each
benchmark's ``extra_info``, and the repeats in ``stats.data`` (docs/ci.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import fingerprint, precision, results

KEYS = ["problem", "config", "start"]
BENCHMARKS_JSON = "benchmarks.json"  # the regression suite's timings in a run folder


@dataclass
class Side:
    """One side of a comparison, whatever it was read from."""

    name: str
    runs: pd.DataFrame  # one row per run: KEYS, status, solved, counts, final_gap...
    fingerprint: dict[str, Any]
    times: dict[str, np.ndarray] = field(default_factory=dict)  # label -> seconds
    calibration: np.ndarray | None = None  # the machine-speed workload's repeats
    failed: dict[tuple[str, str], str] = field(default_factory=dict)  # cell -> error


def load(path: str | Path) -> Side:
    """Read a run folder or a pytest-benchmark JSON; ValueError saying what is
    accepted otherwise."""
    path = Path(path)
    if path.is_dir():
        return _folder(path)
    if path.is_file():
        side = _benchmark_json(path, _read_json(path))
        _check_columns(side.runs, path)
        return side
    raise ValueError(
        f"{path} does not exist; compare takes run folders (python -m bench run) or "
        "pytest-benchmark JSON files of the regression suite"
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not readable JSON: {exc}") from None


def _folder(path: Path) -> Side:
    try:
        runs, _, manifest = results.read_run(path, trace_columns=[])
    except FileNotFoundError:
        manifest = results.read_manifest(path)
        if not any(c.get("status") == "failed" for c in manifest.get("cells", [])):
            raise ValueError(
                f"{path} is not a readable run folder: it holds no runs.parquet (or "
                "parts)"
            ) from None
        # every cell failed, so no rows: the failures are the comparison's verdict
        runs = pd.DataFrame(columns=results.RUN_COLUMNS)
    _check_columns(runs, path)
    runs = precision.labelled(runs)  # a run of two precisions: two cells per config
    cells = pd.DataFrame([c for c in manifest.get("cells", [])
                          if c.get("status") == "failed"],
                         columns=["problem", "config", "precision", "error"])
    if runs["precision"].nunique() > 1:
        cells = precision.labelled(cells.fillna({"precision": "float64"}))
    failed = {(c.problem, c.config): c.error or "failed"
              for c in cells.itertuples()}  # fmt: skip
    side = Side(str(path), runs, fingerprint.of_manifest(manifest), failed=failed)
    if (path / BENCHMARKS_JSON).is_file():  # the regression suite's own repeats
        bj = _benchmark_json(path, _read_json(path / BENCHMARKS_JSON))
        side.times, side.calibration = bj.times, bj.calibration
        side.runs = runs.merge(bj.runs[[*KEYS, "inputs"]], on=KEYS, how="left")
        return side
    # no repeats stored: a cell's samples are its starts' run_s (docs/ci.md)
    timed = runs.dropna(subset=["run_s"])
    side.times = {
        f"{p} x {c}": g["run_s"].to_numpy()
        for (p, c), g in timed.groupby(["problem", "config"], sort=False)
    }
    return side


def _benchmark_json(path: Path, data: Any) -> Side:
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(benchmarks, list):
        raise ValueError(
            f"{path} is not a pytest-benchmark JSON (no 'benchmarks' list)"
        )
    rows, times, calibration, fp = [], {}, None, None
    for b in benchmarks:
        info = b.get("extra_info") or {}
        samples = np.asarray((b.get("stats") or {}).get("data") or [], float)
        fp = fp or info.get("fingerprint")
        if info.get("calibration"):
            calibration = samples
            continue
        if "runs" not in info:
            continue
        rows.extend(info["runs"])
        times[info.get("label") or b.get("name")] = samples
    if not rows or fp is None:
        raise ValueError(
            f"{path} holds no optbench runs: compare reads the extra_info that the "
            "regression suite (tests/benchmarks/) stores with each benchmark"
        )
    runs = pd.DataFrame(rows).replace({None: np.nan})
    return Side(str(path), runs, fp, times, calibration)


def _check_columns(runs: pd.DataFrame, path: Path) -> None:
    need = [*KEYS, "status", "solved", "final_gap", "f_star", "tol"]
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"{path}: runs lack the column(s) {', '.join(missing)}")
