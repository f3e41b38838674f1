"""Outcomes: paired completion, change per measure, reliable change and the NHS metric."""

from __future__ import annotations

import pandas as pd

from ...change.outcome_metric import cyp_outcome_metric
from .. import figures
from ..labels import instrument_name, scale_label
from ..release import Release
from ..render import Section
from .common import (
    NO_SECOND_CONTACT,
    collect,
    failure_notes,
    guard,
    lacking,
    missing,
    show_tables,
)

TITLE, ANCHOR = "Outcomes", "outcomes"
RELIABLE = ["n", "reliable_improvement", "recovered", "no_reliable_change",
            "reliable_deterioration"]  # fmt: skip
METRIC = ["n_referrals", "n_paired", "n_improvement", "n_no_change", "n_deterioration"]


def release(ev, rel: Release) -> None:
    with guard(rel, "outcomes: pairing"):  # computed here, so its warnings are named so
        _ = ev.pairings
    if not ev.pairings:
        return
    h = ev.headline()
    rel.facts["outcomes: headline"] = h
    if h is not None:  # a label, not a number: is a rise an improvement?
        rel.facts["outcomes: higher is better"] = (
            ev.inputs.instruments[h[0]].scale(h[1]).higher_is_better
        )
    with guard(rel, "outcomes: completion"):
        comp, reasons = [], []
        for inst_id, pairing in ev.pairings.items():
            collect(rel, pairing, f"pairing {inst_id}")
            inst = ev.inputs.instruments[inst_id]
            main = next((sc.id for sc in inst.scales if len(sc.parts) > 1), inst.scales[0].id)
            row, why = _completion(pairing.records, inst_id, main)
            comp.append(row)
            reasons += why
        rel.counts(pd.DataFrame(comp), "paired_completion",
                   counts=["referrals", "records", "paired"],
                   within={"paired": "referrals"})  # fmt: skip
        if reasons:
            rel.counts(pd.DataFrame(reasons), "unpaired_records", counts=["records"],
                       groups="instrument")  # fmt: skip
    with guard(rel, "outcomes: change"):
        ct = ev.change_table
        if ct.empty:
            raise ValueError("no child has both a baseline and a follow-up score yet")
        dec = [ev.decimals_for(i, s) for i, s in zip(ct["instrument"], ct["scale"], strict=True)]
        rel.change(
            ct, "change_by_measure", decimals=dec, labels=["instrument", "rater", "scale"],
            adjust=ev.cfg.outcomes.adjust,
        )  # fmt: skip
    # measures whose change is reported but whose files give no reliable-change threshold
    # (RCADS-25: no NHS threshold and no T-score norms for the short form)
    rel.facts["outcomes: no reliable-change threshold"] = [
        i for i in ev.pairings
        if not any(sc.reliable_change and sc.reliable_change.threshold
                   for sc in ev.inputs.instruments[i].scales)
    ]  # fmt: skip
    with guard(rel, "outcomes: reliable change"):
        rt = ev.reliable_tables
        if not rt.empty:
            parts = ["reliable_improvement", "no_reliable_change", "reliable_deterioration"]
            ok = (rt["n"] == rt[parts].sum(axis=1)).all()
            rel.counts(rt, "reliable_change", counts=RELIABLE,
                       column_totals={"n": parts} if ok else {},
                       within={c: "n" for c in RELIABLE[1:]})  # fmt: skip
    with guard(rel, "outcomes: NHS metric"):
        # the metric counts referrals with a second contact: without its date, left out
        # (the section says why)
        if "second" in ev.contact_stages:
            m = cyp_outcome_metric(
                [ev.inputs.scores[i] for i in ev.pairings], ev.referrals,
                period_start=ev.cfg.period.start.isoformat(),
                period_end=ev.cfg.period.end.isoformat(),
            )  # fmt: skip
            f = collect(rel, m, "NHS metric").to_frame()
            t = f[["rater", *METRIC]]
            t = t[t["n_paired"] > 0] if (t["n_paired"] > 0).any() else t
            parts = ["n_improvement", "n_no_change", "n_deterioration"]
            ok = (t["n_paired"] == t[parts].sum(axis=1)).all()
            _metric(rel, t, parts if ok else None)


def _completion(records: pd.DataFrame, inst_id: str, main: str) -> tuple[dict, list[dict]]:
    """One instrument's row of paired completion on its main scale, and its unpaired records
    by reason (with their Total). The three columns read are selected before the rows: the
    rows of every column of the pairing's records cost more than the counting."""
    unit = "referral_id" if "referral_id" in records.columns else "person_id"
    at = (records["scale"] == main).to_numpy()
    status = records["status"][at]
    row = {
        "instrument": inst_id, "scale": main, "referrals": records[unit][at].nunique(),
        "records": int(at.sum()), "paired": int((status == "baseline").sum()),
    }  # fmt: skip
    unpaired = records["reason"][at][(status == "unpaired").to_numpy()].value_counts()
    reasons = [
        {"instrument": inst_id, "reason": reason, "records": int(n)}
        for reason, n in unpaired.items()
    ]
    if len(unpaired):
        reasons.append({"instrument": inst_id, "reason": "Total", "records": int(unpaired.sum())})
    return row, reasons


def _metric(rel: Release, t: pd.DataFrame, parts: list[str] | None):
    t = t.assign(prop_paired=0.0, prop_improvement=0.0, prop_no_change=0.0,
                 prop_deterioration=0.0)  # fmt: skip
    return rel.counts(
        t, "cyp_outcome_metric", counts=METRIC,
        column_totals={"n_paired": parts} if parts else {},
        within={c: "n_paired" for c in METRIC[2:]} | {"n_paired": "n_referrals"},
        percentages={
            "prop_paired": ("n_paired", "n_referrals"),
            "prop_improvement": ("n_improvement", "n_paired"),
            "prop_no_change": ("n_no_change", "n_paired"),
            "prop_deterioration": ("n_deterioration", "n_paired"),
        },
    )  # fmt: skip


def render(rel: Release, cfg) -> Section:
    if not cfg.tables.responses:
        return missing("Outcomes", ANCHOR, "no outcome measure responses are")
    s = Section("Outcomes: did children get better?", anchor=ANCHOR)
    parts = ("pairing", "completion", "change", "reliable change", "NHS metric")
    failure_notes(s, rel, TITLE, *[f"outcomes: {p}" for p in parts])
    s.text(
        "Each child's first and last score on a measure are paired (same rater). Changes are "
        "follow-up minus baseline; whether a fall is an improvement depends on the measure's "
        "direction. Means and SDs are rounded (1 decimal on the scale's unit, 2 for scales "
        "under 10 points); the confidence interval, effect size and p-values are computed from the "
        f"published mean, SD and n. p-values adjusted for multiple testing ({cfg.outcomes.adjust})."
    )
    show_tables(
        s,
        rel,
        ("paired_completion",
         "Paired-score completion by measure: referrals with a score, score records, and "
         "referrals with a baseline and a follow-up score"),
        ("unpaired_records", "Score records not paired, and why"),
        ("change_by_measure", "Change from baseline to follow-up per measure"),
        ("reliable_change",
         "Reliable change per measure (NHS England thresholds; recovered = reliably improved "
         "and moved out of the clinical range)"),
    )  # fmt: skip
    without = rel.facts.get("outcomes: no reliable-change threshold") or []
    if without:
        s.text(
            "The instrument files give no reliable-change threshold for "
            + ", ".join(dict.fromkeys(instrument_name(i) for i in without))
            + " (no published NHS threshold): their change is shown above but no child is "
            "classed as reliably changed on them, and the NHS metric leaves them out."
        )
    if rel.facts.get(NO_SECOND_CONTACT):
        s.note(
            "The NHS England CYP outcomes metric is left out: it counts closed referrals with "
            f"at least two contacts, and {lacking(rel.facts[NO_SECOND_CONTACT])}.",
            kind="warning",
        )
    if rel.get("cyp_outcome_metric") is not None:
        s.text(
            "**NHS England CYP outcomes metric.** Closed referrals with at least two contacts; "
            "a paired score is the same measure from the same rater. Measurable improvement = "
            "reliable improvement on at least one measure and reliable deterioration on none."
        )
        s.table(rel.get("cyp_outcome_metric"), "NHS CYP outcomes metric by rater")
    h = rel.facts.get("outcomes: headline")
    rc = rel.get("reliable_change")
    if h is not None and rc is not None and rc.row(instrument=h[0], scale=h[1]) is not None:
        s.figure(
            figures.reliable_counts(rc, *h),
            f"Reliable change on {instrument_name(h[0])}, {scale_label(*h)} (Jacobson-Truax "
            "categories, published counts; "
            "individual children are not plotted)",
        )
    return s
