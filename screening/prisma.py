"""PRISMA 2020 flow counts, derived from the models alone (no counter is stored).

Two columns, as in PRISMA 2020's flow diagram for new reviews that searched databases,
registers and other sources:
- `main`: records of databases and registers, and of other-methods sources whose records are
  screened like them (PRISMA-ScR reviews often count those together, e.g. 3237 + 23 = 3260);
- `other`: records of other-methods sources that start at full text (PRISMA's right-hand
  column starts at "reports sought for retrieval").

Every record is in exactly one box of each column's identification step (duplicate, removed
by automation, removed for another reason, or on to screening), and every record that goes
on is in exactly one state at each stage it reaches, so the boxes add up; `check()` says
where they do not. The reports app draws the diagram from this.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, F, FilteredRelation, Q

from projects.models import Project
from references.models import Record, Source

from .models import ExclusionReason, Screening, Stage
from .queries import included_reports

State = Screening.State
OPEN = "open"  # no settled outcome yet: no row, pending or conflict


@dataclass
class Column:
    identified: int = 0
    by_source: list[tuple[str, str, int]] = field(default_factory=list)  # (name, kind, n)
    duplicates: int = 0
    removed_automation: int = 0
    removed_other: int = 0
    # Title and abstract (main column only).
    screened: int = 0
    screened_excluded: int = 0
    screened_open: int = 0
    screened_conflict: int = 0  # of screened_open: the votes disagree
    # Full text.
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    excluded_by_reason: list[tuple[str, int]] = field(default_factory=list)
    assessed_open: int = 0
    assessed_conflict: int = 0  # of assessed_open: the votes disagree
    included: int = 0
    # Which rows the counts above come from, in the same order (for links to the records).
    source_ids: list[int] = field(default_factory=list, compare=False)
    excluded_reason_ids: list[int | None] = field(default_factory=list, compare=False)

    @property
    def excluded(self) -> int:
        return sum(n for _reason, n in self.excluded_by_reason)


@dataclass
class PrismaCounts:
    main: Column
    other: Column
    studies_included: int
    reports_included: int

    def check(self) -> list[str]:
        """The sums PRISMA's boxes must satisfy; an empty list when all hold."""
        problems = []
        for name, c in (("main", self.main), ("other", self.other)):
            removed = c.duplicates + c.removed_automation + c.removed_other
            goes_on = c.screened if name == "main" else c.sought
            if c.identified != removed + goes_on:
                problems.append(f"{name}: identified {c.identified} != removed {removed} + "
                                f"on to screening {goes_on}")
            if c.identified != sum(n for _s, _k, n in c.by_source):
                problems.append(f"{name}: identified != sum over sources")
            if name == "main" and c.screened != (c.screened_excluded + c.sought
                                                 + c.screened_open):
                problems.append(f"main: screened {c.screened} != excluded + sought + open")
            if c.sought != c.not_retrieved + c.assessed:
                problems.append(f"{name}: sought != not retrieved + assessed")
            if c.assessed != c.excluded + c.included + c.assessed_open:
                problems.append(f"{name}: assessed != excluded + included + open")
        if self.reports_included != self.main.included + self.other.included:
            problems.append("reports included != included of both columns")
        if self.studies_included > self.reports_included:
            problems.append("more studies than reports included")
        return problems


def prisma_counts(project: Project) -> PrismaCounts:
    """The flow counts of `project` in a few grouped queries (no per-record work)."""
    main, other = Column(), Column()
    # One pass over the project's records with both stages' rows joined (LEFT JOINs: a
    # record without a row at a stage has NULL there): a hash join, not a subquery per record.
    groups = (Record.objects.filter(project=project)
              .annotate(ta_row=FilteredRelation("screenings", condition=Q(
                            screenings__stage=Stage.TITLE_ABSTRACT)),
                        ft_row=FilteredRelation("screenings", condition=Q(
                            screenings__stage=Stage.FULL_TEXT)),
                        is_duplicate=Q(duplicate_of__isnull=False),
                        ta=F("ta_row__state"), ft=F("ft_row__state"),
                        ft_reason=F("ft_row__reason_id"))
              .values("source_id", "is_duplicate", "removed_reason", "ta", "ft", "ft_reason")
              .annotate(n=Count("id")).order_by())
    groups = list(groups)
    per_source = Counter()
    for g in groups:
        per_source[g["source_id"]] += g["n"]
    column_of = {}
    for source in Source.objects.filter(project=project).order_by("imported_at", "id"):
        col = other if source.starts_at_full_text else main
        column_of[source.pk] = col
        n = per_source[source.pk]
        col.by_source.append((source.name, source.method or source.kind, n))
        col.source_ids.append(source.pk)
        col.identified += n
    excluded: dict[int, Counter] = {id(main): Counter(), id(other): Counter()}
    for g in groups:
        col, n = column_of[g["source_id"]], g["n"]
        if g["is_duplicate"]:
            col.duplicates += n
            continue
        if g["removed_reason"] == "automation":
            col.removed_automation += n
            continue
        if g["removed_reason"]:
            col.removed_other += n
            continue
        if col is main:
            col.screened += n
            if g["ta"] == State.EXCLUDED:
                col.screened_excluded += n
                continue
            if g["ta"] != State.INCLUDED:
                col.screened_open += n
                col.screened_conflict += n if g["ta"] == State.CONFLICT else 0
                continue
        col.sought += n
        if g["ft"] == State.NOT_RETRIEVED:
            col.not_retrieved += n
            continue
        col.assessed += n
        if g["ft"] == State.EXCLUDED:
            excluded[id(col)][g["ft_reason"]] += n
        elif g["ft"] == State.INCLUDED:
            col.included += n
        else:
            col.assessed_open += n
            col.assessed_conflict += n if g["ft"] == State.CONFLICT else 0
    labels = dict(ExclusionReason.objects.filter(project=project, stage=Stage.FULL_TEXT)
                  .order_by("position", "id").values_list("id", "label"))
    for col in (main, other):
        counts = excluded[id(col)]
        col.excluded_by_reason = [(label, counts[rid]) for rid, label in labels.items()
                                  if counts[rid]]
        col.excluded_reason_ids = [rid for rid in labels if counts[rid]]
        if counts[None]:
            col.excluded_by_reason.append(("No reason given", counts[None]))
            col.excluded_reason_ids.append(None)
    included = included_reports(project).aggregate(
        reports=Count("id"), studies=Count("study_id", distinct=True))
    return PrismaCounts(main=main, other=other, studies_included=included["studies"],
                        reports_included=included["reports"])

