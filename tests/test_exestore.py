"""Programs stored whole (bench/exestore.py): a second process loads them without
tracing, keys follow what decides a program, and a bad entry is only a miss."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest
from jax._src import compilation_cache

import optimizers
import problems
from bench import cache, driver, exestore

ROOT = Path(__file__).resolve().parents[1]
# Compiles (or loads) rosenbrock x newton and prints its counts, whether jax traced
# anything, and the final f of the run from (-1.2, 1). Newton's eigh is a LAPACK
# call: a loaded program needs jaxlib's kernels set up without any lowering.
_RUN = """
import json, os, numpy as np, jax
import bench, problems, optimizers
from bench import cache, driver, exestore, traces
if os.environ.get("SOURCE"):  # another version of this project's code
    exestore._source_digest = lambda: os.environ["SOURCE"]
assert cache.enable() is None
traced = []
jax.monitoring.register_event_duration_secs_listener(
    lambda e, s, **_: traced.append(e) if e.endswith("jaxpr_trace_duration") else None)
p, o = problems.get("rosenbrock"), optimizers.get("newton")
before = len(traced)
with cache.CompileStats() as stats:
    exe, _ = driver.program(p, o, 200, 1)
traced = traced[before:]  # building the problem traces small eager programs
raw = exe(driver.args(p, np.asarray(p.x0)[None], {}, p.data, 1e-10))
print(json.dumps({**stats.as_dict(), "traced": len(traced),
                  "f": float(traces.settle(raw).f[0, -1])}))
"""


@pytest.fixture(autouse=True)
def _restore_jax_cache():
    before = jax.config.jax_compilation_cache_dir
    yield
    jax.config.update("jax_compilation_cache_dir", before)
    compilation_cache.reset_cache()


def _run(folder: Path, source: str = "") -> dict:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "OPTBENCH_CACHE_DIR": str(folder),
           "SOURCE": source}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", _RUN], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_program_without_tracing(tmp_path):
    first = _run(tmp_path)
    assert first["programs_compiled"] >= 1 and first["traced"] >= 1
    stored = list(tmp_path.glob("exe-*-cache"))
    assert len(stored) == 1
    second = _run(tmp_path)
    assert second["programs_compiled"] == 0 and second["programs_from_cache"] == 1
    assert second["traced"] == 0
    assert second["f"] == first["f"]
    # jax's cache holds no second copy of it
    assert not list(tmp_path.glob("jit_optbench_*"))
    # a damaged entry is a miss, deleted: the next run compiles the program again (jax's
    # cache does not have it either) and stores it; the run after loads it whole
    stored[0].write_bytes(b"not a program")
    third = _run(tmp_path)
    assert third["traced"] >= 1 and third["programs_compiled"] == 1
    assert third["f"] == first["f"] and stored[0].exists()
    fourth = _run(tmp_path)
    assert fourth["traced"] == 0 and fourth["programs_from_cache"] == 1
    assert fourth["f"] == first["f"]
    # every entry has the -atime file jax's own size limit reads
    assert stored[0].with_name(stored[0].name[: -len("cache")] + "atime").is_file()


def test_a_new_version_of_the_code_compiles_once_then_loads_whole(tmp_path):
    """With jax's cache warm from the old version, the new one's program is compiled
    (named after its store key, it is not in jax's cache) and stored."""
    old = _run(tmp_path, "v1")
    new = _run(tmp_path, "v2")
    assert new["programs_compiled"] == 1 and new["traced"] >= 1
    again = _run(tmp_path, "v2")
    assert again["programs_from_cache"] == 1 and again["traced"] == 0
    assert old["f"] == new["f"] == again["f"]
    assert len(list(tmp_path.glob("exe-*-cache"))) == 2
    assert len(list(tmp_path.glob("exe-*-atime"))) == 2


def _key(problem, opt, **kw) -> str | None:
    return exestore.key(driver.program_key(problem, opt, kw.get("steps", 100), 1,
                                           False, False))  # fmt: skip


def test_keys_follow_what_decides_the_program():
    rosen = problems.get("rosenbrock")
    k = _key(rosen, optimizers.get("lbfgs"))
    assert k is not None and k == _key(rosen, optimizers.get("lbfgs"))
    # a structural option held in a closure, the loop length, the problem family
    assert k != _key(rosen, optimizers.get("lbfgs", memory=5))
    assert k != _key(rosen, optimizers.get("lbfgs"), steps=101)
    assert k != _key(problems.get("wood"), optimizers.get("lbfgs"))
    # hyperparameters are run-time data: one program for every lr
    gd = _key(rosen, optimizers.get("gd", lr=1e-3))
    assert gd is not None and gd == _key(rosen, optimizers.get("gd", lr=0.5))


def test_functions_that_are_not_ours_have_no_key():
    import jax.numpy as jnp

    mine = problems.Problem(name="mine", f=lambda x: jnp.sum(x**2), x0=jnp.ones(3))
    assert _key(mine, optimizers.get("gd")) is None
    assert _key(problems.get("rosenbrock"), optimizers.get("optax:adam")) is None


def test_the_store_is_off_without_the_cache(tmp_path):
    cache.disable()
    k = _key(problems.get("rosenbrock"), optimizers.get("gd"))
    exestore.save(k, object())
    assert exestore.load(k) is None and not list(tmp_path.iterdir())
