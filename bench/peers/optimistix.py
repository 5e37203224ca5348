"""optimistix.BFGS as a peer: timed through ``jax.jit(optx.minimise)``, recorded by a
separate loop around the solver's own step; optimistix.LevenbergMarquardt the same
way through ``optx.least_squares`` on a problem's residual (below, read LM's Jacobian
for BFGS's gradient: an accepted trial's linearisation is +1 njac, not njev).

Recorded (the trace; never timed, its compile left out of compile_s): a compiled
``lax.while_loop`` that calls ``solver.init`` / ``solver.step`` / ``solver.terminate``
of ``optx.BFGS(rtol=0, atol=0)`` exactly as ``optx.minimise``'s loop does, and writes
a row per accepted iterate. rtol = atol = 0 switch off BFGS's only test of its own (a
Cauchy test on successive y and f: with a zero scale it compares nan/inf < 1, False),
so runs stop on the harness's criteria: ||g||_2 <= gtol at an accepted iterate
(converged), num_steps accepted steps (max_steps), a non-finite accepted value
(diverged), or the library giving up / a trial point that no longer moves (stalled).

Counted: each ``solver.step`` is one line-search trial and makes one ``jax.linearize``
of f at the trial point: +1 nfev; a trial that is accepted also transposes that
linearisation into the gradient: +1 njev (the tests check nfev against a
``jax.debug.callback`` counter in the objective). The first step evaluates the start,
so row 0 has nfev = njev = 1. A rejected trial costs a linearisation, a little more
than a plain f. Work after the last accepted iterate is charged to the last row.
step_size is the line search's alpha of the trial that produced the row.

Timed (``run_s``): what a user runs, ``jax.jit`` of a function calling
``optx.minimise(fn, optx.BFGS(rtol=0, atol=0), y0, max_steps=T, throw=False)`` and
returning the Solution's value, step count and success flag, called through jax's
ordinary dispatch and timed by ``bench.timing.wall_seconds``. T is the number of trials
(solver steps) the recording pass took, so the timed run makes the same iterates and
ends at the same point as the trace (the tests check the final iterate to 1e-8); it
reports ``nonlinear_max_steps_reached``, which costs nothing extra: the Cauchy test is
computed on every step anyway. ``max_steps`` must be a Python int, so every distinct T
is a program of its own: compile_s is the median compile time (trace, lower, compile)
of one such program, what a user pays once. The harness pays it up to twice per start
(the full run and the run to tolerance, one program when both T agree), plus the
recording loop once per problem and num_steps: measured on a 2-core machine, 0.5-1.4 s
a program for rosenbrock n=2 (depending on load), ~0.8 s for n=10, ~2 s for n=100, so
an n=10 cell of 4 starts costs ~6 s cold; with the persistent compilation cache warm, a
program costs its tracing and lowering, ~0.4 s.
time_s shares run_s out over the rows in proportion to the trials after the start's
(nfev - 1), since a compiled loop has no clock: 0 at the start, run_s at the end.

Time to tolerance: the same jitted minimise with max_steps = the trials up to the first
recorded row with f - f* <= tol * max(1, |f*|): the same iterates, stopped there.
(A run with the rtol/atol that would make optimistix stop near the target is not the
same run: its test watches changes in y and f, not the gap.) NaN if the trace never
gets there, or f* is unknown.

Unlike our driver, optimistix's loop is a while-loop of trials whose state is a PyTree
of many arrays, and its gradient comes from a linearisation; our driver evaluates
value_and_grad and writes its trace inside the loop.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from bench import timing
from bench.peers import common
from bench.status import Status
from problems.base import Problem

# A cap on line-search trials, a safety net only: a run whose trial point stops moving
# (step underflow) ends as stalled long before, after ~60 halvings of the step.
TRIALS_PER_STEP = 100


def _solver(method: str = "BFGS"):
    import optimistix as optx

    return getattr(optx, method)(rtol=0.0, atol=0.0)


def _objective(problem: Problem, method: str):
    """(fn, its output's shape, f and g of an ``f_info``): ``optx.BFGS`` minimises f;
    ``optx.LevenbergMarquardt`` takes the residual r, with f = r'r (ours, twice
    optimistix's 0.5 r'r) and g = 2 J'r from the Jacobian it keeps."""
    if method == "BFGS":
        return (lambda y, args: (jnp.asarray(problem.f(y)), None),
                lambda y: jax.ShapeDtypeStruct((), y.dtype),
                lambda info: (info.f, info.grad))  # fmt: skip
    return (lambda y, args: (problem.residual(y), None),
            lambda y: jax.eval_shape(problem.residual, y),
            lambda info: (jnp.sum(info.residual**2), 2.0 * info.compute_grad()))


def recording_program(problem: Problem, num_steps: int, method: str = "BFGS"):
    """The recording loop: ``run(x0, gtol) -> (y, (f, ||g||, alpha, nfev, x) per row,
    trials, rows, (converged, diverged, stalled))``."""
    import equinox as eqx
    import optimistix as optx

    solver = _solver(method)
    tags: frozenset = frozenset()
    n_rows = num_steps + 1
    max_trials = TRIALS_PER_STEP * n_rows
    fn, out_struct, value_grad = _objective(problem, method)

    def run(x0, gtol):
        dt = x0.dtype
        state0 = solver.init(fn, x0, None, {}, out_struct(x0), None, tags)
        dyn0, static = eqx.partition(state0, eqx.is_array)
        nan = jnp.full((n_rows,), jnp.nan, dt)
        bufs0 = (nan, nan, nan, jnp.zeros((n_rows,), jnp.int32),
                 jnp.full((n_rows, *x0.shape), jnp.nan, dt))  # fmt: skip
        flags0 = (jnp.array(False),) * 4  # done, converged, diverged, stalled
        c0 = (x0, dyn0, bufs0, jnp.array(0), jnp.array(0), flags0)

        def cond(c):
            _, _, _, trials, n_acc, flags = c
            return ~flags[0] & (n_acc < n_rows) & (trials < max_trials)

        def body(c):
            y, dyn, bufs, trials, n_acc, flags = c
            state = eqx.combine(dyn, static)
            # the step size that produced this trial point (0 on the first step)
            alpha = jnp.where(state.first_step, 0.0, state.search_state.step_size)
            y_eval = state.y_eval
            y_new, new, _ = solver.step(fn, y, None, {}, state, tags)
            trials = trials + 1  # one linearize of f at y_eval: +1 nfev
            accepted = new.num_accepted_steps > state.num_accepted_steps  # +1 njev
            f_acc, g_acc = value_grad(new.f_info)
            g_norm = jnp.linalg.norm(g_acc)
            finite = (
                jnp.isfinite(f_acc)
                & jnp.all(jnp.isfinite(g_acc))
                & jnp.all(jnp.isfinite(y_new))
            )
            keep = accepted & finite
            row = jnp.where(keep, n_acc, n_rows)  # out-of-bounds index: dropped
            vals = (f_acc, g_norm, alpha.astype(dt), trials.astype(jnp.int32), y_new)
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
            done = converged | diverged | stalled
            y = jnp.where(keep, y_new, y)
            dyn = jax.tree.map(
                lambda a, b: jnp.where(diverged, b, a),
                eqx.partition(new, eqx.is_array)[0],
                dyn,
            )
            return y, dyn, bufs, trials, n_acc, (done, converged, diverged, stalled)

        y, _, bufs, trials, n_acc, flags = lax.while_loop(cond, body, c0)
        return y, bufs, trials, n_acc, flags[1:]

    return run


def minimise_function(problem: Problem, max_steps: int, method: str = "BFGS"):
    """What a user jits: ``optx.minimise`` (``optx.least_squares`` for LM) from y0 for
    exactly ``max_steps`` trials (rtol = atol = 0); returns the value, the step count
    and the success flag."""
    import optimistix as optx

    solver = _solver(method)
    entry = optx.minimise if method == "BFGS" else optx.least_squares
    fn = _objective(problem, method)[0]

    def solve(y0):
        sol = entry(fn, solver, y0, has_aux=True, max_steps=max_steps, throw=False)
        return sol.value, sol.stats["num_steps"], sol.result == optx.RESULTS.successful

    return solve


def run(problem: Problem, x0s: np.ndarray, num_steps: int, gtol: float,
        f_star: float, thr: float, method: str = "BFGS") -> common.PeerRun:  # fmt: skip
    """optimistix's BFGS or LevenbergMarquardt from each start (module docstring)."""
    x_spec = jax.ShapeDtypeStruct(x0s.shape[1:], x0s.dtype)
    s_spec = jax.ShapeDtypeStruct((), x0s.dtype)
    key = ("optimistix-record", method, problem, num_steps, x_spec)
    rec = common.recorder(key, recording_program(problem, num_steps, method), x_spec,
                          s_spec)  # fmt: skip
    compile_seconds: list[float] = []

    def timed(x0: np.ndarray, max_steps: int) -> float:
        key = ("optimistix-minimise", method, problem, max_steps, x_spec)
        solve, seconds = common.jitted(
            key, minimise_function(problem, max_steps, method), x_spec
        )
        if seconds > 0:
            compile_seconds.append(seconds)
        return timing.wall_seconds(lambda: solve(x0))

    gtol_a = np.asarray(gtol, x0s.dtype)
    traces, status, xs, run_s, ttt = [], [], [], [], []
    for x0 in x0s:
        y, bufs, trials, n_acc, flags = jax.device_get(rec(x0, gtol_a))
        converged, diverged, stalled = (bool(v) for v in flags)
        n, trials = int(n_acc), int(trials)  # rows: the start and each accepted step
        f, g, alpha, nfev, path = (np.asarray(b[:n]) for b in bufs)
        seconds = timed(x0, trials)
        # accepted linearisations: gradients for BFGS, Jacobians for LM
        derivs = "njev" if method == "BFGS" else "njac"
        accepted = np.arange(1, n + 1)
        tr = common.trace(f, g, alpha, nfev, accepted if derivs == "njev" else 0, 0,
                          np.zeros(n), path, njac=accepted if derivs == "njac" else 0)
        common.fold_totals(tr, {"nfev": trials, derivs: n})
        # the trials after the start's, shared out: 0 at the start, run_s at the end
        tr["time_s"] = seconds * (tr["nfev"] - 1) / max(trials - 1, 1)
        traces.append(tr)
        code = (Status.DIVERGED if diverged else Status.CONVERGED if converged
                else Status.STALLED if stalled else Status.MAX_STEPS)  # fmt: skip
        status.append(code.label)
        xs.append(np.asarray(y, dtype=np.float64))
        run_s.append(seconds)
        hit = common.first_hit(tr, f_star, thr)
        if hit is None:
            ttt.append(math.nan)
        else:
            to_tol = int(nfev[min(hit, n - 1)])  # trials up to that row
            ttt.append(seconds if to_tol == trials else timed(x0, to_tol))
    compile_s = common.median_or_zero(compile_seconds)
    return common.PeerRun(traces, status, np.stack(xs), compile_s, run_s, ttt)
