"""Every PRISMA number of generated projects, the arithmetic checks, and the records behind
each number (each list as long as its number)."""

import pytest

from references.models import Record, Source
from reports import prisma
from screening.models import ExclusionReason, Screening
from tests.factories import StudyFactory
from tests.reports import prismadata as data
from tests.reports.prismadata import FT, TA


def every_number(flow: prisma.Flow) -> list[tuple[str, str | None, str | None, int]]:
    """(box, key, column, n) for every number the diagram and the JSON show."""
    numbers = []
    for s in flow.main.sources + flow.other.sources:
        box = "identified_other" if s.kind == "other" else "identified_databases"
        numbers.append((box, str(s.source_id), None, s.n))
    j = flow.as_json()
    numbers.append(("identified_databases", None, None, sum(j["identified_databases"].values())))
    numbers.append(("identified_other", None, None, sum(j["identified_other"].values())))
    for box in ("duplicates_removed", "automation_removed", "other_removed", "screened",
                "excluded_screening", "sought_retrieval", "not_retrieved",
                "assessed_eligibility", "included_studies", "included_reports"):
        numbers.append((box, None, None, j[box]))
    numbers += [(box, None, None, n) for box, n in j["in_progress"].items()]
    numbers.append(("excluded_eligibility", None, None, sum(j["excluded_eligibility"].values())))
    numbers += [("excluded_eligibility", r.url_key, None, r.n)
                for r in flow.excluded_eligibility()]
    for name, col in (("main", flow.main), ("other", flow.other)):
        for box, n in (("duplicates_removed", col.duplicates),
                       ("automation_removed", col.automation),
                       ("other_removed", col.removed_other), ("sought_retrieval", col.sought),
                       ("not_retrieved", col.not_retrieved), ("assessed_eligibility",
                                                              col.assessed),
                       ("excluded_eligibility", col.excluded_eligibility),
                       ("full_text_awaiting", col.ft_awaiting),
                       ("full_text_conflict", col.ft_conflict),
                       ("included_reports", col.included_reports)):
            numbers.append((box, None, name, n))
        numbers += [("excluded_eligibility", r.url_key, name, r.n) for r in col.excluded]
    return numbers


def assert_every_list_matches(project, flow):
    for box, key, column, n in every_number(flow):
        assert prisma.box_records(project, box, key, column).count() == n, (box, key, column)


def test_flow_of_a_project_in_several_states(cast):
    data.several_states(cast)

    flow = prisma.flow(cast.project)

    assert flow.as_json() == data.SEVERAL_STATES_JSON
    assert list(flow.as_json()) == list(prisma.JSON_KEYS)
    assert flow.problems == []
    assert flow.other_column is True
    main, other = flow.main, flow.other
    assert (main.identified, main.duplicates, main.automation, main.removed_other,
            main.screened, main.excluded_screening, main.ta_awaiting, main.ta_conflict) == (
        17, 1, 1, 1, 14, 3, 3, 2)
    assert (main.sought, main.not_retrieved, main.assessed, main.ft_awaiting, main.ft_conflict,
            main.included_reports) == (6, 1, 5, 0, 1, 1)
    assert [(r.key, r.n) for r in main.excluded] == [("Wrong design", 2),
                                                     ("Author not a trainee", 1)]
    assert (other.identified, other.removed, other.sought, other.not_retrieved, other.assessed,
            other.ft_awaiting, other.ft_conflict, other.included_reports) == (
        3, 0, 3, 1, 2, 1, 0, 1)
    assert other.excluded == []


def test_every_list_of_a_project_in_several_states_is_as_long_as_its_number(cast):
    data.several_states(cast)
    flow = prisma.flow(cast.project)

    assert_every_list_matches(cast.project, flow)
    assert len(every_number(flow)) == 47  # 6 sources, 18 totals and reasons, 23 by column


def test_the_lists_hold_exactly_the_records_of_their_box(cast):
    b = data.several_states(cast)
    m, e = b.medline, b.embase

    def ids(box, key=None, column=None):
        return set(prisma.box_records(cast.project, box, key, column).values_list("pk",
                                                                                 flat=True))

    assert ids("duplicates_removed") == {e[0].pk}
    assert ids("automation_removed") == {m[7].pk}
    assert ids("other_removed") == {b.trials[1].pk}
    assert ids("title_abstract_conflict") == {m[5].pk, e[2].pk}
    assert ids("title_abstract_awaiting") == {m[6].pk, b.trials[0].pk, b.embase2[0].pk}
    assert ids("excluded_screening") == {m[4].pk, b.websites[1].pk, e[3].pk}
    assert ids("not_retrieved") == {m[2].pk, b.experts[1].pk}
    assert ids("not_retrieved", column="other") == {b.experts[1].pk}
    assert ids("full_text_conflict") == {m[3].pk}
    assert ids("full_text_awaiting") == {b.experts[2].pk}
    assert ids("included_reports") == {m[0].pk, b.experts[0].pk}
    wrong_design = ExclusionReason.objects.get(project=cast.project, label="Wrong design")
    assert ids("excluded_eligibility", str(wrong_design.pk)) == {m[1].pk, b.websites[0].pk}
    assert ids("identified_databases", str(b.embase2[0].source_id)) == {b.embase2[0].pk}
    studies = list(prisma.box_records(cast.project, "included_studies"))
    assert [sorted(r.pk for r in s.included_reports) for s in studies] == [
        sorted([m[0].pk, b.experts[0].pk])]


def test_a_duplicate_unmerged_goes_back_to_screening(cast):
    p = cast.project
    medline = data.import_source(p, cast.lead, "MEDLINE", 3)
    data.merge(cast, medline[1], medline[0])
    merged = prisma.flow(p).as_json()

    data.unmerge(cast, medline[1])
    unmerged = prisma.flow(p).as_json()

    assert (merged["duplicates_removed"], merged["screened"]) == (1, 2)
    assert (unmerged["duplicates_removed"], unmerged["screened"]) == (0, 3)
    assert unmerged["in_progress"]["title_abstract_awaiting"] == 3


def test_a_reopened_record_leaves_its_box_until_settled_again(cast):
    record = data.import_source(cast.project, cast.lead, "MEDLINE", 1)[0]
    data.both(cast, record, "include")
    data.both(cast, record, "exclude", FT, "Wrong design")

    data.reopen(cast, record, FT)
    reopened = prisma.flow(cast.project)
    data.resolve(cast, record, FT, "include")
    settled = prisma.flow(cast.project)

    assert reopened.as_json()["excluded_eligibility"] == {}
    assert reopened.as_json()["in_progress"]["full_text_conflict"] == 1
    assert reopened.problems == []
    assert (settled.included_reports, settled.included_studies) == (1, 1)
    assert settled.as_json()["in_progress"]["full_text_conflict"] == 0


def test_removed_records_and_restored_ones(cast):
    p = cast.project
    records = data.import_source(p, cast.lead, "MEDLINE", 4)
    data.remove(cast, records[:2], "automation")
    data.remove(cast, records[2:3], "other")
    refs_restored = records[1]
    from references import services as refs
    refs.restore_to_screening(p, [refs_restored.pk], user=cast.lead)

    j = prisma.flow(p).as_json()

    assert (j["automation_removed"], j["other_removed"], j["screened"]) == (1, 1, 2)


def test_a_single_column_review_has_no_other_column_and_keeps_zero_keys(cast):
    p = cast.project
    data.import_source(p, cast.lead, "MEDLINE", 2)
    data.import_source(p, cast.lead, "Google", 1, kind="other", method="websites")

    flow = prisma.flow(p)

    assert flow.other_column is False
    assert flow.as_json() == {
        "identified_databases": {"MEDLINE": 2}, "identified_other": {"Google": 1},
        "duplicates_removed": 0, "automation_removed": 0, "other_removed": 0, "screened": 3,
        "excluded_screening": 0, "sought_retrieval": 0, "not_retrieved": 0,
        "assessed_eligibility": 0, "excluded_eligibility": {}, "included_studies": 0,
        "included_reports": 0,
        "in_progress": {"title_abstract_awaiting": 3, "title_abstract_conflict": 0,
                        "full_text_awaiting": 0, "full_text_conflict": 0}}


def test_an_empty_project_adds_up(cast):
    flow = prisma.flow(cast.project)

    assert flow.problems == []
    assert flow.as_json()["identified_databases"] == {}
    assert flow.rows()[-4:] == [("in_progress", "title_abstract_awaiting", 0),
                                ("in_progress", "title_abstract_conflict", 0),
                                ("in_progress", "full_text_awaiting", 0),
                                ("in_progress", "full_text_conflict", 0)]


def test_the_papers_flow_gives_the_papers_numbers(cast):
    """Cassidy et al. 2021: 3237 database + 23 other = 3260 identified, 365 duplicates, 2895
    screened, 2552 excluded, 343 assessed, 269 excluded, 74 reports of 72 studies. Imported
    through the service; the screening outcomes are written as rows (two votes each would
    take minutes here; the services' own tests cover how votes settle them)."""
    p, lead = cast.project, cast.lead
    from screening import services
    services.settings_for(p, FT)
    databases = [data.import_source(p, lead, name, n) for name, n in (
        ("MEDLINE (Ovid)", 1000), ("Embase (Elsevier)", 1200), ("CINAHL (EBSCO)", 637),
        ("PsycINFO (EBSCO)", 400))]
    other = data.import_source(p, lead, "Grey literature and experts", 23, kind="other",
                               method="other")
    records = [r for source in databases for r in source] + other
    duplicates, rest = records[:365], records[365:]
    Record.objects.filter(pk__in=[r.pk for r in duplicates]).update(duplicate_of=rest[0])
    reasons = list(ExclusionReason.objects.filter(project=p, stage=FT).order_by("position"))
    rows = []
    for i, record in enumerate(rest):
        included_ta = i < 343
        rows.append(Screening(project=p, record=record, stage=TA, votes_in=2,
                              state="included" if included_ta else "excluded"))
        if included_ta:
            included_ft = i < 74
            rows.append(Screening(project=p, record=record, stage=FT, votes_in=2,
                                  state="included" if included_ft else "excluded",
                                  reason=None if included_ft else reasons[i % 3]))
    Screening.objects.bulk_create(rows)
    for a, b in ((rest[0], rest[1]), (rest[2], rest[3])):  # two studies with two reports
        Record.objects.filter(pk=b.pk).update(study=Record.objects.get(pk=a.pk).study)

    flow = prisma.flow(p)
    j = flow.as_json()

    assert sum(j["identified_databases"].values()) == 3237
    assert j["identified_other"] == {"Grey literature and experts": 23}
    assert (j["duplicates_removed"], j["screened"], j["excluded_screening"],
            j["sought_retrieval"], j["not_retrieved"], j["assessed_eligibility"],
            sum(j["excluded_eligibility"].values()), j["included_reports"],
            j["included_studies"]) == (365, 2895, 2552, 343, 0, 343, 269, 74, 72)
    assert j["excluded_eligibility"] == {"Wrong design": 90, "Author not a trainee": 89,
                                         "Partnership approach not described": 90}
    assert flow.problems == []


def _flow(**changes) -> prisma.Flow:
    """A hand-made consistent flow: 10 identified, 2 removed, 8 screened, 3 excluded, 1 open,
    4 sought, 1 not retrieved, 3 assessed, 1 excluded, 2 reports of 1 study."""
    main = prisma.Column(sources=[prisma.SourceCount("MEDLINE", 1, "MEDLINE", "database", "",
                                                     10)],
                         duplicates=2, screened=8, excluded_screening=3, ta_awaiting=1,
                         sought=4, not_retrieved=1, assessed=3,
                         excluded=[prisma.ReasonCount("Wrong design", 1, 1)],
                         included_reports=2)
    for name, value in changes.items():
        setattr(main, name, value)
    return prisma.Flow(main=main, other=prisma.Column(), included_studies=1,
                       included_reports=2)


def test_a_consistent_hand_made_flow_has_no_problems():
    assert _flow().problems == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"screened": 9}, "records identified (10) − removed before screening (2) = 8, but "
                      "records screened = 9."),
    ({"excluded_screening": 2}, "records screened (8) − excluded (2) − still in screening (1) "
                                "= 5, but reports sought for retrieval = 4."),
    ({"not_retrieved": 0}, "reports sought (4) − not retrieved (0) = 4, but reports assessed "
                           "= 3."),
    ({"ft_conflict": 1}, "reports assessed (3) − excluded (1) − still in full-text review (1) "
                         "= 1, but reports included = 2."),
])
def test_a_broken_sum_is_a_problem_in_the_boxes_words(changes, problem):
    flow = _flow(**changes)

    assert problem in flow.problems


def test_more_studies_than_reports_is_a_problem():
    flow = _flow()
    flow.included_studies = 3

    assert flow.problems == ["studies included (3) outnumber their reports (2)."]


def test_sources_with_the_same_name_get_unique_keys(cast):
    p = cast.project
    for _ in range(3):
        data.import_source(p, cast.lead, "Embase", 1)
    data.import_source(p, cast.lead, "Embase (2)", 1)

    keys = list(prisma.flow(p).as_json()["identified_databases"])

    assert keys == ["Embase", "Embase (2)", "Embase (3)", "Embase (2) (2)"]


def test_an_unknown_box_or_key_is_refused(cast):
    with pytest.raises(KeyError):
        prisma.box_records(cast.project, "nothing")
    with pytest.raises(ValueError):
        prisma.box_records(cast.project, "screened", "3")
    with pytest.raises(ValueError):
        prisma.box_records(cast.project, "identified_other", "x")
    with pytest.raises(ValueError):
        prisma.box_records(cast.project, "screened", column="left")


def test_a_study_record_in_another_project_never_counts(cast):
    data.several_states(cast)
    other = StudyFactory()
    Source.objects.create(project=other.project, name="MEDLINE")

    assert prisma.flow(cast.project).as_json() == data.SEVERAL_STATES_JSON
