"""A project's frameworks: the writes. Pick a catalogue framework (the project gets its own
copy), stop using one, add a custom framework, add, rename, retire and restore categories
(a retired category keeps its codes and stays in the charts, marked), McLeroy's subset of
levels, JSON export and import of a framework, theme rename and merge, and the coding
settings. Every write owns its transaction and records an audit event.

The JSON document of a framework (format 1):
    {"tandem_framework": 1, "name": str, "rule": "single"|"multiple"|"text"|"excerpt",
     "ordered": bool, "citation": str, "description": str, "source_key": str,
     "categories": [{"key": str, "name": str, "definition": str, "retired": bool,
                     "children": [... the same ...]}]}
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from projects import audit
from projects.models import Project

from .models import Category, CodingSettings, Excerpt, Framework, StudyCode, Theme

FORMAT = 1
NAME_MAX = 200
TEXT_MAX = 5_000
RULES = [value for value, _ in Framework.Rule.choices]


class FrameworkError(Exception):
    """A framework change was refused; the message says why, for the user. `errors` lists
    every problem of an imported document, each naming its path."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or [message]


# ---------------------------------------------------------------------------------------------
# Helpers


def _own(project: Project, framework: Framework) -> Framework:
    if framework.project_id != project.pk:
        raise FrameworkError("That framework is not one of this project's.")
    return framework


def _name(value: str, what: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise FrameworkError(f"Enter a {what}.")
    if len(value) > NAME_MAX:
        raise FrameworkError(f"The {what} has at most {NAME_MAX} characters.")
    return value


def _free_key(label: str, taken: set[str], fallback: str) -> str:
    base = slugify(label)[:50] or fallback
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def _next_position(framework: Framework, parent: Category | None) -> int:
    top = framework.categories.filter(parent=parent).aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


def _category_doc(category: Category) -> dict:
    return {"key": category.key, "name": category.name, "definition": category.definition,
            "retired": category.retired, "parent": category.parent.key
            if category.parent_id else None}


def _copy_categories(source: Framework, target: Framework, keys: set[str] | None) -> None:
    """Copies the source's categories (top level limited to `keys` when given; children
    follow their parent) into `target`, in order."""
    categories = list(source.categories.order_by("position", "id"))
    made: dict[int | None, Category | None] = {None: None}
    level = [c for c in categories if c.parent_id is None
             and (keys is None or c.key in keys)]
    while level:
        for category in level:
            made[category.pk] = Category.objects.create(
                framework=target, key=category.key, name=category.name,
                definition=category.definition, position=category.position,
                parent=made[category.parent_id], retired=category.retired)
        level = [c for c in categories if c.parent_id is not None and c.parent_id in made
                 and c.pk not in made]


def catalogue() -> list[Framework]:
    return list(Framework.objects.filter(project=None).order_by("position", "id"))


# ---------------------------------------------------------------------------------------------
# Picking and stopping


@transaction.atomic
def use_framework(project: Project, key: str, *, user,
                  category_keys: list[str] | None = None) -> Framework:
    """The project starts using the catalogue framework `key`: it gets its own copy (with
    only `category_keys` of its top-level categories when given, e.g. McLeroy's subset).
    A framework it stopped using comes back as it was, codes and changes included."""
    source = Framework.objects.filter(project=None, key=key).first()
    if source is None:
        raise FrameworkError(f"There is no framework {key!r} in the catalogue.")
    keys = None
    if category_keys is not None:
        keys = set(category_keys)
        known = set(source.categories.filter(parent=None).values_list("key", flat=True))
        if not keys:
            raise FrameworkError("Pick at least one category.")
        if keys - known:
            raise FrameworkError(f"{source.name} has no category {sorted(keys - known)[0]!r}.")
    existing = Framework.objects.filter(project=project, source_key=key).first()
    if existing is not None:
        if existing.active:
            raise FrameworkError(f"The project already uses {existing.name}.")
        existing.active = True
        existing.save(update_fields=["active"])
        audit.record(project=project, actor=user, action="frameworks.resume", target=existing,
                     before={"active": False}, after={"active": True})
        return existing
    taken = set(Framework.objects.filter(project=project).values_list("key", flat=True))
    top = Framework.objects.filter(project=project).aggregate(m=Max("position"))["m"]
    framework = Framework.objects.create(
        project=project, key=_free_key(source.key, taken, "framework"), source_key=source.key,
        name=source.name, citation=source.citation, description=source.description,
        rule=source.rule, ordered=source.ordered,
        position=source.position if top is None else max(top + 1, source.position))
    _copy_categories(source, framework, keys)
    audit.record(project=project, actor=user, action="frameworks.use", target=framework,
                 after={"source_key": key, "categories": sorted(
                     framework.categories.values_list("key", flat=True))})
    return framework


@transaction.atomic
def stop_framework(project: Project, framework: Framework, *, user) -> Framework:
    """The project stops using the framework; its codes stay and return if it is used
    again."""
    framework = _own(project, framework)
    if not framework.active:
        raise FrameworkError(f"The project does not use {framework.name}.")
    framework.active = False
    framework.save(update_fields=["active"])
    audit.record(project=project, actor=user, action="frameworks.stop", target=framework,
                 before={"active": True}, after={"active": False})
    return framework


@transaction.atomic
def add_custom_framework(project: Project, *, name: str, rule: str, user,
                         categories: list[tuple[str, str]], citation: str = "",
                         description: str = "") -> Framework:
    """A lead's own framework, single or multiple choice per study, with its categories
    (name, definition) in order."""
    name = _name(name)
    if rule not in (Framework.Rule.SINGLE, Framework.Rule.MULTIPLE):
        raise FrameworkError("A custom framework is single or multiple choice.")
    cleaned = [(_name(n, "category name"), (d or "").strip()[:TEXT_MAX]) for n, d in categories]
    if not cleaned:
        raise FrameworkError("Add at least one category.")
    if len({n.casefold() for n, _ in cleaned}) != len(cleaned):
        raise FrameworkError("Two categories have the same name.")
    taken = set(Framework.objects.filter(project=project).values_list("key", flat=True))
    top = Framework.objects.filter(project=project).aggregate(m=Max("position"))["m"]
    framework = Framework.objects.create(
        project=project, key=_free_key(name, taken, "framework"), name=name, rule=rule,
        citation=(citation or "").strip()[:TEXT_MAX],
        description=(description or "").strip()[:TEXT_MAX],
        position=0 if top is None else top + 1)
    keys: set[str] = set()
    for position, (cat_name, definition) in enumerate(cleaned):
        Category.objects.create(framework=framework, key=_free_key(cat_name, keys, "category"),
                                name=cat_name, definition=definition, position=position)
    audit.record(project=project, actor=user, action="frameworks.custom", target=framework,
                 after={"name": name, "rule": rule, "categories": [n for n, _ in cleaned]})
    return framework


# ---------------------------------------------------------------------------------------------
# Categories


@transaction.atomic
def add_category(project: Project, framework: Framework, *, name: str, user,
                 definition: str = "", parent: Category | None = None) -> Category:
    """A new category at the end of its level (under `parent`, e.g. a WIDER tag)."""
    framework = _own(project, framework)
    name = _name(name, "category name")
    if parent is not None and parent.framework_id != framework.pk:
        raise FrameworkError("That parent category is not in this framework.")
    siblings = framework.categories.filter(parent=parent)
    if any(n.casefold() == name.casefold() for n in siblings.values_list("name", flat=True)):
        raise FrameworkError(f"{framework.name} already has a category {name!r}.")
    taken = set(framework.categories.values_list("key", flat=True))
    category = Category.objects.create(
        framework=framework, parent=parent, key=_free_key(name, taken, "category"), name=name,
        definition=(definition or "").strip()[:TEXT_MAX],
        position=_next_position(framework, parent))
    audit.record(project=project, actor=user, action="frameworks.category_add",
                 target=category, after=_category_doc(category))
    return category


def _own_category(project: Project, category: Category) -> Category:
    if category.framework.project_id != project.pk:
        raise FrameworkError("That category is not in one of this project's frameworks.")
    return category


@transaction.atomic
def rename_category(project: Project, category: Category, *, name: str, user,
                    definition: str | None = None) -> Category:
    """A new name (and definition); the category's codes stay with it."""
    category = _own_category(project, category)
    name = _name(name, "category name")
    clash = (category.framework.categories.filter(parent_id=category.parent_id)
             .exclude(pk=category.pk).filter(name__iexact=name).exists())
    if clash:
        raise FrameworkError(f"{category.framework.name} already has a category {name!r}.")
    before = _category_doc(category)
    category.name = name
    if definition is not None:
        category.definition = definition.strip()[:TEXT_MAX]
    category.save(update_fields=["name", "definition"])
    audit.record(project=project, actor=user, action="frameworks.category_rename",
                 target=category, before=before, after=_category_doc(category))
    return category


@transaction.atomic
def set_category_retired(project: Project, category: Category, *, retired: bool,
                         user) -> Category:
    """Retire (no new codes; past codes stay and show in the charts, marked) or restore."""
    category = _own_category(project, category)
    if category.retired == retired:
        raise FrameworkError(f"{category.name} is already {'retired' if retired else 'in use'}.")
    category.retired = retired
    category.save(update_fields=["retired"])
    audit.record(project=project, actor=user,
                 action="frameworks.category_retire" if retired else "frameworks.category_restore",
                 target=category, before={"retired": not retired}, after={"retired": retired})
    return category


def _has_codes(category: Category) -> bool:
    return (StudyCode.objects.filter(category=category).exists()
            or Excerpt.categories.through.objects.filter(category=category).exists()
            or category.children.exists())


@transaction.atomic
def set_levels(project: Project, framework: Framework, keys: list[str], *, user) -> Framework:
    """The subset of the catalogue's levels a project uses (McLeroy: the paper used three).
    A level left out is removed when nothing was coded to it, else retired; a level put back
    is restored or copied from the catalogue."""
    framework = _own(project, framework)
    source = Framework.objects.filter(project=None, key=framework.source_key).first()
    if source is None:
        raise FrameworkError(f"{framework.name} is not from the catalogue.")
    wanted = set(keys)
    offered = {c.key: c for c in source.categories.filter(parent=None)}
    if not wanted:
        raise FrameworkError("Keep at least one level.")
    if wanted - set(offered):
        raise FrameworkError(f"{source.name} has no level {sorted(wanted - set(offered))[0]!r}.")
    before = sorted(framework.categories.filter(parent=None, retired=False)
                    .values_list("key", flat=True))
    mine = {c.key: c for c in framework.categories.filter(parent=None)}
    for key, category in mine.items():
        if key in offered and key not in wanted and not category.retired:
            if _has_codes(category):
                category.retired = True
                category.save(update_fields=["retired"])
            else:
                category.delete()
        elif key in wanted and category.retired:
            category.retired = False
            category.save(update_fields=["retired"])
    for key in wanted - set(mine):
        level = offered[key]
        Category.objects.create(framework=framework, key=key, name=level.name,
                                definition=level.definition, position=level.position)
    after = sorted(framework.categories.filter(parent=None, retired=False)
                   .values_list("key", flat=True))
    audit.record(project=project, actor=user, action="frameworks.levels", target=framework,
                 before={"levels": before}, after={"levels": after})
    return framework


# ---------------------------------------------------------------------------------------------
# JSON


def export_framework(framework: Framework) -> dict[str, Any]:
    """The framework with every category (retired ones too), nested, in order."""
    categories = list(framework.categories.order_by("position", "id"))

    def level(parent_id):
        return [{"key": c.key, "name": c.name, "definition": c.definition,
                 "retired": c.retired, "children": level(c.pk)}
                for c in categories if c.parent_id == parent_id]

    return {"tandem_framework": FORMAT, "name": framework.name, "rule": framework.rule,
            "ordered": framework.ordered, "citation": framework.citation,
            "description": framework.description, "source_key": framework.source_key,
            "categories": level(None)}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse(text: str | bytes) -> dict[str, Any]:
    """A framework document from JSON text, checked; raises FrameworkError whose `errors`
    name the path of each problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FrameworkError("(file): the file is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkError(f"(file): not valid JSON at line {exc.lineno}, column "
                             f"{exc.colno}: {exc.msg}") from None
    return validate(doc)


def validate(doc: Any) -> dict[str, Any]:
    errors: list[str] = []

    def text(obj, name, path, *, required=False, limit=TEXT_MAX) -> str:
        value = obj.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append(f"{path}.{name}: must be text")
            return ""
        value = value.strip()
        if required and not value:
            errors.append(f"{path}.{name}: enter a {name}")
        if len(value) > limit:
            errors.append(f"{path}.{name}: at most {limit} characters (this has {len(value)})")
        return value

    def flag(obj, name, path) -> bool:
        value = obj.get(name, False)
        if not isinstance(value, bool):
            errors.append(f"{path}.{name}: must be true or false")
            return False
        return value

    def unknown(obj, allowed, path):
        for name in sorted(set(obj) - allowed):
            errors.append(f"{path}.{name}: unknown property")

    keys: set[str] = set()

    def categories(items, path) -> list[dict]:
        if not isinstance(items, list):
            errors.append(f"{path}: must be a list")
            return []
        out, names = [], set()
        for i, item in enumerate(items):
            here = f"{path}[{i}]"
            if not isinstance(item, dict):
                errors.append(f"{here}: must be an object")
                continue
            unknown(item, {"key", "name", "definition", "retired", "children"}, here)
            name = text(item, "name", here, required=True, limit=NAME_MAX)
            if name and name.casefold() in names:
                errors.append(f"{here}.name: {name!r} appears twice")
            names.add(name.casefold())
            key = item.get("key") or ""
            if not isinstance(key, str) or (key and slugify(key) != key):
                errors.append(f"{here}.key: letters, digits and hyphens only")
                key = ""
            if key in keys:
                errors.append(f"{here}.key: {key!r} appears twice")
            key = key or _free_key(name, keys, "category")
            keys.add(key)
            out.append({"key": key, "name": name,
                        "definition": text(item, "definition", here),
                        "retired": flag(item, "retired", here),
                        "children": categories(item.get("children", []), f"{here}.children")})
        return out

    if not isinstance(doc, dict) or "tandem_framework" not in doc:
        raise FrameworkError("(document): must be a JSON object with a tandem_framework key")
    if doc["tandem_framework"] != FORMAT:
        raise FrameworkError(f"tandem_framework: this Tandem reads format {FORMAT}, not "
                             f"{doc['tandem_framework']!r}")
    unknown(doc, {"tandem_framework", "name", "rule", "ordered", "citation", "description",
                  "source_key", "categories"}, "(document)")
    out = {"tandem_framework": FORMAT,
           "name": text(doc, "name", "(document)", required=True, limit=NAME_MAX),
           "rule": doc.get("rule"),
           "ordered": flag(doc, "ordered", "(document)"),
           "citation": text(doc, "citation", "(document)"),
           "description": text(doc, "description", "(document)"),
           "source_key": text(doc, "source_key", "(document)", limit=60),
           "categories": categories(doc.get("categories"), "categories")}
    if out["rule"] not in RULES:
        errors.append(f"rule: one of {', '.join(RULES)}, not {out['rule']!r}")
    if not errors and not out["categories"]:
        errors.append("categories: add at least one category")
    if errors:
        raise FrameworkError(f"The framework file has {len(errors)} problem"
                             f"{'s' if len(errors) != 1 else ''}.", errors)
    return out


@transaction.atomic
def import_framework(project: Project, doc: dict[str, Any], *, user) -> Framework:
    """A new framework of the project from a checked document (`parse`/`validate`)."""
    doc = validate(doc)
    taken = set(Framework.objects.filter(project=project).values_list("key", flat=True))
    names = set(Framework.objects.filter(project=project).values_list("name", flat=True))
    name, n = doc["name"], 2
    while name in names:
        name, n = f"{doc['name']} ({n})", n + 1
    top = Framework.objects.filter(project=project).aggregate(m=Max("position"))["m"]
    framework = Framework.objects.create(
        project=project, key=_free_key(name, taken, "framework"), name=name, rule=doc["rule"],
        ordered=doc["ordered"], citation=doc["citation"], description=doc["description"],
        source_key="", position=0 if top is None else top + 1)

    def create(items, parent):
        for position, item in enumerate(items):
            category = Category.objects.create(
                framework=framework, parent=parent, key=item["key"], name=item["name"],
                definition=item["definition"], retired=item["retired"], position=position)
            create(item["children"], category)

    create(doc["categories"], None)
    audit.record(project=project, actor=user, action="frameworks.import", target=framework,
                 after={"name": name, "categories": framework.categories.count()})
    return framework


# ---------------------------------------------------------------------------------------------
# Themes


def _own_theme(project: Project, theme: Theme) -> Theme:
    if theme.project_id != project.pk:
        raise FrameworkError("That theme is not in this project.")
    if theme.merged_into_id is not None:
        raise FrameworkError(f"{theme.name} was merged into another theme.")
    return theme


@transaction.atomic
def rename_theme(project: Project, theme: Theme, *, name: str, user) -> Theme:
    theme = _own_theme(project, theme)
    name = _name(name, "theme name")
    clash = (Theme.objects.filter(project=project, merged_into=None, name__iexact=name)
             .exclude(pk=theme.pk).exists())
    if clash:
        raise FrameworkError(f"There is already a theme {name!r}: merge them instead.")
    before = {"name": theme.name}
    theme.name = name
    theme.save(update_fields=["name"])
    audit.record(project=project, actor=user, action="frameworks.theme_rename", target=theme,
                 before=before, after={"name": name})
    return theme


@transaction.atomic
def merge_themes(project: Project, theme: Theme, into: Theme, *, user) -> Theme:
    """`theme`'s excerpts move to `into`; `theme` stays, pointing at `into` (so do themes
    merged into it before). Answers `into`."""
    theme, into = _own_theme(project, theme), _own_theme(project, into)
    if theme.pk == into.pk:
        raise FrameworkError("Pick another theme to merge into.")
    moved = list(Excerpt.objects.filter(theme=theme).values_list("pk", flat=True))
    Excerpt.objects.filter(pk__in=moved).update(theme=into)
    Theme.objects.filter(merged_into=theme).update(merged_into=into)
    theme.merged_into = into
    theme.save(update_fields=["merged_into"])
    audit.record(project=project, actor=user, action="frameworks.theme_merge", target=theme,
                 before={"excerpts": sorted(moved)},
                 after={"merged_into": into.pk, "into_name": into.name})
    return into


# ---------------------------------------------------------------------------------------------
# Coding settings


@transaction.atomic
def update_coding_settings(project: Project, *, user, verify: str, first_n: int = 5,
                           share: float = 0.2, seed: int = 0) -> CodingSettings:
    """Verify every study, or the first N and then a random share (repeatable by seed);
    the studies' `needs_verification` and statuses follow."""
    if verify not in (CodingSettings.Verify.ALL, CodingSettings.Verify.SAMPLE):
        raise FrameworkError("Verify every study or a sample.")
    if first_n < 0 or seed < 0:
        raise FrameworkError("The first N and the seed are 0 or more.")
    if not 0 <= share <= 1:
        raise FrameworkError("The share is between 0 and 1 (0% and 100%).")
    settings, _ = CodingSettings.objects.select_for_update().get_or_create(project=project)
    before = {"verify": settings.verify, "first_n": settings.first_n,
              "share": settings.share, "seed": settings.seed}
    settings.verify, settings.first_n, settings.share, settings.seed = (
        verify, first_n, share, seed)
    settings.save()
    from .services import apply_verification_settings

    apply_verification_settings(project)
    after = {"verify": verify, "first_n": first_n, "share": share, "seed": seed}
    audit.record(project=project, actor=user, action="frameworks.settings", target=settings,
                 before=before, after=after)
    return settings
