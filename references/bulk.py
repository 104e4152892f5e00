"""Fast bulk inserts: PostgreSQL's COPY where we run on it, bulk_create elsewhere.

A 100,000-record import must store in seconds; Django's bulk_create sends large INSERTs,
COPY streams rows and is several times faster. Ids are taken from the table's own
sequence first, so rows can point at each other (a record at its study) in one pass.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


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


def analyze(model: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics after a bulk change, so the planner sees the new rows
    (autovacuum would, but only later: the first pages after an import would be slow)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
