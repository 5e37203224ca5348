"""Line searches as plain functions with a bounded ``lax.while_loop``.

Both return ``(alpha, f_new, g_new, nfev, njev)``; ``alpha = 0`` means no acceptable
step was found, and then ``f_new, g_new`` are the values at x (nothing is re-evaluated).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


def backtracking(
    problem,
    x: jax.Array,
    f: jax.Array,
    g: jax.Array,
    d: jax.Array,
    t0: jax.Array | float = 1.0,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_evals: int = 40,
):
    """Armijo backtracking: t = t0 * shrink^j, first j with f(x + t d) <= f + c1 t g.d.

    Nocedal & Wright (2006) Algorithm 3.1. Trials evaluate f only; the gradient is
    evaluated once, at the accepted point.
    """
    slope = g @ d
    t0 = jnp.asarray(t0, dtype=x.dtype)

    def armijo_fails(t, ft):
        return ~(ft <= f + c1 * t * slope)  # NaN trial counts as a failure

    def cond(c):
        t, ft, n = c
        return armijo_fails(t, ft) & (n < max_evals)

    def body(c):
        t, _, n = c
        t = shrink * t
        return t, problem.f(x + t * d), n + 1

    t, ft, nfev = lax.while_loop(cond, body, (t0, problem.f(x + t0 * d), 1))
    ok = ~armijo_fails(t, ft)
    alpha = jnp.where(ok, t, 0.0)
    g_new = lax.cond(ok, lambda: problem.grad(x + t * d), lambda: g)
    return alpha, jnp.where(ok, ft, f), g_new, nfev, ok.astype(nfev.dtype)


class _Wolfe(NamedTuple):
    a: jax.Array  # next trial step
    lo: jax.Array  # best step so far satisfying sufficient decrease
    f_lo: jax.Array
    d_lo: jax.Array  # phi'(lo)
    g_lo: jax.Array
    hi: jax.Array  # other end of the bracket (valid once bracketed)
    f_hi: jax.Array
    d_hi: jax.Array
    bracketed: jax.Array
    done: jax.Array
    n: jax.Array  # value-and-gradient evaluations so far


def strong_wolfe(
    problem,
    x: jax.Array,
    f: jax.Array,
    g: jax.Array,
    d: jax.Array,
    a0: jax.Array | float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 30,
):
    """Step alpha with f(x+a d) <= f + c1 a g.d and |g(x+a d).d| <= c2 |g.d|.

    Nocedal & Wright (2006) Algorithm 3.5 (bracketing, step doubling) with 3.6 (zoom
    by safeguarded cubic interpolation, eq. 3.59). Every trial is one f and one g.
    """
    dphi0 = g @ d
    a0 = jnp.asarray(a0, dtype=x.dtype)
    zero = jnp.zeros((), x.dtype)
    start = _Wolfe(
        a=a0, lo=zero, f_lo=f, d_lo=dphi0, g_lo=g, hi=zero, f_hi=f, d_hi=dphi0,
        bracketed=jnp.array(False), done=jnp.array(False), n=jnp.array(0),
    )  # fmt: skip

    def cond(s: _Wolfe):
        return ~s.done & (s.n < max_evals)

    def body(s: _Wolfe) -> _Wolfe:
        fa, ga = problem.value_and_grad(x + s.a * d)
        da = ga @ d
        armijo_fails = ~(fa <= f + c1 * s.a * dphi0) | ~(fa < s.f_lo)
        curvature_ok = jnp.abs(da) <= -c2 * dphi0
        # a becomes the new hi end (too long a step) ...
        to_hi = armijo_fails
        # ... or the new lo end; if the slope at a points back at lo, lo becomes hi.
        accept = ~to_hi & curvature_ok
        flip = (
            ~to_hi & ~accept & jnp.where(s.bracketed, da * (s.hi - s.lo) >= 0, da >= 0)
        )
        hi, f_hi, d_hi = (
            jnp.where(to_hi, s.a, jnp.where(flip, s.lo, s.hi)),
            jnp.where(to_hi, fa, jnp.where(flip, s.f_lo, s.f_hi)),
            jnp.where(to_hi, da, jnp.where(flip, s.d_lo, s.d_hi)),
        )
        move_lo = ~to_hi
        lo = jnp.where(move_lo, s.a, s.lo)
        f_lo = jnp.where(move_lo, fa, s.f_lo)
        d_lo = jnp.where(move_lo, da, s.d_lo)
        g_lo = jnp.where(move_lo, ga, s.g_lo)
        bracketed = s.bracketed | to_hi | flip
        a_next = jnp.where(
            bracketed, _cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi), 2 * s.a
        )
        # A bracket narrower than rounding cannot improve: stop with lo.
        tiny = bracketed & (jnp.abs(hi - lo) <= 1e-14 * jnp.maximum(jnp.abs(lo), 1e-14))
        return _Wolfe(a_next, lo, f_lo, d_lo, g_lo, hi, f_hi, d_hi, bracketed,
                      accept | tiny, s.n + 1)  # fmt: skip

    s = lax.while_loop(cond, body, start)
    # lo always satisfies sufficient decrease (or is 0: no step taken).
    return s.lo, s.f_lo, s.g_lo, s.n, s.n


def _cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi):
    """Minimiser of the cubic through (lo, hi) values and slopes (N&W eq. 3.59),
    kept 10% away from both ends; bisection when the cubic is not usable."""
    d1 = d_lo + d_hi - 3 * (f_lo - f_hi) / (lo - hi)
    d2 = jnp.sign(hi - lo) * jnp.sqrt(jnp.maximum(d1**2 - d_lo * d_hi, 0.0))
    a = hi - (hi - lo) * (d_hi + d2 - d1) / (d_hi - d_lo + 2 * d2)
    left, right = jnp.minimum(lo, hi), jnp.maximum(lo, hi)
    margin = 0.1 * (right - left)
    usable = jnp.isfinite(a) & (d1**2 - d_lo * d_hi >= 0)
    mid = 0.5 * (lo + hi)
    return jnp.where(usable, jnp.clip(a, left + margin, right - margin), mid)
