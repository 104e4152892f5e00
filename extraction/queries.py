"""Reads of the extraction app that more than one place uses."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q

from accounts.models import User
from projects.models import Project
from references.models import Study
from screening.queries import included_studies

from . import agreement, values
from .models import Answer, Assignment, Extraction, ExtractionSettings, Field, Form, Round

# ---------------------------------------------------------------------------------------------
# The extraction table: the review's data, one row per study, one column per field.


@dataclass(frozen=True)
class TableAnswer:
    """One field's settled value of a study, with its evidence. `value` is stored as
    Answer.value documents it (a table field: a list of rows {column key: value})."""

    value: Any
    other: str = ""
    quote: str = ""
    page: str = ""
    note: str = ""


class _OfStudy:
    """A row about one study (with `included_reports`): its short label and first title."""

    study: Study

    @property
    def label(self) -> str:
        return study_label(self.study)

    @property
    def title(self) -> str:
        reports = getattr(self.study, "included_reports", None) or []
        return reports[0].title if reports else ""


@dataclass
class TableRow(_OfStudy):
    """A study with settled data: its consensus (dual mode) or its one complete extraction
    (single mode). `answers` holds every answer of that extraction by field id."""

    study: Study  # with `included_reports`, as screening.queries.included_studies gives it
    extraction: Extraction  # with its `version`
    answers: dict[int, TableAnswer]

    def answer(self, fld: Field) -> TableAnswer | None:
        return self.answers.get(fld.pk)

    def value(self, fld: Field) -> Any:
        answer = self.answers.get(fld.pk)
        return None if answer is None else answer.value

    def display(self, fld: Field) -> str:
        """The answer as a person reads it (values.display_value): labels, not keys."""
        answer = self.answers.get(fld.pk)
        return "" if answer is None else values.display_value(fld, answer.value, answer.other)


@dataclass
class ExtractionTable:
    """What `extraction_table` answers. `fields` are the form's live top-level fields in form
    order (section, then field); a table field has its live columns in `columns`."""

    form: Form | None
    fields: list[Field]
    rows: list[TableRow]
    included: int  # included studies, with settled data or not
    mode: str
    columns: dict[int, list[Field]] = field(default_factory=dict)  # table field id -> columns

    @property
    def table_fields(self) -> list[Field]:
        return [f for f in self.fields if f.type == Field.Type.TABLE]

    @property
    def simple_fields(self) -> list[Field]:
        return [f for f in self.fields if f.type != Field.Type.TABLE]

    def columns_of(self, fld: Field) -> list[Field]:
        return self.columns.get(fld.pk, [])


def study_label(study: Study) -> str:
    """'Lee 2020': the first author's surname and year of the study's first included report
    (the study's id when it has no author)."""
    reports = getattr(study, "included_reports", None) or []
    if reports:
        report = reports[0]
        surname = (report.first_author.split(",")[0].strip() if report.first_author else "")
        if surname:
            return f"{surname} {report.year}" if report.year else surname
    return f"Study {study.pk}"


def form_fields(form: Form) -> tuple[list[Field], dict[int, list[Field]]]:
    """The form's live top-level fields in form order, and each table field's live columns
    in order: two queries. Archived fields and the fields of archived sections are left out.
    Every column (archived too) is prefetched, as `values.display_value` reads them."""
    top = [fld for fld in (Field.objects.filter(form=form, parent__isnull=True, archived=False)
                           .select_related("section")
                           .prefetch_related(Prefetch("columns",
                                                      queryset=Field.objects.order_by("position",
                                                                                      "id"))))
           if fld.section is not None and not fld.section.archived]
    top.sort(key=lambda f: (f.section.position, f.section_id, f.position, f.pk))
    columns = {fld.pk: [c for c in fld.columns.all() if not c.archived]
               for fld in top if fld.type == Field.Type.TABLE}
    return top, columns


def extraction_table(project: Project) -> ExtractionTable:
    """The review's extracted data: one row per included study that has settled data, in
    study order, and the form's live fields as columns. A study's data is its complete
    main-round consensus; in single mode, failing that, its one complete main-round
    extraction. A study that left the included set leaves the table (its extractions are
    kept). Blind by construction: no unsettled dual extraction is ever read.

    A fixed number of queries whatever the number of studies (settings, form, fields and
    their columns, included studies and their reports, extractions, answers)."""
    settings = ExtractionSettings.objects.filter(project=project).first()
    mode = settings.mode if settings else ExtractionSettings.Mode.DUAL
    form = Form.objects.filter(project=project).first()
    if form is None:
        return ExtractionTable(form=None, fields=[], rows=[], included=0, mode=mode)
    fields, columns = form_fields(form)
    studies = {study.pk: study for study in included_studies(project)}

    settled = Q(role=Extraction.Role.CONSENSUS)
    if mode == ExtractionSettings.Mode.SINGLE:
        settled |= Q(role=Extraction.Role.EXTRACTOR)
    candidates: dict[int, list[Extraction]] = defaultdict(list)
    for extraction in (Extraction.objects.filter(project=project, round=Round.MAIN,
                                                 status=Extraction.Status.COMPLETE)
                       .filter(settled).select_related("version").order_by("study_id", "id")):
        if extraction.study_id in studies:
            candidates[extraction.study_id].append(extraction)
    chosen: dict[int, Extraction] = {}
    for study_id, extractions in candidates.items():
        consensus = [e for e in extractions if e.role == Extraction.Role.CONSENSUS]
        if consensus:
            chosen[study_id] = consensus[0]
        elif len(extractions) == 1:  # single mode; two complete extractions need consensus
            chosen[study_id] = extractions[0]

    answers: dict[int, dict[int, TableAnswer]] = defaultdict(dict)
    by_extraction = {extraction.pk: extraction.study_id for extraction in chosen.values()}
    if by_extraction:
        for extraction_id, field_id, value, other, quote, page, note in (
                Answer.objects.filter(extraction_id__in=list(by_extraction))
                .values_list("extraction_id", "field_id", "value", "other", "quote", "page",
                             "note")):
            answers[extraction_id][field_id] = TableAnswer(value, other, quote, page, note)
    rows = [TableRow(study=studies[study_id], extraction=extraction,
                     answers=answers.get(extraction.pk, {}))
            for study_id, extraction in sorted(chosen.items())]
    return ExtractionTable(form=form, fields=fields, rows=rows, included=len(studies),
                           mode=mode, columns=columns)


# Fields whose answers fall into categories: the table counts them and filters on them.
SUMMARISED_TYPES = (Field.Type.SINGLE_CHOICE, Field.Type.MULTI_CHOICE, Field.Type.YES_NO,
                    Field.Type.COUNTRY)
NO_ANSWER = "__none__"  # the category (and filter) of the studies that left a field empty


@dataclass
class Category:
    """One answer of a choice field and the studies that gave it. `stale`: a choice no
    longer on the form that settled answers still name."""

    key: str
    label: str
    rows: list[TableRow]
    stale: bool = False

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def names(self) -> str:
        return "; ".join(row.label for row in self.rows)


@dataclass
class Frequency:
    field: Field
    categories: list[Category]
    studies: int  # the studies counted (a multiple choice's categories add up to more)


def answer_keys(fld: Field, value: Any) -> list[str]:
    """The categories an answer falls into: a choice key, each key of a multiple choice,
    "yes"/"no"/"unclear", a country code; none when empty."""
    if values.is_empty(fld, value):
        return []
    return list(dict.fromkeys(value)) if isinstance(value, list) else [value]


def frequencies(table: ExtractionTable, rows: list[TableRow] | None = None) -> list[Frequency]:
    """For each choice, yes/no and country field of the table, in form order: how many of
    `rows` (default: all) gave each answer, and which. Every choice on the form is listed,
    with n = 0 when no study chose it; choices no longer on the form follow, flagged; "No
    answer" comes last when some study left the field empty."""
    rows = table.rows if rows is None else rows
    summaries = []
    for fld in table.fields:
        if fld.type not in SUMMARISED_TYPES:
            continue
        behind: dict[str, list[TableRow]] = defaultdict(list)
        empty = []
        for row in rows:
            keys = answer_keys(fld, row.value(fld))
            if not keys:
                empty.append(row)
            for key in keys:
                behind[key].append(row)
        categories = _categories(fld, behind)
        if empty:
            categories.append(Category(NO_ANSWER, "No answer", empty))
        summaries.append(Frequency(field=fld, categories=categories, studies=len(rows)))
    return summaries


def _categories(fld: Field, behind: dict[str, list[TableRow]]) -> list[Category]:
    if fld.type == Field.Type.YES_NO:
        live = dict(values.YES_NO)
    elif fld.type == Field.Type.COUNTRY:  # the countries given, most frequent first
        live = {code: values.COUNTRY_NAMES.get(code, code) for code in
                sorted(behind, key=lambda c: (-len(behind[c]), values.COUNTRY_NAMES.get(c, c)))}
    else:
        live = {c["key"]: c["label"] for c in values.active_choices(fld)}
        if fld.other_specify:
            live[values.OTHER] = values.OTHER_LABEL
    labels = values.choice_labels(fld) if fld.type in values.CHOICE_TYPES else {}
    categories = [Category(key, label, behind.get(key, [])) for key, label in live.items()]
    categories += [Category(key, labels.get(key, str(key)), behind[key], stale=True)
                   for key in behind if key not in live]
    return categories


def filter_rows(table: ExtractionTable, *, text: str = "",
                answers: dict[int, str] | None = None) -> list[TableRow]:
    """The rows whose study or answers contain every word of `text` (case-insensitive) and
    that gave each answer of `answers` ({field id: category key}; NO_ANSWER: left empty)."""
    words = text.casefold().split()
    wanted = [(fld, answers[fld.pk]) for fld in table.fields if fld.pk in (answers or {})]
    kept = []
    for row in table.rows:
        if not all(_gave(row, fld, key) for fld, key in wanted):
            continue
        if words:
            haystack = " ".join([row.label, row.title, str(row.study.pk)]
                                + [row.display(fld) for fld in table.fields]).casefold()
            if not all(word in haystack for word in words):
                continue
        kept.append(row)
    return kept


def _gave(row: TableRow, fld: Field, key: str) -> bool:
    keys = answer_keys(fld, row.value(fld))
    return not keys if key == NO_ANSWER else key in keys


@dataclass(frozen=True)
class ShownCell:
    field: Field
    text: str  # values.display_value
    answer: TableAnswer | None
    stale: bool  # names a choice no longer on the form


def shown_cells(table: ExtractionTable,
                rows: list[TableRow]) -> list[tuple[TableRow, list[ShownCell]]]:
    """Each row with its cells as the page shows them, in the table's field order."""
    shown = []
    for row in rows:
        cells = []
        for fld in table.fields:
            answer = row.answer(fld)
            cells.append(ShownCell(fld, row.display(fld), answer,
                                   answer is not None and values.is_stale(fld, answer.value)))
        shown.append((row, cells))
    return shown


def section_spans(fields: list[Field]) -> list[tuple[str, int]]:
    """(section title, number of consecutive fields) for a header row over the fields."""
    spans: list[tuple[str, int, int | None]] = []
    for fld in fields:
        if spans and spans[-1][0] == fld.section.title and spans[-1][2] == fld.section_id:
            spans[-1] = (spans[-1][0], spans[-1][1] + 1, fld.section_id)
        else:
            spans.append((fld.section.title, 1, fld.section_id))
    return [(title, n) for title, n, _id in spans]


# ---------------------------------------------------------------------------------------------
# Which studies are extracted, by whom, and how far each has got.


def studies_to_extract(project: Project):
    """The studies extracted: those with an included report (`included_studies`, each with
    `included_reports`), in study order. A study whose last included report is excluded
    again leaves this list; its extractions are kept and it comes back if it is included
    again."""
    return included_studies(project)


class StudyStatus:
    """A study's extraction status in a round. Dual mode: not started (no extraction yet),
    in progress, awaiting consensus (both extractions complete), complete (consensus
    complete). Single mode: complete once its one extraction is. Pilot round: complete once
    both pilot extractions are (there is no consensus in the pilot)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AWAITING_CONSENSUS = "awaiting_consensus"
    COMPLETE = "complete"

    LABELS = {NOT_STARTED: "Not started", IN_PROGRESS: "In progress",
              AWAITING_CONSENSUS: "Awaiting consensus", COMPLETE: "Complete"}


def status_of(extractions: list[Extraction], *, mode: str, round: str) -> str:
    """The status of one study from its extractions in `round` (see StudyStatus). Reads only
    roles and statuses, never an answer: safe to show to anyone."""
    extractors = [e for e in extractions if e.role == Extraction.Role.EXTRACTOR]
    consensus = [e for e in extractions if e.role == Extraction.Role.CONSENSUS]
    complete = sum(1 for e in extractors if e.status == Extraction.Status.COMPLETE)
    if round == Round.MAIN and mode == ExtractionSettings.Mode.SINGLE:
        if complete:
            return StudyStatus.COMPLETE
    elif round == Round.PILOT:
        if complete >= 2:
            return StudyStatus.COMPLETE
    else:
        if any(e.status == Extraction.Status.COMPLETE for e in consensus):
            return StudyStatus.COMPLETE
        if complete >= 2:
            return StudyStatus.AWAITING_CONSENSUS
    return StudyStatus.IN_PROGRESS if extractors or consensus else StudyStatus.NOT_STARTED


def round_extractions(project: Project, round: str, study_ids=None) -> dict[int, list[Extraction]]:
    """{study id: its extractions in `round`} (no answers loaded), in one query."""
    rows = Extraction.objects.filter(project=project, round=round).only(
        "id", "study_id", "role", "status", "reviewer_id", "round", "version_id").order_by("id")
    if study_ids is not None:
        rows = rows.filter(study_id__in=list(study_ids))
    found: dict[int, list[Extraction]] = defaultdict(list)
    for extraction in rows:
        found[extraction.study_id].append(extraction)
    return found


def round_assignments(project: Project, round: str, study_ids=None) -> dict[int, list]:
    """{study id: its assignments in `round`, with the reviewer}, in one query."""
    rows = (Assignment.objects.filter(project=project, round=round)
            .select_related("reviewer").order_by("created_at", "id"))
    if study_ids is not None:
        rows = rows.filter(study_id__in=list(study_ids))
    found: dict[int, list] = defaultdict(list)
    for assignment in rows:
        found[assignment.study_id].append(assignment)
    return found


# ---------------------------------------------------------------------------------------------
# Comparing two extractions: the pilot's agreement and the consensus page.


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _canonical(fld: Field, value: Any) -> Any:
    """`value` in a form where two answers that mean the same compare equal: decimals by
    number ("7.50" is 7.5), texts with their runs of spaces as one, a multiple choice as a
    set of keys, a table row by row (rows in their order, cells by column)."""
    kind = fld.type
    if kind == Field.Type.DECIMAL and isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    if kind in (Field.Type.SHORT_TEXT, Field.Type.LONG_TEXT) and isinstance(value, str):
        return " ".join(value.split())
    if kind == Field.Type.MULTI_CHOICE and isinstance(value, list):
        return tuple(sorted(value))
    if kind == Field.Type.TABLE and isinstance(value, list):
        columns = {c.key: c for c in fld.columns.all()}
        return tuple(
            tuple(sorted((key, _canonical(columns[key], cell) if key in columns
                          else _frozen(cell)) for key, cell in row.items()))
            for row in value if isinstance(row, dict))
    return _frozen(value)


def comparable(fld: Field, answer: Answer | None) -> tuple | None:
    """An answer reduced to what two extractors must agree on: None when empty, else
    (canonical value, "other, specify" text). Quotes and pages are evidence, not the
    answer: they never make two answers differ."""
    if answer is None or values.is_empty(fld, answer.value):
        return None
    return (_canonical(fld, answer.value), " ".join((answer.other or "").split()))


def consensus_pair(study: Study) -> list[Extraction]:
    """The study's complete main-round extractions, first made first (at most two are
    compared): with their reviewers."""
    return list(Extraction.objects.filter(
        study=study, round=Round.MAIN, role=Extraction.Role.EXTRACTOR,
        status=Extraction.Status.COMPLETE).select_related("reviewer").order_by("id")[:2])


def consensus_of(study: Study) -> Extraction | None:
    return (Extraction.objects.filter(study=study, round=Round.MAIN,
                                      role=Extraction.Role.CONSENSUS)
            .select_related("reviewer").first())


def live_fields(form: Form) -> list[Field]:
    """The form's top-level fields now on it (not archived, in a section not archived), in
    form order (as `form_fields`), each with its columns prefetched: `values` reads a
    table's columns from there."""
    fields = list(Field.objects.filter(form=form, archived=False, parent__isnull=True,
                                       section__archived=False)
                  .select_related("section").prefetch_related("columns"))
    fields.sort(key=lambda f: (f.section.position, f.section_id, f.position, f.pk))
    return fields


CATEGORICAL_TYPES = (Field.Type.SINGLE_CHOICE, Field.Type.YES_NO)


@dataclass
class PilotReport:
    """The pilot round: its studies and reviewers (A first, by id), how many studies both
    have completed, and per field the figures over those (`agreement.FieldAgreement`)."""

    studies: list[Study]
    reviewers: list  # [A, B]
    compared: list[int]  # ids of the studies both completed, in study order
    fields: list[agreement.FieldAgreement]
    answers: dict[tuple[int, int, int], Answer]  # (study, reviewer, field) -> answer
    form_fields: list[Field] = field(default_factory=list)  # in the order of `fields`

    @property
    def started(self) -> bool:
        return bool(self.studies)


def pilot_report(project: Project) -> PilotReport:
    """Agreement of the pilot's two reviewers, per field of the form as it is now, over the
    pilot studies both have completed (a pair still in progress shows nothing: a reviewer
    never reads the other's answers early). A fixed number of queries."""
    assignments = list(Assignment.objects.filter(project=project, round=Round.PILOT)
                       .order_by("study_id", "reviewer_id"))
    study_ids = sorted({a.study_id for a in assignments})
    reviewer_ids = sorted({a.reviewer_id for a in assignments})
    users = User.objects.in_bulk(reviewer_ids)
    reviewers = [users[pk] for pk in reviewer_ids]
    studies = list(Study.objects.filter(pk__in=study_ids).prefetch_related(
        "records").order_by("id"))
    complete: dict[int, dict[int, Extraction]] = defaultdict(dict)
    for extraction in Extraction.objects.filter(
            project=project, round=Round.PILOT, role=Extraction.Role.EXTRACTOR,
            status=Extraction.Status.COMPLETE, study_id__in=study_ids,
            reviewer_id__in=reviewer_ids):
        complete[extraction.study_id][extraction.reviewer_id] = extraction
    compared = [sid for sid in study_ids if len(reviewer_ids) == 2
                and len(complete.get(sid, {})) == 2]
    form = Form.objects.filter(project=project).first()
    if form is None or not compared:
        return PilotReport(studies, reviewers, compared, [], {})
    live = live_fields(form)
    extraction_ids = {e.pk: (sid, rid) for sid in compared
                      for rid, e in complete[sid].items()}
    answers = {}
    for answer in Answer.objects.filter(extraction_id__in=list(extraction_ids)):
        sid, rid = extraction_ids[answer.extraction_id]
        answers[(sid, rid, answer.field_id)] = answer
    a, b = reviewer_ids
    figures = []
    for fld in live:
        pairs = [(sid, comparable(fld, answers.get((sid, a, fld.pk))),
                  comparable(fld, answers.get((sid, b, fld.pk)))) for sid in compared]
        kind = ("categorical" if fld.type in CATEGORICAL_TYPES else
                "multiple" if fld.type == Field.Type.MULTI_CHOICE else "other")
        choices = [c["key"] for c in values.active_choices(fld)]
        if fld.other_specify:
            choices.append(values.OTHER)
        figures.append(agreement.field_agreement(fld.key, fld.label, pairs, kind=kind,
                                                 choices=choices))
    return PilotReport(studies, reviewers, compared, figures, answers, live)


@dataclass
class StudyRow(_OfStudy):
    """One study of the extraction list: status and extractors, never an answer."""

    study: Study  # with `included_reports`
    status: str
    extractors: list  # the users assigned in the round, first assigned first
    mine: Extraction | None  # the user's own extraction in the round
    assigned_to_me: bool


    @property
    def status_label(self) -> str:
        return StudyStatus.LABELS[self.status]


def study_list(project: Project, user, *, round: str = Round.MAIN,
               mode: str | None = None) -> list[StudyRow]:
    """The studies to extract in `round`, each with its status, its extractors and the
    user's own extraction. Five queries whatever the number of studies."""
    if mode is None:
        settings = ExtractionSettings.objects.filter(project=project).first()
        mode = settings.mode if settings else ExtractionSettings.Mode.DUAL
    studies = list(studies_to_extract(project))
    if round == Round.PILOT:
        pilot = set(Assignment.objects.filter(project=project, round=Round.PILOT)
                    .values_list("study_id", flat=True))
        studies = [s for s in studies if s.pk in pilot]
    extractions = round_extractions(project, round)
    assignments = round_assignments(project, round)
    rows = []
    for study in studies:
        found = extractions.get(study.pk, [])
        people = [a.reviewer for a in assignments.get(study.pk, [])]
        mine = next((e for e in found if e.role == Extraction.Role.EXTRACTOR
                     and e.reviewer_id == user.pk), None)
        rows.append(StudyRow(study=study, status=status_of(found, mode=mode, round=round),
                             extractors=people, mine=mine,
                             assigned_to_me=any(p.pk == user.pk for p in people)))
    return rows
