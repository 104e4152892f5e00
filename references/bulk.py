"""Fast bulk inserts: PostgreSQL's COPY where we run on it, bulk_create elsewhere.

A 100,000-record import must store in seconds; Django's bulk_create sends large INSERTs,
COPY streams rows and is several times faster. Ids are taken from the table's own
sequence first, so rows can point at each other (a record at its study) in one pass.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from projects import audit
from projects.models import AuditEvent


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve `count` ids from the model's id sequence (PostgreSQL)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def strip_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL characters; imported files sometimes do."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value


def _db_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(strip_nul(value), ensure_ascii=False)
    return strip_nul(value)


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY `rows` (values in the order of `columns`, attnames such as 'study_id') into the
    model's table. Must run inside the caller's transaction. Returns the number of rows."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[c] for c in columns]
    db_columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({db_columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_db_value(f, v) for f, v in zip(fields, row, strict=True)])
                count += 1
    return count


def analyze(model: type[models.Model], columns: Sequence[str] = ()) -> None:
    """Refresh PostgreSQL's statistics after a bulk change, so the planner sees the new rows
    (autovacuum would, but only later: the first pages after an import would be slow).
    `columns` (attnames) limits it to the columns the change touched: ANALYZE of a table
    with long texts spends most of its time on them."""
    if is_postgres():
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        cols = ", ".join(connection.ops.quote_name(by_attname[c].column) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
                           + (f" ({cols})" if cols else ""))


def record_events(*, project, actor, action: str,
                  changes: list[tuple[models.Model, dict | None, dict | None]]) -> int:
    """The events `projects.audit.record_many` writes, one per (target, before, after), by
    COPY on PostgreSQL (three to four times faster for the tens of thousands of merges of a
    large deduplication run). Must run inside the caller's transaction."""
    if not is_postgres():
        return audit.record_many(project=project, actor=actor, action=action, changes=changes)
    actor = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    return copy_rows(AuditEvent, [
        "project_id", "actor_id", "created_at", "action", "target_type", "target_id",
        "target_repr", "before", "after", "sealed",
    ], ((project.pk if project else None, actor.pk if actor else None, now, action,
         target._meta.label, str(target.pk), str(target)[:300], before, after, False)
        for target, before, after in changes))
