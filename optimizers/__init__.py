"""Optimizers: ``optimizers.get(name, **hyperparameters)``; ``optimizers.names()``."""

from optimizers import first_order, second_order  # noqa: F401  (registers the optimizers)
from optimizers.base import Optimizer, StepInfo, defaults, factory, get, names

__all__ = ["Optimizer", "StepInfo", "defaults", "factory", "get", "names"]
