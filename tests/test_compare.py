"""``python -m bench compare`` on hand-made tables: each metric's direction, the
environment rules, the timing statistics and bad input (no optimizer is run)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.compare import Tolerances, compare
from bench.compare_inputs import Side

ENV = {
    "jax": "0.10.2",
    "jaxlib": "0.10.2",
    "precision": "float64",
    "backend": "cpu",
    "isa": "avx avx2 fma",
    "numpy": "2.4.6",
    "cpu_model": "AMD EPYC",
}


def _runs(**changes) -> pd.DataFrame:
    """Two runs of one cell (bfgs on rosenbrock), solved in 20 steps; ``changes``
    sets a column for start 1."""
    rows = [
        {
            "problem": "rosenbrock[n=2]",
            "config": "bfgs",
            "start": j,
            "status": "converged",
            "solved": True,
            "final_gap": 1e-20,
            "f_star": 0.0,
            "tol": 1e-8,
            "n_steps": 20,
            "nfev": 30,
            "njev": 30,
            "nhev": 0,
            "steps_to_tol": 18.0,
            "nfev_to_tol": 27.0,
            "njev_to_tol": 27.0,
            "inputs": f"digest{j}",
        }
        for j in range(2)
    ]
    rows[1].update(changes)
    return pd.DataFrame(rows)


def _side(runs=None, env=ENV, times=None, failed=None) -> Side:
    runs = _runs() if runs is None else runs
    return Side("x", runs, dict(env), times or {}, None, failed or {})


def _cell(base: Side, new: Side, **kw):
    (cell,) = compare(base, new, **kw).cells
    return cell


def _changes(cell) -> dict[str, str]:
    return {c["metric"]: c["direction"] for c in cell.changes}


def test_identical_runs_are_unchanged():
    r = compare(_side(), _side())
    assert [c.verdict for c in r.cells] == ["unchanged"] and r.exit_code == 0


def test_runs_under_other_settings_are_not_comparable():
    """A longer step budget gives other counts: not a regression (it read as one)."""
    base = _side(_runs().assign(num_steps=400))
    new = _side(_runs(n_steps=25, nfev=40).assign(num_steps=500))
    r = compare(base, new)
    (cell,) = r.cells
    assert (cell.verdict, cell.note) == ("not comparable",
                                         "settings differ: num_steps 400 -> 500")
    assert r.exit_code == 3


@pytest.mark.parametrize(
    "change, metric, direction",
    [
        ({"nfev": 31}, "nfev", "worse"),  # counts: exact, lower is better
        ({"njev": 29}, "njev", "better"),
        ({"nhvp": 5}, None, None),  # a count on one side only is not compared
        ({"solved": False, "final_gap": 1.0}, "solved", "worse"),  # higher is better
        ({"nfev_to_tol": math.nan}, "nfev_to_tol", "worse"),  # no longer reaches tol
        ({"status": "diverged"}, "diverged", "worse"),
        ({"final_gap": 9e-9}, None, None),  # grew, but below the solved threshold
    ],
)
def test_each_metric_has_its_direction(change, metric, direction):
    new = _runs(**change)
    if "nhvp" in change:
        new["nhvp"] = 5
    cell = _cell(_side(), _side(new))
    if metric is None:
        assert cell.verdict == "unchanged"
        return
    assert _changes(cell)[metric] == direction and cell.verdict == direction
    assert compare(_side(), _side(new)).exit_code == (direction == "worse")


def test_a_count_present_on_both_sides_is_compared_generically():
    base, new = _runs(), _runs(njac=7)
    base["njac"], new.loc[0, "njac"] = 5, 5
    assert _changes(_cell(_side(base), _side(new))) == {"njac": "worse"}


def test_final_gap_grows_past_ten_times_and_the_threshold():
    base = _runs(solved=False, final_gap=1e-3)
    assert _cell(_side(base), _side(_runs(solved=False, final_gap=9e-3))).verdict == (
        "unchanged"
    )
    cell = _cell(_side(base), _side(_runs(solved=False, final_gap=2e-2)))
    assert _changes(cell) == {"final_gap": "worse"}
    assert compare(_side(base), _side(base), Tolerances(gap_factor=2)).exit_code == 0


def test_worse_wins_over_better_in_a_cell():
    cell = _cell(_side(), _side(_runs(n_steps=10, nfev=40)))
    assert _changes(cell) == {"n_steps": "better", "nfev": "worse"}
    assert cell.verdict == "worse"


def test_missing_new_and_failing_cells():
    other = _runs().assign(problem="beale")
    r = compare(_side(), _side(other))
    assert {(c.problem, c.verdict) for c in r.cells} == {
        ("rosenbrock[n=2]", "missing"),
        ("beale", "new"),
    }
    assert r.exit_code == 1
    one_start = _runs().iloc[:1]
    assert _cell(_side(), _side(one_start)).verdict == "missing"
    failed = _side(other, failed={("rosenbrock[n=2]", "bfgs"): "ValueError: boom"})
    cells = {c.problem: c for c in compare(_side(), failed).cells}
    assert cells["rosenbrock[n=2]"].verdict == "failing"
    assert cells["rosenbrock[n=2]"].note == "ValueError: boom"
    newly = _side(pd.concat([_runs(), other]), failed={("wood", "bfgs"): "boom"})
    cells = {c.problem: c.verdict for c in compare(_side(), newly).cells}
    assert cells == {"rosenbrock[n=2]": "unchanged", "beale": "new", "wood": "failing"}
    # a new cell alone is reported, not a regression
    assert compare(_side(), _side(pd.concat([_runs(), other]))).exit_code == 0


def test_changed_inputs_are_not_comparable():
    cell = _cell(_side(), _side(_runs(inputs="other", nfev=99)))
    assert cell.verdict == "not comparable" and "start 1" in cell.note
    assert compare(_side(), _side(_runs(inputs="other"))).exit_code == 3


def test_environment_rules():
    for key in ("jax", "jaxlib", "precision", "backend", "isa"):  # counts move
        env = {**ENV, key: "other"}
        r = compare(_side(), _side(_runs(nfev=99), env=env))
        assert r.exit_code == 3 and r.cells[0].verdict == "not comparable"
        assert r.cells[0].note == "would be worse"
        allowed = compare(
            _side(), _side(_runs(nfev=99), env=env), allow_env_change=True
        )
        assert allowed.exit_code == 1 and not allowed.times_comparable
    for key in ("numpy", "cpu_model"):  # times move, counts do not
        r = compare(_side(), _side(env={**ENV, key: "other"}))
        assert r.counts_comparable and not r.times_comparable and r.exit_code == 0


FAST = [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06]


def test_times_median_ratio_and_rank_test():
    slow = [2 * t for t in FAST]
    noisy = [0.5, 3.0, 1.0, 2.5, 0.6, 2.2, 1.9]  # median 1.9: past 1.1, overlapping
    base = _side(times={"a": FAST, "b": FAST, "c": FAST})
    new = _side(times={"a": slow, "b": noisy, "c": FAST})
    r = compare(base, new)
    t = {x["timing"]: x for x in r.times}
    assert t["a"]["ratio"] == pytest.approx(2.0) and t["a"]["mark"] == "slower"
    # fully separated 7 against 7: exact two-sided p = 2 / C(14, 7)
    assert t["a"]["p"] == pytest.approx(2 / math.comb(14, 7))
    assert t["b"]["mark"] == "~" and t["b"]["p"] > 0.05
    assert t["c"]["mark"] == "same"
    assert r.exit_code == 0  # times gate only with --strict-time
    assert compare(base, new, strict_time=True).exit_code == 1
    drift = _side(times={"a": slow}, env={**ENV, "cpu_model": "other"})
    assert compare(base, drift, strict_time=True).exit_code == 0  # other machine


def _benchmark_json(path, runs: pd.DataFrame, samples=FAST) -> None:
    info = {
        "label": "fam",
        "fingerprint": ENV,
        "runs": json.loads(runs.to_json(orient="records")),
    }
    cal = {"calibration": True, "fingerprint": ENV}
    path.write_text(
        json.dumps(
            {
                "benchmarks": [
                    {
                        "name": "test_family",
                        "extra_info": info,
                        "stats": {"data": samples},
                    },
                    {
                        "name": "test_calibration",
                        "extra_info": cal,
                        "stats": {"data": samples},
                    },
                ]
            }
        )
    )


def test_cli_reads_pytest_benchmark_json(tmp_path, capsys):
    _benchmark_json(tmp_path / "base.json", _runs())
    _benchmark_json(tmp_path / "new.json", _runs(nfev=35), [2 * t for t in FAST])
    assert (
        main(["compare", str(tmp_path / "base.json"), str(tmp_path / "new.json")]) == 1
    )
    out = capsys.readouterr().out
    assert (
        "| rosenbrock[n=2] x bfgs | worse | nfev worse in 1/2 runs: total 60 -> 65 |"
        in out
    )
    assert "Machine speed (calibration workload, new/base time): 2.00x" in out
    assert "| fam | " in out and "| slower |" in out
    code = main(
        ["compare", str(tmp_path / "base.json"), str(tmp_path / "base.json"), "--json"]
    )
    got = json.loads(capsys.readouterr().out)
    assert code == 0 and got["result"] == "no regression"
    assert got["tally"]["unchanged"] == 1 and got["calibration_ratio"] == 1.0


@pytest.mark.parametrize(
    "write, args, message",
    [
        (None, ["missing-folder", "missing-folder"], "does not exist"),
        ("{", ["f.json", "f.json"], "not readable JSON"),
        ('{"benchmarks": []}', ["f.json", "f.json"], "holds no optbench runs"),
        ("[1]", ["f.json", "f.json"], "not a pytest-benchmark JSON"),
        (None, ["empty", "empty"], "not a readable run folder"),
        (
            '{"benchmarks": []}',
            ["f.json", "f.json", "--gap-factor", "-1"],
            "--gap-factor must be",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path, capsys, monkeypatch, write, args, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    if write is not None:
        (tmp_path / "f.json").write_text(write)
    assert main(["compare", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_run_folder_times_are_per_start_run_s(tmp_path, capsys):
    """A `bench run` folder: each cell's samples are its starts' run_s."""
    for name, scale in (("base", 1.0), ("new", 1.0)):
        folder = tmp_path / name
        folder.mkdir()
        runs = _runs().assign(run_s=[1e-3 * scale, 1.1e-3 * scale],
                              problem_name="rosenbrock", dim=2, optimizer="bfgs",
                              final_f=1e-20)  # a run folder's required columns
        runs.drop(columns="inputs").to_parquet(folder / "runs.parquet")
        manifest = {
            "precision": "float64",
            "versions": {k: ENV[k] for k in ("jax", "jaxlib", "numpy")},
            "platform": {
                "jax_devices": ["cpu:0"],
                "cpu": {"model": "AMD EPYC", "isa": ["avx"]},
            },
            "cells": [],
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
    assert (
        main(["compare", str(tmp_path / "base"), str(tmp_path / "new"), "--json"]) == 0
    )
    got = json.loads(capsys.readouterr().out)
    assert got["times"][0]["timing"] == "rosenbrock[n=2] x bfgs"
    assert got["times"][0]["samples"] == [2, 2] and np.isclose(
        got["times"][0]["ratio"], 1
    )


def test_a_run_whose_every_cell_failed_is_failing_not_unreadable(tmp_path, capsys):
    """No runs.parquet, but a manifest of failed cells: a regression (exit 1), as one
    failed cell is; it read as a folder that is not a run (exit 2)."""
    manifest = {
        "precision": "float64",
        "versions": {k: ENV[k] for k in ("jax", "jaxlib", "numpy")},
        "platform": {"jax_devices": ["cpu:0"],
                     "cpu": {"model": "AMD EPYC", "isa": ["avx"]}},
        "cells": [],
    }  # fmt: skip
    base = tmp_path / "base"
    base.mkdir()
    _runs().assign(run_s=1e-3, problem_name="rosenbrock", dim=2, optimizer="bfgs",
                   final_f=1e-20).drop(columns="inputs").to_parquet(
        base / "runs.parquet")  # fmt: skip
    (base / "manifest.json").write_text(json.dumps(manifest))
    new = tmp_path / "new"
    new.mkdir()
    failed = {"problem": "rosenbrock[n=2]", "config": "bfgs", "precision": "float64",
              "status": "failed", "error": "timeout: ran past --cell-timeout"}
    (new / "manifest.json").write_text(json.dumps({**manifest, "cells": [failed]}))
    assert main(["compare", str(base), str(new)]) == 1
    out = capsys.readouterr().out
    assert "| rosenbrock[n=2] x bfgs | failing | timeout: ran past" in out


def test_values_print_short_in_the_table():
    """A diverged run's gap printed as a 309-digit integer."""
    from bench.cli.compare import _fmt

    assert _fmt(1.3038e308) == "1.3e+308" and _fmt(86.0) == "86" and _fmt(0.5) == "0.5"
    assert _fmt(float("nan")) == "-" and _fmt(7) == "7"


def test_a_metric_worse_in_one_run_and_better_in_another_says_both():
    """'nfev worse in 1/2 runs: total 60 -> 59' hid the run that improved by 2."""
    from bench.cli.compare import _changes as line

    new = _runs(nfev=28)
    new.loc[0, "nfev"] = 31  # start 0 worse by 1, start 1 better by 2
    cell = _cell(_side(), _side(new))
    assert cell.verdict == "worse"
    assert line(cell) == "nfev worse in 1/2 runs (better in 1): total 60 -> 59"
    only_worse = _cell(_side(), _side(_runs(nfev=35)))
    assert line(only_worse) == "nfev worse in 1/2 runs: total 60 -> 65"
