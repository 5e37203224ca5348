"""Named suites: what ``python -m bench run`` runs.

A suite is a list of groups; a group crosses a list of problem SPECs with a list of
optimizer SPECs (``bench.spec``). Groups exist because one set of hyperparameters
cannot suit every problem: a fixed learning rate must sit below 2/L, and L runs from
~0.4 (logistic regression) to ~1e3 (Rosenbrock), so first-order methods get their lr
per problem scale while the scale-free methods (line searches, Newton, quasi-Newton)
share one group. A suite may also carry its own ``starts`` and ``steps``.

Cells repeated across groups run once (the first occurrence keeps its place).
``--problems`` / ``--optimizers`` override a suite's selections (see ``override``).
TOML configs are read by ``bench.config``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from bench.spec import canonical, expand, parse_spec

MAX_CELLS = 100_000  # cells a selection may hold (each is a compiled lane set and rows)


class CellSpec(NamedTuple):
    """One (problem, optimizer) selection by name, as parsed from a SPEC."""

    problem: str
    problem_params: dict[str, Any]
    optimizer: str
    optimizer_params: dict[str, Any]


@dataclass(frozen=True)
class Group:
    """Every problem SPEC here crossed with every optimizer SPEC here."""

    problems: tuple[str, ...]
    optimizers: tuple[str, ...]
    note: str = ""  # why these optimizers (and hyperparameters) suit these problems

    def cells(self) -> list[CellSpec]:
        probs = [c for s in self.problems for c in expand(s)]
        opts = [c for s in self.optimizers for c in expand(s)]
        if len(probs) * len(opts) > MAX_CELLS:
            raise ValueError(
                f"a group of {len(probs)} problems x {len(opts)} optimizer configs is "
                f"{len(probs) * len(opts)} cells, more than {MAX_CELLS}; select fewer"
            )
        return [CellSpec(pn, pp, on, op) for pn, pp in probs for on, op in opts]

    def problem_names(self) -> set[str]:
        return {parse_spec(s)[0] for s in self.problems}


@dataclass(frozen=True)
class Suite:
    name: str
    groups: tuple[Group, ...]
    description: str = ""
    starts: int | None = None  # None: the harness default (bench.runner.Settings)
    steps: int | None = None

    def cells(self) -> list[CellSpec]:
        """All cells of all groups, in order, each (problem, config) once."""
        out, seen = [], set()
        for g in self.groups:
            for c in g.cells():
                if len(out) >= MAX_CELLS:
                    raise ValueError(
                        f"suite {self.name} has more than {MAX_CELLS} cells; select "
                        "fewer"
                    )
                key = (
                    canonical(c.problem, c.problem_params),
                    canonical(c.optimizer, c.optimizer_params),
                )
                if key not in seen:
                    seen.add(key)
                    out.append(c)
        return out


def override(
    suite: Suite,
    problems: Sequence[str] | None = None,
    optimizers: Sequence[str] | None = None,
    name: str | None = None,
) -> Suite:
    """The suite with its problem and/or optimizer selection replaced.

    - both given: one group, problems x optimizers;
    - optimizers only: every problem of the suite x the given optimizers;
    - problems only: each given problem gets the optimizers of every group that holds
      a problem of the same name (so tuned learning rates follow their problem), or,
      for a problem the suite does not hold, those of the suite's first group.
    """
    name = name or suite.name
    if problems is None and optimizers is None:
        return replace(suite, name=name)
    if problems is not None and optimizers is not None:
        groups = (Group(tuple(problems), tuple(optimizers)),)
    elif optimizers is not None:
        probs = tuple(dict.fromkeys(p for g in suite.groups for p in g.problems))
        groups = (Group(probs, tuple(optimizers)),)
    else:
        assert problems is not None
        new = []
        for p in problems:
            pname = parse_spec(p)[0]
            hits = [g for g in suite.groups if pname in g.problem_names()]
            for g in hits or suite.groups[:1]:
                new.append(Group((p,), g.optimizers, g.note))
        groups = tuple(new)
    return replace(suite, name=name, groups=groups)


# ---------------------------------------------------------------------------- suites

# Scale-free methods: line searches and (quasi-)Newton need no learning rate.
SCALE_FREE = ("gd[armijo=true,lr=1]", "newton", "bfgs", "lbfgs")

# Fixed-step methods on quadratic[dim=20,kappa=100] (mu = 1, L = 100). Polyak's tuned
# heavy ball: lr = 4/(sqrt(L)+sqrt(mu))^2 = 0.0331, beta = ((sqrt(k)-1)/(sqrt(k)+1))^2
# = 0.669, swept from slow (0.01: ~210 steps to tol) past the stability limit
# 2(1+beta)/L = 0.0334 (0.05 diverges): the report's lr-sweep plot. Nesterov with
# lr = 1/L, beta = (sqrt(k)-1)/(sqrt(k)+1). gd around 2/L = 0.02: 0.01 misses tol in
# 500 steps, 0.019 reaches it (~360), 0.05 diverges.
QUADRATIC = "quadratic[dim=20,kappa=100]"
QUADRATIC_FIRST_ORDER = (
    "momentum[beta=0.669,lr=[0.01,0.02,0.0331,0.05]]",
    "nesterov[beta=0.818,lr=0.01]",
    "gd[lr=[0.01,0.019,0.05]]",
    "adam[lr=[0.01,0.1,1]]",
)

DEFAULT_PROBLEMS = (
    "rosenbrock[n=2]",
    QUADRATIC,
    "beale",
    "helical_valley",
    "powell_singular",
    "wood",
    "brown_badly_scaled",
    "logistic_regression",
    "house_prices",
    "mlp",
)


def _default() -> Suite:
    return Suite(
        "default",
        (
            Group(DEFAULT_PROBLEMS, SCALE_FREE, "no learning rate to tune"),
            # few cells: `make run` has a budget (the lsq and scale suites go further)
            Group(
                ("rosenbrock[n=2]", QUADRATIC),
                ("newton_cg", "trust_ncg"),
                "matrix-free Newton: Hessian-vector products",
            ),
            Group(
                ("rosenbrock[n=2]",),
                ("gauss_newton", "levenberg_marquardt"),
                "least squares: Rosenbrock's residual",
            ),
            Group((QUADRATIC,), QUADRATIC_FIRST_ORDER, "L = 100: lr ~ 1/L, sweeps"),
            Group(
                ("logistic_regression",),
                (
                    "momentum[beta=0.9,lr=1]",
                    "nesterov[beta=0.9,lr=1]",
                    "adam[lr=0.1]",
                    "optax:adam[lr=0.1]",
                ),
                "L ~ 0.4 at x0: lr ~ 1; optax's Adam beside ours",
            ),
            Group(
                ("mlp",),
                (
                    "momentum[beta=0.9,lr=0.1]",
                    "nesterov[beta=0.9,lr=0.1]",
                    "adam[lr=0.03]",
                    "optax:adam[lr=0.03]",
                ),
                "L ~ 10 at x0: lr ~ 0.1",
            ),
            Group(
                ("rosenbrock[n=2]",),
                ("momentum[beta=0.9,lr=0.001]", "adam[lr=0.03]"),
                "L ~ 1.5e3 at x0: lr ~ 1e-3; the curved valley defeats fixed steps",
            ),
            Group(
                ("rosenbrock[n=2]", QUADRATIC, "logistic_regression"),
                ("scipy:BFGS",),
                "scipy's BFGS beside ours",
            ),
        ),
        "a cross-section: every optimizer of ours on classic, MGH and ML problems, "
        "lr sweeps, scipy's BFGS and optax's Adam; what `make run` runs",
        starts=4,
        steps=500,
    )


def _smoke() -> Suite:
    return Suite(
        "smoke",
        (
            Group(("rosenbrock[n=2]",), SCALE_FREE),
            Group(
                ("quadratic[dim=5,kappa=10]",),
                ("gd[lr=[0.05,0.1,0.18]]", "adam[lr=0.1]"),
                "L = 10: gd stable below lr = 0.2",
            ),
            Group(("rosenbrock[n=2]",), ("scipy:BFGS",)),
        ),
        "a quick check of the whole pipeline (under a minute)",
        starts=2,
        steps=200,
    )


def mgh_names() -> tuple[str, ...]:
    try:
        from problems.mgh import MGH_NAMES
    except ImportError as exc:
        raise ValueError(
            f"suite needs problems.mgh.MGH_NAMES, which is not available: {exc}"
        ) from None
    return tuple(MGH_NAMES)


def _mgh_groups() -> tuple[Group, ...]:
    return (
        Group(
            mgh_names(),
            (*SCALE_FREE, "scipy:BFGS"),
            "More, Garbow & Hillstrom 1981 at their standard sizes",
        ),
    )


def _mgh() -> Suite:
    return Suite(
        "mgh",
        _mgh_groups(),
        "all 35 More-Garbow-Hillstrom problems, scale-free methods and scipy's BFGS",
        starts=4,
        steps=2000,
    )


def _ml_groups() -> tuple[Group, ...]:
    logreg = ("logistic_regression", "logistic_regression[reg=0.0001]")
    mlps = ("mlp", "mlp[hidden=32]")
    return (
        Group((*logreg, "house_prices", "mlp"), SCALE_FREE),
        Group(
            ("mlp[hidden=32]",),
            tuple(o for o in SCALE_FREE if o != "newton"),
            "dim 97: Newton's dense Hessian costs ~40 ms a step here (minutes a cell)",
        ),
        Group(
            logreg,
            (
                "gd[lr=[0.3,1,3]]",
                "momentum[beta=0.9,lr=[0.1,0.3,1]]",
                "nesterov[beta=0.9,lr=1]",
                "adam[lr=[0.01,0.1,1]]",
                "optax:adam[lr=0.1]",
            ),
            "L <~ 0.4: lr ~ 1",
        ),
        Group(
            mlps,
            (
                "gd[lr=[0.03,0.1,0.3]]",
                "momentum[beta=0.9,lr=[0.03,0.1]]",
                "nesterov[beta=0.9,lr=0.1]",
                "adam[lr=[0.003,0.01,0.03]]",
                "optax:adam[lr=0.03]",
            ),
            "L ~ 10: lr ~ 0.1",
        ),
        Group(
            ("house_prices",),
            ("adam[lr=[0.1,1,10]]",),
            "raw features, L ~ 6e4: only a per-coordinate step copes",
        ),
        # not on the MLPs: without a known f* scipy runs all its iterations through
        # Python callbacks, ~10 s a cell
        Group(logreg, ("scipy:L-BFGS-B",)),
    )


def _ml() -> Suite:
    return Suite(
        "ml",
        _ml_groups(),
        "machine-learning objectives: all optimizers, lr sweeps, optax and scipy peers",
        starts=4,
        steps=1000,
    )


def _full() -> Suite:
    big_quadratics = "quadratic[dim=100,kappa=[100,10000],spectrum=[linear,log]]"
    extra = (
        Group(
            ("rosenbrock[n=[10,100]]", big_quadratics),
            (*SCALE_FREE, "scipy:L-BFGS-B", "scipy:Newton-CG", "optimistix:BFGS"),
            "larger instances",
        ),
        Group(
            (big_quadratics,),
            ("nesterov[beta=0.9,lr=0.01]", "adam[lr=[0.01,0.1,1]]"),
            "L = 1e2 and 1e4 share mu = 1: lr ~ 1/L for the smaller",
        ),
    )
    return Suite(
        "full",
        (*_default().groups, *_mgh_groups(), *_ml_groups(), *extra),
        "default + mgh + ml + larger instances and more peers",
        starts=4,
        steps=1000,
    )


def _study(name: str) -> Callable[[], Suite]:
    """A suite of bench/study_suites.py (the studies: sweeps over kappa, least squares,
    sizes, CUTEst), built when asked for."""

    def build() -> Suite:
        from bench import study_suites

        return getattr(study_suites, name)()

    return build


_SUITES: dict[str, Callable[[], Suite]] = {
    "smoke": _smoke,
    "default": _default,
    "mgh": _mgh,
    "ml": _ml,
    "full": _full,
    "kappa": _study("kappa"),
    "lsq": _study("lsq"),
    "scale": _study("scale"),
}


def names() -> list[str]:
    return list(_SUITES)


def get(name: str, max_dim: int | None = None) -> Suite:
    """A built-in suite (ValueError naming the valid ones); ``max_dim`` only for
    ``cutest``."""
    if name == "cutest":
        from bench.study_suites import cutest

        return cutest(100 if max_dim is None else max_dim)
    if max_dim is not None:
        raise ValueError("--max-dim applies to --suite cutest only")
    if name not in _SUITES:
        raise ValueError(
            f"unknown suite {name!r}; valid suites: {', '.join(_SUITES)}, cutest"
        )
    return _SUITES[name]()


def folder_name(name: str) -> str:
    """A suite name made safe for a folder name."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", name).strip("-.") or "run"


def summarize(suite: Suite) -> tuple[int, int, int]:
    """(cells, distinct problems, distinct configs) of a suite."""
    cells = suite.cells()
    probs = {canonical(c.problem, c.problem_params) for c in cells}
    opts = {canonical(c.optimizer, c.optimizer_params) for c in cells}
    return len(cells), len(probs), len(opts)
