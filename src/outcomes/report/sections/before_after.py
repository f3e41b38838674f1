"""Before and after: the service in a pre-programme period (``service.pre_period``) against the
programme period, for the inappropriate-referral rate and the waits (Kaplan-Meier median and
the share seen within the standard). The analyses are :func:`outcomes.service.
compare_inappropriate` and :func:`outcomes.service.waiting_times`; the differences and their
CIs are recomputed from the released values (rates) or coarsened (waits; the median's from
:func:`outcomes.service.compare_median_wait`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep

from ... import service
from ..release import MARKER, NOT_APPLICABLE, Release, is_hidden, wilson
from ..render import Section
from .access import release_waits
from .common import collect, failure_notes, guard, show_tables

TITLE, ANCHOR = "Before and after the programme", "before-and-after"
PARTS = ("before and after: inappropriate rate", "before and after: waits")
#: bootstrap resamples for the CI of the median waits' difference (seeded: the same data
#: give the same interval in every build)
N_BOOT = 2000


def combined(ev) -> pd.DataFrame | None:
    """The pre-period referrals and the programme's, with a ``period`` column (before /
    after); None without a pre-period."""
    if ev.pre_referrals is None or ev.referrals is None:
        return None
    return pd.concat(
        [ev.pre_referrals.assign(period="before"), ev.referrals.assign(period="after")],
        ignore_index=True,
    )


def rate_difference(k0: object, n0: object, k1: object, n1: object) -> tuple:
    """After - before rate and its Newcombe 95% CI, from released counts (hidden -> marker).

    Example:
        >>> [round(v, 3) for v in rate_difference(30, 100, 15, 100)]
        [-0.15, -0.261, -0.034]
    """
    if any(is_hidden(v) for v in (k0, n0, k1, n1)) or not float(n0) or not float(n1):
        return MARKER, MARKER, MARKER
    k0, n0, k1, n1 = (float(v) for v in (k0, n0, k1, n1))
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
    return k1 / n1 - k0 / n0, float(lo), float(hi)


def release(ev, rel: Release) -> None:
    both = combined(ev)
    if both is None:
        return
    if ev.pre_referrals.empty:
        pre = ev.cfg.service.pre_period
        for part in PARTS:
            rel.fail(part, f"no referral is dated in service.pre_period ({pre.start} to {pre.end})")
        return
    left_out = len(ev.all_referrals) - len(both)
    if left_out:
        rel.quality.add(
            "before and after",
            "referrals dated neither in the pre-programme period nor from the programme start",
            where="referrals", rows=left_out, action="left out of every analysis", warn=False,
        )  # fmt: skip
    kw = {"as_of": ev.as_of, "errors": "flag"}
    with guard(rel, PARTS[0]):
        cmp = service.compare_inappropriate(
            both, change_date=ev.cfg.period.start, inappropriate=ev.inappropriate, **kw
        )
        r = collect(rel, cmp, "before and after").to_frame().iloc[0]
        counts = pd.DataFrame({
            "period": ["before", "after"],
            "decided": [int(r["n_before"]), int(r["n_after"])],
            "inappropriate": [int(r["inappropriate_before"]), int(r["inappropriate_after"])],
        })  # fmt: skip
        pub = rel.counts(
            counts, "before_after_inappropriate_counts", counts=["decided", "inappropriate"],
            within={"inappropriate": "decided"},
        ).frame  # fmt: skip
        lo, hi = wilson(pub["inappropriate"], pub["decided"])
        k, n = pub["inappropriate"].tolist(), pub["decided"].tolist()
        rates = [MARKER if is_hidden(a) or is_hidden(b) or not b else a / b
                 for a, b in zip(k, n, strict=True)]  # fmt: skip
        diff = rate_difference(k[0], n[0], k[1], n[1])
        rel.derived(
            pd.DataFrame([{
                "measure": "inappropriate referrals (% of decided)",
                "before": _pct(rates[0]), "before_ci": _ci(lo[0], hi[0]),
                "after": _pct(rates[1]), "after_ci": _ci(lo[1], hi[1]),
                "difference": _pct(diff[0]), "difference_ci_low": _pct(diff[1]),
                "difference_ci_high": _pct(diff[2]),
            }]),
            "before_after_inappropriate",
        )  # fmt: skip
    if "first" in ev.contact_stages:  # else left out, saying why (NO_FIRST_CONTACT)
        with guard(rel, PARTS[1]):
            std = ev.cfg.service.standard_days
            w = service.waiting_times(both, by="period", stage="first", standard_days=std, **kw)
            f = collect(rel, w, "before and after waits").to_frame()
            f = f[f["period"].isin(["before", "after"])]
            release_waits(rel, f, "before_after_waits", ["period", "stage"])
            pub = rel.get("before_after_waits").frame.set_index("period")
            med = service.compare_median_wait(
                both, change_date=ev.cfg.period.start, stage="first", n_boot=N_BOOT, **kw
            )
            m = collect(rel, med, "before and after waits").to_frame().iloc[0]
            rel.derived(
                _wait_difference(f.set_index("period"), pub, (m["ci_low"], m["ci_high"])),
                "before_after_waits_change",
            )


def _wait_difference(
    exact: pd.DataFrame, pub: pd.DataFrame, median_ci: tuple[float, float]
) -> pd.DataFrame:
    """After - before for the released median and share within the standard. The share's CI
    is from the two Kaplan-Meier standard errors (each from its log-log CI), rounded outward
    to 5 percentage points like the shares. ``median_ci`` is the exact bootstrap interval of
    the medians' difference (:func:`outcomes.service.compare_median_wait`), rounded outward to
    whole days like the medians, hidden with them, and "n/a" where a limit is not reached.

    Example:
        >>> pub = pd.DataFrame({"median_days": [20.0, 10.0], "within_standard": ["*", "*"]},
        ...                    index=["before", "after"])
        >>> _wait_difference(pub, pub, (-11.5, -3.2)).iloc[0, 1:].tolist()
        [-10.0, -12.0, -3.0]
    """
    b, a = pub.loc["before"], pub.loc["after"]
    hidden = is_hidden(a["median_days"]) or is_hidden(b["median_days"])
    med = MARKER if hidden else float(a["median_days"]) - float(b["median_days"])
    med_lo, med_hi = (MARKER, MARKER) if hidden else (
        float(np.floor(median_ci[0])) + 0.0 if np.isfinite(median_ci[0]) else NOT_APPLICABLE,
        float(np.ceil(median_ci[1])) + 0.0 if np.isfinite(median_ci[1]) else NOT_APPLICABLE,
    )  # fmt: skip
    share, lo, hi = MARKER, MARKER, MARKER
    if not (is_hidden(a["within_standard"]) or is_hidden(b["within_standard"])):
        share = round(100 * (float(a["within_standard"]) - float(b["within_standard"])), 1) + 0.0
        z = st.norm.ppf(0.975)
        ses = [
            (exact.loc[p, "within_standard_ci_high"] - exact.loc[p, "within_standard_ci_low"])
            / (2 * z)
            for p in ("before", "after")
        ]
        se = float(np.sqrt(np.nansum(np.square(ses))))
        if np.isfinite(se) and se > 0:
            lo = float(5 * np.floor((share - 100 * z * se) / 5))
            hi = float(5 * np.ceil((share + 100 * z * se) / 5))
    return pd.DataFrame([
        {"measure": "median wait to first contact (days)", "difference": med,
         "ci_low": med_lo, "ci_high": med_hi},
        {"measure": "seen within the standard (percentage points)", "difference": share,
         "ci_low": lo, "ci_high": hi},
    ])  # fmt: skip


def _pct(v: object) -> object:
    return v if is_hidden(v) else round(100 * float(v), 1) + 0.0


def _ci(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return MARKER
    return f"{100 * lo:.1f} to {100 * hi:.1f}"


def render(rel: Release, cfg) -> Section:
    s = Section(TITLE, anchor=ANCHOR)
    pre = cfg.service.pre_period
    if pre is None:
        return s.note(
            "Left out: no pre-programme period in the config (`service.pre_period`), so the "
            "service is not compared with the time before the programme."
        )
    failure_notes(s, rel, *PARTS)
    s.text(
        f"The service before the programme ({pre.start:%d %B %Y} to {pre.end:%d %B %Y}) "
        f"against the programme period (from {cfg.period.start:%d %B %Y}). Differences are "
        "after minus before; a rate's CI is Newcombe's, from the published counts; the median "
        f"wait's is a percentile bootstrap ({N_BOOT} resamples of each period's referrals, "
        "fixed seed), rounded outward to whole days. This "
        "compares two periods, not two groups: other changes at the same time can explain a "
        "difference."
    )
    return show_tables(
        s, rel,
        ("before_after_inappropriate", "Inappropriate referrals before and after (%)"),
        ("before_after_waits", "Waits to first contact before and after (days; Kaplan-Meier)"),
        ("before_after_waits_change", "Change in waits (after minus before)"),
    )  # fmt: skip
