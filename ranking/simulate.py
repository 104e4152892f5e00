"""Replay a screening on labelled data: the model and schedule of the app, no database.

``simulate(X, labels, seed=...)`` picks the priors at random (seeded) among the includes and
the excludes, or takes them from ``priors=(include rows, exclude rows)`` (the benchmark passes
those of ASReview's run with the same seed, so that the two are compared on the same draw), then
until every include is found: retrains after every ``retrain_every`` new labels,
serves the highest-scored unscreened record and labels it with the known answer. Until both
classes are labelled it serves records in (seeded) random order.

Metrics are those of asreview-insights 1.x (``asreviewcontrib.insights.algorithms``), so that
our figures and ASReview's are computed the same way: the priors are left out, the labelling
order is padded with excludes to the records that were never screened, and

* recall@10%: recall after the first floor(10% of N') records (N' = records minus priors);
* WSS@r: with k = the largest count of includes with k / n_inc <= r (n_inc = includes minus
  prior includes), (i_random - i_model) / N', where i_model is the 0-based position at which
  the k-th include is found and i_random the position at which the diagonal
  round(linspace(0, n_inc, N')) first reaches k. This is (N' - screened) / N' - (1 - r) up to
  rounding.

Stopping (``stopping`` in the result): ranked screening triggers a random sample once
``trigger_size(N)`` ranked records in a row (after the priors) were all excludes; from then
on the remaining records are drawn at random (seeded) and ``stopping.estimate`` is tested after
every draw. It is computed in the same run from the state at the trigger: after the last
include is found only excludes are left, so where the trigger fires needs no further model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ranking import model, stopping


def trigger_size(n_records: int) -> int:
    """Consecutive excludes in ranked order before the random sample starts."""
    return max(50, math.ceil(0.05 * n_records))


def simulate(
    X,
    labels: np.ndarray,
    *,
    seed: int = 0,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    fit: Callable | None = None,
    retrain_every: int | None = None,
    target: float = 0.95,
    confidence: float = 0.95,
    priors: tuple[Sequence[int], Sequence[int]] | None = None,
) -> dict:
    """Replay one screening; `priors` = (include rows, exclude rows) instead of a seeded draw."""
    t0 = time.perf_counter()
    fit = fit or model.fit_scores
    retrain_every = retrain_every or model.RETRAIN_EVERY
    y = np.asarray(labels, dtype=np.int64)
    n = len(y)
    if X.shape[0] != n:
        raise ValueError("X and labels differ in length")
    n_inc_total = int(y.sum())
    rng = np.random.default_rng(seed)
    inc_idx = np.flatnonzero(y == 1)
    exc_idx = np.flatnonzero(y == 0)
    if priors is not None:
        prior_inc = [int(i) for i in priors[0]]
        prior_exc = [int(i) for i in priors[1]]
        if not all(0 <= i < n for i in prior_inc + prior_exc):
            raise ValueError("a prior is not a row of the data")
        if len(set(prior_inc + prior_exc)) != len(prior_inc) + len(prior_exc):
            raise ValueError("a prior is given twice")
        if y[prior_inc].sum() != len(prior_inc) or y[prior_exc].any():
            raise ValueError("prior includes must be includes and prior excludes excludes")
        n_prior_included, n_prior_excluded = len(prior_inc), len(prior_exc)
    else:
        if n_prior_included > len(inc_idx) or n_prior_excluded > len(exc_idx):
            raise ValueError("more priors asked for than the data has")
        prior_inc = [int(i) for i in rng.choice(inc_idx, n_prior_included, replace=False)]
        prior_exc = [int(i) for i in rng.choice(exc_idx, n_prior_excluded, replace=False)]
    prior_rows = prior_inc + prior_exc
    order: list[int] = list(prior_rows)
    screened = np.zeros(n, dtype=bool)
    screened[order] = True
    found = int(y[order].sum())
    random_order = [int(i) for i in rng.permutation(n)]
    random_pos = 0
    scores: np.ndarray | None = None
    trained_at = -1
    retrain_seconds: list[float] = []
    while found < n_inc_total:
        n_lab = len(order)
        lab = np.asarray(order)
        have_both = 0 < int(y[lab].sum()) < n_lab
        if have_both and (scores is None or n_lab - trained_at >= retrain_every):
            t = time.perf_counter()
            scores = fit(X, lab, y[lab], seed=seed)
            retrain_seconds.append(time.perf_counter() - t)
            trained_at = n_lab
        if scores is None:
            while screened[random_order[random_pos]]:
                random_pos += 1
            nxt = random_order[random_pos]
        else:
            masked = np.where(screened, -np.inf, scores)
            nxt = int(np.argmax(masked))
        screened[nxt] = True
        order.append(nxt)
        found += int(y[nxt])

    labels_in_order = y[order]
    at_each = (np.flatnonzero(labels_in_order == 1) + 1).tolist()
    n_priors = len(prior_rows)
    post = labels_in_order[n_priors:].tolist() + [0] * (n - len(order))
    result = {
        "n_records": n,
        "n_included": n_inc_total,
        "seed": seed,
        "n_prior_included": n_prior_included,
        "n_prior_excluded": n_prior_excluded,
        "priors": [prior_inc, prior_exc],
        "screened_at_each_include": at_each,
        "n_screened_to_all": len(order),
        "recall_at_10pct": recall_at(post, 0.1),
        "wss_95": wss(post, 0.95),
        "wss_100": wss(post, 1.0),
        "n_retrains": len(retrain_seconds),
        "seconds_per_retrain": (
            round(float(np.mean(retrain_seconds)), 4) if retrain_seconds else None
        ),
        "stopping": stopping_outcome(
            y, order, n_priors, seed=seed, target=target, confidence=confidence
        ),
    }
    result["seconds_total"] = round(time.perf_counter() - t0, 3)
    return result


def stopping_outcome(
    y: np.ndarray,
    order: list[int],
    n_priors: int,
    *,
    seed: int,
    target: float = 0.95,
    confidence: float = 0.95,
) -> dict | None:
    """What the stopping rule would have advised, from the ranked order of a finished run."""
    n = len(y)
    size = trigger_size(n)
    ranked = y[order[n_priors:]]
    trigger_at = None  # records screened (priors included) when the sample starts
    run = 0
    for i, lab in enumerate(ranked):
        run = 0 if lab else run + 1
        if run >= size:
            trigger_at = n_priors + i + 1
            break
    if trigger_at is None:
        # Only excludes are left after the last include: the run of excludes goes on.
        trigger_at = len(order) + (size - run)
        if trigger_at > n:
            return None
    n_remaining = n - trigger_at
    if trigger_at <= len(order):
        seen = np.zeros(n, dtype=bool)
        seen[order[:trigger_at]] = True
        found_before = int(y[seen].sum())
        rng = np.random.default_rng([seed, 1])
        urn_labels = y[rng.permutation(np.flatnonzero(~seen))]
    else:
        # Every include is found; the urn holds only excludes, in any order.
        found_before = int(y.sum())
        urn_labels = np.zeros(n_remaining, dtype=np.int64)
    k = 0
    for drawn in range(0, n_remaining + 1):
        if drawn:
            k += int(urn_labels[drawn - 1])
        est = stopping.estimate(
            n_remaining=n_remaining,
            found_before=found_before,
            sample_size=drawn,
            sample_includes=k,
            target=target,
            confidence=confidence,
        )
        if est.reject:
            if drawn == n_remaining:
                return None  # only drawing everything would do: it never said stop early
            recall = (found_before + k) / int(y.sum())
            return {
                "trigger": f"{size} ranked excludes in a row",
                "screened_at_trigger": trigger_at,
                "screened_at_stop": trigger_at + drawn,
                "recall_at_stop": round(recall, 4),
                "below_target": recall < target,
            }
    return None


def recall_at(post: list[int], share: float) -> float | None:
    """Recall after the first `share` of records (asreview-insights' recall metric)."""
    n_docs = len(post)
    n_pos = sum(post)
    if not n_pos:
        return None
    x = np.arange(1, n_docs + 1) / n_docs
    if share < x[0]:
        return 0.0
    y = np.cumsum(post) / n_pos
    i = np.searchsorted(x, share, side="right")
    return round(float(y[i - 1]), 6)


def wss(post: list[int], r: float) -> float | None:
    """Work saved over sampling at recall r (asreview-insights' WSS)."""
    n_docs = len(post)
    n_pos = int(sum(post))
    if not n_pos:
        return None
    found = np.cumsum(post)
    diagonal = np.round(np.linspace(0, n_pos, n_docs))
    ks = np.arange(1, n_pos + 1)
    gained = np.searchsorted(diagonal, ks) - np.searchsorted(found, ks)
    x = ks / n_pos
    i = np.searchsorted(x, r, side="right")
    return round(float(gained[i - 1] / n_docs), 6)


# ---- reading labelled files ----------------------------------------------------------------


class InputError(ValueError):
    pass


def read_labelled(path: str | Path, label_column: str = "label_included"):
    """Read a labelled CSV (or .csv.gz): returns (docs, labels). Missing values become ""."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=True)
    except Exception as exc:  # pandas raises several kinds for a bad file
        raise InputError(f"{path}: cannot read as CSV ({exc})") from exc
    cols = {c.strip().lower(): c for c in df.columns}
    if label_column not in df.columns:
        raise InputError(f"{path}: no label column {label_column!r}")
    if "title" not in cols and "abstract" not in cols:
        raise InputError(f"{path}: no 'title' or 'abstract' column")
    df = df.fillna("")

    def col(name: str) -> list[str]:
        c = cols.get(name)
        return df[c].tolist() if c else [""] * len(df)

    raw = df[label_column].str.strip()
    bad = ~raw.isin(["0", "1", "0.0", "1.0"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(
            f"{path}: column {label_column!r} must hold 0 or 1 (line {row}: {raw[bad].iloc[0]!r})"
        )
    labels = raw.astype(float).astype(int).to_numpy()
    docs = [
        model.document(t, a, k, j)
        for t, a, k, j in zip(
            col("title"), col("abstract"), col("keywords"), col("journal"), strict=True
        )
    ]
    return docs, labels


def simulate_file(path, *, label_column="label_included", **kwargs) -> dict:
    docs, labels = read_labelled(path, label_column)
    t = time.perf_counter()
    X = model.featurise(docs)
    featurise_seconds = time.perf_counter() - t
    result = simulate(X, labels, **kwargs)
    result["seconds_featurise"] = round(featurise_seconds, 3)
    return result
