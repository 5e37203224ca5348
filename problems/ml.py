"""Machine-learning objectives on synthetic data drawn from a seed (no downloads).

Each problem has a public ``*_data`` function that regenerates its data set from the
same parameters, so tests and users can build independent references. Every array is
created inside a function call, never at import: the caller enables float64 after
import.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems.base import Family, Problem, check_int, register

# --- parameter checks -----------------------------------------------------------------


def _check_seed(problem: str, seed: Any) -> int:
    # np.random.default_rng rejects negative seeds; say so in our own words.
    return check_int(problem, "seed", seed, 0)


# --- house_prices ---------------------------------------------------------------------

# Columns of the house_prices design matrix, in order.
HOUSE_FEATURES = ("area_m2", "age_years", "distance_km", "rooms", "intercept")
# Teacher weights, price in thousands: per m^2, per year of age, per km, per room, base.
_HOUSE_TRUE_W = (3.0, -0.8, -4.0, 12.0, 60.0)
_HOUSE_NOISE_SD = 25.0


def house_prices_data(
    n_samples: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): raw features [area m^2, age years, distance km, rooms, 1] and prices (k).

    Floor area follows the room count (28 m^2 a room plus 22 m^2, +-3 m^2), so two
    columns are nearly collinear on top of their very different scales, and the
    intercept is nearly spanned by the uncentred features: X^T X is badly conditioned.
    """
    n_samples = check_int("house_prices", "n_samples", n_samples, len(HOUSE_FEATURES))
    seed = _check_seed("house_prices", seed)
    rng = np.random.default_rng(seed)
    rooms = rng.integers(1, 9, n_samples).astype(float)
    area = 28.0 * rooms + 22.0 + rng.normal(0.0, 3.0, n_samples)  # about 50-250 m^2
    age = rng.uniform(0.0, 100.0, n_samples)
    distance = rng.uniform(0.5, 30.0, n_samples)
    x = np.stack([area, age, distance, rooms, np.ones(n_samples)], axis=1)
    y = x @ np.asarray(_HOUSE_TRUE_W) + rng.normal(0.0, _HOUSE_NOISE_SD, n_samples)
    return x, y


def _house_residual(w: jax.Array, data: dict) -> jax.Array:
    return (data["x"] @ w - data["y"]) / jnp.sqrt(data["y"].shape[0])


def _house_f(w: jax.Array, data: dict) -> jax.Array:
    r = _house_residual(w, data)
    return r @ r


# every seed of one n_samples is one instance: a seed sweep is one program
HOUSE_PRICES = Family(
    _house_f,
    grad=lambda w, d: (2.0 / d["y"].shape[0]) * (d["x"].T @ (d["x"] @ w - d["y"])),
    hess=lambda w, d: (2.0 / d["y"].shape[0]) * (d["x"].T @ d["x"]),
    residual=_house_residual,
)


@register("house_prices")
def house_prices(n_samples: int = 200, seed: int = 0) -> Problem:
    """f(w) = sum((X w - y)^2) / n_samples on raw, unscaled features (MSE).

    X has columns [area m^2 (~50-250), age years (0-100), distance km (0.5-30), rooms
    (1-8), 1]; y = X w_true + noise (``house_prices_data``). No feature scaling, on
    purpose: cond(X^T X) is ~3e6 for the defaults, which makes gradient descent crawl.
    f* and x* from np.linalg.lstsq (SVD) in float64; x0 = 0; residual
    r(w) = (X w - y) / sqrt(n_samples), so f = sum(r^2).
    Reference: Hastie, Tibshirani & Friedman (2009), ch. 3 (linear least squares).
    """
    x, y = house_prices_data(n_samples, seed)
    n_samples = x.shape[0]
    x_star, *_ = np.linalg.lstsq(x, y, rcond=None)
    f_star = float(np.mean((x @ x_star - y) ** 2))
    return Problem(
        name="house_prices",
        family=HOUSE_PRICES,
        data={"x": x, "y": y},
        x0=np.zeros(x.shape[1]),
        f_star=f_star,
        x_star=x_star,
        params={"n_samples": n_samples, "seed": seed},
        reference="Hastie, Tibshirani & Friedman 2009, ch. 3",
    )


# --- logistic_regression --------------------------------------------------------------


def logistic_regression_data(
    n_samples: int = 200, n_features: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X ~ N(0, 1) of shape (n_samples, n_features), labels y in {-1, +1}.

    A Gaussian teacher w_t ~ N(0, I) draws y_i = +1 with probability sigmoid(x_i^T w_t),
    so the labels are noisy and the classes overlap.
    """
    n_samples = check_int("logistic_regression", "n_samples", n_samples, 1)
    n_features = check_int("logistic_regression", "n_features", n_features, 1)
    seed = _check_seed("logistic_regression", seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, n_features))
    w_teacher = rng.standard_normal(n_features)
    p_pos = _sigmoid(x @ w_teacher)
    y = np.where(rng.uniform(size=n_samples) < p_pos, 1.0, -1.0)
    return x, y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-log(1 + exp(-z))): no overflow for large |z| of either sign.
    return np.exp(-np.logaddexp(0.0, -z))


def _logistic_newton(
    x: np.ndarray, y: np.ndarray, reg: float, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Damped Newton (Armijo backtracking) in float64; returns (w*, f*) or raises."""
    n, d = x.shape
    xy = x * y[:, None]  # row i is y_i x_i, so the margin is m = xy @ w

    def loss(w: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -(xy @ w))) + 0.5 * reg * (w @ w))

    w = np.zeros(d)
    f = loss(w)
    gnorm = np.inf
    for _ in range(max_iter):
        s = _sigmoid(-(xy @ w))  # = 1 - sigmoid(m): weight of each sample in the grad
        g = -(xy.T @ s) / n + reg * w
        gnorm = float(np.linalg.norm(g))
        if gnorm <= 1e-14:
            break
        h = (x.T * (s * (1.0 - s))) @ x / n + reg * np.eye(d)
        step = np.linalg.solve(h, -g)
        t = 1.0
        while t > 1e-10:
            f_new = loss(w + t * step)
            # Near the optimum f stops changing in float64: accept the full step then.
            if f_new <= f + 1e-4 * t * (g @ step) or f_new <= f:
                break
            t *= 0.5
        w_new = w + t * step
        if np.array_equal(w_new, w):  # stalled at the rounding floor
            break
        w, f = w_new, loss(w_new)
    if not gnorm <= 1e-12:
        raise RuntimeError(
            f"logistic_regression: Newton did not converge (||g|| = {gnorm:.3g})"
        )
    return w, f


LOGISTIC_REFERENCE_MAX = 2000  # features up to which f* is computed


def gram(x: np.ndarray) -> np.ndarray:
    """The smaller of X X^T and X^T X: the same nonzero eigenvalues, cheaper."""
    return x @ x.T if x.shape[0] < x.shape[1] else x.T @ x


def _logistic_f(w: jax.Array, data: dict) -> jax.Array:
    margin = data["xy"] @ w
    return jnp.mean(jnp.logaddexp(0.0, -margin)) + 0.5 * data["reg"] * (w @ w)


# every (reg, seed) of one shape is one instance: a reg sweep is one program
LOGISTIC_REGRESSION = Family(_logistic_f)


@register("logistic_regression")
def logistic_regression(
    n_samples: int = 200, n_features: int = 10, reg: float = 1e-2, seed: int = 0
) -> Problem:
    """f(w) = mean_i log(1 + exp(-y_i x_i^T w)) + reg/2 ||w||^2, y_i in {-1, +1}.

    Strongly convex (modulus reg). Data from ``logistic_regression_data``; f* and x*
    (up to 2000 features; unknown beyond) from a damped Newton solve in float64 run
    to ||grad|| <= 1e-14 (or the rounding floor, checked <= 1e-12); x0 = 0.
    Reference: Hastie, Tibshirani & Friedman (2009), sec. 4.4; Nocedal & Wright
    (2006), ch. 3 (Newton's method).
    """
    x, y = logistic_regression_data(n_samples, n_features, seed)
    try:
        reg = float(reg)
    except (TypeError, ValueError):
        raise ValueError(
            f"logistic_regression: reg must be a number > 0, got {reg!r}"
        ) from None
    if not (math.isfinite(reg) and reg > 0.0):
        raise ValueError(f"logistic_regression: reg must be finite and > 0, got {reg}")
    n_samples, n_features = x.shape
    # the dense Newton reference costs O(n_features^3): wider instances (the scale
    # suite's) leave f* to the best value found, as for problems without one
    x_star, f_star = (
        _logistic_newton(x, y, reg) if n_features <= LOGISTIC_REFERENCE_MAX
        else (None, None)
    )  # fmt: skip
    return Problem(
        name="logistic_regression",
        family=LOGISTIC_REGRESSION,
        data={"xy": x * y[:, None], "reg": np.asarray(reg)},
        x0=np.zeros(n_features),
        f_star=f_star,
        x_star=x_star,
        params={
            "n_samples": n_samples,
            "n_features": n_features,
            "reg": reg,
            "seed": seed,
        },
        reference="Hastie, Tibshirani & Friedman 2009, sec. 4.4",
        # bounds: the loss's Hessian is X^T diag(s(1-s)) X / n with s(1-s) <= 1/4
        mu=reg,
        # ||X||_2^2 from the smaller Gram matrix (X X^T and X^T X share it)
        L=reg + float(np.linalg.eigvalsh(gram(x))[-1]) / (4.0 * n_samples),
    )


# --- mlp ------------------------------------------------------------------------------


def mlp_data(n_samples: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(t, y): inputs t ~ U(-1, 1), targets y = sin(3 t) + N(0, 0.1^2), shape (n,)."""
    n_samples = check_int("mlp", "n_samples", n_samples, 1)
    seed = _check_seed("mlp", seed)
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1.0, 1.0, n_samples)
    y = np.sin(3.0 * t) + rng.normal(0.0, 0.1, n_samples)
    return t, y


def mlp_unflatten(
    w: jax.Array, hidden: int
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Split the flat vector [W1 (hidden), b1 (hidden), W2 (hidden), b2 (1)]."""
    w1 = w[:hidden]
    b1 = w[hidden : 2 * hidden]
    w2 = w[2 * hidden : 3 * hidden]
    b2 = w[3 * hidden]  # a scalar
    return w1, b1, w2, b2


def _mlp_residual(w: jax.Array, data: dict) -> jax.Array:
    t, y = data["t"], data["y"]
    w1, b1, w2, b2 = mlp_unflatten(w, (w.shape[0] - 1) // 3)
    z = jnp.tanh(t[:, None] * w1[None, :] + b1[None, :])  # (n_samples, hidden)
    return (z @ w2 + b2 - y) / jnp.sqrt(y.shape[0])


def _mlp_f(w: jax.Array, data: dict) -> jax.Array:
    r = _mlp_residual(w, data)
    return r @ r


# every seed of one (n_samples, hidden) is one instance
MLP = Family(_mlp_f, residual=_mlp_residual)


@register("mlp")
def mlp(n_samples: int = 64, hidden: int = 8, seed: int = 0) -> Problem:
    """f(w) = mean_i (W2^T tanh(W1 t_i + b1) + b2 - y_i)^2, a 1-hidden-layer tanh net.

    Fits y = sin(3 t) + noise on t in [-1, 1] (``mlp_data``). w = [W1, b1, W2, b2] flat,
    dim = 3 hidden + 1. Nonconvex (hidden-unit permutations and sign flips are
    symmetries), so f* and x* are unknown. x0: Glorot-normal weights, variance
    2 / (fan_in + fan_out) = 2 / (1 + hidden), zero biases, drawn from the same seed.
    Reference: Glorot & Bengio (2010) for the init; Goodfellow, Bengio & Courville
    (2016), ch. 6.
    """
    hidden = check_int("mlp", "hidden", hidden, 1)
    t, y = mlp_data(n_samples, seed)
    n_samples = t.shape[0]
    # Draw the init after the data, from a stream of its own, so the data do not
    # depend on hidden.
    rng = np.random.default_rng([seed, 1])
    sd = math.sqrt(2.0 / (1 + hidden))
    w1, w2 = rng.normal(0.0, sd, hidden), rng.normal(0.0, sd, hidden)
    x0 = np.concatenate([w1, np.zeros(hidden), w2, [0.0]])
    return Problem(
        name="mlp",
        family=MLP,
        data={"t": t, "y": y},
        x0=x0,
        params={"n_samples": n_samples, "hidden": hidden, "seed": seed},
        reference="Goodfellow, Bengio & Courville 2016, ch. 6; Glorot & Bengio 2010",
    )
