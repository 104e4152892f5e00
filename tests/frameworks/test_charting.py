import json
import random
from collections import defaultdict

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frameworks import exports, queries
from frameworks.models import Category, Excerpt, Framework, StudyCode
from references.models import Record
from tests.extraction.tabledata import include_studies
from tests.factories import RecordFactory
from tests.frameworks.chartdata import code, excerpt, make_frameworks, theme

pytestmark = pytest.mark.django_db

B, F, OUT = Excerpt.Kind.BARRIER, Excerpt.Kind.FACILITATOR, Excerpt.Kind.OUTCOME


def test_condense_writes_runs_of_three_or_more_as_ranges():
    assert queries.condense([46, 37, 38, 39, 40, 43, 44]) == "37-40, 43, 44, 46"
    assert queries.condense([1, 2]) == "1, 2"
    assert queries.condense([3, 3, 4, 5]) == "3-5"
    assert queries.condense([]) == ""


def test_studies_are_numbered_by_first_author_then_year_then_study(cast):
    zhou, late, early, abbott, twin = include_studies(cast, [
        ("Zhou, Ann", 2019), ("cassidy, Cy", 2021), ("Cassidy, Dee", 2019),
        ("Abbott, Bo", 2020), ("Cassidy, Eve", 2019)])
    nameless = include_studies(cast, [("", 2018)])[0]
    Record.objects.filter(study=nameless).update(authors=[])

    numbered = queries.numbered_studies(cast.project)

    assert [(s.number, s.study.pk, s.label) for s in numbered] == [
        (1, abbott.pk, "Abbott 2020"), (2, early.pk, "Cassidy 2019"),
        (3, twin.pk, "Cassidy 2019"), (4, late.pk, "cassidy 2021"), (5, zhou.pk, "Zhou 2019"),
        (6, nameless.pk, f"Study {nameless.pk}")]


def test_charting_counts_a_study_once_per_category_with_its_citation_numbers(cast):
    fw = make_frameworks(cast.project)
    c = fw.cat
    s1, s2, s3, s4 = include_studies(cast, [("Adams, A", 2020), ("Brown, B", 2018),
                                            ("Clark, C", 2019), ("Diaz, D", 2021)])
    outside = RecordFactory(project=cast.project, authors=["Aaron, Z"], year=2000).study
    p, ada = cast.project, cast.ada
    for study in (s1, s2, s3):
        code(p, study, c["kta/adapt"], ada)
    code(p, s4, c["kta/identify"], ada)
    code(p, outside, c["kta/identify"], ada)  # not included: never counted
    code(p, s2, c["iap2/collaborate"], ada)
    c["kta/sustain"].retired = True
    c["kta/sustain"].save()
    code(p, s3, c["kta/sustain"], ada)
    code(p, s1, c["wider/meetings"], ada, text="Monthly meetings")
    code(p, s1, c["wider/email"], ada)  # two tags of one study: mode of delivery counts it once
    code(p, s2, c["wider/content"], ada, text="Training")
    time = theme(p, "Lack of time")
    mentor = theme(p, "Mentorship")
    old = theme(p, "Supervisor support", merged_into=mentor)
    excerpt(p, s1, B, ada, [c["com-b-tdf/environment"], c["mcleroy/organizational"]], time)
    excerpt(p, s2, B, ada, [c["com-b-tdf/environment"], c["mcleroy/individual"]], time)
    excerpt(p, s2, B, ada, [c["com-b-tdf/knowledge"], c["mcleroy/individual"]], time)
    excerpt(p, s4, F, ada, [c["com-b-tdf/role"], c["mcleroy/interpersonal"]], mentor)
    excerpt(p, s3, F, ada, [c["com-b-tdf/cap-psy"], c["mcleroy/interpersonal"]], old)
    excerpt(p, s3, OUT, ada, [c["outcomes/immediate"]])
    excerpt(p, s4, OUT, ada, [c["outcomes/immediate"]], time)  # an outcome: not a theme row
    excerpt(p, outside, B, ada, [c["mcleroy/individual"]], time)

    chart = queries.charting(cast.project)

    assert [s.label for s in chart.studies] == ["Adams 2020", "Brown 2018", "Clark 2019",
                                                "Diaz 2021"]
    got = {fw_.name: [(c_.name, c_.depth, c_.retired, c_.n, c_.numbers, c_.citations)
                      for c_ in fw_.categories] for fw_ in chart.frameworks}
    assert got == {
        "KTA action phases": [("Identify problem", 0, False, 1, [4], "4"),
                              ("Adapt knowledge", 0, False, 3, [1, 2, 3], "1-3"),
                              ("Assess barriers", 0, False, 0, [], ""),
                              ("Sustain knowledge use", 0, True, 1, [3], "3")],
        "IAP2 spectrum": [("Inform", 0, False, 0, [], ""), ("Consult", 0, False, 0, [], ""),
                          ("Collaborate", 0, False, 1, [2], "2"),
                          ("Not reported", 0, False, 0, [], "")],
        "WIDER checklist": [("Content", 0, False, 1, [2], "2"),
                            ("Mode of delivery", 0, False, 1, [1], "1"),
                            ("Meetings", 1, False, 1, [1], "1"),
                            ("Email", 1, False, 1, [1], "1")],
        "COM-B / TDF": [("Capability, psychological", 0, False, 2, [2, 3], "2, 3"),
                        ("Knowledge", 1, False, 1, [2], "2"),
                        ("Skills", 1, False, 0, [], ""),
                        ("Opportunity, physical", 0, False, 2, [1, 2], "1, 2"),
                        ("Environmental context", 1, False, 2, [1, 2], "1, 2"),
                        ("Motivation, reflective", 0, False, 1, [4], "4"),
                        ("Role and identity", 1, False, 1, [4], "4")],
        "McLeroy levels": [("Individual", 0, False, 1, [2], "2"),
                           ("Interpersonal", 0, False, 2, [3, 4], "3, 4"),
                           ("Organizational", 0, False, 1, [1], "1")],
        "Outcome categories": [("Immediate", 0, False, 2, [3, 4], "3, 4"),
                               ("Intermediate", 0, False, 0, [], ""),
                               ("Long-term", 0, False, 0, [], "")],
    }
    assert chart.frameworks[0].categories[1].references == "Adams 2020; Brown 2018; Clark 2019"
    assert [(t.name, t.kind, t.levels, t.components, t.n, t.numbers) for t in chart.themes] == [
        ("Lack of time", "barrier", ["Individual", "Organizational"],
         ["Capability, psychological", "Opportunity, physical"], 2, [1, 2]),
        ("Mentorship", "facilitator", ["Interpersonal"],
         ["Capability, psychological", "Motivation, reflective"], 2, [3, 4]),
    ]


def test_a_framework_the_project_stopped_using_is_not_charted(cast):
    fw = make_frameworks(cast.project)
    Framework.objects.filter(pk=fw.iap2.pk).update(active=False)

    chart = queries.charting(cast.project)

    assert [f.name for f in chart.frameworks] == ["KTA action phases", "WIDER checklist",
                                                  "COM-B / TDF", "McLeroy levels",
                                                  "Outcome categories"]


def generated_project(cast, n_studies=30, seed=7):
    """Random codes on a project: included studies and two that are not, every framework,
    retired categories, merged themes."""
    rng = random.Random(seed)
    fw = make_frameworks(cast.project)
    surnames = ["Lee", "Okafor", "Cassidy", "Nguyen", "lee", "Brown"]
    studies = include_studies(cast, [(f"{rng.choice(surnames)}, X{i}", rng.randint(2000, 2022))
                                     for i in range(n_studies)])
    studies += [RecordFactory(project=cast.project, authors=["Aaron, Q"], year=1999).study
                for _ in range(2)]
    cats = list(fw.cat.values())
    Category.objects.filter(pk__in=[fw.cat["kta/assess"].pk, fw.cat["com-b-tdf/skills"].pk]
                            ).update(retired=True)
    themes = [theme(cast.project, f"Theme {i}") for i in range(6)]
    themes.append(theme(cast.project, "Merged away", merged_into=themes[0]))
    study_level = [c for c in cats if c.framework.rule != "excerpt"]
    excerpt_level = [c for c in cats if c.framework.rule == "excerpt"]
    for study in studies:
        for category in rng.sample(study_level, rng.randint(0, 5)):
            code(cast.project, study, category, cast.ada, quote="q")
        for _ in range(rng.randint(0, 4)):
            excerpt(cast.project, study, rng.choice([B, F, OUT]), cast.ada,
                    rng.sample(excerpt_level, rng.randint(0, 4)),
                    rng.choice(themes + [None]))
    return fw


def recompute(project):
    """The charting from the raw rows, written without the query module: included studies
    are those with a record included at full text and no duplicate."""
    from screening.models import Screening, Stage

    included = {r.study_id for r in Record.objects.filter(project=project,
                                                          duplicate_of__isnull=True)
                if Screening.objects.filter(record=r, stage=Stage.FULL_TEXT,
                                            state=Screening.State.INCLUDED).exists()}
    first = {}
    for record in Record.objects.filter(study_id__in=included).order_by("id"):
        first.setdefault(record.study_id, record)

    def key(study_id):
        record = first[study_id]
        surname = record.authors[0].split(",")[0].strip().lower() if record.authors else ""
        return (surname == "", surname, record.year or 0, study_id)

    number = {sid: i + 1 for i, sid in enumerate(sorted(included, key=key))}

    def up(category):
        while category is not None:
            yield category
            category = category.parent

    behind = defaultdict(set)
    for row in StudyCode.objects.filter(project=project):
        if row.study_id in number:
            for c in up(row.category):
                behind[c.pk].add(number[row.study_id])
    for ex in Excerpt.objects.filter(project=project):
        if ex.study_id in number:
            for category in ex.categories.all():
                for c in up(category):
                    behind[c.pk].add(number[ex.study_id])

    def ordered(categories, parent=None):
        for c in sorted((c for c in categories if c.parent_id == parent),
                        key=lambda c: (c.position, c.pk)):
            yield c
            yield from ordered(categories, c.pk)

    frameworks = []
    for framework in Framework.objects.filter(project=project, active=True).order_by(
            "position", "id"):
        frameworks.append({"name": framework.name, "categories": [
            {"name": c.name, "n": len(behind[c.pk]), "studies": sorted(behind[c.pk])}
            for c in ordered(list(framework.categories.all()))]})

    themes = defaultdict(lambda: {"studies": set(), "levels": set(), "components": set()})
    for ex in Excerpt.objects.filter(project=project, kind__in=[B, F], theme__isnull=False):
        if ex.study_id not in number:
            continue
        target = ex.theme
        while target.merged_into is not None:
            target = target.merged_into
        entry = themes[(target.name, ex.kind)]
        entry["studies"].add(number[ex.study_id])
        for category in ex.categories.all():
            if category.framework.key == "mcleroy":
                entry["levels"].add((category.position, category.name))
            if category.framework.key == "com-b-tdf":
                top = list(up(category))[-1]
                entry["components"].add((top.position, top.name))
    return frameworks, {
        (name, kind): {"levels": [n for _, n in sorted(e["levels"])],
                       "components": [n for _, n in sorted(e["components"])],
                       "n": len(e["studies"]), "studies": sorted(e["studies"])}
        for (name, kind), e in themes.items()}


def test_every_charting_count_matches_a_recomputation_from_the_raw_codes(cast):
    generated_project(cast)

    data = exports.charting_json(queries.charting(cast.project))
    frameworks, themes = recompute(cast.project)

    assert data["frameworks"] == frameworks
    assert {(t["name"], t["kind"]): {k: t[k] for k in ("levels", "components", "n", "studies")}
            for t in data["themes"]} == themes
    assert len(data["themes"]) == len(themes)
    assert sum(c["n"] for f in frameworks for c in f["categories"]) > 50  # the data is not empty


def test_charting_runs_a_fixed_number_of_queries(cast):
    fw = make_frameworks(cast.project)
    c = fw.cat
    reading = theme(cast.project, "Reading")

    def coded(authors_years):
        for study in include_studies(cast, authors_years):
            code(cast.project, study, c["kta/adapt"], cast.ada)
            excerpt(cast.project, study, B, cast.ada,
                    [c["com-b-tdf/knowledge"], c["mcleroy/individual"]], reading)

    def queries_for():
        with CaptureQueriesContext(connection) as ctx:
            chart = queries.charting(cast.project)
        return len(ctx.captured_queries), len(chart.studies)

    coded([("Lee, A", 2020)])
    one = queries_for()
    coded([("Kim, B", 2021), ("Ng, C", 2022)])
    three = queries_for()

    assert (one[1], three[1]) == (1, 3)
    assert three[0] == one[0]


def small_chart(cast):
    fw = make_frameworks(cast.project)
    c = fw.cat
    s1, s2 = include_studies(cast, [("Cassidy, C", 2021), ("=Bad, B", 2019)])
    code(cast.project, s1, c["kta/identify"], cast.ada, quote="We named the gap", page="4")
    code(cast.project, s2, c["kta/identify"], cast.ada)
    code(cast.project, s1, c["iap2/collaborate"], cast.ada)
    excerpt(cast.project, s1, B, cast.ada,
            [c["com-b-tdf/cap-psy"], c["com-b-tdf/knowledge"], c["mcleroy/individual"]],
            theme(cast.project, "Unfamiliar methods"), text="Partners did not know the methods",
            page="7")
    return fw, s1, s2


def test_export_charting_json_is_exactly_the_issue_shape(cast, tmp_path):
    small_chart(cast)
    out = tmp_path / "chart.json"

    call_command("export_charting", "ikt", "--format", "json", "--out", str(out))

    zero = lambda names: [{"name": n, "n": 0, "studies": []} for n in names]  # noqa: E731
    assert json.loads(out.read_text()) == {
        "frameworks": [
            {"name": "KTA action phases", "categories": [
                {"name": "Identify problem", "n": 2, "studies": [1, 2]},
                *zero(["Adapt knowledge", "Assess barriers", "Sustain knowledge use"])]},
            {"name": "IAP2 spectrum", "categories": [
                *zero(["Inform", "Consult"]), {"name": "Collaborate", "n": 1, "studies": [2]},
                *zero(["Not reported"])]},
            {"name": "WIDER checklist", "categories": zero(["Content", "Mode of delivery",
                                                            "Meetings", "Email"])},
            {"name": "COM-B / TDF", "categories": [
                {"name": "Capability, psychological", "n": 1, "studies": [2]},
                {"name": "Knowledge", "n": 1, "studies": [2]},
                *zero(["Skills", "Opportunity, physical", "Environmental context",
                       "Motivation, reflective", "Role and identity"])]},
            {"name": "McLeroy levels", "categories": [
                {"name": "Individual", "n": 1, "studies": [2]},
                *zero(["Interpersonal", "Organizational"])]},
            {"name": "Outcome categories", "categories": zero(["Immediate", "Intermediate",
                                                               "Long-term"])},
        ],
        "themes": [{"name": "Unfamiliar methods", "kind": "barrier", "levels": ["Individual"],
                    "components": ["Capability, psychological"], "n": 1, "studies": [2]}],
    }


def test_export_charting_csv_and_xlsx_hold_the_counts_and_studies(cast, tmp_path):
    small_chart(cast)
    csv_out, xlsx_out = tmp_path / "chart.csv", tmp_path / "chart.xlsx"

    call_command("export_charting", "ikt", "--format", "csv", "--out", str(csv_out))
    call_command("export_charting", "ikt", "--format", "xlsx", "--out", str(xlsx_out))

    lines = csv_out.read_text().splitlines()
    assert lines[0] == ("section,framework,name,retired,kind,levels,components,n,studies,"
                        "references")
    assert lines[1] == ("framework,KTA action phases,Identify problem,,,,,2,\"1, 2\","
                        "'=Bad 2019; Cassidy 2021")
    assert lines[-1] == ("theme,,Unfamiliar methods,,barrier,Individual,"
                         "\"Capability, psychological\",1,2,Cassidy 2021")
    assert len(lines) == 1 + 25 + 1
    book = openpyxl.load_workbook(xlsx_out)
    assert book.sheetnames == ["Frameworks", "Themes", "Studies"]
    assert [c.value for c in book["Frameworks"][2]] == [
        "KTA action phases", "Identify problem", None, 2, "1, 2", "'=Bad 2019; Cassidy 2021"]
    assert [[c.value for c in row] for row in book["Themes"].iter_rows(min_row=2)] == [
        ["Unfamiliar methods", "barrier", "Individual", "Capability, psychological", 1, "2"]]
    assert [[c.value for c in row][:2] for row in book["Studies"].iter_rows(min_row=2)] == [
        [1, "'=Bad 2019"], [2, "Cassidy 2021"]]


def test_export_charting_names_an_unknown_project(cast, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("export_charting", "nope", "--out", str(tmp_path / "x.json"))


def test_matrix_cells_count_the_evidence_and_open_the_quotes(cast):
    fw, s1, s2 = small_chart(cast)
    c = fw.cat

    kta = queries.matrix(cast.project, fw.kta)
    comb = queries.matrix(cast.project, fw.comb)

    assert [(s.label, [n for _, n in cells]) for s, cells in kta.rows] == [
        ("=Bad 2019", [1, 0, 0, 0]), ("Cassidy 2021", [1, 0, 0, 0])]
    assert [(s.label, [n for _, n in cells]) for s, cells in comb.rows] == [
        ("=Bad 2019", [0, 0, 0, 0, 0, 0, 0]), ("Cassidy 2021", [1, 1, 0, 0, 0, 0, 0])]
    evidence = queries.cell_evidence(cast.project, s1, c["kta/identify"])
    assert [(e.text, e.page, e.kind) for e in evidence] == [("We named the gap", "4", "code")]
    evidence = queries.cell_evidence(cast.project, s1, c["com-b-tdf/cap-psy"])
    assert [(e.text, e.page, e.kind) for e in evidence] == [
        ("Partners did not know the methods", "7", "barrier")]
