"""Instruments as data: the model of an instrument YAML, the registry, the generic scoring
engine and the catalogue.

Modules: ``model`` (pydantic model, loading and the registry of bundled YAML files),
``scoring`` (``score``, ``validate``, ``item_codes``: one engine for every instrument),
``catalogue`` (Markdown pages generated from the YAML).
"""

from .model import (
    MAX_RANGE_CODES,
    AlternativeCoding,
    Band,
    BandScheme,
    ClinicalCutoff,
    Continuous,
    Instrument,
    Item,
    Licence,
    NormRow,
    ResponseOption,
    ResponseSet,
    Scale,
    list_instruments,
    load_all,
    load_instrument,
    parse_instrument,
)
from .scoring import ValidationReport, item_codes, score, validate

__all__ = [
    "MAX_RANGE_CODES",
    "AlternativeCoding",
    "Band",
    "BandScheme",
    "ClinicalCutoff",
    "Continuous",
    "Instrument",
    "Item",
    "Licence",
    "NormRow",
    "ResponseOption",
    "ResponseSet",
    "Scale",
    "ValidationReport",
    "item_codes",
    "list_instruments",
    "load_all",
    "load_instrument",
    "parse_instrument",
    "score",
    "validate",
]
