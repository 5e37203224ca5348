"""The Optimizer type, the per-step cost record, the registry and argument checks."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from problems.base import build_registered, check_name

# The oracle counters, in this order everywhere (StepInfo, the driver's counts, Trace,
# the tables): adding a counter is a field of StepInfo and a name here.
COUNTERS = ("nfev", "njev", "nhev", "nhvp", "njac")


class StepInfo(NamedTuple):
    """What one call of ``step`` cost; reported per call, never carried in the state."""

    step_size: jax.Array  # alpha_k: x_{k+1} = x_k + alpha_k d_k (lr for fixed steps)
    nfev: jax.Array  # objective evaluations in this call
    njev: jax.Array  # gradient evaluations in this call
    nhev: jax.Array  # Hessian evaluations in this call
    # this call ended an iteration (x, f, g are the next iterate); False while a line
    # search is still trying steps
    accepted: jax.Array | bool = True
    nhvp: jax.Array | int = 0  # Hessian-vector products in this call
    njac: jax.Array | int = 0  # Jacobian evaluations of the residual in this call


class Optimizer(NamedTuple):
    """``init(problem, x0, hp) -> state``; ``step(problem, state, hp) -> (state,
    StepInfo)``.

    ``problem`` is a ``problems.Oracles`` (f, grad, value_and_grad, hess of one
    instance); ``hp`` maps each name in ``hyper`` to a scalar array, so one compiled
    program serves every value of those hyperparameters (and is vmapped over them).
    ``init`` and ``step`` may close over the other, structural, parameters only (the
    driver keys its programs on the two functions): a factory returns the same two
    functions for the same structural parameters.

    Every state is a NamedTuple whose first fields are ``x, f, g`` (the iterate, its
    value and gradient); ``init`` evaluates f and g at x0 exactly once. A method with a
    line search takes one trial per ``step`` call (``StepInfo.accepted`` marks the
    call that ends an iteration), so that batched lanes never wait for each other.
    """

    name: str
    init: Callable[..., Any]
    step: Callable[..., Any]
    params: dict[str, Any]  # every hyperparameter, defaults filled in (the label)
    hyper: tuple[str, ...] = ()  # the ones passed at run time, as ``hp``
    searches: bool = False  # steps are line-search trials (see StepInfo.accepted)
    needs_residual: bool = False  # a least-squares method: only problems with r(x)

    def hp(self) -> dict[str, float]:
        """This optimizer's run-time hyperparameters, the ``hp`` of init and step."""
        return {k: self.params[k] for k in self.hyper}

    def check_problem(self, problem: Any) -> None:
        """ValueError, one line, when this optimizer cannot run on ``problem``."""
        if self.needs_residual and problem.residual is None:
            raise ValueError(
                f"{self.name} is a least-squares method and {problem.label} has no "
                "residual r(x) with f = sum r^2 (the MGH problems have one)"
            )

    @property
    def label(self) -> str:
        from problems.base import make_label

        return make_label(self.name, self.params)


_REGISTRY: dict[str, Callable[..., Optimizer]] = {}
# names whose update rule is optax's (register_optax): their tables' ``source``
OPTAX_BUILT: set[str] = set()
# "optax:NAME" is optax's own alias NAME (optimizers.from_optax), never registered
OPTAX_PREFIX = "optax:"


def register(
    name: str,
) -> Callable[[Callable[..., Optimizer]], Callable[..., Optimizer]]:
    """Decorator: register an optimizer factory under ``name`` (the built-ins and
    plugins alike); ``factory(**hyperparameters)`` returns an ``Optimizer``."""
    check_name("optimizer", name, _REGISTRY)

    def deco(fn: Callable[..., Optimizer]) -> Callable[..., Optimizer]:
        check_name("optimizer", name, _REGISTRY)
        _REGISTRY[name] = fn
        return fn

    return deco


def unregister(name: str) -> None:
    """Forget ``name`` and the optimizers built from it (a plugin that failed or
    changed is rolled back before it loads again)."""
    _REGISTRY.pop(name, None)
    OPTAX_BUILT.discard(name)
    for key in [k for k in _CACHE if k[0] == name]:
        del _CACHE[key]


def names() -> list[str]:
    """All registered optimizer names, sorted (optax's aliases: from_optax.aliases)."""
    return sorted(_REGISTRY)


def factory(name: str) -> Callable[..., Optimizer]:
    """The registered factory for ``name``, or optax's alias for ``optax:NAME``
    (ValueError listing valid names)."""
    if isinstance(name, str) and name.startswith(OPTAX_PREFIX):
        from optimizers import from_optax

        return from_optax.alias(name[len(OPTAX_PREFIX) :])
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown optimizer {name!r}; valid names: {', '.join(names())}, or "
            "optax:NAME for an optax optimizer (python -m bench list)"
        )
    return _REGISTRY[name]


def defaults(name: str) -> dict[str, Any]:
    """The factory's hyperparameters and their default values."""
    sig = inspect.signature(factory(name))
    return {k: p.default for k, p in sig.parameters.items()}


def get(name: str, **params: Any) -> Optimizer:
    """Build optimizer ``name`` with hyperparameters; same arguments -> same object.

    "Same" means the same validated values, defaults filled in: ``gd()``,
    ``gd(lr=1e-3)`` and ``gd(lr=0.001, armijo=False)`` are one object, so the driver
    compiles one program for them. The factory runs first, so every call validates its
    arguments (a cache keyed on the raw arguments would let ``armijo=1`` through once
    ``armijo=True`` was cached, since ``1 == True``).
    """
    fn = factory(name)
    accepted = defaults(name)
    if "lr" in params and "lr" not in accepted and "learning_rate" in accepted:
        if "learning_rate" in params:
            raise ValueError(f"optimizer {name!r}: give lr or learning_rate, not both")
        params["learning_rate"] = params.pop("lr")  # our short name for optax's
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} has no hyperparameter {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
            + (" (lr for learning_rate)" if "learning_rate" in accepted else "")
        )
    opt = build_registered("optimizer", name, fn, params, Optimizer,
                           "an optimizers.Optimizer")  # fmt: skip
    for k in opt.hyper:  # program data, whatever a (plugin) factory checked
        v = opt.params.get(k)
        number = isinstance(v, int | float | np.integer | np.floating)
        if isinstance(v, bool) or not (number and np.isfinite(v)):
            raise ValueError(
                f"optimizer {name!r}: {k} is passed to the program at run time and "
                f"must be a finite number, got {k}={v!r}"
            )
    try:
        key = (name, tuple(sorted(opt.params.items())))
        hash(key)
    except TypeError:  # unhashable hyperparameter value: not cached
        return opt
    return _CACHE.setdefault(key, opt)


# (name, sorted validated hyperparameters) -> the one Optimizer built for them
_CACHE: dict[tuple, Optimizer] = {}


def check_positive(name: str, value: Any) -> float:
    """A finite float > 0, else ValueError naming the hyperparameter."""
    v = _number(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {name}={value}")
    return v


def check_unit(name: str, value: Any) -> float:
    """A float in [0, 1), else ValueError naming the hyperparameter."""
    v = _number(name, value)
    if not 0 <= v < 1:
        raise ValueError(f"{name} must be in [0, 1), got {name}={value}")
    return v


def check_count(name: str, value: Any) -> int:
    """An integer >= 1 (NumPy integers too), else ValueError naming it."""
    integer = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not integer or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {name}={value!r}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {name}={value}")
    return v
