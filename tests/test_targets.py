"""targets.parquet from the driver's in-loop records: with thinned traces it equals
the table read from the full traces of the same run (bench.targets.targets, an
independent path); where f* is unknown it is read from the traces."""

import pandas as pd
import pytest

from bench import runner
from bench.runner import CellSpec, Settings
from bench.targets import KEYS, TARGETS, targets

SPECS = [
    CellSpec("rosenbrock", {}, "bfgs", {}),  # line search: rows at their own ticks
    CellSpec("quadratic", {"dim": 4, "kappa": 10.0}, "gd", {"lr": 0.15}),  # all lanes
    CellSpec("rosenbrock", {}, "scipy:BFGS", {}),  # a peer: its full records
]
ORDER = [*KEYS, "target"]


def _run(tmp_path_factory, specs, trace: str):
    d = tmp_path_factory.mktemp(trace.replace(":", "_"))
    s = Settings(starts=2, num_steps=60, gtol=1e-8, tol=1e-8, seed=2, trace=trace)
    runner.run(runner.prepare(specs), s, d, "t", [], progress=False, timed=False)
    return d


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(ORDER).reset_index(drop=True)


@pytest.fixture(scope="module")
def full_reference(tmp_path_factory):
    d = _run(tmp_path_factory, SPECS, "full")
    ref = targets(pd.read_parquet(d / "runs.parquet"),
                  pd.read_parquet(d / "traces.parquet"))  # fmt: skip
    return d, _sorted(ref)


@pytest.mark.parametrize("trace", ["every:7", "log:5"])
def test_thinned_targets_equal_the_full_traces(tmp_path_factory, full_reference,
                                               trace):  # fmt: skip
    full_dir, ref = full_reference
    assert len(ref) == 6 * len(TARGETS) and ref.step.notna().sum() > 20
    thin_dir = _run(tmp_path_factory, SPECS, trace)
    mine = _sorted(pd.read_parquet(thin_dir / "targets.parquet"))
    pd.testing.assert_frame_equal(mine, ref, check_exact=True)
    # the case this is about: the thinned traces alone would get some of them wrong
    runs, traces = (pd.read_parquet(thin_dir / f) for f in ("runs.parquet",
                                                            "traces.parquet"))
    from_rows = _sorted(targets(runs, traces))
    assert not from_rows.step.fillna(-1).equals(ref.step.fillna(-1))
    # and the full run's own table is the same
    full = _sorted(pd.read_parquet(full_dir / "targets.parquet"))
    pd.testing.assert_frame_equal(full, ref, check_exact=True)


def test_unknown_f_star_targets_come_from_the_traces(tmp_path_factory):
    d = _run(tmp_path_factory, [CellSpec("mlp", {}, "adam", {"lr": 1e-2})], "full")
    runs = pd.read_parquet(d / "runs.parquet")
    assert not runs.f_star_known.any()  # best-found, set at consolidation
    mine = _sorted(pd.read_parquet(d / "targets.parquet"))
    want = _sorted(targets(runs, pd.read_parquet(d / "traces.parquet")))
    pd.testing.assert_frame_equal(mine, want, check_exact=True)
    assert mine.step.notna().any()  # the best f itself reaches every target
