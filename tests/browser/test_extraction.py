"""Extraction end to end: the lead builds a form with a repeating table, assigns a study to
Ada and Ben, who extract it blind and disagree on one answer (Ada's with a quote), the lead
settles it on the consensus page, and the extraction table and its CSV show the settled
value."""

import csv
import io
import zipfile

import pytest
from playwright.sync_api import expect

from extraction.models import Answer, Extraction, Field
from projects.models import Job
from tests.browser.conftest import sign_in, wait_for_htmx
from tests.extraction.tabledata import include_studies

WORKER_TIMEOUT = 30_000


def build_form(lead):
    lead.goto("/p/ikt/")
    lead.get_by_role("navigation", name="Review pipeline").get_by_role(
        "link", name="Extraction").click()
    lead.get_by_role("link", name="Edit the form").click()
    lead.get_by_label("New section title").fill("Study")
    lead.get_by_role("button", name="Add section").click()
    for label, kind, choices in [
        ("Study design", "Single choice", "Randomised trial\nCohort study\nQualitative study"),
        ("Country", "Country", ""),
        ("Participants", "Whole number", ""),
        ("Knowledge users", "Repeating table", ""),
    ]:
        lead.get_by_label("New field in Study").fill(label)
        lead.get_by_label("Type", exact=True).select_option(label=kind)
        lead.get_by_label("Choices, one per line", exact=True).fill(choices)
        lead.get_by_role("button", name="Add", exact=True).click()
        expect(lead.get_by_role("list", name="Fields of Study")).to_contain_text(label)
    lead.get_by_role("link", name="Edit Knowledge users").click()
    for label, kind, choices in [("User type", "Single choice", "Clinician\nPatient"),
                                 ("Role", "Short text", "")]:
        lead.get_by_label("New column").fill(label)
        lead.get_by_label("Column type").select_option(label=kind)
        lead.get_by_label("Choices, one per line", exact=True).fill(choices)
        lead.get_by_role("button", name="Add column").click()
        expect(lead.locator("#columns + ol")).to_contain_text(label)


def assign_pair(lead, study, cast):
    lead.get_by_role("navigation", name="Review pipeline").get_by_role(
        "link", name="Extraction").click()
    lead.get_by_role("navigation", name="Extraction pages").get_by_role(
        "link", name="Assignments").click()
    pair = lead.locator("#assign-pair")
    pair.get_by_label("Extractor 1").select_option(label="Ada")
    pair.get_by_label("Extractor 2").select_option(label="Ben")
    pair.get_by_label("Studies").fill("1")
    pair.get_by_role("button", name="Assign", exact=True).click()
    row = lead.locator(f'#assignments tr[data-study="{study.pk}"]')
    expect(row.get_by_label(f"Extractor 1 of study {study.pk}")).to_have_value(str(cast.ada.pk))
    expect(row.get_by_label(f"Extractor 2 of study {study.pk}")).to_have_value(str(cast.ben.pk))


def extract(page, study, *, design, quote=""):
    page.goto("/p/ikt/extraction/studies/")
    row = page.locator(f'#studies tr[data-study="{study.pk}"]')
    # Blind: the other extractor's work shows nowhere on the list.
    expect(row).not_to_contain_text("Complete")
    row.get_by_role("link", name="Extract").click()
    expect(page.get_by_role("heading", name=f"Extract study {study.pk}")).to_be_visible()
    design_field = page.locator('.extraction-field[data-field="study_design"]')
    design_field.get_by_label(design).check()
    if quote:
        design_field.locator("summary", has_text="Evidence").click()
        design_field.get_by_label("Supporting quote").fill(quote)
        design_field.get_by_label("Page").fill("3")
    page.get_by_label("Country").select_option(label="Canada")
    page.get_by_label("Participants").fill("120")
    users = page.locator('.extraction-field[data-field="knowledge_users"]')
    users.get_by_role("group", name="User type, row 1").get_by_label("Patient").check()
    users.get_by_label("Role, row 1").fill("Advisor")
    wait_for_htmx(page)
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_role("status")).to_contain_text("Extraction complete.")


def settle(lead, study):
    lead.goto("/p/ikt/extraction/studies/?status=awaiting_consensus")
    lead.locator(f'#studies tr[data-study="{study.pk}"]').get_by_role(
        "link", name="Settle").click()
    differs = lead.locator("#consensus tr.consensus-differs")
    expect(differs).to_have_count(1)
    expect(differs).to_have_attribute("data-field", "study_design")
    expect(differs).to_contain_text("Randomised trial")
    expect(differs).to_contain_text("Cohort study")
    expect(differs).to_contain_text("“Methods: a randomised trial of 120 residents” (p. 3)")
    for same in ("country", "participants", "knowledge_users"):
        expect(lead.locator(f'#consensus tr[data-field="{same}"]')).to_have_attribute(
            "data-same", "1")
    differs.get_by_label("Take Ada's").check()
    differs.get_by_label("Note").fill("The methods section says randomised.")
    lead.get_by_role("button", name="Complete consensus").click()
    expect(lead.get_by_role("status")).to_contain_text(
        "Consensus complete: these are the study's data.")


def download_csv(lead):
    lead.get_by_role("button", name="Download CSV").click()
    status = lead.locator(".job-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    with lead.expect_download() as download:
        lead.get_by_role("link", name="Download the CSV files (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    return {name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()}


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.redis
def test_build_extract_settle_and_download(new_context, live_server, cast, celery_worker):
    (study,) = include_studies(cast, [("Lee, Kim", 2020)])
    lead = new_context().new_page()
    sign_in(lead, "lead")
    build_form(lead)
    assert list(Field.objects.filter(parent__isnull=True).values_list("key", "type")) == [
        ("study_design", "single_choice"), ("country", "country"),
        ("participants", "integer"), ("knowledge_users", "table")]
    assign_pair(lead, study, cast)

    ada = new_context().new_page()
    sign_in(ada, "ada")
    extract(ada, study, design="Randomised trial",
            quote="Methods: a randomised trial of 120 residents")
    ben = new_context().new_page()
    sign_in(ben, "ben")
    extract(ben, study, design="Cohort study")
    # Until consensus the table holds nothing, for anyone.
    lead.goto("/p/ikt/extraction/table/")
    expect(lead.locator("#extraction-table tbody")).to_contain_text(
        "No study has settled data yet.")

    settle(lead, study)

    consensus = Extraction.objects.get(role=Extraction.Role.CONSENSUS)
    design = Answer.objects.get(extraction=consensus, field__key="study_design")
    assert (design.value, design.source, design.quote, design.page, design.note) == (
        "randomised_trial", "first", "Methods: a randomised trial of 120 residents", "3",
        "The methods section says randomised.")
    lead.get_by_role("navigation", name="Extraction pages").get_by_role(
        "link", name="Extraction table").click()
    row = lead.locator(f"#study-{study.pk}")
    expect(row.locator('[data-field="study_design"]')).to_contain_text("Randomised trial")
    expect(row.locator('[data-field="country"]')).to_have_text("Canada")
    expect(row.locator('[data-field="participants"]')).to_have_text("120")
    expect(row.locator('[data-field="knowledge_users"]')).to_have_text(
        "User type: Patient; Role: Advisor")
    summary = lead.locator('[data-summary="study_design"]')
    expect(summary.locator('[data-category="randomised_trial"] [data-n]')).to_have_text("1")
    expect(summary.locator('[data-category="cohort_study"] [data-n]')).to_have_text("0")

    files = download_csv(lead)

    assert sorted(files) == ["evidence.csv", "studies.csv", "table-knowledge-users.csv"]
    assert files["studies.csv"] == [
        ["Study ID", "Study", "Title", "Form version", "Study design", "Country",
         "Participants"],
        [str(study.pk), "Lee 2020", "Trainee partnerships (Lee)", "1", "Randomised trial",
         "Canada", "120"]]
    assert files["table-knowledge-users.csv"][1:] == [
        [str(study.pk), "Lee 2020", "Trainee partnerships (Lee)", "1", "Patient", "Advisor"]]
    assert files["evidence.csv"][1:] == [
        [str(study.pk), "Lee 2020", "Study design", "Randomised trial",
         "Methods: a randomised trial of 120 residents", "3",
         "The methods section says randomised."]]
    assert Job.objects.get(kind="extraction_export").started_by == cast.lead
