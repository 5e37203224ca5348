"""Peer speed benchmark: our compiled programs against scipy, optimistix and optax.

    python -m bench.speed             # full run, a few minutes on 2 cores
    python -m bench.speed --quick     # smoke run: few starts, steps and repeats
    python -m bench.speed --json out.json
    python -m bench.speed.memory      # peak RSS: 10,000 starts x 1,000 steps, thinned

Everything is measured side by side in this one process (``bench.speed.clock``: the
calls compared are timed in interleaved rounds, each sample lasts a few
milliseconds, dispatch included, and the median over rounds is reported beside the
minimum). Everything is compiled and run once before timing; compile seconds are
reported apart. Peers run as a user runs them: scipy on numpy functions, the JAX
peers as ``jax.jit`` functions compiled with XLA's defaults; our programs are the
driver's (``driver.program``), compiled with ``bench.xla.OPTIONS``. Every call, ours
and the peers', gets its starts as NumPy arrays, transferred in the call.

Measurements (targets in brackets; ratio = peer time / our time unless stated):

1. BFGS on rosenbrock n=2 from the standard start to ||g|| <= 1e-8: the program
   ``bench.solve`` runs, and ``bench.solve`` itself, against
   ``scipy.optimize.minimize(method="BFGS")`` [>= 50] and ``jax.jit`` of
   ``optimistix.minimise`` with BFGS at a tolerance that reaches the same ||g|| [>= 1].
2. The same from 1000 random starts in one batch: the program ``bench.solve_batch``
   runs (and the whole call) against a scipy loop (100 starts timed, scaled) [>= 300]
   and ``jax.jit(jax.vmap(optimistix.minimise ...))`` [>= 1].
2b. The same with L-BFGS (memory 10) against optimistix's LBFGS, vmapped [>= 1].
3. Adam, 10,000 steps with the full per-step trace (``bench.solve``) against a bare
   ``optax.adam`` ``lax.scan`` recording f [ours / optax <= 1.5].
4. An lr grid, adam x 8 lrs x 8 starts on rosenbrock: programs compiled [exactly 1]
   and time per run, one lr per call / the grid in one call [>= 1].
5. ``quadratic[kappa=[10,100,1000,10000]]`` x bfgs, the instances' data as lanes:
   programs compiled [exactly 1].
6. Compile seconds per program family as the runner compiles it [median < 1 s].

``main`` returns a dict holding every number printed (``--json`` writes it).
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from typing import Any

import bench  # noqa: F401  (turns on float64 before any array exists)
from bench import provenance, xla
from bench.speed.bfgs import GTOL, MAX_STEPS, bench_batch, bench_bfgs_single
from bench.speed.clock import cpu_model, fmt_s, loadavg
from bench.speed.sweeps import bench_adam, bench_compile, bench_kappa, bench_lr_grid

__all__ = ["GTOL", "MAX_STEPS", "main"]

# the timed sections and the optimizer each one runs
SECTIONS = {
    "bfgs_single": "bfgs",
    "bfgs_batch": "bfgs",
    "lbfgs_batch": "lbfgs",
    "adam": "adam",
    "lr_grid": "adam",
    "kappa": "bfgs",
}


def _targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []

    def row(
        name: str,
        r: dict | float,
        op: str,
        goal: float,
        unit: str = "x",
        beside: str = "",
    ) -> None:
        value = r["median"] if isinstance(r, dict) else float(r)
        if isinstance(r, dict):
            beside = f"{r['num']} {fmt_s(r['num_s'])}, {r['den']} {fmt_s(r['den_s'])}"
        met = {
            ">=": value >= goal,
            "<=": value <= goal,
            "<": value < goal,
            "==": value == goal,
        }[op]
        rows.append(
            {
                "target": name,
                "value": value,
                "op": op,
                "goal": goal,
                "unit": unit,
                "met": bool(met),
                "times": beside,
            }
        )

    s, b, a = res["bfgs_single"]["ratios"], res["bfgs_batch"], res["adam"]["ratios"]
    g, k, n = res["lr_grid"], res["kappa"], b["starts"]
    row("BFGS 1 start: scipy / ours", s["scipy/ours"], ">=", 50)
    row("BFGS 1 start: optimistix / ours", s["optimistix/ours"], ">=", 1)
    row(
        f"BFGS {n} starts: scipy loop / ours",
        b["ratios"]["scipy_loop_scaled/ours"],
        ">=",
        300,
    )
    row(
        f"BFGS {n} starts: optimistix vmap / ours",
        b["ratios"]["optimistix_vmap/ours"],
        ">=",
        1,
    )
    row(
        f"BFGS {n} starts: optimistix vmap / bench.solve_batch",
        b["ratios"]["optimistix_vmap/ours_solve_batch"],
        ">=",
        1,
    )
    lb = res["lbfgs_batch"]["ratios"]
    row(f"L-BFGS {n} starts: optimistix vmap / ours", lb["optimistix_vmap/ours"],
        ">=", 1)  # fmt: skip
    row(
        f"L-BFGS {n} starts: optimistix vmap / bench.solve_batch",
        lb["optimistix_vmap/ours_solve_batch"],
        ">=",
        1,
    )
    row(
        f"Adam {res['adam']['steps']} steps: bench.solve / optax",
        a["ours_solve/optax_bare"],
        "<=",
        1.5,
    )
    row(
        "lr grid 8x8: programs compiled",
        g["programs_compiled"],
        "==",
        1,
        "",
        f"{g['runner_families']} runner family",
    )
    row(
        "lr grid 8x8: per run, one lr per call / grid",
        g["ratios"]["one_lr_at_a_time/batched_grid"],
        ">=",
        1,
    )
    row(
        "kappa sweep: programs compiled",
        k["programs_compiled"],
        "==",
        1,
        "",
        f"{k['runner_families']} runner family",
    )
    row(
        "compile: median seconds per family",
        res["compile"]["median_family_s"],
        "<",
        1.0,
        " s",
    )
    return rows


def _fast_paths(res: dict[str, Any]) -> tuple[dict[str, bool], dict[str, bool]]:
    """Whether each of our programs is on XLA's fast path, and per optimizer whether
    all of its programs are."""
    fast, by_opt = {}, {}
    rows = [
        (f"{sec}:{name}", opt, v)
        for sec, opt in SECTIONS.items()
        for name, v in res[sec]["fast_path"].items()
    ]
    rows += [
        (f"compile:{r['family']} ({kind})", r["optimizer"], v)
        for r in res["compile"]["families"]
        for kind, v in r["fast_path"].items()
    ]
    for name, opt, v in rows:
        fast[name] = v
        by_opt[opt] = by_opt.get(opt, True) and v
    return fast, by_opt


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
    cfg = ap.parse_args(argv)
    quick = cfg.quick
    if cfg.repeats is None:
        cfg.repeats = 3 if quick else 15
    if cfg.starts is None:
        cfg.starts = 32 if quick else 1000
    cfg.min_sample_s = 0.002 if quick else 0.02
    cfg.scipy_subset = min(cfg.starts, 4 if quick else 100)
    cfg.adam_steps = 500 if quick else 10_000
    cfg.gtol = GTOL
    cfg.grid_starts = 8
    cfg.grid_steps = 200 if quick else 2000
    cfg.kappa_starts = 2 if quick else 8
    cfg.kappa_steps = 200
    cfg.compile_steps = 50 if quick else 500
    cfg.compile_starts = 4  # the runner's default
    return cfg


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print it, and return every measured number."""
    cfg = _parse(argv)
    with provenance.one_blas_thread():  # as in the runner: fair to scipy on tiny arrays
        return _main(cfg)


def _header(cfg: argparse.Namespace, env: dict[str, Any], log) -> None:
    v = env["versions"]
    log("optbench peer speed benchmark" + (" (quick mode)" if cfg.quick else ""))
    log(
        f"CPU: {env['cpu_model']}, {env['cpu_count']} cores ({env['cpus_usable']} "
        f"usable), load average {env['loadavg_start']}; devices {env['jax_devices']}"
    )
    log(
        f"jax {v['jax']}, jaxlib {v['jaxlib']}, numpy {v['numpy']}, scipy "
        f"{v['scipy']}, optax {v['optax']}, optimistix {v['optimistix']}, python "
        f"{v['python']}; numpy BLAS {env['numpy_blas']}, {env['blas_threads']} "
        f"thread(s); threads: {env['thread_env']}"
    )
    log(
        f"our XLA options: {env['our_compiler_options']}; peers: XLA defaults; "
        f"persistent cache: {env['jax_compilation_cache_dir']}"
    )
    log(
        f"timing: {cfg.repeats} interleaved rounds, >= {cfg.min_sample_s * 1e3:g} ms "
        "per sample, dispatch included, median over rounds; ratio lines: median of "
        "per-round ratios (of minima), then num / den median times"
    )
    log("")


def _main(cfg: argparse.Namespace) -> dict[str, Any]:
    def log(line: str) -> None:
        print(line, flush=True)

    t_start = time.perf_counter()
    counts0 = dict(xla.COUNTS)
    env = provenance.environment()
    env["cpu_model"] = cpu_model()
    _header(cfg, env, log)
    res: dict[str, Any] = {"environment": env, "config": dict(vars(cfg))}
    for name, fn in (
        ("bfgs_single", bench_bfgs_single),
        ("bfgs_batch", bench_batch),
        ("lbfgs_batch", functools.partial(bench_batch, method="lbfgs")),
        ("adam", bench_adam),
        ("lr_grid", bench_lr_grid),
        ("kappa", bench_kappa),
        ("compile", bench_compile),
    ):
        res[name] = fn(cfg, log)
        log("")
    res["fast_path"], by_opt = _fast_paths(res)
    res["fast_path_by_optimizer"] = by_opt
    # our programs compiled without OPTIONS, or off the fast path, in this run
    res["xla_counts"] = {k: v - counts0[k] for k, v in xla.COUNTS.items()}
    res["targets"] = _targets(res)
    log(f"Summary on {env['cpu_model']} (ratio = peer / ours unless stated)")
    for r in res["targets"]:
        value = f"{r['value']:.2f}{r['unit']}" if r["op"] != "==" else f"{r['value']:g}"
        goal = f"{r['op']} {r['goal']:g}{r['unit']}"
        log(
            f"  {r['target']:<50s} {value:>9s}  target {goal:<8s} "
            f"{'met   ' if r['met'] else 'MISSED'}  {r['times']}"
        )
    log(f"targets met: {sum(r['met'] for r in res['targets'])}/{len(res['targets'])}")
    off = [name for name, v in res["fast_path"].items() if not v]
    log(f"our programs off XLA's fast path: {', '.join(off) if off else 'none'}")
    env["loadavg_end"] = loadavg()
    res["wall_s"] = time.perf_counter() - t_start
    log(f"load average at end {env['loadavg_end']}; wall time {res['wall_s']:.0f} s")
    if cfg.json:
        with open(cfg.json, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
    return res
