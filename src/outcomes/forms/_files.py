"""Reading export files without letting pandas guess what the cells mean.

Every cell is read as text (CSV) or as stored (Excel), and only empty cells are missing: pandas'
default would turn answers such as "N/A" or "None" (real response aliases) into NaN, and would
turn record ids such as "007" into 7.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._internal.dates import excel_dates, is_date_column
from .._internal.file_rows import RowLayout, csv_record_lines
from .._internal.spreadsheet import excel_read_error
from .._internal.text_files import TextFile
from .._internal.text_files import open_text as _open_text
from ..errors import OutcomesError

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPSS_SUFFIXES = (".sav", ".zsav")


def check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise OutcomesError(f"{p}: no such file")
    return p


@dataclass(frozen=True)
class FileOptions:
    """How to read an export file: Excel sheet; CSV separator and encoding (None = sniff)."""

    sheet: str | int = 0
    sep: str | None = None
    encoding: str | None = None


DEFAULT_OPTIONS = FileOptions()


def open_text(path: Path, opts: FileOptions = DEFAULT_OPTIONS) -> TextFile:
    """Decode a text export and find its separator (unless ``opts`` gives them)."""
    return _open_text(path, sep=opts.sep, encoding=opts.encoding)


def read_text(
    path: Path, opts: FileOptions = DEFAULT_OPTIONS, *, skiprows: list[int] | None = None
) -> tuple[pd.DataFrame, RowLayout, str]:
    """A CSV/TSV export with every cell as text and only empty cells missing, the line on
    which each of its rows starts, and how it was read ("guessed: semicolon-separated, ...")."""
    f = open_text(path, opts)
    try:
        df = pd.read_csv(
            io.StringIO(f.text),
            sep=f.sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skiprows=skiprows,
        )
    except (ValueError, pd.errors.ParserError) as e:
        raise OutcomesError(
            f"{path}: could not be read as a CSV export ({f.how()}): {e}. Give the separator "
            "with sep= and the encoding with encoding= if the guess is wrong"
        ) from None
    layout = RowLayout(
        "csv",
        header_rows=1 + len(skiprows or []),
        record_lines=csv_record_lines(f.text, f.sep),
        name=path.name,
    )
    return df.reset_index(drop=True), layout, f.how()


def head_rows(path: Path, opts: FileOptions = DEFAULT_OPTIONS, n: int = 3) -> list[list[str]]:
    """The first ``n`` rows of a CSV, parsed (for sniffing header rows)."""
    f = open_text(path, opts)
    try:
        out = []
        for row in csv.reader(io.StringIO(f.text), delimiter=f.sep):
            out.append(row)
            if len(out) >= n:
                break
    except csv.Error as e:
        raise OutcomesError(f"{path}: could not be read as a CSV export ({f.how()}): {e}") from None
    return out


def read_excel(
    path: Path,
    *,
    sheet: str | int = 0,
    skiprows: list[int] | None = None,
    nrows: int | None = None,
) -> pd.DataFrame:
    try:
        df = pd.read_excel(
            path,
            sheet_name=sheet,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            skiprows=skiprows,
            nrows=nrows,
        )
    except Exception as e:  # zipfile, zlib, XML parsers and openpyxl raise their own types
        raise OutcomesError(excel_read_error(path, e)) from None
    df.columns = [str(c) for c in df.columns]
    # Excel keeps dates as day numbers; numbers in a date column (StartDate, date...) are dates
    for c in df.columns:
        if is_date_column(c):
            df[c] = excel_dates(df[c])
    return df.reset_index(drop=True)


def excel_head(path: Path, *, sheet: str | int = 0, n: int = 3) -> list[list[str]]:
    df = read_excel(path, sheet=sheet, nrows=n - 1)
    rows = [list(df.columns)]
    rows += [["" if pd.isna(v) else str(v) for v in r] for r in df.itertuples(index=False)]
    return rows


def is_import_id_row(row: list[str]) -> bool:
    """Qualtrics' third header row holds JSON such as {"ImportId":"QID1"}."""
    return any('"ImportId"' in str(c) or "'ImportId'" in str(c) for c in row)
