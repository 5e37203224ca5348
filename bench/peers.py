"""Peers: the optimizers a user would otherwise pick, run through our harness.

``run_peer(problem, "scipy:BFGS", {}, x0s, num_steps, gtol, tol)`` runs a library's own
optimizer from each start and returns traces with the same columns as ``bench.solve``
(f, grad_norm, step_size, nfev, njev, nhev) plus wall-clock ``time_s``, so that peers
land in the same result tables as ours, and ``x`` (rows, dim), the iterate at each row
(f[i] = f(x[i]); the last row's x is PeerRun.x), for the contour plots. The libraries'
code is run as shipped; the harness only observes it (callbacks, counting wrappers)
and, where a library has no gradient-norm test of its own, adds ours.

Counting convention (as in ``bench.driver``): the start's f and g count one evaluation
each, so row 0 has nfev = njev = 1; one value_and_grad is 1 nfev + 1 njev.

- scipy: python-side counters around separately jitted f, g (and H for Newton-CG and
  trust-exact), so every call scipy makes is counted once; these equal scipy's own
  ``nfev``/``njev`` (scipy counts calls to the user's functions, after its cache).
- optax: each step is one value_and_grad at the new iterate: +1 nfev, +1 njev.
- optimistix: each ``solver.step`` is one line-search trial and makes one
  ``jax.linearize`` of f at the trial point (+1 nfev); a trial that is accepted also
  transposes that linearisation into the gradient (+1 njev). Counted structurally from
  the solver's ``num_accepted_steps`` in our loop (the tests check nfev against a
  ``jax.debug.callback`` counter in the objective). A rejected trial costs a
  linearisation, a little more than a plain f.

Rows are the start and each accepted iterate. Work after the last accepted iterate (a
failed line search, rejected trials) is added to the last row's counters, so the last
row always holds the run's totals; if the run never left the start, that work gets a
row of its own (same f, step_size 0), as the driver records a stalled step.

x: scipy, the callback's copy of intermediate_result.x; optax and optimistix, from a
variant of the compiled program that also writes the iterate per row. That variant
gives the rows but is neither timed nor in compile_s (on CPU, writing x cost ~3-10% of
an optax scan and ~20-30% of the optimistix loop, rosenbrock n = 2 and 100); the timed
programs below are the ones without it.

Timing (time.perf_counter). compile_s is the jit compile time this call spent (0.0 when
cached): for scipy, compiling the f/g/H handed to it (then warmed up), so scipy's
compile_s is small but not zero. run_s per start:
- scipy: the wall time of one minimize call, our callback's own time taken out; the
  (deterministic) call is repeated up to 5 times (fewer past 2 s) and the run with the
  median time is kept, its rows included; time_s is the callback's clock. This is
  Python-speed work, interpreter and jax dispatch per call included: the cost a user
  pays. Small BLAS calls inside scipy (L-BFGS-B's setulb) are very sensitive to
  OpenBLAS threading on a loaded machine: the runner holds BLAS to one thread.
- optax: the compiled masked scan of num_steps steps (like bench.driver's, frozen
  steps included), timed by bench.driver.median_seconds less one call's dispatch
  cost (a zero-step call of its stopping program), as for our runs;
  time_s = run_s / num_steps x step.
- optimistix: our compiled while-loop, which ends when the run stops, timed the same
  way but with one call's dispatch included (the loop has no zero-step call);
  time_s shares run_s out in proportion to trials (a compiled loop has no clock).
time_to_tol_s: scipy, from time_s; optax and optimistix, the median time of a stopping
variant (a while-loop that also ends at gap <= tol*max(1, |f*|)), less the dispatch
cost for optax; NaN if never reached.
"""

from __future__ import annotations

import importlib
import math
import time
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from bench.driver import check_starts, check_tolerance
from bench.timing import wall_seconds as median_seconds
from bench.results import solved_threshold
from optimizers.base import check_count, check_positive, check_unit
from problems.base import Problem

PEER_NAMES: tuple[str, ...] = (
    "scipy:BFGS",
    "scipy:L-BFGS-B",
    "scipy:CG",
    "scipy:Newton-CG",
    "scipy:trust-exact",
    "optax:adam",
    "optax:sgd",
    "optimistix:BFGS",
)

_DEFAULTS: dict[str, dict[str, float]] = {
    "scipy:BFGS": {},
    "scipy:L-BFGS-B": {},
    "scipy:CG": {},
    "scipy:Newton-CG": {},
    "scipy:trust-exact": {},
    "optax:adam": {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8},
    "optax:sgd": {"lr": 1e-3, "momentum": 0.9},
    "optimistix:BFGS": {},
}

# pip package that provides each library (the import name happens to match).
_PIP = {"scipy": "scipy", "optax": "optax", "optimistix": "optimistix"}

# steady-state timing: one untimed warm call, then the median of this many
_REPEATS = 5


class PeerRun(NamedTuple):
    """Outcome of one peer on one problem from k starts."""

    traces: list[dict[str, np.ndarray]]  # per start; rows 0..n_steps (see module doc)
    status: list[str]  # converged / max_steps / diverged / stalled
    x: np.ndarray  # (k, dim) final iterates
    compile_s: float  # jit compile seconds spent by this call (0.0 when cached)
    run_s: list[float]  # steady-state wall seconds per start
    time_to_tol_s: list[float]  # seconds until gap <= tol*max(1,|f*|); NaN if never


# ----------------------------------------------------------------------------- checks


def is_peer(name: str) -> bool:
    """True for a name of the peer form ``lib:Method`` (valid or not: check_peer)."""
    if not isinstance(name, str):
        return False
    lib, sep, method = name.partition(":")
    return bool(sep and lib and method)


def peer_defaults(name: str) -> dict[str, Any]:
    """The hyperparameters peer ``name`` accepts, with their defaults."""
    _check_name(name)
    return dict(_DEFAULTS[name])


def check_peer(name: str, params: dict[str, Any]) -> None:
    """ValueError for an unknown peer, a missing library, an unknown hyperparameter or
    an invalid value."""
    _check_name(name)
    lib = name.split(":", 1)[0]
    try:
        importlib.import_module(lib)
    except ImportError as err:
        raise ValueError(
            f"peer {name!r} needs the {lib} library, which is not importable "
            f"({err}); install the pip package {_PIP[lib]!r} (pip install {_PIP[lib]})"
        ) from None
    accepted = _DEFAULTS[name]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"peer {name!r} has no hyperparameter {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )
    for key, value in params.items():
        if key in ("lr", "eps"):
            check_positive(key, value)
        else:  # momentum, b1, b2
            check_unit(key, value)


def _check_name(name: str) -> None:
    if name not in _DEFAULTS:
        raise ValueError(f"unknown peer {name!r}; valid names: {', '.join(PEER_NAMES)}")


def _check_knobs(num_steps: int, gtol: float, tol: float) -> None:
    check_count("num_steps", num_steps)
    check_tolerance("gtol", gtol)
    check_tolerance("tol", tol)


# ----------------------------------------------------------------------------- entry


def run_peer(
    problem: Problem,
    name: str,
    params: dict[str, Any],
    x0s: Any,
    num_steps: int,
    gtol: float,
    tol: float,
) -> PeerRun:
    """Run peer ``name`` with hyperparameters ``params`` from each row of ``x0s``.

    Stops at ||g||_2 <= gtol (L-BFGS-B: its own ||proj g||_inf <= gtol), after
    ``num_steps`` iterations (the library's own count: scipy's nit, optimizer steps,
    accepted optimistix steps), at a non-finite value, or when the library gives up.
    """
    check_peer(name, params)
    _check_knobs(num_steps, gtol, tol)
    x0s = check_starts(problem, x0s).astype(problem.x0.dtype)
    hp = {**_DEFAULTS[name], **params}
    f_star = problem.f_star
    # gap <= tol*max(1,|f*|); thr = -inf turns the test off when f* is unknown
    thr = -math.inf if f_star is None else solved_threshold(f_star, tol)
    fs = 0.0 if f_star is None else float(f_star)
    lib, method = name.split(":", 1)
    if lib == "scipy":
        return _run_scipy(problem, method, x0s, num_steps, float(gtol), fs, thr)
    if lib == "optax":
        return _run_optax(problem, method, hp, x0s, num_steps, float(gtol), fs, thr)
    return _run_optimistix(problem, x0s, num_steps, float(gtol), fs, thr)


# ----------------------------------------------------------------------------- shared


def _trace(
    f, grad_norm, step_size, nfev, njev, nhev, time_s, x
) -> dict[str, np.ndarray]:
    return {
        "f": np.asarray(f, dtype=np.float64),
        "grad_norm": np.asarray(grad_norm, dtype=np.float64),
        "step_size": np.asarray(step_size, dtype=np.float64),
        "nfev": np.asarray(nfev, dtype=np.int64),
        "njev": np.asarray(njev, dtype=np.int64),
        "nhev": np.asarray(nhev, dtype=np.int64),
        "time_s": np.asarray(time_s, dtype=np.float64),
        "x": np.asarray(x, dtype=np.float64),  # (rows, dim): the iterate per row
    }


def _fold_totals(tr: dict[str, np.ndarray], totals: tuple[int, int, int]) -> None:
    """Give the last row the run's total counts (see the module docstring)."""
    last = (int(tr["nfev"][-1]), int(tr["njev"][-1]), int(tr["nhev"][-1]))
    if last == tuple(totals):
        return
    if len(tr["f"]) == 1:  # never left the start: keep row 0 as the start, add a row
        for key in tr:
            tr[key] = np.concatenate([tr[key], tr[key][-1:]])
        tr["step_size"][-1] = 0.0
    for key, v in zip(("nfev", "njev", "nhev"), totals, strict=True):
        tr[key][-1] = v


def _first_time_to_tol(tr: dict[str, np.ndarray], f_star: float, thr: float) -> float:
    hit = np.nonzero(tr["f"] - f_star <= thr)[0]
    return float(tr["time_s"][hit[0]]) if hit.size else math.nan


# (kind, problem, ...) -> (compiled object(s)); compile_s is 0.0 on a cache hit
_COMPILED: dict[tuple, Any] = {}


def _compile(key: tuple, fn: Callable[..., Any], *specs: Any) -> tuple[Any, float]:
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    t0 = time.perf_counter()
    exe = jax.jit(fn).lower(*specs).compile()
    seconds = time.perf_counter() - t0
    _COMPILED[key] = exe
    return exe, seconds


def _x_program(key: tuple, fn: Callable[..., Any], *specs: Any) -> Any:
    """The compiled variant of a timed program that also records the iterate per
    row (the trace's x). It only feeds the trace, is never timed, and its compile
    time is harness overhead, left out of compile_s (see the module docstring for
    what writing x costs a run)."""
    return _compile(key, fn, *specs)[0]


# ----------------------------------------------------------------------------- scipy

_SCIPY_HESS = ("Newton-CG", "trust-exact")


def _scipy_options(method: str, num_steps: int, gtol: float) -> dict[str, Any]:
    """Options that make the library stop on the harness's knobs."""
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
        # xtol=0 switches it off and our callback applies ||g||_2 <= gtol instead.
        return {"xtol": 0.0, "maxiter": num_steps}
    # trust-exact: gtol is its own 2-norm test (strict: ||g|| < gtol); maxiter counts
    # every trust-region iteration, rejected ones included (scipy's nit)
    return {"gtol": gtol, "maxiter": num_steps}


class _Oracles:
    """Jitted f, g, H for scipy, compiled once per problem (and dtype), warmed up."""

    def __init__(self, problem: Problem, x0: jax.Array, with_hess: bool) -> None:
        spec = jax.ShapeDtypeStruct(x0.shape, x0.dtype)
        self.dtype = np.dtype(x0.dtype)
        self.compile_s = 0.0
        self.f, s1 = _compile(("scipy-f", problem, spec), problem.f, spec)
        self.g, s2 = _compile(("scipy-g", problem, spec), problem.grad, spec)
        self.compile_s += s1 + s2
        self.h = None
        if with_hess:
            self.h, s3 = _compile(("scipy-h", problem, spec), problem.hess, spec)
            self.compile_s += s3
        # warm up the executables (first-call costs stay out of the timed run)
        for fn in (self.f, self.g, self.h):
            if fn is not None:
                jax.block_until_ready(fn(x0))

    def arg(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=self.dtype)


class _Counted:
    """The functions handed to scipy: each call is counted, and gradients are kept
    (by iterate) so the callback can read ||g|| without a new evaluation."""

    def __init__(self, oracles: _Oracles, x0: np.ndarray) -> None:
        self.o = oracles
        self.x0 = x0
        self.nfev = self.njev = self.nhev = 0
        self.grads: dict[bytes, np.ndarray] = {}

    def fun(self, x: np.ndarray) -> float:
        self.nfev += 1
        return float(self.o.f(self.o.arg(x)))

    def jac(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        g = np.array(self.o.g(self.o.arg(x)), dtype=np.float64)
        if len(self.grads) > 64:
            self.grads.clear()
        self.grads[np.asarray(x, dtype=np.float64).tobytes()] = g
        return g

    def hess(self, x: np.ndarray) -> np.ndarray:
        self.nhev += 1
        return np.array(self.o.h(self.o.arg(x)), dtype=np.float64)

    def grad_norm_at(self, x: np.ndarray) -> float:
        """||g(x)||_2 from the kept gradients, else an uncounted evaluation (it feeds
        the trace only; scipy evaluates g there itself when it needs it, and that call
        is counted)."""
        g = self.grads.get(np.asarray(x, dtype=np.float64).tobytes())
        if g is None:
            g = np.asarray(self.o.g(self.o.arg(x)), dtype=np.float64)
        return float(np.linalg.norm(g))

    def counts(self) -> tuple[int, int, int]:
        return self.nfev, self.njev, self.nhev


class _ScipyRun(NamedTuple):
    rows: list[tuple]  # (f, ||g||, nfev, njev, nhev, time_s, x) per accepted iterate
    res: Any  # scipy's OptimizeResult
    wall: float  # seconds in minimize, our callback's own time taken out
    counts: tuple[int, int, int]  # total calls to fun, jac, hess
    x_last: np.ndarray  # the last iterate a callback reported (x0 if none)


def _scipy_once(
    oracles: _Oracles,
    method: str,
    x0: np.ndarray,
    options: dict[str, Any],
    gtol: float,
) -> _ScipyRun:
    import scipy.optimize as so

    c = _Counted(oracles, x0)
    rows: list[tuple] = []
    last_x = [x0]
    cb_time = [0.0]  # time spent inside our callback, kept out of the timings
    t0 = [0.0]
    # Newton-CG lacks a gradient test: the callback stops it (StopIteration, scipy's
    # documented way for a callback to end a run).
    harness_stops = method == "Newton-CG"

    def callback(intermediate_result: so.OptimizeResult) -> None:
        t_in = time.perf_counter()
        # copy: L-BFGS-B and Newton-CG update x in place
        x = np.array(intermediate_result.x, dtype=np.float64)
        stop = False
        # trust-exact reports rejected steps too (x unchanged): not an iterate
        if not np.array_equal(x, last_x[0]):
            gn = c.grad_norm_at(x)
            elapsed = t_in - t0[0] - cb_time[0]
            rows.append((float(intermediate_result.fun), gn, *c.counts(), elapsed, x))
            last_x[0] = x
            stop = harness_stops and gn <= gtol
        cb_time[0] += time.perf_counter() - t_in
        if stop:
            raise StopIteration

    kwargs: dict[str, Any] = {"jac": c.jac, "callback": callback}
    if method in _SCIPY_HESS:
        kwargs["hess"] = c.hess
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # line-search warnings; the status says it
        t0[0] = time.perf_counter()
        res = so.minimize(c.fun, x0, method=method, options=options, **kwargs)
        wall = time.perf_counter() - t0[0] - cb_time[0]
    return _ScipyRun(rows, res, wall, c.counts(), last_x[0])


def _run_scipy(
    problem: Problem,
    method: str,
    x0s: jax.Array,
    num_steps: int,
    gtol: float,
    f_star: float,
    thr: float,
) -> PeerRun:
    with_hess = method in _SCIPY_HESS
    oracles = _Oracles(problem, x0s[0], with_hess)
    options = _scipy_options(method, num_steps, gtol)
    # row 0's counts: scipy evaluates f, g (and H when given) at x0 once, when it
    # builds its ScalarFunction, before the first iteration
    first = (1, 1, 1 if with_hess else 0)
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0_j in x0s:
        x0 = np.asarray(x0_j, dtype=np.float64)
        # scipy is deterministic: repeat the same run (up to _REPEATS times, less when
        # it is slow) and keep the one with the median wall time, rows and all
        runs: list[_ScipyRun] = []
        spent = 0.0
        while len(runs) < _REPEATS and (len(runs) == 0 or spent < 2.0):
            runs.append(_scipy_once(oracles, method, x0, options, gtol))
            spent += runs[-1].wall
        run = sorted(runs, key=lambda r: r.wall)[(len(runs) - 1) // 2]
        rows, res = run.rows, run.res
        # row 0: f(x0) and ||g(x0)||, evaluated here outside the counts
        f0 = float(oracles.f(oracles.arg(x0)))
        g0 = float(np.linalg.norm(np.asarray(oracles.g(oracles.arg(x0)))))
        tr = _trace(
            [f0] + [r[0] for r in rows],
            [g0] + [r[1] for r in rows],
            [0.0] + [math.nan] * len(rows),  # scipy does not report alpha_k
            [first[0]] + [r[2] for r in rows],
            [first[1]] + [r[3] for r in rows],
            [first[2]] + [r[4] for r in rows],
            [0.0] + [r[5] for r in rows],
            np.stack([x0] + [r[6] for r in rows]),
        )
        x_final = np.asarray(res.x, dtype=np.float64)
        if not np.array_equal(x_final, run.x_last):
            # scipy returned a point no callback reported (not seen with these five
            # methods): give it a row so that the last row is the returned x
            extra = {
                "f": float(oracles.f(oracles.arg(x_final))),
                "grad_norm": _Counted(oracles, x0).grad_norm_at(x_final),
                "step_size": math.nan,
                "time_s": run.wall,
                "x": x_final,
            }
            for key in tr:
                new = extra.get(key, tr[key][-1])
                tr[key] = np.concatenate([tr[key], np.asarray(new)[None]])
        _fold_totals(tr, run.counts)
        traces.append(tr)
        status.append(_scipy_status(method, res, tr, x_final, gtol, num_steps))
        xs.append(x_final)
        run_s.append(run.wall)
        ttt.append(_first_time_to_tol(tr, f_star, thr))
    return PeerRun(traces, status, np.stack(xs), oracles.compile_s, run_s, ttt)


def _scipy_status(
    method: str,
    res: Any,
    tr: dict[str, np.ndarray],
    x: np.ndarray,
    gtol: float,
    num_steps: int,
) -> str:
    finite = np.all(np.isfinite(tr["f"])) and np.all(np.isfinite(tr["grad_norm"]))
    if not (finite and np.all(np.isfinite(x))):
        return "diverged"
    if tr["grad_norm"][-1] <= gtol:
        return "converged"
    if method == "L-BFGS-B" and res.status == 0 and "PGTOL" in str(res.message):
        return "converged"  # its own test, ||proj g||_inf <= gtol
    if res.status == 1 or res.nit >= num_steps:
        return "max_steps"
    return "stalled"


# ----------------------------------------------------------------------------- optax


def _optax_tx(method: str, hp: dict[str, float]):
    import optax

    if method == "adam":
        return optax.adam(hp["lr"], b1=hp["b1"], b2=hp["b2"], eps=hp["eps"])
    return optax.sgd(hp["lr"], momentum=hp["momentum"])


def _optax_programs(problem: Problem, tx, num_steps: int, record_x: bool = False):
    """(trace, until): a masked fixed-length scan like bench.driver's, and the
    stopping variant (a while-loop that ends at done or gap <= thr). ``record_x``
    makes the scan also return the iterate per row (else that output is None)."""
    import optax

    def start(x0, gtol):
        f, g = problem.value_and_grad(x0)
        return (x0, f, g, tx.init(x0)), jnp.linalg.norm(g) <= gtol

    def step(s, done, diverged, gtol):
        x, f, g, opt_state = s
        updates, opt_state_new = tx.update(g, opt_state, x)
        x_new = optax.apply_updates(x, updates)
        f_new, g_new = problem.value_and_grad(x_new)  # +1 nfev, +1 njev
        new = (x_new, f_new, g_new, opt_state_new)
        finite = (
            jnp.isfinite(f_new)
            & jnp.all(jnp.isfinite(g_new))
            & jnp.all(jnp.isfinite(x_new))
        )
        active = ~done
        accept = active & finite
        s = jax.tree.map(lambda a, b: jnp.where(accept, a, b), new, s)
        diverged = diverged | (active & ~finite)
        done = done | diverged | (jnp.linalg.norm(s[2]) <= gtol)
        return s, done, diverged, active, accept

    def trace(x0, gtol):
        s0, done0 = start(x0, gtol)

        def body(c, _):
            s, done, diverged, n_calls, n_acc = c
            s, done, diverged, active, accept = step(s, done, diverged, gtol)
            n_calls = n_calls + active
            n_acc = n_acc + accept
            row = (s[1], jnp.linalg.norm(s[2]), s[0] if record_x else None)
            return (s, done, diverged, n_calls, n_acc), row

        c0 = (s0, done0, jnp.array(False), jnp.array(1), jnp.array(0))
        (s, done, diverged, n_calls, n_acc), (fs, gs, xs) = lax.scan(
            body, c0, None, length=num_steps
        )
        fs = jnp.concatenate([s0[1][None], fs])
        gs = jnp.concatenate([jnp.linalg.norm(s0[2])[None], gs])
        if record_x:
            xs = jnp.concatenate([x0[None], xs])
        return fs, gs, s[0], n_calls, n_acc, done & ~diverged, diverged, xs

    def until(x0, gtol, f_star, thr):
        s0, done0 = start(x0, gtol)

        def cond(c):
            k, s, done, _ = c
            return (k < num_steps) & ~done & ~(s[1] - f_star <= thr)

        def body(c):
            k, s, done, diverged = c
            s, done, diverged, _, _ = step(s, done, diverged, gtol)
            return k + 1, s, done, diverged

        c0 = (jnp.array(0), s0, done0, jnp.array(False))
        k, s, _, _ = lax.while_loop(cond, body, c0)
        return k, s[1] - f_star <= thr

    return trace, until


def _run_optax(
    problem: Problem,
    method: str,
    hp: dict[str, float],
    x0s: jax.Array,
    num_steps: int,
    gtol: float,
    f_star: float,
    thr: float,
) -> PeerRun:
    tx = _optax_tx(method, hp)
    trace_fn, until_fn = _optax_programs(problem, tx, num_steps)
    x_spec = jax.ShapeDtypeStruct(x0s.shape[1:], x0s.dtype)
    s_spec = jax.ShapeDtypeStruct((), x0s.dtype)
    key = (problem, method, tuple(sorted(hp.items())), num_steps, x_spec)
    trace_exe, c1 = _compile(("optax-trace", *key), trace_fn, x_spec, s_spec)
    until_exe, c2 = _compile(("optax-until", *key), until_fn, x_spec, *[s_spec] * 3)
    # the rows come from the same scan that also returns the iterates; the timed
    # program is the one without them (see _x_program)
    path_fn = _optax_programs(problem, tx, num_steps, record_x=True)[0]
    path_exe = _x_program(("optax-path", *key), path_fn, x_spec, s_spec)
    dt = x0s.dtype
    gtol_a, fs_a, thr_a = (jnp.asarray(v, dt) for v in (gtol, f_star, thr))
    never = jnp.asarray(jnp.inf, dt)  # thr that holds at once: a zero-step call
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0 in x0s:
        fs, gs, x, n_calls, n_acc, converged, diverged, path = jax.device_get(
            path_exe(x0, gtol_a)
        )
        # per-step cost of the fixed-length run, as bench.driver's time_s; less the
        # dispatch cost of one call (a zero-step call of the stopping program), as
        # the runner does for optbench's own programs
        dispatch = median_seconds(lambda x0=x0: until_exe(x0, gtol_a, fs_a, never))
        seconds = max(median_seconds(lambda x0=x0: trace_exe(x0, gtol_a)) - dispatch, 0)
        n = int(n_acc)
        rows = np.arange(n + 1)
        tr = _trace(
            fs[: n + 1],
            gs[: n + 1],
            np.where(rows == 0, 0.0, hp["lr"]),  # alpha_k = lr (fixed step)
            rows + 1,
            rows + 1,
            np.zeros(n + 1),
            seconds / num_steps * rows,
            path[: n + 1],
        )
        _fold_totals(tr, (int(n_calls), int(n_calls), 0))  # a diverging step counts
        traces.append(tr)
        status.append(
            "diverged" if diverged else "converged" if converged else "max_steps"
        )
        xs.append(np.asarray(x, dtype=np.float64))
        run_s.append(seconds)
        if math.isinf(thr):
            ttt.append(math.nan)
        else:
            _, reached = until_exe(x0, gtol_a, fs_a, thr_a)
            t = median_seconds(lambda x0=x0: until_exe(x0, gtol_a, fs_a, thr_a))
            ttt.append(max(t - dispatch, 0.0) if bool(reached) else math.nan)
    return PeerRun(traces, status, np.stack(xs), c1 + c2, run_s, ttt)


# ------------------------------------------------------------------------- optimistix

# A cap on line-search trials, a safety net only: a run whose trial point stops moving
# (step underflow) ends as stalled long before, after ~60 halvings of the step.
_TRIALS_PER_STEP = 100


def _optimistix_program(problem: Problem, num_steps: int, record_x: bool = False):
    """Drive optx.BFGS through its solver interface (init / step / terminate), as
    optimistix's own ``iterative_solve`` loop does, with the harness's stopping:
    ||g||_2 <= gtol, num_steps accepted steps, non-finite accepted value, or a stall.
    rtol = atol = 0 switch off its Cauchy test on successive y and f (it has no
    gradient test of its own; with a zero scale the test compares nan/inf < 1, which
    is False), so runs stop on the same criterion as every other method here.
    ``record_x`` adds a buffer of the accepted iterate per row (last in bufs)."""
    import equinox as eqx
    import optimistix as optx

    solver = optx.BFGS(rtol=0.0, atol=0.0)
    tags: frozenset = frozenset()
    n_rows = num_steps + 1
    max_trials = _TRIALS_PER_STEP * n_rows

    def fn(y, args):
        return jnp.asarray(problem.f(y)), None

    def run(x0, gtol, f_star, thr):
        dt = x0.dtype
        f_struct = jax.ShapeDtypeStruct((), dt)
        state0 = solver.init(fn, x0, None, {}, f_struct, None, tags)
        dyn0, static = eqx.partition(state0, eqx.is_array)
        nan = jnp.full((n_rows,), jnp.nan, dt)
        zeros = jnp.zeros((n_rows,), jnp.int32)
        # buffers: f, ||g||, alpha, nfev (= trials so far) per accepted row, and
        # with record_x the accepted iterate
        bufs0 = (nan, nan, nan, zeros)
        if record_x:
            bufs0 += (jnp.full((n_rows, *x0.shape), jnp.nan, dt),)
        # flags: done, converged, diverged, stalled (library gave up / no movement),
        # reached (gap <= thr: the stopping variant for time-to-tolerance)
        flags0 = (jnp.array(False),) * 5
        c0 = (x0, dyn0, bufs0, jnp.array(0), jnp.array(0), flags0)

        def cond(c):
            _, _, _, trials, n_acc, flags = c
            return ~flags[0] & (n_acc < n_rows) & (trials < max_trials)

        def body(c):
            y, dyn, bufs, trials, n_acc, flags = c
            state = eqx.combine(dyn, static)
            # the step size that produced this trial point (1 on the first step)
            alpha = jnp.where(state.first_step, 0.0, state.search_state.step_size)
            y_eval = state.y_eval
            y_new, new, _ = solver.step(fn, y, None, {}, state, tags)
            trials = trials + 1  # one linearize of f at y_eval: +1 nfev
            accepted = new.num_accepted_steps > state.num_accepted_steps  # +1 njev
            f_acc, g_acc = new.f_info.f, new.f_info.grad
            g_norm = jnp.linalg.norm(g_acc)
            finite = (
                jnp.isfinite(f_acc)
                & jnp.all(jnp.isfinite(g_acc))
                & jnp.all(jnp.isfinite(y_new))
            )
            keep = accepted & finite
            row = jnp.where(keep, n_acc, n_rows)  # out-of-bounds index: dropped
            vals = (f_acc, g_norm, alpha.astype(dt), trials.astype(jnp.int32))
            if record_x:
                vals += (y_new,)
            bufs = tuple(
                b.at[row].set(v, mode="drop") for b, v in zip(bufs, vals, strict=True)
            )
            n_acc = n_acc + keep
            lib_stop, result = solver.terminate(fn, y_new, None, {}, new, tags)
            lib_stop = lib_stop | (result != optx.RESULTS.successful)
            diverged = accepted & ~finite
            converged = keep & (g_norm <= gtol)
            no_move = ~accepted & jnp.all(y_eval == y)
            stalled = ~converged & ~diverged & (lib_stop | no_move)
            reached = keep & (f_acc - f_star <= thr)
            done = converged | diverged | stalled | reached
            y = jnp.where(keep, y_new, y)
            dyn = jax.tree.map(
                lambda a, b: jnp.where(diverged, b, a),
                eqx.partition(new, eqx.is_array)[0],
                dyn,
            )
            flags = (done, converged, diverged, stalled, flags[4] | reached)
            return y, dyn, bufs, trials, n_acc, flags

        y, _, bufs, trials, n_acc, flags = lax.while_loop(cond, body, c0)
        return y, bufs, trials, n_acc, flags[1:]

    return run


def _run_optimistix(
    problem: Problem,
    x0s: jax.Array,
    num_steps: int,
    gtol: float,
    f_star: float,
    thr: float,
) -> PeerRun:
    run = _optimistix_program(problem, num_steps)
    x_spec = jax.ShapeDtypeStruct(x0s.shape[1:], x0s.dtype)
    s_spec = jax.ShapeDtypeStruct((), x0s.dtype)
    exe, compile_s = _compile(
        ("optimistix", problem, num_steps, x_spec), run, x_spec, *[s_spec] * 3
    )
    # the rows come from the same loop that also keeps the iterates; the timed
    # program (and the time-to-tolerance one) is the one without them
    path_exe = _x_program(
        ("optimistix-path", problem, num_steps, x_spec),
        _optimistix_program(problem, num_steps, record_x=True),
        x_spec,
        *[s_spec] * 3,
    )
    dt = x0s.dtype
    gtol_a, fs_a, thr_a = (jnp.asarray(v, dt) for v in (gtol, f_star, thr))
    off = jnp.asarray(-jnp.inf, dt)  # thr for the full run: no early stop at tol
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0 in x0s:
        y, bufs, trials, n_acc, flags = jax.device_get(path_exe(x0, gtol_a, fs_a, off))
        # includes one call's dispatch: this loop has no zero-step call to subtract
        seconds = median_seconds(lambda x0=x0: exe(x0, gtol_a, fs_a, off))
        converged, diverged, stalled, _ = (bool(v) for v in flags)
        n = int(n_acc)  # rows written: the start and each accepted iterate
        f, g, alpha, nfev, path = (np.asarray(b[:n]) for b in bufs)
        trials = int(trials)
        # time_s: the run's wall time shared out in proportion to trials (each trial
        # is one f linearisation), since the compiled loop has no per-step clock
        tr = _trace(
            f,
            g,
            alpha,
            nfev,
            np.arange(1, n + 1),
            np.zeros(n),
            seconds * nfev / max(trials, 1),
            path,
        )
        _fold_totals(tr, (trials, n, 0))
        traces.append(tr)
        if diverged:
            status.append("diverged")
        elif converged:
            status.append("converged")
        elif stalled:
            status.append("stalled")
        else:
            status.append("max_steps")
        xs.append(np.asarray(y, dtype=np.float64))
        run_s.append(seconds)
        if math.isinf(thr):
            ttt.append(math.nan)
        else:
            reached = bool(exe(x0, gtol_a, fs_a, thr_a)[4][3])
            t = median_seconds(lambda x0=x0: exe(x0, gtol_a, fs_a, thr_a))
            ttt.append(t if reached else math.nan)
    return PeerRun(traces, status, np.stack(xs), compile_s, run_s, ttt)
