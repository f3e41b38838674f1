"""Change between baseline and follow-up: pairing records, paired tests and effect sizes,
reliable and clinically significant change, and the NHS England CYP outcomes metric.

Modules: ``pairing`` (which records pair), ``paired`` (paired tests, effect sizes, caseness),
``reliable`` (Jacobson-Truax), ``outcome_metric`` (the NHS metric).
"""

from .outcome_metric import OutcomeMetricResult, OutcomeMetricWarning, cyp_outcome_metric
from .paired import (
    CasenessResult,
    ChangeResult,
    ChangeTable,
    adjust_pvalues,
    caseness_change,
    hedges_j,
    paired_change,
    paired_change_table,
)
from .pairing import Pairing, PairingWarning, pair_waves
from .reliable import (
    ReliableChangeSummary,
    jacobson_truax_cutoffs,
    reliable_change,
    reliable_change_summary,
    s_diff,
)

__all__ = [
    "CasenessResult",
    "ChangeResult",
    "ChangeTable",
    "OutcomeMetricResult",
    "OutcomeMetricWarning",
    "Pairing",
    "PairingWarning",
    "ReliableChangeSummary",
    "adjust_pvalues",
    "caseness_change",
    "cyp_outcome_metric",
    "hedges_j",
    "jacobson_truax_cutoffs",
    "pair_waves",
    "paired_change",
    "paired_change_table",
    "reliable_change",
    "reliable_change_summary",
    "s_diff",
]
