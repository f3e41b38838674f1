"""The school population: SDQ prevalence and SWEMWBS by cohort and wave, and the change
from baseline to every later wave (difference in differences where comparison schools exist);
the primary pupils' wellbeing survey (Stirling) beside it, never pooled with it; and which
schools each survey reached."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import survey
from .. import figures
from ..labels import instrument_name, scale_label
from ..release import MARKER, NOT_APPLICABLE, Release, is_hidden, wilson
from ..render import Section
from .common import (
    NOT_RECORDED,
    collect,
    failure_notes,
    guard,
    missing,
    show_tables,
    unknown_cohorts,
)

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


def _with_totals(by_school: pd.DataFrame) -> pd.DataFrame:
    """Each cohort and wave's schools (n and cases) followed by their Total row, the groups in
    order of first appearance: the totals from one groupby and the rows put in place by one
    stable sort (a frame and a concat per group cost more than the release of the table)."""
    keys = ["cohort", "wave"]
    rows = by_school[[*keys, "school_id", "n", "cases"]]
    grouped = rows.groupby(keys, sort=False)
    group = grouped.ngroup().to_numpy()
    totals = grouped[["n", "cases"]].sum().reset_index().assign(school_id="Total")
    if totals.empty:  # (a concat of no groups raised "No objects to concatenate")
        raise ValueError("no cohort and wave has schools with survey answers")
    kept = group >= 0  # a row with a missing cohort or wave is in no group
    return _each_group_then_total(rows[kept], group[kept], totals)


def _each_group_then_total(
    rows: pd.DataFrame, group: np.ndarray, totals: pd.DataFrame
) -> pd.DataFrame:
    """``rows`` group by group (``group``: each row's group, its Total's position in
    ``totals``), each group's rows in their order followed by its Total row, the groups in
    the order of ``totals``: one concat and one stable sort."""
    t = pd.concat([rows, totals[rows.columns]], ignore_index=True)
    where = np.r_[group, np.arange(len(totals))]
    is_total = np.r_[np.zeros(len(rows), bool), np.ones(len(totals), bool)]
    return t.take(np.lexsort((is_total, where))).reset_index(drop=True)


def _cohorts(t: pd.DataFrame) -> list[str]:
    """The cohorts present: programme, comparison, then any other in sorted order."""
    present = set(pd.unique(t["cohort"]))  # once: a set of a long text column is slow
    first = [c for c in (PROGRAMME, COMPARISON) if c in present]
    return first + sorted(present - set(first))


def release(ev, rel: Release) -> None:
    sv = ev.survey_scores
    if sv is not None:
        _secondary(ev, rel, sv)
    pv = ev.primary_scores
    if pv is not None:
        _primary(ev, rel, pv)
    with guard(rel, "school: reach"):
        _reach(ev, rel, sv, pv)


def _flag_cells(rel: Release, flagged: pd.DataFrame | None, where: str) -> None:
    """Cells scoring set to missing, counted by reason in the data-quality record."""
    if flagged is not None and len(flagged):
        errs = flagged[flagged["severity"] == "error"] if "severity" in flagged else flagged
        for reason, n in errs.groupby("reason").size().items():
            rel.quality.add(f"{where} scoring", str(reason), where=where, rows=int(n),
                            action="cell set to missing", warn=False)  # fmt: skip


def _secondary(ev, rel: Release, sv: pd.DataFrame) -> None:
    cfg = ev.cfg.school_survey
    _flag_cells(rel, ev.survey_flags, "school_survey")
    waves = ev.waves("school_survey", sv)
    sv = sv[sv["wave"].astype(str).isin(waves)]
    cohorts = _cohorts(sv)
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
        pub["deff"] = _published_deff(pub, prev["n_clusters"].to_numpy())
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
        t = _sorted(_with_totals(by_school), cohorts, waves)
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
        pub = rel.counts(
            t, "survey_comparison", counts=["n_baseline", "n_followup"], keep=["schools"],
            means={"estimate": ("n_followup", 1), "ci_low": ("n_followup", 1),
                   "ci_high": ("n_followup", 1), "p": ("n_followup", 3)}, store=False,
        ).frame  # fmt: skip
        arms = [PROGRAMME, COMPARISON] if prog else [PROGRAMME]
        _hide_unsafe(rel, pub, "survey_comparison", _comparison_cells(arms))
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


def _primary(ev, rel: Release, pv: pd.DataFrame) -> None:
    """The primary survey's wellbeing scale by cohort and wave, and its change from baseline
    (a mean: the scale has no published cut-off for a prevalence)."""
    cfg = ev.cfg.school_survey
    scale = cfg.primary_scale
    _flag_cells(rel, ev.primary_flags, "primary_survey")
    waves = ev.waves("school_survey", pv)  # the primary survey is read at these waves
    pv = pv[pv["wave"].astype(str).isin(waves)]
    cohorts = _cohorts(pv)
    rel.facts["school: primary waves"] = waves
    rel.facts["school: primary cohorts"] = cohorts
    rel.facts["school: primary instrument"] = cfg.primary_instrument
    rel.facts["school: primary scale"] = scale
    with guard(rel, "school: primary wellbeing"):
        mm = survey.means(pv, scale, by=["cohort", "wave"], cluster="school_id")
        mm = _sorted(collect(rel, mm, "primary survey means"), cohorts, waves)
        t = mm.assign(responses=mm["n"] + mm["missing"])
        t = t[["cohort", "wave", "responses", "n", "mean", "sd", "deff", "n_clusters"]]
        pub = rel.counts(
            t, "survey_primary_wellbeing", counts=["responses", "n"], within={"n": "responses"},
            means={"mean": ("n", 1), "sd": ("n", 1), "deff": ("n", 2)}, keep=["n_clusters"],
            store=False,
        ).frame  # fmt: skip
        # the CI from the released mean, SD and n: the exact one gave the exact n back (with
        # one school, n = (t * SD / half-width) ** 2)
        lo, hi = _mean_ci(pub)
        rel.derived(pub.drop(columns=["deff", "n_clusters"]).assign(ci_low=lo, ci_high=hi),
                    "survey_primary_wellbeing")  # fmt: skip
    with guard(rel, "school: primary change"):
        if len(waves) < 2:
            raise ValueError(f"only one primary survey wave ({waves}): no change to estimate")
        prog = "_programme" if COMPARISON in cohorts else None
        data = pv.assign(_programme=pv["cohort"] == PROGRAMME)
        if prog is None:
            data = data[data["cohort"] == PROGRAMME]
        rows = []
        for w in waves[1:]:
            comp = survey.compare_means(data, scale, waves=[waves[0], w], cluster="school_id",
                                        programme=prog)  # fmt: skip
            f = collect(rel, comp, f"primary survey comparison {waves[0]} to {w}").to_frame()
            rows.append(f.assign(comparison=f"{waves[0]} to {w}"))
        f = pd.concat(rows, ignore_index=True)
        t = pd.DataFrame({
            "comparison": f["comparison"], "estimand": f["estimand"], "unit": "points",
            "estimate": f["estimate"], "ci_low": f["ci_low"], "ci_high": f["ci_high"],
            "p": f["p"], "n_baseline": f["n_baseline"], "n_followup": f["n_followup"],
            "schools": f["n_clusters"], "primary": f["primary"].map({True: "yes", False: "no"}),
        })  # fmt: skip
        pub = rel.counts(
            t, "survey_primary_comparison", counts=["n_baseline", "n_followup"],
            keep=["schools"],
            means={"estimate": ("n_followup", 1), "ci_low": ("n_followup", 1),
                   "ci_high": ("n_followup", 1), "p": ("n_followup", 3)}, store=False,
        ).frame  # fmt: skip
        arms = [PROGRAMME, COMPARISON] if prog else [PROGRAMME]
        _hide_unsafe(rel, pub, "survey_primary_comparison", _comparison_cells(arms),
                     source=("survey_primary_wellbeing", "mean"))  # fmt: skip


def _published_deff(pub: pd.DataFrame, schools: np.ndarray) -> list:
    """The design effect recomputed from the published n and ICC, 1 + (n / schools - 1) ICC, to
    2 decimals: the exact one with the ICC gave the exact n back (n = schools x (1 + (deff - 1)
    / ICC), to within a pupil for a small cohort). One school: 1 (no clustering to allow for);
    the marker where n is hidden."""
    out = []
    for n, icc, d, k in zip(pub["n"], pub["icc"], pub["deff"], schools, strict=True):
        if is_hidden(n) or is_hidden(icc) or not k > 0:
            # hidden with its n, or no ICC (then 1 for one school or not estimable: no n in it)
            out.append(d)
        else:
            out.append(round(1 + (float(n) / float(k) - 1) * float(icc), 2) + 0.0)
    return out


def _mean_ci(pub: pd.DataFrame, confidence: float = 0.95) -> tuple[list, list]:
    """The design-effect-widened t interval of released means (as :func:`outcomes.survey.
    means`: t on schools - 1 degrees of freedom, n - 1 with one school), to 1 decimal; the
    marker where the mean is hidden."""
    from scipy import stats as st

    lo, hi = [], []
    for m, sd, n, deff, k in zip(pub["mean"], pub["sd"], pub["n"], pub["deff"],
                                 pub["n_clusters"], strict=True):  # fmt: skip
        if any(is_hidden(v) for v in (m, sd, n, deff)) or float(n) < 2:
            lo.append(MARKER if is_hidden(m) else np.nan)
            hi.append(lo[-1])
            continue
        df = float(k) - 1 if float(k) > 1 else float(n) - 1
        half = st.t.ppf(0.5 + confidence / 2, df) * float(sd) * np.sqrt(max(float(deff), 1.0))
        half /= np.sqrt(float(n))
        lo.append(round(float(m) - half, 1) + 0.0)
        hi.append(round(float(m) + half, 1) + 0.0)
    return lo, hi


def _arms(estimand: str, cohorts: list[str]) -> list[str]:
    """The cohorts a comparison's estimate is computed from (``cohorts``: those compared)."""
    if "in programme schools" in estimand:
        return [PROGRAMME]
    if "in comparison schools" in estimand:
        return [COMPARISON]
    return cohorts


def _comparison_cells(cohorts: list[str]):
    """The (cohort, wave) cells a row of a comparison table rests on."""

    def cells(r: dict) -> list[tuple[str, str]]:
        waves = str(r["comparison"]).split(" to ")
        return [(c, w) for c in _arms(str(r["estimand"]), cohorts) for w in waves]

    return cells


def _hide_unsafe(
    rel: Release, pub: pd.DataFrame, name: str, cells_of, columns=("estimate", "ci_low",
    "ci_high", "p"), source: tuple[str, str] = ("survey_prevalence", "prevalence"),
) -> None:  # fmt: skip
    """Store a released table with its ``columns`` hidden in every row resting on a cohort
    and wave whose value is hidden in the table ``source`` (name, column): a change from
    baseline plus the baseline value would give that value back (a prevalence, then times n
    its hidden count; a mean of a few pupils), and so would a weighted prevalence.
    ``cells_of(row)``: the (cohort, wave) cells a row rests on."""
    t = rel.get(source[0])
    hidden = set()
    if t is not None:
        f = t.frame
        hidden = {(str(c), str(w)) for c, w, v in zip(f["cohort"], f["wave"], f[source[1]],
                                                      strict=True) if is_hidden(v)}  # fmt: skip
    pub = pub.copy()
    for c in columns:
        pub[c] = pub[c].astype(object)
    for i, r in enumerate(pub.to_dict("records")):
        if any(cell in hidden for cell in cells_of(r)):
            for c in columns:
                pub.at[i, c] = MARKER
    rel.derived(pub, name)


def _reach(ev, rel: Release, sv: pd.DataFrame | None, pv: pd.DataFrame | None) -> None:
    """Responses per school to each survey: every school of the schools table is listed, one
    no survey reached with 0 responses, so a school left out is seen, not lost."""
    cfg = ev.cfg.school_survey
    both = " and SWEMWBS" if sv is not None and "swemwbs_metric" in sv.columns else ""
    surveys = [(sv, instrument_name(cfg.sdq_instrument) + both),
               (pv, instrument_name(cfg.primary_instrument))]  # fmt: skip
    parts = [_responses(data, name) for data, name in surveys if data is not None]
    if not parts:
        return
    t = pd.concat(parts, ignore_index=True)
    schools = ev.inputs.tables.get("schools")
    if schools is not None and "school_id" in schools.columns:
        listed = schools.drop_duplicates("school_id")
        listed = listed.assign(cohort=ev.cohorts(listed).to_numpy())
        phase = listed.set_index("school_id")["phase"] if "phase" in listed else None
        unreached = listed[~listed["school_id"].isin(set(t["school_id"]))]
        t = pd.concat([t, pd.DataFrame({
            "cohort": unreached["cohort"], "school_id": unreached["school_id"],
            "responses": 0, "waves": "none", "survey": "none",
        })], ignore_index=True)  # fmt: skip
        if phase is not None:
            t.insert(2, "phase", t["school_id"].map(phase).fillna(NOT_RECORDED))
    out, reached, listed = _with_cohort_totals(t)
    rel.facts["school: schools reached"] = reached
    rel.facts["school: schools listed"] = listed
    rel.counts(out, "survey_reach_by_school", counts=["responses"], groups="cohort")


def _responses(data: pd.DataFrame, name: str) -> pd.DataFrame:
    """One survey's responses per cohort and school, with the school's waves in the order
    first met: one groupby gives both (a second over the distinct rows cost more)."""
    g = data["wave"].astype(str).groupby([data["cohort"], data["school_id"]], sort=False)
    n = g.size().rename("responses").reset_index()
    # text, as the joins of a groupby's agg are (no schools: an empty text column too)
    waves = pd.array([", ".join(w) for w in g.unique()], dtype="str")
    return n.assign(waves=waves, survey=name)


def _with_cohort_totals(t: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Each cohort's schools (by school_id, then survey) followed by its Total row, cohorts in
    the order of :func:`_cohorts`; and per cohort the schools reached (a response) and listed.
    One stable sort and one concat, not a frame and a concat per cohort."""
    order = _cohorts(t)
    rank = t["cohort"].map({c: k for k, c in enumerate(order)}).to_numpy()
    rows = t.assign(_c=rank).sort_values(["_c", "school_id", "survey"], kind="stable")
    group = rows.pop("_c").to_numpy()
    # every cohort of the order has rows, met in that order once sorted
    total = rows.groupby("cohort", sort=False)["responses"].sum()
    totals = pd.DataFrame({col: NOT_APPLICABLE for col in t.columns}, index=range(len(total)))
    totals = totals.assign(cohort=total.index, school_id="Total", responses=total.to_numpy())
    out = _each_group_then_total(rows, group, totals)
    schools = rows[rows["school_id"] != "Total"]
    reached = schools[schools["responses"] > 0].groupby("cohort", sort=False)["school_id"]
    reached = reached.nunique()
    listed = schools.groupby("cohort", sort=False)["school_id"].nunique()
    return (
        out,
        {c: int(reached.get(c, 0)) for c in order},
        {c: int(listed.get(c, 0)) for c in order},
    )


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
    pub = rel.counts(
        t, "survey_prevalence_weighted", counts=["n"], store=False,
        means={"weighted_prevalence": ("n", 3), "ci_low": ("n", 3), "ci_high": ("n", 3)},
    ).frame  # fmt: skip
    _hide_unsafe(rel, pub, "survey_prevalence_weighted",
                 lambda r: [(str(r["cohort"]), str(r["wave"]))],
                 columns=("weighted_prevalence", "ci_low", "ci_high"))  # fmt: skip


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
    pub = rel.counts(
        t, "survey_trend", counts=["n"], keep=["schools"], store=False,
        means={"estimate": ("n", 1), "ci_low": ("n", 1), "ci_high": ("n", 1),
               "p": ("n", 3)},
    ).frame  # fmt: skip
    arms = [PROGRAMME, COMPARISON] if prog else [PROGRAMME]

    def cells(r: dict) -> list[tuple[str, str]]:
        # a change at a wave rests on that wave and the baseline; a trend on every wave
        on = waves if r["wave"] == "all waves" else [waves[0], str(r["wave"])]
        return [(c, w) for c in (arms if r["arm"] not in arms else [r["arm"]]) for w in on]

    _hide_unsafe(rel, pub, "survey_trend", cells)


PARTS = ("prevalence", "by school", "comparison", "trend", "weighted", "SWEMWBS",
         "primary wellbeing", "primary change", "reach")  # fmt: skip


def render(rel: Release, cfg) -> Section:
    if cfg.tables.school_survey is None and cfg.tables.primary_survey is None:
        return missing("The school population", ANCHOR, "the school survey is")
    s = Section("The school population against its baseline", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, *[f"school: {p}" for p in PARTS])
    unknown_cohorts(s, rel, cfg, "pupils")
    _render_reach(s, rel)
    if cfg.tables.school_survey is not None:
        _render_secondary(s, rel, cfg)
    if cfg.tables.primary_survey is not None:
        _render_primary(s, rel, cfg)
    return s


def _render_reach(s: Section, rel: Release) -> None:
    reached, listed = (
        rel.facts.get("school: schools reached"),
        rel.facts.get("school: schools listed"),
    )
    if reached and listed:
        s.text(
            "Schools surveyed: "
            + "; ".join(f"{reached.get(c, 0)} of {n} {c} schools" for c, n in listed.items())
            + ". Each school's pupils answer one survey: secondary pupils the SDQ, primary "
            "pupils a wellbeing scale for their age."
        )
    show_tables(
        s, rel,
        ("survey_reach_by_school",
         "Survey responses by school (all waves; a school no survey reached shows 0). The "
         "totals count responses to different questionnaires, not a pooled score"),
    )  # fmt: skip


def _render_primary(s: Section, rel: Release, cfg) -> None:
    inst = rel.facts.get("school: primary instrument", cfg.school_survey.primary_instrument)
    scale = rel.facts.get("school: primary scale", cfg.school_survey.primary_scale)
    waves = rel.facts.get("school: primary waves", [])
    s.text(
        f"**Primary schools.** Pupils in Years 4-6 answered the {instrument_name(inst)} "
        f"({scale_label(inst, scale)}; higher is better) at {', '.join(map(str, waves))}. It is "
        "a different questionnaire from the secondary survey, so its results are reported on "
        "their own and never added to the secondary pupils'. The mean's confidence interval "
        "is widened by the design effect (pupils in one school resemble each other)."
        + (
            ""
            if COMPARISON in rel.facts.get("school: primary cohorts", [])
            else " No comparison primary school was surveyed, so the change below is a "
            "before-and-after within the programme, not a difference in differences: it "
            "includes whatever would have happened without the programme."
        )
    )
    show_tables(
        s, rel,
        ("survey_primary_wellbeing",
         f"Primary pupils' wellbeing ({instrument_name(inst)}, {scale_label(inst, scale)}) by "
         "cohort and wave: responses, pupils with a score, mean, SD and cluster-adjusted 95% CI"),
        ("survey_primary_comparison",
         "Change in primary pupils' mean wellbeing from baseline to each later wave (points "
         "on the scale; the primary analysis has school-clustered standard errors)"),
    )  # fmt: skip


def _render_secondary(s: Section, rel: Release, cfg) -> None:
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
