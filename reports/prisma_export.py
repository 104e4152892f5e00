"""The PRISMA downloads, shared by the page and `manage.py export_prisma`: the diagram as SVG
and PNG, the counts as JSON and CSV, and a CSV in the template of the PRISMA2020 R package
and its web app (Haddaway et al. 2022), so a team can restyle the diagram there.

The PRISMA2020 template (`inst/extdata/PRISMA.csv` of prisma-flowdiagram/PRISMA2020): columns
`data,node,box,description,boxtext,tooltips,url,n`, one row per number, in its order; we
write its rows as they are and fill `n`. Its `*_specific_results` and `*_excluded` rows take
text, "name, n; name, n" (the package splits on ";" and takes the text before the first ","
as the name, so those two characters are left out of names there).
"""

import csv
import io
import json
import re
from dataclasses import dataclass

from projects.csvsafe import safe_row
from references.models import Source

from .prisma import Column, Flow
from .prisma_svg import render_png, render_svg

FORMATS = ("svg", "png", "json", "csv", "prisma2020")


@dataclass
class Download:
    content: bytes
    content_type: str
    filename: str


def export(flow: Flow, fmt: str, *, slug: str) -> Download:
    """The file of `flow` in `fmt` (one of FORMATS)."""
    if fmt == "svg":
        return Download(render_svg(flow).encode(), "image/svg+xml", f"{slug}-prisma.svg")
    if fmt == "png":
        return Download(render_png(render_svg(flow)), "image/png", f"{slug}-prisma.png")
    if fmt == "json":
        text = json.dumps(flow.as_json(), indent=2, ensure_ascii=False) + "\n"
        return Download(text.encode(), "application/json", f"{slug}-prisma.json")
    if fmt == "csv":
        return Download(counts_csv(flow).encode(), "text/csv; charset=utf-8",
                        f"{slug}-prisma-counts.csv")
    if fmt == "prisma2020":
        return Download(prisma2020_csv(flow).encode(), "text/csv; charset=utf-8",
                        f"{slug}-PRISMA2020.csv")
    raise ValueError(f"Unknown format {fmt!r}: one of {', '.join(FORMATS)}.")


def _csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue()


def counts_csv(flow: Flow) -> str:
    """key,sub_key,n: one row per number of the JSON (a source, a reason, a step)."""
    return _csv([("key", "sub_key", "n"), *flow.rows()])


# The PRISMA2020 package's template, its rows in its order (columns data..url; n is ours).
PRISMA2020_HEADER = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")
_EXCLUDED_HELP = ("[separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; "
                  "Reason3, xxx]")
PRISMA2020_TEMPLATE = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review",
     "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1",
     "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA",
     "previous_reports.html"),
    ("NA", "node6", "newstud",
     "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers",
     "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA",
     "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud",
     "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching",
     "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations",
     "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records",
     "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened", "Records screened (databases and registers)",
     "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded", "Records excluded (databases and registers)",
     "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6",
     "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7",
     "Reports not retrieved (databases and registers)", "Reports not retrieved",
     "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)",
     "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved", "Reports not retrieved (other)",
     "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8",
     "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9",
     f"Reports excluded (databases and registers): {_EXCLUDED_HELP}", "Reports excluded",
     "Reports excluded (databases and registers)", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)",
     "other_assessed.html"),
    ("other_excluded", "node21", "box15", f"Reports excluded (other): {_EXCLUDED_HELP}",
     "Reports excluded", "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review", "Total studies included in review",
     "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening",
     "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box",
     "included.html"),
]
_NAME_BREAKS = re.compile(r"\s*[,;]\s*")


def _pairs(items: list[tuple[str, int]]) -> str:
    """"name, n; name, n" as the package reads it ("" when there are none)."""
    return "; ".join(f"{_NAME_BREAKS.sub(' ', name).strip()}, {n}" for name, n in items)


def _excluded(col: Column) -> str:
    return _pairs([(r.key, r.n) for r in col.excluded])


def prisma2020_numbers(flow: Flow) -> dict[str, int | str]:
    """The `n` of each `data` row of the PRISMA2020 template.

    Its left column counts databases and registers; its right column, websites,
    organisations and citation searching ("other" methods, e.g. experts, go with citation
    searching, and the row's box text says so). Other-methods records that Tandem screens
    with the databases' records are in that right box too, by method, while their screening
    counts stay in the left column's boxes (the package draws no such arrow)."""
    main, other = flow.main, flow.other
    sources = main.sources + other.sources
    by_kind = {kind: [s for s in sources if s.kind == kind] for kind in Source.Kind.values}
    by_method = {m: sum(s.n for s in by_kind[Source.Kind.OTHER] if s.method == m)
                 for m in Source.Method.values}
    return {
        "previous_studies": 0, "previous_reports": 0,
        "database_results": sum(s.n for s in by_kind[Source.Kind.DATABASE]),
        "database_specific_results": _pairs([(s.key, s.n) for s in by_kind["database"]]),
        "register_results": sum(s.n for s in by_kind[Source.Kind.REGISTER]),
        "register_specific_results": _pairs([(s.key, s.n) for s in by_kind["register"]]),
        "website_results": by_method[Source.Method.WEBSITES],
        "organisation_results": by_method[Source.Method.ORGANISATIONS],
        "citations_results": by_method[Source.Method.CITATIONS] + by_method[Source.Method.OTHER]
        + sum(s.n for s in by_kind[Source.Kind.OTHER] if not s.method),
        "duplicates": flow.total("duplicates"),
        "excluded_automatic": flow.total("automation"),
        "excluded_other": flow.total("removed_other"),
        "records_screened": main.screened,
        "records_excluded": main.excluded_screening,
        "dbr_sought_reports": main.sought,
        "dbr_notretrieved_reports": main.not_retrieved,
        "other_sought_reports": other.sought,
        "other_notretrieved_reports": other.not_retrieved,
        "dbr_assessed": main.assessed,
        "dbr_excluded": _excluded(main),
        "other_assessed": other.assessed,
        "other_excluded": _excluded(other),
        "new_studies": flow.included_studies,
        "new_reports": flow.included_reports,
        "total_studies": flow.included_studies,
        "total_reports": flow.included_reports,
    }


def prisma2020_csv(flow: Flow) -> str:
    numbers = prisma2020_numbers(flow)
    other_methods = any(s.kind == Source.Kind.OTHER and s.method in ("", Source.Method.OTHER)
                        for s in flow.main.sources + flow.other.sources)
    rows = [PRISMA2020_HEADER]
    for data, node, box, description, boxtext, tooltips, url in PRISMA2020_TEMPLATE:
        if data == "citations_results" and other_methods:
            boxtext = "Citation searching and other methods"
        rows.append((data, node, box, description, boxtext, tooltips, url,
                     numbers.get(data, 0)))
    return _csv(rows)
