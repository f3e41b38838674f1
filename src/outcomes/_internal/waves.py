"""The one wave vocabulary: which labels mean baseline, how waves are ordered, and how a
requested wave is matched to one present in the data.

- **Baseline names** (:data:`BASELINE_NAMES`, compared case-, space- and dash-insensitively):
  ``baseline``, ``base``, ``pre``, ``pre-intervention``, ``t0``, ``time 0``, ``wave 0``,
  ``before``, ``intake``, ``start``.
- **Order** (:func:`order_waves`): baseline first, then labels carrying a time by months
  (``3m``, ``6 months``, ``1 year`` = 12, ``26 weeks`` = 6, ``24m``...), then labels with one
  plain number by that number (``wave 2``, ``t1``); labels with no time keep their given order
  at the end (or, with ``strict=True``, are refused: then the caller must spell the order out).
- **Resolving** (:func:`resolve_wave`): a requested wave must be one present in the data, or an
  error with a did-you-mean. :func:`check_lookalikes` refuses data where another label looks
  the same as a chosen wave (``bаseline`` with a Cyrillic ``а``, ``Baseline``, ``12 m``) or
  names the same time (``12m`` and ``12 months``), whose rows would otherwise be dropped silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..errors import DataStructureError
from .text import unknown

BASELINE_NAMES = frozenset(
    {
        "baseline",
        "base",
        "pre",
        "pre intervention",
        "t0",
        "time 0",
        "wave 0",
        "before",
        "intake",
        "start",
    }
)

#: Letters from other scripts that look like Latin ones (the common lookalikes in typed labels).
_CONFUSABLE = str.maketrans(
    "аеорсухіјѕԁһтмкнвАЕОРСУХІЈЅВНМКТοαεικνρτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhtmkhbAEOPCYXIJSBHMKToaeikvptuxABEHIKMNOPTYX",
)
_UNITS = {
    "m": 1.0, "mo": 1.0, "mth": 1.0, "mths": 1.0, "month": 1.0, "months": 1.0,
    "y": 12.0, "yr": 12.0, "yrs": 12.0, "year": 12.0, "years": 12.0,
    "w": 12 / 52.0, "wk": 12 / 52.0, "wks": 12 / 52.0, "week": 12 / 52.0, "weeks": 12 / 52.0,
}  # fmt: skip
_TIMED = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalise(label: object) -> str:
    """A label compared as people read it: case, spacing, ``-``/``_`` and lookalike letters
    from other scripts ignored.

    Example:
        >>> normalise(" Pre-Intervention "), normalise("b\\u0430seline")
        ('pre intervention', 'baseline')
    """
    text = unicodedata.normalize("NFKC", str(label)).translate(_CONFUSABLE).casefold()
    return " ".join(re.sub(r"[-_]", " ", text).split())


def is_baseline(label: object) -> bool:
    """Whether a label is one of the baseline names.

    Example:
        >>> [is_baseline(w) for w in ["Baseline", "T0", "12m", "wave 1"]]
        [True, True, False, False]
    """
    return normalise(label) in BASELINE_NAMES


def months(label: object) -> float | None:
    """The time a label names, in months since baseline (0 for a baseline name), or None.

    Example:
        >>> [months(w) for w in ["baseline", "3m", "6 months", "1 year", "26 weeks", "wave 2"]]
        [0.0, 3.0, 6.0, 12.0, 6.0, None]
    """
    if is_baseline(label):
        return 0.0
    found = _TIMED.findall(normalise(label))
    timed = [(float(n), _UNITS[u]) for n, u in found if u in _UNITS]
    if len(timed) != 1:
        return None
    n, per = timed[0]
    return round(n * per, 6)


def time_rank(label: object) -> tuple[int, float] | None:
    """(0, months) for a label naming a time, (1, n) for one plain number n, else None.

    Example:
        >>> time_rank("6 months"), time_rank("wave 2"), time_rank("autumn")
        ((0, 6.0), (1, 2.0), None)
    """
    m = months(label)
    if m is not None:
        return (0, m)
    numbers = _NUMBER.findall(normalise(label))
    if len(numbers) == 1:
        return (1, float(numbers[0]))
    return None


def order_waves(labels: Iterable[object], *, strict: bool = False) -> list:
    """Wave labels in time order: baseline, then by months, then by a plain number; labels
    with no time keep their given order after those (``strict=True``: refused instead).

    Example:
        >>> order_waves(["12m", "follow-up", "baseline", "3m", "24 months"])
        ['baseline', '3m', '12m', '24 months', 'follow-up']
        >>> order_waves(["wave 2", "wave 1"])
        ['wave 1', 'wave 2']
    """
    given = list(dict.fromkeys(labels))
    ranks = [time_rank(w) for w in given]
    known = [(r, i) for i, r in enumerate(ranks) if r is not None]
    unknown_labels = [w for w, r in zip(given, ranks, strict=True) if r is None]
    if strict:
        clash = len({r for r, _ in known}) != len(known)
        if unknown_labels or clash:
            raise DataStructureError(
                f"cannot tell the order of waves {[str(w) for w in given]!r}; pass waves=[...] "
                "in time order (or use labels such as 'baseline', '6m', '12 months')"
            )
    return [given[i] for _, i in sorted(known)] + unknown_labels


def resolve_wave(
    requested: object, present: Sequence[object], *, column: str = "wave", what: str = "wave"
) -> object:
    """The value in the data that ``requested`` names: an exact match (``2`` also matches
    ``"2"``), or a :class:`~outcomes.errors.DataStructureError` with a did-you-mean.

    Example:
        >>> resolve_wave("12m", ["baseline", "12m"])
        '12m'
        >>> resolve_wave("12 m", ["baseline", "12m"])
        Traceback (most recent call last):
        ...
        outcomes.errors.DataStructureError: unknown wave '12 m'; did you mean '12m'? (not found in \
column 'wave')
    """
    for w in present:
        if _same(w, requested):
            return w
    by_text = [w for w in present if str(w) == str(requested)]
    if len(by_text) == 1:
        return by_text[0]
    raise DataStructureError(
        f"{unknown(what, requested, present)} (not found in column {column!r})"
    )


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def check_lookalikes(
    chosen: Sequence[object], present: Sequence[object], *, column: str = "wave"
) -> None:
    """Refuse data in which a label other than the chosen waves reads as one of them (same
    text once case, spacing and lookalike letters are ignored, or the same time: ``12m`` and
    ``12 months``, ``baseline`` and ``pre``): its rows would silently be left out.

    Example:
        >>> check_lookalikes(["baseline", "12m"], ["baseline", "12m", "24m"])
        >>> check_lookalikes(["baseline", "12m"], ["baseline", "b\\u0430seline", "12m"])
        Traceback (most recent call last):
        ...
        outcomes.errors.DataStructureError: wave label 'bаseline' in column 'wave' reads as \
'baseline' (character 2 is 'а', CYRILLIC SMALL LETTER A) but is not the same text; correct the \
data so each wave has one label
    """
    chosen_set = list(chosen)
    for w in present:
        if any(_same(w, c) for c in chosen_set):
            continue
        for c in chosen_set:
            same_text = normalise(w) == normalise(c)
            mw, mc = months(w), months(c)
            same_time = mw is not None and mw == mc
            if not (same_text or same_time):
                continue
            odd = [
                (i + 1, ch)
                for i, ch in enumerate(str(w))
                if ord(ch) > 127 and ch.translate(_CONFUSABLE) != ch
            ]
            detail = (
                f" (character {odd[0][0]} is {odd[0][1]!r}, {unicodedata.name(odd[0][1], '?')})"
                if odd
                else ""
            )
            why = "is not the same text" if same_text else "names the same time"
            raise DataStructureError(
                f"wave label {w!r} in column {column!r} reads as {c!r}{detail} but {why}; "
                "correct the data so each wave has one label"
            )
