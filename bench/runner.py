"""The harness: cells -> families -> one compiled program each -> tidy rows.

A family is every cell whose runs one compiled program can take as lanes: the same
problem family with data of one shape and the same optimizer functions; the lanes are
cells x starts, with each cell's hyperparameters and instance data as arguments. The
family's program runs once for the traces; each start is then timed alone through
the family's one-lane program (docs/schema.md says what each time means). While a
family runs, the next families' programs compile on worker threads; timings are taken
with those threads idle, several traced families at a time. What to run is built in
bench/cells.py, families are formed and compiled in bench/families.py, and a cell's
rows of the tables made in bench/cell_rows.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd

from bench import (
    cell_rows,
    ledger,
    precision,
    provenance,
    results,
    rundir,
    status,
    timing,
    traces,
)
from bench.cells import Cell, CellSpec, Settings, prepare, starting_points
from bench.families import Compiler, Family, families, tol_target
from bench.progress import progress as progress_bar
from optimizers.base import COUNTERS

__all__ = [
    "Cell", "CellSpec", "Settings", "families", "prepare", "run", "run_family",
    "starting_points",
]  # fmt: skip

# Families traced before their timings are taken together: the compile threads stop
# for timings once per this many families, not once per family, and each stop waits
# for the compiles in flight (the default suite: 1.8 s of waiting when warm). An
# interrupt loses the families traced or timed but not yet written (at most these);
# their programs are in the cache, so a resume runs them again quickly.
TIMED_TOGETHER = 8

Traced = tuple[Any, Callable[[], Any] | None]  # a family's Trace, its batched call


def _run_family(fam: Family, compiled: tuple[float, bool],
                between_calls: Callable[[], None] = lambda: None):  # fmt: skip
    """The unit of work, its three steps in a row: [(runs, traces, targets)] per
    cell. ``between_calls`` runs between calls (the cell timeout raises there)."""
    per_start = _time(fam, _trace(fam, between_calls), between_calls)
    return _family_tables(fam, per_start, compiled)


def _trace(fam: Family, between_calls: Callable[[], None]) -> Traced:
    """A family's traces, untimed: from one batched run, or for few lanes from the
    one-lane program's calls lane by lane; and the batched call, to be timed."""
    s = fam.s
    with precision.context(fam.first.precision):  # its calls as its compile
        if fam.lane_by_lane:  # one program: the traces are its calls, lane by lane
            single, raws = fam.lane_program()[0], []
            for lane in range(fam.lanes):
                between_calls()
                raws.append(single(fam.lane_args(*divmod(lane, s.starts), None)))
            raw = traces.Raw(*map(np.concatenate, zip(*raws, strict=True)))
            return traces.settle(raw, s.num_steps, s.trace), None
        batch, _ = fam.batch_program()
        bargs = fam.batch_args()
        between_calls()
        tr = traces.settle(batch(bargs), s.num_steps, s.trace)
        between_calls()
        return tr, lambda: batch(bargs)


def _time(fam: Family, traced: Traced, between_calls: Callable[[], None]) -> list:
    """Each start's rows and times, each start timed alone through the one-lane
    program (untimed: counts only; the CI regression suite times its calls). A timed
    family's is called with nothing else at work."""
    tr, batch_call = traced
    with precision.context(fam.first.precision):
        single = fam.lane_program()[0] if fam.timed else None
        batch_s = np.nan  # no batch (lane by lane), or untimed
        if fam.timed and batch_call is not None:
            batch_s = timing.wall_seconds(batch_call)
        return [_lane_rows(fam, tr, lane, single, batch_s, between_calls)
                for lane in range(fam.lanes)]  # fmt: skip


def _family_tables(fam: Family, per_start: list, compiled: tuple[float, bool]):
    """[(runs, traces, targets)] per cell, each with its share of the compile."""
    n = fam.s.starts
    share = (compiled[0] / len(fam.cells), compiled[1])
    return [cell_rows.tables(c, per_start[i * n : (i + 1) * n], share, fam.s)
            for i, c in enumerate(fam.cells)]  # fmt: skip


def _lane_rows(fam: Family, tr: Any, lane: int, single: Any, batch_s: float,
               between_calls: Callable[[], None]) -> dict[str, Any]:  # fmt: skip
    """One start's trace rows, status, and times (each measured alone)."""
    between_calls()
    s = fam.s
    i, j = divmod(lane, s.starts)
    p = fam.cells[i].problem
    k = int(tr.n_steps[lane])
    steps = tr.step[lane, : np.searchsorted(tr.step[lane], k) + 1]
    rows = slice(0, len(steps))
    run_s = time_to_tol = np.nan
    if fam.timed:
        run_args = fam.lane_args(i, j, None)
        # lane by lane, the traces' pass made this very call: its warm-up (a long
        # call is made once less: newton on mlp, 4 starts of 70 ms each)
        run_s = timing.wall_seconds(lambda: single(run_args), warm=fam.lane_by_lane)
    at_tol = at_targets = None  # the driver's records: exact whatever the thinning
    if p.f_star is not None:  # unknown f*: the target is only known after the run
        at_tol = tr.at_tol[lane]
        if tr.at_targets is not None:  # else read from the full trace's rows
            at_targets = tr.at_targets[lane]
        if fam.timed and at_tol[0] >= 0:
            tol_args = fam.lane_args(i, j, tol_target(p, s.tol))
            # a check, and the timing's warm-up call
            ends = jax.block_until_ready(single(tol_args)).ends
            if int(np.asarray(ends)[0, 0]) == status.Status.TARGET:
                time_to_tol = timing.wall_seconds(lambda: single(tol_args), warm=True)
    return {
        "step": steps,
        "at_tol": at_tol,
        "at_targets": at_targets,
        "f": tr.f[lane, rows],
        "grad_norm": tr.grad_norm[lane, rows],
        "step_size": tr.step_size[lane, rows],
        **{c: getattr(tr, c)[lane, rows] for c in COUNTERS},
        # this run's measured wall, spread evenly over its steps
        "time_s": steps * run_s / max(k, 1),  # NaN if untimed
        "path": tr.path[lane, rows] if fam.record_path else None,
        "status": status.label(tr.status[lane]),
        "run_s": run_s,
        "time_to_tol_s": time_to_tol,
        "run_s_batched": batch_s / fam.lanes,
    }


def run_family(cells: list[Cell], settings: Settings,
               between_calls: Callable[[], None] = lambda: None):  # fmt: skip
    """The unit of work, here, on a resume and on a cluster's worker: the cells of
    one program family (``families(cells)`` forms them; a peer cell is a family of
    its own) -> their rows of runs.parquet, traces.parquet and targets.parquet.
    Best-found f* of problems without a published one is filled in, and their
    targets read from the traces, when the run's parts are consolidated
    (``results.consolidate``)."""
    if cells[0].opt is None:
        tables = _run_peer(cells[0], settings)
    else:
        fam = Family(cells, settings)
        tables = _run_family(fam, fam.compile(), between_calls=between_calls)
    return tuple(ledger.concat([t[i] for t in tables]) for i in range(3))


def _run_peer(cell: Cell, s: Settings, deadline: ledger.Deadline | None = None):
    """A peer's cell, its objective in the cell's precision (as in a run of that
    precision alone; scipy's own arithmetic is float64 whatever it is given); a
    peer's call cannot be stopped, so ``deadline`` is checked after it."""
    with precision.context(cell.precision):
        tables = _run_peer_in(cell, s)
    if deadline is not None:
        deadline.check()
    return tables


def _run_peer_in(cell: Cell, s: Settings):
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
    return [cell_rows.tables(cell, per_start, (pr.compile_s, False), s)]


# ------------------------------------------------------------------------------ run


def unbudgeted(cells: list[Cell], settings: Settings,
               name: str = "--max-njev") -> str | None:  # fmt: skip
    """The warning for a ``max_njev`` budget the peers among ``cells`` run without
    (scipy and optimistix take no evaluation budget), or None; ``name``: how the
    caller was given the budget (the CLI's --max-njev, the API's max_njev)."""
    names = sorted({c.optimizer for c in cells if c.opt is None})
    if settings.max_njev is None or not names:
        return None
    return (f"{name} applies to optbench's optimizers only; {', '.join(names)} "
            "run without a budget (max_njev NaN in their rows)")  # fmt: skip


def run(
    cells: list[Cell],
    settings: Settings,
    out_dir: Path | rundir.RunDir,
    suite: str,
    command: list[str],
    progress: bool = True,
    *,
    resume: dict | None = None,
    cell_timeout: float | None = None,
    skip: frozenset[tuple[str, str, str]] = frozenset(),
    timed: bool = True,
    executor: Any = None,
) -> pd.DataFrame:
    """Run every cell family by family, each family's rows written as a part of the
    run folder as it finishes (bench/rundir.py), consolidated into runs.parquet and
    traces.parquet at the end and on an interrupt. A family that raises (or runs
    past ``cell_timeout`` seconds per cell, checked between its calls) is recorded
    as failed, cell by cell, in the manifest and the run goes on; Ctrl-C (or a
    SIGTERM the CLI turns into one) consolidates, marks the manifest "interrupted"
    and re-raises. ``out_dir``: a folder claimed here (absent or empty), or one the
    caller claimed. ``resume``: the manifest of the run to continue (its cells that
    are not in ``cells`` are kept as they are); ``skip``: ``Cell.key`` of its
    cells that are done (not run again; their problems' contour data is stored
    again when the tables are consolidated). ``timed=False`` runs the batched
    programs only: counts and traces; run_s, time_to_tol_s, run_s_batched NaN.
    ``executor``: where families run (bench/cluster.py); None: here."""
    claimed = isinstance(out_dir, rundir.RunDir)
    rd = out_dir if claimed else rundir.claim_new(Path(out_dir))
    try:
        with provenance.one_blas_thread():  # before the manifest, which records it
            return _run(cells, settings, rd.path, suite, command, progress, resume,
                        cell_timeout, skip, timed, executor)  # fmt: skip
    finally:
        if not claimed:
            rd.release()


def _run(cells, settings, out_dir, suite, command, progress, resume,
         cell_timeout, skip, timed, executor) -> pd.DataFrame:  # fmt: skip
    # the contour data from a float64 problem where the run has one
    problems = {c.problem.label: c.problem
                for c in sorted(cells, key=lambda c: c.precision == "float64")}
    cells = [c for c in cells if c.key not in skip]
    meta = ledger.manifest(cells, settings, suite, command, resume, cell_timeout)
    run_id = meta["run_id"]
    results.write_json(meta, out_dir / "manifest.json")
    started = time.perf_counter()
    xla_before = provenance.xla_counts()  # the counts are per process: this run's share
    xla_stored = dict(meta["platform"].get("xla") or {})

    def save(state: str | None = None) -> pd.DataFrame | None:
        """Write the manifest; at the end (``state``), consolidate the parts first."""
        meta["platform"]["xla"] = {
            k: v - xla_before[k] + xla_stored.get(k, 0)
            for k, v in provenance.xla_counts().items()
        }
        runs = None
        if state is not None:
            runs = results.consolidate(out_dir, run_id, problems, written)
            ledger.reconcile(meta, runs)
            meta["wall_s"] = meta.get("wall_s", 0.0) + time.perf_counter() - started
            meta.update(status=state, finished=results.now())
            meta["sessions"][-1]["finished"] = meta["finished"]
        results.write_json(meta, out_dir / "manifest.json")
        return runs

    written: results.Written = {}  # parts: not read back
    fams = families(cells)
    if executor is not None:
        meta["executor"] = {"kind": "dask", "scheduler": executor.address}
        meta.setdefault("workers", {})
    failed = False
    with progress_bar(progress, len(cells)) as advance:
        done = 0

        def announce(fam_cells: list[Cell]) -> None:
            advance(done, _family_label(fam_cells))

        if executor is not None:  # every family on a worker, as they finish
            finished = executor.run(fams, settings)
        else:
            finished = _here(fams, settings, timed, cell_timeout, meta, announce)
        try:
            for fam_cells, tables, error, worker in finished:
                failed |= ledger.record(meta, out_dir, fam_cells, tables, error,
                                        written)  # fmt: skip
                _ran_on(meta, fam_cells, worker)
                done += len(fam_cells)
                advance(done, _family_label(fam_cells))
                save()
            advance(len(cells), "done")
        except KeyboardInterrupt:
            save("interrupted")
            raise
    ok = any(c.get("status") == "done" for c in meta["cells"])
    return save("complete" if ok or not failed else "failed")


def _here(fams, settings, timed, cell_timeout, meta, announce):
    """Run the families in this process, ours first (compiled ahead on worker
    threads while earlier ones run; traced, then timed TIMED_TOGETHER at a time with
    those threads idle), then the peers; yield (cells, tables, error, None) for the
    families of a batch that ran (``_tables_of``) and for each failed family and
    each peer, in order, once the tables are made. An error is recorded, never raised:
    the run goes on."""
    ours = [Family(f, settings, timed) for f in fams if f[0].opt is not None]
    peer_cells = [f[0] for f in fams if f[0].opt is None]
    from bench import peers
    from bench.report.draw import wait_started

    names = [c.optimizer for c in peer_cells]
    compiler = Compiler(ours, (lambda: peers.preload(names)) if names else None)

    def idle() -> None:
        """Until nothing else is at work: no compile, no drawing worker importing
        its modules."""
        compiler.wait_idle()
        wait_started()

    waiting: list[list] = []  # [family, compiled, deadline, traced, error], in order

    def time_waiting() -> Iterator[tuple]:
        """Time the waiting families together with nothing else at work, then build
        their tables while the next families compile; yield each, in order."""
        if any(fam.timed and error is None for fam, *_, error in waiting):
            idle()
        timed = []
        for fam, compiled, deadline, traced, error in waiting:
            announce(fam.cells)
            deadline.resume()
            per_start = None
            if error is None:
                per_start, error = _attempt(_time, fam, traced, deadline.check)
            timed.append((fam, compiled, per_start, error))
        waiting.clear()
        # the next families compile while these are tabulated and written
        yield from _tables_of(timed, compiler.ahead)

    try:
        for n, fam in enumerate(ours):
            announce(fam.cells)
            deadline = ledger.Deadline(cell_timeout, len(fam.cells))
            compiled, error = _attempt(compiler.result, n)
            if error is None:
                for k, v in compiled[2].items():
                    meta["compile"][k] += v
            full = len(waiting) + 1 == TIMED_TOGETHER or n + 1 == len(ours)
            if not (fam.timed and full):  # the next families compile meanwhile
                compiler.ahead()
            traced = None
            if error is None:
                traced, error = _attempt(_trace, fam, deadline.check)
            deadline.pause()
            waiting.append([fam, compiled, deadline, traced, error])
            if full or not fam.timed:  # an untimed family is written as it is traced
                yield from time_waiting()
        idle()  # the peers compile and are timed with nothing else at work
        for cell in peer_cells:
            announce([cell])
            deadline = ledger.Deadline(cell_timeout, 1)
            tables, error = _attempt(_run_peer, cell, settings, deadline)
            yield [cell], tables, error, None
    finally:
        compiler.close()


def _attempt(fn: Callable, *args: Any) -> tuple[Any, Exception | None]:
    """(fn(*args), None), or (None, the error it raised): an error is recorded, never
    raised, and the run goes on."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001
        return None, exc


def _tables_of(timed: list[tuple], before_each: Callable[[], None]) -> Iterator[tuple]:
    """(cells, tables, error, None) of the timed families, in order: the tables of
    those that ran, built now (each family's after ``before_each()``), as one item
    per run of them, so that they are written as one part (one part per family: 1.6
    s of the default suite's warm run went to writing them); one item per family that
    failed."""
    cells, tables = [], []
    for fam, compiled, per_start, error in timed:
        before_each()
        if error is None:
            made, error = _attempt(_family_tables, fam, per_start, compiled)
        if error is None:
            cells, tables = cells + fam.cells, tables + made
            continue
        if cells:
            yield cells, tables, None, None
            cells, tables = [], []
        yield fam.cells, None, error, None
    if cells:
        yield cells, tables, None, None


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
    more = f" (+{len(cells) - 1} cells)" if len(cells) > 1 else ""
    return f"{c.problem.label} x {c.config}{more}"
