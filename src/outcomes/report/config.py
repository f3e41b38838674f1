"""The evaluation config (YAML): what the programme is, where its tables are, and the choices
the report makes. Validated with pydantic; every problem is reported with its field path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .._internal.text import unknown
from ..errors import OutcomesError
from ..instruments.model import SAFE_LOADER

DEFAULT_SUBGROUPS = ("gender", "ethnicity", "sen", "fsm", "age_band", "lgbt")


class ConfigError(OutcomesError):
    """The evaluation config or its input tables cannot be used; the message lists every problem."""

    def __init__(self, problems: list[str], source: str = "config"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{source}: {len(self.problems)} problem(s) found before any analysis ran:\n{lines}"
        )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Period(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} is not after its start {self.start}")
        return self


class Tables(_Model):
    """Paths of the input tables, relative to ``data_dir``. Leave one out to skip its section."""

    referrals: str | None = None
    schools: str | None = None
    school_survey: str | None = None
    #: the primary pupils' wellbeing survey (``school_survey.primary_instrument``), reported
    #: beside the secondary survey and never pooled with it
    primary_survey: str | None = None
    staff_survey: str | None = None
    #: instrument id -> responses file (long: person_id, rater, date, wave, ... + item columns)
    responses: dict[str, str] = {}


#: the count rule each disclosure preset stands for
DISCLOSURE_RULES: dict[str, dict[str, int]] = {"default": {}, "mhsds": {"threshold": 4, "base": 5}}


class Disclosure(_Model):
    enabled: bool = True
    threshold: int = Field(7, ge=0)
    base: int = Field(5, ge=1)
    #: ``mhsds``: NHS England's MHSDS publication rule (0-4, zero included, suppressed; other
    #: counts to the nearest 5), with this report's secondary suppression kept on top
    rule: Literal["default", "mhsds"] = "default"

    @model_validator(mode="after")
    def _preset(self) -> Disclosure:
        preset = DISCLOSURE_RULES[self.rule]
        clash = [f"{k} ({getattr(self, k)})" for k, v in preset.items()
                 if k in self.model_fields_set and getattr(self, k) != v]  # fmt: skip
        if clash:
            raise ValueError(
                f"disclosure.rule {self.rule} fixes "
                f"{' and '.join(f'{k} {v}' for k, v in preset.items())}; leave out "
                + ", ".join(clash)
            )
        for k, v in preset.items():
            object.__setattr__(self, k, v)  # the preset's values, not a user's choice
        return self


#: the explicit way to count every not-accepted referral as inappropriate
ALL_NOT_ACCEPTED = "all_not_accepted"


class Service(_Model):
    standard_days: int = Field(28, gt=0)
    #: not-accepted reasons that count as inappropriate, or ``"all_not_accepted"`` said
    #: explicitly; required when the referrals table has not-accepted referrals (checked
    #: against the data in :mod:`outcomes.report.checks`)
    inappropriate_reasons: list[str] | Literal["all_not_accepted"] | None = None

    @field_validator("inappropriate_reasons", mode="before")
    @classmethod
    def _one_word_only(cls, value: object) -> object:
        # One string is allowed, and only the explicit one: a single reason written without
        # list brackets would otherwise read as a typo of it.
        if isinstance(value, str) and value != ALL_NOT_ACCEPTED:
            raise ValueError(
                f"{unknown('value', value, [ALL_NOT_ACCEPTED])}; "
                "give a list of reasons (even of one), or all_not_accepted"
            )
        if isinstance(value, list) and not value:
            raise ValueError(
                "an empty list counts no referral as inappropriate; list the reasons that do, "
                "or leave inappropriate_reasons out when every referral was accepted"
            )
        return value

    #: a date around which to compare the inappropriate-referral rate (e.g. a new pathway)
    change_date: dt.date | None = None
    #: referrals from before the programme, in the same table: the "before" of the service's
    #: before-and-after (inappropriate rate, waits); must end on or before the period start
    pre_period: Period | None = None


class ShareTarget(_Model):
    #: the share sought (0-1)
    share: float = Field(gt=0, lt=1)


class InappropriateTarget(_Model):
    #: the relative reduction sought from the baseline rate (0.25: a quarter fewer)
    reduction: float = Field(gt=0, lt=1)
    #: the baseline period; default ``service.pre_period``
    baseline: Period | None = None


class ChangeTarget(_Model):
    #: the change sought, in the measure's points, in the direction of improvement (> 0)
    change: float = Field(gt=0)
    #: "instrument.scale"; default ``outcomes.headline`` (paired outcomes only)
    measure: str | None = None


class Targets(_Model):
    """Success measures the programme declared, each with its target; the report opens with a
    scorecard of them (docs/report.md, "Scorecard")."""

    #: share of accepted referrals seen (first contact) within ``service.standard_days``
    seen_within_standard: ShareTarget | None = None
    #: inappropriate-referral rate: a reduction from a baseline period
    inappropriate_rate: InappropriateTarget | None = None
    #: mean change in programme staff's confidence (1-5 scale), baseline to follow-up
    staff_confidence_change: ChangeTarget | None = None
    #: mean paired improvement on an outcome measure
    outcome_improvement: ChangeTarget | None = None
    #: share of CHI-ESQ answers 'Certainly true'
    experience: ShareTarget | None = None

    @model_validator(mode="before")
    @classmethod
    def _known(cls, data: object) -> object:
        # pydantic says only "extra inputs are not permitted": name the nearest measure
        if isinstance(data, dict):
            names = list(cls.model_fields)
            bad = [unknown("success measure", k, names) for k in data if k not in names]
            if bad:
                raise ValueError("; ".join(bad))
        return data


class Outcomes(_Model):
    rule: Literal["first_last", "nearest", "waves"] = "first_last"
    target_days: float | None = None
    window_days: float | None = None
    baseline_wave: str | None = None
    followup_wave: str | None = None
    #: "instrument.scale" for the Jacobson-Truax plot and the equity breakdown
    headline: str = "honosca.total"
    adjust: Literal["holm", "fdr_bh", "bonferroni"] = "holm"


class _Waves(_Model):
    """Survey waves: ``waves`` (ordered, baseline first), or the older pair
    ``baseline_wave``/``followup_wave``; ``exclude_waves`` names data waves left out on purpose."""

    waves: list[str] | None = None
    baseline_wave: str | None = None
    followup_wave: str | None = None
    exclude_waves: list[str] = []

    @field_validator("waves", "baseline_wave", "followup_wave", "exclude_waves", mode="before")
    @classmethod
    def _wave_names(cls, v: object) -> object:
        # YAML reads a wave named 1 as a number ("should be a valid string"); the data's wave
        # labels are compared as text, so a whole number names the wave its text does
        def text(w: object) -> object:
            return str(w) if isinstance(w, int) and not isinstance(w, bool) else w

        return [text(w) for w in v] if isinstance(v, list) else text(v)

    @model_validator(mode="after")
    def _resolve(self) -> _Waves:
        if self.waves is None:
            self.waves = [self.baseline_wave or "baseline", self.followup_wave or "12m"]
        if len(self.waves) < 2:
            raise ValueError(f"waves needs at least two waves (baseline first), not {self.waves}")
        dup = sorted({w for w in self.waves if self.waves.count(w) > 1})
        if dup:
            raise ValueError(f"waves lists {dup} more than once")
        both = sorted(set(self.waves) & set(self.exclude_waves))
        if both:
            raise ValueError(f"{both} is both in waves and in exclude_waves")
        # The older pair names the first and last of the waves; when both styles are given
        # they must agree, so no setting is silently ignored.
        for name, value, expected in (
            ("baseline_wave", self.baseline_wave, self.waves[0]),
            ("followup_wave", self.followup_wave, self.waves[-1]),
        ):
            if value is not None and value != expected:
                raise ValueError(
                    f"{name} {value!r} disagrees with waves {self.waves} (expected {expected!r})"
                )
        self.baseline_wave, self.followup_wave = self.waves[0], self.waves[-1]
        return self


class SurveyWeights(_Model):
    """Post-stratification of survey respondents to the school rolls (``outcomes.weighting``)."""

    #: the roll: one row per cell with the number of pupils (relative to ``data_dir``); add a
    #: ``wave`` column (and ``wave`` to ``cells``) when the roll differs between waves
    roll: str
    cells: list[str] = ["school_id", "year_group", "gender"]
    count: str = "count"


class SchoolSurvey(_Waves):
    #: weight respondents to the school rolls (the report then also shows weighted prevalence)
    weights: SurveyWeights | None = None
    sdq_instrument: str = "sdq_self"
    #: bands of SDQ total difficulties counted as a probable difficulty
    sdq_bands: list[str] = ["high", "very high"]
    #: SWEMWBS item columns are ``<prefix>q1`` ... ``<prefix>q7`` in the survey table
    swemwbs_prefix: str = "swemwbs_"
    #: column flagging comparison schools (difference in differences), in the schools table
    programme_column: str = "in_programme"
    #: the instrument primary pupils answer (``tables.primary_survey``) and its scale that the
    #: report summarises; both are matched against the instrument files (did-you-mean)
    primary_instrument: str = "scwbs"
    primary_scale: str = "total"


class Experience(_Model):
    #: quote a sample of CHI-ESQ free-text comments in the report; only after a person has
    #: read them (comments can name people). Otherwise they go to for_review/ only.
    quote_free_text: bool = False


class StaffSurvey(_Waves):
    instrument: str = "workforce_confidence"
    respondent_column: str = "respondent_id"


class Pseudonymisation(_Model):
    #: environment variable holding the key; without one a fresh random key is used per run
    #: (ids then link within the report but not across runs)
    key_env: str = "OUTCOMES_PSEUDONYM_KEY"


class BenefitLine(_Model):
    """One benefit of the cost-benefit analysis (see docs/economics.md)."""

    name: str
    #: value of one outcome achieved or cost avoided, in ``price_year`` prices
    unit_value: float = Field(ge=0)
    #: where the unit value comes from (a unit cost database, PSSRU, local finance data)
    source: str = Field(min_length=1)
    price_year: int
    #: outcomes per year (a number for year 0, or one per year), or the children supported
    #: who achieve an outcome the report measures, estimated from released numbers
    quantity: float | list[float] | Literal["reliable_improvement", "measurable_improvement"]
    deadweight: float = Field(0.0, ge=0, le=1)
    attribution: float = Field(1.0, ge=0, le=1)
    optimism_bias: float = Field(0.0, ge=0, le=1)
    kind: str = "fiscal"


class Costs(_Model):
    """What the programme cost and what its outcomes are worth (the costs section)."""

    #: say so when the costs or unit values are not real (the demo's are illustrative)
    illustrative: bool = False
    #: the common price year of the section
    price_year: int
    #: price index by year (e.g. PSSRU pay and prices): needed for lines in other years
    price_index: dict[int, float] = {}
    #: cost lines (see docs/economics.md for the columns) and/or a table of them, relative to
    #: ``data_dir``
    lines: list[dict] = []
    table: str | None = None
    #: the years the appraisal covers (costs fall in year 0)
    years: int = Field(1, ge=1, le=100)
    discount_rate: float | Literal["green_book"] = 0.035
    cost_optimism_bias: float = Field(0.0, ge=0, le=1)
    benefits: list[BenefitLine] = []
    #: one-way sensitivity: ``total_cost`` (a multiplier range), ``discount_rate``, or
    #: ``<benefit name>.<unit_value|deadweight|attribution|optimism_bias>`` -> [low, high]
    sensitivity: dict[str, tuple[float, float]] = {}

    @model_validator(mode="after")
    def _some_lines(self) -> Costs:
        if not self.lines and not self.table:
            raise ValueError("costs: give cost lines (lines:) or a table of them (table:)")
        return self


#: kinds of site a programme is delivered through; every kind but school reads "site" in the
#: report, has a ``site_id`` column in the referrals and no school sections
SITE_KINDS = ("school", "children_centre", "family", "community", "gp_practice", "other")
#: tables that describe schools: only for ``site_kind: school``
SCHOOL_TABLES = ("schools", "school_survey", "primary_survey", "staff_survey")


class EvaluationConfig(_Model):
    programme: str
    period: Period
    #: what the programme's sites are (schools, children's centres, families' homes ...)
    site_kind: str = "school"
    #: date the data were extracted (waits still open then are censored); default period end
    as_of: dt.date | None = None
    data_dir: str = "."
    #: an evaluation store (DuckDB file, relative to the config) to read the tables from
    #: instead of files; ``tables`` then names store tables (responses: by instrument)
    store: str | None = None
    tables: Tables
    subgroups: list[str] = list(DEFAULT_SUBGROUPS)
    service: Service = Service()
    outcomes: Outcomes = Outcomes()
    experience: Experience = Experience()
    school_survey: SchoolSurvey = SchoolSurvey()
    staff_survey: StaffSurvey = StaffSurvey()
    disclosure: Disclosure = Disclosure()
    pseudonymisation: Pseudonymisation = Pseudonymisation()
    #: costs, cost per outcome and cost-benefit (a section of its own); none: no section
    costs: Costs | None = None
    targets: Targets = Targets()
    #: "stop": any invalid cell stops the report (listed first); "flag": score the rest and
    #: report the problems in the data-quality section
    invalid_cells: Literal["stop", "flag"] = "stop"

    @model_validator(mode="after")
    def _periods(self) -> EvaluationConfig:
        pre = self.service.pre_period
        if pre is not None and pre.end > self.period.start:
            raise ValueError(
                f"service.pre_period ends {pre.end}, after the programme starts "
                f"{self.period.start}; the before period must come before"
            )
        t = self.targets.inappropriate_rate
        if t is not None and t.baseline is None and pre is None:
            raise ValueError(
                "targets.inappropriate_rate needs a baseline period: give "
                "targets.inappropriate_rate.baseline or service.pre_period"
            )
        return self

    #: where the config was read from (paths are relative to it)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("site_kind")
    @classmethod
    def _site_kind(cls, v: str) -> str:
        if v not in SITE_KINDS:
            raise ValueError(unknown("site kind", v, SITE_KINDS))
        return v

    @model_validator(mode="after")
    def _school_tables(self) -> EvaluationConfig:
        named = [t for t in SCHOOL_TABLES if getattr(self.tables, t)]
        if self.site_kind != "school" and named:
            raise ValueError(
                f"site_kind is {self.site_kind!r}, but tables {', '.join(named)} describe "
                "schools (they are keyed by school_id); leave them out or use site_kind: school"
            )
        return self

    @property
    def site_word(self) -> str:
        """What the report calls a site: "school", or "site" for every other kind.

        Example:
            >>> cfg = load_config({"programme": "P", "site_kind": "family",
            ...     "period": {"start": "2025-01-01", "end": "2025-12-31"}, "tables": {}})
            >>> cfg.site_word, cfg.site_column
            ('site', 'site_id')
        """
        return "school" if self.site_kind == "school" else "site"

    @property
    def site_column(self) -> str:
        """The referrals' column naming the site: ``school_id`` or ``site_id``."""
        return f"{self.site_word}_id"

    @property
    def extract_date(self) -> dt.date:
        return self.as_of or self.period.end

    @property
    def base_dir(self) -> Path:
        root = self.source.parent if self.source else Path.cwd()
        return (root / self.data_dir).resolve()

    def path(self, relative: str) -> Path:
        return self.base_dir / relative

    @property
    def store_path(self) -> Path | None:
        """The evaluation store the tables are read from, or None (files)."""
        if self.store is None:
            return None
        root = self.source.parent if self.source else Path.cwd()
        return (root / self.store).resolve()

    def input_files(self) -> dict[str, Path]:
        """Every input table named in the config: label -> absolute path (with ``store``:
        the store's path joined with the store table's name, for labelling only)."""
        if self.store_path is not None:
            named = {n: getattr(self.tables, n) for n in ("referrals", *SCHOOL_TABLES)}
            named.update({f"responses:{i}": t for i, t in self.tables.responses.items()})
            return {k: self.store_path / v for k, v in named.items() if v}
        base = self.base_dir  # resolved once (it asks the file system), not per table
        files: dict[str, Path] = {}
        for name in ("referrals", *SCHOOL_TABLES):
            rel = getattr(self.tables, name)
            if rel:
                files[name] = base / rel
        for inst, rel in self.tables.responses.items():
            files[f"responses:{inst}"] = base / rel
        return files


def _keys_at(loc: tuple) -> list[str]:
    """The settings allowed where ``loc`` (a pydantic error location) ends, or none known."""
    model: type[BaseModel] = EvaluationConfig
    for part in loc[:-1]:
        if isinstance(part, int):  # an entry of a list of models (costs.benefits.0)
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        found = [
            t
            for t in (ann, *get_args(ann), *(a for x in get_args(ann) for a in get_args(x)))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not found:
            return []
        model = found[0]
    return list(model.model_fields)


def _format(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":  # pydantic does not say what was meant
            names = _keys_at(e["loc"])
            msg = unknown("setting", e["loc"][-1], names) if names else msg
        out.append(f"{where}: {msg}")
    return out


def load_config(config: str | Path | dict | EvaluationConfig) -> EvaluationConfig:
    """Read and validate an evaluation config (a YAML path, a mapping or a config object).

    Example:
        >>> cfg = load_config({"programme": "Demo", "period": {"start": "2025-09-01",
        ...     "end": "2026-08-31"}, "tables": {"referrals": "referrals.csv"}})
        >>> cfg.extract_date.isoformat(), cfg.disclosure.enabled
        ('2026-08-31', True)
    """
    if isinstance(config, EvaluationConfig):
        return config
    source: Path | None = None
    if isinstance(config, (str, Path)):
        source = Path(config).resolve()
        if not source.is_file():
            raise ConfigError([f"no such config file: {config}"])
        try:
            data = yaml.load(source.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except yaml.YAMLError as e:
            raise ConfigError([f"not valid YAML: {e}"], str(source)) from None
    else:
        data = config
    if not isinstance(data, dict):
        raise ConfigError(["the config must be a mapping of settings"], str(source or "config"))
    try:
        cfg = EvaluationConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format(e), str(source or "config")) from None
    cfg.source = source
    return cfg
