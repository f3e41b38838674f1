"""Values that match nothing: an error with a did-you-mean suggestion, never an empty result."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(value: object, choices: Iterable[object], *, n: int = 1) -> list[str]:
    """The closest of ``choices`` to ``value`` (case-insensitive), best first.

    Example:
        >>> suggest("baselin", ["baseline", "12m"])
        ['baseline']
        >>> suggest("zzz", ["baseline", "12m"])
        []
    """
    names = [str(c) for c in choices]
    lowered = {name.casefold(): name for name in names}
    hits = difflib.get_close_matches(str(value).casefold(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(value: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` or, with no close match, the list of what is allowed.

    Example:
        >>> did_you_mean("declined", ["Declined by family", "Not appropriate"])
        "; did you mean 'Declined by family'?"
        >>> did_you_mean("q", ["a", "b"])
        "; expected one of 'a', 'b'"
    """
    names = [str(c) for c in choices]
    close = suggest(value, names)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not names:
        return "; there is nothing to choose from"
    shown = ", ".join(repr(c) for c in names[:12])
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return f"; expected one of {shown}{more}"


def unknown(what: str, value: object, choices: Iterable[object]) -> str:
    """The whole message for a value that matches nothing.

    Example:
        >>> unknown("wave", "12 m", ["baseline", "12m"])
        "unknown wave '12 m'; did you mean '12m'?"
    """
    # the name is what the reader must find and fix: shown whole unless it is absurdly long
    return f"unknown {what} {shown(value, limit=200)}{did_you_mean(value, choices)}"


def format_p(p: float | None) -> str:
    """A p-value as a report writes it: three decimals, ``p < 0.001`` below that.

    Example:
        >>> format_p(0.04321), format_p(0.00001), format_p(float("nan"))
        ('p = 0.043', 'p < 0.001', 'no p-value')
    """
    import math

    if p is None or not math.isfinite(p):
        return "no p-value"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def shown(value: object, limit: int = 40) -> str:
    """``value`` as a message quotes it: its repr, cut to about ``limit`` characters.

    A numpy scalar is shown as the Python value it holds; a whole number too long to print
    is described by its number of digits (Python refuses to print one past 4,300 digits, and
    a message of 400 digits is not readable either).

    Example:
        >>> import numpy as np
        >>> shown(2024.5), shown(np.float64(2e300)), shown("abc")
        ('2024.5', '2e+300', "'abc'")
        >>> shown(10**400)
        'an integer of 401 digits'
        >>> shown("x" * 100)
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"
    """
    import math
    from numbers import Integral

    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Integral) and not isinstance(value, bool):
        number = int(value)
        if number and number.bit_length() > 3 * limit:  # past about 0.9 x limit digits
            digits = int(math.log10(abs(number))) + 1
            if 10 ** (digits - 1) > abs(number):  # log10 rounded 99...9 up to a power of 10
                digits -= 1
            return f"{'a negative' if number < 0 else 'an'} integer of {digits} digits"
    try:
        text = repr(value)
    except ValueError:  # a container holding an integer too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
