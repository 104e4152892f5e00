"""Form edits: versions made by changes to a form with data, and no edit ever losing data."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from extraction import forms_builder, schema
from extraction.forms_builder import BuilderError, FieldSpec
from extraction.models import Answer, Extraction, Field, Form, FormVersion, Section
from extraction.values import OTHER, display_value, is_stale
from projects.models import AuditEvent
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

DESIGNS = [{"label": "Participatory action research"}, {"label": "Codesign"}]


@pytest.fixture
def form(cast):
    return forms_builder.ensure_form(cast.project, user=cast.lead)


@pytest.fixture
def section(cast, form):
    return forms_builder.add_section(form, title="Study characteristics", user=cast.lead)


def add(section, user, label, type, **kwargs):
    return forms_builder.add_field(section, user=user,
                                   spec=FieldSpec(label=label, type=type, **kwargs))


def spec_of(field: Field, **changes) -> FieldSpec:
    field.refresh_from_db()
    base = dict(label=field.label, type=field.type, help_text=field.help_text,
                required=field.required, unit=field.unit, display=field.display,
                other_specify=field.other_specify,
                choices=[dict(c) for c in field.choices])
    return FieldSpec(**{**base, **changes})


def extract(cast, form, answers: dict, reviewer=None):
    """An extraction of a new study on the form's current version with these answers
    ({field: (value, other)} or {field: value})."""
    extraction = Extraction.objects.create(
        project=cast.project, study=StudyFactory(project=cast.project),
        reviewer=reviewer or cast.ada, version=forms_builder.current_version(form))
    for field, value in answers.items():
        value, other = value if isinstance(value, tuple) else (value, "")
        Answer.objects.create(extraction=extraction, field=field, value=value, other=other)
    return extraction


def versions(form):
    return list(FormVersion.objects.filter(form=form).values_list("number", flat=True))


# ------------------------------------------------------------------------------------------
# Versions


def test_edits_before_any_data_keep_one_version_up_to_date(cast, form, section):
    field = add(section, cast.lead, "Country", "country")
    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, label="Countries"))

    form.refresh_from_db()
    assert form.version == 1
    assert versions(form) == [1]
    definition = FormVersion.objects.get(form=form, number=1).definition
    assert definition["sections"][0]["fields"][0]["label"] == "Countries"


def test_a_change_to_a_form_with_data_makes_a_new_version_and_old_extractions_keep_theirs(
        cast, form, section):
    field = add(section, cast.lead, "Country", "country")
    old = extract(cast, form, {field: "CA"})

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, label="Countries"))
    forms_builder.add_section(form, title="Trainees", user=cast.lead)  # v2 has no data yet

    form.refresh_from_db()
    assert form.version == 2
    assert versions(form) == [1, 2]
    old.refresh_from_db()
    assert old.version.number == 1
    assert old.version.definition["sections"][0]["fields"][0]["label"] == "Country"
    v2 = FormVersion.objects.get(form=form, number=2).definition
    assert [s["title"] for s in v2["sections"]] == ["Study characteristics", "Trainees"]
    assert v2["sections"][0]["fields"][0]["label"] == "Countries"


def test_an_edit_that_changes_nothing_makes_no_version_and_no_event(cast, form, section):
    field = add(section, cast.lead, "Country", "country")
    extract(cast, form, {field: "CA"})
    events = AuditEvent.objects.count()

    forms_builder.move_field(field, offset=-1, user=cast.lead)  # already first
    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field))

    form.refresh_from_db()
    assert form.version == 1
    assert AuditEvent.objects.count() == events


def test_every_edit_is_audited_with_before_and_after(cast, form, section):
    field = add(section, cast.lead, "Country", "country")

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, label="Countries",
                                                                  required=True))

    event = AuditEvent.objects.filter(action="extraction.field_changed").get()
    assert event.actor == cast.lead
    assert event.target_id == str(field.pk)
    assert (event.before["label"], event.before["required"]) == ("Country", False)
    assert (event.after["label"], event.after["required"], event.after["version"]) == (
        "Countries", True, 1)
    assert list(AuditEvent.objects.filter(project=cast.project)
                .order_by("id").values_list("action", flat=True)) == [
        "extraction.form_created", "extraction.section_added", "extraction.field_added",
        "extraction.field_changed"]


# ------------------------------------------------------------------------------------------
# No edit loses data


def test_renaming_and_moving_a_field_keeps_its_answers(cast, form, section):
    field = add(section, cast.lead, "Country", "country")
    other_section = forms_builder.add_section(form, title="Setting", user=cast.lead)
    extraction = extract(cast, form, {field: "CA"})

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, label="Where"))
    forms_builder.move_field_to_section(field, section=other_section, user=cast.lead)

    answer = Answer.objects.get(extraction=extraction)
    assert (answer.field_id, answer.value) == (field.pk, "CA")
    field.refresh_from_db()
    assert (field.label, field.section_id) == ("Where", other_section.pk)


def test_a_removed_field_is_archived_with_its_answers_and_can_be_restored(cast, form, section):
    field = add(section, cast.lead, "Barriers", "long_text")
    extraction = extract(cast, form, {field: "Time"})

    forms_builder.set_field_archived(field, archived=True, user=cast.lead)
    field.refresh_from_db()
    assert field.archived
    assert Answer.objects.get(extraction=extraction).value == "Time"
    form.refresh_from_db()
    assert form.version == 2
    assert forms_builder.current_version(form).definition["sections"][0]["fields"][0][
        "archived"] is True

    forms_builder.set_field_archived(field, archived=False, user=cast.lead)
    field.refresh_from_db()
    assert not field.archived
    assert Answer.objects.get(extraction=extraction).value == "Time"


def test_an_archived_section_keeps_its_fields_and_comes_back_with_them(cast, form, section):
    field = add(section, cast.lead, "Barriers", "long_text")
    extract(cast, form, {field: "Time"})

    forms_builder.set_section_archived(section, archived=True, user=cast.lead)
    forms_builder.set_section_archived(section, archived=False, user=cast.lead)

    section.refresh_from_db()
    assert not section.archived
    assert list(section.fields.values_list("key", flat=True)) == ["barriers"]
    assert Answer.objects.get(field=field).value == "Time"


def test_a_removed_choice_is_archived_and_old_answers_are_flagged(cast, form, section):
    field = add(section, cast.lead, "Study design", "single_choice", choices=DESIGNS)
    extraction = extract(cast, form, {field: "codesign"})

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(
        field, choices=[{"key": "participatory_action_research",
                         "label": "Participatory action research"}, {"label": "Survey"}]))

    field.refresh_from_db()
    assert field.choices == [
        {"key": "participatory_action_research", "label": "Participatory action research",
         "archived": False},
        {"key": "survey", "label": "Survey", "archived": False},
        {"key": "codesign", "label": "Codesign", "archived": True}]
    value = Answer.objects.get(extraction=extraction).value
    assert value == "codesign"
    assert is_stale(field, value)
    assert display_value(field, value) == "Codesign"


def test_a_renamed_choice_keeps_its_answers_under_the_new_label(cast, form, section):
    field = add(section, cast.lead, "Study design", "single_choice", choices=DESIGNS)
    extract(cast, form, {field: "codesign"})

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, choices=[
        {"key": "participatory_action_research", "label": "PAR"},
        {"key": "codesign", "label": "Co-design"}]))

    field.refresh_from_db()
    value = Answer.objects.get(field=field).value
    assert value == "codesign"
    assert not is_stale(field, value)
    assert display_value(field, value) == "Co-design"


def test_an_archived_choice_can_be_restored(cast, form, section):
    field = add(section, cast.lead, "Study design", "single_choice", choices=DESIGNS)
    choices = spec_of(field).choices
    choices[1]["archived"] = True
    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, choices=choices))
    choices[1]["archived"] = False

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, choices=choices))

    field.refresh_from_db()
    assert [c["archived"] for c in field.choices] == [False, False]


def test_a_choice_cannot_lose_its_label(cast, form, section):
    field = add(section, cast.lead, "Study design", "single_choice", choices=DESIGNS)

    with pytest.raises(BuilderError, match="A choice needs a label: to remove it, archive it."):
        forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, choices=[
            {"key": "codesign", "label": " "}]))


def test_reordering_sections_fields_and_choices(cast, form, section):
    second = forms_builder.add_section(form, title="Trainees", user=cast.lead)
    a = add(section, cast.lead, "A", "short_text")
    b = add(section, cast.lead, "B", "short_text")
    c = add(section, cast.lead, "C", "short_text")
    choice = add(second, cast.lead, "Level", "single_choice",
                 choices=[{"label": "Master's"}, {"label": "Doctoral"}, {"label": "Postdoc"}])

    forms_builder.move_section(second, offset=-1, user=cast.lead)
    forms_builder.move_field(c, offset=-1, user=cast.lead)
    forms_builder.reorder_fields(form, section=section, order=[b.pk, c.pk, a.pk],
                                 user=cast.lead)
    forms_builder.move_choice(choice, key="postdoc", offset=-2, user=cast.lead)

    doc = schema.export_form(Form.objects.get(pk=form.pk))
    assert [s["title"] for s in doc["sections"]] == ["Trainees", "Study characteristics"]
    assert [f["label"] for f in doc["sections"][1]["fields"]] == ["B", "C", "A"]
    assert [c["key"] for c in doc["sections"][0]["fields"][0]["choices"]] == [
        "postdoc", "masters", "doctoral"]


def test_a_stale_order_is_refused(cast, form, section):
    a = add(section, cast.lead, "A", "short_text")
    add(section, cast.lead, "B", "short_text")

    with pytest.raises(BuilderError, match="The form changed meanwhile"):
        forms_builder.reorder_fields(form, section=section, order=[a.pk], user=cast.lead)


# ------------------------------------------------------------------------------------------
# Type changes


@pytest.mark.parametrize("old_type, choices, value, new_type, new_value", [
    ("short_text", [], "42", "integer", "42"),
    ("integer", [], "42", "decimal", "42"),
    ("decimal", [], "12.0", "integer", "12"),
    ("short_text", [], "line", "long_text", "line"),
    ("single_choice", DESIGNS, "codesign", "multi_choice", ["codesign"]),
    ("multi_choice", DESIGNS, ["codesign"], "single_choice", "codesign"),
    ("single_choice", DESIGNS, "codesign", "short_text", "Codesign"),
    ("short_text", DESIGNS, "codesign", "single_choice", "codesign"),
    ("short_text", DESIGNS, "CODESIGN", "multi_choice", ["codesign"]),
    ("country", [], "CA", "short_text", "Canada"),
    ("short_text", [], "Canada", "country", "CA"),
    ("yes_no", [], "unclear", "short_text", "Unclear"),
    ("date", [], "2019-03-31", "short_text", "2019-03-31"),
])
def test_a_type_change_converts_every_answer(cast, form, section, old_type, choices, value,
                                             new_type, new_value):
    field = add(section, cast.lead, "Thing", old_type, choices=choices)
    extraction = extract(cast, form, {field: value})

    _field, converted = forms_builder.update_field(field, user=cast.lead,
                                                   spec=spec_of(field, type=new_type))

    assert converted == 1
    assert Answer.objects.get(extraction=extraction).value == new_value
    field.refresh_from_db()
    assert field.type == new_type


def test_text_that_names_no_choice_becomes_other_when_the_field_has_it(cast, form, section):
    field = add(section, cast.lead, "Design", "short_text", choices=DESIGNS, other_specify=True)
    extraction = extract(cast, form, {field: "Case study"})

    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, type="single_choice"))

    answer = Answer.objects.get(extraction=extraction)
    assert (answer.value, answer.other) == (OTHER, "Case study")


def test_a_type_change_that_would_not_fit_is_refused_with_the_reason_and_changes_nothing(
        cast, form, section):
    field = add(section, cast.lead, "Sample size", "short_text")
    extract(cast, form, {field: "42"})
    extract(cast, form, {field: "about 40"}, reviewer=cast.ben)
    extract(cast, form, {field: "many"}, reviewer=cast.ben)

    with pytest.raises(BuilderError) as info:
        forms_builder.update_field(field, user=cast.lead, spec=spec_of(
            field, type="integer", label="N"))

    assert str(info.value) == (
        "“Sample size” cannot become a whole number field: 2 answers would not fit, e.g. "
        "“about 40” (enter a whole number, such as 42). Nothing was changed: update those "
        "answers first, or add a new field and archive this one.")
    field.refresh_from_db()
    assert (field.type, field.label) == ("short_text", "Sample size")
    assert sorted(Answer.objects.filter(field=field).values_list("value", flat=True)) == [
        "42", "about 40", "many"]
    assert Form.objects.get(pk=form.pk).version == 1


def test_multiple_answers_do_not_fit_a_single_choice(cast, form, section):
    field = add(section, cast.lead, "Design", "multi_choice", choices=DESIGNS)
    extract(cast, form, {field: ["participatory_action_research", "codesign"]})

    with pytest.raises(BuilderError, match=r"1 answer would not fit, e.g. “Participatory "
                                           r"action research; Codesign” \(it has 2 choices\)"):
        forms_builder.update_field(field, user=cast.lead, spec=spec_of(field,
                                                                       type="single_choice"))


def test_a_table_with_answers_becomes_no_other_type(cast, form, section):
    table = add(section, cast.lead, "Knowledge users", "table")
    column = forms_builder.add_field(table=table, user=cast.lead,
                                     spec=FieldSpec(label="Type", type="short_text"))
    extract(cast, form, {table: [{column.key: "Nurses"}]})

    with pytest.raises(BuilderError, match="a repeating table cannot become a long text field"):
        forms_builder.update_field(table, user=cast.lead, spec=spec_of(table, type="long_text"))


def test_a_columns_type_change_converts_the_cells_in_every_row(cast, form, section):
    table = add(section, cast.lead, "Knowledge users", "table")
    count = forms_builder.add_field(table=table, user=cast.lead,
                                    spec=FieldSpec(label="Number", type="short_text"))
    role = forms_builder.add_field(table=table, user=cast.lead,
                                   spec=FieldSpec(label="Role", type="short_text"))
    extraction = extract(cast, form, {table: [{count.key: "3", role.key: "Advisor"},
                                              {role.key: "Co-author"}]})

    forms_builder.update_field(count, user=cast.lead, spec=spec_of(count, type="integer"))
    with pytest.raises(BuilderError, match="“Role” cannot become a whole number field: 2 "
                                           "answers would not fit"):
        forms_builder.update_field(role, user=cast.lead, spec=spec_of(role, type="integer"))

    assert Answer.objects.get(extraction=extraction).value == [
        {count.key: "3", role.key: "Advisor"}, {role.key: "Co-author"}]
    count.refresh_from_db()
    assert count.type == "integer"


def test_a_table_cannot_hold_a_table(cast, form, section):
    table = add(section, cast.lead, "Knowledge users", "table")

    with pytest.raises(BuilderError, match="a table cannot hold a table"):
        forms_builder.add_field(table=table, user=cast.lead,
                                spec=FieldSpec(label="Inner", type="table"))


# ------------------------------------------------------------------------------------------
# Import and the template


def test_import_matches_by_key_archives_what_is_left_out_and_keeps_answers(cast, form,
                                                                           section):
    keep = add(section, cast.lead, "Country", "country")
    drop = add(section, cast.lead, "Barriers", "long_text")
    extraction = extract(cast, form, {keep: "CA", drop: "Time"})
    doc = schema.validate({"tandem_form": 1, "name": "Form B", "sections": [
        {"key": "setting", "title": "Setting", "fields": [
            {"key": "country", "label": "Country of the study", "type": "country"},
            {"label": "Funding", "type": "yes_no"}]}]})

    counts = forms_builder.import_form(cast.project, doc, user=cast.lead)

    assert counts == {"added": 2, "updated": 1, "archived": 2, "converted": 0}
    exported = schema.export_form(Form.objects.get(pk=form.pk))
    assert [(s["key"], s["archived"]) for s in exported["sections"]] == [
        ("setting", False), ("study_characteristics", True)]
    assert [(f["key"], f["label"], f["archived"]) for f in exported["sections"][0]["fields"]] \
        == [("country", "Country of the study", False), ("funding", "Funding", False)]
    assert [(f["key"], f["archived"]) for f in exported["sections"][1]["fields"]] == [
        ("barriers", True)]
    assert dict(Answer.objects.filter(extraction=extraction)
                .values_list("field__key", "value")) == {"country": "CA", "barriers": "Time"}
    assert Form.objects.get(pk=form.pk).version == 2


def test_an_import_with_a_refused_type_change_changes_nothing(cast, form, section):
    field = add(section, cast.lead, "Sample size", "short_text")
    extract(cast, form, {field: "about 40"})
    doc = schema.validate({"tandem_form": 1, "sections": [
        {"key": "study_characteristics", "title": "Renamed", "fields": [
            {"key": "sample_size", "label": "Sample size", "type": "integer"}]}]})

    with pytest.raises(BuilderError, match=r"^sections\[0\].fields\[0\]: “Sample size” cannot "
                                           r"become a whole number field"):
        forms_builder.import_form(cast.project, doc, user=cast.lead)

    section.refresh_from_db()
    assert section.title == "Study characteristics"
    assert Field.objects.get(pk=field.pk).type == "short_text"


def test_the_papers_form_loads_into_an_empty_form_only(cast, form):
    forms_builder.load_template(cast.project, user=cast.lead)

    assert Section.objects.filter(form=form).count() == 4
    table = Field.objects.get(form=form, key="knowledge_users")
    assert list(table.columns.values_list("key", "type")) == [
        ("ku_type", "short_text"), ("ku_role", "short_text"), ("ku_stages", "multi_choice")]
    assert AuditEvent.objects.filter(action="extraction.template_loaded").count() == 1
    with pytest.raises(BuilderError, match="The form already has fields"):
        forms_builder.load_template(cast.project, user=cast.lead)


def test_older_version_extractions_are_listed_for_the_lead(cast, form, section, client_for):
    field = add(section, cast.lead, "Country", "country")
    old = extract(cast, form, {field: "CA"})
    forms_builder.update_field(field, user=cast.lead, spec=spec_of(field, label="Countries"))
    form.refresh_from_db()
    extract(cast, form, {field: "US"}, reviewer=cast.ben)

    assert [e.pk for e in forms_builder.older_version_extractions(form)] == [old.pk]
    page = client_for(cast.lead).get(reverse("extraction:form", args=["ikt"]))
    assert page.context["older"] == [old]
    assert f"Study {old.study_id}" in page.content.decode()


# ------------------------------------------------------------------------------------------
# The pages


def builder_url(name, *args):
    return reverse(f"extraction:{name}", args=["ikt", *args])


def test_the_builder_page_lists_live_and_archived_parts(cast, form, section, client_for):
    add(section, cast.lead, "Country", "country")
    gone = add(section, cast.lead, "Funding", "yes_no")
    forms_builder.set_field_archived(gone, archived=True, user=cast.lead)

    page = client_for(cast.lead).get(builder_url("form"))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Study characteristics"' in html
    assert "Country</span>" in html
    assert "Archived: Funding (yes / no / unclear)" in html
    assert 'id="form-version">Version 1<' in html


def test_outsiders_get_404_and_reviewers_403_on_the_builder(cast, form, section, client_for):
    field = add(section, cast.lead, "Country", "country")

    assert client_for(cast.outsider).get(builder_url("form")).status_code == 404
    assert client_for(cast.ada).get(builder_url("form")).status_code == 403
    assert client_for(cast.viewer).post(builder_url("field", field.pk),
                                        {"label": "X", "type": "country"}).status_code == 403
    assert client_for(cast.lead).get(builder_url("section", section.pk)).status_code == 405
    field.refresh_from_db()
    assert field.label == "Country"


def test_a_lead_builds_a_form_through_the_pages(cast, client_for):
    client = client_for(cast.lead)

    client.post(builder_url("form"), {"action": "add_section", "title": "Study"})
    section = Section.objects.get(form__project=cast.project)
    client.post(builder_url("section", section.pk), {
        "action": "add_field", "label": "Study design", "type": "single_choice",
        "choices": "Participatory action research\r\nCodesign\r\n"})
    client.post(builder_url("section", section.pk), {
        "action": "add_field", "label": "Knowledge users", "type": "table"})
    table = Field.objects.get(key="knowledge_users")
    client.post(builder_url("field", table.pk), {"action": "add_column", "label": "Type",
                                                 "type": "short_text"})
    client.post(builder_url("field", table.pk), {"action": "add_column", "label": "Stage",
                                                 "type": "multi_choice", "choices": "Design"})
    client.post(builder_url("field", table.pk), {"action": "up"})

    doc = schema.export_form(Form.objects.get(project=cast.project))
    assert [(f["key"], f["type"]) for f in doc["sections"][0]["fields"]] == [
        ("knowledge_users", "table"), ("study_design", "single_choice")]
    assert [(c["key"], c["type"]) for c in doc["sections"][0]["fields"][0]["columns"]] == [
        ("type", "short_text"), ("stage", "multi_choice")]
    assert [c["label"] for c in doc["sections"][0]["fields"][1]["choices"]] == [
        "Participatory action research", "Codesign"]
    page = client.get(builder_url("field", table.pk)).content.decode()
    assert '<span class="fw-semibold">Type</span>' in page
    assert '<span class="fw-semibold">Stage</span>' in page


def test_the_field_page_renames_archives_and_reorders_choices(cast, form, section, client_for):
    field = add(section, cast.lead, "Design", "single_choice", choices=DESIGNS)
    extract(cast, form, {field: "codesign"})

    response = client_for(cast.lead).post(builder_url("field", field.pk), {
        "label": "Study design", "type": "single_choice", "help_text": "As reported",
        "required": "on", "display": "list", "other_specify": "on",
        "choice_key": ["participatory_action_research", "codesign"],
        "choice_label": ["PAR", "Codesign"], "choice_archived": ["codesign"],
        "new_choices": "Survey\nCase study", "move": "case_study:up"})

    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.help_text, field.required, field.display, field.other_specify) \
        == ("Study design", "As reported", True, "list", True)
    assert [(c["key"], c["label"], c["archived"]) for c in field.choices] == [
        ("participatory_action_research", "PAR", False), ("codesign", "Codesign", True),
        ("survey", "Survey", False), ("case_study", "Case study", False)]
    assert Answer.objects.get(field=field).value == "codesign"
    assert Form.objects.get(pk=form.pk).version == 2


def test_the_field_page_explains_a_refused_type_change(cast, form, section, client_for):
    field = add(section, cast.lead, "Sample size", "short_text")
    extract(cast, form, {field: "about 40"})
    client = client_for(cast.lead)

    client.post(builder_url("field", field.pk), {"label": "Sample size", "type": "integer"})
    page = client.get(builder_url("field", field.pk))

    assert ("“Sample size” cannot become a whole number field: 1 answer would not fit, e.g. "
            "“about 40” (enter a whole number, such as 42).") in page.content.decode()
    field.refresh_from_db()
    assert field.type == "short_text"


def test_drag_and_drop_posts_the_new_order(cast, form, section, client_for):
    second = forms_builder.add_section(form, title="Trainees", user=cast.lead)
    a = add(section, cast.lead, "A", "short_text")
    b = add(section, cast.lead, "B", "short_text")
    client = client_for(cast.lead)

    client.post(builder_url("form"), {"action": "reorder", "order": f"{second.pk},{section.pk}"})
    client.post(builder_url("section", section.pk), {"action": "reorder",
                                                     "order": f"{b.pk},{a.pk}"})

    doc = schema.export_form(Form.objects.get(pk=form.pk))
    assert [s["title"] for s in doc["sections"]] == ["Trainees", "Study characteristics"]
    assert [f["label"] for f in doc["sections"][1]["fields"]] == ["B", "A"]


def test_the_papers_form_loads_with_one_click(cast, client_for):
    response = client_for(cast.lead).post(builder_url("form"), {"action": "template"})

    assert response.status_code == 302
    doc = schema.export_form(Form.objects.get(project=cast.project))
    assert [s["title"] for s in doc["sections"]] == [
        "Study characteristics", "Trainees", "The partnership",
        "Barriers, facilitators and outcomes"]


def test_the_preview_shows_every_type_as_a_reviewer_sees_it(cast, form, client_for):
    forms_builder.load_template(cast.project, user=cast.lead)
    section = forms_builder.add_section(form, title="Numbers", user=cast.lead)
    add(section, cast.lead, "Sample size", "integer")
    add(section, cast.lead, "Mean age", "decimal", unit="years")
    add(section, cast.lead, "Funded", "yes_no")
    add(section, cast.lead, "Published", "date")

    page = client_for(cast.viewer).get(builder_url("preview"))

    html = page.content.decode()
    assert page.status_code == 200
    for label in ["Paper type", "Study design", "Country", "Trainee discipline",
                  "Knowledge users", "Sample size", "Mean age", "Funded", "Published"]:
        assert f">{label}" in html, label
    assert 'name="f-paper_type" id="id-f-paper_type-1" value="peer_reviewed_study"' in html
    assert '<option value="CA">Canada</option>' in html
    assert 'name="f-knowledge_users-0-ku_type"' in html
    assert 'name="f-knowledge_users-rows" value="1"' in html
    assert '<span class="input-group-text">years</span>' in html
    assert 'type="date"' in html
    assert 'name="f-barriers-quote"' in html


def test_the_preview_checks_answers_with_messages_at_the_field(cast, form, section, client_for):
    add(section, cast.lead, "Sample size", "integer")
    table = add(section, cast.lead, "Knowledge users", "table")
    forms_builder.add_field(table=table, user=cast.lead,
                            spec=FieldSpec(label="Number", type="integer"))

    page = client_for(cast.ada).post(builder_url("preview"), {
        "f-sample_size": "about 40", "f-knowledge_users-rows": "2",
        "f-knowledge_users-0-number": "3", "f-knowledge_users-1-number": "many"})

    html = page.content.decode()
    assert '2 answers would be refused' in html
    assert ('<div class="invalid-feedback d-block" id="id-f-sample_size-error">Enter a whole '
            'number, such as 42.</div>') in html
    assert ('id="id-f-knowledge_users-1-number-error">Row 2, Number: Enter a whole number, '
            'such as 42.</div>') in html
    assert 'name="f-knowledge_users-1-number" id="id-f-knowledge_users-1-number" ' \
           'value="many"' in html
    assert not Answer.objects.exists()


def test_export_downloads_the_document_and_import_reads_it_back(cast, form, section,
                                                                client_for):
    add(section, cast.lead, "Country", "country")
    client = client_for(cast.lead)

    exported = client_for(cast.viewer).get(builder_url("form_export"))
    assert exported["Content-Disposition"] == (
        'attachment; filename="ikt-extraction-form-v1.json"')
    doc = json.loads(exported.content)
    assert doc == schema.export_form(form)
    doc["sections"][0]["fields"][0]["label"] = "Country of the study"
    client = client_for(cast.lead)
    response = client.post(builder_url("form_import"), {
        "file": SimpleUploadedFile("form.json", json.dumps(doc).encode())})

    assert response.status_code == 302
    assert Field.objects.get(form=form, key="country").label == "Country of the study"


def test_import_lists_every_problem_with_its_path(cast, form, client_for):
    response = client_for(cast.lead).post(builder_url("form_import"), {"text": json.dumps(
        {"tandem_form": 1, "sections": [{"title": "A", "fields": [
            {"label": "", "type": "integer"}, {"label": "B", "type": "choice"}]}]})})

    assert response.status_code == 200
    assert response.context["errors"] == [
        "sections[0].fields[0].label: enter a label",
        "sections[0].fields[1].type: one of short_text, long_text, integer, decimal, "
        "single_choice, multi_choice, yes_no, date, country, table"]
    assert "<code>sections[0].fields[0].label: enter a label</code>" in \
        response.content.decode()
    assert not Section.objects.filter(form=form).exists()


def test_the_extraction_page_shows_the_form_version(cast, form, section, client_for):
    page = client_for(cast.viewer).get(reverse("extraction:home", args=["ikt"]))

    html = page.content.decode()
    assert "Data extraction form, version 1" in html
    assert "Edit the form" not in html
    assert "Edit the form" in client_for(cast.lead).get(
        reverse("extraction:home", args=["ikt"])).content.decode()
