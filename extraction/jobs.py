"""The background jobs of the extraction app: the extraction table as a CSV or XLSX file."""

from django.urls import reverse
from django.utils import timezone

from projects.jobs import JobError, Progress, attach_result_file, register_kind, start_job
from projects.models import Job, Project, Role

from . import exports, queries

EXPORT = "extraction_export"
FORMATS = {"csv": "CSV", "xlsx": "XLSX"}

# Every member may download the table: it holds settled data only, never one extractor's
# values before consensus. Retrying needs the same role.
register_kind(EXPORT, task="extraction.export_table", role=Role.VIEWER)


def start_export(project: Project, *, user, file_format: str) -> Job:
    """Queue the build of the extraction table as `file_format` ("csv" or "xlsx")."""
    from .tasks import task_export_table

    if file_format not in FORMATS:
        raise JobError(f"Unknown format {file_format!r}: choose CSV or XLSX.")
    return start_job(project=project, kind=EXPORT, task=task_export_table, user=user,
                     label=f"Extraction table as {FORMATS[file_format]}",
                     params={"format": file_format})


def run_export(job: Job, progress: Progress) -> dict:
    """Read the table, write the file onto the job. Reads only: a retry writes a new file."""
    file_format = job.params.get("format")
    if file_format not in FORMATS:
        raise JobError(f"Unknown format {file_format!r}: choose CSV or XLSX.")
    project = job.project
    progress(0, None, "Reading the extraction table")
    table = queries.extraction_table(project)
    progress(0, len(table.rows) + 1, "Writing the rows")
    sheets = exports.table_sheets(table, progress=lambda done, total: progress(done, total + 1))
    if file_format == "xlsx":
        content, extension = exports.xlsx_bytes(sheets), "xlsx"
    else:
        content, extension = exports.csv_zip(sheets), "zip"
    stamp = timezone.localdate().isoformat()
    attach_result_file(job, f"extraction-{project.slug}-{stamp}.{extension}", content)
    n = len(table.rows)
    kind = FORMATS[file_format]
    files = "a sheet" if file_format == "xlsx" else "a CSV file"
    return {
        "message": f"The extraction table of {n} stud{'y' if n == 1 else 'ies'} as {kind}: "
                   f"{files} each for the studies, each repeating table and the evidence.",
        "details": [f"{sheet.name}: {len(sheet.frame)} rows" for sheet in sheets],
        "link": {"url": reverse("extraction:table", args=[project.slug]),
                 "label": "Back to the extraction table"},
        "file_label": f"Download the {kind}" + (" files (zip)" if extension == "zip" else ""),
        "studies": n,
        "sheets": [sheet.name for sheet in sheets],
    }
