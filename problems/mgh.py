"""The More, Garbow & Hillstrom (1981) test set: 35 nonlinear least-squares problems.

Reference: J. J. More, B. S. Garbow, K. E. Hillstrom, "Testing unconstrained
optimization software", ACM Trans. Math. Softw. 7(1):17-41, 1981 (here "MGH").

Every problem is f(x) = sum_i r_i(x)^2 (no factor 1/2) with the residual vector r kept
on ``Problem.residual`` for least-squares methods. x0 is the paper's standard starting
point. ``f_star`` is the paper's minimum value for the chosen n, m; where the paper
lists several minima, f_star is the global one and the others are in the docstring.
Where the paper prints f* to six digits, f_star carries more: the printed value refined
by our own Levenberg-Marquardt + Newton solve in float64, rounded down to 12 significant
digits (fewer where float64 evaluation noise at the minimizer is larger: meyer, watson
n=12). It agrees with every printed digit (tests/test_mgh.py checks that) and keeps the
gap f - f_star from going negative or flooring at 1e-6 relative. ``f_star`` is None
where the paper gives no value for the chosen parameters. ``x_star`` is set where it
is known exactly, or where the paper gives it and we refined it to full precision
(powell_badly_scaled, jennrich_sampson); problems whose minimizers form a set (e.g.
the linear rank-1 functions) leave it None.

One disagreement with the paper: for chebyquad with m = n = 10 the printed minimum
6.50395...e-3 is only a local minimum; f_star is the lower 4.77271369637e-3 (see the
chebyquad docstring).

Arrays are built inside the constructors, never at import, because float64 is
enabled by the caller after import (see DESIGN.md, section 7).

#1 Rosenbrock lives in problems/classic.py as "rosenbrock"; it is listed in MGH_NAMES.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from problems.base import Problem, check_int, register

# All 35 problem names in paper order (#1 .. #35).
MGH_NAMES: tuple[str, ...] = (
    "rosenbrock",
    "freudenstein_roth",
    "powell_badly_scaled",
    "brown_badly_scaled",
    "beale",
    "jennrich_sampson",
    "helical_valley",
    "bard",
    "gaussian",
    "meyer",
    "gulf",
    "box3d",
    "powell_singular",
    "wood",
    "kowalik_osborne",
    "brown_dennis",
    "osborne1",
    "biggs_exp6",
    "osborne2",
    "watson",
    "extended_rosenbrock",
    "extended_powell",
    "penalty1",
    "penalty2",
    "variably_dimensioned",
    "trigonometric",
    "brown_almost_linear",
    "discrete_boundary_value",
    "discrete_integral_equation",
    "broyden_tridiagonal",
    "broyden_banded",
    "linear_full_rank",
    "linear_rank1",
    "linear_rank1_zero_cols",
    "chebyquad",
)

Residual = Callable[[jax.Array], jax.Array]


def _least_squares(
    name: str,
    number: int,
    residual: Residual,
    x0: Any,
    f_star: float | None,
    x_star: Any = None,
    params: dict[str, Any] | None = None,
) -> Problem:
    """Wrap a residual r(x) into the Problem f(x) = sum r(x)^2."""

    def f(x: jax.Array) -> jax.Array:
        r = residual(x)
        return jnp.sum(r * r)

    return Problem(
        name=name,
        f=f,
        x0=np.asarray(x0, dtype=float),
        f_star=f_star,
        x_star=None if x_star is None else np.asarray(x_star, dtype=float),
        residual=residual,
        params=dict(params or {}),
        reference=f"More, Garbow & Hillstrom 1981, problem #{number}",
    )


def _m_at_least_n(problem: str, m: int, n: int) -> None:
    if m < n:
        raise ValueError(f"{problem} needs m >= n, got m={m} < n={n}")


# ---------------------------------------------------------------------------------
# Fixed-size problems #2 .. #19
# ---------------------------------------------------------------------------------


@register("freudenstein_roth")
def freudenstein_roth() -> Problem:
    """r = (-13 + x1 + ((5 - x2) x2 - 2) x2, -29 + x1 + ((x2 + 1) x2 - 14) x2).

    More, Garbow & Hillstrom (1981) #2; n = m = 2, x0 = (0.5, -2).
    f* = 0 at (5, 4); local minimum f = 48.9842... at (11.41..., -0.8968...).
    """

    def r(x: jax.Array) -> jax.Array:
        x1, x2 = x[0], x[1]
        return jnp.stack(
            [
                -13.0 + x1 + ((5.0 - x2) * x2 - 2.0) * x2,
                -29.0 + x1 + ((x2 + 1.0) * x2 - 14.0) * x2,
            ]
        )

    return _least_squares("freudenstein_roth", 2, r, [0.5, -2.0], 0.0, [5.0, 4.0])


@register("powell_badly_scaled")
def powell_badly_scaled() -> Problem:
    """r = (1e4 x1 x2 - 1, exp(-x1) + exp(-x2) - 1.0001).

    More, Garbow & Hillstrom (1981) #3; n = m = 2, x0 = (0, 1).
    f* = 0 at (1.098...e-5, 9.106...) (x_star: that root refined by Newton).
    """

    def r(x: jax.Array) -> jax.Array:
        x1, x2 = x[0], x[1]
        return jnp.stack([1.0e4 * x1 * x2 - 1.0, jnp.exp(-x1) + jnp.exp(-x2) - 1.0001])

    x_star = [1.0981593296998175e-05, 9.106146739866524]
    return _least_squares("powell_badly_scaled", 3, r, [0.0, 1.0], 0.0, x_star)


@register("brown_badly_scaled")
def brown_badly_scaled() -> Problem:
    """r = (x1 - 1e6, x2 - 2e-6, x1 x2 - 2).

    More, Garbow & Hillstrom (1981) #4; n = 2, m = 3, x0 = (1, 1);
    f* = 0 at (1e6, 2e-6).
    """

    def r(x: jax.Array) -> jax.Array:
        x1, x2 = x[0], x[1]
        return jnp.stack([x1 - 1.0e6, x2 - 2.0e-6, x1 * x2 - 2.0])

    return _least_squares("brown_badly_scaled", 4, r, [1.0, 1.0], 0.0, [1.0e6, 2.0e-6])


@register("beale")
def beale() -> Problem:
    """r_i = y_i - x1 (1 - x2^i), y = (1.5, 2.25, 2.625), i = 1..3.

    More, Garbow & Hillstrom (1981) #5; n = 2, m = 3, x0 = (1, 1);
    f* = 0 at (3, 0.5).
    """
    y_np = np.array([1.5, 2.25, 2.625])
    i_np = np.array([1.0, 2.0, 3.0])
    y, i = jnp.asarray(y_np), jnp.asarray(i_np)

    def r(x: jax.Array) -> jax.Array:
        return y - x[0] * (1.0 - x[1] ** i)

    return _least_squares("beale", 5, r, [1.0, 1.0], 0.0, [3.0, 0.5])


@register("jennrich_sampson")
def jennrich_sampson(m: int = 10) -> Problem:
    """r_i = 2 + 2i - (exp(i x1) + exp(i x2)), i = 1..m.

    More, Garbow & Hillstrom (1981) #6; n = 2, m >= n (default 10), x0 = (0.3, 0.4).
    f* = 124.362... at x1 = x2 = 0.2578... for m = 10 (refined: 124.362182355);
    f_star is None for other m.
    """
    m = check_int("jennrich_sampson", "m", m, 2)
    i = jnp.asarray(np.arange(1.0, m + 1.0))

    def r(x: jax.Array) -> jax.Array:
        return 2.0 + 2.0 * i - (jnp.exp(i * x[0]) + jnp.exp(i * x[1]))

    if m == 10:
        f_star, x_star = 124.362182355, [0.2578252136703641] * 2
    else:
        f_star, x_star = None, None
    return _least_squares(
        "jennrich_sampson", 6, r, [0.3, 0.4], f_star, x_star, {"m": m}
    )


@register("helical_valley")
def helical_valley() -> Problem:
    """r = (10 (x3 - 10 theta), 10 (sqrt(x1^2 + x2^2) - 1), x3).

    theta = arctan(x2 / x1) / (2 pi), plus 1/2 when x1 < 0 (and theta = sign(x2) / 4
    at x1 = 0, as in MINPACK). More, Garbow & Hillstrom (1981) #7; n = m = 3,
    x0 = (-1, 0, 0); f* = 0 at (1, 0, 0).
    """

    def r(x: jax.Array) -> jax.Array:
        x1, x2, x3 = x[0], x[1], x[2]
        safe_x1 = jnp.where(x1 == 0.0, 1.0, x1)
        theta = jnp.arctan(x2 / safe_x1) / (2.0 * math.pi) + jnp.where(
            x1 < 0.0, 0.5, 0.0
        )
        theta = jnp.where(x1 == 0.0, 0.25 * jnp.sign(x2), theta)
        return jnp.stack(
            [
                10.0 * (x3 - 10.0 * theta),
                10.0 * (jnp.sqrt(x1 * x1 + x2 * x2) - 1.0),
                x3,
            ]
        )

    return _least_squares(
        "helical_valley", 7, r, [-1.0, 0.0, 0.0], 0.0, [1.0, 0.0, 0.0]
    )


@register("bard")
def bard() -> Problem:
    """r_i = y_i - (x1 + u_i / (v_i x2 + w_i x3)), u = i, v = 16 - i, w = min(u, v).

    More, Garbow & Hillstrom (1981) #8; n = 3, m = 15, x0 = (1, 1, 1).
    f* = 8.21487...e-3 (refined: 8.21487730657e-3); also f = 17.4286... at
    (0.8406..., -inf, -inf).
    """
    y_np = np.array(
        [0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58,
         0.73, 0.96, 1.34, 2.10, 4.39]
    )  # fmt: skip
    u_np = np.arange(1.0, 16.0)
    v_np = 16.0 - u_np
    w_np = np.minimum(u_np, v_np)
    y, u, v, w = (jnp.asarray(a) for a in (y_np, u_np, v_np, w_np))

    def r(x: jax.Array) -> jax.Array:
        return y - (x[0] + u / (v * x[1] + w * x[2]))

    return _least_squares("bard", 8, r, [1.0, 1.0, 1.0], 8.21487730657e-3)


@register("gaussian")
def gaussian() -> Problem:
    """r_i = x1 exp(-x2 (t_i - x3)^2 / 2) - y_i, t_i = (8 - i) / 2, i = 1..15.

    More, Garbow & Hillstrom (1981) #9; n = 3, m = 15, x0 = (0.4, 1, 0).
    f* = 1.12793...e-8 (refined: 1.12793276961e-8).
    """
    half = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521])
    y_np = np.concatenate([half, [0.3989], half[::-1]])
    t_np = (8.0 - np.arange(1.0, 16.0)) / 2.0
    y, t = jnp.asarray(y_np), jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        return x[0] * jnp.exp(-0.5 * x[1] * (t - x[2]) ** 2) - y

    return _least_squares("gaussian", 9, r, [0.4, 1.0, 0.0], 1.12793276961e-8)


@register("meyer")
def meyer() -> Problem:
    """r_i = x1 exp(x2 / (t_i + x3)) - y_i, t_i = 45 + 5 i, i = 1..16.

    More, Garbow & Hillstrom (1981) #10; n = 3, m = 16, x0 = (0.02, 4000, 250).
    f* = 87.9458... (refined: 87.945855170).
    """
    y_np = np.array(
        [34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0,
         8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0]
    )  # fmt: skip
    t_np = 45.0 + 5.0 * np.arange(1.0, 17.0)
    y, t = jnp.asarray(y_np), jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        return x[0] * jnp.exp(x[1] / (t + x[2])) - y

    return _least_squares("meyer", 10, r, [0.02, 4000.0, 250.0], 87.945855170)


@register("gulf")
def gulf(m: int = 99) -> Problem:
    """r_i = exp(-|y_i - x2|^x3 / x1) - t_i, t_i = i/100, y_i = 25 + (-50 ln t_i)^(2/3).

    More, Garbow & Hillstrom (1981) #11 (the paper's "y_i mi x2" is a misprint for
    y_i - x2, as in its Fortran); n = 3, 3 <= m <= 100 (default 99, as in the
    MINPACK test driver), x0 = (5, 2.5, 0.15); f* = 0 at (50, 25, 1.5) for every m.
    """
    m = check_int("gulf", "m", m, 3, 100)
    t_np = np.arange(1.0, m + 1.0) / 100.0
    y_np = 25.0 + (-50.0 * np.log(t_np)) ** (2.0 / 3.0)
    t, y = jnp.asarray(t_np), jnp.asarray(y_np)

    def r(x: jax.Array) -> jax.Array:
        return jnp.exp(-(jnp.abs(y - x[1]) ** x[2]) / x[0]) - t

    return _least_squares(
        "gulf", 11, r, [5.0, 2.5, 0.15], 0.0, [50.0, 25.0, 1.5], {"m": m}
    )


@register("box3d")
def box3d(m: int = 10) -> Problem:
    """r_i = exp(-t_i x1) - exp(-t_i x2) - x3 (exp(-t_i) - exp(-10 t_i)), t_i = i/10.

    More, Garbow & Hillstrom (1981) #12; n = 3, m >= n (default 10),
    x0 = (0, 10, 20); f* = 0 at (1, 10, 1), also at (10, 1, -1) and wherever
    x1 = x2 and x3 = 0.
    """
    m = check_int("box3d", "m", m, 3)
    t = jnp.asarray(0.1 * np.arange(1.0, m + 1.0))

    def r(x: jax.Array) -> jax.Array:
        return (
            jnp.exp(-t * x[0])
            - jnp.exp(-t * x[1])
            - x[2] * (jnp.exp(-t) - jnp.exp(-10.0 * t))
        )

    return _least_squares(
        "box3d", 12, r, [0.0, 10.0, 20.0], 0.0, [1.0, 10.0, 1.0], {"m": m}
    )


@register("powell_singular")
def powell_singular() -> Problem:
    """r = (x1 + 10 x2, 5^(1/2) (x3 - x4), (x2 - 2 x3)^2, 10^(1/2) (x1 - x4)^2).

    More, Garbow & Hillstrom (1981) #13; n = m = 4, x0 = (3, -1, 0, 1);
    f* = 0 at the origin (singular Hessian there).
    """

    def r(x: jax.Array) -> jax.Array:
        return _powell_block(x)

    return _least_squares(
        "powell_singular", 13, r, [3.0, -1.0, 0.0, 1.0], 0.0, np.zeros(4)
    )


def _powell_block(x: jax.Array) -> jax.Array:
    """Powell's singular residuals for x of length 4k, stacked block by block."""
    b = x.reshape(-1, 4)
    x1, x2, x3, x4 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    out = jnp.stack(
        [
            x1 + 10.0 * x2,
            math.sqrt(5.0) * (x3 - x4),
            (x2 - 2.0 * x3) ** 2,
            math.sqrt(10.0) * (x1 - x4) ** 2,
        ],
        axis=1,
    )
    return out.reshape(-1)


@register("wood")
def wood() -> Problem:
    """r = (10 (x2 - x1^2), 1 - x1, 90^.5 (x4 - x3^2), 1 - x3, 10^.5 (x2 + x4 - 2), r6).

    r6 = 10^(-1/2) (x2 - x4). More, Garbow & Hillstrom (1981) #14;
    n = 4, m = 6, x0 = (-3, -1, -3, -1); f* = 0 at (1, 1, 1, 1).
    """

    def r(x: jax.Array) -> jax.Array:
        x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
        return jnp.stack(
            [
                10.0 * (x2 - x1 * x1),
                1.0 - x1,
                math.sqrt(90.0) * (x4 - x3 * x3),
                1.0 - x3,
                math.sqrt(10.0) * (x2 + x4 - 2.0),
                (x2 - x4) / math.sqrt(10.0),
            ]
        )

    return _least_squares("wood", 14, r, [-3.0, -1.0, -3.0, -1.0], 0.0, np.ones(4))


@register("kowalik_osborne")
def kowalik_osborne() -> Problem:
    """r_i = y_i - x1 (u_i^2 + u_i x2) / (u_i^2 + u_i x3 + x4), i = 1..11.

    More, Garbow & Hillstrom (1981) #15; n = 4, m = 11,
    x0 = (0.25, 0.39, 0.415, 0.39). f* = 3.07505...e-4 (refined:
    3.07505603849e-4); also f = 1.02734...e-3 at (+inf, -14.07..., -inf, -inf).
    """
    y_np = np.array(
        [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342,
         0.0323, 0.0235, 0.0246]
    )  # fmt: skip
    u_np = np.array(
        [4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625]
    )
    y, u = jnp.asarray(y_np), jnp.asarray(u_np)

    def r(x: jax.Array) -> jax.Array:
        return y - x[0] * (u * u + u * x[1]) / (u * u + u * x[2] + x[3])

    return _least_squares(
        "kowalik_osborne", 15, r, [0.25, 0.39, 0.415, 0.39], 3.07505603849e-4
    )


@register("brown_dennis")
def brown_dennis(m: int = 20) -> Problem:
    """r_i = (x1 + t_i x2 - exp(t_i))^2 + (x3 + x4 sin t_i - cos t_i)^2, t_i = i/5.

    More, Garbow & Hillstrom (1981) #16; n = 4, m >= n (default 20),
    x0 = (25, 5, -5, -1). f* = 85822.2... for m = 20 (refined: 85822.2016263);
    f_star is None for other m.
    """
    m = check_int("brown_dennis", "m", m, 4)
    t_np = np.arange(1.0, m + 1.0) / 5.0
    t, et = jnp.asarray(t_np), jnp.asarray(np.exp(t_np))
    st, ct = jnp.asarray(np.sin(t_np)), jnp.asarray(np.cos(t_np))

    def r(x: jax.Array) -> jax.Array:
        return (x[0] + t * x[1] - et) ** 2 + (x[2] + x[3] * st - ct) ** 2

    f_star = 85822.2016263 if m == 20 else None
    return _least_squares(
        "brown_dennis", 16, r, [25.0, 5.0, -5.0, -1.0], f_star, None, {"m": m}
    )


@register("osborne1")
def osborne1() -> Problem:
    """r_i = y_i - (x1 + x2 exp(-t_i x4) + x3 exp(-t_i x5)), t_i = 10 (i - 1).

    More, Garbow & Hillstrom (1981) #17; n = 5, m = 33,
    x0 = (0.5, 1.5, -1, 0.01, 0.02). f* = 5.46489...e-5 (refined: 5.46489469748e-5).
    """
    y_np = np.array(
        [0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
         0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522,
         0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
         0.414, 0.411, 0.406]
    )  # fmt: skip
    t_np = 10.0 * np.arange(33.0)
    y, t = jnp.asarray(y_np), jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        return y - (x[0] + x[1] * jnp.exp(-t * x[3]) + x[2] * jnp.exp(-t * x[4]))

    return _least_squares(
        "osborne1", 17, r, [0.5, 1.5, -1.0, 0.01, 0.02], 5.46489469748e-5
    )


@register("biggs_exp6")
def biggs_exp6(m: int = 13) -> Problem:
    """r_i = x3 e^(-t_i x1) - x4 e^(-t_i x2) + x6 e^(-t_i x5) - y_i, t_i = i/10.

    y_i = e^(-t_i) - 5 e^(-10 t_i) + 3 e^(-4 t_i). More, Garbow & Hillstrom (1981)
    #18; n = 6, m >= n (default 13), x0 = (1, 2, 1, 1, 1, 1). f* = 0 at
    (1, 10, 1, 5, 4, 3) for every m; for m = 13 the paper also lists the local
    minimum f = 5.65565...e-3, where most methods stop.
    """
    m = check_int("biggs_exp6", "m", m, 6)
    t_np = 0.1 * np.arange(1.0, m + 1.0)
    y_np = np.exp(-t_np) - 5.0 * np.exp(-10.0 * t_np) + 3.0 * np.exp(-4.0 * t_np)
    t, y = jnp.asarray(t_np), jnp.asarray(y_np)

    def r(x: jax.Array) -> jax.Array:
        return (
            x[2] * jnp.exp(-t * x[0])
            - x[3] * jnp.exp(-t * x[1])
            + x[5] * jnp.exp(-t * x[4])
            - y
        )

    return _least_squares(
        "biggs_exp6",
        18,
        r,
        [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
        0.0,
        [1.0, 10.0, 1.0, 5.0, 4.0, 3.0],
        {"m": m},
    )


@register("osborne2")
def osborne2() -> Problem:
    """r_i = y_i - (x1 e^(-t x5) + sum_{k=2..4} x_k e^(-(t - x_{k+7})^2 x_{k+4})).

    t = t_i = (i - 1)/10. More, Garbow & Hillstrom (1981) #19; n = 11, m = 65,
    x0 = (1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5).
    f* = 4.01377...e-2 (refined: 4.01377362935e-2).
    """
    y_np = np.array(
        [1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725,
         0.746, 0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724,
         0.649, 0.649, 0.694, 0.644, 0.624, 0.661, 0.612, 0.558, 0.533, 0.495,
         0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429,
         0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632,
         0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581,
         0.428, 0.292, 0.162, 0.098, 0.054]
    )  # fmt: skip
    t_np = np.arange(65.0) / 10.0
    y, t = jnp.asarray(y_np), jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        model = (
            x[0] * jnp.exp(-t * x[4])
            + x[1] * jnp.exp(-((t - x[8]) ** 2) * x[5])
            + x[2] * jnp.exp(-((t - x[9]) ** 2) * x[6])
            + x[3] * jnp.exp(-((t - x[10]) ** 2) * x[7])
        )
        return y - model

    x0 = [1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5]
    return _least_squares("osborne2", 19, r, x0, 4.01377362935e-2)


# ---------------------------------------------------------------------------------
# Variable-size problems #20 .. #35
# ---------------------------------------------------------------------------------

# Published minima for the sizes the paper lists (refined; see the module docstring).
_WATSON_F_STAR = {6: 2.28767005355e-3, 9: 1.39976013809e-6, 12: 4.72238110e-10}
_PENALTY1_F_STAR = {4: 2.24997750089e-5, 10: 7.08765146709e-5}
_PENALTY2_F_STAR = {4: 9.37629300735e-6, 10: 2.93660537456e-4}
# chebyquad m = n = 10: the paper's 6.50395...e-3 is a local minimum only; f_star is
# the lower minimum 4.77271369637e-3 that we found (see the chebyquad docstring).
_CHEBYQUAD_F_STAR = {8: 3.51687372567e-3, 10: 4.77271369637e-3}


@register("watson")
def watson(n: int = 6) -> Problem:
    """r_i = sum_j (j-1) x_j t_i^(j-2) - (sum_j x_j t_i^(j-1))^2 - 1; r_30, r_31 below.

    t_i = i/29 for i = 1..29; r_30 = x1, r_31 = x2 - x1^2 - 1. More, Garbow &
    Hillstrom (1981) #20; 2 <= n <= 31 (default 6), m = 31, x0 = 0.
    f* = 2.28767...e-3 (n = 6), 1.39976...e-6 (n = 9), 4.72238...e-10 (n = 12);
    None for other n.
    """
    n = check_int("watson", "n", n, 2, 31)
    t = np.arange(1.0, 30.0) / 29.0
    j = np.arange(n, dtype=float)
    powers = t[:, None] ** j[None, :]  # t_i^(j-1), j = 1..n
    # (j-1) t_i^(j-2); column j = 1 is zero (written so that 0 * t^-1 never occurs).
    deriv = np.zeros_like(powers)
    deriv[:, 1:] = j[None, 1:] * powers[:, :-1]
    p, d = jnp.asarray(powers), jnp.asarray(deriv)

    def r(x: jax.Array) -> jax.Array:
        s = p @ x
        head = d @ x - s * s - 1.0
        return jnp.concatenate([head, jnp.stack([x[0], x[1] - x[0] ** 2 - 1.0])])

    return _least_squares(
        "watson", 20, r, np.zeros(n), _WATSON_F_STAR.get(n), None, {"n": n}
    )


@register("extended_rosenbrock")
def extended_rosenbrock(n: int = 10) -> Problem:
    """r_{2i-1} = 10 (x_{2i} - x_{2i-1}^2), r_{2i} = 1 - x_{2i-1}.

    More, Garbow & Hillstrom (1981) #21; n even (default 10), m = n,
    x0 = (-1.2, 1, -1.2, 1, ...); f* = 0 at (1, ..., 1). (Uncoupled 2-d blocks,
    unlike the chained "rosenbrock" in classic.py.)
    """
    n = check_int("extended_rosenbrock", "n", n, 2, multiple=2)

    def r(x: jax.Array) -> jax.Array:
        odd, even = x[0::2], x[1::2]
        return jnp.stack([10.0 * (even - odd * odd), 1.0 - odd], axis=1).reshape(-1)

    x0 = np.tile([-1.2, 1.0], n // 2)
    return _least_squares("extended_rosenbrock", 21, r, x0, 0.0, np.ones(n), {"n": n})


@register("extended_powell")
def extended_powell(n: int = 12) -> Problem:
    """Powell singular residuals (#13) on each block (x_{4i-3}, ..., x_{4i}).

    More, Garbow & Hillstrom (1981) #22; n a multiple of 4 (default 12), m = n,
    x0 = (3, -1, 0, 1, 3, -1, 0, 1, ...); f* = 0 at the origin.
    """
    n = check_int("extended_powell", "n", n, 4, multiple=4)
    x0 = np.tile([3.0, -1.0, 0.0, 1.0], n // 4)
    return _least_squares(
        "extended_powell", 22, _powell_block, x0, 0.0, np.zeros(n), {"n": n}
    )


@register("penalty1")
def penalty1(n: int = 10) -> Problem:
    """r_i = a^(1/2) (x_i - 1), i = 1..n; r_{n+1} = sum_j x_j^2 - 1/4; a = 1e-5.

    More, Garbow & Hillstrom (1981) #23; n >= 1 (default 10), m = n + 1,
    x0 = (1, 2, ..., n). f* = 2.24997...e-5 (n = 4), 7.08765...e-5 (n = 10);
    None for other n.
    """
    n = check_int("penalty1", "n", n, 1)
    sqrt_a = math.sqrt(1.0e-5)

    def r(x: jax.Array) -> jax.Array:
        return jnp.concatenate([sqrt_a * (x - 1.0), jnp.stack([jnp.sum(x * x) - 0.25])])

    x0 = np.arange(1.0, n + 1.0)
    return _least_squares(
        "penalty1", 23, r, x0, _PENALTY1_F_STAR.get(n), None, {"n": n}
    )


@register("penalty2")
def penalty2(n: int = 10) -> Problem:
    """r_1 = x1 - 0.2, r_i = a^.5 (e^(x_i/10) + e^(x_{i-1}/10) - y_i) (2 <= i <= n), ...

    r_i = a^(1/2) (e^(x_{i-n+1}/10) - e^(-1/10)), n < i < 2n;
    r_2n = sum_j (n - j + 1) x_j^2 - 1; a = 1e-5, y_i = e^(i/10) + e^((i-1)/10).
    More, Garbow & Hillstrom (1981) #24; n >= 1 (default 10), m = 2n,
    x0 = (1/2, ..., 1/2). f* = 9.37629...e-6 (n = 4), 2.93660...e-4 (n = 10);
    None for other n.
    """
    n = check_int("penalty2", "n", n, 1)
    sqrt_a = math.sqrt(1.0e-5)
    i_np = np.arange(2.0, n + 1.0)
    y = jnp.asarray(np.exp(i_np / 10.0) + np.exp((i_np - 1.0) / 10.0))
    weights = jnp.asarray(np.arange(n, 0, -1, dtype=float))  # n - j + 1
    e_tenth = math.exp(-0.1)

    def r(x: jax.Array) -> jax.Array:
        e = jnp.exp(x / 10.0)
        return jnp.concatenate(
            [
                jnp.stack([x[0] - 0.2]),
                sqrt_a * (e[1:] + e[:-1] - y),
                sqrt_a * (e[1:] - e_tenth),
                jnp.stack([jnp.sum(weights * x * x) - 1.0]),
            ]
        )

    return _least_squares(
        "penalty2", 24, r, np.full(n, 0.5), _PENALTY2_F_STAR.get(n), None, {"n": n}
    )


@register("variably_dimensioned")
def variably_dimensioned(n: int = 10) -> Problem:
    """r_i = x_i - 1 (i <= n), r_{n+1} = sum_j j (x_j - 1), r_{n+2} = r_{n+1}^2.

    More, Garbow & Hillstrom (1981) #25; n >= 1 (default 10), m = n + 2,
    x0 = (1 - j/n); f* = 0 at (1, ..., 1).
    """
    n = check_int("variably_dimensioned", "n", n, 1)
    j = jnp.asarray(np.arange(1.0, n + 1.0))

    def r(x: jax.Array) -> jax.Array:
        s = jnp.sum(j * (x - 1.0))
        return jnp.concatenate([x - 1.0, jnp.stack([s, s * s])])

    x0 = 1.0 - np.arange(1.0, n + 1.0) / n
    return _least_squares("variably_dimensioned", 25, r, x0, 0.0, np.ones(n), {"n": n})


@register("trigonometric")
def trigonometric(n: int = 10) -> Problem:
    """r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i, i = 1..n.

    More, Garbow & Hillstrom (1981) #26; n >= 1 (default 10), m = n,
    x0 = (1/n, ..., 1/n); f* = 0. (For n = 10 most methods stop at a local
    minimum f = 2.79506...e-5.)
    """
    n = check_int("trigonometric", "n", n, 1)
    i = jnp.asarray(np.arange(1.0, n + 1.0))

    def r(x: jax.Array) -> jax.Array:
        c = jnp.cos(x)
        return n - jnp.sum(c) + i * (1.0 - c) - jnp.sin(x)

    return _least_squares(
        "trigonometric", 26, r, np.full(n, 1.0 / n), 0.0, None, {"n": n}
    )


@register("brown_almost_linear")
def brown_almost_linear(n: int = 10) -> Problem:
    """r_i = x_i + sum_j x_j - (n + 1), 1 <= i < n; r_n = prod_j x_j - 1.

    More, Garbow & Hillstrom (1981) #27; n >= 1 (default 10), m = n,
    x0 = (1/2, ..., 1/2). f* = 0 at (a, ..., a, a^(1-n)) with
    n a^n - (n + 1) a^(n-1) + 1 = 0, in particular at (1, ..., 1); also f = 1 at
    (0, ..., 0, n + 1).
    """
    n = check_int("brown_almost_linear", "n", n, 1)

    def r(x: jax.Array) -> jax.Array:
        head = x[:-1] + jnp.sum(x) - (n + 1.0)
        return jnp.concatenate([head, jnp.stack([jnp.prod(x) - 1.0])])

    return _least_squares(
        "brown_almost_linear", 27, r, np.full(n, 0.5), 0.0, np.ones(n), {"n": n}
    )


@register("discrete_boundary_value")
def discrete_boundary_value(n: int = 10) -> Problem:
    """r_i = 2 x_i - x_{i-1} - x_{i+1} + h^2 (x_i + t_i + 1)^3 / 2, x_0 = x_{n+1} = 0.

    h = 1/(n + 1), t_i = i h. More, Garbow & Hillstrom (1981) #28; n >= 1
    (default 10), m = n, x0 = (t_j (t_j - 1)); f* = 0.
    """
    n = check_int("discrete_boundary_value", "n", n, 1)
    h = 1.0 / (n + 1.0)
    t_np = h * np.arange(1.0, n + 1.0)
    t = jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        xp = jnp.pad(x, 1)
        return 2.0 * x - xp[:-2] - xp[2:] + 0.5 * h * h * (x + t + 1.0) ** 3

    return _least_squares(
        "discrete_boundary_value", 28, r, t_np * (t_np - 1.0), 0.0, None, {"n": n}
    )


@register("discrete_integral_equation")
def discrete_integral_equation(n: int = 10) -> Problem:
    """r_i = x_i + h [(1 - t_i) sum_{j<=i} t_j c_j + t_i sum_{j>i} (1 - t_j) c_j] / 2.

    c_j = (x_j + t_j + 1)^3, h = 1/(n + 1), t_i = i h. More, Garbow & Hillstrom
    (1981) #29; n >= 1 (default 10), m = n, x0 = (t_j (t_j - 1)); f* = 0.
    """
    n = check_int("discrete_integral_equation", "n", n, 1)
    h = 1.0 / (n + 1.0)
    t_np = h * np.arange(1.0, n + 1.0)
    t = jnp.asarray(t_np)

    def r(x: jax.Array) -> jax.Array:
        c = (x + t + 1.0) ** 3
        lower = jnp.cumsum(t * c)  # sum_{j <= i} t_j c_j
        b = (1.0 - t) * c
        upper = jnp.sum(b) - jnp.cumsum(b)  # sum_{j > i} (1 - t_j) c_j
        return x + 0.5 * h * ((1.0 - t) * lower + t * upper)

    return _least_squares(
        "discrete_integral_equation", 29, r, t_np * (t_np - 1.0), 0.0, None, {"n": n}
    )


@register("broyden_tridiagonal")
def broyden_tridiagonal(n: int = 10) -> Problem:
    """r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1, x_0 = x_{n+1} = 0.

    More, Garbow & Hillstrom (1981) #30; n >= 1 (default 10), m = n,
    x0 = (-1, ..., -1); f* = 0.
    """
    n = check_int("broyden_tridiagonal", "n", n, 1)

    def r(x: jax.Array) -> jax.Array:
        xp = jnp.pad(x, 1)
        return (3.0 - 2.0 * x) * x - xp[:-2] - 2.0 * xp[2:] + 1.0

    return _least_squares(
        "broyden_tridiagonal", 30, r, -np.ones(n), 0.0, None, {"n": n}
    )


@register("broyden_banded")
def broyden_banded(n: int = 10) -> Problem:
    """r_i = x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j).

    J_i = {j != i : max(1, i - 5) <= j <= min(n, i + 1)} (ml = 5, mu = 1).
    More, Garbow & Hillstrom (1981) #31; n >= 1 (default 10), m = n,
    x0 = (-1, ..., -1); f* = 0.
    """
    n = check_int("broyden_banded", "n", n, 1)
    ml, mu = 5, 1

    def r(x: jax.Array) -> jax.Array:
        g = jnp.pad(x * (1.0 + x), (ml, mu))
        # g[ml + k : ml + k + n][i] = x_{i+k} (1 + x_{i+k}), zero outside 1..n.
        band = sum(g[ml + k : ml + k + n] for k in range(-ml, mu + 1) if k != 0)
        return x * (2.0 + 5.0 * x * x) + 1.0 - band

    return _least_squares("broyden_banded", 31, r, -np.ones(n), 0.0, None, {"n": n})


def _linear_sizes(problem: str, n: Any, m: Any, n_min: int) -> tuple[int, int]:
    n = check_int(problem, "n", n, n_min)
    m = check_int(problem, "m", m, 1)
    _m_at_least_n(problem, m, n)
    return n, m


@register("linear_full_rank")
def linear_full_rank(n: int = 5, m: int = 10) -> Problem:
    """r_i = x_i - (2/m) sum_j x_j - 1 (i <= n), r_i = -(2/m) sum_j x_j - 1 (i > n).

    More, Garbow & Hillstrom (1981) #32; m >= n (defaults n = 5, m = 10, as in the
    MINPACK-1 tests), x0 = (1, ..., 1); f* = m - n at (-1, ..., -1).
    """
    n, m = _linear_sizes("linear_full_rank", n, m, 1)

    def r(x: jax.Array) -> jax.Array:
        s = 2.0 / m * jnp.sum(x)
        return jnp.concatenate([x - s - 1.0, jnp.full(m - n, -s - 1.0)])

    return _least_squares(
        "linear_full_rank", 32, r, np.ones(n), float(m - n), -np.ones(n),
        {"n": n, "m": m},
    )  # fmt: skip


@register("linear_rank1")
def linear_rank1(n: int = 5, m: int = 10) -> Problem:
    """r_i = i (sum_j j x_j) - 1, i = 1..m.

    More, Garbow & Hillstrom (1981) #33; m >= n (defaults n = 5, m = 10),
    x0 = (1, ..., 1); f* = m (m - 1) / (2 (2m + 1)) wherever
    sum_j j x_j = 3 / (2m + 1) (a hyperplane, so x_star is None).
    """
    n, m = _linear_sizes("linear_rank1", n, m, 1)
    i = jnp.asarray(np.arange(1.0, m + 1.0))
    j = jnp.asarray(np.arange(1.0, n + 1.0))

    def r(x: jax.Array) -> jax.Array:
        return i * jnp.sum(j * x) - 1.0

    f_star = m * (m - 1.0) / (2.0 * (2.0 * m + 1.0))
    return _least_squares(
        "linear_rank1", 33, r, np.ones(n), f_star, None, {"n": n, "m": m}
    )


@register("linear_rank1_zero_cols")
def linear_rank1_zero_cols(n: int = 5, m: int = 10) -> Problem:
    """r_1 = r_m = -1, r_i = (i - 1) (sum_{j=2}^{n-1} j x_j) - 1 for 2 <= i <= m - 1.

    More, Garbow & Hillstrom (1981) #34; n >= 3, m >= n (defaults n = 5, m = 10),
    x0 = (1, ..., 1); f* = (m^2 + 3m - 6) / (2 (2m - 3)) wherever
    sum_{j=2}^{n-1} j x_j = 3 / (2m - 3) (a hyperplane, so x_star is None).
    """
    n, m = _linear_sizes("linear_rank1_zero_cols", n, m, 3)
    i_minus_1 = jnp.asarray(np.arange(1.0, m - 1.0))  # i - 1 for i = 2..m-1
    j = jnp.asarray(np.arange(2.0, n))  # j = 2..n-1

    def r(x: jax.Array) -> jax.Array:
        s = jnp.sum(j * x[1:-1])
        minus_one = jnp.full(1, -1.0)
        return jnp.concatenate([minus_one, i_minus_1 * s - 1.0, minus_one])

    f_star = (m * m + 3.0 * m - 6.0) / (2.0 * (2.0 * m - 3.0))
    return _least_squares(
        "linear_rank1_zero_cols", 34, r, np.ones(n), f_star, None, {"n": n, "m": m}
    )


@register("chebyquad")
def chebyquad(n: int = 8, m: int | None = None) -> Problem:
    """r_i = (1/n) sum_j T_i(x_j) - int_0^1 T_i, T_i the Chebyshev polynomial on [0, 1].

    int_0^1 T_i = 0 for odd i and -1/(i^2 - 1) for even i. More, Garbow &
    Hillstrom (1981) #35; m >= n (default n = 8, m = n), x0 = (j / (n + 1)).
    f* = 0 for m = n = 1..7 and 9; 3.51687...e-3 for m = n = 8 (refined:
    3.51687372567e-3); None for other sizes. For m = n = 10 the paper lists
    6.50395...e-3, but that is only a local minimum (where LM and BFGS from x0
    stop); a lower one, f = 4.77271369637e-3 near x = (0.0747, 0.1715, 0.2864,
    0.3596, 0.4708, 0.6167, 0.6167, 0.7998, 0.8449, 0.9670) with a positive
    definite Hessian, is reached by trust-exact from x0 and is used as f_star.
    """
    n = check_int("chebyquad", "n", n, 1)
    m = n if m is None else check_int("chebyquad", "m", m, 1)
    _m_at_least_n("chebyquad", m, n)
    i_np = np.arange(1.0, m + 1.0)
    safe = np.where(i_np % 2 == 0, i_np * i_np - 1.0, 1.0)
    integral = jnp.asarray(np.where(i_np % 2 == 0, -1.0 / safe, 0.0))

    def r(x: jax.Array) -> jax.Array:
        y = 2.0 * x - 1.0
        t_prev, t_cur = jnp.ones_like(y), y
        means = [jnp.mean(t_cur)]
        for _ in range(1, m):
            t_prev, t_cur = t_cur, 2.0 * y * t_cur - t_prev
            means.append(jnp.mean(t_cur))
        return jnp.stack(means) - integral

    if m == n and (n <= 7 or n == 9):
        f_star: float | None = 0.0
    elif m == n:
        f_star = _CHEBYQUAD_F_STAR.get(n)
    else:
        f_star = None
    x0 = np.arange(1.0, n + 1.0) / (n + 1.0)
    return _least_squares("chebyquad", 35, r, x0, f_star, None, {"n": n, "m": m})
