"""Outcomes over several waves: mixed models of repeated scores, attrition (who is lost to
follow-up) and multiple imputation of missing follow-ups.

Modules: ``mixed`` (``fit_mixed`` and ``MixedResult``), ``attrition``, ``imputation``. The
functions of the last two are reached through their modules (``oc.attrition.attrition``,
``oc.imputation.impute_change``), as before the subpackage existed.
"""

from . import attrition, imputation
from .mixed import (
    LongitudinalWarning,
    MixedResult,
    ModelSpecificationError,
    fit_from_prepared,
    fit_mixed,
    prepare,
    wave_order,
)

__all__ = [
    "LongitudinalWarning",
    "MixedResult",
    "ModelSpecificationError",
    "attrition",
    "fit_from_prepared",
    "fit_mixed",
    "imputation",
    "prepare",
    "wave_order",
]
