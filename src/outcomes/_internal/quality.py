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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
        """Turn warnings caught with ``warnings.catch_warnings(record=True)`` into notes.

        The same message met several times (one per group or iteration) becomes one note.
        """
        seen: set[tuple[str, str]] = set()
        for w in caught:
            key = (str(w.message), w.category.__name__)
            if key not in seen:
                seen.add(key)
                self.add(source, key[0], where=where, action=key[1], warn=False)

    def add_reasons(
        self, source: str, problems: pd.DataFrame, *, action: str, where: str | None = None
    ) -> None:
        """One note per ``reason`` (and value of the ``where`` column) of a problems table.

        ``problems`` has a ``reason`` column and a ``row`` column (the source row labels); the
        note counts distinct rows. No warning is raised: callers warn once with the details.

        Example:
            >>> q = QualityRecord()
            >>> probs = pd.DataFrame({"row": [3, 3, 7], "scale": ["a", "b", "a"],
            ...                       "reason": ["duplicate"] * 3})
            >>> q.add_reasons("pair_waves", probs, action="left unpaired", where="scale")
            >>> [(n["where"], n["rows"]) for n in q.notes]
            [('scale a', 2), ('scale b', 1)]
        """
        keys = ["reason"] if where is None else ["reason", where]
        for key, grp in problems.groupby(keys, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            place = f"{where} {key[1]}" if where is not None else ""
            self.add(
                source,
                str(key[0]),
                where=place,
                rows=int(grp["row"].nunique()),
                action=action,
                warn=False,
            )

    @contextmanager
    def catching(self, source: str, *, where: str = "") -> Iterator[None]:
        """Record every warning raised inside the block as a note instead of printing it.

        Example:
            >>> import warnings
            >>> q = QualityRecord()
            >>> with q.catching("fit", where="model 1"):
            ...     warnings.warn("did not converge", RuntimeWarning)
            >>> q.notes[0]["what"], q.notes[0]["action"]
            ('did not converge', 'RuntimeWarning')
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        self.capture(source, caught, where=where)

    def lines(self) -> list[str]:
        """One readable line per note."""
        out = []
        for n in self.notes:
            text = f"{n['source']}: {n['what']}" if n["source"] else str(n["what"])
            if n["where"]:
                text += f" ({n['where']})"
            if n["rows"] is not None:
                text += f": {n['rows']} row(s)"
            if n["action"]:
                text += f"; {n['action']}"
            out.append(text)
        return out

    def summary(self, limit: int = 5, *, shown: Iterable[str] = ()) -> str:
        """The notes as text for a result's ``summary()`` (empty when there are none).

        ``shown``: note texts (``what``) the summary already states in its own words.

        Example:
            >>> q = QualityRecord()
            >>> q.add("pair_waves", "duplicate record", where="total", rows=2,
            ...       action="left unpaired", warn=False)
            >>> print(q.summary())
            Data-quality notes (1):
              - pair_waves: duplicate record (total): 2 row(s); left unpaired
        """
        shown = set(shown)
        todo = [
            line for n, line in zip(self.notes, self.lines(), strict=True) if n["what"] not in shown
        ]
        if not todo:
            return ""
        lines = [f"Data-quality notes ({len(todo)}):"]
        lines += [f"  - {line}" for line in todo[:limit]]
        if len(todo) > limit:
            lines.append(f"  ... and {len(todo) - limit} more (see .quality)")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per note: ``source, what, where, rows, action``."""
        return pd.DataFrame(self.notes, columns=list(COLUMNS))

    def __deepcopy__(self, memo: dict) -> QualityRecord:
        # pandas deep-copies ``attrs`` on most operations; a record is an append-only log that a
        # derived table shares with the table it came from (as _attrs.AttachedTable does).
        return self

    def __len__(self) -> int:
        return len(self.notes)

    def __bool__(self) -> bool:
        return bool(self.notes)


def quality_of(result: object) -> QualityRecord:
    """The record a result carries: ``.quality`` or ``.attrs["quality"]`` (empty if none).

    Example:
        >>> quality_of(pd.DataFrame()).notes
        []
    """
    record = getattr(result, "quality", None)
    if record is None and isinstance(result, pd.DataFrame | pd.Series):
        record = result.attrs.get("quality")
    return record if isinstance(record, QualityRecord) else QualityRecord()


def attach_quality(frame: pd.DataFrame, record: QualityRecord) -> pd.DataFrame:
    """Store ``record`` in ``frame.attrs["quality"]`` and return the frame."""
    frame.attrs["quality"] = record
    return frame
