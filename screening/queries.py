"""Reads of the screening app: which record a reviewer screens next."""

from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Project
from references.models import Record

from .models import (
    Assignment,
    Claim,
    Screening,
    Stage,
    StageSettings,
    Vote,
)


def eligible(project: Project, stage: str) -> QuerySet[Record]:
    """The records screened at `stage`: no duplicates; at full text, those that passed title
    and abstract screening."""
    records = Record.objects.filter(project=project, duplicate_of__isnull=True)
    if stage == Stage.FULL_TEXT:
        records = records.filter(screenings__stage=Stage.TITLE_ABSTRACT,
                                 screenings__state=Screening.State.INCLUDED)
    return records


def retrievable(records: QuerySet[Record]) -> QuerySet[Record]:
    """Leave out the records whose full text could not be obtained (not assessed)."""
    return records.exclude(full_text__not_retrieved=True)


def _assignment_allows(reviewer, stage: str, record_ref) -> Q:
    """A record with assignments at `stage` is screened by its assignees only."""
    assigned = Assignment.objects.filter(record=record_ref, stage=stage)
    return ~Q(Exists(assigned)) | Q(Exists(assigned.filter(reviewer=reviewer)))


def needing_vote_of(project: Project, stage: str, reviewer) -> QuerySet[Record]:
    """Records that still need votes and that `reviewer` has not voted on, in a stable order
    (record id). A record with no Screening row yet has no votes."""
    screening = Screening.objects.filter(record=OuterRef("pk"), stage=stage)
    not_pending = screening.exclude(state=Screening.State.PENDING)
    voted = Vote.objects.filter(screening__record=OuterRef("pk"), screening__stage=stage,
                                reviewer=reviewer)
    records = eligible(project, stage)
    if stage == Stage.FULL_TEXT:
        records = retrievable(records)
    return records.filter(~Q(Exists(not_pending)), ~Q(Exists(voted)),
                          _assignment_allows(reviewer, stage, OuterRef("pk"))).order_by("id")


# The screen's queue. `needing_vote_of` is the whole truth but walks every settled record
# (80 ms once 50,000 of 100,000 are settled); the queue answers from small sets instead:
#   1. the records this reviewer has claimed (open on their screen, or fetched ahead);
#   2. open Screening rows with room for their vote: votes in + others' live claims < needed
#      (a partial index holds only the pending rows);
#   3. fresh records (no row yet) past the reviewer's queue position, the highest record it
#      handed them fresh: in record order, it makes rows as it goes, so everything below has
#      one, and the walk from there is short (rows others made since, all full: step 2
#      found none with room). A position per reviewer, not per stage: pairs assigned blocks
#      of records each go their own way;
#   4. what is left (`needing_vote_of`): the rare record below that line without a row (a
#      duplicate unmerged later), and, at the very end, records others have claimed.
# Record ids only, in record order; `services.claim_next` claims from them, `next_record`
# only looks. Steps 1-3 run on every screen and vote, so they are plain SQL (the same on
# PostgreSQL and SQLite): building them with the ORM cost more than running them.

_T = {
    "claim": "screening_claim", "screening": "screening_screening", "vote": "screening_vote",
    "assignment": "screening_assignment", "position": "screening_queueposition",
    "record": "references_record", "fulltext": "screening_fulltext",
}


def _ids(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**_T), params)
        return [row[0] for row in cursor.fetchall()]


def _not_in(column: str, exclude) -> tuple[str, list]:
    exclude = [int(i) for i in exclude]
    if not exclude:
        return "", []
    return f" AND {column} NOT IN ({', '.join(['%s'] * len(exclude))})", exclude


def _may_screen(column: str, stage: str, reviewer_id: int) -> tuple[str, list]:
    """SQL: the record in `column` may be screened by the reviewer at `stage` (assignments,
    and at full text: passed title and abstract, full text not marked not retrieved)."""
    # One correlated probe per record ("no assignments, or one of them mine"): written as
    # NOT EXISTS ... OR EXISTS ..., PostgreSQL hashed all 200,000 assignments of a project
    # handed out in pairs on every call (115 ms).
    sql = (f" AND COALESCE((SELECT MAX(CASE WHEN a.reviewer_id = %s THEN 1 ELSE 0 END)"
           f" FROM {{assignment}} a WHERE a.record_id = {column} AND a.stage = %s), 1) = 1")
    params = [reviewer_id, stage]
    if stage == Stage.FULL_TEXT:
        sql += (f" AND EXISTS (SELECT 1 FROM {{screening}} t WHERE t.record_id = {column}"
                f" AND t.stage = %s AND t.state = %s)"
                f" AND NOT EXISTS (SELECT 1 FROM {{fulltext}} f WHERE f.record_id = {column}"
                f" AND f.not_retrieved = %s)")
        params += [Stage.TITLE_ABSTRACT, Screening.State.INCLUDED, True]
    return sql, params


def claimed_by(project: Project, stage: str, reviewer, *, now, exclude=()) -> list[int]:
    """Step 1: the records `reviewer` has claimed and not voted on (a vote ends its claim),
    in the order they were claimed."""
    ids = _ids("SELECT s.record_id FROM {claim} c JOIN {screening} s ON s.id = c.screening_id"
               " WHERE c.reviewer_id = %s AND c.expires_at > %s AND s.project_id = %s"
               " AND s.stage = %s AND s.state = %s ORDER BY c.expires_at, s.record_id",
               [reviewer.pk, now, project.pk, stage, Screening.State.PENDING])
    return [i for i in ids if i not in exclude]


def open_with_room(project: Project, stage: str, reviewer, *, needed: int, now,
                   exclude=(), limit: int = 5) -> list[int]:
    """Step 2: open records with room for `reviewer`'s vote."""
    may, may_params = _may_screen("s.record_id", stage, reviewer.pk)
    not_in, not_in_params = _not_in("s.record_id", exclude)
    return _ids(
        "SELECT s.record_id FROM {screening} s JOIN {record} r ON r.id = s.record_id"
        " WHERE s.project_id = %s AND s.stage = %s AND s.state = %s"
        " AND r.duplicate_of_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM {vote} v WHERE v.screening_id = s.id"
        " AND v.reviewer_id = %s)"
        " AND s.votes_in + (SELECT COUNT(*) FROM {claim} c WHERE c.screening_id = s.id"
        " AND c.reviewer_id <> %s AND c.expires_at > %s) < %s"
        + may + not_in + " ORDER BY s.record_id LIMIT %s",
        [project.pk, stage, Screening.State.PENDING, reviewer.pk, reviewer.pk, now, needed,
         *may_params, *not_in_params, limit])


def fresh(project: Project, stage: str, reviewer, *, exclude=(), limit: int = 5) -> list[int]:
    """Step 3: records past the reviewer's queue position (the highest record their queue
    handed them fresh) that have no row yet: no one has opened them."""
    may, may_params = _may_screen("r.id", stage, reviewer.pk)
    not_in, not_in_params = _not_in("r.id", exclude)
    # The position bounds both sides: without it in the NOT EXISTS, PostgreSQL merges with
    # every row of the stage from the first record on (28 ms at 50,000 rows, not 0.3).
    # A reviewer's first position: before their first assigned record, if they have any
    # (not a walk through the blocks of every other pair), else the start.
    position = ("COALESCE((SELECT q.frontier FROM {position} q WHERE q.project_id = %s"
                " AND q.stage = %s AND q.reviewer_id = %s), (SELECT MIN(a.record_id) - 1"
                " FROM {assignment} a WHERE a.project_id = %s AND a.stage = %s"
                " AND a.reviewer_id = %s), 0)")
    position_params = [project.pk, stage, reviewer.pk, project.pk, stage, reviewer.pk]
    return _ids(
        "SELECT r.id FROM {record} r WHERE r.project_id = %s AND r.duplicate_of_id IS NULL"
        f" AND r.id > {position}"
        " AND NOT EXISTS (SELECT 1 FROM {screening} s WHERE s.record_id = r.id"
        f" AND s.stage = %s AND s.record_id > {position})" + may + not_in
        + " ORDER BY r.id LIMIT %s",
        [project.pk, *position_params, stage, *position_params, *may_params, *not_in_params,
         limit])


def rest(project: Project, stage: str, reviewer, *, needed: int, now, exclude=()) -> QuerySet:
    """Step 4: everything that needs `reviewer`'s vote, those with room first."""
    votes_in = Screening.objects.filter(record=OuterRef("pk"), stage=stage).values("votes_in")
    others = (Claim.objects.filter(expires_at__gt=now, screening__record=OuterRef("pk"),
                                   screening__stage=stage)
              .exclude(reviewer=reviewer).order_by().values("screening")
              .annotate(n=Count("pk")).values("n"))
    full = Q(taken__gte=needed)
    return (needing_vote_of(project, stage, reviewer).exclude(id__in=exclude)
            .alias(taken=Coalesce(Subquery(votes_in), 0) + Coalesce(Subquery(others), 0))
            .order_by(Case(When(full, then=1), default=0), "id")
            .values_list("id", flat=True))


def next_record(project: Project, stage: str, reviewer, *, settings=None,
                exclude=()) -> Record | None:
    """The record `reviewer` would be given next (without claiming it)."""
    if settings is None:
        settings = StageSettings.objects.filter(project=project, stage=stage).first() or \
            StageSettings(project=project, stage=stage)
    now = timezone.now()
    needed = settings.reviewers_needed
    ids = (claimed_by(project, stage, reviewer, now=now, exclude=exclude)
           or open_with_room(project, stage, reviewer, needed=needed, now=now,
                             exclude=exclude, limit=1)
           or fresh(project, stage, reviewer, exclude=exclude, limit=1)
           or list(rest(project, stage, reviewer, needed=needed, now=now, exclude=exclude)[:1]))
    return Record.objects.get(pk=ids[0]) if ids else None


FILTERS = {
    "": "All records",
    "mine": "Needs my vote",
    "waiting": "Waiting for others",
    "conflict": "Conflict",
    "included": "Included",
    "excluded": "Excluded",
    "not_retrieved": "Full text not retrieved",
}


def stage_records(project: Project, stage: str, user, *, state: str = "",
                  reviewer_id: int | None = None, text: str = "") -> QuerySet[Record]:
    """The records of a stage for its list, annotated with `screening_state`, filtered by
    state as `user` sees it, by a reviewer (whose votes count only on records with all
    votes in: an open record never tells who voted on it) and by title text."""
    screenings = Screening.objects.filter(record=OuterRef("pk"), stage=stage)
    mine = Vote.objects.filter(screening__record=OuterRef("pk"), screening__stage=stage,
                               reviewer=user)
    base = needing_vote_of(project, stage, user) if state == "mine" else eligible(project, stage)
    records = base.annotate(screening_state=Subquery(screenings.values("state")[:1]),
                            voted_by_me=Exists(mine))
    if state == "waiting":
        records = records.filter(voted_by_me=True, screening_state=Screening.State.PENDING)
    elif state in (Screening.State.CONFLICT, Screening.State.INCLUDED,
                   Screening.State.EXCLUDED):
        records = records.filter(screening_state=state)
    elif state == "not_retrieved":
        records = records.filter(full_text__not_retrieved=True)
    if reviewer_id:
        records = records.filter(Exists(Vote.objects.filter(
            screening__record=OuterRef("pk"), screening__stage=stage, reviewer_id=reviewer_id,
        ).exclude(screening__state=Screening.State.PENDING)))
    if text.strip():
        records = records.filter(title__icontains=text.strip())
    return records
