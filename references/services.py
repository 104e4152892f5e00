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


def save_upload(project: Project, uploaded) -> str:
    """Keep an uploaded file privately (MEDIA_ROOT is never served) until its import runs."""
    name = Path(uploaded.name).name or "upload"
    return default_storage.save(f"uploads/{project.pk}/{uuid.uuid4().hex}/{name}", uploaded)


def import_file(
    *, project: Project, data: bytes, filename: str, source_name: str,
    source_kind: str = Source.Kind.DATABASE, date_searched: date | None = None,
    search_strategy: str = "", file_format: str = "auto", mapping: dict | None = None,
    user=None, progress: Progress | None = None,
) -> ImportReport:
    """Parse a file and store it as one source with all its records, or store nothing.

    Raises ImportFileError (with file, line, record and field) when the file cannot be
    read. Records without title and abstract are stored too and listed in the report.
    """
    progress = progress or (lambda *a, **k: None)
    if source_kind not in Source.Kind.values:
        raise ServiceError(f"Unknown source kind: {source_kind}")
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
            project=project, name=source_name.strip(), kind=source_kind,
            date_searched=date_searched, search_strategy=search_strategy,
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


SOURCE_FIELDS = ("name", "kind", "date_searched", "search_strategy")


@transaction.atomic
def update_source(source: Source, *, user, **changes) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    before = {f: _jsonable(getattr(source, f)) for f in SOURCE_FIELDS}
    for name, value in changes.items():
        if name not in SOURCE_FIELDS:
            raise ValueError(f"Not an editable source field: {name}")
        setattr(source, name, value)
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


@transaction.atomic
def link_to_study(record: Record, *, study_of: Record, user) -> Study:
    """Make `record` a report of the study `study_of` belongs to (e.g. a thesis and the
    article from it). A study left without reports is removed."""
    if record.project_id != study_of.project_id:
        raise ServiceError("Both records must be in the same project.")
    record = Record.objects.select_for_update().get(pk=record.pk)
    target = Record.objects.get(pk=study_of.pk).study_id
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
    """Make `record` its own study again."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    old = record.study_id
    if Record.objects.filter(study_id=old).count() < 2:
        raise ServiceError(f"Record #{record.pk} is the only report of its study.")
    study = Study.objects.create(project=record.project)
    Record.objects.filter(pk=record.pk).update(study=study)
    audit.record(project=record.project, actor=user, action="study.unlink", target=record,
                 before={"study": old}, after={"study": study.pk})
    return study
