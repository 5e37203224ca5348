"""XLA options for the harness's own programs, and the one workaround that sets them.

XLA:CPU runs a while loop as one compiled kernel only when one iteration touches fewer
bytes than ``xla_cpu_small_while_loop_byte_threshold`` (default 1024); our loop bodies
touch 1-4 kB per lane, and off that fast path every iteration costs 10-40x more
(docs/architecture.md; measured by ``python -m bench.speed``). Past 16 MiB per
iteration the per-op overhead is negligible anyway, so bigger loops keep XLA's default.

jax 0.10's ``compile(compiler_options=...)`` cannot set this map-valued option ("No
such compile option"), so ``compile_with_options`` appends it to jax's serialized
CompileOptions (CompileOptionsProto.executable_build_options(3).debug_options(3)
.xla_backend_extra_options(500), which protobuf merges) while it compiles one program.
That swaps a jax function process-wide, so it holds a lock (one swap at a time) and
the swapped function adds the options only on the thread that swapped it: a peer or
an eager operation compiling on another thread meanwhile never sees them. The options
are part of jax's persistent-cache key, so a cached program keeps them.
"""

from __future__ import annotations

import threading
from typing import Any

OPTIONS: dict[str, int] = {"xla_cpu_small_while_loop_byte_threshold": 1 << 24}

# Programs compiled without OPTIONS (jax internals moved) and programs whose while
# loop is not on XLA:CPU's fast path: the manifest records both.
COUNTS = {"compiled_without_options": 0, "off_fast_path": 0}

_LOCK = threading.Lock()


def _proto_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    out, n = bytearray(), number << 3 | 2
    for v in (n, len(payload)):
        while v > 0x7F:
            out.append(v & 0x7F | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out) + payload


def _extra_options(options: dict[str, Any]) -> bytes:
    entries = b""
    for key, value in options.items():
        pair = _proto_field(1, key.encode()) + _proto_field(2, str(value).encode())
        entries += _proto_field(500, pair)
    return _proto_field(3, _proto_field(3, entries))


def compile_with_options(lowered: Any, options: dict[str, Any] | None = None) -> Any:
    """``lowered.compile()`` with ``options`` (default OPTIONS) in DebugOptions'
    xla_backend_extra_options; a plain compile if jax's internals moved."""
    import jax

    options = OPTIONS if options is None else options
    if not options or jax.default_backend() != "cpu":  # XLA:CPU options: CPU only
        return lowered.compile()
    try:
        from jax._src import compiler as jax_compiler
        from jax._src.lib import xla_client

        original = jax_compiler.get_compile_options
        parse = xla_client.CompileOptions.ParseFromString
    except (ImportError, AttributeError):
        COUNTS["compiled_without_options"] += 1
        return lowered.compile()
    extra, owner = _extra_options(options), threading.get_ident()

    def with_backend_options(*args: Any, **kwargs: Any) -> Any:
        compile_options = original(*args, **kwargs)
        if threading.get_ident() != owner:  # another thread's compile: untouched
            return compile_options
        return parse(compile_options.SerializeAsString() + extra)

    with _LOCK:
        jax_compiler.get_compile_options = with_backend_options
        try:
            exe = lowered.compile()
        finally:
            jax_compiler.get_compile_options = original
    if options is OPTIONS and not on_fast_path(exe):
        COUNTS["off_fast_path"] += 1
    return exe


def on_fast_path(exe: Any) -> bool:
    """Whether XLA:CPU compiled the program's while loop into one kernel (a call to
    ``xla_cpu_small_call`` in the optimized HLO); True off CPU, where it does not
    apply."""
    import jax

    if jax.default_backend() != "cpu":
        return True
    try:
        return "xla_cpu_small_call" in exe.as_text()
    except Exception:  # noqa: BLE001  (as_text is informational only)
        return True
