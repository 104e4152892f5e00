"""The PRISMA pages: the diagram, the records behind each of its numbers, the downloads."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from extraction.queries import study_label
from projects.access import get_project_for_user
from projects.models import Project, Role
from projects.paging import keyset_page

from . import prisma
from .prisma_export import FORMATS, export

PAGE_SIZE = 50
DOWNLOADS = [("svg", "SVG"), ("png", "PNG"), ("json", "JSON"), ("csv", "CSV of the counts"),
             ("prisma2020", "PRISMA2020 template (CSV)")]


def may_see_box(project: Project, box: str) -> bool:
    """Conflict lists show where votes disagree on unsettled records: leads only."""
    return box not in prisma.CONFLICT_BOXES or project.membership.has_role(Role.LEAD)


def box_url(slug: str, box: str, key: str | None = None, column: str | None = None) -> str:
    url = (reverse("reports:prisma_box_key", args=[slug, box, key]) if key is not None
           else reverse("reports:prisma_box", args=[slug, box]))
    return f"{url}?{urlencode({'column': column})}" if column else url


def linker_for(project: Project):
    """link(box, key, column) -> the URL of that number's records, or None when the member
    may not open it (the diagram then shows the number alone)."""

    def link(box: str, key: str | None = None, column: str | None = None) -> str | None:
        if not may_see_box(project, box):
            return None
        return box_url(project.slug, box, key, column)

    return link


@login_required
@require_GET
def prisma_page(request, slug):
    project = get_project_for_user(request, slug)
    return render(request, "reports/prisma.html", {
        "project": project, "section": "reports", "flow": prisma.flow(project),
        "downloads": DOWNLOADS,
    })


@login_required
@require_GET
def prisma_box(request, slug, box, key=None):
    """The records (or studies) behind one number of the diagram, 50 a page."""
    project = get_project_for_user(request, slug)
    column = request.GET.get("column") or None
    if box not in prisma.BOXES or not prisma.valid_key(box, key) or column not in (
            None, *prisma.COLUMNS):
        raise Http404("No such box.")
    if not may_see_box(project, box):
        raise PermissionDenied("Conflicts are shown to leads only.")
    items = prisma.box_records(project, box, key, column)
    if box != "included_studies":
        items = items.select_related("source").defer("abstract", "raw")
    page = keyset_page(request, items, size=PAGE_SIZE)
    if box == "included_studies":
        for study in page.items:
            study.label = study_label(study)
    scoping = project.review_type == "scoping"
    return render(request, "reports/prisma_box.html", {
        "project": project, "section": "reports", "box": box, "key": key, "column": column,
        "title": prisma.box_title(box, scoping=scoping), "subtitle": _subtitle(project, box, key),
        "count": items.count(), "page": page, "studies": box == "included_studies",
    })


def _subtitle(project: Project, box: str, key: str | None) -> str:
    """The source or reason a keyed list is about."""
    if key is None:
        return ""
    if box == "excluded_eligibility":
        if key == prisma.NO_REASON_KEY:
            return prisma.NO_REASON
        from screening.models import ExclusionReason

        reason = ExclusionReason.objects.filter(project=project, pk=int(key)).first()
        if reason is None:
            raise Http404("No such reason.")
        return reason.label
    from references.models import Source

    if not key.isdigit():  # one kind of source: the databases, or the registers
        return {Source.Kind.DATABASE: "Databases", Source.Kind.REGISTER: "Registers"}[key]
    source = Source.objects.filter(project=project, pk=int(key)).first()
    if source is None:
        raise Http404("No such source.")
    return source.name


@login_required
@require_GET
def prisma_download(request, slug, fmt):
    project = get_project_for_user(request, slug)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    download = export(prisma.flow(project), fmt, slug=project.slug)
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response
