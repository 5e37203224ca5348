"""A problem's learning-rate sweep: median final gap and median steps to tolerance
against lr, one line per optimizer family, with markers for divergence and crawling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from bench.report.figures.style import (
    axis_labels,
    bottom_legend,
    line_handle,
    log_axis,
    panel_figure,
    suptitle,
)
from bench.report.palette import style


def draw(
    problem: str,
    lines: list[dict[str, Any]],
    floor: float,
    num_steps: float,
    marker_labels: tuple[str, str],
) -> Figure:
    """``lines`` holds per family: lr, median gap and steps, and boolean masks of the
    lrs where a start diverged and where no start reached the tolerance;
    ``marker_labels`` explains the two markers."""
    labels = [*(ln["family"] for ln in lines), *marker_labels]
    fig, axes, ncol = panel_figure(1, 2, 11.0, 3.6, labels)
    ax_gap, ax_steps = axes[0]
    handles = []
    for j, ln in enumerate(lines):
        color = style(j)["color"]
        ax_gap.plot(ln["lr"], ln["gap"], marker="o", ms=4, lw=1.5, color=color)
        ax_steps.plot(ln["lr"], ln["steps"], marker="o", ms=4, lw=1.5, color=color)
        y_mark = 0.97 - 0.035 * (j % 8)  # each family's markers on their own row
        for ax in (ax_gap, ax_steps):
            _top_markers(
                ax, ln["lr"][ln["diverged"]], y_mark, "x", ms=9, mew=2, color=color
            )
        _top_markers(
            ax_steps,
            ln["lr"][ln["crawled"]],
            y_mark,
            "^",
            ms=7,
            mfc="none",
            color=color,
        )
        handles.append(line_handle(ln["family"], color=color, marker="o", ms=4))
    handles.append(line_handle(labels[-2], color="k", marker="x", mew=2, ls=""))
    handles.append(line_handle(labels[-1], color="k", marker="^", mfc="none", ls=""))
    _gap_axes(ax_gap, lines, floor)
    _steps_axes(ax_steps, lines, num_steps)
    suptitle(
        fig, f"{problem}: learning-rate sweep (too large diverges, too small crawls)"
    )
    bottom_legend(fig, handles, ncol)
    return fig


def _top_markers(ax: Any, lrs: np.ndarray, y: float, marker: str, **kw: Any) -> None:
    """Markers at height ``y`` (axes fraction) above the given lrs."""
    if not len(lrs):
        return
    top = blended_transform_factory(ax.transData, ax.transAxes)
    ax.plot(lrs, np.full(len(lrs), y), marker, transform=top, clip_on=False, **kw)


def _gap_axes(ax: Any, lines: list[dict[str, Any]], floor: float) -> None:
    log_axis(ax, "x")
    log_axis(ax, "y")
    gaps = np.concatenate([ln["gap"] for ln in lines]) if lines else np.empty(0)
    gaps = gaps[np.isfinite(gaps)]
    if gaps.size:
        ax.set_ylim(gaps.min() / 3, gaps.max() * 30)
    else:
        ax.set_ylim(floor, 1.0)
    axis_labels(
        ax,
        "learning rate lr (log)",
        "median final gap f - f* (log)",
        "final gap vs lr (non-diverged starts)",
    )
    _headroom(ax)


def _steps_axes(ax: Any, lines: list[dict[str, Any]], num_steps: float) -> None:
    log_axis(ax, "x")
    log_axis(ax, "y")
    steps = np.concatenate([ln["steps"] for ln in lines]) if lines else np.empty(0)
    if not np.isfinite(steps).any():
        ax.set_ylim(1, max(10.0, num_steps if math.isfinite(num_steps) else 10.0))
    axis_labels(
        ax,
        "learning rate lr (log)",
        "median steps to tolerance (log)",
        "steps to tolerance vs lr (solved starts)",
    )
    _headroom(ax)


def _headroom(ax: Any) -> None:
    """Room above the data for the markers drawn at the top."""
    ax.grid(True, alpha=0.3)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi * (hi / lo) ** 0.25)
