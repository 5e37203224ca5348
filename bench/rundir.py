"""A run folder on disk: claimed by one process at a time, results written as parts.

Claiming: a new run creates ``RUN/.lock`` with O_CREAT | O_EXCL (two runs started in
the same second cannot both create it) and holds an exclusive ``flock`` on it for the
whole run; a resume takes the same ``flock``, which the kernel drops when its holder
dies (even by SIGKILL), so a killed run can be resumed and a live one cannot be
joined.

Writing: the program families timed together write their rows as one set of parts,
``parts/<key>.traces.parquet``, ``parts/<key>.targets.parquet`` (the targets recorded
in the loop; absent where there are none) then ``parts/<key>.runs.parquet`` (temp
file, then rename: a part is whole or absent, and a runs part is its families' commit
mark). ``consolidate`` folds the parts into ``runs.parquet`` / ``traces.parquet`` /
``targets.parquet`` at the end and on SIGINT/SIGTERM and then deletes them; after a
SIGKILL the parts remain, and ``bench.results.read_run`` reads tables and parts
together.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import time
from pathlib import Path

LOCK = ".lock"
PARTS = "parts"
_PART = re.compile(r"([0-9a-f]{16})\.(runs|traces|targets)\.parquet")


class RunDir:
    """A claimed run folder: ``path`` and the lock held while this object lives."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1

    def __fspath__(self) -> str:
        return str(self.path)


def new_run_id() -> str:
    """A run's id, written into its manifest and into every table it writes."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"


def claim_new(path: Path, name: str = "--out") -> RunDir:
    """Claim ``path`` for a new run: it must be absent or an empty folder, and no
    other run may claim it, even one started at the same instant. ValueError (the
    message names the folder, as ``name`` gave it: the CLI's --out, the API's out or
    report(dir)) otherwise."""
    path = Path(path)
    if str(path) in ("", "."):
        raise ValueError(f"{name} needs a folder name; give a new folder, e.g. "
                         "results/mine")  # fmt: skip
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {path} is a file, not a folder; give a new folder")
    if path.is_dir() and any(path.iterdir()):
        if (path / "manifest.json").is_file() or (path / LOCK).exists():
            resume = f", or continue that run with --resume {path}" * (name == "--out")
            raise ValueError(
                f"{name} {path} already holds a run; give a new folder{resume}"
            )
        raise ValueError(f"{name} {path} is a folder with other files in it; give a "
                         "new or empty folder")  # fmt: skip
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise ValueError(
            f"{name} {path} was just claimed by another run; give a new folder"
        ) from None
    except OSError as exc:
        raise ValueError(f"{name} {path}: cannot create the results folder there "
                         f"({exc.strerror or exc})") from None  # fmt: skip
    fcntl.flock(fd, fcntl.LOCK_EX)  # ours alone: the file is new
    os.write(fd, f"{os.getpid()}\n".encode())
    return RunDir(path, fd)


def claim_fresh(base: Path) -> RunDir:
    """A new folder named ``base``, or ``base-2``, ``base-3``, ... if taken (the
    default results/<stamp>_<suite>/ of runs started in the same second)."""
    for i in range(1, 10_000):
        path = base if i == 1 else base.with_name(f"{base.name}-{i}")
        try:
            return claim_new(path)
        except ValueError:
            if not path.exists():  # not taken: no folder can be made there
                raise
    raise ValueError(f"no free folder name next to {base}")


def claim_existing(path: Path) -> RunDir:
    """Claim a run folder to resume it; ValueError if another process holds it."""
    path = Path(path)
    fd = os.open(path / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ValueError(f"{path} is in use by a run that is still going") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _remove_temp_files(path)
    return RunDir(path, fd)


def _remove_temp_files(path: Path) -> None:
    """Temp files a killed run left (ours only: ``.NAME.XXXX.tmp`` in the folder or
    its parts/), never anything else."""
    for folder in (path, path / PARTS):
        if folder.is_dir():
            for p in folder.glob(".*.tmp"):
                if p.is_file() and not p.is_symlink():
                    p.unlink(missing_ok=True)


def family_key(cells: list[tuple[str, ...]]) -> str:
    """A part's name: the family's cell keys (problem, config, precision), hashed;
    the same family gets the same key in a resumed run."""
    text = "\n".join("\x00".join(c) for c in sorted(cells))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def part_paths(run_dir: Path, key: str) -> tuple[Path, Path]:
    """(runs part, traces part) of a family."""
    parts = Path(run_dir) / PARTS
    return parts / f"{key}.runs.parquet", parts / f"{key}.traces.parquet"


def targets_part(run_dir: Path, key: str) -> Path:
    """A family's targets part (bench/targets.py), written before its runs part."""
    return Path(run_dir) / PARTS / f"{key}.targets.parquet"


def committed_parts(run_dir: Path) -> list[str]:
    """Keys of the families whose runs part exists (written last: the commit mark),
    sorted by the time they were written."""
    parts = Path(run_dir) / PARTS
    if not parts.is_dir() or parts.is_symlink():
        return []
    found = []
    for p in parts.iterdir():
        m = _PART.fullmatch(p.name)
        if m and m.group(2) == "runs" and p.is_file() and not p.is_symlink():
            if part_paths(run_dir, m.group(1))[1].is_file():
                found.append((p.stat().st_mtime_ns, m.group(1)))
    return [k for _, k in sorted(found)]


def remove_parts(run_dir: Path, keys: list[str]) -> None:
    """Delete these families' parts (consolidated, or never committed): the runs
    part first, so a kill in between leaves no runs part without its traces part."""
    for key in keys:
        for p in (*part_paths(run_dir, key), targets_part(run_dir, key)):
            p.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        (Path(run_dir) / PARTS).rmdir()  # only if empty
