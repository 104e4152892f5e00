"""Holds, merges and studies: a record with decisions of a later stage is never merged
automatically, merges never interleave, and a study with extraction or coding keeps its
reports."""

import threading

import pytest
from django.db import connection

from projects.models import AuditEvent
from references import deduplication, holds, services
from references.models import DuplicateCandidate, Record, Study
from tests.factories import RecordFactory, SourceFactory

TITLE = "Trainee-led integrated knowledge translation: a scoping review"


def same_work(project, **extra):
    return RecordFactory(project=project, title=TITLE,
                         authors=["Cassidy, Christine", "Burgess, Stephanie"], year=2021,
                         journal="Health Research Policy and Systems", volume="19",
                         pages="57", doi="10.1186/s12961-021-00659-9", **extra)


def links(project):
    return dict(Record.objects.filter(project=project).values_list("id", "duplicate_of_id"))


def test_a_held_record_becomes_the_primary_of_an_automatic_merge(cast):
    first = same_work(cast.project)
    screened = same_work(cast.project)
    holds.set_hold([screened.pk], holds.Hold.SCREENING)

    report = deduplication.deduplicate(cast.project)

    assert links(cast.project) == {first.pk: screened.pk, screened.pk: None}
    assert (report.merged, report.possible) == (1, 0)
    first.refresh_from_db()
    assert first.study_id == Record.objects.get(pk=screened.pk).study_id
    # The study the duplicate leaves is gone: no study without reports.
    assert list(Study.objects.filter(project=cast.project).values_list("id", flat=True)) == [
        first.study_id]


def test_two_held_records_are_never_merged_automatically_but_asked_about(cast):
    a, b = same_work(cast.project), same_work(cast.project)
    holds.set_hold([a.pk, b.pk], holds.Hold.SCREENING)

    report = deduplication.deduplicate(cast.project)

    assert links(cast.project) == {a.pk: None, b.pk: None}
    assert (report.merged, report.possible) == (0, 1)
    pair = DuplicateCandidate.objects.get()
    assert (pair.record_a_id, pair.record_b_id, pair.status, pair.reasons) == (
        a.pk, b.pk, "pending", [deduplication.HELD_REASON])
    assert AuditEvent.objects.get(action="dedup.run").after["held"] == 1


def test_a_record_voted_on_while_the_run_matches_is_not_merged(cast):
    first, second = same_work(cast.project), same_work(cast.project)

    def progress(done, total, message=None):
        if message == "Merging":  # matched, not yet applied: a first vote comes in now
            holds.set_hold([second.pk], holds.Hold.SCREENING)
            # ...and makes the later record the one with decisions; the earlier is held
            # too (as if both had votes) so the conditional update must refuse it.
            holds.set_hold([first.pk], holds.Hold.SCREENING)

    report = deduplication.deduplicate(cast.project, progress=progress)

    assert links(cast.project) == {first.pk: None, second.pk: None}
    assert report.merged == 0
    pair = DuplicateCandidate.objects.get()
    assert (pair.record_a_id, pair.record_b_id, pair.reasons) == (
        first.pk, second.pk, [deduplication.CHANGED_REASON])
    assert not AuditEvent.objects.filter(action="record.merge").exists()


@pytest.mark.postgres
def test_a_lead_deciding_while_a_run_merges_never_leaves_a_duplicate_of_a_duplicate(
        transactional_db, cast):
    a, b = same_work(cast.project), same_work(cast.project)
    c = RecordFactory(project=cast.project, title="A third report, asked about")
    candidate = DuplicateCandidate.objects.create(project=cast.project, record_a=b, record_b=c,
                                                  score=0.7)
    decided = threading.Event()
    outcome = {}

    def lead_decides():
        try:
            deduplication.decide_duplicate(candidate, primary=b, user=cast.lead)
            outcome["decision"] = "done"
        except Exception as exc:  # noqa: BLE001 - the test looks at what the lead got
            outcome["decision"] = exc
        finally:
            decided.set()
            connection.close()

    lead = threading.Thread(target=lead_decides)

    def progress(done, total, message=None):
        if message == "Merging":  # the run has matched a~b; the lead confirms b~c now
            lead.start()
            decided.wait(1.5)  # without the lock the lead is done by now

    deduplication.deduplicate(cast.project, progress=progress)
    lead.join(10)

    assert outcome == {"decision": "done"}
    final = links(cast.project)
    assert final == {a.pk: None, b.pk: a.pk, c.pk: a.pk}
    assert not any(final[p] is not None for p in final.values() if p is not None)


def test_a_duplicate_cannot_be_linked_to_another_study(cast):
    primary = RecordFactory(project=cast.project)
    duplicate = RecordFactory(project=cast.project, duplicate_of=primary, study=primary.study)
    other = RecordFactory(project=cast.project)

    with pytest.raises(services.ServiceError, match="is a duplicate"):
        services.link_to_study(duplicate, study_of=other, user=cast.lead)
    with pytest.raises(services.ServiceError, match="is a duplicate"):
        services.unlink_from_study(duplicate, user=cast.lead)


@pytest.mark.parametrize("held_side", ["record", "target"])
def test_studies_with_extraction_keep_their_reports(cast, held_side):
    record = RecordFactory(project=cast.project)
    target = RecordFactory(project=cast.project)
    holds.set_hold([record.pk if held_side == "record" else target.pk], holds.Hold.EXTRACTION)

    with pytest.raises(services.ServiceError, match="has an extraction: its reports cannot move"):
        services.link_to_study(record, study_of=target, user=cast.lead)

    assert Record.objects.get(pk=record.pk).study_id == record.study_id


def test_screening_votes_do_not_stop_linking_reports_of_one_study(cast):
    thesis, article = RecordFactory(project=cast.project), RecordFactory(project=cast.project)
    holds.set_hold([thesis.pk, article.pk], holds.Hold.SCREENING)

    study = services.link_to_study(thesis, study_of=article, user=cast.lead)

    assert set(study.records.values_list("id", flat=True)) == {thesis.pk, article.pk}


def test_records_removed_before_screening_leave_the_flow_and_come_back(cast):
    from screening import queries
    from screening.models import Stage

    kept, removed = RecordFactory(project=cast.project), RecordFactory(project=cast.project)

    n = services.remove_before_screening(cast.project, [removed.pk], reason="automation",
                                         note="ranked below the stopping point", user=cast.lead)

    assert n == 1
    assert list(queries.eligible(cast.project, Stage.TITLE_ABSTRACT).values_list(
        "id", flat=True)) == [kept.pk]
    assert queries.next_record(cast.project, Stage.TITLE_ABSTRACT, cast.ada).pk == kept.pk
    event = AuditEvent.objects.get(action="record.remove")
    assert (event.actor, event.target_id, event.before, event.after) == (
        cast.lead, str(removed.pk), {"removed": ""},
        {"removed": "automation", "note": "ranked below the stopping point"})

    services.restore_to_screening(cast.project, [removed.pk], user=cast.lead)

    assert sorted(queries.eligible(cast.project, Stage.TITLE_ABSTRACT).values_list(
        "id", flat=True)) == [kept.pk, removed.pk]
    assert AuditEvent.objects.get(action="record.restore").before == {
        "removed": "automation", "note": "ranked below the stopping point"}


def test_removal_refuses_held_and_grouped_records(cast):
    held = RecordFactory(project=cast.project)
    holds.set_hold([held.pk], holds.Hold.SCREENING)
    primary = RecordFactory(project=cast.project)
    RecordFactory(project=cast.project, duplicate_of=primary)

    with pytest.raises(services.ServiceError, match="has screening votes"):
        services.remove_before_screening(cast.project, [held.pk], reason="other", user=cast.lead)
    with pytest.raises(services.ServiceError, match="group of duplicates"):
        services.remove_before_screening(cast.project, [primary.pk], reason="other",
                                         user=cast.lead)
    with pytest.raises(services.ServiceError, match="Unknown reason"):
        services.remove_before_screening(cast.project, [primary.pk], reason="bored",
                                         user=cast.lead)
    assert not Record.objects.exclude(removed_reason="").exists()


def test_removed_records_are_not_matched_by_the_deduplication(cast):
    first, second = same_work(cast.project), same_work(cast.project)
    services.remove_before_screening(cast.project, [first.pk], reason="other", user=cast.lead)

    report = deduplication.deduplicate(cast.project)

    assert (report.records, report.merged) == (1, 0)
    assert links(cast.project) == {first.pk: None, second.pk: None}


@pytest.mark.parametrize("kind, method, starts, expected", [
    ("database", "", False, ""),
    ("register", "", False, ""),
    ("other", "", False, "other"),
    ("other", "citation_searching", True, "citation_searching"),
    ("database", "websites", False, "Only a source of other methods has a method"),
    ("database", "", True, "Only a source of other methods can start at full text"),
    ("other", "telepathy", False, "Unknown method: telepathy"),
])
def test_source_methods(kind, method, starts, expected):
    if expected.startswith(("Only", "Unknown")):
        with pytest.raises(services.ServiceError, match=expected):
            services.check_source_method(kind, method, starts)
    else:
        assert services.check_source_method(kind, method, starts) == expected


def test_records_of_a_source_that_starts_at_full_text_skip_title_and_abstract(cast):
    from screening import queries
    from screening.models import Stage

    experts = SourceFactory(project=cast.project, kind="other", method="other",
                            starts_at_full_text=True)
    database = RecordFactory(project=cast.project)
    suggested = RecordFactory(project=cast.project, source=experts)

    assert list(queries.eligible(cast.project, Stage.TITLE_ABSTRACT).values_list(
        "id", flat=True)) == [database.pk]
    assert list(queries.eligible(cast.project, Stage.FULL_TEXT).values_list(
        "id", flat=True)) == [suggested.pk]
    assert queries.next_record(cast.project, Stage.TITLE_ABSTRACT, cast.ada).pk == database.pk
    assert queries.next_record(cast.project, Stage.FULL_TEXT, cast.ada).pk == suggested.pk
