"""The stopping aid: the sample served first, the estimate from it, ending a stage early
(records nobody voted on, counted by PRISMA as ineligible by automation tools) and undoing
it."""

import pytest
from django.urls import reverse

from projects.jobs import run_job
from projects.models import AuditEvent, Job
from ranking import jobs, services
from ranking.models import EarlyStop, StoppingSample
from references.models import Record
from reports.prisma import flow
from screening import services as screening
from screening.models import Priority, Screening, Stage
from screening.prisma import prisma_counts

from .steps import TA, decide, records, settle, vote


def trained(cast, relevant=12, irrelevant=12):
    made = records(cast, relevant, irrelevant)
    left = decide(made, cast)
    services.train(cast.project, TA)
    return made, left


def test_a_sample_is_served_before_the_ranked_records(cast):
    made, left = trained(cast)

    sample = services.draw_sample(cast.project, TA, size=4, user=cast.lead, seed=11)

    assert (sample.remaining, sample.found_before, len(sample.record_ids)) == (14, 5, 4)
    assert set(sample.record_ids) <= {r.pk for r in left}
    served = []
    for _ in range(4):
        record = screening.claim_next(cast.project, TA, cast.cy)
        served.append(record.pk)
        vote(record, cast.cy, "exclude")
    assert sorted(served) == sample.record_ids
    # A retraining keeps the sample's records nobody voted on first.
    services.train(cast.project, TA)
    assert not Priority.objects.filter(record_id__in=served).exists()  # voted on: no score
    event = AuditEvent.objects.get(action="ranking.sample")
    assert event.after == {"stage": TA, "size": 4, "remaining": 14, "seed": 11}


def test_the_sample_survives_a_retraining(cast):
    made, left = trained(cast)
    sample = services.draw_sample(cast.project, TA, size=3, user=cast.lead, seed=5)

    services.train(cast.project, TA)

    top = list(Priority.objects.filter(project=cast.project, stage=TA)
               .order_by("-score").values_list("record_id", flat=True)[:3])
    assert sorted(top) == sample.record_ids


def test_a_sample_needs_the_stage_served_by_score(cast):
    records(cast, 3, 3)  # relevance order, but nothing learnt yet: import order
    with pytest.raises(services.RankingError, match="relevance or at random"):
        services.draw_sample(cast.project, TA, size=2, user=cast.lead)
    assert StoppingSample.objects.count() == 0


def test_the_estimate_counts_the_settled_sample_records(cast):
    made, left = trained(cast)  # 5 included before the sample, 14 left
    sample = services.draw_sample(cast.project, TA, size=5, user=cast.lead, seed=3)
    chosen = [r for r in made if r.pk in sample.record_ids]
    for record in chosen:
        settle(record, "exclude", cast)

    status = services.sample_status(cast.project, TA)

    # K = floor(5 / 0.95 - 5) + 1 = 1 include among the 14 under H0; none in 5 draws:
    # p = C(13, 5) / C(14, 5) = 9/14.
    assert (status.screened, status.included, status.open) == (5, 0, 0)
    assert status.estimate.k_target == 1
    assert status.estimate.p_value == pytest.approx(9 / 14, abs=1e-12)
    assert status.estimate.reject is False


def end(cast, note="The estimate rejects recall below 95%"):
    return services.end_early(cast.project, TA, note=note, user=cast.lead,
                              figures={"p_value": 0.03})


def test_ending_early_marks_the_records_nobody_voted_on_and_prisma_counts_them(cast):
    made, left = trained(cast)
    started = left[0]
    vote(started, cast.ada, "include")  # one vote in: it keeps going
    # cy is given the started record first, then a fresh one: on her screen, no vote yet.
    assert screening.claim_next(cast.project, TA, cast.cy).pk == started.pk
    claimed = screening.claim_next(cast.project, TA, cast.cy, exclude=[started.pk])
    before = prisma_counts(cast.project).main

    stop = end(cast)

    marked = sorted(r.pk for r in left if r.pk != started.pk)
    assert stop.record_ids == marked and claimed.pk in marked
    assert set(Record.objects.filter(removed_reason="automation").values_list("pk", flat=True)
               ) == set(marked)
    assert Record.objects.get(pk=marked[0]).removed_note == (
        "Excluded by stopping rule: The estimate rejects recall below 95%")
    assert not Screening.objects.filter(record_id=claimed.pk).exists()  # its empty row went
    after = prisma_counts(cast.project).main
    assert (after.removed_automation, after.screened, after.screened_open) == (
        before.removed_automation + 13, before.screened - 13, 1)
    assert prisma_counts(cast.project).check() == []
    assert flow(cast.project).as_json()["automation_removed"] == 13
    # The started record still gets its second vote; nothing else is served.
    assert screening.claim_next(cast.project, TA, cast.cy).pk == started.pk
    assert screening.claim_next(cast.project, TA, cast.cy, exclude=[started.pk]) is None
    event = AuditEvent.objects.get(action="ranking.stop")
    assert event.after["records"] == 13 and event.after["figures"] == {"p_value": 0.03}
    assert AuditEvent.objects.filter(action="record.remove").count() == 13


def test_ending_early_is_reversible(cast):
    made, left = trained(cast)
    before = prisma_counts(cast.project).main
    stop = end(cast)

    n = services.undo_early_stop(stop, user=cast.lead)

    assert n == 14
    assert not Record.objects.exclude(removed_reason="").exists()
    assert prisma_counts(cast.project).main == before
    stop.refresh_from_db()
    assert stop.undone_by == cast.lead and stop.undone_at is not None
    assert AuditEvent.objects.filter(action="record.restore").count() == 14
    with pytest.raises(services.RankingError, match="undone already"):
        services.undo_early_stop(stop, user=cast.lead)
    # Once undone, the stage can be ended again.
    end(cast, note="Again")
    assert services.active_stop(cast.project, TA) is not None


def test_a_record_kept_for_its_duplicates_is_marked_too(cast):
    made, left = trained(cast)
    kept = left[0]
    from tests.factories import RecordFactory

    RecordFactory(project=cast.project, duplicate_of=kept, title=kept.title)

    stop = end(cast)

    assert kept.pk in stop.record_ids
    counts = prisma_counts(cast.project)
    assert counts.main.duplicates == 1 and counts.check() == []


def test_ending_early_needs_a_note_and_the_title_and_abstract_stage(cast):
    trained(cast)
    with pytest.raises(services.RankingError, match="Say why"):
        services.end_early(cast.project, TA, note="  ", user=cast.lead, figures={})
    with pytest.raises(services.RankingError, match="title and abstract only"):
        services.end_early(cast.project, Stage.FULL_TEXT, note="x", user=cast.lead, figures={})
    end(cast)
    with pytest.raises(services.RankingError, match="ended already"):
        end(cast)


def test_the_lead_ends_and_undoes_screening_from_the_page_through_jobs(cast, client_for):
    made, left = trained(cast)
    client = client_for(cast.lead)
    url = reverse("ranking:stop", args=["ikt", TA])

    refused = client.post(url, {"note": "", "confirm": "yes"}, follow=True)
    assert "Say why screening ends here" in refused.text
    assert not Job.objects.exists()

    response = client.post(url, {"note": "Sample says stop", "confirm": "yes",
                                 "target": "95", "confidence": "95"})
    job = Job.objects.get(kind=jobs.STOP)
    assert response.url == reverse("projects:job", args=["ikt", job.pk])
    run_job(job.pk, jobs.run_stop)
    job.refresh_from_db()
    assert (job.status, job.result["records"]) == (Job.Status.SUCCEEDED, 14)
    stop = EarlyStop.objects.get()
    assert stop.figures == {"settled": 10, "included": 5, "since_last_include": 5, "left": 14}

    page = client.get(reverse("ranking:stage", args=["ikt", TA])).text
    assert "14 records nobody had voted on were excluded by the stopping rule" in page
    assert "Sample says stop" in page

    client.post(reverse("ranking:undo_stop", args=["ikt", TA, stop.pk]))
    undo = Job.objects.get(kind=jobs.UNDO_STOP)
    run_job(undo.pk, jobs.run_undo)
    undo.refresh_from_db()
    assert (undo.status, undo.result["restored"]) == (Job.Status.SUCCEEDED, 14)
    assert not Record.objects.exclude(removed_reason="").exists()
