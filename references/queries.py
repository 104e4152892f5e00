"""Reads of the references app used in several places."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from projects.models import Project

from .diff import EXPLAINED_FIELDS, explain
from .models import DuplicateCandidate, Record, Source


def in_flow(project: Project) -> QuerySet[Record]:
    """The records that go on to screening: neither duplicates nor removed before screening."""
    return Record.objects.filter(project=project, duplicate_of__isnull=True, removed_reason="")


def pending_pairs(project: Project) -> QuerySet[DuplicateCandidate]:
    return DuplicateCandidate.objects.filter(project=project,
                                             status=DuplicateCandidate.Status.PENDING)


def explained_pending_pairs(project: Project) -> list[DuplicateCandidate]:
    """Every pending pair, best first, with both records' compared fields (one query) and
    its `explanation` (references.diff): the queue and its groups."""
    fields = [f"record_{side}__{name}" for side in "ab" for name in EXPLAINED_FIELDS]
    pairs = list(pending_pairs(project).select_related("record_a", "record_b").only(
        "id", "project_id", "record_a_id", "record_b_id", "score", "reasons", "rule",
        "status", *fields))
    for pair in pairs:
        pair.explanation = explain(pair)
    return pairs


def with_dedup_status(records: QuerySet[Record]) -> QuerySet[Record]:
    """Annotate `has_duplicates` and `is_possible` (in a pending pair). Two EXISTS, one per
    side of the pair: an OR inside one would make PostgreSQL scan every pair per record."""
    pending = DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.PENDING)
    return records.annotate(
        has_duplicates=Exists(Record.objects.filter(duplicate_of=OuterRef("pk"))),
        is_possible=Exists(pending.filter(record_a=OuterRef("pk")))
        | Exists(pending.filter(record_b=OuterRef("pk"))),
    )


def dedup_status_of(duplicate_of_id, is_possible: bool, has_duplicates: bool) -> str:
    """unique, primary, duplicate or possible: the one rule, for pages and exports."""
    if duplicate_of_id:
        return "duplicate"
    if is_possible:
        return "possible"
    if has_duplicates:
        return "primary"
    return "unique"


def dedup_status(record: Record) -> str:
    """The status of a record annotated by `with_dedup_status`."""
    return dedup_status_of(record.duplicate_of_id, record.is_possible, record.has_duplicates)


def filter_by_status(records: QuerySet[Record], status: str) -> QuerySet[Record]:
    if status == "duplicate":
        return records.filter(duplicate_of__isnull=False)
    records = records.filter(duplicate_of__isnull=True)
    if status == "possible":
        return records.filter(is_possible=True)
    if status == "primary":
        return records.filter(is_possible=False, has_duplicates=True)
    if status == "unique":
        return records.filter(is_possible=False, has_duplicates=False)
    return records


def sources_with_counts(project: Project) -> QuerySet[Source]:
    return Source.objects.filter(project=project).annotate(
        records_in=Count("records"),
        duplicates=Count("records", filter=Q(records__duplicate_of__isnull=False)),
    ).order_by("imported_at", "id")


def counts(project: Project, sources: list[Source]) -> dict[str, int]:
    """The page's totals, summed from `sources_with_counts` (every record has a source):
    not a second pass over the project's records."""
    identified = sum(s.records_in for s in sources)
    duplicates = sum(s.duplicates for s in sources)
    from_databases = sum(s.records_in for s in sources if s.kind == Source.Kind.DATABASE)
    return {"identified": identified, "duplicates": duplicates,
            "from_databases": from_databases, "from_other": identified - from_databases,
            "remaining": identified - duplicates, "possible": pending_pairs(project).count()}


def search(records: QuerySet[Record], text: str) -> QuerySet[Record]:
    """Title, abstract, author or DOI containing `text` (case-insensitive)."""
    text = text.strip()
    if not text:
        return records
    return records.filter(
        Q(title__icontains=text) | Q(abstract__icontains=text) | Q(doi__iexact=text.lower())
        | Q(authors__icontains=text)
    )
