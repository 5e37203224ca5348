"""The optimizers' numbers against independent references.

References: closed-form rates on quadratics (Polyak 1987, Nesterov 2004), hand-written
NumPy replays of Newton, BFGS and L-BFGS, scipy.optimize's BFGS, and optax's Adam,
heavy ball and Nesterov. Nothing here compares against this code's own earlier output.
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize
from jax import lax

import bench
import optimizers
import problems
from optimizers.linesearch import backtracking, strong_wolfe
from optimizers.second_order import _two_loop
from problems.mgh import MGH_NAMES

EPS = float(np.finfo(np.float64).eps)
KAPPAS = (10, 100, 1000)


# --- helpers --------------------------------------------------------------------------


@functools.cache
def _trajectory_fn(problem, name, init, step, searches, num_steps):
    def iteration(s, hp):
        """One iteration: one step call, or line-search trials until one ends it."""
        s, info = step(problem, s, hp)
        if not searches:
            return s, info
        return lax.while_loop(
            lambda c: ~c[1].accepted, lambda c: step(problem, c[0], hp), (s, info)
        )

    def run(x0, hp):
        def body(s, _):
            s, info = iteration(s, hp)
            return s, (s.x, s.f, info.step_size)

        s0 = init(problem, x0, hp)
        _, (xs, fs, alphas) = lax.scan(body, s0, None, length=num_steps)
        return (
            jnp.concatenate([x0[None], xs]),
            jnp.concatenate([s0.f[None], fs]),
            jnp.concatenate([jnp.zeros((1,), x0.dtype), alphas]),
        )

    return jax.jit(run)


def trajectory(problem, opt, num_steps, x0=None):
    """(x_k, f_k, alpha_k) for k = 0..num_steps from the optimizer's own init/step,
    without the driver (no stopping, no masking): the iterates themselves."""
    fn = _trajectory_fn(
        problem, opt.name, opt.init, opt.step, opt.searches, num_steps
    )
    xs, fs, alphas = fn(problem.x0 if x0 is None else jnp.asarray(x0), opt.hp())
    return np.asarray(xs), np.asarray(fs), np.asarray(alphas)


def decade_fit(gap, lo, hi, correct_k2=False):
    """Iterations per decade of ``gap`` from a least-squares line through log10(gap_k)
    over the first contiguous window lo > gap_k >= hi. ``correct_k2`` fits
    log10(gap_k / k^2) instead: the rate of k^2 rho^(2k), the error of a double
    (Jordan-block) root of the iteration's characteristic polynomial."""
    gap = np.asarray(gap)
    start = int(np.argmax(gap < lo))
    stop = int(np.argmax(gap < hi))
    assert gap[start] < lo and gap[stop] < hi and stop - start >= 10, (start, stop)
    k = np.arange(start, stop)
    y = np.log10(gap[k])
    if correct_k2:
        y = y - 2 * np.log10(k)
    slope = np.polyfit(k, y, 1)[0]
    return -1.0 / slope, (start, stop)


def theory_ipd(rate):
    """Iterations per decade of a sequence contracting by ``rate`` per step."""
    return -1.0 / math.log10(rate)


def quadratic(kappa):
    # mu = 1 and L = kappa exactly: the spectrum is linspace(1, kappa, dim).
    return problems.get("quadratic", dim=10, kappa=float(kappa))


def _run_quadratic(kappa, opt, rate):
    """f - f* over a run long enough to cross the fit window [1e-24, 1e-6] x gap_0."""
    p = quadratic(kappa)
    # The rates below assume mu = 1 and L = kappa: check the spectrum independently.
    lam = np.linalg.eigvalsh(np.asarray(p.hess(p.x0)))
    np.testing.assert_allclose([lam[0], lam[-1]], [1.0, kappa], rtol=1e-12)
    steps = int(theory_ipd(rate) * 30) + 100
    tr = bench.solve(p, opt, num_steps=steps, gtol=0.0)
    gap = np.asarray(tr.f) - p.f_star
    assert not bool(tr.diverged[-1])
    return gap


# Window of the rate fits: past the transient (the fast modes are gone below 1e-6 of the
# initial gap) and far above the rounding floor. The floor is where the error e = x - x*
# reaches rounding of x: gap ~ L/2 (eps ||x*||)^2 ~ 1e-28 for kappa = 1000, and 1e-24
# x gap_0 is >= 3e-23, five decades above it.
WINDOW = (1e-6, 1e-24)


# --- 1-3: rates on quadratics ---------------------------------------------------------


@pytest.mark.parametrize("kappa", KAPPAS)
def test_gd_rate_matches_theory(kappa):
    """GD with lr = 2/(L + mu): the error contracts by (kappa-1)/(kappa+1) in the two
    extreme eigendirections (with opposite signs), so f - f* by its square."""
    rate = ((kappa - 1) / (kappa + 1)) ** 2
    gap = _run_quadratic(kappa, optimizers.get("gd", lr=2 / (kappa + 1)), rate)
    lo, hi = gap[0] * WINDOW[0], gap[0] * WINDOW[1]
    ipd, (a, b) = decade_fit(gap, lo, hi)
    # 2%: the brief's bound; the measured error is < 1e-6 since nothing but the extreme
    # modes survive past the transient.
    assert ipd == pytest.approx(theory_ipd(rate), rel=0.02)
    ratios = gap[a + 1 : b] / gap[a : b - 1]
    # Every per-step ratio in the window is rate: the next-slowest mode (eigenvalue
    # 1 + (kappa-1)/9) has died out by a factor > 1e6 there. 1e-6 leaves room for it.
    np.testing.assert_allclose(np.median(ratios), rate, rtol=1e-6)
    np.testing.assert_allclose(ratios, rate, rtol=1e-4)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_heavy_ball_rate_matches_polyak(kappa):
    """Heavy ball with Polyak's parameters: every mode of the error contracts by
    sqrt(beta) = (sqrt(kappa)-1)/(sqrt(kappa)+1) per step, so f - f* by beta."""
    sk = math.sqrt(kappa)
    beta = ((sk - 1) / (sk + 1)) ** 2
    opt = optimizers.get("momentum", lr=4 / (sk + 1) ** 2, beta=beta)
    gap = _run_quadratic(kappa, opt, beta)
    lo, hi = gap[0] * WINDOW[0], gap[0] * WINDOW[1]
    # 8% (the brief's bound): at mu and L the characteristic polynomial has a double
    # root, so the error there is (a + b k) rho^k and the gap ~ k^2 rho^(2k); the k^2
    # biases a straight-line fit by ~5% over this window (measured 4-6%).
    ipd, _ = decade_fit(gap, lo, hi)
    assert ipd == pytest.approx(theory_ipd(beta), rel=0.08)
    # With the k^2 taken out the fit recovers the rate itself (measured within 0.2%).
    ipd_k2, _ = decade_fit(gap, lo, hi, correct_k2=True)
    assert ipd_k2 == pytest.approx(theory_ipd(beta), rel=0.01)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_nesterov_rate_matches_theory(kappa):
    """Nesterov, lr = 1/L, beta = (sqrt(kappa)-1)/(sqrt(kappa)+1): the slowest mode
    (lambda = mu) contracts by 1 - 1/sqrt(kappa) per step (a double root), the gap by
    its square (Nesterov 2004, thm. 2.2.3)."""
    sk = math.sqrt(kappa)
    rate = (1 - 1 / sk) ** 2
    opt = optimizers.get("nesterov", lr=1 / kappa, beta=(sk - 1) / (sk + 1))
    gap = _run_quadratic(kappa, opt, rate)
    lo, hi = gap[0] * WINDOW[0], gap[0] * WINDOW[1]
    ipd, _ = decade_fit(gap, lo, hi)
    # At most 10% slower than the rate (the brief's bound); the k^2 of the double root
    # is the measured 6-7% (see the heavy-ball test).
    assert ipd <= 1.10 * theory_ipd(rate)
    # k^2 taken out: within 2% (measured 0.6-0.8% faster than the rate, since the error
    # is (a + b k) rho^k and a is not yet negligible against b k in the window).
    ipd_k2, _ = decade_fit(gap, lo, hi, correct_k2=True)
    assert ipd_k2 == pytest.approx(theory_ipd(rate), rel=0.02)


# --- 4: Newton ------------------------------------------------------------------------


def test_newton_solves_quadratic_in_one_step():
    p = quadratic(1000)
    tr = bench.solve(p, optimizers.get("newton"), num_steps=5, gtol=1e-8)
    gap = np.asarray(tr.f) - p.f_star
    # After one exact Newton step only rounding is left: ||x1 - x*|| ~ kappa eps ||x*||,
    # gap ~ L/2 (kappa eps ||x*||)^2 ~ 1e-22, i.e. ~1e-25 of gap_0; 1e-20 leaves room.
    assert gap[1] <= 1e-20 * gap[0]
    # A full step accepted at the first trial: one f, one g (here one Hessian, too).
    assert float(tr.step_size[1]) == 1.0
    assert (int(tr.nfev[1]), int(tr.njev[1]), int(tr.nhev[1])) == (2, 2, 1)
    x_err = np.linalg.norm(np.asarray(tr.x) - np.asarray(p.x_star))
    assert x_err <= 100 * 1000 * EPS * np.linalg.norm(p.x_star)  # kappa eps ||x*||
    assert bool(tr.done[1])


def _rosenbrock_np(x):
    f = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    g = np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]),
                  200 * (x[1] - x[0] ** 2)])  # fmt: skip
    h = np.array([[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]],
                  [-400 * x[0], 200.0]])  # fmt: skip
    return f, g, h


def test_newton_steps_match_numpy_on_rosenbrock():
    """Every step is alpha_k d_k with d_k the NumPy Newton direction on the analytic
    Hessian (eigenvalues floored at |lambda|, N&W sec. 3.4) and alpha_k the first of
    1, 1/2, ... meeting Armijo (c1 = 1e-4)."""
    p = problems.get("rosenbrock")
    xs, _, alphas = trajectory(p, optimizers.get("newton"), 30)
    for k in range(30):
        x = xs[k]
        f, g, h = _rosenbrock_np(x)
        if np.linalg.norm(g) < 1e-8:  # at the solution: the step is rounding
            break
        lam, v = np.linalg.eigh(h)
        floor = 2 * EPS * np.max(np.abs(lam))
        d = -v @ ((v.T @ g) / np.maximum(np.abs(lam), floor))
        a = alphas[k + 1]
        # The direction through a 2x2 eigensolve: rounding ~ cond(H) eps ~ 1e-12.
        np.testing.assert_allclose(xs[k + 1] - x, a * d, rtol=1e-9, atol=1e-14)
        assert a > 0 and math.log2(a) == round(math.log2(a))  # a power of 1/2
        assert _rosenbrock_np(x + a * d)[0] <= f + 1e-4 * a * (g @ d)
        if a < 1:  # the previous trial, twice as long, failed Armijo
            assert not _rosenbrock_np(x + 2 * a * d)[0] <= f + 2e-4 * a * (g @ d)


@pytest.mark.parametrize("name", ["rosenbrock", "wood"])
def test_newton_converges_quadratically(name):
    p = problems.get(name)
    xs, _, alphas = trajectory(p, optimizers.get("newton"), 60)
    e = np.linalg.norm(xs - np.asarray(p.x_star), axis=1)
    assert e[-1] <= 1e-12, f"Newton did not converge on {name}: e = {e[-1]:.3g}"
    # Rounding floor: ||e|| stops at ~cond(H) eps ||x*|| (~1e-12 here); pairs whose
    # e_{k+1} is above 1e-11 are clear of it. The last three such pairs are the
    # "final steps"; all of them are full steps (the local regime).
    ks = [k for k in range(60) if e[k + 1] > 1e-11 and e[k] < 1.0]
    ks = ks[-3:]
    assert len(ks) == 3 and all(alphas[k + 1] == 1.0 for k in ks), (ks, e)
    order = np.polyfit(np.log(e[ks]), np.log(e[np.add(ks, 1)]), 1)[0]
    # >= 1.8 (brief). The constant in e_{k+1} ~ C e_k^2 depends on the direction of
    # e_k (on rosenbrock from ~0.2 along the valley to ~1e3 across it), so a fit over
    # three pairs scatters around 2 (measured: rosenbrock 1.89, wood 2.01).
    assert order >= 1.8, (order, e[ks[0] : ks[-1] + 2])


# --- 5: BFGS and L-BFGS against scipy -------------------------------------------------

# One step count for every quasi-Newton run here and in test_driver.py, so the
# compiled programs are shared (the driver caches them by problem, optimizer, length).
QN_STEPS = 2000


def _scipy_bfgs(p, gtol, maxiter=20000):
    vg = jax.jit(jax.value_and_grad(p.f))

    def fun(x):
        f, g = vg(jnp.asarray(x))
        return float(f), np.asarray(g, dtype=float)

    with warnings.catch_warnings():  # "precision loss" at the rounding floor
        warnings.simplefilter("ignore")
        return scipy.optimize.minimize(
            fun, np.asarray(p.x0), jac=True, method="BFGS",
            options={"gtol": gtol, "norm": 2, "maxiter": maxiter},
        )  # fmt: skip


def _steps_to_done(tr):
    done = np.asarray(tr.done)
    assert done[-1], "the run did not stop"
    return int(np.argmax(done))


@pytest.mark.parametrize("name", ["bfgs", "lbfgs"])
def test_quasi_newton_iterations_vs_scipy_on_rosenbrock(name):
    p = problems.get("rosenbrock")
    ref = _scipy_bfgs(p, gtol=1e-5)
    assert ref.success and np.linalg.norm(ref.jac) <= 1e-5
    tr = bench.solve(p, optimizers.get(name), num_steps=QN_STEPS, gtol=1e-5)
    k = _steps_to_done(tr)
    assert float(tr.grad_norm[k]) <= 1e-5 and not bool(tr.diverged[-1])
    # 1.3x scipy's iterations (brief); measured 36 (bfgs), 36 (lbfgs) vs scipy's 32.
    assert k <= 1.3 * ref.nit, (k, ref.nit)
    # Line-search work is comparable too: one f and one g per trial.
    assert int(tr.nfev[k]) == int(tr.njev[k]) <= 1.3 * ref.nfev


def _check_strong_wolfe(f_np, x, d, a, c1=1e-4, c2=0.9):
    f0, g0 = f_np(x)[:2]
    f1, g1 = f_np(x + a * d)[:2]
    assert f1 <= f0 + c1 * a * (g0 @ d)
    assert abs(g1 @ d) <= c2 * abs(g0 @ d)


def _bfgs_update(h, s, y):
    """H+ = (I - r s y') H (I - r y s') + r s s', r = 1/y's (N&W eq. 6.17)."""
    r = 1.0 / (y @ s)
    v = np.eye(len(s)) - r * np.outer(y, s)
    return v.T @ h @ v + r * np.outer(s, s)


@pytest.mark.parametrize("name", ["bfgs", "lbfgs"])
def test_quasi_newton_replays_in_numpy(name):
    """Replay our accepted step sizes through textbook BFGS / L-BFGS in NumPy (L-BFGS as
    the dense matrix built from the last m pairs, not the two-loop recursion): the
    iterates agree, and every accepted step meets the strong Wolfe conditions."""
    p = problems.get("rosenbrock")
    memory = 3  # smaller than the ~35 iterations, so the memory window matters
    opt = optimizers.get(name, **({"memory": memory} if name == "lbfgs" else {}))
    xs, _, alphas = trajectory(p, opt, 40)
    x = np.array([-1.2, 1.0])
    g = _rosenbrock_np(x)[1]
    h = np.eye(2)
    pairs = []
    for k in range(40):
        if np.linalg.norm(g) < 1e-7:
            break
        if name == "lbfgs":
            h = np.eye(2)
            if pairs:
                s, y = pairs[-1]
                h = (s @ y) / (y @ y) * np.eye(2)
                for s, y in pairs[-memory:]:
                    h = _bfgs_update(h, s, y)
        d = -h @ g
        a = alphas[k + 1]
        assert a > 0
        _check_strong_wolfe(_rosenbrock_np, x, d, a)
        x_new = x + a * d
        g_new = _rosenbrock_np(x_new)[1]
        s, y = x_new - x, g_new - g
        assert s @ y > 0
        if name == "bfgs":
            if k == 0:  # H0 = (y's / y'y) I before the first update (N&W eq. 6.20)
                h = (s @ y) / (y @ y) * np.eye(2)
            h = _bfgs_update(h, s, y)
        pairs.append((s, y))
        x, g = x_new, g_new
        # Rounding, amplified along the run: the first steps agree to 1e-15, mid-run
        # to 2e-9. The replay itself moves by 4e-9 there when x0 is moved by one ulp,
        # so 1e-7 is rounding; a wrong update would be off by O(1e-2) or more.
        np.testing.assert_allclose(xs[k + 1], x, rtol=0, atol=1e-7)
    assert np.linalg.norm(x - 1.0) < 1e-5


def test_two_loop_equals_dense_lbfgs_matrix():
    """N&W Alg. 7.4 against the explicit product of BFGS updates applied to gamma I."""
    rng = np.random.default_rng(1)
    n, m = 6, 4
    a = rng.standard_normal((n, n))
    a = a @ a.T + n * np.eye(n)  # SPD, so y's > 0
    s = rng.standard_normal((m, n))
    y = s @ a
    g = rng.standard_normal(n)
    h = (s[-1] @ y[-1]) / (y[-1] @ y[-1]) * np.eye(n)
    for si, yi in zip(s, y, strict=True):
        h = _bfgs_update(h, si, yi)
    rho = 1.0 / np.einsum("ij,ij->i", s, y)
    got = _two_loop(jnp.asarray(s), jnp.asarray(y), jnp.asarray(rho), jnp.asarray(g))
    np.testing.assert_allclose(got, h @ g, rtol=1e-12)  # rounding of 4 rank-2 updates
    # Unused slots (rho = 0, zero rows) drop out: a half-full memory equals m = 2.
    s2 = np.concatenate([np.zeros((2, n)), s[2:]])
    y2 = np.concatenate([np.zeros((2, n)), y[2:]])
    rho2 = np.concatenate([np.zeros(2), rho[2:]])
    h2 = (s[-1] @ y[-1]) / (y[-1] @ y[-1]) * np.eye(n)
    for si, yi in zip(s[2:], y[2:], strict=True):
        h2 = _bfgs_update(h2, si, yi)
    got2 = _two_loop(*map(jnp.asarray, (s2, y2, rho2, g)))
    np.testing.assert_allclose(got2, h2 @ g, rtol=1e-12)


def test_line_searches_meet_their_conditions():
    p = problems.get("rosenbrock")
    x = jnp.asarray([-1.2, 1.0])
    f, g = p.value_and_grad(x)
    d = -g / jnp.linalg.norm(g)  # unit steepest descent: the first trial overshoots
    for a0 in (1.0, 1e-3):  # one trial too long (bracketing), one too short (doubling)
        a, fa, ga, nfev, njev = jax.jit(strong_wolfe, static_argnums=0)(
            p, x, f, g, d, a0
        )
        a = float(a)
        assert a > 0 and int(nfev) == int(njev) >= 1
        _check_strong_wolfe(_rosenbrock_np, np.asarray(x), np.asarray(d), a)
        xa = np.asarray(x) + a * np.asarray(d)
        np.testing.assert_allclose(fa, _rosenbrock_np(xa)[0], rtol=1e-14)
        np.testing.assert_allclose(ga, _rosenbrock_np(xa)[1], rtol=1e-13)
    # Armijo backtracking from t0 = 1: t = 2^-j for the first j that passes.
    t, ft, gt, nfev, njev = jax.jit(backtracking, static_argnums=0)(p, x, f, g, d)
    j = next(j for j in range(40) if _armijo(x, d, 2.0**-j))
    assert float(t) == 2.0**-j and int(nfev) == j + 1 and int(njev) == 1


def _armijo(x, d, t):
    x, d = np.asarray(x), np.asarray(d)
    f0, g0, _ = _rosenbrock_np(x)
    return _rosenbrock_np(x + t * d)[0] <= f0 + 1e-4 * t * (g0 @ d)


# The slow test: one compiled program per (problem, optimizer), ~1-2 s each on CPU.
@pytest.mark.parametrize("name", MGH_NAMES)
def test_quasi_newton_reach_mgh_f_star_where_scipy_does(name):
    p = problems.get(name)
    if p.f_star is None:
        pytest.skip(f"{name}: no published f* for the default size")

    def reached(f):
        # rel 1e-6 (abs 1e-8 when f* = 0): the brief's criterion; f_star is the
        # published value refined to >= 12 digits (problems/mgh.py).
        tol = 1e-8 if p.f_star == 0 else 1e-6 * abs(p.f_star)
        return abs(f - p.f_star) <= tol

    ref = _scipy_bfgs(p, gtol=1e-10)
    if not reached(ref.fun):
        pytest.skip(f"{name}: scipy's BFGS stops at f = {ref.fun:.6g}, not f*")
    for opt_name in ("bfgs", "lbfgs"):
        tr = bench.solve(p, optimizers.get(opt_name), num_steps=QN_STEPS, gtol=1e-10)
        f_final = float(tr.f[-1])
        assert not bool(tr.diverged[-1])
        assert reached(f_final), (opt_name, f_final, p.f_star, ref.fun)


# --- 6: optax as the reference for Adam, heavy ball and Nesterov ----------------------


def _optax_run(p, tx, num_steps):
    def body(c, _):
        x, st = c
        g = jax.grad(p.f)(x)
        u, st = tx.update(g, st, x)
        x = optax.apply_updates(x, u)
        return (x, st), (x, p.f(x))

    def run(x0):
        _, (xs, fs) = lax.scan(body, (x0, tx.init(x0)), None, length=num_steps)
        return jnp.concatenate([x0[None], xs]), jnp.concatenate([p.f(x0)[None], fs])

    xs, fs = jax.jit(run)(p.x0)
    return np.asarray(xs), np.asarray(fs)


OPTAX_CASES = {
    # name: (problem, our optimizer, optax transformation)
    "adam-rosenbrock": ("rosenbrock", ("adam", {"lr": 1e-2}), optax.adam(1e-2)),
    "adam-quadratic": ("quadratic", ("adam", {"lr": 1e-2}), optax.adam(1e-2)),
    "momentum-rosenbrock": (
        "rosenbrock",
        ("momentum", {"lr": 1e-3, "beta": 0.9}),
        optax.sgd(1e-3, momentum=0.9),
    ),
    "momentum-quadratic": (
        "quadratic",
        ("momentum", {"lr": 1e-2, "beta": 0.9}),
        optax.sgd(1e-2, momentum=0.9),
    ),
    "nesterov-rosenbrock": (
        "rosenbrock",
        ("nesterov", {"lr": 1e-3, "beta": 0.9}),
        optax.sgd(1e-3, momentum=0.9, nesterov=True),
    ),
}


@pytest.mark.parametrize("case", OPTAX_CASES)
def test_trajectory_equals_optax(case):
    pname, (oname, kw), tx = OPTAX_CASES[case]
    p = problems.get("rosenbrock") if pname == "rosenbrock" else quadratic(100)
    n = 300
    xa, fa = _optax_run(p, tx, n)
    opt = optimizers.get(oname, **kw)
    xs, fs, _ = trajectory(p, opt, n)
    # Same arithmetic up to operation order: 1e-10 relative (brief); measured <= 1e-15.
    scale = np.max(np.abs(xa))
    np.testing.assert_allclose(xs, xa, rtol=0, atol=1e-10 * scale)
    # f through the driver (gtol = 0: all 300 steps). Below 1e-12 f_0 the value is
    # set by the absolute rounding of x (f ~ e'Ae with e = x - x* ~ 1e-6 carries
    # relative rounding ~1e-10), so that part is compared absolutely.
    tr = bench.solve(p, opt, num_steps=n, gtol=0.0)
    np.testing.assert_allclose(tr.f, fa, rtol=1e-10, atol=1e-12 * fa[0])
    np.testing.assert_allclose(tr.x, xa[-1], rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(fs, fa, rtol=1e-10, atol=1e-12 * fa[0])
