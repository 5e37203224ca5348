"""``list``, ``report`` and ``cache``: show what exists; rebuild a report."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from bench import suites
from bench.cli.common import RESULTS_DIR, UsageError, _build_report, _prog, count
from bench.spec import format_value

# ------------------------------------------------------------------------------ list


def cmd_list(args: argparse.Namespace, argv: list[str]) -> int:
    what = args.what
    out: list[str] = []
    if args.plugin:
        from bench import plugins

        plugins.load(args.plugin)
    if args.cutest:
        from problems import cutest

        try:
            dims = cutest.dimensions()
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print("CUTEst unconstrained problems (--problems cutest:NAME), n:")
        print("\n".join(_row(f"cutest:{k}", f"n={v}") for k, v in dims.items()))
        return 0
    if what in ("all", "problems"):
        import problems

        out.append("Problems (--problems 'NAME[k=v,...]'), parameters = defaults:")
        for name in problems.names():
            sig = inspect.signature(problems.constructor(name))
            out.append(_row(name, _signature_params(sig), _plugin("problems", name)))
        out.append("")
    if what in ("all", "optimizers"):
        import optimizers

        out.append("Optimizers (--optimizers 'NAME[k=v,...]'), parameters = defaults:")
        for name in optimizers.names():
            params = _params_text(optimizers.defaults(name))
            out.append(_row(name, params, _plugin("optimizers", name)))
        out.append("")
        out.append(
            "optax's optimizers, run in our driver (optax:NAME[...], optax's "
            "keywords and defaults, lr accepted for learning_rate, whose default is "
            "1e-3 where optax has none):"
        )
        try:
            from optimizers import from_optax

            found = from_optax.aliases()
        except ImportError as exc:
            out.append(f"  (unavailable: {exc})")
        else:
            for method in found:
                name = f"optax:{method}"
                settable = {  # a SPEC sets numbers, bools and strings
                    k: v
                    for k, v in optimizers.defaults(name).items()
                    if v is None or isinstance(v, int | float | str)
                }
                out.append(_row(name, _params_text(settable), _refusal(name)))
        out.append("")
        out.append("Peers (library optimizers run through the same harness):")
        try:
            from bench import peers
        except ImportError as exc:
            out.append(f"  (unavailable: {exc})")
        else:
            for name in peers.PEER_NAMES:
                out.append(_row(name, _params_text(peers.peer_defaults(name))))
        out.append("")
    if what in ("all", "suites"):
        out.append("Suites (--suite NAME):")
        for name in suites.names():
            try:
                s = suites.get(name)
                n, n_p, n_c = suites.summarize(s)
            except ValueError as exc:
                out.append(f"  {name:<10} unavailable: {exc}")
                continue
            knobs = ", ".join(
                f"{k}={v}" for k, v in (("starts", s.starts), ("steps", s.steps)) if v
            )
            out.append(
                f"  {name:<10} {count(n, 'cell'):>10} ({count(n_p, 'problem')} x "
                f"{count(n_c, 'config')}"
                f"{', ' + knobs if knobs else ''}): {s.description}"
            )
        # not sized here: that would import every CUTEst problem
        out.append(f"  {'cutest':<10} CUTEst's unconstrained problems with n <= "
                   "--max-dim (100), via sif2jax (list --cutest names them)")
        out.append("")
    print("\n".join(out).rstrip())
    return 0


def _plugin(kind: str, name: str) -> str:
    from bench import plugins

    p = plugins.origin(kind, name)
    return f"(plugin {p.ref})" if p else ""


def _refusal(name: str) -> str:
    """Why optax alias ``name`` is refused at run time (its update wants more than
    the driver gives), or "": the check traces one step of it with its defaults."""
    import warnings

    import optimizers
    from optimizers.from_optax import REFUSED

    with warnings.catch_warnings():  # optax's deprecation notes, for a listing
        warnings.simplefilter("ignore")
        try:
            optimizers.get(name)
        except ValueError as exc:
            _, refused, reason = str(exc).partition(REFUSED)
            return f"(refused: {reason})" if refused else ""
    return ""


def _row(name: str, params: str, note: str = "") -> str:
    text = f"  {name:<28} {params}" if params else f"  {name}"
    return f"{text}  {note}" if note else text


def _signature_params(sig: inspect.Signature) -> str:
    parts = []
    for p in sig.parameters.values():
        if p.name.startswith("_") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is inspect.Parameter.empty:
            parts.append(f"{p.name}=<required>")
        else:
            parts.append(f"{p.name}={_default_text(p.default)}")
    return ", ".join(parts)


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_default_text(v)}" for k, v in params.items())


def _default_text(v: Any) -> str:
    if v is inspect.Parameter.empty:
        return "<required>"
    if v is None:
        return "none"
    return format_value(v)


# ---------------------------------------------------------------------------- report


def latest_run(root: Path = RESULTS_DIR) -> Path:
    """The newest folder under ``root`` that holds a runs.parquet."""
    found = [p.parent for p in root.glob("*/runs.parquet")] if root.is_dir() else []
    if not found:
        raise UsageError(
            f"no run folder with a runs.parquet under {root}/; give RUN_DIR or run "
            f"'{_prog()} run' first"
        )
    return max(found, key=lambda p: ((p / "runs.parquet").stat().st_mtime, p.name))


def cmd_report(args: argparse.Namespace, argv: list[str]) -> int:
    if args.run_dir is None:
        run_dir = latest_run()
    else:
        run_dir = Path(args.run_dir)
        if not run_dir.is_dir():
            raise UsageError(f"RUN_DIR {run_dir} is not a folder")
        has_parts = (run_dir / "parts").is_dir()  # a killed run's rows
        if not (run_dir / "runs.parquet").is_file() and not has_parts:
            raise UsageError(
                f"{run_dir} has no runs.parquet; RUN_DIR must be a folder written by "
                f"'{_prog()} run'"
            )
    from bench.report import draw

    draw.start_early()  # their imports overlap the tables' reading: see draw.py
    try:
        report_dir = _build_report(run_dir, args.formats)
    finally:
        draw.stop_early()  # if the report failed before it took them
    print(f"report:   {report_dir / 'index.html'}")
    print(f"markdown: {report_dir / 'report.md'}")
    return 0


# ----------------------------------------------------------------------------- cache


def cmd_cache(args: argparse.Namespace, argv: list[str]) -> int:
    from bench import cache

    path = cache.default_dir()
    if path.exists() and not path.is_dir():
        raise ValueError(f"cache folder {path} is a file, not a folder "
                         "(OPTBENCH_CACHE_DIR names the folder)")  # fmt: skip
    entries = len(cache.entries(path)) if path.is_dir() else 0
    if args.clear:
        removed = cache.clear(path)
        print(f"cache: {path}: removed {entries} entries ({removed} files)")
        return 0
    size = cache.folder_size(path) if path.is_dir() else 0
    print(
        f"cache: {path}\nentries: {entries}\nsize: {size / 2**20:.1f} MiB "
        f"(limit {cache.DEFAULT_MAX_BYTES / 2**20:.0f} MiB)"
    )
    return 0
