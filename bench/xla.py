"""XLA options for the harness's own programs, and the one workaround that sets them.

XLA:CPU runs a while loop as one compiled kernel only when one iteration touches fewer
bytes than ``xla_cpu_small_while_loop_byte_threshold`` (default 1024); our loop bodies
touch 1-4 kB per lane, and off that fast path every iteration costs 10-40x more
(docs/architecture.md; measured by ``python -m bench.speed``). Past 16 MiB per
iteration the per-op overhead is negligible anyway, so bigger loops keep XLA's default.

XLA:CPU's newer MLIR fusion emitters (``xla_cpu_use_fusion_emitters``, on by default)
made each program's compile about a quarter slower than its classic emitters, for
loops that ran within a few percent of the same speed either way (0.85-1.15x, one
lane and eight, measured on 13 optimizer x problem programs); the default suite's
cold run is compile-bound, so ``DEBUG_FIELDS`` turns them off for our programs.

jax 0.10's ``compile(compiler_options=...)`` cannot set these ("No such compile
option"), so ``compile_with_options`` appends them to jax's serialized CompileOptions
(CompileOptionsProto.executable_build_options(3).debug_options(3): the map
xla_backend_extra_options(500) and the fields of DEBUG_FIELDS, which protobuf merges)
while it compiles one program. That replaces a jax function process-wide, once; the
replacement adds them only while this thread is inside ``compile_with_options``, so a
peer or an eager operation compiling on another thread never sees them, and two
compile threads compile side by side. They are part of jax's persistent-cache key,
so a cached program keeps them.
"""

from __future__ import annotations

import threading
from typing import Any

OPTIONS: dict[str, int] = {"xla_cpu_small_while_loop_byte_threshold": 1 << 24}
# DebugOptions scalar fields set with OPTIONS: name -> (number in xla.proto, value: a
# bool or an int >= 0, written as a varint). One LLVM module per program, not XLA's
# default 32 parts compiled apart: our two compile threads already use both cores
# (about 12% less compile CPU for six programs, 5% for the default suite's cold run;
# run time unchanged, 0.93-1.16x over 13 programs).
DEBUG_FIELDS: dict[str, tuple[int, int]] = {
    "xla_cpu_use_fusion_emitters": (376, False),
    "xla_cpu_parallel_codegen_split_count": (323, 1),
}

# Programs compiled without OPTIONS (jax internals moved) and programs whose while
# loop is not on XLA:CPU's fast path: the manifest records both.
COUNTS = {"compiled_without_options": 0, "off_fast_path": 0}

_INSTALL_LOCK = threading.Lock()
_THIS_THREAD = threading.local()  # .extra: the serialized options this thread adds


def _varint(v: int) -> bytes:
    if v < 0:
        raise ValueError(f"a varint here is >= 0, got {v}")
    out = bytearray()
    while v > 0x7F:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _proto_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _debug_options(options: dict[str, Any]) -> bytes:
    """``options`` as xla_backend_extra_options entries, then DEBUG_FIELDS (varints,
    wire type 0), wrapped as CompileOptionsProto's debug options."""
    entries = b""
    for key, value in options.items():
        pair = _proto_field(1, key.encode()) + _proto_field(2, str(value).encode())
        entries += _proto_field(500, pair)
    for number, value in DEBUG_FIELDS.values():
        entries += _varint(number << 3) + _varint(int(value))
    return _proto_field(3, _proto_field(3, entries))


def _installed() -> bool:
    """Replace jax's get_compile_options, once, by one that appends this thread's
    options (if any); False if jax's internals moved."""
    try:
        from jax._src import compiler as jax_compiler
        from jax._src.lib import xla_client
    except ImportError:
        return False
    with _INSTALL_LOCK:
        original = getattr(jax_compiler, "get_compile_options", None)
        parse = getattr(xla_client.CompileOptions, "ParseFromString", None)
        if original is None or parse is None:
            return False
        if getattr(original, "_optbench", False):
            return True

        def with_backend_options(*args: Any, **kwargs: Any) -> Any:
            compile_options = original(*args, **kwargs)
            extra = getattr(_THIS_THREAD, "extra", None)
            if extra is None:  # not inside compile_with_options on this thread
                return compile_options
            return parse(compile_options.SerializeAsString() + extra)

        with_backend_options._optbench = True  # type: ignore[attr-defined]
        jax_compiler.get_compile_options = with_backend_options
    return True


def compile_with_options(lowered: Any, options: dict[str, Any] | None = None) -> Any:
    """``lowered.compile()`` with ``options`` (default OPTIONS) in DebugOptions'
    xla_backend_extra_options and DEBUG_FIELDS set; a plain compile if ``options`` is
    empty, off CPU, or if jax's internals moved."""
    import jax

    options = OPTIONS if options is None else options
    if not options or jax.default_backend() != "cpu":  # XLA:CPU options: CPU only
        return lowered.compile()
    if not _installed():
        COUNTS["compiled_without_options"] += 1
        return lowered.compile()
    outer = getattr(_THIS_THREAD, "extra", None)
    _THIS_THREAD.extra = _debug_options(options)
    try:
        exe = lowered.compile()
    finally:
        _THIS_THREAD.extra = outer
    if options is OPTIONS and not on_fast_path(exe):
        COUNTS["off_fast_path"] += 1
    return exe


def described() -> dict[str, Any]:
    """What our programs are compiled with on CPU, by option name (the manifest's)."""
    return {**OPTIONS, **{name: v for name, (_, v) in DEBUG_FIELDS.items()}}


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
