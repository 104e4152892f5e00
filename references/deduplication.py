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
from django.utils import timezone

from projects import audit
from projects.models import Project

from . import bulk, holds
from .dedup import DedupRecord, find_duplicates
from .models import DuplicateCandidate, Record, Study

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
    """Every record of the project that is in the flow (not removed before screening)."""
    rows = Record.objects.filter(project=project, removed_reason="").values_list(
        "id", "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
        "doi", "pmid", "other_ids", "publication_type", "duplicate_of_id", "hold", "study_id",
    ).order_by("id")
    loaded = _Loaded([], {}, set(), {})
    for (rid, title, abstract, authors, year, journal, volume, issue, pages, doi, pmid,
         other_ids, ptype, dup_of, hold, study_id) in rows.iterator(chunk_size=5000):
        loaded.records.append(DedupRecord(
            id=rid, title=title, abstract=abstract, authors=tuple(authors or ()), year=year,
            journal=journal, volume=volume, issue=issue, pages=pages, doi=doi, pmid=pmid,
            isbn=(other_ids or {}).get("isbn", ""), publication_type=ptype,
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
    with _project_lock(project):
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
    bulk.analyze(Record)
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

    def ask(a: int, b: int, score: float, reasons: list[str]) -> None:
        key = (min(a, b), max(a, b))
        if key not in existing and key not in new:
            new[key] = DuplicateCandidate(project=project, record_a_id=key[0],
                                          record_b_id=key[1], score=round(score, 4),
                                          reasons=reasons)

    for a, b in held_pairs:
        ask(a, b, 1.0, [HELD_REASON])
    for rid, primary in missed:
        ask(rid, primary, 1.0, [CHANGED_REASON])
    for p in result.possible:
        if clusters.find(p.a) != clusters.find(p.b):
            ask(p.a, p.b, p.score, list(p.reasons))
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
                    f"RETURNING r.id",
                    [now, user.pk if user else None, *params],
                )
                applied.update(row[0] for row in cursor.fetchall())
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
    targets = Record.objects.only("id", "title").in_bulk(sorted(applied))
    audit.record_many(project=project, actor=user, action="record.merge", changes=[
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
def decide_duplicate(candidate: DuplicateCandidate, *, primary: Record, user) -> None:
    """A person says the pair is one record: the other one (and anything that pointed at
    it) becomes a duplicate of `primary`'s group and moves into its study. Decisions later
    stages made on the records that become duplicates are handed to the primary by their
    merge handlers (`holds.on_merge`), in this transaction. Under the project's
    deduplication lock, with the records locked: never interleaved with a run or a vote."""
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
        .order_by("id").values_list("id", "duplicate_of_id", "hold", "study_id"))
    links = {rid: dup_of for rid, dup_of, _h, _s in rows}
    if links.get(keep_id, 0) is not None or links.get(other_root, 0) is not None:
        raise DedupError("These records changed meanwhile: reload the page and decide again.")
    studies = {rid: study for rid, _d, _h, study in rows}
    moving = [(rid, hold) for rid, dup_of, hold, _s in rows
              if rid == other_root or dup_of == other_root]
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
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(project=candidate.project, actor=user, action="duplicate.confirm",
                 target=candidate, after={"primary": keep_id, "duplicate": other.pk,
                                          "held": [rid for rid, hold in moving if hold]})


@transaction.atomic
def decide_not_duplicate(candidate: DuplicateCandidate, *, user) -> None:
    lock_project(candidate.project_id)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.PENDING:
        raise DedupError("This pair was decided already.")
    candidate.status = DuplicateCandidate.Status.NOT_DUPLICATE
    candidate.decided_by, candidate.decided_at = user, timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(project=candidate.project, actor=user, action="duplicate.reject",
                 target=candidate, after={"records": [candidate.record_a_id,
                                                      candidate.record_b_id]})


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
    DuplicateCandidate.objects.update_or_create(
        record_a_id=a, record_b_id=b,
        defaults={"project": record.project, "status": DuplicateCandidate.Status.NOT_DUPLICATE,
                  "decided_by": user, "decided_at": timezone.now()},
    )
    study = Study.objects.create(project=record.project)
    changed = Record.objects.filter(pk=record.pk, duplicate_of_id=primary_id).update(
        duplicate_of=None, merged_by=None, merged_at=None, study=study)
    if changed != 1:
        raise DedupError("This record changed meanwhile: reload the page.")
    audit.record(project=record.project, actor=user, action="record.unmerge", target=record,
                 before={"duplicate_of": primary_id, "study": record.study_id},
                 after={"duplicate_of": None, "study": study.pk})
