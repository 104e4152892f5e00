"""The project archive as background jobs: a lead downloads it (`archive_export`), and anyone
signed in restores one into a new project of their own (`archive_import`)."""

import tempfile
import uuid
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from projects.jobs import JobError, Progress, register_kind, start_job
from projects.models import Job, Project, Role
from projects.services import create_project

from . import archive

EXPORT = "archive_export"
IMPORT = "archive_import"

# The archive holds every vote, sealed event and draft extraction of the project: a lead's.
register_kind(EXPORT, task="reports.archive_export", role=Role.LEAD)
# The import runs in the new project its uploader leads; a retry runs it again into it.
register_kind(IMPORT, task="reports.archive_import", role=Role.LEAD)


def start_export(project: Project, *, user) -> Job:
    from .tasks import task_archive_export

    return start_job(project=project, kind=EXPORT, label="Project archive",
                     task=task_archive_export, user=user)


def run_export(job: Job, progress: Progress) -> dict:
    """Write the archive to a temporary file, then onto the job. Reads only: a retry writes
    a new file."""
    with tempfile.TemporaryFile() as tmp:
        manifest = archive.write_archive(job.project, tmp, progress)
        tmp.seek(0)
        name = f"{job.project.slug}-archive-{timezone.localdate():%Y-%m-%d}.zip"
        job.result_file.save(name, File(tmp, name=name), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return {"message": f"The archive holds {rows:,} rows and {manifest['files']} files.",
            "file_label": "Download the project archive (.zip)",
            "rows": rows, "files": manifest["files"]}


def start_import(uploaded, *, user, name: str = "") -> Job:
    """Check the uploaded archive's manifest (a wrong file is refused here, with its
    reason), make the new empty project it is restored into, with `user` as its lead, keep
    the upload and queue its restore. Raises archive.ArchiveError."""
    from .tasks import task_archive_import

    manifest = archive.peek(uploaded)
    uploaded.seek(0)
    archived = manifest["project"]
    project = create_project(user=user, name=(name or archived.get("name") or "Imported")[:200])
    stored = default_storage.save(
        f"uploads/{project.pk}/{uuid.uuid4().hex}/{Path(uploaded.name).name or 'archive.zip'}",
        uploaded)
    return start_job(project=project, kind=IMPORT, label="Import of a project archive",
                     task=task_archive_import, user=user,
                     params={"upload": stored, "filename": Path(uploaded.name).name,
                             "archived_slug": archived.get("slug")})


def run_import(job: Job, progress: Progress) -> dict:
    """Restore the uploaded archive into the job's project (new and empty). A failure leaves
    it empty (one transaction) and keeps the upload, so the job can be retried."""
    upload = job.params["upload"]
    if not default_storage.exists(upload):
        raise JobError(f"The uploaded file {job.params['filename']} is gone: upload it again.")
    try:
        with default_storage.open(upload, "rb") as fh:
            restored = archive.restore(fh, user=job.started_by, into=job.project,
                                       progress=progress)
    except archive.ArchiveError as exc:
        raise JobError(str(exc)) from exc
    default_storage.delete(upload)
    details = [f"{name.replace('_', ' ')}: {n:,}" for name, n in restored.rows.items() if n]
    if restored.created_users:
        details.append("Without an account here (created inactive, invite them from the "
                       "Team page): " + ", ".join(restored.created_users))
    return {"message": restored.summary(), "details": details,
            "link": {"url": reverse("reports:overview", args=[restored.project.slug]),
                     "label": "Open the project"},
            "created_users": restored.created_users}
