"""Coverage of the cost-per-outcome bootstrap interval (not part of the test suite).

Simulates programmes whose true improvement share p is known, so the true cost per improved
child is C / (N p); counts how often the percentile and BCa intervals cover it.

    .venv/bin/python benchmarks/coverage_economics.py [replications]

Result (400 replications, p = 0.35, 1,000 resamples; benchmarks/results/coverage_economics.json):
n = 60 children: percentile 95.75%, BCa 95.75%; n = 200: percentile 95.5%, BCa 95.5%
(Monte Carlo SE about 1.1 points).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from outcomes.economics import cost_per_outcome

RESULTS = Path(__file__).parent / "results"


def coverage(n: int, p: float, reps: int, method: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    total, supported = 100000.0, 300
    truth = total / (supported * p)
    hits, widths = 0, []
    for r in range(reps):
        x = rng.random(n) < p
        if not x.any():
            continue
        res = cost_per_outcome(total, x, supported=supported, method=method,
                               n_resamples=1000, seed=r)  # fmt: skip
        hits += res.ci_low <= truth <= res.ci_high
        widths.append(res.ci_high - res.ci_low)
    return {"n": n, "p": p, "method": method, "replications": reps,
            "coverage": hits / reps, "median_width": float(np.median(widths))}  # fmt: skip


def main(reps: int = 400) -> list[dict]:
    out = [coverage(n, 0.35, reps, m) for n in (60, 200) for m in ("percentile", "BCa")]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coverage_economics.json").write_text(json.dumps(out, indent=2))
    for row in out:
        print(row)
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
