"""The manifest's platform block as a few readable lines for the report's header."""

from __future__ import annotations

from typing import Any


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} {_value(x)}" for k, x in v.items() if x is not None)
    return str(v)


def platform_items(platform: Any) -> list[tuple[str, str]]:
    """(label, text) lines: machine, threads, XLA, load; other keys as 'key value'."""
    if not isinstance(platform, dict) or not platform:
        return []
    p = dict(platform)
    pop = p.pop
    lines = []
    cpus = pop("cpu_count", None), pop("cpus_usable", None)
    machine = [str(x) for x in (pop("machine", None), pop("processor", None)) if x]
    machine = list(dict.fromkeys(machine))
    if cpus[0] is not None:
        usable = f" ({cpus[1]} usable)" if cpus[1] not in (None, cpus[0]) else ""
        machine.append(f"{cpus[0]} CPUs{usable}")
    devices = pop("jax_devices", None)
    if devices:
        machine.append(f"jax devices {_value(devices)}")
    x64 = pop("jax_x64", None)
    if x64 is not None:
        machine.append("float64 on" if x64 else "float64 off")
    lines.append(("platform", ", ".join(machine)))
    threads = []
    if "numpy_blas" in p or "blas_threads" in p:
        blas, n = pop("numpy_blas", "?"), _value(pop("blas_threads", "?"))
        threads.append(f"BLAS {blas}, {n} thread(s)")
    env = pop("thread_env", None) or {}
    set_vars = {k: v for k, v in env.items() if v is not None}
    if env:
        threads.append(
            ("set: " + _value(set_vars)) if set_vars else f"unset: {', '.join(env)}"
        )
    lines.append(("threads", "; ".join(threads)))
    xla = []
    if "our_compiler_options" in p:
        xla.append(f"our options: {_value(pop('our_compiler_options')) or 'none'}")
    counts = pop("xla", None)
    if counts:
        xla.append(_value(counts).replace("_", " "))
    if "jax_compilation_cache_dir" in p:
        cache = pop("jax_compilation_cache_dir")
        xla.append(f"compilation cache {cache or 'off'}")
    lines.append(("XLA", "; ".join(xla)))
    load = pop("loadavg_start", None)
    if load:
        lines.append(("load average at start (1, 5, 15 min)", _value(load)))
    lines += [(k.replace("_", " "), _value(v)) for k, v in p.items() if v is not None]
    return [(k, v) for k, v in lines if v]
