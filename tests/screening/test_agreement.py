"""Agreement statistics against 2x2 tables worked out by hand.

Notation: a table is (both include, A include/B exclude, A exclude/B include, both exclude);
a_inc = both include + A inc/B exc, b_inc = both include + A exc/B inc, a_exc = n - a_inc,
b_exc = n - b_inc; po = (both include + both exclude) / n;
pe = (a_inc * b_inc + a_exc * b_exc) / n^2; kappa = (po - pe) / (1 - pe).
"""

import pytest

from screening.agreement import CSV_HEADER, PairAgreement, csv_rows, overall, pair_agreements


def table(both_include, a_inc_b_exc, a_exc_b_inc, both_exclude, a=1, b=2):
    return PairAgreement(a, b, both_include, a_inc_b_exc, a_exc_b_inc, both_exclude)


def test_textbook_table():
    p = table(20, 5, 10, 15)
    # n = 20 + 5 + 10 + 15 = 50; po = (20 + 15) / 50 = 0.7
    # a_inc = 25, b_inc = 30, a_exc = 25, b_exc = 20
    # pe = (25*30 + 25*20) / 2500 = 1250 / 2500 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert p.n == 50
    assert p.percent_agreement == 0.7
    assert p.kappa == 0.4


def test_kappa_exactly_zero():
    p = table(6, 2, 3, 1)
    # n = 12; po = (6 + 1) / 12 = 7/12
    # a_inc = 8, b_inc = 9, a_exc = 4, b_exc = 3
    # pe = (8*9 + 4*3) / 144 = 84/144 = 7/12
    # kappa = (7/12 - 7/12) / (5/12) = 0
    assert p.percent_agreement == 7 / 12
    assert p.kappa == 0.0


def test_negative_kappa():
    p = table(1, 4, 4, 1)
    # n = 10; po = 2/10 = 0.2
    # a_inc = 5, b_inc = 5, a_exc = 5, b_exc = 5; pe = (25 + 25) / 100 = 0.5
    # kappa = (0.2 - 0.5) / 0.5 = -0.6
    assert p.percent_agreement == 0.2
    assert p.kappa == -0.6


def test_total_disagreement():
    p = table(0, 3, 2, 0)
    # n = 5; po = 0
    # a_inc = 3, b_inc = 2, a_exc = 2, b_exc = 3; pe = (3*2 + 2*3) / 25 = 12/25
    # kappa = (0 - 12/25) / (13/25) = -12/13
    assert p.percent_agreement == 0.0
    assert p.kappa == -12 / 13


def test_perfect_agreement_with_both_categories():
    p = table(3, 0, 0, 2)
    # n = 5; po = 1
    # a_inc = b_inc = 3, a_exc = b_exc = 2; pe = (9 + 4) / 25 = 13/25
    # kappa = (1 - 13/25) / (1 - 13/25) = 1, exactly (no 0.999... from floats)
    assert p.percent_agreement == 1.0
    assert p.kappa == 1.0


@pytest.mark.parametrize("cells", [(5, 0, 0, 0), (0, 0, 0, 4)])
def test_all_agree_in_one_category_has_no_kappa(cells):
    p = table(*cells)
    # po = 1; everyone in one category: pe = (n*n + 0*0) / n^2 = 1, so kappa = 0/0
    assert p.percent_agreement == 1.0
    assert p.kappa is None


def test_empty_table():
    p = table(0, 0, 0, 0)
    assert p.n == 0
    assert p.percent_agreement is None
    assert p.kappa is None


def test_one_reviewer_always_includes():
    p = table(3, 2, 0, 0)
    # n = 5; po = 3/5
    # a_inc = 5, b_inc = 3, a_exc = 0, b_exc = 2; pe = (5*3 + 0*2) / 25 = 3/5 (< 1, so defined)
    # kappa = (3/5 - 3/5) / (2/5) = 0
    assert p.percent_agreement == 0.6
    assert p.kappa == 0.0


def test_one_always_includes_the_other_always_excludes():
    p = table(0, 4, 0, 0)
    # n = 4; po = 0
    # a_inc = 4, b_inc = 0, a_exc = 0, b_exc = 4; pe = (4*0 + 0*4) / 16 = 0
    # kappa = (0 - 0) / (1 - 0) = 0 (not undefined: pe is 0, not 1)
    assert p.percent_agreement == 0.0
    assert p.kappa == 0.0


def test_maybe_counts_as_include():
    votes = [
        (1, 1, "maybe"), (1, 2, "include"),    # both include
        (2, 1, "maybe"), (2, 2, "exclude"),    # A include, B exclude
        (3, 1, "exclude"), (3, 2, "maybe"),    # A exclude, B include
        (4, 1, "maybe"), (4, 2, "maybe"),      # both include
        (5, 1, "exclude"), (5, 2, "exclude"),  # both exclude
    ]
    [p] = pair_agreements(votes)
    assert p == table(2, 1, 1, 1)
    # n = 5; po = 3/5; a_inc = b_inc = 3, a_exc = b_exc = 2; pe = (9 + 4) / 25 = 13/25
    # kappa = (15/25 - 13/25) / (12/25) = 2/12 = 1/6
    assert p.kappa == 1 / 6


def test_three_reviewers_give_three_pairs_over_their_common_records():
    votes = [
        (1, 30, "exclude"), (1, 10, "include"), (1, 20, "include"),
        (2, 20, "include"), (2, 10, "exclude"),
        (3, 30, "exclude"), (3, 20, "exclude"),
        (4, 30, "include"), (4, 10, "include"),
        (5, 10, "include"),  # nobody else voted on record 5: in no table
    ]
    assert pair_agreements(votes) == [
        # 10 vs 20 on records 1 (inc, inc) and 2 (exc, inc)
        PairAgreement(10, 20, both_include=1, a_include_b_exclude=0,
                      a_exclude_b_include=1, both_exclude=0),
        # 10 vs 30 on records 1 (inc, exc) and 4 (inc, inc)
        PairAgreement(10, 30, both_include=1, a_include_b_exclude=1,
                      a_exclude_b_include=0, both_exclude=0),
        # 20 vs 30 on records 1 (inc, exc) and 3 (exc, exc)
        PairAgreement(20, 30, both_include=0, a_include_b_exclude=1,
                      a_exclude_b_include=0, both_exclude=1),
    ]


def test_pairs_without_a_common_record_are_omitted():
    votes = [
        (1, 1, "include"), (1, 2, "include"),
        (2, 1, "exclude"), (2, 3, "exclude"),
        (3, 4, "include"),
    ]
    pairs = pair_agreements(votes)
    assert [(p.reviewer_a, p.reviewer_b) for p in pairs] == [(1, 2), (1, 3)]
    assert pair_agreements([]) == []
    assert pair_agreements([(1, 1, "include")]) == []


@pytest.mark.parametrize("second", ["exclude", "include"])
def test_duplicate_vote_raises(second):
    votes = [(7, 3, "include"), (7, 4, "include"), (7, 3, second)]
    with pytest.raises(ValueError, match=r"^reviewer 3 voted more than once on record 7$"):
        pair_agreements(votes)


def test_unknown_decision_raises():
    with pytest.raises(ValueError, match=r"^unknown decision 'skip' on record 7 by reviewer 3$"):
        pair_agreements([(7, 3, "skip")])


def test_csv_rows():
    pairs = [
        table(20, 5, 10, 15, a=1, b=2),  # po 0.7, kappa 0.4 (the textbook table)
        # n = 6; po = 5/6 = 83.33%; a_inc = 4, b_inc = 3; pe = (4*3 + 2*3) / 36 = 1/2
        # kappa = (5/6 - 1/2) / (1/2) = 2/3 = 0.667
        table(3, 1, 0, 2, a=1, b=3),
        table(4, 0, 0, 0, a=2, b=3),  # all include: 100%, kappa undefined
        table(0, 3, 2, 0, a=3, b=9),  # po 0, kappa -12/13 = -0.923; 9 has no name
    ]
    assert csv_rows(pairs, {1: "Ana", 2: "Ben", 3: "Cara"}) == [
        ["Reviewer A", "Reviewer B", "Records", "Both include", "A include / B exclude",
         "A exclude / B include", "Both exclude", "Percent agreement", "Kappa"],
        ["Ana", "Ben", "50", "20", "5", "10", "15", "70.0", "0.400"],
        ["Ana", "Cara", "6", "3", "1", "0", "2", "83.3", "0.667"],
        ["Ben", "Cara", "4", "4", "0", "0", "0", "100.0", ""],
        ["Cara", "9", "5", "0", "3", "2", "0", "0.0", "-0.923"],
    ]


def test_csv_rounds_halves_up_from_the_exact_value():
    pairs = [
        # n = 16; po = 1/16 = 6.25% -> "6.3" (a float 6.25 would format as "6.2")
        # a_inc = 16, b_inc = 1; pe = (16*1 + 0*15) / 256 = 1/16; kappa = 0
        table(1, 15, 0, 0),
        # n = 8; po = 7/8 = 87.5%; a_inc = 7, b_inc = 6; pe = (7*6 + 1*2) / 64 = 44/64
        # kappa = (56/64 - 44/64) / (20/64) = 12/20 = 0.6
        table(6, 1, 0, 1),
    ]
    assert [row[-2:] for row in csv_rows(pairs, {})] == [
        CSV_HEADER[-2:], ["6.3", "0.000"], ["87.5", "0.600"],
    ]


def test_overall_pools_the_pair_tables():
    pooled = overall([table(20, 5, 10, 15, a=1, b=2), table(3, 0, 0, 2, a=1, b=3)])
    assert pooled == PairAgreement(0, 0, 23, 5, 10, 17)
    # n = 55; po = 40/55 = 8/11
    # a_inc = 28, b_inc = 33, a_exc = 27, b_exc = 22; pe = (28*33 + 27*22) / 3025 = 1518/3025
    # kappa = (2200/3025 - 1518/3025) / (1507/3025) = 682/1507 = 62/137
    # (not the mean of the pair kappas, (0.4 + 1) / 2 = 0.7: pairs weigh by their records)
    assert pooled.percent_agreement == 8 / 11
    assert pooled.kappa == 62 / 137


def test_overall_of_nothing():
    pooled = overall([])
    assert pooled == PairAgreement(0, 0, 0, 0, 0, 0)
    assert pooled.percent_agreement is None
    assert pooled.kappa is None
