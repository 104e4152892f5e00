"""Record exports: one row per record with its source, position and deduplication status."""

from collections.abc import Iterator

from projects.models import Project

from . import queries
from .models import Record

RECORD_HEADER = [
    "record_id", "source", "source_position", "source_record_id", "duplicate_of",
    "dedup_status", "study_id", "title", "authors", "year", "journal", "volume", "issue",
    "pages", "doi", "pmid",
]


def record_rows(project: Project) -> Iterator[list]:
    """The header, then one row per record, in id order. Streams: fine at 100,000 records."""
    yield RECORD_HEADER
    pending = queries.pending_pairs(project)
    possible = set(pending.values_list("record_a_id", flat=True)) | set(
        pending.values_list("record_b_id", flat=True))
    primaries = set(Record.objects.filter(project=project, duplicate_of__isnull=False)
                    .values_list("duplicate_of_id", flat=True))
    rows = Record.objects.filter(project=project).values_list(
        "id", "source__name", "source_position", "source_record_id", "duplicate_of_id",
        "study_id", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
        "pmid",
    ).order_by("id")
    for (rid, source, position, source_id, dup_of, study, title, authors, year, journal,
         volume, issue, pages, doi, pmid) in rows.iterator(chunk_size=5000):
        status = queries.dedup_status_of(dup_of, rid in possible, rid in primaries)
        yield [rid, source, position, source_id, dup_of or "", status, study, title,
               "; ".join(authors or []), year or "", journal, volume, issue, pages, doi, pmid]
