"""The form as one JSON document: validation names the path, export and import round-trip."""

import json

import pytest
from django.core.management import CommandError, call_command

from extraction import forms_builder, schema
from extraction.models import Field, Form, Section
from extraction.paper_form import PAPER_FORM


def errors_of(doc) -> list[str]:
    with pytest.raises(schema.SchemaError) as info:
        schema.validate(doc)
    return info.value.errors


def small_doc(**field):
    return {"tandem_form": 1, "sections": [{"title": "Study", "fields": [
        {"label": "Design", "type": "short_text", **field}]}]}


def test_a_minimal_document_gets_keys_and_defaults():
    doc = schema.validate({"tandem_form": 1, "sections": [{"title": "Study characteristics",
                                                           "fields": [{"label": "Paper type",
                                                                       "type": "single_choice",
                                                                       "choices": ["Thesis"]}]}]})

    assert doc == {"tandem_form": 1, "name": "Data extraction form", "sections": [
        {"key": "study_characteristics", "title": "Study characteristics", "archived": False,
         "fields": [{"key": "paper_type", "label": "Paper type", "type": "single_choice",
                     "help_text": "", "required": False, "archived": False, "unit": "",
                     "display": "radio", "other_specify": False, "columns": [],
                     "choices": [{"key": "thesis", "label": "Thesis", "archived": False}]}]}]}


@pytest.mark.parametrize("doc, expected", [
    ([], ["(document): must be a JSON object with a tandem_form key"]),
    ({"sections": []}, ['tandem_form: missing: a Tandem form document starts with '
                        '"tandem_form": 1']),
    ({"tandem_form": 2, "sections": []}, ["tandem_form: this Tandem reads format 1, not 2"]),
    ({"tandem_form": 1, "sections": {}}, ["sections: must be a list of sections"]),
    ({"tandem_form": 1, "sections": [{"title": ""}]}, ["sections[0].title: enter a title"]),
    (small_doc(type="dropdown"), ["sections[0].fields[0].type: one of short_text, long_text, "
                                  "integer, decimal, single_choice, multi_choice, yes_no, "
                                  "date, country, table"]),
    (small_doc(label=""), ["sections[0].fields[0].label: enter a label"]),
    (small_doc(lable="x"), ["sections[0].fields[0].lable: unknown property"]),
    (small_doc(required="yes"), ["sections[0].fields[0].required: must be true or false"]),
    (small_doc(unit="mg"), ["sections[0].fields[0].unit: does not apply to a short_text "
                            "field"]),
    (small_doc(key="Bad Key"), ["sections[0].fields[0].key: a key is 1 to 40 lower-case "
                                "letters, digits, _ or -, starting with a letter or digit"]),
    (small_doc(type="single_choice"), ["sections[0].fields[0].choices: a choice field needs a "
                                       "list of at least one choice"]),
    (small_doc(type="single_choice", choices=["A", {"label": ""}]),
     ["sections[0].fields[0].choices[1].label: enter a label"]),
    (small_doc(type="single_choice", choices=[{"key": "a", "label": "A"},
                                              {"key": "a", "label": "B"}]),
     ["sections[0].fields[0].choices[1].key: 'a' is used twice"]),
    (small_doc(type="multi_choice", choices=[{"key": "__other__", "label": "Other"}]),
     ["sections[0].fields[0].choices[0].key: '__other__' is reserved for “other, specify”"]),
    (small_doc(type="single_choice", choices=["A"], display="tiles"),
     ["sections[0].fields[0].display: one of radio, list"]),
    (small_doc(type="table"), ["sections[0].fields[0].columns: a table needs a list of at "
                               "least one column"]),
    (small_doc(type="table", columns=[{"label": "Inner", "type": "table",
                                       "columns": [{"label": "x", "type": "short_text"}]}]),
     ["sections[0].fields[0].columns[0].type: one of short_text, long_text, integer, decimal, "
      "single_choice, multi_choice, yes_no, date, country (a table's columns cannot be "
      "tables)"]),
])
def test_invalid_documents_are_refused_naming_the_path(doc, expected):
    assert errors_of(doc) == expected


def test_every_problem_is_listed_at_once():
    doc = {"tandem_form": 1, "sections": [
        {"title": "A", "fields": [{"key": "x", "label": "X", "type": "integer"},
                                  {"key": "x", "label": "", "type": "integer"}]}]}

    assert errors_of(doc) == ["sections[0].fields[1].label: enter a label",
                              "sections[0].fields[1].key: 'x' is used twice"]


def test_field_keys_are_unique_across_columns_too():
    doc = small_doc(key="design", type="table", columns=[{"key": "design", "label": "D",
                                                         "type": "short_text"}])

    assert errors_of(doc) == ["sections[0].fields[0].columns[0].key: 'design' is used twice"]


@pytest.mark.parametrize("text, expected", [
    ('{"tandem_form": 1, "sections": [}', "(file): not valid JSON at line 1, column 33: "
                                          "Expecting value"),
    (b"\xff\xfe", "(file): the file is not UTF-8 text"),
])
def test_unreadable_files_say_where(text, expected):
    with pytest.raises(schema.SchemaError) as info:
        schema.parse(text)

    assert info.value.errors == [expected]


def test_the_papers_form_is_a_valid_document():
    doc = schema.validate(PAPER_FORM)

    assert [s["key"] for s in doc["sections"]] == ["study", "trainees", "partnership",
                                                    "findings"]
    labels = [f["label"] for s in doc["sections"] for f in s["fields"]]
    assert labels == ["Paper type", "Study design", "Country", "Trainee discipline",
                      "Training level", "Knowledge users", "Partnership (IKT) activities",
                      "Barriers", "Facilitators", "Outcomes"]


@pytest.mark.django_db
def test_export_then_import_round_trips_the_whole_form_archived_parts_too(cast):
    forms_builder.load_template(cast.project, user=cast.lead)
    form = Form.objects.get(project=cast.project)
    design = Field.objects.get(form=form, key="study_design")
    forms_builder.update_field(design, user=cast.lead, spec=forms_builder.FieldSpec(
        label="Design of the study", type="single_choice", other_specify=True,
        choices=[{"key": c["key"], "label": c["label"]} for c in design.choices[1:]]))
    forms_builder.set_field_archived(Field.objects.get(form=form, key="outcomes"),
                                     archived=True, user=cast.lead)
    exported = schema.export_form(form)

    other = cast.project.__class__.objects.create(name="Other", slug="other",
                                                  created_by=cast.lead)
    forms_builder.import_form(other, schema.parse(schema.dumps(exported)), user=cast.lead)

    assert schema.export_form(Form.objects.get(project=other)) == exported
    assert exported["sections"][0]["fields"][1]["choices"][-1] == {
        "key": "participatory_action_research", "label": "Participatory action research",
        "archived": True}
    assert exported["sections"][3]["fields"][2]["archived"] is True


@pytest.mark.django_db
def test_manage_py_export_form_and_import_form(cast, tmp_path):
    forms_builder.load_template(cast.project, user=cast.lead)
    out = tmp_path / "form.json"

    call_command("export_form", "ikt", "--out", str(out))
    doc = json.loads(out.read_text())
    doc["sections"][0]["title"] = "About the study"
    doc["sections"][0]["fields"].append({"label": "Sample size", "type": "integer"})
    out.write_text(json.dumps(doc))
    call_command("import_form", "ikt", str(out))

    section = Section.objects.get(form__project=cast.project, key="study")
    assert section.title == "About the study"
    assert list(section.fields.values_list("key", flat=True)) == [
        "paper_type", "study_design", "country", "sample_size"]


@pytest.mark.django_db
def test_import_form_command_names_the_path_of_a_problem(cast, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(small_doc(type="single_choice", choices=[""])))

    with pytest.raises(CommandError) as info:
        call_command("import_form", "ikt", str(bad))

    assert str(info.value) == ("The form was not imported:\n"
                               "sections[0].fields[0].choices[0].label: enter a label")
    assert not Form.objects.filter(project=cast.project, fields__isnull=False).exists()


@pytest.mark.django_db
def test_export_form_command_refuses_an_unknown_project(db):
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        call_command("export_form", "nope")
