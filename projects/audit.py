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
