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

import itertools
from collections.abc import Callable, Mapping, Sequence
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
    values = np.asarray(years)
    if values.ndim != 1 or values.dtype.kind not in "iuf":
        # text, None or mixed years: compared one by one exactly as given
        out = np.ones(len(years))
        for i, y in enumerate(years):
            if y == price_year:
                continue
            _need_index(y, price_year, index)
            out[i] = index[price_year] / index[y]
        return out
    # A budget has a handful of price years: each distinct year is looked up once (as a dict
    # key, so 2023.0 finds 2023 and 2023.5 finds nothing) and its lines take its factor.
    distinct, where = np.unique(values, return_inverse=True)
    factor = np.ones(len(distinct))
    usable = np.ones(len(distinct), dtype=bool)
    for k, y in enumerate(distinct.tolist()):
        if y == price_year:
            continue
        if y not in index or price_year not in index:
            usable[k] = False
            continue
        factor[k] = index[price_year] / index[y]
    if not usable.all():
        first = int(np.flatnonzero(~usable[where])[0])
        # the message quotes the year as the caller gave it on that line
        _need_index(next(itertools.islice(iter(years), first, None)), price_year, index)
    return factor[where.reshape(-1)]


def _need_index(y: object, price_year: int, index: dict[int, float]) -> None:
    for needed in (y, price_year):
        if needed not in index:
            held = ", ".join(map(str, sorted(index))) if index else "no years (none given)"
            raise CostError(
                f"costs in {y} prices need a price index for {needed} to reach "
                f"{price_year} prices; price_index has {held}"
            )


def _line_methods(frame: pd.DataFrame, label: Callable[[int], str]) -> np.ndarray:
    """Each line's costing method as its position in ``COST_METHODS``."""
    n = len(frame)
    filled = np.column_stack(
        [
            np.logical_and.reduce(
                [frame[c].notna().to_numpy(bool) if c in frame else np.zeros(n, bool) for c in cols]
            )
            for cols in _METHOD_COLUMNS.values()
        ]
    )
    wrong = np.flatnonzero(filled.sum(axis=1) != 1)
    if wrong.size:
        i = int(wrong[0])
        found = [m for m, f in zip(COST_METHODS, filled[i], strict=True) if f]
        what = "none" if not found else " and ".join(found)
        raise CostError(
            f"cost line {label(i)}: fill exactly one way of costing it (fte+salary, "
            f"quantity+unit_cost, amount, or rate+rate_of); found {what}"
        )
    return filled.argmax(axis=1)


#: inferred kinds of an object column that hold no text and no True/False
_PLAIN_NUMBERS = frozenset(
    {"integer", "floating", "mixed-integer-float", "decimal", "complex", "empty"}
)


def _first_text_or_flag(values: pd.Series) -> int | None:
    """The position of the first str or bool in ``values``, if any."""
    dtype = values.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return None
    if (
        dtype == np.dtype(object)
        and pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_NUMBERS
    ):
        return None
    bad = values.map(lambda v: isinstance(v, bool | np.bool_) or isinstance(v, str))
    if bad.any():
        return int(np.flatnonzero(bad.to_numpy())[0])
    return None


def _line_years(given: pd.Series, price_year: int) -> np.ndarray | list:
    """Each line's price year as a whole year, ``price_year`` where it is missing: ``int()``
    of the value, as the line-by-line code did (so 2024.7 is 2024 and "2023" is 2023)."""
    dtype = given.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "i":
        return given.to_numpy(np.int64)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = given.to_numpy(float)
        missing = np.isnan(values)
        # beyond 2**62 int() gives integers int64 cannot hold, and int(inf) raises
        if (np.abs(values[~missing]) < 2.0**62).all():
            return np.where(missing, float(price_year), np.trunc(values)).astype(np.int64)
    return [price_year if pd.isna(y) else int(y) for y in given]


def _rate_bases(
    frame: pd.DataFrame,
    categories: pd.Series,
    rate: np.ndarray,
    cost: np.ndarray,
    label: Callable[[int], str],
) -> np.ndarray:
    """For each rate line (positions ``rate``), the total common-price ``cost`` of the
    non-rate lines whose category is its ``rate_of``."""
    other = np.ones(len(frame), dtype=bool)
    other[rate] = False
    cat_code, cat_names = pd.factorize(categories)
    position = {name: k for k, name in enumerate(cat_names)}
    # the other lines' costs grouped by category, each group in line order, so that every
    # base is np.sum over the same terms in the same order as summing that category's lines
    own = cat_code[other]
    order = np.argsort(own, kind="stable")
    grouped, terms = own[order], cost[other][order]
    of_values = frame["rate_of"].to_numpy()
    of = [str(of_values[i]) for i in rate]
    of_code, of_names = pd.factorize(np.array(of, dtype=object))
    sums = np.full(len(of_names), np.nan)
    known = np.zeros(len(of_names), dtype=bool)
    for k, name in enumerate(of_names):
        c = position.get(name)
        if c is None:
            continue
        lo, hi = np.searchsorted(grouped, c, "left"), np.searchsorted(grouped, c, "right")
        if hi > lo:
            known[k] = True
            sums[k] = float(np.sum(terms[lo:hi].copy()))
    if not known.all():
        j = int(np.flatnonzero(~known[of_code])[0])
        # lines with no category (missing in a column others fill) can be no line's base
        present = sorted({c for c in categories[other] if isinstance(c, str)})
        raise CostError(
            f"cost line {label(int(rate[j]))}: rate_of {unknown('category', of[j], present)}"
        )
    return sums[of_code]


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

    def label(i: int) -> str:
        return f"{i + 1} ({frame.at[i, 'item']!s})"

    for col in _NUMERIC:
        if col not in frame:
            continue
        values = frame[col]
        i = _first_text_or_flag(values)
        if i is not None:
            raise CostError(f"cost line {label(i)}: {col} must be a number, got {values[i]!r}")
        num = pd.to_numeric(values, errors="coerce").astype(float)
        neg = (num < 0) | np.isinf(num)
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise CostError(f"cost line {label(i)}: {col} must be a finite number >= 0")
        frame[col] = num
    code = _line_methods(frame, label)
    frame["method"] = np.array(COST_METHODS, dtype=object)[code]
    n = len(frame)
    nominal = np.full(n, np.nan)

    def column(name: str, missing: float) -> np.ndarray:
        if name not in frame:
            return np.full(n, missing)
        v = frame[name].to_numpy(float)
        return np.where(np.isnan(v), missing, v)

    staff = code == COST_METHODS.index("staff")
    on_cost, months = column("on_cost_rate", 0.0)[staff], column("months", 12.0)[staff]
    if staff.any():
        fte, salary = frame["fte"].to_numpy(float), frame["salary"].to_numpy(float)
        nominal[staff] = fte[staff] * salary[staff] * (1 + on_cost) * months / 12
    quantity = code == COST_METHODS.index("quantity")
    if quantity.any():
        q, unit = frame["quantity"].to_numpy(float), frame["unit_cost"].to_numpy(float)
        nominal[quantity] = q[quantity] * unit[quantity]
    amount = code == COST_METHODS.index("amount")
    if amount.any():
        nominal[amount] = frame["amount"].to_numpy(float)[amount]
    if "price_year" in frame:
        years = _line_years(frame["price_year"], price_year)
    else:
        # the dtype of price_year itself, as a column of it would have
        years = np.full(n, price_year)
    frame["price_year"] = years
    factor = inflation_factors(years, price_year, price_index)
    categories = frame["category"].astype(str)
    rate = np.flatnonzero(code == COST_METHODS.index("rate"))
    if rate.size:
        base = _rate_bases(frame, categories, rate, nominal * factor, label)
        nominal[rate] = frame["rate"].to_numpy(float)[rate] * base
        factor[rate] = 1.0
        # rate lines apply to the other lines' costs in the common price year
        frame.loc[rate, "price_year"] = price_year
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
