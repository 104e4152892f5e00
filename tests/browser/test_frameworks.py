"""Frameworks end to end: Ada codes an included study (a KTA phase, an IAP2 level, and one
barrier excerpt with its COM-B component and TDF domain, a McLeroy level and a new theme),
Ben verifies every code, and the charting page, the KTA matrix (whose cell opens Ada's quote)
and the JSON download show the study under each of those categories."""

import json

import pytest
from playwright.sync_api import expect

from frameworks import catalogue, catalogue_services
from frameworks.models import Category, Framework, StudyCoding
from tests.browser.conftest import sign_in, wait_for_htmx
from tests.extraction.tabledata import include_studies

pytestmark = pytest.mark.browser

KTA, IAP2 = "Knowledge-to-Action cycle: action phases", "IAP2 Spectrum of Public Participation"
COMB, MCLEROY = "COM-B with the Theoretical Domains Framework", "McLeroy social-ecological model"


def choose_frameworks(cast):
    # A transactional test before this one may have flushed the data migration's rows.
    catalogue.install(Framework, Category)
    for key in ("kta", "iap2", "com-b-tdf", "mcleroy"):
        catalogue_services.use_framework(cast.project, key, user=cast.lead)


def code_study(ada, study):
    ada.goto("/p/ikt/")
    ada.get_by_role("navigation", name="Review pipeline").get_by_role(
        "link", name="Coding").click()
    ada.get_by_role("link", name="Studies to code").click()
    ada.get_by_role("link", name="Cassidy 2021").click()

    kta = ada.locator("section.card", has=ada.get_by_role("heading", name=KTA))
    kta.get_by_label("Adapt knowledge to local context", exact=True).check()
    kta.get_by_text("Evidence for Adapt knowledge to local context").click()
    kta.get_by_label("Quote for Adapt knowledge to local context").fill(
        "Trainees and clinicians adapted the guideline together")
    kta.get_by_label("Page for Adapt knowledge to local context").fill("5")
    kta.get_by_role("button", name=f"Save {KTA}").click()
    expect(ada.get_by_text(f"{KTA}: codes saved.")).to_be_visible()

    iap2 = ada.locator("section.card", has=ada.get_by_role("heading", name=IAP2))
    iap2.get_by_label("Collaborate", exact=True).check()
    iap2.get_by_role("button", name=f"Save {IAP2}").click()
    expect(ada.get_by_text(f"{IAP2}: codes saved.")).to_be_visible()

    form = ada.get_by_role("form", name="Add an excerpt")
    form.get_by_label("Kind").select_option("barrier")
    form.get_by_label("Quotation").fill("Trainees had no protected time for the partnership")
    form.get_by_label("Page").fill("9")
    form.get_by_label("Theme").fill("Lack of protected time")
    form.get_by_role("group", name=COMB).get_by_label(
        "Environmental context and resources", exact=True).check()
    form.get_by_role("group", name=MCLEROY).get_by_label("Organizational (institutional)",
                                                                    exact=True).check()
    form.get_by_role("button", name="Add excerpt").click()
    expect(ada.get_by_text("Excerpt added.")).to_be_visible()
    row = ada.locator("#excerpt-list tbody tr").first
    expect(row).to_contain_text("Environmental context and resources")
    expect(row).to_contain_text("Opportunity, physical")
    expect(row).to_contain_text("Lack of protected time")
    expect(ada.locator("#coding-status")).to_have_attribute("data-status", "coded")


def verify_study(ben, study):
    ben.goto(f"/p/ikt/coding/studies/{study.pk}/")
    agree = ben.get_by_role("button", name="Agree with")
    expect(agree).to_have_count(4)  # KTA, IAP2, and the excerpt in COM-B and in McLeroy
    for _ in range(4):
        agree.first.click()
        expect(ben.get_by_text("your answer is saved.")).to_be_visible()
    expect(agree).to_have_count(0)
    expect(ben.locator("#coding-status")).to_have_attribute("data-status", "verified")


def test_a_coded_and_verified_study_is_charted_in_each_category(cast, new_context):
    choose_frameworks(cast)
    study = include_studies(cast, [("Cassidy, Chris", 2021)])[0]

    ada = new_context().new_page()
    sign_in(ada, "ada")
    code_study(ada, study)
    ben = new_context().new_page()
    sign_in(ben, "ben")
    verify_study(ben, study)
    assert StudyCoding.objects.get(study=study).status == StudyCoding.Status.VERIFIED

    viewer = new_context(accept_downloads=True).new_page()
    sign_in(viewer, "viewer")
    viewer.goto("/p/ikt/coding/")
    viewer.get_by_role("link", name="Charting", exact=True).click()
    for framework, key, name in [(KTA, "adapt-knowledge", "adapt"),
                                 (IAP2, "collaborate", "collaborate"),
                                 (COMB, "opportunity-physical", "component"),
                                 (COMB, "environmental-context", "domain"),
                                 (MCLEROY, "organizational", "level")]:
        section = viewer.locator("section.card", has=viewer.get_by_role("heading", name=framework))
        row = section.locator(f'tr[data-category="{key}"]')
        expect(row.locator("[data-n]"), name).to_have_text("1")
        expect(row.locator("[data-studies]"), name).to_have_text("[1]")
    theme = viewer.locator('#themes tr[data-theme="Lack of protected time"]')
    expect(theme).to_contain_text("Barrier")
    expect(theme).to_contain_text("Organizational (institutional)")
    expect(theme).to_contain_text("Opportunity, physical")
    expect(viewer.locator("#figure svg text.theme.barrier")).to_have_text(
        "\u2212 Lack of protected time (n = 1)")
    viewer.get_by_role("link", name="Short references").click()
    expect(viewer.locator('tr[data-category="adapt-knowledge"] [data-studies]')).to_have_text(
        "Cassidy 2021")

    viewer.locator("section.card", has=viewer.get_by_role("heading", name=KTA)).get_by_role(
        "link", name="Study × category matrix").click()
    row = viewer.locator(f'#matrix tr[data-study="{study.pk}"]')
    cell = row.locator('td[data-category="adapt-knowledge"]')
    expect(cell).to_have_attribute("data-n", "1")
    expect(row.locator('td[data-n="1"]')).to_have_count(1)
    cell.get_by_role("link").click()
    wait_for_htmx(viewer)
    expect(viewer.locator("#evidence-panel")).to_contain_text(
        "Trainees and clinicians adapted the guideline together")
    expect(viewer.locator("#evidence-panel")).to_contain_text("(p. 5)")

    viewer.goto("/p/ikt/coding/charting/")
    with viewer.expect_download() as download:
        viewer.get_by_role("link", name="Download JSON").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    counted = {(f["name"], c["name"]): (c["n"], c["studies"])
               for f in data["frameworks"] for c in f["categories"] if c["n"]}
    assert counted == {
        (KTA, "Adapt knowledge to local context"): (1, [1]),
        (IAP2, "Collaborate"): (1, [1]),
        (COMB, "Opportunity, physical"): (1, [1]),
        (COMB, "Environmental context and resources"): (1, [1]),
        (MCLEROY, "Organizational (institutional)"): (1, [1]),
    }
    assert data["themes"] == [{"name": "Lack of protected time", "kind": "barrier",
                               "levels": ["Organizational (institutional)"],
                               "components": ["Opportunity, physical"], "n": 1,
                               "studies": [1]}]
