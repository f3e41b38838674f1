"""The one date reader: every reader and verb that takes dates reads them here.

Rules (docs/concepts.md, "Dates"):

- ISO 8601 (``YYYY-MM-DD``, optionally ``T``/space and ``HH:MM[:SS]``) is always understood.
- Numeric day/month/year text (``05/01/2025``, ``5-1-2025``, ``05.01.2025``, optionally with a
  time) is read **day first** (UK data) unless ``dayfirst=False`` (then month first).
  Two-digit years follow the POSIX ``%y`` rule (00-68 -> 2000s, 69-99 -> 1900s).
- ``5 Jan 2025`` / ``5 January 2025`` (named months) are understood.
- datetime objects and ``datetime64`` columns pass through.
- Excel serial numbers (days since 1899-12-30) are understood only when the source is Excel
  (``excel=True``; :func:`outcomes.io.read_table` converts them in date columns of .xlsx files).
  Anywhere else a bare number in a date column is a bad cell, never nanoseconds.
- Impossible dates (``31/02/2025``), anything else that is not a date, and a column mixing
  formats (e.g. ISO and ``DD/MM/YYYY`` text) are bad cells naming row and value; cells written
  in a format other than the column's most common one are the ones reported.
- Time zones: values carrying an offset or zone (``2025-06-30T23:30Z``, tz-aware datetimes) are
  **converted to UK local time** (Europe/London) and the zone dropped, so different offsets
  (GMT and BST) in one column are fine. A column mixing values with and without a zone is
  **refused** (:class:`~outcomes.errors.DataStructureError`): the bare ones could be in any zone.

Everything is vectorised over the distinct values of the column (``pd.factorize``), with one
explicit ``format=`` per format family.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataStructureError, InvalidResponsesError, OutcomesError, describe_issues
from . import cells

UK_ZONE = "Europe/London"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial 61 is 1 March 1900; below it Excel's phantom 29 February 1900 shifts every day.
EXCEL_FIRST, EXCEL_LAST = 61, 2958465
UNIT = "datetime64[us]"

_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_CLOCK = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ]" + _CLOCK + r"(?:\s?" + _ZONE + ")?)?"
_NUMERIC = r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME
_NAMED = r"\d{1,2} [A-Za-z]{3,9}\.? \d{4}"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_HAS_ZONE = _CLOCK + r"\s?" + _ZONE + "$"

FAMILIES = {"iso": "YYYY-MM-DD", "numeric": "DD/MM/YYYY", "named": "D Month YYYY"}
NOT_A_DATE = "not a date (use YYYY-MM-DD or DD/MM/YYYY)"


class ParsedDates(NamedTuple):
    """Dates read from a column: ``values`` (``datetime64``, NaT where blank or bad) and
    ``issues`` (a bad-cell table, :mod:`outcomes._internal.cells`)."""

    values: pd.Series
    issues: pd.DataFrame


class _Unhashable:
    """A list/dict/set cell, wrapped so the column can be factorised and the cell reported."""

    def __init__(self, value: object):
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def _is_aware(v: object) -> bool:
    return getattr(v, "tzinfo", None) is not None and v.tzinfo.utcoffset(v) is not None


def _to_local(stamps: pd.Series) -> pd.Series:
    """UTC-aware stamps -> naive UK local time."""
    return stamps.dt.tz_convert(UK_ZONE).dt.tz_localize(None)


_KIND_OF_INFERRED = {"string": "text", "integer": "number", "floating": "number"}


def _kinds(u: pd.Series) -> np.ndarray:
    """The kind of each distinct value: text, number, date, bool or other."""
    whole = _KIND_OF_INFERRED.get(pd.api.types.infer_dtype(u, skipna=True))
    if whole is not None:  # one kind throughout: no per-value look needed
        return np.full(len(u), whole, dtype=object)
    # one isinstance pass over the distinct values (not the rows)
    return np.array(
        [
            "bool"
            if isinstance(v, (bool, np.bool_))
            else "date"
            if isinstance(v, (_dt.date, np.datetime64))
            else "number"
            if isinstance(v, (int, float, np.integer, np.floating))
            else "text"
            if isinstance(v, str)
            else "other"
            for v in u
        ],
        dtype=object,
    )


def _serials(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial day numbers -> datetimes, and a mask of numbers outside Excel's range."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) & (x >= EXCEL_FIRST) & (x <= EXCEL_LAST)
    out = np.full(len(x), np.datetime64("NaT"), dtype=UNIT)
    if ok.any():
        stamps = EXCEL_EPOCH + pd.to_timedelta(x[ok], unit="D")
        out[ok] = stamps.round("s").to_numpy(dtype=UNIT)
    return out, ~ok


def _matching(values: np.ndarray, pattern: str, *, search: bool = False) -> np.ndarray:
    """Which text ``values`` (object, ``None`` for none) match ``pattern`` whole (or contain it,
    ``search=True``), by Python's ``re``: what ``str.fullmatch`` on arrow strings falls back to
    for these patterns anyway, without its per-call parse of the pattern to choose an engine
    (about a millisecond a call, more than matching a column's distinct values costs)."""
    compiled = re.compile(pattern)
    test = compiled.search if search else compiled.fullmatch
    return np.fromiter(
        (v is not None and test(v) is not None for v in values), dtype=bool, count=len(values)
    )


def _numeric_text(txt: pd.Series, dayfirst: bool) -> pd.Series:
    """``d/m/y`` (or ``m/d/y``) text -> datetimes; impossible dates give NaT.

    The cells (already known to match ``_NUMERIC``) are rewritten to one day-first layout with
    a full time by a vectorised regular expression (pyarrow; ``str.extract`` and Python's
    ``re.sub`` per cell are several times slower) and read with an explicit ``format=``."""
    order = r"\1/\3/\4 \5:\6:\7" if dayfirst else r"\3/\1/\4 \5:\6:\7"
    # RE2 has no back-references in patterns: the same-separator rule was checked before
    pattern = "^" + _NUMERIC.replace("\\2", "[/.\\-]") + "$"
    arr = pa.array(txt.to_numpy(dtype=object, na_value=None), type=pa.string())
    canon = pc.replace_substring_regex(arr, pattern, order)
    canon = pc.replace_substring_regex(canon, r" ::$", " 0:00:00")
    canon = pc.replace_substring_regex(canon, r":$", ":00")
    canon = pd.Series(canon.to_numpy(zero_copy_only=False), index=txt.index, dtype=object)
    short = canon.str.match(r"\d+/\d+/\d\d ").fillna(False).to_numpy(dtype=bool)
    out = pd.to_datetime(canon.where(~short), format="%d/%m/%Y %H:%M:%S", errors="coerce")
    if short.any():
        two = pd.to_datetime(canon.where(short), format="%d/%m/%y %H:%M:%S", errors="coerce")
        out = out.where(~short, two)
    return out


def _named_text(txt: pd.Series) -> pd.Series:
    clean = txt.str.replace(".", "", regex=False)
    out = pd.to_datetime(clean, format="%d %b %Y", errors="coerce")
    todo = out.isna()
    if todo.any():
        out = out.where(
            ~todo, pd.to_datetime(clean.where(todo), format="%d %B %Y", errors="coerce")
        )
    return out


#: a day written YYYY-MM-DD and nothing else, in ASCII digits (``\d`` would take any script's)
_PLAIN_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _plain_iso_days(distinct: np.ndarray) -> np.ndarray | None:
    """The days of distinct values that are all text ``YYYY-MM-DD`` naming real days (what
    most date columns hold), or None when any is not: then every rule of :func:`read_dates`
    is needed. Such a column is read by them to exactly these days with no bad cell, so its
    dozen steps on the distinct values (each a pandas call) are skipped."""
    match = _PLAIN_ISO_DAY.fullmatch
    if not all(type(v) is str and match(v) is not None for v in distinct):
        return None
    days = pd.to_datetime(distinct, format="%Y-%m-%d", errors="coerce").to_numpy(dtype=UNIT)
    return None if np.isnat(days).any() else days


def read_dates(
    values: pd.Series,
    *,
    column: object = None,
    dayfirst: bool = True,
    excel: bool = False,
    date_format: str | None = None,
) -> ParsedDates:
    """Read one column of dates by the project's rules (module docstring); never raises for a
    bad cell, which is reported in ``issues`` instead.

    ``date_format`` (a ``strftime`` pattern) reads text with that one format only.

    Example:
        >>> import pandas as pd
        >>> s = pd.Series(["2025-01-05", "05/01/2025", "31/02/2025", None], index=[1, 2, 3, 4])
        >>> got = read_dates(s, column="date")
        >>> got.values.dt.strftime("%d %b %Y").tolist()
        ['05 Jan 2025', nan, nan, nan]
        >>> got.issues[["row", "value"]].to_dict("records")
        [{'row': 2, 'value': '05/01/2025'}, {'row': 3, 'value': '31/02/2025'}]
        >>> read_dates(pd.Series(["05/01/2025"]), dayfirst=False).values.dt.month.tolist()
        [5]
    """
    if not isinstance(dayfirst, bool):
        raise TypeError(f"dayfirst must be True or False, not {dayfirst!r}")
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    name = s.name if column is None else column
    n = len(s)

    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return ParsedDates(_to_local(s.dt.tz_convert("UTC")).astype(UNIT), cells.empty())
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return ParsedDates(s, cells.empty())

    raw = s
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts): rare, so a per-row pass is fine here
        s = s.map(lambda v: _Unhashable(v) if isinstance(v, (list, dict, set)) else v)
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if date_format is None and len(distinct):
        plain = _plain_iso_days(distinct)
        if plain is not None:
            result = np.full(n, np.datetime64("NaT"), dtype=UNIT)
            has = codes >= 0
            result[has] = plain[codes[has]]
            return ParsedDates(pd.Series(result, index=s.index, name=s.name), cells.empty())
    u = pd.Series(distinct)
    m = len(u)
    out = np.full(m, np.datetime64("NaT"), dtype=UNIT)
    reason = np.full(m, None, dtype=object)
    family = np.full(m, None, dtype=object)
    blank = np.zeros(m, bool)
    aware = np.zeros(m, bool)

    kinds = _kinds(u)
    is_date = kinds == "date"
    if is_date.any():
        objs = u[is_date]
        tz = np.array([_is_aware(v) for v in objs], dtype=bool)
        aware[np.flatnonzero(is_date)[tz]] = True
        naive_part = pd.to_datetime(objs[~tz].astype(object), errors="coerce")
        out[np.flatnonzero(is_date)[~tz]] = np.asarray(naive_part, dtype=UNIT)
        if tz.any():
            local = _to_local(pd.to_datetime(objs[tz], utc=True))
            out[np.flatnonzero(is_date)[tz]] = local.to_numpy(dtype=UNIT)

    txt = u.where(kinds == "text").astype("string").str.strip()
    txt_values = txt.to_numpy(dtype=object, na_value=None)
    blank |= np.fromiter((v == "" for v in txt_values), dtype=bool, count=m)
    number_text = _matching(txt_values, _NUMBER)
    is_number = (kinds == "number") | number_text
    if is_number.any():
        nums = pd.to_numeric(u.where(kinds == "number", txt), errors="coerce")
        nums = nums.to_numpy(dtype=float, na_value=np.nan)[is_number]
        idx = np.flatnonzero(is_number)
        if excel:
            got, outside = _serials(nums)
            out[idx] = got
            reason[idx[outside]] = (
                f"an Excel serial date outside {EXCEL_FIRST}..{EXCEL_LAST} (1 Mar 1900 - 9999)"
            )
        else:
            reason[idx] = (
                "a number, not a date (Excel serial dates are read only from Excel files: "
                "outcomes.io.read_table converts them)"
            )

    text = (kinds == "text") & ~blank & ~number_text
    if date_format is not None and text.any():
        got = pd.to_datetime(txt.where(text), format=date_format, errors="coerce")
        out[text] = got.to_numpy(dtype=UNIT)[text]
        family[text] = "given"
        reason[text & got.isna().to_numpy()] = f"not a date in the format {date_format!r}"
    elif text.any():
        candidates = np.where(text, txt_values, None)
        iso = text & _matching(candidates, _ISO)
        numeric = text & _matching(candidates, _NUMERIC)
        named = text & _matching(candidates, _NAMED)
        if iso.any():
            zoned = iso & _matching(np.where(iso, txt_values, None), _HAS_ZONE, search=True)
            aware |= zoned
            plain = iso & ~zoned
            if plain.any():
                got = pd.to_datetime(txt.where(plain), format="ISO8601", errors="coerce")
                out[plain] = got.to_numpy(dtype=UNIT)[plain]
            if zoned.any():
                got = pd.to_datetime(txt.where(zoned), format="ISO8601", errors="coerce", utc=True)
                out[zoned] = _to_local(got).to_numpy(dtype=UNIT)[zoned]
            family[iso] = "iso"
        if numeric.any():
            got = _numeric_text(txt.where(numeric), dayfirst)
            out[numeric] = got.to_numpy(dtype=UNIT)[numeric]
            family[numeric] = "numeric"
        if named.any():
            got = _named_text(txt.where(named))
            out[named] = got.to_numpy(dtype=UNIT)[named]
            family[named] = "named"
        recognised = iso | numeric | named
        reason[text & ~recognised] = NOT_A_DATE
        impossible = recognised & np.isnat(out)
        reason[impossible] = "not a date: no such day or time in the calendar"

        # a column mixing formats: the cells not in the most common format are reported
        present = set(family[recognised & ~impossible])
        if len(present) > 1:
            weight = codes[codes >= 0]
            per_unique = np.bincount(weight, minlength=m)
            totals = {f: int(per_unique[(family == f) & ~impossible].sum()) for f in present}
            order = list(FAMILIES)
            main = max(totals, key=lambda f: (totals[f], -order.index(f)))
            odd = recognised & ~impossible & (family != main)
            for f in set(family[odd]):
                reason[odd & (family == f)] = (
                    f"written as {FAMILIES[f]} but this column's other dates are "
                    f"{FAMILIES[main]}; use one date format per column"
                )
            out[odd] = np.datetime64("NaT")

    other = (kinds == "bool") | (kinds == "other")
    reason[other] = NOT_A_DATE

    if aware.any() and (~aware & ~np.isnat(out) & (reason == None)).any():  # noqa: E711
        with_zone = u[aware].head(3).tolist()
        without = u[~aware & ~np.isnat(out) & (reason == None)].head(3).tolist()  # noqa: E711
        raise DataStructureError(
            f"column {name!r} mixes dates with a time zone ({with_zone}) and without one "
            f"({without}); give every date a zone (they are converted to UK time) or none"
        )

    bad = reason != None  # noqa: E711
    out[bad] = np.datetime64("NaT")
    result = np.full(n, np.datetime64("NaT"), dtype=UNIT)
    has = codes >= 0
    result[has] = out[codes[has]]
    parsed = pd.Series(result, index=s.index, name=s.name)
    if not bad.any():
        return ParsedDates(parsed, cells.empty())
    row_bad = has.copy()
    row_bad[has] = bad[codes[has]]
    why = np.full(n, None, dtype=object)
    why[has] = reason[codes[has]]
    issues = cells.flagged(raw, row_bad, name, raw.to_numpy(dtype=object), why)
    return ParsedDates(parsed, issues)


def dates_or_raise(
    values: pd.Series,
    *,
    column: object = None,
    where: str = "",
    dayfirst: bool = True,
    excel: bool = False,
) -> pd.Series:
    """:func:`read_dates`, raising :class:`~outcomes.errors.InvalidResponsesError` (bad cells in
    ``.issues``) if any cell is not a date; ``where`` names the verb or table in the message.

    Example:
        >>> import pandas as pd
        >>> dates_or_raise(pd.Series(["05/01/2025"])).dt.day.tolist()
        [5]
        >>> dates_or_raise(pd.Series(["31/02/2025"]), column="date", where="pair_waves")
        Traceback (most recent call last):
        ...
        outcomes.errors.InvalidResponsesError: pair_waves: 1 cell(s) of column 'date' are not dates
          row 0, column 'date': '31/02/2025' - not a date: no such day or time in the calendar
    """
    got = read_dates(values, column=column, dayfirst=dayfirst, excel=excel)
    if len(got.issues):
        name = values.name if column is None else column
        head = f"{where}: " if where else ""
        raise InvalidResponsesError(
            describe_issues(
                got.issues, f"{head}{len(got.issues)} cell(s) of column {name!r} are not dates"
            ),
            got.issues,
        )
    return got.values


def to_timestamp(value: object, name: str, *, dayfirst: bool = True) -> pd.Timestamp:
    """One date given as a parameter (``period_start=``, ``as_of=``...) by the same rules, or an
    error naming the parameter.

    Example:
        >>> to_timestamp("01/04/2024", "period_start")
        Timestamp('2024-04-01 00:00:00')
        >>> to_timestamp("yesterday", "period_start")
        Traceback (most recent call last):
        ...
        outcomes.errors.OutcomesError: period_start must be a date such as '2024-04-01', not \
'yesterday' (not a date (use YYYY-MM-DD or DD/MM/YYYY))
    """
    if isinstance(value, (list, tuple, set, dict, pd.Series, pd.DataFrame, np.ndarray)):
        raise OutcomesError(f"{name} must be one date, not a {type(value).__name__}")
    if type(value) is str:
        when, why = text_date(value, dayfirst)
        if when is None:
            raise OutcomesError(
                f"{name} must be a date such as '2024-04-01', not {value!r} ({why})"
            )
        return when
    if type(value) in (_dt.date, _dt.datetime, pd.Timestamp):
        when, why = _object_date(value)
    else:
        when, why = _one_date(value, dayfirst)
    if when is None:
        raise OutcomesError(f"{name} must be a date such as '2024-04-01', not {value!r} ({why})")
    return when


def _one_date(value: object, dayfirst: bool) -> tuple[pd.Timestamp | None, str]:
    """One cell read by :func:`read_dates`: ``(timestamp, "")`` or ``(None, reason)``."""
    got = read_dates(pd.Series([value], dtype=object), column="v", dayfirst=dayfirst)
    if len(got.issues) or pd.isna(got.values.iloc[0]):
        return None, got.issues["reason"].iloc[0] if len(got.issues) else "missing"
    return pd.Timestamp(got.values.iloc[0]), ""


@functools.lru_cache(maxsize=256)
def _object_date(value: _dt.date | pd.Timestamp) -> tuple[pd.Timestamp | None, str]:
    """:func:`_one_date` of a date object (``dayfirst`` plays no part), remembered: a report
    passes the same extract and period dates to many verbs."""
    return _one_date(value, True)


@functools.lru_cache(maxsize=4096)
def text_date(text: str, dayfirst: bool = True) -> tuple[pd.Timestamp | None, str]:
    """One date given as text, read by :func:`read_dates`: ``(timestamp, "")``, or ``(None,
    reason)`` when it is not a date. Remembered: a report checks and reads the same few
    parameter dates (the period, the extract date) in every verb it calls.

    Example:
        >>> text_date("01/04/2024")
        (Timestamp('2024-04-01 00:00:00'), '')
        >>> text_date("yesterday")[0] is None
        True
    """
    got = read_dates(pd.Series([text], dtype=object), column="v", dayfirst=dayfirst)
    if len(got.issues):
        return None, str(got.issues["reason"].iloc[0])
    if pd.isna(got.values.iloc[0]):
        return None, "missing"
    return pd.Timestamp(got.values.iloc[0]), ""


def excel_dates(values: pd.Series) -> pd.Series:
    """A date column as read from an Excel sheet: numbers (Excel serial days) become datetimes;
    real dates, text and numbers outside Excel's date range are left as they are (text is read
    later, with the caller's ``dayfirst``; a stray number is then reported as a bad cell).

    Example:
        >>> import pandas as pd
        >>> excel_dates(pd.Series([45662, "05/01/2025", None], dtype=object)).tolist()
        [Timestamp('2025-01-05 00:00:00'), '05/01/2025', None]
    """
    s = values
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    if pd.api.types.is_numeric_dtype(s.dtype):
        got, outside = _serials(s.to_numpy(dtype=float, na_value=np.nan))
        if not (outside & s.notna().to_numpy()).any():
            return pd.Series(got, index=s.index, name=s.name)
        s = s.astype(object)
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:
        return s
    u = np.asarray(uniques, dtype=object)
    number = np.array(
        [
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in u
        ],
        dtype=bool,
    )
    if not number.any():
        return s
    got, outside = _serials(np.where(number, u, np.nan).astype(float))
    use = number & ~outside
    if not use.any():
        return s
    stamps = np.array([pd.Timestamp(x) for x in got[use]], dtype=object)
    u = u.copy()
    u[use] = stamps
    out = s.astype(object).copy()
    has = codes >= 0
    changed = has.copy()
    changed[has] = use[codes[has]]
    out[changed] = u[codes[changed]]
    return out


def is_date_column(name: object) -> bool:
    """Whether a column name says it holds dates (``date``, ``*_date``, ``date_*``, ``StartDate``).

    Example:
        >>> [is_date_column(c) for c in ["date", "referral_date", "Date of birth", "EndDate", "q1"]]
        [True, True, True, True, False]
        >>> is_date_column("update_count")
        False
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    words = re.split(r"[\s_\-.]+", spaced.strip().casefold())
    return "date" in words
