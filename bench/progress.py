"""The run's progress bar on the terminal."""

from __future__ import annotations

from collections.abc import Callable


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
