"""optax's optimizers run in our driver: a GradientTransformation as an Optimizer.

``optimizer("adam", {"lr": 1e-2})`` wraps ``optax.adam(learning_rate=..., b1=...,
b2=..., eps=...)`` (generally ``getattr(optax, method)(**hyperparameters)``, with our
``lr`` passed as optax's ``learning_rate``) as an ``optimizers.Optimizer``, so that
optax's update rule runs in ``bench.driver``'s loop like any optimizer of ours: the
same stopping, counting, trace and timing (a cell ``optax:adam`` is timed as ours
are: its compiled program, dispatch included). The state is ``(x, f, g, opt_state)``;
a step is

    updates, opt_state = tx.update(g, opt_state, x)
    x = optax.apply_updates(x, updates)
    f, g = value_and_grad(x)                   # +1 nfev, +1 njev

with StepInfo(step_size=lr, nfev=1, njev=1, nhev=0): one value_and_grad per step, the
start counting one of each (as in the driver). Every hyperparameter is a run-time
argument: the transformation is built inside ``init``/``step`` from ``hp`` (optax's
factories only close over their arguments, so jax traces them as values), and
``init``/``step`` are the same two functions for every optimizer of one method, so an
lr grid of ``optax:adam`` is one compiled program, vmapped over the grid.

The update is optax's own code, as shipped; what differs from a bare optax loop is the
harness around it (the driver's while-loop, masking of stopped lanes, the trace rows).

The runner builds ``optax:*`` cells with ``optimizer`` and runs them as it runs ours.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers.base import Optimizer, StepInfo

METHODS = ("adam", "sgd")
# our hyperparameter names -> optax's argument names (others are the same)
_OPTAX_ARG = {"lr": "learning_rate"}


class OptaxState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    opt_state: Any  # the GradientTransformation's own state (a pytree)


def transformation(method: str, hp: dict[str, Any]):
    """``getattr(optax, method)`` built from our hyperparameters (values or tracers)."""
    import optax

    return getattr(optax, method)(**{_OPTAX_ARG.get(k, k): v for k, v in hp.items()})


@functools.cache
def _functions(method: str):
    """The one (init, step) pair of ``method``: the driver keys programs on them."""
    import optax

    def init(oracles, x0, hp):
        f, g = oracles.value_and_grad(x0)
        return OptaxState(x0, f, g, transformation(method, hp).init(x0))

    def step(oracles, s: OptaxState, hp):
        updates, opt_state = transformation(method, hp).update(s.g, s.opt_state, s.x)
        x = optax.apply_updates(s.x, updates)
        f, g = oracles.value_and_grad(x)
        info = StepInfo(jnp.asarray(hp["lr"], x.dtype), 1, 1, 0)
        return OptaxState(x, f, g, opt_state), info

    return init, step


def optimizer(method: str, params: dict[str, Any]) -> Optimizer:
    """``optax:<method>`` with hyperparameters ``params`` (defaults filled in) as our
    Optimizer; ValueError for an unknown method or a bad hyperparameter."""
    from bench.peers import check_peer, peer_defaults

    name = f"optax:{method}"
    check_peer(name, params)
    full = {k: float(v) for k, v in {**peer_defaults(name), **params}.items()}
    init, step = _functions(method)
    return Optimizer(name, init, step, full, hyper=tuple(full))
