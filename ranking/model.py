"""The ranking model of prioritised screening: text in, one relevance score per record out.

Pure numpy/scipy/scikit-learn (no Django), so that the simulation, the benchmark and the
app's retraining job run exactly the same code.

The anchor is ASReview's default model "ELAS u4" (ASReview 2 and 3, ``asreview.models.models``):
TF-IDF over title + abstract (word 1- and 2-grams, sublinear tf, max_df 0.95), a linear SVM
(squared hinge, C = 0.11) trained with ASReview's ``Balanced(ratio=9.8)`` sample weights, and
the "max" query (serve the highest score). ``Balanced`` gives every include weight 1 and every
exclude weight n_includes / (9.8 * n_excludes), so that the includes together weigh 9.8 times
the excludes, then rescales all weights to sum to the number of rows.

What the app runs is ELAS u4 itself: with the priors paired to ASReview's, it reproduces
ASReview's WSS@95 on the Cohen topics. Variants that add the record's keywords (and journal) as
tokens, or average the SVM by rank with a logistic regression, are behind the USE_* flags;
in a 2-fold selection on the 14 Cohen topics none was at least as good as ELAS u4 on both
halves, so all are off (``bench/ranking.py``, bench/README.md "Prioritised screening").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

# The app serves records in relevance order once this many of each are labelled (before
# that, in random order: a model trained on one or two examples is mostly noise).
MIN_INCLUDES = 5
MIN_EXCLUDES = 5

BALANCE_RATIO = 9.8  # ASReview ELAS u4: sum of include weights / sum of exclude weights
SVM_C = 0.11
LOGISTIC_C = 1.0
# Variants measured in bench/ranking.py (VARIANTS); all off = ELAS u4 exactly, the choice of
# the 2-fold selection in bench/README.md ("Prioritised screening").
USE_LOGISTIC = False  # average the SVM by rank with a logistic regression
USE_NB = False  # same with a multinomial naive Bayes
NB_ALPHA = 0.1
USE_KEYWORDS = False  # the record's keywords, one token each
USE_JOURNAL = False  # with USE_KEYWORDS: the journal as one more token


def document(title: str, abstract: str, keywords: str = "", journal: str = "") -> str:
    """The text the model reads for one record.

    Keywords are split on ";" and "," and each becomes one token ("kw_double_blind_method"),
    so that a controlled term does not blur into the words of the abstract; the journal
    becomes one token the same way.
    """
    parts = [title or "", abstract or ""]
    if USE_KEYWORDS:
        kws = [k.strip() for k in (keywords or "").replace(",", ";").split(";")]
        parts.append(" ".join("kw_" + _token(k) for k in kws if _token(k)))
        if USE_JOURNAL and journal and _token(journal):
            parts.append("journal_" + _token(journal))
    return "\n".join(p for p in parts if p)


def _token(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def featurise(docs: Sequence[str]) -> sp.csr_matrix:
    """Fit the vectoriser on all docs (labelled and not), as ASReview does.

    Returns an L2-normalised TF-IDF matrix (float32 to halve memory and the cost of a fit),
    one row per doc in order.
    """
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        max_df=0.95,
        min_df=1,
        dtype=np.float32,
    )
    return vec.fit_transform(list(docs)).tocsr()


def _weights(y: np.ndarray) -> np.ndarray:
    n_inc = int((y == 1).sum())
    n_exc = int((y == 0).sum())
    w = np.where(y == 1, 1.0, n_inc / (BALANCE_RATIO * n_exc))
    return w * (len(y) / w.sum())


def fit_scores(X, labelled: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Train on rows `labelled` with `labels` (1 include, 0 exclude) and score every row of X.

    Higher = more likely include. Needs both classes among the labels; deterministic for a
    given seed. With USE_LOGISTIC the score is the mean of the two models' rank fractions
    (0..1), which makes them comparable without calibrating either.
    """
    labelled = np.asarray(labelled, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    if len(labelled) != len(y):
        raise ValueError("labelled and labels differ in length")
    if not ((y == 1).any() and (y == 0).any()):
        raise ValueError("fit_scores needs at least one include and one exclude")
    Xl = X[labelled]
    w = _weights(y)
    svm = LinearSVC(C=SVM_C, loss="squared_hinge", random_state=seed)
    svm.fit(Xl, y, sample_weight=w)
    s_svm = np.asarray(X @ svm.coef_.ravel()).ravel() + svm.intercept_[0]
    others = []
    if USE_LOGISTIC:
        lr = LogisticRegression(C=LOGISTIC_C, solver="liblinear", dual=True, random_state=seed)
        lr.fit(Xl, y, sample_weight=w)
        others.append(np.asarray(X @ lr.coef_.ravel()).ravel() + lr.intercept_[0])
    if USE_NB:
        nb = MultinomialNB(alpha=NB_ALPHA)
        nb.fit(Xl, y, sample_weight=w)
        diff = nb.feature_log_prob_[1] - nb.feature_log_prob_[0]
        others.append(np.asarray(X @ diff).ravel())
    if not others:
        return s_svm.astype(np.float64)
    ranks = [rankdata(s) for s in [s_svm, *others]]
    return np.sum(ranks, axis=0) / (len(ranks) * X.shape[0])


# Retrain after this many new decisions: after every one, as ASReview does. Retraining less
# often late in a screening (every n_labelled // 100 decisions past 200 labels, the first
# schedule) cost up to 0.02 WSS@95 on a topic and was the one difference left between our
# ELAS u4 and ASReview's (bench/README.md, "Prioritised screening"). In the app the debounce
# bounds the cost, not this number: one training per stage at a time, the next one waiting
# RANKING_COOLDOWN times the last one's length (services.cooldown), so with many reviewers a
# training covers every decision that came in since the last one.
RETRAIN_EVERY = 1
