"""Cross-sectional school surveys: prevalence and means, school clustering, wave comparisons.

A school survey is one row per pupil per wave (DESIGN.md). Pupils in one school resemble each
other, so a sample of schools carries less information than the same number of independent
pupils. Every estimate here can therefore be reported twice: the naive one, and one adjusted for
clustering by school (intra-class correlation, design effect, effective sample size).

Wave comparisons cover the designs a programme meets: different pupils at baseline and
follow-up (two-proportion z / chi-square with a Newcombe interval; clustered: cluster-robust
regression and GEE), programme and comparison schools (difference in differences with
school-clustered standard errors), and the same pupils in both waves (McNemar and paired
methods). Differences are always follow-up minus baseline.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from ._internal.columns import check_frame
from ._internal.dates import dates_or_raise
from ._internal.params import (
    BY,
    COLUMN,
    COUNT,
    FINITE,
    OPTIONAL_TEXT,
    PROBABILITY,
    ArrayLike,
    Columns,
    Interval,
    Options,
    renamed_params,
    validate_params,
)
from ._internal.quality import (
    OTHER_WAVES,
    NoteTemplate,
    QualityRecord,
    attach_quality,
    first_lines,
    recorded,
    with_notes,
)
from ._internal.text import format_p, unknown
from ._internal.waves import check_lookalikes, months, order_waves, resolve_wave, time_rank
from ._mixed import InterceptProfile
from ._stats import mcnemar, signed_rank, wilson_ci
from .errors import DataStructureError, InvalidResponsesError, OutcomesError
from .instruments.model import _norm
from .weighting import poststratify, rake, weighted_mean

__all__ = [
    "SurveyWarning",
    "benchmark",
    "WaveComparison",
    "case_indicator",
    "cluster_icc",
    "compare_means",
    "compare_prevalence",
    "means",
    "newcombe_paired_ci",
    "prevalence",
    "poststratify",
    "rake",
    "trend",
    "weighted_mean",
]

#: Columns of the table of tests returned by :meth:`WaveComparison.to_frame`.
TEST_COLUMNS = [
    "method",
    "estimand",
    "estimate",
    "ci_low",
    "ci_high",
    "statistic_name",
    "statistic",
    "df",
    "p",
    "n_baseline",
    "n_followup",
    "n_clusters",
    "effect_name",
    "effect",
    "primary",
    "note",
]

#: Below this many schools, clustered results carry a warning note.
FEW_CLUSTERS = 30


# Parameters shared by compare_prevalence and compare_means (checked by validate_params).
_WAVE_COMPARISON = {
    "wave": COLUMN,
    "waves": [ArrayLike(), None],
    "date": [COLUMN, None],
    "cluster": [COLUMN, None],
    "programme": [COLUMN, None],
    "person_id": [COLUMN, None],
    "by": BY,
    "confidence": PROBABILITY,
    "gee_cov": Options(str, {"robust", "naive", "bias_reduced"}),
    "label": OPTIONAL_TEXT,
}


# Parameters shared by prevalence and means: the groups, the clustering and the weights of
# one wave's estimate (checked by validate_params).
_ONE_WAVE = {
    "by": BY,
    "cluster": [COLUMN, None],
    "icc": [Interval(Real, 0, 1, closed="left"), None],
    "icc_method": Options(str, {"anova", "mixed"}),
    "confidence": PROBABILITY,
    "weights": [COLUMN, None],
}


# A table and the case definition on one of its columns (checked by validate_params).
_CASE_DEFINITION = {
    "data": "dataframe",
    "indicator": COLUMN,
    "bands": [Columns(), None],
    "below": [FINITE, None],
    "at_least": [FINITE, None],
}


# the messages' counts of respondents, rows and cells (the report releases them by the count
# rule); the number of schools is the design's, shown school by school, not a count of people
_NOT_NUMBERS = NoteTemplate("{n} cell(s) are not numbers", counts=["n"])
_NEGATIVE_ICC = NoteTemplate(
    "ICC estimate {icc} is negative; truncated at {zero}", values=["icc", "zero"]
)
_NO_CLUSTER = NoteTemplate(
    "{n} respondent(s) have no school ({column} missing): they count in n but not in the ICC",
    counts=["n"],
)
_UNWEIGHTED = NoteTemplate(
    "{n} respondent(s) without a weight left out of the weighted estimate", counts=["n"]
)
_ZERO_CHANGES = NoteTemplate("{n} zero change(s) dropped", counts=["n"])
_NO_ANSWER = NoteTemplate("{n} respondent(s) with no {column} left out", counts=["n"])
_NO_SCHOOL = NoteTemplate("{n} respondent(s) with no school left out", counts=["n"])
_NO_ARM = NoteTemplate("{n} respondent(s) with no programme flag left out", counts=["n"])
_LINKED = NoteTemplate(
    "{n} pupils linked; {only0} seen at baseline only and {only1} at follow-up only left out",
    counts=["n", "only0", "only1"],
)
_DISCORDANT = NoteTemplate("{b} stopped and {c} became cases", counts=["b", "c"])
_FEW_SCHOOLS = NoteTemplate(
    "only {g} schools: cluster-robust SEs may be too small; read p-values near {p} with caution",
    values=["g", "p"],
)


class SurveyWarning(UserWarning):
    """Something worth knowing about an estimate that did not stop it being computed."""


# ----------------------------------------------------------------------------- checks
def _check_frame(data: object, columns: Sequence[str], what: str) -> pd.DataFrame:
    return check_frame(data, columns, what=what)


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _numeric_column(data: pd.DataFrame, column: str, what: str) -> pd.Series:
    """The column as floats (NaN = missing); text or true/false cells raise, naming the rows."""
    col = data[column]
    if pd.api.types.is_bool_dtype(col.dtype):
        raise InvalidResponsesError(
            f"{what}: column {column!r} holds true/false values, not numbers; "
            "pass it as the indicator itself (no below=/at_least=)"
        )
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.astype(float)
    num = pd.to_numeric(col, errors="coerce")
    bad = col.notna() & num.isna()
    if isinstance(col.dtype, pd.StringDtype) or col.dtype == object:
        bad &= col.astype("string").str.strip().fillna("") != ""
    if bad.any():
        rows = list(col.index[bad.to_numpy()])
        issues = pd.DataFrame(
            {
                "row": rows,
                "column": column,
                "item": None,
                "value": col[bad].to_numpy(dtype=object),
                "reason": "not a number",
                "severity": "error",
            }
        )
        shown = ", ".join(
            f"row {r!r}: {v!r}" for r, v in zip(rows[:5], col[bad].head(5), strict=False)
        )
        raise InvalidResponsesError(
            f"{what}: column {column!r} must be numeric; {_NOT_NUMBERS(n=len(rows))} "
            f"({shown}{', ...' if len(rows) > 5 else ''})",
            issues,
        )
    return num.astype(float)


# ----------------------------------------------------------------------------- caseness
@recorded("survey.case_indicator")
@validate_params(
    {
        **_CASE_DEFINITION,
    }
)
def case_indicator(
    data: pd.DataFrame,
    indicator: str,
    *,
    bands: str | Sequence[str] | None = None,
    below: float | None = None,
    at_least: float | None = None,
) -> pd.Series:
    """1.0 for a case, 0.0 for a non-case, NaN where the outcome is missing.

    ``indicator`` names a column that is either true/false (or 0/1) itself, or a band column
    with ``bands=`` listing the bands that count as cases (matched case-insensitively), or a
    score column with a threshold: ``below=`` (score < cut-off is a case, e.g. low wellbeing)
    or ``at_least=`` (score >= cut-off is a case, e.g. SDQ total).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"band": ["close to average", "high", "very high", None]})
        >>> case_indicator(df, "band", bands=["high", "very high"]).tolist()
        [0.0, 1.0, 1.0, nan]
    """
    _check_frame(data, [indicator], "case_indicator")
    rules = [r for r in (bands, below, at_least) if r is not None]
    if len(rules) > 1:
        raise OutcomesError("give only one of bands=, below= or at_least=")
    col = data[indicator]
    if below is not None or at_least is not None:
        cut = below if below is not None else at_least
        if isinstance(cut, bool) or not isinstance(cut, int | float | np.integer | np.floating):
            raise OutcomesError(f"the cut-off must be a number, got {cut!r}")
        if not np.isfinite(cut):
            raise OutcomesError(f"the cut-off must be a finite number, got {cut!r}")
        x = _numeric_column(data, indicator, "case_indicator").to_numpy()
        hit = x < cut if below is not None else x >= cut
        out = np.where(np.isnan(x), np.nan, hit.astype(float))
        return pd.Series(out, index=data.index, name=indicator)
    if bands is not None:
        return _band_indicator(col, indicator, [bands] if isinstance(bands, str) else list(bands))
    if pd.api.types.is_bool_dtype(col.dtype):
        out = col.astype("float64")
        return pd.Series(
            out.to_numpy(dtype=float, na_value=np.nan), index=data.index, name=indicator
        )
    if pd.api.types.is_numeric_dtype(col.dtype):
        x = col.to_numpy(dtype=float, na_value=np.nan)
        odd = ~np.isnan(x) & ~np.isin(x, (0.0, 1.0))
        if odd.any():
            pos = np.flatnonzero(odd)[:5]
            shown = ", ".join(f"row {data.index[p]!r}: {x[p]:g}" for p in pos)
            raise OutcomesError(
                f"column {indicator!r} holds values other than 0/1 ({shown}); for a score give "
                "below= or at_least=, for bands give bands="
            )
        return pd.Series(x, index=data.index, name=indicator)
    raise OutcomesError(
        f"column {indicator!r} holds text; say which values count as cases with "
        "bands=[...] (e.g. bands=['high', 'very high'])"
    )


def _band_indicator(col: pd.Series, name: str, bands: list[str]) -> pd.Series:
    if not bands:
        raise OutcomesError("bands= is empty: name at least one band that counts as a case")
    if pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        raise OutcomesError(
            f"bands= needs a column of band labels, but {name!r} is numeric; "
            "use below= or at_least= for a score"
        )
    wanted = {_norm(b) for b in bands}
    if isinstance(col.dtype, pd.CategoricalDtype):
        known = {_norm(c) for c in col.cat.categories}
        unknown = [b for b in bands if _norm(b) not in known]
        if unknown:
            raise OutcomesError(
                f"bands {unknown} are not bands of {name!r}; its bands are "
                f"{[str(c) for c in col.cat.categories]}"
            )
    # Resolve each distinct label once, then gather by each row's code: no loop over rows.
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    uniq = np.asarray(uniques, dtype=object)
    if not isinstance(col.dtype, pd.CategoricalDtype):
        seen = {_norm(u) for u in uniq}
        unseen = [b for b in bands if _norm(b) not in seen]
        if unseen:
            warnings.warn(
                f"bands {unseen} never occur in {name!r} (values seen: {sorted(map(str, uniq))}); "
                "check the spelling: they are counted as zero cases",
                SurveyWarning,
                stacklevel=3,
            )
    # the last slot answers code -1 (a missing label)
    hit = np.array([float(_norm(u) in wanted) for u in uniq] + [np.nan], dtype=float)
    return pd.Series(hit[codes], index=col.index, name=name)


# ----------------------------------------------------------------------------- clustering
def _group_codes(frame: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Group keys (one row per group, categories kept even when empty) and each row's group."""
    if not by:
        return pd.DataFrame(index=[0]), np.zeros(len(frame), dtype=np.int64)
    grouped = frame.groupby(by, observed=False, dropna=False, sort=True)
    index = grouped.size().index
    keys = index.to_frame(index=False)
    keys.columns = by
    if not any(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in by):
        # no categories, so no empty group: the groups listed are those ngroup() numbers, in
        # its order (the lookup below factorised every column a second time)
        return keys, grouped.ngroup().to_numpy(dtype=np.int64)
    # ngroup() skips empty categories, so place rows by looking their keys up in the index.
    # Each column is factorised over the rows, and only its distinct values (and the keys) go
    # through object dtype, with one sentinel for every kind of missing value: pandas cannot
    # match NaN keys when a categorical and a text column are both missing in a row.
    row_id = np.zeros(len(frame), dtype=np.int64)
    key_id = np.zeros(len(keys), dtype=np.int64)
    space = 1  # how many ids the columns so far can make
    for c in by:
        if space > 2**31:  # renumber the ids met so far, so that the next product fits int64
            valid = key_id >= 0
            both, seen = pd.factorize(np.concatenate([row_id, key_id[valid]]))
            row_id, key_id[valid], space = both[: len(row_id)], both[len(row_id) :], len(seen)
        codes, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        values = pd.Index([*_nan_safe(uniques), _MISSING_KEY], dtype=object)
        codes = np.where(codes < 0, len(values) - 1, codes)
        at = values.get_indexer(_nan_safe(keys[c].astype(object)))  # -1: a key no row has
        row_id = row_id * len(values) + codes
        key_id = np.where((key_id < 0) | (at < 0), -1, key_id * len(values) + at)
        space *= len(values)
    found = pd.Index(key_id[key_id >= 0]).get_indexer(row_id)
    if (found < 0).any():  # pragma: no cover - every row's key is in the groupby index
        raise DataStructureError("could not place every row in its by= group")
    return keys, np.flatnonzero(key_id >= 0)[found].astype(np.int64)


_MISSING_KEY = "\x00<missing>"


def _keyed_frame(keys: pd.DataFrame, added: dict[str, object]) -> pd.DataFrame:
    """The group ``keys`` (renumbered from 0) with the ``added`` columns after them, as setting
    each in turn gave (a by column of the same name replaced where it stands), in one step:
    each column set alone rebuilt the frame's Arrow-backed column names, a dozen times a call.
    """
    out = keys.reset_index(drop=True)
    if any(c in out.columns for c in added):
        out = out.copy()
        for c, v in added.items():
            out[c] = v
        return out
    return pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)


def _nan_safe(values) -> np.ndarray:
    """``values`` as objects, every kind of missing value (NaN, None, NA, NaT) one sentinel."""
    obj = np.array(values, dtype=object)
    obj[pd.isna(obj)] = _MISSING_KEY
    return obj


def _anova_icc(y: np.ndarray, group: np.ndarray, cluster: np.ndarray, n_groups: int) -> dict:
    """One-way ANOVA estimator of the ICC within each group, vectorised over groups.

    ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW), n0 = (N - sum n_j^2 / N) / (k - 1)
    (Donner 1986; for binary outcomes Ridout, Demetrio & Firth 1999). NaN where it cannot be
    estimated: fewer than two clusters, no within-cluster degrees of freedom, or no variation.
    """
    if len(y):
        y = y - y.mean()  # the ICC ignores a shift; centring keeps the sums of squares exact
    width = int(cluster.max()) + 1 if len(cluster) else 1
    cells, inv = np.unique(group.astype(np.int64) * width + cluster, return_inverse=True)
    n_c = np.bincount(inv).astype(float)
    s_c = np.bincount(inv, weights=y)
    ss_c = np.bincount(inv, weights=y * y)
    g_c = cells // width  # the group of each (group, school) cell

    def per_group(w: np.ndarray) -> np.ndarray:
        return np.bincount(g_c, weights=w, minlength=n_groups)[:n_groups].astype(float)

    k = per_group(np.ones_like(n_c))
    n, s, ss = per_group(n_c), per_group(s_c), per_group(ss_c)
    s2n, n2 = per_group(s_c**2 / n_c), per_group(n_c**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ssb = s2n - s**2 / n
        ssw = ss - s2n
        msb = ssb / (k - 1)
        msw = ssw / (n - k)
        n0 = (n - n2 / n) / (k - 1)
        denom = msb + (n0 - 1) * msw
        icc = (msb - msw) / denom
    # Rounding can leave a tiny positive denominator where there is no variation at all.
    icc = np.where((k >= 2) & (n > k) & (denom > 1e-12 * np.maximum(1.0, np.abs(s2n))), icc, np.nan)
    return {"n_clusters": k.astype(np.int64), "icc_raw": icc}


def _mixed_icc(y: np.ndarray, cluster: np.ndarray) -> tuple[float, str]:
    """ICC from a random-intercept model (REML): var(school) / (var(school) + var(residual)).

    Fitted by fit_mixed's closed forms (the global REML optimum, a zero variance included, as
    lme4's bounded optimiser finds it; statsmodels' MixedLM stops just inside zero)."""
    k = len(np.unique(cluster))
    if k < 2 or np.nanvar(y) == 0:
        return np.nan, ""
    if k == len(y):  # the fit reported 0, one of many equal optima
        return np.nan, (
            "mixed model: every cluster has one observation, so between- and within-cluster "
            "variances cannot be told apart (ICC not estimated)"
        )
    v = InterceptProfile(y, np.ones((len(y), 1)), {"cluster": cluster}).fit()
    note = "REML optimum on the boundary: between-cluster variance 0" if v["cluster"] == 0 else ""
    return v["cluster"] / (v["cluster"] + v["residual"]), (f"mixed model: {note}" if note else "")


@validate_params(
    {
        "data": "dataframe",
        "outcome": COLUMN,
        "cluster": COLUMN,
        "method": Options(str, {"anova", "mixed"}),
    }
)
def cluster_icc(data: pd.DataFrame, outcome: str, cluster: str, *, method: str = "anova") -> float:
    """Intra-class correlation of ``outcome`` within ``cluster`` (e.g. pupils within schools).

    ``method="anova"`` (default) is the one-way ANOVA estimator, which works for binary and
    continuous outcomes alike; ``method="mixed"`` fits a random-intercept model by REML.
    Returns NaN when the ICC cannot be estimated (fewer than two clusters, no variation).
    The raw estimate can be negative; :func:`prevalence` and :func:`means` truncate it at 0.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1, 1, 0, 0], "school": ["a", "a", "b", "b"]})
        >>> cluster_icc(df, "y", "school")
        1.0
    """
    _check_frame(data, [outcome, cluster], "cluster_icc")
    y = _numeric_column(data, outcome, "cluster_icc").to_numpy()
    keep = ~np.isnan(y) & data[cluster].notna().to_numpy()
    codes = pd.factorize(data[cluster][keep])[0]
    if method == "anova":
        return float(
            _anova_icc(y[keep], np.zeros(keep.sum(), dtype=np.int64), codes, 1)["icc_raw"][0]
        )
    if method == "mixed":
        icc, note = _mixed_icc(y[keep], codes)
        if note:  # a number cannot carry a data-quality record: say it as a warning
            warnings.warn(f"cluster_icc: {note}", SurveyWarning, stacklevel=2)
        return float(icc)
    raise OutcomesError(f"method must be 'anova' or 'mixed', not {method!r}")


def _cluster_columns(
    y: np.ndarray,
    group: np.ndarray,
    cluster_values: pd.Series,
    n: np.ndarray,
    n_groups: int,
    icc: float | None,
    icc_method: str,
) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """ICC, design effect and effective n per group; notes explain every NaN."""
    notes: list[list[str]] = [[] for _ in range(n_groups)]
    miss_cluster = cluster_values.isna().to_numpy()
    keep = ~np.isnan(y) & ~miss_cluster
    codes = pd.factorize(cluster_values)[0]
    est = _anova_icc(y[keep], group[keep], codes[keep], n_groups)
    k = est["n_clusters"]
    if icc is not None:
        if isinstance(icc, bool) or not isinstance(icc, int | float) or not 0 <= icc < 1:
            raise OutcomesError(
                f"icc= must be a number from 0 up to (not including) 1, got {icc!r}"
            )
        raw = np.full(n_groups, float(icc))
    elif icc_method == "mixed":
        raw = np.full(n_groups, np.nan)
        for gi in range(n_groups):
            sel = keep & (group == gi)
            raw[gi], msg = _mixed_icc(y[sel], codes[sel])
            if msg:
                notes[gi].append(msg)
    elif icc_method == "anova":
        raw = est["icc_raw"]
    else:
        raise OutcomesError(f"icc_method must be 'anova' or 'mixed', not {icc_method!r}")
    icc_used = np.where(raw < 0, 0.0, raw)
    with np.errstate(invalid="ignore", divide="ignore"):
        mbar = n / np.where(k > 0, k, np.nan)
        deff = 1 + (mbar - 1) * icc_used
    single = (k == 1) & (icc is None)
    # Within a single school there is no between-school variance to allow for.
    deff = np.where(single, 1.0, deff)
    icc_used = np.where(single, np.nan, icc_used)
    for gi in range(n_groups):
        if n[gi] == 0:
            continue
        if single[gi]:
            notes[gi].append("one school only: no clustering adjustment needed (deff = 1)")
        elif np.isnan(raw[gi]):
            notes[gi].append(
                "ICC cannot be estimated (no variation, or too few schools or respondents per "
                "school); give icc= to adjust the CI"
            )
        elif raw[gi] < 0:
            notes[gi].append(_NEGATIVE_ICC(icc=f"{raw[gi]:.4f}", zero=0))
    n_miss_cluster = int((miss_cluster & ~np.isnan(y)).sum())
    if n_miss_cluster:
        warnings.warn(
            _NO_CLUSTER(n=n_miss_cluster, column=repr(cluster_values.name)),
            SurveyWarning,
            stacklevel=4,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = n / deff
    return {"n_clusters": k, "icc": icc_used, "deff": deff, "n_eff": n_eff}, notes


def _join_notes(*parts: list[list[str]]) -> list[str]:
    return ["; ".join(s for p in parts for s in p[i]) for i in range(len(parts[0]))]


# ----------------------------------------------------------------------------- estimates
@recorded("survey.prevalence")
@validate_params(
    {
        **_CASE_DEFINITION,
        **_ONE_WAVE,
    }
)
def prevalence(
    data: pd.DataFrame,
    indicator: str,
    *,
    bands: str | Sequence[str] | None = None,
    below: float | None = None,
    at_least: float | None = None,
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    icc: float | None = None,
    icc_method: str = "anova",
    confidence: float = 0.95,
    weights: str | None = None,
) -> pd.DataFrame:
    """Prevalence of a case definition with Wilson CIs, overall or by subgroup.

    Parameters
    ----------
    data
        One row per respondent (e.g. the school survey, or its scores from ``oc.score``).
    indicator
        Column defining a case: true/false (or 0/1), a band column with ``bands=``, or a score
        with ``below=`` / ``at_least=`` (see :func:`case_indicator`).
    by
        Column(s) to break down by (school, year group, gender, FSM, SEN, ethnicity, ...).
        Categorical columns keep categories nobody answered (``n = 0``, prevalence NaN and a
        note); a missing group value forms its own row.
    cluster
        The school column. Adds ``n_clusters, icc, deff, n_eff, ci_low_adj, ci_high_adj``:
        deff = 1 + (m - 1) ICC with m the mean number of respondents per school, n_eff =
        n / deff, and the adjusted CI is the Wilson interval at the effective sample size.
    icc
        A known ICC (e.g. from a larger survey) to use instead of estimating it.
    icc_method
        ``"anova"`` (one-way ANOVA estimator, default) or ``"mixed"`` (random-intercept model).
    weights
        A column of survey weights (:func:`rake`, :func:`poststratify`): ``prevalence`` becomes
        the weighted estimate and ``ci_low, ci_high`` (and ``ci_low_adj, ci_high_adj``) its
        design-based interval, schools as sampling units when ``cluster=`` is given
        (:func:`weighted_mean`); adds ``se``. ``n`` and ``cases`` stay counts of respondents.

    Returns
    -------
    DataFrame: the ``by`` columns, then ``n`` (respondents with an answer), ``cases``,
    ``prevalence`` (a proportion, 0-1), ``ci_low``, ``ci_high``, ``missing`` (no answer),
    the cluster columns when ``cluster=`` is given, and ``note`` (why a value is missing).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"case": [True] * 81 + [False] * 182})
        >>> prevalence(df, "case")[["n", "cases", "prevalence", "ci_low", "ci_high"]].round(5)
             n  cases  prevalence   ci_low  ci_high
        0  263     81     0.30798  0.25529  0.36621
    """
    by_cols = _as_list(by)
    need = [indicator, *by_cols, *([cluster] if cluster else []), *([weights] if weights else [])]
    _check_frame(data, need, "prevalence")
    _check_confidence(confidence)
    y = case_indicator(data, indicator, bands=bands, below=below, at_least=at_least).to_numpy()
    keys, group = _group_codes(data, by_cols)
    n_groups = len(keys)
    answered = ~np.isnan(y)
    n = np.bincount(group[answered], minlength=n_groups).astype(np.int64)
    cases = (
        np.bincount(group[answered], weights=y[answered], minlength=n_groups)
        .round()
        .astype(np.int64)
    )
    total = np.bincount(group, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        prev = np.where(n > 0, cases / np.where(n > 0, n, 1), np.nan)
    lo, hi = wilson_ci(cases, n, confidence)
    added = {
        "n": n,
        "cases": cases,
        "prevalence": prev,
        "ci_low": lo,
        "ci_high": hi,
        "missing": (total - n).astype(np.int64),
    }
    base_notes = [["no respondents in this group"] if n[i] == 0 else [] for i in range(n_groups)]
    if cluster:
        cols, cl_notes = _cluster_columns(y, group, data[cluster], n, n_groups, icc, icc_method)
        for c in ("n_clusters", "icc", "deff", "n_eff"):
            added[c] = cols[c]
        # Wilson at the effective sample size (Kish): same proportion, fewer independent pupils.
        with np.errstate(invalid="ignore"):
            x_eff = np.where(np.isfinite(cols["n_eff"]), prev * cols["n_eff"], np.nan)
        added["ci_low_adj"], added["ci_high_adj"] = _wilson_float(x_eff, cols["n_eff"], confidence)
        notes = _join_notes(base_notes, cl_notes)
    else:
        notes = _join_notes(base_notes)
    added["note"] = pd.array(notes, dtype="string")
    out = _keyed_frame(keys, added)
    out.attrs["indicator"] = _describe_indicator(indicator, bands, below, at_least)
    if weights:
        _weighted_columns(out, data, y, group, weights, cluster, "prevalence", confidence)
    return out


def _wilson_float(x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds for a possibly non-integer count (effective sample size); NaN passes through."""
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    lo = np.full(len(x), np.nan)
    hi = np.full(len(x), np.nan)
    if ok.any():
        xs, ns = np.clip(x[ok], 0, n[ok]), n[ok]
        lo[ok], hi[ok] = wilson_ci(xs, ns, confidence)
    return lo, hi


def _describe_indicator(indicator: str, bands, below, at_least) -> str:
    if bands is not None:
        b = [bands] if isinstance(bands, str) else list(bands)
        return f"{indicator} = {' or '.join(map(str, b))}"
    if below is not None:
        return f"{indicator} below {below:g}"
    if at_least is not None:
        return f"{indicator} of {at_least:g} or more"
    return str(indicator)


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, int | float) and 0 < confidence < 1):
        raise OutcomesError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


@recorded("survey.means")
@validate_params(
    {
        "data": "dataframe",
        "score": COLUMN,
        **_ONE_WAVE,
    }
)
def means(
    data: pd.DataFrame,
    score: str,
    *,
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    icc: float | None = None,
    icc_method: str = "anova",
    confidence: float = 0.95,
    weights: str | None = None,
) -> pd.DataFrame:
    """Mean of a continuous score with t-based CIs, overall or by subgroup.

    With ``cluster=`` (the school column) adds ``n_clusters, icc, deff, n_eff, ci_low_adj,
    ci_high_adj``; the adjusted CI is mean +/- t(k - 1) * SE * sqrt(deff), k = number of
    schools, because with few schools the school count, not the pupil count, limits precision.

    Returns the ``by`` columns, ``n, mean, sd, ci_low, ci_high, missing`` (+ cluster columns)
    and ``note``. ``weights=`` (a column of survey weights) makes ``mean`` the weighted mean
    and ``ci_low, ci_high`` its design-based interval, as in :func:`prevalence`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"score": [20.0, 22.0, 24.0, 26.0]})
        >>> means(df, "score")[["n", "mean", "sd"]].round(3)
           n  mean     sd
        0  4  23.0  2.582
    """
    by_cols = _as_list(by)
    need = [score, *by_cols, *([cluster] if cluster else []), *([weights] if weights else [])]
    _check_frame(data, need, "means")
    _check_confidence(confidence)
    y = _numeric_column(data, score, "means").to_numpy()
    keys, group = _group_codes(data, by_cols)
    n_groups = len(keys)
    ok = ~np.isnan(y)
    n = np.bincount(group[ok], minlength=n_groups).astype(np.int64)
    s = np.bincount(group[ok], weights=y[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, s / n, np.nan)
        dev2 = np.bincount(group[ok], weights=(y[ok] - mean[group[ok]]) ** 2, minlength=n_groups)
        sd = np.where(n > 1, np.sqrt(dev2 / (n - 1)), np.nan)
        se = sd / np.sqrt(n)
        tcrit = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
    added = {
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci_low": mean - tcrit * se,
        "ci_high": mean + tcrit * se,
        "missing": (np.bincount(group, minlength=n_groups) - n).astype(np.int64),
    }
    base_notes = [
        ["no respondents in this group"]
        if n[i] == 0
        else (["one respondent: no SD or CI"] if n[i] == 1 else [])
        for i in range(n_groups)
    ]
    if cluster:
        cols, cl_notes = _cluster_columns(y, group, data[cluster], n, n_groups, icc, icc_method)
        for c in ("n_clusters", "icc", "deff", "n_eff"):
            added[c] = cols[c]
        k = cols["n_clusters"].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            df_adj = np.where(k > 1, k - 1, n - 1.0)  # one school: ordinary t interval
            df_adj = np.where(df_adj > 0, df_adj, np.nan)
            t_adj = stats.t.ppf(0.5 + confidence / 2, df_adj)
            half = t_adj * se * np.sqrt(cols["deff"])
        added["ci_low_adj"] = mean - half
        added["ci_high_adj"] = mean + half
        notes = _join_notes(base_notes, cl_notes)
    else:
        notes = _join_notes(base_notes)
    added["note"] = pd.array(notes, dtype="string")
    out = _keyed_frame(keys, added)
    out.attrs["score"] = score
    if weights:
        _weighted_columns(out, data, y, group, weights, cluster, "mean", confidence)
    return out


def _weighted_columns(
    out: pd.DataFrame,
    data: pd.DataFrame,
    y: np.ndarray,
    group: np.ndarray,
    weights: str,
    cluster: str | None,
    est: str,
    confidence: float,
) -> None:
    """Replace the estimate and its CIs by the weighted, design-based ones (in place)."""
    w = _numeric_column(data, weights, "weights").to_numpy()
    if (w < 0).any():
        raise OutcomesError(f"weights column {weights!r} holds negative weights")
    cl = data[cluster].to_numpy(dtype=object) if cluster else None
    unweighted = ~np.isnan(y) & ~np.isfinite(w)
    se = np.full(len(out), np.nan)
    notes = out["note"].astype(object).tolist()
    for gi in range(len(out)):
        sel = group == gi
        r = weighted_mean(y[sel], w[sel], None if cl is None else cl[sel], confidence=confidence)
        out.loc[gi, est] = r["estimate"]
        out.loc[gi, "ci_low"], out.loc[gi, "ci_high"], se[gi] = r["ci_low"], r["ci_high"], r["se"]
        if "ci_low_adj" in out:
            out.loc[gi, "ci_low_adj"], out.loc[gi, "ci_high_adj"] = r["ci_low"], r["ci_high"]
        k = int(unweighted[sel].sum())
        if k:
            msg = _UNWEIGHTED(n=k)
            notes[gi] = f"{notes[gi]}; {msg}" if notes[gi] else msg
    out.insert(out.columns.get_loc("ci_low"), "se", se)
    out["note"] = pd.array(notes, dtype="string")
    out.attrs["weighting"] = (
        data[weights].attrs.get("weighting") or f"survey weights in column {weights!r}"
    ) + ("; design-based CIs, schools as sampling units" if cluster else "; design-based CIs")


# ----------------------------------------------------------------------------- waves
def _resolve_waves(
    data: pd.DataFrame,
    wave: str,
    waves: Sequence | None,
    date: str | None,
    dayfirst: bool = True,
) -> tuple[object, object]:
    """(baseline, follow-up) wave values, checked; the order is never guessed from text."""
    when = None
    if date and date in data.columns:
        when = dates_or_raise(data[date], column=date, where="waves", dayfirst=dayfirst)
    col = data[wave]
    # Plain Python values, so that messages read 2 rather than np.int64(2).
    present = pd.Series(col.dropna().unique()).tolist()
    if len(present) == 0:
        raise DataStructureError(f"wave column {wave!r} is empty: no wave is recorded")
    if waves is not None:
        waves = list(waves)
        if len(waves) != 2:
            raise OutcomesError(f"waves= must name two waves (baseline, follow-up), got {waves!r}")
        if waves[0] == waves[1]:
            raise OutcomesError(f"waves= names the same wave twice: {waves[0]!r}")
        base, follow = (resolve_wave(w, present, column=wave) for w in waves)
    else:
        if len(present) == 1:
            raise DataStructureError(
                f"wave column {wave!r} holds one wave only ({present[0]!r}): a comparison needs "
                "a baseline and a follow-up"
            )
        if len(present) > 2:
            raise OutcomesError(
                f"wave column {wave!r} holds {len(present)} waves {present}; say which two to "
                "compare with waves=(baseline, follow_up)"
            )
        base, follow = _order_two(data, wave, present, when)
    # a label that reads as a chosen wave would have its rows left out without a word
    check_lookalikes([base, follow], present, column=wave)
    check_lookalikes([base], [follow], column=wave)
    _check_dates(data, wave, base, follow, when)
    return base, follow


def _order_two(data: pd.DataFrame, wave: str, present: list, when: pd.Series | None) -> tuple:
    col = data[wave]
    orderable = (
        pd.api.types.is_numeric_dtype(col.dtype)
        or pd.api.types.is_datetime64_any_dtype(col.dtype)
        or (isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered)
    )
    if orderable:
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = list(col.cat.categories)
            return tuple(sorted(present, key=cats.index))
        return tuple(sorted(present))
    med = _median_dates(data, wave, present, when)
    if med is not None:
        return tuple(sorted(present, key=lambda w: med[w]))
    if any(time_rank(w) is not None for w in present):
        return tuple(order_waves(present))
    raise OutcomesError(
        f"cannot tell which wave in {wave!r} came first ({present}); give "
        "waves=(baseline, follow_up) or a date column"
    )


def _median_dates(
    data: pd.DataFrame, wave: str, present: list, when: pd.Series | None
) -> dict | None:
    if when is None:
        return None
    med = when.groupby(data[wave]).median()
    if any(pd.isna(med.get(w)) for w in present):
        return None
    return {w: med[w] for w in present}


def _check_dates(
    data: pd.DataFrame, wave: str, base: object, follow: object, when: pd.Series | None
) -> None:
    med = _median_dates(data, wave, [base, follow], when)
    if med is not None and med[follow] < med[base]:
        raise OutcomesError(
            f"follow-up before baseline: wave {follow!r} has median {when.name} "
            f"{med[follow].date()}, earlier than baseline wave {base!r} ({med[base].date()}); "
            "check waves= or the dates"
        )


def _binary_flag(data: pd.DataFrame, column: str) -> np.ndarray:
    col = data[column]
    if pd.api.types.is_bool_dtype(col.dtype):
        x = col.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(col.dtype):
        x = col.to_numpy(dtype=float, na_value=np.nan)
    else:
        raise OutcomesError(
            f"programme= column {column!r} must be true/false (or 1/0) marking programme "
            f"schools; it holds {col.dtype} values such as {col.dropna().iloc[:3].tolist()}"
        )
    odd = ~np.isnan(x) & ~np.isin(x, (0.0, 1.0))
    if odd.any():
        raise OutcomesError(
            f"programme= column {column!r} holds values other than 0/1: {sorted(set(x[odd]))[:5]}"
        )
    return x


@dataclass
class WaveComparison:
    """Result of :func:`compare_prevalence` / :func:`compare_means`.

    ``by_wave`` has the estimate per wave (and arm, and ``by`` group) with naive and, when
    clustered, adjusted CIs; ``tests`` has one row per method (see ``TEST_COLUMNS``), the
    ``primary`` row being the one :meth:`summary` reports.
    """

    kind: str
    outcome: str
    waves: tuple
    design: str
    by: list[str]
    by_wave: pd.DataFrame
    tests: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.tests.copy()

    def summary(self) -> str:
        sentences = []
        groups = (
            self.tests.groupby(self.by, dropna=False, sort=False) if self.by else [((), self.tests)]
        )
        for key, rows in groups:
            prim = rows[rows["primary"]]
            label = ""
            if self.by:
                key = key if isinstance(key, tuple) else (key,)
                label = ", ".join(f"{b} {k}" for b, k in zip(self.by, key, strict=True)) + ": "
            if prim.empty or not np.isfinite(prim["estimate"].iloc[0]):
                why = prim["note"].iloc[0] if len(prim) else "no estimate"
                sentences.append(f"{label}no comparison possible ({why}).")
                continue
            sentences.append(label + self._sentence(prim.iloc[0], key if self.by else ()))
        text = " ".join(sentences)
        if self.notes:
            text += " Notes: " + "; ".join(self.notes) + "."
        return with_notes(text, self.quality, shown=self.notes)

    def _sentence(self, row: pd.Series, key: tuple) -> str:
        pct = self.kind == "prevalence"
        level = f"{self.confidence:.0%}"

        def fmt(v: float) -> str:
            return f"{100 * v:.1f}%" if pct else f"{v:.2f}"

        def fmt_diff(v: float) -> str:
            return f"{100 * v:+.1f}" if pct else f"{v:+.2f}"

        unit = " percentage points" if pct else ""
        if "odds" in str(row["estimand"]):
            unit = ""

        bw = self.by_wave
        if self.by:
            sel = np.ones(len(bw), dtype=bool)
            for b, k in zip(self.by, key if isinstance(key, tuple) else (key,), strict=True):
                sel &= (bw[b] == k).to_numpy() | (bw[b].isna().to_numpy() & pd.isna(k))
            bw = bw[sel]
        est_col = "prevalence" if pct else "mean"
        what = f"prevalence of {self.outcome}" if pct else f"mean {self.outcome}"
        parts = []
        if self.design == "difference in differences":
            for arm, arm_name in ((1.0, "programme schools"), (0.0, "comparison schools")):
                r = bw[bw["programme"] == arm]
                vals = [r.loc[r["wave"] == w, est_col] for w in self.waves]
                if all(len(v) for v in vals):
                    parts.append(f"{fmt(vals[0].iloc[0])} to {fmt(vals[1].iloc[0])} in {arm_name}")
            lead = f"The {what} moved " + " and ".join(parts) + ". "
            body = (
                f"The difference in differences is {fmt_diff(row['estimate'])}{unit} "
                f"({level} CI {fmt_diff(row['ci_low'])} to {fmt_diff(row['ci_high'])}; "
                f"{format_p(row['p'])}; {row['method']})."
            )
            return lead + body
        vals = []
        for w in self.waves:
            r = bw[bw["wave"] == w]
            if len(r):
                vals.append(
                    f"{fmt(r[est_col].iloc[0])} at {_wave_name(w)} (n = {int(r['n'].iloc[0])})"
                )
        lead = f"The {what} was " + " and ".join(vals) + ". "
        who = (
            f" among the {int(row['n_baseline'])} pupils seen at both waves"
            if self.design == "same pupils"
            else ""
        )
        body = (
            f"The change{who} was {fmt_diff(row['estimate'])}{unit} ({level} CI "
            f"{fmt_diff(row['ci_low'])} to {fmt_diff(row['ci_high'])}; {format_p(row['p'])}; "
            f"{row['method']})."
        )
        return lead + body

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Estimate per wave with its CI (cluster-adjusted when available); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        bw = self.by_wave
        est = "prevalence" if self.kind == "prevalence" else "mean"
        lo_c, hi_c = ("ci_low_adj", "ci_high_adj") if "ci_low_adj" in bw else ("ci_low", "ci_high")
        series_keys = [c for c in (*self.by, "programme") if c in bw.columns]
        groups = bw.groupby(series_keys, dropna=False, sort=False) if series_keys else [((), bw)]
        xpos = {w: i for i, w in enumerate(self.waves)}
        scale = 100.0 if est == "prevalence" else 1.0
        for key, rows in groups:
            x = rows["wave"].map(xpos).to_numpy(dtype=float)
            y = rows[est].to_numpy(dtype=float) * scale
            err = np.vstack(
                [
                    y - rows[lo_c].to_numpy(dtype=float) * scale,
                    rows[hi_c].to_numpy(dtype=float) * scale - y,
                ]
            )
            label = (
                ", ".join(map(str, key if isinstance(key, tuple) else (key,)))
                if series_keys
                else None
            )
            if "programme" in series_keys and isinstance(key, tuple):
                label = ", ".join(
                    ("programme" if k == 1 else "comparison") if c == "programme" else str(k)
                    for c, k in zip(series_keys, key, strict=True)
                )
            ax.errorbar(x, y, yerr=err, marker="o", capsize=4, label=label)
        ax.set_xticks(range(len(self.waves)), [str(w) for w in self.waves])
        ax.set_xlabel("wave")
        ax.set_ylabel(f"{est} (%)" if est == "prevalence" else est)
        ax.set_title(f"{self.outcome}: {self.design}")
        if series_keys:
            ax.legend(frameon=False)
        return ax

    def __repr__(self) -> str:
        return f"WaveComparison({self.kind}, {self.design!r}, {len(self.tests)} rows)"


def _wave_name(w: object) -> str:
    return f"wave {w}" if isinstance(w, int | float | np.integer | np.floating) else str(w)


def _row(**kw) -> dict:
    row = dict.fromkeys(TEST_COLUMNS, np.nan)
    row.update(primary=False, note="", statistic_name="", effect_name="")
    row.update(kw)
    return row


def _capture(fn, *args, **kwargs):
    """Run a model fit, returning (result, warning text) instead of printing warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fn(*args, **kwargs)
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
            return None, f"model could not be fitted: {exc}"
    msgs = first_lines(caught)
    return res, "; ".join(msgs)


# --- unclustered, different pupils
def _prop_independent(y0: np.ndarray, y1: np.ndarray, confidence: float) -> list[dict]:
    from statsmodels.stats.proportion import confint_proportions_2indep

    c0, n0, c1, n1 = int(y0.sum()), len(y0), int(y1.sum()), len(y1)
    diff = c1 / n1 - c0 / n0
    lo, hi = confint_proportions_2indep(
        c1, n1, c0, n0, method="newcomb", compare="diff", alpha=1 - confidence
    )
    pooled = (c0 + c1) / (n0 + n1)
    note = ""
    if 0 < pooled < 1:
        # Pooled-variance z (= the uncorrected Pearson chi-square on the 2x2 table, z^2).
        z = diff / np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
        p = 2 * stats.norm.sf(abs(z))
    else:
        z = p = np.nan
        note = "no test possible: every respondent in both waves has the same answer"
    common = dict(
        estimand="difference in prevalence (follow-up - baseline)",
        estimate=diff,
        ci_low=float(lo),
        ci_high=float(hi),
        p=p,
        n_baseline=n0,
        n_followup=n1,
        note=note,
    )
    return [
        _row(
            method="two-proportion z-test, Newcombe hybrid score CI",
            statistic_name="z",
            statistic=z,
            **common,
        ),
        _row(
            method="Pearson chi-square (no continuity correction)",
            statistic_name="chi2",
            statistic=z * z,
            df=1,
            **common,
        ),
    ]


def _means_independent(y0: np.ndarray, y1: np.ndarray, confidence: float) -> list[dict]:
    n0, n1 = len(y0), len(y1)
    if n0 < 2 or n1 < 2:
        return [
            _row(
                method="Welch t-test",
                estimand="difference in means (follow-up - baseline)",
                estimate=np.nan,
                n_baseline=n0,
                n_followup=n1,
                note="need at least two respondents in each wave",
            )
        ]
    res = stats.ttest_ind(y1, y0, equal_var=False)
    ci = res.confidence_interval(confidence)
    pooled_sd = np.sqrt(((n0 - 1) * y0.var(ddof=1) + (n1 - 1) * y1.var(ddof=1)) / (n0 + n1 - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        g = (y1.mean() - y0.mean()) / pooled_sd
    return [
        _row(
            method="Welch t-test",
            estimand="difference in means (follow-up - baseline)",
            estimate=float(y1.mean() - y0.mean()),
            ci_low=float(ci.low),
            ci_high=float(ci.high),
            statistic_name="t",
            statistic=float(res.statistic),
            df=float(res.df),
            p=float(res.pvalue),
            n_baseline=n0,
            n_followup=n1,
            effect_name="cohen_d_pooled_sd",
            effect=float(g),
            note="" if np.isfinite(res.statistic) else "no variation in either wave: t undefined",
        )
    ]


# --- clustered models
def _design(frame: pd.DataFrame, formula: str) -> tuple[pd.Series, pd.DataFrame] | None:
    """Response and model matrix of the formulas used here (``y ~ 1``, ``y ~ a``,
    ``y ~ a * b``), built from the columns as the formula parser builds them (same columns,
    names and order), when every column involved is a complete float column; else None.

    On a million respondents parsing a formula and building its matrix costs more than the
    OLS fit itself."""
    lhs, rhs = (side.strip() for side in formula.split("~"))
    terms = [t.strip() for t in rhs.split("*")] if rhs != "1" else []
    if len(terms) > 2 or any(not t.isidentifier() for t in [lhs, *terms]):
        return None
    cols = {}
    for c in [lhs, *terms]:
        if c not in frame.columns or frame[c].dtype != np.float64:
            return None
        cols[c] = frame[c].to_numpy()
        if np.isnan(cols[c]).any():
            return None
    x = {"Intercept": np.ones(len(frame))}
    x.update({t: cols[t] for t in terms})
    if len(terms) == 2:
        x[f"{terms[0]}:{terms[1]}"] = cols[terms[0]] * cols[terms[1]]
    return frame[lhs], pd.DataFrame(x, index=frame.index)


def _ols_cluster(
    frame: pd.DataFrame, formula: str, terms: dict[str, np.ndarray], confidence: float
) -> dict[str, dict]:
    """OLS with school-clustered SEs (CR1, t with G - 1 df); linear combinations in ``terms``."""
    from ._internal import sm

    design = _design(frame, formula)
    model = sm.OLS(*design) if design is not None else sm.ols(formula, frame)
    res, msg = _capture(
        model.fit, cov_type="cluster", cov_kwds={"groups": frame["cluster"].to_numpy()}, use_t=True
    )
    out = {}
    g = int(frame["cluster"].nunique())
    for name, contrast in terms.items():
        if res is None:
            out[name] = dict(estimate=np.nan, note=msg)
            continue
        tt = res.t_test(contrast)
        ci = np.asarray(tt.conf_int(alpha=1 - confidence)).ravel()
        out[name] = dict(
            estimate=float(np.asarray(tt.effect).ravel()[0]),
            ci_low=float(ci[0]),
            ci_high=float(ci[1]),
            statistic_name="t",
            statistic=float(np.asarray(tt.tvalue).ravel()[0]),
            df=float(g - 1),
            p=float(np.asarray(tt.pvalue).ravel()[0]),
            n_clusters=g,
            note=msg,
        )
    return out


def _gee(
    frame: pd.DataFrame, formula: str, term: str, binary: bool, confidence: float, cov_type: str
) -> dict:
    """GEE with an exchangeable working correlation within schools and robust SEs."""
    from ._internal import sm

    family = sm.families.Binomial() if binary else sm.families.Gaussian()
    g = int(frame["cluster"].nunique())
    if binary and frame["y"].nunique() < 2:
        return dict(
            estimate=np.nan, n_clusters=g, note="no GEE: every respondent has the same answer"
        )
    design = _design(frame, formula)
    if design is not None:
        model = sm.GEE(
            *design, groups=frame["cluster"], family=family, cov_struct=sm.cov_struct.Exchangeable()
        )
    else:
        model = sm.gee(
            formula,
            groups="cluster",
            data=frame,
            family=family,
            cov_struct=sm.cov_struct.Exchangeable(),
        )
    res, msg = _capture(model.fit, cov_type=cov_type)
    if res is None:
        return dict(estimate=np.nan, n_clusters=g, note=msg)
    b = float(res.params[term])
    ci = np.asarray(res.conf_int(alpha=1 - confidence).loc[term], dtype=float)
    rho = float(np.atleast_1d(model.cov_struct.dep_params)[0])
    note = f"working correlation {rho:.3f}" + (f"; {msg}" if msg else "")
    if binary:
        b, ci = np.exp(b), np.exp(ci)
    return dict(
        estimate=b,
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        statistic_name="z",
        statistic=float(res.tvalues[term]),
        p=float(res.pvalues[term]),
        n_clusters=g,
        note=note,
    )


# --- same pupils
@validate_params(
    {
        "both": COUNT,
        "base_only": COUNT,
        "follow_only": COUNT,
        "neither": COUNT,
        "confidence": PROBABILITY,
    }
)
def newcombe_paired_ci(
    both: int, base_only: int, follow_only: int, neither: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of paired proportions (follow-up - baseline) with Newcombe's method 10 CI.

    The 2x2 table counts pupils who were cases at both waves, at baseline only, at follow-up
    only and at neither. The interval combines the two marginal Wilson intervals with the
    estimated correlation phi between them, continuity-corrected as in Newcombe (1998),
    Stat Med 17:2635 (method 10).

    Returns ``(difference, ci_low, ci_high)``.

    Example:
        >>> d, lo, hi = newcombe_paired_ci(59, 16, 6, 80)
        >>> round(d, 4), round(lo, 4), round(hi, 4)
        (-0.0621, -0.1186, -0.0046)
    """
    counts = np.array([both, base_only, follow_only, neither], dtype=float)
    if np.any(counts < 0) or not np.all(np.isfinite(counts)):
        raise OutcomesError(f"paired counts must be non-negative, got {counts.tolist()}")
    a, b, c, d = counts
    n = counts.sum()
    if n == 0:
        return np.nan, np.nan, np.nan
    x0, x1 = a + b, a + c  # cases at baseline, cases at follow-up
    p0, p1 = x0 / n, x1 / n
    (l0, l1), (u0, u1) = wilson_ci(np.array([x0, x1]), np.array([n, n]), confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        phi = 0.0
    else:
        num = a * d - b * c
        # Newcombe's continuity correction: shrink a positive association by n/2.
        num = max(num - n / 2, 0.0) if num > 0 else num
        phi = num / np.sqrt(margins)
    diff = p1 - p0
    dl = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u0 - p0) + (u0 - p0) ** 2
    du = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p0 - l0) + (p0 - l0) ** 2
    return float(diff), float(diff - np.sqrt(max(dl, 0.0))), float(diff + np.sqrt(max(du, 0.0)))


def _pair(frame: pd.DataFrame, pupil: str, base, follow) -> tuple[pd.DataFrame, int, int]:
    """Wide table of pupils seen at both waves; duplicates within a wave are refused."""
    dup = frame.duplicated(subset=[pupil, "wave"], keep=False)
    if dup.any():
        ids = pd.unique(frame.loc[dup, pupil])[:5].tolist()
        raise DataStructureError(
            f"pupil ids appear twice within a wave, so pairs are ambiguous: {ids}"
            f"{' ...' if dup.sum() > 10 else ''} (column {pupil!r})"
        )
    b = frame[frame["wave"] == base].set_index(pupil)
    f = frame[frame["wave"] == follow].set_index(pupil)
    common = b.index.intersection(f.index)
    wide = pd.DataFrame(
        {
            "y0": b.loc[common, "y"].to_numpy(),
            "y1": f.loc[common, "y"].to_numpy(),
            "cluster": b.loc[common, "cluster"].to_numpy(),
        },
        index=common,
    )
    return wide, len(b) - len(common), len(f) - len(common)


def _paired_rows(
    wide: pd.DataFrame, binary: bool, clustered: bool, confidence: float
) -> list[dict]:
    y0, y1 = wide["y0"].to_numpy(), wide["y1"].to_numpy()
    n = len(wide)
    rows = []
    common = dict(n_baseline=n, n_followup=n)
    if n == 0:
        return [
            _row(
                method="paired",
                estimand="no pupils seen at both waves",
                note="no linked pupils",
                primary=True,
                **common,
            )
        ]
    if binary:
        a = int(((y0 == 1) & (y1 == 1)).sum())
        b = int(((y0 == 1) & (y1 == 0)).sum())
        c = int(((y0 == 0) & (y1 == 1)).sum())
        d = int(((y0 == 0) & (y1 == 0)).sum())
        diff, lo, hi = newcombe_paired_ci(a, b, c, d, confidence)
        est = dict(
            estimand="difference in prevalence (follow-up - baseline), same pupils",
            estimate=diff,
            ci_low=lo,
            ci_high=hi,
            **common,
        )
        discord = _DISCORDANT(b=b, c=c)
        if b + c == 0:
            rows.append(
                _row(
                    method="McNemar exact test, Newcombe paired CI",
                    note=f"no discordant pairs ({discord}): no test",
                    primary=True,
                    **est,
                )
            )
        else:
            mc = mcnemar(b, c)
            rows.append(
                _row(
                    method="McNemar exact test (binomial), Newcombe paired CI",
                    statistic_name="discordant_min",
                    statistic=float(mc.discordant_min),
                    p=mc.p_exact,
                    primary=True,
                    note=discord,
                    **est,
                )
            )
            rows.append(
                _row(
                    method="McNemar chi-square (continuity corrected)",
                    statistic_name="chi2",
                    statistic=mc.chi2_corrected,
                    df=1,
                    p=mc.p_corrected,
                    note=discord,
                    **est,
                )
            )
    else:
        diffs = y1 - y0
        paired_t = dict(
            method="paired t-test",
            estimand="mean change (follow-up - baseline), same pupils",
            estimate=float(diffs.mean()),
            primary=True,
            **common,
        )
        if n < 2:
            rows.append(_row(note="one linked pupil: no test", **paired_t))
        else:
            res = stats.ttest_rel(y1, y0)
            ci = res.confidence_interval(confidence)
            sd = diffs.std(ddof=1)
            rows.append(
                _row(
                    ci_low=float(ci.low),
                    ci_high=float(ci.high),
                    statistic_name="t",
                    statistic=float(res.statistic),
                    df=float(res.df),
                    p=float(res.pvalue),
                    effect_name="d_z",
                    effect=float(diffs.mean() / sd) if sd > 0 else np.nan,
                    **paired_t,
                )
            )
            rows.append(_wilcoxon_row(diffs, common))
    if clustered and n >= 2 and wide["cluster"].nunique() >= 2:
        frame = pd.DataFrame({"change": y1 - y0, "cluster": wide["cluster"].to_numpy()})
        est = _ols_cluster(frame, "change ~ 1", {"mean": np.array([[1.0]])}, confidence)["mean"]
        rows.append(
            _row(
                method="mean within-pupil change, school-clustered SE",
                estimand=(
                    "difference in prevalence (follow-up - baseline), same pupils"
                    if binary
                    else "mean change (follow-up - baseline), same pupils"
                ),
                **common,
                **est,
            )
        )
    return rows


def _wilcoxon_row(diffs: np.ndarray, common: dict) -> dict:
    """Signed-rank row by the library's one implementation (R's exact vs normal rule)."""
    res = signed_rank(diffs)
    if res.n_nonzero == 0:
        return _row(
            method="Wilcoxon signed-rank",
            estimand="median change",
            note="no change in any pair: no test",
            **common,
        )
    return _row(
        method=res.label,
        estimand="median change (follow-up - baseline), same pupils",
        estimate=float(np.median(diffs)),
        statistic_name="V",
        statistic=res.statistic,
        p=res.p,
        effect_name="rank_biserial",
        effect=res.rank_biserial,
        note=_ZERO_CHANGES(n=res.n_zero),
        **common,
    )


# --- the engine
def _comparison_frame(
    data: pd.DataFrame,
    y: np.ndarray,
    wave: str,
    by: list[str],
    cluster: str | None,
    programme: str | None,
    pupil: str | None,
) -> pd.DataFrame:
    """The columns a comparison reads: ``y``, ``wave``, the ``by`` columns, ``cluster`` (school
    codes, -1 for none), ``programme`` (0/1) and the pupil column. Gathered first and made one
    frame (a name met again replaced where it stands, as setting it again did): each column
    set on the frame alone rebuilt its names."""
    cols: dict[str, object] = {"y": y, "wave": data[wave]}
    for b in by:
        cols[b] = data[b]
    if cluster:
        school = data[cluster]
        cols["cluster"] = np.where(school.isna().to_numpy(), -1, pd.factorize(school)[0])
    else:
        cols["cluster"] = 0
    if programme:
        cols["programme"] = _binary_flag(data, programme)
    if pupil:
        cols[pupil] = data[pupil].to_numpy(dtype=object)
    return pd.DataFrame(cols, index=data.index)


def _compare(
    kind: str,
    data: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    *,
    column: str,
    wave: str,
    waves: Sequence | None,
    date: str | None,
    cluster: str | None,
    programme: str | None,
    pupil: str | None,
    by: list[str],
    confidence: float,
    gee_cov: str,
    dayfirst: bool = True,
) -> WaveComparison:
    binary = kind == "prevalence"
    base, follow = _resolve_waves(data, wave, waves, date, dayfirst)
    notes: list[str] = []
    if programme and not cluster:
        raise OutcomesError(
            "a difference in differences needs cluster= (the school column): programme and "
            "comparison schools are compared school by school"
        )
    frame = _comparison_frame(data, y, wave, by, cluster, programme, pupil)
    in_waves = frame["wave"].isin([base, follow])
    other = int((~in_waves).sum())
    if other:
        notes.append(OTHER_WAVES(n=other))
    no_answer = int((in_waves & frame["y"].isna()).sum())
    if no_answer:
        notes.append(_NO_ANSWER(n=no_answer, column=column))
    drop = ~in_waves | frame["y"].isna()
    if cluster:
        no_school = int(((frame["cluster"] == -1) & ~drop).sum())
        if no_school:
            notes.append(_NO_SCHOOL(n=no_school))
        drop |= frame["cluster"] == -1
    if programme:
        no_arm = int((frame["programme"].isna() & ~drop).sum())
        if no_arm:
            notes.append(_NO_ARM(n=no_arm))
        drop |= frame["programme"].isna()
    frame = frame[~drop]
    frame["post"] = (frame["wave"] == follow).to_numpy(dtype=float)

    design = (
        "difference in differences"
        if programme
        else "same pupils"
        if pupil
        else "different pupils, clustered"
        if cluster
        else "different pupils"
    )
    by_wave = _by_wave(
        kind, frame, by, programme is not None, cluster is not None, base, follow, confidence
    )
    parts = []
    groups = frame.groupby(by, dropna=False, sort=True, observed=False) if by else [((), frame)]
    for key, sub in groups:
        rows = _compare_group(
            kind, sub, binary, base, follow, design, pupil, cluster is not None, confidence, gee_cov
        )
        tab = pd.DataFrame(rows, columns=TEST_COLUMNS)
        if by:
            key = key if isinstance(key, tuple) else (key,)
            for b, k in zip(by, key, strict=True):
                tab.insert(by.index(b), b, k)
        parts.append(tab)
    tests = pd.concat(parts, ignore_index=True)
    tests["primary"] = tests["primary"].astype(bool)
    tests["note"] = tests["note"].fillna("").astype("string")
    return WaveComparison(
        kind, outcome, (base, follow), design, by, by_wave, tests, notes, confidence
    )


def _by_wave(kind, frame, by, has_programme, clustered, base, follow, confidence) -> pd.DataFrame:
    keys = [*by, *(["programme"] if has_programme else []), "wave"]
    f = frame
    cl = "cluster" if clustered else None
    fn = prevalence if kind == "prevalence" else means
    out = fn(f, "y", by=keys, cluster=cl, confidence=confidence)
    out = out[out["wave"].isin([base, follow]).to_numpy()]
    if has_programme:
        out["programme"] = out["programme"].astype(bool)
    # Baseline rows first, then follow-up, whatever the waves are called.
    order = out["wave"].map({base: 0, follow: 1}).to_numpy()
    out = out.iloc[np.lexsort((order, *[out[k].astype(str).to_numpy() for k in keys[:-1][::-1]]))]
    return out.drop(columns="missing").reset_index(drop=True)


def _compare_group(
    kind, sub, binary, base, follow, design, pupil, clustered, confidence, gee_cov
) -> list[dict]:
    n0 = int((sub["wave"] == base).sum())
    n1 = int((sub["wave"] == follow).sum())
    if design == "same pupils":
        wide, only0, only1 = _pair(sub, pupil, base, follow)
        rows = _paired_rows(wide, binary, clustered, confidence)
        for r in rows:
            extra = _LINKED(n=len(wide), only0=only0, only1=only1)
            r["note"] = f"{r['note']}; {extra}" if r["note"] else extra
        return rows
    if n0 == 0 or n1 == 0:
        missing_wave = base if n0 == 0 else follow
        return [
            _row(
                method="none",
                estimand="no comparison",
                primary=True,
                n_baseline=n0,
                n_followup=n1,
                note=f"no respondents at {_wave_name(missing_wave)} in this group",
            )
        ]
    est_name = "difference in prevalence" if binary else "difference in means"
    if design == "difference in differences":
        arms = sub.groupby("programme")["wave"].nunique()
        if len(arms) < 2 or (arms < 2).any():
            return [
                _row(
                    method="none",
                    estimand="difference in differences",
                    primary=True,
                    n_baseline=n0,
                    n_followup=n1,
                    note="difference in differences needs programme and comparison schools at both waves",
                )
            ]
        ols = _ols_cluster(
            sub,
            "y ~ programme * post",
            {
                "did": np.array([[0, 0, 0, 1.0]]),
                "prog": np.array([[0, 0, 1.0, 1.0]]),
                "comp": np.array([[0, 0, 1.0, 0]]),
            },
            confidence,
        )
        gee = _gee(sub, "y ~ programme * post", "programme:post", binary, confidence, gee_cov)
        counts = dict(n_baseline=n0, n_followup=n1)
        rows = [
            _row(
                method="OLS, school-clustered SE (y ~ programme * post)",
                estimand=f"difference in differences ({est_name}: programme - comparison)",
                primary=True,
                **counts,
                **ols["did"],
            ),
            _row(
                method=f"GEE {'logistic' if binary else 'gaussian'}, exchangeable, {gee_cov} SE",
                estimand=(
                    "ratio of odds ratios (programme vs comparison)"
                    if binary
                    else "difference in differences (programme - comparison)"
                ),
                **counts,
                **gee,
            ),
            _row(
                method="OLS, school-clustered SE",
                estimand=f"{est_name} in programme schools (follow-up - baseline)",
                **counts,
                **ols["prog"],
            ),
            _row(
                method="OLS, school-clustered SE",
                estimand=f"{est_name} in comparison schools (follow-up - baseline)",
                **counts,
                **ols["comp"],
            ),
        ]
        _few_clusters_note(rows[0], int(sub["cluster"].nunique()))
        return rows
    y0 = sub.loc[sub["wave"] == base, "y"].to_numpy()
    y1 = sub.loc[sub["wave"] == follow, "y"].to_numpy()
    rows = (
        _prop_independent(y0, y1, confidence) if binary else _means_independent(y0, y1, confidence)
    )
    if design == "different pupils":
        rows[0]["primary"] = True
        return rows
    for r in rows:
        r["method"] += " (ignores clustering)"
    ols = _ols_cluster(sub, "y ~ post", {"post": np.array([[0, 1.0]])}, confidence)["post"]
    gee = _gee(sub, "y ~ post", "post", binary, confidence, gee_cov)
    counts = dict(n_baseline=n0, n_followup=n1)
    lead = _row(
        method="OLS, school-clustered SE",
        estimand=f"{est_name} (follow-up - baseline)",
        primary=True,
        **counts,
        **ols,
    )
    _few_clusters_note(lead, int(sub["cluster"].nunique()))
    return [
        lead,
        _row(
            method=f"GEE {'logistic' if binary else 'gaussian'}, exchangeable, {gee_cov} SE",
            estimand="odds ratio (follow-up vs baseline)"
            if binary
            else f"{est_name} (follow-up - baseline)",
            **counts,
            **gee,
        ),
        *rows,
    ]


def _few_clusters_note(row: dict, g: int) -> None:
    # Cameron & Miller (2015): with few clusters, sandwich SEs are too small even with the
    # G/(G-1) correction and t(G-1) reference used here.
    if g < FEW_CLUSTERS:
        msg = f"{_FEW_SCHOOLS(g=g, p=0.05)} (gee_cov='bias_reduced' gives a small-sample GEE)"
        row["note"] = f"{row['note']}; {msg}" if row["note"] else msg


@recorded("survey.compare_prevalence")
@renamed_params(pupil="person_id")
@validate_params(
    {
        **_CASE_DEFINITION,
        **_WAVE_COMPARISON,
        "dayfirst": "boolean",
    }
)
def compare_prevalence(
    data: pd.DataFrame,
    indicator: str,
    *,
    bands: str | Sequence[str] | None = None,
    below: float | None = None,
    at_least: float | None = None,
    wave: str = "wave",
    waves: Sequence | None = None,
    date: str | None = "date",
    cluster: str | None = None,
    programme: str | None = None,
    person_id: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    gee_cov: str = "robust",
    label: str | None = None,
    dayfirst: bool = True,
) -> WaveComparison:
    """Compare the prevalence of a case definition between a baseline and a follow-up wave.

    The design follows from the arguments:

    - nothing extra: different pupils, two-proportion z-test (= Pearson chi-square) with the
      Newcombe hybrid score CI for the difference;
    - ``cluster="school_id"``: adds an OLS linear probability model with school-clustered SEs
      (primary: the same risk difference, honest about clustering) and a logistic GEE with an
      exchangeable working correlation and robust SEs (odds ratio);
    - ``programme="trailblazer"`` (true/false per row, with ``cluster=``): difference in
      differences ``y ~ programme * post`` with school-clustered SEs, plus the GEE version
      and the change within each arm;
    - ``person_id="pupil_id"``: the same pupils at both waves, linked by id: McNemar (exact) and
      the Newcombe paired CI (method 10), with a school-clustered version when ``cluster=``.

    Waves: ``waves=(baseline, follow_up)``; if omitted, the two waves present are ordered by
    value (numbers, dates, ordered categories), by the median of the ``date`` column, or by a
    wave called "baseline"; otherwise you are asked. A follow-up dated before its baseline is
    refused. The ``date`` column is read by the project's date rules (ISO always;
    ``05/01/2025`` is 5 January unless ``dayfirst=False``; a cell that is not a date raises an
    error naming its row; docs/concepts.md, "Dates"). ``by=`` repeats the comparison per group. ``label=`` names the outcome in
    :meth:`WaveComparison.summary` (e.g. ``"SDQ total in the high or very high band"``).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({
        ...     "wave": [1] * 70 + [2] * 80,
        ...     "case": [1] * 56 + [0] * 14 + [1] * 48 + [0] * 32})
        >>> res = compare_prevalence(df, "case", waves=(2, 1))
        >>> row = res.to_frame().iloc[0]
        >>> [round(float(row[c]), 6) for c in ("estimate", "statistic", "p")]
        [0.2, 2.650172, 0.008045]
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    pupil = person_id
    by_cols = _as_list(by)
    need = [indicator, wave, *by_cols, *[c for c in (cluster, programme, pupil) if c]]
    _check_frame(data, need, "compare_prevalence")
    _check_confidence(confidence)
    y = case_indicator(data, indicator, bands=bands, below=below, at_least=at_least).to_numpy()
    return _compare(
        "prevalence",
        data,
        y,
        label or _describe_indicator(indicator, bands, below, at_least),
        column=indicator,
        wave=wave,
        waves=waves,
        date=date,
        cluster=cluster,
        programme=programme,
        pupil=pupil,
        by=by_cols,
        confidence=confidence,
        gee_cov=gee_cov,
        dayfirst=dayfirst,
    )


@recorded("survey.compare_means")
@renamed_params(pupil="person_id")
@validate_params(
    {
        "data": "dataframe",
        "score": COLUMN,
        **_WAVE_COMPARISON,
        "dayfirst": "boolean",
    }
)
def compare_means(
    data: pd.DataFrame,
    score: str,
    *,
    wave: str = "wave",
    waves: Sequence | None = None,
    date: str | None = "date",
    cluster: str | None = None,
    programme: str | None = None,
    person_id: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    gee_cov: str = "robust",
    label: str | None = None,
    dayfirst: bool = True,
) -> WaveComparison:
    """Compare the mean of a score between a baseline and a follow-up wave.

    Same designs as :func:`compare_prevalence`: Welch t-test (different pupils); OLS with
    school-clustered SEs and a gaussian exchangeable GEE (``cluster=``); difference in
    differences (``programme=``); paired t-test with d_z and Wilcoxon signed-rank with the
    matched-pairs rank-biserial correlation (``person_id=``).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"wave": ["baseline"] * 4 + ["follow-up"] * 4,
        ...                    "score": [20, 22, 24, 26, 23, 25, 27, 29]})
        >>> float(compare_means(df, "score").to_frame().loc[0, "estimate"])
        3.0
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    pupil = person_id
    by_cols = _as_list(by)
    need = [score, wave, *by_cols, *[c for c in (cluster, programme, pupil) if c]]
    _check_frame(data, need, "compare_means")
    _check_confidence(confidence)
    y = _numeric_column(data, score, "compare_means").to_numpy()
    return _compare(
        "mean",
        data,
        y,
        label or score,
        column=score,
        wave=wave,
        waves=waves,
        date=date,
        cluster=cluster,
        programme=programme,
        pupil=pupil,
        by=by_cols,
        confidence=confidence,
        gee_cov=gee_cov,
        dayfirst=dayfirst,
    )


# ----------------------------------------------------------------------------- trends
@recorded("survey.trend")
@renamed_params(pupil="person_id")
@validate_params(
    {
        **_CASE_DEFINITION,
        "wave": COLUMN,
        "cluster": COLUMN,
        "by": BY,
        "weights": [COLUMN, None],
        "waves": [ArrayLike(), None],
        "kind": Options(str, {"prevalence", "mean"}),
        "programme": [COLUMN, None],
        "person_id": [COLUMN, None],
        "confidence": PROBABILITY,
        "gee_cov": Options(str, {"robust", "naive", "bias_reduced"}),
        "label": OPTIONAL_TEXT,
    }
)
def trend(
    data: pd.DataFrame,
    indicator: str,
    wave: str,
    *,
    cluster: str = "school_id",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    waves: Sequence | None = None,
    kind: str = "prevalence",
    bands: str | Sequence[str] | None = None,
    below: float | None = None,
    at_least: float | None = None,
    programme: str | None = None,
    person_id: str | None = None,
    confidence: float = 0.95,
    gee_cov: str = "robust",
    label: str | None = None,
):
    """Prevalence (or mean) at every wave, change against baseline, and a test of trend.

    For a repeated cross-section of schools (new pupils each wave): the level at each wave
    with a school-clustered CI, the change of each wave against baseline (GEE, wave
    categorical), and the trend per year (GEE, wave as months since baseline / 12; the wave's
    position when its label names no time), schools as clusters, robust SEs
    (:mod:`outcomes.trend`). ``kind="mean"`` analyses a score instead of a case indicator
    (``bands=`` / ``below=`` / ``at_least=`` define a case as in :func:`case_indicator`).

    ``programme=`` (true/false per row) keeps programme and comparison schools apart (each
    gets its own levels, changes and trend) and adds the difference in differences at each
    wave and the difference in trends. ``weights=`` names a column of survey weights
    (:func:`outcomes.weighting.rake`, :func:`outcomes.weighting.poststratify`): levels become
    design-based weighted estimates and the GEE is weighted. ``person_id=`` adds, for pupils
    seen at two or more waves, the change from baseline from the mixed model
    (:func:`outcomes.longitudinal.fit_mixed`, random intercepts for pupil and school).

    ``waves=`` gives the waves in time order; otherwise they are ordered by the wave
    vocabulary (baseline, 12m, 24m, ...) or by value. Rows in a wave not listed, or with no
    answer, school, weight or arm, are left out and counted in ``result.quality``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({
        ...     "wave": ["baseline"] * 8 + ["12m"] * 8 + ["24m"] * 8,
        ...     "school": ["a", "a", "b", "b", "c", "c", "d", "d"] * 3,
        ...     "case": [1, 1, 1, 0, 1, 0, 0, 0] + [1, 1, 0, 0, 1, 0, 0, 0] + [1, 0, 0, 0] * 2})
        >>> res = trend(df, "case", "wave", cluster="school")
        >>> t = res.to_frame().set_index("term")
        >>> t.loc["level", "estimate"].tolist()
        [0.5, 0.375, 0.25]
        >>> round(float(t.loc["trend", "estimate"]), 3)
        -0.125
    """
    from .trend import ARMS, COLUMNS, TrendResult, fit_arm, fit_contrast

    by_cols = _as_list(by)
    extra = [c for c in (weights, programme, person_id) if c]
    _check_frame(data, [indicator, wave, cluster, *by_cols, *extra], "trend")
    if kind == "mean":
        if any(r is not None for r in (bands, below, at_least)):
            raise OutcomesError(
                "trend: kind='mean' analyses a score; bands=/below=/at_least= define a case (kind='prevalence')"
            )
        y = _numeric_column(data, indicator, "trend").to_numpy()
    else:
        y = case_indicator(data, indicator, bands=bands, below=below, at_least=at_least).to_numpy()
    present = pd.Series(data[wave].dropna().unique()).tolist()
    if waves is not None:
        order = list(dict.fromkeys(resolve_wave(w, present, column=wave) for w in waves))
        if len(order) != len(list(waves)):
            raise OutcomesError(f"trend: waves= names a wave twice: {list(waves)!r}")
    elif pd.api.types.is_numeric_dtype(data[wave].dtype):
        order = sorted(present)
    else:
        order = order_waves(present, strict=True)
    if len(order) < 2:
        raise DataStructureError(
            f"trend: wave column {wave!r} holds {len(order)} wave(s); a trend needs two or more"
        )
    check_lookalikes(order, present, column=wave)
    months_ = [months(w) for w in order]
    if all(m is not None for m in months_):
        times, unit = [m / 12.0 for m in months_], "year"
    else:
        times, unit = [float(i) for i in range(len(order))], "wave"
    quality = QualityRecord()
    frame = pd.DataFrame(
        {"y": y, "cluster": data[cluster].to_numpy(dtype=object)}, index=data.index
    )
    code = np.full(len(data), -1)
    for i, w in enumerate(order):
        code[(data[wave] == w).to_numpy()] = i
    frame["wc"] = code
    frame["t"] = np.where(code >= 0, np.asarray(times)[np.clip(code, 0, None)], np.nan)
    frame["w"] = 1.0 if weights is None else _numeric_column(data, weights, "trend").to_numpy()
    if weights is not None and (frame["w"] < 0).any():
        raise OutcomesError(f"trend: weights column {weights!r} holds negative weights")
    for b in by_cols:
        frame[b] = data[b].to_numpy()
    if programme:
        frame["prog"] = _binary_flag(data, programme)
    if person_id:
        frame["person"] = data[person_id].to_numpy(dtype=object)
    keep = np.ones(len(frame), dtype=bool)
    reasons = [
        (frame["wc"].to_numpy() < 0, f"in a wave not analysed (not one of {order})"),
        (np.isnan(frame["y"].to_numpy()), f"no answer in {indicator!r}"),
        (frame["cluster"].isna().to_numpy(), f"no school ({cluster!r} missing)"),
    ]
    if weights is not None:
        reasons.append((~np.isfinite(frame["w"].to_numpy()), f"no weight ({weights!r} missing)"))
    if programme:
        reasons.append((np.isnan(frame["prog"].to_numpy()), f"no arm ({programme!r} missing)"))
    for bad, why in reasons:
        hit = bad & keep
        if hit.any():
            quality.add(
                "survey.trend",
                f"rows left out: {why}",
                where=indicator,
                rows=int(hit.sum()),
                action="excluded",
                warn=False,
            )
        keep &= ~bad
    frame = frame[keep]
    weighted = weights is not None
    opts = dict(weighted=weighted, confidence=confidence, cov_type=gee_cov)
    rows: list[dict] = []
    groups = frame.groupby(by_cols, dropna=False, sort=True) if by_cols else [((), frame)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        arms = (
            [(None, part)] if not programme else [(a, part[part["prog"] == a]) for a in (1.0, 0.0)]
        )
        new: list[dict] = []
        for a, sub in arms:
            name = "all" if a is None else ARMS[a]
            if sub.empty:
                new.append({"arm": name, "term": "level", "note": "no respondents in this arm"})
                continue
            new += fit_arm(sub, order, times, arm=name, **opts)
            if person_id:
                new += _matched_change(sub, order, times, name, confidence, quality)
        if programme and part["prog"].nunique() == 2:
            new += fit_contrast(part, order, times, **opts)
        for r in new:
            r.update(zip(by_cols, key, strict=True))
        rows += new
    table = pd.DataFrame(rows).reindex(columns=[*by_cols, *COLUMNS])
    notes = []
    g = int(frame["cluster"].nunique())
    if g < FEW_CLUSTERS:
        notes.append(
            f"only {g} schools: robust SEs may be too small (gee_cov='bias_reduced' gives a small-sample correction)"
        )
    if unit == "wave":
        notes.append("the wave labels name no time: the trend is per wave step")
    desc = label or (
        indicator if kind == "mean" else _describe_indicator(indicator, bands, below, at_least)
    )
    weighting = None
    if weighted:
        weighting = data[weights].attrs.get("weighting") or f"survey weights in column {weights!r}"
    return TrendResult(
        kind=kind,
        outcome=desc,
        waves=order,
        times=times,
        time_unit=unit,
        by=by_cols,
        table=table,
        weighting=weighting,
        confidence=confidence,
        notes=notes,
        quality=quality,
    )


def _matched_change(
    sub: pd.DataFrame, order: list, times: list, arm: str, confidence: float, quality: QualityRecord
) -> list[dict]:
    """Change from baseline among pupils seen at two or more waves: the mixed model."""
    from .longitudinal.mixed import fit_mixed

    seen = sub.groupby("person")["wc"].nunique()
    linked = sub[sub["person"].isin(seen.index[seen >= 2])]
    if linked.empty:
        return []
    used = [w for i, w in enumerate(order) if (linked["wc"] == i).any()]
    frame = linked.assign(wave=[order[i] for i in linked["wc"]])
    # the fit's messages are kept in res.warnings and recorded below, not printed twice
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = fit_mixed(
            frame,
            "y",
            "wave",
            person_id="person",
            cluster="cluster",
            waves=used,
            confidence=confidence,
        )
    for msg in res.warnings:
        quality.add(
            "survey.trend", f"mixed model ({arm}): {msg}", where="matched pupils", warn=False
        )
    ch = res.change()
    tmap = dict(zip(order, times, strict=True))
    return [
        {
            "arm": arm,
            "term": "change from baseline (matched pupils)",
            "wave": r["wave"],
            "time": tmap[r["wave"]],
            "estimate": r["estimate"],
            "se": r["se"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "p": r["p"],
            "n": int(linked["person"].nunique()),
            "n_clusters": int(linked["cluster"].nunique()),
            "method": "linear mixed model (pupil and school random intercepts), REML, Satterthwaite df",
            "note": "",
        }
        for _, r in ch.iterrows()
    ]


# ----------------------------------------------------------------------------- benchmarks
@recorded("survey.benchmark")
@validate_params(
    {
        **_CASE_DEFINITION,
        "cluster": COLUMN,
        "by": BY,
        "wave": [COLUMN, None],
        "norms": ["dataframe", None],
        "norm_column": COLUMN,
        "confidence": PROBABILITY,
    }
)
def benchmark(
    data: pd.DataFrame,
    indicator: str,
    *,
    cluster: str = "school_id",
    by: str | Sequence[str] | None = "year_group",
    wave: str | None = None,
    bands: str | Sequence[str] | None = None,
    below: float | None = None,
    at_least: float | None = None,
    norms: pd.DataFrame | None = None,
    norm_column: str = "prevalence",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each school's (``cluster``'s) prevalence by year group against a comparator range,
    flagged ``lower`` / ``expected`` / ``elevated``.

    The comparator p0 for a year group (and wave, with ``wave=``) is read from ``norms`` (a
    table with the ``by`` columns and ``norm_column``, e.g. a national reference) or, by
    default, is the pooled prevalence of all the schools in ``data`` (pass the programme's
    schools only: comparison schools are not pooled in unless you include them). The expected
    range for a school with n respondents is the funnel limit p0 +/- z sqrt(p0 (1 - p0) / n)
    (:mod:`outcomes.comparator`); a school above it is ``elevated``, below it ``lower``. A
    group with no comparator gets no flag and a note. The rule is in ``attrs["rule"]``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"school_id": ["a"] * 100 + ["b"] * 100,
        ...                    "case": [1] * 40 + [0] * 60 + [1] * 10 + [0] * 90})
        >>> out = benchmark(df, "case", by=None)
        >>> out[["school_id", "prevalence", "comparator", "flag"]].values.tolist()
        [['a', 0.4, 0.25, 'elevated'], ['b', 0.1, 0.25, 'lower']]
    """
    from .comparator import ranges, rule_text

    by_cols = [*_as_list(by), *([wave] if wave else [])]
    _check_frame(data, [indicator, cluster, *by_cols], "benchmark")
    y = case_indicator(data, indicator, bands=bands, below=below, at_least=at_least).to_numpy()
    frame = pd.DataFrame({"y": y, "school": data[cluster].to_numpy(dtype=object)})
    for b in by_cols:
        frame[b] = data[b].to_numpy()
    left = frame["y"].isna() | frame["school"].isna()
    frame = frame[~left]
    table = None
    if norms is not None:
        _check_frame(norms, [*by_cols, norm_column], "benchmark (norms)")
        if norms.duplicated(by_cols).any():
            raise DataStructureError(
                f"benchmark: the norm table lists a group twice ({by_cols}); give one "
                f"{norm_column!r} per group"
            )
        table = norms[[*by_cols]].copy()
        table["comparator"] = _numeric_column(norms, norm_column, "benchmark (norms)")
        if ((table["comparator"] < 0) | (table["comparator"] > 1)).any():
            raise OutcomesError(
                f"benchmark: norm column {norm_column!r} must hold proportions from 0 to 1"
            )
        for b in by_cols:  # a data group the norms never name would end with no flag
            missing = set(frame[b].dropna()) - set(table[b].dropna())
            if missing:
                first = sorted(map(str, missing))[0]
                raise DataStructureError(
                    f"benchmark: {unknown(f'{b} in the data', first, table[b].dropna().unique())}"
                    f" (the norm table has no row for {sorted(map(str, missing))})"
                )
    out = ranges(frame, by_cols, table, confidence).rename(columns={"school": cluster})
    source = (
        f"comparator p0 from the norm table ({norm_column!r})"
        if norms is not None
        else "comparator p0 = the pooled prevalence of all schools in the data, by "
        + (", ".join(by_cols) or "the whole sample")
    )
    out.attrs["rule"] = rule_text(confidence, source)
    if left.any():
        q = QualityRecord()
        q.add(
            "survey.benchmark",
            "rows with no answer or no school left out",
            where=indicator,
            rows=int(left.sum()),
            action="excluded",
            warn=False,
        )
        attach_quality(out, q)
    return out
