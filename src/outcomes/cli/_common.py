"""What every command shares: how a failure is printed (one error line, then the bad cells
as a table) and the exit code; the options that several commands take."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._internal.vocabulary import for_command_line


def data_console(*, stderr: bool = False) -> Console:
    """A console that prints text as it is: what the commands print holds file and column
    names, labels, cell values and summaries, and rich markup would read "[dont know]" as a
    style and drop it, or stop on "[/x]" with a traceback. Styles are given as Text."""
    return Console(stderr=stderr, markup=False)


err_console = data_console(stderr=True)

InstrumentOption = Annotated[
    str, typer.Option("--instrument", "-i", help="Instrument id or YAML path.")
]


def errors_option(help: str) -> typer.models.OptionInfo:
    """The one option by which a command stops at bad input or goes on without it: ``--flag``
    (the library's ``errors="flag"``, the word :func:`for_command_line` puts in messages) or
    ``--raise`` (``errors="raise"``). Each command says in ``help`` what it does with what it
    flags, and gives its own default (``outcomes change``: flag, as ``pair_waves``; the
    commands that score or read answers: raise)."""
    return typer.Option("--flag/--raise", help=help)


MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="SOURCE=ITEM: read item ITEM from column SOURCE (repeatable)."),
]


def _fail(message: str, issues: pd.DataFrame | None = None, code: int = 1) -> None:
    err_console.print(Text("error: ", style="bold red"), end="")
    err_console.print(for_command_line(message), highlight=False, soft_wrap=True)
    if issues is not None and len(issues):
        _print_issues(issues, err_console)
    raise typer.Exit(code)


# The columns a bad-cell table may hold, in the order they are shown; `item` only where it
# differs from the source column (forms), `severity` only where warnings and errors mix.
_ISSUE_COLUMNS = ("row", "column", "item", "value", "reason", "severity")


def _print_issues(issues: pd.DataFrame, target: Console, limit: int = 50) -> None:
    shown = [c for c in _ISSUE_COLUMNS if c in issues.columns]
    if "item" in shown and issues["item"].astype(str).equals(issues["column"].astype(str)):
        shown.remove("item")  # one column per item: the item column would repeat it
    table = Table(title=f"{len(issues)} problem(s)", show_lines=False)
    for col in shown:
        table.add_column(col, overflow="fold")
    for r in issues.head(limit)[shown].itertuples(index=False):
        table.add_row(*(repr(v) if c == "value" else str(v) for c, v in zip(shown, r, strict=True)))
    target.print(table)
    if len(issues) > limit:
        target.print(f"... and {len(issues) - limit} more")
