"""bench.timing: how many calls a time is made of, and what it measures."""

import time

import numpy as np
import pytest

from bench import ledger, timing


def _counted(seconds: float = 0.0):
    calls = []

    def call():
        calls.append(1)
        if seconds:
            time.sleep(seconds)
        return np.zeros(1)

    return call, calls


def test_a_slow_call_is_warmed_up_once_then_sampled_once_per_sample():
    call, calls = _counted(2 * timing.MIN_SAMPLE_S)
    seconds = timing.wall_seconds(call)
    assert len(calls) == 1 + timing.SAMPLES
    assert seconds >= 2 * timing.MIN_SAMPLE_S  # sleep sleeps at least that long


def test_the_call_just_made_is_the_warm_up():
    call, calls = _counted(2 * timing.MIN_SAMPLE_S)
    timing.wall_seconds(call, warm=True)
    assert len(calls) == timing.SAMPLES


def test_a_fast_call_is_repeated_until_a_sample_lasts_min_sample_s(monkeypatch):
    """Counted as it goes: a slow first call (compiling, cold caches) must not
    shorten the samples after it."""
    now, dt = [0.0], timing.MIN_SAMPLE_S / 50
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    calls = []

    def call():  # the warm-up lasts 10 calls, then each call lasts dt
        now[0] += 10 * dt if not calls else dt
        calls.append(1)
        return np.zeros(1)

    assert timing.wall_seconds(call) == pytest.approx(dt)
    assert len(calls) == 1 + timing.SAMPLES * 50  # 50 calls of dt make a sample


def test_a_deadline_does_not_count_the_time_it_waits(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    deadline = ledger.Deadline(10.0, 2)  # 20 s for a family of two cells
    now[0] = 15.0
    deadline.pause()
    now[0] = 100.0  # waited 85 s for the other families' traces
    deadline.resume()
    deadline.check()  # 15 s spent
    now[0] = 106.0
    with pytest.raises(ledger.CellTimeout, match="21 s on its family of 2 cells"):
        deadline.check()
