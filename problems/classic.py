"""Rosenbrock and quadratics of chosen conditioning: the problems with known rates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from problems.base import Family, Problem, check_int, register


def _rosenbrock(x: jax.Array, data: tuple) -> jax.Array:
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rosenbrock_residual(x: jax.Array, data: tuple) -> jax.Array:
    """r with f = sum r^2: 10 (x_{i+1} - x_i^2) and 1 - x_i (MGH #1 for n = 2)."""
    return jnp.concatenate([10.0 * (x[1:] - x[:-1] ** 2), 1.0 - x[:-1]])


ROSENBROCK = Family(_rosenbrock, residual=_rosenbrock_residual)


@register("rosenbrock")
def rosenbrock(n: int = 2) -> Problem:
    """f(x) = sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (chained form).

    Rosenbrock (1960); More, Garbow & Hillstrom (1981) problem 1 for n=2, with
    x0 = (-1.2, 1, -1.2, 1, ...), f* = 0 at x* = (1, ..., 1).
    """
    n = check_int("rosenbrock", "n", n, 2)
    x0 = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
    return Problem(
        name="rosenbrock",
        family=ROSENBROCK,
        x0=x0,
        f_star=0.0,
        x_star=np.ones(n),
        params={"n": n},
        reference="Rosenbrock 1960; More, Garbow & Hillstrom 1981, problem 1",
    )


def quadratic_spectrum(dim: int, kappa: float, spectrum: str) -> np.ndarray:
    """The eigenvalues of ``quadratic``: 1 to kappa, evenly in linear or log scale."""
    if spectrum == "log":
        return np.logspace(0.0, np.log10(kappa), dim)
    return np.linspace(1.0, kappa, dim)


def _quadratic(x: jax.Array, data: dict) -> jax.Array:
    e = x - data["x_star"]
    return 0.5 * e @ (data["a"] @ e)


# every (kappa, spectrum, seed) of one dim is one instance of this family: a kappa
# sweep is one program
QUADRATIC = Family(
    _quadratic,
    grad=lambda x, data: data["a"] @ (x - data["x_star"]),
    hess=lambda x, data: data["a"],
)


@register("quadratic")
def quadratic(
    dim: int = 10, kappa: float = 100.0, spectrum: str = "linear", seed: int = 0
) -> Problem:
    """f(x) = 1/2 (x - x*)^T A (x - x*), A = Q diag(lambda) Q^T, lambda in [1, kappa].

    Eigenvalues run from mu = 1 to L = kappa, evenly spaced (``spectrum="linear"``) or
    evenly in log scale (``"log"``); Q is a Haar-random rotation drawn from ``seed``
    (``seed=-1``: no rotation, A diagonal); x* ~ N(0, I) from the same seed; x0 = 0.
    Writing f around x* keeps the gap exact far below machine epsilon times f(x0).
    Reference: Nocedal & Wright (2006), section 3.3 (rates on quadratics).
    """
    dim = check_int("quadratic", "dim", dim, 1)
    seed = check_int("quadratic", "seed", seed, -1)
    if isinstance(kappa, bool) or not isinstance(kappa, int | float):
        raise ValueError(f"quadratic needs a number kappa, got kappa={kappa!r}")
    if not 1 <= kappa < np.inf:
        raise ValueError(f"quadratic needs a finite kappa >= 1, got kappa={kappa}")
    if spectrum not in ("linear", "log"):
        raise ValueError(f"quadratic spectrum is 'linear' or 'log', got {spectrum!r}")
    kappa = float(kappa)
    eig = quadratic_spectrum(dim, kappa, spectrum)
    rng = np.random.default_rng(seed if seed >= 0 else 0)
    if seed >= 0:
        # QR of a Gaussian matrix, signs fixed so Q is Haar distributed (Mezzadri 2007).
        q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
        q = q * np.sign(np.diag(r))
    else:
        q = np.eye(dim)
    a = (q * eig) @ q.T
    a = 0.5 * (a + a.T)
    x_star = rng.standard_normal(dim)
    return Problem(
        name="quadratic",
        family=QUADRATIC,
        data={"a": a, "x_star": x_star},
        x0=np.zeros(dim),
        f_star=0.0,
        x_star=x_star,
        params={"dim": dim, "kappa": kappa, "spectrum": spectrum, "seed": seed},
        reference="Nocedal & Wright 2006, sec. 3.3",
        mu=float(eig.min()),
        L=float(eig.max()),
    )
