"""Whole benchmarks from Python: ``bench.run(...)`` and ``bench.load(RUN_DIR)``.

``bench.run`` takes what ``python -m bench run`` takes, and objects too: problems as
SPECs (``"rosenbrock[n=[2,10]]"``) or ``problems.Problem`` objects, optimizers as
SPECs (``"adam[lr=[1e-3,1e-2]]"``, ``"optax:lion"``, ``"scipy:BFGS"``) or
``optimizers.Optimizer`` objects; it runs every problem x optimizer cell through the
CLI's harness (``bench.cells``, ``bench.runner``: the same programs, stopping, timing
and tables) and returns a ``Results``. ``bench.load`` reads a stored run into one.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Results:
    """A benchmark's tables (docs/schema.md) and where they are stored, if anywhere."""

    runs: pd.DataFrame  # one row per run: runs.parquet
    traces: pd.DataFrame  # one row per run and step: traces.parquet
    manifest: dict[str, Any] = field(repr=False)
    out_dir: Path | None = None  # None: kept in memory only (bench.run with out=None)
    # targets.parquet and landscapes.parquet (the contour plots' grids), which a
    # report in another folder needs too
    targets: pd.DataFrame | None = field(default=None, repr=False)
    landscapes: pd.DataFrame | None = field(default=None, repr=False)

    def report(self, dir: str | Path | None = None, formats: Sequence[str] = ("png",)
               ) -> Path:  # fmt: skip
        """Draw the report (figures, report.md, index.html) into ``dir``/report/:
        by default this run's folder. Another ``dir`` gets the run's tables and
        manifest first, and must be new or empty, as ``--out`` (or hold this run
        already); ValueError otherwise."""
        from bench import results, rundir
        from bench.report import build_report

        if dir is None and self.out_dir is None:
            raise ValueError("this run is in memory only: give report(dir) a folder")
        target = Path(dir) if dir is not None else self.out_dir
        run_id = self.manifest.get("run_id")
        ours = (target / "manifest.json").is_file() and (
            results.read_manifest(target).get("run_id") == run_id)  # fmt: skip
        if not ours:  # never over another run's files
            claimed = rundir.claim_new(target, "report(dir)")
            try:
                tables = {"runs": self.runs, "traces": self.traces,
                          "targets": self.targets}  # fmt: skip
                if self.landscapes is not None and len(self.landscapes):
                    tables["landscapes"] = self.landscapes  # a run stores none if empty
                for name, df in tables.items():
                    if df is not None:
                        results.write_table(df, target / f"{name}.parquet", run_id)
                results.write_json(self.manifest, target / "manifest.json")
            finally:
                claimed.release()
        return Path(build_report(target, formats))


def load(run_dir: str | Path) -> Results:
    """The stored run in ``run_dir`` (a folder written by a run, or the parts a killed
    run left) as Results; ValueError naming what is missing or does not belong."""
    from bench import results

    if Path(run_dir).is_file():
        raise ValueError(f"{run_dir} is a file; bench.load takes the run's folder")
    try:
        runs, traces, manifest = results.read_run(run_dir)
    except FileNotFoundError as exc:
        raise ValueError(f"{exc}: not a folder a run wrote") from None
    return Results(runs, traces, manifest, Path(run_dir),
                   targets=results.read_targets(run_dir, runs, traces),
                   landscapes=results.read_landscapes(run_dir))  # fmt: skip


def run(
    problems: Sequence[Any],
    optimizers: Sequence[Any],
    *,
    starts: int = 4,
    steps: int = 500,
    gtol: float | None = None,
    tol: float | None = None,
    seed: int = 0,
    precision: str | Sequence[str] = "float64",
    max_njev: int | None = None,
    trace: str = "full",
    cell_timeout: float | None = None,
    out: str | Path | None = None,
    plugins: Sequence[str] = (),
    cache: bool = True,
    progress: bool = False,
    name: str = "python",
) -> Results:
    """Run every problem x optimizer (SPECs or objects) and return the tables.

    The settings are the CLI's (``gtol``/``tol`` default to 1e-10/1e-8, or 1e-6/1e-5
    in float32 alone); ``precision``: ``"float64"``, ``"float32"`` or both
    (``["float32", "float64"]``: every cell in each, a ``precision`` column);
    ``trace``: the steps kept as rows (full, every:K, log:N); ``cell_timeout``:
    seconds per cell after which a family is recorded as failed (None: no limit);
    ``out``: a new or empty folder to keep the tables in (else they are kept in
    memory only); ``plugins``: files or modules to load first; ``cache``: the
    persistent compilation cache; ``name``: the run's name in the manifest.
    ValueError on bad input, before anything runs.
    """
    from bench import cells, ledger, runner, thinning
    from bench import plugins as plugin_files
    from bench import precision as precisions
    from bench.cli.common import FLOAT32_DEFAULTS
    from bench.cli.run import (
        _claim,  # the CLI's --out rule, claimed atomically
        set_precision,
    )

    if isinstance(problems, str) or isinstance(optimizers, str):
        raise ValueError("problems and optimizers are lists (of SPECs or objects)")
    precision = precisions.canonical(precision)  # before anything is built
    set_precision(precision)
    loose = FLOAT32_DEFAULTS if precision == "float32" else {}
    settings = runner.Settings(
        starts=starts, num_steps=steps, seed=seed, precision=precision,
        gtol=loose.get("gtol", runner.Settings.gtol) if gtol is None else gtol,
        tol=loose.get("tol", runner.Settings.tol) if tol is None else tol,
        max_njev=max_njev, trace=thinning.check(trace, "trace"),
    )  # fmt: skip
    if cell_timeout is not None:
        cell_timeout = ledger.check_seconds(cell_timeout, "cell_timeout")
    plugin_files.load(plugins)
    opts = [o for item in optimizers for o in _optimizers(item)]
    built = []
    for prec in settings.precisions:
        with precisions.context(prec):  # the problems' arrays in this precision
            probs = [p for item in problems for p in _problems(item)]
        for p in probs:
            for o in opts:
                try:
                    # an Optimizer object, or a SPEC's (name, params)
                    c = (cells.cell(p, o, prec=prec) if _is_optimizer(o)
                         else cells.cell(p, *o, prec=prec))  # fmt: skip
                    built.append(c)
                except (ValueError, TypeError) as exc:
                    raise ValueError(
                        f"{exc} (in cell {p.label} x {_label(o)})"
                    ) from None
    prepared = cells.unique(built)
    note = runner.unbudgeted(prepared, settings, "max_njev")
    if note:
        warnings.warn(note, stacklevel=2)
    if cache:
        from bench import cache as compilation_cache

        warning = compilation_cache.enable()
        if warning:
            warnings.warn(warning, stacklevel=2)
    with tempfile.TemporaryDirectory(prefix="optbench-") as tmp:
        claimed = None if out is None else _claim(str(out), name, "out")
        command = ["bench.run", f"{len(prepared)} cells"]
        try:
            runner.run(prepared, settings, claimed or Path(tmp), name, command,
                       progress=progress, cell_timeout=cell_timeout)  # fmt: skip
        finally:
            if claimed is not None:
                claimed.release()
        res = load(tmp if claimed is None else claimed.path)
    if out is None:
        res.out_dir = None
    return res


def _problems(item: Any) -> list[Any]:
    import problems
    from bench.spec import expand

    if isinstance(item, problems.Problem):  # rebuilt where this precision differs
        return [problems.in_precision(item)]
    if isinstance(item, str):
        try:
            return [problems.get(n, **p) for n, p in expand(item)]
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{exc} (in problem {item!r})") from None
    raise ValueError(
        f"a problem is a SPEC string or a problems.Problem, got {type(item).__name__}"
    )


def _optimizers(item: Any) -> list[Any]:
    import optimizers
    from bench.spec import expand

    if isinstance(item, optimizers.Optimizer):
        return [item]
    if isinstance(item, str):
        return list(expand(item))
    raise ValueError(
        "an optimizer is a SPEC string or an optimizers.Optimizer, got "
        f"{type(item).__name__}"
    )


def _label(o: Any) -> str:
    from bench.spec import format_spec

    return o.label if _is_optimizer(o) else format_spec(*o)


def _is_optimizer(o: Any) -> bool:
    from optimizers import Optimizer

    return isinstance(o, Optimizer)
