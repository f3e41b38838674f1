"""outcomes: evaluating children and young people's mental health programmes.

``import outcomes`` loads almost nothing: each public name is imported from its module the first
time it is used (PEP 562 module ``__getattr__``). Importing the package therefore neither pays
for scipy, statsmodels and matplotlib nor touches matplotlib's backend, so ``result.plot()``
shows inline in Jupyter.

Example:
    >>> import outcomes as oc
    >>> len(oc.list_instruments()) >= 12
    True
"""

from __future__ import annotations

import importlib

from ._version import __version__

# Public name -> the module (relative to this package) that defines it.
_NAMES = {
    **dict.fromkeys(
        [
            "CasenessResult",
            "ChangeResult",
            "ChangeTable",
            "OutcomeMetricResult",
            "Pairing",
            "ReliableChangeSummary",
            "adjust_pvalues",
            "caseness_change",
            "cyp_outcome_metric",
            "jacobson_truax_cutoffs",
            "pair_waves",
            "paired_change",
            "paired_change_table",
            "reliable_change",
            "reliable_change_summary",
        ],
        "change",
    ),
    **dict.fromkeys(
        [
            "DataStructureError",
            "InstrumentDefinitionError",
            "InvalidParameterError",
            "InvalidResponsesError",
            "OutcomesError",
        ],
        "errors",
    ),
    **dict.fromkeys(
        [
            "Instrument",
            "ValidationReport",
            "item_codes",
            "list_instruments",
            "load_instrument",
            "score",
            "validate",
        ],
        "instruments",
    ),
    **dict.fromkeys(["CodedScores", "pivot_coded_scores"], "coded_scores"),
    "pseudonymise": "privacy",
    "build_report": "report",
}
# Subpackages and modules reachable as ``oc.<name>`` -> where they live.
_MODULES = {
    "attrition": "longitudinal.attrition",
    "disclosure": "disclosure",
    "economics": "economics",
    "esq": "esq",
    "forms": "forms",
    "imputation": "longitudinal.imputation",
    "io": "io",
    "likert": "likert",
    "longitudinal": "longitudinal",
    "mhsds": "mhsds",
    "service": "service",
    "spc": "spc",
    "store": "store",
    "survey": "survey",
    "synthetic": "synthetic",
}

__all__ = ["__version__", *_NAMES, *_MODULES]


def __getattr__(name: str) -> object:
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
