"""Growth of pairing, the NHS metric, paired change and reliable change (issue 21, item 5).

For each size n (1e3..1e5 by default; 1e6 too with OUTCOMES_BENCH_MAX=1000000) each verb is
timed with a floor measured in the same run on the same input, and the fitted growth exponent
b of seconds ~ n**b (from 1e4 upwards; 1 is linear) is reported for the verb and its floor.

Floors (what any implementation must at least do):

* ``cyp_outcome_metric`` (n referrals, 2n score records) and ``pair_waves`` (n administrations):
  factorise the id column once and sort the records by (id code, date) - the integer sort
  that pairing needs, without any accounting;
* ``paired_change`` and ``reliable_change`` (n pairs): the numpy mean and standard deviation of
  post - pre.

The peak resident memory of ``cyp_outcome_metric`` at the largest size is measured in a fresh
process (inputs included), as the issue's target (1M referrals: under 15 s and 2 GB) is stated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import measure
from bench_growth import _exponent, _metric_inputs  # the same data and fit as bench_growth

from outcomes.change import paired_change
from outcomes.change.outcome_metric import cyp_outcome_metric
from outcomes.change.pairing import pair_waves
from outcomes.change.reliable import reliable_change

MAX = int(os.environ.get("OUTCOMES_BENCH_MAX", 100_000))
SIZES = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= MAX]


def _sort_floor(scores: pd.DataFrame, id_col: str):
    def floor():
        codes = pd.factorize(scores[id_col])[0]
        return np.lexsort((scores["date"].to_numpy(), codes))

    return floor


def _metric(n: int):
    scores, refs = _metric_inputs(n)
    return lambda: cyp_outcome_metric(scores, refs), _sort_floor(scores, "referral_id")


def _pairing(n: int):
    scores = _metric_inputs(n // 2)[0]  # n administrations: n/2 people, two each
    return lambda: pair_waves(scores, scales=["metric"]), _sort_floor(scores, "person_id")


def _pre_post(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    pre = rng.integers(0, 11, n).astype(float)  # SDQ-like subscale scores 0-10
    return pre, np.clip(pre + rng.normal(-1.0, 2.0, n).round(), 0, 10)


def _moments_floor(pre: np.ndarray, post: np.ndarray):
    def floor():
        d = post - pre
        return d.mean(), d.std(ddof=1)

    return floor


def _paired_change(n: int):
    pre, post = _pre_post(n)
    return lambda: paired_change(pre, post), _moments_floor(pre, post)


def _reliable_change(n: int):
    pre, post = _pre_post(n)
    verb = lambda: reliable_change(pre, post, instrument="sdq_parent", scale="emotional")  # noqa: E731
    return verb, _moments_floor(pre, post)


CASES = {
    "cyp_outcome_metric": _metric,
    "pair_waves": _pairing,
    "paired_change": _paired_change,
    "reliable_change": _reliable_change,
}


# VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss over into a child through exec.
_CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[2])
from bench_metric import _metric_inputs
from outcomes.change.outcome_metric import cyp_outcome_metric

def hwm_mb():
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

n = int(sys.argv[1])
scores, refs = _metric_inputs(n)
before = hwm_mb()
t0 = time.perf_counter()
cyp_outcome_metric(scores, refs)
print(json.dumps({"referrals": n, "seconds": time.perf_counter() - t0,
                  "inputs_peak_rss_mb": before, "peak_rss_mb": hwm_mb()}))
"""


def _metric_rss(n: int) -> dict:
    """Peak resident memory of the metric on n referrals, in a fresh process."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    here = str(Path(__file__).parent)
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), here], capture_output=True, text=True, env=env
    )
    if p.returncode != 0:
        return {"referrals": n, "error": p.stderr.strip().splitlines()[-1:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def run() -> dict:
    warnings.simplefilter("ignore")
    out: dict = {"sizes": SIZES}
    # first, while this process is still small
    rss = _metric_rss(SIZES[-1])
    for name, make in CASES.items():
        rows, floors = [], []
        for n in SIZES:
            verb, floor = make(n)
            repeat = 3 if n <= 100_000 else 2
            rows.append(measure(verb, repeat=repeat))
            floors.append(measure(floor, repeat=repeat))
        secs = [r["seconds"] for r in rows]
        fsecs = [f["seconds"] for f in floors]
        out[name] = {
            "seconds": secs,
            "peak_mb": [r["peak_mb"] for r in rows],
            "floor_seconds": fsecs,
            "ratio_to_floor": [s / f for s, f in zip(secs, fsecs, strict=True)],
            "growth_exponent": _exponent(SIZES, secs),
            "floor_growth_exponent": _exponent(SIZES, fsecs),
        }
    out["cyp_outcome_metric"]["fresh_process_at_largest_size"] = rss
    return out


if __name__ == "__main__":
    from _harness import save

    result = run()
    print(json.dumps(result, indent=2))
    print(save("bench_metric", result))
