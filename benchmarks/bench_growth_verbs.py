"""Growth of grouped waiting times, prevalence with clusters and the simulator (issue 21).

Sizes 1e3..1e5 rows by default, 1e6 with OUTCOMES_BENCH_MAX=1000000. Per case: seconds and
peak traced memory per size, the floor measured in the same run where there is a fair one,
the ratio to it, and the growth exponent b of seconds ~ n**b (fitted from 1e4 up, as
bench_growth.py; 1 is linear).

- ``waiting_times_by_school``: n referrals over n/50 schools (20,000 schools at 1M), both
  stages, with the Total row. Floor: one ``np.lexsort`` of the same rows by (school, days),
  the sort the one-pass Kaplan-Meier needs. ``per_group_fits_before`` times the method it
  replaced (one statsmodels ``SurvfuncRight`` per school and stage) up to 1e5 rows.
- ``prevalence_clustered``: n pupils over n/200 schools, by year group and gender, with the
  ANOVA ICC and design effect; floor: a ``np.bincount`` of cases per school.
- ``simulate_programme``: the number of schools set so that about n children are on roll
  (``truth_mc_size=0``: the Monte Carlo truth is a fixed cost); ``n`` reported is the
  children on roll actually simulated.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import measure
from bench_growth import _exponent

from outcomes import service, survey
from outcomes.synthetic import simulate_programme

MAX = int(os.environ.get("OUTCOMES_BENCH_MAX", 100_000))
SIZES = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= MAX]
AS_OF = pd.Timestamp("2025-08-31")
#: children on roll per simulated school (22 schools give about 8,000 children)
CHILDREN_PER_SCHOOL = 365


def _referrals(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2023-09-01")
    ref = start + pd.to_timedelta(rng.integers(0, (AS_OF - start).days, n), unit="D")
    wait = pd.to_timedelta(np.ceil(rng.gamma(3, 28 / 3, n)), unit="D")
    first = (ref + wait).where(ref + wait <= AS_OF)
    second = (first + pd.Timedelta(days=10)).where(first + pd.Timedelta(days=10) <= AS_OF)
    raw = pd.DataFrame(
        {
            "referral_id": np.arange(n),
            "person_id": np.arange(n),
            "school_id": rng.integers(0, max(1, n // 50), n),
            "referral_date": ref,
            "first_contact_date": first,
            "second_contact_date": second,
        }
    )
    return service.prepare_referrals(raw, as_of=AS_OF)


def _waits(n: int) -> dict:
    r = _referrals(n)
    days = (r["first_contact_date"].fillna(AS_OF) - r["referral_date"]).dt.days.to_numpy(float)
    school = r["school_id"].to_numpy()
    out = {
        "contender": lambda: service.waiting_times(r, as_of=AS_OF, by="school_id"),
        "floor": lambda: np.lexsort((days, school)),
    }
    if n <= 100_000:
        out["per_group_fits_before"] = lambda: _per_group_fits(r)
    return out


def _per_group_fits(r: pd.DataFrame) -> None:
    """The replaced method's core: one SurvfuncRight per school and stage (and the total)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    for col in ("first_contact_date", "second_contact_date"):
        event = r[col].notna().to_numpy()
        days = (r[col].fillna(AS_OF) - r["referral_date"]).dt.days.to_numpy(float)
        frame = pd.DataFrame({"d": days, "e": event.astype(float), "g": r["school_id"]})
        for _, sub in frame.groupby("g"):
            SurvfuncRight(sub["d"].to_numpy(), sub["e"].to_numpy())
        SurvfuncRight(days, event.astype(float))


def _prevalence(n: int) -> dict:
    rng = np.random.default_rng(0)
    school = rng.integers(0, max(2, n // 200), n)
    d = pd.DataFrame(
        {
            "case": rng.random(n) < 0.2,
            "school": school.astype(str),
            "year": rng.integers(7, 12, n),
            "gender": rng.choice(["F", "M", "X"], n),
        }
    )
    case = d["case"].to_numpy(float)
    return {
        "contender": lambda: survey.prevalence(d, "case", cluster="school", by=["year", "gender"]),
        "floor": lambda: np.bincount(school, weights=case),
    }


_CHILDREN: dict[int, int] = {}


def _simulate(n: int) -> dict:
    k = max(2, round(n / CHILDREN_PER_SCHOOL))

    def contender() -> None:
        _CHILDREN[n] = simulate_programme(
            seed=0, n_schools=k, truth_mc_size=0
        ).truth.children_on_roll

    return {"contender": contender}


CASES = {
    "waiting_times_by_school": _waits,
    "prevalence_clustered": _prevalence,
    "simulate_programme": _simulate,
}


def run() -> dict:
    warnings.simplefilter("ignore")
    out: dict = {"sizes": SIZES}
    for name, make in CASES.items():
        res: dict = {}
        for n in SIZES:
            fns = make(n)
            repeat = 3 if n <= 100_000 else 1
            for part, fn in fns.items():
                res.setdefault(part, []).append(measure(fn, repeat=repeat))
        entry: dict = {
            "seconds": [r["seconds"] for r in res["contender"]],
            "peak_mb": [r["peak_mb"] for r in res["contender"]],
            "growth_exponent": _exponent(SIZES, [r["seconds"] for r in res["contender"]]),
        }
        if "floor" in res:
            entry["floor_seconds"] = [r["seconds"] for r in res["floor"]]
            entry["ratio_to_floor"] = [
                c / f for c, f in zip(entry["seconds"], entry["floor_seconds"], strict=True)
            ]
        if "per_group_fits_before" in res:
            before = [r["seconds"] for r in res["per_group_fits_before"]]
            entry["per_group_fits_before_seconds"] = before
            entry["per_group_fits_before_exponent"] = _exponent(SIZES[: len(before)], before)
        if name == "simulate_programme":
            entry["children_on_roll"] = [_CHILDREN[n] for n in SIZES]
        out[name] = entry
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
