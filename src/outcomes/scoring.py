"""Vectorised validation and scoring of questionnaire responses, driven by an Instrument.

The engine is generic: it knows response sets, reverse keys, recodes, sums, means, prorating,
component scales, lookup tables, fixed values and bands. What a questionnaire needs is written
in its YAML file. Work is done a column at a time with numpy; there is no loop over rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .errors import DataStructureError, InvalidResponsesError, OutcomesError
from .instruments import Instrument, Item, ResponseSet, Scale, _norm, load_instrument

ISSUE_COLUMNS = ["row", "column", "item", "value", "reason", "severity"]
#: Key columns of the responses table (DESIGN.md); used to spot duplicate administrations.
KEY_COLUMNS = ("person_id", "instrument", "rater", "date", "wave", "referral_id")


# ----------------------------------------------------------------------------- results
@dataclass
class ValidationReport:
    """What :func:`validate` found. ``issues`` has one row per problem cell."""

    instrument: str
    n_rows: int
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ISSUE_COLUMNS))

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


@dataclass(frozen=True)
class _ItemCoder:
    """Precomputed arrays that turn raw cell values into canonical codes and item scores."""

    item: Item
    rset: ResponseSet
    valid: np.ndarray
    missing: np.ndarray
    labels: dict[str, float]
    alt_keys: np.ndarray | None
    alt_targets: np.ndarray | None
    score_keys: np.ndarray
    score_values: np.ndarray

    @classmethod
    def build(cls, item: Item, rset: ResponseSet, coding: str | None) -> _ItemCoder:
        valid = np.array(rset.valid_codes, dtype=float)
        if item.recode:
            score_keys = np.array(list(item.recode), dtype=float)
            score_values = np.array(list(item.recode.values()), dtype=float)
        elif item.reverse:
            score_keys = valid
            score_values = valid.min() + valid.max() - valid
        else:
            score_keys = score_values = valid
        alt = rset.alternative_codings.get(coding) if coding else None
        return cls(
            item=item,
            rset=rset,
            valid=valid,
            missing=np.array(rset.missing_codes, dtype=float),
            labels={k: float(v) for k, v in rset.label_map().items()},
            alt_keys=np.array(list(alt.map), dtype=float) if alt else None,
            alt_targets=np.array(list(alt.map.values()), dtype=float) if alt else None,
            score_keys=score_keys,
            score_values=score_values,
        )

    def describe_valid(self) -> str:
        opts = self.rset.options
        if self.alt_keys is not None:
            codes = ", ".join(_fmt(c) for c in sorted(self.alt_keys))
            return f"valid codes in this coding: {codes}"
        codes = [_fmt(o.code) for o in opts]
        shown = f"{codes[0]}..{codes[-1]}" if len(codes) > 6 else ", ".join(codes)
        miss = ", ".join(_fmt(c) for c in self.rset.missing_codes)
        return f"valid codes: {shown}" + (f"; missing codes: {miss}" if miss else "")

    def to_codes(self, col: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Canonical codes (NaN = no answer) and the positions and reasons of bad cells."""
        numeric, from_label, bad_pos, bad_why = _parse_cells(col, self.labels)
        codes = numeric.copy()
        # Alternative code sets apply to numbers only: a label is unambiguous in any coding.
        if self.alt_keys is not None:
            is_num = ~from_label & ~np.isnan(numeric)
            mapped, found = _lookup(numeric[is_num], self.alt_keys, self.alt_targets)
            sub = codes[is_num]
            sub[found] = mapped[found]
            not_found = ~found
            sub[not_found] = np.nan
            codes[is_num] = sub
            idx = np.flatnonzero(is_num)[not_found]
            bad_pos = np.concatenate([bad_pos, idx])
            bad_why += [f"out of range: not a code of this coding ({self.describe_valid()})"] * len(
                idx
            )
        present = ~np.isnan(codes)
        is_valid = np.isin(codes, self.valid)
        is_missing = np.isin(codes, self.missing)
        wrong = present & ~is_valid & ~is_missing
        if wrong.any():
            idx = np.flatnonzero(wrong)
            bad_pos = np.concatenate([bad_pos, idx])
            bad_why += [f"out of range: not a response code ({self.describe_valid()})"] * len(idx)
        codes = np.where(is_valid, codes, np.nan)
        return codes, bad_pos.astype(np.int64), bad_why

    def to_scores(self, codes: np.ndarray) -> np.ndarray:
        if self.score_keys is self.score_values:
            return codes
        scores, _ = _lookup(codes, self.score_keys, self.score_values)
        return scores


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _parse_cells(
    col: pd.Series, labels: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Numbers from a column of numbers and/or labels, without a Python loop over rows.

    Text is resolved once per distinct value. Returns (numbers, came_from_label, bad
    positions, reasons); an unreadable cell becomes NaN and is reported.
    """
    n = len(col)
    empty_idx = np.empty(0, dtype=np.int64)
    if pd.api.types.is_bool_dtype(col.dtype):
        idx = np.flatnonzero(col.notna().to_numpy())
        return (
            np.full(n, np.nan),
            np.zeros(n, bool),
            idx,
            ["wrong type: true/false, not a response"] * len(idx),
        )
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan), np.zeros(n, bool), empty_idx, []
    # Text, categorical or mixed objects: resolve each distinct value once.
    values = col.astype(object).to_numpy()
    uniq = pd.unique(col.dropna().astype(object))
    num_of: dict[object, float] = {}
    label_hit: dict[object, bool] = {}
    why_of: dict[object, str] = {}
    for u in uniq:
        if isinstance(u, bool):
            why_of[u] = "wrong type: true/false, not a response"
            continue
        if isinstance(u, int | float | np.integer | np.floating):
            num_of[u] = float(u)
            continue
        text = str(u)
        key = _norm(text)
        if key == "":
            num_of[u] = np.nan  # a blank cell is no answer
        elif key in labels:
            num_of[u], label_hit[u] = labels[key], True
        else:
            try:
                num_of[u] = float(key)
            except ValueError:
                why_of[u] = "unknown label: text that is neither a response label nor a code"
    ser = pd.Series(values, dtype=object)
    numbers = ser.map(num_of).to_numpy(dtype=float, na_value=np.nan)
    from_label = ser.map(label_hit).notna().to_numpy()
    bad = ser.map(why_of)
    bad_mask = bad.notna().to_numpy()
    bad_pos = np.flatnonzero(bad_mask)
    return numbers, from_label, bad_pos, bad[bad_mask].tolist()


# ----------------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    frame: pd.DataFrame
    codes: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    issues: pd.DataFrame
    item_columns: dict[str, str]  # item id -> source column name


def _resolve_columns(
    data: pd.DataFrame, inst: Instrument, columns: Mapping[str, str] | None
) -> dict[str, str]:
    """Item id -> source column, checking the mapping and the frame's columns."""
    if not isinstance(data, pd.DataFrame):
        raise DataStructureError(f"expected a pandas DataFrame, got {type(data).__name__}")
    dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if dup:
        raise DataStructureError(f"duplicate column names in the data: {dup}")
    if len(data) == 0:
        raise DataStructureError(f"the data has no rows: nothing to score for {inst.id}")
    item_ids = {it.id for it in inst.items}
    columns = dict(columns or {})
    unknown_src = sorted(str(s) for s in columns if s not in data.columns)
    unknown_item = sorted(str(t) for t in columns.values() if t not in item_ids)
    if unknown_src or unknown_item:
        msg = []
        if unknown_src:
            msg.append(f"columns= names source columns not in the data: {unknown_src}")
        if unknown_item:
            msg.append(f"columns= maps to ids that are not items of {inst.id}: {unknown_item}")
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
    return out


def _prepare(
    data: pd.DataFrame,
    inst: Instrument,
    columns: Mapping[str, str] | None,
    coding: str | None,
) -> _Prepared:
    item_columns = _resolve_columns(data, inst, columns)
    if coding is not None:
        available = sorted(
            {c for rs in inst.response_sets.values() for c in rs.alternative_codings}
        )
        if coding not in available:
            raise OutcomesError(
                f"{inst.id} has no alternative coding {coding!r}; available: {available or 'none'}"
            )
    n = len(data)
    labels = data.index.to_numpy()
    codes: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    issue_parts: list[pd.DataFrame] = []
    for it in inst.coded_items:
        if it.id not in item_columns:
            codes[it.id] = scores[it.id] = np.full(n, np.nan)
            continue
        src = item_columns[it.id]
        coder = _ItemCoder.build(it, inst.response_sets[it.response_set], coding)
        col = data[src]
        c, bad_pos, why = coder.to_codes(col)
        codes[it.id] = c
        scores[it.id] = coder.to_scores(c)
        if len(bad_pos):
            issue_parts.append(
                pd.DataFrame(
                    {
                        "row": labels[bad_pos],
                        "column": str(src),
                        "item": it.id,
                        "value": col.to_numpy(dtype=object)[bad_pos],
                        "reason": why,
                        "severity": "error",
                    }
                )
            )
    issue_parts.append(_duplicate_administrations(data))
    issues = _concat_issues(issue_parts)
    return _Prepared(data, codes, scores, issues, item_columns)


def _duplicate_administrations(data: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in KEY_COLUMNS if k in data.columns]
    if "person_id" not in keys or len(keys) < 2:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    dup = data.duplicated(subset=keys, keep=False).to_numpy()
    if not dup.any():
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    pos = np.flatnonzero(dup)
    return pd.DataFrame(
        {
            "row": data.index.to_numpy()[pos],
            "column": ",".join(keys),
            "item": None,
            "value": data["person_id"].to_numpy(dtype=object)[pos],
            "reason": "duplicate administration: another row has the same "
            + ", ".join(keys)
            + " (scored, but pairing will refuse it)",
            "severity": "warning",
        }
    )


def _concat_issues(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[ISSUE_COLUMNS]


# ----------------------------------------------------------------------------- scoring
def _round(x: np.ndarray, rule: str, decimals: int) -> np.ndarray:
    if rule == "none":
        return x
    f = 10.0**decimals
    if rule == "half_even":
        return np.round(x, decimals)
    # Half away from zero, as SPSS RND and R floor(0.5 + x) for the non-negative scores here.
    # The tiny epsilon absorbs binary representation error (e.g. 2.675 stored as 2.67499...).
    return np.sign(x) * np.floor(np.abs(x) * f + 0.5 + 1e-9) / f


def _score_scale(
    sc: Scale,
    prep: _Prepared,
    values: dict[str, np.ndarray],
    counts: dict[str, np.ndarray],
    prorate: bool | None,
) -> tuple[np.ndarray, np.ndarray]:
    need = sc.required_answered
    if sc.method == "lookup":
        src = values[sc.source_scale]
        keys = np.array(list(sc.table), dtype=float)
        out, _ = _lookup(src, keys, np.array(list(sc.table.values()), dtype=float))
        return out, counts[sc.source_scale].copy()
    if sc.method == "sum_of_scales":
        parts = np.column_stack([values[s] for s in sc.scales])
        answered = (~np.isnan(parts)).sum(axis=1)
        total = np.nansum(parts, axis=1)
        n = np.sum([counts[s] for s in sc.scales], axis=0)
        value = np.where(answered >= need, total, np.nan)
        return value, n
    mat = np.column_stack([prep.scores[i] for i in sc.items])
    answered = (~np.isnan(mat)).sum(axis=1)
    total = np.nansum(mat, axis=1)
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


def _apply_fixed_values(sc: Scale, prep: _Prepared, value: np.ndarray) -> np.ndarray:
    for fv in sc.fixed_values:
        hit = np.isin(prep.codes[fv.when.item], np.array(fv.when.codes, dtype=float))
        value = np.where(hit, fv.value, value)
    return value


def _bands(sc: Scale, value: np.ndarray) -> dict[str, pd.Categorical]:
    out = {}
    for colname, scheme in zip(sc.band_columns(), sc.bands, strict=True):
        levels = sorted(scheme.levels, key=lambda b: b.min)
        mins = np.array([b.min for b in levels])
        idx = np.searchsorted(mins, value, side="right") - 1
        idx = np.where(np.isnan(value), -1, idx)
        # Keep the categories in the "better to worse" reading order of the YAML file.
        yaml_order = [b.label for b in scheme.levels]
        sorted_labels = [b.label for b in levels]
        remap = np.array([yaml_order.index(lab) for lab in sorted_labels] + [-1])
        out[colname] = pd.Categorical.from_codes(remap[idx], categories=yaml_order, ordered=True)
    return out


def _score_prepared(
    prep: _Prepared, inst: Instrument, prorate: bool | None, keep: Sequence[str] | None
) -> pd.DataFrame:
    values: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    cols: dict[str, object] = {}
    for sc in inst.scales:
        value, n = _score_scale(sc, prep, values, counts, prorate)
        value = _apply_fixed_values(sc, prep, value)
        values[sc.id], counts[sc.id] = value, n
        cols[sc.id] = value
        cols[f"{sc.id}_n"] = n.astype(np.int64)
        cols.update(_bands(sc, value))
    data = prep.frame
    source_cols = set(prep.item_columns.values())
    if keep is None:
        keep = [c for c in data.columns if c not in source_cols]
    else:
        missing = [k for k in keep if k not in data.columns]
        if missing:
            raise DataStructureError(f"keep= names columns not in the data: {missing}")
    clash = sorted(set(keep) & set(cols))
    if clash:
        raise DataStructureError(
            f"the data already has columns named like {inst.id} scores: {clash}; "
            "rename them or pass keep= without them"
        )
    scored = pd.DataFrame(cols, index=data.index)
    out = pd.concat([data[list(keep)], scored], axis=1) if keep else scored
    out.attrs["instrument"] = inst.id
    return out


# ----------------------------------------------------------------------------- public API
def validate(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
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
    prep = _prepare(data, inst, columns, coding)
    return ValidationReport(inst.id, len(data), prep.issues)


def score(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
    prorate: bool | None = None,
    keep: Sequence[str] | None = None,
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

    Returns
    -------
    DataFrame with, per scale, ``<scale>``, ``<scale>_n`` (items answered) and
    ``<scale>_band`` (and further band schemes) where bands exist.

    Example:
        >>> import pandas as pd, outcomes as oc
        >>> df = pd.DataFrame({"person_id": ["a"], **{f"q{i}": [3] for i in range(1, 8)}})
        >>> oc.score(df, "swemwbs")[["person_id", "raw", "metric"]]
          person_id   raw  metric
        0         a  21.0   19.98
    """
    if errors not in ("raise", "flag"):
        raise ValueError(f"errors must be 'raise' or 'flag', not {errors!r}")
    inst = load_instrument(instrument)
    prep = _prepare(data, inst, columns, coding)
    bad = prep.issues[prep.issues["severity"] == "error"]
    if errors == "raise" and len(bad):
        raise InvalidResponsesError(_error_message(inst.id, bad), prep.issues)
    out = _score_prepared(prep, inst, prorate, keep)
    out.attrs["issues"] = prep.issues
    return out


def _error_message(inst_id: str, bad: pd.DataFrame, limit: int = 20) -> str:
    lines = [
        f"{len(bad)} invalid cell(s) in {bad['row'].nunique()} row(s) for {inst_id} "
        "(errors='flag' scores them as missing; the full list is in .issues):"
    ]
    for r in bad.head(limit).itertuples(index=False):
        lines.append(f"  row {r.row!r}, column {r.column!r}: {r.value!r} - {r.reason}")
    if len(bad) > limit:
        lines.append(f"  ... and {len(bad) - limit} more")
    return "\n".join(lines)
