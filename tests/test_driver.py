"""The driver (bench.solve / bench.solve_batch) against independent references.

Batches against a loop of single runs, oracle counters against the calls actually made
(counted by callbacks in the compiled program and by plain Python without jit), the
Armijo trial count against closed form and a NumPy loop, compilation against JAX's
own compile events, divergence and input checks.
"""

from __future__ import annotations

import math

import jax
import jax.monitoring
import jax.numpy as jnp
import numpy as np
import pytest

import bench
import optimizers
import problems
from bench import driver, traces
from bench.status import Status

ROSEN = "rosenbrock"
# Shared with tests/test_optimizers.py, so compiled programs are reused (the driver
# caches them per problem, optimizer, length and shape).
QN_STEPS = 2000


def _rosenbrock_raw(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


# --- 7: batch == loop -----------------------------------------------------------------

BATCH_CASES = {
    "gd-armijo": ("gd", {"lr": 1e-2, "armijo": True}, 200),
    "momentum": ("momentum", {"lr": 1e-3, "beta": 0.9}, 200),
    "adam": ("adam", {"lr": 1e-2}, 200),
    "newton": ("newton", {}, 200),
    "bfgs": ("bfgs", {}, QN_STEPS),
    "lbfgs": ("lbfgs", {}, QN_STEPS),
    # an inner CG loop and lstsq under vmap; nhvp and njac per lane
    "newton_cg": ("newton_cg", {}, 200),
    "trust_ncg": ("trust_ncg", {}, 200),
    "levenberg_marquardt": ("levenberg_marquardt", {}, 200),
}


@pytest.mark.parametrize("case", BATCH_CASES)
def test_solve_batch_equals_loop_of_solve(case):
    name, kw, steps = BATCH_CASES[case]
    p = problems.get(ROSEN)
    opt = optimizers.get(name, **kw)
    rng = np.random.default_rng(0)
    x0s = np.asarray(p.x0) + rng.normal(0.0, 0.5, (3, p.dim))
    x0s[0] = np.asarray(p.x0)  # include the standard start
    tb = bench.solve_batch(p, opt, x0s, num_steps=steps, gtol=1e-10)
    for j, x0 in enumerate(x0s):
        ts = bench.solve(p, opt, x0, num_steps=steps, gtol=1e-10)
        # rtol 1e-8: a batched linear solve / reduction rounds differently from the
        # unbatched one (DESIGN.md, sec. 7). Values below 1e-12 f_0 (runs converging to
        # f* = 0) are set by the absolute rounding of x, so they are compared
        # absolutely.
        f0 = float(ts.f[0])
        np.testing.assert_allclose(tb.f[j], ts.f, rtol=1e-8, atol=1e-12 * f0)
        g0 = float(ts.grad_norm[0])
        np.testing.assert_allclose(
            tb.grad_norm[j], ts.grad_norm, rtol=1e-8, atol=1e-10 * g0
        )
        np.testing.assert_allclose(tb.step_size[j], ts.step_size, rtol=1e-8)
        np.testing.assert_allclose(tb.x[j], ts.x, rtol=1e-8, atol=1e-12)
        for field in (*optimizers.COUNTERS, "done", "diverged"):
            np.testing.assert_array_equal(getattr(tb, field)[j], getattr(ts, field))


# --- 8: oracle counts -----------------------------------------------------------------


def test_fixed_step_counts():
    p = problems.get(ROSEN)
    n = 50
    for name, kw in (
        ("gd", {"lr": 1e-3}),
        ("momentum", {"lr": 1e-3, "beta": 0.9}),
        ("nesterov", {"lr": 1e-3, "beta": 0.9}),
        ("adam", {"lr": 1e-2}),
    ):
        tr = bench.solve(p, optimizers.get(name, **kw), num_steps=n, gtol=0.0)
        k = np.arange(n + 1)
        # One value_and_grad per step plus one at the start: exactly steps + 1.
        np.testing.assert_array_equal(tr.nfev, k + 1)
        np.testing.assert_array_equal(tr.njev, k + 1)
        for field in ("nhev", "nhvp", "njac"):  # first-order: none of these
            np.testing.assert_array_equal(getattr(tr, field), 0)
        assert tr.f.shape == (n + 1,) and float(tr.step_size[0]) == 0.0
        np.testing.assert_allclose(tr.step_size[1:], kw["lr"], rtol=0)


def test_newton_and_bfgs_counts():
    p = problems.get(ROSEN)
    tr = bench.solve(p, optimizers.get("newton"), num_steps=200, gtol=1e-10)
    k = int(np.argmax(tr.done))
    assert 0 < k < 200 and float(tr.grad_norm[k]) <= 1e-10
    steps = np.minimum(np.arange(201), k)  # counters stop at convergence
    np.testing.assert_array_equal(tr.nhev, steps)  # one Hessian per step
    # One gradient per step (at the accepted point) plus the start.
    np.testing.assert_array_equal(tr.njev, steps + 1)
    # Each step tries at least one point; a full step (alpha = 1) costs exactly one.
    trials = np.diff(np.asarray(tr.nfev))[:k]
    alphas = np.asarray(tr.step_size)[1 : k + 1]
    np.testing.assert_array_equal(trials, 1 - np.log2(alphas))  # alpha = 2^-(trials-1)
    for name in ("bfgs", "lbfgs"):
        tr = bench.solve(p, optimizers.get(name), num_steps=QN_STEPS, gtol=1e-10)
        np.testing.assert_array_equal(tr.nfev, tr.njev)  # one f and one g per trial
        np.testing.assert_array_equal(tr.nhev, 0)
        assert np.all(np.diff(np.asarray(tr.nfev)) >= 0)


def test_armijo_closed_form_count():
    """f = |x - x*|^2 / 2 (kappa = 1, A = I), d = -g: f(x + t d) = (1 - t)^2 f(x), and
    Armijo (c1 = 1e-4) holds iff t <= 2 - 2 c1. From t0 = 16 the trials are 16, 8, 4,
    2 (all fail) and 1 (passes, lands on x*): 5 evaluations of f, 1 of g."""
    p = problems.get("quadratic", dim=5, kappa=1.0)
    tr = bench.solve(p, optimizers.get("gd", lr=16.0, armijo=True), num_steps=4)
    assert float(tr.step_size[1]) == 1.0
    np.testing.assert_array_equal(tr.nfev, [1, 6, 6, 6, 6])
    np.testing.assert_array_equal(tr.njev, [1, 2, 2, 2, 2])
    np.testing.assert_array_equal(tr.done, [False, True, True, True, True])
    assert float(tr.f[1]) <= 1e-28  # x* up to rounding of x (|x*| ~ 1)


def test_armijo_counts_match_numpy_loop():
    """GD + Armijo on a diagonal quadratic against a NumPy loop of N&W Alg. 3.1."""
    p = problems.get("quadratic", dim=5, kappa=50.0, seed=-1)  # A = diag(1..50)
    a = np.asarray(p.hess(p.x0))
    np.testing.assert_array_equal(a, np.diag(np.linspace(1.0, 50.0, 5)))
    xs = np.asarray(p.x_star)

    def f(x):
        return 0.5 * (x - xs) @ a @ (x - xs)

    n, lr, c1 = 30, 1.0, 1e-4
    x = np.asarray(p.x0)
    fs, nfev = [f(x)], [1]
    for _ in range(n):
        g = a @ (x - xs)
        fx, t, trials = f(x), lr, 1
        while True:
            bound = fx - c1 * t * (g @ g)
            ft = f(x - t * g)
            # The decision must not hinge on rounding, or an exact count is moot.
            assert abs(ft - bound) > 1e-9 * fx
            if ft <= bound:
                break
            t, trials = t / 2, trials + 1
        x = x - t * g
        fs.append(f(x))
        nfev.append(nfev[-1] + trials)
    tr = bench.solve(p, optimizers.get("gd", lr=lr, armijo=True), num_steps=n, gtol=0)
    np.testing.assert_array_equal(tr.nfev, nfev)
    np.testing.assert_array_equal(tr.njev, np.arange(n + 1) + 1)
    assert max(np.diff(nfev)) >= 3  # the case does exercise backtracking
    np.testing.assert_allclose(tr.f, fs, rtol=1e-12)  # same arithmetic, other order


class _Calls:
    def __init__(self):
        self.n = {"f": 0, "g": 0, "h": 0}

    def bump(self, key):
        def cb():
            self.n[key] += 1

        return cb


def _counted_rosenbrock(calls: _Calls, use_callback: bool) -> problems.Problem:
    """Rosenbrock whose f, grad and hess each record every execution: by
    jax.debug.callback (fires at run time inside compiled loops and taken cond
    branches) or by plain Python (under jax.disable_jit)."""

    def mark(key):
        if use_callback:
            jax.debug.callback(calls.bump(key))
        else:
            calls.bump(key)()

    def f(x):
        mark("f")
        return _rosenbrock_raw(x)

    def g(x):
        mark("g")
        return jax.grad(_rosenbrock_raw)(x)

    def h(x):
        mark("h")
        return jax.hessian(_rosenbrock_raw)(x)

    return problems.Problem("counted", f, np.array([-1.2, 1.0]), 0.0, grad=g, hess=h)


@pytest.mark.parametrize("name", ["newton", "bfgs"])
def test_counters_equal_calls_made_in_compiled_run(name):
    calls = _Calls()
    p = _counted_rosenbrock(calls, use_callback=True)
    n = 15  # fewer steps than either needs to converge: no masked steps after done
    tr = bench.solve(p, optimizers.get(name), num_steps=n, gtol=0.0)
    jax.effects_barrier()
    assert not bool(tr.done[-1])
    got = (int(tr.nfev[-1]), int(tr.njev[-1]), int(tr.nhev[-1]))
    assert got == (calls.n["f"], calls.n["g"], calls.n["h"])
    assert calls.n["f"] > n + 1  # some steps backtracked: the count is not trivial


def test_step_info_equals_calls_made_without_jit():
    """Plain Python counting under disable_jit (while_loop and cond run in Python, only
    the taken branch executes): each step's StepInfo equals the calls it made."""
    calls = _Calls()
    p = _counted_rosenbrock(calls, use_callback=False)
    for name, kw in (("gd", {"lr": 1.0, "armijo": True}), ("newton", {})):
        opt = optimizers.get(name, **kw)
        with jax.disable_jit():
            calls.n.update(f=0, g=0, h=0)
            state = opt.init(p, p.x0, opt.hp())
            assert calls.n == {"f": 1, "g": 1, "h": 0}
            for _ in range(5):
                calls.n.update(f=0, g=0, h=0)
                state, info = opt.step(p, state, opt.hp())
                got = (int(info.nfev), int(info.njev), int(info.nhev))
                assert got == (calls.n["f"], calls.n["g"], calls.n["h"]), name


def test_counters_freeze_after_convergence():
    p = problems.get(ROSEN)
    tr = bench.solve(p, optimizers.get("bfgs"), num_steps=QN_STEPS, gtol=1e-10)
    k = int(np.argmax(tr.done))
    assert 0 < k < QN_STEPS and float(tr.grad_norm[k]) <= 1e-10
    assert not np.any(np.asarray(tr.done)[:k])
    for field in ("f", "grad_norm", "nfev", "njev", "nhev"):
        col = np.asarray(getattr(tr, field))
        np.testing.assert_array_equal(col[k:], col[k])
    np.testing.assert_array_equal(tr.step_size[k + 1 :], 0.0)
    np.testing.assert_allclose(tr.f[0], p.f(p.x0), rtol=1e-15)
    g0 = np.linalg.norm(p.grad(p.x0))
    np.testing.assert_allclose(tr.grad_norm[0], g0, rtol=1e-15)


def test_start_at_the_solution_is_done_at_row_0():
    p = problems.get(ROSEN)
    tr = bench.solve(p, optimizers.get("gd", lr=1e-3), x0=[1.0, 1.0], num_steps=50)
    assert np.all(np.asarray(tr.done)) and not np.any(np.asarray(tr.diverged))
    np.testing.assert_array_equal(tr.f, 0.0)
    np.testing.assert_array_equal(tr.nfev, 1)  # the start's evaluation only
    np.testing.assert_array_equal(tr.njev, 1)
    np.testing.assert_array_equal(tr.step_size, 0.0)
    np.testing.assert_array_equal(tr.x, [1.0, 1.0])


def test_stall_is_done_with_counters_frozen():
    """A gradient of the wrong sign: every BFGS line search fails (alpha = 0), the
    second failure (from the reset H = I) leaves x unchanged twice, and the run
    stops there as done, not diverged."""
    p = problems.Problem(
        "uphill", lambda x: x @ x, np.array([1.0, -2.0]), 0.0, grad=lambda x: -2 * x
    )
    tr = bench.solve(p, optimizers.get("bfgs"), num_steps=6)
    np.testing.assert_array_equal(tr.done, [False, False, True, True, True, True, True])
    assert not np.any(np.asarray(tr.diverged))
    np.testing.assert_array_equal(tr.step_size, 0.0)
    np.testing.assert_array_equal(tr.x, p.x0)
    nfev = np.asarray(tr.nfev)
    assert nfev[1] > 1 and nfev[2] > nfev[1]  # both failed searches were counted
    np.testing.assert_array_equal(nfev[2:], nfev[2])
    np.testing.assert_array_equal(tr.njev, tr.nfev)


def test_target_run_stops_where_the_trace_reaches_the_target():
    """The timing runs (same program, f_target given) stop at the first row where the
    full trace reaches the target, with the same counters."""
    p = problems.get(ROSEN)
    opt = optimizers.get("bfgs")
    tr = bench.solve(p, opt, num_steps=QN_STEPS, gtol=1e-10)
    target = 1e-8
    k = int(np.argmax(np.asarray(tr.f) <= target))
    assert k > 0
    exe, _ = driver.program(p, opt, QN_STEPS, 1)
    a = driver.args(p, np.asarray(p.x0)[None], {}, (), 1e-10, np.array([target]))
    hit = traces.settle(exe(a))
    assert int(hit.status[0]) == Status.TARGET and int(hit.n_steps[0]) == k
    np.testing.assert_allclose(hit.f[0, k], tr.f[k], rtol=1e-12)
    got = (hit.nfev[0, k], hit.njev[0, k], hit.nhev[0, k])
    assert got == (tr.nfev[k], tr.njev[k], tr.nhev[k])


def test_the_target_wins_on_the_step_that_also_meets_gtol():
    """Newton on a quadratic meets ||g|| <= gtol and f <= f* + 1e-8 on its first step:
    without a target it converged there, with one it reached the target there."""
    p = problems.get("quadratic")
    opt = optimizers.get("newton")
    exe, _ = driver.program(p, opt, 20, 1)
    x0 = np.asarray(p.x0)[None]
    runs = [traces.settle(exe(driver.args(p, x0, {}, p.data, 1e-8, target)))
            for target in (None, np.array([p.f_star + 1e-8]))]  # fmt: skip
    assert [int(r.status[0]) for r in runs] == [Status.CONVERGED, Status.TARGET]
    assert [int(r.n_steps[0]) for r in runs] == [1, 1]


# --- 9: no recompilation --------------------------------------------------------------


class _CompileEvents:
    """JAX's own compile events (tracing, lowering, backend compilation)."""

    NAMES = ("/jax/core/compile/jaxpr_trace_duration",
             "/jax/core/compile/backend_compile_duration")  # fmt: skip

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, event, duration, **kwargs):
        if event in self.NAMES:
            self.seen.append(event)

    def __enter__(self):
        jax.monitoring.register_event_duration_secs_listener(self)
        return self

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self)


def test_second_call_does_not_recompile():
    p = problems.get(ROSEN)
    opt = optimizers.get("adam", lr=1e-2)
    steps = 37  # a length no other test uses, so the first call must compile
    with _CompileEvents() as ev:
        t1 = bench.solve(p, opt, num_steps=steps)
        b1 = bench.solve_batch(p, opt, np.zeros((4, 2)), num_steps=steps)
        jax.block_until_ready((t1, b1))
    assert ev.seen.count(_CompileEvents.NAMES[1]) >= 2  # the listener does see compiles
    with _CompileEvents() as ev:
        t2 = bench.solve(p, opt, x0=[0.5, -0.3], num_steps=steps, gtol=1e-3)
        b2 = bench.solve_batch(
            p, opt, np.ones((4, 2)) * 0.3, num_steps=steps, gtol=1e-6
        )
        jax.block_until_ready((t2, b2))
        # Fresh lookups, defaults spelled out, are the same objects: no new program.
        o_again = optimizers.get("adam", lr=0.01, b1=0.9, b2=0.999, eps=1e-8)
        t3 = bench.solve(problems.get(ROSEN, n=2), o_again, num_steps=steps)
        jax.block_until_ready(t3)
    assert ev.seen == []
    assert float(t2.f[0]) != float(t1.f[0])  # the new start was used


def test_lookups_with_defaults_spelled_out_are_cached():
    # Two objects would mean two compiled programs for one cell.
    assert problems.get(ROSEN, n=2) is problems.get(ROSEN)
    assert optimizers.get("lbfgs", memory=10) is optimizers.get("lbfgs")
    assert optimizers.get("gd", lr=1) is optimizers.get("gd", lr=1.0, armijo=False)
    # The cache does not bypass validation: 1 == True, but armijo must be a bool.
    optimizers.get("gd", armijo=True)
    with pytest.raises(ValueError, match="armijo"):
        optimizers.get("gd", armijo=1)


# --- 10: divergence -------------------------------------------------------------------


def test_divergence_is_a_result():
    p = problems.get(ROSEN)
    n = 40
    tr = bench.solve(p, optimizers.get("gd", lr=1.0), num_steps=n, gtol=1e-10)
    div = np.asarray(tr.diverged)
    assert div[-1]
    k = int(np.argmax(div))  # the row of the step that produced a non-finite value
    assert 0 < k < n
    assert np.all(np.asarray(tr.done)[k:]) and not np.any(div[:k])
    # The last finite values are kept ...
    for field in ("f", "grad_norm"):
        col = np.asarray(getattr(tr, field))
        assert np.all(np.isfinite(col))
        np.testing.assert_array_equal(col[k:], col[k - 1])
    assert np.all(np.isfinite(np.asarray(tr.x)))
    # ... and agree with a NumPy run of the same iteration up to the last finite one.
    x = np.array([-1.2, 1.0])
    with np.errstate(all="ignore"):
        for _ in range(k - 1):
            x = x - 1.0 * np.array(
                [-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]),
                 200 * (x[1] - x[0] ** 2)]
            )  # fmt: skip
    np.testing.assert_allclose(tr.x, x, rtol=1e-12)
    # Counters: the diverging step did evaluate f and g once; nothing after it.
    np.testing.assert_array_equal(tr.nfev, np.minimum(np.arange(n + 1), k) + 1)
    np.testing.assert_array_equal(tr.njev, tr.nfev)
    np.testing.assert_array_equal(tr.step_size[k:], 0.0)


def test_divergence_in_batch_leaves_other_runs_alone():
    p = problems.get(ROSEN)
    opt = optimizers.get("gd", lr=1e-3)
    x0s = np.array([[-1.2, 1.0], [60.0, 60.0]])  # steep: lr = 1e-3 blows up there
    tb = bench.solve_batch(p, opt, x0s, num_steps=50)
    ts = bench.solve(p, opt, x0s[0], num_steps=50)
    assert bool(tb.diverged[1, -1]) and not bool(tb.diverged[0, -1])
    np.testing.assert_allclose(tb.f[0], ts.f, rtol=1e-12)
    assert np.all(np.isfinite(np.asarray(tb.f)))


# --- 11: bad input --------------------------------------------------------------------


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown problem 'nope'") as e:
        problems.get("nope")
    assert all(n in str(e.value) for n in problems.names())
    with pytest.raises(ValueError, match="unknown optimizer 'nope'") as e:
        optimizers.get("nope")
    assert all(n in str(e.value) for n in optimizers.names())


@pytest.mark.parametrize(
    "name, kw, word",
    [
        ("gd", {"lr": 0.0}, "lr"),
        ("gd", {"lr": -1e-3}, "lr"),
        ("gd", {"lr": math.nan}, "lr"),
        ("gd", {"lr": math.inf}, "lr"),
        ("gd", {"lr": "big"}, "lr"),
        ("gd", {"armijo": 1}, "armijo"),
        ("momentum", {"beta": 1.0}, "beta"),
        ("momentum", {"beta": -0.1}, "beta"),
        ("nesterov", {"beta": 1.5}, "beta"),
        ("nesterov", {"lr": 0}, "lr"),
        ("adam", {"b1": 1.0}, "b1"),
        ("adam", {"b2": -0.5}, "b2"),
        ("adam", {"eps": 0.0}, "eps"),
        ("lbfgs", {"memory": 0}, "memory"),
        ("lbfgs", {"memory": 2.5}, "memory"),
        ("gd", {"momentum": 0.9}, "momentum"),
        ("bfgs", {"lr": 1.0}, "lr"),
    ],
)
def test_bad_hyperparameters_name_the_culprit(name, kw, word):
    with pytest.raises(ValueError, match=word):
        optimizers.get(name, **kw)


def test_bad_problem_parameter_is_named():
    with pytest.raises(ValueError, match="dimension"):
        problems.get(ROSEN, dimension=3)


@pytest.mark.parametrize(
    "x0",
    [
        np.zeros(3),
        np.zeros((1, 2)),
        np.zeros(0),
        np.array([np.nan, 1.0]),
        np.array([1.0, np.inf]),
    ],
)
def test_bad_start_rejected_by_solve(x0):
    p, opt = problems.get(ROSEN), optimizers.get("gd", lr=1e-3)
    with pytest.raises(ValueError, match="x0"):
        bench.solve(p, opt, x0, num_steps=5)


@pytest.mark.parametrize(
    "x0s",
    [
        np.zeros((3, 3)),
        np.zeros(2),
        np.zeros((0, 2)),
        np.zeros((2, 2, 1)),
        np.array([[0.0, 0.0], [np.nan, 1.0]]),
        np.array([[np.inf, 0.0]]),
    ],
)
def test_bad_starts_rejected_by_solve_batch(x0s):
    p, opt = problems.get(ROSEN), optimizers.get("gd", lr=1e-3)
    with pytest.raises(ValueError, match="x0s"):
        bench.solve_batch(p, opt, x0s, num_steps=5)


@pytest.mark.parametrize(
    "kw, word",
    [
        ({"num_steps": 0}, "num_steps"),
        ({"num_steps": 2.5}, "num_steps"),
        ({"gtol": -1.0}, "gtol"),
        ({"gtol": math.nan}, "gtol"),
    ],
)
def test_bad_harness_knobs(kw, word):
    p, opt = problems.get(ROSEN), optimizers.get("gd", lr=1e-3)
    with pytest.raises(ValueError, match=word):
        bench.solve(p, opt, **kw)
    with pytest.raises(ValueError, match=word):
        bench.solve_batch(p, opt, np.zeros((2, 2)), **kw)


def test_a_non_finite_start_is_diverged_at_row_0():
    p = problems.Problem(name="log", f=lambda x: jnp.sum(jnp.log(x)), x0=[-1.0, 2.0])
    tr = bench.solve(p, optimizers.get("gd"), num_steps=3)
    assert bool(tr.diverged[0]) and bool(tr.done[0])
    assert int(tr.nfev[-1]) == 1  # frozen at once: no step was taken


def test_problem_cache_does_not_confuse_true_with_1():
    problems.get("penalty1", n=1)
    with pytest.raises(ValueError, match="integer n"):
        problems.get("penalty1", n=True)


def test_newton_on_a_zero_hessian_steps_along_minus_g():
    # f = sum |x| has H = 0 away from the kinks: the safeguard must not divide by 0
    p = problems.Problem(name="l1", f=lambda x: jnp.sum(jnp.abs(x)), x0=[1.0, 2.0])
    tr = bench.solve(p, optimizers.get("newton"), num_steps=5)
    assert not bool(tr.diverged[-1])
    assert float(tr.f[1]) < float(tr.f[0])


def test_a_step_that_changes_its_states_shapes_is_named():
    """A plugin's step returning x[:1] on a 2-D problem was broadcast back to 2-D by
    the loop and ran on, reported as diverged."""
    from optimizers.base import Optimizer
    from optimizers.first_order import gd

    plain = gd(lr=1e-3)

    def step(oracles, s, hp):
        new, info = plain.step(oracles, s, hp)
        return new._replace(x=new.x[:1]), info

    bad = Optimizer("cut_x", plain.init, step, plain.params, plain.hyper)
    with pytest.raises(ValueError, match=r"'cut_x': step returned state\.x of shape "
                                         r"\(1,\), given \(2,\)"):  # fmt: skip
        bench.solve(problems.get("rosenbrock"), bad, num_steps=5)
    assert isinstance(bench.solve(problems.get("rosenbrock"), plain, num_steps=5),
                      traces.Trace)  # fmt: skip
