"""The one access helper every project view calls first.

Outsiders get 404 (a project's existence is private), members without the needed role get
403, anonymous users never reach it: project views are wrapped in `login_required`.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from .models import ROLE_RANK, Membership, Project, Role


def get_project_for_user(request: HttpRequest, slug: str, role: str = Role.VIEWER) -> Project:
    """Return the project `slug` with `project.membership` set to the user's membership.

    Raises Http404 when the user is not a member (or the project does not exist) and
    PermissionDenied when the member's role is lower than `role`.
    """
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such project.")
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user=user)
        .first()
    )
    if membership is None:
        raise Http404("No such project.")
    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role.")
    project = membership.project
    project.membership = membership
    return project

