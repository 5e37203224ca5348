"""Nothing lost, nothing let in: run folders claimed by one run, parts that survive a
SIGKILL, resume equal to an uninterrupted run, signals, limits, hostile folders."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import bench
import optimizers
import problems
from bench import limits, results, rundir, runner
from bench.runner import CellSpec, Settings
from bench.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.setdefault("OPTBENCH_CACHE_DIR", str(_CACHE))
    return env


_CACHE = Path(__import__("tempfile").mkdtemp(prefix="optbench-test-cache-"))

# four families (one program each), small enough to compile in a few seconds
SETTINGS = Settings(starts=2, num_steps=40, gtol=1e-10, tol=1e-8, seed=1)
OPTIMIZERS = ["bfgs", "newton", "gd[lr=1e-3]", "adam[lr=1e-2]"]
SPECS = [CellSpec("rosenbrock", {}, o.split("[")[0],
                  {"lr": float(o.split("=")[1][:-1])} if "[" in o else {})
         for o in OPTIMIZERS]  # fmt: skip
ARGS = ["--problems", "rosenbrock", "--optimizers", *OPTIMIZERS, "--starts", "2",
        "--steps", "40", "--seed", "1", "--no-report"]  # fmt: skip
# the signal tests: more families than runner.TIMED_TOGETHER, written as one part per
# batch, so that the first part is written while later families still compile
MANY = ["rosenbrock", "beale", "wood"]
SPECS_MANY = [s._replace(problem=p) for p in MANY for s in SPECS]
ARGS_MANY = ["--problems", *MANY, *ARGS[2:]]
EXACT_RUNS = ["problem", "config", "start", "status", "n_steps", "nfev", "njev",
              "nhev", "final_f", "final_gap", "solved", "f_star"]  # fmt: skip
EXACT_TRACES = ["problem", "config", "start", "step", "f", "nfev", "njev", "nhev"]


def popen(*args: str, cwd: Path, **kw: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *args], cwd=cwd, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw,
    )  # fmt: skip


def wait_for_parts(out: Path, proc: subprocess.Popen, n: int = 1) -> None:
    """Until ``n`` families have committed their parts (or the run ended)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if len(rundir.committed_parts(out)) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"no part appeared before the run ended: {proc.poll()}")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: the same cells run in one go, in this process."""
    out = tmp_path_factory.mktemp("whole")
    runner.run(runner.prepare(SPECS), SETTINGS, out, "t", [], progress=False)
    runs, traces, _ = results.read_run(out)
    return out, runs, traces


@pytest.fixture(scope="module")
def uninterrupted_many(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole_many")
    runner.run(runner.prepare(SPECS_MANY), SETTINGS, out, "t", [], progress=False)
    return results.read_run(out)[:2]


def _same_tables(a_runs, a_traces, b_runs, b_traces) -> None:
    key = ["problem", "config", "start"]
    a = a_runs[EXACT_RUNS].sort_values(key).reset_index(drop=True)
    b = b_runs[EXACT_RUNS].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    key = key + ["step"]
    a = a_traces[EXACT_TRACES].sort_values(key).reset_index(drop=True)
    b = b_traces[EXACT_TRACES].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _all_files_valid(out: Path) -> None:
    """After a kill: every file whole (the manifest parses, every table reads)."""
    for p in out.rglob("*"):
        if p.name.endswith(".parquet"):
            pq.read_table(p)
        elif p.name == "manifest.json":
            assert isinstance(json.loads(p.read_text()), dict)


def test_sigkill_leaves_valid_parts_and_resume_equals_an_uninterrupted_run(
    tmp_path, uninterrupted_many, capsys
):
    ref_runs, ref_traces = uninterrupted_many
    out = tmp_path / "killed"
    proc = popen("run", *ARGS_MANY, "--no-cache", "--out", str(out), cwd=tmp_path)
    try:
        wait_for_parts(out, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _all_files_valid(out)
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "running"  # the kill left it so; the parts are the truth
    runs, traces, _ = results.read_run(out)  # reads the parts: no runs.parquet yet
    done = set(zip(runs.problem, runs.config, strict=True))
    assert 1 <= len(done) < len(SPECS_MANY)
    # the dead holder's lock is gone; resumed here, where the fixture compiled the
    # same programs (a second process would compile them again)
    from bench.cli import main

    assert main(["run", "--resume", str(out), "--no-report"]) == 0
    missing = len(SPECS_MANY) - len(done)
    assert f"resuming: {missing} cell" in capsys.readouterr().out  # or cells
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "complete" and len(meta["sessions"]) == 2
    assert not (out / "parts").exists()
    runs, traces, _ = results.read_run(out)
    _same_tables(runs, traces, ref_runs, ref_traces)


def test_parts_kept_in_memory_consolidate_as_parts_read_back(
    tmp_path, uninterrupted, monkeypatch
):
    """A run consolidates the parts it wrote from the frames it kept: the tables (and
    their dtypes) are those that reading the part files back gives."""
    ref, _, _ = uninterrupted
    consolidate = results.consolidate
    monkeypatch.setattr(results, "consolidate",
                        lambda out, run_id, problems, written: consolidate(
                            out, run_id, problems))  # fmt: skip
    out = tmp_path / "read_back"
    runner.run(runner.prepare(SPECS), SETTINGS, out, "t", [], progress=False)
    timed = {"compile_s", "compile_cached", "run_s", "time_to_tol_s",
             "run_s_batched", "time_s"}  # fmt: skip
    for name in ("runs", "traces", "targets"):
        a = pd.read_parquet(ref / f"{name}.parquet")
        b = pd.read_parquet(out / f"{name}.parquet")
        keep = [c for c in a if c not in timed]
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)
        assert list(a.columns) == list(b.columns)


def test_the_first_read_of_a_just_consolidated_table_takes_the_kept_frame(
    tmp_path, monkeypatch
):
    """The run command's report reads the tables its run just wrote: it gets the
    frames kept when they were written, equal to the files read back, and only while
    the file is the one written; each frame is given once."""
    out = tmp_path / "kept"
    runner.run(runner.prepare(SPECS), SETTINGS, out, "t", [], progress=False)
    assert set(results._KEPT) == {(out / f"{n}.parquet").absolute()
                                  for n in ("runs", "traces", "targets", "landscapes")}
    on_disk = {n: pd.read_parquet(out / f"{n}.parquet") for n in ("runs", "traces")}
    pq.write_table(pq.read_table(out / "targets.parquet"), out / "targets.parquet")
    read = []
    schema_read = results.schema.read_table
    monkeypatch.setattr(results.schema, "read_table", lambda path, *a: (
        read.append(path.name) or schema_read(path, *a)))  # fmt: skip
    runs, traces, _ = results.read_run(out)
    results.read_targets(out, runs, traces)
    results.read_landscapes(out)
    assert read == ["targets.parquet"]  # rewritten since: read
    assert not results._KEPT
    results.read_run(out)
    assert read[1:] == ["runs.parquet", "traces.parquet"]  # given once
    pd.testing.assert_frame_equal(runs, on_disk["runs"], check_exact=True)
    pd.testing.assert_frame_equal(traces, on_disk["traces"], check_exact=True)


def test_sigterm_keeps_finished_cells_and_prints_the_resume_command(tmp_path):
    out = tmp_path / "termed"
    proc = popen("run", *ARGS_MANY, "--no-cache", "--out", str(out), cwd=tmp_path)
    try:
        wait_for_parts(out, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.endswith(f"resume with: python -m bench run --resume {out}"), last
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "interrupted"
    runs = pd.read_parquet(out / "runs.parquet")  # consolidated on the way out
    assert not (out / "parts").exists()
    assert {c["config"] for c in meta["cells"] if c["status"] == "done"} == set(
        runs.config
    )


def test_ctrl_c_in_a_terminal_reaches_the_drawing_workers_quietly(tmp_path):
    """A terminal's Ctrl-C signals the whole process group: the workers drawing the
    report (started before the run) printed a KeyboardInterrupt traceback each."""
    out = tmp_path / "ctrl_c"
    with_report = [a for a in ARGS_MANY if a != "--no-report"]  # and its workers
    proc = popen("run", *with_report, "--no-cache", "--out", str(out), cwd=tmp_path,
                 start_new_session=True)  # its own group, as a terminal's job
    try:
        wait_for_parts(out, proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1].endswith(f"--resume {out}")


def test_an_interrupt_among_a_familys_writes_leaves_no_part_of_it(tmp_path,
                                                                   monkeypatch):
    """Ctrl-C after a family's traces part, before its runs part (its commit mark):
    the parts it wrote go, so the folder holds only what it says is done."""
    real = results.write_table

    def interrupted_at_the_commit(df, path, run_id):
        if path.name.endswith(".runs.parquet"):
            raise KeyboardInterrupt
        return real(df, path, run_id)

    monkeypatch.setattr(results, "write_table", interrupted_at_the_commit)
    with pytest.raises(KeyboardInterrupt):
        runner.run(runner.prepare(SPECS[:1]), SETTINGS, tmp_path, "t", [], False)
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == (
        "interrupted")
    assert not (tmp_path / rundir.PARTS).exists()


def test_out_that_cannot_be_a_new_run_folder_is_refused_saying_why(tmp_path):
    (tmp_path / "file").write_text("")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text("{}")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("")
    says = {
        "file": "--out {} is a file, not a folder; give a new folder",
        "file/sub": "--out {}: cannot create the results folder there (Not a dir",
        "run": "--out {} already holds a run; give a new folder, or continue that run "
               "with --resume {}",
        "mine": "--out {} is a folder with other files in it; give a new or empty",
    }  # fmt: skip
    for name, message in says.items():
        path = tmp_path / name
        with pytest.raises(ValueError) as err:
            rundir.claim_new(path)
        assert str(err.value).startswith(message.format(path, path)), err.value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine", "run"]
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_two_runs_started_together_never_share_a_folder(tmp_path):
    tiny = ["run", "--problems", "rosenbrock", "--optimizers", "gd[lr=1e-3]",
            "--starts", "1", "--steps", "3", "--no-report"]  # fmt: skip
    same = [popen(*tiny, "--out", "same", cwd=tmp_path) for _ in range(2)]
    default = [popen(*tiny, cwd=tmp_path) for _ in range(2)]
    outs = [(p, *p.communicate(timeout=300)) for p in same + default]
    codes = sorted(p.returncode for p, _, _ in outs[:2])
    assert codes == [0, 2], [e for _, _, e in outs]
    err = next(e for p, _, e in outs[:2] if p.returncode == 2)
    assert "another run" in err or "already holds a run" in err
    assert len(err.strip().splitlines()) == 1
    assert all(p.returncode == 0 for p, _, _ in outs[2:]), [e for _, _, e in outs]
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2  # one each, never shared
    for f in [*folders, tmp_path / "same"]:
        assert len(pd.read_parquet(f / "runs.parquet")) == 1


# --------------------------------------------------------------- in one process


def test_resume_adds_cells_under_the_recorded_settings(tmp_path, uninterrupted):
    """A run of two of the families, resumed with --optimizers adding the other
    two, equals the run of all four."""
    from bench.cli import main

    _, ref_runs, ref_traces = uninterrupted
    out = tmp_path / "part"
    runner.run(runner.prepare(SPECS[:2]), SETTINGS, out, "t", [], progress=False)
    assert main(["run", "--resume", str(out), "--steps", "5"]) == 2  # fixed settings
    assert main(["run", "--resume", str(out), "--no-report", "--no-cache",
                 "--optimizers", *OPTIMIZERS[2:]]) == 0  # fmt: skip
    runs, traces, meta = results.read_run(out)
    assert len(meta["selection"]) == len(SPECS)
    _same_tables(runs, traces, ref_runs, ref_traces)


def test_a_cell_past_its_timeout_fails_and_the_run_goes_on(tmp_path, monkeypatch):
    real = runner._trace

    def slow_bfgs(fam, between):
        if fam.cells[0].config == "bfgs":  # as if its calls took long
            monkeypatch.setattr(time, "perf_counter", lambda: 1e9)
        try:
            return real(fam, between)
        finally:
            monkeypatch.undo()

    monkeypatch.setattr(runner, "_trace", slow_bfgs)
    runner.run(runner.prepare(SPECS[:2]), SETTINGS, tmp_path, "t", [], progress=False,
               cell_timeout=30.0)  # fmt: skip
    runs, _, meta = results.read_run(tmp_path)
    cells = {c["config"]: c for c in meta["cells"]}
    assert cells["bfgs"]["status"] == "failed"
    assert cells["bfgs"]["error"].startswith("timeout: ran past --cell-timeout 30 s")
    assert cells["newton"]["status"] == "done" and set(runs.config) == {"newton"}
    assert meta["status"] == "complete"


# ------------------------------------------------------------- reading, checked


@pytest.fixture
def run_copy(uninterrupted, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted[0], out)
    return out


def test_tables_and_manifest_carry_one_run_id(run_copy):
    meta = json.loads((run_copy / "manifest.json").read_text())
    for name in ("runs.parquet", "traces.parquet"):
        tag = json.loads(pq.read_schema(run_copy / name).metadata[b"optbench"])
        assert tag == {"run_id": meta["run_id"], "schema_version": SCHEMA_VERSION}
    assert meta["schema_version"] == SCHEMA_VERSION


def test_a_manifest_of_another_run_is_refused(run_copy):
    meta = json.loads((run_copy / "manifest.json").read_text())
    meta["run_id"] = "20000101-000000-deadbeef"
    (run_copy / "manifest.json").write_text(json.dumps(meta))
    with pytest.raises(results.RunFolderError, match="runs.parquet: belongs to run"):
        results.read_run(run_copy)


@pytest.mark.parametrize(
    "text, says", [("[1]", "a manifest is a JSON object, got list"),
                   (b"\xab\xcd", "not a JSON manifest")],
)  # fmt: skip
def test_a_manifest_that_is_not_an_object_is_named(run_copy, text, says):
    path = run_copy / "manifest.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(results.RunFolderError, match=says) as err:
        results.read_run(run_copy)
    assert str(path) in str(err.value)


def test_a_table_with_foreign_columns_is_refused(run_copy):
    meta = json.loads((run_copy / "manifest.json").read_text())
    foreign = pd.DataFrame({"problem": ["x"], "colour": ["red"]})
    results.write_table(foreign, run_copy / "runs.parquet", meta["run_id"])
    with pytest.raises(results.RunFolderError, match="no column problem_name"):
        results.read_run(run_copy)


def test_a_table_linked_from_outside_the_folder_is_refused(run_copy, tmp_path):
    outside = tmp_path / "elsewhere.parquet"
    shutil.move(run_copy / "runs.parquet", outside)
    (run_copy / "runs.parquet").symlink_to(outside)
    with pytest.raises(results.RunFolderError, match="points outside the run folder"):
        results.read_run(run_copy)


def test_previous_schema_and_added_columns_are_read(run_copy):
    runs = pd.read_parquet(run_copy / "runs.parquet")
    # a newer minor version adds a column: read, passed through
    results.write_table(runs.assign(nhvp=0), run_copy / "runs.parquet",
                        json.loads((run_copy / "manifest.json").read_text())["run_id"])
    assert "nhvp" in results.read_run(run_copy)[0]
    # schema 1.0: no run id anywhere, tables without metadata
    meta = json.loads((run_copy / "manifest.json").read_text())
    del meta["run_id"]
    (run_copy / "manifest.json").write_text(json.dumps(meta))
    for name in ("runs.parquet", "traces.parquet"):
        pd.read_parquet(run_copy / name).to_parquet(run_copy / name, index=False)
    old, _, _ = results.read_run(run_copy)
    assert len(old) == len(runs)


# ------------------------------------------------------------------------ limits


def test_memory_estimate_reads_dense_matrices_off_the_step():
    p = problems.get("rosenbrock", n=2000)

    def cell(name):
        return runner.prepare([CellSpec("rosenbrock", {"n": 2000}, name, {})])

    dense = limits.family_bytes(cell("bfgs"), 1, 10)
    lean = limits.family_bytes(cell("lbfgs"), 1, 10)
    assert dense >= 4 * p.dim**2 * 8  # the inverse Hessian, four times per lane
    assert lean < p.dim**2 * 8 / 10
    with pytest.raises(ValueError, match=r"more than --max-memory 64.0 MiB; lower"):
        limits.check_memory([cell("bfgs")], 1, 10, 64 * 2**20)


def test_a_thinned_trace_is_counted_as_its_rows():
    fams = [runner.prepare([CellSpec("rosenbrock", {}, "gd", {})])]
    with pytest.raises(ValueError, match=r"4 runs x 10000000001 rows"):
        limits.check_memory(fams, 4, 10**10, 8 * 2**30)
    limits.check_memory(fams, 4, 10**10, 8 * 2**30, "log:100")  # 102 rows a run
    from bench.thinning import kept_steps

    for spec in ("full", "every:7", "every:10", "log:5", "log:500"):
        kept = len(kept_steps(spec, 100))  # the rows thinning keeps, listed
        assert kept <= limits.trace_rows(spec, 100) <= kept + 1  # a bound, tight


@pytest.mark.parametrize(
    "text, n", [("8G", 8 * 2**30), ("512m", 512 * 2**20), ("1.5GiB", 3 * 2**29),
                ("1000", 1000)],
)  # fmt: skip
def test_sizes(text, n):
    assert limits.parse_size(text) == n


# ------------------------------------------------------------------ small items


def test_solve_takes_numpy_integers():
    tr = bench.solve(problems.get("rosenbrock"), optimizers.get("gd", lr=1e-3),
                     num_steps=np.int64(5))  # fmt: skip
    assert tr.n_steps == 5


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"f": lambda x: jnp.sum(x**2) + 0j}, "f must return a real scalar"),
        ({"f": lambda x: x**2}, r"f must return a real scalar, got shape \(3,\)"),
        ({"f": lambda x: jnp.sum(x**2), "grad": lambda x: x[:1]},
         r"grad must return x's shape \(3,\)"),
        ({"f": lambda x: jnp.sum(x**2), "f_star": float("nan")}, "f_star must be"),
    ],
)  # fmt: skip
def test_user_callables_are_checked_at_construction(kwargs, says):
    with pytest.raises(ValueError, match=f"problem 'mine': {says}"):
        problems.Problem(name="mine", x0=jnp.ones(3), **kwargs)


def test_rundir_names_parts_by_family_and_ignores_strays(tmp_path):
    rd = rundir.claim_new(tmp_path / "r")
    with pytest.raises(ValueError, match="just claimed by another run|already"):
        rundir.claim_new(tmp_path / "r")
    with pytest.raises(ValueError, match="still going"):
        rundir.claim_existing(tmp_path / "r")
    rd.release()
    key = rundir.family_key([("p", "b"), ("p", "a")])
    assert key == rundir.family_key([("p", "a"), ("p", "b")])
    runs_part, traces_part = rundir.part_paths(tmp_path / "r", key)
    traces_part.parent.mkdir()
    traces_part.write_text("")  # a family killed between its two parts
    assert rundir.committed_parts(tmp_path / "r") == []
    os.symlink(traces_part, runs_part)
    assert rundir.committed_parts(tmp_path / "r") == []  # a link is not a part


def test_parts_win_over_the_consolidated_tables_for_their_cells(run_copy):
    """After a resume was killed: a part's rows replace that cell's older rows."""
    run_id = json.loads((run_copy / "manifest.json").read_text())["run_id"]
    runs, traces, _ = results.read_run(run_copy)
    cell = ("rosenbrock[n=2]", "bfgs")
    mine = (runs.problem == cell[0]) & (runs.config == cell[1])
    key = rundir.family_key([cell])
    runs_part, traces_part = rundir.part_paths(run_copy, key)
    tmine = (traces.problem == cell[0]) & (traces.config == cell[1])
    results.write_table(traces[tmine].assign(f=traces.f[tmine] + 1), traces_part,
                        run_id)  # fmt: skip
    results.write_table(runs[mine].assign(nfev=-1), runs_part, run_id)
    new_runs, new_traces, _ = results.read_run(run_copy)
    assert len(new_runs) == len(runs) and len(new_traces) == len(traces)
    got = new_runs[(new_runs.problem == cell[0]) & (new_runs.config == cell[1])]
    assert (got.nfev == -1).all()
    others = new_runs[new_runs.config != cell[1]].sort_values(["config", "start"])
    expected = runs[runs.config != cell[1]].sort_values(["config", "start"])
    np.testing.assert_array_equal(others.nfev.to_numpy(), expected.nfev.to_numpy())


def test_report_names_a_bad_manifest_in_one_line(run_copy, capsys):
    from bench.cli import main

    (run_copy / "manifest.json").write_text("[1]")
    assert main(["report", str(run_copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{run_copy / 'manifest.json'}: a manifest is" in err[0]


def test_a_run_folder_missing_its_traces_is_named_in_one_line(run_copy, capsys):
    """resume crashed in consolidation (a traceback, the manifest left running)."""
    from bench.cli import main

    (run_copy / "traces.parquet").unlink()
    before = (run_copy / "manifest.json").read_text()
    says = f"{run_copy / 'traces.parquet'} is missing beside runs.parquet"
    for argv in (["run", "--resume", str(run_copy), "--no-report"],
                 ["report", str(run_copy)]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
    assert (run_copy / "manifest.json").read_text() == before


def test_a_resume_without_report_says_the_old_report_is_stale(run_copy, capsys):
    from bench.cli import main

    (run_copy / "report").mkdir()
    (run_copy / "report" / "index.html").write_text("<html>before</html>")
    assert main(["run", "--resume", str(run_copy), "--no-report"]) == 0
    err = capsys.readouterr().err
    assert f"note: {run_copy / 'report'} predates these results" in err
    assert f"report {run_copy}" in err


def test_resume_refuses_a_plugin_whose_source_changed(tmp_path):
    import hashlib

    from bench.cli import resume

    plugin = tmp_path / "mine.py"
    plugin.write_text("X = 1\n")
    digest = hashlib.sha256(b"X = 1\n").hexdigest()
    meta = {"plugins": [{"path": str(plugin), "sha256": digest}]}
    resume.check_plugins(meta, tmp_path)  # unchanged: accepted
    plugin.write_text("X = 2\n")
    with pytest.raises(ValueError, match=f"plugin {plugin} changed since the run"):
        resume.check_plugins(meta, tmp_path)
    plugin.unlink()
    with pytest.raises(ValueError, match=f"plugin {plugin} is gone"):
        resume.check_plugins(meta, tmp_path)
