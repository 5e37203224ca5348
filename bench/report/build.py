"""``build_report(run_dir)``: the whole report of one results folder, from its tables.

It reads ``runs.parquet``, ``traces.parquet`` and ``manifest.json`` (docs/schema.md)
and writes ``run_dir/report/``: the figures (PNG, and SVG or PDF when asked),
``report.md`` and ``index.html``. It never re-runs an optimizer and never rebuilds a
problem: contour plots use the f grid the run stored (landscapes.parquet). Every file is
written under a temporary name and then ``os.replace``d, so an interrupted report
leaves the old file or the new one, never half of one; the pages are written last,
after the images they show.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.report import studies, texts
from bench.report.analysis import (
    LR_TABLE_COLUMNS,
    common_configs,
    data_profile,
    lr_families,
    performance_profile,
    rate_table,
    summary_table,
)
from bench.report.data import load, settings
from bench.report.document import Document, fmt, render_html, render_md, slug
from bench.report.draw import Drawer, check_formats, worker_count
from bench.report.ecdf import load_targets, runtime_ecdf
from bench.report.figure_task import FigureTask
from bench.report.interactive import convergence_explorer, profile_explorer
from bench.report.landscape import contour_data
from bench.report.tables import write_tables
from bench.report.tasks import (
    convergence_data,
    gap_floor,
    lr_data,
    profile_data,
    trace_runs,
)
from bench.results import read_landscapes, write_bytes
from bench.status import Status

_FIGURE_FILE = re.compile(r"\d\d_.*\.(png|svg|pdf)")  # numbered figures of any build
_WRITTEN = ".written"  # the figure files the last build wrote: the only ones it deletes


def build_report(
    run_dir: Path | str,
    formats: Sequence[str] = ("png",),
    *,
    workers: int | None = None,
) -> Path:
    """Write ``run_dir/report/`` (figures, report.md, index.html); return its path.

    ``formats``: the figure files to write, any of "png", "svg", "pdf"; the PNG is
    always written (the pages show it) and the pages link the others. ``workers``:
    processes drawing the figures, 0 to draw here; by default one per CPU when there
    are enough figures to pay for starting them.
    """
    formats = check_formats(formats)
    run_dir = Path(run_dir)
    runs, traces, manifest = load(run_dir)
    grids = read_landscapes(run_dir)
    out = _report_dir(run_dir)
    styles = {c: i for i, c in enumerate(dict.fromkeys(runs["config"]))}
    doc = Document()
    n_figures = _expected_figures(runs)
    with Drawer(out, formats, worker_count(n_figures, workers)) as drawer:
        _notes(doc, runs, manifest)
        doc.heading(2, "Summary per config")
        doc.table(summary_table(runs), caption=texts.SUMMARY_CAPTION, name="summary")
        _profiles(doc, drawer, run_dir, runs, traces, styles)
        doc.heading(2, "Measured rate and order")
        doc.para(texts.RATES_TEXT)
        doc.table(rate_table(runs), name="rates")
        studies.kappa_sweeps(doc, drawer, runs, styles)
        studies.tuning(doc, drawer, run_dir, runs)
        studies.cost_per_iteration(doc, drawer, runs, styles)
        studies.precision_floor(doc, drawer, runs, traces)
        _problems(doc, drawer, runs, traces, _num_steps(runs, manifest), styles,
                  grids)  # fmt: skip
        # the pages name the figures' files, not their bytes: made while workers
        # started ahead draw, and written after the figures they show
        pages = _pages(doc, run_dir, runs, manifest, len(styles), formats)
        drawer.draw_all()
    write_tables(doc.tables(), out / "tables")
    for name, text in pages.items():
        write_bytes(text.encode(), out / name)
    _remove_stale(out, {f"{stem}.{ext}" for stem in doc.figures for ext in formats})
    return out


def _pages(doc: Document, run_dir: Path, runs: pd.DataFrame,
           manifest: dict[str, Any], n_configs: int,
           formats: Sequence[str]) -> dict[str, str]:  # fmt: skip
    """report.md and index.html, by file name."""
    title = f"optbench report: {manifest.get('suite', run_dir.name)}"
    meta = settings(manifest)
    n_div = int((runs.status == Status.DIVERGED.label).sum())
    meta.append(
        (
            "runs",
            f"{len(runs)} runs, {runs.problem.nunique()} problems, "
            f"{n_configs} configs, {n_div} diverged",
        )
    )
    vector = [f for f in formats if f != "png"]
    return {"report.md": render_md(doc, title, meta, vector),
            "index.html": render_html(doc, title, meta, vector)}  # fmt: skip


def _report_dir(run_dir: Path) -> Path:
    """``run_dir/report``, created; a symlink there is refused, since the report
    deletes stale files in it and must not reach outside the run folder."""
    out = run_dir / "report"
    if out.is_symlink():
        raise ValueError(
            f"{out} is a symlink: the report is only written (and stale figures "
            "deleted) inside the run folder; remove the link or make it a folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def _remove_stale(out: Path, current: set[str]) -> None:
    """Delete the figure files an earlier build wrote (listed in ``.written``) that
    this one did not, and list this build's: a file the report did not write is
    never deleted. Only regular files directly in ``out`` (a symlink or folder is
    left alone, and never followed)."""
    record = out / _WRITTEN
    try:
        before = set(json.loads(record.read_text())) if record.is_file() else set()
    except (OSError, ValueError, TypeError):
        before = set()
    for name in before - current:
        path = out / str(name)
        if _FIGURE_FILE.fullmatch(path.name) and path.parent == out:
            if path.is_file() and not path.is_symlink():
                try:
                    os.unlink(path)
                except OSError:
                    pass  # a stale figure left behind is not worth failing the report
    write_bytes(json.dumps(sorted(current)).encode(), record)


def _expected_figures(runs: pd.DataFrame) -> int:
    """About how many figures the report will have: 3 profiles, the ECDFs, and per
    problem a convergence figure, a contour for 2-D ones and sometimes an lr sweep."""
    if runs.empty:
        return 0
    dims = runs.groupby("problem")["dim"].first()
    return 4 + len(dims) + int((dims == 2).sum())


def _num_steps(runs: pd.DataFrame, manifest: dict[str, Any]) -> float:
    num_steps = manifest.get("num_steps")
    if num_steps is None and "num_steps" in runs:
        num_steps = runs["num_steps"].max()
    return float(num_steps) if num_steps is not None else math.nan


def _figure(
    doc: Document,
    drawer: Drawer,
    kind: str,
    name: str,
    data: dict[str, Any],
    **text: str,
) -> None:
    drawer.add(FigureTask(kind, doc.image(name, text["alt"], text["caption"]), data))


# -------------------------------------------------------------------------- sections


def _notes(doc: Document, runs: pd.DataFrame, manifest: dict[str, Any]) -> None:
    """Notes on top: empty or diverged runs, peers, an incomplete run, failed cells."""
    n_runs = len(runs)
    n_div = int((runs.status == Status.DIVERGED.label).sum())
    if n_runs == 0:
        doc.para("The run has no results (runs.parquet is empty).", note=True)
    elif n_div == n_runs:
        doc.para(
            f"Every run diverged ({n_div}/{n_runs}): no config reached the "
            "tolerance, there are no medians to draw and the profiles are flat "
            "at zero.",
            note=True,
        )
    elif n_div:
        doc.para(
            f"{n_div}/{n_runs} runs diverged (non-finite values). They are left "
            "out of the medians and counted as 'k/n failed' in the legends."
        )
    if (runs.source != "optbench").any():
        doc.para(texts.PEER_NOTE, note=True)
    mstatus = manifest.get("status")
    if mstatus and mstatus != "complete":
        doc.para(
            f"The run's status is '{mstatus}': its tables may be incomplete.", note=True
        )
    if "_error" in manifest:
        doc.para(manifest["_error"], note=True)
    failed = [
        c
        for c in manifest.get("cells", []) or []
        if isinstance(c, dict) and c.get("status") == "failed"
    ]
    if failed:
        doc.para(
            "Cells that failed to run: "
            + "; ".join(
                f"{c.get('problem')} x {c.get('config')}: {c.get('error')}"
                for c in failed
            ),
            note=True,
        )


# (stem, metric, title, x label, definition, kind) of the three profile figures
_PROFILES = (
    (
        "perf_profile_njev",
        "njev_to_tol",
        "Performance profile on gradient evaluations",
        "tau: ratio to the fewest gradient evaluations (log2)",
        texts.PERF_DEFINITION.format(what="gradient evaluations, njev_to_tol"),
        "perf",
    ),
    (
        "perf_profile_work",
        "work_to_tol",
        "Performance profile on derivative work",
        "tau: ratio to the least derivative work (log2)",
        texts.PERF_DEFINITION.format(what=texts.WORK),
        "perf",
    ),
    (
        "perf_profile_time",
        "time_to_tol_s",
        "Performance profile on time to tolerance",
        "tau: ratio to the shortest time (log2)",
        texts.PERF_DEFINITION.format(what="seconds, time_to_tol_s"),
        "perf",
    ),
    (
        "data_profile_njev",
        "njev_to_tol",
        "Data profile on gradient evaluations",
        "alpha: budget in units of (n+1) gradient evaluations (log)",
        texts.DATA_DEFINITION,
        "data",
    ),
)


def _profiles(
    doc: Document,
    drawer: Drawer,
    run_dir: Path,
    runs: pd.DataFrame,
    traces: pd.DataFrame,
    styles: dict[str, int],
) -> None:
    """Performance and data profiles, runtime ECDFs, and their interactive view."""
    doc.heading(2, "Performance and data profiles")
    full, left_out = common_configs(runs)
    if left_out:
        doc.para(
            "Left out of the profiles because they did not run on every problem "
            "instance: " + ", ".join(left_out) + "."
        )
    if not full:
        doc.para("No config ran on every instance: no profiles.")
        return
    pruns = runs[runs.config.isin(full)]
    n_inst = pruns[["problem", "start"]].drop_duplicates().shape[0]
    doc.para(f"{n_inst} problem instances (problem x start), {len(full)} configs.")
    datas = []
    for stem, metric, title, xlabel, definition, kind in _PROFILES:
        if metric == "work_to_tol" and not (pruns[metric] > pruns.njev_to_tol).any():
            continue  # no products or Jacobians: the gradient profile says it all
        profile = performance_profile if kind == "perf" else data_profile
        prof = profile(pruns, metric)
        datas.append(profile_data(prof, kind, title, xlabel, styles))
        alt = f"{title} over {prof.n_instances} problem instances"
        _figure(doc, drawer, "profile", stem, datas[-1], alt=alt, caption=definition)
    doc.heading(3, "Runtime ECDFs")
    table = load_targets(run_dir, runs, traces)
    ecdfs = []
    for count, what in (("njev", "gradient"), ("nfev", "function")):
        prof = runtime_ecdf(table, full, count)
        title = f"Runtime ECDF on {what} evaluations"
        xlabel = f"budget: {what} evaluations ({count}, log)"
        ecdfs.append(profile_data(prof, "ecdf", title, xlabel, styles))
    alt = (
        "Runtime ECDFs on gradient and function evaluations over "
        f"{prof.n_instances} (problem, start, target) triples"
    )
    _figure(doc, drawer, "ecdf", "ecdf", {"panels": ecdfs}, alt=alt,
            caption=texts.ECDF_DEFINITION)  # fmt: skip
    datas += ecdfs
    doc.interactive("profiles", profile_explorer(datas, styles), texts.EXPLORER_HELP)


def _problems(
    doc: Document,
    drawer: Drawer,
    runs: pd.DataFrame,
    traces: pd.DataFrame,
    num_steps: float,
    styles: dict[str, int],
    grids: pd.DataFrame,
) -> None:
    """One section per problem: convergence, contour (2-D), lr sweep (if any)."""
    tgroups = traces.groupby("problem", sort=False).indices if len(traces) else {}
    for problem, rp in runs.groupby("problem", sort=False):
        idx = tgroups.get(problem)
        tp = traces.iloc[idx] if idx is not None else traces.iloc[:0]
        _problem(doc, drawer, str(problem), rp, tp, num_steps, styles, grids)


def _problem(
    doc: Document,
    drawer: Drawer,
    problem: str,
    rp: pd.DataFrame,
    tp: pd.DataFrame,
    num_steps: float,
    styles: dict[str, int],
    grids: pd.DataFrame,
) -> None:
    doc.heading(2, f"Problem {problem}")
    dim = int(rp["dim"].iloc[0])
    k = int((rp.status == Status.DIVERGED.label).sum())
    known = "published" if bool(rp["f_star_known"].iloc[0]) else "best found"
    doc.para(
        f"dimension {dim}; f* = {fmt(rp['f_star'].iloc[0])} ({known}); {len(rp)} runs, "
        f"{k} diverged, {int(rp.solved.sum())} solved."
    )
    if k == len(rp):
        doc.para(f"Every run on {problem} diverged.", note=True)
    name = slug(problem)
    if tp.empty:
        doc.para("No traces were stored for this problem.")
    else:
        traced = trace_runs(tp, gap_floor(float(rp["f_star"].iloc[0])))
        doc.interactive(
            f"convergence-{name}",
            convergence_explorer(problem, rp, traced, styles),
            texts.EXPLORER_CAPTION.format(problem=problem) + " " + texts.EXPLORER_HELP,
        )
        _figure(
            doc,
            drawer,
            "convergence",
            f"convergence_{name}",
            convergence_data(problem, rp, traced, styles),
            alt=f"Convergence of every config on {problem}: gap versus step, gradient "
            "evaluations and time, and gradient norm versus step",
            caption=texts.CONVERGENCE_CAPTION.format(problem=problem),
        )
        if dim == 2 and np.isfinite(tp[["x0", "x1"]].to_numpy(float)).any():
            data, note = contour_data(problem, tp, rp, styles, grids)
            if data is None:
                doc.para(str(note))
            else:
                _figure(
                    doc,
                    drawer,
                    "contour",
                    f"contour_{name}",
                    data,
                    alt=f"Contour plot of {problem} with each config's path from "
                    "start 0",
                    caption=texts.CONTOUR_CAPTION.format(problem=problem),
                )
    families = lr_families(rp)
    if families:
        doc.heading(3, f"Learning-rate sweep on {problem}")
        data, table = lr_data(problem, rp, families, num_steps)
        _figure(
            doc,
            drawer,
            "lr",
            f"lr_{name}",
            data,
            alt=f"Learning-rate sweep on {problem}: final gap and steps to tolerance "
            "versus lr",
            caption=texts.LR_CAPTION.format(problem=problem),
        )
        doc.table(table[LR_TABLE_COLUMNS], name=f"lr_{name}")
