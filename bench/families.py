"""Families: the cells one compiled program can run together (same problem family
and data shapes, same optimizer functions), their lanes (cells x starts) and program
arguments, and the worker threads that compile families ahead of the run."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from bench import driver, precision
from bench.cells import Cell, Settings, starting_points


def families(cells: list[Cell]) -> list[list[Cell]]:
    """Our cells grouped by the program that can run them together, in order of first
    appearance; each peer cell is a family of its own, after ours."""
    groups: dict[tuple, list[Cell]] = {}
    peers = []
    for c in cells:
        if c.opt is None:
            peers.append([c])
            continue
        with precision.context(c.precision):
            key = driver.program_key(c.problem, c.opt, 0, 0, False, False)
        groups.setdefault(key, []).append(c)
    return list(groups.values()) + peers


# At most this many lanes, a family runs its one-lane program lane by lane: one
# program instead of two, where a compile (about a second) outweighs running a few
# lanes one after the other (the default suite: 120 programs became 60).
LANE_BY_LANE = 8


class Family:
    """The lanes of one family (cells x starts) and its programs' arguments."""

    def __init__(self, cells: list[Cell], s: Settings, timed: bool = True) -> None:
        self.cells, self.s = cells, s
        self.timed = timed  # False: no one-lane program, no per-start times
        self.first = cells[0]
        self.starts = [starting_points(c.problem, s.starts, s.seed) for c in cells]
        self.record_path = driver.records_path(self.first.problem)

    @property
    def lanes(self) -> int:
        return len(self.cells) * self.s.starts

    @property
    def batched_data(self) -> bool:
        return driver.batch_data(self.first.problem, self.lanes)

    @property
    def lane_by_lane(self) -> bool:
        """Whether the traces come from the one-lane program, called once per lane
        (a timed family of at most LANE_BY_LANE lanes): then that is the family's
        only program."""
        return self.timed and self.lanes <= LANE_BY_LANE

    def compile(self) -> tuple[float, bool, dict[str, Any]]:
        """Compile (or fetch) the family's programs (the batched one unless it runs
        lane by lane, the one-lane one if timed): the seconds that took (tracing
        and lowering included: what its cells' compile_s share), whether they came
        from the persistent cache, and the manifest's counts and those seconds."""
        from bench import cache

        # on a worker thread: jax's x64 flag is per thread, so entered here too
        with precision.context(self.first.precision), cache.CompileStats(
            this_thread=True
        ) as stats:
            _, a = (None, 0.0) if self.lane_by_lane else self.batch_program()
            _, b = self.lane_program() if self.timed else (None, 0.0)
        cached = stats.programs_from_cache > 0 and stats.programs_compiled == 0
        return a + b, cached, {**stats.as_dict(), "seconds": round(a + b, 6)}

    def batch_program(self) -> tuple[Any, float]:
        """``driver.program`` for all lanes at once (in the family's precision
        context); with the targets' records where the trace is thinned (a full
        trace holds every row they come from, and a family of one lane without a
        2-D path then runs one program, not two)."""
        return driver.program(self.first.problem, self.first.opt, self.s.num_steps,
                              self.lanes, self.record_path, self.batched_data,
                              self.s.trace, targets=self.records_targets)  # fmt: skip

    @property
    def records_targets(self) -> bool:
        return self.s.trace != "full"

    def lane_program(self) -> tuple[Any, float]:
        """``driver.program`` for one lane (what ``bench.solve`` runs): the timings';
        the traces' too when the family runs lane by lane, then with the targets'
        records where the trace is thinned."""
        return driver.program(self.first.problem, self.first.opt, self.s.num_steps, 1,
                              self.record_path, trace=self.s.trace,
                              targets=self._lane_targets)  # fmt: skip

    @property
    def _lane_targets(self) -> bool:
        return self.lane_by_lane and self.records_targets

    def batch_args(self) -> driver.Args:
        opt, s = self.first.opt, self.s
        x0s = np.concatenate(self.starts)
        hp = {k: np.repeat([c.opt.params[k] for c in self.cells], s.starts)
              for k in opt.hyper}  # fmt: skip
        data = self.first.problem.data
        if self.batched_data:
            data = _stack([c.problem.data for c in self.cells for _ in range(s.starts)])
        levels = [f_levels(c.problem, s.tol, self.records_targets) for c in self.cells]
        f_tol = np.repeat(levels, s.starts, axis=0)
        return driver.args(self.first.problem, x0s, hp, data, s.gtol,
                           max_njev=s.max_njev, f_tol=f_tol)  # fmt: skip

    def lane_args(self, i: int, j: int, f_target: float | None) -> driver.Args:
        """Start j of cell i, stopping at f <= ``f_target`` (None: never)."""
        c, s = self.cells[i], self.s
        target = None if f_target is None else np.array([f_target])
        f_tol = f_levels(c.problem, s.tol, self._lane_targets)[None]
        return driver.args(c.problem, self.starts[i][j][None], c.opt.hp(),
                           c.problem.data, s.gtol, target, s.max_njev,
                           f_tol)  # fmt: skip


def tol_target(problem, tol: float) -> float:
    """The f at which a run counts as within tolerance: f* + tol max(1, |f*|)
    (bench.results.solved_threshold); -inf where f* is unknown."""
    from bench.results import solved_threshold

    if problem.f_star is None:
        return -np.inf
    return problem.f_star + solved_threshold(problem.f_star, tol)


def f_levels(problem, tol: float, targets: bool = True) -> np.ndarray:
    """The f levels whose first row the loop records (``driver.Args.f_tol``): the
    tolerance's, then (``targets``) f* + t max(1, |f*|) for each t of
    bench.targets.TARGETS; -inf where f* is unknown (it is the best f found, known
    only after the run)."""
    from bench.targets import TARGETS

    levels = (tol, *TARGETS) if targets else (tol,)
    return np.array([tol_target(problem, t) for t in levels])


def _stack(datas: list[Any]) -> Any:
    import jax

    return jax.tree.map(lambda *v: np.stack([np.asarray(a) for a in v]), *datas)


class Compiler:
    """Families' programs compiled ahead on worker threads, one per core (XLA
    releases the GIL while it compiles): while families run, up to that many later
    families compile; ``wait_idle`` lets the timings run with every worker idle, so
    that no compile shares the machine with a measurement."""

    def __init__(self, families: list[Family], preload: Callable[[], Any] | None = None,
                 ) -> None:  # fmt: skip
        self.families = families
        self.workers = max(1, min(4, os.cpu_count() or 1))
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="compile")
        self.futures: list[Future] = []
        # imports for later (the peers' libraries), made while the first compile
        # leaves this thread waiting; a failure shows when the peer runs
        self.other = [] if preload is None else [self.pool.submit(preload)]

    def ahead(self) -> None:
        """Keep one compile in flight per worker, taking families in order."""
        idle = self.workers - sum(not f.done() for f in self.futures)
        for _ in range(idle):
            self._submit_next()

    def result(self, n: int) -> tuple[float, bool, dict[str, Any]]:
        while len(self.futures) <= n:
            self._submit_next()
        return self.futures[n].result()

    def _submit_next(self) -> None:
        if len(self.futures) < len(self.families):
            nxt = self.families[len(self.futures)]
            self.futures.append(self.pool.submit(nxt.compile))

    def wait_idle(self) -> None:
        for f in self.futures + self.other:
            f.exception()  # waits; errors surface in result()

    def close(self) -> None:
        """Cancel the compiles not begun; wait for those in flight, whose caches
        write their entries (``python -m bench`` exits without waiting for threads)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
