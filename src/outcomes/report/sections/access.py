"""Access: waiting times (Kaplan-Meier), monthly activity and the inappropriate-referral rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ... import service
from .. import figures
from ..release import MARKER, Release, wilson
from ..render import Section
from .common import (
    NO_FIRST_CONTACT,
    NO_SECOND_CONTACT,
    collect,
    failure_notes,
    guard,
    lacking,
    missing,
    show_tables,
)

TITLE, ANCHOR = "Access", "access"
WAIT_STATS = ["median_days", "q1_days", "q3_days", "p90_days"]
FLOWS = (
    "received", "decided", "accepted", "not_accepted", "inappropriate", "first_contacts",
    "second_contacts", "discharges", "children_first_seen",
)  # fmt: skip


def release_waits(
    rel: Release, table: pd.DataFrame, name: str, labels: list[str], links: Sequence = ()
) -> None:
    """Counts with n = seen + waiting + closed unseen; day statistics (whole days) hidden
    with the number seen; the Kaplan-Meier share within the standard rounded to 0.05 (it is
    not a ratio of released counts, so it is coarsened rather than recomputed), and hidden
    where it gives back a small number of the stage's children (:meth:`Release.few_behind`). ``links``:
    rows published elsewhere that these rows add up with (:meth:`Release.counts_linked`)."""
    counts = ["n", "n_seen", "n_waiting", "n_closed_unseen"]
    t = table[[*labels, *counts, *WAIT_STATS, "within_standard", "standard_days"]].copy()
    totals = {}
    if (t["n"] == t["n_seen"] + t["n_waiting"] + t["n_closed_unseen"]).all():
        totals = {"n": ["n_seen", "n_waiting", "n_closed_unseen"]}
    share = t["within_standard"].astype(float)
    rounded = pd.Series(np.round(share * 20) / 20, index=t.index, dtype=object)
    # the share says how many of the stage's children (or of those seen) were, or were not,
    # seen in time: hidden where that is a small number (it is not a ratio of released counts)
    rounded[rel.few_behind(share, t["n"], t["n_seen"])] = MARKER
    t["within_standard"] = rounded
    # a breakdown with Total rows (by school, by team): the Total is a margin per stage, and
    # its share is its rows' weighted by their n (a hidden one would come back by difference)
    margins = labels[0] != "stage" and (t[labels[0]] == "Total").any()
    rel.counts_linked(
        t, name, counts=counts, column_totals=totals, keep=["standard_days"], links=links,
        means={**{c: ("n_seen", 0) for c in WAIT_STATS}, "within_standard": ("n_seen", 2)},
        within={c: "n" for c in counts[1:]}, groups="stage" if margins else None,
        weighted={"within_standard": "n"},
    )  # fmt: skip


def wait_steps(curve: pd.DataFrame, min_events: int, width: int = 7) -> pd.DataFrame:
    """The Kaplan-Meier curve at whole weeks, merging weeks until each step stands for at least
    ``min_events`` children; steps that cannot reach it are dropped (the curve stops).

    Example:
        >>> c = pd.DataFrame({"stage": "first", "days": [1, 2, 9, 20], "events": [4, 4, 8, 1],
        ...                   "seen": [0.1, 0.2, 0.4, 0.42]})
        >>> wait_steps(c, 8)[["days", "seen_in_step", "share_seen"]].to_dict("records")
        [{'days': 7, 'seen_in_step': 8, 'share_seen': 0.2}, {'days': 14, 'seen_in_step': 8, 'share_seen': 0.4}]
    """
    rows = []
    for stage, g in curve.groupby("stage", sort=False):
        g = g.sort_values("days")
        weeks = np.ceil(g["days"].to_numpy(float) / width).astype(int) * width
        ev = pd.Series(g["events"].to_numpy(float)).groupby(weeks).sum()
        seen_at = pd.Series(g["seen"].to_numpy(float)).groupby(weeks).last()
        acc = 0.0
        for day, k in ev.items():
            acc += k
            if acc >= min_events:
                rows.append(
                    {"stage": stage, "days": int(day), "seen_in_step": int(acc),
                     "share_seen": float(seen_at[day])}
                )  # fmt: skip
                acc = 0.0
    return pd.DataFrame(rows, columns=["stage", "days", "seen_in_step", "share_seen"])


def monthly_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly flows with decided = accepted + not accepted and a Total row (the months add up
    to the year, an equation a reader could use)."""
    m = monthly.assign(
        period=monthly["period"].astype(str), decided=monthly["accepted"] + monthly["not_accepted"]
    )
    cols = [c for c in FLOWS if c in m.columns]
    m = m[["period", *cols]]
    total = pd.DataFrame([{"period": "Total", **m[cols].sum().to_dict()}])
    return pd.concat([m, total], ignore_index=True)


def _release_waits(ev, rel: Release, std: float, kw: dict) -> None:
    """The waits to each contact the referrals date, overall and to first contact by site."""
    with guard(rel, "access: waits"):
        w = collect(rel, ev.waits, "waits")
        release_waits(rel, w.to_frame(), "waits_overall", ["stage"])
        steps = wait_steps(w.curve(), rel.threshold + 1)
        rel.counts(
            steps, "wait_curve", counts=["seen_in_step"], keep=["days"],
            means={"share_seen": ("seen_in_step", 2)},
        )  # fmt: skip
    site, word = ev.cfg.site_column, ev.cfg.site_word
    with guard(rel, f"access: waits by {word}"):
        by_site = service.waiting_times(
            ev.referrals, by=site, stage="first", standard_days=std, **kw
        ).to_frame()
        release_waits(rel, by_site, f"waits_by_{word}", [site, "stage"])


def release(ev, rel: Release) -> None:
    if ev.referrals is None:
        return
    std = ev.cfg.service.standard_days
    kw = {"as_of": ev.as_of, "errors": "flag"}
    if "first" in ev.contact_stages:  # else left out, saying why (NO_FIRST_CONTACT)
        _release_waits(ev, rel, std, kw)
    with guard(rel, "access: monthly activity"):
        monthly = service.monthly_activity(ev.referrals, inappropriate=ev.inappropriate, **kw)
        m = monthly_table(monthly)
        cols = [c for c in FLOWS if c in m.columns]
        pub = rel.counts(
            m, "monthly_activity", counts=cols, totals=True,
            column_totals={"decided": ["accepted", "not_accepted"]},
        ).frame  # fmt: skip
        # the monthly inappropriate rate and its CI, from the released counts only
        pub = pub[pub["period"] != "Total"]
        lo, hi = wilson(pub["inappropriate"], pub["decided"])
        rate = [
            np.nan if isinstance(a, str) or isinstance(b, str) or not b else a / b
            for a, b in zip(pub["inappropriate"], pub["decided"], strict=True)
        ]
        rel.derived(
            pd.DataFrame({
                "period": pub["period"], "decided": pub["decided"],
                "inappropriate": pub["inappropriate"], "rate": np.round(rate, 3),
                "ci_low": np.round(lo, 3), "ci_high": np.round(hi, 3),
            }),
            "inappropriate_monthly",
        )  # fmt: skip
    with guard(rel, "access: inappropriate trend"):
        trend = service.inappropriate_trend(
            ev.referrals, change_date=ev.cfg.service.change_date,
            inappropriate=ev.inappropriate, **kw,
        )  # fmt: skip
        tf = collect(rel, trend, "inappropriate trend").to_frame()
        dec = {c: 2 for c in ("estimate", "ci_low", "ci_high", "ratio", "ratio_ci_low",
                              "ratio_ci_high") if c in tf.columns}  # fmt: skip
        rel.stats(tf, "inappropriate_trend", decimals={**dec, "p": 3}, labels=["term"])


def render(rel: Release, cfg) -> Section:
    if cfg.tables.referrals is None:
        return missing("Access", ANCHOR, "the referrals table is")
    s = Section("Access: waiting times", anchor=ANCHOR)
    parts = ("waits", f"waits by {cfg.site_word}", "monthly activity", "inappropriate trend")
    failure_notes(s, rel, TITLE, *[f"access: {p}" for p in parts])
    std = cfg.service.standard_days
    first_only = rel.facts.get(NO_SECOND_CONTACT)
    no_first = rel.facts.get(NO_FIRST_CONTACT)
    if no_first:
        s.note(
            _capital(lacking(no_first)) + ": waiting times and the monthly counts of first "
            "and second contacts are left out.",
            kind="warning",
        )
    elif first_only:
        s.note(
            _capital(lacking(first_only)) + ": waits to the second contact and the monthly "
            "count of second contacts are left out.",
            kind="warning",
        )
    if not no_first:
        s.text(
            f"Waits are measured from referral to "
            f"{'first contact' if first_only else 'first and to second contact'}, against "
            f"the {std}-day standard. Referrals still waiting on {cfg.extract_date:%d %B %Y} "
            "are counted as censored waits (Kaplan-Meier), never dropped. Waits are in whole "
            "days; the share within the standard is rounded to the nearest 5 percentage "
            "points."
        )
    if rel.get("waits_overall") is not None:
        s.table(rel.get("waits_overall"), "Waiting times (days)")
    curve = rel.get("wait_curve")
    if curve is not None and not curve.empty:
        s.figure(
            figures.wait_curve(curve, std),
            "Share of accepted referrals with a contact, by days since referral (Kaplan-Meier "
            f"at whole weeks, each step at least {rel.threshold + 1} children; dotted line: "
            "the standard)",
        )
    elif curve is not None:
        s.note("Too few children were seen to draw the waiting-time curve safely.")
    show_tables(
        s,
        rel,
        (f"waits_by_{cfg.site_word}", f"Wait to first contact by {cfg.site_word}"),
        ("monthly_activity", "Monthly activity"),
    )
    mr = rel.get("inappropriate_monthly")
    if mr is not None:
        s.figure(
            figures.monthly_rate(mr),
            "Inappropriate referrals: monthly rate with 95% CI, from the published counts "
            "(months with a suppressed count are not drawn)",
        )
    if rel.get("inappropriate_trend") is not None:
        s.table(
            rel.get("inappropriate_trend"),
            "Trend in the inappropriate-referral rate (segmented regression; rounded)",
        )
    return s


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
