"""The report's study sections, each shown only when the run holds its study: kappa
sweeps (``kappa``), the tuning protocol (``bench.tuning``), cost per iteration
against dimension (``cost``), the precision floor of a float32 and float64 run
(``floor``)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.report import cost, floor, kappa, texts
from bench.report.analysis import lr_families, median
from bench.report.document import Document, slug
from bench.report.draw import Drawer
from bench.report.figure_task import FigureTask
from bench.report.tasks import lr_data
from bench.status import Status


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


def tuning(doc: Document, drawer: Drawer, run_dir: Path, runs: pd.DataFrame) -> None:
    """The tuning protocol: per (problem, family), the chosen value, tuned against
    default on the fresh starts, and the sensitivity to the tuned value on the grid."""
    path = run_dir / "tuning.parquet"
    if not path.exists():
        return
    chosen = pd.read_parquet(path)
    grid = pd.read_parquet(run_dir / "tune" / "runs.parquet")
    key = str(chosen["key"].iloc[0]) if len(chosen) else "lr"
    doc.heading(2, f"Tuning: {key} on a log grid")
    doc.para(texts.TUNING_TEXT.format(key=key))
    doc.table(_tuned_against_default(chosen, runs), name="tuning")
    if key != "lr":
        return  # the sensitivity figure is the learning-rate sweep's
    num_steps = float(grid["num_steps"].max()) if "num_steps" in grid else math.nan
    for problem, rp in grid.groupby("problem", sort=False):
        families = lr_families(rp, min_lrs=2)
        if not families:
            continue
        data, _ = lr_data(str(problem), rp, families, num_steps)
        _figure(
            doc,
            drawer,
            "lr",
            f"tuning_{slug(str(problem))}",
            data,
            alt=f"Learning-rate sensitivity on {problem} over the tuning grid",
            caption=texts.LR_CAPTION.format(problem=problem)
            + " Runs of the tuning grid (the first seed's starts).",
        )


def _tuned_against_default(chosen: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (problem, family): default and tuned value, and on the fresh
    starts the solved count and median njev_to_tol of each."""

    def on_fresh(problem: str, config: str) -> tuple[str, float]:
        r = runs[(runs["problem"] == problem) & (runs["config"] == config)]
        solved = r[r["solved"] & (r["status"] != Status.DIVERGED.label)]
        return f"{len(solved)}/{len(r)}", median(solved["njev_to_tol"])

    rows = []
    for c in chosen.to_dict("records"):
        d_solved, d_njev = on_fresh(c["problem"], c["default_config"])
        t_solved, t_njev = on_fresh(c["problem"], c["tuned_config"])
        rows.append(
            {
                "problem": c["problem"],
                "family": c["family"],
                f"default {c['key']}": c["default"],
                f"tuned {c['key']}": c["tuned"],
                "grid median njev_to_tol": c["median njev_to_tol"],
                "default solved": d_solved,
                "default median njev_to_tol": d_njev,
                "tuned solved": t_solved,
                "tuned median njev_to_tol": t_njev,
            }
        )
    return pd.DataFrame(rows)


def cost_per_iteration(
    doc: Document, drawer: Drawer, runs: pd.DataFrame, styles: dict[str, int]
) -> None:
    """Per problem family run at >= 3 sizes: seconds per iteration against n."""
    found = cost.size_families(runs)
    if not found:
        return
    doc.heading(2, "Cost per iteration against dimension")
    for family, g in found.items():
        table = cost.cost_table(g)
        slopes = cost.slope_table(family, table)
        _figure(
            doc,
            drawer,
            "cost",
            f"cost_{slug(family)}",
            cost.figure_data(family, table, slopes, styles),
            alt=f"Median seconds per iteration against dimension on {family}",
            caption=texts.COST_CAPTION.format(family=family),
        )
        doc.table(slopes, name=f"cost_{slug(family)}")


def precision_floor(doc: Document, drawer: Drawer, runs: pd.DataFrame,
                    traces: pd.DataFrame) -> None:  # fmt: skip
    """A run of float32 and float64: per config, the gap each attains, and the
    configs that lose most to float32 first."""
    if not floor.has_both(runs) or traces.empty:
        return
    table = floor.floor_table(runs, traces)
    if table.empty:
        return
    doc.heading(2, "Precision floor: float32 against float64")
    _figure(
        doc,
        drawer,
        "floor",
        "precision_floor",
        floor.figure_data(table),
        alt="Per config, the smallest relative gap reached in float32 and in "
        "float64, log scale",
        caption=texts.FLOOR_CAPTION,
    )
    doc.table(table, caption=texts.FLOOR_TABLE_CAPTION, name="precision_floor")
