"""Each field type's value rules: what is accepted, how it is stored, how it reads."""

import pytest

from extraction.models import Field
from extraction.values import (
    OTHER,
    InvalidValue,
    check_complete,
    clean_other,
    clean_value,
    display_value,
    is_empty,
    is_stale,
    stale_keys,
)
from tests.factories import FieldFactory

pytestmark = pytest.mark.django_db

CHOICES = [{"key": "thesis", "label": "Thesis"}, {"key": "web", "label": "Web-based source"},
           {"key": "old", "label": "Conference abstract", "archived": True}]


def field(type, **kwargs):
    return FieldFactory(type=type, label="The field", key="the_field", **kwargs)


def error_of(fld, raw):
    with pytest.raises(InvalidValue) as info:
        clean_value(fld, raw)
    return info.value


@pytest.mark.parametrize("type, raw, stored", [
    ("short_text", "  Peer mentoring  ", "Peer mentoring"),
    ("short_text", "", None),
    ("short_text", "   ", None),
    ("short_text", None, None),
    ("long_text", " line one\r\nline two \n", "line one\nline two"),
    ("integer", "42", "42"),
    ("integer", " +0042 ", "42"),
    ("integer", "-7", "-7"),
    ("integer", 12, "12"),
    ("integer", "123456789012345678901234567890", "123456789012345678901234567890"),
    ("decimal", "12.50", "12.50"),
    ("decimal", "007.5", "7.5"),
    ("decimal", ".5", "0.5"),
    ("decimal", "-0.0", "0.0"),
    ("decimal", "0.0000001", "0.0000001"),
    ("decimal", "3", "3"),
    ("yes_no", "Yes", "yes"),
    ("yes_no", "UNCLEAR", "unclear"),
    ("date", "2019-03-31", "2019-03-31"),
    ("country", "CA", "CA"),
    ("country", "ca", "CA"),
    ("country", "Canada", "CA"),
    ("country", "south korea", "KR"),
    ("country", "GBR", "GB"),
    ("country", "UK", "GB"),
])
def test_simple_types_store_their_canonical_form(type, raw, stored):
    assert clean_value(field(type), raw) == stored


@pytest.mark.parametrize("type, raw, message", [
    ("short_text", "two\nlines", "Enter one line only; use a long text field for more."),
    ("short_text", "x" * 1001, "Enter at most 1000 characters (this has 1001)."),
    ("integer", "4.5", "Enter a whole number, such as 42."),
    ("integer", "about 40", "Enter a whole number, such as 42."),
    ("integer", "1,000", "Enter a whole number, such as 42."),
    ("integer", "1" * 31, "Enter at most 30 digits."),
    ("integer", 4.0, "Enter the number as text, so no digit is lost to rounding."),
    ("decimal", "12,5", "Enter a number with a point for decimals, such as 12.5."),
    ("decimal", "1e5", "Enter a number with a point for decimals, such as 12.5."),
    ("decimal", "NaN", "Enter a number with a point for decimals, such as 12.5."),
    ("yes_no", "maybe", "Choose yes, no or unclear."),
    ("date", "31/03/2019", "Enter a date as YYYY-MM-DD, such as 2019-03-31."),
    ("date", "2019-02-30", "2019-02-30 is not a date in the calendar."),
    ("country", "Narnia", "Choose a country from the list (ISO 3166 name or code)."),
    ("short_text", ["a", "b"], "Give one value only."),
    ("short_text", {"a": 1}, "Enter text."),
])
def test_simple_types_refuse_with_a_message_at_the_field(type, raw, message):
    error = error_of(field(type), raw)

    assert error.message == message
    assert error.messages == [message]
    assert error.path == ("the_field",)


def test_single_choice_stores_the_key_and_refuses_unknown_keys():
    fld = field("single_choice", choices=CHOICES)

    assert clean_value(fld, "web") == "web"
    assert clean_value(fld, ["thesis"]) == "thesis"
    assert clean_value(fld, "old") == "old"  # an archived choice an answer already holds
    assert error_of(fld, "Web-based source").message == "Choose one of the options."
    assert error_of(fld, OTHER).message == "Choose one of the options."  # no "other" here


def test_multiple_choice_stores_keys_in_the_forms_order_without_repeats():
    fld = field("multi_choice", choices=CHOICES, other_specify=True)

    assert clean_value(fld, [OTHER, "web", "thesis", "web"]) == ["thesis", "web", OTHER]
    assert clean_value(fld, "web") == ["web"]
    assert clean_value(fld, []) is None
    assert clean_value(fld, ["", " "]) is None
    assert error_of(fld, ["web", "nope"]).message == "Choose any of the options."


def test_other_text_is_kept_only_while_other_is_chosen():
    fld = field("single_choice", choices=CHOICES, other_specify=True)

    assert clean_other(fld, OTHER, "  Blog post ") == "Blog post"
    assert clean_other(fld, "web", "Blog post") == ""
    assert clean_other(field("single_choice", choices=CHOICES), OTHER, "Blog") == ""


def table_field():
    table = field("table")
    FieldFactory(section=None, parent=table, key="ku_type", label="Type", type="short_text",
                 required=True, position=1)
    FieldFactory(section=None, parent=table, key="ku_n", label="Number", type="integer",
                 position=2)
    FieldFactory(section=None, parent=table, key="ku_stage", label="Stage",
                 type="multi_choice", choices=CHOICES, position=3)
    return table


def test_table_rows_are_cleaned_cell_by_cell_and_empty_rows_dropped():
    table = table_field()

    value = clean_value(table, [{"ku_type": " Nurses ", "ku_n": "012", "ku_stage": ["web"]},
                                {"ku_type": "", "ku_n": " ", "ku_stage": []},
                                {"ku_n": "3"}])

    assert value == [{"ku_type": "Nurses", "ku_n": "12", "ku_stage": ["web"]}, {"ku_n": "3"}]
    assert clean_value(table, [{"ku_type": ""}]) is None
    assert clean_value(table, []) is None


def test_a_table_error_names_the_row_and_the_column():
    error = error_of(table_field(), [{"ku_type": "Nurses"}, {"ku_type": "GPs", "ku_n": "many"}])

    assert error.message == "Row 2, Number: Enter a whole number, such as 42."
    assert error.path == ("the_field", 2, "ku_n")


def test_a_table_refuses_a_column_it_does_not_have():
    error = error_of(table_field(), [{"nope": "x"}])

    assert error.message == "Row 1: there is no column 'nope'."


def test_check_complete_refuses_required_empty_fields_and_columns_and_other_without_text():
    required = field("short_text", required=True)
    with pytest.raises(InvalidValue, match="This field is required."):
        check_complete(required, None)
    check_complete(required, "x")

    table = table_field()
    with pytest.raises(InvalidValue) as info:
        check_complete(table, [{"ku_type": "Nurses"}, {"ku_n": "3"}])
    assert info.value.message == "Row 2, Type: this column is required."

    choice = FieldFactory(type="single_choice", choices=CHOICES, other_specify=True,
                          key="design")
    with pytest.raises(InvalidValue, match="Say what the other answer is."):
        check_complete(choice, OTHER, "  ")
    check_complete(choice, OTHER, "Case study")


def test_is_empty_by_type():
    table = table_field()

    assert is_empty(field("short_text"), None)
    assert is_empty(field("multi_choice"), [])
    assert is_empty(table, [{"ku_type": ""}])
    assert not is_empty(table, [{"ku_type": "Nurses"}])
    assert not is_empty(field("integer"), "0")


def test_display_value_reads_like_the_form():
    assert display_value(field("single_choice", choices=CHOICES), "web") == "Web-based source"
    multi = field("multi_choice", choices=CHOICES, other_specify=True)
    assert display_value(multi, ["thesis", OTHER], "Blog") == "Thesis; Other: Blog"
    assert display_value(field("yes_no"), "unclear") == "Unclear"
    assert display_value(field("country"), "KR") == "Korea, Republic of"
    assert display_value(field("decimal", unit="years"), "12.5") == "12.5 years"
    assert display_value(field("date"), "2019-03-31") == "2019-03-31"
    assert display_value(field("short_text"), None) == ""
    table = table_field()
    assert display_value(table, [{"ku_n": "3", "ku_type": "Nurses"}, {"ku_stage": ["web"]}]) \
        == "Type: Nurses; Number: 3\nStage: Web-based source"


def test_an_answer_on_an_archived_choice_is_stale():
    fld = field("multi_choice", choices=CHOICES)

    assert stale_keys(fld, ["thesis", "old", "gone"]) == ["old", "gone"]
    assert is_stale(fld, "old")
    assert not is_stale(fld, ["thesis"])
    assert not is_stale(field("short_text"), "old")
    other_off = field("single_choice", choices=CHOICES, other_specify=False)
    assert is_stale(other_off, OTHER)


def test_stale_choices_inside_a_table_are_found():
    table = table_field()

    assert stale_keys(table, [{"ku_stage": ["web"]}, {"ku_stage": ["old"]}]) == ["old"]


def test_every_type_has_a_rule():
    for type in Field.Type:
        if type == Field.Type.TABLE:
            continue
        assert clean_value(field(type, choices=CHOICES), None) is None
