"""The report's header and summaries: the platform block as readable lines, and no
time of 0 in the terminal summary or the report's summary table."""

from __future__ import annotations

import math

import pandas as pd


def test_platform_block_is_readable() -> None:
    from bench.report.platform import platform_items

    platform = {
        "machine": "x86_64", "processor": "x86_64", "cpu_count": 2, "cpus_usable": 2,
        "thread_env": {"OMP_NUM_THREADS": None, "XLA_FLAGS": "--x=1"},
        "numpy_blas": "openblas", "blas_threads": [1], "jax_devices": ["cpu:0"],
        "jax_x64": True, "jax_compilation_cache_dir": None,
        "our_compiler_options": {"xla_cpu_small_while_loop_byte_threshold": 16},
        "loadavg_start": [0.4423828125, 0.9, 1.0],
        "xla": {"compiled_without_options": 0, "off_fast_path": 3},
        "gpu": "none",
    }  # fmt: skip
    lines = dict(platform_items(platform))
    text = " ".join(lines.values())
    for dump in ("{", "}", "[", "'", "None", "True"):
        assert dump not in text, (dump, text)
    assert lines["platform"] == "x86_64, 2 CPUs, jax devices cpu:0, float64 on"
    assert lines["threads"] == "BLAS openblas, 1 thread(s); set: XLA_FLAGS --x=1"
    assert "off fast path 3" in lines["XLA"] and "cache off" in lines["XLA"]
    assert lines["load average at start (1, 5, 15 min)"] == "0.442, 0.9, 1"
    assert lines["gpu"] == "none"  # an unknown key is kept, plainly


def test_summaries_never_show_a_time_of_zero() -> None:
    from bench.cli.summary import _fmt_seconds
    from bench.report.analysis import summary_table

    assert [_fmt_seconds(s) for s in (0.0, math.nan, -1.0)] == ["-"] * 3
    assert _fmt_seconds(2.5e-4) == "250 us"
    rows = [
        {"config": "a", "problem": "p", "source": "optbench", "start": s,
         "solved": True, "status": "converged", "steps_to_tol": 3.0,
         "njev_to_tol": 4.0, "time_to_tol_s": t, "compile_s": 0.1}
        for s, t in enumerate([0.0, 0.0, 2e-3])
    ]  # fmt: skip
    table = summary_table(pd.DataFrame(rows))
    assert table["median time_to_tol_s"].tolist() == [2e-3]  # the measured one only


def test_the_recorded_command_is_a_shell_line_to_paste_back():
    import shlex

    from bench.report.data import settings

    argv = ["python -m bench", "run", "--optimizers", "adam[lr=0.01]", "gd", "--out",
            "my results"]  # fmt: skip
    (line,) = [v for k, v in settings({"command": argv}) if k == "command"]
    assert line == ("python -m bench run --optimizers 'adam[lr=0.01]' gd "
                    "--out 'my results'")
    assert shlex.split(line)[3:] == argv[1:]
