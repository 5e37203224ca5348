"""Rate and order estimators against sequences with known rates, and the theoretical
quadratic rates against the closed forms of Polyak (1987) and Nesterov (2004)."""

import numpy as np
import pytest

from bench.rates import convergence_order, linear_rate, theoretical_rate


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.999])
def test_linear_rate_recovers_geometric_contraction(rho):
    gaps = 3.0 * rho ** np.arange(200)
    assert linear_rate(gaps, floor=1e-300) == pytest.approx(rho, rel=1e-12)


def test_linear_rate_ignores_the_rounding_floor():
    gaps = np.concatenate([0.5 ** np.arange(40), np.full(60, 1e-17)])
    # Only the prefix above the floor counts; the flat noise tail is left out.
    assert linear_rate(gaps, floor=1e-16) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("q", [1.0, 1.618, 2.0, 3.0])
def test_order_recovers_q(q):
    e = [1e-1]
    while e[-1] ** q > 1e-250:
        e.append(0.5 * e[-1] ** q)
    # e_{k+1} = 0.5 e_k^q exactly, so the log-log fit has slope q.
    assert convergence_order(np.array(e), floor=1e-300) == pytest.approx(q, rel=1e-9)


def test_order_needs_enough_points():
    assert np.isnan(convergence_order(np.array([1.0, 0.1]), floor=1e-300))


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_theoretical_rates_match_closed_forms(kappa):
    params = {"dim": 30, "kappa": kappa, "spectrum": "linear", "seed": 0}
    sk = np.sqrt(kappa)
    gd = theoretical_rate("quadratic", params, "gd", {"lr": 2 / (1 + kappa)})
    assert gd == pytest.approx(((kappa - 1) / (kappa + 1)) ** 2, rel=1e-12)
    hb_params = {"lr": 4 / (1 + sk) ** 2, "beta": ((sk - 1) / (sk + 1)) ** 2}
    hb = theoretical_rate("quadratic", params, "momentum", hb_params)
    # Optimal heavy ball has a double root: sqrt of rounding error in the radius.
    assert hb == pytest.approx(((sk - 1) / (sk + 1)) ** 2, rel=1e-6)
    nag_params = {"lr": 1 / kappa, "beta": (sk - 1) / (sk + 1)}
    nag = theoretical_rate("quadratic", params, "nesterov", nag_params)
    assert nag == pytest.approx((1 - 1 / sk) ** 2, rel=1e-6)


def test_theoretical_rate_is_nan_without_a_closed_form():
    params = {"dim": 5, "kappa": 10.0, "spectrum": "linear", "seed": 0}
    assert np.isnan(theoretical_rate("rosenbrock", {"n": 2}, "gd", {"lr": 1e-3}))
    assert np.isnan(theoretical_rate("quadratic", params, "adam", {"lr": 1e-3}))
    armijo = {"lr": 1.0, "armijo": True}
    assert np.isnan(theoretical_rate("quadratic", params, "gd", armijo))
    assert theoretical_rate("quadratic", params, "newton", {}) == 0.0
