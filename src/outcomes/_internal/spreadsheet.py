"""Tables written for people who open them in a spreadsheet: text is text, never a formula.

A CSV or Excel cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return can be run as a formula when the file is opened (CSV injection; OWASP's guidance is to
make such a cell start with a single quote). Our files carry text people typed (comments,
labels, ids, instrument wording from user YAML), so every CSV and Excel writer of the package
goes through :func:`write_csv` or :func:`write_excel`.

Reading goes the other way: :func:`excel_read_error` is the one message for a workbook that
cannot be opened.

Decisions:

- Numbers stay numbers: a numeric cell (``-3``, ``-0.5``) is written as a number. A *text*
  cell that is exactly a plain number (``"-3"``, ``"+1.5"``, ``"-2e3"``) is left as it is too:
  a spreadsheet reads it as that number and runs nothing, and quoting it would change the
  data for every program that reads the CSV back. Anything else that starts with a risky
  character (``"-2+3"``, ``"=SUM(A1)"``, ``"@x"``) gets the leading quote in CSV.
- Excel files need no quote: a cell written as a string (``data_type "s"``) is never
  evaluated. Risky text cells are written as strings with Excel's "quote prefix" style, so
  that editing the cell in Excel keeps it text; the stored value is the original text.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
RISKY_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
#: the dtype pandas infers for a column of text (and missing values)
_TEXT = pd.Series(["x"]).dtype


def is_risky(value: object) -> bool:
    """True for text that a spreadsheet could run as a formula.

    Example:
        >>> [is_risky(v) for v in ("=1+1", "-3", -3, "-2+3", "@SUM(A1)", "ok", "\\tx")]
        [True, False, False, True, True, False, True]
    """
    return (
        isinstance(value, str) and value.startswith(RISKY_START) and not _PLAIN_NUMBER.match(value)
    )


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write in a CSV: risky text gets a leading single quote.

    Example:
        >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-3"), neutralise(-3)
        ('\\'=HYPERLINK("http://x")', '-3', -3)
    """
    return "'" + value if is_risky(value) else value


def neutralise_frame(data: pd.DataFrame) -> pd.DataFrame:
    """A copy with every risky text cell (and column name) neutralised; numbers untouched.

    Example:
        >>> import pandas as pd
        >>> neutralise_frame(pd.DataFrame({"x": ["=1+1", "a"], "n": [-1, 2]})).to_dict("list")
        {'x': ["'=1+1", 'a'], 'n': [-1, 2]}
    """
    # items(), not iloc: a quarter of the cost per column, and the tables are small and many
    given = [col for _, col in data.items()]
    cols = [_neutralised(col) if _may_hold_text(col) else col for col in given]
    return columns_frame(data, cols, [neutralise(c) for c in data.columns], given=given)


def _neutralised(col: pd.Series) -> pd.Series:
    """``col.astype(object).map(neutralise, na_action="ignore")``, without a Python call per
    cell through ``map`` when the column holds text (every text column of a report table).

    ``map`` infers the result's dtype: with a text cell present it keeps the values as they
    are and the Series constructor infers (text only: ``str``), which is what building the
    Series from the values does; without one (numbers held as objects) it may convert them,
    so that case still goes through ``map``.
    """
    values = col.to_numpy(dtype=object)
    if not any(isinstance(v, str) for v in values):
        return col.astype(object).map(neutralise, na_action="ignore")
    risky = [k for k, v in enumerate(values) if is_risky(v)]
    if risky:
        values = values.copy()
        values[risky] = ["'" + values[k] for k in risky]
    elif col.dtype == _TEXT or (col.dtype == object and holds_other_than_text(values)):
        return col  # already what the constructor would infer: the column itself
    return pd.Series(values, index=col.index, name=col.name)


def holds_other_than_text(values: np.ndarray) -> bool:
    """Whether an object array holds a value that is neither text nor missing: pandas then
    keeps it as objects (a column of text and missing values it infers as ``str``).

    Example:
        >>> import numpy as np
        >>> holds_other_than_text(np.array(["*", 5], dtype=object))
        True
        >>> holds_other_than_text(np.array(["*", None], dtype=object))
        False
    """
    return any(not isinstance(v, str) for v in values[~pd.isna(values)])


def columns_frame(
    data: pd.DataFrame,
    cols: list[pd.Series],
    names: list | pd.Index,
    *,
    given: list[pd.Series] | None = None,
) -> pd.DataFrame:
    """A new frame of ``cols`` (columns of ``data``, some replaced) named ``names``, with
    ``data``'s index and no attrs: one construction, not a copy and a write per column (a
    report writes 62 small tables). ``given``: the columns as read from ``data``; when every
    one of ``cols`` is one of them, unchanged, the frame is a (copy-on-write) view of ``data``."""
    if (
        not isinstance(names, pd.Index)
        and data.columns.dtype == _TEXT
        and list(names) == data.columns.tolist()
    ):
        # data's own labels, as the list would be inferred (text): no new Index to infer and
        # build (a fifth of a small table's release)
        names = data.columns
    if given is not None and len(given) == len(cols) and all(map(operator.is_, cols, given)):
        out = data.copy(deep=False)
    elif not cols or not data.index.is_unique:  # nothing to join, or labels concat cannot align
        out = data.copy()
        for j, col in enumerate(cols):
            out.isetitem(j, col)  # a Series keeps its dtype (objects of text stay objects)
    else:
        out = pd.concat(cols, axis=1, ignore_index=True)
    out.attrs = {}
    if out.columns is not names:
        out.columns = names
    return out


def write_csv(data: pd.DataFrame, path: str | Path, **to_csv: Any) -> Path:
    """Write ``data`` as CSV with risky text neutralised (``to_csv`` options pass through).

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = write_csv(pd.DataFrame({"note": ["=cmd"], "n": [-3]}), p)
        >>> p.read_text().splitlines()
        ['note,n', "'=cmd,-3"]
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    to_csv.setdefault("index", False)
    # CRLF, as RFC 4180 and Excel: the csv writer quotes a cell holding any character of the
    # line terminator, so a carriage return inside a cell is quoted instead of splitting the
    # row (with "\n" alone, "a\rb" is written bare and read back as two rows).
    to_csv.setdefault("lineterminator", "\r\n")
    neutralise_frame(data).to_csv(p, **to_csv)
    return p


def write_excel(sheets: pd.DataFrame | Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write one table, or ``{sheet name: table}``, as an .xlsx workbook in which every text
    cell is a string cell (never a formula); numbers stay numbers.

    Example:
        >>> import tempfile, pathlib, openpyxl, pandas as pd
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
        >>> _ = write_excel(pd.DataFrame({"note": ["=1+1"], "n": [-3]}), p)
        >>> c = openpyxl.load_workbook(p).active["A2"]
        >>> c.value, c.data_type
        ('=1+1', 's')
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(sheets, pd.DataFrame):
        sheets = {"Sheet1": sheets}
    with pd.ExcelWriter(p, engine="openpyxl") as xl:
        for name, df in sheets.items():
            out = df.copy()
            out.attrs = {}
            out.to_excel(xl, sheet_name=name, index=False)
            ws = xl.sheets[name]
            # only the header and the columns that can hold text need a look
            text_cols = [j + 1 for j, c in enumerate(out.columns) if _may_hold_text(out[c])]
            cells = [c for row in ws.iter_rows(max_row=1) for c in row]
            for j in text_cols:
                cells += [c for (c,) in ws.iter_rows(min_row=2, min_col=j, max_col=j)]
            for cell in cells:
                # openpyxl turns any text starting with "=" into a formula cell
                if cell.data_type == "f" or is_risky(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return p


def _may_hold_text(col: pd.Series) -> bool:
    return (
        col.dtype == object
        or pd.api.types.is_string_dtype(col.dtype)
        or isinstance(col.dtype, pd.CategoricalDtype)
    )


def excel_read_error(path: str | Path, err: Exception) -> str:
    """The message for an .xlsx that cannot be opened: damaged, not a workbook, no such sheet.

    zipfile, zlib, the XML parser and openpyxl each raise their own exception types for a
    damaged file; callers catch ``Exception`` around ``pd.read_excel`` and say this instead.

    Example:
        >>> excel_read_error("x.xlsx", KeyError("zip"))[:60]
        'x.xlsx: could not be read as an Excel workbook; is the file '
    """
    if isinstance(err, ValueError) and "Worksheet" in str(err):
        return f"{path}: {err}"
    return (
        f"{path}: could not be read as an Excel workbook; is the file damaged, or not really "
        f".xlsx? ({type(err).__name__}: {err})"
    )
