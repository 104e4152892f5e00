"""The barriers and facilitators figure (like Figure 2 of the paper), drawn as SVG by our own
code from `queries.charting`: the McLeroy levels as nested rings (individual inside, then
interpersonal, then organizational, and any further level the project's themes reach), each
theme written in the ring of each of its levels, barriers on the left half in red with "−",
facilitators on the right half in green with "+", each with its n of studies. Themes without
a level are listed under the rings."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from .queries import Charting, ThemeRow

BARRIER, FACILITATOR = "#b02a37", "#146c43"
RING_FILLS = ["#fff3cd", "#cfe2ff", "#e2e3e5", "#d1e7dd", "#f8d7da"]
DEFAULT_LEVELS = 3  # the paper's individual, interpersonal and organizational
BAND, LINE = 190, 17  # a ring's width and a label's line, in pixels


def _levels(chart: Charting) -> list[str]:
    """The McLeroy levels drawn as rings, inside out: the framework's first three, and any
    later level a theme is placed at."""
    from .queries import MCLEROY_KEY

    for charted in chart.frameworks:
        framework = charted.framework
        if MCLEROY_KEY in (framework.source_key, framework.key):
            names = [c.name for c in charted.categories if c.depth == 0]
            used = {level for t in chart.themes for level in t.levels}
            return [n for i, n in enumerate(names) if i < DEFAULT_LEVELS or n in used]
    return sorted({level for t in chart.themes for level in t.levels})


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _label(theme: ThemeRow) -> str:
    sign = "\u2212" if theme.kind == "barrier" else "+"
    return f"{sign} {theme.name} (n = {theme.n})"


def figure_svg(chart: Charting, title: str = "Barriers and facilitators by level") -> str:
    levels = _levels(chart)
    rings = max(len(levels), 1)
    band = BAND
    outer = band * rings
    size = 2 * outer + 80
    unplaced = [t for t in chart.themes if not set(t.levels) & set(levels)]
    height = size + 60 + 18 * len(unplaced)
    cx, cy = size / 2, size / 2 + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size:.0f} {height:.0f}" '
           f'width="{size:.0f}" height="{height:.0f}" font-family="sans-serif" '
           f'role="img" aria-labelledby="fig-title">',
           f'<title id="fig-title">{escape(title)}</title>',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="{cx:.0f}" y="24" text-anchor="middle" font-size="18" '
           f'font-weight="bold">{escape(title)}</text>',
           f'<text x="20" y="50" font-size="13" fill="{BARRIER}">\u2212 barrier</text>',
           f'<text x="{size - 20:.0f}" y="50" font-size="13" text-anchor="end" '
           f'fill="{FACILITATOR}">+ facilitator</text>']
    for i in reversed(range(len(levels))):
        radius = band * (i + 1)
        out.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="{radius}" '
                   f'fill="{RING_FILLS[i % len(RING_FILLS)]}" stroke="#495057"/>')
    out.append(f'<line x1="{cx:.0f}" y1="{cy - outer:.0f}" x2="{cx:.0f}" '
               f'y2="{cy + outer:.0f}" stroke="#495057" stroke-dasharray="4 4"/>')
    for i, level in enumerate(levels):
        out.append(f'<text x="{cx:.0f}" y="{cy - band * (i + 1) + 18:.0f}" '
                   f'text-anchor="middle" font-size="13" font-weight="bold" '
                   f'class="ring" data-level="{_attr(level)}">{escape(level)}</text>')
        inner, outer_r = band * i, band * (i + 1)
        for kind, colour, sign in (("barrier", BARRIER, -1), ("facilitator", FACILITATOR, 1)):
            placed = [t for t in chart.themes if t.kind == kind and level in t.levels]
            for k, theme in enumerate(placed):
                # stacked rows centred on the middle, each in the middle of the ring's band
                dy = (k - (len(placed) - 1) / 2) * LINE
                if i:  # keep clear of the ring's title at the top
                    dy += LINE
                half_out = math.sqrt(max(outer_r ** 2 - dy ** 2, 0))
                half_in = math.sqrt(max(inner ** 2 - dy ** 2, 0))
                x = cx + sign * (half_out + half_in) / 2
                out.append(f'<text x="{x:.0f}" y="{cy + dy + 4:.0f}" text-anchor="middle" '
                           f'font-size="11" fill="{colour}" class="theme {kind}" '
                           f'data-level="{_attr(level)}">{escape(_label(theme))}</text>')
    y = size + 50
    if unplaced:
        out.append(f'<text x="20" y="{y - 18}" font-size="13" font-weight="bold">'
                   f'Themes without a level</text>')
    for theme in unplaced:
        colour = BARRIER if theme.kind == "barrier" else FACILITATOR
        out.append(f'<text x="20" y="{y}" font-size="11" fill="{colour}" '
                   f'class="theme {theme.kind}">{escape(_label(theme))}</text>')
        y += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"
