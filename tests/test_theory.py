"""``theory`` hyperparameters: the problems' constants against numpy's eigenvalues,
the textbook formulas in closed form on a quadratic, labels, one program per sweep."""

from __future__ import annotations

import math
import re

import jax
import numpy as np
import pytest

import problems
from bench.cells import prepare
from bench.families import families
from bench.suites import CellSpec


@pytest.mark.parametrize("spectrum", ["linear", "log"])
def test_quadratic_constants_are_its_extreme_eigenvalues(spectrum: str) -> None:
    p = problems.get("quadratic", dim=8, kappa=300.0, spectrum=spectrum)
    eig = np.linalg.eigvalsh(np.asarray(p.data["a"]))
    assert p.mu == pytest.approx(eig[0], rel=1e-10)
    assert p.L == pytest.approx(eig[-1], rel=1e-10)


def test_logistic_regression_constants_bound_its_hessian() -> None:
    p = problems.get("logistic_regression", n_samples=50, n_features=4, reg=0.1)
    hess = jax.jit(p.hess)
    for w in (p.x_star, np.ones(4), 3.0 * np.ones(4)):
        eig = np.linalg.eigvalsh(np.asarray(hess(w)))
        assert p.mu <= eig[0] * (1 + 1e-12) and eig[-1] <= p.L * (1 + 1e-12)
    # at w = 0 every sample weighs s(1 - s) = 1/4: the bound L is attained there
    top = np.linalg.eigvalsh(np.asarray(hess(np.zeros(4))))[-1]
    assert top == pytest.approx(p.L, rel=1e-10)


def _cell(optimizer: str, params: dict, kappa: float = 100.0):
    (cell,) = prepare(
        [CellSpec("quadratic", {"dim": 4, "kappa": kappa}, optimizer, params)]
    )
    return cell


def test_textbook_values_on_a_quadratic() -> None:
    # mu = 1, L = kappa = 100, sqrt(kappa) = 10
    gd = _cell("gd", {"lr": "theory"})
    assert gd.params["lr"] == pytest.approx(2 / 101, rel=1e-14)
    hb = _cell("momentum", {"lr": "theory", "beta": "theory"})
    assert hb.params["lr"] == pytest.approx(4 / 11**2, rel=1e-14)
    assert hb.params["beta"] == pytest.approx((9 / 11) ** 2, rel=1e-14)
    nag = _cell("nesterov", {"lr": "theory", "beta": 0.5})
    assert nag.params == {"lr": pytest.approx(0.01, rel=1e-14), "beta": 0.5}
    assert nag.config == "nesterov[beta=0.5,lr=theory]"
    assert hb.config == "momentum[beta=theory,lr=theory]"


def test_heavy_ball_reaches_its_theoretical_rate() -> None:
    """Polyak's choice gives rate_theory ((sqrt k - 1)/(sqrt k + 1))^2 per step on the
    gap: the rate model of bench.rates agrees with the closed form."""
    from bench.rates import theoretical_rate

    hb = _cell("momentum", {"lr": "theory", "beta": "theory"})
    p = hb.problem
    rate = theoretical_rate(p.name, p.params, "momentum", hb.params)
    assert rate == pytest.approx((9 / 11) ** 2, rel=1e-6)


def test_a_kappa_sweep_is_one_config_and_one_program() -> None:
    cells = prepare(
        [
            CellSpec("quadratic", {"dim": 4, "kappa": k}, "gd", {"lr": "theory"})
            for k in (10.0, 100.0, 1000.0)
        ]
    )
    assert {c.config for c in cells} == {"gd[armijo=False,lr=theory]"}
    assert [c.params["lr"] for c in cells] == pytest.approx(
        [2 / 11, 2 / 101, 2 / 1001], rel=1e-14
    )
    assert len(families(cells)) == 1


@pytest.mark.parametrize(
    ("problem", "optimizer", "says"),
    [
        ("rosenbrock", "gd", "problem rosenbrock[n=2] has no known strong convexity"),
        ("quadratic", "adam", "adam has no theory value for lr; accepted: gd[lr="),
    ],
)
def test_theory_errors_name_the_cause(problem: str, optimizer: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        prepare([CellSpec(problem, {}, optimizer, {"lr": "theory"})])


def test_theory_formulas_are_finite_for_kappa_one() -> None:
    cell = _cell("nesterov", {"lr": "theory", "beta": "theory"}, kappa=1.0)
    assert cell.params["beta"] == 0.0 and math.isfinite(cell.params["lr"])
