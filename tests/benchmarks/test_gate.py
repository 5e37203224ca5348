"""The gate on the regression suite: counts are deterministic, an unchanged tree
passes, and a degraded optimizer is caught (cell and metric named, exit 1)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest
from regression_suite import KEYS, load_suite, run_suite

import optimizers.base
from bench.cells import prepare
from bench.cli import main
from bench.suites import CellSpec
from optimizers import linesearch, second_order
from optimizers.base import Optimizer

COUNTS = ["n_steps", "nfev", "njev", "nhev", "steps_to_tol", "nfev_to_tol",
          "njev_to_tol", "status", "solved", "final_gap"]  # fmt: skip
# the degraded cells (two of the suite's), and a healthy one beside them
BITES = [
    CellSpec("rosenbrock", {"n": 2}, "bfgs", {}),
    CellSpec("beale", {}, "bfgs", {}),
    CellSpec("rosenbrock", {"n": 2}, "lbfgs", {}),
]


def _compare(base, new, capsys) -> tuple[int, dict]:
    code = main(["compare", str(base), str(new), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_counts_are_deterministic(regression, tmp_path, capsys):
    """The whole suite again in this process: identical counts, gaps and statuses
    (a count that moves between two runs is a bug, not noise), and compare agrees."""
    settings, cells = load_suite()
    again = run_suite(cells, settings, tmp_path / "again")
    first = regression.runs.sort_values(KEYS).reset_index(drop=True)
    again = again.sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(first[KEYS + COUNTS], again[KEYS + COUNTS])
    code, out = _compare(regression.folder, tmp_path / "again", capsys)
    assert code == 0 and out["tally"]["unchanged"] == len(cells)


def _bfgs_step_loose_wolfe(problem, st, hp):
    """BFGS's own step, traced while the line search's constant is wrong (below):
    a function of its own, so the driver compiles a program of its own."""
    return second_order._bfgs_step(problem, st, hp)


@pytest.fixture
def bites_base(regression, tmp_path) -> Path:
    """The degraded cells run with the real optimizers (programs of the session)."""
    run_suite(prepare(BITES), regression.settings, tmp_path / "base")
    return tmp_path / "base"


@pytest.fixture
def degraded(monkeypatch, bites_base):
    """bfgs replaced, under its own name, by a variant whose line search has the
    wrong curvature constant: nonlinear CG's c2 = 0.1 instead of quasi-Newton's
    0.9 (Nocedal & Wright 2006, sec. 3.1), so every search works harder."""
    monkeypatch.setattr(linesearch, "WOLFE_C2", 0.1)  # read when a step is traced
    bfgs = optimizers.base.factory("bfgs")

    @functools.wraps(bfgs)
    def broken_bfgs() -> Optimizer:
        return bfgs()._replace(step=_bfgs_step_loose_wolfe)

    registry = {**optimizers.base._REGISTRY, "bfgs": broken_bfgs}
    monkeypatch.setattr(optimizers.base, "_REGISTRY", registry)
    monkeypatch.setattr(optimizers.base, "_CACHE", {})


def test_gate_catches_a_degraded_optimizer(
    regression, bites_base, degraded, tmp_path, capsys
):
    run_suite(prepare(BITES), regression.settings, tmp_path / "degraded")
    code, out = _compare(bites_base, tmp_path / "degraded", capsys)
    assert code == 1 and out["result"] == "regression"
    verdicts = {c["problem"] + " x " + c["config"]: c for c in out["cells"]}
    # lbfgs (also strong Wolfe) was compiled before the patch: its program is intact
    assert verdicts["rosenbrock[n=2] x lbfgs[memory=10]"]["verdict"] == "unchanged"
    for cell in ("rosenbrock[n=2] x bfgs", "beale x bfgs"):
        assert verdicts[cell]["verdict"] == "worse"
        worse = {ch["metric"] for ch in verdicts[cell]["changes"]
                 if ch["direction"] == "worse"}  # fmt: skip
        assert {"nfev", "njev"} <= worse
    # the markdown table names the cell and the metric
    assert main(["compare", str(bites_base), str(tmp_path / "degraded")]) == 1
    table = capsys.readouterr().out
    assert "| beale x bfgs | worse | " in table and "nfev worse in 2/2 runs" in table
