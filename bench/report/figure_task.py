"""The unit of drawing: what a figure needs, small enough to send to a worker process.

Its own module, free of pandas and matplotlib, so that a drawing worker unpickles
tasks without importing the report's table code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FigureTask:
    """One figure: ``figures.render`` draws it from ``data`` into files ``stem.*``."""

    kind: str
    stem: str
    data: dict[str, Any]
