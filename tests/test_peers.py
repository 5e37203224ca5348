"""Peers (bench.peers): traces, counters, stopping and times checked against the
libraries themselves (plain scipy.optimize.minimize calls, jax.jit(optx.minimise))
and hand-written numpy loops. optax's optimizers run in our driver: test_optax.py."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

import problems
from bench import peers
from bench.peers import optimistix as peer_optx
from bench.peers import scipy as peer_scipy
from bench.provenance import one_blas_thread
from bench.status import LABELS

ROSEN = problems.get("rosenbrock")
STARTS = np.array([[-1.2, 1.0], [2.0, 2.0]])
GTOL = 1e-8
TOL = 1e-10
STEPS = 300
# jitted, as the peers evaluate f: eager f rounds differently near x* = (1, 1),
# where f is mostly cancellation (relative differences ~1e-8 at f ~ 1e-15)
F_JIT = jax.jit(ROSEN.f)
# the least-squares peers count Jacobians, not gradients: tests/test_least_squares.py
RUN_PEERS = [n for n in peers.PEER_NAMES if n not in peers.LEAST_SQUARES]


def rosen_np(x: np.ndarray) -> float:
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def rosen_grad_np(x: np.ndarray) -> np.ndarray:
    r = x[1] - x[0] ** 2
    return np.array([-400.0 * x[0] * r - 2.0 * (1.0 - x[0]), 200.0 * r])


def rosen_hess_np(x: np.ndarray) -> np.ndarray:
    return np.array(
        [
            [1200.0 * x[0] ** 2 - 400.0 * x[1] + 2.0, -400.0 * x[0]],
            [-400.0 * x[0], 200.0],
        ]
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, peers.PeerRun]:
    with one_blas_thread():  # as the runner times scipy
        return {
            name: peers.run_peer(ROSEN, name, {}, STARTS, STEPS, GTOL, TOL)
            for name in RUN_PEERS
        }


# ------------------------------------------------------------------ names and checks


def test_names_and_defaults():
    assert peers.PEER_NAMES == (
        "scipy:BFGS",
        "scipy:L-BFGS-B",
        "scipy:CG",
        "scipy:Newton-CG",
        "scipy:trust-exact",
        "scipy:least_squares-lm",
        "scipy:least_squares-trf",
        "optimistix:BFGS",
        "optimistix:LevenbergMarquardt",
    )
    assert peers.peer_defaults("scipy:BFGS") == {}
    assert peers.peer_defaults("optimistix:BFGS") == {}
    assert peers.is_peer("scipy:BFGS") and peers.is_peer("scipy:Powell")
    assert not peers.is_peer("bfgs") and not peers.is_peer("scipy:")


BAD = [
    ("scipy:Powell", {}, "valid names: scipy:BFGS"),
    ("adam", {}, "unknown peer"),
    ("scipy:BFGS", {"lr": 0.1}, "no hyperparameter lr"),
]


@pytest.mark.parametrize("name, params, match", BAD)
def test_invalid_names_and_params(name, params, match):
    with pytest.raises(ValueError, match=match) as err:
        peers.check_peer(name, params)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=match):
        peers.run_peer(ROSEN, name, params, STARTS, 10, GTOL, TOL)


def test_missing_library_names_the_pip_package(monkeypatch):
    real = peers.importlib.import_module

    def fake(mod, *args, **kwargs):
        if mod == "optimistix":
            raise ImportError("No module named 'optimistix'")
        return real(mod, *args, **kwargs)

    monkeypatch.setattr(peers.importlib, "import_module", fake)
    with pytest.raises(ValueError, match="pip package 'optimistix'"):
        peers.check_peer("optimistix:BFGS", {})
    peers.check_peer("scipy:BFGS", {})  # the others stay available


def test_invalid_knobs():
    with pytest.raises(ValueError, match="num_steps"):
        peers.run_peer(ROSEN, "scipy:BFGS", {}, STARTS, 0, GTOL, TOL)
    with pytest.raises(ValueError, match="gtol"):
        peers.run_peer(ROSEN, "scipy:BFGS", {}, STARTS, 10, -1.0, TOL)
    with pytest.raises(ValueError, match="x0s must have shape"):
        peers.run_peer(ROSEN, "scipy:BFGS", {}, np.zeros((2, 3)), 10, GTOL, TOL)


# -------------------------------------------------------------------- every peer


@pytest.mark.parametrize("name", RUN_PEERS)
def test_trace_is_consistent(runs, name):
    r = runs[name]
    assert r.x.shape == (2, 2) and len(r.traces) == len(r.status) == 2
    assert len(r.run_s) == len(r.time_to_tol_s) == 2 and r.compile_s >= 0.0
    for i, tr in enumerate(r.traces):
        assert set(tr) == {
            "f",
            "grad_norm",
            "step_size",
            "nfev",
            "njev",
            "nhev",
            "nhvp",
            "njac",
            "time_s",
            "x",
        }
        assert len({len(v) for v in tr.values()}) == 1
        # x: the iterate per row, the start first and the returned x last, with
        # f[i] = f(x[i]) at every row
        n_rows = len(tr["f"])
        assert tr["x"].shape == (n_rows, 2) and tr["x"].dtype == np.float64
        np.testing.assert_array_equal(tr["x"][0], STARTS[i])
        np.testing.assert_array_equal(tr["x"][-1], r.x[i])
        f_x = [float(F_JIT(jnp.asarray(x))) for x in tr["x"]]
        # atol: f ~ 1e-20 near x* is cancellation, and programs round it differently
        np.testing.assert_allclose(tr["f"], f_x, rtol=1e-12, atol=1e-20)
        # row 0 is the start; its f and g count one evaluation each
        f0 = rosen_np(STARTS[i])
        np.testing.assert_allclose(tr["f"][0], f0, rtol=1e-14)
        np.testing.assert_allclose(
            tr["grad_norm"][0], np.linalg.norm(rosen_grad_np(STARTS[i])), rtol=1e-13
        )
        assert (tr["nfev"][0], tr["njev"][0]) == (1, 1)
        assert tr["step_size"][0] == 0.0
        for key in ("nfev", "njev", "nhev", "time_s"):
            assert np.all(np.diff(tr[key]) >= 0), key
        f_end = float(ROSEN.f(jnp.asarray(r.x[i])))
        np.testing.assert_allclose(tr["f"][-1], f_end, rtol=1e-12, atol=1e-20)
        np.testing.assert_allclose(
            tr["grad_norm"][-1],
            float(jnp.linalg.norm(ROSEN.grad(jnp.asarray(r.x[i])))),
            rtol=1e-8,
            atol=1e-14,
        )
        assert r.status[i] in LABELS
        if r.status[i] == "converged" and name != "scipy:L-BFGS-B":
            assert tr["grad_norm"][-1] <= GTOL
        # every stored time of a run that took a step is a measurement: > 0
        assert n_rows > 1 and r.run_s[i] > 0.0
        assert np.all(tr["time_s"][1:] > 0.0) and tr["time_s"][0] == 0.0
        np.testing.assert_allclose(tr["time_s"][-1], r.run_s[i], rtol=1e-12)
        assert math.isnan(r.time_to_tol_s[i]) or r.time_to_tol_s[i] > 0.0


@pytest.mark.parametrize(
    "name",
    [
        "scipy:BFGS",
        "scipy:CG",
        "scipy:L-BFGS-B",
        "scipy:trust-exact",
        "optimistix:BFGS",
    ],
)
def test_second_order_and_quasi_newton_peers_converge(runs, name):
    r = runs[name]
    assert r.status == ["converged", "converged"]
    for i in range(2):
        np.testing.assert_allclose(r.x[i], [1.0, 1.0], atol=1e-6)
        # rosenbrock's f* = 0: the gap 1e-10 is reached, and timed
        assert 0.0 < r.time_to_tol_s[i] < math.inf


def test_time_to_tol_needs_f_star():
    anon = problems.Problem(name="anon", f=ROSEN.f, x0=ROSEN.x0)  # f_star unknown
    r = peers.run_peer(anon, "scipy:BFGS", {}, STARTS[:1], STEPS, GTOL, TOL)
    assert r.status == ["converged"] and math.isnan(r.time_to_tol_s[0])


def test_scipy_warms_up_on_its_recording_pass(monkeypatch):
    """Per start: the recording pass, then SAMPLES timed calls for run_s and SAMPLES
    for the time to tolerance, one call a sample; no warm-up call of their own."""
    calls = []
    minimize = peer_scipy._minimize

    def counted(method, x0, opts, fun, jac, hess, callback):
        calls.append(1)
        return minimize(method, x0, opts, fun, jac, hess, callback)

    monkeypatch.setattr(peer_scipy, "_minimize", counted)
    monkeypatch.setattr(peer_scipy.timing, "MIN_SAMPLE_S", 1e-9)  # one call a sample
    r = peers.run_peer(ROSEN, "scipy:BFGS", {}, STARTS[:1], STEPS, GTOL, TOL)
    assert 0.0 < r.time_to_tol_s[0] < math.inf and r.run_s[0] > 0.0
    assert len(calls) == 1 + 2 * peer_scipy.timing.SAMPLES


# ------------------------------------------------------------------------- scipy


def _plain_scipy(method: str, x0: np.ndarray, options: dict, stop_at_gtol: bool):
    """scipy.optimize.minimize on numpy f, g, H; also returns the number of iterations
    that moved x (scipy's nit also counts iterations that leave x where it was:
    rejected trust-region steps, a zero Newton-CG update)."""
    kwargs = {"jac": rosen_grad_np}
    if method in ("Newton-CG", "trust-exact"):
        kwargs["hess"] = rosen_hess_np
    xs = [np.array(x0)]

    def callback(intermediate_result):
        x = np.array(intermediate_result.x)
        if not np.array_equal(x, xs[-1]):
            xs.append(x)
        if stop_at_gtol and np.linalg.norm(rosen_grad_np(x)) <= GTOL:
            raise StopIteration

    res = so.minimize(
        rosen_np, x0, method=method, options=options, callback=callback, **kwargs
    )
    return res, len(xs) - 1


@pytest.mark.parametrize(
    "method, options",
    [
        ("BFGS", {"gtol": GTOL, "norm": 2, "maxiter": STEPS}),
        ("CG", {"gtol": GTOL, "norm": 2, "maxiter": STEPS}),
        (
            "L-BFGS-B",
            {"gtol": GTOL, "ftol": 0.0, "maxiter": STEPS, "maxfun": 25 * STEPS + 25},
        ),
        ("Newton-CG", {"xtol": 0.0, "maxiter": STEPS}),
        ("trust-exact", {"gtol": GTOL, "maxiter": STEPS}),
    ],
)
def test_scipy_counts_equal_scipys_own(runs, method, options):
    """Our counting wrapper reproduces scipy's nfev/njev/nhev, and our rows its
    iterates; Newton-CG is stopped at ||g|| <= gtol by a callback in both runs."""
    assert peer_scipy.options(method, STEPS, GTOL) == options
    r = runs[f"scipy:{method}"]
    for i, tr in enumerate(r.traces):
        res, moved = _plain_scipy(method, STARTS[i], options, method == "Newton-CG")
        assert tr["nfev"][-1] == res.nfev
        assert tr["njev"][-1] == res.njev
        if method in ("Newton-CG", "trust-exact"):
            assert tr["nhev"][-1] == res.nhev
        assert len(tr["f"]) - 1 == moved
        if method in ("BFGS", "CG", "L-BFGS-B"):
            assert moved == res.nit
        np.testing.assert_allclose(r.x[i], res.x, rtol=1e-10)
        # atol: numpy's f and jax's f round differently where f ~ 1e-20 (cancellation)
        np.testing.assert_allclose(tr["f"][-1], res.fun, rtol=1e-12, atol=1e-20)


def test_scipy_bfgs_nit_and_nfev(runs):
    """The brief's pin: scipy:BFGS from the standard start, against scipy itself."""
    res = so.minimize(
        rosen_np,
        STARTS[0],
        jac=rosen_grad_np,
        method="BFGS",
        options={"gtol": GTOL, "norm": 2, "maxiter": STEPS},
    )
    tr = runs["scipy:BFGS"].traces[0]
    assert (len(tr["f"]) - 1, tr["nfev"][-1], tr["njev"][-1]) == (
        res.nit,
        res.nfev,
        res.njev,
    )


@pytest.mark.parametrize("method", ["BFGS", "Newton-CG"])
def test_scipy_timed_calls_are_the_recorded_run(runs, method):
    """The timed minimize call makes the recorded run (same x, same counts); stopped
    at the target it ends at the trace's first row within tolerance."""
    fns = peer_scipy.Functions(ROSEN, STARTS[0], method in peer_scipy.WITH_HESS)
    opts = peer_scipy.options(method, STEPS, GTOL)
    tr = runs[f"scipy:{method}"].traces[0]
    call, reached = peer_scipy._timed_call(fns, method, STARTS[0], opts, GTOL)
    res = call()
    np.testing.assert_array_equal(res.x, tr["x"][-1])
    assert (res.nfev, res.njev) == (tr["nfev"][-1], tr["njev"][-1])
    assert not reached[0]
    thr = 1e-10
    hit = int(np.nonzero(tr["f"] <= thr)[0][0])
    call, reached = peer_scipy._timed_call(fns, method, STARTS[0], opts, GTOL, (0, thr))
    res = call()
    assert reached[0]
    np.testing.assert_array_equal(res.x, tr["x"][hit])


# -------------------------------------------------------------------- optimistix


def test_optimistix_recorded_trace_ends_where_minimise_does(runs):
    """jax.jit(optx.minimise) with max_steps = the recorded trials (the timed run)
    reaches the recorded final iterate; with the trials up to the first row within
    tolerance (the time-to-tolerance run), that row's iterate."""
    r = runs["optimistix:BFGS"]
    for i, tr in enumerate(r.traces):
        trials = int(tr["nfev"][-1])
        y, n, _ = jax.jit(peer_optx.minimise_function(ROSEN, trials))(STARTS[i])
        assert int(n) == trials
        np.testing.assert_allclose(y, r.x[i], rtol=0, atol=1e-8)
    tr = r.traces[0]
    hit = int(np.nonzero(tr["f"] <= TOL)[0][0])
    assert hit < len(tr["f"]) - 1  # the target comes before the end here
    solve = jax.jit(peer_optx.minimise_function(ROSEN, int(tr["nfev"][hit])))
    np.testing.assert_allclose(solve(STARTS[0])[0], tr["x"][hit], rtol=0, atol=1e-8)


def test_optimistix_reaches_gtol_and_counts_trials(runs):
    r = runs["optimistix:BFGS"]
    for tr in r.traces:
        assert tr["grad_norm"][-1] <= GTOL
        # backtracking: at least one f per accepted step, one g per accepted step
        assert tr["nfev"][-1] >= tr["njev"][-1] == len(tr["f"])
        assert np.all(tr["step_size"][1:] > 0)
    # nfev = trials, checked against a counter inside the objective
    calls = [0]

    def bump():
        calls[0] += 1

    def f(x):
        jax.debug.callback(bump)
        return ROSEN.f(x)

    counted = problems.Problem(name="counted", f=f, x0=ROSEN.x0, f_star=0.0)
    out = jax.jit(peer_optx.recording_program(counted, STEPS))(ROSEN.x0, GTOL)
    jax.effects_barrier()
    assert calls[0] == int(out[2]) == r.traces[0]["nfev"][-1]


def test_run_peer_refuses_optax_which_runs_in_our_driver():
    with pytest.raises(ValueError, match="runs in our driver"):
        peers.run_peer(ROSEN, "optax:adam", {}, STARTS, 10, GTOL, TOL)
