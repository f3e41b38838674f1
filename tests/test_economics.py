"""oc.economics: every formula checked by hand arithmetic written beside the number."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import outcomes as oc
from outcomes.economics import (
    Benefit,
    CostError,
    cost_benefit,
    cost_consequence,
    cost_per_outcome,
    cost_per_unit,
    cost_table,
    cost_totals,
    discount_factors,
    distribution,
    inflation_factors,
    one_way,
    present_value,
    probabilistic,
)
from outcomes.errors import OutcomesError

# ----------------------------------------------------------------------------- costs


def test_every_costing_method_by_hand():
    t = cost_table(
        [
            # 0.8 x 38,000 x 1.28 x 9/12 = 29,184
            {"item": "EMHP", "category": "staff", "fte": 0.8, "salary": 38000,
             "on_cost_rate": 0.28, "months": 9, "site": "A"},
            # 1.0 x 52,000 x 1.0 x 12/12 = 52,000 (no on-costs given, a full year)
            {"item": "lead", "category": "staff", "fte": 1.0, "salary": 52000, "site": "B"},
            # 12 x 250 = 3,000
            {"item": "groups", "category": "sessions", "quantity": 12, "unit_cost": 250},
            # a lump sum in 2023 prices, index 100 -> 112: 5,000 x 1.12 = 5,600
            {"item": "training", "category": "training", "amount": 5000, "price_year": 2023},
            # 15% of staff: 0.15 x (29,184 + 52,000) = 12,177.60
            {"item": "overheads", "category": "overheads", "rate": 0.15, "rate_of": "staff"},
        ],
        price_year=2025,
        price_index={2023: 100.0, 2024: 106.0, 2025: 112.0},
    )  # fmt: skip
    assert t["method"].tolist() == ["staff", "staff", "quantity", "amount", "rate"]
    assert t["cost"].round(2).tolist() == [29184.0, 52000.0, 3000.0, 5600.0, 12177.6]
    assert t.loc[3, "cost_nominal"] == 5000 and t.loc[3, "inflation_factor"] == pytest.approx(1.12)
    # total 29,184 + 52,000 + 3,000 + 5,600 + 12,177.6 = 101,961.6
    assert cost_totals(t)["cost"].iloc[0] == pytest.approx(101961.6)
    by_cat = cost_totals(t, by="category").set_index("category")["cost"]
    assert by_cat["staff"] == pytest.approx(81184.0)


def test_price_index_as_a_table_and_the_factor():
    idx = pd.DataFrame({"Year": [2022, 2025], "Index": [95.0, 114.0]})
    # 114 / 95 = 1.2
    assert inflation_factors([2022], 2025, idx)[0] == pytest.approx(1.2)


@pytest.mark.parametrize(
    "line, message",
    [
        ({"item": "x", "fte": 1.0}, "fill exactly one way"),
        ({"item": "x", "amount": 1, "quantity": 2, "unit_cost": 3}, "quantity and amount"),
        ({"item": "x", "amount": -5}, ">= 0"),
        ({"item": "x", "amount": True}, "must be a number"),
        ({"item": "x", "amount": float("inf")}, ">= 0"),
        ({"item": "x", "amount": 10, "price_year": 2020}, "need a price index"),
        ({"item": "x", "rate": 0.1, "rate_of": "staf"}, "did you mean 'staff'"),
        ({"item": "x", "amuont": 3}, "did you mean 'amount'"),
    ],
)
def test_bad_cost_lines_are_refused_naming_the_line(line, message):
    lines = [{"item": "base", "category": "staff", "amount": 100}, line]
    with pytest.raises(OutcomesError, match=message):
        cost_table(lines, price_year=2025, price_index=None)


def test_missing_index_year_suggests_the_near_one():
    with pytest.raises(CostError, match="has 2023, 2025"):
        cost_table([{"amount": 1, "price_year": 2024}], price_year=2023,
                   price_index={2023: 1.0, 2025: 1.1})  # fmt: skip


def test_price_year_must_be_a_year():
    for bad in (2025.5, "2025", True):
        with pytest.raises(OutcomesError, match="parameter 'price_year'"):
            cost_table([{"amount": 1}], price_year=bad)


# the reviewer's cases: each refused with a CostError naming the line, or made consistent

_BASE = {"item": "base", "category": "staff", "amount": 100}
_INDEX = {2023: 100.0, 2024: 106.0, 2025: 112.0}


@pytest.mark.parametrize("year", [2023, 2023.0, "2023", np.int32(2023), np.float64(2023.0)])
def test_a_whole_price_year_however_given_is_that_year(year):
    t = cost_table([_BASE, {"item": "EMHP", "amount": 5000, "price_year": year}],
                   price_year=2025, price_index=_INDEX)  # fmt: skip
    # 5,000 in 2023 prices x 112/100 = 5,600
    assert t["price_year"].tolist() == [2025, 2023]
    assert t.loc[1, "cost"] == pytest.approx(5600.0)


@pytest.mark.parametrize(
    "year, shown",
    [
        (2024.7, "2024.7"),  # int() made it 2024
        (-0.5, "-0.5"),
        ("abc", "'abc'"),  # int() raised a bare ValueError
        (" 2023", "' 2023'"),
        ("2023.0", "'2023.0'"),
        (float("inf"), "inf"),  # int() raised a bare OverflowError
        (True, "True"),  # int() made it 1
        (np.bool_(False), "False"),
        (1e300, "1e+300"),  # whole, but past the floats that tell years apart
    ],
)
def test_a_price_year_that_is_not_a_whole_year_is_refused_naming_the_line(year, shown):
    lines = [_BASE, {"item": "EMHP", "amount": 5000, "price_year": year}]
    message = f"cost line 2 (EMHP): price_year must be a whole year such as 2025, got {shown}"
    for items in (lines, pd.DataFrame(lines)):
        with pytest.raises(CostError) as e:
            cost_table(items, price_year=2025, price_index=_INDEX)
        assert str(e.value) == message


@pytest.mark.parametrize(
    "index, message",
    [
        ({2023.5: 100.0, 2025: 112.0}, "price_index: year 2023.5 must be a whole year such as 2025"),
        ({"x": 100.0, 2025: 112.0}, "price_index: year 'x' must be a whole year such as 2025"),
        ({float("inf"): 1.0, 2025: 1.0}, "price_index: year inf must be a whole year such as 2025"),
        ({True: 1.0, 2025: 1.0}, "price_index: year True must be a whole year such as 2025"),
        ({"2023": 100.0, 2023: 101.0}, "price_index: year 2023 is given more than once"),
        (pd.DataFrame({"year": [2023, 2023.0], "index": [1.0, 2.0]}),
         "price_index: year 2023 is given more than once"),
        ({2023: "100", 2025: 112.0}, "price_index: the index for 2023 must be a positive number, got '100'"),
        ({2023: True, 2025: 112.0}, "price_index: the index for 2023 must be a positive number, got True"),
        ({2023: float("nan")}, "price_index: the index for 2023 must be a positive number, got nan"),
        ({2023: float("inf")}, "price_index: the index for 2023 must be a positive number, got inf"),
        ({2023: 0}, "price_index: the index for 2023 must be a positive number, got 0"),
        ({2023: -1.0}, "price_index: the index for 2023 must be a positive number, got -1.0"),
        ({2023: 1e-300, 2025: 1e300},
         "price_index: the factor from 2023 to 2025 prices, 1e+300 / 1e-300, is not a finite "
         "positive number"),
    ],
)  # fmt: skip
def test_a_price_index_that_is_not_years_and_positive_numbers_is_refused(index, message):
    lines = [_BASE, {"item": "EMHP", "amount": 5000, "price_year": 2023}]
    with pytest.raises(CostError) as e:
        cost_table(lines, price_year=2025, price_index=index)
    assert str(e.value) == message


def test_a_price_index_table_with_two_year_columns_is_refused():
    index = pd.DataFrame({"year": [2023, 2025], "Year": [2023, 2025], "index": [1.0, 1.1]})
    with pytest.raises(OutcomesError, match=r"price_index has 2 columns named 'year'"):
        cost_table([_BASE], price_year=2025, price_index=index)


def test_inflation_factors_takes_whole_years_only():
    # "2023" and 2023.0 are 2023: 112 / 100 = 1.12
    assert inflation_factors(["2023", 2023.0], 2025, _INDEX).tolist() == [1.12, 1.12]
    for years, shown in (([2025, 2023.5], "2023.5"), ([None], "None"), ([True], "True")):
        with pytest.raises(CostError) as e:
            inflation_factors(years, 2025, _INDEX)
        position = len(years) - 1
        assert str(e.value) == (
            f"inflation_factors: years[{position}] must be a whole year such as 2025, got {shown}"
        )


@pytest.mark.parametrize(
    "line, message",
    [
        # 10 x 1e308 passes the largest float (about 1.8e308)
        ({"item": "EMHP", "fte": 10, "salary": 1e308},
         "cost line 2 (EMHP): the cost is not a finite number "
         "(fte x salary x (1 + on_cost_rate) x months / 12 gives inf)"),
        # inf x 0 months is NaN
        ({"item": "EMHP", "fte": 1e300, "salary": 1e300, "months": 0},
         "cost line 2 (EMHP): the cost is not a finite number "
         "(fte x salary x (1 + on_cost_rate) x months / 12 gives nan)"),
        ({"item": "groups", "quantity": 1e200, "unit_cost": 1e200},
         "cost line 2 (groups): the cost is not a finite number (quantity x unit_cost gives inf)"),
        # finite in 2023 prices, 1.7e308 x 1.12 is not
        ({"item": "licence", "amount": 1.7e308, "price_year": 2023},
         "cost line 2 (licence): the cost is not a finite number (1.7e+308 in its own prices x "
         "inflation factor 1.12 gives inf)"),
    ],
)  # fmt: skip
def test_a_cost_that_overflows_is_refused_naming_the_line(line, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning beside the error
        with pytest.raises(CostError) as e:
            cost_table([_BASE, line], price_year=2025, price_index=_INDEX)
    assert str(e.value) == message


def test_a_rate_of_a_total_that_overflows_is_refused_naming_the_rate_line():
    lines = [
        {"item": "a", "category": "staff", "amount": 1e308},
        {"item": "b", "category": "staff", "amount": 1e308},
        {"item": "overheads", "rate": 0.1, "rate_of": "staff"},
    ]
    with pytest.raises(CostError) as e:
        cost_table(lines, price_year=2025)
    assert str(e.value) == (
        "cost line 3 (overheads): the cost is not a finite number "
        "(rate x the total of category 'staff' (inf) gives inf)"
    )


def test_cost_totals_refuse_a_total_that_is_not_a_number():
    lines = [{"item": "a", "category": "staff", "amount": 1e308},
             {"item": "b", "category": "staff", "amount": 1e308},
             {"item": "c", "category": "training", "amount": 1.0}]  # fmt: skip
    t = cost_table(lines, price_year=2025)
    with pytest.raises(CostError, match=r"the total cost is not a finite number"):
        cost_totals(t)
    with pytest.raises(CostError, match=r"total cost for \{'category': 'staff'\} is not a"):
        cost_totals(t, by="category")
    # pandas' sum would have skipped a NaN cost in a table edited by hand
    t.loc[2, "cost"] = np.nan
    with pytest.raises(CostError, match=r"row 3 \(c\) has cost nan, not a finite number"):
        cost_totals(t)


def test_a_line_with_no_category_is_uncategorised_either_way():
    with_column = cost_table([_BASE, {"item": "x", "amount": 7}], price_year=2025)
    without = cost_table([{"item": "base", "amount": 100}, {"item": "x", "amount": 7}],
                         price_year=2025)  # fmt: skip
    assert with_column["category"].tolist() == ["staff", ""]
    assert without["category"].tolist() == ["", ""]
    # the uncategorised line is a group of its own in the totals: 7, and 100 for staff
    totals = cost_totals(with_column, by="category")
    assert totals.to_dict("list") == {"category": ["", "staff"], "cost": [7.0, 100.0]}
    # a missing category read as text was "nan", which a rate line could name
    with pytest.raises(CostError, match=r"cost line 3 \(r\): rate_of unknown category 'nan'"):
        cost_table([_BASE, {"item": "x", "category": float("nan"), "amount": 7},
                    {"item": "r", "rate": 0.1, "rate_of": "nan"}], price_year=2025)  # fmt: skip


def test_a_column_given_twice_is_refused_naming_it():
    frame = pd.DataFrame([["a", 1.0, 2.0]], columns=["item", "amount", "amount"])
    with pytest.raises(OutcomesError) as e:
        cost_table(frame, price_year=2025)
    assert str(e.value) == "cost_table: column 'amount' appears 2 times in items; keep one"


# ----------------------------------------------------------------------------- per unit/outcome


def test_cost_per_unit_by_hand():
    t = cost_per_unit(90000, {"child": 300, "contact": 1800, "school": 0})
    # 90,000 / 300 = 300; 90,000 / 1,800 = 50; per school with none: not applicable
    assert t["cost_per"].iloc[:2].tolist() == [300.0, 50.0]
    assert np.isnan(t["cost_per"].iloc[2])
    with pytest.raises(OutcomesError, match="units"):
        cost_per_unit(90000, {"child": True})


def test_cost_per_outcome_point_and_supported_scaling():
    x = [1] * 30 + [0] * 70
    r = cost_per_outcome(60000, x, n_resamples=500)
    # 60,000 / 30 improved = 2,000
    assert r.estimate == pytest.approx(2000)
    # 400 children supported, 30% improve among those with data: 60,000 / (400 x 0.3) = 500
    r2 = cost_per_outcome(60000, x, supported=400, n_resamples=500)
    assert r2.estimate == pytest.approx(500)
    assert r2.ci_low < 500 < r2.ci_high


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_bootstrap_interval_matches_the_delta_method_for_large_n(method):
    # p = 0.4, n = 1600: SE(p) = sqrt(0.4 x 0.6 / 1600) = 0.012247; the cost is C / (n p),
    # so its limits are C / (n (p +/- 1.96 SE)) = 100 / (0.4 +/- 0.024005) for C = 160,000:
    # [235.85, 266.69] (Wald on p, mapped through the monotone statistic).
    x = np.r_[np.ones(640), np.zeros(960)]
    r = cost_per_outcome(160000, x, method=method, n_resamples=4000, seed=3)
    assert r.estimate == pytest.approx(250)
    assert r.ci_low == pytest.approx(235.85, rel=0.012)
    assert r.ci_high == pytest.approx(266.69, rel=0.012)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    share=st.floats(0.05, 0.95),
    per_child=st.booleans(),
    supported=st.sampled_from([None, 500.0]),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    seed=st.integers(0, 10_000),
)
def test_bca_equals_scipy_bootstrap_bca_on_the_same_resamples(
    n, share, per_child, supported, confidence, seed
):
    # The BCa limits are computed from scipy's bootstrap distribution with an O(n) jackknife
    # (scipy's own builds every jackknife sample, n x (n - 1) values): scipy's
    # bootstrap(method="BCa") on the same data, statistic and seed is the reference.
    rng = np.random.default_rng(seed)
    x = (rng.random(n) < share).astype(float)
    x[0], x[1] = 1.0, 0.0  # at least one child each way
    costs = np.round(rng.gamma(2.0, 300.0, n), 2)
    if per_child:
        kwargs = {"total_cost": None, "child_costs": costs}
        data, paired = (costs, x), True

        def stat(c, a, axis=-1):
            with np.errstate(divide="ignore", invalid="ignore"):
                return c.sum(axis=axis) / a.sum(axis=axis)
    else:
        kwargs = {"total_cost": 60000.0, "supported": supported}
        data, paired = (x,), False
        scale = n if supported is None else supported

        def stat(a, axis=-1):
            with np.errstate(divide="ignore"):
                return 60000.0 / (scale * a.mean(axis=axis))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.bootstrap(
            data, stat, n_resamples=999, confidence_level=confidence, method="BCa",
            paired=paired, vectorized=True, rng=np.random.default_rng(seed),
        ).confidence_interval  # fmt: skip
        r = cost_per_outcome(
            achieved=x, confidence=confidence, n_resamples=999, seed=seed, **kwargs
        )
    if np.isnan(ref.low) or np.isnan(ref.high):  # one child achieving: no jackknife
        assert np.isnan(r.ci_low) and np.isnan(r.ci_high)
        assert "BCa interval cannot be calculated" in " ".join(r.quality.to_frame()["what"])
    else:
        assert r.ci_low == pytest.approx(ref.low, rel=1e-9)
        assert r.ci_high == pytest.approx(ref.high, rel=1e-9, nan_ok=True)


def test_bca_for_many_children_holds_no_jackknife_matrix():
    # 60,000 children: scipy's BCa would hold 60,000 x 59,999 jackknife values (29 GB)
    import tracemalloc

    x = np.r_[np.ones(24_000), np.zeros(36_000)]
    tracemalloc.start()
    try:
        r = cost_per_outcome(1_000_000, x, n_resamples=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 400e6
    # delta method: 1e6 / (60,000 (0.4 +/- 1.96 x 0.0020)) = [41.26, 42.08]
    assert r.ci_low == pytest.approx(41.26, rel=0.01)
    assert r.ci_high == pytest.approx(42.08, rel=0.01)


def test_per_child_costs_are_a_ratio_of_sums():
    costs = [100, 200, 300, 400]
    ach = [True, False, True, False]
    # (100 + 200 + 300 + 400) / 2 improved = 500
    r = cost_per_outcome(None, ach, child_costs=costs, n_resamples=200)
    assert r.estimate == 500 and r.total_cost == 1000
    with pytest.raises(OutcomesError, match="either total_cost or child_costs"):
        cost_per_outcome(1000, ach, child_costs=costs)


def test_no_child_achieving_is_recorded_not_divided_by_zero():
    r = cost_per_outcome(1000, [0, 0, 0])
    assert math.isinf(r.estimate) and np.isnan(r.ci_low)
    assert "no child achieved" in r.quality.to_frame()["what"].iloc[0]
    assert "not estimable" in r.summary()


def test_everyone_achieving_gives_a_point_interval():
    r = cost_per_outcome(1000, [1, 1, 1, 1])
    assert (r.estimate, r.ci_low, r.ci_high) == (250, 250, 250)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"achieved": [1, None, 0]}, "missing"),
        ({"achieved": [1, 2, 0]}, "True/False"),
        ({"achieved": [1]}, "at least 2"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"method": "bca"}, "method"),
        ({"n_resamples": 10}, "n_resamples"),
        ({"n_resamples": True}, "n_resamples"),
        ({"total_cost": float("nan")}, "total_cost"),
        ({"total_cost": -1}, "total_cost"),
    ],
)
def test_cost_per_outcome_refuses_nonsense(kwargs, message):
    args = {"total_cost": 1000, "achieved": [1, 0, 1, 0]} | kwargs
    with pytest.raises(OutcomesError, match=message):
        cost_per_outcome(**args)


# ----------------------------------------------------------------------------- discounting, CBA


def test_discounting_is_the_green_book_formula():
    # D_t = 1 / (1.035)^t for t <= 30
    f = discount_factors(31)
    for t in (0, 1, 10, 30):
        assert f[t] == pytest.approx(1 / 1.035**t, rel=1e-12)
    # The declining schedule: year 31 is discounted at 3.0% from year 30:
    # 1 / (1.035^30 x 1.03) = 0.345901; year 76 starts 2.5%.
    g = discount_factors(80, rate="green_book")
    assert g[31] == pytest.approx(1 / (1.035**30 * 1.03), rel=1e-12)
    assert g[76] == pytest.approx(1 / (1.035**30 * 1.03**45 * 1.025), rel=1e-12)
    assert g[31] == pytest.approx(0.345901, abs=1e-6)
    # present value of 1,000 a year for 3 years: 1,000 (1 + 1/1.035 + 1/1.035^2) = 2,899.69
    assert present_value([1000, 1000, 1000]) == pytest.approx(2899.6942, abs=1e-4)
    assert present_value([1000, 1000], rate=0.0) == 2000


def test_cost_benefit_by_hand():
    # Costs 50,000 in year 0 and 20,000 in year 1, with a 10% optimism-bias uplift:
    # 55,000 and 22,000. One benefit: 10 exclusions avoided a year for 3 years at 10,000 in
    # 2024 prices (index 100 -> 105 in 2025: 10,500), deadweight 20%, attribution 75%,
    # optimism bias 10%: 10 x 10,500 x 0.8 x 0.75 x 0.9 = 56,700 a year.
    r = cost_benefit(
        [50000, 20000, 0],
        [{"name": "exclusion avoided", "unit_value": 10000, "quantity": [10, 10, 10],
          "source": "illustrative", "price_year": 2024, "deadweight": 0.2,
          "attribution": 0.75, "optimism_bias": 0.1}],
        price_year=2025, price_index={2024: 100, 2025: 105}, cost_optimism_bias=0.1,
    )  # fmt: skip
    y = r.to_frame()
    assert y["costs"].tolist() == pytest.approx([55000, 22000, 0])
    assert y["benefits"].tolist() == pytest.approx([56700] * 3)
    # PV benefits = 56,700 (1 + 1/1.035 + 1/1.035^2) = 56,700 x 2.8996943 = 164,412.67
    # PV costs = 55,000 + 22,000/1.035 = 76,256.04
    assert y["pv_benefits"].sum() == pytest.approx(164412.6654, abs=1e-3)
    assert y["pv_costs"].sum() == pytest.approx(76256.0386, abs=1e-3)
    assert r.npv == pytest.approx(164412.6654 - 76256.0386, abs=1e-3)
    assert r.bcr == pytest.approx(164412.6654 / 76256.0386)
    # Year 0 alone: 56,700 - 55,000 >= 0: pays back within the first year.
    assert r.payback_years == 0
    assert "benefit-cost ratio 2.16" in r.summary()


def test_payback_interpolates_within_the_year():
    # PV net: year 0 -100, year 1 +60/1.035 = 57.97, year 2 +60/1.035^2 = 56.01
    # cumulative: -100, -42.03, +13.98 -> turns in year 2: 2 + 42.03 / 56.01 = 2.7504
    r = cost_benefit([100, 0, 0], [Benefit("b", 60, [0, 1, 1], "hand", 2025)], price_year=2025)
    gap = 100 - 60 / 1.035
    assert r.payback_years == pytest.approx(2 + gap / (60 / 1.035**2))
    never = cost_benefit([100, 0], [Benefit("b", 1, [1, 1], "hand", 2025)], price_year=2025)
    assert never.payback_years is None and "does not pay back" in never.summary()


@pytest.mark.parametrize(
    "benefit, message",
    [
        ({"deadweight": 1.2}, "deadweight"),
        ({"attribution": True}, "attribution"),
        ({"source": " "}, "comes from"),
        ({"quantity": [1, -1]}, r"benefit 1 \(b\): quantity\[1\] \(year 1\)"),
        ({"quantity": [1, 1, 1, 1]}, "4 years"),
    ],
)
def test_bad_benefit_lines(benefit, message):
    base = {"name": "b", "unit_value": 10, "quantity": [1], "source": "s", "price_year": 2025}
    with pytest.raises(OutcomesError, match=message):
        cost_benefit([1, 1], [base | benefit], price_year=2025)


def test_bad_rates():
    for bad in (1.5, -0.1, True, "greenbook"):
        with pytest.raises(OutcomesError, match="rate"):
            discount_factors(3, rate=bad)


def test_cost_consequence_keeps_costs_and_outcomes_apart():
    t = cost_consequence({"total": 10.0}, pd.DataFrame({"measure": ["m"], "value": [0.5]}))
    assert t[["kind", "measure", "value"]].values.tolist() == [
        ["cost", "total", 10.0],
        ["consequence", "m", 0.5],
    ]
    with pytest.raises(OutcomesError, match="measure"):
        cost_consequence({"total": 1.0}, pd.DataFrame({"x": [1]}))


# ----------------------------------------------------------------------------- sensitivity


def test_one_way_closed_form():
    # NPV = n x v x (1 - d) - c. Moving d from 0 to 0.5 with n = 100, v = 50 swings it by
    # 100 x 50 x 0.5 = 2,500; moving c from 1,000 to 4,000 swings it by 3,000.
    def npv(n, v, d, c):
        return n * v * (1 - d) - c

    r = one_way(npv, {"n": 100, "v": 50, "d": 0.2, "c": 2000},
                {"d": (0.0, 0.5), "c": (1000, 4000), "v": (45, 55)})  # fmt: skip
    t = r.to_frame().set_index("input")
    assert list(t.index) == ["c", "d", "v"]  # widest swing first
    assert t.loc["c", "swing"] == 3000 and t.loc["d", "swing"] == 2500
    # v from 45 to 55: 100 x 10 x 0.8 = 800
    assert t.loc["v", "swing"] == pytest.approx(800)
    assert r.base_value == 100 * 50 * 0.8 - 2000
    with pytest.raises(OutcomesError, match="did you mean 'c'"):
        one_way(npv, {"n": 1, "v": 1, "d": 0, "c": 1}, {"C": (0, 1)})
    with pytest.raises(OutcomesError, match="above high"):
        one_way(npv, {"n": 1, "v": 1, "d": 0, "c": 1}, {"c": (2, 1)})


def test_probabilistic_closed_form_linear_normal():
    # NPV = B - C with B ~ N(12,000, 3,000), C ~ N(9,000, 4,000) independent:
    # NPV ~ N(3,000, 5,000): P(NPV > 0) = Phi(0.6) = 0.725747; sd 5,000.
    r = probabilistic(
        lambda b, c: b - c,
        {"b": {"dist": "normal", "mean": 12000, "sd": 3000},
         "c": {"dist": "normal", "mean": 9000, "sd": 4000}},
        n_draws=40000, seed=7,
    )  # fmt: skip
    f = r.to_frame().iloc[0]
    assert f["mean"] == pytest.approx(3000, abs=4 * 5000 / math.sqrt(40000))
    assert f["sd"] == pytest.approx(5000, rel=0.02)
    assert r.prob_above == pytest.approx(stats.norm.cdf(0.6), abs=0.01)
    # 95% of draws between 3,000 -/+ 1.96 x 5,000
    assert f["ci_low"] == pytest.approx(3000 - 9800, abs=200)
    again = probabilistic(lambda b, c: b - c, {"b": {"dist": "normal", "mean": 1, "sd": 1},
                                               "c": 0.0}, seed=7)  # fmt: skip
    same = probabilistic(lambda b, c: b - c, {"b": {"dist": "normal", "mean": 1, "sd": 1},
                                              "c": 0.0}, seed=7)  # fmt: skip
    assert again.draws.equals(same.draws)


@pytest.mark.parametrize(
    "spec, mean, sd",
    [
        ({"dist": "gamma", "mean": 2000, "sd": 500}, 2000, 500),
        ({"dist": "beta", "mean": 0.3, "sd": 0.1}, 0.3, 0.1),
        ({"dist": "lognormal", "mean": 50, "sd": 20}, 50, 20),
        ({"dist": "uniform", "low": 2, "high": 4}, 3, 2 / math.sqrt(12)),
        # triangular mean (a + m + b) / 3; variance (a^2+m^2+b^2-am-ab-mb)/18
        ({"dist": "triangular", "low": 0, "mode": 1, "high": 5}, 2, math.sqrt(21 / 18)),
    ],
)
def test_distributions_have_the_moments_asked_for(spec, mean, sd):
    d = distribution(spec)
    assert d.mean() == pytest.approx(mean) and d.std() == pytest.approx(sd)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "norml", "mean": 1, "sd": 1},
        {"dist": "gamma", "mean": -1, "sd": 1},
        {"dist": "beta", "mean": 0.5, "sd": 0.6},
        {"dist": "normal", "mean": 1},
        {"dist": "normal", "mean": True, "sd": 1},
        {"mean": 1},
    ],
)
def test_bad_distributions(spec):
    with pytest.raises(OutcomesError):
        distribution(spec)


@settings(max_examples=30, deadline=None)
@given(
    costs=st.lists(st.floats(0, 1e6), min_size=1, max_size=8),
    rate=st.floats(0, 0.2),
)
def test_npv_equals_pv_benefits_minus_pv_costs(costs, rate):
    n = len(costs)
    r = cost_benefit(costs, [Benefit("b", 100.0, [1.0] * n, "s", 2025)], price_year=2025,
                     rate=rate)  # fmt: skip
    pv_b = present_value([100.0] * n, rate=rate)
    assert r.npv == pytest.approx(pv_b - present_value(costs, rate=rate), abs=1e-6 * (1 + pv_b))


def test_public_entry():
    assert oc.economics.cost_benefit is cost_benefit


# ----------------------------------------------------------------------------- review: names and values


_GOOD = {"name": "episode avoided", "unit_value": 3000, "quantity": [20, 20],
         "source": "illustrative", "price_year": 2025}  # fmt: skip
_NAMED = {"name": "fewer CAMHS referrals", "unit_value": 500, "quantity": [4, 4],
          "source": "illustrative", "price_year": 2025}  # fmt: skip
_RANGE = "a finite number in the range [0, inf)"
_SHARE = "a finite number in the range [0, 1]"


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("price_year", 2024.5, "price_year must be a whole year such as 2025, got 2024.5"),
        ("price_year", True, "price_year must be a whole year such as 2025, got True"),
        ("price_year", float("inf"), "price_year must be a whole year such as 2025, got inf"),
        ("price_year", "2024 ", "price_year must be a whole year such as 2025, got '2024 '"),
        ("price_year", 10**400, "price_year must be a whole year such as 2025, got an integer of 401 digits"),
        ("unit_value", -1, f"unit_value must be {_RANGE}, got -1"),
        ("unit_value", True, f"unit_value must be {_RANGE}, got True"),
        ("unit_value", float("nan"), f"unit_value must be {_RANGE}, got nan"),
        ("unit_value", float("inf"), f"unit_value must be {_RANGE}, got inf"),
        ("unit_value", "3000", f"unit_value must be {_RANGE}, got '3000'"),
        ("unit_value", 10**400, f"unit_value must be {_RANGE}, got an integer of 401 digits"),
        ("quantity", [4, -1], f"quantity[1] (year 1) must be {_RANGE}, got -1"),
        ("quantity", [True, 4], f"quantity[0] (year 0) must be {_RANGE}, got True"),
        ("quantity", [4, float("nan")], f"quantity[1] (year 1) must be {_RANGE}, got nan"),
        ("quantity", ["4"], f"quantity[0] (year 0) must be {_RANGE}, got '4'"),
        ("quantity", float("inf"), f"quantity must be {_RANGE}, got inf"),
        ("quantity", "4", "quantity must be one number or a list of yearly numbers (year 0 first), got '4'"),
        ("quantity", [], "quantity has no years; give 0 for a benefit with no outcomes"),
        ("deadweight", 1.2, f"deadweight must be {_SHARE}, got 1.2"),
        ("deadweight", -0.1, f"deadweight must be {_SHARE}, got -0.1"),
        ("attribution", True, f"attribution must be {_SHARE}, got True"),
        ("attribution", float("nan"), f"attribution must be {_SHARE}, got nan"),
        ("optimism_bias", float("inf"), f"optimism_bias must be {_SHARE}, got inf"),
        ("source", " ", "source must be text saying where its unit value comes from, got ' '"),
        ("source", None, "source must be text saying where its unit value comes from, got None"),
        ("kind", "", "kind must be text such as 'fiscal', got ''"),
    ],
)  # fmt: skip
def test_every_benefit_field_is_refused_naming_the_benefit_and_its_position(field, value, expected):
    # as a mapping, as a Benefit changed after it was made, and as a Benefit on its own
    with pytest.raises(OutcomesError) as e:
        cost_benefit([1000, 0], [_GOOD, _NAMED | {field: value}], price_year=2025)
    assert str(e.value) == f"benefit 2 (fewer CAMHS referrals): {expected}"
    line = Benefit(**_NAMED)
    setattr(line, field, value)
    with pytest.raises(OutcomesError) as e:
        cost_benefit([1000, 0], [Benefit(**_GOOD), line], price_year=2025)
    assert str(e.value) == f"benefit 2 (fewer CAMHS referrals): {expected}"
    with pytest.raises(OutcomesError) as e:
        Benefit(**(_NAMED | {field: value}))
    assert str(e.value) == f"benefit 'fewer CAMHS referrals': {expected}"


@pytest.mark.parametrize(
    "benefit, expected",
    [
        (_NAMED | {"unit_vlaue": 5}, "benefit 2 (fewer CAMHS referrals): unknown field 'unit_vlaue'; did you mean 'unit_value'?"),
        ({"name": "fewer CAMHS referrals", "unit_value": 5, "quantity": 1},
         "benefit 2 (fewer CAMHS referrals): give source, price_year"),
        (_NAMED | {"name": 7}, "benefit 2: name must be text naming the benefit, got 7"),
        (_NAMED | {"name": "episode avoided"},
         "benefit 2 (episode avoided): benefit 1 has the same name; name each line once"),
        (_NAMED | {"price_year": 2023},
         "benefit 2 (fewer CAMHS referrals): a unit value in 2023 prices needs a price index for "
         "2023 to reach 2025 prices; price_index has no years (none given)"),
        (_NAMED | {"quantity": [1, 1, 1]},
         "benefit 2 (fewer CAMHS referrals) has 3 years of quantities; the appraisal has 2 "
         "(give costs for every year, zeros where there are none)"),
        # 10 x 1e308 passes the largest float
        (_NAMED | {"unit_value": 1e308, "quantity": [10]},
         "benefit 2 (fewer CAMHS referrals): the value in year 0 is not a finite number (quantity "
         "10.0 x unit value 1e+308 x inflation factor 1.0 x share kept 1.0 passes the largest float)"),
        (5, "cost_benefit: benefit 2 must be a Benefit or a mapping of its fields, got 5"),
    ],
)  # fmt: skip
def test_a_benefit_line_that_cannot_be_used_is_named(benefit, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning beside the error
        with pytest.raises(OutcomesError) as e:
            cost_benefit([1000, 0], [_GOOD, benefit], price_year=2025)
    assert str(e.value) == expected


def test_a_long_benefit_name_is_shown_shortened():
    long = "x" * 100
    with pytest.raises(OutcomesError) as e:
        cost_benefit([1], [_GOOD | {"quantity": 1}, _NAMED | {"name": long, "quantity": -1}],
                     price_year=2025)  # fmt: skip
    assert str(e.value).startswith("benefit 2 ('" + "x" * 38 + "…): quantity must be")


def test_a_benefit_price_year_given_as_text_or_x_point_0_is_that_year():
    # 500 in 2024 prices x 105/100 = 525 a unit; 4 a year in years 0 and 1
    for year in (2024, 2024.0, "2024", np.int64(2024)):
        r = cost_benefit([0, 0], [_NAMED | {"price_year": year}], price_year=2025,
                         price_index={2024: 100, 2025: 105})  # fmt: skip
        assert r.benefits["price_year"].tolist() == [2024]
        assert r.to_frame()["benefits"].tolist() == pytest.approx([2100, 2100])


_BAD_BY_FIELD = {
    "unit_value": st.one_of(st.booleans(), st.floats(max_value=-1e-9), st.just(math.nan),
                            st.just(math.inf), st.integers(max_value=-1), st.text(max_size=3)),
    "deadweight": st.one_of(st.booleans(), st.floats(min_value=1.0001), st.floats(max_value=-1e-9),
                            st.just(math.nan), st.text(max_size=3)),
    "attribution": st.one_of(st.booleans(), st.floats(min_value=1.0001), st.just(math.nan)),
    "optimism_bias": st.one_of(st.booleans(), st.floats(max_value=-1e-9), st.just(math.inf)),
    "price_year": st.one_of(st.booleans(), st.floats(2000, 2100).filter(lambda y: y % 1 != 0),
                            st.just(math.inf), st.just(math.nan), st.just(None)),
    "quantity": st.one_of(st.lists(st.floats(max_value=-1e-9), min_size=1, max_size=2),
                          st.lists(st.booleans(), min_size=1, max_size=2),
                          st.just([]), st.just(math.nan), st.text(max_size=3)),
    "source": st.one_of(st.just(""), st.just("  "), st.none(), st.integers()),
}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    n_before=st.integers(0, 3),
    field=st.sampled_from(sorted(_BAD_BY_FIELD)),
    data=st.data(),
)
def test_any_bad_benefit_field_is_refused_naming_that_benefit(n_before, field, data):
    bad = data.draw(_BAD_BY_FIELD[field], label="bad value")
    lines = [_GOOD | {"name": f"line {k}"} for k in range(n_before)]
    lines.append(_NAMED | {field: bad})
    with pytest.raises(OutcomesError) as e:
        cost_benefit([1000, 0], lines, price_year=2025)
    assert str(e.value).startswith(f"benefit {n_before + 1} (fewer CAMHS referrals): {field}")


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.floats(0, 1e5),  # unit value
            st.lists(st.floats(0, 100), min_size=1, max_size=3),  # quantities
            st.floats(0, 1), st.floats(0, 1), st.floats(0, 1),  # deadweight, attribution, bias
            st.sampled_from([2023, 2024.0, "2025"]),  # price year, however given
        ),
        min_size=1, max_size=4,
    ),
    rate=st.floats(0, 0.2),
)  # fmt: skip
def test_valid_benefit_lines_give_the_hand_npv(lines, rate):
    index = {2023: 90.0, 2024: 100.0, 2025: 110.0}
    benefits = [
        {"name": f"b{k}", "unit_value": v, "quantity": q, "source": "s", "price_year": y,
         "deadweight": d, "attribution": a, "optimism_bias": o}
        for k, (v, q, d, a, o, y) in enumerate(lines)
    ]  # fmt: skip
    r = cost_benefit([500.0, 0.0, 0.0], benefits, price_year=2025, price_index=index, rate=rate)
    # the Green Book line written out: sum over lines and years of
    # q_t x value x index[2025] / index[year] x (1 - d) x a x (1 - o) / (1 + rate)^t
    pv = 0.0
    for v, q, d, a, o, y in lines:
        for t, qt in enumerate(q):
            pv += qt * v * 110.0 / index[int(float(y))] * (1 - d) * a * (1 - o) / (1 + rate) ** t
    assert r.npv == pytest.approx(pv - 500.0, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: cost_benefit([1000, True], [_GOOD], price_year=2025),
         f"cost_benefit: costs[1] (year 1) must be {_RANGE}, got True"),
        (lambda: cost_benefit([1000, -1], [_GOOD], price_year=2025),
         f"cost_benefit: costs[1] (year 1) must be {_RANGE}, got -1"),
        (lambda: cost_benefit(["1000", 0], [_GOOD], price_year=2025),
         f"cost_benefit: costs[0] (year 0) must be {_RANGE}, got '1000'"),
        (lambda: cost_benefit([], [_GOOD], price_year=2025),
         "cost_benefit: costs is empty: give one amount per year, year 0 first"),
        (lambda: present_value([1, math.nan]),
         "present_value: values[1] (year 1) must be a finite number, got nan"),
        (lambda: present_value([1, 10**400]),
         "present_value: values[1] (year 1) must be a finite number, got an integer of 401 digits"),
        (lambda: cost_benefit([1e308, 1e308], [_GOOD], price_year=2025, cost_optimism_bias=1.0),
         "cost_benefit: the costs of year 0 add up past the largest float"),
    ],
)  # fmt: skip
def test_yearly_amounts_are_refused_naming_the_year(call, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(OutcomesError) as e:
            call()
    assert str(e.value) == expected


def test_parameters_are_refused_by_their_declaration():
    for call, name in (
        (lambda: discount_factors(0), "n_years"),
        (lambda: cost_benefit([1], [_GOOD], price_year=2025, cost_optimism_bias=1.5),
         "cost_optimism_bias"),
        (lambda: cost_benefit([1], [_GOOD], price_year=2025, rate="green book"), "rate"),
        (lambda: cost_per_outcome(0, [1, 0]), "total_cost"),
    ):  # fmt: skip
        with pytest.raises(oc.errors.InvalidParameterError) as e:
            call()
        assert e.value.parameter == name
    with pytest.raises(OutcomesError, match="did you mean 'green_book'"):
        cost_benefit([1], [_GOOD], price_year=2025, rate="green book")


# cost_table: a missing item, and values too long to print


def test_a_missing_item_is_line_n_whether_the_column_is_absent_or_empty_there():
    expected = "cost line 2 (line 2): amount must be a finite number >= 0, got -1"
    for lines in ([{"amount": 1}, {"amount": -1}], [{"item": "a", "amount": 1}, {"amount": -1}],
                  pd.DataFrame({"item": ["a", None], "amount": [1, -1]})):  # fmt: skip
        with pytest.raises(CostError) as e:
            cost_table(lines, price_year=2025)
        assert str(e.value) == expected
    t = cost_table([{"item": "a", "amount": 1}, {"amount": 2}], price_year=2025)
    assert t["item"].tolist() == ["a", "line 2"]
    t.loc[1, "cost"] = np.nan
    with pytest.raises(CostError, match=r"row 2 \(line 2\) has cost nan"):
        cost_totals(t)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.one_of(st.none(), st.just(math.nan), st.sampled_from(["EMHP", "lead"])),
                   min_size=1, max_size=5),
    bad=st.data(),
)  # fmt: skip
def test_no_message_ever_names_a_line_nan(items, bad):
    k = bad.draw(st.integers(0, len(items) - 1))
    lines = [{"item": it, "amount": 1.0} for it in items]
    lines[k]["amount"] = -1.0
    with pytest.raises(CostError) as e:
        cost_table(lines, price_year=2025)
    named = items[k] if isinstance(items[k], str) else f"line {k + 1}"
    assert str(e.value).startswith(f"cost line {k + 1} ({named}): amount")
    assert "nan" not in str(e.value) and "None" not in str(e.value)


@pytest.mark.parametrize(
    "line, index, expected",
    [
        ({"item": "EMHP", "amount": 1, "price_year": 2023}, {2023: 10**400, 2025: 1.0},
         "price_index: the index for 2023 must be a positive number, got an integer of 401 digits"),
        ({"item": "EMHP", "amount": 10**400}, None,
         "cost line 1 (EMHP): amount must be a finite number >= 0, got an integer of 401 digits"),
        ({"item": "EMHP", "amount": -(10**5000)}, None,
         "cost line 1 (EMHP): amount must be a finite number >= 0, got a negative integer of "
         "5001 digits"),
        ({"item": "EMHP", "amount": "y" * 500}, None,
         "cost line 1 (EMHP): amount must be a number, got '" + "y" * 38 + "…"),
        ({"item": "z" * 500, "amount": -1}, None,
         "cost line 1 ('" + "z" * 38 + "…): amount must be a finite number >= 0, got -1"),
        ({"item": "EMHP", "amount": 1, "price_year": 10**400}, None,
         "cost line 1 (EMHP): price_year must be a whole year such as 2025, got an integer of "
         "401 digits"),
    ],
)  # fmt: skip
def test_huge_values_are_shown_shortened(line, index, expected):
    with pytest.raises(CostError) as e:
        cost_table([line], price_year=2025, price_index=index)
    assert str(e.value) == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.text(),
        st.integers(),
        st.integers(min_value=10**30, max_value=10**45),
        st.integers(min_value=10**50, max_value=10**6000),
        st.floats(allow_nan=True),
        st.lists(st.integers(), max_size=30),
        st.booleans(),
    )
)
def test_shown_values_are_short_and_exact_when_short(value):
    from outcomes._internal.text import shown

    text = shown(value)
    assert len(text) <= 40
    if isinstance(value, int) and not isinstance(value, bool):
        # a long whole number is described by its length (str() refuses past 4,300 digits)
        digits = len(str(abs(value))) if abs(value) < 10**4000 else None
        described = digits is not None and text.endswith(f"integer of {digits} digits")
        assert digits is None or described or (text == repr(value) and len(text) <= 40)
    elif len(repr(value)) <= 40:
        assert text == repr(value)
    else:
        assert text == repr(value)[:39] + "…"


# the other verbs: the same class of nonsense, named


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: cost_per_outcome(100, [1, "1", 0]),
         "achieved must hold True/False or 1/0, found '1' at achieved[1]"),
        (lambda: cost_per_outcome(100, [1, 0, 1], supported=2),
         "cost_per_outcome: parameter 'supported' (2) is fewer than the 3 children with outcome "
         "data in achieved"),
        (lambda: cost_per_outcome(None, [1, 0], child_costs=[5, True]),
         f"child_costs[1] must be {_RANGE}, got True"),
        (lambda: cost_per_outcome(None, [1, 0], child_costs=[5]),
         "child_costs has 1 costs for 2 children in achieved: give one per child, aligned with "
         "achieved"),
        (lambda: cost_consequence({"total": True}, pd.DataFrame({"measure": ["m"], "value": [1]})),
         f"cost_consequence: costs['total'] must be {_RANGE}, got True"),
        (lambda: one_way(lambda n, value: n * value, {"n": 1, "valeu": 2}, {"n": (0, 2)}),
         "base: unknown model input 'valeu'; did you mean 'value'?"),
        (lambda: one_way(lambda n, value: math.nan if n == 0 else n, {"n": 1, "value": 2},
                         {"n": (0, 2)}),
         "the model must return one finite number, returned nan with n at its low value 0.0"),
        (lambda: one_way(lambda n: n > 1, {"n": 1}, {"n": (0, 2)}),
         "the model must return one number, returned False at the base values (True is not 1)"),
        (lambda: probabilistic(lambda n, value: n * value, {"n": True, "value": 2}),
         "inputs['n'] must be a finite number or a distribution, got True"),
        (lambda: probabilistic(lambda n, value: n * value, {"n": 1}),
         "inputs: give a value for the model input(s) ['value']"),
        (lambda: distribution({"dist": "gamma", "mean": 5, "sd": -1}, "cost"),
         "cost.sd must be > 0, got -1.0"),
    ],
)  # fmt: skip
def test_other_verbs_refuse_nonsense_naming_it(call, expected):
    with pytest.raises(OutcomesError) as e:
        call()
    assert str(e.value) == expected
