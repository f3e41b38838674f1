"""Pairing baseline and follow-up scores, with an account of every record.

From a long table of scores (one row per administration: ``person_id, instrument, rater, date``
and/or ``wave``, then one column per scale, as produced by :func:`outcomes.score`) build one
baseline/follow-up pair per person x instrument x rater x scale under an explicit rule:

* ``"first_last"``: the earliest record is the baseline, the latest the follow-up;
* ``"nearest"``: the earliest record is the baseline; the follow-up is the later record whose
  distance from baseline is nearest ``target_days`` and within ``window_days`` of it;
* ``"waves"``: the record of wave ``baseline`` against the record of wave ``followup``.

Every input record x scale ends up in :attr:`Pairing.records` as ``baseline``, ``follow_up``
or ``unpaired`` with a reason. Problems (duplicate records at one time point, a follow-up dated
before its baseline, mixed raters, missing ids or dates, a ``referral_id`` key named with
more than one person) are reported there and in :attr:`Pairing.problems`; the series they touch
are never paired.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._internal.columns import check_frame, one_value_per_cell, require_columns
from .._internal.dates import dates_or_raise
from .._internal.ids import of_shared_referral, space_twins
from .._internal.params import (
    COLUMN,
    ERRORS,
    NON_NEGATIVE,
    POSITIVE,
    WAVE_LABEL,
    Columns,
    Options,
    deprecated_values,
    renamed_params,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord, with_notes
from .._internal.text import shown
from .._internal.waves import check_lookalikes, resolve_wave
from ..errors import DataStructureError, OutcomesError

__all__ = ["Pairing", "PairingWarning", "pair_waves"]

# Reasons a record is not paired. Those in PROBLEMS are data problems to fix, not design.
SCORE_MISSING = "score missing"
DUPLICATE = "duplicate records at one time point"
DUPLICATE_SERIES = "series not paired: duplicate records at another time point"
BEFORE_BASELINE = "follow-up dated before (or on the day of) baseline"
MIXED_RATERS = "mixed raters: no pair from a single rater"
ONLY_ONE = "only one record"
INTERMEDIATE = "intermediate record (neither first nor last)"
OUTSIDE_WINDOW = "outside the follow-up window"
NOT_NEAREST = "another record is nearer the target follow-up time"
NO_FOLLOWUP_IN_WINDOW = "no follow-up within the window"
OTHER_WAVE = "not the baseline or follow-up wave"
NO_PARTNER_WAVE = "no record at the other wave"
SHARED_REFERRAL = "referral_id named with more than one person"
PROBLEMS = (DUPLICATE, BEFORE_BASELINE, MIXED_RATERS, SHARED_REFERRAL)
# The key that names one child's episode: its rows must agree on the person.
REFERRAL = "referral_id"
# Reasons are integer codes while pairing (text compared across every record x scale entry is
# slow); the records get the text at the end. Code 0 is "" (paired, or not yet decided); the
# "<column> missing" reasons are numbered after these.
_REASONS = (
    "", SCORE_MISSING, DUPLICATE, DUPLICATE_SERIES, BEFORE_BASELINE, MIXED_RATERS, ONLY_ONE,
    INTERMEDIATE, OUTSIDE_WINDOW, NOT_NEAREST, NO_FOLLOWUP_IN_WINDOW, OTHER_WAVE, NO_PARTNER_WAVE,
    SHARED_REFERRAL,
)  # fmt: skip
_R = {text: code for code, text in enumerate(_REASONS)}
_STATUSES = ("unpaired", "baseline", "follow_up")


# the warning's headline: a count of record x scale entries (the report releases it by the
# count rule; the shared-referral headline's counts are referral(s) and row(s), read as such)
_NOT_PAIRED = NoteTemplate(
    "{n} record x scale entries were not paired because of data problems", counts=["n"]
)


class PairingWarning(UserWarning):
    """Some records were left unpaired because of a data problem (see Pairing.problems)."""


@dataclass
class Pairing:
    """Result of :func:`pair_waves`.

    ``pairs``: one row per pair with ``pre``, ``post``, ``change`` (post - pre), the dates,
    ``days_between`` and ``row_pre``/``row_post`` (index labels of the source records).
    ``records``: one row per input record x scale with ``status`` and ``reason``.
    ``quality``: one note per kind of data problem (how many records, what was done).
    """

    pairs: pd.DataFrame
    records: pd.DataFrame
    rule: str
    keys: list[str]
    quality: QualityRecord = field(default_factory=QualityRecord)

    @property
    def problems(self) -> pd.DataFrame:
        """Records left unpaired because of a data problem (duplicates, dates, raters, ids, a
        referral named with more than one person)."""
        r = self.records
        return r[_is_problem(r["reason"])]

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()

    def counts(self) -> pd.DataFrame:
        """Records by scale, status and reason: the reconciliation of inputs and pairs."""
        return (
            self.records.groupby(["scale", "status", "reason"], observed=True, dropna=False)
            .size()
            .rename("n")
            .reset_index()
        )

    def summary(self) -> str:
        r = self.records
        n_rec = r["row"].nunique()
        n_pairs = len(self.pairs)
        people = self.pairs[self.keys[0]].nunique() if n_pairs else 0
        un = r[r["status"] == "unpaired"]
        top = un["reason"].value_counts().head(3)
        why = "; ".join(f"{reason} ({n})" for reason, n in top.items())
        text = (
            f"{n_rec} records gave {n_pairs} baseline/follow-up pairs ({people} people, rule "
            f"'{self.rule}'); {len(un)} record x scale entries were not paired"
        )
        text += f" (most often: {why})." if len(un) else "."
        if len(self.problems):
            text += f" {len(self.problems)} entries have data problems: see .problems."
        return with_notes(text, self.quality)

    def __repr__(self) -> str:
        return f"Pairing({self.summary()!r})"


def _is_problem(reason: pd.Series) -> pd.Series:
    """Which reasons are data problems: duplicates, dates, raters, a missing id or key, a
    referral of several persons."""
    return reason.isin(PROBLEMS) | reason.str.endswith(" missing") & (reason != SCORE_MISSING)


def _scales_of(
    data: pd.DataFrame, scales: Sequence[str] | None
) -> dict[object, list[str]] | list[str]:
    """Scales to pair: a list for every row, or per-instrument lists read from the YAML."""
    if scales is not None:
        scales = [scales] if isinstance(scales, str) else list(scales)
        require_columns(data, scales, what="pair_waves: scales=")
        return scales
    if "instrument" not in data.columns:
        raise DataStructureError(
            "pair_waves: give scales=[...] (or an 'instrument' column so the scales can be "
            "read from the instrument definitions)"
        )
    from ..instruments.model import load_instrument

    if data["instrument"].isna().any():
        rows = data.index[data["instrument"].isna().to_numpy()][:10].tolist()
        raise DataStructureError(
            f"pair_waves: instrument missing at rows {rows}, so their scales are unknown; "
            "fill the instrument or give scales=[...]"
        )
    out: dict[object, list[str]] = {}
    for inst_id in data["instrument"].dropna().unique():
        try:
            inst = load_instrument(str(inst_id))
        except OutcomesError as err:
            raise OutcomesError(f"pair_waves: {err}; give scales=[...] explicitly") from None
        out[inst_id] = [s.id for s in inst.scales if s.id in data.columns]
    return out


def _instrument_scale_ids(inst_id: object) -> set[str] | None:
    from ..instruments.model import load_instrument

    try:
        return {s.id for s in load_instrument(str(inst_id)).scales}
    except OutcomesError:
        return None


@dataclass
class _Long:
    """The record x scale long frame as integers: each entry's record (position in the scores)
    and scale, and its value. Text columns are taken from the scores only where needed (the
    pairs, and once for the records at the end): taking them across the long frame is slow."""

    pos: np.ndarray
    scale: np.ndarray  # codes into names, numbered in sort order of the names
    names: list[str]
    value: np.ndarray

    def scale_text(self, where: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The scale column for the entries ``where``, as text."""
        return _labelled(self.names, self.scale[where])


def _long(data: pd.DataFrame, scales) -> _Long:
    """Record x scale entries (a loop over scales, never over rows)."""
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []
    if isinstance(scales, dict):
        by_scale: dict[str, list] = {}
        for inst_id, ss in scales.items():
            for s in ss:
                by_scale.setdefault(s, []).append(inst_id)
        inst_col = data["instrument"].to_numpy(dtype=object)
        for s, insts in by_scale.items():
            rows = np.flatnonzero(pd.Series(inst_col).isin(insts).to_numpy())
            parts.append((s, rows, _scale_values(data, s, rows)))
    else:
        allowed = None
        if "instrument" in data.columns:
            allowed = {i: _instrument_scale_ids(i) for i in data["instrument"].dropna().unique()}
        inst_col = data["instrument"].to_numpy(dtype=object) if allowed is not None else None
        present = pd.unique(inst_col) if allowed is not None else None
        rows_of: dict[tuple, np.ndarray] = {}  # scales of the same instruments share their rows
        for s in scales:
            rows = np.arange(len(data))
            if allowed is not None:
                # Skip rows of instruments known not to have this scale (mixed-instrument frames).
                ok = np.array([allowed.get(i) is None or s in allowed[i] for i in present])
                keep_inst = np.asarray(present, dtype=object)[ok].tolist()
                key = tuple(keep_inst)
                if key not in rows_of:
                    keep = pd.Series(inst_col).isin(set(keep_inst)).to_numpy()
                    rows_of[key] = np.flatnonzero(keep)
                rows = rows_of[key]
                if len(rows) == 0:
                    raise OutcomesError(
                        f"pair_waves: {s!r} is not a scale of the instrument(s) "
                        f"{sorted(map(str, allowed))} in the data"
                    )
            parts.append((s, rows, _scale_values(data, s, rows)))
    if not parts:
        raise DataStructureError("pair_waves: no scale columns to pair")
    names = sorted({s for s, _, _ in parts})
    rank = {s: i for i, s in enumerate(names)}
    return _Long(
        pos=np.concatenate([rows for _, rows, _ in parts]),
        scale=np.concatenate([np.full(len(rows), rank[s]) for s, rows, _ in parts]),
        names=names,
        value=np.concatenate([v for _, _, v in parts]),
    )


def _scale_values(data: pd.DataFrame, scale: str, rows: np.ndarray) -> np.ndarray:
    col = data[scale]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
        # scored columns are numbers already: no text to find, only the rows to take (the
        # conversion and the search for text cost more than the pairing's own steps)
        return col.to_numpy(dtype=float)[rows]
    num = pd.to_numeric(col, errors="coerce")
    bad = num.isna() & col.notna()
    if bad.any():
        lab = data.index[bad.to_numpy()][:5].tolist()
        vals = col[bad].head(5).tolist()
        raise OutcomesError(
            f"pair_waves: column {scale!r} has non-numeric values {vals} at rows {lab}"
        )
    return num.to_numpy(dtype=float, na_value=np.nan)[rows]


@renamed_params(
    id_col="person_id",
    date_col="date",
    wave_col="wave",
    baseline_wave="baseline",
    followup_wave="followup",
    on_problem="errors",
)
@deprecated_values(errors={"report": "flag"})
@validate_params(
    {
        "scores": "dataframe",
        "scales": [Columns(), None],
        "rule": Options(str, {"first_last", "nearest", "waves"}),
        "target_days": [POSITIVE, None],
        "window_days": [NON_NEGATIVE, None],
        "baseline": WAVE_LABEL,
        "followup": WAVE_LABEL,
        "person_id": COLUMN,
        "keys": [Columns(empty=True)],
        "date": COLUMN,
        "wave": COLUMN,
        "errors": ERRORS,
        "dayfirst": "boolean",
    }
)
def pair_waves(
    scores: pd.DataFrame,
    *,
    scales: Sequence[str] | str | None = None,
    rule: Literal["first_last", "nearest", "waves"] = "first_last",
    target_days: float | None = None,
    window_days: float | None = None,
    baseline: object = None,
    followup: object = None,
    person_id: str = "person_id",
    keys: Sequence[str] = ("instrument", "rater"),
    date: str = "date",
    wave: str = "wave",
    errors: Literal["raise", "flag"] = "flag",
    dayfirst: bool = True,
) -> Pairing:
    """Pair baseline and follow-up scores per person x instrument x rater x scale.

    Parameters
    ----------
    scores
        Long scores: the ``person_id`` column, the ``keys`` columns present (by default
        ``instrument`` and ``rater``), the ``date`` and/or ``wave`` columns, one column per scale.
    scales
        Scale columns to pair; default every scale of each row's instrument (from its YAML).
    rule
        ``"first_last"`` (by date, or by wave order when there is no date column),
        ``"nearest"`` (follow-up nearest ``target_days`` after baseline, within ``window_days``),
        ``"waves"`` (wave ``baseline`` vs wave ``followup``).
    baseline, followup
        Wave labels compared by rule ``"waves"``.
    person_id, date, wave
        Names of the person id, date and wave columns.
    dayfirst
        Read ambiguous ``05/01/2025`` text as 5 January (True, UK data) or 1 May (False). ISO
        dates, datetimes and (via :func:`outcomes.io.read_table`) Excel dates are read either way;
        a date that is not a date raises :class:`~outcomes.InvalidResponsesError` naming the row
        (docs/concepts.md, "Dates").
    keys
        Further columns a series is kept apart by (those absent are ignored). With
        ``"referral_id"`` among them (a child referred twice has two episodes), a referral
        named with more than one person is a contradiction: ``errors="raise"`` refuses it,
        naming up to five such referrals; ``errors="flag"`` leaves *every* record of such a
        referral unpaired, with the reason ``"referral_id named with more than one person"``
        (in :attr:`Pairing.records`, :attr:`Pairing.problems` and the quality notes). Every
        record, because one of the two ids on some records is wrong and the scores cannot
        tell which: the stray record may be another child's (a wrong ``referral_id``), or the
        referral's child's own under a wrong ``person_id``, so neither the majority nor any
        one person's records can be trusted to make the referral's pair (with the referrals
        table, the report keeps the rows of the referral's own person:
        :func:`outcomes.report.checks.referral_links`).
    errors
        ``"flag"`` (default): leave problem series unpaired, record why, warn with
        :class:`PairingWarning`. ``"raise"``: raise :class:`~outcomes.DataStructureError`.
        The old names ``id_col``, ``date_col``, ``wave_col``, ``baseline_wave``,
        ``followup_wave`` and ``on_problem="report"`` still work, with a ``DeprecationWarning``.

    Example:
        >>> import pandas as pd
        >>> from outcomes.change.pairing import pair_waves
        >>> s = pd.DataFrame({"person_id": ["a", "a", "b"], "instrument": "swemwbs",
        ...                   "rater": "self", "date": ["2024-01-10", "2025-01-08", "2024-02-01"],
        ...                   "metric": [17.4, 21.5, 19.3]})
        >>> p = pair_waves(s, scales=["metric"])
        >>> p.pairs[["person_id", "pre", "post", "days_between"]].to_dict("records")
        [{'person_id': 'a', 'pre': 17.4, 'post': 21.5, 'days_between': 364.0}]
        >>> p.records["reason"].tolist()
        ['', '', 'only one record']
    """
    # The body keeps its pre-glossary names (docs/contributing.md, argument names).
    id_col, date_col, wave_col = person_id, date, wave
    baseline_wave, followup_wave = baseline, followup
    on_problem = "raise" if errors == "raise" else "report"
    check_frame(scores, what="pair_waves")
    one_value_per_cell(scores, what="pair_waves")
    if on_problem not in ("report", "raise"):
        raise OutcomesError(f"on_problem must be 'report' or 'raise', not {on_problem!r}")
    require_columns(scores, [id_col], what="pair_waves: the id column (id_col=)")
    keys = [k for k in keys if k in scores.columns]
    has_date, has_wave = date_col in scores.columns, wave_col in scores.columns
    if rule == "waves":
        if not has_wave:
            raise DataStructureError(f"pair_waves: rule 'waves' needs a {wave_col!r} column")
        if baseline_wave is None or followup_wave is None or baseline_wave == followup_wave:
            raise OutcomesError("rule 'waves' needs two different values baseline= and followup=")
    elif rule == "nearest":
        if not has_date:
            raise DataStructureError(f"pair_waves: rule 'nearest' needs a {date_col!r} column")
        if target_days is None or window_days is None or target_days <= 0 or window_days < 0:
            raise OutcomesError("rule 'nearest' needs target_days > 0 and window_days >= 0")
    elif rule == "first_last":
        if not (has_date or has_wave):
            raise DataStructureError(f"pair_waves: need a {date_col!r} or {wave_col!r} column")
    else:
        raise OutcomesError(f"rule must be 'first_last', 'nearest' or 'waves', not {rule!r}")

    if rule == "waves":
        present = pd.Series(scores[wave_col].dropna().unique()).tolist()
        baseline_wave = resolve_wave(baseline_wave, present, column=wave_col)
        followup_wave = resolve_wave(followup_wave, present, column=wave_col)
        # a label that reads as one of the two would be left out as "another wave"
        check_lookalikes([baseline_wave, followup_wave], present, column=wave_col)

    # oc.score() keeps a DataFrame in .attrs["issues"]; pandas cannot compare such attrs on concat.
    scores = scores.copy(deep=False)
    scores.attrs = {}
    if has_date:
        scores[date_col] = dates_or_raise(
            scores[date_col], column=date_col, where="pair_waves", dayfirst=dayfirst
        )
    scale_spec = _scales_of(scores, scales)
    cols = [id_col, *keys] + ([date_col] if has_date else []) + ([wave_col] if has_wave else [])
    rec = _long(scores, scale_spec)
    pos = rec.pos

    # Time axis of the rule: dates, except for the waves rule and undated first/last.
    use_wave_time = rule == "waves" or not has_date
    time_col = wave_col if use_wave_time else date_col
    if use_wave_time and rule == "first_last":
        w = scores[wave_col]
        if not (
            pd.api.types.is_numeric_dtype(w)
            or isinstance(w.dtype, pd.CategoricalDtype)
            and w.cat.ordered
        ):
            raise OutcomesError(
                f"pair_waves: without dates, rule 'first_last' orders by {wave_col!r}, which must "
                "be numeric or an ordered categorical"
            )

    series_cols = [id_col, *keys, "scale"]
    # Each key column is factorised once, on the scores rather than the long entries (sorted
    # codes, so that sorting codes sorts the labels); the referral check, series, duplicates
    # and rater counts are then integer operations.
    factorised = {c: pd.factorize(scores[c], sort=True) for c in series_cols if c != "scale"}
    row_codes = {c: codes for c, (codes, _) in factorised.items()}
    # ids compared as they are: " P1" and "P1" are two persons, each series unpaired as
    # "only one record" (a design reason); said, with a count, never silently
    twins = {c: space_twins(factorised[c][1]) for c in (id_col, REFERRAL) if c in factorised}
    twins_said = _twins_message({c: t for c, t in twins.items() if t})
    if twins_said and on_problem == "raise":
        raise DataStructureError(twins_said)
    shared = (
        of_shared_referral(row_codes[REFERRAL], row_codes[id_col]) if REFERRAL in keys else None
    )
    if shared is not None and shared.any() and on_problem == "raise":
        raise DataStructureError(_shared_message(scores, shared, id_col, raising=True))

    n = len(pos)
    reason = np.zeros(n, np.int16)
    reason[np.isnan(rec.value)] = _R[SCORE_MISSING]
    reasons = list(_REASONS)
    for c in [id_col, *keys, time_col]:
        miss = scores[c].isna().to_numpy()[pos] & (reason == 0)
        reasons.append(f"{c} missing")
        reason[miss] = len(reasons) - 1
    if shared is not None:
        # every record of the referral, a missing score too: the row is left out for its ids
        reason[shared[pos]] = _R[SHARED_REFERRAL]
    valid = reason == 0

    vpos = np.flatnonzero(valid)
    codes = {c: row_codes[c][pos[vpos]] for c in row_codes}
    codes["scale"] = rec.scale[vpos]
    g = np.full(n, -1)
    g[vpos] = pd.factorize(_combine([codes[c] for c in series_cols]))[0]
    dup = np.zeros(n, bool)
    tcode = pd.factorize(scores[time_col])[0][pos[vpos]]
    dup[vpos] = pd.Series(_combine([g[vpos], tcode])).duplicated(keep=False).to_numpy()
    reason[dup] = _R[DUPLICATE]
    dup_series = (np.bincount(g + 1, weights=dup) > 0)[g + 1] & valid
    reason[dup_series & ~dup] = _R[DUPLICATE_SERIES]
    cand = valid & ~dup_series

    base_idx, fu_idx, reason = _select(
        scores,
        pos,
        g,
        cand,
        reason,
        rule,
        time_col,
        date_col if has_date else None,
        target_days,
        window_days,
        baseline_wave,
        followup_wave,
        wave_col,
    )

    status = np.zeros(n, np.int8)  # codes into _STATUSES
    status[base_idx] = 1
    status[fu_idx] = 2

    # Mixed raters: a person x instrument x scale rated by several raters, records left unpaired.
    if "rater" in keys:
        other = _combine([codes[c] for c in series_cols if c != "rater"])
        other = pd.factorize(other)[0]
        first_of_pair = ~pd.Series(_combine([other, codes["rater"]])).duplicated().to_numpy()
        n_raters = np.bincount(other[first_of_pair], minlength=len(other) and other.max() + 1)
        mixed = np.zeros(n, bool)
        mixed[vpos] = n_raters[other] > 1
        relabel = (
            mixed
            & (status == 0)
            & np.isin(reason, [_R[ONLY_ONE], _R[NO_PARTNER_WAVE], _R[NO_FOLLOWUP_IN_WINDOW]])
        )
        reason[relabel] = _R[MIXED_RATERS]

    pairs = _build_pairs(
        scores,
        rec,
        g,
        base_idx,
        fu_idx,
        series_cols,
        codes,
        vpos,
        date_col if has_date else None,
        wave_col if has_wave else None,
    )
    # in record order (scales in the order paired within a record); the text columns are
    # taken from the scores once, here
    order = np.argsort(pos, kind="stable")
    at = pos[order]
    records = scores[cols].take(at).reset_index(drop=True)
    records.insert(0, "row", _row_labels(scores).take(at))
    records["scale"] = rec.scale_text(order)
    records["value"] = rec.value[order]
    records["status"] = _labelled(_STATUSES, status[order])
    records["reason"] = _labelled(reasons, reason[order])
    result = Pairing(pairs=pairs, records=records, rule=rule, keys=[id_col, *keys])
    if twins_said:
        result.quality.add(
            "pair_waves", twins_said.splitlines()[0], action="kept apart", warn=False
        )
        warnings.warn(twins_said, PairingWarning, stacklevel=2)
    # Pairing.problems, with each reason judged once rather than every record's text
    problem = _is_problem(pd.Series(reasons, dtype="str")).to_numpy(dtype=bool)[reason[order]]
    if problem.any():
        probs = records[problem]
        msg = _problem_message(probs)
        if shared is not None and shared.any():
            msg = f"{_shared_message(scores, shared, id_col, raising=False)}\n{msg}"
        if on_problem == "raise":
            raise DataStructureError(msg)
        # one note per reason and scale; the warning below lists the rows
        result.quality.add_reasons("pair_waves", probs, action="left unpaired", where="scale")
        warnings.warn(msg, PairingWarning, stacklevel=2)
    return result


def _twins_message(twins: dict[str, list[tuple[str, ...]]]) -> str:
    """The ids that differ only by surrounding spaces, per column: how many, up to three
    groups of them, and what to do ("" when there are none)."""
    if not twins:
        return ""
    head = "; ".join(
        f"{sum(len(g) for g in groups)} {c} value(s) differ from another only by surrounding "
        f"spaces ({len(groups)} group(s))"
        for c, groups in twins.items()
    )
    examples = "; ".join(
        f"{c} " + " and ".join(shown(v) for v in g)
        for c, groups in twins.items()
        for g in groups[:3]
    )
    return (
        f"pair_waves: {head}: they are compared as they are, so each is a series of its own; "
        f"trim the ids if they are one (the report does).\nFor example: {examples}."
    )


def _shared_message(scores: pd.DataFrame, shared: np.ndarray, id_col: str, raising: bool) -> str:
    """The referrals named with more than one person: how many, on how many rows, and up to
    five of them with each person's number of rows."""
    rows = scores.loc[shared, [REFERRAL, id_col]]
    n_ref = rows[REFERRAL].nunique()
    first = rows[REFERRAL].drop_duplicates().head(5)
    persons: dict[object, list[str]] = {r: [] for r in first}
    for (r, p), n in rows[rows[REFERRAL].isin(first)].value_counts(sort=False).items():
        persons[r].append(f"{id_col} {shown(p)} ({n} row(s))")
    examples = "; ".join(f"{REFERRAL} {shown(r)}: {', '.join(ps)}" for r, ps in persons.items())
    more = f"; and {n_ref - len(first)} more" if n_ref > len(first) else ""
    # the first line names no id: a report publishes a warning's or an error's first line
    return (
        f"pair_waves: {n_ref} referral(s) in column {REFERRAL!r} are named with more than one "
        f"{id_col} on {len(rows)} row(s); "
        + (
            "correct the ids, or pass errors='flag' to leave every row of these referrals unpaired."
            if raising
            else "every row of these referrals was left unpaired; correct the ids to pair them."
        )
        + "\nA referral is one child's episode, so one of the two ids on some of these rows is "
        f"wrong, and the scores cannot tell which: {examples}{more}."
    )


def _problem_message(probs: pd.DataFrame, limit: int = 10) -> str:
    lines = [f"{_NOT_PAIRED(n=len(probs))}:"]
    for r in probs.head(limit).itertuples(index=False):
        lines.append(f"  row {r.row!r}, scale {r.scale!r}: {r.reason}")
    if len(probs) > limit:
        lines.append(f"  ... and {len(probs) - limit} more (see Pairing.problems)")
    return "\n".join(lines)


def _select(
    scores, pos, g_all, cand, reason, rule, time_col, date_col, target_days, window_days, bw, fw,
    wave_col,
):  # fmt: skip
    """Indices of baseline and follow-up entries; reasons for the candidates left out."""
    idx = np.flatnonzero(cand)
    if len(idx) == 0:
        return idx, idx, reason
    g = g_all[idx]
    if rule == "waves":
        w = scores[wave_col].to_numpy(dtype=object)[pos[idx]]
        is_b, is_f = w == bw, w == fw
        reason[idx[~(is_b | is_f)]] = _R[OTHER_WAVE]
        b_idx, f_idx = idx[is_b], idx[is_f]
        both = np.intersect1d(g[is_b], g[is_f])
        b_idx = b_idx[np.isin(g[is_b], both)]
        f_idx = f_idx[np.isin(g[is_f], both)]
        lone = idx[(is_b | is_f) & ~np.isin(g, both)]
        reason[lone] = _R[NO_PARTNER_WAVE]
        # one record per wave per series (duplicates were removed), so sort both by series
        b_idx = b_idx[np.argsort(g_all[b_idx], kind="stable")]
        f_idx = f_idx[np.argsort(g_all[f_idx], kind="stable")]
        if date_col is not None:
            dates = scores[date_col].to_numpy()
            db = dates[pos[b_idx]]
            df_ = dates[pos[f_idx]]
            wrong = ~(pd.isna(db) | pd.isna(df_)) & (df_ <= db)
            reason[b_idx[wrong]] = _R[BEFORE_BASELINE]
            reason[f_idx[wrong]] = _R[BEFORE_BASELINE]
            b_idx, f_idx = b_idx[~wrong], f_idx[~wrong]
        return b_idx, f_idx, reason

    if isinstance(scores[time_col].dtype, pd.CategoricalDtype):
        t = scores[time_col].cat.codes.to_numpy()[pos[idx]]
    else:
        t = scores[time_col].to_numpy()[pos[idx]]
    order = np.lexsort((t, g))
    idx, g, t = idx[order], g[order], t[order]
    start = np.r_[True, g[1:] != g[:-1]]
    first_pos = np.maximum.accumulate(np.where(start, np.arange(len(g)), 0))
    size = np.bincount(np.cumsum(start) - 1)[np.cumsum(start) - 1]
    is_first = start
    single = size == 1
    reason[idx[single]] = _R[ONLY_ONE]
    if rule == "first_last":
        end = np.r_[g[1:] != g[:-1], True]
        is_last = end & ~single
        reason[idx[~is_first & ~is_last]] = _R[INTERMEDIATE]
        return idx[is_first & ~single], idx[is_last], reason

    # nearest: distance of each later record from the target offset after baseline
    days = (t - t[first_pos]) / np.timedelta64(1, "D")
    off = np.abs(days - target_days)
    eligible = ~is_first & (off <= window_days)
    reason[idx[~is_first & ~eligible]] = _R[OUTSIDE_WINDOW]
    # nearest eligible per series; ties go to the earlier record (stable order by time)
    cand_pos = np.flatnonzero(eligible)
    o = np.lexsort((t[cand_pos], off[cand_pos], g[cand_pos]))
    cand_pos = cand_pos[o]
    # (sliced: with no eligible record at all there is no first one either)
    first_of_g = np.r_[True, g[cand_pos][1:] != g[cand_pos][:-1]][: len(cand_pos)]
    chosen = cand_pos[first_of_g]
    reason[idx[cand_pos[~first_of_g]]] = _R[NOT_NEAREST]
    has_fu = np.isin(g, g[chosen])
    reason[idx[is_first & ~has_fu & ~single]] = _R[NO_FOLLOWUP_IN_WINDOW]
    base = idx[is_first & has_fu]
    return base, idx[chosen], reason


def _row_labels(scores: pd.DataFrame) -> pd.api.extensions.ExtensionArray:
    """The scores' index labels as a column array, with the dtype pandas infers for them (text
    labels a text column, however few rows are taken)."""
    return pd.Series(scores.index.to_numpy(), copy=False).array


def _labelled(labels: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column from integer codes into ``labels`` (the dtype pandas infers for text)."""
    return pd.array(np.asarray(labels, dtype=object), dtype="str").take(codes)


def _combine(codes: list[np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of non-negative code arrays (mixed radix; made
    dense again by hashing only when the next column could overflow int64)."""
    out = np.zeros(len(codes[0]) if codes else 0, np.int64)
    for c in codes:
        c = np.asarray(c, np.int64)
        radix = int(c.max()) + 1 if len(c) else 1
        if len(out) and int(out.max()) >= (2**62) // radix:
            out = pd.factorize(out)[0].astype(np.int64)
        out = out * radix + c
    return out


def _build_pairs(
    scores, rec, g, base_idx, fu_idx, series_cols, codes, vpos, date_col, wave_col
) -> pd.DataFrame:
    # every rule returns baselines and follow-ups in the same series order: pair by position
    if len(base_idx) != len(fu_idx) or not np.array_equal(g[base_idx], g[fu_idx]):
        raise AssertionError("pair_waves: baselines and follow-ups out of step")  # a bug
    # sorted by the series columns: their sorted codes (rows of b are valid records). The
    # pairs are put in that order first, so each column is taken once, in its final place,
    # and the frame is built once (a column written at a time, then a concat and a sort of
    # every column, cost more than the pairing).
    where = np.searchsorted(vpos, base_idx)
    order = np.lexsort([codes[c][where] for c in reversed(series_cols)])
    base_idx, fu_idx = base_idx[order], fu_idx[order]
    at_b, at_f = rec.pos[base_idx], rec.pos[fu_idx]

    def taken(col: str, at: np.ndarray):  # the text columns for the pairs only
        return scores[col].array.take(at)

    out = {c: rec.scale_text(base_idx) if c == "scale" else taken(c, at_b) for c in series_cols}
    pre, post = rec.value[base_idx], rec.value[fu_idx]
    out |= {"pre": pre, "post": post, "change": post - pre}
    if date_col:
        out["date_pre"], out["date_post"] = taken(date_col, at_b), taken(date_col, at_f)
        out["days_between"] = (out["date_post"] - out["date_pre"]) / pd.Timedelta(days=1)
    else:
        out["days_between"] = np.full(len(base_idx), np.nan)
    if wave_col:
        out["wave_pre"], out["wave_post"] = taken(wave_col, at_b), taken(wave_col, at_f)
    labels = _row_labels(scores)
    out["row_pre"], out["row_post"] = labels.take(at_b), labels.take(at_f)
    return pd.DataFrame(out, index=pd.RangeIndex(len(base_idx)))
