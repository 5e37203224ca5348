"""``run --resume RUN_DIR``: what a resumed run runs, under the run's own settings.

The unit of work is a whole program family (bench/runner.py): a family's rows are
committed as one part, so the cells a killed or interrupted run lacks are whole
families, and running them again gives the tables an uninterrupted run would have
(counts and f; times aside).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from bench import results
from bench.cli.common import UsageError
from bench.config import SETTING_KEYS
from bench.spec import format_spec
from bench.suites import CellSpec, Group

# run flags that would change the recorded run, or its folder: refused with --resume
_FIXED = ("suite", "config", "out", *SETTING_KEYS)
# manifest key of each setting (the CLI's --steps is the manifest's num_steps)
_RECORDED = {"steps": "num_steps"}


def load(args: argparse.Namespace) -> tuple[Path, dict[str, Any], list[CellSpec]]:
    """(run folder, its manifest, the cells of the resumed run: the recorded ones
    and any added with --problems / --optimizers). UsageError on a flag that would
    change the run's settings, a folder that is not a run, or a changed plugin."""
    run_dir = Path(args.resume)
    given = [k for k in _FIXED if getattr(args, k, None) is not None]
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UsageError(
            f"--resume continues a run under its recorded settings; drop {flags} "
            "(only --problems / --optimizers may add cells)"
        )
    if not (run_dir / "manifest.json").is_file():
        raise UsageError(
            f"--resume {run_dir}: no manifest.json there; give a folder written by "
            "'run'"
        )
    meta = results.read_manifest(run_dir)
    results.check_traces(run_dir)  # else found when the run ends, consolidating
    if "run_id" not in meta or "selection" not in meta:
        raise UsageError(
            f"--resume {run_dir}: its manifest predates resumable runs (no run_id)"
        )
    check_plugins(meta, run_dir)
    recorded = [CellSpec(*s) for s in meta["selection"]]
    return run_dir, meta, recorded + _added(args, recorded)


def settings(meta: dict[str, Any]) -> dict[str, Any]:
    """The recorded settings, keyed as the CLI's settings are, and the plugin files
    the run loaded (checked unchanged by ``check_plugins``), to load again."""
    out = {k: meta.get(_RECORDED.get(k, k)) for k in SETTING_KEYS}
    out["plugins"] = [p.get("path") for p in meta.get("plugins") or []]
    return out


def _added(args: argparse.Namespace, recorded: list[CellSpec]) -> list[CellSpec]:
    """Cells --problems / --optimizers add: given problems x given optimizers; one
    list alone is crossed with the run's recorded other side."""
    if args.problems is None and args.optimizers is None:
        return []
    probs = args.problems or list(
        dict.fromkeys(format_spec(c.problem, c.problem_params) for c in recorded)
    )
    opts = args.optimizers or list(
        dict.fromkeys(format_spec(c.optimizer, c.optimizer_params) for c in recorded)
    )
    return Group(tuple(probs), tuple(opts)).cells()


def check_plugins(meta: dict[str, Any], run_dir: Path) -> None:
    """The hook for plugins: a run records each plugin file it loaded as
    ``"plugins": [{"path": ..., "sha256": ...}]``; a plugin whose source changed
    since (or that is gone) would make the resumed cells a different benchmark, so
    the resume is refused with one line."""
    for plugin in meta.get("plugins") or []:
        path = Path(plugin.get("path", ""))
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest != plugin.get("sha256"):
            what = "is gone" if digest is None else "changed since the run started"
            raise UsageError(
                f"--resume {run_dir}: plugin {path} {what}; resuming would mix two "
                "versions of it (start a new run)"
            )


def done_cells(run_dir: Path) -> set[tuple[str, str, str]]:
    """``Cell.key`` (problem, config, precision) of the cells whose rows the folder
    holds (tables or parts)."""
    try:
        runs, _, _ = results.read_run(run_dir, trace_columns=[])
    except FileNotFoundError:
        return set()
    if runs.empty:
        return set()
    return set(zip(*(runs[k] for k in results.CELL_KEYS), strict=True))
