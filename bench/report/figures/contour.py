"""A 2-D problem's landscape: contours of f - min f at log-spaced levels, each config's
path from start 0, the start and x*."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bench.report.figures.style import (
    DPI,
    LEGEND_ROW_IN,
    axis_labels,
    line_handle,
    new_canvas,
    tick_label,
)
from bench.report.palette import style


def draw(
    problem: str,
    lo: np.ndarray,
    hi: np.ndarray,
    z: np.ndarray,
    levels: np.ndarray | None,
    paths: list[dict[str, Any]],
    x0: np.ndarray,
    x_star: np.ndarray | None,
) -> Figure:
    """``z`` is f - min f on a square grid spanning the box ``lo``..``hi``."""
    n_leg = len(paths) + 1 + (x_star is not None)
    ncol = 2 if n_leg > 5 else 1
    leg_h = LEGEND_ROW_IN * math.ceil(n_leg / ncol) + 0.2
    width, height = 7.5, 6.2 + leg_h
    fig = new_canvas(Figure(figsize=(width, height), dpi=DPI))
    fig.subplots_adjust(
        left=0.9 / width,
        right=1 - 0.3 / width,
        top=1 - 0.6 / height,
        bottom=(0.65 + leg_h) / height,
    )
    ax = fig.subplots()
    level_note = ""
    if levels is not None:
        gx = np.linspace(lo[0], hi[0], z.shape[1])
        gy = np.linspace(lo[1], hi[1], z.shape[0])
        ax.contour(
            gx,
            gy,
            np.clip(z, levels[0] * 0.5, None),
            levels=levels,
            colors="0.6",
            linewidths=0.6,
        )
        level_note = (
            f"\ncontours of f - min f: {len(levels)} log-spaced levels, "
            f"{tick_label(levels[0])} to {tick_label(levels[-1])}"
        )
    handles = [_path(ax, p) for p in paths]
    ax.plot(x0[0], x0[1], "ks", ms=7)
    handles.append(line_handle("start 0", color="k", marker="s", ls=""))
    if x_star is not None:
        ax.plot(x_star[0], x_star[1], "*", color="crimson", ms=15, mec="k")
        handles.append(
            line_handle("x*", color="crimson", marker="*", ms=12, mec="k", ls="")
        )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    axis_labels(
        ax, "x[0]", "x[1]", f"{problem}: paths from start 0{level_note}", fontsize=10
    )
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.05 / height),
        ncols=ncol,
        fontsize=8,
        frameon=False,
    )
    return fig


def _path(ax: Any, p: dict[str, Any]) -> Any:
    """Draw one config's path; return its legend entry."""
    color = style(p["style"])["color"]
    ls = "--" if p["diverged"] else "-"
    xy = p["xy"]
    # a marker per iterate; a thinned path's points are not iterates, so none there
    marker = "o" if len(xy) == p["steps"] + 1 else None
    ax.plot(xy[:, 0], xy[:, 1], marker=marker, ms=2.5, lw=1.3, color=color, ls=ls)
    dead = ", diverged" if p["diverged"] else ""
    label = f"{p['config']} ({p['steps']} steps{dead})"
    return line_handle(label, color=color, lw=1.5, linestyle=ls)
