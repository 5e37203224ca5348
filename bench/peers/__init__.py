"""Peers: the optimizers a user would otherwise pick, beside ours in the same tables.

One module per library, each a small adapter whose docstring says exactly what is
timed and what is counted:

- ``bench.peers.scipy``: ``scipy.optimize.minimize`` (BFGS, L-BFGS-B, CG, Newton-CG,
  trust-exact), timed as one minimize call per start;
- ``bench.peers.scipy_lsq``: ``scipy.optimize.least_squares`` (lm, trf) on problems
  with a residual, as ``scipy:least_squares-lm`` / ``scipy:least_squares-trf``;
- ``bench.peers.optimistix``: ``optx.BFGS``, timed as ``jax.jit`` of
  ``optx.minimise``, and ``optx.LevenbergMarquardt`` (``optx.least_squares``);
- optax's optimizers (``optax:NAME``) are not peers here: they run in our driver,
  built by ``optimizers.from_optax``.

``run_peer(problem, "scipy:BFGS", {}, x0s, num_steps, gtol, tol)`` returns a PeerRun:
per start a trace with the columns of the driver's (f, grad_norm, step_size, nfev, njev,
nhev) plus ``time_s`` and ``x`` (rows, dim), the iterate per row (f[i] = f(x[i]); the
last row's x is PeerRun.x), a status label, and the times. Rows are the start and each
accepted iterate; work after the last one (a failed line search, rejected trials) is
added to the last row's counters, so the last row holds the run's totals.

Two passes per start, so that observing a peer never slows the run that is timed:
a recording pass (callbacks, counting wrappers, a loop around the solver's step) gives
the trace and is never timed; the timed run is the library's own entry point as a user
calls it, timed by ``bench.timing.wall_seconds`` (dispatch included, as ours are).
``time_to_tol_s`` times the same entry point stopped at f - f* <= tol * max(1, |f*|);
NaN if the trace never gets there, or f* is unknown (the target exists only after the
run). Counting convention (as in ``bench.driver``): the start's f and g count one
evaluation each, so row 0 has nfev = njev = 1; one value_and_grad is 1 nfev + 1 njev.
Runs stop at ||g||_2 <= gtol (L-BFGS-B: its own ||proj g||_inf <= gtol), after
``num_steps`` iterations (scipy's nit, accepted optimistix steps), at a non-finite
value, or when the library gives up.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

from bench.peers.common import PeerRun
from bench.solving import check_starts, check_tolerance
from optimizers.base import check_count
from problems.base import Problem

__all__ = ["PEER_NAMES", "PeerRun", "check_peer", "check_problem", "is_peer",
           "peer_defaults", "preload", "run_peer"]  # fmt: skip

PEER_NAMES: tuple[str, ...] = (
    "scipy:BFGS",
    "scipy:L-BFGS-B",
    "scipy:CG",
    "scipy:Newton-CG",
    "scipy:trust-exact",
    "scipy:least_squares-lm",
    "scipy:least_squares-trf",
    "optimistix:BFGS",
    "optimistix:LevenbergMarquardt",
)

_DEFAULTS: dict[str, dict[str, float]] = {
    "scipy:BFGS": {},
    "scipy:L-BFGS-B": {},
    "scipy:CG": {},
    "scipy:Newton-CG": {},
    "scipy:trust-exact": {},
    "scipy:least_squares-lm": {},
    "scipy:least_squares-trf": {},
    "optimistix:BFGS": {},
    "optimistix:LevenbergMarquardt": {},
}
# peers that solve least-squares problems: only problems with a residual
LEAST_SQUARES = ("scipy:least_squares-lm", "scipy:least_squares-trf",
                 "optimistix:LevenbergMarquardt")  # fmt: skip

# pip package that provides each library (the import name happens to match).
_PIP = {"scipy": "scipy", "optimistix": "optimistix"}


_LIBRARY = {"scipy": "scipy.optimize", "optimistix": "optimistix"}


def preload(names: list[str]) -> None:
    """Import the libraries of the peers ``names`` (scipy.optimize alone takes 0.7 s),
    e.g. on a worker thread while the first program compiles."""
    for lib in sorted({n.split(":")[0] for n in names}):
        importlib.import_module(_LIBRARY[lib])


def is_peer(name: str) -> bool:
    """True for a name of the peer form ``lib:Method`` (valid or not: check_peer)."""
    if not isinstance(name, str):
        return False
    lib, sep, method = name.partition(":")
    return bool(sep and lib and method)


def peer_defaults(name: str) -> dict[str, Any]:
    """The hyperparameters peer ``name`` accepts, with their defaults."""
    _check_name(name)
    return dict(_DEFAULTS[name])


def check_peer(name: str, params: dict[str, Any]) -> None:
    """ValueError for an unknown peer, a missing library, an unknown hyperparameter or
    an invalid value."""
    _check_name(name)
    lib = name.split(":", 1)[0]
    try:
        importlib.import_module(lib)
    except ImportError as err:
        raise ValueError(
            f"peer {name!r} needs the {lib} library, which is not importable "
            f"({err}); install the pip package {_PIP[lib]!r} (pip install {_PIP[lib]})"
        ) from None
    accepted = _DEFAULTS[name]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"peer {name!r} has no hyperparameter {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )


def check_problem(name: str, problem: Problem) -> None:
    """ValueError, one line, where peer ``name`` cannot run on ``problem``."""
    if name in LEAST_SQUARES and problem.residual is None:
        raise ValueError(f"{name} is a least-squares method and {problem.label} has "
                         "no residual r(x) with f = sum r^2")  # fmt: skip


def _check_name(name: str) -> None:
    if name.startswith("optax:"):
        raise ValueError(
            f"{name} runs in our driver: build it with optimizers.get({name!r}) and "
            "run it with bench.solve or the runner"
        )
    if name not in _DEFAULTS:
        raise ValueError(f"unknown peer {name!r}; valid names: {', '.join(PEER_NAMES)}")


def run_peer(
    problem: Problem,
    name: str,
    params: dict[str, Any],
    x0s: Any,
    num_steps: int,
    gtol: float,
    tol: float,
) -> PeerRun:
    """Run peer ``name`` with hyperparameters ``params`` from each row of ``x0s``
    (see the module docstring and the library's module)."""
    from bench.results import solved_threshold

    check_peer(name, params)
    check_count("num_steps", num_steps)
    gtol = check_tolerance("gtol", gtol)
    tol = check_tolerance("tol", tol)
    x0s = np.asarray(check_starts(problem, x0s))
    f_star = problem.f_star
    # gap <= tol*max(1,|f*|); thr = -inf turns the test off when f* is unknown
    thr = -math.inf if f_star is None else solved_threshold(f_star, tol)
    fs = 0.0 if f_star is None else float(f_star)
    lib, method = name.split(":", 1)
    check_problem(name, problem)
    if method.startswith("least_squares-"):
        from bench.peers import scipy_lsq

        return scipy_lsq.run(problem, method.split("-", 1)[1], x0s, num_steps, gtol,
                             fs, thr)  # fmt: skip
    if lib == "scipy":
        from bench.peers import scipy

        return scipy.run(problem, method, x0s, num_steps, gtol, fs, thr)
    if lib == "optimistix":
        from bench.peers import optimistix

        return optimistix.run(problem, x0s, num_steps, gtol, fs, thr, method)
    raise AssertionError(f"no adapter for peer {name}")  # check_peer knows them all
