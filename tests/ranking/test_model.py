import numpy as np
import pytest

from ranking import model
from ranking.simulate import simulate, wss

FILLER = [f"word{i}" for i in range(150)]


def separable_docs(n=300, n_inc=20, seed=0):
    """Includes share three words that no exclude has; everything else is shared filler."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=np.int64)
    labels[rng.choice(n, n_inc, replace=False)] = 1
    docs = []
    for lab in labels:
        words = list(rng.choice(FILLER, 12))
        if lab:
            words += ["migraine", "triptan", "placebo"]
        docs.append(model.document(" ".join(words[:4]), " ".join(words[4:])))
    return docs, labels


def test_document_is_title_and_abstract_by_default():
    doc = model.document("A trial", "Of things.", "Double-Blind Method; Humans", "J Pain")

    assert doc == "A trial\nOf things."


def test_document_joins_title_abstract_keywords_and_journal(monkeypatch):
    monkeypatch.setattr(model, "USE_KEYWORDS", True)
    monkeypatch.setattr(model, "USE_JOURNAL", True)

    doc = model.document("A trial", "Of things.", "Double-Blind Method; Humans", "J Pain")

    assert doc == "A trial\nOf things.\nkw_double_blind_method kw_humans\njournal_j_pain"
    assert model.document("A trial", "") == "A trial"


def test_featurise_one_row_per_doc_with_unit_length():
    X = model.featurise(["pain relief", "pain", "sleep quality"])

    assert X.shape[0] == 3
    assert np.allclose(np.sqrt(X.multiply(X).sum(axis=1)).A.ravel(), 1.0)


def test_fit_scores_ranks_the_includes_first_and_is_deterministic():
    docs, labels = separable_docs()
    X = model.featurise(docs)
    inc, exc = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    labelled = np.concatenate([inc[:3], exc[:20]])

    scores = model.fit_scores(X, labelled, labels[labelled], seed=1)

    assert scores.shape == (300,)
    top = np.argsort(-scores)[:20]
    assert set(top) == set(inc)
    assert np.array_equal(scores, model.fit_scores(X, labelled, labels[labelled], seed=1))


def test_fit_scores_with_logistic_regression_averages_ranks(monkeypatch):
    monkeypatch.setattr(model, "USE_LOGISTIC", True)
    docs, labels = separable_docs()
    X = model.featurise(docs)
    inc, exc = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    labelled = np.concatenate([inc[:3], exc[:20]])

    scores = model.fit_scores(X, labelled, labels[labelled], seed=1)

    # The mean of two rank fractions: every score in (0, 1], the includes on top.
    assert scores.min() > 0 and scores.max() <= 1.0
    assert set(np.argsort(-scores)[:20]) == set(inc)


def test_fit_scores_needs_both_classes():
    X = model.featurise(["alpha beta", "gamma delta", "epsilon zeta"])

    with pytest.raises(ValueError):
        model.fit_scores(X, np.array([0, 1]), np.array([1, 1]))


def test_the_simulation_retrains_after_every_decision_as_asreview_does():
    # Labels the text cannot predict: the run goes on well past 200 decisions.
    rng = np.random.default_rng(11)
    docs = [" ".join(rng.choice(FILLER, 15)) for _ in range(400)]
    labels = np.zeros(400, dtype=np.int64)
    labels[rng.choice(400, 10, replace=False)] = 1
    X = model.featurise(docs)

    result = simulate(X, labels, seed=2)

    assert result["n_screened_to_all"] > 300
    # One prior include and one prior exclude: both classes are known from the start, so a
    # training comes before each of the records served after the priors.
    assert result["n_retrains"] == result["n_screened_to_all"] - 2
    # Every 10th decision instead: one training at the start, then one per 10 records served.
    sparse = simulate(X, labels, seed=2, retrain_every=10)
    served = sparse["n_screened_to_all"] - 2
    assert sparse["n_retrains"] == 1 + (served - 1) // 10


def test_wss_matches_hand_count():
    # 10 records (after priors), includes at positions 1 and 3. Random diagonal
    # round(linspace(0, 2, 10)) = 0 0 0 1 1 1 1 2 2 2. WSS@95 uses the 1st include
    # (1/2 <= 0.95 < 2/2): found at index 0, diagonal reaches 1 at index 3 -> 3/10.
    # WSS@100: 2nd include at index 2, diagonal reaches 2 at index 7 -> 5/10.
    post = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]

    assert wss(post, 0.95) == 0.3
    assert wss(post, 1.0) == 0.5


def test_simulation_on_separable_data_nears_the_best_possible_wss():
    docs, labels = separable_docs(n=400, n_inc=20, seed=3)
    X = model.featurise(docs)

    result = simulate(X, labels, seed=1)

    # One include and one exclude are priors: 398 records hold 19 includes; WSS@95 counts the
    # 18th (18/19 <= 0.95). In the best order it is found at index 17, and the diagonal
    # round(linspace(0, 19, 398)) first reaches 18 at index ceil(17.5 * 397 / 19) = 366.
    best = (366 - 17) / 398
    assert result["wss_95"] == pytest.approx(best, abs=0.005)
    assert result["screened_at_each_include"][-1] <= 2 + 20


def test_simulation_on_random_labels_saves_nothing():
    rng = np.random.default_rng(7)
    docs = [" ".join(rng.choice(FILLER, 15)) for _ in range(200)]
    X = model.featurise(docs)
    values = []
    for seed in (1, 2, 3):
        labels = np.zeros(200, dtype=np.int64)
        labels[np.random.default_rng(seed).choice(200, 20, replace=False)] = 1
        values.append(simulate(X, labels, seed=seed)["wss_95"])

    assert abs(np.mean(values)) < 0.08


def test_simulation_with_given_priors_starts_from_them():
    docs, labels = separable_docs(n=400, n_inc=20, seed=3)
    X = model.featurise(docs)
    inc = int(np.flatnonzero(labels == 1)[5])
    exc = int(np.flatnonzero(labels == 0)[7])

    result = simulate(X, labels, seed=1, priors=([inc], [exc]))
    again = simulate(X, labels, seed=2, priors=([inc], [exc]))

    assert result["priors"] == [[inc], [exc]]
    assert (result["n_prior_included"], result["n_prior_excluded"]) == (1, 1)
    assert result["screened_at_each_include"][0] == 1
    assert result["screened_at_each_include"] == again["screened_at_each_include"]


def test_simulation_rejects_priors_with_the_wrong_label():
    docs, labels = separable_docs(n=100, n_inc=10, seed=3)
    X = model.featurise(docs)
    inc = int(np.flatnonzero(labels == 1)[0])
    exc = int(np.flatnonzero(labels == 0)[0])

    with pytest.raises(ValueError, match="prior includes must be includes"):
        simulate(X, labels, priors=([exc], [inc]))
    with pytest.raises(ValueError, match="not a row"):
        simulate(X, labels, priors=([inc], [100]))


def test_document_without_journal_token_when_use_journal_is_off(monkeypatch):
    monkeypatch.setattr(model, "USE_KEYWORDS", True)
    monkeypatch.setattr(model, "USE_JOURNAL", False)

    doc = model.document("A trial", "Of things.", "Humans", "J Pain")

    assert doc == "A trial\nOf things.\nkw_humans"
