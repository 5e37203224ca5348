"""Tidy result tables: derived per-run columns, atomic writes, the run manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.rates import convergence_order, linear_rate
from bench.status import Status

# runs.parquet column order, as documented in docs/schema.md
RUN_COLUMNS = [
    "problem", "problem_name", "problem_params", "dim", "optimizer", "config",
    "optimizer_params", "lr", "beta", "source", "start", "status", "solved", "f_star",
    "f_star_known", "final_f", "final_gap", "final_grad_norm", "n_steps", "nfev",
    "njev", "nhev", "steps_to_tol", "nfev_to_tol", "njev_to_tol", "rate", "order",
    "rate_theory", "compile_s", "compile_cached", "run_s", "time_to_tol_s",
    "run_s_batched", "num_steps", "max_njev", "gtol", "tol",
]  # fmt: skip
# traces.parquet value columns (beside problem, optimizer, config, start, step, x0, x1)
TRACE_VALUES = ("f", "grad_norm", "step_size", "nfev", "njev", "nhev", "time_s")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic(path: Path, write) -> None:
    """Write through a temp file in the same folder, then rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make results private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_bytes(data: bytes, path: Path) -> None:
    _atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(obj, indent=2, default=str) + "\n"
    _atomic(path, lambda tmp: Path(tmp).write_text(text))


def solved_threshold(f_star: float, tol: float) -> float:
    """A run is solved when f - f* <= tol * max(1, |f*|)."""
    return tol * max(1.0, abs(f_star))


def rounding_floor(f_star: float) -> float:
    """Gaps at or below this are rounding noise and are left out of rate fits."""
    return 1e-14 * max(1.0, abs(f_star)) if f_star != 0 else 1e-300


def derive(runs: pd.DataFrame, traces: pd.DataFrame, tol: float):
    """Add the gap-based columns to both tables, using each run's ``f_star`` column."""
    keys = ["problem", "config", "start"]
    f_star = runs.set_index(keys)["f_star"]
    diverged = runs.set_index(keys)["status"] == Status.DIVERGED.label
    traces = traces.copy()
    idx = pd.MultiIndex.from_frame(traces[keys])
    traces["gap"] = traces["f"].to_numpy() - f_star.reindex(idx).to_numpy()
    derived = []
    for key, tr in traces.groupby(keys, sort=False):
        fs = f_star.loc[key]
        gap = tr["gap"].to_numpy()
        hit = np.flatnonzero(gap <= solved_threshold(fs, tol))
        first = hit[0] if len(hit) else None

        def at_first(col: str, tr=tr, first=first) -> float:
            return np.nan if first is None else float(tr[col].iloc[first])

        rate = order = np.nan
        if not diverged.loc[key]:  # a diverging run's "rate" would be a blow-up factor
            floor = rounding_floor(fs)
            rate, order = linear_rate(gap, floor), convergence_order(gap, floor)
        derived.append(
            {
                **dict(zip(keys, key, strict=True)),
                "final_gap": gap[-1],
                "solved": bool(gap[-1] <= solved_threshold(fs, tol))
                and not diverged.loc[key],
                "steps_to_tol": at_first("step"),
                "nfev_to_tol": at_first("nfev"),
                "njev_to_tol": at_first("njev"),
                "rate": rate,
                "order": order,
            }
        )
    derived_df = pd.DataFrame(derived)
    stale = [c for c in derived_df if c not in keys]
    runs = runs.drop(columns=stale, errors="ignore").merge(derived_df, on=keys)
    return runs[RUN_COLUMNS], traces


def one_blas_thread():
    """Limit BLAS to one thread (a context manager). scipy's peers call BLAS on tiny
    arrays, where a second thread only adds contention: L-BFGS-B on rosenbrock n=10
    ran 2x slower with two threads on a 2-core machine."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def manifest(command: list[str], suite: str, settings: dict) -> dict:
    """Provenance: command, settings, versions, machine, threads, git commit, times."""
    env = environment()
    return {
        "command": command,
        "suite": suite,
        **settings,
        "versions": env.pop("versions"),
        "platform": env,
        "git_commit": _git_commit(),
        "started": now(),
        "finished": None,
        "status": "running",
        "cells": [],
        # what each runs.parquet status means, from the driver's one enum
        "statuses": {st.label: st.message for st in Status if st != Status.RUNNING},
    }


def environment() -> dict[str, Any]:
    """Versions, CPU, thread settings, XLA options and load: what moves timings."""
    import jax
    import jaxlib

    from bench import xla

    versions = {"python": platform.python_version(), "jax": jax.__version__}
    versions["jaxlib"] = jaxlib.__version__
    versions["numpy"] = np.__version__
    for dist in ("scipy", "pandas", "pyarrow", "optax", "optimistix"):
        # from the installed metadata: importing scipy and optax costs a second
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    thread_vars = (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "XLA_FLAGS",
        "JAX_PLATFORMS",
        "OPENBLAS_CORETYPE",
    )
    affinity = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    )
    blas = None
    with contextlib.suppress(Exception):
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        blas = deps["blas"]["name"]
    return {
        "versions": versions,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "thread_env": {k: os.environ.get(k) for k in thread_vars},
        "numpy_blas": blas,
        "blas_threads": _blas_threads(),
        "jax_devices": [str(d) for d in jax.devices()],
        "jax_x64": bool(jax.config.jax_enable_x64),
        "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        "our_compiler_options": dict(xla.OPTIONS),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def xla_counts() -> dict[str, int]:
    """Our programs compiled without our XLA options, or off XLA:CPU's loop fast
    path, in this process (both should be 0: see bench/xla.py)."""
    from bench import xla

    return dict(xla.COUNTS)


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
