"""Optimizers: ``optimizers.get(name, **hyperparameters)``; ``optimizers.names()``.

``@optimizers.register("name")`` on a factory registers an optimizer (the built-ins
and plugins alike); ``optimizers.register_optax("name", make)`` registers one built
from optax (``make(**hyperparameters) -> optax.GradientTransformation``);
``optimizers.get("optax:NAME", ...)`` is optax's own alias NAME.
"""

# importing the modules registers their optimizers
from optimizers import (  # noqa: F401
    first_order,
    least_squares,
    matrix_free,
    second_order,
)
from optimizers.base import (
    COUNTERS,
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
    "COUNTERS",
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
