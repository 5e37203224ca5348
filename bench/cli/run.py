"""``run``: resolve the selection and settings, run the cells, then report."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import config, suites
from bench.cli.common import (
    EXIT_INTERRUPTED,
    FLOAT32_DEFAULTS,
    RESULTS_DIR,
    UsageError,
    _build_report,
    _console,
    _prog,
)
from bench.cli.summary import print_summary
from bench.spec import parse_spec


def resolve(args: argparse.Namespace) -> tuple[suites.Suite, dict[str, Any]]:
    """The suite to run (overrides applied) and the merged settings."""
    loaded = config.load_config(args.config) if args.config else None
    if loaded is not None:
        suite, settings = loaded.suite, dict(loaded.settings)
    else:
        suite = suites.get(args.suite or "default", getattr(args, "max_dim", None))
        settings = {}
    if args.problems is not None or args.optimizers is not None:
        # A bare command line with its own selection is not the default suite.
        name = None if (args.suite or args.config) else "custom"
        for spec in (*(args.problems or ()), *(args.optimizers or ())):
            parse_spec(spec)  # a malformed spec is reported as written
        suite = suites.override(suite, args.problems, args.optimizers, name)
    for key in config.SETTING_KEYS:
        value = getattr(args, key)
        if value is not None:
            flag = "--" + key.replace("_", "-")
            settings[key] = config.check_setting(key, value, name=flag)
    settings.setdefault("precision", "float64")
    if settings["precision"] == "float32":
        for key, value in FLOAT32_DEFAULTS.items():
            settings.setdefault(key, value)
    if suite.starts is not None:
        settings.setdefault("starts", suite.starts)
    if suite.steps is not None:
        settings.setdefault("steps", suite.steps)
    return suite, settings


@contextlib.contextmanager
def _reliable_ctrl_c() -> Iterator[None]:
    """Make Ctrl-C land as a KeyboardInterrupt in the run, not in a gc callback.

    Python raises KeyboardInterrupt in whatever Python frame runs when SIGINT is
    handled; jax registers a gc callback (``_xla_gc_callback``) that runs often while
    tracing, and an exception raised there is printed and dropped ("Exception ignored
    in ..."), so a Ctrl-C could be lost. Inside a gc callback or a ``__del__`` this
    handler re-arms itself on a 20 ms timer (SIGALRM) instead of raising."""
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield  # not ours to change (e.g. SIGINT ignored in a background job)
        return

    def swallowing(frame: Any) -> bool:
        callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
        while frame is not None:
            if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
                return True
            frame = frame.f_back
        return False

    def handler(signum: int, frame: Any) -> None:
        if swallowing(frame):
            signal.setitimer(signal.ITIMER_REAL, 0.02)
            return
        raise KeyboardInterrupt

    old_alarm = signal.signal(signal.SIGALRM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGALRM, old_alarm)


def set_precision(precision: str) -> None:
    """Must run before any problem or optimizer is built (``import bench`` turns x64
    on; float32 turns it back off). Also dispatches CPU calls synchronously: a run
    times calls of tens of microseconds, and handing each to XLA's thread pool and
    back cost more than the call on a 2-core machine (BFGS on Rosenbrock: ~240 us
    async against ~160 us sync, measured with the runner's one-lane program)."""
    import jax

    jax.config.update("jax_enable_x64", precision == "float64")
    jax.config.update("jax_cpu_enable_async_dispatch", False)


def _out_dir(out: str | None, suite_name: str) -> Path:
    if out is not None:
        path = Path(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(
                f"--out {out} already exists and is not an empty folder; "
                "give a new folder (a run never overwrites another)"
            )
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = RESULTS_DIR / f"{stamp}_{suites.folder_name(suite_name)}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    with _reliable_ctrl_c():
        return _run(args, argv)


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    suite, settings = resolve(args)
    cells = suite.cells()
    if not cells:
        raise UsageError("nothing to run: the selection has no (problem, optimizer)")
    set_precision(settings["precision"])

    from bench import runner

    s = runner.Settings(
        starts=settings.get("starts", runner.Settings.starts),
        num_steps=settings.get("steps", runner.Settings.num_steps),
        gtol=float(settings.get("gtol", runner.Settings.gtol)),
        tol=float(settings.get("tol", runner.Settings.tol)),
        seed=settings.get("seed", runner.Settings.seed),
        precision=settings["precision"],
        max_njev=settings.get("max_njev"),
    )
    prepared = runner.prepare(cells)  # the error names its cell
    out_dir = _out_dir(args.out, suite.name)
    n_cells = len(prepared)
    n_probs = len({c.problem.label for c in prepared})
    n_configs = len({c.config for c in prepared})
    if not args.no_cache:
        from bench import cache

        warning = cache.enable()
        if warning:
            print(f"{_prog()} run: warning: {warning}", file=sys.stderr)

    console = _console()
    console.print(
        f"suite {suite.name}: {n_cells} cells ({n_probs} problems, "
        f"{n_configs} configs), {s.starts} starts, {s.num_steps} steps, "
        f"gtol={s.gtol:g}, tol={s.tol:g}, {s.precision} -> {out_dir}",
        highlight=False,
        markup=False,
    )
    command = [_prog(), *argv]
    try:
        runs = runner.run(prepared, s, out_dir, suite.name, command, progress=True)
    except KeyboardInterrupt:
        print(
            f"{_prog()} run: {_interrupted_message(out_dir, n_cells)}", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    try:
        return _finish(runs, out_dir, console, not args.no_report, args.formats)
    except KeyboardInterrupt:
        print(
            f"{_prog()} run: interrupted after the run; the tables are complete in "
            f"{out_dir}; (re)build the report with: {_prog()} report {out_dir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _finish(
    runs: Any, out_dir: Path, console: Any, report: bool, formats: tuple[str, ...]
) -> int:
    """Report, terminal summary, paths; the exit status."""
    status = 0
    failed = _failed_cells(out_dir)
    report_dir = None
    if not report:
        pass
    elif runs is None or len(runs) == 0:
        print(f"{_prog()} run: no cell produced results; no report", file=sys.stderr)
        status = 1
    else:
        try:
            report_dir = _build_report(out_dir, formats)
        except Exception as exc:  # noqa: BLE001  (the tables are written; say so)
            import traceback

            traceback.print_exc()
            print(
                f"{_prog()} run: the report failed ({type(exc).__name__}: {exc}); the "
                f"tables are in {out_dir}; retry with: {_prog()} report {out_dir}",
                file=sys.stderr,
            )
            status = 1

    if runs is not None and len(runs):
        print_summary(runs, console)
    if failed:
        status = 1
        console.print(f"[red]{len(failed)} cell(s) raised and have no rows:[/]")
        for c in failed:
            console.print(
                f"  {c.get('problem')} x {c.get('config')}: {c.get('error')}",
                highlight=False,
                markup=False,
            )
    written = [f.name for f in sorted(out_dir.iterdir()) if f.is_file()]
    console.print(
        f"results:  {out_dir}/ ({', '.join(written)})", highlight=False, markup=False
    )
    if report_dir is not None:
        console.print(
            f"report:   {report_dir / 'index.html'}", highlight=False, markup=False
        )
        console.print(
            f"markdown: {report_dir / 'report.md'}", highlight=False, markup=False
        )
    return status


def _interrupted_message(out_dir: Path, n_cells: int) -> str:
    try:
        meta = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return "interrupted before any cell finished; nothing was written"
    done = sum(c.get("status") == "done" for c in meta.get("cells", []))
    if not (out_dir / "runs.parquet").exists() or not done:
        return (
            f"interrupted before any cell finished; {out_dir} holds only the manifest"
        )
    return (
        f"interrupted after {done}/{n_cells} cells; their results are kept in "
        f"{out_dir}; report them with: {_prog()} report {out_dir}"
    )


def _failed_cells(out_dir: Path) -> list[dict[str, Any]]:
    try:
        meta = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return []
    return [c for c in meta.get("cells", []) if c.get("status") == "failed"]
