"""Reads of the screening app: which record a reviewer screens next."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from projects.models import Project
from references.models import Record

from .models import Assignment, Screening, Stage, Vote


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
    assigned = Assignment.objects.filter(record=OuterRef("pk"), stage=stage)
    return records.filter(
        ~Q(Exists(not_pending)), ~Q(Exists(voted)),
        ~Q(Exists(assigned)) | Q(Exists(assigned.filter(reviewer=reviewer))),
    ).order_by("id")


def next_record(project: Project, stage: str, reviewer, *, after: int | None = None
                ) -> Record | None:
    """The next record for `reviewer`: the first that needs their vote (after record `after`,
    for fetching ahead)."""
    records = needing_vote_of(project, stage, reviewer)
    if after is not None:
        records = records.filter(id__gt=after)
    return records.first()


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
