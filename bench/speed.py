"""Peer speed benchmark: our compiled programs against scipy, optimistix and optax.

    python -m bench.speed             # full run, about 2-3 minutes on 2 cores
    python -m bench.speed --quick     # smoke run: few starts, steps and repeats
    python -m bench.speed --json out.json

Every comparison is measured side by side in this one process: the calls being
compared are timed in interleaved rounds (the order rotates each round, so drifting
load from other processes hits all of them alike), each sample repeats a call until it
has run for a few milliseconds, results are blocked on, and the median over rounds is
reported. Everything is compiled and run once before timing; compile time is reported
separately. Peers run as a user would run them: scipy on plain numpy functions, the
JAX peers as ``jax.jit`` functions compiled with XLA's default options, while our
programs are compiled by ``bench.driver.compiled`` with ``driver.COMPILER_OPTIONS``.

Measurements (targets in brackets):

1. BFGS on rosenbrock n=2 from the standard start, ||g|| <= 1e-8: our stopping
   ("until") program and the fixed-length scan of just enough steps, against
   ``scipy.optimize.minimize(method="BFGS")`` with the analytic numpy gradient
   [scipy / ours >= 50] and ``optimistix.BFGS`` at a comparable tolerance
   [optimistix / ours >= 1].
2. The same from 1000 random starts (x0 + U[-1, 1]^2, seed 0): our batched programs
   against a Python loop of scipy [>= 300] and ``jax.vmap`` of optimistix [>= 1].
3. Adam, 10,000 steps with our full per-step trace (``bench.solve``) against a bare
   ``optax.adam`` ``lax.scan`` that records only f [ours / optax <= 1.5].
4. Compile time per (problem, optimizer) cell, the programs the runner compiles
   [median < 1 s].

Ratios are "peer time / our time" (> 1: we are faster) except for Adam, where the ratio
is "our time / optax time" as the target is phrased. The returned dict (``main``) holds
every number printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import bench  # noqa: F401  (turns on float64 before any array exists)
import optimizers
import problems
from bench import driver, results

GTOL = 1e-8
MAX_STEPS = 1000  # budget of the stopping programs; BFGS needs about 40 steps
SEED = 0
OURS = ("ours_until", "ours_scan")
OPTX_TOLS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12)  # loosest first: _pick_optx_tol


# ---------------------------------------------------------------------------- timing


def _sample(call: Callable[[], Any], number: int) -> float:
    """Seconds per call, over ``number`` back-to-back calls, each blocked on."""
    t0 = time.perf_counter()
    for _ in range(number):
        jax.block_until_ready(call())
    return (time.perf_counter() - t0) / number


def side_by_side(
    calls: dict[str, Callable[[], Any]], repeats: int, min_sample_s: float
) -> dict[str, dict[str, float]]:
    """Time ``calls`` in ``repeats`` interleaved rounds; per call: the seconds per
    call in each round, their median and minimum, and the calls per sample."""
    number = {}
    for name, call in calls.items():
        jax.block_until_ready(call())  # warm-up (compiled already; caches, allocator)
        t = _sample(call, 1)
        number[name] = int(min(10_000, max(1, min_sample_s / max(t, 1e-7))))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(_sample(calls[name], number[name]))
    return {
        name: {
            "median_s": statistics.median(s),
            "min_s": min(s),
            "calls_per_sample": number[name],
            "samples_s": s,
        }
        for name, s in samples.items()
    }


def ratio(t: dict[str, dict[str, Any]], num: str, den: str) -> dict[str, float]:
    """``num`` time / ``den`` time: the median over rounds of the ratio within a round
    (the two were timed moments apart, so load that drifts between rounds cancels),
    and the ratio of the minima."""
    pairs = zip(t[num]["samples_s"], t[den]["samples_s"], strict=True)
    per_round = [a / b for a, b in pairs]
    return {
        "median": statistics.median(per_round),
        "of_minima": t[num]["min_s"] / t[den]["min_s"],
    }


def _fmt_s(seconds: float) -> str:
    if not np.isfinite(seconds):
        return str(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.3f} {unit:2s}"
    return f"{seconds / 1e-9:8.1f} ns"


def _fast_path(exe: Any) -> bool:
    """Whether XLA:CPU compiled a while loop of this executable into one kernel."""
    try:
        return "xla_cpu_small_call" in exe.as_text()
    except Exception:  # as_text is informational only
        return False


@contextlib.contextmanager
def _driver_options(options: dict[str, Any]) -> Iterator[None]:
    """Compile our programs with other XLA options (an ablation), without reusing or
    polluting the driver's cache of compiled programs."""
    saved_options, saved_cache = driver.COMPILER_OPTIONS, dict(driver._COMPILED)
    driver.COMPILER_OPTIONS = options
    driver._COMPILED.clear()
    try:
        yield
    finally:
        driver.COMPILER_OPTIONS = saved_options
        driver._COMPILED.clear()
        driver._COMPILED.update(saved_cache)


# ---------------------------------------------------------------------------- peers


def _optx_program(problem: problems.Problem, tol: float, batched: bool):
    """A fresh jitted ``optx.minimise`` (a new function object each time, so that jax
    never hands back an executable compiled with other options). Returns the iterate,
    the step count and whether it succeeded: what a user reads off a Solution."""
    import optimistix as optx

    solver = optx.BFGS(rtol=tol, atol=tol)

    def fn(y, args):
        return problem.f(y)

    def solve(y0):
        sol = optx.minimise(fn, solver, y0, max_steps=MAX_STEPS, throw=False)
        return sol.value, sol.stats["num_steps"], sol.result == optx.RESULTS.successful

    return jax.jit(jax.vmap(solve) if batched else solve)


def _optx_converged(problem: problems.Problem, ys: jax.Array) -> int:
    """How many optimistix solutions have ||g|| <= GTOL (ys: (dim,) or (k, dim))."""
    g = jax.vmap(problem.grad)(jnp.atleast_2d(ys))
    return int(jnp.sum(jnp.linalg.norm(g, axis=1) <= GTOL))


def _pick_optx_tol(problem: problems.Problem, xs: jax.Array, need: int) -> float:
    """The loosest rtol = atol in OPTX_TOLS at which optimistix, which stops on small
    changes in y and f rather than on ||g||, ends with ||g|| <= GTOL from at least
    ``need`` of the starts ``xs`` (one start: shape (dim,)), as ours and scipy do."""
    for tol in OPTX_TOLS:
        ys, _, _ = _optx_program(problem, tol, batched=xs.ndim == 2)(xs)
        if _optx_converged(problem, ys) >= need:
            return tol
    return OPTX_TOLS[-1]


def _scipy_bfgs(x: np.ndarray):
    import scipy.optimize as so

    return so.minimize(
        so.rosen,
        x,
        jac=so.rosen_der,
        method="BFGS",
        options={"gtol": GTOL, "norm": 2},
    )


# ----------------------------------------------------------------------- benchmarks


def bench_bfgs_single(cfg: argparse.Namespace, log: Callable[[str], None]) -> dict:
    import scipy.optimize as so

    p, opt = problems.get("rosenbrock", n=2), optimizers.get("bfgs")
    x0 = p.x0
    gtol = jnp.asarray(GTOL, x0.dtype)
    no_target = jnp.asarray(-jnp.inf, x0.dtype)  # stop on ||g|| only

    until, until_c = driver.compiled("until", p, opt, MAX_STEPS, x0, batched=False)
    k, _, counts, _ = until(x0, gtol, no_target)
    k = int(k)
    scan, scan_c = driver.compiled("scan", p, opt, k, x0, batched=False)
    tr = scan(x0, gtol)
    ours_g = float(tr.grad_norm[-1])
    assert bool(tr.done[-1]) and ours_g <= GTOL, "our BFGS did not converge"

    x0n = np.asarray(x0)
    res = _scipy_bfgs(x0n)
    scipy_g = float(np.linalg.norm(so.rosen_der(res.x)))

    tol = 1e-8 if cfg.quick else _pick_optx_tol(p, x0, need=1)
    optx_fn = _optx_program(p, tol, batched=False)
    t0 = time.perf_counter()
    y, optx_steps, optx_ok = jax.block_until_ready(optx_fn(x0))
    optx_c = time.perf_counter() - t0
    optx_g = float(jnp.linalg.norm(p.grad(y)))

    calls = {
        "ours_until": lambda: until(x0, gtol, no_target),
        "ours_scan": lambda: scan(x0, gtol),
        "ours_solve": lambda: bench.solve(p, opt, num_steps=k, gtol=GTOL),
        "scipy": lambda: _scipy_bfgs(x0n),
        "optimistix": lambda: optx_fn(x0),
    }
    fast = {
        "ours_until": _fast_path(until),
        "ours_scan": _fast_path(scan),
        "optimistix": _fast_path(optx_fn.lower(x0).compile()),
    }
    if cfg.ablation:  # the same programs without our XLA options, and vice versa
        with _driver_options({}):
            until_d, _ = driver.compiled("until", p, opt, MAX_STEPS, x0, batched=False)
        calls["ours_until_xla_default"] = lambda: until_d(x0, gtol, no_target)
        fast["ours_until_xla_default"] = _fast_path(until_d)
        optx_o = driver._compile(
            _optx_program(p, tol, batched=False).lower(x0), driver.COMPILER_OPTIONS
        )
        calls["optimistix_our_xla_options"] = lambda: optx_o(x0)
        fast["optimistix_our_xla_options"] = _fast_path(optx_o)
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)

    out = {
        "steps": {"ours": k, "scipy_nit": int(res.nit), "optimistix": int(optx_steps)},
        "nfev": {"ours": int(counts[0]), "scipy": int(res.nfev)},
        "final_grad_norm": {"ours": ours_g, "scipy": scipy_g, "optimistix": optx_g},
        "optimistix_tol": tol,
        "optimistix_ok": bool(optx_ok),
        "compile_s": {"ours_until": until_c, "ours_scan": scan_c, "optx": optx_c},
        "times": t,
        "fast_path": fast,
    }
    pairs = [(peer, ours) for peer in ("scipy", "optimistix") for ours in OURS]
    if cfg.ablation:
        pairs += [
            ("ours_until_xla_default", "ours_until"),
            ("optimistix_our_xla_options", "ours_until"),
        ]
    out["ratios"] = {f"{a}/{b}": ratio(t, a, b) for a, b in pairs}

    log("1. BFGS, rosenbrock n=2, x0=(-1.2, 1), ||g|| <= 1e-8, one start")
    log(
        f"   steps: ours {k} (nfev {int(counts[0])}), scipy nit {res.nit} "
        f"(nfev {res.nfev}), optimistix {int(optx_steps)} trial steps "
        f"(rtol=atol={tol:g})"
    )
    log(
        f"   final ||g||: ours {ours_g:.1e}, scipy {scipy_g:.1e}, "
        f"optimistix {optx_g:.1e}"
    )
    _log_times(log, t, fast)
    _log_ratios(log, out["ratios"])
    return out


def bench_bfgs_batch(cfg: argparse.Namespace, log: Callable[[str], None]) -> dict:
    import scipy.optimize as so

    p, opt = problems.get("rosenbrock", n=2), optimizers.get("bfgs")
    x0 = np.asarray(p.x0)
    rng = np.random.default_rng(SEED)
    starts = x0 + rng.uniform(-1.0, 1.0, (cfg.starts, x0.size))
    xs = jnp.asarray(starts)
    gtol = jnp.asarray(GTOL, xs.dtype)
    no_target = jnp.asarray(-jnp.inf, xs.dtype)

    until, until_c = driver.compiled("until", p, opt, MAX_STEPS, xs, batched=True)
    ks = np.asarray(until(xs, gtol, no_target)[0])
    steps = int(ks.max())
    scan, scan_c = driver.compiled("scan", p, opt, steps, xs, batched=True)
    tr = scan(xs, gtol)
    ours_conv = int(np.sum(np.asarray(tr.grad_norm[:, -1]) <= GTOL))

    sub = starts[: cfg.scipy_subset]
    scale = cfg.starts / len(sub)
    scipy_conv = sum(
        float(np.linalg.norm(so.rosen_der(_scipy_bfgs(s).x))) <= GTOL for s in sub
    )

    tol = 1e-10 if cfg.quick else _pick_optx_tol(p, xs, need=ours_conv)
    optx_fn = _optx_program(p, tol, batched=True)
    t0 = time.perf_counter()
    ys, _, _ = jax.block_until_ready(optx_fn(xs))
    optx_c = time.perf_counter() - t0
    optx_conv = _optx_converged(p, ys)

    def scipy_loop():
        return [_scipy_bfgs(s) for s in sub]

    calls = {
        "ours_until": lambda: until(xs, gtol, no_target),
        "ours_scan": lambda: scan(xs, gtol),
        "scipy_loop_subset": scipy_loop,
        "optimistix_vmap": lambda: optx_fn(xs),
    }
    fast = {
        "ours_until": _fast_path(until),
        "ours_scan": _fast_path(scan),
        "optimistix_vmap": _fast_path(optx_fn.lower(xs).compile()),
    }
    if cfg.ablation:
        with _driver_options({}):
            until_d, _ = driver.compiled("until", p, opt, MAX_STEPS, xs, batched=True)
        calls["ours_until_xla_default"] = lambda: until_d(xs, gtol, no_target)
        fast["ours_until_xla_default"] = _fast_path(until_d)
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    sub_t = t["scipy_loop_subset"]
    t["scipy_loop_scaled"] = {
        "median_s": sub_t["median_s"] * scale,
        "min_s": sub_t["min_s"] * scale,
        "calls_per_sample": sub_t["calls_per_sample"],
        "samples_s": [v * scale for v in sub_t["samples_s"]],
    }
    pairs = [
        (peer, ours)
        for peer in ("scipy_loop_scaled", "optimistix_vmap")
        for ours in OURS
    ]
    if cfg.ablation:
        pairs.append(("ours_until_xla_default", "ours_until"))
    out = {
        "starts": cfg.starts,
        "scipy_timed_starts": len(sub),
        "scipy_scale": scale,
        "steps_max": steps,
        "steps_median": float(np.median(ks)),
        "converged": {
            "ours": ours_conv,
            "scipy_subset": int(scipy_conv),
            "optimistix": optx_conv,
        },
        "optimistix_tol": tol,
        "compile_s": {"ours_until": until_c, "ours_scan": scan_c, "optx": optx_c},
        "times": t,
        "fast_path": fast,
        "ratios": {f"{a}/{b}": ratio(t, a, b) for a, b in pairs},
    }

    log(f"2. BFGS, rosenbrock n=2, {cfg.starts} starts x0 + U[-1,1]^2 (seed {SEED})")
    log(
        f"   ours: steps median {np.median(ks):.0f}, max {steps} (the scan runs "
        f"{steps}); converged ours {ours_conv}/{cfg.starts}, scipy "
        f"{int(scipy_conv)}/{len(sub)}, optimistix {optx_conv}/{cfg.starts} "
        f"(rtol=atol={tol:g})"
    )
    log(
        f"   scipy: a Python loop over the first {len(sub)} starts, timed and "
        f"scaled linearly by {scale:g} to {cfg.starts} starts"
    )
    _log_times(log, t, fast)
    _log_ratios(log, out["ratios"])
    return out


def bench_adam(cfg: argparse.Namespace, log: Callable[[str], None]) -> dict:
    import optax

    p, opt = problems.get("rosenbrock", n=2), optimizers.get("adam")
    hp = opt.params
    x0, n = p.x0, cfg.adam_steps
    zero = jnp.asarray(0.0, x0.dtype)

    exe, ours_c = driver.compiled("scan", p, opt, n, x0, batched=False)
    tx = optax.adam(hp["lr"], b1=hp["b1"], b2=hp["b2"], eps=hp["eps"])

    def bare(x):
        def body(carry, _):
            x, s = carry
            f, g = jax.value_and_grad(p.f)(x)
            u, s = tx.update(g, s, x)
            return (optax.apply_updates(x, u), s), f

        (x, _), fs = jax.lax.scan(body, (x, tx.init(x)), None, length=n)
        return fs, x

    optax_fn = jax.jit(bare)
    t0 = time.perf_counter()
    _, x_optax = jax.block_until_ready(optax_fn(x0))
    optax_c = time.perf_counter() - t0
    tr = bench.solve(p, opt, num_steps=n, gtol=0.0)
    x_diff = float(jnp.max(jnp.abs(tr.x - x_optax)))

    calls = {
        "ours_solve": lambda: bench.solve(p, opt, num_steps=n, gtol=0.0),
        "ours_program": lambda: exe(x0, zero),
        "optax_bare": lambda: optax_fn(x0),
    }
    fast = {
        "ours_program": _fast_path(exe),
        "optax_bare": _fast_path(optax_fn.lower(x0).compile()),
    }
    if cfg.ablation:
        with _driver_options({}):
            exe_d, _ = driver.compiled("scan", p, opt, n, x0, batched=False)
        calls["ours_program_xla_default"] = lambda: exe_d(x0, zero)
        fast["ours_program_xla_default"] = _fast_path(exe_d)
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    pairs = [("ours_solve", "optax_bare"), ("ours_program", "optax_bare")]
    if cfg.ablation:
        pairs.append(("ours_program_xla_default", "optax_bare"))
    out = {
        "steps": n,
        "params": dict(hp),
        "final_x_max_abs_diff_vs_optax": x_diff,
        "compile_s": {"ours": ours_c, "optax": optax_c},
        "times": t,
        "per_step_s": {name: v["median_s"] / n for name, v in t.items()},
        "fast_path": fast,
        "ratios": {f"{a}/{b}": ratio(t, a, b) for a, b in pairs},
    }

    log(f"3. Adam (lr={hp['lr']:g}), rosenbrock n=2, {n} steps, gtol=0 (never stops)")
    log(
        "   ours: bench.solve, full trace (8 per-step columns, masked); optax: "
        "bare lax.scan recording f only"
    )
    log(f"   final iterates agree with optax to {x_diff:.1e} (max abs difference)")
    _log_times(log, t, fast, per=n, per_label="step")
    _log_ratios(log, out["ratios"])
    return out


def bench_compile(cfg: argparse.Namespace, log: Callable[[str], None]) -> dict:
    """Seconds to compile what the runner compiles for a cell: one batched scan (with
    the path for 2-D problems) and the single-start stopping program."""
    specs = [("rosenbrock", {"n": 2}), ("quadratic", {"dim": 20})]
    if "wood" in problems.names():
        specs.append(("wood", {}))
    opts = ["gd", "adam", "newton", "bfgs", "lbfgs"]
    if cfg.quick:
        specs, opts = specs[:1], ["gd", "bfgs"]
    cells = []
    for name, kw in specs:
        p = problems.get(name, **kw)
        rng = np.random.default_rng(SEED)
        x0 = np.asarray(p.x0)
        xs = jnp.asarray(x0 + 0.1 * rng.standard_normal((cfg.compile_starts, p.dim)))
        for oname in opts:
            opt = optimizers.get(oname)
            n = cfg.compile_steps
            cpu0 = time.process_time()
            scan, scan_c = driver.compiled(
                "scan", p, opt, n, xs, batched=True, record_path=p.dim == 2
            )
            until, until_c = driver.compiled("until", p, opt, n, xs[0], batched=False)
            cells.append(
                {
                    "cell": f"{p.label} x {opt.label}",
                    "scan_s": scan_c,
                    "until_s": until_c,
                    "total_s": scan_c + until_c,
                    # CPU seconds of this process: the work, without waiting for a
                    # core that another process holds
                    "total_cpu_s": time.process_time() - cpu0,
                    "fast_path": [_fast_path(scan), _fast_path(until)],
                }
            )
    totals = [c["total_s"] for c in cells]
    progs = [c["scan_s"] for c in cells] + [c["until_s"] for c in cells]
    out = {
        "cells": cells,
        "median_cell_s": statistics.median(totals),
        "median_cell_cpu_s": statistics.median(c["total_cpu_s"] for c in cells),
        "max_cell_s": max(totals),
        "median_program_s": statistics.median(progs),
        "steps": cfg.compile_steps,
        "starts": cfg.compile_starts,
    }
    log(
        f"4. Compile time per cell, as the runner compiles it: batched scan "
        f"({cfg.compile_starts} starts, {cfg.compile_steps} steps, path for 2-D) + "
        "single-start stopping program"
    )
    for c in cells:
        fp = "/".join("yes" if f else "no" for f in c["fast_path"])
        log(
            f"   {c['cell']:<52s} scan {c['scan_s']:5.2f} s  until "
            f"{c['until_s']:5.2f} s  total {c['total_s']:5.2f} s (CPU "
            f"{c['total_cpu_s']:4.2f} s)  fast path {fp}"
        )
    log(
        f"   median per cell {out['median_cell_s']:.2f} s wall, "
        f"{out['median_cell_cpu_s']:.2f} s CPU (max {out['max_cell_s']:.2f} s "
        f"wall); median per program {out['median_program_s']:.2f} s wall"
    )
    return out


# --------------------------------------------------------------------------- output


def _log_times(
    log: Callable[[str], None],
    t: dict[str, dict[str, float]],
    fast: dict[str, bool],
    per: int | None = None,
    per_label: str = "",
) -> None:
    for name, v in t.items():
        extra = ""
        if per:
            extra = f"  ({_fmt_s(v['median_s'] / per).strip()}/{per_label})"
        fp = ""
        if name in fast:
            fp = f"  XLA fast path: {'yes' if fast[name] else 'no'}"
        log(
            f"   {name:<28s} median {_fmt_s(v['median_s'])}  min "
            f"{_fmt_s(v['min_s'])}{extra}{fp}"
        )


def _log_ratios(log: Callable[[str], None], ratios: dict[str, dict]) -> None:
    for name, r in ratios.items():
        log(
            f"   ratio {name:<46s} {r['median']:8.2f}x  (of minima "
            f"{r['of_minima']:.2f}x)"
        )


def _targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []

    def row(name: str, value: float, op: str, goal: float, unit: str = "x") -> None:
        met = {">=": value >= goal, "<=": value <= goal, "<": value < goal}[op]
        rows.append(
            {"target": name, "value": value, "op": op, "goal": goal, "unit": unit}
        )
        rows[-1]["met"] = bool(met)

    s, b, a = res["bfgs_single"], res["bfgs_batch"], res["adam"]
    row(
        "BFGS 1 start: scipy / ours (until)",
        s["ratios"]["scipy/ours_until"]["median"],
        ">=",
        50,
    )
    row(
        "BFGS 1 start: optimistix / ours (until)",
        s["ratios"]["optimistix/ours_until"]["median"],
        ">=",
        1,
    )
    row(
        f"BFGS {b['starts']} starts: scipy loop / ours (until)",
        b["ratios"]["scipy_loop_scaled/ours_until"]["median"],
        ">=",
        300,
    )
    row(
        f"BFGS {b['starts']} starts: optimistix vmap / ours (until)",
        b["ratios"]["optimistix_vmap/ours_until"]["median"],
        ">=",
        1,
    )
    row(
        f"Adam {a['steps']} steps: ours (bench.solve) / optax",
        a["ratios"]["ours_solve/optax_bare"]["median"],
        "<=",
        1.5,
    )
    row(
        "Compile: median seconds per cell",
        res["compile"]["median_cell_s"],
        "<",
        1.0,
        unit=" s",
    )
    return rows


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench.speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--repeats", type=int, help="interleaved timing rounds")
    ap.add_argument("--starts", type=int, help="random starts in measurement 2")
    ap.add_argument(
        "--no-ablation",
        dest="ablation",
        action="store_false",
        default=None,
        help="skip the rows compiled with other XLA options",
    )
    cfg = ap.parse_args(argv)
    quick = cfg.quick
    defaults = {
        "repeats": 3 if quick else 15,
        "starts": 32 if quick else 1000,
        "ablation": not quick,
    }
    for key, value in defaults.items():
        if getattr(cfg, key) is None:
            setattr(cfg, key, value)
    cfg.min_sample_s = 0.002 if quick else 0.02
    cfg.scipy_subset = min(cfg.starts, 4 if quick else 100)
    cfg.adam_steps = 500 if quick else 10_000
    cfg.compile_steps = 50 if quick else 500
    cfg.compile_starts = 4  # the runner's default
    return cfg


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print it, and return every measured number."""
    cfg = _parse(argv)
    with results.one_blas_thread():  # as in the runner: fair to scipy on tiny arrays
        return _main(cfg)


def _main(cfg: argparse.Namespace) -> dict[str, Any]:

    def log(line: str) -> None:
        print(line, flush=True)

    t_start = time.perf_counter()
    env = results.environment()
    log("optbench peer speed benchmark" + (" (quick mode)" if cfg.quick else ""))
    log(
        f"jax {env['versions']['jax']}, jaxlib {env['versions']['jaxlib']}, numpy "
        f"{env['versions']['numpy']}, scipy {env['versions']['scipy']}, optax "
        f"{env['versions']['optax']}, optimistix {env['versions']['optimistix']}, "
        f"python {env['versions']['python']}"
    )
    log(
        f"CPU: {env['processor']}, {env['cpu_count']} cores ({env['cpus_usable']} "
        f"usable), load average {env['loadavg_start']}; devices {env['jax_devices']}"
    )
    log(
        f"threads: {env['thread_env']}; numpy BLAS {env['numpy_blas']}, "
        f"{env['blas_threads']} thread(s)"
    )
    log(
        f"our XLA compile options: {env['our_compiler_options']}; peers: XLA "
        f"defaults; persistent cache: {env['jax_compilation_cache_dir']}"
    )
    log(
        f"timing: {cfg.repeats} interleaved rounds, >= {cfg.min_sample_s * 1e3:g} ms "
        "per sample, median over rounds (min shown too)"
    )
    log("")
    res: dict[str, Any] = {"environment": env, "config": dict(vars(cfg))}
    res["bfgs_single"] = bench_bfgs_single(cfg, log)
    log("")
    res["bfgs_batch"] = bench_bfgs_batch(cfg, log)
    log("")
    res["adam"] = bench_adam(cfg, log)
    log("")
    res["compile"] = bench_compile(cfg, log)
    log("")

    res["targets"] = _targets(res)
    log("Summary (ratio = peer / ours unless stated)")
    for r in res["targets"]:
        value = f"{r['value']:.2f}{r['unit']}"
        goal = f"{r['op']} {r['goal']:g}{r['unit']}"
        log(
            f"  {r['target']:<48s} {value:>11s}   target {goal:<9s} "
            f"{'met' if r['met'] else 'MISSED'}"
        )
    n_met = sum(r["met"] for r in res["targets"])
    log(f"targets met: {n_met}/{len(res['targets'])}")
    res["environment"]["loadavg_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    res["wall_s"] = time.perf_counter() - t_start
    log(
        f"load average at end {res['environment']['loadavg_end']}; wall time "
        f"{res['wall_s']:.0f} s"
    )
    if cfg.json:
        with open(cfg.json, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
