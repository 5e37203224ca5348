"""Plots, report.md and index.html for one results folder, from its stored tables alone.

``build_report(run_dir)`` writes ``run_dir/report/`` (see ``bench.report.build``).
The package, one job per module:

- ``analysis``: performance and data profiles, medians over starts, summary tables
  (pandas and numpy only);
- ``data``: reading the run's tables; ``tasks``: each figure's data;
  ``landscape``: 2-D contour data from the f grid the run stored;
- ``figures``: the matplotlib drawing, imported only when figures are drawn;
  ``draw``: drawing them here or in worker processes, and writing the files;
- ``document``: the page model and its markdown and HTML rendering;
  ``interactive``: the page's plotly figures; ``tables``: CSV and LaTeX copies;
  ``platform``: the header's platform lines;
- ``studies``: sections shown when a run holds a study, with their numbers in
  ``kappa`` (sweeps over kappa), ``ecdf`` (runtime ECDFs), ``cost`` (per iteration
  against dimension);
- ``build``: ``build_report``, putting it together.
"""

import importlib

# imported when first used: a drawing worker imports bench.report.figures, and with
# it this package, and needs none of the table code (pandas: 0.5 s per worker)
_WHERE = {
    "Profile": "analysis", "common_configs": "analysis", "data_profile": "analysis",
    "instance_table": "analysis", "lr_families": "analysis", "median_band": "analysis",
    "performance_profile": "analysis", "build_report": "build",
    "markdown_table": "document",
}  # fmt: skip
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"bench.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'bench.report' has no attribute {name!r}")
