"""The 12-month evaluation report: config, checked inputs, sections and the HTML build."""

from .build import ReportBuildError, build_report
from .config import ConfigError, EvaluationConfig, load_config
from .sections import Evaluation

__all__ = [
    "ConfigError",
    "Evaluation",
    "EvaluationConfig",
    "ReportBuildError",
    "build_report",
    "load_config",
]
