"""The sections of the 12-month evaluation report.

Each public method of :class:`Evaluation` returns a :class:`~outcomes.report.render.Section`.
Every published count and percentage goes through :meth:`Evaluation.publish` (disclosure
control unless the config switches it off), and every published table is also written as CSV.
Analyses are computed once and shared between sections (the executive summary reuses them).
Prose is written from published numbers only, so no sentence reveals a suppressed count.
"""

from __future__ import annotations

import functools
import platform
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from .. import disclosure, esq, likert, service, survey
from .._version import __version__
from ..change import paired_change_table
from ..change.outcome_metric import cyp_outcome_metric
from ..change.pairing import pair_waves
from ..change.reliable import reliable_change, reliable_change_summary
from ..errors import OutcomesError
from ..instruments.scoring import score
from ..longitudinal.attrition import TEST_COLUMNS, attrition
from ..longitudinal.imputation import impute_change
from .config import EvaluationConfig, load_config
from .inputs import Inputs, load_inputs, subgroup_columns
from .render import Section, save_csv

EXPERIENCE = ("chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18")
STAT_COLUMNS = (
    "mean_pre", "mean_post", "mean_diff", "ci_low", "ci_high", "d_z", "d_z_ci_low",
    "d_z_ci_high", "d_av", "d_rm", "p", "p_adj",
)  # fmt: skip


def _pct(num: object, den: object) -> str:
    """A percentage from published counts; '*' when either is suppressed or zero."""
    try:
        n, d = float(num), float(den)
    except (TypeError, ValueError):
        return "*"
    return "*" if d <= 0 else f"{100 * n / d:.0f}%"


def _count(x: object) -> str:
    if isinstance(x, str):
        return x
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError):
        return "*"


def _pick(df: pd.DataFrame, *names: str) -> pd.DataFrame:
    """The named columns that exist, in the order given."""
    return df[[c for c in names if c in df.columns]]


def _quiet(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*a, **k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*a, **k)

    return wrapper


class Evaluation:
    """Everything the report needs: the checked inputs, the analyses and the sections.

    Example:
        >>> ev = Evaluation.from_config("examples/demo_evaluation.yaml", "build/x")  # doctest: +SKIP
        >>> ev.reach().show()  # doctest: +SKIP
    """

    def __init__(self, inputs: Inputs, output_dir: str | Path):
        self.inputs = inputs
        self.cfg: EvaluationConfig = inputs.config
        self.out = Path(output_dir)
        self.tables_dir = self.out / "tables"
        self.published: dict[str, pd.DataFrame] = {}

    @classmethod
    def from_config(cls, config: str | Path | dict, output_dir: str | Path) -> Evaluation:
        cfg = load_config(config)
        return cls(load_inputs(cfg), output_dir)

    # ------------------------------------------------------------------ publishing
    def _released(
        self, table: pd.DataFrame, name: str, control: Callable | None = None
    ) -> pd.DataFrame:
        """Apply ``control`` (disclosure control) unless switched off, keep and save as CSV."""
        t = table.copy()
        t.attrs = {}
        if control is not None and self.cfg.disclosure.enabled:
            t = control(t)
            t.attrs = {}
        self.published[name] = t
        save_csv(t, self.tables_dir, name)
        return t

    def publish(self, table: pd.DataFrame, name: str, **roles) -> pd.DataFrame:
        """Disclosure control (unless switched off), then save as CSV under tables/."""
        d = self.cfg.disclosure
        return self._released(
            table.reset_index(drop=True),
            name,
            lambda t: disclosure.apply(t, threshold=d.threshold, base=d.base, **roles),
        )

    def publish_service(self, table: pd.DataFrame, kind: str, name: str) -> pd.DataFrame:
        d = self.cfg.disclosure
        return self._released(
            table, name, lambda t: service.publish(t, kind, threshold=d.threshold, base=d.base)
        )

    def _stat_table(self, df: pd.DataFrame, name: str, n_col: str = "n") -> pd.DataFrame:
        """A table of statistics over n people: n rounded, statistics hidden where n is."""
        stats = [c for c in df.columns if c != n_col and pd.api.types.is_numeric_dtype(df[c])]
        return self.publish(df, name, counts=[n_col], means={c: n_col for c in stats})

    def _missing_section(self, title: str, what: str) -> Section:
        return Section(title).note(f"Left out: {what} not in the evaluation config.")

    # ------------------------------------------------------------------ analyses
    @property
    def referrals(self) -> pd.DataFrame | None:
        return self.inputs.tables.get("referrals")

    @functools.cached_property
    def as_of(self) -> str:
        return self.cfg.extract_date.isoformat()

    @functools.cached_property
    def _inappropriate(self) -> list[str] | None:
        return self.cfg.service.inappropriate_reasons

    @functools.cached_property
    @_quiet
    def reach_tables(self) -> dict[str, pd.DataFrame]:
        ref, kw = self.referrals, {"as_of": self.as_of, "errors": "flag"}
        overall = service.referral_counts(ref, inappropriate=self._inappropriate, **kw)
        by_school = service.referral_counts(
            ref, by="school_id", inappropriate=self._inappropriate, **kw
        )
        seen = service.children_seen(ref, by="school_id", **kw)
        reasons = service.not_accepted_reasons(ref, inappropriate=self._inappropriate, **kw)
        by_source = (
            service.referral_counts(ref, by="source", inappropriate=self._inappropriate, **kw)
            if "source" in ref.columns
            else None
        )
        return {
            "overall": self.publish_service(overall, "referral_counts", "reach_overall"),
            "by_school": self.publish_service(by_school, "referral_counts", "reach_by_school"),
            "seen": self.publish_service(seen, "children_seen", "children_seen_by_school"),
            "reasons": self.publish_service(
                reasons, "not_accepted_reasons", "not_accepted_reasons"
            ),
            "by_source": None
            if by_source is None
            else self.publish_service(by_source, "referral_counts", "reach_by_source"),
        }

    @functools.cached_property
    @_quiet
    def waits(self):
        return service.waiting_times(
            self.referrals,
            as_of=self.as_of,
            standard_days=self.cfg.service.standard_days,
            errors="flag",
        )

    @functools.cached_property
    @_quiet
    def pairings(self) -> dict[str, object]:
        """Baseline/follow-up pairs per outcome instrument (experience measures excluded)."""
        out = {}
        o = self.cfg.outcomes
        for inst_id, sc in self.inputs.scores.items():
            inst = self.inputs.instruments[inst_id]
            if inst_id in EXPERIENCE or not any(
                s.reliable_change or s.clinical_cutoff or len(s.parts) > 1 for s in inst.scales
            ):
                continue
            # Children can be referred more than once: a referral is the unit of pairing.
            keys = ["instrument", "rater"] + (
                ["referral_id"] if "referral_id" in sc.columns else []
            )
            scales = [s.id for s in inst.scales if s.reliable_change or len(s.parts) > 1]
            out[inst_id] = pair_waves(
                sc,
                scales=scales,
                rule=o.rule,
                target_days=o.target_days,
                window_days=o.window_days,
                baseline=o.baseline_wave,
                followup=o.followup_wave,
                keys=keys,
            )
        return out

    @functools.cached_property
    @_quiet
    def change_table(self) -> pd.DataFrame:
        parts = []
        for pairing in self.pairings.values():
            pairs = pairing.pairs
            if pairs.empty:
                continue
            t = paired_change_table(
                pairs, outcome=["instrument", "rater", "scale"], adjust=None
            ).to_frame()
            parts.append(t)
        if not parts:
            return pd.DataFrame()
        t = pd.concat(parts, ignore_index=True)
        # Composite scales only (single HoNOSCA scales count in the NHS metric, below), in the
        # order the instruments define them.
        order = {
            (i, sc.id): k
            for i in self.pairings
            for k, sc in enumerate(self.inputs.instruments[i].scales)
            if len(sc.parts) > 1
        }
        key = list(zip(t["instrument"], t["scale"], strict=True))
        t = t[[k in order for k in key]]
        t = t.assign(_o=[order[k] for k in zip(t["instrument"], t["scale"], strict=True)])
        t = t.sort_values(["instrument", "_o"], kind="stable").drop(columns="_o")
        t = t.reset_index(drop=True)
        # One family of tests for the whole outcomes table, adjusted together.
        from ..change import adjust_pvalues

        t["p_adj"] = adjust_pvalues(t["p"].to_numpy(), self.cfg.outcomes.adjust)
        return t

    @functools.cached_property
    @_quiet
    def reliable_tables(self) -> pd.DataFrame:
        rows = []
        for inst_id, pairing in self.pairings.items():
            inst = self.inputs.instruments[inst_id]
            for sc in inst.scales:
                if not (sc.reliable_change and sc.reliable_change.threshold):
                    continue
                p = pairing.pairs[pairing.pairs["scale"] == sc.id]
                if len(p) < 2:
                    continue
                rc = reliable_change(p["pre"], p["post"], instrument=inst, scale=sc.id)
                f = reliable_change_summary(rc).to_frame().set_index("measure")
                rows.append(
                    {
                        "instrument": inst_id,
                        "scale": sc.id,
                        "n": int(f.loc["reliable_improvement", "denominator"]),
                        "reliable_improvement": int(f.loc["reliable_improvement", "count"]),
                        "recovered": int(f.loc["recovered", "count"]),
                        "no_reliable_change": int(f.loc["unchanged", "count"]),
                        "reliable_deterioration": int(f.loc["deteriorated", "count"]),
                    }
                )
        return pd.DataFrame(rows)

    def _headline(self) -> tuple[str, str] | None:
        inst_id, _, scale = self.cfg.outcomes.headline.partition(".")
        if inst_id in self.pairings and scale:
            return inst_id, scale
        for inst_id in self.pairings:
            inst = self.inputs.instruments[inst_id]
            for sc in inst.scales:
                if sc.reliable_change and sc.reliable_change.threshold and len(sc.parts) > 1:
                    return inst_id, sc.id
        return None

    @functools.cached_property
    @_quiet
    def headline_change(self) -> tuple[str, str, pd.DataFrame, pd.DataFrame] | None:
        """(instrument, scale, pairs, reliable_change frame) for the headline measure."""
        h = self._headline()
        if h is None:
            return None
        inst_id, scale = h
        inst = self.inputs.instruments[inst_id]
        p = self.pairings[inst_id].pairs
        p = p[p["scale"] == scale].reset_index(drop=True)
        sc = inst.scale(scale)
        kw = {}
        if not (sc.reliable_change and (sc.reliable_change.threshold or sc.reliable_change.sd)):
            kw = {"sd": "baseline", "reliability": 0.8}
        rc = reliable_change(p["pre"], p["post"], instrument=inst, scale=scale, **kw)
        return inst_id, scale, p, rc

    @functools.cached_property
    @_quiet
    def outcome_metric(self):
        if self.referrals is None or not self.pairings:
            return None
        scores = [self.inputs.scores[i] for i in self.pairings]
        return cyp_outcome_metric(
            scores,
            self.referrals,
            period_start=self.cfg.period.start.isoformat(),
            period_end=self.cfg.period.end.isoformat(),
        )

    @functools.cached_property
    def staff(self) -> pd.DataFrame | None:
        return self.inputs.tables.get("staff_survey")

    @functools.cached_property
    @_quiet
    def staff_change(self):
        s = self.cfg.staff_survey
        resp = s.respondent_column if s.respondent_column in self.staff.columns else None
        return likert.compare_waves(
            self.staff,
            instrument=s.instrument,
            scale="confidence",
            person_id=resp,
            waves=[s.baseline_wave, s.followup_wave],
        )

    @functools.cached_property
    @_quiet
    def survey_scores(self) -> pd.DataFrame | None:
        sv = self.inputs.tables.get("school_survey")
        if sv is None:
            return None
        cfg = self.cfg.school_survey
        sdq = score(sv, cfg.sdq_instrument, errors="flag")
        cols = {f"{cfg.swemwbs_prefix}q{i}": f"q{i}" for i in range(1, 8)}
        if all(c in sv.columns for c in cols):
            sw = score(sv, "swemwbs", columns=cols, errors="flag", keep=[])
            sdq = sdq.assign(swemwbs_raw=sw["raw"], swemwbs_metric=sw["metric"])
        schools = self.inputs.tables.get("schools")
        if schools is not None and cfg.programme_column in schools.columns:
            flag = schools.set_index("school_id")[cfg.programme_column]
            sdq = sdq.assign(**{cfg.programme_column: sdq["school_id"].map(flag)})
        sdq.attrs = {}
        return sdq

    # ------------------------------------------------------------------ sections
    def executive_summary(self) -> Section:
        s = Section("Executive summary", anchor="executive-summary")
        c = self.cfg
        s.text(
            f"This report evaluates **{c.programme}** from {c.period.start:%d %B %Y} to "
            f"{c.period.end:%d %B %Y} (data extracted {c.extract_date:%d %B %Y}). Figures are "
            "rounded and small numbers suppressed to protect the children and families in them."
        )
        bullets = []
        if self.referrals is not None:
            o = self.reach_tables["overall"].iloc[-1]
            bullets.append(
                f"- **Reach:** {_count(o['received'])} referrals received, "
                f"{_count(o['accepted'])} accepted ({_pct(o['accepted'], o['decided'])} of those decided)."
            )
            w = self.waits.to_frame().set_index("stage")
            if "first" in w.index:
                f = w.loc["first"]
                bullets.append(
                    f"- **Access:** median wait from referral to first contact {f['median_days']:.0f} days; "
                    f"{100 * f['within_standard']:.0f}% seen within {c.service.standard_days} days "
                    "(Kaplan-Meier estimate, counting children still waiting)."
                )
        if not self.change_table.empty:
            h = self.headline_change
            if h is not None:
                inst_id, scale, _, _ = h
                row = self.change_table[
                    (self.change_table["instrument"] == inst_id)
                    & (self.change_table["scale"] == scale)
                ]
                if len(row):
                    r = row.iloc[0]
                    n = self.publish(
                        pd.DataFrame({"n": [int(r["n"])]}), "headline_n", counts=["n"]
                    )["n"].iloc[0]
                    better = self.inputs.instruments[inst_id].scale(scale).higher_is_better
                    direction = (
                        "an improvement" if (r["mean_diff"] > 0) == better else "a worsening"
                    )
                    hidden = isinstance(n, str)
                    bullets.append(
                        f"- **Outcomes:** on {inst_id} {scale}, children with paired scores "
                        + (
                            "were too few to report."
                            if hidden
                            else f"(n = {_count(n)}) changed by {r['mean_diff']:+.2f} points on "
                            f"average, {direction} (95% CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}; "
                            f"d_z = {r['d_z']:.2f})."
                        )
                    )
        m = self.outcome_metric
        if m is not None:
            t = self._metric_published()
            parts = [
                f"{r['rater']}-rated measures: {_pct(r['n_improvement'], r['n_paired'])} measurable "
                f"improvement, {_pct(r['n_deterioration'], r['n_paired'])} deterioration "
                f"(of {_count(r['n_paired'])} closed referrals with a paired score)"
                for r in t.to_dict("records")
                if r["rater"] != "any"
            ]
            if parts:
                bullets.append("- **NHS CYP outcomes metric:** " + "; ".join(parts) + ".")
        if any(i in self.inputs.scores for i in EXPERIENCE):
            t = self._esq_published()
            tot_ct = pd.to_numeric(t["certainly_true"], errors="coerce").sum()
            tot_n = pd.to_numeric(t["n"], errors="coerce").sum()
            bullets.append(
                f"- **Experience:** {_pct(tot_ct, tot_n)} of CHI-ESQ answers were "
                "'Certainly true' (all items and versions)."
            )
        if self.staff is not None:
            f = self.staff_change.to_frame()
            r = f[f["outcome"] == "confidence"]
            if len(r):
                r = r.iloc[0]
                bullets.append(
                    f"- **Workforce confidence:** staff answering at both waves moved from "
                    f"{r['mean_baseline']:.2f} to {r['mean_followup']:.2f} on the 1-5 scale "
                    f"(change {r['mean_change']:+.2f}, 95% CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f})."
                )
        if self.survey_scores is not None:
            comp = self._survey_comparison()
            if comp is not None:
                f = comp.to_frame()
                p = f[f["primary"]].iloc[0]
                bullets.append(
                    f"- **School population:** {p['estimand']}: {100 * p['estimate']:+.1f} percentage "
                    f"points (95% CI {100 * p['ci_low']:+.1f} to {100 * p['ci_high']:+.1f})."
                )
        if bullets:
            s.text("\n".join(bullets))
        if not c.disclosure.enabled:
            s.note(
                "Disclosure control was switched off in the config: this report shows exact "
                "small numbers and must not be published.",
                kind="warning",
            )
        return s

    def reach(self) -> Section:
        if self.referrals is None:
            return self._missing_section("Reach", "the referrals table is")
        s = Section("Reach: referrals and children supported", anchor="reach")
        t = self.reach_tables
        o = t["overall"].iloc[-1]
        s.text(
            f"{_count(o['received'])} referrals were received; {_count(o['accepted'])} were accepted "
            f"and {_count(o['not_accepted'])} not accepted ({_count(o['pending'])} awaiting a decision). "
            f"The inappropriate-referral rate was {_pct(o['inappropriate'], o['decided'])} of decided referrals."
        )
        s.table(t["by_school"], "Referrals by school", "reach_by_school")
        seen = t["seen"]
        s.table(
            seen,
            "Children and young people seen at least once and at least twice, by school",
            "children_seen_by_school",
        )
        s.table(t["reasons"], "Referrals not accepted, by reason", "not_accepted_reasons")
        if t["by_source"] is not None:
            s.table(t["by_source"], "Referrals by source", "reach_by_source")
        return s

    @_quiet
    def access(self) -> Section:
        if self.referrals is None:
            return self._missing_section("Access", "the referrals table is")
        s = Section("Access: waiting times", anchor="access")
        w = self.waits
        f = w.to_frame()
        s.text(
            f"Waits are measured from referral to first and to second contact, against the "
            f"{self.cfg.service.standard_days}-day standard. Referrals still waiting on "
            f"{self.cfg.extract_date:%d %B %Y} are counted as censored waits (Kaplan-Meier), never dropped."
        )
        s.table(
            self.publish_service(f, "waits", "waits_overall"),
            "Waiting times (days)",
            "waits_overall",
        )
        s.figure(
            w.plot(stage="first"),
            "Share of accepted referrals with a first contact, by days since referral (Kaplan-Meier; "
            "dotted line: the standard)",
        )
        by_school = service.waiting_times(
            self.referrals, as_of=self.as_of, by="school_id", stage="first",
            standard_days=self.cfg.service.standard_days, errors="flag",
        ).to_frame()  # fmt: skip
        s.table(
            self.publish_service(by_school, "waits", "waits_by_school"),
            "Wait to first contact by school",
            "waits_by_school",
        )
        monthly = service.monthly_activity(
            self.referrals, as_of=self.as_of, inappropriate=self._inappropriate, errors="flag"
        )
        pm = self.publish_service(monthly, "activity", "monthly_activity")
        s.table(pm, "Monthly activity", "monthly_activity")
        trend = service.inappropriate_trend(
            self.referrals,
            change_date=self.cfg.service.change_date,
            inappropriate=self._inappropriate,
            as_of=self.as_of,
            errors="flag",
        )
        s.figure(trend.plot(), "Inappropriate referrals: monthly rate and fitted trend")
        tf = trend.to_frame()
        s.table(
            self._plain_stats(tf, "inappropriate_trend"),
            "Trend in the inappropriate-referral rate (segmented regression)",
            "inappropriate_trend",
        )
        return s

    def _plain_stats(self, df: pd.DataFrame, name: str) -> pd.DataFrame:
        """Model coefficients and labels (no counts): published as they are, and saved."""
        return self._released(df, name)

    @_quiet
    def outcomes(self) -> Section:
        if not self.pairings:
            return self._missing_section("Outcomes", "no outcome measure responses are")
        s = Section("Outcomes: did children get better?", anchor="outcomes")
        s.text(
            "Each child's first and last score on a measure are paired (same rater). Changes "
            "are follow-up minus baseline; whether a fall is an improvement depends on the "
            "measure's direction. Effect sizes: d_z = mean change / SD of change, with an exact "
            f"confidence interval; p-values adjusted for multiple testing ({self.cfg.outcomes.adjust})."
        )
        comp, reasons = [], []
        for inst_id, pairing in self.pairings.items():
            inst = self.inputs.instruments[inst_id]
            main = next((sc.id for sc in inst.scales if len(sc.parts) > 1), inst.scales[0].id)
            r = pairing.records[pairing.records["scale"] == main]
            unit = "referral_id" if "referral_id" in r.columns else "person_id"
            comp.append(
                {
                    "instrument": inst_id,
                    "scale": main,
                    "referrals": r[unit].nunique(),
                    "records": len(r),
                    "paired": int((r["status"] == "baseline").sum()),
                }
            )
            unpaired = r[r["status"] == "unpaired"]
            for reason, n in unpaired["reason"].value_counts().items():
                reasons.append({"instrument": inst_id, "reason": reason, "records": int(n)})
        comp = pd.DataFrame(comp)
        s.table(
            self.publish(comp, "paired_completion", counts=["referrals", "records", "paired"]),
            "Paired-score completion by measure: referrals with a score, score records, and "
            "referrals with a baseline and a follow-up score",
            "paired_completion",
        )
        if reasons:
            s.table(
                self.publish(pd.DataFrame(reasons), "unpaired_records", counts=["records"]),
                "Score records not paired, and why",
                "unpaired_records",
            )
        ct = self.change_table
        keep = ["instrument", "rater", "scale", "n", *[c for c in STAT_COLUMNS if c in ct.columns]]
        s.table(
            self._stat_table(ct[keep], "change_by_measure"),
            "Change from baseline to follow-up per measure",
            "change_by_measure",
        )
        rt = self.reliable_tables
        if not rt.empty:
            pub = self.publish(
                rt,
                "reliable_change",
                counts=[
                    "n",
                    "reliable_improvement",
                    "recovered",
                    "no_reliable_change",
                    "reliable_deterioration",
                ],
            )
            s.table(
                pub,
                "Reliable change per measure (NHS England thresholds; recovered = reliably improved and moved out of the clinical range)",
                "reliable_change",
            )
        m = self.outcome_metric
        if m is not None:
            s.text(
                "**NHS England CYP outcomes metric.** Closed referrals with at least two contacts; "
                "a paired score is the same measure from the same rater. Measurable improvement = "
                "reliable improvement on at least one measure and reliable deterioration on none."
            )
            s.table(
                self._metric_published(), "NHS CYP outcomes metric by rater", "cyp_outcome_metric"
            )
        h = self.headline_change
        if h is not None:
            inst_id, scale, _, rc = h
            summ = reliable_change_summary(rc)
            ax = summ.plot()
            # The legend's exact group sizes can be 1-7: drop them (the table above publishes
            # the rounded counts), and show the scale's own range.
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles, [re.sub(r" \(\d+\)$", "", lab) for lab in labels], fontsize="small")
            lo, hi = self.inputs.instruments[inst_id].scale_range(scale)
            pad = 0.05 * (hi - lo)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            s.figure(
                ax,
                f"Jacobson-Truax plot: {inst_id} {scale}, baseline against follow-up (each point a child)",
            )
        return s

    def _metric_published(self) -> pd.DataFrame:
        if "cyp_outcome_metric" in self.published:
            return self.published["cyp_outcome_metric"]
        f = self.outcome_metric.to_frame()
        counts = ["n_referrals", "n_paired", "n_improvement", "n_no_change", "n_deterioration"]
        pcts = {
            "pct_paired": ("n_paired", "n_referrals"),
            "pct_improvement": ("n_improvement", "n_paired"),
            "pct_no_change": ("n_no_change", "n_paired"),
            "pct_deterioration": ("n_deterioration", "n_paired"),
        }
        t = f[["rater", *counts, *pcts]]
        t = t[t["n_paired"] > 0] if (f["n_paired"] > 0).any() else t
        return self.publish(
            t, "cyp_outcome_metric", counts=counts, percentages=pcts, column_totals={}
        )

    def _esq_published(self) -> pd.DataFrame:
        if "esq_items" in self.published:
            return self.published["esq_items"]
        frames = [
            self.inputs.responses[i].assign(instrument=i)
            for i in EXPERIENCE
            if i in self.inputs.responses
        ]
        summ = esq.item_summary(pd.concat(frames, ignore_index=True)).to_frame()
        cols = ["version", "item", "label", "n", "certainly_true", "prop_certainly_true"]
        return self.publish(
            summ[cols],
            "esq_items",
            counts=["n", "certainly_true"],
            percentages={"prop_certainly_true": ("certainly_true", "n")},
            percent_scale=1.0,
            decimals=3,
            column_totals={},
        )

    @_quiet
    def experience(self) -> Section:
        present = [i for i in EXPERIENCE if i in self.inputs.responses]
        if not present:
            return self._missing_section("Experience", "no CHI-ESQ responses are")
        s = Section("Experience of the service (CHI-ESQ)", anchor="experience")
        t = self._esq_published()
        s.text(
            "The share of answers 'Certainly true' to each statement, by questionnaire version. "
            "'Don't know' and blank answers are not counted in n."
        )
        s.table(t, "CHI-ESQ: share answering 'Certainly true' per item", "esq_items")
        frames = [self.inputs.responses[i].assign(instrument=i) for i in present]
        texts = esq.free_text(pd.concat(frames, ignore_index=True), seed=0)
        if len(texts) and not self.cfg.experience.quote_free_text:
            # Comments can name people, and no program can reliably remove names: they go to
            # a file for a person to read, and into the report only when the config says so.
            review = self.out / "for_review"
            save_csv(texts[["version", "field_label", "text"]], review, "esq_comments")
            s.note(
                "Free-text comments were collected. They are not quoted here: comments can "
                "name children, families or staff. They are written to "
                "`for_review/esq_comments.csv` (not for publication) for someone to read; set "
                "`experience: {quote_free_text: true}` to quote a sample once they are checked."
            )
        elif len(texts):
            per_field = texts.groupby(["version", "field"], sort=False).head(5)
            s.text(
                "**What families and young people said** (a sample of free-text answers, "
                "checked before publication; contact details are removed automatically):"
            )
            s.table(
                per_field[["version", "field_label", "text"]],
                "Free-text comments (sample)",
                "esq_comments",
            )
        return s

    @_quiet
    def workforce(self) -> Section:
        if self.staff is None:
            return self._missing_section("Workforce confidence", "the staff survey is")
        cfg = self.cfg.staff_survey
        s = Section("Workforce confidence", anchor="workforce")
        summ = likert.item_summary(self.staff, instrument=cfg.instrument, by="wave")
        cols = ["wave", "item", "label", "n", "agree", "prop_agree"]
        pub = self.publish(
            summ[cols].sort_values(["item", "wave"]),
            "staff_items",
            counts=["n", "agree"],
            percentages={"prop_agree": ("agree", "n")},
            percent_scale=1.0,
            decimals=3,
            column_totals={},
        )
        s.text(
            "Staff in programme schools answered the WCS-10 at baseline and 12 months. "
            "'Agree' = agree or strongly agree."
        )
        s.table(pub, "Share of staff agreeing with each statement, by wave", "staff_items")
        for wave in (cfg.baseline_wave, cfg.followup_wave):
            sub = self.staff[self.staff["wave"] == wave]
            if len(sub):
                ax = likert.plot_diverging(
                    sub, instrument=cfg.instrument, title=f"WCS-10 items: {wave}"
                )
                s.figure(ax, f"Distribution of answers per item, {wave}")
        ch = self.staff_change.to_frame()
        ch = ch.rename(columns={"n_pairs": "n"})
        keep = _pick(
            ch,
            "outcome",
            "n",
            "mean_baseline",
            "mean_followup",
            "mean_change",
            "ci_low",
            "ci_high",
            "d_z",
            "t_p",
        ).columns.tolist()
        s.table(
            self._stat_table(ch[keep], "staff_change"),
            "Change between waves for staff who answered both",
            "staff_change",
        )
        rel = likert.reliability(
            self.staff[self.staff["wave"] == cfg.baseline_wave], instrument=cfg.instrument
        )
        rel = _pick(rel, "n", "k", "alpha", "alpha_ci_low", "alpha_ci_high", "omega")
        s.table(
            self._stat_table(rel, "staff_reliability"),
            "Reliability of the confidence scale at baseline (Cronbach's alpha with Feldt CI; McDonald's omega)",
            "staff_reliability",
        )
        return s

    def _survey_comparison(self):
        if "_survey_cmp" not in self.__dict__:
            sv, cfg = self.survey_scores, self.cfg.school_survey
            prog = (
                cfg.programme_column
                if cfg.programme_column in sv.columns and sv[cfg.programme_column].nunique() > 1
                else None
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.__dict__["_survey_cmp"] = survey.compare_prevalence(
                        sv,
                        "total_difficulties_band",
                        bands=cfg.sdq_bands,
                        waves=[cfg.baseline_wave, cfg.followup_wave],
                        cluster="school_id",
                        programme=prog,
                    )
            except OutcomesError:
                self.__dict__["_survey_cmp"] = None
        return self.__dict__["_survey_cmp"]

    @_quiet
    def school_population(self) -> Section:
        sv = self.survey_scores
        if sv is None:
            return self._missing_section("The school population", "the school survey is")
        cfg = self.cfg.school_survey
        s = Section("The school population against its baseline", anchor="school-population")
        s.text(
            f"Pupils answered the SDQ self-report (and SWEMWBS) at {cfg.baseline_wave} and "
            f"{cfg.followup_wave}. A probable difficulty is an SDQ total in the "
            f"{' or '.join(cfg.sdq_bands)} band. Pupils in one school resemble each other, so "
            "confidence intervals are widened by the design effect (cluster-adjusted)."
        )
        prev = survey.prevalence(
            sv, "total_difficulties_band", bands=cfg.sdq_bands, by="wave", cluster="school_id"
        )
        cols = ["wave", "n", "cases", "prevalence", "icc", "deff", "ci_low_adj", "ci_high_adj"]
        prev = _pick(prev, *cols)
        s.table(
            self.publish(
                prev, "survey_prevalence", counts=["n", "cases"],
                percentages={"prevalence": ("cases", "n")}, percent_scale=1.0, decimals=3,
                means={c: "n" for c in ("icc", "deff", "ci_low_adj", "ci_high_adj") if c in prev.columns},
                column_totals={},
            ),
            "Prevalence of probable difficulties by wave, with cluster-adjusted 95% CI",
            "survey_prevalence",
        )  # fmt: skip
        by_school = survey.prevalence(
            sv, "total_difficulties_band", bands=cfg.sdq_bands, by=["school_id", "wave"]
        )
        by_school = by_school[["school_id", "wave", "n", "cases", "prevalence"]]
        s.table(
            self.publish(
                by_school, "survey_prevalence_by_school", counts=["n", "cases"],
                percentages={"prevalence": ("cases", "n")}, percent_scale=1.0, decimals=3,
                column_totals={},
            ),
            "Prevalence by school and wave",
            "survey_prevalence_by_school",
        )  # fmt: skip
        comp = self._survey_comparison()
        if comp is not None:
            f = comp.to_frame()
            t = _pick(
                f,
                "method",
                "estimand",
                "estimate",
                "ci_low",
                "ci_high",
                "p",
                "n_baseline",
                "n_followup",
                "n_clusters",
                "primary",
            )
            t = t.assign(primary=t["primary"].map({True: "yes", False: "no"}))
            pupils = [c for c in ("n_baseline", "n_followup") if c in t.columns]
            stats = [
                c for c in t.columns if c not in pupils and pd.api.types.is_numeric_dtype(t[c])
            ]
            s.table(
                self.publish(t, "survey_comparison", counts=pupils, keep=stats, column_totals={}),
                "Change in prevalence between waves",
                "survey_comparison",
            )
            s.figure(comp.plot(), "Prevalence of probable difficulties by wave")
        if "swemwbs_metric" in sv.columns:
            mm = survey.means(sv, "swemwbs_metric", by="wave", cluster="school_id")
            keep = _pick(
                mm, "wave", "n", "mean", "sd", "ci_low_adj", "ci_high_adj"
            ).columns.tolist()
            s.table(
                self._stat_table(mm[keep], "survey_swemwbs"),
                "SWEMWBS metric score by wave (cluster-adjusted 95% CI)",
                "survey_swemwbs",
            )
        return s

    @_quiet
    def equity(self) -> Section:
        s = Section("Equity: for whom did it work?", anchor="equity")
        done = False
        if self.referrals is not None:
            groups = subgroup_columns(self.referrals, self.cfg.subgroups)
            for g in groups:
                t = service.referral_counts(
                    self.referrals,
                    by=g,
                    inappropriate=self._inappropriate,
                    as_of=self.as_of,
                    errors="flag",
                )
                s.table(
                    self.publish_service(t, "referral_counts", f"reach_by_{g}"),
                    f"Referrals by {g}",
                    f"reach_by_{g}",
                )
                done = True
        h = self.headline_change
        if h is not None:
            inst_id, scale, pairs, rc = h
            frame = pd.concat([pairs, rc[["reliable_improvement"]]], axis=1)
            sc = self.inputs.scores[inst_id]
            demo = sc.drop_duplicates("person_id").set_index("person_id")
            groups = subgroup_columns(demo, self.cfg.subgroups)
            rows = []
            for g in groups:
                lab = frame["person_id"].map(demo[g])
                for level, sub in frame.groupby(lab, dropna=True, sort=True):
                    if len(sub) < 2:
                        rows.append({"group": g, "level": str(level), "n": len(sub)})
                        continue
                    rows.append(
                        {
                            "group": g, "level": str(level), "n": len(sub),
                            "mean_change": float(sub["change"].mean()),
                            "reliable_improvement": int(sub["reliable_improvement"].sum()),
                        }
                    )  # fmt: skip
            if rows:
                eq = pd.DataFrame(rows)
                pub = self.publish(
                    eq, "equity_outcomes", counts=["n", "reliable_improvement"],
                    means={"mean_change": "n"}, groups="group", column_totals={},
                )  # fmt: skip
                s.text(
                    f"Change on {inst_id} {scale} and reliable improvement, by group. Groups are "
                    "small: differences between them are descriptive, not tests."
                )
                s.table(
                    pub,
                    f"{inst_id} {scale}: change and reliable improvement by group",
                    "equity_outcomes",
                )
                done = True
        if not done:
            s.note("Left out: no subgroup columns were found in the data.")
        return s

    @_quiet
    def data_quality(self) -> Section:
        s = Section("Data quality and methods", anchor="data-quality")
        acc = self.inputs.accounting
        s.text(
            "Every input row is accounted for: scored, or flagged and excluded with a reason. "
            "Identifiers were replaced by keyed pseudonyms before analysis."
        )
        s.table(
            self.publish(
                acc,
                "input_accounting",
                counts=["rows", "invalid_cells", "rows_excluded"],
                column_totals={},
            ),
            "Input tables: rows read, invalid cells and rows excluded",
            "input_accounting",
        )
        if len(self.inputs.issues):
            iss = (
                self.inputs.issues.groupby(["table", "reason"]).size().rename("cells").reset_index()
            )
            s.table(
                self.publish(iss, "input_issues", counts=["cells"], column_totals={}),
                "Problems found in the inputs",
                "input_issues",
            )
        h = self._headline()
        if h is not None:
            inst_id, scale = h
            long = self._long_for(inst_id, scale)
            if long is not None:
                demo = [
                    c for c in self.cfg.subgroups if c in long.columns and long[c].nunique() >= 2
                ][:3]
                try:
                    att = attrition(long, scale, "wave_order", person_id="unit", demographics=demo)
                    c = att.completion
                    counts = self.publish(
                        pd.DataFrame(
                            {"with_baseline": [c["n_children"]], "completed": [c["n_completers"]]}
                        ),
                        "attrition_counts",
                        counts=["with_baseline", "completed"],
                        column_totals={},
                    ).iloc[0]
                    # The result's own summary quotes exact (possibly small) counts: the
                    # published sentence is built from rounded counts and the verdict only.
                    s.text(
                        f"**Attrition ({inst_id} {scale}).** Of {_count(counts['with_baseline'])} "
                        f"referrals with a baseline score, {_count(counts['completed'])} "
                        f"({_pct(counts['completed'], counts['with_baseline'])}) had a follow-up "
                        f"score. {self._rounded_counts_in(att.verdict)}"
                    )
                    at = att.to_frame()
                    # test statistics only: the counts and group means stay behind
                    keep = [
                        c
                        for c in TEST_COLUMNS
                        if c in at.columns and not c.startswith(("n_", "mean"))
                    ]
                    s.table(
                        self._plain_stats(at[keep], "attrition"),
                        "Completers against non-completers at baseline",
                        "attrition",
                    )
                except OutcomesError as e:
                    s.note(f"Attrition analysis not possible: {e}")
                try:
                    imp = impute_change(
                        long, scale, "wave_order", person_id="unit", m=10, seed=0, mixed=False
                    )
                    s.text(
                        "**Sensitivity analysis.** The change estimated from completers only is "
                        "set beside estimates that use every child with a baseline score "
                        "(multiple imputation by chained equations, pooled with Rubin's rules)."
                    )
                    it = imp.to_frame()
                    s.table(
                        self._plain_stats(
                            # no counts, and no df: a paired t's df is n - 1, an exact count
                            it[[c for c in it.columns if not c.startswith("n") and c != "df"]],
                            "sensitivity",
                        ),
                        "Completers against multiple imputation",
                        "sensitivity",
                    )
                except OutcomesError as e:
                    s.note(f"Multiple imputation not possible: {e}")
        s.text(
            "**Limitations.** This is an uncontrolled before-and-after evaluation: children "
            "referred at a difficult time tend to improve anyway (regression to the mean), so "
            "change cannot all be credited to the service. Children without a follow-up score "
            "may differ from those with one; the sensitivity analysis shows how much that could "
            "matter. School survey waves compare different pupils unless they can be linked. "
            "Small numbers are suppressed, so some groups cannot be reported."
        )
        return s

    def _rounded_counts_in(self, text: str) -> str:
        """Counts of people quoted in a result sentence, put through the small-numbers rule."""
        if not self.cfg.disclosure.enabled:
            return text
        import re

        t, base = self.cfg.disclosure.threshold, self.cfg.disclosure.base

        def safe(m: re.Match) -> str:
            n = int(m.group(1))
            shown = (
                "0"
                if n == 0
                else ("fewer than " + str(t + 1) if n <= t else str(base * round(n / base)))
            )
            return m.group(0).replace(m.group(1), shown, 1)

        return re.sub(
            r"\b(\d+) (?:non-completer|completer|child|children|referral|people|person)", safe, text
        )

    def _long_for(self, inst_id: str, scale: str) -> pd.DataFrame | None:
        """One row per referral (unit) per wave: baseline (0) and, where paired, follow-up (1)."""
        pairing = self.pairings.get(inst_id)
        if pairing is None:
            return None
        sc = self.inputs.scores[inst_id]
        unit = "referral_id" if "referral_id" in sc.columns else "person_id"
        # Baseline: each unit's first scored record, as the pairing uses it; follow-up: the
        # record the pairing took as the unit's follow-up.
        first = sc.dropna(subset=[scale]).sort_values("date").groupby(unit, sort=False).head(1)
        demo = [c for c in self.cfg.subgroups if c in first.columns]
        base = first[[unit, "person_id", scale, *demo]].assign(wave_order=0)
        p = pairing.pairs[pairing.pairs["scale"] == scale]
        fol = pd.DataFrame(
            {unit: sc.loc[p["row_post"].to_numpy(), unit].to_numpy(), scale: p["post"].to_numpy()}
        ).assign(wave_order=1)
        fol = fol.merge(base.drop(columns=[scale, "wave_order"]), on=unit, how="inner")
        long = pd.concat([base, fol], ignore_index=True).rename(columns={unit: "unit"})
        return long if long["wave_order"].nunique() == 2 else None

    def appendix(self) -> Section:
        s = Section("Appendix: instruments, versions and inputs", anchor="appendix")
        rows = [
            {"instrument": i.id, "name": i.name, "version": i.version, "respondent": i.respondent}
            for i in self.inputs.instruments.values()
        ]
        extra = {self.cfg.staff_survey.instrument, self.cfg.school_survey.sdq_instrument, "swemwbs"}
        from ..instruments import load_instrument

        for i in sorted(extra - set(self.inputs.instruments)):
            inst = load_instrument(i)
            rows.append(
                {
                    "instrument": inst.id,
                    "name": inst.name,
                    "version": inst.version,
                    "respondent": inst.respondent,
                }
            )
        s.table(self._plain_stats(pd.DataFrame(rows), "instruments"), "Instruments", "instruments")
        s.text(
            f"Produced with outcomes {__version__} on Python {platform.python_version()}. "
            "Scoring rules for each instrument are in the instrument catalogue of the "
            "documentation, generated from the same YAML definitions that scored these data."
        )
        files = pd.DataFrame(
            [
                {"input": k, "file": self.cfg.input_files()[k].name, "sha256": v}
                for k, v in self.inputs.hashes.items()
            ]
        )
        s.table(
            self._plain_stats(files, "input_files"),
            "Input files and their SHA-256 hashes",
            "input_files",
        )
        cfg = self.cfg.model_dump(mode="json", exclude={"source"})
        s.text("**Configuration used:**")
        s.blocks.append(_Pre(yaml.safe_dump(cfg, sort_keys=False)))
        return s

    def all_sections(self) -> list[Callable[[], Section]]:
        return [
            self.executive_summary, self.reach, self.access, self.outcomes, self.experience,
            self.workforce, self.school_population, self.equity, self.data_quality, self.appendix,
        ]  # fmt: skip


class _Pre:
    def __init__(self, text: str):
        self.text = text

    def to_html(self) -> str:
        import html

        return f"<pre>{html.escape(self.text)}</pre>"
