"""outcomes: evaluating children and young people's mental health programmes.

Example:
    >>> import outcomes as oc
    >>> len(oc.list_instruments()) >= 12
    True
"""

from __future__ import annotations

from . import (
    disclosure,
    economics,
    esq,
    forms,
    likert,
    longitudinal,
    service,
    store,
    survey,
    synthetic,
)
from ._version import __version__
from .change import (
    CasenessResult,
    ChangeResult,
    ChangeTable,
    OutcomeMetricResult,
    Pairing,
    ReliableChangeSummary,
    adjust_pvalues,
    caseness_change,
    cyp_outcome_metric,
    jacobson_truax_cutoffs,
    pair_waves,
    paired_change,
    paired_change_table,
    reliable_change,
    reliable_change_summary,
)
from .errors import (
    DataStructureError,
    InstrumentDefinitionError,
    InvalidParameterError,
    InvalidResponsesError,
    OutcomesError,
)
from .instruments import (
    Instrument,
    ValidationReport,
    item_codes,
    list_instruments,
    load_instrument,
    score,
    validate,
)
from .longitudinal import attrition, imputation
from .privacy import pseudonymise
from .report import build_report

__all__ = [
    "CasenessResult",
    "ChangeResult",
    "ChangeTable",
    "OutcomeMetricResult",
    "Pairing",
    "ReliableChangeSummary",
    "adjust_pvalues",
    "attrition",
    "build_report",
    "caseness_change",
    "cyp_outcome_metric",
    "jacobson_truax_cutoffs",
    "pair_waves",
    "paired_change",
    "paired_change_table",
    "reliable_change",
    "reliable_change_summary",
    "DataStructureError",
    "Instrument",
    "InstrumentDefinitionError",
    "InvalidParameterError",
    "InvalidResponsesError",
    "OutcomesError",
    "ValidationReport",
    "__version__",
    "disclosure",
    "economics",
    "esq",
    "forms",
    "imputation",
    "likert",
    "longitudinal",
    "pseudonymise",
    "service",
    "store",
    "survey",
    "synthetic",
    "item_codes",
    "list_instruments",
    "load_instrument",
    "score",
    "validate",
]
