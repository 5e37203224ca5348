"""Optimizers: ``optimizers.get(name, **hyperparameters)``; ``optimizers.names()``."""

from optimizers import first_order, least_squares, second_order  # noqa: F401  (registers the optimizers)
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
