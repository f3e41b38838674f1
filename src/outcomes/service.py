"""Service activity and access: referrals, acceptance, inappropriate referrals, waiting times and
children seen, from the referrals table (DESIGN.md).

Every function takes the referrals table as it comes from the service's system, checks it with
:func:`prepare_referrals` (bad rows raise an error naming them, or with ``errors="flag"`` are
excluded and counted), and returns tidy frames ready to plot or to pass through
:func:`outcomes.disclosure.apply`. Rates are proportions (0-1) with Wilson intervals; waiting
times use the Kaplan-Meier estimator so that referrals still waiting at the extract date are
censored, never dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Literal

import numpy as np
import pandas as pd

from . import _km
from ._attrs import attach
from ._internal.cells import COLUMNS as CELL_COLUMNS
from ._internal.cells import combine, flagged
from ._internal.columns import check_frame, column_dtypes, require_columns
from ._internal.dates import read_dates, to_timestamp
from ._internal.params import (
    BY,
    COUNT,
    ERRORS,
    OPTIONAL_TEXT,
    POSITIVE,
    POSITIVE_COUNT,
    PROBABILITY,
    Columns,
    Interval,
    Options,
    validate_params,
)
from ._internal.quality import NoteTemplate, QualityRecord, quality_of, recorded, with_notes
from ._stats import wilson_ci
from .errors import DataStructureError, InvalidResponsesError, OutcomesError, describe_issues

__all__ = [
    "DATE_COLUMNS",
    "ISSUE_COLUMNS",
    "RateComparison",
    "TrendResult",
    "WaitComparison",
    "WaitResult",
    "children_seen",
    "compare_inappropriate",
    "compare_median_wait",
    "inappropriate_rate",
    "inappropriate_trend",
    "monthly_activity",
    "not_accepted_reasons",
    "prepare_referrals",
    "publish",
    "referral_counts",
    "waiting_times",
]

# a comparison's bootstrap resamples without a median: counts of resamples, not of people
_NEITHER_PERIOD = NoteTemplate(
    "the median wait to {stage} contact was reached in neither period in {k} of {n} bootstrap "
    "resamples",
    values=["k", "n"],
)
DATE_COLUMNS = ("referral_date", "first_contact_date", "second_contact_date", "discharge_date")
#: the dates a referrals table may hold, and what a referral without one is read as
OPTIONAL_DATES = {
    "first_contact_date": "not yet seen (waiting)",
    "second_contact_date": "not yet seen a second time",
    "discharge_date": "not yet discharged (open)",
}
REQUIRED = ("referral_id", "person_id", "referral_date")
ISSUE_COLUMNS = list(CELL_COLUMNS)
TOTAL = "Total"
_YES = {"true", "t", "yes", "y", "1", "1.0", "accepted", "accept"}
_NO = {"false", "f", "no", "n", "0", "0.0", "not accepted", "rejected", "declined"}
_PENDING = {"", "pending", "awaiting decision", "undecided"}

Errors = Literal["raise", "flag"]
Period = Literal["M", "Q", "FQ"]

# Every verb reads its referrals through prepare_referrals, whose arguments these are (checked
# by validate_params).
_READ_REFERRALS = {
    "referrals": "dataframe",
    "as_of": ["date", None],
    "errors": ERRORS,
    "dayfirst": "boolean",
}


# ============================================================================ checking the table
def empty_date_columns(referrals: pd.DataFrame, columns: Sequence[str] = tuple(OPTIONAL_DATES)):
    """The date ``columns`` that ``referrals`` has with no date in them: every cell blank
    (missing, or spaces only), on at least one row. Such a column cannot tell "not recorded"
    from "none yet": read as it is, every referral has had no contact (or discharge) yet.

    Example:
        >>> r = pd.DataFrame({"first_contact_date": ["2024-01-05", None],
        ...                   "second_contact_date": [None, " "]})
        >>> empty_date_columns(r)
        ['second_contact_date']
    """
    if not len(referrals):
        return []
    return [c for c in columns if c in referrals.columns and _all_blank(referrals[c])]


def _all_blank(col: pd.Series) -> bool:
    values = col.dropna()
    if values.empty:
        return True
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or not (
        values.dtype == object or isinstance(values.dtype, pd.StringDtype)
    ):
        return False  # a date or a number is a value
    # the first value decides for any column that holds a date: no pass over the rest
    if str(values.iloc[0]).strip():
        return False
    return bool((values.astype(str).str.strip() == "").all())


def _parse_dates(
    col: pd.Series, date_format: str | None, dayfirst: bool
) -> tuple[pd.Series, pd.DataFrame]:
    """Dates at midnight (the project's date rules, :mod:`outcomes._internal.dates`), and the
    bad cells."""
    got = read_dates(col, dayfirst=dayfirst, date_format=date_format)
    return got.values.dt.normalize(), got.issues


def _parse_accepted(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """True / False / NA (no decision yet), and a mask of values that mean none of these."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("boolean"), np.zeros(len(col), bool)
    txt = col.astype("string").str.strip().str.casefold()
    yes = txt.isin(list(_YES)).fillna(False).to_numpy(dtype=bool)
    no = txt.isin(list(_NO)).fillna(False).to_numpy(dtype=bool)
    pending = (txt.isna() | txt.isin(list(_PENDING))).fillna(True).to_numpy(dtype=bool)
    out = pd.array(np.where(yes, True, False), dtype="boolean")
    out[~(yes | no)] = pd.NA
    return pd.Series(out, index=col.index), ~(yes | no | pending)


@recorded("service.prepare_referrals")
@validate_params(
    {
        **_READ_REFERRALS,
        "date_format": OPTIONAL_TEXT,
    }
)
def prepare_referrals(
    referrals: pd.DataFrame,
    *,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Check and parse a referrals table; every row is kept, or excluded with its reasons.

    Checks: required columns (``referral_id, person_id, referral_date``); dates that are not
    dates, impossible dates or a column mixing date formats (the project's date rules: ISO 8601
    always, ``DD/MM/YYYY`` day first unless ``dayfirst=False``, time zones converted to UK time;
    docs/concepts.md; or exactly ``date_format``); duplicate ``referral_id``; contact
    before referral; second contact before the first, or without one; discharge before the first
    contact or before referral; any date after ``as_of`` (the extract date); ``accepted`` not
    yes/no (blank = no decision yet); ``n_contacts`` not a whole number >= 0 or fewer than the
    contact dates recorded. A ``not_accepted_reason`` on an accepted referral is a warning.

    Parameters
    ----------
    errors
        ``"raise"``: an :class:`~outcomes.InvalidResponsesError` naming every bad row.
        ``"flag"``: rows with an error are excluded; ``result.attrs["issues"]`` lists the
        problems and ``result.attrs["n_excluded"]`` counts the rows dropped.

    Returns
    -------
    DataFrame
        The rows kept, with date columns as ``datetime64`` (midnight), ``accepted`` as a nullable
        boolean (NA = no decision yet) and ``n_contacts`` as a float.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2], "person_id": ["a", "b"],
    ...                   "referral_date": ["03/01/2024", "05/01/2024"]})
    >>> prepare_referrals(r)["referral_date"].dt.strftime("%d %b %Y").tolist()
    ['03 Jan 2024', '05 Jan 2024']
    """
    if errors not in ("raise", "flag"):
        raise ValueError(f"errors must be 'raise' or 'flag', not {errors!r}")
    check_frame(referrals, REQUIRED, what="referrals table")
    if not referrals.index.is_unique:
        raise DataStructureError("the referrals table's index has duplicate labels; reset it")
    if date_format is None and _already_checked(referrals, as_of, dayfirst):
        # A table this function returned (or a subset of it) is not checked again: the report
        # checks its referrals once, then calls a dozen functions with the checked table.
        return referrals.copy()

    for c in empty_date_columns(referrals):
        # counted and said: read as it is, the column says no referral has had one yet
        warnings.warn(
            f"{c} is present but empty on all {len(referrals)} referral row(s): every "
            f"referral is read as {OPTIONAL_DATES[c]}. The column cannot tell a date not "
            "recorded from none yet; leave it out if it is not recorded.",
            UserWarning,
            stacklevel=3,
        )
    df = referrals.copy()
    parts: list[pd.DataFrame | None] = []
    for c in REQUIRED:
        blank = df[c].isna().to_numpy() | (df[c].astype("string").str.strip() == "").fillna(False)
        parts.append(flagged(df, blank, c, df[c], f"{c} is missing"))

    bad_date = np.zeros(len(df), bool)
    for c in DATE_COLUMNS:
        if c in df.columns:
            df[c], bad = _parse_dates(df[c], date_format, dayfirst)
            bad_date |= df.index.isin(bad["row"])
            parts.append(bad)

    dup = df["referral_id"].duplicated(keep=False).to_numpy() & df["referral_id"].notna().to_numpy()
    parts.append(
        flagged(
            df, dup, "referral_id", df["referral_id"], "duplicate referral_id (also on another row)"
        )
    )

    ref = df["referral_date"]
    first = df["first_contact_date"] if "first_contact_date" in df else None
    second = df["second_contact_date"] if "second_contact_date" in df else None
    dis = df["discharge_date"] if "discharge_date" in df else None

    def cmp(a, b):  # a < b where both are known
        return (a < b).fillna(False).to_numpy(dtype=bool)

    if first is not None:
        parts.append(
            flagged(df, cmp(first, ref), "first_contact_date", first, "contact before referral")
        )
    if second is not None:
        parts.append(
            flagged(df, cmp(second, ref), "second_contact_date", second, "contact before referral")
        )
        if first is not None:
            parts.append(
                flagged(
                    df,
                    cmp(second, first),
                    "second_contact_date",
                    second,
                    "second contact before the first contact",
                )
            )
        no_first = second.notna().to_numpy() & (
            first.isna().to_numpy() if first is not None else np.ones(len(df), bool)
        )
        parts.append(
            flagged(
                df,
                no_first,
                "second_contact_date",
                second,
                "second contact recorded without a first contact",
            )
        )
    if dis is not None:
        parts.append(flagged(df, cmp(dis, ref), "discharge_date", dis, "discharge before referral"))
        if first is not None:
            parts.append(
                flagged(
                    df, cmp(dis, first), "discharge_date", dis, "discharge before first contact"
                )
            )
    if as_of is not None:
        as_of = _as_date(as_of, "as_of", dayfirst)
        for c in DATE_COLUMNS:
            if c in df.columns:
                parts.append(
                    flagged(
                        df,
                        (df[c] > as_of).fillna(False).to_numpy(dtype=bool),
                        c,
                        df[c],
                        f"after the extract date (as_of {as_of.date()})",
                    )
                )

    if "accepted" in df.columns:
        raw = df["accepted"]
        df["accepted"], bad = _parse_accepted(raw)
        parts.append(
            flagged(
                df,
                bad,
                "accepted",
                raw,
                "accepted must be yes/no, true/false or 1/0 (blank = no decision yet)",
            )
        )
        if "not_accepted_reason" in df.columns:
            has_reason = df["not_accepted_reason"].notna().to_numpy() & (
                df["not_accepted_reason"].astype("string").str.strip() != ""
            ).fillna(False).to_numpy(dtype=bool)
            acc = df["accepted"].fillna(False).to_numpy(dtype=bool)
            parts.append(
                flagged(
                    df,
                    has_reason & acc,
                    "not_accepted_reason",
                    df["not_accepted_reason"],
                    "a not-accepted reason on an accepted referral",
                    "warning",
                )
            )

    if "n_contacts" in df.columns:
        raw = df["n_contacts"]
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        present = raw.notna().to_numpy() & (raw.astype("string").str.strip() != "").fillna(
            False
        ).to_numpy(dtype=bool)
        v = num.to_numpy()
        bad = present & (np.isnan(v) | (v < 0) | (np.round(v) != v))
        parts.append(flagged(df, bad, "n_contacts", raw, "n_contacts must be a whole number >= 0"))
        implied = _implied_contacts(df)
        fewer = present & ~bad & (v < implied)
        parts.append(
            flagged(
                df,
                fewer,
                "n_contacts",
                raw,
                "n_contacts is smaller than the contact dates recorded",
            )
        )
        df["n_contacts"] = num.where(~bad)

    issues = combine(parts)
    bad_rows = issues.loc[issues["severity"] == "error", "row"]
    if errors == "raise" and len(bad_rows):
        raise InvalidResponsesError(_error_message(issues), issues)
    drop = df.index.isin(pd.unique(bad_rows))
    if drop.all():
        raise InvalidResponsesError(
            "every referral row has a problem; nothing is left to analyse.\n"
            + _error_message(issues),
            issues,
        )
    out = df.loc[~drop].copy()
    quality = QualityRecord()
    quality.add_issues(
        "service.prepare_referrals", issues, error_action="rows excluded", warning_action="kept"
    )
    out.attrs = {
        "issues": attach(issues),
        "n_input": len(df),
        "n_excluded": int(drop.sum()),
        "quality": quality,
        CHECKED: as_of,
    }
    return out


#: ``attrs`` key marking a table :func:`prepare_referrals` returned: the extract date it was
#: checked against (``None``: none)
CHECKED = "checked_as_of"


def _already_checked(df: pd.DataFrame, as_of, dayfirst: bool = True) -> bool:
    """Whether ``df`` came out of :func:`prepare_referrals` checked against this ``as_of``.

    The marker alone is not trusted: the parsed types and unique ids must still be there, so a
    marked table whose columns were replaced since is checked again.
    """
    if CHECKED not in df.attrs:
        return False
    checked_as_of = df.attrs[CHECKED]
    if as_of is not None:
        as_of = _as_date(as_of, "as_of", dayfirst)
        if checked_as_of is None or checked_as_of > as_of:
            return False
    # the dtypes read once: taking a column copies the table's attrs (its issues and quality
    # record), and the report asks this of its checked referrals a score of times
    dtypes = column_dtypes(df)
    dates_ok = all(
        pd.api.types.is_datetime64_any_dtype(dtypes[c]) for c in DATE_COLUMNS if c in dtypes
    )
    acc_ok = "accepted" not in dtypes or isinstance(dtypes["accepted"], pd.BooleanDtype)
    return dates_ok and acc_ok and bool(df["referral_id"].is_unique)


def _error_message(issues: pd.DataFrame, limit: int = 20) -> str:
    bad = issues[issues["severity"] == "error"]
    heading = (
        f"{len(bad)} problem(s) in {bad['row'].nunique()} referral row(s) "
        "(errors='flag' excludes these rows and counts them; the full list is in .issues):"
    )
    return describe_issues(bad, heading, limit)


def _as_date(value, name: str, dayfirst: bool = True) -> pd.Timestamp:
    return to_timestamp(value, name, dayfirst=dayfirst).normalize()


def _implied_contacts(df: pd.DataFrame) -> np.ndarray:
    n = np.zeros(len(df))
    for c in ("first_contact_date", "second_contact_date"):
        if c in df.columns:
            n += df[c].notna().to_numpy()
    return n


def _contacts(df: pd.DataFrame) -> np.ndarray:
    """Contacts per referral: n_contacts where given, never fewer than the dates recorded."""
    implied = _implied_contacts(df)
    if "n_contacts" in df.columns:
        return np.fmax(df["n_contacts"].to_numpy(dtype=float), implied)
    return implied


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    require_columns(df, cols, what=f"{what} (referrals table)")


def _by_list(df: pd.DataFrame, by) -> list[str]:
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    _need(df, cols, "by=")
    return cols


# ============================================================================ inappropriate flags
def _inappropriate(df: pd.DataFrame, reasons: Sequence[str] | None) -> np.ndarray:
    """Not accepted, and (when ``reasons`` is given) for one of those reasons."""
    _need(df, ["accepted"], "the inappropriate-referral rate")
    not_acc = (df["accepted"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    if reasons is None:
        return not_acc
    if isinstance(reasons, str):
        reasons = [reasons]
    _need(df, ["not_accepted_reason"], "inappropriate=[...]")
    wanted = {str(r).strip().casefold() for r in reasons}
    col = df["not_accepted_reason"]
    if isinstance(col.dtype, pd.StringDtype):
        # text: each distinct reason normalised once, then looked up by each row's code
        # (a report asks this of the same referrals a dozen times)
        codes, uniques = pd.factorize(col)
        norm = pd.Series(uniques, dtype="string").str.strip().str.casefold()
        seen = set(norm.iloc[np.unique(codes[not_acc & (codes >= 0)])])
        hit = np.append(norm.isin(list(wanted)).to_numpy(dtype=bool), False)
        got_wanted = hit[codes]
    else:
        got = col.astype("string").str.strip().str.casefold()
        seen = set(got[not_acc].dropna().unique())
        got_wanted = got.isin(list(wanted)).fillna(False).to_numpy(dtype=bool)
    unknown = sorted(wanted - seen)
    if unknown and seen:
        import warnings

        warnings.warn(
            f"inappropriate= reason(s) {unknown} do not occur among the not-accepted referrals; "
            f"reasons recorded: {sorted(seen)}",
            UserWarning,
            stacklevel=3,
        )
    return not_acc & got_wanted


def _decided(df: pd.DataFrame) -> np.ndarray:
    return df["accepted"].notna().to_numpy(dtype=bool)


# ============================================================================ grouping helpers
@dataclass
class _Groups:
    """Rows numbered by group (:func:`_group_index`): one ``np.bincount`` per count, so a
    grouped table costs a few passes over the rows whatever the number of groups."""

    rows: np.ndarray
    group: np.ndarray
    labels: list[np.ndarray]
    by: list[str]

    @classmethod
    def of(cls, df: pd.DataFrame, by: list[str], total: bool) -> _Groups:
        return cls(*_group_index(df, by, total), by)

    @property
    def n(self) -> int:
        return len(self.labels[0]) if self.by else 1

    def count(self, flags: np.ndarray | None = None) -> np.ndarray:
        """Rows per group, or rows per group where ``flags`` (one per row of the table)."""
        if flags is None:
            return np.bincount(self.group, minlength=self.n)
        return np.bincount(self.group[flags[self.rows]], minlength=self.n)

    def by_period(
        self, codes: np.ndarray, n_periods: int, flags: np.ndarray | None = None
    ) -> np.ndarray:
        """(groups, periods) counts of rows by period code (:func:`_period_codes`; rows with
        no period or one outside the range are not counted), where ``flags`` when given."""
        c = codes[self.rows]
        ok = (c >= 0) & (c < n_periods)
        if flags is not None:
            ok &= flags[self.rows]
        cell = self.group[ok] * n_periods + c[ok]
        return np.bincount(cell, minlength=self.n * n_periods).reshape(self.n, n_periods)

    def frame(self, columns: dict[str, object], repeat: np.ndarray | None = None) -> pd.DataFrame:
        """``columns`` with the group labels first (an object column per ``by`` column);
        ``repeat`` is the number of output rows of each group (one each when None)."""
        out = pd.DataFrame(columns)
        for k, name in enumerate(self.by):
            labels = self.labels[k] if repeat is None else np.repeat(self.labels[k], repeat)
            out.insert(k, name, pd.Series(labels, dtype=object))
        return out


def _attach(out: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    keep = ("issues", "n_input", "n_excluded", "quality")
    out.attrs = {k: df.attrs[k] for k in keep if k in df.attrs}
    return out


# ============================================================================ counts
@recorded("service.referral_counts")
@validate_params(
    {
        **_READ_REFERRALS,
        "by": BY,
        "inappropriate": [Columns(), None],
        "total": "boolean",
        "confidence": PROBABILITY,
    }
)
def referral_counts(
    referrals: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    inappropriate: Sequence[str] | None = None,
    total: bool = True,
    confidence: float = 0.95,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> pd.DataFrame:
    """Referrals received, accepted, not accepted, awaiting a decision, and inappropriate.

    ``inappropriate`` lists the ``not_accepted_reason`` values that count as inappropriate
    (case-insensitive); None counts every not-accepted referral. Rates are over referrals with a
    decision (accepted or not), with Wilson intervals.

    Returns one row per group (plus a ``Total`` row when ``by`` is given and ``total``):
    ``received, decided, accepted, not_accepted, pending, acceptance_rate, inappropriate,
    inappropriate_rate, inappropriate_ci_low, inappropriate_ci_high``.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2, 3, 4], "person_id": list("abcd"),
    ...     "referral_date": ["2024-01-02"] * 4, "accepted": ["yes", "no", "yes", None]})
    >>> referral_counts(r)[["received", "accepted", "not_accepted", "pending"]].iloc[0].tolist()
    [4, 2, 1, 1]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    _need(df, ["accepted"], "referral_counts")
    g = _Groups.of(df, _by_list(df, by), total)
    received = g.count()
    acc = g.count(df["accepted"].fillna(False).to_numpy(dtype=bool))
    nacc = g.count((df["accepted"] == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712
    pend = g.count(df["accepted"].isna().to_numpy())
    inap = g.count(_inappropriate(df, inappropriate))
    decided = acc + nacc
    lo, hi = wilson_ci(inap, decided, confidence)
    safe = np.where(decided > 0, decided, 1)
    out = g.frame(
        {
            "received": received,
            "decided": decided,
            "accepted": acc,
            "not_accepted": nacc,
            "pending": pend,
            "acceptance_rate": np.where(decided > 0, acc / safe, np.nan),
            "inappropriate": inap,
            "inappropriate_rate": np.where(decided > 0, inap / safe, np.nan),
            "inappropriate_ci_low": lo,
            "inappropriate_ci_high": hi,
        }
    )
    return _attach(out, df)


@recorded("service.not_accepted_reasons")
@validate_params(
    {
        **_READ_REFERRALS,
        "by": BY,
        "inappropriate": [Columns(), None],
        "total": "boolean",
    }
)
def not_accepted_reasons(
    referrals: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    inappropriate: Sequence[str] | None = None,
    total: bool = True,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> pd.DataFrame:
    """Not-accepted referrals by reason: ``reason, n, share_of_not_accepted,
    share_of_received, inappropriate`` (whether the reason counts as inappropriate). A blank
    reason is reported as ``(not recorded)``.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2, 3], "person_id": list("abc"),
    ...     "referral_date": ["2024-01-02"] * 3, "accepted": [False, False, True],
    ...     "not_accepted_reason": ["below threshold", "below threshold", None]})
    >>> not_accepted_reasons(r)[["reason", "n"]].values.tolist()
    [['below threshold', 2]]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    _need(df, ["accepted", "not_accepted_reason"], "not_accepted_reasons")
    by_cols = _by_list(df, by)
    inap = _inappropriate(df, inappropriate)
    reason = df["not_accepted_reason"].astype("string").str.strip()
    reason = reason.where(reason.notna() & (reason != ""), "(not recorded)")
    # "Below threshold" and "below threshold " are one reason; show the first spelling met.
    key = reason.str.casefold()
    spelling = pd.Series(reason.to_numpy(), index=key.to_numpy()).groupby(level=0).first()
    g = _Groups.of(df, by_cols, total)
    not_acc = (df["accepted"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    # Codes in the order of the reasons' text, so that sorting codes sorts reasons.
    code, reasons = pd.factorize(spelling.reindex(key.to_numpy()).to_numpy(), sort=True)
    na = not_acc[g.rows]
    grp, rsn = g.group[na], code[g.rows[na]]
    # One code per (group, reason) met; hashing, not sorting, the n rows.
    pair, first = pd.factorize(grp * len(reasons) + rsn)
    n = np.bincount(pair)
    any_inap = np.bincount(pair, weights=inap[g.rows[na]]) > 0
    pg, pr = first // max(len(reasons), 1), first % max(len(reasons), 1)
    order = np.lexsort((pr, -n, pg))  # by group, most frequent first, then by reason
    pg, pr, n, any_inap = pg[order], pr[order], n[order], any_inap[order]
    out = g.frame(
        {
            "reason": pd.Series(np.asarray(reasons, dtype=object)[pr], dtype="str"),
            "n": n.astype(np.int64),
            "share_of_not_accepted": n / np.maximum(g.count(not_acc), 1)[pg],
            "share_of_received": n / np.maximum(g.count(), 1)[pg],
            "inappropriate": any_inap,
        },
        repeat=np.bincount(pg, minlength=g.n),
    )
    return _attach(out, df)


@recorded("service.children_seen")
@validate_params(
    {
        **_READ_REFERRALS,
        "by": BY,
        "total": "boolean",
    }
)
def children_seen(
    referrals: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    total: bool = True,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> pd.DataFrame:
    """Children and young people referred and seen: ``referrals, children_referred,
    children_seen_1plus`` (at least one contact on any referral) and ``children_seen_2plus`` (at
    least two contacts within one referral), counting distinct ``person_id``.

    Contacts per referral are ``n_contacts`` where given, and never fewer than the contact dates
    recorded; with neither ``n_contacts`` nor ``second_contact_date`` no second contact can be
    known, so ``children_seen_2plus`` is left out (not shown as zeros). A child referred in
    two groups (two schools) counts once in each group and once in the ``Total`` row, so the
    Total can be less than the sum of the groups.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2, 3], "person_id": ["a", "a", "b"],
    ...     "referral_date": ["2024-01-02"] * 3, "n_contacts": [1, 2, 0]})
    >>> children_seen(r)[["children_referred", "children_seen_1plus", "children_seen_2plus"]].iloc[0].tolist()
    [2, 1, 1]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    if "n_contacts" not in df.columns and "first_contact_date" not in df.columns:
        raise DataStructureError("children_seen needs n_contacts or first_contact_date")
    g = _Groups.of(df, _by_list(df, by), total)
    contacts = _contacts(df)
    person, people = pd.factorize(df["person_id"].to_numpy(dtype=object))
    known = person[g.rows] >= 0
    # A (group, person) pair as one integer; distinct pairs by hashing, counted per group.
    pair = g.group * max(len(people), 1) + person[g.rows]

    def children(flags: np.ndarray) -> np.ndarray:
        distinct = pd.unique(pair[known & flags[g.rows]])
        return np.bincount(distinct // max(len(people), 1), minlength=g.n)

    out = g.frame(
        {
            "referrals": g.count(),
            "children_referred": children(np.ones(len(df), bool)),
            "children_seen_1plus": children(contacts >= 1),
            "children_seen_2plus": children(contacts >= 2),
        }
    )
    if "n_contacts" not in df.columns and "second_contact_date" not in df.columns:
        out = out.drop(columns="children_seen_2plus")
    return _attach(out, df)


# ============================================================================ periods
def _periods(dates: pd.Series, period: Period) -> pd.Series:
    if period not in ("M", "Q", "FQ"):
        raise OutcomesError(
            f"period must be 'M', 'Q' or 'FQ' (NHS financial quarter), not {period!r}"
        )
    freq = {"M": "M", "Q": "Q", "FQ": "Q-MAR"}[period]
    return dates.dt.to_period(freq)


def _period_frame(prange: pd.PeriodIndex, period: Period) -> pd.DataFrame:
    if period == "FQ":
        fy = prange.qyear
        label = [f"{y - 1}/{str(y)[2:]} Q{q}" for y, q in zip(fy, prange.quarter, strict=True)]
    else:
        label = prange.strftime("%Y-%m" if period == "M" else "%YQ%q")
    return pd.DataFrame(
        {
            "period": list(label),
            "period_start": prange.start_time.normalize(),
            "period_end": prange.end_time.normalize(),
        }
    )


def _period_codes(p: pd.Series, prange: pd.PeriodIndex) -> np.ndarray:
    """Each period's position in ``prange`` (same frequency): -1 where there is no date, -2
    for any period before the range (so that -1 alone means missing)."""
    code = p.array.asi8 - prange[0].ordinal
    return np.where(p.isna().to_numpy(), -1, np.where(code < 0, -2, code))


def _per_period(g: _Groups, prange: pd.PeriodIndex, period: Period, cols: dict) -> pd.DataFrame:
    """One row per group and period: the period columns, then ``cols`` ((groups, periods)
    arrays, flattened group by group)."""
    frame = _period_frame(prange, period)
    out = frame.iloc[np.tile(np.arange(len(prange)), g.n)].reset_index(drop=True)
    columns = {**out, **{name: np.asarray(v).reshape(-1) for name, v in cols.items()}}
    return g.frame(columns, repeat=np.full(g.n, len(prange)))


# ============================================================================ inappropriate rates
@recorded("service.inappropriate_rate")
@validate_params(
    {
        **_READ_REFERRALS,
        "period": Options(str, {"M", "Q", "FQ"}),
        "by": BY,
        "inappropriate": [Columns(), None],
        "confidence": PROBABILITY,
    }
)
def inappropriate_rate(
    referrals: pd.DataFrame,
    *,
    period: Period = "M",
    by: str | Sequence[str] | None = None,
    inappropriate: Sequence[str] | None = None,
    confidence: float = 0.95,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> pd.DataFrame:
    """The inappropriate-referral rate per month (``"M"``), calendar quarter (``"Q"``) or NHS
    financial quarter (``"FQ"``, April-March), by date of referral, every period in the range
    present (zeros where nothing happened): ``period, period_start, period_end, decided,
    inappropriate, rate, ci_low, ci_high`` (Wilson).

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2, 3], "person_id": list("abc"),
    ...     "referral_date": ["2024-01-02", "2024-01-20", "2024-03-01"],
    ...     "accepted": [False, True, True]})
    >>> inappropriate_rate(r)[["period", "decided", "inappropriate"]].values.tolist()
    [['2024-01', 2, 1], ['2024-02', 0, 0], ['2024-03', 1, 0]]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    return _attach(_rate_series(df, period, _by_list(df, by), inappropriate, confidence), df)


def _rate_series(df, period, by_cols, reasons, confidence) -> pd.DataFrame:
    p = _periods(df["referral_date"], period)
    prange = pd.period_range(p.min(), p.max(), freq=p.dt.freq)
    codes = _period_codes(p, prange)
    g = _Groups.of(df, by_cols, False)
    decided = g.by_period(codes, len(prange), _decided(df))
    inap = g.by_period(codes, len(prange), _inappropriate(df, reasons))
    d = decided.astype(float)
    lo, hi = wilson_ci(inap, d, confidence)
    return _per_period(
        g,
        prange,
        period,
        {
            "decided": decided,
            "inappropriate": inap,
            "rate": np.where(d > 0, inap / np.where(d > 0, d, 1), np.nan),
            "ci_low": lo,
            "ci_high": hi,
        },
    )


def _date_text(d: pd.Timestamp) -> str:
    return f"{d.day} {d:%B %Y}"


def _pct(x: float, digits: int = 1) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.{digits}f}%"


@dataclass
class RateComparison:
    """Inappropriate-referral rate before vs after ``change_date`` (referral date >= change date
    counts as after)."""

    table: pd.DataFrame
    change_date: pd.Timestamp
    confidence: float
    by: list[str] = field(default_factory=list)
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return with_notes(self._summary(), self.quality)

    def _summary(self) -> str:
        row = self.table.iloc[-1]
        lvl = int(round(self.confidence * 100))
        when = _date_text(self.change_date)
        where = "" if not self.by else f" ({', '.join(str(row[b]) for b in self.by)})"
        if not (row["n_before"] and row["n_after"]):
            return f"There were no decided referrals on one side of {when}{where}; no comparison."
        p = row["p"]
        ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        return (
            f"The inappropriate-referral rate{where} was {_pct(row['rate_before'])} "
            f"({lvl}% CI {_pct(row['rate_before_ci_low'])} to {_pct(row['rate_before_ci_high'])}; "
            f"{int(row['inappropriate_before'])} of {int(row['n_before'])} decided referrals) before "
            f"{when} and {_pct(row['rate_after'])} ({_pct(row['rate_after_ci_low'])} to "
            f"{_pct(row['rate_after_ci_high'])}; {int(row['inappropriate_after'])} of "
            f"{int(row['n_after'])}) from then on: a change of {100 * row['difference']:+.1f} "
            f"percentage points ({lvl}% CI {100 * row['difference_ci_low']:+.1f} to "
            f"{100 * row['difference_ci_high']:+.1f}; {ptxt})."
        )

    def __repr__(self) -> str:
        return f"RateComparison({self.summary()!r})"


@recorded("service.compare_inappropriate")
@validate_params(
    {
        **_READ_REFERRALS,
        "change_date": "date",
        "by": BY,
        "inappropriate": [Columns(), None],
        "total": "boolean",
        "confidence": PROBABILITY,
    }
)
def compare_inappropriate(
    referrals: pd.DataFrame,
    *,
    change_date,
    by: str | Sequence[str] | None = None,
    inappropriate: Sequence[str] | None = None,
    total: bool = True,
    confidence: float = 0.95,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> RateComparison:
    """Compare the inappropriate-referral rate before and after ``change_date``.

    Each side: decided referrals, inappropriate ones, rate with Wilson CI. The difference is
    after - before with Newcombe's hybrid-score interval (statsmodels
    ``confint_proportions_2indep(method="newcomb")``); ``z`` and ``p`` are the pooled
    two-proportion z-test (``proportions_ztest``, same as R's ``prop.test(correct=FALSE)``).

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": range(4), "person_id": list("abcd"),
    ...     "referral_date": ["2024-01-02", "2024-01-03", "2024-06-01", "2024-06-02"],
    ...     "accepted": [False, False, True, False]})
    >>> res = compare_inappropriate(r, change_date="2024-04-01")
    >>> res.to_frame()[["rate_before", "rate_after", "difference"]].iloc[0].tolist()
    [1.0, 0.5, -0.5]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    change = _as_date(change_date, "change_date", dayfirst)
    by_cols = _by_list(df, by)
    g = _Groups.of(df, by_cols, total)
    after = (df["referral_date"] >= change).to_numpy(dtype=bool)
    decided, inap = _decided(df), _inappropriate(df, inappropriate)
    res: dict[str, np.ndarray] = {}
    for side, m in (("before", ~after), ("after", after)):
        n, k = g.count(decided & m), g.count(inap & m)
        lo, hi = wilson_ci(k, n, confidence)
        res[f"n_{side}"] = n
        res[f"inappropriate_{side}"] = k
        res[f"rate_{side}"] = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        res[f"rate_{side}_ci_low"] = lo
        res[f"rate_{side}_ci_high"] = hi
    res.update(_two_proportions(res, confidence))
    table = g.frame(res)
    return RateComparison(_attach(table, df), change, confidence, by_cols)


def _two_proportions(res: dict[str, np.ndarray], confidence: float) -> dict[str, np.ndarray]:
    """After - before per group: the difference with Newcombe's interval and the pooled z-test,
    as statsmodels' ``confint_proportions_2indep(method="newcomb")`` and ``proportions_ztest``
    compute them for one group (the same operations in the same order, element by element);
    NaN where a side has no decided referrals, z = 0 and p = 1 where all or none are
    inappropriate on both sides (nothing to test)."""
    from scipy.stats import norm
    from statsmodels.stats.proportion import confint_proportions_2indep

    n0, k0 = res["n_before"], res["inappropriate_before"]
    n1, k1 = res["n_after"], res["inappropriate_after"]
    both = (n0 > 0) & (n1 > 0)
    s0, s1 = np.where(both, n0, 1), np.where(both, n1, 1)
    c0, c1 = np.where(both, k0, 0), np.where(both, k1, 0)
    lo, hi = confint_proportions_2indep(
        c1, s1, c0, s0, method="newcomb", compare="diff", alpha=1 - confidence
    )
    diff = c1 * 1.0 / s1 - c0 * 1.0 / s0
    pooled = (c1 + c0) * 1.0 / (s1 + s0)
    std = np.sqrt(pooled * (1 - pooled) * (1.0 / s1 + 1.0 / s0))
    testable = both & (c0 + c1 > 0) & (c0 + c1 < s0 + s1)
    z = diff / np.where(testable, std, 1.0)
    p = norm.sf(np.abs(z)) * 2
    nan = np.full(len(n0), np.nan)
    return {
        "difference": np.where(both, diff, nan),
        "difference_ci_low": np.where(both, lo, nan),
        "difference_ci_high": np.where(both, hi, nan),
        "z": np.where(testable, z, np.where(both, 0.0, nan)),
        "p": np.where(testable, p, np.where(both, 1.0, nan)),
    }


# ============================================================================ segmented regression
_TERMS = {
    "const": "intercept",
    "time": "time",
    "post": "level_change",
    "time_after": "slope_change",
}


@dataclass
class TrendResult:
    """Segmented (interrupted time series) regression of the monthly inappropriate-referral rate.

    ``to_frame()``: one row per term (``intercept``, ``time`` = change per period before the
    change date, ``level_change`` = step at the change, ``slope_change`` = change in the
    per-period trend after it) with ``estimate, se, ci_low, ci_high, p`` on the log-odds
    (binomial) or log-rate (Poisson) scale and ``ratio, ratio_ci_low, ratio_ci_high``
    (exponentiated: odds ratios or rate ratios). ``series``: the observed and fitted rate per
    period, with the counterfactual (no change) after the change date.
    """

    coefficients: pd.DataFrame
    series: pd.DataFrame
    family: str
    change_date: pd.Timestamp | None
    period: str
    dispersion: float
    confidence: float
    model: object = field(repr=False, default=None)
    quality: QualityRecord = field(default_factory=QualityRecord)

    @property
    def ratio_name(self) -> str:
        return "odds ratio" if self.family == "binomial" else "rate ratio"

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def summary(self) -> str:
        return with_notes(self._summary(), self.quality)

    def _summary(self) -> str:
        unit = {"M": "month", "Q": "quarter", "FQ": "quarter"}[self.period]
        co = self.coefficients.set_index("term")
        lvl = int(round(self.confidence * 100))
        rn = "OR" if self.family == "binomial" else "RR"
        fitted = self.series[self.series["decided"] > 0]
        span = (
            f"{len(fitted)} {unit}s ({fitted['period'].iloc[0]} to {fitted['period'].iloc[-1]}; "
            f"{self.family} segmented regression"
            + (
                f", Pearson dispersion {self.dispersion:.2f}, t tests on "
                f"{self.coefficients['reference'].iloc[0][2:-1]} df"
                if self.dispersion != 1
                else ""
            )
            + ")"
        )

        def term(name: str) -> str:
            r = co.loc[name]
            p = "p < 0.001" if r["p"] < 0.001 else f"p = {r['p']:.3f}"
            return (
                f"{rn} {r['ratio']:.2f}, {lvl}% CI {r['ratio_ci_low']:.2f} to "
                f"{r['ratio_ci_high']:.2f}, {p}"
            )

        what = "odds" if self.family == "binomial" else "rate"
        t = co.loc["time", "ratio"]
        if self.change_date is None:
            return (
                f"Over {span}, the {what} of a referral being inappropriate changed by "
                f"{100 * (t - 1):+.1f}% per {unit} ({term('time')})."
            )
        when = _date_text(self.change_date)
        return (
            f"Over {span}, before {when} the {what} of a referral being inappropriate changed by "
            f"{100 * (t - 1):+.1f}% per {unit} ({term('time')}); at the change the level moved "
            f"by {100 * (co.loc['level_change', 'ratio'] - 1):+.1f}% ({term('level_change')}) and "
            f"the trend per {unit} by {100 * (co.loc['slope_change', 'ratio'] - 1):+.1f}% "
            f"({term('slope_change')})."
        )

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Observed rate per period (with Wilson intervals), fitted line and counterfactual."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        s = self.series
        x = s["period_start"]
        ok = s["decided"] > 0
        err = np.vstack(
            [(s["rate"] - s["ci_low"])[ok].to_numpy(), (s["ci_high"] - s["rate"])[ok].to_numpy()]
        )
        ax.errorbar(
            x[ok],
            100 * s["rate"][ok],
            yerr=100 * err,
            fmt="o",
            color="0.3",
            ecolor="0.7",
            capsize=2,
            label="observed",
        )
        ax.plot(x, 100 * s["fitted"], color="C0", label="fitted")
        if self.change_date is not None:
            after = s["counterfactual"].notna()
            ax.plot(
                x[after],
                100 * s["counterfactual"][after],
                "--",
                color="C0",
                alpha=0.6,
                label="no change (counterfactual)",
            )
            ax.axvline(self.change_date, color="C3", lw=1, ls=":", label="change")
        ax.set_ylabel("inappropriate referrals (%)")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False)
        return ax

    def __repr__(self) -> str:
        return f"TrendResult({self.summary()!r})"


@recorded("service.inappropriate_trend")
@validate_params(
    {
        **_READ_REFERRALS,
        "change_date": ["date", None],
        "period": Options(str, {"M", "Q", "FQ"}),
        "family": Options(str, {"binomial", "poisson"}),
        "dispersion": Options(str, {"pearson", "fixed"}),
        "inappropriate": [Columns(), None],
        "confidence": PROBABILITY,
    }
)
def inappropriate_trend(
    referrals: pd.DataFrame,
    *,
    change_date=None,
    period: Period = "M",
    family: Literal["binomial", "poisson"] = "binomial",
    dispersion: Literal["pearson", "fixed"] = "pearson",
    inappropriate: Sequence[str] | None = None,
    confidence: float = 0.95,
    as_of=None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> TrendResult:
    """Trend in the inappropriate-referral rate, with a segmented regression around
    ``change_date`` (interrupted time series; Wagner et al. 2002, J Clin Pharm Ther 27:299).

    Model, one observation per period t = 0, 1, ... with n_t decided referrals and k_t
    inappropriate ones: g(rate_t) = b0 + b1 t + b2 post_t + b3 (t - t0)+ where post_t = 1 from
    the period containing ``change_date`` (t0) on. ``family="binomial"``: logit link, k_t of n_t
    (statsmodels GLM); ``"poisson"``: log link with offset log n_t. Periods without a decided
    referral carry no information and are left out of the fit. ``dispersion="pearson"`` scales
    the standard errors by the Pearson chi2/df when it exceeds 1 (quasi-likelihood, as monthly
    counts are usually overdispersed) and then tests and CIs use t on the residual df, as R's
    ``glm(family = quasibinomial)`` / ``quasipoisson``; ``"fixed"`` keeps the scale at 1 with
    normal tests (R's ``binomial`` / ``poisson``). The ``reference`` column says which was used. Without a change date
    the model is b0 + b1 t.

    Example
    -------
    >>> import pandas as pd, numpy as np
    >>> months = pd.date_range("2023-01-01", periods=12, freq="MS").repeat(20)
    >>> k = [6, 7, 5, 6, 7, 6, 3, 4, 3, 2, 4, 3]  # inappropriate of 20 referrals a month
    >>> acc = np.concatenate([[False] * x + [True] * (20 - x) for x in k])
    >>> r = pd.DataFrame({"referral_id": range(240), "person_id": range(240),
    ...     "referral_date": months, "accepted": acc})
    >>> res = inappropriate_trend(r, change_date="2023-07-01")
    >>> round(float(res.to_frame().set_index("term").loc["level_change", "ratio"]), 2)
    0.42
    """
    if family not in ("binomial", "poisson"):
        raise OutcomesError(f"family must be 'binomial' or 'poisson', not {family!r}")
    if dispersion not in ("pearson", "fixed"):
        raise OutcomesError(f"dispersion must be 'pearson' or 'fixed', not {dispersion!r}")
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    series = _rate_series(df, period, [], inappropriate, confidence)
    prange = pd.PeriodIndex(_periods(series["period_start"], period))
    t = (prange.asi8 - prange.asi8[0]).astype(float)
    cols = {"const": np.ones(len(t)), "time": t}
    change = None
    if change_date is not None:
        change = _as_date(change_date, "change_date", dayfirst)
        p0 = _periods(pd.Series([change]), period).iloc[0]
        t0 = float(p0.ordinal - prange.asi8[0])
        cols["post"] = (t >= t0).astype(float)
        cols["time_after"] = np.maximum(t - t0, 0.0)
    x = pd.DataFrame(cols)
    n = series["decided"].to_numpy(dtype=float)
    k = series["inappropriate"].to_numpy(dtype=float)
    fit = n > 0
    if change is not None:
        before, after = int((fit & (x["post"] == 0)).sum()), int((fit & (x["post"] == 1)).sum())
        if before < 2 or after < 2:
            raise OutcomesError(
                f"a segmented trend needs at least 2 periods with decided referrals on each side "
                f"of change_date {change.date()}; found {before} before and {after} after"
            )
    if fit.sum() <= x.shape[1]:
        raise OutcomesError(
            f"a trend with {x.shape[1]} terms needs more than {x.shape[1]} periods with decided "
            f"referrals; found {int(fit.sum())}"
        )
    if k[fit].sum() == 0 or k[fit].sum() == n[fit].sum() and family == "binomial":
        raise OutcomesError(
            "every decided referral has the same status (all or none inappropriate); "
            "there is no trend to model"
        )
    from statsmodels.genmod import families  # statsmodels loads on first use
    from statsmodels.genmod.generalized_linear_model import GLM

    if family == "binomial":
        model = GLM(np.column_stack([k[fit], n[fit] - k[fit]]), x[fit], family=families.Binomial())
    else:
        model = GLM(k[fit], x[fit], family=families.Poisson(), offset=np.log(n[fit]))
    res = model.fit()
    scale = 1.0
    if dispersion == "pearson" and res.df_resid > 0:
        phi = float(res.pearson_chi2 / res.df_resid)
        if phi > 1:
            scale = phi
            # An estimated dispersion makes the Wald statistics t on the residual df, as R's
            # quasibinomial / quasipoisson glm (summary.glm and confint.default use t there).
            res = model.fit(scale=scale, use_t=True)
    ci = np.asarray(res.conf_int(alpha=1 - confidence))
    coef = pd.DataFrame(
        {
            "term": [_TERMS[c] for c in x.columns],
            "estimate": np.asarray(res.params),
            "se": np.asarray(res.bse),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "p": np.asarray(res.pvalues),
            "reference": f"t({res.df_resid:g})" if res.use_t else "normal",
        }
    )
    coef["ratio"] = np.exp(coef["estimate"])
    coef["ratio_ci_low"] = np.exp(coef["ci_low"])
    coef["ratio_ci_high"] = np.exp(coef["ci_high"])
    link = (lambda e: 1 / (1 + np.exp(-e))) if family == "binomial" else np.exp
    beta = np.asarray(res.params)
    series["fitted"] = link(x.to_numpy() @ beta)
    if change is not None:
        cf = x.copy()
        cf[["post", "time_after"]] = 0.0
        series["counterfactual"] = np.where(x["post"] == 1, link(cf.to_numpy() @ beta), np.nan)
    series = _attach(series, df)
    quality = QualityRecord()
    quality.extend(quality_of(series))  # the rows prepare_referrals excluded
    return TrendResult(coef, series, family, change, period, scale, confidence, res, quality)


# ============================================================================ waiting times
_STAGES = {"first": "first_contact_date", "second": "second_contact_date"}


def km_quantile(
    times: np.ndarray, surv: np.ndarray, p: float, last_time: float | None = None
) -> float:
    """The time by which a proportion ``p`` has had the event, from a Kaplan-Meier curve.

    R's ``quantile.survfit`` rule: the first time at which F = 1 - S reaches ``p``; where F
    equals ``p`` (within sqrt(machine epsilon)) the midpoint of that time and the time F next
    rises, or, when F never rises again, the midpoint of that time and ``last_time`` (the last
    follow-up time of the curve, censored or not; default the last of ``times``). For uncensored
    data this is the ordinary sample quantile (R type 2). NaN when F never reaches ``p``.
    ``times`` are the curve's times in increasing order and ``surv`` S just after each; NaN
    values of ``surv`` (an undefined confidence band) are skipped, as R does.

    Example:
        >>> km_quantile(np.array([10.0, 20.0]), np.array([0.75, 0.5]), 0.5, last_time=40)
        30.0
    """
    times = np.asarray(times, dtype=float)
    xmax = float(times[-1]) if last_time is None else float(last_time)
    # The curve starts at F = 0 at time 0. Keep the first time each F level is reached
    # (R drops repeated levels, then undefined ones, but remembers whether the last was NaN).
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1.0 - np.asarray(surv, dtype=float)])
    _, first = np.unique(np.where(np.isnan(y), np.inf, y), return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    last_defined = not np.isnan(y[-1])
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    tol = np.sqrt(np.finfo(float).eps)
    # The point with the smallest F at or above p (within tol), and the one clearly above p.
    # A band of S need not be monotone, so these are chosen by F, not by position.
    up1 = np.flatnonzero(y + tol >= p)
    if len(up1) == 0:
        return np.nan
    i1 = up1[np.argmin(y[up1])]
    up2 = np.flatnonzero(y - tol >= p)
    if len(up2):
        i2 = up2[np.argmin(y[up2])]
        return float(x[i1] + x[i2]) / 2  # equal indices unless F sits on p
    if last_defined and abs(p - y[-1]) < tol:
        return float(x[i1] + xmax) / 2  # F stays on p to the end of follow-up
    return np.nan


def _km_at(times: np.ndarray, values: np.ndarray, t: float, start: float) -> float:
    """Value of a right-continuous step function (jumps at ``times``) at ``t``."""
    i = np.searchsorted(times, t, side="right") - 1
    return start if i < 0 else float(values[i])


def _loglog_band(surv: np.ndarray, se_log: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log S) band of S (R ``survfit(conf.type = "log-log")``); NaN where S is
    0 or 1, as R. ``se_log`` is the Greenwood standard error of log S."""
    s = np.where((surv > 0) & (surv < 1), surv, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = z * se_log / np.abs(np.log(s))
        return s ** np.exp(w), s ** np.exp(-w)


#: Quantile columns of the waiting-time table and the proportion seen each stands for.
_QUANTILES = {"median": 0.5, "q1": 0.25, "q3": 0.75, "p90": 0.90}


def _km_summary(km: _km.GroupedKM, standard_days: float, z: float) -> dict[str, np.ndarray]:
    """Per group of ``km``: quantiles with their CIs and the share within the standard; ``z``
    the normal quantile of the confidence level. NaN for a group without rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = km.se / km.surv  # Greenwood: sqrt(sum d / (n (n - d))), R's survfit std.err
    s_lo, s_hi = _loglog_band(km.surv, se_log, z)
    est = _km.quantiles(km, km.surv, _QUANTILES)
    # R quantile.survfit: the quantiles of the band's limits (the lower limit of S reaches
    # 1 - p first, so it gives the lower limit of the time)
    low = _km.quantiles(km, s_lo, _QUANTILES)
    high = _km.quantiles(km, s_hi, _QUANTILES)
    out = {}
    for name in _QUANTILES:
        out[f"{name}_days"] = est[name]
        out[f"{name}_ci_low"] = low[name]
        out[f"{name}_ci_high"] = high[name]
    s = _km.step_at(km, km.surv, standard_days, 1.0)
    s_se = _km.step_at(km, km.se, standard_days, 0.0)
    lo = np.full(km.n_groups, np.nan)
    hi = np.full(km.n_groups, np.nan)
    ok = (s > 0) & (s < 1) & np.isfinite(s_se) & (s_se > 0)
    # log(-log S) interval (Kalbfleisch & Prentice; R survfit conf.type = "log-log")
    w = z * s_se[ok] / (s[ok] * np.abs(np.log(s[ok])))
    lo[ok] = 1.0 - s[ok] ** np.exp(-w)
    hi[ok] = 1.0 - s[ok] ** np.exp(w)
    empty = km.n_rows == 0
    out["within_standard"] = np.where(empty, np.nan, 1.0 - s)
    out["within_standard_ci_low"] = lo
    out["within_standard_ci_high"] = hi
    return out


def _wait_data(df, stage, as_of, discharged, exclude_not_accepted):
    col = _STAGES[stage]
    _need(df, [col], f"waiting times to the {stage} contact")
    keep = np.ones(len(df), bool)
    n_not_acc = 0
    if exclude_not_accepted and "accepted" in df.columns:
        not_acc = (df["accepted"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
        keep &= ~not_acc
        n_not_acc = int(not_acc.sum())
    ref = df["referral_date"]
    event_date = df[col]
    event = event_date.notna().to_numpy()
    end = event_date.where(event_date.notna(), as_of)
    closed = np.zeros(len(df), bool)
    if "discharge_date" in df.columns:
        closed = (~event) & df["discharge_date"].notna().to_numpy()
        if discharged == "censor":
            end = end.where(~closed, df["discharge_date"])
        else:
            keep &= ~closed
    days = (end - ref).dt.days.to_numpy(dtype=float)
    waiting = keep & ~event & ~closed
    return keep, days, event, waiting, closed, n_not_acc


def _group_index(
    df: pd.DataFrame, by: list[str], total: bool
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Groups numbered in sorted order of their labels (missing labels a group of their own,
    last), as ``groupby(sort=True, dropna=False)`` lists them; with ``total`` and ``by`` every row is listed a second time, in a last
    ``Total`` group. Returns the listed rows (positions in ``df``), the group of each, and
    one object array of labels per ``by`` column."""
    rows = np.arange(len(df))
    if not by:
        return rows, np.zeros(len(df), np.int64), []
    grouped = df.groupby(by, dropna=False, sort=True)
    group = grouped.ngroup().to_numpy(dtype=np.int64)
    index = grouped.size().index
    labels = []
    for k in range(len(by)):
        level = index.get_level_values(k) if len(by) > 1 else index
        values = np.empty(len(index) + total, dtype=object)
        values[: len(index)] = list(level)
        if total:
            values[-1] = TOTAL
        labels.append(values)
    if total:
        group = np.concatenate([group, np.full(len(df), len(index), np.int64)])
        rows = np.concatenate([rows, rows])
    return rows, group, labels


@dataclass
class WaitResult:
    """Kaplan-Meier waiting times from referral to first / second contact.

    ``to_frame()``: one row per group and stage: ``n`` (referrals included), ``n_seen``
    (contact recorded), ``n_waiting`` (no contact by the extract date: censored there),
    ``n_closed_unseen`` (discharged without that contact: censored at discharge, or excluded
    with ``discharged="exclude"``), ``median_days``, ``q1_days``, ``q3_days``, ``p90_days``, each
    with its ``_ci_low/_ci_high`` (``median_ci_low``, ``q1_ci_low``, ...), ``standard_days`` and ``within_standard`` (proportion with the
    contact within the standard) with ``within_standard_ci_low/high``. ``curve()``: the
    Kaplan-Meier steps for plotting.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    as_of: pd.Timestamp
    standard_days: float
    confidence: float
    by: list[str] = field(default_factory=list)
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def curve(self) -> pd.DataFrame:
        """``days, at_risk, events, surv, seen`` (= 1 - surv) per group and stage."""
        return self.curves.copy()

    def summary(self) -> str:
        lvl = int(round(self.confidence * 100))
        parts = []
        rows = self.table
        if self.by:
            rows = rows[(rows[self.by] == TOTAL).all(axis=1)]
        for r in rows.itertuples(index=False):
            if r.n == 0:
                continue
            med = (
                "half had not yet had it by the extract date"
                if not np.isfinite(r.median_days)
                else f"half had it within {r.median_days:g} days (IQR {_days(r.q1_days)} to "
                f"{_days(r.q3_days)}; 90% within {_days(r.p90_days)})"
            )
            ci = (
                f" ({lvl}% CI {_pct(r.within_standard_ci_low)} to {_pct(r.within_standard_ci_high)})"
                if np.isfinite(r.within_standard_ci_low)
                else ""
            )
            parts.append(
                f"Of {r.n} referrals ({r.n_waiting} still waiting at {self.as_of:%d %b %Y}, "
                f"counted as censored), {med} for a {r.stage} contact; an estimated "
                f"{_pct(r.within_standard)}{ci} had it within {self.standard_days:g} days."
            )
        text = " ".join(parts) if parts else "No referrals to summarise."
        return with_notes(text, self.quality)

    @validate_params(
        {
            "stage": Options(str, {"first", "second"}),
            "ax": ["ax", None],
        }
    )
    def plot(self, stage: str = "first", ax=None):
        """Cumulative proportion seen against days since referral (Kaplan-Meier), one line per
        group, with the standard marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        c = self.curves[self.curves["stage"] == stage]
        keys = [()] if not self.by else list(c[self.by].drop_duplicates().itertuples(index=False))
        for g in keys:
            sub = c[(c[self.by] == list(g)).all(axis=1)] if self.by else c
            label = ", ".join(map(str, g)) if self.by else None
            x = np.r_[0, sub["days"].to_numpy()]
            y = np.r_[0, 100 * sub["seen"].to_numpy()]
            ax.step(x, y, where="post", label=label)
        ax.axvline(self.standard_days, color="C3", ls=":", lw=1)
        ax.set_xlabel("days since referral")
        ax.set_ylabel(f"% with a {stage} contact")
        ax.set_ylim(0, 100)
        if self.by:
            ax.legend(frameon=False)
        return ax

    def __repr__(self) -> str:
        return f"WaitResult({self.summary()!r})"


def _days(x: float) -> str:
    return "not reached" if not np.isfinite(x) else f"{x:g}"


@recorded("service.waiting_times")
@validate_params(
    {
        **_READ_REFERRALS,
        "stage": [Options(str, {"first", "second"}), list, tuple],
        "by": BY,
        "standard_days": POSITIVE,
        "exclude_not_accepted": "boolean",
        "discharged": Options(str, {"censor", "exclude"}),
        "total": "boolean",
        "confidence": PROBABILITY,
    }
)
def waiting_times(
    referrals: pd.DataFrame,
    *,
    as_of,
    stage: str | Sequence[str] = ("first", "second"),
    by: str | Sequence[str] | None = None,
    standard_days: float = 28,
    exclude_not_accepted: bool = True,
    discharged: Literal["censor", "exclude"] = "censor",
    total: bool = True,
    confidence: float = 0.95,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> WaitResult:
    """Waiting times from referral to first and second contact, by Kaplan-Meier.

    A referral with the contact waits (contact - referral) days (0 = same day). One still
    waiting at ``as_of`` (the extract date) is censored at (as_of - referral) days: it counts
    in the risk set for as long as it has waited, and is never dropped. One discharged without
    the contact is censored at discharge (``discharged="censor"``) or left out
    (``"exclude"``). Not-accepted referrals are left out unless ``exclude_not_accepted=False``.

    The curve is statsmodels' ``SurvfuncRight`` (Greenwood standard errors). Quantiles (median,
    quartiles, 90th percentile) follow :func:`km_quantile` (NaN when the curve does not fall that
    far: report as "not reached"); each quantile's interval is that quantile of the pointwise
    log(-log) band of S, as R's ``quantile.survfit`` on ``survfit(conf.type = "log-log")``
    (Brookmeyer-Crowley by test inversion). ``within_standard`` is 1 - S(standard_days)
    with a log-log interval.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2, 3, 4, 5], "person_id": list("abcde"),
    ...     "referral_date": ["2024-01-01"] * 4 + ["2024-01-10"],
    ...     "first_contact_date": ["2024-01-11", "2024-01-21", "2024-01-31", None, None]})
    >>> w = waiting_times(r, as_of="2024-02-29", stage="first").to_frame()
    >>> w.loc[0, ["n", "n_seen", "n_waiting"]].astype(int).tolist(), float(w.loc[0, "median_days"])
    ([5, 3, 2], 30.0)
    """
    if discharged not in ("censor", "exclude"):
        raise OutcomesError(f"discharged must be 'censor' or 'exclude', not {discharged!r}")
    stages = [stage] if isinstance(stage, str) else list(stage)
    bad = [s for s in stages if s not in _STAGES]
    if bad or not stages:
        raise OutcomesError(f"stage must be 'first' and/or 'second', not {bad or stages}")
    if not standard_days > 0:
        raise OutcomesError(f"standard_days must be > 0, not {standard_days!r}")
    as_of_ts = _as_date(as_of, "as_of", dayfirst)
    df = prepare_referrals(referrals, as_of=as_of_ts, errors=errors, dayfirst=dayfirst)
    by_cols = _by_list(df, by)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    tables, curves = [], []
    for st in stages:
        keep, days, event, waiting, closed, n_not_acc = _wait_data(
            df, st, as_of_ts, discharged, exclude_not_accepted
        )
        # the kept rows of the by columns only (each once): grouping reads nothing else
        rows, group, labels = _group_index(
            df.loc[keep, list(dict.fromkeys(by_cols))], by_cols, total
        )
        rows = np.flatnonzero(keep)[rows]
        n_groups = len(labels[0]) if by_cols else 1
        km = _km.km_grouped(days[rows], event[rows], group, n_groups)

        def per_group(flags: np.ndarray, rows=rows, group=group, n=n_groups) -> np.ndarray:
            return np.bincount(group, weights=flags[rows].astype(float), minlength=n)

        cols: dict[str, object] = dict(zip(by_cols, labels, strict=True))
        cols |= {
            "stage": st,
            "n": km.n_rows.astype(np.int64),
            "n_seen": per_group(event).astype(np.int64),
            "n_waiting": per_group(waiting).astype(np.int64),
            "n_closed_unseen": per_group(closed).astype(np.int64),
            **_km_summary(km, standard_days, z),
            "standard_days": standard_days,
        }
        tab = pd.DataFrame(cols)
        cv = pd.DataFrame(
            {
                "days": km.times,
                "at_risk": km.n_risk,
                "events": km.n_events,
                "surv": km.surv,
                "seen": 1.0 - km.surv,
            }
        )
        cv.insert(0, "stage", st)
        for k, name in enumerate(by_cols):
            cv.insert(k, name, pd.Series(labels[k][km.group], dtype=object))
        tables.append(tab)
        curves.append(cv)
        excluded_not_acc = n_not_acc
    table = _attach(pd.concat(tables, ignore_index=True), df)
    table.attrs["n_not_accepted_excluded"] = excluded_not_acc
    curve = pd.concat(curves, ignore_index=True)
    return WaitResult(table, curve, as_of_ts, standard_days, confidence, by_cols)


# ============================================================================ activity series
@recorded("service.monthly_activity")
@validate_params(
    {
        **_READ_REFERRALS,
        "period": Options(str, {"M", "Q", "FQ"}),
        "by": BY,
        "inappropriate": [Columns(), None],
    }
)
def monthly_activity(
    referrals: pd.DataFrame,
    *,
    as_of=None,
    period: Period = "M",
    by: str | Sequence[str] | None = None,
    inappropriate: Sequence[str] | None = None,
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> pd.DataFrame:
    """Activity per period, ready to plot: ``period, period_start, period_end, received,
    accepted, not_accepted, inappropriate`` (by referral date), ``first_contacts,
    second_contacts, discharges`` (by the date of each), ``children_first_seen`` (children whose
    earliest first contact, within the group, falls in the period) and ``waiting_at_end``
    (referrals not yet seen, discharged or not accepted at the end of the period, or at
    ``as_of`` for the last one). Periods run from the first referral to ``as_of`` (or the last
    date in the table). A count of events whose date column the table does not have is left
    out, never shown as zeros: ``second_contacts`` without ``second_contact_date``,
    ``first_contacts`` and ``children_first_seen`` without ``first_contact_date``,
    ``discharges`` without ``discharge_date`` (``waiting_at_end`` stays: a referral without a
    first contact recorded is waiting).

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": [1, 2], "person_id": ["a", "b"],
    ...     "referral_date": ["2024-01-10", "2024-01-20"],
    ...     "first_contact_date": ["2024-02-01", None]})
    >>> a = monthly_activity(r, as_of="2024-02-15")
    >>> a[["period", "received", "first_contacts", "waiting_at_end"]].values.tolist()
    [['2024-01', 2, 0, 2], ['2024-02', 0, 1, 1]]
    """
    df = prepare_referrals(referrals, as_of=as_of, errors=errors, dayfirst=dayfirst)
    by_cols = _by_list(df, by)
    present = [c for c in DATE_COLUMNS if c in df.columns]
    last = (
        _as_date(as_of, "as_of", dayfirst)
        if as_of is not None
        else max(df[c].max() for c in present)
    )
    first_p = _periods(df["referral_date"], period).min()
    last_p = _periods(pd.Series([last]), period).iloc[0]
    prange = pd.period_range(first_p, last_p, freq=first_p.freq)

    n_p = len(prange)
    has_acc = "accepted" in df.columns
    not_acc = (
        (df["accepted"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
        if has_acc
        else np.zeros(len(df), bool)
    )
    acc = df["accepted"].fillna(False).to_numpy(dtype=bool) if has_acc else not_acc
    inap = _inappropriate(df, inappropriate) if has_acc else not_acc
    none = np.full(len(df), -1)
    ref, first, second, dis = (
        _period_codes(_periods(df[c], period), prange) if c in df.columns else none
        for c in DATE_COLUMNS
    )
    g = _Groups.of(df, by_cols, False)
    live = ~not_acc
    unseen_closed = live & (first == -1) & (dis != -1)
    # Open and unseen at the end of each period: cumulative referrals in, minus those seen
    # and those discharged unseen by then. Not-accepted referrals are never on the list.
    waiting = (
        np.cumsum(g.by_period(ref, n_p, live), axis=1)
        - np.cumsum(g.by_period(first, n_p, live), axis=1)
        - np.cumsum(g.by_period(dis, n_p, unseen_closed), axis=1)
    )
    out = _per_period(
        g,
        prange,
        period,
        {
            "received": g.by_period(ref, n_p),
            "accepted": g.by_period(ref, n_p, acc),
            "not_accepted": g.by_period(ref, n_p, not_acc),
            "inappropriate": g.by_period(ref, n_p, inap),
            "first_contacts": g.by_period(first, n_p),
            "second_contacts": g.by_period(second, n_p),
            "discharges": g.by_period(dis, n_p),
            "children_first_seen": _first_seen(df, g, first, n_p),
            "waiting_at_end": waiting,
        },
    )
    unknown = [c for c, date in _COUNTED_BY.items() if date not in df.columns]
    return _attach(out.drop(columns=unknown), df)


#: monthly_activity's columns counted from a date column the referrals table may not have
_COUNTED_BY = {
    "first_contacts": "first_contact_date",
    "second_contacts": "second_contact_date",
    "discharges": "discharge_date",
    "children_first_seen": "first_contact_date",
}


def _first_seen(df: pd.DataFrame, g: _Groups, first: np.ndarray, n_periods: int) -> np.ndarray:
    """(groups, periods): children whose earliest first contact within the group falls in
    the period; the earliest per (group, child) pair by one hashed group-by on integers."""
    person = pd.factorize(df["person_id"].to_numpy(dtype=object))[0][g.rows]
    seen = (first[g.rows] != -1) & (person >= 0)
    n_people = int(person.max()) + 1 if len(person) else 1
    pair = g.group[seen] * n_people + person[seen]
    earliest = pd.Series(first[g.rows][seen]).groupby(pair, sort=False).min()
    code = earliest.to_numpy()
    ok = (code >= 0) & (code < n_periods)
    cell = earliest.index.to_numpy()[ok] // n_people * n_periods + code[ok]
    return np.bincount(cell, minlength=g.n * n_periods).reshape(g.n, n_periods)


# ============================================================================ publication
_CI_SUFFIXES = ("ci_low", "ci_high")


@validate_params(
    {
        "table": "dataframe",
        "kind": Options(
            str,
            {
                "referral_counts",
                "not_accepted_reasons",
                "children_seen",
                "rates",
                "waits",
                "activity",
            },
        ),
        "threshold": COUNT,
        "base": POSITIVE_COUNT,
    }
)
def publish(
    table: pd.DataFrame,
    kind: Literal[
        "referral_counts", "not_accepted_reasons", "children_seen", "rates", "waits", "activity"
    ],
    *,
    threshold: int = 7,
    base: int = 5,
) -> pd.DataFrame:
    """Disclosure control for a table from this module, with each column in its role.

    Counts follow the small-numbers rule (:func:`outcomes.disclosure.apply`); rates are
    recomputed from the published counts (proportions, 3 decimals); waiting-time statistics are
    hidden where their n is; confidence limits are dropped (they are computed from exact counts
    and would let a reader undo the rounding); shares of not-accepted referrals are dropped
    (recompute them from the published counts if needed). The audit log is in
    ``result.attrs["disclosure_log"]``.

    ``kind`` names the function the table came from: ``"referral_counts"``,
    ``"not_accepted_reasons"`` (without ``by``), ``"children_seen"``, ``"rates"``
    (:func:`inappropriate_rate`), ``"waits"`` (:meth:`WaitResult.to_frame`) or ``"activity"``
    (:func:`monthly_activity`).

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": range(30), "person_id": range(30),
    ...     "referral_date": ["2024-01-02"] * 30, "accepted": [True] * 27 + [False] * 3})
    >>> publish(referral_counts(r), "referral_counts")[["received", "inappropriate"]].iloc[0].tolist()
    [30, '*']
    """
    from . import disclosure

    drop = [c for c in table.columns if str(c).endswith(_CI_SUFFIXES)]
    t = table.drop(columns=drop)
    if kind == "referral_counts":
        kw = dict(
            counts=["received", "decided", "accepted", "not_accepted", "pending", "inappropriate"],
            percentages={
                "acceptance_rate": ("accepted", "decided"),
                "inappropriate_rate": ("inappropriate", "decided"),
            },
        )
    elif kind == "not_accepted_reasons":
        extra = [c for c in t.columns if c not in _REASON_COLUMNS]
        if extra:
            raise OutcomesError(
                f"publish a reasons table without by= (found group columns {extra}); a grouped "
                "table has margins across groups: pivot it to reasons x groups with a Total "
                "row and column and use outcomes.disclosure.apply"
            )
        t = t.drop(columns=["share_of_not_accepted", "share_of_received"])
        kw = dict(counts=["n"])
    elif kind == "children_seen":
        seen = ("referrals", "children_referred", "children_seen_1plus", "children_seen_2plus")
        kw = dict(counts=[c for c in seen if c in t.columns])  # 2plus may be left out
    elif kind == "rates":
        kw = dict(
            counts=["decided", "inappropriate"], percentages={"rate": ("inappropriate", "decided")}
        )
    elif kind == "waits":
        stats = ["median_days", "q1_days", "q3_days", "p90_days", "within_standard"]
        kw = dict(
            counts=["n", "n_seen", "n_waiting", "n_closed_unseen"],
            means={c: "n" for c in stats},
            keep=["standard_days"],
            groups="stage",
        )
    elif kind == "activity":
        kw = dict(counts=[c for c in _ACTIVITY_COUNTS if c in t.columns])
    else:
        raise OutcomesError(f"unknown kind {kind!r} for service.publish")
    return disclosure.apply(t, threshold=threshold, base=base, percent_scale=1.0, decimals=3, **kw)


_REASON_COLUMNS = ("reason", "n", "share_of_not_accepted", "share_of_received", "inappropriate")
_ACTIVITY_COUNTS = (
    "received",
    "accepted",
    "not_accepted",
    "inappropriate",
    "first_contacts",
    "second_contacts",
    "discharges",
    "children_first_seen",
    "waiting_at_end",
)


# ============================================================================ waits before vs after
def _km_medians(cells: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """Kaplan-Meier medians (:func:`km_quantile`'s rule) of one group for each row of
    ``weights``: how many times each (days, event) cell of ``cells`` occurs in a resample.
    NaN where the curve does not fall to one half."""
    times = np.unique(cells["days"].to_numpy(float))
    pos = np.searchsorted(times, cells["days"].to_numpy(float))
    ev = cells["event"].to_numpy(bool)
    d = np.zeros((len(weights), len(times)))
    c = np.zeros((len(weights), len(times)))
    np.add.at(d.T, pos[ev], weights[:, ev].T)  # events at each time, per resample
    np.add.at(c.T, pos, weights.T)  # everyone whose time it is (events and censored)
    at_risk = np.cumsum(c[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - np.where(at_risk > 0, d / at_risk, 0.0), axis=1)
    # km_quantile's rule for p = 1/2, on all resamples at once (a KM curve only rises, so
    # "the first time F reaches a level" is the first index at or above it)
    f = 1.0 - surv
    tol = np.sqrt(np.finfo(float).eps)
    reach = f + tol >= 0.5
    rise = f - tol >= 0.5
    i1 = np.argmax(reach, axis=1)
    i2 = np.argmax(rise, axis=1)
    rows = np.arange(len(weights))
    # R's last follow-up time: the resample's own longest wait
    last = times[len(times) - 1 - np.argmax(c[:, ::-1] > 0, axis=1)]
    on_half = reach[rows, i1] & ~rise[rows, i1]  # F sits on 1/2 at i1
    after = np.where(rise.any(axis=1), times[i2], np.where(on_half, last, np.nan))
    out = np.where(on_half, (times[i1] + after) / 2, times[i1])
    return np.where(reach.any(axis=1) & (c.sum(axis=1) > 0), out, np.nan)


@dataclass
class WaitComparison:
    """The Kaplan-Meier median wait before vs after ``change_date`` with a bootstrap CI of
    the difference (after - before). ``to_frame()``: one row per stage."""

    table: pd.DataFrame
    change_date: pd.Timestamp
    confidence: float
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lvl = int(round(self.confidence * 100))
        when = _date_text(self.change_date)
        parts = []
        for r in self.table.itertuples(index=False):
            if not np.isfinite(r.difference):
                parts.append(
                    f"The median wait to {r.stage} contact was {_days(r.median_before)} days "
                    f"before {when} and {_days(r.median_after)} from then on; no difference."
                )
                continue
            parts.append(
                f"The median wait to {r.stage} contact was {r.median_before:g} days before "
                f"{when} and {r.median_after:g} from then on: a change of {r.difference:+g} days "
                f"({lvl}% CI {_days(r.ci_low)} to {_days(r.ci_high)}; percentile bootstrap, "
                f"{r.n_boot} resamples)."
            )
        return with_notes(" ".join(parts), self.quality)

    def __repr__(self) -> str:
        return f"WaitComparison({self.summary()!r})"


@recorded("service.compare_median_wait")
@validate_params(
    {
        **_READ_REFERRALS,
        "change_date": "date",
        "stage": [Options(str, {"first", "second"}), list, tuple],
        "n_boot": Interval(Integral, 200, 100_000, closed="both"),
        "seed": COUNT,
        "confidence": PROBABILITY,
        "exclude_not_accepted": "boolean",
        "discharged": Options(str, {"censor", "exclude"}),
    }
)
def compare_median_wait(
    referrals: pd.DataFrame,
    *,
    change_date,
    as_of,
    stage: str | Sequence[str] = "first",
    n_boot: int = 2000,
    seed: int = 2024,
    confidence: float = 0.95,
    exclude_not_accepted: bool = True,
    discharged: Literal["censor", "exclude"] = "censor",
    errors: Errors = "raise",
    dayfirst: bool = True,
) -> WaitComparison:
    """Compare the Kaplan-Meier median wait before and after ``change_date``, with a CI.

    Referrals dated before ``change_date`` are "before", the rest "after"; waits and censoring
    are those of :func:`waiting_times` (children still waiting at ``as_of`` censored there).
    ``difference`` is after - before. Its interval is a percentile bootstrap: each period's
    referrals are resampled with replacement on their own (``n_boot`` times, generator seeded
    with ``seed`` so that the same data give the same interval), the two medians recomputed by
    the same rule as the point estimates, and the interval is the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles of the differences (inverse of the empirical CDF). Why a
    bootstrap: the two medians come from separate curves and a median has no simple standard
    error; the bootstrap needs no density estimate. A resample whose median is not reached
    counts as an infinitely long median (a limit then shows as ``inf``); one where neither is
    reached has no difference and is left out, counted in ``n_boot_undefined`` and noted.

    Example
    -------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"referral_id": range(6), "person_id": list("abcdef"),
    ...     "referral_date": ["2024-01-01"] * 3 + ["2024-05-01"] * 3,
    ...     "first_contact_date": ["2024-01-11", "2024-01-11", "2024-01-11",
    ...                            "2024-05-21", "2024-05-21", "2024-05-21"]})
    >>> w = compare_median_wait(r, change_date="2024-04-01", as_of="2024-08-31").to_frame()
    >>> w[["median_before", "median_after", "difference", "ci_low", "ci_high"]].iloc[0].tolist()
    [10.0, 20.0, 10.0, 10.0, 10.0]
    """
    stages = [stage] if isinstance(stage, str) else list(stage)
    bad = [s for s in stages if s not in _STAGES]
    if bad or not stages:
        raise OutcomesError(f"stage must be 'first' and/or 'second', not {bad or stages}")
    as_of_ts = _as_date(as_of, "as_of", dayfirst)
    change = _as_date(change_date, "change_date", dayfirst)
    df = prepare_referrals(referrals, as_of=as_of_ts, errors=errors, dayfirst=dayfirst)
    after = (df["referral_date"] >= change).to_numpy(dtype=bool)
    rng = np.random.default_rng(seed)
    quality = QualityRecord()
    rows = []
    for st in stages:
        keep, days, event, _, _, _ = _wait_data(df, st, as_of_ts, discharged, exclude_not_accepted)
        row: dict = {"stage": st}
        boots = []
        for name, side in (("before", ~after), ("after", after)):
            sel = keep & side
            row[f"n_{name}"] = int(sel.sum())
            # the group's distinct (days, event) cells with their counts: resampling people
            # is resampling these cells with probabilities count / n
            cells = (
                pd.DataFrame({"days": days[sel], "event": event[sel]})
                .value_counts()
                .reset_index(name="count")
            )
            n = int(cells["count"].sum())
            if n == 0:
                row[f"median_{name}"] = np.nan
                boots.append(np.full(n_boot, np.nan))
                continue
            row[f"median_{name}"] = float(_km_medians(cells, cells[["count"]].to_numpy().T)[0])
            w = rng.multinomial(n, cells["count"].to_numpy() / n, size=n_boot)
            boots.append(_km_medians(cells, w))
        before_b, after_b = (np.where(np.isnan(b), np.inf, b) for b in boots)
        with np.errstate(invalid="ignore"):
            diff = after_b - before_b
        if row["n_before"] == 0 or row["n_after"] == 0:
            diff = np.full(n_boot, np.nan)
        undefined = int(np.isnan(diff).sum())
        row["difference"] = row["median_after"] - row["median_before"]
        alpha = 1 - confidence
        ok = diff[~np.isnan(diff)]
        row["ci_low"], row["ci_high"] = (
            (float(np.quantile(ok, q, method="inverted_cdf")) for q in (alpha / 2, 1 - alpha / 2))
            if len(ok) and np.isfinite(row["difference"])
            else (np.nan, np.nan)
        )
        row["n_boot"], row["n_boot_undefined"] = n_boot, undefined
        if undefined and np.isfinite(row["difference"]):
            quality.add(
                "service.compare_median_wait",
                _NEITHER_PERIOD(stage=st, k=undefined, n=n_boot),
                action="left out of the difference's interval",
            )
        rows.append(row)
    table = _attach(pd.DataFrame(rows), df)
    return WaitComparison(table, change, confidence, quality)
