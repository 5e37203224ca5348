"""Persistent XLA compilation cache: on by default, size-limited, clearable, counted.

``enable`` points jax's persistent compilation cache at a folder marked as ours (by a
``.optbench-cache-marker`` file). jax builds its cache object once, at the first
compile after a folder is set, so ``enable``/``disable`` reset it. Keys hash the
program, jaxlib and backend versions, XLA_FLAGS and the serialized CompileOptions (so
extra XLA backend options give other entries). Entries: ``<key>-cache`` files, plus
``<key>-atime`` while jax's own size limit is on (it needs the filelock package).
``CompileStats`` counts programs compiled and loaded from the cache (all threads).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import nullcontext, suppress
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NamedTuple

import jax

DEFAULT_MAX_BYTES = 1 << 30
MARKER = ".optbench-cache-marker"  # not "*-cache": jax's eviction globs those
_JAX_FILES = ("-cache", "-atime")
_HIT_EVENT = "/jax/compilation_cache/cache_hits"
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


def default_dir() -> Path:
    """$OPTBENCH_CACHE_DIR, else $XDG_CACHE_HOME (or ~/.cache) / optbench/jax."""
    if os.environ.get("OPTBENCH_CACHE_DIR"):
        return Path(os.environ["OPTBENCH_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "optbench" / "jax"


def _prepare(path: Path) -> None:
    """Create ``path``, mark it as ours and check that a file can be written in it."""
    if path.exists() and not path.is_dir():
        raise ValueError("it is a file, not a folder")
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    if not marker.exists():
        foreign = [p.name for p in path.iterdir() if not p.name.endswith(_JAX_FILES)]
        jax_own = (".lockfile", ".probe-", "xla_gpu_")  # lock, probes, GPU caches
        foreign = [n for n in foreign if not n.startswith(jax_own)]
        if foreign:
            raise ValueError(f"{path} holds other files ({foreign[0]}), not a cache")
        marker.write_text("optbench persistent XLA compilation cache (jax)\n")
    probe = path / f".probe-{os.getpid()}-{threading.get_ident()}"
    probe.write_bytes(b"ok")
    probe.unlink()


def enable(path: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """Turn jax's persistent cache on in ``path``; a one-line warning if it is off."""
    try:
        path = Path(path if path is not None else default_dir()).expanduser().absolute()
        _prepare(path)
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        disable()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        msg = f"compilation cache off: cannot use {path}: {reason}"
        return "".join(c if c.isprintable() else "?" for c in msg)
    from jax._src import compilation_cache

    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    # -1: cache every entry; 0 would let jax substitute a filesystem-specific minimum.
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    # jax's own limit (evicts while running) needs the filelock package.
    limit = max_bytes if max_bytes > 0 and find_spec("filelock") else -1
    try:
        jax.config.update("jax_compilation_cache_max_size", limit)
    except AttributeError:  # older jax: no size limit of its own
        limit = -1
    jax.config.update("jax_compilation_cache_dir", str(path))
    compilation_cache.reset_cache()  # a new folder takes effect only after a reset
    with suppress(OSError, ValueError):  # housekeeping; the cache itself works
        if max_bytes > 0:
            prune(path, max_bytes)
        if limit != -1:
            _backfill_atime(path)
    return None


def disable() -> None:
    """Turn the persistent cache off for this process."""
    from jax._src import compilation_cache

    jax.config.update("jax_compilation_cache_dir", None)
    compilation_cache.reset_cache()


def not_written(skip: bool = True) -> Any:
    """A context in which this thread's compiles are not written to jax's cache (when
    ``skip``): for programs the store keeps whole (bench/exestore.py), where a second
    copy, serialized and compressed again, cost CPU and disk for nothing."""
    try:
        from jax._src import config

        setting = config.persistent_cache_min_compile_time_secs
    except (ImportError, AttributeError):  # jax moved it: written as before
        return nullcontext()
    return setting(float("inf")) if skip else nullcontext()


class Entry(NamedTuple):
    """One cache entry: its key, files, total bytes and last use (ns since epoch)."""

    key: str
    files: tuple[Path, ...]
    nbytes: int
    last_used_ns: int


def entries(path: Path) -> list[Entry]:
    """The jax cache entries in ``path``, least recently used first."""
    groups: dict[str, list[tuple[Path, os.stat_result]]] = {}
    for p in Path(path).iterdir():
        ours = p.name.endswith(_JAX_FILES) and not p.name.startswith(".")
        if ours and p.is_file() and not p.is_symlink():
            groups.setdefault(p.name[:-6], []).append((p, p.stat()))  # -cache, -atime
    out = []
    for key, fs in groups.items():
        used = max(max(s.st_mtime_ns, s.st_atime_ns) for _, s in fs)
        out.append(
            Entry(key, tuple(p for p, _ in fs), sum(s.st_size for _, s in fs), used)
        )
    return sorted(out, key=lambda e: (e.last_used_ns, e.key))


def folder_size(path: Path) -> int:
    """Bytes in the files under ``path`` (0 if it does not exist)."""
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with suppress(OSError):  # removed meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _check_ours(path: Path) -> Path:
    """``path`` resolved, if it is a cache folder we created; else ValueError."""
    real = Path(path).expanduser().resolve()
    if real in (Path("/"), Path.home().resolve()) or real.parent == real:
        raise ValueError(f"refusing to touch {real}")
    if not (real / MARKER).is_file():
        raise ValueError(f"{real} is not an optbench cache (no {MARKER} file)")
    return real


def clear(path: Path) -> int:
    """Delete every file in the cache folder ``path`` but its marker; files removed."""
    real = _check_ours(path)
    files = [Path(r, n) for r, _, names in os.walk(real) for n in names]
    files = [p for p in files if p != real / MARKER]
    for p in files:
        p.unlink(missing_ok=True)
    return len(files)


def prune(path: Path, max_bytes: int) -> int:
    """Delete least recently used entries until ``path`` <= max_bytes; files removed."""
    real = _check_ours(path)
    total, removed = folder_size(real), 0
    if total <= max_bytes:  # every run checks: listing the entries took 70-90 ms
        return 0
    for entry in entries(real):
        if total <= max_bytes:
            break
        for p in entry.files:
            p.unlink(missing_ok=True)
        total, removed = total - entry.nbytes, removed + len(entry.files)
    return removed


def _backfill_atime(path: Path) -> None:
    """Give each ``-cache`` file the ``-atime`` file that jax's eviction needs (from
    one listing of the folder: a check per file took 70 ms of every run, 4000 files)."""
    with os.scandir(path) as listing:
        names = {e.name for e in listing}
    for name in names:
        atime = name[: -len("-cache")] + "-atime"
        if name.endswith("-cache") and not name.startswith(".") and atime not in names:
            (Path(path) / atime).write_bytes(time.time_ns().to_bytes(8, "little"))


_LOCK, _LOCAL = threading.Lock(), threading.local()
_COUNTS = [0, 0, 0.0]  # programs compiled, programs loaded from the cache, seconds
_REGISTERED: list[bool] = []


def _on_event(event: str, **_: Any) -> None:
    """Note a persistent-cache hit on this thread (its compile event follows)."""
    if event == _HIT_EVENT:
        _LOCAL.hit = True


def _on_duration(event: str, secs: float, **_: Any) -> None:
    """Count one backend compile (or load from the cache) and its seconds."""
    if event == _COMPILE_EVENT:
        hit, _LOCAL.hit = getattr(_LOCAL, "hit", False), False
        with _LOCK:
            for counts in (_COUNTS, _thread_counts()):
                counts[1 if hit else 0] += 1
                counts[2] += secs


def count_loaded(seconds: float) -> None:
    """Count one program loaded whole from the store (bench/exestore.py), which
    jax's events do not see, as loaded from the cache."""
    _snapshot()  # the listeners registered, as for jax's own counts
    with _LOCK:
        for counts in (_COUNTS, _thread_counts()):
            counts[1] += 1
            counts[2] += seconds


def _thread_counts() -> list[Any]:
    if not hasattr(_LOCAL, "counts"):
        _LOCAL.counts = [0, 0, 0.0]
    return _LOCAL.counts


def _snapshot(this_thread: bool = False) -> tuple[Any, ...]:
    """The counters now, process-wide or of this thread's compiles; registers the
    listeners on first use."""
    with _LOCK:
        if not _REGISTERED:  # once per process: old jax cannot unregister listeners
            jax.monitoring.register_event_listener(_on_event)
            jax.monitoring.register_event_duration_secs_listener(_on_duration)
            _REGISTERED.append(True)
        return tuple(_thread_counts() if this_thread else _COUNTS)


class CompileStats:
    """Context manager: XLA programs compiled / loaded from cache, and their seconds;
    with ``this_thread``, only the compiles made on the thread that entered it."""

    def __init__(self, this_thread: bool = False) -> None:
        self.this_thread = this_thread
        self._start = self._end = _snapshot(this_thread)

    def __enter__(self) -> CompileStats:
        self._start, self._end = _snapshot(self.this_thread), None
        return self

    def __exit__(self, *exc: object) -> None:
        self._end = _snapshot(self.this_thread)

    def _delta(self, i: int) -> Any:
        """Counter ``i`` since entry (up to exit, or now while active)."""
        return (self._end or _snapshot(self.this_thread))[i] - self._start[i]

    programs_compiled = property(lambda self: self._delta(0), doc="Compiled.")
    programs_from_cache = property(lambda self: self._delta(1), doc="From cache.")
    seconds = property(lambda self: self._delta(2), doc="Compile and load seconds.")

    def as_dict(self) -> dict[str, Any]:
        """The manifest entry."""
        return {
            "programs_compiled": self.programs_compiled,
            "programs_from_cache": self.programs_from_cache,
            "seconds": round(self.seconds, 6),
        }
