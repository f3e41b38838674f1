"""reliable_change and reliable_change_summary.

References: the Jacobson & Truax worked example and cut-off example in specs/statistics.md
(s1 = 7.5, r_xx = .80 -> S_diff 4.743; M1 = 40, M0 = 60, s = 7.5 -> c = 50), NHS England
thresholds in the instrument YAMLs (>= counts), the Wilson interval 81/263 -> (0.25529,
0.36621) and hand-classified cases written out below.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes.change.reliable as reliable_mod
from outcomes.change.reliable import (
    jacobson_truax_cutoffs,
    reliable_change,
    reliable_change_summary,
    s_diff,
)
from outcomes.errors import DataStructureError, OutcomesError
from outcomes.instruments import parse_instrument

INSTRUMENTS = Path(__file__).resolve().parents[1] / "instruments"


def test_doctests():
    assert doctest.testmod(reliable_mod).failed == 0


def test_contract_columns():
    rc = reliable_change([10, 12], [5, 13], sd=7.5, reliability=0.8, higher_is_better=False)
    for c in ("change", "rci", "reliable", "category"):
        assert c in rc.columns
    assert list(rc["category"].cat.categories) == [
        "recovered",
        "improved",
        "unchanged",
        "deteriorated",
    ]


# ----------------------------------------------------------------------------- Jacobson-Truax
def test_jacobson_truax_worked_example():
    # s1 = 7.5, r = .80: SE = 7.5 * sqrt(.2) = 3.354; S_diff = sqrt(2) * SE = 4.743;
    # 1.96 * S_diff = 9.30; a 15-point change -> RCI 3.16
    assert 7.5 * np.sqrt(0.2) == pytest.approx(3.354, abs=1e-3)
    assert s_diff(7.5, 0.80) == pytest.approx(4.743, abs=1e-3)
    rc = reliable_change([40], [25], sd=7.5, reliability=0.80, higher_is_better=False)
    assert rc["rci"].iloc[0] == pytest.approx(-3.16, abs=5e-3)
    assert rc.attrs["reliable_change"]["criterion"] == pytest.approx(9.30, abs=5e-3)
    assert bool(rc["reliable"].iloc[0]) and rc["category"].iloc[0] == "improved"
    up = reliable_change([40], [55], sd=7.5, reliability=0.80, higher_is_better=False)
    assert (
        up["rci"].iloc[0] == pytest.approx(3.16, abs=5e-3)
        and up["category"].iloc[0] == "deteriorated"
    )


def test_jt_is_strict_at_the_critical_value():
    # sd = 1, r = .5 -> S_diff = 1 * sqrt(2) * sqrt(.5) = 1, so RCI = change
    rc = reliable_change(
        [0, 0, 0], [1.96, 1.97, -1.96], sd=1, reliability=0.5, higher_is_better=True
    )
    assert rc["reliable"].tolist() == [False, True, False]


def test_sd_from_baseline():
    pre = [10, 14, 18, 22]
    rc = reliable_change(
        pre, [5, 14, 18, 30], sd="baseline", reliability=0.8, higher_is_better=False
    )
    assert rc.attrs["reliable_change"]["sd"] == pytest.approx(np.std(pre, ddof=1))


def test_critical_value_option():
    rc = reliable_change([0], [1.7], sd=1, reliability=0.5, higher_is_better=True, critical=1.645)
    assert rc["category"].iloc[0] == "improved"


# ----------------------------------------------------------------------------- cut-offs
def test_cutoff_c_example_and_a_b():
    # M1 = 40, M0 = 60, s0 = s1 = 7.5 (higher is better): a = 40 + 15, b = 60 - 15, c = 50
    assert jacobson_truax_cutoffs((40, 7.5), (60, 7.5), higher_is_better=True) == {
        "a": 55.0,
        "b": 45.0,
        "c": 50.0,
    }
    # lower is better (M1 = 60, M0 = 40): a = 60 - 15, b = 40 + 15, c = (7.5*60 + 7.5*40)/15
    assert jacobson_truax_cutoffs((60, 7.5), (40, 7.5), higher_is_better=False) == {
        "a": 45.0,
        "b": 55.0,
        "c": 50.0,
    }
    # unequal SDs: c = (s0 M1 + s1 M0) / (s0 + s1) = (5*40 + 10*60) / 15
    assert jacobson_truax_cutoffs((40, 10), (60, 5), higher_is_better=True)["c"] == pytest.approx(
        800 / 15
    )


def test_cutoff_from_norms_classifies_recovery():
    rc = reliable_change(
        [35, 35, 45],
        [56, 48, 60],
        sd=7.5,
        reliability=0.8,
        cutoff="c",
        clinical_norms=(40, 7.5),
        functional_norms=(60, 7.5),
        higher_is_better=True,
    )
    # higher is better, so <= 50 is clinical. 35 -> 56: +21 > 9.30 and crosses 50: recovered;
    # 35 -> 48: +13 reliable but still <= 50: improved; 45 -> 60: +15 and crosses 50: recovered
    assert rc["category"].tolist() == ["recovered", "improved", "recovered"]
    assert rc.attrs["reliable_change"]["cutoff"] == 50


def test_norms_must_point_the_right_way():
    with pytest.raises(OutcomesError, match="worse than the functional"):
        jacobson_truax_cutoffs((60, 7.5), (40, 7.5), higher_is_better=True)
    with pytest.raises(OutcomesError, match="sd > 0"):
        jacobson_truax_cutoffs((60, 0), None, higher_is_better=False)


# ----------------------------------------------------------------------------- NHS thresholds
def test_threshold_is_inclusive_and_from_yaml():
    # sdq_parent emotional: threshold 4, lower is better, clinical cut-off 5 (>= 5 is clinical)
    pre = [8, 8, 9, 4, 3, 6, 6]
    post = [3, 4, 5, 0, 7, 9, 3]
    rc = reliable_change(pre, post, instrument="sdq_parent", scale="emotional")
    # 8->3: -5 reliable, clinical -> not: recovered; 8->4: -4 (>= 4 counts) recovered;
    # 9->5: -4 reliable but 5 is still clinical: improved; 4->0: not clinical at baseline:
    # improved; 3->7: +4 deteriorated; 6->9: +3 unchanged; 6->3: -3 unchanged
    assert rc["category"].tolist() == [
        "recovered",
        "recovered",
        "improved",
        "improved",
        "deteriorated",
        "unchanged",
        "unchanged",
    ]
    assert np.isnan(rc["rci"]).all()
    st_ = rc.attrs["reliable_change"]
    assert st_["method"] == "threshold" and st_["threshold"] == 4 and st_["cutoff"] == 5


def test_harmed_category():
    rc = reliable_change([3, 6], [7, 10], instrument="sdq_parent", scale="emotional", harmed=True)
    # 3 -> 7 enters the clinical range: harmed; 6 -> 10 was already clinical: deteriorated
    assert rc["category"].tolist() == ["harmed", "deteriorated"]


def test_higher_is_better_scale_from_yaml():
    # sdq_parent prosocial: threshold 3, higher is better, clinical at <= 6
    rc = reliable_change([5, 8, 7], [8, 5, 9], instrument="sdq_parent", scale="prosocial")
    assert rc["category"].tolist() == ["recovered", "deteriorated", "unchanged"]
    assert rc["reliable_improvement"].tolist() == [True, False, False]
    assert rc["reliable_deterioration"].tolist() == [False, True, False]


def test_float_noise_does_not_hide_a_threshold():
    assert 0.3 - 0.1 < 0.2  # floating point
    assert 4.1 - 1.1 < 3
    rc = reliable_change([0.1, 1.1], [0.3, 4.1], threshold=0.2, higher_is_better=True)
    assert rc["reliable"].tolist() == [True, True]


def test_explicit_threshold_overrides_and_explicit_cutoff():
    rc = reliable_change(
        [10, 10], [7, 8], instrument="sdq_parent", scale="emotional", threshold=3, cutoff=9
    )
    assert rc["category"].tolist() == ["recovered", "unchanged"]


def test_without_cutoff_nobody_recovers():
    rc = reliable_change([10], [2], threshold=3, higher_is_better=False)
    assert rc["category"].iloc[0] == "improved" and rc["clinical_pre"].isna().all()


def _yaml_with(tmp_path, changes: dict) -> object:
    raw = yaml.safe_load((INSTRUMENTS / "swemwbs.yaml").read_text())
    for sc in raw["scales"]:
        if sc["id"] == "metric":
            sc.update(changes)
    return parse_instrument(raw, source="test")


def test_jt_settings_and_norms_from_yaml(tmp_path):
    inst = _yaml_with(
        tmp_path,
        {
            "reliable_change": {"reliability": 0.8, "sd": 7.5, "source": "made up for a test"},
            "norms": {
                "clinical": {"mean": 17, "sd": 3, "source": "made up for a test"},
                "functional": {"mean": 24, "sd": 4, "source": "made up for a test"},
            },
        },
    )
    rc = reliable_change([15, 16], [26, 19], instrument=inst, scale="metric", cutoff="c")
    st_ = rc.attrs["reliable_change"]
    assert st_["method"] == "jt" and st_["s_diff"] == pytest.approx(4.743, abs=1e-3)
    # c = (4*17 + 3*24) / 7 = 20; 15 -> 26 (+11 > 9.30) recovered; 16 -> 19 (+3) unchanged
    assert st_["cutoff"] == pytest.approx(20)
    assert rc["category"].tolist() == ["recovered", "unchanged"]
    # method="threshold" on a scale with only sd/reliability is an error
    with pytest.raises(OutcomesError, match="no threshold"):
        reliable_change([1], [2], instrument=inst, scale="metric", method="threshold")


# ----------------------------------------------------------------------------- missing values
def test_missing_pairs_keep_their_rows_and_are_counted():
    pre = pd.Series([8, np.nan, 9, 6], index=["p1", "p2", "p3", "p4"])
    post = pd.Series([3, 4, np.nan, 6], index=["p1", "p2", "p3", "p4"])
    rc = reliable_change(pre, post, instrument="sdq_parent", scale="emotional")
    assert list(rc.index) == ["p1", "p2", "p3", "p4"]
    assert rc["category"].isna().tolist() == [False, True, True, False]
    assert rc["reliable"].isna().tolist() == [False, True, True, False]
    m = reliable_change_summary(rc).to_frame().set_index("measure")
    assert m.loc["missing", "count"] == 2 and m.loc["missing", "denominator"] == 4
    assert m.loc["recovered", "denominator"] == 2


# ----------------------------------------------------------------------------- summary
def test_summary_counts_and_wilson():
    # 81 of 263 improved: Wilson 95% CI (0.25529, 0.36621) (statistics.md)
    pre = np.full(263, 10.0)
    post = np.r_[np.full(81, 5.0), np.full(182, 10.0)]
    rc = reliable_change(pre, post, threshold=4, higher_is_better=False)
    s = reliable_change_summary(rc)
    m = s.to_frame().set_index("measure")
    assert m.loc["improved", "count"] == 81 and m.loc["improved", "denominator"] == 263
    assert m.loc["improved", "ci_low"] == pytest.approx(0.25529, abs=1e-5)
    assert m.loc["improved", "ci_high"] == pytest.approx(0.36621, abs=1e-5)
    assert m.loc["reliable_improvement", "count"] == 81
    assert "recovered_of_clinical" not in m.index
    text = s.summary()
    assert "Of 263 people" in text and "81 (31%" in text and "at least 4 points" in text


def test_summary_by_group_and_recovery_of_clinical():
    rc = reliable_change([8, 8, 4, 3], [3, 7, 0, 7], instrument="sdq_parent", scale="emotional")
    s = reliable_change_summary(rc, by=["a", "a", "b", "b"])
    f = s.to_frame()
    a = f[f["group"] == "a"].set_index("measure")
    assert a.loc["recovered", "count"] == 1 and a.loc["recovered_of_clinical", "denominator"] == 2
    b = f[f["group"] == "b"].set_index("measure")
    assert b.loc["improved", "count"] == 1 and b.loc["deteriorated", "count"] == 1
    assert b.loc["recovered_of_clinical", "denominator"] == 0
    assert np.isnan(b.loc["recovered_of_clinical", "proportion"])
    assert s.summary().count("\n") == 1
    with pytest.raises(DataStructureError, match="labels"):
        reliable_change_summary(rc, by=["a"])


def test_summary_needs_the_settings():
    rc = reliable_change([8], [3], instrument="sdq_parent", scale="emotional")
    bare = pd.DataFrame(rc.to_dict("list"))
    with pytest.raises(OutcomesError, match="settings"):
        reliable_change_summary(bare)
    with pytest.raises(DataStructureError):
        reliable_change_summary(pd.DataFrame({"x": [1]}))


def test_plot_returns_axes():
    rng = np.random.default_rng(1)
    pre = rng.normal(20, 4, 200)
    post = pre - rng.normal(3, 4, 200)
    rc = reliable_change(
        pre, post, sd=4, reliability=0.8, cutoff=18, higher_is_better=False, harmed=True
    )
    ax = reliable_change_summary(rc).plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert any("cut-off" in t.get_text() for t in ax.get_legend().get_texts())


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"sd": 7.5, "reliability": 1.0, "higher_is_better": False}, OutcomesError, "reliability"),
        ({"sd": 7.5, "reliability": 0.0, "higher_is_better": False}, OutcomesError, "reliability"),
        ({"sd": 7.5, "reliability": 1.2, "higher_is_better": False}, OutcomesError, "reliability"),
        ({"sd": 7.5, "reliability": -0.1, "higher_is_better": False}, OutcomesError, "reliability"),
        ({"sd": 0, "reliability": 0.8, "higher_is_better": False}, OutcomesError, "sd"),
        ({"sd": -2, "reliability": 0.8, "higher_is_better": False}, OutcomesError, "sd"),
        (
            {"sd": "sample", "reliability": 0.8, "higher_is_better": False},
            OutcomesError,
            "baseline",
        ),
        ({"sd": 7.5, "higher_is_better": False}, OutcomesError, "both sd= and reliability="),
        ({"threshold": 0, "higher_is_better": False}, OutcomesError, "parameter 'threshold'"),
        (
            {"threshold": 3, "sd": 7.5, "reliability": 0.8, "higher_is_better": False},
            OutcomesError,
            "not both",
        ),
        ({"sd": 7.5, "reliability": 0.8}, OutcomesError, "higher_is_better"),
        (
            {"instrument": "sdq_parent", "scale": "total_difficulties"},
            OutcomesError,
            "no reliable-change threshold and no SD",
        ),
        (
            {"instrument": "sdq_teacher", "scale": "emotional"},
            OutcomesError,
            "no reliable-change threshold",
        ),
        ({"instrument": "sdq_parent"}, OutcomesError, "both instrument= and scale="),
        ({"instrument": "sdq_parent", "scale": "nope"}, OutcomesError, "no scale 'nope'"),
        ({"instrument": "no_such_thing", "scale": "x"}, OutcomesError, "unknown instrument"),
        ({"threshold": 3, "higher_is_better": False, "method": "gln"}, OutcomesError, "method"),
        ({"threshold": 3, "higher_is_better": False, "cutoff": "d"}, OutcomesError, "cutoff"),
        (
            {"threshold": 3, "higher_is_better": False, "cutoff": "c"},
            OutcomesError,
            "needs clinical and functional norms",
        ),
        ({"threshold": 3, "higher_is_better": False, "cutoff": True}, OutcomesError, "cutoff"),
        (
            {"sd": 7.5, "reliability": 0.8, "higher_is_better": False, "critical": 0},
            OutcomesError,
            "critical",
        ),
    ],
)
def test_bad_settings(kwargs, err, match):
    with pytest.raises(err, match=match):
        reliable_change([10, 12, 14], [8, 12, 15], **kwargs)


def test_bad_data():
    with pytest.raises(DataStructureError, match="same length"):
        reliable_change([1, 2], [1], threshold=1, higher_is_better=True)
    with pytest.raises(OutcomesError, match="non-numeric.*'x'"):
        reliable_change([1, "x"], [1, 2], threshold=1, higher_is_better=True)
    with pytest.raises(DataStructureError, match="index"):
        reliable_change(
            pd.Series([1, 2], index=[0, 1]),
            pd.Series([1, 2], index=[1, 2]),
            threshold=1,
            higher_is_better=True,
        )
    with pytest.raises(OutcomesError, match="zero variance"):
        reliable_change([5, 5, 5], [1, 2, 3], sd="baseline", reliability=0.8, higher_is_better=True)


# ----------------------------------------------------------------------------- properties
score = st.integers(min_value=0, max_value=40)
pairs = st.lists(st.tuples(score, score), min_size=1, max_size=40)
SWAP = {
    "improved": "deteriorated",
    "deteriorated": "improved",
    "unchanged": "unchanged",
    "recovered": "harmed",
    "harmed": "recovered",
}


@settings(max_examples=60, deadline=None)
@given(pairs, st.booleans(), st.sampled_from(["threshold", "jt"]), st.booleans())
def test_swapping_pre_and_post_swaps_improved_and_deteriorated(p, hib, method, with_cut):
    pre, post = [a for a, _ in p], [b for _, b in p]
    kw = {"threshold": 5} if method == "threshold" else {"sd": 6.0, "reliability": 0.85}
    if with_cut:
        kw |= {"cutoff": 20, "harmed": True}
    f = reliable_change(pre, post, higher_is_better=hib, **kw)
    b = reliable_change(post, pre, higher_is_better=hib, **kw)
    assert [SWAP[c] for c in f["category"]] == list(b["category"])
    np.testing.assert_allclose(b["change"], -f["change"])
    if method == "jt":
        np.testing.assert_allclose(b["rci"], -f["rci"])


@settings(max_examples=40, deadline=None)
@given(pairs, st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(p, rnd):
    order = list(range(len(p)))
    rnd.shuffle(order)
    pre, post = np.array([a for a, _ in p], float), np.array([b for _, b in p], float)
    f = reliable_change(pre, post, instrument="sdq_parent", scale="emotional")
    g = reliable_change(pre[order], post[order], instrument="sdq_parent", scale="emotional")
    assert list(f["category"].iloc[order]) == list(g["category"])
    assert (
        reliable_change_summary(f).to_frame()["count"].tolist()
        == reliable_change_summary(g).to_frame()["count"].tolist()
    )


@settings(max_examples=40, deadline=None)
@given(pairs)
def test_direction_flip_is_a_mirror(p):
    # A scale where higher is better is the mirror image of its negation where lower is better.
    pre, post = np.array([a for a, _ in p], float), np.array([b for _, b in p], float)
    up = reliable_change(pre, post, threshold=4, cutoff=20, higher_is_better=True)
    down = reliable_change(-pre, -post, threshold=4, cutoff=-20, higher_is_better=False)
    assert list(up["category"]) == list(down["category"])


@settings(max_examples=50, deadline=None)
@given(
    codes=st.lists(st.integers(-1, 4), max_size=30),
    harmed=st.booleans(),
)
def test_property_category_dtype_made_once_is_from_codes(codes, harmed):
    # The cached dtype gives the categorical from_codes(categories=) gives (missing: -1).
    from outcomes.change.reliable import CATEGORIES, _category_dtype

    cats = list(CATEGORIES) + (["harmed"] if harmed else [])
    code = np.array([c for c in codes if c < len(cats)], dtype=int)
    old = pd.Categorical.from_codes(code, categories=cats)
    new = pd.Categorical.from_codes(code, dtype=_category_dtype(harmed))
    pd.testing.assert_extension_array_equal(new, old)
    assert new.dtype == old.dtype and new.categories.dtype == old.categories.dtype
