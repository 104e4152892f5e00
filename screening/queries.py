"""Reads of the screening app: which record a reviewer screens next."""

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Project
from references.models import Record

from .models import (
    Assignment,
    Claim,
    QueuePosition,
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
# only looks.


def _live_claims(now):
    return Claim.objects.filter(expires_at__gt=now)


def _screenings(project: Project, stage: str, reviewer) -> QuerySet[Screening]:
    voted = Vote.objects.filter(screening=OuterRef("pk"), reviewer=reviewer)
    rows = Screening.objects.filter(project=project, stage=stage,
                                    state=Screening.State.PENDING,
                                    record__duplicate_of__isnull=True).filter(~Q(Exists(voted)))
    if stage == Stage.FULL_TEXT:
        rows = rows.filter(Exists(Screening.objects.filter(
            record=OuterRef("record_id"), stage=Stage.TITLE_ABSTRACT,
            state=Screening.State.INCLUDED))).exclude(record__full_text__not_retrieved=True)
    return rows


def claimed_by(project: Project, stage: str, reviewer, *, now, exclude=()) -> QuerySet:
    """Step 1: the records `reviewer` has claimed and not voted on yet."""
    mine = _live_claims(now).filter(screening=OuterRef("pk"), reviewer=reviewer)
    return (_screenings(project, stage, reviewer).filter(Exists(mine))
            .exclude(record_id__in=exclude).order_by("record_id")
            .values_list("record_id", flat=True))


def open_with_room(project: Project, stage: str, reviewer, *, needed: int, now,
                   exclude=()) -> QuerySet:
    """Step 2: open records with room for `reviewer`'s vote."""
    others = (_live_claims(now).filter(screening=OuterRef("pk")).exclude(reviewer=reviewer)
              .order_by().values("screening").annotate(n=Count("pk")).values("n"))
    return (_screenings(project, stage, reviewer)
            .filter(_assignment_allows(reviewer, stage, OuterRef("record_id")))
            .exclude(record_id__in=exclude)
            .alias(taken=F("votes_in") + Coalesce(Subquery(others), 0))
            .filter(taken__lt=needed).order_by("record_id")
            .values_list("record_id", flat=True))


def fresh(project: Project, stage: str, reviewer, *, exclude=()) -> QuerySet:
    """Step 3: records past the reviewer's queue position (the highest record their queue
    handed them fresh) that have no row yet: no one has opened them."""
    records = eligible(project, stage)
    if stage == Stage.FULL_TEXT:
        records = retrievable(records)
    position = QueuePosition.objects.filter(project=project, stage=stage,
                                            reviewer=reviewer).values("frontier")[:1]
    row = Screening.objects.filter(record=OuterRef("pk"), stage=stage)
    return (records.filter(id__gt=Coalesce(Subquery(position), 0)).filter(~Q(Exists(row)))
            .filter(_assignment_allows(reviewer, stage, OuterRef("pk")))
            .exclude(id__in=exclude).order_by("id").values_list("id", flat=True))


def rest(project: Project, stage: str, reviewer, *, needed: int, now, exclude=()) -> QuerySet:
    """Step 4: everything that needs `reviewer`'s vote, those with room first."""
    votes_in = Screening.objects.filter(record=OuterRef("pk"), stage=stage).values("votes_in")
    others = (_live_claims(now).filter(screening__record=OuterRef("pk"), screening__stage=stage)
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
    for ids in (claimed_by(project, stage, reviewer, now=now, exclude=exclude),
                open_with_room(project, stage, reviewer, needed=settings.reviewers_needed,
                               now=now, exclude=exclude),
                fresh(project, stage, reviewer, exclude=exclude),
                rest(project, stage, reviewer, needed=settings.reviewers_needed, now=now,
                     exclude=exclude)):
        record_id = ids.first()
        if record_id is not None:
            return Record.objects.get(pk=record_id)
    return None


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
