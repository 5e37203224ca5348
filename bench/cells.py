"""What to run: the run settings, and cells built from selections (problem and
optimizer objects), with their starting points. No I/O, no compiling."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

import optimizers
import problems
from bench.driver import check_tolerance
from bench.suites import CellSpec
from optimizers.base import check_count
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

    def __post_init__(self) -> None:
        check_count("starts", self.starts)
        check_count("num_steps", self.num_steps)
        check_tolerance("gtol", self.gtol)
        check_tolerance("tol", self.tol)
        if self.max_njev is not None:
            check_count("max_njev", self.max_njev)
        if self.precision not in ("float64", "float32"):
            raise ValueError(
                f"precision must be float64 or float32, got {self.precision!r}"
            )


@dataclass(frozen=True)
class Cell:
    """A built cell: the problem and either our optimizer or a peer's name."""

    problem: Problem
    optimizer: str  # registry or peer name
    params: dict[str, Any]  # full hyperparameters (defaults filled in)
    opt: optimizers.Optimizer | None  # None for a peer

    @property
    def config(self) -> str:
        return make_label(self.optimizer, self.params)

    @property
    def source(self) -> str:
        """``optbench``, or the peer library (``optax`` runs in our driver)."""
        return self.optimizer.split(":")[0] if ":" in self.optimizer else "optbench"


def prepare(specs: list[CellSpec]) -> list[Cell]:
    """Build every problem and optimizer; ValueError naming the cell on a bad name or
    value. Two spellings of one cell (rosenbrock, rosenbrock[n=2]) run once. No I/O."""
    if not specs:
        raise ValueError(
            "nothing to run: the selection has no (problem, optimizer) cell"
        )
    cells: dict[tuple[str, str], Cell] = {}
    for spec in specs:
        try:
            cell = _build(spec)
        except (ValueError, TypeError, OverflowError) as exc:  # n="abc": bad too
            raise ValueError(
                f"{' '.join(str(exc).split())} (in cell {_spec_label(spec)})"
            ) from None
        cells.setdefault((cell.problem.label, cell.config), cell)
    return list(cells.values())


def _spec_label(spec: CellSpec) -> str:
    from bench.spec import format_spec

    return (
        f"{format_spec(spec.problem, spec.problem_params)} x "
        f"{format_spec(spec.optimizer, spec.optimizer_params)}"
    )


def _build(spec: CellSpec) -> Cell:
    problem = problems.get(spec.problem, **spec.problem_params)
    if spec.optimizer.startswith("optax:"):  # optax's update rule in our driver
        from bench.peers import optax

        opt = optax.optimizer(spec.optimizer.split(":", 1)[1], spec.optimizer_params)
        return Cell(problem, spec.optimizer, dict(opt.params), opt)
    if ":" in spec.optimizer:
        from bench import peers

        peers.check_peer(spec.optimizer, spec.optimizer_params)
        peers.check_problem(spec.optimizer, problem)
        params = {**peers.peer_defaults(spec.optimizer), **spec.optimizer_params}
        return Cell(problem, spec.optimizer, params, None)
    opt = optimizers.get(spec.optimizer, **spec.optimizer_params)
    opt.check_problem(problem)
    return Cell(problem, spec.optimizer, dict(opt.params), opt)


def starting_points(problem: Problem, k: int, seed: int) -> np.ndarray:
    """Row 0 is the problem's standard x0; the others perturb it by
    0.1 max(1, |x0_i|) N(0, 1) per coordinate. The draw depends on the seed and the
    problem label only, so every optimizer on a problem gets the same starts."""
    x0 = np.asarray(problem.x0, dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(problem.label.encode())])
    noise = rng.standard_normal((k - 1, x0.size)) * 0.1 * np.maximum(1.0, np.abs(x0))
    return np.vstack([x0, x0 + noise])
