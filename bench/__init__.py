"""optbench harness: bench.solve, bench.solve_batch, bench.run (a whole benchmark),
bench.load (a stored one) and the `python -m bench` CLI.

Importing ``bench`` turns on float64 in JAX (the suite's numbers are float64 unless the
CLI is asked for ``--precision float32``); do it before creating arrays of your own.
JAX itself is imported only when something needs it, so that ``python -m bench
--help`` and ``python -m bench report`` do not pay for it.
"""

import importlib
import os
import sys

if "jax" in sys.modules:
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:  # read by jax when it is first imported
    os.environ["JAX_ENABLE_X64"] = "1"

__all__ = ["Results", "Trace", "load", "run", "solve", "solve_batch"]
_API = ("Results", "load", "run")  # bench/api.py


def __getattr__(name: str):
    if name in __all__:
        module = ("bench.api" if name in _API else "bench.driver" if name == "Trace"
                  else "bench.solving")  # fmt: skip
        return getattr(importlib.import_module(module), name)
    if name in ("status", "driver", "runner", "timing", "xla", "cache", "results"):
        return importlib.import_module(f"bench.{name}")
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
