"""outcomes: evaluating children and young people's mental health programmes.

Example:
    >>> import outcomes as oc
    >>> len(oc.list_instruments()) >= 12
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import esq, forms, likert, survey
from .errors import (
    DataStructureError,
    InstrumentDefinitionError,
    InvalidResponsesError,
    OutcomesError,
)
from .instruments import Instrument, list_instruments, load_instrument
from .scoring import ValidationReport, item_codes, score, validate

try:
    __version__ = version("outcomes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "DataStructureError",
    "Instrument",
    "InstrumentDefinitionError",
    "InvalidResponsesError",
    "OutcomesError",
    "ValidationReport",
    "__version__",
    "esq",
    "forms",
    "likert",
    "survey",
    "item_codes",
    "list_instruments",
    "load_instrument",
    "score",
    "validate",
]
