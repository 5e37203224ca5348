"""The report as a list of blocks (headings, paragraphs, tables, images), rendered to
report.md and to a self-contained index.html (inline CSS, images by relative path,
plotly.js inlined once for the interactive figures), which opens from disk without a
server or a network."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #ccc}h2{border-bottom:1px solid #ddd;margin-top:2em}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f2f2f2}td:first-child,td:nth-child(2){text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.85em;color:#444;max-width:900px}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:0.4em 0.8em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 1em;font-size:0.9em}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-word}
code{font-size:0.9em}
"""


# ---------------------------------------------------------------------- formatting


def slug(text: str) -> str:
    """A file- and anchor-safe lower-case name of at most 60 characters."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60] or "x"


def fmt(v: Any) -> str:
    """A table cell: integers plain, floats to 3 significant digits, NaN empty."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == int(x) and abs(x) < 1e6:
            return str(int(x))
        return f"{x:.3g}"
    return str(v)


def formatted(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every cell formatted by ``fmt``."""
    return pd.DataFrame({c: [fmt(v) for v in df[c]] for c in df.columns})


def md_escape(text: str) -> str:
    """Escape the markdown that our texts contain by accident (f*, tol*max(...)),
    and HTML: a label such as ``<script>`` must stay text in a markdown viewer."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("*", "\\*")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df`` (no index; '|' escaped)."""

    def cell(v: Any) -> str:
        return md_escape(fmt(v)).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(False)
    ]
    return "\n".join([head, sep, *body])


# -------------------------------------------------------------------------- blocks


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: str
    note: bool = False


@dataclass
class Table:
    df: pd.DataFrame
    caption: str = ""
    name: str = ""  # the file stem of its CSV and LaTeX copies; "" for none
    raw: pd.DataFrame | None = None  # the numbers, unformatted, for the CSV


@dataclass
class Interactive:
    """A plotly figure (``bench.report.interactive``): on the HTML page only."""

    div_id: str
    figure: dict[str, Any]
    caption: str


@dataclass
class Image:
    stem: str
    alt: str
    caption: str


@dataclass
class Document:
    """The report's blocks in order; ``figures`` are the image stems, numbered."""

    blocks: list[Any] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(Heading(level, text, slug(text)))

    def para(self, text: str, note: bool = False) -> None:
        self.blocks.append(Para(text, note))

    def table(self, df: pd.DataFrame, caption: str = "", name: str = "") -> None:
        """Add a table; with a ``name`` it is also written as tables/<name>.csv
        and .tex (see ``tables``)."""
        self.blocks.append(Table(formatted(df), caption, name, df))

    def interactive(self, div_id: str, figure: dict[str, Any], caption: str) -> None:
        self.blocks.append(Interactive(div_id, figure, caption))

    def tables(self) -> list[Table]:
        """The named tables, in page order."""
        return [b for b in self.blocks if isinstance(b, Table) and b.name]

    def image(self, name: str, alt: str, caption: str) -> str:
        """Add an image; return its file stem, ``NN_name`` in the order of the page."""
        stem = f"{len(self.figures):02d}_{name}"
        self.figures.append(stem)
        self.blocks.append(Image(stem, alt, caption))
        return stem


# ----------------------------------------------------------------------- rendering


def render_md(
    doc: Document, title: str, meta: list[tuple[str, str]], vector: Sequence[str] = ()
) -> str:
    """report.md: the PNG of each figure inline, links to its ``vector`` files."""
    e = md_escape
    out = [f"# {e(title)}", ""]
    out += [f"- **{k}**: {e(v)}" for k, v in meta]
    out.append("")
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + e(b.text), ""]
        elif isinstance(b, Para):
            out += [("> **Note.** " if b.note else "") + e(b.text), ""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"_{e(b.caption)}_", ""]
            out += [markdown_table(b.df) if len(b.df) else "(empty)", ""]
        elif isinstance(b, Image):
            alt = e(b.alt).replace("[", "(").replace("]", ")")
            links = ", ".join(f"[{x.upper()}]({b.stem}.{x})" for x in vector)
            out += [
                f"![{alt}]({b.stem}.png)",
                "",
                f"_{e(b.caption)}_" + (f" ({links})" if links else ""),
                "",
            ]
    return "\n".join(out)


def render_html(
    doc: Document, title: str, meta: list[tuple[str, str]], vector: Sequence[str] = ()
) -> str:
    """index.html: a table of contents, then every block; each PNG links to itself
    (full size) and its caption to the ``vector`` files."""
    from bench.report.interactive import plotly_js, to_div

    e = html.escape
    plots = any(isinstance(b, Interactive) for b in doc.blocks)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style>",
        *([f'<script type="text/javascript">{plotly_js()}</script>'] if plots else []),
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        '<dl class="meta">',
    ]
    out += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta]
    out.append("</dl>")
    toc = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    if toc:
        out.append("<nav><ul>")
        out += [f'<li><a href="#{e(b.anchor)}">{e(b.text)}</a></li>' for b in toc]
        out.append("</ul></nav>")
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(f'<h{b.level} id="{e(b.anchor)}">{e(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            cls = ' class="note"' if b.note else ""
            out.append(f"<p{cls}>{e(b.text)}</p>")
        elif isinstance(b, Table):
            if b.caption:
                out.append(f"<p><em>{e(b.caption)}</em></p>")
            out.append(
                b.df.to_html(index=False, border=0, escape=True)
                if len(b.df)
                else "<p>(empty)</p>"
            )
        elif isinstance(b, Image):
            out.append(_html_figure(b, vector))
        elif isinstance(b, Interactive):
            out.append(
                f'<figure class="plot">{to_div(b.figure, b.div_id)}'
                f"<figcaption>{e(b.caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_figure(b: Image, vector: Sequence[str]) -> str:
    e = html.escape
    links = " ".join(f'<a href="{e(b.stem)}.{x}">{x.upper()}</a>' for x in vector)
    return (
        f'<figure><a href="{e(b.stem)}.png"><img src="{e(b.stem)}.png" '
        f'alt="{e(b.alt)}"></a>'
        f"<figcaption>{e(b.caption)}"
        + (f" ({links})" if links else "")
        + "</figcaption></figure>"
    )
