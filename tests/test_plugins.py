"""Plugins (bench.plugins): a user's file registers optimizers and problems with the
public decorators; its names work in SPECs, grids, suites, list, the tables and the
report (built without the plugin); bad plugins exit 2 with one line."""

from __future__ import annotations

import hashlib
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import bench as bench_cli  # the CLI in a subprocess, as a user runs it

import bench
import optimizers
import problems
from bench import cells, config, plugins, suites
from bench.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "adagrad_norm.py"

# a problem plugin: f(x) = sum_i (x_i - c)^2 from x0 = 0, f* = 0
BOWL = textwrap.dedent(
    """
    import jax.numpy as jnp
    import problems


    @problems.register("test_bowl")
    def test_bowl(n: int = 2, c: float = 1.0) -> problems.Problem:
        \"\"\"f(x) = sum (x_i - c)^2.\"\"\"
        return problems.Problem(
            name="test_bowl", f=lambda x: jnp.sum((x - c) ** 2), x0=jnp.zeros(n),
            f_star=0.0, params={"n": n, "c": c},
        )
    """
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The example optimizer and the bowl problem, loaded in this process."""
    bowl = tmp_path_factory.mktemp("plugins") / "bowl.py"
    bowl.write_text(BOWL)
    got = plugins.load([str(EXAMPLE), str(bowl)])
    yield got
    for p in got:
        plugins.unload(p)


def test_plugin_registers_through_the_public_decorators(loaded):
    example, bowl = loaded
    assert example.optimizers == ("adagrad_norm",) and example.problems == ()
    assert bowl.problems == ("test_bowl",) and bowl.optimizers == ()
    assert example.sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert "adagrad_norm" in optimizers.names() and "test_bowl" in problems.names()
    assert plugins.origin("optimizers", "adagrad_norm") == example
    assert plugins.origin("optimizers", "adam") is None
    # loading the same file again is a no-op, not a duplicate registration
    assert plugins.load([str(EXAMPLE)]) == [example]


def test_plugin_optimizer_follows_its_update_rule(loaded):
    """AdaGrad-norm on the bowl against the rule written out in numpy:
    b^2 += ||g||^2, x -= lr/b g, with g = 2 (x - c)."""
    p = problems.get("test_bowl", n=3, c=1.0)
    opt = optimizers.get("adagrad_norm", lr=0.5, b0=0.1)
    tr = bench.solve(p, opt, num_steps=20, gtol=0.0)
    x, b2, fs = np.zeros(3), 0.1**2, [3.0]  # f(0) = 3 (x - 1)^2
    for _ in range(20):
        g = 2 * (x - 1.0)
        b2 += g @ g
        x = x - 0.5 / np.sqrt(b2) * g
        fs.append(np.sum((x - 1.0) ** 2))
    np.testing.assert_allclose(tr.f, fs, rtol=1e-12)
    np.testing.assert_array_equal(tr.njev, np.arange(1, 22))


def test_plugin_names_work_in_specs_grids_and_suites(loaded):
    smoke = suites.get("smoke")
    s = suites.override(smoke, None, ["adagrad_norm[lr=[0.5,1]]", "bfgs"])
    built = cells.prepare(s.cells())
    assert {c.config for c in built} >= {
        "adagrad_norm[b0=0.1,lr=0.5]", "adagrad_norm[b0=0.1,lr=1]"
    }  # fmt: skip
    s = suites.override(smoke, ["test_bowl[n=[2,4]]"], None)
    labels = {c.problem.label for c in cells.prepare(s.cells())}
    assert labels == {"test_bowl[c=1,n=2]", "test_bowl[c=1,n=4]"}


def test_list_marks_plugin_names(loaded, capsys):
    assert main(["list", "--plugin", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "adagrad_norm" in line)
    assert "lr=1.0, b0=0.1" in row and f"(plugin {EXAMPLE})" in row
    assert "(plugin" not in next(ln for ln in out.splitlines() if "  bfgs" in ln)
    lion = next(line for line in out.splitlines() if "optax:lion " in line)
    assert "learning_rate=0.001, b1=0.9, b2=0.99, mu_dtype=none" in lion


def test_config_plugins_are_relative_to_the_config(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "mine.py").write_text(BOWL)
    cfg = sub / "c.toml"
    cfg.write_text('plugins = ["mine.py", "json.decoder"]\n')
    got = config.load_config(cfg).plugins
    assert got == (str(sub / "mine.py"), "json.decoder")
    cfg.write_text("plugins = 3\n")
    with pytest.raises(ValueError, match="plugins must be a list"):
        config.load_config(cfg)


def test_a_failing_plugin_is_rolled_back_and_a_changed_one_reloads(tmp_path):
    path = tmp_path / "flaky.py"
    path.write_text(
        "import optimizers\nfrom optimizers import first_order as fo\n"
        'optimizers.register("flaky_gd")(fo.gd)\nraise RuntimeError("no")\n'
    )
    with pytest.raises(ValueError, match=r"flaky.py:4: RuntimeError: no"):
        plugins.load([str(path)])
    assert "flaky_gd" not in optimizers.names()
    path.write_text(
        "import optimizers\nfrom optimizers import first_order as fo\n"
        'optimizers.register("flaky_gd")(fo.gd)\n'
    )
    (p,) = plugins.load([str(path)])
    path.write_text(path.read_text().replace("flaky_gd", "steady_gd"))
    (q,) = plugins.load([str(path)])
    assert q.optimizers == ("steady_gd",) and q.sha256 != p.sha256
    assert "flaky_gd" not in optimizers.names()
    plugins.unload(q)
    assert "steady_gd" not in optimizers.names()


# ------------------------------------------------------------------------ bad input

BAD_PLUGINS = {
    "missing file": (None, "plugin {dir}/missing.py: no such file"),
    "syntax error": ("import optimizers\n\nx = (1 +\n", "plugin {path}:3: SyntaxError"),
    "raises on import": (
        "import optimizers\n\n\ndef f():\n    raise KeyError('k')\n\n\nf()\n",
        "plugin {path}:5: KeyError: 'k'",  # the line that raised
    ),
    "duplicate name": (
        "import optimizers\n\n\n@optimizers.register('adam')\ndef mine():\n    pass\n",
        "plugin {path}:4: ValueError: optimizer 'adam' is already registered",
    ),
    "not an optimizer": (
        "import optimizers\n\n\n@optimizers.register('bad_opt')\ndef b():\n"
        "    return 3\n",
        "optimizer 'bad_opt': its factory ({path}:4) returned int, not an "
        "optimizers.Optimizer",
    ),
    "not a module": ("", "plugin no_such_pkg.mod: cannot find the module"),
}


@pytest.fixture(scope="module")
def bad_plugin_runs(tmp_path_factory):
    """Each bad plugin through the CLI, a few at a time, in empty folders."""

    def one(case):
        text, says = BAD_PLUGINS[case]
        plug_dir, cwd = tmp_path_factory.mktemp("plug"), tmp_path_factory.mktemp("cwd")
        path = plug_dir / ("missing.py" if text is None else "p.py")
        if text:
            path.write_text(text)
        ref = "no_such_pkg.mod" if case == "not a module" else str(path)
        opt = "bad_opt" if case == "not an optimizer" else "bfgs"
        r = bench_cli("run", "--plugin", ref, "--problems", "rosenbrock",
                      "--optimizers", opt, cwd=cwd)  # fmt: skip
        return case, (cwd, r, says.format(path=path, dir=plug_dir))

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, BAD_PLUGINS))


@pytest.mark.parametrize("case", list(BAD_PLUGINS))
def test_bad_plugin_exits_2_with_one_line_and_writes_nothing(case, bad_plugin_runs):
    cwd, r, says = bad_plugin_runs[case]
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert says in lines[0], lines[0]
    assert list(cwd.iterdir()) == []


# ---------------------------------------------------------------------- round trip


KEYS = ["problem", "config", "start"]


def test_example_plugin_round_trip_through_the_cli_and_bench_run(loaded, tmp_path):
    """Register (a --plugin and a config's plugin), run the plugin's optimizer on the
    plugin's problem beside a built-in optimizer, read the tables and the
    manifest, then build the report in a process that never loads the plugin (the
    bowl is 2-D: its contour plot cannot rebuild it, and must not need to).
    bench.run with objects (a built problem, a built optimizer) on the same cells
    gives the same tables."""
    bowl_path = Path(loaded[1].path)
    cfg = bowl_path.parent / "mine.toml"  # plugins are relative to the config
    cfg.write_text(
        'plugins = ["bowl.py"]\nproblems = ["test_bowl"]\n'
        'optimizers = ["adagrad_norm[lr=[0.5,1]]", "bfgs"]\nstarts = 2\nsteps = 40\n'
    )
    out = tmp_path / "run"
    r = bench_cli("run", "--config", str(cfg), "--plugin", str(EXAMPLE),
                  "--no-report", "--out", str(out), cwd=tmp_path,
                  timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs.config) == {
        "adagrad_norm[b0=0.1,lr=0.5]", "adagrad_norm[b0=0.1,lr=1]", "bfgs"
    }  # fmt: skip
    assert set(runs.problem) == {"test_bowl[c=1,n=2]"}
    assert len(runs) == 3 * 2 and set(runs.source) == {"optbench"}
    bowl = runs[runs.problem == "test_bowl[c=1,n=2]"].set_index(["config", "start"])
    assert bowl.loc[("bfgs", 0), "solved"]  # a quadratic: BFGS solves it
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = {Path(p["path"]).name: p for p in manifest["plugins"]}
    assert set(recorded) == {"bowl.py", "adagrad_norm.py"}
    assert recorded["adagrad_norm.py"]["sha256"] == hashlib.sha256(
        EXAMPLE.read_bytes()
    ).hexdigest()
    assert recorded["bowl.py"]["problems"] == ["test_bowl"]

    mine = bench.run(
        problems=[problems.get("test_bowl")],
        optimizers=["adagrad_norm[lr=[0.5,1]]", optimizers.get("bfgs")],
        starts=2, steps=40, plugins=[str(EXAMPLE), str(bowl_path)], cache=False,
    )  # fmt: skip
    ours = mine.runs.sort_values(KEYS).reset_index(drop=True)
    theirs = runs.sort_values(KEYS).reset_index(drop=True)
    assert list(ours.columns) == list(theirs.columns)  # the stored schema
    same = ["final_f", "final_grad_norm", "n_steps", "nfev", "njev", "status",
            "solved", "source", "optimizer_params", "problem_params"]  # fmt: skip
    pd.testing.assert_frame_equal(ours[KEYS + same], theirs[KEYS + same])
    traces = pd.read_parquet(out / "traces.parquet").sort_values([*KEYS, "step"])
    t_ours = mine.traces.sort_values([*KEYS, "step"])
    assert list(t_ours.columns) == list(traces.columns)
    np.testing.assert_array_equal(t_ours["f"], traces["f"])
    np.testing.assert_array_equal(t_ours["njev"], traces["njev"])

    r = bench_cli("report", str(out), cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    report = (out / "report" / "report.md").read_text()
    assert "adagrad_norm[b0=0.1,lr=0.5]" in report


def test_a_plugin_factory_that_raises_is_one_line_naming_its_file(tmp_path):
    path = tmp_path / "buggy.py"
    path.write_text(
        "import optimizers\nimport problems\n\n\n@optimizers.register('buggy_opt')\n"
        "def buggy_opt(lr: float = 1.0):\n    return {}['x']\n\n\n"
        "@problems.register('buggy_prob')\ndef buggy_prob(n: int = 2):\n"
        "    return None.x\n"
    )
    (p,) = plugins.load([str(path)])
    try:
        with pytest.raises(ValueError, match=rf"factory \({path}:5\) raised KeyError"):
            optimizers.get("buggy_opt")
        with pytest.raises(
            ValueError, match=rf"constructor \({path}:10\) raised AttributeError"
        ):
            problems.get("buggy_prob")
    finally:
        plugins.unload(p)


def test_a_run_time_hyperparameter_must_be_a_number_whatever_the_factory(tmp_path):
    """A plugin factory that checks nothing: a non-numeric value of a run-time
    hyperparameter is refused when the optimizer is built (before any folder), not
    when its family's program runs, where it failed the family's other cells too."""
    path = tmp_path / "unchecked.py"
    path.write_text(textwrap.dedent(
        """
        import optimizers
        from optimizers import first_order


        @optimizers.register("unchecked_gd")
        def unchecked_gd(lr=1e-3):
            gd = first_order.gd(lr=1e-3)
            return gd._replace(name="unchecked_gd", params={"lr": lr})
        """
    ))  # fmt: skip
    (plugin,) = plugins.load([str(path)])
    try:
        assert optimizers.get("unchecked_gd", lr=np.float32(0.5)).hp()["lr"] == 0.5
        for bad in ("abc", None, True, float("nan")):
            with pytest.raises(ValueError, match=(
                    "optimizer 'unchecked_gd': lr is passed to the program at run time "
                    "and must be a finite number")):  # fmt: skip
                optimizers.get("unchecked_gd", lr=bad)
    finally:
        plugins.unload(plugin)
