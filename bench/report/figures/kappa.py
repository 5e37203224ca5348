"""A kappa sweep: median steps to tolerance against kappa, log-log, one line per
config with markers, and its theory line (dashed, the predicted slope)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bench.report.figures.style import (
    axis_labels,
    bottom_legend,
    line_handle,
    log_axis,
    note_in_axes,
    panel_figure,
    suptitle,
)
from bench.report.palette import style


def draw(title: str, lines: list[dict[str, Any]]) -> Figure:
    """``lines`` per config: kappa, median steps (NaN: no start solved), the fitted
    slope, and the theory line (two points) or None."""
    labels = [_label(ln) for ln in lines]
    fig, axes, ncol = panel_figure(1, 1, 8.0, 4.2, labels)
    ax = axes[0][0]
    log_axis(ax, "x")
    log_axis(ax, "y")
    handles = []
    drawn = False
    for ln, label in zip(lines, labels, strict=True):
        st = style(ln["style"])
        ok = np.isfinite(ln["steps"])
        # Newton's one step is drawn at 1 too: a log axis has no 0 but 1 is fine
        ax.plot(ln["kappa"][ok], ln["steps"][ok], marker="o", ms=4, lw=1.5, **st)
        drawn |= bool(ok.any())
        if ln["theory"] is not None:
            kk, ss = ln["theory"]
            ax.plot(kk, ss, lw=1.0, color=st["color"], ls=(0, (4, 3)), alpha=0.7)
        handles.append(line_handle(label, marker="o", ms=4, lw=1.5, **st))
    handles.append(line_handle("theory (dashed): predicted slope", color="k", ls="--"))
    axis_labels(ax, "kappa = L / mu (log)", "median steps to tolerance (log)")
    ax.grid(True, which="major", alpha=0.3)
    if not drawn:
        note_in_axes(ax, "no config reached the tolerance at any kappa")
    suptitle(fig, title)
    bottom_legend(fig, handles, ncol)
    return fig


def _label(ln: dict[str, Any]) -> str:
    fitted = f"slope {ln['fitted']:.2f}" if math.isfinite(ln["fitted"]) else "no fit"
    theory = ln["theory_slope"]
    return f"{ln['config']} ({fitted}" + (
        f", theory {theory:g})" if math.isfinite(theory) else ")"
    )
