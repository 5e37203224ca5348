"""Tidy result tables: derived per-run columns, atomic writes, the run manifest, and
``read_run``, the one reader of a run folder (report, resume, compare, bench.load)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import schema
from bench.rates import convergence_order, linear_rate
from bench.schema import SCHEMA_VERSION, read_manifest
from bench.schema import RunFolderError as RunFolderError  # raised by read_run
from bench.status import Status

# runs.parquet column order, as documented in docs/schema.md
RUN_COLUMNS = [
    "problem", "problem_name", "problem_params", "dim", "optimizer", "config",
    "precision", "optimizer_params", "lr", "beta", "source", "start", "status",
    "solved", "f_star", "f_star_known", "final_f", "final_gap", "final_grad_norm",
    "n_steps", "nfev", "njev", "nhev", "nhvp", "njac", "steps_to_tol", "nfev_to_tol",
    "njev_to_tol", "work_to_tol", "rate", "order", "rate_theory", "compile_s",
    "compile_cached", "run_s", "time_to_tol_s", "run_s_batched", "num_steps",
    "max_njev", "gtol", "tol",
]  # fmt: skip
# traces.parquet value columns (beside problem, optimizer, config, start, step, x0, x1)
# (the counters are optimizers.base.COUNTERS, spelled out: this module is read
# without jax)
TRACE_VALUES = ("f", "grad_norm", "step_size", "nfev", "njev", "nhev", "nhvp", "njac",
                "time_s")  # fmt: skip
# what tells cells apart (two precisions of one config are two cells), and runs
CELL_KEYS = ["problem", "config", "precision"]
RUN_KEYS = [*CELL_KEYS, "start"]
# the runs columns ``derive`` computes from the traces
DERIVED = ("final_gap", "solved", "steps_to_tol", "nfev_to_tol", "njev_to_tol",
           "work_to_tol", "rate", "order")  # fmt: skip
# the trace columns they are computed from
DERIVED_FROM = ("f", "step", "nfev", "njev", "nhvp", "njac")
# parts this process wrote, by key: their (runs, traces, targets) frames
Written = dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic(path: Path, write) -> None:
    """Write through a temp file in the same folder, then rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make results private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_bytes(data: bytes, path: Path) -> None:
    _atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(obj, indent=2, default=str) + "\n"
    _atomic(path, lambda tmp: Path(tmp).write_text(text))


def solved_threshold(f_star: float, tol: float) -> float:
    """A run is solved when f - f* <= tol * max(1, |f*|)."""
    return tol * max(1.0, abs(f_star))


def rounding_floor(f_star: float) -> float:
    """Gaps at or below this are rounding noise and are left out of rate fits."""
    return 1e-14 * max(1.0, abs(f_star)) if f_star != 0 else 1e-300


def run_rows(runs: pd.DataFrame, traces: pd.DataFrame) -> np.ndarray:
    """Each trace row's position in ``runs`` (matched on RUN_KEYS), -1 where none."""
    index = pd.MultiIndex.from_frame(runs[RUN_KEYS])
    return index.get_indexer(pd.MultiIndex.from_frame(traces[RUN_KEYS]))


def derive(runs: pd.DataFrame, traces: pd.DataFrame, tol: float):
    """Add the gap-based columns to both tables, using each run's ``f_star`` column;
    ``traces`` in step order per run."""
    gap, out = derived(
        runs["f_star"].to_numpy(float),
        (runs["status"] == Status.DIVERGED.label).to_numpy(),
        run_rows(runs, traces),
        {c: traces[c].to_numpy(float) for c in DERIVED_FROM},
        tol,
    )
    return runs.assign(**out)[RUN_COLUMNS], traces.assign(gap=gap)


def derived(f_star: np.ndarray, diverged: np.ndarray, run_of_row: np.ndarray,
            rows: dict[str, np.ndarray], tol: float):  # fmt: skip
    """(gap per trace row, {DERIVED column: value per run}) from arrays: each run's
    f* and whether it diverged, each row's run (-1: none) and its DERIVED_FROM
    columns, the rows of a run in step order."""
    ours = run_of_row >= 0
    gap = np.where(ours, rows["f"] - f_star[run_of_row], np.nan)
    njev = rows["njev"]
    at_hit = {  # the runs column: the trace column read at the first row within tol
        "steps_to_tol": rows["step"],
        "nfev_to_tol": rows["nfev"],
        "njev_to_tol": njev,
        # derivative work: each Hessian-vector product and Jacobian as a gradient
        "work_to_tol": njev + rows["nhvp"] + rows["njac"],
    }
    n = len(f_star)
    out = {c: np.full(n, np.nan) for c in DERIVED if c != "solved"}
    solved = np.zeros(n, dtype=bool)
    # each run's rows, in their order: one stable sort instead of a groupby
    order = np.argsort(run_of_row, kind="stable")
    bounds = np.searchsorted(run_of_row[order], np.arange(n + 1))
    for r in range(n):
        rows_r = order[bounds[r] : bounds[r + 1]]
        if not len(rows_r):
            continue
        g = gap[rows_r]
        threshold = solved_threshold(f_star[r], tol)
        hit = np.flatnonzero(g <= threshold)
        out["final_gap"][r] = g[-1]
        solved[r] = bool(g[-1] <= threshold) and not diverged[r]
        for c, values in at_hit.items():
            out[c][r] = values[rows_r[hit[0]]] if len(hit) else np.nan
        if not diverged[r]:  # a diverging run's "rate" would be a blow-up factor
            floor = rounding_floor(f_star[r])
            steps = at_hit["steps_to_tol"][rows_r]
            out["rate"][r] = linear_rate(g, floor, steps)
            # the order compares consecutive steps: a thinned trace has none
            if (np.diff(steps) == 1).all():
                out["order"][r] = convergence_order(g, floor)
    return gap, {"solved": solved, **out}


def with_best_f_star(runs: pd.DataFrame, traces: pd.DataFrame, tol: float):
    """Where a problem has no published f*, use the best f any run reached on it in
    these tables (More & Wild 2009), per precision (a float32 f can round below any
    float64 one), and derive those runs' gap columns again."""
    unknown = ~runs["f_star_known"].astype(bool)
    if not unknown.any():
        return runs, traces
    which = ["problem", "precision"]
    in_unknown = pd.MultiIndex.from_frame(traces[which]).isin(
        pd.MultiIndex.from_frame(runs.loc[unknown, which]))
    best = traces[in_unknown].groupby(which)["f"].min()
    sub = runs[unknown].assign(
        f_star=best.reindex(pd.MultiIndex.from_frame(runs.loc[unknown, which]))
        .to_numpy()
    )
    sub, sub_traces = derive(sub, traces[in_unknown], tol)
    runs, traces = runs.copy(), traces.copy()
    runs.loc[unknown, sub.columns] = sub.set_axis(runs.index[unknown])
    traces.loc[in_unknown, "gap"] = sub_traces["gap"].to_numpy()
    return runs, traces


# ------------------------------------------------------------- tables on disk, read


# consolidated tables this process has just written: path -> (the file's stamp, run
# id, frame). The first read of such a file, while it is unchanged, takes the frame
# instead (the run command's report read 0.1 s of parquet on the small benchmark) and
# drops it; the next consolidation drops what nothing read.
_KEPT: dict[Path, tuple[tuple, str, pd.DataFrame]] = {}


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def write_table(df: pd.DataFrame, path: Path, run_id: str, keep: bool = False) -> None:
    """A table of run ``run_id``, atomically; the run id and the schema version go
    into the parquet file's metadata (key ``optbench``). ``keep``: the next read of
    the file in this process takes ``df`` (see ``_read_table``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    tag = json.dumps({"run_id": run_id, "schema_version": SCHEMA_VERSION})
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"optbench": tag.encode()}
    )
    # dictionary-encode the label columns only: tried on the float columns of a
    # traces table too (pyarrow's default), it made writes 2-3x slower, files larger
    text = (pa.types.is_string, pa.types.is_large_string)
    labels = [f.name for f in table.schema if any(is_(f.type) for is_ in text)]
    _atomic(path, lambda tmp: pq.write_table(table, tmp, use_dictionary=labels))
    if keep:
        _KEPT[path.absolute()] = (_stamp(path), run_id, df)


def _read_table(path: Path, run_dir: Path, run_id: Any, required: dict[str, str],
                columns: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """``schema.read_table``, or the frame this process kept when it wrote the file,
    if the file is still the one it wrote (same inode, size and mtime)."""
    kept = _KEPT.pop(Path(path).absolute(), None)
    if kept is not None and kept[0] == _stamp(Path(path)):
        _, ran, df = kept
        if run_id is schema.ANY or run_id == ran:
            return df[[c for c in (columns or df.columns) if c in df]]  # its own frame
    return schema.read_table(path, run_dir, run_id, required, columns)


def read_run(
    run_dir: Path | str,
    trace_columns: list[str] | None = None,
    written: Written | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(runs, traces, manifest) of a run folder: its consolidated tables and any
    parts a killed run left (parts win for their cells), checked against the schema
    and against the manifest's run id. ``trace_columns``: read only these (if
    present). ``written``: parts this process wrote, by key, as (runs, traces,
    targets) frames, taken as they are instead of read back. FileNotFoundError when
    the folder holds no results; RunFolderError (one line naming the file) on a
    table or manifest that does not belong. Never follows a symlink out of the
    folder."""
    from bench import rundir

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    run_id = schema.run_id_of(manifest)

    def read(path: Path, required: dict[str, str], columns=None) -> pd.DataFrame:
        df = _read_table(path, run_dir, run_id, required, columns)
        if "precision" not in df:  # a table from before the column: one precision
            df.insert(df.columns.get_loc("config") + 1, "precision",
                      str(manifest.get("precision") or "float64"))  # fmt: skip
        return df

    keys = rundir.committed_parts(run_dir)
    runs_path, traces_path = run_dir / "runs.parquet", run_dir / "traces.parquet"
    if not keys and not runs_path.exists():
        raise FileNotFoundError(f"{runs_path} not found: nothing to report")
    columns = None  # with parts, every column: f is needed for the best f*
    if not keys and trace_columns is not None:
        columns = list(dict.fromkeys([*CELL_KEYS, *trace_columns]))
    runs_l, traces_l = [], []
    if runs_path.exists():
        runs_l.append(read(runs_path, schema.REQUIRED_RUNS))
        if trace_columns == [] and not keys:
            traces_l.append(pd.DataFrame())  # runs alone: a CI baseline keeps no traces
        else:  # with parts too, since the best f* is over every trace's f
            check_traces(run_dir)
            traces_l.append(read(traces_path, schema.REQUIRED_TRACES, columns))
    for key in keys:
        if written is not None and key in written:
            runs_l.append(written[key][0])
            traces_l.append(written[key][1])
            continue
        rp, tp = rundir.part_paths(run_dir, key)
        runs_l.append(read(rp, schema.REQUIRED_RUNS))
        traces_l.append(read(tp, schema.REQUIRED_TRACES))
    cells = [_cells(r) for r in runs_l]  # a traces table's are its runs table's
    runs, traces = _latest_rows(runs_l, cells), _latest_rows(traces_l, cells)
    if keys and len(runs):
        tol = float(manifest.get("tol", runs["tol"].iloc[0] if "tol" in runs else 0))
        runs, traces = with_best_f_star(runs, traces, tol)
    if trace_columns is not None and len(traces.columns):
        traces = traces[[c for c in trace_columns if c in traces]]
    return runs, traces, manifest


def check_traces(run_dir: Path) -> None:
    """RunFolderError where runs.parquet has no traces.parquet beside it: a run
    writes both (only a CI baseline keeps runs alone, for compare)."""
    runs_path, traces_path = run_dir / "runs.parquet", run_dir / "traces.parquet"
    if runs_path.exists() and not traces_path.exists():
        raise schema.RunFolderError(
            f"{traces_path} is missing beside {runs_path.name}: the folder is "
            "damaged (a run writes both)"
        )


def _cells(f: pd.DataFrame) -> set[tuple]:
    """The cells (CELL_KEYS) of a small table."""
    if not len(f):
        return set()
    return set(zip(*(f[k].to_numpy() for k in CELL_KEYS), strict=True))


def _latest_rows(frames: list[pd.DataFrame], cells: list[set] | None = None,
                 ) -> pd.DataFrame:  # fmt: skip
    """Frames concatenated, each cell's rows (CELL_KEYS) from the last frame that
    has that cell (a part written after the consolidated table wins). ``cells``:
    each frame's cells, where known without reading its ~10^5 rows."""
    cells = [_cells(f) for f in frames] if cells is None else cells
    seen: set[tuple] = set()
    kept = []
    for f, mine in zip(reversed(frames), reversed(cells), strict=True):
        later = mine & seen
        if later and len(f):  # rare: a resumed run ran these cells again
            f = f[~pd.MultiIndex.from_frame(f[CELL_KEYS]).isin(list(later))]
        if len(f):
            kept.append(f)
        seen |= mine
    return pd.concat(kept[::-1], ignore_index=True) if kept else pd.DataFrame()


def consolidate(
    run_dir: Path,
    run_id: str,
    problems: dict[str, Any] | None = None,
    written: Written | None = None,
) -> pd.DataFrame:
    """Fold the parts into runs.parquet and traces.parquet (f* best-found over the
    whole run) and targets.parquet (``read_targets``), store the contour data of the
    2-D ones of ``problems`` (label -> Problem) in landscapes.parquet, then delete the
    parts; the runs table (empty if none). ``written``: as for ``read_run``."""
    from bench import rundir
    from bench.landscape import landscapes

    run_dir = Path(run_dir)
    keys = rundir.committed_parts(run_dir)
    if not keys and not (run_dir / "runs.parquet").exists():
        return pd.DataFrame()
    runs, traces, _ = read_run(run_dir, written=written)
    _KEPT.clear()  # what an earlier run kept and nothing read: at most one run's
    if keys:
        table = read_targets(run_dir, runs, traces, written)
        write_table(traces, run_dir / "traces.parquet", run_id, keep=True)
        write_table(table, run_dir / "targets.parquet", run_id, keep=True)
        write_table(runs, run_dir / "runs.parquet", run_id, keep=True)
    if problems:
        grids = landscapes(problems, runs, traces)
        if len(grids):
            write_table(grids, run_dir / "landscapes.parquet", run_id, keep=True)
    rundir.remove_parts(run_dir, keys)
    return runs


def read_targets(run_dir: Path | str, runs: pd.DataFrame, traces: pd.DataFrame,
                 written: Written | None = None,
                 ) -> pd.DataFrame:  # fmt: skip
    """The targets table of a run folder (``runs``, ``traces``: as ``read_run``
    gives them): the rows in targets.parquet and in any targets parts (a part wins
    for its cells) of runs whose f* was known when they ran, read from ``traces``
    for the others (bench/targets.py). ``written``: as for ``read_run``."""
    from bench import rundir
    from bench.targets import combine

    run_dir = Path(run_dir)
    run_id = schema.run_id_of(read_manifest(run_dir))
    written = written or {}
    found = [(run_dir / "targets.parquet", None)]
    found += [(rundir.targets_part(run_dir, k), k)
              for k in rundir.committed_parts(run_dir)]  # fmt: skip
    frames = []
    for path, key in found:
        if key in written:
            frames.append(written[key][2])
        elif path.exists():
            frames.append(_read_table(path, run_dir, run_id,
                                      schema.REQUIRED_TARGETS))  # fmt: skip
    stored = _latest_rows(frames)
    return combine(runs, traces, stored)


def read_landscapes(run_dir: Path | str) -> pd.DataFrame:
    """landscapes.parquet (bench/landscape.py), checked like the tables; empty if
    the run stored none."""
    run_dir = Path(run_dir)
    path = run_dir / "landscapes.parquet"
    if not path.exists():
        return pd.DataFrame(columns=list(schema.REQUIRED_LANDSCAPES))
    run_id = schema.run_id_of(read_manifest(run_dir))
    return _read_table(path, run_dir, run_id, schema.REQUIRED_LANDSCAPES)
