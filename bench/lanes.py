"""How the driver's loop holds its lanes: mapped over with ``vmap`` (or not, for one
lane), packed into two flat arrays where their arrays are small, and their trace rows
written."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

# Pack the lanes while the arrays the loop carries hold at most this many elements
# on average (all lanes together). Per tick, each array carried costs a copy and a
# dispatch, and packing costs a pass over every element. Calls of 400-step programs,
# interleaved, unpacked / packed: on rosenbrock (12-22 arrays of 2-38 elements per
# lane) 1.8-2.4x with one lane and 1.3-1.4x with two (packed here), 0.7-1.1x with
# eight and 0.5-1.0x with 32 (unpacked here); BFGS and L-BFGS in 100 dimensions
# 0.5-0.9x from one lane up (unpacked).
PACK_MAX_MEAN_SIZE = 8


def packing(lane: Any, lanes: int):
    """(pack, unpack) between a batch of ``lanes`` lanes (``lane``: one of them) and
    two (L, k) arrays, one of the lanes' floating-point leaves and one of the others
    (integers and flags, exact); the identity where the lanes' arrays are large
    (``PACK_MAX_MEAN_SIZE``): packed, each field of 1000 BFGS lanes became a fusion
    of its own writing one column (10-13 ms a call against 6-8 ms unpacked)."""
    leaves, tree = jax.tree.flatten(lane)
    if lanes * sum(v.size for v in leaves) > PACK_MAX_MEAN_SIZE * len(leaves):
        return (lambda v: v), (lambda v: v)
    is_float = [jnp.issubdtype(v.dtype, jnp.floating) for v in leaves]

    def split(vs):
        return ([v for v, f in zip(vs, is_float, strict=True) if f],
                [v for v, f in zip(vs, is_float, strict=True) if not f])  # fmt: skip

    floats, others = split(leaves)
    _, unravel_f = ravel_pytree(floats)
    _, unravel_o = ravel_pytree(others)

    def pack_one(lane):
        f, o = split(jax.tree.leaves(lane))
        return ravel_pytree(f)[0], ravel_pytree(o)[0]

    def unpack_one(packed):
        fs, os_ = iter(unravel_f(packed[0])), iter(unravel_o(packed[1]))
        return tree.unflatten([next(fs) if f else next(os_) for f in is_float])

    return jax.vmap(pack_one), jax.vmap(unpack_one)


def over_lanes(fn, in_axes: tuple, lanes: int):
    """``jax.vmap(fn)``, except for one lane: then fn runs unbatched, so that a
    ``lax.cond`` stays a branch (vmap turns it into a select that evaluates both
    sides: a Hessian on every line-search trial, say)."""
    if lanes > 1:
        return jax.vmap(fn, in_axes=in_axes)

    def one(*args):
        args = [a if ax is None else jax.tree.map(lambda v: v[0], a)
                for a, ax in zip(args, in_axes, strict=True)]  # fmt: skip
        return jax.tree.map(lambda v: jnp.asarray(v)[None], fn(*args))

    return one


def slot(slots, step):
    """The trace row that holds ``step`` (itself in a full trace)."""
    if slots is None:
        return step
    return lax.dynamic_index_in_dim(slots, step, 0, False).astype(step.dtype)


def write_rows(bufs, rows, at, wrote, slots):
    """Lane i's row into bufs[.][i, slot(at[i])] where wrote[i], else into the
    buffers' last row, a scratch row no trace keeps: a loop of dynamic slice updates
    that write unconditionally (reading the old row back to keep it cost a third of
    a batched BFGS tick; a scatter was no faster)."""
    scratch = bufs[0].shape[1] - 1

    def one(i, bufs):
        row = jnp.where(wrote[i], slot(slots, at[i]), scratch)
        return tuple(
            lax.dynamic_update_slice(b, r[i][None, None], (i, row, 0))
            for b, r in zip(bufs, rows, strict=True)
        )

    if at.shape[0] == 1:  # no loop around it: a loop of one trip cost ~0.3 us a tick
        return one(0, bufs)
    return lax.fori_loop(0, at.shape[0], one, bufs)
