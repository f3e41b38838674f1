"""Benchmark: simulate the default programme (22 schools, about 8,000 children reached).

Target: under 30 s. ``truth_mc_size`` is left at its default, so the Monte Carlo ground truth
is included in the time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import measure

from outcomes.synthetic import simulate_programme


def run() -> dict:
    data = simulate_programme(seed=0)
    timing = measure(lambda: simulate_programme(seed=0), repeat=3)
    rows = {name: len(t) for name, t in data.tables().items()}
    return {
        "what": "simulate_programme(seed=0): default programme with Monte Carlo ground truth",
        "target_seconds": 30,
        "children_on_roll": data.truth.children_on_roll,
        "rows": rows,
        "total_rows": sum(rows.values()),
        **timing,
        "within_target": timing["seconds"] < 30,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
