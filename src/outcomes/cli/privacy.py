"""``outcomes pseudonymise``: replace id columns of a table by keyed pseudonyms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import io as oc_io
from ..errors import OutcomesError
from ..privacy import KEY_ENV, KEY_FILE_ENV, pseudonymise


def pseudonymise_cmd(
    path: Annotated[Path, typer.Argument(help="Input table (.csv, .xlsx or .parquet).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the result.")],
    column: Annotated[
        list[str], typer.Option("--column", "-c", help="ID column to pseudonymise (repeatable).")
    ],
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help=f"File holding the key; default: ${KEY_ENV} or the file named by ${KEY_FILE_ENV}.",
        ),
    ] = None,
    length: Annotated[int, typer.Option(help="Hex characters per pseudonym (8-64).")] = 16,
    prefix: Annotated[str, typer.Option(help="Text before every pseudonym.")] = "",
) -> None:
    """Pseudonymise ID columns of a table with a keyed hash (HMAC-SHA256).

    The key comes from --key-file or the environment, never from the command line, where it
    would stay in the shell history.
    """
    try:
        table = oc_io.read_table(path)
        out = pseudonymise(table, column, key_file=key_file, length=length, prefix=prefix)
        written = oc_io.write_table(out, output)
    except OutcomesError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{len(out)} rows: column(s) {', '.join(column)} pseudonymised -> {written}")
