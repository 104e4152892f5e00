from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects import queries as project_queries
from projects.access import get_project_for_user
from projects.models import Role

from . import overview as overview_queries
from . import prisma


@login_required
@require_GET
def overview(request, slug):
    """The project at a glance: screening, extraction and coding progress, the week's
    throughput (everyone's for leads, one's own otherwise), the PRISMA diagram, recent
    activity, the team and background jobs. Reads only; a fixed number of queries."""
    project = get_project_for_user(request, slug)
    membership = project.membership
    membership.user = request.user
    team = list(project_queries.team(project))
    studies = overview_queries.included_study_ids(project)
    return render(request, "reports/overview.html", {
        "project": project,
        "section": "overview",
        "team": team,
        "recent_jobs": project_queries.jobs_of(project)[:5],
        "is_lead": membership.has_role(Role.LEAD),
        "stages": overview_queries.screening_progress(project, membership),
        "throughput": overview_queries.throughput(project, membership, team),
        "extraction": overview_queries.extraction_progress(project, studies),
        "coding": overview_queries.coding_progress(project, studies),
        "activity": overview_queries.recent_activity(project, membership),
        "flow": prisma.flow(project),
    })


@login_required
@require_GET
def home(request, slug):
    """The reports page: the PRISMA diagram, the exports and the project archive."""
    project = get_project_for_user(request, slug)
    return render(request, "reports/home.html", {"project": project, "section": "reports"})
