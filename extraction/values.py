"""The value rules of each field type: what an answer may be, how it is stored, how it reads.

Used by every screen that saves an answer (extracting, consensus, import) and every place that
shows one (consensus, the table, the exports), so a type's rules live in exactly one place.

Stored values (Answer.value), by type:
- short text, long text: the trimmed string (long text keeps its line breaks, as "\\n");
- whole number, decimal: a string of the number's digits ("-12", "0.50"): no float rounding,
  trailing zeros kept as typed;
- single choice: the choice key; multiple choice: a list of keys, in the form's order;
  `OTHER` stands for "other, specify" and the text is in Answer.other;
- yes / no / unclear: "yes", "no" or "unclear";
- date: "YYYY-MM-DD";
- country: the ISO 3166-1 alpha-2 code ("CA");
- repeating table: a list of rows, each {column key: value of the column's type}; empty rows
  are dropped.
An empty answer is None.

`clean_value(field, raw)` takes what a form posts (strings; a list for a multiple choice; a
list of row dicts for a table) or a stored value, and returns the stored value or raises
`InvalidValue` whose message is meant to be shown at the field. A table's message names the
row and the column. `field` is a `extraction.models.Field` (or anything with its attributes:
`type`, `key`, `label`, `choices`, `other_specify`, `unit`, `required`, `columns`).
"""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from .countries import COUNTRIES
from .models import Field

Type = Field.Type

# The key a choice answer stores for "other, specify". Choice keys made from labels never
# start or end with "_" (slugify strips them), and the schema refuses this one.
OTHER = "__other__"
OTHER_LABEL = "Other"

YES_NO = {"yes": "Yes", "no": "No", "unclear": "Unclear"}

SHORT_TEXT_MAX = 1000
LONG_TEXT_MAX = 50_000
NUMBER_MAX_DIGITS = 30
TABLE_MAX_ROWS = 500

CHOICE_TYPES = (Type.SINGLE_CHOICE, Type.MULTI_CHOICE)
SIMPLE_TYPES = tuple(t for t in Type if t != Type.TABLE)  # what a table's columns may be

COUNTRY_NAMES: dict[str, str] = {code: name for code, name, _alpha3, _others in COUNTRIES}
_COUNTRY_LOOKUP: dict[str, str] = {}
for _code, _name, _alpha3, _others in COUNTRIES:
    for _word in (_code, _alpha3, _name, *_others):
        _COUNTRY_LOOKUP.setdefault(_word.casefold(), _code)

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidValue(ValidationError):
    """A value a field cannot take. `message` is written for the person who typed it; `path`
    says where it is: the field's key, then for a table the row number (from 1) and the
    column key."""

    def __init__(self, message: str, *, path: tuple = ()):
        super().__init__(message, code="invalid")
        self.path = path

    def __str__(self) -> str:
        return self.message


def active_choices(field) -> list[dict]:
    """The choices on the form now, in order (archived ones keep their answers but are not
    offered)."""
    return [c for c in (field.choices or []) if not c.get("archived")]


def choice_labels(field) -> dict[str, str]:
    """Every choice key the field ever had, archived too, with its label."""
    labels = {c["key"]: c["label"] for c in (field.choices or [])}
    if field.other_specify:
        labels.setdefault(OTHER, OTHER_LABEL)
    return labels


def table_columns(field) -> list:
    """A table's columns on the form now, in order. Uses the prefetched `columns` when there
    are any, so a page that prefetches asks no query per field."""
    return sorted((c for c in field.columns.all() if not c.archived),
                  key=lambda c: (c.position, c.pk or 0))


def clean_value(field, raw: Any) -> Any:
    """The stored form of `raw` for `field`, or None when it is empty; raises InvalidValue.

    Checks the value's form only: a required field left empty is fine in a draft and is
    refused by `check_complete` when the extraction is marked complete.
    """
    if field.type == Type.TABLE:
        return _clean_table(field, raw)
    try:
        return _clean_simple(field, raw)
    except InvalidValue as exc:
        raise InvalidValue(exc.message, path=(field.key,)) from None


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal, float)):
        raise InvalidValue("Enter text.")
    return str(raw).replace("\r\n", "\n").replace("\r", "\n").strip()


def _clean_simple(field, raw: Any) -> Any:
    kind = field.type
    if kind == Type.MULTI_CHOICE:
        return _clean_multi(field, raw)
    if isinstance(raw, (list, tuple)):
        # A form may post one value as a one-item list.
        if len(raw) > 1:
            raise InvalidValue("Give one value only.")
        raw = raw[0] if raw else None
    if kind in (Type.INTEGER, Type.DECIMAL) and isinstance(raw, float):
        raise InvalidValue("Enter the number as text, so no digit is lost to rounding.")
    text = _text(raw) if not isinstance(raw, datetime.date) else raw.isoformat()
    if text == "":
        return None
    if kind == Type.SHORT_TEXT:
        if "\n" in text:
            raise InvalidValue("Enter one line only; use a long text field for more.")
        if len(text) > SHORT_TEXT_MAX:
            raise InvalidValue(f"Enter at most {SHORT_TEXT_MAX} characters "
                               f"(this has {len(text)}).")
        return text
    if kind == Type.LONG_TEXT:
        if len(text) > LONG_TEXT_MAX:
            raise InvalidValue(f"Enter at most {LONG_TEXT_MAX} characters "
                               f"(this has {len(text)}).")
        return text
    if kind == Type.INTEGER:
        if not _INTEGER.fullmatch(text):
            raise InvalidValue("Enter a whole number, such as 42.")
        if len(text.lstrip("+-")) > NUMBER_MAX_DIGITS:
            raise InvalidValue(f"Enter at most {NUMBER_MAX_DIGITS} digits.")
        return str(int(text))
    if kind == Type.DECIMAL:
        if not _DECIMAL.fullmatch(text):
            raise InvalidValue("Enter a number with a point for decimals, such as 12.5.")
        if sum(ch.isdigit() for ch in text) > NUMBER_MAX_DIGITS:
            raise InvalidValue(f"Enter at most {NUMBER_MAX_DIGITS} digits.")
        number = format(Decimal(text), "f")  # "007.50" -> "7.50", ".5" -> "0.5"
        if number.startswith("-") and not number.strip("-0."):
            number = number[1:]  # "-0.0" is "0.0"
        return number
    if kind == Type.SINGLE_CHOICE:
        labels = choice_labels(field)
        if text not in labels:
            raise InvalidValue("Choose one of the options.")
        return text
    if kind == Type.YES_NO:
        answer = text.casefold()
        if answer not in YES_NO:
            raise InvalidValue("Choose yes, no or unclear.")
        return answer
    if kind == Type.DATE:
        if not _DATE.fullmatch(text):
            raise InvalidValue("Enter a date as YYYY-MM-DD, such as 2019-03-31.")
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            raise InvalidValue(f"{text} is not a date in the calendar.") from None
        return text
    if kind == Type.COUNTRY:
        code = _COUNTRY_LOOKUP.get(text.casefold())
        if code is None:
            raise InvalidValue("Choose a country from the list (ISO 3166 name or code).")
        return code
    raise InvalidValue(f"Unknown field type {kind!r}.")


def _clean_multi(field, raw: Any) -> list[str] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(k, str) for k in raw):
        raise InvalidValue("Choose any of the options.")
    labels = choice_labels(field)
    keys = {k.strip() for k in raw if k.strip()}
    unknown = sorted(keys - labels.keys())
    if unknown:
        raise InvalidValue("Choose any of the options.")
    if not keys:
        return None
    return [k for k in labels if k in keys]  # the form's order, archived keys after


def _clean_table(field, raw: Any) -> list[dict] | None:
    if raw is None or raw == "" or raw == []:
        return None
    if not isinstance(raw, (list, tuple)) or not all(isinstance(r, dict) for r in raw):
        raise InvalidValue("A table's value is a list of rows.", path=(field.key,))
    if len(raw) > TABLE_MAX_ROWS:
        raise InvalidValue(f"Enter at most {TABLE_MAX_ROWS} rows.", path=(field.key,))
    columns = {c.key: c for c in field.columns.all()}  # archived columns keep their cells
    rows = []
    for number, row in enumerate(raw, start=1):
        unknown = sorted(set(row) - columns.keys())
        if unknown:
            raise InvalidValue(f"Row {number}: there is no column {unknown[0]!r}.",
                               path=(field.key, number, unknown[0]))
        cleaned = {}
        for key, cell in row.items():
            column = columns[key]
            try:
                value = _clean_simple(column, cell)
            except InvalidValue as exc:
                raise InvalidValue(f"Row {number}, {column.label}: {exc.message}",
                                   path=(field.key, number, key)) from None
            if value is not None:
                cleaned[key] = value
        if cleaned:
            rows.append(cleaned)
    return rows or None


def clean_other(field, value: Any, raw_other: Any) -> str:
    """The "other, specify" text to store beside `value`: the trimmed text when the value
    includes OTHER, else "" (so a stale text never outlives its choice)."""
    if field.type not in CHOICE_TYPES or not field.other_specify:
        return ""
    chosen = value == OTHER or (isinstance(value, list) and OTHER in value)
    if not chosen:
        return ""
    text = _text(raw_other)
    if len(text) > SHORT_TEXT_MAX:
        raise InvalidValue(f"Enter at most {SHORT_TEXT_MAX} characters.", path=(field.key,))
    return text


def is_empty(field, value: Any) -> bool:
    """True when `value` answers nothing: None, "", an empty list, a table with no filled
    cell."""
    if value is None or value == "" or value == []:
        return True
    if field.type == Type.TABLE and isinstance(value, list):
        return not any(any(v not in (None, "", []) for v in row.values())
                       for row in value if isinstance(row, dict))
    return False


def check_complete(field, value: Any, other: str = "") -> None:
    """Raise InvalidValue when a complete extraction may not hold `value`: a required field
    left empty, a required column left empty in a row, "other" chosen with no text."""
    if field.required and is_empty(field, value):
        raise InvalidValue("This field is required.", path=(field.key,))
    if field.type in CHOICE_TYPES and field.other_specify:
        chosen = value == OTHER or (isinstance(value, list) and OTHER in value)
        if chosen and not (other or "").strip():
            raise InvalidValue("Say what the other answer is.", path=(field.key,))
    if field.type == Type.TABLE and isinstance(value, list):
        for number, row in enumerate(value, start=1):
            for column in table_columns(field):
                if column.required and is_empty(column, row.get(column.key)):
                    raise InvalidValue(f"Row {number}, {column.label}: this column is "
                                       "required.", path=(field.key, number, column.key))


def stale_keys(field, value: Any) -> list[str]:
    """The choice keys in `value` that are no longer on the form (archived or gone): shown
    flagged, "answer no longer on the form", until someone updates the answer. For a table,
    the stale keys of any of its choice columns."""
    if field.type == Type.TABLE:
        if not isinstance(value, list):
            return []
        columns = {c.key: c for c in field.columns.all()}
        found = []
        for row in value:
            for key, cell in (row.items() if isinstance(row, dict) else ()):
                column = columns.get(key)
                if column is not None:
                    found += [k for k in stale_keys(column, cell) if k not in found]
        return found
    if field.type not in CHOICE_TYPES or value is None:
        return []
    live = {c["key"] for c in active_choices(field)}
    if field.other_specify:
        live.add(OTHER)
    keys = value if isinstance(value, list) else [value]
    return [k for k in keys if k not in live]


def is_stale(field, value: Any) -> bool:
    """True when the answer names a choice no longer on the form."""
    return bool(stale_keys(field, value))


def display_value(field, value: Any, other: str = "") -> str:
    """The answer as a person reads it: choices as labels, a country as its ISO name, a
    decimal with its unit, "other" with its text; a table as one line per row, "column:
    value" pairs joined by "; ". An empty answer is ""."""
    if is_empty(field, value):
        return ""
    kind = field.type
    if kind == Type.TABLE:
        columns = {c.key: c for c in field.columns.all()}
        order = {c.key: i for i, c in enumerate(sorted(columns.values(),
                                                       key=lambda c: (c.position, c.pk or 0)))}
        lines = []
        for row in value:
            cells = [f"{columns[k].label}: {display_value(columns[k], v)}"
                     for k, v in sorted(row.items(), key=lambda kv: order.get(kv[0], 10**6))
                     if k in columns and not is_empty(columns[k], v)]
            lines.append("; ".join(cells))
        return "\n".join(lines)
    if kind in CHOICE_TYPES:
        labels = choice_labels(field)
        keys = value if isinstance(value, list) else [value]
        words = []
        for key in keys:
            if key == OTHER:
                words.append(f"{OTHER_LABEL}: {other}" if other else OTHER_LABEL)
            else:
                words.append(labels.get(key, key))
        return "; ".join(words)
    if kind == Type.YES_NO:
        return YES_NO.get(value, str(value))
    if kind == Type.COUNTRY:
        return COUNTRY_NAMES.get(value, str(value))
    if kind == Type.DECIMAL and field.unit:
        return f"{value} {field.unit}"
    return str(value)

