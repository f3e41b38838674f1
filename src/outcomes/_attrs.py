"""Tables kept in another table's ``.attrs`` (issues, audit logs).

pandas compares ``attrs`` with ``==`` when it concatenates frames and deep-copies them on most
operations. A plain DataFrame inside ``attrs`` therefore makes ``pd.concat`` of two score tables
fail ("truth value of a DataFrame is ambiguous") and copies the whole issue list on every
column access. :class:`AttachedTable` compares as a whole and is shared rather than copied.
"""

from __future__ import annotations

import pandas as pd


class AttachedTable(pd.DataFrame):
    """A DataFrame meant to live in ``.attrs``: ``==`` asks "same table?" and returns a bool.

    Slices and other derived frames are plain DataFrames again.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, pd.DataFrame) and self.equals(other)

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict) -> AttachedTable:
        # Treated as read-only: sharing it is what pandas' attrs propagation needs.
        return self


def attach(table: pd.DataFrame | None) -> AttachedTable:
    """Wrap a table for storage in ``.attrs`` (an empty one if None)."""
    return AttachedTable(table if table is not None else pd.DataFrame())
