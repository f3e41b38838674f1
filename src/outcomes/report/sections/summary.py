"""The executive summary: sentences written only from released values (no analysis here)."""

from __future__ import annotations

import pandas as pd

from ..release import Release, fmt_count, fmt_pct, fmt_stat, is_hidden
from ..render import Section

TITLE, ANCHOR = "Executive summary", "executive-summary"


def _num_sum(col: pd.Series) -> float:
    """Sum of the released numbers of a column (hidden cells left out)."""
    return float(sum(float(v) for v in col if not is_hidden(v)))


def render(rel: Release, cfg) -> Section:
    s = Section(TITLE, anchor=ANCHOR)
    s.text(
        f"This report evaluates **{cfg.programme}** from {cfg.period.start:%d %B %Y} to "
        f"{cfg.period.end:%d %B %Y} (data extracted {cfg.extract_date:%d %B %Y}). Figures are "
        "rounded and small numbers suppressed (shown as `*`) to protect the children and "
        "families in them."
    )
    bullets = []
    o = rel.get("reach_overall")
    if o is not None:
        r = o.frame.iloc[-1]
        bullets.append(
            f"- **Reach:** {fmt_count(r['received'])} referrals received, "
            f"{fmt_count(r['accepted'])} accepted ({fmt_pct(r['accepted'], r['decided'])} of "
            "those decided)."
        )
    w = rel.get("waits_overall")
    f = w.row(stage="first") if w is not None else None
    if f is not None and not is_hidden(f["median_days"]):
        within = f["within_standard"]
        share = "*" if is_hidden(within) else f"about {100 * float(within):.0f}%"
        bullets.append(
            f"- **Access:** median wait from referral to first contact "
            f"{fmt_stat(f['median_days'], 0)} days; {share} seen within "
            f"{cfg.service.standard_days} days (Kaplan-Meier estimate, counting children "
            "still waiting)."
        )
    ch = rel.get("change_by_measure")
    h = rel.facts.get("outcomes: headline")
    if ch is not None and h is not None:
        r = ch.row(instrument=h[0], scale=h[1])
        if r is not None and is_hidden(r["n"]):
            bullets.append(f"- **Outcomes:** on {h[0]} {h[1]}, too few children with paired "
                           "scores to report.")  # fmt: skip
        elif r is not None:
            better = rel.facts.get("outcomes: higher is better")
            direction = ""
            if better is not None and not is_hidden(r["mean_diff"]) and r["mean_diff"] != 0:
                up = float(r["mean_diff"]) > 0
                direction = ", an improvement" if up == bool(better) else ", a worsening"
            bullets.append(
                f"- **Outcomes:** on {h[0]} {h[1]}, children with paired scores (n = "
                f"{fmt_count(r['n'])}) changed by {fmt_stat(r['mean_diff'], sign=True)} points "
                f"on average{direction} (95% CI {fmt_stat(r['ci_low'], sign=True)} to "
                f"{fmt_stat(r['ci_high'], sign=True)}; d_z = {fmt_stat(r['d_z'], 2)})."
            )
    m = rel.get("cyp_outcome_metric")
    if m is not None:
        parts = [
            f"{r['rater']}-rated measures: {fmt_pct(r['n_improvement'], r['n_paired'])} "
            f"measurable improvement, {fmt_pct(r['n_deterioration'], r['n_paired'])} "
            f"deterioration (of {fmt_count(r['n_paired'])} closed referrals with a paired score)"
            for r in m.frame.to_dict("records")
            if r["rater"] != "any"
        ]
        if parts:
            bullets.append("- **NHS CYP outcomes metric:** " + "; ".join(parts) + ".")
    e = rel.get("esq_items")
    if e is not None:
        t = e.frame
        bullets.append(
            f"- **Experience:** {fmt_pct(_num_sum(t['certainly_true']), _num_sum(t['n']))} of "
            "the published CHI-ESQ answers were 'Certainly true' (all items and versions)."
        )
    sc = rel.get("staff_change")
    if sc is not None:
        r = sc.row(cohort="programme")
        if r is not None and not is_hidden(r["n"]):
            text = (
                f"- **Workforce confidence:** programme staff answering at both waves "
                f"({r['comparison']}) moved from {fmt_stat(r['mean_baseline'], 2)} to "
                f"{fmt_stat(r['mean_followup'], 2)} on the 1-5 scale (change "
                f"{fmt_stat(r['mean_change'], 2, sign=True)}, 95% CI "
                f"{fmt_stat(r['ci_low'], 2, sign=True)} to {fmt_stat(r['ci_high'], 2, sign=True)})"
            )
            did = rel.get("staff_difference_in_change")
            d = did.row(comparison=r["comparison"]) if did is not None else None
            if d is not None and not is_hidden(d["difference"]):
                text += (
                    f"; {fmt_stat(d['difference'], 2, sign=True)} more than staff in "
                    f"comparison schools (95% CI {fmt_stat(d['ci_low'], 2, sign=True)} to "
                    f"{fmt_stat(d['ci_high'], 2, sign=True)})"
                )
            bullets.append(text + ".")
    sv = rel.get("survey_comparison")
    if sv is not None:
        f = sv.frame
        for p in f[f["primary"] == "yes"].to_dict("records"):
            if is_hidden(p["estimate"]):
                continue
            unit = " percentage points" if p["unit"] == "percentage points" else ""
            bullets.append(
                f"- **School population ({p['comparison']}):** {p['estimand']}: "
                f"{fmt_stat(p['estimate'], 1, sign=True)}{unit} (95% CI "
                f"{fmt_stat(p['ci_low'], 1, sign=True)} to {fmt_stat(p['ci_high'], 1, sign=True)})."
            )
    if bullets:
        s.text("\n".join(bullets))
    if rel.failures:
        s.note(
            "Some parts of the report could not be computed; each section says why, and the "
            "data-quality section lists them.",
            kind="warning",
        )
    if not rel.enabled:
        s.note(
            "Disclosure control was switched off in the config: this report shows exact small "
            "numbers and must not be published.",
            kind="warning",
        )
    return s
