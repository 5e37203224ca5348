"""``traces.settle`` against a per-run loop written from the Trace's contract: rows
after a run's last one repeat it at rest (step_size 0), ``done`` from the last row on
unless the run used up its steps, ``diverged`` from the last row on if it diverged."""

import numpy as np
import pytest

from bench import thinning, traces
from bench.status import Status
from optimizers.base import COUNTERS


def _raw(rng, ks, statuses, rows):
    """A program's output for runs that took ``ks`` iterations, with each row's
    iterate (2-D) and some non-finite step sizes; the buffers' rows after each run's
    last one (and the scratch row) hold garbage, as in a program."""
    lanes = len(ks)
    values = rng.normal(size=(lanes, rows + 1, 5))
    values[:, ::3, 2] = np.nan
    values[:, 1::4, 2] = np.inf
    counts = rng.integers(0, 99, (lanes, rows + 1, len(COUNTERS))).astype(np.int32)
    marks = rng.integers(-1, 9, (lanes, 1 + len(COUNTERS))).astype(np.int32)
    ends = np.concatenate([np.c_[statuses, ks], marks], axis=1).astype(np.int32)
    return traces.Raw(values, counts, rng.normal(size=(lanes, 2)), ends)


def _reference(raw, kept):
    """The Trace's arrays, run by run and row by row."""
    lanes, rows = raw.values.shape[0], raw.values.shape[1] - 1
    f, alpha, path = (np.zeros((lanes, rows)), np.zeros((lanes, rows)),
                      np.zeros((lanes, rows, 2)))  # fmt: skip
    nfev, done = np.zeros((lanes, rows), int), np.zeros((lanes, rows), bool)
    diverged, step = np.zeros((lanes, rows), bool), np.zeros((lanes, rows), int)
    for i, (status, k) in enumerate(raw.ends[:, :2]):
        last = int(np.searchsorted(kept, k))
        for j in range(rows):
            src = min(j, last)
            f[i, j], path[i, j] = raw.values[i, src, 0], raw.values[i, src, 3:]
            alpha[i, j] = raw.values[i, src, 2] if j <= last else 0.0
            nfev[i, j] = raw.counts[i, src, COUNTERS.index("nfev")]
            step[i, j] = min(kept[j], k)
            at_rest = j >= last
            done[i, j] = at_rest and status != Status.MAX_STEPS
            diverged[i, j] = at_rest and status == Status.DIVERGED
    return f, alpha, path, nfev, done, diverged, step


@pytest.mark.parametrize("trace", ["full", "every:3", "every:5", "log:4"])
@pytest.mark.parametrize("early", [True, False])
def test_settle_matches_a_loop_over_runs(trace, early):
    num_steps = 12
    kept = thinning.kept_steps(trace, num_steps)
    rng = np.random.default_rng(0)
    if early:  # converged, diverged, stalled early; one ran out of steps
        ks = [3, 5, 0, num_steps]
        statuses = [Status.CONVERGED, Status.DIVERGED, Status.STALLED,
                    Status.MAX_STEPS]  # fmt: skip
    else:  # every run's last row is the buffer's last (with every:5, a run that
        # stopped after step 10 too: its last step shares the row of step 12)
        ks = [num_steps, num_steps - 1]
        statuses = [Status.MAX_STEPS, Status.CONVERGED]
    raw = _raw(rng, ks, statuses, len(kept))
    writable = [a.flags.writeable for a in raw]
    tr = traces.settle(raw, num_steps, trace)
    f, alpha, path, nfev, done, diverged, step = _reference(raw, kept)
    np.testing.assert_array_equal(tr.f, f)
    np.testing.assert_array_equal(tr.path, path)
    np.testing.assert_array_equal(tr.step_size, alpha)  # NaN where NaN, inf where inf
    np.testing.assert_array_equal(tr.nfev, nfev)
    np.testing.assert_array_equal(tr.done, done)
    np.testing.assert_array_equal(tr.diverged, diverged)
    np.testing.assert_array_equal(tr.step, step)
    np.testing.assert_array_equal(tr.status, statuses)
    np.testing.assert_array_equal(tr.x, raw.x)
    np.testing.assert_array_equal(tr.at_tol, raw.ends[:, 2:])
    assert all(not a.flags.writeable for a in tr if a is not None)
    assert [a.flags.writeable for a in raw] == writable  # the caller's own arrays
