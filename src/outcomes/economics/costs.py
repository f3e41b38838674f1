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

import math
import re
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._internal.params import BY, ArrayLike, Interval, validate_params
from .._internal.text import shown, unknown
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


#: a year given as text: ASCII digits only, no sign, point or spaces
_DIGITS = re.compile(r"[0-9]+")
#: beyond this a float cannot tell whole numbers apart, so no year is accepted past it
_YEAR_LIMIT = 2**53


def _whole_year(value: object) -> int | None:
    """``value`` as a whole year, or None when it is not one.

    An int, a float with nothing after the point or a text of digits is a whole year; a
    fraction is not truncated, and True/False, inf and any other text are refused rather
    than read as 1, 0 or an overflow."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, Integral):
        year = int(value)
    elif isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            return None
        year = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        year = int(value)
    else:
        return None
    return year if abs(year) < _YEAR_LIMIT else None


def _shown(value: object) -> str:
    """``value`` for a message: numpy scalars as the Python value they hold, cut to a
    readable length (an index of 10**400 is not printed in full)."""
    return shown(value)


def _whole_years(given: pd.Series, missing: int | None) -> tuple[np.ndarray, int | None]:
    """``given`` as int64 whole years (see ``_whole_year``), a missing one as ``missing``;
    with the position of the first value that is not a whole year (or is missing when
    ``missing`` is None), else None."""
    dtype = given.dtype
    n = len(given)
    if pd.api.types.is_bool_dtype(dtype):
        held = np.flatnonzero(given.notna().to_numpy(bool))
        if held.size:
            return np.zeros(n, np.int64), int(held[0])
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        ints = given.to_numpy()
        # compared as integers: past 2**53 an int64 is not exact as a float
        bad = ints >= _YEAR_LIMIT
        if dtype.kind == "i":
            bad |= ints <= -_YEAR_LIMIT
        if bad.any():
            return np.zeros(n, np.int64), int(np.flatnonzero(bad)[0])
        return ints.astype(np.int64), None
    elif pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        values = given.to_numpy(float, na_value=np.nan)
        absent = np.isnan(values)
        with np.errstate(invalid="ignore"):
            whole = (np.trunc(values) == values) & (np.abs(values) < _YEAR_LIMIT)
        bad = ~absent & ~whole
        if missing is None:
            bad |= absent
        if bad.any():
            return np.zeros(n, np.int64), int(np.flatnonzero(bad)[0])
        return np.where(absent, float(missing or 0), values).astype(np.int64), None
    values = given.astype(object).to_numpy()
    try:
        # a ledger holds a handful of distinct years: each is judged once
        code, distinct = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # an unhashable cell: judged one by one below
        distinct = None
    # True == 1 and False == 0 share a hash, so factorize would let a year 1 stand for True
    if distinct is not None and not any(
        isinstance(u, bool | np.bool_) or (not isinstance(u, str) and u in (0, 1)) for u in distinct
    ):
        year = [_whole_year(u) for u in distinct]
        ok = np.array([y is not None for y in year] + [missing is not None])
        bad = np.flatnonzero(~ok[code])
        if bad.size:
            return np.zeros(n, np.int64), int(bad[0])
        # code -1 (missing) takes the last entry
        return np.array([*year, missing or 0], dtype=np.int64)[code], None
    out = np.zeros(n, np.int64)
    for i, v in enumerate(values.tolist()):
        if pd.api.types.is_scalar(v) and pd.isna(v) and missing is not None:
            out[i] = missing
            continue
        year = _whole_year(v)
        if year is None:
            return out, i
        out[i] = year
    return out, None


def _as_index(price_index: Mapping | pd.DataFrame | pd.Series | None) -> dict[int, float]:
    if price_index is None:
        return {}
    if isinstance(price_index, pd.DataFrame):
        lower = [str(c).lower() for c in price_index.columns]
        for want in ("year", "index"):
            if lower.count(want) > 1:
                same = [c for c, low in zip(price_index.columns, lower, strict=True) if low == want]
                raise DataStructureError(
                    f"price_index has {len(same)} columns named '{want}' ({same}); keep one"
                )
        cols = {low: c for c, low in zip(price_index.columns, lower, strict=True)}
        if "year" not in cols or "index" not in cols:
            raise DataStructureError(
                f"price_index needs columns 'year' and 'index'; found {list(price_index.columns)}"
            )
        pairs = list(zip(price_index[cols["year"]], price_index[cols["index"]], strict=True))
    else:
        if isinstance(price_index, pd.Series):
            price_index = price_index.to_dict()
        pairs = list(dict(price_index).items())
    out: dict[int, float] = {}
    for year, value in pairs:
        y = _whole_year(year)
        if y is None:
            raise CostError(f"price_index: year {_shown(year)} must be a whole year such as 2025")
        if y in out:
            # 2023, 2023.0 and "2023" are one year: which index would be meant is a guess
            raise CostError(f"price_index: year {y} is given more than once")
        try:
            number = isinstance(value, Real) and not isinstance(value, bool | np.bool_)
            v = float(value) if number else math.nan
        except OverflowError:
            v = math.inf
        if not math.isfinite(v) or v <= 0:
            raise CostError(
                f"price_index: the index for {y} must be a positive number, got {_shown(value)}"
            )
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
    given = (
        years
        if isinstance(years, pd.Series)
        else pd.Series(years if isinstance(years, np.ndarray) else list(years), dtype=None)
    )
    values, bad = _whole_years(given, missing=None)
    if bad is not None:
        # as the caller gave it: None, not the NaN pandas made of it
        shown = years[bad] if isinstance(years, list | tuple | np.ndarray) else given.iloc[bad]
        raise CostError(
            f"inflation_factors: years[{bad}] must be a whole year such as 2025, "
            f"got {_shown(shown)}"
        )
    # A budget has a handful of price years: each distinct year is looked up once and its
    # lines take its factor.
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
        # two finite positive indexes can still be too far apart for a float ratio
        usable[k] = math.isfinite(factor[k]) and factor[k] > 0
    if not usable.all():
        y = int(values[int(np.flatnonzero(~usable[where])[0])])
        _need_index(y, price_year, index)
        raise CostError(
            f"price_index: the factor from {y} to {price_year} prices, "
            f"{_shown(index[price_year])} / {_shown(index[y])}, is not a finite positive number"
        )
    return factor[where.reshape(-1)]


def _need_index(
    y: object, price_year: int, index: dict[int, float], *, subject: str | None = None
) -> None:
    """Refuse, naming the missing year, when ``index`` cannot move ``y`` prices to
    ``price_year`` prices; ``subject`` says what needs it (default: costs)."""
    for needed in (y, price_year):
        if needed not in index:
            held = ", ".join(map(str, sorted(index))) if index else "no years (none given)"
            raise CostError(
                f"{subject or f'costs in {y} prices need'} a price index for {needed} to "
                f"reach {price_year} prices; price_index has {held}"
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


def _as_float(value: object) -> float:
    """A cell as a float; an integer too large for one is infinite (refused by the caller)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


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


def _line_years(given: pd.Series, price_year: int, label: Callable[[int], str]) -> np.ndarray:
    """Each line's price year as a whole year, ``price_year`` where it is missing."""
    years, bad = _whole_years(given, missing=price_year)
    if bad is not None:
        raise CostError(
            f"cost line {label(bad)}: price_year must be a whole year such as 2025, "
            f"got {_shown(given.iloc[bad])}"
        )
    return years


_FORMULA = {
    "staff": "fte x salary x (1 + on_cost_rate) x months / 12",
    "quantity": "quantity x unit_cost",
    "amount": "amount",
}


def _refuse_non_finite(
    lines: np.ndarray,
    nominal: np.ndarray,
    factor: np.ndarray,
    how: Callable[[int], str],
    label: Callable[[int], str],
) -> None:
    """Refuse the first of ``lines`` whose cost overflowed (or became inf x 0): a total that
    is inf or NaN would otherwise pass into every sum and ratio built on it."""
    with np.errstate(over="ignore", invalid="ignore"):
        cost = nominal[lines] * factor[lines]
    bad = ~np.isfinite(cost)
    if not bad.any():
        return
    i = int(lines[np.flatnonzero(bad)[0]])
    if not math.isfinite(nominal[i]):
        why = f"{how(i)} gives {_shown(nominal[i])}"
    else:
        why = (
            f"{_shown(nominal[i])} in its own prices x inflation factor "
            f"{_shown(factor[i])} gives {_shown(cost[bad][0])}"
        )
    raise CostError(f"cost line {label(i)}: the cost is not a finite number ({why})")


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
            with np.errstate(over="ignore"):
                # an overflow makes the rate line's cost inf, refused naming that line
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
    overheads, sessions, ... any label; missing is ``""``), optional ``site`` and ``month``
    (for breakdowns), ``price_year`` (a whole year; missing is the common price year),
    ``source``, and the columns of one costing method (see the module docstring). Returns the
    lines with ``method``, ``cost_nominal`` (in the line's own prices), ``inflation_factor``
    and ``cost``.

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
    twice = frame.columns[frame.columns.duplicated()]
    if len(twice):
        name = twice[0]
        k = int((frame.columns == name).sum())
        # frame[name] would be a table, not one value per line: which copy is meant is a guess
        raise DataStructureError(
            f"cost_table: column {_shown(name)} appears {k} times in items; keep one"
        )
    extra = sorted(set(map(str, frame.columns)) - _KNOWN)
    if extra:
        raise DataStructureError(
            f"cost_table: unknown column(s) {extra}; "
            + unknown("column", extra[0], sorted(_KNOWN)).split("; ", 1)[1]
        )
    if isinstance(price_year, bool) or not isinstance(price_year, int | np.integer):
        raise CostError(f"price_year must be a whole year such as 2025, got {_shown(price_year)}")
    frame = frame.reset_index(drop=True)
    # a line with no item, whether the column is absent or empty on that line, is named
    # "line N" (its position), in messages and in the output alike
    numbered = [f"line {i + 1}" for i in range(len(frame))]
    if "item" not in frame:
        frame["item"] = numbered
    elif frame["item"].isna().any():
        named = frame["item"].notna().to_numpy(bool)
        # a list, as for an absent column, so that pandas infers the column's type alike
        frame["item"] = np.where(named, frame["item"].to_numpy(object), numbered).tolist()
    if "category" not in frame:
        frame["category"] = ""
    no_category = frame["category"].isna()
    if no_category.any():
        # a line with no category is uncategorised, "", whether or not other lines fill the
        # column: NaN would read as the category "nan" in rate_of and fall apart in totals
        category = frame["category"]
        if isinstance(category.dtype, pd.CategoricalDtype) and "" not in category.cat.categories:
            category = category.cat.add_categories("")
        frame["category"] = category.where(~no_category, "")

    def label(i: int) -> str:
        item = frame.at[i, "item"]
        return f"{i + 1} ({item if isinstance(item, str) and len(item) <= 40 else _shown(item)})"

    for col in _NUMERIC:
        if col not in frame:
            continue
        values = frame[col]
        i = _first_text_or_flag(values)
        if i is not None:
            raise CostError(
                f"cost line {label(i)}: {col} must be a number, got {_shown(values[i])}"
            )
        try:
            num = pd.to_numeric(values, errors="coerce").astype(float)
        except OverflowError:
            # a whole number past the largest float: to_numeric cannot coerce it
            num = values.map(_as_float).astype(float)
        neg = (num < 0) | np.isinf(num)
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise CostError(
                f"cost line {label(i)}: {col} must be a finite number >= 0, got {_shown(values[i])}"
            )
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
    # an overflow is refused below, naming the line, rather than warned about here
    with np.errstate(over="ignore", invalid="ignore"):
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
        years = _line_years(frame["price_year"], price_year, label)
    else:
        # the dtype of price_year itself, as a column of it would have
        years = np.full(n, price_year)
    frame["price_year"] = years
    factor = inflation_factors(years, price_year, price_index)
    rate = np.flatnonzero(code == COST_METHODS.index("rate"))
    methods = frame["method"].to_numpy()
    _refuse_non_finite(
        np.flatnonzero(code != COST_METHODS.index("rate")),
        nominal,
        factor,
        lambda i: _FORMULA[methods[i]],
        label,
    )
    categories = frame["category"].astype(str)
    if rate.size:
        base = _rate_bases(frame, categories, rate, nominal * factor, label)
        with np.errstate(over="ignore", invalid="ignore"):
            nominal[rate] = frame["rate"].to_numpy(float)[rate] * base
        factor[rate] = 1.0
        # rate lines apply to the other lines' costs in the common price year
        frame.loc[rate, "price_year"] = price_year
        rate_of = frame["rate_of"].to_numpy()
        bases = dict(zip(rate.tolist(), base.tolist(), strict=True))
        _refuse_non_finite(
            rate,
            nominal,
            factor,
            lambda i: f"rate x the total of category {shown(str(rate_of[i]))} ({_shown(bases[i])})",
            label,
        )
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
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    for k in keys:
        if k not in table:
            raise DataStructureError(f"cost_totals: {unknown('column', k, table.columns)}")
    cost = table["cost"].to_numpy(float)
    gap = np.flatnonzero(~np.isfinite(cost))
    if gap.size:
        # pandas' sum would skip a NaN cost and carry an inf one: neither is a total
        i = int(gap[0])
        item = table["item"].iloc[i] if "item" in table else None
        named = (
            ""
            if item is None or (pd.api.types.is_scalar(item) and pd.isna(item))
            else (f" ({item if isinstance(item, str) and len(item) <= 40 else _shown(item)})")
        )
        raise CostError(
            f"cost_totals: row {i + 1}{named} has cost {_shown(cost[i])}, not a finite number"
        )
    with np.errstate(over="ignore"):
        if by is None:
            out = pd.DataFrame({"cost": [float(table["cost"].sum())]})
        else:
            out = table.groupby(keys, dropna=False, sort=True)["cost"].sum().reset_index()
    over = np.flatnonzero(~np.isfinite(out["cost"].to_numpy(float)))
    if over.size:
        which = "" if by is None else f" for {shown(out.loc[int(over[0]), keys].to_dict(), 80)}"
        raise CostError(
            f"cost_totals: the total cost{which} is not a finite number (it passes the "
            "largest float)"
        )
    return out
