"""The references journey: two overlapping exports as two sources, deduplicated by the
worker, one possible duplicate resolved by the lead, and the counts that follow."""

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from references.models import DuplicateCandidate, Record, Source
from tests.browser.conftest import TIMEOUT, sign_in, wait_for_htmx

FIXTURES = Path(__file__).parent / "fixtures"
JOB_TIMEOUT = 30_000


def import_export(page, live_server, filename: str, source_name: str) -> None:
    page.goto("/p/ikt/references/")
    page.get_by_role("link", name="Import references").click()
    page.get_by_label("Export file").set_input_files(FIXTURES / filename)
    page.get_by_label("Source name").fill(source_name)
    page.get_by_label("Date searched").fill("2020-06-24")
    page.get_by_label("Search strategy").fill("trainee* AND (partner* OR co-design*)")
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/p/ikt/jobs/\d+/$"))
    progress = page.locator("#job-progress")
    expect(progress.get_by_role("progressbar")).to_be_visible(timeout=TIMEOUT)
    expect(progress.locator(".job-status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT)
    expect(progress.get_by_role("status")).to_contain_text(
        f"Imported 4 records from {filename} as source “{source_name}”.")
    # The deduplication that follows every import.
    progress.get_by_role("link", name="See the deduplication").click()
    expect(page.locator("#job-progress .job-status")).to_have_text("Succeeded",
                                                                    timeout=JOB_TIMEOUT)
    wait_for_htmx(page)


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_two_overlapping_exports_and_a_resolved_duplicate(page, live_server, cast,
                                                          celery_worker):
    sign_in(page, "lead")

    import_export(page, live_server, "medline.ris", "MEDLINE (Ovid)")
    import_export(page, live_server, "embase.ris", "Embase")

    progress = page.locator("#job-progress")
    expect(progress.get_by_role("status")).to_have_text(
        "Checked 8 records: 1 new duplicates merged automatically, 1 duplicates in all, "
        "1 possible duplicates to review.")
    progress.get_by_role("link", name="Review the possible duplicates").click()
    first = page.get_by_role("link", name=re.compile("Community advisory boards"))
    first.click()
    expect(page.get_by_role("heading", name="Are these the same record?")).to_be_visible()
    table = page.get_by_role("table", name="The two records side by side")
    expect(table.get_by_role("row", name=re.compile("^Journal"))).to_contain_text(
        "BMC Medical Education")
    medline_record = Record.objects.get(source__name="MEDLINE (Ovid)", source_position=3)
    page.get_by_role("button", name=f"Duplicate: keep #{medline_record.pk}").click()
    expect(page.get_by_text("Nothing to review.")).to_be_visible()

    page.get_by_role("link", name="← References").click()
    counts = page.locator("#reference-counts")
    expect(counts.locator("[data-count=identified]")).to_have_text("8")
    expect(counts.locator("[data-count=from_databases]")).to_have_text("8")
    expect(counts.locator("[data-count=duplicates]")).to_have_text("2")
    expect(counts.locator("[data-count=remaining]")).to_have_text("6")
    rows = page.get_by_role("table", name="Sources and their record counts").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("MEDLINE (Ovid)")
    expect(rows.nth(0).locator("[data-source-records]")).to_have_text("4")
    expect(rows.nth(0).locator("[data-source-duplicates]")).to_have_text("0")
    expect(rows.nth(1)).to_contain_text("Embase")
    expect(rows.nth(1).locator("[data-source-records]")).to_have_text("4")
    expect(rows.nth(1).locator("[data-source-duplicates]")).to_have_text("2")

    assert list(Source.objects.values_list("name", "record_count", "date_searched")) == [
        ("MEDLINE (Ovid)", 4, date(2020, 6, 24)),
        ("Embase", 4, date(2020, 6, 24))]
    emb = Record.objects.get(source__name="Embase", source_position=3)
    assert emb.duplicate_of == medline_record and emb.merged_by == cast.lead
    assert DuplicateCandidate.objects.get().status == "duplicate"
