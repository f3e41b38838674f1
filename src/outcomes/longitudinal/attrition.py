"""Attrition: who is missing at follow-up, and what that implies for the analysis.

Children who leave before the 12-month questionnaire are rarely a random subset. This module
compares completers with non-completers on the baseline score (Welch's t test and Cohen's d
with the pooled SD) and on demographics (chi-square tests of independence with Cramer's V, or
Welch's t for a numeric characteristic), fits a logistic model of dropout, and turns the
pattern into a plain-language verdict.

The tests can show that dropout depends on *recorded* information (so follow-ups are not
missing completely at random and completers-only results may be biased); they can never show
that dropout is unrelated to the unseen follow-up score itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._internal.params import (
    POSITIVE_COUNT,
    PROBABILITY,
    WAVE_LABEL,
    ArrayLike,
    Columns,
    renamed_params,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord, first_lines, with_notes
from .._internal.text import format_p
from .._internal.waves import resolve_wave
from .._stats import wilson_ci
from ..errors import DataStructureError, OutcomesError
from .mixed import LONG_TABLE, _check_columns, _is_categorical, _label, prepare, wave_positions

__all__ = ["AttritionResult", "attrition", "cohens_d", "welch_t"]

#: Columns of :meth:`AttritionResult.to_frame`.
TEST_COLUMNS = [
    "variable",
    "test",
    "statistic",
    "df",
    "p",
    "effect_name",
    "effect",
    "n_completers",
    "n_noncompleters",
    "note",
]

# A numeric characteristic with more distinct values than this is compared as continuous.
_MAX_CATEGORIES = 5
# the tests' notes: the 5 is the rule of thumb for expected counts, not a count of children
_FISHER = NoteTemplate("expected counts below {k}; Fisher's exact p = {p}", values=["k", "p"])
_APPROXIMATE = NoteTemplate(
    "expected counts below {k}: the chi-square p-value is approximate", values=["k"]
)


@validate_params(
    {
        "x": ArrayLike(scores=True),
        "y": ArrayLike(scores=True),
    }
)
def welch_t(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Welch's t test of mean(x) - mean(y) (unequal variances, Welch-Satterthwaite df).

    Example:
        >>> r = welch_t(np.array([15., 17, 19, 21]), np.array([10., 12, 14]))
        >>> round(r["t"], 4), round(r["df"], 3)
        (3.4641, 4.959)
    """
    res = stats.ttest_ind(x, y, equal_var=False)
    return {
        "t": float(res.statistic),
        "df": float(res.df),
        "p": float(res.pvalue),
        "mean_diff": float(np.mean(x) - np.mean(y)),
    }


@validate_params(
    {
        "x": ArrayLike(scores=True),
        "y": ArrayLike(scores=True),
    }
)
def cohens_d(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's d = (mean(x) - mean(y)) / pooled SD, pooled SD with n - 1 weights.

    Example:
        >>> round(cohens_d(np.array([15., 17, 19, 21]), np.array([10., 12, 14])), 4)
        2.5355
    """
    n1, n2 = len(x), len(y)
    sp2 = ((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2)
    return float((np.mean(x) - np.mean(y)) / np.sqrt(sp2)) if sp2 > 0 else np.nan


@dataclass
class AttritionResult:
    """Result of :func:`attrition`.

    ``children``: one row per child with a baseline score (``baseline``, ``completed`` and the
    demographics); ``tests``: completers vs non-completers, one row per characteristic;
    ``by_level``: completion rate per level of each categorical characteristic (Wilson CIs);
    ``logistic``: odds ratios of *dropping out*; ``verdict``: what the pattern implies.
    ``warnings`` lists what could not be tested or estimated; ``quality`` holds the same as
    notes, with the children and values left out and why.
    """

    outcome: str
    baseline_wave: object
    followup_wave: object
    children: pd.DataFrame
    completion: dict
    tests: pd.DataFrame
    by_level: pd.DataFrame
    logistic: pd.DataFrame
    verdict: str
    warnings: list[str] = field(default_factory=list)
    alpha: float = 0.05
    n_no_baseline: int = 0
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        """Completers vs non-completers: one row per characteristic tested."""
        return self.tests.copy()

    def summary(self) -> str:
        c = self.completion
        lead = (
            f"Of {c['n_children']} children with {self.outcome} recorded at "
            f"{_wave_text(self.baseline_wave)}, {c['n_completers']} "
            f"({100 * c['rate']:.0f}%, 95% CI {100 * c['ci_low']:.0f}% to "
            f"{100 * c['ci_high']:.0f}%) had it recorded at {_wave_text(self.followup_wave)}."
        )
        extra = (
            f" {self.n_no_baseline} child(ren) without a baseline score were left out."
            if self.n_no_baseline
            else ""
        )
        warn = (" Warnings: " + "; ".join(self.warnings) + ".") if self.warnings else ""
        return with_notes(f"{lead}{extra} {self.verdict}{warn}", self.quality, shown=self.warnings)

    @validate_params(
        {
            "bins": POSITIVE_COUNT,
        }
    )
    def plot(self, *, bins: int = 5):
        """Left: baseline scores of completers and non-completers. Right: completion rate by
        fifths of the baseline score, with Wilson CIs. Returns the Figure."""
        import matplotlib.pyplot as plt

        ch = self.children
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
        groups = [ch.loc[ch["completed"], "baseline"], ch.loc[~ch["completed"], "baseline"]]
        ax1.boxplot([g.to_numpy() for g in groups], tick_labels=["completed", "did not complete"])
        ax1.set_ylabel(f"baseline {self.outcome}")
        ax1.set_title("Baseline score by follow-up status")
        q = pd.qcut(ch["baseline"].rank(method="first"), min(bins, len(ch)), labels=False)
        grp = ch.groupby(q)
        k = grp["completed"].sum().to_numpy()
        n = grp["completed"].size().to_numpy()
        mid = grp["baseline"].median().to_numpy()
        lo, hi = wilson_ci(k, n)
        rate = k / n
        ax2.errorbar(mid, 100 * rate, yerr=100 * np.vstack([rate - lo, hi - rate]), marker="o")
        ax2.set_xlabel(f"baseline {self.outcome} (median of each fifth)")
        ax2.set_ylabel("completed follow-up (%)")
        ax2.set_ylim(0, 100)
        ax2.set_title("Completion by baseline score")
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        c = self.completion
        return f"AttritionResult({c['n_completers']}/{c['n_children']} completed)"


def _wave_text(w: object) -> str:
    return f"wave {_label(w)}" if isinstance(w, int | float | np.integer | np.floating) else str(w)


def _continuous_row(name: str, values: pd.Series, done: pd.Series) -> dict:
    v = pd.to_numeric(values, errors="coerce")
    ok = v.notna()
    x = v[ok & ~done].to_numpy(float)  # non-completers
    y = v[ok & done].to_numpy(float)  # completers
    row = {
        "variable": name,
        "test": "Welch t (non-completers - completers)",
        "effect_name": "cohens_d",
        "n_completers": len(y),
        "n_noncompleters": len(x),
        "note": "",
    }
    if len(x) < 2 or len(y) < 2:
        row.update(statistic=np.nan, df=np.nan, p=np.nan, effect=np.nan)
        row["note"] = "fewer than two children in a group: not tested"
        return row
    if np.var(np.concatenate([x, y])) == 0:
        row.update(statistic=np.nan, df=np.nan, p=np.nan, effect=np.nan)
        row["note"] = "no variation: not tested"
        return row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = welch_t(x, y)
    row.update(statistic=w["t"], df=w["df"], p=w["p"], effect=cohens_d(x, y))
    row["mean_completers"] = float(y.mean())
    row["mean_noncompleters"] = float(x.mean())
    notes = [f"{int((~ok).sum())} missing value(s) left out"] if (~ok).any() else []
    # e.g. scipy's precision-loss warning when the scores are nearly identical
    notes += [f"Welch t: {m}" for m in first_lines(caught, in_order=True)]
    row["note"] = "; ".join(notes)
    return row


def _completion_counts(values: pd.Series, done: pd.Series) -> pd.DataFrame:
    """Children per level (rows, sorted) who completed (column True) and did not (False):
    ``pd.crosstab(values, done)`` with both columns, counted from the levels' codes where
    that is the same table (crosstab's pivot cost more than the chi-square tests)."""
    if len(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        codes, levels = pd.factorize(values, sort=True)
        d = done.to_numpy(dtype=bool)
        counts = {
            True: np.bincount(codes[d], minlength=len(levels)),
            False: np.bincount(codes[~d], minlength=len(levels)),
        }
        return pd.DataFrame(counts, index=levels)
    return pd.crosstab(values, done).reindex(columns=[True, False], fill_value=0)


def _categorical_row(name: str, values: pd.Series, done: pd.Series) -> tuple[dict, pd.DataFrame]:
    ok = values.notna()
    table = _completion_counts(values[ok], done[ok])
    row = {
        "variable": name,
        "test": "chi-square (no continuity correction)",
        "effect_name": "cramers_v",
        "n_completers": int(table[True].sum()),
        "n_noncompleters": int(table[False].sum()),
        "note": "",
    }
    notes = []
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} missing value(s) left out")
    counts = table.to_numpy()
    usable = counts[counts.sum(axis=1) > 0]
    if usable.shape[0] < 2 or (usable.sum(axis=0) == 0).any():
        row.update(statistic=np.nan, df=np.nan, p=np.nan, effect=np.nan)
        notes.append("one level or one follow-up status only: not tested")
    else:
        chi = stats.chi2_contingency(usable, correction=False)
        n = usable.sum()
        v = np.sqrt(chi.statistic / (n * (min(usable.shape) - 1)))
        row.update(statistic=float(chi.statistic), df=float(chi.dof), p=float(chi.pvalue))
        row["effect"] = float(v)
        if (chi.expected_freq < 5).any():
            if usable.shape == (2, 2):
                fisher_p = stats.fisher_exact(usable).pvalue
                notes.append(_FISHER(k=5, p=f"{fisher_p:.4g}"))
            else:
                notes.append(_APPROXIMATE(k=5))
    row["note"] = "; ".join(notes)
    k = table[True].to_numpy()
    nn = counts.sum(axis=1)
    lo, hi = wilson_ci(k, nn)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(nn > 0, k / np.where(nn > 0, nn, 1), np.nan)
    levels = pd.DataFrame(
        {
            "variable": name,
            "level": table.index.tolist(),
            "n": nn,
            "completed": k,
            "rate": rate,
            "ci_low": lo,
            "ci_high": hi,
        }
    )
    return row, levels


def _pure_levels(values: pd.Series, done: pd.Series) -> list[tuple[object, int, bool]]:
    """The levels (in sort order) in which every child has the same follow-up status: each
    level, its number of children and whether they all completed. Counted from the levels'
    codes; categories, which groupby orders as declared, are left to groupby (a groupby
    with three aggregations per characteristic cost more than the logistic model's design)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        status = done.groupby(values).agg(["min", "max", "size"])
        status = status[status["min"] == status["max"]]
        return [(lev, int(r["size"]), bool(r["min"])) for lev, r in status.iterrows()]
    codes, levels = pd.factorize(values, sort=True)  # missing values: -1, left out as groupby
    ok = codes >= 0
    size = np.bincount(codes[ok], minlength=len(levels))
    k = np.bincount(codes[ok & done.to_numpy(dtype=bool)], minlength=len(levels))
    at = np.flatnonzero((k == 0) | (k == size))
    labels = levels.tolist()  # as iterating groupby's index gives them (Python scalars)
    return [(labels[i], int(size[i]), bool(k[i] == size[i])) for i in at]


def _design(
    ch: pd.DataFrame, demographics: list[str], kinds: dict[str, str]
) -> tuple[pd.DataFrame, pd.Series]:
    """The logistic model's design (intercept ``const`` first, baseline, numeric
    characteristics, dummies of the others) on the children with every term recorded, and
    which children those are."""
    from .._internal import sm

    cols = {"baseline": ch["baseline"].to_numpy(float)}
    for d in demographics:
        if kinds[d] == "numeric":
            cols[d] = pd.to_numeric(ch[d], errors="coerce").to_numpy(float)
        else:
            v = ch[d]
            levels = sorted(pd.unique(v.dropna()).tolist(), key=str)
            for lev in levels[1:]:
                cols[f"{d}[{_label(lev)}]"] = np.where(v.isna(), np.nan, (v == lev).astype(float))
    if "const" in cols:  # a characteristic named so: add_constant puts its own beside it
        X = pd.DataFrame(cols, index=ch.index)
        keep = X.notna().all(axis=1)
        return sm.add_constant(X[keep], has_constant="add"), keep
    # the intercept where and as add_constant puts it (first, float ones), in the frame from
    # the start: add_constant copies the design and tests every column for a constant
    X = pd.DataFrame({"const": np.ones(len(ch)), **cols}, index=ch.index)
    keep = X.notna().all(axis=1)
    return X[keep], keep


def _logistic(ch: pd.DataFrame, demographics: list[str], kinds: dict[str, str], confidence):
    """Logit of dropping out on baseline score and characteristics; odds ratios with CIs."""
    from .._internal import sm

    notes: list[str] = []
    # A level in which every child has the same status separates perfectly and sends its
    # coefficient to infinity; those children carry no information about the other terms.
    pure = pd.Series(False, index=ch.index)
    for d in demographics:
        if kinds[d] == "categorical":
            for lev, size, completed in _pure_levels(ch[d], ch["completed"]):
                what = "completed" if completed else "dropped out"
                notes.append(
                    f"logistic model: {d} = {lev!r}: all {size} child(ren) {what}, "
                    "so they are left out of it (their odds ratio is not estimable)"
                )
                pure |= ch[d] == lev
    ch = ch[~pure]
    X, keep = _design(ch, demographics, kinds)
    y = (~ch.loc[keep, "completed"]).astype(float)
    empty = pd.DataFrame(columns=["term", "odds_ratio", "ci_low", "ci_high", "p", "coef", "se"])
    if int(y.sum()) == 0 or int(y.sum()) == len(y):
        return empty, [
            *notes,
            "logistic model not fitted: every child has the same follow-up status",
        ]
    varying = X.columns[(X.nunique() > 1) | (X.columns == "const")]
    dropped = [c for c in X.columns if c not in varying]
    if dropped:
        notes.append(f"logistic model: {dropped} constant among children, left out")
    X = X[varying]
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        return empty, notes + ["logistic model not fitted: its terms are collinear"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return empty, notes + [f"logistic model could not be fitted: {exc}"]
    msgs = first_lines(caught, in_order=True)
    notes += [f"logistic model: {m}" for m in msgs]
    z = stats.norm.ppf(0.5 + confidence / 2)
    b, se, p = fit.params.to_numpy(), fit.bse.to_numpy(), fit.pvalues.to_numpy()
    separated = any("separation" in m.lower() for m in msgs)
    if separated or not fit.mle_retvals.get("converged", True):
        # Under (quasi-)complete separation the estimates run off to infinity: show none.
        notes.append(
            "logistic model: dropout is (almost) perfectly predicted, so its odds ratios are "
            "not estimable and are left blank"
        )
        b, se, p = (np.full_like(b, np.nan) for _ in range(3))
    with np.errstate(over="ignore"):
        out = pd.DataFrame(
            {
                "term": ["intercept" if c == "const" else c for c in X.columns],
                "odds_ratio": np.exp(b),
                "ci_low": np.exp(b - z * se),
                "ci_high": np.exp(b + z * se),
                "p": p,
                "coef": b,
                "se": se,
            }
        )
    if (~keep).any():
        notes.append(
            f"logistic model: {int((~keep).sum())} child(ren) with missing values left out"
        )
    out.attrs["n"] = int(keep.sum())
    out.attrs["lr_p"] = float(fit.llr_pvalue)
    return out, notes


def _verdict(res: dict, tests: pd.DataFrame, logistic: pd.DataFrame, outcome, hib, alpha) -> str:
    c = res
    if c["n_noncompleters"] == 0:
        return (
            "Every child with a baseline score also has a follow-up score, so there is no "
            "attrition to explain."
        )
    base = tests.iloc[0]
    related: list[str] = []
    if np.isfinite(base["p"]) and base["p"] < alpha:
        higher = base["mean_noncompleters"] > base["mean_completers"]
        if hib is None:
            how = "higher" if higher else "lower"
        else:
            worse = higher != hib  # higher scores are worse when higher is not better
            how = (
                ("higher (more severe)" if higher else "lower (more severe)")
                if worse
                else ("higher (less severe)" if higher else "lower (less severe)")
            )
        related.append(
            f"children who did not complete had {how} baseline {outcome} "
            f"(mean {base['mean_noncompleters']:.2f} vs {base['mean_completers']:.2f}; "
            f"d = {base['effect']:.2f}; {format_p(base['p'])})"
        )
    demo = tests.iloc[1:]
    sig = demo[demo["p"].to_numpy(float) < alpha]
    for _, r in sig.iterrows():
        related.append(f"completion differed by {r['variable']} ({format_p(r['p'])})")
    lr = logistic.attrs.get("lr_p", np.nan) if len(logistic) else np.nan
    low = c["rate"] < 0.6
    tail = (
        f" Only {100 * c['rate']:.0f}% of children completed follow-up, so any estimate leans "
        "heavily on its assumption about the missing scores."
        if low
        else ""
    )
    if related:
        return (
            "Dropout is related to what was recorded: "
            + "; ".join(related)
            + ". Follow-up scores are therefore not missing completely at random, and results "
            "from completers only are likely to be biased. Report the all-available-data mixed "
            "model or multiple imputation that includes these variables as the main result, "
            "with completers alongside; both assume the scores are missing at random given the "
            "recorded information, which these data cannot confirm." + tail
        )
    n_nc = c["n_noncompleters"]
    lr_txt = f" (logistic model of dropout: {format_p(lr)})" if np.isfinite(lr) else ""
    return (
        f"There is no evidence that dropout is related to baseline {outcome} or to "
        f"the characteristics tested{lr_txt}. This is consistent with scores missing "
        f"completely at random but does not prove it: with {n_nc} non-completer(s) a modest "
        f"difference could go undetected (baseline d = {base['effect']:.2f}), and dropout "
        "linked to the unseen follow-up scores cannot be detected from these data. The "
        "all-available-data mixed model remains the safer main analysis." + tail
    )


@renamed_params(child="person_id")
@validate_params(
    {
        **LONG_TABLE,
        "followup": WAVE_LABEL,
        "baseline": WAVE_LABEL,
        "demographics": [Columns(empty=True)],
        "waves": [ArrayLike(), None],
        "higher_is_better": ["boolean", None],
        "alpha": PROBABILITY,
        "confidence": PROBABILITY,
    }
)
def attrition(
    data: pd.DataFrame,
    outcome: str,
    wave: str,
    *,
    person_id: str,
    followup: object = None,
    baseline: object = None,
    demographics: Sequence[str] = (),
    waves: Sequence | None = None,
    higher_is_better: bool | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> AttritionResult:
    """Compare children who completed follow-up with those who did not.

    Args:
        data: long table, one row per child per wave (as for :func:`fit_mixed`).
        outcome, wave, person_id: the score, wave and child id columns (``person_id`` was
            ``child``; the old name still works, with a ``DeprecationWarning``).
        followup: the follow-up wave that defines completion (default: the last wave).
        baseline: the baseline wave (default: the first).
        demographics: child-level columns to compare (text/categorical, or numeric: numeric
            with more than five distinct values is compared with Welch's t). A child's value
            is taken from its earliest record where it is recorded.
        higher_is_better: the outcome's direction, used only to word the verdict.
        alpha: the significance level used in the verdict.

    Returns:
        :class:`AttritionResult`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({
        ...     "child": [1, 2, 3, 4, 5, 6, 7, 1, 2, 3],
        ...     "wave": [0] * 7 + [12] * 3,
        ...     "score": [10, 12, 14, 15, 17, 19, 21, 8, 9, 13]})
        >>> res = attrition(df, "score", "wave", person_id="child")
        >>> res.completion["n_completers"], round(float(res.tests.loc[0, "statistic"]), 4)
        (3, 3.4641)
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    child = person_id
    demographics = [demographics] if isinstance(demographics, str) else list(demographics)
    _check_columns(data, [outcome, wave, child, *demographics], "attrition")
    prep = prepare(
        data, outcome, wave, child=child, waves=waves, baseline=baseline, what="attrition"
    )
    order = prep.waves
    if followup is None:
        followup = order[-1]
    try:
        followup = resolve_wave(followup, order, column=wave, what="follow-up wave")
    except DataStructureError as e:
        raise DataStructureError(f"attrition: {e}") from None
    fu = order.index(followup)
    if fu == prep.base_pos:
        raise OutcomesError("attrition: the follow-up wave must differ from the baseline wave")
    fr = prep.frame
    base_scores = fr.loc[fr["_w"] == prep.base_pos].set_index("_child")["_y"]
    fu_children = set(fr.loc[fr["_w"] == fu, "_child"])
    all_children = pd.unique(data[child])
    n_no_baseline = int(len(set(all_children) - set(base_scores.index)))
    ch = pd.DataFrame({"baseline": base_scores})
    ch["completed"] = ch.index.isin(fu_children)
    if demographics:
        # Each child's value from its earliest record where recorded.
        src = data.assign(_wpos=wave_positions(data[wave], order)).sort_values(
            "_wpos", kind="stable"
        )
        first = src.groupby(child, sort=False)[demographics].first()
        ch = ch.join(first, how="left")
    ch.index.name = child

    done = ch["completed"]
    n, k = len(ch), int(done.sum())
    lo, hi = wilson_ci(k, n)
    completion = {
        "n_children": n,
        "n_completers": k,
        "n_noncompleters": n - k,
        "rate": k / n,
        "ci_low": float(lo),
        "ci_high": float(hi),
    }
    rows = [_continuous_row(f"baseline {outcome}", ch["baseline"], done)]
    levels, kinds = [], {}
    for d in demographics:
        col = ch[d]
        if not _is_categorical(col) and col.nunique() > _MAX_CATEGORIES:
            kinds[d] = "numeric"
            rows.append(_continuous_row(d, col, done))
        else:
            kinds[d] = "categorical"
            row, lev = _categorical_row(d, col, done)
            rows.append(row)
            levels.append(lev)
    tests = pd.DataFrame(rows)
    for c in ("mean_completers", "mean_noncompleters"):
        if c not in tests:
            tests[c] = np.nan
    tests = tests[TEST_COLUMNS + ["mean_completers", "mean_noncompleters"]]
    by_level = (
        pd.concat(levels, ignore_index=True)
        if levels
        else pd.DataFrame(
            columns=["variable", "level", "n", "completed", "rate", "ci_low", "ci_high"]
        )
    )
    logistic, notes = _logistic(ch, demographics, kinds, confidence)
    verdict = _verdict(completion, tests, logistic, outcome, higher_is_better, alpha)
    quality = QualityRecord()
    for why, count in prep.excluded.items():
        if count:
            quality.add(
                "attrition", why, where=outcome, rows=count, action="rows left out", warn=False
            )
    if n_no_baseline:
        quality.add(
            "attrition",
            "no baseline score",
            where=outcome,
            rows=n_no_baseline,
            action="children left out of the comparison",
            warn=False,
        )
    for _, r in tests[tests["note"] != ""].iterrows():
        quality.add("attrition", r["note"], where=r["variable"], action="see .tests", warn=False)
    for msg in notes:
        quality.add("attrition", msg, where=outcome, action="see .logistic", warn=False)
    return AttritionResult(
        outcome=outcome,
        baseline_wave=prep.baseline,
        followup_wave=followup,
        children=ch,
        completion=completion,
        tests=tests,
        by_level=by_level,
        logistic=logistic,
        verdict=verdict,
        warnings=notes,
        alpha=alpha,
        n_no_baseline=n_no_baseline,
        quality=quality,
    )
