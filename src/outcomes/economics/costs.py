"""What the programme cost: cost lines costed one way each, inflated to one price year.

A cost line is costed by exactly one of four methods, chosen by which columns it fills:

* ``staff``: ``fte x salary x (1 + on_cost_rate) x months / 12`` (salary is annual; on-costs
  are employer National Insurance and pension as a share of salary; months default to 12);
* ``quantity``: ``quantity x unit_cost`` (sessions, groups, training places);
* ``amount``: a lump sum (a licence, a training contract);
* ``rate``: ``rate x`` the total of the lines in category ``rate_of`` (overheads as a share
  of direct staff costs, for example), computed after the other lines.

Each line's cost is then expressed in the common ``price_year`` with a user-supplied price
index (e.g. the PSSRU pay and prices index or HM Treasury's GDP deflators):
``cost x index[price_year] / index[line price_year]``. Lines already in the common price year
need no index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral

import numpy as np
import pandas as pd

from .._internal.params import BY, ArrayLike, Interval, validate_params
from .._internal.text import unknown
from ..errors import DataStructureError, OutcomesError

__all__ = ["COST_METHODS", "cost_table", "cost_totals", "inflation_factors"]

COST_METHODS = ("staff", "quantity", "amount", "rate")
_METHOD_COLUMNS = {
    "staff": ("fte", "salary"),
    "quantity": ("quantity", "unit_cost"),
    "amount": ("amount",),
    "rate": ("rate", "rate_of"),
}
_NUMERIC = ("fte", "salary", "on_cost_rate", "months", "quantity", "unit_cost", "amount", "rate")
_KNOWN = {"item", "category", "site", "month", "price_year", "source", "rate_of", *_NUMERIC}


class CostError(OutcomesError):
    """A cost line cannot be costed; the message names the line and the field."""


def _as_index(price_index: Mapping | pd.DataFrame | pd.Series | None) -> dict[int, float]:
    if price_index is None:
        return {}
    if isinstance(price_index, pd.DataFrame):
        cols = {c.lower(): c for c in price_index.columns}
        if "year" not in cols or "index" not in cols:
            raise DataStructureError(
                f"price_index needs columns 'year' and 'index'; found {list(price_index.columns)}"
            )
        price_index = dict(zip(price_index[cols["year"]], price_index[cols["index"]], strict=True))
    elif isinstance(price_index, pd.Series):
        price_index = price_index.to_dict()
    out: dict[int, float] = {}
    for year, value in dict(price_index).items():
        if isinstance(year, bool) or isinstance(value, bool):
            raise CostError(f"price_index: year {year!r} -> {value!r} is not a year and a number")
        try:
            y, v = int(year), float(value)
        except (TypeError, ValueError):
            raise CostError(f"price_index: year {year!r} -> {value!r} is not a number") from None
        if not np.isfinite(v) or v <= 0:
            raise CostError(f"price_index: the index for {y} must be a positive number, got {v}")
        out[y] = v
    return out


@validate_params(
    {
        "years": ArrayLike(scores=True),
        "price_year": Interval(Integral, 1900, 2200),
        "price_index": [Mapping, "dataframe", None],
    }
)
def inflation_factors(
    years: Sequence[int], price_year: int, price_index: Mapping | pd.DataFrame | None = None
) -> np.ndarray:
    """Multipliers that move values of ``years`` into ``price_year`` prices.

    Example:
        >>> inflation_factors([2023, 2025], 2025, {2023: 100.0, 2025: 110.0}).round(4).tolist()
        [1.1, 1.0]
    """
    index = _as_index(price_index)
    out = np.ones(len(years))
    for i, y in enumerate(years):
        if y == price_year:
            continue
        for needed in (y, price_year):
            if needed not in index:
                held = ", ".join(map(str, sorted(index))) if index else "no years (none given)"
                raise CostError(
                    f"costs in {y} prices need a price index for {needed} to reach "
                    f"{price_year} prices; price_index has {held}"
                )
        out[i] = index[price_year] / index[y]
    return out


def _line_method(row: pd.Series, label: str) -> str:
    filled = [
        m
        for m, cols in _METHOD_COLUMNS.items()
        if all(c in row.index and pd.notna(row[c]) for c in cols)
    ]
    if len(filled) != 1:
        what = "none" if not filled else " and ".join(filled)
        raise CostError(
            f"cost line {label}: fill exactly one way of costing it (fte+salary, "
            f"quantity+unit_cost, amount, or rate+rate_of); found {what}"
        )
    return filled[0]


@validate_params(
    {
        "items": ["dataframe", list, tuple],
        "price_year": Interval(Integral, 1900, 2200),
        "price_index": [Mapping, "dataframe", None],
    }
)
def cost_table(
    items: pd.DataFrame | Sequence[Mapping],
    *,
    price_year: int,
    price_index: Mapping | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cost every line and express it in ``price_year`` prices.

    ``items`` has one row per cost line: ``item`` (name), ``category`` (staff, training,
    overheads, sessions, ... any label), optional ``site`` and ``month`` (for breakdowns),
    ``price_year`` (default: the common price year), ``source``, and the columns of one
    costing method (see the module docstring). Returns the lines with ``method``,
    ``cost_nominal`` (in the line's own prices), ``inflation_factor`` and ``cost``.

    Example:
        A 1.0 FTE practitioner on 40,000 with 30% on-costs for 6 months, 20 group sessions at
        150, and overheads at 10% of staff costs:

        >>> t = cost_table([
        ...     {"item": "EMHP", "category": "staff", "fte": 1.0, "salary": 40000,
        ...      "on_cost_rate": 0.3, "months": 6},
        ...     {"item": "groups", "category": "sessions", "quantity": 20, "unit_cost": 150},
        ...     {"item": "overheads", "category": "overheads", "rate": 0.1, "rate_of": "staff"},
        ... ], price_year=2025)
        >>> t["cost"].tolist()
        [26000.0, 3000.0, 2600.0]
    """
    if isinstance(items, pd.DataFrame):
        frame = items.copy()
    else:
        frame = pd.DataFrame(list(items))
    if frame.empty:
        raise DataStructureError("cost_table: no cost lines were given")
    extra = sorted(set(map(str, frame.columns)) - _KNOWN)
    if extra:
        raise DataStructureError(
            f"cost_table: unknown column(s) {extra}; "
            + unknown("column", extra[0], sorted(_KNOWN)).split("; ", 1)[1]
        )
    if isinstance(price_year, bool) or not isinstance(price_year, int | np.integer):
        raise CostError(f"price_year must be a whole year such as 2025, got {price_year!r}")
    frame = frame.reset_index(drop=True)
    for col in ("item", "category"):
        if col not in frame:
            frame[col] = "" if col == "category" else [f"line {i + 1}" for i in range(len(frame))]
    labels = [f"{i + 1} ({frame.at[i, 'item']!s})" for i in range(len(frame))]
    for col in _NUMERIC:
        if col not in frame:
            continue
        values = frame[col]
        bad = values.map(lambda v: isinstance(v, bool | np.bool_) or isinstance(v, str))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CostError(f"cost line {labels[i]}: {col} must be a number, got {values[i]!r}")
        num = pd.to_numeric(values, errors="coerce").astype(float)
        neg = (num < 0) | np.isinf(num)
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise CostError(f"cost line {labels[i]}: {col} must be a finite number >= 0")
        frame[col] = num
    methods = [_line_method(frame.iloc[i], labels[i]) for i in range(len(frame))]
    frame["method"] = methods
    nominal = np.full(len(frame), np.nan)
    for i, m in enumerate(methods):
        r = frame.iloc[i]
        if m == "staff":
            on_cost = r.get("on_cost_rate", 0.0)
            months = r.get("months", 12.0)
            on_cost = 0.0 if pd.isna(on_cost) else on_cost
            months = 12.0 if pd.isna(months) else months
            nominal[i] = r["fte"] * r["salary"] * (1 + on_cost) * months / 12
        elif m == "quantity":
            nominal[i] = r["quantity"] * r["unit_cost"]
        elif m == "amount":
            nominal[i] = r["amount"]
    years = frame["price_year"] if "price_year" in frame else pd.Series(np.nan, index=frame.index)
    years = [price_year if pd.isna(y) else int(y) for y in years]
    frame["price_year"] = years
    factor = inflation_factors(years, price_year, price_index)
    categories = frame["category"].astype(str)
    # Rate lines apply to the other lines' costs in the common price year.
    for i, m in enumerate(methods):
        if m != "rate":
            continue
        of = str(frame.at[i, "rate_of"])
        base_rows = (categories == of).to_numpy() & (np.array(methods) != "rate")
        if not base_rows.any():
            present = sorted(set(categories[np.array(methods) != "rate"]))
            raise CostError(f"cost line {labels[i]}: rate_of {unknown('category', of, present)}")
        base = float(np.sum(nominal[base_rows] * factor[base_rows]))
        nominal[i] = frame.at[i, "rate"] * base
        factor[i] = 1.0
        frame.at[i, "price_year"] = price_year
    frame["cost_nominal"] = nominal
    frame["inflation_factor"] = factor
    frame["cost"] = nominal * factor
    frame.attrs["economics"] = {"price_year": price_year}
    return frame


@validate_params(
    {
        "table": "dataframe",
        "by": BY,
    }
)
def cost_totals(table: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Total cost overall or by ``by`` (e.g. ``"category"``, ``"site"``, ``"month"``).

    Example:
        >>> t = cost_table([{"item": "a", "category": "staff", "amount": 100, "site": "S1"},
        ...                 {"item": "b", "category": "staff", "amount": 50, "site": "S2"}],
        ...                price_year=2025)
        >>> cost_totals(t, by="site")["cost"].tolist()
        [100.0, 50.0]
    """
    if "cost" not in table:
        raise DataStructureError("cost_totals needs the output of cost_table (no 'cost' column)")
    if by is None:
        return pd.DataFrame({"cost": [float(table["cost"].sum())]})
    keys = [by] if isinstance(by, str) else list(by)
    for k in keys:
        if k not in table:
            raise DataStructureError(f"cost_totals: {unknown('column', k, table.columns)}")
    out = table.groupby(keys, dropna=False, sort=True)["cost"].sum().reset_index()
    return out
