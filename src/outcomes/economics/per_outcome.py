"""Cost per output (child supported, contact, school) and per outcome achieved, with a
bootstrap confidence interval over children.

Cost per outcome is ``total cost / (children x share achieving the outcome)``. The share is
estimated from the children with outcome data; ``supported=`` says how many children the cost
covers (default: the children with outcome data, i.e. cost per *observed* outcome). Only the
share is uncertain, so the bootstrap resamples children's outcome indicators (scipy's
``bootstrap``, percentile or BCa, seeded). With per-child costs (e.g. contacts x unit cost)
children are resampled with their costs (a ratio of sums).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import stats

from .._internal.params import (
    COUNT,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    TEXT,
    ArrayLike,
    Interval,
    Options,
    check_value,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord
from .._internal.text import shown
from ..errors import DataStructureError, InvalidParameterError, OutcomesError

__all__ = ["CostPerOutcome", "cost_per_outcome", "cost_per_unit"]

COLUMNS = [
    "outcome", "estimate", "ci_low", "ci_high", "method", "confidence", "total_cost",
    "n_children", "n_achieved", "supported",
]  # fmt: skip


@validate_params(
    {
        "total_cost": NON_NEGATIVE,
        "units": Mapping,
    }
)
def cost_per_unit(total_cost: float, units: Mapping[str, float]) -> pd.DataFrame:
    """Cost per unit of output: one row per unit (``unit, n, cost_per``).

    Example:
        >>> cost_per_unit(120000, {"child supported": 400, "contact": 2400, "school": 12})
                    unit     n     cost_per
        0  child supported   400    300.000000
        1          contact  2400     50.000000
        2           school    12  10000.000000
    """
    total = check_value("total_cost", total_cost, NON_NEGATIVE)
    if not units:
        raise OutcomesError("cost_per_unit: give at least one unit, e.g. {'child supported': n}")
    rows = []
    for unit, n in units.items():
        count = check_value(f"units[{shown(unit)}]", n, NON_NEGATIVE)
        rows.append({"unit": str(unit), "n": n, "cost_per": total / count if count else np.nan})
    return pd.DataFrame(rows)


@dataclass
class CostPerOutcome:
    """Cost per child achieving an outcome, with its bootstrap interval."""

    outcome: str
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    confidence: float
    total_cost: float
    n_children: int
    n_achieved: int
    supported: float
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``outcome, estimate, ci_low, ci_high, method, confidence, total_cost,
        n_children, n_achieved, supported``."""
        return pd.DataFrame([{c: getattr(self, c) for c in COLUMNS}], columns=COLUMNS)

    def summary(self) -> str:
        """A sentence for a report (exact counts: publish through the report's release)."""
        if not np.isfinite(self.estimate):
            return f"Cost per {self.outcome}: not estimable (no child achieved it)."
        pct = int(round(self.confidence * 100))
        return (
            f"Cost per {self.outcome}: {self.estimate:,.0f} ({pct}% CI {self.ci_low:,.0f} to "
            f"{self.ci_high:,.0f}, {self.method} bootstrap), from {self.n_achieved} of "
            f"{self.n_children} children with outcome data."
        )


#: Resampled cells held at once by the bootstrap (n_resamples x children in batches of this
#: many cells, about 80 MB of indices): 2,000 resamples of a million children at once would
#: be 16 GB.
_RESAMPLED_CELLS = 10_000_000
# the least number of children, not a count of them
_TOO_FEW = NoteTemplate(
    "cost_per_outcome needs outcome data for at least {k} children", values=["k"]
)


def _leave_one_out(data: tuple, total: float, scale: float) -> np.ndarray:
    """The statistic with each child left out, in O(n): a ratio of sums (or a total over a
    share) minus one child's terms. scipy's BCa builds every jackknife sample, n x (n - 1)
    values (75 GB for 100,000 children)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if len(data) == 2:
            cost, ach = data
            return (cost.sum() - cost) / (ach.sum() - ach)
        (ach,) = data
        n = len(ach)
        return total / (scale * ((ach.sum() - ach) / (n - 1)))


def _bca(
    boot: np.ndarray, estimate: float, loo: np.ndarray, confidence: float
) -> tuple[float, float]:
    """Efron's BCa interval (Efron & Tibshirani 1993, 14.3 and 15.4): the bias correction from
    the share of the bootstrap distribution below the estimate (ties count half), the
    acceleration from the jackknife values ``loo``; the same arithmetic as scipy's
    ``bootstrap(method="BCa")`` (tested equal on the same resamples)."""
    from scipy.special import ndtr, ndtri

    B = boot.shape[-1]
    z0 = ndtri((np.count_nonzero(boot < estimate) + np.count_nonzero(boot <= estimate)) / (2 * B))
    n = float(len(loo))
    with np.errstate(invalid="ignore", over="ignore"):
        u = (n - 1) * (loo.mean() - loo)
        a = 1 / 6 * (np.sum(u**3) / n**3) / (np.sum(u**2) / n**2) ** 1.5
        z = float(ndtri((1 - confidence) / 2))
        alphas = [ndtr(z0 + (z0 + q) / (1 - a * (z0 + q))) for q in (z, -z)]
    if np.isnan(alphas).any():
        return np.nan, np.nan
    lo, hi = stats.quantile(boot, np.array(alphas))
    return float(lo), float(hi)


@validate_params(
    {
        "total_cost": [POSITIVE, None],
        "achieved": ArrayLike(),
        "outcome": TEXT,
        "supported": [POSITIVE, None],
        "child_costs": [ArrayLike(scores=True), None],
        "confidence": PROBABILITY,
        "method": Options(str, {"BCa", "percentile"}),
        "n_resamples": Interval(Integral, 100, None),
        "seed": COUNT,
    }
)
def cost_per_outcome(
    total_cost: float | None,
    achieved,
    *,
    outcome: str = "child with the outcome",
    supported: float | None = None,
    child_costs=None,
    confidence: float = 0.95,
    method: str = "BCa",
    n_resamples: int = 2000,
    seed: int = 0,
) -> CostPerOutcome:
    """Cost per child achieving an outcome (e.g. reliable improvement), with a bootstrap CI.

    ``achieved`` holds one True/False (or 1/0) per child with outcome data; missing values are
    refused (decide first whether a child without a follow-up counts). ``supported`` is the
    number of children the cost covers (default: the children in ``achieved``).
    ``child_costs``, aligned with ``achieved``, gives each child's own cost instead of one
    total (pass ``total_cost=None``): the estimate is then their sum over the children who
    achieved the outcome's count, and children are resampled with their costs.

    Example:
        40 of 100 children improved; the programme cost 60,000:

        >>> r = cost_per_outcome(60000, [True] * 40 + [False] * 60, n_resamples=999)
        >>> round(r.estimate)
        1500
        >>> r.ci_low < 1500 < r.ci_high
        True
    """
    if (total_cost is None) == (child_costs is None):
        raise OutcomesError("give either total_cost or child_costs (with total_cost=None)")
    total = np.nan if total_cost is None else float(total_cost)
    x = pd.Series(achieved).reset_index(drop=True)
    if x.isna().any():
        raise DataStructureError(
            f"achieved has {int(x.isna().sum())} missing value(s) (the first is achieved"
            f"[{int(np.flatnonzero(x.isna().to_numpy())[0])}]): decide whether a child "
            "without outcome data counts before costing outcomes"
        )
    # text "1" is not 1: only a flag or a number equal to 0 or 1 says achieved or not
    flag = x.map(
        lambda v: (
            isinstance(v, bool | np.bool_)
            or (isinstance(v, int | float | np.number) and v in (0, 1))
        )
    )
    if not flag.all():
        i = int(np.flatnonzero(~flag.to_numpy(bool))[0])
        raise DataStructureError(
            f"achieved must hold True/False or 1/0, found {shown(x.iloc[i])} at achieved[{i}]"
        )
    x = x.astype(float).to_numpy()
    n = len(x)
    if n < 2:
        raise DataStructureError(_TOO_FEW(k=2))
    scale = n if supported is None else float(supported)
    if scale < n:
        # the children with outcome data were supported: fewer supported is a contradiction
        raise InvalidParameterError(
            f"cost_per_outcome: parameter 'supported' ({shown(supported)}) is fewer than the "
            f"{n} children with outcome data in achieved",
            parameter="supported",
        )
    k = int(x.sum())
    quality = QualityRecord()
    if child_costs is not None:
        dtype = getattr(child_costs, "dtype", None)
        if dtype is not None and dtype.kind in "iuf":
            # a numeric array: only its NaN, infinite or negative cells need naming
            cells = np.asarray(child_costs, dtype=float)
            bad = ~(np.isfinite(cells) & (cells >= 0))
            cells = cells.tolist() if bad.any() else cells
        else:
            cells = list(child_costs.tolist() if hasattr(child_costs, "tolist") else child_costs)
        if len(cells) != n:
            raise DataStructureError(
                f"child_costs has {len(cells)} costs for {n} children in achieved: give one "
                "per child, aligned with achieved"
            )
        for i, v in enumerate([] if isinstance(cells, np.ndarray) else cells):
            if not NON_NEGATIVE.is_satisfied_by(v):
                raise DataStructureError(f"child_costs[{i}] must be {NON_NEGATIVE}, got {shown(v)}")
        c = np.array(cells, dtype=float)
        data = (c, x)

        def stat(cost, ach, axis=-1):
            with np.errstate(divide="ignore", invalid="ignore"):
                return cost.sum(axis=axis) / ach.sum(axis=axis)

        estimate = c.sum() / k if k else np.inf
        total = float(c.sum())
        paired = True
    else:
        data = (x,)

        def stat(ach, axis=-1):
            with np.errstate(divide="ignore"):
                return total / (scale * ach.mean(axis=axis))

        estimate = total / (scale * x.mean()) if k else np.inf
        paired = False
    if k == 0:
        quality.add(
            "economics", "no child achieved the outcome", where=outcome, rows=n,
            action="cost per outcome not estimable", warn=False,
        )  # fmt: skip
        return CostPerOutcome(outcome, np.inf, np.nan, np.nan, method, confidence, total, n, 0,
                              scale, quality)  # fmt: skip
    if k == n:
        # Every resample achieves everything: the interval is the point (no sampling spread).
        lo = hi = estimate
    else:
        # Resamples with no child achieving the outcome divide by zero: keep scipy's warnings
        # as notes on the result rather than letting them scroll past.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = stats.bootstrap(
                data, stat, n_resamples=n_resamples, confidence_level=confidence,
                method="percentile", paired=paired, vectorized=True,
                rng=np.random.default_rng(seed), batch=max(1, _RESAMPLED_CELLS // n),
            )  # fmt: skip
        quality.capture("economics", caught, where=outcome)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if method == "BCa":
            loo = _leave_one_out(data, total, scale)
            lo, hi = _bca(res.bootstrap_distribution, estimate, loo, confidence)
            if np.isnan(lo) or np.isnan(hi):
                quality.add(
                    "economics", "the BCa interval cannot be calculated (degenerate bootstrap "
                    "or jackknife distribution)", where=outcome, rows=n,
                    action="interval not given", warn=False,
                )  # fmt: skip
        if not (np.isfinite(lo) and np.isfinite(hi)):
            quality.add(
                "economics", "some resamples had no child achieving the outcome",
                where=outcome, rows=n, action="upper limit not finite", warn=False,
            )  # fmt: skip
    return CostPerOutcome(outcome, float(estimate), lo, hi, method, confidence, total, n, k,
                          scale, quality)  # fmt: skip
