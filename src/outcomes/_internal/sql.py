"""SQL text the library writes itself (DuckDB and Spark SQL share these rules)."""

from __future__ import annotations


def ident(name: object) -> str:
    """A column or table name as a double-quoted SQL identifier (an inner quote doubled), so
    any name a user's file carries is read as a name, never as SQL.

    Example:
        >>> print(ident('a"b'))
        "a""b"
    """
    return '"' + str(name).replace('"', '""') + '"'
