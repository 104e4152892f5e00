"""The possible-duplicates queue in the browser: a lead reads why a pair is there, merges a
group of similar pairs at once (a job on the real worker), sees them merged, and undoes the
whole group."""

import re

import pytest
from playwright.sync_api import expect

from references import dedup
from references.models import DuplicateCandidate, DuplicateDecisionBatch, Record
from tests.browser.conftest import sign_in, wait_for_htmx
from tests.factories import RecordFactory, SourceFactory

JOB_TIMEOUT = 30_000


def pair(project, source, title, rule="below_certain", **b_fields):
    fields = {"title": title, "authors": ["Cassidy, Christine"], "year": 2021,
              "journal": "Health Research Policy and Systems", "volume": "19", "pages": "57"}
    a = RecordFactory(project=project, source=source, **fields)
    b = RecordFactory(project=project, source=source, **{**fields, **b_fields})
    return DuplicateCandidate.objects.create(project=project, record_a=a, record_b=b,
                                             score=0.8, rule=rule)


def finish_job(page, live_server, message: str) -> None:
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/p/ikt/jobs/\d+/$"))
    progress = page.locator("#job-progress")
    expect(progress.locator(".job-status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT)
    expect(progress.get_by_role("status")).to_have_text(message)
    wait_for_htmx(page)
    progress.get_by_role("link", name="See the group decision").click()


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_a_lead_merges_a_group_of_similar_pairs_and_undoes_it(page, live_server, cast,
                                                              celery_worker):
    source = SourceFactory(project=cast.project, name="MEDLINE (Ovid)")
    upper = "HEALTH RESEARCH POLICY AND SYSTEMS"
    first = pair(cast.project, source, "Trainee-led knowledge translation", journal=upper)
    second = pair(cast.project, source, "Co-design with patient partners", journal=upper)
    apart = pair(cast.project, source, "Advisory boards of trainees", rule="different_years",
                 year=2015)
    sign_in(page, "lead")

    page.goto("/p/ikt/references/duplicates/")

    why = page.locator(f"#duplicate-pairs li[data-pair='{first.pk}']")
    expect(why.locator("[data-rule]")).to_have_text(dedup.RULES["below_certain"])
    expect(why.locator("[data-disagree]")).to_have_text(
        "Disagree: Journal (differs only in letter case)")
    expect(page.locator(f"#duplicate-pairs li[data-pair='{apart.pk}'] [data-disagree]")
           ).to_have_text("Disagree: Year (differs)")
    groups = page.get_by_role("table", name="Groups of similar pairs")
    expect(groups.locator("tbody tr")).to_have_count(2)
    group = groups.get_by_role("row", name=re.compile("Journal differs only in letter case"))
    expect(group.locator("[data-group-count]")).to_have_text("2")
    group.get_by_role("link", name="Review the group of 2").click()

    expect(page.get_by_role("heading", name="2 similar pairs")).to_be_visible()
    listed = page.get_by_role("table", name="The pairs of this group").locator("tbody tr")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text(f"#{first.record_a_id} and #{first.record_b_id}")
    expect(listed.nth(1)).to_contain_text(f"#{second.record_a_id} and #{second.record_b_id}")
    page.get_by_role("button", name="Merge all (keep the earlier record of each)").click()

    finish_job(page, live_server, "2 of 2 pairs merged, keeping the earlier record of each.")
    batch = DuplicateDecisionBatch.objects.get()
    expect(page.get_by_role("heading", name=f"Group decision #{batch.pk}: Merge all (keep "
                                            "the earlier record of each)")).to_be_visible()
    expect(page.locator("[data-batch-status]")).to_have_text("Applied")
    expect(page.locator("#batch-pairs [data-pair-status]")).to_have_text(
        ["Duplicate", "Duplicate"])
    page.goto(f"/p/ikt/references/records/{first.record_b_id}/")
    expect(page.get_by_text(f"Duplicate of #{first.record_a_id} (by Lena Lead)")).to_be_visible()
    assert dict(Record.objects.filter(duplicate_of__isnull=False).values_list(
        "id", "duplicate_of_id")) == {first.record_b_id: first.record_a_id,
                                      second.record_b_id: second.record_a_id}

    page.goto(f"/p/ikt/references/duplicates/decisions/{batch.pk}/")
    page.get_by_role("button", name="Undo this group decision").click()

    finish_job(page, live_server,
               f"Group decision #{batch.pk} undone: 2 pairs are waiting for a decision again.")
    expect(page.locator("[data-batch-status]")).to_have_text("Undone")
    expect(page.locator("#batch-pairs [data-pair-status]")).to_have_text(
        ["Waiting for a decision", "Waiting for a decision"])
    assert not Record.objects.filter(duplicate_of__isnull=False).exists()
    assert set(DuplicateCandidate.objects.values_list("status", flat=True)) == {"pending"}
    page.get_by_role("link", name="← Possible duplicates").click()
    expect(page.get_by_role("table", name="Groups of similar pairs")
           .get_by_role("row", name=re.compile("Journal differs only in letter case"))
           .locator("[data-group-count]")).to_have_text("2")
