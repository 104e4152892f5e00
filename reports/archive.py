"""The whole-project archive: every row of a project, in every app, as a zip of JSON files
with the PDFs, and its restore into a new project.

The zip holds `manifest.json` (format, version, what is in it), `project.json` (the
project's own settings), `users.json` (everyone a row points at, by username, email and
name), one `<table>.json` per table of TABLES and the full texts under `pdfs/<id>/`. A table
file is a JSON array with one row per line, so it is read (and written) a row at a time: a
100,000-record project never sits in memory, and a damaged row is named by its number.

A row is the model's columns by attname (`study_id`), values as the database has them. Ids
are the archived server's: a restore reserves new ids for every row first (from each
table's own sequence, in the order of the old ids, so `record_a < record_b` and the screening
queue's frontier keep their meaning), then copies the rows with every foreign key, every
integer that holds an id (an excerpt's `answer_id`) and every id inside a JSON value
(TABLE specs, AUDIT_IDS) mapped. An id of a row that is no longer there (a study dropped
by a merge, a deleted excerpt, a job) gets a reserved id of its own: never a live row's, and
the same wherever it appears, so the history stays consistent.

Left out (LEFT_OUT): background jobs and their files, invitations (their links are
secrets sent by email, and accepted ones are memberships already) and screening claims
(a record held open on a screen for a few minutes).
"""

from __future__ import annotations

import io
import json
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from projects import audit
from projects.models import Membership, Project, Role
from projects.services import ServiceError, create_project, unique_slug
from references import bulk

FORMAT = "tandem-project-archive"
FORMAT_VERSION = 2
# What each format version added: an older archive has none of these tables (read as
# empty) and rows without these fields (given the model's default).
ADDED_IN = {
    2: {"tables": {"stopping_samples", "early_stops"},
        "fields": {"screening.StageSettings": {"order", "order_seed", "scores_order"}}},
}


def _added_since(version: int) -> tuple[set[str], dict[str, set[str]]]:
    tables: set[str] = set()
    fields: dict[str, set[str]] = {}
    for added_in, added in ADDED_IN.items():
        if version < added_in:
            tables |= added["tables"]
            for label, names in added["fields"].items():
                fields.setdefault(label, set()).update(names)
    return tables, fields
ROW_BATCH = 2000

Progress = Callable[..., None]


def _app_version() -> str | None:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError):
        return None


APP_VERSION = _app_version()

USER = "accounts.User"
PROJECT = "projects.Project"
RECORD, STUDY = "references.Record", "references.Study"
CANDIDATE, BATCH = "references.DuplicateCandidate", "references.DuplicateDecisionBatch"
EXTRACTION, ANSWER = "extraction.Extraction", "extraction.Answer"
EXCERPT, THEME = "frameworks.Excerpt", "frameworks.Theme"
JOB = "projects.Job"
FILE = "file"  # a stored file's name, "fulltext/<project id>/<record id>/<name>"
FLOOR = "floor"  # a record id used as a bound (the screening queue's frontier)


class ArchiveError(Exception):
    """The archive cannot be read or restored; the message says what and where."""


@dataclass(frozen=True)
class Table:
    """One file of the archive: the rows of `label` that belong to the project."""

    name: str
    label: str
    scope: str = "project"  # the lookup from the model to its project
    # Integer fields that hold another row's id without being a foreign key.
    refs: dict[str, str] = field(default_factory=dict)
    # JSON fields that hold ids: field -> [(path, label)]; a path walks dict keys, "*"
    # (every item or value), "~" (a dict's keys) and list positions.
    json: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    files: str = ""  # the folder of the zip its FileField's files go in

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def file(self) -> str:
        return f"{self.name}.json"


# In an order a reader can follow (each table after those it points at); a restore does
# not need it, since every id is reserved before the first row is written.
TABLES = [
    Table("memberships", "projects.Membership"),
    Table("sources", "references.Source"),
    Table("studies", STUDY),
    Table("records", RECORD),
    Table("duplicate_batches", BATCH, json={
        "pair_ids": [("*", CANDIDATE)], "skipped": [("*.pair", CANDIDATE)],
        "undo_skipped": [("*.pair", CANDIDATE)]}),
    # moved = {"into": record, "records": {record: [duplicate_of, study, merged_by, at]}}
    Table("duplicate_candidates", CANDIDATE, json={"moved": [
        ("into", RECORD), ("records.~", RECORD), ("records.*.0", RECORD),
        ("records.*.1", STUDY), ("records.*.2", USER)]}),
    Table("stage_settings", "screening.StageSettings"),
    Table("exclusion_reasons", "screening.ExclusionReason"),
    Table("screenings", "screening.Screening"),
    Table("votes", "screening.Vote", scope="screening__project"),
    Table("screening_assignments", "screening.Assignment"),
    Table("queue_positions", "screening.QueuePosition", refs={"frontier": FLOOR}),
    Table("full_texts", "screening.FullText", files="pdfs"),
    # The stopping aid's sample and the ends of screening by the stopping rule (the records
    # it removed carry their own removal, and their events).
    Table("stopping_samples", "ranking.StoppingSample", json={"record_ids": [("*", RECORD)]}),
    Table("early_stops", "ranking.EarlyStop", json={"record_ids": [("*", RECORD)]}),
    Table("extraction_settings", "extraction.ExtractionSettings"),
    Table("forms", "extraction.Form"),
    Table("form_versions", "extraction.FormVersion", scope="form__project"),
    Table("form_sections", "extraction.Section", scope="form__project"),
    Table("form_fields", "extraction.Field", scope="form__project"),
    Table("extraction_assignments", "extraction.Assignment"),
    Table("extractions", EXTRACTION),
    Table("answers", ANSWER, scope="extraction__project"),
    Table("frameworks", "frameworks.Framework"),
    Table("categories", "frameworks.Category", scope="framework__project"),
    Table("coding_settings", "frameworks.CodingSettings"),
    Table("study_codings", "frameworks.StudyCoding"),
    Table("study_codes", "frameworks.StudyCode"),
    Table("themes", THEME),
    Table("excerpts", EXCERPT, refs={"answer_id": ANSWER}),
    Table("excerpt_categories", "frameworks.Excerpt_categories", scope="excerpt__project"),
    Table("verifications", "frameworks.Verification", scope="coding__project"),
    Table("audit_events", "projects.AuditEvent"),
]

LEFT_OUT = {
    "projects.Job": "background jobs and their result files (a download is made again)",
    "projects.Invitation": "invitations: their links are secrets sent by email, and an "
                           "accepted one is a membership",
    "screening.Claim": "records held open on a reviewer's screen for a few minutes",
    "screening.Priority": "the served order's scores: the next retraining writes them again",
    "ranking.RankingState": "the retraining's counter and its queued-or-running token",
    "ranking.Training": "the log of retrainings (when, on how many decisions, how long)",
}

# The audit events whose before/after hold ids: action -> [(path, label)], paths as in
# Table.json. Every action the code writes is here or in AUDIT_PLAIN (a test reads the
# source for them), so a new action that logs an id cannot be missed.
AUDIT_IDS: dict[str, list[tuple[str, str]]] = {
    "job.start": [("after.retry_of", JOB), ("after.params.batch_id", BATCH)],
    "study.link": [("before.study", STUDY), ("after.study", STUDY),
                   ("after.with_record", RECORD)],
    "study.unlink": [("before.study", STUDY), ("after.study", STUDY)],
    "record.merge": [("before.duplicate_of", RECORD), ("after.duplicate_of", RECORD)],
    "record.unmerge": [("before.duplicate_of", RECORD), ("before.study", STUDY),
                       ("after.duplicate_of", RECORD), ("after.study", STUDY),
                       ("after.batch", BATCH)],
    "duplicate.confirm": [("after.primary", RECORD), ("after.duplicate", RECORD),
                          ("after.held.*", RECORD), ("after.batch", BATCH)],
    "duplicate.reject": [("after.records.*", RECORD), ("after.batch", BATCH)],
    "duplicate.reopen": [("before.batch", BATCH)],
    "duplicate.group": [("after.pairs.*", CANDIDATE), ("after.skipped.*", CANDIDATE)],
    "duplicate.group_undo": [("after.reopened.*", CANDIDATE), ("after.skipped.*", CANDIDATE)],
    "screening.merge_flag": [("before.record", RECORD), ("after.primary", RECORD)],
    "screening.carry": [("before.record", RECORD), ("after.record", RECORD)],
    "screening.assign": [("after.first", RECORD), ("after.last", RECORD)],
    "fulltext.update": [("before.pdf", FILE), ("after.pdf", FILE)],
    "extraction.assign_pair": [("after.studies.*", STUDY)],
    "extraction.pilot": [("before.studies.*", STUDY), ("after.studies.*", STUDY)],
    "extraction.main_round": [("after.carried.*", STUDY)],
    "extraction.carry": [("before.extraction", EXTRACTION)],
    "consensus.complete": [("after.extractions.*", EXTRACTION)],
    "frameworks.add_excerpt": [("after.answer", ANSWER)],
    "frameworks.update_excerpt": [("before.answer", ANSWER), ("after.answer", ANSWER)],
    "frameworks.delete_excerpt": [("before.answer", ANSWER)],
    "frameworks.theme_merge": [("before.excerpts.*", EXCERPT), ("after.merged_into", THEME)],
    "frameworks.reset_verification": [("before.excerpt", EXCERPT)],
    "frameworks.verify": [("after.excerpt", EXCERPT)],
}
AUDIT_PLAIN = {
    "project.create", "project.update", "project.import", "member.add", "member.role",
    "member.remove", "invitation.create", "invitation.revoke", "invitation.accept",
    "job.stale", "source.import", "source.update", "record.remove", "record.restore",
    "dedup.run", "vote.cast", "vote.change", "vote.undo", "screening.conflict",
    "screening.settle", "screening.resolve", "screening.reopen", "stage.settings",
    "stage.reason.add", "stage.reason.rename", "stage.reason.restore", "stage.reason.retire",
    "extraction.settings", "extraction.assign_auto", "extraction.assign", "extraction.answer",
    "extraction.complete", "extraction.reopen", "consensus.answer", "consensus.reopen",
    "extraction.form_created", "extraction.form_imported", "extraction.template_loaded",
    "extraction.section_added", "extraction.section_changed", "extraction.section_archived",
    "extraction.section_restored", "extraction.section_moved", "extraction.sections_reordered",
    "extraction.field_added", "extraction.column_added", "extraction.field_changed",
    "extraction.field_archived", "extraction.field_restored", "extraction.field_moved",
    "extraction.fields_reordered", "frameworks.use", "frameworks.stop", "frameworks.resume",
    "frameworks.custom", "frameworks.category_add", "frameworks.category_rename",
    "frameworks.category_retire", "frameworks.category_restore", "frameworks.levels",
    "frameworks.import", "frameworks.theme_rename", "frameworks.settings",
    "frameworks.code_study", "frameworks.create_theme", "frameworks.settle",
    "ranking.sample", "ranking.stop", "ranking.stop_undone",
}

# An event's target_repr is its target's str() when it was written; the ones that name ids.
REPR_IDS: dict[str, tuple[str, tuple[str, ...]]] = {
    RECORD: (r"^#(\d+)", (RECORD,)),
    "screening.Screening": (r"^Record #(\d+)", (RECORD,)),
    STUDY: (r"^Study (\d+)$", (STUDY,)),
    CANDIDATE: (r"^#(\d+) ~ #(\d+)", (RECORD, RECORD)),
    BATCH: (r"^Group decision #(\d+):", (BATCH,)),
    EXTRACTION: (r" of study (\d+) \(", (STUDY,)),
    EXCERPT: (r" of study (\d+): ", (STUDY,)),
    "frameworks.Verification": (r" on study (\d+)$", (STUDY,)),
    JOB: (r" #(\d+)$", (JOB,)),
}
_REPR_PATTERNS = {label: (re.compile(p), labels) for label, (p, labels) in REPR_IDS.items()}
_FULLTEXT_PATH = re.compile(r"^fulltext/(\d+)/(\d+)/(.+)$")

PROJECT_FIELDS = ("name", "description", "review_type", "inclusion_criteria",
                  "exclusion_criteria", "created_by_id", "created_at")
USER_FIELDS = ("id", "username", "email", "display_name", "first_name", "last_name")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def _user_fields(model: type[models.Model]) -> list[str]:
    user_model = get_user_model()
    return [f.attname for f in _columns(model)
            if f.is_relation and f.related_model is user_model]


def _noop(*_args, **_kwargs) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# Writing


class _ArrayWriter:
    """A JSON array written one row per line into a zip member."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.fh = zf.open(name, "w", force_zip64=True)
        self.fh.write(b"[\n")
        self.count = 0

    def write(self, row: dict) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        self.fh.write((",\n" if self.count else "").encode() + line.encode("utf-8"))
        self.count += 1

    def close(self) -> None:
        self.fh.write(b"\n]\n" if self.count else b"]\n")
        self.fh.close()


def _json_users(table: Table, row: dict) -> set[int]:
    found: set[int] = set()
    for name, specs in table.json.items():
        for path, label in specs:
            if label == USER:
                _walk(row.get(name), path.split("."),
                      lambda v: found.add(v) if isinstance(v, int) else None)
    return found


def write_archive(project: Project, out: IO[bytes], progress: Progress | None = None) -> dict:
    """Write the archive of `project` into the binary file `out`; answers the manifest.

    Reads only, table by table with server-side cursors (memory stays flat whatever the
    size). Not one snapshot: a change made meanwhile may be in one table and not another,
    so an archive is taken when nobody is working (a lead's job, announced)."""
    progress = progress or _noop
    scoped = [(t, t.model._default_manager.filter(**{t.scope: project.pk})) for t in TABLES]
    total = sum(qs.count() for _t, qs in scoped)
    done = 0
    progress(0, total, "Writing the archive")
    users: set[int] = {project.created_by_id}
    counts: dict[str, int] = {}
    stored: list[tuple[str, str]] = []  # (file in storage, member of the zip)
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("project.json", json.dumps(
            {"id": project.pk, "slug": project.slug,
             **{f: _jsonable(getattr(project, f)) for f in PROJECT_FIELDS}},
            ensure_ascii=False, indent=1))
        for table, qs in scoped:
            model = table.model
            names = [f.attname for f in _columns(model)]
            user_fields = _user_fields(model)
            file_fields = [f.attname for f in _columns(model) if isinstance(f, models.FileField)]
            writer = _ArrayWriter(zf, table.file)
            for values in qs.order_by("pk").values_list(*names).iterator(chunk_size=ROW_BATCH):
                row = {name: _jsonable(value) for name, value in zip(names, values, strict=True)}
                users.update(row[f] for f in user_fields if row[f] is not None)
                if table.json:
                    users.update(_json_users(table, row))
                for name in file_fields:
                    if row[name]:
                        member = f"{table.files}/{row['id']}/{Path(row[name]).name}"
                        if default_storage.exists(row[name]):
                            stored.append((row[name], member))
                        else:
                            missing.append(row[name])
                writer.write(row)
                done += 1
                if done % ROW_BATCH == 0:
                    progress(done, total, f"Writing {table.name}")
            writer.close()
            counts[table.name] = writer.count
        for name, member in stored:
            with default_storage.open(name, "rb") as src, \
                    zf.open(member, "w", force_zip64=True) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        user_model = get_user_model()
        writer = _ArrayWriter(zf, "users.json")
        for values in (user_model.objects.filter(pk__in=users).order_by("pk")
                       .values_list(*USER_FIELDS)):
            writer.write(dict(zip(USER_FIELDS, values, strict=True)))
        writer.close()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": APP_VERSION,
            "created_at": timezone.now().isoformat(),
            "project": {"id": project.pk, "slug": project.slug, "name": project.name},
            "tables": {t.name: {"file": t.file, "model": t.label, "rows": counts[t.name]}
                       for t in TABLES},
            "users": writer.count,
            "files": len(stored),
            "missing_files": missing,
            "left_out": LEFT_OUT,
        }
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    progress(total, total, "Archive written")
    return manifest


def build_archive(project: Project, progress: Progress | None = None) -> bytes:
    """The archive of `project` as bytes (see write_archive; a large project writes to a
    file instead)."""
    out = io.BytesIO()
    write_archive(project, out, progress)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading


def _open_zip(fileobj) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveError("This file is not a zip archive: a Tandem project archive is the "
                           ".zip file that 'Download the project archive' or "
                           "'manage.py export_project' writes.") from None


def _read_json(zf: zipfile.ZipFile, name: str) -> Any:
    try:
        data = zf.read(name)
    except KeyError:
        raise ArchiveError(f"The archive has no {name}.") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{name} is damaged in the zip ({exc}).") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ArchiveError(f"{name} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno}.") from None


def read_manifest(zf: zipfile.ZipFile) -> dict:
    """The archive's manifest, checked: its format, a version this server reads, its tables."""
    try:
        zf.getinfo("manifest.json")
    except KeyError:
        raise ArchiveError("The archive has no manifest.json: it is not a Tandem project "
                           "archive.") from None
    manifest = _read_json(zf, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArchiveError(f"manifest.json: the format is {found!r}, not {FORMAT!r}: this is "
                           "not a Tandem project archive.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError(f"manifest.json: format_version {version!r} is not a version "
                           "of the archive format.")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"This archive was written by a newer version of Tandem (format "
                           f"{version}); this server reads format {FORMAT_VERSION}. Upgrade "
                           "Tandem to import it.")
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise ArchiveError("manifest.json: it lists no tables.")
    for name in _added_since(version)[0]:  # tables an older format did not have
        tables.setdefault(name, {"rows": 0, "absent": True})
    known = {t.name for t in TABLES}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ArchiveError(f"manifest.json: unknown table(s) {', '.join(unknown)}.")
    for table in TABLES:
        entry = tables.get(table.name)
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), int):
            raise ArchiveError(f"manifest.json: the table {table.name} is missing or has no "
                               "row count.")
    if not isinstance(manifest.get("project"), dict):
        raise ArchiveError("manifest.json: it names no project.")
    return manifest


def peek(fileobj) -> dict:
    """The manifest of an archive file, checked (for a form to refuse a wrong file at once)."""
    with _open_zip(fileobj) as zf:
        return read_manifest(zf)


def _rows(zf: zipfile.ZipFile, name: str) -> Iterator[tuple[int, Any]]:
    """(row number from 1, value) of the JSON array `name`, a line at a time when it is
    laid out as we write it, else parsed whole (an archive edited by hand)."""
    try:
        raw = zf.open(name)
    except KeyError:
        raise ArchiveError(f"The archive has no {name}.") from None
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            first = text.readline()
            if first.strip() != "[":
                doc = json.loads(first + text.read())
                if not isinstance(doc, list):
                    raise ArchiveError(f"{name}: not a JSON array of rows.")
                yield from enumerate(doc, 1)
                return
            number, ended = 0, False
            for line in text:
                if ended:
                    if line.strip():
                        raise ArchiveError(f"{name}: text after the end of the rows.")
                    continue
                if line.strip() == "]":
                    ended = True
                    continue
                number += 1
                body = line.rstrip("\r\n")
                body = body[:-1] if body.endswith(",") else body
                try:
                    row = json.loads(body)
                except json.JSONDecodeError as exc:
                    raise ArchiveError(f"{name}, row {number}: damaged JSON ({exc.msg}, "
                                       f"column {exc.colno}).") from None
                yield number, row
            if not ended:
                raise ArchiveError(f"{name} ends after row {number}, before the end of the "
                                   "rows: the file was cut short.")
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno}.") from None
    except UnicodeDecodeError:
        raise ArchiveError(f"{name} is not UTF-8 text.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{name} is damaged in the zip ({exc}).") from None


def _type_error(fld: models.Field, value: Any) -> str | None:
    """Why `value` cannot be this field's value, or None."""
    if value is None:
        return None if fld.null else "is empty"
    kind = fld.get_internal_type()
    if isinstance(fld, models.JSONField):
        return None
    if kind == "BooleanField":
        return None if isinstance(value, bool) else "is not true or false"
    if kind == "FloatField":
        return (None if isinstance(value, int | float) and not isinstance(value, bool)
                else "is not a number")
    if kind == "DateTimeField":
        ok = isinstance(value, str) and parse_datetime(value) is not None
        return None if ok else "is not a date and time"
    if kind == "DateField":
        ok = isinstance(value, str) and parse_date(value) is not None
        return None if ok else "is not a date"
    if fld.is_relation or "Integer" in kind or kind.endswith("AutoField"):
        return None if isinstance(value, int) and not isinstance(value, bool) \
            else "is not a whole number"
    return None if isinstance(value, str) else "is not text"


def _check_row(table_file: str, number: int, row: Any, fields: dict[str, models.Field],
               added: set[str] = frozenset()) -> dict:
    """`row` checked against the model's `fields`; `added`: fields newer than the archive's
    format, given their default when absent."""
    if not isinstance(row, dict):
        raise ArchiveError(f"{table_file}, row {number}: not a JSON object.")
    for name in added:
        if name not in row:
            row = {**row, name: fields[name].get_default()}
    missing = [name for name in fields if name not in row]
    if missing:
        raise ArchiveError(f"{table_file}, row {number}: no value for {', '.join(missing)}.")
    extra = sorted(set(row) - set(fields))
    if extra:
        raise ArchiveError(f"{table_file}, row {number}: unknown field(s) {', '.join(extra)}.")
    for name, fld in fields.items():
        problem = _type_error(fld, row[name])
        if problem:
            raise ArchiveError(f"{table_file}, row {number}: {name} {problem} "
                               f"({json.dumps(row[name])[:60]}).")
    return row


# ---------------------------------------------------------------------------------------------
# Restoring


def _walk(value: Any, parts: list[str], fn: Callable[[Any], Any]) -> Any:
    """`value` with fn applied at the path `parts` (a copy; the rest is kept as it is)."""
    if not parts:
        return fn(value)
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(value, list):
            return [_walk(v, rest, fn) for v in value]
        if isinstance(value, dict):
            return {k: _walk(v, rest, fn) for k, v in value.items()}
        return value
    if head == "~":
        if isinstance(value, dict):
            return {fn(k): v for k, v in value.items()}
        return value
    if isinstance(value, dict) and head in value:
        return {**value, head: _walk(value[head], rest, fn)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        i = int(head)
        return [*value[:i], _walk(value[i], rest, fn), *value[i + 1:]]
    return value


@dataclass
class Restored:
    """What a restore made: the project, the users it had to create (inactive, to invite),
    the rows per table, and the id maps (label -> {old id: new id})."""

    project: Project
    created_users: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    ids: dict[str, dict[int, int]] = field(default_factory=dict)
    users: dict[int, int] = field(default_factory=dict)
    archived: dict = field(default_factory=dict)  # the manifest

    def summary(self) -> str:
        total = sum(self.rows.values())
        text = (f"Restored {self.archived['project']['name']!r} as {self.project.slug}: "
                f"{total:,} rows, {self.files} files.")
        if self.created_users:
            text += (f" {len(self.created_users)} person(s) had no account here and got an "
                     f"inactive one to invite: {', '.join(self.created_users)}.")
        return text


class _Restore:
    def __init__(self, zf: zipfile.ZipFile, manifest: dict, *, user, progress: Progress):
        self.zf, self.manifest, self.user, self.progress = zf, manifest, user, progress
        self.ids: dict[str, dict[int, int]] = {}
        self.users: dict[int, int | None] = {}
        self.saved: list[str] = []
        self.old_project = manifest["project"].get("id")
        self.floor: list[int] = []  # archived record ids, sorted (for FLOOR refs)
        self.done = 0
        self.total = sum(manifest["tables"][t.name]["rows"] for t in TABLES)

    # -- ids -----------------------------------------------------------------------------

    def new_id(self, label: str, old: int) -> int | None:
        """The new id of an archived row, or a reserved one for a row not in the archive."""
        if label == USER:
            return self.users.get(old)
        known = self.ids.setdefault(label, {})
        if old not in known:
            known[old] = bulk.allocate_ids(apps.get_model(label), 1)[0]
        return known[old]

    def map_value(self, label: str, value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if label == FILE:
            return self.map_path(value) if isinstance(value, str) else value
        if label == FLOOR:
            return self.map_floor(value)
        if isinstance(value, int):
            return self.new_id(label, value)
        if isinstance(value, str) and value.isdigit():
            new = self.new_id(label, int(value))
            return "" if new is None else str(new)
        return value

    def map_path(self, name: str) -> str:
        found = _FULLTEXT_PATH.match(name)
        if not found or int(found[1]) != self.old_project:
            return name
        return f"fulltext/{self.project.pk}/{self.new_id(RECORD, int(found[2]))}/{found[3]}"

    def map_floor(self, old: int) -> int:
        """The new id of the last archived record at or below `old` (0: none): the new ids
        keep the old ones' order, so a bound keeps its meaning."""
        import bisect

        i = bisect.bisect_right(self.floor, old)
        return self.ids[RECORD][self.floor[i - 1]] if i else 0

    def map_json(self, value: Any, specs: list[tuple[str, str]]) -> Any:
        for path, label in specs:
            value = _walk(value, path.split("."), lambda v, lab=label: self.map_value(lab, v))
        return value

    # -- steps ---------------------------------------------------------------------------

    def rows(self, table: Table) -> Iterator[tuple[int, Any]]:
        if self.manifest["tables"][table.name].get("absent"):
            return iter(())  # a table this archive's format did not have
        return _rows(self.zf, table.file)

    def added_fields(self, table: Table) -> set[str]:
        return _added_since(self.manifest["format_version"])[1].get(table.label, set())

    def scan(self) -> dict[str, list[int]]:
        """Read every table once before writing anything: damaged JSON, wrong values and
        short files are refused here, and the ids of every row are collected."""
        found: dict[str, list[int]] = {}
        for table in TABLES:
            fields = {f.attname: f for f in _columns(table.model)}
            ids = []
            for number, row in self.rows(table):
                ids.append(_check_row(table.file, number, row, fields,
                                      self.added_fields(table))["id"])
            expected = self.manifest["tables"][table.name]["rows"]
            if len(ids) != expected:
                raise ArchiveError(f"{table.file} holds {len(ids)} rows; manifest.json says "
                                   f"{expected}: the archive is incomplete.")
            if len(set(ids)) != len(ids):
                raise ArchiveError(f"{table.file}: an id appears twice.")
            found[table.label] = sorted(ids)
        return found

    def match_users(self, created: list[str]) -> None:
        user_model = get_user_model()
        for number, row in _rows(self.zf, "users.json"):
            if not isinstance(row, dict) or not isinstance(row.get("id"), int) \
                    or not isinstance(row.get("username"), str) or not row["username"]:
                raise ArchiveError(f"users.json, row {number}: a user needs an id and a "
                                   "username.")
            email = row.get("email") or ""
            match = user_model.objects.filter(username=row["username"]).first()
            if match is None and email:
                match = user_model.objects.filter(email__iexact=email).order_by("pk").first()
            if match is None:
                match = user_model(username=row["username"], email=email, is_active=False,
                                   display_name=row.get("display_name") or "",
                                   first_name=row.get("first_name") or "",
                                   last_name=row.get("last_name") or "")
                match.set_unusable_password()
                match.save()
                created.append(match.username)
            self.users[row["id"]] = match.pk

    def reserve(self, found: dict[str, list[int]]) -> None:
        for table in TABLES:
            old = found[table.label]
            new = sorted(bulk.allocate_ids(table.model, len(old)))
            self.ids[table.label] = dict(zip(old, new, strict=True))
        self.floor = found[RECORD]

    def convert(self, table: Table, number: int, row: dict, fields: list[models.Field]) -> list:
        user_model = get_user_model()
        out = []
        for fld in fields:
            value = row[fld.attname]
            if fld.primary_key:
                value = self.ids[table.label][value]
            elif fld.is_relation and value is not None:
                target = fld.related_model
                if target is Project:
                    if value != self.old_project:
                        raise ArchiveError(f"{table.file}, row {number}: it belongs to "
                                           f"project {value}, not to the archived one.")
                    value = self.project.pk
                elif target is user_model:
                    if value not in self.users:
                        raise ArchiveError(f"{table.file}, row {number}: {fld.name} is user "
                                           f"{value}, who is not in users.json.")
                    value = self.users[value]
                else:
                    known = self.ids.get(target._meta.label, {})
                    if value not in known:
                        raise ArchiveError(f"{table.file}, row {number}: {fld.name} {value} "
                                           "is not in the archive.")
                    value = known[value]
            elif fld.attname in table.refs:
                value = self.map_value(table.refs[fld.attname], value)
            elif fld.attname in table.json:
                value = self.map_json(value, table.json[fld.attname])
            out.append(value)
        return out

    def convert_event(self, number: int, row: dict) -> dict:
        label = row["target_type"]
        if row["target_id"].isdigit() and label:
            try:
                apps.get_model(label)
            except (LookupError, ValueError):
                pass
            else:
                new = (self.project.pk if label == PROJECT
                       and int(row["target_id"]) == self.old_project
                       else self.map_value(label, row["target_id"]))
                row = {**row, "target_id": str(new or "")}
        pattern = _REPR_PATTERNS.get(label)
        if pattern and row["target_repr"]:
            regex, labels = pattern
            row = {**row, "target_repr": _sub_ids(regex, row["target_repr"], labels,
                                                  self.map_value)}
        specs = AUDIT_IDS.get(row["action"])
        if specs:
            doc = self.map_json({"before": row["before"], "after": row["after"]}, specs)
            row = {**row, "before": doc["before"], "after": doc["after"]}
        return row

    def store_file(self, table: Table, number: int, row: dict, fld: models.Field,
                   values: list, fields: list[models.Field]) -> str:
        name = row[fld.attname]
        member = f"{table.files}/{row['id']}/{Path(name).name}"
        try:
            data = self.zf.read(member)
        except KeyError:
            raise ArchiveError(f"{table.file}, row {number}: its file {member} is not in the "
                               "archive.") from None
        # The instance the FileField's upload_to names the file for, with its new ids.
        instance = table.model(**{f.attname: v for f, v in zip(fields, values, strict=True)})
        target = fld.generate_filename(instance, Path(name).name)
        saved = default_storage.save(target, ContentFile(data))
        self.saved.append(saved)
        return saved

    def copy(self, table: Table) -> int:
        fields = _columns(table.model)
        by_name = {f.attname: f for f in fields}
        file_fields = [f for f in fields if isinstance(f, models.FileField)]
        is_audit = table.label == "projects.AuditEvent"

        def rows():
            for number, row in self.rows(table):
                row = _check_row(table.file, number, row, by_name, self.added_fields(table))
                if is_audit:
                    row = self.convert_event(number, row)
                values = self.convert(table, number, row, fields)
                for fld in file_fields:
                    if row[fld.attname]:
                        values[fields.index(fld)] = self.store_file(table, number, row, fld,
                                                                    values, fields)
                yield values

        # In batches: converting a row may reserve an id (a query), which cannot run while
        # a COPY is open on the connection.
        columns, count, batch = [f.attname for f in fields], 0, []
        for values in rows():
            batch.append(values)
            if len(batch) == ROW_BATCH:
                count += bulk.copy_rows(table.model, columns, batch)
                batch = []
                self.done += ROW_BATCH
                self.progress(self.done, self.total, f"Restoring {table.name}")
        if batch:
            count += bulk.copy_rows(table.model, columns, batch)
            self.done += len(batch)
        return count

    def run(self, *, slug: str | None, name: str | None, into: Project | None) -> Restored:
        created: list[str] = []
        found = self.scan()
        archived = _read_json(self.zf, "project.json")
        if not isinstance(archived, dict) or any(f not in archived for f in PROJECT_FIELDS):
            raise ArchiveError("project.json: it lacks the project's settings.")
        self.progress(0, self.total, "Restoring")
        with transaction.atomic():
            self.project = self.target(into, slug=slug, name=name or archived["name"])
            self.match_users(created)
            self.reserve(found)
            self.merge_memberships()
            restored = Restored(project=self.project, created_users=created,
                                archived=self.manifest)
            for table in TABLES:
                self.table = table.file
                restored.rows[table.name] = self.copy(table)
            if into is not None and name:
                self.project.name = name[:200]
            self.update_project(archived)
            self.ensure_lead()
            for model in ("references.Record", "projects.AuditEvent", "screening.Screening"):
                bulk.analyze(apps.get_model(model))
            restored.files = len(self.saved)
            audit.record(project=self.project, actor=self.user, action="project.import",
                         target=self.project,
                         after={"archive_of": self.manifest["project"].get("slug"),
                                "written_at": self.manifest.get("created_at"),
                                "rows": sum(restored.rows.values()),
                                "created_users": created})
        restored.ids = {label: dict(m) for label, m in self.ids.items()}
        restored.users = {old: new for old, new in self.users.items() if new is not None}
        self.progress(self.total, self.total, "Restored")
        return restored

    def target(self, into: Project | None, *, slug: str | None, name: str) -> Project:
        if into is not None:
            into = Project.objects.select_for_update().get(pk=into.pk)
            for table in TABLES:
                qs = table.model._default_manager.filter(**{table.scope: into.pk})
                if table.name == "memberships":
                    qs = qs.exclude(user=self.user)
                if table.name != "audit_events" and qs.exists():
                    raise ArchiveError(f"The project {into.slug} is not empty ({table.name}): "
                                       "an archive is restored into a new project.")
            return into
        try:
            return create_project(user=self.user, name=name[:200],
                                  slug=slug or unique_slug(self.manifest["project"].get("slug")
                                                           or name))
        except ServiceError as exc:
            raise ArchiveError(str(exc)) from None

    def merge_memberships(self) -> None:
        """The importer is a member of the new project already. When the archive has them
        too, their archived membership takes that row's place and id (the new project's
        first audit events name it), with its archived values; ensure_lead makes them lead."""
        own = Membership.objects.get(project=self.project, user=self.user)
        for _number, row in _rows(self.zf, "memberships.json"):
            if self.users.get(row["user_id"]) == self.user.pk:
                self.ids["projects.Membership"][row["id"]] = own.pk
                own.delete()
                return

    def update_project(self, archived: dict) -> None:
        """The archived settings, creator and creation time; the name is the one given (or
        the archived one, which the project was created with)."""
        project = self.project
        for f in PROJECT_FIELDS:
            if f == "name":
                continue
            value = archived[f]
            if f == "created_by_id":
                value = self.users.get(value) or project.created_by_id
            elif f == "created_at":
                value = parse_datetime(value) if isinstance(value, str) else None
                value = value or project.created_at
            setattr(project, f, value)
        project.save()

    def ensure_lead(self) -> None:
        Membership.objects.update_or_create(project=self.project, user=self.user,
                                            defaults={"role": Role.LEAD})


def _sub_ids(regex: re.Pattern, text: str, labels: tuple[str, ...], map_value) -> str:
    found = regex.search(text)
    if not found:
        return text
    parts, last = [], 0
    for i, label in enumerate(labels, 1):
        parts += [text[last:found.start(i)], str(map_value(label, int(found[i])))]
        last = found.end(i)
    return "".join(parts) + text[last:]


def restore(fileobj, *, user, slug: str | None = None, name: str | None = None,
            into: Project | None = None, progress: Progress | None = None) -> Restored:
    """Restore an archive into a new project (or into `into`, a new empty project made for
    it), with `user` as a lead; answers what was made.

    Reads the whole archive once before writing (damaged or short files are refused with
    the file and row), then writes everything in one transaction: the project lands whole
    or not at all. Files already copied into storage are removed again if it fails."""
    if connection.vendor != "postgresql":
        raise ArchiveError("Restoring an archive needs PostgreSQL.")
    zf = _open_zip(fileobj)
    runner = None
    try:
        with zf:
            manifest = read_manifest(zf)
            runner = _Restore(zf, manifest, user=user, progress=progress or _noop)
            return runner.run(slug=slug, name=name, into=into)
    except BaseException as exc:
        for saved in getattr(runner, "saved", []):
            default_storage.delete(saved)
        if isinstance(exc, DatabaseError | psycopg.Error):
            where = getattr(runner, "table", "the archive")
            raise ArchiveError(f"{where}: the rows could not be stored "
                               f"({str(exc).strip().splitlines()[0]}).") from exc
        raise


def restore_archive(fileobj, *, user, slug: str | None = None, name: str | None = None,
                    into: Project | None = None, progress: Progress | None = None) -> Project:
    """Restore an archive as a new project; see `restore`."""
    return restore(fileobj, user=user, slug=slug, name=name, into=into,
                   progress=progress).project
