"""The NHS England children and young people's (CYP) outcomes metric.

Following the public reference implementation (NHSDigital/mental-health-monthly-statistics,
``menh_bbrb/notebooks/02_Specific_Prepare/05_cyp_outcomes/cyp_outcomes_prep.py``; measures
MHS110-MHS115 in its metadata), restated in specs/instruments.md:

* In scope: closed referrals (a discharge date), aged 0-17 at referral, with at least 2
  contacts (a second contact date) on or before discharge.
* A paired score is the same measure from the same rater (self, parent, clinician): the first
  score on or after the first contact, and the last score that is later than the first and on
  or after the second contact; scores after discharge do not count.
* A measure is every scale with a reliable-change threshold in its instrument YAML (HoNOSCA
  scales 1-13 each count separately; SDQ subscales and impact; SWEMWBS; each GBO goal). A change
  is reliable when |last - first| >= threshold; its direction follows ``higher_is_better``.
* Per referral and rater: measurable improvement = reliable improvement on at least one paired
  measure and reliable deterioration on none; deterioration = reliable deterioration on any;
  otherwise no measurable change.
* Published: % of in-scope referrals with a paired score; of those, % improvement / no change /
  deterioration. We add the counts behind every percentage, Wilson CIs and an "any rater" row
  (paired by any rater, as MHS112; its outcome pools every rater's measures, which is our
  extension, not a published NHS figure).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._internal.columns import check_frame, require_columns
from .._internal.dates import dates_or_raise, to_timestamp
from .._internal.ids import is_in
from .._internal.params import (
    BY,
    COUNT,
    ERRORS,
    NON_NEGATIVE,
    PROBABILITY,
    Options,
    Pair,
    deprecated_values,
    renamed_params,
    validate_params,
)
from .._internal.quality import QualityRecord, with_notes
from .._stats import wilson_ci
from ..errors import DataStructureError, OutcomesError

__all__ = ["OutcomeMetricResult", "OutcomeMetricWarning", "cyp_outcome_metric"]

ANY_RATER = "any"
STANDARD_RATERS = ("self", "parent", "clinician")
OUTCOMES = ("improvement", "no_change", "deterioration")

# Reasons a referral is out of scope, in the order they are tested (the first one is kept).
NOT_ACCEPTED = "not accepted"
NOT_CLOSED = "not closed (no discharge date)"
OUTSIDE_PERIOD = "closed outside the reporting period"
AGE_UNKNOWN = "age at referral unknown"
AGE_OUTSIDE = "age at referral outside the age range"
FEW_CONTACTS = "fewer than 2 contacts"
CONTACT2_MISSING = "second contact date missing although n_contacts >= 2"
CONTACTS_INCONSISTENT = "second contact date given although n_contacts < 2"
DATES_ORDER = "contact dates out of order (second before first, or after discharge)"
REFERRAL_PROBLEMS = (CONTACT2_MISSING, CONTACTS_INCONSISTENT, DATES_ORDER)

# Reasons a score record x measure is not used.
S_NO_REFERRAL = "no matching referral"
S_AMBIGUOUS = "several referrals of this person cover this date"
S_PERSON_MISMATCH = "person_id differs from the referral's person_id"
S_OUT_OF_SCOPE = "referral out of scope"
S_MISSING = "score missing"
S_DATE_MISSING = "date missing"
S_BEFORE = "before the first contact"
S_AFTER = "after discharge or the end of the period"
S_DUPLICATE = "duplicate scores on one date for this measure"
S_DUP_SERIES = "measure not paired: duplicate scores on another date"
S_INTERMEDIATE = "neither the first nor the last score"
S_NO_LAST = "no later score on or after the second contact"
SCORE_PROBLEMS = (S_AMBIGUOUS, S_PERSON_MISMATCH, S_DUPLICATE)


class OutcomeMetricWarning(UserWarning):
    """Some referrals or scores were excluded because of a data problem (see .problems)."""


@dataclass
class OutcomeMetricResult:
    """The CYP outcomes metric with every count behind it.

    * ``table`` (``to_frame()``): one row per (group and) rater, plus ``any``;
    * ``referrals``: every input referral with ``in_scope`` and ``reason``;
    * ``scores``: every score record x measure with ``status`` (first/last/unused) and ``reason``;
    * ``measures``: one row per referral x instrument x rater x scale with a first score;
    * ``by_referral``: one row per in-scope referral x rater: ``assessed``, ``paired``, ``outcome``;
    * ``quality``: one note per kind of data problem (which table, how many rows, what was done).
    """

    table: pd.DataFrame
    referrals: pd.DataFrame
    scores: pd.DataFrame
    measures: pd.DataFrame
    by_referral: pd.DataFrame
    by: list[str] = field(default_factory=list)
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)

    @property
    def problems(self) -> pd.DataFrame:
        """Referrals and score records excluded because of a data problem."""
        r = self.referrals[self.referrals["reason"].isin(REFERRAL_PROBLEMS)]
        s = self.scores[self.scores["reason"].isin(SCORE_PROBLEMS)]
        return pd.concat(
            [
                pd.DataFrame({"table": "referrals", "row": r["row"], "reason": r["reason"]}),
                pd.DataFrame({"table": "scores", "row": s["row"], "reason": s["reason"]}),
            ],
            ignore_index=True,
        )

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        """One sentence per rater (and group): the metric as NHS England publishes it."""
        lines = []
        pct = int(round(100 * self.confidence))
        for _, r in self.table.iterrows():
            who = "any rater" if r["rater"] == ANY_RATER else f"{r['rater']}-rated measures"
            grp = "".join(f"{r[b]}, " for b in self.by)
            if r["n_paired"] == 0:
                lines.append(
                    f"{grp}{who}: none of {r['n_referrals']} closed referrals in scope had a paired score."
                )
                continue
            lines.append(
                f"{grp}{who}: {r['n_paired']} of {r['n_referrals']} closed referrals in scope "
                f"({r['pct_paired']:.0f}%) had a paired score; of these {r['n_improvement']} "
                f"({r['pct_improvement']:.0f}%, {pct}% CI {r['pct_improvement_ci_low']:.0f}% to "
                f"{r['pct_improvement_ci_high']:.0f}%) showed measurable improvement, "
                f"{r['n_no_change']} ({r['pct_no_change']:.0f}%) no measurable change and "
                f"{r['n_deterioration']} ({r['pct_deterioration']:.0f}%) measurable deterioration."
            )
        text = "\n".join(lines)
        if ANY_RATER in set(self.table["rater"]):
            text += (
                "\n(The 'any rater' outcome pools every rater's measures: improvement on one and "
                "deterioration on none. NHS England publishes outcomes per rater only.)"
            )
        return with_notes(text, self.quality)

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Stacked bars per rater: % improvement / no change / deterioration of paired referrals."""
        import matplotlib.pyplot as plt

        t = self.table
        labels = [
            " / ".join(str(v) for v in row)
            for row in t[[*self.by, "rater"]].itertuples(index=False)
        ]
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 0.45 * len(t) + 1.2))
        left = np.zeros(len(t))
        colours = {"improvement": "#1a9850", "no_change": "#bbbbbb", "deterioration": "#d73027"}
        y = np.arange(len(t))[::-1]
        for o in OUTCOMES:
            vals = t[f"pct_{o}"].fillna(0).to_numpy()
            ax.barh(y, vals, left=left, color=colours[o], label=o.replace("_", " "))
            left += vals
        ax.set_yticks(y, [f"{lab} (n={n})" for lab, n in zip(labels, t["n_paired"], strict=True)])
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of referrals with a paired score")
        ax.legend(
            ncol=3, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25)
        )
        return ax

    def __repr__(self) -> str:
        return f"OutcomeMetricResult({len(self.table)} rows; {len(self.problems)} problems)"


# ----------------------------------------------------------------------------- helpers
def _dates(df: pd.DataFrame, col: str, table: str, dayfirst: bool = True) -> pd.Series:
    return dates_or_raise(df[col], column=col, where=table, dayfirst=dayfirst)


def _require(df: pd.DataFrame, cols: Sequence[str], table: str) -> None:
    require_columns(df, cols, what=table)


def _measures_of(instruments: Sequence[str], columns: pd.Index) -> pd.DataFrame:
    """instrument, scale, threshold, higher_is_better, respondent for every scale with a threshold."""
    from ..instruments.model import load_instrument

    rows = []
    for inst_id in instruments:
        try:
            inst = load_instrument(str(inst_id))
        except OutcomesError as err:
            raise OutcomesError(f"scores: instrument {inst_id!r}: {err}") from None
        for sc in inst.scales:
            if sc.reliable_change is not None and sc.reliable_change.threshold is not None:
                if sc.id in columns:
                    rows.append(
                        {
                            "instrument": inst_id,
                            "scale": sc.id,
                            "threshold": float(sc.reliable_change.threshold),
                            "higher_is_better": sc.higher_is_better,
                            "respondent": inst.respondent,
                        }
                    )
    return pd.DataFrame(
        rows, columns=["instrument", "scale", "threshold", "higher_is_better", "respondent"]
    )


def _scope(ref: pd.DataFrame, *, age_range, min_contacts, period_start, period_end) -> pd.DataFrame:
    """Per referral: in_scope and the first reason it is not."""
    n = len(ref)
    reason = np.full(n, "", dtype=object)

    def mark(mask, why):
        mask = np.asarray(mask, dtype=bool) & (reason == "")
        reason[mask] = why

    if "accepted" in ref.columns:
        # yes/no, true/false, 1/0 as text or booleans: the service module's one parser
        from ..service import _parse_accepted

        acc, _ = _parse_accepted(ref["accepted"])
        not_acc = acc.notna() & ~acc.fillna(True).astype(bool)
        mark(not_acc.to_numpy(), NOT_ACCEPTED)
    dis = ref["discharge_date"]
    mark(dis.isna().to_numpy(), NOT_CLOSED)
    if period_start is not None:
        mark((dis < period_start).to_numpy(), OUTSIDE_PERIOD)
    if period_end is not None:
        mark((dis > period_end).to_numpy(), OUTSIDE_PERIOD)
    age = ref["_age"]
    mark(age.isna().to_numpy(), AGE_UNKNOWN)
    lo, hi = age_range
    mark(((age < lo) | (age > hi)).to_numpy(), AGE_OUTSIDE)
    c1, c2 = ref["first_contact_date"], ref["second_contact_date"]
    if "n_contacts" in ref.columns:
        nc = pd.to_numeric(ref["n_contacts"], errors="coerce")
        mark((nc >= min_contacts).to_numpy() & c2.isna().to_numpy(), CONTACT2_MISSING)
        mark((nc < min_contacts).to_numpy() & c2.notna().to_numpy(), CONTACTS_INCONSISTENT)
        mark((nc < min_contacts).to_numpy(), FEW_CONTACTS)
    mark(c2.isna().to_numpy() | c1.isna().to_numpy(), FEW_CONTACTS)
    mark(((c2 < c1) | (c2 > dis)).fillna(False).to_numpy(dtype=bool), DATES_ORDER)
    return pd.DataFrame({"in_scope": reason == "", "reason": reason}, index=ref.index)


def _age(ref: pd.DataFrame) -> pd.Series:
    if "age" in ref.columns:
        age = pd.to_numeric(ref["age"], errors="coerce")
        bad = age.isna() & ref["age"].notna()
        if bad.any():
            raise OutcomesError(
                f"referrals: column 'age' has non-numeric values {ref['age'][bad].head(5).tolist()}"
            )
        return age
    if "date_of_birth" in ref.columns and "referral_date" in ref.columns:
        dob = ref["date_of_birth"]  # read with the other date columns
        rd = ref["referral_date"]
        # completed years at the referral date
        years = rd.dt.year - dob.dt.year
        before_birthday = (rd.dt.month < dob.dt.month) | (
            (rd.dt.month == dob.dt.month) & (rd.dt.day < dob.dt.day)
        )
        return (years - before_birthday.astype(int)).where(dob.notna() & rd.notna())
    raise DataStructureError(
        "referrals: need an 'age' column (age at referral) or 'date_of_birth' and 'referral_date'"
    )


# ----------------------------------------------------------------------------- main
@renamed_params(on_problem="errors")
@deprecated_values(errors={"report": "flag"})
@validate_params(
    {
        "scores": ["dataframe", list, tuple],
        "referrals": "dataframe",
        "by": BY,
        "period_start": ["date", None],
        "period_end": ["date", None],
        "age_range": Pair(NON_NEGATIVE),
        "min_contacts": COUNT,
        "confidence": PROBABILITY,
        "errors": ERRORS,
        "dayfirst": "boolean",
    }
)
def _item_level_metric(
    scores: pd.DataFrame | Sequence[pd.DataFrame],
    referrals: pd.DataFrame,
    *,
    by: Sequence[str] | str | None = None,
    period_start=None,
    period_end=None,
    age_range: tuple[float, float] = (0, 17),
    min_contacts: int = 2,
    confidence: float = 0.95,
    errors: Literal["raise", "flag"] = "flag",
    dayfirst: bool = True,
) -> OutcomeMetricResult:
    """NHS England CYP outcomes metric: paired scores and measurable improvement per rater.

    Parameters
    ----------
    scores
        Long scores (one frame, or a list of frames that are concatenated), as from
        :func:`outcomes.score`: ``instrument``, ``date``, ``referral_id`` (or ``person_id``, then
        each score is linked to the referral of that person whose referral date (or first
        contact) to discharge covers the score date), optional ``rater`` (default: the
        instrument's respondent), and the scale columns.
    referrals
        One row per referral: ``referral_id``, ``discharge_date``, ``first_contact_date``,
        ``second_contact_date``, ``age`` (at referral) or ``date_of_birth`` + ``referral_date``;
        optional ``person_id``, ``n_contacts``, ``accepted`` and any ``by`` columns.
    by
        Columns of ``referrals`` to break the table down by (school, gender, ...).
    period_start, period_end
        Keep referrals discharged in this period; scores after ``period_end`` do not count.
    dayfirst
        Read ambiguous ``05/01/2025`` text (in the tables and in ``period_start``/``period_end``)
        as 5 January (True, UK data) or 1 May (False); docs/concepts.md, "Dates".
    errors
        ``"flag"`` (default): exclude problem referrals/scores with a reason and warn
        (:class:`OutcomeMetricWarning`); ``"raise"``: raise :class:`~outcomes.DataStructureError`.
        (Formerly ``on_problem="report"``/``"raise"``, still accepted with a
        ``DeprecationWarning``.)

    Example:
        >>> import pandas as pd
        >>> from outcomes.change.outcome_metric import cyp_outcome_metric
        >>> refs = pd.DataFrame({"referral_id": ["r1"], "age": [12],
        ...     "first_contact_date": ["2024-01-05"], "second_contact_date": ["2024-01-19"],
        ...     "discharge_date": ["2024-06-30"]})
        >>> sc = pd.DataFrame({"referral_id": ["r1", "r1"], "instrument": "swemwbs",
        ...     "rater": "self", "date": ["2024-01-05", "2024-06-20"], "metric": [17.43, 21.54]})
        >>> res = cyp_outcome_metric(sc, refs)
        >>> res.to_frame().set_index("rater").loc["self", ["n_referrals", "n_paired", "n_improvement"]].tolist()
        [1, 1, 1]
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    on_problem = "raise" if errors == "raise" else "report"
    if not 0 < confidence < 1:
        raise OutcomesError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")
    if on_problem not in ("report", "raise"):
        raise OutcomesError(f"on_problem must be 'report' or 'raise', not {on_problem!r}")
    if not isinstance(scores, pd.DataFrame):
        scores = pd.concat(list(scores), ignore_index=True)
    for name, df in (("scores", scores), ("referrals", referrals)):
        check_frame(df, what=name)
    by = [] if by is None else [by] if isinstance(by, str) else list(by)
    _require(
        referrals,
        ["referral_id", "discharge_date", "first_contact_date", "second_contact_date", *by],
        "referrals",
    )
    _require(scores, ["instrument", "date"], "scores")
    if "referral_id" not in scores.columns and "person_id" not in scores.columns:
        raise DataStructureError("scores: need 'referral_id' (or 'person_id' to link by date)")
    if referrals["referral_id"].isna().any():
        raise DataStructureError(
            f"referrals: missing referral_id at rows {referrals.index[referrals['referral_id'].isna()][:5].tolist()}"
        )
    dup = referrals["referral_id"].duplicated(keep=False)
    if dup.any():
        raise DataStructureError(
            f"referrals: duplicate referral_id {referrals.loc[dup, 'referral_id'].unique()[:5].tolist()} "
            f"at rows {referrals.index[dup][:10].tolist()}"
        )
    if period_start is not None:
        period_start = to_timestamp(period_start, "period_start", dayfirst=dayfirst)
    if period_end is not None:
        period_end = to_timestamp(period_end, "period_end", dayfirst=dayfirst)

    ref = referrals.copy()
    ref.attrs = {}
    for c in (
        "discharge_date",
        "first_contact_date",
        "second_contact_date",
        "referral_date",
        "date_of_birth",
    ):
        if c in ref.columns:
            ref[c] = _dates(ref, c, "referrals", dayfirst)
    ref["_age"] = _age(ref)
    scope = _scope(
        ref,
        age_range=age_range,
        min_contacts=min_contacts,
        period_start=period_start,
        period_end=period_end,
    )
    ref_acc = pd.DataFrame(
        {
            "row": ref.index,
            "referral_id": ref["referral_id"].to_numpy(),
            **{b: ref[b].to_numpy() for b in by},
        }
    )
    ref_acc["in_scope"] = scope["in_scope"].to_numpy()
    ref_acc["reason"] = scope["reason"].to_numpy()

    # --- measures and long scores
    sc = scores.copy()
    sc.attrs = {}  # oc.score() keeps a DataFrame in attrs, which pandas cannot compare on concat
    sc["date"] = _dates(sc, "date", "scores", dayfirst)
    if sc["instrument"].isna().any():
        raise DataStructureError(
            f"scores: missing instrument at rows {sc.index[sc['instrument'].isna()][:5].tolist()}"
        )
    meas = _measures_of(list(pd.unique(sc["instrument"])), sc.columns)
    if meas.empty:
        raise DataStructureError(
            "scores: no scale with a reliable-change threshold found among the columns "
            "(e.g. HoNOSCA scale_1..scale_13, SDQ emotional..impact, SWEMWBS metric, GBO goal_1..3)"
        )
    long = _long_scores(sc, meas)
    long = _link(long, ref, ref_acc)

    # --- eligibility of each score record x measure
    reason = long["reason"].to_numpy(dtype=object)

    def mark(mask, why):
        m = np.asarray(mask, dtype=bool) & (reason == "")
        reason[m] = why

    in_scope = (
        long["referral_id"]
        .map(ref_acc.set_index("referral_id")["in_scope"])
        .fillna(False)
        .astype(bool)
    )
    mark(~in_scope.to_numpy(), S_OUT_OF_SCOPE)
    mark(long["value"].isna().to_numpy(), S_MISSING)
    mark(long["date"].isna().to_numpy(), S_DATE_MISSING)
    info = ref.set_index("referral_id")[
        ["first_contact_date", "second_contact_date", "discharge_date"]
    ]
    c1 = long["referral_id"].map(info["first_contact_date"])
    c2 = long["referral_id"].map(info["second_contact_date"])
    dis = long["referral_id"].map(info["discharge_date"])
    mark((long["date"] < c1).fillna(False).to_numpy(dtype=bool), S_BEFORE)
    late = long["date"] > dis
    if period_end is not None:
        late = late | (long["date"] > period_end)
    mark(late.fillna(False).to_numpy(dtype=bool), S_AFTER)
    ok = reason == ""
    series = ["referral_id", "instrument", "rater", "scale"]
    dup = np.zeros(len(long), bool)
    dup[ok] = long.loc[ok, [*series, "date"]].duplicated(keep=False).to_numpy()
    reason[dup] = S_DUPLICATE
    gcode = np.full(len(long), -1)
    gcode[ok] = long.loc[ok, series].groupby(series, sort=False, observed=True).ngroup().to_numpy()
    dup_series = pd.Series(dup).groupby(gcode).transform("any").to_numpy() & ok
    reason[dup_series & ~dup] = S_DUP_SERIES
    ok = reason == ""

    # --- first and last per measure series (vectorised over sorted series)
    idx = np.flatnonzero(ok)
    g = gcode[idx]
    t = long["date"].to_numpy()[idx]
    order = np.lexsort((t, g))
    idx, g, t = idx[order], g[order], t[order]
    start = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    c2v = c2.to_numpy()[idx]
    # the last score: latest record of the series that is on/after the 2nd contact and not the first
    cand_last = ~start & (t >= c2v)
    last_pos = (
        pd.Series(np.where(cand_last, np.arange(len(g)), -1)).groupby(g).transform("max").to_numpy()
    )
    is_last = cand_last & (last_pos == np.arange(len(g)))
    status = np.full(len(long), "unused", dtype=object)
    status[idx[start]] = "first"
    status[idx[is_last]] = "last"
    has_last = (
        pd.Series(is_last).groupby(g).transform("any").to_numpy() if len(g) else np.zeros(0, bool)
    )
    reason[idx[start & ~has_last]] = S_NO_LAST
    reason[idx[~start & ~is_last & has_last]] = S_INTERMEDIATE
    reason[idx[~start & ~is_last & ~has_last]] = S_NO_LAST
    long["status"] = status
    long["reason"] = reason

    measures = _measure_table(long, series)
    by_ref = _by_referral(measures, ref_acc, series)
    table = _table(by_ref, ref_acc, by, confidence)
    score_acc = long.drop(columns=["threshold", "higher_is_better"]).reset_index(drop=True)
    result = OutcomeMetricResult(
        table=table,
        referrals=ref_acc,
        scores=score_acc,
        measures=measures,
        by_referral=by_ref,
        by=by,
        confidence=confidence,
    )
    probs = result.problems
    if len(probs):
        head = "\n".join(
            f"  {r.table} row {r.row!r}: {r.reason}" for r in probs.head(10).itertuples()
        )
        more = f"\n  ... and {len(probs) - 10} more (see .problems)" if len(probs) > 10 else ""
        msg = f"{len(probs)} referral or score records were excluded because of data problems:\n{head}{more}"
        if on_problem == "raise":
            raise DataStructureError(msg)
        result.quality.add_reasons(
            "cyp_outcome_metric", probs, action="excluded from the metric", where="table"
        )
        warnings.warn(msg, OutcomeMetricWarning, stacklevel=2)
    return result


def _long_scores(sc: pd.DataFrame, meas: pd.DataFrame) -> pd.DataFrame:
    """One row per score record x measure of its instrument (a loop over measures, not rows)."""
    parts = []
    inst_col = sc["instrument"].astype(str).to_numpy()
    if "rater" in sc.columns:
        rater = sc["rater"].astype("string").str.strip().str.lower()
        # an empty or whitespace rater is a missing one (the instrument's respondent below)
        rater = rater.mask(rater == "")
    else:
        rater = pd.Series(pd.NA, index=sc.index, dtype="string")
    keep = [c for c in ("referral_id", "person_id") if c in sc.columns]
    for m in meas.itertuples(index=False):
        rows = np.flatnonzero(inst_col == str(m.instrument))
        col = sc[m.scale]
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        if bad.iloc[rows].any():
            where = sc.index[rows][bad.iloc[rows].to_numpy()][:5].tolist()
            raise OutcomesError(
                f"scores: column {m.scale!r} has non-numeric values at rows {where}"
            )
        part = pd.DataFrame(
            {
                "row": sc.index[rows],
                **{k: sc[k].to_numpy()[rows] for k in keep},
                "instrument": m.instrument,
                # a missing rater is the instrument's respondent (sdq_parent -> parent)
                "rater": rater.iloc[rows].fillna(m.respondent).to_numpy(dtype=object),
                "scale": m.scale,
                "date": sc["date"].to_numpy()[rows],
                "value": num.to_numpy(dtype=float, na_value=np.nan)[rows],
                "threshold": m.threshold,
                "higher_is_better": m.higher_is_better,
            }
        )
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long["reason"] = ""
    return long


def _link(long: pd.DataFrame, ref: pd.DataFrame, ref_acc: pd.DataFrame) -> pd.DataFrame:
    """Attach each score record to a referral (by referral_id, or by person and date)."""
    reason = long["reason"].to_numpy(dtype=object)
    if "referral_id" in long.columns:
        rid = long["referral_id"]
        known = is_in(rid, ref["referral_id"])
        reason[(rid.isna().to_numpy() | ~known) & (reason == "")] = S_NO_REFERRAL
        if "person_id" in long.columns and "person_id" in ref.columns:
            expected = rid.map(ref.set_index("referral_id")["person_id"])
            mismatch = (
                expected.notna()
                & long["person_id"].notna()
                & (expected.astype(str) != long["person_id"].astype(str))
            )
            reason[mismatch.to_numpy() & (reason == "")] = S_PERSON_MISMATCH
        long["reason"] = reason
        return long
    if "person_id" not in ref.columns:
        raise DataStructureError(
            "referrals: need 'person_id' to link scores that have no referral_id"
        )
    start_col = "referral_date" if "referral_date" in ref.columns else "first_contact_date"
    windows = ref[["referral_id", "person_id", start_col, "discharge_date"]].rename(
        columns={start_col: "_start"}
    )
    cand = long[["person_id", "date"]].reset_index().merge(windows, on="person_id", how="inner")
    inside = (cand["date"] >= cand["_start"]) & (
        (cand["date"] <= cand["discharge_date"]) | cand["discharge_date"].isna()
    )
    cand = cand[inside.fillna(False).to_numpy(dtype=bool)]
    n_match = cand.groupby("index").size().reindex(long.index, fill_value=0).to_numpy()
    rid = (
        cand.drop_duplicates("index", keep=False)
        .set_index("index")["referral_id"]
        .reindex(long.index)
    )
    long["referral_id"] = rid.to_numpy(dtype=object)
    reason[(n_match == 0) & (reason == "")] = S_NO_REFERRAL
    reason[(n_match > 1) & (reason == "")] = S_AMBIGUOUS
    long["reason"] = reason
    return long


def _measure_table(long: pd.DataFrame, series: list[str]) -> pd.DataFrame:
    first = long[long["status"] == "first"]
    last = long[long["status"] == "last"]
    cols = [*series, "threshold", "higher_is_better", "date", "value", "row"]
    m = first[cols].rename(
        columns={"date": "date_first", "value": "score_first", "row": "row_first"}
    )
    m = m.merge(
        last[[*series, "date", "value", "row"]].rename(
            columns={"date": "date_last", "value": "score_last", "row": "row_last"}
        ),
        on=series,
        how="left",
        validate="one_to_one",
    )
    m["paired"] = m["score_last"].notna()
    m["change"] = m["score_last"] - m["score_first"]
    # rounding keeps float noise (19.98 - 16.98) from missing a threshold of 3
    ch = m["change"].round(9)
    reliable = ch.abs() >= m["threshold"]
    up_good = m["higher_is_better"].astype(bool)
    better = np.where(up_good, ch > 0, ch < 0)
    worse = np.where(up_good, ch < 0, ch > 0)
    m["reliable_improvement"] = (reliable & better & m["paired"]).astype(bool)
    m["reliable_deterioration"] = (reliable & worse & m["paired"]).astype(bool)
    m["no_change"] = m["paired"] & ~reliable.fillna(False).astype(bool)
    return m.sort_values(series, kind="stable").reset_index(drop=True)


def _outcome(imp: pd.Series, det: pd.Series, paired: pd.Series) -> pd.Series:
    out = np.select(
        [~paired, det, imp], [None, "deterioration", "improvement"], default="no_change"
    )
    return pd.Series(out, index=paired.index, dtype=object)


def _by_referral(measures: pd.DataFrame, ref_acc: pd.DataFrame, series: list[str]) -> pd.DataFrame:
    agg = measures.groupby(["referral_id", "rater"], observed=True).agg(
        assessed=("paired", "size"),
        paired=("paired", "any"),
        n_measures_paired=("paired", "sum"),
        any_improvement=("reliable_improvement", "any"),
        any_deterioration=("reliable_deterioration", "any"),
    )
    agg["assessed"] = agg["assessed"] > 0
    anyr = measures.groupby("referral_id", observed=True).agg(
        assessed=("paired", "size"),
        paired=("paired", "any"),
        n_measures_paired=("paired", "sum"),
        any_improvement=("reliable_improvement", "any"),
        any_deterioration=("reliable_deterioration", "any"),
    )
    anyr["assessed"] = anyr["assessed"] > 0
    anyr["rater"] = ANY_RATER
    anyr = anyr.set_index("rater", append=True)
    out = pd.concat([agg, anyr]).reset_index()
    out["outcome"] = _outcome(out["any_improvement"], out["any_deterioration"], out["paired"])
    scope = ref_acc.loc[ref_acc["in_scope"], ["referral_id"]]
    out = out[is_in(out["referral_id"], scope["referral_id"])]
    return out.sort_values(["referral_id", "rater"], kind="stable").reset_index(drop=True)


def _table(
    by_ref: pd.DataFrame, ref_acc: pd.DataFrame, by: list[str], confidence: float
) -> pd.DataFrame:
    scope = ref_acc[ref_acc["in_scope"]]
    raters = list(STANDARD_RATERS) + sorted(
        set(by_ref["rater"]) - set(STANDARD_RATERS) - {ANY_RATER}
    )
    raters.append(ANY_RATER)
    if by:
        groups = scope[by].drop_duplicates().sort_values(by, kind="stable")
        if groups.empty:
            groups = pd.DataFrame(columns=by)
    else:
        groups = pd.DataFrame(index=[0])
    grid = groups.merge(pd.DataFrame({"rater": raters}), how="cross")
    denom = scope.groupby(by, observed=True).size() if by else pd.Series([len(scope)])
    br = by_ref.merge(scope[["referral_id", *by]], on="referral_id", how="inner")
    keys = [*by, "rater"]
    counts = br.groupby(keys, observed=True).agg(
        n_assessed=("assessed", "sum"),
        n_paired=("paired", "sum"),
        n_improvement=("outcome", lambda s: int((s == "improvement").sum())),
        n_no_change=("outcome", lambda s: int((s == "no_change").sum())),
        n_deterioration=("outcome", lambda s: int((s == "deterioration").sum())),
    )
    t = grid.merge(counts.reset_index(), on=keys, how="left")
    count_cols = ["n_assessed", "n_paired", "n_improvement", "n_no_change", "n_deterioration"]
    t[count_cols] = t[count_cols].fillna(0).astype(int)
    if by:
        t["n_referrals"] = [
            int(denom.get(tuple(r) if len(by) > 1 else r[0], 0))
            for r in t[by].itertuples(index=False)
        ]
    else:
        t["n_referrals"] = int(denom.iloc[0])
    for num, den in (
        ("assessed", "n_referrals"),
        ("paired", "n_referrals"),
        *((o, "n_paired") for o in OUTCOMES),
    ):
        k, d = t[f"n_{num}"].to_numpy(), t[den].to_numpy()
        lo, hi = wilson_ci(k, d, confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            t[f"pct_{num}"] = np.where(d > 0, 100 * k / np.where(d > 0, d, 1), np.nan)
        t[f"pct_{num}_ci_low"] = 100 * lo
        t[f"pct_{num}_ci_high"] = 100 * hi
    first = [*by, "rater", "n_referrals"]
    for o in ("assessed", "paired", *OUTCOMES):
        first += [f"n_{o}", f"pct_{o}", f"pct_{o}_ci_low", f"pct_{o}_ci_high"]
    rest = [c for c in t.columns if c not in first]
    return t[first + rest].reset_index(drop=True)


@validate_params(
    {
        # item-level scores or an MHSDS extract: each path checks its own arguments
        "scores": "no_validation",
        "referrals": ["dataframe", None],
        "convention": [Options(str, {"clinical", "nhs"}), None],
        "engine": [Options(str, {"duckdb", "spark", "pandas"}), None],
        "spark": "no_validation",
        "kwargs": "no_validation",
    }
)
def cyp_outcome_metric(
    scores,
    referrals: pd.DataFrame | None = None,
    *,
    convention: Literal["clinical", "nhs"] | None = None,
    engine: Literal["duckdb", "spark", "pandas"] | None = None,
    spark=None,
    **kwargs,
):
    """NHS England CYP outcomes metric, from scored item-level data or from an MHSDS extract.

    * ``cyp_outcome_metric(scores, referrals, ...)``: long scores (``oc.score`` output) and a
      referrals table with contact dates; see :func:`_item_level_metric` for every argument.
      Runs in pandas; returns :class:`OutcomeMetricResult`.
    * ``cyp_outcome_metric(extract, period_start=..., period_end=..., convention=...,
      by=[...], engine="duckdb" | "spark" | "pandas")``: an :class:`outcomes.mhsds.MHSDSExtract` from
      ``oc.mhsds.read``. ``convention="nhs"`` reproduces NHS Digital's published method
      (MHS110-MHS115, quirks included); ``"clinical"`` (default) keeps each scale's own
      direction and rater from the instrument YAML (docs/outcome_metric.md lists the
      differences). Returns :class:`outcomes.mhsds.NHSMetricResult`.

    Example:
        >>> import pandas as pd
        >>> refs = pd.DataFrame({"referral_id": ["r1"], "age": [12],
        ...     "first_contact_date": ["2024-01-05"], "second_contact_date": ["2024-01-19"],
        ...     "discharge_date": ["2024-06-30"]})
        >>> sc = pd.DataFrame({"referral_id": ["r1", "r1"], "instrument": "swemwbs",
        ...     "rater": "self", "date": ["2024-01-05", "2024-06-20"], "metric": [17.43, 21.54]})
        >>> cyp_outcome_metric(sc, refs).to_frame()["n_paired"].tolist()
        [1, 0, 0, 1]
    """
    from ..mhsds.extract import MHSDSExtract

    if isinstance(scores, MHSDSExtract):
        from ..mhsds.metric import run_metric

        if referrals is not None:
            raise OutcomesError(
                "an MHSDS extract carries its own referrals (MHS101): do not pass referrals="
            )
        allowed = {"period_start", "period_end", "by", "con"}
        extra = sorted(set(kwargs) - allowed)
        if extra:
            raise OutcomesError(
                f"argument(s) {extra} do not apply to an MHSDS extract; it takes "
                f"{sorted(allowed | {'convention', 'engine', 'spark'})}"
            )
        return run_metric(
            scores,
            convention=convention or "clinical",
            engine=engine or "duckdb",
            spark=spark,
            **kwargs,
        )
    if convention == "nhs":
        raise OutcomesError(
            "convention='nhs' needs an MHSDS extract (oc.mhsds.read): NHS's method works on "
            "coded scale scores and MHSDS contacts, not on item-level frames"
        )
    if convention not in (None, "clinical"):
        from .._internal.text import unknown

        raise ValueError(unknown("convention", convention, ["clinical", "nhs"]))
    if engine not in (None, "pandas"):
        raise OutcomesError(
            f"engine={engine!r} runs the metric on an MHSDS extract; item-level frames run in pandas"
        )
    if referrals is None:
        raise OutcomesError("referrals is required with item-level scores")
    return _item_level_metric(scores, referrals, **kwargs)
