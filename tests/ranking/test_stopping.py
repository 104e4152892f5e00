from math import comb

import pytest

from ranking.stopping import estimate, k_target, sample_size_needed


def hypergeom_cdf(k, population, successes, draws):
    """P(X <= k) for X ~ Hypergeom, by counting."""
    total = comb(population, draws)
    return sum(comb(successes, i) * comb(population - successes, draws - i)
               for i in range(k + 1)) / total


def test_estimate_no_include_in_sample_matches_hand_count():
    # r_AL 4, target 0.8: K_tar = floor(4 / 0.8 - 4) + 1 = 2; p = C(8,5) / C(10,5) = 56 / 252
    est = estimate(n_remaining=10, found_before=4, sample_size=5, sample_includes=0, target=0.8)

    assert est.k_target == 2
    assert est.p_value == pytest.approx(56 / 252, abs=1e-12)
    assert est.reject is False
    assert est.recall_if_stopped == 1.0


def test_estimate_with_includes_in_sample_matches_hand_count():
    # r_AL 9, k 1, target 0.9: r_seen 10, 10 / 0.9 - 9 = 2.11 -> K_tar 3
    est = estimate(n_remaining=20, found_before=9, sample_size=10, sample_includes=1, target=0.9)

    expected = (comb(3, 0) * comb(17, 10) + comb(3, 1) * comb(17, 9)) / comb(20, 10)
    assert est.k_target == 3
    assert est.p_value == pytest.approx(expected, abs=1e-12)
    assert est.p_value == pytest.approx(hypergeom_cdf(1, 20, 3, 10), abs=1e-12)
    assert est.reject is False
    assert est.recall_if_stopped == pytest.approx(10 / (10 + 1 / 10 * 10))


def test_estimate_rejects_below_one_minus_confidence():
    # K_tar 2 (19 found, target 0.95: 19 / 0.95 is exactly 20); 180 of 200 drawn, none included
    est = estimate(n_remaining=200, found_before=19, sample_size=180, sample_includes=0)

    assert est.k_target == 2
    assert est.p_value == pytest.approx(comb(198, 180) / comb(200, 180), abs=1e-12)
    assert est.p_value == pytest.approx(20 * 19 / (200 * 199), abs=1e-12)
    assert est.reject is True


def test_k_target_exact_multiple_is_not_lost_to_rounding():
    assert k_target(n_remaining=100, found_before=19, sample_includes=0, target=0.95) == 2
    assert k_target(n_remaining=100, found_before=38, sample_includes=0, target=0.95) == 3


def test_estimate_nothing_remaining_rejects_with_p_zero():
    est = estimate(n_remaining=0, found_before=5, sample_size=0, sample_includes=0)

    assert est.p_value == 0.0
    assert est.reject is True


def test_estimate_nothing_found_yet():
    # r_AL 0, k 0: K_tar 1, p = (N - n) / N
    assert estimate(n_remaining=100, found_before=0, sample_size=94,
                    sample_includes=0).p_value == pytest.approx(0.06, abs=1e-12)
    assert estimate(n_remaining=100, found_before=0, sample_size=94,
                    sample_includes=0).reject is False
    assert estimate(n_remaining=100, found_before=0, sample_size=96,
                    sample_includes=0).reject is True
    assert estimate(n_remaining=100, found_before=0, sample_size=0,
                    sample_includes=0).recall_if_stopped is None


def test_estimate_whole_urn_drawn_rejects():
    est = estimate(n_remaining=30, found_before=2, sample_size=30, sample_includes=1)

    assert est.p_value == 0.0
    assert est.reject is True


def test_estimate_refuses_impossible_counts():
    with pytest.raises(ValueError):
        estimate(n_remaining=10, found_before=0, sample_size=11, sample_includes=0)
    with pytest.raises(ValueError):
        estimate(n_remaining=10, found_before=0, sample_size=3, sample_includes=4)


def test_sample_size_needed_matches_hand_count():
    # r_AL 0: p = (100 - n) / 100 < 0.05 first at n = 96
    assert sample_size_needed(n_remaining=100, found_before=0) == 96
    # r_AL 19: p = (200 - n)(199 - n) / (200 * 199) < 0.05 first at n = 155
    n = sample_size_needed(n_remaining=200, found_before=19)
    assert n == 155
    assert (200 - n) * (199 - n) / (200 * 199) < 0.05 <= (201 - n) * (200 - n) / (200 * 199)


def test_sample_size_needed_nothing_remaining_is_zero():
    assert sample_size_needed(n_remaining=0, found_before=3) == 0


def test_estimate_p_exactly_at_the_boundary_does_not_reject():
    # r_AL 0, 95 of 100 drawn: p = 5 / 100, exactly 1 - confidence
    est = estimate(n_remaining=100, found_before=0, sample_size=95, sample_includes=0)

    assert est.p_value == pytest.approx(0.05, abs=1e-12)
    assert est.reject is False
