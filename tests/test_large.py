"""The large problems against dense NumPy formulas at small n, and a matrix-free run
at n = 10^5 (no dense Hessian; trace rows are scalars)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import bench
import optimizers
import problems


def _dense_banded(n: int, diag: float) -> np.ndarray:
    return diag * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)


@pytest.mark.parametrize("name", ["separable_quadratic", "banded_quadratic"])
def test_value_gradient_hessian_match_dense_formula(name):
    n = 7
    p = problems.get(name, n=n)
    if name == "separable_quadratic":
        a = np.diag(np.logspace(0.0, 3.0, n))  # kappa = 1000, log-spaced
    else:
        a = _dense_banded(n, 2.1)
    x = np.random.default_rng(0).standard_normal(n)
    e = x - 1.0
    np.testing.assert_allclose(p.f(x), 0.5 * e @ a @ e, rtol=1e-13)
    np.testing.assert_allclose(p.grad(x), a @ e, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(p.hess(x), a, rtol=1e-13, atol=1e-13)
    # the hand-written gradient is jax's gradient of f
    np.testing.assert_allclose(p.grad(x), jax.grad(p.f)(x), rtol=1e-13, atol=1e-13)
    assert p.f(np.ones(n)) == p.f_star == 0.0


def test_banded_quadratic_condition_number_matches_its_docstring():
    lam = np.linalg.eigvalsh(_dense_banded(50, 2.1))
    assert lam.min() > 0.1 - 1e-12 and lam.max() / lam.min() < 41.0


def test_bad_parameters_are_refused_in_one_line():
    with pytest.raises(ValueError, match="diag > 2"):
        problems.get("banded_quadratic", diag=2.0)
    with pytest.raises(ValueError, match="kappa >= 1"):
        problems.get("separable_quadratic", kappa=0.5)


def test_newton_cg_on_extended_rosenbrock_at_n_1e5():
    p = problems.get("extended_rosenbrock", n=100_000)
    tr = bench.solve(p, optimizers.get("newton_cg"), num_steps=200, gtol=1e-6)
    k = int(tr.n_steps)
    assert float(tr.grad_norm[k]) <= 1e-6 and float(tr.f[k]) < 1e-12
    assert tr.path is None and tr.x.shape == (100_000,)  # no iterates per row
    assert int(tr.nhev[k]) == 0 and int(tr.nhvp[k]) > 0
