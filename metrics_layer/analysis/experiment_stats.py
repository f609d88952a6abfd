"""GrowthBook's frequentist engine on per-arm sums, in plain Python and scipy.

Every formula follows growthbook/growthbook `packages/stats/gbstats` (models/statistics.py,
models/tests.py, frequentist/tests.py, utils.py; shared/research/semantics.md §4), including
the current repository's relative-CUPED variance (not the older one of PyPI gbstats 0.8.0):

* an arm's per-unit statistic: a mean (sample variance, n - 1), a proportion (p(1 - p)), a
  ratio of per-unit sums (delta method with the numerator-denominator covariance), each
  optionally CUPED-adjusted with θ pooled over the two compared arms;
* effect: relative (mean_T - mean_C) / |unadjusted mean_C| with the delta-method variance,
  or absolute; Welch t with Welch-Satterthwaite degrees of freedom, two-sided p and CI;
* guards (GrowthBook's default output: lift 0, SE 0, CI (0, 0), p 1): an arm's variance or
  the effect's variance <= 0, or a control mean of 0;
* SRM: Pearson χ² of the arm counts against the weights, k - 1 degrees of freedom.

Covariances of two 0/1 components divide by n (GrowthBook's proportion rule), all others by
n - 1. A component's variance is its covariance with itself, so the rule is in one place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, t

THETA_RATIO_EPS = 1e-8  # GrowthBook: |θ| below this reverts a CUPED ratio to the plain ratio


@dataclass(frozen=True)
class Moments:
    """One arm's sums for one metric: n, Σc_i and Σc_i·c_j of its components c.

    Components: [y] (mean, proportion) or [m, d] (ratio), followed by the pre-exposure copies
    [x] or [m_pre, d_pre] when CUPED is on. `binary[i]` marks a 0/1 component.
    """

    n: int
    sums: tuple[float, ...]
    products: tuple[tuple[float, ...], ...]  # symmetric matrix of Σc_i·c_j
    binary: tuple[bool, ...]

    def mean(self, i: int) -> float:
        return self.sums[i] / self.n if self.n else 0.0

    def cov(self, i: int, j: int) -> float:
        """Covariance of components i and j (the variance when i == j), GrowthBook's rules."""
        n = self.n
        if self.binary[i] and self.binary[j]:
            if i == j:
                p = self.mean(i)
                return p * (1 - p)
            if n <= 1:
                return 0.0
            return self.products[i][j] / n - self.sums[i] * self.sums[j] / n**2
        if n <= 1:
            return 0.0
        return (self.products[i][j] - self.sums[i] * self.sums[j] / n) / (n - 1)

    def __add__(self, other: Moments) -> Moments:
        """The two arms pooled (for θ)."""
        k = len(self.sums)
        return Moments(
            self.n + other.n,
            tuple(self.sums[i] + other.sums[i] for i in range(k)),
            tuple(
                tuple(self.products[i][j] + other.products[i][j] for j in range(k))
                for i in range(k)
            ),
            self.binary,
        )


def moments(
    n: int, sums: Sequence[float], products: dict[tuple[int, int], float], binary: Sequence[bool]
) -> Moments:
    """Moments from sums and the upper triangle of products ((i, j) with i <= j)."""
    k = len(sums)
    full = tuple(tuple(float(products[(min(i, j), max(i, j))]) for j in range(k)) for i in range(k))
    return Moments(int(n), tuple(float(s) for s in sums), full, tuple(binary))


# ------------------------------------------------------------------------ per-arm statistics
@dataclass(frozen=True)
class ArmStat:
    """What a test needs from one arm: n, (adjusted) mean, unadjusted mean, per-unit variance."""

    n: int
    mean: float
    unadjusted_mean: float
    variance: float


def variance_of_ratios(
    mean_m: float, var_m: float, mean_d: float, var_d: float, cov: float
) -> float:
    """Delta-method variance of M/D (gbstats utils.variance_of_ratios)."""
    if mean_d == 0:
        return 0.0
    return var_m / mean_d**2 + var_d * mean_m**2 / mean_d**4 - 2 * cov * mean_m / mean_d**3


def mean_stat(m: Moments) -> ArmStat:
    """SampleMeanStatistic / ProportionStatistic of component 0."""
    mu = m.mean(0)
    return ArmStat(m.n, mu, mu, m.cov(0, 0))


def ratio_stat(m: Moments) -> ArmStat:
    """RatioStatistic of components 0 / 1: ΣM/ΣD (0 when ΣD = 0), delta-method variance."""
    mu = m.sums[0] / m.sums[1] if m.sums[1] != 0 else 0.0
    if m.mean(1) == 0 or m.n <= 1:
        var = 0.0
    else:
        var = variance_of_ratios(m.mean(0), m.cov(0, 0), m.mean(1), m.cov(1, 1), m.cov(0, 1))
    return ArmStat(m.n, mu, mu, var)


def cuped_theta(a: Moments, b: Moments) -> float:
    """θ = cov(Y, X) / var(X) over both arms pooled; 0 when either pooled variance is 0."""
    joint = a + b
    if joint.cov(1, 1) == 0 or joint.cov(0, 0) == 0:
        return 0.0
    return joint.cov(0, 1) / joint.cov(1, 1)


def cuped_stat(m: Moments, theta: float) -> ArmStat:
    """RegressionAdjustedStatistic: mean ȳ - θx̄, variance σ²_y + θ²σ²_x - 2θσ_xy."""
    var = 0.0
    if m.n > 1:
        var = m.cov(0, 0) + theta**2 * m.cov(1, 1) - 2 * theta * m.cov(0, 1)
    return ArmStat(m.n, m.mean(0) - theta * m.mean(1), m.mean(0), var)


def _ratio_lambda(m: Moments) -> np.ndarray:
    """Covariance matrix of (m_post, d_post, m_pre, d_pre) per unit."""
    return np.array([[m.cov(i, j) for j in range(4)] for i in range(4)])


def _ratio_nabla(m: Moments, theta: float) -> np.ndarray:
    """Gradient of m_post/d_post - θ m_pre/d_pre at the means (absolute case)."""
    b = [m.mean(i) for i in range(4)]
    if b[1] == 0 or b[3] == 0:
        return np.zeros(4)
    return np.array([1 / b[1], -b[0] / b[1] ** 2, -theta / b[3], theta * b[2] / b[3] ** 2])


def cuped_ratio_theta(a: Moments, b: Moments) -> float:
    """θ of a CUPED ratio: -(cov_a + cov_b) / (var_pre_a + var_pre_b), gradients at θ = 1."""
    parts = []
    for m in (a, b):
        lam, nab = _ratio_lambda(m), _ratio_nabla(m, 1.0)
        parts.append((nab[2:4] @ lam[2:4, 2:4] @ nab[2:4], nab[2:4] @ lam[2:4, 0:2] @ nab[0:2]))
    var_pre = parts[0][0] + parts[1][0]
    if var_pre == 0:
        return 0.0
    return float(-(parts[0][1] + parts[1][1]) / var_pre)


def _ratio_means(m: Moments) -> tuple[float, float]:
    post = m.sums[0] / m.sums[1] if m.sums[1] != 0 else 0.0
    pre = m.sums[2] / m.sums[3] if m.sums[3] != 0 else 0.0
    return post, pre


def cuped_ratio_stat(m: Moments, theta: float) -> ArmStat:
    """RegressionAdjustedRatioStatistic: mean post - θ pre; variance ∇ᵀΛ∇ per unit."""
    post, pre = _ratio_means(m)
    mean = 0.0 if m.sums[1] == 0 or m.sums[3] == 0 else post - theta * pre
    nab = _ratio_nabla(m, theta)
    return ArmStat(m.n, mean, post, float(nab @ _ratio_lambda(m) @ nab))


def relative_cuped_variance(
    a: Moments, b: Moments, sa: ArmStat, sb: ArmStat, theta: float
) -> float:
    """gbstats models/tests.py frequentist_variance_relative_cuped (current repository)."""
    den_trt = b.n * sa.unadjusted_mean**2
    den_ctrl = a.n * sa.unadjusted_mean**2
    if den_trt == 0 or den_ctrl == 0:
        return 0.0
    v_trt = (b.cov(0, 0) + theta**2 * b.cov(1, 1) - 2 * theta * b.cov(0, 1)) / den_trt
    const = -b.mean(0)
    num_a = a.cov(0, 0) * const**2 / a.mean(0) ** 2
    num_b = 2 * theta * a.cov(0, 1) * const / a.mean(0)
    num_c = theta**2 * a.cov(1, 1)
    return v_trt + (num_a + num_b + num_c) / den_ctrl


def relative_cuped_ratio_variance(
    a: Moments, b: Moments, sa: ArmStat, sb: ArmStat, theta: float
) -> float:
    """gbstats models/tests.py frequentist_variance_relative_cuped_ratio (current repository)."""
    d_post_a = a.mean(1)
    if sa.unadjusted_mean == 0 or d_post_a == 0:
        return 0.0
    g_abs = (sb.mean - sa.mean) * float(np.sign(sa.unadjusted_mean))
    g_den = abs(sa.unadjusted_mean)
    nab_a_stat = _ratio_nabla(a, theta)
    nabla_a = np.array(
        [
            -(g_den + g_abs) / d_post_a / g_den**2,
            (a.mean(0) * g_den / d_post_a**2 + a.mean(0) * g_abs / d_post_a**2) / g_den**2,
            -nab_a_stat[2] / g_den,
            -nab_a_stat[3] / g_den,
        ]
    )
    nabla_b = _ratio_nabla(b, theta) / g_den
    return float(
        nabla_a @ _ratio_lambda(a) @ nabla_a / a.n + nabla_b @ _ratio_lambda(b) @ nabla_b / b.n
    )


# ------------------------------------------------------------------------ the test
@dataclass(frozen=True)
class Effect:
    """One arm against control: lift (relative or absolute), SE, CI, p, and the θ used."""

    lift: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    dof: float
    theta: float | None  # None without CUPED (or when it fell back to unadjusted)
    guarded: str | None  # why GrowthBook's default output was returned, else None


def _default(reason: str, theta: float | None = None) -> Effect:
    return Effect(0.0, 0.0, 0.0, 0.0, 1.0, 0.0, theta, reason)


def compare(
    control: Moments,
    treatment: Moments,
    kind: str,
    *,
    cuped: bool,
    relative: bool = True,
    alpha: float = 0.05,
) -> Effect:
    """Two-sided Welch t-test of treatment against control (gbstats TwoSidedTTest)."""
    a, b = control, treatment
    theta: float | None = None
    relative_var = None
    if kind == "ratio":
        if cuped:
            th = cuped_ratio_theta(a, b)
            if abs(th) >= THETA_RATIO_EPS:
                theta = th
                sa, sb = cuped_ratio_stat(a, th), cuped_ratio_stat(b, th)
                relative_var = relative_cuped_ratio_variance
        if theta is None:
            sa, sb = ratio_stat(a), ratio_stat(b)
    else:
        if cuped:
            th = cuped_theta(a, b)
            if th != 0:
                theta = th
                sa, sb = cuped_stat(a, th), cuped_stat(b, th)
                relative_var = relative_cuped_variance
        if theta is None:
            sa, sb = mean_stat(a), mean_stat(b)
    if relative and relative_var is not None:
        assert theta is not None
        variance = relative_var(a, b, sa, sb, theta)
    elif relative:
        variance = variance_of_ratios(
            sb.unadjusted_mean, _per(sb), sa.unadjusted_mean, _per(sa), 0.0
        )
    else:
        variance = _per(sb) + _per(sa)
    if sa.variance <= 0 or sb.variance <= 0 or variance <= 0 or min(sa.n, sb.n) <= 1:
        return _default("zero or negative variance", theta)
    if sa.mean == 0 or sa.unadjusted_mean == 0:
        return _default("control mean is zero", theta)
    diff = sb.mean - sa.mean
    lift = diff / abs(sa.unadjusted_mean) if relative else diff
    se = math.sqrt(variance)
    dof = (sb.variance / sb.n + sa.variance / sa.n) ** 2 / (
        sb.variance**2 / (sb.n**2 * (sb.n - 1)) + sa.variance**2 / (sa.n**2 * (sa.n - 1))
    )
    p = 2 * (1 - float(t.cdf(abs(lift / se), dof)))
    half = float(t.ppf(1 - alpha / 2, dof)) * se
    return Effect(lift, se, lift - half, lift + half, p, dof, theta, None)


def _per(s: ArmStat) -> float:
    return s.variance / s.n if s.n else 0.0


def arm_value(m: Moments, kind: str) -> float:
    """The arm's unadjusted mean (or ratio); NaN when undefined (no units, zero denominator)."""
    if m.n == 0:
        return math.nan
    if kind == "ratio":
        return m.sums[0] / m.sums[1] if m.sums[1] != 0 else math.nan
    return m.mean(0)


# ------------------------------------------------------------------------ SRM
def srm_p_value(units: Sequence[int], weights: Sequence[float]) -> float:
    """Pearson χ² of observed arm counts against weights, k - 1 dof (gbstats check_srm)."""
    total = sum(units)
    if not total:
        return 1.0
    total_weight = sum(weights)
    x = 0.0
    for o, w in zip(units, weights, strict=True):
        if w <= 0:
            continue
        e = w / total_weight * total
        x += (o - e) ** 2 / e
    return float(chi2.sf(x, len(units) - 1))
