"""Repeated scores over waves: a linear mixed model with random intercepts.

A 12-month evaluation measures children at baseline, at 6 months, at 12 months (or any waves),
and many children miss a follow-up. Analysing only children with every score throws data away
and, when dropout depends on how a child was doing, biases the answer. A linear mixed model
uses every observed score; its estimates are unbiased when follow-ups are *missing at random*
given what is in the model (e.g. the baseline score), which is the standard "all available
data" (intention-to-treat) analysis.

Model (REML by default, or ML; fitted in closed form by :class:`outcomes._mixed.InterceptProfile`)::

    y_ij = x_ij' beta + u_school(i) + u_i + e_ij,   u_school ~ N(0, tau_s^2),
                                                    u_i ~ N(0, tau_c^2), e_ij ~ N(0, sigma^2)

with wave entering as dummies against the baseline wave, optional child-level covariates and
an optional group (e.g. programme vs comparison, or a subgroup) interacting with wave.

Estimated means per wave are ``L beta`` with ``L`` the average design row over children (each
child's first record) with the wave (and group) set; change from baseline is the difference
of two such rows. Intervals are Wald intervals, ``estimate +/- z * se``, as statsmodels reports.

Attrition analysis lives in :mod:`outcomes.longitudinal.attrition`; multiple imputation in
:mod:`outcomes.longitudinal.imputation`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._internal.columns import check_frame
from .._internal.params import (
    COLUMN,
    PROBABILITY,
    WAVE_LABEL,
    ArrayLike,
    Columns,
    Options,
    renamed_params,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord, with_notes
from .._internal.text import did_you_mean, format_p
from .._internal.waves import order_waves, resolve_wave
from .._mixed import InterceptProfile
from ..errors import DataStructureError, OutcomesError

__all__ = [
    "LongitudinalWarning",
    "MixedResult",
    "ModelSpecificationError",
    "fit_mixed",
    "wave_order",
]

#: Columns of :meth:`MixedResult.to_frame` (the first six are the public contract).
#: ``z`` is the Wald ratio estimate / se, referred to t(``df``) (Satterthwaite) or, with
#: ``df`` infinite, to the normal distribution.
FIXED_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "p", "z", "df"]

# A variance component below this share of the total variance is reported as on the boundary.
_BOUNDARY_SHARE = 1e-6
# the ICC at the boundary is 0, whatever the rule for a count of 0
_ON_BOUNDARY = NoteTemplate(
    "The {comp} variance is estimated at (or near) zero: the fit is on the boundary of the "
    "parameter space and the {comp2} ICC is 0"
)


#: The parameters naming a long table and its columns, shared by fit_mixed, attrition and
#: impute_change (checked by validate_params; the names follow docs/contributing.md).
LONG_TABLE = {"data": "dataframe", "outcome": COLUMN, "wave": COLUMN, "person_id": COLUMN}


class LongitudinalWarning(UserWarning):
    """A fit produced a warning (convergence, boundary, Hessian) worth reading."""


class ModelSpecificationError(OutcomesError):
    """The model cannot be estimated as asked (constant covariate, collinear terms, one group)."""


# ----------------------------------------------------------------------------- preparation
def _label(v: object) -> str:
    """Wave/level label for term names: 6.0 -> '6', 'Baseline' -> 'Baseline'."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _check_columns(data: object, columns: Sequence[str], what: str) -> pd.DataFrame:
    return check_frame(data, columns, what=what, distinct=True)


def _rows_named(data: pd.DataFrame, mask: np.ndarray, column: str, limit: int = 10) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(f"row {data.index[i]!r}: {data[column].iloc[i]!r}" for i in where[:limit])
    more = f" (and {len(where) - limit} more)" if len(where) > limit else ""
    return shown + more


def _numeric(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Float array of a column; text, booleans or infinities raise naming the rows."""
    s = data[column]
    if pd.api.types.is_bool_dtype(s.dtype):
        raise OutcomesError(f"{what}: column {column!r} holds true/false values, not scores")
    num = pd.to_numeric(s, errors="coerce")
    arr = num.to_numpy(dtype=float, na_value=np.nan)
    bad = (num.isna() & s.notna()).to_numpy() | np.isinf(arr)
    if bad.any():
        raise OutcomesError(
            f"{what}: column {column!r} has non-numeric or infinite values at "
            f"{_rows_named(data, bad, column)}"
        )
    return arr


def _no_missing_keys(data: pd.DataFrame, column: str, what: str) -> None:
    miss = data[column].isna().to_numpy()
    if miss.any():
        rows = ", ".join(repr(x) for x in data.index[miss][:10])
        raise DataStructureError(f"{what}: column {column!r} is missing at row(s) {rows}")


@validate_params(
    {
        "values": "series",
        "waves": [ArrayLike(), None],
    }
)
def wave_order(values: pd.Series, waves: Sequence | None = None) -> list:
    """The waves present, in time order.

    Numbers sort numerically; an ordered categorical keeps its order; text labels are ordered
    by the project's wave vocabulary (:mod:`outcomes._internal.waves`: a baseline name such as
    "baseline", "pre", "t0" first, then by months: "6 months", "12m", "1 year"; then "wave 2").
    Anything else needs ``waves=[...]`` spelled out.

    Example:
        >>> wave_order(pd.Series(["12 months", "baseline", "6 months"]))
        ['baseline', '6 months', '12 months']
    """
    present = pd.unique(values.dropna())
    if waves is not None:
        order = list(waves)
        if len(set(map(_label, order))) != len(order):
            raise DataStructureError(f"waves={order!r} lists a wave twice")
        unknown = [w for w in present if w not in order]
        if unknown:
            raise DataStructureError(
                f"wave value(s) {unknown[:10]!r} are not in waves={order!r} "
                f"({did_you_mean(unknown[0], order).removeprefix('; ')}); add them or drop "
                "those rows"
            )
        return [w for w in order if w in set(present)]
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        return [w for w in values.dtype.categories if w in set(present)]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return sorted(present.tolist())
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return sorted(present.tolist())
    by_label = {str(w): w for w in present}
    return [by_label[w] for w in order_waves(by_label, strict=True)]


def wave_positions(values: pd.Series, order: Sequence) -> np.ndarray:
    """Each value's position in ``order`` (from :func:`wave_order`, so every present wave is
    in it; -1 for a missing value): one lookup per distinct wave. ``Series.map`` with a dict
    built a Python object per cell (0.4 s of a million-row fit)."""
    codes, uniques = pd.factorize(values)
    pos_of = {w: i for i, w in enumerate(order)}
    lut = np.array([pos_of.get(w, -1) for w in uniques] + [-1], dtype=np.int64)
    return lut[codes]  # code -1 (missing) reads the appended -1


@dataclass
class _Covariate:
    name: str
    kind: str  # "numeric" | "categorical"
    levels: list = field(default_factory=list)  # categorical: reference first


@dataclass
class _Prepared:
    frame: pd.DataFrame  # analysis rows: _y, _w (wave position), _child, [_school], [_group], covs
    waves: list
    baseline: object
    base_pos: int
    wave_name: str
    group_name: str | None
    group_levels: list
    covariates: list[_Covariate]
    n_rows_in: int
    excluded: dict[str, int]


def _categorical_levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.dtype.categories if c in set(s.dropna())]
    vals = pd.unique(s.dropna())
    try:
        return sorted(vals.tolist())
    except TypeError:
        return sorted(vals.tolist(), key=str)


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)


def prepare(
    data: pd.DataFrame,
    outcome: str,
    wave: str,
    *,
    child: str,
    school: str | None = None,
    covariates: Sequence[str] = (),
    group: str | None = None,
    waves: Sequence | None = None,
    baseline: object = None,
    what: str = "fit_mixed",
) -> _Prepared:
    """Check a long table of repeated scores and put it in the shape the models need.

    Raises a clear error for missing columns, text in the score column, missing ids or waves,
    a child with two records at one wave, a single wave, a child in two schools or groups, and
    a constant covariate. Rows without a score (or with a missing covariate) are dropped and
    counted in ``excluded``.
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    roles = [outcome, wave, child, *([school] if school else []), *covariates]
    roles += [group] if group else []
    _check_columns(data, roles, what)
    y = _numeric(data, outcome, what)
    for key in [child, wave, *([school] if school else []), *([group] if group else [])]:
        _no_missing_keys(data, key, what)

    order = wave_order(data[wave], waves)
    wpos = wave_positions(data[wave], order)

    dup = pd.DataFrame({"c": data[child].to_numpy(), "w": wpos}).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = (
            pd.DataFrame({"c": data[child].to_numpy()[dup], "w": wpos[dup]})
            .drop_duplicates()
            .head(10)
        )
        shown = "; ".join(
            f"child {c!r} at wave {order[w]!r}" for c, w in zip(pairs["c"], pairs["w"], strict=True)
        )
        raise DataStructureError(
            f"{what}: more than one record for a child at one wave ({shown}); keep one record "
            "per child per wave"
        )

    for col, role in ((school, "school"), (group, "group")):
        if col is None:
            continue
        per_child = data.groupby(data[child], sort=False)[col].nunique()
        moved = per_child.index[per_child.to_numpy() > 1]
        if len(moved):
            raise DataStructureError(
                f"{what}: child(ren) {list(moved[:10])!r} have more than one {role} in column "
                f"{col!r}; a child must belong to one {role} (e.g. use the baseline {role})"
            )

    keep = ~np.isnan(y)
    excluded = {"score missing": int((~keep).sum())}
    cov_missing = np.zeros(len(y), dtype=bool)
    for c in covariates:
        if not _is_categorical(data[c]):
            _numeric(data, c, what)  # text in a numeric covariate is an error, not a drop
        cov_missing |= data[c].isna().to_numpy()
    excluded["covariate missing"] = int((keep & cov_missing).sum())
    keep &= ~cov_missing

    frame = pd.DataFrame(
        {"_y": y, "_w": wpos, "_child": data[child].to_numpy()}, index=data.index
    ).loc[keep]
    if school:
        frame["_school"] = data.loc[keep, school].to_numpy()
    for c in covariates:
        frame[c] = data.loc[keep, c].to_numpy()

    present = np.unique(frame["_w"].to_numpy())
    if len(present) < 2:
        only = [order[i] for i in present]
        raise DataStructureError(
            f"{what}: scores at only one wave ({only!r} in column {wave!r}); repeated measures "
            "need at least two waves"
        )
    empty = [order[i] for i in range(len(order)) if i not in set(present)]
    if empty:
        raise DataStructureError(
            f"{what}: no scores at wave(s) {empty!r} of column {wave!r}; drop those rows or "
            "the wave from waves="
        )
    if baseline is None:
        baseline = order[0]
    try:
        baseline = resolve_wave(baseline, order, column=wave, what="baseline wave")
    except DataStructureError as e:
        raise DataStructureError(f"{what}: {e}") from None
    if frame["_child"].nunique() < 2:
        raise DataStructureError(f"{what}: scores from fewer than two children")

    group_levels: list = []
    if group:
        g = data.loc[keep, group]
        group_levels = _categorical_levels(g)
        if len(group_levels) < 2:
            raise ModelSpecificationError(
                f"{what}: group column {group!r} has one level ({group_levels!r}) among the "
                "scored rows; drop group= or compare groups that are both present"
            )
        frame["_group"] = g.to_numpy()

    specs = []
    for c in covariates:
        col = frame[c]
        if _is_categorical(col):
            levels = _categorical_levels(col)
            if len(levels) < 2:
                raise ModelSpecificationError(
                    f"{what}: covariate {c!r} is constant ({levels!r}) among the scored rows; "
                    "it carries no information, drop it"
                )
            specs.append(_Covariate(c, "categorical", levels))
        else:
            vals = pd.to_numeric(col).to_numpy(dtype=float)
            if np.nanmax(vals) - np.nanmin(vals) <= 1e-12 * max(1.0, np.nanmax(np.abs(vals))):
                raise ModelSpecificationError(
                    f"{what}: covariate {c!r} is constant ({vals[0]!r}) among the scored rows; "
                    "it carries no information, drop it"
                )
            frame[c] = vals
            specs.append(_Covariate(c, "numeric"))

    return _Prepared(
        frame=frame,
        waves=order,
        baseline=baseline,
        base_pos=order.index(baseline),
        wave_name=wave,
        group_name=group,
        group_levels=group_levels,
        covariates=specs,
        n_rows_in=len(data),
        excluded=excluded,
    )


def _design(prep: _Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed-effects design matrix with readable term names (wave dummies vs baseline)."""
    n = len(frame)
    cols: dict[str, np.ndarray] = {"Intercept": np.ones(n)}
    wpos = frame["_w"].to_numpy()
    wave_cols = {}
    for i, w in enumerate(prep.waves):
        if i == prep.base_pos:
            continue
        name = f"{prep.wave_name}[{_label(w)}]"
        cols[name] = (wpos == i).astype(float)
        wave_cols[name] = cols[name]
    if prep.group_name:
        g = frame["_group"].to_numpy()
        for lev in prep.group_levels[1:]:
            gname = f"{prep.group_name}[{_label(lev)}]"
            cols[gname] = (g == lev).astype(float)
            for wname, wcol in wave_cols.items():
                cols[f"{wname}:{gname}"] = wcol * cols[gname]
    for spec in prep.covariates:
        if spec.kind == "numeric":
            cols[spec.name] = frame[spec.name].to_numpy(dtype=float)
        else:
            v = frame[spec.name].to_numpy()
            for lev in spec.levels[1:]:
                cols[f"{spec.name}[{_label(lev)}]"] = (v == lev).astype(float)
    return pd.DataFrame(cols, index=frame.index)


def _check_rank(X: pd.DataFrame, what: str) -> None:
    # columns scaled to unit length: raw, a covariate such as x + 1e9 beside the intercept
    # has a smallest singular value of ~1e-9 and read as collinear with it
    A = X.to_numpy(dtype=float)
    A = A / np.where((norm := np.linalg.norm(A, axis=0)) > 0, norm, 1.0)
    rank = np.linalg.matrix_rank(A)
    if rank == X.shape[1]:
        return
    # Name the first column that adds nothing to those before it.
    for j in range(1, X.shape[1] + 1):
        if np.linalg.matrix_rank(A[:, :j]) < j:
            raise ModelSpecificationError(
                f"{what}: term {X.columns[j - 1]!r} is a combination of earlier terms "
                f"({list(X.columns[: j - 1])!r}) among the scored rows; drop a covariate"
            )


def _check_identified(prep: _Prepared, what: str) -> None:
    """Refuse data whose school and child variances cannot be told apart (the profile would
    return one of many equally good splits, with a boundary warning that reads like an
    estimate). Within children, :func:`_check_within` does the same for the residual."""
    fr = prep.frame
    if "_school" in fr:
        kids = fr.groupby("_school", sort=False)["_child"].nunique()
        if len(kids) < 2:
            raise ModelSpecificationError(
                f"{what}: every scored child is in one school ({kids.index[0]}); a school "
                "variance needs at least two schools: drop cluster="
            )
        if (kids.to_numpy() == 1).all():
            raise ModelSpecificationError(
                f"{what}: every school has one scored child, so school and child variances "
                "cannot be told apart; drop cluster= (the child intercept covers both)"
            )


def _check_within(profile: InterceptProfile, y: np.ndarray, what: str) -> None:
    """Refuse a fit with nothing left within children to estimate the residual variance from
    (every child scored once beyond what the waves and covariates use up, or scores that do
    not vary within children): the child and residual variances cannot be told apart, or the
    residual is 0 and the standard errors and tests are undefined. Read from the profile's
    within-child rows, which it builds anyway."""
    dof, rss = profile.within_fit()
    if dof <= 0:
        raise ModelSpecificationError(
            f"{what}: no child has more scores than the waves and covariates use up (here "
            f"{profile.n} scores from {profile.n_children} children), so the child and "
            "residual variances cannot be told apart; a mixed model needs children scored at "
            "two or more waves"
        )
    scale = float(np.sum((y - y.mean()) ** 2))
    # what is left when the residual is 0 in exact arithmetic: the rounding of the scores'
    # own size (y + 1e9 leaves about 1e-7 a row), far below any residual the scores can hold
    eps = np.finfo(float).eps
    rounding = len(y) * (1e3 * eps * float(np.max(np.abs(y)))) ** 2
    if not rss > max(1e-20 * scale, rounding, np.finfo(float).tiny) or scale == 0:
        raise ModelSpecificationError(
            f"{what}: the scores do not vary within any child beyond what the waves and "
            "covariates explain"
            + (" (the score is constant)" if scale == 0 else "")
            + ": the residual variance is 0 and the model's standard errors and tests are "
            "undefined"
        )


# ----------------------------------------------------------------------------- fitting
@dataclass
class _Fit:
    params: pd.Series
    cov: pd.DataFrame
    variances: dict[str, float]
    converged: bool
    warnings: list[str]
    loglik: float
    method: str
    reml_model: InterceptProfile | None = None


def _fit(prep: _Prepared, X: pd.DataFrame, reml: bool, what: str) -> _Fit:
    """:class:`InterceptProfile` finds the variances (the global optimum of the profiled
    deviance, boundary included, with no start value) and the GLS fixed effects in O(N), and
    the Satterthwaite df from the same closed forms. statsmodels' MixedLM, used up to version
    0.1 for fewer than 20,000 rows, loops over children in Python (about 3 ms a row), could
    stop at a local optimum or just inside a zero variance, and needed Powell's method when its
    gradient methods stalled; the closed forms have none of these failure modes."""
    y = prep.frame["_y"].to_numpy(dtype=float)
    groups = {"child": pd.factorize(prep.frame["_child"])[0]}
    if "_school" in prep.frame:
        groups = {"school": pd.factorize(prep.frame["_school"])[0], **groups}
    profile = InterceptProfile(y, X.to_numpy(), groups, reml=reml)
    _check_within(profile, y, what)
    variances = profile.fit()
    beta, C = profile.fixed(variances)
    loglik = -profile.deviance(variances) / 2
    return _assemble(X, beta, C, variances, [], True, loglik, reml, profile if reml else None)


def _assemble(
    X: pd.DataFrame,
    beta: np.ndarray,
    C: np.ndarray,
    variances: dict[str, float],
    msgs: list[str],
    converged: bool,
    loglik: float,
    reml: bool,
    rm: InterceptProfile | None,
) -> _Fit:
    """The fit's tables and its boundary, convergence and standard-error messages."""
    params = pd.Series(beta, index=X.columns)
    cov = pd.DataFrame(C, index=X.columns, columns=X.columns)
    total = sum(variances.values())
    for comp, v in variances.items():
        if comp != "residual" and v <= _BOUNDARY_SHARE * total:
            msgs.append(_ON_BOUNDARY(comp=comp, comp2=comp))
    if not converged:
        msgs.insert(0, "The model did not converge; estimates may be unreliable")
    if not np.all(np.isfinite(np.diag(cov.to_numpy()))) or np.any(np.diag(cov.to_numpy()) < 0):
        msgs.append("Standard errors could not be computed for some fixed effects")
    return _Fit(
        params=params,
        cov=cov,
        variances=variances,
        converged=converged,
        warnings=msgs,
        loglik=loglik,
        method="REML" if reml else "ML",
        reml_model=rm,
    )


def _wald(
    est: np.ndarray, var: np.ndarray, confidence: float, df: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Wald CIs and p-values: t(df) where df is given (Satterthwaite), else normal."""
    se = np.sqrt(np.where(var >= 0, var, np.nan))
    df = np.full(len(est), np.inf) if df is None else np.asarray(df, dtype=float)
    # t with infinite df is the normal distribution
    crit = stats.t.ppf(0.5 + confidence / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = est / se
    return {
        "estimate": est,
        "se": se,
        "ci_low": est - crit * se,
        "ci_high": est + crit * se,
        "p": 2 * stats.t.sf(np.abs(zstat), df),
        "z": zstat,
        "df": df,
    }


# ----------------------------------------------------------------------------- result
@dataclass
class MixedResult:
    """Result of :func:`fit_mixed`.

    ``warnings`` lists every convergence, boundary or Hessian message from the fit (also shown
    by :meth:`summary` and raised as :class:`LongitudinalWarning`); an empty list means none.
    ``quality`` holds them as notes, with the rows left out of the model and why.
    """

    outcome: str
    wave: str
    waves: list
    baseline: object
    group: str | None
    groups: list
    child: str
    school: str | None
    covariates: list[str]
    params: pd.Series
    cov_params: pd.DataFrame
    variances: dict[str, float]
    converged: bool
    warnings: list[str]
    method: str
    loglik: float
    confidence: float
    n_records: int
    n_children: int
    n_schools: int | None
    n_by_wave: pd.DataFrame
    excluded: dict[str, int]
    _L: dict = field(repr=False, default_factory=dict)
    #: "satterthwaite" (t tests and CIs, as lmerTest) or "normal" (Wald z).
    df_method: str = "satterthwaite"
    _reml: InterceptProfile | None = field(repr=False, default=None)
    quality: QualityRecord = field(default_factory=QualityRecord)

    # -- tables
    def to_frame(self) -> pd.DataFrame:
        """One row per fixed-effect term: ``term, estimate, se, ci_low, ci_high, p, z, df``.

        ``se`` is lme4's: the square root of (X'V⁻¹X)⁻¹ at the REML estimates. ``df`` is the
        Satterthwaite df of the t test and CI (lmerTest), or infinite for normal (Wald z).
        """
        L = np.eye(len(self.params))
        cols = _wald(
            self.params.to_numpy(),
            np.diag(self.cov_params.to_numpy()),
            self.confidence,
            self._df(L),
        )
        return pd.DataFrame({"term": self.params.index.tolist(), **cols})[FIXED_COLUMNS]

    def _contrast(self, L: np.ndarray) -> dict[str, np.ndarray]:
        b = self.params.to_numpy()
        V = self.cov_params.to_numpy()
        est = L @ b
        var = np.einsum("ij,jk,ik->i", L, V, L)
        return _wald(est, var, self.confidence, self._df(L))

    def _df(self, L: np.ndarray) -> np.ndarray | None:
        """Satterthwaite df of each contrast row of ``L``, or None for normal tests."""
        if self.df_method != "satterthwaite" or self._reml is None:
            return None
        return self._reml.satterthwaite(self.variances, L)

    def _keys(self) -> list[tuple]:
        return list(self._L.keys())

    def wave_means(self) -> pd.DataFrame:
        """Model-estimated mean at each wave (per group) with CIs, beside the observed mean.

        Covariates are held at their average over children, so group means are adjusted to
        the same mix of children. ``observed_mean`` is the raw mean of the scores present at
        that wave: where it drifts from ``mean``, who is missing matters.
        """
        keys = self._keys()
        L = np.vstack([self._L[k] for k in keys])
        out = pd.DataFrame(self._contrast(L)).drop(columns=["p", "z"])
        out = out.rename(columns={"estimate": "mean"})
        out.insert(0, "wave", [self.waves[w] for _, w in keys])
        if self.group:
            out.insert(0, "group", [g for g, _ in keys])
        obs = self.n_by_wave.set_index(["group", "wave"] if self.group else ["wave"])
        idx = [(g, self.waves[w]) if self.group else self.waves[w] for g, w in keys]
        out["n_observed"] = obs["n_observed"].reindex(idx).to_numpy()
        out["observed_mean"] = obs["observed_mean"].reindex(idx).to_numpy()
        return out

    def change(self) -> pd.DataFrame:
        """Change from baseline at each later wave (per group): ``wave - baseline``, with CIs."""
        base = self.waves.index(self.baseline)
        rows, Ls = [], []
        for g, w in self._keys():
            if w == base:
                continue
            rows.append((g, self.waves[w]))
            Ls.append(self._L[(g, w)] - self._L[(g, base)])
        out = pd.DataFrame(self._contrast(np.vstack(Ls))).drop(columns=["z"])
        out.insert(0, "baseline", [self.baseline] * len(rows))
        out.insert(0, "wave", [w for _, w in rows])
        if self.group:
            out.insert(0, "group", [g for g, _ in rows])
        return out

    def change_difference(self) -> pd.DataFrame:
        """Difference in change from baseline between each group and the reference group."""
        if not self.group:
            raise ModelSpecificationError("change_difference: the model has no group= column")
        base = self.waves.index(self.baseline)
        ref = self.groups[0]
        rows, Ls = [], []
        for g in self.groups[1:]:
            for w in range(len(self.waves)):
                if w == base:
                    continue
                d = (self._L[(g, w)] - self._L[(g, base)]) - (
                    self._L[(ref, w)] - self._L[(ref, base)]
                )
                rows.append((g, self.waves[w]))
                Ls.append(d)
        out = pd.DataFrame(self._contrast(np.vstack(Ls))).drop(columns=["z"])
        out.insert(0, "reference", ref)
        out.insert(0, "wave", [w for _, w in rows])
        out.insert(0, "group", [g for g, _ in rows])
        return out

    def icc(self) -> pd.DataFrame:
        """Intra-class correlations from the variance components (conditional on the waves).

        ``child``: correlation of two scores of the same child, (tau_s^2 + tau_c^2) / total;
        ``school`` (when fitted): correlation of two children in the same school,
        tau_s^2 / total.
        """
        v = self.variances
        total = sum(v.values())
        rows = [
            {
                "level": "child",
                "icc": (v["child"] + v.get("school", 0.0)) / total,
                "definition": "correlation of two scores of one child",
            }
        ]
        if "school" in v:
            rows.append(
                {
                    "level": "school",
                    "icc": v["school"] / total,
                    "definition": "correlation of scores of two children in one school",
                }
            )
        return pd.DataFrame(rows)

    def variance_components(self) -> pd.DataFrame:
        """Estimated variances (and SDs) of the random intercepts and the residual."""
        comp = list(self.variances)
        var = np.array([self.variances[c] for c in comp])
        return pd.DataFrame({"component": comp, "variance": var, "sd": np.sqrt(var)})

    # -- words and pictures
    def summary(self) -> str:
        """Plain sentences for a report, warnings included."""
        lev = f"{round(self.confidence * 100)}%"
        re_part = "child and school" if self.school else "child"
        head = (
            f"Linear mixed model of {self.outcome} ({self.method}; random intercepts for "
            f"{re_part}) using all {self.n_records} available scores from {self.n_children} "
            f"children"
            + (f" in {self.n_schools} schools" if self.school else "")
            + (f", adjusted for {', '.join(self.covariates)}" if self.covariates else "")
            + "; standard errors (X'V⁻¹X)⁻¹ at the estimates as lme4, "
            + (
                "t tests and CIs on Satterthwaite degrees of freedom (as lmerTest)."
                if self._df(np.eye(len(self.params))) is not None
                else "normal (Wald z) tests and CIs."
            )
        )
        means = self.wave_means()
        change = self.change()
        parts = [head]
        for g in self.groups if self.group else [None]:
            m = means if g is None else means[means["group"] == g]
            c = change if g is None else change[change["group"] == g]
            who = "" if g is None else f" In group {g}, the"
            base = m[m["wave"] == self.baseline].iloc[0]
            text = (
                f"{who or ' The'} estimated mean was {base['mean']:.2f} ({lev} CI "
                f"{base['ci_low']:.2f} to {base['ci_high']:.2f}) at {_wave_text(self.baseline)}"
            )
            for _, r in c.iterrows():
                text += (
                    f"; change to {_wave_text(r['wave'])} {r['estimate']:+.2f} ({lev} CI "
                    f"{r['ci_low']:+.2f} to {r['ci_high']:+.2f}; {format_p(r['p'])})"
                )
            parts.append(text.strip() + ".")
        icc = self.icc().set_index("level")["icc"]
        parts.append(
            "ICC: "
            + ", ".join(f"{lvl} {val:.2f}" for lvl, val in icc.items())
            + ". These estimates assume that missing follow-ups are missing at random given "
            "the scores and covariates in the model."
        )
        if self.warnings:
            parts.append("Warnings from the fit: " + "; ".join(self.warnings) + ".")
        else:
            parts.append("The fit converged without warnings.")
        return with_notes(" ".join(parts), self.quality, shown=self.warnings)

    @validate_params(
        {
            "ax": ["ax", None],
            "observed": "boolean",
        }
    )
    def plot(self, ax=None, *, observed: bool = True):
        """Estimated means with CIs per wave (one line per group); observed means as crosses."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        means = self.wave_means()
        numeric = all(isinstance(w, int | float | np.integer | np.floating) for w in self.waves)
        xpos = {w: (float(w) if numeric else i) for i, w in enumerate(self.waves)}
        groups = self.groups if self.group else [None]
        offset = 0.0 if len(groups) == 1 else (0.02 * (max(xpos.values()) - min(xpos.values())))
        for k, g in enumerate(groups):
            m = means if g is None else means[means["group"] == g]
            x = m["wave"].map(xpos).to_numpy(dtype=float) + (k - (len(groups) - 1) / 2) * offset
            y = m["mean"].to_numpy(dtype=float)
            err = np.vstack([y - m["ci_low"].to_numpy(float), m["ci_high"].to_numpy(float) - y])
            line = ax.errorbar(
                x, y, yerr=err, marker="o", capsize=4, label=None if g is None else str(g)
            )
            if observed:
                ax.plot(
                    x, m["observed_mean"].to_numpy(float), "x", color=line[0].get_color(), alpha=0.7
                )
        ax.set_xticks([xpos[w] for w in self.waves], [_label(w) for w in self.waves])
        ax.set_xlabel(self.wave)
        ax.set_ylabel(f"{self.outcome} (estimated mean, {round(self.confidence * 100)}% CI)")
        ax.set_title(f"{self.outcome}: mixed model" + ("; x = observed mean" if observed else ""))
        if self.group:
            ax.legend(frameon=False, title=self.group)
        return ax

    def __repr__(self) -> str:
        return (
            f"MixedResult({self.outcome!r} ~ {self.wave!r}, {self.n_children} children, "
            f"{self.n_records} records, {len(self.warnings)} warning(s))"
        )


def _wave_text(w: object) -> str:
    return f"wave {_label(w)}" if isinstance(w, int | float | np.integer | np.floating) else str(w)


def _mean_rows(prep: _Prepared, children: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """Average design row for each (group, wave) with covariates at the children's average."""
    L = {}
    groups = prep.group_levels if prep.group_name else [None]
    for g in groups:
        for w in range(len(prep.waves)):
            cf = children.assign(_w=w)
            if g is not None:
                cf = cf.assign(_group=g)
            L[(g, w)] = _design(prep, cf).to_numpy().mean(axis=0)
    return L


def fit_from_prepared(
    prep: _Prepared,
    *,
    outcome: str,
    child: str,
    school: str | None,
    reml: bool = True,
    confidence: float = 0.95,
    what: str = "fit_mixed",
    ddf: str = "satterthwaite",
) -> MixedResult:
    """Fit the model to already-checked data (used by :mod:`outcomes.longitudinal.imputation`)."""
    X = _design(prep, prep.frame)
    _check_rank(X, what)
    _check_identified(prep, what)
    fit = _fit(prep, X, reml, what)
    fr = prep.frame
    # One row per child (its first record in wave order) defines the covariate mix.
    children = fr.sort_values("_w", kind="stable").drop_duplicates("_child")
    keys = ["_group", "_w"] if prep.group_name else ["_w"]
    nb = fr.groupby(keys, sort=True)["_y"].agg(n_observed="count", observed_mean="mean")
    nb = nb.reset_index()
    nb["wave"] = [prep.waves[w] for w in nb["_w"]]
    nb = nb.rename(columns={"_group": "group"}).drop(columns="_w")
    return MixedResult(
        outcome=outcome,
        wave=prep.wave_name,
        waves=prep.waves,
        baseline=prep.baseline,
        group=prep.group_name,
        groups=prep.group_levels,
        child=child,
        school=school,
        covariates=[c.name for c in prep.covariates],
        params=fit.params,
        cov_params=fit.cov,
        variances=fit.variances,
        converged=fit.converged,
        warnings=fit.warnings,
        method=fit.method,
        loglik=fit.loglik,
        confidence=confidence,
        n_records=len(fr),
        n_children=int(fr["_child"].nunique()),
        n_schools=int(fr["_school"].nunique()) if school else None,
        n_by_wave=nb,
        excluded=prep.excluded,
        _L=_mean_rows(prep, children),
        # Satterthwaite needs the REML deviance; ML fits are tested against the normal
        df_method=ddf if reml else "normal",
        _reml=fit.reml_model,
        quality=_fit_quality(prep.excluded, fit.warnings, what, outcome),
    )


def _fit_quality(
    excluded: dict[str, int], messages: list[str], what: str, outcome: str
) -> QualityRecord:
    """Rows left out of the model (by reason) and the fit's warnings, as notes."""
    q = QualityRecord()
    for why, n in excluded.items():
        if n:
            q.add(what, why, where=outcome, rows=n, action="rows left out of the model", warn=False)
    for msg in messages:
        q.add(what, msg, where=outcome, action="fit kept; estimates to read with care", warn=False)
    return q


@renamed_params(child="person_id", school="cluster")
@validate_params(
    {
        **LONG_TABLE,
        "cluster": [COLUMN, None],
        "covariates": [Columns(empty=True)],
        "group": [COLUMN, None],
        "waves": [ArrayLike(), None],
        "baseline": WAVE_LABEL,
        "reml": "boolean",
        "confidence": PROBABILITY,
        "ddf": Options(str, {"satterthwaite", "normal"}),
    }
)
def fit_mixed(
    data: pd.DataFrame,
    outcome: str,
    wave: str,
    *,
    person_id: str,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    group: str | None = None,
    waves: Sequence | None = None,
    baseline: object = None,
    reml: bool = True,
    confidence: float = 0.95,
    ddf: str = "satterthwaite",
) -> MixedResult:
    """Linear mixed model for repeated scores: random intercept per child (and school).

    Args:
        data: long table, one row per child per wave (rows without a score are allowed and
            dropped; they are counted in ``result.excluded``).
        outcome: the score column. wave: the wave column (numbers such as months, an ordered
            categorical, or text labels with ``waves=`` giving their order).
        person_id: child id column. cluster: school id column for a second random intercept.
            (The old names ``child`` and ``school`` still work, with a ``DeprecationWarning``.)
        covariates: child-level columns to adjust for (numeric, or text/categorical which
            become dummies against their first level). group: a column whose groups get their
            own change over time (``wave x group`` interaction), e.g. programme vs comparison.
        waves: the waves in time order; every wave in the data must be listed.
            baseline: the reference wave (default the first).
        reml: REML (default) or maximum likelihood. confidence: level of the Wald intervals.
        ddf: ``"satterthwaite"`` (default): t tests and CIs on Satterthwaite degrees of
            freedom, as R's lmerTest (REML fits only; ML fits use the normal); ``"normal"``:
            Wald z. Standard errors are lme4's, (X'V⁻¹X)⁻¹ at the REML estimates, either way.

    Returns:
        :class:`MixedResult` with ``to_frame()`` (fixed effects), ``wave_means()``,
        ``change()``, ``icc()``, ``warnings``, ``summary()`` and ``plot()``.

    Example (R's ``sleep`` data: the "group" column plays the wave):
        >>> import pandas as pd
        >>> sleep = pd.DataFrame({
        ...     "extra": [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0,
        ...               1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4],
        ...     "group": [1] * 10 + [2] * 10, "ID": list(range(1, 11)) * 2})
        >>> res = fit_mixed(sleep, "extra", "group", person_id="ID")
        >>> res.to_frame().set_index("term").loc["group[2]", ["estimate", "se"]].round(3).tolist()
        [1.58, 0.389]
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    child, school = person_id, cluster
    if not 0 < confidence < 1:
        raise OutcomesError(f"fit_mixed: confidence must lie between 0 and 1, not {confidence!r}")
    if ddf not in ("satterthwaite", "normal"):
        raise OutcomesError(f"fit_mixed: ddf must be 'satterthwaite' or 'normal', not {ddf!r}")
    prep = prepare(
        data,
        outcome,
        wave,
        child=child,
        school=school,
        covariates=covariates,
        group=group,
        waves=waves,
        baseline=baseline,
    )
    res = fit_from_prepared(
        prep,
        outcome=outcome,
        child=child,
        school=school,
        reml=reml,
        confidence=confidence,
        ddf=ddf,
    )
    for msg in res.warnings:
        warnings.warn(f"fit_mixed ({outcome}): {msg}", LongitudinalWarning, stacklevel=2)
    return res
