"""The 12-month evaluation report: config, checked inputs, sections and the HTML build."""

from .config import ConfigError, EvaluationConfig, load_config
from .sections import Evaluation

__all__ = ["ConfigError", "Evaluation", "EvaluationConfig", "load_config"]
