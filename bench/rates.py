"""Empirical convergence rates and orders, and the theoretical rates on quadratics."""

from __future__ import annotations

import numpy as np


def _usable(gaps: np.ndarray, floor: float) -> np.ndarray:
    """Indices of the prefix of steps whose gap is finite and above the rounding floor.

    Once a gap first drops to the floor, later values are rounding noise.
    """
    gaps = np.asarray(gaps, dtype=float)
    ok = np.isfinite(gaps) & (gaps > floor)
    stop = len(gaps) if ok.all() else int(np.argmin(ok))
    return np.arange(stop)


def linear_rate(gaps: np.ndarray, floor: float, steps: np.ndarray | None = None
                ) -> float:  # fmt: skip
    """Per-step contraction rho of f_k - f*: exp(slope) of a least-squares fit of
    log gap_k against k over the second half of the usable steps (NaN if < 3);
    ``steps``: the step of each gap where a thinned trace skips some."""
    idx = _usable(gaps, floor)
    tail = idx[len(idx) // 2 :]
    if len(tail) < 3:
        return float("nan")
    k = tail if steps is None else np.asarray(steps)[tail]
    return float(np.exp(_slope(k, np.log(np.asarray(gaps, float)[tail]))))


def convergence_order(errors: np.ndarray, floor: float, last: int = 4) -> float:
    """Order q from a fit of log e_{k+1} = q log e_k + c over the last ``last`` usable
    pairs (q = 1 linear, 2 quadratic); NaN with fewer than 2 pairs or no progress."""
    idx = _usable(errors, floor)
    e = np.log(np.asarray(errors, float)[idx])[-(last + 1) :]
    if len(e) < 3 or np.ptp(e[:-1]) == 0:
        return float("nan")
    return _slope(e[:-1], e[1:])


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x (np.polyfit warns on the near-flat tails here)."""
    dx = np.asarray(x, float) - np.mean(x)
    return float(dx @ (np.asarray(y, float) - np.mean(y)) / (dx @ dx))


def theoretical_rate(
    problem_name: str, problem_params: dict, optimizer: str, opt_params: dict
) -> float:
    """Asymptotic per-step contraction of f - f* on a quadratic: the largest over the
    eigenvalues of |root|^2 of each mode's linear recurrence (Polyak 1987, ch. 3).

    gd: e' = (1 - lr l) e; heavy ball: e' = (1 + b - lr l) e - b e_prev; Nesterov (y
    form): y' = (1 + b) a y - b a y_prev with a = 1 - lr l; Newton: 0 (one step).
    NaN where no closed form applies (other problems, adaptive or line-search steps).
    """
    if problem_name != "quadratic":
        return float("nan")
    if optimizer == "newton":
        return 0.0
    from problems.classic import quadratic_spectrum  # imports jax: the report need not

    lam = quadratic_spectrum(
        problem_params["dim"], problem_params["kappa"], problem_params["spectrum"]
    )
    lr, beta = opt_params.get("lr"), opt_params.get("beta", 0.0)
    if optimizer == "gd" and not opt_params.get("armijo", False):
        radius = np.abs(1 - lr * lam)
    elif optimizer == "momentum":
        radius = _radius(1 + beta - lr * lam, -beta * np.ones_like(lam))
    elif optimizer == "nesterov":
        a = 1 - lr * lam
        radius = _radius((1 + beta) * a, -beta * a)
    else:
        return float("nan")
    return float(np.max(radius) ** 2)


def _radius(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Spectral radius of e' = c1 e + c2 e_prev: largest |r| with r^2 = c1 r + c2."""
    disc = np.sqrt((c1**2 + 4 * c2).astype(complex))
    return np.maximum(np.abs((c1 + disc) / 2), np.abs((c1 - disc) / 2))
