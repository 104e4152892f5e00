"""Ending a stage early, and undoing it, as background jobs (tens of thousands of records,
each removal audited): the kinds register here with the role that may start them."""

from __future__ import annotations

from projects.jobs import JobError, Progress, register_kind, start_job
from projects.models import Job, Project, Role

from . import services
from .models import EarlyStop

STOP = "ranking_stop"
UNDO_STOP = "ranking_undo_stop"
register_kind(STOP, task="ranking.stop", role=Role.LEAD)
register_kind(UNDO_STOP, task="ranking.undo_stop", role=Role.LEAD)


def start_stop(project: Project, stage: str, *, note: str, target: float, confidence: float,
               user) -> Job:
    return start_job(project=project, kind=STOP, task="ranking.stop", user=user,
                     label="End title and abstract screening by the stopping rule",
                     params={"stage": stage, "note": note, "target": target,
                             "confidence": confidence})


def start_undo(stop: EarlyStop, *, user) -> Job:
    return start_job(project=stop.project, kind=UNDO_STOP, task="ranking.undo_stop",
                     user=user, label="Undo the end of screening by the stopping rule",
                     params={"stop": stop.pk})


def figures(project: Project, stage: str, *, target: float, confidence: float) -> dict:
    """What the stop records beside the lead's note: the screening so far and, when a sample
    was drawn, the estimate's figures."""
    done = services.progress(project, stage)
    out = {"settled": done.settled, "included": done.included,
           "since_last_include": done.since_last_include, "left": done.unvoted}
    status = services.sample_status(project, stage, target=target, confidence=confidence)
    if status is not None:
        e = status.estimate
        out.update({"method": "Callaghan & Müller-Hansen 2020", "target": e.target,
                    "confidence": e.confidence, "p_value": e.p_value,
                    "rejected": e.reject, "sample_drawn": len(status.sample.record_ids),
                    "sample_screened": status.screened, "sample_included": status.included,
                    "remaining_at_sample": status.sample.remaining})
    return out


def run_stop(job: Job, progress: Progress) -> dict:
    p = job.params
    project = job.project
    try:
        stop = services.end_early(
            project, p["stage"], note=p["note"], user=job.started_by,
            figures=figures(project, p["stage"], target=p["target"],
                            confidence=p["confidence"]),
            progress=progress)
    except services.RankingError as exc:
        raise JobError(str(exc)) from exc
    progress(100, 100, f"{len(stop.record_ids)} records excluded by the stopping rule")
    return {"stop": stop.pk, "records": len(stop.record_ids)}


def run_undo(job: Job, progress: Progress) -> dict:
    stop = EarlyStop.objects.filter(pk=job.params["stop"], project=job.project).first()
    if stop is None:
        raise JobError("That stop is not in this project.")
    try:
        n = services.undo_early_stop(stop, user=job.started_by)
    except services.RankingError as exc:
        raise JobError(str(exc)) from exc
    progress(100, 100, f"{n} records back in screening")
    return {"stop": stop.pk, "restored": n}
