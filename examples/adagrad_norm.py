"""AdaGrad-norm as an optbench plugin: see docs/extending.md."""

from typing import NamedTuple

import jax
import jax.numpy as jnp

import optimizers
from optimizers.base import check_positive


class AdaGradNormState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    b2: jax.Array  # b_k^2 = b0^2 + sum of ||g_i||^2 over the steps taken


def _init(oracles, x0, hp):
    f, g = oracles.value_and_grad(x0)
    return AdaGradNormState(x0, f, g, jnp.asarray(hp["b0"] ** 2, x0.dtype))


def _step(oracles, s, hp):
    b2 = s.b2 + jnp.sum(s.g * s.g)
    alpha = hp["lr"] / jnp.sqrt(b2)
    x = s.x - alpha * s.g
    f, g = oracles.value_and_grad(x)
    return AdaGradNormState(x, f, g, b2), optimizers.StepInfo(alpha, 1, 1, 0)


@optimizers.register("adagrad_norm")
def adagrad_norm(lr: float = 1.0, b0: float = 0.1) -> optimizers.Optimizer:
    """x+ = x - lr / b g, b^2 += ||g||^2 (Ward, Wu & Bottou 2019, AdaGrad-norm)."""
    params = {"lr": check_positive("lr", lr), "b0": check_positive("b0", b0)}
    return optimizers.Optimizer("adagrad_norm", _init, _step, params, ("lr", "b0"))
