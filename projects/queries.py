from django.db.models import QuerySet

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


def activity(project: Project, *, actor_id: str = "", action: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(project=project).select_related("actor")
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


def activity_actors(project: Project) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=AuditEvent.objects.filter(project=project).values("actor_id")
    ).order_by("username")


def activity_actions(project: Project) -> list[str]:
    return list(
        AuditEvent.objects.filter(project=project)
        .values_list("action", flat=True).distinct().order_by("action")
    )


def jobs_of(project: Project) -> QuerySet[Job]:
    return Job.objects.filter(project=project).select_related("started_by")
