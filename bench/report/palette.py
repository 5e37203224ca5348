"""The configs' line styles, one list for the static figures (matplotlib) and the
page's interactive ones (plotly): plain hex strings, so that the process writing the
page never imports matplotlib (half a second) for its colours."""

from __future__ import annotations

# matplotlib's "tab20" (Tableau's 20 colours): each hue's dark shade, then its light one
TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c",
    "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f",
    "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip
DASHES = ("-", "--", ":", "-.")  # matplotlib's spelling


def style(index: int) -> dict[str, str]:
    """20 distinct colours (tab20's dark shades, then its light ones), then dashes."""
    return {
        "color": TAB20[(2 * index) % 20 + (index // 10) % 2],
        "linestyle": DASHES[(index // 20) % len(DASHES)],
    }
