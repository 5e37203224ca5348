"""scipy.optimize.minimize as a peer: timed as a user calls it, recorded separately.

Timed (``run_s``): one ``scipy.optimize.minimize(fun, x0, jac=..., [hess=...],
method=..., options=...)`` call per start, by ``bench.timing.wall_seconds``, with the
options of ``options()`` (they make scipy stop on the harness's knobs). fun, jac and
hess are what a user hands to scipy: ``jax.jit`` of the problem's f, grad and hess,
converted to float / NumPy. Their compile is ``compile_s`` (once per problem, so only
the first scipy method on a problem pays it). Newton-CG has no gradient test of its own:
there a callback stops the run at ||g||_2 <= gtol (raising StopIteration, scipy's
documented way), reading the gradient the last jac call kept, so the timed run includes
that callback. Times are Python-speed work, interpreter and jax dispatch per call
included: the cost a user pays. scipy's tiny BLAS calls (L-BFGS-B's setulb) are very
sensitive to OpenBLAS threading on a loaded machine: the runner holds BLAS to one
thread.

Time to tolerance (``time_to_tol_s``): the same minimize call with a callback
``callback(intermediate_result)`` that raises StopIteration once intermediate_result.fun
- f* <= tol * max(1, |f*|), timed the same way: what a user who wants that target
runs. The iterates up to there are those of the full run, since scipy is deterministic.
NaN when the recorded trace never gets there, or f* is unknown.

Recorded (the trace; never timed): a separate minimize call of the same run with
counting wrappers around fun, jac and hess and a callback that writes a row per
iterate that moved x (trust-exact reports rejected steps too): f from the callback,
||g||_2 from the gradient jac already computed there (else an uncounted evaluation).
Counts: each call scipy makes to fun, jac, hess is counted once; these equal scipy's own
``nfev``/``njev``/``nhev`` (scipy counts calls to the user's functions, after its
cache), and row 0 (the start) has nfev = njev = 1 (nhev = 1 with a Hessian), the
evaluations scipy makes at x0 before its first iteration. scipy does not report the
step size: step_size is NaN after row 0. time_s shares ``run_s`` out over the rows in
proportion to the recording pass's clock at each row (our callback's own time left
out), so the last row's time_s is run_s.

Unlike our driver, scipy decides its own iterations (line searches, trust regions)
and stops on its own tests: L-BFGS-B on ||proj g||_inf <= gtol, trust-exact on
||g||_2 < gtol (strict), BFGS and CG on ||g||_2 <= gtol.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, NamedTuple

import jax
import numpy as np

from bench import timing
from bench.peers import common
from bench.status import Status
from problems.base import Problem

METHODS = ("BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-exact")
WITH_HESS = ("Newton-CG", "trust-exact")


def options(method: str, num_steps: int, gtol: float) -> dict[str, Any]:
    """minimize's options that make the library stop on the harness's knobs."""
    if method in ("BFGS", "CG"):
        return {"gtol": gtol, "norm": 2, "maxiter": num_steps}
    if method == "L-BFGS-B":
        # Its gradient test is ||proj g||_inf <= gtol (pgtol): we pass gtol there,
        # so "converged" for L-BFGS-B means the inf-norm test. ftol=0 switches off its
        # relative-reduction test, which otherwise stops long before gtol (it then only
        # fires when f stops decreasing at all, reported as stalled); maxfun is raised
        # so that maxiter is the binding limit (at most maxls=20 trials per iteration).
        return {
            "gtol": gtol,
            "ftol": 0.0,
            "maxiter": num_steps,
            "maxfun": 25 * num_steps + 25,
        }
    if method == "Newton-CG":
        # Newton-CG has no gradient test, only a step test (sum|update| <= xtol*n);
        # xtol=0 switches it off and a callback applies ||g||_2 <= gtol instead.
        return {"xtol": 0.0, "maxiter": num_steps}
    # trust-exact: gtol is its own 2-norm test (strict: ||g|| < gtol); maxiter counts
    # every trust-region iteration, rejected ones included (scipy's nit)
    return {"gtol": gtol, "maxiter": num_steps}


class Functions:
    """``jax.jit`` of f, grad (and hess) of a problem, as a user hands them to scipy,
    compiled once per problem and dtype."""

    def __init__(self, problem: Problem, x0: np.ndarray, with_hess: bool) -> None:
        spec = jax.ShapeDtypeStruct(x0.shape, x0.dtype)
        self.dtype = np.dtype(x0.dtype)
        self.f, s1 = common.jitted(("scipy-f", problem, spec), problem.f, spec)
        self.g, s2 = common.jitted(("scipy-g", problem, spec), problem.grad, spec)
        self.h, s3 = None, 0.0
        if with_hess:
            self.h, s3 = common.jitted(("scipy-h", problem, spec), problem.hess, spec)
        self.compile_s = s1 + s2 + s3

    def fun(self, x: np.ndarray) -> float:
        return float(self.f(np.asarray(x, self.dtype)))

    # copies (np.array): scipy may write into what it is handed, and the gradients
    # are kept for the callbacks
    def jac(self, x: np.ndarray) -> np.ndarray:
        return np.array(self.g(np.asarray(x, self.dtype)), dtype=np.float64)

    def hess(self, x: np.ndarray) -> np.ndarray:
        return np.array(self.h(np.asarray(x, self.dtype)), dtype=np.float64)


class _Kept:
    """jac that keeps the gradients it computed (by iterate), so a callback reads
    ||g(x_k)|| without a new evaluation; optionally counts fun, jac and hess calls."""

    def __init__(self, fns: Functions) -> None:
        self.fns = fns
        self.nfev = self.njev = self.nhev = 0
        self.grads: dict[bytes, np.ndarray] = {}

    def fun(self, x: np.ndarray) -> float:
        self.nfev += 1
        return self.fns.fun(x)

    def jac(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        g = self.fns.jac(x)
        if len(self.grads) > 64:
            self.grads.clear()
        self.grads[np.asarray(x, dtype=np.float64).tobytes()] = g
        return g

    def hess(self, x: np.ndarray) -> np.ndarray:
        self.nhev += 1
        return self.fns.hess(x)

    def grad_norm(self, x: np.ndarray) -> float:
        """||g(x)||_2, kept or else evaluated outside the counts."""
        g = self.grads.get(np.asarray(x, dtype=np.float64).tobytes())
        return float(np.linalg.norm(self.fns.jac(x) if g is None else g))

    def counts(self) -> tuple[int, int, int]:
        return self.nfev, self.njev, self.nhev


def _minimize(method, x0, opts, fun, jac, hess, callback):
    import scipy.optimize as so

    kwargs: dict[str, Any] = {"jac": jac}
    if method in WITH_HESS:
        kwargs["hess"] = hess
    if callback is not None:
        kwargs["callback"] = callback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # line-search warnings; the status says it
        return so.minimize(fun, x0, method=method, options=opts, **kwargs)


def _timed_call(fns: Functions, method: str, x0: np.ndarray, opts: dict, gtol: float,
                target: tuple[float, float] | None = None):  # fmt: skip
    """The call a user makes, for wall_seconds, and a one-item list that says
    whether the last call stopped at ``target`` = (f*, thr): f - f* <= thr."""
    reached = [False]
    stop_at_gtol = method == "Newton-CG"

    def callback_for(kept: _Kept | None):
        def callback(intermediate_result):
            if target is not None and intermediate_result.fun - target[0] <= target[1]:
                reached[0] = True
                raise StopIteration
            if kept is not None and kept.grad_norm(intermediate_result.x) <= gtol:
                raise StopIteration

        return callback

    def call():
        reached[0] = False
        kept = _Kept(fns) if stop_at_gtol else None
        cb = callback_for(kept) if stop_at_gtol or target is not None else None
        jac = fns.jac if kept is None else kept.jac
        return _minimize(method, x0, opts, fns.fun, jac, fns.hess, cb)

    return call, reached


class _Recording(NamedTuple):
    rows: list[tuple]  # (f, ||g||, nfev, njev, nhev, clock, x) per iterate that moved
    res: Any  # scipy's OptimizeResult
    clock: float  # seconds in minimize, our callback's own time left out
    counts: tuple[int, int, int]  # total calls to fun, jac, hess
    x_last: np.ndarray  # the last iterate a callback reported (x0 if none)


def _record(fns: Functions, method: str, x0: np.ndarray, opts: dict,
            gtol: float) -> _Recording:  # fmt: skip
    c = _Kept(fns)
    rows: list[tuple] = []
    last_x = [x0]
    cb_time = [0.0]
    stop_at_gtol = method == "Newton-CG"

    t0 = time.perf_counter()  # reset just before minimize

    def callback(intermediate_result) -> None:
        t_in = time.perf_counter()
        # copy: L-BFGS-B and Newton-CG update x in place
        x = np.array(intermediate_result.x, dtype=np.float64)
        stop = False
        if not np.array_equal(x, last_x[0]):  # trust-exact: rejected steps too
            gn = c.grad_norm(x)
            clock = t_in - t0 - cb_time[0]
            rows.append((float(intermediate_result.fun), gn, *c.counts(), clock, x))
            last_x[0] = x
            stop = stop_at_gtol and gn <= gtol
        cb_time[0] += time.perf_counter() - t_in
        if stop:
            raise StopIteration

    t0 = time.perf_counter()
    res = _minimize(method, x0, opts, c.fun, c.jac, c.hess, callback)
    clock = time.perf_counter() - t0 - cb_time[0]
    return _Recording(rows, res, clock, c.counts(), last_x[0])


def run(problem: Problem, method: str, x0s: np.ndarray, num_steps: int, gtol: float,
        f_star: float, thr: float) -> common.PeerRun:  # fmt: skip
    """scipy's ``method`` from each start (see the module docstring)."""
    with_hess = method in WITH_HESS
    fns = Functions(problem, x0s[0], with_hess)
    opts = options(method, num_steps, gtol)
    # row 0's counts: scipy evaluates f, g (and H when given) at x0 once, when it
    # builds its ScalarFunction, before the first iteration
    first = (1, 1, 1 if with_hess else 0)
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0_j in x0s:
        x0 = np.asarray(x0_j, dtype=np.float64)
        rec = _record(fns, method, x0, opts, gtol)
        call, _ = _timed_call(fns, method, x0, opts, gtol)
        # the recording pass ran the same minimize on the same functions: the warm-up
        seconds = timing.wall_seconds(call, warm=True)
        rows, res = rec.rows, rec.res
        share = seconds / rec.clock if rec.clock > 0 else 0.0
        tr = common.trace(
            [fns.fun(x0)] + [r[0] for r in rows],
            [float(np.linalg.norm(fns.jac(x0)))] + [r[1] for r in rows],
            [0.0] + [math.nan] * len(rows),  # scipy does not report alpha_k
            [first[0]] + [r[2] for r in rows],
            [first[1]] + [r[3] for r in rows],
            [first[2]] + [r[4] for r in rows],
            [0.0] + [r[5] * share for r in rows],
            np.stack([x0] + [r[6] for r in rows]),
        )
        x_final = np.asarray(res.x, dtype=np.float64)
        if not np.array_equal(x_final, rec.x_last):
            # scipy returned a point no callback reported (not seen with these five
            # methods): give it a row so that the last row is the returned x
            extra = {"f": fns.fun(x_final), "step_size": math.nan, "x": x_final,
                     "grad_norm": float(np.linalg.norm(fns.jac(x_final)))}  # fmt: skip
            for key in tr:
                new = extra.get(key, tr[key][-1])
                tr[key] = np.concatenate([tr[key], np.asarray(new)[None]])
        tr["time_s"][-1] = seconds
        common.fold_totals(tr, dict(zip(("nfev", "njev", "nhev"), rec.counts,
                                         strict=True)))
        traces.append(tr)
        status.append(_status(method, res, tr, x_final, gtol, num_steps).label)
        xs.append(x_final)
        run_s.append(seconds)
        ttt.append(_time_to_tol(fns, method, x0, opts, gtol, tr, f_star, thr))
    return common.PeerRun(traces, status, np.stack(xs), fns.compile_s, run_s, ttt)


def _time_to_tol(fns: Functions, method: str, x0: np.ndarray, opts: dict,
                 gtol: float, tr: dict, f_star: float,
                 thr: float) -> float:  # fmt: skip
    """wall_seconds of the minimize call stopped by a callback at f - f* <= thr. The
    full run's timing was its warm-up."""
    hit = common.first_hit(tr, f_star, thr)
    if hit is None:
        return math.nan
    call, reached = _timed_call(fns, method, x0, opts, gtol, (f_star, thr))
    seconds = timing.wall_seconds(call, warm=True)
    return seconds if reached[0] else math.nan


def _status(method: str, res: Any, tr: dict[str, np.ndarray], x: np.ndarray,
            gtol: float, num_steps: int) -> Status:  # fmt: skip
    finite = np.all(np.isfinite(tr["f"])) and np.all(np.isfinite(tr["grad_norm"]))
    if not (finite and np.all(np.isfinite(x))):
        return Status.DIVERGED
    if tr["grad_norm"][-1] <= gtol:
        return Status.CONVERGED
    if method == "L-BFGS-B" and res.status == 0 and "PGTOL" in str(res.message):
        return Status.CONVERGED  # its own test, ||proj g||_inf <= gtol
    if res.status == 1 or res.nit >= num_steps:
        return Status.MAX_STEPS
    return Status.STALLED
