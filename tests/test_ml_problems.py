"""The machine-learning problems against independent references (scipy, NumPy)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.special

import problems
from problems import ml

ML_NAMES = ("house_prices", "logistic_regression", "mlp")


def test_registered_with_labels() -> None:
    for name in ML_NAMES:
        assert name in problems.names()
    assert problems.get("house_prices").label == "house_prices[n_samples=200,seed=0]"
    assert (
        problems.get("logistic_regression").label
        == "logistic_regression[n_features=10,n_samples=200,reg=0.01,seed=0]"
    )
    assert problems.get("mlp").label == "mlp[hidden=8,n_samples=64,seed=0]"


@pytest.mark.parametrize("name", ML_NAMES)
def test_docstring_states_formula_and_reference(name: str) -> None:
    fn = problems.constructor(name)
    assert fn.__doc__ is not None and "f(w) =" in fn.__doc__
    assert problems.get(name).reference


# --- house_prices ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def house() -> tuple[problems.Problem, np.ndarray, np.ndarray]:
    x, y = ml.house_prices_data(200, 0)
    return problems.get("house_prices"), x, y


def test_house_prices_shape_and_start(house) -> None:
    p, x, y = house
    assert x.shape == (200, 5) and y.shape == (200,)
    assert p.dim == 5
    np.testing.assert_array_equal(np.asarray(p.x0), np.zeros(5))
    # The features are raw: the intercept column is ones, area is in m^2.
    np.testing.assert_array_equal(x[:, 4], np.ones(200))
    assert 30.0 < x[:, 0].min() and x[:, 0].max() < 270.0


def test_house_prices_f_is_mse(house) -> None:
    p, x, y = house
    rng = np.random.default_rng(1)
    for w in [np.zeros(5), rng.normal(0.0, 2.0, 5)]:
        ref = np.mean((x @ w - y) ** 2)
        # rtol 1e-12: the same sum in a different order.
        np.testing.assert_allclose(float(p.f(jnp.asarray(w))), ref, rtol=1e-12)
        r = np.asarray(p.residual(jnp.asarray(w)))
        np.testing.assert_allclose(r, (x @ w - y) / np.sqrt(200), rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.sum(r**2), ref, rtol=1e-12)
        # The analytic gradient and Hessian agree with what jax derives from f.
        np.testing.assert_allclose(
            np.asarray(p.grad(jnp.asarray(w))),
            np.asarray(jax.grad(p.f)(jnp.asarray(w))),
            rtol=1e-10,
            atol=1e-10 * np.linalg.norm(np.asarray(p.grad(p.x0))),
        )
        np.testing.assert_allclose(
            np.asarray(p.hess(jnp.asarray(w))),
            np.asarray(jax.hessian(p.f)(jnp.asarray(w))),
            rtol=1e-10,
            atol=1e-12,
        )


def test_house_prices_solution_matches_scipy_lstsq(house) -> None:
    p, x, y = house
    # gelsy (pivoted QR) is a different algorithm from numpy's SVD-based lstsq.
    w_ref, *_ = scipy.linalg.lstsq(x, y, lapack_driver="gelsy")
    # rtol 1e-9: forward error of a backward-stable solver ~ cond(X) eps ~ 1e-12.
    np.testing.assert_allclose(np.asarray(p.x_star), w_ref, rtol=1e-9, atol=0)
    f_ref = np.mean((x @ w_ref - y) ** 2)
    np.testing.assert_allclose(p.f_star, f_ref, rtol=1e-12)
    np.testing.assert_allclose(float(p.f(p.x_star)), p.f_star, rtol=1e-12)


def test_house_prices_solution_matches_normal_equations(house) -> None:
    p, x, y = house
    a, b = x.T @ x, x.T @ y
    w_ne = scipy.linalg.cho_solve(scipy.linalg.cho_factor(a), b)
    # rtol 1e-6: the normal equations square the condition number (~4e6 eps ~ 1e-9).
    np.testing.assert_allclose(np.asarray(p.x_star), w_ne, rtol=1e-6, atol=0)
    # f is flat at the minimum, so f* agrees to far more digits than x*.
    np.testing.assert_allclose(p.f_star, np.mean((x @ w_ne - y) ** 2), rtol=1e-10)


def test_house_prices_gradient_vanishes_at_x_star(house) -> None:
    p, _, _ = house
    g_star = np.linalg.norm(np.asarray(p.grad(p.x_star)))
    g0 = np.linalg.norm(np.asarray(p.grad(p.x0)))
    # 1e-10 relative: lstsq leaves a residual orthogonal to range(X) up to rounding.
    assert g_star <= 1e-10 * g0


def test_house_prices_is_badly_conditioned(house) -> None:
    p, x, _ = house
    # The point of the problem: raw features give cond(X^T X) > 1e6 (about 4e6 here).
    assert np.linalg.cond(x.T @ x) > 1e6
    eig = np.linalg.eigvalsh(np.asarray(p.hess(p.x0)))
    assert eig[-1] / eig[0] > 1e6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_house_prices_badly_conditioned_for_other_seeds(seed: int) -> None:
    x, _ = ml.house_prices_data(200, seed)
    assert np.linalg.cond(x.T @ x) > 1e6


# --- logistic_regression --------------------------------------------------------------


def _np_logistic(x: np.ndarray, y: np.ndarray, reg: float):
    """Independent loss, gradient and Hessian written from the formula."""
    n = x.shape[0]

    def fun(w: np.ndarray) -> float:
        m = y * (x @ w)
        return float(np.sum(np.logaddexp(0.0, -m)) / n + 0.5 * reg * np.dot(w, w))

    def jac(w: np.ndarray) -> np.ndarray:
        m = y * (x @ w)
        # d/dm log(1 + e^-m) = -1 / (1 + e^m)
        c = -scipy.special.expit(-m)
        return x.T @ (c * y) / n + reg * w

    def hess(w: np.ndarray) -> np.ndarray:
        m = y * (x @ w)
        s = scipy.special.expit(m)
        d = s * (1.0 - s)
        return (x * d[:, None]).T @ x / n + reg * np.eye(x.shape[1])

    return fun, jac, hess


LOGISTIC_CASES = [
    {},  # the defaults
    {"n_samples": 50, "n_features": 3, "reg": 1.0, "seed": 1},
    {"n_samples": 30, "n_features": 20, "reg": 1e-4, "seed": 2},  # d > n, nearly flat
]


@pytest.mark.parametrize("kwargs", LOGISTIC_CASES)
@pytest.mark.parametrize("method", ["trust-exact", "L-BFGS-B"])
def test_logistic_regression_matches_scipy(kwargs: dict, method: str) -> None:
    p = problems.get("logistic_regression", **kwargs)
    n = kwargs.get("n_samples", 200)
    d = kwargs.get("n_features", 10)
    reg = kwargs.get("reg", 1e-2)
    x, y = ml.logistic_regression_data(n, d, kwargs.get("seed", 0))
    assert set(np.unique(y)) <= {-1.0, 1.0}
    fun, jac, hess = _np_logistic(x, y, reg)
    if method == "trust-exact":
        res = scipy.optimize.minimize(
            fun, np.zeros(d), jac=jac, hess=hess, method=method, options={"gtol": 1e-13}
        )
    else:
        res = scipy.optimize.minimize(
            fun,
            np.zeros(d),
            jac=jac,
            method=method,
            options={"gtol": 1e-13, "ftol": 0.0, "maxiter": 10_000},
        )
    # scipy stops (and may report failure) once the predicted decrease ~ ||g||^2 falls
    # below the rounding of f, at ||g|| ~ sqrt(eps f) ~ 1e-8; judge the answer instead.
    assert np.linalg.norm(jac(res.x)) < 1e-7
    # rtol 1e-6 on x (atol for entries near 0): the error is ~ ||g|| / reg.
    np.testing.assert_allclose(np.asarray(p.x_star), res.x, rtol=1e-6, atol=1e-8)
    # f is flat at the minimum: f* agrees to near machine precision.
    np.testing.assert_allclose(p.f_star, res.fun, rtol=1e-12)
    np.testing.assert_allclose(p.f_star, fun(np.asarray(p.x_star)), rtol=1e-14)


def test_logistic_regression_f_and_grad_match_numpy() -> None:
    p = problems.get("logistic_regression")
    x, y = ml.logistic_regression_data(200, 10, 0)
    fun, jac, hess = _np_logistic(x, y, 1e-2)
    rng = np.random.default_rng(5)
    for w in [np.zeros(10), rng.normal(0.0, 1.0, 10), rng.normal(0.0, 30.0, 10)]:
        wj = jnp.asarray(w)
        # rtol 1e-12: same formula, different summation order.
        np.testing.assert_allclose(float(p.f(wj)), fun(w), rtol=1e-12)
        np.testing.assert_allclose(
            np.asarray(p.grad(wj)), jac(w), rtol=1e-10, atol=1e-14
        )
        np.testing.assert_allclose(
            np.asarray(p.hess(wj)), hess(w), rtol=1e-10, atol=1e-14
        )
    # f(0) = log 2 exactly (every margin is 0).
    np.testing.assert_allclose(float(p.f(p.x0)), np.log(2.0), rtol=1e-15)


def test_logistic_regression_optimum_is_strongly_convex_minimum() -> None:
    p = problems.get("logistic_regression")
    assert np.linalg.norm(np.asarray(p.grad(p.x_star))) < 1e-12
    eig = np.linalg.eigvalsh(np.asarray(p.hess(p.x_star)))
    # Strong convexity modulus reg = 1e-2 (rtol 1e-10 for rounding in the Hessian).
    assert eig[0] >= 1e-2 * (1.0 - 1e-10)
    np.testing.assert_array_equal(np.asarray(p.x0), np.zeros(10))


def test_logistic_regression_stable_for_huge_margins() -> None:
    p = problems.get("logistic_regression")
    w = jnp.asarray(np.full(10, 1e4))
    assert np.isfinite(float(p.f(w)))
    assert np.all(np.isfinite(np.asarray(p.grad(w))))


# --- mlp ------------------------------------------------------------------------------


def _np_mlp(w: np.ndarray, t: np.ndarray, y: np.ndarray, hidden: int) -> float:
    w1, b1 = w[:hidden], w[hidden : 2 * hidden]
    w2, b2 = w[2 * hidden : 3 * hidden], w[3 * hidden]
    pred = np.array([np.dot(w2, np.tanh(w1 * ti + b1)) + b2 for ti in t])
    return float(np.mean((pred - y) ** 2))


def test_mlp_value_and_gradient_finite() -> None:
    p = problems.get("mlp")
    assert p.dim == 3 * 8 + 1
    assert p.f_star is None and p.x_star is None
    f0 = float(p.f(p.x0))
    g0 = np.asarray(p.grad(p.x0))
    assert np.isfinite(f0) and f0 > 0.0
    assert g0.shape == (p.dim,) and np.all(np.isfinite(g0))
    assert np.linalg.norm(g0) > 0.0


@pytest.mark.parametrize("kwargs", [{}, {"n_samples": 10, "hidden": 3, "seed": 4}])
def test_mlp_matches_numpy_forward_pass(kwargs: dict) -> None:
    p = ml.mlp(**kwargs)
    n, hidden = kwargs.get("n_samples", 64), kwargs.get("hidden", 8)
    t, y = ml.mlp_data(n, kwargs.get("seed", 0))
    rng = np.random.default_rng(9)
    for w in [np.asarray(p.x0), rng.normal(0.0, 1.0, 3 * hidden + 1)]:
        # rtol 1e-12: same arithmetic, different order.
        np.testing.assert_allclose(
            float(p.f(jnp.asarray(w))), _np_mlp(w, t, y, hidden), rtol=1e-12
        )
        r = np.asarray(p.residual(jnp.asarray(w)))
        np.testing.assert_allclose(np.sum(r**2), float(p.f(jnp.asarray(w))), rtol=1e-12)


def test_mlp_deterministic_per_seed() -> None:
    # Call the constructor directly: problems.get would return the cached object.
    a, b, c = ml.mlp(seed=0), ml.mlp(seed=0), ml.mlp(seed=1)
    np.testing.assert_array_equal(np.asarray(a.x0), np.asarray(b.x0))
    assert float(a.f(a.x0)) == float(b.f(b.x0))
    assert not np.array_equal(np.asarray(a.x0), np.asarray(c.x0))
    assert float(a.f(a.x0)) != float(c.f(c.x0))
    # Same start, different data: the objectives differ too.
    assert float(a.f(a.x0)) != float(c.f(a.x0))


def test_mlp_vmap_equals_loop() -> None:
    p = problems.get("mlp")
    xs = jnp.asarray(np.random.default_rng(3).normal(0.0, 1.0, (4, p.dim)))
    batched = np.asarray(jax.jit(jax.vmap(p.f))(xs))
    looped = np.array([float(p.f(xs[i])) for i in range(4)])
    # rtol 1e-12: batched matmuls may round differently (DESIGN.md section 7).
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


# --- parameter validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("house_prices", {"n_samples": 0}, "n_samples"),
        ("house_prices", {"n_samples": 4}, "n_samples"),  # fewer rows than columns
        ("house_prices", {"n_samples": 20.5}, "n_samples"),
        ("house_prices", {"n_samples": "200"}, "n_samples"),
        ("house_prices", {"n_samples": True}, "n_samples"),
        ("house_prices", {"seed": -1}, "seed"),
        ("logistic_regression", {"n_samples": -5}, "n_samples"),
        ("logistic_regression", {"n_features": 0}, "n_features"),
        ("logistic_regression", {"reg": 0.0}, "reg"),
        ("logistic_regression", {"reg": -1e-3}, "reg"),
        ("logistic_regression", {"reg": float("inf")}, "reg"),
        ("logistic_regression", {"reg": float("nan")}, "reg"),
        ("logistic_regression", {"reg": "small"}, "reg"),
        ("logistic_regression", {"seed": 0.5}, "seed"),
        ("mlp", {"n_samples": 0}, "n_samples"),
        ("mlp", {"hidden": 0}, "hidden"),
        ("mlp", {"hidden": 2.5}, "hidden"),
        ("mlp", {"seed": -3}, "seed"),
        ("mlp", {"width": 8}, "width"),  # unknown parameter, caught by problems.get
    ],
)
def test_bad_parameters_raise(name: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        problems.get(name, **kwargs)


def test_integral_floats_accepted() -> None:
    p = ml.house_prices(n_samples=50.0)
    assert p.params["n_samples"] == 50 and isinstance(p.params["n_samples"], int)
