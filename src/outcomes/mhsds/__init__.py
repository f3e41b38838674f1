"""NHS-shaped data in, NHS numbers out: MHSDS extracts and NHS England's CYP outcomes metric
(MHS110-MHS115) as relational steps that run on DuckDB or Spark (specs/mhsds.md)."""

from .extract import MHSDSExtract, read
from .metric import NHSMetricResult, run_metric
from .reference import nhs_measures, rcads_norms, scale_table

__all__ = [
    "MHSDSExtract",
    "NHSMetricResult",
    "nhs_measures",
    "rcads_norms",
    "read",
    "run_metric",
    "scale_table",
]
