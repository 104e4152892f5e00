"""Reads of the project's overview: screening progress per stage, the week's throughput per
reviewer, extraction and coding progress, and the recent activity a member may read.

Blinding: nothing here tells which record anyone voted on. Stage figures are the settled
outcomes and what is still open (`screening.queries.stage_counts`); throughput is a count of
votes per reviewer, shown to leads for everyone and to others for themselves only; activity
leaves out sealed events (`projects.queries.audit_events`) and, for members who are not
leads, other people's votes and answers even once unsealed.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, FilteredRelation, Q
from django.utils import timezone

from extraction.models import ExtractionSettings, Round
from extraction.queries import StudyStatus, round_extractions, status_of
from frameworks.models import StudyCoding
from projects.models import AuditEvent, Membership, Project, Role
from projects.queries import audit_events
from references.queries import in_flow
from screening.models import Screening, Stage, StageSettings, Vote
from screening.queries import included_studies

STAGES = (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT)
WEEK = timedelta(days=7)
RECENT_EVENTS = 10


@dataclass
class Segment:
    """One coloured part of a progress bar: its key, label, n and share of the whole (in
    percent, one decimal, as a string for the `width` of the bar)."""

    key: str
    label: str
    n: int
    width: str = "0"


def _segments(parts: list[tuple[str, str, int]], total: int) -> list[Segment]:
    return [Segment(key, label, n, f"{100 * n / total:.1f}" if total else "0")
            for key, label, n in parts]


@dataclass
class StageProgress:
    """A screening stage: its records (as `screening.queries.stage_counts` counts them),
    split into needing votes, in conflict and done (settled included or excluded, or, at
    full text, not retrieved)."""

    stage: str
    label: str
    counts: dict[str, int]
    can_resolve: bool = False

    @property
    def done(self) -> int:
        c = self.counts
        return c["included"] + c["excluded"] + c["not_retrieved"]

    @property
    def segments(self) -> list[Segment]:
        c = self.counts
        parts = [("included", "To full text" if self.stage == Stage.TITLE_ABSTRACT
                  else "Included", c["included"]),
                 ("excluded", "Excluded", c["excluded"])]
        if self.stage == Stage.FULL_TEXT:
            parts.append(("not_retrieved", "Not retrieved", c["not_retrieved"]))
        parts += [("conflict", "Conflicts", c["conflict"]),
                  ("open", "Needs votes", c["open"])]
        return _segments(parts, c["records"])


def both_stage_counts(project: Project) -> dict[str, dict[str, int]]:
    """`screening.queries.stage_counts` of both stages in one pass over the records in the
    flow (each joined to its two Screening rows), instead of four queries that each walk
    them: 0.1 s rather than 0.9 s on a 100,000-record project. A test holds it equal to
    `stage_counts`: title and abstract screens the records of sources that do not start at
    full text; full text those included there and those of sources that do."""
    State = Screening.State
    at_ta = Q(source__starts_at_full_text=False)
    at_ft = Q(ta__state=State.INCLUDED) | Q(source__starts_at_full_text=True)
    outcomes = (State.CONFLICT, State.INCLUDED, State.EXCLUDED, State.NOT_RETRIEVED)
    figures = {f"{stage}:records": Count("pk", filter=where)
               for stage, where in ((Stage.TITLE_ABSTRACT, at_ta), (Stage.FULL_TEXT, at_ft))}
    for state in outcomes:
        figures[f"{Stage.TITLE_ABSTRACT}:{state}"] = Count("pk", filter=at_ta & Q(ta__state=state))
        figures[f"{Stage.FULL_TEXT}:{state}"] = Count("pk", filter=at_ft & Q(ft__state=state))
    n = (in_flow(project)
         .alias(ta=FilteredRelation("screenings", condition=Q(
             screenings__stage=Stage.TITLE_ABSTRACT)),
                ft=FilteredRelation("screenings", condition=Q(
                    screenings__stage=Stage.FULL_TEXT)))
         .aggregate(**figures))
    counts = {}
    for stage in STAGES:
        done = {state: n[f"{stage}:{state}"] for state in outcomes}
        total = n[f"{stage}:records"]
        counts[stage] = {
            "records": total, "conflict": done[State.CONFLICT],
            "included": done[State.INCLUDED], "excluded": done[State.EXCLUDED],
            "not_retrieved": done[State.NOT_RETRIEVED], "open": total - sum(done.values()),
            "settled": done[State.INCLUDED] + done[State.EXCLUDED]}
    return counts


def screening_progress(project: Project, membership: Membership) -> list[StageProgress]:
    """Both stages, in order, each saying whether `membership` may resolve its conflicts
    (leads always; reviewers where the stage lets any member who did not vote resolve)."""
    non_voters = set(StageSettings.objects.filter(
        project=project, resolver=StageSettings.Resolver.NON_VOTERS).values_list("stage",
                                                                                 flat=True))
    lead = membership.has_role(Role.LEAD)
    reviewer = membership.has_role(Role.REVIEWER)
    counts = both_stage_counts(project)
    return [StageProgress(stage=stage, label=Stage(stage).label, counts=counts[stage],
                          can_resolve=lead or (reviewer and stage in non_voters))
            for stage in STAGES]


@dataclass
class Throughput:
    """Votes a reviewer cast in the last seven days, per stage."""

    user: object
    by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def title_abstract(self) -> int:
        return self.by_stage.get(Stage.TITLE_ABSTRACT, 0)

    @property
    def full_text(self) -> int:
        return self.by_stage.get(Stage.FULL_TEXT, 0)

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


def throughput(project: Project, membership: Membership, team: list[Membership], *,
               now: datetime | None = None) -> list[Throughput]:
    """Votes cast since `now` minus seven days (a vote counts when it was first cast; an
    undone vote is gone), per reviewer and stage. A lead gets every member who may screen
    (reviewers and leads, in `team` order, zeros included) and anyone else who voted in the
    week (e.g. someone since made a viewer); a reviewer gets their own row only; a viewer,
    who never votes, none. One query."""
    since = (now or timezone.now()) - WEEK
    votes = Vote.objects.filter(screening__project=project, created_at__gte=since)
    if membership.has_role(Role.LEAD):
        people = [m.user for m in team if m.has_role(Role.REVIEWER)]
    elif membership.has_role(Role.REVIEWER):
        people = [membership.user]
        votes = votes.filter(reviewer=membership.user)
    else:
        return []
    rows = {user.pk: Throughput(user) for user in people}
    names = {m.user_id: m.user for m in team}
    for reviewer_id, stage, n in (votes.order_by().values_list("reviewer_id", "screening__stage")
                                  .annotate(n=Count("id"))):
        if reviewer_id not in rows:
            rows[reviewer_id] = Throughput(names.get(reviewer_id, f"User #{reviewer_id}"))
        rows[reviewer_id].by_stage[stage] = n
    return list(rows.values())


@dataclass
class StudyProgress:
    """Studies of the review (those with an included report) by extraction or coding
    status, in the status order of the app that owns them."""

    total: int
    segments: list[Segment]

    def n(self, key: str) -> int:
        return next((s.n for s in self.segments if s.key == key), 0)


def included_study_ids(project: Project) -> list[int]:
    """The ids of the review's studies (`screening.queries.included_studies`), without their
    reports: what extraction and coding progress count."""
    return list(included_studies(project).prefetch_related(None).order_by()
                .values_list("pk", flat=True))


def extraction_progress(project: Project, study_ids: list[int]) -> StudyProgress:
    """Main-round status of every included study (`study_ids`), as the extraction list
    computes it (`extraction.queries.status_of`: statuses and roles only, never an
    answer)."""
    settings = ExtractionSettings.objects.filter(project=project).first()
    mode = settings.mode if settings else ExtractionSettings.Mode.DUAL
    extractions = round_extractions(project, Round.MAIN, study_ids=study_ids)
    counted = {key: 0 for key in StudyStatus.LABELS}
    for study_id in study_ids:
        counted[status_of(extractions.get(study_id, []), mode=mode, round=Round.MAIN)] += 1
    total = len(study_ids)
    return StudyProgress(total, _segments(
        [(key, label, counted[key]) for key, label in StudyStatus.LABELS.items()], total))


def coding_progress(project: Project, study_ids: list[int]) -> StudyProgress:
    """Coding status of every included study (`study_ids`; one without a coding row is not
    started), as the studies-to-code page counts them."""
    Status = StudyCoding.Status
    counts = dict(StudyCoding.objects.filter(project=project, study_id__in=study_ids)
                  .order_by().values_list("status").annotate(n=Count("id")))
    total = len(study_ids)
    counts[Status.NOT_STARTED] = total - sum(n for status, n in counts.items()
                                             if status != Status.NOT_STARTED)
    return StudyProgress(total, _segments(
        [(key, label, counts.get(key, 0)) for key, label in Status.choices], total))


# Events a member who is not a lead does not read on the overview, whoever made them:
# invitations carry the invitee's address (the team page hides it from them too), and a
# merge's flag is about decisions a lead set aside.
LEADS_ONLY_ACTIONS = ("invitation.create", "invitation.revoke", "screening.merge_flag")
# Events that are someone's own screening or extraction work: a member who is not a lead
# reads their own only, even once the record is settled and the event unsealed.
OWN_WORK = Q(action__startswith="vote.") | Q(action="extraction.answer")


def recent_activity(project: Project, membership: Membership, *,
                    limit: int = RECENT_EVENTS) -> list[AuditEvent]:
    """The newest `limit` events `membership` may read: for a lead what the Activity page
    lists (no sealed event of others); for everyone else also none of others' votes and
    answers, nor the leads-only actions."""
    user = membership.user
    events = audit_events(project, user=user)
    if not membership.has_role(Role.LEAD):
        events = events.exclude(action__in=LEADS_ONLY_ACTIONS).exclude(OWN_WORK & ~Q(actor=user))
    return list(events.select_related("actor").order_by("-created_at", "-id")[:limit])
