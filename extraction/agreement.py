"""Agreement between the two reviewers of the pilot round, per field.

Plain functions with no Django imports, so every figure can be checked against a table worked
out by hand. The caller passes, for one field, one (answer of A, answer of B) pair per pilot
study both reviewers completed, each answer already normalised by the caller: None when
empty, else (value, other): the value hashable (a multiple choice a sorted tuple of keys, a
table a tuple of rows) and `other` the "other, specify" text ("" when none).

- The share of identical answers: pairs whose two answers (value and other text) are equal,
  over all pairs.
- Cohen's kappa, for single choice and yes / no / unclear fields: each study is one item, its
  category the answer's value (an empty answer is a category of its own, "no answer", so
  leaving a field empty while the other answers counts as a disagreement).
  po = sum of the diagonal / n; pe = sum over categories of (n_A(c) * n_B(c)) / n^2;
  kappa = (po - pe) / (1 - pe). Undefined (None) with no pairs, or when pe = 1 (both gave
  one and the same category every time: perfect agreement, nothing beyond chance to measure).
- For multiple choice fields, kappa over binary items: every (study, choice) is one item,
  "ticked" or not by each reviewer, which is screening's 2x2 table, so the arithmetic is
  `screening.agreement.PairAgreement`'s.
"""

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from screening.agreement import PairAgreement

Pair = tuple[Hashable, Hashable]


def identical_share(pairs: Sequence[Pair]) -> Fraction | None:
    """Pairs with equal answers / pairs; None when there are none."""
    if not pairs:
        return None
    return Fraction(sum(1 for a, b in pairs if a == b), len(pairs))


def cohen_kappa(pairs: Sequence[Pair]) -> Fraction | None:
    """Cohen's kappa of two raters over categorical items (see the module docstring)."""
    n = len(pairs)
    if n == 0:
        return None
    po = Fraction(sum(1 for a, b in pairs if a == b), n)
    a_counts = Counter(a for a, _b in pairs)
    b_counts = Counter(b for _a, b in pairs)
    pe = Fraction(sum(a_counts[c] * b_counts[c] for c in a_counts), n * n)
    if pe == 1:
        return None
    return (po - pe) / (1 - pe)


def binary_table(pairs: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]],
                 choices: Sequence[Hashable]) -> PairAgreement:
    """The 2x2 table of multiple choice answers: one item per (study, choice), ticked by A
    and/or B ("include" in screening's words). Ticks outside `choices` (an archived choice)
    count too: they were answers."""
    cells = [0, 0, 0, 0]  # both, A only, B only, neither
    for a, b in pairs:
        a_set, b_set = set(a or ()), set(b or ())
        for choice in list(choices) + sorted((a_set | b_set) - set(choices), key=str):
            cells[2 * (choice not in a_set) + (choice not in b_set)] += 1
    return PairAgreement(0, 0, *cells)


def binary_kappa(pairs, choices) -> Fraction | None:
    """Kappa of a multiple choice field over its (study, choice) items, exact."""
    table = binary_table(pairs, choices)
    if table.n == 0:
        return None
    # PairAgreement computes it as a Fraction and hands out a float; recompute the same
    # formula exactly from its cells so the report and the threshold never round.
    both, a_only, b_only, neither = (table.both_include, table.a_include_b_exclude,
                                     table.a_exclude_b_include, table.both_exclude)
    n = table.n
    po = Fraction(both + neither, n)
    a_inc, b_inc = both + a_only, both + b_only
    pe = Fraction(a_inc * b_inc + (n - a_inc) * (n - b_inc), n * n)
    if pe == 1:
        return None
    return (po - pe) / (1 - pe)


@dataclass
class FieldAgreement:
    """One field's figures over the pilot studies both reviewers completed. `differing`:
    (study id, answer of A, answer of B) for every pair that differs, in study order."""

    key: str
    label: str
    n: int
    identical: int
    kappa: Fraction | None = None
    kappa_applies: bool = False
    differing: list[tuple[int, object, object]] = field(default_factory=list)

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.identical, self.n) if self.n else None

    @property
    def share_float(self) -> float | None:
        share = self.share
        return None if share is None else float(share)

    @property
    def kappa_float(self) -> float | None:
        return None if self.kappa is None else float(self.kappa)


def field_agreement(key: str, label: str, pairs: Sequence[tuple[int, Hashable, Hashable]], *,
                    kind: str = "other", choices: Sequence[Hashable] = ()) -> FieldAgreement:
    """The figures of one field from (study id, answer of A, answer of B). `kind`:
    "categorical" (single choice, yes / no / unclear: kappa over studies), "multiple"
    (multiple choice: kappa over (study, choice) items) or anything else (no kappa)."""
    plain = [(a, b) for _study, a, b in pairs]
    result = FieldAgreement(key=key, label=label, n=len(plain),
                            identical=sum(1 for a, b in plain if a == b),
                            differing=[(s, a, b) for s, a, b in pairs if a != b])
    # Kappa reads the categories (the values): the "other, specify" text counts in the
    # share of identical answers only.
    values = [(_value(a), _value(b)) for a, b in plain]
    if kind == "categorical":
        result.kappa_applies = True
        result.kappa = cohen_kappa(values)
    elif kind == "multiple":
        result.kappa_applies = True
        result.kappa = binary_kappa(values, choices)
    return result


def _value(answer):
    return None if answer is None else answer[0]


def below(agreements: Sequence[FieldAgreement], threshold: float) -> list[FieldAgreement]:
    """The fields whose share of identical answers is under `threshold` (0..1), or that no
    completed pilot study measured."""
    limit = Fraction(threshold).limit_denominator(10_000)
    return [a for a in agreements if a.share is None or a.share < limit]
