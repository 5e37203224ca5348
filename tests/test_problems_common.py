"""Properties every registered problem must have, checked against finite differences.

For each problem in ``problems.names()`` (so problems registered later are picked up):
the gradient against central differences of f, the Hessian against central
differences of the gradient, for least-squares problems the residual Jacobian against
central differences of the residuals, f(x*) == f*, and a finite f(x0).

Finite differences: Richardson-extrapolated central differences,
D = (4 D(h/2) - D(h)) / 3 with D(h) = (f(x + h e_i) - f(x - h e_i)) / 2h, whose error is
O(h^4) truncation plus ~3 eps |f| / h rounding. The step is scaled per coordinate,
h_i = 1e-3 max(|x_i|, 0.1), so badly scaled coordinates (x ~ 1e6 next to x ~ 1e-5)
each get a step matched to their size; 1e-3 balances truncation (~1e-12 relative)
against rounding (~1e-13 |f| / |x_i|).
"""

from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import problems

EPS = float(np.finfo(np.float64).eps)
NAMES = problems.names()
N_POINTS = 3


def _points(p: problems.Problem) -> np.ndarray:
    """Random points near x0: each coordinate moved by ~5% of its size (0.005 for
    coordinates at 0), from a seed fixed per problem name."""
    rng = np.random.default_rng(zlib.crc32(p.name.encode()))
    x0 = np.asarray(p.x0)
    scale = 0.05 * np.maximum(np.abs(x0), 0.1)
    return x0 + scale * rng.standard_normal((N_POINTS, p.dim))


def _steps(x: np.ndarray) -> np.ndarray:
    return 1e-3 * np.maximum(np.abs(x), 0.1)


def _stencil(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(4, n, n): x + h e_i, x - h e_i, x + h/2 e_i, x - h/2 e_i for each i."""
    e = np.diag(h)
    return np.stack([x + e, x - e, x + e / 2, x - e / 2])


def _richardson(v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Derivative along each e_i from values on the stencil (leading axes 4, n)."""
    hh = h.reshape((-1,) + (1,) * (v.ndim - 2))
    d1 = (v[0] - v[1]) / (2 * hh)
    d2 = (v[2] - v[3]) / hh
    return (4 * d2 - d1) / 3


def _evaluate(p: problems.Problem, xs: np.ndarray, stencils: np.ndarray):
    """Everything the checks need, in one compiled program per problem."""
    n = p.dim

    def run(xs, stencils):
        flat = stencils.reshape(-1, n)
        out = {
            "f_st": jax.vmap(p.f)(flat).reshape(stencils.shape[:-1]),
            "g_st": jax.vmap(p.grad)(flat).reshape(stencils.shape),
            "f": jax.vmap(p.f)(xs),
            "g": jax.vmap(p.grad)(xs),
            "h": jax.vmap(p.hess)(xs),
        }
        if p.residual is not None:
            r_flat = jax.vmap(p.residual)(flat)
            out["r_st"] = r_flat.reshape(stencils.shape[:-1] + r_flat.shape[-1:])
            out["r"] = jax.vmap(p.residual)(xs)
            out["jac"] = jax.vmap(jax.jacfwd(p.residual))(xs)
        return out

    out = jax.jit(run)(jnp.asarray(xs), jnp.asarray(stencils))
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.fixture(scope="module", params=NAMES)
def evaluated(request):
    p = problems.get(request.param)
    xs = _points(p)
    hs = np.stack([_steps(x) for x in xs])
    stencils = np.stack([_stencil(x, h) for x, h in zip(xs, hs, strict=True)])
    return p, xs, hs, _evaluate(p, xs, stencils)


def test_gradient_matches_central_differences(evaluated):
    p, xs, hs, ev = evaluated
    for j in range(N_POINTS):
        f_st, h, g = ev["f_st"][j], hs[j], ev["g"][j]
        fd = _richardson(f_st, h)
        # Per component: relative 1e-5, plus the rounding floor of the difference
        # quotient, 10 eps max|f| / h_i (3 eps |f| / h from the Richardson weights, and
        # a margin for rounding inside f). The floor matters only where f is much
        # larger than what one coordinate changes (brown_badly_scaled: f ~ 1e12 from
        # x1, gradient ~ 1 in x2); the residual test below covers that case.
        floor = 10 * EPS * np.max(np.abs(f_st), axis=0) / h
        err = np.abs(fd - g)
        bad = err > 1e-5 * np.abs(g) + floor
        assert not np.any(bad), (
            f"{p.label} at point {j}: components {np.nonzero(bad)[0]}, "
            f"grad {g[bad]}, finite differences {fd[bad]}"
        )


def test_hessian_matches_central_differences_of_gradient(evaluated):
    p, xs, hs, ev = evaluated
    for j in range(N_POINTS):
        g_st, h, hess = ev["g_st"][j], hs[j], ev["h"][j]
        fd = _richardson(g_st, h)  # fd[i, k] = d g_k / d x_i
        np.testing.assert_allclose(
            hess, hess.T, rtol=0, atol=1e-12 * np.abs(hess).max()
        )
        # Same rule as for the gradient, per entry, with the gradient's size in the
        # rounding floor.
        floor = 10 * EPS * np.max(np.abs(g_st), axis=0) / h[:, None]
        bad = np.abs(fd - hess) > 1e-5 * np.abs(hess) + floor
        assert not np.any(bad), (p.label, j, np.argwhere(bad), hess[bad], fd[bad])


def test_residual_jacobian_matches_central_differences(evaluated):
    """f = sum r^2, and the Jacobian of r against central differences of each residual
    (its own rounding floor, eps |r_k| / h, not that of f: this resolves what the
    f-based check cannot on badly scaled problems). Then grad f = 2 J'r."""
    p, xs, hs, ev = evaluated
    if p.residual is None:
        pytest.skip(f"{p.name} has no residual")
    for j in range(N_POINTS):
        r, jac, h, g = ev["r"][j], ev["jac"][j], hs[j], ev["g"][j]
        # f is the plain sum of squares (no 1/2): rounding of a sum of squares.
        np.testing.assert_allclose(ev["f"][j], r @ r, rtol=1e-13)
        fd = _richardson(ev["r_st"][j], h).T  # fd[k, i] = d r_k / d x_i
        floor = 10 * EPS * np.max(np.abs(ev["r_st"][j]), axis=(0, 1))[:, None] / h
        # Truncation: entries far below the rest of their column (osborne2: 2e-13 in
        # the tail of a Gaussian, next to O(1)) are not resolved to 1e-5 of
        # themselves by a step sized for the column; 1e-9 of the column's largest
        # entry bounds that (measured error there: 6e-14).
        floor = floor + 1e-9 * np.max(np.abs(jac), axis=0)
        bad = np.abs(fd - jac) > 1e-5 * np.abs(jac) + floor
        assert not np.any(bad), (p.label, j, np.argwhere(bad), jac[bad], fd[bad])
        # grad f = 2 J'r up to the rounding of the sum: relative to sum_k |J_ki r_k|.
        scale = 2 * np.abs(jac).T @ np.abs(r)
        np.testing.assert_array_less(np.abs(g - 2 * jac.T @ r), 1e-12 * scale + 1e-300)


def test_values_at_x0_and_x_star(evaluated):
    p, _, _, _ = evaluated
    f = jax.jit(p.f)
    assert p.x0.shape == (p.dim,) and p.x0.dtype == jnp.float64
    f0 = f(p.x0)
    assert f0.shape == () and np.isfinite(float(f0))
    if p.f_star is not None:
        assert float(f0) >= p.f_star  # x0 is not better than the minimum
    if p.x_star is None:
        return
    assert p.f_star is not None, f"{p.name}: x_star given without f_star"
    fs = float(f(p.x_star))
    # f_star carries >= 12 significant digits (problems/mgh.py); where f* = 0 only the
    # rounding of the residuals at x* is left (measured <= 1e-30).
    assert abs(fs - p.f_star) <= 1e-10 * abs(p.f_star) + 1e-20, (fs, p.f_star)
    # x* is a stationary point: ||g(x*)|| against ||g(x0)|| (measured <= 1e-14).
    g_star = np.linalg.norm(np.asarray(p.grad(p.x_star)))
    assert g_star <= 1e-8 * np.linalg.norm(np.asarray(p.grad(p.x0))), g_star
