"""A trend as a small inline SVG, drawn on the server (no chart framework on the tablet)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 140, 36, 3


def sparkline(values: Sequence[float | None], label: str) -> Markup:
    """A polyline of the values (gaps where the monitor measured nothing), scaled to its own
    range; the range is written beside it, so the shape is never read without numbers."""
    points = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float)]
    if len(points) < 2:
        return Markup("")
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if isinstance(v, int | float):
            y = HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD)
            current.append(f"{PAD + i * step:.1f},{y:.1f}")
        elif current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    lines = "".join(f'<polyline points="{" ".join(s)}" fill="none" stroke="currentColor" stroke-width="2"/>'
                    for s in segments if len(s) > 1)
    text = f"{label}: trend laatste 30 minuten, van {low:g} tot {high:g}".replace(".", ",")
    return Markup(f'<svg class="trend" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
                  f'role="img" aria-label="{escape(text)}"><title>{escape(text)}</title>{lines}</svg>')
