"""Paired (pre/post) change: tests, effect sizes, caseness change and multiple comparisons.

Differences are always ``post - pre``. Whether a fall is an improvement follows the scale's
direction (``higher_is_better``); the numbers themselves never change sign for it.

Formulas (see docs/change.md and specs/statistics.md):

* paired t test and the t(n-1) CI of the mean difference (``scipy.stats.ttest_rel``);
* Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) with R's choice of exact vs normal
  approximation, and the matched-pairs rank-biserial correlation;
* sign test (exact binomial on the non-zero differences);
* d_z = mean(diff) / sd(diff) with an exact CI from the noncentral t; d_av (Cumming);
  d_rm (Lakens 2013); Hedges-corrected versions g = J(n - 1) d;
* McNemar's test for caseness at baseline vs follow-up (exact, corrected and uncorrected).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._internal.columns import check_frame, require_columns
from .._internal.params import (
    BY,
    COLUMN,
    ERRORS,
    FINITE,
    INSTRUMENT,
    OPTIONAL_TEXT,
    POSITIVE_COUNT,
    PROBABILITY,
    ArrayLike,
    Boolean,
    Columns,
    MappingOf,
    Options,
    deprecated_values,
    validate_params,
)
from .._internal.quality import QualityRecord, recorded, with_notes
from .._internal.text import format_p
from .._stats import RANK_DECIMALS, mcnemar, sign_test_p, signed_rank, wilson_ci
from ..errors import DataStructureError, OutcomesError

__all__ = [
    "CasenessResult",
    "ChangeResult",
    "ChangeTable",
    "adjust_pvalues",
    "caseness_change",
    "hedges_j",
    "paired_change",
    "paired_change_table",
]

#: Column order of ChangeResult.to_frame(); the first 20 are the public contract (DESIGN.md).
CHANGE_COLUMNS = [
    "n",
    "mean_pre",
    "mean_post",
    "sd_pre",
    "sd_post",
    "r",
    "mean_diff",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p",
    "wilcoxon_stat",
    "wilcoxon_p",
    "rank_biserial",
    "d_z",
    "d_z_ci_low",
    "d_z_ci_high",
    "d_av",
    "d_rm",
    "g_z",
    "g_av",
    "g_rm",
    "hedges_j",
    "sd_diff",
    "se_diff",
    "n_positive",
    "n_negative",
    "n_zero",
    "sign_test_p",
    "wilcoxon_zero_method",
    "wilcoxon_method",
    "wilcoxon_correction",
    "n_dropped",
    "confidence",
    "higher_is_better",
]


# ----------------------------------------------------------------------------- input
def _as_float(x: object, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """Numeric 1-d array from a list/array/Series; text or infinities raise naming the place."""
    if isinstance(x, pd.DataFrame):
        raise DataStructureError(f"{name}: expected one column of scores, got a DataFrame")
    index = x.index if isinstance(x, pd.Series) else None
    # numbers already (a report passes float arrays and columns): nothing to convert, no text
    # to find, only infinities to refuse (below, with their places, when there are any)
    values = x.to_numpy() if isinstance(x, pd.Series) else x
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind == "f":
        arr = values.astype(float)
        if not np.isinf(arr).any():
            return arr, index
    s = pd.Series(x, copy=False) if not isinstance(x, pd.Series) else x
    if s.ndim != 1:
        raise DataStructureError(f"{name}: expected a one-dimensional sequence of scores")
    if s.dtype == bool or pd.api.types.is_bool_dtype(s.dtype):
        raise DataStructureError(f"{name}: expected numeric scores, got true/false values")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    arr = num.to_numpy(dtype=float, na_value=np.nan)
    bad_inf = np.isinf(arr)
    if bad.any() or bad_inf.any():
        where = np.flatnonzero(bad.to_numpy() | bad_inf)
        labels = s.index[where]
        shown = ", ".join(
            f"{lab!r}: {s.iloc[i]!r}" for lab, i in zip(labels[:10], where[:10], strict=False)
        )
        more = f" (and {len(where) - 10} more)" if len(where) > 10 else ""
        raise OutcomesError(f"{name}: non-numeric or infinite values at {shown}{more}")
    return arr, index


def _paired_arrays(pre: object, post: object) -> tuple[np.ndarray, np.ndarray]:
    a, ia = _as_float(pre, "pre")
    b, ib = _as_float(post, "post")
    if len(a) != len(b):
        raise DataStructureError(
            f"pre and post must have the same length (got {len(a)} and {len(b)}); "
            "each position is one person's baseline and follow-up"
        )
    if ia is not None and ib is not None and not ia.equals(ib):
        raise DataStructureError(
            "pre and post are Series with different index labels; pairing by position would be "
            "a guess. Align them first (e.g. columns of one DataFrame) or pass arrays."
        )
    return a, b


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise OutcomesError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")


# ----------------------------------------------------------------------------- pieces
def hedges_j(df: float) -> float:
    """Exact small-sample correction J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)).

    Example:
        >>> round(hedges_j(10), 6)
        0.922746
    """
    if not df > 1:
        return math.nan
    return float(
        math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2)
    )


def _nct_cdf(t: float, df: float, ncp: float) -> float:
    """``scipy.stats.nct.cdf(t, df, ncp)`` for one finite ``t``: the same number.

    ``stats.nct.cdf`` checks and broadcasts its arguments, then evaluates
    ``special.nctdtr(df, ncp, t)`` where ``df > 0`` and ``ncp`` is not NaN (NaN elsewhere);
    the checks cost about twenty times the evaluation, and the CI below evaluates the cdf
    some 30 times per row (about 1,200 times in the demo report).

    Example:
        >>> from scipy import stats
        >>> _nct_cdf(1.5, 9.0, 0.7) == float(stats.nct.cdf(1.5, 9.0, 0.7))
        True
    """
    if not df > 0 or math.isnan(ncp):
        return math.nan
    return float(special.nctdtr(df, ncp, t))


def _nct_ci(t: float, df: float, n: int, confidence: float) -> tuple[float, float]:
    """CI of d_z by inverting the noncentral t: find ncp with P(T <= t | ncp) = 1-α/2, α/2."""
    if not np.isfinite(t):
        return math.nan, math.nan
    alpha = 1 - confidence

    def cdf(ncp: float) -> float:
        v = _nct_cdf(t, df, ncp)
        if math.isnan(v):
            # scipy's nct loses accuracy far in the tails; there the cdf is 1 (ncp far below t)
            # or 0 (far above), which is all the bracketing and the root finder need.
            v = 1.0 if ncp < t else 0.0
        return v

    def solve(target: float) -> float:
        f = lambda ncp: cdf(ncp) - target  # noqa: E731
        # The cdf falls as ncp rises and is near 1/2 at ncp = t: step outwards from t, doubling.
        step = 1.0 + 0.1 * abs(t)
        direction = -1.0 if f(t) < 0 else 1.0
        near, far = t, t + direction * step
        for _ in range(200):
            if (f(far) >= 0) if direction < 0 else (f(far) <= 0):
                lo, hi = sorted((near, far))
                root = optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500)
                # a root that scipy cannot evaluate (extreme t) is no root: report NaN
                raw = _nct_cdf(t, df, root)
                return root if abs(raw - target) < 1e-6 else math.nan
            near, step = far, step * 2
            far = near + direction * step
        return math.nan  # pragma: no cover - the cdf reaches 0 and 1 long before this

    lo_ncp = solve(1 - alpha / 2)
    hi_ncp = solve(alpha / 2)
    return lo_ncp / math.sqrt(n), hi_ncp / math.sqrt(n)


def _wilcoxon(d: np.ndarray, zero_method: str, method: str) -> dict:
    """Signed-rank test by the library's one implementation (R's exact vs normal rule)."""
    try:
        res = signed_rank(d, zero_method=zero_method, method=method)
    except ValueError as exc:
        raise OutcomesError(str(exc).replace("method=", "wilcoxon_method=")) from None
    return {
        "wilcoxon_stat": res.statistic,
        "r_plus": res.r_plus,
        "r_minus": res.r_minus,
        "rank_biserial": res.rank_biserial,
        "wilcoxon_p": res.p,
        "wilcoxon_method": res.method,
        "wilcoxon_correction": res.correction,
    }


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ChangeResult:
    """Pre/post comparison of one outcome in one group. ``to_frame()`` gives the numbers."""

    n: int
    mean_pre: float
    mean_post: float
    sd_pre: float
    sd_post: float
    r: float
    mean_diff: float
    ci_low: float
    ci_high: float
    t: float
    df: int
    p: float
    wilcoxon_stat: float
    wilcoxon_p: float
    rank_biserial: float
    d_z: float
    d_z_ci_low: float
    d_z_ci_high: float
    d_av: float
    d_rm: float
    g_z: float
    g_av: float
    g_rm: float
    hedges_j: float
    sd_diff: float
    se_diff: float
    n_positive: int
    n_negative: int
    n_zero: int
    sign_test_p: float
    wilcoxon_zero_method: str
    wilcoxon_method: str
    wilcoxon_correction: bool
    n_dropped: int
    confidence: float
    higher_is_better: bool | None
    label: str | None = None
    pre: np.ndarray = field(default=None, repr=False, compare=False)
    post: np.ndarray = field(default=None, repr=False, compare=False)
    quality: QualityRecord = field(default_factory=QualityRecord, repr=False, compare=False)

    def __post_init__(self) -> None:
        _note_dropped(self.quality, "paired_change", self.n_dropped, self.label)

    def to_frame(self) -> pd.DataFrame:
        """One row of tidy numbers (contract columns first), indexed by the label."""
        row = {c: getattr(self, c) for c in CHANGE_COLUMNS}
        return pd.DataFrame([row], index=pd.Index([self.label], name="outcome"))

    def direction(self) -> str:
        """'improvement', 'deterioration' or 'no change' for the mean difference."""
        return _direction(self.mean_diff, self.higher_is_better)

    def summary(self) -> str:
        """A plain sentence for a report (and the data-quality notes)."""
        return with_notes(_sentence(self.to_frame().iloc[0], self.label), self.quality)

    @validate_params(
        {
            "kind": Options(str, {"slopes", "distributions"}),
            "ax": ["ax", None],
            "max_lines": POSITIVE_COUNT,
        }
    )
    def plot(
        self, kind: Literal["slopes", "distributions"] = "slopes", ax=None, max_lines: int = 300
    ):
        """Paired slopes (one line per person, a subsample above ``max_lines``) or before/after
        box plots. Returns the matplotlib Axes."""
        return _plot_pairs(
            self.pre,
            self.post,
            kind=kind,
            ax=ax,
            max_lines=max_lines,
            title=self.label,
            higher_is_better=self.higher_is_better,
        )


def _direction(mean_diff: float, higher_is_better: bool | None) -> str:
    if not np.isfinite(mean_diff) or mean_diff == 0:
        return "no change"
    if higher_is_better is None or pd.isna(higher_is_better):  # direction not stated
        return "increase" if mean_diff > 0 else "decrease"
    better = (mean_diff > 0) == bool(higher_is_better)
    return "improvement" if better else "deterioration"


def _fmt(x: float, digits: int = 2) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}".replace("-", "\u2212")


def _sentence(row: pd.Series, label: object) -> str:
    what = f"For {label}, " if label not in (None, "") else ""
    if pd.notna(row.get("note", None)) and row.get("note"):
        return f"{what}no comparison was made: {row['note']}."
    n = int(row["n"])
    moved = "rose" if row["mean_diff"] > 0 else "fell" if row["mean_diff"] < 0 else "did not change"
    pct = int(round(100 * row["confidence"]))
    direction = _direction(row["mean_diff"], row["higher_is_better"])
    hib = "higher" if row["higher_is_better"] else "lower"
    verdict = (
        f"; since {hib} scores are better, this is an {direction}"
        if direction == "improvement"
        else f"; since {hib} scores are better, this is a {direction}"
        if direction == "deterioration"
        else ""
    )
    text = (
        f"{what}among {n} people with paired scores the mean score {moved} from "
        f"{_fmt(row['mean_pre'])} to {_fmt(row['mean_post'])} (mean change {_fmt(row['mean_diff'])}, "
        f"{pct}% CI {_fmt(row['ci_low'])} to {_fmt(row['ci_high'])}; paired t({int(row['df'])}) = "
        f"{_fmt(row['t'])}, {format_p(row['p'])}){verdict}. Standardised change d_z = "
        f"{_fmt(row['d_z'])} ({pct}% CI {_fmt(row['d_z_ci_low'])} to {_fmt(row['d_z_ci_high'])})."
    )
    if "p_adj" in row and pd.notna(row["p_adj"]):
        text = (
            text[:-1]
            + f"; adjusted for multiple comparisons ({row['p_adj_method']}): {format_p(row['p_adj'])}."
        )
    return text[0].upper() + text[1:]


def _compute(
    pre: np.ndarray,
    post: np.ndarray,
    *,
    higher_is_better: bool,
    confidence: float,
    zero_method: str,
    wilcoxon_method: str,
    label: str | None,
) -> ChangeResult:
    keep = ~(np.isnan(pre) | np.isnan(post))
    n_dropped = int((~keep).sum())
    a, b = pre[keep], post[keep]
    # The pairs in one order whatever order they came in: floating-point sums depend on the
    # order of their terms, and a mean on a rounding boundary (157.5 / 14 = 11.25, from
    # prorated scores) was published as 11.2 or 11.3 as the rows happened to come (a
    # report's rows follow the pseudonyms, drawn afresh for every build).
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    n = len(a)
    where = f" ({label})" if label not in (None, "") else ""
    if n < 2:
        raise OutcomesError(
            f"paired_change{where}: at least 2 complete pairs are needed, found {n}"
            + (f" ({n_dropped} pair(s) dropped for a missing value)" if n_dropped else "")
        )
    d = np.round(b - a, RANK_DECIMALS)
    mean_diff = float(d.mean())
    sd_diff = float(d.std(ddof=1))
    if sd_diff == 0:
        raise OutcomesError(
            f"paired_change{where}: every one of the {n} differences equals {mean_diff:g}; the "
            "variance of the change is zero, so t, d_z and their CIs are undefined"
        )
    df = n - 1
    se = sd_diff / math.sqrt(n)
    t = mean_diff / se
    # stats.t.sf and .ppf evaluate these after checking their arguments (finite t, df >= 1
    # here): the same numbers without the checks, which cost ten times the evaluation
    p = float(2 * special.stdtr(df, -abs(t)))
    tcrit = float(special.stdtrit(df, 0.5 + confidence / 2))
    sd_pre, sd_post = float(a.std(ddof=1)), float(b.std(ddof=1))
    # clip: rounding can put a perfect correlation a hair outside [-1, 1]
    r = float(np.clip(np.corrcoef(a, b)[0, 1], -1, 1)) if sd_pre > 0 and sd_post > 0 else math.nan
    d_z = mean_diff / sd_diff
    dz_lo, dz_hi = _nct_ci(t, df, n, confidence)
    sd_av = math.sqrt((sd_pre**2 + sd_post**2) / 2)
    d_av = mean_diff / sd_av if sd_av > 0 else math.nan
    d_rm = d_z * math.sqrt(2 * (1 - r)) if np.isfinite(r) else math.nan
    j = hedges_j(df)
    wil = _wilcoxon(d, zero_method, wilcoxon_method)
    n_pos, n_neg = int((d > 0).sum()), int((d < 0).sum())
    sign_p = sign_test_p(n_pos, n_pos + n_neg) if n_pos + n_neg else math.nan
    return ChangeResult(
        n=n,
        mean_pre=float(a.mean()),
        mean_post=float(b.mean()),
        sd_pre=sd_pre,
        sd_post=sd_post,
        r=r,
        mean_diff=mean_diff,
        ci_low=mean_diff - tcrit * se,
        ci_high=mean_diff + tcrit * se,
        t=t,
        df=df,
        p=p,
        wilcoxon_stat=wil["wilcoxon_stat"],
        wilcoxon_p=wil["wilcoxon_p"],
        rank_biserial=wil["rank_biserial"],
        d_z=d_z,
        d_z_ci_low=dz_lo,
        d_z_ci_high=dz_hi,
        d_av=d_av,
        d_rm=d_rm,
        g_z=d_z * j,
        g_av=d_av * j,
        g_rm=d_rm * j,
        hedges_j=j,
        sd_diff=sd_diff,
        se_diff=se,
        n_positive=n_pos,
        n_negative=n_neg,
        n_zero=int((d == 0).sum()),
        sign_test_p=sign_p,
        wilcoxon_zero_method=zero_method,
        wilcoxon_method=wil["wilcoxon_method"],
        wilcoxon_correction=wil["wilcoxon_correction"],
        n_dropped=n_dropped,
        confidence=confidence,
        higher_is_better=None if higher_is_better is None else bool(higher_is_better),
        label=label,
        pre=a,
        post=b,
    )


def _check_options(zero_method: str, wilcoxon_method: str, confidence: float) -> None:
    _check_confidence(confidence)
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise OutcomesError(
            f"zero_method must be 'wilcox', 'pratt' or 'zsplit', not {zero_method!r}"
        )
    if wilcoxon_method not in ("auto", "exact", "asymptotic"):
        raise OutcomesError(
            f"wilcoxon_method must be 'auto', 'exact' or 'asymptotic', not {wilcoxon_method!r}"
        )


# ----------------------------------------------------------------------------- public API
@recorded("paired_change")
@deprecated_values(errors={"note": "flag"})
@validate_params(
    {
        "pre": ArrayLike(scores=True),
        "post": ArrayLike(scores=True),
        "higher_is_better": ["boolean", None],
        "confidence": PROBABILITY,
        "by": [ArrayLike(), "dataframe", None],
        "zero_method": Options(str, {"wilcox", "pratt", "zsplit"}),
        "wilcoxon_method": Options(str, {"auto", "exact", "asymptotic"}),
        "label": OPTIONAL_TEXT,
        "adjust": [Options(str, {"holm", "fdr_bh", "bh", "bonferroni"}), None],
        "errors": [ERRORS, None],
    }
)
def paired_change(
    pre,
    post,
    *,
    higher_is_better: bool | None = False,
    confidence: float = 0.95,
    by=None,
    zero_method: Literal["wilcox", "pratt", "zsplit"] = "wilcox",
    wilcoxon_method: Literal["auto", "exact", "asymptotic"] = "auto",
    label: str | None = None,
    adjust: str | None = None,
    errors: Literal["raise", "flag"] | None = None,
) -> ChangeResult | ChangeTable:
    """Paired t, Wilcoxon signed-rank, sign test and paired effect sizes for post - pre.

    Parameters
    ----------
    pre, post
        Baseline and follow-up scores, one position per person (lists, arrays or Series with
        the same index). Pairs with a missing value on either side are dropped and counted in
        ``n_dropped``.
    higher_is_better
        Direction of the scale, ``True`` or ``False`` (default ``False``: lower is better, as
        for symptom scores), or ``None`` when it is not known: there is no instrument here to
        read it from, so ``summary()`` then says whether scores rose or fell without calling
        it an improvement. It only changes the words. Text such as ``"no"`` is refused.
    confidence
        Level of the CIs of the mean difference and of d_z.
    by
        Optional group labels (same length): returns a :class:`ChangeTable` with one row per
        group (groups with fewer than 2 pairs or zero variance get a ``note`` instead of numbers
        with ``errors="flag"``, the default with ``by``; ``errors="raise"`` raises).
    zero_method
        Wilcoxon handling of zero differences: ``"wilcox"`` (drop them, as R does), ``"pratt"``,
        ``"zsplit"``.
    wilcoxon_method
        ``"auto"`` (R's rule: exact when fewer than 50 non-zero differences and no ties or zeros,
        otherwise normal approximation with continuity correction), ``"exact"``, ``"asymptotic"``.
    adjust
        With ``by``: ``"holm"`` or ``"fdr_bh"`` adds ``p_adj`` and ``wilcoxon_p_adj``.

    Example:
        >>> from outcomes.change import paired_change
        >>> res = paired_change([9, 7, 8, 9, 8, 9, 9, 10, 9, 9], [9, 6, 7, 8, 7, 9, 8, 8, 8, 7],
        ...                        higher_is_better=True)
        >>> round(res.t, 4), round(res.d_z, 3), round(res.d_rm, 4)
        (-4.7434, -1.5, -1.1113)
    """
    _check_options(zero_method, wilcoxon_method, confidence)
    a, b = _paired_arrays(pre, post)
    if by is None:
        if adjust is not None:
            raise OutcomesError("adjust= applies to several comparisons; give by= as well")
        return _compute(
            a,
            b,
            higher_is_better=higher_is_better,
            confidence=confidence,
            zero_method=zero_method,
            wilcoxon_method=wilcoxon_method,
            label=label,
        )
    groups = (
        pd.DataFrame(by)
        if isinstance(by, pd.DataFrame)
        else pd.DataFrame({"group": _by_values(by)})
    )
    if len(groups) != len(a):
        raise DataStructureError(f"by= has {len(groups)} labels for {len(a)} pairs")
    data = groups.reset_index(drop=True).assign(_pre=a, _post=b)
    return _table(
        data,
        pre="_pre",
        post="_post",
        keys=list(groups.columns),
        hib=lambda key: higher_is_better,
        confidence=confidence,
        zero_method=zero_method,
        wilcoxon_method=wilcoxon_method,
        adjust=adjust,
        errors=errors or "flag",
    )


def _by_values(by) -> np.ndarray:
    if isinstance(by, pd.Series):
        return by.to_numpy()
    return np.asarray(by, dtype=object)


@recorded("paired_change_table")
@deprecated_values(errors={"note": "flag"})
@validate_params(
    {
        "data": "dataframe",
        "pre": COLUMN,
        "post": COLUMN,
        "outcome": BY,
        "by": BY,
        "higher_is_better": ["boolean", MappingOf(Boolean()), None],
        "confidence": PROBABILITY,
        "adjust": [Options(str, {"holm", "fdr_bh", "bh", "bonferroni"}), None],
        "zero_method": Options(str, {"wilcox", "pratt", "zsplit"}),
        "wilcoxon_method": Options(str, {"auto", "exact", "asymptotic"}),
        "errors": ERRORS,
    }
)
def paired_change_table(
    data: pd.DataFrame,
    *,
    pre: str = "pre",
    post: str = "post",
    outcome: Sequence[str] | str | None = None,
    by: Sequence[str] | str | None = None,
    higher_is_better: bool | Mapping | None = None,
    confidence: float = 0.95,
    adjust: str | None = "holm",
    zero_method: Literal["wilcox", "pratt", "zsplit"] = "wilcox",
    wilcoxon_method: Literal["auto", "exact", "asymptotic"] = "auto",
    errors: Literal["raise", "flag"] = "flag",
) -> ChangeTable:
    """Paired change for several outcomes (and subgroups) from a long table of pairs.

    ``data`` has one row per person x outcome with baseline and follow-up columns, e.g. the
    ``pairs`` of :func:`outcomes.change.pairing.pair_waves` (``pre``, ``post``, ``instrument``,
    ``scale``, plus any subgroup columns merged on).

    Parameters
    ----------
    outcome
        Columns that identify an outcome; default those of ``instrument``, ``rater``, ``scale``
        present in ``data``.
    by
        Subgroup columns (gender, school, ...); one row per outcome x subgroup.
    higher_is_better
        One bool for all, a mapping ``{scale: bool}`` / ``{(instrument, scale): bool}``, or
        ``None`` to read each scale's direction from its instrument YAML (needs ``instrument``
        and ``scale`` columns).
    adjust
        ``"holm"`` (default), ``"fdr_bh"``, ``"bonferroni"`` or ``None``: adjusts ``p`` and
        ``wilcoxon_p`` over every row of the table (one family).

    Example:
        >>> import pandas as pd
        >>> from outcomes.change import paired_change_table
        >>> pairs = pd.DataFrame({"scale": ["a"] * 4 + ["b"] * 4,
        ...                       "pre": [5, 6, 7, 8, 1, 2, 3, 4], "post": [3, 5, 4, 6, 2, 2, 5, 5]})
        >>> paired_change_table(pairs, higher_is_better=False).to_frame()["n"].tolist()
        [4, 4]
    """
    _check_options(zero_method, wilcoxon_method, confidence)
    # a DataFrame with rows (no pairs is an error, not an empty table), names with a
    # did-you-mean
    check_frame(data, [pre, post], what="paired_change_table")
    if outcome is None:
        outcome = [c for c in ("instrument", "rater", "scale") if c in data.columns]
    outcome = [outcome] if isinstance(outcome, str) else list(outcome)
    by = [] if by is None else [by] if isinstance(by, str) else list(by)
    keys = outcome + by
    require_columns(data, keys, what="paired_change_table")
    twice = sorted({str(k) for k in keys if keys.count(k) > 1})
    if twice:
        raise DataStructureError(
            f"paired_change_table: column(s) {twice} named twice among the outcome columns "
            f"{outcome} and by={by}; the outcome columns default to those of "
            "instrument, rater and scale that the data has: name each column once"
        )
    a, b = _paired_arrays(data[pre], data[post])
    frame = data[keys].reset_index(drop=True).assign(_pre=a, _post=b)
    frame.attrs = {}
    return _table(
        frame,
        pre="_pre",
        post="_post",
        keys=keys,
        hib=_direction_lookup(higher_is_better, keys, outcome),
        confidence=confidence,
        zero_method=zero_method,
        wilcoxon_method=wilcoxon_method,
        adjust=adjust,
        errors=errors,
    )


def _direction_lookup(hib, keys: list[str], outcome: list[str]):
    if isinstance(hib, bool):
        return lambda key: hib
    pos = {k: i for i, k in enumerate(keys)}
    if isinstance(hib, Mapping):

        def from_map(key: tuple) -> bool:
            cands = []
            if "scale" in pos:
                sc = key[pos["scale"]]
                if "instrument" in pos:
                    cands.append((key[pos["instrument"]], sc))
                cands.append(sc)
            cands += [tuple(key[pos[c]] for c in outcome), key[0]]
            for c in cands:
                if c in hib:
                    return bool(hib[c])
            raise OutcomesError(f"higher_is_better: no direction given for outcome {key!r}")

        return from_map
    if hib is None:
        if "instrument" not in pos or "scale" not in pos:
            raise OutcomesError(
                "higher_is_better=None reads each scale's direction from its instrument, which "
                "needs 'instrument' and 'scale' columns; otherwise pass True/False or a mapping"
            )
        from ..instruments.model import load_instrument

        def from_yaml(key: tuple) -> bool:
            inst, sc = key[pos["instrument"]], key[pos["scale"]]
            try:
                return load_instrument(str(inst)).scale(str(sc)).higher_is_better
            except (KeyError, OutcomesError) as err:
                raise OutcomesError(
                    f"higher_is_better: cannot read the direction of {inst}/{sc}: {err}"
                ) from None

        return from_yaml
    raise OutcomesError(f"higher_is_better must be a bool, a mapping or None, not {hib!r}")


def _table(
    data: pd.DataFrame,
    *,
    pre: str,
    post: str,
    keys: list[str],
    hib,
    confidence: float,
    zero_method: str,
    wilcoxon_method: str,
    adjust: str | None,
    errors: str,
) -> ChangeTable:
    kf = data[keys]  # once: each selection copies the columns
    if kf.isna().to_numpy().any():
        bad = data.index[kf.isna().any(axis=1)][:5].tolist()
        raise DataStructureError(f"group columns {keys} have missing labels (rows {bad})")
    codes = kf.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    pre_a, post_a = data[pre].to_numpy(float)[order], data[post].to_numpy(float)[order]
    key_rows = kf.to_numpy(dtype=object)[order]
    rows, results = [], {}
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(order)], strict=False):
        key = tuple(key_rows[start])
        label = " / ".join(str(k) for k in key)
        h = hib(key)
        try:
            res = _compute(
                pre_a[start:stop],
                post_a[start:stop],
                higher_is_better=h,
                confidence=confidence,
                zero_method=zero_method,
                wilcoxon_method=wilcoxon_method,
                label=label,
            )
        except OutcomesError as err:
            if errors == "raise":
                raise
            a, b = pre_a[start:stop], post_a[start:stop]
            ok = ~(np.isnan(a) | np.isnan(b))
            row = dict.fromkeys(CHANGE_COLUMNS, math.nan)
            row.update(
                n=int(ok.sum()),
                n_dropped=int((~ok).sum()),
                confidence=confidence,
                higher_is_better=None if h is None else bool(h),
                note=str(err).split(": ", 1)[-1],
            )
        else:
            results[key if len(key) > 1 else key[0]] = res
            row = {c: getattr(res, c) for c in CHANGE_COLUMNS}
            row["note"] = ""
        rows.append(dict(zip(keys, key, strict=True)) | row)
    columns = [*keys, *CHANGE_COLUMNS, "note"]
    if adjust:  # in the rows: a column added to the frame afterwards re-indexes its columns
        for c in ("p", "wilcoxon_p"):
            adjusted = adjust_pvalues(np.array([row[c] for row in rows], float), method=adjust)
            for row, v in zip(rows, adjusted, strict=True):
                row[f"{c}_adj"] = v
        for row in rows:
            row["p_adj_method"] = adjust
        columns += ["p_adj", "wilcoxon_p_adj", "p_adj_method"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["n"] = frame["n"].astype(int)
    quality = QualityRecord()
    for res in results.values():
        quality.extend(res.quality)
    for row in rows:  # rows that failed have no result: note their dropped pairs here
        if row["note"]:
            label = " / ".join(str(row[k]) for k in keys)
            _note_dropped(quality, "paired_change_table", row["n_dropped"], label)
    return ChangeTable(frame=frame, keys=keys, results=results, quality=quality)


def _note_dropped(quality: QualityRecord, source: str, n_dropped: int, label) -> None:
    if n_dropped:
        where = "" if label in (None, "") else str(label)
        quality.add(
            source,
            "pair(s) with a missing value",
            where=where,
            rows=int(n_dropped),
            action="left out",
            warn=False,
        )


@dataclass
class ChangeTable:
    """Paired change for several outcomes or subgroups: one row each."""

    frame: pd.DataFrame
    keys: list[str]
    results: dict[Hashable, ChangeResult]
    quality: QualityRecord = field(default_factory=QualityRecord, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    @validate_params(
        {
            "method": Options(str, {"holm", "fdr_bh", "bh", "bonferroni"}),
        }
    )
    def adjust(self, method: str = "holm") -> ChangeTable:
        """Add ``p_adj`` and ``wilcoxon_p_adj`` (and ``p_adj_method``) over all rows."""
        out = self.frame.copy()
        out["p_adj"] = adjust_pvalues(out["p"], method=method)
        out["wilcoxon_p_adj"] = adjust_pvalues(out["wilcoxon_p"], method=method)
        out["p_adj_method"] = method
        return ChangeTable(frame=out, keys=self.keys, results=self.results, quality=self.quality)

    def summary(self) -> str:
        """One sentence per row (and the data-quality notes)."""
        text = "\n".join(
            _sentence(row, " / ".join(str(row[k]) for k in self.keys))
            for _, row in self.frame.iterrows()
        )
        return with_notes(text, self.quality)

    @validate_params(
        {
            "effect": Options(
                str, {"d_z", "d_av", "d_rm", "g_z", "g_av", "g_rm", "rank_biserial", "mean_diff"}
            ),
            "ax": ["ax", None],
        }
    )
    def plot(self, effect: str = "d_z", ax=None):
        """Forest plot of d_z (with its CI) or another effect-size column per row."""
        import matplotlib.pyplot as plt

        f = self.frame
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(f) + 1.2))
        y = np.arange(len(f))[::-1]
        labels = [" / ".join(str(v) for v in r) for r in f[self.keys].itertuples(index=False)]
        ax.scatter(f[effect], y, color="black", zorder=3)
        if effect == "d_z":
            ax.hlines(y, f["d_z_ci_low"], f["d_z_ci_high"], color="black")
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"{effect} (post \u2212 pre)")
        return ax

    def __repr__(self) -> str:
        return f"ChangeTable({len(self.frame)} rows by {self.keys})"


@validate_params(
    {
        "p": ArrayLike(scores=True),
        "method": Options(str, {"holm", "fdr_bh", "bh", "bonferroni"}),
    }
)
def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons; missing p-values stay missing.

    ``method``: ``"holm"``, ``"fdr_bh"`` (alias ``"bh"``), ``"bonferroni"``. (statsmodels'
    default, ``"hs"``, is neither Holm nor BH: we never use it silently.)

    Example:
        >>> adjust_pvalues([.01, .02, .03, .04, .05], "holm").round(2).tolist()
        [0.05, 0.08, 0.09, 0.09, 0.09]
    """
    aliases = {"holm": "holm", "fdr_bh": "fdr_bh", "bh": "fdr_bh", "bonferroni": "bonferroni"}
    if method not in aliases:
        raise OutcomesError(f"adjust method must be one of {sorted(aliases)}, not {method!r}")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise OutcomesError("p-values must lie between 0 and 1")
    if ok.any():
        out[ok] = _adjusted(p[ok], aliases[method])
    return out


def _adjusted(p: np.ndarray, method: str) -> np.ndarray:
    """Holm, Benjamini-Hochberg or Bonferroni on finite p-values, with the same arithmetic as
    statsmodels' ``multipletests`` (so the same floating-point results). Written here because
    ``multipletests(method="holm")`` runs ``gc.collect()`` on every call: 0.1 s or more each
    in a process holding a report's data, sixteen times per report."""
    n = len(p)
    if method == "bonferroni":
        adj = p * float(n)
    else:
        order = np.argsort(p)
        ps = p[order]
        if method == "holm":
            ranked = np.maximum.accumulate(ps * np.arange(n, 0, -1))
        else:  # fdr_bh: p_(i) / (i / n), then the running minimum from the largest down
            ranked = np.minimum.accumulate((ps / (np.arange(1, n + 1) / float(n)))[::-1])[::-1]
        adj = np.empty_like(ranked)
        adj[order] = ranked
    return np.minimum(adj, 1.0)


# ----------------------------------------------------------------------------- caseness
@dataclass(frozen=True)
class CasenessResult:
    """McNemar's test of caseness at baseline vs follow-up (same people).

    ``b`` = cases at baseline who are not cases at follow-up; ``c`` = new cases.
    ``p`` is the p-value of ``method`` ("exact": binomial(b, b + c, 1/2); "corrected":
    χ² = (|b − c| − 1)² / (b + c); "uncorrected": χ² = (b − c)² / (b + c)); all three are in
    ``to_frame()``.
    """

    n: int
    n_dropped: int
    both: int
    b: int
    c: int
    neither: int
    chi2_corrected: float
    p_corrected: float
    chi2_uncorrected: float
    p_uncorrected: float
    p_exact: float
    method: str
    p: float
    confidence: float
    label: str | None = None
    quality: QualityRecord = field(default_factory=QualityRecord, repr=False, compare=False)

    def __post_init__(self) -> None:
        _note_dropped(self.quality, "caseness_change", self.n_dropped, self.label)

    @property
    def n_case_pre(self) -> int:
        return self.both + self.b

    @property
    def n_case_post(self) -> int:
        return self.both + self.c

    def table(self) -> pd.DataFrame:
        """The 2 x 2 table: rows baseline, columns follow-up."""
        idx = pd.Index(["case", "not case"], name="baseline")
        cols = pd.Index(["case", "not case"], name="follow_up")
        return pd.DataFrame([[self.both, self.b], [self.c, self.neither]], index=idx, columns=cols)

    def to_frame(self) -> pd.DataFrame:
        lo, hi = wilson_ci([self.n_case_pre, self.n_case_post], [self.n, self.n], self.confidence)
        row = {
            "n": self.n,
            "n_case_pre": self.n_case_pre,
            "pct_case_pre": 100 * self.n_case_pre / self.n if self.n else math.nan,
            "pct_case_pre_ci_low": 100 * lo[0],
            "pct_case_pre_ci_high": 100 * hi[0],
            "n_case_post": self.n_case_post,
            "pct_case_post": 100 * self.n_case_post / self.n if self.n else math.nan,
            "pct_case_post_ci_low": 100 * lo[1],
            "pct_case_post_ci_high": 100 * hi[1],
        }
        row |= {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("n", "label", "quality")
        }
        return pd.DataFrame([row], index=pd.Index([self.label], name="outcome"))

    def summary(self) -> str:
        what = f"For {self.label}, " if self.label else ""
        stat = {
            "exact": "exact McNemar test",
            "corrected": f"McNemar χ² with continuity correction = {self.chi2_corrected:.2f}",
            "uncorrected": f"McNemar χ² without continuity correction = {self.chi2_uncorrected:.2f}",
        }[self.method]
        text = (
            f"{what}{self.n_case_pre} of {self.n} people ({100 * self.n_case_pre / self.n:.0f}%) "
            f"were in the clinical range at baseline and {self.n_case_post} "
            f"({100 * self.n_case_post / self.n:.0f}%) at follow-up; {self.b} left and {self.c} "
            f"entered the clinical range ({stat}, {format_p(self.p)})."
        )
        return with_notes(text[0].upper() + text[1:], self.quality)


def _caseness(
    x, name: str, cutoff: float | None, case_bands: Sequence | None, hib: bool | None
) -> np.ndarray:
    """Float array: 1 case, 0 not, NaN missing."""
    s = x if isinstance(x, pd.Series) else pd.Series(x)
    if case_bands is not None:
        bands = {str(v) for v in case_bands}
        vals = s.astype(object)
        miss = vals.isna().to_numpy()
        return np.where(miss, np.nan, vals.astype(str).isin(bands).to_numpy().astype(float))
    if pd.api.types.is_bool_dtype(s.dtype) and cutoff is None:
        return s.to_numpy(dtype=float, na_value=np.nan)
    arr, _ = _as_float(s, name)
    if cutoff is None:
        vals = set(np.unique(arr[~np.isnan(arr)]).tolist())
        if vals <= {0.0, 1.0}:
            return arr
        raise OutcomesError(
            f"{name}: scores need cutoff= (or instrument= and scale= with a clinical cut-off) "
            "to define caseness; or pass 0/1 or True/False"
        )
    if hib is None:
        raise OutcomesError(
            "caseness from a cut-off needs higher_is_better (or instrument=/scale=)"
        )
    case = arr <= cutoff if hib else arr >= cutoff
    return np.where(np.isnan(arr), np.nan, case.astype(float))


@recorded("caseness_change")
@validate_params(
    {
        "pre": ArrayLike(),
        "post": ArrayLike(),
        "cutoff": [FINITE, None],
        "case_bands": [Columns(), None],
        "instrument": [*INSTRUMENT, None],
        "scale": OPTIONAL_TEXT,
        "higher_is_better": ["boolean", None],
        "method": Options(str, {"exact", "corrected", "uncorrected"}),
        "confidence": PROBABILITY,
        "label": OPTIONAL_TEXT,
    }
)
def caseness_change(
    pre,
    post,
    *,
    cutoff: float | None = None,
    case_bands: Sequence | None = None,
    instrument: str | None = None,
    scale: str | None = None,
    higher_is_better: bool | None = None,
    method: Literal["exact", "corrected", "uncorrected"] = "exact",
    confidence: float = 0.95,
    label: str | None = None,
) -> CasenessResult:
    """McNemar's test for the change in caseness between baseline and follow-up.

    Caseness comes from 0/1 or True/False values, from band labels (``case_bands=["High",
    "Very high"]``), or from scores and a cut-off: at or beyond ``cutoff`` in the worse
    direction (lower is better: score >= cutoff is a case; higher is better: score <= cutoff).
    With ``instrument=`` and ``scale=`` the cut-off and direction come from the YAML.

    ``method`` picks the reported ``p``; all three p-values are always in ``to_frame()``.
    (statsmodels' ``mcnemar`` defaults to exact; R's ``mcnemar.test`` to corrected.)

    Example:
        >>> from outcomes.change import caseness_change
        >>> res = caseness_change([1, 1, 1, 0, 0, 1], [0, 0, 1, 0, 0, 0], method="exact")
        >>> res.b, res.c, round(res.p, 4)
        (3, 0, 0.25)
    """
    _check_confidence(confidence)
    if method not in ("exact", "corrected", "uncorrected"):
        raise OutcomesError(f"method must be 'exact', 'corrected' or 'uncorrected', not {method!r}")
    if (instrument is None) != (scale is None):
        raise OutcomesError("give both instrument= and scale=, or neither")
    if instrument is not None:
        from ..instruments.model import load_instrument

        sc = load_instrument(instrument).scale(scale)
        if higher_is_better is None:
            higher_is_better = sc.higher_is_better
        if cutoff is None and case_bands is None:
            if sc.clinical_cutoff is None:
                raise OutcomesError(f"{instrument}/{scale} has no clinical_cutoff; give cutoff=")
            cutoff = sc.clinical_cutoff.value
        label = label or f"{instrument} {scale}"
    if cutoff is not None and case_bands is not None:
        raise OutcomesError("give cutoff= or case_bands=, not both")
    a = _caseness(pre, "pre", cutoff, case_bands, higher_is_better)
    b_ = _caseness(post, "post", cutoff, case_bands, higher_is_better)
    if len(a) != len(b_):
        raise DataStructureError(
            f"pre and post must have the same length (got {len(a)} and {len(b_)})"
        )
    keep = ~(np.isnan(a) | np.isnan(b_))
    a, b_ = a[keep].astype(bool), b_[keep].astype(bool)
    n = int(keep.sum())
    if n < 1:
        raise OutcomesError("caseness_change: no complete pairs")
    both, b, c, neither = (
        int(v) for v in ((a & b_).sum(), (a & ~b_).sum(), (~a & b_).sum(), (~a & ~b_).sum())
    )
    mc = mcnemar(b, c)
    chi2_c, p_c, chi2_u, p_u, p_e = (
        mc.chi2_corrected,
        mc.p_corrected,
        mc.chi2_uncorrected,
        mc.p_uncorrected,
        mc.p_exact,
    )
    p = {"exact": p_e, "corrected": p_c, "uncorrected": p_u}[method]
    return CasenessResult(
        n=n,
        n_dropped=int((~keep).sum()),
        both=both,
        b=b,
        c=c,
        neither=neither,
        chi2_corrected=chi2_c,
        p_corrected=p_c,
        chi2_uncorrected=chi2_u,
        p_uncorrected=p_u,
        p_exact=p_e,
        method=method,
        p=p,
        confidence=confidence,
        label=label,
    )


# ----------------------------------------------------------------------------- plots
def _plot_pairs(pre, post, *, kind: str, ax, max_lines: int, title, higher_is_better):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    if kind == "slopes":
        n = len(pre)
        idx = np.arange(n)
        if n > max_lines:  # a fixed subsample keeps the picture readable and reproducible
            idx = np.random.default_rng(0).choice(n, max_lines, replace=False)
        segs = np.stack(
            [np.c_[np.zeros(len(idx)), pre[idx]], np.c_[np.ones(len(idx)), post[idx]]], axis=1
        )
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(segs, colors="grey", alpha=0.3, linewidths=0.8))
        ax.plot(
            [0, 1], [np.mean(pre), np.mean(post)], color="black", lw=2.5, marker="o", label="mean"
        )
        ax.set_xlim(-0.2, 1.2)
        ax.autoscale(axis="y")
        ax.set_xticks([0, 1], ["baseline", "follow-up"])
        ax.legend(loc="best", frameon=False)
    elif kind == "distributions":
        ax.boxplot([pre, post], tick_labels=["baseline", "follow-up"])
    else:
        raise OutcomesError(f"kind must be 'slopes' or 'distributions', not {kind!r}")
    if higher_is_better is None:
        ax.set_ylabel("score")
    else:
        ax.set_ylabel(f"score ({'higher' if higher_is_better else 'lower'} is better)")
    if title:
        ax.set_title(str(title))
    return ax
