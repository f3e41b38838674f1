"""Reading an MHSDS-shaped extract: a folder of ``<Table>.csv``/``.parquet`` files, a dict of
DataFrames or a DuckDB connection. Types and keys are checked; every problem is a row of
``extract.problems`` (table, row, column, problem) and nothing is guessed.

Rows stay in their tables (nothing is dropped here); which rows the metric uses, and why the
others are not used, is the metric's job (``result.referrals`` and ``result.unused``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._internal.params import Options, validate_params
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


@dataclass
class MHSDSExtract:
    """A checked MHSDS extract.

    * ``tables``: table name -> DataFrame with every column of :data:`TABLES` (absent optional
      columns are added empty), codes as text, dates as ``datetime64``, ids as ``Int64``;
      ``PersScore`` stays text and its number is in ``score``; ``_row`` is the source row.
    * ``raw``: the tables as read, before any conversion (for inspection).
    * ``reference``: ``ref_sub_icb`` and ``ref_lsoa_imd`` when given.
    * ``problems``: one row per problem: ``table, row, column, problem``.
    * ``con``: with ``read(folder, engine="duckdb")``, the DuckDB connection holding the
      typed tables (``tables`` then fetches a table into pandas only when it is asked for).
    """

    tables: dict[str, pd.DataFrame]
    raw: dict[str, pd.DataFrame]
    reference: dict[str, pd.DataFrame]
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    con: object = None

    def __repr__(self) -> str:
        n = self.tables.sizes() if hasattr(self.tables, "sizes") else self.tables
        sizes = ", ".join(f"{k}: {v if isinstance(v, int) else len(v)}" for k, v in n.items())
        return f"MHSDSExtract({sizes}; {len(self.problems)} problems)"


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


def _load_folder(path: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        if f.suffix.lower() == ".csv"
        else pd.read_parquet(f)
        for name, f in table_files(path).items()
    }


def _load_connection(con) -> dict[str, pd.DataFrame]:
    names = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    return {
        n: con.execute(f'SELECT * FROM "{n}"').df() for n in [*TABLES, *REFERENCE] if n in names
    }


@validate_params(
    {
        "path_or_tables": "no_validation",
        "reference": [dict, None],
        "engine": Options(str, {"pandas", "duckdb"}),
        "memory_limit": [str],
    }
)
def read(
    path_or_tables: str | Path | Mapping[str, pd.DataFrame] | object,
    *,
    reference: Mapping[str, pd.DataFrame] | None = None,
    engine: str = "pandas",
    memory_limit: str = "3GB",
) -> MHSDSExtract:
    """Read and check an MHSDS-shaped extract (MHSDS v6 names, specs/mhsds.md section 2).

    ``path_or_tables`` is a folder of ``<Table>.csv`` or ``<Table>.parquet`` files (plus
    optional ``ref_sub_icb`` and ``ref_lsoa_imd``), a dict ``{table name: DataFrame}`` or a
    DuckDB connection holding tables of those names. ``reference=`` passes the lookups
    separately (sub-ICB -> ICB and region; LSOA 2011 -> IMD 2019 decile).

    A missing required table or column raises :class:`~outcomes.DataStructureError` naming
    it; an unknown table name is an error with a suggestion. Cells that do not parse, duplicate
    keys, unknown SNOMED codes (one row per code, ``row`` = how many rows) and MHS607 rows whose
    contact is absent are listed in ``problems``.

    Example:
        >>> import pandas as pd
        >>> ex = read({
        ...     "MHS001MPI": pd.DataFrame({"Person_ID": ["P1"]}),
        ...     "MHS101Referral": pd.DataFrame({"UniqServReqID": ["R1"], "Person_ID": ["P1"],
        ...         "ReferralRequestReceivedDate": ["2024-09-20"], "ServDischDate": ["2025-03-20"],
        ...         "AgeServReferRecDate": ["12"]}),
        ...     "MHS201CareContact": pd.DataFrame({"UniqCareContID": ["C1"], "UniqServReqID": ["R1"],
        ...         "Person_ID": ["P1"], "CareContDate": ["2024-10-10"], "AttendStatus": ["5"],
        ...         "ConsMechanismMH": ["01"]}),
        ... })
        >>> ex.tables["MHS101Referral"]["ServDischDate"].iloc[0]
        Timestamp('2025-03-20 00:00:00')
        >>> len(ex.problems)
        0
    """
    from ..coded_scores import snomed_index
    from .reference import nhs_measures

    if engine == "duckdb":
        if not isinstance(path_or_tables, str | Path):
            raise DataStructureError(
                "read(..., engine='duckdb') takes a folder of table files; a dict of "
                "DataFrames or a connection is read with engine='pandas'"
            )
        from .duck import DuckTables, connect, load

        con, present, refs, prob = load(
            Path(path_or_tables), con=connect(memory_limit), reference=reference
        )
        return MHSDSExtract(
            tables=DuckTables(con, present), raw={}, reference=refs, problems=prob, con=con
        )
    if isinstance(path_or_tables, str | Path):
        given = _load_folder(Path(path_or_tables))
    elif isinstance(path_or_tables, Mapping):
        given = dict(path_or_tables)
        known = [*TABLES, *REFERENCE]
        for name, df in given.items():
            if name not in known:
                raise DataStructureError(unknown("MHSDS table", name, known))
            if not isinstance(df, pd.DataFrame):
                raise DataStructureError(
                    f"table {name}: expected a DataFrame, got {type(df).__name__}"
                )
    elif hasattr(path_or_tables, "execute"):
        given = _load_connection(path_or_tables)
    else:
        raise DataStructureError(
            "read() takes a folder path, a dict of DataFrames or a DuckDB connection, "
            f"not {type(path_or_tables).__name__}"
        )
    for name, df in (reference or {}).items():
        if name not in REFERENCE:
            raise DataStructureError(unknown("reference table", name, REFERENCE))
        given[name] = df

    missing = [t for t, spec in TABLES.items() if spec["required"] and t not in given]
    if missing:
        raise DataStructureError(
            f"required MHSDS table(s) missing: {missing}; tables given: {sorted(given)}"
        )
    problems: list[pd.DataFrame] = []
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        if name not in given:
            continue
        df = given[name]
        absent = [c for c in spec["needed"] if c not in df.columns]
        if absent:
            raise DataStructureError(
                f"table {name}: required column(s) {absent} missing; columns present: "
                f"{[str(c) for c in df.columns]} (MHSDS v6 names, case-sensitive)"
            )
        t = _parse(df.reset_index(drop=True), name, spec["columns"], problems)
        for c in spec["needed"]:
            if spec["columns"][c] == _T:
                _add(problems, name, t["_row"][t[c].isna()], c, "required value missing")
        key = spec["key"]
        if key:
            dup = t.duplicated(subset=key, keep="first") & t[key].notna().all(axis=1)
            _add(problems, name, t["_row"][dup], "+".join(key), "duplicate key (first row kept)")
        tables[name] = t

    known_codes = set(snomed_index()) | set(nhs_measures()["code"])
    for name in ("MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct"):
        if name in tables:
            codes = tables[name]["CodedAssToolType"]
            counts = codes[codes.notna() & ~codes.isin(known_codes)].value_counts()
            for code, n in counts.items():
                problems.append(
                    pd.DataFrame(
                        {
                            "table": [name],
                            "row": [int(n)],
                            "column": ["CodedAssToolType"],
                            "problem": [f"unknown SNOMED code {code} ({n} rows; row = count)"],
                        }
                    )
                )
    if "MHS607CodedScoreAssessmentAct" in tables:
        a = tables["MHS607CodedScoreAssessmentAct"]
        c = tables["MHS201CareContact"]
        ids = pd.MultiIndex.from_frame(c[["UniqServReqID", "UniqCareContID"]].astype(object))
        have = pd.MultiIndex.from_frame(a[["UniqServReqID", "UniqCareContID"]].astype(object)).isin(
            ids
        )
        _add(
            problems,
            "MHS607CodedScoreAssessmentAct",
            a["_row"][~have],
            "UniqCareContID",
            "no MHS201 contact with this UniqServReqID and UniqCareContID: the score has no date",
        )

    refs: dict[str, pd.DataFrame] = {}
    for name, cols in REFERENCE.items():
        if name in given:
            df = given[name]
            need = (
                ["SubICB_Code", "ICB_Code", "Region_Code"] if name == "ref_sub_icb" else list(cols)
            )
            absent = [c for c in need if c not in df.columns]
            if absent:
                raise DataStructureError(f"reference {name}: column(s) {absent} missing")
            t = _parse(df.reset_index(drop=True), name, cols, problems)
            k = "SubICB_Code" if name == "ref_sub_icb" else "LSOA2011"
            _add(problems, name, t["_row"][t.duplicated(k)], k, "duplicate key (first row kept)")
            refs[name] = t.drop_duplicates(k)
    prob = (
        pd.concat(problems, ignore_index=True)
        if problems
        else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    raw = {k: v for k, v in given.items() if k in TABLES}
    return MHSDSExtract(tables=tables, raw=raw, reference=refs, problems=prob)
