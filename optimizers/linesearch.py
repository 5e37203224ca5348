"""Line searches as resumable state machines: one trial point per call.

A method with a line search keeps the search's state in its own state and calls the
``*_trial`` function once per ``step``: under ``vmap`` every lane then advances by one
function evaluation per loop iteration, and no lane waits for the lane whose search
needs the most trials (a nested ``while_loop`` runs every lane for the slowest one).
``StepInfo.accepted`` is True on the trial that ends the search.

``backtracking`` and ``strong_wolfe`` run a whole search from the same trial functions
(a bounded ``lax.while_loop``); both return ``(alpha, f_new, g_new, nfev, njev)``.
``alpha = 0`` means no acceptable step was found, and then ``f_new, g_new`` are the
values at x (nothing is re-evaluated).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from optimizers.base import StepInfo

ARMIJO_C1 = 1e-4
BACKTRACK_MAX_EVALS = 40
WOLFE_C2 = 0.9
WOLFE_MAX_EVALS = 30


class Backtrack(NamedTuple):
    t: jax.Array  # next trial step
    n: jax.Array  # trials made in this search
    fresh: jax.Array  # the next call starts a new search (from t0)


def backtrack_start(dtype, fresh: bool = True) -> Backtrack:
    return Backtrack(jnp.ones((), dtype), jnp.zeros((), jnp.int32), jnp.array(fresh))


def backtrack_restart(s: Backtrack, t0: jax.Array | float) -> Backtrack:
    """Begin a new search from ``t0`` if the last one ended, else keep going."""
    t = jnp.where(s.fresh, jnp.asarray(t0, s.t.dtype), s.t)
    return Backtrack(t, jnp.where(s.fresh, 0, s.n), jnp.array(False))


def backtrack_trial(problem, x, f, g, d, s: Backtrack, shrink: float = 0.5):
    """One trial of Armijo backtracking, t = t0 shrink^j: accept the first t with
    f(x + t d) <= f + c1 t g.d (Nocedal & Wright 2006, Alg. 3.1).

    Trials evaluate f only; the gradient is evaluated once, at the accepted point.
    Returns (search, x, f, g, StepInfo); x, f, g change only on acceptance.
    """
    ft = problem.f(x + s.t * d)
    n = s.n + 1
    ok = ft <= f + ARMIJO_C1 * s.t * (g @ d)  # a NaN trial counts as a failure
    finished = ok | (n >= BACKTRACK_MAX_EVALS)
    x_new = x + s.t * d
    f_new, g_new = lax.cond(
        ok, lambda: (ft, problem.grad(x_new)), lambda: (f, g)
    )  # fmt: skip
    alpha = jnp.where(ok, s.t, 0.0)
    info = StepInfo(alpha, 1, ok.astype(jnp.int32), 0, finished)
    nxt = Backtrack(shrink * s.t, n, finished)
    return nxt, jnp.where(ok, x_new, x), f_new, g_new, info


def backtracking(problem, x, f, g, d, t0: jax.Array | float = 1.0):
    """A whole Armijo backtracking search from ``t0`` (``backtrack_trial`` looped)."""
    start = backtrack_restart(backtrack_start(x.dtype), t0)

    def body(c):
        s, _, _, _, info, nfev = c
        s, xn, fn, gn, info = backtrack_trial(problem, x, f, g, d, s)
        return s, xn, fn, gn, info, nfev + info.nfev

    info0 = StepInfo(jnp.zeros((), x.dtype), 0, jnp.zeros((), jnp.int32), 0, False)
    c = (start, x, f, g, info0, jnp.zeros((), jnp.int32))
    _, _, fn, gn, info, nfev = lax.while_loop(lambda c: ~c[4].accepted, body, c)
    return info.step_size, fn, gn, nfev, info.njev


class Wolfe(NamedTuple):
    a: jax.Array  # next trial step
    lo: jax.Array  # best step so far satisfying sufficient decrease
    f_lo: jax.Array
    d_lo: jax.Array  # phi'(lo)
    g_lo: jax.Array
    hi: jax.Array  # other end of the bracket (valid once bracketed)
    f_hi: jax.Array
    d_hi: jax.Array
    bracketed: jax.Array
    n: jax.Array  # value-and-gradient evaluations in this search
    fresh: jax.Array  # the next call starts a new search


def wolfe_start(x: jax.Array) -> Wolfe:
    """An ended search: the next ``wolfe_restart`` begins a new one."""
    zero, none = jnp.zeros((), x.dtype), jnp.zeros((), jnp.int32)
    return Wolfe(zero, zero, zero, zero, jnp.zeros_like(x), zero, zero, zero,
                 jnp.array(False), none, jnp.array(True))  # fmt: skip


def wolfe_restart(s: Wolfe, f, g, d, a0) -> Wolfe:
    """Begin a new search along d from ``a0`` if the last one ended, else keep going."""
    zero, none, dphi0 = jnp.zeros((), f.dtype), jnp.zeros((), jnp.int32), g @ d
    new = Wolfe(jnp.asarray(a0, f.dtype), zero, f, dphi0, g, zero, f, dphi0,
                jnp.array(False), none, jnp.array(False))  # fmt: skip
    return jax.tree.map(lambda a, b: jnp.where(s.fresh, a, b), new, s)


def wolfe_trial(problem, x, f, g, d, s: Wolfe):
    """One trial of a step alpha with f(x+a d) <= f + c1 a g.d and
    |g(x+a d).d| <= c2 |g.d|: Nocedal & Wright (2006) Algorithm 3.5 (bracketing, step
    doubling) with 3.6 (zoom by safeguarded cubic interpolation, eq. 3.59).

    Every trial is one f and one g. The search ends when a trial is accepted, when the
    bracket is narrower than rounding, or after ``WOLFE_MAX_EVALS`` trials; it then
    returns its best point ``lo`` (which satisfies sufficient decrease, or is 0).
    Returns (search, x, f, g, StepInfo); x, f, g change only when the search ends.
    """
    dphi0 = g @ d
    fa, ga = problem.value_and_grad(x + s.a * d)
    da = ga @ d
    to_hi = ~(fa <= f + ARMIJO_C1 * s.a * dphi0) | ~(fa < s.f_lo)  # too long a step
    accept = ~to_hi & (jnp.abs(da) <= -WOLFE_C2 * dphi0)
    # a becomes the new lo end; if the slope at a points back at lo, lo becomes hi
    flip = ~to_hi & ~accept & jnp.where(s.bracketed, da * (s.hi - s.lo) >= 0, da >= 0)
    hi = jnp.where(to_hi, s.a, jnp.where(flip, s.lo, s.hi))
    f_hi = jnp.where(to_hi, fa, jnp.where(flip, s.f_lo, s.f_hi))
    d_hi = jnp.where(to_hi, da, jnp.where(flip, s.d_lo, s.d_hi))
    lo = jnp.where(to_hi, s.lo, s.a)
    f_lo = jnp.where(to_hi, s.f_lo, fa)
    d_lo = jnp.where(to_hi, s.d_lo, da)
    g_lo = jnp.where(to_hi, s.g_lo, ga)
    bracketed = s.bracketed | to_hi | flip
    a_next = jnp.where(bracketed, _cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi), 2 * s.a)
    # A bracket narrower than rounding cannot improve: stop with lo.
    tiny = bracketed & (jnp.abs(hi - lo) <= 1e-14 * jnp.maximum(jnp.abs(lo), 1e-14))
    n = s.n + 1
    finished = accept | tiny | (n >= WOLFE_MAX_EVALS)
    nxt = Wolfe(a_next, lo, f_lo, d_lo, g_lo, hi, f_hi, d_hi, bracketed, n, finished)
    info = StepInfo(jnp.where(finished, lo, 0.0), 1, 1, 0, finished)
    x_new = jnp.where(finished, x + lo * d, x)
    return nxt, x_new, jnp.where(finished, f_lo, f), jnp.where(finished, g_lo, g), info


def strong_wolfe(problem, x, f, g, d, a0: jax.Array | float = 1.0):
    """A whole strong-Wolfe search from ``a0`` (``wolfe_trial`` looped)."""
    start = wolfe_restart(wolfe_start(x), f, g, d, a0)
    info0 = StepInfo(jnp.zeros((), x.dtype), 0, 0, 0, jnp.array(False))

    def body(c):
        s, _, _, _, _ = c
        return wolfe_trial(problem, x, f, g, d, s)

    s, _, fn, gn, info = lax.while_loop(
        lambda c: ~c[4].accepted, body, (start, x, f, g, info0)
    )
    return info.step_size, fn, gn, s.n, s.n


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
