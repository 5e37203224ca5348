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
    out = np.arange(rows)
    out.setflags(write=False)
    return out


def settle(raw: Raw, num_steps: int | None = None, trace: str = "full") -> Trace:
    """The Trace of a program's output, as read-only NumPy arrays (most are views of
    it); each run's rows after its last one are copies of it at rest (step_size 0),
    filled here, not in the program: there XLA fused the gather of the last row into
    every element it fills (gd, one lane, 10,000 rows: 0.51-0.69 ms a call against
    0.40-0.46 ms unfilled). A thinned program's output needs its ``num_steps`` and
    ``trace``."""
    # read-only before any view is made of them, so that every view is; views, so
    # that a caller's own arrays keep their flags. Array methods, not numpy's
    # functions, and one flag per array: a BFGS lane of 1000 rows took 86-88 us a
    # call with numpy's functions and a flag set per field, 63-86 us so
    values, counts, x, ends = (np.asarray(a).view() for a in raw)
    for a in (values, counts, x, ends):
        a.setflags(write=False)
    status, k = ends[:, 0], ends[:, 1]
    marks = ends[:, 2:].reshape(len(ends), -1, 1 + len(COUNTERS))
    rows = values.shape[1] - 1  # and the scratch row (bench.lanes.write_rows)
    kept = _kept(rows) if thinning.check(trace) == "full" else (
        thinning.kept_steps(trace, num_steps))  # fmt: skip
    last = kept.searchsorted(k)  # the row holding each run's last step
    row = _kept(rows)[None, :]
    if (last == rows - 1).all():  # no run stopped early: views of the output
        values, counts = values[:, :-1], counts[:, :-1]
    else:  # row j of run i is row min(j, last_i): whole rows taken at once (per
        # column with np.where, 1000 runs took 1.2 ms; np.take 0.5 ms), the index
        # and the step sizes made in place
        source = np.minimum(row, last[:, None])
        source += (rows + 1) * np.arange(len(k))[:, None]
        values, counts = (
            b.reshape(-1, b.shape[-1]).take(source.ravel(), axis=0).reshape(
                len(k), rows, b.shape[-1])
            for b in (values, counts)
        )  # fmt: skip
        np.copyto(values[..., 2], 0.0, where=row > last[:, None])  # at rest
    steps = (np.broadcast_to(kept, (len(k), rows)) if (k >= kept[-1]).all()
             else np.minimum(kept[None, :], k[:, None]))  # fmt: skip
    # frozen from the last row on (a run that used up its steps has no rows after),
    # one comparison each (one lane of 10,000 rows: 37 us in five array operations);
    # statuses compared as ints: against an IntEnum member numpy took 20 us, not 6
    frozen = row >= np.where(status != int(Status.MAX_STEPS), last, rows)[:, None]
    diverged = row >= np.where(status == int(Status.DIVERGED), last, rows)[:, None]
    for a in (values, counts, steps, frozen, diverged):  # before any view of them
        a.setflags(write=False)
    return Trace(
        f=values[..., 0],
        grad_norm=values[..., 1],
        step_size=values[..., 2],
        **{c: counts[..., i] for i, c in enumerate(COUNTERS)},
        done=frozen,
        diverged=diverged,
        x=x,
        path=values[..., 3:] if values.shape[-1] > 3 else None,
        status=status,
        n_steps=k,
        step=steps,
        at_tol=marks[:, 0],
        at_targets=marks[:, 1:] if marks.shape[1] > 1 else None,
    )
