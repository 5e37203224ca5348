"""Textbook hyperparameters from a problem's constants: the SPEC value ``theory``.

For f mu-strongly convex with an L-Lipschitz gradient (kappa = L / mu):

- ``gd[lr=theory]``: lr = 2 / (L + mu), the step minimising the worst contraction
  (kappa - 1) / (kappa + 1) (Nesterov 2004, Thm 2.1.15);
- ``momentum[lr=theory,beta=theory]``: Polyak's heavy ball, lr = 4 / (sqrt L +
  sqrt mu)^2, beta = ((sqrt kappa - 1) / (sqrt kappa + 1))^2 (Polyak 1964; 1987,
  ch. 3.2);
- ``nesterov[lr=theory,beta=theory]``: lr = 1 / L, beta = (sqrt kappa - 1) /
  (sqrt kappa + 1) (Nesterov 2004, scheme 2.2.22).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

THEORY = "theory"

_RULES: dict[tuple[str, str], Callable[[float, float], float]] = {
    ("gd", "lr"): lambda mu, L: 2.0 / (L + mu),
    ("momentum", "lr"): lambda mu, L: 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2,
    ("momentum", "beta"): lambda mu, L: _ratio(mu, L) ** 2,
    ("nesterov", "lr"): lambda mu, L: 1.0 / L,
    ("nesterov", "beta"): lambda mu, L: _ratio(mu, L),
}


def _ratio(mu: float, L: float) -> float:
    """(sqrt kappa - 1) / (sqrt kappa + 1)."""
    r = math.sqrt(L / mu)
    return (r - 1.0) / (r + 1.0)


def theory_keys(params: dict[str, Any]) -> list[str]:
    """The hyperparameters given as ``theory``, sorted."""
    return sorted(k for k, v in params.items() if v == THEORY)


def resolve(optimizer: str, params: dict[str, Any], problem: Any) -> dict[str, Any]:
    """``params`` with every ``theory`` value replaced by its number for ``problem``.

    ValueError when the optimizer has no rule for that hyperparameter, or the problem
    does not know its constants (mu, L), naming it.
    """
    keys = theory_keys(params)
    if not keys:
        return params
    unknown = [k for k in keys if (optimizer, k) not in _RULES]
    if unknown:
        accepted = ", ".join(f"{o}[{k}=theory]" for o, k in _RULES)
        raise ValueError(
            f"{optimizer} has no theory value for {', '.join(unknown)}; "
            f"accepted: {accepted}"
        )
    mu, L = getattr(problem, "mu", None), getattr(problem, "L", None)
    if mu is None or L is None or not 0 < mu <= L < math.inf:
        raise ValueError(
            f"{optimizer}[{','.join(f'{k}=theory' for k in keys)}]: problem "
            f"{problem.label} has no known strong convexity and smoothness constants "
            "(mu, L); theory values work on quadratic and logistic_regression"
        )
    return {**params, **{k: _RULES[optimizer, k](mu, L) for k in keys}}
