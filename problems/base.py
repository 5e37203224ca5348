"""The Problem type and the name registry shared by every problem family."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True, eq=False)
class Problem:
    """An unconstrained minimisation problem min_x f(x) with its standard start.

    Equality and hashing are by identity (``eq=False``): the driver caches one compiled
    program per Problem object, and ``problems.get`` returns the same object for the
    same name and parameters, so repeated lookups never recompile.
    """

    name: str
    f: Callable[[jax.Array], jax.Array]
    x0: jax.Array
    f_star: float | None = None
    x_star: jax.Array | None = None
    grad: Callable[[jax.Array], jax.Array] | None = None
    hess: Callable[[jax.Array], jax.Array] | None = None
    # r(x) with f(x) = sum(r(x)**2), kept for least-squares methods (Jacobian of r).
    residual: Callable[[jax.Array], jax.Array] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    reference: str = ""

    def __post_init__(self) -> None:
        x0 = jnp.asarray(_as_vector(self.x0, "x0"))
        set_ = functools.partial(object.__setattr__, self)
        set_("x0", x0)
        if self.x_star is not None:
            x_star = jnp.asarray(_as_vector(self.x_star, "x_star"))
            if x_star.shape != x0.shape:
                raise ValueError(
                    f"x_star has shape {x_star.shape} but x0 has shape {x0.shape}"
                )
            set_("x_star", x_star)
        if self.f_star is not None:
            set_("f_star", float(self.f_star))
        if self.grad is None:
            set_("grad", jax.grad(self.f))
        if self.hess is None:
            set_("hess", jax.hessian(self.f))

    @property
    def dim(self) -> int:
        return int(self.x0.shape[0])

    @property
    def label(self) -> str:
        """``name[k=v,...]`` with sorted keys, the label used in tables and plots."""
        return make_label(self.name, self.params)

    def value_and_grad(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """f(x) and its gradient together: one function and one gradient evaluation."""
        return self.f(x), self.grad(x)

    def check_x0(self, x0: Any) -> np.ndarray:
        """Validate a user-supplied start (shape (dim,), finite) and return it as a
        NumPy array of x0's dtype (a jax array here would cost a dispatch per call)."""
        x = _as_vector(x0, "x0").astype(self.x0.dtype)
        if x.shape != self.x0.shape:
            raise ValueError(
                f"x0 has shape {x.shape}; {self.label} needs shape ({self.dim},)"
            )
        return x


def _as_vector(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} has non-finite entries: {arr}")
    return arr


def make_label(name: str, params: dict[str, Any]) -> str:
    """``name[k=v,...]`` with sorted keys; just ``name`` without parameters."""
    if not params:
        return name
    inner = ",".join(f"{k}={_fmt(v)}" for k, v in sorted(params.items()))
    return f"{name}[{inner}]"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def check_int(
    problem: str,
    label: str,
    value: Any,
    minimum: int,
    maximum: int | None = None,
    multiple: int = 1,
) -> int:
    """An integer parameter in [minimum, maximum] (and a multiple of ``multiple``),
    else a ValueError naming the problem and the parameter."""
    ok = (
        isinstance(value, (int, np.integer, float))
        and not isinstance(value, bool)
        and float(value).is_integer()
    )
    if not ok:
        raise ValueError(f"{problem} needs an integer {label}, got {label}={value!r}")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{problem} needs {label} {bound}, got {label}={v}")
    if v % multiple:
        raise ValueError(
            f"{problem} needs {label} to be a multiple of {multiple}, got {label}={v}"
        )
    return v


# name -> constructor(**params) -> Problem
_REGISTRY: dict[str, Callable[..., Problem]] = {}


def register(name: str) -> Callable[[Callable[..., Problem]], Callable[..., Problem]]:
    """Decorator: register a problem constructor under ``name``."""

    def deco(fn: Callable[..., Problem]) -> Callable[..., Problem]:
        if name in _REGISTRY:
            raise ValueError(f"problem {name!r} is registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def names() -> list[str]:
    """All registered problem names, sorted."""
    return sorted(_REGISTRY)


def constructor(name: str) -> Callable[..., Problem]:
    """The registered constructor for ``name`` (ValueError listing valid names)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; valid names: {', '.join(names())}")
    return _REGISTRY[name]


def get(name: str, **params: Any) -> Problem:
    """Build the registered problem ``name`` with keyword parameters.

    The same name and parameters (defaults included: ``get("rosenbrock")`` and
    ``get("rosenbrock", n=2)`` alike) return the same object, which reuses compiled
    programs.
    """
    import inspect

    sig = inspect.signature(constructor(name))
    accepted = [p for p in sig.parameters if not p.startswith("_")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"problem {name!r} has no parameter {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )
    bound = sig.bind(**params)
    bound.apply_defaults()
    # the type is part of the key: n=True must not find the object built for n=1
    key = tuple((k, type(v).__name__, v) for k, v in sorted(bound.arguments.items()))
    try:
        return _cached(name, key)
    except TypeError:  # unhashable parameter (e.g. a list): build without caching
        return _REGISTRY[name](**params)


@functools.cache
def _cached(name: str, key: tuple[tuple[str, str, Any], ...]) -> Problem:
    return _REGISTRY[name](**{k: v for k, _, v in key})
