"""The argument parser: commands, flags, help texts and epilogs."""

from __future__ import annotations

import argparse
import math
import re
from typing import Any, NoReturn

from bench import suites
from bench.cli import compare
from bench.cli.common import EXIT_USAGE, _prog
from bench.cli.run import cmd_run
from bench.cli.show import cmd_cache, cmd_list, cmd_report


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


RUN_EPILOG = """\
SPEC is NAME or NAME[k=v,k2=[a,b,...]]: values are int, float (1e-3), bool
(true/false) or string; a [list] is a sweep and lists expand to their cartesian
product. Optimizer names include peers and optax:NAME for every optax optimizer
(python -m bench list). Quote specs in the shell: [ ] are glob characters.

examples:
  python -m bench run                                  # the default suite
  python -m bench run --suite smoke
  python -m bench run --problems 'rosenbrock[n=[2,10]]' --optimizers bfgs 'gd[lr=1e-3]'
  python -m bench run --suite default --optimizers 'adam[lr=[1e-3,1e-2]]' scipy:L-BFGS-B
  python -m bench run --config mine.toml --starts 8 --out results/mine
  python -m bench run --plugin my_opts.py --optimizers polyak bfgs 'optax:lion'

--problems alone keeps, for each problem, the optimizers its suite group gives that
problem (tuned learning rates follow their problem); --optimizers alone runs them on
every problem of the suite; both replace the suite's selection.

Settings: a flag wins over the config file, which wins over the suite's own starts and
steps. --precision float32 changes the default tolerances to gtol=1e-6, tol=1e-5;
--precision float32,float64 runs every cell in both precisions under one gtol and tol
(float64's defaults, 1e-10 and 1e-8, unless given).

config file (TOML), every key optional:
  suite = "mine"                 # run name, or a built-in suite to start from
  description = "what it is for" # a note kept with the suite
  problems = ["rosenbrock[n=[2,10]]", "beale"]
  optimizers = ["bfgs", "adam[lr=[1e-3,1e-2]]", "scipy:BFGS"]
  starts = 4
  steps = 500
  max_njev = 2000                # gradient-evaluation budget per run (--max-njev)
  gtol = 1e-10
  tol = 1e-8
  seed = 0
  precision = "float64"          # or ["float32", "float64"]
  plugins = ["my_opts.py"]       # files (relative to this file) or module names
  trace = "log:50"               # trace rows kept: full, every:K or log:N
  [tune]                         # as --tune: KEY = "log:LOW:HIGH:N"
  lr = "log:1e-4:1:13"
  [[groups]]                     # more problems x optimizers groups
  problems = ["mlp"]
  optimizers = ["adam[lr=[3e-3,1e-2]]"]

Results go to results/<YYYYmmdd-HHMMSS>_<suite>/ (runs.parquet, traces.parquet,
manifest.json, report/). Exit status: 0 done, 1 some cell failed or the report failed,
2 bad input (nothing written), 130 / 143 interrupted by SIGINT / SIGTERM (finished
cells kept; continue with --resume RUN_DIR).
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
            "  python -m bench report\n"
            "  python -m bench compare results/baseline results/gate\n\n"
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
        help=f"a built-in suite: {', '.join(suites.names())}, cutest (default: "
        "default)",
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
    _plugin_argument(run)
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
        "--precision",
        metavar="P",
        help="float64 (default), float32, or float32,float64: every cell in both, "
        "in one run (a precision column; the report's precision floor)",
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
        "max_njev, checked after each iteration, so a line search can pass N; "
        "Jacobians and Hessian-vector products do not count; peers run without "
        "it; default: no budget)",
    )
    run.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted or killed run: run its missing cells under its "
        "recorded settings (--problems / --optimizers add cells to it)",
    )
    run.add_argument(
        "--cell-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="fail a cell that runs longer (checked between its compiled calls: a "
        "call in progress finishes; the run goes on)",
    )
    run.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="refuse a run whose estimated memory passes SIZE, e.g. 8G (default: "
        "half the machine's memory)",
    )
    run.add_argument(
        "--executor",
        choices=("process", "dask"),
        default="process",
        help="where program families run: in this process (default), or on a Dask "
        "cluster (--scheduler, else a local one with a worker process per core)",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="the Dask scheduler of --executor dask (e.g. one started with "
        "'dask scheduler')",
    )
    run.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        help="JAX backend to run on where a machine has both (default: JAX's, a GPU "
        "where there is one)",
    )
    run.add_argument(
        "--trace",
        metavar="KEEP",
        help="trace rows to keep: full (default), every:K (steps 0, K, 2K, ...) or "
        "log:N (N log-spaced steps); each run's last step is always kept, and the "
        "summary columns are exact whatever is kept",
    )
    run.add_argument(
        "--tune",
        metavar="KEY=log:LOW:HIGH:N",
        help="tune KEY (e.g. lr=log:1e-4:1:13) per problem and optimizer on a log "
        "grid by median gradient evaluations to tol, then rerun tuned and default "
        "configs on fresh starts (seed + 1); the grid's runs go to DIR/tune/",
    )
    run.add_argument(
        "--max-dim",
        type=int,
        metavar="N",
        help="--suite cutest: the CUTEst problems with n <= N (default 100)",
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
    _plugin_argument(lst)
    lst.add_argument(
        "--cutest",
        action="store_true",
        help="list CUTEst's unconstrained problems (cutest:NAME) with n instead",
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
    compare.add_parser(sub, fmt)
    return parser


def _plugin_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        metavar="FILE.py",
        help="a Python file or dotted module that registers optimizers and problems "
        "(@optimizers.register, @problems.register); repeatable",
    )


FORMATS = ("png", "svg", "pdf")


def _seconds(text: str) -> float:
    from bench.ledger import check_seconds

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    try:
        return check_seconds(value, "--cell-timeout", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        help="figure formats, comma-separated from png,svg,pdf: the PNG is always "
        "written (the pages show it); svg or pdf add vector files for papers "
        "(default png)",
    )
