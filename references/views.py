import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import csvsafe
from projects.access import get_project_for_user
from projects.models import Role
from projects.paging import keyset_page
from projects.queries import audit_events

from . import deduplication, diff, exports, holds, jobs, parsers, queries, services
from .forms import ImportForm, LinkStudyForm, MappingForm, RecordFilterForm, SourceForm
from .models import DuplicateCandidate, DuplicateDecisionBatch, Record, Source
from .parsers.base import TABLE_FORMATS, ImportFileError

PAGE_SIZE = 50
QUEUE_SHOWN = 200  # pairs listed one by one on the queue (every pair is in a group)
DECIDED_SHOWN = 20  # latest decisions and group decisions on the queue
SESSION_KEY = "pending_imports"
SAMPLE_CHARS = 200  # of a cell shown on the mapping page (which shows 80)


@login_required
@require_GET
def reference_list(request, slug):
    project = get_project_for_user(request, slug)
    form = RecordFilterForm(request.GET or None, project=project)
    records = queries.with_dedup_status(
        Record.objects.filter(project=project).select_related("source"))
    if form.is_valid():
        data = form.cleaned_data
        records = queries.search(records, data["q"])
        if data["source"]:
            records = records.filter(source=data["source"])
        records = queries.filter_by_status(records, data["status"])
    page = keyset_page(request, records, PAGE_SIZE)
    for record in page.items:
        record.dedup_status = queries.dedup_status(record)
    sources = list(queries.sources_with_counts(project))
    return render(request, "references/list.html", {
        "project": project, "section": "references", "form": form,
        "sources": sources, "counts": queries.counts(project, sources),
        "records": page.items, "first": page.first, "last": page.last,
        "more_before": page.more_before, "more_after": page.more_after,
        "query": page.query,
        "can_write": project.membership.has_role(Role.REVIEWER),
        "is_lead": project.membership.has_role(Role.LEAD),
    })


def _table_preview(data: bytes, filename: str, file_format: str) -> dict:
    """The header and first rows of an uploaded table, read once and kept with the pending
    import: the mapping page shows them from the session, and only the import job parses
    the whole file. Long cells are cut, as the page cuts them, to keep the session small."""
    columns, sample = parsers.preview_table(data, filename=filename, format=file_format)
    return {"columns": columns, "sample": [[cell[:SAMPLE_CHARS] for cell in row]
                                           for row in sample]}


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request, slug):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(64 * 1024)  # the start of a text format tells what it is
        if data.startswith(b"PK"):  # a zip (xlsx) is told by its directory, at the end
            data += upload.read()
        upload.seek(0)
        file_format = form.cleaned_data["file_format"]
        try:
            detected = parsers.detect_format(data, upload.name)
            file_format = detected if file_format == "auto" else file_format
            preview = None
            if file_format in TABLE_FORMATS:
                preview = _table_preview(upload.read(), upload.name, file_format)
                upload.seek(0)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            pending = {
                "upload": services.save_upload(project, upload), "filename": upload.name,
                "source_name": form.cleaned_data["name"], "source_kind": form.cleaned_data["kind"],
                "source_method": form.cleaned_data["method"],
                "starts_at_full_text": form.cleaned_data["starts_at_full_text"],
                "date_searched": form.cleaned_data["date_searched"],
                "search_strategy": form.cleaned_data["search_strategy"],
                "file_format": file_format,
            }
            if file_format in TABLE_FORMATS:
                token = uuid.uuid4().hex
                request.session.setdefault(SESSION_KEY, {})[token] = {
                    **pending, "date_searched": pending["date_searched"] and
                    pending["date_searched"].isoformat(), "preview": preview}
                request.session.modified = True
                return redirect("references:import_mapping", slug=slug, token=token)
            job = jobs.start_import(project, user=request.user, **pending)
            return redirect("projects:job", slug=slug, job_id=job.pk)
    return render(request, "references/import.html",
                  {"project": project, "section": "references", "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, slug, token):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    pending = request.session.get(SESSION_KEY, {}).get(token)
    if pending is None:
        raise Http404("This import is no longer waiting: upload the file again.")
    preview = pending.get("preview")
    if preview is None:  # waiting since before previews were kept: read it this once
        try:
            preview = _table_preview(services.read_upload(pending["upload"]),
                                     pending["filename"], pending["file_format"])
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("references:import", slug=slug)
        pending["preview"] = preview
        request.session.modified = True
    columns = preview["columns"]
    form = MappingForm(request.POST or None, columns=columns,
                       initial_mapping=parsers.guess_mapping(columns))
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_KEY].pop(token)
        request.session.modified = True
        pending.pop("preview")
        job = jobs.start_import(project, user=request.user, mapping=form.mapping(), **{
            **pending, "date_searched": parse_date(pending["date_searched"] or "")})
        return redirect("projects:job", slug=slug, job_id=job.pk)
    return render(request, "references/mapping.html", {
        "project": project, "section": "references", "form": form, "columns": columns,
        "sample": preview["sample"], "pending": pending,
    })


@login_required
@require_http_methods(["GET", "POST"])
def source_edit(request, slug, source_id):
    project = get_project_for_user(request, slug,
                                   role=Role.REVIEWER if request.method == "POST" else Role.VIEWER)
    source = get_object_or_404(Source, pk=source_id, project=project)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        services.update_source(source, user=request.user, **form.cleaned_data)
        messages.success(request, f"Source “{form.cleaned_data['name']}” saved.")
        return redirect("references:list", slug=slug)
    return render(request, "references/source.html", {
        "project": project, "section": "references", "source": source, "form": form,
        "can_write": project.membership.has_role(Role.REVIEWER),
    })


@login_required
@require_GET
def record_detail(request, slug, record_id):
    project = get_project_for_user(request, slug)
    record = get_object_or_404(
        queries.with_dedup_status(Record.objects.select_related("source", "merged_by")),
        pk=record_id, project=project)
    record.dedup_status = queries.dedup_status(record)
    # Sealed events (unsettled votes) are listed to their own actor only.
    history = audit_events(project, user=request.user).filter(
        target_type=Record._meta.label, target_id=str(record.pk)
    ).select_related("actor")
    return render(request, "references/record.html", {
        "project": project, "section": "references", "record": record,
        "duplicates": record.duplicates.select_related("source").order_by("id"),
        "study_reports": Record.objects.filter(study_id=record.study_id).exclude(pk=record.pk)
        .select_related("source").order_by("id"),
        "history": history, "link_form": LinkStudyForm(),
        "can_write": project.membership.has_role(Role.REVIEWER),
        "is_lead": project.membership.has_role(Role.LEAD),
        "removal_reasons": services.REMOVAL_REASONS,
        "held": holds.describe(record.hold),
    })


@login_required
@require_POST
def record_unmerge(request, slug, record_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    record = get_object_or_404(Record, pk=record_id, project=project)
    try:
        deduplication.unmerge(record, user=request.user)
    except deduplication.DedupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Record #{record.pk} is no longer a duplicate; it will not "
                                  "be merged with that record again.")
    return redirect("references:record", slug=slug, record_id=record.pk)


@login_required
@require_POST
def record_remove(request, slug, record_id):
    """A lead takes a record out before screening, with PRISMA's reason."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    record = get_object_or_404(Record, pk=record_id, project=project)
    try:
        services.remove_before_screening(project, [record.pk],
                                         reason=request.POST.get("reason", ""),
                                         note=request.POST.get("note", "").strip(),
                                         user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Record #{record.pk} is removed before screening.")
    return redirect("references:record", slug=slug, record_id=record.pk)


@login_required
@require_POST
def record_restore(request, slug, record_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    record = get_object_or_404(Record, pk=record_id, project=project)
    services.restore_to_screening(project, [record.pk], user=request.user)
    messages.success(request, f"Record #{record.pk} is back in screening.")
    return redirect("references:record", slug=slug, record_id=record.pk)


@login_required
@require_POST
def record_link_study(request, slug, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    record = get_object_or_404(Record, pk=record_id, project=project)
    form = LinkStudyForm(request.POST)
    other = None
    if form.is_valid():
        other = Record.objects.filter(pk=form.cleaned_data["record"], project=project).first()
    if other is None:
        messages.error(request, "Enter the number of another record of this project.")
        return redirect("references:record", slug=slug, record_id=record.pk)
    try:
        services.link_to_study(record, study_of=other, user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Record #{record.pk} is now a report of the same study as "
                                  f"record #{other.pk}.")
    return redirect("references:record", slug=slug, record_id=record.pk)


@login_required
@require_POST
def record_unlink_study(request, slug, record_id):
    project = get_project_for_user(request, slug, role=Role.REVIEWER)
    record = get_object_or_404(Record, pk=record_id, project=project)
    try:
        services.unlink_from_study(record, user=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Record #{record.pk} is its own study again.")
    return redirect("references:record", slug=slug, record_id=record.pk)


@login_required
@require_GET
def duplicate_queue(request, slug):
    """The pending pairs, each saying why it is here, grouped by signature for group
    decisions; the latest decisions, to undo. A fixed number of queries."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    pairs = queries.explained_pending_pairs(project)
    return render(request, "references/duplicates.html", {
        "project": project, "section": "references", "pairs": pairs[:QUEUE_SHOWN],
        "total": len(pairs), "groups": diff.group_by_signature(pairs),
        "decided": DuplicateCandidate.objects.filter(project=project).exclude(
            status=DuplicateCandidate.Status.PENDING).select_related("decided_by")
        .order_by("-decided_at", "-id")[:DECIDED_SHOWN],
        "batches": DuplicateDecisionBatch.objects.filter(project=project)
        .select_related("decided_by")[:DECIDED_SHOWN],
    })


@login_required
@require_http_methods(["GET", "POST"])
def duplicate_group(request, slug, signature):
    """The pending pairs of one signature; a lead merges them all or keeps them all apart
    (a job: a group can hold thousands of pairs)."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    group = next((g for g in diff.group_by_signature(queries.explained_pending_pairs(project))
                  if g.signature.key == signature), None)
    for pair in group.pairs if group else ():
        pair.differing = diff.differences(pair)
    if request.method == "POST":
        try:
            pair_ids = [int(pk) for pk in request.POST.get("pairs", "").split(",") if pk]
            job = jobs.start_group_decision(
                project, user=request.user, pair_ids=pair_ids,
                decision=request.POST.get("decision", ""), signature=signature,
                description=group.signature.description if group else "")
        except (ValueError, deduplication.DedupError) as exc:
            messages.error(request, str(exc) if isinstance(exc, deduplication.DedupError)
                           else "The pairs of this group could not be read: reload the page.")
            return redirect("references:duplicates", slug=slug)
        return redirect("projects:job", slug=slug, job_id=job.pk)
    return render(request, "references/duplicate_group.html", {
        "project": project, "section": "references", "group": group, "signature": signature,
        "pair_ids": ",".join(str(p.pk) for p in group.pairs) if group else "",
    })


@login_required
@require_GET
def duplicate_batch(request, slug, batch_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    batch = get_object_or_404(DuplicateDecisionBatch.objects.select_related(
        "decided_by", "undone_by"), pk=batch_id, project=project)
    pairs = DuplicateCandidate.objects.filter(project=project, pk__in=batch.pair_ids).only(
        "id", "record_a_id", "record_b_id", "status", "decided_in_id").order_by("id")
    return render(request, "references/duplicate_batch.html", {
        "project": project, "section": "references", "batch": batch, "pairs": pairs,
    })


@login_required
@require_POST
def duplicate_batch_undo(request, slug, batch_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    batch = get_object_or_404(DuplicateDecisionBatch, pk=batch_id, project=project)
    try:
        job = jobs.start_group_undo(batch, user=request.user)
    except deduplication.DedupError as exc:
        messages.error(request, str(exc))
        return redirect("references:duplicate_batch", slug=slug, batch_id=batch.pk)
    return redirect("projects:job", slug=slug, job_id=job.pk)


@login_required
@require_POST
def duplicate_reopen(request, slug, pair_id):
    """A pair kept apart goes back to the queue."""
    project = get_project_for_user(request, slug, role=Role.LEAD)
    pair = get_object_or_404(DuplicateCandidate, pk=pair_id, project=project)
    try:
        deduplication.reopen_pair(pair, user=request.user)
    except deduplication.DedupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Records #{pair.record_a_id} and #{pair.record_b_id} are "
                                  "waiting for a decision again.")
    return redirect("references:duplicates", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def duplicate_pair(request, slug, pair_id):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    pair = get_object_or_404(
        DuplicateCandidate.objects.select_related("record_a__source", "record_b__source",
                                                  "decided_by"),
        pk=pair_id, project=project)
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "not_duplicate":
                deduplication.decide_not_duplicate(pair, user=request.user)
                messages.success(request, f"Records #{pair.record_a_id} and "
                                          f"#{pair.record_b_id} are kept apart.")
            elif decision == "duplicate":
                primary_id = request.POST.get("primary", "")
                primary = {str(pair.record_a_id): pair.record_a,
                           str(pair.record_b_id): pair.record_b}.get(primary_id)
                if primary is None:
                    raise deduplication.DedupError("Choose which record to keep as primary.")
                deduplication.decide_duplicate(pair, primary=primary, user=request.user)
                messages.success(request, f"Merged: record #{primary.pk} is the primary.")
            else:
                raise deduplication.DedupError("Choose duplicate or not duplicate.")
        except deduplication.DedupError as exc:
            messages.error(request, str(exc))
            return redirect("references:duplicate", slug=slug, pair_id=pair.pk)
        following = queries.pending_pairs(project).first()
        if following:
            return redirect("references:duplicate", slug=slug, pair_id=following.pk)
        return redirect("references:duplicates", slug=slug)
    return render(request, "references/duplicate.html", {
        "project": project, "section": "references", "pair": pair,
        "rows": diff.compare(pair.record_a, pair.record_b),
        "explanation": diff.explain(pair),
        "remaining": queries.pending_pairs(project).count(),
        "held": [(r.pk, holds.describe(r.hold)) for r in (pair.record_a, pair.record_b)
                 if r.hold],
    })


@login_required
@require_POST
def deduplicate_start(request, slug):
    project = get_project_for_user(request, slug, role=Role.LEAD)
    job = jobs.start_deduplication(project, user=request.user)
    return redirect("projects:job", slug=slug, job_id=job.pk)


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def export_csv(request, slug):
    project = get_project_for_user(request, slug)
    writer = csvsafe.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in exports.record_rows(project)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-records.csv"'
    return response
