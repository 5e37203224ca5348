"""``--precision float32,float64``: every cell in both precisions in one run, each the
program a run of that precision alone makes (checked against such runs), and the
report's precision floor (checked against a direct computation from the tables)."""

from concurrent.futures import ThreadPoolExecutor

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from test_cli import bench as run_cli

import bench
import problems
from bench import config

SELECTION = ("--problems", "rosenbrock", "--optimizers", "gd[lr=1e-3]", "bfgs",
             "--starts", "2", "--steps", "40")  # fmt: skip
# a run of both uses float64's default tolerances for both, so the float32 cells
# equal a float32 run under those tolerances
RUNS = {
    "mixed": ("--precision", "float32,float64"),
    "float32": ("--precision", "float32", "--gtol", "1e-10", "--tol", "1e-8"),
    "float64": (),
}
RUN_KEYS = ["problem", "config", "start"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The three runs, side by side (each a fresh interpreter)."""
    root = tmp_path_factory.mktemp("precision")

    def one(name):
        extra = ("--no-report",) if name != "mixed" else ()
        r = run_cli("run", *SELECTION, *RUNS[name], *extra, "--out", str(root / name),
                    cwd=root, timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stderr
        return name, root / name

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, RUNS))


def _table(folder, name, precision=None):
    df = pd.read_parquet(folder / name)
    if precision is not None:
        df = df[df.precision == precision].drop(columns="precision")
    keys = RUN_KEYS + (["step"] if "step" in df else [])
    return df.sort_values(keys).reset_index(drop=True)


def test_every_cell_runs_in_both_precisions(folders):
    runs = pd.read_parquet(folders["mixed"] / "runs.parquet")
    assert len(runs) == 2 * 2 * 2  # configs x starts x precisions
    per_cell = runs.groupby(["problem", "config", "start"])["precision"].agg(sorted)
    assert all(p == ["float32", "float64"] for p in per_cell)
    traces = pd.read_parquet(folders["mixed"] / "traces.parquet")
    assert set(traces.precision) == {"float32", "float64"}
    # the column is in every run's tables, one precision too
    single = pd.read_parquet(folders["float64"] / "runs.parquet")
    assert set(single.precision) == {"float64"}


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_each_precision_equals_a_run_of_it_alone(folders, precision):
    mixed_runs = _table(folders["mixed"], "runs.parquet", precision)
    alone_runs = _table(folders[precision], "runs.parquet", precision)
    same = ["status", "n_steps", "nfev", "njev", "final_f", "final_gap",
            "final_grad_norm", "steps_to_tol", "gtol", "tol"]  # fmt: skip
    pd.testing.assert_frame_equal(mixed_runs[RUN_KEYS + same],
                                  alone_runs[RUN_KEYS + same])  # fmt: skip
    mixed_tr = _table(folders["mixed"], "traces.parquet", precision)
    alone_tr = _table(folders[precision], "traces.parquet", precision)
    for col in ("step", "njev", "nfev"):
        assert (mixed_tr[col].to_numpy() == alone_tr[col].to_numpy()).all()
    # f exactly: a float32 run's f is float32 whatever the column's dtype
    np.testing.assert_array_equal(mixed_tr.f.to_numpy(float),
                                  alone_tr.f.to_numpy(float))  # fmt: skip


def test_float32_cells_are_float32_programs(folders):
    traces = pd.read_parquet(folders["mixed"] / "traces.parquet")
    f32 = traces[traces.precision == "float32"].f.to_numpy(float)
    f64 = traces[traces.precision == "float64"].f.to_numpy(float)
    assert (f32.astype(np.float32).astype(float) == f32).all()  # representable
    assert (f64.astype(np.float32).astype(float) != f64).mean() > 0.5  # not so
    runs = _table(folders["mixed"], "runs.parquet")
    a, b = (runs[runs.precision == p].final_f.to_numpy() for p in ("float32",
                                                                     "float64"))
    assert (a != b).all()


def test_floor_table_is_the_direct_computation(folders):
    run = folders["mixed"]
    table = pd.read_csv(run / "report" / "tables" / "precision_floor.csv")
    assert (run / "report" / "tables" / "precision_floor.tex").exists()
    assert list((run / "report").glob("*_precision_floor.png"))
    runs = pd.read_parquet(run / "runs.parquet")
    traces = pd.read_parquet(run / "traces.parquet")
    # by hand: per run the smallest gap / max(1, |f*|), clipped at 1e-16; median
    # over starts, then over problems
    expected = {}
    for label, g in runs.groupby("config"):
        floors = {}
        for prec in ("float32", "float64"):
            per_problem = []
            for problem, r in g[g.precision == prec].groupby("problem"):
                per_start = []
                for start, row in r.set_index("start").iterrows():
                    t = traces[(traces.problem == problem) & (traces.config == label)
                               & (traces.precision == prec) & (traces.start == start)]
                    gap = t.gap.min() / max(1.0, abs(row.f_star))
                    per_start.append(max(gap, 1e-16))
                per_problem.append(np.median(per_start))
            floors[prec] = np.median(per_problem)
        expected[label] = floors
    assert sorted(table.config) == sorted(expected)
    for row in table.itertuples():
        want = expected[row.config]
        assert row._2 == pytest.approx(want["float32"], rel=1e-12)
        assert row._3 == pytest.approx(want["float64"], rel=1e-12)
        assert row.ratio == pytest.approx(want["float32"] / want["float64"], rel=1e-12)
    assert list(table.ratio) == sorted(table.ratio, reverse=True)  # most lost first
    report = (run / "report" / "report.md").read_text()
    assert "Precision floor" in report
    assert "bfgs (float32)" in report  # other views keep the two apart


def test_a_list_in_a_config_file_and_bad_values():
    cfg = config.parse_config({"precision": ["float32", "float64"]}, "c.toml")
    assert cfg.settings["precision"] == "float32,float64"
    for bad in ("float16", "float32,float16", [], ["float32", 3]):
        with pytest.raises(ValueError, match="precision must be float64 or float32"):
            config.parse_config({"precision": bad}, "c.toml")


def test_bench_run_with_a_list_rebuilds_a_problem_object_in_float32():
    # f = sum (x - 1/3)^2: 1/3 rounds differently in float32 and float64
    mine = problems.Problem(name="third", f=lambda x: jnp.sum((x - 1 / 3) ** 2),
                            x0=jnp.zeros(2), f_star=0.0)  # fmt: skip
    res = bench.run([mine], ["gd[lr=0.1]"], starts=1, steps=10, cache=False,
                    precision=["float32", "float64"])  # fmt: skip
    tr = res.traces
    for prec, dtype, rtol in (("float32", np.float32, 1e-6), ("float64", float, 1e-14)):
        f = tr[tr.precision == prec].sort_values("step").f.to_numpy(float)
        # the reference loop in that precision: x <- x - 0.1 * 2 (x - 1/3)
        x, ref = np.zeros(2, dtype), []
        for _ in range(11):
            ref.append(np.sum((x - dtype(1 / 3)) ** 2))
            x = x - dtype(0.1) * dtype(2) * (x - dtype(1 / 3))
        np.testing.assert_allclose(f, ref, rtol=rtol)
    f32 = tr[tr.precision == "float32"].f.to_numpy(float)
    assert (f32.astype(np.float32).astype(float) == f32).all()
    assert mine.x0.dtype == jnp.float64  # the user's object is left as it was
