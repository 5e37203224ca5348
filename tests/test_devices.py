"""Devices: the manifest says which JAX backend and devices ran; --device selects one
and refuses, in one line, a device the machine does not have."""

import subprocess
import sys
from pathlib import Path

import jax
import pytest

from bench import provenance, xla

ROOT = Path(__file__).resolve().parents[1]


def test_the_environment_records_backend_and_devices():
    env = provenance.environment()
    assert env["jax_backend"] == jax.default_backend()
    assert env["jax_devices"] == [str(d) for d in jax.devices()]
    assert env["jax_device_kinds"] and all(env["jax_device_kinds"])
    # the XLA:CPU loop option is ours on CPU only
    on_cpu = jax.default_backend() == "cpu"
    assert env["our_compiler_options"] == (xla.described() if on_cpu else {})


def _has_gpu() -> bool:
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_an_absent_device_is_one_line_and_no_folder(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--problems", "rosenbrock",
         "--optimizers", "gd", "--device", "gpu", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--device gpu" in lines[0] and "cpu" in lines[0]
    assert not out.exists()
