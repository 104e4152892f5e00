"""Two reviewers screen the same ten records in two browser contexts with the keyboard,
disagree on three, the lead resolves those, and the counts are exact."""

import pytest
from playwright.sync_api import expect

from screening.models import Screening, Vote
from tests.browser.conftest import sign_in, wait_for_htmx
from tests.factories import RecordFactory


def screen_all(page, records, decisions):
    page.goto("/p/ikt/screening/title_abstract/screen/")
    for n, (record, key) in enumerate(zip(records, decisions, strict=True)):
        panel = page.locator(f'#record[data-record="{record.pk}"]')
        expect(panel).to_be_visible()
        # The following record is already on the page, ready to show when this vote is sent.
        ahead = page.locator("template#record-ahead")
        if n + 1 < len(records):
            expect(ahead).to_have_attribute("data-record", str(records[n + 1].pk))
        else:
            expect(ahead).to_have_count(0)
        # Nobody sees another reviewer's vote while the record is open.
        expect(panel).not_to_contain_text("Your vote")
        page.keyboard.press(key)
        expect(panel).to_have_count(0)
        wait_for_htmx(page)
    expect(page.get_by_text("Nothing is waiting for your vote at this stage.")).to_be_visible()


@pytest.mark.browser
def test_two_reviewers_screen_and_the_lead_resolves(new_context, live_server, cast):
    records = [RecordFactory(project=cast.project, title=f"Trainee partnership study {n}",
                             abstract=f"Abstract {n} about graduate students.")
               for n in range(10)]
    ada = new_context().new_page()
    ben = new_context().new_page()
    sign_in(ada, "ada")
    sign_in(ben, "ben")

    screen_all(ada, records, ["i"] * 10)
    screen_all(ben, records, ["e"] * 3 + ["i"] * 7)

    assert Vote.objects.count() == 20
    lead = new_context().new_page()
    sign_in(lead, "lead")
    lead.goto("/p/ikt/screening/")
    expect(lead.locator("[data-count=conflict]")).to_have_text("3")
    lead.get_by_role("link", name="Conflicts").click()
    for record in records[:3]:
        lead.get_by_role("link", name=f"#{record.pk} Trainee partnership study").first.click()
        votes = lead.locator("#votes")
        expect(votes).to_contain_text("Ada: Include")
        expect(votes).to_contain_text("Ben: Exclude")
        lead.get_by_label("Note (optional)").fill("not trainee-led")
        lead.get_by_role("button", name="Exclude").click()
        expect(lead.get_by_text(f"Record #{record.pk} is settled.")).to_be_visible()

    lead.goto("/p/ikt/screening/")
    counts = lead.locator("#stage-counts")
    expect(counts.locator("[data-count=records]")).to_have_text("10")
    expect(counts.locator("[data-count=open]")).to_have_text("0")
    expect(counts.locator("[data-count=conflict]")).to_have_text("0")
    expect(counts.locator("[data-count=included]")).to_have_text("7")
    expect(counts.locator("[data-count=excluded]")).to_have_text("3")
    agreement = lead.locator("#agreement")
    expect(agreement.locator("tbody tr")).to_have_count(1)
    expect(agreement.locator("tbody tr")).to_contain_text("Ada / Ben")
    assert sorted(Screening.objects.values_list("state", flat=True)) == (
        ["excluded"] * 3 + ["included"] * 7)
    assert set(Screening.objects.filter(state="excluded").values_list(
        "settled_by__username", flat=True)) == {"lead"}
