"""Reads of the screening app: which record a reviewer screens next, a stage's counts and
its agreement tables."""

from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Project
from references.models import Record, Study
from references.queries import in_flow

from .agreement import INCLUDE_DECISIONS, PairAgreement
from .models import (
    Assignment,
    Claim,
    ExclusionReason,
    Order,
    Priority,
    Screening,
    Stage,
    StageSettings,
    Vote,
)


def eligible(project: Project, stage: str) -> QuerySet[Record]:
    """The records screened at `stage`: those in the flow (no duplicates, none removed before
    screening); at title and abstract, not those of sources that start at full text; at full
    text, those that passed title and abstract screening and those of such sources."""
    records = in_flow(project)
    if stage == Stage.TITLE_ABSTRACT:
        return records.filter(source__starts_at_full_text=False)
    passed = Screening.objects.filter(record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT,
                                      state=Screening.State.INCLUDED)
    return records.filter(Q(Exists(passed)) | Q(source__starts_at_full_text=True))


def retrievable(records: QuerySet[Record]) -> QuerySet[Record]:
    """Leave out the records whose full text could not be obtained (not assessed)."""
    return records.exclude(Exists(Screening.objects.filter(
        record=OuterRef("pk"), stage=Stage.FULL_TEXT, state=Screening.State.NOT_RETRIEVED)))


def _assignment_allows(reviewer, stage: str, record_ref) -> Q:
    """A record with assignments at `stage` is screened by its assignees only."""
    assigned = Assignment.objects.filter(record=record_ref, stage=stage)
    return ~Q(Exists(assigned)) | Q(Exists(assigned.filter(reviewer=reviewer)))


def needing_vote_of(project: Project, stage: str, reviewer) -> QuerySet[Record]:
    """Records that still need votes and that `reviewer` has not voted on, in a stable order
    (record id). A record with no Screening row yet has no votes; one whose full text was
    not retrieved is not pending."""
    screening = Screening.objects.filter(record=OuterRef("pk"), stage=stage)
    not_pending = screening.exclude(state=Screening.State.PENDING)
    voted = Vote.objects.filter(screening__record=OuterRef("pk"), screening__stage=stage,
                                reviewer=reviewer)
    records = eligible(project, stage)
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
# When the stage is served by score (`ranked`: relevance or random order, with the ranking
# app's scores written), step 2 takes the highest score first and step 3 is preceded by
# `ranked_fresh`, the highest-scored records nobody has opened; records imported since the
# scores were written have none and follow in record order (steps 3 and 4). Step 2 before
# any fresh record keeps screening dual whatever the order: a record someone voted on gets
# its other votes before new records are started.
# Record ids only, in record order unless by score; `services.claim_next` claims from
# them, `next_record` only looks. Steps 1-3 run on every screen and vote, so they are
# plain SQL (the same on PostgreSQL and SQLite): building them with the ORM cost more
# than running them.

_T = {
    "claim": "screening_claim", "screening": "screening_screening", "vote": "screening_vote",
    "assignment": "screening_assignment", "position": "screening_queueposition",
    "record": "references_record",
    "source": "references_source", "priority": "screening_priority",
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
    and at full text: passed title and abstract). A record whose full text was not
    retrieved has a Screening row that is not pending: the queue's steps leave it out."""
    # One correlated probe per record ("no assignments, or one of them mine"): written as
    # NOT EXISTS ... OR EXISTS ..., PostgreSQL hashed all 200,000 assignments of a project
    # handed out in pairs on every call (115 ms).
    sql = (f" AND COALESCE((SELECT MAX(CASE WHEN a.reviewer_id = %s THEN 1 ELSE 0 END)"
           f" FROM {{assignment}} a WHERE a.record_id = {column} AND a.stage = %s), 1) = 1")
    params = [reviewer_id, stage]
    # Records of a source that starts at full text skip title and abstract screening.
    starts_at_full_text = (f"EXISTS (SELECT 1 FROM {{record}} rs JOIN {{source}} so"
                           f" ON so.id = rs.source_id WHERE rs.id = {column}"
                           f" AND so.starts_at_full_text)")
    if stage == Stage.TITLE_ABSTRACT:
        sql += f" AND NOT {starts_at_full_text}"
    if stage == Stage.FULL_TEXT:
        sql += (f" AND (EXISTS (SELECT 1 FROM {{screening}} t WHERE t.record_id = {column}"
                f" AND t.stage = %s AND t.state = %s) OR {starts_at_full_text})")
        params += [Stage.TITLE_ABSTRACT, Screening.State.INCLUDED]
    return sql, params


def claimed_by(project: Project, stage: str, reviewer, *, now, exclude=()) -> list[int]:
    """Step 1: the records `reviewer` has claimed and not voted on (a vote ends its claim),
    in the order they were claimed."""
    ids = _ids("SELECT s.record_id FROM {claim} c JOIN {screening} s ON s.id = c.screening_id"
               " WHERE c.reviewer_id = %s AND c.expires_at > %s AND s.project_id = %s"
               " AND s.stage = %s AND s.state = %s ORDER BY c.expires_at, s.record_id",
               [reviewer.pk, now, project.pk, stage, Screening.State.PENDING])
    return [i for i in ids if i not in exclude]


def ranked(settings: StageSettings) -> bool:
    """Whether the stage serves fresh records by score: its order is relevance or random
    and the ranking app has written scores for that order."""
    return settings.order != Order.IMPORT and settings.scores_order == settings.order


def open_with_room(project: Project, stage: str, reviewer, *, needed: int, now,
                   exclude=(), limit: int = 5, by_score: bool = False) -> list[int]:
    """Step 2: open records with room for `reviewer`'s vote; `by_score`: highest score
    first (records without one last), else in record order."""
    may, may_params = _may_screen("s.record_id", stage, reviewer.pk)
    not_in, not_in_params = _not_in("s.record_id", exclude)
    join, order = "", " ORDER BY s.record_id"
    if by_score:
        join = " LEFT JOIN {priority} p ON p.record_id = s.record_id AND p.stage = s.stage"
        order = " ORDER BY COALESCE(p.score, -1e300) DESC, s.record_id"
    return _ids(
        "SELECT s.record_id FROM {screening} s JOIN {record} r ON r.id = s.record_id" + join
        + " WHERE s.project_id = %s AND s.stage = %s AND s.state = %s"
        " AND r.duplicate_of_id IS NULL AND r.removed_reason = ''"
        " AND NOT EXISTS (SELECT 1 FROM {vote} v WHERE v.screening_id = s.id"
        " AND v.reviewer_id = %s)"
        " AND s.votes_in + (SELECT COUNT(*) FROM {claim} c WHERE c.screening_id = s.id"
        " AND c.reviewer_id <> %s AND c.expires_at > %s) < %s"
        + may + not_in + order + " LIMIT %s",
        [project.pk, stage, Screening.State.PENDING, reviewer.pk, reviewer.pk, now, needed,
         *may_params, *not_in_params, limit])


def ranked_fresh(project: Project, stage: str, reviewer, *, exclude=(),
                 limit: int = 5) -> list[int]:
    """Step 3 when the stage is served by score: the highest-scored records with no row yet
    (nobody has opened them). Scores are written for records nobody had voted on, so the
    walk down the score index passes only the records opened since they were written."""
    may, may_params = _may_screen("p.record_id", stage, reviewer.pk)
    not_in, not_in_params = _not_in("p.record_id", exclude)
    return _ids(
        "SELECT p.record_id FROM {priority} p JOIN {record} r ON r.id = p.record_id"
        " WHERE p.project_id = %s AND p.stage = %s AND r.duplicate_of_id IS NULL"
        " AND r.removed_reason = ''"
        " AND NOT EXISTS (SELECT 1 FROM {screening} s WHERE s.record_id = p.record_id"
        " AND s.stage = %s)" + may + not_in + " ORDER BY p.score DESC, p.record_id LIMIT %s",
        [project.pk, stage, stage, *may_params, *not_in_params, limit])


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
        f" AND r.removed_reason = '' AND r.id > {position}"
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
    by_score = ranked(settings)
    ids = (claimed_by(project, stage, reviewer, now=now, exclude=exclude)
           or open_with_room(project, stage, reviewer, needed=needed, now=now,
                             exclude=exclude, limit=1, by_score=by_score)
           or (by_score and ranked_fresh(project, stage, reviewer, exclude=exclude, limit=1))
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
    """The records of a stage for its list, annotated with `screening_state` and
    `screening_reason` (the exclusion reason's label), filtered by state as `user` sees
    it, by a reviewer (whose votes count only on records with all votes in: an open record
    never tells who voted on it) and by title text."""
    screenings = Screening.objects.filter(record=OuterRef("pk"), stage=stage)
    mine = Vote.objects.filter(screening__record=OuterRef("pk"), screening__stage=stage,
                               reviewer=user)
    base = needing_vote_of(project, stage, user) if state == "mine" else eligible(project, stage)
    records = base.annotate(screening_state=Subquery(screenings.values("state")[:1]),
                            screening_reason=Subquery(screenings.values("reason__label")[:1]),
                            voted_by_me=Exists(mine))
    if state == "waiting":
        records = records.filter(voted_by_me=True, screening_state=Screening.State.PENDING)
    elif state in (Screening.State.CONFLICT, Screening.State.INCLUDED,
                   Screening.State.EXCLUDED, Screening.State.NOT_RETRIEVED):
        records = records.filter(screening_state=state)
    if reviewer_id:
        records = records.filter(Exists(Vote.objects.filter(
            screening__record=OuterRef("pk"), screening__stage=stage, reviewer_id=reviewer_id,
        ).exclude(screening__state=Screening.State.PENDING)))
    if text.strip():
        records = records.filter(title__icontains=text.strip())
    return records


def stage_counts(project: Project, stage: str) -> dict[str, int]:
    """Settled outcomes and what is still open: no per-person figures, no unsettled votes.
    Over the stage's records (`eligible`), whose states partition them: open (pending, or
    no row yet) + conflict + included + excluded + not retrieved (full text only) =
    records."""
    records = eligible(project, stage)
    total = records.count()
    states = dict(Screening.objects.filter(stage=stage, record__in=records.values("pk"))
                  .values_list("state").annotate(n=Count("id")))
    State = Screening.State
    done = {s: states.get(s, 0) for s in (State.CONFLICT, State.INCLUDED, State.EXCLUDED,
                                           State.NOT_RETRIEVED)}
    return {"records": total, "conflict": done[State.CONFLICT],
            "included": done[State.INCLUDED], "excluded": done[State.EXCLUDED],
            "not_retrieved": done[State.NOT_RETRIEVED], "open": total - sum(done.values()),
            "settled": done[State.INCLUDED] + done[State.EXCLUDED]}


def exclusion_reasons(project: Project, stage: str, *,
                      active_only: bool = True) -> QuerySet[ExclusionReason]:
    """The stage's exclusion reasons in the order reviewers see them; `active_only`: those
    still offered (a retired reason keeps its votes and counts)."""
    reasons = ExclusionReason.objects.filter(project=project, stage=stage)
    if active_only:
        reasons = reasons.filter(active=True)
    return reasons.order_by("position", "id")


def exclusion_counts(project: Project, stage: str) -> list[tuple[ExclusionReason, int]]:
    """(reason, n) over the stage's settled excluded records (those `stage_counts` counts),
    in reason order: every reason still offered (n may be 0) and every retired one that
    some record was excluded for."""
    excluded = Q(screenings__state=Screening.State.EXCLUDED,
                 screenings__record__in=eligible(project, stage).values("pk"))
    reasons = (exclusion_reasons(project, stage, active_only=False)
               .annotate(n=Count("screenings", filter=excluded))
               .filter(Q(active=True) | Q(n__gt=0)))
    return [(reason, reason.n) for reason in reasons]


def settled_votes(project: Project, stage: str) -> QuerySet:
    """(record, reviewer, decision) of records whose votes are all in: agreement never
    reveals a vote on a record that is still waiting for others."""
    return Vote.objects.filter(
        screening__project=project, screening__stage=stage,
        screening__record__duplicate_of__isnull=True,
    ).exclude(screening__state=Screening.State.PENDING).values_list(
        "screening__record_id", "reviewer_id", "decision")


def pair_agreements(project: Project, stage: str) -> list[PairAgreement]:
    """Each reviewer pair's 2x2 table over the records both voted on, from `settled_votes`,
    counted in the database: every pair of votes on one screening (reviewer_a < reviewer_b),
    grouped by the pair. The same tables as `agreement.pair_agreements` (maybe counts as
    include) without loading every vote."""
    inc = ", ".join(["%s"] * len(INCLUDE_DECISIONS))
    a_inc, b_inc = f"a.decision IN ({inc})", f"b.decision IN ({inc})"
    cells = [(a_inc, b_inc), (a_inc, f"NOT {b_inc}"), (f"NOT {a_inc}", b_inc),
             (f"NOT {a_inc}", f"NOT {b_inc}")]
    include = sorted(INCLUDE_DECISIONS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.reviewer_id, b.reviewer_id, "
            + ", ".join(f"SUM(CASE WHEN {x} AND {y} THEN 1 ELSE 0 END)" for x, y in cells)
            + " FROM {vote} a JOIN {vote} b ON b.screening_id = a.screening_id"
            " AND a.reviewer_id < b.reviewer_id"
            " JOIN {screening} s ON s.id = a.screening_id"
            " JOIN {record} r ON r.id = s.record_id"
            " WHERE s.project_id = %s AND s.stage = %s AND s.state <> %s"
            " AND r.duplicate_of_id IS NULL"
            " GROUP BY a.reviewer_id, b.reviewer_id ORDER BY a.reviewer_id, b.reviewer_id"
            .format(**_T),
            [*include * 8, project.pk, stage, Screening.State.PENDING])
        return [PairAgreement(*row) for row in cursor.fetchall()]


def included_reports(project: Project) -> QuerySet[Record]:
    """The records (reports) included at full text among those that reached it (of a source
    that starts at full text, or included at title and abstract); never duplicates or
    records removed before screening."""
    return eligible(project, Stage.FULL_TEXT).filter(Exists(Screening.objects.filter(
        record=OuterRef("pk"), stage=Stage.FULL_TEXT, state=Screening.State.INCLUDED)))


def included_studies(project: Project) -> QuerySet[Study]:
    """The studies of the review: those with at least one included report (a study whose
    thesis was included and whose article was excluded is included), in study order, each
    with `included_reports`, its included records in record order. The contract later
    stages (extraction, coding, reports) build on."""
    reports = included_reports(project)
    # IN (the included reports' studies), not EXISTS per study: SQLite ran the correlated
    # EXISTS over every record of the project for each study (38 s for the demo's 2,900).
    return (Study.objects.filter(project=project, pk__in=reports.values("study_id"))
            .prefetch_related(Prefetch("records", queryset=reports.order_by("id"),
                                       to_attr="included_reports"))
            .order_by("id"))


def score_of(project: Project, stage: str, record_id: int) -> tuple[float, int, int] | None:
    """(score, rank, scored): where the record stands in the stage's served order (rank 1
    is served first), among the records scored when the scores were last written; None
    when it has no score (import order, voted on before, or imported since)."""
    priority = Priority.objects.filter(project=project, stage=stage, record_id=record_id).first()
    if priority is None:
        return None
    scored = Priority.objects.filter(project=project, stage=stage)
    return (priority.score, scored.filter(score__gt=priority.score).count() + 1, scored.count())
