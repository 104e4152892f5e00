"""The migrations that turned the not-retrieved flag into a state and reason strings into
rows (0005-0007) carry a project's data over, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from screening.models import ExclusionReason, FullText, Screening, StageSettings, Vote
from tests.factories import RecordFactory

BEFORE = ("screening", "0004_claims")
FT, TA = "full_text", "title_abstract"


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state([target]).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("screening")[0]


@pytest.fixture
def old_schema(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(_latest())


def test_flags_and_reason_strings_are_carried_into_states_and_rows(old_schema, cast):
    old = old_schema
    OldSettings, OldScreening, OldVote, OldFullText = (  # noqa: N806 - historical models
        old.get_model("screening", name) for name in ("StageSettings", "Screening", "Vote",
                                                      "FullText"))
    project = cast.project
    no_row, pending, included, excluded, conflict = (
        RecordFactory(project=project) for _ in range(5))
    OldSettings.objects.create(project_id=project.pk, stage=FT,
                               exclusion_reasons=["Wrong design", "Not a trainee"])
    OldSettings.objects.create(project_id=project.pk, stage=TA, exclusion_reasons=[])
    for record in (no_row, pending, included):
        OldFullText.objects.create(project_id=project.pk, record_id=record.pk,
                                   not_retrieved=True, note="asked twice")

    def screening(record, state, votes, reason=""):
        row = OldScreening.objects.create(project_id=project.pk, record_id=record.pk,
                                          stage=FT, state=state, votes_in=len(votes),
                                          reason=reason)
        for who, decision, why in votes:
            OldVote.objects.create(screening=row, reviewer_id=who.pk, decision=decision,
                                   reason=why)

    screening(pending, "pending", [])
    screening(included, "included", [(cast.ada, "include", ""), (cast.ben, "include", "")])
    screening(excluded, "excluded", [(cast.ada, "exclude", "Wrong design"),
                                     (cast.ben, "exclude", "Wrong design")], "Wrong design")
    screening(conflict, "conflict", [(cast.ada, "exclude", "Wrong design"),
                                     (cast.ben, "exclude", "An old reason")])

    _migrate(_latest())

    reasons = list(ExclusionReason.objects.filter(project=project).order_by("position"))
    assert [(r.stage, r.label, r.position, r.active) for r in reasons] == [
        (FT, "Wrong design", 0, True), (FT, "Not a trainee", 1, True),
        (FT, "An old reason", 2, False)]
    states = dict(Screening.objects.filter(stage=FT).values_list("record_id", "state"))
    # A flag beside votes is dropped: the votes' state stands.
    assert states == {no_row.pk: "not_retrieved", pending.pk: "not_retrieved",
                      included.pk: "included", excluded.pk: "excluded",
                      conflict.pk: "conflict"}
    assert Screening.objects.get(record=excluded).reason == reasons[0]
    assert sorted(Vote.objects.filter(screening__record__in=[excluded, conflict])
                  .values_list("screening__record_id", "reason__label")) == sorted([
                      (excluded.pk, "Wrong design"), (excluded.pk, "Wrong design"),
                      (conflict.pk, "Wrong design"), (conflict.pk, "An old reason")])
    assert Vote.objects.filter(screening__record=included, reason__isnull=True).count() == 2
    assert FullText.objects.filter(record=no_row).get().note == "asked twice"
    assert StageSettings.objects.filter(project=project).count() == 2

    back = _migrate(BEFORE)

    flags = dict(back.get_model("screening", "FullText").objects.values_list(
        "record_id", "not_retrieved"))
    assert flags == {no_row.pk: True, pending.pk: True, included.pk: False}
    assert dict(back.get_model("screening", "StageSettings").objects.values_list(
        "stage", "exclusion_reasons")) == {FT: ["Wrong design", "Not a trainee"], TA: []}
    assert sorted(back.get_model("screening", "Vote").objects.values_list("reason", flat=True)
                  ) == ["", "", "An old reason", "Wrong design", "Wrong design", "Wrong design"]
    assert dict(back.get_model("screening", "Screening").objects.values_list(
        "record_id", "state")) == {no_row.pk: "pending", pending.pk: "pending",
                                   included.pk: "included", excluded.pk: "excluded",
                                   conflict.pk: "conflict"}


def test_records_screened_before_holds_existed_are_held(cast):
    from importlib import import_module

    from django.apps import apps

    from references.models import Record
    from screening import services

    voted, untouched, extracted = (RecordFactory(project=cast.project) for _ in range(3))
    services.record_vote(voted, stage=TA, reviewer=cast.ada, decision="include")
    Record.objects.filter(pk=voted.pk).update(hold=0)  # as before the hold existed
    Record.objects.filter(pk=extracted.pk).update(hold=2)

    import_module("screening.migrations.0008_hold_screened_records").hold_screened(apps, None)

    assert dict(Record.objects.values_list("id", "hold")) == {
        voted.pk: 1, untouched.pk: 0, extracted.pk: 2}
