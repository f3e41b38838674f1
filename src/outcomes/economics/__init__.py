"""What did it cost, and what did it buy? Costs, cost per output and outcome, cost-consequence
and cost-benefit analysis (HM Treasury Green Book), and sensitivity analysis.

Modules: ``costs`` (cost lines, inflation to one price year), ``per_outcome`` (cost per
child, contact, school; cost per outcome with a bootstrap CI), ``cba`` (discounting, benefit
lines with deadweight, attribution and optimism bias, NPV, benefit-cost ratio, payback), and
``sensitivity`` (one-way with a tornado plot, probabilistic with P(benefits > costs)).

Unit costs are the user's, with their source and price year: the package ships none, and the
demo's are labelled illustrative.
"""

from .cba import (
    GREEN_BOOK_SCHEDULE,
    Benefit,
    CostBenefitResult,
    cost_benefit,
    cost_consequence,
    discount_factors,
    present_value,
)
from .costs import CostError, cost_table, cost_totals, inflation_factors
from .per_outcome import CostPerOutcome, cost_per_outcome, cost_per_unit
from .sensitivity import OneWayResult, PSAResult, distribution, one_way, probabilistic

__all__ = [
    "GREEN_BOOK_SCHEDULE",
    "Benefit",
    "CostBenefitResult",
    "CostError",
    "CostPerOutcome",
    "OneWayResult",
    "PSAResult",
    "cost_benefit",
    "cost_consequence",
    "cost_per_outcome",
    "cost_per_unit",
    "cost_table",
    "cost_totals",
    "discount_factors",
    "distribution",
    "inflation_factors",
    "one_way",
    "present_value",
    "probabilistic",
]
