"""Deduplication applied to a project: merges, the review queue, decisions and undo."""

import random

import pytest

from projects.models import AuditEvent
from references import deduplication, exports
from references.models import DuplicateCandidate, Record, Study
from tests.factories import RecordFactory, SourceFactory

TITLE = "Trainee-led integrated knowledge translation: a scoping review"


def same_work(project, source, **extra):
    return RecordFactory(project=project, source=source, title=TITLE,
                         authors=["Cassidy, Christine", "Burgess, Stephanie"], year=2021,
                         journal="Health Research Policy and Systems", volume="19",
                         pages="57", doi="10.1186/s12961-021-00659-9", **extra)


@pytest.fixture
def two_sources(cast):
    return (SourceFactory(project=cast.project, name="MEDLINE"),
            SourceFactory(project=cast.project, name="Embase"))


def test_certain_duplicates_are_merged_into_the_earliest_record(cast, two_sources):
    medline, embase = two_sources
    first = same_work(cast.project, medline)
    second = same_work(cast.project, embase)
    other = RecordFactory(project=cast.project, source=embase, title="Something else entirely",
                          doi="10.1000/other")

    report = deduplication.deduplicate(cast.project, user=cast.lead)

    second.refresh_from_db()
    other.refresh_from_db()
    assert second.duplicate_of == first and second.merged_by is None
    assert other.duplicate_of is None
    assert (report.records, report.merged, report.duplicates, report.possible) == (3, 1, 1, 0)
    merge = AuditEvent.objects.get(action="record.merge")
    assert (merge.target_id, merge.before, merge.after) == (
        str(second.pk), {"duplicate_of": None},
        {"duplicate_of": first.pk, "by": "automatic"})
    assert AuditEvent.objects.get(action="dedup.run").after == {
        "records": 3, "merged": 1, "duplicates": 1, "possible": 0, "held": 0}


def test_running_again_changes_nothing(cast, two_sources):
    same_work(cast.project, two_sources[0])
    same_work(cast.project, two_sources[1])
    deduplication.deduplicate(cast.project)

    report = deduplication.deduplicate(cast.project)

    assert (report.merged, report.duplicates) == (0, 1)
    assert AuditEvent.objects.filter(action="record.merge").count() == 1


def test_a_later_search_is_matched_against_everything_already_there(cast, two_sources):
    medline, embase = two_sources
    first = same_work(cast.project, medline)
    deduplication.deduplicate(cast.project)
    update = SourceFactory(project=cast.project, name="MEDLINE update")
    later = same_work(cast.project, update)

    deduplication.deduplicate(cast.project)

    later.refresh_from_db()
    assert later.duplicate_of == first


def test_unmerge_is_remembered(cast, two_sources):
    first = same_work(cast.project, two_sources[0])
    second = same_work(cast.project, two_sources[1])
    deduplication.deduplicate(cast.project)
    second.refresh_from_db()
    assert second.study_id == first.study_id  # a merge moves the record into its primary's study

    deduplication.unmerge(second, user=cast.lead)
    report = deduplication.deduplicate(cast.project)

    second.refresh_from_db()
    assert second.duplicate_of is None and report.duplicates == 0
    assert second.study_id != first.study_id  # a study of its own again
    decision = DuplicateCandidate.objects.get()
    assert (decision.record_a, decision.record_b, decision.status, decision.decided_by) == (
        first, second, "not_duplicate", cast.lead)
    event = AuditEvent.objects.get(action="record.unmerge")
    assert (event.before, event.after) == ({"duplicate_of": first.pk, "study": first.study_id},
                                           {"duplicate_of": None, "study": second.study_id})


def test_unmerge_of_a_record_that_is_not_a_duplicate(cast, two_sources):
    record = same_work(cast.project, two_sources[0])

    with pytest.raises(deduplication.DedupError, match="not a duplicate"):
        deduplication.unmerge(record, user=cast.lead)


def pending(project, a, b):
    return DuplicateCandidate.objects.create(project=project, record_a=a, record_b=b, score=0.7,
                                             reasons=["same title", "different year"])


def test_a_lead_confirms_a_possible_duplicate_and_picks_the_primary(cast, two_sources):
    a = RecordFactory(project=cast.project, source=two_sources[0])
    b = RecordFactory(project=cast.project, source=two_sources[1])
    b_dup = RecordFactory(project=cast.project, source=two_sources[1], duplicate_of=b)
    pair = pending(cast.project, a, b)

    deduplication.decide_duplicate(pair, primary=b, user=cast.lead)

    a.refresh_from_db()
    b_dup.refresh_from_db()
    pair.refresh_from_db()
    assert a.duplicate_of == b and a.merged_by == cast.lead
    assert b_dup.duplicate_of == b
    assert (pair.status, pair.decided_by) == ("duplicate", cast.lead)
    event = AuditEvent.objects.get(action="duplicate.confirm")
    assert event.after == {"primary": b.pk, "duplicate": a.pk, "held": []}


def test_confirming_moves_the_other_records_whole_group(cast, two_sources):
    a = RecordFactory(project=cast.project, source=two_sources[0])
    a_dup = RecordFactory(project=cast.project, source=two_sources[0], duplicate_of=a)
    b = RecordFactory(project=cast.project, source=two_sources[1])
    pair = pending(cast.project, a, b)

    deduplication.decide_duplicate(pair, primary=b, user=cast.lead)

    assert dict(Record.objects.filter(pk__in=[a.pk, a_dup.pk]).values_list(
        "id", "duplicate_of_id")) == {a.pk: b.pk, a_dup.pk: b.pk}


def test_a_lead_keeps_a_pair_apart(cast, two_sources):
    a = RecordFactory(project=cast.project, source=two_sources[0])
    b = RecordFactory(project=cast.project, source=two_sources[1])
    pair = pending(cast.project, a, b)

    deduplication.decide_not_duplicate(pair, user=cast.lead)

    with pytest.raises(deduplication.DedupError, match="decided already"):
        deduplication.decide_duplicate(pair, primary=a, user=cast.lead)
    assert Record.objects.filter(duplicate_of__isnull=False).count() == 0
    assert AuditEvent.objects.get(action="duplicate.reject").after == {"records": [a.pk, b.pk]}


def test_primary_must_be_one_of_the_pair(cast, two_sources):
    a, b, c = (RecordFactory(project=cast.project, source=two_sources[0]) for _ in range(3))
    pair = pending(cast.project, a, b)

    with pytest.raises(deduplication.DedupError, match="one of the two records"):
        deduplication.decide_duplicate(pair, primary=c, user=cast.lead)


def test_a_pair_kept_apart_is_never_joined_through_a_third_record(cast, two_sources):
    medline, embase = two_sources
    first = same_work(cast.project, medline)
    second = same_work(cast.project, embase)
    deduplication.deduplicate(cast.project)
    second.refresh_from_db()
    deduplication.unmerge(second, user=cast.lead)
    third = same_work(cast.project, SourceFactory(project=cast.project, name="CINAHL"))

    deduplication.deduplicate(cast.project)

    groups = {r.pk: r.duplicate_of_id or r.pk for r in Record.objects.all()}
    assert groups[first.pk] != groups[second.pk]
    assert groups[third.pk] in (groups[first.pk], groups[second.pk])


def test_export_gives_each_records_dedup_status(cast, two_sources):
    medline, embase = two_sources
    first = same_work(cast.project, medline)
    second = same_work(cast.project, embase)
    a = RecordFactory(project=cast.project, source=embase, title="A")
    b = RecordFactory(project=cast.project, source=embase, title="B")
    lone = RecordFactory(project=cast.project, source=embase, title="Lone")
    deduplication.deduplicate(cast.project)
    pending(cast.project, a, b)

    rows = list(exports.record_rows(cast.project))

    header, *data = rows
    status = {row[0]: (row[header.index("dedup_status")], row[header.index("duplicate_of")])
              for row in data}
    assert status == {first.pk: ("primary", ""), second.pk: ("duplicate", first.pk),
                      a.pk: ("possible", ""), b.pk: ("possible", ""), lone.pk: ("unique", "")}


def test_books_are_matched_on_the_isbn_among_their_other_identifiers(cast, two_sources):
    """The run loads only the ISBN of a record's other identifiers; it still ties the two
    catalogue records of one book (without it they would only be possible duplicates)."""
    book = dict(project=cast.project, title="Handbook of cardioprotection",
                authors=["Yellon, D. M."], year=2009, publication_type="BOOK", journal="",
                volume="", pages="", doi="")
    first = RecordFactory(source=two_sources[0], other_ids={"isbn": "978-0-12-345678-9",
                                                            "oclc": "123"}, **book)
    second = RecordFactory(source=two_sources[1], other_ids={"isbn": "9780123456789"}, **book)

    report = deduplication.deduplicate(cast.project)

    second.refresh_from_db()
    assert (second.duplicate_of_id, report.merged, report.possible) == (first.pk, 1, 0)


@pytest.mark.postgres
def test_a_run_with_many_merges_links_moves_and_logs_each_one(cast, two_sources):
    """Hundreds of merges in one run (their events written by COPY): every duplicate points
    at its primary, moves into its study (its own study is removed) and has its merge event,
    named as the record is."""
    rng = random.Random(8)
    words = ["remote", "ischaemic", "preconditioning", "cardiac", "surgery", "kidney", "injury",
             "trial", "statins", "children", "stroke", "sepsis", "outcomes", "mortality",
             "biomarkers", "anaesthesia", "volatile", "propofol", "troponin", "elderly"]
    n = 600
    studies = Study.objects.bulk_create([Study(project=cast.project) for _ in range(2 * n)])
    records = []
    for k in range(n):
        title = " ".join(rng.sample(words, 9)) + f" cohort {k}"
        for copy, source in enumerate(two_sources):
            records.append(Record(
                project=cast.project, source=source, source_position=k + 1,
                study=studies[2 * k + copy], title=title, authors=["Lee, Kim"], year=2020,
                journal="Heart", volume="10", pages=f"{k * 10 + 1}-{k * 10 + 9}",
                doi=f"10.1000/heart.{k}"))
    records = Record.objects.bulk_create(records)

    report = deduplication.deduplicate(cast.project)

    rows = dict(Record.objects.filter(project=cast.project).values_list(
        "id", "duplicate_of_id"))
    primaries, duplicates = records[0::2], records[1::2]
    assert (report.merged, report.duplicates) == (n, n)
    assert {d.pk: rows[d.pk] for d in duplicates} == {
        d.pk: p.pk for p, d in zip(primaries, duplicates, strict=True)}
    assert all(rows[p.pk] is None for p in primaries)
    moved = dict(Record.objects.filter(pk__in=[d.pk for d in duplicates]).values_list(
        "id", "study_id"))
    assert moved == {d.pk: p.study_id for p, d in zip(primaries, duplicates, strict=True)}
    assert Study.objects.filter(project=cast.project).count() == n
    events = AuditEvent.objects.filter(action="record.merge")
    assert sorted(events.values_list("target_id", "before", "after")) == sorted(
        (str(d.pk), {"duplicate_of": None}, {"duplicate_of": p.pk, "by": "automatic"})
        for p, d in zip(primaries, duplicates, strict=True))
    assert {e.target_repr for e in events} == {str(d) for d in duplicates}
