"""Drawing the figure tasks and writing their files, here or also in worker processes.

Matplotlib draws on one core, so a report with many figures is drawn by this process
and a pool of workers together. The workers come from a "forkserver", never from a
fork of this process: a parent that has used JAX holds threads that a fork would copy
in a broken state. The server imports matplotlib and the figure code once, then forks
each worker with them loaded. A worker receives one ``FigureTask`` (small arrays) and
returns the files' bytes; this process writes them, each atomically. ``python -m bench
run`` starts the workers (``start_early``) before it imports jax, so that their imports
use the core its own imports leave idle, and the run times nothing until they are done
(``wait_started``); its report then leaves all the drawing to them, each figure sent as
soon as its data is ready, and never imports matplotlib itself.

Like every start method but fork, a worker re-imports the program's main script
(``__mp_main__``). That is harmless for ``python -m bench`` and an interactive session
(nothing is re-run), so only they get workers by default; a script gets them only
when it asks (``workers=``) and, as multiprocessing requires, guards its top level
with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a worker imports this module: no pandas here
    from bench.report.figure_task import FigureTask

FORMATS = ("png", "svg", "pdf")
# Fewer figures are drawn here alone, unless workers were started ahead. A worker
# takes about 1.1 s to start (the server imports matplotlib and the figure code), in
# which this process draws about five figures: with fewer than ten, workers started
# when the report began saved nothing and a short report waited for them.
PARALLEL_MIN = 10
_PRELOAD = ["bench.report.figures.server"]
# Workers started ahead by ``start_early``: (how many, pool, starting thread); the
# next Drawer of this process takes them.
_EARLY: list[tuple[int, ProcessPoolExecutor, threading.Thread]] = []


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` without repeats, PNG first (the pages show it, so it is always
    written); ValueError naming any unknown format and the accepted ones."""
    if isinstance(formats, str):
        formats = (formats,)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(
            f"unknown figure format(s) {', '.join(map(repr, bad))}: "
            f"accepted are {', '.join(map(repr, FORMATS))}"
        )
    return ("png", *(f for f in dict.fromkeys(formats) if f != "png"))


def worker_count(n_figures: int, workers: int | None = None) -> int:
    """Worker processes for ``n_figures``: ``workers`` when given (0: none), else
    none for a few figures, one CPU, or a main script they would re-run; else one
    per CPU but the one this process draws on."""
    if workers is not None:
        return max(0, min(int(workers), n_figures))
    if _EARLY and n_figures >= 1:  # started ahead: their start costs nothing now
        return _EARLY[0][0]
    cpus = os.cpu_count() or 1
    if n_figures < PARALLEL_MIN or cpus < 2 or not _main_is_importable():
        return 0
    return min(cpus - 1, n_figures)


def _main_is_importable() -> bool:
    """Whether a worker would leave the main module alone: ``python -m pkg`` (its
    ``pkg.__main__`` is skipped) or no main file (an interactive session)."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        return name == "__main__" or name.endswith(".__main__")
    return getattr(main, "__file__", None) is None


class Drawer:
    """Collects figure tasks, draws them and writes ``out/<stem>.<format>``.

    With ``workers`` > 0 the worker processes start in the background as soon as the
    Drawer is made; ``draw_all`` then shares the tasks: this process draws from the
    end of the list (all of it while the workers are still starting), the workers
    from the front. With workers started ahead (``start_early``), they draw each task
    as it is added, and this process none. If the workers fail to start or die, this
    process draws what is left. Use as a context manager: leaving it stops the
    workers.
    """

    def __init__(self, out: Path, formats: Sequence[str], workers: int = 0) -> None:
        self.out = out
        self.formats = tuple(formats)
        self.tasks: list[FigureTask] = []
        self.drawn_here = 0  # tasks drawn in this process (the rest by workers)
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._sent: dict[str, Future[dict[str, bytes]]] = {}  # stem: its drawing
        self._early = workers > 0 and bool(_EARLY)  # else left to the exit
        if self._early:
            _, self._pool, self._starting = _EARLY.pop()
        elif workers > 0:
            self._pool, self._starting = _start_pool(workers)

    def add(self, task: FigureTask) -> None:
        self.tasks.append(task)
        if self._early:  # drawn while this process prepares the next ones
            try:
                self._sent[task.stem] = self._pool.submit(_render, task, self.formats)
            except BrokenProcessPool:
                pass  # drawn here by draw_all

    def wait_for_workers(self) -> None:
        """Block until the worker processes (if any) have started."""
        if self._starting is not None:
            self._starting.join()

    def draw_all(self) -> None:
        """Draw every task added and write its files."""
        if self._early:
            self._collect()
            return
        pending = list(self.tasks)
        while pending and self._starting is not None and self._starting.is_alive():
            self._draw_here(pending.pop())
        if self._pool is not None and pending:
            try:
                pending = self._share(pending)
            except BrokenProcessPool:
                pass  # the workers died: what they did not finish is drawn here
        for task in pending:
            self._draw_here(task)

    def _share(self, pending: list[FigureTask]) -> list[FigureTask]:
        """Draw ``pending`` with the workers; return the tasks left undone."""
        assert self._pool is not None
        futures = [self._pool.submit(_render, t, self.formats) for t in pending]
        # take back, from the end, the tasks no worker has begun; the workers take
        # them from the front, so the first that cannot be taken back ends this
        for task, fut in zip(reversed(pending), reversed(futures), strict=True):
            if not fut.cancel():
                break
            self._draw_here(task)
        left = []
        for task, fut in zip(pending, futures, strict=True):
            if fut.cancelled():
                continue
            files = _result(fut)
            if files is None:
                left.append(task)
            else:
                self._write(task, files)
        return left

    def _collect(self) -> None:
        """Write what the workers started ahead drew; draw here what they could not."""
        for task in self.tasks:
            fut = self._sent.get(task.stem)
            files = None if fut is None else _result(fut)
            if files is None:
                self._draw_here(task)
            else:
                self._write(task, files)

    def _draw_here(self, task: FigureTask) -> None:
        self._write(task, _render(task, self.formats))
        self.drawn_here += 1

    def _write(self, task: FigureTask, files: dict[str, bytes]) -> None:
        from bench.results import write_bytes

        for ext, data in files.items():
            write_bytes(data, self.out / f"{task.stem}.{ext}")

    def __enter__(self) -> Drawer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wait_for_workers()  # a pool still starting a process cannot shut down
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def start_early() -> None:
    """Start the drawing workers now, in the background, one per CPU, for this
    process's next Drawer (if a report of ``PARALLEL_MIN`` figures would get any):
    ``run`` and ``report`` call it first, so that their imports overlap the
    command's own (jax's, the tables')."""
    cpus = os.cpu_count() or 1
    if worker_count(max(PARALLEL_MIN, cpus)) and not _EARLY:
        _EARLY.append((cpus, *_start_pool(cpus)))
        atexit.unregister(stop_early)  # once, however many runs this process makes
        atexit.register(stop_early)  # no Drawer took them (the report failed)


def wait_started() -> None:
    """Block until the workers started ahead have imported their modules: a run
    times nothing while they use a core."""
    for _, _, starting in _EARLY:
        starting.join()


def stop_early() -> None:
    """Stop workers started ahead that no Drawer took (the run failed, or had no
    report). Its caller must not leave without it: each worker holds the pipes that
    would tell it that this process is gone, and would outlive it."""
    while _EARLY:
        _, pool, starting = _EARLY.pop()
        starting.join()  # a pool still starting a process cannot shut down
        pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(n: int) -> tuple[ProcessPoolExecutor, threading.Thread]:
    """A pool of ``n`` workers and the thread starting them: starting a worker
    waits until the server has imported its modules (a second or so), done in a
    thread while this one works on the tables."""
    pool = ProcessPoolExecutor(n, mp_context=_context())
    starting = threading.Thread(target=_start_workers, args=(pool, n), daemon=True)
    starting.start()
    return pool, starting


def _context() -> multiprocessing.context.BaseContext:
    """The forkserver, preloading the figure code; spawn where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # Windows: each worker imports
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _result(fut: Future[dict[str, bytes]]) -> dict[str, bytes] | None:
    """A worker's files; None when the pool broke (a figure's own error is raised)."""
    try:
        return fut.result()
    except BrokenProcessPool:
        return None


def _start_workers(pool: ProcessPoolExecutor, n: int) -> None:
    """Start the pool's ``n`` processes (each submit starts one while none is idle);
    a failure leaves a broken pool, which ``Drawer.draw_all`` works around."""
    try:
        for fut in [pool.submit(_warm) for _ in range(n)]:
            fut.result()
    except Exception:  # the pool is broken then, and says so when used
        pass


def _warm() -> None:
    """Nothing but the imports a worker needs (the server preloaded them)."""
    import bench.report.figures  # noqa: F401


def _render(task: FigureTask, formats: Sequence[str]) -> dict[str, bytes]:
    from bench.report.figures import render  # matplotlib: only where figures are drawn

    return render(task, formats)
