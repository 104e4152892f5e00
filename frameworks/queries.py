"""Every charting count of the frameworks, in one place (the reports issue reuses it).

The studies are the review's included studies (`screening.queries.included_studies`),
numbered like a reference list: by the first author's surname (case-insensitive), then the
year, then the study id (a study without an author sorts after those with one). Citation
numbers ("37-40, 43, 44, 46") and short references ("Cassidy 2021") refer to that list.
Codes of studies that are no longer included are kept but not counted.

A category's studies are the studies coded to it or to any category under it (a COM-B
component counts the studies coded to its TDF domains, WIDER's mode of delivery those with
one of its tags); a study counts once per category however many codes or excerpts put it
there. Study-level frameworks (single, multiple, text) count StudyCode rows; excerpt-level
ones count the categories of the studies' excerpts. Retired categories stay, marked.

Themes: one row per (theme, barrier|facilitator), a merged theme's excerpts counted under
the theme it was merged into; `levels` are the McLeroy levels and `components` the COM-B
components (a TDF domain gives its component) of the theme's excerpts of that kind, in
framework order; n is the number of studies.

`charting(project)` runs a fixed number of queries whatever the number of studies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from extraction.queries import study_label
from projects.models import Project
from references.models import Study
from screening.queries import included_studies

from .models import Category, Excerpt, Framework, StudyCode, Theme

MCLEROY_KEY = "mcleroy"
COMB_KEY = "com-b-tdf"
THEME_KINDS = (Excerpt.Kind.BARRIER, Excerpt.Kind.FACILITATOR)


@dataclass(frozen=True)
class NumberedStudy:
    number: int
    study: Study
    label: str  # "Cassidy 2021"


@dataclass
class ChartCategory:
    category: Category
    depth: int  # 0 at the top; 1 for a TDF domain under its COM-B component
    studies: list[NumberedStudy] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.category.name

    @property
    def retired(self) -> bool:
        return self.category.retired

    @property
    def n(self) -> int:
        return len(self.studies)

    @property
    def numbers(self) -> list[int]:
        return [s.number for s in self.studies]

    @property
    def citations(self) -> str:
        return condense(self.numbers)

    @property
    def references(self) -> str:
        return short_references(self.studies)


@dataclass
class ChartFramework:
    framework: Framework
    categories: list[ChartCategory]

    @property
    def name(self) -> str:
        return self.framework.name


@dataclass
class ThemeRow:
    theme: Theme
    kind: str
    levels: list[str]
    components: list[str]
    studies: list[NumberedStudy]

    @property
    def name(self) -> str:
        return self.theme.name

    @property
    def n(self) -> int:
        return len(self.studies)

    @property
    def numbers(self) -> list[int]:
        return [s.number for s in self.studies]

    @property
    def citations(self) -> str:
        return condense(self.numbers)


@dataclass
class Charting:
    studies: list[NumberedStudy]
    frameworks: list[ChartFramework]
    themes: list[ThemeRow]


def condense(numbers: list[int]) -> str:
    """[37, 38, 39, 40, 43, 44, 46] -> "37-40, 43, 44, 46": runs of three or more as a range."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{ordered[i]}-{ordered[j]}")
        else:
            parts.extend(str(n) for n in ordered[i:j + 1])
        i = j + 1
    return ", ".join(parts)


def short_references(studies: list[NumberedStudy]) -> str:
    return "; ".join(s.label for s in sorted(studies, key=lambda s: s.number))


def _sort_key(study: Study) -> tuple:
    reports = getattr(study, "included_reports", None) or []
    report = reports[0] if reports else None
    surname = (report.first_author.split(",")[0].strip().casefold()
               if report and report.first_author else "")
    year = report.year if report and report.year else 0
    return (surname == "", surname, year, study.pk)


def numbered_studies(project: Project) -> list[NumberedStudy]:
    """The included studies numbered 1.. by first author, year, then study id."""
    studies = sorted(included_studies(project), key=_sort_key)
    return [NumberedStudy(number=i, study=study, label=study_label(study))
            for i, study in enumerate(studies, start=1)]


def project_frameworks(project: Project) -> list[Framework]:
    """The frameworks the project uses, in order."""
    return list(Framework.objects.filter(project=project, active=True).order_by("position", "id"))


def _tree(categories: list[Category]) -> list[tuple[Category, int]]:
    """Categories depth first (a parent, then its children), each level in position order."""
    children: dict[int | None, list[Category]] = defaultdict(list)
    for category in categories:
        children[category.parent_id].append(category)
    out: list[tuple[Category, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for category in sorted(children.get(parent_id, []), key=lambda c: (c.position, c.pk)):
            out.append((category, depth))
            walk(category.pk, depth + 1)

    walk(None, 0)
    return out


def _ancestors(category_id: int, parents: dict[int, int | None]) -> list[int]:
    """The category and every category above it."""
    chain = []
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def _final_theme(theme_id: int, merged: dict[int, int | None]) -> int:
    seen = set()
    while merged.get(theme_id) and theme_id not in seen:
        seen.add(theme_id)
        theme_id = merged[theme_id]
    return theme_id


def coded_categories(project: Project, study_ids) -> dict[int, set[int]]:
    """category id -> ids of the studies coded directly to it (study codes and excerpts)."""
    direct: dict[int, set[int]] = defaultdict(set)
    for study_id, category_id in (StudyCode.objects.filter(project=project,
                                                           study_id__in=study_ids)
                                  .values_list("study_id", "category_id")):
        direct[category_id].add(study_id)
    through = Excerpt.categories.through
    for study_id, category_id in (through.objects
                                  .filter(excerpt__project=project,
                                          excerpt__study_id__in=study_ids)
                                  .values_list("excerpt__study_id", "category_id")):
        direct[category_id].add(study_id)
    return direct


def charting(project: Project) -> Charting:
    numbered = numbered_studies(project)
    by_id = {s.study.pk: s for s in numbered}
    frameworks = project_frameworks(project)
    categories = list(Category.objects.filter(framework__in=frameworks))
    parents = {c.pk: c.parent_id for c in categories}
    direct = coded_categories(project, list(by_id))

    rolled: dict[int, set[int]] = defaultdict(set)
    for category_id, study_ids in direct.items():
        for above in _ancestors(category_id, parents):
            rolled[above] |= study_ids

    of_framework: dict[int, list[Category]] = defaultdict(list)
    for category in categories:
        of_framework[category.framework_id].append(category)
    charted = []
    for framework in frameworks:
        rows = []
        for category, depth in _tree(of_framework[framework.pk]):
            studies = sorted((by_id[s] for s in rolled.get(category.pk, ())),
                             key=lambda s: s.number)
            rows.append(ChartCategory(category=category, depth=depth, studies=studies))
        charted.append(ChartFramework(framework=framework, categories=rows))

    return Charting(studies=numbered, frameworks=charted,
                    themes=_themes(project, frameworks, categories, by_id))


def _themes(project, frameworks, categories, by_id) -> list[ThemeRow]:
    mcleroy = {f.pk for f in frameworks if MCLEROY_KEY in (f.source_key, f.key)}
    comb = {f.pk for f in frameworks if COMB_KEY in (f.source_key, f.key)}
    by_pk = {c.pk: c for c in categories}
    parents = {c.pk: c.parent_id for c in categories}
    order = {c.pk: i for fw in frameworks
             for i, (c, _) in enumerate(_tree([c for c in categories if c.framework_id == fw.pk]))}

    themes = {t.pk: t for t in Theme.objects.filter(project=project)}
    merged = {t.pk: t.merged_into_id for t in themes.values()}
    excerpts = list(Excerpt.objects.filter(project=project, kind__in=THEME_KINDS,
                                           theme__isnull=False, study_id__in=list(by_id))
                    .values_list("pk", "study_id", "kind", "theme_id"))
    through = Excerpt.categories.through
    excerpt_categories: dict[int, list[int]] = defaultdict(list)
    for excerpt_id, category_id in (through.objects
                                    .filter(excerpt_id__in=[e[0] for e in excerpts])
                                    .values_list("excerpt_id", "category_id")):
        excerpt_categories[excerpt_id].append(category_id)

    groups: dict[tuple[int, str], dict] = {}
    for excerpt_id, study_id, kind, theme_id in excerpts:
        key = (_final_theme(theme_id, merged), kind)
        group = groups.setdefault(key, {"studies": set(), "levels": set(), "components": set()})
        group["studies"].add(study_id)
        for category_id in excerpt_categories.get(excerpt_id, []):
            category = by_pk.get(category_id)
            if category is None:
                continue
            if category.framework_id in mcleroy:
                group["levels"].add(category.pk)
            elif category.framework_id in comb:
                top = _ancestors(category.pk, parents)[-1]
                group["components"].add(top)

    rows = []
    for (theme_id, kind), group in groups.items():
        rows.append(ThemeRow(
            theme=themes[theme_id], kind=kind,
            levels=[by_pk[c].name for c in sorted(group["levels"], key=order.get)],
            components=[by_pk[c].name for c in sorted(group["components"], key=order.get)],
            studies=sorted((by_id[s] for s in group["studies"]), key=lambda s: s.number)))
    rows.sort(key=lambda r: (THEME_KINDS.index(r.kind), -r.n, r.name.casefold(), r.theme.pk))
    return rows


@dataclass
class Evidence:
    """One piece of evidence behind a matrix cell: a study code's quote, or an excerpt."""

    text: str
    page: str
    note: str
    kind: str  # "code", or an excerpt's kind


@dataclass
class Matrix:
    framework: ChartFramework
    studies: list[NumberedStudy]
    cells: dict[tuple[int, int], int]  # (study id, category id) -> number of pieces of evidence

    def count(self, study_id: int, category_id: int) -> int:
        return self.cells.get((study_id, category_id), 0)

    @property
    def rows(self) -> list[tuple[NumberedStudy, list[tuple[ChartCategory, int]]]]:
        return [(s, [(c, self.count(s.study.pk, c.category.pk))
                     for c in self.framework.categories]) for s in self.studies]


def matrix(project: Project, framework: Framework, chart: Charting | None = None) -> Matrix:
    """Study x category for one framework: each cell the number of codes and excerpts that
    put the study in the category (or under it; an excerpt coded to a component and to one
    of its domains counts once), 0 when none."""
    chart = chart or charting(project)
    charted = next(f for f in chart.frameworks if f.framework.pk == framework.pk)
    by_id = {s.study.pk: s for s in chart.studies}
    parents = {c.category.pk: c.category.parent_id for c in charted.categories}
    pieces: dict[tuple[int, int], set[tuple[str, int]]] = defaultdict(set)
    for pk, study_id, category_id in (StudyCode.objects.filter(project=project,
                                                               category__framework=framework,
                                                               study_id__in=list(by_id))
                                      .values_list("pk", "study_id", "category_id")):
        for above in _ancestors(category_id, parents):
            pieces[(study_id, above)].add(("code", pk))
    through = Excerpt.categories.through
    for pk, study_id, category_id in (through.objects
                                      .filter(excerpt__project=project,
                                              category__framework=framework,
                                              excerpt__study_id__in=list(by_id))
                                      .values_list("excerpt_id", "excerpt__study_id",
                                                   "category_id")):
        for above in _ancestors(category_id, parents):
            pieces[(study_id, above)].add(("excerpt", pk))
    cells = {key: len(found) for key, found in pieces.items()}
    return Matrix(framework=charted, studies=chart.studies, cells=cells)


def cell_evidence(project: Project, study: Study, category: Category) -> list[Evidence]:
    """The codes and excerpts that put the study in the category or under it."""
    below = {category.pk}
    frontier = [category.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier)
                        .values_list("pk", flat=True))
        below.update(frontier)
    evidence = [Evidence(text=code.quote or code.text, page=code.page, note=code.note,
                         kind="code")
                for code in StudyCode.objects.filter(project=project, study=study,
                                                     category_id__in=below).order_by("id")]
    evidence += [Evidence(text=excerpt.text, page=excerpt.page, note="", kind=excerpt.kind)
                 for excerpt in Excerpt.objects.filter(project=project, study=study,
                                                       categories__in=below)
                 .distinct().order_by("id")]
    return evidence
