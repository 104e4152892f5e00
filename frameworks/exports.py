"""The charting as files: the fixed JSON of issue 10, a CSV and an XLSX, all built from
`queries.charting`, so they hold what the charting page holds.

JSON: {"frameworks": [{"name", "categories": [{"name", "n", "studies": [citation numbers]}]}],
"themes": [{"name", "kind", "levels", "components", "n", "studies"}]}: nothing else.
CSV: one row per category and then one per theme (columns in CSV_HEADER). XLSX: sheets
"Frameworks", "Themes" and "Studies" (the numbered list the citation numbers refer to).
Text cells go through `projects.csvsafe.safe_cell`.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from projects import csvsafe
from projects.csvsafe import safe_cell

from .queries import Charting

CSV_HEADER = ["section", "framework", "name", "retired", "kind", "levels", "components", "n",
              "studies", "references"]
FORMATS = ("json", "csv", "xlsx")


def charting_json(chart: Charting) -> dict:
    return {
        "frameworks": [{"name": fw.name,
                        "categories": [{"name": c.name, "n": c.n, "studies": c.numbers}
                                       for c in fw.categories]}
                       for fw in chart.frameworks],
        "themes": [{"name": t.name, "kind": t.kind, "levels": t.levels,
                    "components": t.components, "n": t.n, "studies": t.numbers}
                   for t in chart.themes],
    }


def _rows(chart: Charting) -> list[list]:
    rows = []
    for fw in chart.frameworks:
        for c in fw.categories:
            rows.append(["framework", fw.name, c.name, "yes" if c.retired else "", "", "", "",
                         c.n, c.citations, c.references])
    for t in chart.themes:
        rows.append(["theme", "", t.name, "", t.kind, "; ".join(t.levels),
                     "; ".join(t.components), t.n, t.citations,
                     "; ".join(s.label for s in t.studies)])
    return rows


def charting_csv(chart: Charting) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(chart))
    return out.getvalue()


def charting_xlsx(chart: Charting) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Frameworks"
    sheet.append(["Framework", "Category", "Retired", "n", "Studies", "References"])
    for fw in chart.frameworks:
        for c in fw.categories:
            sheet.append([safe_cell(fw.name), safe_cell(c.name), "yes" if c.retired else "",
                          c.n, safe_cell(c.citations), safe_cell(c.references)])
    themes = book.create_sheet("Themes")
    themes.append(["Theme", "Kind", "Levels", "Components", "n", "Studies"])
    for t in chart.themes:
        themes.append([safe_cell(t.name), t.kind, safe_cell("; ".join(t.levels)),
                       safe_cell("; ".join(t.components)), t.n, safe_cell(t.citations)])
    studies = book.create_sheet("Studies")
    studies.append(["Number", "Study", "Study ID"])
    for s in chart.studies:
        studies.append([s.number, safe_cell(s.label), s.study.pk])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
