"""Runtime ECDFs on gradient and on function evaluations: two panels of step curves,
one per config, and one legend below (one figure: half the drawing of two)."""

from __future__ import annotations

from typing import Any

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


def draw(panels: list[dict[str, Any]]) -> Figure:
    """``panels``: ``tasks.profile_data`` dicts of kind "ecdf", same configs."""
    configs = [(config, index) for config, index, _, _ in panels[0]["steps"]]
    fig, axes, ncol = panel_figure(1, len(panels), 11.0, 3.6, [c for c, _ in configs])
    for ax, p in zip(axes[0], panels, strict=True):
        log_axis(ax, "x")
        for _, index, x, y in p["steps"]:
            ax.step(x, y, where="post", lw=1.6, **style(index))
        ax.set_xlim(*p["xlim"])
        ax.set_ylim(-0.02, 1.02)
        axis_labels(ax, p["xlabel"], "fraction of triples reached", p["title"])
        ax.grid(True, alpha=0.3)
        if not p["solved_any"]:
            note_in_axes(ax, "no config reached any target")
    suptitle(fig, "Runtime ECDFs: (problem, start, target) triples reached")
    handles = [line_handle(c, lw=1.6, **style(i)) for c, i in configs]
    bottom_legend(fig, handles, ncol)
    return fig
