"""Grouped waiting times in one pass (issue 21) against one statsmodels fit per group.

The reference below is the per-group computation ``waiting_times`` did before: statsmodels'
``SurvfuncRight`` for the curve and Greenwood errors, :func:`service.km_quantile` (checked
against R's ``quantile.survfit`` in test_service.py) on the estimate and on the pointwise
log(-log) band, and the log(-log) interval of S at the standard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight

from outcomes import _km, service

AS_OF = pd.Timestamp("2024-12-31")


def _reference_group(days: np.ndarray, event: np.ndarray, standard: float, z: float) -> dict:
    out = {
        f"{q}_{part}": np.nan
        for q in ("median", "q1", "q3", "p90")
        for part in ("days", "ci_low", "ci_high")
    }
    out |= {"within_standard": np.nan}
    out |= {"within_standard_ci_low": np.nan, "within_standard_ci_high": np.nan}
    if len(days) == 0:
        return out
    sf = SurvfuncRight(days, event.astype(float))
    t, s, se = sf.surv_times, sf.surv_prob, sf.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = se / s
        ok = np.where((s > 0) & (s < 1), s, np.nan)
        w = z * se_log / np.abs(np.log(ok))
        lo_band, hi_band = ok ** np.exp(w), ok ** np.exp(-w)
    last = float(days.max())
    for q, p in {"median": 0.5, "q1": 0.25, "q3": 0.75, "p90": 0.9}.items():
        if len(t):
            out[f"{q}_days"] = service.km_quantile(t, s, p, last)
            out[f"{q}_ci_low"] = service.km_quantile(t, lo_band, p, last)
            out[f"{q}_ci_high"] = service.km_quantile(t, hi_band, p, last)
    i = np.searchsorted(t, standard, side="right") - 1
    s_std = 1.0 if i < 0 else float(s[i])
    se_std = 0.0 if i < 0 else float(se[i])
    out["within_standard"] = 1.0 - s_std
    if 0 < s_std < 1 and np.isfinite(se_std) and se_std > 0:
        w = z * se_std / (s_std * abs(np.log(s_std)))
        out["within_standard_ci_low"] = 1.0 - s_std ** np.exp(-w)
        out["within_standard_ci_high"] = 1.0 - s_std ** np.exp(w)
    return out


def _referrals(waits: list[tuple[int, int, bool]]) -> pd.DataFrame:
    """(school, days waited, seen) -> a referrals table; unseen ones wait until AS_OF."""
    school = [w[0] for w in waits]
    ref = [AS_OF - pd.Timedelta(days=200 + 3 * (i % 7)) for i in range(len(waits))]
    first = [
        r + pd.Timedelta(days=d) if seen else pd.NaT
        for r, (_, d, seen) in zip(ref, waits, strict=True)
    ]
    return pd.DataFrame(
        {
            "referral_id": range(len(waits)),
            "person_id": range(len(waits)),
            "school_id": [f"s{k}" for k in school],
            "referral_date": ref,
            "first_contact_date": first,
        }
    )


def _check_against_reference(t: pd.DataFrame, standard: float = 28, confidence=0.95) -> None:
    res = service.waiting_times(
        t,
        as_of=AS_OF,
        stage="first",
        by="school_id",
        standard_days=standard,
        confidence=confidence,
    )
    tab, curve = res.to_frame(), res.curve()
    z = float(norm.ppf(0.5 + confidence / 2))
    days = (t["first_contact_date"].fillna(AS_OF) - t["referral_date"]).dt.days.to_numpy(float)
    event = t["first_contact_date"].notna().to_numpy()
    groups = sorted(t["school_id"].unique()) + [service.TOTAL]
    assert tab["school_id"].tolist() == groups
    for g in groups:
        sel = np.ones(len(t), bool) if g == service.TOTAL else (t["school_id"] == g).to_numpy()
        ref = _reference_group(days[sel], event[sel], standard, z)
        row = tab[tab["school_id"] == g].iloc[0]
        assert row["n"] == sel.sum() and row["n_seen"] == event[sel].sum()
        for k, v in ref.items():
            if k.startswith("within_standard_ci"):
                # numpy's array power and its scalar power can differ in the last bit
                np.testing.assert_allclose(row[k], v, rtol=1e-13, err_msg=f"{g} {k}")
            else:  # everything else is the same arithmetic: equal to the last bit
                assert row[k] == v or (np.isnan(row[k]) and np.isnan(v)), (g, k, row[k], v)
        sf = SurvfuncRight(days[sel], event[sel].astype(float))
        c = curve[curve["school_id"] == g]
        np.testing.assert_array_equal(c["days"], sf.surv_times)
        np.testing.assert_array_equal(c["at_risk"], sf.n_risk)
        np.testing.assert_array_equal(c["events"], sf.n_events)
        np.testing.assert_array_equal(c["surv"], sf.surv_prob)


waits = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 60), st.booleans()), min_size=1, max_size=80
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waits, st.sampled_from([7, 28, 30]), st.sampled_from([0.8, 0.95]))
def test_property_grouped_waits_equal_one_statsmodels_fit_per_group(w, standard, confidence):
    _check_against_reference(_referrals(w), standard, confidence)


def test_groups_with_ties_everyone_seen_and_nobody_seen():
    w = [(0, 10, True)] * 4 + [(1, 5, False)] * 3 + [(2, 3, True), (2, 3, True), (2, 9, False)]
    _check_against_reference(_referrals(w))


def test_segments_longer_than_the_vectorised_loop():
    # a group with more distinct event times than _km._LOOP_MAX takes the per-segment path
    rng = np.random.default_rng(3)
    w = [
        (int(k), int(d), bool(s))
        for k, d, s in zip(
            rng.integers(0, 3, 600), rng.integers(0, 150, 600), rng.random(600) < 0.8, strict=True
        )
    ]
    _check_against_reference(_referrals(w))


@given(
    st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=0, max_size=70), max_size=6)
)
def test_property_segmented_cumsum_is_numpy_cumsum_per_segment(segments):
    x = np.concatenate([np.asarray(s, float) for s in segments] or [np.zeros(0)])
    lengths = np.array([len(s) for s in segments], np.int64)
    starts = np.cumsum(lengths) - lengths
    got = _km.segmented_cumsum(x, starts, lengths)
    want = np.concatenate([np.cumsum(np.asarray(s, float)) for s in segments] or [np.zeros(0)])
    np.testing.assert_array_equal(got, want)


def test_by_hand_two_schools():
    # school a: waits 10, 20 (seen), 30 (waiting): S = 2/3 after 10, 1/3 after 20, median 20.
    # school b: waits 5, 5 (seen): S = 0 after 5, median 5.
    w = [(0, 10, True), (0, 20, True), (0, 30, False), (1, 5, True), (1, 5, True)]
    tab = service.waiting_times(
        _referrals(w), as_of=AS_OF, stage="first", by="school_id", standard_days=15
    ).to_frame()
    assert tab["median_days"].tolist() == [20.0, 5.0, 10.0]
    assert tab["within_standard"].tolist() == pytest.approx([1 / 3, 1.0, 0.6])


curves = st.lists(
    st.lists(
        st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5 + 1e-9, 0.6, 0.75, 0.9, 1.0, np.nan]),
        min_size=0,
        max_size=8,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(curves, st.integers(0, 5))
def test_property_grouped_quantiles_equal_km_quantile_per_curve(ys, extra):
    # arbitrary (not monotone, NaN, exactly on p) curves: the bands can be any of these
    lengths = np.array([len(y) for y in ys], np.int64)
    times = np.concatenate([np.arange(1.0, n + 1) * 3 for n in lengths] or [np.zeros(0)])
    surv = np.concatenate([np.asarray(y, float) for y in ys] or [np.zeros(0)])
    group = np.repeat(np.arange(len(ys)), lengths)
    last = np.array([3.0 * n + extra for n in lengths])
    km = _km.GroupedKM(
        group,
        times,
        np.zeros(len(times), np.int64),
        np.ones(len(times)),
        surv,
        surv,
        np.cumsum(lengths) - lengths,
        lengths,
        np.ones(len(ys), np.int64),
        last,
    )
    got = _km.quantiles(km, surv, {"a": 0.5, "b": 0.25, "c": 0.9})
    for i, y in enumerate(ys):
        t = np.arange(1.0, len(y) + 1) * 3
        for name, p in {"a": 0.5, "b": 0.25, "c": 0.9}.items():
            want = service.km_quantile(t, np.asarray(y, float), p, last[i]) if len(y) else np.nan
            assert got[name][i] == want or (np.isnan(got[name][i]) and np.isnan(want))


def test_two_by_columns_and_a_missing_label_group_as_the_other_tables():
    rng = np.random.default_rng(8)
    w = [
        (int(k), int(d), bool(s))
        for k, d, s in zip(
            rng.integers(0, 3, 60), rng.integers(0, 40, 60), rng.random(60) < 0.7, strict=True
        )
    ]
    t = _referrals(w)
    t["team"] = rng.choice(["north", "south"], len(t))
    t["accepted"] = "yes"
    t.loc[[0, 5, 9], "school_id"] = None
    by = ["school_id", "team"]
    waits = service.waiting_times(t, as_of=AS_OF, stage="first", by=by).to_frame()
    counts = service.referral_counts(t, by=by)  # grouped by the shared _per_group
    pd.testing.assert_frame_equal(waits[by].astype(str), counts[by].astype(str), check_dtype=False)
    assert waits["n"].tolist() == counts["received"].tolist()
    z = float(norm.ppf(0.975))
    days = (t["first_contact_date"].fillna(AS_OF) - t["referral_date"]).dt.days.to_numpy(float)
    event = t["first_contact_date"].notna().to_numpy()
    for i, (_, sub) in enumerate(t.groupby(by, dropna=False, sort=True)):
        ref = _reference_group(days[sub.index], event[sub.index], 28, z)
        assert waits["median_days"].iloc[i] == ref["median_days"] or np.isnan(ref["median_days"])
        assert waits["within_standard"].iloc[i] == ref["within_standard"]
