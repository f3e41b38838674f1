"""The data-quality record: what used to be a warning, kept and shown instead of filtered.

A :class:`QualityRecord` is a small table of notes. Each note says what happened, where (which
table, column or step), how many rows it concerns and what was done about it. Results carry
their record in ``.quality`` (result objects) or ``.attrs["quality"]`` (DataFrames); the report
collects every record into its data-quality section. Python warnings are still raised for
interactive users (:meth:`QualityRecord.add` with ``warn=True``), but nothing depends on a
warning being seen: the record is the place of truth.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

COLUMNS = ("source", "what", "where", "rows", "action")


class DataQualityWarning(UserWarning):
    """Something about the data that a reader of the results should know."""


@dataclass
class QualityRecord:
    """An ordered list of data-quality notes.

    Example:
        >>> q = QualityRecord()
        >>> q.add("pairing", "follow-up before baseline", where="sdq_parent", rows=2,
        ...       action="not paired", warn=False)
        >>> q.to_frame()[["what", "rows"]].to_dict("records")
        [{'what': 'follow-up before baseline', 'rows': 2}]
    """

    notes: list[dict] = field(default_factory=list)

    def add(
        self,
        source: str,
        what: str,
        *,
        where: str = "",
        rows: int | None = None,
        action: str = "",
        warn: bool = True,
        category: type[Warning] = DataQualityWarning,
        stacklevel: int = 3,
    ) -> None:
        """Record a note and (by default) also raise it as a warning for interactive users."""
        note = {"source": source, "what": what, "where": where, "rows": rows, "action": action}
        self.notes.append(note)
        if warn:
            text = what + (f" ({where})" if where else "")
            if rows is not None:
                text += f": {rows} row(s)"
            if action:
                text += f"; {action}"
            warnings.warn(text, category, stacklevel=stacklevel)

    def extend(self, other: QualityRecord | Iterable[dict] | None) -> None:
        """Append another record's notes (no warnings are raised again)."""
        if other is None:
            return
        notes = other.notes if isinstance(other, QualityRecord) else list(other)
        self.notes.extend(dict(n) for n in notes)

    def capture(self, source: str, caught: Iterable[warnings.WarningMessage], *, where: str = ""):
        """Turn warnings caught with ``warnings.catch_warnings(record=True)`` into notes."""
        for w in caught:
            self.add(source, str(w.message), where=where, action=w.category.__name__, warn=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per note: ``source, what, where, rows, action``."""
        return pd.DataFrame(self.notes, columns=list(COLUMNS))

    def __len__(self) -> int:
        return len(self.notes)

    def __bool__(self) -> bool:
        return bool(self.notes)
