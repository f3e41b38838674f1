"""Pseudonymising the tables of a build (issue 21, item 4): one ``Pseudonymiser`` for all tables.

Three tables share their children, as a report's referrals, questionnaires and surveys do: n
referrals, 2n questionnaire rows on the same children, and a survey of n pupils of whom half
are also referred. The contender pseudonymises the three tables with one ``Pseudonymiser``;
``pseudonymise`` called on each table (ids shared between tables hashed again) is measured beside
it; the floor is one stdlib ``hmac.new(key, id, sha256).hexdigest()`` per distinct id, the
work no pseudonymisation can avoid. Sizes ``OUTCOMES_BENCH_PRIVACY_SIZES`` (default
1e3,1e4,1e5,1e6); growth exponent fitted from 1e4 up (1 is linear).
"""

from __future__ import annotations

import hashlib
import hmac
import os

import numpy as np
import pandas as pd
from _harness import measure
from bench_growth import _exponent

from outcomes.privacy import Pseudonymiser, pseudonymise

KEY = "benchmark-key-not-a-secret-0123456789"


def _tables(n: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(21)
    ids = np.array([f"P{i:08d}" for i in range(n)], dtype=object)
    referrals = pd.DataFrame({"person_id": pd.array(ids, dtype="string"), "x": np.arange(n)})
    scores = pd.DataFrame({"person_id": pd.array(ids[rng.integers(0, n, 2 * n)], dtype="string")})
    pupils = np.concatenate([ids[: n // 2], [f"S{i:08d}" for i in range(n - n // 2)]])
    survey = pd.DataFrame({"person_id": pd.array(pupils, dtype="string")})
    return [referrals, scores, survey]


def run() -> dict:
    env = os.environ.get("OUTCOMES_BENCH_PRIVACY_SIZES", "1000,10000,100000,1000000")
    sizes = [int(float(s)) for s in env.split(",")]
    rows = []
    for n in sizes:
        tables = _tables(n)
        distinct = pd.unique(pd.concat([t["person_id"] for t in tables]).dropna())
        key = KEY.encode()

        def floor(distinct=distinct, key=key):
            return [hmac.new(key, t.encode(), hashlib.sha256).hexdigest() for t in distinct]

        def shared(tables=tables):
            p = Pseudonymiser(key=KEY)
            return [p(t, "person_id") for t in tables]

        def per_table(tables=tables):
            return [pseudonymise(t, "person_id", key=KEY) for t in tables]

        f, c, b = measure(floor), measure(shared), measure(per_table)
        rows.append(
            {
                "n": n,
                "rows": sum(len(t) for t in tables),
                "distinct_ids": len(distinct),
                "floor_seconds": f["seconds"],
                "contender_seconds": c["seconds"],
                "per_table_seconds": b["seconds"],
                "ratio_to_floor": c["seconds"] / f["seconds"],
                "per_table_ratio_to_floor": b["seconds"] / f["seconds"],
                "peak_mb": c["peak_mb"],
            }
        )
    return {
        "contender": "Pseudonymiser shared by three tables",
        "floor": "stdlib hmac.new(...).hexdigest() once per distinct id",
        "sizes": rows,
        "growth_exponent": _exponent(sizes, [r["contender_seconds"] for r in rows]),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
