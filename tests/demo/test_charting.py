"""The demo's extraction and coding (demo.charting, demo.plan): the paper's counts in the
consensus table and the charting, the open work, and a second run that changes nothing."""

from collections import Counter

from demo import charting
from demo.plan import Hint, plan_studies
from demo.seed import Seeding
from extraction.models import Extraction
from extraction.queries import extraction_table, frequencies, round_extractions, status_of
from frameworks.figure import figure_svg
from frameworks.models import StudyCoding
from frameworks.queries import charting as charting_counts
from projects.models import AuditEvent
from tests.extraction.tabledata import include_studies

N = 72
PAPER_TYPE = {"Peer-reviewed study": 34, "Thesis": 26, "Web-based source": 9,
              "Other grey literature": 3}
DESIGN = {"Participatory action research": 41, "Mixed or multi-methods": 12, "Codesign": 1,
          "Scoping or systematic review": 2, "Other qualitative": 12, "Other": 4}
COUNTRY = {"Canada": 35, "United States": 23, "United Kingdom": 6, "Australia": 5,
           "Iceland": 1, "Norway": 1, "Slovenia": 1}
DISCIPLINE = {"Nursing": 14, "Education": 12, "Public/population health": 8, "Medicine": 5,
              "Social work": 5, "Occupational health": 3, "Physiotherapy": 2, "Dietetics": 1,
              "Speech language pathology": 1, "Other": 15, "No answer": 6}
LEVEL = {"Master's": 12, "Doctoral": 52, "Postdoctoral": 6, "No answer": 2}


def seeding(cast, *, complete: bool) -> Seeding:
    users = {"lead": cast.lead, "ada": cast.ada, "ben": cast.ben, "cy": cast.cy}
    return Seeding(project=cast.project, complete=complete, demo=None, users=users)


def included(cast):
    return include_studies(cast, [(f"Author{i:02d}, A", 2005 + i % 16) for i in range(N)])


def extraction_counts(project) -> dict[str, dict[str, int]]:
    table = extraction_table(project)
    return {f.field.key: {c.label: c.n for c in f.categories if c.n}
            for f in frequencies(table)}


def headline(project) -> dict[str, dict[str, int]]:
    chart = charting_counts(project)
    return {f.framework.source_key: {c.category.key: c.n for c in f.categories}
            for f in chart.frameworks}


def assert_paper_charting(project):
    counts = headline(project)
    assert counts["kta"]["adapt-knowledge"] == 34
    assert counts["kta"]["identify-problem"] == 30
    assert counts["kta"]["assess-barriers"] == 14
    assert counts["iap2"] == {"inform": 2, "consult": 8, "involve": 12, "collaborate": 43,
                              "empower": 3, "not-reported": 4}
    assert counts["outcomes"] == {"immediate": 38, "intermediate": 40, "long-term": 15,
                                  "none-reported": 20}
    assert {k: counts["wider"][k] for k in ("meetings", "written-communication", "email",
                                            "phone")} == {
        "meetings": 27, "written-communication": 11, "email": 7, "phone": 6}
    assert set(counts["mcleroy"]) == {"individual", "interpersonal", "organizational"}


def test_plan_without_works_has_the_papers_counts():
    plans = plan_studies([Hint() for _ in range(N)])

    assert Counter(p.paper_type for p in plans) == PAPER_TYPE
    assert Counter(p.design if p.design != "__other__" else "Other" for p in plans) == DESIGN
    assert Counter(p.country for p in plans) == {"CA": 35, "US": 23, "GB": 6, "AU": 5,
                                                 "NO": 1, "SI": 1, "IS": 1}
    assert Counter(p.level or "none" for p in plans) == {"Master's": 12, "Doctoral": 52,
                                                         "Postdoctoral": 6, "none": 2}
    assert not any(p.paper_type == "Thesis" and p.level == "Postdoctoral" for p in plans)
    assert Counter(p.iap2 for p in plans)["collaborate"] == 43
    assert all(p.kta and p.research_stages for p in plans)


def test_plan_follows_the_works_where_the_counts_allow():
    hints = ([Hint(kinds=["THES"], trainee="master's student", setting="Iceland",
                   discipline="dietetics", design="a co-design study")]
             + [Hint(kinds=["THES", "JOUR"], trainee="PhD candidate")]
             + [Hint() for _ in range(N - 2)])

    first, second = plan_studies(hints)[:2]

    assert (first.paper_type, first.level, first.country, first.disciplines, first.design) == (
        "Thesis", "Master's", "IS", ["Dietetics"], "Codesign")
    assert (second.paper_type, second.level) == ("Peer-reviewed study", "Doctoral")


def test_fill_open_leaves_work_then_complete_reproduces_the_paper_and_again_changes_nothing(
        cast):
    included(cast)
    project = cast.project

    charting.fill(seeding(cast, complete=False))

    main = round_extractions(project, "main")
    statuses = Counter(status_of(found, mode="dual", round="main") for found in main.values())
    assert statuses == {"complete": N - 2, "awaiting_consensus": 2}
    assert Counter(StudyCoding.objects.filter(project=project)
                   .values_list("status", flat=True)) == {"verified": N - 1, "coded": 1}
    assert len(extraction_table(project).rows) == N - 2
    assert_paper_charting(project)  # every code counts, verified or not
    # The pilot: three studies extracted by ada and ben before the main round.
    pilot = round_extractions(project, "pilot")
    assert sorted(len(found) for found in pilot.values()) == [2, 2, 2]
    open_again = seeding(cast, complete=False)
    charting.fill(open_again)
    assert open_again.done == []

    finished = seeding(cast, complete=True)
    charting.fill(finished)

    assert finished.done == ["studies settled in consensus by lead: 2", "codes verified: 11"]
    main = round_extractions(project, "main")
    assert Counter(status_of(found, mode="dual", round="main")
                   for found in main.values()) == {"complete": N}
    assert Counter(StudyCoding.objects.filter(project=project)
                   .values_list("status", flat=True)) == {"verified": N}
    counts = extraction_counts(project)
    assert counts["paper_type"] == PAPER_TYPE
    assert counts["study_design"] == DESIGN
    assert counts["country"] == COUNTRY
    assert counts["trainee_discipline"] == DISCIPLINE
    assert counts["training_level"] == LEVEL
    assert len(extraction_table(project).rows) == N
    assert_paper_charting(project)
    # Where ada and ben differed, the lead took one side (9 studies).
    assert Extraction.objects.filter(project=project, role="consensus",
                                     answers__source__in=["first", "second"]
                                     ).distinct().count() == 9
    chart = charting_counts(project)
    assert {level for theme in chart.themes for level in theme.levels} == {
        "Individual (intrapersonal)", "Interpersonal", "Organizational (institutional)"}
    assert {t.kind for t in chart.themes} == {"barrier", "facilitator"}
    assert "Supportive supervisors and mentors" in figure_svg(chart)
    events = AuditEvent.objects.count()

    again = seeding(cast, complete=True)
    charting.fill(again)

    assert again.done == []
    assert AuditEvent.objects.count() == events
