"""The regression suite: each family of regression.toml timed with pytest-benchmark.

A benchmark times the family's compiled batched call (every cell and start of the
family in one program) and stores the family's runs (exact oracle counts, steps,
counts to tolerance, final gap, solved, a digest of the inputs) in ``extra_info``, for
``python -m bench compare``. With pyproject's ``--benchmark-disable`` each call
runs once, as a test; ``make test`` and ``make baseline`` enable the timing.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from regression_suite import load_suite

from bench import traces
from bench.families import families

ROUNDS = 7  # timing repeats per benchmark: enough for a rank test (p >= 6e-4)
MIN_ROUND_S = 2e-3  # a round repeats the call until it lasts this long
RUN_FIELDS = [
    "problem",
    "config",
    "start",
    "status",
    "solved",
    "final_gap",
    "f_star",
    "tol",
    "n_steps",
    "nfev",
    "njev",
    "nhev",
    "steps_to_tol",
    "nfev_to_tol",
    "njev_to_tol",
    "inputs",
]


def _family_ids() -> list[str]:
    settings, cells = load_suite()
    more = [f" (+{len(f) - 1} cells)" if len(f) > 1 else "" for f in families(cells)]
    return [
        f"{f[0].problem.label} x {f[0].config}{m}"
        for f, m in zip(families(cells), more, strict=True)
    ]


FAMILY_IDS = _family_ids()


@pytest.mark.parametrize("index", range(len(FAMILY_IDS)), ids=FAMILY_IDS)
def test_family(benchmark, regression, index):
    fam = regression.families[index]
    program, _ = fam.batch_program()
    args = fam.batch_args()
    t0 = time.perf_counter()
    traces.settle(program(args))
    once = time.perf_counter() - t0
    raw = benchmark.pedantic(
        program,
        args=(args,),
        rounds=ROUNDS,
        warmup_rounds=1,
        iterations=max(1, math.ceil(MIN_ROUND_S / once)),
    )
    trace = traces.settle(raw)

    # the stored runs are this program's lanes (cell-major), and the timed call
    # reproduces their counts exactly: a count that moves between calls is a bug
    order = [
        (c.problem.label, c.config, j) for c in fam.cells for j in range(fam.s.starts)
    ]
    runs = regression.runs.set_index(["problem", "config", "start"]).loc[order]
    runs = runs.reset_index()
    for col in ("nfev", "njev", "nhev"):
        np.testing.assert_array_equal(getattr(trace, col)[:, -1], runs[col])
    np.testing.assert_array_equal(trace.n_steps, runs["n_steps"])

    benchmark.extra_info.update(
        label=FAMILY_IDS[index],
        fingerprint=regression.fingerprint,
        # to_json: plain JSON types, NaN (never reached the tolerance) as null
        runs=json.loads(runs[RUN_FIELDS].to_json(orient="records")),
    )


def test_calibration(benchmark, regression):
    """A fixed workload independent of this project's code, timed beside the suite:
    compare prints its new/base ratio as the machine's speed."""
    data = np.random.default_rng(0).standard_normal(200_000)
    out = benchmark.pedantic(np.sort, args=(data,), rounds=ROUNDS, warmup_rounds=1)
    assert np.all(np.diff(out) >= 0)
    benchmark.extra_info.update(calibration=True, fingerprint=regression.fingerprint)
