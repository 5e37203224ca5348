"""The regression suite's run (regression.toml), made once per session.

``runner.run`` writes it as a run folder (counts and traces; times come from
pytest-benchmark, not from the runner) in a temporary folder, or in the folder
given with ``--regression-out``; the tests then time each family's compiled call
and store the folder's deterministic metrics in the benchmark's ``extra_info``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from regression_suite import Regression, load_suite, run_suite

from bench import cache, fingerprint, results
from bench.families import Family, families


@pytest.fixture(scope="session")
def regression(request, tmp_path_factory) -> Regression:
    out = request.config.getoption("--regression-out")
    folder = Path(out) if out else tmp_path_factory.mktemp("regression")
    settings, cells = load_suite()
    # the persistent compilation cache, for this run only: a second run of the suite
    # (make test after make baseline) loads its programs instead of compiling them
    warning = cache.enable()
    try:
        runs = run_suite(cells, settings, folder)
    finally:
        if warning is None:
            cache.disable()
    _, _, manifest = results.read_run(folder, trace_columns=[])
    fams = [Family(f, settings, timed=False) for f in families(cells)]
    return Regression(folder, settings, fams, runs, fingerprint.of_manifest(manifest))
