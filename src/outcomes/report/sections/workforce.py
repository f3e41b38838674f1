"""Workforce confidence: programme staff, with comparison-school staff as the counterfactual.

Staff in programme and comparison schools are never pooled: every table is by cohort, and the
programme effect is the programme change minus the comparison change (difference in change),
computed from the released numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from ... import likert
from .. import figures
from ..release import Release, fmt_stat, is_hidden
from ..render import Section
from .common import collect, failure_notes, guard, missing, unknown_cohorts

TITLE, ANCHOR = "Workforce confidence", "workforce"
PROGRAMME, COMPARISON = "programme", "comparison"
DECIMALS = 2  # a 1-5 scale: see release.scale_decimals


def _order(values, order: list[str]) -> list:
    return sorted(values, key=lambda v: order.index(v) if v in order else len(order))


def release(ev, rel: Release) -> None:
    staff = ev.staff
    if staff is None:
        return
    cfg = ev.cfg.staff_survey
    waves = ev.waves("staff_survey", staff)
    rel.facts["workforce: waves"] = waves
    cohorts = _order(staff["cohort"].unique(), [PROGRAMME, COMPARISON])
    rel.facts["workforce: cohorts"] = cohorts
    staff = staff[staff["wave"].astype(str).isin(waves)]
    with guard(rel, "workforce: items"):
        summ = likert.item_summary(staff, instrument=cfg.instrument, by=["cohort", "wave"])
        summ = summ.assign(
            _c=summ["cohort"].map(cohorts.index),
            _w=summ["wave"].astype(str).map(waves.index),
        ).sort_values(["_c", "_w"], kind="stable")
        rel.counts(
            summ[["cohort", "wave", "item", "label", "n", "agree", "prop_agree"]],
            "staff_items", counts=["n", "agree"],
            percentages={"prop_agree": ("agree", "n")}, within={"agree": "n"},
        )  # fmt: skip
    with guard(rel, "workforce: change"):
        resp = cfg.respondent_column if cfg.respondent_column in staff.columns else None
        if resp is None:
            raise ValueError(
                f"no {cfg.respondent_column!r} column: staff cannot be linked across waves"
            )
        if len(waves) < 2:
            raise ValueError(f"only one staff survey wave ({waves}): nothing to compare")
        rows = []
        for cohort in cohorts:
            for w in waves[1:]:
                sub = staff[staff["cohort"] == cohort]
                ch = likert.compare_waves(
                    sub, instrument=cfg.instrument, scale="confidence", person_id=resp,
                    waves=[waves[0], w],
                )  # fmt: skip
                f = collect(rel, ch, f"staff change {cohort} {waves[0]} to {w}").to_frame()
                r = f[f["outcome"] == "confidence"].iloc[0]
                n = int(r["n_pairs"])
                tcrit = st.t.ppf(0.975, n - 1) if n > 1 else np.nan
                sd = (r["ci_high"] - r["ci_low"]) / (2 * tcrit) * np.sqrt(n) if n > 1 else np.nan
                rows.append({
                    "cohort": cohort, "comparison": f"{waves[0]} to {w}", "n": n,
                    "mean_baseline": r["mean_baseline"], "mean_followup": r["mean_followup"],
                    "mean_change": r["mean_change"], "sd_change": sd,
                })  # fmt: skip
        pub = rel.change(
            pd.DataFrame(rows), "staff_change", decimals=DECIMALS,
            labels=["cohort", "comparison"], means=("mean_baseline", "mean_followup"),
            diff="mean_change", sd="sd_change",
        ).frame  # fmt: skip
        if COMPARISON in cohorts and PROGRAMME in cohorts:
            rel.derived(difference_in_change(pub), "staff_difference_in_change")
    with guard(rel, "workforce: reliability"):
        base = staff[(staff["cohort"] == cohorts[0]) & (staff["wave"].astype(str) == waves[0])]
        r = likert.reliability(base, instrument=cfg.instrument)
        cols = [c for c in ("n", "k", "alpha", "omega") if c in r.columns]
        r = r[cols].assign(cohort=cohorts[0], wave=waves[0])[["cohort", "wave", *cols]]
        rel.counts(r, "staff_reliability", counts=["n"], keep=["k"] if "k" in cols else [],
                   means={c: ("n", 2) for c in ("alpha", "omega") if c in cols})  # fmt: skip


def difference_in_change(pub: pd.DataFrame) -> pd.DataFrame:
    """Programme change minus comparison change per comparison of waves, with a 95% CI from
    the released means, SDs and n (independent groups, Welch), nothing else.

    Example:
        >>> t = pd.DataFrame({"cohort": ["programme", "comparison"], "comparison": ["a", "a"],
        ...     "n": [100, 100], "mean_change": [0.4, 0.1], "sd_change": [1.0, 1.0]})
        >>> difference_in_change(t)[["difference", "ci_low", "ci_high"]].values.tolist()
        [[0.3, 0.02, 0.58]]
    """
    rows = []
    for comp, g in pub.groupby("comparison", sort=False):
        p = g[g["cohort"] == PROGRAMME]
        c = g[g["cohort"] == COMPARISON]
        if p.empty or c.empty:
            continue
        p, c = p.iloc[0], c.iloc[0]
        vals = [p["n"], c["n"], p["mean_change"], c["mean_change"], p["sd_change"],
                c["sd_change"]]  # fmt: skip
        if any(is_hidden(v) for v in vals):
            rows.append({"comparison": comp, "difference": "*", "ci_low": "*", "ci_high": "*"})
            continue
        n1, n2, m1, m2, s1, s2 = (float(v) for v in vals)
        v1, v2 = s1**2 / n1, s2**2 / n2
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        half = st.t.ppf(0.975, df) * np.sqrt(v1 + v2)
        d = m1 - m2
        rows.append(
            {
                "comparison": comp,
                "difference": round(d, DECIMALS),
                "ci_low": round(d - half, DECIMALS),
                "ci_high": round(d + half, DECIMALS),
            }
        )
    return pd.DataFrame(rows, columns=["comparison", "difference", "ci_low", "ci_high"])


def render(rel: Release, cfg) -> Section:
    if cfg.tables.staff_survey is None:
        return missing("Workforce confidence", ANCHOR, "the staff survey is")
    s = Section("Workforce confidence", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, "workforce: items", "workforce: change",
                  "workforce: reliability")  # fmt: skip
    unknown_cohorts(s, rel, cfg, "staff")
    waves = rel.facts.get("workforce: waves", [])
    cohorts = rel.facts.get("workforce: cohorts", [])
    comparison = COMPARISON in cohorts
    s.text(
        f"Staff answered the WCS-10 at {', '.join(map(str, waves))}. 'Agree' = agree or "
        "strongly agree. Staff in programme schools are reported separately from staff in "
        + ("comparison schools, whose change is the counterfactual: the programme effect is "
           "the difference in change." if comparison
           else "other schools; none is told apart here (see the warning)."
           if rel.facts.get("cohorts: unknown")
           else "other schools; no comparison schools took part.")
    )  # fmt: skip
    ch = rel.get("staff_change")
    if ch is not None:
        r = ch.row(cohort=PROGRAMME)
        if r is not None:
            s.text(
                f"Programme staff who answered at both waves ({r['comparison']}) moved by "
                f"{fmt_stat(r['mean_change'], DECIMALS, sign=True)} points on the 1-5 scale "
                f"(95% CI {fmt_stat(r['ci_low'], DECIMALS, sign=True)} to "
                f"{fmt_stat(r['ci_high'], DECIMALS, sign=True)})."
            )
    items = rel.get("staff_items")
    if items is not None:
        s.table(items, "Share of staff agreeing with each statement, by cohort and wave")
        s.figure(figures.agree_bars(items), "Share of staff agreeing with each "
                 "statement, one bar per cohort and wave (published proportions)")  # fmt: skip
    if ch is not None:
        s.table(ch, "Change in confidence for staff who answered both waves, by cohort")
    did = rel.get("staff_difference_in_change")
    if did is not None:
        s.table(did, "Programme change minus comparison change (difference in change)")
    if rel.get("staff_reliability") is not None:
        s.table(
            rel.get("staff_reliability"),
            "Reliability of the confidence scale at baseline (Cronbach's alpha; McDonald's omega)",
        )
    return s
