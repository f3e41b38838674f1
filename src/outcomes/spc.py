"""Statistical process control in the NHS England "Making Data Count" style.

XmR charts (individuals with the moving range) and p-charts show a monthly measure against
its own natural variation; four special-cause rules say where a change is more than noise;
the variation and assurance icons say it in the words NHS boards use. Funnel plots compare
units of different size (schools, teams) against one overall rate with exact binomial limits.

Conventions (Making Data Count, "Statistical process control tool" guidance):

* XmR: centre = mean; moving range mR_i = |x_i - x_{i-1}|; limits = mean +/- 2.66 * mean(mR)
  (2.66 = 3 / d2 with d2 = 1.128 for ranges of two points), so sigma = 2.66 * mR-bar / 3.
* p-chart: centre p-bar = sum(events) / sum(totals); each point's limits
  p-bar +/- 3 * sqrt(p-bar (1 - p-bar) / n_i), cut to [0, 1].
* Special causes: a point beyond a limit; a run of 7 (or 6) points on one side of the mean (a
  point on the mean breaks the run); a trend of 6 points each higher (or each lower) than the
  one before (an equal value breaks the trend); two of three consecutive points beyond
  2 sigma on the same side.
* Funnel limits for a unit of size n around the overall rate p0: the exact binomial quantiles
  ``binom.ppf(a/2, n, p0) / n`` and ``binom.ppf(1 - a/2, n, p0) / n`` for 95% and 99.8%.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._internal.params import FINITE, Interval, Options, validate_params
from .errors import InvalidParameterError

__all__ = [
    "RULES",
    "assurance",
    "funnel",
    "funnel_limits",
    "p_chart",
    "special_causes",
    "variation",
    "xmr",
]

#: the special-cause rules, in the order they are checked and shown
RULES = ("beyond_limits", "run", "trend", "two_of_three")
#: 3 / d2 for moving ranges of two points (d2 = 1.128)
XMR_CONSTANT = 2.66

Improvement = Literal["up", "down"] | None
_RUN = Interval(Integral, 6, 7, closed="both")
_SERIES = ["array-like"]
_LIMIT = [FINITE, "array-like"]
_LABELS = ["array-like", None]
_IMPROVEMENT = [Options(str, {"up", "down"}), None]
_TREND = Interval(Integral, 5, 7, closed="both")


def _numbers(values: Sequence[float] | pd.Series | np.ndarray, name: str) -> np.ndarray:
    """Finite numbers only: a gap or a word in a chart's series is refused, never skipped."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name}: every value must be a number") from None
    if x.ndim != 1:
        raise InvalidParameterError(f"{name}: give one series of values, not a table")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise InvalidParameterError(
            f"{name}: {bad.size} value(s) missing or infinite (positions {bad[:5].tolist()}); "
            "a control chart needs every point (leave hidden months out and say so)"
        )
    return x


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
    """True at every point inside a stretch of at least ``length`` consecutive True values."""
    edge = np.diff(np.concatenate([[0], np.asarray(mask, np.int8), [0]]))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    long = ends - starts >= length
    # +1 where a long stretch starts, -1 where it ends: inside one the running sum is 1
    mark = np.zeros(len(mask) + 1, np.int64)
    mark[starts[long]] += 1
    mark[ends[long]] -= 1
    return np.cumsum(mark)[: len(mask)] > 0


@validate_params(
    {
        "values": _SERIES,
        "centre": _LIMIT,
        "lower": _LIMIT,
        "upper": _LIMIT,
        "run_length": [_RUN],
        "trend_length": [_TREND],
    }
)
def special_causes(
    values: Sequence[float] | np.ndarray,
    centre: float | Sequence[float] | np.ndarray,
    lower: float | Sequence[float] | np.ndarray,
    upper: float | Sequence[float] | np.ndarray,
    *,
    run_length: int = 7,
    trend_length: int = 6,
) -> pd.DataFrame:
    """Which points each Making Data Count special-cause rule marks.

    Columns ``beyond_limits``, ``run``, ``trend``, ``two_of_three`` (True where the rule marks
    the point), ``side`` (+1 above the mean, -1 below, 0 on it; for a trend point, the trend's
    direction) and ``special`` (any rule). ``centre``, ``lower`` and ``upper`` are one number
    or one per point (a p-chart's limits vary with n). Two of three: the points beyond
    2 sigma (a third of the way in from the limit) when at least two of three consecutive
    points are beyond it on the same side.

    Example
    -------
    >>> f = special_causes([5, 5, 5, 5, 5, 5, 5, 12], centre=6, lower=1, upper=11)
    >>> f["run"].tolist()[:7], bool(f["beyond_limits"].iloc[7])
    ([True, True, True, True, True, True, True], True)
    """
    x = _numbers(values, "values")
    n = len(x)
    c = np.broadcast_to(_numbers(np.atleast_1d(centre), "centre"), (n,)) if n else np.array([])
    lo = np.broadcast_to(_numbers(np.atleast_1d(lower), "lower"), (n,)) if n else c
    hi = np.broadcast_to(_numbers(np.atleast_1d(upper), "upper"), (n,)) if n else c
    side = np.sign(x - c).astype(int)
    beyond = (x > hi) | (x < lo)
    run = _runs(side > 0, run_length) | _runs(side < 0, run_length)
    # a trend of k points is k - 1 consecutive rises (or falls)
    step = np.sign(np.diff(x)) if n > 1 else np.array([])
    trend = np.zeros(n, bool)
    trend_side = np.zeros(n, int)
    for direction in (1, -1):
        rises = _runs(step == direction, trend_length - 1)
        marked = np.zeros(n, bool)
        marked[1:] |= rises
        marked[:-1] |= rises
        trend |= marked
        trend_side[marked] = direction
    # beyond 2 sigma: two thirds of the way from the centre to the limit
    high2 = x > c + 2 * (hi - c) / 3
    low2 = x < c - 2 * (c - lo) / 3
    two = np.zeros(n, bool)
    for near in (high2, low2):
        if n < 3:
            continue
        # windows i..i+2 with two or more points beyond 2 sigma mark those points
        hit = near[:-2].astype(int) + near[1:-1] + near[2:] >= 2
        covered = np.zeros(n, bool)
        for k in range(3):
            covered[k : k + n - 2] |= hit
        two |= near & covered
    side_out = np.where(trend & ~(beyond | run | two), trend_side, side)
    out = pd.DataFrame({"beyond_limits": beyond, "run": run, "trend": trend, "two_of_three": two})
    out["side"] = side_out
    out["special"] = out[list(RULES)].any(axis=1)
    return out


def _direction(improvement: object) -> None:
    if improvement not in ("up", "down", None):
        raise InvalidParameterError(
            f"improvement must be 'up', 'down' or None (no direction), not {improvement!r}"
        )


@validate_params(
    {"values": _SERIES, "labels": _LABELS, "run_length": [_RUN], "trend_length": [_TREND]}
)
def xmr(
    values: Sequence[float] | pd.Series | np.ndarray,
    labels: Sequence[object] | None = None,
    *,
    run_length: int = 7,
    trend_length: int = 6,
) -> pd.DataFrame:
    """An XmR (individuals and moving range) chart of one series, with special causes.

    Columns: ``label``, ``value``, ``moving_range`` (NaN at the first point), ``mean``,
    ``lower``, ``upper`` (mean -/+ 2.66 x mean moving range) and the columns of
    :func:`special_causes`. Making Data Count advises at least 12 points (15-20 better) before
    the limits are trusted; fewer than 2 points is refused.

    Example
    -------
    >>> c = xmr([10, 12, 11, 13])  # mR = 2, 1, 2: mR-bar 5/3; mean 11.5
    >>> round(float(c["upper"].iloc[0]), 3)  # 11.5 + 2.66 * 5/3
    15.933
    """
    x = _numbers(values, "values")
    if len(x) < 2:
        raise InvalidParameterError(f"values: an XmR chart needs at least 2 points, not {len(x)}")
    labels = list(range(1, len(x) + 1)) if labels is None else list(labels)
    if len(labels) != len(x):
        raise InvalidParameterError(f"labels: {len(labels)} labels for {len(x)} values")
    mr = np.abs(np.diff(x))
    mean, mr_bar = float(x.mean()), float(mr.mean())
    lo, hi = mean - XMR_CONSTANT * mr_bar, mean + XMR_CONSTANT * mr_bar
    flags = special_causes(x, mean, lo, hi, run_length=run_length, trend_length=trend_length)
    out = pd.DataFrame(
        {
            "label": labels,
            "value": x,
            "moving_range": np.r_[np.nan, mr],
            "mean": mean,
            "lower": lo,
            "upper": hi,
        }
    )
    return pd.concat([out, flags], axis=1)


@validate_params(
    {
        "events": _SERIES,
        "totals": _SERIES,
        "labels": _LABELS,
        "run_length": [_RUN],
        "trend_length": [_TREND],
    }
)
def p_chart(
    events: Sequence[float] | pd.Series | np.ndarray,
    totals: Sequence[float] | pd.Series | np.ndarray,
    labels: Sequence[object] | None = None,
    *,
    run_length: int = 7,
    trend_length: int = 6,
) -> pd.DataFrame:
    """A p-chart of a proportion (events out of totals per period), with special causes.

    Columns: ``label``, ``events``, ``total``, ``value`` (the proportion), ``mean`` (p-bar, the
    pooled proportion), ``lower`` and ``upper`` (p-bar -/+ 3 sqrt(p-bar (1 - p-bar) / n), cut
    to 0 and 1) and the columns of :func:`special_causes`.

    Example
    -------
    >>> c = p_chart([10, 20], [100, 100])  # p-bar 0.15; 3 * sqrt(0.15 * 0.85 / 100) = 0.1071
    >>> round(float(c["upper"].iloc[0]), 4)
    0.2571
    """
    k, n = _numbers(events, "events"), _numbers(totals, "totals")
    if len(k) != len(n):
        raise InvalidParameterError(f"events ({len(k)}) and totals ({len(n)}) differ in length")
    if (n <= 0).any() or (k < 0).any() or (k > n).any():
        raise InvalidParameterError(
            "totals must be positive and events between 0 and the total in every period"
        )
    labels = list(range(1, len(k) + 1)) if labels is None else list(labels)
    if len(labels) != len(k):
        raise InvalidParameterError(f"labels: {len(labels)} labels for {len(k)} periods")
    p = k / n
    pbar = float(k.sum() / n.sum())
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    lo, hi = np.clip(pbar - 3 * sigma, 0, 1), np.clip(pbar + 3 * sigma, 0, 1)
    flags = special_causes(p, pbar, lo, hi, run_length=run_length, trend_length=trend_length)
    out = pd.DataFrame(
        {"label": labels, "events": k, "total": n, "value": p, "mean": pbar,
         "lower": lo, "upper": hi}
    )  # fmt: skip
    return pd.concat([out, flags], axis=1)


@validate_params({"chart": ["dataframe"], "improvement": _IMPROVEMENT})
def variation(chart: pd.DataFrame, improvement: Improvement = None) -> str:
    """The Making Data Count variation icon for the latest point of a chart.

    ``"common cause"`` when no rule marks the latest point; otherwise ``"special cause
    improving"`` or ``"special cause concerning"`` by the side it lies on and the direction
    of improvement (``"up"`` or ``"down"``), or ``"special cause (no direction)"`` without one.

    Example
    -------
    >>> variation(xmr([5, 5, 5, 5, 5, 5, 5, 30]), improvement="down")
    'special cause concerning'
    """
    _direction(improvement)
    if chart.empty:
        raise InvalidParameterError("chart: an empty chart has no latest point")
    last = chart.iloc[-1]
    if not bool(last["special"]):
        return "common cause"
    if improvement is None or int(last["side"]) == 0:
        return "special cause (no direction)"
    good = (int(last["side"]) > 0) == (improvement == "up")
    return "special cause improving" if good else "special cause concerning"


@validate_params({"chart": ["dataframe"], "target": [FINITE, None], "improvement": _IMPROVEMENT})
def assurance(chart: pd.DataFrame, target: float | None, improvement: Improvement) -> str | None:
    """The Making Data Count assurance icon: can the process be relied on to meet the target?

    ``"consistently passes target"`` when both limits (of the latest point) lie on the good
    side of the target, ``"consistently fails target"`` when both lie on the bad side, and
    ``"hit and miss"`` when the target lies between them. None without a target.

    Example
    -------
    >>> assurance(xmr([10, 12, 11, 13]), target=20, improvement="down")  # limits 7.1 to 15.9
    'consistently passes target'
    """
    _direction(improvement)
    if target is None:
        return None
    if improvement is None:
        raise InvalidParameterError("improvement: a target needs a direction ('up' or 'down')")
    if isinstance(target, bool) or not np.isfinite(float(target)):
        raise InvalidParameterError(f"target must be a finite number, not {target!r}")
    lo, hi = float(chart["lower"].iloc[-1]), float(chart["upper"].iloc[-1])
    if improvement == "up":
        passes, fails = lo > target, hi < target
    else:
        passes, fails = hi < target, lo > target
    return (
        "consistently passes target"
        if passes
        else "consistently fails target"
        if fails
        else "hit and miss"
    )


_LEVEL = Interval(Real, 0, 1, closed="neither")


@validate_params({"p0": [Interval(Real, 0, 1, closed="both")], "n": _SERIES, "level": [_LEVEL]})
def funnel_limits(p0: float, n: Sequence[float] | np.ndarray, level: float) -> tuple:
    """Exact binomial funnel limits around a rate ``p0`` for units of size ``n``.

    ``binom.ppf((1 - level) / 2, n, p0) / n`` and ``binom.ppf((1 + level) / 2, n, p0) / n``:
    the rates a unit of that size would fall between with probability ``level`` if its true
    rate were ``p0``.

    Example
    -------
    >>> lo, hi = funnel_limits(0.2, [50], 0.95)  # binom.ppf(.025, 50, .2) = 5, (.975) = 16
    >>> float(lo[0]), float(hi[0])
    (0.1, 0.32)
    """
    if isinstance(p0, bool) or not 0 <= float(p0) <= 1:
        raise InvalidParameterError(f"p0 must be a proportion between 0 and 1, not {p0!r}")
    n = _numbers(np.atleast_1d(n), "n")
    if (n <= 0).any():
        raise InvalidParameterError("n: every unit needs a positive size")
    a = 1 - level
    return (
        stats.binom.ppf(a / 2, n, p0) / n,
        stats.binom.ppf(1 - a / 2, n, p0) / n,
    )


@validate_params({"events": _SERIES, "totals": _SERIES, "labels": ["array-like"]})
def funnel(
    events: Sequence[float] | pd.Series | np.ndarray,
    totals: Sequence[float] | pd.Series | np.ndarray,
    labels: Sequence[object],
) -> pd.DataFrame:
    """A funnel plot table: each unit's rate against its size, with the overall rate and the
    95% and 99.8% exact binomial limits (:func:`funnel_limits`).

    ``position`` says where the unit lies: ``"above 99.8%"``, ``"above 95%"``, ``"within"``,
    ``"below 95%"`` or ``"below 99.8%"`` (a point on a limit counts as within).

    Example
    -------
    >>> # overall rate 0.4; for n = 50, 95% limits 13/50 to 27/50, 99.8% limits 10/50 to 31/50
    >>> f = funnel([10, 30], [50, 50], ["a", "b"])
    >>> f["position"].tolist()
    ['below 95%', 'above 95%']
    """
    k, n = _numbers(events, "events"), _numbers(totals, "totals")
    labels = list(labels)
    if not len(k) == len(n) == len(labels):
        raise InvalidParameterError(
            f"events ({len(k)}), totals ({len(n)}) and labels ({len(labels)}) differ in length"
        )
    if len(k) == 0 or (n <= 0).any() or (k < 0).any() or (k > n).any():
        raise InvalidParameterError(
            "funnel needs at least one unit, positive totals and events between 0 and the total"
        )
    p0 = float(k.sum() / n.sum())
    rate = k / n
    out = pd.DataFrame({"label": labels, "events": k, "total": n, "rate": rate, "overall": p0})
    for level, tag in ((0.95, "95"), (0.998, "99_8")):
        out[f"lower_{tag}"], out[f"upper_{tag}"] = funnel_limits(p0, n, level)
    out["position"] = np.select(
        [
            rate > out["upper_99_8"],
            rate > out["upper_95"],
            rate < out["lower_99_8"],
            rate < out["lower_95"],
        ],
        ["above 99.8%", "above 95%", "below 99.8%", "below 95%"],
        "within",
    )
    return out
