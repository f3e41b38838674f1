"""MHSDS extract -> NHS CYP outcomes metric: time and peak memory by engine and size.

Each (engine, size) runs in a fresh Python process, so the peak resident memory (ru_maxrss)
includes DuckDB's and the JVM driver's native memory (the JVM executors of local Spark are in
that process too). Sizes are referrals; the synthetic extract has about 8 score records per
referral (``scores_per_referral=10`` asks for ~10).

Default (``make bench``): small sizes only. Large sizes (1e5 and 1e6 referrals, i.e. up to
~1e7 score records; target on this 2-core machine: DuckDB under 60 s and under 4 GB) run
only when asked: ``python benchmarks/bench_mhsds.py --large`` or ``OUTCOMES_BENCH_LARGE=1``.
pandas runs up to 1e6 when large; Spark up to 1e5 unless ``--spark-large``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SMALL = (1_000, 10_000)
LARGE = (100_000, 1_000_000)

_CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import outcomes as oc
from outcomes.synthetic.mhsds import simulate_mhsds
engine, n = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
tables = simulate_mhsds(n, seed=1, scores_per_referral=10)
n_scores = len(tables["MHS606CodedScoreAssessmentRefer"]) + len(tables["MHS607CodedScoreAssessmentAct"])
t1 = time.perf_counter()
ex = oc.mhsds.read(tables)
del tables
t2 = time.perf_counter()
res = oc.cyp_outcome_metric(ex, period_start="2025-04-01", period_end="2026-03-31",
                            convention="nhs", by=["england", "provider", "icb", "imd_decile"],
                            engine=engine)
t3 = time.perf_counter()
print(json.dumps({"engine": engine, "referrals": n, "score_records": n_scores,
                  "generate_s": t1 - t0, "read_s": t2 - t1, "metric_s": t3 - t2,
                  "read_and_metric_s": t3 - t1,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def one(engine: str, n: int, timeout: float = 1800) -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    try:
        p = subprocess.run(
            [sys.executable, "-c", _CHILD, engine, str(n)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"engine": engine, "referrals": n, "error": f"did not finish in {timeout} s"}
    if p.returncode != 0:
        return {"engine": engine, "referrals": n, "error": p.stderr.strip().splitlines()[-1:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def run(large: bool | None = None, spark_large: bool = False) -> dict:
    if large is None:
        large = os.environ.get("OUTCOMES_BENCH_LARGE", "") not in ("", "0")
    sizes = SMALL + (LARGE if large else ())
    rows = []
    for n in sizes:
        rows.append(one("duckdb", n))
        rows.append(one("pandas", n))
        if n <= 100_000 or spark_large:
            rows.append(one("spark", n))
    return {"rows": rows, "large": large}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from _harness import save

    result = run(large="--large" in sys.argv or None, spark_large="--spark-large" in sys.argv)
    for r in result["rows"]:
        print(json.dumps(r))
    print(save("bench_mhsds", result))
