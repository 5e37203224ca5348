"""Every named table of the report as ``tables/<name>.csv`` (the numbers, for other
tools) and ``tables/<name>.tex`` (the page's formatting, a booktabs tabular with
LaTeX's special characters escaped, for papers).

The LaTeX is written here rather than by pandas' ``to_latex``: that goes through
Styler's jinja2 templates, whose loading cost 0.2-0.3 s of every report build (measured
on the default suite), for a dozen lines of text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.report.document import Table
from bench.results import write_bytes

# LaTeX's special characters in text mode and what prints them
_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_ESCAPE = str.maketrans(_LATEX)


def latex_escape(text: str) -> str:
    return str(text).translate(_ESCAPE)


def latex_table(df: pd.DataFrame, raw: pd.DataFrame) -> str:
    """A booktabs tabular of ``df`` (strings); ``raw``'s dtypes align the columns:
    numbers right, text left (as on the page)."""
    align = "".join("r" if raw[c].dtype.kind in "iuf" else "l" for c in raw.columns)

    def row(cells: Sequence[str]) -> str:
        return " & ".join(latex_escape(c) for c in cells) + r" \\"

    lines = [
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        row(df.columns),
        r"\midrule",
    ]
    lines += [row(r) for r in df.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def write_tables(tables: Sequence[Table], folder: Path) -> None:
    """Write each table's CSV and LaTeX file into ``folder``; delete the table files
    of an earlier build that this one did not write."""
    folder.mkdir(exist_ok=True)
    written = set()
    for t in tables:
        raw = t.raw if t.raw is not None else t.df
        write_bytes(raw.to_csv(index=False).encode(), folder / f"{t.name}.csv")
        write_bytes(latex_table(t.df, raw).encode(), folder / f"{t.name}.tex")
        written |= {f"{t.name}.csv", f"{t.name}.tex"}
    with os.scandir(folder) as entries:
        for entry in entries:
            stale = entry.name.endswith((".csv", ".tex")) and entry.name not in written
            if stale and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
