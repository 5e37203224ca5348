"""What a run reports while it goes: the progress bar, a cell's deadline
(``--cell-timeout``) and the one-line reason a cell failed."""

from __future__ import annotations

import time
from collections.abc import Callable


class CellTimeout(Exception):
    """A family ran past its --cell-timeout."""


class Deadline:
    """``--cell-timeout`` seconds per cell, for a family of ``n_cells`` cells, from
    the moment it starts (its compile included). A compiled call cannot be
    interrupted, so ``check`` is called between calls: a family stops at the first
    check past the deadline, which can be one call (the batched trace call, or one
    start's timing) after it."""

    def __init__(self, seconds: float | None, n_cells: int) -> None:
        self.seconds = seconds
        self.limit = None if seconds is None else seconds * n_cells
        self.t0 = time.perf_counter()

    def check(self) -> None:
        elapsed = time.perf_counter() - self.t0
        if self.limit is not None and elapsed > self.limit:
            raise CellTimeout(
                f"ran past --cell-timeout {self.seconds:g} s per cell "
                f"({elapsed:.1f} s for a family of {self.limit / self.seconds:g} cells)"
            )


def reason(error: BaseException) -> str:
    """One line: what went wrong in a cell."""
    if isinstance(error, CellTimeout):
        return f"timeout: {error}"
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in text:
        text = f"out of memory: {text}"
    return text[:300]


class progress:
    """A rich progress bar (cell i/N, label, ETA) or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total

    def __enter__(self) -> Callable[[int, str], None]:
        if not self.enabled:
            return lambda i, label: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("cell"),
            MofNCompleteColumn(),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            transient=False,
        )
        self.bar.start()
        task = self.bar.add_task("", total=self.total)
        return lambda i, label: self.bar.update(task, completed=i, description=label)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()
