"""One run status, decided where it happens (inside the driver's loop), with a message
per member. The stored strings (runs.parquet ``status``) are the members' names in
lower case."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Why a run stopped; the driver stores the integer code, tables the name."""

    RUNNING = 0  # inside the loop only: never stored
    CONVERGED = 1
    DIVERGED = 2
    STALLED = 3
    MAX_STEPS = 4
    MAX_NJEV = 5
    TARGET = 6  # reached f <= f_target (the timing runs stop there)

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Status.RUNNING: "still running",
    Status.CONVERGED: "the gradient norm fell to gtol",
    Status.DIVERGED: "a step produced a non-finite x, f or gradient",
    Status.STALLED: "two iterations in a row left x unchanged",
    Status.MAX_STEPS: "the step budget (--steps) ran out",
    Status.MAX_NJEV: "the gradient-evaluation budget (--max-njev) ran out",
    Status.TARGET: "f reached the target value",
}

LABELS = [s.label for s in Status]


def label(code: int) -> str:
    """The stored string for a driver status code."""
    return Status(int(code)).label
