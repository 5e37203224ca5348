"""The harness: per cell, build the problem and optimizer, draw starts, compile one
batched program, time it, and collect tidy rows (DESIGN.md sections 4 and 5)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

import optimizers
import problems
from bench import driver, rates, results
from bench.driver import check_tolerance
from optimizers.base import check_count
from problems.base import Problem, make_label


@dataclass(frozen=True)
class CellSpec:
    """What to run: a problem and an optimizer, each by name with parameters."""

    problem: str
    problem_params: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "gd"
    optimizer_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    starts: int = 4
    num_steps: int = 500
    gtol: float = 1e-10
    tol: float = 1e-8
    seed: int = 0
    precision: str = "float64"

    def __post_init__(self) -> None:
        check_count("starts", self.starts)
        check_count("num_steps", self.num_steps)
        check_tolerance("gtol", self.gtol)
        check_tolerance("tol", self.tol)
        if self.precision not in ("float64", "float32"):
            raise ValueError(
                f"precision must be float64 or float32, got {self.precision!r}"
            )


@dataclass(frozen=True)
class Cell:
    """A prepared cell: the built problem and either our optimizer or a peer's name."""

    problem: Problem
    optimizer: str  # registry or peer name
    params: dict[str, Any]  # full hyperparameters (defaults filled in)
    opt: optimizers.Optimizer | None  # None for a peer

    @property
    def config(self) -> str:
        return make_label(self.optimizer, self.params)

    @property
    def source(self) -> str:
        return self.optimizer.split(":")[0] if self.opt is None else "optbench"


def prepare(specs: list[CellSpec]) -> list[Cell]:
    """Build every problem and optimizer; ValueError on a bad name or value. No I/O."""
    if not specs:
        raise ValueError(
            "nothing to run: the selection has no (problem, optimizer) cell"
        )
    cells: dict[tuple[str, str], Cell] = {}
    for spec in specs:
        try:
            cell = _build(spec)
        except (TypeError, OverflowError) as exc:  # e.g. n="abc": a bad value too
            raise ValueError(" ".join(str(exc).split())) from None
        # two spellings of one cell (rosenbrock, rosenbrock[n=2]) run once
        cells.setdefault((cell.problem.label, cell.config), cell)
    return list(cells.values())


def _build(spec: CellSpec) -> Cell:
    problem = problems.get(spec.problem, **spec.problem_params)
    if ":" in spec.optimizer:
        from bench import peers

        peers.check_peer(spec.optimizer, spec.optimizer_params)
        params = {**peers.peer_defaults(spec.optimizer), **spec.optimizer_params}
        return Cell(problem, spec.optimizer, params, None)
    opt = optimizers.get(spec.optimizer, **spec.optimizer_params)
    return Cell(problem, spec.optimizer, dict(opt.params), opt)


def starting_points(problem: Problem, k: int, seed: int) -> np.ndarray:
    """Row 0 is the problem's standard x0; the others perturb it by
    0.1 max(1, |x0_i|) N(0, 1) per coordinate. The draw depends on the seed and the
    problem label only, so every optimizer on a problem gets the same starts."""
    x0 = np.asarray(problem.x0, dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(problem.label.encode())])
    noise = rng.standard_normal((k - 1, x0.size)) * 0.1 * np.maximum(1.0, np.abs(x0))
    return np.vstack([x0, x0 + noise])


def _status(diverged: bool, grad_norm: float, done: bool, gtol: float) -> str:
    if diverged:
        return "diverged"
    if grad_norm <= gtol:
        return "converged"
    return "stalled" if done else "max_steps"


def _run_ours(cell: Cell, x0s: np.ndarray, s: Settings) -> dict[str, Any]:
    """One batched fixed-length program for the trace; the stopping variant, per
    start, for time to tolerance.

    Both times have the dispatch cost of one call taken out: a call of the stopping
    program that takes no step (target +inf) costs ~17 us here, more than a whole
    BFGS solve of Rosenbrock (~4 us), and would otherwise be what profiles rank."""
    p, opt = cell.problem, cell.opt
    xs = jnp.asarray(x0s, dtype=p.x0.dtype)
    starts = [xs[j] for j in range(len(x0s))]  # sliced once: a slice is a dispatch too
    record_path = p.dim == 2
    exe, compile_s = driver.compiled(
        "scan", p, opt, s.num_steps, xs, batched=True, record_path=record_path
    )
    until, until_compile_s = driver.compiled(
        "until", p, opt, s.num_steps, starts[0], batched=False
    )
    compile_s += until_compile_s
    gtol = jnp.asarray(s.gtol, xs.dtype)
    never = jnp.asarray(np.inf, xs.dtype)
    dispatch_s = driver.median_seconds(lambda: until(starts[0], gtol, never))
    batch_s = driver.median_seconds(lambda: exe(xs, gtol))
    tr = jax.tree.map(np.asarray, exe(xs, gtol))
    run_s = max(batch_s - dispatch_s, 0.0) / len(x0s)

    time_to_tol = [np.nan] * len(x0s)
    if p.f_star is not None:  # unknown f*: the target is only known after the run
        target = jnp.asarray(
            p.f_star + results.solved_threshold(p.f_star, s.tol), xs.dtype
        )
        for j, x0 in enumerate(starts):
            if bool(until(x0, gtol, target)[3]):
                t = driver.median_seconds(lambda x0=x0: until(x0, gtol, target))
                time_to_tol[j] = max(t - dispatch_s, 0.0)

    per_start = []
    for j in range(len(x0s)):
        done = tr.done[j]
        n = int(np.argmax(done)) if done.any() else s.num_steps
        rows = slice(0, n + 1)
        per_start.append(
            {
                "f": tr.f[j, rows],
                "grad_norm": tr.grad_norm[j, rows],
                "step_size": tr.step_size[j, rows],
                "nfev": tr.nfev[j, rows],
                "njev": tr.njev[j, rows],
                "nhev": tr.nhev[j, rows],
                # steady-state per-step cost of this run, times the step number
                "time_s": np.arange(n + 1) * run_s / s.num_steps,
                "path": tr.path[j, rows] if record_path else None,
                "status": _status(
                    bool(tr.diverged[j, -1]), tr.grad_norm[j, n], bool(done[-1]), s.gtol
                ),
            }
        )
    return {
        "per_start": per_start,
        "compile_s": compile_s,
        "run_s": [run_s] * len(x0s),
        "time_to_tol_s": time_to_tol,
    }


def _run_peer(cell: Cell, x0s: np.ndarray, s: Settings) -> dict[str, Any]:
    from bench import peers

    pr = peers.run_peer(
        cell.problem, cell.optimizer, cell.params, x0s, s.num_steps, s.gtol, s.tol
    )
    # the iterates are the contour plots' path (2-D problems only; not stored else)
    per_start = [
        {
            **{k: v for k, v in tr.items() if k != "x"},
            "path": tr["x"] if cell.problem.dim == 2 else None,
            "status": pr.status[j],
        }
        for j, tr in enumerate(pr.traces)
    ]
    return {
        "per_start": per_start,
        "compile_s": pr.compile_s,
        "run_s": list(pr.run_s),
        "time_to_tol_s": list(pr.time_to_tol_s),
    }


def run_cell(cell: Cell, s: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one cell over all starts; its rows of runs.parquet and traces.parquet."""
    p = cell.problem
    x0s = starting_points(p, s.starts, s.seed)
    out = (_run_peer if cell.opt is None else _run_ours)(cell, x0s, s)
    ident = {"problem": p.label, "optimizer": cell.optimizer, "config": cell.config}
    run_rows, trace_frames = [], []
    for j, tr in enumerate(out["per_start"]):
        n_rows = len(tr["f"])
        run_rows.append(
            {
                **ident,
                "problem_name": p.name,
                "problem_params": json.dumps(p.params, sort_keys=True),
                "dim": p.dim,
                "optimizer_params": json.dumps(cell.params, sort_keys=True),
                "lr": float(cell.params.get("lr", np.nan)),
                "source": cell.source,
                "start": j,
                "status": tr["status"],
                "f_star": np.nan if p.f_star is None else p.f_star,
                "f_star_known": p.f_star is not None,
                "final_f": float(tr["f"][-1]),
                "final_grad_norm": float(tr["grad_norm"][-1]),
                "n_steps": n_rows - 1,
                "nfev": int(tr["nfev"][-1]),
                "njev": int(tr["njev"][-1]),
                "nhev": int(tr["nhev"][-1]),
                "rate_theory": rates.theoretical_rate(
                    p.name, p.params, cell.optimizer, cell.params
                ),
                "compile_s": out["compile_s"],
                "run_s": out["run_s"][j],
                "time_to_tol_s": out["time_to_tol_s"][j],
                "num_steps": s.num_steps,
                "gtol": s.gtol,
                "tol": s.tol,
            }
        )
        path = tr["path"]
        trace_frames.append(
            pd.DataFrame(
                {
                    **ident,
                    "start": j,
                    "step": np.arange(n_rows),
                    "f": tr["f"],
                    "grad_norm": tr["grad_norm"],
                    "step_size": tr["step_size"],
                    "nfev": tr["nfev"],
                    "njev": tr["njev"],
                    "nhev": tr["nhev"],
                    "time_s": tr["time_s"],
                    "x0": np.nan if path is None else path[:, 0],
                    "x1": np.nan if path is None else path[:, 1],
                }
            )
        )
    runs = pd.DataFrame(run_rows)
    traces = pd.concat(trace_frames, ignore_index=True)
    # gap columns are NaN for now where f* is unknown: see _with_best_f_star
    return results.derive(runs, traces, s.tol)


def _with_best_f_star(runs: pd.DataFrame, traces: pd.DataFrame, tol: float):
    """Where a problem has no published f*, use the best f any run reached on it in
    these tables (More & Wild 2009) and derive those runs' gap columns again."""
    unknown = ~runs["f_star_known"].astype(bool)
    if not unknown.any():
        return runs, traces
    in_unknown = traces["problem"].isin(set(runs.loc[unknown, "problem"]))
    best = traces[in_unknown].groupby("problem")["f"].min()
    sub = runs[unknown].assign(f_star=lambda r: r["problem"].map(best))
    sub, sub_traces = results.derive(sub, traces[in_unknown], tol)
    runs, traces = runs.copy(), traces.copy()
    runs.loc[unknown] = sub.set_axis(runs.index[unknown]).to_numpy()
    traces.loc[in_unknown, "gap"] = sub_traces["gap"].to_numpy()
    return runs, traces


def run(
    cells: list[Cell],
    settings: Settings,
    out_dir: Path,
    suite: str,
    command: list[str],
    progress: bool = True,
) -> pd.DataFrame:
    """Run every cell, writing the tables after each one (a crash keeps what finished).

    A cell that raises is recorded as failed in the manifest and the run goes on;
    Ctrl-C stops the run, marks the manifest "interrupted" and re-raises.
    """
    with results.one_blas_thread():  # before the manifest, which records it
        return _run(cells, settings, Path(out_dir), suite, command, progress)


def _run(cells, settings, out_dir, suite, command, progress) -> pd.DataFrame:
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = results.manifest(command, suite, asdict(settings))
    results.write_json(meta, out_dir / "manifest.json")
    all_runs: list[pd.DataFrame] = []
    all_traces: list[pd.DataFrame] = []

    def save(status: str | None = None) -> pd.DataFrame:
        runs = pd.concat(all_runs, ignore_index=True) if all_runs else pd.DataFrame()
        if all_runs:
            traces = pd.concat(all_traces, ignore_index=True)
            runs, traces = _with_best_f_star(runs, traces, settings.tol)
            results.write_parquet(runs, out_dir / "runs.parquet")
            results.write_parquet(traces, out_dir / "traces.parquet")
        meta["platform"]["compiles_without_options"] = driver.FALLBACK_COMPILES["count"]
        if status is not None:
            meta.update(status=status, finished=results.now())
        results.write_json(meta, out_dir / "manifest.json")
        return runs

    with _progress(progress, len(cells)) as advance:
        try:
            for i, cell in enumerate(cells):
                label = f"{cell.problem.label} x {cell.config}"
                advance(i, label)
                entry = {"problem": cell.problem.label, "config": cell.config}
                try:
                    runs, traces = run_cell(cell, settings)
                except Exception as exc:  # noqa: BLE001  (a failed cell must not end the run)
                    message = " ".join(f"{type(exc).__name__}: {exc}".split())
                    entry.update(status="failed", error=message)
                else:
                    all_runs.append(runs)
                    all_traces.append(traces)
                    entry.update(status="done", error=None)
                meta["cells"].append(entry)
                save()
            advance(len(cells), "done")
        except KeyboardInterrupt:
            save("interrupted")
            raise
    return save("complete")


class _progress:
    """A rich progress bar (cell i/N, label, ETA) or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total

    def __enter__(self) -> Callable[[int, str], None]:
        if not self.enabled:
            return lambda i, label: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("cell"),
            MofNCompleteColumn(),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            transient=False,
        )
        self.bar.start()
        task = self.bar.add_task("", total=self.total)
        return lambda i, label: self.bar.update(task, completed=i, description=label)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()
