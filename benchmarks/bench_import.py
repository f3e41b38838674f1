"""Import time of ``import outcomes``: median of 5 fresh interpreters.

The floor is ``import numpy, pandas`` measured the same way in the same run (the package cannot
be used without them). Also reported: the time to import the package *and* reach the everyday
verbs (``oc.score``, ``oc.pair_waves``, ``oc.paired_change``, ...), which load their modules
on first use. Target (issue 13): ``import outcomes`` under 0.5 s on a 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
REPEAT = 5
TARGET = 0.5
CASES = {
    "floor_numpy_pandas": "import numpy, pandas",
    "import_outcomes": "import outcomes",
    "import_and_core_verbs": (
        "import outcomes as oc; oc.score; oc.validate; oc.pair_waves; oc.paired_change; "
        "oc.reliable_change; oc.cyp_outcome_metric"
    ),
}


def _seconds(code: str) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - t0)
    return times


def run() -> dict:
    out: dict = {"repeat": REPEAT}
    for name, code in CASES.items():
        times = _seconds(code)
        out[name] = {"median_seconds": statistics.median(times), "seconds_all": times}
    floor = out["floor_numpy_pandas"]["median_seconds"]
    for name in ("import_outcomes", "import_and_core_verbs"):
        out[name]["ratio_to_floor"] = out[name]["median_seconds"] / floor
    out["target_seconds"] = TARGET
    out["meets_target_seconds"] = out["import_outcomes"]["median_seconds"] < TARGET
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
