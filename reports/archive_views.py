"""The project archive's pages: a lead starts its download (a job), and anyone signed in
uploads one to restore it as a new project of their own (a job with a progress bar)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import get_project_for_user
from projects.models import Role

from . import archive, archive_jobs


class ArchiveImportForm(forms.Form):
    file = forms.FileField(label="Project archive (.zip)",
                           help_text="The file 'Download the project archive' gave.")
    name = forms.CharField(label="Name of the new project", max_length=200, required=False,
                           help_text="Leave empty to keep the archived project's name.")


@login_required
@require_POST
def archive_export(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    job = archive_jobs.start_export(project, user=request.user)
    return redirect("projects:job", slug=slug, job_id=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def archive_import(request):
    """Not a project's page: the project is made here, with the uploader as its lead, and
    the job restores the archive into it."""
    form = ArchiveImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = archive_jobs.start_import(form.cleaned_data["file"], user=request.user,
                                            name=form.cleaned_data["name"].strip())
        except archive.ArchiveError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, f"Project “{job.project.name}” created: the archive is "
                                      "being restored into it.")
            return redirect("projects:job", slug=job.project.slug, job_id=job.pk)
    return render(request, "reports/archive_import.html", {"form": form})
