"""Seconds per iteration against dimension, log-log, one line per config."""

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
    panel_figure,
    suptitle,
)
from bench.report.palette import style


def draw(title: str, lines: list[dict[str, Any]]) -> Figure:
    """``lines`` per config: dims, median seconds per iteration, fitted slope."""
    labels = [
        f"{ln['config']} (slope {ln['fitted']:.2f})"
        if math.isfinite(ln["fitted"])
        else ln["config"]
        for ln in lines
    ]
    fig, axes, ncol = panel_figure(1, 1, 8.0, 4.2, labels)
    ax = axes[0][0]
    log_axis(ax, "x")
    log_axis(ax, "y")
    handles = []
    for ln, label in zip(lines, labels, strict=True):
        st = style(ln["style"])
        ok = np.isfinite(ln["seconds"])
        ax.plot(ln["dim"][ok], ln["seconds"][ok], marker="o", ms=4, lw=1.5, **st)
        handles.append(line_handle(label, marker="o", ms=4, lw=1.5, **st))
    axis_labels(ax, "dimension n (log)", "median seconds per iteration (log)")
    ax.grid(True, which="major", alpha=0.3)
    suptitle(fig, title)
    bottom_legend(fig, handles, ncol)
    return fig
