from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects.access import get_project_for_user


@login_required
@require_GET
def home(request, slug):
    project = get_project_for_user(request, slug)
    return render(request, "extraction/home.html", {"project": project, "section": "extraction"})
