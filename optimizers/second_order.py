"""Second-order and quasi-Newton methods: Newton, BFGS, L-BFGS."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers.base import Optimizer, StepInfo, check_count, register
from optimizers.linesearch import backtracking, strong_wolfe


class NewtonState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array


@register("newton")
def newton() -> Optimizer:
    """x_{k+1} = x_k - t_k |H_k|^{-1} g_k with t_k from Armijo backtracking from 1.

    |H| is the Hessian with each eigenvalue lambda replaced by max(|lambda|, delta),
    delta = n eps max|lambda| (1 if H = 0) (Nocedal & Wright 2006, sec. 3.4, eigenvalue
    modification; Greenstadt 1967): the pure Newton step where H is positive definite,
    a descent direction where it is not.
    """

    def init(problem, x0):
        return NewtonState(x0, *problem.value_and_grad(x0))

    def step(problem, s: NewtonState):
        lam, vecs = jnp.linalg.eigh(problem.hess(s.x))
        biggest = jnp.max(jnp.abs(lam))
        eps = jnp.finfo(s.x.dtype).eps
        # a zero Hessian gets floor 1, so that the step is -g rather than -g/0
        floor = jnp.where(biggest > 0, s.x.shape[0] * eps * biggest, 1.0)
        d = -vecs @ ((vecs.T @ s.g) / jnp.maximum(jnp.abs(lam), floor))
        t, f, g, nfev, njev = backtracking(problem, s.x, s.f, s.g, d, t0=1.0)
        return NewtonState(s.x + t * d, f, g), StepInfo(t, nfev, njev, 1)

    return Optimizer("newton", init, step, {})


def _first_trial(g: jax.Array, first: jax.Array) -> jax.Array:
    """Trial step 1, except before any curvature is known: a step of length <= 1
    along -g, so that a steep start does not throw the first trial far away."""
    return jnp.where(first, jnp.minimum(1.0, 1.0 / jnp.linalg.norm(g)), 1.0)


def _curvature_ok(s: jax.Array, y: jax.Array) -> jax.Array:
    """y's > 0 with a margin for rounding: otherwise the update is skipped (N&W 6.1)."""
    return s @ y > 1e-10 * jnp.linalg.norm(s) * jnp.linalg.norm(y)


class BFGSState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    h: jax.Array  # inverse-Hessian approximation H_k
    first: jax.Array  # no update made yet: H is I and will be rescaled first


@register("bfgs")
def bfgs() -> Optimizer:
    """x_{k+1} = x_k - a_k H_k g_k, H_{k+1} = (I - r s y')H_k(I - r y s') + r s s',
    r = 1/y's, a_k strong Wolfe (c1=1e-4, c2=0.9); H_0 = (y's/y'y) I before the
    first update (Nocedal & Wright 2006, Alg. 6.1, eq. 6.17 and 6.20).

    A failed line search resets H to I; failing again from I leaves x unchanged twice,
    which the driver reports as a stall.
    """

    def init(problem, x0):
        f, g = problem.value_and_grad(x0)
        return BFGSState(
            x0, f, g, jnp.eye(x0.shape[0], dtype=x0.dtype), jnp.array(True)
        )

    def step(problem, st: BFGSState):
        d = -st.h @ st.g
        a, f, g, nfev, njev = strong_wolfe(
            problem, st.x, st.f, st.g, d, a0=_first_trial(st.g, st.first)
        )
        s, y = a * d, g - st.g
        eye = jnp.eye(st.x.shape[0], dtype=st.x.dtype)
        h = jnp.where(st.first, (s @ y) / (y @ y) * eye, st.h)
        rho = 1.0 / (s @ y)
        hy = h @ y
        updated = (
            h
            - rho * (jnp.outer(s, hy) + jnp.outer(hy, s))
            + (rho**2 * (y @ hy) + rho) * jnp.outer(s, s)
        )
        ok = (a > 0) & _curvature_ok(s, y)
        h = jnp.where(ok, updated, jnp.where(a > 0, st.h, eye))
        first = jnp.where(ok, False, (a == 0) | st.first)
        return BFGSState(st.x + s, f, g, h, first), StepInfo(a, nfev, njev, 0)

    return Optimizer("bfgs", init, step, {})


class LBFGSState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    s: jax.Array  # (memory, n) past steps, newest last; zero rows are unused slots
    y: jax.Array  # (memory, n) past gradient changes, aligned with s
    rho: jax.Array  # (memory,) 1 / y's, 0 for unused slots (so they drop out)
    first: jax.Array  # no pair stored yet


@register("lbfgs")
def lbfgs(memory: int = 10) -> Optimizer:
    """x_{k+1} = x_k - a_k H_k g_k with H_k g_k from the two-loop recursion over the
    last ``memory`` pairs (s, y), H_k^0 = (s'y / y'y) I, a_k strong Wolfe
    (Nocedal & Wright 2006, Alg. 7.4 and 7.5; Liu & Nocedal 1989)."""
    memory = check_count("memory", memory)

    def init(problem, x0):
        f, g = problem.value_and_grad(x0)
        zeros = jnp.zeros((memory, x0.shape[0]), x0.dtype)
        return LBFGSState(x0, f, g, zeros, zeros, jnp.zeros(memory, x0.dtype),
                          jnp.array(True))  # fmt: skip

    def step(problem, st: LBFGSState):
        d = -_two_loop(st.s, st.y, st.rho, st.g)
        a, f, g, nfev, njev = strong_wolfe(
            problem, st.x, st.f, st.g, d, a0=_first_trial(st.g, st.first)
        )
        s, y = a * d, g - st.g
        ok = (a > 0) & _curvature_ok(s, y)

        def push(buf, new):
            return jnp.where(ok, jnp.concatenate([buf[1:], new[None]]), buf)

        rho = push(st.rho, 1.0 / (s @ y))
        # A failed line search drops the memory (back to steepest descent); failing
        # again from there leaves x unchanged twice: the driver reports a stall.
        keep = a > 0
        sb, yb = push(st.s, s) * keep, push(st.y, y) * keep
        first = jnp.where(ok, False, ~keep | st.first)
        new = LBFGSState(st.x + s, f, g, sb, yb, rho * keep, first)
        return new, StepInfo(a, nfev, njev, 0)

    return Optimizer("lbfgs", init, step, {"memory": memory})


def _two_loop(s: jax.Array, y: jax.Array, rho: jax.Array, g: jax.Array) -> jax.Array:
    """H g by the L-BFGS two-loop recursion (N&W Alg. 7.4); rows with rho=0 drop out."""
    gamma = jnp.where(rho[-1] > 0, (s[-1] @ y[-1]) / (y[-1] @ y[-1]), 1.0)

    def backward(q, i):
        alpha = rho[i] * (s[i] @ q)
        return q - alpha * y[i], alpha

    idx = jnp.arange(rho.shape[0])
    q, alphas = jax.lax.scan(backward, g, idx[::-1])

    def forward(r, i_alpha):
        i, alpha = i_alpha
        beta = rho[i] * (y[i] @ r)
        return r + s[i] * (alpha - beta), None

    r, _ = jax.lax.scan(forward, gamma * q, (idx, alphas[::-1]))
    return r
