"""bench.run and bench.load: whole benchmarks from Python, through the CLI's harness."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from test_cli import bench as bench_cli  # the CLI in a subprocess, as a user runs it

import bench
import optimizers
import problems

KEYS = ["problem", "config", "start"]
SAME = ["final_f", "final_grad_norm", "n_steps", "nfev", "njev", "nhev", "status",
        "solved", "source", "optimizer_params"]  # fmt: skip


@pytest.fixture(scope="module")
def from_python():
    """Objects (a built problem, a built optimizer) beside a SPEC."""
    return bench.run(
        problems=[problems.get("rosenbrock", n=2)],
        optimizers=[optimizers.get("bfgs"), "adam[lr=[1e-2,1e-1]]"],
        starts=2, steps=30, cache=False,
    )  # fmt: skip


def test_bench_run_with_objects_equals_the_cli(from_python, tmp_path):
    out = tmp_path / "cli"
    r = bench_cli("run", "--problems", "rosenbrock", "--optimizers", "bfgs",
                  "adam[lr=[1e-2,1e-1]]", "--starts", "2", "--steps", "30",
                  "--no-report", "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    cli = bench.load(out)
    assert cli.out_dir == out and from_python.out_dir is None
    ours = from_python.runs.sort_values(KEYS).reset_index(drop=True)
    theirs = cli.runs.sort_values(KEYS).reset_index(drop=True)
    assert list(ours.columns) == list(theirs.columns)  # the stored schema
    assert len(ours) == 3 * 2
    pd.testing.assert_frame_equal(ours[KEYS + SAME], theirs[KEYS + SAME])
    t_ours = from_python.traces.sort_values([*KEYS, "step"])
    t_cli = cli.traces.sort_values([*KEYS, "step"])
    assert list(t_ours.columns) == list(t_cli.columns)
    np.testing.assert_array_equal(t_ours["f"], t_cli["f"])
    np.testing.assert_array_equal(t_ours["njev"], t_cli["njev"])


def test_report_of_an_in_memory_run_and_load(from_python, tmp_path):
    report = from_python.report(tmp_path / "mine")
    assert (report / "report.md").is_file() and (report / "index.html").is_file()
    back = bench.load(tmp_path / "mine")
    pd.testing.assert_frame_equal(back.runs, from_python.runs)
    with pytest.raises(ValueError, match="in memory only"):
        from_python.report()


def test_a_notebook_problem_against_the_standard_optimizers(tmp_path):
    mine = problems.Problem(name="shifted_bowl", f=lambda x: jnp.sum((x - 3.0) ** 2),
                            x0=jnp.zeros(3), f_star=0.0)  # fmt: skip
    res = bench.run([mine], ["bfgs"], starts=1, steps=20, cache=False,
                    out=tmp_path / "run")  # fmt: skip
    assert res.out_dir == tmp_path / "run" and (res.out_dir / "runs.parquet").is_file()
    (row,) = res.runs.itertuples()
    assert row.problem == "shifted_bowl" and row.solved
    np.testing.assert_allclose(row.final_f, 0.0, atol=1e-20)


def test_bad_input_names_the_problem_and_runs_nothing(tmp_path):
    a = problems.Problem(name="twin", f=lambda x: jnp.sum(x**2), x0=jnp.ones(2))
    b = problems.Problem(name="twin", f=lambda x: jnp.sum(x**4), x0=jnp.ones(2))
    with pytest.raises(ValueError, match="two different problems are both named"):
        bench.run([a, b], ["bfgs"], out=tmp_path / "x")
    with pytest.raises(ValueError, match=r"unknown optimizer 'nope'.*\(in cell"):
        bench.run(["rosenbrock"], ["nope"], out=tmp_path / "x")
    with pytest.raises(ValueError, match="a problem is a SPEC string or a problems"):
        bench.run([3], ["bfgs"], out=tmp_path / "x")
    with pytest.raises(ValueError, match="starts must be an integer >= 1"):
        bench.run(["rosenbrock"], ["bfgs"], starts=0, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
