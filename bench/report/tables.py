"""Every named table of the report as ``tables/<name>.csv`` (the numbers, for other
tools) and ``tables/<name>.tex`` (the page's formatting, LaTeX-escaped, for papers)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from bench.report.document import Table
from bench.results import write_bytes


def write_tables(tables: Sequence[Table], folder: Path) -> None:
    """Write each table's CSV and LaTeX file into ``folder``; delete the table files
    of an earlier build that this one did not write."""
    folder.mkdir(exist_ok=True)
    written = set()
    for t in tables:
        raw = t.raw if t.raw is not None else t.df
        write_bytes(raw.to_csv(index=False).encode(), folder / f"{t.name}.csv")
        latex = t.df.to_latex(index=False, escape=True, column_format=_columns(t))
        write_bytes(latex.encode(), folder / f"{t.name}.tex")
        written |= {f"{t.name}.csv", f"{t.name}.tex"}
    with os.scandir(folder) as entries:
        for entry in entries:
            stale = entry.name.endswith((".csv", ".tex")) and entry.name not in written
            if stale and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


def _columns(t: Table) -> str:
    """Text columns left-aligned, numbers right-aligned (as on the page)."""
    raw = t.raw if t.raw is not None else t.df
    return "".join("r" if raw[c].dtype.kind in "iuf" else "l" for c in raw.columns)
