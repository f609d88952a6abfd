"""The statistics against GrowthBook's published test vectors and an independent scipy check.

Vectors: growthbook/growthbook packages/stats/tests (snapshot 8f1db445):
frequentist/test_tests.py (TestTwoSidedTTest), test_gbstats.py
(TestAnalyzeMetricDfFrequentist, TestAnalyzeMetricDfRegressionAdjustment) and
test_shared_models.py (TestComputeTheta, TestEffectMomentsCupedRatioNegativeBaseline),
asserted to the digits those tests assert. The relative-CUPED variances are those of the
current repository, not of PyPI gbstats 0.8.0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_layer.analysis.experiment_stats import (
    Moments,
    compare,
    cuped_ratio_stat,
    cuped_theta,
    moments,
    relative_cuped_ratio_variance,
    srm_p_value,
)


def mean(s: float, ss: float, n: int, binary: bool = False) -> Moments:
    return moments(n, [s], {(0, 0): ss}, [binary])


def ra(n, sy, syy, sx, sxx, sxy, binary=False) -> Moments:
    return moments(n, [sy, sx], {(0, 0): syy, (1, 1): sxx, (0, 1): sxy}, [binary, binary])


def ratio(n, sm, smm, sd, sdd, smd) -> Moments:
    return moments(n, [sm, sd], {(0, 0): smm, (1, 1): sdd, (0, 1): smd}, [False, False])


def ra_ratio(n, m, m2, d, d2, mp, mp2, dp, dp2, m_mp, d_dp, mp_dp, m_d, m_dp, mp_d) -> Moments:
    """Components m_post, d_post, m_pre, d_pre with GrowthBook's sums of products."""
    products = {
        (0, 0): m2,
        (1, 1): d2,
        (2, 2): mp2,
        (3, 3): dp2,
        (0, 2): m_mp,
        (1, 3): d_dp,
        (2, 3): mp_dp,
        (0, 1): m_d,
        (0, 3): m_dp,
        (1, 2): mp_d,
    }
    return moments(n, [m, d, mp, dp], products, [False] * 4)


def rounded(effect, digits):
    return tuple(
        round(v, digits)
        for v in (effect.lift, effect.ci_low, effect.ci_high, effect.se, effect.p_value)
    )


# frequentist/test_tests.py TestTwoSidedTTest
STAT_A = mean(1396.87, 52377.9767, 3407)
STAT_B = mean(2422.7, 134698.29, 3461)


def test_two_sided_ttest_relative():
    got = compare(STAT_A, STAT_B, "mean", cuped=False, relative=True)
    assert rounded(got, 5) == (0.70732, -0.03526, 1.44989, 0.37879, 0.06191)


def test_two_sided_ttest_absolute():
    got = compare(STAT_A, STAT_B, "mean", cuped=False, relative=False)
    assert rounded(got, 5) == (0.29, 0.04538, 0.53462, 0.12478, 0.02016)


def test_two_sided_ttest_binom():
    got = compare(mean(14, 14, 28, True), mean(16, 16, 30, True), "mean", cuped=False)
    assert rounded(got, 5) == (round((16 / 30 - 0.5) / 0.5, 5), -0.47767, 0.61101, 0.2717, 0.80707)


def test_two_sided_ttest_missing_variance():
    got = compare(mean(1396.87, 52377.9767, 2), STAT_B, "mean", cuped=False)
    assert (got.lift, got.se, got.ci_low, got.ci_high, got.p_value) == (0, 0, 0, 0, 1)
    assert got.guarded == "zero or negative variance"


RA_RATIO_A = ra_ratio(
    100,
    485.112236689623,
    2715.484666118136,
    679.9093275844917,
    4939.424001640236,
    192.59138069991536,
    460.076026390857,
    290.1398399750233,
    920.9461385038898,
    1113.6215759318352,
    2130.9404074446747,
    634.239482353647,
    3602.146836776702,
    1559.2878434944676,
    1460.3181079276983,
)
RA_RATIO_B = ra_ratio(
    100,
    514.7757826608777,
    2994.897482705013,
    705.4090874383759,
    5291.36604146392,
    206.94157227402536,
    514.2903702246757,
    302.54389139107326,
    994.4506208125663,
    1237.0953021125997,
    2292.081739775257,
    698.4173425817908,
    3918.1561431600717,
    1701.0287270040265,
    1604.0759503266522,
)


def test_two_sided_ttest_ratio_ra():
    got = compare(RA_RATIO_A, RA_RATIO_B, "ratio", cuped=True)
    assert rounded(got, 5) == (-0.0007, -0.00841, 0.007, 0.00391, 0.85771)
    # test_gbstats.py test_analyze_metric_df_ratio_ra: the same data to 9 digits
    assert round(got.lift, 9) == -0.000701483
    assert round(got.p_value, 9) == 0.857710405


# test_gbstats.py, frequentist engine (control = variation "zero")
def test_count_metric():
    got = compare(mean(270, 848.79, 100), mean(300, 869, 120), "mean", cuped=False)
    assert round(got.lift, 9) == -0.074074074
    assert round(got.p_value, 9) == 0.145219005


def test_ratio_metric():
    got = compare(
        ratio(100, 270, 848.79, 510, 810, -900),
        ratio(120, 300, 869, 500, 800, -905),
        "ratio",
        cuped=False,
    )
    assert round(got.lift, 9) == 0.133333333
    assert round(got.p_value, 9) == 0.610663339


def test_ratio_zero_denominator_control():
    got = compare(
        ratio(100, 270, 848.79, 0, 0, 0),
        ratio(120, 300, 869, 500, 800, -905),
        "ratio",
        cuped=False,
    )
    assert (got.lift, got.p_value) == (0, 1)


def test_one_user_control_default_output():
    got = compare(mean(20, 443, 3), mean(1, 1, 1), "mean", cuped=False)
    assert (got.lift, got.p_value) == (0, 1)


def test_regression_adjusted_count():
    got = compare(
        ra(3001, 300, 600, 210, 415, -20), ra(3000, 222, 555, 120, 405, -10), "mean", cuped=True
    )
    assert round(got.lift, 9) == -0.281707154
    assert round(got.p_value, 9) == 0.003732549
    assert got.theta is not None


def test_regression_adjusted_proportion():
    got = compare(
        ra(3001, 300, 300, 210, 210, -20, True),
        ra(3000, 222, 222, 120, 120, -10, True),
        "mean",
        cuped=True,
    )
    assert round(got.lift, 9) == -0.31620216
    assert round(got.p_value, 9) == 0.000000353


# test_shared_models.py
METRIC_1 = np.array([0.3, 0.5, 0.9, 22])
METRIC_3 = np.array([2, 1, 5, 3])


def test_compute_theta():
    arm = ra(
        4,
        METRIC_3.sum(),
        (METRIC_3**2).sum(),
        METRIC_1.sum(),
        (METRIC_1**2).sum(),
        float((METRIC_1 * METRIC_3).sum()),
    )
    assert round(cuped_theta(arm, arm), 5) == 0.01864
    flat = ra(4, METRIC_3.sum(), (METRIC_3**2).sum(), 0, 0, 0)
    assert cuped_theta(flat, flat) == 0
    # theta 0 falls back to the unadjusted test
    assert compare(flat, flat, "mean", cuped=True).theta is None


def _ra_ratio_from(m_post, d_post, m_pre, d_pre) -> Moments:
    comps = [m_post, d_post, m_pre, d_pre]
    products = {(i, j): float(np.sum(comps[i] * comps[j])) for i in range(4) for j in range(i, 4)}
    return moments(len(m_post), [float(c.sum()) for c in comps], products, [False] * 4)


@pytest.mark.parametrize(
    "m_post_b, lift, se",
    [
        ([17.0, 12.0, 23.0, 28.0, 12.0, 22.0, 29.0, 16.0], 0.1039280, 0.0286196),
        ([14.0, 9.0, 17.0, 23.0, 9.0, 18.0, 22.0, 13.0], -0.1372068, 0.0223934),
    ],
)
@pytest.mark.parametrize("sign", [1, -1])
def test_cuped_ratio_negative_baseline(m_post_b, lift, se, sign):
    """TestEffectMomentsCupedRatioNegativeBaseline (θ fixed at 0.5), both signs."""
    a = _ra_ratio_from(
        sign * np.array([12.0, 19.0, 16.0, 24.0, 21.0, 9.0, 14.0, 26.0]),
        np.array([1.0, 2.0, 1.5, 2.5, 2.0, 1.0, 1.5, 2.5]),
        sign * np.array([16.0, 11.0, 21.0, 19.0, 26.0, 11.0, 9.0, 21.0]),
        np.array([1.5, 1.0, 2.0, 2.0, 2.5, 1.0, 1.0, 2.0]),
    )
    b = _ra_ratio_from(
        sign * np.array(m_post_b),
        np.array([1.5, 1.0, 2.0, 2.5, 1.0, 2.0, 2.5, 1.5]),
        sign * np.array([11.0, 17.0, 22.0, 27.0, 10.0, 27.0, 21.0, 16.0]),
        np.array([1.0, 1.5, 2.0, 2.5, 1.0, 2.5, 2.0, 1.5]),
    )
    sa, sb = cuped_ratio_stat(a, 0.5), cuped_ratio_stat(b, 0.5)
    got_lift = (sb.mean - sa.mean) / abs(sa.unadjusted_mean)
    got_se = math.sqrt(relative_cuped_ratio_variance(a, b, sa, sb, 0.5))
    assert got_lift == pytest.approx(sign * lift, abs=5e-8)
    assert got_se == pytest.approx(se, abs=5e-8)


# ---------------------------------------------------------------- independent checks (scipy)
samples = st.lists(
    st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2)), min_size=3, max_size=40
)


def _sums(x: np.ndarray, binary: bool = False) -> Moments:
    return mean(float(x.sum()), float((x**2).sum()), len(x), binary)


@settings(max_examples=150, deadline=None)
@given(a=samples, b=samples)
def test_absolute_welch_equals_scipy(a, b):
    xa, xb = np.array(a), np.array(b)
    got = compare(_sums(xa), _sums(xb), "mean", cuped=False, relative=False)
    if np.var(xa, ddof=1) <= 1e-9 or np.var(xb, ddof=1) <= 1e-9:
        return
    if xa.sum() == 0:  # GrowthBook's guard: a control mean of 0 gives the default output
        assert (got.lift, got.p_value, got.ci_low, got.ci_high) == (0, 1, 0, 0)
        return
    want = scipy.stats.ttest_ind(xb, xa, equal_var=False)
    ci = want.confidence_interval(0.95)
    assert got.lift == pytest.approx(xb.mean() - xa.mean(), abs=1e-9)
    assert got.p_value == pytest.approx(want.pvalue, abs=1e-9)
    assert got.ci_low == pytest.approx(ci.low, rel=1e-7, abs=1e-9)
    assert got.ci_high == pytest.approx(ci.high, rel=1e-7, abs=1e-9)
    assert got.dof == pytest.approx(want.df, rel=1e-7)


@settings(max_examples=150, deadline=None)
@given(a=samples, b=samples)
def test_relative_delta_method_equals_first_principles(a, b):
    """Var((B̄ - Ā)/|Ā|) by the delta method: var_B/(n_B Ā²) + var_A B̄²/(n_A Ā⁴)."""
    xa, xb = np.abs(np.array(a)) + 1, np.array(b)
    got = compare(_sums(xa), _sums(xb), "mean", cuped=False, relative=True)
    va, vb = np.var(xa, ddof=1), np.var(xb, ddof=1)
    if va <= 1e-9 or vb <= 1e-9:
        return
    ma, mb = xa.mean(), xb.mean()
    se = math.sqrt(vb / (len(xb) * ma**2) + va * mb**2 / (len(xa) * ma**4))
    dof = (vb / len(xb) + va / len(xa)) ** 2 / (
        (vb / len(xb)) ** 2 / (len(xb) - 1) + (va / len(xa)) ** 2 / (len(xa) - 1)
    )
    lift = (mb - ma) / ma
    assert got.lift == pytest.approx(lift, rel=1e-9, abs=1e-12)
    assert got.se == pytest.approx(se, rel=1e-9)
    assert got.p_value == pytest.approx(2 * scipy.stats.t.sf(abs(lift / se), dof), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    y=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30), st.booleans()), min_size=6, max_size=40
    )
)
def test_cuped_theta_and_variance_equal_numpy(y):
    """θ = pooled cov/var (numpy), adjusted means and variances recomputed from the rows."""
    arr = np.array([(a, b) for a, b, _ in y], dtype=float)
    arm = np.array([t for _, _, t in y])
    if arm.sum() < 3 or (~arm).sum() < 3:
        return
    post, pre = arr[:, 0], arr[:, 1]

    def arm_moments(mask):
        p, x = post[mask], pre[mask]
        return ra(len(p), p.sum(), (p**2).sum(), x.sum(), (x**2).sum(), float((p * x).sum()))

    a, b = arm_moments(~arm), arm_moments(arm)
    if np.var(pre, ddof=1) == 0 or np.var(post, ddof=1) == 0:
        assert cuped_theta(a, b) == 0
        return
    theta = np.cov(post, pre, ddof=1)[0, 1] / np.var(pre, ddof=1)
    assert cuped_theta(a, b) == pytest.approx(theta, rel=1e-9, abs=1e-12)
    got = compare(a, b, "mean", cuped=True, relative=False)
    adj = post - theta * pre
    va, vb = np.var(adj[~arm], ddof=1), np.var(adj[arm], ddof=1)
    if va <= 1e-9 or vb <= 1e-9 or theta == 0:
        return
    assert got.lift == pytest.approx(adj[arm].mean() - adj[~arm].mean(), abs=1e-9)
    assert got.se == pytest.approx(math.sqrt(va / (~arm).sum() + vb / arm.sum()), rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    units=st.lists(st.integers(0, 5000), min_size=2, max_size=5),
    raw=st.lists(st.floats(0.05, 1), min_size=5, max_size=5),
)
def test_srm_equals_scipy_chisquare(units, raw):
    weights = raw[: len(units)]
    if sum(units) == 0:
        assert srm_p_value(units, weights) == 1
        return
    expected = np.array(weights) / sum(weights) * sum(units)
    want = scipy.stats.chisquare(units, expected).pvalue
    assert srm_p_value(units, weights) == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_srm_by_hand():
    # 520 / 480 against 50/50: chi2 = (20² + 20²) / 500 = 1.6 on 1 dof
    assert srm_p_value([520, 480], [0.5, 0.5]) == pytest.approx(scipy.stats.chi2.sf(1.6, 1))
    assert srm_p_value([0, 0], [0.5, 0.5]) == 1
