"""Plots, report.md and index.html for one results folder, from its stored tables alone.

``build_report(run_dir)`` reads ``runs.parquet``, ``traces.parquet`` and
``manifest.json`` (docs/schema.md) and writes ``run_dir/report/``: a PNG and an SVG of
every figure, ``report.md`` and a self-contained ``index.html`` (images by relative
path, inline CSS, no JavaScript), which opens from disk without a server.

It never re-runs an optimizer: the only computation on a problem is f on a grid for the
contour plot of a 2-D problem. Every file is written under a temporary name and then
``os.replace``d, so an interrupted report leaves the old file or the new one, never half
of one; index.html and report.md are written last, after the images they show.

Figures are drawn on ``matplotlib.figure.Figure`` objects rendered with the Agg
canvas, without pyplot, so nothing global (backend, open-figure registry) is touched and
no figure outlives its function.

References: Dolan & More (2002), "Benchmarking optimization software with performance
profiles", Math. Program. 91; More & Wild (2009), "Benchmarking derivative-free
optimization algorithms", SIAM J. Optim. 20.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from bench.results import write_bytes

__all__ = [
    "Profile",
    "build_report",
    "common_configs",
    "data_profile",
    "instance_table",
    "lr_families",
    "markdown_table",
    "median_band",
    "performance_profile",
]

GAP_FLOOR_REL = 1e-16  # gaps <= 0 are drawn at 1e-16 * max(1, |f*|)
# Larger (or inf) values are drawn at this ceiling: log tick locators extend a few
# strides past the data, and past ~1e300 they overflow to inf and crash the formatter.
VALUE_CEIL = 1e150
LEGEND_ROW_IN = 0.19  # height of one legend row at 8 pt, inches
LR_DIVERGED = "x at top: diverged (on at least one start)"
LR_CRAWL = "open triangle at top: tolerance not reached in {} steps by any start"
MAX_GRID = 400  # points per median curve; more only slows plotting
CONTOUR_GRID = 160  # points per axis of the contour grid

PERF_DEFINITION = (
    "Performance profile (Dolan & More 2002). A problem instance p is one problem "
    "and one start. t(p,s) is the cost for config s to reach gap <= tol*max(1,|f*|) "
    "on p ({what}); t = inf when s never reaches it or diverges. The ratio is "
    "r(p,s) = t(p,s) / min over configs of t(p,s), and rho_s(tau) = (number of "
    "instances with r(p,s) <= tau) / (number of instances). rho_s(1) is the fraction "
    "of instances on which s was the cheapest (ties count for every tied config); "
    "rho_s at large tau is the fraction s solves at all."
)
DATA_DEFINITION = (
    "Data profile (More & Wild 2009). d_s(alpha) = (number of instances p with "
    "t(p,s) / (n_p + 1) <= alpha) / (number of instances), where t(p,s) is the number "
    "of gradient evaluations (njev) config s needs to reach gap <= tol*max(1,|f*|) "
    "on p (inf if never or diverged) and n_p is the dimension of p: alpha is a budget "
    "in units of n_p + 1 gradient evaluations (More & Wild count function "
    "evaluations, i.e. simplex gradients; here they are gradient evaluations)."
)
PEER_NOTE = (
    "Some runs come from peer libraries. scipy runs in Python: its times include "
    "interpreter overhead for every iteration. optax and optimistix runs are compiled "
    "JAX with XLA's default options, one start at a time; optbench's own runs are "
    "batched over starts; optimistix's times include one call's dispatch cost (a "
    "few microseconds), which is subtracted from the others'. Counting conventions "
    "differ where the libraries do: "
    "scipy's L-BFGS-B stops on the infinity norm of the projected gradient; "
    "optimistix's BFGS counts one f per line-search trial and one gradient per "
    "accepted step. Compare oracle counts across sources with that in mind."
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #ccc}h2{border-bottom:1px solid #ddd;margin-top:2em}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f2f2f2}td:first-child,td:nth-child(2){text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.85em;color:#444;max-width:900px}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:0.4em 0.8em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 1em;font-size:0.9em}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-word}
code{font-size:0.9em}
"""


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, eq=False)  # DataFrame fields have no truth value
class Profile:
    """Step curves y_s(x) = fraction of instances whose value for config s is <= x.

    ``values`` is the instances x configs table behind them (ratios for a performance
    profile, budgets for a data profile), with inf where a config failed; ``curves``
    maps each config to its breakpoints (ascending finite values) and the fraction at
    each breakpoint.
    """

    values: pd.DataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    n_instances: int

    def at(self, config: str, x: float) -> float:
        """The profile of ``config`` at ``x``: fraction of instances with value <= x."""
        xs, ys = self.curves[config]
        i = int(np.searchsorted(xs, x, side="right")) - 1
        return float(ys[i]) if i >= 0 else 0.0

    def finite_max(self) -> float:
        """Largest finite value over all configs (nan when nothing was solved)."""
        v = self.values.to_numpy(float)
        v = v[np.isfinite(v)]
        return float(v.max()) if v.size else math.nan

    def finite_min(self) -> float:
        v = self.values.to_numpy(float)
        v = v[np.isfinite(v)]
        return float(v.min()) if v.size else math.nan


def instance_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Cost table: one row per problem instance (problem, start), one column per config.

    A cell is ``runs[metric]`` of that run, or inf when the run diverged, never reached
    the tolerance (NaN metric) or is missing (the config did not run on that instance).
    """
    cols = ["problem", "start", "config"]
    if runs.empty:
        return pd.DataFrame(
            index=pd.MultiIndex.from_tuples([], names=["problem", "start"])
        )
    t = pd.to_numeric(runs[metric], errors="coerce").to_numpy(float)
    failed = ~np.isfinite(t) | (runs["status"].astype(str).to_numpy() == "diverged")
    t = np.where(failed | (t < 0), np.inf, t)
    df = runs[cols].assign(_t=t)
    # groupby, not pivot_table(dropna=False), which would invent unobserved instances
    table = df.groupby(["problem", "start", "config"], sort=True)["_t"].min()
    table = table.unstack("config")
    table.columns = [str(c) for c in table.columns]
    return table.astype(float).fillna(np.inf)


def _curves(values: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n = len(values)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for config in values.columns:
        v = np.sort(values[config].to_numpy(float))
        finite = v[np.isfinite(v)]
        xs = np.unique(finite)
        ys = np.searchsorted(finite, xs, side="right") / n if n else xs * 0.0
        curves[str(config)] = (xs, ys.astype(float))
    return curves


def performance_profile(runs: pd.DataFrame, metric: str = "njev_to_tol") -> Profile:
    """Dolan & More (2002) performance profile of the configs in ``runs`` on ``metric``.

    rho_s(tau) = |{p : r(p,s) <= tau}| / |P| with r(p,s) = t(p,s) / min_s t(p,s); t is
    inf for a failure (see ``instance_table``) and an instance no config solved has
    r = inf for all (it stays in |P|). Costs <= 0 (a start already within tolerance
    with a zero time) are raised to the smallest positive cost in the table so that
    ratios stay finite.
    """
    t = instance_table(runs, metric)
    if t.size:
        arr = t.to_numpy(float)
        pos = arr[np.isfinite(arr) & (arr > 0)]
        floor = float(pos.min()) if pos.size else 1.0
        t = t.clip(lower=floor)
    best = t.min(axis=1)
    with np.errstate(invalid="ignore"):
        ratios = t.div(best, axis=0)
    ratios = ratios.fillna(np.inf)  # inf / inf: an instance nobody solved
    return Profile(values=ratios, curves=_curves(ratios), n_instances=len(ratios))


def data_profile(runs: pd.DataFrame, metric: str = "njev_to_tol") -> Profile:
    """More & Wild (2009) data profile: d_s(alpha) = |{p: t(p,s)/(n_p+1) <= alpha}|/|P|.

    n_p is the problem's dimension (``runs.dim``); t as in ``instance_table``.
    """
    t = instance_table(runs, metric)
    if t.size:
        dims = runs.groupby("problem")["dim"].first().astype(float)
        scale = dims.reindex(t.index.get_level_values("problem")).to_numpy() + 1.0
        t = t.div(scale, axis=0)
    return Profile(values=t, curves=_curves(t), n_instances=len(t))


def common_configs(runs: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Configs that ran on every problem instance, and the others (in first-seen order).

    Profiles compare configs on one common set of instances (Dolan & More's P); a
    config run on a few problems only (an lr grid, say) would otherwise count as
    failing everywhere else.
    """
    order = list(dict.fromkeys(runs["config"].astype(str)))
    if not order:
        return [], []
    n_inst = runs[["problem", "start"]].drop_duplicates().shape[0]
    counts = (
        runs.drop_duplicates(["problem", "start", "config"]).groupby("config").size()
    )
    full = [c for c in order if counts.get(c, 0) == n_inst]
    return full, [c for c in order if c not in full]


# ---------------------------------------------------------------------- small helpers


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60] or "x"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == int(x) and abs(x) < 1e6:
            return str(int(x))
        return f"{x:.3g}"
    return str(v)


def _formatted(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: [_fmt(v) for v in df[c]] for c in df.columns})


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df`` (no index; '|' escaped)."""

    def cell(v: Any) -> str:
        return _md(_fmt(v)).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(False)
    ]
    return "\n".join([head, sep, *body])


def _clip_log(values: np.ndarray, floor: float) -> np.ndarray:
    """log10 of values clipped to [floor, VALUE_CEIL]; nan stays nan, +inf -> ceil."""
    v = np.asarray(values, float)
    v = np.where(
        np.isnan(v),
        np.nan,
        np.clip(np.nan_to_num(v, posinf=VALUE_CEIL), floor, VALUE_CEIL),
    )
    return np.log10(v)


def median_band(
    xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], max_points: int = MAX_GRID
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Median and 25/75% quantiles over starts of step functions y_i(x), on one grid.

    Each start i is a sorted x_i with values y_i; at grid point x its value is y_i at
    the last x_i <= x (a frozen run keeps its final value to the right end; before its
    first x it is missing). Returns (grid, q25, median, q75), NaN where no start has a
    value. Pass log values: quantiles commute with monotone maps.
    """
    xs = [np.asarray(x, float) for x in xs]
    finite = [x[np.isfinite(x)] for x in xs]
    allx = np.concatenate(finite) if finite else np.empty(0)
    if allx.size == 0:
        e = np.empty(0)
        return e, e, e, e
    grid = np.unique(allx)
    if grid.size > max_points:
        grid = np.unique(np.linspace(grid[0], grid[-1], max_points))
    mat = np.full((len(xs), grid.size), np.nan)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        keep = np.isfinite(x)
        x, y = x[keep], np.asarray(y, float)[keep]
        if x.size == 0:
            continue
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        idx = np.searchsorted(x, grid, side="right") - 1
        ok = idx >= 0
        mat[i, ok] = y[idx[ok]]
    q = _nan_quantiles(mat, (0.25, 0.5, 0.75))
    return grid, q[0], q[1], q[2]


def _nan_quantiles(mat: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Column quantiles ignoring NaN, linear interpolation (numpy's default method).

    np.nanpercentile falls back to one Python call per column when NaNs are present,
    which made it the slowest part of a report; this is the same rule, vectorised.
    """
    srt = np.sort(mat, axis=0)  # NaN sorts last
    n = np.sum(~np.isnan(mat), axis=0)
    cols = np.arange(mat.shape[1])
    out = np.full((len(qs), mat.shape[1]), np.nan)
    ok = n > 0
    for j, q in enumerate(qs):
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        val = srt[lo, cols] * (1.0 - frac) + srt[hi, cols] * frac
        val = np.where(frac == 0.0, srt[lo, cols], val)
        out[j, ok] = val[ok]
    return out


def _style(index: int) -> dict[str, Any]:
    """20 distinct colours (tab20's dark shades, then its light ones), then dashes."""
    cmap = matplotlib.colormaps["tab20"]
    color = cmap((2 * index) % 20 + (index // 10) % 2)
    styles = ["-", "--", ":", "-."]
    return {"color": color, "linestyle": styles[(index // 20) % len(styles)]}


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _legend_cols(labels: Sequence[str], width_in: float) -> int:
    """Columns for a legend under a figure ``width_in`` wide (8 pt: ~0.075 in/char)."""
    longest = max((len(s) for s in labels), default=0) * 0.075 + 0.6
    fit = int(width_in // max(longest, 1.0))
    return max(1, min(3, fit, math.ceil(len(labels) / 3)))


def _panel_figure(
    nrows: int, ncols: int, width: float, panel_h: float, labels: Sequence[str]
) -> tuple[Figure, np.ndarray, int]:
    """A grid of panels with room for a title on top and a legend of ``labels`` below.

    Margins are set by hand: constrained layout doubles the drawing time of these
    per-problem figures (it measures every tick label), and they are the many.
    """
    leg_cols = _legend_cols(labels, width)
    leg_h = LEGEND_ROW_IN * math.ceil(len(labels) / leg_cols) + 0.15
    top_in, bottom_in, gap_in = 0.75, 0.6, 0.8
    height = nrows * panel_h + (nrows - 1) * gap_in + top_in + bottom_in + leg_h
    fig = Figure(figsize=(width, height))
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


def _bottom_legend(fig: Figure, handles: list[Line2D], ncols: int) -> None:
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=ncols,
        fontsize=8,
        frameon=False,
    )


def _suptitle(fig: Figure, text: str) -> None:
    height = fig.get_figheight()
    fig.suptitle(text, y=1 - 0.12 / height, va="top", fontsize=12)


def _tick_label(v: float, _pos: Any = None) -> str:
    """Plain-text log tick labels: matplotlib's default ones are mathtext, whose
    parsing was a third of the drawing time."""
    if not math.isfinite(v) or v <= 0:
        return ""
    if 1e-3 <= v < 1e4:
        return f"{v:.4g}"
    mant, exp = f"{v:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def _log_axis(ax: Any, which: str = "y", base: float = 10.0) -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log", base=base)
    axis.set_major_formatter(FuncFormatter(_tick_label))
    axis.set_minor_formatter(NullFormatter())


def _label_short_log_axes(ax: Any) -> None:
    """Give a base-10 log axis spanning under ~1.5 decades labels at 2, 3, 5 x 10^k
    (or every integer mantissa under half a decade), widened to whole mantissas so
    that some tick falls inside: decade labels alone could leave it unlabelled."""
    for axis, get, set_ in (
        (ax.xaxis, ax.get_xlim, ax.set_xlim),
        (ax.yaxis, ax.get_ylim, ax.set_ylim),
    ):
        if axis.get_scale() != "log" or getattr(axis.get_transform(), "base", 0) != 10:
            continue
        lo, hi = get()
        if not (0 < lo < hi and math.isfinite(hi)):
            continue
        a, b = math.log10(lo), math.log10(hi)
        if b - a >= 1.5:
            continue
        ea, eb = 10.0 ** math.floor(a), 10.0 ** math.floor(b)
        set_(
            math.floor(lo / ea * (1 + 1e-9)) * ea, math.ceil(hi / eb * (1 - 1e-9)) * eb
        )
        keep = (2, 3, 5) if b - a >= 0.5 else tuple(range(2, 10))
        axis.set_minor_formatter(FuncFormatter(_minor_label(keep)))


def _minor_label(keep: tuple[int, ...]) -> Any:
    def fmt(v: float, _pos: Any = None) -> str:
        if not (math.isfinite(v) and v > 0):
            return ""
        mant = v / 10.0 ** math.floor(math.log10(v) + 1e-12)
        return (
            _tick_label(v)
            if round(mant) in keep and abs(mant - round(mant)) < 1e-6
            else ""
        )

    return fmt


def _wrap(text: str, width: int = 120) -> str:
    return textwrap.fill(text, width=width)


# ------------------------------------------------------------------- report content


@dataclass
class _Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class _Para:
    text: str
    note: bool = False


@dataclass
class _Table:
    df: pd.DataFrame
    caption: str = ""


@dataclass
class _Image:
    stem: str
    alt: str
    caption: str


@dataclass
class _Report:
    out: Path
    blocks: list[Any] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(_Heading(level, text, _slug(text)))

    def para(self, text: str, note: bool = False) -> None:
        self.blocks.append(_Para(text, note))

    def table(self, df: pd.DataFrame, caption: str = "") -> None:
        self.blocks.append(_Table(_formatted(df), caption))

    def figure(self, fig: Figure, stem: str, alt: str, caption: str) -> None:
        stem = f"{len(self.figures):02d}_{stem}"
        for ax in fig.axes:
            _label_short_log_axes(ax)
        with matplotlib.rc_context(
            {"svg.fonttype": "none", "svg.hashsalt": "optbench"}
        ):
            for ext, kw in (("png", {"dpi": 100}), ("svg", {})):
                buf = io.BytesIO()
                fig.savefig(buf, format=ext, **kw)
                write_bytes(buf.getvalue(), self.out / f"{stem}.{ext}")
        self.figures.append(stem)
        self.blocks.append(_Image(stem, alt, caption))


def _load(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    runs_path = run_dir / "runs.parquet"
    if not runs_path.exists():
        raise FileNotFoundError(f"{runs_path} not found: nothing to report")
    runs = pd.read_parquet(runs_path)
    tpath = run_dir / "traces.parquet"
    traces = pd.read_parquet(tpath) if tpath.exists() else pd.DataFrame()
    mpath = run_dir / "manifest.json"
    manifest: dict[str, Any] = {}
    if mpath.exists():
        try:
            manifest = json.loads(mpath.read_text())
        except json.JSONDecodeError:
            manifest = {"_error": f"{mpath.name} is not valid JSON"}
    return _normalise_runs(runs), _normalise_traces(traces), manifest


_RUN_DEFAULTS: dict[str, Any] = {
    "problem": "?",
    "problem_name": "",
    "problem_params": "{}",
    "dim": 0,
    "optimizer": "?",
    "config": "?",
    "optimizer_params": "{}",
    "lr": np.nan,
    "source": "optbench",
    "start": 0,
    "status": "max_steps",
    "solved": False,
    "f_star": np.nan,
    "f_star_known": True,
    "final_f": np.nan,
    "final_gap": np.nan,
    "final_grad_norm": np.nan,
    "n_steps": np.nan,
    "nfev": np.nan,
    "njev": np.nan,
    "nhev": np.nan,
    "steps_to_tol": np.nan,
    "nfev_to_tol": np.nan,
    "njev_to_tol": np.nan,
    "rate": np.nan,
    "order": np.nan,
    "rate_theory": np.nan,
    "compile_s": np.nan,
    "run_s": np.nan,
    "time_to_tol_s": np.nan,
}
_TRACE_COLUMNS = [
    "problem",
    "config",
    "start",
    "step",
    "gap",
    "grad_norm",
    "njev",
    "time_s",
    "x0",
    "x1",
]


def _normalise_runs(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.copy()
    for col, default in _RUN_DEFAULTS.items():
        if col not in runs:
            runs[col] = default
    for col in ("problem", "config", "optimizer", "status", "source"):
        runs[col] = runs[col].astype(str)
    runs["solved"] = runs["solved"].fillna(False).astype(bool)
    runs["lr"] = pd.to_numeric(runs["lr"], errors="coerce")
    return runs.reset_index(drop=True)


def _normalise_traces(traces: pd.DataFrame) -> pd.DataFrame:
    traces = traces.copy()
    for col in _TRACE_COLUMNS:
        if col not in traces:
            traces[col] = np.nan if col not in ("problem", "config") else ""
    if len(traces):
        traces["problem"] = traces["problem"].astype(str)
        traces["config"] = traces["config"].astype(str)
        traces = traces.sort_values(
            ["problem", "config", "start", "step"], kind="stable"
        )
    return traces.reset_index(drop=True)


def _median(values: Iterable[float]) -> float:
    v = np.asarray(list(values), float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


# ----------------------------------------------------------------------- the header


def _settings(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    def j(v: Any) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k} {v2}" for k, v2 in v.items())
        if isinstance(v, list):
            return " ".join(str(x) for x in v)
        return "" if v is None else str(v)

    items = [
        ("suite", manifest.get("suite")),
        ("status", manifest.get("status")),
        ("started", manifest.get("started")),
        ("finished", manifest.get("finished")),
        ("command", manifest.get("command")),
        ("git commit", manifest.get("git_commit")),
        (
            "settings",
            ", ".join(
                f"{k}={manifest[k]}"
                for k in ("starts", "seed", "num_steps", "gtol", "tol", "precision")
                if k in manifest
            ),
        ),
        ("versions", manifest.get("versions")),
        ("platform", manifest.get("platform")),
    ]
    return [(k, j(v)) for k, v in items if v not in (None, "", [], {})]


# ------------------------------------------------------------------------ figures


def _failed_label(config: str, k: int, n: int) -> str:
    return f"{config} ({k}/{n} failed)" if k else config


def _convergence_figure(
    rep: _Report,
    problem: str,
    tp: pd.DataFrame,
    rp: pd.DataFrame,
    colors: dict[str, dict[str, Any]],
) -> None:
    f_star = float(rp["f_star"].iloc[0]) if len(rp) else math.nan
    f_star_known = bool(rp["f_star_known"].iloc[0]) if len(rp) else True
    floor = GAP_FLOOR_REL * max(1.0, abs(f_star) if math.isfinite(f_star) else 1.0)
    diverged = set(
        zip(
            rp.loc[rp.status == "diverged", "config"],
            rp.loc[rp.status == "diverged", "start"],
            strict=True,
        )
    )
    configs = list(dict.fromkeys(rp["config"]))
    by_cfg = tp.groupby("config", sort=False).indices if len(tp) else {}

    labels = []
    for config in configs:
        rows = rp[rp.config == config]
        k = int((rows.status == "diverged").sum())
        labels.append(_failed_label(config, k, int(rows["start"].nunique())))
    fig, axes, ncol = _panel_figure(2, 2, 11.0, 3.2, labels)
    panels = [
        (axes[0, 0], "step", "gap", "step", "gap f - f*"),
        (axes[0, 1], "njev", "gap", "gradient evaluations (njev)", "gap f - f*"),
        (axes[1, 0], "time_s", "gap", "time (s, log)", "gap f - f*"),
        (axes[1, 1], "step", "grad_norm", "step", "gradient norm ||g||"),
    ]
    gfloor = 1e-300
    if len(tp):
        g0 = tp.loc[tp.step == 0, "grad_norm"].to_numpy(float)
        g0 = g0[np.isfinite(g0)]
        gfloor = GAP_FLOOR_REL * max(1.0, float(g0.max()) if g0.size else 1.0)
    lims: dict[int, list[float]] = {i: [] for i in range(4)}
    handles = []
    for config, label in zip(configs, labels, strict=True):
        style = colors[config]
        handles.append(Line2D([], [], lw=1.8, label=label, **style))
        idx = by_cfg.get(config)
        if idx is None:
            continue
        tc = tp.iloc[idx]
        per_start = [
            ts
            for s, ts in tc.groupby("start", sort=True)
            if (config, s) not in diverged
        ]
        if not per_start:
            continue
        for i, (ax, xcol, ycol, _, _) in enumerate(panels):
            fl = floor if ycol == "gap" else gfloor
            xs = [ts[xcol].to_numpy(float) for ts in per_start]
            ys = [_clip_log(ts[ycol].to_numpy(float), fl) for ts in per_start]
            grid, lo, med, hi = median_band(xs, ys)
            # time spans microseconds (compiled) to seconds (scipy): log x, from > 0
            ok = np.isfinite(med) & ((grid > 0) if xcol == "time_s" else True)
            if not ok.any():
                continue
            ax.plot(grid[ok], 10.0 ** med[ok], lw=1.6, **style)
            if len(per_start) > 1:
                ax.fill_between(
                    grid[ok],
                    10.0 ** lo[ok],
                    10.0 ** hi[ok],
                    color=style["color"],
                    alpha=0.12,
                    lw=0,
                )
            lims[i].extend([np.nanmin(lo[ok]), np.nanmax(hi[ok])])
    for i, (ax, xcol, _, xlabel, ylabel) in enumerate(panels):
        _log_axis(ax, "y")
        if xcol == "time_s" and lims[i]:
            _log_axis(ax, "x")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + " (log)")
        ax.grid(True, which="major", alpha=0.3)
        if lims[i]:
            lo, hi = min(lims[i]), max(lims[i])
            ax.set_ylim(10.0 ** (lo - 0.3), 10.0 ** (hi + 0.3))
        else:
            ax.set_ylim(1e-16, 1.0)
            ax.text(
                0.5,
                0.5,
                "no finite runs to draw\n(every run diverged)",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="0.4",
            )
    axes[0, 0].set_title("gap vs step")
    axes[0, 1].set_title("gap vs gradient evaluations")
    axes[1, 0].set_title("gap vs time")
    axes[1, 1].set_title("gradient norm vs step")
    star = "f* published" if f_star_known else "f* = best f found in this run"
    _suptitle(
        fig,
        f"{problem}: median over starts, band 25-75%\n({star}; "
        f"gaps <= 0 drawn at {floor:.0e})",
    )
    _bottom_legend(fig, handles, ncol)
    rep.figure(
        fig,
        f"convergence_{_slug(problem)}",
        alt=f"Convergence of every config on {problem}: gap versus step, gradient "
        "evaluations and time, and gradient norm versus step",
        caption=f"{problem}: gap f - f* (log scale) versus step, gradient evaluations "
        "and seconds, and gradient norm versus step. One line per config: the "
        "median over starts with a 25-75% band; diverged runs are left out and "
        "counted as 'k/n failed' in the legend.",
    )


def _contour_figure(
    rep: _Report,
    problem: str,
    tp: pd.DataFrame,
    rp: pd.DataFrame,
    colors: dict[str, dict[str, Any]],
) -> str | None:
    """Contour of f with each config's path from start 0; returns a note on failure."""
    name = str(rp["problem_name"].iloc[0])
    try:
        import jax
        import jax.numpy as jnp

        import problems

        params = json.loads(str(rp["problem_params"].iloc[0]) or "{}")
        prob = problems.get(name, **params)
    except Exception as err:  # a peer's own problem, or a problem since removed
        return f"{problem}: no contour plot (could not rebuild the problem: {err})"
    x_star = None if prob.x_star is None else np.asarray(prob.x_star, float)
    diverged = set(rp.loc[(rp.status == "diverged") & (rp.start == 0), "config"])
    paths = {}
    s0 = tp[tp.start == 0]
    by_cfg = s0.groupby("config", sort=False).indices
    for config in dict.fromkeys(rp["config"]):
        if config not in by_cfg:
            continue
        xy = s0.iloc[by_cfg[config]][["x0", "x1"]].to_numpy(float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy):
            paths[config] = xy
    pts = [p for c, p in paths.items() if c not in diverged]
    pts += [p[:1] for p in paths.values()]
    if x_star is not None:
        pts.append(x_star[None, :])
    if not pts:
        pts.append(np.asarray(prob.x0, float)[None, :])
    allp = np.concatenate(pts)
    allp = allp[np.all(np.abs(allp) < 1e12, axis=1)]
    if not len(allp):
        return f"{problem}: no contour plot (the paths are not finite)"
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(1.0, np.abs(hi)))
    span = np.maximum(span, 0.5 * span.max())  # a thin box hides the landscape
    mid = 0.5 * (lo + hi)
    lo, hi = mid - 0.65 * span, mid + 0.65 * span
    g0 = np.linspace(lo[0], hi[0], CONTOUR_GRID)
    g1 = np.linspace(lo[1], hi[1], CONTOUR_GRID)
    gx, gy = np.meshgrid(g0, g1)
    try:
        grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], axis=1))
        z = np.asarray(jax.jit(jax.vmap(prob.f))(grid), float).reshape(gx.shape)
    except Exception as err:
        return f"{problem}: no contour plot (evaluating f on a grid failed: {err})"
    z = np.where(np.isfinite(z), z, np.nan)
    f_ref = np.nanmin(z) if np.isfinite(z).any() else 0.0
    f_star = float(rp["f_star"].iloc[0])
    if math.isfinite(f_star):
        f_ref = min(f_ref, f_star)
    zz = z - f_ref
    pos = zz[np.isfinite(zz) & (zz > 0)]

    n_leg = len(paths) + 2
    ncol = 2 if n_leg > 5 else 1
    fig = _new_figure(7.5, 6.2 + 0.2 * math.ceil(n_leg / ncol))
    ax = fig.subplots()
    level_note = ""
    if pos.size:
        zhi = float(pos.max())
        # from the 1st percentile: lower levels are thin slivers the grid cannot resolve
        zlo = max(float(np.percentile(pos, 1.0)), zhi * 1e-12)
        if zhi > zlo:
            levels = np.geomspace(zlo, zhi, 24)
            ax.contour(
                gx,
                gy,
                np.clip(zz, zlo * 0.5, None),
                levels=levels,
                colors="0.6",
                linewidths=0.6,
            )
            level_note = (
                f"\ncontours of f - min f: 24 log-spaced levels, {_tick_label(zlo)} "
                f"to {_tick_label(zhi)}"
            )
    handles = []
    for config, xy in paths.items():
        st = colors[config]
        dead = config in diverged
        ax.plot(
            xy[:, 0],
            xy[:, 1],
            marker="o",
            ms=2.5,
            lw=1.3,
            color=st["color"],
            linestyle="--" if dead else "-",
        )
        lab = f"{config} ({len(xy) - 1} steps{', diverged' if dead else ''})"
        handles.append(
            Line2D(
                [],
                [],
                color=st["color"],
                lw=1.5,
                linestyle="--" if dead else "-",
                label=lab,
            )
        )
    x0 = next(iter(paths.values()))[0] if paths else np.asarray(prob.x0, float)
    ax.plot(x0[0], x0[1], "ks", ms=7)
    handles.append(Line2D([], [], color="k", marker="s", ls="", label="start 0"))
    if x_star is not None:
        ax.plot(x_star[0], x_star[1], "*", color="crimson", ms=15, mec="k")
        handles.append(
            Line2D(
                [], [], color="crimson", marker="*", ms=12, mec="k", ls="", label="x*"
            )
        )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(f"{problem}: paths from start 0{level_note}", fontsize=10)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=ncol,
        fontsize=8,
        frameon=False,
    )
    rep.figure(
        fig,
        f"contour_{_slug(problem)}",
        alt=f"Contour plot of {problem} with each config's path from start 0",
        caption=f"{problem}: contours of f - min f at log-spaced levels, each config's "
        "iterates from start 0 (dashed: the run diverged), the start (square) "
        "and x* (star) where known.",
    )
    return None


def _profile_figure(
    rep: _Report,
    prof: Profile,
    stem: str,
    title: str,
    xlabel: str,
    definition: str,
    colors: dict[str, dict[str, Any]],
    kind: str,
) -> None:
    n_leg = len(prof.curves)
    fig = _new_figure(10.0, max(5.2, 2.6 + 0.22 * n_leg))
    ax = fig.subplots()
    vmax, vmin = prof.finite_max(), prof.finite_min()
    if kind == "perf":
        x_lo = 1.0
        x_hi = max(4.0, vmax * 1.5) if math.isfinite(vmax) else 4.0
        _log_axis(ax, "x", base=2.0)
        ylabel = "fraction of instances with ratio <= tau"
    else:
        x_lo = vmin / 2.0 if math.isfinite(vmin) else 0.5
        x_hi = max(x_lo * 4.0, vmax * 1.5) if math.isfinite(vmax) else 2.0
        _log_axis(ax, "x")
        ylabel = "fraction of instances solved within budget"
    for config, (xs, ys) in prof.curves.items():
        x = np.concatenate([[x_lo], xs, [x_hi]])
        y = np.concatenate([[prof.at(config, x_lo)], ys, [ys[-1] if ys.size else 0.0]])
        ax.step(x, y, where="post", lw=1.6, label=config, **colors[config])
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{title} ({prof.n_instances} instances)")
    if not math.isfinite(vmax):
        ax.text(
            0.5,
            0.5,
            "no config reached the tolerance on any instance",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="0.4",
        )
    if prof.curves:
        fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    fig.supxlabel(_wrap(definition, 130), fontsize=8, ha="left", x=0.01)
    rep.figure(
        fig,
        stem,
        alt=f"{title} over {prof.n_instances} problem instances",
        caption=definition,
    )


def _lr_figure(
    rep: _Report,
    problem: str,
    rp: pd.DataFrame,
    families: dict[str, pd.DataFrame],
    num_steps: float,
) -> pd.DataFrame:
    labels = [*families, LR_DIVERGED, LR_CRAWL.format(_fmt(num_steps))]
    fig, axes, ncol = _panel_figure(1, 2, 11.0, 3.6, labels)
    ax_gap, ax_steps = axes[0]
    rows = []
    handles = []
    f_star = float(rp["f_star"].iloc[0])
    floor = GAP_FLOOR_REL * max(1.0, abs(f_star) if math.isfinite(f_star) else 1.0)
    top = {
        ax: blended_transform_factory(ax.transData, ax.transAxes)
        for ax in (ax_gap, ax_steps)
    }
    gap_vals: list[float] = []
    for j, (family, fr) in enumerate(families.items()):
        st = _style(j)
        pts = []
        for lr, g in fr.groupby("lr", sort=True):
            n = len(g)
            dead = g.status == "diverged"
            k = int(dead.sum())
            alive = g[~dead]
            gap = _median(10.0 ** _clip_log(alive["final_gap"].to_numpy(float), floor))
            solved = alive[alive.solved]
            steps = _median(solved["steps_to_tol"])
            pts.append((lr, gap, steps, k, n, len(solved)))
            rows.append(
                {
                    "family": family,
                    "lr": lr,
                    "median final gap": gap,
                    "median steps_to_tol": steps,
                    "solved": f"{len(solved)}/{n}",
                    "diverged": f"{k}/{n}",
                }
            )
        lr_a = np.array([p[0] for p in pts], float)
        gap_a = np.array([p[1] for p in pts], float)
        steps_a = np.array([p[2] for p in pts], float)
        k_a = np.array([p[3] for p in pts])
        unsolved = np.array([p[5] == 0 for p in pts])
        ax_gap.plot(lr_a, gap_a, marker="o", ms=4, lw=1.5, color=st["color"])
        ax_steps.plot(lr_a, steps_a, marker="o", ms=4, lw=1.5, color=st["color"])
        gap_vals.extend(gap_a[np.isfinite(gap_a)])
        for ax in (ax_gap, ax_steps):
            if (k_a > 0).any():
                ax.plot(
                    lr_a[k_a > 0],
                    np.full((k_a > 0).sum(), 0.97 - 0.035 * (j % 8)),
                    "x",
                    ms=9,
                    mew=2,
                    color=st["color"],
                    transform=top[ax],
                    clip_on=False,
                )
        crawl = unsolved & (k_a < np.array([p[4] for p in pts]))
        if crawl.any():
            ax_steps.plot(
                lr_a[crawl],
                np.full(crawl.sum(), 0.97 - 0.035 * (j % 8)),
                "^",
                ms=7,
                mfc="none",
                color=st["color"],
                transform=top[ax_steps],
                clip_on=False,
            )
        handles.append(
            Line2D([], [], color=st["color"], marker="o", ms=4, label=family)
        )
    handles.append(
        Line2D(
            [],
            [],
            color="k",
            marker="x",
            mew=2,
            ls="",
            label=labels[-2],
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            color="k",
            marker="^",
            mfc="none",
            ls="",
            label=labels[-1],
        )
    )
    _log_axis(ax_gap, "x")
    _log_axis(ax_gap, "y")
    if gap_vals:
        ax_gap.set_ylim(min(gap_vals) / 3, max(gap_vals) * 30)
    else:
        ax_gap.set_ylim(floor, 1.0)
    ax_gap.set_xlabel("learning rate lr (log)")
    ax_gap.set_ylabel("median final gap f - f* (log)")
    ax_gap.set_title("final gap vs lr (non-diverged starts)")
    _log_axis(ax_steps, "x")
    _log_axis(ax_steps, "y")
    ax_steps.set_xlabel("learning rate lr (log)")
    ax_steps.set_ylabel("median steps to tolerance (log)")
    ax_steps.set_title("steps to tolerance vs lr (solved starts)")
    if not np.isfinite(pd.DataFrame(rows)["median steps_to_tol"].to_numpy(float)).any():
        ax_steps.set_ylim(
            1, max(10.0, float(num_steps) if math.isfinite(num_steps) else 10.0)
        )
    for ax in (ax_gap, ax_steps):
        ax.grid(True, alpha=0.3)
        lo, hi = ax.get_ylim()  # headroom for the markers drawn at the top
        ax.set_ylim(lo, hi * (hi / lo) ** 0.25)
    _suptitle(
        fig, f"{problem}: learning-rate sweep (too large diverges, too small crawls)"
    )
    _bottom_legend(fig, handles, ncol)
    rep.figure(
        fig,
        f"lr_{_slug(problem)}",
        alt=f"Learning-rate sweep on {problem}: final gap and steps to tolerance "
        "versus lr",
        caption=f"{problem}: median final gap and median steps to tolerance versus "
        "learning rate, one line per optimizer (other hyperparameters fixed). "
        "An x at the top marks an lr at which some start diverged; a triangle "
        "marks an lr at which no start reached the tolerance.",
    )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ tables


def lr_families(rp: pd.DataFrame, min_lrs: int = 3) -> dict[str, pd.DataFrame]:
    """The lr sweeps in one problem's runs: {family label: its runs}.

    A family is one optimizer with its other hyperparameters fixed (its label is the
    config label without lr); it counts as a sweep when it has >= ``min_lrs``
    different finite lr values.
    """
    from problems.base import make_label

    def family(row: Any) -> str:
        try:
            params = json.loads(row.optimizer_params or "{}")
        except (TypeError, json.JSONDecodeError):
            params = {}
        params.pop("lr", None)
        return make_label(str(row.optimizer), params)

    lr = rp["lr"].to_numpy(float)
    rp = rp[np.isfinite(lr) & (lr > 0)]  # drawn on a log axis
    if rp.empty:
        return {}
    fam = pd.Series([family(r) for r in rp.itertuples(index=False)], index=rp.index)
    out = {}
    for name, idx in fam.groupby(fam, sort=False).groups.items():
        g = rp.loc[idx]
        if g["lr"].nunique() >= min_lrs:
            out[str(name)] = g
    return out


def _summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for config, g in runs.groupby("config", sort=False):
        n = len(g)
        solved = g[g.solved & (g.status != "diverged")]
        cells = g.drop_duplicates("problem")
        rows.append(
            {
                "config": config,
                "source": ",".join(sorted(set(g.source))),
                "problems": int(g.problem.nunique()),
                "runs": n,
                "solved": f"{len(solved)}/{n}",
                "solved fraction": len(solved) / n if n else math.nan,
                "failed (diverged)": f"{int((g.status == 'diverged').sum())}/{n}",
                "median steps_to_tol": _median(solved.steps_to_tol),
                "median njev_to_tol": _median(solved.njev_to_tol),
                "median time_to_tol_s": _median(solved.time_to_tol_s),
                "median compile_s": _median(cells.compile_s),
            }
        )
    return pd.DataFrame(rows)


def _rate_table(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (problem, config), g in runs.groupby(["problem", "config"], sort=False):
        alive = g[g.status != "diverged"]
        theory = g.rate_theory.dropna()
        rows.append(
            {
                "problem": problem,
                "config": config,
                "rate (median)": _median(alive.rate),
                "rate_theory": float(theory.iloc[0]) if len(theory) else math.nan,
                "order (median)": _median(alive.order),
                "starts used": f"{len(alive)}/{len(g)}",
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ rendering


def _md(text: str) -> str:
    """Escape the markdown that our texts contain by accident (f*, tol*max(...))."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _render_md(rep: _Report, title: str, meta: list[tuple[str, str]]) -> str:
    out = [f"# {_md(title)}", ""]
    out += [f"- **{k}**: {_md(v)}" for k, v in meta]
    out.append("")
    for b in rep.blocks:
        if isinstance(b, _Heading):
            out += ["#" * b.level + " " + _md(b.text), ""]
        elif isinstance(b, _Para):
            out += [("> **Note.** " if b.note else "") + _md(b.text), ""]
        elif isinstance(b, _Table):
            if b.caption:
                out += [f"_{_md(b.caption)}_", ""]
            out += [markdown_table(b.df) if len(b.df) else "(empty)", ""]
        elif isinstance(b, _Image):
            alt = _md(b.alt).replace("[", "(").replace("]", ")")
            out += [
                f"![{alt}]({b.stem}.png)",
                "",
                f"_{_md(b.caption)}_ ([SVG]({b.stem}.svg))",
                "",
            ]
    return "\n".join(out)


def _render_html(rep: _Report, title: str, meta: list[tuple[str, str]]) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        '<dl class="meta">',
    ]
    out += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta]
    out.append("</dl>")
    toc = [b for b in rep.blocks if isinstance(b, _Heading) and b.level == 2]
    if toc:
        out.append("<nav><ul>")
        out += [f'<li><a href="#{e(b.anchor)}">{e(b.text)}</a></li>' for b in toc]
        out.append("</ul></nav>")
    for b in rep.blocks:
        if isinstance(b, _Heading):
            out.append(f'<h{b.level} id="{e(b.anchor)}">{e(b.text)}</h{b.level}>')
        elif isinstance(b, _Para):
            cls = ' class="note"' if b.note else ""
            out.append(f"<p{cls}>{e(b.text)}</p>")
        elif isinstance(b, _Table):
            if b.caption:
                out.append(f"<p><em>{e(b.caption)}</em></p>")
            out.append(
                b.df.to_html(index=False, border=0, escape=True)
                if len(b.df)
                else "<p>(empty)</p>"
            )
        elif isinstance(b, _Image):
            out.append(
                f'<figure><a href="{e(b.stem)}.svg"><img src="{e(b.stem)}.png" '
                f'alt="{e(b.alt)}"></a>'
                f"<figcaption>{e(b.caption)} (click for SVG)</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------ the report


def build_report(run_dir: Path) -> Path:
    """Write ``run_dir/report/`` (figures, report.md, index.html); return its path."""
    run_dir = Path(run_dir)
    runs, traces, manifest = _load(run_dir)
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    rep = _Report(out)

    configs_all = list(dict.fromkeys(runs["config"]))
    colors = {c: _style(i) for i, c in enumerate(configs_all)}
    n_runs = len(runs)
    n_div = int((runs.status == "diverged").sum())

    # ---- notes
    if n_runs == 0:
        rep.para("The run has no results (runs.parquet is empty).", note=True)
    elif n_div == n_runs:
        rep.para(
            f"Every run diverged ({n_div}/{n_runs}): no config reached the "
            "tolerance, there are no medians to draw and the profiles are flat "
            "at zero.",
            note=True,
        )
    elif n_div:
        rep.para(
            f"{n_div}/{n_runs} runs diverged (non-finite values). They are left "
            "out of the medians and counted as 'k/n failed' in the legends."
        )
    if (runs.source != "optbench").any():
        rep.para(PEER_NOTE, note=True)
    mstatus = manifest.get("status")
    if mstatus and mstatus != "complete":
        rep.para(
            f"The run's status is '{mstatus}': its tables may be incomplete.", note=True
        )
    if "_error" in manifest:
        rep.para(manifest["_error"], note=True)
    failed_cells = [
        c
        for c in manifest.get("cells", []) or []
        if isinstance(c, dict) and c.get("status") == "failed"
    ]
    if failed_cells:
        rep.para(
            "Cells that failed to run: "
            + "; ".join(
                f"{c.get('problem')} x {c.get('config')}: {c.get('error')}"
                for c in failed_cells
            ),
            note=True,
        )

    # ---- summary
    rep.heading(2, "Summary per config")
    rep.table(
        _summary_table(runs),
        caption="Solved: final gap <= tol*max(1,|f*|) and not diverged. Medians "
        "of steps / njev / time to tolerance are over solved runs; "
        "compile_s over cells.",
    )

    # ---- profiles
    rep.heading(2, "Performance and data profiles")
    full, left_out = common_configs(runs)
    if left_out:
        rep.para(
            "Left out of the profiles because they did not run on every problem "
            "instance: " + ", ".join(left_out) + "."
        )
    pruns = runs[runs.config.isin(full)]
    if not full:
        rep.para("No config ran on every instance: no profiles.")
    else:
        n_inst = pruns[["problem", "start"]].drop_duplicates().shape[0]
        rep.para(f"{n_inst} problem instances (problem x start), {len(full)} configs.")
        prof = performance_profile(pruns, "njev_to_tol")
        d = PERF_DEFINITION.format(what="gradient evaluations, njev_to_tol")
        _profile_figure(
            rep,
            prof,
            "perf_profile_njev",
            "Performance profile on gradient evaluations",
            "tau: ratio to the fewest gradient evaluations (log2)",
            d,
            colors,
            "perf",
        )
        prof_t = performance_profile(pruns, "time_to_tol_s")
        d = PERF_DEFINITION.format(what="seconds, time_to_tol_s")
        _profile_figure(
            rep,
            prof_t,
            "perf_profile_time",
            "Performance profile on time to tolerance",
            "tau: ratio to the shortest time (log2)",
            d,
            colors,
            "perf",
        )
        dprof = data_profile(pruns, "njev_to_tol")
        _profile_figure(
            rep,
            dprof,
            "data_profile_njev",
            "Data profile on gradient evaluations",
            "alpha: budget in units of (n+1) gradient evaluations (log)",
            DATA_DEFINITION,
            colors,
            "data",
        )

    # ---- rates
    rep.heading(2, "Measured rate and order")
    rep.para(
        "rate: exp(slope) of a fit of log gap over the tail, per step (median over "
        "non-diverged starts); order: slope of log e_{k+1} against log e_k; "
        "rate_theory: the theoretical per-step contraction where known."
    )
    rep.table(_rate_table(runs))

    # ---- per problem
    num_steps = manifest.get("num_steps")
    if num_steps is None and "num_steps" in runs:
        num_steps = runs["num_steps"].max()
    num_steps = float(num_steps) if num_steps is not None else math.nan
    tgroups = traces.groupby("problem", sort=False).indices if len(traces) else {}
    notes: list[str] = []
    for problem, rp in runs.groupby("problem", sort=False):
        rep.heading(2, f"Problem {problem}")
        dim = int(rp["dim"].iloc[0])
        idx = tgroups.get(problem)
        tp = traces.iloc[idx] if idx is not None else traces.iloc[:0]
        k = int((rp.status == "diverged").sum())
        fs = rp["f_star"].iloc[0]
        known = "published" if bool(rp["f_star_known"].iloc[0]) else "best found"
        rep.para(
            f"dimension {dim}; f* = {_fmt(fs)} ({known}); {len(rp)} runs, "
            f"{k} diverged, {int(rp.solved.sum())} solved."
        )
        if k == len(rp):
            rep.para(f"Every run on {problem} diverged.", note=True)
        if tp.empty:
            rep.para("No traces were stored for this problem.")
        else:
            _convergence_figure(rep, problem, tp, rp, colors)
            if dim == 2 and np.isfinite(tp[["x0", "x1"]].to_numpy(float)).any():
                note = _contour_figure(rep, problem, tp, rp, colors)
                if note:
                    notes.append(note)
                    rep.para(note)
        fams = lr_families(rp)
        if fams:
            rep.heading(3, f"Learning-rate sweep on {problem}")
            tbl = _lr_figure(rep, problem, rp, fams, num_steps)
            rep.table(tbl)

    title = f"optbench report: {manifest.get('suite', run_dir.name)}"
    meta = _settings(manifest)
    meta.append(
        (
            "runs",
            f"{n_runs} runs, {runs.problem.nunique()} problems, "
            f"{len(configs_all)} configs, {n_div} diverged",
        )
    )
    write_bytes(_render_md(rep, title, meta).encode(), out / "report.md")
    write_bytes(_render_html(rep, title, meta).encode(), out / "index.html")
    # figures of an earlier build of this report that this one no longer has
    current = set(rep.figures)
    for old in out.iterdir():
        if (
            old.suffix in (".png", ".svg")
            and re.match(r"\d\d_", old.name)
            and old.stem not in current
        ):
            with contextlib.suppress(OSError):
                old.unlink()
    return out
