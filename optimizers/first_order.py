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
from optimizers.linesearch import (
    Backtrack,
    backtrack_restart,
    backtrack_start,
    backtrack_trial,
)


def _one_eval(lr: jax.Array, dtype) -> StepInfo:
    """Cost of a fixed-step method: one value_and_grad at the new point."""
    return StepInfo(jnp.asarray(lr, dtype), 1, 1, 0)


class GDState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array


class GDArmijoState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    search: Backtrack  # the line search along -g in progress


def _gd_init(problem, x0, hp):
    return GDState(x0, *problem.value_and_grad(x0))


def _gd_step(problem, s: GDState, hp):
    x = s.x - hp["lr"] * s.g
    return GDState(x, *problem.value_and_grad(x)), _one_eval(hp["lr"], x.dtype)


def _gd_armijo_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return GDArmijoState(x0, f, g, backtrack_start(x0.dtype, fresh=True))


def _gd_armijo_step(problem, s: GDArmijoState, hp):
    search = backtrack_restart(s.search, hp["lr"])
    search, x, f, g, info = backtrack_trial(problem, s.x, s.f, s.g, -s.g, search)
    return GDArmijoState(x, f, g, search), info


@register("gd")
def gd(lr: float = 1e-3, armijo: bool = False) -> Optimizer:
    """x_{k+1} = x_k - t_k grad f(x_k); t_k = lr, or with ``armijo`` the first of
    lr, lr/2, ... meeting Armijo's condition (Nocedal & Wright 2006, Alg. 3.1)."""
    params = {"lr": check_positive("lr", lr), "armijo": check_bool("armijo", armijo)}
    if armijo:
        return Optimizer(
            "gd", _gd_armijo_init, _gd_armijo_step, params, ("lr",), searches=True
        )
    return Optimizer("gd", _gd_init, _gd_step, params, ("lr",))


class MomentumState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    v: jax.Array  # velocity: v_k = g_k + beta v_{k-1}


@register("momentum")
def momentum(lr: float = 1e-3, beta: float = 0.9) -> Optimizer:
    """Heavy ball: v_k = g_k + beta v_{k-1}, x_{k+1} = x_k - lr v_k, i.e.
    x_{k+1} = x_k - lr g_k + beta (x_k - x_{k-1}) (Polyak 1964)."""
    params = {"lr": check_positive("lr", lr), "beta": check_unit("beta", beta)}
    return Optimizer("momentum", _momentum_init, _momentum_step, params, ("lr", "beta"))


def _momentum_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return MomentumState(x0, f, g, jnp.zeros_like(x0))


def _momentum_step(problem, s: MomentumState, hp):
    v = s.g + hp["beta"] * s.v
    x = s.x - hp["lr"] * v
    return MomentumState(x, *problem.value_and_grad(x), v), _one_eval(hp["lr"], x.dtype)


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
    params = {"lr": check_positive("lr", lr), "beta": check_unit("beta", beta)}
    return Optimizer("nesterov", _nesterov_init, _nesterov_step, params, ("lr", "beta"))


def _nesterov_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return NesterovState(x0, f, g, x0)


def _nesterov_step(problem, s: NesterovState, hp):
    z = s.x - hp["lr"] * s.g
    y = z + hp["beta"] * (z - s.z)
    return NesterovState(y, *problem.value_and_grad(y), z), _one_eval(hp["lr"], y.dtype)


class AdamState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    m: jax.Array  # first-moment estimate (biased)
    v: jax.Array  # second-moment estimate (biased)
    # b1^t and b2^t, t the updates taken (bias correction), carried as products:
    # b1 ** t with b1 a run-time argument was a pow per step, a third of adam's time
    p1: jax.Array
    p2: jax.Array


@register("adam")
def adam(
    lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """x_{k+1} = x_k - lr mhat_k / (sqrt(vhat_k) + eps), mhat, vhat bias-corrected
    moment estimates of g and g^2 (Kingma & Ba 2015, Algorithm 1)."""
    params = {"lr": check_positive("lr", lr), "b1": check_unit("b1", b1)}
    params |= {"b2": check_unit("b2", b2), "eps": check_positive("eps", eps)}
    return Optimizer("adam", _adam_init, _adam_step, params, ("lr", "b1", "b2", "eps"))


def _adam_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    zeros, one = jnp.zeros_like(x0), jnp.ones((), x0.dtype)
    return AdamState(x0, f, g, zeros, zeros, one, one)


def _adam_step(problem, s: AdamState, hp):
    lr, b1, b2, eps = hp["lr"], hp["b1"], hp["b2"], hp["eps"]
    p1, p2 = s.p1 * b1, s.p2 * b2
    m = b1 * s.m + (1 - b1) * s.g
    v = b2 * s.v + (1 - b2) * s.g**2
    m_hat = m / (1 - p1)
    v_hat = v / (1 - p2)
    x = s.x - lr * (m_hat / (jnp.sqrt(v_hat) + eps))
    f, g = problem.value_and_grad(x)
    return AdamState(x, f, g, m, v, p1, p2), _one_eval(lr, x.dtype)
