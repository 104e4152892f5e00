"""Inter-rater agreement between screening reviewers: Cohen's kappa, percent agreement, 2x2 counts.

Plain functions with no Django imports, so they can be checked against tables computed by hand.
The caller passes the votes of one stage (the Vote rows, i.e. the votes as cast, before any
resolution) and gets one 2x2 table per reviewer pair. "Maybe" is counted as include, because a
maybe keeps the record in the review just as an include does.

Kappa is undefined (0/0) when both reviewers put every common record in the same single category:
they agree perfectly, but there is no variation to agree beyond chance. ``kappa`` is then None and
the page shows "n/a" next to a percent agreement of 100%; the CSV leaves the cell empty.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from math import floor

INCLUDE_DECISIONS = frozenset({"include", "maybe"})
DECISIONS = INCLUDE_DECISIONS | {"exclude"}

CSV_HEADER = [
    "Reviewer A",
    "Reviewer B",
    "Records",
    "Both include",
    "A include / B exclude",
    "A exclude / B include",
    "Both exclude",
    "Percent agreement",
    "Kappa",
]


@dataclass(frozen=True)
class PairAgreement:
    """The 2x2 table of two reviewers over the records both voted on (reviewer_a < reviewer_b)."""

    reviewer_a: int
    reviewer_b: int
    both_include: int
    a_include_b_exclude: int
    a_exclude_b_include: int
    both_exclude: int

    @property
    def n(self) -> int:
        """Number of records both reviewers voted on."""
        return (self.both_include + self.a_include_b_exclude
                + self.a_exclude_b_include + self.both_exclude)

    def _observed(self) -> Fraction | None:
        """Exact observed agreement po, or None for an empty table."""
        if self.n == 0:
            return None
        return Fraction(self.both_include + self.both_exclude, self.n)

    def _kappa(self) -> Fraction | None:
        """Exact Cohen's kappa, or None when it is undefined (empty table, or pe == 1)."""
        po = self._observed()
        if po is None:
            return None
        n = self.n
        a_include = self.both_include + self.a_include_b_exclude
        b_include = self.both_include + self.a_exclude_b_include
        # pe = (a_inc/n)(b_inc/n) + (a_exc/n)(b_exc/n): agreement expected from the marginals.
        pe = Fraction(a_include * b_include + (n - a_include) * (n - b_include), n * n)
        if pe == 1:
            return None
        return (po - pe) / (1 - pe)

    @property
    def percent_agreement(self) -> float | None:
        """Share of common records on which the two agreed, 0..1; None when there are none."""
        po = self._observed()
        return None if po is None else float(po)

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa, (po - pe) / (1 - pe); None when undefined (see the module docstring)."""
        kappa = self._kappa()
        return None if kappa is None else float(kappa)


def pair_agreements(votes: Iterable[tuple[int, int, str]]) -> list[PairAgreement]:
    """One 2x2 table per pair of reviewers who voted on at least one common record.

    ``votes`` are (record_id, reviewer_id, decision) of one stage. Each record counts, for each
    pair of its voters, in that pair's table only, so every table covers exactly the records both
    reviewers voted on. Sorted by (reviewer_a, reviewer_b). A second vote by the same reviewer on
    the same record, or an unknown decision, raises ValueError: the counts would silently be wrong.
    """
    included: dict[int, dict[int, bool]] = {}  # record -> reviewer -> voted include (or maybe)
    for record_id, reviewer_id, decision in votes:
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r} on record {record_id} "
                             f"by reviewer {reviewer_id}")
        on_record = included.setdefault(record_id, {})
        if reviewer_id in on_record:
            raise ValueError(f"reviewer {reviewer_id} voted more than once on record {record_id}")
        on_record[reviewer_id] = decision in INCLUDE_DECISIONS

    # (a, b) -> [both include, a inc/b exc, a exc/b inc, both exclude]
    counts: dict[tuple[int, int], list[int]] = {}
    for on_record in included.values():
        for a, b in combinations(sorted(on_record), 2):
            cell = 2 * (not on_record[a]) + (not on_record[b])
            counts.setdefault((a, b), [0, 0, 0, 0])[cell] += 1
    return [PairAgreement(a, b, *cells) for (a, b), cells in sorted(counts.items())]


def overall(agreements: Sequence[PairAgreement]) -> PairAgreement:
    """The headline figure: all pair tables summed into one (reviewer ids 0, 0).

    A record voted on by three reviewers counts once in each of its three pairs. The kappa of
    the pooled table is not the mean of the pair kappas; it weights pairs by their records.
    """
    return PairAgreement(
        0,
        0,
        sum(p.both_include for p in agreements),
        sum(p.a_include_b_exclude for p in agreements),
        sum(p.a_exclude_b_include for p in agreements),
        sum(p.both_exclude for p in agreements),
    )


def _fixed(value: Fraction, places: int) -> str:
    """``value`` to ``places`` decimals, halves rounded away from zero, without float artefacts."""
    units = floor(abs(value) * 10**places + Fraction(1, 2))
    whole, part = divmod(units, 10**places)
    sign = "-" if value < 0 and units else ""
    return f"{sign}{whole}.{part:0{places}d}"


def csv_rows(agreements: Sequence[PairAgreement], names: dict[int, str]) -> list[list[str]]:
    """Header plus one row per pair, for the CSV download.

    Percent agreement has one decimal ("83.3"), kappa three ("0.400"); a cell whose value is
    undefined is left empty. Reviewers missing from ``names`` are shown by their id.
    """
    rows = [list(CSV_HEADER)]
    for p in agreements:
        po, kappa = p._observed(), p._kappa()
        rows.append([
            names.get(p.reviewer_a, str(p.reviewer_a)),
            names.get(p.reviewer_b, str(p.reviewer_b)),
            str(p.n),
            str(p.both_include),
            str(p.a_include_b_exclude),
            str(p.a_exclude_b_include),
            str(p.both_exclude),
            "" if po is None else _fixed(100 * po, 1),
            "" if kappa is None else _fixed(kappa, 3),
        ])
    return rows
