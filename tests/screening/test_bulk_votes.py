"""`record_votes`: many votes at once, with the outcome of `record_vote` for each in turn."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import AuditEvent, Role
from references.models import Record
from screening import services
from screening.models import Assignment, Claim, ExclusionReason, Screening, Stage, Vote
from screening.services import VoteSpec
from tests.factories import MembershipFactory, ProjectFactory, RecordFactory, SourceFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
State = Screening.State
N_RECORDS = 14

# The same review twice: steps marked "batch" are cast one by one in the first project and
# with one `record_votes` call in its twin; every other step is taken alike in both.
# A vote: (record number, reviewer, decision, reason, note); a reason "#label" is given as
# the id of that project's reason, as views post it.
PLAN = [
    # Records 7 and 8 have votes from before the batch (sealed while pending); 9 is assigned.
    ("vote", TA, [(7, "ada", "include", "", ""), (8, "ada", "exclude", "", "")]),
    ("assign", 9, ["ada", "ben"]),
    ("claim", 4, "ada", False),  # ada has record 4 open: her vote ends the claim
    ("claim", 11, "ada", True),  # an expired claim of ada's: ended by any vote of hers
    ("claim", 11, "ben", False),  # ben's claim on a record he does not vote on stays
    ("batch", TA, [
        (0, "ada", "include", "", ""), (0, "ben", "include", "", ""),  # agree: included
        (1, "ada", "exclude", "", "off topic"), (1, "ben", "exclude", "", ""),  # excluded
        (2, "ben", "exclude", "", ""), (2, "ada", "include", "", ""),  # conflict
        (3, "ada", "maybe", "", ""), (3, "ben", "include", "", ""),  # maybe counts as include
        (4, "ada", "include", "", ""),  # one vote: pending, sealed
        (5, "ada", "include", "", ""), (5, "ada", "exclude", "", "changed my mind"),
        (5, "ben", "exclude", "", ""),  # a change while pending, then agreement
        (6, "ada", "include", "", ""), (6, "ben", "exclude", "", ""),
        (6, "ben", "include", "", "on second reading"),  # conflict, then a change settles it
        (7, "ben", "include", "", ""),  # settles a record voted on before: unsealed
        (8, "ben", "include", "", ""),  # a conflict with a vote from before
        (9, "ben", "maybe", "", ""), (9, "ada", "maybe", "", ""),  # assigned to them
        (10, "ada", "exclude", "", ""), (10, "cy", "exclude", "", ""),
        (12, "lead", "include", "", ""), (12, "cy", "include", "", ""),  # a lead screens too
        (13, "ada", "include", "", ""), (13, "ben", "include", "", ""),
    ]),
    ("batch", FT, [
        (0, "ada", "exclude", "Wrong design", ""), (0, "ben", "exclude", "#Wrong design", ""),
        (3, "ada", "exclude", "Wrong design", ""), (3, "ben", "exclude", "Author not a trainee",
                                                    "faculty"),  # reasons differ: conflict
        (6, "ada", "include", "", ""), (6, "ben", "include", "", ""),
        (9, "ada", "include", "", ""), (9, "ben", "maybe", "", ""),  # maybe at FT: conflict
        (12, "cy", "include", "", ""),  # pending
        (13, "ada", "include", "", ""), (13, "ben", "exclude", "Wrong design", ""),
        (13, "ben", "include", "", ""),  # a conflict settled by a change
    ]),
]
PLAN_STATES = {
    (0, TA): State.INCLUDED, (1, TA): State.EXCLUDED, (2, TA): State.CONFLICT,
    (3, TA): State.INCLUDED, (4, TA): State.PENDING, (5, TA): State.EXCLUDED,
    (6, TA): State.INCLUDED, (7, TA): State.INCLUDED, (8, TA): State.CONFLICT,
    (9, TA): State.INCLUDED, (10, TA): State.EXCLUDED, (11, TA): State.PENDING,
    (12, TA): State.INCLUDED, (13, TA): State.INCLUDED,
    (0, FT): State.EXCLUDED, (3, FT): State.CONFLICT, (6, FT): State.INCLUDED,
    (9, FT): State.CONFLICT, (12, FT): State.PENDING, (13, FT): State.INCLUDED,
}
# One reviewer is enough: each vote settles its record alone.
PLAN_ONE = [
    ("settings", TA, {"reviewers_needed": 1}),
    ("settings", FT, {"reviewers_needed": 1}),
    ("batch", TA, [(0, "ada", "include", "", ""), (1, "cy", "exclude", "", "one is enough"),
                   (2, "ada", "maybe", "", ""), (3, "ben", "include", "", "")]),
    ("batch", FT, [(0, "ada", "exclude", "#Not health research", ""),
                   (2, "ben", "include", "", "")]),
]
PLAN_ONE_STATES = {
    (0, TA): State.INCLUDED, (1, TA): State.EXCLUDED, (2, TA): State.INCLUDED,
    (3, TA): State.INCLUDED, (0, FT): State.EXCLUDED, (2, FT): State.INCLUDED,
}


def twin(cast):
    """A second project with the same team."""
    project = ProjectFactory(name="Twin review", slug="twin", created_by=cast.lead)
    for who in ("lead", "ada", "ben", "cy", "viewer"):
        MembershipFactory(project=project, user=cast.user(who),
                          role=cast.project.memberships.get(user=cast.user(who)).role)
    return project


def records_of(project, n=N_RECORDS):
    source = SourceFactory(project=project)
    return [RecordFactory(project=project, source=source) for _ in range(n)]


def spec(cast, project, records, stage, vote):
    number, who, decision, reason, note = vote
    if reason.startswith("#"):
        services.settings_for(project, stage)  # the stage's reasons, created the first time
        reason = ExclusionReason.objects.get(project=project, stage=stage, label=reason[1:]).pk
    return VoteSpec(record=records[number], reviewer=cast.user(who), decision=decision,
                    reason=reason, note=note)


def take(cast, project, records, plan, *, bulk: bool):
    lead = cast.lead
    for kind, *args in plan:
        if kind == "vote" or (kind == "batch" and not bulk):
            stage, votes = args
            for v in votes:
                s = spec(cast, project, records, stage, v)
                services.record_vote(Record.objects.get(pk=s.record.pk), stage=stage,
                                     reviewer=s.reviewer, decision=s.decision,
                                     reason=s.reason, note=s.note)
        elif kind == "batch":
            stage, votes = args
            specs = [spec(cast, project, records, stage, v) for v in votes]
            assert services.record_votes(project, stage=stage, votes=specs) == len(votes)
        elif kind == "assign":
            number, who = args
            Assignment.objects.bulk_create([
                Assignment(project=project, stage=TA, record=records[number],
                           reviewer=cast.user(w), assigned_by=lead) for w in who])
        elif kind == "claim":
            number, who, expired = args
            screening, _ = Screening.objects.get_or_create(project=project,
                                                           record=records[number], stage=TA)
            Claim.objects.create(screening=screening, reviewer=cast.user(who),
                                 expires_at=timezone.now() + timedelta(
                                     minutes=-1 if expired else 10))
        elif kind == "settings":
            stage, changes = args
            services.update_settings(services.settings_for(project, stage), user=lead,
                                     **changes)


def outcome(project, records):
    """Everything the votes wrote, with record numbers for ids."""
    number = {r.pk: i for i, r in enumerate(records)}
    screening_number = {s.pk: (number[s.record_id], s.stage)
                        for s in Screening.objects.filter(project=project)}
    screenings = sorted(
        (number[s.record_id], s.stage, s.state, s.votes_in, services.reason_label(s.reason),
         s.settled_at is not None, s.settled_by_id)
        for s in Screening.objects.filter(project=project).select_related("reason"))
    votes = [(number[v.screening.record_id], v.screening.stage, v.reviewer.username,
              v.decision, services.reason_label(v.reason), v.note)
             for v in Vote.objects.filter(screening__project=project)
             .select_related("screening", "reviewer", "reason").order_by("id")]
    holds = sorted((number[pk], hold) for pk, hold in
                   Record.objects.filter(project=project).values_list("pk", "hold"))
    claims = sorted((screening_number[c.screening_id], c.reviewer.username)
                    for c in Claim.objects.filter(screening__project=project)
                    .select_related("reviewer"))
    # Each target's events in the order they were written; targets in record order.
    events = {}
    for e in (AuditEvent.objects.filter(project=project, target_type="screening.Screening")
              .select_related("actor").order_by("id")):
        target = screening_number[int(e.target_id)]
        repr_ = e.target_repr.replace(f"#{records[target[0]].pk} ", "#N ")
        events.setdefault(target, []).append(
            (e.action, e.actor.username if e.actor else None, e.before, e.after, e.sealed,
             repr_))
    return {"screenings": screenings, "votes": votes, "holds": holds, "claims": claims,
            "events": sorted(events.items(), key=lambda item: str(item[0]))}


@pytest.mark.parametrize(("plan", "states", "sealed"), [
    (PLAN, PLAN_STATES, [((4, TA), "vote.cast", "ada"), ((12, FT), "vote.cast", "cy")]),
    (PLAN_ONE, PLAN_ONE_STATES, []),
], ids=["two reviewers", "one reviewer"])
def test_a_batch_writes_what_the_votes_one_by_one_write(cast, plan, states, sealed):
    one_by_one, bulk = records_of(cast.project), records_of(twin(cast))

    take(cast, cast.project, one_by_one, plan, bulk=False)
    take(cast, bulk[0].project, bulk, plan, bulk=True)

    expected, got = outcome(cast.project, one_by_one), outcome(bulk[0].project, bulk)
    for part in ("screenings", "votes", "holds", "claims", "events"):
        assert got[part] == expected[part], part
    # The plan covers what it says it covers.
    assert {(n, stage): state for n, stage, state, *_rest in expected["screenings"]} == states
    assert sorted((target, e[0], e[1]) for target, events in expected["events"]
                  for e in events if e[4]) == sealed


def test_the_plan_has_claims_changes_and_unsealed_history(cast):
    records = records_of(cast.project)

    take(cast, cast.project, records, PLAN, bulk=True)

    got = outcome(cast.project, records)
    assert got["claims"] == [((11, TA), "ben")]
    events = dict(got["events"])
    assert [e[:2] for e in events[(6, TA)]] == [
        ("vote.cast", "ada"), ("vote.cast", "ben"), ("screening.conflict", None),
        ("vote.change", "ben"), ("screening.settle", None)]
    assert events[(7, TA)] == [
        ("vote.cast", "ada", None, {"stage": TA, "decision": "include", "reason": "",
                                    "note": ""}, False,
         "Record #N · Title and abstract · Needs votes"),
        ("vote.cast", "ben", None, {"stage": TA, "decision": "include", "reason": "",
                                    "note": ""}, False,
         "Record #N · Title and abstract · Needs votes"),
        ("screening.settle", None, {"state": "pending"},
         {"state": "included", "reason": "", "by": "agreement"}, False,
         "Record #N · Title and abstract · Included")]
    assert events[(0, FT)][-1][:4] == (
        "screening.settle", None, {"state": "pending"},
        {"state": "excluded", "reason": "Wrong design", "by": "agreement"})


def votes_on(cast, records, stage=TA):
    return [VoteSpec(record=r, reviewer=who, decision="include" if i % 3 else "exclude")
            for i, r in enumerate(records) for who in (cast.ada, cast.ben)]


def test_a_batch_takes_the_same_queries_whatever_its_size(cast):
    records = records_of(cast.project, 260)
    services.settings_for(cast.project, TA)
    few, many = votes_on(cast, records[:10]), votes_on(cast, records[10:])

    with CaptureQueriesContext(connection) as small:
        services.record_votes(cast.project, stage=TA, votes=few)
    with CaptureQueriesContext(connection) as large:
        services.record_votes(cast.project, stage=TA, votes=many)

    assert len(many) == 500
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 25
    assert Vote.objects.count() == 520
    assert Screening.objects.filter(state=State.CONFLICT).count() == 0


def test_five_hundred_votes_in_a_bounded_number_of_queries(cast, django_assert_max_num_queries):
    records = records_of(cast.project, 250)
    settings = services.settings_for(cast.project, TA)

    with django_assert_max_num_queries(20):
        services.record_votes(cast.project, stage=TA, votes=votes_on(cast, records),
                              settings=settings)

    assert Screening.objects.filter(state=State.INCLUDED).count() == 166
    assert Screening.objects.filter(state=State.EXCLUDED).count() == 84


@pytest.mark.parametrize(("bad", "message"), [
    (lambda cast, r: VoteSpec(record=r["duplicate"], reviewer=cast.ada, decision="include"),
     "is a duplicate"),
    (lambda cast, r: VoteSpec(record=r["settled"], reviewer=cast.cy, decision="include"),
     "settled already"),
    (lambda cast, r: VoteSpec(record=r["fresh"], reviewer=cast.viewer, decision="include"),
     "Vic Viewer is not a reviewer of this project"),
    (lambda cast, r: VoteSpec(record=r["fresh"], reviewer=cast.ada, decision="exclude",
                              reason="Too long"),
     "“Too long” is not one of this project's exclusion reasons"),
    (lambda cast, r: VoteSpec(record=r["fresh"], reviewer=cast.cy, decision="include"),
     "has all the votes it needs"),
])
def test_an_invalid_vote_writes_nothing_and_names_its_record(cast, bad, message):
    fresh, settled, original = records_of(cast.project, 3)
    duplicate = RecordFactory(project=cast.project, source=fresh.source, duplicate_of=original)
    for who in (cast.ada, cast.ben):
        services.record_vote(settled, stage=TA, reviewer=who, decision="include")
    before = (Vote.objects.count(), Screening.objects.count(), AuditEvent.objects.count(),
              list(Record.objects.order_by("pk").values_list("hold", flat=True)))
    records = {"fresh": fresh, "settled": settled, "duplicate": duplicate}
    invalid = bad(cast, records)
    votes = [VoteSpec(record=original, reviewer=cast.ada, decision="include"),
             VoteSpec(record=fresh, reviewer=cast.ada, decision="include"),
             VoteSpec(record=fresh, reviewer=cast.ben, decision="exclude"), invalid]

    with pytest.raises(services.ScreeningError) as refused:
        services.record_votes(cast.project, stage=TA, votes=votes)

    assert str(refused.value).startswith(f"Record #{invalid.record.pk} (")
    assert message in str(refused.value)
    assert (Vote.objects.count(), Screening.objects.count(), AuditEvent.objects.count(),
            list(Record.objects.order_by("pk").values_list("hold", flat=True))) == before


def test_full_text_votes_need_the_title_abstract_inclusion(cast):
    included, excluded = records_of(cast.project, 2)
    services.record_votes(cast.project, stage=TA, votes=[
        VoteSpec(record=included, reviewer=cast.ada, decision="include"),
        VoteSpec(record=included, reviewer=cast.ben, decision="include"),
        VoteSpec(record=excluded, reviewer=cast.ada, decision="exclude"),
        VoteSpec(record=excluded, reviewer=cast.ben, decision="exclude")])

    with pytest.raises(services.ScreeningError,
                       match=f"Record #{excluded.pk} .*not passed title and abstract"):
        services.record_votes(cast.project, stage=FT, votes=[
            VoteSpec(record=included, reviewer=cast.ada, decision="include"),
            VoteSpec(record=excluded, reviewer=cast.ada, decision="include")])
    with pytest.raises(services.ScreeningError, match="An exclusion at full text needs a reason"):
        services.record_votes(cast.project, stage=FT, votes=[
            VoteSpec(record=included, reviewer=cast.ada, decision="exclude")])
    assert not Screening.objects.filter(stage=FT).exists()


def test_a_record_of_another_project_is_refused(cast):
    other = RecordFactory()
    MembershipFactory(project=other.project, user=cast.ada, role=Role.REVIEWER)

    with pytest.raises(services.ScreeningError, match="not one of this project's records"):
        services.record_votes(cast.project, stage=TA, votes=[
            VoteSpec(record=other, reviewer=cast.ada, decision="include")])
    assert not Screening.objects.exists()


def test_an_empty_batch_does_nothing(cast, django_assert_num_queries):
    with django_assert_num_queries(2):  # its savepoint, taken and released
        assert services.record_votes(cast.project, stage=TA, votes=[]) == 0
