"""The exports as background jobs: each one registers its kind (every member may start one:
every export holds settled data only), `start_export` queues it and `run_export` builds the
file on the job (projects.jobs.run_job calls it in the worker).

The file is written to a temporary file as it is read (reports.exporters streams), then
stored on the job: kept JOB_FILE_DAYS days, then removed by the clean-up
(projects.jobs.purge_expired_files).

The extraction table (the consensus values) is the extraction app's own export job,
started from the same page (`extraction.jobs.start_export`): one builder for one table.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from extraction import jobs as extraction_jobs
from extraction.queries import extraction_table
from frameworks.queries import charting
from projects.jobs import JobError, Progress, attach_result_file, register_kind, start_job
from projects.models import Job, Project, Role
from screening.models import Screening, Vote

from . import exporters

TASK = "reports.export"
REFERENCES = "export_references"
DECISIONS = "export_decisions"
AGREEMENT = "export_agreement"
RAW_EXTRACTIONS = "export_raw_extractions"
CHARTING = "export_charting"

TABLE_FORMATS = {"xlsx": "XLSX", "csv": "CSV"}


@dataclass(frozen=True)
class Export:
    """One export on the exports page: its job kind, the formats and (references) the
    selections it offers."""

    key: str
    kind: str
    title: str
    description: str
    formats: dict[str, str]
    filters: dict[str, str] = field(default_factory=dict)


EXPORTS = {export.key: export for export in [
    Export("references", REFERENCES, "References",
           "The records as RIS or BibTeX for a reference manager (Zotero, EndNote, Mendeley) "
           "or as CSV with their screening states, chosen by stage and state.",
           dict(exporters.REFERENCE_FORMATS), dict(exporters.REFERENCE_FILTERS)),
    Export("decisions", DECISIONS, "Screening decisions",
           "One row per vote and per resolution (record, stage, reviewer, decision, reason, "
           "note, time), for settled records only: a record still waiting for votes or in "
           "conflict has no row.",
           {"xlsx": "XLSX", "csv": "CSV"}),
    Export("agreement", AGREEMENT, "Agreement",
           "Cohen's kappa and percent agreement per stage and reviewer pair, with the 2x2 "
           "counts, over the records whose votes are all in.",
           {"xlsx": "XLSX", "csv": "CSV"}),
    Export("extraction_table", extraction_jobs.EXPORT, "Extraction table",
           "The consensus values: one row per included study with settled data, one sheet "
           "per repeating table, and the evidence (quotes, pages, notes).",
           dict(extraction_jobs.FORMATS)),
    Export("raw_extractions", RAW_EXTRACTIONS, "Raw extractions",
           "Each extractor's values: one row per extractor and study, every field, only for "
           "studies whose consensus is settled.",
           {"xlsx": "XLSX", "csv": "CSV"}),
    Export("charting", CHARTING, "Charting tables",
           "One sheet per framework (category, n, studies), the themes and the numbered "
           "studies; the zip also holds the barriers and facilitators figure (SVG).",
           {"xlsx": "XLSX", "zip": "CSV files and the figure (zip)"}),
]}
KINDS = [export.kind for export in EXPORTS.values()]
SHORT_FILTERS = {
    "all": "all records", "unique": "unique records",
    "ta_included": "included at title and abstract",
    "ta_excluded": "excluded at title and abstract",
    "ta_open": "open at title and abstract", "included_reports": "included reports",
    "ft_excluded": "excluded at full text", "ft_not_retrieved": "full text not retrieved",
    "ft_open": "open at full text",
}

# Every member may run every export (and retry it): each holds settled data only.
for _export in EXPORTS.values():
    if _export.kind != extraction_jobs.EXPORT:  # registered by the extraction app
        register_kind(_export.kind, task=TASK, role=Role.VIEWER)


def start_export(project: Project, *, user, export: str, file_format: str,
                 which: str = "") -> Job:
    """Queue one export (a key of EXPORTS) as `file_format`; `which`: the selection of
    records of the references export."""
    spec = EXPORTS.get(export)
    if spec is None:
        raise JobError(f"Unknown export {export!r}.")
    if file_format not in spec.formats:
        raise JobError(f"Choose one of {', '.join(spec.formats.values())}.")
    if spec.kind == extraction_jobs.EXPORT:
        return extraction_jobs.start_export(project, user=user, file_format=file_format)
    params = {"format": file_format}
    label = f"{spec.title} as {spec.formats[file_format]}"
    if spec.filters:
        if which not in spec.filters:
            raise JobError("Choose which records to export.")
        params["which"] = which
        label = f"{spec.title} ({SHORT_FILTERS[which]}) as {spec.formats[file_format]}"
    from .tasks import task_export

    return start_job(project=project, kind=spec.kind, task=task_export, user=user,
                     label=label, params=params)


def run_export(job: Job, progress: Progress) -> dict:
    """Build the job's file. Reads only: a retry writes a new file."""
    run = _RUNNERS.get(job.kind)
    if run is None:
        raise JobError(f"This job ({job.kind}) is not an export.")
    spec = next(e for e in EXPORTS.values() if e.kind == job.kind)
    file_format = job.params.get("format")
    if file_format not in spec.formats:
        raise JobError(f"Unknown format {file_format!r}: choose one of "
                       f"{', '.join(spec.formats.values())}.")
    with tempfile.TemporaryFile() as out:
        result = run(job, progress, out, file_format)
        out.seek(0)
        stamp = timezone.localdate().isoformat()
        attach_result_file(job, f"{job.project.slug}-{result.pop('name')}-{stamp}."
                                f"{result.pop('extension')}", out)
    return {"link": {"url": reverse("reports:exports", args=[job.project.slug]),
                     "label": "Back to the exports"},
            "file_label": f"Download the {spec.formats[file_format]}", **result}


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _run_references(job: Job, progress: Progress, out, file_format: str) -> dict:
    which = job.params.get("which", "")
    if which not in exporters.REFERENCE_FILTERS:
        raise JobError("Unknown selection of records: choose which records to export.")
    records = exporters.reference_records(job.project, which)
    progress(0, None, "Counting the records")
    total = records.count()
    progress(0, total, "Writing the records")
    n = exporters.write_references(out, records, file_format,
                                   progress=lambda done: progress(done, total))
    return {"message": f"{_count(n, 'record', 'records')} ({SHORT_FILTERS[which]}) as "
                       f"{exporters.REFERENCE_FORMATS[file_format]}.",
            "name": f"references-{which.replace('_', '-')}",
            "extension": exporters.REFERENCE_EXTENSIONS[file_format], "rows": n}


def _write_tables(out, file_format: str, tables, progress, files=None) -> int:
    if file_format == "xlsx":
        return exporters.write_xlsx(out, tables, progress=progress)
    if len(tables) == 1 and not files:
        return exporters.write_csv(out, tables[0].header, tables[0].rows, progress=progress)
    return exporters.write_zip(out, tables, files, progress=progress)


def _extension(file_format: str, tables: int, files: bool = False) -> str:
    if file_format == "xlsx":
        return "xlsx"
    return "csv" if tables == 1 and not files else "zip"


def _run_decisions(job: Job, progress: Progress, out, file_format: str) -> dict:
    project = job.project
    settled = {"state__in": exporters.SETTLED, "record__duplicate_of__isnull": True}
    total = (Vote.objects.filter(screening__project=project,
                                 **{f"screening__{k}": v for k, v in settled.items()}).count()
             + Screening.objects.filter(project=project, settled_by__isnull=False,
                                        **settled).count())
    progress(0, total, "Writing the decisions")
    n = _write_tables(out, file_format, [exporters.decisions_table(project)],
                      lambda done: progress(done, total))
    return {"message": f"{_count(n, 'decision', 'decisions')} (votes and resolutions of "
                       "settled records).",
            "name": "screening-decisions", "extension": _extension(file_format, 1), "rows": n}


def _run_agreement(job: Job, progress: Progress, out, file_format: str) -> dict:
    table = exporters.agreement_table(job.project, numbers=file_format == "xlsx")
    n = _write_tables(out, file_format, [table], None)
    return {"message": f"Agreement: {_count(n, 'row', 'rows')} (each reviewer pair per stage "
                       "and all pairs together).",
            "name": "agreement", "extension": _extension(file_format, 1), "rows": n}


def _run_raw_extractions(job: Job, progress: Progress, out, file_format: str) -> dict:
    progress(0, None, "Reading the settled studies")
    table = extraction_table(job.project)
    total = len(table.rows)
    n = _write_tables(out, file_format,
                      [exporters.raw_extractions_table(job.project, table)], None)
    progress(total, total)
    return {"message": f"{_count(n, 'extraction', 'extractions')} of "
                       f"{_count(total, 'settled study', 'settled studies')}.",
            "name": "raw-extractions", "extension": _extension(file_format, 1), "rows": n}


def _run_charting(job: Job, progress: Progress, out, file_format: str) -> dict:
    progress(0, None, "Counting the charting")
    chart = charting(job.project)
    tables = exporters.charting_tables(chart)
    files = exporters.charting_files(chart) if file_format == "zip" else None
    _write_tables(out, file_format, tables, None, files)
    n = len(chart.frameworks)
    return {"message": f"The charting of {_count(len(chart.studies), 'study', 'studies')}: "
                       f"{_count(n, 'framework', 'frameworks')}, "
                       f"{_count(len(chart.themes), 'theme', 'themes')}.",
            "details": [f"{t.name}: {len(t.rows)} rows" for t in tables],
            "name": "charting", "extension": "xlsx" if file_format == "xlsx" else "zip",
            "rows": sum(len(t.rows) for t in tables)}


_RUNNERS = {REFERENCES: _run_references, DECISIONS: _run_decisions,
            AGREEMENT: _run_agreement, RAW_EXTRACTIONS: _run_raw_extractions,
            CHARTING: _run_charting}
