"""The rules that settle a record, vote by vote."""

import pytest

from projects.models import AuditEvent
from references.holds import Hold
from references.models import Record
from screening import services
from screening.models import Screening, Stage, Vote
from tests.factories import RecordFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
State = Screening.State


@pytest.fixture
def record(cast):
    return RecordFactory(project=cast.project)


def vote(record, who, decision, stage=TA, reason="", note=""):
    return services.record_vote(record, stage=stage, reviewer=who, decision=decision,
                                reason=reason, note=note)


def to_full_text(record, cast):
    vote(record, cast.ada, "include")
    vote(record, cast.ben, "include")


@pytest.mark.parametrize(("first", "second", "state"), [
    ("include", "include", State.INCLUDED),
    ("include", "maybe", State.INCLUDED),
    ("maybe", "maybe", State.INCLUDED),
    ("exclude", "exclude", State.EXCLUDED),
    ("include", "exclude", State.CONFLICT),
    ("maybe", "exclude", State.CONFLICT),
])
def test_title_abstract_rules(cast, record, first, second, state):
    after_one = vote(record, cast.ada, first)
    assert (after_one.state, after_one.votes_in) == (State.PENDING, 1)

    screening = vote(record, cast.ben, second)

    assert (screening.state, screening.votes_in, screening.settled_by) == (state, 2, None)
    assert (screening.settled_at is not None) == (state != State.CONFLICT)


@pytest.mark.parametrize(("votes", "state", "reason"), [
    ((("include", ""), ("include", "")), State.INCLUDED, ""),
    ((("exclude", "Wrong design"), ("exclude", "Wrong design")), State.EXCLUDED, "Wrong design"),
    ((("exclude", "Wrong design"), ("exclude", "Author not a trainee")), State.CONFLICT, ""),
    ((("include", ""), ("exclude", "Wrong design")), State.CONFLICT, ""),
    ((("include", ""), ("maybe", "")), State.CONFLICT, ""),
])
def test_full_text_rules(cast, record, votes, state, reason):
    to_full_text(record, cast)
    (d1, r1), (d2, r2) = votes
    vote(record, cast.ada, d1, FT, r1)

    screening = vote(record, cast.ben, d2, FT, r2)

    assert (screening.state, services.reason_label(screening.reason)) == (state, reason)


def test_full_text_needs_title_abstract_inclusion(cast, record):
    with pytest.raises(services.ScreeningError, match="not passed title and abstract"):
        vote(record, cast.ada, "include", FT)


def test_full_text_exclusion_needs_a_known_reason(cast, record):
    to_full_text(record, cast)

    with pytest.raises(services.ScreeningError, match="needs a reason"):
        vote(record, cast.ada, "exclude", FT)
    with pytest.raises(services.ScreeningError, match="not one of this project's"):
        vote(record, cast.ada, "exclude", FT, "Too long")
    assert not Vote.objects.filter(screening__stage=FT).exists()


def test_one_reviewer_needed_settles_on_the_first_vote(cast, record):
    settings = services.settings_for(cast.project, TA)
    settings.reviewers_needed = 1
    settings.save()

    assert vote(record, cast.ada, "exclude").state == State.EXCLUDED


def test_maybe_can_be_switched_off(cast, record):
    settings = services.settings_for(cast.project, TA)
    settings.allow_maybe = False
    settings.save()

    with pytest.raises(services.ScreeningError, match="Maybe is not offered"):
        vote(record, cast.ada, "maybe")


def test_no_more_votes_than_needed_and_no_vote_after_settling(cast, record):
    vote(record, cast.ada, "include")
    vote(record, cast.ben, "exclude")  # a conflict: all votes are in

    with pytest.raises(services.ScreeningError, match="has all the votes it needs"):
        vote(record, cast.cy, "include")
    assert Vote.objects.count() == 2


def test_changing_a_vote_reevaluates_and_is_audited(cast, record):
    vote(record, cast.ada, "include")
    assert vote(record, cast.ben, "exclude").state == State.CONFLICT

    screening = vote(record, cast.ben, "include", note="on second reading")

    assert (screening.state, screening.votes_in) == (State.INCLUDED, 2)
    change = AuditEvent.objects.get(action="vote.change")
    assert (change.actor, change.before, change.after) == (
        cast.ben, {"decision": "exclude", "reason": "", "note": ""},
        {"decision": "include", "reason": "", "note": "on second reading"})
    with pytest.raises(services.ScreeningError, match="settled already"):
        vote(record, cast.ada, "exclude")


def test_undo_a_vote(cast, record):
    vote(record, cast.ada, "include")

    screening = services.undo_vote(record, stage=TA, reviewer=cast.ada)

    assert (screening.state, screening.votes_in, Vote.objects.count()) == (State.PENDING, 0, 0)
    assert AuditEvent.objects.get(action="vote.undo").before["decision"] == "include"
    with pytest.raises(services.ScreeningError, match="have not voted"):
        services.undo_vote(record, stage=TA, reviewer=cast.ada)


def test_duplicates_are_not_screened(cast, record):
    duplicate = RecordFactory(project=cast.project, duplicate_of=record)

    with pytest.raises(services.ScreeningError, match="is a duplicate"):
        vote(duplicate, cast.ada, "include")


def test_lead_resolves_a_conflict_with_a_reason(cast, record):
    to_full_text(record, cast)
    vote(record, cast.ada, "include", FT)
    screening = vote(record, cast.ben, "exclude", FT, "Wrong design")

    resolved = services.resolve(screening, membership=cast.lead.memberships.get(),
                                decision="exclude", reason="Author not a trainee",
                                note="the first author is faculty")

    assert (resolved.state, resolved.reason.label, resolved.note, resolved.settled_by) == (
        State.EXCLUDED, "Author not a trainee", "the first author is faculty", cast.lead)
    event = AuditEvent.objects.get(action="screening.resolve")
    assert event.after == {"state": "excluded", "reason": "Author not a trainee",
                           "note": "the first author is faculty"}


def test_who_may_resolve(cast, record):
    vote(record, cast.ada, "include")
    screening = vote(record, cast.ben, "exclude")
    cy, ada = cast.cy.memberships.get(), cast.ada.memberships.get()

    assert not services.can_resolve(screening, cy)  # leads only, by default
    with pytest.raises(services.ScreeningError, match="may not resolve"):
        services.resolve(screening, membership=cy, decision="include")

    settings = services.settings_for(cast.project, TA)
    settings.resolver = "non_voters"
    settings.save()
    assert services.can_resolve(screening, cy)
    assert not services.can_resolve(screening, ada)  # she voted on it
    assert not services.can_resolve(screening, cast.viewer.memberships.get())
    assert services.resolve(screening, membership=cy, decision="include").state == "included"


def test_only_a_conflict_is_resolved(cast, record):
    screening = vote(record, cast.ada, "include")

    with pytest.raises(services.ScreeningError, match="Only a record in conflict"):
        services.resolve(screening, membership=cast.lead.memberships.get(), decision="include")


def test_lead_reopens_a_settled_record(cast, record):
    vote(record, cast.ada, "exclude")
    screening = vote(record, cast.ben, "exclude")

    with pytest.raises(services.ScreeningError, match="Only a lead can reopen"):
        services.reopen(screening, membership=cast.ada.memberships.get())
    reopened = services.reopen(screening, membership=cast.lead.memberships.get())

    assert (reopened.state, reopened.settled_at, reopened.votes_in) == (State.CONFLICT, None, 2)
    assert AuditEvent.objects.get(action="screening.reopen").before == {
        "state": "excluded", "reason": "", "note": ""}
    resolved = services.resolve(reopened, membership=cast.lead.memberships.get(),
                                decision="include")
    assert resolved.state == State.INCLUDED


def test_title_abstract_cannot_be_reopened_under_full_text_votes(cast, record):
    to_full_text(record, cast)
    vote(record, cast.ada, "include", FT)
    screening = Screening.objects.get(record=record, stage=TA)

    with pytest.raises(services.ScreeningError, match="reopen it at full text first"):
        services.reopen(screening, membership=cast.lead.memberships.get())


def test_default_full_text_reasons(cast):
    from screening import queries

    services.settings_for(cast.project, FT)
    services.settings_for(cast.project, TA)

    assert [r.label for r in queries.exclusion_reasons(cast.project, FT)] == [
        "Wrong design", "Author not a trainee", "Partnership approach not described",
        "Not health research", "Wrong publication type", "Duplicate report"]
    assert list(queries.exclusion_reasons(cast.project, TA)) == []


def test_assigned_records_go_to_their_reviewers_only(cast):
    from screening import queries
    from screening.models import Assignment

    records = RecordFactory.create_batch(5, project=cast.project)
    vote(records[0], cast.cy, "include")  # has a vote: never assigned

    done = services.assign_batch(cast.project, stage=TA, reviewers=[cast.ada, cast.ben],
                                 count=3, user=cast.lead)

    assert done == 3
    assigned = sorted(set(Assignment.objects.values_list("record_id", flat=True)))
    assert assigned == [r.pk for r in records[1:4]]
    assert [r.pk for r in queries.needing_vote_of(cast.project, TA, cast.cy)] == [records[4].pk]
    assert [r.pk for r in queries.needing_vote_of(cast.project, TA, cast.ada)] == [
        r.pk for r in records]
    with pytest.raises(services.ScreeningError, match="assigned to other reviewers"):
        vote(records[1], cast.cy, "include")
    assert AuditEvent.objects.get(action="screening.assign").after == {
        "stage": TA, "records": 3, "first": records[1].pk, "last": records[3].pk,
        "reviewers": ["ada", "ben"]}


def test_assignment_needs_enough_reviewers(cast):
    RecordFactory(project=cast.project)

    with pytest.raises(services.ScreeningError, match="needs 2 reviewers"):
        services.assign_batch(cast.project, stage=TA, reviewers=[cast.ada], count=1,
                              user=cast.lead)


def test_a_vote_on_a_record_merged_since_it_was_loaded_is_refused(cast, record):
    primary = RecordFactory(project=cast.project)
    stale = Record.objects.get(pk=record.pk)  # the copy a view loaded a moment earlier
    Record.objects.filter(pk=record.pk).update(duplicate_of=primary)  # a lead merges it

    with pytest.raises(services.ScreeningError,
                       match="This record is a duplicate: it is not screened"):
        vote(stale, cast.ada, "include")
    assert Vote.objects.count() == 0
    assert not Screening.objects.filter(record=record).exists()


def test_undo_resolve_and_reopen_refuse_a_record_merged_since(cast, record):
    primary = RecordFactory(project=cast.project)
    lead = cast.lead.memberships.get()
    vote(record, cast.ada, "include")
    conflict = RecordFactory(project=cast.project)
    vote(conflict, cast.ada, "include")
    in_conflict = vote(conflict, cast.ben, "exclude")
    settled = RecordFactory(project=cast.project)
    vote(settled, cast.ada, "include")
    done = vote(settled, cast.ben, "include")
    Record.objects.filter(pk__in=[record.pk, conflict.pk, settled.pk]).update(
        duplicate_of=primary)

    with pytest.raises(services.ScreeningError, match="is a duplicate"):
        services.undo_vote(record, stage=TA, reviewer=cast.ada)
    with pytest.raises(services.ScreeningError, match="is a duplicate"):
        services.resolve(in_conflict, membership=lead, decision="include")
    with pytest.raises(services.ScreeningError, match="is a duplicate"):
        services.reopen(done, membership=lead)
    assert Vote.objects.filter(screening__record=record).count() == 1
    assert list(Screening.objects.order_by("record_id").values_list("state", flat=True)) == [
        State.PENDING, State.CONFLICT, State.INCLUDED]


def held(record):
    return Record.objects.get(pk=record.pk).hold


def test_the_first_vote_holds_the_record_and_the_last_undo_releases_it(cast, record):
    other = RecordFactory(project=cast.project)
    assert held(record) == 0

    vote(record, cast.ada, "include")
    assert held(record) == Hold.SCREENING
    vote(record, cast.ben, "exclude")  # a conflict: not settled, votes can be undone
    services.undo_vote(record, stage=TA, reviewer=cast.ada)
    assert held(record) == Hold.SCREENING  # ben's vote is still in

    services.undo_vote(record, stage=TA, reviewer=cast.ben)

    assert (held(record), held(other)) == (0, 0)


def test_a_hold_stays_while_any_stage_has_a_vote_and_keeps_other_bits(cast, record):
    Record.objects.filter(pk=record.pk).update(hold=Hold.EXTRACTION)
    to_full_text(record, cast)
    assert held(record) == Hold.SCREENING | Hold.EXTRACTION
    vote(record, cast.ada, "include", FT)

    services.undo_vote(record, stage=FT, reviewer=cast.ada)

    assert held(record) == Hold.SCREENING | Hold.EXTRACTION  # the title/abstract votes stay
    pending = RecordFactory(project=cast.project, hold=Hold.CODING)
    vote(pending, cast.ada, "include")
    assert held(pending) == Hold.SCREENING | Hold.CODING
    services.undo_vote(pending, stage=TA, reviewer=cast.ada)
    assert held(pending) == Hold.CODING


def test_lowering_reviewers_needed_settles_records_that_have_enough_votes(cast):
    agreed, disagreed, short = RecordFactory.create_batch(3, project=cast.project)
    settings = services.settings_for(cast.project, TA)
    services.update_settings(settings, user=cast.lead, reviewers_needed=3)
    for record, decisions in ((agreed, ("exclude", "exclude")),
                              (disagreed, ("include", "exclude")), (short, ("include",))):
        for who, decision in zip((cast.ada, cast.ben), decisions, strict=False):
            vote(record, who, decision)

    outcome = services.update_settings(settings, user=cast.lead, reviewers_needed=2)

    assert outcome == {State.EXCLUDED: 1, State.CONFLICT: 1}
    states = dict(Screening.objects.values_list("record_id", "state"))
    assert states == {agreed.pk: State.EXCLUDED, disagreed.pk: State.CONFLICT,
                      short.pk: State.PENDING}
    assert Screening.objects.get(record=agreed).settled_at is not None
    settle = AuditEvent.objects.get(action="screening.settle")
    assert (settle.target_id, settle.actor, settle.before, settle.after) == (
        str(Screening.objects.get(record=agreed).pk), None, {"state": "pending"},
        {"state": "excluded", "reason": "", "by": "agreement"})
    assert AuditEvent.objects.get(action="screening.conflict").target_id == str(
        Screening.objects.get(record=disagreed).pk)
    # the one with a single vote takes a second vote and settles on it
    assert vote(short, cast.cy, "include").state == State.INCLUDED


def test_raising_reviewers_needed_leaves_settled_records_as_they_are(cast, record):
    settings = services.settings_for(cast.project, TA)
    vote(record, cast.ada, "include")
    vote(record, cast.ben, "include")
    waiting = RecordFactory(project=cast.project)
    vote(waiting, cast.ada, "include")

    outcome = services.update_settings(settings, user=cast.lead, reviewers_needed=3)

    assert outcome == {}
    assert dict(Screening.objects.values_list("record_id", "state")) == {
        record.pk: State.INCLUDED, waiting.pk: State.PENDING}
    assert AuditEvent.objects.filter(action="screening.settle").count() == 1


def test_assign_batch_at_full_text_assigns_records_that_were_only_opened(cast):
    from screening.models import Assignment

    opened, voted, fresh, failed = RecordFactory.create_batch(4, project=cast.project)
    for record in (opened, voted, fresh):
        to_full_text(record, cast)
    vote(failed, cast.ada, "exclude")
    vote(failed, cast.ben, "exclude")
    assert services.claim_next(cast.project, FT, cast.cy) == opened  # a Screening, no votes
    vote(voted, cast.cy, "include", FT)

    done = services.assign_batch(cast.project, stage=FT, reviewers=[cast.ada, cast.ben],
                                 count=10, user=cast.lead)

    assert done == 2
    assert sorted(Assignment.objects.filter(stage=FT).values_list("record_id", "reviewer_id")) \
        == [(opened.pk, cast.ada.pk), (opened.pk, cast.ben.pk),
            (fresh.pk, cast.ada.pk), (fresh.pk, cast.ben.pk)]
