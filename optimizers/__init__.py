"""Optimizers: ``optimizers.get(name, **hyperparameters)``; ``optimizers.names()``."""

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
)

__all__ = ["COUNTERS", "Optimizer", "StepInfo", "defaults", "factory", "get", "names"]
