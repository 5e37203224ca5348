"""What every peer adapter shares: the PeerRun record, trace rows, compile helpers."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np


class PeerRun(NamedTuple):
    """Outcome of one peer on one problem from k starts."""

    traces: list[dict[str, np.ndarray]]  # per start; rows 0..n_steps (see bench.peers)
    status: list[str]  # a bench.status.Status label per start
    x: np.ndarray  # (k, dim) final iterates
    compile_s: float  # seconds compiling what the peer runs (0.0 when cached)
    run_s: list[float]  # wall seconds of one solve per start (timing.wall_seconds)
    time_to_tol_s: list[float]  # seconds of a solve stopped at the target; NaN if not


def trace(
    f, grad_norm, step_size, nfev, njev, nhev, time_s, x, nhvp=0, njac=0
) -> dict[str, np.ndarray]:
    """One start's trace dict, in the dtypes the runner stores (a scalar counter is
    the same on every row)."""
    rows = np.shape(f)
    return {
        "f": np.asarray(f, dtype=np.float64),
        "grad_norm": np.asarray(grad_norm, dtype=np.float64),
        "step_size": np.asarray(step_size, dtype=np.float64),
        "nfev": np.asarray(nfev, dtype=np.int64),
        "njev": np.broadcast_to(np.asarray(njev, dtype=np.int64), rows).copy(),
        "nhev": np.broadcast_to(np.asarray(nhev, dtype=np.int64), rows).copy(),
        "nhvp": np.broadcast_to(np.asarray(nhvp, dtype=np.int64), rows).copy(),
        "njac": np.broadcast_to(np.asarray(njac, dtype=np.int64), rows).copy(),
        "time_s": np.asarray(time_s, dtype=np.float64),
        "x": np.asarray(x, dtype=np.float64),  # (rows, dim): the iterate per row
    }


def fold_totals(tr: dict[str, np.ndarray], totals: dict[str, int]) -> None:
    """Give the last row the run's total counts (counter name -> total): work after
    the last accepted iterate (a failed line search, rejected trials) is charged to
    it; a run that never left its start gets a row of its own for it (same f,
    step_size 0)."""
    if all(int(tr[k][-1]) == v for k, v in totals.items()):
        return
    if len(tr["f"]) == 1:  # keep row 0 as the start, add a row
        for key in tr:
            tr[key] = np.concatenate([tr[key], tr[key][-1:]])
        tr["step_size"][-1] = 0.0
    for key, v in totals.items():
        tr[key][-1] = v


def first_hit(tr: dict[str, np.ndarray], f_star: float, thr: float) -> int | None:
    """The first row with f - f* <= thr, None if there is none (or thr = -inf)."""
    if math.isinf(thr):
        return None
    hit = np.nonzero(tr["f"] - f_star <= thr)[0]
    return int(hit[0]) if hit.size else None


# (kind, problem, ...) -> a jitted function whose program is compiled
_JITTED: dict[tuple, Any] = {}


def jitted(key: tuple, fn: Callable[..., Any], *specs: Any) -> tuple[Any, float]:
    """``jax.jit(fn)``, its program for ``specs`` compiled now (trace, lower and
    compile: the seconds returned; 0.0 when this process already had it). Later calls
    of the returned function take jax's ordinary dispatch path, as a user's do, and
    reuse that program. It never sees the options the harness sets for its own
    (bench/xla.py adds them only to the harness's compiles)."""
    if key in _JITTED:
        return _JITTED[key], 0.0
    fn_jit = jax.jit(fn)
    t0 = time.perf_counter()
    fn_jit.lower(*specs).compile()
    seconds = time.perf_counter() - t0
    return _JITTED.setdefault(key, fn_jit), seconds


def recorder(key: tuple, fn: Callable[..., Any], *specs: Any) -> Any:
    """The compiled program of a recording pass (the harness's own, never timed):
    its compile time is harness overhead, kept out of compile_s."""
    if key not in _RECORDERS:
        exe = jax.jit(fn).lower(*specs).compile()
        _RECORDERS.setdefault(key, exe)
    return _RECORDERS[key]


_RECORDERS: dict[tuple, Any] = {}


def median_or_zero(seconds: list[float]) -> float:
    return statistics.median(seconds) if seconds else 0.0
