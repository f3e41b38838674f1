"""What every command shares: how a failure is printed (one error line, then the bad cells
as a table) and the exit code."""

from __future__ import annotations

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .._internal.vocabulary import for_command_line

err_console = Console(stderr=True)


def _fail(message: str, issues: pd.DataFrame | None = None, code: int = 1) -> None:
    # markup off for the message: file names and labels may contain [brackets]
    err_console.print("[bold red]error:[/] ", end="")
    err_console.print(for_command_line(message), markup=False, highlight=False, soft_wrap=True)
    if issues is not None and len(issues):
        _print_issues(issues, err_console)
    raise typer.Exit(code)


def _print_issues(issues: pd.DataFrame, target: Console, limit: int = 50) -> None:
    table = Table(title=f"{len(issues)} problem(s)", show_lines=False)
    for col in ("row", "column", "value", "reason", "severity"):
        table.add_column(col, overflow="fold")
    for r in issues.head(limit).itertuples(index=False):
        table.add_row(str(r.row), str(r.column), repr(r.value), str(r.reason), str(r.severity))
    target.print(table)
    if len(issues) > limit:
        target.print(f"... and {len(issues) - limit} more")
