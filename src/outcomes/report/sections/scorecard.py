"""The scorecard: each success measure the programme declared (``targets`` in the config)
against its target, with a status by one stated rule, a plain sentence each, key findings
and a glossary. Every number comes from the release: values released here (the share seen
within the standard, the inappropriate rate in two periods) go through the count rule
first, and the rest are read from tables other sections released."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import scale_phrase
from ..release import MARKER, NOT_APPLICABLE, Release, is_hidden, wilson
from ..render import Section
from .common import guard

TITLE, ANCHOR = "Success measures", "success-measures"
MET, NOT_MET, UNCLEAR = "met", "not met", "not yet clear"

RULE = (
    "A measure is **met** when its whole 95% confidence interval lies on the target's side "
    "(at or beyond the target), **not met** when the whole interval lies on the other side, "
    "and **not yet clear** when the interval includes the target or the numbers are too few "
    "to publish."
)

#: every technical term the scorecard and the report's sections use, in plain words
GLOSSARY = {
    "95% confidence interval (CI)": "the range of values the true figure probably lies in, "
    "given how many people the figure rests on; a wide range means few people",
    "percentage points": "the difference between two percentages: from 20% to 15% is a fall "
    "of 5 percentage points",
    "mean": "the average",
    "median wait": "half of the children waited less than this, half longer",
    "percentile and quartile": "the value below which a given share of children fall: the "
    "lower quartile (25th percentile) a quarter, the 90th percentile nine in ten",
    "Kaplan-Meier": "a way to measure waits that counts children still waiting on the day the "
    "data were taken, instead of leaving them out",
    "censored": "a child still waiting (or discharged unseen): all that is known is that the "
    "wait was at least this long, and Kaplan-Meier uses exactly that",
    "bootstrap": "working a figure out again on many resamples of the children to see how "
    "much it could vary; it gives the CI of the change in the median wait",
    "Wilson and Newcombe intervals": "standard ways to compute the CI of a rate (Wilson) and "
    "of the difference between two rates (Newcombe)",
    "inappropriate referral": "a referral the service did not accept for one of the reasons "
    "the programme counts as inappropriate (listed in the appendix)",
    "baseline and follow-up": "the first measurement (at the start, or before the programme) "
    "and a later one",
    "wave": "one round of a survey or of measurement, such as the baseline wave",
    "cohort": "a group followed over time: the programme's schools or children, or the "
    "comparison group",
    "rater": "who filled in a measure: the child or young person, a parent or carer, or a "
    "clinician",
    "paired scores": "the same child's scores at the start and at follow-up",
    "effect size": "the average change divided by how much change varied between children "
    "(Cohen's d for paired scores); about 0.2 is small, 0.5 medium, 0.8 large",
    "Cohen's d and Cramér's V": "sizes of a difference between groups, for scores (Cohen's d) "
    "and for categories (Cramér's V); near 0 means little difference",
    "standard deviation (SD)": "how spread out values are around their mean",
    "standard error (SE)": "how precise an estimate is; a 95% CI is about two standard errors "
    "either side of it",
    "reliable change": "a change in a child's score larger than the measure's own error, so "
    "unlikely to be chance alone",
    "NHS CYP outcomes metric": "NHS England's measure of children and young people's outcomes: "
    "the share of closed referrals whose scores show measurable improvement or deterioration "
    "between the first and last measurement",
    "prevalence": "the share of pupils with a given level of difficulties at one time",
    "difference in differences": "how much more (or less) something changed in the "
    "programme's schools than in comparison schools over the same time, which allows for "
    "changes that happened everywhere",
    "cluster-adjusted": "allowing for pupils in the same school being more alike than pupils "
    "in different schools, which widens the CI",
    "weighted": "adjusted so that respondents count in proportion to the pupils on the school "
    "rolls",
    "odds ratio": "how many times greater the odds of something are in one group than in "
    "another; 1 means no difference",
    "p-value": "the chance of a difference at least this large if there were really none; "
    "below 0.05 is the usual sign that a difference is not chance",
    "GEE (generalised estimating equations)": "a regression that allows for pupils in the "
    "same school being more alike than pupils in different schools",
    "regression": "a statistical model relating an outcome to several factors at once",
    "imputation": "filling in missing scores by a stated rule so that people with some missing "
    "answers are not dropped; the report says where it was used",
    "missing at random": "the assumption that whether a score is missing depends only on "
    "things that were recorded",
    "sensitivity analysis": "repeating a calculation under different assumptions to see "
    "whether the conclusion changes",
    "suppressed (*)": "a number left out because it is small enough to identify someone, or "
    "because it would let a reader work out such a number",
    "special cause variation": "a change on a monitoring chart larger or longer than normal "
    "month-to-month variation would produce (NHS 'Making Data Count' rules)",
    "common cause variation": "month-to-month ups and downs within the usual range",
    "XmR chart and p-chart": "monitoring charts of a monthly figure with its mean and the "
    "limits normal variation stays within: XmR for counts and waits, p-chart for rates",
    "assurance": "whether a process can be relied on to meet its target, judged from where "
    "the target lies against the chart's limits",
    "funnel plot": "each school's (or site's) rate against its number of referrals; those "
    "outside the funnel's limits (from the exact binomial distribution) differ from the "
    "overall rate by more than chance would explain",
    "SDQ": "the Strengths and Difficulties Questionnaire, a widely used measure of children's "
    "emotional and behavioural difficulties",
    "HoNOSCA": "the Health of the Nation Outcome Scales for Children and Adolescents, rated by "
    "clinicians",
    "RCADS": "the Revised Children's Anxiety and Depression Scale",
    "PHQ-9 and GAD-7": "short questionnaires about depression (PHQ-9) and anxiety (GAD-7) "
    "symptoms for older young people",
    "SWEMWBS": "the Short Warwick-Edinburgh Mental Wellbeing Scale, used in the school survey",
    "GBO": "Goal-Based Outcomes: progress towards goals the child or family chose",
    "CHI-ESQ": "the Experience of Service Questionnaire: what children and parents thought of "
    "the help they had",
}


def status(low: object, high: object, target: float, *, higher_is_better: bool) -> str:
    """The scorecard status of an estimate's 95% CI against a target (the rule in ``RULE``).

    Example:
        >>> status(0.72, 0.81, 0.70, higher_is_better=True)
        'met'
        >>> status(0.12, 0.18, 0.20, higher_is_better=False), status("*", "*", 1, higher_is_better=True)
        ('met', 'not yet clear')
    """
    if is_hidden(low) or is_hidden(high):
        return UNCLEAR
    lo, hi = float(low), float(high)
    if higher_is_better:
        return MET if lo >= target else NOT_MET if hi < target else UNCLEAR
    return MET if hi <= target else NOT_MET if lo > target else UNCLEAR


def _outward(x: float, step: float = 0.05, up: bool = False) -> float:
    """Round to ``step`` away from the estimate (a coarsened CI never looks narrower)."""
    return float((np.ceil if up else np.floor)(round(x / step, 9)) * step)


def _period_mask(dates: pd.Series, start, end) -> np.ndarray:
    d = pd.to_datetime(dates)
    return ((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy()


def inappropriate_periods(ev, baseline) -> pd.DataFrame:
    """Decided and inappropriate referrals in the baseline period and after it (within the
    programme period), by :func:`outcomes.service.compare_inappropriate`; one row each."""
    from ... import service

    ref = ev.all_referrals
    after = max(
        pd.Timestamp(ev.cfg.period.start), pd.Timestamp(baseline.end) + pd.Timedelta(days=1)
    )
    keep = _period_mask(ref["referral_date"], baseline.start, baseline.end) | _period_mask(
        ref["referral_date"], after, ev.cfg.period.end
    )
    r = service.compare_inappropriate(
        ref[keep], change_date=after.date().isoformat(), inappropriate=ev.inappropriate,
        as_of=ev.as_of, errors="flag",
    ).to_frame().iloc[0]  # fmt: skip
    return pd.DataFrame({
        "period": ["baseline", "now"],
        "decided": [int(r["n_before"]), int(r["n_after"])],
        "inappropriate": [int(r["inappropriate_before"]), int(r["inappropriate_after"])],
    })  # fmt: skip


def month_links(rel: Release, baseline, start) -> list:
    """The two periods as sums of the published months (:meth:`Release.counts_linked`), when
    the baseline is whole months of the programme period: the baseline is its months, now
    the months after it, and the two together the Total. An intruder could otherwise take
    the shown months of a period from the period's count (a hidden month = baseline - the
    others)."""
    m = rel.get("monthly_activity")
    b0, b1 = pd.Timestamp(baseline.start), pd.Timestamp(baseline.end)
    if m is None or not (b0.is_month_start and b1.is_month_end) or b0 < pd.Timestamp(start):
        return []
    period = m.frame["period"].astype(str)
    base = set(pd.period_range(b0, b1, freq="M").astype(str))
    last = str(b1.to_period("M"))
    months = [(i, p) for i, p in enumerate(period) if p != "Total"]
    total = [i for i, p in enumerate(period) if p == "Total"]
    links = [
        ([0], m, [i for i, p in months if p in base]),
        ([1], m, [i for i, p in months if p > last]),
    ]
    return links + ([([0, 1], m, total)] if total else [])


def release(ev, rel: Release) -> None:
    t = ev.cfg.targets
    rows: list[dict] = []
    pct = 100.0
    if t.seen_within_standard is not None:
        with guard(rel, "success: seen within the standard"):
            w = ev.waits.to_frame()
            r = w[w["stage"] == "first"].iloc[0]
            one = pd.DataFrame([{
                "n_seen": int(r["n_seen"]),
                "within": round(float(r["within_standard"]) * 20) / 20,
                "low": _outward(float(r["within_standard_ci_low"])),
                "high": _outward(float(r["within_standard_ci_high"]), up=True),
            }])  # fmt: skip
            # hidden as in the waits table where the share gives back a small number
            if rel.few_behind(r["within_standard"], r["n"], r["n_seen"]):
                one = one.astype({"within": object, "low": object, "high": object})
                one.loc[0, ["within", "low", "high"]] = MARKER
            # the same number seen as in the waits table: hidden there (by its secondary
            # suppression), it must be hidden here too, or n - seen gives the few waiting
            overall = rel.get("waits_overall")
            at = [] if overall is None else [
                i for i, v in enumerate(overall.frame["stage"]) if v == "first"
            ]  # fmt: skip
            pub = rel.counts_linked(
                one, "success_waits", counts=["n_seen"],
                means={c: ("n_seen", 2) for c in ("within", "low", "high")},
                links=[([0], overall, at)] if at else [],
            ).frame.iloc[0]  # fmt: skip
            before = rel.get("before_after_waits")
            b = before.row(period="before", stage="first") if before is not None else None
            rows.append({
                "measure": f"Seen within {ev.cfg.service.standard_days} days (%)",
                "target": pct * t.seen_within_standard.share,
                "baseline": _scaled(b["within_standard"]) if b else NOT_APPLICABLE,
                "now": _scaled(pub["within"]), "ci_low": _scaled(pub["low"]),
                "ci_high": _scaled(pub["high"]), "higher_is_better": True,
            })  # fmt: skip
    if t.inappropriate_rate is not None:
        with guard(rel, "success: inappropriate rate"):
            base = t.inappropriate_rate.baseline or ev.cfg.service.pre_period
            counts = rel.counts_linked(
                inappropriate_periods(ev, base), "success_inappropriate",
                counts=["decided", "inappropriate"], within={"inappropriate": "decided"},
                links=month_links(rel, base, ev.cfg.period.start),
            ).frame.set_index("period")  # fmt: skip
            lo, hi = wilson(counts["inappropriate"], counts["decided"])
            rate = [
                MARKER if is_hidden(k) or is_hidden(n) or not n else round(pct * k / n, 1)
                for k, n in zip(counts["inappropriate"], counts["decided"], strict=True)
            ]
            b_rate, now_rate = rate
            target = (
                MARKER if is_hidden(b_rate)
                else round(b_rate * (1 - t.inappropriate_rate.reduction), 1)
            )  # fmt: skip
            rows.append({
                "measure": "Inappropriate referrals (% of decided)", "target": target,
                "baseline": b_rate, "now": now_rate,
                "ci_low": _scaled(lo[1], 1), "ci_high": _scaled(hi[1], 1),
                "higher_is_better": False,
            })  # fmt: skip
    if t.staff_confidence_change is not None:
        sc = rel.get("staff_change")
        r = sc.row(cohort="programme") if sc is not None else None
        if r is None:
            # (a target without the staff survey in the config is refused by the input checks)
            rel.fail("success: staff confidence", "no released staff confidence change")
        else:
            rows.append({
                "measure": f"Staff confidence, change on the 1-5 scale ({r['comparison']})",
                "target": t.staff_confidence_change.change, "baseline": r["mean_baseline"],
                "now": r["mean_followup"], "estimate": r["mean_change"],
                "ci_low": r["ci_low"], "ci_high": r["ci_high"], "higher_is_better": True,
            })  # fmt: skip
    if t.outcome_improvement is not None:
        with guard(rel, "success: outcome improvement"):
            rows.append(_outcome_row(ev, rel, t.outcome_improvement))
    if t.experience is not None:
        e = rel.get("esq_items")
        if e is None:
            # (a target without a CHI-ESQ table in the config is refused by the input checks)
            rel.fail("success: experience", "no released CHI-ESQ answers")
        else:
            f = e.frame
            k = sum(float(v) for v in f["certainly_true"] if not is_hidden(v))
            n = sum(float(v) for v, c in zip(f["n"], f["certainly_true"], strict=True)
                    if not is_hidden(v) and not is_hidden(c))  # fmt: skip
            lo, hi = wilson([k], [n])
            rows.append({
                "measure": "CHI-ESQ answers 'Certainly true' (%)",
                "target": pct * t.experience.share, "baseline": NOT_APPLICABLE,
                "now": round(pct * k / n, 1) if n else MARKER,
                "ci_low": _scaled(lo[0], 1), "ci_high": _scaled(hi[0], 1),
                "higher_is_better": True,
            })  # fmt: skip
    if not rows:
        return
    # the estimate the target applies to: the change where the target is a change, else now
    for r in rows:
        r.setdefault("estimate", r["now"])
    table = pd.DataFrame(rows)
    table["status"] = [
        status(r["ci_low"], r["ci_high"], r["target"], higher_is_better=r["higher_is_better"])
        if not is_hidden(r["target"]) else UNCLEAR
        for r in table.to_dict("records")
    ]  # fmt: skip
    table["better"] = np.where(table["higher_is_better"], "higher", "lower")
    cols = ["measure", "target", "baseline", "now", "estimate", "ci_low", "ci_high", "better",
            "status"]  # fmt: skip
    rel.derived(table[cols], "scorecard")


def _scaled(v: object, decimals: int = 0) -> object:
    """A released share (0-1) as a percentage; hidden stays hidden."""
    if is_hidden(v):
        return v if isinstance(v, str) else NOT_APPLICABLE
    return round(100 * float(v), decimals) + 0.0


def _outcome_row(ev, rel: Release, target) -> dict:
    measure = target.measure or ev.cfg.outcomes.headline
    inst, _, scale = measure.partition(".")
    ch = rel.get("change_by_measure")
    r = ch.row(instrument=inst, scale=scale) if ch is not None else None
    if r is None:
        # the input checks refused a measure that is not a measure of change of the
        # responses (checks.change_measures): this one is, but no change was released
        raise ValueError(
            f"no change on {measure} was released: "
            + ("the outcomes' change analysis could not be computed" if ch is None
               else "no child has both a baseline and a follow-up score on it")
        )  # fmt: skip
    up = ev.inputs.instruments[inst].scale(scale).higher_is_better
    sign = 1.0 if up else -1.0

    def flip(v: object) -> object:
        return v if is_hidden(v) else sign * float(v) + 0.0

    lo, hi = flip(r["ci_low"]), flip(r["ci_high"])
    if not up:
        lo, hi = hi, lo
    return {
        "measure": f"Improvement in {scale_phrase(inst, scale)} (points; {r['rater']}-rated, "
        "same children before and after)",
        "target": target.change,
        "baseline": r["mean_pre"],
        "now": r["mean_post"],
        "estimate": flip(r["mean_diff"]),
        "ci_low": lo,
        "ci_high": hi,
        "higher_is_better": True,
    }


def _fmt(v: object) -> str:
    if isinstance(v, str):
        return v
    if v is None or not np.isfinite(float(v)):
        return NOT_APPLICABLE
    return f"{float(v):g}"


def sentence(row: dict) -> str:
    """One plain sentence for a scorecard row, from its released values only.

    Example:
        >>> sentence({"measure": "Seen within 28 days (%)", "target": 75.0, "estimate": 80.0,
        ...           "ci_low": 77.0, "ci_high": 83.0, "better": "higher", "status": "met"})
        'Seen within 28 days (%): 80 (95% CI 77 to 83) against a target of 75 or higher: met.'
    """
    return (
        f"{row['measure']}: {_fmt(row['estimate'])} (95% CI {_fmt(row['ci_low'])} to "
        f"{_fmt(row['ci_high'])}) against a target of {_fmt(row['target'])} or "
        f"{row['better']}: {row['status']}."
    )


def render(rel: Release, cfg) -> Section:
    s = Section(TITLE, anchor=ANCHOR)
    card = rel.get("scorecard")
    declared = [k for k, v in cfg.targets if v is not None]
    if not declared:
        s.note("No success measures are declared in the config (`targets`), so there is no "
               "scorecard; docs/report.md says how to declare them.")  # fmt: skip
    for part in [p for p in rel.failures if p.startswith("success:")]:
        for why in rel.failures[part]:
            s.note(f"Could not be computed ({part}): {why}", kind="warning")
    if card is not None:
        s.text(
            "What the programme set out to achieve, and where it stands. " + RULE + " "
            "'Baseline' is the value before the programme (or in the baseline period); 'now' "
            "the value in the evaluation period; 'estimate' the figure the target applies to."
        )
        s.table(card, "Scorecard: success measures against their targets")
        s.text("\n".join(f"- {sentence(r)}" for r in card.frame.to_dict("records")))
        findings = _findings(card.frame)
        if findings:
            s.text("**Key findings.**\n\n" + "\n".join(f"- {f}" for f in findings))
    s.text(
        "**Glossary.**\n\n"
        + "\n".join(f"- **{term}**: {meaning}." for term, meaning in GLOSSARY.items())
    )
    return s


def _findings(card: pd.DataFrame) -> list[str]:
    """Key findings in plain English: what was met, what was not, what is not yet clear."""
    out = []
    for st_, words in ((MET, "Targets met"), (NOT_MET, "Targets not met"),
                       (UNCLEAR, "Not yet clear")):  # fmt: skip
        names = card.loc[card["status"] == st_, "measure"].tolist()
        if names:
            out.append(f"{words}: " + "; ".join(n.split(" (")[0] for n in names) + ".")
    return out
