"""Data quality and methods: every input row accounted for, every warning met while
computing the report, attrition, a sensitivity analysis and the limitations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from ...longitudinal.attrition import attrition
from ...longitudinal.imputation import impute_change
from ..release import MARKER, NOT_APPLICABLE, Release, fmt_count, fmt_pct, is_hidden, p_values
from ..render import Section
from .common import failure_notes, guard, show_tables

TITLE, ANCHOR = "Data quality", "data-quality"
NOTE_COLUMNS = ["source", "what", "where", "action"]


def release(ev, rel: Release) -> None:
    acc = ev.inputs.accounting
    with guard(rel, "data quality: accounting"):
        if acc is not None and len(acc) and {"rows_read", "rows_used"} <= set(acc.columns):
            release_accounting(rel, acc)
        elif acc is not None and len(acc):  # an older layout: counts as they are
            counts = [c for c in acc.columns if pd.api.types.is_numeric_dtype(acc[c])]
            rel.counts(acc, "input_accounting", counts=counts)
        issues = getattr(ev.inputs, "issues", None)
        if issues is not None and len(issues):
            iss = issues.groupby(["table", "reason"]).size().rename("cells").reset_index()
            rel.counts(iss, "input_issues", counts=["cells"])
    h = ev.headline()
    if h is None:
        return
    inst_id, scale = h
    long = _long_for(ev, inst_id, scale)
    if long is None:
        rel.fail("data quality: attrition", "no referral has a follow-up score yet")
        return
    rel.facts["data quality: headline"] = h
    with guard(rel, "data quality: attrition"):
        demo = [c for c in ev.cfg.subgroups if c in long.columns and long[c].nunique() >= 2][:3]
        att = attrition(long, scale, "wave_order", person_id="unit", demographics=demo)
        c = att.completion
        rel.counts(
            pd.DataFrame({"with_baseline": [c["n_children"]], "completed": [c["n_completers"]],
                          "not_completed": [c["n_children"] - c["n_completers"]]}),
            "attrition_counts", counts=["with_baseline", "completed", "not_completed"],
            column_totals={"with_baseline": ["completed", "not_completed"]},
        )  # fmt: skip
        # Test statistics, df and group sizes determine the number of children (chi-square
        # and Cramer's V give N): only the effect size is released, rounded, and the p-value
        # is recomputed from it and the released counts, so it holds nothing more.
        counts = rel.get("attrition_counts").frame.iloc[0]
        rel.derived(attrition_tests(att.to_frame(), counts), "attrition")
    with guard(rel, "data quality: sensitivity"):
        imp = impute_change(long, scale, "wave_order", person_id="unit", m=10, seed=0, mixed=False)
        d = ev.decimals_for(inst_id, scale)
        rel.stats(imp.to_frame(), "sensitivity", decimals={"estimate": d, "ci_low": d,
                  "ci_high": d}, labels=["analysis", "assumes"])  # fmt: skip


def attrition_tests(tests: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """Effect sizes (2 decimals) and p-values computed from them and the released counts:
    a Welch t from Cohen's d with the released completers and non-completers, a chi-square
    from Cramer's V with the released total (df from the number of levels, which the
    breakdowns publish); the marker where a count is hidden; other tests without a p-value.

    Example:
        >>> t = pd.DataFrame({"variable": ["sen"], "test": ["chi-square"], "df": [2.0],
        ...     "effect_name": ["cramers_v"], "effect": [0.1234]})
        >>> c = pd.Series({"with_baseline": 400, "completed": 190, "not_completed": 210})
        >>> attrition_tests(t, c)[["effect", "p"]].values.tolist()  # chi2 = 5.76, p = exp(-5.76 / 2)
        [[0.12, 0.056]]
    """
    rows = []
    for r in tests.to_dict("records"):
        v = round(float(r["effect"]), 2) if np.isfinite(r["effect"]) else np.nan
        p = MARKER
        if r["effect_name"] == "cramers_v" and not is_hidden(counts["with_baseline"]):
            chi2 = v**2 * float(counts["with_baseline"])  # a 2 x k table: min(2, k) - 1 = 1
            p = float(st.chi2.sf(chi2, r["df"]))
        elif r["effect_name"] == "cohens_d" and not (
            is_hidden(counts["completed"]) or is_hidden(counts["not_completed"])
        ):
            n1, n2 = float(counts["completed"]), float(counts["not_completed"])
            t = v * np.sqrt(n1 * n2 / (n1 + n2))
            p = float(2 * st.t.sf(abs(t), n1 + n2 - 2))
        elif r["effect_name"] not in ("cramers_v", "cohens_d"):
            p = NOT_APPLICABLE
        rows.append({"variable": r["variable"], "test": r["test"],
                     "effect_name": r["effect_name"], "effect": v, "p": p})  # fmt: skip
    out = pd.DataFrame(rows, columns=["variable", "test", "effect_name", "effect", "p"])
    out["p"] = p_values(out["p"])
    return out


def release_accounting(rel: Release, acc: pd.DataFrame) -> None:
    """Rows read, used and excluded per table, and the exclusions by reason.

    The inputs' accounting is a flow (each reason starts from the rows the one before kept), so
    one table's rows are linked across its lines; the release states the sums instead: per
    table read = used + excluded, and per table the reasons add up to its Total.

    Example:
        >>> rel = Release()
        >>> acc = pd.DataFrame({"table": ["referrals", "referrals", "schools"],
        ...     "rows_read": [100, 97, 25], "rows_used": [97, 95, 25],
        ...     "rows_excluded": [3, 2, 0], "reason": ["duplicate id", "no date", ""]})
        >>> release_accounting(rel, acc)
        >>> rel.get("input_accounting").frame.values.tolist()  # 100 - 95 would give the 5
        [['referrals', 100, '*', '*'], ['schools', 25, 25, 0]]
    """
    a = acc.assign(_order=range(len(acc)))
    per_table = a.groupby("table", sort=False).agg(
        rows_read=("rows_read", "first"), rows_used=("rows_used", "last"),
        rows_excluded=("rows_excluded", "sum"),
    ).reset_index()  # fmt: skip
    ok = (per_table["rows_read"] == per_table["rows_used"] + per_table["rows_excluded"]).all()
    counts = ["rows_read", "rows_used", "rows_excluded"]
    rel.counts(per_table, "input_accounting", counts=counts,
               column_totals={"rows_read": ["rows_used", "rows_excluded"]} if ok else {})  # fmt: skip
    if "reason" not in a.columns:
        return
    ex = a[(a["rows_excluded"] > 0) & a["reason"].fillna("").astype(str).str.strip().ne("")]
    if ex.empty:
        return
    parts = []
    for table, g in ex.groupby("table", sort=False):
        g = g[["table", "reason", "rows_excluded"]]
        tot = {"table": table, "reason": "Total", "rows_excluded": int(g["rows_excluded"].sum())}
        parts.append(pd.concat([g, pd.DataFrame([tot])], ignore_index=True))
    rel.counts(pd.concat(parts, ignore_index=True), "input_exclusions",
               counts=["rows_excluded"], groups="table")  # fmt: skip


def release_quality(ev, rel: Release) -> None:
    """The data-quality notes: the inputs' record plus every warning and every result's own
    record met while computing the report, one row per distinct note, numbers controlled."""
    f = rel.quality.to_frame()
    if f.empty:
        return
    # first line only: a multi-line warning lists rows, whose detail stays in the analyst's log
    first = {c: f[c].fillna("").astype(str).str.split("\n").str[0] for c in NOTE_COLUMNS}
    f = f.assign(**{c: v.map(rel.note_text) for c, v in first.items()})
    f[NOTE_COLUMNS] = f[NOTE_COLUMNS].replace("", NOT_APPLICABLE)  # never a blank cell
    f["rows"] = pd.to_numeric(f["rows"], errors="coerce")
    g = (
        f.groupby(NOTE_COLUMNS, sort=False, dropna=False)
        # rows: missing (not applicable) for notes about no particular rows, never 0
        .agg(rows=("rows", lambda x: x.sum(min_count=1)))
        .reset_index()
    )
    rel.counts(g[[*NOTE_COLUMNS, "rows"]], "quality_notes", counts=["rows"])


def _long_for(ev, inst_id: str, scale: str) -> pd.DataFrame | None:
    """One row per referral (unit) per wave: baseline (0) and, where paired, follow-up (1)."""
    pairing = ev.pairings.get(inst_id)
    if pairing is None:
        return None
    sc = ev.inputs.scores[inst_id]
    unit = "referral_id" if "referral_id" in sc.columns else "person_id"
    # Baseline: each unit's first scored record, as the pairing uses it; follow-up: the
    # record the pairing took as the unit's follow-up.
    demo = [c for c in ev.cfg.subgroups if c in sc.columns]
    # the columns read only: sorting and taking rows of every score column cost more
    # (the unit is the person where the scores carry no referral ids: taken once)
    keep = list(dict.fromkeys([unit, "person_id", scale, *demo]))
    first = sc[[*keep, "date"]].dropna(subset=[scale]).sort_values("date")
    base = first.groupby(unit, sort=False).head(1)[keep].assign(wave_order=0)
    p = pairing.pairs[pairing.pairs["scale"] == scale]
    fol = pd.DataFrame(
        {unit: sc.loc[p["row_post"].to_numpy(), unit].to_numpy(), scale: p["post"].to_numpy()}
    ).assign(wave_order=1)
    fol = fol.merge(base.drop(columns=[scale, "wave_order"]), on=unit, how="inner")
    long = pd.concat([base, fol], ignore_index=True).rename(columns={unit: "unit"})
    return long if long["wave_order"].nunique() == 2 else None


def render(rel: Release, cfg) -> Section:
    s = Section("Data quality and methods", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, "data quality: accounting", "data quality: attrition",
                  "data quality: sensitivity")  # fmt: skip
    s.text(
        "Every input row is accounted for: used, or excluded with a reason. Identifiers were "
        "replaced by keyed pseudonyms before analysis."
    )
    show_tables(
        s, rel,
        ("input_accounting", "Input tables: rows read, used and excluded"),
        ("input_exclusions", "Rows excluded, by table and reason"),
        ("input_issues", "Problems found in the inputs"),
    )  # fmt: skip
    notes = rel.get("quality_notes")
    if notes is not None:
        s.text(
            "**Data-quality notes.** Everything the analyses flagged while reading, checking "
            "and computing (warnings are recorded here, never hidden):"
        )
        s.table(notes, "Data-quality notes: what, where, how many rows and what was done")
    else:
        s.text("**Data-quality notes.** No analysis flagged anything in these data.")
    failed = [(part, why) for part, whys in rel.failures.items() for why in whys]
    if failed:
        s.text("**Parts of the report that could not be computed** (each section says why):")
        s.text("\n".join(f"- {part}: {why}" for part, why in failed))
    h = rel.facts.get("data quality: headline")
    c = rel.get("attrition_counts")
    if h is not None and c is not None:
        r = c.frame.iloc[0]
        s.text(
            f"**Attrition ({h[0]} {h[1]}).** Of {fmt_count(r['with_baseline'])} referrals with "
            f"a baseline score, {fmt_count(r['completed'])} "
            f"({fmt_pct(r['completed'], r['with_baseline'])}) had a follow-up score."
        )
    if rel.get("attrition") is not None:
        s.table(rel.get("attrition"), "Completers against non-completers at baseline "
                "(effect size and p-value only, rounded)")  # fmt: skip
    if rel.get("sensitivity") is not None:
        s.text(
            "**Sensitivity analysis.** The change estimated from completers only is set beside "
            "estimates that use every child with a baseline score (multiple imputation by "
            "chained equations, pooled with Rubin's rules)."
        )
        s.table(rel.get("sensitivity"), "Completers against multiple imputation (rounded)")
    s.text(
        "**Limitations.** This is an uncontrolled before-and-after evaluation: children "
        "referred at a difficult time tend to improve anyway (regression to the mean), so "
        "change cannot all be credited to the service. Children without a follow-up score may "
        "differ from those with one; the sensitivity analysis shows how much that could "
        "matter. "
        + (
            "School survey waves compare different pupils unless they can be linked. "
            if cfg.site_kind == "school"
            else ""
        )
        + "Small numbers are suppressed, so some groups cannot be reported."
    )
    return s
