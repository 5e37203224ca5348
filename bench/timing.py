"""Wall-clock timing of compiled calls, the one helper for our runs and the peers'.

A time is what a user calling the program waits for: dispatch, the run and the copy
of its results included. A call of a few microseconds is near the clock's resolution
and the machine's jitter, so one sample repeats the call until the sample lasts
``MIN_SAMPLE_S``, and the median of a few samples is reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax

MIN_SAMPLE_S = 1e-3  # ~10^4 times perf_counter's resolution
SAMPLES = 3


def wall_seconds(call: Callable[[], Any], samples: int = SAMPLES,
                 once: float | None = None) -> float:  # fmt: skip
    """Median over ``samples`` of the mean wall seconds of one ``call`` (results
    blocked on), after one warm-up call; each sample lasts at least MIN_SAMPLE_S.
    ``once``: about the seconds of one call, when a call just made on the same
    functions (the same call, or a recording pass of it) was the warm-up."""
    if once is None:
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        once = time.perf_counter() - t0
    number = max(1, min(10_000, int(MIN_SAMPLE_S / max(once, 1e-7)) + 1))
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(number):
            jax.block_until_ready(call())
        out.append((time.perf_counter() - t0) / number)
    return statistics.median(out)
