"""PRISMA 2020's boxes, derived from the models: exact counts for a known flow, the studies
contract, and a property test over generated sequences of actions (every box recomputed
record by record must equal the grouped query, and the boxes must add up)."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.models import Membership, Role
from references import deduplication
from references import services as ref_services
from references.models import DuplicateCandidate, Record
from screening import prisma, queries, services
from screening.models import ExclusionReason, Screening, Stage
from tests.factories import MembershipFactory, ProjectFactory, RecordFactory, SourceFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
REASONS = ["Wrong design", "Author not a trainee"]


def vote(record, who, decision, stage=TA, reason=""):
    return services.record_vote(Record.objects.get(pk=record.pk), stage=stage, reviewer=who,
                                decision=decision, reason=reason)


def both(record, cast, decision, stage=TA, reason=""):
    vote(record, cast.ada, decision, stage, reason)
    vote(record, cast.ben, decision, stage, reason)


def test_counts_of_a_known_flow(cast):
    medline = SourceFactory(project=cast.project, name="MEDLINE", kind="database")
    trials = SourceFactory(project=cast.project, name="Trials", kind="register")
    experts = SourceFactory(project=cast.project, name="Experts", kind="other", method="other",
                            starts_at_full_text=True)
    m = [RecordFactory(project=cast.project, source=medline) for _ in range(6)]
    t = RecordFactory(project=cast.project, source=trials)
    e = [RecordFactory(project=cast.project, source=experts) for _ in range(3)]
    Record.objects.filter(pk=t.pk).update(duplicate_of=m[0])
    ref_services.remove_before_screening(cast.project, [m[5].pk], reason="automation",
                                         user=cast.lead)
    both(m[0], cast, "include")
    both(m[1], cast, "include")
    both(m[2], cast, "include")
    both(m[3], cast, "exclude")
    vote(m[4], cast.ada, "include")  # still open
    both(m[0], cast, "include", FT)
    both(m[1], cast, "exclude", FT, reason="Wrong design")
    services.set_full_text(Record.objects.get(pk=m[2].pk), user=cast.lead, not_retrieved=True)
    both(e[0], cast, "include", FT)
    both(e[1], cast, "exclude", FT, reason="Author not a trainee")
    ref_services.link_to_study(e[0], study_of=m[0], user=cast.lead)  # a second report

    counts = prisma.prisma_counts(cast.project)

    assert counts.check() == []
    main, other = counts.main, counts.other
    assert main.by_source == [("MEDLINE", "database", 6), ("Trials", "register", 1)]
    assert (main.identified, main.duplicates, main.removed_automation, main.removed_other,
            main.screened, main.screened_excluded, main.screened_open) == (7, 1, 1, 0, 5, 1, 1)
    assert (main.sought, main.not_retrieved, main.assessed, main.included,
            main.assessed_open) == (3, 1, 2, 1, 0)
    assert main.excluded_by_reason == [("Wrong design", 1)]
    assert other.by_source == [("Experts", "other", 3)]
    assert (other.identified, other.duplicates, other.sought, other.not_retrieved,
            other.assessed, other.included, other.assessed_open) == (3, 0, 3, 0, 3, 1, 1)
    assert other.excluded_by_reason == [("Author not a trainee", 1)]
    assert (counts.reports_included, counts.studies_included) == (2, 1)


def test_a_study_with_one_report_included_and_one_excluded_is_included(cast):
    thesis, article, excluded = (RecordFactory(project=cast.project) for _ in range(3))
    for record in (thesis, article, excluded):
        both(record, cast, "include")
    both(thesis, cast, "include", FT)
    both(article, cast, "exclude", FT, reason="Wrong design")
    both(excluded, cast, "exclude", FT, reason="Wrong design")
    ref_services.link_to_study(article, study_of=thesis, user=cast.lead)

    studies = list(queries.included_studies(cast.project))

    assert [s.pk for s in studies] == [Record.objects.get(pk=thesis.pk).study_id]
    assert [r.pk for r in studies[0].included_reports] == [thesis.pk]


def test_included_studies_reads_in_a_fixed_number_of_queries(cast, django_assert_num_queries):
    for _ in range(3):
        record = RecordFactory(project=cast.project)
        both(record, cast, "include")
        both(record, cast, "include", FT)

    with django_assert_num_queries(2):
        studies = list(queries.included_studies(cast.project))
        assert sum(len(s.included_reports) for s in studies) == 3


# --- The property test --------------------------------------------------------------------

N_RECORDS = 8
# Records 0-4 from a database, 5 from a register, 6 from other methods screened like the
# databases, 7 from other methods that start at full text.
SOURCE_OF = [0, 0, 0, 0, 0, 1, 2, 3]

rec = st.integers(0, N_RECORDS - 1)
who = st.integers(0, 2)
stage = st.sampled_from([TA, FT])
decision = st.sampled_from(["include", "exclude", "maybe"])
reason = st.integers(0, len(REASONS) - 1)
actions = st.lists(st.one_of(
    st.tuples(st.just("vote"), rec, stage, who, decision, reason),
    st.tuples(st.just("vote"), rec, stage, who, decision, reason),  # votes are most common
    st.tuples(st.just("undo"), rec, stage, who),
    st.tuples(st.just("resolve"), rec, stage, st.sampled_from(["include", "exclude"]), reason),
    st.tuples(st.just("reopen"), rec, stage),
    st.tuples(st.just("not_retrieved"), rec, st.booleans()),
    st.tuples(st.just("remove"), rec, st.sampled_from(["automation", "other"])),
    st.tuples(st.just("restore"), rec),
    st.tuples(st.just("merge"), rec, rec),
    st.tuples(st.just("unmerge"), rec),
    st.tuples(st.just("link"), rec, rec),
    st.tuples(st.just("rename"), reason),
    st.tuples(st.just("retire"), reason),
), max_size=40)

EXPECTED = (services.ScreeningError, ref_services.ServiceError, deduplication.DedupError)


def _apply(project, records, people, action) -> None:
    lead, reviewers = people
    kind, *args = action
    record = Record.objects.get(pk=records[args[0]].pk) if kind not in ("rename",
                                                                         "retire") else None
    if kind == "vote":
        _, stage_, i, decision_, r = args
        services.record_vote(record, stage=stage_, reviewer=reviewers[i], decision=decision_,
                             reason=REASONS_OF[project.pk][r] if stage_ == FT else "")
    elif kind == "undo":
        services.undo_vote(record, stage=args[1], reviewer=reviewers[args[2]])
    elif kind in ("resolve", "reopen"):
        screening = Screening.objects.filter(record=record, stage=args[1]).first()
        if screening is None:
            return
        membership = Membership.objects.get(project=project, user=lead)
        if kind == "reopen":
            services.reopen(screening, membership=membership)
        else:
            services.resolve(screening, membership=membership, decision=args[2],
                             reason=REASONS_OF[project.pk][args[3]])
    elif kind == "not_retrieved":
        services.set_full_text(record, user=lead, not_retrieved=args[1])
    elif kind == "remove":
        ref_services.remove_before_screening(project, [record.pk], reason=args[1], user=lead)
    elif kind == "restore":
        ref_services.restore_to_screening(project, [record.pk], user=lead)
    elif kind == "merge":
        other = records[args[1]]
        if other.pk == record.pk:
            return
        a, b = sorted([record.pk, other.pk])
        candidate, _ = DuplicateCandidate.objects.get_or_create(
            project=project, record_a_id=a, record_b_id=b)
        deduplication.decide_duplicate(candidate, primary=record, user=lead)
    elif kind == "unmerge":
        deduplication.unmerge(record, user=lead)
    elif kind == "link":
        ref_services.link_to_study(record, study_of=Record.objects.get(
            pk=records[args[1]].pk), user=lead)
    elif kind == "rename":
        reason_ = ExclusionReason.objects.get(project=project,
                                              label=REASONS_OF[project.pk][args[0]])
        label = f"{reason_.label} (renamed)"
        services.rename_reason(reason_, label=label, user=lead)
        REASONS_OF[project.pk][args[0]] = label
    elif kind == "retire":
        reason_ = ExclusionReason.objects.get(project=project,
                                              label=REASONS_OF[project.pk][args[0]])
        services.set_reason_active(reason_, active=False, user=lead)


REASONS_OF: dict[int, list[str]] = {}


def _by_record(project) -> prisma.PrismaCounts:
    """The same boxes, one record at a time in Python: the oracle for the grouped query."""
    main, other = prisma.Column(), prisma.Column()
    excluded = {id(main): Counter(), id(other): Counter()}
    for source in project.sources.order_by("imported_at", "id"):
        col = other if source.starts_at_full_text else main
        n = source.records.count()
        col.by_source.append((source.name, source.method or source.kind, n))
        col.identified += n
    included_studies = set()
    reports = 0
    for r in Record.objects.filter(project=project).select_related("source"):
        col = other if r.source.starts_at_full_text else main
        state = {s.stage: s for s in r.screenings.all()}
        if r.duplicate_of_id:
            col.duplicates += 1
            continue
        if r.removed_reason:
            if r.removed_reason == "automation":
                col.removed_automation += 1
            else:
                col.removed_other += 1
            continue
        if col is main:
            col.screened += 1
            ta = state.get(TA)
            if ta and ta.state == "excluded":
                col.screened_excluded += 1
                continue
            if not ta or ta.state != "included":
                col.screened_open += 1
                col.screened_conflict += bool(ta and ta.state == "conflict")
                continue
        col.sought += 1
        ft = state.get(FT)
        if ft and ft.state == "not_retrieved":
            col.not_retrieved += 1
            continue
        col.assessed += 1
        if ft and ft.state == "excluded":
            excluded[id(col)][ft.reason.label if ft.reason else "No reason given"] += 1
        elif ft and ft.state == "included":
            col.included += 1
            reports += 1
            included_studies.add(r.study_id)
        else:
            col.assessed_open += 1
            col.assessed_conflict += bool(ft and ft.state == "conflict")
    order = list(ExclusionReason.objects.filter(project=project, stage=FT).order_by(
        "position", "id").values_list("label", flat=True)) + ["No reason given"]
    for col in (main, other):
        col.excluded_by_reason = [(label, excluded[id(col)][label]) for label in order
                                  if excluded[id(col)][label]]
    return prisma.PrismaCounts(main=main, other=other,
                               studies_included=len(included_studies), reports_included=reports)


@pytest.mark.postgres
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=actions)
def test_every_prisma_box_adds_up_after_any_sequence_of_actions(cast, steps):
    project = ProjectFactory(created_by=cast.lead)
    MembershipFactory(project=project, user=cast.lead, role=Role.LEAD)
    for user in (cast.ada, cast.ben, cast.cy):
        MembershipFactory(project=project, user=user, role=Role.REVIEWER)
    sources = [SourceFactory(project=project, name="MEDLINE"),
               SourceFactory(project=project, name="Trials", kind="register"),
               SourceFactory(project=project, name="Websites", kind="other", method="websites"),
               SourceFactory(project=project, name="Experts", kind="other", method="other",
                             starts_at_full_text=True)]
    records = [RecordFactory(project=project, source=sources[SOURCE_OF[i]])
               for i in range(N_RECORDS)]
    services.settings_for(project, FT)
    ExclusionReason.objects.filter(project=project).delete()
    for i, label in enumerate(REASONS):
        ExclusionReason.objects.create(project=project, stage=FT, label=label, position=i)
    REASONS_OF[project.pk] = list(REASONS)

    for step in steps:
        try:
            _apply(project, records, (cast.lead, [cast.ada, cast.ben, cast.cy]), step)
        except EXPECTED:
            pass  # a refused action changes nothing: the boxes must still add up

    counts = prisma.prisma_counts(project)
    assert counts.check() == []
    assert counts == _by_record(project)
    assert counts.main.identified + counts.other.identified == N_RECORDS
    assert counts.studies_included == queries.included_studies(project).count()
