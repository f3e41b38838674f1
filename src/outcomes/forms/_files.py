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

from .._internal.file_rows import RowLayout, csv_record_lines
from .._internal.spreadsheet import excel_read_error
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

#: Separators tried when none is given: KoboToolbox exports use ';' by default, Qualtrics'
#: UTF-16 download uses tabs.
SEPARATORS = (",", ";", "\t")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding used: the one given, else UTF-8 (with or without a
    byte-order mark), UTF-16 (Qualtrics' tab-separated download) or Windows cp1252 (Excel's
    "CSV" on Windows), tried in that order."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OutcomesError(f"{path}: could not be read: {e}") from None
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise OutcomesError(f"{path}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as e:
            raise OutcomesError(
                f"{path}: is not {encoding} text (byte {e.start}: {e.reason}); "
                "leave encoding= out to let the reader guess"
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        guesses = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        guesses = ["utf-8-sig"]
    else:
        sample = data[:4096]
        nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
        guesses = ["utf-8"]
        # UTF-16 without a byte-order mark: ASCII characters leave a zero byte beside them
        if nul_odd > len(sample) // 4:
            guesses.insert(0, "utf-16-le")
        elif nul_even > len(sample) // 4:
            guesses.insert(0, "utf-16-be")
        guesses.append("cp1252")
    for enc in guesses:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise OutcomesError(
        f"{path}: not a text file in {', '.join(guesses)} (the encodings tried); if it is text, "
        "give its encoding with encoding= (e.g. 'latin-1'); if it is Excel, use .xlsx"
    )


def _sniff_sep(text: str, path: Path) -> str:
    """The separator that splits the first records into the same number (>1) of fields, the
    most fields winning; a file of one column uses the extension's default."""
    best, best_n = None, 1
    for sep in SEPARATORS:
        counts: set[int] = set()
        try:
            # records, not lines: a quoted cell may hold line breaks
            for k, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep)):
                if row:
                    counts.add(len(row))
                if k >= 20:
                    break
        except csv.Error:
            continue
        if len(counts) == 1 and (n := counts.pop()) > best_n:
            best, best_n = sep, n
    if best is None:
        # rows of unequal length (a ragged export): the separator most used in the header
        head = text.split("\n", 1)[0]
        n, sep = max((head.count(s), s) for s in SEPARATORS)
        best = sep if n else None
    return best or ("\t" if path.suffix.lower() == ".tsv" else ",")


@dataclass(frozen=True)
class TextFile:
    """A CSV/TSV export decoded, with the separator and encoding it was read with."""

    text: str
    sep: str
    encoding: str
    sep_given: bool
    encoding_given: bool

    def how(self) -> str:
        """E.g. "semicolon-separated (guessed) cp1252 (given)"."""
        sep = _SEP_NAMES.get(self.sep, repr(self.sep))
        return (
            f"{sep}-separated ({'given' if self.sep_given else 'guessed'}) "
            f"{self.encoding} ({'given' if self.encoding_given else 'guessed'})"
        )


def open_text(path: Path, opts: FileOptions = DEFAULT_OPTIONS) -> TextFile:
    """Decode a text export and find its separator (unless ``opts`` gives them)."""
    text, enc = _decode(path, opts.encoding)
    sep = opts.sep if opts.sep is not None else _sniff_sep(text, path)
    if not isinstance(sep, str) or len(sep) != 1:
        raise OutcomesError(f"sep must be one character such as ',' ';' or '\\t', not {sep!r}")
    return TextFile(text, sep, enc, opts.sep is not None, opts.encoding is not None)


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
    return df.reset_index(drop=True)


def excel_head(path: Path, *, sheet: str | int = 0, n: int = 3) -> list[list[str]]:
    df = read_excel(path, sheet=sheet, nrows=n - 1)
    rows = [list(df.columns)]
    rows += [["" if pd.isna(v) else str(v) for v in r] for r in df.itertuples(index=False)]
    return rows


def is_import_id_row(row: list[str]) -> bool:
    """Qualtrics' third header row holds JSON such as {"ImportId":"QID1"}."""
    return any('"ImportId"' in str(c) or "'ImportId'" in str(c) for c in row)
