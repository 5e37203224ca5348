"""The run loop: one compiled, masked ``lax.scan`` per (problem, optimizer, shape).

The driver owns stopping and counting; an optimizer only computes a step. A run stops
(is frozen, counters included) when ||g|| <= gtol (converged), when a step produces a
non-finite x, f or g (diverged: the last finite values are kept), or when two steps in
a row leave x unchanged (stalled). Two, not one: a quasi-Newton method whose line
search fails resets its model and deserves one more try from steepest descent.
Comparing x alone keeps the loop body small (comparing the whole state, BFGS's n x n
matrix included, cost a quarter of an Adam step).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from optimizers.base import Optimizer, check_count
from problems.base import Problem


class Trace(NamedTuple):
    """Per-step record of a run; row 0 is the start (leading axis k in a batch)."""

    f: jax.Array  # objective value
    grad_norm: jax.Array  # Euclidean norm of the gradient
    step_size: jax.Array  # alpha_k of the step that produced this row (0 at rest)
    nfev: jax.Array  # cumulative objective evaluations (the start counts one)
    njev: jax.Array  # cumulative gradient evaluations (the start counts one)
    nhev: jax.Array  # cumulative Hessian evaluations
    done: jax.Array  # frozen: converged, diverged or stalled at or before this row
    diverged: jax.Array  # a step produced a non-finite value
    x: jax.Array  # final iterate
    path: jax.Array | None = None  # iterates per row, only when asked for (2-D plots)


class _Carry(NamedTuple):
    state: Any
    counts: jax.Array  # (3,) nfev, njev, nhev
    done: jax.Array
    diverged: jax.Array
    idle: jax.Array  # the last step left x unchanged


def _start(problem: Problem, opt: Optimizer, x0: jax.Array, gtol: jax.Array) -> _Carry:
    state = opt.init(problem, x0)
    g_norm = jnp.linalg.norm(state.g)
    bad_start = ~(jnp.isfinite(state.f) & jnp.isfinite(g_norm))  # f(x0) = nan, say
    done = (g_norm <= gtol) | bad_start
    return _Carry(state, jnp.array([1, 1, 0]), done, bad_start, jnp.array(False))


def _advance(problem: Problem, opt: Optimizer, c: _Carry, gtol: jax.Array):
    """One masked step: returns the new carry and this step's alpha (0 when frozen)."""
    new, info = opt.step(problem, c.state)
    finite = (
        jnp.isfinite(new.f)
        & jnp.all(jnp.isfinite(new.g))
        & jnp.all(jnp.isfinite(new.x))
    )
    active = ~c.done
    accept = active & finite
    idle = accept & jnp.all(new.x == c.state.x)
    state = jax.tree.map(lambda a, b: jnp.where(accept, a, b), new, c.state)
    cost = jnp.stack([info.nfev, info.njev, info.nhev]).astype(c.counts.dtype)
    counts = c.counts + jnp.where(active, cost, 0)
    diverged = c.diverged | (active & ~finite)
    converged = jnp.linalg.norm(state.g) <= gtol
    done = c.done | diverged | converged | (idle & c.idle)
    alpha = jnp.where(accept, info.step_size, 0.0).astype(new.x.dtype)
    return _Carry(state, counts, done, diverged, idle), alpha


def _row(c: _Carry, alpha: jax.Array, record_path: bool) -> tuple:
    g_norm = jnp.linalg.norm(c.state.g)
    row = (c.state.f, g_norm, alpha, *c.counts, c.done, c.diverged)
    return row + (c.state.x,) if record_path else row


def _scan_run(problem: Problem, opt: Optimizer, num_steps: int, record_path: bool):
    def run(x0: jax.Array, gtol: jax.Array) -> Trace:
        c0 = _start(problem, opt, x0, gtol)

        def body(c, _):
            c, alpha = _advance(problem, opt, c, gtol)
            return c, _row(c, alpha, record_path)

        c, rows = lax.scan(body, c0, None, length=num_steps)
        first = _row(c0, jnp.zeros((), x0.dtype), record_path)
        cols = [
            jnp.concatenate([jnp.asarray(a)[None], b])
            for a, b in zip(first, rows, strict=True)
        ]
        if record_path:
            return Trace(*cols[:-1], x=c.state.x, path=cols[-1])
        return Trace(*cols, x=c.state.x)

    return run


def _until_run(problem: Problem, opt: Optimizer, max_steps: int, record_path: bool):
    """Stopping variant for time-to-target: a while-loop that ends as soon as the run is
    done or f <= f_target. Returns (steps taken, final f, counts, reached)."""

    def run(x0: jax.Array, gtol: jax.Array, f_target: jax.Array):
        c0 = _start(problem, opt, x0, gtol)

        def cond(kc):
            k, c = kc
            return (k < max_steps) & ~c.done & ~(c.state.f <= f_target)

        def body(kc):
            k, c = kc
            return k + 1, _advance(problem, opt, c, gtol)[0]

        k, c = lax.while_loop(cond, body, (jnp.array(0), c0))
        return k, c.state.f, c.counts, c.state.f <= f_target

    return run


# (kind, problem, init, step, steps, shape, dtype, batched, record_path) -> compiled
_COMPILED: dict[tuple, Any] = {}

# XLA options for the harness's own programs (record them in the manifest). XLA:CPU
# runs a while loop as one compiled kernel only when one iteration touches fewer than
# this many bytes (default 1024); our masked, traced loop bodies touch 1-4 kB per
# start, and off that fast path every iteration costs 10-40x more (DESIGN.md sec. 7;
# measured by ``python -m bench.speed``). Past 16 MiB per iteration the per-op overhead
# is negligible anyway, so bigger loops are left to XLA's default (multi-threaded) path.
COMPILER_OPTIONS: dict[str, int] = {"xla_cpu_small_while_loop_byte_threshold": 1 << 24}


def _proto_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    out, n = bytearray(), number << 3 | 2
    for v in (n, len(payload)):
        while v > 0x7F:
            out.append(v & 0x7F | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out) + payload


# How often COMPILER_OPTIONS could not be applied (jax internals moved): the runner
# writes it into the manifest, so a slow run off XLA's fast path is explained.
FALLBACK_COMPILES = {"count": 0}


def _compile(lowered: Any, backend_options: dict[str, Any]) -> Any:
    """``lowered.compile()`` with ``backend_options`` put in DebugOptions'
    xla_backend_extra_options (the map that --xla_backend_extra_options sets).

    jax 0.10's ``compile(compiler_options=...)`` cannot set map fields ("No such compile
    option"), so the entries are appended to jax's serialized CompileOptions
    (CompileOptionsProto.executable_build_options(3).debug_options(3)
    .xla_backend_extra_options(500)), which protobuf merges. This affects only the
    program compiled here, never a peer's; not thread-safe (swaps a jax function for
    the duration of the call). Falls back to a plain compile if jax's internals moved
    (a genuine compile error then surfaces from that plain compile).
    """
    if not backend_options:
        return lowered.compile()
    try:
        from jax._src import compiler as jax_compiler
        from jax._src.lib import xla_client

        original = jax_compiler.get_compile_options
        parse = xla_client.CompileOptions.ParseFromString
    except (ImportError, AttributeError):
        FALLBACK_COMPILES["count"] += 1
        return lowered.compile()
    entries = b""
    for key, value in backend_options.items():
        pair = _proto_field(1, key.encode()) + _proto_field(2, str(value).encode())
        entries += _proto_field(500, pair)
    extra = _proto_field(3, _proto_field(3, entries))

    def with_backend_options(*args: Any, **kwargs: Any) -> Any:
        return parse(original(*args, **kwargs).SerializeAsString() + extra)

    jax_compiler.get_compile_options = with_backend_options
    try:
        return lowered.compile()
    except Exception:  # retried plainly below, outside the swap
        pass
    finally:
        jax_compiler.get_compile_options = original
    FALLBACK_COMPILES["count"] += 1
    return lowered.compile()


def compiled(
    kind: str,
    problem: Problem,
    opt: Optimizer,
    num_steps: int,
    x0s: jax.Array,
    batched: bool,
    record_path: bool = False,
) -> tuple[Any, float]:
    """The compiled program for this cell and shape, and the seconds spent compiling it
    (0.0 when it came from the in-process cache). ``kind``: "scan" (fixed length,
    full trace; ``record_path`` adds the iterates) or "until" (stops at a target)."""
    key = (kind, problem, opt.init, opt.step, num_steps, x0s.shape, x0s.dtype, batched)
    key += (record_path,)
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    make = {"scan": _scan_run, "until": _until_run}[kind]
    fn = make(problem, opt, num_steps, record_path)
    n_scalars = {"scan": 1, "until": 2}[kind]
    if batched:
        fn = jax.vmap(fn, in_axes=(0,) + (None,) * n_scalars)
    scalar = jax.ShapeDtypeStruct((), x0s.dtype)
    args = (jax.ShapeDtypeStruct(x0s.shape, x0s.dtype),) + (scalar,) * n_scalars
    t0 = time.perf_counter()
    exe = _compile(jax.jit(fn).lower(*args), COMPILER_OPTIONS)
    seconds = time.perf_counter() - t0
    _COMPILED[key] = exe
    return exe, seconds


def median_seconds(call: Callable[[], Any], repeats: int = 5) -> float:
    """Median over ``repeats`` samples of the wall time of one ``call``, results
    blocked on, after a warm-up call. Each sample averages enough calls to last about
    2 ms: a single call of a few microseconds is below the clock's and the machine's
    jitter, and callers subtract a dispatch cost from such times."""
    t0 = time.perf_counter()
    jax.block_until_ready(call())
    number = max(1, min(1000, int(2e-3 / max(time.perf_counter() - t0, 1e-7))))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            jax.block_until_ready(call())
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def check_tolerance(name: str, value: Any) -> float:
    """A finite number >= 0 (gtol, tol), else ValueError naming it."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def solve(
    problem: Problem,
    opt: Optimizer,
    x0: Any = None,
    num_steps: int = 500,
    gtol: float = 1e-10,
) -> Trace:
    """Run ``opt`` on ``problem`` from one start (``None``: the problem's x0)."""
    x0 = problem.x0 if x0 is None else problem.check_x0(x0)
    exe, _ = compiled(
        "scan", problem, opt, check_count("num_steps", num_steps), x0, False
    )
    return exe(x0, np.asarray(check_tolerance("gtol", gtol), x0.dtype))


def solve_batch(
    problem: Problem,
    opt: Optimizer,
    x0s: Any,
    num_steps: int = 500,
    gtol: float = 1e-10,
) -> Trace:
    """Run ``opt`` from each row of ``x0s`` (shape (k, dim)) in one vmapped program."""
    x0s = check_starts(problem, x0s)
    exe, _ = compiled(
        "scan", problem, opt, check_count("num_steps", num_steps), x0s, True
    )
    return exe(x0s, np.asarray(check_tolerance("gtol", gtol), x0s.dtype))


def check_starts(problem: Problem, x0s: Any) -> np.ndarray:
    """Validate a (k, dim) array of finite starting points; NumPy, in x0's dtype."""
    arr = np.asarray(x0s, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] != problem.dim:
        raise ValueError(
            f"x0s must have shape (k, {problem.dim}) with k >= 1 for problem "
            f"{problem.label}, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("x0s has non-finite entries")
    return arr.astype(problem.x0.dtype)
