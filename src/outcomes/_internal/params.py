"""Declarative parameter checks for public functions: one decorator, one message style.

A public function declares what each parameter may be, and :func:`validate_params` refuses
anything else before the body runs, raising :class:`outcomes.errors.InvalidParameterError`
with a message naming the function, the parameter, what is allowed and what was given. The
model is scikit-learn's ``validate_params``; this is our own smaller version.

A constraint is one of:

- a :class:`Constraint` (:class:`Interval`, :class:`Options`, :class:`Boolean`, :class:`Date`,
  :class:`Columns`, :class:`Pair`, :class:`ArrayLike`, :class:`HasMethods`);
- a type (``str``, ``pathlib.Path``, ``collections.abc.Mapping`` ...): ``isinstance``;
- ``None``: the value ``None``;
- a string shorthand: ``"boolean"``, ``"dataframe"``, ``"series"``, ``"array-like"``,
  ``"callable"``, ``"path"`` (str or os.PathLike), ``"date"``, ``"columns"`` (a column name or a
  list of them), ``"ax"`` (a matplotlib Axes), ``"no_validation"`` (checked by the body; say
  why beside it).

The constants at the end (``PROBABILITY``, ``ERRORS``, ``BY``, ``WAVE_LABEL`` ...) are the
constraints that recur across the package, declared once.

A parameter is valid when it satisfies ANY of its constraints. Bools are never numbers,
strings are never bools, and real intervals refuse NaN (and infinity unless a bound is
infinite and closed).

:func:`renamed_params` and :func:`deprecated_values` keep old argument names and old option
values working with a ``DeprecationWarning`` (see the glossary in docs/contributing.md).
"""

from __future__ import annotations

import datetime as _dt
import functools
import inspect
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .text import did_you_mean, shown

__all__ = [
    "ArrayLike",
    "Boolean",
    "Columns",
    "Constraint",
    "Date",
    "HasMethods",
    "Interval",
    "MappingOf",
    "Options",
    "Pair",
    "Pattern",
    "deprecated_values",
    "check_value",
    "renamed_params",
    "validate_params",
]


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def _shown(value: object) -> str:
    """The given value in a message: its repr (shortened) and its type."""
    if isinstance(value, pd.DataFrame | pd.Series | np.ndarray):
        return f"a {type(value).__name__} of shape {getattr(value, 'shape', '?')}"
    if isinstance(value, list | tuple | set | dict) and len(value) > 10:
        return f"a {type(value).__name__} of {len(value)} items"  # never repr a whole column
    return f"{shown(value, 60)} ({type(value).__name__})"


class Constraint:
    """One allowed kind of value. Subclasses define :meth:`is_satisfied_by` and ``__str__``."""

    def is_satisfied_by(self, value: object) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class _InstanceOf(Constraint):
    def __init__(self, kind: type, name: str | None = None):
        self.kind = kind
        self.name = name or f"an instance of {kind.__name__}"

    def is_satisfied_by(self, value: object) -> bool:
        if self.kind in (int, float, Real, Integral) and _is_bool(value):
            return False
        return isinstance(value, self.kind)

    def __str__(self) -> str:
        return self.name


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class _Callable(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"


class _NoValidation(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return True

    def __str__(self) -> str:
        return "anything (checked by the function itself)"


class Boolean(Constraint):
    """``True`` or ``False`` (numpy bools too); never a string or a number.

    Example:
        >>> b = Boolean()
        >>> b.is_satisfied_by(True), b.is_satisfied_by("no"), b.is_satisfied_by(1)
        (True, False, False)
    """

    def is_satisfied_by(self, value: object) -> bool:
        return _is_bool(value)

    def __str__(self) -> str:
        return "True or False"


class Interval(Constraint):
    """A number in a range: ``Interval(Real, 0, 1, closed="neither")`` is a probability.

    ``kind`` is ``Real`` (any non-bool real number) or ``Integral`` (whole numbers, not bools,
    not floats). ``None`` for a bound means unbounded. NaN is always refused; infinity is
    refused unless the matching bound is itself infinite and closed.

    Example:
        >>> p = Interval(Real, 0, 1, closed="neither")
        >>> [p.is_satisfied_by(v) for v in (0.95, 1.5, 1, True, float("nan"))]
        [True, False, False, False, False]
        >>> str(Interval(Integral, 1, None, closed="left"))
        'an integer in the range [1, inf)'
    """

    def __init__(
        self,
        kind: type,
        left: float | None,
        right: float | None,
        *,
        closed: str = "both",
    ):
        if kind not in (Real, Integral):
            raise TypeError("Interval kind must be numbers.Real or numbers.Integral")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError("closed must be 'left', 'right', 'both' or 'neither'")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def is_satisfied_by(self, value: object) -> bool:
        if _is_bool(value) or not isinstance(value, self.kind):
            return False
        if self.kind is Real:
            try:
                v = float(value)
            except OverflowError:  # an integer past the largest float is as good as infinite
                v = math.inf if value > 0 else -math.inf
            if math.isnan(v):
                return False
            if math.isinf(v) and not (
                (v < 0 and self.left == -math.inf and self.closed in ("left", "both"))
                or (v > 0 and self.right == math.inf and self.closed in ("right", "both"))
            ):
                return False
        else:
            v = value
        if self.left is not None:
            if v < self.left or (v == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if v > self.right or (v == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        what = "an integer" if self.kind is Integral else "a finite number"
        if self.left is None and self.right is None:
            return what
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{what} in the range {lb}{lo}, {hi}{rb}"


class Options(Constraint):
    """One of a fixed set of values of a type: ``Options(str, {"raise", "flag"})``.

    Example:
        >>> o = Options(str, {"raise", "flag"})
        >>> o.is_satisfied_by("flag"), o.is_satisfied_by("flg"), o.is_satisfied_by(["flag"])
        (True, False, False)
    """

    def __init__(self, kind: type, options: Iterable[object]):
        self.kind = kind
        self.options = frozenset(options)

    def is_satisfied_by(self, value: object) -> bool:
        if _is_bool(value) and self.kind is not bool:
            return False
        return isinstance(value, self.kind) and value in self.options

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(o) for o in sorted(self.options, key=str))


class Pattern(Constraint):
    """Text matching a regular expression in full: ``Pattern(r"[0-9]+[kmg]", "a size such
    as '2g'")``; ``what`` is how the message describes it.

    Example:
        >>> p = Pattern(r"[0-9]+[kmgt]?", "a memory size such as '2g'")
        >>> p.is_satisfied_by("512m"), p.is_satisfied_by("2 GB"), p.is_satisfied_by(2)
        (True, False, False)
    """

    def __init__(self, regex: str, what: str, *, flags: int = re.IGNORECASE):
        self.regex = re.compile(regex, flags)
        self.what = what

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None

    def __str__(self) -> str:
        return self.what


class Date(Constraint):
    """A date: ``datetime.date``/``datetime``, ``pandas.Timestamp``, ``numpy.datetime64`` or text
    that the one date reader (:mod:`outcomes._internal.dates`) reads as a date: ISO
    ``YYYY-MM-DD`` (optionally with a time) or ``DD/MM/YYYY`` (either day order: the function reads
    it with its own ``dayfirst``). ``"yesterday"``, ``"31/02/2025"`` or a number are refused.

    Example:
        >>> d = Date()
        >>> d.is_satisfied_by("2025-09-01"), d.is_satisfied_by("01/09/2025")
        (True, True)
        >>> d.is_satisfied_by("yesterday"), d.is_satisfied_by(20250901)
        (False, False)
    """

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, _dt.date | np.datetime64):
            return not pd.isna(value)
        if isinstance(value, str):
            from .dates import text_date  # one date reader for data and parameters

            # Valid when it is a date in either day order: the function reads it with its own
            # ``dayfirst`` and still names the parameter if that reading fails.
            return any(text_date(str(value), dayfirst)[0] is not None for dayfirst in (True, False))
        return False

    def __str__(self) -> str:
        return (
            "a date (datetime.date, datetime, pandas.Timestamp, or text such as '2025-09-01' "
            "or '01/09/2025')"
        )


class Columns(Constraint):
    """A column name (non-empty text) or, with ``many=True``, a list of distinct names.

    The list must not be empty unless ``empty=True``.

    Example:
        >>> c = Columns()
        >>> c.is_satisfied_by("school_id"), c.is_satisfied_by(["a", "b"]), c.is_satisfied_by(3)
        (True, True, False)
        >>> Columns(many=False).is_satisfied_by(["a"])
        False
    """

    def __init__(self, *, many: bool = True, empty: bool = False):
        self.many, self.empty = many, empty

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, str):
            return value != ""
        if self.many and isinstance(value, list | tuple | pd.Index):
            names = list(value)
            return (
                (self.empty or len(names) > 0)
                and all(isinstance(n, str) and n != "" for n in names)
                and len(set(names)) == len(names)
            )
        return False

    def __str__(self) -> str:
        if self.many:
            some = "a list" if self.empty else "a non-empty list"
            return f"a column name or {some} of distinct column names"
        return "a column name (text)"


class Pair(Constraint):
    """A 2-tuple or 2-list of finite numbers, the first no larger than the second.

    Example:
        >>> Pair().is_satisfied_by((0, 17)), Pair().is_satisfied_by((17, 0))
        (True, False)
    """

    def __init__(self, element: Constraint | None = None, *, ordered: bool = True):
        self.element = element or Interval(Real, None, None)
        self.ordered = ordered

    def is_satisfied_by(self, value: object) -> bool:
        if not isinstance(value, tuple | list) or len(value) != 2:
            return False
        lo, hi = value
        ok = self.element.is_satisfied_by(lo) and self.element.is_satisfied_by(hi)
        return ok and (not self.ordered or lo <= hi)

    def __str__(self) -> str:
        if self.ordered:
            return f"a pair (low, high) of {self.element}, low <= high"
        return f"a pair of {self.element}"


class ArrayLike(Constraint):
    """A 1-D list, array or Series; with ``scores=True`` not dates or durations.

    Scores may hold missing values or even stray text (the function then names the bad
    cells), but a datetime or timedelta column is refused outright: read as numbers it would
    silently become nanoseconds.

    Example:
        >>> a = ArrayLike(scores=True)
        >>> a.is_satisfied_by([1, 2.5, None]), a.is_satisfied_by(pd.Series(pd.to_timedelta([1], "D")))
        (True, False)
    """

    _TIME_KINDS = frozenset(
        {"datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period"}
    )

    def __init__(self, *, scores: bool = False):
        self.scores = scores

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, str | bytes | Mapping | pd.DataFrame) or not hasattr(value, "__len__"):
            return False
        if getattr(value, "ndim", 1) != 1:
            return False
        if not self.scores:
            return True
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind in "mM":
            return False
        if dtype is not None and dtype != np.dtype(object):
            return not isinstance(dtype, pd.PeriodDtype | pd.DatetimeTZDtype)
        try:
            kind = pd.api.types.infer_dtype(value, skipna=True)
        except (TypeError, ValueError):
            return False
        return kind not in self._TIME_KINDS

    def __str__(self) -> str:
        if self.scores:
            return "a 1-D list, array or Series of scores (not dates or durations)"
        return "a 1-D list, array or Series"


class MappingOf(Constraint):
    """A mapping whose every value satisfies ``values`` (e.g. ``{scale: True/False}``).

    Example:
        >>> m = MappingOf(Boolean())
        >>> m.is_satisfied_by({"sdq": False}), m.is_satisfied_by({"sdq": "no"})
        (True, False)
    """

    def __init__(self, values: Constraint):
        self.values = values

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, Mapping) and all(
            self.values.is_satisfied_by(v) for v in value.values()
        )

    def __str__(self) -> str:
        return f"a mapping to {self.values}"


class HasMethods(Constraint):
    """An object with the named methods (e.g. a matplotlib Axes: ``HasMethods(["plot"])``)."""

    def __init__(self, methods: Iterable[str], name: str | None = None):
        self.methods = tuple(methods)
        self.name = name

    def is_satisfied_by(self, value: object) -> bool:
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self) -> str:
        return self.name or "an object with methods " + ", ".join(self.methods)


_SHORTHAND: dict[str, Callable[[], Constraint]] = {
    "boolean": Boolean,
    "dataframe": lambda: _InstanceOf(pd.DataFrame, "a pandas DataFrame"),
    "series": lambda: _InstanceOf(pd.Series, "a pandas Series"),
    "array-like": ArrayLike,
    "callable": _Callable,
    "path": lambda: _InstanceOf(str | os.PathLike, "a path (text or pathlib.Path)"),
    "date": Date,
    "columns": Columns,
    "ax": lambda: HasMethods(["plot", "set_title"], "a matplotlib Axes"),
    "no_validation": _NoValidation,
}


def make_constraint(spec: object) -> Constraint:
    """A :class:`Constraint` from a shorthand (type, None, string or constraint).

    Example:
        >>> str(make_constraint("dataframe")), str(make_constraint(None))
        ('a pandas DataFrame', 'None')
    """
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _NoneConstraint()
    if isinstance(spec, str):
        if spec not in _SHORTHAND:
            raise ValueError(
                f"unknown constraint shorthand {spec!r}{did_you_mean(spec, _SHORTHAND)}"
            )
        return _SHORTHAND[spec]()
    if isinstance(spec, type):
        if spec is bool:
            return Boolean()
        if spec in (int, Integral):
            return Interval(Integral, None, None)
        if spec in (float, Real):
            return Interval(Real, None, None)
        return _InstanceOf(spec, "text" if spec is str else None)
    raise TypeError(f"not a parameter constraint: {spec!r}")


class _Spec:
    """What the wrapper of one function checks and translates."""

    __slots__ = ("constraints", "name", "renames", "values")

    def __init__(self, name: str, constraints: dict[str, tuple[Constraint, ...]]):
        self.name = name
        self.constraints = constraints
        self.renames: dict[str, str] = {}
        self.values: dict[str, dict[object, object]] = {}


def _describe(constraints: tuple[Constraint, ...]) -> str:
    parts = [str(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _refuse(spec: _Spec, name: str, value: object) -> InvalidParameterError:
    allowed = spec.constraints[name]
    hint = ""
    if isinstance(value, str):
        options = [o for c in allowed if isinstance(c, Options) for o in c.options]
        if options:
            hint = did_you_mean(value, options)
            hint = hint if hint.startswith("; did you mean") else ""
    return InvalidParameterError(
        f"{spec.name}: parameter {name!r} must be {_describe(allowed)}; got {_shown(value)}{hint}",
        parameter=name,
    )


def _translate(spec: _Spec, kwargs: dict[str, Any]) -> None:
    """Old names and old option values to new ones, in place, with a DeprecationWarning."""
    for old, new in spec.renames.items():
        if old in kwargs:
            if new in kwargs:
                raise InvalidParameterError(
                    f"{spec.name}: give {new!r} only; {old!r} is its old name", parameter=old
                )
            warnings.warn(
                f"{spec.name}: parameter {old!r} is now called {new!r}; the old name will be removed",
                DeprecationWarning,
                stacklevel=3,
            )
            kwargs[new] = kwargs.pop(old)
    for name, aliases in spec.values.items():
        value = kwargs.get(name)
        if isinstance(value, str) and value in aliases:
            warnings.warn(
                f"{spec.name}: {name}={value!r} is now {name}={aliases[value]!r}; "
                "the old value will be removed",
                DeprecationWarning,
                stacklevel=3,
            )
            kwargs[name] = aliases[value]


def validate_params(constraints: Mapping[str, object]) -> Callable:
    """Decorator: check named parameters against constraints before the function runs.

    ``constraints`` maps a parameter name to one constraint or a list of them (any may
    match). Arguments that are not given are not checked (defaults are trusted; the API
    walk test checks that every default satisfies its constraint).

    Example:
        >>> @validate_params({"confidence": [Interval(Real, 0, 1, closed="neither")]})
        ... def ci(confidence=0.95):
        ...     return confidence
        >>> ci(confidence=0.9)
        0.9
        >>> ci(confidence=1.5)
        Traceback (most recent call last):
        ...
        outcomes.errors.InvalidParameterError: ci: parameter 'confidence' must be a finite number in the range (0, 1); got 1.5 (float)
    """

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)
        unknown_names = set(constraints) - set(sig.parameters)
        if unknown_names:
            raise TypeError(
                f"{func.__qualname__}: constraints for unknown parameters {sorted(unknown_names)}"
            )
        spec = _Spec(
            func.__qualname__,
            {
                name: tuple(
                    make_constraint(c) for c in (cons if isinstance(cons, list) else [cons])
                )
                for name, cons in constraints.items()
            },
        )
        checked = spec.constraints
        # Binding by hand (positions, then keywords) costs a fraction of Signature.bind; a call
        # that does not fit the signature fails in the function itself with Python's own error.
        positional = tuple(
            p.name
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if spec.renames or spec.values:
                _translate(spec, kwargs)
            for name, value in (*zip(positional, args, strict=False), *kwargs.items()):
                allowed = checked.get(name)
                if allowed is None:
                    continue
                for c in allowed:
                    if c.is_satisfied_by(value):
                        break
                else:
                    raise _refuse(spec, name, value)
            return func(*args, **kwargs)

        wrapper.__signature__ = sig  # type: ignore[attr-defined]
        wrapper._params_spec = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _spec_of(func: Callable, decorator: str) -> _Spec:
    spec = getattr(func, "_params_spec", None)
    if spec is None:
        raise TypeError(f"@{decorator} goes above @validate_params (on {func.__qualname__})")
    return spec


def renamed_params(**old_to_new: str) -> Callable:
    """Decorator: old argument names keep working, with a ``DeprecationWarning``.

    Goes above :func:`validate_params`; the new name must be a parameter of the function.

    Example:
        >>> @renamed_params(child="person_id")
        ... @validate_params({"person_id": [str]})
        ... def f(*, person_id="person_id"):
        ...     return person_id
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     f(child="pupil_id"), w[0].category.__name__
        ('pupil_id', 'DeprecationWarning')
    """

    def decorate(func: Callable) -> Callable:
        spec = _spec_of(func, "renamed_params")
        params = inspect.signature(func).parameters
        for old, new in old_to_new.items():
            if new not in params or old in params:
                raise TypeError(f"{func.__qualname__}: cannot rename {old!r} to {new!r}")
        spec.renames.update(old_to_new)
        return func

    return decorate


def deprecated_values(**aliases: Mapping[object, object]) -> Callable:
    """Decorator: old option values keep working, with a ``DeprecationWarning``.

    Example:
        >>> @deprecated_values(errors={"note": "flag"})
        ... @validate_params({"errors": [Options(str, {"raise", "flag"})]})
        ... def f(*, errors="raise"):
        ...     return errors
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)  # shown: the value
        ...     f(errors="note")
        'flag'
    """

    def decorate(func: Callable) -> Callable:
        spec = _spec_of(func, "deprecated_values")
        for name, mapping in aliases.items():
            if name not in spec.constraints:
                raise TypeError(f"{func.__qualname__}: no constraint for {name!r}")
            spec.values.setdefault(name, {}).update(mapping)
        return func

    return decorate


def check_value(name: str, value: object, constraint: object) -> object:
    """One value that no decorator can reach (inside a mapping or a config), checked against a
    constraint in the same words as a parameter; numbers come back as ``float``.

    Example:
        >>> check_value("benefit 'x': deadweight", 0.5, Interval(Real, 0, 1))
        0.5
        >>> check_value("units['children']", True, NON_NEGATIVE)
        Traceback (most recent call last):
        ...
        outcomes.errors.InvalidParameterError: units['children'] must be a finite number in the range [0, inf); got True (bool)
    """
    checked = make_constraint(constraint)
    if not checked.is_satisfied_by(value):
        raise InvalidParameterError(
            f"{name} must be {checked}; got {_shown(value)}", parameter=name
        )
    return float(value) if isinstance(checked, Interval) and checked.kind is Real else value


def constraints_of(func: Callable) -> dict[str, tuple[Constraint, ...]] | None:
    """The declared constraints of a public callable, or None when it declares none.

    Example:
        >>> import outcomes as oc
        >>> "confidence" in constraints_of(oc.paired_change)
        True
    """
    spec = getattr(func, "_params_spec", None)
    return None if spec is None else spec.constraints


# The constraints that recur across the package, so that one idea has one declaration.
PROBABILITY = Interval(Real, 0, 1, closed="neither")  # confidence levels, alpha
SHARE = Interval(Real, 0, 1)  # a proportion of something, 0 and 1 included
ERRORS = Options(str, {"raise", "flag"})
FINITE = Interval(Real, None, None)
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
COUNT = Interval(Integral, 0, None, closed="left")
POSITIVE_COUNT = Interval(Integral, 1, None, closed="left")
SEED = [Interval(Integral, 0, None, closed="left"), None]
BY = [Columns(), None]
COLUMN = Columns(many=False)
COLUMN_MAP = [Mapping, None]
INSTRUMENT = ["path", HasMethods(["scale", "item", "output_columns"], "an Instrument")]
TEXT = [str]
WAVE_LABEL = [str, FINITE, None]  # a wave is named ("baseline", "12m") or numbered (0, 12)
OPTIONAL_TEXT = [str, None]
