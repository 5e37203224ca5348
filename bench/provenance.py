"""Provenance: what a run records about where and how it ran (versions, machine,
threads, XLA options, git commit), and the one BLAS-thread setting runs are timed
under."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import now
from bench.status import Status


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

    from bench import fingerprint, xla

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
        "cpu": fingerprint.cpu(),  # model and instruction-set extensions
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "thread_env": {k: os.environ.get(k) for k in thread_vars},
        "numpy_blas": blas,
        "blas_threads": _blas_threads(),
        "jax_backend": jax.default_backend(),
        "jax_devices": [str(d) for d in jax.devices()],
        "jax_device_kinds": sorted({d.device_kind for d in jax.devices()}),
        "jax_x64": bool(jax.config.jax_enable_x64),
        "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        # XLA:CPU options: applied to our programs on the CPU backend only
        "our_compiler_options": xla.described()
        if jax.default_backend() == "cpu"
        else {},
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
