"""The form builder's pages (leads), the preview (everyone), and the form's JSON export and
import. Kept beside views.py, which holds the extracting, consensus and table pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import get_project_for_user
from projects.models import Role

from . import forms_builder, schema, widgets
from .forms_builder import BuilderError, FieldSpec
from .models import Field, Section

TYPES = Field.Type.choices
SIMPLE_TYPES = [(value, label) for value, label in TYPES if value != Field.Type.TABLE]


def _outline(form) -> list[Section]:
    """Every section (archived too) with `.all_fields`: its fields, each with `.all_columns`."""
    if form is None:
        return []
    columns = Prefetch("columns", queryset=Field.objects.order_by("position", "id"),
                       to_attr="all_columns")
    fields = Prefetch("fields", queryset=Field.objects.filter(parent=None)
                      .prefetch_related(columns).order_by("position", "id"),
                      to_attr="all_fields")
    return list(form.sections.prefetch_related(fields).order_by("position", "id"))


def _lines(text: str) -> list[dict]:
    return [{"label": line.strip()} for line in (text or "").splitlines() if line.strip()]


def _order(data) -> list[int]:
    try:
        return [int(pk) for pk in data.get("order", "").split(",") if pk.strip()]
    except ValueError:
        return []


def _offset(action: str) -> int:
    return -1 if action == "up" else 1


@login_required
@require_http_methods(["GET", "POST"])
def form_builder(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = forms_builder.ensure_form(project, user=request.user)
        try:
            if action == "add_section":
                section = forms_builder.add_section(form, title=request.POST.get("title", ""),
                                                    user=request.user)
                messages.success(request, f"Section “{section.title}” added.")
                return redirect(reverse("extraction:form", args=[slug]) + f"#s-{section.pk}")
            if action == "reorder":
                forms_builder.reorder_sections(form, order=_order(request.POST),
                                               user=request.user)
            elif action == "template":
                forms_builder.load_template(project, user=request.user)
                messages.success(request, "The paper's extraction form is loaded: edit it as "
                                          "you like.")
            else:
                messages.error(request, "Choose what to do.")
        except BuilderError as exc:
            messages.error(request, str(exc))
        return redirect("extraction:form", slug=slug)
    form = forms_builder.get_form(project)
    sections = _outline(form)
    return render(request, "extraction/form_builder.html", {
        "project": project, "section": "extraction", "form": form, "sections": sections,
        "archived_sections": [s for s in sections if s.archived], "types": TYPES,
        "older": forms_builder.older_version_extractions(form) if form else [],
    })


@login_required
@require_POST
def section_edit(request, slug, section_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    section = get_object_or_404(Section, pk=section_id, form__project=project)
    action = request.POST.get("action", "")
    anchor = f"#s-{section.pk}"
    try:
        if action == "rename":
            forms_builder.rename_section(section, title=request.POST.get("title", ""),
                                         user=request.user)
        elif action in ("up", "down"):
            forms_builder.move_section(section, offset=_offset(action), user=request.user)
        elif action in ("archive", "restore"):
            forms_builder.set_section_archived(section, archived=action == "archive",
                                               user=request.user)
            messages.success(request, f"Section “{section.title}” " + (
                "archived: its fields and their answers are kept, and it can be restored."
                if action == "archive" else "restored with its fields."))
        elif action == "add_field":
            field = forms_builder.add_field(section, user=request.user, spec=FieldSpec(
                label=request.POST.get("label", ""), type=request.POST.get("type", ""),
                choices=_lines(request.POST.get("choices", ""))))
            anchor = f"#f-{field.pk}"
        elif action == "reorder":
            forms_builder.reorder_fields(section.form, section=section,
                                         order=_order(request.POST), user=request.user)
        else:
            messages.error(request, "Choose what to do.")
    except BuilderError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("extraction:form", args=[slug]) + anchor)


def _spec_from_post(data, field: Field) -> FieldSpec:
    keys = data.getlist("choice_key")
    labels = data.getlist("choice_label")
    archived = set(data.getlist("choice_archived"))
    choices = [{"key": k, "label": label, "archived": k in archived}
               for k, label in zip(keys, labels, strict=False)]
    move = data.get("move", "")
    if ":" in move:
        key, direction = move.rsplit(":", 1)
        live = [i for i, c in enumerate(choices) if not c["archived"]]
        at = next((n for n, i in enumerate(live) if choices[i]["key"] == key), None)
        to = None if at is None else at + (-1 if direction == "up" else 1)
        if to is not None and 0 <= to < len(live):
            i, j = live[at], live[to]
            choices[i], choices[j] = choices[j], choices[i]
    choices += _lines(data.get("new_choices", ""))
    return FieldSpec(
        label=data.get("label", ""), type=data.get("type", field.type),
        help_text=data.get("help_text", ""), required=data.get("required") == "on",
        unit=data.get("unit", ""), display=data.get("display", Field.Display.RADIO),
        other_specify=data.get("other_specify") == "on", choices=choices)


@login_required
@require_http_methods(["GET", "POST"])
def field_edit(request, slug, field_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    field = get_object_or_404(Field.objects.select_related("section", "parent"), pk=field_id,
                              form__project=project)
    here = reverse("extraction:field", args=[slug, field.pk])
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                _field, converted = forms_builder.update_field(
                    field, spec=_spec_from_post(request.POST, field), user=request.user)
                messages.success(request, "Saved." + (
                    f" {converted} answer{'s' if converted != 1 else ''} converted to the new "
                    "type." if converted else ""))
            elif action in ("up", "down"):
                forms_builder.move_field(field, offset=_offset(action), user=request.user)
            elif action in ("archive", "restore"):
                forms_builder.set_field_archived(field, archived=action == "archive",
                                                 user=request.user)
                messages.success(request, f"“{field.label}” " + (
                    "archived: its answers are kept, and it can be restored."
                    if action == "archive" else "restored."))
            elif action == "move_to":
                target = get_object_or_404(Section, pk=request.POST.get("section") or 0,
                                           form=field.form)
                forms_builder.move_field_to_section(field, section=target, user=request.user)
            elif action == "add_column":
                column = forms_builder.add_field(table=field, user=request.user, spec=FieldSpec(
                    label=request.POST.get("label", ""), type=request.POST.get("type", ""),
                    choices=_lines(request.POST.get("choices", ""))))
                messages.success(request, f"Column “{column.label}” added.")
                return redirect(here + "#columns")
            elif action == "reorder":
                forms_builder.reorder_fields(field.form, table=field, order=_order(request.POST),
                                             user=request.user)
            else:
                messages.error(request, "Choose what to do.")
        except BuilderError as exc:
            messages.error(request, str(exc))
            return redirect(here)
        if request.POST.get("next") == "field" or action in ("save", "reorder"):
            return redirect(here)
        if field.parent_id:
            return redirect(reverse("extraction:field", args=[slug, field.parent_id])
                            + "#columns")
        return redirect(reverse("extraction:form", args=[slug]) + f"#f-{field.pk}")
    columns = (list(field.columns.order_by("position", "id"))
               if field.type == Field.Type.TABLE else [])
    return render(request, "extraction/field_edit.html", {
        "project": project, "section": "extraction", "field": field, "columns": columns,
        "types": SIMPLE_TYPES if field.parent_id else TYPES, "column_types": SIMPLE_TYPES,
        "displays": Field.Display.choices,
        "sections": list(field.form.sections.filter(archived=False).order_by("position", "id")),
        "answers": field.answers.count() if not field.parent_id else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def preview(request, slug):
    """The form exactly as a reviewer fills it. Posting it checks every answer by the same
    rules as the extraction screen and shows what would be stored; nothing is saved."""
    project = get_project_for_user(request, slug)
    form = forms_builder.get_form(project)
    outline = widgets.live_outline(form) if form else []
    checked = []
    sections = []
    for section, fields in outline:
        shown = []
        for fld in fields:
            if request.method == "POST":
                posted = widgets.read_answer(fld, request.POST)
                shown.append(widgets.widget_for_posted(fld, posted))
                checked.append((fld, posted))
            else:
                shown.append(widgets.widget(fld))
        sections.append((section, shown))
    return render(request, "extraction/preview.html", {
        "project": project, "section": "extraction", "form": form, "sections": sections,
        "checked": checked, "errors": sum(1 for _f, p in checked if p.error),
        "is_lead": project.membership.has_role(Role.LEAD),
    })


@login_required
@require_GET
def form_export(request, slug):
    project = get_project_for_user(request, slug)
    form = forms_builder.get_form(project)
    doc = (schema.export_form(form) if form else
           {"tandem_form": schema.FORMAT, "name": "Data extraction form", "sections": []})
    version = form.version if form else 1
    response = HttpResponse(schema.dumps(doc), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{project.slug}-extraction-form-'
                                       f'v{version}.json"')
    return response


@login_required
@require_http_methods(["GET", "POST"])
def form_import(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    errors: list[str] = []
    text = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        text = request.POST.get("text", "")
        try:
            if upload is not None:
                if upload.size > 2_000_000:
                    raise schema.SchemaError(["(file): a form document is at most 2 MB"])
                doc = schema.parse(upload.read())
            elif text.strip():
                doc = schema.parse(text)
            else:
                raise schema.SchemaError(["(file): choose a JSON file or paste the document"])
            counts = forms_builder.import_form(project, doc, user=request.user)
        except schema.SchemaError as exc:
            errors = exc.errors
        except BuilderError as exc:
            errors = [str(exc)]
        else:
            messages.success(request, f"Form imported: {counts['added']} added, "
                                      f"{counts['updated']} updated, {counts['archived']} "
                                      "archived (with their answers)"
                                      + (f", {counts['converted']} answers converted"
                                         if counts["converted"] else "") + ".")
            return redirect("extraction:form", slug=slug)
    return render(request, "extraction/form_import.html", {
        "project": project, "section": "extraction", "errors": errors, "text": text})
