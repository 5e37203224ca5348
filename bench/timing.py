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

# Reading perf_counter costs ~0.1 us here (resolution 1 ns): a 0.5 ms sample is
# thousands of times that. Timed 25 times each, interleaved, one-lane programs of
# 90-300 us gave the same medians and spreads with samples of 1 ms and 0.5 ms
# (quadratic gd: IQR 7.2% and 8.8% of the median; the machine's own jitter
# dominates shorter calls) at half the cost; 0.25 ms widened it to 12%.
MIN_SAMPLE_S = 5e-4
SAMPLES = 3


def wall_seconds(call: Callable[[], Any], samples: int = SAMPLES,
                 warm: bool = False) -> float:  # fmt: skip
    """Median over ``samples`` of the mean wall seconds of one ``call`` (results
    blocked on), after one warm-up call; each sample repeats the call until it has
    lasted MIN_SAMPLE_S (counted as it goes: a warm-up call, slower than the rest,
    made samples of a count fixed from it as short as 0.43 ms). ``warm``: the same
    call, or a recording pass of it, was made before in this process: that was the
    warm-up (its first-call costs are paid)."""
    if not warm:
        jax.block_until_ready(call())
    out = []
    for _ in range(samples):
        number, t0 = 0, time.perf_counter()
        # at least one call, whatever the clock says (a test's clock jumps)
        while (elapsed := time.perf_counter() - t0) < MIN_SAMPLE_S or not number:
            jax.block_until_ready(call())
            number += 1
        out.append(elapsed / number)
    return statistics.median(out)
