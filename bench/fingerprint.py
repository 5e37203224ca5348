"""The environment a run's numbers depend on, and which part each kind of number
depends on (``python -m bench compare``, docs/ci.md).

Oracle counts come out of XLA programs: they depend on the jax and jaxlib versions
(XLA's code generation), the precision, the backend and the CPU's instruction-set
extensions (XLA:CPU compiles for the host: an AVX-512 machine vectorises a reduction
differently from an AVX2 one, which can move a line search's rounding by one
trial). numpy and the CPU model move times only: numpy draws the starts and the data
(checked separately, by each run's f(x0)), and two CPUs with the same extensions run
the same code at different speeds.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Any

# the parts of the fingerprint oracle counts depend on; the rest moves times only
COUNT_KEYS = ("jax", "jaxlib", "precision", "backend", "isa")
TIME_KEYS = COUNT_KEYS + ("numpy", "cpu_model")

# instruction-set extensions that change the code XLA:CPU emits (x86 and Arm)
_ISA = re.compile(
    r"^(sse|sse\d\S*|ssse3|avx\S*|fma\S*|f16c|amx\S*|asimd\S*|sve\S*|sme\d*)$"
)


def cpu() -> dict[str, Any]:
    """The CPU model and its vector/arithmetic instruction-set extensions."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model") and value.strip():
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = sorted(f for f in value.split() if _ISA.match(f))
    return {"model": model, "isa": flags}


def of_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint (keys TIME_KEYS) of a run from its manifest.json."""
    versions = manifest.get("versions") or {}
    plat = manifest.get("platform") or {}
    cpu_info = plat.get("cpu") or {}
    devices = plat.get("jax_devices") or []
    backend = sorted({str(d).split(":")[0].lower() for d in devices})  # "cpu:0"
    return {
        "jax": versions.get("jax"),
        "jaxlib": versions.get("jaxlib"),
        "precision": manifest.get("precision"),
        "backend": ",".join(backend) or None,
        "isa": " ".join(cpu_info.get("isa") or []) or None,
        "numpy": versions.get("numpy"),
        "cpu_model": cpu_info.get("model") or plat.get("processor"),
    }


def differences(base: dict[str, Any], new: dict[str, Any], keys=TIME_KEYS) -> dict:
    """{key: (base value, new value)} for the keys whose values differ."""
    return {k: (base.get(k), new.get(k)) for k in keys if base.get(k) != new.get(k)}
