"""Reviewers acting at the same instant, in real threads with their own database
connections: row locks keep every rule."""

import threading
import time

import pytest
from django.db import connection, transaction

from projects.models import AuditEvent
from screening import services
from screening.models import Screening, Stage, Vote
from tests.factories import MembershipFactory, RecordFactory, UserFactory
from tests.threads import race


@pytest.mark.postgres
def test_six_reviewers_at_once_give_exactly_the_votes_needed(transactional_db, cast):
    record = RecordFactory(project=cast.project)
    reviewers = [UserFactory() for _ in range(6)]
    for user in reviewers:
        MembershipFactory(project=cast.project, user=user)

    results = race([
        (lambda u=u: services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=u,
                                          decision="exclude"))
        for u in reviewers])

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 4
    assert all(isinstance(e, services.ScreeningError) for e in errors), errors
    screening = Screening.objects.get(record=record)
    assert (screening.state, screening.votes_in) == ("excluded", 2)
    assert Vote.objects.filter(screening=screening).count() == 2
    assert AuditEvent.objects.filter(action="screening.settle").count() == 1


@pytest.mark.postgres
def test_one_reviewer_clicking_four_times_at_once_votes_once(transactional_db, cast):
    record = RecordFactory(project=cast.project)

    results = race([
        (lambda: services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=cast.ada,
                                      decision="include")) for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)]
    assert Vote.objects.filter(reviewer=cast.ada).count() == 1
    assert Screening.objects.get(record=record).votes_in == 1
    assert AuditEvent.objects.filter(action="vote.cast").count() == 1


@pytest.mark.postgres
def test_two_resolvers_at_once_settle_once(transactional_db, cast):
    record = RecordFactory(project=cast.project)
    services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=cast.ada,
                         decision="include")
    screening = services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=cast.ben,
                                     decision="exclude")
    second_lead = UserFactory()
    MembershipFactory(project=cast.project, user=second_lead, role="lead")
    leads = [cast.lead.memberships.get(), second_lead.memberships.get()]

    results = race([
        (lambda m=m, d=d: services.resolve(screening, membership=m, decision=d))
        for m, d in zip(leads, ["include", "exclude"], strict=True)])

    assert sum(isinstance(r, services.ScreeningError) for r in results) == 1
    assert AuditEvent.objects.filter(action="screening.resolve").count() == 1
    assert Screening.objects.get(pk=screening.pk).state in ("included", "excluded")


@pytest.mark.postgres
def test_eight_reviewers_asking_at_once_are_spread_over_records_in_pairs(transactional_db, cast):
    from screening.models import Claim

    records = RecordFactory.create_batch(6, project=cast.project)
    reviewers = [UserFactory() for _ in range(8)]
    for user in reviewers:
        MembershipFactory(project=cast.project, user=user)

    results = race([
        (lambda u=u: services.claim_next(cast.project, Stage.TITLE_ABSTRACT, u))
        for u in reviewers])

    assert not [r for r in results if isinstance(r, Exception)], results
    given = sorted(r.pk for r in results)
    # Never more reviewers on a record than the votes it needs; nobody is left without one.
    assert all(given.count(pk) <= 2 for pk in set(given)), given
    assert len(given) == 8 and len(set(given)) >= 4
    assert set(given) <= {r.pk for r in records}
    for pk in set(given):
        assert Claim.objects.filter(screening__record_id=pk).count() == given.count(pk)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Activity is read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def first_then_second(first, second):
    """Interleave two services: `first` runs inside a transaction that stays open until
    `second` has finished or waits for a lock held by it; then `first` commits. Returns
    what each returned or raised."""
    first_done, second_done = threading.Event(), threading.Event()
    results = [None, None]

    def run_first():
        try:
            with transaction.atomic():
                try:
                    results[0] = first()
                finally:
                    first_done.set()
                deadline = time.monotonic() + 10
                while not second_done.is_set() and time.monotonic() < deadline:
                    if _someone_waits_for_a_lock():
                        break
                    time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[0] = exc
        finally:
            connection.close()

    def run_second():
        try:
            first_done.wait(10)
            results[1] = second()
        except Exception as exc:  # noqa: BLE001
            results[1] = exc
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock never released?)"
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("reopen_first", [False, True])
def test_reopen_and_a_first_full_text_vote_do_not_both_succeed(transactional_db, cast,
                                                               reopen_first):
    record = RecordFactory(project=cast.project)
    for who in (cast.ada, cast.ben):
        services.record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=who,
                             decision="include")
    title_abstract = Screening.objects.get(record=record, stage=Stage.TITLE_ABSTRACT)
    lead = cast.lead.memberships.get()

    def reopen():
        return services.reopen(title_abstract, membership=lead)

    def full_text_vote():
        return services.record_vote(record, stage=Stage.FULL_TEXT, reviewer=cast.cy,
                                    decision="include")

    if reopen_first:
        reopened, voted = first_then_second(reopen, full_text_vote)
    else:
        voted, reopened = first_then_second(full_text_vote, reopen)

    assert isinstance(reopened, Screening) != isinstance(voted, Screening), (reopened, voted)
    if reopen_first:
        assert isinstance(voted, services.ScreeningError), voted
        assert "not passed title and abstract" in str(voted)
        assert (Screening.objects.get(pk=title_abstract.pk).state,
                Vote.objects.filter(screening__stage=Stage.FULL_TEXT).count()) == ("conflict", 0)
    else:
        assert isinstance(reopened, services.ScreeningError), reopened
        assert "full-text votes" in str(reopened)
        assert (Screening.objects.get(pk=title_abstract.pk).state,
                Vote.objects.filter(screening__stage=Stage.FULL_TEXT).count()) == ("included", 1)
    assert AuditEvent.objects.filter(action="screening.reopen").count() == int(reopen_first)
