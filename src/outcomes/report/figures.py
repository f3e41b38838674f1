"""The report's figures, drawn only from released tables.

Each function takes :class:`~outcomes.report.release.ReleasedTable` objects, never raw
results, and returns a matplotlib figure marked as drawn from a release (``Section.figure``
refuses any other). A suppressed value is not drawn (it leaves a gap, said in the caption);
no figure shows an individual child.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .. import spc
from .labels import instrument_name, scale_label
from .release import ReleasedTable, is_hidden


def _new(width: float = 7.0, height: float = 4.0):
    # matplotlib.figure.Figure, not pyplot: no global state, no backend switch
    fig = Figure(figsize=(width, height))
    fig._from_release = True
    return fig, fig.add_subplot()


def _percent_axis(axis) -> None:
    """Proportions (0-1) read as percentages, as in the tables."""
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))


def _num(col: pd.Series) -> np.ndarray:
    return np.array([np.nan if is_hidden(v) else float(v) for v in col], dtype=float)


def wait_curve(curve: ReleasedTable, standard_days: float) -> Figure:
    """Share of accepted referrals with a first contact by days since referral: a step curve
    whose every step stands for at least threshold + 1 children (the release merges steps)."""
    f = curve.frame
    fig, ax = _new()
    for stage, g in f.groupby("stage", sort=False):
        days = np.r_[0.0, _num(g["days"])]
        share = np.r_[0.0, _num(g["share_seen"])]
        ax.step(days, share, where="post", label=f"{stage} contact")
    ax.axvline(standard_days, linestyle=":", color="grey")
    ax.set_title(f"How soon children were seen (standard: {standard_days:g} days)")
    ax.set_xlabel("Days since referral")
    ax.set_ylabel("Referrals with the contact (%)")
    ax.set_ylim(0, 1)
    _percent_axis(ax.yaxis)
    ax.legend(fontsize="small")
    return fig


def monthly_rate(monthly: ReleasedTable) -> Figure:
    """Monthly inappropriate-referral rate with Wilson 95% CIs, all from released counts."""
    f = monthly.frame
    fig, ax = _new()
    rate, lo, hi = _num(f["rate"]), _num(f["ci_low"]), _num(f["ci_high"])
    x = np.arange(len(f))
    ok = np.isfinite(rate)
    ax.errorbar(x[ok], rate[ok], yerr=[rate[ok] - lo[ok], hi[ok] - rate[ok]], fmt="o", capsize=3)
    ax.set_xticks(x, f["period"].astype(str), rotation=45, ha="right", fontsize="small")
    ax.set_title("Inappropriate referrals by month")
    ax.set_xlabel("Month")
    ax.set_ylabel("Inappropriate (% of decided)")
    ax.set_ylim(0, 1)
    _percent_axis(ax.yaxis)
    return fig


def reliable_counts(rc: ReleasedTable, instrument: str, scale: str) -> Figure:
    """Released counts of reliable improvement, no reliable change, deterioration and
    recovery on one measure (the Jacobson-Truax categories, without individual children)."""
    r = rc.row(instrument=instrument, scale=scale) or {}
    cats = ["reliable_improvement", "recovered", "no_reliable_change", "reliable_deterioration"]
    vals = [r.get(c, np.nan) for c in cats]
    fig, ax = _new(6, 3.5)
    y = np.arange(len(cats))
    shown = [0.0 if is_hidden(v) else float(v) for v in vals]
    ax.barh(y, shown)
    for k, v in enumerate(vals):
        ax.text(shown[k], k, f" {v}", va="center")
    ax.set_yticks(y, [c.replace("_", " ").capitalize() for c in cats])
    ax.invert_yaxis()
    ax.set_title(f"Reliable change: {instrument_name(instrument)}, {scale_label(instrument, scale)}",
                 fontsize="medium", wrap=True)  # fmt: skip
    ax.set_xlabel("Children (published counts; * = suppressed)")
    ax.set_ylabel("Category")
    return fig


def agree_bars(items: ReleasedTable, group: str = "wave") -> Figure:
    """Share agreeing with each item, one bar per ``group`` value (released proportions)."""
    f = items.frame
    cols = [c for c in ("cohort", group) if c in f.columns]
    key = f[cols].astype(str).agg(" ".join, axis=1)
    levels = list(dict.fromkeys(key))
    item_order = list(dict.fromkeys(f["item"]))
    fig, ax = _new(7, 0.25 * len(item_order) * max(1, len(levels)) + 1.5)
    h = 0.8 / max(1, len(levels))
    for k, lev in enumerate(levels):
        g = f[key.to_numpy() == lev].set_index("item").reindex(item_order)
        vals = _num(g["prop_agree"])
        ax.barh(np.arange(len(item_order)) + k * h, np.nan_to_num(vals), height=h, label=lev)
    ax.set_yticks(np.arange(len(item_order)) + h * (len(levels) - 1) / 2, item_order)
    ax.set_ylim(len(item_order) - h / 2, -h / 2)  # top to bottom in item order, no blank band
    ax.set_xlim(0, 1)
    _percent_axis(ax.xaxis)
    ax.set_title("Staff agreeing with each statement")
    ax.set_xlabel("Agree (%)")
    ax.set_ylabel("Statement")
    ax.legend(fontsize="small")
    return fig


def prevalence_bars(prev: ReleasedTable) -> Figure:
    """Prevalence by wave (and cohort) with the CIs computed from released counts."""
    f = prev.frame
    cols = [c for c in ("cohort", "wave") if c in f.columns]
    labels = f[cols].astype(str).agg(" ".join, axis=1)
    p, lo, hi = _num(f["prevalence"]), _num(f["ci_low"]), _num(f["ci_high"])
    fig, ax = _new()
    x = np.arange(len(f))
    ok = np.isfinite(p)
    ax.bar(x[ok], p[ok])
    good = ok & np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(x[good], p[good], yerr=[p[good] - lo[good], hi[good] - p[good]], fmt="none",
                color="black", capsize=3)  # fmt: skip
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_title("Pupils with probable difficulties, by cohort and wave")
    ax.set_xlabel("Cohort and wave")
    ax.set_ylabel("Prevalence (%)")
    ax.set_ylim(bottom=0)
    _percent_axis(ax.yaxis)
    return fig


def tornado(sens: ReleasedTable) -> Figure:
    """One-way sensitivity: one bar per input from the result at its low to its high value
    (a released table of money values computed from released counts and the config)."""
    f = sens.frame.iloc[::-1]
    fig, ax = _new(7, 0.45 * len(f) + 1.5)
    lo, hi = _num(f["result_low"]), _num(f["result_high"])
    y = np.arange(len(f))
    ax.barh(y, np.abs(hi - lo), left=np.minimum(lo, hi))
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, f["input"].astype(str))
    ax.set_xlabel("net present value")
    ax.set_ylabel("input moved from low to high")
    ax.set_title("One-way sensitivity of the net present value")
    return fig


def spc_chart(chart: ReleasedTable, ylabel: str, title: str) -> Figure:
    """A Making Data Count chart from a released SPC table: the values, the mean and the
    limits, points marked by a special-cause rule in orange."""
    f = chart.frame
    fig, ax = _new()
    x = np.arange(len(f))
    y = _num(f["value"])
    ax.plot(x, y, color="grey", marker="o", markersize=4, linewidth=1)
    special = f["special"].astype(bool).to_numpy()
    ax.plot(x[special], y[special], "o", color="tab:orange", label="special cause")
    ax.plot(x, _num(f["mean"]), color="black", linewidth=1, label="mean")
    ax.plot(x, _num(f["upper"]), linestyle="--", color="grey", linewidth=1, label="limits")
    ax.plot(x, _num(f["lower"]), linestyle="--", color="grey", linewidth=1)
    ax.set_xticks(x, f["label"].astype(str), rotation=45, ha="right", fontsize="small")
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


#: a funnel plot names every unit up to this many; beyond, only those outside the 99.8% limits
#: (hundreds of overlapping names are unreadable, and drawing them took seconds)
FUNNEL_LABELS = 60


def funnel_plot(table: ReleasedTable, ylabel: str, title: str) -> Figure:
    """A funnel plot from a released funnel table: each unit's rate against its size, with
    the overall rate and the 95% and 99.8% exact binomial limits. Units are named (all of
    them up to :data:`FUNNEL_LABELS`, else those outside the 99.8% limits)."""
    f = table.frame.sort_values("total")
    fig, ax = _new()
    n = _num(f["total"])
    rate = _num(f["rate"])
    ax.scatter(n, rate, color="tab:blue", zorder=3)
    named = np.ones(len(f), bool)
    if len(f) > FUNNEL_LABELS:
        named = (rate > _num(f["upper_99_8"])) | (rate < _num(f["lower_99_8"]))
    for x, y, lab in zip(n[named], rate[named], f["label"].astype(str)[named], strict=True):
        ax.annotate(lab, (x, y), fontsize="x-small", xytext=(3, 3), textcoords="offset points")
    p0 = float(f["overall"].iloc[0])
    ax.axhline(p0, color="black", linewidth=1, label="overall")
    # the funnel over every size up to the largest unit, from the released overall rate
    grid = np.arange(1, int(np.nanmax(n)) + 2)
    for level, style in ((0.95, "--"), (0.998, ":")):
        lo, hi = spc.funnel_limits(p0, grid, level)
        ax.step(grid, hi, where="post", linestyle=style, color="grey")
        ax.step(grid, lo, where="post", linestyle=style, color="grey",
                label=f"{100 * level:g}% limits")  # fmt: skip
    ax.set_xlabel("decided referrals (published counts)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig
