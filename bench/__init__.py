"""optbench harness: bench.solve, bench.solve_batch and the `python -m bench` CLI.

Importing ``bench`` turns on float64 in JAX (the suite's numbers are float64 unless the
CLI is asked for ``--precision float32``); do it before creating arrays of your own.
"""

import jax

jax.config.update("jax_enable_x64", True)

from bench.driver import Trace, solve, solve_batch  # noqa: E402

__all__ = ["Trace", "solve", "solve_batch"]
