"""Attrition: completers vs non-completers, against hand-worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from outcomes._stats import wilson_ci
from outcomes.errors import DataStructureError, OutcomesError
from outcomes.longitudinal.attrition import (
    TEST_COLUMNS,
    AttritionResult,
    attrition,
    cohens_d,
    welch_t,
)


def long_frame(baseline: dict, followup: dict, **child_cols) -> pd.DataFrame:
    """Long table from {child: baseline score} and {child: follow-up score}."""
    rows = [{"child": c, "wave": 0, "score": v} for c, v in baseline.items()]
    rows += [{"child": c, "wave": 12, "score": v} for c, v in followup.items()]
    df = pd.DataFrame(rows)
    for name, values in child_cols.items():
        df[name] = df["child"].map(values)
    return df


# Completers 10, 12, 14; non-completers 15, 17, 19, 21.
HAND = long_frame({1: 10, 2: 12, 3: 14, 4: 15, 5: 17, 6: 19, 7: 21}, {1: 8, 2: 9, 3: 13})


def test_welch_and_d_by_hand():
    # Non-completers: mean 18, var 20/3; completers: mean 12, var 4.
    # se^2 = (20/3)/4 + 4/3 = 3 -> t = 6 / sqrt(3) = 3.464102
    # df = 3^2 / ((5/3)^2 / 3 + (4/3)^2 / 2) = 9 / (25/27 + 8/9) = 4.959184
    # pooled var = (3 * 20/3 + 2 * 4) / 5 = 5.6 -> d = 6 / sqrt(5.6) = 2.535463
    res = attrition(HAND, "score", "wave", person_id="child")
    row = res.tests.iloc[0]
    assert row["statistic"] == pytest.approx(6 / math.sqrt(3), abs=1e-9)
    assert row["df"] == pytest.approx(9 / (25 / 27 + 8 / 9), abs=1e-9)
    assert row["effect"] == pytest.approx(6 / math.sqrt(5.6), abs=1e-9)
    assert row["p"] == pytest.approx(2 * stats.t.sf(6 / math.sqrt(3), 9 / (25 / 27 + 8 / 9)))
    assert (row["n_completers"], row["n_noncompleters"]) == (3, 4)
    assert (row["mean_completers"], row["mean_noncompleters"]) == (12, 18)
    assert welch_t(np.array([15.0, 17, 19, 21]), np.array([10.0, 12, 14]))["mean_diff"] == 6
    assert cohens_d(np.array([1.0, 1.0]), np.array([1.0, 1.0])) != cohens_d(
        np.array([1.0, 1.0]), np.array([1.0, 1.0])
    )  # NaN when there is no spread at all


def test_completion_counts_and_wilson_ci():
    res = attrition(HAND, "score", "wave", person_id="child")
    c = res.completion
    assert (c["n_children"], c["n_completers"], c["n_noncompleters"]) == (7, 3, 4)
    lo, hi = wilson_ci(3, 7)
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((float(lo), float(hi)))
    assert res.children["completed"].sum() == 3
    assert isinstance(res, AttritionResult)
    # Baseline separates completers (<= 14) from non-completers (>= 15) perfectly.
    assert res.logistic["odds_ratio"].isna().all()
    assert any("not estimable" in w for w in res.warnings)
    assert "not estimable" in res.summary()
    assert list(res.to_frame().columns[: len(TEST_COLUMNS)]) == TEST_COLUMNS


def _two_by_two() -> pd.DataFrame:
    # 60 children: boys 10 complete / 20 drop out; girls 20 complete / 10 drop out.
    n = 60
    sex = np.array(["boy"] * 30 + ["girl"] * 30)
    done = np.r_[np.ones(10), np.zeros(20), np.ones(20), np.zeros(10)].astype(bool)
    base = dict(enumerate(np.tile([10.0, 14.0, 12.0], n // 3)))
    fu = {i: 9.0 for i in range(n) if done[i]}
    return long_frame(base, fu, sex=dict(enumerate(sex)))


def test_chi_square_by_hand():
    # chi2 = N (ad - bc)^2 / (r1 r2 c1 c2) = 60 * (100 - 400)^2 / 30^4 = 6.6667;
    # df 1: p = erfc(sqrt(chi2 / 2)) = 0.009823; Cramer's V = sqrt(chi2 / N) = 1/3.
    res = attrition(_two_by_two(), "score", "wave", person_id="child", demographics=["sex"])
    row = res.tests.set_index("variable").loc["sex"]
    chi2 = 60 * (100 - 400) ** 2 / 30**4
    assert row["statistic"] == pytest.approx(chi2, abs=1e-9)
    assert row["df"] == 1
    assert row["p"] == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-9)
    assert row["p"] == pytest.approx(0.009823, abs=5e-6)
    assert row["effect"] == pytest.approx(1 / 3, abs=1e-9)
    assert row["effect_name"] == "cramers_v"
    lev = res.by_level.set_index("level")
    assert lev.loc["boy", "rate"] == pytest.approx(1 / 3)
    assert lev.loc["girl", ["n", "completed"]].tolist() == [30, 20]
    lo, hi = wilson_ci(20, 30)
    assert lev.loc["girl", "ci_low"] == pytest.approx(float(lo))
    assert "completion differed by sex" in res.verdict


def test_three_level_chi_square_by_hand():
    # Completed / not by group a: 8/2, b: 5/5, c: 2/8 (N = 30; each row 10, columns 15/15).
    # Expected 5 in every cell: chi2 = (9+0+9)/5 * 2 = 7.2, df 2, p = exp(-7.2/2) = 0.02732;
    # V = sqrt(7.2 / 30) = 0.4899. Expected counts of 5 are not below 5: no note.
    group = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    done = [1] * 8 + [0] * 2 + [1] * 5 + [0] * 5 + [1] * 2 + [0] * 8
    base = {i: float(10 + i % 4) for i in range(30)}
    df = long_frame(base, {i: 5.0 for i in range(30) if done[i]}, grp=dict(enumerate(group)))
    row = attrition(df, "score", "wave", person_id="child", demographics=["grp"]).tests.iloc[1]
    assert row["statistic"] == pytest.approx(7.2, abs=1e-9)
    assert row["df"] == 2
    assert row["p"] == pytest.approx(math.exp(-3.6), rel=1e-9)
    assert row["effect"] == pytest.approx(math.sqrt(7.2 / 30), abs=1e-9)
    assert row["note"] == ""


def test_small_expected_counts_note_fisher():
    # Boys 2 complete / 4 drop out, girls 5 / 1: expected counts below 5, so the note gives
    # Fisher's exact p (two-sided) beside the chi-square.
    sex = dict(enumerate(["boy"] * 6 + ["girl"] * 6))
    done = [0, 1, 6, 7, 8, 9, 10]
    df = long_frame({i: float(i) for i in range(12)}, {i: 1.0 for i in done}, sex=sex)
    note = attrition(df, "score", "wave", person_id="child", demographics=["sex"]).tests.iloc[1][
        "note"
    ]
    fisher = stats.fisher_exact([[2, 4], [5, 1]]).pvalue
    assert f"Fisher's exact p = {fisher:.4g}" in note


def test_logistic_saturated_odds_ratio_by_hand():
    # Baseline 10: 8 complete, 2 drop out (odds 0.25); baseline 20: 3 complete, 7 drop out
    # (odds 7/3). A logit with one two-valued predictor is saturated, so the OR for 10 points
    # is (7/3) / 0.25 = 9.3333 and per point 9.3333 ** 0.1 = 1.25027.
    base = {i: 10.0 for i in range(10)} | {i: 20.0 for i in range(10, 20)}
    done = list(range(8)) + list(range(10, 13))
    res = attrition(long_frame(base, {i: 5.0 for i in done}), "score", "wave", person_id="child")
    lg = res.logistic.set_index("term")
    assert lg.loc["baseline", "odds_ratio"] == pytest.approx((28 / 3) ** 0.1, rel=1e-6)
    assert lg.loc["intercept", "odds_ratio"] == pytest.approx(0.25 / (28 / 3), rel=1e-5)
    assert (
        lg.loc["baseline", "ci_low"]
        < lg.loc["baseline", "odds_ratio"]
        < lg.loc["baseline", "ci_high"]
    )


def _mar(seed: int, strength: float, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.normal(20, 5, n)
    z = (base - 20) / 5
    drop = rng.random(n) < 1 / (1 + np.exp(-(strength * z)))
    sex = rng.choice(["f", "m"], n)
    age = rng.integers(5, 18, n)
    fu = {i: base[i] - 3 for i in range(n) if not drop[i]}
    return long_frame(dict(enumerate(base)), fu, sex=dict(enumerate(sex)), age=dict(enumerate(age)))


def test_verdict_when_dropout_depends_on_baseline():
    res = attrition(
        _mar(1, 1.5),
        "score",
        "wave",
        person_id="child",
        demographics=["sex", "age"],
        higher_is_better=False,
    )
    assert res.tests.iloc[0]["p"] < 0.001
    assert "higher (more severe) baseline score" in res.verdict
    assert "not missing completely at random" in res.verdict
    assert res.tests.set_index("variable").loc["age", "test"].startswith("Welch")
    lg = res.logistic.set_index("term")
    assert lg.loc["baseline", "odds_ratio"] > 1 and lg.loc["baseline", "p"] < 0.001
    assert {"sex[m]", "age"} <= set(lg.index)
    text = res.summary()
    assert text.startswith("Of 400 children with score recorded at wave 0")
    fig = res.plot()
    assert len(fig.axes) == 2


def test_verdict_when_dropout_is_random():
    res = attrition(_mar(2, 0.0), "score", "wave", person_id="child", demographics=["sex"])
    assert res.tests["p"].min() > 0.05  # this seed: no test is significant
    assert res.verdict.startswith("There is no evidence")
    assert "does not prove it" in res.verdict


def test_no_attrition_and_low_completion_wording():
    df = long_frame({1: 3.0, 2: 4.0, 3: 5.0}, {1: 2.0, 2: 3.0, 3: 4.0})
    res = attrition(df, "score", "wave", person_id="child")
    assert "no attrition" in res.verdict
    assert res.logistic.empty and "same follow-up status" in res.warnings[0]
    low = attrition(_mar(3, 1.0), "score", "wave", person_id="child")
    assert low.completion["rate"] < 0.6 and "Only" in low.verdict


def test_children_without_baseline_counted_and_followup_choice():
    df = pd.concat([HAND, pd.DataFrame({"child": [99], "wave": [12], "score": [4.0]})])
    res = attrition(df, "score", "wave", person_id="child")
    assert res.n_no_baseline == 1 and res.completion["n_children"] == 7
    assert "left out" in res.summary()
    three = pd.concat([HAND, pd.DataFrame({"child": [1, 4], "wave": [6, 6], "score": [9.0, 9]})])
    res6 = attrition(three, "score", "wave", person_id="child", followup=6)
    assert res6.completion["n_completers"] == 2


def test_bad_input():
    with pytest.raises(DataStructureError, match=r"\['ethnicity'\] not found"):
        attrition(HAND, "score", "wave", person_id="child", demographics=["ethnicity"])
    with pytest.raises(DataStructureError, match="follow-up wave 24"):
        attrition(HAND, "score", "wave", person_id="child", followup=24)
    with pytest.raises(OutcomesError, match="must differ"):
        attrition(HAND, "score", "wave", person_id="child", followup=0)
    dup = pd.concat([HAND, HAND.iloc[[0]]])
    with pytest.raises(DataStructureError, match="child 1 at wave 0"):
        attrition(dup, "score", "wave", person_id="child")
    with pytest.raises(DataStructureError, match="only one wave"):
        attrition(HAND[HAND["wave"] == 0], "score", "wave", person_id="child")


def test_level_with_one_status_left_out_of_logistic_with_a_note():
    df = _mar(4, 1.0, n=200)
    df.loc[df["child"].isin([0, 1, 2]), "sex"] = "x"
    df = df[~((df["child"].isin([0, 1, 2])) & (df["wave"] == 12))]  # all three drop out
    res = attrition(df, "score", "wave", person_id="child", demographics=["sex"])
    assert any("sex = 'x': all 3 child(ren) dropped out" in w for w in res.warnings)
    lg = res.logistic.set_index("term")
    assert "sex[x]" not in lg.index and lg["odds_ratio"].notna().all()


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["str", "int", "float", "bool", "mixed", "category"]),
    cells=st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=40),
)
def test_property_completion_counts_are_crosstab(kind, cells):
    # The counts per level from factorised codes: crosstab's table (levels in its order, both
    # follow-up statuses, the same counts and dtypes), on values with missing ones dropped.
    from outcomes.longitudinal.attrition import _completion_counts

    make = {
        "str": lambda k: f"level {k}",
        "int": lambda k: k - 2,
        "float": lambda k: k / 2,
        "bool": lambda k: k % 2 == 0,
        "mixed": lambda k: k if k % 2 else f"l{k}",
        "category": lambda k: f"level {k}",
    }[kind]
    vals = [None if missing else make(k) for k, missing, _ in cells]
    values = pd.Series(vals, dtype="category" if kind == "category" else None, name="sen")
    done = pd.Series([d for *_, d in cells], dtype=bool, name="completed")
    ok = values.notna()
    try:
        old = pd.crosstab(values[ok], done[ok]).reindex(columns=[True, False], fill_value=0)
    except TypeError:  # levels crosstab cannot sort
        return
    new = _completion_counts(values[ok], done[ok])
    assert new.index.tolist() == old.index.tolist()
    for c in (True, False):
        np.testing.assert_array_equal(new[c].to_numpy(), old[c].to_numpy())
        assert new[c].dtype == old[c].dtype
    assert new.to_numpy().dtype == old.to_numpy().dtype


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["str", "int", "float", "bool", "category"]),
    cells=st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=40),
)
def test_property_pure_levels_are_groupbys(kind, cells):
    # The levels with one follow-up status only: what groupby's min, max and size find, in
    # its order, with the same labels (repr included: they are written into the notes).
    from outcomes.longitudinal.attrition import _pure_levels

    make = {
        "str": lambda k: f"level {k}",
        "int": lambda k: k - 2,
        "float": lambda k: k / 2,
        "bool": lambda k: k % 2 == 0,
        "category": lambda k: f"level {k}",
    }[kind]
    vals = [None if missing else make(k) for k, missing, _ in cells]
    values = pd.Series(vals, dtype="category" if kind == "category" else None, name="sen")
    if kind == "int":
        values = values.astype("Int64").astype(float) if values.isna().any() else values
    ch = pd.DataFrame({"sen": values, "completed": [d for *_, d in cells]})
    status = ch.groupby("sen")["completed"].agg(["min", "max", "size"])
    old = [
        (lev, int(r["size"]), bool(r["min"]))
        for lev, r in status[status["min"] == status["max"]].iterrows()
    ]
    new = _pure_levels(ch["sen"], ch["completed"])
    assert [repr(x) for x in new] == [repr(x) for x in old]


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0, 40, allow_nan=False)),
            st.one_of(st.none(), st.sampled_from(["f", "m", "x"])),
            st.one_of(st.none(), st.integers(0, 12)),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    ),
    name=st.sampled_from(["age", "const"]),
)
def test_property_design_is_add_constants(cells, name):
    # The intercept in the frame from the start: add_constant's design (values, dtypes,
    # names, rows kept and memory layout, which set the fit's rounding), bit for bit.
    from outcomes._internal import sm
    from outcomes.longitudinal.attrition import _design, _label

    ch = pd.DataFrame(
        {
            "baseline": [c[0] for c in cells],
            "gender": [c[1] for c in cells],
            name: [c[2] for c in cells],
            "completed": [c[3] for c in cells],
        },
        index=pd.Index([f"u{i}" for i in range(len(cells))], name="unit"),
    )
    ch["baseline"] = ch["baseline"].fillna(1.0)
    demographics = ["gender", name]
    kinds = {"gender": "categorical", name: "numeric"}
    cols = {"baseline": ch["baseline"].to_numpy(float)}  # the design as built before
    v = ch["gender"]
    for lev in sorted(pd.unique(v.dropna()).tolist(), key=str)[1:]:
        cols[f"gender[{_label(lev)}]"] = np.where(v.isna(), np.nan, (v == lev).astype(float))
    cols[name] = pd.to_numeric(ch[name], errors="coerce").to_numpy(float)
    old = pd.DataFrame(cols, index=ch.index)
    old_keep = old.notna().all(axis=1)
    old = sm.add_constant(old[old_keep], has_constant="add")
    new, keep = _design(ch, demographics, kinds)
    pd.testing.assert_series_equal(keep, old_keep)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    a, b = np.asarray(new), np.asarray(old)
    np.testing.assert_array_equal(a, b)
    assert (a.flags.c_contiguous, a.flags.f_contiguous) == (
        b.flags.c_contiguous,
        b.flags.f_contiguous,
    )
