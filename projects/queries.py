from django.db.models import Q, QuerySet

from accounts.models import User

from .models import AuditEvent, Job, Membership, Project


def projects_of(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("project").order_by(
        "project__name"
    )


def team(project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by(
        "user__username"
    )


def audit_events(project: Project, *, user) -> QuerySet[AuditEvent]:
    """The project's audit events `user` may read: all but the sealed ones of others (an
    unsettled vote is its voter's alone, whatever the reader's role). Filtered in the query,
    so pages and counts only ever see readable events."""
    return AuditEvent.objects.filter(Q(sealed=False) | Q(actor=user), project=project)


def activity(project: Project, *, user, actor_id: str = "",
             action: str = "") -> QuerySet[AuditEvent]:
    events = audit_events(project, user=user).select_related("actor")
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


def activity_actors(project: Project, *, user) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=audit_events(project, user=user).values("actor_id")
    ).order_by("username")


def activity_actions(project: Project, *, user) -> list[str]:
    return list(
        audit_events(project, user=user)
        .values_list("action", flat=True).distinct().order_by("action")
    )


def jobs_of(project: Project) -> QuerySet[Job]:
    return Job.objects.filter(project=project).select_related("started_by")
