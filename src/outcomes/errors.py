"""Exceptions raised by outcomes. Every message names the place (file, row, column) at fault."""

from __future__ import annotations

import pandas as pd


class OutcomesError(ValueError):
    """Base class for errors about the user's data or definitions."""


class InstrumentDefinitionError(OutcomesError):
    """An instrument YAML file (or mapping) is malformed; the message names file and field."""


class InvalidResponsesError(OutcomesError):
    """Responses contain cells that cannot be scored.

    ``issues`` is a DataFrame with one row per bad cell: ``row`` (the index label),
    ``column``, ``value``, ``reason`` and ``severity``; questionnaire checks add ``item`` after
    ``column`` (the one layout, built by ``outcomes._internal.cells``).
    """

    def __init__(self, message: str, issues: pd.DataFrame | None = None):
        super().__init__(message)
        self.issues = issues if issues is not None else pd.DataFrame()


class DataStructureError(InvalidResponsesError):
    """The table as a whole is unusable: missing or duplicate columns, empty frame."""


def describe_issues(bad: pd.DataFrame, heading: str, limit: int = 20) -> str:
    """An error message: a heading, then one line per problem (row, column, value, reason)."""
    lines = [heading]
    for r in bad.head(limit).itertuples(index=False):
        lines.append(f"  row {r.row!r}, column {r.column!r}: {r.value!r} - {r.reason}")
    if len(bad) > limit:
        lines.append(f"  ... and {len(bad) - limit} more")
    return "\n".join(lines)


class PublishedElsewhereError(OutcomesError):
    """A small count that tables published before give away (``disclosure.apply``'s
    ``known=``): no suppression in the table being released can hide it. ``row`` is its row
    position and ``column`` its column."""

    def __init__(self, message: str, row: int, column: object):
        super().__init__(message)
        self.row = row
        self.column = column


class InvalidParameterError(OutcomesError, TypeError):
    """A parameter value the function cannot use (wrong type, out of range, unknown option).

    The message names the function, the parameter, what is allowed and what was given;
    ``parameter`` holds the parameter's name. It is both a ``ValueError`` (through
    :class:`OutcomesError`) and a ``TypeError``, so either ``except`` catches it.
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter
