"""``outcomes forms ...``: export instruments for data collection; import platform exports.

A Typer sub-app; the main command line adds it with ``app.add_typer(forms_app, name="forms")``.
Bad input exits non-zero with a readable message, never a traceback.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from .. import io as oc_io
from .._internal.file_rows import issues_path
from .._internal.spreadsheet import write_csv
from .._internal.vocabulary import for_command_line
from ..errors import OutcomesError
from ..forms import EXPORT_TARGETS, export, read_export
from ..instruments import load_instrument
from ._common import (
    InstrumentOption,
    MapOption,
    _fail,
    _print_issues,
    data_console,
    err_console,
    errors_option,
)

forms_app = typer.Typer(
    help="Survey tooling: export instruments to REDCap, XLSForm, HTML or a codebook; "
    "import REDCap, ODK/Kobo, Qualtrics, SPSS, Microsoft Forms or Excel exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = data_console()


def _accepted(instrument: str, issues: pd.DataFrame) -> str:
    """The answers each item with a bad cell accepts, one line per response set."""
    inst = load_instrument(instrument)
    lines: dict[str, list[str]] = {}
    for item_id in dict.fromkeys(issues["item"]):
        rs = inst.item(item_id).response_set
        if rs is not None:
            lines.setdefault(rs, []).append(item_id)
    out = []
    for rs, items in lines.items():
        opts = inst.response_sets[rs]
        known = "; ".join(f"{o.code:g} = {o.label}" for o in (*opts.options, *opts.missing))
        out.append(f"  {', '.join(items)} accept: {known}")
    return "\n".join(out)


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
    # Warnings (a long REDCap field name; ODK Validate not run for want of Java) are shown
    # as plain lines, not as Python warning text.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
    for w in caught:
        err_console.print(
            Text.assemble(("warning: ", "bold yellow"), for_command_line(str(w.message))),
            soft_wrap=True,
        )
    console.print(
        f"Wrote {to} for {', '.join(instruments)} -> {path}", highlight=False, soft_wrap=True
    )


@forms_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="The platform's export (.csv, .tsv, .xlsx, .sav).")],
    instrument: InstrumentOption,
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
    map_: MapOption = None,
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
        bool,
        errors_option(
            "--flag: read unreadable cells as missing; they are written to <output "
            "name>.issues.csv. --raise: stop, listing them."
        ),
    ] = False,
    sep: Annotated[
        str | None, typer.Option("--sep", help="CSV separator (default: guessed among , ; tab).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding (default: guessed, e.g. utf-8, cp1252)."),
    ] = None,
    sheet: Annotated[str, typer.Option("--sheet", help="Excel sheet name or number.")] = "0",
) -> None:
    """Read a platform export into a responses file with item ids and canonical codes."""
    columns = {}
    for p in map_ or []:
        if "=" not in p:
            _fail(f"--map expects SOURCE=ITEM, got {p!r}", code=2)
        s, t = p.split("=", 1)
        columns[s.strip()] = t.strip()
    sheet_arg: str | int = int(sheet) if sheet.isdigit() else sheet
    try:
        # Read with errors="flag" always: the report knows the file's header rows, which
        # the command needs to show each bad cell's row as the person sees it.
        frame, report = read_export(
            file,
            instrument,
            platform,
            columns=columns or None,
            prefix=prefix,
            person_id=person_id,
            coding=coding,
            errors="flag",
            sheet=sheet_arg,
            sep=sep,
            encoding=encoding,
            return_report=True,
        )
    except OutcomesError as e:
        _fail(str(e))
    note = report.layout.note()
    issues = report.layout.relabel(report.issues)
    if len(issues) and not flag:
        _fail(
            f"{file}: {len(issues)} cell(s) in {issues['row'].nunique()} row(s) cannot be read "
            f"as answers to {report.instrument} ({note}). --flag reads them as missing and "
            f"writes them to {issues_path(output).name}.\n" + _accepted(report.instrument, issues),
            issues=issues,
        )
    try:
        oc_io.write_table(frame, output)
    except OutcomesError as e:
        _fail(str(e))
    console.print(for_command_line(report.summary()), highlight=False, markup=False, soft_wrap=True)
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
    for n in report.notes:
        console.print(f"Note: {n}", highlight=False, markup=False, soft_wrap=True)
    if len(report.dropped):
        dropped = report.layout.relabel(report.dropped)
        console.print(
            f"Dropped rows ({note}): {dropped.to_dict('records')[:20]}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if flag:
        written = write_csv(issues, issues_path(output))
        console.print(
            f"{len(issues)} unreadable cell(s) read as missing ({note}) -> {written}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if len(issues):
            _print_issues(issues, console)
    console.print(
        f"Wrote {len(frame)} row(s) -> {output}", highlight=False, markup=False, soft_wrap=True
    )
