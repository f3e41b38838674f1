"""The executive summary: sentences written only from released values (no analysis here)."""

from __future__ import annotations

import pandas as pd

from ..labels import scale_phrase
from ..release import Release, fmt_count, fmt_pct, fmt_stat, is_hidden
from ..render import Section

TITLE, ANCHOR = "Executive summary", "executive-summary"


def _num_sum(col: pd.Series) -> float:
    """Sum of the released numbers of a column (hidden cells left out)."""
    return float(sum(float(v) for v in col if not is_hidden(v)))


#: who filled in a measure, as a reader says it
RATERS = {"self": "children's own", "parent": "parents'", "clinician": "clinicians'",
          "teacher": "teachers'"}  # fmt: skip


def _outcome_sentence(r: dict, what: str, higher_is_better: object) -> str:
    """The headline change in words: its size and CI as released (signed, so that every
    number is a published one), which way is better, and whether the CI rules out no change.

    Example:
        >>> _outcome_sentence({"n": 190, "mean_diff": -1.8, "ci_low": -2.2, "ci_high": -1.4},
        ...                   "emotional problems (SDQ)", False)  # doctest: +NORMALIZE_WHITESPACE
        '- **Outcomes:** the 190 children with emotional problems (SDQ) scores at the start and
        at follow-up changed by -1.8 points on average (95% CI -2.2 to -1.4); lower scores are
        better, so this is an improvement.'
    """
    text = (
        f"- **Outcomes:** the {fmt_count(r['n'])} children with {what} scores at the start and "
        f"at follow-up changed by {fmt_stat(r['mean_diff'], sign=True)} points on average "
        f"(95% CI {fmt_stat(r['ci_low'], sign=True)} to {fmt_stat(r['ci_high'], sign=True)})"
    )
    if higher_is_better is None or is_hidden(r["mean_diff"]) or float(r["mean_diff"]) == 0:
        return text + "."
    up = float(r["mean_diff"]) > 0
    text += f"; {'higher' if higher_is_better else 'lower'} scores are better, so this is "
    text += "an improvement" if up == bool(higher_is_better) else "a worsening"
    ends = [r["ci_low"], r["ci_high"]]
    if not any(is_hidden(v) for v in ends) and float(ends[0]) < 0 < float(ends[1]):
        text += ", but the range includes no change, so the direction is not yet clear"
    return text + "."


def _survey_sentence(p: dict) -> str:
    """The school survey's primary comparison in words (a difference in prevalence, in
    percentage points, or a ratio), from the released estimate and CI, signed as released.

    Example:
        >>> _survey_sentence({"comparison": "baseline to 12m", "unit": "percentage points",
        ...     "estimand": "difference in differences (difference in prevalence: programme - "
        ...     "comparison)", "estimate": -4.9, "ci_low": -7.5, "ci_high": -2.4})
        ... # doctest: +NORMALIZE_WHITESPACE
        '- **School population (baseline to 12m):** relative to comparison schools, the share
        of pupils with probable difficulties in programme schools changed by -4.9 percentage
        points (a fall; 95% CI -7.5 to -2.4).'
    """
    lead = f"- **School population ({p['comparison']}):** "
    est, lo, hi = (float(p[k]) for k in ("estimate", "ci_low", "ci_high"))
    ci = f"95% CI {fmt_stat(lo, 1, sign=True)} to {fmt_stat(hi, 1, sign=True)}"
    if p["unit"] != "percentage points":
        return f"{lead}{p['estimand']}: {fmt_stat(est, 2)} ({ci})."
    where = "the share of pupils with probable difficulties"
    if "differences" in str(p["estimand"]):  # programme against comparison schools
        where = f"relative to comparison schools, {where} in programme schools"
    word = "a fall" if est < 0 else "a rise" if est > 0 else "no change"
    text = f"{lead}{where} changed by {fmt_stat(est, 1, sign=True)} percentage points ({word}; {ci}"
    if lo < 0 < hi:
        text += "; the range includes no change, so the direction is not yet clear"
    return text + ")."


def _before_after(rel: Release) -> list[str]:
    """The service against the time before the programme (``service.pre_period``), in words,
    from the released before-and-after tables; nothing without them."""
    out = []
    b = rel.get("before_after_inappropriate")
    r = b.frame.iloc[0] if b is not None else None
    if r is not None and not (is_hidden(r["before"]) or is_hidden(r["after"])):
        diff = r["difference"]
        what = ("" if is_hidden(diff) else
                f" ({fmt_stat(diff, 1, sign=True)} percentage points, 95% CI "
                f"{fmt_stat(r['difference_ci_low'], 1, sign=True)} to "
                f"{fmt_stat(r['difference_ci_high'], 1, sign=True)})")  # fmt: skip
        out.append(
            f"- **Before and after:** inappropriate referrals were {fmt_stat(r['before'], 0)}% "
            f"of those decided before the programme and {fmt_stat(r['after'], 0)}% during "
            f"it{what}."
        )
    w, c = rel.get("before_after_waits"), rel.get("before_after_waits_change")
    if w is not None and c is not None:
        m = w.frame.set_index("period")["median_days"]
        d = c.row(measure="median wait to first contact (days)")
        if d is not None and not is_hidden(d["difference"]):
            out.append(
                f"- **Waits before and after:** half of the children had a first contact "
                f"within {fmt_stat(m['before'], 0)} days before the programme and "
                f"{fmt_stat(m['after'], 0)} days during it (a change of "
                f"{fmt_stat(d['difference'], 0, sign=True)} days, 95% CI "
                f"{fmt_stat(d['ci_low'], 0, sign=True)} to "
                f"{fmt_stat(d['ci_high'], 0, sign=True)})."
            )
    return out


def render(rel: Release, cfg) -> Section:
    s = Section(TITLE, anchor=ANCHOR)
    s.text(
        f"This report evaluates **{cfg.programme}** from {cfg.period.start:%d %B %Y} to "
        f"{cfg.period.end:%d %B %Y} (data extracted {cfg.extract_date:%d %B %Y}). Figures are "
        "rounded and small numbers suppressed (shown as `*`) to protect the children and "
        "families in them."
        + (
            " Counts follow NHS England's MHSDS rule: every count from 0 to 4, zero included, "
            "is shown as `*` and the others are rounded to the nearest 5."
            if cfg.disclosure.rule == "mhsds"
            else ""
        )
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
            f"- **Access:** half of the children had a first contact within "
            f"{fmt_stat(f['median_days'], 0)} days of referral (the median wait), and {share} "
            f"within {cfg.service.standard_days} days; children still waiting are counted."
        )
    bullets += _before_after(rel)
    ch = rel.get("change_by_measure")
    h = rel.facts.get("outcomes: headline")
    if ch is not None and h is not None:
        r = ch.row(instrument=h[0], scale=h[1])
        what = scale_phrase(h[0], h[1])
        if r is not None and is_hidden(r["n"]):
            bullets.append(f"- **Outcomes:** too few children had {what} scores at the start "
                           "and at follow-up to report a change.")  # fmt: skip
        elif r is not None:
            bullets.append(_outcome_sentence(r, what, rel.facts.get("outcomes: higher is better")))
    m = rel.get("cyp_outcome_metric")
    if m is not None:
        parts = [
            f"on {RATERS.get(r['rater'], str(r['rater']) + '-rated')} measures "
            f"{fmt_pct(r['n_improvement'], r['n_paired'])} improved measurably and "
            f"{fmt_pct(r['n_deterioration'], r['n_paired'])} got measurably worse (of "
            f"{fmt_count(r['n_paired'])} closed referrals with scores at the start and end)"
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
                f"- **Workforce confidence:** programme staff who answered the survey at both "
                f"times ({r['comparison']}) rated their confidence "
                f"{fmt_stat(r['mean_baseline'], 2)} out of 5 at first and "
                f"{fmt_stat(r['mean_followup'], 2)} later (a change of "
                f"{fmt_stat(r['mean_change'], 2, sign=True)}, 95% CI "
                f"{fmt_stat(r['ci_low'], 2, sign=True)} to {fmt_stat(r['ci_high'], 2, sign=True)})"
            )
            did = rel.get("staff_difference_in_change")
            d = did.row(comparison=r["comparison"]) if did is not None else None
            if d is not None and not is_hidden(d["difference"]):
                text += (
                    f"; that is {fmt_stat(d['difference'], 2, sign=True)} more than the change "
                    f"among staff in comparison schools (95% CI "
                    f"{fmt_stat(d['ci_low'], 2, sign=True)} to "
                    f"{fmt_stat(d['ci_high'], 2, sign=True)})"
                )
            bullets.append(text + ".")
    sv = rel.get("survey_comparison")
    if sv is not None:
        f = sv.frame
        for p in f[f["primary"] == "yes"].to_dict("records"):
            if is_hidden(p["estimate"]):
                continue
            bullets.append(_survey_sentence(p))
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
