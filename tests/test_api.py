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


def test_report_elsewhere_writes_every_table_and_never_over_another_run(tmp_path):
    """report(dir) wrote runs and traces only (no contour plot, targets read back
    from thinned traces), and over another run's tables, leaving a broken folder."""
    res = bench.run(["rosenbrock"], ["bfgs", "gd[lr=1e-3]"], starts=1, steps=30)
    out = tmp_path / "mine"
    report = res.report(out)
    for name in ("runs", "traces", "targets", "landscapes"):
        assert (out / f"{name}.parquet").is_file(), name
    assert list(report.glob("*_contour_rosenbrock-n-2.png"))
    back = bench.load(out)
    pd.testing.assert_frame_equal(back.targets, res.targets)
    pd.testing.assert_frame_equal(back.landscapes, res.landscapes)
    assert res.report(out) == report  # its own run's folder: drawn again
    other = bench.run(["rosenbrock"], ["bfgs"], starts=1, steps=30,
                      out=tmp_path / "other")  # fmt: skip
    before = {p.name: p.read_bytes() for p in other.out_dir.glob("*.*")}
    with pytest.raises(ValueError, match=r"^report\(dir\) .* already holds a run; "
                                         r"give a new folder$"):  # no CLI flags
        res.report(other.out_dir)
    assert {p.name: p.read_bytes() for p in other.out_dir.glob("*.*")} == before
    with pytest.raises(ValueError, match=r"^out .* already holds a run; give a new "
                                         r"folder$"):  # fmt: skip
        bench.run(["rosenbrock"], ["bfgs"], starts=1, steps=5, out=other.out_dir)
    with pytest.raises(ValueError, match="runs.parquet is a file; bench.load takes"):
        bench.load(other.out_dir / "runs.parquet")


def test_trace_and_cell_timeout_are_keywords_too():
    res = bench.run(["rosenbrock"], ["gd[lr=1e-3]"], starts=1, steps=95,
                    trace="every:10")  # fmt: skip
    assert list(res.traces.step) == [*range(0, 95, 10), 95]
    assert res.manifest["trace"] == "every:10"
    for bad in ({"trace": "every:0"}, {"cell_timeout": 0}, {"cell_timeout": "1"}):
        with pytest.raises(ValueError):
            bench.run(["rosenbrock"], ["gd"], **bad)


def test_a_budget_the_peers_run_without_is_a_warning_naming_the_keyword():
    with pytest.warns(UserWarning, match=r"^max_njev applies .* scipy:BFGS run"):
        res = bench.run(["rosenbrock"], ["bfgs", "scipy:BFGS"], starts=1, steps=50,
                        max_njev=10)  # fmt: skip
    assert res.runs.set_index("config").loc["bfgs", "status"] == "max_njev"


def test_solve_names_what_it_expected_for_a_name():
    import optimizers

    with pytest.raises(TypeError, match=r"expected a problems.Problem, got str"):
        bench.solve("rosenbrock", optimizers.get("bfgs"))
    with pytest.raises(TypeError, match=r"expected an optimizers.Optimizer, got str"):
        bench.solve_batch(problems.get("rosenbrock"), "bfgs", np.zeros((2, 2)))


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
