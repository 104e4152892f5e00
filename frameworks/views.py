"""Pages of the project's frameworks: pick from the catalogue, stop using, custom
frameworks, categories, JSON export and import, themes and the coding settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import get_project_for_user
from projects.models import Role

from . import catalogue_services as cs
from .catalogue_services import FrameworkError
from .models import Category, CodingSettings, Excerpt, Framework, Theme

SECTION = "coding"


@login_required
@require_GET
def home(request, slug):
    project = get_project_for_user(request, slug)
    return render(request, "frameworks/home.html", {
        "project": project,
        "section": "coding",
        "is_lead": project.membership.has_role(Role.LEAD),
        "frameworks": Framework.objects.filter(project=project, active=True)
        .prefetch_related("categories"),
    })


def _framework(project, framework_id: int) -> Framework:
    framework = Framework.objects.filter(project=project, pk=framework_id).first()
    if framework is None:
        raise Http404("No such framework in this project.")
    return framework


def _to_frameworks(project, framework: Framework | None = None):
    if framework is None:
        return redirect("frameworks:frameworks", project.slug)
    return redirect("frameworks:framework", project.slug, framework.pk)


def _refused(request, error: FrameworkError) -> None:
    for message in error.errors:
        messages.error(request, message)


def _int(value, default: int = 0) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None if default is None else default


@login_required
@require_GET
def frameworks(request, slug):
    """The catalogue beside the frameworks the project uses."""
    project = get_project_for_user(request, slug)
    mine = list(Framework.objects.filter(project=project).order_by("position", "id"))
    used = {f.source_key for f in mine if f.active and f.source_key}
    return render(request, "frameworks/frameworks.html", {
        "project": project, "section": SECTION,
        "is_lead": project.membership.has_role(Role.LEAD),
        "catalogue": [(f, f.key in used) for f in Framework.objects.filter(project=None)
                      .prefetch_related("categories").order_by("position", "id")],
        "mine": mine,
        "rules": [(Framework.Rule.SINGLE, "One category per study"),
                  (Framework.Rule.MULTIPLE, "Several categories per study")],
    })


@login_required
@require_POST
def use(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    keys = request.POST.getlist("levels") or None
    try:
        framework = cs.use_framework(project, request.POST.get("key", ""), user=request.user,
                                     category_keys=keys)
    except FrameworkError as error:
        _refused(request, error)
        return _to_frameworks(project)
    messages.success(request, f"The project uses {framework.name}.")
    return _to_frameworks(project, framework)


@login_required
@require_POST
def custom(request, slug):
    """A custom framework: one category a line, "name: definition"."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    lines = [line.strip() for line in request.POST.get("categories", "").splitlines()]
    categories = [tuple(part.strip() for part in (line.split(":", 1) + [""])[:2])
                  for line in lines if line]
    try:
        framework = cs.add_custom_framework(
            project, name=request.POST.get("name", ""), rule=request.POST.get("rule", ""),
            categories=categories, description=request.POST.get("description", ""),
            user=request.user)
    except FrameworkError as error:
        _refused(request, error)
        return _to_frameworks(project)
    messages.success(request, f"{framework.name} added.")
    return _to_frameworks(project, framework)


@login_required
@require_http_methods(["GET", "POST"])
def framework_import(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise FrameworkError("(file): choose a framework JSON file")
            framework = cs.import_framework(project, cs.parse(upload.read()),
                                            user=request.user)
        except FrameworkError as error:
            errors = error.errors
        else:
            messages.success(request, f"{framework.name} imported.")
            return _to_frameworks(project, framework)
    return render(request, "frameworks/import.html", {
        "project": project, "section": SECTION, "errors": errors})


@login_required
@require_GET
def framework(request, slug, framework_id):
    project = get_project_for_user(request, slug)
    framework = _framework(project, framework_id)
    categories = list(framework.categories.order_by("position", "id"))
    tree = [(c, [child for child in categories if child.parent_id == c.pk])
            for c in categories if c.parent_id is None]
    source = Framework.objects.filter(project=None, key=framework.source_key).first()
    return render(request, "frameworks/framework.html", {
        "project": project, "section": SECTION, "framework": framework, "tree": tree,
        "is_lead": project.membership.has_role(Role.LEAD),
        "levels": ([(c, any(m.key == c.key and not m.retired for m in categories))
                    for c in source.categories.filter(parent=None)]
                   if source is not None and framework.source_key == "mcleroy" else []),
    })


@login_required
@require_POST
def framework_stop(request, slug, framework_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    framework = _framework(project, framework_id)
    try:
        cs.stop_framework(project, framework, user=request.user)
    except FrameworkError as error:
        _refused(request, error)
    else:
        messages.success(request, f"The project stopped using {framework.name}; its codes "
                                  "are kept.")
    return _to_frameworks(project)


@login_required
@require_POST
def framework_levels(request, slug, framework_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    framework = _framework(project, framework_id)
    try:
        cs.set_levels(project, framework, request.POST.getlist("levels"), user=request.user)
    except FrameworkError as error:
        _refused(request, error)
    else:
        messages.success(request, "Levels saved.")
    return _to_frameworks(project, framework)


@login_required
@require_GET
def framework_export(request, slug, framework_id):
    project = get_project_for_user(request, slug)
    framework = _framework(project, framework_id)
    response = HttpResponse(cs.dumps(cs.export_framework(framework)),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{framework.key}.json"'
    return response


@login_required
@require_POST
def category_add(request, slug, framework_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    framework = _framework(project, framework_id)
    parent_id = _int(request.POST.get("parent"), default=None)
    parent = framework.categories.filter(pk=parent_id).first() if parent_id else None
    try:
        cs.add_category(project, framework, name=request.POST.get("name", ""),
                        definition=request.POST.get("definition", ""), parent=parent,
                        user=request.user)
    except FrameworkError as error:
        _refused(request, error)
    return _to_frameworks(project, framework)


@login_required
@require_POST
def category(request, slug, category_id):
    """Rename (with definition), retire or restore one category."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    category = (Category.objects.filter(framework__project=project, pk=category_id)
                .select_related("framework").first())
    if category is None:
        raise Http404("No such category in this project.")
    action = request.POST.get("action", "rename")
    try:
        if action in ("retire", "restore"):
            cs.set_category_retired(project, category, retired=action == "retire",
                                    user=request.user)
        else:
            cs.rename_category(project, category, name=request.POST.get("name", ""),
                               definition=request.POST.get("definition"), user=request.user)
    except FrameworkError as error:
        _refused(request, error)
    return _to_frameworks(project, category.framework)


@login_required
@require_GET
def themes(request, slug):
    project = get_project_for_user(request, slug)
    rows = list(Theme.objects.filter(project=project).select_related("merged_into")
                .order_by("name", "id"))
    counts: dict[int, set[int]] = {}
    for theme_id, study_id in Excerpt.objects.filter(project=project, theme__isnull=False) \
            .values_list("theme_id", "study_id"):
        counts.setdefault(theme_id, set()).add(study_id)
    return render(request, "frameworks/themes.html", {
        "project": project, "section": SECTION,
        "is_lead": project.membership.has_role(Role.LEAD),
        "themes": [(t, len(counts.get(t.pk, ()))) for t in rows if t.merged_into_id is None],
        "merged": [t for t in rows if t.merged_into_id is not None],
    })


@login_required
@require_POST
def theme(request, slug, theme_id):
    """Rename a theme, or merge it into another (its excerpts move there)."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    theme = Theme.objects.filter(project=project, pk=theme_id).first()
    if theme is None:
        raise Http404("No such theme in this project.")
    try:
        if request.POST.get("action") == "merge":
            into = Theme.objects.filter(project=project,
                                        pk=_int(request.POST.get("into"))).first()
            if into is None:
                raise FrameworkError("Pick the theme to merge into.")
            cs.merge_themes(project, theme, into, user=request.user)
            messages.success(request, f"{theme.name} merged into {into.name}.")
        else:
            cs.rename_theme(project, theme, name=request.POST.get("name", ""),
                            user=request.user)
    except FrameworkError as error:
        _refused(request, error)
    return redirect("frameworks:themes", project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def coding_settings(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    current = CodingSettings.objects.filter(project=project).first() or CodingSettings(
        project=project)
    if request.method == "POST":
        try:
            share = float(request.POST.get("share_percent", "20")) / 100
        except ValueError:
            share = -1.0
        try:
            cs.update_coding_settings(
                project, user=request.user, verify=request.POST.get("verify", ""),
                first_n=_int(request.POST.get("first_n"), default=-1),
                share=share, seed=_int(request.POST.get("seed"), default=-1))
        except FrameworkError as error:
            _refused(request, error)
        else:
            messages.success(request, "Coding settings saved.")
        return redirect("frameworks:settings", project.slug)
    return render(request, "frameworks/settings.html", {
        "project": project, "section": SECTION, "settings": current,
        "share_percent": round(current.share * 100, 2),
        "verify_choices": CodingSettings.Verify.choices,
    })
