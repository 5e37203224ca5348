"""Run precisions: ``float64``, ``float32``, or both in one run (``float32,float64``).

A run with one precision sets JAX's x64 flag for the process (``bench.cli.run.
set_precision``). A run with both keeps x64 on and runs each cell under its own
precision with ``jax.enable_x64`` (a thread-local context): the cell's problem is
built, its programs traced and compiled, and its calls made in that context, so a
float32 cell is the same float32 program a ``--precision float32`` run makes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

PRECISIONS = ("float64", "float32")


def parse(value: str | Sequence[str], name: str = "precision") -> tuple[str, ...]:
    """The precisions of ``"float32,float64"`` or ``["float32", "float64"]``, in the
    order given, each once; ValueError saying what is accepted."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        out = tuple(dict.fromkeys(str(v).strip() for v in items))
    except TypeError:
        out = ()
    if not out or any(p not in PRECISIONS for p in out):
        raise ValueError(
            f"{name} must be float64 or float32, or a comma list of both "
            f"(float32,float64), got {value!r}"
        )
    return out


def canonical(value: str | Sequence[str], name: str = "precision") -> str:
    """The setting as stored (settings, manifest): ``float64``, ``float32,float64``."""
    return ",".join(parse(value, name))


def x64(precisions: Sequence[str]) -> bool:
    """The process's x64 flag for a run of these precisions: on unless float32 alone."""
    return "float64" in precisions


@contextlib.contextmanager
def context(precision: str) -> Iterator[None]:
    """This thread in ``precision``: arrays, traces and compiled calls made inside
    are of that precision (a no-op where the process is already in it)."""
    import jax

    with jax.enable_x64(precision == "float64"):
        yield


def labelled(df: Any) -> Any:
    """``df`` (runs, traces or targets rows) for views that tell cells apart by
    their config label (the report, compare, the terminal summary): in a run of
    several precisions each label names its precision, ``bfgs (float32)``; the label
    as written is kept in ``config_spec``. Idempotent; a frame of one precision (or
    none recorded) keeps its labels."""
    if "config" not in df:
        return df
    df = df.copy()
    spec = df["config"].astype(str)
    if "precision" in df and df["precision"].nunique() > 1:
        suffix = " (" + df["precision"].astype(str) + ")"
        spec = spec.combine(suffix, str.removesuffix)
        df["config"] = spec + suffix
    df["config_spec"] = spec
    return df
