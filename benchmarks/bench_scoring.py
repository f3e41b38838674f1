"""Scoring speed: 1,000,000 HoNOSCA and 1,000,000 SDQ administrations.

Reports seconds and peak traced memory of ``oc.score`` (validation included), and the ratio to
a plain numpy sum over the same item array in the same run: the lower bound for any scorer.
Targets (issue 2): each under 1.5 s on a 2-core machine and within 5x of the numpy bound.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import measure

import outcomes as oc

N = 1_000_000


def _frame(instrument: str, n: int, seed: int) -> pd.DataFrame:
    inst = oc.load_instrument(instrument)
    rng = np.random.default_rng(seed)
    cols = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        codes = np.array(list(rs.valid_codes) + list(rs.missing_codes))
        cols[it.id] = rng.choice(codes, size=n).astype(np.int64)
    return pd.DataFrame(cols)


def _case(instrument: str, seed: int) -> dict:
    df = _frame(instrument, N, seed)
    arr = df.to_numpy()
    bound = measure(lambda: arr.sum(axis=1), repeat=5)
    scored = measure(lambda: oc.score(df, instrument, errors="flag"))
    return {
        "rows": N,
        "items": df.shape[1],
        "score_seconds": scored["seconds"],
        "score_peak_mb": scored["peak_mb"],
        "numpy_sum_seconds": bound["seconds"],
        "ratio_to_numpy_sum": scored["seconds"] / bound["seconds"],
        "target_seconds": 1.5,
        "meets_target_seconds": scored["seconds"] < 1.5,
    }


def run() -> dict:
    oc.load_instrument("honosca")  # warm the instrument cache outside the timings
    return {"honosca": _case("honosca", 1), "sdq_parent": _case("sdq_parent", 2)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
