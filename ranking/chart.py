"""The recall-over-effort chart: includes found against records settled, drawn as SVG by
our code (no script, no library), as the PRISMA diagram is."""

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 560, 240, 44


def svg(curve: list[tuple[int, int]], *, total: int, sample_from: int | None = None) -> str:
    """`curve`: (records settled, includes found) points from (0, 0); `total`: the stage's
    records (the x axis runs to it, so the unscreened part shows); `sample_from`: the
    settled count when a stopping sample was drawn (a marker)."""
    x_max = max(total, curve[-1][0], 1)
    y_max = max(curve[-1][1], 1)
    w, h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(v: float) -> float:
        return PAD + w * v / x_max

    def y(v: float) -> float:
        return HEIGHT - PAD - h * v / y_max

    points = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in curve)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="recall-chart-title" class="recall-chart">',
        '<title id="recall-chart-title">Includes found over records screened</title>',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#6c757d"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#6c757d"/>',
        # What screening in random order would find, on average, at the rate found so far
        # over all records (a straight line to the includes found when all are screened).
        f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(curve[-1][0]):.1f}" '
        f'y2="{y(curve[-1][1] * curve[-1][0] / x_max):.1f}" stroke="#adb5bd" '
        'stroke-dasharray="4 4"/>',
        f'<polyline fill="none" stroke="#0d6efd" stroke-width="2" points="{points}"/>',
        f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="12">'
        f'Records screened (of {total})</text>',
        f'<text x="12" y="{HEIGHT / 2:.0f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 12 {HEIGHT / 2:.0f})">Includes found</text>',
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end" font-size="11">{y_max}</text>',
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 14}" text-anchor="end" font-size="11">'
        f'{x_max}</text>',
    ]
    if sample_from is not None:
        parts.append(f'<line x1="{x(sample_from):.1f}" y1="{PAD}" x2="{x(sample_from):.1f}" '
                     f'y2="{HEIGHT - PAD}" stroke="#fd7e14" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{x(sample_from) + 4:.1f}" y="{PAD + 10}" font-size="11">'
                     f'{escape("sample drawn")}</text>')
    parts.append("</svg>")
    return "".join(parts)
