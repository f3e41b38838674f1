"""Synthetic programmes with known ground truth, for testing methods and pipelines.

``simulate_programme(seed=...)`` returns a :class:`ProgrammeData`: schools, referrals,
outcome/experience responses, the school population survey and the staff survey, in the
layout of DESIGN.md's data model, plus ``.truth`` (a :class:`Truth`) holding the
data-generating values a correct analysis should recover. See docs/synthetic.md.

Example:
    >>> import outcomes.synthetic as syn
    >>> data = syn.simulate_programme(seed=7, n_schools=5, truth_mc_size=0)
    >>> set(data.tables()) >= {"schools", "referrals", "school_survey", "staff_survey"}
    True
"""

from __future__ import annotations

from .latent import ItemBlock, ordinal_responses
from .programme import (
    DEMO_COMMAND,
    DEMO_SEED,
    DEMO_SETTINGS,
    RESPONSE_INSTRUMENTS,
    THREE_YEAR_COMMAND,
    THREE_YEAR_SEED,
    THREE_YEAR_SETTINGS,
    ProgrammeData,
    demo_programme,
    simulate_programme,
    three_year_programme,
)
from .school_survey import SWEMWBS_COLUMNS, anova_icc
from .service import INAPPROPRIATE_REASONS, NOT_ACCEPTED_REASONS
from .settings import SimulationParameterError, SimulationSettings
from .truth import Truth

__all__ = [
    "DEMO_COMMAND",
    "DEMO_SEED",
    "DEMO_SETTINGS",
    "INAPPROPRIATE_REASONS",
    "NOT_ACCEPTED_REASONS",
    "RESPONSE_INSTRUMENTS",
    "SWEMWBS_COLUMNS",
    "THREE_YEAR_COMMAND",
    "THREE_YEAR_SEED",
    "THREE_YEAR_SETTINGS",
    "ItemBlock",
    "ProgrammeData",
    "SimulationParameterError",
    "SimulationSettings",
    "Truth",
    "anova_icc",
    "demo_programme",
    "ordinal_responses",
    "simulate_programme",
    "three_year_programme",
]
