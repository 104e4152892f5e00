"""Pages of the project's frameworks: pick from the catalogue, stop using, custom
frameworks, categories, JSON export and import, themes and the coding settings."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects.access import get_project_for_user
from projects.models import Role


@login_required
@require_GET
def home(request, slug):
    project = get_project_for_user(request, slug)
    from .models import Framework

    return render(request, "frameworks/home.html", {
        "project": project,
        "section": "coding",
        "is_lead": project.membership.has_role(Role.LEAD),
        "frameworks": Framework.objects.filter(project=project, active=True)
        .prefetch_related("categories"),
    })
