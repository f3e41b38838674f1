"""One reader per platform: read the file as the platform writes it, name the platform's own
columns (record ids, timestamps) and the rows the platform marks as not real responses. What
the item columns mean is decided in :mod:`outcomes.forms.mapping`, the same for every platform.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._internal.file_rows import TEXT_SUFFIXES, RowLayout
from .._internal.params import COUNT, OPTIONAL_TEXT, validate_params
from ..errors import OutcomesError
from ._files import (
    DEFAULT_OPTIONS,
    EXCEL_SUFFIXES,
    SPSS_SUFFIXES,
    FileOptions,
    check_file,
    excel_head,
    head_rows,
    is_import_id_row,
    read_excel,
    read_text,
)
from .mapping import RawExport
from .redcap import completion_forms, is_redcap_header, redcap_meta, repeat_column

#: Platform names accepted by read_export (aliases on the right map to the name on the left).
PLATFORMS = ("redcap", "odk", "qualtrics", "spss", "msforms", "table")
ALIASES = {
    "kobo": "odk",
    "kobotoolbox": "odk",
    "xlsform": "odk",
    "ona": "odk",
    "sav": "spss",
    "microsoft_forms": "msforms",
    "ms_forms": "msforms",
    "forms": "msforms",
    "csv": "table",
    "excel": "table",
    "xlsx": "table",
}

ODK_META = (
    "KEY",
    "SubmissionDate",
    "SubmitterID",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
    "start",
    "end",
    "today",
    "instanceID",
    "meta-instanceID",
    "meta/instanceID",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_status",
    "_index",
    "__version__",
)
#: Columns that only ODK Central or Kobo write; any one of them marks an ODK/Kobo export.
ODK_MARKERS = (
    "KEY",
    "SubmissionDate",
    "_uuid",
    "_submission_time",
    "meta-instanceID",
    "meta/instanceID",
    "__version__",
    "_submitted_by",
)
QUALTRICS_META = (
    "StartDate",
    "EndDate",
    "Status",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "ResponseID",
    "ExternalReference",
    "DistributionChannel",
    "UserLanguage",
)
#: Response types that are not real responses (Qualtrics' text for its Status column).
QUALTRICS_NOT_RESPONSES = ("Survey Preview", "Survey Test", "Spam", "Survey Preview Spam")
#: Microsoft Forms keeps Email and Name too; they identify people and are not carried over.
MSFORMS_META = ("ID", "Start time", "Completion time", "Last modified time")
MSFORMS_MARKERS = ("ID", "Start time", "Completion time")
_MSFORMS_META_KEYS = {c.casefold() for c in MSFORMS_META}


def canonical_platform(platform: str) -> str:
    p = platform.strip().lower().replace(" ", "_").replace("-", "_")
    p = ALIASES.get(p, p)
    if p not in (*PLATFORMS, "auto"):
        raise OutcomesError(
            f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)} or 'auto'"
        )
    return p


# ----------------------------------------------------------------------------- detection
def _kind(p: Path) -> str:
    s = p.suffix.lower()
    if s in SPSS_SUFFIXES:
        return "spss"
    if s in TEXT_SUFFIXES:
        return "text"
    if s in EXCEL_SUFFIXES:
        return "excel"
    raise OutcomesError(f"{p}: unsupported file type {p.suffix!r}; use .csv, .tsv, .xlsx or .sav")


def _msforms_markers(cols: list[str]) -> bool:
    # Microsoft Forms has headed the id column "ID" and, in newer exports, "Id".
    have = {c.strip().casefold() for c in cols}
    return all(m.casefold() in have for m in MSFORMS_MARKERS)


def _platform_from_header(cols: list[str]) -> str:
    if is_redcap_header(cols):
        return "redcap"
    if any(c in ODK_MARKERS for c in cols):
        return "odk"
    if _msforms_markers(cols):
        return "msforms"
    return "table"


def _head(p: Path, kind: str, opts: FileOptions) -> list[list[str]]:
    return head_rows(p, opts) if kind == "text" else excel_head(p, sheet=opts.sheet)


@validate_params(
    {
        "source": ["path", "dataframe"],
        "sheet": [str, COUNT],
        "sep": OPTIONAL_TEXT,
        "encoding": OPTIONAL_TEXT,
    }
)
def detect_platform(
    source: str | Path | pd.DataFrame,
    *,
    sheet: str | int = 0,
    sep: str | None = None,
    encoding: str | None = None,
) -> str:
    """Which platform wrote an export, from its extension and header rows.

    Example:
        >>> import pandas as pd
        >>> detect_platform(pd.DataFrame(columns=["record_id", "q1", "honosca_complete"]))
        'redcap'
    """
    if isinstance(source, pd.DataFrame):
        return _platform_from_header([str(c) for c in source.columns])
    p = check_file(source)
    kind = _kind(p)
    if kind == "spss":
        return "spss"
    rows = _head(p, kind, FileOptions(sheet, sep, encoding))
    if not rows:
        raise OutcomesError(f"{p}: the file is empty")
    if len(rows) >= 3 and is_import_id_row(rows[2]):
        return "qualtrics"
    header = [str(c) for c in rows[0]]
    if len(rows) >= 2 and is_legacy_qualtrics(header, rows[1]):
        return "qualtrics"
    return _platform_from_header(header)


def is_legacy_qualtrics(header: list[str], second: list[str]) -> bool:
    """A Qualtrics export without the ImportId row: two header rows, a response-id column in
    the first (``ResponseId``; ``V1`` in the oldest format) and the columns' descriptions in
    the second ("Response ID", "Start Date", ...)."""
    names = {str(c).strip() for c in header}
    if not names & {"ResponseId", "ResponseID", "V1"}:
        return False
    described = {str(t).replace(" ", "").casefold() for t in second}
    return bool(described & {"responseid", "startdate", "enddate"})


# ----------------------------------------------------------------------------- readers
def _load(
    source: str | Path | pd.DataFrame, opts: FileOptions, skiprows=None
) -> tuple[tuple[pd.DataFrame, RowLayout, str], str]:
    """((frame, row layout, how a text file was read), source name)."""
    if isinstance(source, pd.DataFrame):
        df = source.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
        return (df, RowLayout("positions"), ""), "<DataFrame>"
    p = check_file(source)
    kind = _kind(p)
    if kind == "spss":
        raise OutcomesError(f"{p}: an SPSS file; read it with platform='spss'")
    if kind == "text":
        return read_text(p, opts, skiprows=skiprows), str(p)
    df = read_excel(p, sheet=opts.sheet, skiprows=skiprows)
    layout = RowLayout("spreadsheet", header_rows=1 + len(skiprows or []), name=p.name)
    return (df, layout, ""), str(p)


def read_redcap(source, *, forms: set[str], opts: FileOptions = DEFAULT_OPTIONS) -> RawExport:
    """A REDCap record export (raw or label values; raw or label headers; CSV or Excel)."""
    (df, layout, read_as), name = _load(source, opts)
    cols = list(df.columns)
    return RawExport(
        data=df,
        platform="redcap",
        source=name,
        meta=redcap_meta(cols, forms),
        forms=completion_forms(cols),
        form_column=repeat_column(cols),
        own_forms=tuple(forms),
        layout=layout,
        read_as=read_as,
    )


def read_odk(source, *, opts: FileOptions = DEFAULT_OPTIONS, **_) -> RawExport:
    """An ODK Central or KoboToolbox CSV/Excel export (group paths with '/' or '-')."""
    (df, layout, read_as), name = _load(source, opts)
    meta = [c for c in df.columns if c in ODK_META]
    return RawExport(
        data=df, platform="odk", source=name, meta=meta, layout=layout, read_as=read_as
    )


def read_qualtrics(source, *, opts: FileOptions = DEFAULT_OPTIONS, **_) -> RawExport:
    """A Qualtrics CSV (or Excel) export: row 1 export tags, row 2 question text, row 3
    ImportIds. A legacy export without the ImportId row is read with two header rows."""
    if isinstance(source, pd.DataFrame):
        raise OutcomesError("a Qualtrics export is read from its file (three header rows)")
    p = check_file(source)
    kind = _kind(p)
    if kind == "spss":
        raise OutcomesError(f"{p}: an SPSS file; read it with platform='spss'")
    rows = _head(p, kind, opts)
    if len(rows) < 2:
        raise OutcomesError(f"{p}: a Qualtrics export has at least two header rows")
    notes = []
    if len(rows) >= 3 and is_import_id_row(rows[2]):
        skip = [1, 2]
    else:
        skip = [1]
        notes.append(f"{p}: no ImportId header row; read as a legacy export (2 header rows)")
    (df, layout, read_as), name = _load(p, opts, skiprows=skip)
    header = [str(c) for c in rows[0]]
    texts = {str(c): str(t) for c, t in zip(header, rows[1], strict=False) if str(t).strip()}
    drop = None
    if "Status" in df.columns:
        status = df["Status"].astype(object)
        st = status.astype(str).str.strip()
        bad = st.isin(QUALTRICS_NOT_RESPONSES)
        drop = pd.Series(pd.NA, index=df.index, dtype=object)
        drop[bad] = "not a real response: Qualtrics status " + st[bad]
    return RawExport(
        data=df,
        platform="qualtrics",
        source=name,
        texts=texts,
        meta=[c for c in df.columns if c in QUALTRICS_META],
        drop=drop,
        case_sensitive=True,
        notes=notes,
        layout=layout,
        read_as=read_as,
    )


def read_spss(source, **_) -> RawExport:
    """An SPSS .sav file, with value labels, variable labels and user-missing values."""
    import pyreadstat

    if isinstance(source, pd.DataFrame):
        raise OutcomesError("an SPSS export is read from its .sav file")
    p = check_file(source)
    try:
        df, meta = pyreadstat.read_sav(str(p), apply_value_formats=False, user_missing=True)
    except Exception as e:  # pyreadstat raises its own ReadstatError and OSError subclasses
        raise OutcomesError(f"{p}: could not be read as an SPSS .sav file: {e}") from None
    ranges = {
        var: [(float(r["lo"]), float(r["hi"])) for r in rr]
        for var, rr in (meta.missing_ranges or {}).items()
        if rr
    }
    for var, vals in (getattr(meta, "missing_user_values", None) or {}).items():
        ranges.setdefault(var, []).extend(
            (float(v), float(v)) for v in vals if isinstance(v, int | float)
        )
    return RawExport(
        data=df.reset_index(drop=True),
        platform="spss",
        source=str(p),
        texts={k: v for k, v in (meta.column_names_to_labels or {}).items() if v},
        value_labels=meta.variable_value_labels or {},
        user_missing=ranges,
        layout=RowLayout("cases", name=p.name),
    )


def read_msforms(source, *, opts: FileOptions = DEFAULT_OPTIONS, **_) -> RawExport:
    """A Microsoft Forms Excel export: ID, Start time, Completion time, Email, Name, then one
    column per question headed by its text, answers as choice labels."""
    (df, layout, read_as), name = _load(source, opts)
    return RawExport(
        data=df,
        platform="msforms",
        source=name,
        meta=[c for c in df.columns if c.strip().casefold() in _MSFORMS_META_KEYS],
        layout=layout,
        read_as=read_as,
    )


def read_table(source, *, opts: FileOptions = DEFAULT_OPTIONS, **_) -> RawExport:
    """Any other CSV or Excel table: one row per response, one column per item."""
    (df, layout, read_as), name = _load(source, opts)
    return RawExport(data=df, platform="table", source=name, layout=layout, read_as=read_as)


READERS = {
    "redcap": read_redcap,
    "odk": read_odk,
    "qualtrics": read_qualtrics,
    "spss": read_spss,
    "msforms": read_msforms,
    "table": read_table,
}
