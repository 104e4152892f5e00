"""When may screening stop? The statistical stopping rule of Callaghan & Müller-Hansen.

Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated screening in
systematic reviews. Systematic Reviews 2020;9:273. https://doi.org/10.1186/s13643-020-01521-4

After screening in ranked order (r_AL includes found), the N_rem records left are drawn at
random. After n draws holding k includes, r_seen = r_AL + k. The null hypothesis is "recall is
below the target τ". For recall r_seen / (r_AL + K) to be below τ, the urn of N_rem records
must hold K > r_seen / τ - r_AL includes, so the fewest it can hold under H0 is

    K_tar = floor(r_seen / τ - r_AL) + 1

and the chance of seeing k or fewer includes in n draws (without replacement) from an urn of
N_rem with K_tar includes is the hypergeometric p = P(X <= k), X ~ Hypergeom(N_rem, K_tar, n).
Any larger K makes k even less likely, so p bounds the whole of H0. Stop (reject H0) when
p < 1 - confidence. This is the same formula as the authors' code (buscar, ``calculate_h0``:
``k_hat = floor(r_seen / recall_target + 1 - (r_seen - k))``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import hypergeom


@dataclass(frozen=True)
class Estimate:
    p_value: float
    reject: bool  # True: recall >= target with the given confidence, screening may stop
    k_target: int  # K_tar: fewest includes left in the urn under H0
    recall_if_stopped: float | None  # point estimate, None before any draw
    n_remaining: int
    found_before: int
    sample_size: int
    sample_includes: int
    target: float
    confidence: float


def k_target(*, n_remaining: int, found_before: int, sample_includes: int, target: float) -> int:
    r_seen = found_before + sample_includes
    # An exact multiple must stay exact: 19 / 0.95 is 19.999999999999996 in floating point.
    return math.floor(round(r_seen / target - found_before, 9)) + 1


def estimate(
    *,
    n_remaining: int,
    found_before: int,
    sample_size: int,
    sample_includes: int,
    target: float = 0.95,
    confidence: float = 0.95,
) -> Estimate:
    """Test H0 "recall < target" after `sample_size` random draws from `n_remaining` records.

    `found_before` is r_AL (includes found before the random sample), `sample_includes` is k.
    With nothing left (`n_remaining` 0) nothing can have been missed: p = 0, reject. If the
    urn cannot hold K_tar includes besides what was drawn, H0 is impossible: p = 0.
    """
    if not 0 < target <= 1 or not 0 < confidence < 1:
        raise ValueError("target must be in (0, 1] and confidence in (0, 1)")
    if n_remaining < 0 or not 0 <= sample_size <= n_remaining:
        raise ValueError("need 0 <= sample_size <= n_remaining")
    if not 0 <= sample_includes <= sample_size or found_before < 0:
        raise ValueError("need 0 <= sample_includes <= sample_size and found_before >= 0")
    # 1 - 0.95 is 0.050000000000000044, and scipy may return 0.04999999999999999 for an exact
    # 0.05: a p-value on the boundary must not reject, so both are rounded first.
    alpha = round(1 - confidence, 12) * (1 - 1e-9)
    r_seen = found_before + sample_includes
    k_tar = k_target(
        n_remaining=n_remaining,
        found_before=found_before,
        sample_includes=sample_includes,
        target=target,
    )
    if n_remaining == 0 or k_tar - sample_includes > n_remaining - sample_size:
        p = 0.0
    else:
        p = float(hypergeom.cdf(sample_includes, n_remaining, k_tar, sample_size))
    recall = None
    if sample_size:
        missed = sample_includes / sample_size * (n_remaining - sample_size)
        recall = r_seen / (r_seen + missed) if r_seen + missed > 0 else None
    return Estimate(
        p_value=p,
        reject=p < alpha,
        k_target=k_tar,
        recall_if_stopped=recall,
        n_remaining=n_remaining,
        found_before=found_before,
        sample_size=sample_size,
        sample_includes=sample_includes,
        target=target,
        confidence=confidence,
    )


def sample_size_needed(
    *, n_remaining: int, found_before: int, target: float = 0.95, confidence: float = 0.95
) -> int:
    """Records to draw, finding no include among them, before H0 can be rejected.

    The smallest n with estimate(..., sample_size=n, sample_includes=0).reject; p falls as n
    grows, so a binary search finds it. n_remaining when only drawing them all would do (and
    0 when nothing is left).
    """
    def rejects(n: int) -> bool:
        return estimate(
            n_remaining=n_remaining,
            found_before=found_before,
            sample_size=n,
            sample_includes=0,
            target=target,
            confidence=confidence,
        ).reject

    lo, hi = 0, n_remaining
    if rejects(lo):
        return 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rejects(mid):
            hi = mid
        else:
            lo = mid
    return hi
