"""Trace thinning: which steps a run keeps as trace rows (``--trace``).

``full`` keeps every step (the default); ``every:K`` keeps steps 0, K, 2K, ...;
``log:N`` keeps step 0 and N log-spaced steps from 1 to ``num_steps``. Every run also
keeps its own last step, so its final values and counts are always a row. The driver
writes only kept rows, so a trace buffer holds (kept steps) rows per lane, not
num_steps + 1; the summary columns (steps, evaluations, steps to tolerance, status)
and the targets table come from each lane's end state and in-loop records, so they do
not depend on the thinning, except where f* is best-found (bench/targets.py).
"""

from __future__ import annotations

import numpy as np

ACCEPTED = "full, every:K or log:N (K, N integers >= 1)"


def check(text: str, name: str = "--trace") -> str:
    """The canonical spelling of a trace spec; ValueError saying what is accepted."""
    kind, _, count = str(text).strip().lower().partition(":")
    if kind == "full" and not count:
        return "full"
    if kind in ("every", "log") and count.isdigit() and int(count) >= 1:
        return f"{kind}:{int(count)}"
    raise ValueError(f"{name} must be {ACCEPTED}, got {text!r}")


def kept_steps(spec: str, num_steps: int) -> np.ndarray:
    """The sorted steps a trace keeps, 0 and ``num_steps`` always among them."""
    kind, _, count = check(spec).partition(":")
    if kind == "full":
        return np.arange(num_steps + 1)
    n = int(count)
    if kind == "every":
        steps = np.arange(0, num_steps + 1, n)
    else:  # log-spaced from step 1, rounded to whole steps
        steps = np.rint(np.geomspace(1, max(num_steps, 1), n)).astype(int)
    return np.union1d(steps, [0, num_steps])


def slot_of_step(spec: str, num_steps: int) -> np.ndarray | None:
    """For each step 0..num_steps, the row that holds it: the first kept step at or
    after it (a run that stops between two kept steps leaves its last row there).
    None for a full trace (row = step)."""
    if check(spec) == "full":
        return None
    return np.searchsorted(kept_steps(spec, num_steps), np.arange(num_steps + 1))


def keep_rows(steps: np.ndarray, spec: str, num_steps: int) -> np.ndarray:
    """Mask of the rows of a full per-step record (``steps`` 0..n) that a thinned
    trace keeps: the kept steps and the record's last row (peers' traces)."""
    mask = np.isin(steps, kept_steps(spec, num_steps))
    if len(mask):
        mask[-1] = True
    return mask
