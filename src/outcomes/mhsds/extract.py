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

import pandas as pd

from .._internal.params import Options, validate_params
from .._internal.text import unknown
from ..errors import DataStructureError
from .schema import _T, PROBLEM_COLUMNS, REFERENCE, TABLES, _add, _parse, table_files


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
