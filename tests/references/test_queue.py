"""The possible-duplicates queue: why each pair is there, group decisions and their undo."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.jobs import run_job
from projects.models import AuditEvent, Job
from references import dedup, deduplication, diff, holds, jobs
from references.models import DuplicateCandidate, DuplicateDecisionBatch, Record, Study
from tests.factories import RecordFactory, SourceFactory

TITLE = "Trainee-led integrated knowledge translation: a scoping review"


def work(project, **extra):
    fields = {"title": TITLE, "authors": ["Cassidy, Christine", "Burgess, Stephanie"],
              "year": 2021, "journal": "Health Research Policy and Systems", "volume": "19",
              "issue": "1", "pages": "57", "doi": "", "pmid": "",
              "abstract": "Trainees led the partnership from the start."}
    return RecordFactory(project=project, **{**fields, **extra})


def pending(project, a, b, rule="below_certain", **extra):
    return DuplicateCandidate.objects.create(project=project, record_a=a, record_b=b,
                                             score=0.7, rule=rule, **extra)


def journal_case_pair(project, n):
    """A pair whose only difference is the letter case of the journal."""
    title = f"{TITLE}, part {n}"
    return pending(project, work(project, title=title),
                   work(project, title=title, journal="HEALTH RESEARCH POLICY AND SYSTEMS"))


def links(*records):
    return {r.pk: Record.objects.get(pk=r.pk).duplicate_of_id for r in records}


def applied(batch):
    """A group decision created and applied, as its job does."""
    return deduplication.decide_group(batch)


def batch_of(project, pairs, decision, user):
    return deduplication.create_batch(
        project, pair_ids=[p.pk for p in pairs], decision=decision, user=user,
        signature="below_certain,journal=case", description="Journal differs only in letter case")


# --- Why a pair is there --------------------------------------------------------------


def test_fields_compare_as_the_same_as_formatting_as_different_or_as_missing(cast):
    a = work(cast.project, journal="BMC Medical Education", issue="", pages="57-63",
             doi="10.1186/a", abstract="Peer-led, trainee research.")
    b = work(cast.project, journal="BMC MEDICAL EDUCATION", issue="3", pages="57 - 63",
             doi="10.1186/b", abstract="Peer led trainee research")

    fields = diff.compare_fields(a, b)

    assert [(f.name, f.outcome, f.formats, f.missing_in, f.note) for f in fields] == [
        ("title", "same", (), "", "agrees"),
        ("authors", "same", (), "", "agrees"),
        ("year", "same", (), "", "agrees"),
        ("journal", "formatting", ("case",), "", "differs only in letter case"),
        ("volume", "same", (), "", "agrees"),
        ("issue", "missing", (), "a", "missing on one side"),
        ("pages", "formatting", ("spacing",), "", "differs only in spacing"),
        ("doi", "differs", (), "", "differs"),
        # the hyphen went and left a space: punctuation and spacing; no PMID on either side
        ("abstract", "formatting", ("punctuation", "spacing"), "",
         "differs only in punctuation and spacing"),
    ]


def test_letter_case_and_punctuation_together_are_still_only_formatting():
    assert diff.compare_field("journal", "J. Clin. Nurs.", "j clin nurs") == (
        diff.FieldComparison("journal", "formatting", ("case", "punctuation")))
    assert diff.compare_field("journal", "J Clin Nurs", "J Clin Nursing").outcome == "differs"
    assert diff.compare_field("pmid", "", "") is None


def test_a_pairs_signature_is_its_rule_and_each_kind_of_difference(cast):
    a = work(cast.project, journal="BMC Medical Education", issue="", doi="10.1186/a")
    b = work(cast.project, journal="BMC MEDICAL EDUCATION", issue="3", doi="10.1186/b")
    explanation = diff.explain(pending(cast.project, a, b, rule="below_certain"))

    signature = explanation.signature

    assert signature.key == "below_certain,journal=case,issue=missing,doi=differs"
    assert signature.description == ("Journal differs only in letter case; Issue missing on "
                                     "one side; DOI differs")
    assert signature.sentence == dedup.RULES["below_certain"]
    assert [f.name for f in explanation.agree] == ["title", "authors", "year", "volume",
                                                   "pages", "abstract"]
    assert [f.name for f in explanation.disagree] == ["journal", "doi"]
    assert [f.name for f in explanation.missing] == ["issue"]


def test_the_rule_is_said_as_a_sentence():
    assert diff.rule_sentence("below_certain") == dedup.RULES["below_certain"]
    assert diff.rule_sentence("unmerged") == "A lead undid the merge of these two records."
    assert diff.rule_sentence("", ["same title", "different year"]) == (
        "The matching was not sure: same title; different year.")
    assert diff.rule_sentence("") == "Asked before the queue recorded why."


def test_a_run_records_the_rule_that_sent_each_pair(cast):
    full = work(cast.project, doi="10.1186/s12961-021-00659-9")
    untitled = work(cast.project, title="", doi="10.1186/s12961-021-00659-9")
    held_a, held_b = (work(cast.project, title="Peer mentoring of nurses in rural clinics",
                           authors=["Okafor, Ada"], journal="Nurse Education Today",
                           year=2018, volume="61", pages="12-18", abstract="")
                      for _ in range(2))
    holds.set_hold([held_a.pk, held_b.pk], holds.Hold.SCREENING)

    deduplication.deduplicate(cast.project)

    assert {(p.record_a_id, p.record_b_id): p.rule
            for p in DuplicateCandidate.objects.all()} == {
        (full.pk, untitled.pk): "no_title", (held_a.pk, held_b.pk): "held"}


def test_a_pair_changed_during_the_run_is_sent_by_the_changed_rule(cast):
    first, second = work(cast.project), work(cast.project)

    def progress(done, total, message=None):
        if message == "Merging":
            holds.set_hold([first.pk, second.pk], holds.Hold.SCREENING)

    deduplication.deduplicate(cast.project, progress=progress)

    pair = DuplicateCandidate.objects.get()
    assert (pair.record_a_id, pair.record_b_id, pair.rule) == (first.pk, second.pk, "changed")


def test_an_unmerged_pair_is_recorded_with_the_unmerged_rule(cast):
    primary = work(cast.project)
    duplicate = work(cast.project, duplicate_of=primary, study=primary.study)

    deduplication.unmerge(duplicate, user=cast.lead)

    pair = DuplicateCandidate.objects.get()
    assert (pair.status, pair.rule) == ("not_duplicate", "unmerged")


# --- Group decisions -------------------------------------------------------------------


def test_merge_all_keeps_the_earlier_record_of_each_pair(cast):
    first, second, other = (journal_case_pair(cast.project, n) for n in range(3))
    batch = batch_of(cast.project, [first, second], "duplicate", cast.lead)

    applied(batch)

    assert links(first.record_a, first.record_b, second.record_a, second.record_b,
                 other.record_a, other.record_b) == {
        first.record_a_id: None, first.record_b_id: first.record_a_id,
        second.record_a_id: None, second.record_b_id: second.record_a_id,
        other.record_a_id: None, other.record_b_id: None}
    assert dict(DuplicateCandidate.objects.values_list("pk", "status")) == {
        first.pk: "duplicate", second.pk: "duplicate", other.pk: "pending"}
    assert set(batch.pairs.values_list("pk", flat=True)) == {first.pk, second.pk}
    merged = Record.objects.get(pk=first.record_b_id)
    assert (merged.merged_by, merged.study_id) == (cast.lead, first.record_a.study_id)
    confirms = AuditEvent.objects.filter(action="duplicate.confirm").order_by("id")
    assert [(e.actor, e.target_id, e.after) for e in confirms] == [
        (cast.lead, str(first.pk), {"primary": first.record_a_id,
                                    "duplicate": first.record_b_id, "held": [],
                                    "batch": batch.pk}),
        (cast.lead, str(second.pk), {"primary": second.record_a_id,
                                     "duplicate": second.record_b_id, "held": [],
                                     "batch": batch.pk})]
    group = AuditEvent.objects.get(action="duplicate.group")
    assert (group.actor, group.target_id, group.after) == (cast.lead, str(batch.pk), {
        "decision": "duplicate", "signature": "below_certain,journal=case",
        "pairs": [first.pk, second.pk], "skipped": []})
    batch.refresh_from_db()
    assert (batch.status, batch.skipped) == ("decided", [])


def test_keep_all_apart_answers_each_pair_not_duplicate(cast):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    batch = batch_of(cast.project, [first, second], "not_duplicate", cast.lead)

    applied(batch)

    assert not Record.objects.filter(duplicate_of__isnull=False).exists()
    assert dict(DuplicateCandidate.objects.values_list("pk", "status")) == {
        first.pk: "not_duplicate", second.pk: "not_duplicate"}
    rejects = AuditEvent.objects.filter(action="duplicate.reject").order_by("id")
    assert [e.after for e in rejects] == [
        {"records": [first.record_a_id, first.record_b_id], "batch": batch.pk},
        {"records": [second.record_a_id, second.record_b_id], "batch": batch.pk}]
    # A later run never asks about them again, nor merges them.
    deduplication.deduplicate(cast.project)
    assert DuplicateCandidate.objects.filter(status="pending").count() == 0


def test_a_held_record_in_a_group_hands_its_screening_to_the_kept_record(cast):
    from screening.models import Screening
    from screening.services import record_vote

    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    record_vote(first.record_b, stage="title_abstract", reviewer=cast.ada, decision="include")
    batch = batch_of(cast.project, [first, second], "duplicate", cast.lead)

    applied(batch)

    kept, merged = (Record.objects.get(pk=pk) for pk in (first.record_a_id, first.record_b_id))
    assert merged.duplicate_of_id == kept.pk
    assert list(Screening.objects.values_list("record_id", "stage")) == [
        (kept.pk, "title_abstract")]
    assert (kept.hold, merged.hold) == (holds.Hold.SCREENING, 0)
    carry = AuditEvent.objects.get(action="screening.carry")
    assert (carry.actor, carry.before, carry.after) == (
        cast.lead, {"record": merged.pk},
        {"record": kept.pk, "stage": "title_abstract", "state": "pending"})
    assert AuditEvent.objects.get(action="duplicate.confirm", target_id=str(first.pk)).after[
        "held"] == [merged.pk]


def test_a_pair_decided_meanwhile_is_skipped_and_reported(cast):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    batch = batch_of(cast.project, [first, second], "duplicate", cast.lead)
    job = Job.objects.create(project=cast.project, kind=jobs.GROUP_DECISION, label="Group",
                             task_name="references.decide_group", started_by=cast.lead,
                             params={"batch_id": batch.pk})
    deduplication.decide_not_duplicate(first, user=cast.ben)  # while the job waits

    run_job(job.pk, jobs.run_group_decision)

    job.refresh_from_db()
    assert (job.status, job.message) == (
        "succeeded", "1 of 2 pairs merged, keeping the earlier record of each; 1 skipped.")
    assert job.result["details"] == [f"Pair #{first.pk}: This pair was decided already."]
    batch.refresh_from_db()
    assert batch.skipped == [{"pair": first.pk, "records": [first.record_a_id,
                                                            first.record_b_id],
                              "reason": "This pair was decided already."}]
    assert links(first.record_b, second.record_b) == {first.record_b_id: None,
                                                      second.record_b_id: second.record_a_id}
    first.refresh_from_db()
    assert (first.status, first.decided_by, first.decided_in) == ("not_duplicate", cast.ben,
                                                                   None)
    assert AuditEvent.objects.get(action="duplicate.group").after["skipped"] == [first.pk]


def test_a_group_keeps_only_the_projects_pending_pairs(cast):
    mine = journal_case_pair(cast.project, 1)
    decided = journal_case_pair(cast.project, 2)
    deduplication.decide_not_duplicate(decided, user=cast.lead)
    elsewhere = SourceFactory().project
    theirs = pending(elsewhere, RecordFactory(project=elsewhere),
                     RecordFactory(project=elsewhere))

    batch = batch_of(cast.project, [mine, decided, theirs, mine], "duplicate", cast.lead)

    assert batch.pair_ids == [mine.pk]
    with pytest.raises(deduplication.DedupError, match="No pair of this group"):
        batch_of(cast.project, [decided, theirs], "duplicate", cast.lead)


def test_undo_of_a_group_merge_restores_links_studies_and_pending_pairs(cast):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    # The later record of the first pair has a duplicate of its own and shares its study
    # with a linked report: both come back as they were.
    own_duplicate = work(cast.project, duplicate_of=first.record_b, study=first.record_b.study)
    linked_report = work(cast.project, title="The protocol", study=first.record_b.study)
    studies = {r.pk: r.study_id for r in Record.objects.all()}
    batch = applied(batch_of(cast.project, [first, second], "duplicate", cast.lead))
    assert links(own_duplicate)[own_duplicate.pk] == first.record_a_id
    deduplication.request_undo(batch, user=cast.lead)

    reopened = deduplication.undo_group(batch)

    assert reopened == [first.pk, second.pk]
    assert {r.pk: (r.duplicate_of_id, r.study_id) for r in Record.objects.all()} == {
        first.record_a_id: (None, studies[first.record_a_id]),
        first.record_b_id: (None, studies[first.record_b_id]),  # its study kept a report
        own_duplicate.pk: (first.record_b_id, studies[first.record_b_id]),
        linked_report.pk: (None, studies[first.record_b_id]),
        second.record_a_id: (None, studies[second.record_a_id]),
        second.record_b_id: (None, Record.objects.get(pk=second.record_b_id).study_id),
    }
    # The second pair's later record had a study of its own, dropped at the merge: a new one.
    new_study = Record.objects.get(pk=second.record_b_id).study_id
    assert new_study not in studies.values()
    assert Study.objects.filter(pk=new_study, project=cast.project).exists()
    assert Record.objects.get(pk=first.record_b_id).merged_by is None
    assert dict(DuplicateCandidate.objects.values_list("pk", "status")) == {
        first.pk: "pending", second.pk: "pending"}
    assert {(p.decided_in_id, p.decided_by_id, str(p.moved))
            for p in DuplicateCandidate.objects.all()} == {(None, None, "{}")}
    unmerges = AuditEvent.objects.filter(action="record.unmerge").order_by("id")
    assert [(e.actor, e.target_id, e.before, e.after) for e in unmerges] == [
        (cast.lead, str(second.record_b_id),
         {"duplicate_of": second.record_a_id, "study": studies[second.record_a_id]},
         {"duplicate_of": None, "study": new_study, "batch": batch.pk}),
        (cast.lead, str(first.record_b_id),
         {"duplicate_of": first.record_a_id, "study": studies[first.record_a_id]},
         {"duplicate_of": None, "study": studies[first.record_b_id], "batch": batch.pk}),
        (cast.lead, str(own_duplicate.pk),
         {"duplicate_of": first.record_a_id, "study": studies[first.record_a_id]},
         {"duplicate_of": first.record_b_id, "study": studies[first.record_b_id],
          "batch": batch.pk}),
    ]
    assert [e.target_id for e in AuditEvent.objects.filter(
        action="duplicate.reopen").order_by("id")] == [str(second.pk), str(first.pk)]
    undo = AuditEvent.objects.get(action="duplicate.group_undo")
    assert (undo.actor, undo.after) == (cast.lead, {"reopened": [first.pk, second.pk],
                                                    "skipped": []})
    batch.refresh_from_db()
    assert (batch.status, batch.undone_by, batch.undo_skipped) == ("undone", cast.lead, [])


def test_undo_of_a_group_rejection_puts_its_pairs_back_to_pending(cast):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    batch = applied(batch_of(cast.project, [first, second], "not_duplicate", cast.lead))
    deduplication.request_undo(batch, user=cast.lead)

    deduplication.undo_group(batch)

    assert dict(DuplicateCandidate.objects.values_list("pk", "status")) == {
        first.pk: "pending", second.pk: "pending"}
    assert [e.before for e in AuditEvent.objects.filter(
        action="duplicate.reopen").order_by("id")] == [
        {"status": "not_duplicate", "batch": batch.pk}] * 2


def test_undo_leaves_a_pair_decided_again_since_or_whose_records_moved(cast):
    first, second, third = (journal_case_pair(cast.project, n) for n in range(3))
    batch = applied(batch_of(cast.project, [first, second, third], "duplicate", cast.lead))
    deduplication.unmerge(Record.objects.get(pk=first.record_b_id), user=cast.lead)
    # The second pair's group is merged into another record afterwards.
    elsewhere = pending(cast.project, second.record_a, work(cast.project, title="Elsewhere"))
    deduplication.decide_duplicate(elsewhere, primary=elsewhere.record_b, user=cast.lead)
    deduplication.request_undo(batch, user=cast.lead)

    reopened = deduplication.undo_group(batch)

    assert reopened == [third.pk]
    assert batch.undo_skipped == [
        {"pair": second.pk,
         "reason": "Its records changed since: undo that merge from the record's page."},
        {"pair": first.pk, "reason": "This pair was decided again since."}]
    assert dict(DuplicateCandidate.objects.filter(pk__in=[first.pk, second.pk, third.pk])
                .values_list("pk", "status")) == {
        first.pk: "not_duplicate", second.pk: "duplicate", third.pk: "pending"}
    assert links(second.record_b)[second.record_b_id] == elsewhere.record_b_id


def test_a_group_decision_is_undone_once(cast):
    batch = applied(batch_of(cast.project, [journal_case_pair(cast.project, 1)], "duplicate",
                             cast.lead))
    deduplication.request_undo(batch, user=cast.lead)

    with pytest.raises(deduplication.DedupError, match="undone, once"):
        deduplication.request_undo(batch, user=cast.lead)
    with pytest.raises(deduplication.DedupError, match="applied already"):
        deduplication.decide_group(batch)


def test_a_pair_kept_apart_goes_back_to_the_queue(cast):
    pair = journal_case_pair(cast.project, 1)
    deduplication.decide_not_duplicate(pair, user=cast.lead)

    deduplication.reopen_pair(pair, user=cast.lead)

    pair.refresh_from_db()
    assert (pair.status, pair.decided_by, pair.decided_at) == ("pending", None, None)
    event = AuditEvent.objects.get(action="duplicate.reopen")
    assert (event.actor, event.before, event.after) == (
        cast.lead, {"status": "not_duplicate", "batch": None}, {"status": "pending"})
    with pytest.raises(deduplication.DedupError, match="Only a pair kept apart"):
        deduplication.reopen_pair(pair, user=cast.lead)


# --- Views -------------------------------------------------------------------------------


def test_the_queue_says_why_each_pair_is_there_and_groups_them(cast, client_for):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    lone = pending(cast.project, work(cast.project, doi="10.1/a"), work(cast.project, doi=""),
                   rule="no_title")

    response = client_for(cast.lead).get(reverse("references:duplicates", args=["ikt"]))

    assert [(g.signature.key, [p.pk for p in g.pairs]) for g in response.context["groups"]] == [
        ("below_certain,journal=case", [first.pk, second.pk]),
        ("no_title,doi=missing", [lone.pk])]
    text = response.content.decode()
    assert dedup.RULES["below_certain"] in text and dedup.RULES["no_title"] in text
    assert "Journal (differs only in letter case)" in text
    assert f"DOI (not on #{lone.record_b_id})" in text
    assert "Review the group of 2" in text


def test_the_queue_runs_the_same_queries_for_one_pair_and_for_three(cast, client_for):
    client = client_for(cast.lead)
    url = reverse("references:duplicates", args=["ikt"])
    first = journal_case_pair(cast.project, 0)
    deduplication.decide_not_duplicate(journal_case_pair(cast.project, 9), user=cast.lead)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    pending(cast.project, work(cast.project, doi="10.1/a"), work(cast.project), rule="no_title")
    journal_case_pair(cast.project, 1)
    deduplication.decide_not_duplicate(journal_case_pair(cast.project, 8), user=cast.lead)
    applied(batch_of(cast.project, [first], "duplicate", cast.lead))
    journal_case_pair(cast.project, 2)

    with CaptureQueriesContext(connection) as three:
        response = client.get(url)

    assert response.context["total"] == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_pair_page_says_why(cast, client_for):
    pair = journal_case_pair(cast.project, 1)

    text = client_for(cast.lead).get(reverse("references:duplicate", args=["ikt", pair.pk])
                                     ).content.decode()

    assert dedup.RULES["below_certain"] in text
    assert "Journal (differs only in letter case)" in text
    assert '<div class="small text-body-secondary" data-note>differs only in letter case' in text


def test_a_group_page_lists_its_pairs_and_merging_all_runs_as_a_job(cast, client_for):
    first, second = (journal_case_pair(cast.project, n) for n in range(2))
    other = pending(cast.project, work(cast.project), work(cast.project, year=2020))
    client = client_for(cast.lead)
    url = reverse("references:duplicate_group", args=["ikt", "below_certain,journal=case"])

    page = client.get(url)

    assert [p.pk for p in page.context["group"].pairs] == [first.pk, second.pk]
    assert page.context["pair_ids"] == f"{first.pk},{second.pk}"
    text = page.content.decode()
    assert ("Journal</span> (differs only in letter case): Health Research Policy and Systems"
            " · HEALTH RESEARCH POLICY AND SYSTEMS") in text

    response = client.post(url, {"pairs": page.context["pair_ids"], "decision": "duplicate"})

    job = Job.objects.get(kind=jobs.GROUP_DECISION)
    assert response["Location"] == reverse("projects:job", args=["ikt", job.pk])
    batch = DuplicateDecisionBatch.objects.get()
    assert (job.params, batch.pair_ids, batch.description, batch.decided_by) == (
        {"batch_id": batch.pk}, [first.pk, second.pk], "Journal differs only in letter case",
        cast.lead)
    run_job(job.pk, jobs.run_group_decision)
    job.refresh_from_db()
    assert (job.status, job.message, job.result["link"]) == (
        "succeeded", "2 of 2 pairs merged, keeping the earlier record of each.",
        {"url": reverse("references:duplicate_batch", args=["ikt", batch.pk]),
         "label": "See the group decision"})
    other.refresh_from_db()
    assert other.status == "pending"

    undo = client.post(reverse("references:duplicate_batch_undo", args=["ikt", batch.pk]))

    undo_job = Job.objects.get(kind=jobs.GROUP_UNDO)
    assert undo["Location"] == reverse("projects:job", args=["ikt", undo_job.pk])
    run_job(undo_job.pk, jobs.run_group_undo)
    undo_job.refresh_from_db()
    assert (undo_job.status, undo_job.message) == (
        "succeeded", f"Group decision #{batch.pk} undone: 2 pairs are waiting for a decision "
                     "again.")
    assert DuplicateCandidate.objects.filter(status="pending").count() == 3
    again = client.post(reverse("references:duplicate_batch_undo", args=["ikt", batch.pk]),
                        follow=True)
    assert "Only an applied group decision can be undone, once." in again.content.decode()


def test_a_group_decision_needs_a_lead(cast, client_for):
    pair = journal_case_pair(cast.project, 1)
    url = reverse("references:duplicate_group", args=["ikt", "below_certain,journal=case"])
    data = {"pairs": str(pair.pk), "decision": "duplicate"}

    assert client_for(cast.ada).post(url, data).status_code == 403
    assert client_for(cast.outsider).post(url, data).status_code == 404
    assert client_for(cast.ada).get(url).status_code == 403
    assert not DuplicateDecisionBatch.objects.exists() and not Job.objects.exists()


def test_a_stale_group_page_says_it_is_empty_and_a_post_of_decided_pairs_is_refused(
        cast, client_for):
    pair = journal_case_pair(cast.project, 1)
    deduplication.decide_not_duplicate(pair, user=cast.lead)
    client = client_for(cast.lead)
    url = reverse("references:duplicate_group", args=["ikt", "below_certain,journal=case"])

    assert "This group is empty" in client.get(url).content.decode()
    response = client.post(url, {"pairs": str(pair.pk), "decision": "duplicate"}, follow=True)

    assert "No pair of this group is waiting for a decision any more." in (
        response.content.decode())
    assert not Job.objects.exists()


def test_a_pair_kept_apart_goes_back_to_the_queue_from_the_decided_list(cast, client_for):
    pair = journal_case_pair(cast.project, 1)
    deduplication.decide_not_duplicate(pair, user=cast.lead)
    client = client_for(cast.lead)
    queue = client.get(reverse("references:duplicates", args=["ikt"])).content.decode()
    assert f"Back to the queue: #{pair.record_a_id} and #{pair.record_b_id}" in queue

    response = client.post(reverse("references:duplicate_reopen", args=["ikt", pair.pk]))

    assert response["Location"] == reverse("references:duplicates", args=["ikt"])
    pair.refresh_from_db()
    assert pair.status == "pending"
    assert client_for(cast.ada).post(
        reverse("references:duplicate_reopen", args=["ikt", pair.pk])).status_code == 403
