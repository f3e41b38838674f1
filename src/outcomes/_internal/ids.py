"""Membership tests on id columns (referral ids, person ids) at the scale of a national extract.

``Series.isin`` on pyarrow-backed text builds a Python list of the values to look for, one
scalar at a time, which costs seconds for a million ids. Text ids are looked up with
pyarrow's hash kernel instead; anything else goes through pandas' object hash table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def is_in(values: pd.Series, pool: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Boolean array: which of ``values`` occur in ``pool`` (exact equality: 1 is not "1";
    a missing value is never in the pool).

    Example:
        >>> is_in(pd.Series(["r1", "r2", None], dtype="string"), pd.Series(["r2", "r3"])).tolist()
        [False, True, False]
        >>> is_in(pd.Series([1, 2, "2"], dtype=object), [2]).tolist()
        [False, True, False]
    """
    hay, needles = _text(values), _text(pool)
    if hay is not None and needles is not None:
        hit = pc.is_in(hay, value_set=needles.cast(hay.type), skip_nulls=True)
        return pc.fill_null(hit, False).to_numpy(zero_copy_only=False).astype(bool)
    objects = np.asarray(values, dtype=object)
    found = pd.Index(objects, dtype=object).isin(np.asarray(pool, dtype=object))
    return np.asarray(found, dtype=bool) & ~pd.isna(objects)


def index_in(values: pd.Series, pool: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Position in ``pool`` (which holds no duplicates) of each of ``values``, -1 where absent:
    the one hash lookup that lets the callers work on integer positions afterwards (same
    equality as :func:`is_in`; a missing value is never found).

    Example:
        >>> index_in(pd.Series(["r3", None, "r1", "x"]), pd.Series(["r1", "r2", "r3"])).tolist()
        [2, -1, 0, -1]
        >>> index_in(pd.Series([1, "1"], dtype=object), [1]).tolist()
        [0, -1]
    """
    hay, needles = _text(values), _text(pool)
    if hay is not None and needles is not None:
        pos = pc.index_in(hay, value_set=needles.cast(hay.type), skip_nulls=True)
        return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    objects = np.asarray(values, dtype=object)
    pos = pd.Index(np.asarray(pool, dtype=object), dtype=object).get_indexer(objects)
    return np.where(pd.isna(objects), -1, pos).astype(np.int64)


def of_another_person(pos: np.ndarray, persons: pd.Series, ref_persons: pd.Series) -> np.ndarray:
    """Boolean array: which rows name a referral whose person_id is not theirs.

    ``pos`` is each row's referral position in ``ref_persons`` (-1: none), as
    :func:`index_in` gives it. Persons are compared as :func:`index_in` compares the referral
    ids that led to them: the values themselves (1 is 1.0 but not "1"; case and spaces count),
    so a float person column (a CSV column with a blank) is not every row's mismatch against
    whole-number referrals, and 1 and "1" are not one person here while they are two
    referrals there. A missing person on either side is never another's (the referral's own
    row, or the score's, has that problem). The NHS metric and the report's input check ask
    this one question, so they mark the same rows.

    Example:
        >>> of_another_person(np.array([0, 0, 1, -1]), pd.Series(["a", "b", "c", "d"]),
        ...                   pd.Series(["a", None])).tolist()
        [False, True, False, False]
        >>> of_another_person(np.array([0, 0, 0]), pd.Series([7.0, "7", " 7"], dtype=object),
        ...                   pd.Series([7])).tolist()
        [False, True, True]
    """
    found = np.flatnonzero(pos >= 0)
    expected = ref_persons.iloc[pos[found]]
    given = persons.iloc[found]
    both = expected.notna().to_numpy() & given.notna().to_numpy()
    exp, giv = _text(expected), _text(given)
    if exp is not None and giv is not None:  # index_in's text path: the same strings
        same = pc.fill_null(pc.equal(exp, giv.cast(exp.type)), False)
        differ = ~same.to_numpy(zero_copy_only=False).astype(bool)
    else:  # its object path: Python's equality, which its hash table keys on (asked only
        # where both are there: a missing value compares as missing, not as False)
        differ = np.zeros(len(found), bool)
        differ[both] = (
            np.asarray(expected, dtype=object)[both] != np.asarray(given, dtype=object)[both]
        )
    wrong = both & differ
    out = np.zeros(len(pos), bool)
    out[found[wrong]] = True
    return out


def of_shared_referral(referral: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Boolean array: which rows name a referral that other rows name with another person.

    ``referral`` and ``person`` are integer codes of the two id columns (as ``pd.factorize``
    gives them; -1: missing). A referral is one child's episode, so such rows contradict each
    other; a row missing either id takes no part (it has that problem of its own).

    Example:
        >>> of_shared_referral(np.array([0, 0, 1, 1, 2, -1]), np.array([0, 1, 2, 2, -1, 0])).tolist()
        [True, True, False, False, False, False]
    """
    ok = (referral >= 0) & (person >= 0)
    r, p = referral[ok].astype(np.int64), person[ok].astype(np.int64)
    if not len(r):
        return np.zeros(len(referral), bool)
    # one integer per distinct (referral, person) (codes are below the number of rows, so
    # the product fits in int64); the referral's persons are counted from those
    distinct = pd.unique(r * (int(p.max()) + 1) + p) // (int(p.max()) + 1)
    several = np.bincount(distinct, minlength=int(r.max()) + 1) > 1
    out = np.zeros(len(referral), bool)
    out[np.flatnonzero(ok)[several[r]]] = True
    return out


def space_twins(distinct: pd.Series | pd.Index | np.ndarray) -> list[tuple[str, ...]]:
    """The ids of ``distinct`` (distinct values of an id column) that are one id once trimmed
    of surrounding whitespace (" P1" and "P1"), in groups, each in the order given; [] when
    there are none (numbers and blanks take no part). The verbs compare ids as they are (a
    trimmed copy of a million ids would cost more than this check); the report trims them
    first (:func:`outcomes.report.checks.id_text`), so such ids reach only library callers,
    who are told.

    Example:
        >>> space_twins(pd.Index(["P1", " P1", "P2", "P3 ", "P1 "]))
        [('P1', ' P1', 'P1 ')]
    """
    arr = _text(distinct)
    if arr is None:
        return []
    trimmed = pc.utf8_trim_whitespace(arr)
    spaced = pc.fill_null(pc.not_equal(arr, trimmed), False)
    if not pc.any(spaced).as_py():  # the usual case: one pass, nothing kept
        return []
    keys = pc.unique(pc.filter(trimmed, spaced))
    near = pc.fill_null(pc.is_in(trimmed, value_set=keys), False)
    raw = pc.filter(arr, near).to_pylist()
    groups: dict[str, list[str]] = {}
    for key, value in zip(pc.filter(trimmed, near).to_pylist(), raw, strict=True):
        groups.setdefault(key, []).append(value)
    return [tuple(g) for g in groups.values() if len(g) > 1]


def index_in_trimmed(
    values: pd.Series | np.ndarray, pool: pd.Series | pd.Index | np.ndarray
) -> np.ndarray:
    """:func:`index_in` with the text of both sides trimmed of surrounding whitespace: where
    an id that matched nothing would match (ask it of the few ids that matched nothing, not of
    every id). -1 where it still matches nothing, or either side is not text.

    Example:
        >>> index_in_trimmed(pd.Series([" R1", "R9", None]), pd.Series(["R0", "R1 "])).tolist()
        [1, -1, -1]
    """
    hay, needles = _text(values), _text(pool)
    if hay is None or needles is None:
        return np.full(len(values), -1, np.int64)
    hay, needles = pc.utf8_trim_whitespace(hay), pc.utf8_trim_whitespace(needles.cast(hay.type))
    pos = pc.index_in(hay, value_set=needles, skip_nulls=True)
    return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _text(x: object) -> pa.Array | None:
    """``x`` as a pyarrow text array, or None when it holds anything but text and blanks."""
    try:
        arr = pa.array(x, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None
