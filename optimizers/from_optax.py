"""optax's optimizers in our driver: a ``GradientTransformation`` as an Optimizer.

``register_optax("name", make)`` registers ``make(**hyperparameters) ->
optax.GradientTransformation`` as optimizer ``name``; ``optax:NAME`` is optax's own
alias ``optax.NAME`` (every public top-level function of optax whose signature takes
``learning_rate``, found in optax itself; the ``scale*``, ``clip*`` and ``chain*``
transforms are not optimizers). Either runs in ``bench.driver``'s loop like ours (same
stopping, counting, trace and timing). The state is ``(x, f, g, opt_state)``; a step is

    updates, opt_state = tx.update(g, opt_state, x)
    x = optax.apply_updates(x, updates)
    f, g = value_and_grad(x)                   # +1 nfev, +1 njev

with StepInfo(step_size=learning_rate, nfev=1, njev=1, nhev=0), the start counting one
of each (as in the driver). Hyperparameters are optax's keyword names and defaults
(``lr`` is accepted for ``learning_rate``, whose default is 1e-3 where optax has none).
Float values are run-time data (``hp``): the transformation is built inside
``init``/``step`` (optax's factories only close over their arguments, so jax traces
them as values), so an lr grid is one program. Other values (bools, ints, None) are
structural: one (init, step) pair per ``make`` and structural values. An alias whose
update needs more than (updates, state, params) (``optax.lbfgs``'s line search wants
``value_fn``, and would evaluate f and g inside optax where the driver cannot count
them) is refused with that reason.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optimizers.base import (
    OPTAX_BUILT,
    OPTAX_PREFIX,
    Optimizer,
    StepInfo,
    check_bool,
    check_positive,
    register,
)

DEFAULT_LEARNING_RATE = 1e-3
# what the error of a refused alias says after its label (``bench list`` shows the rest)
REFUSED = " cannot run in our driver: "
# top-level optax functions taking learning_rate that are transforms, not optimizers
_TRANSFORMS = ("scale", "clip", "chain")


class OptaxState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    opt_state: Any  # the GradientTransformation's own state (a pytree)


def register_optax(name: str, make: Callable[..., Any]) -> Callable[..., Optimizer]:
    """Register optimizer ``name`` whose update rule is ``make(**hp)``, an optax
    GradientTransformation; returns its factory."""
    fn = register(name)(factory(name, make))
    OPTAX_BUILT.add(name)
    return fn


@functools.cache
def aliases() -> dict[str, Callable[..., Any]]:
    """optax's optimizer aliases by name: its public functions taking learning_rate."""
    import optax

    found = {}
    for name in sorted(dir(optax)):
        fn = getattr(optax, name)
        if name.startswith(("_", *_TRANSFORMS)) or inspect.isclass(fn):
            continue
        try:
            takes_lr = "learning_rate" in inspect.signature(fn).parameters
        except (TypeError, ValueError):  # not a function with a signature
            continue
        if takes_lr:
            found[name] = fn
    return found


@functools.cache
def alias(method: str) -> Callable[..., Optimizer]:
    """The factory of ``optax:<method>`` (ValueError naming optax's optimizers)."""
    found = aliases()
    if method not in found:
        raise ValueError(
            f"unknown optax optimizer '{OPTAX_PREFIX}{method}'; optax's optimizers: "
            f"{', '.join(found)}"
        )
    return factory(OPTAX_PREFIX + method, found[method])


def factory(name: str, make: Callable[..., Any]) -> Callable[..., Optimizer]:
    """The optimizer factory for ``make``: optax's keywords and defaults, the values
    checked, floats as run-time ``hp`` (see the module docstring)."""
    sig = inspect.signature(make)
    own = [p for p in sig.parameters.values()
           if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
    defaults = {p.name: p.default for p in own}
    if "learning_rate" in defaults and not _is_number(defaults["learning_rate"]):
        defaults["learning_rate"] = DEFAULT_LEARNING_RATE
    # the label shows every scalar default (None and objects only when given)
    shown = {k: v for k, v in defaults.items() if _is_scalar(v)}

    def build(**given: Any) -> Optimizer:
        params = {**shown, **{k: _checked(k, v, defaults[k]) for k, v in given.items()}}
        missing = [k for k, v in params.items() if v is inspect.Parameter.empty]
        if missing:
            raise ValueError(f"optimizer {name!r} needs {', '.join(missing)}")
        hyper = tuple(k for k, v in params.items() if _is_float(v))
        static = tuple(sorted((k, v) for k, v in params.items() if k not in hyper))
        init, step = _functions(make, static, hyper)
        opt = Optimizer(name, init, step, params, hyper)
        _check_runs(opt)
        return opt

    build.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
            for k, v in defaults.items()
        ]
    )
    build.__doc__ = f"{name}: {_first_line(make)}"
    return build


@functools.cache
def _functions(make: Callable[..., Any], static: tuple, hyper: tuple[str, ...]):
    """The one (init, step) pair of ``make`` with these structural values: the
    driver keys its programs on them."""
    fixed = dict(static)
    lr_fixed = fixed.get("learning_rate", math.nan)

    def transformation(hp):
        return make(**fixed, **hp)

    def init(oracles, x0, hp):
        f, g = oracles.value_and_grad(x0)
        return OptaxState(x0, f, g, transformation(hp).init(x0))

    def step(oracles, s: OptaxState, hp):
        import optax

        updates, opt_state = transformation(hp).update(s.g, s.opt_state, s.x)
        x = optax.apply_updates(s.x, updates)
        f, g = oracles.value_and_grad(x)
        lr = jnp.asarray(hp.get("learning_rate", lr_fixed), x.dtype)
        return OptaxState(x, f, g, opt_state), StepInfo(lr, 1, 1, 0)

    return init, step


def _check_runs(opt: Optimizer) -> None:
    """Trace one init and step (no compile) once per (init, step) and values'
    types: ValueError with optax's reason when the transformation cannot run here."""
    key = (opt.init, opt.step, opt.name)
    if key not in _RUNS:
        _trace(opt.init, opt.step, opt.label, opt.hp())
        _RUNS.add(key)


_RUNS: set[tuple] = set()  # (init, step, name) traced once without an error


def _trace(init, step, name: str, hp: dict[str, Any]) -> None:
    from problems.base import Oracles

    quad = Oracles(lambda x: jnp.sum(x * x), lambda x: 2 * x, lambda x: 2 * jnp.eye(2))

    def one(hp):
        return step(quad, init(quad, jnp.ones(2), hp), hp)

    try:
        jax.eval_shape(one, hp)
    except TypeError as exc:
        if "required keyword-only argument" in str(exc):
            raise ValueError(
                f"{name}{REFUSED}optax's update needs more than "
                f"(updates, state, params) ({_one_line(exc)}); a line search inside "
                "optax evaluates f and g where oracle counts cannot be exact"
            ) from None
        raise ValueError(f"{name} does not build: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001  (optax rejected a value: say which)
        raise ValueError(
            f"{name} does not build: {type(exc).__name__}: {_one_line(exc)}"
        ) from None


def _checked(key: str, value: Any, default: Any) -> Any:
    """A given value checked against optax's default's type."""
    if key == "learning_rate":
        return check_positive(key, value)
    if isinstance(default, bool):
        return check_bool(key, value)
    if isinstance(default, float):
        if not _is_number(value) or not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number, got {key}={value!r}")
        return float(value)
    if isinstance(default, int) and not (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        raise ValueError(f"{key} must be an integer, got {key}={value!r}")
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_float(v: Any) -> bool:
    return isinstance(v, float)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, bool | int | float | str) or v is inspect.Parameter.empty


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _first_line(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.splitlines()[0] if doc else getattr(fn, "__name__", "")
