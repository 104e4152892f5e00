from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for_user
from projects.models import Role

from . import forms_builder, jobs, queries
from .forms import TableFilterForm


@login_required
@require_GET
def home(request, slug):
    project = get_project_for_user(request, slug)
    return render(request, "extraction/home.html", {
        "project": project, "section": "extraction", "form": forms_builder.get_form(project),
        "is_lead": project.membership.has_role(Role.LEAD)})


TABLE_PAGE_SIZE = 50


@login_required
@require_GET
def table(request, slug):
    """The extraction table: settled data only (blind by construction), so every member
    sees it. Filters and the frequency summaries work on the whole table; the rows shown are
    one page of the filtered ones."""
    project = get_project_for_user(request, slug)
    data = queries.extraction_table(project)
    everything = queries.frequencies(data)
    form = TableFilterForm(request.GET or None, table=data, summaries=everything)
    text, answers = form.filters()
    rows = queries.filter_rows(data, text=text, answers=answers) if text or answers \
        else data.rows
    page = Paginator(rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "extraction/table.html", {
        "project": project, "section": "extraction", "table": data, "form": form,
        "filtered": bool(text or answers), "rows": rows, "page": page,
        "shown": queries.shown_cells(data, page.object_list),
        "sections": queries.section_spans(data.fields),
        "summaries": _with_links(
            queries.frequencies(data, rows) if text or answers else everything, query),
        "query": query.urlencode(), "formats": jobs.FORMATS,
    })


def _with_links(summaries, query):
    """Each category of each summary gets `url`, the table filtered to it (the other
    filters kept), and `active`, whether it is the filter in force."""
    for summary in summaries:
        name = TableFilterForm.name_of(summary.field)
        for category in summary.categories:
            linked = query.copy()
            linked[name] = category.key
            category.url = "?" + linked.urlencode()
            category.active = query.get(name) == category.key
    return summaries


@login_required
@require_POST
def table_export(request, slug):
    project = get_project_for_user(request, slug)
    file_format = request.POST.get("format", "")
    if file_format not in jobs.FORMATS:
        messages.error(request, "Choose CSV or XLSX.")
        return redirect("extraction:table", slug=slug)
    job = jobs.start_export(project, user=request.user, file_format=file_format)
    return redirect("projects:job", slug=slug, job_id=job.pk)
