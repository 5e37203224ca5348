"""Peak resident memory of a large run with a thinned trace (a benchmark: it prints,
it asserts nothing).

    python -m bench.speed.memory                       # 10,000 starts x 1,000 steps
    python -m bench.speed.memory --trace full --starts 1000

Runs ``python -m bench run`` in a child process (tables only, no report) and prints
the child's peak resident set size (getrusage's ru_maxrss) beside the 2 GB target.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_GB = 2.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.speed.memory")
    ap.add_argument("--starts", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=1_000)
    ap.add_argument("--trace", default="log:50")
    ap.add_argument("--problem", default="rosenbrock")
    ap.add_argument("--optimizer", default="gd[lr=1e-3]")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [
            sys.executable, "-m", "bench", "run", "--problems", a.problem,
            "--optimizers", a.optimizer, "--starts", str(a.starts), "--steps",
            str(a.steps), "--trace", a.trace, "--no-report", "--out", str(out),
        ]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"the run failed ({done.returncode}): {done.stderr[-2000:]}")
        rows = _rows(out / "traces.parquet")
    # Linux reports ru_maxrss in KiB: the largest child that has ended (the run)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    verdict = "within" if peak_gb < TARGET_GB else "OVER"
    print(
        f"{a.problem} x {a.optimizer}: {a.starts} starts x {a.steps} steps, "
        f"--trace {a.trace}: {rows} trace rows, run {wall:.1f} s, "
        f"peak RSS {peak_gb:.2f} GB ({verdict} the {TARGET_GB:g} GB target)"
    )


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


if __name__ == "__main__":
    main()
