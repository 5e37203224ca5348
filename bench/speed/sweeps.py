"""Measurements 3 to 6: Adam against a bare optax scan, an lr grid and a kappa sweep
as one program each, and compile seconds per program family.

Program counts are the driver's own (``driver.STATS``; building problems and drawing
starts compile small eager programs too, which are left out), after dropping the
program from the driver's in-process cache (``clock.fresh_program``), so each count
is a compile that happened, not one remembered.
"""

from __future__ import annotations

import argparse
import statistics

import jax
import numpy as np

import bench
import optimizers
import problems
from bench import driver, runner, spec, traces, xla
from bench.speed.clock import (
    Log,
    fresh_program,
    log_ratios,
    log_times,
    ratios,
    side_by_side,
)
from bench.suites import CellSpec

LR_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
KAPPAS = (10, 100, 1000, 10000)
SEED = 0


def bench_adam(cfg: argparse.Namespace, log: Log) -> dict:
    import optax

    p, opt = problems.get("rosenbrock", n=2), optimizers.get("adam")
    hp, n = opt.params, cfg.adam_steps
    prog = fresh_program(p, opt, n, 1, driver.records_path(p))  # what bench.solve runs
    exe = prog["exe"]
    args = driver.args(p, np.asarray(p.x0)[None], opt.hp(), p.data, 0.0)
    tx = optax.adam(hp["lr"], b1=hp["b1"], b2=hp["b2"], eps=hp["eps"])

    def bare(x):
        def body(carry, _):
            x, s = carry
            f, g = jax.value_and_grad(p.f)(x)
            u, s = tx.update(g, s, x)
            return (optax.apply_updates(x, u), s), f

        (x, _), fs = jax.lax.scan(body, (x, tx.init(x)), None, length=n)
        return fs, x

    optax_fn, x0 = jax.jit(bare), np.asarray(p.x0)  # NumPy, as ours: see bfgs.py
    fs, x_optax = jax.block_until_ready(optax_fn(x0))
    tr = bench.solve(p, opt, num_steps=n, gtol=0.0)
    fs = np.asarray(fs)
    f_diff = float(np.max(np.abs(tr.f[:n] - fs) / np.maximum(1.0, np.abs(fs))))
    x_diff = float(np.max(np.abs(tr.x - np.asarray(x_optax))))
    calls = {
        "ours": lambda: exe(args),
        "ours_solve": lambda: bench.solve(p, opt, num_steps=n, gtol=0.0),
        "optax_bare": lambda: optax_fn(x0),
    }
    fast = {"ours": prog["fast_path"]}
    peer_fast = {"optax_bare": xla.on_fast_path(optax_fn.lower(x0).compile())}
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    out = {
        "steps": n,
        "params": dict(hp),
        "final_x_max_abs_diff_vs_optax": x_diff,
        "f_max_rel_diff_vs_optax": f_diff,
        "compile_s": {"ours": prog["compile_s"]},
        "times": t,
        "per_step_s": {name: v["median_s"] / n for name, v in t.items()},
        "fast_path": fast,
        "peer_fast_path": peer_fast,
        "ratios": ratios(t, [("ours_solve", "optax_bare"), ("ours", "optax_bare")]),
    }
    log(f"3. Adam (lr={hp['lr']:g}), rosenbrock n=2, {n} steps, gtol=0 (never stops)")
    log_ratios(log, out["ratios"], "  (ours / optax: <= 1.5 is the target)")
    log(
        "   ours: bench.solve and its one-lane program (full trace: f, ||g||, alpha, "
        "nfev, njev, nhev per step); optax: a bare lax.scan recording f only; "
        f"iterates agree to {x_diff:.1e} (x), {f_diff:.1e} (f, relative)"
    )
    log_times(log, t, fast | peer_fast, per=n, per_label="step")
    return out


def _starts(p, k: int) -> np.ndarray:
    x0 = np.asarray(p.x0)
    return x0 + np.random.default_rng(SEED).uniform(-1, 1, (k, x0.size))


def _cells(problem_spec: str, optimizer_spec: str) -> list[runner.Cell]:
    """The cells the CLI builds for these SPECs (one parse, as ``bench run``)."""
    return runner.prepare(
        [
            CellSpec(pn, pp, on, op)
            for pn, pp in spec.expand(problem_spec)
            for on, op in spec.expand(optimizer_spec)
        ]
    )


def _same(a: traces.Trace, b: traces.Trace) -> bool:
    """Identical step and evaluation counts, and f to rtol 1e-10 (atol 1e-10 f(x0):
    instances' products batched differently round differently near f = 0)."""
    counts = all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("n_steps", "status", "nfev", "njev", "nhev")
    )
    atol = 1e-10 * np.abs(b.f[:, :1])
    return counts and bool(np.all(np.abs(a.f - b.f) <= 1e-10 * np.abs(b.f) + atol))


def _concat(traces: list[traces.Trace]) -> traces.Trace:
    return jax.tree.map(lambda *v: np.concatenate(v), *traces)


def _per_lane(problem, lanes: int):
    """One instance's data as the driver takes it for ``lanes`` lanes."""
    if not driver.batch_data(problem, lanes):
        return problem.data
    return jax.tree.map(lambda v: np.broadcast_to(v, (lanes,) + np.shape(v)),
                        problem.data)  # fmt: skip


def bench_lr_grid(cfg: argparse.Namespace, log: Log) -> dict:
    """8 learning rates x 8 starts as one program, against one call per lr."""
    values = ",".join(repr(v) for v in LR_GRID)
    cells = _cells("rosenbrock", f"adam[lr=[{values}]]")
    p, k, n = cells[0].problem, cfg.grid_starts, cfg.grid_steps
    fams = runner.families(cells)
    keys = {
        driver.program_key(p, c.opt, n, len(cells) * k, False, False) for c in cells
    }
    starts = _starts(p, k)
    lanes = len(cells) * k
    hp = {h: np.repeat([c.opt.params[h] for c in cells], k) for h in cells[0].opt.hyper}
    batch = fresh_program(p, cells[0].opt, n, lanes)
    bargs = driver.args(p, np.tile(starts, (len(cells), 1)), hp, p.data, cfg.gtol)
    one = fresh_program(p, cells[0].opt, n, k)
    oargs = [driver.args(p, starts, c.opt.hp(), p.data, cfg.gtol) for c in cells]
    tb = traces.settle(batch["exe"](bargs))
    same = _same(tb, _concat([traces.settle(one["exe"](a)) for a in oargs]))
    calls = {
        "batched_grid": lambda: batch["exe"](bargs),
        "one_lr_at_a_time": lambda: [one["exe"](a) for a in oargs],
    }
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    fast = {"batched_grid": batch["fast_path"], "one_lr_at_a_time": one["fast_path"]}
    out = {
        "optimizer": "adam",
        "lrs": list(LR_GRID),
        "starts": k,
        "steps": n,
        "runs": lanes,
        "runner_families": len(fams),
        "program_keys": len(keys),
        "programs_compiled": batch["compiled"],
        "programs_compiled_one_at_a_time": one["compiled"],
        "status_counts": _status_counts(tb),
        "matches_one_at_a_time": same,
        "compile_s": {
            "batched_grid": batch["compile_s"],
            "one_lr_at_a_time": one["compile_s"],
        },
        "per_run_s": {name: v["median_s"] / lanes for name, v in t.items()},
        "times": t,
        "fast_path": fast,
        "ratios": ratios(t, [("one_lr_at_a_time", "batched_grid")]),
    }
    log(
        f"4. lr grid: adam, {len(cells)} lrs ({LR_GRID[0]:g} .. {LR_GRID[-1]:g}) x "
        f"{k} starts on rosenbrock, {n} steps, gtol {cfg.gtol:g}"
    )
    log_ratios(log, out["ratios"], "  (per run: same 64 runs; >= 1: batch no slower)")
    log(
        f"   programs: {len(fams)} runner family, {len(keys)} program key, "
        f"{batch['compiled']} compiled for the grid ({one['compiled']} more for the "
        f"one-lr-at-a-time calls); results identical to one lr at a time: {same}; "
        f"status {out['status_counts']}"
    )
    log_times(log, t, fast, per=lanes, per_label="run")
    return out


def _status_counts(tr: traces.Trace) -> dict[str, int]:
    from bench import status

    labels = [status.label(s) for s in tr.status]
    return {s: labels.count(s) for s in sorted(set(labels))}


def bench_kappa(cfg: argparse.Namespace, log: Log) -> dict:
    """quadratic[kappa=[10,100,1000,10000]] x bfgs: one program, data as lanes."""
    kappas = ",".join(str(v) for v in KAPPAS)
    cells = _cells(f"quadratic[kappa=[{kappas}]]", "bfgs")
    fams = runner.families(cells)
    k, n = cfg.kappa_starts, cfg.kappa_steps
    p, opt, lanes = cells[0].problem, cells[0].opt, len(cells) * k
    starts = [_starts(c.problem, k) for c in cells]
    data = jax.tree.map(
        lambda *v: np.repeat(np.stack([np.asarray(a) for a in v]), k, axis=0),
        *[c.problem.data for c in cells],
    )
    batch = fresh_program(p, opt, n, lanes, data_batched=True)
    bargs = driver.args(p, np.concatenate(starts), opt.hp(), data, cfg.gtol)
    one = fresh_program(p, opt, n, k, data_batched=driver.batch_data(p, k))
    oargs = [
        driver.args(c.problem, s, opt.hp(), _per_lane(c.problem, k), cfg.gtol)
        for c, s in zip(cells, starts, strict=True)
    ]
    tb = traces.settle(batch["exe"](bargs))
    same = _same(tb, _concat([traces.settle(one["exe"](a)) for a in oargs]))
    calls = {
        "batched_instances": lambda: batch["exe"](bargs),
        "one_instance_at_a_time": lambda: [one["exe"](a) for a in oargs],
    }
    t = side_by_side(calls, cfg.repeats, cfg.min_sample_s)
    fast = {
        "batched_instances": batch["fast_path"],
        "one_instance_at_a_time": one["fast_path"],
    }
    out = {
        "problem": f"quadratic[kappa=[{kappas}]]",
        "optimizer": opt.label,
        "starts": k,
        "runs": lanes,
        "runner_families": len(fams),
        "programs_compiled": batch["compiled"],
        "status_counts": _status_counts(tb),
        "matches_one_at_a_time": same,
        "compile_s": {"batched_instances": batch["compile_s"]},
        "times": t,
        "fast_path": fast,
        "ratios": ratios(t, [("one_instance_at_a_time", "batched_instances")]),
    }
    log(f"5. instances as data: {out['problem']} x {opt.label}, {k} starts each")
    log_ratios(log, out["ratios"], "  (per run; >= 1: batch no slower)")
    log(
        f"   programs: {len(fams)} runner family, {batch['compiled']} compiled "
        f"(data batched over lanes); results identical to one instance at a time: "
        f"{same}; status {out['status_counts']}"
    )
    log_times(log, t, fast, per=lanes, per_label="run")
    return out


def bench_compile(cfg: argparse.Namespace, log: Log) -> dict:
    """Seconds to compile what the runner compiles for a family of the default starts:
    its one-lane program (with the path for 2-D problems), plus the batched program
    where the family has more than ``families.LANE_BY_LANE`` lanes."""
    from bench.families import LANE_BY_LANE

    specs = [("rosenbrock", {"n": 2}), ("quadratic", {"dim": 20})]
    if "wood" in problems.names():
        specs.append(("wood", {}))
    opts = ["gd", "adam", "newton", "bfgs", "lbfgs"]
    if cfg.quick:
        specs, opts = specs[:1], ["gd", "bfgs"]
    lanes = cfg.compile_starts  # as the runner builds it (data per lane)
    rows = []
    for name, kw in specs:
        p = problems.get(name, **kw)
        path = driver.records_path(p)
        for oname in opts:
            opt = optimizers.get(oname)
            progs = {"one_lane": fresh_program(p, opt, cfg.compile_steps, 1, path)}
            if lanes > LANE_BY_LANE:
                batched = driver.batch_data(p, lanes)
                progs["batched"] = fresh_program(p, opt, cfg.compile_steps, lanes,
                                                 path, batched)  # fmt: skip
            seconds = {f"{k}_s": v["compile_s"] for k, v in progs.items()}
            fast = {k: v["fast_path"] for k, v in progs.items()}
            rows.append({"family": f"{p.label} x {oname}", "optimizer": oname,
                         **seconds, "total_s": sum(seconds.values()),
                         "fast_path": fast})  # fmt: skip
    totals = [r["total_s"] for r in rows]
    out = {
        "families": rows,
        "median_family_s": statistics.median(totals),
        "max_family_s": max(totals),
        "median_program_s": statistics.median(
            [r[f"{k}_s"] for r in rows for k in r["fast_path"]]),
        "steps": cfg.compile_steps,
        "starts": lanes,
        "fast_path": {f"{r['family']} ({kind})": ok
                      for r in rows for kind, ok in r["fast_path"].items()},
    }  # fmt: skip
    what = ("one-lane program (path for 2-D)" if lanes <= LANE_BY_LANE
            else f"batched ({lanes} lanes) + one-lane program")  # fmt: skip
    log(
        f"6. compile seconds per program family: median {out['median_family_s']:.2f} s"
        f" (max {out['max_family_s']:.2f} s; median per program "
        f"{out['median_program_s']:.2f} s), as the runner compiles a family of "
        f"{lanes} starts, {cfg.compile_steps} steps: its {what}"
    )
    for r in rows:
        fp = "/".join("yes" if v else "NO" for v in r["fast_path"].values())
        log(f"     {r['family']:<34s} total {r['total_s']:5.2f} s  fast path {fp}")
    return out
