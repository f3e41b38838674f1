"""Cost-consequence and cost-benefit analysis in the HM Treasury Green Book way.

* Discounting: a value in year ``t`` (year 0 = the first year, undiscounted) is worth
  ``v / (1 + r)^t`` today. The Green Book's social time preference rate is 3.5% for years
  0-30, then 3.0% (31-75), 2.5% (76-125), 2.0% (126-200), 1.5% (201-300) and 1.0% after
  (HM Treasury, The Green Book 2022, Annex A6); ``rate="green_book"`` applies that schedule,
  a number applies one constant rate (default 0.035).
* A benefit line (the Greater Manchester CBA model's way, adopted as Green Book supplementary
  guidance) values outcomes with a unit value from a stated source and price year, then keeps
  only what the programme caused: ``quantity x unit value x (1 - deadweight) x attribution x
  (1 - optimism_bias)``. Deadweight is the share that would have happened anyway,
  attribution the share of the rest owed to this programme, optimism bias the reduction for
  weak evidence behind the line.
* Costs may carry an optimism-bias uplift (``cost_optimism_bias``: costs x (1 + uplift)).
* Net present value = PV(benefits) - PV(costs); benefit-cost ratio = PV(benefits) / PV(costs);
  payback period = years until the cumulative discounted net benefit stops being negative,
  interpolated linearly within the year it turns (0 when the first year already pays back).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._internal.params import (
    COUNT,
    FINITE,
    NON_NEGATIVE,
    POSITIVE_COUNT,
    SHARE,
    ArrayLike,
    Interval,
    Options,
    validate_params,
)
from .._internal.quality import QualityRecord
from .._internal.text import shown, unknown
from ..errors import InvalidParameterError, OutcomesError
from .costs import CostError, _as_index, _need_index, _whole_year

__all__ = [
    "GREEN_BOOK_SCHEDULE",
    "Benefit",
    "CostBenefitResult",
    "cost_benefit",
    "cost_consequence",
    "discount_factors",
    "present_value",
]

#: (first year, rate) pairs of the Green Book's declining long-term discount rate.
GREEN_BOOK_SCHEDULE = ((0, 0.035), (31, 0.030), (76, 0.025), (126, 0.020), (201, 0.015),
                       (301, 0.010))  # fmt: skip


def _rates(n_years: int, rate: float | str) -> np.ndarray:
    if isinstance(rate, str):
        if rate != "green_book":
            raise OutcomesError(f"rate must be a number or 'green_book', got {rate!r}")
        starts = np.array([s for s, _ in GREEN_BOOK_SCHEDULE])
        values = np.array([r for _, r in GREEN_BOOK_SCHEDULE])
        return values[np.searchsorted(starts, np.arange(n_years), side="right") - 1]
    if isinstance(rate, bool | np.bool_) or not isinstance(rate, int | float | np.number):
        raise OutcomesError(f"rate must be a number or 'green_book', got {rate!r}")
    if not (0 <= float(rate) < 1):
        raise OutcomesError(f"rate must be a yearly rate between 0 and 1 (0.035), got {rate}")
    return np.full(n_years, float(rate))


@validate_params(
    {
        "n_years": POSITIVE_COUNT,
        "rate": [Interval(Real, 0, 1, closed="left"), Options(str, {"green_book"})],
    }
)
def discount_factors(n_years: int, *, rate: float | str = 0.035) -> np.ndarray:
    """Discount factors for years 0 .. n_years - 1 (year 0 is 1).

    With a declining schedule the factor compounds year by year:
    ``D_t = D_{t-1} / (1 + r_t)``.

    Example:
        >>> discount_factors(3).round(6).tolist()   # 1, 1/1.035, 1/1.035^2
        [1.0, 0.966184, 0.933511]
    """
    r = _rates(int(n_years), rate)
    steps = np.concatenate([[1.0], 1.0 / (1.0 + r[1:])])
    return np.cumprod(steps)


@validate_params(
    {
        "values": ArrayLike(scores=True),
        "rate": [Interval(Real, 0, 1, closed="left"), Options(str, {"green_book"})],
    }
)
def present_value(values: Sequence[float], *, rate: float | str = 0.035) -> float:
    """Present value of yearly values (the first is year 0).

    Example:
        >>> round(present_value([100, 100, 100]), 4)   # 100 + 100/1.035 + 100/1.035^2
        289.9694
    """
    v = _yearly("present_value: values", values, FINITE)
    with np.errstate(over="ignore", invalid="ignore"):
        pv = float(np.sum(v * discount_factors(len(v), rate=rate)))
    if not math.isfinite(pv):
        raise OutcomesError("present_value: the present value passes the largest float")
    return pv


def _yearly(name: str, values: object, allowed: Interval) -> np.ndarray:
    """Yearly amounts (year 0 first) as floats, each checked against ``allowed``: a
    True/False, text, NaN or infinity is refused naming its year, never read as 1, 0 or a
    number."""
    if isinstance(values, np.ndarray | pd.Series) and values.ndim != 1:
        raise OutcomesError(f"{name} must be one amount per year, got {values.ndim} dimensions")
    cells = values.tolist() if isinstance(values, np.ndarray | pd.Series) else list(values)
    if not cells:
        raise OutcomesError(f"{name} is empty: give one amount per year, year 0 first")
    for i, v in enumerate(cells):
        if not allowed.is_satisfied_by(v):
            raise OutcomesError(f"{name}[{i}] (year {i}) must be {allowed}, got {shown(v)}")
    return np.array(cells, dtype=float)


@dataclass
class Benefit:
    """One benefit line: outcomes achieved (or costs avoided) valued with a sourced unit value.

    ``quantity`` is the number of outcomes per year (a list, year 0 first) or one number for
    year 0 only. ``unit_value`` (>= 0) is the value of one outcome in ``price_year`` prices
    (a whole year, as for cost lines); ``deadweight``, ``attribution`` and ``optimism_bias``
    are shares from 0 to 1; ``name``, ``source`` and ``kind`` are text. Anything else is
    refused naming the benefit and the field.
    """

    name: str
    unit_value: float
    quantity: float | Sequence[float]
    source: str
    price_year: int
    deadweight: float = 0.0
    attribution: float = 1.0
    optimism_bias: float = 0.0
    kind: str = "fiscal"

    def __post_init__(self) -> None:
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        # a price year given as 2024.0 or "2024" is kept as the year 2024
        self.price_year = _check_benefit(given, _benefit_label(None, self.name))

    @validate_params(
        {
            "n_years": COUNT,
        }
    )
    def quantities(self, n_years: int) -> np.ndarray:
        """The quantity of each of ``n_years`` years, zeros after the last one given."""
        return self._quantities(n_years, _benefit_label(None, self.name))

    def _quantities(self, n_years: int, label: str) -> np.ndarray:
        q = np.atleast_1d(np.asarray(self.quantity, dtype=float))
        if len(q) > n_years:
            raise OutcomesError(
                f"{label} has {len(q)} years of quantities; the appraisal has "
                f"{n_years} (give costs for every year, zeros where there are none)"
            )
        return np.concatenate([q, np.zeros(n_years - len(q))])

    @property
    def share_kept(self) -> float:
        return (1 - self.deadweight) * self.attribution * (1 - self.optimism_bias)


_REQUIRED = ("name", "unit_value", "quantity", "source", "price_year")
#: a value of one outcome, and the shares that keep what the programme caused
_NUMBERS = {
    "unit_value": NON_NEGATIVE,
    "deadweight": SHARE,
    "attribution": SHARE,
    "optimism_bias": SHARE,
}


def _benefit_label(position: int | None, name: object) -> str:
    """How a message names a benefit: ``benefit 2 (fewer referrals)`` inside
    :func:`cost_benefit` (its position, from 1), ``benefit 'fewer referrals'`` on its own."""
    if position is None:
        return f"benefit {shown(name)}"
    if isinstance(name, str) and name.strip() and len(name) <= 40:
        return f"benefit {position} ({name})"
    return f"benefit {position}" + (f" ({shown(name)})" if isinstance(name, str) else "")


def _text(label: str, field_name: str, value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(
            f"{label}: {field_name} must be {what}, got {shown(value)}", parameter=field_name
        )


def _check_benefit(given: Mapping[str, object], label: str) -> int:
    """Refuse any field of a benefit line that is not what it means, naming the benefit
    and the field; the line's price year as a whole year."""
    _text(label, "name", given["name"], "text naming the benefit")
    _text(label, "source", given["source"], "text saying where its unit value comes from")
    _text(label, "kind", given["kind"], "text such as 'fiscal'")
    for name, allowed in _NUMBERS.items():
        if not allowed.is_satisfied_by(given[name]):
            raise InvalidParameterError(
                f"{label}: {name} must be {allowed}, got {shown(given[name])}", parameter=name
            )
    year = _whole_year(given["price_year"])
    if year is None:
        raise InvalidParameterError(
            f"{label}: price_year must be a whole year such as 2025, "
            f"got {shown(given['price_year'])}",
            parameter="price_year",
        )
    q = given["quantity"]
    if isinstance(q, str | bytes | Mapping) or (isinstance(q, np.ndarray) and q.ndim > 1):
        raise InvalidParameterError(
            f"{label}: quantity must be one number or a list of yearly numbers (year 0 "
            f"first), got {shown(q)}",
            parameter="quantity",
        )
    if isinstance(q, Sequence | np.ndarray | pd.Series):
        cells = q.tolist() if isinstance(q, np.ndarray | pd.Series) else list(q)
        if not cells:
            raise InvalidParameterError(
                f"{label}: quantity has no years; give 0 for a benefit with no outcomes",
                parameter="quantity",
            )
        for i, v in enumerate(cells):
            if not NON_NEGATIVE.is_satisfied_by(v):
                raise InvalidParameterError(
                    f"{label}: quantity[{i}] (year {i}) must be {NON_NEGATIVE}, got {shown(v)}",
                    parameter="quantity",
                )
    elif not NON_NEGATIVE.is_satisfied_by(q):
        raise InvalidParameterError(
            f"{label}: quantity must be {NON_NEGATIVE}, got {shown(q)}", parameter="quantity"
        )
    return year


def _benefit_lines(benefits: Sequence[object]) -> list[tuple[str, Benefit]]:
    """Each benefit line with the label its messages use, every field checked again (a
    Benefit's fields can be changed after it was made)."""
    names = [f.name for f in fields(Benefit)]
    lines: list[tuple[str, Benefit]] = []
    seen: dict[str, int] = {}
    for k, b in enumerate(benefits, start=1):
        if isinstance(b, Benefit):
            given = {n: getattr(b, n) for n in names}
        elif isinstance(b, Mapping):
            given = dict(b)
        else:
            raise InvalidParameterError(
                f"cost_benefit: benefit {k} must be a Benefit or a mapping of its fields, "
                f"got {shown(b)}",
                parameter="benefits",
            )
        label = _benefit_label(k, given.get("name"))
        for key in given:
            if key not in names:
                raise InvalidParameterError(
                    f"{label}: {unknown('field', key, names)}", parameter="benefits"
                )
        missing = [n for n in _REQUIRED if n not in given]
        if missing:
            raise InvalidParameterError(f"{label}: give {', '.join(missing)}", parameter="benefits")
        defaults = {f.name: f.default for f in fields(Benefit) if f.name not in _REQUIRED}
        given = defaults | given
        given["price_year"] = _check_benefit(given, label)
        name = given["name"]
        if name in seen:
            raise InvalidParameterError(
                f"{label}: benefit {seen[name]} has the same name; name each line once",
                parameter="benefits",
            )
        seen[name] = k
        lines.append((label, Benefit(**given)))
    return lines


@dataclass
class CostBenefitResult:
    """Yearly costs and benefits, their present values, NPV, benefit-cost ratio and payback."""

    years: pd.DataFrame
    benefits: pd.DataFrame
    npv: float
    bcr: float
    payback_years: float | None
    rate: float | str
    price_year: int
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        """One row per year: ``year, costs, benefits, net, discount_factor, pv_costs,
        pv_benefits, pv_net, cumulative_pv_net``."""
        return self.years.copy()

    def summary(self) -> str:
        """The headline in one sentence."""
        if self.payback_years is None:
            pay = "does not pay back within the appraisal period"
        elif self.payback_years == 0:
            pay = "pays back within the first year"
        else:
            pay = f"pays back after {self.payback_years:.1f} years"
        rate = "the Green Book schedule" if self.rate == "green_book" else f"{self.rate:.1%}"
        return (
            f"In {self.price_year} prices, discounted at {rate}: present value of benefits "
            f"{self.years['pv_benefits'].sum():,.0f}, of costs {self.years['pv_costs'].sum():,.0f}; "
            f"net present value {self.npv:,.0f}, benefit-cost ratio {self.bcr:.2f}; the "
            f"programme {pay}."
        )

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Cumulative discounted net benefit by year."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.axhline(0, color="grey", lw=0.8)
        ax.plot(self.years["year"], self.years["cumulative_pv_net"], marker="o")
        ax.set_xlabel("Year")
        ax.set_ylabel(f"Cumulative discounted net benefit ({self.price_year} prices)")
        ax.set_title("Payback")
        return ax


@validate_params(
    {
        "costs": ArrayLike(scores=True),
        "benefits": [list, tuple],
        "price_year": Interval(Integral, 1900, 2200),
        "price_index": [Mapping, "dataframe", None],
        "rate": [Interval(Real, 0, 1, closed="left"), Options(str, {"green_book"})],
        "cost_optimism_bias": SHARE,
    }
)
def cost_benefit(
    costs: Sequence[float],
    benefits: Sequence[Benefit | Mapping],
    *,
    price_year: int,
    price_index: Mapping | pd.DataFrame | None = None,
    rate: float | str = 0.035,
    cost_optimism_bias: float = 0.0,
) -> CostBenefitResult:
    """Net present value, benefit-cost ratio and payback of a programme.

    ``costs`` are the programme's costs per year (year 0 first) in ``price_year`` prices;
    ``benefits`` are :class:`Benefit` lines (or mappings of their fields), whose unit values
    are moved to ``price_year`` prices with ``price_index``.

    Example:
        Costs 100,000 now; 20 CAMHS episodes avoided in each of years 0 and 1 at 3,000 each
        (illustrative value), 50% deadweight:

        >>> r = cost_benefit([100000, 0], [Benefit("episode avoided", 3000, [20, 20],
        ...     source="illustrative", price_year=2025, deadweight=0.5)], price_year=2025)
        >>> round(r.npv)   # 30,000 + 30,000 / 1.035 - 100,000
        -41014
        >>> round(r.bcr, 3)
        0.59
    """
    c = _yearly("cost_benefit: costs", costs, NON_NEGATIVE)
    uplift = float(cost_optimism_bias)
    n = len(c)
    labelled = _benefit_lines(benefits)
    if not labelled:
        raise OutcomesError("cost_benefit needs at least one benefit line")
    index = _as_index(price_index)
    df = discount_factors(n, rate=rate)
    rows, yearly = [], np.zeros(n)
    for label, b in labelled:
        f = _benefit_factor(label, b.price_year, price_year, index)
        q = b._quantities(n, label)
        with np.errstate(over="ignore", invalid="ignore"):
            value = q * b.unit_value * f * b.share_kept
            yearly += value
        if not np.isfinite(value).all():
            t = int(np.flatnonzero(~np.isfinite(value))[0])
            raise OutcomesError(
                f"{label}: the value in year {t} is not a finite number (quantity "
                f"{shown(q[t])} x unit value {shown(b.unit_value)} x inflation factor "
                f"{shown(f)} x share kept {shown(b.share_kept)} passes the largest float)"
            )
        rows.append({
            "benefit": b.name, "kind": b.kind, "source": b.source, "price_year": b.price_year,
            "unit_value": b.unit_value, "unit_value_real": b.unit_value * f,
            "quantity_total": float(q.sum()), "deadweight": b.deadweight,
            "attribution": b.attribution, "optimism_bias": b.optimism_bias,
            "share_kept": b.share_kept, "value": float(value.sum()),
            "present_value": float(np.sum(value * df)),
        })  # fmt: skip
    with np.errstate(over="ignore"):
        cost_real = c * (1 + uplift)
    for what, amounts in (("costs", cost_real), ("benefits", yearly)):
        if not np.isfinite(amounts).all():
            t = int(np.flatnonzero(~np.isfinite(amounts))[0])
            raise OutcomesError(
                f"cost_benefit: the {what} of year {t} add up past the largest float"
            )
    years = pd.DataFrame({
        "year": np.arange(n), "costs": cost_real, "benefits": yearly,
        "net": yearly - cost_real, "discount_factor": df,
        "pv_costs": cost_real * df, "pv_benefits": yearly * df,
    })  # fmt: skip
    years["pv_net"] = years["pv_benefits"] - years["pv_costs"]
    years["cumulative_pv_net"] = years["pv_net"].cumsum()
    pv_c, pv_b = float(years["pv_costs"].sum()), float(years["pv_benefits"].sum())
    for what, total in (("costs", pv_c), ("benefits", pv_b)):
        if not math.isfinite(total):
            raise OutcomesError(
                f"cost_benefit: the {what} add up past the largest float ({shown(total)})"
            )
    quality = QualityRecord()
    if pv_c == 0:
        quality.add("economics", "no costs", action="benefit-cost ratio not defined", warn=False)
    return CostBenefitResult(
        years=years,
        benefits=pd.DataFrame(rows),
        npv=pv_b - pv_c,
        bcr=pv_b / pv_c if pv_c else np.nan,
        payback_years=_payback(years["pv_net"].to_numpy()),
        rate=rate,
        price_year=price_year,
        quality=quality,
    )


def _benefit_factor(label: str, year: int, price_year: int, index: dict[int, float]) -> float:
    """The multiplier moving a benefit's unit value from its price year to ``price_year``."""
    if year == price_year:
        return 1.0
    _need_index(year, price_year, index, subject=f"{label}: a unit value in {year} prices needs")
    factor = index[price_year] / index[year]
    if not (math.isfinite(factor) and factor > 0):
        raise CostError(
            f"{label}: the factor from {year} to {price_year} prices, "
            f"{shown(index[price_year])} / {shown(index[year])}, is not a finite positive number"
        )
    return factor


def _payback(pv_net: np.ndarray) -> float | None:
    cum = np.cumsum(pv_net)
    before = 0.0
    for t, (step, total) in enumerate(zip(pv_net, cum, strict=True)):
        if total >= 0:
            # Linear within year t: the share of the year's net benefit that closes the gap.
            return float(t + (-before / step if before < 0 else 0.0))
        before = total
    return None


@validate_params(
    {
        "costs": Mapping,
        "consequences": "dataframe",
    }
)
def cost_consequence(costs: Mapping[str, float], consequences: pd.DataFrame) -> pd.DataFrame:
    """A cost-consequence table: the costs and the outcomes side by side, not combined.

    ``consequences`` has columns ``measure, value`` and optionally ``ci_low, ci_high, unit``
    (one row per outcome: reliable improvement rate, waits, satisfaction...).

    Example:
        >>> t = cost_consequence({"total cost": 120000, "cost per child": 300},
        ...     pd.DataFrame({"measure": ["reliable improvement"], "value": [0.42]}))
        >>> t["kind"].tolist()
        ['cost', 'cost', 'consequence']
    """
    if "measure" not in consequences or "value" not in consequences:
        raise OutcomesError(
            f"consequences needs columns 'measure' and 'value'; found {list(consequences.columns)}"
        )
    for measure, v in costs.items():
        _text("cost_consequence: costs", "a cost's name", measure, "text")
        if not NON_NEGATIVE.is_satisfied_by(v):
            raise InvalidParameterError(
                f"cost_consequence: costs[{shown(measure)}] must be {NON_NEGATIVE}, got {shown(v)}",
                parameter="costs",
            )
    cost_rows = pd.DataFrame(
        {"kind": "cost", "measure": list(costs), "value": [float(v) for v in costs.values()]}
    )
    cons = consequences.copy()
    cons.insert(0, "kind", "consequence")
    return pd.concat([cost_rows, cons], ignore_index=True)
