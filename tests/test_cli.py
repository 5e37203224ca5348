"""``python -m bench`` as a user runs it: subprocesses in a scratch folder."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("OPTBENCH_CACHE_DIR", str(_CACHE))  # shared by these tests only
    return env


_CACHE = Path(__import__("tempfile").mkdtemp(prefix="optbench-test-cache-"))


def bench(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", [[], ["run"], ["list"], ["report"]])
def test_help(command, tmp_path):
    r = bench(*command, "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: python -m bench")
    assert "examples:" in r.stdout
    assert list(tmp_path.iterdir()) == []


def test_run_help_documents_specs_and_config(tmp_path):
    out = bench("run", "--help", cwd=tmp_path).stdout
    for word in (
        "--suite",
        "--config",
        "--problems",
        "--optimizers",
        "--starts",
        "--steps",
        "--gtol",
        "--tol",
        "--seed",
        "--precision",
        "--out",
        "--no-report",
        "NAME[k=v",
        "[[groups]]",
        "smoke",
    ):
        assert word in out, word


def test_no_command_prints_help(tmp_path):
    r = bench(cwd=tmp_path)
    assert r.returncode == 2
    assert "COMMAND" in r.stderr and "Traceback" not in r.stderr


def test_list(tmp_path):
    r = bench("list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # problems with their constructor defaults, optimizers with their defaults
    assert "rosenbrock" in out and "n=2" in out
    assert "quadratic" in out and "kappa=100.0" in out
    assert "adam" in out and "lr=0.001, b1=0.9, b2=0.999, eps=1e-08" in out
    assert "gd" in out and "armijo=false" in out
    assert "scipy:BFGS" in out  # peers
    # optax's aliases; the one whose update wants value_fn is marked as refused, as
    # `run` refuses it, and the others are not
    rows = {line.split()[0]: line for line in out.splitlines() if "optax:" in line[:8]}
    assert "(refused: optax's update needs more than" in rows["optax:lbfgs"]
    assert "refused" not in rows["optax:adam"] and "Warning" not in r.stderr
    for suite in ("smoke", "default", "mgh", "ml", "full", "lsq", "scale"):
        assert f"  {suite} " in out
    assert "cells" in out
    assert list(tmp_path.iterdir()) == []


def test_list_one_section(tmp_path):
    r = bench("list", "suites", cwd=tmp_path)
    assert r.returncode == 0 and "Suites" in r.stdout and "Problems" not in r.stdout
    assert "\n  cutest     CUTEst's unconstrained problems" in r.stdout


BAD = {
    "unknown problem": (
        ["run", "--problems", "nope", "--optimizers", "bfgs"],
        "unknown problem 'nope'; valid names:",
    ),
    "unknown optimizer": (
        ["run", "--problems", "rosenbrock", "--optimizers", "bfgs", "nope"],
        "unknown optimizer 'nope'; valid names:",
    ),
    "unknown peer": (
        ["run", "--problems", "rosenbrock", "--optimizers", "scipy:Nope"],
        "unknown peer 'scipy:Nope'; valid names:",
    ),
    "unknown optax optimizer": (
        ["run", "--problems", "rosenbrock", "--optimizers", "optax:no_such_alias"],
        "unknown optax optimizer 'optax:no_such_alias'; optax's optimizers: adabelief",
    ),
    "optax hyperparameter": (
        ["run", "--problems", "rosenbrock", "--optimizers", "optax:lion[eps=1e-8]"],
        "optimizer 'optax:lion' has no hyperparameter eps; accepted: learning_rate",
    ),
    "malformed spec": (
        ["run", "--problems", "rosenbrock", "--optimizers", "adam[lr="],
        "malformed spec 'adam[lr=': expected a value for 'lr' at the end",
    ),
    "invalid value": (
        ["run", "--problems", "rosenbrock", "--optimizers", "adam[lr=-1]"],
        "lr must be > 0, got lr=-1",
    ),
    "unknown hyperparameter": (
        ["run", "--problems", "rosenbrock", "--optimizers", "adam[foo=1]"],
        "optimizer 'adam' has no hyperparameter foo; accepted: lr",
    ),
    "invalid problem parameter": (
        ["run", "--problems", "rosenbrock[n=1]", "--optimizers", "bfgs"],
        "rosenbrock needs n >= 2",
    ),
    "unknown suite": (["run", "--suite", "nope"], "unknown suite 'nope'; valid"),
    "starts 0": (
        ["run", "--starts", "0"],
        "--starts must be an integer >= 1, got --starts=0",
    ),
    "negative tol": (
        ["run", "--tol", "-1e-3"],
        "--tol must be a finite number >= 0, got -0.001",
    ),
    "nan gtol": (
        ["run", "--gtol", "nan"],
        "--gtol must be a finite number >= 0, got nan",
    ),
    "negative seed": (
        ["run", "--seed", "-1"],
        "--seed must be an integer >= 0, got -1",
    ),
    "not an int": (["run", "--steps", "ten"], "argument --steps: invalid int value"),
    "max-njev 0": (
        ["run", "--max-njev", "0"],
        "--max-njev must be an integer >= 1, got --max-njev=0",
    ),
    "bad format": (
        ["report", "--formats", "png,gif"],
        "unknown figure format gif; accepted: png, svg, pdf",
    ),
    "bad precision": (
        ["run", "--precision", "float16"],
        "--precision must be float64 or float32, or a comma list of both",
    ),
    "tune in two precisions": (
        ["run", "--precision", "float32,float64", "--tune", "lr=log:1e-3:1:4"],
        "--tune takes one precision",
    ),
    "bad precision list": (
        ["run", "--precision", "float32,float16"],
        "(float32,float64), got 'float32,float16'",
    ),
    "suite and config": (
        ["run", "--suite", "smoke", "--config", "c.toml"],
        "not allowed with argument",
    ),
    "missing config": (
        ["run", "--config", "missing.toml"],
        "cannot read config missing.toml: No such file",
    ),
    "missing run dir": (["report", "nowhere"], "RUN_DIR nowhere is not a folder"),
    "no runs at all": (["report"], "no run folder with a runs.parquet under results"),
    "unknown command": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "bad tune": (
        ["run", "--suite", "smoke", "--tune", "lr=lin:1e-3:1:4"],
        "cannot read tune 'lr=lin:1e-3:1:4': KEY=log:LOW:HIGH:N",
    ),
    "tune without the hyperparameter": (
        [
            "run",
            "--problems",
            "rosenbrock",
            "--optimizers",
            "bfgs",
            "--tune",
            "lr=log:1e-3:1:4",
        ],
        "no selected optimizer has the hyperparameter 'lr'",
    ),
    "theory without constants": (
        ["run", "--problems", "rosenbrock", "--optimizers", "gd[lr=theory]"],
        "problem rosenbrock[n=2] has no known strong convexity and smoothness",
    ),
    "empty out": (["run", "--out", ""], "--out needs a folder name"),
    "too much memory": (
        ["run", "--problems", "rosenbrock[n=20000]", "--optimizers", "bfgs",
         "--max-memory", "8G"],
        "largest family, rosenbrock[n=20000] x bfgs, n=20000), more than",
    ),
    "too many starts": (
        ["run", "--problems", "rosenbrock", "--optimizers", "gd", "--starts",
         "100000000", "--max-memory", "8G"],
        "more than --max-memory 8.0 GiB; lower --starts or --steps",
    ),  # fmt: skip
    "bad max-memory": (["run", "--max-memory", "lots"], "--max-memory must be a size"),
    "bad cell-timeout": (["run", "--cell-timeout", "0"], "--cell-timeout takes a"),
    "huge grid": (
        ["run", "--problems", "rosenbrock", "--optimizers",
         "adam[lr=[1,2,3,4,5,6,7,8,9,10,11],b1=[1,2,3,4,5,6,7,8,9,10],"
         "b2=[1,2,3,4,5,6,7,8,9,10],eps=[1,2,3,4,5,6,7,8,9,10]]"],
        "expands to 11000 configs, more than 10000",
    ),  # fmt: skip
    "endless config": (["run", "--config", "/dev/zero"], "is larger than 1 MiB"),
    "resume nothing": (["run", "--resume", "nowhere"], "--resume nowhere: no manifest"),
    "resume with settings": (
        ["run", "--resume", "nowhere", "--steps", "5"], "drop --steps"
    ),
    # it wrote into the resumed folder and never made the one --out named
    "resume elsewhere": (["run", "--resume", "nowhere", "--out", "x"], "drop --out"),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every BAD case, each in a scratch folder of its own, run a few at a time (each
    is a fresh interpreter importing jax: ~1 s alone)."""

    def one(case):
        cwd = tmp_path_factory.mktemp("bad")
        return case, cwd, bench(*BAD[case][0], cwd=cwd)

    tmp_path_factory.getbasetemp()  # made once: threads making it at once collide
    with ThreadPoolExecutor(max_workers=4) as pool:
        return {case: (cwd, r) for case, cwd, r in pool.map(one, BAD)}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, bad_runs):
    says = BAD[case][1]
    cwd, r = bad_runs[case]
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert says in lines[0], lines[0]
    assert list(cwd.iterdir()) == []  # no results folder


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_no_process_outlives_a_refused_run(bad_runs):
    """A run starts its drawing workers before it imports jax; refused at once, it
    still stops them (each holds pipes that would otherwise keep it alive)."""

    def ours() -> list[str]:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().decode(errors="replace")
            except OSError:  # gone meanwhile
                continue
            if any(str(cwd) in text for cwd, _ in bad_runs.values()):
                found.append(text.replace("\0", " ")[:200])
        return found

    deadline = time.monotonic() + 10  # a server may take a moment to see EOF
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ours() == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, says",
    [
        ("problems = [\n", "invalid TOML"),
        ('problems = ["rosenbrock"]\nbogus = 1\n', "unknown key bogus"),
        ('problems = ["rosenbrock"]\noptimizers = ["adam[lr=]"]\n', "malformed spec"),
        ('suite = "smoke"\nstarts = 0\n', "starts must be an integer >= 1"),
        ('problems = ["rosenbrock"]\noptimizers = ["nope"]\n', "unknown optimizer"),
    ],
)
def test_bad_config(text, says, tmp_path):
    cfg = _write(tmp_path / "c.toml", text)
    r = bench("run", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_out_must_be_new_or_empty(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "runs.parquet").write_text("")
    r = bench(
        "run",
        "--problems",
        "rosenbrock",
        "--optimizers",
        "bfgs",
        "--out",
        "taken",
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "is a folder with other files in it" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["runs.parquet"]


RUN_COLUMNS = {
    "problem", "problem_name", "problem_params", "dim", "optimizer", "config",
    "optimizer_params", "lr", "source", "start", "status", "solved", "f_star",
    "f_star_known", "final_f", "final_gap", "final_grad_norm", "n_steps", "nfev",
    "njev", "nhev", "nhvp", "njac", "steps_to_tol", "nfev_to_tol", "njev_to_tol",
    "work_to_tol", "rate", "order", "rate_theory", "compile_s", "run_s",
    "time_to_tol_s", "num_steps", "gtol", "tol",
}  # fmt: skip


def test_end_to_end_run_and_report(tmp_path):
    out = tmp_path / "results" / "run1"
    r = bench(
        "run", "--problems", "rosenbrock", "--optimizers", "bfgs", "gd[lr=1e-3]",
        "--starts", "2", "--steps", "50", "--out", str(out),
        cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4
    assert RUN_COLUMNS <= set(runs.columns), RUN_COLUMNS - set(runs.columns)
    assert set(runs.config) == {"bfgs", "gd[armijo=False,lr=0.001]"}
    assert (runs.num_steps == 50).all() and sorted(runs.start) == [0, 0, 1, 1]
    # bfgs solves Rosenbrock from both starts within 50 steps; gd cannot
    assert runs[runs.optimizer == "bfgs"].solved.all()
    assert not runs[runs.optimizer == "gd"].solved.any()
    assert (out / "traces.parquet").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["suite"] == "custom"
    assert manifest["precision"] == "float64"
    assert "--problems" in manifest["command"]
    assert (out / "report" / "index.html").exists()
    assert (out / "report" / "report.md").exists()
    # the terminal summary: rich must not eat "[...]" labels as markup
    assert "gd[armijo=False,lr=0.001]" in r.stdout
    assert "2/2" in r.stdout and "0/2" in r.stdout
    assert str(out / "report" / "index.html") in r.stdout

    # `report` without RUN_DIR finds the newest run under ./results
    (out / "report" / "index.html").unlink()
    r = bench("report", cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "report" / "index.html").exists()
    assert "index.html" in r.stdout


def test_float32_no_report_and_default_folder(tmp_path):
    r = bench(
        "run", "--problems", "quadratic[dim=3,kappa=10]", "--optimizers",
        "gd[lr=0.1]", "--starts", "1", "--steps", "20", "--precision", "float32",
        "--no-report",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (run_dir,) = (tmp_path / "results").iterdir()
    assert run_dir.name.endswith("_custom")
    assert not (run_dir / "report").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["precision"] == "float32"
    runs = pd.read_parquet(run_dir / "runs.parquet")
    assert runs.tol.iloc[0] == pytest.approx(1e-5)  # float32 default tolerances
    assert runs.gtol.iloc[0] == pytest.approx(1e-6)
    f = pd.read_parquet(run_dir / "traces.parquet").f.to_numpy()
    assert (f.astype("float32").astype("float64") == f).all()  # computed in float32


def test_config_run(tmp_path):
    cfg = _write(
        tmp_path / "mine.toml",
        'problems = ["quadratic[dim=3,kappa=[2,10]]"]\noptimizers = ["gd[lr=0.1]"]\n'
        "starts = 1\nsteps = 10\n",
    )
    r = bench("run", "--config", str(cfg), "--no-report", "--steps", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (run_dir,) = (tmp_path / "results").iterdir()
    assert run_dir.name.endswith("_mine")
    runs = pd.read_parquet(run_dir / "runs.parquet")
    assert len(runs) == 2 and (runs.num_steps == 5).all()  # the flag wins


def test_ctrl_c_keeps_finished_cells(tmp_path):
    out = tmp_path / "out"
    # 12 families: the first TIMED_TOGETHER are written together, once all are timed;
    # the later ones are compiled then (not loaded: --no-cache), which takes seconds,
    # so the signal lands while the run is still going (with 8 families or fewer
    # every cell was written within a few ms of the first, and the signal could land
    # after the last)
    from bench import runner

    assert runner.TIMED_TOGETHER < 12
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--problems", "rosenbrock", "wood",
         "--optimizers", "bfgs", "newton", "gd[lr=[1e-4,2e-4]]", "lbfgs",
         "nesterov", "momentum",
         "--no-cache",
         "--starts", "1", "--steps", "20", "--no-report", "--out", str(out)],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a background job's shell would pass SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                cells = json.loads((out / "manifest.json").read_text())["cells"]
            except (OSError, ValueError, KeyError):
                cells = []
            if cells:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert "interrupted" in last and str(out) in last, err
    assert "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert 1 <= len(manifest["cells"]) < 14
    assert len(pd.read_parquet(out / "runs.parquet")) >= 1


# --- the persistent compilation cache -------------------------------------------------

TINY = ["run", "--problems", "rosenbrock", "--optimizers", "gd[lr=1e-3]", "--starts",
        "1", "--steps", "7", "--no-report"]  # fmt: skip


def _compile_entry(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())["compile"]


def test_a_second_process_loads_programs_from_the_cache(tmp_path):
    env = {"OPTBENCH_CACHE_DIR": str(tmp_path / "cache")}
    first = _bench_env(env, *TINY, "--out", "a", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = _bench_env(env, *TINY, "--out", "b", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    a, b = _compile_entry(tmp_path / "a"), _compile_entry(tmp_path / "b")
    assert a["programs_compiled"] >= 1 and a["programs_from_cache"] == 0
    assert b["programs_compiled"] == 0 and b["programs_from_cache"] >= 1
    runs = pd.read_parquet(tmp_path / "b" / "runs.parquet")
    assert runs.compile_cached.all()
    # the same numbers either way
    ra = pd.read_parquet(tmp_path / "a" / "runs.parquet")
    assert ra.final_f.tolist() == runs.final_f.tolist()
    # --no-cache: compiled again, nothing loaded
    third = _bench_env(env, *TINY, "--out", "c", "--no-cache", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    c = _compile_entry(tmp_path / "c")
    assert c["programs_compiled"] >= 1 and c["programs_from_cache"] == 0


def test_cache_command_shows_and_clears(tmp_path):
    env = {"OPTBENCH_CACHE_DIR": str(tmp_path / "cache")}
    assert _bench_env(env, *TINY, "--out", "a", cwd=tmp_path).returncode == 0
    shown = _bench_env(env, "cache", cwd=tmp_path)
    assert shown.returncode == 0 and str(tmp_path / "cache") in shown.stdout
    assert "entries: 0" not in shown.stdout
    n = int(shown.stdout.split("entries: ")[1].split()[0])
    cleared = _bench_env(env, "cache", "--clear", cwd=tmp_path)
    assert cleared.returncode == 0 and f"removed {n} entries (" in cleared.stdout
    assert "entries: 0" in _bench_env(env, "cache", cwd=tmp_path).stdout
    _write(tmp_path / "file", "")
    r = _bench_env({"OPTBENCH_CACHE_DIR": str(tmp_path / "file")}, "cache",
                   cwd=tmp_path)  # fmt: skip
    assert r.returncode == 2 and r.stderr.strip().endswith(
        "is a file, not a folder (OPTBENCH_CACHE_DIR names the folder)")


def test_an_unusable_cache_folder_is_a_warning_not_a_failure(tmp_path):
    blocker = _write(tmp_path / "file", "not a folder")
    env = {"OPTBENCH_CACHE_DIR": str(blocker / "cache")}
    r = _bench_env(env, *TINY, "--out", "a", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "cache" in r.stderr
    assert "Traceback" not in r.stderr
    assert (tmp_path / "a" / "runs.parquet").is_file()


def _bench_env(extra: dict[str, str], *args: str, cwd: Path):
    env = {**_env(), **extra}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_summary_says_where_solved_is_relative_to_the_best_found_f_star():
    import io

    from rich.console import Console

    from bench.cli.summary import print_summary

    nan = float("nan")
    runs = pd.DataFrame({
        "problem": ["mlp", "mlp", "rosenbrock[n=2]"], "config": ["bfgs", "gd", "bfgs"],
        "precision": "float64", "solved": [True, False, True],
        "status": ["converged", "max_steps", "converged"],
        "steps_to_tol": [10.0, nan, 30.0], "njev_to_tol": [12.0, nan, 40.0],
        "time_to_tol_s": [1e-4, nan, 2e-4], "f_star_known": [False, False, True],
    })  # fmt: skip
    console = Console(file=io.StringIO(), width=160)
    print_summary(runs, console)
    lines = console.file.getvalue().splitlines()
    assert ("f* unknown for mlp: solved there means within tol of the best f found in "
            "this run (docs/schema.md)") in lines  # fmt: skip
    console = Console(file=io.StringIO(), width=160)
    print_summary(runs[runs.f_star_known], console)
    assert "f* unknown" not in console.file.getvalue()


def test_the_summary_shows_work_where_jacobians_or_products_are_not_in_njev():
    import io

    from rich.console import Console

    from bench.cli.summary import print_summary

    runs = pd.DataFrame({
        "problem": "rosenbrock[n=2]", "config": ["levenberg_marquardt", "bfgs"],
        "precision": "float64", "solved": True, "status": "converged",
        "steps_to_tol": [14.0, 34.0], "njev_to_tol": [1.0, 41.0],
        "work_to_tol": [16.0, 41.0], "time_to_tol_s": [1e-4, 6e-5],
        "f_star_known": True,
    })  # fmt: skip

    def printed(df):
        console = Console(file=io.StringIO(), width=160)
        print_summary(df, console)
        return [line.rstrip() for line in console.file.getvalue().splitlines()]

    lines = printed(runs)
    head = next(line for line in lines if line.startswith("config"))
    assert "med njev" in head and "med work" in head
    lm = next(line for line in lines if line.startswith("levenberg_marquardt"))
    cells = [c.strip() for c in lm.split("│")]
    assert cells[head.split("┃").index(" med work ")] == "16"
    assert "work = njev + Hessian-vector products + Jacobians" in lines
    lines = printed(runs[runs.config == "bfgs"])  # work is njev: no column
    assert not any("med work" in line or "work =" in line for line in lines)
