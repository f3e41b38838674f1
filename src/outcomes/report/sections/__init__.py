"""The sections of the 12-month evaluation report, one module each, and the
:class:`Evaluation` that releases their numbers once and renders them."""

from .evaluation import Evaluation

__all__ = ["Evaluation"]
