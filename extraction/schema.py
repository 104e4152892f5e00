"""The extraction form as one JSON document: what `export_form` writes, `import_form` reads,
a FormVersion stores, and the README documents.

    {"tandem_form": 1,
     "name": "Data extraction form",
     "sections": [
       {"key": "study", "title": "Study characteristics", "archived": false,
        "fields": [
          {"key": "paper_type", "label": "Paper type", "type": "single_choice",
           "help_text": "", "required": true, "archived": false,
           "display": "radio", "other_specify": true,
           "choices": [{"key": "thesis", "label": "Thesis", "archived": false}]},
          {"key": "knowledge_users", "label": "Knowledge users", "type": "table",
           "columns": [{"key": "ku_type", "label": "Type", "type": "short_text"}]}]}]}

`tandem_form` is the document format's version (1). Keys are stable names that answers hang
on: optional on import (made from the label), kept by export, unique in a form (fields and
columns together; sections among sections; choices within their field). `unit` belongs to
decimal fields, `display` to single choice, `choices` and `other_specify` to the choice
types, `columns` (fields of the simple types) to a table. Archived sections, fields and
choices are kept with `"archived": true`, so a form travels whole.

`parse(text)` and `validate(doc)` raise `SchemaError` listing every problem, each named by its
path in the document, e.g. `sections[0].fields[2].choices[1].label: enter a label`.
"""

import json
import re
from typing import Any

from django.utils.text import slugify

from .models import Field, Form
from .values import OTHER, SIMPLE_TYPES

FORMAT = 1
TYPES = [t.value for t in Field.Type]
DISPLAYS = [d.value for d in Field.Display]
KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
LABEL_MAX = 300
TITLE_MAX = 200
UNIT_MAX = 40
NAME_MAX = 200

_SECTION_KEYS = {"key", "title", "archived", "fields"}
_FIELD_KEYS = {"key", "label", "type", "help_text", "required", "archived", "unit", "display",
               "choices", "other_specify", "columns"}
_CHOICE_KEYS = {"key", "label", "archived"}


class SchemaError(Exception):
    """A form document that cannot be read; `errors` are "path: message" lines."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def make_key(label: str, taken: set[str], fallback: str = "field") -> str:
    """A key for `label` that is not in `taken`: "Trainee discipline" -> "trainee_discipline",
    then "trainee_discipline_2", ... (at most 40 characters)."""
    base = slugify(label).replace("-", "_")[:34].strip("_") or fallback
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


# -------------------------------------------------------------------------------------------
# Export


def _field_doc(field: Field, columns: list[Field]) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": field.key, "label": field.label, "type": field.type,
                           "help_text": field.help_text, "required": field.required,
                           "archived": field.archived}
    if field.type == Field.Type.DECIMAL:
        doc["unit"] = field.unit
    if field.type == Field.Type.SINGLE_CHOICE:
        doc["display"] = field.display
    if field.type in (Field.Type.SINGLE_CHOICE, Field.Type.MULTI_CHOICE):
        doc["other_specify"] = field.other_specify
        doc["choices"] = [{"key": c["key"], "label": c["label"],
                           "archived": bool(c.get("archived"))} for c in field.choices or []]
    if field.type == Field.Type.TABLE:
        doc["columns"] = [_field_doc(c, []) for c in columns]
    return doc


def export_form(form: Form) -> dict[str, Any]:
    """The whole form, archived parts too, in form order: two queries."""
    fields = list(form.fields.order_by("position", "id"))
    columns: dict[int, list[Field]] = {}
    by_section: dict[int, list[Field]] = {}
    for field in fields:
        if field.parent_id is not None:
            columns.setdefault(field.parent_id, []).append(field)
        else:
            by_section.setdefault(field.section_id, []).append(field)
    return {
        "tandem_form": FORMAT,
        "name": form.name,
        "sections": [
            {"key": s.key, "title": s.title, "archived": s.archived,
             "fields": [_field_doc(f, columns.get(f.pk, [])) for f in by_section.get(s.pk, [])]}
            for s in form.sections.order_by("position", "id")
        ],
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -------------------------------------------------------------------------------------------
# Import


def parse(text: str | bytes) -> dict[str, Any]:
    """Read a form document from JSON text; raises SchemaError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SchemaError(["(file): the file is not UTF-8 text"]) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError([f"(file): not valid JSON at line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}"]) from None
    return validate(doc)


class _Checker:
    def __init__(self):
        self.errors: list[str] = []
        self.field_keys: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def text(self, obj: dict, name: str, path: str, *, required: bool, limit: int) -> str:
        value = obj.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(f"{path}.{name}", "must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.error(f"{path}.{name}", "enter a " + ("title" if name == "title" else name))
        if len(value) > limit:
            self.error(f"{path}.{name}", f"at most {limit} characters (this has {len(value)})")
        return value

    def flag(self, obj: dict, name: str, path: str) -> bool:
        value = obj.get(name, False)
        if not isinstance(value, bool):
            self.error(f"{path}.{name}", "must be true or false")
            return False
        return value

    def unknown(self, obj: dict, allowed: set[str], path: str) -> None:
        for name in sorted(set(obj) - allowed):
            self.error(f"{path}.{name}", "unknown property")

    def key(self, obj: dict, path: str, taken: set[str], label: str, fallback: str) -> str:
        key = obj.get("key")
        if key in (None, ""):
            return make_key(label, taken, fallback)
        if not isinstance(key, str) or not KEY.fullmatch(key):
            self.error(f"{path}.key", "a key is 1 to 40 lower-case letters, digits, _ or -, "
                                      "starting with a letter or digit")
            return make_key(label, taken, fallback)
        if key in taken:
            self.error(f"{path}.key", f"{key!r} is used twice")
        return key

    def field(self, obj: Any, path: str, *, column: bool) -> dict | None:
        if not isinstance(obj, dict):
            self.error(path, "must be an object")
            return None
        self.unknown(obj, _FIELD_KEYS, path)
        label = self.text(obj, "label", path, required=True, limit=LABEL_MAX)
        key = self.key(obj, path, self.field_keys, label, "field")
        self.field_keys.add(key)
        kind = obj.get("type")
        allowed = SIMPLE_TYPES if column else TYPES
        if kind not in allowed:
            self.error(f"{path}.type", f"one of {', '.join(allowed)}"
                       + (" (a table's columns cannot be tables)" if kind == "table" else ""))
            kind = None
        doc = {"key": key, "label": label, "type": kind,
               "help_text": self.text(obj, "help_text", path, required=False, limit=5000),
               "required": self.flag(obj, "required", path),
               "archived": self.flag(obj, "archived", path),
               "unit": "", "display": Field.Display.RADIO, "choices": [],
               "other_specify": False, "columns": []}
        if kind is None:  # its other parts cannot be judged
            doc["type"] = "short_text"
        else:
            self._type_parts(obj, path, doc, column=column)
        return doc

    def _type_parts(self, obj: dict, path: str, doc: dict, *, column: bool) -> None:
        kind = doc["type"]
        present = {name for name in ("unit", "display", "choices", "other_specify", "columns")
                   if name in obj}
        belongs = {"decimal": {"unit"}, "single_choice": {"display", "choices", "other_specify"},
                   "multi_choice": {"choices", "other_specify"}, "table": {"columns"}}
        for name in sorted(present - belongs.get(kind, set())):
            self.error(f"{path}.{name}", f"does not apply to a {kind} field")
        if "unit" in present and kind == "decimal":
            doc["unit"] = self.text(obj, "unit", path, required=False, limit=UNIT_MAX)
        if "display" in present and kind == "single_choice":
            if obj["display"] not in DISPLAYS:
                self.error(f"{path}.display", f"one of {', '.join(DISPLAYS)}")
            else:
                doc["display"] = obj["display"]
        if kind in ("single_choice", "multi_choice"):
            doc["other_specify"] = self.flag(obj, "other_specify", path)
            doc["choices"] = self._choices(obj.get("choices"), f"{path}.choices")
        if kind == "table":
            columns = obj.get("columns")
            if not isinstance(columns, list) or not columns:
                self.error(f"{path}.columns", "a table needs a list of at least one column")
                columns = []
            for i, col in enumerate(columns):
                col_doc = self.field(col, f"{path}.columns[{i}]", column=True)
                if col_doc is not None:
                    doc["columns"].append(col_doc)

    def _choices(self, choices: Any, path: str) -> list[dict]:
        if not isinstance(choices, list) or not choices:
            self.error(path, "a choice field needs a list of at least one choice")
            return []
        out, taken = [], set()
        for i, choice in enumerate(choices):
            here = f"{path}[{i}]"
            if isinstance(choice, str):  # a bare label is enough
                choice = {"label": choice}
            if not isinstance(choice, dict):
                self.error(here, "must be an object or a label")
                continue
            self.unknown(choice, _CHOICE_KEYS, here)
            label = self.text(choice, "label", here, required=True, limit=LABEL_MAX)
            if choice.get("key") == OTHER:
                self.error(f"{here}.key", f"{OTHER!r} is reserved for “other, specify”")
                continue
            key = self.key(choice, here, taken, label, "choice")
            taken.add(key)
            out.append({"key": key, "label": label, "archived": self.flag(choice, "archived",
                                                                            here)})
        return out


def validate(doc: Any) -> dict[str, Any]:
    """The document with defaults filled in and keys made for what has none; raises
    SchemaError naming the path of every problem."""
    check = _Checker()
    if not isinstance(doc, dict):
        raise SchemaError(["(document): must be a JSON object with a tandem_form key"])
    if "tandem_form" not in doc:
        check.error("tandem_form", "missing: a Tandem form document starts with "
                                   f'"tandem_form": {FORMAT}')
    elif doc["tandem_form"] != FORMAT:
        check.error("tandem_form", f"this Tandem reads format {FORMAT}, not "
                                   f"{doc['tandem_form']!r}")
    check.unknown(doc, {"tandem_form", "name", "sections"}, "(document)")
    name = check.text(doc, "name", "(document)", required=False, limit=NAME_MAX)
    sections = doc.get("sections")
    if not isinstance(sections, list):
        check.error("sections", "must be a list of sections")
        sections = []
    section_keys: set[str] = set()
    out = []
    for i, section in enumerate(sections):
        path = f"sections[{i}]"
        if not isinstance(section, dict):
            check.error(path, "must be an object")
            continue
        check.unknown(section, _SECTION_KEYS, path)
        title = check.text(section, "title", path, required=True, limit=TITLE_MAX)
        key = check.key(section, path, section_keys, title, "section")
        section_keys.add(key)
        fields = section.get("fields", [])
        if not isinstance(fields, list):
            check.error(f"{path}.fields", "must be a list of fields")
            fields = []
        field_docs = [check.field(f, f"{path}.fields[{j}]", column=False)
                      for j, f in enumerate(fields)]
        out.append({"key": key, "title": title, "archived": check.flag(section, "archived", path),
                    "fields": [f for f in field_docs if f is not None]})
    if check.errors:
        raise SchemaError(check.errors)
    return {"tandem_form": FORMAT, "name": name or "Data extraction form", "sections": out}
