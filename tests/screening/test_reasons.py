"""Exclusion reasons are rows: votes and outcomes point at them, so a rename keeps counts."""

import pytest
from django.urls import reverse

from projects.models import AuditEvent
from screening import queries, services
from screening.models import ExclusionReason, Screening, Stage, Vote
from tests.factories import ProjectFactory
from tests.screening.steps import at_full_text

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
State = Screening.State


def vote(record, who, decision, stage=FT, reason=""):
    return services.record_vote(record, stage=stage, reviewer=who, decision=decision,
                                reason=reason)


def reason(cast, label):
    services.settings_for(cast.project, FT)
    return ExclusionReason.objects.get(project=cast.project, stage=FT, label=label)


def counts(cast):
    return [(r.label, r.active, n) for r, n in queries.exclusion_counts(cast.project, FT)]


DEFAULT_COUNTS = [("Wrong design", True, 0), ("Author not a trainee", True, 0),
                  ("Partnership approach not described", True, 0),
                  ("Not health research", True, 0), ("Wrong publication type", True, 0),
                  ("Duplicate report", True, 0)]


def test_renaming_a_reason_keeps_its_votes_outcome_and_count(cast):
    settled, resolved = at_full_text(cast, 2)
    vote(settled, cast.ada, "exclude", reason="Wrong design")
    vote(settled, cast.ben, "exclude", reason="Wrong design")
    vote(resolved, cast.ada, "include")
    conflict = vote(resolved, cast.ben, "exclude", reason="Not health research")
    services.resolve(conflict, membership=cast.lead.memberships.get(), decision="exclude",
                     reason="Wrong design")
    wrong_design = reason(cast, "Wrong design")
    assert counts(cast)[0] == ("Wrong design", True, 2)

    services.rename_reason(wrong_design, label="Wrong study design", user=cast.lead)

    screening = Screening.objects.get(record=settled, stage=FT)
    assert (screening.state, screening.reason_id, screening.reason.label) == (
        State.EXCLUDED, wrong_design.pk, "Wrong study design")
    assert [v.reason.label for v in Vote.objects.filter(screening=screening)] == [
        "Wrong study design", "Wrong study design"]
    assert Screening.objects.get(record=resolved, stage=FT).reason_id == wrong_design.pk
    assert counts(cast) == [("Wrong study design", True, 2), *DEFAULT_COUNTS[1:]]
    event = AuditEvent.objects.get(action="stage.reason.rename")
    assert (event.actor, event.target_id, event.before, event.after) == (
        cast.lead, str(wrong_design.pk), {"label": "Wrong design"},
        {"label": "Wrong study design"})
    # The new name is the one votes give from now on; the old one is gone.
    other = at_full_text(cast)[0]
    assert vote(other, cast.ada, "exclude", reason="Wrong study design").votes_in == 1
    with pytest.raises(services.ScreeningError, match="not one of this project's"):
        vote(other, cast.ben, "exclude", reason="Wrong design")


def test_a_retired_reason_is_refused_for_new_votes_but_kept_in_counts(cast):
    excluded, fresh = at_full_text(cast, 2)
    vote(excluded, cast.ada, "exclude", reason="Wrong design")
    vote(excluded, cast.ben, "exclude", reason="Wrong design")

    services.set_reason_active(reason(cast, "Wrong design"), active=False, user=cast.lead)
    services.set_reason_active(reason(cast, "Duplicate report"), active=False, user=cast.lead)

    with pytest.raises(services.ScreeningError, match="“Wrong design” is a retired"):
        vote(fresh, cast.ada, "exclude", reason="Wrong design")
    assert not Vote.objects.filter(screening__record=fresh, screening__stage=FT).exists()
    # Retired and used: still counted; retired and never used: no longer listed.
    assert counts(cast) == [("Wrong design", False, 1), *DEFAULT_COUNTS[1:5]]
    assert [r.label for r in queries.exclusion_reasons(cast.project, FT)] == [
        "Author not a trainee", "Partnership approach not described", "Not health research",
        "Wrong publication type"]
    assert [(e.action, e.before, e.after) for e in AuditEvent.objects.filter(
        action__startswith="stage.reason.").order_by("id")] == [
        ("stage.reason.retire", {"active": True}, {"active": False}),
        ("stage.reason.retire", {"active": True}, {"active": False})]

    services.set_reason_active(reason(cast, "Wrong design"), active=True, user=cast.lead)

    assert vote(fresh, cast.ada, "exclude", reason="Wrong design").votes_in == 1
    assert AuditEvent.objects.filter(action="stage.reason.restore").count() == 1


def test_a_reason_is_given_as_a_row_its_id_or_its_label_and_must_be_this_stages(cast):
    a, b, c, d = at_full_text(cast, 4)
    design = reason(cast, "Wrong design")
    elsewhere = ProjectFactory()
    services.settings_for(elsewhere, FT)
    foreign = ExclusionReason.objects.get(project=elsewhere, label="Wrong design")
    title_stage = services.add_reason(cast.project, TA, label="Off topic", user=cast.lead)

    vote(a, cast.ada, "exclude", reason=design)
    vote(b, cast.ada, "exclude", reason=design.pk)
    vote(c, cast.ada, "exclude", reason=str(design.pk))  # as a form posts it
    vote(d, cast.ada, "exclude", reason="Wrong design")

    assert list(Vote.objects.filter(screening__stage=FT).values_list("reason_id", flat=True)
                .distinct()) == [design.pk]
    for other in (foreign, foreign.pk, title_stage, title_stage.pk, "Off topic"):
        with pytest.raises(services.ScreeningError, match="not one of this project's"):
            vote(a, cast.ben, "exclude", reason=other)
    with pytest.raises(services.ScreeningError, match="needs a reason"):
        vote(a, cast.ben, "exclude")
    # Only an exclusion keeps a reason.
    assert vote(a, cast.ada, "include", reason=design).votes.get().reason is None


def test_reason_names_are_unique_and_one_stays_offered(cast):
    services.settings_for(cast.project, FT)
    reasons = list(queries.exclusion_reasons(cast.project, FT))

    with pytest.raises(services.ScreeningError, match="already a reason"):
        services.rename_reason(reasons[0], label="Duplicate report", user=cast.lead)
    with pytest.raises(services.ScreeningError, match="already a reason"):
        services.add_reason(cast.project, FT, label=" Wrong  design ", user=cast.lead)
    for r in reasons[:-1]:
        services.set_reason_active(r, active=False, user=cast.lead)
    with pytest.raises(services.ScreeningError, match="need at least one reason"):
        services.set_reason_active(reasons[-1], active=False, user=cast.lead)

    added = services.add_reason(cast.project, FT, label="Not in English", user=cast.lead)

    assert (added.position, added.active) == (6, True)
    assert [r.label for r in queries.exclusion_reasons(cast.project, FT)] == [
        "Duplicate report", "Not in English"]
    assert AuditEvent.objects.get(action="stage.reason.add").after == {
        "stage": FT, "label": "Not in English", "position": 6}


def test_settings_page_round_trip(cast, client_for):
    record, _open = at_full_text(cast, 2)  # the second one is on ada's screen
    vote(record, cast.ada, "exclude", reason="Wrong design")
    vote(record, cast.ben, "exclude", reason="Wrong design")
    design, duplicate = reason(cast, "Wrong design"), reason(cast, "Duplicate report")
    client = client_for(cast.lead)
    settings_url = reverse("screening:settings", args=["ikt", FT])
    url = reverse("screening:reasons", args=["ikt", FT])

    before = client.get(settings_url)
    steps = [client.post(url, data) for data in (
        {"action": "rename", "reason": design.pk, "label": "Wrong study design"},
        {"action": "add", "label": "Not in English"},
        {"action": "retire", "reason": duplicate.pk},
        {"action": "rename", "reason": duplicate.pk, "label": "Not in English"},  # taken
        {"action": "retire", "reason": "999999"},  # not one of ours
    )]
    after = client.get(settings_url)
    screen = client_for(cast.ada).get(reverse("screening:screen", args=["ikt", FT]))
    listing = client_for(cast.viewer).get(reverse("screening:records", args=["ikt", FT]))
    home = client_for(cast.viewer).get(reverse("screening:full_text", args=["ikt"]))

    assert [(r.label, n) for r, n in before.context["reasons"]][:2] == [
        ("Wrong design", 1), ("Author not a trainee", 0)]
    assert {s["Location"] for s in steps} == {settings_url}
    assert [(r.label, r.active, n) for r, n in after.context["reasons"]] == [
        ("Wrong study design", True, 1), *[(label, True, 0) for label in (
            "Author not a trainee", "Partnership approach not described",
            "Not health research", "Wrong publication type")],
        ("Duplicate report", False, 0), ("Not in English", True, 0)]
    messages = [str(m) for m in after.context["messages"]]
    assert messages == ["Exclusion reasons saved."] * 3 + [
        "“Not in English” is already a reason at this stage.",
        "Select a valid choice. That choice is not one of the available choices."]
    assert f'value="{design.pk}">Wrong study design</option>' in screen.text
    assert f'value="{duplicate.pk}"' not in screen.text  # retired: not offered
    assert '<span class="text-body-secondary">(Wrong study design)</span>' in listing.text
    assert [(r.label, n) for r, n in home.context["exclusion_counts"]][0] == (
        "Wrong study design", 1)
    assert [e.action for e in AuditEvent.objects.filter(
        action__startswith="stage.reason.").order_by("id")] == [
        "stage.reason.rename", "stage.reason.add", "stage.reason.retire"]


def test_a_vote_posted_from_the_screen_carries_the_reason_id(cast, client_for):
    [record] = at_full_text(cast)
    design = reason(cast, "Wrong design")

    client_for(cast.ada).post(reverse("screening:vote", args=["ikt", FT, record.pk]),
                              {"decision": "exclude", "reason": str(design.pk)})
    client_for(cast.ben).post(reverse("screening:vote", args=["ikt", FT, record.pk]),
                              {"decision": "exclude", "reason": str(design.pk)})
    resolve = client_for(cast.lead).get(reverse("screening:resolve",
                                                args=["ikt", FT, record.pk]))

    screening = Screening.objects.get(record=record, stage=FT)
    assert (screening.state, screening.reason) == (State.EXCLUDED, design)
    assert "<strong>Excluded</strong> (Wrong design)" in resolve.text
    assert resolve.text.count("</strong>: Exclude (Wrong design)") == 2


def test_reasons_view_is_for_leads(cast, client_for):
    url = reverse("screening:reasons", args=["ikt", FT])
    data = {"action": "add", "label": "Not in English"}

    assert client_for(cast.ada).post(url, data).status_code == 403
    assert client_for(cast.outsider).post(url, data).status_code == 404
    assert client_for(cast.lead).get(url).status_code == 405
    assert not ExclusionReason.objects.filter(label="Not in English").exists()
