"""The audit log: every change that matters is one AuditEvent, written in the same
transaction as the change itself, so the log and the data never disagree."""

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
    )


def record_many(*, project: Project | None, actor, action: str,
                changes: list[tuple[models.Model, dict | None, dict | None]]) -> int:
    """One event per (target, before, after), in one INSERT: for bulk work such as the
    automatic merges of a deduplication run."""
    actor = actor if actor is not None and actor.is_authenticated else None
    events = [
        AuditEvent(project=project, actor=actor, action=action,
                   target_type=target._meta.label, target_id=str(target.pk),
                   target_repr=str(target)[:300], before=before, after=after)
        for target, before, after in changes
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)
