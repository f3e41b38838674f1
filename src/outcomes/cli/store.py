"""``outcomes store``: import files into the evaluation store and list what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import OutcomesError
from ._common import _fail, data_console

store_app = typer.Typer(
    help="The evaluation store: every year's imports in one DuckDB file, with provenance.",
    no_args_is_help=True,
)
StoreOption = Annotated[
    Path | None,
    typer.Option("--store", "-s", help="Store file (default: $OUTCOMES_STORE or "
                 "outcomes_store.duckdb)."),
]  # fmt: skip


@store_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="The file to import (.csv, .xlsx, .parquet).")],
    table: Annotated[
        str,
        typer.Option(
            "--table",
            "-t",
            help="school_survey, primary_survey, staff_survey, referrals, schools or responses.",
        ),
    ],  # fmt: skip
    wave: Annotated[str | None, typer.Option("--wave", "-w", help="Survey wave, e.g. 24m.")] = None,
    instrument: Annotated[
        str | None, typer.Option("--instrument", "-i", help="Instrument (responses).")
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="Survey platform export: redcap, qualtrics, odk, spss, msforms, csv or auto.",
        ),
    ] = None,  # fmt: skip
    on_duplicate: Annotated[
        str, typer.Option("--on-duplicate", help="keep_first, replace or error.")
    ] = "keep_first",
    store: StoreOption = None,
) -> None:
    """Import one file: pseudonymised, de-duplicated, with its provenance recorded."""
    from .. import store as oc_store

    try:
        with oc_store.open(store) as st:
            summary = st.import_file(
                file, table=table, wave=wave, instrument=instrument, platform=platform,
                on_duplicate=on_duplicate,
            )  # fmt: skip
    except OutcomesError as e:
        _fail(str(e))
    data_console().print(summary.message, highlight=False, soft_wrap=True)


@store_app.command("status")
def status_cmd(store: StoreOption = None) -> None:
    """What the store holds, by table, wave and year, and its imports."""
    from .. import store as oc_store

    try:
        with oc_store.open(store) as st:
            status, imports = st.status(), st.imports()
    except OutcomesError as e:
        _fail(str(e))
    console = data_console()
    if status.empty:
        console.print("The store is empty.")
        return
    t = Table(title="Held", show_lines=False)
    for col in ("table", "wave", "year", "rows", "imports"):
        t.add_column(col, justify="right" if col in ("rows", "imports", "year") else "left")
    for r in status.itertuples(index=False):
        t.add_row(*("" if pd_isna(v) else str(v) for v in r))
    console.print(t)
    console.print(
        f"{len(imports)} import(s); the last on {imports['imported_at'].max():%Y-%m-%d %H:%M}."
    )


def pd_isna(v: object) -> bool:
    try:
        return v is None or v != v  # NaN and None
    except (TypeError, ValueError):
        return False
