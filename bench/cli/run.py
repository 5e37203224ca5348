"""``python -m bench {run,list,report}``: the command-line interface.

Bad input (unknown names, malformed specs, invalid values or settings, an unreadable
config, a missing run folder) exits with status 2 and one line on stderr, before any
folder is created: every cell is built (``bench.runner.prepare``) before the run folder
exists. Ctrl-C exits with 130 and says where the finished cells were kept.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import inspect
import json
import os
import re
import signal
import sys
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from bench import suites
from bench.spec import format_value, parse_spec

RESULTS_DIR = Path("results")
EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
# float64 tolerances are below float32's resolution; these are reachable in float32.
FLOAT32_DEFAULTS = {"gtol": 1e-6, "tol": 1e-5}


class UsageError(ValueError):
    """Bad input found by the CLI itself (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit 2) that points at --help, and that takes
    ``--tol -1e-3`` as a (negative, rejected later with a clear message) value rather
    than as an unknown option: argparse's own pattern knows no exponents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hasattr(self, "_negative_number_matcher"):
            self._negative_number_matcher = re.compile(
                r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-inf$", re.IGNORECASE
            )

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n"
        )


def _prog() -> str:
    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m bench" if base in ("__main__.py", "", "-c") else base


RUN_EPILOG = """\
SPEC is NAME or NAME[k=v,k2=[a,b,...]]: values are int, float (1e-3), bool
(true/false) or string; a [list] is a sweep and lists expand to their cartesian
product. Optimizer names include peers (python -m bench list). Quote specs in the
shell: [ ] are glob characters.

examples:
  python -m bench run                                  # the default suite
  python -m bench run --suite smoke
  python -m bench run --problems 'rosenbrock[n=[2,10]]' --optimizers bfgs 'gd[lr=1e-3]'
  python -m bench run --suite default --optimizers 'adam[lr=[1e-3,1e-2]]' scipy:L-BFGS-B
  python -m bench run --config mine.toml --starts 8 --out results/mine

--problems alone keeps, for each problem, the optimizers its suite group gives that
problem (tuned learning rates follow their problem); --optimizers alone runs them on
every problem of the suite; both replace the suite's selection.

Settings: a flag wins over the config file, which wins over the suite's own starts and
steps. --precision float32 changes the default tolerances to gtol=1e-6, tol=1e-5.

config file (TOML), every key optional:
  suite = "mine"                 # run name, or a built-in suite to start from
  problems = ["rosenbrock[n=[2,10]]", "beale"]
  optimizers = ["bfgs", "adam[lr=[1e-3,1e-2]]", "scipy:BFGS"]
  starts = 4
  steps = 500
  gtol = 1e-10
  tol = 1e-8
  seed = 0
  precision = "float64"
  [[groups]]                     # more problems x optimizers groups
  problems = ["mlp"]
  optimizers = ["adam[lr=[3e-3,1e-2]]"]

Results go to results/<YYYYmmdd-HHMMSS>_<suite>/ (runs.parquet, traces.parquet,
manifest.json, report/). Exit status: 0 done, 1 some cell raised or the report failed,
2 bad input (nothing written), 130 interrupted (finished cells kept).
"""

LIST_EPILOG = """\
examples:
  python -m bench list
  python -m bench list optimizers
  python -m bench list suites
"""

REPORT_EPILOG = """\
Rebuilds RUN_DIR/report/ (figures, report.md, index.html) from the stored tables; no
optimizer is re-run. Without RUN_DIR: the newest folder under results/ with a
runs.parquet.

examples:
  python -m bench report
  python -m bench report results/20250101-120000_default
"""


def build_parser() -> argparse.ArgumentParser:
    prog = _prog()
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=prog,
        description="optbench: benchmark optimization algorithms on JAX.",
        epilog=(
            "examples:\n  python -m bench run --suite smoke\n  python -m bench list\n"
            "  python -m bench report\n\n"
            f"'{prog} COMMAND --help' explains a command."
        ),
        formatter_class=fmt,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a suite or a selection and write results (and a report)",
        description="Run problems x optimizers; write tables, a manifest and a report.",
        epilog=RUN_EPILOG,
        formatter_class=fmt,
    )
    src = run.add_mutually_exclusive_group()
    src.add_argument(
        "--suite",
        metavar="NAME",
        help=f"a built-in suite: {', '.join(suites.names())} (default: default)",
    )
    src.add_argument("--config", metavar="FILE.toml", help="a TOML config (see below)")
    run.add_argument(
        "--problems",
        nargs="+",
        action="extend",
        metavar="SPEC",
        help="problems to run, replacing the suite's (e.g. 'rosenbrock[n=[2,10]]')",
    )
    run.add_argument(
        "--optimizers",
        nargs="+",
        action="extend",
        metavar="SPEC",
        help="optimizers to run, replacing the suite's (e.g. 'adam[lr=1e-2]' "
        "scipy:BFGS)",
    )
    run.add_argument(
        "--starts", type=int, metavar="N", help="starting points per cell (default 4)"
    )
    run.add_argument(
        "--steps", type=int, metavar="N", help="iterations per run (default 500)"
    )
    run.add_argument(
        "--gtol", type=float, metavar="X", help="stop when ||grad|| <= X (1e-10)"
    )
    run.add_argument(
        "--tol",
        type=float,
        metavar="X",
        help="solved when f - f* <= X max(1, |f*|) (1e-8)",
    )
    run.add_argument("--seed", type=int, metavar="N", help="seed of the starts (0)")
    run.add_argument(
        "--precision", choices=("float64", "float32"), help="(default float64)"
    )
    run.add_argument(
        "--out",
        metavar="DIR",
        help="results folder; must be new or empty "
        "(default results/<YYYYmmdd-HHMMSS>_<suite>/)",
    )
    run.add_argument(
        "--max-njev",
        type=int,
        metavar="N",
        help="also stop a run when its gradient evaluations reach N (status "
        "max_njev; default: no budget)",
    )
    run.add_argument(
        "--no-report", action="store_true", help="write the tables only, no report"
    )
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="do not use the persistent compilation cache (python -m bench cache)",
    )
    _formats_argument(run)
    run.set_defaults(func=cmd_run)

    lst = sub.add_parser(
        "list",
        help="list problems, optimizers (with peers) and suites",
        description="List problems and optimizers with their parameters and defaults, "
        "and the built-in suites with their sizes.",
        epilog=LIST_EPILOG,
        formatter_class=fmt,
    )
    lst.add_argument(
        "what",
        nargs="?",
        choices=("all", "problems", "optimizers", "suites"),
        default="all",
        help="what to list (default all)",
    )
    lst.set_defaults(func=cmd_list)

    rep = sub.add_parser(
        "report",
        help="(re)build the report of a run from its tables",
        description="Build RUN_DIR/report/ from runs.parquet, traces.parquet and "
        "manifest.json.",
        epilog=REPORT_EPILOG,
        formatter_class=fmt,
    )
    rep.add_argument("run_dir", nargs="?", metavar="RUN_DIR", help="a run folder")
    _formats_argument(rep)
    rep.set_defaults(func=cmd_report)

    cache = sub.add_parser(
        "cache",
        help="show or clear the persistent compilation cache",
        description="The persistent XLA compilation cache: compiled programs kept "
        "between runs (folder: $OPTBENCH_CACHE_DIR, else ~/.cache/optbench/jax; "
        "oldest entries are removed past its size limit).",
        formatter_class=fmt,
    )
    cache.add_argument("--clear", action="store_true", help="empty the cache")
    cache.set_defaults(func=cmd_cache)
    return parser


FORMATS = ("png", "svg", "pdf")


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f))
    bad = [f for f in names if f not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown figure format {', '.join(bad) or repr(text)}; accepted: "
            f"{', '.join(FORMATS)} (comma-separated, e.g. png,svg)"
        )
    return names


def _formats_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--formats",
        type=_formats,
        default=("png",),
        metavar="LIST",
        help="figure files to write, comma-separated from png,svg,pdf (default png; "
        "add svg or pdf for papers)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    command = "run"
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        command = args.command
        return args.func(args, argv)
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        _error(parser.prog, command, exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            f"{parser.prog} {command}: interrupted before anything was written",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _error(prog: str, command: str, exc: BaseException) -> None:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    else:
        msg = str(exc) or type(exc).__name__
    msg = " ".join(msg.split())  # one line
    print(f"{prog} {command}: error: {msg}", file=sys.stderr)


# ------------------------------------------------------------------------------- run


def resolve(args: argparse.Namespace) -> tuple[suites.Suite, dict[str, Any]]:
    """The suite to run (overrides applied) and the merged settings."""
    config = suites.load_config(args.config) if args.config else None
    if config is not None:
        suite, settings = config.suite, dict(config.settings)
    else:
        suite, settings = suites.get(args.suite or "default"), {}
    if args.problems is not None or args.optimizers is not None:
        # A bare command line with its own selection is not the default suite.
        name = None if (args.suite or args.config) else "custom"
        for spec in (*(args.problems or ()), *(args.optimizers or ())):
            parse_spec(spec)  # a malformed spec is reported as written
        suite = suites.override(suite, args.problems, args.optimizers, name)
    for key in suites.SETTING_KEYS:
        value = getattr(args, key)
        if value is not None:
            flag = "--" + key.replace("_", "-")
            settings[key] = suites.check_setting(key, value, name=flag)
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


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough that tables do not fold
        console = Console(width=160)
    return console


def _failed_cells(out_dir: Path) -> list[dict[str, Any]]:
    try:
        meta = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return []
    return [c for c in meta.get("cells", []) if c.get("status") == "failed"]


def _build_report(run_dir: Path, formats: tuple[str, ...]) -> Path:
    from bench.report import build_report

    return Path(build_report(run_dir, formats=formats))


# --------------------------------------------------------------------------- summary


def _fmt_seconds(s: float) -> str:
    import math

    if s is None or not math.isfinite(s):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _fmt_count(v: float) -> str:
    import math

    return "-" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _aggregate(df, keys: list[str]):
    """Per group: runs, solved, medians over solved runs, diverged/stalled counts."""
    import numpy as np
    import pandas as pd

    from bench.status import Status

    def col(name: str) -> pd.Series:
        if name in df:
            return pd.to_numeric(df[name], errors="coerce")
        return pd.Series(np.nan, index=df.index)

    d = pd.DataFrame({k: df[k] for k in keys})
    d["solved"] = df["solved"].astype(bool) if "solved" in df else False
    status = df["status"] if "status" in df else pd.Series("", index=df.index)
    d["diverged"] = status == Status.DIVERGED.label
    d["stalled"] = status == Status.STALLED.label
    for name in ("steps_to_tol", "njev_to_tol", "time_to_tol_s"):
        d[name] = col(name).where(d["solved"])
    g = d.groupby(keys, sort=False)
    out = g.agg(
        runs=("solved", "size"),
        solved=("solved", "sum"),
        steps=("steps_to_tol", "median"),
        njev=("njev_to_tol", "median"),
        time=("time_to_tol_s", "median"),
        diverged=("diverged", "sum"),
        stalled=("stalled", "sum"),
    ).reset_index()
    if "problem" in df and "problem" not in keys:
        d["problem"] = df["problem"]
        out["problems"] = d.groupby(keys, sort=False)["problem"].nunique().to_numpy()
    out["frac"] = out["solved"] / out["runs"]
    out = out.sort_values(["frac", "njev"], ascending=[False, True], kind="stable")
    if len(keys) > 1:  # keep the problems in run order, best configs first within
        order = {v: i for i, v in enumerate(dict.fromkeys(df[keys[0]]))}
        out = out.sort_values(keys[0], key=lambda s: s.map(order), kind="stable")
    return out


def print_summary(runs, console, max_detail_rows: int = 40) -> None:
    """Per config: solved fraction, median steps / gradients / time to tol over the
    solved runs, failures; per problem x config too when that table is small."""
    from rich.markup import escape
    from rich.table import Table

    def table(title: str, agg, keys: list[str]) -> Table:
        t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        for k in keys:
            t.add_column(k, overflow="fold")
        if "problems" in agg:
            t.add_column("problems", justify="right")
        for head in ("solved", "med steps", "med njev", "med time", "diverged"):
            t.add_column(head, justify="right")
        if agg["stalled"].sum():
            t.add_column("stalled", justify="right")
        for _, r in agg.iterrows():
            k, n = int(r["solved"]), int(r["runs"])
            style = "green" if k == n else ("red" if k == 0 else "")
            cells = [escape(str(r[key])) for key in keys]
            if "problems" in agg:
                cells.append(str(int(r["problems"])))
            cells += [
                f"[{style}]{k}/{n}[/]" if style else f"{k}/{n}",
                _fmt_count(r["steps"]),
                _fmt_count(r["njev"]),
                _fmt_seconds(r["time"]),
                str(int(r["diverged"])) if r["diverged"] else "-",
            ]
            if agg["stalled"].sum():
                cells.append(str(int(r["stalled"])) if r["stalled"] else "-")
            t.add_row(*cells)
        return t

    if "config" not in runs:
        return
    by_config = _aggregate(runs, ["config"])
    console.print()
    console.print(
        table(
            "per config (medians over solved runs; njev = gradient evaluations)",
            by_config,
            ["config"],
        )
    )
    if "problem" in runs:
        detail = _aggregate(runs, ["problem", "config"])
        if len(detail) <= max_detail_rows and runs["problem"].nunique() > 1:
            console.print()
            console.print(table("per problem", detail, ["problem", "config"]))
    console.print()


# ------------------------------------------------------------------------------ list


def cmd_list(args: argparse.Namespace, argv: list[str]) -> int:
    what = args.what
    out: list[str] = []
    if what in ("all", "problems"):
        import problems

        out.append("Problems (--problems 'NAME[k=v,...]'), parameters = defaults:")
        for name in problems.names():
            sig = inspect.signature(problems.constructor(name))
            out.append(_row(name, _signature_params(sig)))
        out.append("")
    if what in ("all", "optimizers"):
        import optimizers

        out.append("Optimizers (--optimizers 'NAME[k=v,...]'), parameters = defaults:")
        for name in optimizers.names():
            out.append(_row(name, _params_text(optimizers.defaults(name))))
        out.append("")
        out.append("Peers (library optimizers run through the same harness):")
        try:
            from bench import peers
        except ImportError as exc:
            out.append(f"  (unavailable: {exc})")
        else:
            for name in peers.PEER_NAMES:
                out.append(_row(name, _params_text(peers.peer_defaults(name))))
        out.append("")
    if what in ("all", "suites"):
        out.append("Suites (--suite NAME):")
        for name in suites.names():
            try:
                s = suites.get(name)
                n, n_p, n_c = suites.summarize(s)
            except ValueError as exc:
                out.append(f"  {name:<10} unavailable: {exc}")
                continue
            knobs = ", ".join(
                f"{k}={v}" for k, v in (("starts", s.starts), ("steps", s.steps)) if v
            )
            out.append(
                f"  {name:<10} {n:>4} cells ({n_p} problems x {n_c} configs"
                f"{', ' + knobs if knobs else ''}): {s.description}"
            )
        out.append("")
    print("\n".join(out).rstrip())
    return 0


def _row(name: str, params: str) -> str:
    return f"  {name:<28} {params}" if params else f"  {name}"


def _signature_params(sig: inspect.Signature) -> str:
    parts = []
    for p in sig.parameters.values():
        if p.name.startswith("_") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is inspect.Parameter.empty:
            parts.append(f"{p.name}=<required>")
        else:
            parts.append(f"{p.name}={_default_text(p.default)}")
    return ", ".join(parts)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_default_text(v)}" for k, v in params.items())


def _default_text(v: Any) -> str:
    if v is inspect.Parameter.empty:
        return "<required>"
    if v is None:
        return "none"
    return format_value(v)


# ---------------------------------------------------------------------------- report


def latest_run(root: Path = RESULTS_DIR) -> Path:
    """The newest folder under ``root`` that holds a runs.parquet."""
    found = [p.parent for p in root.glob("*/runs.parquet")] if root.is_dir() else []
    if not found:
        raise UsageError(
            f"no run folder with a runs.parquet under {root}/; give RUN_DIR or run "
            f"'{_prog()} run' first"
        )
    return max(found, key=lambda p: ((p / "runs.parquet").stat().st_mtime, p.name))


def cmd_report(args: argparse.Namespace, argv: list[str]) -> int:
    if args.run_dir is None:
        run_dir = latest_run()
    else:
        run_dir = Path(args.run_dir)
        if not run_dir.is_dir():
            raise UsageError(f"RUN_DIR {run_dir} is not a folder")
        if not (run_dir / "runs.parquet").is_file():
            raise UsageError(
                f"{run_dir} has no runs.parquet; RUN_DIR must be a folder written by "
                f"'{_prog()} run'"
            )
    report_dir = _build_report(run_dir, args.formats)
    print(f"report:   {report_dir / 'index.html'}")
    print(f"markdown: {report_dir / 'report.md'}")
    return 0


# ----------------------------------------------------------------------------- cache


def cmd_cache(args: argparse.Namespace, argv: list[str]) -> int:
    from bench import cache

    path = cache.default_dir()
    if args.clear:
        removed = cache.clear(path)
        print(f"cache: {path}: removed {removed} entries")
        return 0
    size = cache.folder_size(path) if path.is_dir() else 0
    entries = len(cache.entries(path)) if path.is_dir() else 0
    print(
        f"cache: {path}\nentries: {entries}\nsize: {size / 2**20:.1f} MiB "
        f"(limit {cache.DEFAULT_MAX_BYTES / 2**20:.0f} MiB)"
    )
    return 0


__all__ = ["build_parser", "latest_run", "main", "print_summary", "resolve"]
