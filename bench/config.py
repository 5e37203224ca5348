"""TOML configs: a suite and settings from a file (``python -m bench run --config``).

TOML config (``python -m bench run --config FILE.toml``), every key optional::

    suite = "mine"              # run name; or a built-in suite to start from
    description = "..."
    problems = ["rosenbrock[n=[2,10]]", "quadratic[kappa=1e3]"]
    optimizers = ["bfgs", "adam[lr=[1e-3,1e-2]]", "scipy:L-BFGS-B"]
    starts = 4                  # settings: command-line flags win over these
    steps = 500
    max_njev = 1000             # optional gradient-evaluation budget per run
    gtol = 1e-10
    tol = 1e-8
    seed = 0
    precision = "float64"       # or ["float32", "float64"]: both, one run
    trace = "log:50"            # trace rows kept: full, every:K or log:N

    plugins = ["my_opts.py", "mypkg.my_module"]  # files relative to this file

    [tune]                      # the tuning protocol (bench.tuning), like --tune
    lr = "log:1e-4:1:13"

    [[groups]]                  # more groups, each its own problems x optimizers
    problems = ["mlp"]
    optimizers = ["adam[lr=[3e-3,1e-2,3e-2]]"]

Top-level ``problems`` and ``optimizers`` together form the config's first group. With
groups, the config is a suite of its own. Without, ``suite`` (default "default") must
name a built-in suite, and a lone ``problems`` or ``optimizers`` list overrides its
selection the way the command-line flags do.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.spec import SpecError, parse_spec
from bench.suites import Group, Suite, get, names, override

SETTING_KEYS = ("starts", "steps", "max_njev", "gtol", "tol", "seed", "precision",
                "trace", "tune")  # fmt: skip
_CONFIG_KEYS = ("suite", "description", "problems", "optimizers", "groups", "plugins")
MAX_CONFIG_BYTES = 2**20


@dataclass(frozen=True)
class Config:
    suite: Suite
    settings: dict[str, Any] = field(default_factory=dict)  # keys of SETTING_KEYS
    plugins: tuple[str, ...] = ()  # files (absolute) and module names, to load first


def load_config(path: str | Path) -> Config:
    """Read a TOML config (format in the module docstring). ValueError / OSError /
    tomllib.TOMLDecodeError on a bad one, the message naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)  # /dev/zero must not read forever
        if len(raw) > MAX_CONFIG_BYTES:
            raise ValueError(
                f"config {path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a "
                "config is a short TOML file (see --help)"
            )
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"config {path} is not UTF-8 text (byte {exc.start}); --config takes a "
            "TOML file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config {path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ValueError(
            f"cannot read config {path}: {exc.strerror or exc}; --config takes a "
            "TOML file (see --help)"
        ) from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: str | Path = "config") -> Config:
    where = f"config {path}"
    unknown = sorted(set(data) - set(_CONFIG_KEYS) - set(SETTING_KEYS))
    if unknown:
        raise ValueError(
            f"{where}: unknown key {', '.join(unknown)}; "
            f"accepted: {', '.join(_CONFIG_KEYS + SETTING_KEYS)}"
        )
    name = _str(data, "suite", where)
    description = _str(data, "description", where) or ""
    problems = _specs(data, "problems", where)
    optimizers = _specs(data, "optimizers", where)
    groups = []
    raw_groups = data.get("groups", [])
    if not isinstance(raw_groups, list):
        raise ValueError(f"{where}: groups must be an array of tables ([[groups]])")
    for i, g in enumerate(raw_groups):
        gw = f"{where}: groups[{i}]"
        if not isinstance(g, dict):
            raise ValueError(f"{gw} must be a table with problems and optimizers")
        extra = sorted(set(g) - {"problems", "optimizers", "note"})
        if extra:
            raise ValueError(
                f"{gw}: unknown key {', '.join(extra)}; accepted: problems, "
                "optimizers, note"
            )
        gp, go = _specs(g, "problems", gw), _specs(g, "optimizers", gw)
        if not gp or not go:
            raise ValueError(f"{gw} needs non-empty problems and optimizers lists")
        groups.append(Group(tuple(gp), tuple(go), _str(g, "note", gw) or ""))

    if groups:
        if (problems is None) != (optimizers is None):
            raise ValueError(
                f"{where}: with [[groups]], give both top-level problems and "
                "optimizers (they form the first group) or neither"
            )
        if problems is not None and optimizers is not None:
            groups.insert(0, Group(tuple(problems), tuple(optimizers)))
        suite = Suite(name or path_stem(path), tuple(groups), description)
    elif problems is not None and optimizers is not None:
        suite = Suite(
            name or path_stem(path),
            (Group(tuple(problems), tuple(optimizers)),),
            description,
        )
    else:
        base_name = name or "default"
        if base_name not in names():
            raise ValueError(
                f"{where}: suite {base_name!r} is not built in ({', '.join(names())}); "
                "to define a suite, give both problems and optimizers, or [[groups]]"
            )
        suite = override(get(base_name), problems, optimizers)
        if description:
            suite = replace(suite, description=description)

    if isinstance(data.get("tune"), dict) and len(data["tune"]) == 1:
        # [tune] lr = "log:1e-4:1:13" is the flag's lr=log:1e-4:1:13
        ((key, grid),) = data["tune"].items()
        data = {**data, "tune": f"{key}={grid}"}
    # checked, and as stored (precision: a TOML list becomes "float32,float64")
    settings = {k: check_setting(k, data[k], where) for k in SETTING_KEYS if k in data}
    _check_specs(suite, where)
    return Config(suite, settings, _plugins(data, path, where))


def _plugins(data: dict[str, Any], path: str | Path, where: str) -> tuple[str, ...]:
    """The config's plugins, paths made relative to the config file's folder."""
    from bench.plugins import is_path

    refs = data.get("plugins", [])
    if not isinstance(refs, list) or not all(
        isinstance(r, str) and r.strip() for r in refs
    ):
        raise ValueError(
            f"{where}: plugins must be a list of Python files or module names, e.g. "
            'plugins = ["my_opts.py", "mypkg.my_module"]'
        )
    base = Path(path).parent
    return tuple(str(base / r) if is_path(r, base) else r for r in refs)


def path_stem(path: str | Path) -> str:
    return Path(path).stem or "config"


def _str(data: dict[str, Any], key: str, where: str) -> str | None:
    v = data.get(key)
    if v is not None and (not isinstance(v, str) or not v.strip()):
        raise ValueError(f"{where}: {key} must be a non-empty string, got {v!r}")
    return v


def _specs(data: dict[str, Any], key: str, where: str) -> list[str] | None:
    v = data.get(key)
    if v is None:
        return None
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        raise ValueError(
            f"{where}: {key} must be a non-empty list of SPEC strings, e.g. "
            f'{key} = ["{"rosenbrock[n=[2,10]]" if key == "problems" else "bfgs"}"]'
        )
    for s in v:
        try:
            parse_spec(s)
        except SpecError as exc:
            raise ValueError(f"{where}: {key}: {exc}") from None
    return v


def _check_specs(suite: Suite, where: str) -> None:
    for g in suite.groups:
        for s in (*g.problems, *g.optimizers):
            try:
                parse_spec(s)
            except SpecError as exc:
                raise ValueError(f"{where}: {exc}") from None


def check_setting(key: str, value: Any, where: str = "", name: str = "") -> Any:
    """Validate one run setting; ValueError saying what is accepted. ``where`` prefixes
    the message (a config file); ``name`` is how the setting was spelt (``--tol``)."""
    from bench.solving import check_tolerance  # here: jax only when a run is checked
    from optimizers.base import check_count

    prefix = f"{where}: " if where else ""
    name = name or key
    try:
        if key in ("starts", "steps", "max_njev"):
            check_count(name, value)
        elif key == "seed":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        elif key in ("gtol", "tol"):
            check_tolerance(name, value)
        elif key == "tune":
            from bench.tuning import parse_tune

            if not isinstance(value, str):
                raise ValueError(f"{name} takes a string: lr=log:1e-4:1:13")
            parse_tune(value)
        elif key == "precision":
            from bench.precision import canonical

            value = canonical(value, name)
        elif key == "trace":
            from bench import thinning

            value = thinning.check(value, name)
        else:
            raise ValueError(f"unknown setting {key!r}")
    except ValueError as exc:
        raise ValueError(f"{prefix}{exc}") from None
    return value
