"""Timing, ratios, program bookkeeping and printing shared by the speed measurements.

Calls compared with each other are timed in interleaved rounds (the order rotates each
round, so load that drifts from other processes hits all of them alike); a sample
repeats a call until it has run ``min_sample_s``, each call blocked on, dispatch
included; the median over rounds is reported beside the minimum.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from bench import driver, xla

Log = Callable[[str], None]


def _sample(call: Callable[[], Any], number: int) -> float:
    """Seconds per call, over ``number`` back-to-back calls, each blocked on."""
    t0 = time.perf_counter()
    for _ in range(number):
        jax.block_until_ready(call())
    return (time.perf_counter() - t0) / number


def side_by_side(
    calls: dict[str, Callable[[], Any]], repeats: int, min_sample_s: float
) -> dict[str, dict[str, Any]]:
    """Time ``calls`` in ``repeats`` interleaved rounds; per call: the seconds per
    call in each round, their median and minimum, and the calls per sample."""
    number = {}
    for name, call in calls.items():
        jax.block_until_ready(call())  # warm-up (compiled already; caches, allocator)
        t = _sample(call, 1)
        number[name] = int(min(10_000, max(1, min_sample_s / max(t, 1e-7))))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(_sample(calls[name], number[name]))
    return {
        name: {
            "median_s": statistics.median(s),
            "min_s": min(s),
            "calls_per_sample": number[name],
            "samples_s": s,
        }
        for name, s in samples.items()
    }


def scaled(t: dict[str, Any], factor: float) -> dict[str, Any]:
    """A timing entry with every time multiplied by ``factor``."""
    return {
        "median_s": t["median_s"] * factor,
        "min_s": t["min_s"] * factor,
        "calls_per_sample": t["calls_per_sample"],
        "samples_s": [v * factor for v in t["samples_s"]],
    }


def ratio(t: dict[str, dict[str, Any]], num: str, den: str) -> dict[str, Any]:
    """``num`` time / ``den`` time: the median over rounds of the ratio within a round
    (the two were timed moments apart, so load that drifts between rounds cancels),
    the ratio of the minima, and both median times."""
    pairs = zip(t[num]["samples_s"], t[den]["samples_s"], strict=True)
    return {
        "num": num,
        "den": den,
        "median": statistics.median(a / b for a, b in pairs),
        "of_minima": t[num]["min_s"] / t[den]["min_s"],
        "num_s": t[num]["median_s"],
        "den_s": t[den]["median_s"],
    }


def ratios(t: dict[str, dict[str, Any]], pairs: list[tuple[str, str]]) -> dict:
    return {f"{a}/{b}": ratio(t, a, b) for a, b in pairs}


# ------------------------------------------------------------------------ programs


def fresh_program(
    problem,
    opt,
    num_steps: int,
    lanes: int,
    record_path: bool = False,
    data_batched: bool = False,
) -> dict[str, Any]:
    """The driver's program for these arguments, compiled now: an entry already in
    the driver's in-process cache is dropped first, so that the compile seconds and
    the count of programs compiled are measured, not remembered. Returns the
    executable, its compile seconds, the driver's count of programs compiled for it
    (1) and whether its loop is on XLA:CPU's fast path."""
    key = driver.program_key(problem, opt, num_steps, lanes, record_path, data_batched)
    with driver._COMPILED_LOCK:
        driver._COMPILED.pop(key, None)
    before = driver.STATS["programs"]
    exe, seconds = driver.program(
        problem, opt, num_steps, lanes, record_path, data_batched
    )
    return {
        "exe": exe,
        "compile_s": seconds,
        "compiled": driver.STATS["programs"] - before,
        "fast_path": xla.on_fast_path(exe),
    }


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


# ------------------------------------------------------------------------- output


def fmt_s(seconds: float) -> str:
    if not np.isfinite(seconds):
        return str(seconds)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def log_ratios(log: Log, rs: dict[str, dict[str, Any]], note: str = "") -> None:
    """Ratios first, the two median times beside them."""
    for name, r in rs.items():
        log(
            f"   {name:<40s} {r['median']:7.2f}x  (of minima {r['of_minima']:5.2f}x)"
            f"   {fmt_s(r['num_s'])} / {fmt_s(r['den_s'])}{note}"
        )


def log_times(
    log: Log,
    t: dict[str, dict[str, Any]],
    fast: dict[str, bool],
    per: int | None = None,
    per_label: str = "",
) -> None:
    for name, v in t.items():
        extra = f"  ({fmt_s(v['median_s'] / per)}/{per_label})" if per else ""
        fp = f"  XLA fast path: {'yes' if fast[name] else 'NO'}" if name in fast else ""
        log(
            f"     {name:<30s} median {fmt_s(v['median_s']):>9s}  min "
            f"{fmt_s(v['min_s']):>9s}{extra}{fp}"
        )
