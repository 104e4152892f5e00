"""What a person's merge does to screening: the decisions of a record that becomes a
duplicate are carried to its primary, or, where the primary has decisions of its own at
that stage, flagged in the log and left on the duplicate (never lost, never mixed).

Registered with `references.holds.on_merge` (apps.py); runs inside the merge's transaction,
after the merge locked the records, so no vote on these records is in flight.
"""

from collections import defaultdict

from projects import audit
from projects.models import Project
from references import holds

from .models import Assignment, FullText, Screening, Stage

STAGE_ORDER = [Stage.TITLE_ABSTRACT, Stage.FULL_TEXT]


def _empty(screening: Screening | None) -> bool:
    """No decision at all: no row, or a row someone only opened."""
    return screening is None or (screening.votes_in == 0
                                 and screening.state == Screening.State.PENDING)


def carry_decisions(project: Project, moves: dict[int, int], user) -> None:
    """`moves`: {record becoming a duplicate: its primary}. Stage by stage, in order, a
    duplicate's screening moves to the primary where the primary has none; once a stage is
    flagged (both have decisions), the later stages of that record are flagged too, so a
    primary is never included at full text on a title/abstract decision it did not have."""
    records = set(moves) | set(moves.values())
    rows: dict[int, dict[str, Screening]] = defaultdict(dict)
    for screening in Screening.objects.select_for_update().filter(
            record_id__in=records).order_by("id"):
        rows[screening.record_id][screening.stage] = screening
    carried_to: set[int] = set()
    emptied: set[int] = set()
    for duplicate, primary in sorted(moves.items()):
        blocked = carried = False
        for stage in STAGE_ORDER:
            mine, theirs = rows[duplicate].get(stage), rows[primary].get(stage)
            if _empty(mine):
                continue
            if blocked or not _empty(theirs):
                blocked = True
                audit.record(project=project, actor=user, action="screening.merge_flag",
                             target=mine, before={"record": duplicate, "state": mine.state},
                             after={"primary": primary, "stage": stage,
                                    "primary_state": theirs.state if theirs else None,
                                    "kept": "primary's decision"})
                continue
            if theirs is not None:
                theirs.delete()  # only opened: nothing to keep
            Screening.objects.filter(pk=mine.pk).update(record_id=primary)
            Assignment.objects.filter(record_id=duplicate, stage=stage).exclude(
                reviewer_id__in=Assignment.objects.filter(record_id=primary, stage=stage)
                .values("reviewer_id")).update(record_id=primary)
            rows[primary][stage], rows[duplicate][stage] = mine, None
            carried_to.add(primary)
            carried = True
            audit.record(project=project, actor=user, action="screening.carry", target=mine,
                         before={"record": duplicate}, after={"record": primary,
                                                              "stage": stage,
                                                              "state": mine.state})
        if not any(not _empty(s) for s in rows[duplicate].values()):
            emptied.add(duplicate)
        if carried and not FullText.objects.filter(record_id=primary).exists():
            FullText.objects.filter(record_id=duplicate).update(record_id=primary)
    if carried_to:
        holds.set_hold(carried_to, holds.Hold.SCREENING)
    if emptied:
        holds.release_hold(emptied, holds.Hold.SCREENING)
