"""MHSDS extract -> NHS CYP outcomes metric: time, CPU time and peak memory by engine and size,
and the growth exponent b of seconds ~ (score records)**b.

Each size is generated once (``simulate_mhsds`` written as Parquet by ``write_extract``, timed)
into a temporary folder; each (engine, size) then runs in a fresh Python process reading that
folder, so the peak resident memory (ru_maxrss) is the whole process: DuckDB's native memory,
and for Spark the driver (local Spark's executors run in the same JVM). ``duckdb`` and
``spark`` read the folder inside DuckDB (``read(folder, engine="duckdb")``; Spark then reads
the checked tables as Parquet written by DuckDB); ``pandas`` reads it with the pandas reader.
The machine is shared: every row also has the process's CPU seconds and the 1-minute load
average at its start, and a floor measured in the same run (DuckDB counting the score files'
rows and summing a column) gives ``ratio_to_floor``.

Sizes are referrals with about 10 score records each (``scores_per_referral=10``). Default
(``make bench``): 1e3 and 1e4 referrals. ``--large`` (or ``OUTCOMES_BENCH_LARGE=1``): also 1e5
and 1e6 referrals, i.e. up to 1e7 score records (target on this 2-core machine: DuckDB under
60 s and under 4 GB); pandas up to 1e5 unless ``--pandas-large``; Spark up to 1e5 unless
``--spark-large``. ``--engines=duckdb`` (comma-separated) runs only those engines;
``--sizes=1000000`` (comma-separated referrals) only those sizes. Spark runs in local mode with
an 8 GB heap (``OUTCOMES_BENCH_SPARK_MEMORY``); its JVM's peak memory and CPU time are read from
/proc and added to the Python process's. ``--folder=PATH`` (with one size in ``--sizes``)
reuses an extract of that size already written there by ``write_extract`` instead of
generating it; its row then has no generation time.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SMALL = (1_000, 10_000)
LARGE = (100_000, 1_000_000)
PERIOD = ("2025-04-01", "2026-03-31")
BY = ["england", "provider", "icb", "imd_decile"]

_GENERATE = r"""
import json, sys, time
from outcomes.synthetic.mhsds import simulate_mhsds, write_extract
n, folder = int(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
tables = simulate_mhsds(n, seed=1, scores_per_referral=10)
t1 = time.perf_counter()
write_extract(tables, folder)
t2 = time.perf_counter()
n_scores = len(tables["MHS606CodedScoreAssessmentRefer"]) + len(tables["MHS607CodedScoreAssessmentAct"])
print(json.dumps({"referrals": n, "score_records": n_scores, "generate_s": t1 - t0,
                  "write_parquet_s": t2 - t1}))
"""

_FLOOR = r"""
import json, sys, time, duckdb
folder = sys.argv[1]
con = duckdb.connect()
t0 = time.perf_counter()
con.execute(f"SELECT COUNT(*), SUM(LENGTH(PersScore)) FROM read_parquet('{folder}/MHS60*.parquet')").fetchall()
print(json.dumps({"floor_s": time.perf_counter() - t0}))
"""

_COUNT = r"""
import json, sys, duckdb
folder = sys.argv[1]
n = duckdb.connect().execute(f"SELECT COUNT(*) FROM read_parquet('{folder}/MHS60*.parquet')").fetchone()[0]
print(json.dumps({"score_records": n}))
"""

_RUN = (
    r"""
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
engine, folder = sys.argv[1], sys.argv[2]
load = os.getloadavg()[0]
t0 = time.perf_counter()
import outcomes as oc
jvm = None
if engine == "spark":
    from outcomes.mhsds.engines import local_spark
    jvm = local_spark(driver_memory=SPARK_MEMORY).sparkContext._gateway.proc.pid
ex = oc.mhsds.read(folder, engine="pandas" if engine == "pandas" else "duckdb")
t1 = time.perf_counter()
res = oc.cyp_outcome_metric(ex, period_start=PERIOD_START, period_end=PERIOD_END, convention="nhs", by=BY,
                            engine=engine)
n = int(res.to_frame()["n_referrals"].iloc[0])
t2 = time.perf_counter()
u = resource.getrusage(resource.RUSAGE_SELF)
c = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime
peak = max(u.ru_maxrss, c.ru_maxrss) / 1024
extra = {}
if jvm is not None:
    # Spark's JVM is still running, and RUSAGE_CHILDREN counts only children that have ended:
    # its peak and CPU time come from /proc; peak_rss_mb is then Python's plus the JVM's
    with open(f"/proc/{jvm}/status") as f:
        st = dict(line.split(":", 1) for line in f)
    with open(f"/proc/{jvm}/stat") as f:
        ticks = f.read().rsplit(")", 1)[1].split()
    jvm_cpu = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
    jvm_peak = int(st["VmHWM"].split()[0]) / 1024
    extra = {"jvm_peak_rss_mb": jvm_peak, "jvm_cpu_s": jvm_cpu, "python_peak_rss_mb": peak,
             "spark_driver_memory": SPARK_MEMORY}
    cpu, peak = cpu + jvm_cpu, peak + jvm_peak
print(json.dumps({**extra, "engine": engine, "read_s": t1 - t0, "metric_s": t2 - t1,
                  "read_and_metric_s": t2 - t0, "cpu_s": cpu, "peak_rss_mb": peak, "load_1min": load,
                  "mhs110_england": n}))
""".replace("PERIOD_START", repr(PERIOD[0]))
    .replace("PERIOD_END", repr(PERIOD[1]))
    .replace("BY", repr(BY))
    .replace("SPARK_MEMORY", repr(os.environ.get("OUTCOMES_BENCH_SPARK_MEMORY", "8g")))
)


def _child(code: str, *args: str, timeout: float = 3600) -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    try:
        p = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout} s"}
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _exponent(sizes: list[float], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) on log(size), over sizes of at least 1e5 score
    records (below that fixed costs, imports and JVM start dominate)."""
    pts = [(math.log(n), math.log(s)) for n, s in zip(sizes, seconds, strict=True) if n >= 1e5]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def run(
    large: bool | None = None,
    spark_large: bool = False,
    pandas_large: bool = False,
    engines: tuple[str, ...] = ("duckdb", "pandas", "spark"),
    sizes: tuple[int, ...] | None = None,
    folder: str | None = None,
) -> dict:
    if large is None:
        large = os.environ.get("OUTCOMES_BENCH_LARGE", "") not in ("", "0")
    if sizes is None:
        sizes = SMALL + (LARGE if large else ())
    if folder and len(sizes) != 1:
        raise SystemExit("--folder takes one extract: give its size alone in --sizes")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_mhsds_") as tmp:
        for n in sizes:
            if folder:
                # an extract written earlier: score records counted, not generated
                path = folder
                gen = {"referrals": n, **_child(_COUNT, path), "generated": False}
            else:
                path = str(Path(tmp) / str(n))
                gen = _child(_GENERATE, str(n), path)
            floor = _child(_FLOOR, path)
            todo = [e for e in ("duckdb",) if e in engines]
            if "pandas" in engines and (n <= 100_000 or pandas_large):
                todo.append("pandas")
            if "spark" in engines and (n <= 100_000 or spark_large):
                todo.append("spark")
            for engine in todo:
                r = {**gen, **floor, **_child(_RUN, engine, path)}
                r.setdefault("engine", engine)
                if "read_and_metric_s" in r and "floor_s" in r:
                    r["ratio_to_floor"] = r["read_and_metric_s"] / r["floor_s"]
                rows.append(r)
                print(json.dumps(r), flush=True)
    growth = {}
    for engine in ("duckdb", "pandas", "spark"):
        ok = [r for r in rows if r.get("engine") == engine and "read_and_metric_s" in r]
        growth[engine] = _exponent(
            [r["score_records"] for r in ok], [r["read_and_metric_s"] for r in ok]
        )
    big = [r for r in rows if r.get("engine") == "duckdb" and r["referrals"] == 1_000_000]
    target = None
    if big and "read_and_metric_s" in big[0]:
        target = {
            "seconds": big[0]["read_and_metric_s"],
            "peak_rss_mb": big[0]["peak_rss_mb"],
            "met": big[0]["read_and_metric_s"] < 60 and big[0]["peak_rss_mb"] < 4096,
        }
    return {
        "rows": rows,
        "large": large,
        "growth_exponent": growth,
        "target_duckdb_1e6_referrals": target,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from _harness import save

    result = run(
        large="--large" in sys.argv or None,
        spark_large="--spark-large" in sys.argv,
        pandas_large="--pandas-large" in sys.argv,
        # --engines=duckdb,pandas runs only those
        engines=tuple(
            next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--engines=")), "").split(
                ","
            )
            if any(a.startswith("--engines=") for a in sys.argv)
            else ("duckdb", "pandas", "spark")
        ),
        folder=next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--folder=")), None),
        sizes=next(
            (
                tuple(int(n) for n in a.split("=", 1)[1].split(","))
                for a in sys.argv
                if a.startswith("--sizes=")
            ),
            None,
        ),
    )
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    print(save("mhsds", result))
