"""The school population: SDQ prevalence and SWEMWBS by cohort and wave, and the change
from baseline to every later wave (difference in differences where comparison schools exist)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import survey
from .. import figures
from ..release import Release, is_hidden, wilson
from ..render import Section
from .common import collect, failure_notes, guard, missing, show_tables

TITLE, ANCHOR = "School population", "school-population"
PROGRAMME, COMPARISON = "programme", "comparison"
INDICATOR = "total_difficulties_band"


def _sorted(t: pd.DataFrame, cohorts: list[str], waves: list[str]) -> pd.DataFrame:
    key_c = t["cohort"].map(lambda c: cohorts.index(c) if c in cohorts else len(cohorts))
    key_w = t["wave"].astype(str).map(lambda w: waves.index(w) if w in waves else len(waves))
    return (
        t.assign(_c=key_c, _w=key_w)
        .sort_values(["_c", "_w"], kind="stable")
        .drop(columns=["_c", "_w"])
    )


def release(ev, rel: Release) -> None:
    sv = ev.survey_scores
    if sv is None:
        return
    cfg = ev.cfg.school_survey
    flagged = ev.survey_flags
    if flagged is not None and len(flagged):
        errs = flagged[flagged["severity"] == "error"] if "severity" in flagged else flagged
        for reason, n in errs.groupby("reason").size().items():
            rel.quality.add("school survey scoring", str(reason), where="school_survey",
                            rows=int(n), action="cell set to missing", warn=False)  # fmt: skip
    waves = ev.waves("school_survey", sv)
    sv = sv[sv["wave"].astype(str).isin(waves)]
    cohorts = [c for c in (PROGRAMME, COMPARISON) if c in set(sv["cohort"])]
    cohorts += sorted(set(sv["cohort"]) - set(cohorts))
    rel.facts["school: waves"], rel.facts["school: cohorts"] = waves, cohorts
    with guard(rel, "school: prevalence"):
        prev = survey.prevalence(
            sv, INDICATOR, bands=cfg.sdq_bands, by=["cohort", "wave"], cluster="school_id"
        )
        prev = _sorted(collect(rel, prev, "prevalence"), cohorts, waves)
        t = prev[["cohort", "wave", "n", "cases", "icc", "deff"]].assign(prevalence=0.0)
        pub = rel.counts(
            t, "survey_prevalence_counts", counts=["n", "cases"],
            percentages={"prevalence": ("cases", "n")},
            means={"icc": ("n", 3), "deff": ("n", 2)}, store=False, within={"cases": "n"},
        ).frame  # fmt: skip
        # cluster-adjusted Wilson CI from the released counts and design effect
        deff = [np.nan if is_hidden(d) else max(float(d), 1.0) for d in pub["deff"]]
        n_eff = [
            np.nan if is_hidden(n) else float(n) / d for n, d in zip(pub["n"], deff, strict=True)
        ]
        x_eff = [np.nan if is_hidden(p) else float(p) * ne
                 for p, ne in zip(pub["prevalence"], n_eff, strict=True)]  # fmt: skip
        lo, hi = wilson(x_eff, n_eff)
        rel.derived(pub.assign(ci_low=np.round(lo, 3), ci_high=np.round(hi, 3)),
                    "survey_prevalence")  # fmt: skip
    with guard(rel, "school: by school"):
        by_school = survey.prevalence(
            sv, INDICATOR, bands=cfg.sdq_bands, by=["cohort", "wave", "school_id"]
        )
        parts = []
        for (c, w), g in by_school.groupby(["cohort", "wave"], sort=False):
            g = g[["cohort", "wave", "school_id", "n", "cases"]]
            tot = {"cohort": c, "wave": w, "school_id": "Total", "n": g["n"].sum(),
                   "cases": g["cases"].sum()}  # fmt: skip
            parts.append(pd.concat([g, pd.DataFrame([tot])], ignore_index=True))
        t = _sorted(pd.concat(parts, ignore_index=True), cohorts, waves)
        rel.counts(
            t.assign(prevalence=0.0), "survey_prevalence_by_school", counts=["n", "cases"],
            percentages={"prevalence": ("cases", "n")}, groups=["cohort", "wave"],
            within={"cases": "n"},
        )  # fmt: skip
    with guard(rel, "school: comparison"):
        if len(waves) < 2:
            raise ValueError(f"only one survey wave ({waves}): no change to estimate")
        rows = []
        prog = "_programme" if COMPARISON in cohorts else None
        data = sv.assign(_programme=sv["cohort"] == PROGRAMME)
        if prog is None:
            data = data[data["cohort"] == PROGRAMME]
        for w in waves[1:]:
            comp = survey.compare_prevalence(
                data, INDICATOR, bands=cfg.sdq_bands, waves=[waves[0], w], cluster="school_id",
                programme=prog,
            )  # fmt: skip
            f = collect(rel, comp, f"survey comparison {waves[0]} to {w}").to_frame()
            f = f.assign(comparison=f"{waves[0]} to {w}")
            rows.append(f)
        f = pd.concat(rows, ignore_index=True)
        pp = f["estimand"].str.contains("prevalence")  # differences, not odds ratios
        scale = np.where(pp, 100.0, 1.0)
        t = pd.DataFrame({
            "comparison": f["comparison"], "estimand": f["estimand"],
            "unit": np.where(pp, "percentage points", "ratio"),
            "estimate": f["estimate"] * scale, "ci_low": f["ci_low"] * scale,
            "ci_high": f["ci_high"] * scale, "p": f["p"],
            "n_baseline": f["n_baseline"], "n_followup": f["n_followup"],
            "schools": f["n_clusters"], "primary": f["primary"].map({True: "yes", False: "no"}),
        })  # fmt: skip
        rel.counts(
            t, "survey_comparison", counts=["n_baseline", "n_followup"], keep=["schools"],
            means={"estimate": ("n_followup", 1), "ci_low": ("n_followup", 1),
                   "ci_high": ("n_followup", 1), "p": ("n_followup", 3)},
        )  # fmt: skip
    # with two waves the comparison above is the whole story; a trend needs three or more
    with guard(rel, "school: trend"):
        if len(waves) >= 3:
            _trend(ev, rel, sv, cohorts, waves)
    with guard(rel, "school: weighted"):
        if cfg.weights is not None:
            _weighted(ev, rel, sv, cohorts, waves)
    with guard(rel, "school: SWEMWBS"):
        if "swemwbs_metric" in sv.columns:
            mm = survey.means(sv, "swemwbs_metric", by=["cohort", "wave"], cluster="school_id")
            mm = _sorted(collect(rel, mm, "SWEMWBS means"), cohorts, waves)
            rel.counts(mm[["cohort", "wave", "n", "mean", "sd"]], "survey_swemwbs",
                       counts=["n"], means={"mean": ("n", 1), "sd": ("n", 1)})  # fmt: skip


def _roll_weights(ev, sv: pd.DataFrame) -> pd.Series | None:
    """Post-stratification weights to the school rolls, or None when none are configured."""
    from ...io import read_table
    from ...weighting import poststratify

    w = ev.cfg.school_survey.weights
    if w is None:
        return None
    return poststratify(sv, read_table(ev.cfg.path(w.roll)), cells=w.cells, count=w.count)


def _weighted(ev, rel: Release, sv: pd.DataFrame, cohorts: list[str], waves: list[str]) -> None:
    """Prevalence weighted to the school rolls (post-stratification), by cohort and wave."""
    w = ev.cfg.school_survey.weights
    weights = _roll_weights(ev, sv)
    collect(rel, weights, "survey weights")
    rel.facts["school: weighting"] = (
        f"post-stratified to the school rolls ({w.roll}) by {' x '.join(w.cells)}; "
        "confidence intervals design-based, schools as sampling units"
    )
    data = sv.assign(_weight=weights.to_numpy())
    prev = survey.prevalence(data, INDICATOR, bands=ev.cfg.school_survey.sdq_bands,
                             by=["cohort", "wave"], cluster="school_id", weights="_weight")  # fmt: skip
    prev = _sorted(collect(rel, prev, "weighted prevalence"), cohorts, waves)
    t = prev[["cohort", "wave", "n", "prevalence", "ci_low", "ci_high"]].rename(
        columns={"prevalence": "weighted_prevalence"}
    )
    rel.counts(
        t, "survey_prevalence_weighted", counts=["n"],
        means={"weighted_prevalence": ("n", 3), "ci_low": ("n", 3), "ci_high": ("n", 3)},
    )  # fmt: skip


def _trend(ev, rel: Release, sv: pd.DataFrame, cohorts: list[str], waves: list[str]) -> None:
    """The trend across all waves (survey.trend), through the release."""
    cfg = ev.cfg.school_survey
    prog = "_programme" if COMPARISON in cohorts else None
    weights = _roll_weights(ev, sv)
    data = sv.assign(_programme=sv["cohort"] == PROGRAMME)
    if weights is not None:  # the same weights as the weighted prevalence table
        data = data.assign(_weight=weights.to_numpy())
    if prog is None:
        data = data[data["cohort"] == PROGRAMME]
    res = survey.trend(data, INDICATOR, "wave", cluster="school_id", waves=waves,
                       bands=cfg.sdq_bands, programme=prog,
                       weights="_weight" if weights is not None else None)  # fmt: skip
    rel.facts["school: trend weighted"] = weights is not None
    f = collect(rel, res, "survey trend").to_frame()
    f = f[f["term"] != "level"]  # the levels are the prevalence table above
    rel.facts["school: trend unit"] = res.time_unit
    t = pd.DataFrame({
        "arm": f["arm"], "term": f["term"],
        "wave": f["wave"].astype(object).where(f["wave"].notna(), "all waves"),
        "estimate": f["estimate"] * 100, "ci_low": f["ci_low"] * 100,
        "ci_high": f["ci_high"] * 100, "p": f["p"], "n": f["n"],
        "schools": f["n_clusters"],
    })  # fmt: skip
    rel.counts(
        t, "survey_trend", counts=["n"], keep=["schools"],
        means={"estimate": ("n", 1), "ci_low": ("n", 1), "ci_high": ("n", 1),
               "p": ("n", 3)},
    )  # fmt: skip


def render(rel: Release, cfg) -> Section:
    if cfg.tables.school_survey is None:
        return missing("The school population", ANCHOR, "the school survey is")
    s = Section("The school population against its baseline", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, *[f"school: {p}" for p in
                  ("prevalence", "by school", "comparison", "trend", "weighted", "SWEMWBS")])  # fmt: skip
    sc = cfg.school_survey
    waves = rel.facts.get("school: waves", [])
    cohorts = rel.facts.get("school: cohorts", [])
    s.text(
        f"Pupils answered the SDQ self-report (and SWEMWBS) at {', '.join(map(str, waves))}. "
        f"A probable difficulty is an SDQ total in the {' or '.join(sc.sdq_bands)} band. "
        "Programme and comparison schools are reported separately. Pupils in one school "
        "resemble each other, so confidence intervals are widened by the design effect."
        + (" Each later wave is compared with the baseline; with comparison schools the "
           "estimate is the difference in differences." if COMPARISON in cohorts else "")
    )  # fmt: skip
    weighting = rel.facts.get("school: weighting")
    s.text(
        f"Weighted results: respondents are {weighting}. The tables of counts are unweighted."
        if weighting
        else "Results are unweighted: respondents are not weighted to the school rolls."
    )
    prev = rel.get("survey_prevalence")
    if prev is not None:
        s.table(prev, "Prevalence of probable difficulties by cohort and wave, with "
                "cluster-adjusted 95% CI (from the published counts)")  # fmt: skip
        s.figure(figures.prevalence_bars(prev), "Share of pupils with probable difficulties in "
                 "each cohort at each wave, with cluster-adjusted 95% CIs (from the published "
                 "counts)")  # fmt: skip
    show_tables(
        s,
        rel,
        ("survey_prevalence_by_school", "Prevalence by school and wave"),
        ("survey_comparison", "Change in prevalence from baseline to each later wave"),
        (
            "survey_trend",
            ("Weighted trend" if rel.facts.get("school: trend weighted") else "Trend")
            + " across all waves (percentage points; GEE, schools as clusters): change "
            f"from baseline at each wave, the trend per {rel.facts.get('school: trend unit', 'year')}"
            " and, with comparison schools, the difference in differences and in trends",
        ),
        (
            "survey_prevalence_weighted",
            "Prevalence weighted to the school rolls, by cohort and "
            "wave, with design-based 95% CI (schools as sampling units)",
        ),
        ("survey_swemwbs", "SWEMWBS metric score by cohort and wave"),
    )
    return s
