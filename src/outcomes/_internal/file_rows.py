"""Row numbers as a person sees them in the file, for messages and issue lists.

The library counts data rows from 0 (a DataFrame position). Someone who opens the file sees
other numbers: Excel numbers rows from 1 and counts the header rows; a text editor shows the
line number of a CSV record, which a quoted cell with line breaks, or a blank line, moves on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def csv_record_lines(text: str, sep: str = ",") -> list[int]:
    """The 1-based line on which each CSV record starts (header records included), skipping
    blank lines as pandas does.

    Example:
        >>> csv_record_lines('a,b\\n1,"two\\nlines"\\n\\n3,4\\n')
        [1, 2, 5]
    """
    starts: list[int] = []
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep)
    previous_end = 0
    for record in reader:
        if record:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    # a blank line read as [] advances line_num too, so each start is the line after the last
    return starts


def shown_rows(
    positions: Iterable[int],
    *,
    header_rows: int = 1,
    record_lines: list[int] | None = None,
) -> list[int | None]:
    """File row numbers for 0-based data-row positions.

    ``record_lines`` (from :func:`csv_record_lines`) gives CSV line numbers; without it the
    numbers are spreadsheet rows: position 0 under one header row is row 2.

    Example:
        >>> shown_rows([0, 3])
        [2, 5]
        >>> shown_rows([0, 3], header_rows=3)
        [4, 7]
        >>> shown_rows([0, 1], record_lines=[1, 2, 5])
        [2, 5]
    """
    out: list[int | None] = []
    for p in positions:
        i = int(p) + header_rows
        if record_lines is None:
            out.append(i + 1)
        else:
            out.append(record_lines[i] if 0 <= i < len(record_lines) else None)
    return out


def rows_as_seen(
    issues: pd.DataFrame, *, header_rows: int = 1, record_lines: list[int] | None = None
) -> pd.DataFrame:
    """A copy of an issues table whose ``row`` column holds row numbers as seen in the file
    (see :func:`shown_rows`); rows that are not positions are left as they are.

    Example:
        >>> import pandas as pd
        >>> rows_as_seen(pd.DataFrame({"row": [0, 2], "reason": ["x", "y"]}))["row"].tolist()
        [2, 4]
    """
    out = issues.copy()
    if "row" not in out:
        return out
    rows = out["row"]
    if len(rows) and pd.api.types.is_integer_dtype(rows):
        out["row"] = shown_rows(rows, header_rows=header_rows, record_lines=record_lines)
    return out


def issues_path(output: str | Path) -> Path:
    """Where the issues of an output file are written: beside it, ``<name>.issues.csv``.

    Example:
        >>> issues_path("out/scores.xlsx").as_posix()
        'out/scores.issues.csv'
    """
    p = Path(output)
    return p.with_name(f"{p.stem}.issues.csv")


def record_lines_of(
    path: str | Path, *, sep: str = ",", encoding: str = "utf-8-sig"
) -> list[int] | None:
    """CSV line numbers of each record of a text file, or None for a workbook or Parquet file
    (whose rows are numbered like a spreadsheet)."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return None
    try:
        return csv_record_lines(p.read_text(encoding=encoding), sep)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
