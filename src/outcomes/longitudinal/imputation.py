"""Multiple imputation of missing follow-ups, and completers vs all-available results.

:func:`impute_change` estimates the mean change from baseline to a follow-up wave four ways,
side by side:

1. completers only: paired t on children with both scores (valid only if follow-ups are
   missing completely at random);
2. all available data: the mixed model of :func:`outcomes.longitudinal.fit_mixed` on every
   observed score (intention-to-treat; valid under missing at random given the model);
3. multiple imputation with statsmodels ``MICE``: the analysis model
   ``(follow-up - baseline) ~ 1`` by OLS on each imputed dataset, pooled;
4. multiple imputation + mixed model: the same imputed datasets reshaped to long form, the
   mixed model fitted to each, pooled with Rubin's rules here (statsmodels' MICE cannot pool
   MixedLM).

Imputation is by chained equations (statsmodels ``MICEData``) on a wide table, one row per
child: the score at every wave (intermediate waves inform the final one), the covariates and
any auxiliary variables. Each of the m datasets comes from its own chain. By default each
variable is drawn from a Bayesian linear regression on the others (R mice's "norm"); predictive
mean matching (statsmodels' own, ``method="pmm"``) runs short of donors when the children lost
are those least like any completer, and then imputes too little change and too little spread.

Rubin's rules (Rubin 1987; Barnard & Rubin 1999 small-sample df), for m estimates Q_l with
variances U_l::

    Q = mean(Q_l);  W = mean(U_l);  B = var(Q_l, ddof=1);  T = W + (1 + 1/m) B
    lambda = (1 + 1/m) B / T;  r = (1 + 1/m) B / W
    nu_old = (m - 1) / lambda^2;  nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)
    nu = nu_old * nu_obs / (nu_old + nu_obs);  fmi = (r + 2 / (nu + 3)) / (r + 1)

and the interval is Q +/- t(nu) sqrt(T).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._internal.params import (
    COLUMN,
    POSITIVE_COUNT,
    PROBABILITY,
    SEED,
    WAVE_LABEL,
    ArrayLike,
    Columns,
    Interval,
    Options,
    renamed_params,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord, with_notes
from .._internal.waves import resolve_wave
from ..errors import DataStructureError, OutcomesError
from .mixed import (
    LONG_TABLE,
    LongitudinalWarning,
    _check_columns,
    _label,
    fit_from_prepared,
    prepare,
)

__all__ = ["ImputationResult", "impute_change", "pool_rubin"]

# how many of the imputed data sets' fits said a thing: counts of fits, not of children
_FITS = NoteTemplate("{k} of {m} imputed-data mixed-model fits", values=["k", "m"])

#: Columns of :meth:`ImputationResult.to_frame`.
TABLE_COLUMNS = [
    "analysis",
    "assumes",
    "n_children",
    "n_followup_observed",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "p",
    "fmi",
    "m",
]


@validate_params(
    {
        "estimates": ArrayLike(scores=True),
        "variances": ArrayLike(scores=True),
        "df_complete": Interval(Real, 0, np.inf, closed="right"),
        "confidence": PROBABILITY,
    }
)
def pool_rubin(
    estimates: Sequence[float],
    variances: Sequence[float],
    *,
    df_complete: float = np.inf,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Pool m estimates of one quantity with Rubin's rules and Barnard-Rubin degrees of freedom.

    ``variances`` are the squared standard errors from each imputed dataset; ``df_complete``
    is the residual df the analysis would have had without missing data (infinite gives
    Rubin's 1987 df).

    Example (hand-worked: Q = 2, W = 1, B = 1, T = 1 + 4/3, lambda = 4/7, df = 2 / (4/7)^2):
        >>> r = pool_rubin([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
        >>> round(r["estimate"], 4), round(r["se"] ** 2, 4), round(r["df"], 4)
        (2.0, 2.3333, 6.125)
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    if q.ndim != 1 or q.shape != u.shape:
        raise OutcomesError("pool_rubin: estimates and variances must be 1-d and the same length")
    m = len(q)
    if m < 2:
        raise OutcomesError("pool_rubin: need at least two imputed datasets")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(u)) and np.all(u >= 0)):
        raise OutcomesError("pool_rubin: estimates and variances must be finite, variances >= 0")
    if not df_complete > 0:
        raise OutcomesError(f"pool_rubin: df_complete must be positive, not {df_complete!r}")
    qbar, w, b = q.mean(), u.mean(), q.var(ddof=1)
    t = w + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t if t > 0 else 0.0
    riv = (1 + 1 / m) * b / w if w > 0 else np.inf
    nu_old = (m - 1) / lam**2 if lam > 0 else np.inf
    if np.isinf(df_complete):
        nu = nu_old
    else:
        nu_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        nu = nu_obs if np.isinf(nu_old) else nu_old * nu_obs / (nu_old + nu_obs)
    fmi = (riv + 2 / (nu + 3)) / (riv + 1) if np.isfinite(riv) else 1.0
    se = float(np.sqrt(t))
    crit = (
        stats.t.ppf(0.5 + confidence / 2, nu)
        if np.isfinite(nu)
        else stats.norm.ppf(0.5 + confidence / 2)
    )
    tstat = qbar / se if se > 0 else np.nan
    p = 2 * (stats.t.sf(abs(tstat), nu) if np.isfinite(nu) else stats.norm.sf(abs(tstat)))
    return {
        "estimate": float(qbar),
        "se": se,
        "ci_low": float(qbar - crit * se),
        "ci_high": float(qbar + crit * se),
        "df": float(nu),
        "p": float(p),
        "within": float(w),
        "between": float(b),
        "total": float(t),
        "lambda": float(lam),
        "riv": float(riv),
        "fmi": float(fmi),
        "m": m,
    }


def _norm_draw(
    y: np.ndarray, X: np.ndarray, X_miss: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Bayesian linear regression imputation (Rubin 1987 p. 167; van Buuren 2018 alg. 3.1).

    sigma^2 = RSS / g with g ~ chi^2(n - p); beta ~ N(beta_hat, sigma^2 (X'X)^-1);
    imputed = X_miss beta + N(0, sigma^2). Drawing both makes the imputations proper.
    """
    n, p = X.shape
    # A tiny ridge (as R's mice, 1e-5 of the diagonal) keeps X'X invertible.
    xtx = X.T @ X
    xtx_inv = np.linalg.inv(xtx + 1e-5 * np.diag(np.diag(xtx)) + 1e-12 * np.eye(p))
    beta = xtx_inv @ (X.T @ y)
    rss = float(np.sum((y - X @ beta) ** 2))
    sigma2 = rss / rng.chisquare(max(n - p, 1))
    chol = np.linalg.cholesky((xtx_inv + xtx_inv.T) / 2)
    draw = beta + np.sqrt(sigma2) * (chol @ rng.standard_normal(p))
    return X_miss @ draw + np.sqrt(sigma2) * rng.standard_normal(len(X_miss))


def _chain_class(method: str):
    """statsmodels' ``MICEData`` with the designs of its default conditional models built
    directly; with ``method="norm"``, Bayesian normal draws in place of PMM."""
    from statsmodels.imputation.mice import MICEData

    class DirectMICEData(MICEData):
        """statsmodels' ``MICEData``; where a variable's conditional model is the default one
        (every other column as a main effect) and every column is a number, its response and
        design are taken from the data directly: statsmodels evaluates the formula with patsy
        on every update (about a third of an imputation's time on the report's demo), and for
        numeric columns patsy's design is the intercept then the columns in formula order,
        the same numbers.

        While :meth:`update_all` runs with every imputed variable taken directly, the data are
        held as one array (a row per column) that the updates read and write, and written to
        ``data`` once at the end: a pandas write and a fresh array of every column per update
        cost more than the draws on the report's demo."""

        #: the data by column while update_all holds them (None: ``data`` is current)
        _held: np.ndarray | None = None

        def fork(self, rng: np.random.Generator) -> DirectMICEData:
            """A chain of its own from this one's state, drawing from ``rng``: what a new
            ``MICEData`` of the same data would be (its set-up draws nothing), without
            repeating the set-up (the initial imputation's pandas steps) per chain."""
            new = copy.copy(self)
            for name, value in vars(self).items():
                if isinstance(value, dict | list):  # the per-variable settings and results
                    setattr(new, name, copy.copy(value))
            new.data = self.data.copy()
            new.rng = rng
            return new

        def _numbers(self) -> np.ndarray | None:
            """Every column as floats, one row per column, or None where patsy would not
            give the same design (text, booleans, extension dtypes, missing values)."""
            if self._held is not None:
                return self._held
            dtypes = list(self.data.dtypes)
            # patsy makes booleans and text categorical; extension dtypes are left to it
            if not all(isinstance(d, np.dtype) and d.kind in "fiu" for d in dtypes):
                return None
            # by column, as pandas holds a float block: patsy's designs reach the fits as
            # column-major arrays, and a row-major copy changes the rounding of X'X
            values = np.array([self.data[c].to_numpy(dtype=float) for c in self.data.columns])
            if np.isnan(values).any():  # patsy would drop the row
                return None
            return values

        def _direct(self, vname: str) -> tuple[np.ndarray, np.ndarray] | None:
            """The response and the design transposed (one row per term), or None."""
            others = [c for c in self.data.columns if c != vname]
            if self.conditional_formula[vname] != vname + " ~ " + " + ".join(others):
                return None
            values = self._numbers()
            if values is None:
                return None
            j = self.data.columns.get_loc(vname)
            design = np.empty((len(others) + 1, values.shape[1]))
            design[0] = 1.0
            design[1:] = np.delete(values, j, axis=0)
            return values[j], design

        def _holdable(self) -> np.ndarray | None:
            """The data as an array if every update of a cycle can work on it alone: each
            imputed variable's design direct and without extra arguments, stored as float64
            (as the frame would store it), and no history callback reading the frame."""
            if self.history_callback is not None:
                return None
            for v in self._cycle_order:
                if (
                    self.data[v].dtype != np.float64
                    or v in self.predict_kwds
                    or self.init_kwds[v]
                    or self.fit_kwds[v]
                    or self._direct(v) is None
                ):
                    return None
            return self._numbers()

        def update_all(self, n_iter=1):
            held = self._holdable()
            if held is None:
                return super().update_all(n_iter)
            self._held = held
            try:
                super().update_all(n_iter)
            finally:
                self._held = None
                # as _store_changes writes, once per variable
                for v in self._cycle_order:
                    j = self.data.columns.get_loc(v)
                    ix = self.ix_miss[v]
                    self.data.iloc[ix, j] = held[j, ix]

        def _store_changes(self, col, vals):
            if self._held is None:
                return super()._store_changes(col, vals)
            ix = self.ix_miss[col]
            if len(ix) > 0:
                self._held[self.data.columns.get_loc(col), ix] = np.atleast_1d(vals)

        def get_split_data(self, vname):
            direct = self._direct(vname)
            if direct is None or vname in self.predict_kwds:
                return super().get_split_data(vname)
            endog, design = direct
            ixo, ixm = self.ix_obs[vname], self.ix_miss[vname]
            take = design.take  # C order (fancy indexing need not be), so its .T is column-major
            return endog[ixo][:, None], take(ixo, axis=1).T, take(ixm, axis=1).T, {}, {}

        def get_fitting_data(self, vname):
            direct = self._direct(vname)
            if direct is None or self.init_kwds[vname] or self.fit_kwds[vname]:
                return super().get_fitting_data(vname)
            endog, design = direct
            ix = self.ix_obs[vname]
            return endog[ix], design.take(ix, axis=1).T, {}, {}

    if method != "norm":
        return DirectMICEData

    class NormMICEData(DirectMICEData):
        """statsmodels' chained equations with Bayesian normal draws in place of PMM."""

        def update(self, vname):
            y_obs, x_obs, x_miss, _, _ = self.get_split_data(vname)
            if len(x_miss) == 0:
                return
            vals = _norm_draw(
                np.asarray(y_obs, float).ravel(),
                np.asarray(x_obs, float),
                np.asarray(x_miss, float),
                self.rng,
            )
            self._store_changes(vname, vals)

    return NormMICEData


def _impute_chains(
    to_impute: pd.DataFrame,
    f: str,
    b: str,
    *,
    method: str,
    m: int,
    cycles: int,
    donors: int,
    seed: int | None,
) -> tuple[list[pd.DataFrame], list[float], list[float], set[str]]:
    """m chains of ``cycles`` MICE cycles each, and the OLS change ``f - b`` on the last
    cycle of each: the imputed data, the m estimates and their variances, and the first lines
    of the warnings met."""
    from .._internal import sm

    n = len(to_impute)
    datasets, ests, vars_ = [], [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # every chain starts from the same state (MICEData's set-up draws nothing): set up once
        start = _chain_class(method)(to_impute, k_pmm=max(1, min(donors, n - 1)))
        for stream in np.random.SeedSequence(seed).spawn(m):
            imp = start.fork(np.random.default_rng(stream))
            # what MICE(f"I({f} - {b}) ~ 1", OLS, imp, n_skip=cycles - 1).next_sample() does,
            # with the response and the intercept handed to OLS as patsy would build them
            # (patsy's formula evaluation cost more than the fit). MICE.fit would pool too,
            # but its combine() fails for a one-parameter model; pooled by the caller.
            imp.update_all(cycles)
            d = imp.data
            r = sm.OLS((d[f] - d[b]).to_numpy(dtype=float), np.ones((len(d), 1))).fit()
            ests.append(float(r.params[0]))
            vars_.append(float(r.bse[0]) ** 2)
            datasets.append(d.copy())
    return datasets, ests, vars_, {str(c.message).split(chr(10))[0] for c in caught}


@dataclass
class ImputationResult:
    """Result of :func:`impute_change`: the four analyses side by side (``table``).

    ``imputations``: the m imputed wide tables (one row per child; columns ``child``, the
    scores per wave and the covariates), for checking the imputations against observed data.
    ``warnings``: problems met on the way (e.g. mixed-model fits with boundary warnings).
    ``quality``: the same as notes, with the rows and children left out and why.
    """

    outcome: str
    baseline_wave: object
    followup_wave: object
    table: pd.DataFrame
    m: int
    seed: int | None
    imputations: list[pd.DataFrame] = field(repr=False)
    warnings: list[str]
    excluded: dict[str, int]
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lev = f"{round(self.confidence * 100)}%"
        t = self.table.set_index("analysis")
        parts = [
            f"Change in {self.outcome} from {_wave_text(self.baseline_wave)} to "
            f"{_wave_text(self.followup_wave)}:"
        ]
        for name, r in t.iterrows():
            parts.append(
                f"{name} (n = {int(r['n_children'])}, {int(r['n_followup_observed'])} observed "
                f"at follow-up): {r['estimate']:+.2f} ({lev} CI {r['ci_low']:+.2f} to "
                f"{r['ci_high']:+.2f});"
            )
        comp = t.iloc[0]["estimate"]
        others = t.iloc[1:]["estimate"].to_numpy(float)
        gap = float(np.nanmax(np.abs(others - comp))) if len(others) else np.nan
        se_ref = float(t.iloc[1:]["se"].min()) if len(others) else np.nan
        if np.isfinite(gap) and gap > se_ref:
            verdict = (
                f"The completers-only estimate differs from the analyses using all children by up "
                f"to {gap:.2f} points (more than one standard error), so who dropped out matters: "
                "prefer the all-available or imputation estimates, which assume scores are "
                "missing at random given the recorded data."
            )
        else:
            verdict = (
                "The analyses agree within a standard error, so the conclusion does not depend "
                "on how the missing follow-ups are handled (under missing at random)."
            )
        text = " ".join(parts).rstrip(";") + ". " + verdict
        if self.warnings:
            text += " Warnings: " + "; ".join(self.warnings) + "."
        return with_notes(text, self.quality, shown=self.warnings)

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Forest plot of the four estimates with their CIs; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        t = self.table
        y = np.arange(len(t))[::-1]
        est = t["estimate"].to_numpy(float)
        err = np.vstack([est - t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float) - est])
        ax.errorbar(est, y, xerr=err, fmt="o", capsize=4)
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.set_yticks(y, t["analysis"].tolist())
        ax.set_xlabel(
            f"change in {self.outcome}, {_wave_text(self.followup_wave)} minus "
            f"{_wave_text(self.baseline_wave)} ({round(self.confidence * 100)}% CI)"
        )
        ax.figure.tight_layout()
        return ax

    def __repr__(self) -> str:
        return f"ImputationResult({self.outcome!r}, m={self.m}, {len(self.table)} analyses)"


def _wave_text(w: object) -> str:
    return f"wave {_label(w)}" if isinstance(w, int | float | np.integer | np.floating) else str(w)


def _child_level(data, child, columns, order_pos) -> pd.DataFrame:
    """Each child's value of each column from its earliest record where it is recorded."""
    src = data.assign(_wpos=order_pos).sort_values("_wpos", kind="stable")
    return src.groupby(child, sort=False)[list(columns)].first()


def _numeric_block(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Numeric columns for the imputation model: numbers as they are, categories as dummies.

    Names are plain identifiers (``c0``, ``c1_0`` ...) because MICE writes them into formulas.
    """
    cols = {}
    for j, c in enumerate(frame.columns):
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            cols[f"{prefix}{j}"] = s.to_numpy(dtype=float, na_value=np.nan)
            continue
        levels = sorted(pd.unique(s.dropna()).tolist(), key=str)
        for k, lev in enumerate(levels[1:]):
            cols[f"{prefix}{j}_{k}"] = np.where(s.isna(), np.nan, (s == lev).astype(float))
    return pd.DataFrame(cols, index=frame.index)


def _completers(wide: pd.DataFrame, b: str, f: str, confidence: float) -> dict:
    both = wide[[b, f]].dropna()
    d = (both[f] - both[b]).to_numpy(float)
    n = len(d)
    if n < 2:
        raise OutcomesError("impute_change: fewer than two children have both scores")
    res = stats.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(confidence)
    return {
        "estimate": float(d.mean()),
        "se": float(d.std(ddof=1) / np.sqrt(n)),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "df": float(n - 1),
        "p": float(res.pvalue),
        "fmi": np.nan,
        "m": np.nan,
        "n_children": n,
        "n_followup_observed": n,
    }


@renamed_params(child="person_id", school="cluster")
@validate_params(
    {
        **LONG_TABLE,
        "followup": WAVE_LABEL,
        "baseline": WAVE_LABEL,
        "covariates": [Columns(empty=True)],
        "auxiliary": [Columns(empty=True)],
        "cluster": [COLUMN, None],
        "waves": [ArrayLike(), None],
        "m": Interval(Integral, 2, None),
        "method": Options(str, {"norm", "pmm"}),
        "cycles": POSITIVE_COUNT,
        "donors": POSITIVE_COUNT,
        "seed": SEED,
        "mixed": "boolean",
        "confidence": PROBABILITY,
    }
)
def impute_change(
    data: pd.DataFrame,
    outcome: str,
    wave: str,
    *,
    person_id: str,
    followup: object = None,
    baseline: object = None,
    covariates: Sequence[str] = (),
    auxiliary: Sequence[str] = (),
    cluster: str | None = None,
    waves: Sequence | None = None,
    m: int = 20,
    method: Literal["norm", "pmm"] = "norm",
    cycles: int = 10,
    donors: int = 5,
    seed: int | None = 0,
    mixed: bool = True,
    confidence: float = 0.95,
) -> ImputationResult:
    """Change from baseline to follow-up: completers, all available data and multiple imputation.

    Args:
        data: long table, one row per child per wave (as for :func:`fit_mixed`).
        outcome, wave, person_id: score, wave and child id columns (``person_id`` was
            ``child``; the old name still works, with a ``DeprecationWarning``).
        followup: the follow-up wave (default the last). baseline: default the first wave.
        covariates: child-level columns used in the imputation model and the mixed models.
            Children with a missing covariate are left out of every analysis (counted in
            ``excluded``) so that all four compare the same children.
        auxiliary: extra child-level columns used only to impute (e.g. attendance).
        cluster: school id column for the mixed models' second random intercept (was
            ``school``).
        m: number of imputed datasets, each from its own chain of ``cycles`` MICE cycles.
        method: ``"norm"`` (default): Bayesian linear regression imputation (draw sigma^2 and
            beta from their posterior, add residual noise), which extrapolates to the children
            unlike any completer; ``"pmm"``: statsmodels' predictive mean matching with
            ``donors`` donors (R mice: 5), which keeps observed values but runs short of
            donors in the tail where dropout is heaviest (see docs/longitudinal.md).
        seed: random seed (same seed, same answer). mixed: also run analyses 2 and 4.

    The analysis population is every child with a baseline score; children without one are
    left out (counted in ``excluded``).

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> n = 60
        >>> base = rng.normal(20, 4, n)
        >>> fu = base - 3 + rng.normal(0, 3, n)
        >>> fu[base > 23] = np.nan  # the most severe children miss follow-up
        >>> df = pd.DataFrame({"child": np.r_[np.arange(n), np.arange(n)],
        ...                    "wave": [0] * n + [12] * n, "score": np.r_[base, fu]})
        >>> res = impute_change(df, "score", "wave", person_id="child", m=5, mixed=False)
        >>> res.to_frame()["analysis"].tolist()
        ['completers: paired t', 'multiple imputation: OLS (MICE)']
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    child, school = person_id, cluster

    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    auxiliary = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    if m < 2:
        raise OutcomesError(f"impute_change: m must be at least 2, not {m!r}")
    if method not in ("norm", "pmm"):
        raise OutcomesError(f"impute_change: method must be 'norm' or 'pmm', not {method!r}")
    if cycles < 1:
        raise OutcomesError(f"impute_change: cycles must be at least 1, not {cycles!r}")
    if not 0 < confidence < 1:
        raise OutcomesError(f"impute_change: confidence must lie between 0 and 1, not {confidence}")
    _check_columns(
        data,
        [outcome, wave, child, *covariates, *auxiliary, *([school] if school else [])],
        "impute_change",
    )
    prep = prepare(
        data,
        outcome,
        wave,
        child=child,
        school=school,
        covariates=covariates,
        waves=waves,
        baseline=baseline,
        what="impute_change",
    )
    order = prep.waves
    followup = order[-1] if followup is None else followup
    try:
        followup = resolve_wave(followup, order, column=wave, what="follow-up wave")
    except DataStructureError as e:
        raise DataStructureError(f"impute_change: {e}") from None
    fu, bp = order.index(followup), prep.base_pos
    if fu == bp:
        raise OutcomesError("impute_change: the follow-up wave must differ from the baseline")

    fr = prep.frame
    with_base = pd.unique(fr.loc[fr["_w"] == bp, "_child"])
    # prepare() dropped rows with a missing covariate, so such children have no baseline row.
    raw_base = data[child][(data[wave] == order[bp]) & pd.to_numeric(data[outcome]).notna()]
    excluded = dict(prep.excluded)
    excluded["children without a baseline score"] = int(data[child].nunique() - raw_base.nunique())
    excluded["children left out for a missing covariate"] = int(raw_base.nunique() - len(with_base))
    fr = fr[fr["_child"].isin(set(with_base))]

    ypos = fr.pivot(index="_child", columns="_w", values="_y").reindex(
        index=with_base, columns=range(len(order))
    )
    ycols = [f"y{k}" for k in range(len(order))]
    ypos.columns = ycols
    empty = [order[k] for k in range(len(order)) if ypos[f"y{k}"].isna().all()]
    if empty:
        # Nothing to impute such a wave from; the user must decide what it means.
        raise OutcomesError(
            f"impute_change: no child with a baseline score has a score at wave(s) {empty!r}; "
            "drop those rows or choose another follow-up"
        )
    wpos = data[wave].map({w: i for i, w in enumerate(order)}).to_numpy()
    parts = [ypos]
    if covariates or auxiliary:
        lvl = _child_level(data, child, covariates + auxiliary, wpos).reindex(with_base)
        if covariates:
            parts.append(_numeric_block(lvl[covariates], "c"))
        if auxiliary:
            parts.append(_numeric_block(lvl[auxiliary], "a"))
    wide = pd.concat(parts, axis=1)
    b, f = f"y{bp}", f"y{fu}"
    n_obs_fu = int(wide[f].notna().sum())

    rows = [{"analysis": "completers: paired t", "assumes": "missing completely at random"}]
    rows[0].update(_completers(wide, b, f, confidence))
    notes: list[str] = []
    if mixed:
        prep_a = replace(prep, frame=fr)
        res = fit_from_prepared(
            prep_a, outcome=outcome, child=child, school=school, confidence=confidence
        )
        ch = res.change().set_index("wave").loc[followup]
        notes += [f"all-available mixed model: {w}" for w in res.warnings]
        rows.append(
            {
                "analysis": "all available: mixed model",
                "assumes": "missing at random given the model",
                "n_children": res.n_children,
                "n_followup_observed": n_obs_fu,
                "estimate": ch["estimate"],
                "se": ch["se"],
                "ci_low": ch["ci_low"],
                "ci_high": ch["ci_high"],
                "df": np.inf,
                "p": ch["p"],
                "fmi": np.nan,
                "m": np.nan,
            }
        )

    # --- multiple imputation: m independent chains (as R's mice), each run for `cycles`
    # MICE cycles, then the analysis model fitted to the last cycle's data.
    to_impute = wide.reset_index(drop=True)
    to_impute.columns = [str(c) for c in to_impute.columns]
    n = len(to_impute)
    datasets, ests, vars_, msgs = _impute_chains(
        to_impute, f, b, method=method, m=m, cycles=cycles, donors=donors, seed=seed
    )
    notes += [f"MICE: {w}" for w in msgs]
    pooled = pool_rubin(ests, vars_, df_complete=n - 1, confidence=confidence)
    rows.append(
        {
            "analysis": "multiple imputation: OLS (MICE)",
            "assumes": "missing at random given the imputation model",
            "n_children": n,
            "n_followup_observed": n_obs_fu,
            **{k: pooled[k] for k in ("estimate", "se", "ci_low", "ci_high", "df", "p", "fmi")},
            "m": m,
        }
    )

    children = np.asarray(with_base)
    imputations = []
    for d in datasets:
        out = d.copy()
        out.insert(0, "child", children)
        imputations.append(out)

    if mixed:
        e, v, fit_warn = [], [], {}
        first = fr.sort_values("_w", kind="stable").drop_duplicates("_child")
        first = first.set_index("_child").reindex(children)
        if school:
            sch = _child_level(data, child, [school], wpos).reindex(children)[school]
        for d in datasets:
            long = pd.DataFrame(
                {
                    "_y": d[ycols].to_numpy().ravel(),
                    "_w": np.tile(np.arange(len(order)), n),
                    "_child": np.repeat(children, len(order)),
                }
            )
            for c in covariates:
                long[c] = np.repeat(first[c].to_numpy(), len(order))
            if school:
                long["_school"] = np.repeat(sch.to_numpy(), len(order))
            r = fit_from_prepared(
                replace(prep, frame=long),
                outcome=outcome,
                child=child,
                school=school,
                confidence=confidence,
                what="impute_change",
            )
            chg = r.change().set_index("wave").loc[followup]
            e.append(float(chg["estimate"]))
            v.append(float(chg["se"]) ** 2)
            for w in r.warnings:
                fit_warn[w] = fit_warn.get(w, 0) + 1
        notes += [f"{_FITS(k=k, m=m)}: {w}" for w, k in fit_warn.items()]
        pm = pool_rubin(e, v, df_complete=n - 1, confidence=confidence)
        rows.append(
            {
                "analysis": "multiple imputation: mixed model",
                "assumes": "missing at random given the imputation model",
                "n_children": n,
                "n_followup_observed": n_obs_fu,
                **{k: pm[k] for k in ("estimate", "se", "ci_low", "ci_high", "df", "p", "fmi")},
                "m": m,
            }
        )
    table = pd.DataFrame(rows)[TABLE_COLUMNS]
    quality = QualityRecord()
    for why, count in excluded.items():
        if count:
            quality.add(
                "impute_change", why, where=outcome, rows=count, action="left out", warn=False
            )
    for w in notes:
        quality.add("impute_change", w, where=outcome, action="see .warnings", warn=False)
        warnings.warn(f"impute_change ({outcome}): {w}", LongitudinalWarning, stacklevel=2)
    return ImputationResult(
        outcome=outcome,
        baseline_wave=prep.baseline,
        followup_wave=followup,
        table=table,
        m=m,
        seed=seed,
        imputations=imputations,
        warnings=notes,
        excluded=excluded,
        confidence=confidence,
        quality=quality,
    )
