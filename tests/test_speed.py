"""Smoke test of the peer speed benchmark (``python -m bench.speed``).

Runs the quick mode once and checks the report's shape and that every measured time
and ratio is finite and positive. No timing assertions: timings belong to the
benchmark's printed output, not to a test on a shared machine.
"""

import json
import math

import pytest

pytest.importorskip("scipy")
pytest.importorskip("optax")
pytest.importorskip("optimistix")

from bench import speed  # noqa: E402


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "speed.json"
    return speed.main(["--quick", "--json", str(path)]), path


def _ratios(res):
    for section in ("bfgs_single", "bfgs_batch", "adam"):
        for name, r in res[section]["ratios"].items():
            yield f"{section}:{name}", r


def test_quick_run_returns_finite_ratios_and_times(quick):
    res, _ = quick
    ratios = dict(_ratios(res))
    # the headline comparisons of the brief are all present
    for key in (
        "bfgs_single:scipy/ours_until",
        "bfgs_single:optimistix/ours_until",
        "bfgs_single:scipy/ours_scan",
        "bfgs_batch:scipy_loop_scaled/ours_until",
        "bfgs_batch:optimistix_vmap/ours_until",
        "adam:ours_solve/optax_bare",
    ):
        assert key in ratios
    for name, r in ratios.items():
        for kind in ("median", "of_minima"):
            assert math.isfinite(r[kind]) and r[kind] > 0, (name, kind, r)
    for section in ("bfgs_single", "bfgs_batch", "adam"):
        for name, t in res[section]["times"].items():
            assert math.isfinite(t["median_s"]) and t["median_s"] > 0, (section, name)
            assert t["min_s"] <= t["median_s"], (section, name)


def test_quick_run_compares_like_with_like(quick):
    res, _ = quick
    single = res["bfgs_single"]
    # every method reached the same stopping test, ||g|| <= 1e-8
    for name, g in single["final_grad_norm"].items():
        assert g <= speed.GTOL, (name, g)
    batch = res["bfgs_batch"]
    assert batch["converged"]["ours"] == batch["starts"]
    # our Adam and optax's take the same steps (same update rule, same float64 math)
    assert res["adam"]["final_x_max_abs_diff_vs_optax"] <= 1e-12


def test_quick_run_reports_targets_environment_and_json(quick):
    res, path = quick
    assert len(res["targets"]) == 6
    for row in res["targets"]:
        assert math.isfinite(row["value"]) and isinstance(row["met"], bool)
    compile_s = res["compile"]["median_cell_s"]
    assert math.isfinite(compile_s) and compile_s > 0
    env = res["environment"]
    assert env["our_compiler_options"] == speed.driver.COMPILER_OPTIONS
    # driver.COMPILER_OPTIONS took effect: XLA:CPU compiled our loops into one kernel
    # (a structural check on the executable, not a timing)
    assert res["bfgs_single"]["fast_path"]["ours_until"]
    assert res["adam"]["fast_path"]["ours_program"]
    assert "XLA_FLAGS" in env["thread_env"]
    stored = json.loads(path.read_text())
    assert stored["targets"] == json.loads(json.dumps(res["targets"]))
