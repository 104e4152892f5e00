"""The background jobs of the references app: import a file, deduplicate a project, apply
or undo a lead's decision on a group of possible duplicates."""

from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.dateparse import parse_date

from projects.jobs import JobError, Progress, register_kind, start_job
from projects.models import Job, Project, Role

from . import deduplication, services
from .models import DuplicateDecisionBatch
from .parsers.base import ImportFileError

IMPORT = "import_references"
DEDUPLICATE = "deduplicate"
SHOWN_PROBLEMS = 200

# The roles the views ask to start each kind: importing is a reviewer's work, deduplication
# (which merges records) a lead's. Retrying needs the same role.
register_kind(IMPORT, task="references.import", role=Role.REVIEWER)
register_kind(DEDUPLICATE, task="references.deduplicate", role=Role.LEAD)
# A group of a few thousand pairs takes longer than a request should: a lead's jobs.
GROUP_DECISION = "duplicate_group"
GROUP_UNDO = "duplicate_group_undo"
register_kind(GROUP_DECISION, task="references.decide_group", role=Role.LEAD)
register_kind(GROUP_UNDO, task="references.undo_group", role=Role.LEAD)


def start_import(project: Project, *, user, upload: str, filename: str, source_name: str,
                 source_kind: str, date_searched, search_strategy: str, file_format: str,
                 mapping: dict | None = None, source_method: str = "",
                 starts_at_full_text: bool = False) -> Job:
    from .tasks import task_import_references

    return start_job(
        project=project, kind=IMPORT, label=f"Import of {filename}", task=task_import_references,
        user=user, params={
            "upload": upload, "filename": filename, "source_name": source_name,
            "source_kind": source_kind, "source_method": source_method,
            "starts_at_full_text": starts_at_full_text, "search_strategy": search_strategy,
            "date_searched": date_searched.isoformat() if date_searched else None,
            "format": file_format, "mapping": mapping,
        },
    )


def start_deduplication(project: Project, *, user) -> Job:
    from .tasks import task_deduplicate

    return start_job(project=project, kind=DEDUPLICATE, label="Deduplication",
                     task=task_deduplicate, user=user)


def run_import(job: Job, progress: Progress) -> dict:
    params = job.params
    if not default_storage.exists(params["upload"]):
        raise JobError(f"The uploaded file {params['filename']} is gone: upload it again.")
    try:
        report = services.import_file(
            project=job.project, data=services.read_upload(params["upload"]),
            filename=params["filename"], source_name=params["source_name"],
            source_kind=params["source_kind"], source_method=params.get("source_method", ""),
            starts_at_full_text=params.get("starts_at_full_text", False),
            search_strategy=params["search_strategy"],
            date_searched=parse_date(params["date_searched"] or ""),
            file_format=params["format"], mapping=params["mapping"], user=job.started_by,
            progress=progress,
        )
    except (ImportFileError, services.ServiceError) as exc:
        raise JobError(str(exc)) from exc
    default_storage.delete(params["upload"])
    dedup = start_deduplication(job.project, user=job.started_by)
    details = [f"Record {u['position']}" + (f" (line {u['line']})" if u["line"] else "")
               + f": {u['problem']}" for u in report.unusable[:SHOWN_PROBLEMS]]
    if len(report.unusable) > SHOWN_PROBLEMS:
        details.append(f"… and {len(report.unusable) - SHOWN_PROBLEMS} more.")
    return {
        "message": report.summary() + " Deduplication started.",
        "details": details + report.warnings,
        "link": {"url": reverse("projects:job", args=[job.project.slug, dedup.pk]),
                 "label": "See the deduplication"},
        **report.as_json(),
    }


def run_deduplication(job: Job, progress: Progress) -> dict:
    report = deduplication.deduplicate(job.project, user=job.started_by, progress=progress)
    return {
        "message": report.summary(),
        "link": {"url": reverse("references:duplicates", args=[job.project.slug])
                 if report.possible else reverse("references:list", args=[job.project.slug]),
                 "label": "Review the possible duplicates" if report.possible
                 else "See the references"},
        "records": report.records, "merged": report.merged, "duplicates": report.duplicates,
        "possible": report.possible,
    }


def start_group_decision(project: Project, *, user, pair_ids: list[int], decision: str,
                         signature: str, description: str) -> Job:
    from .tasks import task_decide_group

    with transaction.atomic():
        batch = deduplication.create_batch(project, pair_ids=pair_ids, decision=decision,
                                           signature=signature, description=description,
                                           user=user)
        return start_job(project=project, kind=GROUP_DECISION,
                         label=f"Group decision: {batch.get_decision_display().lower()}",
                         task=task_decide_group, user=user, params={"batch_id": batch.pk})


def start_group_undo(batch: DuplicateDecisionBatch, *, user) -> Job:
    from .tasks import task_undo_group

    with transaction.atomic():
        batch = deduplication.request_undo(batch, user=user)
        return start_job(project=batch.project, kind=GROUP_UNDO,
                         label=f"Undo of group decision #{batch.pk}", task=task_undo_group,
                         user=user, params={"batch_id": batch.pk})


def _batch(job: Job) -> DuplicateDecisionBatch:
    batch = DuplicateDecisionBatch.objects.filter(pk=job.params.get("batch_id"),
                                                  project=job.project).first()
    if batch is None:
        raise JobError("This group decision is gone.")
    return batch


def _batch_result(batch: DuplicateDecisionBatch, message: str, skipped: list[dict]) -> dict:
    return {
        "message": message,
        "details": [f"Pair #{s['pair']}: {s['reason']}" for s in skipped[:SHOWN_PROBLEMS]],
        "link": {"url": reverse("references:duplicate_batch",
                                args=[batch.project.slug, batch.pk]),
                 "label": "See the group decision"},
        "batch": batch.pk, "skipped": len(skipped),
    }


def run_group_decision(job: Job, progress: Progress) -> dict:
    try:
        batch = deduplication.decide_group(_batch(job), progress=progress)
    except deduplication.DedupError as exc:
        raise JobError(str(exc)) from exc
    decided = len(batch.pair_ids) - len(batch.skipped)
    verb = ("merged, keeping the earlier record of each"
            if batch.decision == DuplicateDecisionBatch.Decision.DUPLICATE else "kept apart")
    skipped = f"; {len(batch.skipped)} skipped" if batch.skipped else ""
    return _batch_result(batch, f"{decided} of {len(batch.pair_ids)} pairs {verb}{skipped}.",
                         batch.skipped)


def run_group_undo(job: Job, progress: Progress) -> dict:
    batch = _batch(job)
    try:
        reopened = deduplication.undo_group(batch, progress=progress)
    except deduplication.DedupError as exc:
        raise JobError(str(exc)) from exc
    left = f"; {len(batch.undo_skipped)} left as they were" if batch.undo_skipped else ""
    return _batch_result(batch, f"Group decision #{batch.pk} undone: {len(reopened)} pairs "
                         f"are waiting for a decision again{left}.", batch.undo_skipped)
