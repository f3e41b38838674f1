"""Small statistical helpers shared by several modules (one place, one definition)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats


def wilson_ci(count, nobs, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for count/nobs, vectorised; NaN where nobs is 0.

    statsmodels' default method is Wald, which misbehaves near 0 and 1; always ask for Wilson.

    Example:
        >>> lo, hi = wilson_ci(81, 263)
        >>> round(float(lo), 5), round(float(hi), 5)
        (0.25529, 0.36621)
    """
    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    if np.any(count < 0) or np.any(count > nobs):
        raise ValueError("wilson_ci: counts must lie between 0 and the number of observations")
    safe_n = np.where(nobs > 0, nobs, 1.0)
    # statsmodels' proportion_confint(method="wilson"), operation for operation (the same
    # bits; tests/test_stats_helpers.py holds it to statsmodels): its normal quantile is looked
    # up once per confidence here, not on every call (a report makes about 90 calls)
    q_ = count / safe_n
    crit = _normal_isf((1 - confidence) / 2.0)
    crit2 = crit**2
    denom = 1 + crit2 / safe_n
    center = (q_ + crit2 / (2 * safe_n)) / denom
    dist = crit * np.sqrt(q_ * (1.0 - q_) / safe_n + crit2 / (4.0 * safe_n**2))
    dist /= denom
    lo = np.clip(center - dist, 0, 1)
    hi = np.clip(center + dist, 0, 1)
    # Wilson bounds are exactly 0 at count 0 (and 1 at count n); remove rounding residue.
    lo = np.where(count == 0, 0.0, lo)
    hi = np.where(count == nobs, 1.0, hi)
    lo = np.where(nobs > 0, lo, np.nan)
    hi = np.where(nobs > 0, hi, np.nan)
    return lo, hi


@functools.lru_cache(maxsize=32)
def _normal_isf(q: float) -> float:
    """``scipy.stats.norm.isf(q)``, remembered (a handful of confidence levels per process)."""
    return stats.norm.isf(q)


# ----------------------------------------------------------------------------- McNemar
@dataclass(frozen=True)
class McNemar:
    """McNemar's test on the discordant counts of a paired 2 x 2 table.

    ``b`` and ``c`` are the two discordant cells. Corrected χ² = (|b − c| − 1)² / (b + c)
    except that, as in R's ``mcnemar.test``, no correction is applied when b = c (χ² = 0,
    p = 1); uncorrected χ² = (b − c)² / (b + c); exact p = binomial test of b of b + c at 1/2
    (R ``binom.test(b, b + c)``). With no discordant pairs the χ² values are NaN and the
    exact p is 1.
    """

    b: int
    c: int
    chi2_corrected: float
    p_corrected: float
    chi2_uncorrected: float
    p_uncorrected: float
    p_exact: float

    @property
    def discordant_min(self) -> int:
        """min(b, c): the statistic of the exact test."""
        return min(self.b, self.c)


def mcnemar(b: int, c: int) -> McNemar:
    """McNemar's test (exact, corrected and uncorrected) from the discordant counts.

    Example:
        >>> r = mcnemar(2, 2)  # R: mcnemar.test(matrix(c(5, 2, 2, 5), 2)) gives 0, p 1
        >>> r.chi2_corrected, r.p_corrected, r.p_exact
        (0.0, 1.0, 1.0)
        >>> round(mcnemar(10, 3).p_corrected, 6)  # R: mcnemar.test(matrix(c(1, 3, 10, 1), 2))
        0.096092
    """
    for name, v in (("b", b), ("c", c)):
        if isinstance(v, bool) or not float(v).is_integer() or v < 0:
            raise ValueError(f"mcnemar: {name} must be a whole number >= 0, not {v!r}")
    b, c = int(b), int(c)
    n = b + c
    if n == 0:  # nobody changed: no evidence of change; χ² undefined
        return McNemar(b, c, math.nan, math.nan, math.nan, math.nan, 1.0)
    diff = abs(b - c)
    # R corrects only when the table is asymmetric; |b - c| = 0 would otherwise give 1/(b + c)
    chi2_c = (diff - 1) ** 2 / n if diff > 0 else 0.0
    chi2_u = diff**2 / n
    return McNemar(
        b=b,
        c=c,
        chi2_corrected=float(chi2_c),
        p_corrected=float(stats.chi2.sf(chi2_c, 1)),
        chi2_uncorrected=float(chi2_u),
        p_uncorrected=float(stats.chi2.sf(chi2_u, 1)),
        p_exact=sign_test_p(b, n),
    )


# ----------------------------------------------------------------------------- sign test
def sign_test_p(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of ``k`` successes in ``n`` trials at p = 1/2: the
    sign test, as ``scipy.stats.binomtest(k, n, 0.5).pvalue`` gives it (``n`` >= 1).

    scipy's own algorithm, step for step (the same bits; tests/test_speed_equivalence.py holds
    it to scipy), on the binomial's unchecked methods: the checked public ones cost about
    0.6 ms a test, a report makes one per outcome and group.

    Example:
        >>> round(sign_test_p(2, 12), 5)  # R: binom.test(2, 12)$p.value
        0.03857
    """
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"sign_test_p: need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    binom, p = stats.binom, 0.5

    def pmf(x) -> float:  # binom.pmf on the support (where the search stays)
        return np.clip(binom._pmf(x, n, p), 0, 1)

    def cdf(x) -> float:  # binom.cdf: 1 from n on
        x = np.floor(x)
        return 1.0 if x >= n else np.clip(binom._cdf(x, n, p), 0, 1)

    def sf(x) -> float:  # binom.sf: 1 below 0, 0 from n on
        x = np.floor(x)
        if x < 0:
            return 1.0
        return 0.0 if x >= n else np.clip(binom._sf(x, n, p), 0, 1)

    def search(a, d, lo, hi):  # scipy's _binary_search_for_binom_tst
        while lo < hi:
            mid = lo + (hi - lo) // 2
            midval = a(mid)
            if midval < d:
                lo = mid + 1
            elif midval > d:
                hi = mid - 1
            else:
                return mid
        return lo if a(lo) <= d else lo - 1

    d = pmf(k)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = search(lambda x1: -pmf(x1), -d * rerr, np.ceil(p * n), n)
        y = n - ix + int(d * rerr == pmf(ix))
        pval = cdf(k) + sf(n - y)
    else:
        ix = search(pmf, d * rerr, 0, np.floor(p * n))
        y = ix + 1
        pval = cdf(y - 1) + sf(k - 1)
    return float(min(1.0, pval))


# ----------------------------------------------------------------------------- signed rank
#: R's wilcox.test computes exact p-values below this many non-zero differences.
SIGNED_RANK_EXACT_LIMIT = 50
# Differences are rounded before ranking so that floating-point noise (0.1 + 0.2 - 0.3)
# neither breaks ties nor hides zeros. Questionnaire scores never need more decimals.
RANK_DECIMALS = 9


@dataclass(frozen=True)
class SignedRank:
    """Wilcoxon signed-rank test of paired differences (see :func:`signed_rank`).

    ``statistic`` is R's V, the sum of the ranks of the positive differences (R+);
    ``method`` is "exact", "asymptotic" or "not computed (all differences zero)";
    ``label`` says the same in words for tables and reports.
    """

    statistic: float
    r_plus: float
    r_minus: float
    n_nonzero: int
    n_zero: int
    ties: bool
    p: float
    method: str
    correction: bool
    zero_method: str

    @property
    def rank_biserial(self) -> float:
        """Matched-pairs rank-biserial correlation (R+ − R−) / (R+ + R−)."""
        total = self.r_plus + self.r_minus
        return (self.r_plus - self.r_minus) / total if total > 0 else math.nan

    @property
    def label(self) -> str:
        if self.method == "exact":
            how = "exact"
        elif self.method == "asymptotic":
            how = "normal approximation" + (
                " with continuity correction" if self.correction else ""
            )
            how += " and tie correction" if self.ties else ""
        else:
            return f"Wilcoxon signed-rank: {self.method}"
        zeros = {"wilcox": "zeros dropped", "pratt": "Pratt", "zsplit": "zeros split"}
        return f"Wilcoxon signed-rank ({zeros[self.zero_method]}, {how})"


def signed_rank(
    d, *, zero_method: str = "wilcox", method: str = "auto", correction: bool = True
) -> SignedRank:
    """Wilcoxon signed-rank test with R's ``wilcox.test`` rule for exact vs normal p-values.

    ``method="auto"`` (R's default): exact only when there are fewer than 50 non-zero
    differences and no zeros and no ties among |d|; otherwise the normal approximation with
    the tie-corrected variance and (``correction=True``, R's default) a continuity correction
    of 1/2. ``zero_method`` "wilcox" drops zero differences before ranking (as R);
    "pratt" and "zsplit" as in scipy. Differences are rounded to 9 decimals before ranking.

    Example:
        >>> r = signed_rank([1.5, -0.5, 2.0, 3.0, 0.0, 1.0, 2.5, 4.0])
        >>> r.statistic, r.method, round(r.p, 4)  # R: wilcox.test(d): V = 27, p-value = 0.03461
        (27.0, 'asymptotic', 0.0346)
    """
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise ValueError(f"zero_method must be 'wilcox', 'pratt' or 'zsplit', not {zero_method!r}")
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'asymptotic', not {method!r}")
    d = np.round(np.asarray(d, dtype=float), RANK_DECIMALS)
    if np.isnan(d).any():
        raise ValueError("signed_rank: differences must not be missing")
    nonzero = d[d != 0]
    n_zero = int((d == 0).sum())
    ties = len(np.unique(np.abs(nonzero))) < len(nonzero)
    ranked = nonzero if zero_method == "wilcox" else d
    ranks, tied = _average_ranks(np.abs(ranked))
    r_plus, r_minus = float(ranks[ranked > 0].sum()), float(ranks[ranked < 0].sum())
    if zero_method == "zsplit":
        half = float(ranks[ranked == 0].sum()) / 2
        r_plus, r_minus = r_plus + half, r_minus + half
    common = dict(
        statistic=r_plus,
        r_plus=r_plus,
        r_minus=r_minus,
        n_nonzero=len(nonzero),
        n_zero=n_zero,
        ties=ties,
        zero_method=zero_method,
    )
    if len(nonzero) == 0:
        return SignedRank(
            **common, p=math.nan, method="not computed (all differences zero)", correction=False
        )
    if method == "auto":
        exact = len(nonzero) < SIGNED_RANK_EXACT_LIMIT and not ties and n_zero == 0
        method = "exact" if exact else "asymptotic"
    if method == "exact" and (ties or (n_zero and zero_method != "wilcox")):
        raise ValueError(
            "Wilcoxon: an exact p-value needs differences without ties"
            + (" or zeros (with this zero_method)" if n_zero else "")
            + "; use method='asymptotic' or 'auto'"
        )
    use_cc = bool(correction) and method == "asymptotic"
    count = len(ranked)
    if method == "exact":
        p = _signed_rank_exact_p(r_plus, count)
    else:
        # scipy.stats.wilcoxon's normal approximation, operation for operation (the same bits;
        # tests/test_speed_equivalence.py holds it to scipy): scipy's checks and its ranking a
        # second time cost about 0.7 ms a test, a report makes one per outcome and group
        n0 = n_zero if zero_method == "pratt" else 0
        mn = count * (count + 1.0) * 0.25 - n0 * (n0 + 1.0) * 0.25
        se = count * (count + 1.0) * (2.0 * count + 1.0) - n0 * (n0 + 1.0) * (2.0 * n0 + 1.0)
        if zero_method == "pratt" and n_zero:
            tied = tied[1:]  # the zeros (ranked first) are not a tie of the correction
        se = np.sqrt((se - np.sum(tied**3 - tied) / 2) / 24)
        z = (np.float64(r_plus) - mn) / se
        if use_cc:
            z = z - np.sign(z) * 0.5 / se
        p = 2 * special.ndtr(-np.abs(z))
    return SignedRank(**common, p=float(p), method=method, correction=use_cc)


def _average_ranks(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks of ``a`` (``scipy.stats.rankdata``'s) and the size of each run of equal
    values, smallest value first."""
    order = np.argsort(a, kind="stable")
    s = a[order]
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, np.int64)
    size = np.diff(np.r_[first, len(s)]).astype(float)
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(first + (size + 1) / 2, size.astype(np.int64))
    return ranks, size


@functools.lru_cache(maxsize=64)
def _signed_rank_null(n: int) -> np.ndarray:
    """P(R+ = r), r = 0 .. n(n+1)/2, with no ties or zeros (scipy's recursion, the same bits)."""
    c = np.ones(1, dtype=np.float64)
    for k in range(1, n + 1):
        prev = c
        c = np.zeros(k * (k + 1) // 2 + 1, dtype=np.float64)
        m = len(prev)
        c[:m] = prev * 0.5
        c[-m:] += prev * 0.5
    c.flags.writeable = False
    return c


def _signed_rank_exact_p(r_plus: float, n: int) -> float:
    """Two-sided exact p of R+ among ``n`` untied non-zero differences, as scipy computes it
    (each tail summed from the end nearer the statistic, the other as one minus it)."""
    pmfs = _signed_rank_null(n)
    mn = n * (n + 1) / 4

    def cdf(k: int) -> float:
        return pmfs[: k + 1].sum() if k <= mn else 1 - pmfs[k + 1 :].sum()

    def sf(k: int) -> float:
        return pmfs[k:].sum() if k <= mn else 1 - pmfs[:k].sum()

    p = 2 * min(sf(math.floor(r_plus)), cdf(math.ceil(r_plus)))
    return float(np.clip(p, 0, 1))
