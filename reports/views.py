from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects import queries as project_queries
from projects.access import get_project_for_user


@login_required
@require_GET
def overview(request, slug):
    project = get_project_for_user(request, slug)
    return render(request, "reports/overview.html", {
        "project": project,
        "section": "overview",
        "team": project_queries.team(project),
        "recent_jobs": project_queries.jobs_of(project)[:5],
    })


@login_required
@require_GET
def home(request, slug):
    """The reports page: the PRISMA diagram, the exports and the project archive."""
    project = get_project_for_user(request, slug)
    return render(request, "reports/home.html", {"project": project, "section": "reports"})
