"""--executor dask on a real cluster on loopback (a scheduler and two worker
processes, 127.0.0.1 only): the smoke suite equals a local run, a worker killed
mid-run costs nothing, a plugin a worker cannot import fails its cells only, and an
unreachable scheduler is one line."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from bench import cache, cluster, runner, suites  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = runner.Settings(starts=2, num_steps=200, gtol=1e-10, tol=1e-8, seed=0)
KEYS = ["problem", "config", "start"]
EXACT_RUNS = ["status", "n_steps", "nfev", "njev", "nhev", "final_f", "final_gap",
              "final_grad_norm", "steps_to_tol", "solved"]  # fmt: skip
EXACT_TRACES = ["step", "f", "grad_norm", "step_size", "nfev", "njev", "nhev"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One compilation cache for the local run and the workers (a shared folder):
    the workers load what the local run compiled, as workers on one filesystem do."""
    path = tmp_path_factory.mktemp("cache")
    cache.enable(path)
    yield str(path)
    cache.disable()


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as lc:  # fmt: skip
        yield lc.scheduler_address


def _run(out: Path, cells, executor=None):
    runner.run(cells, SETTINGS, out, "smoke", [], progress=False, executor=executor)
    meta = json.loads((out / "manifest.json").read_text())
    return (pd.read_parquet(out / "runs.parquet").sort_values(KEYS),
            pd.read_parquet(out / "traces.parquet").sort_values(KEYS + ["step"]),
            meta)  # fmt: skip


@pytest.fixture(scope="module")
def local(tmp_path_factory, cache_dir):
    cells = runner.prepare(suites.get("smoke").cells())
    return cells, _run(tmp_path_factory.mktemp("local"), cells)


def _same(a, b, runs_cols=EXACT_RUNS):
    (ra, ta), (rb, tb) = a, b
    assert len(ra) == len(rb) and len(ta) == len(tb)
    for col in runs_cols:
        np.testing.assert_array_equal(ra[col], rb[col], err_msg=col)
    for col in EXACT_TRACES:
        np.testing.assert_array_equal(ta[col], tb[col], err_msg=col)


def test_the_smoke_suite_on_a_cluster_equals_a_local_run(tmp_path, scheduler, local,
                                                         cache_dir):  # fmt: skip
    cells, (runs, traces, _) = local
    ex = cluster.DaskExecutor(scheduler, cache_dir=cache_dir)
    try:
        r, t, meta = _run(tmp_path, cells, ex)
    finally:
        ex.close()
    _same((runs, traces), (r, t))
    assert meta["executor"] == {"kind": "dask", "scheduler": scheduler}
    assert all(c["status"] == "done" for c in meta["cells"])
    assert len(meta["cells"]) == len(cells)
    workers = meta["workers"]
    assert {c["worker"] for c in meta["cells"]} <= set(workers)
    for env in workers.values():
        assert env["versions"]["jax"] and env["cpu_count"] and env["jax_backend"]


def test_a_worker_killed_mid_run_loses_nothing(tmp_path, scheduler, local, cache_dir):
    cells, (runs, traces, _) = local
    quadratic = [c for c in cells if c.problem.name == "quadratic"]
    ex = cluster.DaskExecutor(scheduler, cache_dir=cache_dir)
    done = {}
    th = threading.Thread(target=lambda: done.update(out=_run(tmp_path, quadratic, ex)))
    th.start()
    killed = None
    try:
        deadline = time.monotonic() + 60
        while killed is None and th.is_alive() and time.monotonic() < deadline:
            busy = [a for a, keys in ex.client.processing().items() if keys]
            if busy:  # a family is running on this worker: kill its process
                pid = ex.client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed = busy[0]
            time.sleep(0.02)
        th.join(120)
    finally:
        ex.close()
    assert killed is not None, "no family was seen running"
    r, t, meta = done["out"]
    assert all(c["status"] == "done" for c in meta["cells"]) and len(r) == 2 * 4
    sub = runs[runs.problem.isin(r.problem)]
    _same((sub, traces[traces.problem.isin(r.problem)]), (r, t))


def test_a_plugin_a_worker_cannot_import_fails_its_cells(tmp_path, scheduler, local):
    cells, _ = local
    plugin = tmp_path / "needs_gpu_lib.py"
    plugin.write_text("import a_library_no_worker_has  # noqa\n")
    ex = cluster.DaskExecutor(scheduler, plugins=[str(plugin)])
    try:
        runner.run(cells[:2], SETTINGS, tmp_path / "run", "t", [], progress=False,
                   executor=ex)  # fmt: skip
    finally:
        ex.close()
    meta = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert meta["status"] == "failed" and len(meta["cells"]) == 2
    for c in meta["cells"]:
        assert c["status"] == "failed"
        assert "needs_gpu_lib.py" in c["error"] and "a_library_no_worker_has" in c[
            "error"]  # fmt: skip


def test_an_unreachable_scheduler_is_one_line_and_no_folder(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "run"
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--suite", "smoke", "--executor", "dask",
         "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - t0
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], lines
    assert not out.exists()
    print(f"unreachable scheduler reported after {elapsed:.1f} s")
