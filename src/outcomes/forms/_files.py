"""Reading export files without letting pandas guess what the cells mean.

Every cell is read as text (CSV) or as stored (Excel), and only empty cells are missing: pandas'
default would turn answers such as "N/A" or "None" (real response aliases) into NaN, and would
turn record ids such as "007" into 7.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .._internal.dates import excel_dates, is_date_column
from ..errors import OutcomesError

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPSS_SUFFIXES = (".sav", ".zsav")


def check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise OutcomesError(f"{p}: no such file")
    return p


def _sep(p: Path) -> str:
    return "\t" if p.suffix.lower() == ".tsv" else ","


def read_text(path: Path, *, skiprows: list[int] | None = None) -> pd.DataFrame:
    """A CSV/TSV export with every cell as text and only empty cells missing."""
    try:
        df = pd.read_csv(
            path,
            sep=_sep(path),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skiprows=skiprows,
            encoding="utf-8-sig",
        )
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise OutcomesError(f"{path}: could not be read as a CSV export: {e}") from None
    return df.reset_index(drop=True)


def head_rows(path: Path, n: int = 3) -> list[list[str]]:
    """The first ``n`` rows of a CSV, parsed (for sniffing header rows)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=_sep(path))
            out = []
            for row in reader:
                out.append(row)
                if len(out) >= n:
                    break
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise OutcomesError(f"{path}: could not be read as a CSV export: {e}") from None
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
    except (ValueError, OSError, KeyError) as e:
        raise OutcomesError(f"{path}: could not be read as an Excel export: {e}") from None
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
