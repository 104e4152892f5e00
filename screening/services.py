"""Votes and the rules that settle a record. Every write locks the record row first
(`references.holds.lock_record`, as merges do), then its Screening rows FOR UPDATE, title and
abstract before full text: concurrent reviewers are serialised per record, a record never gets
more votes than needed, nobody votes twice, settling happens exactly once, and a merge that
committed a moment before is seen (a duplicate is not screened)."""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from projects import audit
from projects.models import ROLE_RANK, AuditEvent, Membership, Project, Role
from references import holds
from references.holds import Hold
from references.models import Record

from . import signals
from .models import (
    DEFAULT_EXCLUSION_REASONS,
    Assignment,
    Claim,
    Decision,
    ExclusionReason,
    FullText,
    QueuePosition,
    Screening,
    Stage,
    StageSettings,
    Vote,
)

State = Screening.State


class ScreeningError(Exception):
    """A rule was broken; the message says which, for the user."""


def settings_for(project: Project, stage: str) -> StageSettings:
    """The stage's settings, created with the defaults the first time they are needed: at
    full text, with the default exclusion reasons as rows, in the same transaction."""
    obj = StageSettings.objects.filter(project=project, stage=stage).first()
    if obj is not None:
        return obj
    try:
        with transaction.atomic():
            obj = StageSettings.objects.create(project=project, stage=stage)
            if stage == Stage.FULL_TEXT:
                ExclusionReason.objects.bulk_create(
                    [ExclusionReason(project=project, stage=stage, label=label, position=i)
                     for i, label in enumerate(DEFAULT_EXCLUSION_REASONS)],
                    ignore_conflicts=True)
    except IntegrityError:  # created by a concurrent request in between
        obj = StageSettings.objects.get(project=project, stage=stage)
    return obj


def reason_label(reason: ExclusionReason | None) -> str:
    """A reason as the audit log and messages write it ("" for none)."""
    return reason.label if reason is not None else ""


def find_reason(project_id: int, stage: str,
                reason: "ExclusionReason | int | str | None") -> ExclusionReason | None:
    """The exclusion reason given as a row, its id (views post it) or its label (commands,
    the demo, tests); None when none is given. Refuses one of another project or stage, and
    a retired one: it is still counted, but no longer chosen."""
    if reason is None or reason == "":
        return None
    ours = ExclusionReason.objects.filter(project_id=project_id, stage=stage)
    if isinstance(reason, ExclusionReason):
        row = reason if (reason.project_id, reason.stage) == (project_id, stage) else None
    elif isinstance(reason, int) or str(reason).strip().isdigit():
        row = ours.filter(pk=int(reason)).first() or ours.filter(label=str(reason)).first()
    else:
        row = ours.filter(label=reason).first()
    if row is None:
        raise ScreeningError(f"“{reason}” is not one of this project's exclusion reasons.")
    if not row.active:
        raise ScreeningError(f"“{row.label}” is a retired exclusion reason: choose another.")
    return row


def _lock_record(record_id: int) -> Record:
    """The record row, locked as merges lock it; a duplicate (merged, perhaps a moment ago,
    after the caller loaded its copy) is refused from this fresh row."""
    locked = holds.lock_record(record_id)
    if locked.duplicate_of_id is not None:
        raise ScreeningError("This record is a duplicate: it is not screened.")
    if locked.removed_reason:
        raise ScreeningError("This record was removed before screening: it is not screened.")
    return locked


def _locked_screening(record: Record, stage: str) -> Screening:
    """The record's Screening row at `stage`, created if missing, locked FOR UPDATE."""
    screening = Screening.objects.select_for_update().filter(record=record, stage=stage).first()
    if screening is not None:
        return screening
    try:
        with transaction.atomic():
            Screening.objects.create(project_id=record.project_id, record=record, stage=stage)
    except IntegrityError:
        pass  # another request created it first: lock theirs
    return Screening.objects.select_for_update().get(record=record, stage=stage)


def _outcome(stage: str, votes: list[Vote]) -> tuple[str, ExclusionReason | None]:
    """The state the votes settle a record in, and the exclusion reason where there is one."""
    decisions = {v.decision for v in votes}
    if stage == Stage.TITLE_ABSTRACT:
        if decisions <= {Decision.INCLUDE, Decision.MAYBE}:  # maybe counts as include
            return State.INCLUDED, None
        if decisions == {Decision.EXCLUDE}:
            return State.EXCLUDED, None
        return State.CONFLICT, None
    if decisions == {Decision.INCLUDE}:
        return State.INCLUDED, None
    if decisions == {Decision.EXCLUDE} and len({v.reason_id for v in votes}) == 1:
        return State.EXCLUDED, votes[0].reason
    return State.CONFLICT, None


def _check_vote(stage: str, settings: StageSettings, decision: str,
                reason: "ExclusionReason | int | str | None") -> ExclusionReason | None:
    """Refuse a vote the stage does not allow; the reason row of an exclusion (at full text
    one is needed), None for other decisions."""
    if decision not in Decision.values:
        raise ScreeningError(f"Unknown decision: {decision}")
    if decision == Decision.MAYBE and not settings.allow_maybe:
        raise ScreeningError("Maybe is not offered at this stage.")
    if decision != Decision.EXCLUDE:
        return None
    row = find_reason(settings.project_id, stage, reason)
    if stage == Stage.FULL_TEXT and row is None:
        raise ScreeningError("An exclusion at full text needs a reason.")
    return row


@transaction.atomic
def record_vote(record: Record, *, stage: str, reviewer, decision: str, reason: str = "",
                note: str = "", settings: StageSettings | None = None) -> Screening:
    """Cast or change `reviewer`'s vote on `record` at `stage`; settle the record when the
    needed number of votes are in and agree. `settings`: the stage's, when the caller has
    them already."""
    project = record.project
    if settings is None:
        settings = settings_for(project, stage)
    reason = _check_vote(stage, settings, decision, reason)  # the row; None unless excluding
    locked = _lock_record(record.pk)
    if stage == Stage.FULL_TEXT:
        # Title and abstract locked before full text, as `reopen` takes them: a reopening
        # and a first full-text vote never both succeed.
        passed = Screening.objects.select_for_update().filter(
            record_id=record.pk, stage=Stage.TITLE_ABSTRACT).values_list("state", flat=True)
        if list(passed) != [State.INCLUDED] and not locked.source.starts_at_full_text:
            raise ScreeningError("This record has not passed title and abstract screening.")
    elif locked.source.starts_at_full_text:
        raise ScreeningError("This record's source starts at full text: it is not screened "
                             "on title and abstract.")
    screening = _locked_screening(record, stage)
    screening.project = project  # the same row: the audit events need not load it again
    if screening.is_settled:
        raise ScreeningError("This record is settled already.")
    if screening.state == State.NOT_RETRIEVED:
        raise ScreeningError("This record's full text was not retrieved: it is not assessed.")
    assigned = set(Assignment.objects.filter(record=record, stage=stage).values_list(
        "reviewer_id", flat=True))
    if assigned and reviewer.pk not in assigned:
        raise ScreeningError("This record is assigned to other reviewers.")
    vote = Vote.objects.filter(screening=screening, reviewer=reviewer).first()
    now = timezone.now()
    if vote is None:
        if screening.votes_in >= settings.reviewers_needed:
            raise ScreeningError("This record has all the votes it needs.")
        vote = Vote.objects.create(screening=screening, reviewer=reviewer, decision=decision,
                                   reason=reason, note=note, created_at=now, updated_at=now)
        screening.votes_in += 1
        if not locked.hold & Hold.SCREENING:  # the record's first vote, at any stage
            holds.set_hold([record.pk], Hold.SCREENING)
        # The claim has served (and this reviewer's expired ones, left by a closed screen).
        Claim.objects.filter(Q(screening=screening) | Q(expires_at__lte=now),
                             reviewer=reviewer).delete()
        audit.record(project=project, actor=reviewer, action="vote.cast", target=screening,
                     after={"stage": stage, "decision": decision,
                            "reason": reason_label(reason), "note": note}, sealed=True)
    else:
        before = {"decision": vote.decision, "reason": reason_label(vote.reason),
                  "note": vote.note}
        vote.decision, vote.reason, vote.note, vote.updated_at = decision, reason, note, now
        vote.save(update_fields=["decision", "reason", "note", "updated_at"])
        audit.record(project=project, actor=reviewer, action="vote.change", target=screening,
                     before=before, after={"decision": decision,
                                           "reason": reason_label(reason), "note": note},
                     sealed=True)
    _evaluate(screening, settings)
    signals.after_commit(project.pk, stage)
    return screening


@dataclass(frozen=True)
class VoteSpec:
    """One vote of a `record_votes` batch: what `record_vote` takes for one call."""

    record: Record
    reviewer: Any
    decision: str
    reason: "ExclusionReason | int | str | None" = ""
    note: str = ""


@transaction.atomic
def record_votes(project: Project, *, stage: str, votes: list[VoteSpec],
                 settings: StageSettings | None = None) -> int:
    """Cast or change many votes at `stage` at once, by any reviewers: the same rows, states,
    holds, claims removed and audit events (with the same sealing) as `record_vote` for each
    vote in order, in a number of queries that does not grow with the batch (for imports of
    decisions and the demo seed). Each reviewer must be a member with the reviewer role.

    Atomic: the first vote `record_vote` would refuse raises its ScreeningError, prefixed
    with the record, and nothing is written. Locks the records in id order (as merges and
    `_evaluate_full` take them), then their title/abstract rows, then their rows at `stage`:
    the order a single vote takes them. Returns how many votes were recorded."""
    if not votes:
        return 0
    if settings is None:
        settings = settings_for(project, stage)
    now = timezone.now()
    needed = settings.reviewers_needed
    roles = dict(Membership.objects.filter(
        project=project, user_id__in={v.reviewer.pk for v in votes}).values_list("user_id", "role"))
    reasons = (list(ExclusionReason.objects.filter(project_id=project.pk, stage=stage))
               if any(v.decision == Decision.EXCLUDE for v in votes) else [])
    record_ids = sorted({v.record.pk for v in votes})
    locked = {r.pk: r for r in Record.objects.select_for_update(no_key=True, of=("self",))
              .select_related("source")
              .only("id", "project_id", "duplicate_of_id", "hold", "removed_reason",
                    "source__starts_at_full_text")
              .filter(pk__in=record_ids).order_by("id")}
    passed: dict[int, list[str]] = {}
    if stage == Stage.FULL_TEXT:
        for rid, state in (Screening.objects.select_for_update()
                           .filter(record_id__in=record_ids, stage=Stage.TITLE_ABSTRACT)
                           .order_by("record_id").values_list("record_id", "state")):
            passed.setdefault(rid, []).append(state)
    rows = _locked_screenings(project, stage, [rid for rid, r in locked.items()
                                               if r.project_id == project.pk])
    ballots: dict[int, dict[int, Vote]] = {row.pk: {} for row in rows.values()}
    for vote in Vote.objects.filter(screening__in=list(rows.values())).select_related("reason"):
        ballots[vote.screening_id][vote.reviewer_id] = vote
    assigned: dict[int, set[int]] = {}
    for rid, uid in Assignment.objects.filter(record_id__in=record_ids, stage=stage).values_list(
            "record_id", "reviewer_id"):
        assigned.setdefault(rid, set()).add(uid)

    # Every vote in order, in memory, as `record_vote` and `_evaluate` would take it.
    created: list[Vote] = []
    changed: dict[int, Vote] = {}  # existing votes by id
    # (the target as it read then, actor, action, before, after)
    events: list[tuple[Screening, Any, str, dict | None, dict]] = []
    sealed_at: dict[int, list[int]] = {}  # screening id -> indexes of its events still sealed
    unsealed: set[int] = set()  # screenings whose events written before the batch are unsealed
    hold, claimed = set(), {}
    for spec in votes:
        rid, reviewer, decision = spec.record.pk, spec.reviewer, spec.decision
        try:
            if ROLE_RANK.get(roles.get(reviewer.pk), 0) < ROLE_RANK[Role.REVIEWER]:
                raise ScreeningError(f"{reviewer} is not a reviewer of this project.")
            reason = _check_vote_in(stage, settings, decision, spec.reason, reasons)
            record = locked.get(rid)
            if record is None or record.project_id != project.pk:
                raise ScreeningError("This record is not one of this project's records.")
            if record.duplicate_of_id is not None:
                raise ScreeningError("This record is a duplicate: it is not screened.")
            if record.removed_reason:
                raise ScreeningError("This record was removed before screening: it is not "
                                     "screened.")
            at_full_text = record.source.starts_at_full_text
            if stage == Stage.FULL_TEXT:
                if passed.get(rid, []) != [State.INCLUDED] and not at_full_text:
                    raise ScreeningError("This record has not passed title and abstract "
                                         "screening.")
            elif at_full_text:
                raise ScreeningError("This record's source starts at full text: it is not "
                                     "screened on title and abstract.")
            screening = rows[rid]
            if screening.is_settled:
                raise ScreeningError("This record is settled already.")
            if screening.state == State.NOT_RETRIEVED:
                raise ScreeningError("This record's full text was not retrieved: it is not "
                                     "assessed.")
            if assigned.get(rid) and reviewer.pk not in assigned[rid]:
                raise ScreeningError("This record is assigned to other reviewers.")
            ballot = ballots[screening.pk]
            vote = ballot.get(reviewer.pk)
            if vote is None and screening.votes_in >= needed:
                raise ScreeningError("This record has all the votes it needs.")
        except ScreeningError as exc:
            raise ScreeningError(f"Record #{rid} ({reviewer}): {exc}") from None
        as_read = Screening(pk=screening.pk, record_id=rid, stage=stage, state=screening.state)
        if vote is None:
            vote = Vote(screening=screening, reviewer=reviewer, decision=decision, reason=reason,
                        note=spec.note, created_at=now, updated_at=now)
            ballot[reviewer.pk] = vote
            created.append(vote)
            screening.votes_in += 1
            if not record.hold & Hold.SCREENING:
                hold.add(rid)
            claimed.setdefault(reviewer.pk, set()).add(screening.pk)
            events.append((as_read, reviewer, "vote.cast", None,
                           {"stage": stage, "decision": decision,
                            "reason": reason_label(reason), "note": spec.note}))
        else:
            before = {"decision": vote.decision, "reason": reason_label(vote.reason),
                      "note": vote.note}
            vote.decision, vote.reason, vote.note, vote.updated_at = (decision, reason,
                                                                      spec.note, now)
            if vote.pk is not None:
                changed[vote.pk] = vote
            events.append((as_read, reviewer, "vote.change", before,
                           {"decision": decision, "reason": reason_label(reason),
                            "note": spec.note}))
        sealed_at.setdefault(screening.pk, []).append(len(events) - 1)
        # `_evaluate`, on the row in memory.
        state, settled_for = ((State.PENDING, None) if screening.votes_in < needed
                              else _outcome(stage, list(ballot.values())))
        was = screening.state
        screening.state, screening.reason = state, settled_for
        screening.settled_at = now if screening.is_settled else None
        screening.settled_by = None
        if state != was and state != State.PENDING:
            events.append((Screening(pk=screening.pk, record_id=rid, stage=stage, state=state),
                           None, "screening.conflict" if state == State.CONFLICT
                           else "screening.settle", {"state": was},
                           {"state": state, "reason": reason_label(settled_for),
                            "by": "agreement"}))
        if state != State.PENDING:
            unsealed.add(screening.pk)
            sealed_at[screening.pk] = []

    # The writes, each once for the whole batch.
    Vote.objects.bulk_create(created)
    if changed:
        Vote.objects.bulk_update(list(changed.values()),
                                 ["decision", "reason", "note", "updated_at"])
    # One UPDATE per outcome (a few), not bulk_update's CASE per row, which is slow to build.
    outcomes: dict[tuple, list[int]] = {}
    for row in rows.values():
        if row.pk in sealed_at:
            outcomes.setdefault((row.state, row.reason_id, row.votes_in), []).append(row.pk)
    for (state, reason_id, votes_in), pks in outcomes.items():
        Screening.objects.filter(pk__in=pks).update(
            state=state, reason_id=reason_id, votes_in=votes_in, settled_by=None,
            settled_at=now if state in (State.INCLUDED, State.EXCLUDED) else None)
    if hold:
        holds.set_hold(hold, Hold.SCREENING)
    if claimed:
        served = Q(reviewer_id__in=list(claimed), expires_at__lte=now)
        for reviewer_id, screening_ids in claimed.items():
            served |= Q(reviewer_id=reviewer_id, screening_id__in=list(screening_ids))
        Claim.objects.filter(served).delete()
    if unsealed:  # the events already written, before this batch's own are
        AuditEvent.objects.filter(project_id=project.pk, target_type=Screening._meta.label,
                                  target_id__in=[str(pk) for pk in unsealed],
                                  sealed=True).update(sealed=False)
    still_sealed = {i for indexes in sealed_at.values() for i in indexes}
    _write_events(project, events, still_sealed)
    signals.after_commit(project.pk, stage, n=len(votes))
    return len(votes)


def _write_events(project: Project, events: list, sealed: set[int]) -> None:
    """The batch's audit events, through `audit.record_many` (one actor and action per call),
    so that each target's events are written in the order they happened: the k-th event of
    every target is written before the (k+1)-th of any."""
    groups: dict[tuple, list] = {}
    position: dict[int, int] = {}
    for i, (target, actor, action, before, after) in enumerate(events):
        k = position[target.pk] = position.get(target.pk, -1) + 1
        key = (k, actor.pk if actor is not None else None, action, i in sealed)
        groups.setdefault(key, [actor, []])[1].append((target, before, after))
    for (_k, _actor_id, action, is_sealed), (actor, changes) in sorted(
            groups.items(), key=lambda item: item[0][0]):
        audit.record_many(project=project, actor=actor, action=action, changes=changes,
                          sealed=is_sealed)


def _locked_screenings(project: Project, stage: str, record_ids: list[int]) -> dict[int, Screening]:
    """The records' Screening rows at `stage` by record id, those missing created, all locked
    FOR UPDATE in record order."""
    rows = {s.record_id: s for s in Screening.objects.select_for_update()
            .filter(record_id__in=record_ids, stage=stage).order_by("record_id")}
    missing = [rid for rid in record_ids if rid not in rows]
    if missing:
        Screening.objects.bulk_create(
            [Screening(project=project, record_id=rid, stage=stage) for rid in missing],
            ignore_conflicts=True)  # a claim may create one in between
        rows.update((s.record_id, s) for s in Screening.objects.select_for_update()
                    .filter(record_id__in=missing, stage=stage).order_by("record_id"))
    return rows


def _check_vote_in(stage: str, settings: StageSettings, decision: str,
                   reason: "ExclusionReason | int | str | None",
                   reasons: list[ExclusionReason]) -> ExclusionReason | None:
    """`_check_vote` against the stage's reasons loaded once (`find_reason`'s rules)."""
    if decision not in Decision.values:
        raise ScreeningError(f"Unknown decision: {decision}")
    if decision == Decision.MAYBE and not settings.allow_maybe:
        raise ScreeningError("Maybe is not offered at this stage.")
    if decision != Decision.EXCLUDE:
        return None
    row = None
    if reason is None or reason == "":
        pass
    elif isinstance(reason, ExclusionReason):
        row = reason if (reason.project_id, reason.stage) == (settings.project_id, stage) else None
        if row is None:
            raise ScreeningError(f"“{reason}” is not one of this project's exclusion reasons.")
    else:
        by_label = {r.label: r for r in reasons}
        if isinstance(reason, int) or str(reason).strip().isdigit():
            row = ({r.pk: r for r in reasons}.get(int(reason)) or by_label.get(str(reason)))
        else:
            row = by_label.get(reason)
        if row is None:
            raise ScreeningError(f"“{reason}” is not one of this project's exclusion reasons.")
    if row is not None and not row.active:
        raise ScreeningError(f"“{row.label}” is a retired exclusion reason: choose another.")
    if stage == Stage.FULL_TEXT and row is None:
        raise ScreeningError("An exclusion at full text needs a reason.")
    return row


def _evaluate(screening: Screening, settings: StageSettings) -> None:
    """Settle, mark a conflict, or leave pending, from the votes in. Votes are sealed in the
    log while their record is pending (nobody who could still vote on it reads them); once
    all are in (settled or conflict, when resolvers see them anyway) they are unsealed."""
    if screening.votes_in < settings.reviewers_needed:  # kept exact under the row lock
        state, reason = State.PENDING, None
    else:
        state, reason = _outcome(screening.stage, list(screening.votes.all()))
    was = screening.state
    screening.state, screening.reason = state, reason
    screening.settled_at = timezone.now() if screening.is_settled else None
    screening.settled_by = None
    screening.save(update_fields=["state", "reason", "settled_at", "settled_by", "votes_in"])
    if state != was and state != State.PENDING:
        audit.record(project=screening.project, actor=None,
                     action="screening.conflict" if state == State.CONFLICT
                     else "screening.settle", target=screening,
                     before={"state": was}, after={"state": state,
                                                   "reason": reason_label(reason),
                                                   "by": "agreement"})
    if state != State.PENDING:
        audit.unseal(target=screening)


@transaction.atomic
def undo_vote(record: Record, *, stage: str, reviewer,
              settings: StageSettings | None = None) -> Screening:
    """Take back `reviewer`'s vote while the record is not settled. The last vote on the
    record, at any stage, releases its screening hold."""
    locked = _lock_record(record.pk)
    screening = _locked_screening(record, stage)
    screening.project = record.project
    if screening.is_settled:
        raise ScreeningError("This record is settled already.")
    vote = Vote.objects.filter(screening=screening, reviewer=reviewer).first()
    if vote is None:
        raise ScreeningError("You have not voted on this record.")
    audit.record(project=screening.project, actor=reviewer, action="vote.undo",
                 target=screening, before={"decision": vote.decision,
                                           "reason": reason_label(vote.reason),
                                           "note": vote.note}, sealed=True)
    vote.delete()
    screening.votes_in -= 1
    _evaluate(screening, settings or settings_for(screening.project, stage))
    if (locked.hold & Hold.SCREENING and screening.votes_in == 0
            and not Screening.objects.filter(record_id=record.pk, votes_in__gt=0).exists()):
        holds.release_hold([record.pk], Hold.SCREENING)
    signals.after_commit(record.project_id, stage)
    return screening


# How long a record stays with the reviewer who was given it before others may be given it
# too (a claim only steers the queue: a vote is accepted while the record has room).
CLAIM_TTL = timedelta(minutes=10)


def claim_next(project: Project, stage: str, reviewer, *, settings: StageSettings | None = None,
               exclude=()) -> Record | None:
    """Give `reviewer` their next record and claim it (see `screening.queries`): the one they
    already have open, else the first with room for their vote that no concurrent request is
    claiming: records others have voted on first, then fresh ones, by score when the stage
    is served by score (`queries.ranked`), else in record order. `exclude`: records already
    on their screen."""
    record_id = _claim_next_id(project, stage, reviewer, settings=settings, exclude=exclude)
    return Record.objects.get(pk=record_id) if record_id is not None else None


def _claim_next_id(project: Project, stage: str, reviewer, *,
                   settings: StageSettings | None = None, exclude=()) -> int | None:
    from . import queries

    if settings is None:
        settings = settings_for(project, stage)
    now = timezone.now()
    mine = queries.claimed_by(project, stage, reviewer, now=now, exclude=exclude)
    if mine:
        return mine[0]
    needed = settings.reviewers_needed
    by_score = queries.ranked(settings)
    steps = [(lambda: queries.open_with_room(project, stage, reviewer, needed=needed, now=now,
                                             exclude=exclude, by_score=by_score), False, False)]
    if by_score:  # fresh records by score: the queue position (record order) stays put
        steps.append((lambda: queries.ranked_fresh(project, stage, reviewer, exclude=exclude),
                      True, False))
    steps.append((lambda: queries.fresh(project, stage, reviewer, exclude=exclude), True, True))
    for find, is_fresh, advance in steps:
        for record_id in find():
            if _claim(project, stage, reviewer, record_id, needed=needed, now=now,
                      fresh=is_fresh, advance=advance):
                return record_id
    # The rest, at the end of the queue: a record others have open is still a record.
    record_id = queries.rest(project, stage, reviewer, needed=needed, now=now,
                             exclude=exclude).first()
    if record_id is not None:
        _claim(project, stage, reviewer, record_id, needed=None, now=now, fresh=True,
               advance=False)
    return record_id


@transaction.atomic
def _claim(project: Project, stage: str, reviewer, record_id: int, *, needed: int | None, now,
           fresh: bool, advance: bool = True) -> bool:
    """Claim one record for `reviewer` if nobody else is claiming or voting on it right now
    (SKIP LOCKED: move on rather than wait) and it has room (`needed` None: regardless)."""
    if connection.vendor == "postgresql":
        # A claim only steers the queue: losing the last ones in a crash costs nothing, so
        # it need not wait for the disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    if fresh:
        Screening.objects.bulk_create([Screening(project=project, record_id=record_id,
                                                 stage=stage)], ignore_conflicts=True)
    if fresh and advance:
        QueuePosition.objects.bulk_create(
            [QueuePosition(project=project, stage=stage, reviewer=reviewer,
                           frontier=record_id)],
            update_conflicts=True, unique_fields=["project", "stage", "reviewer"],
            update_fields=["frontier"])
    screening = (Screening.objects.select_for_update(skip_locked=True)
                 .filter(record_id=record_id, stage=stage, state=State.PENDING).first())
    if screening is None:
        return False
    if needed is not None:
        others = Claim.objects.filter(screening=screening, expires_at__gt=now).exclude(
            reviewer=reviewer).count()
        if screening.votes_in + others >= needed:
            return False
    Claim.objects.bulk_create([Claim(screening=screening, reviewer=reviewer,
                                     expires_at=now + CLAIM_TTL)],
                              update_conflicts=True, unique_fields=["screening", "reviewer"],
                              update_fields=["expires_at"])
    return True


def can_resolve(screening: Screening, membership,
                settings: StageSettings | None = None) -> bool:
    if membership.has_role(Role.LEAD):
        return True
    settings = settings or settings_for(screening.project, screening.stage)
    if settings.resolver == StageSettings.Resolver.NON_VOTERS:
        return membership.has_role(Role.REVIEWER) and not screening.votes.filter(
            reviewer_id=membership.user_id).exists()
    return False


@transaction.atomic
def resolve(screening: Screening, *, membership, decision: str, reason: str = "",
            note: str = "") -> Screening:
    """Settle a conflict: the resolver decides (with a reason when excluding at full text)."""
    _lock_record(screening.record_id)
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if screening.state != State.CONFLICT:
        raise ScreeningError("Only a record in conflict can be resolved.")
    settings = settings_for(screening.project, screening.stage)
    if not can_resolve(screening, membership, settings):
        raise ScreeningError("You may not resolve this conflict.")
    if decision not in (Decision.INCLUDE, Decision.EXCLUDE):
        raise ScreeningError("A resolution includes or excludes.")
    reason = _check_vote(screening.stage, settings, decision, reason)
    screening.state = State.INCLUDED if decision == Decision.INCLUDE else State.EXCLUDED
    screening.reason, screening.note = reason, note
    screening.settled_at, screening.settled_by = timezone.now(), membership.user
    screening.save(update_fields=["state", "reason", "note", "settled_at", "settled_by"])
    audit.record(project=screening.project, actor=membership.user, action="screening.resolve",
                 target=screening, before={"state": State.CONFLICT},
                 after={"state": screening.state, "reason": reason_label(reason),
                        "note": note})
    audit.unseal(target=screening)
    signals.after_commit(screening.project_id, screening.stage)
    return screening


@transaction.atomic
def reopen(screening: Screening, *, membership) -> Screening:
    """A lead takes back a settled outcome. With all votes in, the record becomes a conflict
    for a resolver to decide again (even if the votes agreed: the lead questions them);
    with fewer (a vote undone since), it needs votes again. The history keeps everything."""
    if not membership.has_role(Role.LEAD):
        raise ScreeningError("Only a lead can reopen a record.")
    user = membership.user
    _lock_record(screening.record_id)
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if not screening.is_settled:
        raise ScreeningError("Only a settled record can be reopened.")
    # The full-text row after the title/abstract one, the order a full-text vote takes them.
    if screening.stage == Stage.TITLE_ABSTRACT and any(
            Screening.objects.select_for_update().filter(
                record_id=screening.record_id, stage=Stage.FULL_TEXT,
            ).values_list("votes_in", flat=True)):
        raise ScreeningError("This record has full-text votes: reopen it at full text first.")
    before = {"state": screening.state, "reason": reason_label(screening.reason),
              "note": screening.note}
    needed = settings_for(screening.project, screening.stage).reviewers_needed
    screening.state = State.CONFLICT if screening.votes_in >= needed else State.PENDING
    screening.reason, screening.note = None, ""
    screening.settled_at = screening.settled_by = None
    screening.save(update_fields=["state", "reason", "note", "settled_at", "settled_by"])
    audit.record(project=screening.project, actor=user, action="screening.reopen",
                 target=screening, before=before, after={"state": screening.state})
    signals.after_commit(screening.project_id, screening.stage)
    return screening


SETTINGS_FIELDS = ("reviewers_needed", "allow_maybe", "resolver", "include_terms",
                   "exclude_terms", "order", "order_seed")


@transaction.atomic
def update_settings(settings: StageSettings, *, user, **changes) -> dict[str, int]:
    """Change a stage's settings. Fewer reviewers needed: the pending records that already
    have that many votes are settled (or put in conflict) now, in the same transaction, as
    their last vote would have; more needed leaves settled records as they are. Returns
    how many records that re-evaluation left in each state."""
    settings = StageSettings.objects.select_for_update().get(pk=settings.pk)
    before = {f: getattr(settings, f) for f in SETTINGS_FIELDS}
    for name, value in changes.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"Not a stage setting: {name}")
        setattr(settings, name, value)
    changed = [f for f in SETTINGS_FIELDS if getattr(settings, f) != before[f]]
    if changed:
        settings.save(update_fields=changed)
        audit.record(project=settings.project, actor=user, action="stage.settings",
                     target=settings, before={f: before[f] for f in changed},
                     after={f: getattr(settings, f) for f in changed})
    if {"order", "order_seed"} & set(changed):
        signals.after_commit(settings.project_id, settings.stage, n=0, order_changed=True)
    if settings.reviewers_needed < before["reviewers_needed"]:
        return _evaluate_full(settings)
    return {}


def _evaluate_full(settings: StageSettings) -> dict[str, int]:
    """Evaluate the stage's pending records that have all the votes `settings` needs (left
    stranded by a lower number), under their record locks, taken in record order as
    merges take them."""
    full = Screening.objects.filter(project_id=settings.project_id, stage=settings.stage,
                                    state=State.PENDING,
                                    votes_in__gte=settings.reviewers_needed)
    record_ids = list(Record.objects.select_for_update(no_key=True).filter(
        pk__in=full.values("record_id"), duplicate_of__isnull=True,
    ).order_by("id").values_list("id", flat=True))
    outcome: dict[str, int] = {}
    for screening in (full.filter(record_id__in=record_ids).select_for_update()
                      .prefetch_related("votes").order_by("record_id")):
        screening.project = settings.project
        _evaluate(screening, settings)
        outcome[screening.state] = outcome.get(screening.state, 0) + 1
    return outcome


def _reason_label_of(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise ScreeningError("A reason needs a few words.")
    if len(label) > 200:
        raise ScreeningError("A reason has at most 200 characters.")
    return label


def _lock_reasons(project_id: int, stage: str) -> None:
    """Serialise the edits of a stage's reasons on its settings row (positions, names)."""
    StageSettings.objects.select_for_update().filter(project_id=project_id, stage=stage).first()


def _refuse_taken_label(reason_or_none, project_id: int, stage: str, label: str) -> None:
    taken = ExclusionReason.objects.filter(project_id=project_id, stage=stage, label=label)
    if reason_or_none is not None:
        taken = taken.exclude(pk=reason_or_none.pk)
    if taken.exists():
        raise ScreeningError(f"“{label}” is already a reason at this stage.")


@transaction.atomic
def add_reason(project: Project, stage: str, *, label: str, user) -> ExclusionReason:
    """Offer a new exclusion reason at `stage`, after the others."""
    settings_for(project, stage)
    _lock_reasons(project.pk, stage)
    label = _reason_label_of(label)
    _refuse_taken_label(None, project.pk, stage, label)
    last = (ExclusionReason.objects.filter(project=project, stage=stage)
            .order_by("-position").values_list("position", flat=True).first())
    reason = ExclusionReason.objects.create(project=project, stage=stage, label=label,
                                            position=0 if last is None else last + 1)
    audit.record(project=project, actor=user, action="stage.reason.add", target=reason,
                 after={"stage": stage, "label": label, "position": reason.position})
    return reason


@transaction.atomic
def rename_reason(reason: ExclusionReason, *, label: str, user) -> ExclusionReason:
    """Rename a reason. Votes and outcomes point at the row: they keep it, and its counts
    carry over to the new name."""
    _lock_reasons(reason.project_id, reason.stage)
    reason = ExclusionReason.objects.select_for_update().get(pk=reason.pk)
    label = _reason_label_of(label)
    if label == reason.label:
        return reason
    _refuse_taken_label(reason, reason.project_id, reason.stage, label)
    before = reason.label
    reason.label = label
    reason.save(update_fields=["label"])
    audit.record(project=reason.project, actor=user, action="stage.reason.rename",
                 target=reason, before={"label": before}, after={"label": label})
    return reason


@transaction.atomic
def set_reason_active(reason: ExclusionReason, *, active: bool, user) -> ExclusionReason:
    """Retire a reason (no longer offered for new votes; the votes and outcomes that have it
    keep it and are still counted) or offer it again."""
    _lock_reasons(reason.project_id, reason.stage)
    reason = ExclusionReason.objects.select_for_update().get(pk=reason.pk)
    if reason.active == active:
        return reason
    if not active and reason.stage == Stage.FULL_TEXT and not ExclusionReason.objects.filter(
            project_id=reason.project_id, stage=reason.stage, active=True,
    ).exclude(pk=reason.pk).exists():
        raise ScreeningError("Full-text exclusions need at least one reason: add another "
                             "before retiring this one.")
    reason.active = active
    reason.save(update_fields=["active"])
    audit.record(project=reason.project, actor=user,
                 action="stage.reason.restore" if active else "stage.reason.retire",
                 target=reason, before={"active": not active}, after={"active": active})
    return reason


MAX_PDF_MB = 50


@transaction.atomic
def set_full_text(record: Record, *, user, pdf=None, url: str = "", not_retrieved: bool = False,
                  note: str = "") -> FullText:
    """Attach a PDF and/or a link to a record, or mark its full text as not retrieved: its
    full-text state becomes NOT_RETRIEVED (not assessed; PRISMA's "reports not retrieved"),
    refused once reviewers have voted on the full text. Unmarking it, or attaching a full
    text, makes it PENDING again. The record row is locked first, then its Screening rows in
    the order votes take them, so a vote either comes first (and marking is refused) or
    sees the mark (and is refused)."""
    if pdf is not None:
        head = pdf.read(5)
        pdf.seek(0)
        if head != b"%PDF-":
            raise ScreeningError(f"{pdf.name} is not a PDF file.")
        if pdf.size > MAX_PDF_MB * 1024 * 1024:
            raise ScreeningError(f"{pdf.name} is larger than {MAX_PDF_MB} MB.")
    if not_retrieved and (pdf is not None or url):
        raise ScreeningError("A full text that was not retrieved has no PDF and no link.")
    locked = holds.lock_record(record.pk)
    if not_retrieved:
        passed = list(Screening.objects.select_for_update().filter(
            record_id=record.pk, stage=Stage.TITLE_ABSTRACT).values_list("state", flat=True))
        screening = _locked_screening(record, Stage.FULL_TEXT)
    else:
        screening = Screening.objects.select_for_update().filter(
            record_id=record.pk, stage=Stage.FULL_TEXT).first()
    was_not_retrieved = screening is not None and screening.state == State.NOT_RETRIEVED
    if not_retrieved and not was_not_retrieved:
        if locked.duplicate_of_id is not None:
            raise ScreeningError("This record is a duplicate: it is not screened.")
        if locked.removed_reason:
            raise ScreeningError("This record was removed before screening: it is not "
                                 "screened.")
        if passed != [State.INCLUDED] and not locked.source.starts_at_full_text:
            raise ScreeningError("This record has not passed title and abstract screening.")
        if screening.is_settled:
            raise ScreeningError("This record is settled at full text: reopen it and undo "
                                 "its votes first.")
        if screening.votes_in or screening.state != State.PENDING:
            raise ScreeningError("This record has full-text votes: undo them first.")
        screening.state = State.NOT_RETRIEVED
        screening.save(update_fields=["state"])
        if not locked.hold & Hold.SCREENING:  # a decision PRISMA counts: never merged away
            holds.set_hold([record.pk], Hold.SCREENING)
    elif was_not_retrieved and not not_retrieved:
        screening.state = State.PENDING
        screening.save(update_fields=["state"])
        if not Screening.objects.filter(record_id=record.pk, votes_in__gt=0).exists():
            holds.release_hold([record.pk], Hold.SCREENING)
    full_text, _ = FullText.objects.select_for_update().get_or_create(
        record=record, defaults={"project_id": record.project_id})
    before = {"pdf": full_text.pdf.name, "url": full_text.url,
              "not_retrieved": was_not_retrieved, "note": full_text.note}
    if pdf is not None:
        full_text.pdf.save(pdf.name, pdf, save=False)
    if not_retrieved:
        full_text.pdf, full_text.url = "", ""
    elif url:
        full_text.url = url
    full_text.note = note
    full_text.updated_by, full_text.updated_at = user, timezone.now()
    full_text.save()
    audit.record(project=record.project, actor=user, action="fulltext.update", target=record,
                 before=before, after={"pdf": full_text.pdf.name, "url": full_text.url,
                                       "not_retrieved": not_retrieved, "note": note})
    return full_text


@transaction.atomic
def assign_batch(project: Project, *, stage: str, reviewers: list, count: int, user) -> int:
    """Give the next `count` records that nobody has voted on and nobody is assigned to
    (in record order) to `reviewers`, e.g. a pair. Returns how many records were assigned."""
    from .queries import eligible

    if not reviewers:
        raise ScreeningError("Choose at least one reviewer.")
    needed = settings_for(project, stage).reviewers_needed
    if len(reviewers) < needed:
        raise ScreeningError(f"Each record needs {needed} reviewers: choose at least {needed}.")
    # Lock the stage's settings row: two leads assigning at once take turns.
    StageSettings.objects.select_for_update().get(project=project, stage=stage)
    # An explicit subquery: `.exclude(screenings__stage=..., screenings__votes_in__gt=0)`
    # spans a multi-valued relation and would leave out every record with a vote at any
    # stage (at full text: all of them, through their title/abstract votes).
    voted = Screening.objects.filter(record=OuterRef("pk"), stage=stage, votes_in__gt=0)
    records = list(eligible(project, stage).exclude(assignments__stage=stage)
                   .exclude(Exists(voted)).order_by("id").values_list("id", flat=True)[:count])
    Assignment.objects.bulk_create([
        Assignment(project=project, stage=stage, record_id=rid, reviewer=reviewer,
                   assigned_by=user)
        for rid in records for reviewer in reviewers
    ])
    if records:
        audit.record(project=project, actor=user, action="screening.assign", after={
            "stage": stage, "records": len(records), "first": records[0], "last": records[-1],
            "reviewers": [r.username for r in reviewers]})
    return len(records)


_DOI_IN_TEXT = re.compile(rb"10\.\d{4,9}/[^\s\"'<>()\[\]]+", re.IGNORECASE)


def match_pdf(project: Project, filename: str, data: bytes) -> Record | None:
    """The full-text record a PDF belongs to, by its file name (the record number, e.g.
    '123.pdf' or 'record-123.pdf', or the DOI with '/' written as '_'), else by a DOI
    written in the first part of the file (its metadata)."""
    from .queries import eligible

    records = eligible(project, Stage.FULL_TEXT)
    stem = filename.rsplit("/", 1)[-1].removesuffix(".pdf").removesuffix(".PDF").strip()
    number = re.fullmatch(r"(?:record[-_ ]?)?#?(\d+)", stem, re.IGNORECASE)
    if number:
        return records.filter(pk=int(number.group(1))).first()
    candidates = {stem.lower().replace("_", "/")}
    candidates |= {m.group().decode("ascii", "ignore").rstrip(".,;").lower()
                   for m in _DOI_IN_TEXT.finditer(data[:200_000])}
    candidates.discard("")
    matches = list(records.filter(doi__in=candidates)[:2])
    return matches[0] if len(matches) == 1 else None


def attach_pdfs(project: Project, files: list, *, user) -> tuple[list[tuple[str, Record]],
                                                                    list[tuple[str, str]]]:
    """Attach each uploaded PDF to the record it matches; returns (matched, unmatched with
    the reason). Every file is reported, none is dropped silently."""
    matched, unmatched = [], []
    for upload in files:
        data = upload.read()
        upload.seek(0)
        record = match_pdf(project, upload.name, data)
        if record is None:
            unmatched.append((upload.name, "no record at full text matches its name or DOI"))
            continue
        try:
            set_full_text(record, user=user, pdf=upload)
        except ScreeningError as exc:
            unmatched.append((upload.name, str(exc)))
        else:
            matched.append((upload.name, record))
    return matched, unmatched
