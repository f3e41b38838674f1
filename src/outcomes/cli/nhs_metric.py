"""``outcomes nhs-metric EXTRACT --period START:END``: NHS England's CYP outcomes metric
(MHS110-MHS115) on an MHSDS extract folder, on DuckDB (default) or Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import OutcomesError


def nhs_metric(
    extract: Annotated[Path, typer.Argument(help="Folder of <Table>.csv / .parquet files.")],
    period: Annotated[
        str,
        typer.Option("--period", help="Discharge period START:END, e.g. 2025-04-01:2026-03-31."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the results to.")],
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark.")] = "duckdb",
    convention: Annotated[
        str, typer.Option("--convention", help="nhs (NHS's published method) or clinical.")
    ] = "nhs",
    by: Annotated[
        str, typer.Option("--by", help="Comma-separated breakdowns (default: all ten).")
    ] = "",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL (e.g. yarn, spark://host:7077); default: the active "
            "session (spark-submit, Databricks) or local[2].",
        ),
    ] = None,
) -> None:
    """Compute the metric and write metric.csv (raw counts), nhs_measures.csv (NHS long
    format, Provider/ICB/region suppressed by the mhsds rule), referrals.csv, measures.csv,
    unused.csv and problems.csv."""
    from ..change.outcome_metric import cyp_outcome_metric
    from ..mhsds import read
    from ..mhsds.reference import BREAKDOWNS

    if period.count(":") != 1:
        typer.echo(f"error: --period must be START:END, not {period!r}", err=True)
        raise typer.Exit(1)
    start, end = period.split(":")
    keys = [b.strip() for b in by.split(",") if b.strip()] or list(BREAKDOWNS)
    try:
        spark = None
        if engine == "spark":
            from ..mhsds.engines import spark_session

            spark = spark_session(spark_master)
        # the files are scanned and checked inside DuckDB (national-scale extracts); Spark
        # then gets the checked tables as Parquet written by DuckDB, never as pandas frames
        ex = read(extract, engine="duckdb")
        res = cyp_outcome_metric(
            ex,
            period_start=start,
            period_end=end,
            convention=convention,
            by=keys,
            engine=engine,
            spark=spark,
        )
    except (OutcomesError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    res.to_frame().to_csv(out / "metric.csv", index=False)
    res.to_nhs_frame(suppress=True).to_csv(out / "nhs_measures.csv", index=False)
    res.write_details(out)
    ex.problems.to_csv(out / "problems.csv", index=False)
    typer.echo(res.summary())
    typer.echo(f"{len(ex.problems)} problem(s) in the extract (problems.csv). Wrote {out}")
