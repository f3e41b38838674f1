"""paired_change, paired_change_table, caseness_change (McNemar) and p-value adjustment.

Reference numbers come from specs/statistics.md (R's sleep data, Lakens 2013 movie data,
R's mcnemar.test, Holm), from R's documentation example for wilcox.test, from pingouin and
statsmodels, and from hand calculations written out in the comments.
"""

from __future__ import annotations

import doctest
import math

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar

import outcomes.change.paired as change_mod
from outcomes.change.paired import (
    CHANGE_COLUMNS,
    adjust_pvalues,
    caseness_change,
    hedges_j,
    paired_change,
    paired_change_table,
)
from outcomes.errors import DataStructureError, InvalidParameterError, OutcomesError

# R datasets::sleep, extra by group, paired by ID
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
# Lakens (2013) movie example
MOVIE_X = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_Y = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
# R ?wilcox.test, Hollander & Wolfe depression scale (x = first visit, y = second)
DEPR_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPR_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]


@pytest.fixture
def sleep():
    # statistics.md reports group 1 - group 2; differences are post - pre, so post = group 1.
    return paired_change(SLEEP_2, SLEEP_1)


def test_doctests():
    assert doctest.testmod(change_mod).failed == 0


def test_contract_columns(sleep):
    cols = list(sleep.to_frame().columns)
    contract = (
        "n, mean_pre, mean_post, sd_pre, sd_post, r, mean_diff, ci_low, ci_high, t, df, p, "
        "wilcoxon_stat, wilcoxon_p, rank_biserial, d_z, d_z_ci_low, d_z_ci_high, d_av, d_rm"
    ).split(", ")
    assert cols[: len(contract)] == contract
    for extra in (
        "wilcoxon_zero_method",
        "wilcoxon_method",
        "sign_test_p",
        "g_z",
        "g_av",
        "g_rm",
        "n_dropped",
    ):
        assert extra in cols
    assert cols == CHANGE_COLUMNS


def test_sleep_t_test(sleep):
    assert sleep.t == pytest.approx(-4.0621, abs=1e-4)
    assert sleep.df == 9
    assert sleep.p == pytest.approx(0.002833, abs=1e-6)
    assert sleep.ci_low == pytest.approx(-2.4598858, abs=1e-7)
    assert sleep.ci_high == pytest.approx(-0.7001142, abs=1e-7)
    assert sleep.mean_diff == pytest.approx(-1.58, abs=1e-12)


def test_sleep_effect_sizes(sleep):
    assert sleep.d_z == pytest.approx(-1.2846, abs=1e-4)
    assert sleep.d_z_ci_low == pytest.approx(-2.118, abs=1e-3)
    assert sleep.d_z_ci_high == pytest.approx(-0.415, abs=1e-3)
    assert sleep.d_av == pytest.approx(-0.8322, abs=1e-4)
    assert sleep.d_rm == pytest.approx(-0.8222, abs=1e-4)
    # d_z = t / sqrt(n)
    assert sleep.d_z == pytest.approx(sleep.t / np.sqrt(10), rel=1e-12)


def test_sleep_wilcoxon_matches_r(sleep):
    # R: wilcox.test(extra ~ group, paired = TRUE): V = 0, p = 0.009091 (normal approximation
    # with continuity correction, because of the zero and the tie); zeros dropped.
    assert sleep.wilcoxon_stat == 0
    assert sleep.wilcoxon_p == pytest.approx(0.009091, abs=1e-6)
    assert sleep.wilcoxon_method == "asymptotic"
    assert sleep.wilcoxon_correction is True
    assert sleep.wilcoxon_zero_method == "wilcox"
    assert sleep.n_zero == 1
    # all nine non-zero differences are negative: rank-biserial -1; sign test 2 * (1/2)^9
    assert sleep.rank_biserial == -1
    assert sleep.sign_test_p == pytest.approx(2 / 512, abs=1e-12)
    assert (sleep.n_positive, sleep.n_negative) == (0, 9)


def test_movie_example_lakens():
    res = paired_change(MOVIE_Y, MOVIE_X)  # post - pre = x - y as in Lakens
    assert res.t == pytest.approx(4.7434, abs=1e-4)
    assert res.p == pytest.approx(0.001054, abs=1e-6)
    assert res.d_z == pytest.approx(1.500, abs=1e-3)
    assert res.d_rm == pytest.approx(1.1113, abs=1e-4)
    assert res.d_av == pytest.approx(1.1259, abs=1e-4)


def test_pingouin_cohen_d_is_d_av_not_d_z():
    # statistics.md: pingouin's paired cohen_d equals |d_av|; it must not be read as d_z.
    pg = pytest.importorskip("pingouin")
    ref = pg.ttest(MOVIE_X, MOVIE_Y, paired=True)
    res = paired_change(MOVIE_Y, MOVIE_X)
    assert res.d_av == pytest.approx(float(ref["cohen_d"].iloc[0]), rel=1e-9)
    assert res.t == pytest.approx(float(ref["T"].iloc[0]), rel=1e-9)
    assert res.p == pytest.approx(float(ref["p_val"].iloc[0]), rel=1e-9)
    assert res.d_z != pytest.approx(float(ref["cohen_d"].iloc[0]), rel=1e-3)


def test_d_z_ci_against_numerical_integration():
    # Independent of scipy's nct: P(T <= t | ncp) = E[Phi(t sqrt(V/df) - ncp)], V ~ chi2(df).
    # At the CI limits (times sqrt(n)) this must be 0.975 and 0.025.
    from scipy import integrate, stats

    def cdf(t, df, ncp):
        f = lambda v: stats.norm.cdf(t * np.sqrt(v / df) - ncp) * stats.chi2.pdf(v, df)  # noqa: E731
        return integrate.quad(f, 0, np.inf, limit=500, epsabs=1e-13)[0]

    for pre, post in [(SLEEP_2, SLEEP_1), ([0, -6, -6], [6, 0, 1]), (DEPR_Y, DEPR_X)]:
        res = paired_change(pre, post)
        root_n = np.sqrt(res.n)
        assert cdf(res.t, res.df, res.d_z_ci_low * root_n) == pytest.approx(0.975, abs=1e-8)
        assert cdf(res.t, res.df, res.d_z_ci_high * root_n) == pytest.approx(0.025, abs=1e-8)


def test_hedges_correction():
    assert hedges_j(10) == pytest.approx(0.922746, abs=1e-6)
    # J(df) ~ 1 - 3 / (4 df - 1) for large df
    assert hedges_j(200) == pytest.approx(1 - 3 / 799, abs=1e-5)
    res = paired_change(SLEEP_2, SLEEP_1)
    j9 = hedges_j(9)
    assert res.hedges_j == pytest.approx(j9)
    assert res.g_z == pytest.approx(res.d_z * j9)
    assert res.g_av == pytest.approx(res.d_av * j9)
    assert res.g_rm == pytest.approx(res.d_rm * j9)


def test_wilcoxon_exact_r_documentation_example():
    # R ?wilcox.test: wilcox.test(x, y, paired = TRUE, alternative = "greater"): V = 40,
    # p = 0.01953. By hand: ranks 1..9, no ties or zeros; P(V >= 40) = P(V <= 5) = 10/512
    # (subsets of 1..9 summing to <= 5: {}, 1, 2, 3, 4, 5, 12, 13, 14, 23); two-sided 20/512.
    res = paired_change(DEPR_Y, DEPR_X)
    assert res.wilcoxon_stat == 40
    assert res.wilcoxon_method == "exact"
    assert res.wilcoxon_correction is False
    assert res.wilcoxon_p == pytest.approx(20 / 512, abs=1e-12)
    # rank-biserial (R+ - R-) / (R+ + R-) = (40 - 5) / 45
    assert res.rank_biserial == pytest.approx(35 / 45, abs=1e-12)


def test_hand_derived_small_case():
    # d = [1, 2, 2]: mean 5/3, sd sqrt(1/3), se = 1/3, t = 5 on 2 df
    res = paired_change([1, 2, 3], [2, 4, 5])
    assert res.mean_diff == pytest.approx(5 / 3)
    assert res.sd_diff == pytest.approx(np.sqrt(1 / 3))
    assert res.t == pytest.approx(5.0)
    assert res.df == 2
    # two-sided p of t = 5 on 2 df: 1 - 5 / sqrt(27) (closed form of the t(2) cdf)
    assert res.p == pytest.approx(1 - 5 / np.sqrt(27), abs=1e-12)
    assert res.r == pytest.approx(np.corrcoef([1, 2, 3], [2, 4, 5])[0, 1])


def test_zero_methods_and_forced_asymptotic():
    d_pre = [0, 0, 0, 0, 0, 0]
    d_post = [0, 1, 2, -3, 4, 5]  # one zero difference
    pratt = paired_change(d_pre, d_post, zero_method="pratt")
    # pratt ranks |0| too: ranks 1..6; R+ = 2 + 3 + 5 + 6, R- = 4
    assert pratt.wilcoxon_stat == 16
    assert pratt.rank_biserial == pytest.approx((16 - 4) / 20)
    z = paired_change(d_pre, d_post, zero_method="zsplit")
    assert z.wilcoxon_stat == pytest.approx(16 + 0.5)
    asym = paired_change(DEPR_Y, DEPR_X, wilcoxon_method="asymptotic")
    assert asym.wilcoxon_method == "asymptotic" and asym.wilcoxon_correction is True


def test_exact_with_ties_refused():
    with pytest.raises(OutcomesError, match="exact"):
        paired_change([1, 2, 3, 4], [2, 3, 5, 8], wilcoxon_method="exact")


def test_nan_dropped_pairwise_and_counted():
    pre = [*SLEEP_2, np.nan, 3.0]
    post = [*SLEEP_1, 1.0, np.nan]
    res = paired_change(pre, post)
    ref = paired_change(SLEEP_2, SLEEP_1)
    assert res.n == 10 and res.n_dropped == 2
    assert res.t == pytest.approx(ref.t) and res.d_z_ci_low == pytest.approx(ref.d_z_ci_low)


def test_summary_and_direction(sleep):
    text = sleep.summary()
    assert "10 people" in text and "fell" in text and "improvement" in text
    assert "\u22121.58" in text and "t(9)" in text
    up = paired_change(SLEEP_2, SLEEP_1, higher_is_better=True)
    assert "deterioration" in up.summary()
    assert up.direction() == "deterioration" and sleep.direction() == "improvement"


@pytest.mark.parametrize("kind", ["slopes", "distributions"])
def test_plot(sleep, kind):
    ax = sleep.plot(kind=kind)
    assert isinstance(ax, matplotlib.axes.Axes)


def test_plot_bad_kind(sleep):
    with pytest.raises(OutcomesError, match="kind"):
        sleep.plot(kind="pie")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("pre", "post", "err", "match"),
    [
        ([1, 2, 3], [1, 2], DataStructureError, "same length"),
        ([1], [2], OutcomesError, "at least 2"),
        ([1, np.nan, 3], [2, 4, np.nan], OutcomesError, "at least 2 complete pairs.*2 pair"),
        ([1, 2, 3], [2, 3, 4], OutcomesError, "zero"),
        ([1, 2, 3], [1, 2, 3], OutcomesError, "zero"),
        ([1, "two", 3], [2, 3, 5], OutcomesError, "non-numeric.*'two'"),
        ([1, np.inf, 3], [2, 3, 5], OutcomesError, "infinite"),
        ([True, False], [False, True], DataStructureError, "true/false"),
    ],
)
def test_bad_input(pre, post, err, match):
    with pytest.raises(err, match=match):
        paired_change(pre, post)


def test_misaligned_series_refused():
    a = pd.Series([1, 2, 3], index=["a", "b", "c"])
    b = pd.Series([2, 4, 5], index=["c", "b", "a"])
    with pytest.raises(DataStructureError, match="index"):
        paired_change(a, b)
    # same labels in the same order are fine
    paired_change(a, b.reindex(a.index))


def test_text_value_error_names_the_label():
    a = pd.Series([1, 2, 3], index=["p1", "p2", "p3"])
    b = pd.Series([2, "x", 5], index=["p1", "p2", "p3"])
    with pytest.raises(OutcomesError, match="'p2': 'x'"):
        paired_change(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [{"confidence": 1.2}, {"confidence": 0}, {"zero_method": "drop"}, {"wilcoxon_method": "fast"}],
)
def test_bad_options(kwargs):
    with pytest.raises(OutcomesError):
        paired_change(SLEEP_2, SLEEP_1, **kwargs)


def test_dataframe_input_refused():
    with pytest.raises(InvalidParameterError, match="parameter 'pre'.*DataFrame"):
        paired_change(pd.DataFrame({"a": [1, 2]}), [1, 2])


# ----------------------------------------------------------------------------- properties
finite = st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda x: round(x, 2))
pairs_strategy = st.lists(st.tuples(finite, finite), min_size=3, max_size=30).filter(
    lambda p: (
        np.std([b - a for a, b in p]) > 1e-6
        and np.std([a for a, _ in p]) > 1e-6
        and np.std([b for _, b in p]) > 1e-6
    )
)


@settings(max_examples=40, deadline=None)
@given(pairs_strategy)
def test_swapping_pre_and_post_flips_signs(pairs):
    pre, post = [a for a, _ in pairs], [b for _, b in pairs]
    f = paired_change(pre, post, wilcoxon_method="asymptotic")
    b = paired_change(post, pre, wilcoxon_method="asymptotic")
    for k in ("mean_diff", "t", "d_z", "d_av", "g_z", "rank_biserial"):
        assert getattr(b, k) == pytest.approx(-getattr(f, k), rel=1e-9, abs=1e-9)
    # d_rm uses sqrt(1 - r): when r is 1 up to rounding, the two orders differ by ~1e-8
    assert b.d_rm == pytest.approx(-f.d_rm, rel=1e-6, abs=1e-6)
    assert b.d_z_ci_low == pytest.approx(-f.d_z_ci_high, rel=1e-6, abs=1e-6, nan_ok=True)
    assert b.ci_high == pytest.approx(-f.ci_low, abs=1e-9)
    assert b.p == pytest.approx(f.p, abs=1e-12)
    assert b.wilcoxon_p == pytest.approx(f.wilcoxon_p, abs=1e-12)
    assert b.sign_test_p == pytest.approx(f.sign_test_p, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(pairs_strategy, st.randoms(use_true_random=False))
def test_row_order_is_irrelevant_bit_for_bit(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    a = paired_change([x for x, _ in pairs], [y for _, y in pairs]).to_frame()
    b = paired_change([x for x, _ in shuffled], [y for _, y in shuffled]).to_frame()
    num = a.select_dtypes("number").columns
    # Bit for bit: a report's rows come in the order of pseudonyms drawn afresh per build, and
    # a mean on a rounding boundary was published as 11.2 in one build and 11.3 in the next
    # when summation order changed its last bit.
    np.testing.assert_array_equal(a[num].to_numpy(float), b[num].to_numpy(float))


def test_mean_on_a_rounding_boundary_rounds_one_way_whatever_the_order():
    # 0.1 + 0.2 + 0.3 is 0.6000000000000001 in this order and 0.6 in the reverse one: the
    # mean 0.15 (0.6 / 4) was 0.15000000000000002 or 0.15 as the rows came
    post = [0.1, 0.2, 0.3, 0.0]
    pre = [1.0, 2.0, 3.0, 4.0]
    means = {paired_change(pre[::step], post[::step]).mean_post for step in (1, -1)}
    assert len(means) == 1


@settings(max_examples=30, deadline=None)
@given(pairs_strategy, st.integers(min_value=1, max_value=5))
def test_nan_pairs_only_change_n_dropped(pairs, k):
    pre = [a for a, _ in pairs] + [np.nan] * k
    post = [b for _, b in pairs] + [1.0] * k
    with_nan = paired_change(pre, post)
    clean = paired_change([a for a, _ in pairs], [b for _, b in pairs])
    assert with_nan.n_dropped == k and with_nan.n == clean.n
    assert with_nan.t == pytest.approx(clean.t) and with_nan.wilcoxon_p == pytest.approx(
        clean.wilcoxon_p
    )


# ----------------------------------------------------------------------------- by= and tables
def test_by_groups_match_separate_calls():
    pre = SLEEP_2 + MOVIE_Y
    post = SLEEP_1 + MOVIE_X
    groups = ["sleep"] * 10 + ["movie"] * 10
    table = paired_change(pre, post, by=groups)
    f = table.to_frame().set_index("group")
    assert f.loc["sleep", "t"] == pytest.approx(-4.0621, abs=1e-4)
    assert f.loc["movie", "t"] == pytest.approx(4.7434, abs=1e-4)
    assert table.results["movie"].d_rm == pytest.approx(1.1113, abs=1e-4)
    assert isinstance(table.plot(), matplotlib.axes.Axes)
    assert "sleep" in table.summary()


def test_by_small_group_gets_a_note_or_raises():
    pre, post = [*SLEEP_2, 1.0], [*SLEEP_1, 2.0]
    groups = ["a"] * 10 + ["b"]
    f = paired_change(pre, post, by=groups).to_frame().set_index("group")
    assert np.isnan(f.loc["b", "t"]) and "at least 2" in f.loc["b", "note"]
    assert f.loc["b", "n"] == 1 and f.loc["a", "note"] == ""
    with pytest.raises(OutcomesError, match="at least 2"):
        paired_change(pre, post, by=groups, errors="raise")


def test_table_with_directions_from_yaml_and_holm():
    pairs = pd.DataFrame(
        {
            "instrument": ["sdq_parent"] * 8,
            "scale": ["emotional"] * 4 + ["prosocial"] * 4,
            "pre": [6, 7, 8, 5, 4, 5, 6, 5],
            "post": [3, 5, 4, 4, 6, 7, 7, 8],
        }
    )
    t = paired_change_table(pairs)
    f = t.to_frame().set_index("scale")
    assert not f.loc["emotional", "higher_is_better"] and f.loc["prosocial", "higher_is_better"]
    assert list(f["p_adj"]) == pytest.approx(list(adjust_pvalues(f["p"], "holm")))
    assert (f["p_adj_method"] == "holm").all()
    # both outcomes improved: emotional fell (lower is better), prosocial rose (higher is better)
    assert all("improvement" in s for s in t.summary().splitlines())


def test_table_by_subgroup_and_mapping_direction():
    pairs = pd.DataFrame(
        {
            "scale": ["x"] * 6,
            "sex": ["f", "f", "f", "m", "m", "m"],
            "pre": [1, 2, 3, 4, 5, 6],
            "post": [2, 4, 5, 4, 7, 9],
        }
    )
    f = paired_change_table(
        pairs, by="sex", higher_is_better={"x": True}, adjust="fdr_bh"
    ).to_frame()
    assert list(f["sex"]) == ["f", "m"] and list(f["n"]) == [3, 3]
    with pytest.raises(OutcomesError, match="direction"):
        paired_change_table(pairs, higher_is_better={"y": True})
    with pytest.raises(OutcomesError, match="instrument"):
        paired_change_table(pairs, higher_is_better=None)
    with pytest.raises(DataStructureError, match="not found in the data"):
        paired_change_table(pairs, pre="baseline")


def test_adjust_pvalues_examples():
    # statistics.md: Holm of [.01, .02, .03, .04, .05] -> [.05, .08, .09, .09, .09]
    assert adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "holm") == pytest.approx(
        [0.05, 0.08, 0.09, 0.09, 0.09]
    )
    # BH by hand: p_(i) * m / i = .05 each, monotone
    assert adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "fdr_bh") == pytest.approx([0.05] * 5)
    out = adjust_pvalues([0.01, np.nan, 0.04], "bonferroni")
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.08)
    with pytest.raises(OutcomesError, match="parameter 'method'"):
        adjust_pvalues([0.1], "hs")


def test_adjust_pvalues_unsorted_ties_and_the_cap_at_one():
    # By hand (R: p.adjust(c(.04, .01, .5, .04, .3), "holm") and "BH" agree):
    # Holm: sorted .01 .04 .04 .3 .5 times 5 4 3 2 1 = .05 .16 .12 .6 .5, running max
    # .05 .16 .16 .6 .6; BH: p_(i) * 5 / i = .05 .1 .0667 .375 .5, running min from the top.
    p = [0.04, 0.01, 0.5, 0.04, 0.3]
    assert adjust_pvalues(p, "holm") == pytest.approx([0.16, 0.05, 0.6, 0.16, 0.6])
    assert adjust_pvalues(p, "bh") == pytest.approx([1 / 15, 0.05, 0.5, 1 / 15, 0.375])
    assert adjust_pvalues([0.3, 0.6], "bonferroni") == pytest.approx([0.6, 1.0])
    assert adjust_pvalues([0.9, 0.8], "holm") == pytest.approx([1.0, 1.0])  # .8 * 2 capped


def test_adjust_pvalues_are_statsmodels_bit_for_bit():
    # The report's published p_adj must not move: same arithmetic as multipletests.
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(21)
    for n in (1, 2, 7, 50):
        p = np.round(rng.uniform(0, 1, n) ** 3, 3)  # rounding makes ties
        for method in ("holm", "fdr_bh", "bonferroni"):
            np.testing.assert_array_equal(
                adjust_pvalues(p, method), multipletests(p, method=method)[1]
            )
    with pytest.raises(OutcomesError, match="between 0 and 1"):
        adjust_pvalues([1.5], "holm")


# ----------------------------------------------------------------------------- McNemar
def _mcnemar_arrays():
    # [[794, 150], [86, 570]]: rows baseline case / not case, columns follow-up case / not
    pre = [1] * 794 + [1] * 150 + [0] * 86 + [0] * 570
    post = [1] * 794 + [0] * 150 + [1] * 86 + [0] * 570
    return pre, post


def test_mcnemar_matches_r():
    pre, post = _mcnemar_arrays()
    res = caseness_change(pre, post, method="corrected")
    assert (res.both, res.b, res.c, res.neither) == (794, 150, 86, 570)
    assert res.chi2_corrected == pytest.approx(16.818, abs=1e-3)
    assert res.p_corrected == pytest.approx(4.115e-05, rel=1e-3)
    assert res.chi2_uncorrected == pytest.approx(17.356, abs=1e-3)
    assert res.p_uncorrected == pytest.approx(3.099e-05, rel=1e-3)
    assert res.p_exact == pytest.approx(3.716e-05, rel=1e-3)
    assert res.p == res.p_corrected and res.method == "corrected"
    sm = mcnemar([[794, 150], [86, 570]], exact=True)
    assert res.p_exact == pytest.approx(sm.pvalue, rel=1e-9)
    assert caseness_change(pre, post).p == res.p_exact  # default: exact, and it says so
    f = res.to_frame()
    assert f["method"].iloc[0] == "corrected" and f["n_case_pre"].iloc[0] == 944
    assert res.table().loc["case", "not case"] == 150
    assert "continuity correction" in res.summary()


def test_caseness_from_cutoff_bands_and_yaml():
    # sdq_parent total_difficulties: clinical at >= 17 (lower is better)
    res = caseness_change(
        [17, 16, 20, 10], [12, 18, 19, 11], instrument="sdq_parent", scale="total_difficulties"
    )
    assert (res.both, res.b, res.c, res.neither) == (1, 1, 1, 1)
    # prosocial: higher is better, clinical at <= 6
    res = caseness_change([6, 7], [7, 6], instrument="sdq_parent", scale="prosocial")
    assert (res.b, res.c) == (1, 1)
    res = caseness_change(
        ["High", "Close to average", None],
        ["Close to average", "Very high", "High"],
        case_bands=["High", "Very high"],
    )
    assert (res.b, res.c, res.n, res.n_dropped) == (1, 1, 2, 1)
    assert caseness_change([True, False, True], [False, False, False]).b == 2


def test_caseness_no_discordant_pairs():
    res = caseness_change([1, 0, 1], [1, 0, 1])
    assert res.p_exact == 1.0 and np.isnan(res.chi2_corrected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pre": [3, 5], "post": [4, 6]}, "cutoff"),
        ({"pre": [3, 5], "post": [4, 6], "cutoff": 4}, "higher_is_better"),
        ({"pre": [1, 0], "post": [1], "method": "exact"}, "same length"),
        ({"pre": [1, 0], "post": [1, 0], "method": "mid-p"}, "method"),
        ({"pre": [1, 0], "post": [1, 0], "instrument": "sdq_parent"}, "both"),
        (
            {"pre": [1, 0], "post": [1, 0], "instrument": "gbo", "scale": "goal_1"},
            "clinical_cutoff",
        ),
        ({"pre": [np.nan], "post": [1]}, "no complete pairs"),
    ],
)
def test_caseness_bad_input(kwargs, match):
    with pytest.raises(OutcomesError, match=match):
        caseness_change(**kwargs)


# ----------------------------------------------------------------------------- command line
def test_change_command(tmp_path):
    import typer
    from typer.testing import CliRunner

    from outcomes.cli.change import change_cli

    rows = []
    for i, (a, b) in enumerate(zip([6, 7, 8, 5, 9, 4], [3, 5, 4, 4, 8, 4], strict=True)):
        rows.append(
            {
                "person_id": f"p{i}",
                "rater": "parent",
                "date": "2024-01-10",
                "emotional": a,
                "prosocial": 5,
            }
        )
        rows.append(
            {
                "person_id": f"p{i}",
                "rater": "parent",
                "date": "2025-01-08",
                "emotional": b,
                "prosocial": 6 + i % 2,
            }
        )
    path = tmp_path / "scores.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    app = typer.Typer()
    app.command("change")(change_cli)
    app.command("other")(lambda: None)  # a second command keeps "change" as a sub-command
    out = tmp_path / "change.csv"
    res = CliRunner().invoke(
        app, ["change", str(path), "-i", "sdq_parent", "-o", str(out)], terminal_width=200
    )
    assert res.exit_code == 0, res.output
    assert "12 records gave 12 baseline/follow-up pairs" in res.output
    table = pd.read_csv(out).set_index("scale")
    # emotional: changes -3, -2, -4, -1, -1, 0 -> mean -11/6
    assert table.loc["emotional", "mean_diff"] == pytest.approx(-11 / 6)
    assert "Reliable change" in res.output
    bad = CliRunner().invoke(app, ["change", str(path), "-i", "nope"])
    assert bad.exit_code == 1 and "unknown instrument" in bad.output
    # a file name with brackets is named as it is: the error was printed as rich markup, which
    # dropped "[bold]" from the name and crashed with a traceback on "[/x]"
    for name in ("scores[bold].csv", "scores[/x].csv"):
        args = ["change", str(tmp_path / name), "-i", "sdq_parent"]
        res = CliRunner().invoke(app, args, terminal_width=400)
        assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
        assert f"{name}: no such file" in res.output, res.output


@settings(max_examples=500, deadline=None)
@given(
    t=st.floats(-1e6, 1e6, allow_nan=False),
    df=st.one_of(st.floats(-3, 1e5, allow_nan=False), st.integers(-2, 500).map(float)),
    ncp=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-60, 60)),
)
def test_the_noncentral_t_cdf_is_scipys(t: float, df: float, ncp: float) -> None:
    """The CI of d_z calls special.nctdtr directly; it must be scipy's nct.cdf, number for
    number (NaN where scipy gives NaN)."""
    from scipy import stats

    from outcomes.change.paired import _nct_cdf

    ours, theirs = _nct_cdf(t, df, ncp), float(stats.nct.cdf(t, df, ncp))
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


def test_paired_change_table_refuses_no_pairs_and_names_a_misspelt_column():
    # before: an empty table of pairs raised a bare IndexError, and a misspelt column was
    # named without a suggestion
    from outcomes.change import paired_change_table
    from outcomes.errors import DataStructureError

    empty = pd.DataFrame({"scale": pd.Series([], dtype=object), "pre": [], "post": []})
    with pytest.raises(DataStructureError, match="no rows"):
        paired_change_table(empty, higher_is_better=False)
    pairs = pd.DataFrame({"scale": ["a", "a"], "pre": [1.0, 2.0], "post": [2.0, 2.0]})
    with pytest.raises(DataStructureError, match="did you mean 'post'"):
        paired_change_table(pairs, post="posst", higher_is_better=False)
    with pytest.raises(DataStructureError, match="did you mean 'scale'"):
        paired_change_table(pairs, outcome="scal", higher_is_better=False)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 30),  # no pairs at all: an IndexError before and after
    method=st.sampled_from(["holm", "fdr_bh", "bh", "bonferroni"]),
)
def test_property_adjusted_table_is_adjust_of_the_unadjusted(seed, n, method):
    # The p-values adjusted as the table is built: what .adjust() gives on the table without.
    from outcomes.change import paired_change_table

    rng = np.random.default_rng(seed)
    pre = rng.normal(10, 3, n)
    pre[rng.random(n) < 0.1] = np.nan
    pairs = pd.DataFrame(
        {"scale": rng.choice(["a", "b", "c"], n), "pre": pre, "post": pre + rng.normal(0, 2, n)}
    )
    built = paired_change_table(pairs, higher_is_better=False, adjust=method)
    later = paired_change_table(pairs, higher_is_better=False, adjust=None).adjust(method)
    pd.testing.assert_frame_equal(built.frame, later.frame)


def test_paired_change_table_refuses_a_column_named_as_outcome_and_by():
    # before: a bare AttributeError (ValueError from groupby before that) for by="scale",
    # which the default outcome columns already hold
    from outcomes.change import paired_change_table
    from outcomes.errors import DataStructureError

    df = pd.DataFrame(
        {"pre": [1.0, 2, 3, 4], "post": [2.0, 3, 5, 4], "instrument": list("aabb"), "scale": "s"}
    )
    with pytest.raises(DataStructureError, match=r"\['scale'\] named twice"):
        paired_change_table(df, higher_is_better=True, by="scale")
    with pytest.raises(DataStructureError, match=r"\['instrument'\] named twice"):
        paired_change_table(df, outcome="instrument", by=["instrument"], higher_is_better=True)
