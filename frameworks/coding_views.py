"""Coding and verification, the pages: the studies to code with their status and the
agreement per framework, and a study's coding page (study-level codes per framework,
excerpts, the verifier's answers and the settling of proposals). Every write is a POST that
calls one service of `services.py` and redirects back to the study's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from extraction.models import Answer
from extraction.queries import study_label
from projects.access import get_project_for_user
from projects.models import Role
from references.models import Study

from . import services
from .models import Category, Excerpt, Framework, StudyCode, StudyCoding, Theme, Verification
from .services import CodingError, Pick

SECTION = "coding"
Rule = Framework.Rule


def _study(project, study_id: int) -> Study:
    study = services.studies_to_code(project).filter(pk=study_id).first()
    if study is None:
        raise Http404("No such included study.")
    return study


def _back(project, study_id: int, anchor: str = ""):
    url = reverse("frameworks:coding_study", args=[project.slug, study_id])
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def studies(request, slug):
    project = get_project_for_user(request, slug)
    codings = {c.study_id: c for c in StudyCoding.objects.filter(project=project)
               .select_related("coder", "verifier")}
    needing = services.studies_needing_verification(project)
    rows = []
    for study in services.studies_to_code(project):
        coding = codings.get(study.pk)
        rows.append({"study": study, "label": study_label(study), "coding": coding,
                     "status": coding.get_status_display() if coding else "Not started",
                     "status_key": coding.status if coding else "not_started",
                     "needs_verification": study.pk in needing})
    counts = {label: sum(1 for r in rows if r["status_key"] == key)
              for key, label in StudyCoding.Status.choices}
    status = request.GET.get("status", "")
    if status in StudyCoding.Status.values:
        rows = [r for r in rows if r["status_key"] == status]
    else:
        status = ""
    return render(request, "frameworks/coding_studies.html", {
        "project": project, "section": SECTION, "rows": rows, "counts": counts,
        "status": status, "statuses": StudyCoding.Status.choices,
        "agreement": services.agreement(project),
        "settings": services.settings_for(project),
    })


def _framework_rows(project, study):
    codes = {c.category_id: c for c in StudyCode.objects.filter(study=study)}
    out = []
    for framework in services.project_frameworks(project):
        if framework.rule == Rule.EXCERPT:
            continue
        categories = []
        for category in framework.categories.all():
            code = codes.get(category.pk)
            if category.retired and code is None:
                continue
            categories.append({"category": category, "code": code})
        out.append({"framework": framework, "categories": categories,
                    "chosen": [c["category"] for c in categories if c["code"]]})
    return out


@login_required
@require_GET
def study(request, slug, study_id):
    project = get_project_for_user(request, slug)
    study = _study(project, study_id)
    # A GET writes nothing: a study never coded gets an unsaved row.
    coding = (StudyCoding.objects.filter(study=study).select_related("coder", "verifier")
              .first() or StudyCoding(project=project, study=study))
    frameworks = list(services.project_frameworks(project))
    excerpt_frameworks = [f for f in frameworks if f.rule == Rule.EXCERPT]
    can_code = project.membership.has_role(Role.REVIEWER)
    is_lead = project.membership.has_role(Role.LEAD)
    units = services.units(coding)
    answers = [] if coding.pk is None else list(Verification.objects.filter(coding=coding)
                   .select_related("verifier", "settled_by", "framework", "excerpt")
                   .order_by("id"))
    for unit in units:
        unit.answer = next((a for a in answers if a.framework_id == unit.framework.pk
                            and a.excerpt_id == (unit.excerpt.pk if unit.excerpt else None)),
                           None)
        unit.names = [c.name for c in unit.framework.categories.all() if c.key in unit.keys]
    may_verify = (can_code and coding.coder_id is not None
                  and coding.coder_id != request.user.pk
                  and coding.verifier_id in (None, request.user.pk))
    may_settle = can_code and (coding.coder_id == request.user.pk or is_lead)
    return render(request, "frameworks/coding_study.html", {
        "project": project, "section": SECTION, "study": study, "label": study_label(study),
        "coding": coding, "can_code": can_code, "may_verify": may_verify,
        "may_settle": may_settle,
        "framework_rows": _framework_rows(project, study),
        "excerpt_frameworks": excerpt_frameworks,
        "excerpts": Excerpt.objects.filter(study=study).select_related("theme", "coder")
        .prefetch_related("categories__framework").order_by("id"),
        "themes": Theme.objects.filter(project=project, merged_into__isnull=True)
        .order_by("name"),
        "answers": Answer.objects.filter(extraction__study=study).exclude(quote="")
        .select_related("field").order_by("id"),
        "units": units, "kinds": Excerpt.Kind.choices,
        "open_proposals": [a for a in answers if a.outcome == Verification.Outcome.OPEN],
    })


@login_required
@require_POST
def save_codes(request, slug, study_id, framework_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    study = _study(project, study_id)
    framework = get_object_or_404(Framework, pk=framework_id, project=project)
    chosen = {_int(v) for v in request.POST.getlist("category")} - {None}
    categories = Category.objects.filter(framework=framework, pk__in=chosen).order_by(
        "position", "id")
    picks = [Pick(category=c, note=request.POST.get(f"note-{c.pk}", ""),
                  quote=request.POST.get(f"quote-{c.pk}", ""),
                  page=request.POST.get(f"page-{c.pk}", ""),
                  text=request.POST.get(f"text-{c.pk}", "")) for c in categories]
    try:
        services.set_study_codes(project, study, framework, picks, coder=request.user)
        messages.success(request, f"{framework.name}: codes saved.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, study.pk, f"framework-{framework.pk}")


def _excerpt_categories(project, request):
    ids = {_int(v) for v in request.POST.getlist("category")} - {None}
    return list(Category.objects.filter(framework__project=project, pk__in=ids)
                .select_related("framework", "parent"))


@login_required
@require_POST
def add_excerpt(request, slug, study_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    study = _study(project, study_id)
    try:
        services.add_excerpt(project, study, kind=request.POST.get("kind", ""),
                             text=request.POST.get("text", ""),
                             page=request.POST.get("page", ""),
                             categories=_excerpt_categories(project, request),
                             theme=request.POST.get("theme", ""),
                             answer_id=_int(request.POST.get("answer")),
                             coder=request.user)
        messages.success(request, "Excerpt added.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, study.pk, "excerpts")


@login_required
@require_POST
def edit_excerpt(request, slug, excerpt_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    excerpt = get_object_or_404(Excerpt, pk=excerpt_id, project=project)
    try:
        services.update_excerpt(project, excerpt, kind=request.POST.get("kind", ""),
                                text=request.POST.get("text", ""),
                                page=request.POST.get("page", ""),
                                categories=_excerpt_categories(project, request),
                                theme=request.POST.get("theme", ""), coder=request.user)
        messages.success(request, "Excerpt saved.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, excerpt.study_id, "excerpts")


@login_required
@require_POST
def delete_excerpt(request, slug, excerpt_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    excerpt = get_object_or_404(Excerpt, pk=excerpt_id, project=project)
    try:
        services.delete_excerpt(project, excerpt, coder=request.user)
        messages.success(request, "Excerpt removed.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, excerpt.study_id, "excerpts")


@login_required
@require_POST
def verify(request, slug, study_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    study = _study(project, study_id)
    framework = Framework.objects.filter(pk=_int(request.POST.get("framework")) or 0,
                                         project=project).first()
    if framework is None:
        messages.error(request, "Say which framework's codes you answer.")
        return _back(project, study.pk, "verification")
    excerpt_id = _int(request.POST.get("excerpt"))
    excerpt = (get_object_or_404(Excerpt, pk=excerpt_id, study=study)
               if excerpt_id is not None else None)
    keys = list(Category.objects.filter(
        framework=framework, pk__in={_int(v) for v in request.POST.getlist("category")} - {None})
        .order_by("position", "id").values_list("key", flat=True))
    try:
        services.verify(project, study, framework, verifier=request.user,
                        decision=request.POST.get("decision", ""), excerpt=excerpt,
                        categories=keys, comment=request.POST.get("comment", ""))
        messages.success(request, f"{framework.name}: your answer is saved.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, study.pk, "verification")


@login_required
@require_POST
def settle(request, slug, verification_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    verification = get_object_or_404(Verification.objects.select_related("coding"),
                                      pk=verification_id, coding__project=project)
    coding = verification.coding
    if coding.coder_id != request.user.pk and not project.membership.has_role(Role.LEAD):
        raise PermissionDenied("The coder or a lead settles a proposal.")
    try:
        services.settle(project, verification, accept=request.POST.get("accept") == "1",
                        user=request.user, comment=request.POST.get("comment", ""))
        messages.success(request, "The proposal is settled.")
    except CodingError as e:
        messages.error(request, str(e))
    return _back(project, coding.study_id, "verification")
