"""The lead's page of a stage's prioritised screening: the order records are served in and
its training, progress and the recall-over-effort chart, the stopping estimate with its
sample, and ending screening early (and undoing it). The screening stage page loads the
same panel (htmx) for leads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_user
from projects.models import Role
from screening.models import Order, Screening, Stage
from screening.queries import ranked
from screening.services import settings_for
from screening.views import stage_or_404

from . import chart, jobs, model, services, stopping
from .models import EarlyStop, RankingState

DEFAULT_TARGET = DEFAULT_CONFIDENCE = 0.95


def _fraction(raw, default: float) -> tuple[float, str]:
    """A target or confidence from the form, as a percentage 50-99.9; an error otherwise."""
    if raw in (None, ""):
        return default, ""
    try:
        value = float(raw) / 100
    except ValueError:
        return default, f"“{raw}” is not a percentage."
    if not 0.5 <= value <= 0.999:
        return default, f"{raw}% is outside 50–99.9%."
    return value, ""


@login_required
@require_GET
def stage(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    target, target_error = _fraction(request.GET.get("target"), DEFAULT_TARGET)
    confidence, confidence_error = _fraction(request.GET.get("confidence"), DEFAULT_CONFIDENCE)
    settings = settings_for(project, stage)
    done = services.progress(project, stage)
    status = services.sample_status(project, stage, target=target, confidence=confidence)
    sample_from = None
    if status is not None:
        sample_from = Screening.objects.filter(
            project=project, stage=stage, settled_at__lt=status.sample.drawn_at,
            state__in=(Screening.State.INCLUDED, Screening.State.EXCLUDED)).count()
    known = services.labels(project, stage) if settings.order == Order.RELEVANCE else {}
    includes = sum(known.values())
    context = {
        "project": project, "section": "screening" if stage == Stage.TITLE_ABSTRACT
        else "fulltext", "stage": stage, "stage_label": Stage(stage).label,
        "settings": settings, "served_by_score": ranked(settings),
        "includes": includes, "excludes": len(known) - includes,
        "min_includes": model.MIN_INCLUDES, "min_excludes": model.MIN_EXCLUDES,
        "training": services.last_training(project, stage),
        "queued": RankingState.objects.filter(project=project, stage=stage)
        .exclude(token="").exists(),
        "progress": done, "status": status,
        "chart": mark_safe(chart.svg(done.curve, total=done.settled + done.unvoted,  # noqa: S308
                                     sample_from=sample_from)),
        "target": target, "confidence": confidence,
        "target_pct": round(target * 100, 1), "confidence_pct": round(confidence * 100, 1),
        "errors": [e for e in (target_error, confidence_error) if e],
        "needed": stopping.sample_size_needed(n_remaining=done.unvoted,
                                              found_before=done.included, target=target,
                                              confidence=confidence) if done.unvoted else 0,
        "stop": services.active_stop(project, stage),
        "stops": EarlyStop.objects.filter(project=project, stage=stage)
        .select_related("stopped_by", "undone_by").order_by("-stopped_at"),
    }
    if request.htmx:
        return render(request, "ranking/stage.html#panel", context)
    return render(request, "ranking/stage.html", context)


def _back(slug: str, stage: str):
    return redirect("ranking:stage", slug=slug, stage=stage)


@login_required
@require_POST
def sample(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    size = request.POST.get("size", "")
    if not size.isdigit() or not 1 <= int(size) <= 100_000:
        messages.error(request, "Sample size: give a whole number of records, 1 or more.")
        return _back(slug, stage)
    try:
        drawn = services.draw_sample(project, stage, size=int(size), user=request.user)
    except services.RankingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{len(drawn.record_ids)} records drawn at random from the "
                                  f"{drawn.remaining} nobody has voted on: reviewers get them "
                                  "before any other new record.")
    return _back(slug, stage)


@login_required
@require_POST
def stop(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    note = request.POST.get("note", "").strip()
    target, error = _fraction(request.POST.get("target"), DEFAULT_TARGET)
    confidence, error2 = _fraction(request.POST.get("confidence"), DEFAULT_CONFIDENCE)
    problems = [e for e in (error, error2) if e]
    try:
        services.check_can_end(project, stage, note=note)
    except services.RankingError as exc:
        problems.append(str(exc))
    if request.POST.get("confirm") != "yes":
        problems.append("Tick the box to confirm that the records left are to be excluded.")
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return _back(slug, stage)
    job = jobs.start_stop(project, stage, note=note, target=target, confidence=confidence,
                          user=request.user)
    return redirect("projects:job", slug=slug, job_id=job.pk)


@login_required
@require_POST
def undo_stop(request, slug, stage, stop_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    early = get_object_or_404(EarlyStop, pk=stop_id, project=project, stage=stage)
    if early.undone_at is not None:
        messages.error(request, "This stop has been undone already.")
        return _back(slug, stage)
    job = jobs.start_undo(early, user=request.user)
    return redirect("projects:job", slug=slug, job_id=job.pk)
