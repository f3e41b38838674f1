"""The CYP outcomes metric on an MHSDS extract: runs :mod:`outcomes.mhsds.method` on an
engine and shapes the result (specs/mhsds.md sections 3.10-3.12 and 5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._internal.dates import to_timestamp
from .._internal.params import Options, validate_params
from .._internal.sql import ident, literal
from .._internal.text import unknown
from ..errors import OutcomesError
from . import method
from .extract import MHSDSExtract
from .reference import (
    BREAKDOWNS,
    RATERS,
    SUPPRESSED_BREAKDOWNS,
    check_convention,
    rcads_norms,
    scale_table,
)
from .schema import REFERENCE, TABLES, _parse

OUTCOMES = ("improvement", "no_change", "deterioration")
MEASURE_IDS = {
    # (count, rater) -> NHS measure id (META l.1699-2228; specs/mhsds.md 3.10)
    ("n_referrals", "any"): "MHS110",
    ("n_assessed", "any"): "MHS111",
    ("n_assessed", "self"): "MHS111b",
    ("n_assessed", "parent"): "MHS111d",
    ("n_assessed", "clinician"): "MHS111f",
    ("n_paired", "any"): "MHS112",
    ("n_paired", "self"): "MHS112b",
    ("n_paired", "parent"): "MHS112d",
    ("n_paired", "clinician"): "MHS112f",
    ("pct_assessed", "self"): "MHS111a",
    ("pct_assessed", "parent"): "MHS111c",
    ("pct_assessed", "clinician"): "MHS111e",
    ("pct_assessed", "any"): "MHS111g",
    ("pct_paired", "self"): "MHS112a",
    ("pct_paired", "parent"): "MHS112c",
    ("pct_paired", "clinician"): "MHS112e",
    ("pct_paired", "any"): "MHS112g",
}
for _r, _m in (("self", "MHS113"), ("parent", "MHS114"), ("clinician", "MHS115")):
    MEASURE_IDS.update(
        {
            ("n_improvement", _r): f"{_m}a",
            ("pct_improvement", _r): f"{_m}b",
            ("n_deterioration", _r): f"{_m}c",
            ("pct_deterioration", _r): f"{_m}d",
            ("n_no_change", _r): f"{_m}e",
            ("pct_no_change", _r): f"{_m}f",
        }
    )


_DETAILS = {
    # name -> (SQL over the engine's steps, order); fetched when first asked for
    "referrals": "SELECT * FROM per_referral ORDER BY UniqServReqID",
    "measures": "SELECT * FROM measures ORDER BY UniqServReqID, nhs_scale",
    "unused": "SELECT * FROM unused ORDER BY source, id, _row",
}


def _as_written(frame: pd.DataFrame) -> str:
    """The select list that writes a fetched detail table as the engine wrote it: the
    engines' dates come back to pandas as timestamps, and are dates again here."""
    cols = []
    for name in frame.columns:
        q = ident(str(name))
        s = frame[name]
        if s.dtype.kind == "M" and bool((s.isna() | (s == s.dt.normalize())).all()):
            q = f"CAST({q} AS DATE) AS {q}"
        cols.append(q)
    return ", ".join(cols)


@dataclass
class NHSMetricResult:
    """The metric on an extract. ``to_frame()``: one row per breakdown x level x rater
    (raw counts and NHS percentages); ``to_nhs_frame()``: NHS's long publication format;
    ``referrals``: every MHS101 referral with ``in_scope``, ``reason``, contacts and per-rater
    flags; ``measures``: referral x scale with first/last and the class; ``unused``: every
    assessment row not used, with the reason.

    On DuckDB the three detail tables stay in the database until first asked for (millions
    of rows at national scale); ``write_details(folder)`` writes them as CSV from the engine.
    """

    table: pd.DataFrame
    details: dict = field(default_factory=dict, repr=False)
    convention: str = "nhs"
    engine: str = "duckdb"
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    cursor: object = field(default=None, repr=False)

    def _detail(self, name: str) -> pd.DataFrame:
        if name not in self.details:
            self.details[name] = self.cursor.execute(_DETAILS[name]).df()
        return self.details[name]

    @property
    def referrals(self) -> pd.DataFrame:
        return self._detail("referrals")

    @property
    def measures(self) -> pd.DataFrame:
        return self._detail("measures")

    @property
    def unused(self) -> pd.DataFrame:
        return self._detail("unused")

    @validate_params({"folder": [str, Path]})
    def write_details(self, folder: str | Path) -> None:
        """``referrals.csv``, ``measures.csv`` and ``unused.csv`` in ``folder`` (DuckDB writes
        them itself when the tables are still in the engine)."""
        import duckdb

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # One writer whatever the engine and whether a table was looked at first: DuckDB's CSV
        # (true/false, "" for an empty reason, missing as nothing), so files from DuckDB and
        # Spark runs compare equal byte for byte.
        own = self.cursor is None  # a pandas or Spark result: a connection just to write
        con = duckdb.connect() if own else self.cursor
        try:
            for name, sql in _DETAILS.items():
                target = literal(folder / f"{name}.csv")
                fetched = name in self.details or own
                if fetched:  # written from the frame, as the engine would have written it
                    frame = self._detail(name)
                    con.register("_detail_frame", frame)
                    sql = f"SELECT {_as_written(frame)} FROM _detail_frame"
                con.execute(f"COPY ({sql}) TO {target} (HEADER, DELIMITER ',')")
                if fetched:
                    con.unregister("_detail_frame")
        finally:
            if own:
                con.close()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @validate_params({"suppress": "boolean"})
    def to_nhs_frame(self, *, suppress: bool = False) -> pd.DataFrame:
        """NHS long format: ``BREAKDOWN, PRIMARY_LEVEL, PRIMARY_LEVEL_DESCRIPTION, MEASURE_ID,
        MEASURE_VALUE``. ``suppress=True`` applies the ``mhsds`` disclosure rule to the
        Provider, ICB and region breakdowns only, as NHS publishes (3.12)."""
        from ..disclosure import apply

        t = self.table
        rows = []
        for (count, rater), mid in MEASURE_IDS.items():
            part = t[t["rater"] == rater]
            for _, r in part.iterrows():
                rows.append(
                    {
                        "BREAKDOWN": BREAKDOWNS[r["breakdown"]],
                        "PRIMARY_LEVEL": r["level"],
                        "PRIMARY_LEVEL_DESCRIPTION": r["level_description"],
                        "MEASURE_ID": mid,
                        "MEASURE_VALUE": r[count],
                        "_key": r["breakdown"],
                        "_count": count,
                        "_rater": rater,
                    }
                )
        out = pd.DataFrame(rows)
        if not suppress or out.empty:
            return out.drop(columns=["_key", "_count", "_rater"])
        sup = out["_key"].isin(SUPPRESSED_BREAKDOWNS)
        if sup.any():
            wide = t[t["breakdown"].isin(SUPPRESSED_BREAKDOWNS)].reset_index(drop=True)
            counts = [c for c in wide.columns if c.startswith("n_")]
            pcts = {}
            for c in wide.columns:
                if c.startswith("pct_"):
                    num = "n_" + c[4:]
                    den = "n_referrals" if c[4:] in ("assessed", "paired") else "n_paired"
                    pcts[c] = (num, den)
            pub = apply(
                wide[["breakdown", "level", "rater", *counts, *pcts]],
                counts=counts,
                percentages=pcts,
                rule="mhsds",
            )
            look = {
                (r["breakdown"], r["level"], r["rater"], c): r[c]
                for _, r in pub.iterrows()
                for c in [*counts, *pcts]
            }
            vals = out["MEASURE_VALUE"].astype(object).copy()
            for i in np.flatnonzero(sup.to_numpy()):
                row = out.iloc[i]
                vals.iloc[i] = look[
                    (row["_key"], row["PRIMARY_LEVEL"], row["_rater"], row["_count"])
                ]
            out["MEASURE_VALUE"] = vals
        return out.drop(columns=["_key", "_count", "_rater"])

    def summary(self) -> str:
        e = self.table[(self.table["breakdown"] == "england")].set_index("rater")
        if e.empty:
            return "No England row (by= did not include 'england')."
        a = e.loc["any"]
        lines = [
            f"{a['n_referrals']} closed referrals in scope had 2 or more contacts (MHS110); "
            f"{a['n_assessed']} were assessed and {a['n_paired']} had a paired score "
            f"(convention {self.convention!r}, engine {self.engine!r})."
        ]
        for r in ("self", "parent", "clinician"):
            x = e.loc[r]
            lines.append(
                f"{r}: {x['n_paired']} paired; {x['n_improvement']} improvement, "
                f"{x['n_no_change']} no change, {x['n_deterioration']} deterioration."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"NHSMetricResult({len(self.table)} rows; convention={self.convention!r})"


def _inputs(
    extract: MHSDSExtract, convention: str, *, tables: bool = True
) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items() if tables else ():
        t = extract.tables.get(name)
        if t is None:
            t = _parse(pd.DataFrame(columns=list(spec["columns"])), name, spec["columns"], [])
        frames[f"in_{name}"] = t
    for name, cols in REFERENCE.items() if tables else ():
        t = extract.reference.get(name)
        if t is None:
            t = _parse(pd.DataFrame(columns=list(cols)), name, cols, [])
        frames[f"in_{name}"] = t
    frames["in_measures"] = scale_table(convention)
    frames["in_norms"] = rcads_norms()
    # pandas' nullable dtypes -> plain object/float so both engines read them alike
    for k, df in frames.items():
        df = df.copy()
        for c in df.columns:
            if df[c].dtype != object and pd.api.types.is_string_dtype(df[c].dtype):
                df[c] = df[c].astype(object).where(df[c].notna(), None)
            elif str(df[c].dtype) == "Int64":
                df[c] = df[c].astype("float64")
        frames[k] = df
    return frames


def _period(value, name: str) -> str:
    if value is None:
        raise OutcomesError(f"{name} is required for an MHSDS extract (the reporting period)")
    return to_timestamp(value, name).strftime("%Y-%m-%d")


@validate_params(
    {
        "extract": "no_validation",
        "period_start": "date",
        "period_end": "date",
        "convention": Options(str, {"clinical", "nhs"}),
        "by": [str, list, tuple, None],
        "engine": Options(str, {"duckdb", "spark", "pandas"}),
        "spark": "no_validation",
        "con": "no_validation",
    }
)
def run_metric(
    extract: MHSDSExtract,
    *,
    period_start,
    period_end,
    convention: str = "clinical",
    by: Sequence[str] | str | None = None,
    engine: str = "duckdb",
    spark=None,
    con=None,
) -> NHSMetricResult:
    """The metric on an MHSDS extract (see :func:`outcomes.cyp_outcome_metric`)."""
    from .engines import make_engine

    check_convention(convention)
    by = ["england"] if by is None else [by] if isinstance(by, str) else list(by)
    for b in by:
        if b not in BREAKDOWNS:
            raise ValueError(unknown("breakdown (by=)", b, BREAKDOWNS))
    start, end = _period(period_start, "period_start"), _period(period_end, "period_end")
    if start > end:
        raise OutcomesError(f"period_start {start} is after period_end {end}")
    if engine == "pandas":
        from .pandas_engine import run

        out = run(_inputs(extract, convention), start, end, by)
        details = {
            "referrals": out["referrals"].sort_values("UniqServReqID").reset_index(drop=True),
            "measures": out["measures"]
            .sort_values(["UniqServReqID", "nhs_scale"])
            .reset_index(drop=True),
            "unused": out["unused"].sort_values(["source", "id", "_row"]).reset_index(drop=True),
        }
        return NHSMetricResult(
            table=_long(out["wide"], by),
            details=details,
            convention=convention,
            engine=engine,
            problems=extract.problems,
        )
    held = engine == "duckdb" and extract.con is not None and con is None
    # an extract already in DuckDB: a cursor of its connection sees its tables and keeps
    # this run's steps (temporary) apart from any other run's
    # an extract in DuckDB goes to Spark as Parquet files written by DuckDB (the typed,
    # checked tables; the staging casts are then no-ops)
    copied = engine == "spark" and extract.con is not None
    eng = make_engine(engine, spark=spark, con=extract.con.cursor() if held else con)
    staged = method.staging()
    inputs = _inputs(extract, convention, tables=not (held or copied))
    try:
        if copied:
            cur = extract.con.cursor()
            try:
                for name in [*TABLES, *REFERENCE]:
                    eng.register_duckdb(f"in_{name}", cur, f"SELECT * FROM t_{name}")
            finally:
                cur.close()
        for name, df in inputs.items():
            eng.register(name, df)
        if held:
            staged = [(n, q) for n, q in staged if n in ("t_measures", "t_norms")]
        for name, sql in [*staged, *method.steps(start, end)]:
            eng.create(name, sql)
        eng.create("levels", method.levels(by))
        wide = eng.fetch(method.aggregate())
        details = {}
        if engine != "duckdb":
            details = {k: eng.fetch(q) for k, q in _DETAILS.items()}
    finally:
        if engine != "duckdb":
            eng.close()
    return NHSMetricResult(
        table=_long(wide, by),
        details=details,
        convention=convention,
        engine=engine,
        problems=extract.problems,
        cursor=eng.con if engine == "duckdb" else None,
    )


def _long(wide: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Raters as rows, in NHS's order, with NHS's percentages (3.10)."""
    rows = []
    order = {b: i for i, b in enumerate(by)}
    wide = wide.assign(_o=wide["breakdown"].map(order)).sort_values(["_o", "level"])
    for _, w in wide.iterrows():
        for r in RATERS:
            row = {
                "breakdown": w["breakdown"],
                "level": w["level"],
                "level_description": w["level_description"],
                "rater": r,
                "n_referrals": int(w["n_referrals"]),
                "n_assessed": int(w[f"{r}_assessed"]),
                "n_paired": int(w[f"{r}_paired"]),
            }
            for o in OUTCOMES:
                row[f"n_{o}"] = pd.NA if r == "any" else int(w[f"{r}_{o}"])
            rows.append(row)
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    for o in OUTCOMES:
        t[f"n_{o}"] = t[f"n_{o}"].astype("Int64")

    def pct(num, den):
        num = num.astype("float64")
        den = den.astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            return (num / den * 100).where(den > 0).round(1)

    t["pct_assessed"] = pct(t["n_assessed"], t["n_referrals"])
    t["pct_paired"] = pct(t["n_paired"], t["n_referrals"])
    for o in OUTCOMES:
        t[f"pct_{o}"] = pct(t[f"n_{o}"], t["n_paired"])
    return t.reset_index(drop=True)
