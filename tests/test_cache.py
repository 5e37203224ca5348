"""The persistent XLA compilation cache: reuse across processes, bad folders, upkeep."""

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from jax._src import compilation_cache

from bench import cache

ROOT = Path(__file__).resolve().parents[1]
_JAX_KEYS = (
    "jax_compilation_cache_dir",
    "jax_enable_compilation_cache",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
    "jax_compilation_cache_max_size",
)
# The second process: same program (same name, constant and x64 mode), cache folder
# from $OPTBENCH_CACHE_DIR; prints its CompileStats.
_SECOND = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
from bench import cache
C = float(sys.argv[1])
def program(x):
    return x * C + 1.0
assert cache.enable() is None
with cache.CompileStats() as stats:
    float(jax.jit(program)(2.0))
print(json.dumps(stats.as_dict()))
"""


@pytest.fixture(autouse=True)
def _restore_jax_cache():
    """jax's cache is process-wide: put its settings back after each test."""
    before = {key: getattr(jax.config, key) for key in _JAX_KEYS}
    yield
    for key, value in before.items():
        jax.config.update(key, value)
    compilation_cache.reset_cache()


def _jitted(c: float):
    """A fresh jit of x * c + 1 (its own lowering, so no in-memory cache hit)."""

    def program(x):
        return x * c + 1.0

    return jax.jit(program)


def _program():
    """A jitted function with a fresh constant, so no cache holds it yet."""
    c = 1.0 + uuid.uuid4().int % 10**9 / 1e12
    return _jitted(c), c


def _fake_cache(folder: Path, n: int, size: int = 100) -> list[Path]:
    """A marked folder with ``n`` entries of ``size`` bytes, oldest first."""
    folder.mkdir()
    (folder / cache.MARKER).touch()
    paths = []
    for i in range(n):
        p = folder / f"jit_f{i}-cache"
        p.write_bytes(b"x" * size)
        os.utime(p, (1e9 + 10 * i, 1e9 + 10 * i))
        paths.append(p)
    return paths


def test_second_process_loads_from_the_cache(tmp_path):
    folder = tmp_path / "xla"
    program, c = _program()
    assert cache.enable(folder) is None
    assert (folder / cache.MARKER).is_file()
    with cache.CompileStats() as first:
        assert float(program(2.0)) == pytest.approx(2 * c + 1)
    assert first.programs_compiled >= 1 and first.programs_from_cache == 0
    assert first.seconds > 0 and len(cache.entries(folder)) >= 1

    env = {**os.environ, "JAX_PLATFORMS": "cpu", "OPTBENCH_CACHE_DIR": str(folder)}
    run = subprocess.run(
        [sys.executable, "-c", _SECOND, repr(c)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    second = json.loads(run.stdout.strip().splitlines()[-1])
    assert second["programs_from_cache"] >= 1, second
    assert second["programs_compiled"] == 0, second
    assert set(second) == {"programs_compiled", "programs_from_cache", "seconds"}


def test_unusable_folder_warns_and_leaves_the_cache_off(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("keep me")
    assert cache.enable(tmp_path / "good") is None  # on; a bad folder turns it off
    for bad in (blocker / "xla", blocker, "bad\0path", project):
        warning = cache.enable(bad)
        assert isinstance(warning, str) and warning, bad
        assert "\n" not in warning and warning.isprintable()
        assert jax.config.jax_compilation_cache_dir is None
    assert "other files" in cache.enable(project)
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    program, c = _program()
    assert float(program(1.0)) == pytest.approx(c + 1)  # compiling still works


def test_prune_removes_least_recently_used_first(tmp_path):
    folder = tmp_path / "xla"
    paths = _fake_cache(folder, 5)
    used = folder / "jit_f0-atime"  # f0 is oldest by its -cache file, but used last
    used.write_bytes(b"\0" * 8)
    os.utime(used, (2e9, 2e9))
    assert [e.key for e in cache.entries(folder)][-1] == "jit_f0"
    assert cache.folder_size(folder) == 508
    assert cache.prune(folder, 350) == 2
    assert cache.folder_size(folder) <= 350
    assert [p.exists() for p in paths] == [True, False, False, True, True]
    assert used.exists() and (folder / cache.MARKER).exists()
    assert cache.prune(folder, 350) == 0


def test_each_entry_gets_the_atime_file_jax_evicts_by(tmp_path):
    folder = tmp_path / "xla"
    _fake_cache(folder, 3)
    kept = folder / "jit_f1-atime"
    kept.write_bytes(b"\1" * 8)
    cache._backfill_atime(folder)
    atimes = sorted(p.name for p in folder.glob("*-atime"))
    assert atimes == ["jit_f0-atime", "jit_f1-atime", "jit_f2-atime"]
    assert kept.read_bytes() == b"\1" * 8  # an entry's own last use is kept
    assert not (folder / (cache.MARKER + "-atime")).exists()


def test_enable_prunes_to_its_limit(tmp_path):
    folder = tmp_path / "xla"
    _fake_cache(folder, 5)
    assert cache.enable(folder, max_bytes=250) is None
    assert [e.key for e in cache.entries(folder)] == ["jit_f3", "jit_f4"]


def test_clear_and_prune_only_touch_marked_folders(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "jit_f-cache").write_text("someone else's")
    for folder in (plain, Path("/"), Path.home(), tmp_path / "missing"):
        with pytest.raises(ValueError):
            cache.clear(folder)
        with pytest.raises(ValueError):
            cache.prune(folder, 0)
    assert (plain / "jit_f-cache").exists()

    folder = tmp_path / "xla"
    _fake_cache(folder, 3)
    (folder / "sub").mkdir()
    (folder / "sub" / "autotune").write_text("gpu autotune results")
    assert cache.clear(folder) == 4
    assert [p.name for p in folder.rglob("*") if p.is_file()] == [cache.MARKER]
    assert cache.entries(folder) == [] and cache.folder_size(folder) == 0


def test_compile_stats_counts_worker_threads_and_freezes_on_exit():
    program, _ = _program()
    with cache.CompileStats() as stats:
        worker = threading.Thread(target=lambda: float(program(2.0)))
        worker.start()
        worker.join()
        assert stats.programs_compiled >= 1
    frozen = stats.as_dict()
    other, _ = _program()
    float(other(2.0))
    assert stats.as_dict() == frozen
    assert frozen["programs_from_cache"] == 0 and frozen["seconds"] > 0


def test_programs_with_our_xla_options_get_their_own_entries(tmp_path):
    xla = pytest.importorskip("bench.xla")  # replaces jax's get_compile_options
    folder = tmp_path / "xla"
    assert cache.enable(folder) is None
    c = 1.0 + uuid.uuid4().int % 10**9 / 1e12

    def lowered():
        """A fresh jit's lowering (one jit reuses its lowering, and jax's in-memory
        executable cache would then ignore the options we add)."""

        def loop(x):  # > 1 kB per iteration: off XLA:CPU's fast path by default
            return jax.lax.fori_loop(0, 50, lambda i, v: jnp.sin(v) * c, x)

        return jax.jit(loop).lower(jax.ShapeDtypeStruct((600,), jnp.float64))

    def loops() -> int:
        return sum(e.key.startswith("jit_loop-") for e in cache.entries(folder))

    assert not xla.on_fast_path(xla.compile_with_options(lowered(), {}))
    assert loops() == 1
    for compiled, from_cache in ((1, 0), (0, 1)):  # then the same options find it
        with cache.CompileStats() as stats:
            exe = xla.compile_with_options(lowered(), xla.OPTIONS)
        assert stats.programs_compiled == compiled
        assert stats.programs_from_cache == from_cache
        assert xla.on_fast_path(exe)  # a cached program keeps our options
    assert loops() == 2


def test_default_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.default_dir() == tmp_path / "mine"
    monkeypatch.delenv("OPTBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.default_dir() == tmp_path / "optbench" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.default_dir() == Path.home() / ".cache" / "optbench" / "jax"


def _recorded(exe, number: int, value: int) -> bool:
    """Whether XLA's record of the DebugOptions a program was built with (in its
    serialized form) sets varint field ``number`` to ``value``."""
    blob = exe.runtime_executable().serialize()
    assert _varint(number << 3) in blob, f"field {number} is not recorded: XLA moved it"
    return _varint(number << 3) + _varint(int(value)) in blob


def _varint(v: int) -> bytes:
    """Protobuf's varint, written apart from bench.xla's: a wrong encoding there
    then fails here rather than being searched for in its own image."""
    out = bytearray()
    while v > 0x7F:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out) + bytes([v])


def test_our_options_reach_our_compiles_only_while_other_threads_compile():
    xla = pytest.importorskip("bench.xla")
    if jax.default_backend() != "cpu":
        pytest.skip("XLA:CPU options")

    def lowered(c: float):
        def loop(x):  # a fresh function each time: no in-memory executable to reuse
            return jax.lax.fori_loop(0, 5, lambda i, v: jnp.tanh(v) * c, x)

        return jax.jit(loop).lower(jax.ShapeDtypeStruct((8,), jnp.float64))

    def ours_set(exe) -> list[bool]:
        return [_recorded(exe, n, v) for n, v in xla.DEBUG_FIELDS.values()]

    cache.disable()
    plain, ours = [], []
    start = threading.Barrier(2)

    def other_thread():  # a peer compiling with XLA's defaults meanwhile
        start.wait()
        plain.extend(ours_set(lowered(2.0 + i).compile()) for i in range(6))

    worker = threading.Thread(target=other_thread)
    worker.start()
    start.wait()
    ours.extend(ours_set(xla.compile_with_options(lowered(1.0 + i / 10)))
                for i in range(6))  # fmt: skip
    worker.join()
    fields = len(xla.DEBUG_FIELDS)
    assert ours == [[True] * fields] * 6 and plain == [[False] * fields] * 6
    assert xla.described()["xla_cpu_use_fusion_emitters"] is False
