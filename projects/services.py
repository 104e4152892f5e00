"""Writes with rules for projects, teams and invitations. Each function is one state change,
owns its transaction and writes its audit event in it."""

import json
from collections import Counter

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from . import audit
from .jobs import JobError, Progress, attach_result_file, start_job
from .models import Invitation, Job, Membership, Project, Role


class ServiceError(Exception):
    """A rule was broken; the message says which, for the user."""


PROJECT_FIELDS = ("name", "description", "review_type", "inclusion_criteria", "exclusion_criteria")


def _project_state(project: Project) -> dict:
    return {field: getattr(project, field) for field in PROJECT_FIELDS}


def unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "project"
    slug, n = base, 2
    while Project.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def create_project(*, user, name: str, slug: str | None = None, description: str = "",
                   review_type: str = Project.ReviewType.SYSTEMATIC,
                   inclusion_criteria: str = "", exclusion_criteria: str = "") -> Project:
    """Create a project; its creator becomes its first lead."""
    if slug and Project.objects.filter(slug=slug).exists():
        raise ServiceError(f"A project with the address '{slug}' exists already.")
    project = Project.objects.create(
        slug=slug or unique_slug(name), name=name, description=description,
        review_type=review_type, inclusion_criteria=inclusion_criteria,
        exclusion_criteria=exclusion_criteria, created_by=user,
    )
    membership = Membership.objects.create(project=project, user=user, role=Role.LEAD)
    audit.record(project=project, actor=user, action="project.create", target=project,
                 after=_project_state(project))
    audit.record(project=project, actor=user, action="member.add", target=membership,
                 after={"user": user.username, "role": Role.LEAD})
    return project


@transaction.atomic
def update_project(project: Project, *, user, **changes) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = _project_state(project)
    for field, value in changes.items():
        if field not in PROJECT_FIELDS:
            raise ValueError(f"Not an editable project field: {field}")
        setattr(project, field, value)
    after = _project_state(project)
    if before != after:
        project.save(update_fields=list(changes))
        changed = [f for f in PROJECT_FIELDS if before[f] != after[f]]
        audit.record(project=project, actor=user, action="project.update", target=project,
                     before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return project


@transaction.atomic
def add_member(project: Project, *, member, role: str, user) -> Membership:
    """Add `member` to the team with `role` (no invitation needed: scripts and the demo)."""
    membership, created = Membership.objects.get_or_create(
        project=project, user=member, defaults={"role": role}
    )
    if created:
        audit.record(project=project, actor=user, action="member.add", target=membership,
                     after={"user": member.username, "role": role})
    return membership


def _lock_leads(project: Project) -> int:
    """Lock the project's lead memberships and count them (so two leads cannot both step down)."""
    return len(list(
        Membership.objects.select_for_update().filter(project=project, role=Role.LEAD)
    ))


@transaction.atomic
def change_role(membership: Membership, *, role: str, user) -> Membership:
    if role not in Role.values:
        raise ServiceError(f"Unknown role: {role}")
    leads = _lock_leads(membership.project)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == Role.LEAD and leads <= 1:
        raise ServiceError("A project needs at least one lead: make someone else lead first.")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(project=membership.project, actor=user, action="member.role", target=membership,
                 before={"user": membership.user.username, "role": before},
                 after={"user": membership.user.username, "role": role})
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, user) -> None:
    """Remove a member from the team. Their past decisions stay: they point at the user."""
    leads = _lock_leads(membership.project)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.LEAD and leads <= 1:
        raise ServiceError("A project needs at least one lead: make someone else lead first.")
    audit.record(project=membership.project, actor=user, action="member.remove",
                 target=membership,
                 before={"user": membership.user.username, "role": membership.role})
    membership.delete()


def invitation_url(invitation: Invitation, request=None) -> str:
    path = f"/invitations/{invitation.token}/"
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path) if request is not None else path


def invite_member(project: Project, *, email: str, role: str, user, request=None) -> Invitation:
    """Create an invitation and email its link (to the console unless EMAIL_URL is set)."""
    email = email.strip()
    if role not in Role.values:
        raise ServiceError(f"Unknown role: {role}")
    if Membership.objects.filter(project=project, user__email__iexact=email).exists():
        raise ServiceError(f"{email} is already a member of this project.")
    if any(inv.is_pending for inv in project.invitations.filter(email__iexact=email)):
        raise ServiceError(f"{email} has a pending invitation already: its link is below.")
    with transaction.atomic():
        invitation = Invitation.objects.create(project=project, email=email, role=role,
                                               invited_by=user)
        audit.record(project=project, actor=user, action="invitation.create", target=invitation,
                     after={"email": email, "role": role})
    url = invitation_url(invitation, request)
    body = render_to_string("projects/email/invitation.txt",
                            {"invitation": invitation, "url": url, "inviter": user})
    send_mail(f"Invitation to the review '{project.name}' on Tandem", body,
              settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, user) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ServiceError("This invitation is no longer pending.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(project=invitation.project, actor=user, action="invitation.revoke",
                 target=invitation, before={"email": invitation.email, "role": invitation.role})


def accept_invitation(token: str, *, user) -> Membership:
    """Join the invitation's project with its role. The invitation is used up exactly once
    (a row lock); a person who is already a member keeps their membership and role."""
    try:
        with transaction.atomic():
            invitation = Invitation.objects.select_for_update().select_related("project").get(
                token=token
            )
            if not invitation.is_pending:
                raise ServiceError("This invitation has expired, was revoked or was used already.")
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            membership, created = Membership.objects.get_or_create(
                project=invitation.project, user=user, defaults={"role": invitation.role}
            )
            audit.record(project=invitation.project, actor=user, action="invitation.accept",
                         target=invitation, after={"email": invitation.email,
                                                   "role": membership.role,
                                                   "already_member": not created})
            if created:
                audit.record(project=invitation.project, actor=user, action="member.add",
                             target=membership,
                             after={"user": user.username, "role": membership.role})
            return membership
    except Invitation.DoesNotExist:
        raise ServiceError("This invitation link is not valid.") from None
    except IntegrityError:
        raise ServiceError("You joined this project at the same moment already.") from None


# --- the health-check job: a small, real job that proves the queue end to end -----------

HEALTH_CHECK = "health_check"


def start_health_check(project: Project, *, user) -> Job:
    from .tasks import task_health_check

    return start_job(project=project, kind=HEALTH_CHECK, label="Project health check",
                     task=task_health_check, user=user)


def health_check(job: Job, progress: Progress) -> dict:
    """Count the project's team, invitations and activity and write a small report."""
    project = job.project
    steps = 4
    progress(0, steps, "Counting members")
    roles = Counter(Membership.objects.filter(project=project).values_list("role", flat=True))
    if not roles.get(Role.LEAD):
        raise JobError("The project has no lead: ask an administrator to add one.")
    progress(1, steps, "Counting invitations")
    pending = sum(1 for inv in Invitation.objects.filter(project=project) if inv.is_pending)
    progress(2, steps, "Counting activity")
    events = project.audit_events.count()
    progress(3, steps, "Writing the report")
    report = {
        "project": project.slug,
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "members": sum(roles.values()),
        "members_by_role": {role: roles.get(role, 0) for role in Role.values},
        "pending_invitations": pending,
        "audit_events": events,
    }
    attach_result_file(job, f"health-check-{project.slug}.json",
                       json.dumps(report, indent=2).encode())
    progress(steps, steps)
    counts = ", ".join(_count(roles.get(role, 0), role) for role in (Role.LEAD, Role.REVIEWER,
                                                                     Role.VIEWER))
    return {
        "message": f"{_count(report['members'], 'member')} ({counts}), "
                   f"{_count(pending, 'pending invitation')}.",
        **report,
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
