"""The report's figures, drawn with matplotlib from ``bench.report.tasks`` data.

``render(task, formats)`` draws one ``FigureTask`` and returns its files' bytes; it is
what a drawing worker runs. Importing this package imports matplotlib, so
``bench.report`` imports it only when it draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib

from bench.report.figures import (
    contour,
    convergence,
    cost,
    ecdf,
    floor,
    kappa,
    lr,
    profiles,
)
from bench.report.figures.style import DRAW_RC, save

if TYPE_CHECKING:
    from bench.report.figure_task import FigureTask

_DRAW = {
    "convergence": convergence.draw,
    "contour": contour.draw,
    "profile": profiles.draw,
    "lr": lr.draw,
    "kappa": kappa.draw,
    "cost": cost.draw,
    "ecdf": ecdf.draw,
    "floor": floor.draw,
}


def render(task: FigureTask, formats: Sequence[str]) -> dict[str, bytes]:
    """Draw ``task`` and return {format: file bytes} for each of ``formats``."""
    with matplotlib.rc_context(DRAW_RC):
        fig = _DRAW[task.kind](**task.data)
        return save(fig, formats)
