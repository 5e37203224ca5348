"""Performance and data profile figures: one step curve per config, legend on the
right. The profile's definition is the figure's caption on the page, not text in the
image: its 600 glyphs were a third of the figure's drawing time."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from bench.report.figures.style import (
    DPI,
    axis_labels,
    log_axis,
    new_canvas,
    note_in_axes,
)
from bench.report.palette import style

_CHAR_IN = 0.075  # width of one 8 pt legend character, inches


def draw(
    kind: str,
    title: str,
    xlabel: str,
    steps: list[tuple[str, int, Any, Any]],
    xlim: tuple[float, float],
    solved_any: bool,
) -> Figure:
    """``steps`` holds (config, style index, x, y) of each step curve."""
    width, height = 10.0, max(5.2, 2.6 + 0.22 * len(steps))
    longest = max((len(s[0]) for s in steps), default=0)
    legend_in = min(4.5, 0.8 + _CHAR_IN * longest) if steps else 0.3
    fig = new_canvas(Figure(figsize=(width, height), dpi=DPI))
    fig.subplots_adjust(
        left=0.8 / width,
        right=1 - legend_in / width,
        top=1 - 0.45 / height,
        bottom=0.65 / height,
    )
    ax = fig.subplots()
    if kind == "perf":
        log_axis(ax, "x", base=2.0)
        ylabel = "fraction of instances with ratio <= tau"
    else:
        log_axis(ax, "x")
        ylabel = "fraction of instances solved within budget"
    for config, index, x, y in steps:
        ax.step(x, y, where="post", lw=1.6, label=config, **style(index))
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.02, 1.02)
    axis_labels(ax, xlabel, ylabel, title)
    ax.grid(True, alpha=0.3)
    if not solved_any:
        note_in_axes(ax, "no config reached the tolerance on any instance")
    if steps:
        fig.legend(  # just right of the axes, top-aligned with them
            loc="upper left",
            bbox_to_anchor=(1 - (legend_in - 0.1) / width, 1 - 0.4 / height),
            fontsize=8,
            frameon=False,
        )
    return fig
