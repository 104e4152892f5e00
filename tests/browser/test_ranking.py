"""Browser journey of prioritised screening: the worker retrains from the reviewers'
decisions, a reviewer is served the most likely relevant record first, the lead sees its
score when she asks, draws a stopping sample from the stage page, ends screening early by
the stopping rule (a job) and finds the records in PRISMA's automation box."""

import time

import pytest
from playwright.sync_api import expect

from ranking.models import Training
from tests.browser.conftest import sign_in
from tests.ranking.steps import TA, decide, records

WORKER_TIMEOUT = 30_000


def wait_for_training(project, includes: int, excludes: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Training.objects.filter(project=project, stage=TA, outcome="scored",
                                   includes=includes, excludes=excludes).exists():
            return
        time.sleep(0.2)
    pytest.fail(f"no training on {includes}+{excludes}: {list(Training.objects.values())}")


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_lead_sees_the_ranking_draws_a_sample_and_ends_screening(
        new_context, live_server, cast, celery_worker):
    made = records(cast, 12, 12)
    decide(made, cast)  # every vote commits: the worker retrains after them
    wait_for_training(cast.project, 5, 5)
    relevant = {r.title for r in made if r.kind == "relevant"}

    cy = new_context().new_page()
    sign_in(cy, "cy")
    cy.goto("/p/ikt/screening/title_abstract/screen/")
    assert cy.locator(".record-title").first.inner_text() in relevant
    expect(cy.get_by_text("Show relevance score")).to_have_count(0)

    lead = new_context().new_page()
    sign_in(lead, "lead")
    lead.goto("/p/ikt/screening/title_abstract/screen/")
    lead.get_by_role("button", name="Show relevance score").click()
    expect(lead.locator("[data-score]")).to_contain_text("of 14 records scored by predicted "
                                                         "relevance")

    lead.goto("/p/ikt/screening/")
    panel = lead.locator("#ranking-panel")  # loaded into the stage page by htmx
    expect(panel).to_contain_text("most likely relevant first")
    expect(panel.locator('[data-count="since_last_include"]')).to_have_text("5")
    panel.get_by_label("Records to draw").fill("3")
    with lead.expect_navigation():
        panel.get_by_role("button", name="Draw a random sample").click()
    # cy's record on her screen has no vote yet: it is one of the 14.
    expect(lead.get_by_text("3 records drawn at random from the 14 nobody has voted on"))\
        .to_be_visible()

    lead.get_by_label("Why screening ends here").fill("Enough for the demo")
    lead.get_by_label("Exclude the").check()
    lead.get_by_role("button", name="End screening").click()
    expect(lead.locator(".job-status")).to_have_attribute("data-status", "succeeded",
                                                          timeout=WORKER_TIMEOUT)
    lead.goto("/p/ikt/reports/prisma/")
    with lead.expect_navigation():
        lead.get_by_role("link", name="automation tools (n = 14)").click()
    expect(lead.locator("#prisma-box-count")).to_have_text("n = 14")
