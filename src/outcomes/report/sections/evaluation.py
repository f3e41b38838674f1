"""The evaluation: checked inputs -> analyses -> one release -> sections.

:class:`Evaluation` computes the analyses (shared, computed once), then builds one
:class:`~outcomes.report.release.Release` by running each section module's ``release``
function. The section methods (``ev.reach()``, ...) call each module's ``render`` function
with the release and the config only: a section cannot reach a raw analysis result, so it
cannot publish a number that has not been released.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..._internal import drawing
from ...change import adjust_pvalues, paired_change_table
from ...change.pairing import pair_waves
from ...change.reliable import _reliable_change_counts, reliable_change
from ..checks import paired_for_change
from ..config import EvaluationConfig, load_config
from ..inputs import Inputs, load_inputs, scored_survey
from ..release import Release
from ..render import Section
from . import (
    access,
    appendix,
    before_after,
    costs,
    equity,
    experience,
    monitoring,
    outcomes,
    quality,
    reach,
    school,
    scorecard,
    sites,
    summary,
    workforce,
)
from .common import NO_FIRST_CONTACT, NO_SECOND_CONTACT, guard, lacking

#: section modules in release order (a module may read tables released before it; the report
#: order is ``all_sections``); each has ``release(ev, rel)`` and ``render(rel, cfg)``
MODULES = (
    reach, access, before_after, monitoring, outcomes, experience, workforce, school,
    equity, sites, costs, scorecard, quality, appendix,
)  # fmt: skip
#: section modules in the report's order (that of ``all_sections`` and of the notebook)
REPORT_ORDER = (
    summary, scorecard, reach, access, before_after, monitoring, sites, outcomes, experience,
    workforce, school, equity, costs, quality, appendix,
)  # fmt: skip
#: sections about schools (their staff and pupils): left out of a programme whose sites are
#: not schools (``site_kind``), not even as a note
SCHOOL_ONLY = (workforce, school)
PROGRAMME, COMPARISON = "programme", "comparison"


def _note(fact: tuple[str, str]) -> str:
    """The data-quality note's words for a NO_*_CONTACT fact (no code marks: a table cell)."""
    return lacking(fact).replace("`", "")


class Evaluation:
    """Everything the report needs: the checked inputs, the analyses, the release and the
    sections.

    Example:
        >>> ev = Evaluation.from_config("examples/demo_evaluation.yaml", "build/x")  # doctest: +SKIP
        >>> ev.release.get("reach_overall").frame  # doctest: +SKIP
        >>> ev.reach().show()  # doctest: +SKIP
    """

    def __init__(self, inputs: Inputs, output_dir: str | Path):
        self.inputs = inputs
        self.cfg: EvaluationConfig = inputs.config
        self.out = Path(output_dir)
        self.tables_dir = self.out / "tables"
        self.survey_flags: pd.DataFrame | None = None
        self.primary_flags: pd.DataFrame | None = None

    @classmethod
    def from_config(cls, config: str | Path | dict, output_dir: str | Path) -> Evaluation:
        cfg = load_config(config)
        return cls(load_inputs(cfg), output_dir)

    # ------------------------------------------------------------------ the release
    @functools.cached_property
    def release(self) -> Release:
        """Every published number of the report, released once (analyses run here)."""
        d = self.cfg.disclosure
        rel = Release(
            enabled=d.enabled,
            threshold=d.threshold,
            base=d.base,
            decimals=getattr(d, "decimals", 1),
            tables_dir=self.tables_dir,
            rule=d.rule,
        )
        rel.quality.extend(getattr(self.inputs, "quality", None))
        # the surveys' sections must say when every school was taken as a programme school
        rel.facts["cohorts: unknown"] = self._school_cohorts is None
        # a programme may record first contacts only (or a table have the column with no
        # date in it): what needs the second is left out, and each section that would show it
        # says so (NO_SECOND_CONTACT); likewise the first (NO_FIRST_CONTACT)
        rel.facts[NO_FIRST_CONTACT] = self._lacking("first")
        rel.facts[NO_SECOND_CONTACT] = self._lacking("second")
        if rel.facts[NO_FIRST_CONTACT]:
            rel.quality.add(
                "referrals", _note(rel.facts[NO_FIRST_CONTACT]), where="referrals",
                action="left out: waits to first and second contact (overall, by site, team "
                "and month, before and after), first and second contacts per month and the "
                "NHS CYP outcomes metric", warn=False,
            )  # fmt: skip
        elif rel.facts[NO_SECOND_CONTACT]:
            rel.quality.add(
                "referrals", _note(rel.facts[NO_SECOND_CONTACT]),
                where="referrals", action="left out: waits to the second contact, second "
                "contacts per month and the NHS CYP outcomes metric", warn=False,
            )  # fmt: skip
        early = {}
        for mod in self.modules:
            with guard(rel, mod.TITLE):
                mod.release(self, rel)
            if drawing.active() is not None:
                # rendered now, so that its figures are drawn by the other process while the
                # analyses go on here; kept only if what it read is what it would read later
                early[mod] = _Rendered.now(mod, _Watched(rel), self.cfg)
        if early:
            self.__dict__["_early"] = early
        # last, so that it holds every warning met above
        quality.release_quality(self, rel)
        return rel

    @property
    def published(self) -> dict[str, pd.DataFrame]:
        return {k: v.frame for k, v in self.release.tables.items()}

    @property
    def modules(self) -> tuple:
        """The section modules of this programme's report, in order."""
        if self.cfg.site_kind == "school":
            return MODULES
        return tuple(m for m in MODULES if m not in SCHOOL_ONLY)

    def _render(self, mod) -> Section:
        if mod in SCHOOL_ONLY and mod not in self.modules:
            return Section(mod.TITLE, anchor=mod.ANCHOR, omitted=True)
        rel = self.release
        ahead = self._rendered_ahead()
        try:
            if ahead is not None and mod in ahead:
                return ahead.pop(mod)().finish()
            return mod.render(rel, self.cfg).finish()
        except Exception as e:
            return Section(mod.TITLE, anchor=mod.ANCHOR).note(
                f"This section could not be shown: {rel.note_text(str(e))}", kind="warning"
            )

    def _rendered_ahead(self) -> dict | None:
        """While a report is built with a second process drawing figures
        (:func:`outcomes._internal.drawing.parallel`), every section is rendered when the first
        is shown, so that figures are drawn there while the following sections are rendered
        here. Each is then shown when asked for, as it would have been rendered then: its
        figures waited for, the warnings met while rendering it raised again, its error raised.
        Rendering reads the release only, so rendering earlier changes nothing shown."""
        ahead = self.__dict__.get("_ahead")
        if ahead is None and drawing.active() is not None:
            rel = self.release
            early = self.__dict__.pop("_early", {})
            ahead = self.__dict__["_ahead"] = {}
            for mod in REPORT_ORDER:
                if mod in SCHOOL_ONLY and mod not in self.modules:
                    continue
                done = early.get(mod)
                if done is None or not done.still_valid(rel):
                    done = _Rendered.now(mod, rel, self.cfg)
                ahead[mod] = done.shown
        return ahead

    # ------------------------------------------------------------------ sections
    def executive_summary(self) -> Section:
        return self._render(summary)

    def scorecard(self) -> Section:
        return self._render(scorecard)

    def reach(self) -> Section:
        return self._render(reach)

    def before_after(self) -> Section:
        return self._render(before_after)

    def monitoring(self) -> Section:
        return self._render(monitoring)

    def sites(self) -> Section:
        return self._render(sites)

    def access(self) -> Section:
        return self._render(access)

    def outcomes(self) -> Section:
        return self._render(outcomes)

    def experience(self) -> Section:
        return self._render(experience)

    def workforce(self) -> Section:
        return self._render(workforce)

    def school_population(self) -> Section:
        return self._render(school)

    def equity(self) -> Section:
        return self._render(equity)

    def costs(self) -> Section:
        return self._render(costs)

    def data_quality(self) -> Section:
        return self._render(quality)

    def appendix(self) -> Section:
        return self._render(appendix)

    def all_sections(self) -> list[Callable[[], Section]]:
        return [
            self.executive_summary, self.scorecard, self.reach, self.access, self.before_after,
            self.monitoring, self.sites, self.outcomes, self.experience,
            self.workforce, self.school_population, self.equity, self.costs, self.data_quality,
            self.appendix,
        ]  # fmt: skip

    # ------------------------------------------------------------------ analyses
    @property
    def all_referrals(self) -> pd.DataFrame | None:
        """Every checked referral, including those of the pre-programme period."""
        return self.inputs.tables.get("referrals")

    def _in(self, start, end=None) -> pd.Series:
        d = pd.to_datetime(self.all_referrals["referral_date"])
        keep = d >= pd.Timestamp(start)
        return keep & (d <= pd.Timestamp(end)) if end is not None else keep

    @functools.cached_property
    def referrals(self) -> pd.DataFrame | None:
        """The programme's referrals: with a ``service.pre_period``, those from the period
        start on (the earlier ones are the "before" of :attr:`pre_referrals`); else all."""
        ref, pre = self.all_referrals, self.cfg.service.pre_period
        if ref is None or pre is None:
            return ref
        return ref[self._in(self.cfg.period.start)]

    @functools.cached_property
    def pre_referrals(self) -> pd.DataFrame | None:
        """Referrals in ``service.pre_period`` (None without one)."""
        ref, pre = self.all_referrals, self.cfg.service.pre_period
        if ref is None or pre is None:
            return None
        return ref[self._in(pre.start, pre.end)]

    @functools.cached_property
    def as_of(self) -> str:
        return self.cfg.extract_date.isoformat()

    @functools.cached_property
    def inappropriate(self) -> list[str] | None:
        """The inappropriate reasons; None (every not-accepted referral) only when the config
        says so explicitly (``all_not_accepted``) or gives no list."""
        r = self.cfg.service.inappropriate_reasons
        return None if r is None or r == "all_not_accepted" else list(r)

    def waves(self, kind: str, data: pd.DataFrame) -> list[str]:
        """The survey waves to report, in order: ``inputs.waves`` when the inputs give them,
        else the configured waves followed by any other wave present (by median date)."""
        given = (getattr(self.inputs, "waves", None) or {}).get(kind)
        present = [str(w) for w in data["wave"].dropna().astype(str).unique()]
        if given:
            return [str(w) for w in given if str(w) in present]
        cfg = getattr(self.cfg, kind)
        configured = getattr(cfg, "waves", None) or [cfg.baseline_wave, cfg.followup_wave]
        order = [str(w) for w in configured if str(w) in present]
        rest = [w for w in present if w not in order]
        if rest and "date" in data.columns:
            dates = pd.to_datetime(data["date"], errors="coerce")
            med = dates.groupby(data["wave"].astype(str)).median()
            rest = sorted(rest, key=lambda w: (pd.isna(med.get(w)), med.get(w), w))
        return order + rest

    def cohorts(self, data: pd.DataFrame) -> pd.Series:
        """Each row's cohort from its school: 'programme' or 'comparison' (schools table,
        ``school_survey.programme_column``); every row 'programme' without that column."""
        cohort = None if "school_id" not in data.columns else self._school_cohorts
        if cohort is None:
            return pd.Series(PROGRAMME, index=data.index)
        return data["school_id"].map(cohort).fillna("school not listed")

    @functools.cached_property
    def _school_cohorts(self) -> pd.Series | None:
        """Each listed school's cohort by its school_id (None without the schools table's
        programme column): read once for the surveys and the schools listed."""
        schools = self.inputs.tables.get("schools")
        col = self.cfg.school_survey.programme_column
        if schools is None or col not in schools.columns:
            return None
        flag = schools.drop_duplicates("school_id").set_index("school_id")[col]
        flag = flag.map(lambda v: str(v).strip().casefold() in ("true", "1", "yes", "1.0"))
        return flag.map({True: PROGRAMME, False: COMPARISON})

    @functools.cached_property
    def contact_stages(self) -> tuple[str, ...]:
        """The contacts the referrals table dates: first where it has ``first_contact_date``,
        and second where it also has ``second_contact_date`` (a programme may record first
        contacts only); () without referrals. A column present with no date in it was set
        aside as not recorded (:attr:`Inputs.empty_columns`)."""
        ref = self.referrals
        if ref is None or "first_contact_date" not in ref.columns:
            return ()
        return ("first", "second") if "second_contact_date" in ref.columns else ("first",)

    def _lacking(self, stage: str) -> tuple[str, str] | bool:
        """False, or (column, "missing" | "empty"): the referrals column whose lack leaves the
        ``stage`` contact out (the second needs the first too); False without referrals."""
        if self.referrals is None or stage in self.contact_stages:
            return False
        empty = getattr(self.inputs, "empty_columns", {}).get("referrals", [])
        for c in ("first_contact_date", "second_contact_date")[: 1 + (stage == "second")]:
            if c not in self.referrals.columns:
                return (c, "empty" if c in empty else "missing")
        return False

    @functools.cached_property
    def waits(self):
        from ... import service

        return service.waiting_times(
            self.referrals,
            as_of=self.as_of,
            stage=self.contact_stages,
            standard_days=self.cfg.service.standard_days,
            errors="flag",
        )

    @functools.cached_property
    def pairings(self) -> dict[str, object]:
        """Baseline/follow-up pairs per outcome instrument (experience measures excluded)."""
        out = {}
        o = self.cfg.outcomes
        for inst_id, sc in self.inputs.scores.items():
            inst = self.inputs.instruments[inst_id]
            if not paired_for_change(inst_id, inst):
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
    def change_table(self) -> pd.DataFrame:
        # Composite scales only (single HoNOSCA scales count in the NHS metric), in the order
        # the instruments define them.
        order = {
            (i, sc.id): k
            for i in self.pairings
            for k, sc in enumerate(self.inputs.instruments[i].scales)
            if len(sc.parts) > 1
        }
        # One table of every instrument's pairs of those scales: each row is computed from its
        # own measure's pairs alone, so one call gives the rows a call per instrument gave
        # (whose fixed costs were most of its time), and the rows of the other scales were
        # dropped below (15 of HoNOSCA's 20); the adjusted p-values are computed below over
        # the rows kept
        outcome = ["instrument", "rater", "scale"]
        parts = []
        for inst_id, pairing in self.pairings.items():
            pairs = pairing.pairs
            keep = pairs["scale"].isin([s for i, s in order if i == inst_id]).to_numpy()
            if keep.any():
                parts.append(pairs.loc[keep, [*outcome, "pre", "post"]])
        if not parts:
            return pd.DataFrame()
        pairs = pd.concat(parts, ignore_index=True)
        t = paired_change_table(pairs, outcome=outcome).to_frame()
        key = list(zip(t["instrument"], t["scale"], strict=True))
        t = t[[k in order for k in key]]
        t = t.assign(_o=[order[k] for k in zip(t["instrument"], t["scale"], strict=True)])
        t = t.sort_values(["instrument", "_o"], kind="stable").drop(columns="_o")
        t = t.reset_index(drop=True)
        t["p_adj"] = adjust_pvalues(t["p"].to_numpy(), self.cfg.outcomes.adjust)
        return t

    @functools.cached_property
    def reliable_tables(self) -> pd.DataFrame:
        rows = []
        for inst_id, pairing in self.pairings.items():
            inst = self.inputs.instruments[inst_id]
            # the scale labels compared once, and the two score columns only: selecting rows
            # of the pairs (their text too) per scale cost more than the classification
            codes, labels = pd.factorize(pairing.pairs["scale"])
            code = {s: k for k, s in enumerate(labels)}
            pre, post = pairing.pairs["pre"].to_numpy(), pairing.pairs["post"].to_numpy()
            for sc in inst.scales:
                if not (sc.reliable_change and sc.reliable_change.threshold):
                    continue
                at = codes == code.get(sc.id, -2)  # -2: no row (factorize gives NaN -1)
                if at.sum() < 2:
                    continue
                # the counts only (no proportions or CIs: the release computes its own), and
                # without the classification's frame and summary
                counts = _reliable_change_counts(pre[at], post[at], instrument=inst, scale=sc.id)
                count = {m: int(k[0]) for m, (k, _) in counts.items()}
                n = {m: int(d[0]) for m, (_, d) in counts.items()}
                rows.append(
                    {
                        "instrument": inst_id,
                        "scale": sc.id,
                        "n": n["reliable_improvement"],
                        "reliable_improvement": count["reliable_improvement"],
                        "recovered": count["recovered"],
                        "no_reliable_change": count["unchanged"],
                        "reliable_deterioration": count["deteriorated"],
                    }
                )
        return pd.DataFrame(rows)

    def headline(self) -> tuple[str, str] | None:
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
    def headline_change(self) -> tuple[str, str, pd.DataFrame, pd.DataFrame] | None:
        """(instrument, scale, pairs, reliable_change frame) for the headline measure."""
        h = self.headline()
        if h is None:
            return None
        inst_id, scale = h
        inst = self.inputs.instruments[inst_id]
        p = self.pairings[inst_id].pairs
        p = p[p["scale"] == scale].reset_index(drop=True)
        if p.empty:
            return None
        sc = inst.scale(scale)
        kw = {}
        if not (sc.reliable_change and (sc.reliable_change.threshold or sc.reliable_change.sd)):
            kw = {"sd": "baseline", "reliability": 0.8}
        rc = reliable_change(p["pre"], p["post"], instrument=inst, scale=scale, **kw)
        return inst_id, scale, p, rc

    def decimals_for(self, inst_id: str, scale: str) -> int:
        """Decimals for means on a scale (docs/disclosure.md): the configured precision on the
        scale's unit, one more for scales spanning fewer than 10 points."""
        from ..release import scale_decimals

        base = getattr(self.cfg.disclosure, "decimals", 1)
        try:
            lo, hi = self.inputs.instruments[inst_id].scale_range(scale)
        except Exception:
            return base
        return scale_decimals(lo, hi, base)

    @functools.cached_property
    def staff(self) -> pd.DataFrame | None:
        s = self.inputs.tables.get("staff_survey")
        if s is None:
            return None
        return s.assign(cohort=self.cohorts(s).to_numpy())

    @functools.cached_property
    def survey_scores(self) -> pd.DataFrame | None:
        sv = self.inputs.tables.get("school_survey")
        if sv is None:
            return None
        cfg = self.cfg.school_survey
        # the input check's scores (scored once), as scoring this table would give them
        sdq = scored_survey(self.inputs, "school_survey", sv, cfg.sdq_instrument)
        cols = {f"{cfg.swemwbs_prefix}q{i}": f"q{i}" for i in range(1, 8)}
        if all(c in sv.columns for c in cols):
            sw = scored_survey(self.inputs, "school_survey", sv, "swemwbs", columns=cols, keep=[])
            sdq = sdq.assign(swemwbs_raw=sw["raw"], swemwbs_metric=sw["metric"])
        # what scoring flagged (invalid cells set to missing), for the data-quality notes
        self.survey_flags = sdq.attrs.get("issues")
        sdq.attrs = {}
        return sdq.assign(cohort=self.cohorts(sdq).to_numpy())

    @functools.cached_property
    def primary_scores(self) -> pd.DataFrame | None:
        """The primary survey scored on ``school_survey.primary_instrument``, with each row's
        cohort; None without a primary survey. Never joined to the secondary survey: the two
        are different instruments."""
        pv = self.inputs.tables.get("primary_survey")
        if pv is None:
            return None
        scored = scored_survey(
            self.inputs, "primary_survey", pv, self.cfg.school_survey.primary_instrument
        )
        self.primary_flags = scored.attrs.get("issues")  # for the data-quality notes
        scored.attrs = {}
        return scored.assign(cohort=self.cohorts(scored).to_numpy())


class _Rendered:
    """A section rendered ahead of being shown, and what showing it must repeat: the warnings
    met while rendering it, its error."""

    def __init__(self, section: Section | None, error: Exception | None, caught: list, rel):
        self.section, self.error, self.caught = section, error, caught
        # a watched release: what the section read
        self.reads = getattr(rel, "reads", ())
        self.looked_up = getattr(rel, "looked_up", ())
        self.other = getattr(rel, "other", ())

    @classmethod
    def now(cls, mod, rel, cfg: EvaluationConfig) -> _Rendered:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # as the notebook cell would filter them
            try:
                section, error = mod.render(rel, cfg), None
            except Exception as e:
                section, error = None, e
        return cls(section, error, caught, rel)

    def still_valid(self, rel: Release) -> bool:
        """Whether rendering it on the finished release would read the same: every table it
        asked for is the same object (or still absent), and it read nothing else that changes."""
        if self.other or any(rel.tables.get(n) is not t for n, t in self.reads):
            return False
        for attr, key, then in self.looked_up:
            now = getattr(rel, attr).get(key, _ABSENT)
            try:
                if (now is _ABSENT) != (then is _ABSENT) or not bool(now == then):
                    return False
            except (TypeError, ValueError):  # values that do not compare as one answer
                return False
        return True

    def shown(self) -> Section:
        for w in self.caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        if self.error is not None:
            raise self.error
        return self.section


class _Watched:
    """A release as a section sees it while the analyses are still running, noting what the
    section reads: the tables it asks for, the facts and failures it looks up (as they were
    then), and anything else but the release's settings (which makes it read too much)."""

    SETTINGS = frozenset({"enabled", "threshold", "base", "decimals", "rule", "tables_dir"})
    LOOKUPS = frozenset({"facts", "failures"})

    def __init__(self, rel: Release):
        self._rel = rel
        self.reads: list[tuple[str, object]] = []
        self.looked_up: list[tuple[str, object, object]] = []
        self.other: set[str] = set()

    def get(self, name: str):
        table = self._rel.get(name)
        self.reads.append((name, table))
        return table

    def __getattr__(self, name: str):
        value = getattr(self._rel, name)
        if name in self.LOOKUPS:
            return _Lookups(name, value, self)
        if name not in self.SETTINGS:
            self.other.add(name)
        return value


_ABSENT = object()


class _Lookups(dict):
    """One of the release's dicts (facts, failures) as a section reads it: a copy of it as it
    is now, noting each value looked up (kept as it was, to compare with the finished
    release's); reading it as a whole (iterating, counting) or changing it is noted as reading
    too much, so the section is rendered again at the end."""

    def __init__(self, name: str, d: dict, watched: _Watched):
        super().__init__(d)
        self._name, self._watched = name, watched

    def _note(self, key):
        value = dict.get(self, key, _ABSENT)
        kept = value if value is _ABSENT else copy.deepcopy(value)
        self._watched.looked_up.append((self._name, key, kept))
        return value

    def get(self, key, default=None):
        value = self._note(key)
        return default if value is _ABSENT else value

    def __getitem__(self, key):
        value = self._note(key)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return self._note(key) is not _ABSENT


def _read_whole(method: str):
    def read(self, *args, **kwargs):
        self._watched.other.add(f"{self._name}.{method}")
        return getattr(dict, method)(self, *args, **kwargs)

    read.__name__ = method
    return read


for _method in (
    "__iter__", "__len__", "__reversed__", "__eq__", "__ne__", "__or__", "keys", "values",
    "items", "copy", "__setitem__", "__delitem__", "setdefault", "pop", "popitem", "update",
    "clear", "__ior__",
):  # fmt: skip
    setattr(_Lookups, _method, _read_whole(_method))
