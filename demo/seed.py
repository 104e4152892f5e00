"""Seeding the demo review through the services a team uses, step by step.

Every step looks at what the database holds and does only what is missing, so a second run
changes nothing and `--complete` on an open demo only takes the steps left open. The open
demo leaves work for every role (see `demo.works.FATES`, `demo.charting`): records waiting
for ada's and ben's votes, conflicts for the lead, two studies awaiting consensus and one
awaiting verification.
"""

import time
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from projects.models import Membership, Project
from references import deduplication
from references.models import DuplicateCandidate, Record, Source
from references.services import import_file, link_to_study
from screening import services as screening
from screening.models import Decision, Screening, Stage, Vote

from . import team
from .works import SEARCH_DATE, Demo, Work, build_demo

State = Screening.State


@dataclass
class Seeding:
    """What one run did, for the command's output and the tests."""

    project: Project
    complete: bool
    demo: Demo
    users: dict[str, User]
    done: list[str] = field(default_factory=list)  # "step: n" lines
    timings: dict[str, float] = field(default_factory=dict)
    # work number -> its primary record (filled by `records`)
    primaries: dict[int, Record] = field(default_factory=dict)

    def step(self, name: str, n: int, started: float) -> None:
        """Note that step `name` did `n` things (nothing to say when it did none). `started`:
        kept for the callers; `seed_demo` times whole phases."""
        if n:
            self.done.append(f"{name}: {n}")

    def timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = round(now - started, 2)
        return now


# ---------------------------------------------------------------------------------------------
# Sources, deduplication, the two reports of one study
# ---------------------------------------------------------------------------------------------

def records(s: Seeding) -> None:
    """Import the five exports as the lead, deduplicate, let the lead decide the pairs the
    deduplication asks about (from what the works are), and link the second reports."""
    started = time.perf_counter()
    project, lead = s.project, s.users["lead"]
    imported = 0
    if not Source.objects.filter(project=project).exists():
        with transaction.atomic():
            for source in s.demo.sources:
                import_file(project=project, data=source.text.encode(),
                            filename=source.filename, source_name=source.name,
                            source_kind=source.kind, date_searched=SEARCH_DATE,
                            search_strategy=source.search_strategy, user=lead)
                imported += source.size
            deduplication.deduplicate(project, user=lead)
    source_ids = list(Source.objects.filter(project=project).order_by("imported_at", "id")
                      .values_list("id", flat=True))
    work_of_place = {(source_ids[i], position): work
                     for work in s.demo.works for i, position in work.places}
    by_id = {}
    for record in Record.objects.filter(project=project).select_related("project", "source"):
        by_id[record.pk] = record
        record.work = work_of_place[record.source_id, record.source_position]
    decided = 0
    for pair in DuplicateCandidate.objects.filter(
            project=project, status=DuplicateCandidate.Status.PENDING).order_by("pk"):
        a, b = by_id[pair.record_a_id], by_id[pair.record_b_id]
        if a.work is b.work:
            deduplication.decide_duplicate(pair, primary=a, user=lead)
        else:
            deduplication.decide_not_duplicate(pair, user=lead)
        decided += 1
    if decided:
        by_id = {r.pk: r for r in Record.objects.filter(project=project)
                 .select_related("project", "source")}
        for record in by_id.values():
            record.work = work_of_place[record.source_id, record.source_position]
    for record in by_id.values():
        if record.duplicate_of_id is None:
            s.primaries[record.work.number] = record
    linked = 0
    for thesis, article in second_reports(s.demo):
        first, second = s.primaries[thesis.number], s.primaries[article.number]
        if first.study_id != second.study_id:
            link_to_study(second, study_of=first, user=lead)
            linked += 1
    if linked:  # the linked reports' study changed
        studies = dict(Record.objects.filter(pk__in=[r.pk for r in s.primaries.values()])
                       .values_list("pk", "study_id"))
        for record in s.primaries.values():
            record.study_id = studies[record.pk]
    s.step("records imported", imported, started)
    s.step("duplicate pairs decided by lead", decided, started)
    s.step("reports linked to their study", linked, started)


def second_reports(demo: Demo) -> list[tuple[Work, Work]]:
    """The two studies with two reports: (thesis, the journal article written from it). The
    article takes the thesis's study (its trainee, setting and partners)."""
    included = demo.included
    theses = [w for w in included if w.kind == "THES"][:2]
    articles = [w for w in included if w.kind == "JOUR"][-2:]
    return list(zip(theses, articles, strict=True))


# ---------------------------------------------------------------------------------------------
# Screening: ada and ben vote, the lead settles conflicts
# ---------------------------------------------------------------------------------------------

INC, EXC, MAYBE = Decision.INCLUDE, Decision.EXCLUDE, Decision.MAYBE
OTHER_REASON = "Partnership approach not described"  # a dissenting full-text vote's reason


def title_abstract_votes(work: Work, complete: bool) -> dict[str, str]:
    """reviewer -> decision at title and abstract (those cast by now)."""
    fate = work.fate
    if fate.startswith("ta_exclude"):
        votes = {"ada": EXC, "ben": EXC}
        if not complete:
            if fate in ("ta_exclude_ada_open", "ta_exclude_both_open"):
                del votes["ada"]
            if fate in ("ta_exclude_ben_open", "ta_exclude_both_open"):
                del votes["ben"]
        return votes
    yes = MAYBE if work.number % 3 == 0 else INC
    if fate.startswith("ta_conflict") or work.ta_conflict:
        return {"ada": yes, "ben": EXC} if work.number % 2 else {"ada": EXC, "ben": yes}
    unsure = MAYBE if work.truth != "relevant" and work.number % 2 else INC
    return {"ada": INC, "ben": unsure} if work.number % 2 else {"ada": unsure, "ben": INC}


def full_text_votes(work: Work) -> dict[str, tuple[str, str]]:
    """reviewer -> (decision, reason) at full text."""
    fate = work.fate
    if fate == "ft_exclude":
        return {"ada": (EXC, work.reason), "ben": (EXC, work.reason)}
    if fate.startswith("ft_conflict_out"):
        return {"ada": (EXC, work.reason), "ben": (INC, "")}
    if fate == "ft_conflict_in":
        return {"ada": (INC, ""), "ben": (EXC, OTHER_REASON)}
    if fate == "ft_include":
        return {"ada": (INC, ""), "ben": (INC, "")}
    return {}


def resolution(work: Work, stage: str, complete: bool) -> tuple[str, str] | None:
    """The lead's decision on the work's conflict at `stage` (None: none, or not yet)."""
    if stage == Stage.TITLE_ABSTRACT:
        if work.fate == "ta_conflict_out" or (work.fate == "ta_conflict_out_open" and complete):
            return EXC, ""
        if work.ta_conflict:
            return INC, ""
        return None
    if work.fate == "ft_conflict_out" or (work.fate == "ft_conflict_out_open" and complete):
        return EXC, work.reason
    if work.fate == "ft_conflict_in":
        return INC, ""
    return None


def screen(s: Seeding) -> None:
    """Cast the votes the plan has and that are not in yet, then settle the conflicts the
    lead has decided; title and abstract first, then full text. The votes go in work order
    through `record_votes` (the services' bulk path: the rows, states and audit events of
    one vote after another), a batch per transaction."""
    project = s.project
    lead = Membership.objects.select_related("user").get(project=project, user=s.users["lead"])
    cast = set(Vote.objects.filter(screening__project=project).values_list(
        "screening__record_id", "screening__stage", "reviewer__username"))
    for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
        started = time.perf_counter()
        settings = screening.settings_for(project, stage)
        planned: list[screening.VoteSpec] = []
        decided = []  # (record, the lead's decision on its conflict)
        for work in s.demo.works:
            record = s.primaries[work.number]
            if stage == Stage.TITLE_ABSTRACT:
                votes = {who: (d, "") for who, d in
                         title_abstract_votes(work, s.complete).items()}
            else:
                votes = full_text_votes(work)
            planned += [screening.VoteSpec(record=record, reviewer=s.users[who],
                                           decision=decision, reason=reason)
                        for who, (decision, reason) in votes.items()
                        if (record.pk, stage, who) not in cast]
            decision = resolution(work, stage, s.complete)
            if decision is not None:
                decided.append((record, decision))
        for i in range(0, len(planned), BATCH):
            screening.record_votes(project, stage=stage, votes=planned[i:i + BATCH],
                                   settings=settings)
        conflicts = {row.record_id: row for row in Screening.objects.filter(
            project=project, stage=stage, state=State.CONFLICT,
            record_id__in=[record.pk for record, _d in decided])}
        resolved = 0
        for record, (decision, reason) in decided:
            row = conflicts.get(record.pk)
            if row is None:
                continue
            row.project = project
            screening.resolve(row, membership=lead, decision=decision, reason=reason)
            resolved += 1
        label = "title/abstract" if stage == Stage.TITLE_ABSTRACT else "full text"
        s.step(f"{label} votes", len(planned), started)
        s.step(f"{label} conflicts resolved by lead", resolved, started)


BATCH = 1000  # votes per `record_votes` call, each its own transaction


# ---------------------------------------------------------------------------------------------
# The whole demo
# ---------------------------------------------------------------------------------------------

def seed_demo(*, complete: bool = False) -> Seeding:
    """Seed the demo review, or take the steps a previous run left: the team and project,
    the records, the screening, then extraction and coding (`demo.charting`). Open by
    default (work left for every role); `complete=True` takes every step, and the project's
    PRISMA flow is then the paper's. Idempotent: a second run with the same flag changes
    nothing. Each step runs through the services a team uses (their own transactions)."""
    started = time.perf_counter()
    project, _created = team.seed_demo()
    users = {u.username: u for u in User.objects.filter(
        username__in=[username for username, _d, _r in team.DEMO_USERS])}
    s = Seeding(project=project, complete=complete, demo=build_demo(), users=users)
    now = s.timed("team and works", started)
    records(s)
    now = s.timed("records", now)
    screen(s)
    now = s.timed("screening", now)
    charting = _charting()
    if charting is not None:
        charting.fill(s)
        s.timed("extraction and coding", now)
    s.timed("total", started)
    return s


def _charting():
    """`demo.charting` (extraction and framework coding of the included studies), or None
    while it is not there."""
    try:
        from . import charting
    except ModuleNotFoundError as missing:
        if missing.name != "demo.charting":
            raise
        return None
    return charting
