"""Reading an MHSDS extract folder inside DuckDB: the files are scanned by DuckDB itself, typed
and checked in SQL, and the typed tables stay in the database for the metric.

Why a second reader: the pandas reader (:func:`outcomes.mhsds.read`) holds every table as
Python objects; at national scale (millions of referrals, tens of millions of score rows) that
costs minutes and many GB before the metric starts. Here the same checks as the pandas reader
(:func:`outcomes.mhsds.extract._parse`) are written as SQL, and the tests require the two
readers to give the same tables, problems and metric.

Each table ``<T>`` becomes a table ``s_<T>`` (typed columns, ``_row`` = the source row
number from 0, and one ``_bad_<column>`` flag per checked column) and a view ``t_<T>`` (the
typed columns only, the shape the method reads).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from .._internal.sql import ident, literal
from ..errors import DataStructureError
from .schema import PROBLEM_COLUMNS, REFERENCE, TABLES, _parse, table_files

_TYPES = {"text": "VARCHAR", "time": "VARCHAR", "int": "BIGINT", "date": "DATE"}
_TYPES.update({"timestamp": "DATE", "score": "VARCHAR"})
# integer types whose every value fits a BIGINT (UBIGINT and HUGEINT take the checked path)
_WHOLE = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"}


_SPILL: str | None = None


def connect(memory_limit: str = "3GB", threads: int | None = None):
    """A DuckDB connection that spills to a private temporary folder beyond ``memory_limit``."""
    import duckdb

    global _SPILL
    if _SPILL is None:
        # one spill folder per process, removed at exit
        _SPILL = tempfile.mkdtemp(prefix="outcomes_duckdb_")
        atexit.register(shutil.rmtree, _SPILL, True)
    con = duckdb.connect()
    spill = _SPILL
    con.execute(f"SET memory_limit = '{memory_limit}'")
    # a library call prints nothing of its own (DuckDB draws a bar on long queries)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{spill}'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _as_text(col: str, dtype: str) -> str:
    """Codes as text, trimmed, blank = missing; 1.0 stored as a float becomes '1' (as the pandas
    reader does)."""
    c = ident(col)
    if dtype == "VARCHAR":
        return f"NULLIF(TRIM({c}), '')"
    if dtype in ("FLOAT", "DOUBLE") or dtype.startswith("DECIMAL"):
        return (
            f"CASE WHEN isfinite({c}) AND {c} = TRUNC({c}) THEN CAST(CAST({c} AS BIGINT) "
            f"AS VARCHAR) ELSE CAST({c} AS VARCHAR) END"
        )
    return f"NULLIF(TRIM(CAST({c} AS VARCHAR)), '')"


def _column(col: str, kind: str, dtype: str | None) -> tuple[list[str], str | None]:
    """SELECT items for one column and the SQL of its 'bad' flag (None: never bad)."""
    if dtype is None:  # absent optional column
        items = [f"CAST(NULL AS {_TYPES[kind]}) AS {col}"]
        if kind == "score":
            items.append("CAST(NULL AS DOUBLE) AS score")
        return items, None
    c = ident(col)
    if kind in ("text", "time"):
        return [f"{_as_text(col, dtype)} AS {col}"], None
    if kind == "score":
        text = _as_text(col, dtype) if dtype == "VARCHAR" else f"CAST({c} AS VARCHAR)"
        num = f"TRY_CAST({text} AS DOUBLE)"
        bad = f"({text} IS NOT NULL AND ({num} IS NULL OR isnan({num})))"
        value = f"CASE WHEN {bad} THEN NULL ELSE {num} END"
        return [f"{text} AS {col}", f"{value} AS score"], bad
    if kind == "int" and dtype in _WHOLE:
        # stored as integers (as Parquet extracts are): nothing to check, and the check's
        # casts through DOUBLE cost a second of CPU per 10 million rows
        return [f"CAST({c} AS BIGINT) AS {col}"], None
    if kind == "int":
        src = f"NULLIF(TRIM({c}), '')" if dtype == "VARCHAR" else c
        num = f"TRY_CAST({src} AS DOUBLE)"
        bad = (
            f"({src} IS NOT NULL AND ({num} IS NULL OR NOT isfinite({num}) "
            f"OR {num} <> TRUNC({num})))"
        )
        return [f"CASE WHEN {bad} THEN NULL ELSE CAST({num} AS BIGINT) END AS {col}"], bad
    # date / timestamp: the date part
    if dtype != "VARCHAR":
        return [f"CAST({c} AS DATE) AS {col}"], None
    src = f"NULLIF(TRIM({c}), '')"
    if kind == "date":
        val = f"CAST(TRY_STRPTIME({src}, '%Y-%m-%d') AS DATE)"
    else:
        val = f"CAST(TRY_CAST({src} AS TIMESTAMP) AS DATE)"
    return [f"{val} AS {col}"], f"({src} IS NOT NULL AND {val} IS NULL)"


def _source(con, name: str, path: Path) -> tuple[str, dict[str, str]]:
    """A relation over the file with ``_row`` in file order, and its column types."""
    p = literal(path)
    if path.suffix.lower() == ".parquet":
        rel = f"(SELECT *, file_row_number AS _row FROM read_parquet({p}, file_row_number = true))"
    else:
        # codes keep leading zeros: every CSV column is read as text, as the pandas reader does
        raw = f"raw_{name}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv({p}, "
            "all_varchar = true, header = true)"
        )
        rel = f"(SELECT *, rowid AS _row FROM {raw})"
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    types.pop("_row")
    types.pop("file_row_number", None)
    return rel, types


def _problem_sql(table: str, column: str, what: str, rows_sql: str) -> str:
    w = literal(what)
    return f'SELECT \'{table}\' AS "table", _row AS "row", \'{column}\' AS "column", {w} AS problem FROM ({rows_sql})'


def load(path: Path, *, con=None, reference: Mapping[str, pd.DataFrame] | None = None):
    """Read the folder into DuckDB; returns ``(con, present tables, reference frames,
    problems)``. Same checks and messages as :func:`outcomes.mhsds.extract.read`."""
    from ..coded_scores import snomed_index
    from .reference import nhs_measures

    con = connect() if con is None else con
    files = table_files(path)
    for name, df in (reference or {}).items():
        files[name] = df
    missing = [t for t, spec in TABLES.items() if spec["required"] and t not in files]
    if missing:
        raise DataStructureError(
            f"required MHSDS table(s) missing: {missing}; tables given: {sorted(files)}"
        )
    problems: list[str] = []
    present: list[str] = []
    for name, spec in TABLES.items():
        if name in files:
            rel, types = _source(con, name, files[name])
            absent = [c for c in spec["needed"] if c not in types]
            if absent:
                raise DataStructureError(
                    f"table {name}: required column(s) {absent} missing; columns present: "
                    f"{list(types)} (MHSDS v6 names, case-sensitive)"
                )
            present.append(name)
        else:
            rel, types = "(SELECT 0 AS _row WHERE FALSE)", {}
        items, flags = ["_row"], []
        for col, kind in spec["columns"].items():
            sel, bad = _column(col, kind, types.get(col))
            items += sel
            if bad is not None:
                items.append(f"{bad} AS _bad_{col}")
                flags.append(col)
        con.execute(f"CREATE OR REPLACE TABLE s_{name} AS SELECT {', '.join(items)} FROM {rel}")
        con.execute(f"DROP TABLE IF EXISTS raw_{name}")
        keep = ["_row"]
        for col in spec["columns"]:
            keep += [col, "score"] if col == "PersScore" else [col]
        con.execute(f"CREATE OR REPLACE VIEW t_{name} AS SELECT {', '.join(keep)} FROM s_{name}")
        if name not in present:
            continue
        what = {"int": "not a whole number", "score": "score does not parse as a number"}
        for col in flags:
            kind = spec["columns"][col]
            msg = what.get(kind, f"not a {kind} (YYYY-MM-DD...)")
            problems.append(
                _problem_sql(name, col, msg, f"SELECT _row FROM s_{name} WHERE _bad_{col}")
            )
        for col in spec["needed"]:
            if spec["columns"][col] == "text":
                problems.append(
                    _problem_sql(
                        name,
                        col,
                        "required value missing",
                        f"SELECT _row FROM s_{name} WHERE {col} IS NULL",
                    )
                )
        key = spec["key"]
        if key:
            k = ", ".join(key)
            nn = " AND ".join(f"{c} IS NOT NULL" for c in key)
            # only keys seen twice go through the window (a hash aggregate finds them); a
            # key of several columns is grouped by its hash, one integer (cheaper; a
            # collision only adds a candidate, the window compares the columns)
            h = f"hash({k})" if len(key) > 1 else k
            dups = (
                f"SELECT _row FROM (SELECT _row, ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY "
                f"_row) AS n FROM s_{name} WHERE {nn} AND {h} IN (SELECT {h} FROM s_{name} "
                f"WHERE {nn} GROUP BY {h} HAVING COUNT(*) > 1)) x WHERE n > 1"
            )
            problems.append(
                _problem_sql(name, "+".join(key), "duplicate key (first row kept)", dups)
            )

    codes = pd.DataFrame({"code": sorted(set(snomed_index()) | set(nhs_measures()["code"]))})
    con.register("known_codes_df", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE known_codes AS SELECT * FROM known_codes_df")
    con.unregister("known_codes_df")
    parts = [f"({p})" for p in problems]
    for name in ("MHS606CodedScoreAssessmentRefer", "MHS607CodedScoreAssessmentAct"):
        if name in present:
            parts.append(
                f"(SELECT '{name}', CAST(COUNT(*) AS BIGINT), 'CodedAssToolType', "
                "'unknown SNOMED code ' || CodedAssToolType || ' (' || CAST(COUNT(*) AS VARCHAR) "
                f"|| ' rows; row = count)' FROM s_{name} WHERE CodedAssToolType IS NOT NULL AND "
                "CodedAssToolType NOT IN (SELECT code FROM known_codes) GROUP BY CodedAssToolType)"
            )
    if "MHS607CodedScoreAssessmentAct" in present:
        parts.append(
            "("
            + _problem_sql(
                "MHS607CodedScoreAssessmentAct",
                "UniqCareContID",
                "no MHS201 contact with this UniqServReqID and UniqCareContID: the score has "
                "no date",
                "SELECT a._row FROM s_MHS607CodedScoreAssessmentAct a WHERE NOT EXISTS (SELECT "
                "1 FROM s_MHS201CareContact c WHERE c.UniqServReqID IS NOT DISTINCT FROM "
                "a.UniqServReqID AND c.UniqCareContID IS NOT DISTINCT FROM a.UniqCareContID)",
            )
            + ")"
        )

    # the lookups are small: read and checked by the pandas reader's own code
    refs: dict[str, pd.DataFrame] = {}
    ref_problems: list[pd.DataFrame] = []
    for name, cols in REFERENCE.items():
        if name not in files:
            continue
        src = files[name]
        if isinstance(src, Path):
            df = (
                pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""])
                if src.suffix.lower() == ".csv"
                else pd.read_parquet(src)
            )
        else:
            df = src
        need = ["SubICB_Code", "ICB_Code", "Region_Code"] if name == "ref_sub_icb" else list(cols)
        absent = [c for c in need if c not in df.columns]
        if absent:
            raise DataStructureError(f"reference {name}: column(s) {absent} missing")
        t = _parse(df.reset_index(drop=True), name, cols, ref_problems)
        k = "SubICB_Code" if name == "ref_sub_icb" else "LSOA2011"
        dup = t["_row"][t.duplicated(k)]
        if len(dup):
            ref_problems.append(
                pd.DataFrame(
                    {
                        "table": name,
                        "row": dup.to_numpy(),
                        "column": k,
                        "problem": "duplicate key (first row kept)",
                    }
                )
            )
        refs[name] = t.drop_duplicates(k)
    for name, cols in REFERENCE.items():
        df = refs.get(name)
        if df is None:
            df = _parse(pd.DataFrame(columns=list(cols)), name, cols, [])
        df = df[list(cols)].astype({c: "float64" for c, k in cols.items() if k == "int"})
        df = df.astype({c: object for c, k in cols.items() if k == "text"})
        con.register(f"{name}_df", df.where(df.notna(), None))
        sel = ", ".join(f"CAST({c} AS {_TYPES[k]}) AS {c}" for c, k in cols.items())
        con.execute(f"CREATE OR REPLACE TABLE t_{name} AS SELECT {sel} FROM {name}_df")
        con.unregister(f"{name}_df")

    prob = (
        con.execute(" UNION ALL ".join(parts)).df()
        if parts
        else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    prob.columns = PROBLEM_COLUMNS
    prob = pd.concat([prob, *ref_problems], ignore_index=True) if ref_problems else prob
    return con, present, refs, prob.reset_index(drop=True)


class DuckTables(Mapping):
    """The typed tables held in DuckDB, fetched into pandas only when asked for (the Spark and
    pandas engines, or a user's inspection)."""

    def __init__(self, con, names: list[str]):
        self._con, self._names, self._cache = con, list(names), {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            df = self._con.execute(f"SELECT * FROM t_{name} ORDER BY _row").df()
            for col, kind in TABLES[name]["columns"].items():
                if kind in ("text", "time", "score"):
                    df[col] = df[col].astype("string")
                elif kind == "int":
                    df[col] = df[col].astype("Int64")
                else:
                    df[col] = df[col].astype("datetime64[ns]")
            self._cache[name] = df
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def sizes(self) -> dict[str, int]:
        return {
            n: self._con.execute(f"SELECT COUNT(*) FROM t_{n}").fetchone()[0] for n in self._names
        }
