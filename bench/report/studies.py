"""The report's study sections, each shown only when the run holds its study: kappa
sweeps (``kappa``), ..."""

from __future__ import annotations

import pandas as pd

from bench.report import kappa, texts
from bench.report.document import Document, slug
from bench.report.draw import Drawer
from bench.report.tasks import FigureTask


def _figure(
    doc: Document,
    drawer: Drawer,
    kind: str,
    name: str,
    data: dict,
    alt: str,
    caption: str,
) -> None:
    drawer.add(FigureTask(kind, doc.image(name, alt, caption), data))


def kappa_sweeps(
    doc: Document, drawer: Drawer, runs: pd.DataFrame, styles: dict[str, int]
) -> None:
    """Per sweep over quadratic[kappa=...]: steps to tolerance against kappa and the
    fitted slopes beside theory's."""
    found = kappa.sweeps(runs)
    if not found:
        return
    doc.heading(2, "Conditioning: steps to tolerance against kappa")
    doc.para(texts.KAPPA_TEXT)
    for sweep, g in found.items():
        table = kappa.sweep_table(g)
        slopes = kappa.slope_table(sweep, table)
        name = slug(sweep)
        _figure(
            doc,
            drawer,
            "kappa",
            f"kappa_{name}",
            kappa.figure_data(sweep, table, slopes, styles),
            alt=f"Median steps to tolerance against kappa on {sweep}, log-log",
            caption=texts.KAPPA_CAPTION.format(sweep=sweep),
        )
        doc.table(slopes, caption=texts.KAPPA_TABLE_CAPTION, name=f"kappa_{name}")
