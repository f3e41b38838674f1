"""SPC charts in the Making Data Count style: each rule fires exactly where it should on
hand-built series; control limits and funnel limits against hand derivations and the exact
binomial quantiles written out below."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcomes import spc
from outcomes.errors import InvalidParameterError


def flagged(frame, rule: str) -> list[int]:
    return np.flatnonzero(frame[rule].to_numpy()).tolist()


# centre 0 and limits +/-3 (sigma 1) unless a test says otherwise
WIDE = {"centre": 0, "lower": -100, "upper": 100}
SIGMA1 = {"centre": 0, "lower": -3, "upper": 3}


def test_beyond_limits_marks_only_points_outside_and_not_on_the_limit():
    f = spc.special_causes([0, 3, 3.01, -3, -3.5, 1], **SIGMA1)
    assert flagged(f, "beyond_limits") == [2, 4]


def test_run_of_seven_on_one_side_and_configurable_to_six():
    # indices 2..8 are seven points above the mean; 10..15 six below (a point on the mean,
    # index 9, breaks nothing here: it is a run of its own of length 0)
    x = [1, -1, 1, 1, 1, 1, 1, 1, 1, 0, -1, -1, -1, -1, -1, -1, 1]
    assert flagged(spc.special_causes(x, **WIDE), "run") == [2, 3, 4, 5, 6, 7, 8]
    six = spc.special_causes(x, **WIDE, run_length=6)
    assert flagged(six, "run") == [2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]
    # equal values are neither a trend nor near a limit
    assert not six["trend"].any() and not six["two_of_three"].any()


def test_a_point_on_the_mean_breaks_a_run():
    x = [1, 1, 1, 0, 1, 1, 1, 1]  # 3 + 4 above, split by a point on the mean
    assert not spc.special_causes(x, **WIDE, run_length=6)["run"].any()


def test_trend_of_six_increasing_or_decreasing_and_ties_break_it():
    # six rising points (-3..3 across the mean, so no run): indices 1..6
    up = [5, -3, -2, -1, 1, 2, 3, 0]
    assert flagged(spc.special_causes(up, **WIDE), "trend") == [1, 2, 3, 4, 5, 6]
    down = [-5, 3, 2, 1, -1, -2, -3, 0]
    f = spc.special_causes(down, **WIDE)
    assert flagged(f, "trend") == [1, 2, 3, 4, 5, 6]
    assert f["side"].iloc[6] == -1  # the trend is downward
    # five rising points only, and a tie inside a rise: no trend
    assert not spc.special_causes([5, -2, -1, 1, 2, 3, 0], **WIDE)["trend"].any()
    assert not spc.special_causes([-3, -2, -1, -1, 1, 2, 3], **WIDE)["trend"].any()
    # configurable to 5 points: now the five rising points count
    five = spc.special_causes([5, -2, -1, 1, 2, 3, 0], **WIDE, trend_length=5)
    assert flagged(five, "trend") == [1, 2, 3, 4, 5]


def test_two_of_three_beyond_two_sigma_on_the_same_side():
    # sigma 1, so 2 sigma is 2: indices 1 and 3 above (one window 1..3); 5 and 7 below
    x = [0, 2.5, 0, 2.5, 0, -2.5, 0.5, -2.5]
    assert flagged(spc.special_causes(x, **SIGMA1), "two_of_three") == [1, 3, 5, 7]
    # three apart, or on opposite sides, or exactly on 2 sigma: not marked
    assert not spc.special_causes([2.5, 0, 0, 2.5], **SIGMA1)["two_of_three"].any()
    assert not spc.special_causes([2.5, -2.5, 0], **SIGMA1)["two_of_three"].any()
    assert not spc.special_causes([2, 2, 0], **SIGMA1)["two_of_three"].any()


def test_xmr_limits_by_hand():
    # x = 10, 12, 11, 13, 9: mean 55/5 = 11; mR = 2, 1, 2, 4, mR-bar = 9/4 = 2.25;
    # limits 11 -/+ 2.66 * 2.25 = 5.015 and 16.985
    c = spc.xmr([10, 12, 11, 13, 9], labels=list("abcde"))
    assert c["mean"].iloc[0] == pytest.approx(11)
    assert c["lower"].iloc[0] == pytest.approx(5.015)
    assert c["upper"].iloc[0] == pytest.approx(16.985)
    assert np.isnan(c["moving_range"].iloc[0]) and c["moving_range"].iloc[4] == 4
    assert not c["special"].any()
    assert spc.variation(c, "up") == "common cause"


def test_xmr_shift_is_special_cause_and_icon_depends_on_direction():
    # twelve points at 10 +/- 1 then a jump to 30: beyond the upper limit
    x = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 30]
    c = spc.xmr(x)
    assert flagged(c, "beyond_limits") == [12]
    assert spc.variation(c, "up") == "special cause improving"
    assert spc.variation(c, "down") == "special cause concerning"
    assert spc.variation(c, None) == "special cause (no direction)"


def test_p_chart_limits_by_hand():
    # events 10, 20, 30 of 100, 100, 200: p-bar = 60/400 = 0.15
    # n = 100: 3 sqrt(0.15 * 0.85 / 100) = 0.107121 -> 0.042879 .. 0.257121
    # n = 200: 3 sqrt(0.15 * 0.85 / 200) = 0.075746 -> 0.074254 .. 0.225746
    c = spc.p_chart([10, 20, 30], [100, 100, 200])
    assert c["mean"].iloc[0] == pytest.approx(0.15)
    assert c["lower"].tolist() == pytest.approx([0.042879, 0.042879, 0.074254], abs=1e-6)
    assert c["upper"].tolist() == pytest.approx([0.257121, 0.257121, 0.225746], abs=1e-6)
    # a small denominator: the lower limit is cut at 0
    assert spc.p_chart([0, 10], [5, 100])["lower"].iloc[0] == 0


def test_assurance_against_target():
    c = spc.xmr([10, 12, 11, 13, 9])  # limits 5.015 .. 16.985
    assert spc.assurance(c, 20, "down") == "consistently passes target"
    assert spc.assurance(c, 20, "up") == "consistently fails target"
    assert spc.assurance(c, 4, "up") == "consistently passes target"
    assert spc.assurance(c, 12, "up") == "hit and miss"
    assert spc.assurance(c, None, "up") is None
    with pytest.raises(InvalidParameterError, match="direction"):
        spc.assurance(c, 12, None)


# scipy.stats.binom.ppf([.001, .025, .975, .999], n, p), written out:
#   n = 50,  p = 0.2: 2, 5, 16, 19
#   n = 100, p = 0.3: 17, 21, 39, 45
#   n = 20,  p = 0.3: 1, 2, 10, 13
@pytest.mark.parametrize(
    ("n", "p", "q"),
    [(50, 0.2, (2, 5, 16, 19)), (100, 0.3, (17, 21, 39, 45)), (20, 0.3, (1, 2, 10, 13))],
)
def test_funnel_limits_are_exact_binomial_quantiles(n, p, q):
    lo95, hi95 = spc.funnel_limits(p, [n], 0.95)
    lo998, hi998 = spc.funnel_limits(p, [n], 0.998)
    assert [lo998[0], lo95[0], hi95[0], hi998[0]] == pytest.approx([k / n for k in q])


def test_funnel_positions():
    # overall 60/200 = 0.3; school a: 2/20 = 0.10 (99.8% lower 1/20 = 0.05, 95% lower 2/20:
    # on the limit, so within); b: 45/100 (99.8% upper 45/100: within, 95% upper 39/100:
    # above 95%); c: 13/80
    f = spc.funnel([2, 45, 13], [20, 100, 80], ["a", "b", "c"])
    assert f["overall"].iloc[0] == pytest.approx(0.3)
    assert f.set_index("label").loc[["a", "b"], "position"].tolist() == ["within", "above 95%"]


def test_refusals_name_the_parameter():
    with pytest.raises(InvalidParameterError, match="values"):
        spc.xmr([1, float("nan"), 3])
    with pytest.raises(InvalidParameterError, match="run_length"):
        spc.xmr([1, 2, 3], run_length=8)
    with pytest.raises(InvalidParameterError, match="run_length"):
        spc.xmr([1, 2, 3], run_length=True)
    with pytest.raises(InvalidParameterError, match="level"):
        spc.funnel_limits(0.2, [10], 1.0)
    with pytest.raises(InvalidParameterError, match="totals"):
        spc.p_chart([1, 2], [0, 5])
    with pytest.raises(InvalidParameterError, match="improvement"):
        spc.variation(spc.xmr([1, 2]), "higher")


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=40))
def test_mirrored_series_marks_the_same_points_on_the_other_side(xs):
    # negating every value negates the mean and swaps the limits exactly (IEEE negation is
    # exact), so every rule marks the same points and each side flips
    a, b = spc.xmr(xs), spc.xmr([-x for x in xs])
    for rule in spc.RULES:
        assert a[rule].tolist() == b[rule].tolist(), rule
    assert (a["side"] == -b["side"]).all()


@given(st.lists(st.one_of(st.just(float("nan")), st.just(float("inf"))), min_size=1, max_size=5))
def test_gaps_are_refused_not_skipped(bad):
    with pytest.raises(InvalidParameterError):
        spc.xmr([1.0, 2.0, *bad])
