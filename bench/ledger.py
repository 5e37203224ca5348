"""What a run records as it goes: its manifest (a new run's, or a resumed run's with
one more session), each family's rows as a part of the run folder and its cells in
the manifest (done, or failed with a one-line reason), and the cell timeout."""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from typing import Any

import pandas as pd

from bench import plugins, provenance, results, rundir


def manifest(cells, settings, suite, command, resume, cell_timeout) -> dict:
    """A new run's manifest, or the resumed run's, with this session added."""
    selection = []  # a cell's spec once, whatever the precisions
    for c in cells:
        spec = [c.problem.name, c.problem.params, c.optimizer, c.params]
        if spec not in selection:
            selection.append(spec)
    if resume is None:
        meta = provenance.manifest(command, suite, asdict(settings))
        meta.update(
            run_id=rundir.new_run_id(),
            schema_version=results.SCHEMA_VERSION,
            selection=selection,
            sessions=[],
            cell_timeout=cell_timeout,
            plugins=plugins.records(),  # path, SHA-256 and names of each plugin
        )
        meta["compile"] = {"programs_compiled": 0, "programs_from_cache": 0,
                           "seconds": 0}  # fmt: skip
    else:
        meta = dict(resume)
        ours = {c.key for c in cells}
        meta["cells"] = [e for e in meta.get("cells", []) if _key(e, meta) not in ours]
        known = meta.setdefault("selection", [])
        known += [s for s in selection if s not in known]
        meta.update(status="running", finished=None)
    meta["sessions"].append({"command": command, "started": results.now()})
    return meta


class CellTimeout(Exception):
    """A family ran past its --cell-timeout."""


def check_seconds(value: Any, name: str, given: Any = None) -> float:
    """A cell timeout: a number of seconds > 0 (and finite), else ValueError naming
    ``name`` (the CLI's --cell-timeout, the API's cell_timeout) and what was
    ``given`` (the CLI's text; by default ``value``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not (ok and 0 < value < math.inf):
        shown = value if given is None else given
        raise ValueError(f"{name} takes a number of seconds > 0, got {shown!r}")
    return float(value)


class Deadline:
    """``--cell-timeout`` seconds per cell, for a family of ``n_cells`` cells, from
    the moment it starts (its compile included), not counting the time it waits
    between ``pause`` and ``resume`` (for the families timed with it). A compiled
    call cannot be interrupted, so ``check`` is called between calls: a family stops
    at the first check past the deadline, which can be one call (the batched trace
    call, or one start's timing) after it."""

    def __init__(self, seconds: float | None, n_cells: int) -> None:
        self.seconds = seconds
        self.limit = None if seconds is None else seconds * n_cells
        self.t0 = time.perf_counter()
        self.paused_at: float | None = None

    def pause(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.perf_counter()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.t0 += time.perf_counter() - self.paused_at
            self.paused_at = None

    def check(self) -> None:
        elapsed = time.perf_counter() - self.t0
        if self.limit is not None and elapsed > self.limit:
            n = round(self.limit / self.seconds)
            raise CellTimeout(
                f"ran past --cell-timeout {self.seconds:g} s per cell: {elapsed:.3g} s "
                f"on its family of {n} cell{'' if n == 1 else 's'}"
            )


def record(meta, out_dir, cells, tables, error, written=None) -> bool:
    """Write a family's rows as one part, then add its cells to the manifest (done,
    or failed with a one-line reason). True when it failed. ``written``: a dict
    that keeps the part's frames, by its key (results.read_run)."""
    if error is None:
        run_id = meta["run_id"]
        key = rundir.family_key([c.key for c in cells])
        runs_path, traces_path = rundir.part_paths(out_dir, key)
        runs, traces, targets = (concat([t[i] for t in tables]) for i in range(3))
        try:
            results.write_table(traces, traces_path, run_id)
            if len(targets):  # none where f* is best-found: read from traces then
                results.write_table(targets, rundir.targets_part(out_dir, key), run_id)
            results.write_table(runs, runs_path, run_id)  # last: the commit mark
        except BaseException:  # Ctrl-C or SIGTERM among the writes: no orphan part
            if not runs_path.exists():
                rundir.remove_parts(out_dir, [key])
            raise
        if written is not None:
            written[key] = (runs, traces, targets)
    for cell in cells:
        entry = {"problem": cell.problem.label, "config": cell.config,
                 "precision": cell.precision}  # fmt: skip
        if error is not None:
            entry.update(status="failed", error=_reason(error))
        else:
            entry.update(status="done", error=None)
        meta["cells"].append(entry)
    return error is not None


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames as one, leaving out empty ones (pandas warns on those)."""
    full = [f for f in frames if len(f)]
    return pd.concat(full, ignore_index=True) if full else frames[0]


def reconcile(meta: dict, runs: pd.DataFrame) -> None:
    """Mark done the cells whose rows are in the tables but not yet in the manifest
    (a signal or a kill landed between a family's part and the manifest's update);
    the tables are the truth."""
    if runs.empty:
        return
    listed = {_key(e, meta) for e in meta["cells"] if e["status"] == "done"}
    cells = zip(*(runs[k] for k in results.CELL_KEYS), strict=True)
    for cell in dict.fromkeys(cells):
        if cell not in listed:
            meta["cells"] = [e for e in meta["cells"] if _key(e, meta) != cell]
            meta["cells"].append(
                {**dict(zip(results.CELL_KEYS, cell, strict=True)), "status": "done",
                 "error": None}
            )  # fmt: skip


def _key(entry: dict, meta: dict) -> tuple[str, str, str]:
    """A manifest cell entry's Cell.key (entries from before the precision column
    are in the run's one precision)."""
    return (entry["problem"], entry["config"],
            entry.get("precision", meta.get("precision") or "float64"))  # fmt: skip


def _reason(error: BaseException) -> str:
    """One line: what went wrong in a cell."""
    if isinstance(error, CellTimeout):
        return f"timeout: {error}"
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in text:
        text = f"out of memory: {text}"
    return text[:300]
