"""The 12-month evaluation report: config, checked inputs, sections and the HTML build."""

from .build import build_report
from .config import ConfigError, EvaluationConfig, load_config
from .sections import Evaluation

__all__ = ["ConfigError", "Evaluation", "EvaluationConfig", "build_report", "load_config"]
