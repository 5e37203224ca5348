"""Shared look of the report's figures: colours, panel layout, log axes, saving.

Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas, without pyplot, so
nothing global (backend, open-figure registry) is touched and no figure outlives its
function. Drawing time goes mostly to ticks and text, so the helpers here keep both
few: margins are fixed by hand (no constrained layout, no tight bounding boxes, which
draw the figure twice), titles and axis labels sit at fixed offsets (matplotlib would
otherwise measure every tick label to place them), and log axes get a bounded number
of ticks with plain-text labels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)
from matplotlib.transforms import offset_copy

LEGEND_ROW_IN = 0.19  # height of one legend row at 8 pt, inches
DPI = 100  # PNG resolution: figures are 7-11 in wide, so 700-1100 px
# zlib level 3 instead of PIL's 6: a fifth less time encoding, files the same size
PNG_COMPRESS_LEVEL = 3
MAX_MAJOR_TICKS = 6  # per axis: a long log axis labels every 2nd, 3rd... decade
_STEPS = [1, 2, 2.5, 5, 10]  # linear tick spacings (x a power of 10), as AutoLocator
XLABEL_PT, YLABEL_PT = 20, 44  # axis labels' distance from the axes
# Vector formats keep text as text (searchable, small); a fixed hash salt makes the
# SVG ids, hence the files, the same on every build.
SAVE_RC = {"svg.fonttype": "none", "svg.hashsalt": "optbench", "pdf.fonttype": 42}
# Unhinted glyphs render in about half the time (text is a third of a figure's cost)
# and look the same at 100 dpi; labels are literal text, never mathtext.
DRAW_RC = {"text.hinting": "no_hinting", "text.parse_math": False}


def legend_cols(labels: Sequence[str], width_in: float) -> int:
    """Columns for a legend under a figure ``width_in`` wide (8 pt: ~0.075 in/char)."""
    longest = max((len(s) for s in labels), default=0) * 0.075 + 0.6
    fit = int(width_in // max(longest, 1.0))
    return max(1, min(3, fit, math.ceil(len(labels) / 3)))


def panel_figure(
    nrows: int,
    ncols: int,
    width: float,
    panel_h: float,
    labels: Sequence[str],
) -> tuple[Figure, Any, int]:
    """A grid of panels with room for a title on top and a legend of ``labels`` below.

    Margins are set by hand: constrained layout doubles the drawing time (it measures
    every tick label).
    """
    leg_cols = legend_cols(labels, width)
    leg_h = LEGEND_ROW_IN * math.ceil(len(labels) / leg_cols) + 0.15
    top_in, bottom_in, gap_in = 0.75, 0.6, 0.8
    height = nrows * panel_h + (nrows - 1) * gap_in + top_in + bottom_in + leg_h
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.subplots_adjust(
        left=0.85 / width,
        right=1 - 0.25 / width,
        top=1 - top_in / height,
        bottom=(bottom_in + leg_h) / height,
        hspace=gap_in / panel_h,
        wspace=0.28,
    )
    return fig, axes, leg_cols


def bottom_legend(fig: Figure, handles: list[Any], ncols: int) -> None:
    """The legend centred under the panels, at the bottom edge."""
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=ncols,
        fontsize=8,
        frameon=False,
    )


def line_handle(label: str, **kw: Any) -> Line2D:
    """A legend entry without a line on any axes."""
    return Line2D([], [], label=label, **kw)


def suptitle(fig: Figure, text: str) -> None:
    height = fig.get_figheight()
    fig.suptitle(text, y=1 - 0.12 / height, va="top", fontsize=12)


def axis_labels(ax: Any, xlabel: str, ylabel: str, title: str = "", **kw: Any) -> None:
    """Axis labels and title at fixed offsets (points) from the axes.

    Fixed positions spare matplotlib measuring every tick label to place them (a
    fifth of the drawing time); the offsets leave room for six-character tick labels.
    """
    fig = ax.get_figure()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    below = offset_copy(ax.transAxes, fig=fig, y=-XLABEL_PT, units="points")
    left = offset_copy(ax.transAxes, fig=fig, x=-YLABEL_PT, units="points")
    ax.xaxis.set_label_coords(0.5, 0.0, transform=below)
    ax.yaxis.set_label_coords(0.0, 0.5, transform=left)
    if title:
        ax.set_title(title, y=1.0, pad=6, **kw)


def tick_label(v: float, _pos: Any = None) -> str:
    """Plain-text log tick labels: matplotlib's default ones are mathtext, whose
    parsing was a third of the drawing time."""
    if not math.isfinite(v) or v <= 0:
        return ""
    if 1e-3 <= v < 1e4:
        return f"{v:.4g}"
    mant, exp = f"{v:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def log_axis(ax: Any, which: str = "y", base: float = 10.0) -> None:
    """A log axis with at most MAX_MAJOR_TICKS labelled ticks."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log", base=base)
    axis.set_major_locator(LogLocator(base=base, numticks=MAX_MAJOR_TICKS))
    axis.set_major_formatter(FuncFormatter(tick_label))
    axis.set_minor_formatter(NullFormatter())


def finish_axes(ax: Any) -> None:
    """Settle the ticks of an axes once its limits are final.

    Every tick is two lines, a grid line and two labels, created and drawn one by one
    (a millisecond or more each), so: at most MAX_MAJOR_TICKS per axis, minor ticks
    only where they carry labels (log axes under 1.5 decades), and only the ticks
    inside the view are created (locators return a few beyond it).
    """
    for axis, get, set_ in (
        (ax.xaxis, ax.get_xlim, ax.set_xlim),
        (ax.yaxis, ax.get_ylim, ax.set_ylim),
    ):
        if axis.get_scale() != "log":
            axis.set_major_locator(MaxNLocator(MAX_MAJOR_TICKS - 1, steps=_STEPS))
        else:
            axis.set_minor_locator(NullLocator())
            lo, hi = get()
            base = getattr(axis.get_transform(), "base", 10.0)
            if base == 10 and 0 < lo < hi < math.inf and hi / lo < 10**1.5:
                _label_short_log_axis(axis, lo, hi, set_)
        _keep_visible_ticks(axis, *sorted(get()))


def _keep_visible_ticks(axis: Any, lo: float, hi: float) -> None:
    """Fix the axis' tick positions to those its locators give inside [lo, hi]."""
    slack = 1e-9 * (hi - lo)
    for locator, set_ in (
        (axis.get_major_locator(), axis.set_major_locator),
        (axis.get_minor_locator(), axis.set_minor_locator),
    ):
        if isinstance(locator, NullLocator):
            continue
        locs = np.asarray(locator.tick_values(lo, hi), float)
        set_(FixedLocator(locs[(locs >= lo - slack) & (locs <= hi + slack)]))


def _label_short_log_axis(axis: Any, lo: float, hi: float, set_: Any) -> None:
    """Give a base-10 log axis spanning under ~1.5 decades labels at 2, 3, 5 x 10^k
    (or every integer mantissa under half a decade), widened to whole mantissas so
    that some tick falls inside: decade labels alone could leave it unlabelled."""
    a, b = math.log10(lo), math.log10(hi)
    ea, eb = 10.0 ** math.floor(a), 10.0 ** math.floor(b)
    set_(math.floor(lo / ea * (1 + 1e-9)) * ea, math.ceil(hi / eb * (1 - 1e-9)) * eb)
    keep = (2, 3, 5) if b - a >= 0.5 else tuple(range(2, 10))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(float(k) for k in keep)))
    axis.set_minor_formatter(FuncFormatter(_minor_label(keep)))


def _minor_label(keep: tuple[int, ...]) -> Any:
    def fmt(v: float, _pos: Any = None) -> str:
        if not (math.isfinite(v) and v > 0):
            return ""
        mant = v / 10.0 ** math.floor(math.log10(v) + 1e-12)
        return (
            tick_label(v)
            if round(mant) in keep and abs(mant - round(mant)) < 1e-6
            else ""
        )

    return fmt


def note_in_axes(ax: Any, text: str) -> None:
    """A grey message in the middle of an empty panel."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="0.4",
    )


def save(fig: Figure, formats: Sequence[str]) -> dict[str, bytes]:
    """The figure rendered in each of ``formats`` ("png", "svg", "pdf")."""
    for ax in fig.axes:
        finish_axes(ax)
    out = {}
    with matplotlib.rc_context(SAVE_RC):
        for ext in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, dpi=DPI, **_save_options(ext))
            out[ext] = buf.getvalue()
    return out


def _save_options(ext: str) -> dict[str, Any]:
    """savefig options per format: no creation date or software version in the files
    (a rebuild gives the same bytes), and PNG's zlib level."""
    if ext == "png":
        return {
            "metadata": {"Software": None},
            "pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL},
        }
    if ext == "svg":
        return {"metadata": {"Date": None}}
    return {"metadata": {"CreationDate": None, "Producer": None}}


def new_canvas(fig: Figure) -> Figure:
    """``fig`` attached to an Agg canvas (no pyplot, nothing global)."""
    FigureCanvasAgg(fig)
    return fig
