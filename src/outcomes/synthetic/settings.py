"""The knobs of the programme simulator, checked once, in one place.

Every size, rate and effect the simulator uses is a field of :class:`SimulationSettings`.
:func:`outcomes.synthetic.simulate_programme` builds one from its keyword arguments, so a
typo or an impossible value (a negative size, a rate outside 0-1) stops with an error that
names the argument before any data are drawn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._internal.params import validate_params
from ..errors import OutcomesError

DROPOUT_MECHANISMS = ("mar", "mcar", "mnar")
SURVEY_WAVES = {"baseline": 0, "12m": 12, "24m": 24, "36m": 36}


class SimulationParameterError(OutcomesError):
    """An argument of the simulator is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class SimulationSettings:
    """All parameters of a simulated programme, with realistic defaults.

    Sources of the defaults are given in docs/synthetic.md. Effects are in standard-deviation
    units of the latent traits; positive effects mean improvement.
    """

    # --- schools and pupils ---------------------------------------------------------------
    n_schools: int = 22
    secondary_share: float = 0.27
    pupils_per_primary: int = 240
    pupils_per_secondary: int = 700
    staff_per_primary: int = 30
    staff_per_secondary: int = 90
    n_comparison_schools: int = 0
    n_teams: int = 2
    start_date: dt.date = dt.date(2025, 9, 1)
    fsm_rate: float = 0.25
    sen_support_rate: float = 0.14
    ehcp_rate: float = 0.05
    lgbt: bool = True
    lgbt_rate: float = 0.08
    school_icc: float = 0.02
    # --- school survey --------------------------------------------------------------------
    survey_waves: tuple[str, ...] = ("baseline", "12m")
    survey_year_groups: tuple[int, ...] = (7, 8, 9, 10, 11)
    survey_response_rate: float = 0.80
    survey_effect: float = 0.10
    secular_trend: float = 0.03
    # --- service --------------------------------------------------------------------------
    service_months: int = 12
    referral_rate: float = 0.07
    inappropriate_rate_start: float = 0.22
    inappropriate_rate_end: float = 0.10
    other_not_accepted_rate: float = 0.06
    wait_weeks_start: float = 6.0
    wait_weeks_end: float = 4.0
    mean_contacts: float = 7.0
    single_contact_rate: float = 0.10
    re_referral_rate: float = 0.15
    # --- clinical measures ----------------------------------------------------------------
    baseline_measure_rate: float = 0.80
    follow_up_rate: float = 0.55
    dropout: Literal["mar", "mcar", "mnar"] = "mar"
    dropout_strength: float = 0.6
    school_dropout_sd: float = 0.4
    clinical_effect: float = 0.8
    clinical_effect_sd: float = 0.6
    esq_rate: float = 0.80
    #: add the MHST measures (RCADS-25 self/parent, GAD-7 and PHQ-9 from 16); own random stream,
    #: so the other tables do not change (the demo programme turns it on)
    mhst_measures: bool = False
    #: survey primary pupils in Years 4-6 (ages 8-11) with the Stirling Children's Wellbeing
    #: Scale; own random stream, other tables unchanged (the demo programme turns it on)
    primary_survey: bool = False
    # --- item-level missingness -----------------------------------------------------------
    item_missing_rate: float = 0.02
    honosca_not_known_rate: float = 0.04
    dont_know_rate: float = 0.03
    # --- staff survey ---------------------------------------------------------------------
    staff_response_rate: float = 0.50
    staff_retention: float = 0.70
    staff_effect: float = 0.50
    # --- ground truth ---------------------------------------------------------------------
    truth_mc_size: int = 20_000

    def __post_init__(self) -> None:
        # Accept ISO text for the date and lists for the sequences; store canonical types.
        if not isinstance(self.start_date, dt.date):
            object.__setattr__(self, "start_date", _as_date(self.start_date))
        elif isinstance(self.start_date, dt.datetime):
            object.__setattr__(self, "start_date", self.start_date.date())
        for name in ("survey_waves", "survey_year_groups"):
            v = getattr(self, name)
            if isinstance(v, str):
                v = [x.strip() for x in v.split(",") if x.strip()]
                if name == "survey_year_groups":
                    try:
                        v = [int(x) for x in v]
                    except ValueError:
                        raise SimulationParameterError(
                            f"survey_year_groups={getattr(self, name)!r}: not whole numbers"
                        ) from None
            if not isinstance(v, tuple):
                try:
                    v = tuple(v)
                except TypeError:
                    raise SimulationParameterError(
                        f"{name}={v!r}: must be a list, got {type(v).__name__}"
                    ) from None
                object.__setattr__(self, name, v)
        _check(self)

    @classmethod
    @validate_params({"kwargs": "no_validation"})  # names checked below, values in _check
    def from_kwargs(cls, **kwargs: Any) -> SimulationSettings:
        """Build settings from keyword arguments, refusing unknown names with a suggestion."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in kwargs:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SimulationParameterError(f"unknown simulator argument {key!r}{hint}")
        return cls(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly values (dates as ISO text, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dt.date):
                v = v.isoformat()
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    # --- derived quantities ---------------------------------------------------------------
    @property
    def n_secondary(self) -> int:
        return int(round(self.n_schools * self.secondary_share))

    @property
    def n_primary(self) -> int:
        return self.n_schools - self.n_secondary

    @property
    def end_date(self) -> dt.date:
        """The first day after the service period."""
        return _add_months(self.start_date, self.service_months)

    @property
    def extract_date(self) -> dt.date:
        """The day the service data were extracted: the last day of the service period."""
        return self.end_date - dt.timedelta(days=1)

    @property
    def horizon_years(self) -> int:
        """Academic years covered by the service period or any survey wave."""
        last_wave = max(SURVEY_WAVES[w] for w in self.survey_waves)
        months = max(self.service_months, last_wave + 1)
        return (months + 11) // 12


_INT_MIN = {
    "n_schools": 1,
    "pupils_per_primary": 1,
    "pupils_per_secondary": 1,
    "staff_per_primary": 0,
    "staff_per_secondary": 0,
    "n_comparison_schools": 0,
    "n_teams": 1,
    "service_months": 1,
    "truth_mc_size": 0,
}
_PROPORTIONS = (
    "secondary_share",
    "fsm_rate",
    "sen_support_rate",
    "ehcp_rate",
    "lgbt_rate",
    "survey_response_rate",
    "referral_rate",
    "inappropriate_rate_start",
    "inappropriate_rate_end",
    "other_not_accepted_rate",
    "single_contact_rate",
    "re_referral_rate",
    "baseline_measure_rate",
    "follow_up_rate",
    "esq_rate",
    "item_missing_rate",
    "honosca_not_known_rate",
    "dont_know_rate",
    "staff_response_rate",
    "staff_retention",
)
_REALS = (
    "survey_effect",
    "secular_trend",
    "clinical_effect",
    "dropout_strength",
    "staff_effect",
)
_NONNEG = ("clinical_effect_sd", "school_dropout_sd")


def _check(s: SimulationSettings) -> None:
    def fail(name: str, why: str) -> None:
        raise SimulationParameterError(f"{name}={getattr(s, name)!r}: {why}")

    for name, lo in _INT_MIN.items():
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            fail(name, "must be a whole number")
        if v < lo:
            fail(name, f"must be at least {lo}" if lo else "must not be negative")
    for name in _PROPORTIONS:
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            fail(name, "must be a number between 0 and 1")
        if not 0 <= v <= 1:
            fail(name, "is a rate and must lie between 0 and 1")
    for name in _REALS:
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v != v:
            fail(name, "must be a number")
        if abs(v) > 5:
            fail(name, "is in latent standard deviations; values beyond +/-5 are not plausible")
    for name in _NONNEG:
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v <= 5:
            fail(name, "must be a number between 0 and 5")
    icc = s.school_icc
    if isinstance(icc, bool) or not isinstance(icc, numbers.Real) or not 0 <= icc < 1:
        fail("school_icc", "is an intraclass correlation and must lie in [0, 1)")
    if s.sen_support_rate + s.ehcp_rate > 1:
        fail("ehcp_rate", "sen_support_rate + ehcp_rate must not exceed 1")
    if s.inappropriate_rate_start + s.other_not_accepted_rate > 1:
        fail("other_not_accepted_rate", "together with inappropriate_rate_start exceeds 1")
    if s.inappropriate_rate_end + s.other_not_accepted_rate > 1:
        fail("other_not_accepted_rate", "together with inappropriate_rate_end exceeds 1")
    for name in ("wait_weeks_start", "wait_weeks_end"):
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= 104:
            fail(name, "is a mean wait in weeks and must lie in (0, 104]")
    mc = s.mean_contacts
    if isinstance(mc, bool) or not isinstance(mc, numbers.Real) or not 1 <= mc <= 50:
        fail("mean_contacts", "must lie between 1 and 50")
    if s.service_months > 36:
        fail("service_months", "the simulator covers at most 36 months")
    if s.dropout not in DROPOUT_MECHANISMS:
        fail("dropout", f"must be one of {', '.join(DROPOUT_MECHANISMS)}")
    if not s.survey_waves or "baseline" not in s.survey_waves:
        fail("survey_waves", "must include 'baseline'")
    bad = [w for w in s.survey_waves if w not in SURVEY_WAVES]
    if bad:
        fail("survey_waves", f"unknown wave(s) {bad}; choose from {list(SURVEY_WAVES)}")
    if len(set(s.survey_waves)) != len(s.survey_waves):
        fail("survey_waves", "names a wave twice")
    ygs = s.survey_year_groups
    if not ygs:
        fail("survey_year_groups", "must name at least one year group")
    if any(isinstance(y, bool) or not isinstance(y, numbers.Integral) for y in ygs):
        fail("survey_year_groups", "must be whole year groups")
    if any(not 7 <= y <= 11 for y in ygs) or len(set(ygs)) != len(ygs):
        fail(
            "survey_year_groups",
            "must be distinct secondary year groups 7-11 (the SDQ self-report is for 11-17)",
        )
    if not isinstance(s.start_date, dt.date):
        fail("start_date", "must be a date")
    if not isinstance(s.lgbt, bool):
        fail("lgbt", "must be True or False")
    for name in ("mhst_measures", "primary_survey"):
        if not isinstance(getattr(s, name), bool):
            fail(name, "must be True or False")


def _as_date(v: object) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise SimulationParameterError(f"start_date={v!r}: not a date (use YYYY-MM-DD)") from None


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1) if d.day == 1 else _clip_day(d.year + y, m + 1, d.day)


def _clip_day(y: int, m: int, day: int) -> dt.date:
    for dd in range(day, 27, -1):
        try:
            return dt.date(y, m, dd)
        except ValueError:
            continue
    return dt.date(y, m, min(day, 28))


def settings_from(settings: SimulationSettings | Mapping[str, Any] | None, **kwargs: Any):
    """Merge an optional settings object or mapping with keyword overrides."""
    base: dict[str, Any] = {}
    if isinstance(settings, SimulationSettings):
        base = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    elif settings is not None:
        base = dict(settings)
    base.update(kwargs)
    return SimulationSettings.from_kwargs(**base)


__all__ = [
    "DROPOUT_MECHANISMS",
    "SURVEY_WAVES",
    "SimulationParameterError",
    "SimulationSettings",
    "settings_from",
]
