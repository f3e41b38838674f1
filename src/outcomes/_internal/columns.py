"""The one column check: a DataFrame with flat, unique column names, rows, the columns a verb
needs (did-you-mean on a miss) and one value per cell (a list, dict, set or tuple in a cell is
refused naming row and column).

Every public verb that takes a table runs :func:`check_frame` first, so these problems give
the same message everywhere instead of a bare pandas error deep inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from ..errors import DataStructureError
from .text import did_you_mean

#: What pandas infers for a column that can hold a container; anything else is plain values.
_MAYBE_CONTAINERS = {"mixed", "mixed-integer", "unknown-array"}
_CONTAINERS = (list, dict, set, tuple, frozenset)


def _prefix(what: str) -> str:
    return f"{what}: " if what else ""


def check_frame(
    data: object,
    required: Iterable[object] = (),
    *,
    what: str = "",
    allow_empty: bool = False,
    distinct: bool = False,
) -> pd.DataFrame:
    """``data``, checked: a DataFrame, flat and unique column names, at least one row (unless
    ``allow_empty``), every ``required`` column present (with a did-you-mean), each required
    column one value per cell; ``distinct=True`` also refuses a column named in two roles.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"person_id": ["a"], "score": [3]})
        >>> check_frame(df, ["person_id", "score"], what="demo") is df
        True
        >>> check_frame(df, ["persn_id"], what="demo")
        Traceback (most recent call last):
        ...
        outcomes.errors.DataStructureError: demo: column(s) ['persn_id'] not found in the data; \
did you mean 'person_id'? (columns present: ['person_id', 'score'])
    """
    head = _prefix(what)
    if not isinstance(data, pd.DataFrame):
        raise DataStructureError(f"{head}expected a pandas DataFrame, got {type(data).__name__}")
    if isinstance(data.columns, pd.MultiIndex):
        raise DataStructureError(
            f"{head}the table has multi-level (MultiIndex) column names such as "
            f"{data.columns[0]!r}; flatten them to one name per column first, e.g. "
            "data.columns = ['_'.join(map(str, c)) for c in data.columns]"
        )
    # is_unique is cached on the Index: the names are picked out only when some repeat
    if not data.columns.is_unique:
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise DataStructureError(f"{head}duplicate column names in the data: {dup}")
    if len(data) == 0 and not allow_empty:
        raise DataStructureError(f"{head}the table has no rows (it is empty)")
    required = [c for c in required if c is not None]
    require_columns(data, required, what=what)
    if distinct:
        seen: set[object] = set()
        repeated = sorted({str(c) for c in required if c in seen or seen.add(c)})
        if repeated:
            raise DataStructureError(f"{head}column(s) {repeated} named in more than one role")
    one_value_per_cell(data, required, what=what)
    return data


def require_columns(data: pd.DataFrame, columns: Sequence[object], *, what: str = "") -> None:
    """Raise if any of ``columns`` is missing, naming it with a did-you-mean.

    Example:
        >>> import pandas as pd
        >>> require_columns(pd.DataFrame({"wave": [1]}), ["wave"])
    """
    missing = [c for c in columns if c not in data.columns]
    if not missing:
        return
    present = [str(c) for c in data.columns]
    name = f"column(s) {[str(c) for c in missing]} not found in the data"
    raise DataStructureError(
        f"{_prefix(what)}{name}{did_you_mean(missing[0], present)} (columns present: {present})"
    )


_OBJECT = pd.api.types.pandas_dtype(object)


def column_dtypes(data: pd.DataFrame) -> dict:
    """Column name -> dtype (as ``data.dtypes.to_dict()``; for unique column names), without
    taking a column. ``Series.to_dict`` walks an Arrow-backed index of names one element at a
    time, which cost more than twice this on a table of twenty columns.

    Example:
        >>> import pandas as pd
        >>> column_dtypes(pd.DataFrame({"a": [1], "b": ["x"]}))["a"]
        dtype('int64')
    """
    return dict(zip(data.columns.tolist(), data.dtypes.tolist(), strict=True))


def one_value_per_cell(
    data: pd.DataFrame, columns: Sequence[object] | None = None, *, what: str = ""
) -> None:
    """Refuse a list, dict, set or tuple in a cell of ``columns`` (default: all), naming the
    row and column. Only columns pandas cannot type (``infer_dtype`` "mixed") are looked into.

    Example:
        >>> import pandas as pd
        >>> one_value_per_cell(pd.DataFrame({"q1": [1, [2, 3]]}), what="score")
        Traceback (most recent call last):
        ...
        outcomes.errors.DataStructureError: score: column 'q1' holds a list at row 1 ([2, 3]); \
each cell must hold one value
    """
    # the dtypes read once: indexing every column of a wide table costs more than the check
    dtypes = column_dtypes(data) if data.columns.is_unique else None
    for c in data.columns if columns is None else columns:
        # .get: a name such as NaN is not found by a dict lookup (NaN != NaN); data[c] finds it
        known = None if dtypes is None else dtypes.get(c)
        if known is not None and known != _OBJECT:
            continue
        col = data[c]
        if col.dtype != object:
            continue
        if pd.api.types.infer_dtype(col, skipna=True) not in _MAYBE_CONTAINERS:
            continue
        bad = col.map(lambda v: isinstance(v, _CONTAINERS)).to_numpy(dtype=bool)
        if bad.any():
            i = int(bad.argmax())
            v = col.iloc[i]
            more = f" and {int(bad.sum()) - 1} more row(s)" if bad.sum() > 1 else ""
            raise DataStructureError(
                f"{_prefix(what)}column {c!r} holds a {type(v).__name__} at row "
                f"{data.index[[i]].tolist()[0]!r} ({v!r}){more}; each cell must hold one value"
            )
