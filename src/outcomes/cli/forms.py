"""``outcomes forms ...``: export instruments for data collection; import platform exports.

A Typer sub-app; the main command line adds it with ``app.add_typer(forms_app, name="forms")``.
Bad input exits non-zero with a readable message, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import io as oc_io
from ..errors import InvalidResponsesError, OutcomesError
from ..forms import EXPORT_TARGETS, export, read_export

forms_app = typer.Typer(
    help="Survey tooling: export instruments to REDCap, XLSForm, HTML or a codebook; "
    "import REDCap, ODK/Kobo, Qualtrics, SPSS, Microsoft Forms or Excel exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    # The message is printed as plain text: file names and labels may contain [brackets].
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)


def _parse_prefixes(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for p in pairs or []:
        if "=" not in p:
            _fail(f"--prefix expects INSTRUMENT=PREFIX, got {p!r}", code=2)
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@forms_app.command("export")
def export_cmd(
    instruments: Annotated[list[str], typer.Argument(help="Instrument ids or YAML paths.")],
    to: Annotated[str, typer.Option("--to", help=f"What to write: {' | '.join(EXPORT_TARGETS)}.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    prefix: Annotated[
        list[str] | None,
        typer.Option("--prefix", help="INSTRUMENT=PREFIX: shorter field-name prefix (repeatable)."),
    ] = None,
    no_prefix: Annotated[
        bool, typer.Option("--no-prefix", help="Bare item ids as field names (single instrument).")
    ] = False,
    require_answers: Annotated[
        bool, typer.Option("--require-answers", help="Make required items compulsory.")
    ] = False,
    form_id: Annotated[str | None, typer.Option("--form-id", help="XLSForm form_id.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Form or page title.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="XLSForm version.")] = None,
) -> None:
    """Export one instrument, or a pack of several, for data collection."""
    pre: bool | dict[str, str] = False if no_prefix else (_parse_prefixes(prefix) or True)
    try:
        path = export(
            instruments,
            to,
            output,
            prefix=pre,
            require_answers=require_answers,
            form_id=form_id,
            title=title,
            version=version,
        )
    except OutcomesError as e:
        _fail(str(e))
    console.print(
        f"Wrote {to} for {', '.join(instruments)} -> {path}", highlight=False, soft_wrap=True
    )


@forms_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="The platform's export (.csv, .tsv, .xlsx, .sav).")],
    instrument: Annotated[
        str, typer.Option("--instrument", "-i", help="Instrument id or YAML path.")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Responses file to write (.csv, .xlsx, .parquet)."),
    ],
    platform: Annotated[
        str,
        typer.Option(
            "--platform", help="auto | redcap | odk | qualtrics | spss | msforms | table."
        ),
    ] = "auto",
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="SOURCE=ITEM: read item ITEM from column SOURCE (repeatable)."),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Field-name prefix used at export.")
    ] = None,
    person_id: Annotated[
        str | None, typer.Option("--person-id", help="Source column to carry over as person_id.")
    ] = None,
    coding: Annotated[
        str | None, typer.Option("--coding", help="Alternative code set named in the YAML.")
    ] = None,
    flag: Annotated[
        bool, typer.Option("--flag", help="Read unreadable cells as missing instead of stopping.")
    ] = False,
) -> None:
    """Read a platform export into a responses file with item ids and canonical codes."""
    columns = {}
    for p in map_ or []:
        if "=" not in p:
            _fail(f"--map expects SOURCE=ITEM, got {p!r}", code=2)
        s, t = p.split("=", 1)
        columns[s.strip()] = t.strip()
    try:
        frame, report = read_export(
            file,
            instrument,
            platform,
            columns=columns or None,
            prefix=prefix,
            person_id=person_id,
            coding=coding,
            errors="flag" if flag else "raise",
            return_report=True,
        )
        oc_io.write_table(frame, output)
    except InvalidResponsesError as e:
        _fail(str(e))
    except OutcomesError as e:
        _fail(str(e))
    console.print(report.summary(), highlight=False, markup=False, soft_wrap=True)
    table = Table(title="Columns matched to items")
    for c in ("source column", "item", "matched by"):
        table.add_column(c, overflow="fold")
    for r in report.columns.itertuples(index=False):
        table.add_row(str(r.source), str(r.item), str(r.matched_by))
    console.print(table)
    if report.unmatched:
        console.print(
            f"Not used: {', '.join(report.unmatched)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"Note: {note}", highlight=False, markup=False, soft_wrap=True)
    if len(report.dropped):
        console.print(
            f"Dropped rows: {report.dropped.to_dict('records')[:20]}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if len(report.issues):
        console.print(
            f"[yellow]{len(report.issues)} unreadable cell(s) read as missing[/]", soft_wrap=True
        )
    console.print(
        f"Wrote {len(frame)} row(s) -> {output}", highlight=False, markup=False, soft_wrap=True
    )
