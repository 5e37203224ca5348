"""Limits checked before a run allocates, compiles or writes anything: the memory its
programs and tables will need, against ``--max-memory``.

The estimate is a model, not a measurement, and errs high: per family (the runner
holds one at a time) its trace buffers, lanes x (steps + 1) x (3 values [+ n for a
recorded path] x 8 bytes + one int32 per counter), held about three times (the
program's output, the host copy, the settled trace), plus per lane the optimizer's
state four times over (the loop's carry, the new state, the select between them,
the packing) and twice the largest array one step makes (a dense Hessian, n^2,
appears here without naming any method: it is read off the step's jaxpr); plus the
whole run's trace table, ~TRACE_ROW_BYTES per row, twice (consolidation concatenates
it), and each lane's copy of its instance's data. Tracing a step costs ~0.1 s, so a
family is traced only when a bound that assumes n x n arrays could pass the limit.
Peers are counted with their traces and, for the methods that keep a dense matrix,
n^2 per start.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np

TRACE_ROW_BYTES = 160  # a traces.parquet row in pandas: ~17 columns of 8 bytes
# peers that keep a dense n x n matrix per start (an inverse Hessian or a Hessian)
_DENSE_PEERS = ("scipy:BFGS", "scipy:Newton-CG", "scipy:trust-exact",
                "optimistix:BFGS")  # fmt: skip
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes of a size such as ``8G``, ``512M``, ``1.5GiB`` or ``1000000``;
    ValueError saying what is accepted."""
    m = _SIZE.fullmatch(str(text))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(
            f"--max-memory must be a size such as 8G, 512M or 1.5G, got {text!r}"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def default_max_memory() -> int:
    """Half of the machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError


def trace_rows(trace: str, num_steps: int) -> int:
    """Rows a trace keeps per run (bench/thinning.py), counted without listing
    them: ``--steps 10000000000`` must not allocate to be refused."""
    kind, _, count = trace.partition(":")
    if kind == "every":
        return num_steps // int(count) + 2
    if kind == "log":
        return min(int(count) + 2, num_steps + 1)
    return num_steps + 1


def family_bytes(cells: list, starts: int, rows: int, limit: float = 0) -> int:
    """What one family's program and its settled traces need (module docstring),
    ``rows`` trace rows per run; a cheap bound instead where that bound is at most
    ``limit``."""
    first = cells[0]
    p, n, lanes = first.problem, first.problem.dim, len(cells) * starts
    if first.opt is None:  # a peer: its traces, and a dense matrix where it keeps one
        state = n * n * 8 if first.optimizer in _DENSE_PEERS else 10 * n * 8
        return lanes * (rows * (TRACE_ROW_BYTES + n * 8 * (n == 2)) + state)
    values = 3 + (n if n == 2 else 0)  # the contour plots' path: 2-D problems only
    from optimizers.base import COUNTERS

    traces = lanes * rows * (values * 8 + len(COUNTERS) * 4) * 3
    # each lane gets its instance's data (stacked, then copied to the program)
    data = sum(np.asarray(v).nbytes for c in cells for v in jax_leaves(c.problem.data))
    data = 2 * data * starts if lanes > 1 else data
    # tracing the step costs ~0.1 s a family: only where a bound that assumes a
    # dense n x n matrix in every array of the state and step could pass the limit
    bound = traces + data + lanes * 6 * 8 * (n * n + 64 * n)
    if bound <= limit:
        return bound
    state, largest = _step_sizes(first.opt, p)
    return traces + data + lanes * (4 * state + 2 * largest)


def jax_leaves(tree: Any) -> list:
    import jax

    return jax.tree.leaves(tree)


def _step_sizes(opt: Any, problem: Any) -> tuple[int, int]:
    """(bytes of the optimizer's state, bytes of the largest array one step makes),
    from the traced step: nothing is compiled or allocated."""
    import jax

    x = jax.ShapeDtypeStruct(problem.x0.shape, problem.x0.dtype)
    hp = {k: jax.ShapeDtypeStruct((), problem.x0.dtype) for k in opt.hyper}
    oracles = problem.oracles(problem.data)
    state = jax.eval_shape(lambda x, hp: opt.init(oracles, x, hp), x, hp)
    jaxpr = jax.make_jaxpr(lambda s, hp: opt.step(oracles, s, hp))(state, hp)
    state_bytes = sum(_nbytes(v) for v in jax.tree.leaves(state))
    return state_bytes, _largest(jaxpr.jaxpr)


def _nbytes(aval: Any) -> int:
    return int(math.prod(aval.shape)) * np.dtype(aval.dtype).itemsize


def _largest(jaxpr: Any) -> int:
    """The largest array any equation of ``jaxpr`` (or of a branch or loop body
    inside it) makes."""
    best = 0
    for eqn in jaxpr.eqns:
        for v in eqn.outvars:
            if hasattr(v.aval, "shape"):
                best = max(best, _nbytes(v.aval))
        for param in eqn.params.values():
            for sub in param if isinstance(param, tuple | list) else (param,):
                inner = getattr(sub, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    best = max(best, _largest(inner))
                elif hasattr(sub, "eqns"):
                    best = max(best, _largest(sub))
    return best


def check_memory(fams: list[list], starts: int, num_steps: int, limit: int,
                 trace: str = "full") -> None:  # fmt: skip
    """ValueError (one line: the need and what to lower) when the run's estimated
    memory passes ``limit`` bytes; ``fams``: the run's families of cells."""
    if not fams:
        return
    rows = trace_rows(trace, num_steps)
    n_runs = sum(len(f) for f in fams) * starts
    table = 2 * n_runs * rows * TRACE_ROW_BYTES
    per_family = [(family_bytes(f, starts, rows, limit - table), f)
                  for f in fams]  # fmt: skip
    program, worst = max(per_family, key=lambda t: t[0])
    need = program + table
    if need <= limit:
        return
    c = worst[0]
    raise ValueError(
        f"this run would need about {human(need)} of memory ({human(table)} of "
        f"traces for {n_runs} runs x {rows} rows; {human(program)} for its "
        f"largest family, {c.problem.label} x {c.config}, n={c.problem.dim}), more "
        f"than --max-memory {human(limit)}; lower --starts or --steps, thin the "
        "trace (--trace log:100), use a matrix-free method (lbfgs, gd, adam) on "
        "large problems, or raise --max-memory"
    )
