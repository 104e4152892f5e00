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

from . import bulk
from .dedup import DedupRecord, find_duplicates
from .models import DuplicateCandidate, Record

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
    """Union-find that refuses a union joining a pair a person said are not duplicates."""

    def __init__(self, not_duplicates: set[tuple[int, int]]):
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.apart: dict[int, set[int]] = defaultdict(set)
        for a, b in not_duplicates:
            self.apart[a].add(b)
            self.apart[b].add(a)

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ma = self.members.get(ra, {ra})
        mb = self.members.get(rb, {rb})
        if any(self.apart[m] & mb for m in ma if m in self.apart):
            return False
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        self.parent[rb] = ra
        self.members[ra] = ma | mb
        self.members.pop(rb, None)
        return True


def _load(project: Project) -> tuple[list[DedupRecord], dict[int, int | None]]:
    rows = Record.objects.filter(project=project).values_list(
        "id", "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
        "doi", "pmid", "other_ids", "publication_type", "duplicate_of_id",
    ).order_by("id")
    records, links = [], {}
    for (rid, title, abstract, authors, year, journal, volume, issue, pages, doi, pmid,
         other_ids, ptype, dup_of) in rows.iterator(chunk_size=5000):
        records.append(DedupRecord(
            id=rid, title=title, abstract=abstract, authors=tuple(authors or ()), year=year,
            journal=journal, volume=volume, issue=issue, pages=pages, doi=doi, pmid=pmid,
            isbn=(other_ids or {}).get("isbn", ""), publication_type=ptype,
        ))
        links[rid] = dup_of
    return records, links


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


@contextmanager
def _project_lock(project: Project):
    if not bulk.is_postgres():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s), %s)",
                       ["tandem.deduplicate", project.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)",
                           ["tandem.deduplicate", project.pk])


def _deduplicate_locked(project: Project, user, progress: Progress) -> DedupReport:
    records, links = _load(project)
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

    clusters = _Clusters(not_duplicates)
    for rid, dup_of in links.items():
        if dup_of is not None:
            clusters.union(dup_of, rid)
    for a, b in sorted(result.certain):
        clusters.union(a, b)

    groups: dict[int, list[int]] = defaultdict(list)
    for rid in links:
        groups[clusters.find(rid)].append(rid)
    changes: dict[int, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        current_primaries = [m for m in members if links[m] is None]
        primary = min(current_primaries) if current_primaries else min(members)
        for m in members:
            if m != primary and links[m] != primary:
                changes[m] = primary

    with transaction.atomic():
        report = _apply(project, user, progress, records, changes, links, clusters, result)
    bulk.analyze(Record)
    return report


def _apply(project, user, progress, records, changes, links, clusters, result) -> DedupReport:
    merged = _apply_links(project, changes, links)
    # Pending questions the matching answered itself are no longer questions.
    stale = [pk for pk, a, b in DuplicateCandidate.objects.filter(
        project=project, status=DuplicateCandidate.Status.PENDING).values_list(
        "pk", "record_a_id", "record_b_id") if clusters.find(a) == clusters.find(b)]
    DuplicateCandidate.objects.filter(pk__in=stale).delete()
    # Every pair ever asked about, decided ones included: a decision is never asked again.
    existing = set(DuplicateCandidate.objects.filter(project=project).values_list(
        "record_a_id", "record_b_id"))
    new = [
        DuplicateCandidate(project=project, record_a_id=p.a, record_b_id=p.b,
                           score=round(p.score, 4), reasons=list(p.reasons))
        for p in result.possible
        if (p.a, p.b) not in existing
        and clusters.find(p.a) != clusters.find(p.b)
    ]
    DuplicateCandidate.objects.bulk_create(new, batch_size=2000)
    report = DedupReport(
        records=len(records), merged=merged,
        duplicates=Record.objects.filter(project=project, duplicate_of__isnull=False).count(),
        possible=DuplicateCandidate.objects.filter(
            project=project, status=DuplicateCandidate.Status.PENDING).count(),
    )
    audit.record(project=project, actor=user, action="dedup.run",
                 after={"records": report.records, "merged": report.merged,
                        "duplicates": report.duplicates, "possible": report.possible})
    progress(100, 100)
    return report


def _apply_links(project: Project, changes: dict[int, int], links: dict[int, int | None],
                 user=None) -> int:
    """Point each record of `changes` at its new primary, in chunks of one UPDATE each."""
    if not changes:
        return 0
    now = timezone.now()
    items = sorted(changes.items())
    table = connection.ops.quote_name(Record._meta.db_table)
    for start in range(0, len(items), 5000):
        chunk = items[start:start + 5000]
        if bulk.is_postgres():
            values = ", ".join(["(%s::bigint, %s::bigint)"] * len(chunk))
            params = [v for pair in chunk for v in pair]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS r SET duplicate_of_id = v.primary_id, merged_at = %s, "
                    f"merged_by_id = %s FROM (VALUES {values}) AS v(id, primary_id) "
                    f"WHERE r.id = v.id",
                    [now, user.pk if user else None, *params],
                )
        else:
            for rid, primary in chunk:
                Record.objects.filter(pk=rid).update(duplicate_of_id=primary, merged_at=now,
                                                     merged_by=user)
    targets = Record.objects.only("id", "title").in_bulk([rid for rid, _p in items])
    audit.record_many(project=project, actor=user, action="record.merge", changes=[
        (targets[rid], {"duplicate_of": links.get(rid)},
         {"duplicate_of": primary, "by": user.username if user else "automatic"})
        for rid, primary in items
    ])
    return sum(1 for rid, _p in items if links.get(rid) is None)


@transaction.atomic
def decide_duplicate(candidate: DuplicateCandidate, *, primary: Record, user) -> None:
    """A person says the pair is one record: the other one (and anything that pointed at
    it) becomes a duplicate of `primary`'s group."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.PENDING:
        raise DedupError("This pair was decided already.")
    a, b = Record.objects.select_for_update().filter(
        pk__in=[candidate.record_a_id, candidate.record_b_id]).order_by("id")
    if primary.pk not in (a.pk, b.pk):
        raise DedupError("The primary must be one of the two records.")
    primary, other = (a, b) if primary.pk == a.pk else (b, a)
    keep_id = primary.duplicate_of_id or primary.pk
    other_root = other.duplicate_of_id or other.pk
    # The other record's whole group (its primary and that primary's duplicates) moves.
    links = dict(Record.objects.filter(Q(pk=other_root) | Q(duplicate_of_id=other_root))
                 .values_list("id", "duplicate_of_id"))
    changes = {rid: keep_id for rid, dup_of in links.items()
               if rid != keep_id and dup_of != keep_id}
    _apply_links(candidate.project, changes, links, user=user)
    candidate.status = DuplicateCandidate.Status.DUPLICATE
    candidate.decided_by, candidate.decided_at = user, timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(project=candidate.project, actor=user, action="duplicate.confirm",
                 target=candidate, after={"primary": keep_id, "duplicate": other.pk})


@transaction.atomic
def decide_not_duplicate(candidate: DuplicateCandidate, *, user) -> None:
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
    """Undo a merge: the record is on its own again, and the automatic deduplication will
    not merge it with that primary again (the pair is recorded as not duplicate)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.duplicate_of_id is None:
        raise DedupError("This record is not a duplicate.")
    primary_id = record.duplicate_of_id
    a, b = sorted([record.pk, primary_id])
    DuplicateCandidate.objects.update_or_create(
        record_a_id=a, record_b_id=b,
        defaults={"project": record.project, "status": DuplicateCandidate.Status.NOT_DUPLICATE,
                  "decided_by": user, "decided_at": timezone.now()},
    )
    Record.objects.filter(pk=record.pk).update(duplicate_of=None, merged_by=None,
                                               merged_at=None)
    audit.record(project=record.project, actor=user, action="record.unmerge", target=record,
                 before={"duplicate_of": primary_id}, after={"duplicate_of": None})
