from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from projects import services
from projects.models import AuditEvent, Invitation, Membership, Project, Role
from tests.factories import InvitationFactory, UserFactory


def events(project, action):
    return list(AuditEvent.objects.filter(project=project, action=action).order_by("id"))


def test_create_project_makes_the_creator_its_only_lead(db):
    user = UserFactory(username="maria")

    project = services.create_project(user=user, name="Trainee IKT review",
                                      review_type=Project.ReviewType.SCOPING,
                                      inclusion_criteria="Trainee-led")

    assert project.slug == "trainee-ikt-review"
    assert list(project.memberships.values_list("user__username", "role")) == [("maria", "lead")]
    created = events(project, "project.create")
    assert len(created) == 1 and created[0].actor == user
    assert created[0].after["review_type"] == "scoping"
    assert events(project, "member.add")[0].after == {"user": "maria", "role": "lead"}


def test_create_project_slug_is_unique_for_the_same_name(db):
    user = UserFactory()

    first = services.create_project(user=user, name="IKT review")
    second = services.create_project(user=user, name="IKT review")

    assert (first.slug, second.slug) == ("ikt-review", "ikt-review-2")


def test_create_project_refuses_a_taken_slug(cast):
    with pytest.raises(services.ServiceError, match="'ikt' exists already"):
        services.create_project(user=cast.ada, name="Other", slug="ikt")


def test_update_project_records_only_the_changed_fields(cast):
    services.update_project(cast.project, user=cast.lead, name="New name",
                            description="", inclusion_criteria="Trainees")

    cast.project.refresh_from_db()
    assert cast.project.name == "New name"
    [event] = events(cast.project, "project.update")
    assert event.before == {"name": "Trainee-led IKT scoping review", "inclusion_criteria": ""}
    assert event.after == {"name": "New name", "inclusion_criteria": "Trainees"}


def test_update_project_without_change_records_nothing(cast):
    services.update_project(cast.project, user=cast.lead, name=cast.project.name)

    assert events(cast.project, "project.update") == []


def test_change_role_records_before_and_after(cast):
    membership = cast.ada.memberships.get()

    services.change_role(membership, role=Role.LEAD, user=cast.lead)

    assert Membership.objects.get(pk=membership.pk).role == Role.LEAD
    [event] = events(cast.project, "member.role")
    assert (event.actor, event.before, event.after) == (
        cast.lead, {"user": "ada", "role": "reviewer"}, {"user": "ada", "role": "lead"})


def test_the_last_lead_cannot_step_down_or_be_removed(cast):
    lead = cast.lead.memberships.get()

    with pytest.raises(services.ServiceError, match="at least one lead"):
        services.change_role(lead, role=Role.REVIEWER, user=cast.lead)
    with pytest.raises(services.ServiceError, match="at least one lead"):
        services.remove_member(lead, user=cast.lead)

    assert Membership.objects.get(pk=lead.pk).role == Role.LEAD


def test_a_lead_can_step_down_when_another_lead_exists(cast):
    services.change_role(cast.ada.memberships.get(), role=Role.LEAD, user=cast.lead)

    services.change_role(cast.lead.memberships.get(), role=Role.REVIEWER, user=cast.lead)

    assert dict(cast.project.memberships.filter(role=Role.LEAD).values_list(
        "user__username", "role")) == {"ada": "lead"}


def test_remove_member_keeps_the_user_and_logs_the_removal(cast):
    services.remove_member(cast.ben.memberships.get(), user=cast.lead)

    assert not Membership.objects.filter(project=cast.project, user=cast.ben).exists()
    cast.ben.refresh_from_db()  # the account and what points at it stay
    [event] = events(cast.project, "member.remove")
    assert event.before == {"user": "ben", "role": "reviewer"}


def test_invite_member_emails_the_link(cast):
    invitation = services.invite_member(cast.project, email=" new@example.org ",
                                        role=Role.VIEWER, user=cast.lead)

    assert (invitation.email, invitation.role, invitation.is_pending) == (
        "new@example.org", "viewer", True)
    [message] = mail.outbox
    assert message.to == ["new@example.org"]
    assert f"/invitations/{invitation.token}/" in message.body
    assert "Lena Lead invites you" in message.body
    assert events(cast.project, "invitation.create")[0].after == {
        "email": "new@example.org", "role": "viewer"}


def test_invite_member_uses_site_url_for_the_link(cast, settings):
    settings.SITE_URL = "https://tandem.example.org"

    invitation = services.invite_member(cast.project, email="n@example.org",
                                        role=Role.REVIEWER, user=cast.lead)

    assert f"https://tandem.example.org/invitations/{invitation.token}/" in mail.outbox[0].body


def test_invite_member_refuses_a_member(cast):
    with pytest.raises(services.ServiceError, match="already a member"):
        services.invite_member(cast.project, email="ADA@example.org", role=Role.REVIEWER,
                               user=cast.lead)
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_accept_invitation_adds_the_member_once(cast):
    invitation = InvitationFactory(project=cast.project, role=Role.VIEWER, invited_by=cast.lead)
    newcomer = UserFactory(username="newcomer")

    membership = services.accept_invitation(invitation.token, user=newcomer)

    assert (membership.user, membership.role) == (newcomer, Role.VIEWER)
    invitation.refresh_from_db()
    assert invitation.accepted_by == newcomer and not invitation.is_pending
    with pytest.raises(services.ServiceError, match="used already"):
        services.accept_invitation(invitation.token, user=cast.outsider)
    assert not Membership.objects.filter(user=cast.outsider).exists()


def test_accept_invitation_keeps_an_existing_members_role(cast):
    invitation = InvitationFactory(project=cast.project, role=Role.VIEWER, invited_by=cast.lead)

    membership = services.accept_invitation(invitation.token, user=cast.ada)

    assert membership.role == Role.REVIEWER
    assert events(cast.project, "invitation.accept")[0].after["already_member"] is True


def test_accept_invitation_refuses_expired_revoked_and_unknown(cast):
    expired = InvitationFactory(project=cast.project, invited_by=cast.lead,
                                created_at=timezone.now() - timedelta(days=15))
    revoked = InvitationFactory(project=cast.project, invited_by=cast.lead)
    services.revoke_invitation(revoked, user=cast.lead)

    for token in (expired.token, revoked.token):
        with pytest.raises(services.ServiceError, match="expired, was revoked"):
            services.accept_invitation(token, user=cast.outsider)
    with pytest.raises(services.ServiceError, match="not valid"):
        services.accept_invitation("nope", user=cast.outsider)
    assert not Membership.objects.filter(user=cast.outsider).exists()
    assert events(cast.project, "invitation.revoke")[0].before["email"] == revoked.email


def test_invite_member_refuses_a_second_pending_invitation(cast):
    services.invite_member(cast.project, email="kim@example.org", role=Role.VIEWER,
                           user=cast.lead)

    with pytest.raises(services.ServiceError, match="has a pending invitation already"):
        services.invite_member(cast.project, email="KIM@example.org", role=Role.LEAD,
                               user=cast.lead)
    assert Invitation.objects.filter(email__iexact="kim@example.org").count() == 1
