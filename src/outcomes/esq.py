"""CHI Experience of Service Questionnaire (ESQ): item summaries and free-text answers.

The usual ESQ reporting (CORC) is the percentage answering "Certainly true" to each item, with
its n, per version (parent/carer, child 9-11, young person 12-18), and the free-text answers
listed without identifiers. Responses may be codes (0/1/2, 2 = Certainly true; 9 = Don't know)
or labels; they are read by the scoring engine (``outcomes.instruments.scoring.item_codes``), so labels,
aliases, "Don't know" and the MHSDS alternative coding behave exactly as in ``oc.score``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._attrs import attach
from ._internal.params import (
    BY,
    COLUMN,
    COLUMN_MAP,
    ERRORS,
    INSTRUMENT,
    OPTIONAL_TEXT,
    PROBABILITY,
    SEED,
    TEXT,
    Columns,
    validate_params,
)
from ._internal.quality import QualityRecord, quality_of, recorded, with_notes
from ._stats import wilson_ci
from .errors import DataStructureError, OutcomesError
from .instruments import scoring
from .instruments.model import Instrument, _norm, load_instrument
from .survey import _as_list, _check_frame

__all__ = ["ESQ_VERSIONS", "ESQSummary", "free_text", "item_summary"]

#: The bundled ESQ versions, in reporting order.
ESQ_VERSIONS = ("chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18")

SUMMARY_COLUMNS = [
    "version",
    "item",
    "label",
    "n",
    "certainly_true",
    "prop_certainly_true",
    "ci_low",
    "ci_high",
    "dont_know",
    "not_answered",
    "note",
]

_WHO = {
    "chi_esq_parent": "parents and carers",
    "chi_esq_9_11": "children aged 9-11",
    "chi_esq_12_18": "young people aged 12-18",
}

# Contact details are removed from free text; names cannot be found reliably by a pattern
# and must be checked by a person before anything is published.
_REDACTIONS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email removed]"),
    (re.compile(r"(https?://|www\.)\S+", re.IGNORECASE), "[link removed]"),
    (re.compile(r"(?<!\w)(\+44\s?|0)(\d[\s-]?){9,10}(?!\w)"), "[phone number removed]"),
]


def _redact(text: pd.Series) -> pd.Series:
    """The text with contact details replaced by their markers (missing stays missing)."""
    # Each substitution needs a fixed piece somewhere in the text (an e-mail an @, a link
    # :// or www., a phone number a 0 or +44; the markers hold none of them): vectorised
    # substring tests rule most comments out, and only the rest pay for the three patterns.
    maybe = text.str.contains("www.", case=False, regex=False)
    for piece in ("@", "://", "0", "+44"):
        maybe |= text.str.contains(piece, regex=False)
    rows = np.flatnonzero(maybe.fillna(False).to_numpy(dtype=bool))
    if not len(rows):
        return text
    t = text.iloc[rows]
    for pattern, marker in _REDACTIONS:
        t = t.str.replace(pattern, marker, regex=True)
    out = text.copy()
    out.iloc[rows] = t.to_numpy()
    return out


def _versions(
    data: pd.DataFrame, instrument: str | Instrument | None, version: str
) -> list[tuple[Instrument, np.ndarray]]:
    """(instrument, row positions) for each ESQ version in the data."""
    if instrument is not None:
        return [(load_instrument(instrument), np.arange(len(data)))]
    if version not in data.columns:
        raise DataStructureError(
            f"no {version!r} column saying which ESQ version each row is; add one "
            f"(values such as {list(ESQ_VERSIONS)}) or pass instrument="
        )
    col = data[version]
    blank = col.isna().to_numpy()
    if blank.any():
        rows = list(data.index[blank][:5])
        raise DataStructureError(
            f"column {version!r} is empty in row(s) {rows}: which ESQ version?"
        )
    out = []
    values = pd.Series(col.unique()).tolist()
    order = {v: i for i, v in enumerate(ESQ_VERSIONS)}
    for v in sorted(values, key=lambda v: (order.get(v, len(order)), str(v))):
        try:
            inst = load_instrument(str(v))
        except OutcomesError as exc:
            raise OutcomesError(
                f"column {version!r}: {v!r} is not a known instrument ({exc})"
            ) from None
        out.append((inst, np.flatnonzero((col == v).to_numpy())))
    return out


def _top_code(inst: Instrument, item: str, top_label: str) -> float:
    rset = inst.response_sets[inst.item(item).response_set]
    code = rset.label_map().get(_norm(top_label))
    if code is None or code in rset.missing_codes:
        labels = [o.label for o in rset.options]
        raise OutcomesError(
            f"{inst.id} item {item}: no answer labelled {top_label!r} (answers: {labels})"
        )
    return float(code)


def _blank(values: pd.Series) -> np.ndarray:
    """True where a cell holds nothing: missing, or text that is only spaces."""
    miss = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return miss
    text = values.astype("string").str.strip().fillna("")
    return miss | (text == "").to_numpy()


@dataclass
class ESQSummary:
    """Per version and item: n answering, how many said ``Certainly true``, the proportion with
    a Wilson CI, "Don't know" and blank counts (see ``SUMMARY_COLUMNS``)."""

    table: pd.DataFrame
    by: list[str]
    confidence: float = 0.95
    quality: QualityRecord = field(default_factory=QualityRecord)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        parts = []
        keys = [*self.by, "version"]
        for key, t in self.table.groupby(keys, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            ok = t[t["n"] > 0]
            prefix = ", ".join(f"{b} {k}" for b, k in zip(self.by, key, strict=False))
            prefix = f"{prefix}: " if prefix else ""
            who = _WHO.get(key[-1], "respondents")
            if ok.empty:
                parts.append(f"{prefix}{key[-1]}: no answers.")
                continue
            hi = ok.loc[ok["prop_certainly_true"].idxmax()]
            lo = ok.loc[ok["prop_certainly_true"].idxmin()]
            parts.append(
                f"{prefix}Among {who} ({key[-1]}, up to {int(ok['n'].max())} answering), between "
                f"{lo['prop_certainly_true']:.0%} ({lo['label']}, n = {int(lo['n'])}) and "
                f"{hi['prop_certainly_true']:.0%} ({hi['label']}, n = {int(hi['n'])}) answered "
                f"'Certainly true'; across items the median was "
                f"{ok['prop_certainly_true'].median():.0%}."
            )
        return with_notes(" ".join(parts), self.quality)

    @validate_params(
        {
            "ax": ["ax", None],
        }
    )
    def plot(self, ax=None):
        """Proportion 'Certainly true' per item with its CI, one colour per version."""
        import matplotlib.pyplot as plt

        if self.by:
            raise OutcomesError("plot() draws one group; filter the table or call without by=")
        t = self.table
        items = list(dict.fromkeys(t["item"]))
        versions = list(dict.fromkeys(t["version"]))
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.45 * len(items) + 1.5))
        height = 0.8 / max(len(versions), 1)
        base = np.arange(len(items))[::-1]
        for j, v in enumerate(versions):
            r = t[t["version"] == v].set_index("item").reindex(items)
            y = base + (len(versions) - 1 - 2 * j) * height / 2
            p = r["prop_certainly_true"].to_numpy(dtype=float) * 100
            err = np.vstack(
                [
                    p - r["ci_low"].to_numpy(dtype=float) * 100,
                    r["ci_high"].to_numpy(dtype=float) * 100 - p,
                ]
            )
            ax.barh(y, p, height=height, label=v, xerr=err, capsize=2, alpha=0.85)
        labels = t.drop_duplicates("item").set_index("item")["label"].reindex(items)
        ax.set_yticks(base, [f"{i}: {labels[i]}" for i in items])
        ax.set_xlim(0, 100)
        ax.set_xlabel("% answering 'Certainly true'")
        ax.legend(
            frameon=False,
            fontsize="small",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncol=len(versions),
        )
        return ax


@recorded("esq.item_summary")
@validate_params(
    {
        "data": "dataframe",
        "instrument": [*INSTRUMENT, None],
        "version": COLUMN,
        "by": BY,
        "columns": COLUMN_MAP,
        "coding": OPTIONAL_TEXT,
        "errors": ERRORS,
        "top_label": TEXT,
        "confidence": PROBABILITY,
    }
)
def item_summary(
    data: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    version: str = "instrument",
    by: str | Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    coding: str | None = None,
    errors: str = "raise",
    top_label: str = "Certainly true",
    confidence: float = 0.95,
) -> ESQSummary:
    """Per item, the proportion answering ``Certainly true``, with n and a Wilson CI.

    Parameters
    ----------
    data
        One row per returned questionnaire. Either every row is one version (``instrument=``),
        or a ``version`` column (default ``"instrument"``, as in the responses table) names
        each row's version: ``chi_esq_parent``, ``chi_esq_9_11``, ``chi_esq_12_18``.
    by
        Break down further (team, school, service...).
    coding
        ``"mhsds"`` for MHSDS exports coded 1 = Certainly true, 2 = Partly true, 3 = Not true.
    errors
        ``"raise"`` (default): invalid cells raise ``InvalidResponsesError`` naming row and
        column; ``"flag"``: they are left out (counted as not answered) and listed in
        ``result.table.attrs["issues"]``.

    Returns
    -------
    :class:`ESQSummary`; ``.to_frame()`` has ``by`` columns, ``version, item, label, n``
    (answered, excluding Don't know), ``certainly_true, prop_certainly_true`` (0-1),
    ``ci_low, ci_high, dont_know, not_answered, note``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({f"q{i}": ["Certainly true", "Partly true", "Don't know", 2]
        ...                    for i in range(1, 13)})
        >>> t = item_summary(df, instrument="chi_esq_parent").to_frame()
        >>> t[["item", "n", "certainly_true", "dont_know"]].head(2)
          item  n  certainly_true  dont_know
        0   q1  3               2          1
        1   q2  3               2          1
    """
    by_cols = _as_list(by)
    _check_frame(data, by_cols, "esq.item_summary")
    if not 0 < confidence < 1:
        raise OutcomesError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    parts = []
    issues = []
    quality = QualityRecord()
    for inst, pos in _versions(data, instrument, version):
        sub = data.iloc[pos]
        codes = scoring.item_codes(sub, inst, columns=columns, errors=errors, coding=coding)
        quality.extend(quality_of(codes))  # invalid cells flagged while reading this version
        iss = codes.attrs.get("issues")
        if iss is not None and len(iss):
            issues.append(iss.assign(version=inst.id))
        errs = iss[iss["severity"] == "error"] if iss is not None and len(iss) else None
        source = {t: s for s, t in (columns or {}).items()}
        items = [it.id for it in inst.coded_items]
        for key, gpos in _group_positions(sub, by_cols):
            rows = []
            for item in items:
                src = source.get(item, item)
                x = codes[item].to_numpy()[gpos]
                if src not in sub.columns:
                    rows.append(_empty_row(inst, item, "item not in the data"))
                    continue
                # without by= the group is every row in order: the column as it is, not a copy
                raw = sub[src].iloc[gpos] if by_cols else sub[src]
                blank = _blank(raw)
                # Cells the engine rejected (errors="flag") count as not answered.
                bad = (
                    raw.index.isin(errs.loc[errs["item"] == item, "row"])
                    if errs is not None
                    else np.zeros(len(raw), dtype=bool)
                )
                top = _top_code(inst, item, top_label)
                answered = ~np.isnan(x)
                n = int(answered.sum())
                hits = int((x == top).sum())
                rows.append(
                    {
                        "version": inst.id,
                        "item": item,
                        "label": inst.item(item).label,
                        "n": n,
                        "certainly_true": hits,
                        "prop_certainly_true": hits / n if n else np.nan,
                        "dont_know": int((~answered & ~blank & ~bad).sum()),
                        "not_answered": int((blank | bad).sum()),
                        "note": "" if n else "no answers",
                    }
                )
            t = pd.DataFrame(rows)
            lo, hi = wilson_ci(t["certainly_true"].to_numpy(), t["n"].to_numpy(), confidence)
            t["ci_low"], t["ci_high"] = lo, hi
            t = t[SUMMARY_COLUMNS]
            for b, k in zip(by_cols, key, strict=True):
                t.insert(by_cols.index(b), b, k)
            parts.append(t)
    table = pd.concat(parts, ignore_index=True)
    table["note"] = table["note"].astype("string")
    table.attrs["issues"] = attach(pd.concat(issues, ignore_index=True) if issues else None)
    return ESQSummary(table, by_cols, confidence, quality)


def _empty_row(inst: Instrument, item: str, note: str) -> dict:
    return {
        "version": inst.id,
        "item": item,
        "label": inst.item(item).label,
        "n": 0,
        "certainly_true": 0,
        "prop_certainly_true": np.nan,
        "dont_know": 0,
        "not_answered": 0,
        "note": note,
    }


def _group_positions(data: pd.DataFrame, by: list[str]) -> list[tuple[tuple, np.ndarray]]:
    if not by:
        return [((), np.arange(len(data)))]
    keys = data[by].reset_index(drop=True)
    g = keys.groupby(by, dropna=False, sort=True, observed=True)
    return [((k if isinstance(k, tuple) else (k,)), sub.index.to_numpy()) for k, sub in g]


@validate_params(
    {
        "data": "dataframe",
        "instrument": [*INSTRUMENT, None],
        "version": COLUMN,
        "fields": [Columns(), None],
        "by": BY,
        "shuffle": "boolean",
        "seed": SEED,
        "redact": "boolean",
    }
)
def free_text(
    data: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    version: str = "instrument",
    fields: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    redact: bool = True,
) -> pd.DataFrame:
    """The free-text answers, gathered for a report and stripped of identifiers.

    Only the text itself leaves this function: ``version, field, field_label, text`` (and the
    ``by`` columns, if asked for). No id, date or index is carried; blank answers are dropped;
    with ``shuffle=True`` (default) the order is randomised within each version and field so
    that it cannot be matched back to the rows of another table; with ``redact=True`` e-mail
    addresses, web links and UK phone numbers are replaced by a marker. Names and other
    details written in the text are NOT removed: read every comment before publishing.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"person_id": ["a", "b"], "q1": [2, 2],
        ...                    "good": ["Kind staff", "  "], "improve": [None, "Call me on 07700 900123"]})
        >>> free_text(df, instrument="chi_esq_parent", shuffle=False)[["field", "text"]]
             field                           text
        0     good                     Kind staff
        1  improve  Call me on [phone number removed]
    """
    by_cols = _as_list(by)
    _check_frame(data, by_cols, "esq.free_text")
    parts = []
    rng = np.random.default_rng(seed)
    for inst, pos in _versions(data, instrument, version):
        text_items = {it.id: it.label for it in inst.text_items}
        wanted = list(fields) if fields is not None else list(text_items)
        unknown = [f for f in wanted if f not in text_items]
        if unknown:
            raise OutcomesError(
                f"{inst.id} has no free-text field(s) {unknown}; fields: {list(text_items)}"
            )
        present = [f for f in wanted if f in data.columns]
        if not present:
            continue
        sub = data.iloc[pos]
        long = sub[[*by_cols, *present]].melt(
            id_vars=by_cols, value_vars=present, var_name="field", value_name="text"
        )
        text = long["text"].astype("string").str.strip()
        answered = (text.fillna("").str.len() > 0).to_numpy()
        # melt stacks the fields one after another
        field_code = np.repeat(np.arange(len(present)), len(sub))[answered]
        long = long.assign(text=text)[answered]
        if redact:
            long = long.assign(text=_redact(long["text"]))
        long.insert(0, "version", inst.id)
        long.insert(len(by_cols) + 2, "field_label", long["field"].map(text_items))
        if shuffle:
            # Random order within version and field, sorted back into field order afterwards.
            perm = rng.permutation(len(long))
            long = long.iloc[perm[np.argsort(field_code[perm], kind="stable")]]
        parts.append(long[["version", *by_cols, "field", "field_label", "text"]])
    if not parts:
        return pd.DataFrame(columns=["version", *by_cols, "field", "field_label", "text"])
    out = pd.concat(parts, ignore_index=True)
    out["text"] = out["text"].astype("string")
    return out
