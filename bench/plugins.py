"""Plugins: a user's Python file or module that registers optimizers and problems.

A plugin uses the public decorators, exactly as the built-ins do::

    import optimizers, problems

    @optimizers.register("polyak")
    def polyak(f_star: float = 0.0) -> optimizers.Optimizer: ...

    @problems.register("my_problem")
    def my_problem(n: int = 5) -> problems.Problem: ...

``load(["my_opts.py", "mypkg.my_module"])`` imports each (a path ends in ``.py`` or
names a file; anything else is a dotted module name) once per process; a file loaded
again unchanged is skipped, a changed one replaces the names it registered before.
What a plugin registered is recorded (``records()``: its path, the SHA-256 of its
source, its names) for the manifest and ``list``. A plugin that cannot be loaded (no
such file, a syntax error, an exception on import, a name already registered) is a
ValueError of one line naming the plugin, with file and line where Python gives one;
its registrations are rolled back. Reports are built from the tables and never load
a plugin.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple


class Plugin(NamedTuple):
    ref: str  # as the user wrote it (path or module name)
    path: str  # the source file, absolute
    sha256: str  # of the source file's bytes
    optimizers: tuple[str, ...]  # the names it registered
    problems: tuple[str, ...]


# source path -> the plugin loaded from it, in load order
_LOADED: dict[str, Plugin] = {}


def load(refs: Iterable[str]) -> list[Plugin]:
    """Load each plugin (paths relative to the working folder; a config makes its
    own relative to the config file)."""
    return [load_one(ref) for ref in refs]


def load_one(ref: str) -> Plugin:
    """Import one plugin and record what it registered (see the module docstring)."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError(
            f"plugin {ref!r}: a plugin is a Python file (FILE.py) or a dotted module "
            "name"
        )
    if is_path(ref):
        path = Path(ref).expanduser().resolve()
        if not path.is_file():
            raise ValueError(
                f"plugin {ref}: no such file ({path}); a plugin is a Python file "
                "(FILE.py) or an importable dotted module name"
            )
        return _load(ref, path, None)
    try:
        spec = importlib.util.find_spec(ref)
    except Exception as exc:  # noqa: BLE001  (a parent package is absent or raised)
        what = f"{type(exc).__name__}: {exc}"
        raise ValueError(f"plugin {ref}: cannot find the module ({what})") from None
    if spec is None or spec.origin is None or not Path(spec.origin).is_file():
        raise ValueError(
            f"plugin {ref}: no such module; a plugin is a Python file (FILE.py) or an "
            "importable dotted module name"
        )
    return _load(ref, Path(spec.origin).resolve(), ref)


def records() -> list[dict]:
    """Every plugin loaded in this process, for the run manifest."""
    return [p._asdict() for p in _LOADED.values()]


def origin(kind: str, name: str) -> Plugin | None:
    """The plugin that registered optimizer or problem ``name`` (``kind``), if any."""
    for p in _LOADED.values():
        if name in getattr(p, kind):
            return p
    return None


def is_path(ref: str, base: str | Path | None = None) -> bool:
    """A file path (ends in .py, has a /, or names a file), not a module name."""
    return ref.endswith(".py") or "/" in ref or Path(base or ".", ref).is_file()


def _load(ref: str, path: Path, module: str | None) -> Plugin:
    import optimizers
    import problems

    source = path.read_bytes()
    sha = hashlib.sha256(source).hexdigest()
    old = _LOADED.get(str(path))
    if old is not None and old.sha256 == sha:
        return old
    if old is not None:  # changed since: its names go, the new source registers
        unload(old)
    name = module or f"_optbench_plugin_{path.stem}_{sha[:12]}"
    before = (set(optimizers.names()), set(problems.names()))
    try:
        if module is not None:
            sys.modules.pop(module, None)
            importlib.import_module(module)
        else:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod  # as import does: dataclasses and pickle need it
            spec.loader.exec_module(mod)
    except BaseException as exc:
        sys.modules.pop(name, None)
        unload(_registered(ref, path, sha, before))
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ValueError(_describe(ref, path, exc)) from None
    plugin = _registered(ref, path, sha, before)
    _LOADED[str(path)] = plugin
    return plugin


def _registered(ref: str, path: Path, sha: str, before: tuple[set, set]) -> Plugin:
    import optimizers
    import problems

    new_opts = tuple(sorted(set(optimizers.names()) - before[0]))
    new_probs = tuple(sorted(set(problems.names()) - before[1]))
    return Plugin(ref, str(path), sha, new_opts, new_probs)


def unload(plugin: Plugin) -> None:
    """Forget a plugin and every name it registered."""
    import optimizers
    import problems

    for n in plugin.optimizers:
        optimizers.unregister(n)
    for n in plugin.problems:
        problems.unregister(n)
    _LOADED.pop(plugin.path, None)


def _describe(ref: str, path: Path, exc: BaseException) -> str:
    """``plugin REF:LINE: what`` on one line; the line is the plugin's own (for a
    syntax error, Python's), else the last line of the plugin in the traceback."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        line = exc.lineno
        what = f"SyntaxError: {exc.msg}"
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).resolve() == path:
                line = frame.lineno
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    where = f"{ref}:{line}" if line else ref
    return " ".join(f"plugin {where}: {what}".split())
