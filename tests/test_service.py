"""Service activity and access: referral checks, counts, inappropriate-referral rates, waiting
times (Kaplan-Meier with censoring), children seen, monthly activity.

Expected numbers are worked out by hand in the comments, or come from published examples
(Newcombe 1998 for the difference of two proportions; specs/statistics.md for the z-test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outcomes as oc
from outcomes import service

AS_OF = "2024-03-01"


def referrals(rows: list[dict]) -> pd.DataFrame:
    """A referrals table; referral_id and person_id default to the row number."""
    out = pd.DataFrame(rows)
    if "referral_id" not in out:
        out.insert(0, "referral_id", [f"R{i}" for i in range(len(out))])
    if "person_id" not in out:
        out.insert(1, "person_id", [f"P{i}" for i in range(len(out))])
    return out


# ============================================================================ waiting times
def km_table() -> pd.DataFrame:
    """Six accepted referrals with waits to first contact (days):
    3, 5 (seen); 7 (still waiting at the extract date, 1 March 2024: referred 23 Feb);
    10 (seen); 14 (discharged unseen on day 14: censored there); 20 (seen).
    Second contacts: R0 on day 14; R1 discharged on day 19 after one contact (censored at 19);
    R3 on day 24; R5 still open (censored at the extract date, day 60).
    Plus one not-accepted referral, which waiting times leave out."""
    j = "2024-01-01"
    return referrals(
        [
            dict(referral_date=j, accepted="yes", first_contact_date="2024-01-04",
                 second_contact_date="2024-01-15"),
            dict(referral_date=j, accepted="yes", first_contact_date="2024-01-06",
                 discharge_date="2024-01-20"),
            dict(referral_date="2024-02-23", accepted="yes"),
            dict(referral_date=j, accepted="yes", first_contact_date="2024-01-11",
                 second_contact_date="2024-01-25"),
            dict(referral_date=j, accepted="yes", discharge_date="2024-01-15"),
            dict(referral_date=j, accepted="yes", first_contact_date="2024-01-21"),
            dict(referral_date=j, accepted="no", first_contact_date="2024-01-02",
                 not_accepted_reason="wrong service"),
        ]
    )  # fmt: skip


def test_km_waits_to_first_contact_by_hand():
    # Kaplan-Meier by hand (event times only):
    #   t=3:  6 at risk, 1 seen -> S = 5/6
    #   t=5:  5 at risk, 1 seen -> S = 5/6 * 4/5 = 4/6
    #   (7 censored: still waiting)
    #   t=10: 3 at risk, 1 seen -> S = 4/6 * 2/3 = 0.4444
    #   (14 censored: discharged unseen)
    #   t=20: 1 at risk, 1 seen -> S = 0
    # median: first t with S <= 0.5 -> 10; q1 (S <= 0.75) -> 5; q3 (S <= 0.25) -> 20; p90 -> 20.
    # Within 7 days: 1 - S(7) = 1 - 4/6 = 0.3333. Greenwood at 7:
    #   se = S * sqrt(1/(6*5) + 1/(5*4)) = (2/3) * sqrt(1/12) = 0.19245
    # log-log interval for S: w = 1.95996 * 0.19245 / (S * |ln S|) = 1.39542;
    #   S^exp(w) = (2/3)^4.0368 = 0.19462, S^exp(-w) = (2/3)^0.24772 = 0.90443
    #   -> within 7 days: 0.0956 to 0.8054.
    res = service.waiting_times(km_table(), as_of=AS_OF, stage="first", standard_days=7)
    row = res.to_frame().iloc[0]
    assert row["stage"] == "first"
    assert (row["n"], row["n_seen"], row["n_waiting"], row["n_closed_unseen"]) == (6, 4, 1, 1)
    assert row["median_days"] == 10 and row["q1_days"] == 5
    assert row["q3_days"] == 20 and row["p90_days"] == 20
    assert row["within_standard"] == pytest.approx(1 / 3, abs=1e-12)
    assert row["within_standard_ci_low"] == pytest.approx(0.09557, abs=1e-4)
    assert row["within_standard_ci_high"] == pytest.approx(0.80538, abs=1e-4)
    assert row["median_ci_low"] <= 10 <= row["median_ci_high"] or np.isnan(row["median_ci_high"])
    assert res.to_frame().attrs["n_not_accepted_excluded"] == 1
    curve = res.curve()
    assert curve["days"].tolist() == [3, 5, 10, 20]
    assert curve["at_risk"].tolist() == [6, 5, 3, 1]
    assert curve["surv"].to_numpy() == pytest.approx([5 / 6, 4 / 6, 4 / 9, 0.0], abs=1e-12)


def test_km_waits_to_second_contact_by_hand():
    # Second contact: times 7c (R2, waiting), 14 (R0, seen), 14c (R4, discharged unseen),
    # 19c (R1, discharged after one contact), 24 (R3, seen), 60c (R5, open at the extract).
    #   t=14: at risk 5 (all with time >= 14; censoring at 14 stays in the risk set), 1 seen
    #         -> S = 4/5
    #   t=24: at risk 2, 1 seen -> S = 0.4
    # median and q1 -> 24 (S first <= 0.75 and <= 0.5 at 24); p90 not reached;
    # within 28 days = 1 - 0.4 = 0.6.
    res = service.waiting_times(km_table(), as_of=AS_OF, stage="second")
    row = res.to_frame().iloc[0]
    assert (row["n"], row["n_seen"], row["n_waiting"], row["n_closed_unseen"]) == (6, 2, 2, 2)
    assert row["median_days"] == 24 and row["q1_days"] == 24
    assert np.isnan(row["p90_days"]) and np.isnan(row["q3_days"])
    assert row["within_standard"] == pytest.approx(0.6, abs=1e-12)
    assert row["standard_days"] == 28


def test_censored_referrals_are_never_dropped():
    # Dropping the waiting / closed referrals would give 4 complete waits 3, 5, 10, 20 and a
    # median of 7.5; with them censored the median is 10 and n counts all six.
    res = service.waiting_times(km_table(), as_of=AS_OF, stage="first").to_frame()
    assert res.loc[0, "n"] == 6 and res.loc[0, "median_days"] == 10


def test_discharged_exclude_option_and_not_accepted_included_on_request():
    # Without R4 (discharged unseen): 3, 5, 7c, 10, 20 -> S: 4/5, 3/5, (7c), 3/5*2/3 = 0.4 at 10.
    res = service.waiting_times(km_table(), as_of=AS_OF, stage="first", discharged="exclude")
    row = res.to_frame().iloc[0]
    assert row["n"] == 5 and row["median_days"] == 10
    assert row["within_standard"] == pytest.approx(1.0)  # everyone seen by day 20 <= 28
    res = service.waiting_times(km_table(), as_of=AS_OF, stage="first", exclude_not_accepted=False)
    assert res.to_frame().loc[0, "n"] == 7


def test_waits_by_school_with_total_row_and_summary_and_plot():
    t = km_table()
    t["school_id"] = ["A", "A", "B", "B", "B", "A", "A"]
    res = service.waiting_times(t, as_of=AS_OF, by="school_id")
    f = res.to_frame()
    assert f["school_id"].tolist() == ["A", "B", "Total", "A", "B", "Total"]
    assert f["stage"].tolist() == ["first"] * 3 + ["second"] * 3
    # school A first contact: 3, 5, 20 all seen -> median 5
    assert f.loc[0, "median_days"] == 5 and f.loc[0, "n"] == 3
    total = f[(f["school_id"] == "Total") & (f["stage"] == "first")].iloc[0]
    assert total["median_days"] == 10
    text = res.summary()
    assert "Of 6 referrals (1 still waiting" in text and "within 10 days" in text
    ax = res.plot()
    assert ax.get_xlabel() == "days since referral"
    assert set(res.curve()["school_id"]) == {"A", "B", "Total"}


waits = st.lists(st.integers(0, 120), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(days=waits)
def test_property_uncensored_km_quantiles_are_sample_quantiles(days):
    # With no censoring the KM curve is 1 - ECDF, and the quantile rule (midpoint where the
    # curve sits exactly on 1 - p) is the "averaged inverted CDF" sample quantile (R type 2).
    start = pd.Timestamp("2023-01-01")
    t = referrals(
        [{"referral_date": start, "first_contact_date": start + pd.Timedelta(days=d)} for d in days]
    )
    row = service.waiting_times(t, as_of="2023-12-31", stage="first").to_frame().iloc[0]
    for col, p in (("median_days", 0.5), ("q1_days", 0.25), ("q3_days", 0.75)):
        expected = np.quantile(days, p, method="averaged_inverted_cdf")
        assert row[col] == pytest.approx(expected, abs=1e-9), (col, p)
    assert row["within_standard"] == pytest.approx(np.mean(np.array(days) <= 28), abs=1e-12)


def test_km_quantile_rule():
    times = np.array([5.0, 10, 20, 30])
    surv = np.array([0.75, 0.5, 0.25, 0.0])
    assert service.km_quantile(times, surv, 0.5) == 15  # flat at exactly 0.5 -> midpoint
    assert service.km_quantile(times, surv, 0.6) == 20
    assert np.isnan(service.km_quantile(times, np.array([0.9, 0.8, 0.7, 0.6]), 0.5))


def test_waits_need_as_of_and_valid_options():
    with pytest.raises(TypeError):
        service.waiting_times(km_table())
    with pytest.raises(oc.OutcomesError, match="stage"):
        service.waiting_times(km_table(), as_of=AS_OF, stage="third")
    with pytest.raises(oc.OutcomesError, match="discharged"):
        service.waiting_times(km_table(), as_of=AS_OF, discharged="drop")
    with pytest.raises(oc.OutcomesError, match="as_of"):
        service.waiting_times(km_table(), as_of="not a date")
    with pytest.raises(oc.DataStructureError, match="second_contact_date"):
        service.waiting_times(km_table().drop(columns="second_contact_date"), as_of=AS_OF)


# ============================================================================ counts and rates
def counts_table() -> pd.DataFrame:
    """School A: accepted, accepted, not accepted (below threshold), no decision yet.
    School B: accepted, not accepted (wrong service), not accepted (below threshold),
    not accepted (no reason given), accepted, accepted."""
    a = dict(school_id="A")
    b = dict(school_id="B")
    return referrals(
        [
            a | dict(referral_date="2024-01-10", accepted="Yes"),
            a | dict(referral_date="2024-01-20", accepted=True),
            a | dict(referral_date="2024-02-05", accepted="N", not_accepted_reason="Below threshold"),
            a | dict(referral_date="2024-04-02", accepted=None),
            b | dict(referral_date="2024-01-15", accepted=1),
            b | dict(referral_date="2024-02-10", accepted=0, not_accepted_reason="wrong service"),
            b | dict(referral_date="2024-03-03", accepted="no", not_accepted_reason="below threshold"),
            b | dict(referral_date="2024-03-20", accepted="no"),
            b | dict(referral_date="2024-04-11", accepted="yes"),
            b | dict(referral_date="2024-04-30", accepted="yes"),
        ]
    )  # fmt: skip


def test_referral_counts_by_hand():
    # Total: received 10, accepted 5, not accepted 4, pending 1 -> decided 9.
    # Inappropriate (every not-accepted referral): 4/9. Wilson 95% by hand:
    #   centre = (p + z^2/2n) / (1 + z^2/n) = 0.46107, half-width = 0.27229 -> 0.18878 to 0.73335
    out = service.referral_counts(counts_table(), by="school_id")
    assert out["school_id"].tolist() == ["A", "B", "Total"]
    tot = out.iloc[2]
    assert (tot["received"], tot["accepted"], tot["not_accepted"], tot["pending"]) == (10, 5, 4, 1)
    assert tot["inappropriate"] == 4
    assert tot["inappropriate_rate"] == pytest.approx(4 / 9)
    assert tot["acceptance_rate"] == pytest.approx(5 / 9)
    assert tot["inappropriate_ci_low"] == pytest.approx(0.18878, abs=1e-5)
    assert tot["inappropriate_ci_high"] == pytest.approx(0.73335, abs=1e-5)
    a = out.iloc[0]
    assert (a["received"], a["accepted"], a["not_accepted"], a["pending"]) == (4, 2, 1, 1)
    assert a["inappropriate_rate"] == pytest.approx(1 / 3)


def test_inappropriate_reasons_are_configurable():
    # Only "wrong service" and "below threshold" count (case and spaces ignored); the
    # not-accepted referral with no reason does not: 3 of 9.
    out = service.referral_counts(
        counts_table(), inappropriate=["Wrong service", " below THRESHOLD "]
    )
    assert out.loc[0, "inappropriate"] == 3
    assert out.loc[0, "inappropriate_rate"] == pytest.approx(3 / 9)
    with pytest.warns(UserWarning, match="do not occur"):
        service.referral_counts(counts_table(), inappropriate=["wrong servise"])


def test_not_accepted_reasons_table():
    out = service.not_accepted_reasons(counts_table(), inappropriate=["below threshold"])
    assert out["reason"].tolist() == ["Below threshold", "(not recorded)", "wrong service"] or (
        out["reason"].str.casefold().tolist()[0] == "below threshold"
    )
    # "Below threshold" and "below threshold" are written differently in the extract; the table
    # reports what was recorded, so group case-insensitively only for the inappropriate flag.
    n = dict(zip(out["reason"], out["n"], strict=True))
    assert sum(n.values()) == 4
    assert n["(not recorded)"] == 1 and n["wrong service"] == 1
    assert out["share_of_received"].sum() == pytest.approx(4 / 10)
    assert out["share_of_not_accepted"].sum() == pytest.approx(1.0)
    flagged = out.loc[out["inappropriate"], "reason"].str.casefold().unique().tolist()
    assert flagged == ["below threshold"]


def test_monthly_and_quarterly_rates_by_hand():
    # Decided referrals by month: Jan 3 (A, A, B: none inappropriate), Feb 2 (both not
    # accepted), Mar 2 (both not accepted), Apr 2 decided (+1 pending) -> 0 inappropriate.
    m = service.inappropriate_rate(counts_table())
    assert m["period"].tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert m["decided"].tolist() == [3, 2, 2, 2]
    assert m["inappropriate"].tolist() == [0, 2, 2, 0]
    assert m["rate"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert m.loc[0, "ci_low"] == 0.0 and m.loc[1, "ci_high"] == 1.0
    q = service.inappropriate_rate(counts_table(), period="Q")
    assert q["period"].tolist() == ["2024Q1", "2024Q2"]
    assert q["decided"].tolist() == [7, 2] and q["inappropriate"].tolist() == [4, 0]
    fq = service.inappropriate_rate(counts_table(), period="FQ")
    # NHS financial year 2023/24 Q4 = Jan-Mar 2024; 2024/25 Q1 = Apr-Jun 2024
    assert fq["period"].tolist() == ["2023/24 Q4", "2024/25 Q1"]
    assert fq["period_start"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01")]
    by = service.inappropriate_rate(counts_table(), by="school_id")
    assert len(by) == 8 and by.groupby("school_id")["decided"].sum().tolist() == [3, 6]
    with pytest.raises(oc.OutcomesError, match="period"):
        service.inappropriate_rate(counts_table(), period="W")


def month_table(kn: list[tuple[int, int]], start="2023-01-01") -> pd.DataFrame:
    """k inappropriate (not accepted) of n decided referrals in each consecutive month."""
    months = pd.date_range(start, periods=len(kn), freq="MS")
    dates, acc = [], []
    for (k, n), m in zip(kn, months, strict=True):
        dates += [m + pd.Timedelta(days=int(d % 27)) for d in range(n)]
        acc += [False] * k + [True] * (n - k)
    return referrals([{"referral_date": d, "accepted": a} for d, a in zip(dates, acc, strict=True)])


def test_compare_before_after_published_example():
    # specs/statistics.md: 56/70 vs 48/80 -> z = 2.6502, p = 0.008045 (pooled z-test).
    # Newcombe (1998, Stat Med 17:873), example (a), method 10: 56/70 - 48/80 has 95% CI
    # 0.0524 to 0.3339; here the difference is after - before, so the signs flip.
    t = month_table([(56, 70), (48, 80)])
    res = service.compare_inappropriate(t, change_date="2023-02-01")
    row = res.to_frame().iloc[0]
    assert (row["n_before"], row["inappropriate_before"]) == (70, 56)
    assert (row["n_after"], row["inappropriate_after"]) == (80, 48)
    assert row["difference"] == pytest.approx(-0.2)
    assert row["z"] == pytest.approx(-2.6502, abs=1e-4)
    assert row["p"] == pytest.approx(0.008045, abs=1e-6)
    assert row["difference_ci_low"] == pytest.approx(-0.3339, abs=1e-4)
    assert row["difference_ci_high"] == pytest.approx(-0.0524, abs=1e-4)
    text = res.summary()
    assert "80.0%" in text and "60.0%" in text and "-20.0 percentage points" in text
    assert "1 February 2023" in text and "p = 0.008" in text


def test_compare_by_group_and_empty_side():
    t = month_table([(2, 5), (1, 5)])
    t["school_id"] = ["A"] * 5 + ["B"] * 5
    out = service.compare_inappropriate(t, change_date="2023-02-01", by="school_id").to_frame()
    assert out["school_id"].tolist() == ["A", "B", "Total"]
    assert out.loc[0, "n_after"] == 0 and np.isnan(out.loc[0, "difference"])
    assert out.loc[2, "difference"] == pytest.approx(0.2 - 0.4)


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_trend_recovers_exact_log_odds_line():
    # odds k/(n-k) = 0.5, 1, 2, 4, 8: log-odds exactly ln 0.5 + t ln 2, so the binomial GLM fits
    # perfectly: intercept odds 0.5, odds ratio per month 2.
    res = service.inappropriate_trend(month_table([(1, 3), (2, 4), (2, 3), (4, 5), (8, 9)]))
    co = res.to_frame().set_index("term")
    assert list(co.index) == ["intercept", "time"]
    assert co.loc["intercept", "ratio"] == pytest.approx(0.5, rel=1e-6)
    assert co.loc["time", "ratio"] == pytest.approx(2.0, rel=1e-6)
    assert res.dispersion == 1.0
    assert res.series["fitted"].to_numpy() == pytest.approx([1 / 3, 1 / 2, 2 / 3, 4 / 5, 8 / 9])
    assert "+100.0% per month" in res.summary()


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_segmented_trend_recovers_level_and_slope_change():
    # Before (t = 0..3): odds 0.5, 1, 2, 4 (doubling). From t = 4 on: odds 1, 1, 1.
    # Without the change, t = 4 would have odds 0.5 * 2^4 = 8: level ratio 1/8.
    # After the change the odds stay flat: slope ratio 2 * s = 1 -> slope_change ratio 0.5.
    kn = [(1, 3), (2, 4), (2, 3), (4, 5), (1, 2), (2, 4), (3, 6)]
    res = service.inappropriate_trend(month_table(kn), change_date="2023-05-01")
    co = res.to_frame().set_index("term")
    assert co.loc["time", "ratio"] == pytest.approx(2.0, rel=1e-5)
    assert co.loc["level_change", "ratio"] == pytest.approx(1 / 8, rel=1e-5)
    assert co.loc["slope_change", "ratio"] == pytest.approx(0.5, rel=1e-5)
    cf = res.series["counterfactual"].to_numpy()
    assert np.isnan(cf[:4]).all()
    assert cf[4] == pytest.approx(8 / 9, rel=1e-6)  # odds 8 -> probability 8/9
    assert "1 May 2023" in res.summary()
    ax = res.plot()
    assert ax.get_ylabel().startswith("inappropriate")


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_poisson_trend_rate_ratio():
    # rates 1, 1/2, 1/4, 1/8, 1/16 per decided referral: rate ratio 0.5 per month.
    res = service.inappropriate_trend(
        month_table([(1, 1), (1, 2), (1, 4), (1, 8), (1, 16)]), family="poisson"
    )
    co = res.to_frame().set_index("term")
    assert co.loc["time", "ratio"] == pytest.approx(0.5, rel=1e-6)
    assert co.loc["intercept", "ratio"] == pytest.approx(1.0, rel=1e-6)
    assert res.ratio_name == "rate ratio"


def test_trend_matches_statsmodels_with_pearson_dispersion():
    # Noisy months: our wrapper must equal a direct statsmodels GLM with scale = X2/df.
    import statsmodels.api as sm

    kn = [(6, 20), (9, 21), (3, 19), (8, 22), (2, 18), (7, 20), (1, 20), (5, 23), (2, 19)]
    res = service.inappropriate_trend(month_table(kn), change_date="2023-05-01")
    k = np.array([a for a, _ in kn], float)
    n = np.array([b for _, b in kn], float)
    t = np.arange(9.0)
    x = np.column_stack([np.ones(9), t, t >= 4, np.maximum(t - 4, 0)])
    model = sm.GLM(np.column_stack([k, n - k]), x, family=sm.families.Binomial())
    phi = model.fit().pearson_chi2 / 5
    assert phi > 1  # overdispersed on purpose
    ref = model.fit(scale=phi)
    co = res.to_frame()
    assert co["estimate"].to_numpy() == pytest.approx(ref.params, rel=1e-8)
    assert co["se"].to_numpy() == pytest.approx(ref.bse, rel=1e-8)
    assert res.dispersion == pytest.approx(phi)
    fixed = service.inappropriate_trend(
        month_table(kn), change_date="2023-05-01", dispersion="fixed"
    )
    assert fixed.to_frame()["se"].to_numpy() == pytest.approx(model.fit().bse, rel=1e-8)


def test_trend_needs_enough_periods():
    with pytest.raises(oc.OutcomesError, match="on each side"):
        service.inappropriate_trend(month_table([(1, 3)] * 6), change_date="2023-06-01")
    with pytest.raises(oc.OutcomesError, match="more than 2 periods"):
        service.inappropriate_trend(month_table([(1, 3), (1, 4)]))
    with pytest.raises(oc.OutcomesError, match="same status"):
        service.inappropriate_trend(month_table([(0, 3), (0, 4), (0, 5), (0, 2)]))
    with pytest.raises(oc.OutcomesError, match="family"):
        service.inappropriate_trend(month_table([(1, 3)] * 5), family="normal")


# ============================================================================ children seen, activity
def test_children_seen_by_hand():
    # a: one contact at school A and one at school B (two referrals): seen >= 1 in both,
    #    never twice within one referral. b: first and second contact dates at A -> 2 contacts.
    # c: no contact (B). d: 3 contacts (B).
    t = referrals(
        [
            dict(person_id="a", school_id="A", referral_date="2024-01-01", n_contacts=1),
            dict(person_id="b", school_id="A", referral_date="2024-01-01",
                 first_contact_date="2024-01-05", second_contact_date="2024-01-12"),
            dict(person_id="a", school_id="B", referral_date="2024-02-01", n_contacts=1),
            dict(person_id="c", school_id="B", referral_date="2024-02-01", n_contacts=0),
            dict(person_id="d", school_id="B", referral_date="2024-02-01", n_contacts=3),
        ]
    )  # fmt: skip
    out = service.children_seen(t, by="school_id").set_index("school_id")
    cols = ["referrals", "children_referred", "children_seen_1plus", "children_seen_2plus"]
    assert out.loc["A", cols].tolist() == [2, 2, 2, 1]
    assert out.loc["B", cols].tolist() == [3, 3, 2, 1]
    # child a counts once in the Total, so Total (4 referred) < A + B (5)
    assert out.loc["Total", cols].tolist() == [5, 4, 3, 2]


def test_monthly_activity_by_hand():
    # r1: referred 5 Jan, seen 20 Jan, second 10 Feb, discharged 1 Mar.
    # r2: referred 25 Jan, discharged unseen 20 Feb.  r3: 1 Feb, not accepted.
    # r4: 15 Feb, waiting.  r5: 2 Mar, no decision yet, first contact 10 Mar.
    # waiting at the end of Jan: r2 (r1 seen) = 1; Feb: r4 (r2 closed, r3 not accepted) = 1;
    # Mar: r4 = 1.
    t = referrals(
        [
            dict(referral_date="2024-01-05", accepted="yes", first_contact_date="2024-01-20",
                 second_contact_date="2024-02-10", discharge_date="2024-03-01"),
            dict(referral_date="2024-01-25", accepted="yes", discharge_date="2024-02-20"),
            dict(referral_date="2024-02-01", accepted="no", not_accepted_reason="x"),
            dict(referral_date="2024-02-15", accepted="yes"),
            dict(referral_date="2024-03-02", first_contact_date="2024-03-10"),
        ]
    )  # fmt: skip
    a = service.monthly_activity(t, as_of="2024-03-15")
    assert a["period"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert a["received"].tolist() == [2, 2, 1]
    assert a["accepted"].tolist() == [2, 1, 0]
    assert a["not_accepted"].tolist() == [0, 1, 0]
    assert a["inappropriate"].tolist() == [0, 1, 0]
    assert a["first_contacts"].tolist() == [1, 0, 1]
    assert a["second_contacts"].tolist() == [0, 1, 0]
    assert a["discharges"].tolist() == [0, 1, 1]
    assert a["children_first_seen"].tolist() == [1, 0, 1]
    assert a["waiting_at_end"].tolist() == [1, 1, 1]
    # as_of later than the data extends the series with empty months
    longer = service.monthly_activity(t, as_of="2024-05-02")
    assert longer["period"].tolist()[-1] == "2024-05" and longer["received"].tolist()[-1] == 0


def test_monthly_activity_without_optional_columns():
    t = referrals([dict(referral_date="2024-01-05"), dict(referral_date="2024-02-05")])
    a = service.monthly_activity(t)
    assert a["received"].tolist() == [1, 1] and a["waiting_at_end"].tolist() == [1, 2]


# ============================================================================ bad input
def test_dates_iso_and_uk_day_first():
    t = referrals([dict(referral_date="04/03/2024"), dict(referral_date="05/03/2024")])
    out = service.prepare_referrals(t)
    assert out["referral_date"].tolist() == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]
    t = referrals([dict(referral_date="2024-03-04"), dict(referral_date="2024-03-05")])
    out = service.prepare_referrals(t)
    assert out["referral_date"].tolist() == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]
    # one column mixing the two formats: the odd one out is a bad cell (it may be month-first)
    t = referrals([dict(referral_date="04/03/2024"), dict(referral_date="2024-03-05")] * 2)
    issues = service.prepare_referrals(t, errors="flag").attrs["issues"]
    assert issues["value"].tolist() == ["04/03/2024", "04/03/2024"]
    assert issues["reason"].str.contains("one date format per column").all()
    t = referrals([dict(referral_date="03-04-2024")])
    assert service.prepare_referrals(t, date_format="%m-%d-%Y")["referral_date"].iloc[0] == (
        pd.Timestamp("2024-03-04")
    )


BAD_CASES = [
    (dict(referral_date="2024-02-01", first_contact_date="2024-01-20"), "contact before referral"),
    (
        dict(referral_date="2024-01-01", first_contact_date="2024-01-20",
             discharge_date="2024-01-10"),
        "discharge before first contact",
    ),
    (dict(referral_date="31/02/2024"), "not a date"),
    (dict(referral_date="2024-01-01", first_contact_date="soon"), "not a date"),
    (dict(referral_date="2024-01-01", second_contact_date="2024-01-20"), "without a first contact"),
    (
        dict(referral_date="2024-01-01", first_contact_date="2024-01-20",
             second_contact_date="2024-01-10"),
        "second contact before the first",
    ),
    (dict(referral_date="2024-01-01", discharge_date="2023-12-01"), "discharge before referral"),
    (dict(referral_date="2024-05-01"), "after the extract date"),
    (dict(referral_date="2024-01-01", accepted="maybe"), "accepted must be"),
    (dict(referral_date="2024-01-01", n_contacts=-1), "whole number"),
    (dict(referral_date="2024-01-01", n_contacts="two"), "whole number"),
    (
        dict(referral_date="2024-01-01", n_contacts=1, first_contact_date="2024-01-02",
             second_contact_date="2024-01-03"),
        "smaller than the contact dates",
    ),
    (dict(referral_date=None), "referral_date is missing"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "reason"), BAD_CASES)
def test_bad_rows_raise_naming_the_row_or_are_flagged_and_counted(bad, reason):
    good = dict(referral_date="2024-01-01", first_contact_date="2024-01-10", accepted="yes")
    t = referrals([good, good, bad | {"accepted": bad.get("accepted", "yes")}, good])
    t.index = ["a", "b", "bad_row", "d"]
    with pytest.raises(oc.InvalidResponsesError, match=reason) as e:
        service.prepare_referrals(t, as_of=AS_OF)
    assert "row 'bad_row'" in str(e.value)
    assert set(e.value.issues["row"]) == {"bad_row"}
    out = service.prepare_referrals(t, as_of=AS_OF, errors="flag")
    assert list(out.index) == ["a", "b", "d"]
    assert out.attrs["n_excluded"] == 1 and out.attrs["n_input"] == 4
    # every analysis reports the exclusions and its counts reconcile with the input
    counts = service.referral_counts(t, as_of=AS_OF, errors="flag")
    assert counts.loc[0, "received"] + counts.attrs["n_excluded"] == len(t)


def test_duplicate_referral_ids_flag_every_copy():
    t = referrals([dict(referral_date="2024-01-01")] * 3)
    t["referral_id"] = ["R1", "R2", "R1"]
    with pytest.raises(oc.InvalidResponsesError, match="duplicate referral_id") as e:
        service.referral_counts(t.assign(accepted="yes"))
    assert sorted(e.value.issues["row"]) == [0, 2]
    out = service.children_seen(t.assign(n_contacts=1), errors="flag")
    assert out.loc[0, "referrals"] == 1 and out.attrs["n_excluded"] == 2


def test_all_rows_bad_is_an_error_even_when_flagging():
    t = referrals([dict(referral_date="soon"), dict(referral_date="later")])
    with pytest.raises(oc.InvalidResponsesError, match="every referral row has a problem"):
        service.referral_counts(t.assign(accepted="yes"), errors="flag")


def test_reason_on_accepted_referral_is_only_a_warning():
    t = referrals([dict(referral_date="2024-01-01", accepted="yes", not_accepted_reason="odd")])
    out = service.prepare_referrals(t)
    assert len(out) == 1
    assert out.attrs["issues"]["severity"].tolist() == ["warning"]


def test_structure_errors():
    with pytest.raises(oc.DataStructureError, match="person_id"):
        service.prepare_referrals(
            pd.DataFrame({"referral_id": [1], "referral_date": ["2024-01-01"]})
        )
    with pytest.raises(oc.DataStructureError, match="empty"):
        service.prepare_referrals(
            pd.DataFrame(columns=["referral_id", "person_id", "referral_date"])
        )
    t = counts_table()
    with pytest.raises(oc.DataStructureError, match="by="):
        service.referral_counts(t, by="region")
    with pytest.raises(oc.DataStructureError, match="accepted"):
        service.referral_counts(t.drop(columns="accepted"))
    with pytest.raises(ValueError, match="errors"):
        service.prepare_referrals(t, errors="ignore")
    with pytest.raises(oc.InvalidParameterError, match="parameter 'referrals'.*DataFrame"):
        service.prepare_referrals([1, 2])


def test_missing_group_labels_form_their_own_group():
    t = counts_table()
    t.loc[0, "school_id"] = None
    out = service.referral_counts(t, by="school_id")
    assert out["received"].iloc[:-1].sum() == out["received"].iloc[-1] == 10


# ============================================================================ publication
def test_publish_every_kind_of_table():
    t = km_table()
    t["school_id"] = ["A", "A", "B", "B", "B", "A", "A"]
    pub = service.publish(service.referral_counts(t, by="school_id"), "referral_counts")
    assert (pub["received"] == "*").all()  # 4, 3 and 7 referrals: all small
    assert (pub["inappropriate_rate"] == "*").all()
    assert not any(c.endswith("_ci_low") for c in pub.columns)
    waits = service.waiting_times(t, as_of=AS_OF, by="school_id").to_frame()
    pub = service.publish(waits, "waits")
    assert (pub["median_days"] == "*").all() and pub["standard_days"].eq(28).all()

    # a bigger table: 40 referrals a month for 3 months, 9 not accepted in month 1
    big = month_table([(9, 40), (2, 40), (12, 40)])
    big["first_contact_date"] = big["referral_date"] + pd.Timedelta(days=10)
    counts = service.publish(service.referral_counts(big), "referral_counts")
    # received 120; decided 120; inappropriate 23 -> 25; rate from rounded counts 25/120
    assert counts.loc[0, "received"] == 120 and counts.loc[0, "inappropriate"] == 25
    assert counts.loc[0, "inappropriate_rate"] == pytest.approx(round(25 / 120, 3))
    rates = service.publish(service.inappropriate_rate(big), "rates")
    assert rates["inappropriate"].tolist() == [10, "*", 10]
    assert rates["rate"].tolist() == [0.25, "*", 0.25]
    act = service.publish(service.monthly_activity(big, as_of="2023-04-30"), "activity")
    assert act["received"].tolist() == [40, 40, 40, 0]
    reasons = service.publish(
        service.not_accepted_reasons(
            big.assign(not_accepted_reason=np.where(big["accepted"], None, "below threshold"))
        ),
        "not_accepted_reasons",
    )
    assert reasons["n"].tolist() == [25]
    with pytest.raises(oc.OutcomesError, match="without by="):
        service.publish(service.not_accepted_reasons(t, by="school_id"), "not_accepted_reasons")
    seen = service.publish(service.children_seen(big.assign(n_contacts=1)), "children_seen")
    assert seen.loc[0, "children_seen_2plus"] == 0
    with pytest.raises(oc.OutcomesError, match="parameter 'kind'"):
        service.publish(counts, "nope")


def test_waits_run_without_warnings():
    t = km_table()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        service.waiting_times(t, as_of=AS_OF, by="accepted")


# ============================================================================ synthetic programme
def test_synthetic_programme_recovers_the_simulated_truth():
    # The simulator draws waits to first contact as ceil(Gamma(shape 3, mean 28 days)); with the
    # mean constant at 4 weeks the true share seen within 28 days is the gamma CDF at 28
    # (0.5768, reported in truth.service) and the true median of the whole-day waits is
    # ceil(24.96) = 25. Referrals still waiting at the extract are censored.
    from outcomes import synthetic
    from outcomes.synthetic.service import INAPPROPRIATE_REASONS

    d = synthetic.simulate_programme(
        seed=11, n_schools=8, referral_rate=0.2, wait_weeks_start=4, wait_weeks_end=4,
        truth_mc_size=0,
    )  # fmt: skip
    r = d.referrals
    # errors="flag": the simulator can record a second contact on the extract date while
    # n_contacts counts one (reported); such rows are excluded and counted, not mis-used.
    w = service.waiting_times(r, as_of=d.truth.extract_date, stage="first", errors="flag")
    row = w.to_frame().iloc[0]
    truth = d.truth.service["share_seen_within_4_weeks_start"]
    assert row["within_standard_ci_low"] <= truth <= row["within_standard_ci_high"]
    assert row["median_ci_low"] <= 25 <= row["median_ci_high"]
    assert row["n_waiting"] > 0  # censoring is exercised
    counts = service.referral_counts(r, inappropriate=list(INAPPROPRIATE_REASONS), errors="flag")
    kept = r.drop(index=counts.attrs["issues"]["row"].unique())
    assert counts.loc[0, "inappropriate"] == kept["inappropriate"].sum()
    # the simulated rate falls over the year (0.22 -> 0.10): the fitted trend says so too
    tr = service.inappropriate_trend(r, inappropriate=list(INAPPROPRIATE_REASONS), errors="flag")
    assert tr.to_frame().set_index("term").loc["time", "ratio_ci_high"] < 1
