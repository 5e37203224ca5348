"""The report's studies on a small run made through the CLI: the kappa sweep's slopes
against theory (and its files), ..."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
KAPPAS = "[10,100,1000]"


def _bench(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    env["OPTBENCH_CACHE_DIR"] = str(cwd / "cache")  # the user's cache left alone
    r = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def kappa_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Theory-tuned gd, heavy ball and Nesterov, and Newton, on 3 quadratics: one
    program per optimizer."""
    cwd = tmp_path_factory.mktemp("kappa")
    _bench(
        "run", "--problems", f"quadratic[dim=10,kappa={KAPPAS}]",
        "--optimizers", "gd[lr=theory]", "momentum[beta=theory,lr=theory]",
        "nesterov[beta=theory,lr=theory]", "newton",
        "--starts", "2", "--steps", "20000", "--out", "run", cwd=cwd,
    )  # fmt: skip
    return cwd / "run"


def test_kappa_slopes_match_theory(kappa_run: Path) -> None:
    report = kappa_run / "report"
    stem = "kappa_quadratic-dim-10-seed-0-spectrum-linear"
    assert len(list(report.glob(f"[0-9][0-9]_{stem}.png"))) == 1
    slopes = pd.read_csv(report / "tables" / f"{stem}.csv").set_index("config")
    assert (report / "tables" / f"{stem}.tex").is_file()
    fitted = slopes["fitted slope"]
    assert fitted["gd[armijo=False,lr=theory]"] == pytest.approx(1.0, abs=0.1)
    assert fitted["momentum[beta=theory,lr=theory]"] == pytest.approx(0.5, abs=0.1)
    assert fitted["nesterov[beta=theory,lr=theory]"] == pytest.approx(0.5, abs=0.1)
    assert fitted["newton"] == pytest.approx(0.0, abs=1e-12)  # one step at any kappa
    # the slope is the least-squares fit of the stored runs' medians
    import numpy as np

    runs = pd.read_parquet(kappa_run / "runs.parquet")
    gd = runs[runs.optimizer == "gd"]
    kappa = gd.problem.str.extract(r"kappa=([0-9.e+]+)")[0].astype(float)
    med = gd.groupby(kappa.to_numpy())["steps_to_tol"].median()
    expect = np.polyfit(np.log(med.index), np.log(med.to_numpy()), 1)[0]
    assert fitted["gd[armijo=False,lr=theory]"] == pytest.approx(expect, rel=1e-9)
    # the resolved lr is in its column: 2 / (kappa + 1) with mu = 1
    np.testing.assert_allclose(gd["lr"], 2 / (kappa + 1), rtol=1e-12)


def test_kappa_suite_is_theory_tuned_and_one_program_per_optimizer() -> None:
    from bench import suites
    from bench.cells import prepare
    from bench.families import families

    cells = prepare(suites.get("kappa").cells())
    assert len(cells) == 20 and len({c.config for c in cells}) == 5
    kappas = sorted({c.problem.params["kappa"] for c in cells})
    assert kappas == [10.0, 100.0, 1000.0, 10000.0]
    assert len(families(cells)) == 5
    for c in cells:
        if c.optimizer == "nesterov":
            assert c.params["lr"] == pytest.approx(1 / c.problem.params["kappa"])
