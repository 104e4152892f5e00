"""The audit log: every change that matters is one AuditEvent, written in the same
transaction as the change itself, so the log and the data never disagree.

A sealed event (`sealed=True`) is listed only to its own actor until `unseal` opens every
event of its target: screening seals a vote until its record settles, so nobody who could
still vote on the record (a lead included) reads it on the Activity page or in its history.
"""

from typing import Any

from django.db import models

from .models import AuditEvent, Project


def record(
    *,
    project: Project | None,
    actor,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    sealed: bool = False,
) -> AuditEvent:
    return AuditEvent.objects.create(
        project=project,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:300] if target is not None else "",
        before=before,
        after=after,
        sealed=sealed,
    )


def record_many(*, project: Project | None, actor, action: str,
                changes: list[tuple[models.Model, dict | None, dict | None]],
                sealed: bool = False) -> int:
    """One event per (target, before, after), in one INSERT: for bulk work such as the
    automatic merges of a deduplication run."""
    actor = actor if actor is not None and actor.is_authenticated else None
    events = [
        AuditEvent(project=project, actor=actor, action=action,
                   target_type=target._meta.label, target_id=str(target.pk),
                   target_repr=str(target)[:300], before=before, after=after, sealed=sealed)
        for target, before, after in changes
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def unseal(*, target: models.Model) -> int:
    """Open every sealed event of `target` to everyone who may read the log; answers how many.

    Idempotent (only sealed events are updated). A target with a `project_id` (a record) is
    looked up by project too, which the (project, target_type, target_id) index serves.
    """
    events = AuditEvent.objects.filter(target_type=target._meta.label, target_id=str(target.pk),
                                       sealed=True)
    project_id = getattr(target, "project_id", None)
    if project_id is not None:
        events = events.filter(project_id=project_id)
    return events.update(sealed=False)
