"""The run loop: one compiled program per (problem family, optimizer family, shape).

A program runs L lanes at once; a lane is one start of one problem instance under one
set of hyperparameters. The instance's data and the hyperparameters are arguments of
the program, not constants, so a sweep over learning rates, starts, kappas or seeds
is one program and one call (docs/architecture.md).

The driver owns stopping and counting; an optimizer only computes a step. The loop is
a ``while_loop`` over ticks: each tick, every running lane calls its optimizer's
``step`` once (one iteration, or one line-search trial), and a lane whose call ends an
iteration writes its trace row at its own step index. The loop ends when every lane
has stopped, so no lane waits for another inside a step, and a run that converges
early costs nothing more. A lane stops (its state and counters frozen) when
||g|| <= gtol (converged), when an iteration produces a non-finite x, f or g (diverged:
the last finite values are kept), when two iterations in a row leave x unchanged
(stalled: a quasi-Newton method whose line search fails resets its model and deserves
one more try), when its steps or gradient evaluations reach their budgets, or when
f <= f_target (the timing runs stop there).
"""

from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from bench import cache, exestore, thinning, xla
from bench.lanes import over_lanes, packing, slot, write_rows
from bench.status import Status
from bench.targets import TARGETS
from bench.traces import Raw
from optimizers.base import COUNTERS, Optimizer
from problems.base import Problem, bind

NO_BUDGET = np.iinfo(np.int32).max
# ticks per step a line search may take at most (its trial limit, plus one)
_MAX_TRIALS = 41
_NJEV = COUNTERS.index("njev")
# f levels each lane records its first row at or below: the tolerance, then TARGETS
MARKS = 1 + len(TARGETS)


class _Lane(NamedTuple):
    state: Any
    counts: jax.Array  # (len(COUNTERS),) cumulative oracle calls
    k: jax.Array  # iterations taken
    status: jax.Array  # Status code; RUNNING until the lane stops
    idle: jax.Array  # the last iteration left x unchanged
    at_tol: jax.Array  # (1 + len(COUNTERS),) step, counts at the first f <= f_tol[0]


class Args(NamedTuple):
    """The run-time arguments of a program (leading axis L where per lane)."""

    x0: Any  # (L, n) starts
    hp: dict[str, Any]  # each (L,)
    data: Any  # the instances' data, leading axis L if ``data_batched``
    gtol: Any  # scalar
    f_target: Any  # (L,): stop at f <= f_target (-inf: never)
    max_njev: Any  # scalar int32
    f_tol: Any  # (L, 1 or MARKS): record the first row with f <= each (-inf: never)


def _row(lane: _Lane, alpha: jax.Array, record_path: bool) -> tuple:
    s = lane.state
    values = [s.f[None], jnp.linalg.norm(s.g)[None], alpha[None]]
    if record_path:
        values.append(s.x)
    return jnp.concatenate(values), lane.counts


def _at_tol(lane: _Lane, row: tuple, wrote, f_tol) -> jax.Array:
    """The lane's tolerance record after writing ``row``: its first row with f at or
    below the tolerance's level ``f_tol``."""
    first = wrote & (lane.at_tol[0] < 0) & (row[0][0] <= f_tol)
    record = jnp.concatenate([lane.k[None], lane.counts]).astype(lane.at_tol.dtype)
    return jnp.where(first, record, lane.at_tol)


def _at_targets(lanes: _Lane, wrote, marks: tuple, levels) -> tuple:
    """The target records ``marks`` = (at, pending) updated for the rows the lanes
    wrote on their last tick (``wrote``): at (L, targets, 1 + len(COUNTERS)) holds,
    per level, step and counts at the first row at or below it (-1: none yet);
    pending (L,) the highest level not reached yet (-inf: none left). Most ticks
    reach no new level and cost one comparison per lane; the update is a branch
    taken rarely (a select per level on every tick tripled the time of a step of
    gd). Made one tick late, on the values the loop carries, so that XLA does not
    compute f again for each level."""
    at, pending = marks
    f = lanes.state.f

    def update(_):
        first = wrote[:, None] & (at[..., 0] < 0) & (f[:, None] <= levels)
        record = jnp.concatenate([lanes.k[:, None], lanes.counts], axis=1)
        new = jnp.where(first[..., None], record[:, None].astype(at.dtype), at)
        return new, jnp.max(jnp.where(new[..., 0] < 0, levels, -jnp.inf), axis=1)

    return lax.cond(jnp.any(wrote & (f <= pending)), update, lambda _: marks, None)


def _first(conditions: list, statuses: list, default: int) -> jax.Array:
    """The status of the first true condition, else ``default`` (``jnp.select``'s
    meaning) as a chain of selects, which XLA fuses with the conditions, where
    ``jnp.select`` stacks them and reduces: adam's loop body went from 22 fusions
    to 14, its program from 2.0x to 1.65x the time of a bare optax scan."""
    status = jnp.asarray(default, jnp.int32)
    for condition, value in reversed(list(zip(conditions, statuses, strict=True))):
        status = jnp.where(condition, jnp.asarray(value, jnp.int32), status)
    return status


def _start(opt: Optimizer, oracles, x0, hp, gtol, f_target) -> _Lane:
    state = opt.init(oracles, x0, hp)
    g_norm = jnp.linalg.norm(state.g)
    bad = ~(jnp.isfinite(state.f) & jnp.isfinite(g_norm))  # f(x0) = nan, say
    status = _first([bad, state.f <= f_target, g_norm <= gtol],
                    [Status.DIVERGED, Status.TARGET, Status.CONVERGED],
                    Status.RUNNING)  # fmt: skip
    # init evaluates f and g once (Optimizer's contract)
    start_counts = jnp.array([c in ("nfev", "njev") for c in COUNTERS], jnp.int32)
    return _Lane(state, start_counts, jnp.array(0), status, jnp.array(False),
                 jnp.full(1 + len(COUNTERS), -1, jnp.int32))  # fmt: skip


def _advance(opt: Optimizer, oracles, lane: _Lane, hp, f_target, a: Args,
             num_steps: int):  # fmt: skip
    """One tick of one lane: the new lane, this tick's alpha, and whether the tick
    ended an iteration of a running lane (then it owns trace row ``k``)."""
    new, info = opt.step(oracles, lane.state, hp)
    _check_state(opt, lane.state, new)
    finite = (
        jnp.isfinite(new.f) & jnp.isfinite(new.g).all() & jnp.isfinite(new.x).all()
    )
    running = lane.status == Status.RUNNING
    # an iteration ended on this tick (a step to a non-finite point ends one too)
    ended = running & (info.accepted | ~finite)
    keep = running & finite
    state = jax.tree.map(lambda n, o: jnp.where(keep, n, o), new, lane.state)
    cost = jnp.stack([jnp.asarray(getattr(info, c), jnp.int32) for c in COUNTERS])
    counts = lane.counts + jnp.where(running, cost, 0)
    k = lane.k + ended
    idle = jnp.where(ended, finite & jnp.all(new.x == lane.state.x), lane.idle)
    # the target first: a timing run that reaches it on the step that also meets gtol
    # says it stopped there (the runner keeps its time only then)
    status = _first(
        [~running, ~finite, ~ended, state.f <= f_target,
         jnp.linalg.norm(state.g) <= a.gtol, idle & lane.idle, k >= num_steps,
         counts[_NJEV] >= a.max_njev],
        [lane.status, Status.DIVERGED, Status.RUNNING, Status.TARGET,
         Status.CONVERGED, Status.STALLED, Status.MAX_STEPS, Status.MAX_NJEV],
        Status.RUNNING,
    )  # fmt: skip
    alpha = jnp.where(ended & finite, info.step_size, 0.0).astype(new.x.dtype)
    return _Lane(state, counts, k, status, idle, lane.at_tol), alpha, ended


def _check_state(opt: Optimizer, old: Any, new: Any) -> None:
    """ValueError (when the program is traced) where ``step`` returns a state of
    another structure, or whose arrays differ in shape from those it was given: the
    loop would broadcast a wrong-shaped x silently (a plugin's x[:1] on a 2-D
    problem). A wrong dtype is XLA's error already."""
    try:
        given = jax.tree.structure(old).flatten_up_to(new)
    except (TypeError, ValueError):
        raise ValueError(f"optimizer {opt.name!r}: step returned a state of another "
                         "structure than it was given") from None  # fmt: skip
    for (path, o), n in zip(jax.tree_util.tree_flatten_with_path(old)[0], given,
                            strict=True):  # fmt: skip
        if jnp.shape(o) != jnp.shape(n):
            field = jax.tree_util.keystr(path)
            raise ValueError(
                f"optimizer {opt.name!r}: step returned state{field} of shape "
                f"{jnp.shape(n)}, given {jnp.shape(o)}: a step keeps its state's shapes"
            )


def _program(problem: Problem, opt: Optimizer, num_steps: int, record_path: bool,
             data_batched: bool, trace: str = "full"):  # fmt: skip
    """The function of ``Args`` that one compiled program runs."""
    family = problem.family
    data_axis = 0 if data_batched else None
    max_ticks = num_steps * (_MAX_TRIALS if opt.searches else 1)
    slot_of = thinning.slot_of_step(trace, num_steps)  # None: every step is a row

    def run(a: Args) -> Raw:
        lanes_n = a.x0.shape[0]
        rows_n = num_steps + 1 if slot_of is None else int(slot_of[-1]) + 1
        slots = None if slot_of is None else jnp.asarray(slot_of, jnp.int32)

        # per lane: start or state, hp, target, tolerance; data
        axes = (0, 0, 0, 0, data_axis)

        def start(x0, hp, f_target, f_tol, data):
            lane = _start(opt, bind(family, data), x0, hp, a.gtol, f_target)
            row = _row(lane, jnp.zeros((), x0.dtype), record_path)
            return lane._replace(at_tol=_at_tol(lane, row, True, f_tol)), row

        def tick(lane, hp, f_target, f_tol, data):
            lane, alpha, wrote = _advance(opt, bind(family, data), lane, hp, f_target,
                                          a, num_steps)  # fmt: skip
            row = _row(lane, alpha, record_path)
            return lane._replace(at_tol=_at_tol(lane, row, wrote, f_tol)), row, wrote

        lanes, row0 = over_lanes(start, axes, lanes_n)(
            a.x0, a.hp, a.f_target, a.f_tol[:, 0], a.data)
        levels = a.f_tol[:, 1:]  # the targets' (none in a timing program)
        targets = None  # (records, pending), the rows the last tick wrote
        if levels.shape[1]:
            first = (jnp.full(levels.shape + (1 + len(COUNTERS),), -1, jnp.int32),
                     jnp.max(levels, axis=1))  # fmt: skip
            wrote = jnp.ones(lanes_n, bool)  # row 0
            targets = (_at_targets(lanes, wrote, first, levels), ~wrote)
        bufs = tuple(
            jnp.zeros((lanes_n, rows_n + 1) + r.shape[1:], r.dtype).at[:, 0].set(r)
            for r in row0
        )  # the values and the counts

        # small lanes: carried as two flat vectors (bench.lanes.packing)
        pack, unpack = packing(jax.tree.map(lambda v: v[0], lanes), lanes_n)

        def cond(c):
            t, packed, _, _ = c
            return (t < max_ticks) & jnp.any(unpack(packed).status == Status.RUNNING)

        def body(c):
            t, packed, bufs, targets = c
            lanes = unpack(packed)
            if targets is not None:
                targets = (_at_targets(lanes, targets[1], targets[0], levels), None)
            lanes, rows, wrote = over_lanes(tick, axes, lanes_n)(
                lanes, a.hp, a.f_target, a.f_tol[:, 0], a.data)
            if targets is not None:
                targets = (targets[0], wrote)
            if opt.searches:  # each lane at its own row, if it wrote one
                bufs = write_rows(bufs, rows, lanes.k, wrote, slots)
            else:  # every lane steps on every tick: row t + 1 (stopped: overwritten)
                at = slot(slots, t + 1)
                if slots is not None:  # a stopped lane's last row may share this slot
                    rows = tuple(
                        jnp.where(wrote[:, None], r, lax.dynamic_index_in_dim(
                            b, at, 1, False))
                        for b, r in zip(bufs, rows, strict=True)
                    )  # fmt: skip
                bufs = tuple(lax.dynamic_update_index_in_dim(b, r, at, axis=1)
                             for b, r in zip(bufs, rows, strict=True))  # fmt: skip
            return t + 1, pack(lanes), bufs, targets

        _, packed, bufs, targets = lax.while_loop(
            cond, body, (jnp.array(0), pack(lanes), bufs, targets))
        lanes = unpack(packed)
        status = jnp.where(lanes.status == Status.RUNNING, Status.MAX_STEPS,
                           lanes.status)  # fmt: skip
        ends = [status[:, None], lanes.k[:, None], lanes.at_tol]
        if targets is not None:  # and the last tick's rows
            at, _ = _at_targets(lanes, targets[1], targets[0], levels)
            ends.append(at.reshape(lanes_n, -1))
        ends = jnp.concatenate(ends, axis=1)
        return Raw(*bufs, lanes.state.x, ends)

    return run


# key -> compiled program; see program()
_COMPILED: dict[tuple, Any] = {}
_COMPILED_LOCK = threading.Lock()
# Programs this process compiled (or loaded from the persistent cache) and the
# seconds that took: the runner reports them per run.
STATS = {"programs": 0, "seconds": 0.0}


def program_key(problem: Problem, opt: Optimizer, num_steps: int, lanes: int,
                record_path: bool, data_batched: bool, trace: str = "full",
                targets: bool = False) -> tuple:  # fmt: skip
    """What decides a compiled program: the problem family and its data's shapes,
    the optimizer's functions and run-time hyperparameter names, the shapes, and
    this thread's x64 flag (a float32 trace makes other constants and integers)."""
    leaves, tree = jax.tree.flatten(problem.data)
    data_shapes = tuple((np.shape(v), np.asarray(v).dtype) for v in leaves)
    return (problem.family, tree, data_shapes, data_batched, opt.init, opt.step,
            opt.searches, opt.hyper, num_steps, lanes, problem.x0.shape,
            problem.x0.dtype, record_path, thinning.check(trace), targets,
            bool(jax.config.jax_enable_x64))  # fmt: skip


def program(problem: Problem, opt: Optimizer, num_steps: int, lanes: int,
            record_path: bool = False, data_batched: bool = False,
            trace: str = "full",
            targets: bool = False) -> tuple[Any, float]:  # fmt: skip
    """The compiled program for this family and shape, and the seconds spent making
    it now (0.0 when this process already had it). ``trace``: which steps are rows
    (bench/thinning.py); ``targets``: record the first row at each target's level
    too (``Args.f_tol`` of MARKS columns, not 1: each costs the loop a little).
    Thread-safe: the runner compiles the next family's program on a worker thread."""
    key = program_key(problem, opt, num_steps, lanes, record_path, data_batched,
                      trace, targets)  # fmt: skip
    with _COMPILED_LOCK:
        if key in _COMPILED:
            return _COMPILED[key], 0.0
    t0 = time.perf_counter()
    stored = exestore.key(key)
    exe = exestore.load(stored)
    if exe is not None:
        cache.count_loaded(time.perf_counter() - t0)
    else:
        fn = _program(problem, opt, num_steps, record_path, data_batched, trace)
        if stored is not None:  # never the key of a program jax's cache holds
            fn.__name__ = fn.__qualname__ = exestore.program_name(stored)
        specs = _arg_specs(problem, opt, lanes, data_batched, MARKS if targets else 1)
        # a program the store keeps is not written to jax's cache as well
        with cache.CompileStats(this_thread=True) as compiled, cache.not_written(
            exestore.can_load(stored)
        ):
            exe = xla.compile_with_options(jax.jit(fn).lower(specs))
        if compiled.programs_from_cache == 0:  # one from jax's cache cannot be stored
            exestore.save(stored, exe)
    seconds = time.perf_counter() - t0
    with _COMPILED_LOCK:
        exe = _COMPILED.setdefault(key, exe)
        STATS["programs"] += 1
        STATS["seconds"] += seconds
    return exe, seconds


def _arg_specs(problem: Problem, opt: Optimizer, lanes: int, data_batched: bool,
               marks: int):  # fmt: skip
    dtype = problem.x0.dtype

    def spec(shape, dt=dtype):
        return jax.ShapeDtypeStruct(shape, dt)

    def data_spec(v):
        v = np.asarray(v)
        return spec(((lanes,) if data_batched else ()) + v.shape, v.dtype)

    return Args(
        x0=spec((lanes, problem.dim)),
        hp={k: spec((lanes,)) for k in opt.hyper},
        data=jax.tree.map(data_spec, problem.data),
        gtol=spec(()),
        f_target=spec((lanes,)),
        max_njev=spec((), np.int32),
        f_tol=spec((lanes, marks)),
    )


def args(problem: Problem, x0s: np.ndarray, hp: dict[str, np.ndarray], data: Any,
         gtol: float, f_target: np.ndarray | None = None,
         max_njev: int | None = None,
         f_tol: np.ndarray | None = None) -> Args:  # fmt: skip
    """Program arguments as NumPy arrays of the program's dtypes (a jax array built
    here would cost a dispatch per call)."""
    dtype = problem.x0.dtype
    lanes = x0s.shape[0]

    def per_lane(v, shape=(lanes,)):  # empty, then fill: 0.8 us, np.full 1.8 us
        if isinstance(v, float | int) or np.ndim(v) == 0:
            out = np.empty(shape, dtype)
            out.fill(v)
            return out
        return np.asarray(v, dtype)

    return Args(
        x0=np.asarray(x0s, dtype),
        hp={k: per_lane(v) for k, v in hp.items()},
        data=data,
        gtol=np.asarray(gtol, dtype),
        f_target=per_lane(-np.inf if f_target is None else f_target),
        max_njev=np.asarray(NO_BUDGET if max_njev is None else max_njev, np.int32),
        f_tol=per_lane(-np.inf if f_tol is None else f_tol, (lanes, 1)),
    )


def records_path(problem: Problem) -> bool:
    """Whether a program writes each row's iterate: for 2-D problems (the report's
    contour plots), in every program, so the one that times a start is the one
    ``bench.solve`` runs."""
    return problem.dim == 2


def batch_data(problem: Problem, lanes: int) -> bool:
    """Whether a program of ``lanes`` lanes takes the data with a lane axis: always
    with more than one lane, even where every lane shares one instance, because a
    product of per-lane iterates with shared data takes XLA:CPU's loop off its fast
    path (gd on a 20-d quadratic: 7 ms for 2 lanes against 0.6 ms for 1)."""
    return lanes > 1 and bool(jax.tree.leaves(problem.data))
