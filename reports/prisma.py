"""The PRISMA 2020 flow of a project, as the reports show it: every box's number (from
`screening.prisma.prisma_counts`, never stored), the keys a diagram's links carry, the fixed
JSON and CSV shapes, the arithmetic checks, and the records behind each number.

Two columns, as in `screening.prisma`: `main` (databases, registers, and other-methods
sources screened with them) and `other` (other-methods sources that start at full text,
PRISMA's right-hand column). The JSON's numbers are totals over both columns (the paper:
3237 database + 23 other = 3260 identified); the diagram draws the right-hand column when a
source starts at full text.
"""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from projects.models import Project
from references.models import Record, Source
from screening import prisma as screening_prisma
from screening import queries as screening_queries
from screening.models import Screening, Stage

State = Screening.State
TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
NO_REASON = "No reason given"
NO_REASON_KEY = "none"

# The JSON's keys, in order (the issue fixes them).
JSON_KEYS = ("identified_databases", "identified_other", "duplicates_removed",
             "automation_removed", "other_removed", "screened", "excluded_screening",
             "sought_retrieval", "not_retrieved", "assessed_eligibility",
             "excluded_eligibility", "included_studies", "included_reports", "in_progress")
IN_PROGRESS_KEYS = ("title_abstract_awaiting", "title_abstract_conflict",
                    "full_text_awaiting", "full_text_conflict")
# Record lists that show where reviewers disagree on an unsettled record: leads only.
CONFLICT_BOXES = frozenset({"title_abstract_conflict", "full_text_conflict"})
# Every box a number can open, with what it lists (records unless said otherwise).
BOXES = {
    "identified_databases": "Records identified from databases and registers",
    "identified_other": "Records identified from other methods",
    "duplicates_removed": "Duplicate records removed",
    "automation_removed": "Records marked as ineligible by automation tools",
    "other_removed": "Records removed for other reasons",
    "screened": "Records screened",
    "excluded_screening": "Records excluded at title and abstract",
    "title_abstract_awaiting": "Records awaiting title and abstract screening",
    "title_abstract_conflict": "Records in conflict at title and abstract",
    "sought_retrieval": "Reports sought for retrieval",
    "not_retrieved": "Reports not retrieved",
    "assessed_eligibility": "Reports assessed for eligibility",
    "excluded_eligibility": "Reports excluded at full text",
    "full_text_awaiting": "Reports awaiting full-text review",
    "full_text_conflict": "Reports in conflict at full text",
    "included_reports": "Reports of included studies",
    "included_studies": "Studies included in review",
}
# Boxes whose lists take a key: a source id (or "database", "register": one kind), or an
# exclusion reason id ("none": no reason given).
KEYED_BOXES = frozenset({"identified_databases", "identified_other", "excluded_eligibility"})
COLUMNS = ("main", "other")


@dataclass
class SourceCount:
    key: str  # the JSON key: the source's name, made unique with a suffix
    source_id: int
    name: str
    kind: str  # database, register or other
    method: str  # for kind other: websites, organisations, citation_searching, other
    n: int


@dataclass
class ReasonCount:
    key: str  # the JSON key: the reason's label (unique in a project), or "No reason given"
    reason_id: int | None
    n: int

    @property
    def url_key(self) -> str:
        return str(self.reason_id) if self.reason_id is not None else NO_REASON_KEY


@dataclass
class Column:
    sources: list[SourceCount] = field(default_factory=list)
    duplicates: int = 0
    automation: int = 0
    removed_other: int = 0
    # Title and abstract (main column only).
    screened: int = 0
    excluded_screening: int = 0
    ta_awaiting: int = 0
    ta_conflict: int = 0
    # Full text.
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    excluded: list[ReasonCount] = field(default_factory=list)
    ft_awaiting: int = 0
    ft_conflict: int = 0
    included_reports: int = 0

    @property
    def identified(self) -> int:
        return sum(s.n for s in self.sources)

    @property
    def removed(self) -> int:
        return self.duplicates + self.automation + self.removed_other

    @property
    def excluded_eligibility(self) -> int:
        return sum(r.n for r in self.excluded)

    def sources_of(self, *kinds: str) -> list[SourceCount]:
        return [s for s in self.sources if s.kind in kinds]


@dataclass
class Flow:
    main: Column
    other: Column
    included_studies: int
    included_reports: int
    # Draw PRISMA's right-hand column: a source of the project starts at full text.
    other_column: bool = False
    scoping: bool = False

    # Totals over both columns: the JSON's numbers.
    @property
    def in_progress(self) -> dict[str, int]:
        return {"title_abstract_awaiting": self.main.ta_awaiting,
                "title_abstract_conflict": self.main.ta_conflict,
                "full_text_awaiting": self.main.ft_awaiting + self.other.ft_awaiting,
                "full_text_conflict": self.main.ft_conflict + self.other.ft_conflict}

    @property
    def in_progress_total(self) -> int:
        return sum(self.in_progress.values())

    def excluded_eligibility(self) -> list[ReasonCount]:
        """The full-text exclusions of both columns, per reason (in the reasons' order)."""
        merged: dict[int | None, ReasonCount] = {}
        for col in (self.main, self.other):
            for r in col.excluded:
                if r.reason_id in merged:
                    merged[r.reason_id].n += r.n
                else:
                    merged[r.reason_id] = ReasonCount(r.key, r.reason_id, r.n)
        order = [r.reason_id for r in self.main.excluded] + [
            r.reason_id for r in self.other.excluded if r.reason_id not in
            {m.reason_id for m in self.main.excluded}]
        return [merged[rid] for rid in _reason_order(order)]

    def total(self, attr: str) -> int:
        return getattr(self.main, attr) + getattr(self.other, attr)

    def as_json(self) -> dict:
        sources = self.main.sources + self.other.sources
        return {
            "identified_databases": {s.key: s.n for s in sources
                                     if s.kind in (Source.Kind.DATABASE, Source.Kind.REGISTER)},
            "identified_other": {s.key: s.n for s in sources if s.kind == Source.Kind.OTHER},
            "duplicates_removed": self.total("duplicates"),
            "automation_removed": self.total("automation"),
            "other_removed": self.total("removed_other"),
            "screened": self.main.screened,
            "excluded_screening": self.main.excluded_screening,
            "sought_retrieval": self.total("sought"),
            "not_retrieved": self.total("not_retrieved"),
            "assessed_eligibility": self.total("assessed"),
            "excluded_eligibility": {r.key: r.n for r in self.excluded_eligibility()},
            "included_studies": self.included_studies,
            "included_reports": self.included_reports,
            "in_progress": self.in_progress,
        }

    def rows(self) -> list[tuple[str, str, int]]:
        """(key, sub-key, n), one per number of the JSON: the counts CSV."""
        rows = []
        for key, value in self.as_json().items():
            if isinstance(value, dict):
                rows += [(key, sub, n) for sub, n in value.items()]
            else:
                rows.append((key, "", value))
        return rows

    @property
    def problems(self) -> list[str]:
        """The sums PRISMA's boxes must satisfy, said in the boxes' words; empty when all
        hold."""
        problems = []
        columns = [("", self.main)]
        if self.other_column or self.other.identified:
            columns = [("databases and registers: ", self.main), ("other methods: ", self.other)]
        for prefix, col in columns:
            goes_on, goes_on_name = ((col.screened, "records screened") if col is self.main
                                     else (col.sought, "reports sought for retrieval"))
            if col.identified - col.removed != goes_on:
                problems.append(
                    f"{prefix}records identified ({col.identified:,}) − removed before "
                    f"screening ({col.removed:,}) = {col.identified - col.removed:,}, but "
                    f"{goes_on_name} = {goes_on:,}.")
            if col is self.main:
                left = col.screened - col.excluded_screening - col.ta_awaiting - col.ta_conflict
                if left != col.sought:
                    problems.append(
                        f"{prefix}records screened ({col.screened:,}) − excluded "
                        f"({col.excluded_screening:,}) − still in screening "
                        f"({col.ta_awaiting + col.ta_conflict:,}) = {left:,}, but reports "
                        f"sought for retrieval = {col.sought:,}.")
            if col.sought - col.not_retrieved != col.assessed:
                problems.append(
                    f"{prefix}reports sought ({col.sought:,}) − not retrieved "
                    f"({col.not_retrieved:,}) = {col.sought - col.not_retrieved:,}, but "
                    f"reports assessed = {col.assessed:,}.")
            left = (col.assessed - col.excluded_eligibility - col.ft_awaiting
                    - col.ft_conflict)
            if left != col.included_reports:
                problems.append(
                    f"{prefix}reports assessed ({col.assessed:,}) − excluded "
                    f"({col.excluded_eligibility:,}) − still in full-text review "
                    f"({col.ft_awaiting + col.ft_conflict:,}) = {left:,}, but reports "
                    f"included = {col.included_reports:,}.")
        both = self.main.included_reports + self.other.included_reports
        if both != self.included_reports:
            problems.append(f"reports of included studies ({self.included_reports:,}) is not "
                            f"the sum of both columns' included reports ({both:,}).")
        if self.included_studies > self.included_reports:
            problems.append(f"studies included ({self.included_studies:,}) outnumber their "
                            f"reports ({self.included_reports:,}).")
        if self.included_reports and not self.included_studies:
            problems.append("reports are included but no study is.")
        return problems


def _reason_order(ids: list[int | None]) -> list[int | None]:
    """No reason given last, the rest as they came."""
    return [i for i in ids if i is not None] + [i for i in ids if i is None]


def _unique(names: list[str]) -> list[str]:
    """Names made unique with a suffix: "Embase", "Embase (2)", ..."""
    seen: set[str] = set()
    out = []
    for name in names:
        key, i = name, 1
        while key in seen:
            i += 1
            key = f"{name} ({i})"
        seen.add(key)
        out.append(key)
    return out


def flow(project: Project) -> Flow:
    """The flow of `project`, from the data (a few grouped queries)."""
    counts = screening_prisma.prisma_counts(project)
    rows = {pk: (kind, method, at_full_text) for pk, kind, method, at_full_text in
            Source.objects.filter(project=project).values_list(
                "id", "kind", "method", "starts_at_full_text")}
    names = _unique([name for name, _k, _n in counts.main.by_source + counts.other.by_source])
    names.reverse()
    columns = []
    taken_keys = set()
    for c in (counts.main, counts.other):
        col = Column(
            sources=[SourceCount(names.pop(), pk, name, rows[pk][0], rows[pk][1], n)
                     for (name, _k, n), pk in zip(c.by_source, c.source_ids, strict=True)],
            duplicates=c.duplicates, automation=c.removed_automation,
            removed_other=c.removed_other, screened=c.screened,
            excluded_screening=c.screened_excluded,
            ta_awaiting=c.screened_open - c.screened_conflict, ta_conflict=c.screened_conflict,
            sought=c.sought, not_retrieved=c.not_retrieved, assessed=c.assessed,
            ft_awaiting=c.assessed_open - c.assessed_conflict, ft_conflict=c.assessed_conflict,
            included_reports=c.included)
        for (label, n), rid in zip(c.excluded_by_reason, c.excluded_reason_ids, strict=True):
            col.excluded.append(ReasonCount(label, rid, n))
            if rid is not None:
                taken_keys.add(label)
        columns.append(col)
    # A reason a lead labelled "No reason given" keeps its label; the missing reason yields.
    if NO_REASON in taken_keys:
        for col in columns:
            for r in col.excluded:
                if r.reason_id is None:
                    r.key = f"{NO_REASON} (none recorded)"
    other_column = any(at_full_text for _kind, _method, at_full_text in rows.values())
    return Flow(main=columns[0], other=columns[1], included_studies=counts.studies_included,
                included_reports=counts.reports_included, other_column=other_column,
                scoping=project.review_type == "scoping")


# --- The records behind each number --------------------------------------------------------

def _at(stage: str, *states: str, **extra) -> Exists:
    return Exists(Screening.objects.filter(record=OuterRef("pk"), stage=stage,
                                           state__in=states, **extra))


IN_FLOW = Q(duplicate_of__isnull=True, removed_reason="")
MAIN = Q(source__starts_at_full_text=False)
OTHER = Q(source__starts_at_full_text=True)


def _box_filter(box: str, key: str | None) -> Q:
    screened = IN_FLOW & MAIN
    sought = IN_FLOW & (OTHER | (MAIN & _at(TA, State.INCLUDED)))
    assessed = sought & ~_at(FT, State.NOT_RETRIEVED)
    if box in ("identified_databases", "identified_other"):
        kinds = ([Source.Kind.DATABASE, Source.Kind.REGISTER] if box == "identified_databases"
                 else [Source.Kind.OTHER])
        q = Q(source__kind__in=kinds)
        if key in kinds:  # one kind: the databases, or the registers
            return Q(source__kind=key)
        return q & Q(source_id=int(key)) if key is not None else q
    if box == "excluded_eligibility":
        if key is None:
            return assessed & _at(FT, State.EXCLUDED)
        if key == NO_REASON_KEY:
            return assessed & _at(FT, State.EXCLUDED, reason__isnull=True)
        return assessed & _at(FT, State.EXCLUDED, reason_id=int(key))
    return {
        "duplicates_removed": Q(duplicate_of__isnull=False),
        "automation_removed": Q(duplicate_of__isnull=True, removed_reason="automation"),
        "other_removed": Q(duplicate_of__isnull=True) & ~Q(removed_reason__in=["", "automation"]),
        "screened": screened,
        "excluded_screening": screened & _at(TA, State.EXCLUDED),
        "title_abstract_conflict": screened & _at(TA, State.CONFLICT),
        "title_abstract_awaiting": screened & ~_at(TA, State.INCLUDED, State.EXCLUDED,
                                                    State.CONFLICT),
        "sought_retrieval": sought,
        "not_retrieved": sought & _at(FT, State.NOT_RETRIEVED),
        "assessed_eligibility": assessed,
        "full_text_conflict": assessed & _at(FT, State.CONFLICT),
        "full_text_awaiting": assessed & ~_at(FT, State.INCLUDED, State.EXCLUDED,
                                              State.CONFLICT),
        "included_reports": sought & _at(FT, State.INCLUDED),
    }[box]


def valid_key(box: str, key: str | None) -> bool:
    if key is None:
        return True
    if box not in KEYED_BOXES:
        return False
    return key.isdigit() or (box == "excluded_eligibility" and key == NO_REASON_KEY) or (
        box == "identified_databases" and key in (Source.Kind.DATABASE, Source.Kind.REGISTER))


def box_records(project: Project, box: str, key: str | None = None,
                column: str | None = None) -> QuerySet:
    """The records behind the number of `box` (a key of BOXES), for one source or reason
    when `key` is given, in one PRISMA column when `column` is "main" or "other"; for
    "included_studies", the included studies (each with `included_reports`). Raises KeyError
    for an unknown box, ValueError for a key or column the box does not take."""
    if box not in BOXES:
        raise KeyError(box)
    if not valid_key(box, key) or column not in (None, *COLUMNS):
        raise ValueError(f"{box} takes no key {key!r} or column {column!r}")
    if box == "included_studies":
        return screening_queries.included_studies(project)
    records = Record.objects.filter(project=project).filter(_box_filter(box, key))
    if column is not None:
        records = records.filter(MAIN if column == "main" else OTHER)
    return records


def box_title(box: str, *, scoping: bool = False) -> str:
    return scoping_words(BOXES[box]) if scoping else BOXES[box]


# PRISMA-ScR's wording: "sources of evidence" where PRISMA 2020 says reports or studies
# (records stay records). Whole phrases, longest first, so none is replaced twice.
_SCOPING = [
    ("Reports of included studies", "Reports of included sources of evidence"),
    ("Studies included in review", "Sources of evidence included in review"),
    ("Identification of studies", "Identification of sources of evidence"),
    ("Reports", "Sources of evidence"),
    ("reports", "sources of evidence"),
]


def scoping_words(text: str) -> str:
    for i, (a, _b) in enumerate(_SCOPING):
        text = text.replace(a, f"\x00{i}\x00")
    for i, (_a, b) in enumerate(_SCOPING):
        text = text.replace(f"\x00{i}\x00", b)
    return text
