"""The statsmodels names the package fits models with, imported from their own modules.

``import statsmodels.api`` loads about 420 modules the package never uses (time series,
robust, nonparametric, graphics ...): about 0.2 s of every report build. These are the same
objects ``statsmodels.api`` and ``statsmodels.formula.api`` export (``ols`` and ``gee`` are
``OLS.from_formula`` and ``GEE.from_formula``, as there). Import this module inside the
functions that fit, as ``from .._internal import sm``: ``import outcomes`` stays light.
"""

from __future__ import annotations

from statsmodels.discrete.discrete_model import Logit
from statsmodels.genmod import cov_struct, families
from statsmodels.genmod.generalized_estimating_equations import GEE
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

ols = OLS.from_formula
gee = GEE.from_formula

__all__ = ["GEE", "OLS", "Logit", "add_constant", "cov_struct", "families", "gee", "ols"]
