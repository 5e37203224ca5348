import jax

# Numbers are the product: every test runs in float64 with strict rank promotion.
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_addoption(parser):
    # here, not in tests/benchmarks/conftest.py: pytest reads options only from the
    # conftest files it loads at startup (give a path: `pytest tests --regression-out`)
    parser.addoption(
        "--regression-out",
        metavar="DIR",
        help="keep the regression suite's run folder (tests/benchmarks/) in DIR",
    )
