"""Extracting and settling, the pages: the study list, a study, the extraction screen (with
its htmx autosave), consensus, the pilot, assignments and the settings.

Blind by construction: the extraction screen reads the signed-in reviewer's own extraction
only; the consensus page answers 404 until both extractions are complete and 403 to anyone
who may not settle; the study page shows values once they are the study's data (consensus
complete, or the one extraction in single mode); the pilot report counts pairs both have
completed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import get_project_for_user
from projects.models import Membership, Role
from references.models import Study
from screening.models import FullText

from . import queries, services, values, widgets
from .forms import ExtractionSettingsForm
from .models import Assignment, Extraction, Round
from .queries import StudyStatus
from .services import Decision, Take

LIST_PAGE_SIZE = 50
SECTION = "extraction"


def _round(value: str) -> str:
    if value not in Round.values:
        raise Http404("No such round.")
    return value


def _study(project, study_id: int) -> Study:
    return get_object_or_404(Study, pk=study_id, project=project)


def _included(project, study: Study) -> Study | None:
    """The study as the included list has it (with `included_reports`), None if it left."""
    return queries.studies_to_extract(project).filter(pk=study.pk).first()


def _reports(project, study: Study) -> list[dict]:
    """The study's reports beside the form: its included reports (all its reports when it
    has left the included set), each with its full text."""
    included = _included(project, study)
    records = (included.included_reports if included is not None
               else list(study.records.filter(duplicate_of__isnull=True).order_by("id")))
    texts = {t.record_id: t for t in FullText.objects.filter(record__in=[r.pk for r in records])}
    return [{"record": r, "full_text": texts.get(r.pk)} for r in records]


def _extractors(project):
    """Members who extract (reviewers and leads), by username."""
    return [m.user for m in Membership.objects.filter(
        project=project, role__in=[Role.REVIEWER, Role.LEAD]).select_related("user")
        .order_by("user__username")]


# --- the list and a study -------------------------------------------------------------------


@login_required
@require_GET
def studies(request, slug):
    project = get_project_for_user(request, slug)
    settings = services.settings_for(project)
    round = Round.PILOT if request.GET.get("round") == Round.PILOT else Round.MAIN
    rows = queries.study_list(project, request.user, round=round, mode=settings.mode)
    counts = {status: sum(1 for r in rows if r.status == status)
              for status in StudyStatus.LABELS}
    status = request.GET.get("status", "")
    if status in StudyStatus.LABELS:
        rows = [r for r in rows if r.status == status]
    if request.GET.get("mine"):
        rows = [r for r in rows if r.assigned_to_me]
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    membership = project.membership
    settle = {r.study.pk for r in page.object_list
              if r.status == StudyStatus.AWAITING_CONSENSUS and settings.mode == "dual"
              and services.can_settle(settings, membership, {p.pk for p in r.extractors})}
    return render(request, "extraction/studies.html", {
        "settle": settle,
        "project": project, "section": SECTION, "settings": settings, "round": round,
        "page": page, "counts": counts, "labels": StudyStatus.LABELS, "status": status,
        "mine": bool(request.GET.get("mine")), "query": query.urlencode(),
        "main_open": services.main_round_open(project, settings),
        "is_lead": project.membership.has_role(Role.LEAD),
        "can_extract": project.membership.has_role(Role.REVIEWER),
    })


@login_required
@require_GET
def study(request, slug, study_id):
    """A study: its reports, who extracts it, its status, and its data once settled."""
    project = get_project_for_user(request, slug)
    study = _study(project, study_id)
    settings = services.settings_for(project)
    found = queries.round_extractions(project, Round.MAIN, [study.pk]).get(study.pk, [])
    status = queries.status_of(found, mode=settings.mode, round=Round.MAIN)
    pair = queries.consensus_pair(study)
    data = None
    if status == StudyStatus.COMPLETE:
        settled = (queries.consensus_of(study) if settings.mode == "dual"
                   else next((e for e in found if e.status == "complete"), None))
        data = _shown_answers(project, settled) if settled else None
    membership = project.membership
    return render(request, "extraction/study.html", {
        "project": project, "section": SECTION, "study": study, "settings": settings,
        "included": _included(project, study) is not None,
        "reports": _reports(project, study), "status": status,
        "status_label": StudyStatus.LABELS[status], "data": data,
        "assignments": queries.round_assignments(project, Round.MAIN, [study.pk]).get(
            study.pk, []),
        "pilot": queries.round_assignments(project, Round.PILOT, [study.pk]).get(study.pk, []),
        "mine": next((e for e in found if e.reviewer_id == request.user.pk
                      and e.role == Extraction.Role.EXTRACTOR), None),
        "can_settle": status in (StudyStatus.AWAITING_CONSENSUS, StudyStatus.COMPLETE)
        and settings.mode == "dual" and len(pair) == 2
        and services.can_settle(settings, membership, {e.reviewer_id for e in pair}),
        "is_lead": membership.has_role(Role.LEAD), "extractors": _extractors(project),
    })


def _shown_answers(project, extraction: Extraction) -> list[dict]:
    """The settled answers of a study, field by field in form order, as people read them."""
    form = services.form_of(project)
    answers = {a.field_id: a for a in extraction.answers.all()}
    shown = []
    for fld in queries.live_fields(form):
        a = answers.get(fld.pk)
        shown.append({"field": fld, "answer": a,
                      "text": values.display_value(fld, a.value, a.other) if a else ""})
    return shown


# --- the extraction screen -------------------------------------------------------------------


def _posted(fld, data) -> services.AnswerInput:
    """One field's inputs as the screen posts them (names: see extraction.widgets)."""
    name = widgets.name_of(fld)
    return services.AnswerInput(raw=widgets.read_raw(fld, data),
                                other=data.get(f"{name}-other", ""),
                                quote=data.get(f"{name}-quote", ""),
                                page=data.get(f"{name}-page", ""))


def _screen(request, project, study, round, *, posted=None, errors=None, status=200):
    """The extraction screen: the study's reports beside the reviewer's own extraction."""
    settings = services.settings_for(project)
    form = services.form_of(project)
    mine = Extraction.objects.filter(study=study, round=round, reviewer=request.user,
                                     role=Extraction.Role.EXTRACTOR).first()
    assigned = Assignment.objects.filter(study=study, round=round,
                                         reviewer=request.user).exists()
    if not assigned and mine is None:
        raise PermissionDenied("This study is not assigned to you.")
    try:
        services.check_can_extract(project, study, round=round, reviewer=request.user,
                                   settings=settings)
        closed = ""
    except services.ExtractionError as exc:
        closed = str(exc)
    answers = {a.field_id: a for a in mine.answers.all()} if mine else {}
    errors = errors or {}
    sections = []
    for section, fields in (widgets.live_outline(form) if form else []):
        shown = []
        for fld in fields:
            if posted is not None:
                w = widgets.widget_for_posted(fld, widgets.read_answer(fld, posted))
            else:
                a = answers.get(fld.pk)
                w = widgets.widget(fld, a.value if a else None, other=a.other if a else "",
                                   quote=a.quote if a else "", page=a.page if a else "")
            w.error = errors.get(fld.key, w.error if posted is not None else "")
            shown.append(w)
        sections.append((section, shown))
    complete = mine is not None and mine.status == Extraction.Status.COMPLETE
    return render(request, "extraction/extract.html", {
        "project": project, "section": SECTION, "study": study, "round": round,
        "form": form, "sections": sections, "extraction": mine, "complete": complete,
        "editable": not closed and not complete and form is not None, "closed": closed,
        "reports": _reports(project, study), "errors": errors,
        "consensus_started": Extraction.objects.filter(
            study=study, round=round, role=Extraction.Role.CONSENSUS).exists(),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def extract(request, slug, round, study_id):
    """GET: the screen. POST (no JavaScript, or the explicit Save): save every field as a
    draft, and with action=complete mark the extraction complete. Errors come back at the
    fields, with everything as typed."""
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    round = _round(round)
    study = _study(project, study_id)
    if request.method == "GET":
        return _screen(request, project, study, round)
    form = services.form_of(project)
    fields = queries.live_fields(form) if form else []
    inputs = {fld.key: _posted(fld, request.POST) for fld in fields}
    completing = request.POST.get("action") == "complete"
    try:
        _extraction, errors = services.save_answers(project, study, round=round,
                                                    reviewer=request.user, inputs=inputs)
        if completing and not errors:
            services.complete_extraction(project, study, round=round, reviewer=request.user)
    except services.Invalid as exc:
        messages.error(request, "Your answers are saved as a draft. " + str(exc))
        return _screen(request, project, study, round, posted=request.POST, errors=exc.errors)
    except services.ExtractionError as exc:
        messages.error(request, str(exc))
        return redirect("extraction:extract", slug=slug, round=round, study_id=study.pk)
    if errors:
        messages.error(request, "The other answers are saved. " + str(services.Invalid(errors)))
        return _screen(request, project, study, round, posted=request.POST, errors=errors)
    if completing:
        messages.success(request, "Extraction complete.")
        return redirect("extraction:study", slug=slug, study_id=study.pk)
    messages.success(request, "Draft saved.")
    return redirect("extraction:extract", slug=slug, round=round, study_id=study.pk)


@login_required
@require_POST
def autosave(request, slug, round, study_id):
    """htmx: save the one field named by `field` (the screen posts the whole form; only that
    field's inputs are read) and answer with its save status, never its inputs: what the
    reviewer types meanwhile stays in the page."""
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    round = _round(round)
    study = _study(project, study_id)
    key = request.POST.get("field", "")
    form = services.form_of(project)
    fld = next((f for f in (queries.live_fields(form) if form else []) if f.key == key), None)
    error = ("This field is no longer on the form: reload the page." if fld is None
             else _autosave(request, project, study, round, fld))
    return render(request, "extraction/extract.html#status", {
        "key": key, "error": error, "saved_at": timezone.localtime()})


def _autosave(request, project, study, round, fld) -> str:
    """Save one field; the message to show at it ("" when saved)."""
    key = fld.key
    try:
        _extraction, errors = services.save_answers(
            project, study, round=round, reviewer=request.user,
            inputs={key: _posted(fld, request.POST)})
        return errors.get(key, "")
    except services.ExtractionError as exc:
        return str(exc)


@login_required
@require_POST
def reopen(request, slug, round, study_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    round = _round(round)
    study = _study(project, study_id)
    try:
        services.reopen_extraction(project, study, round=round, reviewer=request.user)
    except services.ExtractionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your extraction is a draft again.")
    return redirect("extraction:extract", slug=slug, round=round, study_id=study.pk)


# --- consensus -------------------------------------------------------------------------------


def _side(fld, answer) -> dict:
    """One extractor's answer as the consensus page shows it."""
    if answer is None:
        return {"text": "", "quote": "", "page": "", "rows": []}
    rows = []
    if fld.type == "table" and isinstance(answer.value, list):
        columns = values.table_columns(fld)
        rows = [[values.display_value(c, row.get(c.key)) for c in columns]
                for row in answer.value]
    return {"text": values.display_value(fld, answer.value, answer.other),
            "quote": answer.quote, "page": answer.page, "rows": rows}


def _table_rows(fld, first, second) -> list[dict]:
    """A repeating table compared row by row: row n of each side, each cell as (text,
    whether it differs from the other side's cell)."""
    columns = values.table_columns(fld)
    a = first["rows"] if first else []
    b = second["rows"] if second else []
    out = []
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else None
        right = b[i] if i < len(b) else None
        differs = [left is None or right is None or left[j] != right[j]
                   for j in range(len(columns))]
        out.append({"number": i + 1,
                    "first": list(zip(left, differs, strict=True)) if left else None,
                    "second": list(zip(right, differs, strict=True)) if right else None})
    return out


def _comparison(project, study, first, second, consensus, *, posted=None, errors=None):
    """Field by field: both sides, whether they agree, and the decision so far (the
    consensus answer, else "agreed" where identical)."""
    form = services.form_of(project)
    sides = {e.pk: {a.field_id: a for a in e.answers.all()} for e in (first, second)}
    settled = {a.field_id: a for a in consensus.answers.all()} if consensus else {}
    errors = errors or {}
    items = []
    for fld in queries.live_fields(form):
        a, b = sides[first.pk].get(fld.pk), sides[second.pk].get(fld.pk)
        same = queries.comparable(fld, a) == queries.comparable(fld, b)
        mine = settled.get(fld.pk)
        take = (posted.get(f"take-{fld.key}", "") if posted is not None
                else (mine.source if mine and mine.source else "") or ("agreed" if same else ""))
        if posted is not None:
            edit = widgets.widget_for_posted(fld, widgets.read_answer(fld, posted))
            note = posted.get(f"note-{fld.key}", "")
        else:
            start = mine or a or b
            edit = widgets.widget(fld, start.value if start else None,
                                  other=start.other if start else "",
                                  quote=start.quote if start else "",
                                  page=start.page if start else "")
            note = mine.note if mine else ""
        error = errors.get(fld.key, "")
        edit.error = error if take == Take.EDITED else ""
        left, right = _side(fld, a), _side(fld, b)
        items.append({"field": fld, "same": same, "first": left, "second": right,
                      "sides": [left, right],
                      "rows": _table_rows(fld, left, right) if fld.type == "table" else [],
                      "take": take, "edit": edit, "note": note, "error": error,
                      "empty": same and a is None and b is None})
    return items


@login_required
@require_http_methods(["GET", "POST"])
def consensus(request, slug, study_id):
    """Both extractions side by side, field by field (tables row by row): identical answers
    pre-filled, differences highlighted with both answers and their quotes; the consensus
    maker takes a side, edits or writes a value, with a note. 404 until both extractions are
    complete (nobody reads one early), 403 to anyone who may not settle."""
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    study = _study(project, study_id)
    settings = services.settings_for(project)
    pair = queries.consensus_pair(study)
    if settings.mode != "dual" or len(pair) < 2:
        raise Http404("This study is not awaiting consensus.")
    first, second = pair
    if not services.can_settle(settings, project.membership,
                               {first.reviewer_id, second.reviewer_id}):
        raise PermissionDenied("You may not settle this study's consensus.")
    current = queries.consensus_of(study)
    posted = errors = None
    if request.method == "POST":
        form = services.form_of(project)
        decisions = {}
        for fld in queries.live_fields(form):
            take = request.POST.get(f"take-{fld.key}", "")
            if not take:
                continue
            given = _posted(fld, request.POST)
            decisions[fld.key] = Decision(take=take, raw=given.raw, other=given.other,
                                          quote=given.quote, page=given.page,
                                          note=request.POST.get(f"note-{fld.key}", ""))
        completing = request.POST.get("action") == "complete"
        try:
            services.save_consensus(project, study, membership=project.membership,
                                    decisions=decisions, base=request.POST.get("base", ""),
                                    complete=completing)
        except services.Invalid as exc:
            messages.error(request, "Nothing was saved. " + str(exc))
            posted, errors = request.POST, exc.errors
        except services.ExtractionError as exc:
            messages.error(request, str(exc))
            return redirect("extraction:consensus", slug=slug, study_id=study.pk)
        else:
            if completing:
                messages.success(request, "Consensus complete: these are the study's data.")
                return redirect("extraction:study", slug=slug, study_id=study.pk)
            messages.success(request, "Decisions saved.")
            return redirect("extraction:consensus", slug=slug, study_id=study.pk)
    items = _comparison(project, study, first, second, current, posted=posted, errors=errors)
    return render(request, "extraction/consensus.html", {
        "project": project, "section": SECTION, "study": study, "first": first,
        "second": second, "consensus": current, "items": items,
        "differences": sum(1 for i in items if not i["same"]),
        "base": request.POST.get("base", "") if posted is not None
        else services.revision(current),
        "reports": _reports(project, study),
        "complete": current is not None and current.status == Extraction.Status.COMPLETE,
        "is_lead": project.membership.has_role(Role.LEAD), "takes": Take,
    }, status=200)


@login_required
@require_POST
def consensus_reopen(request, slug, study_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    study = _study(project, study_id)
    try:
        services.reopen_consensus(project, study, membership=project.membership)
    except services.ExtractionError as exc:
        messages.error(request, str(exc))
        return redirect("extraction:study", slug=slug, study_id=study.pk)
    messages.success(request, "The study is awaiting consensus again.")
    return redirect("extraction:consensus", slug=slug, study_id=study.pk)


# --- the lead's pages ------------------------------------------------------------------------


def _users(project, ids) -> list:
    """The members with these ids (as posted), in the order posted; unknown ids dropped."""
    wanted = [int(i) for i in ids if str(i).isdigit()]
    found = {m.user_id: m.user for m in Membership.objects.filter(
        project=project, user_id__in=wanted).select_related("user")}
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


@login_required
@require_http_methods(["GET", "POST"])
def assignments(request, slug):
    """Who extracts which study: automatically with balanced load, a pair for the next
    studies, or per study."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "auto":
                made = services.assign_automatically(
                    project, reviewers=_users(project, request.POST.getlist("reviewers")),
                    user=request.user)
                messages.success(request, f"{made} assignment{'s' * (made != 1)} made."
                                 if made else "Every study has its extractors already.")
            elif action == "pair":
                count = request.POST.get("count", "")
                done = services.assign_pair(
                    project, reviewers=_users(project, request.POST.getlist("reviewers")),
                    count=int(count) if count.isdigit() else 0, user=request.user)
                messages.success(request, f"{done} stud{'ies' if done != 1 else 'y'} "
                                 "assigned." if done else "No study is left without "
                                 "extractors.")
            elif action == "study":
                raw = request.POST.get("study", "")
                study = _study(project, int(raw) if raw.isdigit() else 0)
                services.assign_study(
                    project, study, reviewers=_users(project, request.POST.getlist("reviewers")),
                    user=request.user)
                messages.success(request, f"Extractors of study {study.pk} saved.")
            else:
                messages.error(request, "Choose what to do.")
        except services.ExtractionError as exc:
            messages.error(request, str(exc))
        return redirect(_safe_next(request, slug))
    settings = services.settings_for(project)
    rows = queries.study_list(project, request.user, mode=settings.mode)
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    people = _extractors(project)
    load = {a: 0 for a in (p.pk for p in people)}
    for row in rows:
        for person in row.extractors:
            load[person.pk] = load.get(person.pk, 0) + 1
    return render(request, "extraction/assignments.html", {
        "project": project, "section": SECTION, "settings": settings, "page": page,
        "people": [(p, load.get(p.pk, 0)) for p in people],
        "reviewer_ids": set(Membership.objects.filter(project=project, role=Role.REVIEWER)
                            .values_list("user_id", flat=True)),
        "need": services.extractors_needed(settings),
        "unassigned": sum(1 for r in rows if not r.extractors),
    })


def _safe_next(request, slug) -> str:
    """Back to the page the form was on, when it is one of this project's pages."""
    target = request.POST.get("next", "")
    if target.startswith(f"/p/{slug}/") and "//" not in target:
        return target
    return reverse("extraction:assignments", args=[slug])


@login_required
@require_http_methods(["GET", "POST"])
def extraction_settings(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    settings = services.settings_for(project)
    form = ExtractionSettingsForm(request.POST or None, instance=settings, project=project)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_settings(project, user=request.user, mode=data["mode"],
                                     consensus_by=data["consensus_by"],
                                     third_reviewer=data["third_reviewer"],
                                     pilot_threshold=data["pilot_threshold"])
        except services.ExtractionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Extraction settings saved.")
            return redirect("extraction:studies", slug=slug)
    return render(request, "extraction/settings.html", {
        "project": project, "section": SECTION, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def pilot(request, slug):
    """The pilot round: pick its studies (three by default) and two reviewers; then follow it
    and read its agreement report, per field; start the main round from here."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    settings = services.settings_for(project)
    if request.method == "POST":
        ids = {int(i) for i in request.POST.getlist("studies") if i.isdigit()}
        try:
            services.start_pilot(
                project, studies=list(Study.objects.filter(project=project, pk__in=ids)
                                      .order_by("id")),
                reviewers=_users(project, request.POST.getlist("reviewers")),
                user=request.user)
        except services.ExtractionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The pilot has {len(ids)} stud"
                             f"{'ies' if len(ids) != 1 else 'y'}.")
        return redirect("extraction:pilot", slug=slug)
    report = queries.pilot_report(project)
    progress = queries.study_list(project, request.user, round=Round.PILOT,
                                  mode=settings.mode) if report.started else []
    return render(request, "extraction/pilot.html", {
        "project": project, "section": SECTION, "settings": settings, "report": report,
        "rows": _report_rows(report), "progress": progress,
        "candidates": list(queries.studies_to_extract(project)[:200]),
        "default_n": services.PILOT_STUDIES, "people": _extractors(project),
        "can_pick": not settings.main_round_started and not Extraction.objects.filter(
            project=project).exists(),
        "below": {f.key for f in services.agreement.below(report.fields,
                                                          settings.pilot_threshold)}
        if settings.pilot_threshold is not None else set(),
    })


def _report_rows(report) -> list[dict]:
    """Each field's figures with its differing answers as people read them, side by side."""
    if not report.fields:
        return []
    a, b = report.reviewers
    rows = []
    for figures, fld in zip(report.fields, report.form_fields, strict=True):
        differing = []
        for study_id, _x, _y in figures.differing:
            sides = []
            for who in (a, b):
                answer = report.answers.get((study_id, who.pk, fld.pk))
                sides.append({"text": values.display_value(fld, answer.value, answer.other)
                              if answer else "", "quote": answer.quote if answer else ""})
            differing.append({"study": study_id, "first": sides[0], "second": sides[1]})
        rows.append({"figures": figures, "field": fld, "differing": differing})
    return rows


@login_required
@require_POST
def start_main(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    try:
        carried = services.start_main_round(project, user=request.user,
                                            carry=bool(request.POST.get("carry")))
    except services.ExtractionError as exc:
        messages.error(request, str(exc))
        return redirect("extraction:pilot", slug=slug)
    messages.success(request, "The main round has started." + (
        f" {carried} pilot extraction{'s' * (carried != 1)} carried into it as drafts."
        if carried else ""))
    return redirect("extraction:studies", slug=slug)
