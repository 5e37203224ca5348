"""One problem's convergence figure: gap against step, gradient evaluations and time,
and gradient norm against step; per config the median over starts and a 25-75% band."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
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

# (x label, y label, title) of the panels, in tasks.PANELS order
_PANELS = (
    ("step", "gap f - f* (log)", "gap vs step"),
    ("gradient evaluations (njev)", "gap f - f* (log)", "gap vs gradient evaluations"),
    ("time (s, log)", "gap f - f* (log)", "gap vs time"),
    ("step", "gradient norm ||g|| (log)", "gradient norm vs step"),
)
_TIME_PANEL = 2


def draw(
    problem: str,
    f_star_known: bool,
    floor: float,
    labels: list[str],
    styles: list[int],
    curves: list[list[Any]],
    banded: list[bool],
) -> Figure:
    """The 2 x 2 panels; ``curves[i][j]`` is config i's (x, log q25, log median,
    log q75) on panel j, or None."""
    fig, axes, ncol = panel_figure(2, 2, 11.0, 3.2, labels)
    sts = [style(i) for i in styles]
    for j, ax in enumerate(axes.flat):
        bands = [(c[j], st, b) for c, st, b in zip(curves, sts, banded, strict=True)]
        lim = _panel(ax, [t for t in bands if t[0] is not None], j == _TIME_PANEL)
        _finish_panel(ax, lim)
        axis_labels(ax, *_PANELS[j])
    star = "f* published" if f_star_known else "f* = best f found in this run"
    suptitle(
        fig,
        f"{problem}: median over starts, band 25-75%\n({star}; "
        f"gaps <= 0 drawn at {floor:.0e})",
    )
    handles = [
        line_handle(label, lw=1.8, **st) for label, st in zip(labels, sts, strict=True)
    ]
    bottom_legend(fig, handles, ncol)
    return fig


def _panel(ax: Any, bands: list[Any], log_x: bool) -> tuple[float, float] | None:
    """Draw one panel's medians and bands; return the range of log y drawn.

    All lines go in one LineCollection and all bands in one PolyCollection under
    them: one artist each per panel instead of two per config (fill_between alone
    took a sixth of the figure's time).
    """
    log_axis(ax, "y")
    if log_x and bands:
        log_axis(ax, "x")
    if not bands:
        return None
    lines, polys, face = [], [], []
    for (x, lo, med, hi), st, banded in bands:
        lines.append(np.column_stack([x, 10.0**med]))
        if banded:
            polys.append(_band_polygon(x, lo, hi))
            face.append(st["color"])
    if polys:
        ax.add_collection(PolyCollection(polys, facecolors=face, alpha=0.12, lw=0))
    ax.add_collection(
        LineCollection(
            lines,
            colors=[st["color"] for _, st, _ in bands],
            linestyles=[st["linestyle"] for _, st, _ in bands],
            linewidths=1.6,
        )
    )
    if log_x:  # matplotlib < 3.11 finds no positive x in a collection on a log axis
        points = np.concatenate(lines)
        ax.update_datalim(points[points[:, 0] > 0])
    ax.autoscale_view()
    lo = min(float(np.min(b[0][1])) for b in bands)
    hi = max(float(np.max(b[0][3])) for b in bands)
    return lo, hi


def _band_polygon(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The outline of the band between 10**lo and 10**hi: along hi, back along lo."""
    xs = np.concatenate([x, x[::-1]])
    return np.column_stack([xs, 10.0 ** np.concatenate([hi, lo[::-1]])])


def _finish_panel(ax: Any, lim: tuple[float, float] | None) -> None:
    ax.grid(True, which="major", alpha=0.3)
    if lim is not None:
        ax.set_ylim(10.0 ** (lim[0] - 0.3), 10.0 ** (lim[1] + 0.3))
    else:
        ax.set_ylim(1e-16, 1.0)
        note_in_axes(ax, "no finite runs to draw\n(every run diverged)")
