"""Matrix-free second-order methods: truncated Newton (Newton-CG) and Steihaug-Toint
trust-region CG. They use the Hessian only through products H v (``Oracles.hvp``,
forward-over-reverse: about one gradient each, O(n) memory), counted as ``nhvp``.

Each direction comes from conjugate gradients run as an inner ``lax.while_loop``
inside one ``step`` call, at most ``n`` products (docs/architecture.md says why the
CG iterations are not ticks of the driver's loop).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from optimizers.base import Optimizer, StepInfo, check_positive, check_unit, register
from optimizers.linesearch import (
    Backtrack,
    backtrack_restart,
    backtrack_start,
    backtrack_trial,
)

# Eisenstat & Walker (1996) choice 2: eta_k = gamma (||g_k|| / ||g_{k-1}||)^alpha
EW_GAMMA, EW_ALPHA = 0.9, 2.0
# trust region (Nocedal & Wright 2006, Alg. 4.1): accept when rho > TR_ACCEPT
TR_ACCEPT = 0.15
TR_MAX_TRIALS = 40  # rejected trial steps before an iteration gives up (x unchanged)


class CG(NamedTuple):
    p: jax.Array  # the step so far, p_j
    hp: jax.Array  # H p_j, kept so that the model value needs no extra product
    r: jax.Array  # residual H p_j + g
    d: jax.Array  # search direction
    k: jax.Array  # Hessian-vector products made
    done: jax.Array


def _boundary(p: jax.Array, d: jax.Array, radius: jax.Array) -> jax.Array:
    """tau >= 0 with ||p + tau d|| = radius (p inside the region)."""
    dd, pd, pp = d @ d, p @ d, p @ p
    root = jnp.sqrt(jnp.maximum(pd**2 + dd * (radius**2 - pp), 0.0))
    return jnp.where(dd > 0, (root - pd) / jnp.where(dd > 0, dd, 1.0), 0.0)


def truncated_cg(hvp, g: jax.Array, tol: jax.Array, radius: jax.Array) -> CG:
    """CG on H p = -g from p = 0 until ||H p + g|| <= tol, n products, or, where the
    curvature d'Hd <= 0 or the step leaves ||p|| <= radius, a stop: on the boundary
    (Steihaug 1983; Nocedal & Wright 2006, Alg. 7.2), or for radius = inf at p_j
    (-g on the first iteration: Alg. 7.1). Returns the final CG state."""
    n = g.shape[0]
    zeros = jnp.zeros_like(g)

    def body(c: CG) -> CG:
        hd = hvp(c.d)
        dhd = c.d @ hd
        rr = c.r @ c.r
        alpha = rr / jnp.where(dhd > 0, dhd, 1.0)
        p_next = c.p + alpha * c.d
        out = (dhd <= 0) | (jnp.linalg.norm(p_next) >= radius)
        tau = jnp.where(jnp.isfinite(radius), _boundary(c.p, c.d, radius), 0.0)
        # without a finite radius: stop at p_j, or at -g if that is the first step
        first = jnp.isinf(radius) & (c.k == 0)
        tau = jnp.where(first, 1.0, tau)
        step = jnp.where(out, tau, alpha)
        p = c.p + step * c.d
        hp = c.hp + step * hd
        r = c.r + step * hd
        beta = (r @ r) / jnp.where(rr > 0, rr, 1.0)
        k = c.k + 1
        done = out | (jnp.linalg.norm(r) <= tol) | (k >= n)
        return CG(p, hp, r, -r + beta * c.d, k, done)

    start = CG(zeros, zeros, g, -g, jnp.zeros((), jnp.int32),
               jnp.linalg.norm(g) <= tol)  # fmt: skip
    return lax.while_loop(lambda c: ~c.done, body, start)


class NewtonCGState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    d: jax.Array  # the truncated Newton direction being searched along
    eta: jax.Array  # forcing term of the last CG solve
    g_norm_prev: jax.Array  # ||g|| where the last direction was computed (0: none)
    search: Backtrack


def _forcing(s: NewtonCGState, g_norm: jax.Array, eta_max: jax.Array) -> jax.Array:
    """Eisenstat & Walker (1996) choice 2 with its safeguard; eta_max at the start."""
    ratio = g_norm / jnp.where(s.g_norm_prev > 0, s.g_norm_prev, 1.0)
    eta = EW_GAMMA * ratio**EW_ALPHA
    floor = EW_GAMMA * s.eta**EW_ALPHA  # no sudden drop while eta is still large
    eta = jnp.where(floor > 0.1, jnp.maximum(eta, floor), eta)
    return jnp.where(s.g_norm_prev > 0, jnp.minimum(eta, eta_max), eta_max)


def _ncg_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    zero = jnp.zeros((), x0.dtype)
    return NewtonCGState(x0, f, g, jnp.zeros_like(x0), zero, zero,
                         backtrack_start(x0.dtype))  # fmt: skip


def _ncg_step(problem, s: NewtonCGState, hp):
    fresh = s.search.fresh  # a new iteration: a CG solve at x for its direction

    def direction():
        g_norm = jnp.linalg.norm(s.g)
        eta = _forcing(s, g_norm, hp["eta_max"])
        cg = truncated_cg(lambda v: problem.hvp(s.x, v), s.g, eta * g_norm, jnp.inf)
        return cg.p, eta, g_norm, cg.k

    def same():
        return s.d, s.eta, s.g_norm_prev, jnp.zeros((), jnp.int32)

    d, eta, g_norm_prev, nhvp = lax.cond(fresh, direction, same)
    search = backtrack_restart(s.search, 1.0)
    search, x, f, g, info = backtrack_trial(problem, s.x, s.f, s.g, d, search)
    state = NewtonCGState(x, f, g, d, eta, g_norm_prev, search)
    return state, info._replace(nhvp=nhvp)


@register("newton_cg")
def newton_cg(eta_max: float = 0.5) -> Optimizer:
    """x_{k+1} = x_k + t_k d_k, d_k from CG on H_k d = -g_k (Hessian-vector products)
    until ||H_k d + g_k|| <= eta_k ||g_k||, eta_k = min(eta_max, 0.9 (||g_k|| /
    ||g_{k-1}||)^2), t_k Armijo from 1 (Dembo & Steihaug 1983; Eisenstat & Walker 1996,
    choice 2; Nocedal & Wright 2006, Alg. 7.1). ``eta_max=0``: CG to convergence."""
    params = {"eta_max": check_unit("eta_max", eta_max)}
    return Optimizer("newton_cg", _ncg_init, _ncg_step, params, ("eta_max",),
                     searches=True)  # fmt: skip


class TrustNCGState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    radius: jax.Array  # trust-region radius Delta_k
    n: jax.Array  # trials rejected in this iteration


def _tr_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return TrustNCGState(x0, f, g, jnp.asarray(hp["radius"], x0.dtype),
                         jnp.zeros((), jnp.int32))  # fmt: skip


def _tr_step(problem, s: TrustNCGState, hp):
    g_norm = jnp.linalg.norm(s.g)
    tol = jnp.minimum(0.5, jnp.sqrt(g_norm)) * g_norm  # N&W eq. 7.3 (superlinear)
    cg = truncated_cg(lambda v: problem.hvp(s.x, v), s.g, tol, s.radius)
    p = cg.p
    predicted = -(s.g @ p + 0.5 * (p @ cg.hp))  # decrease the quadratic model promises
    x_try = s.x + p
    f_try = problem.f(x_try)
    rho = (s.f - f_try) / predicted
    ok = (predicted > 0) & (rho > TR_ACCEPT)  # a NaN trial is rejected
    n = s.n + 1
    finished = ok | (n >= TR_MAX_TRIALS)
    g = lax.cond(ok, lambda: problem.grad(x_try), lambda: s.g)
    on_edge = jnp.linalg.norm(p) >= 0.99 * s.radius
    # N&W Alg. 4.1; a NaN rho (a non-finite trial) shrinks the region too
    grow = jnp.where((rho > 0.75) & on_edge, 2.0 * s.radius, s.radius)
    radius = jnp.where((rho < 0.25) | jnp.isnan(rho), 0.25 * s.radius, grow)
    x = jnp.where(ok, x_try, s.x)
    f = jnp.where(ok, f_try, s.f)
    info = StepInfo(ok.astype(x.dtype), 1, ok.astype(jnp.int32), 0, finished,
                    nhvp=cg.k)  # fmt: skip
    return TrustNCGState(x, f, g, radius, jnp.where(finished, 0, n)), info


@register("trust_ncg")
def trust_ncg(radius: float = 1.0) -> Optimizer:
    """x_{k+1} = x_k + p_k if rho_k > 0.15, p_k ~ argmin_{||p|| <= Delta_k} g'p +
    p'H p / 2 by Steihaug-Toint CG (Hessian-vector products), Delta_0 = ``radius``,
    Delta / 4 when rho < 1/4, x 2 when rho > 3/4 on the boundary (Steihaug 1983;
    Toint 1981; Nocedal & Wright 2006, Alg. 4.1 and 7.2).

    Each trial solves the subproblem afresh (a rejected step shrinks Delta); one f per
    trial, one g per accepted step.
    """
    params = {"radius": check_positive("radius", radius)}
    return Optimizer("trust_ncg", _tr_init, _tr_step, params, ("radius",),
                     searches=True)  # fmt: skip
