"""Small things the CLI's commands share: exit codes, the results folder, errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESULTS_DIR = Path("results")
EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
# float64 tolerances are below float32's resolution; these are reachable in float32.
FLOAT32_DEFAULTS = {"gtol": 1e-6, "tol": 1e-5}


class UsageError(ValueError):
    """Bad input found by the CLI itself (exit 2)."""


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless n is 1: "1 cell", "4 cells"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _prog() -> str:
    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m bench" if base in ("__main__.py", "", "-c") else base


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough that tables do not fold
        console = Console(width=160)
    return console


def _build_report(run_dir: Path, formats: tuple[str, ...]) -> Path:
    from bench.report import build_report

    return Path(build_report(run_dir, formats=formats))
