"""Optimizers: ``optimizers.get(name, **hyperparameters)``; ``optimizers.names()``.

``@optimizers.register("name")`` on a factory registers an optimizer (the built-ins
and plugins alike); ``optimizers.register_optax("name", make)`` registers one built
from optax (``make(**hyperparameters) -> optax.GradientTransformation``);
``optimizers.get("optax:NAME", ...)`` is optax's own alias NAME.
"""

from optimizers import first_order, second_order  # noqa: F401  (registers the optimizers)
from optimizers.base import (
    Optimizer,
    StepInfo,
    defaults,
    factory,
    get,
    names,
    register,
    unregister,
)
from optimizers.from_optax import register_optax

__all__ = [
    "Optimizer",
    "StepInfo",
    "defaults",
    "factory",
    "get",
    "names",
    "register",
    "register_optax",
    "unregister",
]
