"""CUTEst's unconstrained problems through sif2jax (optional: ``pip install -e
'.[cutest]'``), as ``cutest:NAME`` (``problems.get("cutest:ROSENBR")``).

Each problem keeps sif2jax's declared dimension and start; f* is the SIF file's
declared optimum (``expected_objective_value``) where it has one, else unknown (the
best value found in the run). The problems are those sif2jax exports (its own
selection, read from its package's import list): it leaves out problems its authors
have not verified.

Why problems are imported one module at a time: ``import sif2jax`` imports all of its
~1500 problem modules, which took minutes on a loaded 2-core machine; a problem here
imports only its own module (sif2jax's package files are registered without running
their ``__init__``, unless sif2jax is already imported).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from problems.base import Problem

PREFIX = "cutest:"
INSTALL_HINT = (
    "CUTEst problems need the optional sif2jax package: pip install -e '.[cutest]' "
    "(or pip install sif2jax)"
)
_UNCONSTRAINED = "sif2jax.cutest._unconstrained_minimisation"


def _root() -> Path:
    spec = importlib.util.find_spec("sif2jax")  # finds it without importing it
    if spec is None or spec.origin is None:
        raise ValueError(INSTALL_HINT)
    return Path(spec.origin).parent


@functools.cache
def modules() -> dict[str, str]:
    """CUTEst name -> sif2jax module, for every unconstrained problem it exports."""
    text = _root() / "cutest" / "_unconstrained_minimisation" / "__init__.py"
    found = re.findall(r"^from \.(\w+) import (\w+) as \2$", text.read_text(), re.M)
    return {name: module for module, name in found}


def _problem_class(name: str):
    if name not in modules():
        raise ValueError(
            f"unknown CUTEst problem {name!r}; `python -m bench list --cutest` lists "
            f"the {len(modules())} unconstrained ones"
        )
    if "sif2jax" not in sys.modules:  # the packages, without their __init__
        root = _root()
        for pkg, path in (("sif2jax", root), ("sif2jax.cutest", root / "cutest"),
                          (_UNCONSTRAINED, root / "cutest" /
                           "_unconstrained_minimisation")):  # fmt: skip
            stub = types.ModuleType(pkg)
            stub.__path__ = [str(path)]
            sys.modules[pkg] = stub
    module = importlib.import_module(f"{_UNCONSTRAINED}.{modules()[name]}")
    return getattr(module, name)


def get(name: str) -> Problem:
    """The Problem of CUTEst problem ``name`` (ValueError: unknown, or no sif2jax)."""
    return _get(name, bool(jax.config.jax_enable_x64))  # float32 runs: their own


@functools.cache
def _get(name: str, x64: bool) -> Problem:
    sif = _problem_class(name)()
    args = sif.args
    f_star = sif.expected_objective_value
    x_star = sif.expected_result
    x0 = np.asarray(sif.y0, dtype=float).reshape(-1)
    ok_star = x_star is not None and np.shape(x_star) == x0.shape
    return Problem(
        name=PREFIX + name,
        f=lambda x: jnp.asarray(sif.objective(x, args)),
        x0=x0,
        f_star=None if f_star is None else float(f_star),
        x_star=np.asarray(x_star, dtype=float) if ok_star else None,
        reference=f"CUTEst {name} (SIF), via sif2jax",
    )


def dimensions(max_dim: int | None = None) -> dict[str, int]:
    """name -> n for every unconstrained problem (n <= max_dim where given); this
    imports each problem's module (a minute or more for all of them)."""
    out = {}
    for name in modules():
        n = int(_problem_class(name)().num_variables())
        if max_dim is None or n <= max_dim:
            out[name] = n
    return out
