"""The precision floor: per config, its float32 and float64 floors on one log axis,
joined by a line (long lines: configs that lose most to float32)."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.report.figures.style import (
    DPI,
    axis_labels,
    line_handle,
    log_axis,
    suptitle,
)

# float64 hollow and larger, so that equal floors show both markers
_MARKERS = {"float64": {"marker": "o", "color": "tab:blue", "mfc": "none", "ms": 9},
            "float32": {"marker": "s", "color": "tab:red", "ms": 5}}  # fmt: skip


def draw(title: str, configs: list[str], float32: np.ndarray,
         float64: np.ndarray) -> Figure:  # fmt: skip
    """One row per config (the first on top): a marker per precision."""
    left = 0.3 + 0.065 * max((len(c) for c in configs), default=4)  # the labels
    width, height = left + 5.5, 2.0 + 0.3 * len(configs)
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    fig.subplots_adjust(left=left / width, right=1 - 0.3 / width,
                        top=1 - 0.6 / height, bottom=1.2 / height)  # fmt: skip
    y = np.arange(len(configs))[::-1]
    ax.hlines(y, np.minimum(float32, float64), np.maximum(float32, float64),
              color="0.6", lw=1.5)  # fmt: skip
    handles = []
    for name, values in (("float64", float64), ("float32", float32)):
        ax.plot(values, y, ls="none", **_MARKERS[name])
        handles.append(line_handle(name, ls="none", **_MARKERS[name]))
    log_axis(ax, "x")
    ax.set_yticks(y, configs, fontsize=8, minor=False)
    ax.set_yticks([], minor=True)
    ax.set_ylim(-0.7, len(configs) - 0.3)
    axis_labels(ax, "attainable relative gap (median over starts and problems, log)",
                "")  # fmt: skip
    ax.grid(True, axis="x", which="major", alpha=0.3)
    fig.legend(handles=handles, loc="lower center", ncols=2, fontsize=8,
               frameon=False)  # fmt: skip
    suptitle(fig, title)
    return fig
