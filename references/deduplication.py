"""Applying deduplication to a project: the automatic run, a lead's decisions, undo.

The matching itself is `references.dedup.find_duplicates`, a pure function of all the
project's records. This module turns its answer into links (`Record.duplicate_of`) and a
review queue (`DuplicateCandidate`), never deleting anything.
"""

from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Substr
from django.utils import timezone

from projects import audit
from projects.models import Project

from . import bulk, holds
from .dedup import ABSTRACT_CHARS, DedupRecord, find_duplicates, paused_gc
from .models import DuplicateCandidate, DuplicateDecisionBatch, Record, Study

Progress = Callable[..., None]


class DedupError(Exception):
    """A decision that cannot be applied; the message says why, for the user."""


@dataclass
class DedupReport:
    records: int
    merged: int  # records newly linked to a primary by this run
    duplicates: int  # all records that are duplicates now
    possible: int  # pairs waiting for a person

    def summary(self) -> str:
        return (f"Checked {self.records} records: {self.merged} new duplicates merged "
                f"automatically, {self.duplicates} duplicates in all, "
                f"{self.possible} possible duplicates to review.")


class _Clusters:
    """Union-find that refuses a union joining a pair a person said are not duplicates, and,
    for automatic merges, one joining two groups that both hold a held record (records with
    decisions of later stages: only a person merges those)."""

    def __init__(self, not_duplicates: set[tuple[int, int]], held: set[int] = frozenset()):
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.apart: dict[int, set[int]] = defaultdict(set)
        self.held = held
        for a, b in not_duplicates:
            self.apart[a].add(b)
            self.apart[b].add(a)

    def holds(self, root: int) -> bool:
        return any(m in self.held for m in self.members.get(root, {root}))

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int, *, automatic: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ma = self.members.get(ra, {ra})
        mb = self.members.get(rb, {rb})
        if any(self.apart[m] & mb for m in ma if m in self.apart):
            return False
        if automatic and self.held and self.holds(ra) and self.holds(rb):
            return False
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        self.parent[rb] = ra
        self.members[ra] = ma | mb
        self.members.pop(rb, None)
        return True


@dataclass
class _Loaded:
    records: list[DedupRecord]
    links: dict[int, int | None]  # record -> its primary (None: it is a primary)
    held: set[int]  # records with a hold (decisions of later stages)
    studies: dict[int, int]  # record -> study


def _load(project: Project) -> _Loaded:
    """Every record of the project that is in the flow (not removed before screening). Only
    what the matching reads: the start of each abstract (ABSTRACT_CHARS), the ISBN of the
    other identifiers."""
    rows = Record.objects.filter(project=project, removed_reason="").values_list(
        "id", "title", Substr("abstract", 1, ABSTRACT_CHARS), "authors", "year", "journal",
        "volume", "issue", "pages", "doi", "pmid", KeyTextTransform("isbn", "other_ids"),
        "publication_type", "duplicate_of_id", "hold", "study_id",
    ).order_by("id")
    loaded = _Loaded([], {}, set(), {})
    for (rid, title, abstract, authors, year, journal, volume, issue, pages, doi, pmid,
         isbn, ptype, dup_of, hold, study_id) in rows.iterator(chunk_size=5000):
        loaded.records.append(DedupRecord(
            id=rid, title=title, abstract=abstract, authors=tuple(authors or ()), year=year,
            journal=journal, volume=volume, issue=issue, pages=pages, doi=doi, pmid=pmid,
            isbn=isbn or "", publication_type=ptype,
        ))
        loaded.links[rid] = dup_of
        loaded.studies[rid] = study_id
        if hold:
            loaded.held.add(rid)
    return loaded


def deduplicate(project: Project, *, user=None, progress: Progress | None = None) -> DedupReport:
    """Match every record of the project against every other, merge the certain duplicates
    and queue the possible ones. Earlier merges and a person's decisions stay as they are;
    the earliest record of a group stays its primary, so screened records keep their place.
    """
    progress = progress or (lambda *a, **k: None)
    # One run per project at a time: a second run waits here, then sees the first's links.
    # A session lock, not a transaction, so the job's progress stays visible while it runs.
    # Hundreds of thousands of small objects and no reference cycles: Python's cycle collector
    # would walk them all again and again (see paused_gc).
    with _project_lock(project), paused_gc():
        return _deduplicate_locked(project, user, progress)


_LOCK = "tandem.deduplicate"


@contextmanager
def _project_lock(project: Project):
    """The project's deduplication lock for a whole run (a session lock, see deduplicate)."""
    if not bulk.is_postgres():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [_LOCK, project.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [_LOCK, project.pk])


def lock_project(project_id: int) -> None:
    """The same lock for one decision, held until its transaction ends: a person's merge,
    unmerge or answer waits for a running deduplication and never interleaves with another."""
    if bulk.is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)",
                           [_LOCK, project_id])


def _deduplicate_locked(project: Project, user, progress: Progress) -> DedupReport:
    loaded = _load(project)
    records, links = loaded.records, loaded.links
    progress(1, 100, f"Matching {len(records)} records")
    decided = DuplicateCandidate.objects.filter(project=project).exclude(
        status=DuplicateCandidate.Status.PENDING).values_list("record_a_id", "record_b_id",
                                                              "status")
    not_duplicates = {(a, b) for a, b, s in decided
                      if s == DuplicateCandidate.Status.NOT_DUPLICATE}

    def matching_progress(done: int, total: int) -> None:
        progress(1 + int(80 * done / max(total, 1)), 100)

    result = find_duplicates(records, not_duplicates=not_duplicates, progress=matching_progress)
    progress(82, 100, "Merging")

    clusters = _Clusters(not_duplicates, loaded.held)
    for rid, dup_of in links.items():
        if dup_of is not None:
            clusters.union(dup_of, rid)
    held_pairs = [(a, b) for a, b in sorted(result.certain)
                  if not clusters.union(a, b, automatic=True)
                  and clusters.holds(clusters.find(a)) and clusters.holds(clusters.find(b))]
    changes = _primaries(links, clusters, loaded.held)
    with transaction.atomic():
        report = _apply(project, user, progress, loaded, changes, clusters, result, held_pairs)
    bulk.analyze(Record, ["duplicate_of_id", "study_id"])
    return report


def _primaries(links: dict[int, int | None], clusters: _Clusters,
               held: set[int]) -> dict[int, int]:
    """{record: its new primary} for every record whose primary changes. A group's primary is
    its held record if it has one (so its decisions stay where they are), else its earliest
    current primary, so screened records keep their place."""
    groups: dict[int, list[int]] = defaultdict(list)
    for rid in links:
        groups[clusters.find(rid)].append(rid)
    changes: dict[int, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        current_primaries = [m for m in members if links[m] is None]
        held_primaries = [m for m in current_primaries if m in held]
        primary = min(held_primaries or current_primaries or members)
        for m in members:
            if m != primary and links[m] != primary:
                changes[m] = primary
    return changes


HELD_REASON = "both records carry screening decisions: a person decides"
CHANGED_REASON = "a record changed while the deduplication ran: a person decides"
# The rules this module sends pairs by (DuplicateCandidate.rule); the matcher's own are
# references.dedup.RULES, whose sentences win where both name a rule.
HELD_RULE, CHANGED_RULE, UNMERGED_RULE = "held", "changed", "unmerged"
RULE_SENTENCES = {
    HELD_RULE: "Both records carry decisions of later stages (screening, extraction): only a "
               "person merges them.",
    CHANGED_RULE: "A record changed while the deduplication ran, so it did not merge them.",
    UNMERGED_RULE: "A lead undid the merge of these two records.",
}


def _apply(project, user, progress, loaded: _Loaded, changes, clusters, result,
           held_pairs) -> DedupReport:
    links = loaded.links
    applied = _apply_links(project, changes, links, loaded.studies, automatic=True)
    # A record that became held (its first vote) or was merged by a person since it was
    # loaded is not merged: the pair waits for a person like the pairs of held records.
    missed = [(rid, primary) for rid, primary in changes.items() if rid not in applied]
    merged = sum(1 for rid in applied if links.get(rid) is None)
    missed_ids = {rid for rid, _primary in missed}
    # Pending questions the matching answered itself are no longer questions.
    stale = [pk for pk, a, b in DuplicateCandidate.objects.filter(
        project=project, status=DuplicateCandidate.Status.PENDING).values_list(
        "pk", "record_a_id", "record_b_id")
        if clusters.find(a) == clusters.find(b) and not {a, b} & missed_ids]
    DuplicateCandidate.objects.filter(pk__in=stale).delete()
    # Every pair ever asked about, decided ones included: a decision is never asked again.
    existing = set(DuplicateCandidate.objects.filter(project=project).values_list(
        "record_a_id", "record_b_id"))
    new: dict[tuple[int, int], DuplicateCandidate] = {}

    def ask(a: int, b: int, score: float, reasons: list[str], rule: str) -> None:
        key = (min(a, b), max(a, b))
        if key not in existing and key not in new:
            new[key] = DuplicateCandidate(project=project, record_a_id=key[0],
                                          record_b_id=key[1], score=round(score, 4),
                                          reasons=reasons, rule=rule)

    for a, b in held_pairs:
        ask(a, b, 1.0, [HELD_REASON], HELD_RULE)
    for rid, primary in missed:
        ask(rid, primary, 1.0, [CHANGED_REASON], CHANGED_RULE)
    for p in result.possible:
        if clusters.find(p.a) != clusters.find(p.b):
            ask(p.a, p.b, p.score, list(p.reasons), getattr(p, "rule", ""))
    DuplicateCandidate.objects.bulk_create(new.values(), batch_size=2000)
    report = DedupReport(
        records=len(loaded.records), merged=merged,
        duplicates=Record.objects.filter(project=project, duplicate_of__isnull=False).count(),
        possible=DuplicateCandidate.objects.filter(
            project=project, status=DuplicateCandidate.Status.PENDING).count(),
    )
    audit.record(project=project, actor=user, action="dedup.run",
                 after={"records": report.records, "merged": report.merged,
                        "duplicates": report.duplicates, "possible": report.possible,
                        "held": len(held_pairs) + len(missed)})
    progress(100, 100)
    return report


def _apply_links(project: Project, changes: dict[int, int], links: dict[int, int | None],
                 studies: dict[int, int], user=None, *, automatic: bool = False) -> set[int]:
    """Point each record of `changes` at its new primary and move it into the primary's
    study, in chunks of one UPDATE each. Conditional: a record is changed only if its link
    is still the one in `links` and, for an automatic merge, it has no hold (or is a
    duplicate already), so a vote or a person's merge that came in between wins. Returns the
    records changed; studies left without reports are removed."""
    if not changes:
        return set()
    now = timezone.now()
    items = sorted(changes.items())
    applied: set[int] = set()
    targets: dict[int, Record] = {}  # the records changed, as the audit events name them
    table = connection.ops.quote_name(Record._meta.db_table)
    unheld = "AND (r.hold = 0 OR r.duplicate_of_id IS NOT NULL) " if automatic else ""
    for start in range(0, len(items), 5000):
        chunk = items[start:start + 5000]
        if bulk.is_postgres():
            values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(chunk))
            params = [v for rid, primary in chunk for v in (rid, primary, links.get(rid))]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS r SET duplicate_of_id = v.primary_id, merged_at = %s, "
                    f"merged_by_id = %s, study_id = p.study_id "
                    f"FROM (VALUES {values}) AS v(id, primary_id, old), {table} AS p "
                    f"WHERE r.id = v.id AND p.id = v.primary_id "
                    f"AND r.duplicate_of_id IS NOT DISTINCT FROM v.old {unheld}"
                    f"RETURNING r.id, r.title",
                    [now, user.pk if user else None, *params],
                )
                for rid, title in cursor.fetchall():
                    applied.add(rid)
                    targets[rid] = Record(id=rid, title=title)
        else:
            for rid, primary in chunk:
                rows = Record.objects.filter(pk=rid, duplicate_of_id=links.get(rid))
                if automatic:
                    rows = rows.filter(Q(hold=0) | Q(duplicate_of__isnull=False))
                if rows.update(duplicate_of_id=primary, merged_at=now, merged_by=user,
                               study_id=studies.get(primary) or Record.objects.get(
                                   pk=primary).study_id):
                    applied.add(rid)
    _drop_empty_studies(sorted({studies[rid] for rid in applied if rid in studies}))
    if len(targets) < len(applied):
        targets = Record.objects.only("id", "title").in_bulk(sorted(applied))
    bulk.record_events(project=project, actor=user, action="record.merge", changes=[
        (targets[rid], {"duplicate_of": links.get(rid)},
         {"duplicate_of": primary, "by": user.username if user else "automatic"})
        for rid, primary in items if rid in applied
    ])
    return applied


def _drop_empty_studies(study_ids: list[int]) -> None:
    """Remove the studies among `study_ids` that no record belongs to any more, in plain
    DELETEs (the ORM's delete would load every study to look for related rows first)."""
    study = connection.ops.quote_name(Study._meta.db_table)
    record = connection.ops.quote_name(Record._meta.db_table)
    for start in range(0, len(study_ids), 5000):
        chunk = study_ids[start:start + 5000]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {study} WHERE id IN ({', '.join(['%s'] * len(chunk))}) AND NOT "
                f"EXISTS (SELECT 1 FROM {record} r WHERE r.study_id = {study}.id)", chunk)


@transaction.atomic
def decide_duplicate(candidate: DuplicateCandidate, *, primary: Record, user,
                     batch: DuplicateDecisionBatch | None = None) -> None:
    """A person says the pair is one record: the other one (and anything that pointed at
    it) becomes a duplicate of `primary`'s group and moves into its study. Decisions later
    stages made on the records that become duplicates are handed to the primary by their
    merge handlers (`holds.on_merge`), in this transaction. Under the project's
    deduplication lock, with the records locked: never interleaved with a run or a vote.
    The pair keeps what moved (`moved`), so a group decision (`batch`) can be undone."""
    lock_project(candidate.project_id)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.PENDING:
        raise DedupError("This pair was decided already.")
    if primary.pk not in (candidate.record_a_id, candidate.record_b_id):
        raise DedupError("The primary must be one of the two records.")
    pair = {r.pk: r for r in Record.objects.filter(
        pk__in=[candidate.record_a_id, candidate.record_b_id]).only("id", "duplicate_of_id")}
    other = pair[candidate.record_b_id if primary.pk == candidate.record_a_id
                 else candidate.record_a_id]
    keep_id = pair[primary.pk].duplicate_of_id or primary.pk
    other_root = other.duplicate_of_id or other.pk
    if keep_id == other_root:
        raise DedupError("These records are in one group already.")
    # Both groups locked, in id order (as a vote locks its one record): nothing changes
    # under us from here on.
    rows = list(Record.objects.select_for_update(no_key=True).filter(
        Q(pk__in=[keep_id, other_root]) | Q(duplicate_of_id__in=[keep_id, other_root]))
        .order_by("id").values_list("id", "duplicate_of_id", "hold", "study_id",
                                    "merged_by_id", "merged_at"))
    links = {rid: dup_of for rid, dup_of, *_rest in rows}
    if links.get(keep_id, 0) is not None or links.get(other_root, 0) is not None:
        raise DedupError("These records changed meanwhile: reload the page and decide again.")
    studies = {rid: study for rid, _d, _h, study, *_rest in rows}
    moving = [(rid, hold) for rid, dup_of, hold, *_rest in rows
              if rid == other_root or dup_of == other_root]
    before = {str(rid): [dup_of, study, by, at and at.isoformat()]
              for rid, dup_of, _h, study, by, at in rows
              if rid == other_root or dup_of == other_root}
    study_held = [rid for rid, hold in moving if hold & holds.STUDY_HOLDS]
    if study_held:
        raise DedupError(f"The study of record #{study_held[0]} has an extraction or coding: "
                         "a merge would move it. Settle that stage first.")
    changes = {rid: keep_id for rid, _hold in moving}
    holds.carry_on_merge(candidate.project, changes, user)
    applied = _apply_links(candidate.project, changes, links, studies, user=user)
    if len(applied) != len(changes):
        raise DedupError("These records changed meanwhile: reload the page and decide again.")
    candidate.status = DuplicateCandidate.Status.DUPLICATE
    candidate.decided_by, candidate.decided_at = user, timezone.now()
    candidate.decided_in = batch
    candidate.moved = {"into": keep_id, "records": before}
    candidate.save(update_fields=["status", "decided_by", "decided_at", "decided_in", "moved"])
    audit.record(project=candidate.project, actor=user, action="duplicate.confirm",
                 target=candidate, after={"primary": keep_id, "duplicate": other.pk,
                                          "held": [rid for rid, hold in moving if hold],
                                          **({"batch": batch.pk} if batch else {})})


@transaction.atomic
def decide_not_duplicate(candidate: DuplicateCandidate, *, user,
                         batch: DuplicateDecisionBatch | None = None) -> None:
    lock_project(candidate.project_id)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.PENDING:
        raise DedupError("This pair was decided already.")
    candidate.status = DuplicateCandidate.Status.NOT_DUPLICATE
    candidate.decided_by, candidate.decided_at = user, timezone.now()
    candidate.decided_in = batch
    candidate.save(update_fields=["status", "decided_by", "decided_at", "decided_in"])
    audit.record(project=candidate.project, actor=user, action="duplicate.reject",
                 target=candidate, after={"records": [candidate.record_a_id,
                                                      candidate.record_b_id],
                                          **({"batch": batch.pk} if batch else {})})


@transaction.atomic
def unmerge(record: Record, *, user) -> None:
    """Undo a merge: the record is on its own again, in a study of its own, and the
    automatic deduplication will not merge it with that primary again (the pair is recorded
    as not duplicate). Decisions carried to the primary at the merge stay there (the log
    says what moved)."""
    lock_project(record.project_id)
    record = Record.objects.select_for_update(no_key=True).get(pk=record.pk)
    if record.duplicate_of_id is None:
        raise DedupError("This record is not a duplicate.")
    primary_id = record.duplicate_of_id
    a, b = sorted([record.pk, primary_id])
    answer = {"project": record.project, "status": DuplicateCandidate.Status.NOT_DUPLICATE,
              "decided_by": user, "decided_at": timezone.now(), "decided_in": None,
              "moved": {}}
    DuplicateCandidate.objects.update_or_create(
        record_a_id=a, record_b_id=b, defaults=answer,
        create_defaults={**answer, "rule": UNMERGED_RULE},
    )
    study = Study.objects.create(project=record.project)
    changed = Record.objects.filter(pk=record.pk, duplicate_of_id=primary_id).update(
        duplicate_of=None, merged_by=None, merged_at=None, study=study)
    if changed != 1:
        raise DedupError("This record changed meanwhile: reload the page.")
    audit.record(project=record.project, actor=user, action="record.unmerge", target=record,
                 before={"duplicate_of": primary_id, "study": record.study_id},
                 after={"duplicate_of": None, "study": study.pk})


@transaction.atomic
def reopen_pair(candidate: DuplicateCandidate, *, user) -> None:
    """A pair a person kept apart goes back to the queue, pending (a merged pair is undone
    from its record's page, by `unmerge`). Under the deduplication lock, as every decision."""
    lock_project(candidate.project_id)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.NOT_DUPLICATE:
        raise DedupError("Only a pair kept apart goes back to the queue; undo a merge from "
                         "the record's page.")
    before = {"status": candidate.status, "batch": candidate.decided_in_id}
    _to_pending(candidate)
    audit.record(project=candidate.project, actor=user, action="duplicate.reopen",
                 target=candidate, before=before, after={"status": candidate.status})


def _to_pending(candidate: DuplicateCandidate) -> None:
    candidate.status = DuplicateCandidate.Status.PENDING
    candidate.decided_by = candidate.decided_at = candidate.decided_in = None
    candidate.moved = {}
    candidate.save(update_fields=["status", "decided_by", "decided_at", "decided_in",
                                  "moved"])


# ---------------------------------------------------------------------------------------
# Group decisions: a lead decides every pending pair of one signature at once
# ---------------------------------------------------------------------------------------


@transaction.atomic
def create_batch(project: Project, *, pair_ids: list[int], decision: str, signature: str,
                 description: str, user) -> DuplicateDecisionBatch:
    """Record a lead's decision on a group of pairs, before it is applied (by
    `decide_group`, in a job). Only the project's pairs that are still pending are kept."""
    if decision not in DuplicateDecisionBatch.Decision.values:
        raise DedupError("Choose merge all or keep all apart.")
    pending = set(DuplicateCandidate.objects.filter(
        project=project, status=DuplicateCandidate.Status.PENDING, pk__in=pair_ids)
        .values_list("pk", flat=True))
    kept = [pk for pk in dict.fromkeys(pair_ids) if pk in pending]
    if not kept:
        raise DedupError("No pair of this group is waiting for a decision any more.")
    return DuplicateDecisionBatch.objects.create(
        project=project, decision=decision, signature=signature, description=description,
        pair_ids=kept, decided_by=user)


def decide_group(batch: DuplicateDecisionBatch, *,
                 progress: Progress | None = None) -> DuplicateDecisionBatch:
    """Apply a group decision: every pair through `decide_duplicate` (keeping the earlier
    record of each) or `decide_not_duplicate`, so holds, locks and the log are those of a
    single decision. Each pair is its own transaction, so progress shows and a job stopped
    halfway can be run again: pairs this batch decided already are passed over. A pair
    decided meanwhile, or whose records changed, is skipped and reported in `skipped`."""
    progress = progress or (lambda *a, **k: None)
    if batch.status != DuplicateDecisionBatch.Status.DECIDING:
        raise DedupError("This group decision was applied already.")
    user = batch.decided_by
    pairs = DuplicateCandidate.objects.filter(project_id=batch.project_id).only(
        "id", "project_id", "record_a_id", "record_b_id", "decided_in_id").in_bulk(
        batch.pair_ids)
    skipped = []
    total = len(batch.pair_ids)
    progress(0, total, "Deciding the pairs")
    for done, pk in enumerate(batch.pair_ids, 1):
        pair = pairs.get(pk)
        if pair is None:
            skipped.append({"pair": pk, "records": [], "reason": "This pair is gone."})
        elif pair.decided_in_id != batch.pk:
            try:
                if batch.decision == DuplicateDecisionBatch.Decision.DUPLICATE:
                    decide_duplicate(pair, primary=Record(pk=pair.record_a_id), user=user,
                                     batch=batch)
                else:
                    decide_not_duplicate(pair, user=user, batch=batch)
            except DedupError as exc:
                skipped.append({"pair": pk, "records": [pair.record_a_id, pair.record_b_id],
                                "reason": str(exc)})
        progress(done, total)
    with transaction.atomic():
        batch.status = DuplicateDecisionBatch.Status.DECIDED
        batch.skipped, batch.finished_at = skipped, timezone.now()
        batch.save(update_fields=["status", "skipped", "finished_at"])
        decided = sorted(batch.pairs.values_list("pk", flat=True))
        audit.record(project=batch.project, actor=user, action="duplicate.group",
                     target=batch, after={"decision": batch.decision,
                                          "signature": batch.signature, "pairs": decided,
                                          "skipped": [s["pair"] for s in skipped]})
    return batch


@transaction.atomic
def request_undo(batch: DuplicateDecisionBatch, *, user) -> DuplicateDecisionBatch:
    """Claim a group decision for undoing (once: a second request is refused)."""
    if not DuplicateDecisionBatch.objects.filter(
            pk=batch.pk, status=DuplicateDecisionBatch.Status.DECIDED).update(
            status=DuplicateDecisionBatch.Status.UNDOING, undone_by=user):
        raise DedupError("Only an applied group decision can be undone, once.")
    batch.refresh_from_db()
    return batch


def undo_group(batch: DuplicateDecisionBatch, *, progress: Progress | None = None) -> list[int]:
    """Undo a group decision as a whole, last pair first: each pair it kept apart goes back
    to pending, and each merge it made is taken back (the records that moved get their link
    and study back, or a new study if theirs is gone) and its pair goes back to pending, not
    to "not duplicate". Decisions a merge carried to the primary stay there, as with
    `unmerge`. A pair decided again since, or whose records changed since, is left as it is
    and reported in `undo_skipped`. Each pair is its own transaction (see decide_group).
    Answers the pairs that are pending again."""
    progress = progress or (lambda *a, **k: None)
    if batch.status != DuplicateDecisionBatch.Status.UNDOING:
        raise DedupError("This group decision is not being undone.")
    user = batch.undone_by
    not_decided = {s["pair"] for s in batch.skipped}
    pairs = [pk for pk in reversed(batch.pair_ids) if pk not in not_decided]
    skipped = []
    progress(0, len(pairs), "Undoing the decisions")
    for done, pk in enumerate(pairs, 1):
        try:
            _undo_pair(pk, batch, user)
        except DedupError as exc:
            skipped.append({"pair": pk, "reason": str(exc)})
        progress(done, len(pairs))
    reopened = sorted(set(pairs) - {s["pair"] for s in skipped})
    with transaction.atomic():
        batch.status = DuplicateDecisionBatch.Status.UNDONE
        batch.undo_skipped, batch.undone_at = skipped, timezone.now()
        batch.save(update_fields=["status", "undo_skipped", "undone_at"])
        audit.record(project=batch.project, actor=user, action="duplicate.group_undo",
                     target=batch, after={"reopened": reopened,
                                          "skipped": [s["pair"] for s in skipped]})
    return reopened


@transaction.atomic
def _undo_pair(pair_id: int, batch: DuplicateDecisionBatch, user) -> None:
    lock_project(batch.project_id)
    candidate = DuplicateCandidate.objects.select_for_update().filter(pk=pair_id).first()
    if candidate is None:
        raise DedupError("This pair is gone.")
    if candidate.status == DuplicateCandidate.Status.PENDING:
        return  # pending already (reopened by hand, or by an earlier run of this undo)
    if candidate.decided_in_id != batch.pk:
        raise DedupError("This pair was decided again since.")
    before = {"status": candidate.status, "batch": batch.pk}
    if candidate.status == DuplicateCandidate.Status.DUPLICATE:
        _take_back_merge(candidate, batch, user)
    _to_pending(candidate)
    audit.record(project=batch.project, actor=user, action="duplicate.reopen",
                 target=candidate, before=before, after={"status": candidate.status})


def _take_back_merge(candidate: DuplicateCandidate, batch: DuplicateDecisionBatch,
                     user) -> None:
    """The records a confirmed merge moved get their link, study and merge stamp back,
    provided each is still where that merge put it (conditional updates, records locked)."""
    into = candidate.moved.get("into")
    moved = {int(rid): state for rid, state in candidate.moved.get("records", {}).items()}
    rows = list(Record.objects.select_for_update(no_key=True).filter(pk__in=list(moved))
                .order_by("id").values_list("id", "duplicate_of_id", "hold", "study_id"))
    if not moved or len(rows) != len(moved) or any(dup_of != into for _r, dup_of, _h, _s in rows):
        raise DedupError("Its records changed since: undo that merge from the record's page.")
    if any(hold & holds.STUDY_HOLDS for _r, _d, hold, _s in rows):
        raise DedupError("The study now has an extraction or coding: its reports stay.")
    studies_now = {rid: study for rid, _d, _h, study in rows}
    alive = set(Study.objects.filter(pk__in={state[1] for state in moved.values()})
                .values_list("pk", flat=True))
    study_for: dict[int, int] = {}  # study before the merge -> the study to go back to
    changes = []
    for rid, (link, study, merged_by, merged_at) in sorted(moved.items()):
        if study not in study_for:
            study_for[study] = study if study in alive else Study.objects.create(
                project_id=batch.project_id).pk
        Record.objects.filter(pk=rid, duplicate_of_id=into).update(
            duplicate_of_id=link, study_id=study_for[study], merged_by_id=merged_by,
            merged_at=merged_at)
        changes.append((rid, {"duplicate_of": into, "study": studies_now[rid]},
                        {"duplicate_of": link, "study": study_for[study], "batch": batch.pk}))
    targets = Record.objects.only("id", "title").in_bulk([rid for rid, _b, _a in changes])
    audit.record_many(project=batch.project, actor=user, action="record.unmerge",
                      changes=[(targets[rid], b, a) for rid, b, a in changes])
