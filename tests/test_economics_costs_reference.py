"""cost_table and inflation_factors against the row-by-row implementation they replaced.

``_reference_cost_table`` and ``_reference_inflation_factors`` are the code as it stood before
it was vectorised (one ``frame.iloc[i]`` per line), kept here unchanged in substance as the
oracle: every result frame must match it exactly (values, dtypes, column order) and every bad
input must raise the same exception with the same message, naming the same first line.

Where behaviour was changed on purpose the oracle was changed with it, each place marked
"deliberate": price years are whole years (``_reference_year``) rather than ``int()`` of
anything, a cost that overflows is refused, and a line with no category is "".
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes._internal.text import unknown
from outcomes.economics import cost_table, inflation_factors
from outcomes.economics.costs import _KNOWN, _METHOD_COLUMNS, _NUMERIC, CostError, _as_index
from outcomes.errors import DataStructureError

# ----------------------------------------------------------------------------- the oracle


def _reference_year(v):
    """Deliberate: the whole-year rule in its plainest form (``int()`` made 2024.7 into 2024,
    True into 1, and raised bare ValueError/OverflowError on "abc" and inf)."""
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | np.integer):
        y = int(v)
    elif isinstance(v, float | np.floating):
        if not math.isfinite(v) or v % 1 != 0:
            return None
        y = int(v)
    elif isinstance(v, str) and v.isascii() and v.isdigit():
        y = int(v)
    else:
        return None
    return y if -(2**53) < y < 2**53 else None


def _show(v):
    return repr(v.item() if isinstance(v, np.generic) else v)


def _reference_inflation_factors(years, price_year, price_index=None):
    index = _as_index(price_index)
    given = list(years)
    years = [_reference_year(y) for y in given]
    for i, y in enumerate(years):
        if y is None:
            raise CostError(
                f"inflation_factors: years[{i}] must be a whole year such as 2025, "
                f"got {_show(given[i])}"
            )
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
        if not (math.isfinite(out[i]) and out[i] > 0):  # deliberate: was inf or 0
            raise CostError(
                f"price_index: the factor from {y} to {price_year} prices, "
                f"{index[price_year]!r} / {index[y]!r}, is not a finite positive number"
            )
    return out


def _reference_line_method(row, label):
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


def _reference_cost_table(items, *, price_year, price_index=None):
    if isinstance(items, pd.DataFrame):
        frame = items.copy()
    else:
        frame = pd.DataFrame(list(items))
    if frame.empty:
        raise DataStructureError("cost_table: no cost lines were given")
    names = list(frame.columns)
    for name in names:
        if names.count(name) > 1:  # deliberate: a duplicate made frame[name] a table
            raise DataStructureError(
                f"cost_table: column {name!r} appears {names.count(name)} times in items; keep one"
            )
    extra = sorted(set(map(str, frame.columns)) - _KNOWN)
    if extra:
        raise DataStructureError(
            f"cost_table: unknown column(s) {extra}; "
            + unknown("column", extra[0], sorted(_KNOWN)).split("; ", 1)[1]
        )
    frame = frame.reset_index(drop=True)
    for col in ("item", "category"):
        if col not in frame:
            frame[col] = "" if col == "category" else [f"line {i + 1}" for i in range(len(frame))]
    missing = frame["category"].isna()
    if missing.any():  # deliberate: these stayed NaN beside filled lines ("nan" to rate_of)
        category = frame["category"]
        if isinstance(category.dtype, pd.CategoricalDtype) and "" not in category.cat.categories:
            category = category.cat.add_categories("")
        frame["category"] = category.mask(missing, "")
    # deliberate: a line with no item beside named ones was labelled "(nan)"; it is now
    # "line N" as when the column is absent, in the output too
    frame["item"] = [
        f"line {i + 1}" if pd.api.types.is_scalar(v) and pd.isna(v) else v
        for i, v in enumerate(frame["item"])
    ]
    labels = [f"{i + 1} ({frame.at[i, 'item']!s})" for i in range(len(frame))]
    for col in _NUMERIC:
        if col not in frame:
            continue
        values = frame[col]
        bad = values.map(lambda v: isinstance(v, bool | np.bool_) or isinstance(v, str))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            # deliberate: a numpy bool was shown as np.True_
            raise CostError(
                f"cost line {labels[i]}: {col} must be a number, got {_show(values[i])}"
            )
        num = pd.to_numeric(values, errors="coerce").astype(float)
        neg = (num < 0) | np.isinf(num)
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise CostError(
                f"cost line {labels[i]}: {col} must be a finite number >= 0, got {_show(values[i])}"
            )
        frame[col] = num
    methods = [_reference_line_method(frame.iloc[i], labels[i]) for i in range(len(frame))]
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
    given = frame["price_year"] if "price_year" in frame else pd.Series(np.nan, index=frame.index)
    years = []
    for i, y in enumerate(given):
        if pd.api.types.is_scalar(y) and pd.isna(y):
            years.append(price_year)
        elif _reference_year(y) is None:
            raise CostError(
                f"cost line {labels[i]}: price_year must be a whole year such as 2025, "
                f"got {_show(y)}"
            )
        else:
            years.append(_reference_year(y))
    frame["price_year"] = years
    factor = _reference_inflation_factors(years, price_year, price_index)
    formula = {
        "staff": "fte x salary x (1 + on_cost_rate) x months / 12",
        "quantity": "quantity x unit_cost",
        "amount": "amount",
    }
    for i, m in enumerate(methods):  # deliberate: an overflow was a silent inf
        if m != "rate" and not math.isfinite(nominal[i] * factor[i]):
            if not math.isfinite(nominal[i]):
                why = f"{formula[m]} gives {_show(nominal[i])}"
            else:
                why = (
                    f"{_show(nominal[i])} in its own prices x inflation factor "
                    f"{_show(factor[i])} gives {_show(nominal[i] * factor[i])}"
                )
            raise CostError(f"cost line {labels[i]}: the cost is not a finite number ({why})")
    categories = frame["category"].astype(str)
    bases = {}
    for i, m in enumerate(methods):
        if m != "rate":
            continue
        of = str(frame.at[i, "rate_of"])
        base_rows = (categories == of).to_numpy() & (np.array(methods) != "rate")
        if not base_rows.any():
            # deliberate: a missing category (NaN beside text) made sorted() raise TypeError
            # instead of naming the line; it is now left out of the list
            present = sorted(
                {c for c in categories[np.array(methods) != "rate"] if isinstance(c, str)}
            )
            raise CostError(f"cost line {labels[i]}: rate_of {unknown('category', of, present)}")
        bases[i] = float(np.sum(nominal[base_rows] * factor[base_rows]))
        nominal[i] = frame.at[i, "rate"] * bases[i]
        factor[i] = 1.0
        frame.at[i, "price_year"] = price_year
    for i, base in bases.items():
        if not math.isfinite(nominal[i]):
            raise CostError(
                f"cost line {labels[i]}: the cost is not a finite number (rate x the total "
                f"of category {str(frame.at[i, 'rate_of'])!r} ({base!r}) gives {_show(nominal[i])})"
            )
    frame["cost_nominal"] = nominal
    frame["inflation_factor"] = factor
    frame["cost"] = nominal * factor
    frame.attrs["economics"] = {"price_year": price_year}
    return frame


def _outcome(fn, *args, **kwargs):
    """("ok", result) or ("raised", exception type, message)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # the comparison is of whatever either raises
        return ("raised", type(e), str(e))


def _assert_same(items, **kwargs):
    copy = items.copy() if isinstance(items, pd.DataFrame) else [dict(d) for d in items]
    with warnings.catch_warnings():
        # an overflow is a CostError naming the line, never a numpy warning beside an inf
        warnings.simplefilter("error", RuntimeWarning)
        new = _outcome(cost_table, items, **kwargs)
    with np.errstate(over="ignore", invalid="ignore"):
        old = _outcome(_reference_cost_table, copy, **kwargs)
    if old[0] == "raised" or new[0] == "raised":
        assert new == old
        return
    pd.testing.assert_frame_equal(new[1], old[1], check_exact=True)
    assert new[1].attrs == old[1].attrs


# ----------------------------------------------------------------------------- strategies

_CATEGORIES = ["staff", "sessions", "training", "overheads", ""]
_YEARS = [2022, 2023, 2024, 2025]
_OK = st.sampled_from([0.0, 0.5, 1.0, 3.0, 12.0, 150.0, 38000.0, 52000.5, 1e-3, 7])
#: the values a careless spreadsheet puts in a number column
_BAD = st.sampled_from(
    [-1.0, -0.0, float("inf"), -float("inf"), True, False, np.True_, "12", "x", "", None]
    + [1e200, 1e308]  # finite, but a product or an inflation factor overflows
)
#: whole years however given, then what a spreadsheet makes of a year
_GOOD_YEARS = [*_YEARS, float("nan"), 2023.0, "2023", np.int32(2024), np.float64(2022.0)]
_BAD_YEARS = [2024.7, -0.5, "abc", " 2023", "2023.0", "", float("inf"), True, np.False_, 1e300]


#: valid numbers whose products, inflation or totals can pass the largest float
_HUGE = st.sampled_from([1e154, 1e200, 1e308, 1.7e308])


@st.composite
def _line(draw, allow_bad: bool, huge: bool = False):
    line: dict = {}
    bad = allow_bad and draw(st.integers(0, 5)) == 0
    missing = st.sampled_from([float("nan"), None])
    value = st.one_of(_OK, _OK, _OK, missing, _BAD) if bad else _OK
    if huge:
        # one huge factor overflows any product, so one product in a line or two is huge
        # and the rest of the overflows come from amounts: through inflation or through
        # the total a rate line takes a share of
        value = st.one_of(_OK, _HUGE) if draw(st.integers(0, 9)) == 9 else _OK
    # mostly one method, sometimes none, two, or one half-filled
    n_methods = draw(st.sampled_from([1] * 14 + [0, 2] if allow_bad else [1]))
    chosen = draw(st.lists(st.sampled_from(list(_METHOD_COLUMNS)), min_size=n_methods,
                           max_size=n_methods, unique=True))  # fmt: skip
    for m in chosen:
        for col in _METHOD_COLUMNS[m]:
            if col == "rate_of":
                names = _CATEGORIES + (["staf", "nothing"] if allow_bad else ["staff"] * 3)
                line[col] = draw(st.sampled_from(names))
            elif huge and col == "amount":
                line[col] = draw(st.one_of(_OK, _HUGE))
            else:
                line[col] = draw(value)
        if m == "staff":
            if draw(st.booleans()):
                line["on_cost_rate"] = draw(st.one_of(st.just(float("nan")), value))
            if draw(st.booleans()):
                line["months"] = draw(st.one_of(st.just(float("nan")), value))
    if allow_bad and draw(st.integers(0, 19)) == 0:
        line[draw(st.sampled_from(["fte", "amount", "quantity"]))] = draw(value)
    if draw(st.integers(0, 7)) > 0:
        line["category"] = draw(st.sampled_from(_CATEGORIES))
    if draw(st.booleans()):
        line["item"] = draw(st.sampled_from(["EMHP", "lead", "groups", "x", "", 7]))
    if draw(st.booleans()):
        line["site"] = draw(st.sampled_from(["A", "B", None]))
    if draw(st.booleans()):
        line["month"] = draw(st.sampled_from(["2025-01", "2025-02"]))
    if draw(st.booleans()):
        line["source"] = "PSSRU"
    if draw(st.booleans()):
        years = _GOOD_YEARS + (_BAD_YEARS if allow_bad and draw(st.integers(0, 3)) == 0 else [])
        line["price_year"] = draw(st.sampled_from(years))
    return line


_FULL_INDEXES = st.sampled_from(
    [
        {2022: 95.0, 2023: 100.0, 2024: 106.0, 2025: 112.0},
        pd.DataFrame({"year": _YEARS, "index": [95.0, 100.0, 106.0, 112.0]}),
    ]
)
_INDEXES = st.sampled_from(
    [
        None,
        {2023: 100.0, 2024: 106.0, 2025: 112.0},
        {2022: 95.0, 2023: 100.0, 2024: 106.0, 2025: 112.0},
        {2023: 100.0, 2024: 106.0},
        pd.DataFrame({"Year": [2022, 2025], "Index": [95.0, 114.0]}),
    ]
)


def _budget(allow_bad: bool, huge: bool = False):
    return st.tuples(
        st.lists(_line(allow_bad, huge), min_size=1, max_size=8),
        st.sampled_from([2024, 2025]),
        _INDEXES if allow_bad else _FULL_INDEXES,
        st.booleans(),
    )


def _items(lines, as_frame):
    return pd.DataFrame(lines) if as_frame else lines


# ----------------------------------------------------------------------------- properties


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_budget(allow_bad=False))
def test_good_budgets_cost_exactly_as_line_by_line(budget):
    lines, price_year, index, as_frame = budget
    _assert_same(_items(lines, as_frame), price_year=price_year, price_index=index)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(_budget(allow_bad=True))
def test_bad_budgets_raise_the_same_error_for_the_same_line(budget):
    lines, price_year, index, as_frame = budget
    _assert_same(_items(lines, as_frame), price_year=price_year, price_index=index)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_budget(allow_bad=False, huge=True))
def test_overflowing_budgets_are_refused_naming_the_same_line(budget):
    # deliberate change: the old code returned inf or NaN costs with a numpy warning
    lines, price_year, index, as_frame = budget
    _assert_same(_items(lines, as_frame), price_year=price_year, price_index=index)


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_YEARS),
            st.sampled_from([2023.0, 2024.5, float("nan"), float("inf"), 1e300, -0.0]),
            st.sampled_from([None, "2023", "2023.0", "x", True, np.int64(2024)]),
        ),
        max_size=8,
    ),
    st.sampled_from(["list", "array", "series"]),
    st.sampled_from([2024, 2025]),
    _INDEXES,
)
def test_inflation_factors_as_year_by_year(years, kind, price_year, index):
    if kind == "array":
        years = np.array(years) if years else np.array([], dtype=int)
    elif kind == "series":
        years = pd.Series(years, dtype=object if any(isinstance(y, str) for y in years) else None)
    new = _outcome(inflation_factors, years, price_year, index)
    old = _outcome(_reference_inflation_factors, years, price_year, index)
    if new[0] == "ok" and old[0] == "ok":
        np.testing.assert_array_equal(new[1], old[1])
        assert new[1].dtype == old[1].dtype
    elif old[0] == "raised" and "parameter" in new[2]:
        pass  # the public verb refuses some inputs up front that the bare loop would take
    else:
        assert new == old


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_budgets_match_to_the_last_bit(seed):
    # hundreds of lines per category so the base of a rate line is a sum long enough for
    # numpy's blocked pairwise summation to matter: the order of the terms must be kept
    rng = np.random.default_rng(seed)
    n = 3000
    method = rng.choice(["staff", "quantity", "amount", "rate"], n, p=[0.3, 0.3, 0.3, 0.1])
    cat = rng.choice(["staff", "sessions", "training"], n)
    frame = pd.DataFrame(
        {
            "item": np.arange(n).astype(str),
            "category": cat,
            "fte": np.where(method == "staff", rng.uniform(0.1, 1.5, n), np.nan),
            "salary": np.where(method == "staff", rng.uniform(2e4, 6e4, n), np.nan),
            "on_cost_rate": np.where(rng.random(n) < 0.5, rng.uniform(0, 0.4, n), np.nan),
            "months": np.where(rng.random(n) < 0.5, rng.integers(1, 13, n), np.nan),
            "quantity": np.where(method == "quantity", rng.integers(0, 40, n), np.nan),
            "unit_cost": np.where(method == "quantity", rng.uniform(1, 300, n), np.nan),
            "amount": np.where(method == "amount", rng.uniform(0, 1e4, n), np.nan),
            "rate": np.where(method == "rate", rng.uniform(0, 0.3, n), np.nan),
            "rate_of": np.where(method == "rate", rng.choice(["staff", "sessions"], n), None),
            "price_year": rng.choice([2023, 2024, 2025, np.nan], n),
        }
    )
    _assert_same(frame, price_year=2025, price_index={2023: 100.0, 2024: 106.0, 2025: 112.0})


@pytest.mark.parametrize(
    "column, values",
    [
        ("price_year", ["2023", 2024]),  # digit text is a whole year
        ("price_year", ["2023.0", 2024]),  # other text is not
        ("price_year", [2023.9, -0.5]),  # deliberate: refused, was truncated by int()
        ("price_year", ["abc", 2024]),  # deliberate: refused, was a bare ValueError
        ("price_year", [float("inf"), 2024]),
        ("price_year", pd.array([2023, None], dtype="Int64")),
        ("price_year", [True, 2024]),
        ("amount", pd.array([1.0, None], dtype="Float64")),
        ("amount", pd.array([True, False], dtype="boolean")),
        ("amount", ["1", 2]),
        ("amount", [np.bool_(False), 2]),
        ("amount", pd.Categorical([1.0, 2.0])),
        ("rate_of", ["staff", 1.0]),
        ("category", [None, "staff"]),
        ("category", [float("nan"), float("nan")]),
        ("category", pd.array(["staff", None], dtype="string")),
        ("category", [1, 2]),
    ],
)
def test_odd_columns_are_treated_as_before(column, values):
    frame = pd.DataFrame(
        {"item": ["a", "b"], "category": ["staff", "x"], "amount": [10.0, float("nan")],
         "rate": [float("nan"), 0.1], "rate_of": [None, "staff"]}
    )  # fmt: skip
    frame[column] = values
    if column == "rate_of":
        frame["category"] = ["1.0", "x"]
    _assert_same(frame, price_year=2024, price_index={2023: 1.0, 2024: 1.1})


def test_many_rate_lines_naming_nothing_name_the_first():
    lines = [{"item": "base", "category": "staff", "amount": 100.0}]
    lines += [{"item": f"r{i}", "rate": 0.1, "rate_of": "staff"} for i in range(5)]
    lines += [{"item": "bad", "rate": 0.1, "rate_of": "staf"}, {"rate": 0.1, "rate_of": "zz"}]
    _assert_same(lines, price_year=2025)
    with pytest.raises(CostError, match=r"cost line 7 \(bad\): rate_of unknown category 'staf'"):
        cost_table(lines, price_year=2025)


def test_a_rate_line_naming_nothing_beside_a_line_with_no_category():
    # this was a TypeError from sorting the categories with the missing one among them
    lines = [
        {"category": "staff", "amount": 1.0},
        {"amount": 2.0},
        {"rate": 0.1, "rate_of": "staf"},
    ]
    with pytest.raises(
        CostError,
        match=r"cost line 3 \(line 3\): rate_of unknown category 'staf'; did you mean 'staff'",
    ):
        cost_table(lines, price_year=2025)


def test_reference_agrees_with_the_hand_costed_budget():
    # the oracle itself on the hand-derived budget of test_economics
    t = _reference_cost_table(
        [{"item": "EMHP", "category": "staff", "fte": 0.8, "salary": 38000,
          "on_cost_rate": 0.28, "months": 9},
         {"item": "overheads", "category": "overheads", "rate": 0.15, "rate_of": "staff"}],
        price_year=2025,
    )  # fmt: skip
    # 0.8 x 38,000 x 1.28 x 9/12 = 29,184; 15% of it = 4,377.60
    assert t["cost"].tolist() == [pytest.approx(29184.0), pytest.approx(4377.6)]
    assert not math.isnan(t["cost"].sum())


_THREE = [
    {"item": "a", "category": "staff", "fte": 1.0, "salary": 100.0, "price_year": 2023},
    {"item": "b", "category": "staff", "amount": 5.0},
    {"item": "r", "rate": 0.1, "rate_of": "staff"},
]


@pytest.mark.parametrize("price_year", [2025, np.int64(2025), np.int32(2025)])
@pytest.mark.parametrize("with_years", [True, False])
def test_the_price_year_column_keeps_its_type(price_year, with_years):
    lines = [{k: v for k, v in d.items() if with_years or k != "price_year"} for d in _THREE]
    _assert_same(lines, price_year=price_year, price_index={2023: 1.0, 2025: 1.2})


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.set_axis(["x", "y", "z"]),
        lambda f: f.drop(columns=["item", "category"]),
        lambda f: f.assign(price_year=f["price_year"].astype("Int64")),
        lambda f: f.assign(price_year=np.array([2023, 2025, 2025], dtype=np.uint16)),
        lambda f: f.assign(price_year=[1e300, np.nan, np.nan]),
        lambda f: f.assign(fte=f["fte"].astype("Float64"), amount=f["amount"].astype(object)),
        lambda f: f.assign(
            category=pd.Categorical(["staff", "staff", None]),
            rate_of=pd.Categorical([None, None, "staff"]),
        ),
    ],
)
def test_odd_frames_are_treated_as_before(change):
    frame = change(pd.DataFrame(_THREE))
    _assert_same(frame, price_year=2025, price_index={2023: 1.0, 2025: 1.2})
