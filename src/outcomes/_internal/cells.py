"""The bad-cell table: one row per problem cell, the one layout every checker returns.

Columns ``row, column, value, reason, severity``: ``row`` is the index label of the input row,
``severity`` is ``"error"`` (the row cannot be used) or ``"warning"`` (used, but worth a look).
Questionnaire checks (scoring, the forms importers) add one optional column, ``item`` (the
instrument item id the cell was read as, which differs from ``column`` when columns are
mapped), always placed after ``column`` (:data:`WITH_ITEM`). This is the layout of
:attr:`outcomes.errors.InvalidResponsesError.issues`; :func:`outcomes.errors.describe_issues`
is its one formatter.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

COLUMNS = ("row", "column", "value", "reason", "severity")
#: The same layout with the optional ``item`` column of questionnaire checks.
WITH_ITEM = ("row", "column", "item", "value", "reason", "severity")
SEVERITIES = ("error", "warning")
_NO_ITEM = object()


def empty(*, item: bool = False) -> pd.DataFrame:
    """A bad-cell table with no rows (``item=True``: with the ``item`` column).

    Example:
        >>> list(empty().columns)
        ['row', 'column', 'value', 'reason', 'severity']
    """
    # a copy of one frame built once: building an empty frame costs ~30x more, and checkers
    # return one for every clean column
    return (_EMPTY_WITH_ITEM if item else _EMPTY).copy()


_EMPTY = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
_EMPTY_WITH_ITEM = pd.DataFrame({c: pd.Series(dtype=object) for c in WITH_ITEM})


def bad_cells(
    rows: Iterable[object],
    column: object,
    values: Iterable[object] | object,
    reason: str | Iterable[str],
    severity: str = "error",
    *,
    item: object = _NO_ITEM,
) -> pd.DataFrame:
    """A bad-cell table for some cells of one column.

    ``values`` and ``reason`` are either one per row or a single value for all of them;
    ``item`` (an item id, or None) adds the ``item`` column.

    Example:
        >>> bad_cells([3], "date", ["31/02/2025"], "not a real date").to_dict("records")
        [{'row': 3, 'column': 'date', 'value': '31/02/2025', 'reason': 'not a real date', \
'severity': 'error'}]
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
    rows = list(rows)
    with_item = item is not _NO_ITEM
    if not rows:
        return empty(item=with_item)

    def per_row(x) -> np.ndarray:
        if isinstance(x, str) or not isinstance(x, Iterable):
            out = np.empty(len(rows), dtype=object)
            out[:] = [x] * len(rows)
            return out
        arr = np.empty(len(rows), dtype=object)
        arr[:] = list(x)
        return arr

    return pd.DataFrame(
        {
            "row": per_row(rows),
            "column": column,
            "item": item if with_item else None,
            "value": per_row(values),
            "reason": per_row(reason),
            "severity": severity,
        },
        columns=list(WITH_ITEM if with_item else COLUMNS),
    )


def flagged(
    data: pd.DataFrame | pd.Series,
    mask: object,
    column: object,
    values: object,
    reason: str | Iterable[str],
    severity: str = "error",
    *,
    item: object = _NO_ITEM,
) -> pd.DataFrame:
    """The bad-cell table for the rows of ``data`` where ``mask`` is true.

    ``values`` (and ``reason``, if not one string) are aligned with ``data``'s rows.

    Example:
        >>> import pandas as pd
        >>> d = pd.DataFrame({"age": [9, -1]}, index=[10, 11])
        >>> flagged(d, d["age"] < 0, "age", d["age"], "negative")[["row", "value"]].to_dict("records")
        [{'row': 11, 'value': -1}]
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return empty(item=item is not _NO_ITEM)
    vals = np.asarray(values, dtype=object)
    why = reason if isinstance(reason, str) else np.asarray(reason, dtype=object)[m]
    return bad_cells(
        data.index[m].tolist(), column, vals[m] if vals.ndim else vals, why, severity, item=item
    )


def combine(parts: Iterable[pd.DataFrame | None], *, item: bool = False) -> pd.DataFrame:
    """Stack bad-cell tables (``None`` and empty parts are skipped), numbered from 0; with the
    ``item`` column if asked or if any part has it.

    Example:
        >>> len(combine([None, bad_cells([1], "a", [2], "x"), empty()]))
        1
        >>> list(combine([bad_cells([1], "a", [2], "x")], item=True).columns)[:3]
        ['row', 'column', 'item']
    """
    parts = [p for p in parts if p is not None]
    item = item or any("item" in p.columns for p in parts)
    keep = [p for p in parts if len(p)]
    if not keep:
        return empty(item=item)
    layout = list(WITH_ITEM if item else COLUMNS)
    return pd.concat(keep, ignore_index=True).reindex(columns=layout)
