"""A person's merge of screened records: decisions are carried to the primary, or flagged
and kept where both records have some; never lost."""

import pytest

from projects.models import AuditEvent
from references import deduplication, holds
from references.models import DuplicateCandidate, Record
from screening import queries, services
from screening.models import Screening, Stage, Vote
from tests.factories import RecordFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


def vote(record, who, decision, stage=TA):
    return services.record_vote(Record.objects.get(pk=record.pk), stage=stage, reviewer=who,
                                decision=decision)


def pair(project, a, b):
    a, b = sorted([a, b], key=lambda r: r.pk)
    return DuplicateCandidate.objects.create(project=project, record_a=a, record_b=b, score=0.8)


def states(record):
    return dict(Screening.objects.filter(record=record).values_list("stage", "state"))


def test_a_record_included_at_full_text_merged_into_an_unscreened_one_keeps_its_decisions(cast):
    primary = RecordFactory(project=cast.project, title="Unscreened copy")
    screened = RecordFactory(project=cast.project, title="Screened copy")
    vote(screened, cast.ada, "include")
    vote(screened, cast.ben, "include")
    vote(screened, cast.ada, "include", FT)
    vote(screened, cast.ben, "include", FT)
    ft_before = queries.eligible(cast.project, FT).count()

    deduplication.decide_duplicate(pair(cast.project, primary, screened), primary=primary,
                                   user=cast.lead)

    screened.refresh_from_db()
    primary.refresh_from_db()
    assert screened.duplicate_of_id == primary.pk
    assert states(primary) == {TA: "included", FT: "included"}
    assert states(screened) == {}
    assert sorted(Vote.objects.filter(screening__record=primary).values_list(
        "screening__stage", "reviewer__username")) == [
        (FT, "ada"), (FT, "ben"), (TA, "ada"), (TA, "ben")]
    # Still counted at full text, and not open again at title and abstract.
    assert list(queries.eligible(cast.project, FT).values_list("id", flat=True)) == [primary.pk]
    assert queries.eligible(cast.project, FT).count() == ft_before == 1
    assert queries.next_record(cast.project, TA, cast.cy) is None
    assert (primary.hold, screened.hold) == (holds.Hold.SCREENING, 0)
    carried = AuditEvent.objects.filter(action="screening.carry").order_by("id")
    assert [(e.actor, e.before, e.after) for e in carried] == [
        (cast.lead, {"record": screened.pk}, {"record": primary.pk, "stage": TA,
                                               "state": "included"}),
        (cast.lead, {"record": screened.pk}, {"record": primary.pk, "stage": FT,
                                               "state": "included"}),
    ]


def test_when_both_records_have_decisions_the_primarys_stay_and_the_others_are_flagged(cast):
    primary = RecordFactory(project=cast.project)
    other = RecordFactory(project=cast.project)
    vote(primary, cast.ada, "exclude")
    vote(primary, cast.ben, "exclude")
    vote(other, cast.ada, "include")
    vote(other, cast.ben, "include")
    vote(other, cast.ada, "include", FT)

    deduplication.decide_duplicate(pair(cast.project, primary, other), primary=primary,
                                   user=cast.lead)

    assert states(primary) == {TA: "excluded"}
    assert states(other) == {TA: "included", FT: "pending"}  # kept, not counted, not lost
    flags = AuditEvent.objects.filter(action="screening.merge_flag").order_by("id")
    assert [(f.before, f.after) for f in flags] == [
        ({"record": other.pk, "state": "included"},
         {"primary": primary.pk, "stage": TA, "primary_state": "excluded",
          "kept": "primary's decision"}),
        ({"record": other.pk, "state": "pending"},
         {"primary": primary.pk, "stage": FT, "primary_state": None,
          "kept": "primary's decision"}),
    ]
    assert not AuditEvent.objects.filter(action="screening.carry").exists()
    assert AuditEvent.objects.get(action="duplicate.confirm").after == {
        "primary": primary.pk, "duplicate": other.pk, "held": [other.pk]}


def test_a_record_only_opened_by_the_primary_takes_the_duplicates_votes(cast):
    primary = RecordFactory(project=cast.project)
    other = RecordFactory(project=cast.project)
    services.claim_next(cast.project, TA, cast.cy)  # opens the primary: a row, no votes
    assert states(primary) == {TA: "pending"}
    vote(other, cast.ada, "include")

    deduplication.decide_duplicate(pair(cast.project, primary, other), primary=primary,
                                   user=cast.lead)

    assert Screening.objects.get(record=primary, stage=TA).votes_in == 1
    assert list(Vote.objects.filter(screening__record=primary).values_list(
        "reviewer__username", flat=True)) == ["ada"]


@pytest.mark.parametrize("held", [holds.Hold.EXTRACTION, holds.Hold.CODING])
def test_a_merge_that_would_move_a_study_with_extraction_or_coding_is_refused(cast, held):
    primary = RecordFactory(project=cast.project)
    other = RecordFactory(project=cast.project)
    holds.set_hold([other.pk], held)
    candidate = pair(cast.project, primary, other)

    with pytest.raises(deduplication.DedupError, match="has an extraction or coding"):
        deduplication.decide_duplicate(candidate, primary=primary, user=cast.lead)

    other.refresh_from_db()
    candidate.refresh_from_db()
    assert (other.duplicate_of_id, candidate.status) == (None, "pending")
