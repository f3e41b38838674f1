"""The ``outcomes`` command line. It mirrors the Python API; bad input exits non-zero with a
readable table of problems, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from .. import io as oc_io
from .._internal.file_rows import issues_path, table_file_layout
from .._internal.spreadsheet import write_csv
from .._internal.vocabulary import for_command_line
from ..errors import InvalidResponsesError, OutcomesError
from ..instruments import list_instruments, load_instrument
from ..instruments.scoring import score, validate
from ._common import (
    InstrumentOption,
    MapOption,
    _fail,
    _print_issues,
    data_console,
    errors_option,
)
from .change import change_cli
from .forms import forms_app
from .longitudinal import longitudinal_cli
from .nhs_metric import nhs_metric
from .privacy import pseudonymise_cmd
from .store import store_app
from .synth import synth as _synth

app = typer.Typer(
    help="Score, analyse and report children and young people's mental health outcomes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(forms_app, name="forms")
app.add_typer(store_app, name="store")
app.command("change")(change_cli)
app.command("pseudonymise")(pseudonymise_cmd)
app.command("synth")(_synth)
app.command("longitudinal")(longitudinal_cli)
app.command("nhs-metric")(nhs_metric)
console = data_console()

CodingOption = Annotated[
    str | None, typer.Option("--coding", help="Alternative code set named in the YAML, e.g. mhsds.")
]


def _write_issues(issues: pd.DataFrame, output: Path) -> Path:
    """--flag: the issues go beside the output, as ``<output name>.issues.csv``."""
    return write_csv(issues, issues_path(output))


def _parse_map(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for p in pairs:
        if "=" not in p:
            _fail(f"--map expects SOURCE=ITEM, got {p!r}", code=2)
        src, item = p.split("=", 1)
        out[src.strip()] = item.strip()
    return out


@app.command()
def instruments(
    instrument_id: Annotated[
        str | None, typer.Argument(help="Show one instrument in detail.")
    ] = None,
) -> None:
    """List the bundled instruments, or show one: items, scales, bands, licence."""
    try:
        if instrument_id is None:
            table = Table(title="Bundled instruments")
            for c in ("id", "name", "respondent", "items", "scales"):
                table.add_column(c)
            for i in list_instruments():
                inst = load_instrument(i)
                table.add_row(
                    inst.id,
                    inst.name,
                    inst.respondent,
                    str(len(inst.coded_items)),
                    ", ".join(s.id for s in inst.scales if len(s.parts) > 1) or "-",
                )
            console.print(table)
            return
        inst = load_instrument(instrument_id)
    except OutcomesError as e:
        _fail(str(e))
    console.print(Text.assemble((inst.name, "bold"), f" ({inst.id}, version {inst.version})"))
    console.print(f"Respondent: {inst.respondent}; ages: {inst.age_range or 'any'}")
    console.print(f"Licence: {inst.licence.text}")
    console.print(f"Citation: {inst.citation}")
    items = Table(title="Items")
    for c in ("id", "label", "response set", "scoring"):
        items.add_column(c)
    for it in inst.items:
        how = "free text" if it.type == "text" else ("reverse" if it.reverse else "")
        if it.recode:
            how = "recode " + ", ".join(f"{k}->{v}" for k, v in it.recode.items())
        if not it.required:
            how = (how + "; optional").lstrip("; ")
        items.add_row(it.id, it.label, it.response_set or "-", how)
    console.print(items)
    for name, rs in inst.response_sets.items():
        codes = (
            f"continuous {rs.continuous.min:g} to {rs.continuous.max:g} by {rs.continuous.step:g}"
            if rs.is_continuous
            else ", ".join(f"{o.code}={o.label}" for o in rs.options)
        )
        miss = ", ".join(f"{o.code}={o.label}" for o in rs.missing)
        console.print(
            Text.assemble(
                "Response set ",
                (name, "bold"),
                f": {codes}" + (f"; missing: {miss}" if miss else ""),
            )
        )
        for alt, a in rs.alternative_codings.items():
            console.print(f"  alternative coding {alt!r}: {a.description}")
    scales = Table(title="Scales")
    for c in ("id", "method", "from", "min answered", "range", "better", "reliable change"):
        scales.add_column(c, overflow="fold")
    for sc in inst.scales:
        lo, hi = inst.scale_range(sc.id)
        rc = sc.reliable_change
        rc_text = (
            f">= {rc.threshold:g}"
            if rc and rc.threshold
            else (f"JT r={rc.reliability}, sd={rc.sd}" if rc else "-")
        )
        scales.add_row(
            sc.id,
            sc.method + (" (prorated)" if sc.prorate else ""),
            ", ".join(sc.parts),
            str(sc.required_answered),
            f"{lo:g}-{hi:g}",
            "higher" if sc.higher_is_better else "lower",
            rc_text,
        )
    console.print(scales)
    for sc in inst.scales:
        for col, scheme in zip(sc.band_columns(), sc.bands, strict=True):
            levels = " / ".join(f"{b.label} {b.min:g}-{b.max:g}" for b in scheme.levels)
            console.print(
                Text.assemble((col, "bold"), f" ({scheme.label or scheme.id}): {levels}"),
                highlight=False,
            )


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, Excel or Parquet file of responses.")],
    instrument: InstrumentOption,
    map_: MapOption = None,
    coding: CodingOption = None,
) -> None:
    """Check a file of responses against an instrument; exit 1 when any cell is invalid."""
    try:
        data = oc_io.read_table(file)
        report = validate(data, instrument, columns=_parse_map(map_), coding=coding)
    except OutcomesError as e:
        bad = getattr(e, "issues", None)
        _fail(str(e), None if bad is None else table_file_layout(file).relabel(bad))
    console.print(for_command_line(report.summary()), soft_wrap=True, markup=False)
    if len(report.issues):
        # rows as the person sees them in the file (CSV line, spreadsheet row)
        layout = table_file_layout(file)
        console.print(layout.note(), highlight=False)
        _print_issues(layout.relabel(report.issues), console)
    if not report.ok:
        raise typer.Exit(1)


@app.command("score")
def score_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, Excel or Parquet file of responses.")],
    instrument: InstrumentOption,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write scores (.csv, .xlsx, .parquet).")
    ],
    map_: MapOption = None,
    coding: CodingOption = None,
    flag: Annotated[
        bool,
        errors_option(
            "--flag: score invalid cells as missing and list them; --raise: stop, listing them."
        ),
    ] = False,
) -> None:
    """Score a file of responses and write one row of scores per input row."""
    try:
        data = oc_io.read_table(file)
        scores = score(
            data,
            instrument,
            columns=_parse_map(map_),
            coding=coding,
            errors="flag" if flag else "raise",
        )
        oc_io.write_table(scores, output)
    except InvalidResponsesError as e:
        layout = table_file_layout(file)
        head = str(e).splitlines()[0].rstrip(":")
        _fail(f"{head}; {layout.note()}:", layout.relabel(e.issues))
    except OutcomesError as e:
        _fail(str(e))
    inst = load_instrument(instrument)
    layout = table_file_layout(file)
    found = scores.attrs.get("issues")
    issues = layout.relabel(found if found is not None else pd.DataFrame())
    console.print(f"Scored {len(scores)} rows of {inst.id} from {file} -> {output}", soft_wrap=True)
    summary = Table(title=f"{inst.name}: scale summary")
    for c in ("scale", "n scored", "mean", "sd", "min", "max"):
        summary.add_column(c)
    for sc in inst.scales:
        v = scores[sc.id]
        summary.add_row(
            sc.id,
            str(int(v.notna().sum())),
            f"{v.mean():.2f}" if v.notna().any() else "-",
            f"{v.std():.2f}" if v.notna().sum() > 1 else "-",
            f"{v.min():.2f}" if v.notna().any() else "-",
            f"{v.max():.2f}" if v.notna().any() else "-",
        )
    console.print(summary)
    # Issues (warnings too) are always shown; --flag also writes them beside the output.
    where = f" -> {_write_issues(issues, output)}" if flag else ""
    if flag or len(issues):
        console.print(
            f"{len(issues)} issue(s) recorded ({layout.note()}){where}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if len(issues):
        _print_issues(issues, console, limit=20)


@app.command("report")
def report_cmd(
    config: Annotated[Path, typer.Argument(help="Evaluation config (YAML).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the report, notebook and tables.")
    ] = Path("build/report"),
    per_school: Annotated[
        bool,
        typer.Option(
            "--per-school",
            help="Also write one disclosure-controlled page per school (OUTPUT/schools/).",
        ),
    ] = False,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Formats, comma-separated: html (always written), pdf, docx.",
        ),
    ] = "html",
) -> None:
    """Build the 12-month evaluation report and print the path of each file written
    (HTML, and the PDF and Word files asked for with --format)."""
    from ..report import ConfigError, build_report
    from ..report.export import parse_formats

    try:
        wanted = parse_formats(format_)
        html = build_report(config, output, per_school=per_school, formats=wanted)
    except ConfigError as e:
        _fail(str(e))
    except OutcomesError as e:
        _fail(str(e))
    for fmt in wanted:
        console.print(str(html.with_suffix(f".{fmt}")), soft_wrap=True, highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
