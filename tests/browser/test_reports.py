"""Browser journey of the reports: a viewer opens the PRISMA diagram from the Reports page,
follows one of its numbers to the list of exactly those records, and downloads the charting
tables as XLSX from an export run by the Celery worker."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from screening.queries import included_studies
from tests.browser.conftest import sign_in
from tests.frameworks.chartdata import code, make_frameworks
from tests.reports import prismadata as data

WORKER_TIMEOUT = 30_000


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_viewer_follows_a_prisma_number_and_downloads_the_charting(
        new_context, live_server, cast, celery_worker):
    data.several_states(cast)
    fw = make_frameworks(cast.project)
    (study,) = included_studies(cast.project)
    code(cast.project, study, fw.cat["kta/identify"], cast.ada)
    viewer = new_context(accept_downloads=True).new_page()
    sign_in(viewer, "viewer")

    viewer.goto("/p/ikt/")
    viewer.get_by_role("link", name="Reports", exact=True).first.click()
    viewer.get_by_role("link", name="PRISMA flow diagram").click()
    expect(viewer.locator(".prisma-svg svg")).to_be_visible()
    expect(viewer.locator(".prisma-svg")).not_to_contain_text("do not add up")
    with viewer.expect_navigation():
        viewer.locator('.prisma-svg a[href="/p/ikt/reports/prisma/screened/"]').click()

    expect(viewer.get_by_role("heading", name="Records screened", exact=True)).to_be_visible()
    expect(viewer.locator("#prisma-box-count")).to_have_text("n = 14")
    expect(viewer.locator("#prisma-box-items tbody tr")).to_have_count(14)

    viewer.goto("/p/ikt/reports/")
    viewer.get_by_role("link", name="Exports").click()
    card = viewer.locator("#export-charting")
    card.get_by_label("XLSX").check()
    card.get_by_role("button").click()
    expect(viewer.locator(".job-status")).to_have_attribute("data-status", "succeeded",
                                                            timeout=WORKER_TIMEOUT)
    with viewer.expect_download() as download:
        viewer.get_by_role("link", name="Download").first.click()
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = [list(row) for row in book["KTA action phases"].iter_rows(values_only=True)]
    assert rows[0] == ["Category", "Under", "Retired", "n", "Studies", "References"]
    assert rows[1][:5] == ["Identify problem", None, None, 1, "1"]
    assert rows[1][5] == "Author0 2000"  # the short reference of MEDLINE 1, first author and year
    assert book.sheetnames[-2:] == ["Themes", "Studies"]
