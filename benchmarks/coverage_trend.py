"""Coverage study: how often does the 95% CI of ``survey.trend`` cover the true trend?

Not part of the test suite and not a ``bench_*`` file (``make bench`` does not run it). Run it
by hand::

    .venv/bin/python benchmarks/coverage_trend.py --reps 500 --schools 30 --write-docs

Data-generating model (one replication): ``schools`` schools surveyed at baseline, 12, 24 and
36 months, ``per`` new pupils per school per wave (drawn from 0.5 to 1.5 times ``per``, so the
schools differ in size). School s at time t (years) has prevalence
``p = 0.25 + u_s + (TREND + v_s) t`` with u_s ~ N(0, 0.06^2) (a school effect: ICC about
0.02) and v_s ~ N(0, 0.01^2) (schools' own trends), clipped to [0.01, 0.99]; each pupil is a
case with probability p. The population-average trend is TREND = -0.02 per year (clipping
is rare at these values). Each replication fits ``survey.trend(..., gee_cov=...)`` and
records whether the 95% CI of the trend covers TREND. The summary gives per covariance: mean
estimate, bias, empirical SD, mean SE, coverage with its Monte Carlo SE. With ``--write-docs``
the table replaces the block between the coverage markers in docs/surveys.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

TREND = -0.02
WAVES = {"baseline": 0.0, "12m": 1.0, "24m": 2.0, "36m": 3.0}
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "surveys.md"
START, END = "<!-- trend-coverage:start -->", "<!-- trend-coverage:end -->"


def simulate(seed: int, schools: int, per: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.normal(0, 0.06, schools)
    v = rng.normal(0, 0.01, schools)
    parts = []
    for s in range(schools):
        for w, t in WAVES.items():
            n = int(rng.integers(per // 2, 3 * per // 2 + 1))
            p = float(np.clip(0.25 + u[s] + (TREND + v[s]) * t, 0.01, 0.99))
            parts.append(pd.DataFrame({"school_id": f"S{s}", "wave": w, "case": rng.random(n) < p}))
    out = pd.concat(parts, ignore_index=True)
    out["case"] = out["case"].astype(int)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--schools", type=int, default=30)
    ap.add_argument("--per", type=int, default=40)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from outcomes import survey

    rows = []
    t0 = time.perf_counter()
    for rep in range(args.reps):
        df = simulate(rep, args.schools, args.per)
        for cov in ("robust", "bias_reduced"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = survey.trend(df, "case", "wave", gee_cov=cov)
            tr = res.to_frame().query("term == 'trend'").iloc[0]
            rows.append(
                dict(
                    cov=cov,
                    estimate=tr["estimate"],
                    se=tr["se"],
                    covers=tr["ci_low"] <= TREND <= tr["ci_high"],
                )
            )
    res = pd.DataFrame(rows)
    summary = res.groupby("cov").agg(
        mean_estimate=("estimate", "mean"),
        empirical_sd=("estimate", "std"),
        mean_se=("se", "mean"),
        coverage=("covers", "mean"),
    )
    summary.insert(1, "bias", summary["mean_estimate"] - TREND)
    summary["coverage_mcse"] = np.sqrt(summary["coverage"] * (1 - summary["coverage"]) / args.reps)
    summary = summary.round(4)
    print(summary.to_string())
    print(f"{args.reps} replications, {args.schools} schools, {time.perf_counter() - t0:.0f} s")
    if args.write_docs:
        table = (
            f"{args.reps} replications, {args.schools} schools, about {args.per} pupils per "
            f"school per wave, true trend {TREND:+.2f} per year "
            "(`benchmarks/coverage_trend.py`):\n\n" + summary.reset_index().to_markdown(index=False)
        )
        text = DOCS.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        DOCS.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
