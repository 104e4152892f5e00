from datetime import timedelta

from django.utils import timezone

from references.models import Record
from screening import queries, services
from screening.models import Claim, QueuePosition, Stage
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
    assert queries.next_record(cast.project, TA, cast.ada, exclude=[third.pk]) == fourth
    assert queries.next_record(cast.project, TA, cast.ada,
                               exclude=[third.pk, fourth.pk]) is None


def test_full_text_queue_holds_what_passed_title_and_abstract(cast):
    passed, failed, untouched = RecordFactory.create_batch(3, project=cast.project)
    for record, decision in ((passed, "include"), (failed, "exclude")):
        for who in (cast.ada, cast.ben):
            services.record_vote(record, stage=TA, reviewer=who, decision=decision)

    assert list(queries.needing_vote_of(cast.project, FT, cast.cy)) == [passed]
    assert list(queries.eligible(cast.project, TA)) == [passed, failed, untouched]


def test_next_record_query_count_is_constant(cast, django_assert_num_queries):
    settings = services.settings_for(cast.project, TA)
    RecordFactory.create_batch(3, project=cast.project)
    with django_assert_num_queries(4):  # my claims, open records, fresh records, the record
        queries.next_record(cast.project, TA, cast.ada, settings=settings)
    RecordFactory.create_batch(30, project=cast.project)
    with django_assert_num_queries(4):
        queries.next_record(cast.project, TA, cast.ada, settings=settings)


def claim(cast, who, exclude=()):
    record = services.claim_next(cast.project, TA, getattr(cast, who), exclude=exclude)
    return record.pk if record else None


def test_reviewers_are_given_a_record_in_pairs_not_all_the_same_one(cast):
    r1, r2, r3 = (r.pk for r in RecordFactory.create_batch(3, project=cast.project))

    # Two votes are needed: the first two reviewers share record 1, the third gets record 2.
    assert [claim(cast, "ada"), claim(cast, "ben"), claim(cast, "cy")] == [r1, r1, r2]
    # Asking again gives the record one has open (a reload does not skip it).
    assert claim(cast, "ada") == r1
    # Fetching ahead: the next with room, past what is on the screen.
    assert claim(cast, "ada", exclude=[r1]) == r2
    assert claim(cast, "ben", exclude=[r1]) == r3  # record 2 has cy and ada
    assert Claim.objects.filter(screening__record_id=r2).count() == 2


def test_a_vote_ends_the_claim_and_the_queue_moves_on(cast):
    r1, r2 = (r.pk for r in RecordFactory.create_batch(2, project=cast.project))
    assert claim(cast, "ada") == r1

    services.record_vote(Record.objects.get(pk=r1), stage=TA, reviewer=cast.ada,
                         decision="include")

    assert not Claim.objects.filter(reviewer=cast.ada).exists()
    assert claim(cast, "ada") == r2
    assert claim(cast, "ben") == r1  # one vote in, room for one more: started records first


def test_an_expired_claim_no_longer_keeps_others_away(cast):
    r1, r2 = (r.pk for r in RecordFactory.create_batch(2, project=cast.project))
    services.update_settings(services.settings_for(cast.project, TA), user=cast.lead,
                             reviewers_needed=1)
    assert claim(cast, "ada") == r1
    assert claim(cast, "ben") == r2

    Claim.objects.filter(reviewer=cast.ada).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    assert claim(cast, "cy") == r1


def test_a_claim_does_not_stop_a_vote_while_the_record_has_room(cast):
    record = RecordFactory(project=cast.project)
    assert claim(cast, "ada") == record.pk
    assert claim(cast, "ben") == record.pk

    screening = services.record_vote(record, stage=TA, reviewer=cast.cy, decision="exclude")

    assert (screening.votes_in, screening.state) == (1, "pending")


def test_when_everything_is_claimed_the_rest_is_still_given_out(cast):
    record = RecordFactory(project=cast.project)
    assert claim(cast, "ada") == record.pk
    assert claim(cast, "ben") == record.pk

    # Nothing else is left: cy still gets the record rather than "nothing to do".
    assert claim(cast, "cy") == record.pk


def test_a_record_below_the_queue_position_without_a_row_is_not_lost(cast):
    r1, r2, r3, r4 = RecordFactory.create_batch(4, project=cast.project)
    r2.duplicate_of = r1
    r2.save()
    services.update_settings(services.settings_for(cast.project, TA), user=cast.lead,
                             reviewers_needed=1)
    given = [claim(cast, "cy")]
    given.append(claim(cast, "cy", exclude=given))
    assert given == [r1.pk, r3.pk]
    assert QueuePosition.objects.get(reviewer=cast.cy, stage=TA).frontier == r3.pk
    r2.duplicate_of = None  # unmerged: a record below the position, with no row
    r2.save()

    given.append(claim(cast, "cy", exclude=given))
    given.append(claim(cast, "cy", exclude=given))

    assert given == [r1.pk, r3.pk, r4.pk, r2.pk]  # last, but given
    assert queries.next_record(cast.project, TA, cast.ben, exclude=given) is None


def test_pairs_assigned_blocks_each_start_at_their_own_block(cast):
    records = RecordFactory.create_batch(6, project=cast.project)
    services.assign_batch(cast.project, stage=TA, reviewers=[cast.ada, cast.ben], count=3,
                          user=cast.lead)
    services.assign_batch(cast.project, stage=TA, reviewers=[cast.cy, cast.lead], count=3,
                          user=cast.lead)

    assert [claim(cast, "cy"), claim(cast, "ada"), claim(cast, "lead"), claim(cast, "ben")] == [
        records[3].pk, records[0].pk, records[3].pk, records[0].pk]
    assert claim(cast, "cy", exclude=[records[3].pk]) == records[4].pk


def test_a_vote_from_the_list_ahead_of_the_queue_hides_nothing(cast):
    records = RecordFactory.create_batch(4, project=cast.project)
    services.record_vote(records[3], stage=TA, reviewer=cast.lead, decision="include")

    given = [claim(cast, "ada", exclude=[]) for _ in range(1)]
    given += [claim(cast, "ada", exclude=given)]
    given += [claim(cast, "ada", exclude=given)]
    given += [claim(cast, "ada", exclude=given)]

    # The started record first, then the fresh ones in order; none is skipped.
    assert given == [records[3].pk, records[0].pk, records[1].pk, records[2].pk]


def test_claiming_query_count_is_constant(cast, django_assert_num_queries):
    settings = services.settings_for(cast.project, TA)
    RecordFactory.create_batch(3, project=cast.project)
    # A fresh record: my claims, open records, fresh records, (savepoint) no disk wait,
    # row, queue position, lock, others' claims, my claim, (release), the record.
    with django_assert_num_queries(12):
        services.claim_next(cast.project, TA, cast.ada, settings=settings)
    # A started record with room: no row and no frontier to write, no fresh records to look for.
    with django_assert_num_queries(9):
        services.claim_next(cast.project, TA, cast.ben, settings=settings)
    RecordFactory.create_batch(60, project=cast.project)
    services.claim_next(cast.project, TA, cast.cy, settings=settings)
    services.claim_next(cast.project, TA, cast.lead, settings=settings)

    on_screen = list(Claim.objects.filter(reviewer=cast.ada).values_list(
        "screening__record_id", flat=True))
    with django_assert_num_queries(12):
        services.claim_next(cast.project, TA, cast.ada, settings=settings, exclude=on_screen)
    with django_assert_num_queries(2):  # the record I have open: my claims, the record
        services.claim_next(cast.project, TA, cast.ben, settings=settings)


def test_pair_agreements_in_sql_give_the_same_tables_as_the_python_rule(cast):
    from projects.models import Role
    from screening import agreement
    from tests.factories import MembershipFactory, ProjectFactory

    def votes(record, *decisions):
        for who, decision in zip((cast.ada, cast.ben, cast.cy), decisions, strict=False):
            services.record_vote(record, stage=TA, reviewer=who, decision=decision)

    three, *pairs, waiting, merged = RecordFactory.create_batch(7, project=cast.project)
    settings = services.settings_for(cast.project, TA)
    services.update_settings(settings, user=cast.lead, reviewers_needed=3)
    votes(three, "maybe", "exclude", "include")  # three reviewers on one record
    services.update_settings(settings, user=cast.lead, reviewers_needed=2)
    for record, decisions in zip(pairs, (("include", "include"), ("exclude", "exclude"),
                                         ("exclude", "maybe"), ("include", "exclude")),
                                 strict=True):
        votes(record, *decisions)
    votes(waiting, "exclude")  # pending: never counted
    votes(merged, "include", "exclude")
    Record.objects.filter(pk=merged.pk).update(duplicate_of=three)  # a duplicate: not counted
    other = ProjectFactory()  # another project's votes never count here
    MembershipFactory(project=other, user=cast.ada, role=Role.REVIEWER)
    MembershipFactory(project=other, user=cast.ben, role=Role.REVIEWER)
    elsewhere = RecordFactory(project=other)
    for who in (cast.ada, cast.ben):
        services.record_vote(elsewhere, stage=TA, reviewer=who, decision="exclude")

    in_sql = queries.pair_agreements(cast.project, TA)

    ada, ben, cy = cast.ada.pk, cast.ben.pk, cast.cy.pk
    assert in_sql == agreement.pair_agreements(queries.settled_votes(cast.project, TA))
    assert in_sql == [
        # both include, a include/b exclude, a exclude/b include, both exclude
        agreement.PairAgreement(ada, ben, 1, 2, 1, 1),
        agreement.PairAgreement(ada, cy, 1, 0, 0, 0),
        agreement.PairAgreement(ben, cy, 0, 0, 1, 0),
    ]
    assert queries.pair_agreements(cast.project, Stage.FULL_TEXT) == []
