"""Likert perception surveys: checked against pingouin's documented alpha values (themselves
checked against R psych::alpha), exact population structures and hand-derived numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from outcomes import likert as lk
from outcomes.errors import DataStructureError, InvalidResponsesError, OutcomesError

AGREE = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}


def _exact(corr: np.ndarray, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Data whose sample correlation matrix is exactly ``corr`` (whitened noise times its
    Cholesky factor), so a one-factor fit must return the generating loadings."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, corr.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    x = z @ np.linalg.cholesky(corr).T
    return pd.DataFrame(x, columns=[f"i{j + 1}" for j in range(corr.shape[0])])


def _one_factor_corr(loadings) -> np.ndarray:
    lam = np.asarray(loadings, dtype=float)
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    return r


def _staff(seed=0, n=120, shift=0.5, keep=0.7, labels=True):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, n)
    frames = []
    ids = np.arange(n)
    for w, d in ((1, 0.0), (2, shift)):
        sel = ids if w == 1 else ids[rng.random(n) < keep]
        th = theta[sel] + d
        items = {}
        for j in range(1, 11):
            lat = 0.8 * th + rng.normal(0, 0.6, len(sel))
            cat = np.digitize(lat, [-1.5, -0.5, 0.3, 1.2]) + 1
            items[f"q{j}"] = [AGREE[c] for c in cat] if labels else cat
        frames.append(
            pd.DataFrame(
                {
                    "respondent_id": [f"st{i:03d}" for i in sel],
                    "role": np.where(sel % 3 == 0, "teacher", "support"),
                    "wave": w,
                    **items,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- alpha
def test_alpha_matches_pingouin_documented_examples():
    # pingouin.cronbach_alpha docstring (checked there against R psych::alpha):
    # pairwise 0.732660835214447 [0.435, 0.909]; listwise 0.8016949152542373 [0.581, 0.933].
    data = pg.read_dataset("cronbach_wide_missing")
    row = lk.reliability(data).iloc[0]
    assert row["alpha"] == pytest.approx(0.732660835214447, abs=1e-12)
    assert row["alpha_ci_low"] == pytest.approx(0.435, abs=5e-4)
    assert row["alpha_ci_high"] == pytest.approx(0.909, abs=5e-4)
    lw = lk.reliability(data, nan_policy="listwise").iloc[0]
    assert lw["alpha"] == pytest.approx(0.8016949152542373, abs=1e-12)
    assert "listwise" in lw["note"] and lw["n"] == 9
    # pingouin's listwise CI [0.581, 0.933] uses n = 12, the rows *before* deletion. We use the
    # 9 complete respondents actually analysed; Feldt by hand with F(8, 80):
    lo = 1 - (1 - lw["alpha"]) * stats.f.isf(0.025, 8, 80)
    hi = 1 - (1 - lw["alpha"]) * stats.f.isf(0.975, 8, 80)
    assert (lw["alpha_ci_low"], lw["alpha_ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert (lo, hi) == pytest.approx((0.5330, 0.9472), abs=5e-5)
    # Likert-type long-format data: 0.5917188485995826 [0.195, 0.84].
    long = pg.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")
    lik = lk.reliability(wide).iloc[0]
    assert lik["alpha"] == pytest.approx(0.5917188485995826, abs=1e-12)
    assert (lik["alpha_ci_low"], lik["alpha_ci_high"]) == pytest.approx((0.195, 0.84), abs=5e-4)


def test_alpha_and_omega_equal_for_tau_equivalent_items():
    # Six items loading 0.6 each: r = 0.36, alpha = 6(.36)/(1 + 5(.36)) = 2.16/2.8;
    # omega = 3.6^2 / (3.6^2 + 6(1 - .36)) = 12.96/16.8 - the same number, 0.771428...
    df = _exact(_one_factor_corr([0.6] * 6))
    row = lk.reliability(df).iloc[0]
    assert row["alpha"] == pytest.approx(2.16 / 2.8, abs=1e-9)
    assert row["omega"] == pytest.approx(12.96 / 16.8, abs=1e-6)
    assert row["variance_explained"] == pytest.approx(0.36, abs=1e-6)


def test_one_factor_recovers_loadings_and_omega():
    lam = [0.8, 0.7, 0.6, 0.5, 0.4]
    fc = lk.one_factor(_exact(_one_factor_corr(lam)))
    assert fc.loadings["loading"].to_numpy() == pytest.approx(lam, abs=1e-6)
    # omega = (sum lambda)^2 / ((sum lambda)^2 + sum(1 - lambda^2)) = 9 / (9 + 3.1)
    assert fc.omega == pytest.approx(9 / 12.1, abs=1e-6)
    assert fc.rmsr == pytest.approx(0, abs=1e-6)
    assert fc.eigenvalues[0] > 2 * fc.eigenvalues[1]
    assert "omega = 0.74" in fc.summary()


def test_item_analysis_by_brute_force():
    rng = np.random.default_rng(4)
    f = rng.normal(size=200)
    df = pd.DataFrame({f"q{i}": np.round(2 + f + rng.normal(0, 1 + i / 3, 200)) for i in range(5)})
    tab = lk.item_analysis(df).set_index("item")
    for c in df.columns:
        rest = df.drop(columns=c).sum(axis=1)
        assert tab.loc[c, "item_rest_r"] == pytest.approx(np.corrcoef(df[c], rest)[0, 1], abs=1e-12)
        alpha_without = pg.cronbach_alpha(df.drop(columns=c))[0]
        assert tab.loc[c, "alpha_if_deleted"] == pytest.approx(alpha_without, abs=1e-12)
    assert not tab["looks_reversed"].any()


def test_reverse_keyed_item_is_flagged():
    rng = np.random.default_rng(1)
    f = rng.normal(size=300)
    df = pd.DataFrame({f"q{i}": f + rng.normal(size=300) for i in range(5)})
    df["q2"] = -df["q2"]
    tab = lk.item_analysis(df).set_index("item")
    assert tab["looks_reversed"].tolist() == [False, False, True, False, False]
    assert "reverse-keyed by mistake" in tab.loc["q2", "note"]
    assert tab.loc["q2", "item_rest_r"] < 0 and tab.loc["q2", "loading"] < 0
    assert "q2" in lk.reliability(df).loc[0, "note"]
    assert "q2" in lk.one_factor(df).summary()


def test_identical_answers_make_alpha_undefined_not_a_number():
    df = pd.DataFrame({f"q{i}": [3] * 20 for i in range(4)})
    with pytest.warns(lk.LikertWarning, match="no item varies"):
        row = lk.reliability(df).iloc[0]
    assert np.isnan(row["alpha"]) and np.isnan(row["alpha_ci_low"]) and np.isnan(row["omega"])
    assert "alpha undefined" in row["note"]
    tab = lk.item_analysis(df)
    assert tab["item_rest_r"].isna().all() and tab["note"].str.contains("no variance").all()
    # One constant item among varying ones: alpha is defined, the item is explained.
    df2 = pd.DataFrame(
        {"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4], "d": [3] * 5}
    )
    row2 = lk.reliability(df2).iloc[0]
    assert np.isfinite(row2["alpha"]) and "no variance" in row2["note"]


def test_reliability_bad_input():
    with pytest.raises(OutcomesError, match="at least two items"):
        lk.reliability(pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(InvalidResponsesError, match="'b' is not numeric"):
        lk.reliability(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    with pytest.raises(DataStructureError, match="no rows"):
        lk.reliability(pd.DataFrame({"a": [], "b": []}))
    with pytest.warns(lk.LikertWarning, match="1 respondent"):
        row = lk.reliability(pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, np.nan]})).iloc[0]
    assert np.isnan(row["alpha"]) and "answered no item" in row["note"]
    with pytest.raises(OutcomesError, match="nan_policy"):
        lk.reliability(pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]}), nan_policy="drop")


def test_reliability_with_the_instrument_and_by_wave():
    df = _staff()
    out = lk.reliability(df, instrument="workforce_confidence", by="wave")
    assert out["wave"].tolist() == [1, 2] and (out["k"] == 10).all()
    assert (out["alpha"] > 0.8).all() and (out["omega"] > 0.8).all()
    assert (out["alpha_ci_low"] < out["alpha"]).all() and (
        out["alpha"] < out["alpha_ci_high"]
    ).all()


@settings(max_examples=15, deadline=None)
@given(st.integers(3, 6), st.integers(5, 40), st.integers(0, 10**6))
def test_alpha_if_deleted_and_item_rest_agree_with_direct_computation(k, n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        rng.integers(1, 6, size=(n, k)).astype(float), columns=[f"q{i}" for i in range(k)]
    )
    tab = lk.item_analysis(df)
    for i, c in enumerate(df.columns):
        rest = df.drop(columns=c)
        if df[c].std() > 0 and rest.sum(axis=1).std() > 0:
            assert tab.loc[i, "item_rest_r"] == pytest.approx(
                np.corrcoef(df[c], rest.sum(axis=1))[0, 1], abs=1e-9
            )
        c_rest = rest.cov().to_numpy()
        if c_rest.sum() > 0:
            direct = (k - 1) / (k - 2) * (1 - np.trace(c_rest) / c_rest.sum())
            assert tab.loc[i, "alpha_if_deleted"] == pytest.approx(direct, abs=1e-9)


# ----------------------------------------------------------------------------- summaries
def test_item_summary_top_two_box_with_wilson():
    df = pd.DataFrame(
        {
            "q1": ["Agree", "Strongly agree", "Disagree", "Not applicable", "agree"]
            + ["Agree"] * 5,
            **{f"q{i}": [3] * 10 for i in range(2, 11)},
        }
    )
    tab = lk.item_summary(df, instrument="workforce_confidence").set_index("item")
    # q1: 9 answers (N/A is missing), 8 agree or strongly agree
    assert tab.loc["q1", ["n", "missing", "agree"]].tolist() == [9, 1, 8]
    assert tab.loc["q1", "prop_agree"] == pytest.approx(8 / 9)
    lo, hi = stats.binomtest(8, 9).proportion_ci(method="wilson")
    assert (tab.loc["q1", "ci_low"], tab.loc["q1", "ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert tab.loc["q2", "agree"] == 0 and tab.loc["q2", "ci_low"] == 0
    assert tab.loc["q1", "label"] == "recognise early signs"


def test_item_summary_bad_labels_name_the_cell():
    df = pd.DataFrame({f"q{i}": ["Agree"] * 3 for i in range(1, 11)})
    df.loc[2, "q4"] = "Agreed"
    with pytest.raises(InvalidResponsesError, match=r"row 2, column 'q4': 'Agreed'"):
        lk.item_summary(df, instrument="workforce_confidence")
    with pytest.raises(InvalidResponsesError, match=r"values \[7.0\]"):
        lk.item_summary(pd.DataFrame({"a": [1, 7]}), levels=[1, 2, 3, 4, 5])
    with pytest.raises(OutcomesError, match="top must be"):
        lk.item_summary(pd.DataFrame({"a": [1, 2]}), levels=[1, 2], top=2)


def test_distribution_keeps_zero_levels_and_sums_to_one():
    df = _staff(labels=False)
    dist = lk.item_distribution(df, instrument="workforce_confidence", by="wave")
    sums = dist.groupby(["wave", "item"])["prop"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert len(dist) == 2 * 10 * 5
    small = lk.item_distribution(pd.DataFrame({"q": [1, 1, 5]}), levels=[1, 2, 3, 4, 5])
    assert small["count"].tolist() == [2, 0, 0, 0, 1]


def _distribution_group_by_group(df, items, levels, by):
    """The table built one group at a time: the plain reading of item_distribution(by=)."""
    parts = []
    for key, sub in df.groupby(by, dropna=False, sort=True, observed=True):
        part = lk.item_distribution(sub, items=items, levels=levels)
        for j, b in enumerate(by):
            part.insert(j, b, key[j])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    n_items=st.integers(1, 4),
    levels=st.sampled_from([[1, 2, 3, 4, 5], [0, 1, 2, 3], [5, 3, 1]]),
    by_kind=st.sampled_from(["int", "str", "str_with_missing", "two"]),
    seed=st.integers(0, 10_000),
)
def test_distribution_by_matches_group_by_group(n, n_items, levels, by_kind, seed):
    rng = np.random.default_rng(seed)
    items = [f"q{j}" for j in range(n_items)]
    x = rng.choice(np.array(levels, dtype=float), (n, n_items))
    x[rng.random((n, n_items)) < 0.2] = np.nan
    df = pd.DataFrame(x, columns=items)
    df["g"] = rng.integers(0, 4, n)
    df["h"] = rng.choice(["b", "a", "c"], n)
    if by_kind == "str_with_missing":
        df["h"] = df["h"].where(rng.random(n) > 0.3, None)
    by = {"int": ["g"], "str": ["h"], "str_with_missing": ["h"], "two": ["h", "g"]}[by_kind]
    got = lk.item_distribution(df, items=items, levels=levels, by=by)
    want = _distribution_group_by_group(df, items, levels, by)
    pd.testing.assert_frame_equal(got, want)


def test_diverging_plot():
    import matplotlib.pyplot as plt

    ax = lk.plot_diverging(_staff(), instrument="workforce_confidence", title="WCS-10")
    assert len(ax.patches) == 10 * 5
    # Each bar row spans its full 100%, split around zero.
    widths = np.array([p.get_width() for p in ax.patches]).reshape(5, 10).sum(axis=0)
    assert widths == pytest.approx(100.0)
    assert ax.get_xlim()[0] < 0 < ax.get_xlim()[1]
    plt.close("all")


# ----------------------------------------------------------------------------- change
def test_unmatched_rank_biserial_and_mann_whitney():
    df = pd.DataFrame({"wave": [1] * 5 + [2] * 5, "q": [1, 2, 3, 4, 5, 3, 4, 5, 5, 5]})
    row = (
        lk.compare_waves(df, items=["q"], levels=[1, 2, 3, 4, 5], ordinal=False).to_frame().iloc[0]
    )
    ref = pg.mwu([3, 4, 5, 5, 5], [1, 2, 3, 4, 5])  # pingouin's RBC with x = follow-up
    assert row["rank_biserial"] == pytest.approx(float(ref["RBC"].iloc[0]))
    assert row["mwu_p"] == pytest.approx(float(ref["p_val"].iloc[0]))
    # By hand: U(follow-up) = 3 + 3.5 + 4.5 * 3 = 20... counting wins + half ties:
    # 3 beats 1,2 and ties 3 -> 2.5; 4 -> 3.5; each 5 -> 4.5; U = 2.5 + 3.5 + 13.5 = 19.5
    assert row["mwu_u"] == 19.5 and row["rank_biserial"] == pytest.approx(2 * 19.5 / 25 - 1)
    # agree (4-5): baseline 2/5, follow-up 4/5
    assert row["agree_diff"] == pytest.approx(0.4)


def test_ordinal_logit_on_two_levels_is_the_cross_product_odds_ratio():
    # With two answer levels the proportional-odds model is logistic regression, whose
    # odds ratio for a binary predictor is the 2x2 cross-product: (30/10) / (15/25) = 5.
    df = pd.DataFrame({"wave": [1] * 40 + [2] * 40, "q": [4] * 15 + [2] * 25 + [4] * 30 + [2] * 10})
    row = lk.compare_waves(df, items=["q"], levels=[1, 2, 3, 4, 5]).to_frame().iloc[0]
    assert row["ordinal_or"] == pytest.approx(5.0, rel=1e-4)
    se = np.sqrt(1 / 15 + 1 / 25 + 1 / 30 + 1 / 10)  # Woolf SE of the log odds ratio
    assert row["ordinal_or_ci_low"] == pytest.approx(np.exp(np.log(5) - 1.959964 * se), rel=1e-3)
    assert row["ordinal_p"] == pytest.approx(2 * stats.norm.sf(np.log(5) / se), rel=1e-3)


def test_matched_change_by_hand():
    df = pd.DataFrame(
        {
            "id": list("abcde") * 2 + ["f"],
            "wave": [1] * 5 + [2] * 5 + [2],
            "q": [2, 3, 3, 4, 2, 3, 3, 4, 5, 4, 5],
        }
    )
    res = lk.compare_waves(df, items=["q"], levels=[1, 2, 3, 4, 5], person_id="id")
    row = res.to_frame().iloc[0]
    # changes 1, 0, 1, 1, 2: mean 1, sd sqrt(0.5), t = 1 / (sqrt(0.5)/sqrt(5)) = sqrt(10)
    assert row["n_pairs"] == 5 and row["mean_change"] == 1.0
    assert row["t"] == pytest.approx(np.sqrt(10))
    assert row["t_p"] == pytest.approx(2 * stats.t.sf(np.sqrt(10), 4))
    assert row["d_z"] == pytest.approx(1 / np.sqrt(0.5))
    # non-zero changes 1, 1, 1, 2: all positive, so V = 10 and rank-biserial = 1
    assert row["wilcoxon_v"] == 10 and row["rank_biserial"] == 1.0
    assert (row["prop_improved"], row["prop_same"], row["prop_worse"]) == (0.8, 0.2, 0.0)
    assert "1 response(s) without a partner" in res.summary()


def test_compare_waves_with_the_instrument_both_designs():
    df = _staff(seed=2)
    un = lk.compare_waves(df, instrument="workforce_confidence", ordinal=False)
    tab = un.to_frame()
    assert tab["outcome"].tolist() == [f"q{i}" for i in range(1, 11)] + ["confidence"]
    conf = tab.iloc[-1]
    assert conf["rank_biserial"] > 0 and conf["mwu_p"] < 0.05
    assert "Mean confidence was" in un.summary() and "share agreeing rose" in un.summary()
    m = lk.compare_waves(
        df, instrument="workforce_confidence", person_id="respondent_id", by="role"
    )
    mt = m.to_frame()
    assert set(mt["role"]) == {"teacher", "support"}
    assert (mt.loc[mt["outcome"] == "confidence", "mean_change"] > 0).all()
    assert "role teacher: Among" in m.summary()
    import matplotlib.pyplot as plt

    assert len(un.plot().get_yticklabels()) == 10
    plt.close("all")


def test_compare_waves_bad_input():
    df = _staff(seed=3, n=20)
    with pytest.raises(DataStructureError, match="one wave only"):
        lk.compare_waves(df[df["wave"] == 1], instrument="workforce_confidence")
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(DataStructureError, match="appear twice at baseline"):
        lk.compare_waves(dup, instrument="workforce_confidence", person_id="respondent_id")
    noid = df.copy()
    noid.loc[0, "respondent_id"] = None
    with pytest.raises(DataStructureError, match="have no 'respondent_id'"):
        lk.compare_waves(noid, instrument="workforce_confidence", person_id="respondent_id")
    with pytest.raises(OutcomesError, match="person_id="):
        lk.compare_waves(df, instrument="workforce_confidence", design="matched")
    # a group with nobody at follow-up is reported, not crashed
    df.loc[(df["role"] == "teacher") & (df["wave"] == 2), "wave"] = 3
    res = lk.compare_waves(
        df, instrument="workforce_confidence", waves=(1, 2), by="role", ordinal=False
    )
    t = res.to_frame().set_index(["role", "outcome"])
    assert t.loc[("teacher", "confidence"), "note"] == "no answers at follow-up"
    assert np.isnan(t.loc[("teacher", "confidence"), "mwu_p"])
    assert "role teacher: no comparison possible" in res.summary()


def test_identical_answers_in_change_give_no_test():
    df = pd.DataFrame({"wave": [1, 1, 2, 2], "q": [3, 3, 3, 3]})
    row = lk.compare_waves(df, items=["q"], levels=[1, 2, 3, 4, 5]).to_frame().iloc[0]
    assert np.isnan(row["mwu_p"]) and np.isnan(row["ordinal_or"])
    assert "every answer identical" in row["note"]


def test_synthetic_staff_survey_recovers_the_true_change():
    from outcomes.synthetic import simulate_programme

    data = simulate_programme(
        seed=11,
        n_schools=12,
        secondary_share=0.5,
        n_comparison_schools=4,
        truth_mc_size=0,
        service_months=1,
    )
    staff = data.staff_survey.merge(data.schools[["school_id", "in_programme"]], on="school_id")
    prog = staff[staff["in_programme"]]
    rel = lk.reliability(prog, instrument="workforce_confidence", by="wave")
    assert (rel["alpha"] > 0.8).all() and rel["note"].eq("").all()
    assert not lk.item_analysis(prog, instrument="workforce_confidence")["looks_reversed"].any()
    res = lk.compare_waves(prog, instrument="workforce_confidence", person_id="respondent_id")
    row = res.to_frame().iloc[-1]
    truth = data.truth.staff.set_index(["group", "wave"]).loc[
        ("programme", "12m"), "change_confidence"
    ]
    assert row["outcome"] == "confidence" and row["ci_low"] < truth < row["ci_high"]


def test_a_scale_of_scales_is_refused_clearly():
    import outcomes as oc
    from outcomes.errors import OutcomesError

    df = pd.DataFrame({it.id: [0, 1, 2] for it in oc.load_instrument("sdq_parent").coded_items})
    with pytest.raises(OutcomesError, match="built from scales"):
        lk.reliability(df, instrument="sdq_parent", scale="total_difficulties")


def test_an_item_not_in_the_data_is_named_with_a_suggestion():
    df = pd.DataFrame({f"q{i}": [3, 4] for i in range(1, 8)})
    with pytest.raises(DataStructureError, match=r"\[.q71.\].*did you mean .q7."):
        lk.item_summary(df, instrument="swemwbs", items=["q1", "q71"])
