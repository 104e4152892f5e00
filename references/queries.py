"""Reads of the references app used in several places."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from projects.models import Project

from .models import DuplicateCandidate, Record, Source

DEDUP_STATUSES = ("unique", "primary", "duplicate", "possible")


def pending_pairs(project: Project) -> QuerySet[DuplicateCandidate]:
    return DuplicateCandidate.objects.filter(project=project,
                                             status=DuplicateCandidate.Status.PENDING)


def with_dedup_status(records: QuerySet[Record]) -> QuerySet[Record]:
    """Annotate `has_duplicates` and `is_possible` (in a pending pair). Two EXISTS, one per
    side of the pair: an OR inside one would make PostgreSQL scan every pair per record."""
    pending = DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.PENDING)
    return records.annotate(
        has_duplicates=Exists(Record.objects.filter(duplicate_of=OuterRef("pk"))),
        is_possible=Exists(pending.filter(record_a=OuterRef("pk")))
        | Exists(pending.filter(record_b=OuterRef("pk"))),
    )


def dedup_status(record: Record) -> str:
    """unique, primary, duplicate or possible (needs `with_dedup_status`)."""
    if record.duplicate_of_id:
        return "duplicate"
    if record.is_possible:
        return "possible"
    if record.has_duplicates:
        return "primary"
    return "unique"


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


def counts(project: Project) -> dict[str, int]:
    totals = Record.objects.filter(project=project).aggregate(
        identified=Count("id"),
        duplicates=Count("id", filter=Q(duplicate_of__isnull=False)),
        from_databases=Count("id", filter=Q(source__kind=Source.Kind.DATABASE)),
        from_other=Count("id", filter=Q(source__kind=Source.Kind.OTHER)),
    )
    totals["remaining"] = totals["identified"] - totals["duplicates"]
    totals["possible"] = pending_pairs(project).count()
    return totals


def search(records: QuerySet[Record], text: str) -> QuerySet[Record]:
    """Title, abstract, author or DOI containing `text` (case-insensitive)."""
    text = text.strip()
    if not text:
        return records
    return records.filter(
        Q(title__icontains=text) | Q(abstract__icontains=text) | Q(doi__iexact=text.lower())
        | Q(authors__icontains=text)
    )
