"""Least-squares methods on f(x) = sum r(x)^2: Gauss-Newton and Levenberg-Marquardt.

They need the problem's residual r (``Problem.residual``); the driver refuses a
problem without one. The Jacobian J of r comes from jax (``Oracles.residual_and_jac``)
and is counted as ``njac``; with f = r'r the gradient is g = 2 J'r.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from optimizers.base import Optimizer, StepInfo, check_positive, register
from optimizers.linesearch import (
    Backtrack,
    backtrack_restart,
    backtrack_start,
    backtrack_trial,
)

# trials (rejected damped steps) an LM iteration may take before it gives up with x
# unchanged: the same bound as a line search's, which the driver's tick budget allows
LM_MAX_TRIALS = 40
# the damping never grows past this: beyond it the step is below rounding anyway, and
# an unbounded lambda would overflow after ~45 rejections (it doubles its own factor)
LM_MAX_DAMPING = 1e32


class GaussNewtonState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    d: jax.Array  # the Gauss-Newton direction being searched along
    search: Backtrack


def gauss_newton_direction(j: jax.Array, r: jax.Array) -> jax.Array:
    """d minimising ||r + J d|| (least norm where J is rank deficient), by SVD: the
    normal equations J'J d = -J'r would square J's condition number."""
    return jnp.linalg.lstsq(j, -r)[0]


def _gn_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    return GaussNewtonState(x0, f, g, jnp.zeros_like(x0), backtrack_start(x0.dtype))


def _gn_step(problem, s: GaussNewtonState, hp):
    fresh = s.search.fresh  # a new iteration: one Jacobian at x for its direction
    d = lax.cond(
        fresh,
        lambda: gauss_newton_direction(*problem.residual_and_jac(s.x)[::-1]),
        lambda: s.d,
    )
    search = backtrack_restart(s.search, 1.0)
    search, x, f, g, info = backtrack_trial(problem, s.x, s.f, s.g, d, search)
    return GaussNewtonState(x, f, g, d, search), info._replace(
        njac=fresh.astype(jnp.int32)
    )


@register("gauss_newton")
def gauss_newton() -> Optimizer:
    """x_{k+1} = x_k + t_k d_k, d_k = argmin_d ||r_k + J_k d|| (J_k^+ r_k), t_k by
    Armijo backtracking from 1 (Nocedal & Wright 2006, sec. 10.3)."""
    return Optimizer(
        "gauss_newton", _gn_init, _gn_step, {}, searches=True, needs_residual=True
    )


class LMState(NamedTuple):
    x: jax.Array
    f: jax.Array
    g: jax.Array
    r: jax.Array  # residual at x
    j: jax.Array  # its Jacobian (valid unless ``stale``)
    scale: jax.Array  # D: the largest column norms of J seen so far (More 1978)
    lam: jax.Array  # damping lambda
    nu: jax.Array  # growth factor of lambda on the next rejection
    stale: jax.Array  # J not yet evaluated at x (only before the first step)
    n: jax.Array  # trials rejected in this iteration


def lm_direction(
    j: jax.Array, r: jax.Array, lam: jax.Array, scale: jax.Array
) -> jax.Array:
    """p = -(J'J + lam D^2)^{-1} J'r, as the least-squares solution of
    [J; sqrt(lam) D] p = -[r; 0] (no squared condition number). lam -> 0: the
    Gauss-Newton step; lam -> inf: -(D^-2 J'r) / lam, scaled steepest descent."""
    n = j.shape[1]
    damp = jnp.sqrt(lam) * jnp.where(scale > 0, scale, 1.0)
    a = jnp.concatenate([j, jnp.diag(damp)])
    b = jnp.concatenate([-r, jnp.zeros(n, r.dtype)])
    return jnp.linalg.lstsq(a, b)[0]


def _lm_init(problem, x0, hp):
    f, g = problem.value_and_grad(x0)
    m = jax.eval_shape(problem.residual, x0).shape[0]
    dt = x0.dtype
    return LMState(x0, f, g, jnp.zeros(m, dt), jnp.zeros((m, x0.shape[0]), dt),
                   jnp.zeros_like(x0), jnp.asarray(hp["damping"], dt),
                   jnp.asarray(2.0, dt), jnp.array(True),
                   jnp.zeros((), jnp.int32))  # fmt: skip


def _lm_step(problem, s: LMState, hp):
    r, j = lax.cond(
        s.stale, lambda: problem.residual_and_jac(s.x), lambda: (s.r, s.j)
    )  # fmt: skip
    scale = jnp.maximum(s.scale, jnp.linalg.norm(j, axis=0))
    p = lm_direction(j, r, s.lam, scale)
    x_try = s.x + p
    r_try = problem.residual(x_try)
    f_try = r_try @ r_try
    model = r + j @ p
    predicted = s.f - model @ model  # decrease the linear model promises
    rho = (s.f - f_try) / predicted
    ok = (predicted > 0) & (rho > 1e-4)  # NaN compares False: rejected
    n = s.n + 1
    finished = ok | (n >= LM_MAX_TRIALS)
    # an accepted point: its Jacobian now, for g = 2 J'r (the next step reuses it)
    r_new, j_new = lax.cond(
        ok, lambda: problem.residual_and_jac(x_try), lambda: (r, j)
    )  # fmt: skip
    gain = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
    lam = jnp.where(ok, s.lam * gain, jnp.minimum(s.lam * s.nu, LM_MAX_DAMPING))
    nu = jnp.where(ok, 2.0, 2.0 * s.nu)
    x = jnp.where(ok, x_try, s.x)
    f = jnp.where(ok, f_try, s.f)
    g = jnp.where(ok, 2.0 * j_new.T @ r_new, s.g)
    info = StepInfo(ok.astype(x.dtype), 1, 0, 0, finished,
                    njac=ok.astype(jnp.int32) + s.stale)  # fmt: skip
    state = LMState(x, f, g, r_new, j_new, scale, lam, nu, jnp.array(False),
                    jnp.where(finished, 0, n))  # fmt: skip
    return state, info


@register("levenberg_marquardt")
def levenberg_marquardt(damping: float = 1e-3) -> Optimizer:
    """x_{k+1} = x_k + p_k, p_k = -(J'J + lam_k D_k^2)^{-1} J'r when the gain ratio
    rho_k > 1e-4; D_k the running max of J's column norms (More 1978, eq. 6.3);
    lam_0 = ``damping``, then lam *= max(1/3, 1 - (2 rho - 1)^3) on success, else
    lam *= nu, nu *= 2 (Nielsen 1999; Madsen, Nielsen & Tingleff 2004, Alg. 3.16).

    One residual per trial (``nfev``) and one Jacobian per accepted step (``njac``),
    as MINPACK counts; the gradient 2 J'r comes from that Jacobian (``njev`` only at
    the start). After ``LM_MAX_TRIALS`` rejections the iteration ends with x
    unchanged (two such: a stall).
    """
    params = {"damping": check_positive("damping", damping)}
    return Optimizer("levenberg_marquardt", _lm_init, _lm_step, params, ("damping",),
                     searches=True, needs_residual=True)  # fmt: skip
