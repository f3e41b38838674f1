"""Growth of the verbs made linear in issue 21: the fitted exponent b of seconds ~ n**b.

Sizes 1e3..1e5 by default (1e6 too with OUTCOMES_BENCH_MAX=1000000; it takes minutes). Each
case reports seconds and peak traced memory per size, and b from a least-squares fit of
log(seconds) on log(n) over the sizes of at least 1e4 (below that fixed overheads dominate).
b near 1 is linear; the old dense disclosure check grew towards 3.
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

from outcomes import disclosure
from outcomes.change.outcome_metric import cyp_outcome_metric
from outcomes.change.pairing import pair_waves

MAX = int(os.environ.get("OUTCOMES_BENCH_MAX", 100_000))
SIZES = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= MAX]


def _table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = pd.DataFrame(
        {"school": [f"s{i}" for i in range(n)], "a": rng.poisson(6, n), "b": rng.poisson(20, n)}
    )
    t["Total"] = t[["a", "b"]].sum(axis=1)
    tot = t[["a", "b", "Total"]].sum().to_frame().T
    tot.insert(0, "school", "Total")
    return pd.concat([t, tot], ignore_index=True)


def _metric_inputs(n: int):
    rng = np.random.default_rng(0)
    first = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), "D")
    ids = np.array([f"r{i}" for i in range(n)], dtype=object)
    refs = pd.DataFrame(
        {
            "referral_id": ids,
            "age": rng.integers(5, 18, n),
            "first_contact_date": first,
            "second_contact_date": first + pd.Timedelta(days=14),
            "discharge_date": first + pd.Timedelta(days=200),
        }
    )
    dates = np.column_stack([first.values, (first + pd.Timedelta(days=150)).values]).ravel()
    scores = pd.DataFrame(
        {
            "referral_id": np.repeat(ids, 2),
            "person_id": np.repeat(ids, 2),
            "instrument": "swemwbs",
            "rater": "self",
            "date": dates,
            "metric": rng.normal(20, 4, 2 * n).round(2),
        }
    )
    return scores, refs


def _disclosure(n: int):
    # n table rows plus a total row and a total column: the worst case for the exact check
    t = _table(n)
    return lambda: disclosure.apply(t, column_totals={"Total": ["a", "b"]})


def _metric(n: int):
    # n referrals, 2n score records
    scores, refs = _metric_inputs(n)
    return lambda: cyp_outcome_metric(scores, refs)


def _pairing(n: int):
    # n administrations (n/2 people, two each)
    scores = _metric_inputs(n // 2)[0]
    return lambda: pair_waves(scores, scales=["metric"])


CASES = {
    "disclosure_total_row_and_column": _disclosure,
    "cyp_outcome_metric": _metric,
    "pair_waves": _pairing,
}


def _exponent(sizes: list[int], seconds: list[float]) -> float | None:
    pts = [(n, s) for n, s in zip(sizes, seconds, strict=True) if n >= 10_000]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def run() -> dict:
    warnings.simplefilter("ignore")
    out: dict = {"sizes": SIZES}
    for name, make in CASES.items():
        rows = [measure(make(n), repeat=3 if n <= 100_000 else 1) for n in SIZES]
        out[name] = {
            "seconds": [r["seconds"] for r in rows],
            "peak_mb": [r["peak_mb"] for r in rows],
            "growth_exponent": _exponent(SIZES, [r["seconds"] for r in rows]),
        }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
