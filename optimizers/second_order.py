"""Second-order and quasi-Newton methods: Newton, BFGS, L-BFGS."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from optimizers.base import Optimizer, check_count, register
from optimizers.linesearch import (
    Backtrack,
    Wolfe,
    backtrack_restart,
    backtrack_start,
    backtrack_trial,
    wolfe_restart,
    wolfe_start,
    wolfe_trial,
)


class NewtonState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    d: jax.Array  # the Newton direction being searched along
    search: Backtrack


def _newton_direction(problem, x: jax.Array, g: jax.Array) -> jax.Array:
    """-|H|^{-1} g with |H| the eigenvalue-modified Hessian (see ``newton``)."""
    lam, vecs = jnp.linalg.eigh(problem.hess(x))
    biggest = jnp.max(jnp.abs(lam))
    eps = jnp.finfo(x.dtype).eps
    # a zero Hessian gets floor 1, so that the step is -g rather than -g/0
    floor = jnp.where(biggest > 0, x.shape[0] * eps * biggest, 1.0)
    return -vecs @ ((vecs.T @ g) / jnp.maximum(jnp.abs(lam), floor))


def _newton_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return NewtonState(x0, f, g, jnp.zeros_like(x0), backtrack_start(x0.dtype))


def _newton_step(problem, s: NewtonState, hp):
    fresh = s.search.fresh  # a new iteration: one Hessian at x for its direction
    d = lax.cond(fresh, lambda: _newton_direction(problem, s.x, s.g), lambda: s.d)
    search = backtrack_restart(s.search, 1.0)
    search, x, f, g, info = backtrack_trial(problem, s.x, s.f, s.g, d, search)
    return NewtonState(x, f, g, d, search), info._replace(nhev=fresh.astype(jnp.int32))


@register("newton")
def newton() -> Optimizer:
    """x_{k+1} = x_k - t_k |H_k|^{-1} g_k with t_k from Armijo backtracking from 1.

    |H| is the Hessian with each eigenvalue lambda replaced by max(|lambda|, delta),
    delta = n eps max|lambda| (1 if H = 0) (Nocedal & Wright 2006, sec. 3.4, eigenvalue
    modification; Greenstadt 1967): the pure Newton step where H is positive definite,
    a descent direction where it is not.
    """
    return Optimizer("newton", _newton_init, _newton_step, {}, searches=True)


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
    d: jax.Array  # the direction being searched along
    search: Wolfe


def _bfgs_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    eye = jnp.eye(x0.shape[0], dtype=x0.dtype)
    return BFGSState(x0, f, g, eye, jnp.array(True), -g, wolfe_start(x0))


def _bfgs_update(st: BFGSState, a, s, y):
    """H after a search that ended with step a: the BFGS update where the curvature
    condition holds; a failed search (a = 0) resets H to I."""
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
    return h, jnp.where(ok, False, (a == 0) | st.first)


def _bfgs_step(problem, st: BFGSState, hp):
    fresh = st.search.fresh
    d = jnp.where(fresh, -st.h @ st.g, st.d)
    search = wolfe_restart(st.search, st.f, st.g, d, _first_trial(st.g, st.first))
    search, x, f, g, info = wolfe_trial(problem, st.x, st.f, st.g, d, search)
    h, first = lax.cond(
        info.accepted,
        lambda: _bfgs_update(st, info.step_size, info.step_size * d, g - st.g),
        lambda: (st.h, st.first),
    )
    return BFGSState(x, f, g, h, first, d, search), info


@register("bfgs")
def bfgs() -> Optimizer:
    """x_{k+1} = x_k - a_k H_k g_k, H_{k+1} = (I - r s y')H_k(I - r y s') + r s s',
    r = 1/y's, a_k strong Wolfe (c1=1e-4, c2=0.9); H_0 = (y's/y'y) I before the
    first update (Nocedal & Wright 2006, Alg. 6.1, eq. 6.17 and 6.20).

    A failed line search resets H to I; failing again from I leaves x unchanged twice,
    which the driver reports as a stall.
    """
    return Optimizer("bfgs", _bfgs_init, _bfgs_step, {}, searches=True)


class LBFGSState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    s: jax.Array  # (memory, n) past steps, newest last; zero rows are unused slots
    y: jax.Array  # (memory, n) past gradient changes, aligned with s
    rho: jax.Array  # (memory,) 1 / y's, 0 for unused slots (so they drop out)
    first: jax.Array  # no pair stored yet
    d: jax.Array  # the direction being searched along
    search: Wolfe


def _lbfgs_update(st: LBFGSState, a, s, y):
    """The memory after a search that ended with step a: push (s, y) where the
    curvature condition holds; a failed search (a = 0) drops the memory (back to
    steepest descent; failing again from there leaves x unchanged twice: a stall)."""
    ok = (a > 0) & _curvature_ok(s, y)

    def push(buf, new):
        return jnp.where(ok, jnp.concatenate([buf[1:], new[None]]), buf)

    keep = a > 0
    rho = push(st.rho, 1.0 / (s @ y)) * keep
    first = jnp.where(ok, False, ~keep | st.first)
    return push(st.s, s) * keep, push(st.y, y) * keep, rho, first


@functools.cache
def _lbfgs_functions(memory: int):
    """(init, step) for one memory size: the same two functions for the same memory,
    so that every L-BFGS(m) cell shares one compiled program."""

    def init(problem, x0, hp):
        f, g = problem.value_and_grad(x0)
        zeros = jnp.zeros((memory, x0.shape[0]), x0.dtype)
        return LBFGSState(x0, f, g, zeros, zeros, jnp.zeros(memory, x0.dtype),
                          jnp.array(True), -g, wolfe_start(x0))  # fmt: skip

    def step(problem, st: LBFGSState, hp):
        fresh = st.search.fresh
        d = jnp.where(fresh, -_two_loop(st.s, st.y, st.rho, st.g), st.d)
        search = wolfe_restart(st.search, st.f, st.g, d, _first_trial(st.g, st.first))
        search, x, f, g, info = wolfe_trial(problem, st.x, st.f, st.g, d, search)
        sb, yb, rho, first = lax.cond(
            info.accepted,
            lambda: _lbfgs_update(st, info.step_size, info.step_size * d, g - st.g),
            lambda: (st.s, st.y, st.rho, st.first),
        )
        return LBFGSState(x, f, g, sb, yb, rho, first, d, search), info

    return init, step


@register("lbfgs")
def lbfgs(memory: int = 10) -> Optimizer:
    """x_{k+1} = x_k - a_k H_k g_k with H_k g_k from the two-loop recursion over the
    last ``memory`` pairs (s, y), H_k^0 = (s'y / y'y) I, a_k strong Wolfe
    (Nocedal & Wright 2006, Alg. 7.4 and 7.5; Liu & Nocedal 1989)."""
    memory = check_count("memory", memory)
    init, step = _lbfgs_functions(memory)
    return Optimizer("lbfgs", init, step, {"memory": memory}, searches=True)


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
