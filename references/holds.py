"""Holds: a record that carries a later stage's decisions is held.

`references` defines the hold and later stages set it: screening on a record's first vote,
extraction and coding on a study's records. The hold lives on the record row itself
(`Record.hold`, a bit field), so a merge's conditional UPDATE and a vote's row lock meet on
the same row: deduplication never merges a held record automatically (the pair waits for a
person instead), and a person's merge of a held record hands its decisions to the primary
through the handlers later stages register here (`on_merge`), inside the merge's transaction.
"""

from collections.abc import Callable, Iterable
from enum import IntFlag

from django.db.models import F

from .models import Record


class Hold(IntFlag):
    SCREENING = 1  # at least one screening vote
    EXTRACTION = 2  # the record's study has an extraction
    CODING = 4  # the record's study is coded against a framework


# Holds that belong to the study as a whole: its reports cannot be moved between studies.
STUDY_HOLDS = Hold.EXTRACTION | Hold.CODING

HOLD_LABELS = {Hold.SCREENING: "screening votes", Hold.EXTRACTION: "an extraction",
               Hold.CODING: "framework coding"}


def describe(hold: int) -> str:
    """'screening votes and an extraction' for a record's hold bits."""
    names = [label for bit, label in HOLD_LABELS.items() if hold & bit]
    return " and ".join(names)


def lock_record(record_id: int) -> Record:
    """The record row locked FOR NO KEY UPDATE (inside a transaction): a vote or a merge that
    locks its records first sees every merge or vote that committed before it. With where
    its source starts (`record.source.starts_at_full_text`), the one thing a vote needs."""
    return (Record.objects.select_for_update(no_key=True, of=("self",))
            .select_related("source")
            .only("id", "project_id", "duplicate_of_id", "hold", "study_id", "removed_reason",
                  "source__starts_at_full_text")
            .get(pk=record_id))


def set_hold(record_ids: Iterable[int], hold: Hold) -> int:
    return Record.objects.filter(pk__in=list(record_ids)).exclude(
        hold=F("hold").bitor(int(hold))).update(hold=F("hold").bitor(int(hold)))


def release_hold(record_ids: Iterable[int], hold: Hold) -> int:
    keep = ~int(hold) & 0x7FFF
    return Record.objects.filter(pk__in=list(record_ids)).update(hold=F("hold").bitand(keep))


# (project, {duplicate id: primary id}, user) -> None; called inside the merge transaction,
# after the records are locked and before they are linked.
MergeHandler = Callable[..., None]
_merge_handlers: list[MergeHandler] = []


def on_merge(handler: MergeHandler) -> MergeHandler:
    """Register a later stage's handler for a person's merge of held records (AppConfig.ready)."""
    if handler not in _merge_handlers:
        _merge_handlers.append(handler)
    return handler


def carry_on_merge(project, moves: dict[int, int], user) -> None:
    for handler in _merge_handlers:
        handler(project, moves, user)
