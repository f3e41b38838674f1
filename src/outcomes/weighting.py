"""Survey weights: respondents weighted to school rolls, and design-based standard errors.

Pupils do not answer a school survey at random: one year group may be surveyed in a lesson
that another misses, and boys may answer less often than girls. A prevalence computed from
the respondents then leans towards the groups that answered. Weighting gives each respondent
the number of pupils on the roll that he or she stands for:

- **post-stratification** (:func:`poststratify`): weight = pupils on the roll in the cell /
  respondents in the cell, cells being e.g. year group x gender (within each school when the
  roll table has a school column). Needs the joint counts.
- **raking** (:func:`rake`, iterative proportional fitting, Deming & Stephan 1940): only the
  margins are known (pupils per year group, pupils per gender); the weights are adjusted to
  each margin in turn until all hold. Raking removes the bias when response depends on the
  margins' main effects (no interaction), which is the usual assumption.

:func:`weighted_mean` gives the weighted (ratio) estimate with its Taylor-linearisation
standard error, schools as primary sampling units (sampled with replacement), the estimator
R's ``survey::svymean`` uses for ``svydesign(ids = ~school, weights = ~w)``. The weights are
treated as fixed (the small variance reduction that calibration brings is not claimed, so the
interval is, if anything, a little wide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._internal.columns import check_frame
from ._internal.params import (
    COLUMN,
    POSITIVE,
    POSITIVE_COUNT,
    PROBABILITY,
    ArrayLike,
    Columns,
    validate_params,
)
from ._internal.quality import QualityRecord
from ._internal.text import unknown
from .errors import DataStructureError, OutcomesError

__all__ = ["poststratify", "rake", "weighted_mean"]


def _cell_keys(frame: pd.DataFrame, cells: list[str]) -> pd.Series:
    """One text key per row for its cell (missing where any cell value is missing)."""
    miss = frame[cells].isna().any(axis=1)
    # column by column (vectorised), not row by row: the same text as " | ".join per row
    key = frame[cells[0]].astype(str)
    for c in cells[1:]:
        key = key + " | " + frame[c].astype(str)
    return key.where(~miss)


def _unweighted_rows(
    data: pd.DataFrame, cells: list[str], quality: QualityRecord, source: str
) -> np.ndarray:
    miss = data[cells].isna().any(axis=1).to_numpy()
    if miss.any():
        quality.add(
            source,
            f"respondents with no {' / '.join(cells)} cannot be weighted",
            where=", ".join(cells),
            rows=int(miss.sum()),
            action="weight left empty: excluded from weighted estimates",
        )
    return miss


@validate_params(
    {
        "data": "dataframe",
        "population": "dataframe",
        "cells": Columns(),
        "count": COLUMN,
    }
)
def poststratify(
    data: pd.DataFrame,
    population: pd.DataFrame,
    *,
    cells: Sequence[str] = ("year_group", "gender"),
    count: str = "count",
) -> pd.Series:
    """Post-stratification weights: pupils on the roll per cell / respondents per cell.

    ``population`` has the ``cells`` columns (add ``school_id`` to ``cells`` to weight within
    each school) and ``count``, the pupils on the roll in that cell. A respondent whose cell is
    not on the roll, or a cell of the roll with no respondent, is an error (collapse cells
    instead: a weight cannot be invented). Respondents with a missing cell value get no weight
    (NaN), counted in the series' ``attrs["quality"]``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"gender": ["girl"] * 3 + ["boy"]})
        >>> roll = pd.DataFrame({"gender": ["girl", "boy"], "count": [30, 30]})
        >>> poststratify(df, roll, cells=["gender"]).tolist()
        [10.0, 10.0, 10.0, 30.0]
    """
    cells = [cells] if isinstance(cells, str) else list(cells)
    check_frame(data, cells, what="poststratify (respondents)")
    check_frame(population, [*cells, count], what="poststratify (population)")
    quality = QualityRecord()
    miss = _unweighted_rows(data, cells, quality, "weighting.poststratify")
    pop = population.assign(_key=_cell_keys(population, cells).to_numpy())
    if pop["_key"].isna().any():
        raise DataStructureError("poststratify: the population table has a missing cell value")
    if pop["_key"].duplicated().any():
        dup = pop.loc[pop["_key"].duplicated(), "_key"].tolist()[:3]
        raise DataStructureError(f"poststratify: population cells listed twice: {dup}")
    totals = pop.set_index("_key")[count]
    _check_counts(totals, count)
    key = _cell_keys(data, cells)
    n_resp = key.value_counts()
    off_roll = sorted(set(n_resp.index) - set(totals.index))
    if off_roll:
        raise DataStructureError(
            f"poststratify: {unknown('cell', off_roll[0], totals.index)} "
            f"({int(n_resp[off_roll].sum())} respondent(s) in cells not on the roll: {off_roll[:5]})"
        )
    empty = [k for k in totals.index if k not in n_resp.index and totals[k] > 0]
    if empty:
        raise DataStructureError(
            f"poststratify: {len(empty)} cell(s) of the roll have no respondent ({empty[:5]}); "
            "collapse them with a neighbouring cell or rake to the margins instead"
        )
    w = key.map(totals / n_resp).astype(float)
    w[miss] = np.nan
    out = pd.Series(w.to_numpy(), index=data.index, name="weight")
    out.attrs["weighting"] = f"post-stratified to the roll by {' x '.join(cells)}"
    out.attrs["quality"] = quality
    return out


def _check_counts(totals: pd.Series, count: str) -> None:
    num = pd.to_numeric(totals, errors="coerce")
    if num.isna().any() or (num < 0).any() or not np.isfinite(num).all():
        raise OutcomesError(
            f"population column {count!r} must hold non-negative numbers of pupils; got "
            f"{totals[num.isna() | (num < 0)].tolist()[:5]}"
        )


@validate_params(
    {
        "data": "dataframe",
        "margins": Mapping,
        "max_iter": POSITIVE_COUNT,
        "tol": POSITIVE,
    }
)
def rake(
    data: pd.DataFrame,
    margins: Mapping[str, Mapping | pd.Series],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> pd.Series:
    """Raking weights (iterative proportional fitting) to known population margins.

    ``margins`` maps each column to its population counts by level, e.g.
    ``{"year_group": {7: 180, 8: 175}, "gender": {"girl": 170, "boy": 185}}``. Each round
    scales the weights so that their total in every level of one margin equals the
    population count, margin after margin, until no total is off by more than ``tol``
    (relative) or ``max_iter`` rounds have passed (an error: the margins may contradict each
    other, e.g. different grand totals). Levels must match the data exactly (did-you-mean
    otherwise); a level with no respondent cannot be weighted and is an error.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"year": [7, 7, 8, 8], "gender": ["g", "b", "g", "g"]})
        >>> w = rake(df, {"year": {7: 50, 8: 50}, "gender": {"g": 60, "b": 40}})
        >>> w.groupby(df["year"]).sum().tolist(), w.groupby(df["gender"]).sum().tolist()
        ([50.0, 50.0], [40.0, 60.0])
    """
    if not isinstance(margins, Mapping) or not margins:
        raise OutcomesError("rake: margins must map at least one column to its population counts")
    cols = list(margins)
    check_frame(data, cols, what="rake")
    quality = QualityRecord()
    miss = _unweighted_rows(data, cols, quality, "weighting.rake")
    codes, targets = {}, {}
    for col in cols:
        if not isinstance(margins[col], Mapping | pd.Series):
            raise OutcomesError(
                f"rake: margins[{col!r}] must give population counts by level (a dict or "
                f"Series), not {type(margins[col]).__name__}"
            )
        given = pd.Series(margins[col])
        _check_counts(given, f"margins[{col!r}]")
        levels = list(given.index)
        idx = _level_index(data.loc[~miss, col], levels, col)
        seen = np.bincount(idx, minlength=len(levels))
        absent = [lv for lv, s, t in zip(levels, seen, given, strict=True) if s == 0 and t > 0]
        if absent:
            raise DataStructureError(
                f"rake: level(s) {absent} of {col!r} have pupils on the roll but no respondent; "
                "merge them with a neighbouring level"
            )
        codes[col], targets[col] = idx, given.to_numpy()
    totals = {c: t.sum() for c, t in targets.items()}
    if max(totals.values()) - min(totals.values()) > 1e-9 * max(totals.values()):
        raise OutcomesError(f"rake: the margins have different grand totals: {totals}")
    w = np.ones(int((~miss).sum()))
    for _ in range(max_iter):
        worst = 0.0
        for col in cols:
            have = np.bincount(codes[col], weights=w, minlength=len(targets[col]))
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = np.where(have > 0, targets[col] / have, 1.0)
            worst = max(worst, float(np.max(np.abs(factor - 1.0))))
            w = w * factor[codes[col]]
        if worst < tol:
            break
    else:
        raise OutcomesError(
            f"rake: the weights did not settle in {max_iter} rounds (largest adjustment "
            f"{worst:.2g}); check that the margins describe one population"
        )
    full = np.full(len(data), np.nan)
    full[~miss] = w
    out = pd.Series(full, index=data.index, name="weight")
    out.attrs["weighting"] = f"raked to the population margins of {', '.join(cols)}"
    out.attrs["quality"] = quality
    return out


def _level_index(values: pd.Series, levels: list, col: str) -> np.ndarray:
    """Position in ``levels`` of each value (the first level :func:`_same` matches), matched
    once per distinct value and type rather than once per row."""
    arr = values.to_numpy()
    codes, uniques = pd.factorize(arr, use_na_sentinel=False)
    if arr.dtype == object:
        # 1, 1.0 and True hash alike but need not match the same level (1 vs "1.0")
        kinds, _ = pd.factorize(pd.Series(arr).map(type).to_numpy())
        codes, first = pd.factorize(codes * (kinds.max() + 1) + kinds)
        reps = arr[_first_positions(codes, len(first))]
    else:
        reps = np.asarray(uniques, dtype=object)
    level_of = np.empty(len(reps), np.int64)
    for j, v in enumerate(reps):
        match = next((i for i, lv in enumerate(levels) if _same(v, lv)), None)
        if match is None:
            raise DataStructureError(
                f"rake: {unknown(f'level of {col!r}', v, levels)} (no population count)"
            )
        level_of[j] = match
    return level_of[codes]


def _first_positions(codes: np.ndarray, n: int) -> np.ndarray:
    first = np.full(n, len(codes), np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b) or str(a) == str(b)
    except (TypeError, ValueError):
        return False


@validate_params(
    {
        "y": ArrayLike(scores=True),
        "weights": ArrayLike(scores=True),
        "cluster": [ArrayLike(), None],
        "confidence": PROBABILITY,
    }
)
def weighted_mean(
    y: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    cluster: Sequence | np.ndarray | None = None,
    *,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Weighted mean (a prevalence for 0/1 ``y``) with its design-based standard error.

    Taylor linearisation of the ratio sum(w y) / sum(w): z_i = w_i (y_i - mean) / sum(w),
    summed within each school (primary sampling unit; each respondent is its own unit when
    ``cluster`` is None); var = G / (G - 1) * sum_c z_c^2 over the G schools. The interval is
    mean +/- t(G - 1) * se. Rows with a missing ``y`` or weight are left out.

    Example (by hand: mean 5/6, z by school -4/36 and 4/36, var = 2 * 32/1296, se = 8/36):
        >>> r = weighted_mean([1, 0, 1, 1], [1, 1, 2, 2], ["a", "a", "b", "b"])
        >>> round(r["estimate"], 6), round(r["se"], 6)
        (0.833333, 0.222222)
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    if y.shape != w.shape:
        raise OutcomesError("weighted_mean: y and weights differ in length")
    if (w[np.isfinite(w)] < 0).any():
        raise OutcomesError("weighted_mean: weights must not be negative")
    ok = np.isfinite(y) & np.isfinite(w)
    cl = (
        np.arange(len(y))
        if cluster is None
        else pd.factorize(pd.Series(np.asarray(cluster, dtype=object)))[0]
    )
    ok &= cl >= 0
    y, w, cl = y[ok], w[ok], cl[ok]
    total = w.sum()
    out = dict(estimate=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, n=int(len(y)))
    out.update(n_clusters=int(len(np.unique(cl))), n_eff=np.nan, weight_total=float(total))
    if len(y) == 0 or total <= 0:
        return out
    est = float((w * y).sum() / total)
    z = np.bincount(pd.factorize(cl)[0], weights=w * (y - est) / total)
    g = len(z)
    out.update(estimate=est, n_eff=float(total**2 / (w**2).sum()))
    if g < 2:
        return out
    se = float(np.sqrt(g / (g - 1) * np.sum((z - z.mean()) ** 2)))
    t = stats.t.ppf(0.5 + confidence / 2, g - 1)
    out.update(se=se, ci_low=est - t * se, ci_high=est + t * se)
    return out
