"""``run``: resolve the selection and settings, run the cells, then report."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import config, suites
from bench.cli.common import (
    FLOAT32_DEFAULTS,
    RESULTS_DIR,
    UsageError,
    _build_report,
    _console,
    _prog,
    count,
)
from bench.cli.summary import print_summary
from bench.spec import parse_spec


def resolve(args: argparse.Namespace) -> tuple[suites.Suite, dict[str, Any]]:
    """The suite to run (overrides applied) and the merged settings; ``plugins``:
    the config's then --plugin's, to load before the cells are built."""
    loaded = config.load_config(args.config) if args.config else None
    if loaded is not None:
        suite, settings = loaded.suite, dict(loaded.settings)
    else:
        suite = suites.get(args.suite or "default", getattr(args, "max_dim", None))
        settings = {}
    settings["plugins"] = [*(loaded.plugins if loaded else ()), *(args.plugin or ())]
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
    # float32 alone loosens the defaults; a run of both keeps float64's for both,
    # so that its float32 cells stop where the float64 cells do (their gap floor
    # is float32's, not an earlier gtol's)
    if settings["precision"] == "float32":
        for key, value in FLOAT32_DEFAULTS.items():
            settings.setdefault(key, value)
    if suite.starts is not None:
        settings.setdefault("starts", suite.starts)
    if suite.steps is not None:
        settings.setdefault("steps", suite.steps)
    return suite, settings


# the signal that interrupted the run (SIGINT or SIGTERM): the exit status is 128 + it
_RECEIVED = [signal.SIGINT]


@contextlib.contextmanager
def _reliable_ctrl_c() -> Iterator[None]:
    """Make Ctrl-C (and SIGTERM) land as a KeyboardInterrupt in the run, not in a gc
    callback, so that both keep the finished cells and say how to resume.

    Python raises KeyboardInterrupt in whatever Python frame runs when SIGINT is
    handled; jax registers a gc callback (``_xla_gc_callback``) that runs often while
    tracing, and an exception raised there is printed and dropped ("Exception ignored
    in ..."), so a Ctrl-C could be lost. Inside a gc callback or a ``__del__`` this
    handler re-arms itself on a 20 ms timer (SIGALRM) instead of raising."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield  # signals can only be handled in the main thread
        return
    # SIGINT ignored (a background job of a script) stays ignored; SIGTERM is ours
    old_int = signal.getsignal(signal.SIGINT)
    own_int = old_int is signal.default_int_handler

    def swallowing(frame: Any) -> bool:
        callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
        while frame is not None:
            if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
                return True
            frame = frame.f_back
        return False

    def handler(signum: int, frame: Any) -> None:
        if signum != signal.SIGALRM:
            _RECEIVED[0] = signum
        if swallowing(frame):
            signal.setitimer(signal.ITIMER_REAL, 0.02)
            return
        raise KeyboardInterrupt

    _RECEIVED[0] = signal.SIGINT
    old_alarm = signal.signal(signal.SIGALRM, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    if own_int:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGALRM, old_alarm)
        signal.signal(signal.SIGTERM, old_term)


def _interrupted_status() -> int:
    """130 after SIGINT, 143 after SIGTERM (128 + the signal, as shells report)."""
    return 128 + int(_RECEIVED[0])


def set_precision(precision: str) -> None:
    """Must run before any problem or optimizer is built (``import bench`` turns x64
    on; float32 alone turns it back off; a run of both keeps it on and runs each
    cell in its own, bench/precision.py). Also dispatches CPU calls synchronously: a run
    times calls of tens of microseconds, and handing each to XLA's thread pool and
    back cost more than the call on a 2-core machine (BFGS on Rosenbrock: ~240 us
    async against ~160 us sync, measured with the runner's one-lane program)."""
    import jax

    from bench import precision as precisions

    jax.config.update("jax_enable_x64", precisions.x64(precisions.parse(precision)))
    jax.config.update("jax_cpu_enable_async_dispatch", False)


def _executor(args: argparse.Namespace, plugin_refs: list[str]) -> Any:
    """The Dask executor of ``--executor dask`` (connected, shipping the plugins to
    its workers), or None: in-process."""
    if args.executor != "dask":
        if args.scheduler is not None:
            raise UsageError("--scheduler needs --executor dask")
        return None
    from bench import cluster

    try:
        return cluster.DaskExecutor(args.scheduler, plugin_refs)
    except cluster.SchedulerUnreachable as exc:
        raise UsageError(f"--scheduler: {exc}") from None


def select_device(device: str | None) -> None:
    """Run on JAX's ``cpu`` or ``gpu`` backend only (None: JAX's default, a GPU where
    there is one). Before any array: only that backend is started. UsageError when
    the machine has no such device."""
    if device is None:
        return
    import jax

    jax.config.update("jax_platforms", device)
    try:
        jax.devices()
    except RuntimeError:
        raise UsageError(
            f"--device {device}: JAX finds no {device} device on this machine; "
            f"accepted: cpu, or gpu where JAX has a GPU backend installed"
        ) from None


def _claim(out: str | None, suite_name: str, name: str = "--out"):
    """The run folder, claimed for this run alone (bench/rundir.py); ``name``: how
    the caller was given ``out``, for the error."""
    from bench import rundir

    if out is not None:
        return rundir.claim_new(Path(out), name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return rundir.claim_fresh(RESULTS_DIR / f"{stamp}_{suites.folder_name(suite_name)}")


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.report import draw

    if not args.no_report:  # before jax is imported: see bench.report.draw
        draw.start_early()
    try:
        with _reliable_ctrl_c():
            return _run(args, argv)
    finally:
        draw.stop_early()  # if no report took them


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.cli import resume

    resumed = None
    if args.resume is not None:
        run_dir, meta, cells = resume.load(args)
        settings, suite_name = resume.settings(meta), str(meta.get("suite"))
        resumed = (run_dir, meta)
    else:
        if args.out is not None and not args.out.strip():
            raise UsageError("--out needs a folder name, got ''; give a new folder")
        suite, settings = resolve(args)
        cells, suite_name = suite.cells(), suite.name
    # before anything is built: an unreachable scheduler is a usage error
    executor = _executor(args, settings.get("plugins") or [])
    try:
        return _run_with(args, argv, cells, settings, suite_name, resumed, executor)
    finally:
        if executor is not None:
            executor.close()


def _run_with(args, argv, cells, settings, suite_name, resumed, executor) -> int:
    from bench.cli import resume

    if not cells:
        raise UsageError("nothing to run: the selection has no (problem, optimizer)")
    set_precision(settings["precision"])
    select_device(args.device)

    from bench import limits, plugins, rundir, runner

    plugins.load(settings.get("plugins") or [])  # before any name is looked up

    s = runner.Settings(
        starts=_or(settings.get("starts"), runner.Settings.starts),
        num_steps=_or(settings.get("steps"), runner.Settings.num_steps),
        gtol=float(_or(settings.get("gtol"), runner.Settings.gtol)),
        tol=float(_or(settings.get("tol"), runner.Settings.tol)),
        seed=_or(settings.get("seed"), runner.Settings.seed),
        precision=settings["precision"],
        max_njev=settings.get("max_njev"),
        trace=_or(settings.get("trace"), runner.Settings.trace),
    )
    prepared = runner.prepare(cells, s.precisions)  # the error names its cell
    note = runner.unbudgeted(prepared, s)
    if note:
        print(f"{_prog()} run: warning: {note}", file=sys.stderr)
    max_memory = (limits.parse_size(args.max_memory) if args.max_memory
                  else limits.default_max_memory())  # fmt: skip
    tune = settings.get("tune")
    if tune and len(s.precisions) > 1:  # its choice is per (problem, family)
        raise UsageError("--tune takes one precision; run float32 and float64 apart")
    if tune:
        from bench.tuning import parse_tune, tunable

        tunable(prepared, parse_tune(tune)[0])  # before any folder
    if resumed is None:  # checked before the folder exists
        limits.check_memory(runner.families(prepared), s.starts, s.num_steps,
                            max_memory, s.trace)  # fmt: skip
        claimed = _claim(args.out, suite_name)
    else:  # the folder is locked first, so that no live run changes it meanwhile
        claimed = rundir.claim_existing(resumed[0])
    try:
        done: frozenset[tuple[str, str, str]] = frozenset()
        if resumed is not None:
            done = frozenset(resume.done_cells(claimed.path))
            missing = [c for c in prepared if c.key not in done]
            limits.check_memory(runner.families(missing), s.starts, s.num_steps,
                                max_memory, s.trace)  # fmt: skip
        return _run_claimed(args, argv, prepared, s, claimed, suite_name, resumed,
                            tune, executor, done)  # fmt: skip
    finally:
        claimed.release()


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _run_claimed(args, argv, prepared, s, claimed, suite_name, resumed,
                 tune, executor, done) -> int:  # fmt: skip
    from bench import runner

    out_dir = claimed.path
    todo = [c for c in prepared if c.key not in done]
    n_cells = len(todo)
    n_probs = len({c.problem.label for c in todo})
    n_configs = len({c.config for c in todo})
    if not args.no_cache:
        from bench import cache

        warning = cache.enable()
        if warning:
            print(f"{_prog()} run: warning: {warning}", file=sys.stderr)

    if executor is not None:  # workers use this cache folder where they can
        import jax

        executor.cache_dir = jax.config.jax_compilation_cache_dir
    console = _console()
    what = "resuming:" if resumed else f"suite {suite_name}:"
    _say(f"{what} {count(n_cells, 'cell')} ({count(n_probs, 'problem')}, "
         f"{count(n_configs, 'config')}), {count(s.starts, 'start')}, "
         f"{count(s.num_steps, 'step')}, gtol={s.gtol:g}, tol={s.tol:g}, "
         f"{s.precision} -> {out_dir}")  # fmt: skip
    command = [_prog(), *argv]
    try:
        if tune:
            from bench.tuning import tune_then_rerun

            prepared, s = tune_then_rerun(tune, prepared, s, out_dir, suite_name,
                                          command, _say)  # fmt: skip
        runs = runner.run(prepared, s, claimed, suite_name, command, progress=True,
                          resume=None if resumed is None else resumed[1],
                          cell_timeout=args.cell_timeout, skip=done,
                          executor=executor)  # fmt: skip
    except KeyboardInterrupt:
        print(
            f"{_prog()} run: {_interrupted_message(out_dir, n_cells)}", file=sys.stderr
        )
        return _interrupted_status()
    try:
        return _finish(runs, out_dir, console, not args.no_report, args.formats)
    except KeyboardInterrupt:
        print(
            f"{_prog()} run: interrupted after the run; the tables are complete in "
            f"{out_dir}; (re)build the report with: {_prog()} report {out_dir}",
            file=sys.stderr,
        )
        return _interrupted_status()


def _say(line: str) -> None:
    """One line to the user, as written (no rich markup or highlighting)."""
    _console().print(line, highlight=False, markup=False)


def _finish(
    runs: Any, out_dir: Path, console: Any, report: bool, formats: tuple[str, ...]
) -> int:
    """Report, terminal summary, paths; the exit status."""
    status = 0
    failed = _failed_cells(out_dir)
    report_dir = None
    if not report:
        if (out_dir / "report" / "index.html").is_file():  # a resume's: from before
            print(f"{_prog()} run: note: {out_dir / 'report'} predates these results; "
                  f"rebuild it with: {_prog()} report {shlex.quote(str(out_dir))}",
                  file=sys.stderr)  # fmt: skip
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
        n, have = len(failed), "has" if len(failed) == 1 else "have"
        console.print(f"[red]{count(n, 'cell')} raised and {have} no rows:[/]")
        for c in failed:
            console.print(
                f"  {c.get('problem')} x {c.get('config')}: {c.get('error')}",
                highlight=False,
                markup=False,
            )
    written = [f.name for f in sorted(out_dir.iterdir())
               if f.is_file() and not f.name.startswith(".")]  # fmt: skip
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
    """What an interrupted run kept, and the exact command that continues it."""
    meta = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((out_dir / "manifest.json").read_text())
    done = sum(c.get("status") == "done" for c in meta.get("cells", []))
    kept = (
        f"{done} finished cells are kept in {out_dir}"
        if done
        else f"no cell had finished ({out_dir} holds the manifest)"
    )
    return (
        f"interrupted; {kept}; resume with: {_prog()} run --resume "
        f"{shlex.quote(str(out_dir))}"
    )


def _failed_cells(out_dir: Path) -> list[dict[str, Any]]:
    try:
        meta = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return []
    return [c for c in meta.get("cells", []) if c.get("status") == "failed"]
