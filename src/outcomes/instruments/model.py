"""Instrument definitions: the pydantic model of an instrument YAML file, loading and registry.

An instrument is data. Everything that differs between questionnaires (response codes,
reverse keys, which items make a scale, how missing items are prorated, bands, reliable-change
thresholds) is written in a YAML file under ``instruments/`` and validated by the models below.
The scoring engine (:mod:`outcomes.instruments.scoring`) reads these models and has no instrument-specific
code.
"""

from __future__ import annotations

import functools
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .._internal.params import INSTRUMENT, OPTIONAL_TEXT, TEXT, HasMethods, validate_params
from .._internal.text import did_you_mean
from ..errors import InstrumentDefinitionError, OutcomesError

Code = int | float
#: Most codes an integer ``range`` may expand to. Every code becomes an answer option (a
#: validated model), so a huge range costs seconds at every load; real scales stop far below
#: (GBO 0-10, a 0-100 rating). Wider numeric answers are not a response set.
MAX_RANGE_CODES = 10_000


class _Model(BaseModel):
    # Unknown keys are almost always typos ("min_anwsered"); refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Licence(_Model):
    text: str
    embed_wording: bool = Field(
        description="Whether full item wording may be stored and shown by this package."
    )
    url: str | None = None


class ResponseOption(_Model):
    code: Code
    label: str
    #: Extra labels accepted on input for the same code (e.g. "Certainly True", "2 - agree").
    aliases: tuple[str, ...] = ()


class AlternativeCoding(_Model):
    """Another code set for the same answers, chosen explicitly by the caller."""

    description: str
    #: source code -> canonical code of this response set
    map: dict[Code, Code] = {}
    #: codes of the set that keep their meaning in this coding (so 1..100 need not be listed)
    keep_codes: bool = False
    #: source codes that mean "no answer" in this coding only (NOCC's 997 and 999 for CGAS)
    missing: tuple[Code, ...] = ()
    source: str | None = None


class Continuous(_Model):
    """Answers on a continuous line (a 10 cm visual analogue scale read to the nearest mm)."""

    min: float
    max: float
    step: float = Field(gt=0, description="Answers must be multiples of this (within 1e-9).")

    @model_validator(mode="after")
    def _check(self) -> Continuous:
        if not self.min < self.max:
            raise ValueError(f"continuous: min {self.min} must be below max {self.max}")
        return self


class ResponseSet(_Model):
    id: str = ""
    options: tuple[ResponseOption, ...] = ()
    #: integer range shorthand, expanded into options with the code as its label
    range: tuple[int, int] | None = None
    #: answers on a continuous scale instead of listed codes (ORS: 0-10 cm by 0.1)
    continuous: Continuous | None = None
    #: answers that mean "no answer" (e.g. HoNOSCA 9 = not known; CHI-ESQ "Don't know")
    missing: tuple[ResponseOption, ...] = ()
    alternative_codings: dict[str, AlternativeCoding] = {}

    @model_validator(mode="after")
    def _check(self) -> ResponseSet:
        if self.continuous is not None:
            if self.options or self.range is not None or self.alternative_codings:
                raise ValueError(
                    "a continuous response set takes no options, range or alternative codings"
                )
            c = self.continuous
            inside = [o.code for o in self.missing if c.min <= o.code <= c.max]
            if inside:
                raise ValueError(f"missing codes {inside} lie inside the continuous range")
            return self
        # Linear in the size of the range: the range's own codes and labels are distinct by
        # construction, so only the explicit options are counted and then looked up in it.
        explicit = (*self.options, *self.missing)
        in_range: range = range(0)
        if self.range is not None:
            lo, hi = self.range
            if lo > hi:
                raise ValueError(f"range {list(self.range)}: lower end above upper end")
            if hi - lo + 1 > MAX_RANGE_CODES:
                raise ValueError(
                    f"range {list(self.range)} has {hi - lo + 1} codes; a response set range "
                    f"may have at most {MAX_RANGE_CODES}"
                )
            in_range = range(lo, hi + 1)
            expanded = tuple(ResponseOption(code=c, label=str(c)) for c in in_range)
            object.__setattr__(self, "options", self.options + expanded)
        if not self.options:
            raise ValueError("a response set needs 'options' or 'range'")
        codes = Counter(o.code for o in explicit)
        codes.update([c for c in codes if float(c).is_integer() and int(c) in in_range])
        dup = {c for c, n in codes.items() if n > 1}
        if dup:
            raise ValueError(f"codes used twice: {sorted(dup)}")
        labels = Counter(_norm(lab) for o in explicit for lab in (o.label, *o.aliases))
        labels.update([lab for lab in labels if _is_int_text(lab) and int(lab) in in_range])
        dup_l = {lab for lab, n in labels.items() if n > 1}
        # A numeric-range set repeats its codes as labels; only refuse genuinely clashing text.
        if dup_l:
            raise ValueError(f"labels used twice (case-insensitive): {sorted(dup_l)}")
        valid = set(self.valid_codes)
        for name, alt in self.alternative_codings.items():
            bad = sorted(set(alt.map.values()) - valid - set(self.missing_codes))
            if bad:
                raise ValueError(
                    f"alternative coding {name!r} maps to codes {bad} that are not in this set"
                )
            if not alt.map and not alt.keep_codes:
                raise ValueError(f"alternative coding {name!r} needs 'map' or 'keep_codes'")
            twice = sorted(set(alt.missing) & set(alt.map))
            if twice:
                raise ValueError(f"alternative coding {name!r}: codes {twice} mapped and missing")
        return self

    @property
    def is_continuous(self) -> bool:
        return self.continuous is not None

    @property
    def valid_codes(self) -> tuple[Code, ...]:
        """The listed codes (empty for a continuous set: see :attr:`bounds`)."""
        return tuple(o.code for o in self.options)

    @property
    def bounds(self) -> tuple[float, float]:
        """Lowest and highest valid answer."""
        if self.continuous is not None:
            return self.continuous.min, self.continuous.max
        return float(min(self.valid_codes)), float(max(self.valid_codes))

    @validate_params({"coding": TEXT})
    def coding_map(self, coding: str) -> tuple[dict[Code, Code], tuple[Code, ...]]:
        """Source code -> canonical code, and the extra no-answer codes, of a coding."""
        alt = self.alternative_codings[coding]
        mapping = {c: c for c in (*self.valid_codes, *self.missing_codes)} if alt.keep_codes else {}
        mapping.update(alt.map)
        return mapping, alt.missing

    @property
    def missing_codes(self) -> tuple[Code, ...]:
        return tuple(o.code for o in self.missing)

    def label_map(self) -> dict[str, Code]:
        """Normalised label (and alias) -> code, for options and missing answers."""
        out: dict[str, Code] = {}
        for o in (*self.options, *self.missing):
            for lab in (o.label, *o.aliases):
                out[_norm(lab)] = o.code
        return out


class Item(_Model):
    id: str
    label: str = Field(description="Short label or paraphrase; never copyrighted wording.")
    text: str | None = Field(default=None, description="Full wording, only where licence allows.")
    type: Literal["coded", "text"] = "coded"
    response_set: str | None = None
    reverse: bool = False
    #: canonical code -> score (applied after reverse keying is ruled out; see scoring)
    recode: dict[Code, Code] | None = None
    #: False for items of an optional section (e.g. SDQ impact supplement): a missing
    #: column is then read as "not collected" instead of an error.
    required: bool = True
    section: str | None = None

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        return _check_identifier(v)

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.type == "coded" and not self.response_set:
            raise ValueError(f"item {self.id!r}: a coded item needs a response_set")
        if self.type == "text" and (self.response_set or self.reverse or self.recode):
            raise ValueError(
                f"item {self.id!r}: a text item has no response set, reverse or recode"
            )
        if self.reverse and self.recode:
            raise ValueError(f"item {self.id!r}: use either reverse or recode, not both")
        return self


class Band(_Model):
    label: str
    min: float
    max: float


class BandScheme(_Model):
    id: str = "band"
    label: str = ""
    levels: tuple[Band, ...]
    source: str

    @model_validator(mode="after")
    def _check(self) -> BandScheme:
        lv = self.levels
        if len(lv) < 2:
            raise ValueError(f"band scheme {self.id!r} needs at least two levels")
        for b in lv:
            if b.min > b.max:
                raise ValueError(f"band {b.label!r}: min {b.min} above max {b.max}")
        ordered = sorted(lv, key=lambda b: b.min)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.min <= a.max:
                raise ValueError(f"bands {a.label!r} and {b.label!r} overlap")
        return self


class ReliableChange(_Model):
    """Either an absolute threshold (>= counts) or reliability and SD for Jacobson-Truax."""

    threshold: float | None = None
    reliability: float | None = None
    sd: float | None = None
    source: str

    @model_validator(mode="after")
    def _check(self) -> ReliableChange:
        if self.threshold is None and (self.reliability is None or self.sd is None):
            raise ValueError("reliable_change needs 'threshold' or both 'reliability' and 'sd'")
        if self.threshold is not None and self.threshold <= 0:
            raise ValueError("reliable_change.threshold must be positive")
        if self.reliability is not None and not 0 < self.reliability < 1:
            raise ValueError("reliable_change.reliability must lie strictly between 0 and 1")
        if self.sd is not None and self.sd <= 0:
            raise ValueError("reliable_change.sd must be positive")
        return self


class ClinicalCutoff(_Model):
    """Scores at or beyond ``value`` (in the 'worse' direction) count as clinical caseness."""

    value: float
    source: str


class NormGroup(_Model):
    mean: float
    sd: float
    n: int | None = None
    source: str


class Norms(_Model):
    clinical: NormGroup | None = None
    functional: NormGroup | None = None


class Condition(_Model):
    """A condition on an item's canonical code, e.g. ebddiff in [0]."""

    item: str
    codes: tuple[Code, ...]


class FixedValue(_Model):
    """Override a scale's value when a condition holds (SDQ impact = 0 when ebddiff = No)."""

    when: Condition
    value: float
    source: str


class NormRow(_Model):
    """One row of a norm table: key values (extra fields named by the scale's ``keys``),
    the reference mean and SD, and optionally its own source.

    A text key matches case-insensitively after trimming; a numeric key ``[lo, hi]`` matches
    a value whose completed whole units (``floor``) lie in lo..hi, so age 9.99 is in ``[8, 9]``.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    mean: float
    sd: float
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> NormRow:
        if not self.sd > 0 or self.sd == float("inf"):
            raise ValueError(f"norm row {self.key_values()}: sd must be positive, not {self.sd}")
        for k, v in self.key_values().items():
            ok_text = isinstance(v, str) and v.strip()
            ok_span = (
                isinstance(v, list | tuple)
                and len(v) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
                and v[0] <= v[1]
            )
            if not (ok_text or ok_span):
                raise ValueError(f"norm row key {k!r}: {v!r} is neither text nor [lo, hi]")
        return self

    def key_values(self) -> dict[str, object]:
        return dict(self.model_extra or {})

    @validate_params({"key": TEXT, "other": HasMethods(["key_values"], "a norm row")})
    def matches_span(self, key: str, other: NormRow) -> bool:
        """Whether this row and ``other`` can match the same value of ``key``."""
        a, b = self.key_values()[key], other.key_values()[key]
        if isinstance(a, str) or isinstance(b, str):
            return isinstance(a, str) and isinstance(b, str) and _norm(a) == _norm(b)
        return a[0] <= b[1] and b[0] <= a[1]


class Rounding(_Model):
    rule: Literal["none", "half_away_from_zero", "half_even"] = "none"
    decimals: int = 0


class Scale(_Model):
    id: str
    label: str
    method: Literal["sum", "mean", "sum_of_scales", "lookup", "norm", "given"]
    items: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    #: for method=lookup: the scale whose value is looked up, and the table; for method=norm,
    #: the scale standardised and its rows of key values, mean and SD
    source_scale: str | None = None
    table: dict[Code, float] | tuple[NormRow, ...] | None = None
    #: method=norm: the data columns that pick a norm row (e.g. [sex, age]); never items
    keys: tuple[str, ...] = ()
    #: method=norm: other spellings of a text key value, e.g. {sex: {male: M, female: F}}
    key_aliases: dict[str, dict[str, str]] = {}
    #: method=norm: the standard score is ``centre + spread * (value - mean) / sd``
    centre: float = 50.0
    spread: float = 10.0
    #: method=given (a scale supplied as a score, without items): its range and granularity
    range: tuple[float, float] | None = None
    step: float | None = Field(default=None, gt=0)
    #: SNOMED CT concept ids under which NHS data (MHSDS) record this scale's score
    snomed: tuple[str, ...] = ()
    min_answered: int | None = Field(
        default=None,
        description="Minimum items (or component scales) answered; default: all of them.",
    )
    prorate: bool = Field(
        default=False,
        description="sum: scale the sum of answered items up to the full item count.",
    )
    rounding: Rounding = Rounding()
    higher_is_better: bool
    fixed_values: tuple[FixedValue, ...] = ()
    bands: tuple[BandScheme, ...] = ()
    reliable_change: ReliableChange | None = None
    clinical_cutoff: ClinicalCutoff | None = None
    norms: Norms | None = None
    source: str | None = Field(default=None, description="Where the scoring rule comes from.")
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        return _check_identifier(v)

    @model_validator(mode="after")
    def _check(self) -> Scale:
        m = self.method
        if m in ("sum", "mean") and (not self.items or self.scales):
            raise ValueError(f"scale {self.id!r}: method {m} takes 'items' (and no 'scales')")
        if m == "sum_of_scales" and (not self.scales or self.items):
            raise ValueError(f"scale {self.id!r}: method sum_of_scales takes 'scales'")
        if m == "lookup" and (not self.source_scale or not isinstance(self.table, dict)):
            raise ValueError(f"scale {self.id!r}: method lookup needs source_scale and table")
        if m not in ("lookup", "norm") and (self.source_scale or self.table):
            raise ValueError(
                f"scale {self.id!r}: source_scale/table only go with method lookup or norm"
            )
        if m == "norm":
            self._check_norm()
        elif self.keys or self.key_aliases:
            raise ValueError(f"scale {self.id!r}: keys/key_aliases only go with method norm")
        if m == "given":
            if self.range is None or self.range[0] > self.range[1]:
                raise ValueError(f"scale {self.id!r}: method given needs range [lo, hi]")
            if self.items or self.scales:
                raise ValueError(f"scale {self.id!r}: method given takes no items or scales")
        elif self.range is not None or self.step is not None:
            raise ValueError(f"scale {self.id!r}: range/step only go with method given")
        parts = self.items or self.scales
        if self.min_answered is not None and not 1 <= self.min_answered <= max(len(parts), 1):
            raise ValueError(
                f"scale {self.id!r}: min_answered {self.min_answered} must be 1..{len(parts)}"
            )
        if self.prorate and m != "sum":
            raise ValueError(f"scale {self.id!r}: prorate applies to method sum only")
        if len(set(parts)) != len(parts):
            raise ValueError(f"scale {self.id!r}: an item or scale is listed twice")
        ids = [b.id for b in self.bands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"scale {self.id!r}: band scheme ids must differ")
        return self

    @field_validator("snomed", mode="before")
    @classmethod
    def _codes_as_text(cls, v: object) -> object:
        # SNOMED ids are long integers in YAML; keep them as text so none is ever rounded.
        if isinstance(v, list | tuple):
            return tuple(str(c) if isinstance(c, int) and not isinstance(c, bool) else c for c in v)
        return v

    def _check_norm(self) -> None:
        if not self.source_scale or not isinstance(self.table, tuple) or not self.table:
            raise ValueError(f"scale {self.id!r}: method norm needs source_scale and table rows")
        if not self.keys or len(set(self.keys)) != len(self.keys):
            raise ValueError(f"scale {self.id!r}: method norm needs distinct keys")
        for row in self.table:
            got = sorted(row.key_values())
            if got != sorted(self.keys):
                raise ValueError(
                    f"scale {self.id!r}: norm row {row.key_values()} must give exactly the keys "
                    f"{list(self.keys)}"
                )
        for i, a in enumerate(self.table):
            for b in self.table[i + 1 :]:
                if all(a.matches_span(k, b) for k in self.keys):
                    raise ValueError(
                        f"scale {self.id!r}: norm rows {a.key_values()} and {b.key_values()} "
                        "overlap (a value would match both)"
                    )
        unknown = sorted(set(self.key_aliases) - set(self.keys))
        if unknown:
            raise ValueError(
                f"scale {self.id!r}: key_aliases for keys not in keys: {unknown}"
                f"{did_you_mean(unknown[0], self.keys)}"
            )

    @property
    def norm_rows(self) -> tuple[NormRow, ...]:
        return self.table if isinstance(self.table, tuple) else ()

    @property
    def parts(self) -> tuple[str, ...]:
        return self.items or self.scales or ((self.source_scale,) if self.source_scale else ())

    @property
    def required_answered(self) -> int:
        return self.min_answered if self.min_answered is not None else len(self.parts)

    def band_columns(self) -> list[str]:
        """Output column names for this scale's band schemes (first one is ``<id>_band``)."""
        return [
            f"{self.id}_band" if i == 0 else f"{self.id}_{b.id}" for i, b in enumerate(self.bands)
        ]


class Instrument(_Model):
    id: str
    name: str
    version: str
    respondent: Literal["self", "parent", "teacher", "clinician", "staff"]
    age_range: tuple[float, float] | None = None
    licence: Licence
    citation: str
    url: str | None = None
    description: str | None = None
    response_sets: dict[str, ResponseSet]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    sources: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    #: filled in by the loader
    path: Annotated[str | None, Field(exclude=True)] = None

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        return _check_identifier(v)

    @field_validator("response_sets", mode="before")
    @classmethod
    def _name_sets(cls, v: object) -> object:
        if isinstance(v, dict):
            return {
                k: {**(rs or {}), "id": k} if isinstance(rs, dict) else rs for k, rs in v.items()
            }
        return v

    @model_validator(mode="after")
    def _check(self) -> Instrument:
        item_ids = [i.id for i in self.items]
        dup = sorted({i for i in item_ids if item_ids.count(i) > 1})
        if dup:
            raise ValueError(f"item ids used twice: {dup}")
        scale_ids = [s.id for s in self.scales]
        dup = sorted({s for s in scale_ids if scale_ids.count(s) > 1})
        if dup:
            raise ValueError(f"scale ids used twice: {dup}")
        clash = sorted(set(item_ids) & set(scale_ids))
        if clash:
            raise ValueError(f"ids used for both an item and a scale: {clash}")
        items = {i.id: i for i in self.items}
        for it in self.items:
            if it.type == "coded" and it.response_set not in self.response_sets:
                raise ValueError(
                    f"item {it.id!r}: response_set {it.response_set!r} is not defined "
                    f"(defined: {sorted(self.response_sets)})"
                )
            if it.recode and self.response_sets[it.response_set].is_continuous:
                raise ValueError(f"item {it.id!r}: a continuous answer cannot be recoded")
            if it.recode:
                rs = self.response_sets[it.response_set]
                missing = sorted(set(rs.valid_codes) - set(it.recode))
                extra = sorted(set(it.recode) - set(rs.valid_codes))
                if missing or extra:
                    raise ValueError(
                        f"item {it.id!r}: recode must map exactly the codes of "
                        f"{it.response_set!r} (unmapped {missing}, unknown {extra})"
                    )
        seen: set[str] = set()
        for sc in self.scales:
            for p in sc.items:
                if p not in items:
                    raise ValueError(f"scale {sc.id!r}: unknown item {p!r}{did_you_mean(p, items)}")
                if items[p].type != "coded":
                    raise ValueError(f"scale {sc.id!r}: item {p!r} is free text")
            for p in (*sc.scales, *((sc.source_scale,) if sc.source_scale else ())):
                if p not in seen:
                    raise ValueError(
                        f"scale {sc.id!r}: component scale {p!r} must be defined above it"
                    )
            for fv in sc.fixed_values:
                if fv.when.item not in items:
                    raise ValueError(
                        f"scale {sc.id!r}: fixed_values refers to unknown item "
                        f"{fv.when.item!r}{did_you_mean(fv.when.item, items)}"
                    )
            seen.add(sc.id)
        codes = [c for sc in self.scales for c in sc.snomed]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"SNOMED codes given to more than one scale: {dup}")
        if not self.licence.embed_wording:
            worded = [it.id for it in self.items if it.text]
            if worded:
                raise ValueError(
                    f"licence.embed_wording is false, but items {worded} carry full text"
                )
        self._check_sources()
        # Ranges and bands are checked once every scale is known.
        for sc in self.scales:
            lo, hi = self.scale_range(sc.id)
            for fv in sc.fixed_values:
                if not lo <= fv.value <= hi:
                    raise ValueError(f"scale {sc.id!r}: fixed value {fv.value} outside {lo}..{hi}")
            for scheme in sc.bands:
                ordered = sorted(scheme.levels, key=lambda b: b.min)
                if ordered[0].min > lo or ordered[-1].max < hi:
                    raise ValueError(
                        f"scale {sc.id!r}: bands {scheme.id!r} cover "
                        f"{ordered[0].min}..{ordered[-1].max}, not the scale range {lo}..{hi}"
                    )
        return self

    def _check_sources(self) -> None:
        """Every number carries a source: a citation, or the key of an entry in ``sources``."""
        refs: list[tuple[str, str | None]] = []
        for sc in self.scales:
            refs.append((f"scales.{sc.id}.source", sc.source))
            refs += [(f"scales.{sc.id}.bands.{b.id}.source", b.source) for b in sc.bands]
            refs += [(f"scales.{sc.id}.fixed_values.source", f.source) for f in sc.fixed_values]
            if sc.reliable_change:
                refs.append((f"scales.{sc.id}.reliable_change.source", sc.reliable_change.source))
            if sc.clinical_cutoff:
                refs.append((f"scales.{sc.id}.clinical_cutoff.source", sc.clinical_cutoff.source))
            refs += [(f"scales.{sc.id}.table.source", r.source) for r in sc.norm_rows]
        for name, rs in self.response_sets.items():
            refs += [
                (f"response_sets.{name}.alternative_codings.{k}.source", a.source)
                for k, a in rs.alternative_codings.items()
            ]
        for where, ref in refs:
            if ref is None:
                continue
            # A single word is a key into `sources`; anything longer is a citation itself.
            if " " not in ref.strip() and ref not in self.sources:
                raise ValueError(
                    f"{where}: {ref!r} is not a key of 'sources' (keys: {sorted(self.sources)})"
                )

    # ----------------------------------------------------------------- lookups
    @property
    def coded_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.type == "coded")

    @property
    def text_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.type == "text")

    @validate_params(
        {
            "item_id": TEXT,
        }
    )
    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"{self.id} has no item {item_id!r}; items: {[i.id for i in self.items]}")

    @validate_params(
        {
            "scale_id": TEXT,
        }
    )
    def scale(self, scale_id: str) -> Scale:
        for sc in self.scales:
            if sc.id == scale_id:
                return sc
        raise KeyError(
            f"{self.id} has no scale {scale_id!r}; scales: {[s.id for s in self.scales]}"
        )

    @validate_params(
        {
            "item_id": TEXT,
        }
    )
    def item_score_range(self, item_id: str) -> tuple[float, float]:
        it = self.item(item_id)
        rs = self.response_sets[it.response_set]
        if not it.recode:
            return rs.bounds
        vals = list(it.recode.values())
        return float(min(vals)), float(max(vals))

    @validate_params({"item_id": TEXT})
    def item_step(self, item_id: str) -> float | None:
        """Granularity of an item's score: 1 for whole codes, the step of a continuous set,
        None when scores can be fractions that are not multiples of one step."""
        it = self.item(item_id)
        rs = self.response_sets[it.response_set]
        if rs.continuous is not None:
            return rs.continuous.step
        vals = list(it.recode.values()) if it.recode else list(rs.valid_codes)
        return 1.0 if all(float(v).is_integer() for v in vals) else None

    def suppliable_scales(self) -> tuple[Scale, ...]:
        """Scales that ``score(..., input="scales")`` reads from the data: those computed from
        items (or given as scores), not those derived from other scales."""
        return tuple(sc for sc in self.scales if sc.method in ("sum", "mean", "given"))

    @validate_params({"scale_id": TEXT})
    def scale_step(self, scale_id: str) -> float | None:
        """Granularity of a scale's values (None: any real value in range).

        A plain sum of whole-number items takes whole numbers, a sum of 0.1-cm lines multiples
        of 0.1; a mean or a prorated sum takes any value unless it is rounded.
        """
        sc = self.scale(scale_id)
        if sc.rounding.rule != "none":
            return 10.0**-sc.rounding.decimals
        if sc.method == "given":
            return sc.step
        if sc.method != "sum" or sc.prorate:
            return None
        steps = {self.item_step(i) for i in sc.items}
        return steps.pop() if len(steps) == 1 else None

    @validate_params(
        {
            "scale_id": TEXT,
        }
    )
    def scale_range(self, scale_id: str) -> tuple[float, float]:
        """Smallest and largest value the scale can take (before any fixed value)."""
        return _scale_range(self, scale_id)

    @validate_params(
        {
            "coding": OPTIONAL_TEXT,
        }
    )
    def check_coding(self, coding: str | None) -> None:
        """Refuse an alternative coding the YAML does not declare (codings are never guessed)."""
        if coding is None:
            return
        available = sorted(
            {c for rs in self.response_sets.values() for c in rs.alternative_codings}
        )
        if coding not in available:
            raise OutcomesError(
                f"coding={coding!r}: {self.id} has no alternative coding {coding!r}; "
                f"available: {available or 'none'}"
            )

    def output_columns(self) -> list[str]:
        cols: list[str] = []
        for sc in self.scales:
            cols += [sc.id, f"{sc.id}_n", *sc.band_columns()]
        return cols


def _scale_range(inst: Instrument, scale_id: str) -> tuple[float, float]:
    sc = inst.scale(scale_id)
    if sc.method == "given":
        return float(sc.range[0]), float(sc.range[1])
    if sc.method == "lookup":
        vals = list(sc.table.values())
        return float(min(vals)), float(max(vals))
    if sc.method == "norm":
        lo, hi = _scale_range(inst, sc.source_scale)
        ends = [sc.centre + sc.spread * (v - r.mean) / r.sd for r in sc.norm_rows for v in (lo, hi)]
        return min(ends), max(ends)
    if sc.method == "sum_of_scales":
        rs = [_scale_range(inst, s) for s in sc.scales]
        return sum(r[0] for r in rs), sum(r[1] for r in rs)
    rs = [inst.item_score_range(i) for i in sc.items]
    if sc.method == "mean":
        return min(r[0] for r in rs), max(r[1] for r in rs)
    lows = sorted(r[0] for r in rs)
    highs = sorted((r[1] for r in rs), reverse=True)
    if sc.prorate:
        return sum(lows), sum(highs)
    # A plain sum of answered items: the fewest items allowed may be all that is answered.
    k = sc.required_answered
    low = sum(v for v in lows if v < 0) + sum(v for v in lows[:k] if v >= 0)
    high = sum(v for v in highs if v > 0) + sum(v for v in highs[:k] if v <= 0)
    return low, high


# -------------------------------------------------------------------- helpers
def _is_int_text(s: str) -> bool:
    """'12' or '-3', spelled as a range spells its codes' labels ('012' is not)."""
    return s.removeprefix("-").isdigit() and str(int(s)) == s


def _norm(label: object) -> str:
    return " ".join(str(label).split()).casefold()


def _check_identifier(v: str) -> str:
    if not v or not (v[0].isalpha() and all(c.isalnum() or c == "_" for c in v)) or v != v.lower():
        raise ValueError(
            f"{v!r} is not a valid id: use lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    return v


def _format_validation_error(path: str, err: ValidationError) -> str:
    lines = [f"{path}: {err.error_count()} problem(s) in the instrument definition"]
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  - {where}: {msg}")
    return "\n".join(lines)


# -------------------------------------------------------------------- loading
@functools.cache
def _builtin_dir() -> Path:
    """Folder of the bundled instrument YAML files (inside the wheel, or the repo checkout).
    Found once per process (a report looks instruments up about 170 times); a failure is not
    remembered."""
    packaged = resources.files("outcomes") / "instrument_files"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[3] / "instruments"
    if repo.is_dir():
        return repo
    raise InstrumentDefinitionError(
        "the bundled instrument files were not found; the package is installed incompletely"
    )


def list_instruments() -> list[str]:
    """Ids of the instruments bundled with the package, sorted.

    Example:
        >>> import outcomes as oc
        >>> "sdq_parent" in oc.list_instruments()
        True
    """
    return sorted(p.stem for p in _builtin_dir().glob("*.yaml"))


def parse_instrument(data: dict, *, source: str = "<dict>") -> Instrument:
    """Build an :class:`Instrument` from an already-parsed mapping, with readable errors.

    Example:
        >>> try:
        ...     parse_instrument({"id": "x"}, source="my.yaml")
        ... except InstrumentDefinitionError as err:
        ...     print(str(err).splitlines()[:2])
        ['my.yaml: 8 problem(s) in the instrument definition', '  - name: Field required']
    """
    if not isinstance(data, dict):
        raise InstrumentDefinitionError(f"{source}: expected a mapping at the top level")
    try:
        inst = Instrument.model_validate(data)
    except ValidationError as err:
        raise InstrumentDefinitionError(_format_validation_error(source, err)) from None
    except RecursionError:
        raise InstrumentDefinitionError(_TOO_DEEP.format(source=source)) from None
    return inst.model_copy(update={"path": source})


#: Python's parsers recurse once per nesting level; an instrument needs about six.
_TOO_DEEP = (
    "{source}: nested too deeply to read (lists or mappings inside each other thousands of "
    "levels down); an instrument definition nests a few levels at most"
)


#: libyaml's safe loader where PyYAML was built with it: the same documents, parsed about 8x
#: faster than the pure-Python one (which was most of the time a report spends loading
#: instruments, and 14 ms of reading the demo's evaluation config); the pure-Python loader
#: otherwise
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=128)
def _load_path(path: str, mtime: float) -> Instrument:
    p = Path(path)
    try:
        raw = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as err:
        if "nesting depth" in str(getattr(err, "problem", "")):  # libyaml's own depth limit
            raise InstrumentDefinitionError(_TOO_DEEP.format(source=path)) from None
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InstrumentDefinitionError(f"{path}:{where} is not valid YAML: {err}") from None
    except RecursionError:
        raise InstrumentDefinitionError(_TOO_DEEP.format(source=path)) from None
    inst = parse_instrument(raw, source=str(path))
    if p.stem != inst.id and p.parent == _builtin_dir():
        raise InstrumentDefinitionError(f"{path}: file name must equal the id {inst.id!r}")
    return inst


@validate_params(
    {
        "id_or_path": INSTRUMENT,
    }
)
def load_instrument(id_or_path: str | Path | Instrument) -> Instrument:
    """Load a bundled instrument by id, or your own YAML file by path.

    Example:
        >>> import outcomes as oc
        >>> sdq = oc.load_instrument("sdq_parent")
        >>> [s.id for s in sdq.scales][:3]
        ['emotional', 'conduct', 'hyperactivity']
    """
    if isinstance(id_or_path, Instrument):
        return id_or_path
    s = str(id_or_path)
    p = Path(s)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise InstrumentDefinitionError(f"{s}: no such instrument file")
        p = p.resolve()
        return _load_path(str(p), p.stat().st_mtime)
    builtin = _builtin_dir() / f"{s}.yaml"
    if not builtin.is_file():
        known = ", ".join(list_instruments())
        raise InstrumentDefinitionError(
            f"unknown instrument {s!r}; bundled instruments are: {known}. "
            "To use your own, pass the path of its YAML file."
        )
    return _load_path(str(builtin), builtin.stat().st_mtime)


def load_all() -> dict[str, Instrument]:
    """Every bundled instrument, by id.

    Example:
        >>> all_instruments = load_all()
        >>> all_instruments["rcads_47_self"].scale("panic_t").method
        'norm'
    """
    return {i: load_instrument(i) for i in list_instruments()}
