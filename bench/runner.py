"""The harness: cells -> families -> one compiled program each -> tidy rows.

A family is every cell whose runs one compiled program can take as lanes: the same
problem family with data of one shape and the same optimizer functions; the lanes are
cells x starts, with each cell's hyperparameters and instance data as arguments. The
family's program runs once for the traces; each start is then timed alone through
the family's one-lane program (docs/schema.md says what each time means). While a
family runs, the next families' programs compile on worker threads; timings are taken
with those threads idle. What to run is built in bench/cells.py, families are formed
and compiled in bench/families.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import driver, rates, results, status, thinning, timing
from bench.cells import Cell, CellSpec, Settings, prepare, starting_points
from bench.families import Compiler, Family, families, tol_target

__all__ = [
    "Cell", "CellSpec", "Settings", "families", "prepare", "run", "starting_points",
]  # fmt: skip

# while a run goes on, its tables are rewritten at most this often (seconds); a run
# that ends, fails or is interrupted writes them at once
SAVE_EVERY_S = 5.0


def _run_family(fam: Family, compiled: tuple[float, bool],
                before_timing: Callable[[], None]):  # fmt: skip
    """The family's tables: one batched run for the traces, then each start timed
    alone through the one-lane program (after ``before_timing``)."""
    s, first = fam.s, fam.first
    n = s.num_steps
    batch, _ = driver.program(first.problem, first.opt, n, fam.lanes,
                              fam.record_path, fam.batched_data, s.trace)  # fmt: skip
    single, _ = driver.program(first.problem, first.opt, n, 1, trace=s.trace)
    bargs = fam.batch_args()
    tr = driver.settle(batch(bargs), n, s.trace)
    before_timing()
    batch_s = timing.wall_seconds(lambda: batch(bargs))
    per_start = []
    for lane in range(fam.lanes):
        i, j = divmod(lane, s.starts)
        p = fam.cells[i].problem
        k = int(tr.n_steps[lane])
        steps = tr.step[lane, : np.searchsorted(tr.step[lane], k) + 1]
        rows = slice(0, len(steps))
        run_args = fam.lane_args(i, j, None)
        run_s = timing.wall_seconds(lambda a=run_args: single(a))
        time_to_tol = np.nan
        at_tol = None  # the driver's record: exact whatever the thinning
        if p.f_star is not None:  # unknown f*: the target is only known after the run
            target = tol_target(p, s.tol)
            at_tol = tr.at_tol[lane]
            if at_tol[0] >= 0:
                tol_args = fam.lane_args(i, j, target)
                if int(single(tol_args).ends[0, 0]) == status.Status.TARGET:
                    time_to_tol = timing.wall_seconds(lambda a=tol_args: single(a))
        per_start.append(
            {
                "step": steps,
                "at_tol": at_tol,
                "f": tr.f[lane, rows],
                "grad_norm": tr.grad_norm[lane, rows],
                "step_size": tr.step_size[lane, rows],
                "nfev": tr.nfev[lane, rows],
                "njev": tr.njev[lane, rows],
                "nhev": tr.nhev[lane, rows],
                # this run's measured wall, spread evenly over its steps
                "time_s": steps * run_s / max(k, 1),
                "path": tr.path[lane, rows] if fam.record_path else None,
                "status": status.label(tr.status[lane]),
                "run_s": run_s,
                "time_to_tol_s": time_to_tol,
                "run_s_batched": batch_s / fam.lanes,
            }
        )
    compile_s, cached, _ = compiled
    share = (compile_s / len(fam.cells), cached)
    return [
        _tables(c, per_start[i * s.starts : (i + 1) * s.starts], share, s)
        for i, c in enumerate(fam.cells)
    ]


def _run_peer(cell: Cell, s: Settings):
    from bench import peers

    pr = peers.run_peer(
        cell.problem, cell.optimizer, cell.params, starting_points(
            cell.problem, s.starts, s.seed), s.num_steps, s.gtol, s.tol,
    )  # fmt: skip
    # the iterates are the contour plots' path (2-D problems only; not stored else)
    per_start = [
        {
            **{k: v for k, v in tr.items() if k != "x"},
            "step": np.arange(len(tr["f"])),
            "path": tr["x"] if cell.problem.dim == 2 else None,
            "status": pr.status[j],
            "run_s": pr.run_s[j],
            "time_to_tol_s": pr.time_to_tol_s[j],
            "run_s_batched": np.nan,
        }
        for j, tr in enumerate(pr.traces)
    ]
    return [_tables(cell, per_start, (pr.compile_s, False), s)]


def _tables(cell: Cell, per_start: list[dict], compiled: tuple[float, bool],
            s: Settings):  # fmt: skip
    """One cell's rows of runs.parquet and traces.parquet; ``compiled``: the cell's
    share of its programs' compile seconds, and whether they came from the cache."""
    p = cell.problem
    ident = {"problem": p.label, "optimizer": cell.optimizer, "config": cell.config}
    run_rows, trace_frames = [], []
    for j, tr in enumerate(per_start):
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
                "n_steps": int(tr["step"][-1]),
                "nfev": int(tr["nfev"][-1]),
                "njev": int(tr["njev"][-1]),
                "nhev": int(tr["nhev"][-1]),
                "rate_theory": rates.theoretical_rate(
                    p.name, p.params, cell.optimizer, cell.params
                ),
                "compile_s": compiled[0],
                "compile_cached": compiled[1],
                "run_s": tr["run_s"],
                "time_to_tol_s": tr["time_to_tol_s"],
                "run_s_batched": tr["run_s_batched"],
                "num_steps": s.num_steps,
                "max_njev": np.nan if s.max_njev is None else s.max_njev,
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
                    "step": tr["step"],
                    **{k: tr[k] for k in results.TRACE_VALUES},
                    "x0": np.nan if path is None else path[:, 0],
                    "x1": np.nan if path is None else path[:, 1],
                }
            )
        )
    runs = pd.DataFrame(run_rows)
    traces = pd.concat(trace_frames, ignore_index=True)
    # gap columns are NaN for now where f* is unknown: see _with_best_f_star
    runs, traces = results.derive(runs, traces, s.tol)
    recorded = [tr.get("at_tol") for tr in per_start]
    if all(r is not None for r in recorded):  # the driver's record beats the rows
        at = np.array(recorded, dtype=float)
        at[at[:, 0] < 0] = np.nan
        runs[["steps_to_tol", "nfev_to_tol", "njev_to_tol"]] = at[:, :3]
    if s.trace != "full":  # peers' per-iteration records, thinned like ours
        keep = [thinning.keep_rows(t["step"], s.trace, s.num_steps) for t in per_start]
        traces = traces[np.concatenate(keep)].reset_index(drop=True)
    return runs, traces


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


# ------------------------------------------------------------------------------ run


def run(
    cells: list[Cell],
    settings: Settings,
    out_dir: Path,
    suite: str,
    command: list[str],
    progress: bool = True,
    executor: Any = None,
) -> pd.DataFrame:
    """Run every cell, writing the tables as families finish (at most every
    SAVE_EVERY_S: a crash keeps what was written, an interrupt everything). A
    family that raises is recorded as failed, cell by cell, in the manifest and the
    run goes on; Ctrl-C stops the run, marks the manifest "interrupted" and
    re-raises. ``executor``: where families run (bench/cluster.py), None: here."""
    with results.one_blas_thread():  # before the manifest, which records it
        return _run(cells, settings, Path(out_dir), suite, command, progress,
                    executor)  # fmt: skip


def _run(cells, settings, out_dir, suite, command, progress,
         executor) -> pd.DataFrame:  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = results.manifest(command, suite, asdict(settings))
    results.write_json(meta, out_dir / "manifest.json")
    all_runs: list[pd.DataFrame] = []
    all_traces: list[pd.DataFrame] = []
    started = time.perf_counter()
    xla_before = results.xla_counts()  # the counts are per process: this run's share
    # the driver's own programs: compiled, loaded from the persistent cache, seconds
    meta["compile"] = {"programs_compiled": 0, "programs_from_cache": 0, "seconds": 0}

    last_save = [0.0]

    def save(state: str | None = None) -> pd.DataFrame | None:
        """Write the tables and the manifest; while running, at most every
        SAVE_EVERY_S (rewriting every table after each of 50 families cost 6 s of
        a 50 s run); at the end and on an interrupt, always."""
        if state is None and time.perf_counter() - last_save[0] < SAVE_EVERY_S:
            return None
        runs = pd.concat(all_runs, ignore_index=True) if all_runs else pd.DataFrame()
        if all_runs:
            traces = pd.concat(all_traces, ignore_index=True)
            runs, traces = _with_best_f_star(runs, traces, settings.tol)
            results.write_parquet(runs, out_dir / "runs.parquet")
            results.write_parquet(traces, out_dir / "traces.parquet")
        meta["platform"]["xla"] = {
            k: v - xla_before[k] for k, v in results.xla_counts().items()
        }
        if state is not None:
            meta.update(status=state, finished=results.now(),
                        wall_s=time.perf_counter() - started)  # fmt: skip
        results.write_json(meta, out_dir / "manifest.json")
        last_save[0] = time.perf_counter()
        return runs

    fams = families(cells)
    if executor is not None:  # every family on a worker, as they finish
        meta["executor"] = {"kind": "dask", "scheduler": executor.address}
        meta["workers"] = {}
        with _progress(progress, len(cells)) as advance:
            try:
                done = 0
                for fam_cells, tables, error, worker in executor.run(fams, settings):
                    _record(meta, fam_cells, tables, error, all_runs, all_traces)
                    _ran_on(meta, fam_cells, worker)
                    done += len(fam_cells)
                    advance(done, _family_label(fam_cells))
                    save()
            except KeyboardInterrupt:
                save("interrupted")
                raise
        return save("complete")
    ours = [Family(f, settings) for f in fams if f[0].opt is not None]
    peer_cells = [f[0] for f in fams if f[0].opt is None]
    compiler = Compiler(ours)
    with _progress(progress, len(cells)) as advance:
        try:
            done = 0
            for n, fam in enumerate(ours):
                advance(done, _family_label(fam.cells))
                try:
                    compiled, error = compiler.result(n), None
                    for k, v in compiled[2].items():
                        meta["compile"][k] += v
                except Exception as exc:  # noqa: BLE001  (recorded, the run goes on)
                    compiled, error = (0.0, False, {}), exc
                compiler.ahead()  # the next families compile while this one runs
                tables = None
                if error is None:
                    try:
                        tables = _run_family(fam, compiled, compiler.wait_idle)
                    except Exception as exc:  # noqa: BLE001
                        error = exc
                _record(meta, fam.cells, tables, error, all_runs, all_traces)
                done += len(fam.cells)
                save()
            compiler.wait_idle()  # peers compile too: never beside our options
            for cell in peer_cells:
                advance(done, _family_label([cell]))
                try:
                    tables, error = _run_peer(cell, settings), None
                except Exception as exc:  # noqa: BLE001
                    tables, error = None, exc
                _record(meta, [cell], tables, error, all_runs, all_traces)
                done += 1
                save()
            advance(len(cells), "done")
        except KeyboardInterrupt:
            save("interrupted")
            raise
        finally:
            compiler.close()
    return save("complete")


def _record(meta, cells, tables, error, all_runs, all_traces) -> None:
    """Add a family's tables, or its error, cell by cell to the manifest."""
    for i, cell in enumerate(cells):
        entry = {"problem": cell.problem.label, "config": cell.config}
        if error is not None:
            message = " ".join(f"{type(error).__name__}: {error}".split())
            entry.update(status="failed", error=message)
        else:
            runs, traces = tables[i]
            all_runs.append(runs)
            all_traces.append(traces)
            entry.update(status="done", error=None)
        meta["cells"].append(entry)


def _ran_on(meta: dict, cells: list[Cell], worker: dict | None) -> None:
    """Which worker ran these (the manifest's last cells), with its environment."""
    if worker is None:
        return
    meta["workers"].setdefault(worker["address"], worker["environment"])
    for k, v in worker["compile"].items():
        meta["compile"][k] += v
    for entry in meta["cells"][-len(cells) :]:
        entry["worker"] = worker["address"]


def _family_label(cells: list[Cell]) -> str:
    c = cells[0]
    more = f" (+{len(cells) - 1} cells in one program)" if len(cells) > 1 else ""
    return f"{c.problem.label} x {c.config}{more}"


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
