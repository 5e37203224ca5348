"""Targets of the least-squares and matrix-free methods (printed ratios, not tests).

    python -m bench.speed.second_order [--only lm,hvp,memory,lbfgs] [--n-lbfgs N]

1. ``lm``: on the 35 MGH problems from their standard starts, problems solved to the
   published f* (gap <= 1e-8 max(1, |f*|)) and the median Jacobian evaluations of
   ``levenberg_marquardt`` against ``scipy.optimize.least_squares(method="lm")``
   (through ``bench.peers``: ftol = xtol = gtol = eps) [solved >=, median njac <=].
2. ``hvp``: ``newton_cg`` on extended Rosenbrock n = 10^4 to ||g|| <= 1e-6 against
   ``scipy.optimize.minimize(method="Newton-CG", hessp=...)`` with exact products
   from jax, stopped by a callback at the same ||g|| [products ours / scipy <= 1.5].
3. ``memory``: ``newton_cg`` on extended Rosenbrock n = 10^5 to ||g|| <= 1e-6, run in
   a fresh process: its peak resident memory (jax's own included) [< 1 GB].
4. ``lbfgs``: L-BFGS on extended Rosenbrock n = 10^6 (``--n-lbfgs``): wall seconds
   per iteration of the one-lane program against one jitted value_and_grad
   [per iteration / 10 gradients <= 3; the per-gradient ratio printed beside].
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

import bench  # noqa: F401  (float64 before any array exists)

GTOL = 1e-6
TOL = 1e-8


def bench_lm(log=print) -> dict:
    import optimizers
    import problems
    from bench import peers
    from bench.results import solved_threshold
    from problems.mgh import MGH_NAMES

    opt = optimizers.get("levenberg_marquardt")
    rows = []
    for name in MGH_NAMES:
        p = problems.get(name)
        tr = bench.solve(p, opt, num_steps=500, gtol=1e-12)
        k = int(tr.n_steps)
        pr = peers.run_peer(p, "scipy:least_squares-lm", {}, np.asarray(p.x0)[None],
                            500, 1e-12, TOL)  # fmt: skip
        st = pr.traces[0]
        thr = solved_threshold(p.f_star, TOL) if p.f_star is not None else -np.inf
        fs = p.f_star or 0.0
        rows.append(
            {
                "problem": name,
                "ours_solved": bool(tr.f[k] - fs <= thr),
                "scipy_solved": bool(st["f"][-1] - fs <= thr),
                "ours_njac": int(tr.njac[k]),
                "scipy_njac": int(st["njac"][-1]),
            }
        )
        log(f"  {name:28s} ours {rows[-1]['ours_njac']:4d} J "
            f"{'solved' if rows[-1]['ours_solved'] else '------'}   scipy "
            f"{rows[-1]['scipy_njac']:4d} J "
            f"{'solved' if rows[-1]['scipy_solved'] else '------'}")  # fmt: skip
    both = [r for r in rows if r["ours_solved"] and r["scipy_solved"]]
    out = {
        "ours_solved": sum(r["ours_solved"] for r in rows),
        "scipy_solved": sum(r["scipy_solved"] for r in rows),
        "ours_median_njac": statistics.median(r["ours_njac"] for r in rows),
        "scipy_median_njac": statistics.median(r["scipy_njac"] for r in rows),
        "ours_median_njac_both_solved": statistics.median(r["ours_njac"] for r in both),
        "scipy_median_njac_both_solved": statistics.median(
            r["scipy_njac"] for r in both
        ),
        "problems": rows,
    }
    log(
        f"lm: solved {out['ours_solved']} (ours) vs {out['scipy_solved']} (scipy lm); "
        f"median njac {out['ours_median_njac']} vs {out['scipy_median_njac']} (all), "
        f"{out['ours_median_njac_both_solved']} vs "
        f"{out['scipy_median_njac_both_solved']} (both solved, {len(both)})"
    )  # fmt: skip
    return out


def bench_hvp(n: int = 10_000, log=print) -> dict:
    import jax
    import scipy.optimize

    import optimizers
    import problems

    p = problems.get("extended_rosenbrock", n=n)
    tr = bench.solve(p, optimizers.get("newton_cg"), num_steps=1000, gtol=GTOL)
    k = int(tr.n_steps)
    ours = int(tr.nhvp[k])
    o = p.oracles(p.data)
    f, g = jax.jit(p.f), jax.jit(p.grad)
    hvp = jax.jit(o.hvp)
    count = {"hessp": 0}
    last_g = {}

    def jac(x):
        out = np.asarray(g(x))
        last_g["norm"] = float(np.linalg.norm(out))
        return out

    def hessp(x, v):
        count["hessp"] += 1
        return np.asarray(hvp(x, v))

    def stop(intermediate_result):
        if last_g.get("norm", np.inf) <= GTOL:
            raise StopIteration

    res = scipy.optimize.minimize(
        lambda x: float(f(x)), np.asarray(p.x0), jac=jac, hessp=hessp,
        method="Newton-CG", callback=stop, options={"xtol": 0.0, "maxiter": 1000},
    )  # fmt: skip
    out = {"n": n, "ours_nhvp": ours, "ours_grad_norm": float(tr.grad_norm[k]),
           "ours_steps": k, "scipy_nhvp": count["hessp"], "scipy_nit": int(res.nit),
           "scipy_grad_norm": float(np.linalg.norm(g(res.x))),
           "ratio": ours / max(count["hessp"], 1)}  # fmt: skip
    log(f"hvp: newton_cg n={n}: {ours} products in {k} steps (||g|| "
        f"{out['ours_grad_norm']:.1e}); scipy Newton-CG {count['hessp']} in "
        f"{res.nit} (||g|| {out['scipy_grad_norm']:.1e}); ours / scipy = "
        f"{out['ratio']:.2f}")  # fmt: skip
    return out


_MEMORY_CHILD = """
import resource, sys
import bench, optimizers, problems
p = problems.get("extended_rosenbrock", n=int(sys.argv[1]))
opt = optimizers.get("newton_cg")
tr = bench.solve(p, opt, num_steps=1000, gtol=float(sys.argv[2]))
k = int(tr.n_steps)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(float(tr.grad_norm[k]), k, int(tr.nhvp[k]), peak)
"""


def bench_memory(n: int = 100_000, log=print) -> dict:
    r = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(n), str(GTOL)],
                       capture_output=True, text=True, check=True)  # fmt: skip
    g_norm, k, nhvp, peak = r.stdout.split()
    out = {"n": n, "grad_norm": float(g_norm), "steps": int(k), "nhvp": int(nhvp),
           "peak_rss_bytes": int(peak)}  # fmt: skip
    log(
        f"memory: newton_cg n={n}: ||g|| {float(g_norm):.1e} after {k} steps, "
        f"{nhvp} products; peak RSS {int(peak) / 2**20:.0f} MiB"
    )
    return out


def bench_lbfgs(n: int = 1_000_000, steps: int = 50, log=print) -> dict:
    import jax

    import optimizers
    import problems
    from bench import driver, timing, traces

    p = problems.get("extended_rosenbrock", n=n)
    opt = optimizers.get("lbfgs")
    exe, _ = driver.program(p, opt, steps, 1)
    a = driver.args(p, np.asarray(p.x0)[None], opt.hp(), p.data, 0.0)
    tr = traces.settle(exe(a))
    k = int(tr.n_steps[0])
    njev = int(tr.njev[0, k])
    run_s = timing.wall_seconds(lambda: exe(a), samples=3)
    vg = jax.jit(lambda x: p.value_and_grad(x))
    x = jax.numpy.asarray(tr.x[0])
    grad_s = timing.wall_seconds(lambda: vg(x))
    per_iter = run_s / k
    out = {"n": n, "steps": k, "njev": njev, "run_s": run_s, "per_iter_s": per_iter,
           "grad_s": grad_s, "per_iter_over_grad": per_iter / grad_s,
           "per_iter_over_10_grads": per_iter / (10 * grad_s)}  # fmt: skip
    log(
        f"lbfgs: n={n}: {k} iterations ({njev} gradients) in {run_s:.3f} s: "
        f"{per_iter * 1e3:.2f} ms/iteration; value_and_grad {grad_s * 1e3:.2f} ms; "
        f"per iteration / 1 gradient = {out['per_iter_over_grad']:.2f}, "
        f"/ 10 gradients = {out['per_iter_over_10_grads']:.2f}"
    )
    return out


SECTIONS = {"lm": bench_lm, "hvp": bench_hvp, "memory": bench_memory,
            "lbfgs": bench_lbfgs}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.speed.second_order")
    ap.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections of {', '.join(SECTIONS)}",
    )
    ap.add_argument("--n-lbfgs", type=int, default=1_000_000)
    ap.add_argument("--json", help="write every number to this file")
    a = ap.parse_args(argv)  # fmt: skip
    out = {}
    for name in a.only.split(","):
        if name not in SECTIONS:
            ap.error(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        t0 = time.perf_counter()
        kw = {"n": a.n_lbfgs} if name == "lbfgs" else {}
        out[name] = SECTIONS[name](**kw)
        print(f"  ({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
