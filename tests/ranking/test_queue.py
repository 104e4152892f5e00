"""The served order follows the scores the retraining writes, while the dual rules hold."""

from ranking import services
from ranking.models import Training
from screening import services as screening
from screening.models import Order, Priority, Screening, StageSettings

from .steps import TA, decide, records, settle, vote


def order_of(project):
    """The stage's scored records, highest score first (ties by record id)."""
    scores = dict(Priority.objects.filter(project=project, stage=TA)
                  .values_list("record_id", "score"))
    return sorted(scores, key=lambda rid: (-scores[rid], rid))


def test_the_queue_serves_the_highest_score_first_once_trained(cast):
    made = records(cast, 12, 12)
    left = decide(made, cast)
    kinds = {r.pk: r.kind for r in made}

    training = services.train(cast.project, TA)

    assert (training.outcome, training.includes, training.excludes, training.scored,
            training.records) == (Training.Outcome.SCORED, 5, 5, 14, 14)
    assert StageSettings.objects.get(project=cast.project, stage=TA).scores_order == "relevance"
    expected = order_of(cast.project)
    assert set(expected) == {r.pk for r in left}
    assert [kinds[rid] for rid in expected] == ["relevant"] * 7 + ["irrelevant"] * 7
    served = []
    for _ in range(14):
        record = screening.claim_next(cast.project, TA, cast.cy)
        served.append(record.pk)
        vote(record, cast.cy, "exclude")
    assert served == expected
    assert screening.claim_next(cast.project, TA, cast.cy) is None


def test_a_started_record_gets_its_other_votes_before_any_fresh_one(cast):
    made = records(cast, 12, 12)
    decide(made, cast)
    services.train(cast.project, TA)
    expected = order_of(cast.project)
    lowest = next(r for r in made if r.pk == expected[-1])

    vote(lowest, cast.cy, "include")  # the last in the order, started by cy

    # ada gets it before the highest-scored fresh record: a started record is finished first.
    assert screening.claim_next(cast.project, TA, cast.ada).pk == lowest.pk
    # ben does not: cy's vote and ada's claim fill its two places.
    assert screening.claim_next(cast.project, TA, cast.ben).pk == expected[0]
    vote(lowest, cast.ada, "include")
    assert Screening.objects.get(record=lowest, stage=TA).state == Screening.State.INCLUDED
    # ben's record, started now, comes before any fresh one for ada too.
    assert screening.claim_next(cast.project, TA, cast.ada).pk == expected[0]


def test_import_order_until_five_includes_and_five_excludes(cast):
    made = records(cast, 10, 10, interleave=False)  # the irrelevant ones come first
    left = decide(made, cast, n_each=4)

    training = services.train(cast.project, TA)

    assert (training.outcome, training.includes, training.excludes) == (
        Training.Outcome.TOO_FEW, 4, 4)
    assert StageSettings.objects.get(project=cast.project, stage=TA).scores_order == ""
    kinds = {r.pk: r.kind for r in made}
    first = screening.claim_next(cast.project, TA, cast.cy)
    assert first.pk == min(r.pk for r in left)  # import order
    assert kinds[first.pk] == "irrelevant"
    vote(first, cast.cy, "exclude")
    vote(first, cast.ada, "exclude")  # settled: 5 excludes
    fifth = next(r for r in left if r.kind == "relevant")
    settle(fifth, "include", cast)  # 5 includes

    assert services.train(cast.project, TA).outcome == Training.Outcome.SCORED
    assert kinds[screening.claim_next(cast.project, TA, cast.cy).pk] == "relevant"


def test_the_first_vote_counts_until_a_record_is_settled(cast):
    a, b, c, d, e, f = records(cast, 3, 3)
    settle(a, "include", cast)
    vote(b, cast.ada, "exclude")  # then ben includes: a conflict, the first vote counts
    vote(b, cast.ben, "include")
    vote(c, cast.ben, "maybe")  # maybe counts as include
    vote(d, cast.ada, "exclude")
    settle(e, "exclude", cast)
    vote(f, cast.ada, "include")
    vote(f, cast.ben, "exclude")
    conflict = Screening.objects.get(record=f, stage=TA)
    lead = cast.project.memberships.get(user=cast.lead)
    screening.resolve(conflict, membership=lead, decision="exclude")  # the outcome counts

    assert services.labels(cast.project, TA) == {a.pk: 1, b.pk: 0, c.pk: 1, d.pk: 0,
                                                 e.pk: 0, f.pk: 0}
    # A training passes the records it read: only those count.
    assert services.labels(cast.project, TA, among={a.pk, b.pk, f.pk}) == {
        a.pk: 1, b.pk: 0, f.pk: 0}


def test_random_order_is_seeded_and_served(cast):
    records(cast, 6, 6)
    settings = screening.settings_for(cast.project, TA)
    screening.update_settings(settings, user=cast.lead, order=Order.RANDOM, order_seed=7)

    assert services.train(cast.project, TA).outcome == Training.Outcome.RANDOM
    first = order_of(cast.project)
    services.train(cast.project, TA)
    assert order_of(cast.project) == first
    assert screening.claim_next(cast.project, TA, cast.cy).pk == first[0]
    screening.update_settings(settings, user=cast.lead, order_seed=8)
    services.train(cast.project, TA)
    assert order_of(cast.project) != first
    assert sorted(order_of(cast.project)) == sorted(first)


def test_import_order_ignores_the_scores(cast):
    made = records(cast, 12, 12, interleave=False)
    decide(made, cast)
    services.train(cast.project, TA)
    settings = screening.settings_for(cast.project, TA)
    screening.update_settings(settings, user=cast.lead, order=Order.IMPORT)

    assert services.train(cast.project, TA).outcome == Training.Outcome.IMPORT
    record = screening.claim_next(cast.project, TA, cast.cy)
    assert {r.pk: r.kind for r in made}[record.pk] == "irrelevant"  # import order first


def test_records_imported_after_the_scores_come_after_the_scored_ones(cast):
    made = records(cast, 8, 8)
    decide(made, cast)
    services.train(cast.project, TA)
    scored = order_of(cast.project)
    late = records(cast, 1, 0)[0]

    served = []
    for _ in range(len(scored) + 1):
        record = screening.claim_next(cast.project, TA, cast.cy)
        served.append(record.pk)
        vote(record, cast.cy, "exclude")
    assert served == [*scored, late.pk]


def test_the_features_are_made_again_only_when_the_records_change(cast, settings):
    made = records(cast, 6, 6)
    decide(made, cast)
    services.train(cast.project, TA)
    path = settings.RANKING_CACHE_DIR / f"features-{cast.project.pk}-{TA}.npz"
    first = path.stat().st_mtime_ns

    services.train(cast.project, TA)
    assert path.stat().st_mtime_ns == first  # the same records: the file is read

    records(cast, 1, 0)
    services.train(cast.project, TA)
    assert path.stat().st_mtime_ns != first  # made again with the new record


def test_the_features_stay_in_memory_while_their_file_is_the_one_read(cast, settings):
    made = records(cast, 6, 6)
    decide(made, cast)
    ids = sorted(r.pk for r in made)
    first = services.features(cast.project, TA, ids)  # made and written

    again = services.features(cast.project, TA, ids)
    assert again is first  # not read from the file again

    path = settings.RANKING_CACHE_DIR / f"features-{cast.project.pk}-{TA}.npz"
    path.write_bytes(path.read_bytes())  # another process wrote the file since
    reread = services.features(cast.project, TA, ids)
    assert reread is not first
    assert (reread != first).nnz == 0  # the same features, from the file

    others = services.features(cast.project, TA, ids[:-1])  # another set of records
    assert others.shape[0] == len(ids) - 1
    assert services.features(cast.project, TA, ids) is not reread  # made again


def test_a_training_writes_the_head_of_the_order_and_the_rest_follows_in_import_order(
        cast, settings):
    settings.RANKING_SCORED_MAX = 4
    made = records(cast, 12, 12)
    left = decide(made, cast)

    training = services.train(cast.project, TA)

    head = order_of(cast.project)
    assert (training.records, training.scored, len(head)) == (14, 4, 4)
    served = []
    for _ in range(14):
        record = screening.claim_next(cast.project, TA, cast.cy)
        served.append(record.pk)
        vote(record, cast.cy, "exclude")
    rest = sorted(r.pk for r in left if r.pk not in head)
    assert served == [*head, *rest]
