"""The PRISMA 2020 flow diagram drawn as SVG by our own code (no browser on the server), and
a PNG of it rendered by resvg (`resvg_py`, fonts: DejaVu Sans).

Layout of PRISMA 2020's template for new reviews: the stage bars on the left
(Identification, Screening, Included), the databases-and-registers column with its boxes on
the right of the flow (removed, excluded, not retrieved, excluded with reasons), and, when a
source starts at full text, the other-methods column beside it. Work still open is drawn as
dashed notes beside the screening and eligibility boxes, so every box adds up.

Every text that came from the data (source names, exclusion reasons) is XML-escaped.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from references.models import Source

from .prisma import Column, Flow, scoping_words

# link(box, key=None, column=None) -> URL or None (None: the number is not a link).
Linker = Callable[..., str | None]

FONT_FAMILY = "DejaVu Sans, sans-serif"
FONT = 13  # px
LINE = 17
PAD = 8
CHAR_W = 7.5  # DejaVu Sans at 13 px, a little above its average advance
ROW_GAP = 30
SIDE_GAP = 40
BAR_W = 26
FLOW_W, SIDE_W = 320, 310
HEADER_H = 40
MARGIN = 10
LINK_COLOUR = "#0b5ed7"

METHOD_LABELS = dict(Source.Method.choices)
KIND_HEADINGS = [(Source.Kind.DATABASE, "Databases"), (Source.Kind.REGISTER, "Registers"),
                 (Source.Kind.OTHER, "Other methods")]


@dataclass
class Line:
    text: str
    n: int | None = None
    link: str | None = None
    bold: bool = False
    indent: int = 0


@dataclass
class Box:
    lines: list[Line]
    dashed: bool = False
    width: int = FLOW_W
    # Laid out:
    x: float = 0
    y: float = 0
    wrapped: list[tuple[str, Line, bool]] = field(default_factory=list)  # (text, line, last)

    def wrap(self) -> None:
        self.wrapped = []
        for line in self.lines:
            suffix = f" (n = {line.n:,})" if line.n is not None else ""
            room = int((self.width - 2 * PAD - line.indent * 12) / CHAR_W)
            parts = _wrap(line.text + suffix, room, keep_end=len(suffix))
            for i, part in enumerate(parts):
                self.wrapped.append((part, line, i == len(parts) - 1))

    @property
    def height(self) -> float:
        return len(self.wrapped) * LINE + 2 * PAD - 2


def _wrap(text: str, room: int, keep_end: int = 0) -> list[str]:
    """Words of `text` in lines of at most `room` characters (a longer word is cut); the last
    `keep_end` characters (" (n = 1,234)") stay together."""
    room = max(room, 12)
    head, tail = (text[:-keep_end], text[-keep_end:].strip()) if keep_end else (text, "")
    words = head.split() + ([tail] if tail else [])
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > room:  # a word longer than the box: cut it
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:room])
            word = word[room:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= room:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def _no_links(*_args, **_kwargs) -> None:
    return None


class Words:
    """PRISMA 2020's words, or PRISMA-ScR's for a scoping review."""

    def __init__(self, scoping: bool):
        self.scoping = scoping

    def __call__(self, text: str) -> str:
        return scoping_words(text) if self.scoping else text


def _sources_lines(col: Column, link: Linker, *, with_headings: bool) -> list[Line]:
    lines = []
    for kind, heading in KIND_HEADINGS:
        sources = col.sources_of(kind)
        if not sources:
            continue
        box = "identified_other" if kind == Source.Kind.OTHER else "identified_databases"
        if with_headings:
            heading_link = (link(box, column="main") if kind == Source.Kind.OTHER
                            else link(box, str(kind)))
            lines.append(Line(heading, sum(s.n for s in sources), heading_link, bold=True))
        for s in sources:
            label = s.key
            method = METHOD_LABELS.get(s.method, s.method)
            if kind == Source.Kind.OTHER and method and method.lower() != s.key.lower():
                label = f"{method}: {s.key}"
            lines.append(Line(label, s.n, link(box, str(s.source_id)),
                              indent=1 if with_headings else 0))
    return lines


def _removed_lines(col: Column, link: Linker, column: str | None) -> list[Line]:
    return [Line("Records removed before screening:", bold=True),
            Line("Duplicate records removed", col.duplicates,
                 link("duplicates_removed", column=column), indent=1),
            Line("Records marked as ineligible by automation tools", col.automation,
                 link("automation_removed", column=column), indent=1),
            Line("Records removed for other reasons", col.removed_other,
                 link("other_removed", column=column), indent=1)]


def _excluded_lines(col: Column, link: Linker, column: str | None, w: Words) -> list[Line]:
    lines = [Line(w("Reports excluded:"), col.excluded_eligibility,
                  link("excluded_eligibility", column=column), bold=True)]
    for r in col.excluded:
        lines.append(Line(r.key, r.n, link("excluded_eligibility", r.url_key, column),
                          indent=1))
    return lines


def _ft_note(col: Column, link: Linker, column: str | None, w: Words) -> Box | None:
    if not (col.ft_awaiting or col.ft_conflict):
        return None
    return Box([Line(w("In progress (reports not yet decided):"), bold=True),
                Line("Awaiting full-text review", col.ft_awaiting,
                     link("full_text_awaiting", column=column), indent=1),
                Line("In conflict", col.ft_conflict,
                     link("full_text_conflict", column=column), indent=1)],
               dashed=True, width=SIDE_W)


def render_svg(flow: Flow, *, link: Linker | None = None) -> str:
    """The diagram of `flow` as a standalone SVG document; with `link`, numbers are links."""
    link = link or _no_links
    w = Words(flow.scoping)
    two = flow.other_column
    col_arg = "main" if two else None
    main, other = flow.main, flow.other
    # The four columns' x: main flow, main side, other flow, other side.
    x_main = MARGIN + BAR_W + 14
    x_main_side = x_main + FLOW_W + SIDE_GAP
    x_other = x_main_side + SIDE_W + 50
    x_other_side = x_other + FLOW_W + SIDE_GAP
    width = (x_other_side + SIDE_W if two else x_main_side + SIDE_W) + MARGIN

    # Rows: (main flow box, [main side boxes], other flow box, [other side boxes]).
    ident = Box([Line("Records identified from*:", bold=True)]
                + _sources_lines(main, link, with_headings=True))
    if not main.sources:
        ident.lines.append(Line("No sources imported yet", indent=1))
    ident_side = [Box(_removed_lines(main, link, col_arg), width=SIDE_W)]
    other_ident = other_side = None
    if two:
        other_ident = Box([Line("Records identified from:", bold=True)]
                          + _sources_lines(other, link, with_headings=False))
        if other.removed:
            other_side = [Box(_removed_lines(other, link, "other"), width=SIDE_W)]
    screened = Box([Line("Records screened", main.screened, link("screened"))])
    screened_side = [Box([Line("Records excluded**", main.excluded_screening,
                               link("excluded_screening"))], width=SIDE_W)]
    if main.ta_awaiting or main.ta_conflict:
        screened_side.append(Box([
            Line("In progress (records not yet decided):", bold=True),
            Line("Awaiting title and abstract screening", main.ta_awaiting,
                 link("title_abstract_awaiting"), indent=1),
            Line("In conflict", main.ta_conflict, link("title_abstract_conflict"), indent=1)],
            dashed=True, width=SIDE_W))

    def sought(col: Column, column: str | None) -> tuple[Box, list[Box]]:
        return (Box([Line(w("Reports sought for retrieval"), col.sought,
                          link("sought_retrieval", column=column))]),
                [Box([Line(w("Reports not retrieved"), col.not_retrieved,
                           link("not_retrieved", column=column))], width=SIDE_W)])

    def assessed(col: Column, column: str | None) -> tuple[Box, list[Box]]:
        side = [Box(_excluded_lines(col, link, column, w), width=SIDE_W)]
        note = _ft_note(col, link, column, w)
        if note:
            side.append(note)
        return (Box([Line(w("Reports assessed for eligibility"), col.assessed,
                          link("assessed_eligibility", column=column))]), side)

    included = Box([Line(w("Studies included in review"), flow.included_studies,
                         link("included_studies")),
                    Line(w("Reports of included studies"), flow.included_reports,
                         link("included_reports"))])
    rows = [
        (ident, ident_side, other_ident, other_side),
        (screened, screened_side, None, None),
        (*sought(main, col_arg), *(sought(other, "other") if two else (None, None))),
        (*assessed(main, col_arg), *(assessed(other, "other") if two else (None, None))),
        (included, [], None, None),
    ]

    # Lay out: each row as tall as its tallest stack.
    y = MARGIN + HEADER_H + 16
    row_tops = []
    for row in rows:
        flow_box, side, o_box, o_side = row
        heights = []
        for box, x in ((flow_box, x_main), (o_box, x_other)):
            if box:
                box.width = FLOW_W
                box.wrap()
                box.x, box.y = x, y
                heights.append(box.height)
        for stack, x in ((side, x_main_side), (o_side, x_other_side)):
            sy = y
            for box in stack or []:
                box.wrap()
                box.x, box.y = x, sy
                sy += box.height + 10
            if stack:
                heights.append(sy - 10 - y)
        row_tops.append((y, max(heights)))
        y += max(heights) + ROW_GAP
    height = y - ROW_GAP + MARGIN + 3 * LINE + 10

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" font-family="{FONT_FAMILY}" '
           f'font-size="{FONT}" role="img" aria-labelledby="prisma-title">',
           f'<title id="prisma-title">{escape(w("PRISMA 2020 flow diagram"))}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#333"/></marker></defs>',
           f'<rect x="0" y="0" width="{width}" height="{height:.0f}" fill="#ffffff"/>']
    # Column headers.
    out.append(_header(x_main, MARGIN, x_main_side + SIDE_W - x_main,
                       w("Identification of studies via databases and registers"), "#ffc000"))
    if two:
        out.append(_header(x_other, MARGIN, x_other_side + SIDE_W - x_other,
                           w("Identification of studies via other methods"), "#d9d9d9"))
    # Stage bars.
    (t0, h0), (t1, _), (_, _), (t3, h3), (t4, h4) = row_tops
    for label, top, bottom in (("Identification", t0, t0 + h0),
                               ("Screening", t1, t3 + h3), ("Included", t4, t4 + h4)):
        out.append(_stage_bar(label, top, bottom))
    # Boxes.
    for flow_box, side, o_box, o_side in rows:
        for box in [flow_box, *(side or []), o_box, *(o_side or [])]:
            if box:
                out.append(_box(box))
    # Arrows down the main column, and to its side boxes.
    chain = [r[0] for r in rows]
    for a, b in zip(chain, chain[1:], strict=False):
        out.append(_arrow(a.x + a.width / 2, a.y + a.height, b.x + b.width / 2, b.y))
    for flow_box, side, o_box, o_side in rows:
        for box, stack in ((flow_box, side), (o_box, o_side)):
            if box and stack:
                first = stack[0]
                yy = box.y + min(box.height, first.height) / 2
                out.append(_arrow(box.x + box.width, yy, first.x, yy))
    if two:
        o_chain = [r[2] for r in rows if r[2]]
        for a, b in zip(o_chain, o_chain[1:], strict=False):
            out.append(_arrow(a.x + a.width / 2, a.y + a.height, b.x + b.width / 2, b.y))
        last = o_chain[-1]
        xx, yy = last.x + last.width / 2, included.y + included.height / 2
        out.append(f'<path d="M{xx:.1f},{last.y + last.height:.1f} L{xx:.1f},{yy:.1f} '
                   f'L{included.x + included.width:.1f},{yy:.1f}" fill="none" stroke="#333" '
                   f'stroke-width="1.2" marker-end="url(#arrow)"/>')
    # Footnotes.
    foot_y = height - MARGIN - 2 * LINE - 4
    for i, note in enumerate([
            "*Records identified per database, register and other source, as PRISMA 2020 "
            "asks.",
            "**Records excluded by the reviewers; records marked ineligible by automation "
            "tools are counted before screening.",
            "Counted from the project's data by Tandem; open work is shown in the dashed "
            "notes."]):
        out.append(f'<text x="{x_main}" y="{foot_y + i * LINE:.1f}" font-size="11" '
                   f'fill="#444">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _header(x: float, y: float, w: float, text: str, fill: str) -> str:
    return (f'<rect x="{x}" y="{y}" width="{w}" height="{HEADER_H}" rx="6" fill="{fill}" '
            f'stroke="#333"/><text x="{x + w / 2:.1f}" y="{y + HEADER_H / 2 + 5:.1f}" '
            f'text-anchor="middle" font-weight="bold">{escape(text)}</text>')


def _stage_bar(label: str, top: float, bottom: float) -> str:
    cx, cy = MARGIN + BAR_W / 2, (top + bottom) / 2
    return (f'<rect x="{MARGIN}" y="{top:.1f}" width="{BAR_W}" height="{bottom - top:.1f}" '
            f'rx="5" fill="#9dc3e6" stroke="#333"/><text x="{cx:.1f}" y="{cy:.1f}" '
            f'transform="rotate(-90 {cx:.1f} {cy:.1f})" text-anchor="middle" '
            f'dominant-baseline="central" font-weight="bold">{escape(label)}</text>')


def _box(box: Box) -> str:
    dash = ' stroke-dasharray="5 4"' if box.dashed else ""
    parts = [f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width}" '
             f'height="{box.height:.1f}" fill="#ffffff" stroke="#333"{dash}/>']
    for i, (text, line, _last) in enumerate(box.wrapped):
        x = box.x + PAD + line.indent * 12
        y = box.y + PAD + (i + 1) * LINE - 4
        weight = ' font-weight="bold"' if line.bold else ""
        if line.link:
            parts.append(f'<a href={quoteattr(line.link)}><text x="{x:.1f}" y="{y:.1f}"'
                         f'{weight} fill="{LINK_COLOUR}" text-decoration="underline">'
                         f'{escape(text)}</text></a>')
        else:
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}"{weight}>{escape(text)}</text>')
    return "".join(parts)


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#333" '
            f'stroke-width="1.2" marker-end="url(#arrow)"/>')


def render_png(svg: str) -> bytes:
    """The PNG of `svg`, at the SVG's own size, on a white canvas."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff",
                                       font_family="DejaVu Sans",
                                       sans_serif_family="DejaVu Sans"))
