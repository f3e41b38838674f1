"""Turn a platform export into a responses frame: match columns to items, convert answers to the
instrument's codes, and account for every column, cell and row in a :class:`MappingReport`.

Platform readers (redcap, odk, qualtrics, spss, msforms) only read the file into a
:class:`RawExport`; everything that decides what a column or a cell means lives here, so that
every platform follows the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._internal import cells
from .._internal.file_rows import RowLayout
from ..errors import DataStructureError, InvalidResponsesError
from ..instruments.model import Instrument, Item, _norm
from ..instruments.scoring import on_grid
from ._common import answers_text, continuous_text, fmt_code

ISSUE_COLUMNS = list(cells.WITH_ITEM)
#: Key columns of a responses table (DESIGN.md), carried through whenever present.
KEY_COLUMNS = (
    "person_id",
    "pupil_id",
    "respondent_id",
    "referral_id",
    "school_id",
    "instrument",
    "rater",
    "date",
    "wave",
)


@dataclass
class RawExport:
    """A file as read by a platform reader, before any interpretation."""

    data: pd.DataFrame
    platform: str
    source: str
    #: column -> question text (Qualtrics second header row, SPSS variable label)
    texts: dict[str, str] = field(default_factory=dict)
    #: column -> {code: label} (SPSS value labels)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    #: column -> SPSS user-missing values as (lo, hi) ranges (a single value has lo == hi)
    user_missing: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    #: platform columns to carry through (record ids, timestamps)
    meta: list[str] = field(default_factory=list)
    #: per-row reason to drop (NA = keep), decided by the platform (e.g. Qualtrics previews)
    drop: pd.Series | None = None
    #: match item ids case-sensitively (Qualtrics: default tags Q1, Q2 are not our q1, q2)
    case_sensitive: bool = False
    #: REDCap forms present in the export (from <form>_complete columns), for error messages
    forms: list[str] = field(default_factory=list)
    #: what the reader noticed (legacy header, recodes)
    notes: list[str] = field(default_factory=list)
    #: column naming the form each row belongs to (REDCap ``redcap_repeat_instrument``);
    #: blank for rows outside any repeating form. See :func:`form_rows`.
    form_column: str | None = None
    #: form names that are this instrument's for certain (the prefixes asked for)
    own_forms: tuple[str, ...] = ()
    #: how the file numbers its data rows for a person (CSV lines, spreadsheet rows, ...)
    layout: RowLayout = field(default_factory=RowLayout)
    #: how a text file was read ("semicolon-separated (guessed) cp1252 (guessed)"), for errors
    read_as: str = ""


@dataclass(eq=False)  # compared by identity: it lives in .attrs (see outcomes._attrs)
class MappingReport:
    """How an export became a responses frame.

    ``columns`` has one row per matched source column (``source, item, matched_by``);
    ``unmatched`` lists source columns that are neither items nor carried-through keys;
    ``issues`` has one row per unreadable cell (``row, column, item, value, reason,
    severity``); ``dropped`` one row per dropped source row (``row, reason``). Rows are
    0-based positions among the data rows of the file (header rows not counted);
    ``layout`` turns them into the file's own line or row numbers, as the command line shows.
    """

    instrument: str
    platform: str
    source: str
    n_rows_read: int
    columns: pd.DataFrame
    unmatched: list[str]
    kept: list[str]
    items_not_found: list[str]
    issues: pd.DataFrame
    dropped: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: how the file numbers its data rows for a person; ``layout.relabel(report.issues)``
    #: gives the issues with the CSV line or spreadsheet row a person sees
    layout: RowLayout = field(default_factory=RowLayout)

    @property
    def n_rows(self) -> int:
        """Rows in the responses frame (rows read minus rows dropped)."""
        return self.n_rows_read - len(self.dropped)

    @property
    def unknown_labels(self) -> pd.DataFrame:
        """Distinct answers that match no response label: ``column, item, value, n``."""
        bad = self.issues[self.issues["reason"].str.startswith("unknown label")]
        if bad.empty:
            return pd.DataFrame(columns=["column", "item", "value", "n"])
        return (
            bad.assign(value=bad["value"].astype(str))
            .groupby(["column", "item", "value"], sort=False)
            .size()
            .rename("n")
            .reset_index()
        )

    def to_frame(self) -> pd.DataFrame:
        """The column mapping: ``source, item, matched_by``."""
        return self.columns.copy()

    def summary(self) -> str:
        parts = [
            f"Read {self.n_rows_read} row(s) of {self.instrument} from a {self.platform} export "
            f"({self.source}): {len(self.columns)} column(s) matched to items"
        ]
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} column(s) not used")
        if self.items_not_found:
            parts.append(f"optional item(s) not in the file: {', '.join(self.items_not_found)}")
        text = "; ".join(parts) + "."
        if len(self.dropped):
            reasons = self.dropped["reason"].str.split(":").str[0].value_counts()
            text += (
                f" {len(self.dropped)} row(s) dropped ("
                + ", ".join(f"{r}: {n}" for r, n in reasons.items())
                + ")"
            )
            text += f", {self.n_rows} kept."
        else:
            text += f" No rows dropped; {self.n_rows} kept."
        errors = self.issues[self.issues["severity"] == "error"]
        if len(errors):
            text += f" {len(errors)} unreadable cell(s) set to missing (see .issues)."
        return text

    def __repr__(self) -> str:
        return f"MappingReport({self.summary()!r})"


# ------------------------------------------------------------------------- column matching
_NUMBERING = re.compile(r"^(?:q(?:uestion)?\s*)?\d+[a-z]?\s*[.):\-]\s+")
#: "q3. text", "3) text", "question 3: text", "q3 - text": the number and some text after it
_NUMBERED = re.compile(r"^\s*(?:q(?:uestion)?\s*)?(\d+)\s*(?:[.):]|\s-)\s*[^\d\s]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def norm_text(s: object) -> str:
    """Question text for matching: case, spacing, curly quotes, numbering and end punctuation
    do not count."""
    t = " ".join(str(s).translate(_QUOTES).split()).casefold()
    t = _NUMBERING.sub("", t)
    return t.rstrip(" ?.:!*").strip()


def _id_keys(column: str, case_sensitive: bool) -> list[tuple[str, str]]:
    """Spellings of a column to compare with item names, with how each was derived.

    ODK Central writes group members as ``group-name``, Kobo as ``group/name``; item and
    prefix names never contain '/' or '-', so the tail after the last one is the name.
    """
    c = column.strip()
    if not case_sensitive:
        c = c.casefold()
    keys = [(c, "")]
    for sep in ("/", "-"):
        if sep in c:
            tail = c.rsplit(sep, 1)[1].strip()
            if tail:
                keys.append((tail, " in a group"))
    return keys


def _item_names(inst: Instrument, prefixes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Accepted column name -> (item id, how)."""
    out: dict[str, tuple[str, str]] = {}
    for it in inst.items:
        out[it.id] = (it.id, "item id")
        for p in prefixes:
            out[f"{p}_{it.id}"] = (it.id, f"prefixed id ({p}_)")
    return out


def _item_texts(inst: Instrument) -> dict[str, str]:
    """Normalised wording or short label -> item id, for labels unique within the instrument."""
    pairs: list[tuple[str, str]] = []
    for it in inst.items:
        if inst.licence.embed_wording and it.text:
            pairs.append((norm_text(it.text), it.id))
        pairs.append((norm_text(it.label), it.id))
    out: dict[str, str] = {}
    clash: set[str] = set()
    for key, item in pairs:
        if key in out and out[key] != item:
            clash.add(key)
        out[key] = item
    return {k: v for k, v in out.items() if k not in clash and k}


def match_columns(
    raw: RawExport,
    inst: Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    prefixes: Sequence[str] = (),
) -> pd.DataFrame:
    """Source column -> item: ``source, item, matched_by``, in instrument order.

    Order of trust: the caller's ``columns=`` map, then item names (bare, prefixed, inside a
    group), then question text or short label. Two columns claiming one item is an error.
    """
    src_cols = [str(c) for c in raw.data.columns]
    dup = sorted({c for c in src_cols if src_cols.count(c) > 1})
    if dup:
        raise DataStructureError(f"{raw.source}: duplicate column names {dup}")
    item_ids = {it.id for it in inst.items}
    claims: dict[str, list[tuple[str, str]]] = {}  # item -> [(column, how)]
    taken: set[str] = set()

    user = dict(columns or {})
    bad_src = sorted(s for s in user if s not in src_cols)
    bad_item = sorted(t for t in user.values() if t not in item_ids)
    if bad_src or bad_item:
        msg = []
        if bad_src:
            msg.append(f"columns= names source columns not in the file: {bad_src}")
        if bad_item:
            msg.append(f"columns= maps to ids that are not items of {inst.id}: {bad_item}")
        raise DataStructureError(f"{raw.source}: " + "; ".join(msg))
    for s, t in user.items():
        claims.setdefault(t, []).append((s, "columns= map"))
        taken.add(s)

    names = _item_names(inst, [p for p in dict.fromkeys((*prefixes, inst.id)) if p])
    if not raw.case_sensitive:
        names = {k.casefold(): v for k, v in names.items()}
    id_claims: dict[str, list[tuple[str, str]]] = {}
    for c in src_cols:
        if c in taken:
            continue
        for key, where in _id_keys(c, raw.case_sensitive):
            if key in names:
                item, how = names[key]
                id_claims.setdefault(item, []).append((c, how + where))
                taken.add(c)
                break
    for item, cl in id_claims.items():
        if item not in claims:
            claims[item] = cl

    texts = _item_texts(inst)
    text_claims: dict[str, list[tuple[str, str]]] = {}
    for c in src_cols:
        if c in taken:
            continue
        candidates = [(c, "column header")]
        if c in raw.texts and raw.texts[c]:
            candidates.append((raw.texts[c], "question text"))
        for text, how in candidates:
            t = norm_text(text)
            hit = texts.get(t)
            if hit is None and " - " in t:
                # Qualtrics matrix rows: "<question> - <statement>"
                hit = texts.get(t.rsplit(" - ", 1)[1].strip())
            if hit is not None:
                text_claims.setdefault(hit, []).append((c, f"{how} matches wording or label"))
                taken.add(c)
                break
    for item, cl in text_claims.items():
        if item not in claims:
            claims[item] = cl

    # Last: a header numbered like the questionnaire ("Q3. ...", "3) ...", "Q3 - ...") whose
    # text matched nothing above (a form's own wording) is item q3. Qualtrics is left out: its
    # tags number every question of the survey, consent and demographics included.
    if not raw.case_sensitive:
        num_claims: dict[str, list[tuple[str, str]]] = {}
        for c in src_cols:
            m = _NUMBERED.match(c.casefold())
            item = f"q{int(m.group(1))}" if m else None
            if c in taken or item not in item_ids:
                continue
            num_claims.setdefault(item, []).append((c, "question number in the header"))
            taken.add(c)
        for item, cl in num_claims.items():
            if item not in claims:
                claims[item] = cl

    twice = {i: cl for i, cl in claims.items() if len(cl) > 1}
    if twice:
        lines = [f"  {i}: {[c for c, _ in cl]}" for i, cl in twice.items()]
        raise DataStructureError(
            f"{raw.source}: several columns match the same item of {inst.id}; keep one or map "
            "them with columns={'source column': 'item id'}:\n" + "\n".join(lines)
        )
    rows = [
        {"source": claims[it.id][0][0], "item": it.id, "matched_by": claims[it.id][0][1]}
        for it in inst.items
        if it.id in claims
    ]
    return pd.DataFrame(rows, columns=["source", "item", "matched_by"])


def _expected_names(inst: Instrument, prefixes: Sequence[str]) -> str:
    ids = [it.id for it in inst.items if it.required]
    shown = ", ".join(ids[:4]) + (", ..." if len(ids) > 4 else "")
    pre = [p for p in dict.fromkeys((*prefixes, inst.id)) if p]
    alts = " or ".join(f"{p}_{ids[0]}" for p in pre)
    return f"{shown} (or prefixed: {alts}, ...)"


def check_structure(
    raw: RawExport, inst: Instrument, mapped: pd.DataFrame, prefixes: Sequence[str]
) -> None:
    """Refuse an export with no matching column, or without a required item."""
    src_cols = [str(c) for c in raw.data.columns]
    found = f"Found {len(src_cols)} column(s): {src_cols[:30]}" + (
        " ..." if len(src_cols) > 30 else ""
    )
    forms_note = ""
    if raw.forms:
        pre = [p for p in dict.fromkeys((*prefixes, inst.id)) if p]
        if not set(pre) & set(raw.forms):
            forms_note = (
                f" This REDCap export holds form(s) {raw.forms}, not {pre[0]!r}: is it the "
                "export of another instrument?"
            )
    read_note = ""
    if raw.read_as:
        read_note = f" The file was read as {raw.read_as}; give sep= or encoding= if that is wrong."
    if mapped.empty:
        raise DataStructureError(
            f"{raw.source}: no column matches an item of {inst.id}; expected "
            f"{_expected_names(inst, prefixes)}, or question text / short labels. {found}."
            f"{forms_note}{read_note} Map columns yourself with "
            "columns={'source column': 'item id'}."
        )
    have = set(mapped["item"])
    missing = [it.id for it in inst.items if it.required and it.id not in have]
    if missing:
        raise DataStructureError(
            f"{raw.source}: {len(missing)} required item(s) of {inst.id} have no column: "
            f"{missing}. Matched: {dict(zip(mapped['source'], mapped['item'], strict=True))}. "
            f"{found}.{forms_note}"
        )


# ------------------------------------------------------------------------- answer conversion
def _in_ranges(values: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    hit = np.zeros(len(values), dtype=bool)
    for lo, hi in ranges:
        hit |= (values >= lo) & (values <= hi)
    return hit


def _resolver(
    inst: Instrument,
    item: Item,
    value_labels: Mapping[float, str] | None,
    user_missing: list[tuple[float, float]] | None,
    coding: str | None,
):
    """A function from one distinct cell value to (code, reason if unreadable, event).

    ``event`` is "blank", "user_missing" or "recoded" (for the report), else None.
    """
    rs = inst.response_sets[item.response_set]
    labels = rs.label_map()
    valid = set(rs.valid_codes)
    nocode = set(rs.missing_codes)
    alt_map, alt_missing = rs.coding_map(coding) if coding in rs.alternative_codings else (None, ())
    cont = rs.continuous
    vl = {float(k): v for k, v in (value_labels or {}).items()}
    all_codes = ", ".join(fmt_code(c) for c in (*rs.valid_codes, *rs.missing_codes))

    def resolve(u: object) -> tuple[float, str | None, str | None]:
        event = None
        if isinstance(u, int | float | np.integer | np.floating):
            num, from_label = float(u), False
            if user_missing and _in_ranges(np.array([num]), user_missing)[0]:
                lab = vl.get(num)
                target = labels.get(_norm(lab)) if lab is not None else None
                if target is not None and target in nocode:
                    return float(target), None, None
                if num in nocode and lab is None:
                    return num, None, None
                return np.nan, None, "user_missing"
            if num in vl:
                lab = vl[num]
                target = labels.get(_norm(lab))
                if target is None:
                    return (
                        np.nan,
                        (
                            f"unknown label: value label {lab!r} of code {fmt_code(num)} matches "
                            f"no response of {item.response_set!r}"
                        ),
                        None,
                    )
                if target != num:
                    event = "recoded"
                num, from_label = float(target), True
        else:
            key = _norm(u)
            if key == "":
                return np.nan, None, "blank"
            if key in labels:
                num, from_label = float(labels[key]), True
            else:
                try:
                    num, from_label = float(key), False
                except ValueError:
                    return np.nan, "unknown label: matches no response label, alias or code", None
        if alt_map is not None and not from_label:
            if num in alt_missing:
                return np.nan, None, "blank"
            if num not in alt_map:
                return (
                    np.nan,
                    (
                        f"out of range: not a code of coding {coding!r} "
                        f"({', '.join(fmt_code(c) for c in alt_map)})"
                    ),
                    None,
                )
            num = float(alt_map[num])
        if cont is not None:
            if num in nocode or on_grid(np.array([num]), cont.step, cont.min, cont.max)[0]:
                return num, None, event
            return np.nan, f"out of range: not a valid answer ({continuous_text(rs)})", None
        if num not in valid and num not in nocode:
            return np.nan, f"out of range: not a response code (codes: {all_codes})", None
        return num, None, event

    return resolve


def convert_item(
    col: pd.Series,
    inst: Instrument,
    item: Item,
    *,
    source: str,
    value_labels: Mapping[float, str] | None = None,
    user_missing: list[tuple[float, float]] | None = None,
    coding: str | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None, list[str]]:
    """Canonical codes for one coded item: (codes, blank cells, issues or None, notes).

    Labels (any case, spacing) and aliases become codes; numbers must be response codes or
    no-answer codes. SPSS value labels are trusted over the stored number (a file coded 1-3 with
    the labels "Not true".."Certainly true" becomes 0-2); SPSS user-missing values become
    missing unless they are the instrument's own no-answer codes. Distinct values are resolved
    once each; the column is then mapped in one step.
    """
    resolve = _resolver(inst, item, value_labels, user_missing, coding)
    values = col.to_numpy(dtype=object)
    present = ~pd.isna(values)
    # True == 1.0 for hashing, so true/false cells are set aside by type first; the per-cell
    # type check runs only when the column holds mixed Python objects.
    is_bool = np.zeros(len(values), dtype=bool)
    if pd.api.types.infer_dtype(values, skipna=True) in ("boolean", "mixed"):
        is_bool = np.fromiter((isinstance(v, bool | np.bool_) for v in values), bool, len(values))
    uniq = pd.unique(values[present & ~is_bool])
    resolved = [resolve(u) for u in uniq]
    idx = (
        pd.Index(uniq, dtype=object).get_indexer(values) if len(uniq) else np.full(len(values), -1)
    )
    idx = np.where(is_bool | ~present, -1, idx)
    # position -1 picks the trailing sentinel: no answer, no problem, no event
    code_arr = np.array([r[0] for r in resolved] + [np.nan], dtype=float)
    why_arr = np.array([r[1] for r in resolved] + [None], dtype=object)
    event_arr = np.array([r[2] for r in resolved] + [None], dtype=object)
    codes = code_arr[idx]
    why = why_arr[idx]
    why[is_bool] = "wrong type: true/false, not a response"
    blank = ~present | (event_arr[idx] == "blank")
    issues = None
    bad = np.flatnonzero(pd.notna(why))
    if len(bad):
        issues = cells.bad_cells(
            col.index[bad].tolist(), source, values[bad], why[bad], item=item.id
        )
    notes: list[str] = []
    counts = np.bincount(idx[idx >= 0], minlength=len(uniq))
    recoded = [(u, r[0]) for u, r in zip(uniq, resolved, strict=True) if r[2] == "recoded"]
    if recoded:
        pairs = ", ".join(f"{fmt_code(float(a))}->{fmt_code(b)}" for a, b in recoded)
        notes.append(f"{source}: codes recoded through their SPSS value labels ({pairs})")
    n_user_missing = sum(
        int(c) for c, r in zip(counts, resolved, strict=True) if r[2] == "user_missing"
    )
    if n_user_missing:
        notes.append(f"{source}: {n_user_missing} SPSS user-missing value(s) read as no answer")
    return codes, blank, issues, notes


def _blank(col: pd.Series) -> np.ndarray:
    """Empty cells: missing, or text of spaces only (resolved once per distinct value)."""
    v = col.astype(object)
    na = v.isna().to_numpy()
    uniq = pd.unique(v[~na])
    spaces = {u for u in uniq if isinstance(u, str) and not u.strip()}
    if not spaces:
        return na
    return na | v.isin(spaces).to_numpy()


def _form_key(name: object) -> str:
    # Label exports show a form's display name ("Wellbeing Survey"), raw ones its name
    # ("wellbeing_survey"): compare in one spelling.
    return str(name).strip().casefold().replace(" ", "_")


def form_rows(
    raw: RawExport, inst: Instrument, answered: np.ndarray
) -> tuple[pd.Series, str, set[str]]:
    """Rows of other forms (drop reason, else NA), a note, and the forms found by answers.

    A form named like the instrument (or a given prefix) is its form. A REDCap project may
    name the form anything ("wellbeing_survey" for SWEMWBS); when no row names the instrument's
    own form, the forms whose rows answer its items are its forms, and the report says so.
    Everything else in the form column belongs to another repeating instrument.
    """
    data = raw.data
    reasons = pd.Series(pd.NA, index=data.index, dtype=object)
    if raw.form_column is None or raw.form_column not in data:
        return reasons, "", set()
    val = data[raw.form_column].astype(object)
    keys = pd.Series(
        [_form_key(v) if pd.notna(v) else "" for v in val], index=val.index, dtype=object
    )
    named = keys != ""
    own = {_form_key(f) for f in raw.own_forms}
    note, found = "", set()
    if not (named & keys.isin(own)).any():
        found = set(keys[named & answered])
        if found:
            own = found
            shown = sorted(set(val[named & keys.isin(found)].astype(str)))
            note = (
                f"{raw.form_column}: the items of {inst.id} are in repeating form(s) {shown}, "
                f"named differently from the instrument; rows of other forms are dropped"
            )
    other = named & ~keys.isin(own)
    reasons[other] = "row of another repeating instrument: " + val[other].astype(str)
    return reasons, note, found


def assemble(
    raw: RawExport,
    inst: Instrument,
    *,
    columns: Mapping[str, str] | None = None,
    prefixes: Sequence[str] = (),
    errors: Literal["raise", "flag"] = "raise",
    coding: str | None = None,
    person_id: str | None = None,
    keep: Sequence[str] = (),
    drop_empty: bool = True,
) -> tuple[pd.DataFrame, MappingReport]:
    """Match, convert and account: the responses frame and its mapping report."""
    if errors not in ("raise", "flag"):
        raise ValueError(f"errors must be 'raise' or 'flag', not {errors!r}")
    data = raw.data
    if len(data) == 0:
        raise DataStructureError(f"{raw.source}: the export has no data rows")
    inst.check_coding(coding)
    mapped = match_columns(raw, inst, columns=columns, prefixes=prefixes)
    check_structure(raw, inst, mapped, prefixes)
    src_cols = [str(c) for c in data.columns]
    missing_keep = [k for k in (*keep, *([person_id] if person_id else [])) if k not in src_cols]
    if missing_keep:
        raise DataStructureError(
            f"{raw.source}: keep=/person_id= name columns not in the file: {missing_keep}"
        )
    item_src = set(mapped["source"])
    carried = [
        c
        for c in src_cols
        if c not in item_src and (c in raw.meta or c in KEY_COLUMNS or c in keep or c == person_id)
    ]
    unmatched = [c for c in src_cols if c not in item_src and c not in carried]

    out_names = [("person_id" if c == person_id else c) for c in carried] + list(mapped["item"])
    clash = sorted({n for n in out_names if out_names.count(n) > 1})
    if clash:
        raise DataStructureError(
            f"{raw.source}: output columns would be named twice: {clash}; rename the source "
            "columns or leave them out of keep=/person_id="
        )
    out: dict[str, pd.Series] = {}
    for c in carried:
        out["person_id" if c == person_id else c] = data[c]
    if "instrument" not in out:
        out["instrument"] = pd.Series(inst.id, index=data.index, dtype=object)
    issue_parts: list[pd.DataFrame] = []
    notes = list(raw.notes)
    blank = np.ones(len(data), dtype=bool)
    for src, item_id in zip(mapped["source"], mapped["item"], strict=True):
        it = inst.item(item_id)
        col = data[src]
        if it.type == "text":
            empty = _blank(col)
            blank &= empty
            out[item_id] = col.astype(object).where(~empty, None).astype("string")
            continue
        codes, empty, bad, n = convert_item(
            col,
            inst,
            it,
            source=src,
            value_labels=raw.value_labels.get(src),
            user_missing=raw.user_missing.get(src),
            coding=coding,
        )
        blank &= empty
        out[item_id] = pd.Series(codes, index=data.index)
        if bad is not None and len(bad):
            issue_parts.append(bad)
        notes += n
    frame = pd.DataFrame(out, index=data.index)

    reasons, form_note, found_forms = form_rows(raw, inst, ~blank)
    if form_note:
        notes.append(form_note)
        # that form's status and timestamp columns are carried like the instrument's own
        status = {f"{f}{end}" for f in found_forms for end in ("_complete", "_timestamp")}
        extra = [c for c in unmatched if c in status]
        unmatched = [c for c in unmatched if c not in status]
        carried += extra
        items = mapped["item"].tolist()
        frame = pd.concat([frame.drop(columns=items), data[extra], frame[items]], axis=1)
    if raw.drop is not None:
        reasons = reasons.fillna(raw.drop.reindex(data.index).astype(object))
    if drop_empty:
        empty = pd.Series(blank, index=data.index)
        reasons = reasons.where(~(empty & reasons.isna()), f"no answer to any item of {inst.id}")
    dropped = reasons[reasons.notna()]
    dropped_df = pd.DataFrame({"row": dropped.index, "reason": dropped.astype(str).to_numpy()})
    issues_df = cells.combine(issue_parts, item=True)
    issues_df = issues_df[~issues_df["row"].isin(dropped.index)].reset_index(drop=True)
    frame = frame.drop(index=dropped.index)

    report = MappingReport(
        instrument=inst.id,
        platform=raw.platform,
        source=raw.source,
        n_rows_read=len(data),
        columns=mapped,
        unmatched=unmatched,
        kept=carried,
        items_not_found=[it.id for it in inst.items if it.id not in set(mapped["item"])],
        issues=issues_df,
        dropped=dropped_df,
        notes=notes,
        layout=raw.layout,
    )
    if errors == "raise" and len(issues_df):
        raise InvalidResponsesError(_error_message(raw.source, inst, issues_df), issues_df)
    frame.attrs["mapping"] = report
    return frame, report


def _error_message(source: str, inst: Instrument, issues: pd.DataFrame, limit: int = 12) -> str:
    lines = [
        f"{source}: {len(issues)} cell(s) in {issues['row'].nunique()} row(s) cannot be read as "
        f"answers to {inst.id} (errors='flag' reads them as missing and lists them in the "
        "mapping report):"
    ]
    grouped = (
        issues.assign(value=issues["value"].astype(str))
        .groupby(["column", "item", "value", "reason"], sort=False)["row"]
        .agg(["size", "first"])
        .reset_index()
    )
    for r in grouped.head(limit).itertuples(index=False):
        it = inst.item(r.item)
        rs = inst.response_sets[it.response_set]
        known = answers_text(rs)
        lines.append(
            f"  column {r.column!r} (item {r.item}): {r.value!r} in {r.size} row(s), first row "
            f"{r.first!r} - {r.reason}. Accepted: {known}"
        )
    if len(grouped) > limit:
        lines.append(f"  ... and {len(grouped) - limit} more distinct value(s)")
    return "\n".join(lines)
