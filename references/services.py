"""Imports, sources, merges and studies: every write with rules for the references app."""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from projects import audit
from projects.models import Project

from . import bulk, parsers
from .holds import STUDY_HOLDS
from .holds import describe as holds_describe
from .models import Record, Source, Study
from .parsers.base import ParsedRecord

log = logging.getLogger(__name__)

Progress = Callable[..., None]

RECORD_COLUMNS = [
    "id", "project_id", "source_id", "source_position", "source_line", "source_record_id",
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid",
    "other_ids", "keywords", "language", "url", "publication_type", "raw", "study_id",
    "created_at",
]


class ServiceError(Exception):
    """A rule was broken; the message says which, for the user."""


@dataclass
class ImportReport:
    source: Source
    imported: int
    unusable: list[dict] = field(default_factory=list)  # {"position", "line", "problem"}
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"Imported {self.imported} records from {self.source.file_name} " \
               f"as source “{self.source.name}”."
        if self.unusable:
            text += f" {len(self.unusable)} of them are unusable (listed below) but kept."
        return text

    def as_json(self) -> dict:
        return {"source_id": self.source.pk, "imported": self.imported,
                "unusable": self.unusable, "warnings": self.warnings}


def check_source_method(kind: str, method: str, starts_at_full_text: bool) -> str:
    """The PRISMA method of a source of `kind` ('other' when an other-methods source names
    none), or ServiceError when the combination makes no sense."""
    if kind not in Source.Kind.values:
        raise ServiceError(f"Unknown source kind: {kind}")
    if kind != Source.Kind.OTHER:
        if method:
            raise ServiceError("Only a source of other methods has a method "
                               "(websites, organisations, citation searching, other).")
        if starts_at_full_text:
            raise ServiceError("Only a source of other methods can start at full text: "
                               "database and register records are screened first.")
        return ""
    if method and method not in Source.Method.values:
        raise ServiceError(f"Unknown method: {method}")
    return method or Source.Method.OTHER


def save_upload(project: Project, uploaded) -> str:
    """Keep an uploaded file privately (MEDIA_ROOT is never served) until its import runs."""
    name = Path(uploaded.name).name or "upload"
    return default_storage.save(f"uploads/{project.pk}/{uuid.uuid4().hex}/{name}", uploaded)


def import_file(
    *, project: Project, data: bytes, filename: str, source_name: str,
    source_kind: str = Source.Kind.DATABASE, source_method: str = "",
    starts_at_full_text: bool = False, date_searched: date | None = None,
    search_strategy: str = "", file_format: str = "auto", mapping: dict | None = None,
    user=None, progress: Progress | None = None,
) -> ImportReport:
    """Parse a file and store it as one source with all its records, or store nothing.

    Raises ImportFileError (with file, line, record and field) when the file cannot be
    read. Records without title and abstract are stored too and listed in the report.
    """
    progress = progress or (lambda *a, **k: None)
    method = check_source_method(source_kind, source_method, starts_at_full_text)
    if not source_name.strip():
        raise ServiceError("A source needs a name, e.g. “MEDLINE (Ovid)”.")
    progress(0, 100, f"Reading {filename}")
    result = parsers.parse(data, filename=filename, format=file_format, mapping=mapping)
    records = result.records
    progress(40, 100, f"Storing {len(records)} records")
    unusable = [{"position": r.position, "line": r.line, "problem": "; ".join(r.problems)}
                for r in records if r.problems]
    with transaction.atomic():
        source = Source.objects.create(
            project=project, name=source_name.strip(), kind=source_kind, method=method,
            starts_at_full_text=starts_at_full_text, date_searched=date_searched,
            search_strategy=search_strategy,
            file_name=Path(filename).name, file_format=result.format, encoding=result.encoding,
            record_count=len(records), imported_by=user,
        )
        _store_records(project, source, records, progress)
        audit.record(project=project, actor=user, action="source.import", target=source,
                     after={"file": source.file_name, "format": result.format,
                            "records": len(records), "unusable": len(unusable)})
    bulk.analyze(Record)
    progress(100, 100, "Stored")
    return ImportReport(source=source, imported=len(records), unusable=unusable,
                        warnings=result.warnings)


def _store_records(project: Project, source: Source, records: list[ParsedRecord],
                   progress: Progress) -> None:
    now = timezone.now()
    n = len(records)
    if bulk.is_postgres():
        study_ids = bulk.allocate_ids(Study, n)
        record_ids = bulk.allocate_ids(Record, n)
        bulk.copy_rows(Study, ["id", "project_id", "created_at"],
                       ((sid, project.pk, now) for sid in study_ids))
        progress(55, 100)
        bulk.copy_rows(Record, RECORD_COLUMNS, (
            _row(rid, project, source, rec, sid, now)
            for rid, sid, rec in zip(record_ids, study_ids, records, strict=True)
        ))
        return
    studies = Study.objects.bulk_create([Study(project=project, created_at=now)
                                         for _ in range(n)], batch_size=500)
    Record.objects.bulk_create([
        Record(**dict(zip(RECORD_COLUMNS[1:],
                          _row(None, project, source, rec, study.pk, now)[1:], strict=True)))
        for rec, study in zip(records, studies, strict=True)
    ], batch_size=500)


def _row(record_id, project, source, rec: ParsedRecord, study_id, now) -> tuple:
    return (
        record_id, project.pk, source.pk, rec.position, rec.line, rec.source_record_id[:255],
        rec.title, rec.abstract, rec.authors, rec.year, rec.journal, rec.volume[:100],
        rec.issue[:100], rec.pages[:100], rec.doi[:255], rec.pmid[:40], rec.other_ids,
        rec.keywords, rec.language[:100], rec.url, rec.publication_type[:100], rec.raw,
        study_id, now,
    )


SOURCE_FIELDS = ("name", "kind", "method", "starts_at_full_text", "date_searched",
                 "search_strategy")


@transaction.atomic
def update_source(source: Source, *, user, **changes) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    before = {f: _jsonable(getattr(source, f)) for f in SOURCE_FIELDS}
    for name, value in changes.items():
        if name not in SOURCE_FIELDS:
            raise ValueError(f"Not an editable source field: {name}")
        setattr(source, name, value)
    source.method = check_source_method(source.kind, source.method, source.starts_at_full_text)
    if (before["starts_at_full_text"] != source.starts_at_full_text
            and Record.objects.filter(source=source, hold__gt=0).exists()):
        raise ServiceError("Records of this source have screening decisions: where they start "
                           "can no longer change.")
    after = {f: _jsonable(getattr(source, f)) for f in SOURCE_FIELDS}
    changed = [f for f in SOURCE_FIELDS if before[f] != after[f]]
    if changed:
        source.save(update_fields=changed)
        audit.record(project=source.project, actor=user, action="source.update", target=source,
                     before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return source


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def read_upload(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def _lock_for_study_change(*records: Record) -> list[Record]:
    """The records locked (as merges and votes lock them), in id order, checked: none is a
    duplicate, and no study involved is held by extraction or coding."""
    from .deduplication import lock_project

    lock_project(records[0].project_id)
    ids = [r.pk for r in records]
    locked = Record.objects.select_for_update(no_key=True).in_bulk(sorted(set(ids)))
    studies = {locked[pk].study_id for pk in ids}
    for pk in ids:
        if locked[pk].duplicate_of_id:
            raise ServiceError(f"Record #{pk} is a duplicate: it belongs to the study of "
                               f"its primary, record #{locked[pk].duplicate_of_id}.")
    held = Record.objects.filter(study_id__in=studies, hold__gt=0).values_list("id", "hold")
    for pk, hold in held:
        if hold & STUDY_HOLDS:
            raise ServiceError(f"The study of record #{pk} has {holds_describe(hold & STUDY_HOLDS)}"
                               ": its reports cannot move.")
    return [locked[pk] for pk in ids]


@transaction.atomic
def link_to_study(record: Record, *, study_of: Record, user) -> Study:
    """Make `record` a report of the study `study_of` belongs to (e.g. a thesis and the
    article from it). A study left without reports is removed. Refused for a duplicate (it
    follows its primary) and where either study has an extraction or coding (a hold): moving
    a report would change what was extracted."""
    if record.project_id != study_of.project_id:
        raise ServiceError("Both records must be in the same project.")
    record, other = _lock_for_study_change(record, study_of)
    target = other.study_id
    if record.study_id == target:
        raise ServiceError(f"Record #{record.pk} is in that study already.")
    old = record.study_id
    Record.objects.filter(pk=record.pk).update(study_id=target)
    Study.objects.filter(pk=old, records__isnull=True).delete()
    audit.record(project=record.project, actor=user, action="study.link", target=record,
                 before={"study": old}, after={"study": target, "with_record": study_of.pk})
    return Study.objects.get(pk=target)


@transaction.atomic
def unlink_from_study(record: Record, *, user) -> Study:
    """Make `record` its own study again (refused as `link_to_study` refuses)."""
    (record,) = _lock_for_study_change(record)
    old = record.study_id
    if Record.objects.filter(study_id=old).count() < 2:
        raise ServiceError(f"Record #{record.pk} is the only report of its study.")
    study = Study.objects.create(project=record.project)
    Record.objects.filter(pk=record.pk).update(study=study)
    audit.record(project=record.project, actor=user, action="study.unlink", target=record,
                 before={"study": old}, after={"study": study.pk})
    return study


REMOVAL_REASONS = dict(Record._meta.get_field("removed_reason").choices)


@transaction.atomic
def remove_before_screening(project: Project, record_ids: list[int], *, reason: str,
                            note: str = "", user, grouped_allowed: bool = False) -> int:
    """Take records out of the flow before screening, with PRISMA's reason ('automation':
    marked ineligible by an automation tool; 'other'). Refuses records with decisions of a
    later stage (holds), and records in a duplicate group (their count is the duplicates').
    Under the deduplication lock with the rows locked, so a vote or a merge cannot slip in;
    each record's removal is one audit event. Reversible with `restore_to_screening`.
    `grouped_allowed`: the record kept for a group of duplicates may go too (a stopping rule
    ends a stage for every record left; the group's duplicates stay counted as duplicates),
    never a duplicate itself."""
    from .deduplication import lock_project

    if reason not in REMOVAL_REASONS:
        raise ServiceError(f"Unknown reason for removal: {reason}")
    lock_project(project.pk)
    rows = list(Record.objects.select_for_update(no_key=True).filter(
        project=project, pk__in=record_ids).order_by("id").only(
        "id", "title", "hold", "duplicate_of_id", "removed_reason"))
    if len(rows) != len(set(record_ids)):
        raise ServiceError("Some of these records are not in this project.")
    grouped = set(Record.objects.filter(duplicate_of_id__in=record_ids).values_list(
        "duplicate_of_id", flat=True))
    for record in rows:
        if record.removed_reason:
            raise ServiceError(f"Record #{record.pk} is removed already.")
        if record.hold:
            raise ServiceError(f"Record #{record.pk} has {holds_describe(record.hold)}: "
                               "it cannot be removed before screening.")
        if record.duplicate_of_id or (record.pk in grouped and not grouped_allowed):
            raise ServiceError(f"Record #{record.pk} is in a group of duplicates: undo the "
                               "merge first.")
    now = timezone.now()
    Record.objects.filter(pk__in=[r.pk for r in rows]).update(
        removed_reason=reason, removed_note=note, removed_by=user, removed_at=now)
    audit.record_many(project=project, actor=user, action="record.remove", changes=[
        (record, {"removed": ""}, {"removed": reason, "note": note}) for record in rows])
    return len(rows)


@transaction.atomic
def restore_to_screening(project: Project, record_ids: list[int], *, user) -> int:
    """Put records removed before screening back into the flow (audited)."""
    rows = list(Record.objects.select_for_update(no_key=True).filter(
        project=project, pk__in=record_ids).exclude(removed_reason="").order_by("id").only(
        "id", "title", "removed_reason", "removed_note"))
    Record.objects.filter(pk__in=[r.pk for r in rows]).update(
        removed_reason="", removed_note="", removed_by=None, removed_at=None)
    audit.record_many(project=project, actor=user, action="record.restore", changes=[
        (record, {"removed": record.removed_reason, "note": record.removed_note},
         {"removed": ""}) for record in rows])
    return len(rows)
