"""Equity: for whom did it work? Referrals and change on the headline measure by group.

Every breakdown is a partition: a missing value is its own level ('not recorded') and each
group has a Total row, so secondary suppression sees every sum a reader could form (a hidden
group's n, count or sum cannot be recovered as the total minus its siblings).
"""

from __future__ import annotations

from ... import service
from ..inputs import subgroup_columns
from ..labels import column_label, scale_phrase
from ..release import Release
from ..render import Section
from .common import NOT_RECORDED, change_by_group, failure_notes, guard, show_tables
from .reach import release_referral_counts

TITLE, ANCHOR = "Equity", "equity"


def release(ev, rel: Release) -> None:
    groups = []
    if ev.referrals is not None:
        ref = ev.referrals
        groups = subgroup_columns(ref, ev.cfg.subgroups)
        for g in groups:
            with guard(rel, f"equity: referrals by {g}"):
                data = ref.assign(**{g: ref[g].astype("string").fillna(NOT_RECORDED)})
                t = service.referral_counts(
                    data, by=g, inappropriate=ev.inappropriate, as_of=ev.as_of, errors="flag"
                )
                release_referral_counts(rel, t, f"reach_by_{g}", [g])
    rel.facts["equity: referral groups"] = groups
    h = ev.headline_change
    if h is None:
        return
    with guard(rel, "equity: outcomes"):
        inst_id, scale, pairs, rc = h
        rel.facts["equity: headline"] = (inst_id, scale)
        demo = ev.inputs.scores[inst_id].drop_duplicates("person_id").set_index("person_id")
        t, _ = change_by_group(pairs, rc, demo, subgroup_columns(demo, ev.cfg.subgroups))
        if len(t):
            rel.counts(
                t, "equity_outcomes", counts=["n", "reliable_improvement"],
                means={"mean_change": ("n", ev.decimals_for(inst_id, scale))}, groups="group",
                within={"reliable_improvement": "n"}, weighted={"mean_change": "n"},
            )  # fmt: skip


def render(rel: Release, cfg) -> Section:
    s = Section("Equity: for whom did it work?", anchor=ANCHOR)
    groups = rel.facts.get("equity: referral groups", [])
    failure_notes(s, rel, TITLE, "equity: outcomes", *[f"equity: referrals by {g}" for g in groups])
    show_tables(
        s, rel, *[(f"reach_by_{g}", f"Referrals by {column_label(g).lower()}") for g in groups]
    )
    eq = rel.get("equity_outcomes")
    if eq is not None:
        inst_id, scale = rel.facts["equity: headline"]
        s.text(
            f"Change in {scale_phrase(inst_id, scale)} and reliable improvement, by group (children with no "
            "value recorded are a group of their own). Groups are small: differences between "
            "them are descriptive, not tests."
        )
        s.table(eq, f"Change in {scale_phrase(inst_id, scale)} and reliable improvement, by group")
    if not groups and eq is None:
        s.note("Left out: no subgroup columns were found in the data.")
    return s
