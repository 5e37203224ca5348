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

from bench.report.analysis import (
    Profile,
    common_configs,
    data_profile,
    instance_table,
    lr_families,
    median_band,
    performance_profile,
)
from bench.report.build import build_report
from bench.report.document import markdown_table

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
