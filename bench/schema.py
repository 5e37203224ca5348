"""The schema of a run folder, checked when it is read: each table's required
columns and their kinds, its schema version and run id (parquet metadata key
``optbench``, written by ``bench.results.write_table``), the manifest's form, and
that nothing read lies outside the folder. ``bench.results.read_run`` uses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

# "MAJOR.MINOR" of the tables and manifest (docs/schema.md). A new column is a minor
# version: readers accept any minor of their major and of the major before, and
# columns they do not know. Tables without a version are 1.0 (before run ids).
SCHEMA_VERSION = "2.1"  # 2.1: the precision column

# the columns a reader needs, with their kind: s(tring), i(nteger), f(loat), b(ool);
# other columns (older or newer minor versions) are passed through
REQUIRED_RUNS = {
    "problem": "s", "problem_name": "s", "dim": "i", "optimizer": "s", "config": "s",
    "start": "i", "status": "s", "solved": "b", "f_star": "f", "final_f": "f",
    "final_gap": "f", "n_steps": "i", "nfev": "i", "njev": "i",
}  # fmt: skip
REQUIRED_TRACES = {"problem": "s", "config": "s", "start": "i", "step": "i", "f": "f"}
REQUIRED_TARGETS = {"problem": "s", "config": "s", "start": "i", "target": "f",
                    "step": "f", "njev": "f", "nfev": "f"}  # fmt: skip
REQUIRED_LANDSCAPES = {
    "problem": "s", "lo0": "f", "lo1": "f", "hi0": "f", "hi1": "f", "x_star0": "f",
    "x_star1": "f", "grid": "i", "f": "s",
}  # fmt: skip
_KINDS = {"s": "OSUT", "i": "iu", "f": "fiu", "b": "b"}
_KIND_NAMES = {"s": "text", "i": "integer", "f": "number", "b": "boolean"}


ANY = object()  # no manifest to check a table's run id against


def run_id_of(manifest: dict[str, Any]) -> Any:
    """The run id tables must carry: the manifest's, or ANY when there is no
    manifest or it predates run ids (schema 1.0)."""
    return manifest.get("run_id", ANY) if manifest else ANY


class RunFolderError(ValueError):
    """A run folder that cannot be read as one run; the message names the file."""


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """manifest.json as a dict ({} if absent); RunFolderError naming it if it is
    not a JSON object or lies outside the folder."""
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        return {}
    check_inside(path, run_dir)
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RunFolderError(f"{path}: not a JSON manifest ({exc})") from None
    if not isinstance(meta, dict):
        raise RunFolderError(
            f"{path}: a manifest is a JSON object, got {type(meta).__name__}"
        )
    return meta


def check_inside(path: Path, run_dir: Path) -> None:
    root = Path(run_dir).resolve()
    if not path.resolve().is_relative_to(root):
        raise RunFolderError(f"{path} points outside the run folder {run_dir}")


def read_table(
    path: Path,
    run_dir: Path,
    run_id: Any,
    required: dict[str, str],
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """One parquet table, checked: inside the folder, of this run, of a schema
    version we read, with the required columns of the right kinds."""
    import pyarrow.parquet as pq

    check_inside(path, run_dir)
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001  (pyarrow raises several kinds)
        raise RunFolderError(f"{path}: not a parquet table ({exc})") from None
    raw = (schema.metadata or {}).get(b"optbench")
    tag = json.loads(raw) if raw else {"schema_version": "1.0", "run_id": None}
    major = int(str(tag.get("schema_version", "1.0")).split(".")[0])
    ours = int(SCHEMA_VERSION.split(".")[0])
    if major > ours or major < ours - 1:
        raise RunFolderError(
            f"{path}: schema version {tag.get('schema_version')}; this optbench "
            f"reads {ours - 1}.x and {ours}.x"
        )
    if run_id is not ANY and tag.get("run_id") != run_id:
        raise RunFolderError(
            f"{path}: belongs to run {tag.get('run_id')}, but the manifest is of run "
            f"{run_id}: tables and manifest of different runs"
        )
    names = set(schema.names)
    missing = [c for c in required if c not in names]
    if missing:
        raise RunFolderError(
            f"{path}: not an optbench table: no column {', '.join(missing)}"
        )
    wanted = None if columns is None else [c for c in columns if c in names]
    df = pd.read_parquet(path, columns=wanted)
    for col, kind in required.items():
        if col in df and len(df) and df[col].dtype.kind not in _KINDS[kind]:
            raise RunFolderError(
                f"{path}: column {col} holds {df[col].dtype}, not "
                f"{_KIND_NAMES[kind]}"
            )
    return df
