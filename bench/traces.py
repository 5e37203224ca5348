"""What a driver program returns (``Raw``) and the ``Trace`` made of it on the host
(``settle``): the per-step record of each run, the same for ours and the peers'."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import numpy as np

from bench import thinning
from bench.status import Status
from optimizers.base import COUNTERS


class Trace(NamedTuple):
    """Per-step record of a run; row 0 is the start (leading axis k in a batch), row
    ``n_steps`` the last; the rows after it repeat it, at rest (step_size 0)."""

    f: jax.Array  # objective value
    grad_norm: jax.Array  # Euclidean norm of the gradient
    step_size: jax.Array  # alpha_k of the step that produced this row (0 at rest)
    nfev: jax.Array  # cumulative objective evaluations (the start counts one)
    njev: jax.Array  # cumulative gradient evaluations (the start counts one)
    nhev: jax.Array  # cumulative Hessian evaluations
    nhvp: jax.Array  # cumulative Hessian-vector products
    njac: jax.Array  # cumulative Jacobian evaluations (of a residual)
    done: jax.Array  # stopped at or before this row
    diverged: jax.Array  # an iteration produced a non-finite value
    x: jax.Array  # final iterate
    path: jax.Array | None = None  # iterates per row, only when asked for (2-D plots)
    status: jax.Array | None = None  # bench.status.Status code, per run
    n_steps: jax.Array | None = None  # iterations taken, per run
    step: jax.Array | None = None  # the step each row holds (0..n unless thinned)
    at_tol: jax.Array | None = None  # per run: step and COUNTERS at the first
    # row with f <= f_tol[:, 0] (-1: none): exact whatever the thinning
    at_targets: jax.Array | None = None  # the same per target: f <= f_tol[:, 1:]


class Raw(NamedTuple):
    """What a program returns: few arrays, since each output of a call costs about as
    much as a hundred loop iterations on CPU. ``settle`` makes a Trace of it."""

    # rows + 1: the last is scratch (bench.lanes.write_rows), dropped by ``settle``
    values: jax.Array  # (L, rows + 1, 3 [+ n]): f, grad norm, alpha [, x if recorded]
    counts: jax.Array  # (L, rows + 1, len(COUNTERS)): cumulative oracle calls
    x: jax.Array  # (L, n) final iterates
    ends: jax.Array  # (L, 2 + marks (1 + len(COUNTERS))): status, iterations, at_tol


@functools.lru_cache(maxsize=16)
def _kept(rows: int) -> np.ndarray:
    """0..rows-1, read-only: the steps of a full trace (made once per length)."""
    return _frozen(np.arange(rows))


@functools.lru_cache(maxsize=16)
def _never(rows: int) -> np.ndarray:
    """rows times false, read-only: a run's ``done`` or ``diverged`` that never is."""
    return _frozen(np.zeros(rows, bool))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _read_only(a) -> np.ndarray:
    """``a`` as a read-only NumPy array: a program's output already is one; a view
    of anything else, so that a caller's own arrays keep their flags."""
    a = np.asarray(a)
    return _frozen(a.view()) if a.flags.writeable else a


def settle(raw: Raw, num_steps: int | None = None, trace: str = "full") -> Trace:
    """The Trace of a program's output, as read-only NumPy arrays (most are views of
    it); each run's rows after its last one are copies of it at rest (step_size 0),
    filled here, not in the program: there XLA fused the gather of the last row into
    every element it fills (gd, one lane, 10,000 rows: 0.51-0.69 ms a call against
    0.40-0.46 ms unfilled). A thinned program's output needs its ``num_steps`` and
    ``trace``."""
    # Few NumPy calls, each on whole arrays: right after a program has run, each
    # call costs 3-8 us (the program has evicted NumPy from the caches; settle's
    # segments timed on fresh outputs)
    values, counts, x, ends = (_read_only(a) for a in raw)
    status, k = ends[:, 0], ends[:, 1]
    marks = ends[:, 2:].reshape(len(ends), -1, 1 + len(COUNTERS))
    rows = values.shape[1] - 1  # and the scratch row (bench.lanes.write_rows)
    full = thinning.check(trace) == "full"
    kept = _kept(rows) if full else thinning.kept_steps(trace, num_steps)
    last = kept.searchsorted(k)  # the row holding each run's last step
    row = _kept(rows)[None, :]
    steps = (np.broadcast_to(kept, (len(k), rows)) if k.min() >= kept[-1]
             else _frozen(np.minimum(kept[None, :], k[:, None])))  # fmt: skip
    if last.min() == rows - 1:  # no run stopped early: views of the output
        values, counts = values[:, :-1], counts[:, :-1]
    else:  # row j of run i is row min(j, last_i), in a full trace its step: whole
        # rows taken at once (per column with np.where, 1000 runs took 1.2 ms;
        # np.take 0.5 ms), the step sizes zeroed in place
        source = (steps if full else np.minimum(row, last[:, None])) + (
            (rows + 1) * np.arange(len(k))[:, None])  # fmt: skip
        values, counts = (_take_rows(b, source) for b in (values, counts))
        np.copyto(values[..., 2], 0.0, where=row > last[:, None])  # at rest
        values, counts = _frozen(values), _frozen(counts)
    # statuses compared as ints: against an IntEnum member numpy took 20 us, not 6
    return Trace(
        f=values[..., 0],
        grad_norm=values[..., 1],
        step_size=values[..., 2],
        **{c: counts[..., i] for i, c in enumerate(COUNTERS)},
        done=_from_last(status != int(Status.MAX_STEPS), last, row),
        diverged=_from_last(status == int(Status.DIVERGED), last, row),
        x=x,
        path=values[..., 3:] if values.shape[-1] > 3 else None,
        status=status,
        n_steps=k,
        step=steps,
        at_tol=marks[:, 0],
        at_targets=marks[:, 1:] if marks.shape[1] > 1 else None,
    )


def _from_last(runs: np.ndarray, last: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Per run, true from its last row on if it is one of ``runs``, else false
    throughout: one comparison (one lane of 10,000 rows took 37 us in five array
    operations), none where no run is one of them (a budget every run used up)."""
    if not runs.any():  # a view: no memory however many runs
        return np.broadcast_to(_never(row.shape[1]), (len(runs), row.shape[1]))
    return _frozen(row >= np.where(runs, last, row.shape[1])[:, None])


def _take_rows(b: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Rows ``source`` (flat indices into ``b``'s first two axes) of ``b``, each row
    taken as one element (a void of its bytes); ``take(axis=0)`` copies a row
    column by column (1000 runs of 48 rows, per array: 137-154 us against
    145-243 us)."""
    width = b.shape[-1] * b.itemsize
    whole = np.ascontiguousarray(b).view(np.dtype((np.void, width))).ravel()
    return whole.take(source.ravel()).view(b.dtype).reshape(source.shape + b.shape[-1:])
