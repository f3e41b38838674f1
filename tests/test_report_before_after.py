"""The median wait before and after the programme: the difference's bootstrap CI
(``service.compare_median_wait``) against hand-enumerated bootstrap distributions, hand
Kaplan-Meier medians and the large-sample width of a median's standard error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes import service
from outcomes.errors import InvalidParameterError
from outcomes.report.release import MARKER, NOT_APPLICABLE
from outcomes.report.sections.before_after import _wait_difference

CHANGE, AS_OF = "2024-04-01", "2024-12-31"


def referrals(before: list, after: list) -> pd.DataFrame:
    """Referrals on 2 Jan (before) and 2 May (after); a wait in days, or None (still waiting)."""
    rows = []
    for day, waits in (("2024-01-02", before), ("2024-05-02", after)):
        for w in waits:
            seen = None if w is None else pd.Timestamp(day) + pd.Timedelta(days=w)
            rows.append({"referral_date": day, "first_contact_date": seen})
    out = pd.DataFrame(rows)
    out.insert(0, "person_id", [f"p{k}" for k in range(len(out))])
    out.insert(0, "referral_id", range(len(out)))
    return out


def compare(before, after, **kw) -> pd.Series:
    r = referrals(before, after)
    kw = {"change_date": CHANGE, "as_of": AS_OF, **kw}
    return service.compare_median_wait(r, **kw).to_frame().iloc[0]


def test_the_interval_is_the_percentiles_of_the_enumerated_bootstrap():
    # Before: 4 children all seen at 10 days, so every resample's median is 10.
    # After: 2 children seen at 10 and 30 days. A resample of 2 is (10, 10) with probability
    # 1/4 (median 10), (30, 30) with 1/4 (median 30) or one of each with 1/2, where F = 1/2
    # exactly at 10 and R's rule takes the midpoint of 10 and 30: 20. The differences are
    # 0, 10, 20 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5% points are 0 and 20.
    r = compare([10] * 4, [10, 30])
    assert (r["median_before"], r["median_after"], r["difference"]) == (10.0, 20.0, 10.0)
    assert (r["ci_low"], r["ci_high"]) == (0.0, 20.0)
    assert (r["n_before"], r["n_after"], r["n_boot"], r["n_boot_undefined"]) == (4, 2, 2000, 0)
    # an 80% interval cuts at 10% and 90%: still both ends (each end has 25% of the mass)
    r80 = compare([10] * 4, [10, 30], confidence=0.8)
    assert (r80["ci_low"], r80["ci_high"]) == (0.0, 20.0)
    # a 40% interval cuts at 30% and 70%: both inside the 50% at 10
    r40 = compare([10] * 4, [10, 30], confidence=0.4)
    assert (r40["ci_low"], r40["ci_high"]) == (10.0, 10.0)


def test_medians_are_kaplan_meier_with_censoring_by_hand():
    # Before (referred by 20 March): seen at 5, 12, 20 and 25 days, and one referred 8 days
    # before the extract (28 March) still waiting: censored at 8 days.
    # S(5) = 4/5 = 0.8; censored at 8; S(12) = 0.8 x 2/3 = 0.533; S(20) = 0.533 x 1/2 = 0.267:
    # F first reaches 1/2 at 20 days. After (from 25 March): seen in 1, 1 and 2 days: 1.
    day = pd.Timestamp("2024-01-02")
    rows = [(day, day + pd.Timedelta(days=w)) for w in (5, 12, 20, 25)]
    rows += [(pd.Timestamp("2024-03-20"), None)]
    rows += [(pd.Timestamp("2024-03-25"), pd.Timestamp(s)) for s in ("2024-03-26",) * 2]
    rows += [(pd.Timestamp("2024-03-25"), pd.Timestamp("2024-03-27"))]
    r = pd.DataFrame(rows, columns=["referral_date", "first_contact_date"])
    r.insert(0, "person_id", [f"p{k}" for k in range(len(r))])
    r.insert(0, "referral_id", range(len(r)))
    kw = {"as_of": "2024-03-28"}
    row = service.compare_median_wait(r, change_date="2024-03-25", **kw).to_frame().iloc[0]
    assert (row["n_before"], row["median_before"]) == (5, 20.0)
    assert (row["n_after"], row["median_after"], row["difference"]) == (3, 1.0, -19.0)
    # the same median as waiting_times (checked against R's survfit in test_service.py)
    same = service.waiting_times(r.iloc[:5], stage="first", **kw)
    assert same.to_frame().loc[0, "median_days"] == 20.0


def test_a_large_sample_interval_has_the_width_of_the_median_standard_error():
    # Exponential waits with mean 60 days, 400 children each side, none censored. The sample
    # median's large-sample variance is 1 / (4 n f(m)^2) with f(m) = (1/60) x 1/2 at the
    # median m = 60 ln 2: 1 / (4 x 400 / 120^2) = 9, so each median has SE 3 and the
    # difference SE 3 sqrt(2) = 4.24; a 95% interval is about 2 x 1.96 x 4.24 = 16.6 days wide.
    g = np.random.default_rng(7)
    before = np.ceil(g.exponential(60, 400)).tolist()
    after = np.ceil(g.exponential(60, 400)).tolist()
    r = compare(before, after, as_of="2026-12-31")
    width = r["ci_high"] - r["ci_low"]
    assert 12 <= width <= 22, width
    assert r["ci_low"] <= r["difference"] <= r["ci_high"]


def test_the_seed_makes_the_interval_reproducible():
    g = np.random.default_rng(3)
    before, after = g.integers(1, 90, 60).tolist(), g.integers(1, 60, 60).tolist()
    a, b = compare(before, after, seed=11), compare(before, after, seed=11)
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])


def test_a_median_not_reached_makes_an_infinite_limit_and_neither_no_difference():
    # After: 3 of 5 still waiting at the extract: the median is not reached, so there is no
    # difference and no interval.
    r = compare([10] * 5, [10, 10, None, None, None])
    assert np.isnan(r["median_after"]) and np.isnan(r["difference"])
    assert np.isnan(r["ci_low"]) and np.isnan(r["ci_high"])
    # After: 2 of 5 waiting: median reached (10), but resamples with 3 or more waiting
    # (probability 1 - P(Bin(5, 0.4) <= 2) = 0.317) do not reach it: the upper limit is inf.
    r = compare([10] * 5, [10, 10, 10, None, None])
    assert r["difference"] == 0.0 and r["ci_low"] == 0.0 and r["ci_high"] == np.inf


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"n_boot": True}, "n_boot"),
        ({"n_boot": 50}, "n_boot"),
        ({"n_boot": 2000.5}, "n_boot"),
        ({"seed": -1}, "seed"),
        ({"seed": None}, "seed"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": float("inf")}, "confidence"),
        ({"stage": "third"}, "stage"),
    ],
)
def test_nonsense_parameters_are_refused_by_name(kw, name):
    with pytest.raises(InvalidParameterError, match=name):
        compare([10] * 4, [10, 30], **kw)


def test_the_report_rounds_the_interval_outward_and_hides_it_with_the_medians():
    pub = pd.DataFrame(
        {"median_days": [20.0, 10.0], "within_standard": [MARKER, MARKER]},
        dtype=object,
        index=["before", "after"],
    )
    med = _wait_difference(pub, pub, (-11.5, -3.2)).iloc[0]
    assert (med["difference"], med["ci_low"], med["ci_high"]) == (-10.0, -12.0, -3.0)
    med = _wait_difference(pub, pub, (-11.5, np.inf)).iloc[0]
    assert (med["ci_low"], med["ci_high"]) == (-12.0, NOT_APPLICABLE)
    pub.loc["after", "median_days"] = MARKER
    med = _wait_difference(pub, pub, (-11.5, -3.2)).iloc[0]
    assert (med["difference"], med["ci_low"], med["ci_high"]) == (MARKER, MARKER, MARKER)


def test_the_bootstrap_medians_follow_the_km_quantile_rule_on_every_resample():
    # _km_medians works on all resamples at once; each must equal km_quantile (R's
    # quantile.survfit rule, checked against R in test_service.py) on that resample's curve,
    # built here one resample at a time. Few distinct days: ties and F exactly 1/2 are common.
    from outcomes.service import _km_medians, km_quantile

    g = np.random.default_rng(1)
    checked = 0
    for _ in range(100):
        n = int(g.integers(1, 30))
        cells = (
            pd.DataFrame({"days": g.integers(0, 15, n).astype(float), "event": g.random(n) < 0.7})
            .value_counts()
            .reset_index(name="count")
        )
        w = g.multinomial(n, cells["count"].to_numpy() / n, size=20)
        fast = _km_medians(cells, w)
        times = np.unique(cells["days"])
        pos = np.searchsorted(times, cells["days"])
        ev = cells["event"].to_numpy(bool)
        for b in range(len(w)):
            d, c = np.zeros(len(times)), np.zeros(len(times))
            np.add.at(d, pos[ev], w[b, ev])
            np.add.at(c, pos, w[b])
            at_risk = np.cumsum(c[::-1])[::-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                surv = np.cumprod(1 - np.where(at_risk > 0, d / at_risk, 0.0))
            last = times[np.flatnonzero(c > 0)[-1]]
            ref = km_quantile(times, surv, 0.5, last_time=last)
            assert (np.isnan(ref) and np.isnan(fast[b])) or ref == fast[b], (ref, fast[b])
            checked += 1
    assert checked == 2000
