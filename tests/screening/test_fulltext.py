"""Not retrieved is a full-text state: the full-text states partition the records."""

import pytest
from django.urls import reverse

from projects.models import AuditEvent
from screening import queries, services
from screening.models import Screening, Stage, Vote
from tests.factories import RecordFactory
from tests.screening.steps import at_full_text
from tests.threads import race

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
State = Screening.State


def vote(record, who, decision, stage=FT, reason=""):
    return services.record_vote(record, stage=stage, reviewer=who, decision=decision,
                                reason=reason)


def mark(record, user, not_retrieved=True, note=""):
    return services.set_full_text(record, user=user, not_retrieved=not_retrieved, note=note)


def ft_state(record):
    return Screening.objects.get(record=record, stage=FT).state


def test_an_included_record_cannot_also_be_not_retrieved(cast):
    [record] = at_full_text(cast)
    vote(record, cast.ada, "include")
    vote(record, cast.ben, "include")

    with pytest.raises(services.ScreeningError, match="settled at full text: reopen it"):
        mark(record, cast.lead)

    assert ft_state(record) == State.INCLUDED
    counts = queries.stage_counts(cast.project, FT)
    assert (counts["included"], counts["not_retrieved"], counts["open"]) == (1, 0, 0)
    assert not AuditEvent.objects.filter(action="fulltext.update").exists()


def test_a_record_with_full_text_votes_is_marked_only_once_they_are_undone(cast):
    [record] = at_full_text(cast)
    vote(record, cast.ada, "exclude", reason="Wrong design")

    with pytest.raises(services.ScreeningError, match="has full-text votes: undo them first"):
        mark(record, cast.lead)
    assert ft_state(record) == State.PENDING

    services.undo_vote(record, stage=FT, reviewer=cast.ada)
    mark(record, cast.lead)

    assert (ft_state(record), Vote.objects.filter(screening__stage=FT).count()) == (
        State.NOT_RETRIEVED, 0)


def test_a_record_in_conflict_cannot_be_marked(cast):
    [record] = at_full_text(cast)
    vote(record, cast.ada, "include")
    vote(record, cast.ben, "exclude", reason="Wrong design")

    with pytest.raises(services.ScreeningError, match="has full-text votes"):
        mark(record, cast.lead)
    assert ft_state(record) == State.CONFLICT


def test_not_retrieved_leaves_the_queue_refuses_votes_and_unmarking_brings_it_back(cast):
    record, other = at_full_text(cast, 2)

    mark(record, cast.lead, note="no library access")

    assert ft_state(record) == State.NOT_RETRIEVED
    assert list(queries.needing_vote_of(cast.project, FT, cast.ben)) == [other]
    assert queries.next_record(cast.project, FT, cast.ben) == other
    assert services.claim_next(cast.project, FT, cast.ben, exclude=[other.pk]) is None
    with pytest.raises(services.ScreeningError, match="full text was not retrieved"):
        vote(record, cast.ben, "include")
    event = AuditEvent.objects.get(action="fulltext.update")
    assert (event.actor, event.before, event.after) == (
        cast.lead, {"pdf": "", "url": "", "not_retrieved": False, "note": ""},
        {"pdf": "", "url": "", "not_retrieved": True, "note": "no library access"})

    mark(record, cast.lead, not_retrieved=False)

    assert ft_state(record) == State.PENDING
    assert list(queries.needing_vote_of(cast.project, FT, cast.ben)) == [record, other]
    assert services.claim_next(cast.project, FT, cast.ben, exclude=[other.pk]) == record
    assert vote(record, cast.ben, "include").votes_in == 1


def test_attaching_a_pdf_to_a_not_retrieved_record_reopens_it(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    [record] = at_full_text(cast)
    mark(record, cast.lead)

    services.set_full_text(record, user=cast.ada,
                           pdf=SimpleUploadedFile("late.pdf", b"%PDF-1.4 found it"))

    assert ft_state(record) == State.PENDING


def test_only_a_record_at_full_text_is_marked(cast):
    waiting = RecordFactory(project=cast.project)
    duplicate = RecordFactory(project=cast.project, duplicate_of=waiting)

    with pytest.raises(services.ScreeningError, match="not passed title and abstract"):
        mark(waiting, cast.lead)
    with pytest.raises(services.ScreeningError, match="is a duplicate"):
        mark(duplicate, cast.lead)
    assert not Screening.objects.filter(stage=FT).exists()


def test_full_text_states_partition_the_records(cast):
    untouched, one_vote, conflict, included, excluded, missing = at_full_text(cast, 6)
    vote(one_vote, cast.ada, "include")
    vote(conflict, cast.ada, "include")
    vote(conflict, cast.ben, "exclude", reason="Wrong design")
    for who in (cast.ada, cast.ben):
        vote(included, who, "include")
        vote(excluded, who, "exclude", reason="Not health research")
    mark(missing, cast.lead)
    # Not at full text: excluded at title and abstract; not counted at full text.
    out = RecordFactory(project=cast.project)
    vote(out, cast.ada, "exclude", TA)
    vote(out, cast.ben, "exclude", TA)

    counts = queries.stage_counts(cast.project, FT)

    assert counts == {"records": 6, "open": 2, "conflict": 1, "included": 1, "excluded": 1,
                      "not_retrieved": 1, "settled": 2}
    assert counts["records"] == sum(counts[k] for k in (
        "open", "conflict", "included", "excluded", "not_retrieved"))

    def listed(state):
        return [r.pk for r in queries.stage_records(cast.project, FT, cast.viewer, state=state)]

    assert listed("not_retrieved") == [missing.pk]
    assert listed("included") == [included.pk]
    assert listed("excluded") == [excluded.pk]
    assert listed("conflict") == [conflict.pk]


def test_a_not_retrieved_record_whose_title_abstract_is_reopened_leaves_the_counts(cast):
    [record] = at_full_text(cast)
    mark(record, cast.lead)
    screening = Screening.objects.get(record=record, stage=TA)

    services.reopen(screening, membership=cast.lead.memberships.get())

    assert queries.stage_counts(cast.project, FT) == {
        "records": 0, "open": 0, "conflict": 0, "included": 0, "excluded": 0,
        "not_retrieved": 0, "settled": 0}


def test_the_full_text_page_marks_and_shows_not_retrieved(cast, client_for):
    record, settled = at_full_text(cast, 2)
    for who in (cast.ada, cast.ben):
        vote(settled, who, "include")
    client = client_for(cast.ada)
    url = reverse("screening:fulltext", args=["ikt", record.pk])

    response = client.post(url, {"not_retrieved": "on", "note": "no library access"})
    page = client.get(url)
    refused = client.post(reverse("screening:fulltext", args=["ikt", settled.pk]),
                          {"not_retrieved": "on"})
    listing = client_for(cast.viewer).get(reverse("screening:records", args=["ikt", FT]))
    home = client_for(cast.viewer).get(reverse("screening:full_text", args=["ikt"]))

    assert response["Location"] == reverse("screening:full_text", args=["ikt"])
    assert page.context["form"].initial["not_retrieved"] is True
    assert "Now: <strong>not retrieved</strong>" in page.text
    assert refused.context["form"].non_field_errors() == [
        "This record is settled at full text: reopen it and undo its votes first."]
    assert ft_state(settled) == State.INCLUDED
    assert {r.pk: r.screening_state for r in listing.context["page"].items} == {
        record.pk: "not_retrieved", settled.pk: "included"}
    assert "Full text not retrieved" in listing.text
    assert 'data-count="not_retrieved">1<' in home.text


@pytest.mark.postgres
def test_a_first_vote_and_marking_not_retrieved_at_once_never_both_win(transactional_db, cast):
    records = at_full_text(cast, 4)

    for record in records:
        results = race([lambda r=record: vote(r, cast.ada, "include"),
                        lambda r=record: mark(r, cast.lead)])

        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], services.ScreeningError), results
        screening = Screening.objects.get(record=record, stage=FT)
        assert (screening.state, screening.votes_in) in (
            (State.PENDING, 1), (State.NOT_RETRIEVED, 0))


def test_a_record_marked_not_retrieved_is_held_until_unmarked(cast):
    from references import holds
    from references.models import Record
    from tests.factories import SourceFactory

    experts = SourceFactory(project=cast.project, kind="other", method="other",
                            starts_at_full_text=True)
    record = RecordFactory(project=cast.project, source=experts)  # no votes at all

    mark(record, cast.lead)
    assert Record.objects.get(pk=record.pk).hold == holds.Hold.SCREENING

    mark(record, cast.lead, not_retrieved=False)
    assert Record.objects.get(pk=record.pk).hold == 0
