"""bench.report on synthetic results tables (docs/schema.md): profiles against hand
computations, files and links, failure labels, the all-diverged case, figure formats,
drawing in worker processes, stale-file cleanup, and the HTML page in headless
Chromium."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import report
from bench.report import (
    build_report,
    common_configs,
    data_profile,
    markdown_table,
    median_band,
    performance_profile,
)

TOL = 1e-10
NUM_STEPS = 60
VECTOR = ("png", "svg")  # the shared report also writes SVG: its text is searchable
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


# --- synthetic results ----------------------------------------------------------------


def _rosen(x: np.ndarray) -> np.ndarray:
    return 100.0 * (x[..., 1] - x[..., 0] ** 2) ** 2 + (1.0 - x[..., 0]) ** 2


def _run(
    problem: str,
    problem_name: str,
    params: dict,
    dim: int,
    optimizer: str,
    opt_params: dict,
    start: int,
    rate: float,
    gap0: float = 1.0,
    source: str = "optbench",
    njev_per_step: int = 1,
    rate_theory: float = math.nan,
) -> tuple[dict, pd.DataFrame]:
    """One run with gap gap0 * rate**k; rate > 1 diverges (past 1e20 stands for inf)."""
    config = optimizer + (
        "[" + ",".join(f"{k}={v:g}" for k, v in sorted(opt_params.items())) + "]"
        if opt_params
        else ""
    )
    gaps = [gap0]
    status = "max_steps"
    while len(gaps) <= NUM_STEPS:
        g = gaps[-1] * rate
        if g > 1e20:
            status = "diverged"  # the next value was non-finite: frozen here
            break
        gaps.append(g)
        if g <= TOL * 1e-2:
            status = "converged"
            break
    gap = np.array(gaps)
    k = np.arange(len(gap))
    njev = 1 + njev_per_step * k
    time_s = 1e-6 * k * njev_per_step
    x0 = x1 = np.full(len(gap), np.nan)
    f_star = 0.0
    if dim == 2:  # a path from the standard start (-1.2, 1) towards x* = (1, 1)
        shrink = np.sqrt(gap / gap0)
        x0 = 1.0 + (-1.2 - 1.0) * shrink
        x1 = 1.0 + (1.0 - 1.0) * shrink + 0.8 * shrink * (1 - shrink)
        gap = _rosen(np.stack([x0, x1], axis=-1))
    hit = np.flatnonzero(gap <= TOL)
    solved = status != "diverged" and gap[-1] <= TOL
    to_tol = float(hit[0]) if len(hit) and status != "diverged" else math.nan
    trace = pd.DataFrame(
        {
            "problem": problem,
            "optimizer": optimizer,
            "config": config,
            "start": start,
            "step": k,
            "f": gap + f_star,
            "gap": gap,
            "grad_norm": np.sqrt(gap),
            "step_size": 0.1,
            "nfev": njev,
            "njev": njev,
            "nhev": 0,
            "time_s": time_s,
            "x0": x0,
            "x1": x1,
        }
    )
    row = {
        "problem": problem,
        "problem_name": problem_name,
        "problem_params": json.dumps(params),
        "dim": dim,
        "optimizer": optimizer,
        "config": config,
        "optimizer_params": json.dumps(opt_params),
        "lr": float(opt_params.get("lr", math.nan)),
        "source": source,
        "start": start,
        "status": status,
        "solved": bool(solved),
        "f_star": f_star,
        "f_star_known": True,
        "final_f": gap[-1] + f_star if status != "diverged" else math.nan,
        "final_gap": gap[-1] if status != "diverged" else math.nan,
        "final_grad_norm": math.sqrt(gap[-1]),
        "n_steps": int(k[-1]),
        "nfev": int(njev[-1]),
        "njev": int(njev[-1]),
        "nhev": 0,
        "steps_to_tol": to_tol,
        "nfev_to_tol": 1 + njev_per_step * to_tol,
        "njev_to_tol": 1 + njev_per_step * to_tol,
        "rate": rate if status != "diverged" else math.nan,
        "order": 1.0 if status != "diverged" else math.nan,
        "rate_theory": rate_theory,
        "compile_s": 0.4,
        "run_s": 1e-6 * NUM_STEPS,
        "time_to_tol_s": 1e-6 * njev_per_step * to_tol,
        "num_steps": NUM_STEPS,
        "gtol": 1e-12,
        "tol": TOL,
    }
    return row, trace


QUAD = ("quadratic[dim=5,kappa=10]", "quadratic", {"dim": 5, "kappa": 10.0}, 5)
ROSEN = ("rosenbrock[n=2]", "rosenbrock", {"n": 2}, 2)
CONFIGS = [  # optimizer, params, rate on start 0, njev per step
    ("gd", {"lr": 0.1}, 0.7, 1),
    ("adam", {"b1": 0.9, "b2": 0.999, "eps": 1e-8, "lr": 0.01}, 0.8, 1),
    ("bfgs", {}, 0.4, 2),
    ("momentum", {"beta": 0.9, "lr": 0.5}, 0.6, 1),  # diverges on start 1
]


def _write(
    run_dir: Path, rows: list[dict], traces: list[pd.DataFrame], **manifest
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(run_dir / "runs.parquet")
    pd.concat(traces, ignore_index=True).to_parquet(run_dir / "traces.parquet")
    man = {
        "command": ["python", "-m", "bench", "run", "--suite", "synthetic"],
        "suite": "synthetic",
        "seed": 0,
        "starts": 3,
        "num_steps": NUM_STEPS,
        "gtol": 1e-12,
        "tol": TOL,
        "precision": "float64",
        "versions": {"python": "3.11", "jax": "0.0", "numpy": "2"},
        "platform": {"cpu": "synthetic", "threads": 1},
        "git_commit": None,
        "started": "2025-01-01T00:00:00",
        "finished": "2025-01-01T00:01:00",
        "cells": [],
        "status": "complete",
    }
    man.update(manifest)
    (run_dir / "manifest.json").write_text(json.dumps(man))
    _landscapes(run_dir)
    return run_dir


def _landscapes(run_dir: Path) -> None:
    """The contour data a run stores for its registered 2-D problems."""
    import problems
    from bench.landscape import landscapes

    runs = pd.read_parquet(run_dir / "runs.parquet")
    traces = pd.read_parquet(run_dir / "traces.parquet")
    known = runs[(runs.dim == 2) & runs.problem_name.isin(problems.names())]
    built = {
        label: problems.get(name, **json.loads(params))
        for label, name, params in known[
            ["problem", "problem_name", "problem_params"]
        ].drop_duplicates("problem").itertuples(index=False)
    }
    grids = landscapes(built, runs, traces)
    if len(grids):
        grids.to_parquet(run_dir / "landscapes.parquet")


def _synthetic(run_dir: Path, peers: bool = False, probs=(QUAD, ROSEN)) -> Path:
    rows, traces = [], []

    def add(*args, **kw):
        r, t = _run(*args, **kw)
        rows.append(r)
        traces.append(t)

    for prob in probs:
        for opt, params, rate, per in CONFIGS:
            for start in range(3):
                r = rate * (1 + 0.05 * start)
                if opt == "momentum" and start == 1:
                    r = 3.0
                theory = rate if prob is QUAD and opt == "gd" else math.nan
                add(*prob, opt, params, start, r, njev_per_step=per, rate_theory=theory)
    # an lr grid on the quadratic: too small crawls, too large diverges
    for lr, rate in [(1e-3, 0.99), (1e-2, 0.9), (1e-1, 0.5), (1.0, 0.3), (10.0, 4.0)]:
        for start in range(3):
            add(*QUAD, "nesterov", {"beta": 0.9, "lr": lr}, start, rate)
    if peers:
        for start in range(3):
            add(*QUAD, "scipy:BFGS", {}, start, 0.3, source="scipy")
    return _write(run_dir, rows, traces)


def _no_optimizer_runs(*args, **kwargs):
    raise AssertionError("build_report must not run an optimizer")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the synthetic run, built with bench.solve/solve_batch disabled."""
    import bench
    import bench.solving

    run_dir = _synthetic(tmp_path_factory.mktemp("run") / "20250101_synthetic")
    with pytest.MonkeyPatch.context() as mp:
        for mod in (bench, bench.solving):
            mp.setattr(mod, "solve", _no_optimizer_runs)
            mp.setattr(mod, "solve_batch", _no_optimizer_runs)
        return build_report(run_dir, formats=VECTOR)


# --- profiles by hand -----------------------------------------------------------------


def _tiny() -> pd.DataFrame:
    """3 instances x 2 configs, A fails on (p1, 1); dims 2 and 3."""
    rows = [
        ("p1", 2, 0, "A", 10.0, "converged"),
        ("p1", 2, 0, "B", 20.0, "converged"),
        ("p1", 2, 1, "A", math.nan, "max_steps"),
        ("p1", 2, 1, "B", 5.0, "converged"),
        ("p2", 3, 0, "A", 4.0, "converged"),
        ("p2", 3, 0, "B", 4.0, "converged"),
    ]
    return pd.DataFrame(
        rows, columns=["problem", "dim", "start", "config", "njev_to_tol", "status"]
    )


def test_performance_profile_matches_hand_computation() -> None:
    prof = performance_profile(_tiny(), "njev_to_tol")
    # ratios: (p1,0): A 1, B 2; (p1,1): A inf, B 1; (p2,0): A 1, B 1
    assert prof.n_instances == 3
    exact = 1e-15  # fractions of 3 computed from counts
    for tau, a, b in [
        (0.99, 0, 0),
        (1, 2 / 3, 2 / 3),
        (1.99, 2 / 3, 2 / 3),
        (2, 2 / 3, 1),
        (1e9, 2 / 3, 1),
    ]:
        assert abs(prof.at("A", tau) - a) <= exact, tau
        assert abs(prof.at("B", tau) - b) <= exact, tau
    np.testing.assert_allclose(prof.curves["B"][0], [1.0, 2.0], rtol=0)
    np.testing.assert_allclose(prof.curves["B"][1], [2 / 3, 1.0], rtol=1e-15)
    assert np.isinf(prof.values.loc[("p1", 1), "A"])


def test_performance_profile_failures_and_unsolved_instances() -> None:
    df = _tiny()
    df.loc[(df.config == "B") & (df.start == 0) & (df.problem == "p1"), "status"] = (
        "diverged"  # a diverged run is a failure even if a count was stored
    )
    extra = pd.DataFrame(  # nobody solves (p3, 0): it stays in the denominator
        [
            ("p3", 1, 0, "A", math.nan, "max_steps"),
            ("p3", 1, 0, "B", math.nan, "diverged"),
        ],
        columns=df.columns,
    )
    prof = performance_profile(pd.concat([df, extra]), "njev_to_tol")
    assert prof.n_instances == 4
    assert abs(prof.at("A", 1.0) - 2 / 4) <= 1e-15  # (p1,0) and (p2,0)
    assert abs(prof.at("B", 1e9) - 2 / 4) <= 1e-15  # (p1,1) and (p2,0)


def test_performance_profile_zero_cost_stays_finite() -> None:
    df = pd.DataFrame(
        [("p", 1, 0, "A", 0.0, "converged"), ("p", 1, 0, "B", 2e-6, "converged")],
        columns=["problem", "dim", "start", "config", "time_to_tol_s", "status"],
    )
    prof = performance_profile(df, "time_to_tol_s")
    # 0 is raised to the smallest positive cost, 2e-6: both tie at ratio 1
    assert prof.at("A", 1.0) == 1.0 and prof.at("B", 1.0) == 1.0


def test_data_profile_matches_hand_computation() -> None:
    prof = data_profile(_tiny(), "njev_to_tol")
    # t/(n+1): A: 10/3, inf, 4/4=1; B: 20/3, 5/3, 1
    exact = 1e-15
    for alpha, a, b in [
        (0.5, 0, 0),
        (1, 1 / 3, 1 / 3),
        (5 / 3, 1 / 3, 2 / 3),
        (10 / 3, 2 / 3, 2 / 3),
        (6.6, 2 / 3, 2 / 3),
        (20 / 3, 2 / 3, 1),
    ]:
        assert abs(prof.at("A", alpha) - a) <= exact, alpha
        assert abs(prof.at("B", alpha) - b) <= exact, alpha


def test_common_configs_leave_out_partial_configs() -> None:
    df = pd.concat(
        [
            _tiny(),
            pd.DataFrame(
                [("p2", 3, 0, "C", 1.0, "converged")], columns=_tiny().columns
            ),
        ]
    )
    assert common_configs(df) == (["A", "B"], ["C"])


def test_median_band_freezes_and_skips_missing() -> None:
    # start 0 stops at x=2 (frozen at 0.0 after); start 1 begins at x=1
    grid, lo, med, hi = median_band(
        [np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0])],
        [np.array([4.0, 2.0, 0.0]), np.array([6.0, 2.0])],
    )
    np.testing.assert_array_equal(grid, [0, 1, 2, 3])
    np.testing.assert_allclose(med, [4.0, 4.0, 3.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(lo, [4.0, 3.0, 1.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(hi, [4.0, 5.0, 4.5, 1.5], rtol=1e-15)


def test_markdown_table_formats_and_escapes() -> None:
    df = pd.DataFrame({"a|b": ["x|y", "z"], "v": [1.23456e-7, math.nan], "n": [3, 4]})
    assert markdown_table(df).splitlines() == [
        "| a\\|b | v | n |",
        "|---|---|---|",
        "| x\\|y | 1.23e-07 | 3 |",
        "| z |  | 4 |",
    ]
    assert markdown_table(pd.DataFrame({"c": ["<script>x</script>"]})).splitlines()[
        2
    ] == "| &lt;script&gt;x&lt;/script&gt; |"


# --- the whole report -----------------------------------------------------------------


def _without_scripts(page: str) -> str:
    """The page's HTML outside its script elements (plotly.js holds URLs in strings)."""
    return re.sub(r"(?is)<script\b.*?</script>", "", page)


def _referenced(out: Path) -> tuple[list[str], list[str]]:
    md = (out / "report.md").read_text()
    page = _without_scripts((out / "index.html").read_text())
    md_refs = re.findall(r"\]\(([^)]+)\)", md)
    html_refs = re.findall(r'(?:src|href)="([^"#][^"]*)"', page)
    return md_refs, html_refs


def test_report_files_and_links(built: Path) -> None:
    md_refs, html_refs = _referenced(built)
    assert md_refs and html_refs
    for ref in md_refs + html_refs:
        assert "://" not in ref, ref  # self-contained: nothing fetched from outside
        assert (built / ref).is_file(), ref
    pngs = sorted(p.stem for p in built.glob("*.png"))
    svgs = sorted(p.stem for p in built.glob("*.svg"))
    # 3 profiles, the ECDFs, 2 problems, contour, lr
    assert pngs == svgs and len(pngs) == 8
    for stem in pngs:
        assert f"{stem}.png" in md_refs and f"{stem}.png" in html_refs
        assert (built / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kinds = {re.sub(r"^\d+_", "", s).split("_")[0] for s in pngs}
    assert {"convergence", "contour", "lr", "perf", "data", "ecdf"} <= kinds
    assert not list(built.glob(".*tmp"))  # no temporary files left behind
    page = (built / "index.html").read_text()
    # plotly.js inline, once; nothing loaded from elsewhere
    scripts = re.findall(r"(?is)<script\b([^>]*)>", page)
    assert not any("src" in attrs for attrs in scripts)
    assert page.count("Plotly.newPlot(") == 3  # the profiles, 2 problems
    assert page.count("* plotly.js v") == 1
    outside = _without_scripts(page)
    assert "<link" not in outside.lower()
    assert 'alt=""' not in outside and outside.count("<img") == len(pngs)


def test_tables_as_csv_and_latex(built: Path) -> None:
    from bench.report.analysis import summary_table

    tables = built / "tables"
    names = sorted(p.name for p in tables.iterdir())
    stems = ["lr_quadratic-dim-5-kappa-10", "rates", "summary"]
    assert names == sorted(f"{s}.{x}" for s in stems for x in ("csv", "tex"))
    runs = pd.read_parquet(built.parent / "runs.parquet")
    expect = summary_table(runs)
    got = pd.read_csv(tables / "summary.csv")
    assert list(got.columns) == list(expect.columns)
    np.testing.assert_allclose(  # the CSV keeps the numbers, not their rounding
        got["solved fraction"], expect["solved fraction"], rtol=1e-15
    )
    # the LaTeX is pandas' own (Styler) rendering of the page's table
    from bench.report.analysis import rate_table
    from bench.report.document import formatted

    pytest.importorskip("jinja2", reason="pandas' to_latex needs jinja2")
    page = formatted(rate_table(runs.assign(config=runs.config.astype(str))))
    reference = page.to_latex(index=False, escape=True, column_format="llrrrl")
    assert (tables / "rates.tex").read_text() == reference
    assert "rate\\_theory" in reference


def test_report_content(built: Path) -> None:
    md = (built / "report.md").read_text()
    page = (built / "index.html").read_text()
    for heading in (
        "## Summary per config",
        "## Performance and data profiles",
        "## Measured rate and order",
        "## Problem rosenbrock[n=2]",
        "### Learning-rate sweep on quadratic[dim=5,kappa=10]",
    ):
        assert heading in md
    assert "Dolan & More 2002" in md and "More & Wild 2009" in md
    assert "rho_s(tau)" in md and "d_s(alpha)" in md
    # the lr grid ran on one problem only: kept out of the profiles, and said so
    assert "Left out of the profiles" in md and "nesterov[beta=0.9,lr=10]" in md
    # summary: momentum diverged on start 1 of both problems
    line = next(
        s for s in md.splitlines() if s.startswith("| momentum[beta=0.9,lr=0.5]")
    )
    assert "| 2/6 |" in line
    assert "synthetic" in page and "float64" in page and "num_steps=60" in page
    assert "scipy runs in Python" not in md


def test_failed_runs_are_counted_in_the_legend(built: Path) -> None:
    conv = [p for p in built.glob("*_convergence_*.svg")]
    assert len(conv) == 2
    for svg in conv:  # SVG text is kept as text (svg.fonttype none)
        text = svg.read_text()
        assert "momentum[beta=0.9,lr=0.5] (1/3 failed)" in text
        assert "gd[lr=0.1] (" not in text  # no label for a config that never failed
    lr_svg = next(built.glob("*_lr_*.svg")).read_text()
    assert "diverged" in lr_svg and "tolerance not reached" in lr_svg


def test_rates_table_shows_theory_beside_measurement(built: Path) -> None:
    md = (built / "report.md").read_text()
    row = next(
        s
        for s in md.splitlines()
        if s.startswith("| quadratic[dim=5,kappa=10] | gd[lr=0.1] |")
    )
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "0.735" and cells[3] == "0.7"  # median of 0.7, 0.735, 0.77


def test_peer_note(tmp_path: Path) -> None:
    out = build_report(_synthetic(tmp_path / "run", peers=True, probs=(QUAD,)))
    assert "scipy runs in Python" in (out / "report.md").read_text()
    html = (out / "index.html").read_text()
    assert "timed through jax.jit(optimistix.minimise)" in html


def test_all_diverged_says_so(tmp_path: Path) -> None:
    rows, traces = [], []
    for prob in (QUAD, ROSEN):
        for opt, params, _, _ in CONFIGS[:2]:
            for start in range(2):
                r, t = _run(*prob, opt, params, start, 5.0)
                rows.append(r)
                traces.append(t)
    assert all(r["status"] == "diverged" for r in rows)
    out = build_report(_write(tmp_path / "run", rows, traces), formats=VECTOR)
    md = (out / "report.md").read_text()
    assert "Every run diverged (8/8)" in md
    assert "Every run on rosenbrock[n=2] diverged" in md
    for ref in _referenced(out)[0]:
        assert (out / ref).is_file()
    svg = next(out.glob("*_convergence_*.svg")).read_text()
    assert "(2/2 failed)" in svg and "every run diverged" in svg


def test_huge_and_negative_gaps_do_not_crash(tmp_path: Path) -> None:
    rows, traces = [], []
    for start in range(2):
        r, t = _run(*QUAD, "gd", {"lr": 0.1}, start, 0.5)
        t.loc[t.index[1], "gap"] = 1e250  # a huge value, not yet non-finite
        t.loc[t.index[-1], "gap"] = -1e-18  # rounding below f*
        t.loc[t.index[2], "grad_norm"] = math.inf
        rows.append(r)
        traces.append(t)
    out = build_report(_write(tmp_path / "run", rows, traces))
    assert (out / "index.html").is_file()


def test_rebuild_replaces_files(built: Path) -> None:
    first = (built / "report.md").read_text()
    listing = sorted(p.name for p in built.iterdir())
    assert build_report(built.parent, formats=VECTOR) == built
    assert (built / "report.md").read_text() == first
    assert sorted(p.name for p in built.iterdir()) == listing  # no temporary files


def test_unknown_2d_problem_gets_a_note_not_a_crash(tmp_path: Path) -> None:
    rows, traces = [], []
    for start in range(2):
        r, t = _run(*ROSEN, "gd", {"lr": 0.1}, start, 0.5)
        r["problem_name"] = "not_registered"  # e.g. a user's own problems.Problem
        rows.append(r)
        traces.append(t)
    run_dir = _write(tmp_path / "run", rows, traces)
    assert not (run_dir / "landscapes.parquet").exists()
    out = build_report(run_dir)
    md = (out / "report.md").read_text()
    assert "no contour plot (the run stored no contour data)" in md
    assert not list(out.glob("*contour*"))


def test_report_never_rebuilds_a_problem(tmp_path: Path, monkeypatch) -> None:
    """A table edited to name a huge problem draws from the stored grid alone."""
    import problems

    run_dir = _synthetic(tmp_path / "run", probs=(ROSEN,))
    runs = pd.read_parquet(run_dir / "runs.parquet")
    runs["problem_name"], runs["problem_params"] = "quadratic", '{"dim": 30000}'
    runs.to_parquet(run_dir / "runs.parquet")

    def refuse(*args, **kwargs):
        raise AssertionError("the report built a problem")

    monkeypatch.setattr(problems, "get", refuse)
    out = build_report(run_dir)
    assert list(out.glob("*contour*.png"))


def test_missing_runs_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="runs.parquet"):
        build_report(tmp_path)


def test_module_exports() -> None:
    for name in report.__all__:
        assert hasattr(report, name)


# --- formats, workers, cleanup --------------------------------------------------------


def _figure_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if re.match(r"\d\d_", p.name))


def test_formats_are_validated(tmp_path: Path) -> None:
    run_dir = _synthetic(tmp_path / "run", probs=(QUAD,))
    with pytest.raises(ValueError, match=r"'jpg'.*accepted are 'png', 'svg', 'pdf'"):
        build_report(run_dir, formats=("png", "jpg"))
    assert not (run_dir / "report").exists()  # refused before writing anything


def test_png_only_by_default_and_vector_files_on_request(tmp_path: Path) -> None:
    run_dir = _synthetic(tmp_path / "run", probs=(ROSEN,))
    out = build_report(run_dir)
    files = _figure_files(out)
    assert files and all(f.endswith(".png") for f in files)
    md = (out / "report.md").read_text()
    page = _without_scripts((out / "index.html").read_text())
    assert ".svg" not in md + page and ".pdf" not in md + page

    out = build_report(run_dir, formats=("pdf", "png", "pdf"))
    stems = {f.rsplit(".", 1)[0] for f in files}
    assert _figure_files(out) == sorted(
        f"{s}.{x}" for s in stems for x in ("pdf", "png")
    )
    assert next(out.glob("*.pdf")).read_bytes()[:5] == b"%PDF-"
    md_refs, html_refs = _referenced(out)
    for stem in stems:  # the pages show the PNG and link the PDF
        assert f"{stem}.png" in md_refs and f"{stem}.pdf" in md_refs
        assert f"{stem}.png" in html_refs and f"{stem}.pdf" in html_refs
    assert all((out / ref).is_file() for ref in md_refs + html_refs)

    out = build_report(run_dir, formats=("svg",))  # PNG always; the PDFs are stale now
    assert _figure_files(out) == sorted(
        f"{s}.{x}" for s in stems for x in ("png", "svg")
    )


def test_workers_draw_the_same_files(tmp_path: Path) -> None:
    serial = build_report(_synthetic(tmp_path / "a"), workers=0)
    parallel = build_report(_synthetic(tmp_path / "b"), workers=2)
    files = _figure_files(serial)
    assert len(files) == 8 and _figure_files(parallel) == files
    for name in files:  # rendering is deterministic: the same bytes either way
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name
    assert (serial / "report.md").read_text() == (parallel / "report.md").read_text()


def test_workers_take_part(tmp_path: Path) -> None:
    from bench.report.draw import Drawer
    from bench.report.figure_task import FigureTask

    data = {
        "kind": "perf",
        "title": "t",
        "xlabel": "x",
        "steps": [("a", 0, np.array([1.0, 2.0, 4.0]), np.array([0.5, 1.0, 1.0]))],
        "xlim": (1.0, 4.0),
        "solved_any": True,
    }
    tasks = [FigureTask("profile", f"{i:02d}_p", data) for i in range(8)]
    with Drawer(tmp_path, ("png",), workers=2) as drawer:
        drawer.wait_for_workers()  # up: they take tasks from the front, we from the end
        for t in tasks:
            drawer.add(t)
        drawer.draw_all()
        assert drawer.drawn_here < len(tasks)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{t.stem}.png" for t in tasks
    ]


def test_the_drawing_forkserver_skips_the_teardown() -> None:
    """The forkserver's preload leaves at its first exit handler: the handlers
    registered before it (Python's teardown of what it imported) do not run, and a
    process that draws its figures itself never imports it."""
    from bench.report import draw

    assert draw._PRELOAD == ["bench.report.figures.server"]
    code = (
        "import atexit; atexit.register(print, 'torn down'); "
        "import bench.report.figures.server; raise SystemExit(3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "torn down" not in done.stdout
    code = (
        "import sys, bench.report.figures; "
        "sys.exit('bench.report.figures.server' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_symlinked_report_folder_is_refused(tmp_path: Path) -> None:
    run_dir = _synthetic(tmp_path / "run", probs=(QUAD,))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "03_convergence_old.png").write_bytes(b"not ours")
    (run_dir / "report").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="symlink"):
        build_report(run_dir)
    assert (outside / "03_convergence_old.png").read_bytes() == b"not ours"
    assert sorted(p.name for p in outside.iterdir()) == ["03_convergence_old.png"]


def test_stale_cleanup_leaves_symlinks_alone(tmp_path: Path) -> None:
    run_dir = _synthetic(tmp_path / "run", probs=(QUAD,))
    target = tmp_path / "keep.png"
    target.write_bytes(b"keep")
    (run_dir / "report").mkdir()
    (run_dir / "report" / "42_lr_linked.png").symlink_to(target)
    (run_dir / "report" / "43_lr_mine.svg").write_bytes(b"not the report's")
    out = build_report(run_dir, formats=("png", "svg"))
    svgs = sorted(p.name for p in out.glob("*.svg") if p.name != "43_lr_mine.svg")
    assert svgs
    build_report(run_dir)  # png only: the svg files the last build wrote go
    assert (out / "42_lr_linked.png").is_symlink() and target.read_bytes() == b"keep"
    assert (out / "43_lr_mine.svg").read_bytes() == b"not the report's"
    assert not any((out / name).exists() for name in svgs)


def test_long_traces_are_thinned() -> None:
    from bench.report.analysis import MAX_GRID, thin_path
    from bench.report.tasks import convergence_data, gap_floor, trace_runs

    xy = np.arange(60_000.0).reshape(30_000, 2)
    thin = thin_path(xy)
    assert (
        len(thin) == MAX_GRID
        and (thin[0] == xy[0]).all()
        and (thin[-1] == xy[-1]).all()
    )
    k = np.arange(30_001)
    tp = pd.DataFrame(
        {"config": "gd", "start": 0, "step": k, "gap": 0.999**k, "grad_norm": 1.0,
         "njev": k + 1, "nfev": k + 1, "time_s": 1e-6 * k, "x0": np.nan,
         "x1": np.nan}
    )  # fmt: skip
    rp = pd.DataFrame(
        {"config": ["gd"], "start": [0], "status": ["max_steps"], "f_star": [0.0],
         "f_star_known": [True]}
    )  # fmt: skip
    traced = trace_runs(tp, gap_floor(0.0))
    data = convergence_data("p", rp, traced, {"gd": 0})
    for band in data["curves"][0]:  # (x, q25, median, q75) on each panel
        assert 2 <= len(band[0]) <= MAX_GRID
        assert {len(a) for a in band} == {len(band[0])}
    # the page's explorer: one line of at most 2 POINTS + 1 points, ends kept
    from bench.report.interactive import POINTS, convergence_explorer

    (line,) = convergence_explorer("p", rp, traced, {"gd": 0})["data"]
    x = np.frombuffer(base64.b64decode(line["x"]["bdata"]), "<f8")
    assert len(x) <= 2 * POINTS + 1 and x[0] == 0 and x[-1] == 30_000
    assert (np.diff(x) > 0).all()


def test_profile_explorer_matches_curves_to_configs_by_name() -> None:
    """The performance profiles list their configs sorted, the runtime ECDFs in run
    order: each menu entry must give every legend entry its own config's curve."""
    from bench.report.interactive import profile_explorer

    def decoded(v):
        return np.frombuffer(base64.b64decode(v["bdata"]), "<f8")

    def profile(title, configs):  # config c's curve: x = its rank + 1, y = y0 of c
        y0 = {"adam": 0.1, "bfgs": 0.9, "gd": 0.5}
        return {"kind": "ecdf", "title": title, "xlabel": "x", "xlim": (1.0, 10.0),
                "steps": [(c, 0, np.array([1.0, 2.0 + i]), np.array([y0[c]] * 2))
                          for i, c in enumerate(configs)]}  # fmt: skip

    sorted_, run_order = ["adam", "bfgs", "gd"], ["gd", "bfgs", "adam"]
    fig = profile_explorer([profile("perf", sorted_), profile("ecdf", run_order)],
                           {"adam": 0, "bfgs": 1, "gd": 2})  # fmt: skip
    names = [trace["name"] for trace in fig["data"]]
    assert names == sorted_
    buttons = fig["layout"]["updatemenus"][0]["buttons"]
    for button, configs in zip(buttons, (sorted_, run_order), strict=True):
        xs, ys = button["args"][0]["x"], button["args"][0]["y"]
        for name, x, y in zip(names, xs, ys, strict=True):
            i = configs.index(name)
            assert decoded(x)[1] == 2.0 + i, (button["label"], name)
            assert decoded(y)[0] == {"adam": 0.1, "bfgs": 0.9, "gd": 0.5}[name]


def _newplot_args(div: str) -> list:
    """The three JSON arguments after the div id of a ``Plotly.newPlot`` call."""
    s = div[div.index("Plotly.newPlot(") :]
    i, out = s.index(",") + 1, []
    while len(out) < 3:
        while s[i] in " ,":
            i += 1
        value, i = json.JSONDecoder().raw_decode(s, i)
        out.append(value)
    return out


def test_interactive_div_as_plotly_writes_it() -> None:
    """Our div carries what ``plotly.io.to_html`` puts in its ``Plotly.newPlot`` call
    (NaN as null), a label cannot close the script element it sits in, and the page
    inlines the plotly.js that plotly ships."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    from bench.report.interactive import CONFIG, plotly_js, to_div, typed

    label = "adam</script><!--&"
    fig = {
        "data": [{"x": typed(np.arange(3.0)), "y": [1.0, math.nan], "name": label}],
        "layout": {"height": 420, "xaxis": {"range": [np.float64(0.0), math.inf]},
                   "title": {"text": label}, "legend": {"tracegroupgap": np.int64(2)}},
    }  # fmt: skip
    ours = to_div(fig, "plot-1")
    theirs = pio.to_html(fig, include_plotlyjs=False, full_html=False,
                         div_id="plot-1", validate=False, config=CONFIG)  # fmt: skip
    assert _newplot_args(ours) == _newplot_args(theirs)
    assert _newplot_args(ours)[0][0]["y"] == [1.0, None]
    assert ours.count("</script") == 1 and "<!--" not in ours
    assert 'style="height:420px; width:100%;"' in ours and 'id="plot-1"' in ours
    assert plotly_js() == get_plotlyjs()  # the file plotly ships, as plotly reads it


def test_the_page_is_written_without_matplotlib() -> None:
    """Only the figures' workers import it: the process writing the tables and the
    page, whose plotly lines take the static figures' colours, does not; nor does it
    import plotly (the page's divs and plotly.js are written without it)."""
    code = (
        "import sys, bench.report.build, bench.report.interactive as i; "
        "i.line_style(0); i.plotly_js(); i.to_div({'data': [], 'layout': {}}, 'p'); "
        "sys.exit('matplotlib' in sys.modules or 'plotly' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_palette_is_matplotlibs_tab20() -> None:
    import matplotlib
    from matplotlib.colors import to_hex

    from bench.report.palette import TAB20, style

    assert TAB20 == tuple(to_hex(matplotlib.colormaps["tab20"](i)) for i in range(20))
    firsts = [style(i)["color"] for i in range(10)]  # dark shades first, all distinct
    assert firsts == list(TAB20[::2]) and style(10)["color"] == TAB20[1]
    assert style(20) == {"color": TAB20[0], "linestyle": "--"}


# --- the page in a browser ------------------------------------------------------------


# CI installs the browser (Makefile target `browser`), so there a missing one fails.
@pytest.mark.skipif(
    os.environ.get("CI") != "true"
    and (not CHROMIUM.exists() or not CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver "
    "(apt-get install chromium chromium-driver)",
)
def test_index_html_in_headless_chromium(built: Path, tmp_path: Path) -> None:
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="needs selenium (pip install selenium)"
    )
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=opts, service=service)
    try:
        driver.set_page_load_timeout(60)
        driver.get((built / "index.html").as_uri())  # returns after the load event
        images = driver.execute_script(
            "return Array.from(document.images).map("
            "i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.alt]);"
        )
        plots = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".map(e => e.id);"
        )
        _click_legend_and_switch_axis(driver, "convergence-rosenbrock-n-2")
        logs = driver.get_log("browser")
        title = driver.title
    finally:
        driver.quit()
    assert title.startswith("optbench report")
    assert plots == [
        "profiles",
        "convergence-quadratic-dim-5-kappa-10",
        "convergence-rosenbrock-n-2",
    ]
    assert len(images) == len(list(built.glob("*.png")))
    for src, complete, width, alt in images:
        assert complete and width > 0, f"{src} did not load"
        assert alt, f"{src} has no alt text"
    errors = [e for e in logs if e.get("level") == "SEVERE"]
    assert not errors, errors


def _click_legend_and_switch_axis(driver, div_id: str) -> None:
    """Click the first legend entry of a convergence explorer (its config's starts
    hide, the others stay), then pick gradient evaluations in the x menu (the x data
    become each start's njev)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    graph = driver.find_element("id", div_id)
    driver.execute_script("arguments[0].scrollIntoView()", graph)
    js = f"return document.getElementById('{div_id}')"
    names = driver.execute_script(js + ".data.map(t => t.legendgroup)")
    assert driver.execute_script(js + ".data.every(t => t.visible !== 'legendonly')")
    entry = graph.find_elements("css selector", ".legend .traces")[0]
    ActionChains(driver).move_to_element(entry).click().perform()
    # plotly waits for a possible double click before it acts
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(js + ".data[0].visible") == "legendonly"
    )
    visible = driver.execute_script(js + ".data.map(t => t.visible)")
    assert [v == "legendonly" for v in visible] == [n == names[0] for n in names]
    assert driver.execute_script(js + ".layout.xaxis.title.text") == "step"
    # the arrays as drawn (the page gives them as base64 typed arrays)
    drawn_x = js + "._fullData[0].x).slice(0, 4)"
    drawn_x = "return Array.from(" + drawn_x.removeprefix("return ")
    assert driver.execute_script(drawn_x) == [0, 1, 2, 3]
    graph.find_elements("css selector", ".updatemenu-header")[0].click()
    buttons = graph.find_elements("css selector", ".updatemenu-dropdown-button")
    labels = [b.text for b in buttons]
    assert "x: gradient evaluations" in labels, labels
    buttons[labels.index("x: gradient evaluations")].click()
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.execute_script(js + ".layout.xaxis.title.text") == "gradient evaluations"
        )
    )
    # the synthetic gd run counts 1 + k gradient evaluations at step k
    assert driver.execute_script(drawn_x) == [1, 2, 3, 4]

