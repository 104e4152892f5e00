"""A lead builds the extraction form in the browser: loads the paper's form, adds a field,
reorders with the keyboard and by dragging, archives and restores; the preview adds table
rows and checks answers with the message at the field."""

import pytest
from playwright.sync_api import expect

from extraction import schema
from extraction.models import Field, Form
from tests.browser.conftest import sign_in


def field_labels(section_key: str) -> list[str]:
    doc = schema.export_form(Form.objects.get(project__slug="ikt"))
    section = next(s for s in doc["sections"] if s["key"] == section_key)
    return [f["label"] for f in section["fields"] if not f["archived"]]


@pytest.mark.browser
def test_a_lead_builds_the_form_and_previews_it(page, live_server, cast):
    sign_in(page, "lead")
    page.goto("/p/ikt/extraction/")
    page.get_by_role("link", name="Edit the form").click()
    page.get_by_role("button", name="Load the paper's form").click()
    expect(page.get_by_text("The paper's extraction form is loaded")).to_be_visible()

    # A new field at the end of the first section, then moved up with the keyboard.
    page.get_by_label("New field in Study characteristics").fill("Sample size")
    page.locator("#s-{} select[name=type]".format(
        Form.objects.get(project__slug="ikt").sections.get(key="study").pk)
    ).select_option("integer")
    with page.expect_navigation():
        page.get_by_label("New field in Study characteristics").press("Enter")
    expect(page.get_by_role("link", name="Edit Sample size")).to_be_visible()
    assert field_labels("study") == ["Paper type", "Study design", "Country", "Sample size"]
    page.get_by_role("button", name="Move Sample size up").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert field_labels("study") == ["Paper type", "Study design", "Sample size", "Country"]

    # Dragging Country above Paper type (from the top of the page: Playwright's drag and
    # drop loses the drag when the page scrolls under the mouse).
    page.goto("/p/ikt/extraction/form/")
    country, paper_type = (Field.objects.get(form__project__slug="ikt", key=key).pk
                           for key in ("country", "paper_type"))
    with page.expect_navigation():  # the new order is posted, then the page reloads
        page.locator(f"#f-{country}").drag_to(page.locator(f"#f-{paper_type}"),
                                              target_position={"x": 20, "y": 2})
    expect(page.locator("#s-{} li[draggable=true]".format(
        Form.objects.get(project__slug="ikt").sections.get(key="study").pk)).first
    ).to_contain_text("Country")
    assert field_labels("study") == ["Country", "Paper type", "Study design", "Sample size"]

    # Archive and restore keep the field.
    page.get_by_role("button", name="Archive Sample size").click()
    expect(page.get_by_text("Archived: Sample size (whole number)")).to_be_visible()
    page.get_by_role("button", name="Restore Sample size").click()
    expect(page.get_by_text("“Sample size” restored.")).to_be_visible()

    # The preview: a second table row added in the page, answers checked.
    page.get_by_role("link", name="Preview").click()
    page.get_by_role("button", name="Add a row").click()
    page.locator("[name='f-knowledge_users-1-ku_type']").fill("Clinicians")
    page.get_by_label("Sample size").fill("about 40")
    page.get_by_role("button", name="Check answers").click()
    expect(page.locator("#check-result")).to_have_text("1 answer would be refused: see the "
                                                       "message at the field.")
    expect(page.locator("#id-f-sample_size-error")).to_have_text(
        "Enter a whole number, such as 42.")
    expect(page.locator("[name='f-knowledge_users-1-ku_type']")).to_have_value("Clinicians")
