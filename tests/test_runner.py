"""The harness end to end on a few small cells: tables follow docs/schema.md and agree
with bench.solve, f* falls back to the best found, failures and Ctrl-C keep results."""

import json

import numpy as np
import pandas as pd
import pytest

import bench
import optimizers
import problems
from bench import runner
from bench.runner import CellSpec, Settings

SETTINGS = Settings(starts=2, num_steps=60, gtol=1e-8, tol=1e-8, seed=3)
SPECS = [
    CellSpec("rosenbrock", {}, "bfgs", {}),
    CellSpec("rosenbrock", {}, "gd", {"lr": 1e-3}),
    CellSpec("rosenbrock", {}, "gd", {"lr": 1.0}),  # diverges within a few steps
    CellSpec("mlp", {"hidden": 2, "n_samples": 8}, "lbfgs", {}),  # no published f*
]
RUN_COLUMNS = [
    "problem", "problem_name", "problem_params", "dim", "optimizer", "config",
    "optimizer_params", "lr", "source", "start", "status", "solved", "f_star",
    "f_star_known", "final_f", "final_gap", "final_grad_norm", "n_steps", "nfev",
    "njev", "nhev", "steps_to_tol", "nfev_to_tol", "njev_to_tol", "rate", "order",
    "rate_theory", "compile_s", "run_s", "time_to_tol_s", "num_steps", "gtol", "tol",
]  # fmt: skip
TRACE_COLUMNS = [
    "problem", "optimizer", "config", "start", "step", "f", "gap", "grad_norm",
    "step_size", "nfev", "njev", "nhev", "time_s", "x0", "x1",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    runner.run(runner.prepare(SPECS), SETTINGS, out, "test", ["pytest"], progress=False)
    return out


def _tables(run_dir):
    return (
        pd.read_parquet(run_dir / "runs.parquet"),
        pd.read_parquet(run_dir / "traces.parquet"),
        json.loads((run_dir / "manifest.json").read_text()),
    )


def test_tables_follow_the_schema(run_dir):
    runs, traces, manifest = _tables(run_dir)
    assert list(runs.columns) == RUN_COLUMNS
    assert sorted(traces.columns) == sorted(TRACE_COLUMNS)
    assert len(runs) == len(SPECS) * SETTINGS.starts
    assert manifest["status"] == "complete" and manifest["finished"]
    assert [c["status"] for c in manifest["cells"]] == ["done"] * len(SPECS)
    assert manifest["num_steps"] == 60 and manifest["versions"]["jax"]
    # BLAS is held to one thread during the run (fair to scipy on tiny arrays)
    assert set(manifest["platform"]["blas_threads"]) <= {1}
    assert manifest["platform"]["our_compiler_options"]
    assert manifest["platform"]["compiles_without_options"] == 0
    assert not list(run_dir.glob(".*.tmp"))  # atomic writes leave no temp files
    # one trace row per step actually taken, and the runs table agrees with its end
    per_run = traces.groupby(["config", "problem", "start"])
    last = per_run.last().reset_index().merge(runs, on=["config", "problem", "start"])
    assert (per_run.size().to_numpy() == per_run.step.max().to_numpy() + 1).all()
    np.testing.assert_array_equal(last["nfev_x"], last["nfev_y"])
    np.testing.assert_array_equal(last["step"], last["n_steps"])


def test_runs_agree_with_solve_from_the_same_start(run_dir):
    runs, traces, _ = _tables(run_dir)
    p = problems.get("rosenbrock")
    x0s = runner.starting_points(p, SETTINGS.starts, SETTINGS.seed)
    assert np.array_equal(x0s[0], np.asarray(p.x0))
    opt = optimizers.get("bfgs")
    for j, x0 in enumerate(x0s):
        tr = bench.solve(p, opt, x0, num_steps=60, gtol=1e-8)
        row = runs[(runs.config == "bfgs") & (runs.start == j)].iloc[0]
        n = int(np.argmax(np.asarray(tr.done)))
        assert row.n_steps == n and row.nfev == int(tr.nfev[-1])
        assert row.final_f == pytest.approx(float(tr.f[-1]), rel=1e-12)
        first = traces[(traces.config == "bfgs") & (traces.start == j)].iloc[0]
        assert first.f == pytest.approx(float(p.f(x0)), rel=1e-14)


def test_statuses_and_targets(run_dir):
    runs, traces, _ = _tables(run_dir)
    bfgs = runs[runs.config == "bfgs"]
    assert (bfgs.status == "converged").all() and bfgs.solved.all()
    # reached: finite; a few microseconds less the dispatch cost, so >= 0 (not > 0:
    # under load the difference of two medians can round to nothing)
    assert np.isfinite(bfgs.time_to_tol_s).all() and (bfgs.time_to_tol_s >= 0).all()
    blowup = runs[runs.config == "gd[armijo=False,lr=1]"]
    assert (blowup.status == "diverged").all() and not blowup.solved.any()
    assert blowup.rate.isna().all()  # no rate is fitted to a blow-up
    assert np.isfinite(blowup.final_f).all()  # last finite values are kept
    slow = runs[runs.config == "gd[armijo=False,lr=0.001]"]
    assert (slow.status == "max_steps").all() and slow.time_to_tol_s.isna().all()
    # steps_to_tol is the first traced step whose gap is within tol
    for _, row in bfgs.iterrows():
        tr = traces[(traces.config == "bfgs") & (traces.start == row.start)]
        first = tr.step[tr.gap <= 1e-8].min()
        assert row.steps_to_tol == first


def test_unknown_f_star_is_the_best_found(run_dir):
    runs, traces, _ = _tables(run_dir)
    mlp = runs[runs.problem_name == "mlp"]
    assert not mlp.f_star_known.any()
    best = traces[traces.problem == mlp.problem.iloc[0]].f.min()
    assert (mlp.f_star == best).all()
    assert mlp.final_gap.min() == 0.0


def test_a_failing_cell_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    real = runner.run_cell

    def flaky(cell, settings):
        if cell.config == "bfgs":
            raise RuntimeError("boom")
        return real(cell, settings)

    monkeypatch.setattr(runner, "run_cell", flaky)
    cells = runner.prepare(SPECS[:2])
    runner.run(cells, SETTINGS, tmp_path, "t", [], progress=False)
    runs, _, manifest = _tables(tmp_path)
    assert set(runs.config) == {"gd[armijo=False,lr=0.001]"}
    assert manifest["cells"][0] == {
        "problem": "rosenbrock[n=2]",
        "config": "bfgs",
        "status": "failed",
        "error": "RuntimeError: boom",
    }


def test_interrupt_keeps_finished_cells(tmp_path, monkeypatch):
    real = runner.run_cell

    def interrupt_second(cell, settings):
        if cell.config != "bfgs":
            raise KeyboardInterrupt
        return real(cell, settings)

    monkeypatch.setattr(runner, "run_cell", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        runner.run(runner.prepare(SPECS[:2]), SETTINGS, tmp_path, "t", [], False)
    runs, _, manifest = _tables(tmp_path)
    assert manifest["status"] == "interrupted"
    assert set(runs.config) == {"bfgs"} and len(runs) == SETTINGS.starts


@pytest.mark.parametrize(
    "spec, message",
    [
        (CellSpec("nope", {}, "gd", {}), "unknown problem 'nope'"),
        (CellSpec("rosenbrock", {}, "sgd", {}), "unknown optimizer 'sgd'"),
        (CellSpec("rosenbrock", {}, "adam", {"lr": -1}), "lr must be > 0"),
        (CellSpec("rosenbrock", {"m": 3}, "gd", {}), "has no parameter m"),
        (CellSpec("rosenbrock", {"n": "abc"}, "gd", {}), "integer n"),
        (CellSpec("quadratic", {"kappa": "abc"}, "gd", {}), "number kappa"),
        (CellSpec("quadratic", {"kappa": float("inf")}, "gd", {}), "finite kappa"),
        (CellSpec("quadratic", {"seed": 1.5}, "gd", {}), "integer seed"),
    ],
)
def test_prepare_rejects_bad_cells(spec, message):
    with pytest.raises(ValueError, match=message):
        runner.prepare([spec])


def test_two_spellings_of_one_cell_run_once():
    cells = runner.prepare(
        [
            CellSpec("rosenbrock", {}, "adam", {}),
            CellSpec("rosenbrock", {"n": 2}, "adam", {"lr": 1e-3}),
        ]
    )
    assert len(cells) == 1


def test_settings_are_checked():
    with pytest.raises(ValueError, match="starts"):
        Settings(starts=0)
    with pytest.raises(ValueError, match="tol"):
        Settings(tol=-1.0)
