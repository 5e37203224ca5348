"""Newton-CG and trust-region CG against dense linear algebra and counted calls.

References: NumPy's dense solve (CG run to convergence is the Newton step), the dense
``newton`` optimizer on a convex quadratic, a host-callback count of the Hessian-vector
products actually made, and the geometry of Steihaug's method (Nocedal & Wright 2006,
Alg. 7.2: negative curvature ends on the trust-region boundary).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bench
import optimizers
import problems
from optimizers.matrix_free import truncated_cg


def _spd(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.linspace(1.0, 50.0, n)) @ q.T


def test_cg_to_convergence_is_the_newton_step():
    h, g = _spd(6), np.random.default_rng(1).standard_normal(6)
    cg = truncated_cg(lambda v: h @ v, jnp.asarray(g), jnp.asarray(0.0), jnp.inf)
    # tolerance: kappa = 50, n = 6 exact-arithmetic steps; rounding ~1e-13
    np.testing.assert_allclose(cg.p, np.linalg.solve(h, -g), rtol=1e-10)
    np.testing.assert_allclose(cg.hp, h @ np.asarray(cg.p), rtol=1e-10)
    assert int(cg.k) <= 6 + 1  # n products, and one that finds a zero direction


def test_newton_cg_equals_dense_newton_on_convex_quadratic():
    p = problems.get("quadratic", dim=8, kappa=100.0)
    ref = bench.solve(p, optimizers.get("newton"), num_steps=5, gtol=1e-9)
    got = bench.solve(p, optimizers.get("newton_cg", eta_max=0.0), num_steps=5,
                      gtol=1e-9)  # fmt: skip
    assert int(ref.n_steps) == int(got.n_steps) == 1  # both: one full Newton step
    np.testing.assert_allclose(got.x, ref.x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.x, p.x_star, rtol=1e-10, atol=1e-12)
    assert 1 <= int(got.nhvp[1]) <= 9 and int(got.nhev[1]) == 0


def test_steihaug_stops_on_the_boundary_under_negative_curvature():
    h = np.diag([2.0, 1.0, -1.0])  # indefinite
    g = np.array([1.0, -1.0, 0.5])
    radius = 0.7
    cg = truncated_cg(lambda v: h @ v, jnp.asarray(g), jnp.asarray(1e-12),
                      jnp.asarray(radius))  # fmt: skip
    np.testing.assert_allclose(np.linalg.norm(cg.p), radius, rtol=1e-12)
    # and the step decreases the model g'p + p'Hp/2 below its value at 0
    p = np.asarray(cg.p)
    assert g @ p + 0.5 * p @ h @ p < 0


class _CountingOracles(problems.Oracles):
    """Oracles whose hvp reports each product actually computed to the host."""

    def hvp(self, x, v):
        jax.debug.callback(_COUNT.append, 1)
        return problems.Oracles.hvp(self, x, v)


_COUNT: list[int] = []


@pytest.mark.parametrize("name", ["newton_cg", "trust_ncg"])
def test_hvp_counts_equal_products_made(name):
    p = problems.get("rosenbrock")
    oracles = _CountingOracles(*p.oracles(p.data))
    opt = optimizers.get(name)
    hp = {k: jnp.asarray(v) for k, v in opt.hp().items()}
    step = jax.jit(lambda s: opt.step(oracles, s, hp))
    state = opt.init(oracles, p.x0, hp)
    _COUNT.clear()
    reported = 0
    for _ in range(40):
        state, info = step(state)
        reported += int(info.nhvp)
    jax.effects_barrier()
    assert reported > 40  # several products per direction on Rosenbrock
    assert len(_COUNT) == reported


def test_work_to_tol_counts_products_and_jacobians_as_gradients():
    import pandas as pd

    from bench import results

    keys = {"problem": "p", "config": "c", "precision": "float64", "start": 0}
    runs = pd.DataFrame([{**keys, "f_star": 0.0, "status": "converged"}])
    runs = runs.reindex(columns=results.RUN_COLUMNS)
    traces = pd.DataFrame({**keys, "step": [0, 1, 2], "f": [1.0, 1e-3, 1e-12],
                           "nfev": [1, 2, 3], "njev": [1, 2, 3], "nhvp": [0, 5, 9],
                           "njac": [0, 1, 2]})  # fmt: skip
    runs, _ = results.derive(runs, traces, tol=1e-8)
    # first row with gap <= 1e-8 is step 2: 3 gradients + 9 products + 2 Jacobians
    assert runs.loc[0, "work_to_tol"] == 14 and runs.loc[0, "njev_to_tol"] == 3
