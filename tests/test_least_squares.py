"""Gauss-Newton and Levenberg-Marquardt against closed forms and published minima.

References: the least-squares solution of a linear system (NumPy's lstsq), the limits
of the damped step (Gauss-Newton as lambda -> 0, scaled steepest descent as lambda ->
inf), and the published MGH minima (More, Garbow & Hillstrom 1981).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bench
import optimizers
import problems
from bench.cells import prepare
from bench.suites import CellSpec
from optimizers.least_squares import gauss_newton_direction, lm_direction

ROOT = Path(__file__).resolve().parents[1]


def _linear_lsq(m: int = 7, n: int = 4) -> tuple[problems.Problem, np.ndarray]:
    """r = A x - b with b = A x*: a zero-residual linear least-squares problem."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((m, n))
    x_star = rng.standard_normal(n)
    a_j, b_j = jnp.asarray(a), jnp.asarray(a @ x_star)

    def r(x):
        return a_j @ x - b_j

    p = problems.Problem(
        name="linear_lsq", f=lambda x: jnp.sum(r(x) ** 2), residual=r,
        x0=np.zeros(n), f_star=0.0,
    )  # fmt: skip
    return p, x_star


def test_gauss_newton_solves_zero_residual_linear_lsq_in_one_step():
    p, x_star = _linear_lsq()
    tr = bench.solve(p, optimizers.get("gauss_newton"), num_steps=10, gtol=1e-10)
    assert int(tr.n_steps) == 1  # converged (||g|| <= gtol) after one iteration
    np.testing.assert_allclose(tr.x, x_star, rtol=1e-12, atol=1e-12)
    assert float(tr.step_size[1]) == 1.0  # the full step, first trial
    assert (int(tr.njac[1]), int(tr.nfev[1]), int(tr.njev[1])) == (1, 2, 2)


def _random_jacobian():
    rng = np.random.default_rng(0)
    # badly scaled columns, so that D matters
    j = rng.standard_normal((6, 3)) * np.array([1e-2, 1.0, 30.0])
    return j, rng.standard_normal(6)


def test_lm_direction_tends_to_gauss_newton_as_damping_vanishes():
    j, r = _random_jacobian()
    scale = np.linalg.norm(j, axis=0)
    gn = np.linalg.lstsq(j, -r, rcond=None)[0]
    np.testing.assert_allclose(gauss_newton_direction(j, r), gn, rtol=1e-12)
    # p(lam) - p_GN = O(lam): 1e-12 of damping moves the step by ~1e-12 relative
    p = lm_direction(j, r, 1e-12, scale)
    np.testing.assert_allclose(p, gn, rtol=1e-8)


def test_lm_direction_tends_to_scaled_gradient_descent_as_damping_grows():
    j, r = _random_jacobian()
    scale = np.linalg.norm(j, axis=0)
    lam = 1e10
    # (J'J + lam D^2) p = -J'r  =>  lam p -> -D^-2 J'r, error O(||J'J|| / lam D^2)
    p = np.asarray(lm_direction(j, r, lam, scale))
    np.testing.assert_allclose(lam * p, -(j.T @ r) / scale**2, rtol=1e-6)


@pytest.mark.parametrize("name", ["rosenbrock", "helical_valley", "bard"])
def test_levenberg_marquardt_reaches_published_minimum(name):
    p = problems.get(name)
    tr = bench.solve(p, optimizers.get("levenberg_marquardt"), num_steps=200)
    k = int(tr.n_steps)
    assert float(tr.f[k]) - p.f_star <= 1e-10 * max(1.0, p.f_star)
    # one residual per trial, one Jacobian per accepted step plus the first one at
    # x0 (MINPACK's counting); the gradient only at the start
    assert int(tr.njac[k]) == k + 1 and int(tr.njev[k]) == 1
    assert int(tr.nfev[k]) >= k + 1 and int(tr.nhvp[k]) == int(tr.nhev[k]) == 0


def test_least_squares_method_refuses_problem_without_residual(tmp_path):
    spec = CellSpec("quadratic", {"dim": 3}, "gauss_newton", {})
    with pytest.raises(ValueError, match="no residual"):
        prepare([spec])
    r = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--problems", "quadratic[dim=3]",
         "--optimizers", "levenberg_marquardt", "--out", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "no residual" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("method", ["lm", "trf"])
def test_scipy_least_squares_peer_counts_equal_scipys(method):
    import scipy.optimize

    from bench import peers

    p = problems.get("bard")
    x0 = np.asarray(p.x0)
    pr = peers.run_peer(p, f"scipy:least_squares-{method}", {}, x0[None], 100,
                        1e-10, 1e-8)  # fmt: skip
    tr = pr.traces[0]
    r = jax.jit(p.residual)
    jac = jax.jit(jax.jacfwd(p.residual))
    eps = np.finfo(float).eps
    res = scipy.optimize.least_squares(
        lambda x: np.asarray(r(x)), x0, jac=lambda x: np.asarray(jac(x)),
        method=method, ftol=eps, xtol=eps, gtol=eps, max_nfev=4000,
    )  # fmt: skip
    counts = (int(tr["nfev"][-1]), int(tr["njac"][-1]))
    if method == "trf":  # scipy's tallies are the calls made
        assert counts == (res.nfev, res.njev)
    else:  # MINPACK's own tallies are off by one from the calls (bard: 13/9 made)
        assert abs(counts[0] - res.nfev) <= 1 and abs(counts[1] - res.njev) <= 1
    assert int(tr["njev"][-1]) == 0 and (tr["nfev"][0], tr["njac"][0]) == (1, 1)
    np.testing.assert_allclose(pr.x[0], res.x, rtol=1e-12)
    # our f is sum r^2, scipy's cost half of it
    np.testing.assert_allclose(tr["f"][-1], 2 * res.cost, rtol=1e-12)
    assert tr["f"][-1] - p.f_star <= 1e-10


def test_optimistix_levenberg_marquardt_peer_reaches_minimum():
    from bench import peers

    p = problems.get("helical_valley")
    pr = peers.run_peer(p, "optimistix:LevenbergMarquardt", {},
                        np.asarray(p.x0)[None], 100, 1e-10, 1e-8)  # fmt: skip
    tr = pr.traces[0]
    assert pr.status == ["converged"] and tr["f"][-1] <= 1e-20
    # one linearisation per trial (nfev), a Jacobian per accepted one (njac, rows)
    assert int(tr["njac"][-1]) == len(tr["f"]) and int(tr["njev"][-1]) == 0
    assert int(tr["nfev"][-1]) >= len(tr["f"])
    with pytest.raises(ValueError, match="no residual"):
        peers.run_peer(problems.get("quadratic", dim=2), "scipy:least_squares-lm",
                       {}, np.zeros((1, 2)), 10, 1e-10, 1e-8)  # fmt: skip
