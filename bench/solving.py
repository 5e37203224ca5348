"""``bench.solve`` and ``bench.solve_batch``: one problem and one optimizer through
the driver's program (bench/driver.py), with the checks of their arguments."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from bench import thinning
from bench.driver import args, batch_data, program, records_path
from bench.traces import Trace, settle
from optimizers.base import Optimizer, check_count
from problems.base import Problem


def check_tolerance(name: str, value: Any) -> float:
    """A finite number >= 0 (gtol, tol), else ValueError naming it."""
    ok = isinstance(value, int | float | np.floating | np.integer)
    ok = ok and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def solve(
    problem: Problem,
    opt: Optimizer,
    x0: Any = None,
    num_steps: int = 500,
    gtol: float = 1e-10,
    trace: str = "full",
) -> Trace:
    """Run ``opt`` on ``problem`` from one start (``None``: the problem's x0);
    ``trace``: the steps kept as rows (full, every:K, log:N; ``Trace.step``)."""
    _check_objects(problem, opt)
    x0 = np.asarray(problem.x0) if x0 is None else problem.check_x0(x0)
    tb = _solve(problem, opt, x0[None], num_steps, gtol, trace)
    return Trace._make(None if v is None else v[0] for v in tb)


def solve_batch(
    problem: Problem,
    opt: Optimizer,
    x0s: Any,
    num_steps: int = 500,
    gtol: float = 1e-10,
    trace: str = "full",
) -> Trace:
    """Run ``opt`` from each row of ``x0s`` (shape (k, dim)) in one program."""
    _check_objects(problem, opt)
    return _solve(problem, opt, check_starts(problem, x0s), num_steps, gtol, trace)


def _solve(problem: Problem, opt: Optimizer, x0s: np.ndarray, num_steps: int,
           gtol: float, trace: str) -> Trace:  # fmt: skip
    """``solve_batch`` from starts already checked (a problem's x0 is, when made)."""
    opt.check_problem(problem)
    num_steps = check_count("num_steps", num_steps)
    gtol = check_tolerance("gtol", gtol)
    trace = thinning.check(trace, "trace")
    lanes = x0s.shape[0]
    batched = batch_data(problem, lanes)
    data = problem.data
    if batched:
        data = jax.tree.map(lambda v: np.broadcast_to(v, (lanes,) + v.shape), data)
    exe, _ = program(problem, opt, num_steps, lanes, records_path(problem), batched,
                     trace)  # fmt: skip
    return settle(exe(args(problem, x0s, opt.hp(), data, gtol)), num_steps, trace)


def _check_objects(problem: Any, opt: Any) -> None:
    """TypeError unless a Problem and an Optimizer (a name says how to get one)."""
    for value, kind, a, module in ((problem, Problem, "a", "problems"),
                                   (opt, Optimizer, "an", "optimizers")):  # fmt: skip
        if not isinstance(value, kind):
            raise TypeError(
                f"expected {a} {module}.{kind.__name__}, got {type(value).__name__} "
                f"{value!r:.60}; make one with {module}.get(name, ...)"
            )


def check_starts(problem: Problem, x0s: Any) -> np.ndarray:
    """Validate a (k, dim) array of finite starting points; NumPy, in x0's dtype."""
    arr = np.asarray(x0s, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] != problem.dim:
        raise ValueError(
            f"x0s must have shape (k, {problem.dim}) with k >= 1 for problem "
            f"{problem.label}, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("x0s has non-finite entries")
    return arr.astype(problem.x0.dtype)
