"""Compiled programs stored whole, so that a warm run skips tracing and lowering too.

jax's persistent cache (bench/cache.py) is keyed by the lowered program, so a cache
hit still pays for tracing and lowering: 0.13-0.5 s per program, most of a warm run's
compile time. This store keys a program by what decides it instead: the names of the
problem's and optimizer's functions (with anything their closures and defaults hold),
the program's shapes and options, a digest of this project's source, the versions of
jax, jaxlib and optax, the backend, device and CPU, and whether float64 is on. A
program whose functions are not all this project's (a plugin, a notebook's Problem,
an optax alias, a CUTEst problem from sif2jax) has no such key and takes jax's cache
as before. Entries are ``exe-<sha256>-cache`` files in the persistent cache's folder,
so they count towards its size limit and ``python -m bench cache --clear`` removes
them; the store is on exactly when that cache is (``--no-cache`` turns both off).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import threading
import time
import types
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np

_OURS = ("bench", "optimizers", "problems")
# one (de)serialization at a time: two threads loading at once crashed XLA:CPU
# (a segmentation fault in deserialize_and_load, with the compile-ahead threads)
_LOCK = threading.Lock()


class _Unkeyable(Exception):
    """A part of the program is not this project's: no stable key."""


def _part(v: Any, depth: int = 0) -> Any:
    """A stable, printable stand-in for one part of a program key."""
    if depth > 8:
        raise _Unkeyable
    if v is None or isinstance(v, bool | int | float | str | bytes):
        return v
    if isinstance(v, np.dtype | type) and not isinstance(v, types.FunctionType):
        return str(v)
    if isinstance(v, tuple | list):
        return tuple(_part(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((str(k), _part(x, depth + 1)) for k, x in v.items()))
    if isinstance(v, jax.tree_util.PyTreeDef):
        return str(v)
    if isinstance(v, np.ndarray | jax.Array | np.generic):
        a = np.asarray(v)
        return ("array", str(a.dtype), a.shape, hashlib.sha256(a.tobytes()).hexdigest())
    if isinstance(v, functools.partial):
        return ("partial", _part(v.func, depth + 1), _part(v.args, depth + 1),
                _part(v.keywords, depth + 1))  # fmt: skip
    if isinstance(v, types.FunctionType):
        module = v.__module__ or ""
        if module.split(".")[0] not in _OURS:
            raise _Unkeyable
        try:
            cells = tuple(c.cell_contents for c in v.__closure__ or ())
        except ValueError:  # a cell not filled yet
            raise _Unkeyable from None
        code = hashlib.sha256(v.__code__.co_code).hexdigest()  # two lambdas on a line
        return (module, v.__qualname__, code, _part(cells, depth + 1),
                _part(v.__defaults__, depth + 1),
                _part(v.__kwdefaults__, depth + 1))  # fmt: skip
    raise _Unkeyable


@functools.cache
def _source_digest() -> str:
    """sha256 over this project's Python files: any change of code gives new keys."""
    h = hashlib.sha256()
    for pkg in _OURS:
        root = Path(__import__(pkg).__file__).parent
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def _platform() -> tuple:
    import jaxlib

    from bench import fingerprint, xla

    try:  # our functions may call optax's at trace time; importing it costs 0.3 s
        optax_version = metadata.version("optax")
    except metadata.PackageNotFoundError:
        optax_version = None
    device = jax.devices()[0]
    isa = fingerprint.cpu().get("isa") if device.platform == "cpu" else None
    return (jax.__version__, jaxlib.__version__, optax_version, device.platform,
            device.device_kind, tuple(isa or ()), os.environ.get("XLA_FLAGS", ""),
            _part(xla.described()))  # fmt: skip


def key(program_key: tuple) -> str | None:
    """The store's key for ``driver.program_key``'s tuple; None when the program
    holds a function that is not this project's."""
    if _platform()[3] != "cpu":  # see _runtime_ready
        return None
    try:
        parts = _part(program_key)
    except _Unkeyable:
        return None
    x64 = bool(jax.config.jax_enable_x64)  # thread-local under jax.enable_x64(...)
    text = repr((parts, x64, _platform(), _source_digest()))
    return hashlib.sha256(text.encode()).hexdigest()


def _folder() -> Path | None:
    """The persistent cache's folder while it is on, else None."""
    folder = jax.config.jax_compilation_cache_dir
    return Path(folder) if folder and jax.config.jax_enable_compilation_cache else None


def _path(k: str) -> Path | None:
    folder = _folder()
    return None if folder is None else folder / f"exe-{k}-cache"


def _used(path: Path) -> None:
    """Its ``-atime`` file, as jax's own entries have: jax's size limit (on with the
    filelock package) reads one for every ``-cache`` file in the folder."""
    with contextlib.suppress(OSError):  # pruned or cleared meanwhile: harmless
        atime = path.with_name(path.name[: -len("-cache")] + "-atime")
        atime.write_bytes(time.time_ns().to_bytes(8, "little"))


def program_name(k: str) -> str:
    """The name a storable program is compiled under: jax's cache key (which starts
    with the module name, ``jit_<name>``) then changes with the store's."""
    return f"optbench_{k[:16]}"


def can_load(k: str | None) -> bool:
    """Whether a program of store key ``k`` (None: none) can be loaded back whole."""
    return k is not None and _folder() is not None and _runtime_ready()


def load(k: str | None) -> Any | None:
    """The stored program of key ``k``, or None (no entry, store off, or an entry
    that does not load: it is deleted)."""
    from jax.experimental import serialize_executable

    path = None if k is None else _path(k)
    if path is None or not path.is_file() or not _runtime_ready():
        return None
    try:
        blob, in_tree, out_tree = pickle.loads(path.read_bytes())
        with _LOCK:
            exe = serialize_executable.deserialize_and_load(blob, in_tree, out_tree)
    except Exception:  # noqa: BLE001  (a damaged or foreign entry is a miss)
        path.unlink(missing_ok=True)
        return None
    _used(path)  # last use, for oldest-first pruning
    return exe


@functools.cache
def _runtime_ready() -> bool:
    """Whether a program may be loaded without lowering: on CPU, once jaxlib's
    LAPACK kernels are set up. jax does that when it lowers a linear-algebra call,
    which a loaded program skips: newton's eigh then called an unset kernel (a
    segmentation fault on every Dask worker whose first program was newton's).
    Other backends set up their libraries likewise: the store stays off there."""
    if jax.default_backend() != "cpu":
        return False
    try:
        from jax._src.lax import linalg

        linalg.initialize_lapack()
    except (ImportError, AttributeError):  # jax moved it: load nothing
        return False
    return True


def save(k: str | None, exe: Any) -> None:
    """Store ``exe`` under ``k`` (atomically); silently nothing when the store is
    off or the folder is not writable: the program was compiled either way. Only a
    program compiled in this process: one loaded from jax's cache serializes, but
    XLA:CPU then cannot run it ("NOT_FOUND: Function ... fusion not found")."""
    from jax.experimental import serialize_executable

    path = None if k is None else _path(k)
    if path is None:
        return
    try:
        with _LOCK:
            data = pickle.dumps(serialize_executable.serialize(exe))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        _used(path)
    except Exception:  # noqa: BLE001  (the cache is an optimisation, never a failure)
        return
