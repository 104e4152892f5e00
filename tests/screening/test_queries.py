from screening import queries, services
from screening.models import Stage
from tests.factories import RecordFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


def test_next_record_skips_what_i_voted_on_and_what_is_full(cast):
    first, second, third, fourth = RecordFactory.create_batch(4, project=cast.project)
    RecordFactory(project=cast.project, duplicate_of=fourth)  # duplicates are never screened
    services.record_vote(first, stage=TA, reviewer=cast.ada, decision="include")
    services.record_vote(second, stage=TA, reviewer=cast.ben, decision="include")
    services.record_vote(second, stage=TA, reviewer=cast.cy, decision="exclude")  # conflict

    ada = [r.pk for r in queries.needing_vote_of(cast.project, TA, cast.ada)]
    ben = [r.pk for r in queries.needing_vote_of(cast.project, TA, cast.ben)]

    assert ada == [third.pk, fourth.pk]
    assert ben == [first.pk, third.pk, fourth.pk]
    assert queries.next_record(cast.project, TA, cast.ada) == third
    assert queries.next_record(cast.project, TA, cast.ada, after=third.pk) == fourth
    assert queries.next_record(cast.project, TA, cast.ada, after=fourth.pk) is None


def test_full_text_queue_holds_what_passed_title_and_abstract(cast):
    passed, failed, untouched = RecordFactory.create_batch(3, project=cast.project)
    for record, decision in ((passed, "include"), (failed, "exclude")):
        for who in (cast.ada, cast.ben):
            services.record_vote(record, stage=TA, reviewer=who, decision=decision)

    assert list(queries.needing_vote_of(cast.project, FT, cast.cy)) == [passed]
    assert list(queries.eligible(cast.project, TA)) == [passed, failed, untouched]


def test_next_record_query_count_is_constant(cast, django_assert_num_queries):
    RecordFactory.create_batch(3, project=cast.project)
    with django_assert_num_queries(1):
        queries.next_record(cast.project, TA, cast.ada)
