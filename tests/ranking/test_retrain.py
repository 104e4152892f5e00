"""Retraining is counted, debounced (one queued or running per project and stage) and never
runs twice at once, in the worker as in the service."""

import json
import time
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from redis import Redis

from ranking import model, services
from ranking.models import RankingState, Training
from screening import services as screening
from screening.models import Order, Priority
from tests.conftest import start_celery_worker, stop_celery_worker

from .steps import TA, records, settle

pytestmark = pytest.mark.postgres  # advisory locks and the worker


def state(project):
    return RankingState.objects.get(project=project, stage=TA)


def test_one_retraining_is_queued_until_the_queued_one_ends(
        cast, django_capture_on_commit_callbacks):
    k = model.RETRAIN_EVERY
    pid = cast.project.pk
    with django_capture_on_commit_callbacks() as sent:
        assert services.note_decisions(pid, TA, n=k) is True
        assert services.note_decisions(pid, TA, n=k) is False  # one is queued already
        assert services.note_decisions(pid, TA, n=k) is False
    assert len(sent) == 1  # one task sent, after commit
    queued = state(cast.project)
    assert (queued.pending, bool(queued.token)) == (3 * k, True)

    training = services.retrain(pid, TA, queued.token)

    assert training.outcome == Training.Outcome.TOO_FEW
    after = state(cast.project)
    assert (after.pending, after.token, after.queued_at) == (0, "", None)
    with django_capture_on_commit_callbacks() as sent:
        assert services.note_decisions(pid, TA, n=k) is True  # free again
    assert len(sent) == 1


def test_a_retraining_with_a_stale_token_does_nothing(cast):
    pid = cast.project.pk
    services.note_decisions(pid, TA, n=5)
    queued = state(cast.project)

    assert services.retrain(pid, TA, "not-the-token") is None
    assert Training.objects.count() == 0
    assert state(cast.project).token == queued.token  # the queued one still owns it


def test_a_token_left_by_a_dead_worker_is_replaced_after_a_while(cast):
    pid = cast.project.pk
    services.note_decisions(pid, TA, n=5)
    old = state(cast.project).token
    assert services.note_decisions(pid, TA) is False
    RankingState.objects.filter(pk=state(cast.project).pk).update(
        queued_at=timezone.now() - services.STALE_AFTER - timedelta(seconds=1))

    assert services.note_decisions(pid, TA) is True
    assert state(cast.project).token not in ("", old)


def test_import_and_random_orders_retrain_only_when_the_order_changes(cast):
    pid = cast.project.pk
    settings = screening.settings_for(cast.project, TA)
    settings.order = Order.IMPORT
    settings.save()

    assert services.note_decisions(pid, TA, n=50) is False
    assert services.note_decisions(pid, TA, n=0, order_changed=True) is True


def test_a_second_training_gives_up_while_one_holds_the_lock(cast):
    pid = cast.project.pk
    services.note_decisions(pid, TA, n=5)
    token = state(cast.project).token
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [f"ranking:{TA}", pid])

        assert services.retrain(pid, TA, token) is None
        assert Training.objects.count() == 0
        other.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [f"ranking:{TA}", pid])

    assert services.retrain(pid, TA, token).outcome == Training.Outcome.TOO_FEW


def test_votes_retrain_in_the_worker_one_run_at_a_time(transactional_db, cast, celery_worker):
    made = records(cast, 12, 12)
    for record in made[:16]:  # 8 of each kind settled, each vote its own commit and signal
        settle(record, "include" if record.kind == "relevant" else "exclude", cast)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        now = state(cast.project)
        last = Training.objects.order_by("-started_at").first()
        if (not now.token and last and last.finished_at and last.includes == 8
                and last.excludes == 8):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the worker did not catch up: {list(Training.objects.values())}")

    runs = list(Training.objects.filter(project=cast.project).order_by("started_at", "id"))
    assert all(run.finished_at is not None for run in runs)
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.started_at >= before.finished_at  # never two at once
    assert len(runs) < 32  # debounced: fewer trainings than the 32 votes
    assert runs[-1].outcome == Training.Outcome.SCORED
    assert set(Priority.objects.filter(project=cast.project, stage=TA)
               .values_list("record_id", flat=True)) == {r.pk for r in made[16:]}


@pytest.fixture
def ranking_queue(settings):
    """Trainings sent to a Redis queue of this test's own, which no worker takes unless the
    test starts one on it: (queue name, Redis client)."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-ranking-{uuid.uuid4().hex[:6]}"
    settings.RANKING_QUEUE = queue
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    yield queue, redis
    redis.delete(queue)


def waiting(redis, queue) -> list[dict]:
    return [json.loads(m) for m in redis.lrange(queue, 0, -1)]


@pytest.mark.redis
def test_trainings_go_to_the_ranking_queue_and_a_worker_on_it_runs_them(
        transactional_db, cast, ranking_queue):
    queue, redis = ranking_queue
    made = records(cast, 6, 6)
    for record in made[:10]:  # 5 of each kind settled
        settle(record, "include" if record.kind == "relevant" else "exclude", cast)

    # No worker takes that queue yet: the one training the votes queued waits there.
    assert [m["headers"]["task"] for m in waiting(redis, queue)] == ["ranking.retrain"]
    assert state(cast.project).token != ""

    worker = start_celery_worker("ranking", queue=queue)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            last = Training.objects.order_by("-started_at").first()
            if (not state(cast.project).token and last and last.finished_at
                    and (last.includes, last.excludes) == (5, 5)):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the ranking worker did not train: {list(Training.objects.values())}")
    finally:
        stop_celery_worker(worker)
    assert last.outcome == Training.Outcome.SCORED
    assert set(Priority.objects.filter(project=cast.project, stage=TA)
               .values_list("record_id", flat=True)) == {r.pk for r in made[10:]}


def test_the_next_training_waits_the_cooldown_times_the_last_ones_length(cast, settings):
    pid = cast.project.pk
    services.note_decisions(pid, TA, n=5)
    services.retrain(pid, TA, state(cast.project).token)
    done = state(cast.project)
    assert done.last_finished_at is not None and done.last_seconds > 0

    now = timezone.now()
    done.last_seconds, done.last_finished_at = 4.0, now - timedelta(seconds=2)
    assert settings.RANKING_COOLDOWN == 19  # the default: retraining <= 5% of the time
    assert services.cooldown(done, now) == 74.0  # 19 x 4 s, 2 s of which have passed
    settings.RANKING_COOLDOWN = 3
    assert services.cooldown(done, now) == 10.0  # 3 x 4 s - 2 s
    done.last_finished_at = now - timedelta(seconds=13)
    assert services.cooldown(done, now) == 0.0


@pytest.mark.redis
def test_a_training_due_in_its_cooldown_waits_in_the_queue_until_it_ends(
        transactional_db, cast, ranking_queue):
    queue, redis = ranking_queue
    pid = cast.project.pk
    ended = timezone.now()
    RankingState.objects.create(project=cast.project, stage=TA, last_seconds=2.0,
                                last_finished_at=ended)
    assert services.note_decisions(pid, TA, n=1) is True
    (message,) = waiting(redis, queue)
    assert message["headers"]["task"] == "ranking.retrain"
    eta = datetime.fromisoformat(message["headers"]["eta"])
    # 19 x 2 s after the last one ended (the wait is counted when the training is queued).
    assert ended + timedelta(seconds=37.9) <= eta <= ended + timedelta(seconds=39)


@pytest.mark.django_db(transaction=True)  # the block is the outermost transaction, as in the worker
def test_a_trainings_reads_run_without_jit_and_the_setting_ends_with_them():
    def jit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    before = jit()
    with services._without_jit():
        assert jit() == "off"
    assert jit() == before == "on"
