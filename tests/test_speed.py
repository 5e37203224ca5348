"""Smoke test of the peer speed benchmark (``python -m bench.speed``).

Runs the quick mode once and checks behaviour, not timing: every measured time and
ratio is finite and positive, the comparisons are like with like, the lr grid and
the kappa sweep each compile exactly one program, our programs run on XLA's fast
path, and our Adam takes optax's steps. Timings belong to the benchmark's printed
output, not to a test on a shared machine.
"""

import json
import math
import subprocess
import sys

import pytest

pytest.importorskip("scipy")
pytest.importorskip("optax")
pytest.importorskip("optimistix")

from bench import speed, xla  # noqa: E402

TIMED = ("bfgs_single", "bfgs_batch", "lbfgs_batch", "adam", "lr_grid", "kappa")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "speed.json"
    return speed.main(["--quick", "--json", str(path)]), path


def _ratios(res):
    for section in TIMED:
        for name, r in res[section]["ratios"].items():
            yield f"{section}:{name}", r


def test_every_time_and_ratio_is_finite_and_positive(quick):
    res, _ = quick
    ratios = dict(_ratios(res))
    for key in (
        "bfgs_single:scipy/ours",
        "bfgs_single:optimistix/ours",
        "bfgs_single:optimistix/ours_solve",
        "bfgs_batch:optimistix_vmap/ours",
        "bfgs_batch:optimistix_vmap/ours_solve_batch",
        "bfgs_batch:scipy_loop_scaled/ours",
        "lbfgs_batch:optimistix_vmap/ours",
        "lbfgs_batch:optimistix_vmap/ours_solve_batch",
        "adam:ours_solve/optax_bare",
        "adam:ours/optax_bare",
        "lr_grid:one_lr_at_a_time/batched_grid",
        "kappa:one_instance_at_a_time/batched_instances",
    ):
        assert key in ratios, key
    for name, r in ratios.items():
        for kind in ("median", "of_minima", "num_s", "den_s"):
            assert math.isfinite(r[kind]) and r[kind] > 0, (name, kind, r)
    for section in TIMED:
        for name, t in res[section]["times"].items():
            assert math.isfinite(t["median_s"]) and t["median_s"] > 0, (section, name)
            assert 0 < t["min_s"] <= t["median_s"], (section, name)
    families = res["compile"]["families"]
    assert families and all(  # 4 starts: one program, the one-lane one
        f["one_lane_s"] > 0 and f["total_s"] == f["one_lane_s"] for f in families
    )


def test_comparisons_are_like_with_like(quick):
    res, _ = quick
    # every method reached the same stopping test, ||g|| <= 1e-8
    for name, g in res["bfgs_single"]["final_grad_norm"].items():
        assert g <= speed.GTOL, (name, g)
    for section in ("bfgs_batch", "lbfgs_batch"):
        batch = res[section]
        assert batch["converged"]["ours"] == batch["starts"], section
        assert batch["converged"]["optimistix"] == batch["starts"], section


def test_our_adam_takes_optax_steps(quick):
    adam = quick[0]["adam"]
    assert adam["final_x_max_abs_diff_vs_optax"] <= 1e-12
    assert adam["f_max_rel_diff_vs_optax"] <= 1e-12


def test_a_grid_and_an_instance_sweep_are_one_program_each(quick):
    res, _ = quick
    grid, kappa = res["lr_grid"], res["kappa"]
    assert grid["runs"] == len(grid["lrs"]) * grid["starts"] == 64
    assert grid["runner_families"] == grid["program_keys"] == 1
    assert grid["programs_compiled"] == 1
    assert kappa["runner_families"] == kappa["programs_compiled"] == 1
    # and one program gives what the runs made separately give
    assert grid["matches_one_at_a_time"] and kappa["matches_one_at_a_time"]


def test_our_programs_are_on_the_fast_path(quick):
    res, _ = quick
    # a structural check on the executables (xla.on_fast_path), not a timing
    assert {"gd", "adam", "bfgs"} <= set(res["fast_path_by_optimizer"])
    assert all(res["fast_path_by_optimizer"].values()), res["fast_path"]
    assert all(res["fast_path"].values())
    assert res["xla_counts"] == {"compiled_without_options": 0, "off_fast_path": 0}


def test_targets_environment_and_json(quick):
    res, path = quick
    assert len(res["targets"]) == 12
    for row in res["targets"]:
        assert math.isfinite(row["value"]) and isinstance(row["met"], bool), row
    assert math.isfinite(res["compile"]["median_family_s"])
    env = res["environment"]
    assert env["cpu_model"] and isinstance(env["cpu_model"], str)
    assert env["our_compiler_options"] == xla.described()
    stored = json.loads(path.read_text())
    assert stored["targets"] == json.loads(json.dumps(res["targets"]))


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "bench.speed", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout and "--json" in out.stdout
