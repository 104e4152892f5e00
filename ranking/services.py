"""Prioritised screening: what the model learns from, the debounced retraining that writes
the served order (screening.models.Priority), the stopping sample and estimate, and ending a
stage early by a stopping rule (reversible).

The queue (screening.queries) reads the scores; it never computes them. Screening tells us
that decisions changed through `screening.signals.decisions_changed`, after its
transaction commits; `on_decisions_changed` counts them and queues a retraining when
`model.RETRAIN_EVERY` of them have come in, unless one is queued or running already.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from celery import current_app
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from projects import audit
from projects.models import Project
from references import bulk
from references import services as references
from references.models import Record
from screening.models import Decision, Order, Priority, Screening, Stage, StageSettings, Vote
from screening.queries import eligible, ranked, stage_counts
from screening.services import settings_for

from . import model, stopping
from .cpu import in_idle_thread
from .models import EarlyStop, RankingState, StoppingSample, Training

State = Screening.State
RETRAIN_TASK = "ranking.retrain"
# A queued training whose worker died never clears its token: after this long another may
# be queued (the advisory lock still keeps two from running at once).
STALE_AFTER = timedelta(minutes=15)
# The sample is served before every scored record: scores are ranks in [0, 1).
SAMPLE_OFFSET = 2.0
STOP_NOTE = "Excluded by stopping rule"


class RankingError(Exception):
    """A rule was broken; the message says which, for the user."""


# --- Labels and the records still to screen -------------------------------------------

def labels(project: Project, stage: str, *, among: set[int] | None = None) -> dict[int, int]:
    """record id -> 1 (include) or 0 (exclude): the settled outcome, else the first vote on
    an unsettled record (maybe counts as include), over the stage's records (`among`: those
    ids, already read by the caller)."""
    settled = Screening.objects.filter(project=project, stage=stage,
                                       state__in=(State.INCLUDED, State.EXCLUDED))
    first_votes = (Vote.objects.filter(
        screening__project=project, screening__stage=stage,
        screening__state__in=(State.PENDING, State.CONFLICT))
        .order_by("screening_id", "created_at", "id"))
    if among is None:
        records = eligible(project, stage).values("pk")
        settled = settled.filter(record__in=records)
        first_votes = first_votes.filter(screening__record__in=records)
    out = {rid: int(state == State.INCLUDED)
           for rid, state in settled.values_list("record_id", "state")
           if among is None or rid in among}
    for rid, decision in first_votes.values_list("screening__record_id", "decision"):
        if among is None or rid in among:
            out.setdefault(rid, int(decision != Decision.EXCLUDE))
    return out


def _started(project: Project, stage: str):
    """The stage's Screening rows of records someone has voted on or that are otherwise
    decided (not pending, or with votes)."""
    return Screening.objects.filter(project=project, stage=stage).filter(
        ~Q(state=State.PENDING) | Q(votes_in__gt=0))


def unvoted(project: Project, stage: str):
    """The stage's records nobody has voted on and that are not otherwise decided: no row
    at the stage, or a pending one without votes (a record on someone's screen)."""
    return eligible(project, stage).exclude(
        pk__in=_started(project, stage).values("record_id"))


# --- Retraining: counted, debounced, never two at once --------------------------------

def on_decisions_changed(sender, *, project_id: int, stage: str, n: int = 1,
                         order_changed: bool = False, **kwargs) -> None:
    """Receiver of screening's signal (after its transaction committed)."""
    note_decisions(project_id, stage, n=n, order_changed=order_changed)


def note_decisions(project_id: int, stage: str, *, n: int = 1,
                   order_changed: bool = False) -> bool:
    """Count `n` decision events at a stage; queue a retraining if one is due and none is
    queued or running. Returns whether this call queued one. On every vote: one statement
    (an upsert that returns the state) unless a training is due and none is queued. The count
    only steers retraining: losing the last ones in a crash costs nothing, so its commit need
    not wait for the disk (a second flush on every vote)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"INSERT INTO {RankingState._meta.db_table} (project_id, stage, pending,"
            " order_changed, token) VALUES (%s, %s, %s, %s, '')"
            " ON CONFLICT (project_id, stage) DO UPDATE SET"
            " pending = excluded.pending + {table}.pending,"
            " order_changed = excluded.order_changed OR {table}.order_changed"
            " RETURNING pending, order_changed, token, queued_at"
            .replace("{table}", RankingState._meta.db_table),
            [project_id, stage, n, order_changed])
        pending, changed, token, queued_at = cursor.fetchone()
    if token and not _stale(queued_at):
        return False  # one is queued or running: it will look again when it ends
    if not changed and pending < model.RETRAIN_EVERY:
        return False
    return queue_if_due(project_id, stage)


def _stale(queued_at) -> bool:
    if queued_at is None:
        return True
    if isinstance(queued_at, str):  # SQLite's RETURNING gives the text
        queued_at = datetime.fromisoformat(queued_at)
    if timezone.is_naive(queued_at):
        queued_at = timezone.make_aware(queued_at, UTC)
    return queued_at < timezone.now() - STALE_AFTER


def queue_if_due(project_id: int, stage: str) -> bool:
    """Queue a retraining when the order changed, or when relevance order has had
    `model.RETRAIN_EVERY` decision events since the last training started; only
    the call whose conditional UPDATE sets the token queues it."""
    state = RankingState.objects.filter(project_id=project_id, stage=stage).first()
    if state is None:
        return False
    order = (StageSettings.objects.filter(project_id=project_id, stage=stage)
             .values_list("order", flat=True).first() or Order.RELEVANCE)
    due = state.order_changed or (order == Order.RELEVANCE
                                  and state.pending >= model.RETRAIN_EVERY)
    if not due:
        return False
    token, now = uuid.uuid4().hex, timezone.now()
    won = RankingState.objects.filter(pk=state.pk).filter(
        Q(token="") | Q(queued_at__lt=now - STALE_AFTER)).update(token=token, queued_at=now)
    if not won:
        return False
    kwargs = {"project_id": project_id, "stage": stage, "token": token}
    delay = cooldown(state, now)
    queue = django_settings.RANKING_QUEUE
    transaction.on_commit(lambda: current_app.send_task(RETRAIN_TASK, kwargs=kwargs,
                                                        countdown=delay or None, queue=queue))
    return True


def cooldown(state: RankingState, now) -> float:
    """Seconds the next training waits: RANKING_COOLDOWN (setting) times the last one's
    length, counted from its end (0 once that much time has passed). With a cooldown of c,
    a stage's retraining takes at most 1 / (1 + c) of the time while people screen."""
    if state.last_finished_at is None:
        return 0.0
    waited = (now - state.last_finished_at).total_seconds()
    wait = django_settings.RANKING_COOLDOWN * state.last_seconds - waited
    return round(max(0.0, wait), 1)


def _try_lock(project_id: int, stage: str) -> bool:
    """A session-level advisory lock per project and stage (PostgreSQL; SQLite runs one
    worker): a second training that gets here while one runs gives up."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)",
                       [f"ranking:{stage}", project_id])
        return bool(cursor.fetchone()[0])


def _unlock(project_id: int, stage: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)",
                           [f"ranking:{stage}", project_id])


def retrain(project_id: int, stage: str, token: str) -> Training | None:
    """The queued retraining (Celery task `ranking.retrain`): take the counted decisions,
    learn, write the order, give up the token, and queue the next one if enough decisions
    came in meanwhile. None when another training holds the lock or the token is gone."""
    if not _try_lock(project_id, stage):
        return None
    training, started = None, time.monotonic()
    try:
        taken = RankingState.objects.filter(project_id=project_id, stage=stage,
                                            token=token).update(pending=0, order_changed=False)
        if not taken:
            return None
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return None
        training = train(project, stage)
    finally:
        _unlock(project_id, stage)
        RankingState.objects.filter(project_id=project_id, stage=stage, token=token).update(
            token="", queued_at=None,
            last_seconds=time.monotonic() - started, last_finished_at=timezone.now())
    queue_if_due(project_id, stage)
    return training


def train(project: Project, stage: str) -> Training:
    """Learn from the stage's labels and write the served order now (the retraining's work;
    tests and the screening benchmark call it directly)."""
    settings = settings_for(project, stage)
    training = Training.objects.create(project=project, stage=stage)
    try:
        _train(project, stage, settings, training)
    except Exception as exc:  # the page says why; the queue keeps its last order
        training.outcome, training.error = Training.Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        training.finished_at = timezone.now()
        training.save()
        raise
    training.finished_at = timezone.now()
    training.save()
    return training


def _stage_records(project: Project, stage: str) -> tuple[list[int], list[int]]:
    """The stage's records (ids, in order) and those of them in `unvoted`, in one pass over
    the records: a training runs while people screen, and at 100,000 records each pass is
    database time taken from them. The rows are fetched by the database driver, not built
    into model rows one by one (0.2 s of the worker's processor at 100,000 records)."""
    started = _started(project, stage).filter(record_id=OuterRef("pk"))
    sql, params = (eligible(project, stage).order_by("id").annotate(started=Exists(started))
                   .values_list("id", "started").query.sql_with_params())
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
    return rows[:, 0].tolist(), rows[rows[:, 1] == 0, 0].tolist()


@contextmanager
def _without_jit():
    """A transaction whose queries PostgreSQL does not JIT-compile. The planner's estimate
    for a training's reads of a 100,000-record stage is high enough to compile them, and the
    compiling took 0.7 s of a core for a 0.2 s query, at normal priority, while people
    screen."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _train(project: Project, stage: str, settings: StageSettings, training: Training) -> None:
    ids, todo = _stage_records(project, stage)
    training.records = len(todo)
    if settings.order == Order.IMPORT:
        training.outcome = Training.Outcome.IMPORT
        return
    if settings.order == Order.RANDOM:
        rng = np.random.default_rng(settings.order_seed)
        scores = rng.permutation(len(todo)) / max(len(todo), 1)
        rows = in_idle_thread(_ranked_rows, todo, scores)
        training.scored = _write_scores(project, stage, rows, Order.RANDOM)
        training.outcome = Training.Outcome.RANDOM
        return
    known = labels(project, stage, among=set(ids))
    training.includes = sum(known.values())
    training.excludes = len(known) - training.includes
    if training.includes < model.MIN_INCLUDES or training.excludes < model.MIN_EXCLUDES:
        StageSettings.objects.filter(pk=settings.pk).update(scores_order="")
        training.outcome = Training.Outcome.TOO_FEW
        return
    started = time.perf_counter()
    X = features(project, stage, ids)
    training.seconds_features = time.perf_counter() - started
    started = time.perf_counter()
    rows = in_idle_thread(_rank, X, ids, todo, known, seed=settings.order_seed)
    training.seconds_model = time.perf_counter() - started
    training.scored = _write_scores(project, stage, rows, Order.RELEVANCE)
    training.outcome = Training.Outcome.SCORED


def _rank(X, ids: list[int], todo: list[int], known: dict[int, int], *,
          seed: int) -> list[tuple[int, float]]:
    """Learn from `known` and order `todo` (pure computation, run at idle priority): (record
    id, score) with scores the ranks in [0, 1), highest first. The order is what matters,
    and a rank reads the same in any model. `ids` come in increasing order (X's rows)."""
    rows = np.asarray(ids, dtype=np.int64)
    labelled_ids = np.fromiter(known, dtype=np.int64, count=len(known))
    y = np.fromiter(known.values(), dtype=np.int64, count=len(known))
    kept = np.isin(labelled_ids, rows)
    scores = model.fit_scores(X, np.searchsorted(rows, labelled_ids[kept]), y[kept], seed=seed)
    todo_ids = np.asarray(todo, dtype=np.int64)
    todo_scores = scores[np.searchsorted(rows, todo_ids)]
    ranks = np.empty(len(todo))
    ranks[np.argsort(todo_scores, kind="stable")] = np.arange(len(todo))
    return _ranked_rows(todo_ids, ranks / max(len(todo), 1))


def _ranked_rows(record_ids, scores) -> list[tuple[int, float]]:
    """(record id, score), highest score first, then by record id."""
    ids = np.asarray(record_ids, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((ids, -values))
    return list(zip(ids[order].tolist(), values[order].tolist(), strict=True))


def features(project: Project, stage: str, ids: list[int]):
    """`model.featurise` of the stage's records `ids` (in that order), kept on disk between
    trainings, and the last file this process read kept in its memory: reading 100,000
    records' text and making the features costs most of a training (6.6 s for 10,000
    records; learning takes 0.5 s), and a record's text never changes once imported (a
    changed set of records has other ids). The file is used only when it was made for
    exactly these ids."""
    key = hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()
    folder = Path(django_settings.RANKING_CACHE_DIR)
    path = folder / f"features-{project.pk}-{stage}.npz"
    X = in_idle_thread(_load_features, path, key)
    if X is not None:
        return X
    # The same set as `ids` but a moment later: a record gone since reads as empty text.
    with _without_jit():
        text = {rid: model.document(title, abstract, "; ".join(map(str, keywords or [])),
                                    journal)
                for rid, title, abstract, keywords, journal in eligible(project, stage)
                .values_list("id", "title", "abstract", "keywords", "journal")
                .iterator(chunk_size=5000)}
    X = in_idle_thread(model.featurise, [text.get(rid, "") for rid in ids])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{uuid.uuid4().hex}.npz"
    np.savez(tmp, data=X.data, indices=X.indices, indptr=X.indptr, shape=np.array(X.shape),
             key=np.array(key))
    os.replace(tmp, path)
    _keep_in_memory(path, key, X)
    return X


# The features file this process read or wrote last, as (path, key, file stamp, matrix): the
# next training of the same stage uses it without reading 270 MB (100,000 records) again, and
# with its pages already in memory the scoring takes 0.3 s instead of 0.8 s. One entry, so a
# worker holds at most one stage's features; it mirrors the file (same stamp) or is not used.
_in_memory: tuple | None = None
_in_memory_lock = threading.Lock()


def _stamp(path: Path):
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _keep_in_memory(path: Path, key: str, X) -> None:
    global _in_memory
    try:
        entry = (path, key, _stamp(path), X)
    except OSError:
        entry = None
    with _in_memory_lock:
        _in_memory = entry


def _load_features(path: Path, key: str):
    """The cached features if the file was made for `key`, else None: from this process's
    memory while the file is the one it read, else from the file."""
    try:
        stamp = _stamp(path)
    except OSError:
        return None  # none yet: make it
    with _in_memory_lock:
        entry = _in_memory
    if entry is not None and entry[:3] == (path, key, stamp):
        return entry[3]
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["key"]) != key:
                return None
            X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
    except (OSError, ValueError, KeyError):
        return None  # unreadable: make it again
    _keep_in_memory(path, key, X)
    return X


def _write_scores(project: Project, stage: str, ranked_rows: list[tuple[int, float]],
                  order: str) -> int:
    """Replace the stage's scores in one transaction (the queue reads the old ones until
    it commits): the first RANKING_SCORED_MAX records of the order, the latest stopping
    sample's records nobody has voted on first of all. Only the head of the order is written:
    the next training comes long before it is used up (and the records after it would come
    in import order), and rewriting 100,000 rows each time weighed on the database while
    people screen. `ranked_rows` (`_ranked_rows`) come sorted, so the transaction stays short."""
    limit = django_settings.RANKING_SCORED_MAX
    with transaction.atomic():
        sample = latest_sample(project, stage)
        first = set(sample.record_ids) if sample else set()
        rows = []
        if first:
            todo = {rid for rid, _ in ranked_rows}
            rows = sorted(((rid, score) for rid, score in sample_scores(sample).items()
                           if rid in todo), key=lambda row: (-row[1], row[0]))
        rows += [row for row in ranked_rows[:limit + len(first)] if row[0] not in first]
        rows = rows[:max(limit, len(first))]
        Priority.objects.filter(project=project, stage=stage).delete()
        if bulk.is_postgres():  # COPY: 100,000 rows in about a second
            bulk.copy_rows(Priority, ["project_id", "stage", "record_id", "score"],
                           [(project.pk, stage, rid, score) for rid, score in rows])
        else:
            Priority.objects.bulk_create(
                [Priority(project_id=project.pk, stage=stage, record_id=rid, score=score)
                 for rid, score in rows], batch_size=5000)
        StageSettings.objects.filter(project=project, stage=stage).update(scores_order=order)
    return len(rows)


def last_training(project: Project, stage: str) -> Training | None:
    return (Training.objects.filter(project=project, stage=stage)
            .order_by("-started_at", "-id").first())


# --- The stopping aid -----------------------------------------------------------------

def latest_sample(project: Project, stage: str) -> StoppingSample | None:
    return (StoppingSample.objects.filter(project=project, stage=stage)
            .order_by("-drawn_at", "-id").first())


def sample_scores(sample: StoppingSample) -> dict[int, float]:
    """The scores that serve a sample's records before every other (above SAMPLE_OFFSET),
    in a random order seeded by the draw: the same when drawn and at every retraining."""
    rng = random.Random(sample.seed)
    return {rid: SAMPLE_OFFSET + rng.random() for rid in sorted(sample.record_ids)}


@transaction.atomic
def draw_sample(project: Project, stage: str, *, size: int, user,
                seed: int | None = None) -> StoppingSample:
    """Draw `size` records at random from those nobody has voted on and serve them before
    every other fresh record (scores above all others). Needs the stage served by score:
    in import order the queue does not read scores."""
    settings = settings_for(project, stage)
    if not ranked(settings):
        raise RankingError("A sample is served first only while records are served by "
                           "relevance or at random: choose one of those orders in the "
                           "stage's settings (relevance needs 5 includes and 5 excludes).")
    if size < 1:
        raise RankingError("Draw at least one record.")
    remaining = list(unvoted(project, stage).order_by("id").values_list("id", flat=True))
    if not remaining:
        raise RankingError("Every record has votes: there is nothing left to sample.")
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    rng = random.Random(seed)
    chosen = sorted(rng.sample(remaining, min(size, len(remaining))))
    sample = StoppingSample.objects.create(
        project=project, stage=stage, remaining=len(remaining),
        found_before=stage_counts(project, stage)["included"],
        record_ids=chosen, seed=seed, drawn_by=user)
    Priority.objects.bulk_create(
        [Priority(project=project, stage=stage, record_id=rid, score=score)
         for rid, score in sample_scores(sample).items()],
        update_conflicts=True, unique_fields=["record", "stage"], update_fields=["score"])
    audit.record(project=project, actor=user, action="ranking.sample", target=sample,
                 after={"stage": stage, "size": len(chosen), "remaining": len(remaining),
                        "seed": seed})
    return sample


@dataclass(frozen=True)
class Progress:
    """What the stage page shows: settled records in the order they were settled, the
    includes found along the way, and the decisions since the last include."""

    settled: int
    included: int
    since_last_include: int
    curve: list[tuple[int, int]]  # (records settled, includes found), at most ~200 points
    unvoted: int


def progress(project: Project, stage: str, *, points: int = 200) -> Progress:
    states = list(Screening.objects.filter(
        project=project, stage=stage, state__in=(State.INCLUDED, State.EXCLUDED),
        record__in=eligible(project, stage).values("pk"))
        .order_by("settled_at", "id").values_list("state", flat=True))
    curve, found, since = [(0, 0)], 0, 0
    step = max(1, len(states) // points)
    for i, state in enumerate(states, start=1):
        if state == State.INCLUDED:
            found, since = found + 1, 0
        else:
            since += 1
        if i % step == 0 or i == len(states):
            curve.append((i, found))
    return Progress(settled=len(states), included=found, since_last_include=since,
                    curve=curve, unvoted=unvoted(project, stage).count())


@dataclass(frozen=True)
class SampleStatus:
    sample: StoppingSample
    screened: int  # sample records settled
    included: int  # of those, included
    open: int  # sample records not settled yet
    estimate: stopping.Estimate


def sample_status(project: Project, stage: str, *, target: float = 0.95,
                  confidence: float = 0.95) -> SampleStatus | None:
    """The estimate from the latest sample: its settled records are the draws (n), their
    includes k; the includes found outside the sample are those found before it."""
    sample = latest_sample(project, stage)
    if sample is None:
        return None
    states = dict(Screening.objects.filter(project=project, stage=stage,
                                           record_id__in=sample.record_ids)
                  .values_list("record_id", "state"))
    settled = [s for s in states.values() if s in (State.INCLUDED, State.EXCLUDED)]
    k = sum(s == State.INCLUDED for s in settled)
    included_now = stage_counts(project, stage)["included"]
    est = stopping.estimate(n_remaining=sample.remaining, found_before=included_now - k,
                            sample_size=len(settled), sample_includes=k, target=target,
                            confidence=confidence)
    return SampleStatus(sample=sample, screened=len(settled), included=k,
                        open=len(sample.record_ids) - len(settled), estimate=est)


def active_stop(project: Project, stage: str) -> EarlyStop | None:
    return (EarlyStop.objects.filter(project=project, stage=stage, undone_at__isnull=True)
            .order_by("-stopped_at").first())


def check_can_end(project: Project, stage: str, *, note: str) -> None:
    """Why a stage cannot be ended early now (RankingError), checked by the page before it
    starts the job and again by the job."""
    if stage != Stage.TITLE_ABSTRACT:
        raise RankingError("Screening can be ended early at title and abstract only.")
    if not note.strip():
        raise RankingError("Say why screening ends here: the note goes with every record.")
    if active_stop(project, stage):
        raise RankingError("Screening of this stage has been ended already; undo that first.")


def end_early(project: Project, stage: str, *, note: str, user, figures: dict,
              progress=None) -> EarlyStop:
    """Mark the records nobody has voted on "excluded by stopping rule": removed before
    screening as ineligible by automation tools (PRISMA's box), with the lead's note and the
    figures. Records someone has voted on keep going until all their votes are in. Title and
    abstract only: PRISMA counts automation before screening, and every report sought at
    full text is assessed. A vote landing in between makes the removal refuse its record;
    the next try leaves that record out."""
    note = note.strip()
    check_can_end(project, stage, note=note)
    for _attempt in range(3):
        ids = list(unvoted(project, stage).order_by("id").values_list("id", flat=True))
        if progress:
            progress(10, 100, f"Marking {len(ids)} records")
        try:
            with transaction.atomic():
                references.remove_before_screening(
                    project, ids, reason="automation", note=f"{STOP_NOTE}: {note}", user=user,
                    grouped_allowed=True)
                # Their empty rows (records on someone's screen) go, and the claims with them.
                Screening.objects.filter(project=project, stage=stage, record_id__in=ids,
                                         state=State.PENDING, votes_in=0).delete()
                Priority.objects.filter(project=project, stage=stage,
                                        record_id__in=ids).delete()
                stop = EarlyStop.objects.create(project=project, stage=stage, note=note,
                                                figures=figures, record_ids=ids,
                                                stopped_by=user)
                audit.record(project=project, actor=user, action="ranking.stop", target=stop,
                             after={"stage": stage, "records": len(ids), "note": note,
                                    "figures": figures})
            return stop
        except references.ServiceError:
            continue  # a vote came in between: count again
    raise RankingError("Votes kept coming in while the records were being marked: try again "
                       "when screening is quieter.")


@transaction.atomic
def undo_early_stop(stop: EarlyStop, *, user) -> int:
    """Put back the records the stop marked that are still so marked (audited per record),
    into the queue in import order until the next retraining scores them."""
    stop = EarlyStop.objects.select_for_update().get(pk=stop.pk)
    if stop.undone_at is not None:
        raise RankingError("This stop has been undone already.")
    still = list(stop_marked(stop).values_list("id", flat=True))
    n = references.restore_to_screening(stop.project, still, user=user)
    stop.undone_at, stop.undone_by = timezone.now(), user
    stop.save(update_fields=["undone_at", "undone_by"])
    audit.record(project=stop.project, actor=user, action="ranking.stop_undone", target=stop,
                 before={"records": len(stop.record_ids)}, after={"restored": n})
    # The records are back: the order is written again (as after a change of order).
    note_decisions(stop.project_id, stop.stage, n=0, order_changed=True)
    return n


def stop_marked(stop: EarlyStop):
    return Record.objects.filter(project_id=stop.project_id, pk__in=stop.record_ids,
                                 removed_reason="automation",
                                 removed_note__startswith=STOP_NOTE)
