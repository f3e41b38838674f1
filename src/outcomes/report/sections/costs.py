"""Costs and value: what the programme cost, cost per child supported and per outcome, and
(when the config values outcomes) a cost-benefit analysis with one-way sensitivity.

Money is not personal data, but the counts it is divided by are: every count used here is a
released count (children seen, children with reliable improvement, children paired), so a
cost per child or a net present value cannot be turned back into a suppressed count. The
interval of a cost per outcome is the Wilson interval of the released share mapped through
the cost, not a bootstrap over the exact children (docs/economics.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import economics
from ..labels import scale_phrase
from ..release import MARKER, Release, is_hidden, wilson
from ..render import Section
from .common import NO_SECOND_CONTACT, failure_notes, guard, needs, show_tables

TITLE, ANCHOR = "Costs and value", "costs"
PARTS = ("costs: cost lines", "costs: per output", "costs: per outcome", "costs: cost-benefit")


def _released(rel: Release, table: str, **match) -> dict | None:
    t = rel.get(table)
    return None if t is None else t.row(**match)


def _num(v: object) -> float:
    return np.nan if v is None or is_hidden(v) else float(v)


def _outcome_shares(ev, rel: Release) -> dict[str, tuple[str, float, float]]:
    """Outcome -> (description, released k, released n) from the released tables."""
    out = {}
    h = ev.headline()
    if h is not None:
        r = _released(rel, "reliable_change", instrument=h[0], scale=h[1])
        if r:
            out["reliable_improvement"] = (
                f"child with reliable improvement in {scale_phrase(h[0], h[1])}",
                _num(r.get("reliable_improvement")),
                _num(r.get("n")),
            )
    r = _released(rel, "cyp_outcome_metric", rater="any")
    if r:
        out["measurable_improvement"] = (
            "child with measurable improvement (NHS CYP outcomes metric, any rater)",
            _num(r.get("n_improvement")),
            _num(r.get("n_paired")),
        )
    return out


def release(ev, rel: Release) -> None:
    c = ev.cfg.costs
    if c is None:
        return
    with guard(rel, "costs: cost lines"):
        # costed once, by the input checks (a line that cannot be costed stopped the build)
        lines = ev.inputs.costs
        by = economics.cost_totals(lines, by="category")
        total = float(lines["cost"].sum())
        by = pd.concat([by, pd.DataFrame({"category": ["Total"], "cost": [total]})])
        rel.stats(by, "cost_by_category", decimals={"cost": 0}, labels=["category"])
        rel.facts["costs: total"] = total
    total = rel.facts.get("costs: total")
    if total is None:
        return
    # children seen overall: the Total row of the table by school, or by site for a programme
    # delivered through other sites (site_kind)
    word, column = ev.cfg.site_word, ev.cfg.site_column
    seen = _released(rel, f"children_seen_by_{word}", **{column: "Total"})
    supported = _num(seen.get("children_seen_1plus")) if seen else np.nan
    with guard(rel, "costs: per output"):
        sites = rel.get(f"reach_by_{word}")
        n_sites = float((sites.frame[column].astype(str) != "Total").sum()) if sites else np.nan
        rows = [("child or young person seen", supported), (word, n_sites)]
        t = pd.DataFrame(
            {
                "unit": [u for u, _ in rows],
                # how many units: released counts (children) or not personal (schools, sites)
                "units": [MARKER if not np.isfinite(n) else int(n) for _, n in rows],
                "cost_per": [
                    MARKER if not (np.isfinite(n) and n > 0) else round(total / n) for _, n in rows
                ],
            }
        )
        rel.derived(t, "cost_per_unit")
    with guard(rel, "costs: per outcome"):
        shares = _outcome_shares(ev, rel)
        out = []
        for _, (what, k, n) in shares.items():
            lo, hi = wilson([k], [n])
            ok = np.isfinite(k) and np.isfinite(n) and n > 0 and k > 0 and np.isfinite(supported)
            base = supported * k / n if ok else np.nan
            out.append({
                "outcome": what,
                "cost_per": round(total / base) if ok else MARKER,
                # the share's interval mapped through cost / (supported x share): monotone
                "ci_low": round(total / (supported * hi[0])) if ok else MARKER,
                "ci_high": round(total / (supported * lo[0])) if ok and lo[0] > 0 else MARKER,
            })  # fmt: skip
        if out:
            rel.derived(pd.DataFrame(out), "cost_per_outcome")
    if c.benefits:
        with guard(rel, "costs: cost-benefit"):
            _release_cba(ev, rel, total, supported)


def _benefits(
    c, supported: float, shares: dict, values: dict | None = None, absent: dict | None = None
) -> list:
    """The benefit lines, outcome quantities estimated from released numbers; ``values``
    overrides ``<name>.<field>`` (sensitivity analysis); ``absent``: why an outcome is not
    measured at all (outcome -> reason), for the message that leaves the analysis out."""
    values, absent = values or {}, absent or {}
    out = []
    for b in c.benefits:
        q = b.quantity
        if isinstance(q, str):
            what, k, n = shares.get(q, ("", np.nan, np.nan))
            if not (np.isfinite(k) and np.isfinite(n) and n > 0 and np.isfinite(supported)):
                why = absent.get(q, "suppressed or not measured in this report")
                raise ValueError(
                    f"benefit {b.name!r} counts {q.replace('_', ' ')}, which is {why}: the "
                    "cost-benefit analysis is left out"
                )
            q = round(supported * k / n)
        fields = {f: values.get(f"{b.name}.{f}", getattr(b, f)) for f in (
            "unit_value", "deadweight", "attribution", "optimism_bias")}  # fmt: skip
        out.append(economics.Benefit(
            b.name, quantity=q, source=b.source, price_year=b.price_year, kind=b.kind, **fields
        ))  # fmt: skip
    return out


def _release_cba(ev, rel: Release, total: float, supported: float) -> None:
    c = ev.cfg.costs
    shares = _outcome_shares(ev, rel)
    costs = [total] + [0.0] * (c.years - 1)

    def npv(total_cost: float = 1.0, discount_rate=c.discount_rate, **values) -> float:
        lines = _benefits(
            c, supported, shares, {k.replace("__", "."): v for k, v in values.items()}
        )
        res = economics.cost_benefit(
            [x * total_cost for x in costs], lines, price_year=c.price_year,
            price_index=c.price_index or None, rate=discount_rate,
            cost_optimism_bias=c.cost_optimism_bias,
        )  # fmt: skip
        return res.npv

    absent = {}
    if rel.facts.get(NO_SECOND_CONTACT):
        absent["measurable_improvement"] = (
            "not measured (the NHS CYP outcomes metric needs "
            f"{needs(rel.facts[NO_SECOND_CONTACT], code=False)})"
        )
    res = economics.cost_benefit(
        costs, _benefits(c, supported, shares, absent=absent), price_year=c.price_year,
        price_index=c.price_index or None, rate=c.discount_rate,
        cost_optimism_bias=c.cost_optimism_bias,
    )  # fmt: skip
    y = res.to_frame()
    summary = pd.DataFrame([{
        "pv_costs": y["pv_costs"].sum(), "pv_benefits": y["pv_benefits"].sum(), "npv": res.npv,
        "bcr": res.bcr, "payback_years": np.nan if res.payback_years is None else res.payback_years,
    }])  # fmt: skip
    rel.stats(summary, "cost_benefit", decimals={"pv_costs": 0, "pv_benefits": 0, "npv": 0,
                                                  "bcr": 2, "payback_years": 1})  # fmt: skip
    b = res.benefits[["benefit", "source", "price_year", "unit_value", "quantity_total",
                      "deadweight", "attribution", "optimism_bias", "present_value"]]  # fmt: skip
    rel.stats(b, "cost_benefit_lines", labels=["benefit", "source", "price_year"],
              decimals={"unit_value": 0, "quantity_total": 0, "deadweight": 2, "attribution": 2,
                        "optimism_bias": 2, "present_value": 0})  # fmt: skip
    if c.sensitivity:
        base = {"total_cost": 1.0}
        ranges = {}
        for key, (lo, hi) in c.sensitivity.items():
            if key == "discount_rate":
                continue  # a rate, not a number of the model's base (handled below)
            name = key.replace(".", "__")
            if key != "total_cost":
                bn, _, f = key.partition(".")
                base[name] = float(getattr(next(x for x in c.benefits if x.name == bn), f))
            ranges[name] = (lo, hi)
        ow = economics.one_way(npv, base, ranges, outcome="net present value")
        t = ow.to_frame()
        if "discount_rate" in c.sensitivity:
            lo, hi = c.sensitivity["discount_rate"]
            r_lo, r_hi = npv(discount_rate=lo), npv(discount_rate=hi)
            base_rate = c.discount_rate if c.discount_rate != "green_book" else 0.035
            t = pd.concat([t, pd.DataFrame([{
                "input": "discount_rate", "base": base_rate, "low": lo, "high": hi,
                "result_low": r_lo, "result_high": r_hi, "swing": abs(r_hi - r_lo)}])])  # fmt: skip
            t = t.sort_values("swing", ascending=False, kind="stable")
        t["input"] = t["input"].str.replace("__", ".", regex=False)
        rel.stats(t, "cost_sensitivity", labels=["input"],
                  decimals={"base": 3, "low": 3, "high": 3, "result_low": 0, "result_high": 0,
                            "swing": 0})  # fmt: skip


def _money(v: object) -> str:
    if v is None or is_hidden(v) or pd.isna(v):
        return "*"
    x = float(v)
    return f"{'−' if x < 0 else ''}£{abs(x):,.0f}"


def render(rel: Release, cfg) -> Section:
    if cfg.costs is None:
        return Section(TITLE, anchor=ANCHOR).note(
            "Left out: no costs in the evaluation config (see docs/economics.md)."
        )
    s = Section(TITLE, anchor=ANCHOR)
    if cfg.costs.illustrative:
        s.note(
            "The costs and unit values in this section are illustrative, made up to show the "
            "method. They are not real unit costs and must not be quoted.",
            kind="warning",
        )
    failure_notes(s, rel, *PARTS)
    by = rel.get("cost_by_category")
    if by is not None:
        total = by.row(category="Total") or {}
        s.text(
            f"The programme cost {_money(total.get('cost'))} in {cfg.costs.price_year} prices "
            f"({len(by) - 1} cost categories)."
        )
    per = rel.get("cost_per_unit")
    if per is not None:
        r = per.row(unit="child or young person seen") or {}
        s.text(f"That is {_money(r.get('cost_per'))} per child or young person seen at least once.")
    po = rel.get("cost_per_outcome")
    if po is not None:
        for r in po.frame.to_dict("records"):
            if is_hidden(r["cost_per"]):
                s.text(
                    f"Cost per {r['outcome']}: not shown (the number of children is small or "
                    "suppressed)."
                )
                continue
            s.text(
                f"Cost per {r['outcome']}: {_money(r['cost_per'])} (95% CI "
                f"{_money(r['ci_low'])} to {_money(r['ci_high'])}), assuming the share seen "
                "among children with paired measures holds for every child supported."
            )
    if po is not None and rel.facts.get(NO_SECOND_CONTACT):
        s.text(
            "No cost per child with measurable improvement: the NHS CYP outcomes metric needs "
            f"{needs(rel.facts[NO_SECOND_CONTACT])}."
        )
    cba = rel.get("cost_benefit")
    if cba is not None:
        r = cba.frame.iloc[0]
        pay = (
            "does not pay back within the appraisal period"
            if is_hidden(r["payback_years"]) or pd.isna(r["payback_years"])
            else f"pays back after {float(r['payback_years']):.1f} years"
        )
        rate = cfg.costs.discount_rate
        rate_text = "the Green Book schedule" if rate == "green_book" else f"{float(rate):.1%}"
        s.text(
            f"Valuing the outcomes with the unit values below (discounted at {rate_text}): "
            f"present value of benefits {_money(r['pv_benefits'])}, of costs "
            f"{_money(r['pv_costs'])}; net present value {_money(r['npv'])}, benefit-cost ratio "
            f"{float(r['bcr']):.2f}; the programme {pay}."
        )
    show_tables(
        s, rel,
        ("cost_by_category", f"Costs by category ({cfg.costs.price_year} prices)"),
        ("cost_per_unit", "Cost per unit of output (released counts)"),
        ("cost_per_outcome", "Cost per outcome achieved, with the 95% CI of the outcome's share"),
        ("cost_benefit", "Cost-benefit summary (present values)"),
        ("cost_benefit_lines",
         "Benefit lines: unit values with their source, deadweight, attribution and optimism bias"),
        ("cost_sensitivity", "One-way sensitivity of the net present value (widest swing first)"),
    )  # fmt: skip
    sens = rel.get("cost_sensitivity")
    if sens is not None:
        from .. import figures

        s.figure(
            figures.tornado(sens),
            "Net present value when each input moves alone from its low to its high value.",
        )
    return s
