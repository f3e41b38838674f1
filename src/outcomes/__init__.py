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
    "CasenessResult": "change",
    "ChangeResult": "change",
    "ChangeTable": "change",
    "adjust_pvalues": "change",
    "caseness_change": "change",
    "paired_change": "change",
    "paired_change_table": "change",
    "DataStructureError": "errors",
    "InstrumentDefinitionError": "errors",
    "InvalidResponsesError": "errors",
    "OutcomesError": "errors",
    "Instrument": "instruments",
    "list_instruments": "instruments",
    "load_instrument": "instruments",
    "OutcomeMetricResult": "outcome_metric",
    "cyp_outcome_metric": "outcome_metric",
    "Pairing": "pairing",
    "pair_waves": "pairing",
    "pseudonymise": "privacy",
    "ReliableChangeSummary": "reliable",
    "jacobson_truax_cutoffs": "reliable",
    "reliable_change": "reliable",
    "reliable_change_summary": "reliable",
    "build_report": "report",
    "ValidationReport": "scoring",
    "item_codes": "scoring",
    "score": "scoring",
    "validate": "scoring",
}
# Subpackages and modules reachable as ``oc.<name>``.
_MODULES = (
    "attrition",
    "disclosure",
    "esq",
    "forms",
    "imputation",
    "likert",
    "longitudinal",
    "service",
    "survey",
    "synthetic",
)

__all__ = ["__version__", *_NAMES, *_MODULES]


def __getattr__(name: str) -> object:
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
