from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import csvsafe
from projects.access import get_project_for_user
from projects.models import Membership, Role
from projects.paging import keyset_page
from projects.queries import team
from references.models import Record

from . import agreement, queries, services
from .forms import ExclusionReasonForm, FullTextForm, StageSettingsForm
from .highlight import highlight, terms
from .models import Assignment, FullText, Screening, Stage, Vote

URL_OF_STAGE = {Stage.TITLE_ABSTRACT: "screening:title_abstract",
                Stage.FULL_TEXT: "screening:full_text"}
SECTION_OF_STAGE = {Stage.TITLE_ABSTRACT: "screening", Stage.FULL_TEXT: "fulltext"}


def stage_or_404(stage: str) -> str:
    """The stage named in a URL, or 404 (the ranking app's views use it too)."""
    if stage not in Stage.values:
        raise Http404("No such stage.")
    return stage


@login_required
@require_GET
def stage_home(request, slug, stage):
    project = get_project_for_user(request, slug)
    stage = stage_or_404(stage)
    membership = project.membership
    settings = services.settings_for(project, stage)
    mine = Vote.objects.filter(screening__project=project, screening__stage=stage,
                               reviewer=request.user).count()
    pairs = queries.pair_agreements(project, stage)
    members = list(team(project))
    names = {m.user_id: str(m.user) for m in members}
    return render(request, "screening/stage.html", {
        "project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
        "stage_label": Stage(stage).label, "counts": queries.stage_counts(project, stage),
        "exclusion_counts": queries.exclusion_counts(project, stage)
        if stage == Stage.FULL_TEXT else [],
        "mine": mine,
        "my_next": queries.next_record(project, stage, request.user, settings=settings)
        if membership.has_role(Role.REVIEWER) else None,
        "pairs": [(names.get(p.reviewer_a, p.reviewer_a), names.get(p.reviewer_b, p.reviewer_b),
                   p) for p in pairs],
        "settings": settings,
        "is_lead": membership.has_role(Role.LEAD),
        "screeners": [m for m in members if m.has_role(Role.REVIEWER)],
        "assigned": dict(Assignment.objects.filter(project=project, stage=stage).values_list(
            "reviewer__username").annotate(n=Count("id"))),
        "can_screen": membership.has_role(Role.REVIEWER),
    })


def _panel(settings, record: Record | None) -> dict | None:
    """A record as the screen shows it: highlighted title and abstract, its full text."""
    if record is None:
        return None
    include, exclude = terms(settings.include_terms), terms(settings.exclude_terms)
    return {"record": record, "title": highlight(record.title, include, exclude),
            "abstract": highlight(record.abstract, include, exclude),
            "full_text": FullText.objects.filter(record=record).first()
            if settings.stage == Stage.FULL_TEXT else None}


def _screen(request, project, stage: str, settings, *, current: Record | None = None,
            last: int | None = None):
    """The screen, or for htmx its record panel: `current`, else the reviewer's next record.
    The panel then fetches the one after it (`ahead`) while the reviewer reads."""
    chosen = current is not None
    if current is None:
        current = services.claim_next(project, stage, request.user, settings=settings)
    context = {"project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
               "stage_label": Stage(stage).label, "settings": settings, "last": last,
               "record": current, "panel": _panel(settings, current),
               # Lazy: read only by the full-text screen's reason select.
               "reasons": queries.exclusion_reasons(project, stage),
               "mine": Vote.objects.filter(screening__project=project, screening__stage=stage,
                                           reviewer=request.user).count()}
    if chosen and current is not None:  # opened from a list: my vote on it, to change or undo
        context["my_vote"] = Vote.objects.filter(screening__record=current,
                                                 screening__stage=stage,
                                                 reviewer=request.user).first()
        if context["my_vote"] is not None:
            context["last"] = current.pk
    if request.htmx:
        return render(request, "screening/screen.html#record", context)
    return render(request, "screening/screen.html", context)


@login_required
@require_GET
def score(request, slug, stage, record_id):
    """A record's place in the served order, for a lead who asks (never shown to reviewers:
    a score could sway their vote)."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    record = get_object_or_404(Record, pk=record_id, project=project)
    return render(request, "screening/score.html", {
        "project": project, "stage": stage, "record": record,
        "settings": services.settings_for(project, stage),
        "score": queries.score_of(project, stage, record.pk)})


@login_required
@require_GET
def ahead(request, slug, stage):
    """The record after the one on the screen (`?current=`), claimed and rendered into a
    <template> that the screen shows the moment a vote is sent."""
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    current = request.GET.get("current", "")
    settings = services.settings_for(project, stage)
    record = services.claim_next(project, stage, request.user, settings=settings,
                                 exclude=[int(current)] if current.isdigit() else [])
    return render(request, "screening/screen.html#ahead", {
        "project": project, "stage": stage, "ahead": _panel(settings, record)})


def _after_action(request, project, stage: str, settings, current: Record | None = None,
                  last: int | None = None):
    """After a vote or an undo: htmx gets the record panel to show next, a plain form post
    goes back to the screen."""
    if request.htmx:
        return _screen(request, project, stage, settings, current=current, last=last)
    return redirect("screening:screen", slug=project.slug, stage=stage)


@login_required
@require_GET
def screen(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    chosen = request.GET.get("record", "")
    record = get_object_or_404(queries.eligible(project, stage), pk=int(chosen)) \
        if chosen.isdigit() else None
    return _screen(request, project, stage, services.settings_for(project, stage),
                   current=record)


@login_required
@require_GET
def progress(request, slug, stage):
    """The team's progress on the screen (polled: it counts the whole stage)."""
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    return render(request, "screening/screen.html#team",
                  {"counts": queries.stage_counts(project, stage)})


@login_required
@require_POST
def vote(request, slug, stage, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    # Only what a vote needs (not the abstract), and the project already loaded.
    record = get_object_or_404(Record.objects.only("id", "project_id", "duplicate_of_id"),
                               pk=record_id, project=project)
    record.project = project
    settings = services.settings_for(project, stage)
    try:
        services.record_vote(record, stage=stage, reviewer=request.user,
                             decision=request.POST.get("decision", ""),
                             reason=request.POST.get("reason", ""),
                             note=request.POST.get("note", "").strip(), settings=settings)
    except services.ScreeningError as exc:
        # E.g. the others' votes came first: say so and move on, not back to that record.
        messages.error(request, str(exc))
        last = None
    else:
        last = record.pk
    return _after_action(request, project, stage, settings, last=last)


@login_required
@require_POST
def undo(request, slug, stage, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    record = get_object_or_404(Record, pk=record_id, project=project)
    record.project = project
    settings = services.settings_for(project, stage)
    try:
        services.undo_vote(record, stage=stage, reviewer=request.user, settings=settings)
    except services.ScreeningError as exc:
        messages.error(request, str(exc))
        record = None
    return _after_action(request, project, stage, settings, current=record)


@login_required
@require_GET
def record_list(request, slug, stage):
    project = get_project_for_user(request, slug)
    stage = stage_or_404(stage)
    state = request.GET.get("state", "")
    state = state if state in queries.FILTERS else ""
    reviewer = request.GET.get("reviewer", "")
    members = team(project)
    reviewer_id = int(reviewer) if reviewer.isdigit() and any(
        m.user_id == int(reviewer) for m in members) else None
    records = queries.stage_records(project, stage, request.user, state=state,
                                    reviewer_id=reviewer_id, text=request.GET.get("q", ""))
    page = keyset_page(request, records, 50)
    return render(request, "screening/records.html", {
        "project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
        "stage_label": Stage(stage).label, "page": page, "filters": queries.FILTERS,
        "state": state, "members": members, "reviewer_id": reviewer_id,
        "q": request.GET.get("q", ""), "query": page.query,
        "can_resolve": project.membership.has_role(Role.LEAD),
        "can_screen": project.membership.has_role(Role.REVIEWER),
    })


@login_required
@require_POST
def assign(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    ids = {int(i) for i in request.POST.getlist("reviewers") if i.isdigit()}
    reviewers = [m.user for m in Membership.objects.filter(
        project=project, user_id__in=ids, role__in=[Role.REVIEWER, Role.LEAD]
    ).select_related("user").order_by("user__username")]
    count = request.POST.get("count", "")
    try:
        if not count.isdigit() or not 1 <= int(count) <= 10000:
            raise services.ScreeningError("Give a number of records from 1 to 10,000.")
        done = services.assign_batch(project, stage=stage, reviewers=reviewers,
                                     count=int(count), user=request.user)
    except services.ScreeningError as exc:
        messages.error(request, str(exc))
    else:
        names = ", ".join(str(r) for r in reviewers)
        messages.success(request, f"{done} records assigned to {names}." if done else
                         "No unassigned records are left without votes.")
    return redirect(URL_OF_STAGE[stage], slug=slug)


@login_required
@require_GET
def conflicts(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    items = Screening.objects.filter(project=project, stage=stage,
                                     state=Screening.State.CONFLICT,
                                     record__duplicate_of__isnull=True).select_related(
        "record").order_by("record_id")[:500]
    return render(request, "screening/conflicts.html", {
        "project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
        "stage_label": Stage(stage).label, "items": items,
    })


@login_required
@require_http_methods(["GET", "POST"])
def resolve(request, slug, stage, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    stage = stage_or_404(stage)
    screening = get_object_or_404(Screening.objects.select_related("record", "reason"),
                                  project=project, stage=stage, record_id=record_id)
    if screening.state == Screening.State.PENDING:
        # Votes of a record still waiting for votes are never shown to anyone but the voter.
        raise Http404("Nothing to resolve here.")
    settings = services.settings_for(project, stage)
    if not services.can_resolve(screening, project.membership, settings):
        raise PermissionDenied("You may not resolve conflicts at this stage.")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reopen":
                services.reopen(screening, membership=project.membership)
                messages.success(request, f"Record #{record_id} is open again.")
                return redirect("screening:resolve", slug=slug, stage=stage,
                                record_id=record_id)
            services.resolve(screening, membership=project.membership,
                             decision=request.POST.get("decision", ""),
                             reason=request.POST.get("reason", ""),
                             note=request.POST.get("note", "").strip())
        except services.ScreeningError as exc:
            messages.error(request, str(exc))
            return redirect("screening:resolve", slug=slug, stage=stage, record_id=record_id)
        messages.success(request, f"Record #{record_id} is settled.")
        return redirect("screening:conflicts", slug=slug, stage=stage)
    return render(request, "screening/resolve.html", {
        "project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
        "stage_label": Stage(stage).label, "screening": screening, "record": screening.record,
        "votes": screening.votes.select_related("reviewer", "reason").order_by("created_at"),
        "reasons": queries.exclusion_reasons(project, stage),
        "settings": settings, "is_lead": project.membership.has_role(Role.LEAD),
        "abstract": highlight(screening.record.abstract, terms(settings.include_terms),
                              terms(settings.exclude_terms)),
    })


def _reevaluated(outcome: dict[str, int]) -> str:
    """What lowering "reviewers needed" did to records that had enough votes already."""
    if not outcome:
        return ""
    settled = outcome.get(Screening.State.INCLUDED, 0) + outcome.get(Screening.State.EXCLUDED, 0)
    return (f" Records that had all the votes now needed: {settled} settled, "
            f"{outcome.get(Screening.State.CONFLICT, 0)} in conflict.")


@login_required
@require_http_methods(["GET", "POST"])
def stage_settings(request, slug, stage):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    settings = services.settings_for(project, stage)
    form = StageSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in StageSettingsForm.Meta.fields}
        outcome = services.update_settings(form.instance, user=request.user, **changes)
        messages.success(request, "Screening settings saved." + _reevaluated(outcome))
        return redirect(URL_OF_STAGE[stage], slug=slug)
    excluded = {reason.pk: n for reason, n in queries.exclusion_counts(project, stage)}
    return render(request, "screening/settings.html", {
        "project": project, "section": SECTION_OF_STAGE[stage], "stage": stage,
        "stage_label": Stage(stage).label, "form": form,
        "reasons": [(reason, excluded.get(reason.pk, 0)) for reason in
                    queries.exclusion_reasons(project, stage, active_only=False)],
    })


@login_required
@require_POST
def stage_reason(request, slug, stage):
    """Add, rename, retire or offer again one of the stage's exclusion reasons."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    stage = stage_or_404(stage)
    form = ExclusionReasonForm(request.POST, reasons=queries.exclusion_reasons(
        project, stage, active_only=False))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("screening:settings", slug=slug, stage=stage)
    action, reason, label = (form.cleaned_data[k] for k in ("action", "reason", "label"))
    try:
        if action == "add":
            services.add_reason(project, stage, label=label, user=request.user)
        elif action == "rename":
            services.rename_reason(reason, label=label, user=request.user)
        else:
            services.set_reason_active(reason, active=action == "restore", user=request.user)
    except services.ScreeningError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Exclusion reasons saved.")
    return redirect("screening:settings", slug=slug, stage=stage)


@login_required
@require_GET
def agreement_csv(request, slug, stage):
    project = get_project_for_user(request, slug)
    stage = stage_or_404(stage)
    names = {m.user_id: str(m.user) for m in team(project)}
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-{stage}-agreement.csv"'
    writer = csvsafe.writer(response)
    for row in agreement.csv_rows(queries.pair_agreements(project, stage), names):
        writer.writerow(row)
    return response




@login_required
@require_http_methods(["GET", "POST"])
def full_text(request, slug, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    record = get_object_or_404(Record, pk=record_id, project=project)
    current = FullText.objects.filter(record=record).first()
    not_retrieved = Screening.objects.filter(
        record=record, stage=Stage.FULL_TEXT, state=Screening.State.NOT_RETRIEVED).exists()
    form = FullTextForm(request.POST or None, request.FILES or None, initial={
        "url": current.url if current else "", "note": current.note if current else "",
        "not_retrieved": not_retrieved})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_full_text(record, user=request.user, pdf=form.cleaned_data["pdf"],
                                   url=form.cleaned_data["url"],
                                   not_retrieved=form.cleaned_data["not_retrieved"],
                                   note=form.cleaned_data["note"])
        except services.ScreeningError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Full text of record #{record.pk} saved.")
            return redirect("screening:full_text", slug=slug)
    return render(request, "screening/full_text.html", {
        "project": project, "section": "fulltext", "record": record, "form": form,
        "current": current, "not_retrieved": not_retrieved,
    })


@login_required
@require_GET
@xframe_options_sameorigin
def full_text_pdf(request, slug, record_id):
    """The PDF, to members only, shown inline (the screen embeds it beside the votes)."""
    project = get_project_for_user(request, slug)
    full_text = get_object_or_404(FullText, record_id=record_id, project=project)
    if not full_text.pdf:
        raise Http404("No PDF for this record.")
    return FileResponse(full_text.pdf.open("rb"), content_type="application/pdf",
                        filename=full_text.pdf.name.rsplit("/", 1)[-1])


@login_required
@require_http_methods(["GET", "POST"])
def full_text_bulk(request, slug):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    matched = unmatched = None
    if request.method == "POST":
        files = request.FILES.getlist("pdfs")
        if not files:
            messages.error(request, "Choose one or more PDF files.")
        else:
            matched, unmatched = services.attach_pdfs(project, files, user=request.user)
    return render(request, "screening/full_text_bulk.html", {
        "project": project, "section": "fulltext", "matched": matched, "unmatched": unmatched,
    })
