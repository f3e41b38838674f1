"""Vectorised validation and scoring of questionnaire responses, driven by an Instrument.

The engine is generic: it knows response sets, reverse keys, recodes, sums, means, prorating,
component scales, lookup tables, fixed values and bands. What a questionnaire needs is written
in its YAML file. Work is done a column at a time with numpy; there is no loop over rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

from .._attrs import attach
from .._internal import cells, threads
from .._internal.columns import check_frame, one_value_per_cell
from .._internal.params import (
    COLUMN_MAP,
    ERRORS,
    INSTRUMENT,
    OPTIONAL_TEXT,
    Columns,
    Options,
    validate_params,
)
from .._internal.quality import NoteTemplate, QualityRecord
from .._internal.text import did_you_mean, suggest
from ..errors import DataStructureError, InvalidResponsesError, describe_issues
from . import _slots
from .model import Instrument, Item, ResponseSet, Scale, _norm, load_instrument

# A code written as text is plain integer or decimal notation only: Python's float() would
# also read "1_0" and "1e1" as 10 and "inf"/"nan" as numbers, none of which a form produces.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
ISSUE_COLUMNS = list(cells.WITH_ITEM)
#: what ``score`` and ``validate`` read: item answers, or scale scores (``input="scales"``)
INPUT = Options(str, {"items", "scales"})
#: Key columns of the responses table (DESIGN.md); used to spot duplicate administrations.
KEY_COLUMNS = ("person_id", "instrument", "rater", "date", "wave", "referral_id")
#: dtype of the ``<scale>_n`` (items answered) columns: a count of items fits in 16 bits, and
#: with one count column per scale, int64 counts took more memory than the item answers
#: themselves (HoNOSCA: 20 scales over 15 items) and more time to write than to score
COUNT_DTYPE = np.int16
#: the same when some counts are unknown (scores supplied without items)
COUNT_NULLABLE = "Int16"


# ----------------------------------------------------------------------------- results
@dataclass
class ValidationReport:
    """What :func:`validate` found. ``issues`` has one row per problem cell."""

    instrument: str
    n_rows: int
    issues: pd.DataFrame = field(default_factory=lambda: cells.empty(item=True))

    @property
    def errors(self) -> pd.DataFrame:
        return self.issues[self.issues["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.issues[self.issues["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        """True when no cell is an error (warnings allowed)."""
        return self.errors.empty

    @property
    def rows_with_errors(self) -> int:
        return int(self.errors["row"].nunique())

    @property
    def quality(self) -> QualityRecord:
        """The problem cells as data-quality notes (one per column and reason)."""
        return _quality("validate", self.instrument, self.issues, "invalid cells")

    def to_frame(self) -> pd.DataFrame:
        return self.issues.copy()

    def summary(self) -> str:
        if self.issues.empty:
            return f"{self.n_rows} rows of {self.instrument}: no problems found."
        n_err, n_warn = len(self.errors), len(self.warnings)
        parts = [f"{self.n_rows} rows of {self.instrument}:"]
        if n_err:
            parts.append(
                f"{n_err} invalid cell(s) in {self.rows_with_errors} row(s) "
                f"(these cells would be scored as missing with errors='flag');"
            )
        if n_warn:
            parts.append(f"{n_warn} warning(s);")
        reasons = self.issues["reason"].str.split(":").str[0].value_counts()
        parts.append("most common: " + ", ".join(f"{r} ({c})" for r, c in reasons.head(3).items()))
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"ValidationReport(ok={self.ok}, {self.summary()!r})"


# ----------------------------------------------------------------------------- code maps
def _lookup(
    values: np.ndarray, keys: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Map ``values`` through ``keys -> targets``; returns (mapped, found). NaN is never found."""
    order = np.argsort(keys)
    k, t = keys[order], targets[order]
    pos = np.searchsorted(k, values)
    pos = np.clip(pos, 0, len(k) - 1)
    found = k[pos] == values
    return np.where(found, t[pos], np.nan), found


#: status codes of a cell
INVALID, ANSWERED, NO_ANSWER = 0, 1, 2


@dataclass(frozen=True)
class _CodeTable:
    """Lookup tables over a range of integer codes, plus two extra slots at the end:
    ``size`` for a blank cell and ``size + 1`` for anything unreadable or out of range.

    Gathering from small tables is the fastest vectorised way to validate, reverse, recode
    and score a column at once (one pass per table, no sorting, no per-row Python).
    """

    offset: int
    size: int
    status: np.ndarray  # int8: INVALID / ANSWERED / NO_ANSWER
    score: np.ndarray  # float64: item score where answered, 0 elsewhere (sums skip it)
    canon: np.ndarray  # float64: canonical code where answered, NaN elsewhere
    answered: np.ndarray  # bool: status == ANSWERED
    invalid: np.ndarray  # bool: status == INVALID

    def can_be_invalid(self, values: np.ndarray, span: tuple[int, int] | None = None) -> bool:
        """False when every code between the column's min and max is valid or missing, so
        no cell can be invalid and the check can be skipped (a common case: SDQ 0-2).
        ``span`` is the column's (min, max) when already known."""
        if values.dtype.kind not in "iu" or not len(values):
            return True
        vmin, vmax = span if span is not None else _span(values)
        lo, hi = vmin - self.offset, vmax - self.offset
        if lo < 0 or hi >= self.size:
            return True
        return bool(self.invalid[lo : hi + 1].any())

    @classmethod
    def build(
        cls,
        source_to_canon: Mapping[int, int],
        rset: ResponseSet,
        item: Item,
        extra_missing: Sequence[int] = (),
    ) -> _CodeTable:
        valid, missing = set(rset.valid_codes), set(rset.missing_codes)
        scores = dict(item.recode) if item.recode else {c: c for c in valid}
        if item.reverse:
            lo, hi = min(valid), max(valid)
            scores = {c: lo + hi - c for c in valid}
        lo = min(min(source_to_canon), *extra_missing) if extra_missing else min(source_to_canon)
        hi = max(max(source_to_canon), *extra_missing) if extra_missing else max(source_to_canon)
        size = hi - lo + 1
        status = np.full(size + 2, INVALID, dtype=np.int8)
        status[size] = NO_ANSWER
        score = np.zeros(size + 2)
        canon = np.full(size + 2, np.nan)
        for src, c in source_to_canon.items():
            if c in valid:
                status[src - lo], score[src - lo], canon[src - lo] = ANSWERED, scores[c], c
            elif c in missing:
                status[src - lo] = NO_ANSWER
        for src in extra_missing:
            status[src - lo] = NO_ANSWER
        return cls(lo, size, status, score, canon, status == ANSWERED, status == INVALID)

    def index(self, values: np.ndarray, span: tuple[int, int] | None = None) -> np.ndarray:
        """Positions in the tables for an integer or float array of codes (``span``: the
        array's (min, max) when already known)."""
        lo, hi = self.offset, self.offset + self.size - 1
        if values.dtype.kind in "iu":
            vmin, vmax = (span if span is not None else _span(values)) if len(values) else (0, 0)
            if len(values) and lo <= vmin and vmax <= hi:
                return values - lo if lo else values
            inside = (values >= lo) & (values <= hi)
            return np.where(inside, values - lo, self.size + 1)
        with np.errstate(invalid="ignore"):
            as_int = values.astype(np.int64)
        good = (as_int == values) & (values >= lo) & (values <= hi)
        blank = np.isnan(values)
        return np.where(good, as_int - lo, np.where(blank, self.size, self.size + 1))


def _span(values: np.ndarray) -> tuple[int, int]:
    """(min, max) of a non-empty integer array."""
    return int(values.min()), int(values.max())


@dataclass
class _Encoded:
    """One item column, decoded: which cells are answered and what they score."""

    answered: np.ndarray  # bool
    score: np.ndarray  # float64, 0 where not answered
    canon: np.ndarray | None  # canonical codes (NaN = no answer), when asked for
    bad_pos: np.ndarray  # positions of invalid cells
    bad_why: list[str]


@dataclass(frozen=True)
class _ItemCoder:
    """Turns one column of codes and/or labels into item scores for one item."""

    item: Item
    rset: ResponseSet
    labels: dict[str, float]
    source: _CodeTable  # codes as stored in the data (after an alternative coding, if chosen)
    canonical: _CodeTable  # codes of the response set itself (what labels resolve to)
    coding: str | None

    @classmethod
    def build(cls, item: Item, rset: ResponseSet, coding: str | None) -> _ItemCoder:
        identity = {c: c for c in (*rset.valid_codes, *rset.missing_codes)}
        alt = rset.alternative_codings.get(coding) if coding else None
        canonical = _CodeTable.build(identity, rset, item)
        if alt:
            mapping, extra_missing = rset.coding_map(coding)
            source = _CodeTable.build(mapping, rset, item, extra_missing)
        else:
            source = canonical
        labels = {k: float(v) for k, v in rset.label_map().items()}
        return cls(item, rset, labels, source, canonical, coding if alt else None)

    def describe_valid(self) -> str:
        if self.coding:
            mapping, extra = self.rset.coding_map(self.coding)
            codes = [_fmt(c) for c in sorted(mapping)]
            shown = f"{codes[0]}..{codes[-1]}" if len(codes) > 6 else ", ".join(codes)
            miss = f"; missing codes: {', '.join(_fmt(c) for c in extra)}" if extra else ""
            return f"valid codes in the {self.coding} coding: {shown}{miss}"
        codes = [str(o.code) for o in self.rset.options]
        shown = f"{codes[0]}..{codes[-1]}" if len(codes) > 6 else ", ".join(codes)
        miss = ", ".join(str(c) for c in self.rset.missing_codes)
        return f"valid codes: {shown}" + (f"; missing codes: {miss}" if miss else "")

    def _decode(
        self, numeric: np.ndarray, from_label: np.ndarray | None, want_canon: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(answered, score, invalid or None when no cell can be, canonical codes or None)
        for an array of numbers; each step is one gather from a small table."""
        src = self.source
        # one min/max per column serves both the range check and the invalid-cell shortcut
        span = _span(numeric) if numeric.dtype.kind in "iu" and len(numeric) else None
        idx = src.index(numeric, span)
        answered = src.answered[idx]
        score = src.score[idx]
        invalid = src.invalid[idx] if src.can_be_invalid(numeric, span) else None
        canon = src.canon[idx] if want_canon else None
        if from_label is not None and from_label.any():
            # A label names a code of the response set itself, whatever coding numbers use.
            can = self.canonical
            lab = can.index(np.where(from_label, numeric, np.nan))
            answered = np.where(from_label, can.answered[lab], answered)
            score = np.where(from_label, can.score[lab], score)
            if invalid is not None:
                invalid = np.where(from_label, can.invalid[lab], invalid)
            if want_canon:
                canon = np.where(from_label, can.canon[lab], canon)
        return answered, score, invalid, canon

    def encode(self, col: pd.Series, *, want_canon: bool = False) -> _Encoded:
        """Which cells are answered and what they score; canonical codes too when asked
        (they cost a pass)."""
        if _is_text(col):
            return self._encode_text(col, want_canon)
        numeric, _, bad_pos, bad_why = _parse_cells(col, self.labels)
        answered, score, invalid, canon = self._decode(numeric, None, want_canon)
        if len(bad_pos):
            # Unreadable cells reached the tables as blanks; they are errors, not answers.
            answered = answered.copy()
            answered[bad_pos] = False
        if invalid is not None:
            out_of_range = np.flatnonzero(invalid)
            if len(out_of_range):
                extra = np.setdiff1d(out_of_range, bad_pos, assume_unique=True)
                bad_pos = np.concatenate([bad_pos, extra])
                bad_why = bad_why + [self._out_of_range()] * len(extra)
        return _Encoded(answered, score, canon, bad_pos, bad_why)

    def _encode_text(self, col: pd.Series, want_canon: bool) -> _Encoded:
        """Text or mixed cells: decode each distinct value once, then gather per cell by its
        small integer code (labels cost about what codes cost)."""
        codes, num_u, lab_u, why_u = _factorise(col, self.labels)
        answered_u, score_u, invalid_u, canon_u = self._decode(num_u, lab_u, True)
        # unreadable values are NaN in num_u, i.e. blanks: never answered, never out of range
        unreadable_u = np.array([w is not None for w in why_u], dtype=bool)
        bad_pos = np.flatnonzero(unreadable_u[codes])
        bad_why = why_u[codes[bad_pos]].tolist()
        if invalid_u is not None and invalid_u.any():
            extra = np.flatnonzero(invalid_u[codes])
            bad_pos = np.concatenate([bad_pos, extra])
            bad_why = bad_why + [self._out_of_range()] * len(extra)
        canon = canon_u[codes] if want_canon else None
        return _Encoded(answered_u[codes], score_u[codes], canon, bad_pos, bad_why)

    def _out_of_range(self) -> str:
        return f"out of range: not a response code ({self.describe_valid()})"


def _is_text(col: pd.Series) -> bool:
    """Text, categorical or mixed cells (not numbers, not true/false)."""
    return not (pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype))


#: how far from a multiple of the step a continuous answer may be (binary floating point:
#: 0.1 + 0.2 is 0.30000000000000004, which is a valid mark of 0.3 cm)
STEP_TOLERANCE = 1e-9


def on_grid(values: np.ndarray, step: float | None, lo: float, hi: float) -> np.ndarray:
    """Whether each value lies in lo..hi (exactly: the range is the instrument's) and, when
    ``step`` is given, within :data:`STEP_TOLERANCE` of a multiple of step. NaN and
    infinities are never on the grid.

    Example:
        >>> on_grid(np.array([0.0, 6.3, 0.1 + 0.2, 10.0, 10.55, 11.0]), 0.1, 0, 10).tolist()
        [True, True, True, True, False, False]
    """
    # huge values overflow values / step: they are out of range anyway
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isfinite(values) & (values >= lo) & (values <= hi)
        if step is not None:
            k = np.round(values / step)
            ok &= np.abs(values - k * step) <= STEP_TOLERANCE
    return ok


@dataclass(frozen=True)
class _ContinuousCoder:
    """Turns one column of continuous answers (marks on a line) into item scores."""

    item: Item
    rset: ResponseSet

    def describe_valid(self) -> str:
        c = self.rset.continuous
        miss = ", ".join(_fmt(m) for m in self.rset.missing_codes)
        return f"valid: {_fmt(c.min)} to {_fmt(c.max)} in steps of {_fmt(c.step)}" + (
            f"; missing codes: {miss}" if miss else ""
        )

    def encode(self, col: pd.Series, *, want_canon: bool = False) -> _Encoded:
        labels = {k: float(v) for k, v in self.rset.label_map().items()}
        numeric, _, bad_pos, bad_why = _parse_cells(col, labels)
        c = self.rset.continuous
        no_answer = np.isnan(numeric) | np.isin(numeric, np.array(self.rset.missing_codes, float))
        good = on_grid(numeric, c.step, c.min, c.max)
        answered = good.copy()
        answered[bad_pos] = False
        # Scored as given (not snapped to the step): the mark is the measurement.
        value = c.min + c.max - numeric if self.item.reverse else numeric
        score = np.where(answered, value, 0.0)
        canon = np.where(answered, numeric, np.nan) if want_canon else None
        invalid = np.flatnonzero(~good & ~no_answer)
        extra = np.setdiff1d(invalid, bad_pos, assume_unique=True)
        if len(extra):
            bad_pos = np.concatenate([bad_pos, extra])
            bad_why = bad_why + [
                f"out of range: not a valid answer ({self.describe_valid()})"
            ] * len(extra)
        return _Encoded(answered, score, canon, bad_pos, bad_why)


def _coder(item: Item, rset: ResponseSet, coding: str | None) -> _ItemCoder | _ContinuousCoder:
    if rset.is_continuous:
        return _ContinuousCoder(item, rset)
    return _ItemCoder.build(item, rset, coding)


# a supplied score's range (and grain): the scale's, not counts
_OUT_OF_RANGE = NoteTemplate(
    "out of range: not a valid {sid} score ({lo} to {hi})", values=["lo", "hi"]
)
_OFF_GRID = NoteTemplate(
    "out of range: not a valid {sid} score ({lo} to {hi} in steps of {step})",
    values=["lo", "hi", "step"],
)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _parse_cells(
    col: pd.Series, labels: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Numbers from a column of numbers and/or labels, without a Python loop over rows.

    Text is resolved once per distinct value. Returns (numbers, came_from_label or None,
    bad positions, reasons); an unreadable cell becomes NaN and is reported.
    """
    n = len(col)
    empty_idx = np.empty(0, dtype=np.int64)
    if pd.api.types.is_bool_dtype(col.dtype):
        idx = np.flatnonzero(col.notna().to_numpy())
        why = ["wrong type: true/false, not a response"] * len(idx)
        return np.full(n, np.nan), None, idx, why
    if pd.api.types.is_numeric_dtype(col.dtype):
        if isinstance(col.dtype, np.dtype):
            return col.to_numpy(), None, empty_idx, []  # no copy for plain numpy columns
        return col.to_numpy(dtype=float, na_value=np.nan), None, empty_idx, []
    codes, num_u, lab_u, why_u = _factorise(col, labels)
    unreadable_u = np.array([w is not None for w in why_u], dtype=bool)
    bad_pos = np.flatnonzero(unreadable_u[codes])
    return num_u[codes], lab_u[codes], bad_pos, why_u[codes[bad_pos]].tolist()


_BOOL_CELL = "wrong type: true/false, not a response"


def _factorise(
    col: pd.Series, labels: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Text, categorical or mixed cells as small integer codes plus what each distinct value
    means: (codes, number, came_from_label, reason it is unreadable or None). The per-value
    arrays have one extra last slot for a blank cell, which code -1 picks.

    Each distinct value is resolved once and cells are mapped with one gather, so labels cost
    little more than codes.
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.intp)
    uniques = np.asarray(uniques, dtype=object)
    k = len(uniques)
    num_u, lab_u, why_u, unsure = _meanings(uniques, labels)
    if unsure:
        # True == 1 and False == 0 as hash keys, so one distinct value may stand for cells of
        # both types: true/false cells get a slot of their own, found by type cell by cell.
        at = np.flatnonzero(np.isin(codes, unsure))
        values = col.to_numpy(dtype=object)[at]
        is_bool = np.fromiter((isinstance(v, bool | np.bool_) for v in values), bool, len(at))
        if is_bool.any():
            codes = np.where(codes == -1, k, codes)  # blanks now name slot k explicitly
            codes[at[is_bool]] = k + 1
            num_u, lab_u = np.append(num_u, np.nan), np.append(lab_u, False)
            why_u = np.append(why_u, np.array([_BOOL_CELL], dtype=object))
    return codes, num_u, lab_u, why_u


def _meanings(
    uniques: Sequence[object], labels: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """What each distinct cell value means: (number, came_from_label, reason it is
    unreadable or None), each with one extra last slot for a blank cell; plus the positions
    of values a hash table cannot tell apart from True/False (0 and 1)."""
    k = len(uniques)
    num_u = np.full(k + 1, np.nan)
    lab_u = np.zeros(k + 1, dtype=bool)
    why_u = np.full(k + 1, None, dtype=object)
    unsure: list[int] = []
    for j, u in enumerate(uniques):
        if isinstance(u, int | float | np.integer | np.floating | bool | np.bool_):
            # True/False cells are set apart by type (see _factorise); the number is for
            # the others
            num_u[j] = float(u)
            if u in (0, 1):
                unsure.append(j)
            continue
        key = _norm(str(u))
        if key == "":
            continue  # a blank cell is no answer
        if key in labels:
            num_u[j], lab_u[j] = labels[key], True
        elif _PLAIN_NUMBER.fullmatch(key):
            num_u[j] = float(key)
        else:
            why_u[j] = "unknown label: text that is neither a response label nor a code"
    return num_u, lab_u, why_u, unsure


def _byte_codes(
    col: pd.Series, labels: Mapping[str, float], out: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The compiled path's :func:`_factorise` for Arrow-backed text: one-byte codes in
    ``out`` and what each of the 256 codes means (code 255, a null, is a blank); None when
    the column is not Arrow text or has too many distinct values."""
    uniques = _slots.arrow_text_codes(col, out)
    if uniques is None:
        return None
    k = len(uniques)
    num_k, lab_k, why_k, _ = _meanings(uniques, labels)  # text only: no True/False
    num_u = np.full(256, np.nan)
    lab_u = np.zeros(256, dtype=bool)
    why_u = np.full(256, None, dtype=object)
    num_u[:k], lab_u[:k], why_u[:k] = num_k[:k], lab_k[:k], why_k[:k]
    return num_u, lab_u, why_u


# ----------------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    frame: pd.DataFrame
    #: per coded item: decoded cells (absent optional columns: every cell a blank)
    items: dict[str, _Encoded]
    issues: pd.DataFrame
    item_columns: dict[str, str]  # item id (or supplied scale id) -> source column name
    #: input="scales": supplied scale id -> validated values (NaN = missing or invalid)
    supplied: dict[str, np.ndarray] | None = None
    #: the compiled path: one row of slots per coded item (see _slots.py)
    slots: np.ndarray | None = None


def _resolve_columns(
    data: pd.DataFrame, inst: Instrument, columns: Mapping[str, str] | None
) -> dict[str, str]:
    """Item id -> source column, checking the mapping and the frame's columns."""
    check_frame(data, what=f"scoring {inst.id}")
    if not inst.coded_items:
        raise DataStructureError(
            f"{inst.id} is defined at score level only (its items are not public): pass its "
            f"scale scores with input='scales' (scales: {[s.id for s in inst.scales]})"
        )
    item_ids = {it.id for it in inst.items}
    columns = dict(columns or {})
    unknown_src = sorted(str(s) for s in columns if s not in data.columns)
    unknown_item = sorted(str(t) for t in columns.values() if t not in item_ids)
    if unknown_src or unknown_item:
        msg = []
        if unknown_src:
            msg.append(
                f"columns= names source columns not in the data: {unknown_src}"
                f"{did_you_mean(unknown_src[0], data.columns)}"
            )
        if unknown_item:
            msg.append(
                f"columns= maps to ids that are not items of {inst.id}: {unknown_item}"
                f"{did_you_mean(unknown_item[0], sorted(item_ids))}"
            )
        raise DataStructureError("; ".join(msg))
    targets = list(columns.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise DataStructureError(f"columns= maps several source columns to the same item: {twice}")
    source_of = {t: s for s, t in columns.items()}
    out: dict[str, str] = {}
    clash: list[str] = []
    for it in inst.items:
        if it.id in source_of:
            if it.id in data.columns and source_of[it.id] != it.id:
                clash.append(it.id)
            out[it.id] = source_of[it.id]
        elif it.id in data.columns:
            out[it.id] = it.id
    if clash:
        raise DataStructureError(
            f"item(s) {clash} are both present as columns and mapped from another column by "
            "columns=; drop or rename one of them"
        )
    missing = [it.id for it in inst.items if it.required and it.id not in out]
    if missing:
        raise DataStructureError(
            f"{len(missing)} required item column(s) of {inst.id} are missing: {missing}. "
            f"Columns present: {[str(c) for c in data.columns]}. "
            "Use columns={'your_column': 'item_id'} to map differently named columns."
        )
    one_value_per_cell(data, list(out.values()), what=f"scoring {inst.id}")
    return out


def _prepare_scales(
    data: pd.DataFrame, inst: Instrument, columns: Mapping[str, str] | None
) -> _Prepared:
    """Score-level input: validate each supplied scale against its range and granularity."""
    check_frame(data, what=f"scoring {inst.id}")
    suppliable = {sc.id: sc for sc in inst.suppliable_scales()}
    derived = [sc.id for sc in inst.scales if sc.id not in suppliable]
    columns = dict(columns or {})
    bad_src = sorted(str(c) for c in columns if c not in data.columns)
    bad_target = sorted(str(t) for t in columns.values() if t not in suppliable)
    if bad_src or bad_target:
        raise DataStructureError(
            "; ".join(
                (
                    [
                        f"columns= names source columns not in the data: {bad_src}"
                        f"{did_you_mean(bad_src[0], data.columns)}"
                    ]
                    if bad_src
                    else []
                )
                + (
                    [
                        f"columns= maps to ids that are not suppliable scales of {inst.id}: "
                        f"{bad_target} (suppliable: {sorted(suppliable)})"
                    ]
                    if bad_target
                    else []
                )
            )
        )
    source_of = {t: src for src, t in columns.items()}
    present = {
        sid: source_of.get(sid, sid)
        for sid in suppliable
        if sid in source_of or sid in data.columns
    }
    given_derived = sorted(d for d in derived if d in data.columns)
    if given_derived:
        raise DataStructureError(
            f"{given_derived} of {inst.id} are computed from other scales and cannot be "
            f"supplied; supply {sorted(suppliable)} and they are derived"
        )
    if not present:
        hint = "".join(
            f" Column {str(c)!r}{did_you_mean(c, suppliable)}"
            for c in data.columns
            if suggest(c, suppliable)
        )
        raise DataStructureError(
            f"input='scales' needs at least one scale column of {inst.id}; suppliable scales: "
            f"{sorted(suppliable)}. Columns present: {[str(c) for c in data.columns]}.{hint}"
        )
    one_value_per_cell(data, list(present.values()), what=f"scoring {inst.id}")
    labels = data.index.to_numpy()
    supplied: dict[str, np.ndarray] = {}
    parts: list[pd.DataFrame] = []
    for sid, src in present.items():
        lo, hi = inst.scale_range(sid)
        step = inst.scale_step(sid)
        col = data[src]
        numeric, _, bad_pos, bad_why = _parse_cells(col, {})
        good = on_grid(numeric, step, lo, hi)
        invalid = np.flatnonzero(~good & ~np.isnan(numeric))
        extra = np.setdiff1d(invalid, bad_pos, assume_unique=True)
        why = (
            _OFF_GRID(sid=sid, lo=_fmt(lo), hi=_fmt(hi), step=_fmt(step))
            if step
            else _OUT_OF_RANGE(sid=sid, lo=_fmt(lo), hi=_fmt(hi))
        )
        bad_pos = np.concatenate([bad_pos, extra]).astype(np.int64)
        bad_why = bad_why + [why] * len(extra)
        supplied[sid] = np.where(good, numeric, np.nan)
        if len(bad_pos):
            parts.append(_bad_item_cells(labels, src, col, bad_pos, bad_why, sid))
    parts.append(_duplicate_administrations(data))
    return _Prepared(data, {}, _concat_issues(parts), present, supplied)


def _prepare(
    data: pd.DataFrame,
    inst: Instrument,
    columns: Mapping[str, str] | None,
    coding: str | None,
    *,
    want_codes: bool = False,
) -> _Prepared:
    item_columns = _resolve_columns(data, inst, columns)
    inst.check_coding(coding)
    fast = _prepare_slots(data, inst, item_columns, coding)
    if fast is not None:
        return fast
    n = len(data)
    labels = data.index.to_numpy()
    # Canonical codes cost a pass per item, so only items that gate a scale get them.
    gates = {fv.when.item for sc in inst.scales for fv in sc.fixed_values}
    coders = _item_coders(inst, coding)
    encoded: dict[str, _Encoded] = {}
    issue_parts: list[pd.DataFrame] = []
    for it in inst.coded_items:
        if it.id not in item_columns:
            empty = np.empty(0, dtype=np.int64)
            encoded[it.id] = _Encoded(np.zeros(n, bool), np.zeros(n), np.full(n, np.nan), empty, [])
            continue
        src = item_columns[it.id]
        coder = coders[it.id]
        col = data[src]
        enc = coder.encode(col, want_canon=want_codes or it.id in gates)
        encoded[it.id] = enc
        if len(enc.bad_pos):
            issue_parts.append(_bad_item_cells(labels, src, col, enc.bad_pos, enc.bad_why, it.id))
    issue_parts.append(_duplicate_administrations(data))
    issues = _concat_issues(issue_parts)
    return _Prepared(data, encoded, issues, item_columns)


#: which path scores coded items: "auto" takes the compiled slot path where it applies and
#: the frame has at least _KERNEL_MIN_ROWS rows, else numpy; "numpy" always numpy (the
#: reference); "kernel" the slot path whatever the size (tests compare the two)
_engine = "auto"
#: below this many rows numpy costs about what the kernel does, and a small job should not
#: wait for numba to import (about 0.4 s, once per process)
_KERNEL_MIN_ROWS = 20_000


def _use_kernel(n_rows: int) -> bool:
    if _engine == "numpy" or (_engine == "auto" and n_rows < _KERNEL_MIN_ROWS):
        return False
    return _slots.kernel() is not None


#: coders built for an instrument, by (id of the instrument, coding, which path), with the
#: instrument itself so that an id reused by a later object is never mistaken for it
#: (instruments and coders are immutable)
_CODERS: dict[tuple[int, str | None, str], tuple[Instrument, dict | None]] = {}


def _cached_coders(inst: Instrument, coding: str | None, path: str, build) -> dict | None:
    key = (id(inst), coding, path)
    hit = _CODERS.get(key)
    if hit is not None and hit[0] is inst:
        return hit[1]
    if len(_CODERS) > 64:
        _CODERS.clear()
    _CODERS[key] = (inst, build(inst, coding))
    return _CODERS[key][1]


def _item_coders(inst: Instrument, coding: str | None) -> dict[str, _ItemCoder | _ContinuousCoder]:
    """Per coded item its coder for the numpy path, built once per instrument and coding (a
    report scores the same instruments many times)."""
    return _cached_coders(
        inst,
        coding,
        "numpy",
        lambda i, c: {
            it.id: _coder(it, i.response_sets[it.response_set], c) for it in i.coded_items
        },
    )


def _slot_coders(
    inst: Instrument, coding: str | None
) -> dict[str, tuple[_ItemCoder, _slots.PackedItem]] | None:
    """Per coded item its coder and packed tables, or None when the slot path cannot score
    this instrument (continuous answers, codes that are not small integers)."""
    return _cached_coders(inst, coding, "slots", _build_slot_coders)


def _build_slot_coders(
    inst: Instrument, coding: str | None
) -> dict[str, tuple[_ItemCoder, _slots.PackedItem]] | None:
    out = {}
    for it in inst.coded_items:
        rset = inst.response_sets[it.response_set]
        codes = (*rset.valid_codes, *rset.missing_codes)
        if rset.is_continuous or not all(float(c).is_integer() for c in codes):
            return None
        coder = _ItemCoder.build(it, rset, coding)
        packed = _slots.pack_item(coder.source, coder.canonical, coder.coding is not None)
        if packed is None:
            return None
        out[it.id] = (coder, packed)
    return out


_NONE = np.empty(0, dtype=np.int64)


def _prepare_slots(
    data: pd.DataFrame, inst: Instrument, item_columns: dict[str, str], coding: str | None
) -> _Prepared | None:
    """The compiled path of :func:`_prepare`: each item column becomes one byte per cell
    (its slot in the packed tables), validated in the same pass; scales come later from the
    slot matrix in one kernel call. None when the path does not apply."""
    if not _use_kernel(len(data)):
        return None
    coders = _slot_coders(inst, coding)
    if coders is None:
        return None
    n = len(data)
    labels = data.index.to_numpy()
    slots = np.empty((len(coders), n), dtype=np.uint8)
    items: dict[str, _slots.SlotEncoded] = {}
    todo = []
    for row, (item_id, (coder, packed)) in enumerate(coders.items()):
        out = slots[row]
        src = item_columns.get(item_id)
        if src is None:  # an optional item not collected: every cell a blank
            out.fill(packed.size)
            items[item_id] = _slots.SlotEncoded(out, packed, np.empty(0, np.int64), [])
        else:
            # columns taken here, not in the threads: pandas is not promised thread-safe
            todo.append((item_id, src, data[src], coder, packed, out))

    def encode(task):
        return _encode_slots(*task[2:])

    # columns are encoded side by side: the compiled encoders release the GIL
    done = threads.map_in_order(encode, todo, threads.count(n))
    issue_parts: list[pd.DataFrame] = []
    for (item_id, src, col, _, packed, out), (bad_pos, bad_why) in zip(todo, done, strict=True):
        items[item_id] = _slots.SlotEncoded(out, packed, bad_pos, bad_why)
        if len(bad_pos):
            issue_parts.append(_bad_item_cells(labels, src, col, bad_pos, bad_why, item_id))
    items = {item_id: items[item_id] for item_id in coders}  # the slot matrix's row order
    issue_parts.append(_duplicate_administrations(data))
    prep = _Prepared(data, items, _concat_issues(issue_parts), item_columns)
    prep.slots = slots
    return prep


def _encode_slots(
    col: pd.Series, coder: _ItemCoder, packed: _slots.PackedItem, out: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """One item column's slots written to ``out``; returns the bad cells' positions and
    reasons (unreadable text, then out-of-range values)."""
    if _is_text(col):
        direct = _arrow_slots(col, coder, packed, out)
        if direct is not None:
            return direct
        meant = _byte_codes(col, coder.labels, out)
        if meant is not None:
            codes, (num_u, lab_u, why_u) = out, meant
        else:
            codes, num_u, lab_u, why_u = _factorise(col, coder.labels)
        slot_u = _slots.text_slots(packed, coder.source, coder.canonical, num_u, lab_u)
        unreadable_u = np.array([w is not None for w in why_u], dtype=bool)
        # passes over the cells only when some distinct value is unreadable or invalid
        bad_pos = np.flatnonzero(unreadable_u[codes]) if unreadable_u.any() else _NONE
        bad_why = why_u[codes[bad_pos]].tolist()
        invalid_u = packed.invalid[slot_u].astype(bool)
        if invalid_u.any():
            extra = np.flatnonzero(invalid_u[codes])
            bad_pos = np.concatenate([bad_pos, extra])
            bad_why = bad_why + [coder._out_of_range()] * len(extra)
        if codes is out:
            _slots.remap(slot_u, out)
        else:
            _slots.gather(slot_u, codes, out)
        return bad_pos, bad_why
    numeric, _, bad_pos, bad_why = _parse_cells(col, coder.labels)
    if _slots.encode_numbers(packed, numeric, out):
        extra = np.flatnonzero(packed.invalid[out])
        extra = np.setdiff1d(extra, bad_pos, assume_unique=True)
        bad_pos = np.concatenate([bad_pos, extra])
        bad_why = bad_why + [coder._out_of_range()] * len(extra)
    return bad_pos, bad_why


def _value_slot(text: str, coder: _ItemCoder, packed: _slots.PackedItem) -> tuple[int, str | None]:
    """A text value's slot and the reason it is unreadable (None when readable), decided
    as the distinct values of :func:`_encode_slots`' other paths are."""
    num, lab, why, _ = _meanings([text], coder.labels)
    slot = _slots.text_slots(packed, coder.source, coder.canonical, num[:1], lab[:1])[0]
    return int(slot), why[0]


def _text_seed(coder: _ItemCoder, packed: _slots.PackedItem) -> _slots.TextDictionary:
    """The item's labels as written in the instrument (and the empty text), each held at
    its own slot: a column of them is then read straight into slots."""
    held = packed.memo.get("text_seed")
    if held is not None:
        return held
    rs = coder.rset
    texts = dict.fromkeys([*(o.label for o in (*rs.options, *rs.missing)), ""])
    seed = _slots.TextDictionary(wide=any(len(t.encode()) > 16 for t in texts))
    for text in texts:
        slot, why = _value_slot(text, coder, packed)
        # a slot past the dictionary's positions (an alternative coding filling all 256
        # slots) cannot be held: such a label is resolved as an odd value is
        free = slot < _slots.TEXT_VALUES and not seed.used[slot]
        if why is None and free and not packed.invalid[slot]:
            seed.add(text.encode(), slot)
    packed.memo["text_seed"] = seed
    return seed


def _arrow_slots(
    col: pd.Series, coder: _ItemCoder, packed: _slots.PackedItem, out: np.ndarray
) -> tuple[np.ndarray, list[str]] | None:
    """:func:`_encode_slots` for Arrow-backed text read straight into slots (one pass: the
    labels are known before the column is read). A value found in the column that is not a
    label as written (another spelling, a code as text, unreadable text) is held at a spare
    position above the item's slots, which names it in ``out`` until the bad cells are
    listed; then positions become slots (one pass, only when such values were found).
    None when the column is not Arrow text or has more such values than spare positions
    (the caller then takes the other path)."""
    values = _text_seed(coder, packed).copy()
    spare = iter(range(packed.slots_used, _slots.TEXT_VALUES))
    slot_of = np.arange(_slots.SLOTS, dtype=np.uint8)  # position -> slot
    bad: dict[int, str | None] = {}  # position of a bad value -> reason it is unreadable

    def resolve(text: str) -> bool:
        slot, why = _value_slot(text, coder, packed)
        good = why is None and not packed.invalid[slot]
        own = good and slot < _slots.TEXT_VALUES and not values.used[slot]
        at = slot if own else next(spare, None)
        if at is None:
            return False
        values.add(text.encode(), at)
        slot_of[at] = slot
        if not good:
            bad[at] = why
        return True

    if not _slots.arrow_text_codes_into(col, out, packed.size, values, resolve):
        return None
    bad_pos, bad_why = _NONE, []
    if bad:
        unreadable = np.zeros(_slots.SLOTS, dtype=bool)
        invalid = np.zeros(_slots.SLOTS, dtype=bool)
        why_of = np.full(_slots.SLOTS, None, dtype=object)
        for at, why in bad.items():
            why_of[at], unreadable[at] = why, why is not None
            invalid[at] = bool(packed.invalid[slot_of[at]])
        # as the other paths list them: unreadable cells in row order, then out-of-range ones
        if unreadable.any():
            bad_pos = np.flatnonzero(unreadable[out])
            bad_why = why_of[out[bad_pos]].tolist()
        if invalid.any():
            extra = np.flatnonzero(invalid[out])
            bad_pos = np.concatenate([bad_pos, extra])
            bad_why = bad_why + [coder._out_of_range()] * len(extra)
    if (slot_of != np.arange(_slots.SLOTS)).any():
        _slots.remap(slot_of, out)
    return bad_pos, bad_why


def _bad_item_cells(
    labels: np.ndarray, src: object, col: pd.Series, pos: np.ndarray, why: list[str], item: str
) -> pd.DataFrame:
    """The issues table of item ``item``'s cells at positions ``pos`` of its column ``src``,
    by row label."""
    return cells.bad_cells(labels[pos].tolist(), str(src), _values_at(col, pos), why, item=item)


def _values_at(col: pd.Series, pos: np.ndarray) -> np.ndarray:
    """The cells at positions ``pos`` as Python objects, for the issues table: only those
    cells are converted (converting a whole column of a million strings took 70 ms, for a
    column with a few bad cells)."""
    return col.iloc[pos].to_numpy(dtype=object)


def _duplicate_administrations(data: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in KEY_COLUMNS if k in data.columns]
    if "person_id" not in keys or len(keys) < 2:
        return cells.empty(item=True)
    # the key columns taken first: duplicated(subset=) walks every column of the frame
    dup = data[keys].duplicated(keep=False).to_numpy()
    if not dup.any():  # as flagged() answers, before the ids are taken as objects
        return cells.empty(item=True)
    return cells.flagged(
        data,
        dup,
        ",".join(keys),
        data["person_id"].to_numpy(dtype=object),
        "duplicate administration: another row has the same "
        + ", ".join(keys)
        + " (scored, but pairing will refuse it)",
        "warning",
        item=None,
    )


def _concat_issues(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    return cells.combine(parts, item=True)


# ----------------------------------------------------------------------------- scoring
def _round(x: np.ndarray, rule: str, decimals: int) -> np.ndarray:
    if rule == "none":
        return x
    f = 10.0**decimals
    if rule == "half_even":
        return np.round(x, decimals)
    # Half away from zero, as SPSS RND and R floor(0.5 + x) for the non-negative scores here.
    # The tiny epsilon absorbs binary representation error (e.g. 2.675 stored as 2.67499...).
    if not (x < 0).any():
        return np.floor(x * f + (0.5 + 1e-9)) / f
    return np.sign(x) * np.floor(np.abs(x) * f + (0.5 + 1e-9)) / f


def _round_scale(x: np.ndarray, sc: Scale) -> np.ndarray:
    return _round(x, sc.rounding.rule, sc.rounding.decimals)


def _score_scale(
    sc: Scale,
    prep: _Prepared,
    values: dict[str, np.ndarray],
    counts: dict[str, np.ndarray],
    prorate: bool | None,
) -> tuple[np.ndarray, np.ndarray]:
    need = sc.required_answered
    n_rows = len(prep.frame)
    if prep.supplied is not None and sc.method in ("sum", "mean", "given"):
        # Score-level input: a supplied scale as validated; one not supplied is missing.
        unknown = np.full(n_rows, np.nan)  # items answered: not known from a score
        return prep.supplied.get(sc.id, unknown.copy()), unknown
    if sc.method == "given":
        return np.full(n_rows, np.nan), np.full(n_rows, np.nan)
    if sc.method == "norm":
        return _norm_score(sc, prep, values[sc.source_scale]), counts[sc.source_scale].copy()
    if sc.method == "lookup":
        src = values[sc.source_scale]
        keys = np.array(list(sc.table), dtype=float)
        out, _ = _lookup(src, keys, np.array(list(sc.table.values()), dtype=float))
        return out, counts[sc.source_scale].copy()
    if sc.method == "sum_of_scales":
        present = np.zeros(n_rows, dtype=np.int64)
        total = np.zeros(n_rows)
        fast = _slots.kernel() if _use_kernel(n_rows) else None
        ok = np.empty(n_rows, dtype=bool)
        for s in sc.scales:
            v = values[s]
            if fast is not None and v.dtype == np.float64:
                fast.add_scale(total, present, v)
                continue
            np.isnan(v, out=ok)
            np.logical_not(ok, out=ok)
            present += ok
            np.add(total, v, out=total, where=ok)
        # Items answered add up; unknown (NaN, score-level input) stays unknown.
        n = counts[sc.scales[0]].copy()
        for s in sc.scales[1:]:
            n = np.add(n, counts[s], out=n if n.dtype == np.result_type(n, counts[s]) else None)
        total[present < need] = np.nan
        return total, n
    encoded = [prep.items[i] for i in sc.items]
    if len(encoded) == 1:  # a single-item scale is the item score itself
        answered = encoded[0].answered
        return np.where(answered, encoded[0].score, np.nan), answered.astype(COUNT_DTYPE)
    total = encoded[0].score.copy()
    answered = encoded[0].answered.astype(COUNT_DTYPE)
    for enc in encoded[1:]:
        total += enc.score  # unanswered cells score 0 in the tables
        answered += enc.answered
    ok = answered >= need
    with np.errstate(invalid="ignore", divide="ignore"):
        if sc.method == "mean":
            value = total / answered
        elif sc.prorate and prorate is not False:
            value = total * len(sc.items) / answered
        else:
            value = total
    value = _round(np.where(ok, value, np.nan), sc.rounding.rule, sc.rounding.decimals)
    return value, answered


def _key_match(col: pd.Series, want: object, aliases: Mapping[str, str]) -> np.ndarray:
    """Which cells of a key column match one norm-row key value (see NormRow)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return np.zeros(len(col), dtype=bool)
    if isinstance(want, str):
        text = col.astype("string").str.strip().str.casefold()
        text = text.replace({_norm(k): _norm(v) for k, v in aliases.items()})
        return (text == _norm(want)).fillna(False).to_numpy(dtype=bool)
    num = pd.to_numeric(col.where(~col.map(type).isin([bool, np.bool_])), errors="coerce")
    whole = np.floor(num.to_numpy(dtype=float, na_value=np.nan))
    with np.errstate(invalid="ignore"):
        return (whole >= want[0]) & (whole <= want[1])


def _norm_score(sc: Scale, prep: _Prepared, raw: np.ndarray) -> np.ndarray:
    """Standard scores from the norm row each person's key values pick. Key values outside
    the table (or missing) leave the score missing; the rows concerned are noted as warnings."""
    frame = prep.frame
    n = len(frame)
    mean, sd = np.full(n, np.nan), np.full(n, np.nan)
    absent = [k for k in sc.keys if k not in frame.columns]
    if not absent:
        for row in sc.norm_rows:
            hit = np.ones(n, dtype=bool)
            for k, want in row.key_values().items():
                hit &= _key_match(frame[k], want, sc.key_aliases.get(k, {}))
            mean = np.where(hit, row.mean, mean)
            sd = np.where(hit, row.sd, sd)
    value = sc.centre + sc.spread * (raw - mean) / sd
    lost = np.flatnonzero(~np.isnan(raw) & np.isnan(mean))
    if len(lost):
        keys = [k for k in sc.keys if k in frame.columns]
        shown = (
            frame[keys]
            .iloc[lost]
            .apply(lambda c: c.map(lambda v, k=c.name: f"{k}={v!r}"))
            .agg(", ".join, axis=1)
            .to_numpy(dtype=object)
            if keys
            else np.full(len(lost), "", dtype=object)
        )
        reason = (
            f"key column(s) {absent} absent: standard scores left missing"
            if absent
            else "no norm row for these key values: standard scores left missing"
        )
        notes = cells.bad_cells(
            frame.index.to_numpy()[lost].tolist(),
            ",".join(sc.keys),
            shown,
            reason,
            "warning",
            item=None,
        )
        # one note per row, however many standard scores share the keys
        prep.issues = _concat_issues([prep.issues, notes]).drop_duplicates(
            subset=["row", "column", "reason"], ignore_index=True
        )
    return value


def _apply_fixed_values(sc: Scale, prep: _Prepared, value: np.ndarray) -> np.ndarray:
    for fv in sc.fixed_values:
        if fv.when.item not in prep.items:  # score-level input: the gate item is not there
            continue
        hit = np.isin(prep.items[fv.when.item].canon, np.array(fv.when.codes, dtype=float))
        value = np.where(hit, fv.value, value)
    return value


def _bands(sc: Scale, value: np.ndarray) -> dict[str, pd.Categorical]:
    out: dict[str, np.ndarray] = {}
    for colname, scheme in zip(sc.band_columns(), sc.bands, strict=True):
        # Categories keep the YAML's reading order (better to worse); a value belongs to the
        # band with the largest minimum at or below it. Comparisons are False for NaN, so a
        # missing score gets code -1 (missing band) with no special case.
        order, mins = _slots.band_ranks(scheme)
        codes = None
        if _use_kernel(len(value)):
            codes = _slots.band_codes(np.ascontiguousarray(value, dtype=float), mins, order)
        if codes is None:
            remap = np.array([*order, -1], dtype=np.int8)  # rank -1 -> last entry -> -1
            rank = np.full(len(value), -1, dtype=np.int8)
            for m in mins:
                rank += value >= m
            codes = remap[rank]
        out[colname] = codes
    return _band_columns(sc, list(out.values()))


def _band_columns(sc: Scale, codes: list[np.ndarray]) -> dict[str, pd.Categorical]:
    """A scale's band columns from their category codes."""
    # codes are -1..levels-1 by construction (remap), so pandas need not check them
    return {
        colname: pd.Categorical.from_codes(
            c, dtype=_band_dtype(tuple(b.label for b in scheme.levels)), validate=False
        )
        for colname, scheme, c in zip(sc.band_columns(), sc.bands, codes, strict=True)
    }


@cache
def _band_dtype(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    """A band scheme's ordered categories, built once (checking them costs more than
    wrapping a million codes)."""
    return pd.CategoricalDtype(list(labels), ordered=True)


def _score_prepared(
    prep: _Prepared, inst: Instrument, prorate: bool | None, keep: Sequence[str] | None
) -> pd.DataFrame:
    values: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    cols: dict[str, object] = {}
    fast = _slots.KernelScores({}, {}, {})
    if prep.slots is not None:
        order = {item_id: r for r, item_id in enumerate(prep.items)}
        fast = _slots.score_item_scales(
            inst, prep.items, prep.slots, order, prorate, _round_scale, COUNT_DTYPE
        )
    for sc in inst.scales:
        if sc.id in fast.values:
            value, n = fast.values[sc.id], fast.counts[sc.id]
        else:
            value, n = _score_scale(sc, prep, values, counts, prorate)
        if sc.id not in fast.fixed:
            value = _apply_fixed_values(sc, prep, value)
        values[sc.id], counts[sc.id] = value, n
        cols[sc.id] = value
        # Items answered; unknown (<NA>) for scores supplied without items.
        cols[f"{sc.id}_n"] = (
            n.astype(COUNT_DTYPE, copy=False)
            if n.dtype.kind in "iu"
            else pd.array(n, dtype="Float64").astype(COUNT_NULLABLE)
        )
        banded = sc.band_columns()
        if banded and all(c in fast.bands for c in banded):
            cols.update(_band_columns(sc, [fast.bands[c] for c in banded]))
        else:
            cols.update(_bands(sc, value))
    data = prep.frame
    source_cols = set(prep.item_columns.values())
    if keep is None:
        keep = [c for c in data.columns if c not in source_cols]
    else:
        missing = [k for k in keep if k not in data.columns]
        if missing:
            raise DataStructureError(
                f"keep= names columns not in the data: {missing}"
                f"{did_you_mean(missing[0], data.columns)}"
            )
    clash = sorted(set(keep) & set(cols))
    if clash:
        raise DataStructureError(
            f"the data already has columns named like {inst.id} scores: {clash}; "
            "rename them or pass keep= without them"
        )
    scored = pd.DataFrame(cols, index=data.index, copy=False)
    out = pd.concat([data[list(keep)], scored], axis=1) if keep else scored
    out.attrs["instrument"] = inst.id
    return out


# ----------------------------------------------------------------------------- public API
# Responses and the instrument that reads them, as every verb that reads responses takes them
# (checked by validate_params).
RESPONSES_PARAMS = {
    "data": "dataframe",
    "instrument": INSTRUMENT,
    "columns": COLUMN_MAP,
    "coding": OPTIONAL_TEXT,
}


@validate_params(
    {
        **RESPONSES_PARAMS,
        "input": INPUT,
    }
)
def validate(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    input: Literal["items", "scales"] = "items",
) -> ValidationReport:
    """Check responses against an instrument without scoring them.

    Structural problems (missing or duplicate columns, an empty frame) raise
    :class:`~outcomes.InvalidResponsesError`; cell problems are listed in ``report.issues``
    with the row label, source column, value and reason.

    Example:
        >>> import pandas as pd, outcomes as oc
        >>> df = pd.DataFrame({f"q{i}": [2, 7] for i in range(1, 8)})
        >>> report = oc.validate(df, "swemwbs")
        >>> report.ok, len(report.issues)
        (False, 7)
    """
    inst = load_instrument(instrument)
    prep = _prepare_input(data, inst, columns, coding, input)
    return ValidationReport(inst.id, len(data), prep.issues)


@validate_params(
    {
        **RESPONSES_PARAMS,
        "errors": ERRORS,
        "prorate": ["boolean", None],
        "keep": [Columns(empty=True), None],
        "input": INPUT,
    }
)
def score(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
    prorate: bool | None = None,
    keep: Sequence[str] | None = None,
    input: Literal["items", "scales"] = "items",
) -> pd.DataFrame:
    """Score responses: one output row per input row, with the same index.

    Parameters
    ----------
    data
        One row per administration; one column per item (named by item id), numeric codes
        or response labels (case- and whitespace-insensitive). Other columns are passed
        through (see ``keep``).
    instrument
        A bundled id (``oc.list_instruments()``), a path to your own YAML, or an Instrument.
    columns
        ``{"source column": "item id"}`` for differently named columns.
    errors
        ``"raise"``: raise :class:`~outcomes.InvalidResponsesError` listing every bad cell.
        ``"flag"``: score bad cells as missing and return the issues in
        ``result.attrs["issues"]``.
    coding
        Name of an alternative code set declared in the YAML (e.g. ``"mhsds"`` for CHI-ESQ
        stored with 1 = Certainly true). Never guessed.
    prorate
        ``False`` turns prorating off for every scale (plain sum of answered items, still
        subject to the minimum answered); ``None`` follows the YAML.
    keep
        Columns of ``data`` to pass through; default all columns that are not items.
    input
        ``"items"`` (default): one column per item. ``"scales"``: scores that arrive already
        scored (NHS MHSDS holds scale scores, not items), one column per supplied scale named
        by scale id (``oc.load_instrument(id).suppliable_scales()``). Each value is checked
        against the scale's range and granularity (a sum of whole-number items takes whole
        numbers; a sum of 0.1 cm lines multiples of 0.1), bad cells behave as bad items do,
        and scales derived from the supplied ones (totals, T-scores, bands) are computed.
        Scales that were not supplied are missing, and ``<scale>_n`` is ``<NA>``.

    Returns
    -------
    DataFrame with, per scale, ``<scale>``, ``<scale>_n`` (items answered) and
    ``<scale>_band`` (and further band schemes) where bands exist.

    Example:
        >>> import pandas as pd, outcomes as oc
        >>> df = pd.DataFrame({"person_id": ["a"], **{f"q{i}": [3] for i in range(1, 8)}})
        >>> oc.score(df, "swemwbs")[["person_id", "raw", "metric"]]
          person_id   raw  metric
        0         a  21.0   19.25
    """
    inst, prep = _checked(data, instrument, columns, coding, errors, input=input)
    out = _score_prepared(prep, inst, prorate, keep)
    out.attrs["issues"] = attach(prep.issues)
    out.attrs["quality"] = _quality("score", inst.id, prep.issues)
    return out


@validate_params(
    {
        **RESPONSES_PARAMS,
        "errors": ERRORS,
        "scored": "boolean",
    }
)
def item_codes(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
    scored: bool = False,
) -> pd.DataFrame:
    """Canonical response codes per item (labels resolved, missing codes as NaN), validated
    exactly as :func:`score` validates. For item-level summaries such as % "Certainly true".

    Example:
        >>> import pandas as pd, outcomes as oc
        >>> df = pd.DataFrame({f"q{i}": ["Certainly true"] for i in range(1, 13)})
        >>> oc.item_codes(df, "chi_esq_parent").loc[0, "q1"]
        np.float64(2.0)
    """
    return item_frames(data, instrument, (scored,), columns=columns, errors=errors, coding=coding)[
        0
    ]


def item_frames(
    data: pd.DataFrame,
    instrument: str | Instrument,
    kinds: Sequence[bool],
    *,
    columns: Mapping[str, str] | None = None,
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
) -> list[pd.DataFrame]:
    """:func:`item_codes` with ``scored=`` each of ``kinds``, from one reading of the cells
    (unchecked arguments: for a caller that checked them and needs both codes and scores)."""
    inst, prep = _checked(data, instrument, columns, coding, errors, want_codes=True)
    frames = []
    for scored in kinds:
        codes = {
            i: np.where(enc.answered, enc.score if scored else enc.canon, np.nan)
            for i, enc in prep.items.items()
        }
        out = pd.DataFrame(codes, index=data.index)
        out.attrs["issues"] = attach(prep.issues)
        out.attrs["quality"] = _quality("item_codes", inst.id, prep.issues)
        frames.append(out)
    return frames


def _quality(
    verb: str, inst_id: str, issues: pd.DataFrame, error_action: str = "cells treated as missing"
) -> QualityRecord:
    """The problem cells (flagged with errors="flag") as notes: one per column and reason."""
    q = QualityRecord()
    q.add_issues(f"{verb} {inst_id}", issues, error_action=error_action, warning_action="kept")
    return q


def _checked(
    data: pd.DataFrame,
    instrument: str | Instrument,
    columns: Mapping[str, str] | None,
    coding: str | None,
    errors: str,
    *,
    want_codes: bool = False,
    input: str = "items",
) -> tuple[Instrument, _Prepared]:
    """Read and check every cell; with errors="raise", raise listing every invalid cell."""
    if errors not in ("raise", "flag"):
        raise ValueError(f"errors must be 'raise' or 'flag', not {errors!r}")
    inst = load_instrument(instrument)
    prep = _prepare_input(data, inst, columns, coding, input, want_codes=want_codes)
    if errors == "raise":  # the errors picked out only to be listed
        bad = prep.issues[prep.issues["severity"] == "error"]
        if len(bad):
            raise InvalidResponsesError(_error_message(inst.id, bad), prep.issues)
    return inst, prep


def _prepare_input(
    data: pd.DataFrame,
    inst: Instrument,
    columns: Mapping[str, str] | None,
    coding: str | None,
    input: str,
    *,
    want_codes: bool = False,
) -> _Prepared:
    if input == "scales":
        if coding is not None:
            raise ValueError(
                "coding= applies to item answers; it has no meaning with input='scales'"
            )
        return _prepare_scales(data, inst, columns)
    if input != "items":
        raise ValueError(f"input must be 'items' or 'scales', not {input!r}")
    return _prepare(data, inst, columns, coding, want_codes=want_codes)


def _error_message(inst_id: str, bad: pd.DataFrame, limit: int = 20) -> str:
    heading = (
        f"{len(bad)} invalid cell(s) in {bad['row'].nunique()} row(s) for {inst_id} "
        "(errors='flag' scores them as missing; the full list is in .issues):"
    )
    return describe_issues(bad, heading, limit)
