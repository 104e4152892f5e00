"""references.bulk: the fast paths write exactly what the ordinary ones would."""

import pytest

from projects import audit
from projects.models import AuditEvent
from references import bulk
from tests.factories import RecordFactory

FIELDS = ("project_id", "actor_id", "action", "target_type", "target_id", "target_repr",
          "before", "after", "sealed")


@pytest.mark.postgres
def test_record_events_by_copy_are_the_events_record_many_writes(cast):
    records = [RecordFactory(project=cast.project, title=title)
               for title in ("A study of talc", "Ünïcode & <i>markup</i> " + "x" * 400)]
    changes = [(r, {"duplicate_of": None}, {"duplicate_of": 7, "by": cast.lead.username})
               for r in records]

    audit.record_many(project=cast.project, actor=cast.lead, action="one.by.one",
                      changes=changes)
    written = bulk.record_events(project=cast.project, actor=cast.lead, action="by.copy",
                                 changes=changes)

    def rows(action):
        return [tuple(v for k, v in row.items() if k != "action") for row in
                AuditEvent.objects.filter(action=action).order_by("id").values(*FIELDS)]

    assert written == 2
    assert rows("by.copy") == rows("one.by.one")
    assert rows("by.copy")[1][4] == str(records[1])[:300]

