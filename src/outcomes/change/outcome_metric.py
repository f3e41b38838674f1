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

import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._internal.columns import check_frame, require_columns
from .._internal.dates import dates_or_raise, to_timestamp
from .._internal.ids import index_in, index_in_trimmed, is_in, of_another_person
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
from .._internal.quality import NoteTemplate, QualityRecord, with_notes
from .._internal.text import shown
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
S_REFERRAL_SPACES = "referral_id matches a referral only once trimmed of surrounding spaces"
S_PERSON_SPACES = "person_id matches a referral's only once trimmed of surrounding spaces"
SCORE_PROBLEMS = (S_AMBIGUOUS, S_PERSON_MISMATCH, S_DUPLICATE, S_REFERRAL_SPACES, S_PERSON_SPACES)
# Internally a score's reason is a small integer: its index here (0: used).
_S_REASONS = (
    "",
    S_NO_REFERRAL,
    S_AMBIGUOUS,
    S_PERSON_MISMATCH,
    S_OUT_OF_SCOPE,
    S_MISSING,
    S_DATE_MISSING,
    S_BEFORE,
    S_AFTER,
    S_DUPLICATE,
    S_DUP_SERIES,
    S_INTERMEDIATE,
    S_NO_LAST,
    S_REFERRAL_SPACES,
    S_PERSON_SPACES,
)
_S = {r: np.int8(i) for i, r in enumerate(_S_REASONS)}
_STATUSES = ("unused", "first", "last")


# the warning's headline: a count of records (the report releases it by the count rule)
_EXCLUDED = NoteTemplate(
    "{n} referral or score records were excluded because of data problems", counts=["n"]
)


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


#: the columns of a score table that the metric reads besides its instruments' scales
_SCORE_COLUMNS = ("instrument", "date", "rater", "referral_id", "person_id")


def _stack(frames: list) -> pd.DataFrame:
    """Score tables stacked as ``pd.concat(frames, ignore_index=True)`` stacks them, with only
    the columns the metric reads: the ids, dates and raters and every scale of the instruments
    named (item answers, bands and text columns would be stacked and never read; stacking them
    was a third of the metric's time in a report). Frames the checks below would refuse are
    stacked whole, so that they fail as before."""
    from ..instruments.model import load_instrument

    plain = all(
        isinstance(f, pd.DataFrame)
        and not isinstance(f.columns, pd.MultiIndex)
        and f.columns.is_unique
        and "instrument" in f.columns
        for f in frames
    )
    if not frames or not plain:
        return pd.concat(frames, ignore_index=True)
    read = set(_SCORE_COLUMNS)
    for inst_id in pd.unique(np.concatenate([f["instrument"].to_numpy(object) for f in frames])):
        try:
            read.update(sc.id for sc in load_instrument(str(inst_id)).scales)
        except Exception:  # an unknown instrument: _measures_of says so, in its turn
            pass
    return pd.concat([f[[c for c in f.columns if c in read]] for f in frames], ignore_index=True)


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
        scores = _stack(list(scores))
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
    # A shallow copy: only the date column is replaced (a deep copy of 1M rows costs ~1 GB).
    sc = scores.copy(deep=False)
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
    # From here on every id is an integer: ``src`` (the score record's position), ``midx`` (the
    # measure), ``rpos`` (the referral's position in ``ref``) and the rater's code. Text ids are
    # hashed once, in _link; grouping, duplicates and first/last are sorts of integers.
    long, src, midx = _long_scores(sc, meas)
    long, rpos, reason, near_misses = _link(long, sc, src, ref)

    # --- eligibility of each score record x measure
    def mark(mask, why):
        reason[np.asarray(mask, dtype=bool) & (reason == 0)] = _S[why]

    linked = rpos >= 0
    in_scope = np.zeros(len(long), bool)
    in_scope[linked] = scope["in_scope"].to_numpy(dtype=bool)[rpos[linked]]
    mark(~in_scope, S_OUT_OF_SCOPE)
    mark(long["value"].isna().to_numpy(), S_MISSING)
    date = long["date"]
    mark(date.isna().to_numpy(), S_DATE_MISSING)
    c1 = _at(ref["first_contact_date"], rpos)
    c2 = _at(ref["second_contact_date"], rpos)
    dis = _at(ref["discharge_date"], rpos)
    mark((date < c1).fillna(False).to_numpy(dtype=bool), S_BEFORE)
    late = date > dis
    if period_end is not None:
        late = late | (date > period_end)
    mark(late.fillna(False).to_numpy(dtype=bool), S_AFTER)
    series = ["referral_id", "instrument", "rater", "scale"]
    rcode, rlabels = pd.factorize(long["rater"], use_na_sentinel=False)

    # --- duplicates (same series, same date), then first and last per series, on sorted codes
    idx = np.flatnonzero(reason == 0)
    gkey = (rpos[idx] * len(meas) + midx[idx]) * max(len(rlabels), 1) + rcode[idx]
    t = date.to_numpy()[idx]
    order = np.lexsort((t, gkey))
    idx, gkey, t = idx[order], gkey[order], t[order]
    start = np.r_[True, gkey[1:] != gkey[:-1]] if len(idx) else np.zeros(0, bool)
    gid = np.cumsum(start) - 1
    same = ~start[1:] & (t[1:] == t[:-1])
    dup = np.zeros(len(idx), bool)
    dup[1:] |= same
    dup[:-1] |= same
    reason[idx[dup]] = _S[S_DUPLICATE]
    dup_series = (np.bincount(gid, weights=dup) > 0)[gid] if len(idx) else dup
    reason[idx[dup_series & ~dup]] = _S[S_DUP_SERIES]
    keep = ~dup_series
    idx, gkey, t = idx[keep], gkey[keep], t[keep]
    start = np.r_[True, gkey[1:] != gkey[:-1]] if len(idx) else np.zeros(0, bool)
    gid = np.cumsum(start) - 1
    # the last score: latest record of the series that is on/after the 2nd contact and not the first
    cand_last = ~start & (t >= c2.to_numpy()[idx])
    pos = np.arange(len(idx))
    last_pos = (
        np.maximum.reduceat(np.where(cand_last, pos, -1), np.flatnonzero(start))
        if len(idx)
        else np.zeros(0, np.int64)
    )
    has_last = (last_pos >= 0)[gid]
    is_last = cand_last & (last_pos[gid] == pos)
    status = np.zeros(len(long), np.int8)
    status[idx[start]] = 1
    status[idx[is_last]] = 2
    reason[idx[start & ~has_last]] = _S[S_NO_LAST]
    reason[idx[~start & ~is_last & has_last]] = _S[S_INTERMEDIATE]
    reason[idx[~start & ~is_last & ~has_last]] = _S[S_NO_LAST]
    long["reason"] = _labels(reason, _S_REASONS)
    if "referral_id" not in sc.columns:  # linked by person: the id column follows the reason
        long = long[[c for c in long.columns if c != "referral_id"] + ["referral_id"]]
    long["status"] = _labels(status, _STATUSES)

    first_idx = idx[start]
    last_idx = np.where(last_pos >= 0, idx[np.maximum(last_pos, 0)], -1)
    ref_rank = _rank(ref["referral_id"])
    # sorted by referral id, instrument, rater, scale: ranks of the few labels, then of the id
    f_m, f_r = midx[first_idx], rcode[first_idx]
    order = np.lexsort(
        (
            _label_rank(meas["scale"])[f_m],
            _label_rank(pd.Series(rlabels))[f_r],
            _label_rank(meas["instrument"])[f_m],
            ref_rank[rpos[first_idx]],
        )
    )
    first_idx, last_idx = first_idx[order], last_idx[order]
    measures = _measure_table(long, series, first_idx, last_idx)
    by_ref, b_rpos, b_rater, rater_names, b_outcome = _by_referral(
        measures, rpos[first_idx], rcode[first_idx], rlabels, ref_rank
    )
    table = _table(by_ref, b_rpos, b_rater, rater_names, b_outcome, ref_acc, by, confidence)
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
        msg = f"{_EXCLUDED(n=len(probs))}:\n{head}{more}"
        if near_misses:  # the did-you-mean of ids that match once trimmed
            msg += "\n" + "\n".join(near_misses) + "\n  Trim the ids (the report does)."
        if on_problem == "raise":
            raise DataStructureError(msg)
        result.quality.add_reasons(
            "cyp_outcome_metric", probs, action="excluded from the metric", where="table"
        )
        warnings.warn(msg, OutcomeMetricWarning, stacklevel=2)
    return result


def _long_scores(
    sc: pd.DataFrame, meas: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per score record x measure of its instrument (a loop over measures, not rows),
    with each row's source position in ``sc`` and its measure's position in ``meas``."""
    parts, srcs, midxs = [], [], []
    inst_col = sc["instrument"].astype(str).to_numpy()
    if "rater" in sc.columns:
        rater = sc["rater"].astype("string").str.strip().str.lower()
        # an empty or whitespace rater is a missing one (the instrument's respondent below)
        rater = rater.mask(rater == "")
    else:
        rater = pd.Series(pd.NA, index=sc.index, dtype="string")
    # Text stays in arrow: converting a million Python strings costs seconds. The columns get
    # the dtype pandas infers for text (str, missing as NaN), as the object arrays used to.
    rater = rater.astype("str")
    keep = [c for c in ("referral_id", "person_id") if c in sc.columns]
    numeric: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per column: values, non-numeric
    for k, m in enumerate(meas.itertuples(index=False)):
        rows = np.flatnonzero(inst_col == str(m.instrument))
        if m.scale not in numeric:  # instruments sharing a scale name share its column
            col = sc[m.scale]
            num = pd.to_numeric(col, errors="coerce")
            bad = (num.isna() & col.notna()).to_numpy()
            numeric[m.scale] = num.to_numpy(dtype=float, na_value=np.nan), bad
        values, bad = numeric[m.scale]
        if bad[rows].any():
            where = sc.index[rows][bad[rows]][:5].tolist()
            raise OutcomesError(
                f"scores: column {m.scale!r} has non-numeric values at rows {where}"
            )
        srcs.append(rows)
        midxs.append(np.full(len(rows), k))
        parts.append(values[rows])
    src, midx = np.concatenate(srcs), np.concatenate(midxs)
    # one frame, each column gathered once (a frame per measure and a concat of them cost
    # more than the work); the per-measure columns are the measure table's rows at ``midx``
    texts = {c: pd.array(meas[c].to_numpy(dtype=object), dtype="str") for c in _MEASURE_TEXT}
    long = pd.DataFrame(
        {
            "row": sc.index[src],
            **{c: _take(sc[c], src) for c in keep},
            "instrument": texts["instrument"].take(midx),
            # a missing rater is the instrument's respondent (sdq_parent -> parent)
            "rater": rater.array.take(src).fillna(texts["respondent"].take(midx)),
            "scale": texts["scale"].take(midx),
            "date": sc["date"].to_numpy()[src],
            "value": np.concatenate(parts),
            "threshold": meas["threshold"].to_numpy()[midx],
            "higher_is_better": meas["higher_is_better"].to_numpy()[midx],
        }
    )
    return long, src, midx


_MEASURE_TEXT = ("instrument", "scale", "respondent")


def _take(col: pd.Series, rows: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """``col``'s values at ``rows`` as they would read back from an object array: text
    columns stay in arrow (no per-string conversion), anything else goes through numpy."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.na_value is not pd.NA:
        return col.array.take(rows)
    return col.to_numpy()[rows]


def _near_misses(
    ids: pd.Series, lost: np.ndarray, pool: pd.Series, name: str
) -> tuple[np.ndarray, list[str]]:
    """Which score records, among those whose id (``lost``: matched nothing) is not missing,
    would match ``pool`` once both are trimmed of surrounding spaces; and up to three
    did-you-mean lines. Asked only of the records that matched nothing: none, usually."""
    out = np.zeros(len(ids), bool)
    lost = np.flatnonzero(lost)
    lost = lost[ids.iloc[lost].notna().to_numpy()]  # (no pass over every id: none, usually)
    if not len(lost):
        return out, []
    at = index_in_trimmed(ids.iloc[lost], pool)
    hit = at >= 0
    out[lost[hit]] = True
    given = pd.Series(ids.iloc[lost[hit]].to_numpy(dtype=object))
    meant = pool.iloc[at[hit]].to_numpy(dtype=object)
    pairs = pd.DataFrame({"given": given, "meant": meant}).drop_duplicates("given")
    lines = [
        f"  {name} {shown(g)} matches {shown(m)} only once trimmed: did you mean {shown(m)}?"
        for g, m in pairs.head(3).itertuples(index=False)
    ]
    if len(pairs) > 3:
        lines.append(f"  and {len(pairs) - 3} more such {name}(s)")
    return out, lines


def _link(
    long: pd.DataFrame, sc: pd.DataFrame, src: np.ndarray, ref: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str]]:
    """Attach each score record to a referral (by referral_id, or by person and date).

    Returns ``long`` and, per row, the position of its referral in ``ref`` (-1: none) and the
    reason code (see _S_REASONS), and the did-you-mean lines of ids that match only once
    trimmed of surrounding spaces (compared as they are, " R1" is not "R1"; such a record is
    a data problem, never silently unmatched). The work is done once per score record
    (``sc``) and gathered to its measures through ``src``.
    """
    reason = np.zeros(len(long), np.int8)
    if "referral_id" in sc.columns:
        pos = index_in(sc["referral_id"], ref["referral_id"])
        if "person_id" in sc.columns and "person_id" in ref.columns:
            mismatch = of_another_person(pos, sc["person_id"], ref["person_id"])
            reason[mismatch[src]] = _S[S_PERSON_MISMATCH]
        spaced, lines = _near_misses(sc["referral_id"], pos < 0, ref["referral_id"], "referral_id")
        reason[spaced[src]] = _S[S_REFERRAL_SPACES]
        rpos = pos[src]
        reason[(rpos < 0) & (reason == 0)] = _S[S_NO_REFERRAL]
        return long, rpos, reason, lines
    if "person_id" not in ref.columns:
        raise DataStructureError(
            "referrals: need 'person_id' to link scores that have no referral_id"
        )
    start_col = "referral_date" if "referral_date" in ref.columns else "first_contact_date"
    windows = ref[["referral_id", "person_id", start_col, "discharge_date"]].rename(
        columns={start_col: "_start"}
    )
    windows["_rpos"] = np.arange(len(ref))
    records = pd.DataFrame(
        {"_src": np.arange(len(sc)), "person_id": sc["person_id"].to_numpy(), "date": sc["date"]}
    )
    cand = records.merge(windows, on="person_id", how="inner")
    inside = (cand["date"] >= cand["_start"]) & (
        (cand["date"] <= cand["discharge_date"]) | cand["discharge_date"].isna()
    )
    cand = cand[inside.fillna(False).to_numpy(dtype=bool)]
    n_match = np.bincount(cand["_src"].to_numpy(), minlength=len(sc))
    one = cand.drop_duplicates("_src", keep=False).set_index("_src")
    rid = one["referral_id"].reindex(np.arange(len(sc)))
    pos = np.full(len(sc), -1)
    pos[one.index.to_numpy()] = one["_rpos"].to_numpy()
    long["referral_id"] = rid.to_numpy(dtype=object)[src]
    # a person with referrals, none of them covering the date, is not a near miss
    lost = n_match == 0
    lost[lost] = ~is_in(sc["person_id"].iloc[np.flatnonzero(lost)], ref["person_id"])
    spaced, lines = _near_misses(sc["person_id"], lost, ref["person_id"], "person_id")
    n_match = n_match[src]
    reason[spaced[src]] = _S[S_PERSON_SPACES]
    reason[(n_match == 0) & (reason == 0)] = _S[S_NO_REFERRAL]
    reason[n_match > 1] = _S[S_AMBIGUOUS]
    return long, pos[src], reason, lines


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pd.api.extensions.ExtensionArray:
    """Text column from codes into a few labels, built in arrow (no Python string per row)."""
    return pd.array(np.array(labels, dtype=object), dtype="str").take(codes.astype(np.intp))


def _at(col: pd.Series, pos: np.ndarray) -> pd.Series:
    """``col``'s values at positions ``pos``; missing where ``pos`` is -1."""
    return col.reset_index(drop=True).reindex(pos).reset_index(drop=True)


def _rank(ids: pd.Series) -> np.ndarray:
    """Sort rank of each id (distinct ids), so outputs sort by id through integers."""
    order = np.asarray(ids.reset_index(drop=True).argsort(kind="stable"))
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def _measure_table(
    long: pd.DataFrame, series: list[str], first_idx: np.ndarray, last_idx: np.ndarray
) -> pd.DataFrame:
    """One row per measure series with a first score (``first_idx``, in output order);
    ``last_idx`` holds each series' last score or -1."""
    cols = [*series, "threshold", "higher_is_better", "date", "value", "row"]
    # columns first, then rows: taking every column of ``long`` (its text too) cost seconds
    m = (
        long[cols]
        .iloc[first_idx]
        .rename(columns={"date": "date_first", "value": "score_first", "row": "row_first"})
    )
    m = m.reset_index(drop=True)
    has = np.flatnonzero(last_idx >= 0)
    last = long[["date", "value", "row"]].iloc[last_idx[has]].set_axis(has, axis=0)
    # reindexing gives the missing last scores the dtypes a left merge gives them
    last = last.reindex(np.arange(len(m))).rename(
        columns={"date": "date_last", "value": "score_last", "row": "row_last"}
    )
    m = pd.concat([m, last], axis=1)
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
    return m


def _label_rank(col: pd.Series) -> np.ndarray:
    """Sort rank of each value of a column of few distinct labels."""
    return pd.factorize(col, sort=True)[0]


# Outcome codes of _by_referral: an index into this array.
_OUTCOME_LABELS = np.array([None, "deterioration", "improvement", "no_change"], dtype=object)


def _outcome_code(imp: np.ndarray, det: np.ndarray, paired: np.ndarray) -> np.ndarray:
    # not paired; else deterioration on any measure; else improvement; else no change
    return np.where(~paired, 0, np.where(det, 1, np.where(imp, 2, 3)))


def _by_referral(
    measures: pd.DataFrame,
    m_rpos: np.ndarray,
    m_rcode: np.ndarray,
    rlabels: pd.Index,
    ref_rank: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One row per referral x rater and per referral (rater "any"), sorted by id and rater.

    Also, per row: the referral's position, the rater's code (into the sorted rater labels,
    returned too) and the outcome code (into _OUTCOME_LABELS). Every measure series belongs to an in-scope
    referral, so no row is dropped."""
    paired = measures["paired"].to_numpy(dtype=bool)
    imp = measures["reliable_improvement"].to_numpy(dtype=bool)
    det = measures["reliable_deterioration"].to_numpy(dtype=bool)
    names = np.array(sorted({*map(str, rlabels), ANY_RATER}), dtype=object)
    code_of = {v: i for i, v in enumerate(names)}
    rater_code = np.array([code_of[str(v)] for v in rlabels], dtype=np.int64)
    n_r = len(names)
    firsts, raters, aggs = [], [], []
    for r in (rater_code[m_rcode], np.full(len(m_rcode), code_of[ANY_RATER])):
        _, first, inv = np.unique(m_rpos * n_r + r, return_index=True, return_inverse=True)
        k = len(first)
        n_paired = np.bincount(inv, weights=paired, minlength=k)
        firsts.append(first)
        raters.append(r[first])
        aggs.append(
            (
                n_paired > 0,
                n_paired.astype(np.int64),
                np.bincount(inv, weights=imp, minlength=k) > 0,
                np.bincount(inv, weights=det, minlength=k) > 0,
            )
        )
    first = np.concatenate(firsts)
    rater = np.concatenate(raters)
    b_rpos = m_rpos[first]
    order = np.lexsort((rater, ref_rank[b_rpos]))
    first, rater, b_rpos = first[order], rater[order], b_rpos[order]
    p, n_p, i_, d_ = (np.concatenate(x)[order] for x in zip(*aggs, strict=True))
    ocode = _outcome_code(i_, d_, p)
    out = pd.DataFrame(
        {
            "referral_id": measures["referral_id"].array.take(first),
            "rater": names[rater],
            "assessed": np.ones(len(first), bool),
            "paired": p,
            "n_measures_paired": n_p,
            "any_improvement": i_,
            "any_deterioration": d_,
            "outcome": pd.Series(_OUTCOME_LABELS[ocode], dtype=object),
        }
    )
    if out.empty:
        out["rater"] = out["rater"].astype(str)  # the dtype pandas gives an empty groupby key
    return out, b_rpos, rater, names, ocode


def _table(
    by_ref: pd.DataFrame,
    b_rpos: np.ndarray,
    b_rater: np.ndarray,
    rater_names: np.ndarray,
    b_outcome: np.ndarray,
    ref_acc: pd.DataFrame,
    by: list[str],
    confidence: float,
) -> pd.DataFrame:
    scope = ref_acc[ref_acc["in_scope"]]
    raters = list(STANDARD_RATERS) + sorted(
        set(pd.unique(by_ref["rater"])) - set(STANDARD_RATERS) - {ANY_RATER}
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
    # every by_ref row is an in-scope referral: its groups are gathered by position
    br = pd.DataFrame(
        {
            **{b: ref_acc[b].iloc[b_rpos].to_numpy() for b in by},
            "_rater": b_rater,
            "n_assessed": by_ref["assessed"].to_numpy(dtype=bool),
            "n_paired": by_ref["paired"].to_numpy(dtype=bool),
            **{f"n_{o}": b_outcome == list(_OUTCOME_LABELS).index(o) for o in OUTCOMES},
        }
    )
    keys = [*by, "rater"]
    counts = br.groupby([*by, "_rater"], observed=True).sum().reset_index()
    counts.insert(len(by), "rater", rater_names[counts.pop("_rater").to_numpy()])
    t = grid.merge(counts, on=keys, how="left")
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
    # An extract exists only once its module is loaded: a plain scores table does not load
    # the MHSDS package (and its database readers) just to be told it is not one.
    extract = sys.modules.get("outcomes.mhsds.extract")
    if extract is not None and isinstance(scores, extract.MHSDSExtract):
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
