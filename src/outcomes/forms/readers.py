"""One reader per platform: read the file as the platform writes it, name the platform's own
columns (record ids, timestamps) and the rows the platform marks as not real responses. What
the item columns mean is decided in :mod:`outcomes.forms.mapping`, the same for every platform.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._internal.params import COUNT, validate_params
from ..errors import OutcomesError
from ._files import (
    EXCEL_SUFFIXES,
    SPSS_SUFFIXES,
    TEXT_SUFFIXES,
    check_file,
    excel_head,
    head_rows,
    is_import_id_row,
    read_excel,
    read_text,
)
from .mapping import RawExport
from .redcap import completion_forms, is_redcap_header, other_repeat_rows, redcap_meta

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
    "ExternalReference",
    "DistributionChannel",
    "UserLanguage",
)
#: Response types that are not real responses (Qualtrics' text for its Status column).
QUALTRICS_NOT_RESPONSES = ("Survey Preview", "Survey Test", "Spam", "Survey Preview Spam")
#: Microsoft Forms keeps Email and Name too; they identify people and are not carried over.
MSFORMS_META = ("ID", "Start time", "Completion time", "Last modified time")
MSFORMS_MARKERS = ("ID", "Start time", "Completion time")


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


def _platform_from_header(cols: list[str]) -> str:
    if is_redcap_header(cols):
        return "redcap"
    if any(c in ODK_MARKERS for c in cols):
        return "odk"
    if all(c in cols for c in MSFORMS_MARKERS):
        return "msforms"
    return "table"


@validate_params(
    {
        "source": ["path", "dataframe"],
        "sheet": [str, COUNT],
    }
)
def detect_platform(source: str | Path | pd.DataFrame, *, sheet: str | int = 0) -> str:
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
    rows = head_rows(p) if kind == "text" else excel_head(p, sheet=sheet)
    if not rows:
        raise OutcomesError(f"{p}: the file is empty")
    if len(rows) >= 3 and is_import_id_row(rows[2]):
        return "qualtrics"
    return _platform_from_header([str(c) for c in rows[0]])


# ----------------------------------------------------------------------------- readers
def _load(source: str | Path | pd.DataFrame, sheet, skiprows=None) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        df = source.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
        return df, "<DataFrame>"
    p = check_file(source)
    kind = _kind(p)
    if kind == "spss":
        raise OutcomesError(f"{p}: an SPSS file; read it with platform='spss'")
    df = (
        read_text(p, skiprows=skiprows)
        if kind == "text"
        else read_excel(p, sheet=sheet, skiprows=skiprows)
    )
    return df, str(p)


def read_redcap(source, *, forms: set[str], sheet: str | int = 0) -> RawExport:
    """A REDCap record export (raw or label values; raw or label headers; CSV or Excel)."""
    df, name = _load(source, sheet)
    cols = list(df.columns)
    return RawExport(
        data=df,
        platform="redcap",
        source=name,
        meta=redcap_meta(cols, forms),
        drop=other_repeat_rows(df, forms),
        forms=completion_forms(cols),
    )


def read_odk(source, *, sheet: str | int = 0, **_) -> RawExport:
    """An ODK Central or KoboToolbox CSV/Excel export (group paths with '/' or '-')."""
    df, name = _load(source, sheet)
    meta = [c for c in df.columns if c in ODK_META]
    return RawExport(data=df, platform="odk", source=name, meta=meta)


def read_qualtrics(source, *, sheet: str | int = 0, **_) -> RawExport:
    """A Qualtrics CSV (or Excel) export: row 1 export tags, row 2 question text, row 3
    ImportIds. A legacy export without the ImportId row is read with two header rows."""
    if isinstance(source, pd.DataFrame):
        raise OutcomesError("a Qualtrics export is read from its file (three header rows)")
    p = check_file(source)
    kind = _kind(p)
    if kind == "spss":
        raise OutcomesError(f"{p}: an SPSS file; read it with platform='spss'")
    rows = head_rows(p) if kind == "text" else excel_head(p, sheet=sheet)
    if len(rows) < 2:
        raise OutcomesError(f"{p}: a Qualtrics export has at least two header rows")
    notes = []
    if len(rows) >= 3 and is_import_id_row(rows[2]):
        skip = [1, 2]
    else:
        skip = [1]
        notes.append(f"{p}: no ImportId header row; read as a legacy export (2 header rows)")
    df, name = _load(p, sheet, skiprows=skip)
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
    )


def read_msforms(source, *, sheet: str | int = 0, **_) -> RawExport:
    """A Microsoft Forms Excel export: ID, Start time, Completion time, Email, Name, then one
    column per question headed by its text, answers as choice labels."""
    df, name = _load(source, sheet)
    return RawExport(
        data=df,
        platform="msforms",
        source=name,
        meta=[c for c in df.columns if c in MSFORMS_META],
    )


def read_table(source, *, sheet: str | int = 0, **_) -> RawExport:
    """Any other CSV or Excel table: one row per response, one column per item."""
    df, name = _load(source, sheet)
    return RawExport(data=df, platform="table", source=name)


READERS = {
    "redcap": read_redcap,
    "odk": read_odk,
    "qualtrics": read_qualtrics,
    "spss": read_spss,
    "msforms": read_msforms,
    "table": read_table,
}
