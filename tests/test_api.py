"""bench.run and bench.load: whole benchmarks from Python, through the CLI's harness."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import bench
import problems

# bench.run with objects against the CLI on the same cells: test_plugins.py's round
# trip (one CLI run serves both)


@pytest.fixture(scope="module")
def notebook():
    """A notebook user's own function against a standard optimizer and a grid."""
    mine = problems.Problem(name="shifted_bowl", f=lambda x: jnp.sum((x - 3.0) ** 2),
                            x0=jnp.zeros(3), f_star=0.0)  # fmt: skip
    res = bench.run([mine], ["bfgs", "gd[lr=[0.25,0.5]]"], starts=2, steps=40,
                    cache=False)  # fmt: skip
    return mine, res


def test_a_notebook_problem_against_the_standard_optimizers(notebook):
    _, res = notebook
    assert res.out_dir is None and set(res.runs.problem) == {"shifted_bowl"}
    assert len(res.runs) == 3 * 2 and res.runs.solved.all()
    # gd on f = |x - 3|^2: x1 = x0 - 2 lr (x0 - 3); lr = 1/4 halves the distance to
    # x* each step (f_k = f_0 / 4^k from the standard start 0), lr = 1/2 lands on x*
    gd = res.traces[(res.traces.config == "gd[armijo=False,lr=0.25]")
                    & (res.traces.start == 0)]  # fmt: skip
    np.testing.assert_allclose(gd.f.iloc[:6], 27.0 / 4.0 ** np.arange(6), rtol=1e-12)
    exact = res.runs[res.runs.config == "gd[armijo=False,lr=0.5]"]
    assert (exact.n_steps == 1).all() and (exact.final_f <= 1e-28).all()


def test_report_of_an_in_memory_run_load_and_out(notebook, tmp_path):
    mine, res = notebook
    report = res.report(tmp_path / "mine")
    assert (report / "report.md").is_file() and (report / "index.html").is_file()
    back = bench.load(tmp_path / "mine")
    assert back.out_dir == tmp_path / "mine"
    pd.testing.assert_frame_equal(back.runs, res.runs)
    pd.testing.assert_frame_equal(back.traces, res.traces)
    with pytest.raises(ValueError, match="in memory only"):
        res.report()
    kept = bench.run([mine], ["bfgs"], starts=2, steps=40, cache=False,
                     out=tmp_path / "kept")  # fmt: skip
    assert kept.out_dir == tmp_path / "kept"
    assert (kept.out_dir / "runs.parquet").is_file()


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
