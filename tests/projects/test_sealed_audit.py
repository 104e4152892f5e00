"""Sealed audit events: listed only to their own actor until their target is unsealed.

Screening seals a vote (`vote.cast` with its decision) until its record settles, so that no
one who could still vote on the record, a lead included, reads it on the Activity page or in
the record's history.
"""

from django.urls import reverse

from projects import audit
from projects.models import AuditEvent
from tests.factories import RecordFactory


def vote(cast, reviewer, record, decision="include", sealed=True):
    return audit.record(project=cast.project, actor=reviewer, action="vote.cast", target=record,
                        after={"decision": decision}, sealed=sealed)


def activity(client, **params):
    response = client.get(reverse("projects:activity", args=["ikt"]), params)
    assert response.status_code == 200
    return response


def listed(response) -> list[tuple[str, str]]:
    return [(str(e.actor), e.action) for e in response.context["page"]]


def test_record_seals_only_when_asked(cast):
    record = RecordFactory(project=cast.project)

    sealed = vote(cast, cast.ada, record)
    plain = vote(cast, cast.ben, record, sealed=False)
    default = audit.record(project=cast.project, actor=cast.lead, action="record.note",
                           target=record)

    assert [AuditEvent.objects.get(pk=e.pk).sealed for e in (sealed, plain, default)] == [
        True, False, False]


def test_record_many_seals_every_event_when_asked(cast):
    first, second = RecordFactory.create_batch(2, project=cast.project)

    audit.record_many(project=cast.project, actor=cast.ada, action="vote.cast", sealed=True,
                      changes=[(first, None, {"decision": "include"}),
                               (second, None, {"decision": "exclude"})])
    audit.record_many(project=cast.project, actor=cast.ada, action="record.merge",
                      changes=[(first, None, None)])

    assert list(AuditEvent.objects.order_by("id").values_list("action", "sealed")) == [
        ("vote.cast", True), ("vote.cast", True), ("record.merge", False)]


def test_unseal_opens_every_event_of_that_target_only(cast):
    record, other = RecordFactory.create_batch(2, project=cast.project)
    vote(cast, cast.ada, record)
    vote(cast, cast.ben, record, decision="exclude")
    untouched = vote(cast, cast.ada, other)

    assert audit.unseal(target=record) == 2
    assert audit.unseal(target=record) == 0  # idempotent

    assert list(AuditEvent.objects.filter(target_id=str(record.pk)).values_list(
        "sealed", flat=True)) == [False, False]
    assert AuditEvent.objects.get(pk=untouched.pk).sealed is True


def test_a_sealed_vote_is_not_on_the_leads_activity_page_until_unsealed(cast, client_for):
    record = RecordFactory(project=cast.project)
    vote(cast, cast.ada, record)
    client = client_for(cast.lead)

    before = activity(client)
    audit.unseal(target=record)
    after = activity(client)

    assert listed(before) == []
    assert "vote.cast" not in before.text and "include" not in before.text
    assert listed(after) == [("Ada", "vote.cast")]
    assert "include" in after.text


def test_the_leads_own_sealed_vote_is_on_the_leads_activity_page(cast, client_for):
    record = RecordFactory(project=cast.project)
    vote(cast, cast.lead, record, decision="exclude")
    vote(cast, cast.ada, record, decision="include")

    response = activity(client_for(cast.lead))

    assert listed(response) == [("Lena Lead", "vote.cast")]
    assert [e.after for e in response.context["page"]] == [{"decision": "exclude"}]


def test_reviewers_cannot_open_activity_so_see_no_sealed_vote_there(cast, client_for):
    vote(cast, cast.ada, RecordFactory(project=cast.project))

    for user in (cast.ada, cast.ben, cast.viewer):
        response = client_for(user).get(reverse("projects:activity", args=["ikt"]))
        assert response.status_code == 403


def test_activity_filters_offer_no_sealed_actor_or_action(cast, client_for):
    vote(cast, cast.ada, RecordFactory(project=cast.project))
    audit.record(project=cast.project, actor=cast.ben, action="record.note")

    form = activity(client_for(cast.lead)).context["form"]

    assert [label for _, label in form.fields["actor"].choices][1:] == ["Ben"]
    assert [value for value, _ in form.fields["action"].choices][1:] == ["record.note"]


def test_activity_filtered_by_the_sealed_actor_shows_nothing_sealed(cast, client_for):
    vote(cast, cast.ada, RecordFactory(project=cast.project))

    response = activity(client_for(cast.lead), actor=cast.ada.pk, action="vote.cast")

    assert listed(response) == []


def test_activity_pages_count_only_the_events_shown(cast, client_for):
    record = RecordFactory(project=cast.project)
    AuditEvent.objects.bulk_create(
        [AuditEvent(project=cast.project, actor=cast.ben, action="record.note")
         for _ in range(50)]
        + [AuditEvent(project=cast.project, actor=cast.ada, action="vote.cast",
                      target_type="references.Record", target_id=str(record.pk), sealed=True)
           for _ in range(3)])
    client = client_for(cast.lead)

    page = activity(client).context["page"]
    second = activity(client, page=2).context["page"]

    assert (page.paginator.count, page.paginator.num_pages, len(page)) == (50, 1, 50)
    assert {e.action for e in page} == {"record.note"}
    assert second.number == 1  # there is no second page to hold the sealed events


def history(client, record) -> list[tuple[str, str]]:
    response = client.get(reverse("references:record", args=["ikt", record.pk]))
    assert response.status_code == 200
    return [(str(e.actor), e.action) for e in response.context["history"]]


def test_record_history_shows_a_sealed_vote_to_its_voter_only(cast, client_for):
    record = RecordFactory(project=cast.project)
    vote(cast, cast.ada, record)
    audit.record(project=cast.project, actor=cast.lead, action="record.note", target=record)

    seen = {user.username: history(client_for(user), record)
            for user in (cast.ada, cast.ben, cast.lead, cast.viewer)}
    audit.unseal(target=record)
    after = history(client_for(cast.ben), record)

    assert seen == {
        "ada": [("Lena Lead", "record.note"), ("Ada", "vote.cast")],
        "ben": [("Lena Lead", "record.note")],
        "lead": [("Lena Lead", "record.note")],
        "viewer": [("Lena Lead", "record.note")],
    }
    assert after == [("Lena Lead", "record.note"), ("Ada", "vote.cast")]
