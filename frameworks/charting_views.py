"""Charting, the pages: every framework's categories with n and the studies behind each
(citation numbers or short references), the numbered list of studies, the themes by level
and component, the figure (on the page and as an SVG download), the study x category matrix
per framework whose cells open the supporting quotes, and the charting as JSON, CSV or XLSX.
Everything is read from `queries.charting`; nothing here writes."""

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from projects.access import get_project_for_user
from references.models import Study

from . import exports, figure, queries
from .models import Category, Framework

SECTION = "coding"
MATRIX_PAGE = 100  # studies per page of a matrix
CITE_STYLES = {"numbers": "Citation numbers", "references": "Short references"}
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def charting(request, slug):
    project = get_project_for_user(request, slug)
    cite = request.GET.get("cite", "numbers")
    if cite not in CITE_STYLES:
        cite = "numbers"
    chart = queries.charting(project)
    return render(request, "frameworks/charting.html", {
        "project": project, "section": SECTION, "chart": chart, "cite": cite,
        "cite_styles": CITE_STYLES,
        "figure": mark_safe(figure.figure_svg(chart)),  # noqa: S308 (escaped by figure_svg)
    })


@login_required
@require_GET
def figure_download(request, slug):
    project = get_project_for_user(request, slug)
    response = HttpResponse(figure.figure_svg(queries.charting(project)),
                            content_type="image/svg+xml")
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(project.slug)}-barriers-facilitators.svg"')
    return response


@login_required
@require_GET
def export(request, slug):
    project = get_project_for_user(request, slug)
    fmt = request.GET.get("format", "json")
    if fmt not in exports.FORMATS:
        raise Http404("Unknown format.")
    chart = queries.charting(project)
    if fmt == "json":
        body = json.dumps(exports.charting_json(chart), indent=2, ensure_ascii=False)
    elif fmt == "csv":
        body = exports.charting_csv(chart)
    else:
        body = exports.charting_xlsx(chart)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(project.slug)}-charting.{fmt}"')
    return response


def _framework(project, framework_id: int) -> Framework:
    return get_object_or_404(Framework, project=project, pk=framework_id)


@login_required
@require_GET
def matrix(request, slug, framework_id):
    project = get_project_for_user(request, slug)
    framework = _framework(project, framework_id)
    chart = queries.charting(project)
    grid = queries.matrix(project, framework, chart)
    peak = max(grid.cells.values(), default=0)
    page = Paginator(chart.studies, MATRIX_PAGE).get_page(request.GET.get("page"))
    base = reverse("frameworks:matrix_cell", args=[project.slug, framework.pk, 0, 0])
    base = base[:base.index("/0/categories/0/")]
    categories = grid.framework.categories
    rows = [(study, [(cell, n, round(0.15 + 0.85 * n / peak, 2) if n else 0,
                      f"{base}/{study.study.pk}/categories/{cell.category.pk}/")
                     for cell in categories
                     for n in [grid.count(study.study.pk, cell.category.pk)]])
            for study in page.object_list]
    return render(request, "frameworks/matrix.html", {
        "project": project, "section": SECTION, "framework": framework, "grid": grid,
        "rows": rows, "page": page, "frameworks": [f.framework for f in chart.frameworks],
    })


@login_required
@require_GET
def matrix_cell(request, slug, framework_id, study_id, category_id):
    project = get_project_for_user(request, slug)
    framework = _framework(project, framework_id)
    category = get_object_or_404(Category, framework=framework, pk=category_id)
    study = get_object_or_404(Study, project=project, pk=study_id)
    numbered = next((s for s in queries.numbered_studies(project) if s.study.pk == study.pk),
                    None)
    if numbered is None:
        raise Http404("The study is not included.")
    context = {"project": project, "section": SECTION, "framework": framework,
               "category": category, "study": numbered,
               "evidence": queries.cell_evidence(project, study, category)}
    template = "frameworks/matrix_cell.html"
    if request.headers.get("HX-Request"):
        template += "#evidence"
    return render(request, template, context)
