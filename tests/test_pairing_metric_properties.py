"""Property tests: the integer-coded pairing and NHS metric (issue 21) agree with a plain
per-series reference written here as loops over dictionaries, on any small messy data set.

The references restate the rules of docs (pair_waves: first/last by date, duplicates void a
series; the metric: first score on/after the first contact, last score later than the first
and on/after the second contact, nothing after discharge, |change| >= threshold is reliable).
They share no code with the library.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outcomes.change.outcome_metric import S_PERSON_MISMATCH, cyp_outcome_metric
from outcomes.change.pairing import pair_waves

DAY0 = pd.Timestamp("2024-01-01")
# GBO goals: reliable change threshold 3 points, higher is better (Edbrooke-Childs et al.
# 2015, the threshold the NHS CYP outcomes metric uses; tests/test_outcome_metric.py)
GBO_THRESHOLD = 3.0

RECORD = st.tuples(
    st.integers(0, 5),  # person / referral number
    st.sampled_from(["self", "parent"]),
    st.integers(0, 12),  # day x 15
    st.one_of(st.none(), st.integers(0, 6)),  # goal_1 score (None: missing; near the threshold)
    st.one_of(st.none(), st.integers(0, 6)),  # goal_2
)


def _scores(records, ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ids: [f"p{r[0]}" for r in records],
            "instrument": "gbo",
            "rater": [r[1] for r in records],
            "date": [DAY0 + pd.Timedelta(days=15 * r[2]) for r in records],
            "goal_1": [np.nan if r[3] is None else float(r[3]) for r in records],
            "goal_2": [np.nan if r[4] is None else float(r[4]) for r in records],
        }
    )


def _ref_pairs(sc: pd.DataFrame) -> set:
    """first/last pairs: (person, rater, scale, pre, post) per series without duplicate dates."""
    series = defaultdict(list)
    for row in sc.itertuples():
        for scale in ("goal_1", "goal_2"):
            v = getattr(row, scale)
            if not np.isnan(v):
                series[(row.person_id, row.rater, scale)].append((row.date, v))
    out = set()
    people_raters = defaultdict(set)
    for p, r, s in series:
        people_raters[(p, s)].add(r)
    for (p, r, s), recs in series.items():
        dates = [d for d, _ in recs]
        if len(set(dates)) < len(dates) or len(recs) < 2:
            continue
        recs.sort()
        out.add((p, r, s, recs[0][1], recs[-1][1]))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RECORD, min_size=1, max_size=40))
def test_pair_waves_matches_reference(records):
    sc = _scores(records, "person_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pair_waves(sc, scales=["goal_1", "goal_2"])
    got = {
        (r.person_id, r.rater, r.scale, r.pre, r.post) for r in res.pairs.itertuples(index=False)
    }
    assert got == _ref_pairs(sc)
    assert len(got) == len(res.pairs)
    # every record x scale accounted for, in input order (scales of a record together)
    assert res.records["row"].tolist() == [i for i in sc.index for _ in (0, 1)]
    # pairs sorted by person, instrument, rater, scale
    keys = res.pairs[["person_id", "instrument", "rater", "scale"]].values.tolist()
    assert keys == sorted(keys)


def _referrals(n: int, discharge_day: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "referral_id": [f"p{i}" for i in range(n)],
            "age": [10 + 2 * i for i in range(n)],  # 10..22: from p4 on outside 0-17
            "first_contact_date": DAY0 + pd.Timedelta(days=15),
            "second_contact_date": DAY0 + pd.Timedelta(days=45),
            "discharge_date": DAY0 + pd.Timedelta(days=discharge_day),
        }
    )


def _ref_outcomes(sc: pd.DataFrame, refs: pd.DataFrame) -> dict:
    """(referral, rater) -> outcome for in-scope referrals with a first score."""
    info = {r.referral_id: r for r in refs.itertuples()}
    series = defaultdict(list)
    for row in sc.itertuples():
        ref = info.get(row.referral_id)
        if ref is None or not ref.age <= 17:
            continue
        if row.date < ref.first_contact_date or row.date > ref.discharge_date:
            continue
        for scale in ("goal_1", "goal_2"):
            v = getattr(row, scale)
            if not np.isnan(v):
                series[(row.referral_id, row.rater, scale)].append((row.date, v))
    per = defaultdict(list)  # (referral, rater) -> [(paired, change)]
    for (rid, rater, _), recs in series.items():
        dates = [d for d, _ in recs]
        if len(set(dates)) < len(dates):
            continue  # duplicate dates: the series is not used at all
        recs.sort()
        first = recs[0]
        c2 = info[rid].second_contact_date
        later = [x for x in recs[1:] if x[0] >= c2]
        change = later[-1][1] - first[1] if later else None
        per[(rid, rater)].append(change)
        per[(rid, "any")].append(change)
    out = {}
    for key, changes in per.items():
        paired = [c for c in changes if c is not None]
        if not paired:
            out[key] = None
        elif any(c <= -GBO_THRESHOLD for c in paired):
            out[key] = "deterioration"
        elif any(c >= GBO_THRESHOLD for c in paired):
            out[key] = "improvement"
        else:
            out[key] = "no_change"
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(RECORD, min_size=1, max_size=40),
    st.integers(1, 7),
    st.integers(60, 200),
)
# changes of exactly 2 (no change) and 3 (reliable) points, a day after discharge (day 150)
@example(
    [(0, "self", 1, 1, 1), (0, "self", 4, 3, 0), (0, "parent", 1, 1, 5), (0, "parent", 4, 4, 2)]
    + [(1, "self", 1, 0, 0), (1, "self", 10, 6, 6)],
    2,
    150,
)
def test_outcome_metric_matches_reference(records, n_refs, discharge_day):
    sc = _scores(records, "referral_id")
    refs = _referrals(n_refs, discharge_day)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cyp_outcome_metric(sc, refs)
    got = {(r.referral_id, r.rater): r.outcome for r in res.by_referral.itertuples(index=False)}
    assert got == _ref_outcomes(sc, refs)
    keys = res.by_referral[["referral_id", "rater"]].values.tolist()
    assert keys == sorted(keys)
    # every score record x measure accounted for once
    assert len(res.scores) == 2 * len(sc)
    t = res.to_frame().set_index("rater")
    n_any = sum(v is not None for (_, r), v in got.items() if r == "any")
    assert t.loc["any", "n_paired"] == n_any


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(RECORD, st.booleans()), min_size=1, max_size=40),
    st.integers(1, 7),
    st.integers(60, 200),
)
def test_a_score_of_another_child_counts_for_no_referral(tagged, n_refs, discharge_day):
    # referral p<i> is child c<i>'s; a record marked True names the referral of another child
    sc = _scores([r for r, _ in tagged], "referral_id")
    sc["person_id"] = [f"c{r[0] + other}" for r, other in tagged]
    refs = _referrals(n_refs, discharge_day)
    refs["person_id"] = refs["referral_id"].str.replace("p", "c")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cyp_outcome_metric(sc, refs)
    got = {(r.referral_id, r.rater): r.outcome for r in res.by_referral.itertuples(index=False)}
    theirs = np.array([other for _, other in tagged])
    assert got == _ref_outcomes(sc[~theirs], refs)
    known = sc["referral_id"].isin(refs["referral_id"]).to_numpy()
    differs = res.scores.loc[res.scores["reason"] == S_PERSON_MISMATCH, "row"]
    assert set(differs) == set(sc.index[theirs & known])
