"""Families on a Dask cluster (``python -m bench run --executor dask``).

The unit of work is one program family (bench/families.py): the cells one compiled
program runs together, the same unit as in-process, so a family's numbers are the
same wherever it runs. The client ships each family as its cells' specs (names and
parameters, not objects) with the run's settings; a worker rebuilds the cells,
compiles the family's programs (kept for the worker's life, and in the persistent
cache where the workers share its folder), runs them with bench.runner and returns
the tables with the worker's address and environment. Dask schedules, retries the
family elsewhere when a worker dies, and reports a family's exception as that
family's error; we write no scheduler.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.cells import Cell, CellSpec, Settings

CONNECT_TIMEOUT_S = 4  # an unreachable scheduler is reported within 10 s


# one family's (cells, tables, error, worker): tables or error, worker or None
Outcome = tuple[list[Cell], Any, BaseException | None, dict | None]


class SchedulerUnreachable(Exception):
    """No Dask scheduler answered at the given address."""


class DaskExecutor:
    """A client of an existing scheduler (``tcp://HOST:PORT``), or of a LocalCluster
    with one single-threaded worker process per core. ``plugins``: plugin files or
    module names the workers load before they build cells (files are shipped as
    their source, so workers need not share a filesystem)."""

    def __init__(self, scheduler: str | None = None, plugins: list[str] = (),
                 cache_dir: str | None = None) -> None:  # fmt: skip
        if scheduler is not None:
            _probe(scheduler)  # at once, before distributed's import and retries
        from distributed import Client, LocalCluster

        self.cluster = None
        self.plugins = [_shipped(ref) for ref in plugins]
        self.cache_dir = cache_dir
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None,
            )  # fmt: skip
            scheduler = self.cluster.scheduler_address
        with _quiet():  # distributed logs each retry; the caller says it in a line
            try:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001  (whatever answered, it is not one)
                raise SchedulerUnreachable(
                    f"no Dask scheduler answered at {scheduler} within "
                    f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}); start one with "
                    "'dask scheduler' and give its tcp://HOST:PORT"
                ) from None
        self.address = scheduler

    def run(self, fams: list[list[Cell]], s: Settings) -> Iterator[Outcome]:
        """Submit every family, then yield (cells, tables, error, worker) for each
        as it finishes; ``worker``: where it ran ({address, environment, compile})."""
        from distributed import as_completed

        pending = {}
        for cells in fams:
            fut = self.client.submit(
                run_family, [spec_of(c) for c in cells], cells[0].precision, s,
                self.plugins, self.cache_dir, pure=False,
            )  # fmt: skip
            pending[fut] = cells
        try:
            for fut in as_completed(pending):
                cells = pending.pop(fut)
                try:
                    out = fut.result()
                except Exception as exc:  # noqa: BLE001  (the family's error)
                    yield cells, None, exc, None
                else:
                    yield cells, out.pop("tables"), None, out
        finally:
            self.client.cancel(list(pending))

    def close(self) -> None:
        with _quiet():
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def _probe(address: str) -> None:
    """SchedulerUnreachable unless something accepts a TCP connection at a
    ``tcp://HOST:PORT`` address (other protocols are left to distributed)."""
    import socket

    rest = address.removeprefix("tcp://")
    if "://" in rest:
        return
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise SchedulerUnreachable(
            f"{address!r} is not a scheduler address; give tcp://HOST:PORT"
        )
    try:
        where = (host.strip("[]"), int(port))
        socket.create_connection(where, CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} ({exc.strerror or exc}); start "
            "one with 'dask scheduler' and give its tcp://HOST:PORT"
        ) from None


def spec_of(cell: Cell) -> CellSpec:
    """The names and full parameters that rebuild ``cell`` (bench.cells.prepare)."""
    return CellSpec(cell.problem.name, dict(cell.problem.params), cell.optimizer,
                    dict(cell.params))  # fmt: skip


# ------------------------------------------------------------------ on the worker

_ENVIRONMENT: dict[str, Any] = {}  # this worker's, computed once


def run_family(specs: list[CellSpec], precision: str, s: Settings,
               plugins: list[tuple],
               cache_dir: str | None) -> dict[str, Any]:  # fmt: skip
    """On a worker: one family's tables (its cells rebuilt in ``precision``), the
    worker's address and environment, and its compile counts."""
    from distributed import get_worker

    from bench import cache, provenance, runner
    from bench.cli.run import set_precision
    from bench.families import Family

    _load_plugins(plugins)
    set_precision(s.precision)
    if cache_dir is not None:
        cache.enable(Path(cache_dir))
    cells = runner.prepare(specs, (precision,))
    if not _ENVIRONMENT:
        env = provenance.environment()
        _ENVIRONMENT.update(
            {k: env[k] for k in ("versions", "cpu", "processor", "cpu_count",
                                 "jax_backend", "jax_devices")},
            host=platform.node(),
        )  # fmt: skip
    with provenance.one_blas_thread():
        if cells[0].opt is None:
            tables, stats = runner._run_peer(cells[0], s), {}
        else:
            fam = Family(cells, s)
            compiled = fam.compile()
            tables, stats = runner._run_family(fam, compiled), compiled[2]
    return {"tables": tables, "address": get_worker().address,
            "environment": dict(_ENVIRONMENT), "compile": stats}  # fmt: skip


_LOADED: set[str] = set()  # plugins this worker process has loaded (by content)


def _shipped(ref: str) -> tuple[str, str | None]:
    """(name, source) of a plugin file, or (module name, None) of a module."""
    path = Path(ref)
    if ref.endswith(".py") or path.is_file():
        return path.name, path.read_text()
    return ref, None


def _load_plugins(plugins: list[tuple[str, str | None]]) -> None:
    """Import the shipped plugins once per worker; ImportError naming the plugin."""
    for name, source in plugins:
        key = name + hashlib.sha256((source or "").encode()).hexdigest()
        if key in _LOADED:
            continue
        try:
            ref = name
            if source is not None:  # the file, written where this worker can read it
                ref = str(Path(tempfile.mkdtemp(prefix="optbench-plugin-")) / name)
                Path(ref).write_text(source)
            try:
                from bench import plugins as registry  # records what it registers
            except ImportError:
                registry = None
            if registry is not None:
                registry.load_one(ref)
            elif source is None:
                importlib.import_module(ref)
            else:
                module = f"optbench_plugin_{key[-12:]}"
                spec = importlib.util.spec_from_file_location(module, ref)
                mod = importlib.util.module_from_spec(spec)
                sys.modules[module] = mod
                spec.loader.exec_module(mod)
        except Exception as exc:  # noqa: BLE001  (the family fails with this)
            raise ImportError(
                f"plugin {name} cannot be imported on this worker: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        _LOADED.add(key)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """distributed's own log lines off for a moment (its retries, its shutdown)."""
    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)
