"""First-order methods: gradient descent, heavy ball, Nesterov, Adam."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optimizers.base import (
    Optimizer,
    StepInfo,
    check_bool,
    check_positive,
    check_unit,
    register,
)
from optimizers.linesearch import backtracking


def _one_eval(lr: float, dtype) -> StepInfo:
    """Cost of a fixed-step method: one value_and_grad at the new point."""
    return StepInfo(jnp.asarray(lr, dtype), 1, 1, 0)


class GDState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array


@register("gd")
def gd(lr: float = 1e-3, armijo: bool = False) -> Optimizer:
    """x_{k+1} = x_k - t_k grad f(x_k); t_k = lr, or with ``armijo`` the first of
    lr, lr/2, ... meeting Armijo's condition (Nocedal & Wright 2006, Alg. 3.1)."""
    lr, armijo = check_positive("lr", lr), check_bool("armijo", armijo)

    def init(problem, x0):
        return GDState(x0, *problem.value_and_grad(x0))

    def step(problem, s: GDState):
        if armijo:
            t, f, g, nfev, njev = backtracking(problem, s.x, s.f, s.g, -s.g, t0=lr)
            return GDState(s.x - t * s.g, f, g), StepInfo(t, nfev, njev, 0)
        x = s.x - lr * s.g
        return GDState(x, *problem.value_and_grad(x)), _one_eval(lr, x.dtype)

    return Optimizer("gd", init, step, {"lr": lr, "armijo": armijo})


class MomentumState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    v: jax.Array  # velocity: v_k = g_k + beta v_{k-1}


@register("momentum")
def momentum(lr: float = 1e-3, beta: float = 0.9) -> Optimizer:
    """Heavy ball: v_k = g_k + beta v_{k-1}, x_{k+1} = x_k - lr v_k, i.e.
    x_{k+1} = x_k - lr g_k + beta (x_k - x_{k-1}) (Polyak 1964)."""
    lr, beta = check_positive("lr", lr), check_unit("beta", beta)

    def init(problem, x0):
        f, g = problem.value_and_grad(x0)
        return MomentumState(x0, f, g, jnp.zeros_like(x0))

    def step(problem, s: MomentumState):
        v = s.g + beta * s.v
        x = s.x - lr * v
        return MomentumState(x, *problem.value_and_grad(x), v), _one_eval(lr, x.dtype)

    return Optimizer("momentum", init, step, {"lr": lr, "beta": beta})


class NesterovState(NamedTuple):
    x: jax.Array  # y_k, the extrapolated point where the gradient is taken
    f: jax.Array
    g: jax.Array
    z: jax.Array  # z_k = y_{k-1} - lr g(y_{k-1}), the plain gradient-step sequence


@register("nesterov")
def nesterov(lr: float = 1e-3, beta: float = 0.9) -> Optimizer:
    """z_{k+1} = y_k - lr grad f(y_k), y_{k+1} = z_{k+1} + beta (z_{k+1} - z_k)
    (Nesterov 1983; constant-momentum form, Nesterov 2004 eq. 2.2.22).

    f and g are reported at y_k, where the gradient is evaluated, as optax and PyTorch
    do: one value_and_grad per step.
    """
    lr, beta = check_positive("lr", lr), check_unit("beta", beta)

    def init(problem, x0):
        f, g = problem.value_and_grad(x0)
        return NesterovState(x0, f, g, x0)

    def step(problem, s: NesterovState):
        z = s.x - lr * s.g
        y = z + beta * (z - s.z)
        return NesterovState(y, *problem.value_and_grad(y), z), _one_eval(lr, y.dtype)

    return Optimizer("nesterov", init, step, {"lr": lr, "beta": beta})


class AdamState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    m: jax.Array  # first-moment estimate (biased)
    v: jax.Array  # second-moment estimate (biased)
    t: jax.Array  # number of updates taken, for bias correction


@register("adam")
def adam(
    lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """x_{k+1} = x_k - lr mhat_k / (sqrt(vhat_k) + eps), mhat, vhat bias-corrected
    moment estimates of g and g^2 (Kingma & Ba 2015, Algorithm 1)."""
    lr, eps = check_positive("lr", lr), check_positive("eps", eps)
    b1, b2 = check_unit("b1", b1), check_unit("b2", b2)

    def init(problem, x0):
        f, g = problem.value_and_grad(x0)
        zeros = jnp.zeros_like(x0)
        return AdamState(x0, f, g, zeros, zeros, jnp.zeros((), jnp.int32))

    def step(problem, s: AdamState):
        t = s.t + 1
        m = b1 * s.m + (1 - b1) * s.g
        v = b2 * s.v + (1 - b2) * s.g**2
        m_hat = m / (1 - b1 ** t.astype(m.dtype))
        v_hat = v / (1 - b2 ** t.astype(v.dtype))
        x = s.x - lr * (m_hat / (jnp.sqrt(v_hat) + eps))
        f, g = problem.value_and_grad(x)
        return AdamState(x, f, g, m, v, t), _one_eval(lr, x.dtype)

    return Optimizer("adam", init, step, {"lr": lr, "b1": b1, "b2": b2, "eps": eps})
