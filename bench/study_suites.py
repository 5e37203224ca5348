"""The studies' suites: conditioning (kappa), least squares (lsq), sizes (scale) and
CUTEst, each built when asked for (``bench.suites.get``)."""

from __future__ import annotations

from bench.suites import Group, Suite, mgh_names


def kappa() -> Suite:
    # GD at kappa = 1e4 needs ~ kappa/4 ln(gap0/tol) ~ 5e4 steps
    return Suite(
        "kappa",
        (
            Group(
                ("quadratic[dim=20,kappa=[10,100,1000,10000]]",),
                (
                    "gd[lr=theory]",
                    "momentum[beta=theory,lr=theory]",
                    "nesterov[beta=theory,lr=theory]",
                    "newton",
                    "bfgs",
                ),
                "textbook tuning from mu and L: steps to tolerance against kappa",
            ),
        ),
        "conditioning: theory-tuned gd, heavy ball and Nesterov, Newton and BFGS on "
        "quadratics over kappa = 10..1e4 (report: slopes against theory)",
        starts=4,
        steps=100_000,
    )


def lsq() -> Suite:
    return Suite(
        "lsq",
        (
            Group(
                mgh_names(),
                (
                    "gauss_newton",
                    "levenberg_marquardt",
                    "scipy:least_squares-lm",
                    "scipy:least_squares-trf",
                    "optimistix:LevenbergMarquardt",
                ),
                "least-squares methods use the residual every MGH problem keeps",
            ),
        ),  # fmt: skip
        "the 35 MGH problems as least squares: ours against scipy and optimistix",
        starts=4,
        steps=500,
    )


def cutest(max_dim: int = 100) -> Suite:
    """CUTEst's unconstrained problems with n <= ``max_dim`` (``--suite cutest
    --max-dim N``): not in the listed suites, since sizing them imports each one."""
    from problems import cutest as sif

    names = tuple(f"cutest:{name}" for name in sif.dimensions(max_dim))
    if not names:
        raise ValueError(f"--suite cutest: no CUTEst problem has n <= {max_dim} "
                         "(--max-dim)")  # fmt: skip
    return Suite(
        "cutest",
        (
            Group(names, ("bfgs", "lbfgs", "newton_cg", "trust_ncg", "scipy:BFGS")),
            Group(names, ("newton",), "dense Hessian: n <= 100 by default"),
        ),
        f"CUTEst unconstrained problems with n <= {max_dim} (via sif2jax)",
        starts=1,
        steps=1000,
    )


def scale() -> Suite:
    sizes = "[100,1000,10000,100000]"
    big = (f"extended_rosenbrock[n={sizes}]", f"extended_powell[n={sizes}]",
           f"separable_quadratic[n={sizes}]", f"banded_quadratic[n={sizes}]",
           "logistic_regression[n_features=[100,10000,100000],n_samples=200]",
           )  # fmt: skip
    small = tuple(s.replace(sizes, "[100,1000]") for s in big[:4])
    return Suite(
        "scale",
        (
            Group(
                big,
                ("gd[armijo=true,lr=1]", "lbfgs", "newton_cg", "trust_ncg"),
                "O(n) memory per iteration: Hessian-vector products, not H",
            ),
            Group(
                small,
                ("newton",),
                "the dense Hessian: n^2 memory, n^3 a step; 10^4 is 800 MB",
            ),
        ),  # fmt: skip
        "a size sweep, n = 10^2 .. 10^5: cost per iteration against n",
        starts=1,
        steps=1000,
    )
