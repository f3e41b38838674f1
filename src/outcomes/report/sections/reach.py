"""Reach: referrals received, accepted and not accepted, children seen."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ... import service
from ..release import Release, fmt_count, fmt_pct
from ..render import Section
from .common import (
    NO_SECOND_CONTACT,
    NOT_RECORDED,
    failure_notes,
    guard,
    lacking,
    missing,
    show_tables,
)

TITLE, ANCHOR = "Reach", "reach"

#: roles of a service.referral_counts table: received = decided + pending and
#: decided = accepted + not_accepted are equations an intruder can use, so they are stated
REFERRAL_ROLES = dict(
    counts=["received", "decided", "accepted", "not_accepted", "pending", "inappropriate"],
    percentages={
        "acceptance_rate": ("accepted", "decided"),
        "inappropriate_rate": ("inappropriate", "decided"),
    },
)
_REFERRAL_COLUMNS = [*REFERRAL_ROLES["counts"], *REFERRAL_ROLES["percentages"]]


def release_referral_counts(
    rel: Release, table: pd.DataFrame, name: str, by: list[str], links: Sequence = ()
):
    """Release a referral_counts table with the equations that hold in every row (and
    ``links`` to rows published elsewhere that its rows add up with, see
    :meth:`Release.counts_linked`)."""
    t = table[[*by, *_REFERRAL_COLUMNS]]
    totals = {}
    if (t["received"] == t["decided"] + t["pending"]).all():
        totals["received"] = ["decided", "pending"]
    if (t["decided"] == t["accepted"] + t["not_accepted"]).all():
        totals["decided"] = ["accepted", "not_accepted"]
    within = {c: "received" for c in REFERRAL_ROLES["counts"][1:]}
    return rel.counts_linked(
        t, name, column_totals=totals, within=within, totals=bool(by), links=links,
        **REFERRAL_ROLES,
    )  # fmt: skip


def reasons_table(reasons: pd.DataFrame) -> pd.DataFrame:
    """Reasons grouped as inappropriate or other, each group with its Total and a grand
    Total (= not accepted): every sum a reader could form is stated for secondary suppression."""
    r = reasons.assign(kind=reasons["inappropriate"].map({True: "inappropriate", False: "other"}))
    rows = []
    for kind, g in r.groupby("kind", sort=True):
        rows += [
            {"kind": kind, "reason": x, "n": int(n)}
            for x, n in zip(g["reason"], g["n"], strict=True)
        ]
        rows.append({"kind": kind, "reason": "Total", "n": int(g["n"].sum())})
    rows.append({"kind": "Total", "reason": "Total", "n": int(r["n"].sum())})
    return pd.DataFrame(rows)


def release(ev, rel: Release) -> None:
    ref = ev.referrals
    if ref is None:
        return
    kw = {"as_of": ev.as_of, "errors": "flag"}
    inap = {"inappropriate": ev.inappropriate}
    site, word = ev.cfg.site_column, ev.cfg.site_word  # school_id, or site_id of any other kind
    with guard(rel, "reach: referrals"):
        release_referral_counts(
            rel, service.referral_counts(ref, **inap, **kw), "reach_overall", []
        )
        by_site = service.referral_counts(ref, by=site, **inap, **kw)
        release_referral_counts(rel, by_site, f"reach_by_{word}", [site])
        if "source" in ref.columns:
            src = ref.assign(source=ref["source"].fillna(NOT_RECORDED))
            t = service.referral_counts(src, by="source", **inap, **kw)
            release_referral_counts(rel, t, "reach_by_source", ["source"])
    with guard(rel, "reach: children seen"):
        seen = service.children_seen(ref, by=site, **kw)
        # children seen twice: left out where no second contact can be known (render says so)
        cols = [c for c in ("referrals", "children_referred", "children_seen_1plus",
                            "children_seen_2plus") if c in seen.columns]  # fmt: skip
        rel.counts(
            seen[[site, *cols]], f"children_seen_by_{word}", counts=cols, totals=True,
            within={c: "children_referred" for c in cols[2:]},
        )  # fmt: skip
    with guard(rel, "reach: reasons"):
        reasons = service.not_accepted_reasons(ref, **inap, **kw)
        if len(reasons):
            rel.counts(reasons_table(reasons), "not_accepted_reasons", counts=["n"], groups="kind")


def render(rel: Release, cfg) -> Section:
    if cfg.tables.referrals is None:
        return missing("Reach", ANCHOR, "the referrals table is")
    s = Section("Reach: referrals and children supported", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, "reach: referrals", "reach: children seen", "reach: reasons")
    o = rel.get("reach_overall")
    if o is not None:
        o = o.frame.iloc[-1]
        s.text(
            f"{fmt_count(o['received'])} referrals were received; {fmt_count(o['accepted'])} "
            f"were accepted and {fmt_count(o['not_accepted'])} not accepted "
            f"({fmt_count(o['pending'])} awaiting a decision). The inappropriate-referral rate "
            f"was {fmt_pct(o['inappropriate'], o['decided'])} of decided referrals."
            + (
                " Every referral not accepted counts as inappropriate (the config says "
                "`inappropriate_reasons: all_not_accepted`)."
                if cfg.service.inappropriate_reasons == "all_not_accepted"
                else ""
            )
        )
    seen = rel.get(f"children_seen_by_{cfg.site_word}")
    twice = seen is None or "children_seen_2plus" in seen.frame.columns
    if not twice:
        second = rel.facts.get(NO_SECOND_CONTACT)
        s.note(
            "Children seen at least twice are not counted: "
            + (
                f"the referrals table has no `n_contacts`, and {lacking(second)}."
                if second and second[1] == "empty"
                else "the referrals table has neither `n_contacts` nor `second_contact_date`."
            ),
            kind="warning",
        )
    show_tables(
        s,
        rel,
        (f"reach_by_{cfg.site_word}", f"Referrals by {cfg.site_word}"),
        (f"children_seen_by_{cfg.site_word}",
         f"Children and young people seen at least once{' and at least twice' if twice else ''}, "
         f"by {cfg.site_word}"),
        ("not_accepted_reasons",
         "Referrals not accepted, by reason (inappropriate or other), with totals"),
        ("reach_by_source", "Referrals by source"),
    )  # fmt: skip
    return s
