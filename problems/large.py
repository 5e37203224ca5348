"""Problems that scale to n = 10^6: a separable and a banded quadratic, each O(n)
to evaluate and O(n) in memory (no matrix is formed). With extended Rosenbrock and
extended Powell (problems/mgh.py) and a wide ``logistic_regression`` (problems/ml.py)
they make the ``scale`` suite.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from problems.base import Family, Problem, check_int, register


def _check_number(problem: str, name: str, value, low: float, strict: bool) -> float:
    """A finite number above ``low`` (or equal to it unless ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{problem} needs a number {name}, got {name}={value!r}")
    if not (value > low or (value == low and not strict)) or value == np.inf:
        bound = f"> {low:g}" if strict else f">= {low:g}"
        raise ValueError(f"{problem} needs a finite {name} {bound}, got {name}={value}")
    return float(value)


def _separable(x: jax.Array, data: dict) -> jax.Array:
    e = x - 1.0
    return 0.5 * jnp.sum(data["lam"] * e * e)


# every kappa of one n is one instance of this family: a kappa sweep is one program
SEPARABLE_QUADRATIC = Family(_separable, grad=lambda x, d: d["lam"] * (x - 1.0))


@register("separable_quadratic")
def separable_quadratic(n: int = 1000, kappa: float = 1000.0) -> Problem:
    """f(x) = 1/2 sum_i lambda_i (x_i - 1)^2, lambda_i = kappa^((i-1)/(n-1)) from 1 to
    kappa (log-spaced); x0 = 0, f* = 0 at x* = 1. Nocedal & Wright (2006), sec. 5.1
    (CG on a diagonal quadratic)."""
    n = check_int("separable_quadratic", "n", n, 1)
    kappa = _check_number("separable_quadratic", "kappa", kappa, 1.0, strict=False)
    lam = np.logspace(0.0, np.log10(kappa), n)
    return Problem(
        name="separable_quadratic", family=SEPARABLE_QUADRATIC, data={"lam": lam},
        x0=np.zeros(n), f_star=0.0, x_star=np.ones(n),
        params={"n": n, "kappa": kappa}, reference="Nocedal & Wright 2006, sec. 5.1",
    )  # fmt: skip


def _tridiagonal_product(e: jax.Array, diag: jax.Array) -> jax.Array:
    """A e for A = tridiag(-1, diag, -1), without forming A."""
    zero = jnp.zeros((1,), e.dtype)
    left = jnp.concatenate([zero, e[:-1]])
    right = jnp.concatenate([e[1:], zero])
    return diag * e - left - right


def _banded(x: jax.Array, data: dict) -> jax.Array:
    e = x - 1.0
    return 0.5 * e @ _tridiagonal_product(e, data["diag"])


BANDED_QUADRATIC = Family(
    _banded, grad=lambda x, d: _tridiagonal_product(x - 1.0, d["diag"])
)


@register("banded_quadratic")
def banded_quadratic(n: int = 1000, diag: float = 2.1) -> Problem:
    """f(x) = 1/2 (x - 1)' A (x - 1), A = tridiag(-1, diag, -1) (the 1-D Laplacian
    shifted by diag - 2): eigenvalues diag - 2 cos(k pi / (n + 1)), so kappa <
    (diag + 2) / (diag - 2) (41 at diag = 2.1); x0 = 0, f* = 0 at x* = 1.
    Reference: Golub & Van Loan (2013), sec. 4.8 (tridiagonal Toeplitz spectra)."""
    n = check_int("banded_quadratic", "n", n, 1)
    diag = _check_number("banded_quadratic", "diag", diag, 2.0, strict=True)
    return Problem(
        name="banded_quadratic", family=BANDED_QUADRATIC,
        data={"diag": np.asarray(diag)}, x0=np.zeros(n), f_star=0.0,
        x_star=np.ones(n), params={"n": n, "diag": diag},
        reference="Golub & Van Loan 2013, sec. 4.8",
    )  # fmt: skip
