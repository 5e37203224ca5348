"""Trace thinning (--trace): kept rows equal the full trace's rows at those steps, and
every summary column equals the full run's exactly."""

import numpy as np
import pandas as pd
import pytest

import optimizers
import problems
from bench import driver, runner, thinning, traces
from bench.runner import CellSpec, Settings

SPECS = [
    CellSpec("rosenbrock", {}, "bfgs", {}),  # line search: rows at their own ticks
    CellSpec("rosenbrock", {}, "gd", {"lr": 1e-3}),  # max_steps, never within tol
    CellSpec("rosenbrock", {}, "gd", {"lr": 1.0}),  # diverges within a few steps
    CellSpec("quadratic", {"dim": 4, "kappa": 10.0}, "gd", {"lr": 0.15}),  # converges
    CellSpec("rosenbrock", {}, "scipy:BFGS", {}),  # a peer: thinned on the host
]
FULL = Settings(starts=3, num_steps=60, gtol=1e-8, tol=1e-8, seed=2)
THIN = Settings(starts=3, num_steps=60, gtol=1e-8, tol=1e-8, seed=2, trace="log:5")
KEYS = ["problem", "config", "start"]
EXACT = [
    "status", "solved", "final_f", "final_gap", "final_grad_norm", "n_steps", "nfev",
    "njev", "nhev", "steps_to_tol", "nfev_to_tol", "njev_to_tol",
]  # fmt: skip


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    out = {}
    for name, s in (("full", FULL), ("thin", THIN)):
        d = tmp_path_factory.mktemp(name)
        runner.run(runner.prepare(SPECS), s, d, "t", [], progress=False)
        out[name] = (pd.read_parquet(d / "runs.parquet").sort_values(KEYS),
                     pd.read_parquet(d / "traces.parquet"))  # fmt: skip
    return out


@pytest.mark.parametrize(
    "spec, n, kept",
    [
        ("full", 3, [0, 1, 2, 3]),
        ("every:4", 10, [0, 4, 8, 10]),
        ("log:3", 100, [0, 1, 10, 100]),
        ("log:1", 7, [0, 1, 7]),
    ],
)
def test_kept_steps(spec, n, kept):
    assert thinning.kept_steps(spec, n).tolist() == kept


@pytest.mark.parametrize("bad", ["", "every", "every:0", "log:-2", "log:x", "all"])
def test_bad_specs_are_refused(bad):
    with pytest.raises(ValueError, match="full, every:K or log:N"):
        thinning.check(bad)


def test_summary_columns_are_exact_whatever_the_thinning(tables):
    full, thin = tables["full"][0], tables["thin"][0]
    assert len(full) == len(thin) == 15
    # the cases this is about: runs that stop, and hit tol, between kept steps
    kept = set(thinning.kept_steps("log:5", 60).tolist())
    assert not set(full.n_steps) <= kept
    assert not set(full.steps_to_tol.dropna().astype(int)) <= kept
    assert set(full.status) == {"converged", "max_steps", "diverged"}
    for col in EXACT:
        pd.testing.assert_series_equal(full[col], thin[col], check_exact=True)
    assert (full.time_to_tol_s.isna() == thin.time_to_tol_s.isna()).all()


def test_steps_to_tol_is_the_first_full_row_within_tol(tables):
    """The driver's record against the full trace read independently."""
    runs, traces = tables["full"]
    for _, r in runs[runs.source == "optbench"].iterrows():
        t = traces[(traces.problem == r.problem) & (traces.config == r.config)
                   & (traces.start == r.start)]  # fmt: skip
        within = t[t.f <= r.f_star + 1e-8 * max(1.0, abs(r.f_star))]
        want = within.step.min() if len(within) else np.nan
        assert r.steps_to_tol == want or (np.isnan(want) and np.isnan(r.steps_to_tol))


def test_kept_rows_equal_the_full_rows(tables):
    full, thin = tables["full"][1], tables["thin"][1]
    kept = thinning.kept_steps("log:5", 60)
    cols = ["f", "grad_norm", "step_size", "nfev", "njev", "nhev", "x0", "x1", "gap"]
    merged = thin.merge(full, on=KEYS + ["step"], suffixes=("", "_full"))
    assert len(merged) == len(thin)  # every kept row is a row of the full trace
    for c in cols:
        np.testing.assert_array_equal(merged[c], merged[c + "_full"], err_msg=c)
    # exactly the kept steps up to each run's own last step, and that last step
    full_last = full.groupby(KEYS).step.max()
    for key, t in thin.groupby(KEYS):
        last = full_last.loc[key]
        assert t.step.tolist() == [*kept[kept < last].tolist(), last]


def test_every_k_in_the_driver_keeps_the_full_rows():
    """A non-searching optimizer (every lane writes every tick) under every:K, lanes
    stopping between kept steps."""
    p, opt = problems.get("quadratic", dim=3, kappa=5.0), optimizers.get("gd", lr=0.3)
    x0s = np.asarray(p.x0) + np.array([[0.0] * 3, [3.0] * 3, [-1e-3] * 3])
    a = driver.args(p, x0s, opt.hp(), p.data, 1e-6)
    runs = {}
    for spec in ("full", "every:4"):
        exe, _ = driver.program(p, opt, 40, 3, trace=spec)
        runs[spec] = traces.settle(exe(a), 40, spec)
    full, thin = runs["full"], runs["every:4"]
    np.testing.assert_array_equal(full.n_steps, thin.n_steps)
    assert len(set(full.n_steps.tolist())) == 3 and (full.n_steps % 4 != 0).any()
    for i in range(3):
        n = np.searchsorted(thin.step[i], thin.n_steps[i]) + 1  # then: at rest
        rows = thin.step[i, :n]
        assert rows[-1] == full.n_steps[i]
        for field in ("f", "grad_norm", "step_size", "nfev", "njev"):
            np.testing.assert_array_equal(getattr(thin, field)[i, :n],
                                          getattr(full, field)[i, rows])  # fmt: skip


def test_the_rate_of_a_thinned_trace_is_per_step():
    from bench.rates import linear_rate

    steps = thinning.kept_steps("log:12", 200)
    gaps = 0.9 ** steps.astype(float)  # f_k - f* = 0.9^k, seen at the kept steps only
    assert linear_rate(gaps, 1e-300, steps) == pytest.approx(0.9, rel=1e-12)
