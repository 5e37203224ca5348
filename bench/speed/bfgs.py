"""Measurements 1 and 2: BFGS (and L-BFGS, batched) on Rosenbrock against scipy and
optimistix.

Our times are calls of the compiled program that ``bench.solve`` / ``bench.solve_batch``
use (``driver.program`` with the same key, so the very executable), dispatch and the
transfer of NumPy arguments included, and of the whole public Python call. Peers run
as a user runs them: ``scipy.optimize.minimize`` on numpy functions, and
``jax.jit`` of ``optimistix.minimise`` (vmapped for the batch) compiled with XLA's
defaults. Every call gets its starts as NumPy arrays, as the runner's timings do: a
peer given a device array instead skips the transfer ours pays (one start: 5-8 us
of optimistix's 49-51 us, measured side by side).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import bench
import optimizers
import problems
from bench import driver, traces, xla
from bench.speed.clock import Log, log_ratios, log_times, ratios, scaled, side_by_side
from bench.status import Status

GTOL = 1e-8
MAX_STEPS = 1000  # budget of our runs and optimistix's; BFGS needs about 40 steps
SEED = 0
OPTX_TOLS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12)  # loosest first: _pick_optx_tol


def _optx_program(problem, tol: float, batched: bool, method: str = "bfgs"):
    """A fresh ``jax.jit`` of ``optx.minimise`` with optimistix's BFGS or LBFGS (a new
    function object each time, so jax never hands back another's executable).
    Returns the iterate, the step count and whether it succeeded: what a user reads
    off a Solution."""
    import optimistix as optx

    solver = {"bfgs": optx.BFGS, "lbfgs": optx.LBFGS}[method](rtol=tol, atol=tol)

    def fn(y, args):
        return problem.f(y)

    def solve(y0):
        sol = optx.minimise(fn, solver, y0, max_steps=MAX_STEPS, throw=False)
        return sol.value, sol.stats["num_steps"], sol.result == optx.RESULTS.successful

    return jax.jit(jax.vmap(solve) if batched else solve)


def _optx_converged(problem, ys) -> int:
    """How many optimistix solutions have ||g|| <= GTOL (ys: (dim,) or (k, dim))."""
    g = jax.vmap(problem.grad)(jnp.atleast_2d(ys))
    return int(jnp.sum(jnp.linalg.norm(g, axis=1) <= GTOL))


def _pick_optx_tol(problem, xs, need: int, method: str) -> float:
    """The loosest rtol = atol in OPTX_TOLS at which optimistix, which stops on small
    changes in y and f rather than on ||g||, ends with ||g|| <= GTOL from at least
    ``need`` of the starts ``xs`` (one start: shape (dim,)), as ours and scipy do."""
    for tol in OPTX_TOLS:
        ys, _, _ = _optx_program(problem, tol, xs.ndim == 2, method)(xs)
        if _optx_converged(problem, ys) >= need:
            return tol
    return OPTX_TOLS[-1]


def _optx(problem, xs, need: int, quick: bool, quick_tol: float, method: str = "bfgs"):
    """The jitted optimistix call at a tolerance comparable with ours, its first-call
    seconds (compile) and whether its loop is on XLA's fast path."""
    tol = quick_tol if quick else _pick_optx_tol(problem, xs, need, method)
    fn = _optx_program(problem, tol, xs.ndim == 2, method)
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(xs))
    compile_s = time.perf_counter() - t0
    return fn, out, tol, compile_s, xla.on_fast_path(fn.lower(xs).compile())


def _scipy_bfgs(x: np.ndarray):
    import scipy.optimize as so

    opts = {"gtol": GTOL, "norm": 2}
    return so.minimize(so.rosen, x, jac=so.rosen_der, method="BFGS", options=opts)


def bench_bfgs_single(cfg: argparse.Namespace, log: Log) -> dict:
    import scipy.optimize as so

    p, opt = problems.get("rosenbrock", n=2), optimizers.get("bfgs")
    x0 = np.asarray(p.x0)
    # what bench.solve runs
    exe, ours_c = driver.program(p, opt, MAX_STEPS, 1, driver.records_path(p))
    args = driver.args(p, x0[None], opt.hp(), p.data, GTOL)
    tr = traces.settle(exe(args))
    k, ours_g = int(tr.n_steps[0]), float(tr.grad_norm[0, -1])
    assert tr.status[0] == Status.CONVERGED and ours_g <= GTOL, "our BFGS failed"

    res = _scipy_bfgs(x0)
    scipy_g = float(np.linalg.norm(so.rosen_der(res.x)))
    optx_fn, (y, optx_steps, optx_ok), tol, optx_c, optx_fast = _optx(
        p, p.x0, 1, cfg.quick, 1e-8
    )
    optx_g = float(jnp.linalg.norm(p.grad(y)))
    calls = {
        "ours": lambda: exe(args),
        "ours_solve": lambda: bench.solve(p, opt, num_steps=MAX_STEPS, gtol=GTOL),
        "scipy": lambda: _scipy_bfgs(x0),
        "optimistix": lambda: optx_fn(x0),
    }
    fast = {"ours": xla.on_fast_path(exe)}
    peer_fast = {"optimistix": optx_fast}
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    pairs = [
        (peer, ours)
        for ours in ("ours", "ours_solve")
        for peer in ("scipy", "optimistix")
    ]
    out = {
        "steps": {"ours": k, "scipy_nit": int(res.nit), "optimistix": int(optx_steps)},
        "nfev": {"ours": int(tr.nfev[0, -1]), "scipy": int(res.nfev)},
        "final_grad_norm": {"ours": ours_g, "scipy": scipy_g, "optimistix": optx_g},
        "optimistix_tol": tol,
        "optimistix_ok": bool(optx_ok),
        "compile_s": {"ours": ours_c, "optimistix": optx_c},
        "times": t,
        "fast_path": fast,
        "peer_fast_path": peer_fast,
        "ratios": ratios(t, pairs),
    }
    log(f"1. BFGS, rosenbrock n=2, x0=(-1.2, 1), ||g|| <= {GTOL:g}, one start")
    log_ratios(log, out["ratios"])
    log(
        f"   steps: ours {k} (nfev {out['nfev']['ours']}), scipy nit {res.nit} "
        f"(nfev {res.nfev}), optimistix {int(optx_steps)} (rtol=atol={tol:g}); final "
        f"||g||: ours {ours_g:.1e}, scipy {scipy_g:.1e}, optimistix {optx_g:.1e}"
    )
    log(f"   ours: the one-lane program bench.solve runs (budget {MAX_STEPS} steps)")
    log_times(log, t, fast | peer_fast)
    return out


def bench_batch(cfg: argparse.Namespace, log: Log, method: str = "bfgs") -> dict:
    """``method`` (bfgs or lbfgs) from ``cfg.starts`` random starts in one batch,
    against optimistix's vmapped solver of that name, and for BFGS a scipy loop."""
    import scipy.optimize as so

    p, opt = problems.get("rosenbrock", n=2), optimizers.get(method)
    number, name = {"bfgs": ("2.", "BFGS"), "lbfgs": ("2b.", "L-BFGS")}[method]
    x0 = np.asarray(p.x0)
    drawn = x0 + np.random.default_rng(SEED).uniform(-1, 1, (cfg.starts, x0.size))
    # Timing both on the starts optimistix solves at its tightest tolerance: a
    # vmapped batch lasts as long as its slowest lane, and optimistix 0.1.0's LBFGS
    # stalls at f ~ 2-4 from 6 of the 1000 starts, running to max_steps.
    ys, _, _ = _optx_program(p, OPTX_TOLS[-1], True, method)(jnp.asarray(drawn))
    g = np.linalg.norm(np.asarray(jax.vmap(p.grad)(ys)), axis=1)
    starts = drawn[g <= GTOL]
    n, dropped = len(starts), len(drawn) - len(starts)
    # The program bench.solve_batch runs, with the slowest start's steps as its budget
    # (the shortest trace that holds every run), and with solve_batch's default budget
    # (500 rows of trace per lane, written but mostly unused).
    args = driver.args(p, starts, opt.hp(), p.data, GTOL)
    exes, compile_s, fast = {}, {}, {}

    def build(name: str, num_steps: int) -> None:
        exes[name], compile_s[name] = driver.program(p, opt, num_steps, n,
                                                     driver.records_path(p))
        fast[name] = xla.on_fast_path(exes[name])

    build("ours_budget500", 500)
    steps = int(np.asarray(exes["ours_budget500"](args).ends)[:, 1].max())
    build("ours", steps)
    tr = traces.settle(exes["ours"](args))
    ours_conv = int(np.sum(tr.status == Status.CONVERGED))

    optx_fn, (ys, _, _), tol, compile_s["optimistix"], optx_fast = _optx(
        p, starts, ours_conv, cfg.quick, 1e-10, method
    )
    peer_fast = {"optimistix_vmap": optx_fast}
    converged = {"ours": ours_conv, "optimistix": _optx_converged(p, ys)}
    calls = {
        "ours": lambda: exes["ours"](args),
        "ours_solve_batch": lambda: bench.solve_batch(p, opt, starts, steps, GTOL),
        "ours_budget500": lambda: exes["ours_budget500"](args),
        "optimistix_vmap": lambda: optx_fn(starts),
    }
    peers = ["optimistix_vmap"]
    sub = starts[: cfg.scipy_subset]
    if method == "bfgs":  # scipy's L-BFGS-B stops on another norm of g
        calls["scipy_loop_subset"] = lambda: [_scipy_bfgs(s) for s in sub]
        converged["scipy_subset"] = int(sum(
            float(np.linalg.norm(so.rosen_der(_scipy_bfgs(s).x))) <= GTOL for s in sub
        ))  # fmt: skip
        peers.append("scipy_loop_scaled")
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    if method == "bfgs":
        t["scipy_loop_scaled"] = scaled(t["scipy_loop_subset"], n / len(sub))
    pairs = [
        (peer, ours)
        for ours in ("ours", "ours_solve_batch", "ours_budget500")
        for peer in peers
    ]
    out = {
        "starts": n,
        "starts_optimistix_failed": dropped,
        "steps_max": steps,
        "steps_median": float(np.median(tr.n_steps)),
        "converged": converged,
        "optimistix_tol": tol,
        "compile_s": compile_s,
        "times": t,
        "fast_path": fast,
        "peer_fast_path": peer_fast,
        "ratios": ratios(t, pairs),
    }
    log(f"{number} {name}, rosenbrock n=2, {n} starts x0 + U[-1,1]^2 (seed {SEED}), "
        f"one batch")  # fmt: skip
    if dropped:
        log(f"   left out: {dropped} of {len(drawn)} starts, where optimistix's "
            f"{name} ends with ||g|| > {GTOL:g} (rtol=atol={OPTX_TOLS[-1]:g})")
    log_ratios(log, out["ratios"])
    log(
        f"   ours: the program bench.solve_batch runs, budget = the slowest start's "
        f"{steps} steps (median {out['steps_median']:.0f}); ours_budget500: "
        "solve_batch's default budget; ours_solve_batch: the whole public call"
    )
    log(
        "   converged (||g|| <= gtol): "
        + ", ".join(f"{k} {v}" for k, v in converged.items())
        + f" (optimistix rtol=atol={tol:g})"
        + (f"; scipy: a loop over the first {len(sub)} starts, timed and scaled"
           if method == "bfgs" else "")
    )  # fmt: skip
    log_times(log, t, fast | peer_fast)
    return out
