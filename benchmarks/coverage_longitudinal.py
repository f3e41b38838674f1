"""Coverage study: how often do the 95% CIs for the 12-month change cover the truth?

Not part of the test suite and not a ``bench_*`` file (``make bench`` does not run it): it
takes tens of minutes. Run it by hand::

    .venv/bin/python benchmarks/coverage_longitudinal.py --reps 200 --workers 2 --write-docs

Data-generating model (one replication): ``n`` children, scores at 0, 6 and 12 months,
``y = mu_wave + b_child + e`` with mu = 20, 17, 16 (true change at 12 months: -4),
b ~ N(0, 4^2), e ~ N(0, 4^2). Follow-up goes missing at random given the observed baseline
score: P(miss at 6) = expit(-1 + 1.5 z), P(miss at 12 | seen at 6) = expit(-0.5 + 1.5 z),
z the standardised baseline (monotone dropout; about 45% complete at 12 months), the most
severe children being lost most often.

Each replication estimates the change four ways (see :func:`outcomes.longitudinal.imputation.impute_change`)
and records the estimate, its SE and whether its 95% CI covers -4. The summary gives, per
method, mean estimate, bias, empirical SD, mean SE, coverage with its Monte Carlo SE and mean
CI width. With ``--write-docs`` the table replaces the block between the coverage markers in
docs/longitudinal.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

TRUE_CHANGE = -4.0
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "longitudinal.md"
START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def simulate(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    b = rng.normal(0, 4, n)
    means = {0: 20.0, 6: 17.0, 12: 16.0}
    y = {w: mu + b + rng.normal(0, 4, n) for w, mu in means.items()}
    z = (y[0] - 20) / np.sqrt(32)
    miss6 = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))
    miss12 = miss6 | (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.5 * z))))
    y[6] = np.where(miss6, np.nan, y[6])
    y[12] = np.where(miss12, np.nan, y[12])
    return pd.concat(
        [pd.DataFrame({"child": np.arange(n), "wave": w, "score": y[w]}) for w in means],
        ignore_index=True,
    )


def one(args: tuple[int, int, int]) -> list[dict]:
    rep, n, m = args
    from outcomes.longitudinal.imputation import impute_change

    data = simulate(10_000 + rep, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = impute_change(data, "score", "wave", child="child", m=m, seed=rep)
    out = []
    for _, r in res.table.iterrows():
        out.append(
            {
                "rep": rep,
                "analysis": r["analysis"],
                "estimate": r["estimate"],
                "se": r["se"],
                "covered": bool(r["ci_low"] <= TRUE_CHANGE <= r["ci_high"]),
                "width": r["ci_high"] - r["ci_low"],
                "completion": r["n_followup_observed"] / n,
                "warned": bool(res.warnings),
            }
        )
    return out


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby("analysis", sort=False)
    cov = g["covered"].mean()
    reps = g.size()
    return pd.DataFrame(
        {
            "mean estimate": g["estimate"].mean(),
            "bias": g["estimate"].mean() - TRUE_CHANGE,
            "empirical SD": g["estimate"].std(ddof=1),
            "mean SE": g["se"].mean(),
            "coverage": cov,
            "coverage MC SE": np.sqrt(cov * (1 - cov) / reps),
            "mean CI width": g["width"].mean(),
        }
    )


def markdown(summary: pd.DataFrame, meta: dict) -> str:
    head = "| analysis | " + " | ".join(summary.columns) + " |"
    rule = "|---|" + "---:|" * len(summary.columns)
    lines = [head, rule]
    for name, r in summary.iterrows():
        cells = [
            f"{r[c]:.1%}"
            if c.startswith("coverage")
            else f"{r[c]:+.3f}"
            if c == "bias"
            else f"{r[c]:.3f}"
            for c in summary.columns
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return (
        f"Result of `benchmarks/coverage_longitudinal.py --reps {meta['reps']}` "
        f"({meta['reps']} replications, {meta['n']} children each, m = {meta['m']} imputations, "
        f"mean completion at 12 months {meta['completion']:.0%}; true change {TRUE_CHANGE:+.0f}; "
        f"{meta['minutes']:.0f} minutes on {meta['workers']} worker(s), {meta['when']}):\n\n"
        + "\n".join(lines)
        + f"\n\nReplications with any fit warning: {meta['warned']} of {meta['reps']}.\n"
    )


def write_docs(block: str) -> None:
    text = DOCS.read_text()
    if START not in text or END not in text:
        sys.exit(f"{DOCS} has no {START} ... {END} block to replace")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOCS.write_text(f"{before}{START}\n{block}{END}{after}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=200, help="children per replication")
    ap.add_argument("--m", type=int, default=10, help="imputations per replication")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks/results/coverage_longitudinal.json"
    )
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(r, a.n, a.m) for r in range(a.reps)]
    with Pool(a.workers) as pool:
        rows = pd.DataFrame([row for rep in pool.imap_unordered(one, jobs) for row in rep])
    summary = summarise(rows)
    meta = {
        "reps": a.reps,
        "n": a.n,
        "m": a.m,
        "workers": a.workers,
        "minutes": (time.time() - t0) / 60,
        "completion": float(rows.groupby("rep")["completion"].first().mean()),
        "warned": int(rows.groupby("rep")["warned"].first().sum()),
        "when": time.strftime("%Y-%m-%d"),
    }
    block = markdown(summary, meta)
    print(block)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(
        json.dumps({"meta": meta, "summary": summary.reset_index().to_dict("records")}, indent=2)
    )
    if a.write_docs:
        write_docs(block)


if __name__ == "__main__":
    main()
