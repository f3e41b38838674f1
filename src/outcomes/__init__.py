"""outcomes: evaluating children and young people's mental health programmes.

Example:
    >>> import outcomes as oc
    >>> len(oc.list_instruments()) >= 12
    True
"""

from __future__ import annotations

from . import (
    attrition,
    disclosure,
    esq,
    forms,
    imputation,
    likert,
    longitudinal,
    service,
    survey,
    synthetic,
)
from ._version import __version__
from .change import (
    CasenessResult,
    ChangeResult,
    ChangeTable,
    adjust_pvalues,
    caseness_change,
    paired_change,
    paired_change_table,
)
from .coded_scores import CodedScores, pivot_coded_scores
from .errors import (
    DataStructureError,
    InstrumentDefinitionError,
    InvalidResponsesError,
    OutcomesError,
)
from .instruments import Instrument, list_instruments, load_instrument
from .outcome_metric import OutcomeMetricResult, cyp_outcome_metric
from .pairing import Pairing, pair_waves
from .privacy import pseudonymise
from .reliable import (
    ReliableChangeSummary,
    jacobson_truax_cutoffs,
    reliable_change,
    reliable_change_summary,
)
from .report import build_report
from .scoring import ValidationReport, item_codes, score, validate

__all__ = [
    "CasenessResult",
    "CodedScores",
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
    "pivot_coded_scores",
    "reliable_change",
    "reliable_change_summary",
    "DataStructureError",
    "Instrument",
    "InstrumentDefinitionError",
    "InvalidResponsesError",
    "OutcomesError",
    "ValidationReport",
    "__version__",
    "disclosure",
    "esq",
    "forms",
    "imputation",
    "likert",
    "longitudinal",
    "pseudonymise",
    "service",
    "survey",
    "synthetic",
    "item_codes",
    "list_instruments",
    "load_instrument",
    "score",
    "validate",
]
