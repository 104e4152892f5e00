"""Answer inputs: how each field type appears to a reviewer and how a posted form is read
back. The preview and the extraction screen both render `extraction/includes/field.html` with
these widgets, so the preview is exactly what a reviewer sees.

Input names, for a field with key K: `f-K` (the value; a multiple choice posts one `f-K` per
ticked box), `f-K-other`, `f-K-quote`, `f-K-page`; a repeating table posts `f-K-rows` (the
number of rows) and `f-K-<row>-<column key>` per cell, rows numbered from 0.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from .countries import COUNTRIES
from .models import Field
from .values import (
    OTHER,
    OTHER_LABEL,
    YES_NO,
    InvalidValue,
    active_choices,
    clean_other,
    clean_value,
    stale_keys,
    table_columns,
)

Type = Field.Type
COUNTRY_OPTIONS = [(code, name) for code, name, _a3, _others in COUNTRIES]
MAX_POSTED_ROWS = 500


@dataclass
class Option:
    key: str
    label: str
    checked: bool
    stale: bool = False  # an answer no longer on the form, offered only because it is chosen


@dataclass
class Widget:
    """One field's input as the template draws it. `value` is what the input shows (the
    typed text, even when invalid); `options` for the choice types, yes/no and country;
    `rows` for a table: one list of cell widgets per row."""

    field: Field
    name: str
    value: Any = ""
    other: str = ""
    quote: str = ""
    page: str = ""
    error: str = ""
    options: list[Option] = field(default_factory=list)
    rows: list[list["Widget"]] = field(default_factory=list)
    columns: list[Field] = field(default_factory=list)
    stale: bool = False

    @property
    def id(self) -> str:
        return "id-" + self.name

    @property
    def other_checked(self) -> bool:
        return any(o.key == OTHER and o.checked for o in self.options)


def name_of(fld: Field) -> str:
    return f"f-{fld.key}"


def _options(fld: Field, value: Any) -> list[Option]:
    chosen = set(value) if isinstance(value, list) else {value}
    if fld.type == Type.YES_NO:
        return [Option(k, label, k in chosen) for k, label in YES_NO.items()]
    if fld.type == Type.COUNTRY:
        return [Option(code, name, code in chosen) for code, name in COUNTRY_OPTIONS]
    options = [Option(c["key"], c["label"], c["key"] in chosen) for c in active_choices(fld)]
    if fld.other_specify:
        options.append(Option(OTHER, OTHER_LABEL, OTHER in chosen))
    labels = {c["key"]: c["label"] for c in fld.choices or []}
    for key in stale_keys(fld, [k for k in chosen if k not in (None, "")]):
        options.append(Option(key, labels.get(key, OTHER_LABEL if key == OTHER else key),
                              True, stale=True))
    return options


def widget(fld: Field, value: Any = None, *, other: str = "", quote: str = "", page: str = "",
           error: str = "", name: str | None = None, cell_errors: dict | None = None) -> Widget:
    """The widget of `fld` showing `value` (stored or as typed)."""
    name = name or name_of(fld)
    w = Widget(field=fld, name=name, other=other or "", quote=quote or "", page=page or "",
               error=error)
    if fld.type == Type.TABLE:
        w.columns = table_columns(fld)
        rows = value if isinstance(value, list) and value else [{}]
        for i, row in enumerate(rows):
            row = row if isinstance(row, dict) else {}
            w.rows.append([
                widget(col, row.get(col.key), name=f"{name}-{i}-{col.key}",
                       error=(cell_errors or {}).get((i + 1, col.key), ""))
                for col in w.columns])
        return w
    if fld.type in (Type.SINGLE_CHOICE, Type.MULTI_CHOICE, Type.YES_NO, Type.COUNTRY):
        w.options = _options(fld, value)
        w.stale = any(o.stale for o in w.options)
        w.value = value if value is not None else ""
    else:
        w.value = "" if value is None else value
    return w


def read_raw(fld: Field, data: QueryDict, name: str | None = None) -> Any:
    """What the inputs of `fld` posted, as clean_value takes it."""
    name = name or name_of(fld)
    if fld.type == Type.TABLE:
        try:
            count = min(int(data.get(f"{name}-rows", "0")), MAX_POSTED_ROWS)
        except ValueError:
            count = 0
        return [{col.key: read_raw(col, data, f"{name}-{i}-{col.key}")
                 for col in table_columns(fld)} for i in range(count)]
    if fld.type == Type.MULTI_CHOICE:
        return data.getlist(name)
    return data.get(name, "")


@dataclass
class Posted:
    """A posted answer: `value` clean (or None when it failed), `raw` as typed."""

    raw: Any
    value: Any = None
    other: str = ""
    quote: str = ""
    page: str = ""
    error: str = ""
    cell_errors: dict = field(default_factory=dict)


def read_answer(fld: Field, data: QueryDict) -> Posted:
    """Read and clean one field's answer from a POST; the error, if any, is at the field
    (for a table: also at the cell, by (row, column key))."""
    name = name_of(fld)
    posted = Posted(raw=read_raw(fld, data), quote=data.get(f"{name}-quote", "").strip(),
                    page=data.get(f"{name}-page", "").strip()[:40],
                    other=data.get(f"{name}-other", "").strip())
    try:
        posted.value = clean_value(fld, posted.raw)
        posted.other = clean_other(fld, posted.value, posted.other)
    except InvalidValue as exc:
        posted.error = exc.message
        if len(exc.path) == 3:
            posted.cell_errors[(exc.path[1], exc.path[2])] = exc.message
    return posted


def widget_for_posted(fld: Field, posted: Posted) -> Widget:
    return widget(fld, posted.raw, other=posted.other or "", quote=posted.quote,
                  page=posted.page, error=posted.error, cell_errors=posted.cell_errors)


def live_outline(form) -> list[tuple[Any, list[Field]]]:
    """The form as a reviewer fills it: live sections in order, each with its live fields
    (tables with their columns prefetched). Three queries."""
    from django.db.models import Prefetch

    columns = Prefetch("columns", queryset=Field.objects.order_by("position", "id"))
    fields = list(Field.objects.filter(form=form, parent=None, archived=False)
                  .prefetch_related(columns).order_by("position", "id"))
    outline = []
    for section in form.sections.filter(archived=False).order_by("position", "id"):
        outline.append((section, [f for f in fields if f.section_id == section.pk]))
    return outline
