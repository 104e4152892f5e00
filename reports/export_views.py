"""The exports page: one small form per export, each starting a background job, and the
project's recent exports with their files and when those are removed."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_user
from projects.jobs import file_expires_at
from projects.models import Job

from . import export_jobs
from .forms import ExportForm

RECENT = 20


@login_required
@require_GET
def exports(request, slug):
    project = get_project_for_user(request, slug)
    jobs = list(Job.objects.filter(project=project, kind__in=export_jobs.KINDS)
                .select_related("started_by")[:RECENT])
    return render(request, "reports/exports.html", {
        "project": project,
        "section": "reports",
        "forms": [ExportForm(export=key) for key in export_jobs.EXPORTS],
        "jobs": [(job, file_expires_at(job)) for job in jobs],
        "file_days": settings.JOB_FILE_DAYS,
    })


@login_required
@require_POST
def export_start(request, slug):
    # Every member: each export holds settled data only (see export_jobs.EXPORTS).
    project = get_project_for_user(request, slug)
    export = request.POST.get("export", "")
    if export not in export_jobs.EXPORTS:
        messages.error(request, "Choose an export.")
        return redirect("reports:exports", slug=slug)
    form = ExportForm(request.POST, export=export)
    if not form.is_valid():
        messages.error(request, f"{form.spec.title}: choose a format"
                                + (" and which records." if form.spec.filters else "."))
        return redirect("reports:exports", slug=slug)
    job = export_jobs.start_export(project, user=request.user, export=export,
                                   file_format=form.cleaned_data["format"],
                                   which=form.cleaned_data.get("which", ""))
    return redirect("projects:job", slug=slug, job_id=job.pk)
