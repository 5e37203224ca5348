"""How the driver's loop holds its lanes: packed into two flat arrays per lane,
mapped over with ``vmap`` (or not, for one lane), and their trace rows written."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree


def packing(lane: Any, lanes: int):
    """(pack, unpack) between a batch of lanes and two (L, k) arrays, one of the
    lanes' floating-point leaves and one of the others (integers and flags, exact).

    For one lane only: there every array the loop carries costs a copy and a dispatch
    (a one-lane BFGS call took 160-340 us unpacked, 60 us packed). For more lanes the
    lanes stay as they are (the identity): packed, every field became a fusion of its
    own writing one column, and batched BFGS over 1000 lanes took 10-13 ms per call
    against 6-8 ms unpacked."""
    if lanes > 1:
        return (lambda v: v), (lambda v: v)
    leaves, tree = jax.tree.flatten(lane)
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
