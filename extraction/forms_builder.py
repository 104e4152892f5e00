"""Form edits: the lead adds, edits, reorders, archives and restores sections, fields, table
columns and choices, imports a form document or loads the paper's form.

Every edit is one function that owns its transaction: it locks the Form row first (so two
leads editing at once take turns and versions never skip or repeat), makes its change, then
`_saved` snapshots the form. When extractions were made on the current version, the snapshot
is a new FormVersion, so each extraction keeps the definition it was made on; otherwise the
current version's snapshot is brought up to date. Every edit writes an audit event.

Nothing here deletes: a removed section, field, column or choice is archived with its
answers and can be restored; a renamed or moved field keeps its answers (they point at the
row); a type change converts every answer it can and is refused, with the reason, when one
would not fit.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from projects import audit
from projects.models import Project

from . import schema
from .models import Answer, Extraction, Field, Form, FormVersion, Section
from .values import (
    CHOICE_TYPES,
    OTHER,
    SIMPLE_TYPES,
    YES_NO,
    InvalidValue,
    clean_value,
    display_value,
    is_empty,
)

Type = Field.Type


class BuilderError(Exception):
    """An edit the builder refuses; the message is for the lead."""


# -------------------------------------------------------------------------------------------
# The form and its versions


def get_form(project: Project) -> Form | None:
    return Form.objects.filter(project=project).first()


def ensure_form(project: Project, *, user=None) -> Form:
    """The project's form, created empty at version 1 the first time. Idempotent: a second
    caller racing the first gets the same row."""
    form = get_form(project)
    if form is not None:
        return form
    with transaction.atomic():
        form, created = Form.objects.get_or_create(project=project)
        if created:
            FormVersion.objects.create(form=form, number=1, definition=schema.export_form(form),
                                       created_by=user if user and user.is_authenticated
                                       else None)
            audit.record(project=project, actor=user, action="extraction.form_created",
                         target=form, after={"version": 1})
    return form


def current_version(form: Form) -> FormVersion:
    """The FormVersion an extraction starts on now."""
    return FormVersion.objects.get(form=form, number=form.version)


def has_data(version: FormVersion) -> bool:
    return Extraction.objects.filter(version=version).exists()


def _lock(form: Form) -> Form:
    return Form.objects.select_for_update().get(pk=form.pk)


def _saved(form: Form, *, user, action: str, target, before: dict | None,
           after: dict | None) -> FormVersion:
    """Snapshot the (locked) form after a change and record the change. A new version when
    extractions were made on the current one, else the current one is updated."""
    definition = schema.export_form(form)
    current = FormVersion.objects.filter(form=form, number=form.version).first()
    actor = user if user is not None and user.is_authenticated else None
    if current is None:
        current = FormVersion.objects.create(form=form, number=form.version,
                                             definition=definition, created_by=actor)
    elif current.definition == definition:
        return current  # nothing changed (a move at the edge, the same words): no event
    elif has_data(current):
        form.version += 1
        current = FormVersion.objects.create(form=form, number=form.version,
                                             definition=definition, created_by=actor)
    else:
        current.definition = definition
        current.created_by = actor
        current.created_at = timezone.now()
        current.save(update_fields=["definition", "created_by", "created_at"])
    form.updated_at = timezone.now()
    form.save(update_fields=["version", "updated_at"])
    audit.record(project=form.project, actor=user, action=action, target=target,
                 before=before, after={**(after or {}), "version": form.version})
    return current


# -------------------------------------------------------------------------------------------
# Sections


def _section_state(section: Section) -> dict:
    return {"key": section.key, "title": section.title, "position": section.position,
            "archived": section.archived}


def add_section(form: Form, *, title: str, user) -> Section:
    title = _required_text(title, "a section title", schema.TITLE_MAX)
    with transaction.atomic():
        form = _lock(form)
        taken = set(form.sections.values_list("key", flat=True))
        position = (form.sections.aggregate(m=Max("position"))["m"] or 0) + 1
        section = Section.objects.create(form=form, key=schema.make_key(title, taken, "section"),
                                         title=title, position=position)
        _saved(form, user=user, action="extraction.section_added", target=section,
               before=None, after=_section_state(section))
    return section


def rename_section(section: Section, *, title: str, user) -> Section:
    title = _required_text(title, "a section title", schema.TITLE_MAX)
    with transaction.atomic():
        form = _lock(section.form)
        section = Section.objects.get(pk=section.pk)
        before = _section_state(section)
        section.title = title
        section.save(update_fields=["title"])
        _saved(form, user=user, action="extraction.section_changed", target=section,
               before=before, after=_section_state(section))
    return section


def set_section_archived(section: Section, *, archived: bool, user) -> Section:
    """Archive (remove from the form, answers kept) or restore a section with its fields."""
    with transaction.atomic():
        form = _lock(section.form)
        section = Section.objects.get(pk=section.pk)
        before = _section_state(section)
        section.archived = archived
        if not archived:  # back at the end of the form
            section.position = (form.sections.aggregate(m=Max("position"))["m"] or 0) + 1
        section.save(update_fields=["archived", "position"])
        _saved(form, user=user, action="extraction.section_" + ("archived" if archived
                                                                 else "restored"),
               target=section, before=before, after=_section_state(section))
    return section


def move_section(section: Section, *, offset: int, user) -> Section:
    """Move a section up (-1) or down (+1) among the live sections."""
    with transaction.atomic():
        form = _lock(section.form)
        live = list(form.sections.filter(archived=False).order_by("position", "id"))
        _reorder(live, _moved([s.pk for s in live], section.pk, offset))
        section.refresh_from_db()
        _saved(form, user=user, action="extraction.section_moved", target=section,
               before=None, after=_section_state(section))
    return section


def reorder_sections(form: Form, *, order: list[int], user) -> None:
    """Put the live sections in `order` (their ids: drag and drop posts the whole list)."""
    with transaction.atomic():
        form = _lock(form)
        live = list(form.sections.filter(archived=False).order_by("position", "id"))
        _check_same([s.pk for s in live], order, "sections")
        _reorder(live, order)
        _saved(form, user=user, action="extraction.sections_reordered", target=form,
               before=None, after={"order": [s.key for s in sorted(live, key=lambda s:
                                                                   order.index(s.pk))]})


# -------------------------------------------------------------------------------------------
# Fields and table columns


@dataclass
class FieldSpec:
    """What the lead sets on a field. `choices` is the whole list in order, each
    {"key", "label", "archived"} (a new choice has no key yet)."""

    label: str
    type: str
    help_text: str = ""
    required: bool = False
    unit: str = ""
    display: str = Field.Display.RADIO
    other_specify: bool = False
    choices: list[dict] | None = None


def _field_state(field: Field) -> dict:
    state = {"key": field.key, "label": field.label, "type": field.type,
             "required": field.required, "archived": field.archived,
             "section": field.section.key if field.section_id else None,
             "table": field.parent.key if field.parent_id else None,
             "position": field.position}
    if field.help_text:
        state["help_text"] = field.help_text
    if field.type == Type.DECIMAL:
        state["unit"] = field.unit
    if field.type in CHOICE_TYPES:
        state["choices"] = field.choices
        state["other_specify"] = field.other_specify
    if field.type == Type.SINGLE_CHOICE:
        state["display"] = field.display
    return state


def _check_spec(spec: FieldSpec, *, column: bool) -> None:
    spec.label = _required_text(spec.label, "a label", schema.LABEL_MAX)
    allowed = SIMPLE_TYPES if column else tuple(Type)
    if spec.type not in allowed:
        raise BuilderError("A table's columns are of the simple types: a table cannot hold "
                           "a table." if spec.type == Type.TABLE and column
                           else f"Choose a field type (not {spec.type!r}).")
    if spec.display not in Field.Display.values:
        raise BuilderError("Choose radio buttons or a drop-down list.")
    if len(spec.unit or "") > schema.UNIT_MAX:
        raise BuilderError(f"A unit has at most {schema.UNIT_MAX} characters.")
    if column and spec.other_specify:
        raise BuilderError("A table's columns cannot have an “other, specify” text.")


def _merge_choices(old: list[dict], new: list[dict] | None) -> list[dict]:
    """The field's choices after an edit: the new list in order, keys kept, keys made for
    new labels; a choice left out of the new list is archived (its answers are kept)."""
    if new is None:
        return old
    taken = {c["key"] for c in old}
    out, seen = [], set()
    for choice in new:
        label = (choice.get("label") or "").strip()
        key = choice.get("key")
        if not label:
            if key:
                raise BuilderError("A choice needs a label: to remove it, archive it.")
            continue
        if len(label) > schema.LABEL_MAX:
            raise BuilderError(f"A choice label has at most {schema.LABEL_MAX} characters.")
        if not key:
            key = schema.make_key(label, taken, "choice")
            taken.add(key)
        if key in seen:
            continue
        seen.add(key)
        out.append({"key": key, "label": label, "archived": bool(choice.get("archived"))})
    for choice in old:
        if choice["key"] not in seen:
            out.append({**choice, "archived": True})
    live_labels = [c["label"].casefold() for c in out if not c["archived"]]
    if len(live_labels) != len(set(live_labels)):
        raise BuilderError("Two choices have the same label.")
    return out


def add_field(section: Section | None = None, *, spec: FieldSpec, user,
              table: Field | None = None) -> Field:
    """A new field at the end of `section`, or a new column at the end of `table`."""
    column = table is not None
    _check_spec(spec, column=column)
    if column and table.type != Type.TABLE:
        raise BuilderError("Columns belong to repeating tables.")
    form_id = table.form_id if column else section.form_id
    with transaction.atomic():
        form = _lock(Form.objects.get(pk=form_id))
        siblings = (Field.objects.filter(parent=table) if column
                    else Field.objects.filter(section=section, parent=None))
        position = (siblings.aggregate(m=Max("position"))["m"] or 0) + 1
        taken = set(form.fields.values_list("key", flat=True))
        field = Field(form=form, section=None if column else section, parent=table,
                      key=schema.make_key(spec.label, taken), position=position)
        _apply_spec(field, spec)
        if field.type in CHOICE_TYPES and not [c for c in field.choices if not c["archived"]]:
            raise BuilderError("A choice field needs at least one choice.")
        field.save()
        _saved(form, user=user, action="extraction.column_added" if column
               else "extraction.field_added", target=field, before=None,
               after=_field_state(field))
    return field


def _apply_spec(field: Field, spec: FieldSpec) -> None:
    field.label = spec.label
    field.help_text = (spec.help_text or "").strip()
    field.required = bool(spec.required)
    field.unit = (spec.unit or "").strip()
    field.display = spec.display or Field.Display.RADIO
    field.other_specify = bool(spec.other_specify)
    field.choices = _merge_choices(list(field.choices or []), spec.choices)
    field.type = spec.type


def update_field(field: Field, *, spec: FieldSpec, user) -> tuple[Field, int]:
    """Save the lead's edit of a field or column; answers how many answers a type change
    converted. A type change is refused (BuilderError, nothing saved) when an answer would
    not fit the new type; a table becomes no other type, nor the other way, once it has
    answers."""
    with transaction.atomic():
        form = _lock(field.form)
        field = Field.objects.select_related("section", "parent").get(pk=field.pk)
        _check_spec(spec, column=field.parent_id is not None)
        before = _field_state(field)
        old = Field(**{f.attname: getattr(field, f.attname) for f in Field._meta.concrete_fields})
        _apply_spec(field, spec)
        if field.type in CHOICE_TYPES and not [c for c in field.choices if not c["archived"]]:
            raise BuilderError("A choice field needs at least one choice.")
        converted = 0
        if old.type != field.type:
            converted = _convert_answers(old, field)
        field.save()
        after = _field_state(field)
        if converted:
            after["answers_converted"] = converted
        _saved(form, user=user, action="extraction.field_changed", target=field,
               before=before, after=after)
    return field, converted


def set_field_archived(field: Field, *, archived: bool, user) -> Field:
    """Archive (off the form, answers kept and shown as archived) or restore a field or
    column. A restored field goes back at the end of its section or table."""
    with transaction.atomic():
        form = _lock(field.form)
        field = Field.objects.select_related("section", "parent").get(pk=field.pk)
        before = _field_state(field)
        field.archived = archived
        if not archived:
            siblings = (Field.objects.filter(parent_id=field.parent_id) if field.parent_id
                        else Field.objects.filter(section_id=field.section_id, parent=None))
            field.position = (siblings.aggregate(m=Max("position"))["m"] or 0) + 1
        field.save(update_fields=["archived", "position"])
        _saved(form, user=user, action="extraction.field_" + ("archived" if archived
                                                             else "restored"),
               target=field, before=before, after=_field_state(field))
    return field


def _live_siblings(field: Field) -> list[Field]:
    siblings = (Field.objects.filter(parent_id=field.parent_id) if field.parent_id
                else Field.objects.filter(section_id=field.section_id, parent=None))
    return list(siblings.filter(archived=False).order_by("position", "id"))


def move_field(field: Field, *, offset: int, user) -> Field:
    """Move a field (or column) up (-1) or down (+1) within its section (or table)."""
    with transaction.atomic():
        form = _lock(field.form)
        field = Field.objects.select_related("section", "parent").get(pk=field.pk)
        live = _live_siblings(field)
        _reorder(live, _moved([f.pk for f in live], field.pk, offset))
        field.refresh_from_db()
        _saved(form, user=user, action="extraction.field_moved", target=field,
               before=None, after=_field_state(field))
    return field


def move_field_to_section(field: Field, *, section: Section, user) -> Field:
    """Put a field at the end of another section; its answers stay with it."""
    if field.parent_id is not None:
        raise BuilderError("A column stays in its table.")
    if section.form_id != field.form_id:
        raise BuilderError("That section is on another form.")
    with transaction.atomic():
        form = _lock(field.form)
        field = Field.objects.select_related("section", "parent").get(pk=field.pk)
        before = _field_state(field)
        field.section = section
        field.position = (Field.objects.filter(section=section, parent=None)
                          .aggregate(m=Max("position"))["m"] or 0) + 1
        field.save(update_fields=["section", "position"])
        _saved(form, user=user, action="extraction.field_moved", target=field,
               before=before, after=_field_state(field))
    return field


def reorder_fields(form: Form, *, order: list[int], user, section: Section | None = None,
                   table: Field | None = None) -> None:
    """Put the live fields of `section` (or columns of `table`) in `order` (their ids)."""
    with transaction.atomic():
        form = _lock(form)
        siblings = (Field.objects.filter(parent=table) if table is not None
                    else Field.objects.filter(section=section, parent=None))
        live = list(siblings.filter(archived=False).order_by("position", "id"))
        _check_same([f.pk for f in live], order, "fields")
        _reorder(live, order)
        owner = table if table is not None else section
        _saved(form, user=user, action="extraction.fields_reordered", target=owner,
               before=None, after={"order": [f.key for f in sorted(live, key=lambda f:
                                                                   order.index(f.pk))]})


def move_choice(field: Field, *, key: str, offset: int, user) -> Field:
    """Move a live choice up (-1) or down (+1); archived choices stay after the live ones."""
    with transaction.atomic():
        form = _lock(field.form)
        field = Field.objects.select_related("section", "parent").get(pk=field.pk)
        live = [c for c in field.choices if not c.get("archived")]
        keys = _moved([c["key"] for c in live], key, offset)
        by_key = {c["key"]: c for c in field.choices}
        before = _field_state(field)
        field.choices = ([by_key[k] for k in keys]
                         + [c for c in field.choices if c.get("archived")])
        field.save(update_fields=["choices"])
        _saved(form, user=user, action="extraction.field_changed", target=field,
               before=before, after=_field_state(field))
    return field


# -------------------------------------------------------------------------------------------
# Type changes


class _CannotConvert(Exception):
    pass


def convert_value(old: Field, new: Field, value: Any, other: str = "") -> tuple[Any, str]:
    """`value` (and its "other" text) of field `old` as the new type of `new`; raises
    _CannotConvert when it does not fit. Choices move by key between the choice types and by
    label to and from text."""
    if is_empty(old, value):
        return None, ""
    a, b = old.type, new.type
    if Type.TABLE in (a, b):
        raise _CannotConvert("a table's rows fit no other type")
    if a == Type.SINGLE_CHOICE and b == Type.MULTI_CHOICE:
        return [value], other
    if a == Type.MULTI_CHOICE and b == Type.SINGLE_CHOICE:
        if len(value) != 1:
            raise _CannotConvert(f"it has {len(value)} choices")
        return value[0], other
    if a == Type.DECIMAL and b == Type.INTEGER:
        number = Decimal(value)
        if number != number.to_integral_value():
            raise _CannotConvert("it is not a whole number")
        return str(int(number)), ""
    if a in (Type.INTEGER, Type.DECIMAL):
        text = str(value)  # the digits, without the unit
    elif a == Type.YES_NO:
        text = YES_NO.get(value, str(value))
    else:
        text = display_value(old, value, other)
    if b in CHOICE_TYPES:
        by_label = {c["label"].casefold(): c["key"] for c in new.choices or []}
        by_label.update({c["key"].casefold(): c["key"] for c in new.choices or []})
        keys, rest = [], []
        for part in [text]:
            key = by_label.get(part.strip().casefold())
            if key:
                keys.append(key)
            else:
                rest.append(part.strip())
        if rest:
            if not new.other_specify or (b == Type.SINGLE_CHOICE and keys):
                raise _CannotConvert("no choice has that label")
            keys.append(OTHER)
            other = "; ".join(rest)
        else:
            other = ""
        return (keys[0] if b == Type.SINGLE_CHOICE else keys), other
    try:
        return clean_value(new, text), ""
    except InvalidValue as exc:
        raise _CannotConvert(exc.message.rstrip(".").lower()) from None


def _convert_answers(old: Field, new: Field) -> int:
    """Convert every answer of `old` (in every extraction, every round, consensus too) to
    the new type, or raise BuilderError naming one that does not fit. A column's values
    live in its table's rows."""
    type_label = Type(new.type).label.lower()
    if old.parent_id is not None:
        answers = list(Answer.objects.select_for_update().filter(field_id=old.parent_id))
        changed, failures, example = [], 0, None
        for answer in answers:
            if not isinstance(answer.value, list):
                continue
            rows, touched = [], False
            for row in answer.value:
                row = dict(row)
                if old.key in row:
                    try:
                        value, _other = convert_value(old, new, row[old.key])
                    except _CannotConvert as exc:
                        failures += 1
                        example = example or (row[old.key], str(exc))
                        continue
                    if value is None:
                        row.pop(old.key)
                    else:
                        row[old.key] = value
                    touched = True
                rows.append(row)
            if touched:
                answer.value = rows
                changed.append(answer)
        if failures:
            raise _refusal(old, type_label, failures, example)
        Answer.objects.bulk_update(changed, ["value"])
        return len(changed)
    answers = [a for a in Answer.objects.select_for_update().filter(field=old)
               if not is_empty(old, a.value)]
    if answers and Type.TABLE in (old.type, new.type):
        raise BuilderError(f"“{old.label}” has {len(answers)} answer"
                           f"{'s' if len(answers) != 1 else ''}: a repeating table cannot "
                           f"become a {type_label} field, nor the other way. Add a new field "
                           "and archive this one instead.")
    failures, example = 0, None
    for answer in answers:
        try:
            answer.value, answer.other = convert_value(old, new, answer.value, answer.other)
        except _CannotConvert as exc:
            failures += 1
            example = example or (answer.value, str(exc))
    if failures:
        raise _refusal(old, type_label, failures, example)
    Answer.objects.bulk_update(answers, ["value", "other"])
    return len(answers)


def _refusal(old: Field, type_label: str, failures: int, example) -> BuilderError:
    shown = display_value(old, example[0]) if old.type != Type.TABLE else str(example[0])
    return BuilderError(
        f"“{old.label}” cannot become a {type_label} field: {failures} answer"
        f"{'s' if failures != 1 else ''} would not fit, e.g. “{shown}” ({example[1]}). "
        "Nothing was changed: update those answers first, or add a new field and archive "
        "this one.")


# -------------------------------------------------------------------------------------------
# A whole document: import and the paper's template


def import_form(project: Project, doc: dict, *, user, action: str = "extraction.form_imported"
                ) -> dict[str, int]:
    """Make the form match a validated document (schema.validate), matching by key: what
    has a key on the form is updated (renamed, moved, retyped by the rules of update_field),
    what is new is added, what the document leaves out is archived, never deleted. All or
    nothing: a refused type change refuses the whole import. Answers counts by kind."""
    form = ensure_form(project, user=user)
    counts = {"added": 0, "updated": 0, "archived": 0, "converted": 0}
    with transaction.atomic():
        form = _lock(form)
        before_version = form.version
        sections = {s.key: s for s in form.sections.all()}
        fields = {f.key: f for f in form.fields.all()}
        seen_sections, seen_fields = set(), set()
        form.name = doc["name"]
        form.save(update_fields=["name"])
        for i, sdoc in enumerate(doc["sections"]):
            section = sections.get(sdoc["key"]) or Section(form=form, key=sdoc["key"])
            counts["added" if section.pk is None else "updated"] += 1
            section.title, section.position, section.archived = (sdoc["title"], i,
                                                                  sdoc["archived"])
            section.save()
            seen_sections.add(section.key)
            for j, fdoc in enumerate(sdoc["fields"]):
                path = f"sections[{i}].fields[{j}]"
                field = _import_field(form, fdoc, fields, counts, path, section=section,
                                      position=j)
                seen_fields.add(field.key)
                for k, cdoc in enumerate(fdoc["columns"]):
                    column = _import_field(form, cdoc, fields, counts,
                                           f"{path}.columns[{k}]", table=field, position=k)
                    seen_fields.add(column.key)
        for key, section in sections.items():
            if key not in seen_sections and not section.archived:
                section.archived = True
                section.save(update_fields=["archived"])
                counts["archived"] += 1
        for key, field in fields.items():
            if key not in seen_fields and not field.archived:
                field.archived = True
                field.save(update_fields=["archived"])
                counts["archived"] += 1
        _saved(form, user=user, action=action, target=form,
               before={"version": before_version}, after=dict(counts))
    return counts


def _import_field(form: Form, fdoc: dict, fields: dict[str, Field], counts: dict, path: str,
                  *, position: int, section: Section | None = None,
                  table: Field | None = None) -> Field:
    field = fields.get(fdoc["key"])
    spec = FieldSpec(label=fdoc["label"], type=fdoc["type"], help_text=fdoc["help_text"],
                     required=fdoc["required"], unit=fdoc["unit"], display=fdoc["display"],
                     other_specify=fdoc["other_specify"], choices=fdoc["choices"])
    try:
        _check_spec(spec, column=table is not None)
        if field is None:
            field = Field(form=form, key=fdoc["key"])
            counts["added"] += 1
            _apply_spec(field, spec)
        else:
            if (field.parent_id is None) != (table is None):
                raise BuilderError("a section's field cannot become a table's column, nor "
                                   "the other way: give it a new key")
            counts["updated"] += 1
            old = Field(**{f.attname: getattr(field, f.attname)
                           for f in Field._meta.concrete_fields})
            _apply_spec(field, spec)
            if old.type != field.type:
                counts["converted"] += _convert_answers(old, field)
    except BuilderError as exc:
        raise BuilderError(f"{path}: {exc}") from None
    field.section, field.parent = section, table
    field.position, field.archived = position, fdoc["archived"]
    field.save()
    fields[field.key] = field
    return field


def load_template(project: Project, *, user) -> dict[str, int]:
    """Load the paper's extraction form (extraction/paper_form.py) into a form that has no
    live field yet. What the lead archived before stays archived beside it."""
    from .paper_form import PAPER_FORM

    form = ensure_form(project, user=user)
    if form.fields.filter(archived=False, section__archived=False).exists():
        raise BuilderError("The form already has fields: the paper's form loads into an empty "
                           "form only. Archive its sections first, or import a JSON document.")
    return import_form(project, schema.validate(PAPER_FORM), user=user,
                       action="extraction.template_loaded")


# -------------------------------------------------------------------------------------------
# Helpers


def _required_text(text: str, what: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise BuilderError(f"Enter {what}.")
    if len(text) > limit:
        raise BuilderError(f"Enter at most {limit} characters.")
    return text


def _moved(ids: list, item, offset: int) -> list:
    if item not in ids:
        raise BuilderError("Only what is on the form can move: restore it first.")
    i = ids.index(item)
    j = max(0, min(len(ids) - 1, i + offset))
    ids = list(ids)
    ids.insert(j, ids.pop(i))
    return ids


def _check_same(current: list[int], order: list[int], what: str) -> None:
    if sorted(current) != sorted(order) or len(set(order)) != len(order):
        raise BuilderError(f"The form changed meanwhile: reload the page and move the {what} "
                           "again.")


def _reorder(rows: list, order: list) -> None:
    """Give `rows` (sections or fields) positions 1.. in `order` (their ids)."""
    by_id = {row.pk: row for row in rows}
    changed = []
    for position, pk in enumerate(order, start=1):
        row = by_id[pk]
        if row.position != position:
            row.position = position
            changed.append(row)
    if changed:
        type(rows[0]).objects.bulk_update(changed, ["position"])


def older_version_extractions(form: Form) -> list[Extraction]:
    """Extractions made on a version older than the form's current one, for the lead to see
    (and have updated): study, reviewer, round and version, by study."""
    return list(Extraction.objects.filter(version__form=form, version__number__lt=form.version)
                .select_related("version", "reviewer", "study")
                .order_by("study_id", "role", "id"))
