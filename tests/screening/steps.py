"""Steps screening tests share: records brought to full text by two agreeing reviewers."""

from screening import services
from screening.models import Stage
from tests.factories import RecordFactory


def at_full_text(cast, n=1):
    """`n` new records of the cast's project, included at title and abstract by ada and ben."""
    records = RecordFactory.create_batch(n, project=cast.project)
    for record in records:
        for who in (cast.ada, cast.ben):
            services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=who,
                                 decision="include")
    return records
