"""The MHSDS tables this project reads (MHSDS v6 names, specs/mhsds.md section 2): their
columns, kinds and keys, and the parsing of a table's cells into typed columns with every
unparsable cell listed as a problem. Shared by the pandas reader (``extract``) and the DuckDB
reader (``duck``), so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._internal.text import unknown
from ..errors import DataStructureError

# table -> (required?, {column: kind}, required columns, key columns)
# kinds: text (codes kept as text), int, date, time, timestamp, score (text + parsed number)
_T = "text"
TABLES: dict[str, dict] = {
    "MHS001MPI": {
        "required": True,
        "columns": {
            "Person_ID": _T,
            "UniqMonthID": "int",
            "Gender": _T,
            "GenderIDCode": _T,
            "NHSDEthnicity": _T,
            "LSOA2011": _T,
            "LADistrictAuth": _T,
            "OrgIDSubICBLocResidence": _T,
        },
        "needed": ["Person_ID"],
        "key": ["Person_ID", "UniqMonthID"],
    },
    "MHS101Referral": {
        "required": True,
        "columns": {
            "UniqServReqID": _T,
            "Person_ID": _T,
            "OrgIDProv": _T,
            "UniqMonthID": "int",
            "ReferralRequestReceivedDate": "date",
            "ServDischDate": "date",
            "AgeServReferRecDate": "int",
            "PrimReasonReferralMH": _T,
            "ServTeamType": _T,
            "ReferRejectionDate": "date",
        },
        "needed": [
            "UniqServReqID",
            "Person_ID",
            "ReferralRequestReceivedDate",
            "ServDischDate",
            "AgeServReferRecDate",
        ],
        "key": ["UniqServReqID", "UniqMonthID"],
    },
    "MHS102OtherServiceType": {
        "required": False,
        "columns": {
            "UniqServReqID": _T,
            "Person_ID": _T,
            "UniqMonthID": "int",
            "ServTeamTypeRefToMH": _T,
            "ReferRejectionDate": "date",
        },
        "needed": ["UniqServReqID", "ServTeamTypeRefToMH"],
        "key": [],
    },
    "MHS201CareContact": {
        "required": True,
        "columns": {
            "MHS201UniqID": "int",
            "UniqCareContID": _T,
            "UniqServReqID": _T,
            "Person_ID": _T,
            "OrgIDProv": _T,
            "UniqMonthID": "int",
            "CareContDate": "date",
            "CareContTime": "time",
            "AttendStatus": _T,
            "ConsMechanismMH": _T,
        },
        "needed": ["UniqCareContID", "UniqServReqID", "Person_ID", "CareContDate"],
        "key": ["UniqServReqID", "UniqCareContID"],
    },
    "MHS204IndirectActivity": {
        "required": False,
        "columns": {
            "MHS204UniqID": "int",
            "UniqServReqID": _T,
            "Person_ID": _T,
            "UniqMonthID": "int",
            "IndirectActDate": "date",
            "IndirectActTime": "time",
        },
        "needed": ["UniqServReqID", "Person_ID", "IndirectActDate"],
        "key": [],
    },
    "MHS501HospProvSpell": {
        "required": False,
        "columns": {"UniqHospProvSpellID": _T, "UniqServReqID": _T, "Person_ID": _T},
        "needed": ["UniqServReqID", "Person_ID"],
        "key": [],
    },
    "MHS606CodedScoreAssessmentRefer": {
        "required": False,
        "columns": {
            "MHS606UniqID": "int",
            "UniqServReqID": _T,
            "Person_ID": _T,
            "UniqMonthID": "int",
            "CodedAssToolType": _T,
            "PersScore": "score",
            "AssToolCompTimestamp": "timestamp",
        },
        "needed": [
            "MHS606UniqID",
            "UniqServReqID",
            "Person_ID",
            "CodedAssToolType",
            "PersScore",
            "AssToolCompTimestamp",
        ],
        "key": ["MHS606UniqID"],
    },
    "MHS607CodedScoreAssessmentAct": {
        "required": False,
        "columns": {
            "MHS607UniqID": "int",
            "UniqServReqID": _T,
            "Person_ID": _T,
            "UniqMonthID": "int",
            "UniqCareContID": _T,
            "CodedAssToolType": _T,
            "PersScore": "score",
        },
        "needed": [
            "MHS607UniqID",
            "UniqServReqID",
            "Person_ID",
            "UniqCareContID",
            "CodedAssToolType",
            "PersScore",
        ],
        "key": ["MHS607UniqID"],
    },
}
REFERENCE = {
    "ref_sub_icb": {
        "SubICB_Code": _T,
        "SubICB_Name": _T,
        "ICB_Code": _T,
        "ICB_Name": _T,
        "Region_Code": _T,
        "Region_Name": _T,
    },
    "ref_lsoa_imd": {"LSOA2011": _T, "IMD_Decile": "int"},
}
PROBLEM_COLUMNS = ["table", "row", "column", "problem"]


def _text(col: pd.Series) -> pd.Series:
    """Codes as text, trimmed; blank is missing. 1.0 read by a float parser becomes '1'."""
    s = col.astype("string").str.strip()
    return s.mask(s == "")


def _parse(
    df: pd.DataFrame, table: str, columns: Mapping[str, str], problems: list
) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["_row"] = np.arange(len(df), dtype="int64")
    for col, kind in columns.items():
        if col not in df.columns:
            out[col] = pd.Series(pd.NA, index=df.index, dtype="string")
            if kind in ("date", "timestamp"):
                out[col] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
            elif kind == "int":
                out[col] = pd.Series(pd.NA, index=df.index, dtype="Int64")
            if kind == "score":
                out["score"] = np.nan
            continue
        raw = df[col]
        is_text = raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)
        text = _text(raw) if is_text else None
        if kind in (_T, "time"):
            if text is None:
                # numbers read as numbers: 1.0 -> '1' (codes are text)
                vals = raw.astype(object).map(
                    lambda v: (
                        None
                        if pd.isna(v)
                        else str(int(v))
                        if isinstance(v, float) and float(v).is_integer()
                        else str(v)
                    )
                )
                text = _text(vals)
            out[col] = text
            continue
        if kind == "score":
            if text is None:
                text = _text(raw.astype(object).map(lambda v: None if pd.isna(v) else repr(v)))
            out[col] = text
            num = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & num.isna()
            _add(problems, table, out["_row"][bad], col, "score does not parse as a number")
            out["score"] = num.astype("float64")
            continue
        if kind == "int":
            num = pd.to_numeric(text if text is not None else raw, errors="coerce")
            given = (text.notna() if text is not None else raw.notna()) & True
            bad = given & (num.isna() | (num % 1 != 0))
            _add(problems, table, out["_row"][bad], col, "not a whole number")
            out[col] = num.where(~bad).astype("Float64").astype("Int64")
            continue
        # dates and timestamps
        if pd.api.types.is_datetime64_any_dtype(raw):
            d = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
            out[col] = d.astype("datetime64[ns]").dt.normalize()
            continue
        src = text if text is not None else _text(raw.astype(object).map(str))
        fmt = "%Y-%m-%d" if kind == "date" else "ISO8601"
        d = pd.to_datetime(src, format=fmt, errors="coerce")
        bad = src.notna() & d.isna()
        _add(problems, table, out["_row"][bad], col, f"not a {kind} (YYYY-MM-DD...)")
        out[col] = d.astype("datetime64[ns]").dt.normalize()
    return out


def _add(problems: list, table: str, rows: pd.Series, column: str, what: str) -> None:
    if len(rows):
        problems.append(
            pd.DataFrame(
                {"table": table, "row": rows.to_numpy(), "column": column, "problem": what}
            )
        )


def table_files(path: Path) -> dict[str, Path]:
    """The folder's table files by table name; an unknown name or a table given twice is an
    error (shared by the pandas and the DuckDB readers)."""
    if not path.is_dir():
        raise DataStructureError(f"{path} is not a folder of MHSDS table files")
    files: dict[str, Path] = {}
    known = [*TABLES, *REFERENCE]
    for f in sorted(path.iterdir()):
        if f.suffix.lower() not in (".csv", ".parquet"):
            continue
        name = f.stem
        if name not in known:
            raise DataStructureError(f"{f.name}: " + unknown("MHSDS table", name, known))
        if name in files:
            raise DataStructureError(f"table {name} is given twice (csv and parquet)")
        files[name] = f
    return files
