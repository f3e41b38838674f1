"""The data-quality record: what used to be a warning, kept and shown instead of filtered.

A :class:`QualityRecord` is a small table of notes. Each note says what happened, where (which
table, column or step), how many rows it concerns and what was done about it. Results carry
their record in ``.quality`` (result objects) or ``.attrs["quality"]`` (DataFrames); the report
collects every record into its data-quality section. Python warnings are still raised for
interactive users (:meth:`QualityRecord.add` with ``warn=True``, or re-raised by
:func:`recorded`), but nothing depends on a warning being seen: the record is the place of
truth.

A record kept in a DataFrame's ``attrs`` is shared, not copied, by the frames pandas derives
from it (see ``__deepcopy__``). So a record found in ``attrs`` is never changed in place:
:func:`attach_quality` puts a new record holding the old notes and the new ones.
``pd.concat`` keeps ``attrs`` only when every piece has equal ones, so collect the records of
the pieces (:meth:`QualityRecord.extend`) before concatenating tables that carry different
notes, and attach the combined record to the result.
"""

from __future__ import annotations

import functools
import re
import string
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import pandas as pd

COLUMNS = ("source", "what", "where", "rows", "action")
# Warnings about the code rather than the data: passed on to the user, not recorded as notes.
CODE_WARNINGS = (
    DeprecationWarning,
    PendingDeprecationWarning,
    FutureWarning,
    ImportWarning,
    ResourceWarning,
    SyntaxWarning,
)

F = TypeVar("F", bound=Callable[..., Any])


class DataQualityWarning(UserWarning):
    """Something about the data that a reader of the results should know."""


# A whole number (1,234 as one): not part of a word, an identifier (sdq_1, 12m) or a decimal
_WHOLE = r"(?<!\w)(?<!\d\.)(?:\d{1,3}(?:,\d{3})+|\d+)(?!\w)(?!\.\d)"
_DATE = r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])"
_SCIENTIFIC = r"(?<![\w.])\d+(?:\.\d+)?[eE][-+]?\d+(?!\w)"
_NUMBER = rf"{_SCIENTIFIC}|(?<!\w)(?<!\d\.)-?\d+(?:\.\d+)?(?!\w)(?!\.\d)"


class NoteTemplate:
    """A message of the library (a warning, a note, an error) whose numbers are declared: which
    are counts of people, rows or records (``counts``: released by the count rule when the
    report publishes the message) and which are other numbers (``values``: a wave, a year, a
    threshold, a score range, an item number, a config value: published as written). Every
    other field is free text (a column name, a nested message).

    The message itself is plain text, for library users as for every table and list it goes
    into; the template reads it back wherever it stands (joined with other notes, after a
    prefix, cut to its first line). A number that no template declares is unknown: the
    report masks it (``Release.note_text``), it never publishes it as another number.

    Example:
        >>> t = NoteTemplate("{n} respondent(s) answered fewer than {need} items: no {scale} "
        ...                  "score", counts=["n"], values=["need"], register=False)
        >>> t(n=14, need=8, scale="confidence")
        '14 respondent(s) answered fewer than 8 items: no confidence score'
        >>> [(p.kind, p.text) for p in note_parts("x; " + t(n=14, need=8, scale="item 3"), [t])][:4]
        [('free', 'x; '), ('count', '14'), ('text', ' respondent(s) answered fewer than '), ('value', '8')]
    """

    #: every template made: the report reads a note against each
    registry: ClassVar[list[NoteTemplate]] = []

    def __init__(
        self,
        template: str,
        *,
        counts: Sequence[str] = (),
        values: Sequence[str] = (),
        register: bool = True,
    ):
        self.template = template
        self.counts, self.values = tuple(counts), tuple(values)
        parsed = list(string.Formatter().parse(template))
        names = [f for _, f, _, _ in parsed if f is not None]
        if any(spec or conv for _, f, spec, conv in parsed if f is not None):
            raise ValueError(f"{template!r}: plain fields only (format the value before)")
        if unknown := (set(self.counts) | set(self.values)) - set(names):
            raise ValueError(f"{template!r}: no field {sorted(unknown)}")
        free = [f for f in names if f not in self.counts and f not in self.values]
        # a free field at either end would take in the text around the message
        if free and (template.startswith("{" + free[0]) or template.endswith(free[-1] + "}")):
            raise ValueError(f"{template!r}: a free-text field cannot begin or end it")
        if len(set(names)) < len(names):
            # a second copy would be read as the template's own words, published as written
            raise ValueError(f"{template!r}: each field once")
        pattern = []
        for literal, name, _, _ in parsed:
            pattern.append(re.escape(literal))
            if name is None:
                continue
            body = _WHOLE if name in self.counts else _NUMBER if name in self.values else ".+?"
            pattern.append(f"(?P<{name}>{body})")
        self.pattern = re.compile("".join(pattern), re.DOTALL)
        if register:  # (an example or a test's template is not the library's)
            NoteTemplate.registry.append(self)

    def __call__(self, **fields: object) -> str:
        """The message: the template with its fields (counts as whole numbers)."""
        for name in self.counts:
            fields[name] = int(fields[name])  # type: ignore[call-overload]
        return self.template.format(**fields)

    def __repr__(self) -> str:
        return f"NoteTemplate({self.template!r}, counts={list(self.counts)})"


@dataclass(frozen=True)
class NotePart:
    """A piece of a note: ``count`` (a declared count, its digits), ``value`` (a declared
    number that is not a count), ``text`` (a template's own words) or ``free`` (text no
    template declares: its numbers are unknown)."""

    kind: str
    text: str


def note_parts(text: str, templates: Sequence[NoteTemplate] | None = None) -> list[NotePart]:
    """``text`` cut into :class:`NotePart` pieces by the templates (default: every registered
    one): left to right, the earliest (then longest) message a template reads, each of its
    free fields read in turn. Joining the pieces' texts gives ``text`` back."""
    out: list[NotePart] = []
    pos = 0
    while pos < len(text):
        best = None
        for t in NoteTemplate.registry if templates is None else templates:
            m = t.pattern.search(text, pos)
            if m and m.end() > m.start():
                key = (m.start(), -(m.end() - m.start()))
                if best is None or key < best[0]:
                    best = (key, t, m)
        if best is None:
            out.append(NotePart("free", text[pos:]))
            break
        _, t, m = best
        if m.start() > pos:
            out.append(NotePart("free", text[pos : m.start()]))
        at = m.start()
        spans = sorted((m.start(g), m.end(g), g) for g in m.groupdict() if m.start(g) >= 0)
        for a, b, name in spans:
            if a > at:
                out.append(NotePart("text", text[at:a]))
            piece = text[a:b]
            if name in t.counts:
                out.append(NotePart("count", piece))
            elif name in t.values:
                out.append(NotePart("value", piece))
            else:
                out.extend(note_parts(piece, templates))
            at = b
        if m.end() > at:
            out.append(NotePart("text", text[at : m.end()]))
        pos = m.end()
    return out


def mask_numbers(text: str, marker: str, keep_zero: bool = True) -> str:
    """Free text with every whole number masked (not a word's or a decimal's digits, nor an
    ISO date or a number in scientific notation, written as they are): what the number is
    cannot be known, so it is never shown as another number. A 0 is kept with ``keep_zero``
    (the count rule shows a 0 as 0, and a 0 that is not a count is right).

    Example:
        >>> mask_numbers("waves 1 and 2 in 2026, sdq_1 at 0.05 on 2026-01-05; 0 of 1,234", "*")
        'waves * and * in *, sdq_1 at 0.05 on 2026-01-05; 0 of *'
    """

    def mask(m: re.Match) -> str:
        if m.group("keep") or (keep_zero and int(m.group(0).replace(",", "")) == 0):
            return m.group(0)
        return marker

    return re.sub(f"(?P<keep>{_DATE}|{_SCIENTIFIC})|{_WHOLE}", mask, text)


#: a wave comparison's rows outside its two waves (survey and Likert comparisons)
OTHER_WAVES = NoteTemplate("{n} row(s) from other or missing waves left out", counts=["n"])
#: a number just before one of these units counts people, rows or records, whichever message
#: says it (a note line's ``: 12 row(s)``, a pairing's ``3 referral(s)``)
UNITS = tuple(
    NoteTemplate("{n} " + unit, counts=["n"])
    for unit in (
        "row(s)", "rows", "record(s)", "records", "respondent(s)", "respondents",
        "response(s)", "responses", "referral(s)", "referrals", "pair(s)", "pairs",
        "child(ren)", "children", "pupil(s)", "pupils", "people", "person(s)", "cell(s)",
        "missing value(s)", "invalid cell(s)",
    )
)  # fmt: skip


def first_lines(caught: Iterable[warnings.WarningMessage], *, in_order: bool = False) -> list[str]:
    """The first line of each caught warning, once each: sorted, or in the order met (then
    without a closing full stop, for joining into a sentence). Every warning counts;
    statsmodels' multi-line messages are cut to their headline.

    Example:
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     for m in ["b failed.\\ndetail", "a ok", "b failed."]:
        ...         warnings.warn(m)
        >>> first_lines(caught), first_lines(caught, in_order=True)
        (['a ok', 'b failed.'], ['b failed', 'a ok'])
    """
    if not in_order:
        return sorted({str(w.message).split("\n")[0] for w in caught})
    out: list[str] = []
    for w in caught:
        msg = str(w.message).strip().split("\n")[0].rstrip(".")
        if msg and msg not in out:
            out.append(msg)
    return out


def _line(note: dict) -> str:
    text = str(note["what"]) + (f" ({note['where']})" if note["where"] else "")
    if note["rows"] is not None:
        text += f": {note['rows']} row(s)"
    if note["action"]:
        text += f"; {note['action']}"
    return text


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
            warnings.warn(_line(note), category, stacklevel=stacklevel)

    def extend(self, other: QualityRecord | Iterable[dict] | None) -> None:
        """Append another record's notes (no warnings are raised again)."""
        if other is None:
            return
        notes = other.notes if isinstance(other, QualityRecord) else list(other)
        self.notes.extend(dict(n) for n in notes)

    def capture(self, source: str, caught: Iterable[warnings.WarningMessage], *, where: str = ""):
        """Turn warnings caught with ``warnings.catch_warnings(record=True)`` into notes.

        The same message met several times (one per group or iteration) becomes one note.
        Warnings about the code (deprecations) are not data-quality notes and are skipped.
        """
        seen: set[tuple[str, str]] = set()
        for w in caught:
            if issubclass(w.category, CODE_WARNINGS):
                continue
            key = (str(w.message), w.category.__name__)
            if key not in seen:
                seen.add(key)
                self.add(source, key[0], where=where, action=key[1], warn=False)

    @contextmanager
    def catching(self, source: str, *, where: str = "") -> Iterator[None]:
        """Record every warning raised inside the block as a note instead of printing it.

        Example:
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
            self.add(
                source,
                str(key[0]),
                where=f"{where} {key[1]}" if where is not None else "",
                rows=int(grp["row"].nunique()),
                action=action,
                warn=False,
            )

    def add_issues(
        self, source: str, issues: pd.DataFrame, *, error_action: str, warning_action: str
    ) -> None:
        """Notes from a bad-cell table (``row, column, ..., reason, severity``): one per column
        and reason, counting rows; ``error_action`` / ``warning_action`` say what was done."""
        if issues.empty:  # the usual case: nothing to group
            return
        is_error = issues["severity"] == "error"
        self.add_reasons(source, issues[is_error], action=error_action, where="column")
        self.add_reasons(source, issues[~is_error], action=warning_action, where="column")

    def add_table_notes(
        self,
        source: str,
        table: pd.DataFrame,
        *,
        where: Sequence[str] | None = None,
        action: str = "see the note column",
    ) -> None:
        """One note per row of ``table`` whose ``note`` column is not empty.

        ``where``: the columns naming the row (default: its text columns other than ``note``).

        Example:
            >>> q = QualityRecord()
            >>> t = pd.DataFrame({"wave": ["autumn", "spring"], "alpha": [0.8, float("nan")],
            ...                   "note": ["", "no item varies"]})
            >>> q.add_table_notes("reliability", t)
            >>> q.lines()
            ['reliability: no item varies (wave spring); see the note column']
        """
        if "note" not in table.columns:
            return
        if where is None:
            where = [
                c
                for c in table.columns
                if c != "note"
                and not pd.api.types.is_numeric_dtype(table[c])
                and not pd.api.types.is_bool_dtype(table[c])
            ]
        if table.columns.is_unique:
            # the rows with a note only (most have none), read as iterrows reads every row
            notes = table["note"].tolist()
            table = table.iloc[[i for i, t in enumerate(notes) if isinstance(t, str) and t.strip()]]
        for _, row in table.iterrows():
            text = row["note"]
            if isinstance(text, str) and text.strip():
                place = ", ".join(f"{c} {row[c]}" for c in where if pd.notna(row[c]))
                self._add_unsaid(source, text, where=place, action=action)

    def _add_unsaid(self, source: str, what: str, *, where: str = "", action: str = "") -> None:
        """Add a note unless a note of this record already says it (e.g. as a warning)."""
        if not any(what in str(n["what"]) for n in self.notes):
            self.add(source, what, where=where, action=action, warn=False)

    def lines(self) -> list[str]:
        """One readable line per note."""
        return [f"{n['source']}: {_line(n)}" if n["source"] else _line(n) for n in self.notes]

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
        # pandas deep-copies ``attrs`` on most operations; the record is shared instead, as
        # _attrs.AttachedTable is (attach_quality never changes a record found in attrs).
        return self

    def __len__(self) -> int:
        return len(self.notes)

    def __bool__(self) -> bool:
        return bool(self.notes)


def with_notes(text: str, record: QualityRecord, *, shown: Iterable[str] = ()) -> str:
    """A result's summary text followed by its data-quality notes (if any).

    ``shown``: note texts the summary already states in its own words.

    Example:
        >>> q = QualityRecord()
        >>> q.add("survey", "3 row(s) from other waves left out", warn=False)
        >>> print(with_notes("Prevalence rose.", q))
        Prevalence rose.
        Data-quality notes (1):
          - survey: 3 row(s) from other waves left out
    """
    notes = record.summary(shown=shown)
    return f"{text}\n{notes}" if notes else text


def quality_of(result: object) -> QualityRecord:
    """The record a result carries: ``.quality`` or ``.attrs["quality"]`` (empty if none).

    Example:
        >>> quality_of(pd.DataFrame()).notes
        []
    """
    if isinstance(result, pd.DataFrame | pd.Series):
        record = result.attrs.get("quality")
    else:
        record = getattr(result, "quality", None)
    return record if isinstance(record, QualityRecord) else QualityRecord()


def attach_quality(result: object, record: QualityRecord) -> None:
    """Add ``record``'s notes to the record ``result`` carries.

    A DataFrame or Series gets a new ``attrs["quality"]`` (old notes, then the new ones); a
    result object's own ``.quality`` is extended.

    Example:
        >>> frame = pd.DataFrame({"x": [1]})
        >>> q = QualityRecord()
        >>> q.add("demo", "one odd row", rows=1, warn=False)
        >>> attach_quality(frame, q)
        >>> len(quality_of(frame))
        1
    """
    if isinstance(result, pd.DataFrame | pd.Series):
        merged = QualityRecord()
        merged.extend(quality_of(result))
        merged.extend(record)
        result.attrs["quality"] = merged
    elif isinstance(getattr(result, "quality", None), QualityRecord):
        if result.quality is not record:
            result.quality.extend(record)
    else:
        raise TypeError(f"{type(result).__name__} cannot carry a data-quality record")


def recorded(source: str, *, notes_column: bool = True) -> Callable[[F], F]:
    """Decorate a public function: warnings raised while it runs become notes in its result.

    Each warning is recorded in the result's record (see :func:`attach_quality`) and then
    raised again unchanged, so an interactive user still sees it and ``pytest.warns`` still
    works. Notes the function wrote itself are kept. The texts in a result's ``notes`` list
    become notes, and, with ``notes_column``, so do the non-empty cells of the ``note`` column
    of its table (the DataFrame itself, or ``result.to_frame()``, unless the result's class
    sets ``TABLE_NOTES = False``: its table can hold none); a text already said by a warning
    is not noted twice.

    Example:
        >>> @recorded("halve")
        ... def halve(frame):
        ...     if (frame["x"] % 2).any():
        ...         warnings.warn("odd values rounded down", DataQualityWarning)
        ...     return frame // 2
        >>> with warnings.catch_warnings(record=True) as shown:  # the user sees it too
        ...     out = halve(pd.DataFrame({"x": [2, 3]}))
        >>> [str(w.message) for w in shown]
        ['odd values rounded down']
        >>> quality_of(out).lines()
        ['halve: odd values rounded down; DataQualityWarning']
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caught: list[warnings.WarningMessage] = []
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = fn(*args, **kwargs)
            except Exception:
                _replay(caught)  # an error must not take the warnings before it with it
                raise
            record = QualityRecord()
            table = result if isinstance(result, pd.DataFrame) else None
            # (a result class whose to_frame() can hold no notes says so: TABLE_NOTES = False)
            if (
                table is None
                and callable(getattr(result, "to_frame", None))
                and getattr(result, "TABLE_NOTES", True)
            ):
                table = result.to_frame()
                # a result object also answers for the notes its table brought from the input
                record.extend(quality_of(table))
            record.capture(source, caught)
            for text in getattr(result, "notes", None) or []:
                if isinstance(text, str):
                    record._add_unsaid(source, text)
            if table is not None and notes_column:
                # a result object names its own key columns (ChangeTable.keys, .by)
                keys = getattr(result, "keys", None) if table is not result else None
                keys = keys if isinstance(keys, list) else getattr(result, "by", None)
                where = [k for k in keys if k in table.columns] if isinstance(keys, list) else None
                record.add_table_notes(source, table, where=where)
            attach_quality(result, record)
            _replay(caught)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def _replay(caught: Iterable[warnings.WarningMessage]) -> None:
    """Raise caught warnings again, as they were, under the caller's own filters."""
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
