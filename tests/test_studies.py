"""The report's studies on a small run made through the CLI: the kappa sweep's slopes
against theory (and its files), ..."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
KAPPAS = "[10,100,1000]"
KEYS = ["problem", "config", "start"]


def _bench(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    env["OPTBENCH_CACHE_DIR"] = str(cwd / "cache")  # the user's cache left alone
    r = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def kappa_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Theory-tuned gd, heavy ball and Nesterov, and Newton, on 3 quadratics: one
    program per optimizer."""
    cwd = tmp_path_factory.mktemp("kappa")
    _bench(
        "run", "--problems", f"quadratic[dim=10,kappa={KAPPAS}]",
        "--optimizers", "gd[lr=theory]", "momentum[beta=theory,lr=theory]",
        "nesterov[beta=theory,lr=theory]", "newton",
        "--starts", "2", "--steps", "20000", "--out", "run", cwd=cwd,
    )  # fmt: skip
    return cwd / "run"


def test_kappa_slopes_match_theory(kappa_run: Path) -> None:
    report = kappa_run / "report"
    stem = "kappa_quadratic-dim-10-seed-0-spectrum-linear"
    assert len(list(report.glob(f"[0-9][0-9]_{stem}.png"))) == 1
    slopes = pd.read_csv(report / "tables" / f"{stem}.csv").set_index("config")
    assert (report / "tables" / f"{stem}.tex").is_file()
    fitted = slopes["fitted slope"]
    assert fitted["gd[armijo=False,lr=theory]"] == pytest.approx(1.0, abs=0.1)
    assert fitted["momentum[beta=theory,lr=theory]"] == pytest.approx(0.5, abs=0.1)
    assert fitted["nesterov[beta=theory,lr=theory]"] == pytest.approx(0.5, abs=0.1)
    assert fitted["newton"] == pytest.approx(0.0, abs=1e-12)  # one step at any kappa
    # the slope is the least-squares fit of the stored runs' medians
    import numpy as np

    runs = pd.read_parquet(kappa_run / "runs.parquet")
    gd = runs[runs.optimizer == "gd"]
    kappa = gd.problem.str.extract(r"kappa=([0-9.e+]+)")[0].astype(float)
    med = gd.groupby(kappa.to_numpy())["steps_to_tol"].median()
    expect = np.polyfit(np.log(med.index), np.log(med.to_numpy()), 1)[0]
    assert fitted["gd[armijo=False,lr=theory]"] == pytest.approx(expect, rel=1e-9)
    # the resolved lr is in its column: 2 / (kappa + 1) with mu = 1
    np.testing.assert_allclose(gd["lr"], 2 / (kappa + 1), rtol=1e-12)
    hb = runs[runs.optimizer == "momentum"]
    root = np.sqrt(hb.problem.str.extract(r"kappa=([0-9.e+]+)")[0].astype(float))
    np.testing.assert_allclose(hb["beta"], ((root - 1) / (root + 1)) ** 2, rtol=1e-12)
    np.testing.assert_allclose(hb["lr"], 4 / (root + 1) ** 2, rtol=1e-12)


def test_kappa_slope_table_names_the_kappas_it_fits() -> None:
    """An unsolved kappa has no median and is not in the fit: the table says so."""
    from bench.report import kappa

    nan = float("nan")
    table = pd.DataFrame({"config": "gd", "optimizer": "gd",
                          "kappa": [10.0, 100.0, 1000.0],
                          "median steps_to_tol": [20.0, 200.0, nan],
                          "solved": [2, 2, 0], "runs": 2})  # fmt: skip
    row = kappa.slope_table("q", table).iloc[0]
    assert row["kappas"] == "10..100 of 10..1000" and row["solved"] == "4/6"
    assert row["fitted slope"] == pytest.approx(1.0)
    assert kappa.slope_table("q", table.iloc[:2]).iloc[0]["kappas"] == "10..100"
    none = table.assign(**{"median steps_to_tol": nan})
    assert kappa.slope_table("q", none).iloc[0]["kappas"] == "none of 10..1000"


def test_kappa_suite_is_theory_tuned_and_one_program_per_optimizer() -> None:
    from bench import suites
    from bench.cells import prepare
    from bench.families import families

    cells = prepare(suites.get("kappa").cells())
    assert len(cells) == 20 and len({c.config for c in cells}) == 5
    kappas = sorted({c.problem.params["kappa"] for c in cells})
    assert kappas == [10.0, 100.0, 1000.0, 10000.0]
    assert len(families(cells)) == 5
    for c in cells:
        if c.optimizer == "nesterov":
            assert c.params["lr"] == pytest.approx(1 / c.problem.params["kappa"])


def test_targets_table_is_the_first_hit_in_the_traces(kappa_run: Path) -> None:
    from bench.targets import TARGETS

    runs = pd.read_parquet(kappa_run / "runs.parquet").set_index(KEYS)
    traces = pd.read_parquet(kappa_run / "traces.parquet")
    table = pd.read_parquet(kappa_run / "targets.parquet")
    assert len(table) == len(runs) * len(TARGETS)
    for key, tr in list(traces.groupby(KEYS))[::5]:  # every 5th run, by hand
        scale = max(1.0, abs(runs.loc[key, "f_star"]))
        mine = table.set_index(KEYS).loc[key].set_index("target")
        for t in TARGETS:
            hit = tr[tr.gap <= t * scale]
            if hit.empty:
                assert mine.loc[t, ["step", "njev", "nfev"]].isna().all()
            else:
                first = hit.sort_values("step").iloc[0]
                for col in ("step", "njev", "nfev"):
                    assert mine.loc[t, col] == first[col]


def test_runtime_ecdf_is_a_direct_count(kappa_run: Path) -> None:
    from bench.report.ecdf import runtime_ecdf

    table = pd.read_parquet(kappa_run / "targets.parquet")
    configs = sorted(table.config.unique())
    for count in ("njev", "nfev"):
        ecdf = runtime_ecdf(table, configs, count)
        for config in configs:
            mine = table[table.config == config]
            for budget in (1, 2, 10, 55.5, 300, 1e4, 1e9):
                reached = (mine[count] <= budget).sum()  # NaN: never reached
                assert ecdf.at(config, budget) == reached / len(mine)
    files = [p.name for p in (kappa_run / "report").glob("*_ecdf.png")]
    assert [f[3:] for f in files] == ["ecdf.png"]


@pytest.fixture(scope="module")
def tune_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gd and heavy ball tuned over 7 learning rates on one quadratic, 3 starts."""
    cwd = tmp_path_factory.mktemp("tune")
    _bench(
        "run", "--problems", "quadratic[dim=5,kappa=10]",
        "--optimizers", "gd[lr=0.01]", "momentum[beta=0.5,lr=0.01]", "newton",
        "--tune", "lr=log:1e-3:1:7", "--starts", "3", "--steps", "2000",
        "--out", "run", cwd=cwd,
    )  # fmt: skip
    return cwd / "run"


def test_tuned_lr_is_the_best_grid_point(tune_run: Path) -> None:
    grid = pd.read_parquet(tune_run / "tune" / "runs.parquet")
    chosen = pd.read_parquet(tune_run / "tuning.parquet").set_index("family")
    assert sorted(chosen.index) == ["gd[armijo=False]", "momentum[beta=0.5]"]
    assert sorted(grid.lr.unique()) == pytest.approx(np.geomspace(1e-3, 1, 7))
    for optimizer, fam in (
        ("gd", "gd[armijo=False]"),
        ("momentum", "momentum[beta=0.5]"),
    ):
        g = grid[grid.optimizer == optimizer]
        cost = g.njev_to_tol.where(g.solved & (g.status != "diverged"), np.inf)
        med = cost.groupby(g.lr).median()
        best = med[med == med.min()].index.max()  # ties: the larger lr
        assert chosen.loc[fam, "tuned"] == best
        assert chosen.loc[fam, "median njev_to_tol"] == med.min()
    # the rerun: fresh starts (next seed), tuned and default side by side
    import json

    seed = json.loads((tune_run / "manifest.json").read_text())["seed"]
    assert (
        seed
        == json.loads((tune_run / "tune" / "manifest.json").read_text())["seed"] + 1
    )
    runs = pd.read_parquet(tune_run / "runs.parquet")
    for fam in chosen.index:
        for col in ("default_config", "tuned_config"):
            assert (runs.config == chosen.loc[fam, col]).sum() == 3
    report = tune_run / "report"
    assert len(list(report.glob("[0-9][0-9]_tuning_*.png"))) == 1
    table = pd.read_csv(report / "tables" / "tuning.csv")
    assert list(table["tuned lr"]) == list(chosen.loc[table["family"], "tuned"])


def test_tune_table_in_a_config_is_the_flag() -> None:
    from bench.config import parse_config

    cfg = parse_config({"suite": "smoke", "tune": {"lr": "log:1e-3:1:4"}})
    assert cfg.settings["tune"] == "lr=log:1e-3:1:4"
    with pytest.raises(ValueError, match="needs 0 < LOW < HIGH"):
        parse_config({"suite": "smoke", "tune": {"lr": "log:1:1e-3:4"}})


def test_configs_that_differ_only_in_the_tuned_key_share_one_grid() -> None:
    """adam and adam[lr=0.1] tuned over lr: each grid cell once (the same cell twice
    crashed the grid run's consolidation)."""
    from bench import runner, tuning

    cells = runner.prepare([runner.CellSpec("rosenbrock", {}, "adam", {}),
                            runner.CellSpec("rosenbrock", {}, "adam", {"lr": 0.1})])
    values = np.geomspace(1e-3, 1, 4)
    grid = tuning.grid(tuning.tunable(cells, "lr"), "lr", values)
    assert len(grid) == len({c.key for c in grid}) == len(values)
    assert sorted(c.opt.params["lr"] for c in grid) == pytest.approx(values)


def test_cost_slopes_fit_from_n_100() -> None:
    from bench.report import cost

    rows = []
    for optimizer, power in (("gd", 1.0), ("bfgs", 2.0)):
        for dim in (10, 100, 300, 1000):
            overhead = 1e-3 if dim < 100 else 0.0  # below 100: not fitted
            for start in range(2):
                rows.append(
                    {"problem_name": "quadratic", "dim": dim, "config": optimizer,
                     "optimizer": optimizer, "n_steps": 50 + start,
                     "run_s": (50 + start) * (1e-9 * dim**power + overhead)}
                )  # fmt: skip
    runs = pd.DataFrame(rows)
    (family, g), = cost.size_families(runs).items()
    table = cost.cost_table(g)
    slopes = cost.slope_table(family, table).set_index("config")
    fitted = slopes["fitted slope (n >= 100)"]
    assert fitted["gd"] == pytest.approx(1.0, rel=1e-9)
    assert fitted["bfgs"] == pytest.approx(2.0, rel=1e-9)
    assert cost.size_families(runs[runs.dim != 10].iloc[:0]) == {}
