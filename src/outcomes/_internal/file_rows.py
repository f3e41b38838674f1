"""Row numbers as a person sees them in the file, for messages and issue lists.

The library counts data rows from 0 (a DataFrame position). Someone who opens the file sees
other numbers: a spreadsheet numbers rows from 1 and counts the header rows; a text editor
shows the line number of a CSV record, which a quoted cell with line breaks, or a blank line,
moves on; SPSS numbers cases from 1. A :class:`RowLayout` records which of these a file uses,
so that readers describe the file once and every message can translate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from ..errors import OutcomesError
from .text_files import open_text

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


def csv_record_lines(text: str, sep: str = ",") -> tuple[int, ...]:
    """The 1-based line on which each CSV record starts (header records included), skipping
    blank lines as pandas does.

    Example:
        >>> csv_record_lines('a,b\\n1,"two\\nlines"\\n\\n3,4\\n')
        (1, 2, 5)
    """
    starts: list[int] = []
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep)
    previous_end = 0
    for record in reader:
        if record:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    return tuple(starts)


@dataclass(frozen=True)
class RowLayout:
    """How the data rows of a file are numbered where a person sees them.

    ``kind``: ``"csv"`` (line numbers, from ``record_lines``), ``"spreadsheet"`` (row 1 is
    the first header row), ``"cases"`` (SPSS case numbers, from 1) or ``"positions"`` (no file:
    0-based positions are kept).

    Example:
        >>> RowLayout("spreadsheet", header_rows=3, name="q.xlsx").seen([0, 2])
        [4, 6]
        >>> RowLayout("csv", record_lines=(1, 2, 5), name="x.csv").seen([1])
        [5]
    """

    kind: Literal["csv", "spreadsheet", "cases", "positions"] = "positions"
    header_rows: int = 1
    record_lines: tuple[int, ...] | None = None
    name: str = ""

    def seen(self, positions: Iterable[int]) -> list[int | None]:
        """File row numbers for 0-based data-row positions."""
        out: list[int | None] = []
        for p in positions:
            i = int(p)
            if self.kind == "positions":
                out.append(i)
            elif self.kind == "cases":
                out.append(i + 1)
            elif self.kind == "spreadsheet":
                out.append(i + self.header_rows + 1)
            else:
                k = i + self.header_rows
                lines = self.record_lines or ()
                out.append(lines[k] if 0 <= k < len(lines) else None)
        return out

    def note(self) -> str:
        """What the numbers mean, for a person."""
        return {
            "csv": f"rows are line numbers in {self.name}",
            "spreadsheet": f"rows are spreadsheet rows of {self.name} (header rows counted)",
            "cases": f"rows are case numbers in {self.name}",
            "positions": "rows are 0-based positions among the data rows",
        }[self.kind]

    def relabel(self, table: pd.DataFrame) -> pd.DataFrame:
        """A copy of a table with a ``row`` column of positions, holding the rows as seen.

        Example:
            >>> t = pd.DataFrame({"row": [0, 2], "reason": ["x", "y"]})
            >>> RowLayout("spreadsheet").relabel(t)["row"].tolist()
            [2, 4]
        """
        out = table.copy()
        # rows are index labels (the bad-cell layout keeps them as objects): only whole
        # numbers are positions; a table indexed by other labels is left as it is
        if "row" in out and len(out) and pd.api.types.infer_dtype(out["row"]) == "integer":
            out["row"] = self.seen(out["row"])
        return out


def table_file_layout(path: str | Path) -> RowLayout:
    """The layout of a file read by :func:`outcomes.io.read_table` (one header row; Parquet
    has no visible row numbers)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        return RowLayout("positions", name=p.name)
    if suffix not in TEXT_SUFFIXES:
        return RowLayout("spreadsheet", name=p.name)
    try:
        f = open_text(p)
        lines = csv_record_lines(f.text, f.sep)
    except (OutcomesError, csv.Error):
        return RowLayout("positions", name=p.name)
    return RowLayout("csv", record_lines=lines, name=p.name)


def issues_path(output: str | Path) -> Path:
    """Where the issues of an output file are written: beside it, ``<name>.issues.csv``.

    Example:
        >>> issues_path("out/scores.xlsx").as_posix()
        'out/scores.issues.csv'
    """
    p = Path(output)
    return p.with_name(f"{p.stem}.issues.csv")
