"""Monitoring charts in the NHS "Making Data Count" style (:mod:`outcomes.spc`): monthly
referrals (XmR), the monthly inappropriate rate (p-chart) and the monthly median wait (XmR),
with special causes and the variation and assurance icons; a funnel plot of the
inappropriate rate by school. Every chart is drawn from released values only: months whose
value is suppressed are left out of the chart, and the note says how many."""

from __future__ import annotations

import pandas as pd

from ... import service, spc
from .. import figures
from ..release import Release, is_hidden
from ..render import Section
from .access import release_waits
from .common import failure_notes, guard

TITLE, ANCHOR = "Monitoring charts", "monitoring-charts"
PARTS = (
    "monitoring: referrals", "monitoring: inappropriate rate", "monitoring: waits",
    "monitoring: schools",
)  # fmt: skip
#: fewer points than this and no chart is drawn (Making Data Count advises 12 or more)
MIN_POINTS = 6


def _shown(t: pd.DataFrame, *cols: str) -> pd.DataFrame:
    ok = pd.Series(True, index=t.index)
    for c in cols:
        ok &= ~t[c].map(is_hidden)
    return t[ok]


def _chart_table(chart: pd.DataFrame, decimals: int) -> pd.DataFrame:
    # a p-chart keeps its (published) counts beside the rate
    counts = [c for c in ("events", "total") if c in chart.columns]
    out = chart[["label", *counts, "value", "mean", "lower", "upper", *spc.RULES, "special"]]
    out = out.copy()
    for c in ("value", "mean", "lower", "upper"):
        out[c] = out[c].astype(float).round(decimals) + 0.0
    return out


def release(ev, rel: Release) -> None:
    if ev.referrals is None:
        return
    icons = []
    with guard(rel, PARTS[0]):
        m = rel.get("monthly_activity")
        if m is None:
            raise ValueError("the monthly activity was not released")
        f = m.frame
        f = f[f["period"] != "Total"]
        ok = _shown(f, "received")
        rel.facts["monitoring: months left out"] = len(f) - len(ok)
        if len(ok) >= MIN_POINTS:
            c = spc.xmr(ok["received"].astype(float), ok["period"].tolist())
            rel.derived(_chart_table(c, 1), "spc_referrals")
            icons.append(("Referrals received per month", spc.variation(c), None))
    with guard(rel, PARTS[1]):
        mr = rel.get("inappropriate_monthly")
        if mr is None:
            raise ValueError("the monthly inappropriate rate was not released")
        f = _shown(mr.frame, "inappropriate", "decided")
        f = f[f["decided"].astype(float) > 0]
        if len(f) >= MIN_POINTS:
            c = spc.p_chart(
                f["inappropriate"].astype(float), f["decided"].astype(float), f["period"].tolist()
            )
            rel.derived(_chart_table(c, 3), "spc_inappropriate")
            icons.append(("Inappropriate referral rate", spc.variation(c, "down"), None))
    if "first" in ev.contact_stages:  # else the waits are left out, saying why (NO_FIRST_CONTACT)
        with guard(rel, PARTS[2]):
            ref = ev.referrals
            month = pd.to_datetime(ref["referral_date"]).dt.to_period("M").astype(str)
            w = service.waiting_times(
                ref.assign(month=month), by="month", stage="first", total=False,
                standard_days=ev.cfg.service.standard_days, as_of=ev.as_of, errors="flag",
            ).to_frame()  # fmt: skip
            # the months add up to the overall waits, published beside them (no Total row here)
            overall = rel.get("waits_overall")
            at = [] if overall is None else [
                i for i, v in enumerate(overall.frame["stage"]) if v == "first"
            ]  # fmt: skip
            links = [(list(range(len(w))), overall, at)] if at else []
            release_waits(
                rel, w.reset_index(drop=True), "waits_by_month", ["month", "stage"], links
            )
            f = _shown(rel.get("waits_by_month").frame, "median_days")
            f = f[f["median_days"].notna()]
            if len(f) >= MIN_POINTS:
                c = spc.xmr(f["median_days"].astype(float), f["month"].tolist())
                rel.derived(_chart_table(c, 1), "spc_waits")
                std = ev.cfg.service.standard_days
                icons.append((
                    "Median wait to first contact (days)", spc.variation(c, "down"),
                    spc.assurance(c, std, "down"),
                ))  # fmt: skip
    with guard(rel, PARTS[3]):
        rs = rel.get("reach_by_school")
        if rs is not None:
            f = _shown(rs.frame, "inappropriate", "decided")
            f = f[(f["school_id"].astype(str) != "Total") & (f["decided"].astype(float) > 0)]
            if len(f) >= 2:
                fu = spc.funnel(
                    f["inappropriate"].astype(float), f["decided"].astype(float),
                    f["school_id"].astype(str).tolist(),
                )  # fmt: skip
                for col in ("rate", "overall", "lower_95", "upper_95", "lower_99_8",
                            "upper_99_8"):  # fmt: skip
                    fu[col] = fu[col].round(3) + 0.0
                rel.derived(fu, "funnel_inappropriate")
    if icons:
        rel.labels(
            pd.DataFrame(
                [{"measure": m, "variation": v, "assurance": a or "no target"}
                 for m, v, a in icons]
            ),
            "spc_icons",
        )  # fmt: skip


def render(rel: Release, cfg) -> Section:
    unit = "school" if getattr(cfg, "site_kind", "school") == "school" else "site"
    s = Section(TITLE, anchor=ANCHOR)
    if cfg.tables.referrals is None:
        return s.note("Left out: the referrals table is not in the evaluation config.")
    failure_notes(s, rel, *PARTS)
    s.text(
        "Each chart shows a monthly measure with its mean and its process limits (NHS "
        "England's *Making Data Count*: XmR charts, limits at the mean ± 2.66 times the "
        "average moving range; p-chart limits from the binomial for each month's number of "
        "decisions). A point is a **special cause** (orange) when it lies beyond a limit, "
        "sits in a run of 7 on one side of the mean, in a trend of 6 rising or falling "
        "points, or is one of two in three beyond two sigma on one side. Otherwise the "
        "variation is **common cause**: ordinary ups and downs. Assurance says whether the "
        "limits lie wholly on one side of the target."
    )
    gone = rel.facts.get("monitoring: months left out")
    if gone:
        s.note(f"{gone} month(s) with a suppressed count are left out of the charts.")
    icons = rel.get("spc_icons")
    if icons is not None:
        s.table(icons, "Variation and assurance (latest month)")
    for name, ylabel, title in (
        ("spc_referrals", "referrals received", "Referrals received per month (XmR)"),
        ("spc_inappropriate", "inappropriate / decided", "Inappropriate rate (p-chart)"),
        ("spc_waits", "median days to first contact", "Median wait by month of referral (XmR)"),
    ):
        t = rel.get(name)
        if t is not None:
            s.figure(
                figures.spc_chart(t, ylabel, title),
                f"{title}: monthly values from the published counts, mean (solid) and process "
                "limits (dashed); orange points are special causes.",
            )
            s.table(t, f"{title}: values, limits and the rules each point meets")
    fu = rel.get("funnel_inappropriate")
    if fu is not None:
        s.figure(
            figures.funnel_plot(fu, "inappropriate / decided", f"Inappropriate rate by {unit}"),
            f"Inappropriate-referral rate by {unit} against its number of decided referrals, "
            "with 95% (dashed) and 99.8% (dotted) limits from the exact binomial around the "
            "overall rate. Schools outside the 99.8% limits differ by more than chance.",
        )
        s.table(fu, f"Funnel plot: inappropriate rate by {unit}")
    elif all(rel.get(n) is None for n in ("spc_referrals", "spc_inappropriate", "spc_waits")):
        s.note(f"Too few months with published values (at least {MIN_POINTS}) to draw charts.")
    return s
