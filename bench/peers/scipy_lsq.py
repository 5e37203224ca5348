"""scipy.optimize.least_squares (method "lm": MINPACK's lmder; "trf") as a peer, on
problems with a residual r (f = sum r^2; scipy minimises half of that).

Timed (``run_s``): one ``least_squares(r, x0, jac=J, method=..., ftol=eps,
xtol=eps, gtol=eps, max_nfev=...)`` call per start by ``bench.timing.wall_seconds``;
r and J are ``jax.jit`` of the problem's residual and of its Jacobian (``jacfwd`` or
``jacrev`` by shape, as ``Oracles.residual_and_jac``), their compile ``compile_s``.
The tolerances at machine epsilon make scipy run until it cannot improve (its own
tests: it never sees our gtol); ``max_nfev`` = 40 x num_steps, our bound on trials.

Recorded (never timed): the same call with counting wrappers; a row at each Jacobian
evaluation (both methods evaluate J once per accepted iterate, and at x0): f = r'r
from the residual scipy evaluated there, ||g|| = ||2 J'r|| from that J, nfev = calls
of r so far, njac = calls of J so far, njev = nhev = 0 (row 0: nfev = njac = 1).
step_size is NaN (scipy does not report it). These are the calls made: for lm,
MINPACK's own nfev/njev differ from them by one (bard: 13 and 9 calls, 14 and 8
reported). Residual calls after the last Jacobian
are charged to the last row.

Time to tolerance: the same call with ``max_nfev`` = the residual calls up to the
first row with f - f* <= tol max(1, |f*|): the same iterates, stopped there (lm has
no callback). NaN if the trace never gets there, or f* is unknown.
"""

from __future__ import annotations

import math
import warnings

import jax
import numpy as np

from bench import timing
from bench.peers import common
from bench.status import Status
from problems.base import Problem

METHODS = ("lm", "trf")
TRIALS_PER_STEP = 40  # as our driver's line searches and LM


def _functions(problem: Problem, x0: np.ndarray):
    """Jitted r(x) and J(x), NumPy in and out, and their compile seconds."""
    spec = jax.ShapeDtypeStruct(x0.shape, x0.dtype)
    oracles = problem.oracles(problem.data)
    r_jit, s1 = common.jitted(("lsq-r", problem, spec), problem.residual, spec)

    def jac(x):
        return oracles.residual_and_jac(x)[1]

    j_jit, s2 = common.jitted(("lsq-j", problem, spec), jac, spec)

    def r(x):
        return np.array(r_jit(np.asarray(x, x0.dtype)), dtype=np.float64)

    def j(x):
        return np.array(j_jit(np.asarray(x, x0.dtype)), dtype=np.float64)

    return r, j, s1 + s2


def _solve(r, j, x0, method: str, max_nfev: int):
    import scipy.optimize as so

    eps = float(np.finfo(np.float64).eps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return so.least_squares(r, x0, jac=j, method=method, ftol=eps, xtol=eps,
                                gtol=eps, max_nfev=max_nfev)  # fmt: skip


def _record(r, j, x0: np.ndarray, method: str, max_nfev: int):
    """The trace of one start (rows at each Jacobian) and scipy's result."""
    seen: dict[bytes, np.ndarray] = {}
    rows: list[tuple] = []
    calls = {"r": 0, "j": 0}

    def r_counted(x):
        calls["r"] += 1
        out = r(x)
        seen.clear()  # only the latest is needed: J is taken at the last r's x
        seen[np.asarray(x, np.float64).tobytes()] = out
        return out

    def j_counted(x):
        calls["j"] += 1
        jac = j(x)
        res = seen.get(np.asarray(x, np.float64).tobytes())
        res = r(x) if res is None else res  # uncounted: not seen in practice
        g = 2.0 * jac.T @ res
        rows.append((float(res @ res), float(np.linalg.norm(g)), calls["r"],
                     calls["j"], np.array(x, dtype=np.float64)))  # fmt: skip
        return jac

    res = _solve(r_counted, j_counted, x0, method, max_nfev)
    x = np.asarray(res.x, dtype=np.float64)
    if not rows or not np.array_equal(x, rows[-1][4]):
        # scipy stopped after accepting a point without a Jacobian there: its row,
        # with r and J evaluated outside the counts
        res_x, jac = r(x), j(x)
        rows.append((float(res_x @ res_x), float(np.linalg.norm(2.0 * jac.T @ res_x)),
                     calls["r"], calls["j"], x))  # fmt: skip
    return rows, res, calls


def run(problem: Problem, method: str, x0s: np.ndarray, num_steps: int, gtol: float,
        f_star: float, thr: float) -> common.PeerRun:  # fmt: skip
    """scipy's least_squares with ``method`` from each start (module docstring)."""
    r, j, compile_s = _functions(problem, x0s[0])
    max_nfev = TRIALS_PER_STEP * num_steps
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0_j in x0s:
        x0 = np.asarray(x0_j, dtype=np.float64)
        rows, res, calls = _record(r, j, x0, method, max_nfev)
        seconds = timing.wall_seconds(lambda x0=x0: _solve(r, j, x0, method, max_nfev))
        n = len(rows)
        col = list(zip(*rows, strict=True))
        tr = common.trace(col[0], col[1], [0.0] + [math.nan] * (n - 1), col[2],
                          np.zeros(n), np.zeros(n), np.zeros(n), np.stack(col[4]),
                          njac=col[3])  # fmt: skip
        tr["time_s"] = seconds * (tr["nfev"] - 1) / max(calls["r"] - 1, 1)
        common.fold_totals(tr, {"nfev": calls["r"], "njac": calls["j"]})
        tr["time_s"][-1] = seconds
        traces.append(tr)
        x = np.asarray(res.x, dtype=np.float64)
        finite = np.all(np.isfinite(tr["f"])) and np.all(np.isfinite(x))
        code = (
            Status.DIVERGED if not finite
            else Status.CONVERGED if tr["grad_norm"][-1] <= gtol
            else Status.MAX_STEPS if res.status == 0 else Status.STALLED
        )  # fmt: skip
        status.append(code.label)
        xs.append(x)
        run_s.append(seconds)
        hit = common.first_hit(tr, f_star, thr)
        if hit is None:
            ttt.append(math.nan)
        else:
            to_tol = int(tr["nfev"][hit])
            ttt.append(timing.wall_seconds(
                lambda x0=x0, k=to_tol: _solve(r, j, x0, method, k)))  # fmt: skip
    return common.PeerRun(traces, status, np.stack(xs), compile_s, run_s, ttt)
