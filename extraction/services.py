"""Extracting and settling: the project's extraction settings, who extracts which study
(assignments, the pilot round), saving answers as drafts, marking an extraction complete,
and the consensus that makes a study's data. Every write is one function that owns its
transaction and writes its audit events; form edits live in the form builder's module.

Locks, always in this order: a study's record rows (the extraction hold lives there, as
merges and study links lock them), then the ExtractionSettings row where assignments or
rounds change, then the Extraction row whose answers change (the row is the lock for its
answers), the consensus row after the extractions it reads.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from projects import audit
from projects.models import Membership, Project, Role
from references import holds
from references.holds import Hold
from references.models import Record, Study

from . import agreement, forms_builder, queries, values
from .models import (
    Answer,
    Assignment,
    Extraction,
    ExtractionSettings,
    Field,
    Form,
    FormVersion,
    Round,
)

Mode = ExtractionSettings.Mode
ConsensusBy = ExtractionSettings.ConsensusBy
Status = Extraction.Status

PAGE_MAX = 40
QUOTE_MAX = 20_000
NOTE_MAX = 5_000


class ExtractionError(Exception):
    """A rule was broken; the message says which, for the user."""


class Invalid(ExtractionError):
    """Answers that cannot be saved or completed: `errors` maps a field's key to the message
    shown at that field."""

    def __init__(self, errors: dict[str, str], message: str = ""):
        self.errors = errors
        n = len(errors)
        super().__init__(message or f"{n} field{'s' if n != 1 else ''} need"
                         f"{'s' if n == 1 else ''} attention: see the message at "
                         f"{'it' if n == 1 else 'each'}.")


# ---------------------------------------------------------------------------------------------
# Settings


def settings_for(project: Project) -> ExtractionSettings:
    """The project's extraction settings, created with the defaults (dual mode, consensus
    by leads, no pilot threshold) the first time they are needed."""
    obj = ExtractionSettings.objects.filter(project=project).first()
    if obj is not None:
        return obj
    try:
        with transaction.atomic():
            return ExtractionSettings.objects.create(project=project)
    except IntegrityError:  # created by a concurrent request in between
        return ExtractionSettings.objects.get(project=project)


def _lock_settings(project: Project) -> ExtractionSettings:
    """The settings row FOR UPDATE: assignments, rounds and settings changes take turns."""
    settings_for(project)
    return ExtractionSettings.objects.select_for_update().get(project=project)


def extractors_needed(settings: ExtractionSettings) -> int:
    return 1 if settings.mode == Mode.SINGLE else 2


def _describe_settings(settings: ExtractionSettings) -> dict[str, Any]:
    return {"mode": settings.mode, "consensus_by": settings.consensus_by,
            "third_reviewer": settings.third_reviewer.username
            if settings.third_reviewer_id else None,
            "pilot_threshold": settings.pilot_threshold}


@transaction.atomic
def update_settings(project: Project, *, user, mode: str, consensus_by: str,
                    third_reviewer=None, pilot_threshold: float | None = None
                    ) -> ExtractionSettings:
    """Change how the project extracts. The mode is fixed once a main-round extraction
    exists (its data would change meaning); going from dual to single before that drops the
    second assignment of each study (nobody has extracted it). The third reviewer must be a
    member who extracts (reviewer or lead); "leads and a third reviewer" needs one."""
    settings = _lock_settings(project)
    if mode not in Mode.values:
        raise ExtractionError(f"Unknown mode: {mode}")
    if consensus_by not in ConsensusBy.values:
        raise ExtractionError(f"Unknown consensus rule: {consensus_by}")
    if third_reviewer is not None and not Membership.objects.filter(
            project=project, user=third_reviewer, role__in=[Role.REVIEWER, Role.LEAD]).exists():
        raise ExtractionError(f"{third_reviewer} is not a reviewer or lead of this project.")
    if consensus_by == ConsensusBy.THIRD and third_reviewer is None:
        raise ExtractionError("Choose the third reviewer who settles consensus.")
    if pilot_threshold is not None and not 0 <= pilot_threshold <= 1:
        raise ExtractionError("The pilot threshold is a share from 0 to 1 (e.g. 0.8).")
    before = _describe_settings(settings)
    dropped = 0
    if mode != settings.mode:
        if Extraction.objects.filter(project=project, round=Round.MAIN,
                                     role=Extraction.Role.EXTRACTOR).exists():
            raise ExtractionError("Main-round extractions exist: the mode can no longer "
                                  "change.")
        if mode == Mode.SINGLE:
            dropped = _drop_second_assignments(project)
    settings.mode, settings.consensus_by = mode, consensus_by
    settings.third_reviewer = third_reviewer
    settings.pilot_threshold = pilot_threshold
    settings.save(update_fields=["mode", "consensus_by", "third_reviewer", "pilot_threshold"])
    after = _describe_settings(settings)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record(project=project, actor=user, action="extraction.settings",
                     target=settings, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed}
                     | ({"assignments_dropped": dropped} if dropped else {}))
    return settings


def _drop_second_assignments(project: Project) -> int:
    """Single mode: each study keeps its first main-round assignment only."""
    seen: set[int] = set()
    drop = []
    for pk, study_id in (Assignment.objects.filter(project=project, round=Round.MAIN)
                         .order_by("created_at", "id").values_list("id", "study_id")):
        if study_id in seen:
            drop.append(pk)
        seen.add(study_id)
    Assignment.objects.filter(pk__in=drop).delete()
    return len(drop)


# ---------------------------------------------------------------------------------------------
# The form an extraction is made on


def form_of(project: Project) -> Form | None:
    return forms_builder.get_form(project)


def current_version(form: Form) -> FormVersion:
    """The version every answer saved now is made on (the builder makes versions)."""
    return forms_builder.current_version(form)


def live_fields(form: Form) -> list[Field]:
    return queries.live_fields(form)


# ---------------------------------------------------------------------------------------------
# Assignments


def _extractors(project: Project, users) -> list:
    """`users` checked: members of the project who extract (reviewers and leads)."""
    users = list(users)
    ids = {u.pk for u in users}
    members = set(Membership.objects.filter(project=project, user_id__in=ids,
                                            role__in=[Role.REVIEWER, Role.LEAD])
                  .values_list("user_id", flat=True))
    strangers = [u for u in users if u.pk not in members]
    if strangers:
        raise ExtractionError(f"{strangers[0]} is not a reviewer or lead of this project.")
    if len(ids) != len(users):
        raise ExtractionError("Choose different reviewers: one person cannot extract a "
                              "study twice.")
    return users


def _pilot_pending(project: Project, settings: ExtractionSettings) -> set[int]:
    """Studies of a pilot whose main round has not started: they are assigned in the main
    round when it starts (the pilot's extractions can be carried into it)."""
    if settings.main_round_started:
        return set()
    return set(Assignment.objects.filter(project=project, round=Round.PILOT)
               .values_list("study_id", flat=True))


@transaction.atomic
def assign_automatically(project: Project, *, reviewers, user) -> int:
    """Give every included study that lacks extractors (two in dual mode, one in single)
    reviewers from `reviewers`, balancing load: each slot goes to the reviewer with the
    fewest main-round assignments so far (then the lowest id), never twice to one study.
    Existing assignments stay. Pilot studies wait for the main round. Returns how many
    assignments were made."""
    settings = _lock_settings(project)
    reviewers = _extractors(project, reviewers)
    need = extractors_needed(settings)
    if len(reviewers) < need:
        raise ExtractionError(f"Each study needs {need} extractors: choose at least {need} "
                              "reviewers.")
    waiting = _pilot_pending(project, settings)
    study_ids = [s.pk for s in queries.studies_to_extract(project) if s.pk not in waiting]
    current = queries.round_assignments(project, Round.MAIN)
    load = Counter(a.reviewer_id for found in current.values() for a in found)
    made: list[Assignment] = []
    for study_id in study_ids:
        on = {a.reviewer_id for a in current.get(study_id, [])}
        while len(on) < need:
            pick = min((r for r in reviewers if r.pk not in on),
                       key=lambda r: (load[r.pk], r.pk))
            made.append(Assignment(project=project, study_id=study_id, reviewer=pick,
                                   round=Round.MAIN, assigned_by=user))
            on.add(pick.pk)
            load[pick.pk] += 1
    Assignment.objects.bulk_create(made)
    if made:
        per = Counter(a.reviewer.username for a in made)
        audit.record(project=project, actor=user, action="extraction.assign_auto",
                     target=settings,
                     after={"assignments": len(made),
                            "studies": len({a.study_id for a in made}),
                            "per_reviewer": dict(sorted(per.items()))})
    return len(made)


@transaction.atomic
def assign_pair(project: Project, *, reviewers, count: int, user) -> int:
    """Give the next `count` included studies that have no main-round extractor (in study
    order) to `reviewers`: a pair in dual mode, one reviewer in single mode. Returns how
    many studies were assigned."""
    settings = _lock_settings(project)
    reviewers = _extractors(project, reviewers)
    need = extractors_needed(settings)
    if len(reviewers) != need:
        raise ExtractionError("Choose two reviewers: a pair extracts each study."
                              if need == 2 else "Choose one reviewer.")
    if count < 1:
        raise ExtractionError("Give a number of studies from 1 up.")
    waiting = _pilot_pending(project, settings)
    taken = set(Assignment.objects.filter(project=project, round=Round.MAIN)
                .values_list("study_id", flat=True))
    study_ids = [s.pk for s in queries.studies_to_extract(project)
                 if s.pk not in taken and s.pk not in waiting][:count]
    Assignment.objects.bulk_create([
        Assignment(project=project, study_id=study_id, reviewer=reviewer, round=Round.MAIN,
                   assigned_by=user)
        for study_id in study_ids for reviewer in reviewers])
    if study_ids:
        audit.record(project=project, actor=user, action="extraction.assign_pair",
                     target=settings,
                     after={"studies": study_ids,
                            "reviewers": [r.username for r in reviewers]})
    return len(study_ids)


@transaction.atomic
def assign_study(project: Project, study: Study, *, reviewers, user,
                 round: str = Round.MAIN) -> list[Assignment]:
    """Set who extracts `study` in `round` (the lead's choice, per study). A reviewer who
    has started extracting it keeps their assignment: taking it away would orphan their
    work."""
    settings = _lock_settings(project)
    reviewers = _extractors(project, [r for r in reviewers if r is not None])
    need = extractors_needed(settings) if round == Round.MAIN else 2
    if len(reviewers) > need:
        raise ExtractionError(f"A study has at most {need} extractor{'s' * (need > 1)}.")
    if study.project_id != project.pk or not queries.studies_to_extract(project).filter(
            pk=study.pk).exists():
        raise ExtractionError("This study is not among the included studies.")
    current = {a.reviewer_id: a for a in Assignment.objects.filter(
        study=study, round=round).select_related("reviewer")}
    wanted = {r.pk: r for r in reviewers}
    leaving = [a for pk, a in current.items() if pk not in wanted]
    started = set(Extraction.objects.filter(
        study=study, round=round, role=Extraction.Role.EXTRACTOR,
        reviewer_id__in=[a.reviewer_id for a in leaving]).values_list("reviewer_id", flat=True))
    for a in leaving:
        if a.reviewer_id in started:
            raise ExtractionError(f"{a.reviewer} has started extracting this study: their "
                                  "assignment stays.")
    before = sorted(a.reviewer.username for a in current.values())
    Assignment.objects.filter(pk__in=[a.pk for a in leaving]).delete()
    Assignment.objects.bulk_create([
        Assignment(project=project, study=study, reviewer=r, round=round, assigned_by=user)
        for pk, r in wanted.items() if pk not in current])
    after = sorted(r.username for r in reviewers)
    if before != after:
        audit.record(project=project, actor=user, action="extraction.assign", target=study,
                     before={"round": round, "reviewers": before},
                     after={"round": round, "reviewers": after})
    return list(Assignment.objects.filter(study=study, round=round).order_by("created_at",
                                                                              "id"))


# ---------------------------------------------------------------------------------------------
# Extracting: drafts and completion


@dataclass
class AnswerInput:
    """What a reviewer gave for one field: `raw` as the form posts it (see
    `values.clean_value`), the "other, specify" text, and the evidence (quote and page)."""

    raw: Any = None
    other: str = ""
    quote: str = ""
    page: str = ""


def main_round_open(project: Project, settings: ExtractionSettings) -> bool:
    """Main-round extraction is open unless a pilot is on: a lead has picked pilot studies
    and not yet started the main round."""
    return settings.main_round_started or not Assignment.objects.filter(
        project=project, round=Round.PILOT).exists()


def _form_or_error(project: Project) -> Form:
    form = form_of(project)
    if form is None:
        raise ExtractionError("This project has no extraction form yet: a lead builds it "
                              "first.")
    return form


def is_included(project: Project, study: Study) -> bool:
    return (study.project_id == project.pk
            and queries.studies_to_extract(project).filter(pk=study.pk).exists())


def check_can_extract(project: Project, study: Study, *, round: str, reviewer,
                      settings: ExtractionSettings) -> None:
    """Refuse a reviewer who may not change their extraction of `study` in `round` now."""
    if round not in Round.values:
        raise ExtractionError(f"Unknown round: {round}")
    if not Assignment.objects.filter(study=study, round=round, reviewer=reviewer).exists():
        raise ExtractionError("This study is not assigned to you in this round.")
    if not is_included(project, study):
        raise ExtractionError("This study is no longer included: its extractions are kept "
                              "but no longer edited.")
    if round == Round.MAIN and not main_round_open(project, settings):
        raise ExtractionError("The pilot round is on: the main round starts when a lead "
                              "starts it.")
    if round == Round.PILOT and settings.main_round_started:
        raise ExtractionError("The main round has started: the pilot's extractions stay as "
                              "they are, to read.")


def _hold_study(study: Study) -> None:
    """A study with an extraction holds its records (references.holds): deduplication never
    merges them away and their study keeps its reports. Locked in id order, as merges and
    study links lock them."""
    ids = list(Record.objects.select_for_update(no_key=True).filter(study=study)
               .order_by("id").values_list("id", flat=True))
    holds.set_hold(ids, Hold.EXTRACTION)


def _lock_extraction(project: Project, study: Study, *, round: str, reviewer,
                     create: bool) -> Extraction | None:
    """The reviewer's extraction of `study` in `round`, locked FOR UPDATE; made (on the
    form's current version, holding the study) when `create` and missing."""
    mine = Extraction.objects.select_for_update().filter(
        study=study, round=round, role=Extraction.Role.EXTRACTOR, reviewer=reviewer)
    extraction = mine.first()
    if extraction is not None or not create:
        return extraction
    _hold_study(study)
    version = current_version(_form_or_error(project))
    try:
        with transaction.atomic():
            Extraction.objects.create(project=project, study=study, round=round,
                                      role=Extraction.Role.EXTRACTOR, reviewer=reviewer,
                                      version=version)
    except IntegrityError:
        pass  # a concurrent request of the same reviewer made it first: lock theirs
    return mine.get()


def _evidence(given) -> tuple[str, str]:
    quote = (given.quote or "").replace("\r\n", "\n").strip()
    page = " ".join((given.page or "").split())
    if len(quote) > QUOTE_MAX:
        raise values.InvalidValue(f"A quote has at most {QUOTE_MAX} characters.")
    if len(page) > PAGE_MAX:
        raise values.InvalidValue(f"A page has at most {PAGE_MAX} characters (e.g. 12 or "
                                  "12-14).")
    return quote, page


def _state(answer: Answer | None, *, decision: bool = False) -> dict[str, Any] | None:
    """An answer as the audit log records it (None: no answer)."""
    if answer is None:
        return None
    state = {"value": answer.value, "other": answer.other, "quote": answer.quote,
             "page": answer.page}
    if decision:
        state |= {"source": answer.source, "note": answer.note}
    return state


def _write_answer(project: Project, extraction: Extraction, fld: Field, answer: Answer | None,
                  *, value, other: str, quote: str, page: str, user, action: str,
                  source: str = "", note: str = "", now=None) -> bool:
    """Store one field's answer (an answer with nothing in it is removed) and log it with
    before and after, sealed: until the study is settled it is its author's alone. Returns
    whether anything changed."""
    decision = extraction.role == Extraction.Role.CONSENSUS
    before = _state(answer, decision=decision)
    empty = values.is_empty(fld, value) and not (other or quote or page or note)
    if empty:
        after = None
    else:
        after = {"value": value, "other": other, "quote": quote, "page": page}
        if decision:
            after |= {"source": source, "note": note}
    if before == after:
        return False
    if empty:
        answer.delete()
    else:
        answer = answer or Answer(extraction=extraction, field=fld)
        answer.value, answer.other, answer.quote, answer.page = value, other, quote, page
        answer.source, answer.note = source, note
        answer.updated_by, answer.updated_at = user, now or timezone.now()
        answer.save()
    audit.record(project=project, actor=user, action=action, target=extraction,
                 before=None if before is None else {"field": fld.key} | before,
                 after=None if after is None else {"field": fld.key} | after, sealed=True)
    return True


@transaction.atomic
def save_answers(project: Project, study: Study, *, round: str, reviewer,
                 inputs: dict[str, AnswerInput]) -> tuple[Extraction | None, dict[str, str]]:
    """Save a reviewer's answers as a draft: every valid one is stored (and logged), every
    invalid one is left as it was and reported by field key, so one typo never costs the
    others. The extraction is made on the first answer with something in it. Returns the
    extraction (None while nothing was ever saved) and the errors."""
    settings = settings_for(project)
    check_can_extract(project, study, round=round, reviewer=reviewer, settings=settings)
    form = _form_or_error(project)
    fields = {f.key: f for f in live_fields(form)}
    cleaned: dict[Field, tuple] = {}
    errors: dict[str, str] = {}
    for key, given in inputs.items():
        fld = fields.get(key)
        if fld is None:
            errors[key] = "This field is no longer on the form: reload the page."
            continue
        try:
            value = values.clean_value(fld, given.raw)
            other = values.clean_other(fld, value, given.other)
            quote, page = _evidence(given)
        except values.InvalidValue as exc:
            errors[key] = exc.message
            continue
        cleaned[fld] = (value, other, quote, page)
    something = any(not values.is_empty(f, v) or o or q or p
                    for f, (v, o, q, p) in cleaned.items())
    extraction = _lock_extraction(project, study, round=round, reviewer=reviewer,
                                  create=something)
    if extraction is None:
        return None, errors
    if extraction.status == Status.COMPLETE:
        raise ExtractionError("You marked this extraction complete: reopen it to change an "
                              "answer.")
    existing = {a.field_id: a for a in Answer.objects.filter(
        extraction=extraction, field__in=[f.pk for f in cleaned])}
    now = timezone.now()
    changed = 0
    for fld, (value, other, quote, page) in cleaned.items():
        changed += _write_answer(project, extraction, fld, existing.get(fld.pk), value=value,
                                 other=other, quote=quote, page=page, user=reviewer,
                                 action="extraction.answer", now=now)
    if changed:
        extraction.version = current_version(form)
        extraction.updated_at = now
        extraction.save(update_fields=["version", "updated_at"])
    return extraction, errors


def completeness_errors(fields: list[Field], answers: dict[int, Answer]) -> dict[str, str]:
    """{field key: message} for every field a complete extraction may not leave as it is
    (`values.check_complete`: required and empty, "other" without its text, a required
    column empty)."""
    errors = {}
    for fld in fields:
        answer = answers.get(fld.pk)
        try:
            values.check_complete(fld, answer.value if answer else None,
                                  answer.other if answer else "")
        except values.InvalidValue as exc:
            errors[fld.key] = exc.message
    return errors


@transaction.atomic
def complete_extraction(project: Project, study: Study, *, round: str,
                        reviewer) -> Extraction:
    """Mark the reviewer's extraction complete, once every required field is answered
    (otherwise `Invalid` names each field). Idempotent. A complete pilot pair, or a single
    mode extraction, opens its answers in the log to the readers of the log: they are no
    longer anyone's secret."""
    settings = settings_for(project)
    check_can_extract(project, study, round=round, reviewer=reviewer, settings=settings)
    form = _form_or_error(project)
    extraction = _lock_extraction(project, study, round=round, reviewer=reviewer, create=True)
    if extraction.status == Status.COMPLETE:
        return extraction
    answers = {a.field_id: a for a in extraction.answers.all()}
    errors = completeness_errors(live_fields(form), answers)
    if errors:
        raise Invalid(errors)
    now = timezone.now()
    version = current_version(form)
    extraction.status, extraction.completed_at, extraction.updated_at = Status.COMPLETE, now, now
    extraction.version = version
    extraction.save(update_fields=["status", "completed_at", "updated_at", "version"])
    audit.record(project=project, actor=reviewer, action="extraction.complete",
                 target=extraction, before={"status": Status.DRAFT},
                 after={"status": Status.COMPLETE, "version": version.number})
    if round == Round.MAIN and settings.mode == Mode.SINGLE:
        audit.unseal(target=extraction)
    elif round == Round.PILOT:
        pair = Extraction.objects.filter(study=study, round=Round.PILOT,
                                         role=Extraction.Role.EXTRACTOR, status=Status.COMPLETE)
        if pair.count() >= 2:
            for done in pair:
                audit.unseal(target=done)
    return extraction


@transaction.atomic
def reopen_extraction(project: Project, study: Study, *, round: str, reviewer) -> Extraction:
    """Take a complete extraction back to a draft, to change an answer: the extractor's
    own, until consensus on the study has started."""
    settings = settings_for(project)
    check_can_extract(project, study, round=round, reviewer=reviewer, settings=settings)
    extraction = _lock_extraction(project, study, round=round, reviewer=reviewer, create=False)
    if extraction is None or extraction.status != Status.COMPLETE:
        raise ExtractionError("This extraction is not complete.")
    if Extraction.objects.filter(study=study, round=round,
                                 role=Extraction.Role.CONSENSUS).exists():
        raise ExtractionError("Consensus on this study has started: the extractions it "
                              "compares stay as they are.")
    extraction.status, extraction.completed_at = Status.DRAFT, None
    extraction.updated_at = timezone.now()
    extraction.save(update_fields=["status", "completed_at", "updated_at"])
    audit.record(project=project, actor=reviewer, action="extraction.reopen",
                 target=extraction, before={"status": Status.COMPLETE},
                 after={"status": Status.DRAFT})
    return extraction


# ---------------------------------------------------------------------------------------------
# The pilot round

PILOT_STUDIES = 3  # the paper's pilot: two reviewers, three studies


@transaction.atomic
def start_pilot(project: Project, *, studies, reviewers, user) -> int:
    """Pick the pilot: `studies` (included ones) extracted by two `reviewers`. Until a lead
    starts the main round, main-round extraction waits. The pick can change until a pilot
    extraction exists; none can be made once the main round has started or a main-round
    extraction exists. Returns how many studies the pilot has."""
    settings = _lock_settings(project)
    reviewers = _extractors(project, reviewers)
    if len(reviewers) != 2:
        raise ExtractionError("Choose two reviewers for the pilot.")
    studies = list(studies)
    if not studies:
        raise ExtractionError("Choose at least one study for the pilot.")
    if settings.main_round_started or Extraction.objects.filter(
            project=project, round=Round.MAIN).exists():
        raise ExtractionError("The main round has started: a pilot comes before it.")
    if Extraction.objects.filter(project=project, round=Round.PILOT).exists():
        raise ExtractionError("The pilot has started: its studies and reviewers stay as they "
                              "are.")
    included = set(queries.studies_to_extract(project).filter(
        pk__in=[s.pk for s in studies]).values_list("id", flat=True))
    strays = [s for s in studies if s.pk not in included]
    if strays:
        raise ExtractionError(f"Study {strays[0].pk} is not among the included studies.")
    before = sorted(Assignment.objects.filter(project=project, round=Round.PILOT)
                    .values_list("study_id", flat=True).distinct())
    Assignment.objects.filter(project=project, round=Round.PILOT).delete()
    Assignment.objects.bulk_create([
        Assignment(project=project, study=study, reviewer=reviewer, round=Round.PILOT,
                   assigned_by=user)
        for study in studies for reviewer in reviewers])
    audit.record(project=project, actor=user, action="extraction.pilot", target=settings,
                 before={"studies": before} if before else None,
                 after={"studies": sorted(s.pk for s in studies),
                        "reviewers": [r.username for r in reviewers]})
    return len(studies)


@transaction.atomic
def start_main_round(project: Project, *, user, carry: bool = False) -> int:
    """End the pilot and open the main round. With a pilot threshold set, only once every
    field of the form's current version has a share of identical answers at or above it,
    over at least one study both pilot reviewers completed. `carry`: each pilot extraction
    of a study still included becomes its reviewer's main-round draft of that study (its
    answers copied; the reviewer checks it against the edited form and marks it complete),
    and its reviewer is assigned to the study where there is room. The pilot's own
    extractions stay, to read. Returns how many extractions were carried."""
    settings = _lock_settings(project)
    if settings.main_round_started:
        raise ExtractionError("The main round has started already.")
    threshold = settings.pilot_threshold
    if threshold is not None:
        report = queries.pilot_report(project)
        if not report.compared:
            raise ExtractionError("No pilot study has both extractions complete: the "
                                  "agreement threshold cannot be checked yet.")
        low = agreement.below(report.fields, threshold)
        if low:
            names = "; ".join(f"{f.label} ({_percent(f.share)})" for f in low)
            raise ExtractionError(f"Agreement is below {_percent(threshold)} on "
                                  f"{len(low)} field{'s' * (len(low) > 1)}: {names}.")
    settings.main_round_started = True
    settings.save(update_fields=["main_round_started"])
    carried = _carry_pilot(project, settings, user) if carry else []
    audit.record(project=project, actor=user, action="extraction.main_round", target=settings,
                 before={"main_round_started": False},
                 after={"main_round_started": True, "threshold": threshold,
                        "carried": carried})
    return len(carried)


def _percent(share) -> str:
    return "n/a" if share is None else f"{float(share) * 100:.0f}%"


def _carry_pilot(project: Project, settings: ExtractionSettings, user) -> list[int]:
    """Copy every pilot extraction of an included study into its reviewer's main round (see
    `start_main_round`); the ids of the studies carried, one per extraction."""
    need = extractors_needed(settings)
    included = set(queries.studies_to_extract(project).values_list("id", flat=True))
    form = _form_or_error(project)
    version = current_version(form)
    carried = []
    pilot = (Extraction.objects.filter(project=project, round=Round.PILOT,
                                       role=Extraction.Role.EXTRACTOR)
             .select_related("study").prefetch_related("answers").order_by("study_id", "id"))
    for source in pilot:
        if source.study_id not in included:
            continue
        on = set(Assignment.objects.filter(study_id=source.study_id, round=Round.MAIN)
                 .values_list("reviewer_id", flat=True))
        if source.reviewer_id not in on:
            if len(on) >= need:
                continue  # the lead gave the study to others: their choice stands
            Assignment.objects.create(project=project, study_id=source.study_id,
                                      reviewer_id=source.reviewer_id, round=Round.MAIN,
                                      assigned_by=user)
        if Extraction.objects.filter(study_id=source.study_id, round=Round.MAIN,
                                     role=Extraction.Role.EXTRACTOR,
                                     reviewer_id=source.reviewer_id).exists():
            continue
        copy = Extraction.objects.create(project=project, study_id=source.study_id,
                                         round=Round.MAIN, role=Extraction.Role.EXTRACTOR,
                                         reviewer_id=source.reviewer_id, version=version)
        now = timezone.now()
        Answer.objects.bulk_create([
            Answer(extraction=copy, field_id=a.field_id, value=a.value, other=a.other,
                   quote=a.quote, page=a.page, updated_by_id=a.updated_by_id, updated_at=now)
            for a in source.answers.all()])
        audit.record(project=project, actor=user, action="extraction.carry", target=copy,
                     before={"round": Round.PILOT, "extraction": source.pk},
                     after={"round": Round.MAIN, "answers": len(source.answers.all()),
                            "status": Status.DRAFT})
        carried.append(source.study_id)
    return carried


# ---------------------------------------------------------------------------------------------
# Consensus


class Take:
    """Where a consensus answer comes from, as the consensus page posts it."""

    AGREED = "agreed"  # both extractors gave it (pre-filled)
    FIRST = "first"  # one side's answer, with its quote and page
    SECOND = "second"
    EDITED = "edited"  # the consensus maker's own value (an edit, or a new one)

    ALL = (AGREED, FIRST, SECOND, EDITED)


@dataclass
class Decision:
    """The consensus maker's decision on one field: `take` one of Take; for EDITED the
    value as posted (`raw`, `other`) and its evidence; a note for any."""

    take: str
    raw: Any = None
    other: str = ""
    quote: str = ""
    page: str = ""
    note: str = ""


def can_settle(settings: ExtractionSettings, membership, pair_ids) -> bool:
    """Who may make a study's consensus: leads, the designated third reviewer (when the
    rule names one), and either extractor of the study only when the lead allows it (rule
    "pair"). A lead who extracted the study is one of the pair: blind until then, they settle
    it only under that rule too."""
    user_id = membership.user_id
    if user_id in set(pair_ids):
        return settings.consensus_by == ConsensusBy.PAIR
    if membership.has_role(Role.LEAD):
        return True
    return (settings.consensus_by in (ConsensusBy.THIRD, ConsensusBy.PAIR)
            and settings.third_reviewer_id == user_id
            and membership.has_role(Role.REVIEWER))


def revision(consensus: Extraction | None) -> str:
    """What the consensus page was built on: a save made on another revision is refused, so
    two people settling one study at once never overwrite each other unseen."""
    return "" if consensus is None else consensus.updated_at.isoformat()


def _decide(fld: Field, decision: Decision, first: Answer | None,
            second: Answer | None) -> tuple:
    """(value, other, quote, page, source) of one consensus answer; InvalidValue says why
    not."""
    if decision.take == Take.AGREED:
        if queries.comparable(fld, first) != queries.comparable(fld, second):
            raise values.InvalidValue("The two answers differ: take one of them or write the "
                                      "value.")
        given = first or second
        if given is None:
            return None, "", "", "", Answer.Source.AGREED
        # Evidence from whichever side gave some (the first's when both did).
        quoted = [a for a in (first, second) if a is not None and (a.quote or a.page)]
        quote, page = (quoted[0].quote, quoted[0].page) if quoted else ("", "")
        return given.value, given.other, quote, page, Answer.Source.AGREED
    if decision.take in (Take.FIRST, Take.SECOND):
        side = first if decision.take == Take.FIRST else second
        source = Answer.Source.FIRST if decision.take == Take.FIRST else Answer.Source.SECOND
        if side is None:
            return None, "", "", "", source
        return side.value, side.other, side.quote, side.page, source
    if decision.take == Take.EDITED:
        value = values.clean_value(fld, decision.raw)
        other = values.clean_other(fld, value, decision.other)
        quote, page = _evidence(decision)
        return value, other, quote, page, Answer.Source.EDITED
    raise values.InvalidValue("Take one of the answers, or write the value.")


@transaction.atomic
def save_consensus(project: Project, study: Study, *, membership, decisions: dict[str, Decision],
                   base: str, complete: bool = False) -> Extraction:
    """Save the consensus maker's decisions on `study` (main round, dual mode), and with
    `complete` settle it: the consensus becomes the study's data. All or nothing: any
    invalid decision raises `Invalid` with a message per field and saves none.

    Both extractions are locked first (in id order) and the consensus row after them, so
    two people settling one study at once take turns; the second is refused, because the
    consensus moved on from the revision (`base`) their page showed, or because it is
    complete. Each changed answer is logged with before/after, source and note (sealed
    until completion, which opens the whole study's log)."""
    user = membership.user
    settings = settings_for(project)
    if settings.mode == Mode.SINGLE:
        raise ExtractionError("Single mode: a study's one extraction is its data, there is "
                              "no consensus.")
    if not is_included(project, study):
        raise ExtractionError("This study is no longer included: its extractions are kept "
                              "but no longer settled.")
    extractions = list(Extraction.objects.select_for_update().filter(
        study=study, round=Round.MAIN, role=Extraction.Role.EXTRACTOR).order_by("id"))
    pair = [e for e in extractions if e.status == Status.COMPLETE][:2]
    if len(pair) < 2:
        raise ExtractionError("Consensus starts when both extractions of the study are "
                              "complete.")
    first, second = pair
    if not can_settle(settings, membership, {first.reviewer_id, second.reviewer_id}):
        raise ExtractionError("You may not settle this study's consensus.")
    consensus = (Extraction.objects.select_for_update(of=("self",))
                 .filter(study=study, round=Round.MAIN, role=Extraction.Role.CONSENSUS)
                 .select_related("reviewer").first())
    if consensus is not None and consensus.status == Status.COMPLETE:
        raise ExtractionError(f"{consensus.reviewer} has settled this study already.")
    if revision(consensus) != base:
        who = consensus.reviewer if consensus is not None else "Someone"
        raise ExtractionError(f"{who} saved this study's consensus meanwhile: reload the "
                              "page to see their decisions.")
    form = _form_or_error(project)
    fields = {f.key: f for f in live_fields(form)}
    sides = {e.pk: {a.field_id: a for a in e.answers.all()} for e in pair}
    decided: dict[Field, tuple] = {}
    errors: dict[str, str] = {}
    for key, decision in decisions.items():
        fld = fields.get(key)
        if fld is None:
            errors[key] = "This field is no longer on the form: reload the page."
            continue
        try:
            value, other, quote, page, source = _decide(
                fld, decision, sides[first.pk].get(fld.pk), sides[second.pk].get(fld.pk))
            note = (decision.note or "").strip()
            if len(note) > NOTE_MAX:
                raise values.InvalidValue(f"A note has at most {NOTE_MAX} characters.")
        except values.InvalidValue as exc:
            errors[key] = exc.message
            continue
        decided[fld] = (value, other, quote, page, source, note)
    if errors:
        raise Invalid(errors)
    now = timezone.now()
    version = current_version(form)
    if consensus is None:
        consensus = Extraction.objects.create(project=project, study=study, round=Round.MAIN,
                                              role=Extraction.Role.CONSENSUS, reviewer=user,
                                              version=version, created_at=now)
        # Identical answers are pre-filled: the consensus starts from what both gave.
        for fld in fields.values():
            a, b = sides[first.pk].get(fld.pk), sides[second.pk].get(fld.pk)
            if fld not in decided and queries.comparable(fld, a) is not None \
                    and queries.comparable(fld, a) == queries.comparable(fld, b):
                decided[fld] = (*_decide(fld, Decision(Take.AGREED), a, b), "")
    existing = {a.field_id: a for a in consensus.answers.all()}
    for fld, (value, other, quote, page, source, note) in decided.items():
        _write_answer(project, consensus, fld, existing.get(fld.pk), value=value, other=other,
                      quote=quote, page=page, source=source, note=note, user=user,
                      action="consensus.answer", now=now)
    if complete:
        answers = {a.field_id: a for a in consensus.answers.all()}
        def both_empty(f: Field) -> bool:
            return (queries.comparable(f, sides[first.pk].get(f.pk)) is None
                    and queries.comparable(f, sides[second.pk].get(f.pk)) is None)

        missing = [f.key for f in fields.values()
                   if f.pk not in answers and f not in decided and not both_empty(f)]
        errors = {key: "Decide this field: take one of the answers or write the value."
                  for key in missing}
        errors |= {k: m for k, m in completeness_errors(list(fields.values()), answers).items()
                   if k not in errors}
        if errors:
            raise Invalid(errors)
        consensus.status, consensus.completed_at = Status.COMPLETE, now
        sources = Counter(a.source or Answer.Source.AGREED for a in answers.values())
        audit.record(project=project, actor=user, action="consensus.complete",
                     target=consensus, before={"status": Status.DRAFT},
                     after={"status": Status.COMPLETE, "version": version.number,
                            "answers": dict(sorted(sources.items())),
                            "extractions": [first.pk, second.pk]})
    consensus.reviewer, consensus.version, consensus.updated_at = user, version, now
    consensus.save(update_fields=["reviewer", "version", "updated_at", "status",
                                  "completed_at"])
    if complete:
        for extraction in (first, second, consensus):
            audit.unseal(target=extraction)
    return consensus


@transaction.atomic
def reopen_consensus(project: Project, study: Study, *, membership) -> Extraction:
    """A lead takes a settled study back to awaiting consensus (its answers stay, to be
    decided again); the log keeps everything."""
    if not membership.has_role(Role.LEAD):
        raise ExtractionError("Only a lead can reopen a study's consensus.")
    list(Extraction.objects.select_for_update().filter(
        study=study, round=Round.MAIN, role=Extraction.Role.EXTRACTOR).order_by("id"))
    consensus = Extraction.objects.select_for_update().filter(
        study=study, round=Round.MAIN, role=Extraction.Role.CONSENSUS).first()
    if consensus is None or consensus.status != Status.COMPLETE:
        raise ExtractionError("This study's consensus is not complete.")
    consensus.status, consensus.completed_at = Status.DRAFT, None
    consensus.updated_at = timezone.now()
    consensus.save(update_fields=["status", "completed_at", "updated_at"])
    audit.record(project=project, actor=membership.user, action="consensus.reopen",
                 target=consensus, before={"status": Status.COMPLETE},
                 after={"status": Status.DRAFT})
    return consensus
