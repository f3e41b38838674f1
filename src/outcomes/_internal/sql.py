"""SQL text the library writes itself (DuckDB and Spark SQL share these rules): names and
texts such as file paths quoted, so whatever they hold is read as a name or a text, never as
SQL."""

from __future__ import annotations


def ident(name: object) -> str:
    """A column or table name as a double-quoted SQL identifier (an inner quote doubled), so
    any name a user's file carries is read as a name, never as SQL.

    Example:
        >>> print(ident('a"b'))
        "a""b"
    """
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    """A text (a file path, a message) as a single-quoted SQL string literal (an inner quote
    doubled).

    Example:
        >>> print(literal("O'Brien's file.csv"))
        'O''Brien''s file.csv'
    """
    return "'" + str(value).replace("'", "''") + "'"
