"""What to run: the run settings, and cells built from selections (problem and
optimizer objects), with their starting points. No I/O, no compiling."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

import optimizers
import problems
from bench import precision, thinning
from bench.solving import check_tolerance
from bench.suites import CellSpec
from optimizers.base import OPTAX_BUILT, OPTAX_PREFIX, check_count
from optimizers.theory import THEORY, resolve, theory_keys
from problems.base import Problem, make_label


@dataclass(frozen=True)
class Settings:
    starts: int = 4
    num_steps: int = 500
    gtol: float = 1e-10
    tol: float = 1e-8
    seed: int = 0
    precision: str = "float64"
    max_njev: int | None = None  # gradient-evaluation budget per run
    trace: str = "full"  # which steps are trace rows (bench/thinning.py)

    def __post_init__(self) -> None:
        check_count("starts", self.starts)
        check_count("num_steps", self.num_steps)
        check_tolerance("gtol", self.gtol)
        check_tolerance("tol", self.tol)
        if self.max_njev is not None:
            check_count("max_njev", self.max_njev)
        object.__setattr__(self, "trace", thinning.check(self.trace, "trace"))
        object.__setattr__(self, "precision", precision.canonical(self.precision))

    @property
    def precisions(self) -> tuple[str, ...]:
        return precision.parse(self.precision)


@dataclass(frozen=True)
class Cell:
    """A built cell: the problem and either our optimizer or a peer's name."""

    problem: Problem
    optimizer: str  # registry or peer name
    params: dict[str, Any]  # full hyperparameters (defaults filled in)
    opt: optimizers.Optimizer | None  # None for a peer
    # hyperparameters written `theory` (resolved in params): the label keeps the word,
    # so a sweep over problems is one config
    theory: tuple[str, ...] = ()
    precision: str = "float64"  # the problem is built in it, the cell runs in it

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells cells apart in the tables: (problem, config, precision)."""
        return self.problem.label, self.config, self.precision

    @property
    def config(self) -> str:
        return make_label(
            self.optimizer, {**self.params, **dict.fromkeys(self.theory, THEORY)}
        )

    @property
    def source(self) -> str:
        """``optbench``, the peer library, or ``optax`` for optax's update rules (in
        our driver: ``optax:NAME`` and names registered with register_optax)."""
        if self.optimizer in OPTAX_BUILT:
            return "optax"
        return self.optimizer.split(":")[0] if ":" in self.optimizer else "optbench"


def prepare(specs: list[CellSpec], precisions: tuple[str, ...] = ("float64",)
            ) -> list[Cell]:  # fmt: skip
    """Build every problem and optimizer, once per precision; ValueError naming the
    cell on a bad name or value. Two spellings of one cell (rosenbrock,
    rosenbrock[n=2]) run once. No I/O."""
    built = []
    for spec, prec in ((s, p) for p in precisions for s in specs):
        try:
            with precision.context(prec):  # the problem's arrays in its precision
                problem = problems.get(spec.problem, **spec.problem_params)
                built.append(cell(problem, spec.optimizer, spec.optimizer_params,
                                  prec))  # fmt: skip
        except MemoryError:
            raise ValueError(
                f"not enough memory to build cell {_spec_label(spec)}; choose a "
                "smaller problem"
            ) from None
        except (ValueError, TypeError, OverflowError) as exc:  # n="abc": bad too
            raise ValueError(
                f"{' '.join(str(exc).split())} (in cell {_spec_label(spec)})"
            ) from None
    return unique(built)


def unique(built: list[Cell]) -> list[Cell]:
    """Each (problem, config, precision) once, in order; ValueError when two
    different problem or optimizer objects carry one label in one precision (they
    would be merged in the tables)."""
    if not built:
        raise ValueError(
            "nothing to run: the selection has no (problem, optimizer) cell"
        )
    cells: dict[tuple[str, str, str], Cell] = {}
    by_label: dict[tuple[str, str, str], Any] = {}
    for c in built:
        # `theory` resolves to other numbers per problem under one label, by design
        opt = None if c.theory else c.opt
        for kind, label, obj in (("problem", c.problem.label, c.problem),
                                 ("optimizer", c.config, opt)):  # fmt: skip
            key = (kind, label, c.precision)
            if obj is not None and by_label.setdefault(key, obj) is not obj:
                raise ValueError(
                    f"two different {kind}s are both named {label!r}; give each "
                    "its own name (their results would be merged)"
                )
        cells.setdefault(c.key, c)
    return list(cells.values())


def _spec_label(spec: CellSpec) -> str:
    from bench.spec import format_spec

    return (
        f"{format_spec(spec.problem, spec.problem_params)} x "
        f"{format_spec(spec.optimizer, spec.optimizer_params)}"
    )


def cell(
    problem: Problem,
    optimizer: str | optimizers.Optimizer,
    params: dict[str, Any] | None = None,
    prec: str = "float64",
) -> Cell:
    """The cell of a built problem (built in ``prec``) and an optimizer: an Optimizer
    object, or a registered, ``optax:`` or peer name with its hyperparameters."""
    if isinstance(optimizer, optimizers.Optimizer):
        return Cell(problem, optimizer.name, dict(optimizer.params), optimizer,
                    precision=prec)  # fmt: skip
    params = params or {}
    if ":" in optimizer and not optimizer.startswith(OPTAX_PREFIX):
        from bench import peers

        peers.check_peer(optimizer, params)
        peers.check_problem(optimizer, problem)
        return Cell(problem, optimizer, {**peers.peer_defaults(optimizer), **params},
                    None, precision=prec)  # fmt: skip
    opt = optimizers.get(optimizer, **resolve(optimizer, params, problem))
    opt.check_problem(problem)
    return Cell(problem, optimizer, dict(opt.params), opt, tuple(theory_keys(params)),
                prec)  # fmt: skip


def starting_points(problem: Problem, k: int, seed: int) -> np.ndarray:
    """Row 0 is the problem's standard x0; the others perturb it by
    0.1 max(1, |x0_i|) N(0, 1) per coordinate. The draw depends on the seed and the
    problem label only, so every optimizer on a problem gets the same starts."""
    x0 = np.asarray(problem.x0, dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(problem.label.encode())])
    noise = rng.standard_normal((k - 1, x0.size)) * 0.1 * np.maximum(1.0, np.abs(x0))
    return np.vstack([x0, x0 + noise])
