"""Reading and writing the tables people bring: CSV, Excel and Parquet, chosen by extension."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pandas as pd

from ._internal.dates import excel_dates, is_date_column
from ._internal.params import COUNT, validate_params
from ._internal.spreadsheet import excel_read_error, write_csv, write_excel
from ._internal.text_files import open_text
from .errors import OutcomesError

__all__ = ["ID_COLUMNS", "READERS", "read_table", "write_table"]

#: Identifier columns are read as text so that "007" keeps its zeros.
ID_COLUMNS = (
    "person_id",
    "pupil_id",
    "respondent_id",
    "referral_id",
    "school_id",
    "record_id",
)
#: read_csv and read_excel ignore the named columns a file does not have: one read, no header pass
_ID_DTYPES = dict.fromkeys(ID_COLUMNS, "string")
READERS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".parquet": "parquet"}


@validate_params({"path": "path", "sheet": [str, COUNT]})
def read_table(path: str | Path, *, sheet: str | int = 0) -> pd.DataFrame:
    """Read a CSV, Excel (.xlsx) or Parquet file, keeping id columns as text.

    A CSV's separator (``,`` ``;`` or tab) and encoding (UTF-8 with or without a byte-order
    mark, UTF-16, Windows cp1252) are found from the file, as for survey imports.

    In an Excel file, numbers in a date column (``date``, ``referral_date``, ``Date of birth``...)
    are Excel serial dates and are read as dates; in a CSV they stay numbers (and a verb that
    reads the column reports them as bad cells). Text dates are read later by the verbs, by
    the project's date rules (docs/concepts.md, "Dates").

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = p.write_text("person_id,q1\\n007,2\\n")
        >>> read_table(p)["person_id"].tolist()
        ['007']
    """
    p = Path(path)
    if not p.is_file():
        raise OutcomesError(f"{p}: no such file")
    kind = READERS.get(p.suffix.lower())
    if kind is None:
        raise OutcomesError(f"{p}: unsupported file type {p.suffix!r}; use .csv, .xlsx or .parquet")
    try:
        if kind == "csv":
            # separator (, ; tab) and encoding (UTF-8, UTF-16, cp1252) found as for imports
            f = open_text(p)
            try:
                return pd.read_csv(StringIO(f.text), sep=f.sep, dtype=_ID_DTYPES)
            except (ValueError, pd.errors.ParserError) as e:
                raise OutcomesError(f"{p}: could not be read as csv ({f.how()}): {e}") from None
        if kind == "excel":
            try:
                table = pd.read_excel(p, sheet_name=sheet, dtype=_ID_DTYPES)
            except Exception as e:  # a damaged workbook raises zipfile / zlib / XML errors
                raise OutcomesError(excel_read_error(p, e)) from None
            # Excel keeps dates as day numbers; a date column's numbers are dates, not counts
            for c in table.columns:
                if is_date_column(c):
                    table[c] = excel_dates(table[c])
            return table
        return pd.read_parquet(p)
    except (ValueError, OSError, pd.errors.ParserError) as e:
        raise OutcomesError(f"{p}: could not be read as {kind}: {e}") from None


@validate_params({"data": "dataframe", "path": "path"})
def write_table(data: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, Excel or Parquet according to the file extension.

    Text cells starting with ``= + - @``, a tab or a carriage return are written so that a
    spreadsheet shows them as text (see :mod:`outcomes._internal.spreadsheet`).

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> p = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.xlsx")
        >>> read_table(p)["a"].tolist()
        [1]
    """
    p = Path(path)
    kind = READERS.get(p.suffix.lower())
    if kind is None:
        raise OutcomesError(
            f"{p}: unsupported output type {p.suffix!r}; use .csv, .xlsx or .parquet"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    out = data.copy()
    out.attrs = {}  # issues and other metadata are not part of the table
    # Categorical bands are written as their labels in every format.
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype) and kind != "parquet":
            out[c] = out[c].astype(object)
    # Text that a spreadsheet could run as a formula is written as text (OWASP CSV injection).
    if kind == "csv":
        write_csv(out, p)
    elif kind == "excel":
        write_excel(out, p)
    else:
        out.to_parquet(p, index=False)
    return p
