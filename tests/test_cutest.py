"""CUTEst problems through sif2jax: value and gradient at the start equal sif2jax's
own (its objective and jax's gradient of it, evaluated directly)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import problems

# find_spec, not an import: importing sif2jax imports all its problems (minutes)
if importlib.util.find_spec("sif2jax") is None:
    pytest.skip("the optional sif2jax is not installed", allow_module_level=True)
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["ROSENBR", "BARD"])
def test_value_and_gradient_at_start_equal_sif2jax(name):
    from problems import cutest

    p = problems.get(f"cutest:{name}")
    sif = cutest._problem_class(name)()
    y0 = np.asarray(sif.y0)
    np.testing.assert_allclose(p.x0, y0, rtol=0)
    f_ref = float(sif.objective(y0, sif.args))
    g_ref = np.asarray(jax.grad(lambda y: sif.objective(y, sif.args))(y0))
    np.testing.assert_allclose(float(p.f(p.x0)), f_ref, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(p.grad(p.x0)), g_ref, rtol=1e-14)
    assert p.f_star == pytest.approx(float(sif.expected_objective_value), rel=1e-12)
    assert p.dim == sif.num_variables()


def test_unknown_cutest_name_is_one_line_exit_2(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--problems", "cutest:NOSUCH",
         "--optimizers", "bfgs", "--out", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "NOSUCH" in r.stderr
    assert "list --cutest" in r.stderr and not (tmp_path / "o").exists()


def test_a_max_dim_below_every_problem_says_so():
    from bench import suites

    assert len(suites.get("cutest", max_dim=2).groups[0].problems) > 0
    with pytest.raises(ValueError, match=r"no CUTEst problem has n <= 0 \(--max-dim"):
        suites.get("cutest", max_dim=0)


def test_without_sif2jax_the_message_says_how_to_install(monkeypatch):
    from problems import cutest

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install -e '\.\[cutest\]'"):
        cutest._root()
