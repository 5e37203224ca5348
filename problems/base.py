"""The Problem type and the name registry shared by every problem family."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Family(NamedTuple):
    """A problem family's functions of ``(x, data)``: instances of one family differ
    only in their data (a pytree of arrays), so that they share one compiled program
    and batch into it (the data is an argument of the program, not a constant).
    ``grad`` and ``hess`` default to jax's derivatives of ``f`` in x."""

    f: Callable[[jax.Array, Any], jax.Array]
    grad: Callable[[jax.Array, Any], jax.Array] | None = None
    hess: Callable[[jax.Array, Any], jax.Array] | None = None
    residual: Callable[[jax.Array, Any], jax.Array] | None = None


@functools.cache
def _complete(family: Family) -> Family:
    """The family with jax's derivatives filled in: one object per family, so the
    driver's programs are keyed on it."""
    return family._replace(
        grad=family.grad or jax.grad(family.f),
        hess=family.hess or jax.hessian(family.f),
    )


class Oracles(NamedTuple):
    """One instance's f, grad, hess and residual as functions of x alone: what an
    optimizer is given (inside a compiled program the data are traced values)."""

    f: Callable[[jax.Array], jax.Array]
    grad: Callable[[jax.Array], jax.Array]
    hess: Callable[[jax.Array], jax.Array]
    residual: Callable[[jax.Array], jax.Array] | None = None

    def value_and_grad(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """f(x) and its gradient together: one function and one gradient evaluation."""
        return self.f(x), self.grad(x)

    def hvp(self, x: jax.Array, v: jax.Array) -> jax.Array:
        """H(x) v by forward-over-reverse (a jvp of the gradient): one Hessian-vector
        product, about the cost of a gradient, without forming H."""
        return jax.jvp(self.grad, (x,), (v,))[1]

    def residual_and_jac(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """r(x) and its Jacobian J (m, n), one Jacobian evaluation: forward mode (n
        jvps) when J is tall, reverse mode (m vjps) when it is wide."""
        m = jax.eval_shape(self.residual, x).shape[0]
        jac = jax.jacfwd if m >= x.shape[0] else jax.jacrev
        j, r = jac(lambda z: (self.residual(z),) * 2, has_aux=True)(x)
        return r, j


def bind(family: Family, data: Any) -> Oracles:
    """The oracles of the instance of ``family`` with ``data``."""
    fam = _complete(family)
    res = fam.residual
    return Oracles(
        lambda x: fam.f(x, data),
        lambda x: fam.grad(x, data),
        lambda x: fam.hess(x, data),
        None if res is None else (lambda x: res(x, data)),
    )


@dataclass(frozen=True, eq=False)
class Problem:
    """An unconstrained minimisation problem min_x f(x) with its standard start.

    Either ``f`` (with optional ``grad``, ``hess``, ``residual``) as functions of x, or
    a ``family`` with this instance's ``data``; then f, grad, hess and residual are
    filled in from the family. A family's instances with data of one shape share a
    compiled program and run in one batch; a problem given by ``f`` has a program of
    its own.

    Equality and hashing are by identity (``eq=False``); ``problems.get`` returns the
    same object for the same name and parameters.
    """

    name: str
    f: Callable[[jax.Array], jax.Array] | None = None
    x0: jax.Array | None = None
    f_star: float | None = None
    x_star: jax.Array | None = None
    grad: Callable[[jax.Array], jax.Array] | None = None
    hess: Callable[[jax.Array], jax.Array] | None = None
    # r(x) with f(x) = sum(r(x)**2), kept for least-squares methods (Jacobian of r).
    residual: Callable[[jax.Array], jax.Array] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    family: Family | None = None
    data: Any = ()
    # f is mu-strongly convex with an L-Lipschitz gradient (exact, or bounds): what
    # `theory` hyperparameters are computed from (optimizers.theory); None: unknown
    mu: float | None = None
    L: float | None = None

    def __post_init__(self) -> None:
        if self.x0 is None:
            raise ValueError(f"problem {self.name!r} needs a starting point x0")
        x0 = _on_device(_as_vector(self.x0, "x0"))
        set_ = functools.partial(object.__setattr__, self)
        set_("x0", x0)
        if self.x_star is not None:
            x_star = _on_device(_as_vector(self.x_star, "x_star"))
            if x_star.shape != x0.shape:
                raise ValueError(
                    f"x_star has shape {x_star.shape} but x0 has shape {x0.shape}"
                )
            set_("x_star", x_star)
        if self.f_star is not None:
            f_star = float(self.f_star)
            if not np.isfinite(f_star):
                raise ValueError(
                    f"problem {self.name!r}: f_star must be a finite number, or None "
                    f"when unknown; got {self.f_star!r}"
                )
            set_("f_star", f_star)
        if self.family is None:
            if self.f is None:
                raise ValueError(f"problem {self.name!r} needs f or a family")
            set_("family", _own_family(self.f, self.grad, self.hess, self.residual))
            set_("data", ())
        else:
            set_("data", jax.tree.map(_on_device, self.data))
        for name, fn in zip(Oracles._fields, self.oracles(self.data), strict=True):
            set_(name, fn)
        self._check_oracles()

    def _check_oracles(self) -> None:
        """Once, here: f returns a real scalar and grad has x's shape and dtype
        (traced with jax.eval_shape, nothing is run); else ValueError naming the
        problem and what was wrong. A wrong gradient shape would otherwise broadcast
        silently and a complex f would be reported as a number."""
        x = jax.ShapeDtypeStruct(self.x0.shape, self.x0.dtype)
        # jax's own gradient of a real scalar f is right by construction
        given = (("f", self.f),) + ((("grad", self.grad),) if self.family.grad else ())
        for what, fn in given:
            try:
                out = jax.eval_shape(fn, x)
            except Exception as exc:  # noqa: BLE001  (a user's function: anything)
                msg = " ".join(str(exc).split())[:200]
                raise ValueError(
                    f"problem {self.name!r}: {what}(x0) failed under jax tracing: "
                    f"{type(exc).__name__}: {msg}"
                ) from None
            got = (
                f"shape {tuple(out.shape)} {out.dtype}"
                if hasattr(out, "shape")
                else type(out).__name__
            )
            if what == "f":
                ok = hasattr(out, "shape") and out.shape == () and jnp.issubdtype(
                    out.dtype, jnp.floating
                )
                need = "a real scalar"
            else:
                ok = hasattr(out, "shape") and (out.shape, out.dtype) == (
                    x.shape, x.dtype
                )
                need = f"x's shape {tuple(x.shape)} and dtype {x.dtype}"
            if not ok:
                raise ValueError(
                    f"problem {self.name!r}: {what} must return {need}, got {got}"
                )

    def oracles(self, data: Any) -> Oracles:
        """f, grad, hess, residual of this problem's family with ``data``."""
        return bind(self.family, data)

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


def in_precision(problem: Problem) -> Problem:
    """``problem`` with its arrays in this thread's precision (jax's x64 flag): the
    object itself where they already are, else a copy built again in it (the same
    family, so the same functions; bench.precision runs a cell in its own)."""
    if problem.x0.dtype == jnp.result_type(float):
        return problem
    # through NumPy: jnp.asarray keeps a float64 jax array float64 even under x32
    data = jax.tree.map(lambda v: jnp.asarray(np.asarray(v)), problem.data)
    return dataclasses.replace(problem, x0=np.asarray(problem.x0), data=data,
                               x_star=None if problem.x_star is None
                               else np.asarray(problem.x_star))  # fmt: skip


def _own_family(f, grad, hess, residual) -> Family:
    """A family of one: a problem given by functions of x ignores the data."""

    def of_x(fn):
        return None if fn is None else (lambda x, _data: fn(x))

    return Family(of_x(f), of_x(grad), of_x(hess), of_x(residual))


def _on_device(v: Any) -> jax.Array:
    """``v`` as a jax array: a NumPy array by a copy to the device, which compiles
    nothing (``jnp.asarray`` compiles a conversion per shape: 10-50 ms each, three
    in the small benchmark's warm run)."""
    return jax.device_put(v) if isinstance(v, np.ndarray) else jnp.asarray(v)


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


_REGISTRY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.+\-]*")


def check_name(kind: str, name: Any, registry: dict[str, Any]) -> None:
    """A new registry name (problem or optimizer): a SPEC name without a library
    prefix, not taken yet."""
    if not isinstance(name, str) or not _REGISTRY_NAME.fullmatch(name):
        raise ValueError(
            f"{kind} name {name!r} is not valid: letters, digits, _ . + - (a 'lib:' "
            "prefix is reserved for peers and optax's aliases)"
        )
    if name in registry:
        raise ValueError(f"{kind} {name!r} is already registered; pick another name")


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
    """Decorator: register a problem constructor under ``name`` (the built-ins and
    plugins alike); ``constructor(**params)`` returns a ``Problem``."""
    check_name("problem", name, _REGISTRY)

    def deco(fn: Callable[..., Problem]) -> Callable[..., Problem]:
        check_name("problem", name, _REGISTRY)
        _REGISTRY[name] = fn
        return fn

    return deco


def unregister(name: str) -> None:
    """Forget ``name`` and the problems built from it (plugins roll back with it)."""
    _REGISTRY.pop(name, None)
    _cached.cache_clear()


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

    if name.startswith("cutest:"):  # the optional CUTEst collection (sif2jax)
        from problems import cutest

        if params:
            raise ValueError(f"{name} takes no parameters, got {', '.join(params)}")
        return cutest.get(name.removeprefix("cutest:"))
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
    try:  # x64: a float32 run builds float32 arrays (jax's flag is per thread)
        return _cached(name, key, bool(jax.config.jax_enable_x64))
    except TypeError:  # unhashable parameter (e.g. a list): build without caching
        return _build(name, params)


@functools.cache
def _cached(name: str, key: tuple[tuple[str, Any, Any], ...], x64: bool) -> Problem:
    return _build(name, {k: v for k, _, v in key})


def _build(name: str, params: dict[str, Any]) -> Problem:
    return build_registered("problem", name, _REGISTRY[name], params, Problem,
                            "a problems.Problem")  # fmt: skip


def build_registered(kind: str, name: str, fn: Callable[..., Any],
                     params: dict[str, Any], expected: type, what: str) -> Any:
    """``fn(**params)`` for a registered factory (built-in or a plugin's): a bad value
    (ValueError, TypeError) is the factory's own message; any other exception, or a
    result that is not ``expected``, is one ValueError naming where ``fn`` is."""
    role = "factory" if kind == "optimizer" else "constructor"
    try:
        out = fn(**params)
    except (ValueError, TypeError):
        raise
    except Exception as exc:  # a plugin's bug: one line naming where
        raise ValueError(
            f"{kind} {name!r}: its {role} ({defined_at(fn)}) raised "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(out, expected):
        raise ValueError(
            f"{kind} {name!r}: its {role} ({defined_at(fn)}) returned "
            f"{type(out).__name__}, not {what}"
        )
    return out


def defined_at(fn: Callable[..., Any]) -> str:
    """``FILE:LINE`` of a function's definition (a plugin's, in error messages)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    return f"{code.co_filename}:{code.co_firstlineno}"
