"""The page's interactive figures: plotly figure dicts, drawn in the browser by
plotly.js, which index.html inlines once (so it opens from disk, offline).

Every control is plotly's own: update menus switch the axes (their buttons carry the
data of each choice), a click on a legend entry hides or shows a config. The dicts are
built directly (no ``plotly.graph_objects``, whose validation costs more than the
report's figures), their arrays as plotly's typed-array specs, and hold at most about
``2 POINTS`` points per curve.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.report.palette import style
from bench.report.tasks import Traced, failed_label
from bench.status import Status

POINTS = 40  # per run: this many evenly spaced steps, and as many log-spaced ones
# (trace column, label) the convergence explorer offers on each axis
X_CHOICES = (
    ("step", "step"),
    ("njev", "gradient evaluations"),
    ("nfev", "function evaluations"),
    ("time_s", "seconds"),
)
Y_CHOICES = (("gap", "gap f - f*"), ("grad_norm", "gradient norm ||g||"))
_DASH = {"-": "solid", "--": "dash", ":": "dot", "-.": "dashdot"}
HOVER = "<b>%{fullData.name}</b><br>start {start}<br>x %{x:.4g}<br>y %{y:.3e}"


def line_style(index: int) -> dict[str, str]:
    """The plotly line of style ``index``: the static figures' colour and dashes."""
    st = style(index)
    return {"color": st["color"], "dash": _DASH[st["linestyle"]]}


def typed(v: np.ndarray) -> dict[str, str]:
    """An array as plotly.js's typed-array spec (float64, base64): an eighth of the
    time of formatting its numbers in JSON, and shorter."""
    data = np.ascontiguousarray(v, dtype="<f8").tobytes()
    return {"dtype": "f8", "bdata": base64.b64encode(data).decode("ascii")}


def _thin(n: int) -> np.ndarray:
    """Row indices kept of a run of ``n`` rows: evenly spaced and log-spaced ones
    (a log x axis needs the first steps), first and last always."""
    if n <= 2 * POINTS:
        return np.arange(n)
    lin = np.linspace(0, n - 1, POINTS)
    log = np.geomspace(1, n - 1, POINTS)
    return np.unique(np.concatenate([[0], lin, log]).round().astype(int))


def _menu(
    buttons: list[dict[str, Any]], x: float, kind: str = "dropdown", active: int = 0
) -> dict[str, Any]:
    return {
        "type": kind,
        "direction": "down" if kind == "dropdown" else "right",
        "buttons": buttons,
        "active": active,
        "showactive": True,
        "x": x,
        "xanchor": "left",
        "y": 1.16,
        "yanchor": "top",
        "pad": {"r": 4, "t": 2},
        "font": {"size": 11},
    }


def _scale_menu(axis: str, x: float, log_first: bool) -> dict[str, Any]:
    kinds = ["log", "linear"] if log_first else ["linear", "log"]
    buttons = [
        {
            "label": f"{axis} {k}",
            "method": "relayout",
            "args": [{f"{axis}axis.type": k}],
        }
        for k in kinds
    ]
    return _menu(buttons, x, kind="buttons")


def convergence_explorer(
    problem: str, rp: pd.DataFrame, traced: Traced, styles: dict[str, int]
) -> dict[str, Any]:
    """Every start of every config on ``problem`` as one line, x and y chosen from
    X_CHOICES and Y_CHOICES (log or linear each); a config's starts share one legend
    entry. ``traced``: ``tasks.trace_runs`` of the problem's traces (gaps <= 0 at the
    static figures' floor)."""
    cols, runs = traced
    r_config = rp["config"].to_numpy()
    r_dead = (rp["status"] == Status.DIVERGED.label).to_numpy()
    data: list[dict[str, Any]] = []
    xs: dict[str, list[np.ndarray]] = {c: [] for c, _ in X_CHOICES}
    ys: dict[str, list[np.ndarray]] = {c: [] for c, _ in Y_CHOICES}
    for config in dict.fromkeys(r_config):
        mine = r_config == config
        label = failed_label(config, int((mine & r_dead).sum()), int(mine.sum()))
        for i, (start, rows) in enumerate(runs.get(config, [])):
            keep = np.arange(rows.start, rows.stop)[_thin(rows.stop - rows.start)]
            for c in xs:
                xs[c].append(typed(cols[c][keep]))
            for c in ys:
                ys[c].append(typed(10.0 ** cols[c][keep]))
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": label,
                    "legendgroup": config,
                    "showlegend": i == 0,
                    "line": {"width": 1.2, **line_style(styles[config])},
                    "hovertemplate": HOVER.replace("{start}", str(start))
                    + "<extra></extra>",
                    "x": xs["step"][-1],
                    "y": ys["gap"][-1],
                }
            )
    x_menu = [
        {
            "label": f"x: {label}",
            "method": "update",
            "args": [{"x": xs[c]}, {"xaxis.title.text": label}],
        }
        for c, label in X_CHOICES
    ]
    y_menu = [
        {
            "label": f"y: {label}",
            "method": "update",
            "args": [{"y": ys[c]}, {"yaxis.title.text": label}],
        }
        for c, label in Y_CHOICES
    ]
    return {
        "data": data,
        "layout": {
            "title": {"text": f"{problem}: every start", "x": 0.01, "y": 0.98},
            "xaxis": {"title": {"text": "step"}, "type": "linear"},
            "yaxis": {
                "title": {"text": Y_CHOICES[0][1]},
                "type": "log",
                "exponentformat": "power",
            },
            "legend": {"title": {"text": "click: hide / show"}, "font": {"size": 10}},
            "hovermode": "closest",
            "height": 520,
            "margin": {"t": 90, "r": 10},
            "updatemenus": [
                _menu(x_menu, 0.0),
                _scale_menu("x", 0.27, log_first=False),
                _menu(y_menu, 0.5),
                _scale_menu("y", 0.74, log_first=True),
            ],
        },
    }


def _curves(profile: dict[str, Any], order: list[str]) -> dict[str, list[Any]]:
    """A ``tasks.profile_data`` dict's curves as plotly's x and y lists, in the
    configs' ``order``."""
    curves = {config: (x, y) for config, _, x, y in profile["steps"]}
    return {"x": [typed(curves[c][0]) for c in order],
            "y": [typed(curves[c][1]) for c in order]}  # fmt: skip


def profile_explorer(
    profiles: list[dict[str, Any]], styles: dict[str, int]
) -> dict[str, Any]:
    """The profiles (``tasks.profile_data`` dicts over the same configs) in one
    figure: a menu picks the profile, buttons its x scale; one legend entry per
    config. A profile's curves are matched to the legend by config, not by position:
    the performance profiles list their configs sorted, the runtime ECDFs in run
    order."""
    first = profiles[0]
    order = [config for config, *_ in first["steps"]]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": config,
            "line": {"shape": "hv", "width": 1.6, **line_style(styles[config])},
            "hovertemplate": "<b>%{fullData.name}</b><br>x %{x:.4g}<br>"
            "fraction %{y:.3f}<extra></extra>",
            "x": typed(x),
            "y": typed(y),
        }
        for config, _, x, y in first["steps"]
    ]
    buttons = [
        {
            "label": p["title"],
            "method": "update",
            "args": [
                _curves(p, order),
                {
                    "xaxis.title.text": p["xlabel"],
                    "xaxis.range": _log_range(p["xlim"]),
                    "yaxis.title.text": _y_title(p["kind"]),
                },
            ],
        }
        for p in profiles
    ]
    return {
        "data": data,
        "layout": {
            "xaxis": {
                "title": {"text": first["xlabel"]},
                "type": "log",
                "range": _log_range(first["xlim"]),
            },
            "yaxis": {
                "title": {"text": _y_title(first["kind"])},
                "range": [-0.02, 1.02],
            },
            "legend": {"title": {"text": "click: hide / show"}, "font": {"size": 10}},
            "hovermode": "closest",
            "height": 480,
            "margin": {"t": 70, "r": 10},
            "updatemenus": [
                _menu(buttons, 0.0),
                _scale_menu("x", 0.6, log_first=True),
            ],
        },
    }


def _y_title(kind: str) -> str:
    return "fraction of triples reached" if kind == "ecdf" else "fraction of instances"


def _log_range(xlim: tuple[float, float]) -> list[float]:
    """A log axis's range is in decades."""
    return [math.log10(max(xlim[0], 1e-300)), math.log10(max(xlim[1], 1e-300))]


CONFIG = {"displaylogo": False, "responsive": True}
# JSON inside a <script>: escaped so that no string (a user's label) can close the
# element or open a comment; NaN and infinities become null, as JSON has no others
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def to_div(figure: dict[str, Any], div_id: str) -> str:
    """The figure's div and the ``Plotly.newPlot`` call that draws it (plotly.js not
    included): the markup of ``plotly.io.to_html(full_html=False)``, written here
    because that call imports plotly's validators (about 0.15 s of each report)."""
    height = figure["layout"].get("height", 500)
    args = ", ".join(
        _script_json(v) for v in (figure["data"], figure["layout"], CONFIG)
    )
    return (
        f'<div style="height:{height}px; width:100%;">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; '
        f'width:100%;"></div><script type="text/javascript">'
        f'if (document.getElementById("{div_id}")) '
        f'{{ Plotly.newPlot("{div_id}", {args}); }}</script></div>'
    )


def _script_json(value: Any) -> str:
    return json.dumps(_finite(value), separators=(",", ":")).translate(_SCRIPT_SAFE)


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (NumPy scalars as
    Python numbers, which plotly's encoder accepts too)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def plotly_js() -> str:
    """plotly.js itself, as plotly ships it, for one inline script per page: the
    file ``plotly.offline.get_plotlyjs`` reads, found without importing plotly (its
    import cost a report 0.06-0.1 s)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the report's page needs plotly: pip install plotly")
    folder = Path(spec.submodule_search_locations[0])
    return (folder / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
