"""Service activity at scale: a 100,000-referral extract across 200 schools (checks, counts and
KM waiting times by school, monthly activity, the segmented trend) and disclosure control of
a 200-school table and a 30 x 10 two-way table with margins."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from _harness import measure

from outcomes import disclosure, service

N = 100_000
SCHOOLS = 200
AS_OF = pd.Timestamp("2025-08-31")
TARGETS = {
    "prepare_referrals_100k": 1.0,
    "referral_counts_by_200_schools": 3.0,
    "waiting_times_by_200_schools": 5.0,
    "monthly_activity_100k": 2.0,
    "inappropriate_trend_100k": 2.0,
    "disclosure_200_rows": 2.0,
    "disclosure_30x10_margins": 2.0,
}


def referrals(n: int = N, schools: int = SCHOOLS, seed: int = 0) -> pd.DataFrame:
    """A raw referral extract as a service exports it (also the growth cases' input)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-09-01")
    ref = start + pd.to_timedelta(rng.integers(0, (AS_OF - start).days, n), unit="D")
    accepted = rng.random(n) > 0.2
    wait1 = pd.to_timedelta(np.ceil(rng.gamma(3, 28 / 3, n)), unit="D")
    wait2 = pd.to_timedelta(rng.integers(7, 15, n), unit="D")
    first = (ref + wait1).where(accepted & (ref + wait1 <= AS_OF))
    second = (first + wait2).where(first.notna() & (first + wait2 <= AS_OF))
    return pd.DataFrame(
        {
            "referral_id": np.arange(n).astype(str),
            "person_id": rng.integers(0, max(1, int(n * 0.8)), n).astype(str),
            "school_id": rng.integers(0, schools, n).astype(str),
            "referral_date": ref.strftime("%Y-%m-%d"),  # text, as exported
            "accepted": np.where(accepted, "yes", "no"),
            "not_accepted_reason": np.where(
                accepted, None, rng.choice(["below threshold", "wrong service", "declined"], n)
            ),
            "first_contact_date": first,
            "second_contact_date": second,
        }
    )


def run() -> dict:
    r = referrals()
    out: dict = {"n": N, "schools": SCHOOLS, "targets_seconds": TARGETS}
    out["prepare_referrals_100k"] = measure(lambda: service.prepare_referrals(r, as_of=AS_OF))
    prepared = service.prepare_referrals(r, as_of=AS_OF)
    out["referral_counts_by_200_schools"] = measure(
        lambda: service.referral_counts(prepared, by="school_id")
    )
    out["waiting_times_by_200_schools"] = measure(
        lambda: service.waiting_times(prepared, as_of=AS_OF, by="school_id"), repeat=1
    )
    out["monthly_activity_100k"] = measure(lambda: service.monthly_activity(prepared, as_of=AS_OF))
    out["inappropriate_trend_100k"] = measure(
        lambda: service.inappropriate_trend(
            prepared, change_date="2024-09-01", inappropriate=["below threshold", "wrong service"]
        )
    )
    counts = service.referral_counts(prepared, by="school_id")
    rng = np.random.default_rng(1)
    counts["inappropriate"] = rng.integers(0, 12, len(counts))  # many small cells
    counts.loc[counts.index[-1], "inappropriate"] = counts["inappropriate"].iloc[:-1].sum()
    out["disclosure_200_rows"] = measure(lambda: service.publish(counts, "referral_counts"))
    v = np.where(
        rng.random((30, 10)) < 0.3, rng.integers(0, 9, (30, 10)), rng.integers(0, 90, (30, 10))
    )
    two_way = pd.DataFrame(v, columns=[f"c{j}" for j in range(10)])
    two_way["Total"] = two_way.sum(axis=1)
    two_way.loc["Total"] = two_way.sum()
    out["disclosure_30x10_margins"] = measure(lambda: disclosure.apply(two_way))
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
