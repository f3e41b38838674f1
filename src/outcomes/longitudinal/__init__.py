"""Outcomes over several waves: mixed models of repeated scores, attrition (who is lost to
follow-up) and multiple imputation of missing follow-ups.

Modules: ``mixed`` (``fit_mixed`` and ``MixedResult``), ``attrition``, ``imputation``. The
functions of the last two are reached through their modules (``oc.attrition.attrition``,
``oc.imputation.impute_change``), as before the subpackage existed. ``prepare`` and
``fit_from_prepared`` are importable here for those modules but are not public API: they take
the private prepared-data record, not a user's table.
"""

from . import attrition, imputation
from .mixed import (
    LongitudinalWarning,
    MixedResult,
    ModelSpecificationError,
    fit_mixed,
    wave_order,
)
from .mixed import (
    fit_from_prepared as fit_from_prepared,
)
from .mixed import (
    prepare as prepare,
)

__all__ = [
    "LongitudinalWarning",
    "MixedResult",
    "ModelSpecificationError",
    "attrition",
    "fit_mixed",
    "imputation",
    "wave_order",
]
