"""The harness end to end on a few small cells: tables follow docs/schema.md and agree
with bench.solve, f* falls back to the best found, failures and Ctrl-C keep results."""

import json
import threading

import numpy as np
import pandas as pd
import pytest

import bench
import optimizers
import problems
from bench import driver, runner
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
    "precision", "optimizer_params", "lr", "beta", "source", "start", "status",
    "solved", "f_star",
    "f_star_known", "final_f", "final_gap", "final_grad_norm", "n_steps", "nfev",
    "njev", "nhev", "nhvp", "njac", "steps_to_tol", "nfev_to_tol", "njev_to_tol",
    "work_to_tol", "rate", "order", "rate_theory", "compile_s", "compile_cached",
    "run_s", "time_to_tol_s", "run_s_batched", "num_steps", "max_njev", "gtol", "tol",
]  # fmt: skip
TRACE_COLUMNS = [
    "problem", "optimizer", "config", "precision", "start", "step", "f", "gap",
    "grad_norm",
    "step_size", "nfev", "njev", "nhev", "nhvp", "njac", "time_s", "x0", "x1",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    driver._COMPILED.clear()  # compile_s is 0 for a program this process already had
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
    # every stored status is explained in the manifest
    assert set(runs.status) <= set(manifest["statuses"])
    assert manifest["statuses"]["stalled"].startswith("two iterations in a row")
    # BLAS is held to one thread during the run (fair to scipy on tiny arrays)
    assert set(manifest["platform"]["blas_threads"]) <= {1}
    assert manifest["platform"]["our_compiler_options"]
    # our XLA options took effect: every loop on XLA:CPU's fast path
    assert manifest["platform"]["xla"] == {
        "compiled_without_options": 0,
        "off_fast_path": 0,
    }
    # three families (bfgs; gd with two learning rates; lbfgs), two programs each
    assert manifest["compile"]["programs_compiled"] + manifest["compile"][
        "programs_from_cache"
    ] <= 6
    # the cells' shares of their families' compile seconds add up to the manifest's
    # (one measure: tracing and lowering included)
    ours = runs.drop_duplicates(["problem", "config"])
    assert ours.compile_s.sum() == pytest.approx(manifest["compile"]["seconds"],
                                                 abs=1e-5)  # fmt: skip
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
    # reached: a measured wall time, dispatch included, never 0
    assert np.isfinite(bfgs.time_to_tol_s).all() and (bfgs.time_to_tol_s > 0).all()
    # families of at most LANE_BY_LANE lanes run lane by lane: no batch to time
    assert (runs.run_s > 0).all() and runs.run_s_batched.isna().all()
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


def _failing_family(monkeypatch, error):
    """Make the family whose first cell is bfgs raise ``error`` as it runs."""
    real = runner._trace

    def flaky(fam, *args):
        if fam.cells[0].config == "bfgs":
            raise error
        return real(fam, *args)

    monkeypatch.setattr(runner, "_trace", flaky)


def test_a_failing_cell_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    _failing_family(monkeypatch, RuntimeError("boom"))
    cells = runner.prepare(SPECS[:2])
    runner.run(cells, SETTINGS, tmp_path, "t", [], progress=False)
    runs, _, manifest = _tables(tmp_path)
    assert set(runs.config) == {"gd[armijo=False,lr=0.001]"}
    assert manifest["cells"][0] == {
        "problem": "rosenbrock[n=2]",
        "config": "bfgs",
        "precision": "float64",
        "status": "failed",
        "error": "RuntimeError: boom",
    }


def test_interrupt_keeps_finished_cells(tmp_path, monkeypatch):
    real = runner._trace

    def interrupt_second(fam, *args):
        if fam.cells[0].config != "bfgs":
            raise KeyboardInterrupt
        return real(fam, *args)

    monkeypatch.setattr(runner, "_trace", interrupt_second)
    monkeypatch.setattr(runner, "TIMED_TOGETHER", 1)  # bfgs is timed before the next
    with pytest.raises(KeyboardInterrupt):
        runner.run(runner.prepare(SPECS[:2]), SETTINGS, tmp_path, "t", [], False)
    runs, _, manifest = _tables(tmp_path)
    assert manifest["status"] == "interrupted"
    assert set(runs.config) == {"bfgs"} and len(runs) == SETTINGS.starts


@pytest.mark.parametrize("together", [1, 2, runner.TIMED_TOGETHER])
def test_no_start_is_timed_while_a_program_compiles(tmp_path, monkeypatch, together,
                                                    run_dir):
    """Whatever the number of families timed together, every timing runs with the
    compile threads idle, and the runs are those of the default grouping."""
    compiling, timings, lock = [0], [], threading.Lock()
    real_compile, real_wall = runner.Family.compile, runner.timing.wall_seconds

    def compile_counted(fam):  # on the compile threads
        with lock:
            compiling[0] += 1
        try:
            return real_compile(fam)
        finally:
            with lock:
                compiling[0] -= 1

    def wall_seconds(call, *args, **kwargs):
        timings.append(compiling[0])
        return real_wall(call, *args, **kwargs)

    monkeypatch.setattr(runner.Family, "compile", compile_counted)
    monkeypatch.setattr(runner.timing, "wall_seconds", wall_seconds)
    monkeypatch.setattr(runner, "TIMED_TOGETHER", together)
    driver._COMPILED.clear()  # every family compiles (or loads) on a thread again
    runner.run(runner.prepare(SPECS), SETTINGS, tmp_path, "t", [], progress=False)
    runs, traces, manifest = _tables(tmp_path)
    assert timings and not any(timings)
    assert manifest["status"] == "complete" and len(runs) == len(SPECS) * 2
    assert all(c["status"] == "done" for c in manifest["cells"])
    assert runs.run_s.gt(0).all()
    default, _, _ = _tables(run_dir)
    counts = ["problem", "config", "start", "status", "n_steps", "nfev", "njev"]
    pd.testing.assert_frame_equal(runs[counts], default[counts])


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


# --- hyperparameters and instances are data: one program, same numbers ----------------


def _run(tmp_path, specs, settings):
    runner.run(runner.prepare(specs), settings, tmp_path, "t", [], progress=False)
    return _tables(tmp_path)


def test_an_lr_grid_is_one_family_and_equals_runs_one_lr_at_a_time(tmp_path):
    """8 learning rates x 8 starts: one batched program (and the one-lane program
    that times each start alone), whatever the number of values; every run equals
    bench.solve from the same start with that lr alone."""
    lrs = [1e-4 * 2**i for i in range(8)]
    specs = [CellSpec("rosenbrock", {}, "gd", {"lr": lr}) for lr in lrs]
    s = Settings(starts=8, num_steps=41, gtol=1e-8, tol=1e-8, seed=1)
    programs = driver_programs()
    runs, _, manifest = _run(tmp_path, specs, s)
    assert driver_programs() - programs == 2
    assert manifest["compile"]["programs_compiled"] + manifest["compile"][
        "programs_from_cache"
    ] == 2
    assert (runs.run_s_batched > 0).all()  # 64 lanes: one batched call, timed
    p = problems.get("rosenbrock")
    x0s = runner.starting_points(p, s.starts, s.seed)
    for lr in (lrs[0], lrs[5]):
        opt = optimizers.get("gd", lr=lr)
        for j in (0, 7):
            tr = bench.solve(p, opt, x0s[j], num_steps=41, gtol=1e-8)
            row = runs[(runs.lr == lr) & (runs.start == j)].iloc[0]
            assert (row.n_steps, row.nfev, row.njev) == (
                int(tr.n_steps), int(tr.nfev[-1]), int(tr.njev[-1])
            )
            assert row.final_f == pytest.approx(float(tr.f[-1]), rel=1e-10)


def test_an_instance_batch_equals_the_instances_run_separately(tmp_path):
    """quadratic over kappa and seed: one family (the data are arguments); each run
    equals bench.solve on that instance alone."""
    kappas = [10.0, 100.0, 1000.0]
    specs = [
        CellSpec("quadratic", {"dim": 6, "kappa": k, "seed": sd}, "bfgs", {})
        for k in kappas
        for sd in (0, 1)
    ]
    s = Settings(starts=2, num_steps=40, gtol=1e-9, tol=1e-8, seed=0)
    assert len(runner.families(runner.prepare(specs))) == 1
    runs, _, _ = _run(tmp_path, specs, s)
    for k in (kappas[0], kappas[2]):
        p = problems.get("quadratic", dim=6, kappa=k, seed=1)
        x0s = runner.starting_points(p, s.starts, s.seed)
        tr = bench.solve(p, optimizers.get("bfgs"), x0s[1], num_steps=40, gtol=1e-9)
        row = runs[(runs.problem == p.label) & (runs.start == 1)].iloc[0]
        assert (row.n_steps, row.nfev) == (int(tr.n_steps), int(tr.nfev[-1]))
        assert row.final_f == pytest.approx(float(tr.f[-1]), rel=1e-10, abs=1e-300)


def test_no_stored_time_is_zero_or_negative(run_dir):
    runs, traces, _ = _tables(run_dir)
    moved = runs[runs.n_steps > 0]
    for col in ("run_s", "compile_s"):
        assert (moved[col] > 0).all(), col
    tt = moved.time_to_tol_s.dropna()
    assert len(tt) and (tt > 0).all()
    later = traces[traces.step > 0]
    assert (later.time_s > 0).all()


def test_a_run_solved_on_the_step_that_meets_gtol_has_its_time_to_tol(tmp_path):
    """Newton on a quadratic reaches f* (the tolerance) and ||g|| <= gtol on its first
    step: its timing run stops there at the target, and the time is kept."""
    s = Settings(starts=2, num_steps=20, gtol=1e-8, tol=1e-8, seed=0)
    runs, _, _ = _run(tmp_path, [CellSpec("quadratic", {}, "newton", {})], s)
    assert (runs.status == "converged").all() and runs.solved.all()
    assert (runs.steps_to_tol == runs.n_steps).all()
    assert (runs.time_to_tol_s > 0).all()


def test_a_gradient_budget_stops_runs(tmp_path):
    s = Settings(starts=1, num_steps=200, gtol=0.0, tol=1e-8, max_njev=25)
    runs, _, _ = _run(tmp_path, [CellSpec("rosenbrock", {}, "bfgs", {}),
                                 CellSpec("rosenbrock", {}, "gd", {})], s)  # fmt: skip
    assert (runs.status == "max_njev").all()
    assert (runs.njev >= 25).all() and (runs.njev <= 25 + 30).all()
    assert (runs[runs.config.str.startswith("gd")].njev == 25).all()
    assert (runs.max_njev == 25).all()


def test_peers_run_without_the_gradient_budget_and_say_so(tmp_path):
    """scipy and optimistix take no evaluation budget: their rows recorded one."""
    s = Settings(starts=1, num_steps=200, gtol=1e-10, tol=1e-8, max_njev=20)
    specs = [CellSpec("rosenbrock", {}, "bfgs", {}),
             CellSpec("rosenbrock", {}, "scipy:BFGS", {})]  # fmt: skip
    assert "scipy:BFGS run without a budget" in runner.unbudgeted(
        runner.prepare(specs), s)  # fmt: skip
    assert runner.unbudgeted(runner.prepare(specs[:1]), s) is None
    runs = _run(tmp_path, specs, s)[0].set_index("config")
    ours, peer = runs.loc["bfgs"], runs.loc["scipy:BFGS"]
    assert ours.status == "max_njev" and ours.max_njev == 20
    assert peer.njev > 20 and np.isnan(peer.max_njev)


def driver_programs() -> int:
    from bench import driver

    return driver.STATS["programs"]


def test_a_family_of_few_lanes_is_one_program_and_equals_the_batched_one(tmp_path):
    """4 starts of gd on a quadratic: the one-lane program alone, called lane by
    lane; its runs equal solve_batch's (the vmapped program) from the same starts."""
    s = Settings(starts=4, num_steps=300, gtol=1e-8, tol=1e-8, seed=2)
    gd = optimizers.get("gd", lr=0.01)
    programs = driver_programs()
    runs, traces, _ = _run(tmp_path, [CellSpec("quadratic", {}, "gd", {"lr": 0.01})], s)
    assert driver_programs() - programs == 1
    p = problems.get("quadratic")
    tb = bench.solve_batch(p, gd, runner.starting_points(p, s.starts, s.seed), 300,
                           1e-8)  # fmt: skip
    runs = runs.sort_values("start")
    np.testing.assert_array_equal(runs.n_steps, tb.n_steps)
    np.testing.assert_array_equal(runs.njev, tb.njev[:, -1])
    # vmapped and one-lane arithmetic may differ in the last bits: gd contracts them
    np.testing.assert_allclose(runs.final_f, tb.f[:, -1], rtol=1e-12)
    for j in range(s.starts):
        rows = traces[traces.start == j].sort_values("step")
        np.testing.assert_allclose(rows.f, tb.f[j, : len(rows)], rtol=1e-12)


@pytest.mark.parametrize("starts, warm_ups", [(2, 0), (9, 1 + 9)])
def test_only_a_batched_family_makes_warm_up_calls_for_its_run_times(
    tmp_path, monkeypatch, starts, warm_ups
):
    """Run lane by lane (at most LANE_BY_LANE lanes), a start's traced call is the
    very call its run_s times: no warm-up call of its own. Batched, the batch and
    each start's one-lane call are warmed up first; the time to tolerance never is
    (its check call is)."""
    from bench import families

    assert (starts <= families.LANE_BY_LANE) == (warm_ups == 0)
    real, warm_flags = runner.timing.wall_seconds, []

    def wall_seconds(call, *args, warm=False, **kwargs):
        warm_flags.append(warm)
        return real(call, *args, warm=warm, **kwargs)

    monkeypatch.setattr(runner.timing, "wall_seconds", wall_seconds)
    s = Settings(starts=starts, num_steps=60, gtol=1e-8, tol=1e-8, seed=3)
    runs, _, _ = _run(tmp_path, [CellSpec("rosenbrock", {}, "bfgs", {})], s)
    assert runs.run_s.gt(0).all() and runs.time_to_tol_s.notna().any()
    assert warm_flags.count(False) == warm_ups
